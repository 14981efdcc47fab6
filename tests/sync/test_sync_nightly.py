"""A provider's nightly sync over a term: the cases a simulated term of nights found (NIGHTLY-FINDINGS.md).

Against the project's emulator over real HTTP on 127.0.0.1 (the `register` fixture, conftest.py).
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import date

import pytest

from emulated import AS_OF, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync import sync_files
from trainee_extracts import started_in, trainee, write_extract

JULY = date(2026, 7, 30)  # cycle 2025 is the current one: Register lists 2025 and 2026, not yet 2027


@pytest.mark.parametrize("register", [JULY], indirect=True)
def test_a_start_moved_to_a_cycle_register_cannot_list_yet_does_not_stop_the_other_records(register, tmp_path):
    """In July, a trainee deferred to the year after next is valid (§3.4 allows next calendar year), but Register
    answers 422 to a listing of that cycle until 1 August. That one record used to stop every night's sync (exit 1,
    nothing written, no report) until then."""
    rows = [trainee(n) for n in (1, 2, 3)]
    assert register.sync(write_extract(tmp_path / "first.csv", rows)).exit_code == 0
    rows[1] = started_in(2027, rows[1])
    rows[2]["email"] = "changed3@example.org"
    night = register.sync(write_extract(tmp_path / "night.csv", rows))
    assert night.exit_code == 0, night.summary_line()
    assert night.actions == Counter(unchanged=1, update=2)
    writes = register.writes()
    assert writes == Counter({"POST /trainees": 3, "PUT /trainees/{trainee_id}": 2})
    with register.client() as client:
        moved = client.get_trainee(night.results[1].plan.trainee_id)
    assert moved["hesa_id"] == rows[1]["hesa_id"] and moved["itt_start_date"] == "2027-09-01"
    assert {t["email"] for t in register.trainees(2025)} >= {"changed3@example.org"}
    # The next night finds it through the ledger: nothing to write, nothing created twice.
    again = register.sync(write_extract(tmp_path / "night.csv", rows))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=3)
    assert register.writes() == writes


@pytest.mark.parametrize("register", [JULY], indirect=True)
def test_a_lost_create_in_a_cycle_register_cannot_list_yet_is_resolved_not_a_crash(register, tmp_path):
    """A new trainee starting the year after next whose create's reply is lost: the look-up after it lists that
    cycle (422). It is resolved through Register's 409, never created twice, and the run is not an internal error."""
    rows = [trainee(1), started_in(2027, trainee(2))]
    register.emulator.set_faults("lost-response:1.0")
    try:
        result = register.sync(write_extract(tmp_path / "in.csv", rows))
    finally:
        register.emulator.set_faults(None)
    assert result.exit_code == 0, result.summary_line()
    assert register.emulator.snapshot()["trainees"] == 2
    # This run created both (only the replies were lost): said so alike in the summary line and results.csv.
    assert result.actions == Counter(create=2)
    assert result.summary_line().startswith("2 records: 2 created.")
    assert [r.plan.matched_by for r in result.results] == [
        "listing after an unknown create",
        "409 after an unknown create",
    ]
    again = register.sync(write_extract(tmp_path / "in.csv", rows))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=2)
    assert register.emulator.snapshot()["trainees"] == 2


@pytest.mark.parametrize("register", [JULY], indirect=True)
def test_a_create_register_answers_409_is_counted_as_what_results_csv_says(register, tmp_path):
    """A trainee Register already holds that the plan could not see (in a cycle Register cannot list yet, synced
    before from another state dir): the create is answered 409 and the trainee adopted. The summary line counted it
    as created and as unchanged (3 of 2 records); results.csv and report.json say unchanged."""
    rows = [trainee(1), started_in(2027, trainee(2))]
    first = register.sync(write_extract(tmp_path / "in.csv", rows), state_dir=tmp_path / "old-server")
    assert first.exit_code == 0 and first.actions == Counter(create=2)
    moved = register.sync(write_extract(tmp_path / "in.csv", rows), state_dir=tmp_path / "new-server")
    assert moved.exit_code == 0
    assert register.emulator.snapshot()["trainees"] == 2
    assert moved.actions == Counter(unchanged=2)
    assert moved.summary_line().startswith("2 records: 2 unchanged.")
    by_record = {r["record"]: r for r in register.report()["records"]}
    assert by_record[2]["action"] == "unchanged" and by_record[2]["outcome"] == "done"


def test_a_422_for_the_current_cycle_still_stops_the_run_before_any_write(register, tmp_path):
    """Register has the current and the next cycle: a 422 naming academic_cycle for them is something else gone
    wrong (a proxy, a changed API), and read as "no one listed" it would plan a create for every trainee."""
    from register_batch.api import Unprocessable
    from stub_http import fronting

    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in (1, 2)])
    register.sync(source)
    writes = register.writes()

    def no_cycle(seen, forward):
        if seen.method == "GET" and seen.path.endswith("/trainees"):
            body = b'{"errors":{"academic_cycle":["2025 is not a valid academic cycle year"]}}'
            return 422, {"Content-Type": "application/json"}, body
        return None

    with fronting(register.emulator.url, no_cycle) as front, pytest.raises(Unprocessable, match="academic_cycle"):
        register.sync(source, target=front.url, target_identity=register.emulator.url)
    assert register.writes() == writes


def test_a_trainee_whose_trn_arrives_while_register_is_listed_is_not_created_twice(tmp_path):
    """A TRN arriving between two pages of the listing moves its trainee (§10: `updated_at` moves when the TRN
    arrives); listed newest first by offset (as register-batch once did), onto a page already read, and the listing
    never returned it. With no ledger link for it (its HUSID was corrected, so its ledger key is new) and a last name
    corrected in the same night (so Register's duplicate rule does not answer 409, §4), it was created twice."""
    token = "trn-arrives-mid-listing-token"
    start = time.time()  # the emulator's clock, moved by hand (near this machine's, as Register's is)
    now = [start]
    first = trainee(1)  # created first: the oldest, so on the listing's last page
    rows = [first, trainee(2), trainee(3), trainee(4)]

    class OneSecondPerCreate(RegisterClient):
        def create_trainee(self, data):
            now[0] += 1  # each trainee created a second after the one before: the first one's TRN is due first
            return super().create_trainee(data)

    class TrnArrivesAfterThePageOne(RegisterClient):
        def list_trainees(self, **params):
            page = super().list_trainees(**params)
            if params.get("page") == 1 and params.get("academic_cycle") == 2025:
                now[0] = start + 101.5  # the first trainee's TRN is due (submitted at +1, 100 s before); no other's
            return page

    with start_emulator(tokens=[token], rate_limit=None, as_of=AS_OF, trn_delay=100, clock=lambda: now[0]) as emulator:

        def sync(path, client_class, **extra):
            client = client_class(emulator.url, token, limiter=RateLimiter(10_000, 1))
            options = sync_options(emulator, tmp_path, token, per_page=2, **extra)
            with client:
                return sync_files([str(path)], options, client=client)

        assert sync(write_extract(tmp_path / "first.csv", rows), OneSecondPerCreate).exit_code == 0
        # The same night: the first trainee's HUSID and surname corrected in the SRS (a new ledger key, and a
        # surname that Register's duplicate rule no longer matches).
        rows[0] = {**first, "hesa_id": "2519999999991", "last_name": "Married1"}
        night = sync(write_extract(tmp_path / "night.csv", rows), TrnArrivesAfterThePageOne)
        assert night.exit_code == 0, night.summary_line()
        assert emulator.snapshot()["trainees"] == 4, night.summary_line()
        assert night.results[0].plan.action == "update" and night.results[0].plan.matched_by == "provider_trainee_id"
        with RegisterClient(emulator.url, token, limiter=RateLimiter(10_000, 1)) as client:
            held = list(client.iter_trainees(academic_cycle=2025, per_page=100))
    assert Counter(t["provider_trainee_id"] for t in held) == Counter(r["provider_trainee_id"] for r in rows)
    assert {t["hesa_id"] for t in held} == {r["hesa_id"] for r in rows}


def test_a_trn_arriving_while_register_is_listed_one_trainee_a_page_skips_no_one(tmp_path):
    """`--per-page 1`: each listing from the last change read holds it again, and paged on by offset from it, a TRN
    arriving for that trainee (its `updated_at` moves, §10) moved the next one onto the page already read. That one,
    whose HUSID and surname were corrected the same night (no ledger link, no 409: §4), was created twice. Each
    listing now asks for one trainee more than the page, so no page is taken by offset."""
    token = "trn-arrives-one-a-page-token"
    start = time.time()
    now = [start]
    second = trainee(2)
    rows = [trainee(1), second, trainee(3), trainee(4)]
    listings: list[dict] = []

    class OneSecondPerCreate(RegisterClient):
        def create_trainee(self, data):
            now[0] += 1  # the first trainee's TRN is due first
            return super().create_trainee(data)

    class TrnArrivesMidListing(RegisterClient):
        def list_trainees(self, **params):
            answer = super().list_trainees(**params)
            if params.get("academic_cycle") == 2025:
                listings.append(params)
                if len(listings) == 2:  # the first trainee listed again: now its TRN arrives
                    now[0] = start + 101.5
            return answer

    with start_emulator(tokens=[token], rate_limit=None, as_of=AS_OF, trn_delay=100, clock=lambda: now[0]) as emulator:

        def sync(path, client_class):
            options = sync_options(emulator, tmp_path, token, per_page=1)
            with client_class(emulator.url, token, limiter=RateLimiter(10_000, 1)) as client:
                return sync_files([str(path)], options, client=client)

        assert sync(write_extract(tmp_path / "first.csv", rows), OneSecondPerCreate).exit_code == 0
        rows[1] = {**second, "hesa_id": "2519999999992", "last_name": "Married2"}
        night = sync(write_extract(tmp_path / "night.csv", rows), TrnArrivesMidListing)
        assert night.exit_code == 0, night.summary_line()
        with RegisterClient(emulator.url, token, limiter=RateLimiter(10_000, 1)) as client:
            held = list(client.iter_trainees(academic_cycle=2025, per_page=100))
    assert len(listings) >= 3 and night.results[1].plan.action == "update", night.summary_line()
    assert Counter(t["provider_trainee_id"] for t in held) == Counter(r["provider_trainee_id"] for r in rows)


def test_a_year_either_side_before_registers_first_cycle_is_listed_as_nobody(register, tmp_path):
    """New trainees starting in Register's first academic cycle: the run lists the years either side before it
    creates them (a moved start, §4), and Register answers 422 for the year before its first. Nobody can be listed
    there, so the trainees are created; it is not a reason to stop the run."""
    from stub_http import fronting

    def first_cycle_2024(seen, forward):
        cycle = int(seen.query.get("academic_cycle", ["0"])[0])
        if seen.method == "GET" and seen.path.endswith("/trainees") and cycle < 2024:
            body = f'{{"errors":{{"academic_cycle":["{cycle} is not a valid academic cycle year"]}}}}'.encode()
            return 422, {"Content-Type": "application/json"}, body
        return None

    source = write_extract(tmp_path / "in.csv", [started_in(2024, trainee(n)) for n in (1, 2)])
    with fronting(register.emulator.url, first_cycle_2024) as front:
        result = register.sync(source, target=front.url, target_identity=register.emulator.url)
    assert result.exit_code == 0 and result.actions == Counter(create=2), result.summary_line()
    assert register.writes() == {"POST /trainees": 2}
    listed = {int(seen.query["academic_cycle"][0]) for seen in front.seen if "academic_cycle" in seen.query}
    assert listed == {2023, 2024, 2025}
