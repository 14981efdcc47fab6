"""Exactly-once gaps found by review13, each shown end to end against the emulator over HTTP. Marked
xfail(strict=True): each assertion states what the promise needs (design.md, Sync semantics: no path creates a trainee
twice or loses one), and fails on the code as it is. A fix turns its test into a pass, and strict=True then fails the
run until the mark is removed.

A trainee whose trainee_start_date is in another academic cycle than its itt_start_date (a July ITT start, begun in
September) is one Register's 409 does not protect: Register compares the submitted itt_start_date's cycle with the
stored trainee's start cycle, from trainee_start_date (register-api.md §4), so the same create sent twice is two
trainees.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from emulated import AS_OF, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError, Interrupted, RegisterUnavailable
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract

TOKEN = "review13-gaps-provider-token"
OTHER_TOKEN = "review13-gaps-another-provider"
HOLD = 60.0  # fault_hold: longer than any test, so a timed-out request stays held until the test carries it out


def _july_itt_start(n: int) -> dict[str, Any]:
    """Trainee n with its ITT start in July 2025 (cycle 2024) and its own start in September 2025 (cycle 2025)."""
    return {**trainee(n), "itt_start_date": "2025-07-20", "trainee_start_date": "2025-09-01"}


def _held(emulator: Any, token: str = TOKEN) -> list[dict[str, Any]]:
    with RegisterClient(emulator.url, token, limiter=RateLimiter(10_000, 1)) as client:
        return [t for cycle in (2024, 2025, 2026) for t in client.iter_trainees(academic_cycle=cycle, per_page=1000)]


def _first_create_faulted(emulator: Any, faults: str, **settings: Any) -> RegisterClient:
    """A client whose first create meets `faults` (drawn by the emulator for that request only)."""

    class Faulted(RegisterClient):
        creates = 0

        def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
            Faulted.creates += 1
            if Faulted.creates == 1:
                emulator.set_faults(faults)
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults(None)

    return Faulted(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), **settings)


def _create_left_unanswered(emulator: Any, extract: Path, tmp_path: Path) -> Any:
    """A first sync of `extract` whose first create times out (the emulator holds it, then carries it out)."""
    with _first_create_faulted(emulator, "timeout:1.0", timeout=1.0) as client:
        return sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, timeout=1.0), client=client)


def _resent_then_corrected(emulator: Any, extract: Path, tmp_path: Path, row: dict[str, Any], **corrected: str) -> None:
    """review46 F2's set-up: the create of `row` timed out (Register holds it, and carries it out later), and the run,
    not finding it listed, sent it again (201); then the record is corrected in `extract`."""
    first = _create_left_unanswered(emulator, extract, tmp_path)
    assert [(r.plan.action, r.outcome) for r in first.results] == [("create", "done")]
    write_extract(extract, [{**row, **corrected}])


def test_a_create_still_out_when_the_next_run_starts_at_once_is_not_sent_again(tmp_path: Path) -> None:
    """After a create timed out, the look-up did not list it yet and it was sent again: Register carried out the
    first one later, and its 409 does not stop a second for a trainee whose trainee_start_date is in another cycle
    than its itt_start_date (§4). It is left unknown instead, and a later run finds it. review39 F1: the run after it,
    started at once (as the run's own line said to), did not find the trainee yet and created it, and Register then
    carried out the held create too: two trainees. The next runs hold the record back (unknown, saying until when)
    for a while after that create went out."""
    extract = write_extract(tmp_path / "extract.csv", [_july_itt_start(1)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        first = _create_left_unanswered(emulator, extract, tmp_path)
        [record] = first.results
        assert record.outcome == "unknown" and "not sent again in this run" in record.errors[0]
        assert "Run sync again after " in record.errors[0]
        [issue] = [i for i in record.issues if i.code == "sync_waits"]  # wait: review157 F1
        assert issue.message == record.errors[0]  # it says to run again already: not twice (review22)
        # The run's own line says when too: "run the same sync again" at once only waited again (review39 F1).
        after = re.search(r"Run sync again after ([0-9]{2}:[0-9]{2}) UTC", record.errors[0])
        assert after and f"1 unknown (run the same sync again after {after[1]} UTC: " in first.summary_line()
        at_once = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "at-once"))
        [record] = at_once.results
        assert record.outcome == "unknown" and record.plan.action == "create", record.errors
        assert "an earlier run's create of this trainee" in record.errors[0]
        after = re.search(r"Run sync again after ([0-9]{2}:[0-9]{2}) UTC", record.errors[0])
        assert after and f"1 unknown (run the same sync again after {after[1]} UTC: " in at_once.summary_line()
        assert emulator.carry_out_held() == 1  # the held create is carried out
        assert len(_held(emulator)) == 1
        later = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "later"))
        [record] = later.results
        assert record.outcome == "done" and record.plan.action in ("update", "unchanged")
        assert len(_held(emulator)) == 1


def test_a_create_never_carried_out_is_sent_again_once_the_wait_is_over(tmp_path: Path, monkeypatch) -> None:
    """The create that went unanswered was never carried out (its connection reset before Register read it): once
    the wait after it is over and Register still does not list the trainee, the next run creates it, once."""
    from register_batch.sync import runner

    extract = write_extract(tmp_path / "extract.csv", [_july_itt_start(1)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        client = _first_create_faulted(emulator, "reset:1.0")
        with client:
            first = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN), client=client)
        assert [r.outcome for r in first.results] == ["unknown"] and len(_held(emulator)) == 0
        at_once = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "at-once"))
        assert [r.outcome for r in at_once.results] == ["unknown"] and len(_held(emulator)) == 0
        monkeypatch.setattr(runner, "UNANSWERED_CREATE_WAIT", runner.timedelta(minutes=-1))  # a wait over already
        again = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "again"))
        [record] = again.results
        assert (record.plan.action, record.outcome) == ("create", "done")
        assert len(_held(emulator)) == 1


def test_a_create_of_a_trainee_registers_409_recognises_is_sent_again_in_the_run(tmp_path: Path) -> None:
    """The same timed-out create of a trainee begun in its ITT course's cycle: Register's 409 refuses a second one
    (§4), so the create is sent again at once and the run finishes it."""
    extract = write_extract(tmp_path / "extract.csv", [trainee(1)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        client = _first_create_faulted(emulator, "reset:1.0")
        with client:
            result = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN), client=client)
        [record] = result.results
        assert record.outcome == "done" and len(_held(emulator)) == 1


def test_a_lost_create_is_found_with_this_machines_clock_twenty_minutes_ahead(tmp_path: Path) -> None:
    """_find_created listed `since` this machine's clock less 15 minutes: with it further ahead of Register's, the
    lost create was not listed and was sent again. It lists from Register's clock (the answers' Date) when behind."""
    extract = write_extract(tmp_path / "extract.csv", [_july_itt_start(1)])
    behind = 20 * 60.0
    with start_emulator(
        tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, clock=lambda: time.time() - behind
    ) as emulator:
        client = _first_create_faulted(emulator, "lost-response:1.0")
        with client:
            result = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN), client=client)
        [record] = result.results
        assert len(_held(emulator)) == 1 and record.plan.action == "create" and record.outcome == "done"


def test_a_state_dir_refuses_a_token_of_another_provider_than_its_trainees(tmp_path: Path) -> None:
    """The other provider's account holds a trainee of the night's cycle, as a real provider's does: its listing shows
    the token is theirs before anything is written. (An account with no trainee in the cycles listed shows it only in
    the first create's answer: tests/sync/test_sync_providers.py.)"""
    with start_emulator(tokens=[TOKEN, OTHER_TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        theirs = write_extract(tmp_path / "theirs.csv", [trainee(9)])  # synced by the other provider, elsewhere
        sync_files(
            [str(theirs)],
            sync_options(
                emulator, tmp_path, OTHER_TOKEN, state_dir=tmp_path / "their-state", report_dir=tmp_path / "theirs"
            ),
        )
        monday = write_extract(tmp_path / "monday.csv", [trainee(n) for n in (1, 2, 3)])
        sync_files([str(monday)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "monday"))
        tuesday = write_extract(tmp_path / "tuesday.csv", [trainee(n) for n in (4, 5)])  # the night's new trainees
        with pytest.raises(ConfigError):  # as a token of another provider than --ukprn is refused (check_provider)
            sync_files([str(tuesday)], sync_options(emulator, tmp_path, OTHER_TOKEN, report_dir=tmp_path / "tuesday"))
        assert [t["hesa_id"] for t in _held(emulator, OTHER_TOKEN)] == [trainee(9)["hesa_id"]]


def test_a_trainee_deleted_in_register_by_hand_is_not_reported_unchanged(tmp_path: Path) -> None:
    """Register keeps answering GET /trainees/{id} for a trainee deleted (discarded) in its service (register-api.md
    §2.4) while no listing has it: fetch_missing took it as held, and its record was reported unchanged every night.
    It is a conflict that names it, and is not created again."""
    extract = write_extract(tmp_path / "extract.csv", [trainee(n) for n in (1, 2, 3)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        first = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "first"))
        deleted = first.results[1].plan.trainee_id
        assert deleted and emulator.discard_trainee(deleted)  # as Register's service deletes a trainee
        again = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "again"))
        plan = again.results[1].plan
        assert plan.action != "unchanged"
        assert (plan.action, plan.trainee_id) == ("conflict", deleted)
        assert f"trainee {deleted}, which this record was synced to, was deleted" in (plan.reason or "")
        assert again.exit_code != 0
        assert len(_held(emulator)) == 2  # not created again


def test_a_record_with_another_trainees_husid_does_not_overwrite_that_trainee(tmp_path: Path) -> None:
    held = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        monday = write_extract(tmp_path / "monday.csv", [held])
        sync_files([str(monday)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "monday"))
        newcomer = {**trainee(7), "hesa_id": held["hesa_id"]}  # the held trainee is not in this night's extract
        tuesday = write_extract(tmp_path / "tuesday.csv", [newcomer])
        sync_files([str(tuesday)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "tuesday"))
        people = {(t["last_name"], t["date_of_birth"]) for t in _held(emulator)}
        assert (held["last_name"], held["date_of_birth"]) in people


@pytest.mark.xfail(
    strict=True,
    reason="review13: two state dirs syncing for one provider at once (no provider lock towards this machine, under "
    "two user accounts, or with REGISTER_BATCH_RATE_DIR=off) leave a create sent by both to Register's 409 "
    "(ledger.py ProviderLock, security.md), which does not refuse it for such a trainee: two trainees",
)
def test_two_state_dirs_at_once_create_a_trainee_once(tmp_path: Path) -> None:
    extract = write_extract(tmp_path / "extract.csv", [_july_itt_start(1)])
    both_listed = threading.Barrier(2, timeout=30)

    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:

        class Together(RegisterClient):
            def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
                both_listed.wait()  # each run has listed Register and planned the create
                return super().create_trainee(data)

        def run(name: str) -> None:
            with Together(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
                options = sync_options(
                    emulator, tmp_path, TOKEN, state_dir=tmp_path / name, report_dir=tmp_path / f"{name}-report"
                )
                sync_files([str(extract)], options, client=client)

        runs = [threading.Thread(target=run, args=(name,)) for name in ("cron", "by-hand")]
        for thread in runs:
            thread.start()
        for thread in runs:
            thread.join(60)
        assert len(_held(emulator)) == 1


def test_a_second_trainee_with_the_records_husid_and_start_year_is_said_every_run(tmp_path: Path) -> None:
    """review39 F2: once Register held the same trainee twice (a create carried out after another was sent), the record
    followed its ledger link to one and every run said nothing of the other (without a ledger it is a conflict)."""
    row = _july_itt_start(1)
    degree = {"uk_degree": row["uk_degree"], "subject": row["degree_subject"], "grade": row["degree_grade"]}
    degree.update(graduation_year=row["degree_graduation_year"], institution=row["awarding_institution"])
    body = {k: v for k, v in row.items() if not k.startswith(("placement_", "degree_", "uk_degree", "awarding"))}
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        first = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "first"))
        [record] = first.results
        assert record.outcome == "done" and not [i for i in record.issues if i.code == "sync_duplicate_held"]
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            twin = client.create_trainee({**body, "degrees_attributes": [degree]})["trainee_id"]  # not a 409 (§4)
        again = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "again"))
        [record] = again.results
        assert record.plan.matched_by == "ledger" and record.plan.trainee_id != twin
        [issue] = [i for i in record.issues if i.code == "sync_duplicate_held"]
        assert twin in issue.message and record.plan.trainee_id in issue.message


def test_an_unanswered_create_is_not_settled_as_not_carried_out_by_a_run_without_its_record(tmp_path: Path) -> None:
    """review41 F1: the run after an unanswered create, with an extract that lacked the record, settled the create as
    "not carried out" (Register did not list it yet), so the run after it, with the record back, created it again
    while the first create was still to land: two trainees. Within the wait it is named, not settled."""
    extract = write_extract(tmp_path / "extract.csv", [_july_itt_start(1)])
    other = write_extract(tmp_path / "other.csv", [_july_itt_start(2)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        first = _create_left_unanswered(emulator, extract, tmp_path)
        assert [r.outcome for r in first.results] == ["unknown"]
        without = sync_files([str(other)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "without"))
        assert [r.outcome for r in without.results] == ["done"]
        [row] = json.loads((tmp_path / "without" / "report.json").read_text())["unanswered_elsewhere"]
        assert row["settled"] is None and "it may still carry it out" in row["note"], row
        back = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "back"))
        assert [r.outcome for r in back.results] == ["unknown"]
        assert emulator.carry_out_held() == 1  # the held create is carried out
        assert [t["hesa_id"] for t in _held(emulator)].count(_july_itt_start(1)["hesa_id"]) == 1


@pytest.mark.parametrize(
    "corrected",
    [{"trainee_start_date": "2025-07-21"}, {"itt_start_date": "2025-09-01"}],
    ids=["trainee_start_date", "itt_start_date"],
)
def test_a_create_sent_before_the_start_was_corrected_is_waited_for_too(tmp_path: Path, corrected) -> None:
    """review41 F3, review42: the record's trainee_start_date (or its itt_start_date) corrected into one cycle after its
    create went unanswered: a second create is refused by Register's 409 only if it lands second, so the record waits
    as well."""
    extract = write_extract(tmp_path / "extract.csv", [_july_itt_start(1)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        first = _create_left_unanswered(emulator, extract, tmp_path)
        assert [r.outcome for r in first.results] == ["unknown"]
        write_extract(extract, [{**_july_itt_start(1), **corrected}])
        at_once = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "at-once"))
        assert [(r.plan.action, r.outcome) for r in at_once.results] == [("create", "unknown")]
        assert emulator.carry_out_held() == 1
        assert len(_held(emulator)) == 1


def _killed_with_its_create_out(emulator: Any, extract: Path, tmp_path: Path) -> None:
    """A sync of `extract` killed while its create is out: Register holds the create, and carries it out later."""

    class KilledWhileTheCreateIsOut(RegisterClient):
        def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
            emulator.set_faults("timeout:1.0")  # held by Register, carried out after the kill
            try:
                super().create_trainee(data)
            except Exception:
                pass
            finally:
                emulator.set_faults(None)
            raise RuntimeError("killed")

    with (
        KilledWhileTheCreateIsOut(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=1.0) as client,
        pytest.raises(RuntimeError, match="killed"),
    ):
        sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN), client=client)


@pytest.mark.parametrize(
    ("corrected", "run_without_it", "outcome"),
    [
        ({"trainee_start_date": "2026-09-01"}, True, "unknown"),
        ({"last_name": "Corrected"}, True, "unknown"),
        ({"last_name": "Corr"}, False, "unknown"),
        ({"first_names": "Corrected", "email": "corrected@example.com"}, False, "unknown"),
        ({"first_names": "Corrected"}, False, "done"),
        ({"email": "corrected@example.com"}, False, "done"),
    ],
    ids=["start_moved_a_cycle", "surname", "surname_at_once", "first_name_and_email", "first_name", "email"],
)
def test_a_guarded_create_left_by_a_killed_run_is_waited_for_when_the_record_comes_back_corrected(
    tmp_path: Path, corrected: dict[str, str], run_without_it: bool, outcome: str
) -> None:
    """review43: a run was killed while a create Register's 409 guards was out; the next run, whose extract lacked the
    record, settled it "not carried out" (Register did not list it yet), and the run after it, with the record back
    and corrected in something the 409 compares (its start moved a cycle, its surname), created it again: the first
    create, landing late, was a second trainee. Within the wait such a create stays unsettled, and the corrected
    record is held back until it is over; so is one corrected at once (the surname: the 409 guarded the create as it
    was sent, not as corrected). The 409 matches on the first name or the email (§4): a record corrected in only one
    of them is sent at once, and whichever create lands second is refused (helper-207 F2)."""
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    other = write_extract(tmp_path / "other.csv", [trainee(2)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _killed_with_its_create_out(emulator, extract, tmp_path)
        if run_without_it:
            options = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "without")
            assert [r.outcome for r in sync_files([str(other)], options).results] == ["done"]
            [named] = json.loads((tmp_path / "without" / "report.json").read_text())["unanswered_elsewhere"]
            assert named["settled"] is None and "it may still carry it out" in named["note"], named
        write_extract(extract, [{**row, **corrected}])
        back = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "back"))
        assert [(r.plan.action, r.outcome) for r in back.results] == [("create", outcome)]
        # the held create is carried out, or refused as the corrected one's duplicate
        assert emulator.carry_out_held() == 1
        assert [t["hesa_id"] for t in _held(emulator)].count(row["hesa_id"]) == 1


def test_a_create_sent_after_two_unanswered_ones_must_be_refused_beside_both(tmp_path: Path) -> None:
    """review44 F1: a run killed with its create out; the record corrected in its first name, and a second run sent
    its create at once (the 409 refuses one of the two, sharing the email) and was killed too; then corrected in its
    email. The third run compared it with the second create only (the first name shared) and created it: the first
    create, sharing neither, landed as a second trainee. The ledger keeps the keys of every create that may still land,
    and the third run waits."""
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _killed_with_its_create_out(emulator, extract, tmp_path)
        write_extract(extract, [{**row, "first_names": "Corrected"}])
        _killed_with_its_create_out(emulator, extract, tmp_path)
        write_extract(extract, [{**row, "first_names": "Corrected", "email": "corrected@example.com"}])
        third = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "third"))
        assert [(r.plan.action, r.outcome) for r in third.results] == [("create", "unknown")]
        assert emulator.carry_out_held() == 2  # both held creates are carried out, or refused as the other's duplicate
        assert [t["hesa_id"] for t in _held(emulator)].count(row["hesa_id"]) == 1


def _create_answered(emulator: Any, status: int) -> RegisterClient:
    """A client whose creates Register refuses, doing nothing: 429 on every try (its window spent), or 422 (a
    training partner URN it does not know, which validate cannot tell)."""
    from register_batch.emulator.ratelimit import FixedWindowLimiter

    class Refused(RegisterClient):
        def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
            if status == 422:
                return super().create_trainee({**data, "training_partner_urn": "999999"})
            emulator.limiter = FixedWindowLimiter(0, 60.0)
            try:
                return super().create_trainee(data)
            finally:
                emulator.limiter = None

    return Refused(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1)


@pytest.mark.parametrize("status", [429, 422])
def test_a_later_create_refused_leaves_an_earlier_one_still_out_waited_for(tmp_path: Path, status: int) -> None:
    """review46 F1: a run killed with its create out; the next, the record unchanged, sent the create at once (the
    409 refuses one of two that share a digest) and Register refused it (429, 422): the record's entry said failed, and
    the earlier create was forgotten. The run after, with the surname corrected, created it at once, and the earlier
    create, landing late, was a second trainee. Each create Register never answered is kept until it answers."""
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _killed_with_its_create_out(emulator, extract, tmp_path)
        with contextlib.suppress(Interrupted, RegisterUnavailable), _create_answered(emulator, status) as client:
            sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN), client=client)
        write_extract(extract, [{**row, "last_name": "Corrected"}])
        third = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "third"))
        # a create, or the update of the trainee the held create made if it landed already: either waits
        assert [r.outcome for r in third.results] == ["unknown"], [r.errors for r in third.results]
        assert emulator.carry_out_held() == 1  # the held create is carried out
        assert [t["hesa_id"] for t in _held(emulator)].count(row["hesa_id"]) == 1


def test_an_update_that_would_unguard_a_create_still_out_waits(tmp_path: Path) -> None:
    """review46 F2: a create timed out (Register holds it) and the run, not finding it listed, sent it again: 201.
    The next run, the surname corrected, sent the update at once, and the first create, landing late, met no trainee
    with its surname: a second one. The update waits while that create may still land, saying until when."""
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _resent_then_corrected(emulator, extract, tmp_path, row, last_name="Corrected")
        second = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "second"))
        [waiting] = second.results
        assert (waiting.plan.action, waiting.outcome, second.exit_code) == ("update", "unknown", 3)
        assert "changes what its duplicate check compares" in waiting.errors[0] and waiting.again_after is not None
        assert emulator.carry_out_held() == 1  # the held create is carried out, or refused as the trainee's duplicate
        assert [t["hesa_id"] for t in _held(emulator)].count(row["hesa_id"]) == 1
        minutes_pass(tmp_path, 11)
        later = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "later"))
        assert [(r.plan.action, r.outcome) for r in later.results] == [("update", "done")]
        assert [t["last_name"] for t in _held(emulator)] == ["Corrected"]


def test_the_wait_after_an_unanswered_create_ends_on_the_minute_its_line_names() -> None:
    """review41 F4: the line said "after 08:01 UTC" for a wait ending at 08:01:40, and a run at 08:01:20 was held."""
    from datetime import datetime

    from register_batch.sync.runner import UNANSWERED_CREATE_WAIT, _create_wait_over

    over = _create_wait_over("2026-12-03T07:51:40.123+00:00")
    assert over is not None and (over.second, over.microsecond) == (0, 0)
    assert over - UNANSWERED_CREATE_WAIT >= datetime.fromisoformat("2026-12-03T07:51:40.123+00:00")
    assert f"{over:%H:%M}" == "08:02"
