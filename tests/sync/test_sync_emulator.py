"""`sync` against the project's emulator over real HTTP on 127.0.0.1: request economy, faults, kills, pacing.

Request counts come from the emulator's own statistics (`GET /__emulator__/stats`), not from the client.
"""

from __future__ import annotations

import csv
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cli_runs import sync_command
from emulated import create_answers_lost, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter, RegisterClient, Secret, Unauthorized
from register_batch.api.client import listed_at
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError, Interrupted, RegisterUnavailable, UnwritableOutput
from register_batch.reports import REPORT_FILES
from register_batch.sync import SyncOptions, sync_files
from register_batch.sync.runner import NOT_IN_EXTRACT_COLUMNS
from stub_http import answering, fronting
from trainee_extracts import WITHDRAWN, extract, started_in, trainee, without_columns, write_extract

AS_OF = date(2026, 11, 28)
TOKEN = "test-provider-token-0001"


@pytest.fixture
def emulator():
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7, fault_hold=3.0) as running:
        yield running


def stats(emulator) -> dict:
    return httpx.get(f"{emulator.url}/__emulator__/stats").json()


def options(emulator, tmp_path: Path, **extra) -> SyncOptions:
    return sync_options(emulator, tmp_path, TOKEN, **{"timeout": 2.0, **extra})


def held(emulator) -> list[dict]:
    return held_in(emulator, 2025)


def held_in(emulator, cycle: int) -> list[dict]:
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return list(client.iter_trainees(academic_cycle=cycle, per_page=1000))


def test_first_sync_rerun_and_k_changes_cost_exactly_what_they_must(emulator, tmp_path):
    source = extract(tmp_path / "in.csv", 30)
    first = sync_files([str(source)], options(emulator, tmp_path))
    assert first.exit_code == 0 and first.actions == Counter(create=30)
    after_first = stats(emulator)["requests"]["by_route"]
    assert after_first["POST /trainees"] == 30
    # ceil(N/per_page) + 2 at most: the extract's start year, and the years either side (before any create)
    assert after_first["GET /trainees"] <= 3
    assert sum(after_first.values()) <= 33

    again = sync_files([str(source)], options(emulator, tmp_path))
    assert again.actions == Counter(unchanged=30) and again.exit_code == 0
    second = stats(emulator)["requests"]["by_route"]
    writes = {route: n for route, n in second.items() if not route.startswith("GET")}
    assert writes == {"POST /trainees": 30}  # the rerun wrote nothing

    rows = [trainee(n) for n in range(1, 31)]
    for n in (3, 11, 27):
        rows[n - 1]["email"] = f"changed{n}@example.org"
    changed = sync_files([str(write_extract(tmp_path / "changed.csv", rows))], options(emulator, tmp_path))
    assert changed.actions == Counter(unchanged=27, update=3)
    third = stats(emulator)["requests"]["by_route"]
    assert third.get("PUT /trainees/{trainee_id}", 0) == 3
    assert third["POST /trainees"] == 30
    by_hesa = {t["hesa_id"]: t for t in held(emulator)}
    assert by_hesa[rows[10]["hesa_id"]]["email"] == "changed11@example.org"


@pytest.mark.parametrize("moved", [1, -1], ids=["deferred to next year", "start brought a year forward"])
def test_a_trainee_listed_under_another_start_year_is_updated_not_created_twice(emulator, tmp_path, moved):
    """No ledger links them (another state dir, or a trainee Register had already), and the start date moved by
    an academic year: Register lists the trainee under its old year, and its 409 rule compares years too."""
    first = trainee(1)
    sync_files([str(write_extract(tmp_path / "a.csv", [first]))], options(emulator, tmp_path, state_dir=tmp_path / "a"))
    year = 2025 + moved
    later = started_in(year, first)
    result = sync_files(
        [str(write_extract(tmp_path / "b.csv", [later]))], options(emulator, tmp_path, state_dir=tmp_path / "b")
    )
    assert result.exit_code == 0 and result.actions == Counter(update=1)
    assert stats(emulator)["trainees"] == 1
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        [held_now] = list(client.iter_trainees(academic_cycle=year))
    assert held_now["hesa_id"] == first["hesa_id"] and held_now["itt_start_date"] == f"{year}-09-01"


def test_a_new_course_instance_with_the_same_srs_id_is_created_not_matched_to_last_years(emulator, tmp_path):
    """An SRS id (OWNSTU) outlives a course instance; the next instance has a HUSID of its own. Last year's trainee,
    listed only because it is in a year next to this record's, is matched by HUSID, never by SRS id alone."""
    last_year = started_in(2024, trainee(1), hesa_id="2410000000001")
    sync_files([str(write_extract(tmp_path / "a.csv", [last_year]))], options(emulator, tmp_path))
    this_year = trainee(1)  # same SRS id, another HUSID, 2025
    result = sync_files([str(write_extract(tmp_path / "b.csv", [this_year]))], options(emulator, tmp_path))
    assert result.actions == Counter(create=1) and result.exit_code == 0
    assert stats(emulator)["trainees"] == 2
    # Told, not silent: it may also be a HUSID corrected in the night its start moved (the same person twice).
    issues = json.loads((tmp_path / "reports" / "report.json").read_text())["issues"]
    assert [(i["code"], i["severity"]) for i in issues] == [("sync_other_instance", "warning")]
    assert "2410000000001" in issues[0]["message"]
    # And with no ledger at all, beside a trainee that is new: the 2025 record is its own trainee, not a conflict.
    fresh = options(emulator, tmp_path, state_dir=tmp_path / "fresh")
    again = sync_files([str(write_extract(tmp_path / "c.csv", [this_year, trainee(2)]))], fresh)
    assert again.actions == Counter(unchanged=1, create=1) and again.exit_code == 0


def test_a_new_course_instance_is_created_when_the_extract_also_holds_last_years_start_year(emulator, tmp_path):
    """The same rule where last year is one of the extract's own start years (listed as usual, not as a neighbour),
    and still told (sync_other_instance) when the years either side, listed before creating, hold someone else."""
    last_year = started_in(2024, trainee(1), hesa_id="2410000000001")
    next_year = started_in(2026, trainee(3))  # someone else, listed only as a neighbour of the 2025 record
    sync_files([str(write_extract(tmp_path / "a.csv", [last_year, next_year]))], options(emulator, tmp_path))
    someone_else_from_2024 = started_in(2024, trainee(2))
    rows = [trainee(1), someone_else_from_2024]  # trainee(1): the next instance, 2025, another HUSID
    result = sync_files([str(write_extract(tmp_path / "b.csv", rows))], options(emulator, tmp_path, dry_run=True))
    assert [r.plan.action for r in result.results] == ["create", "create"]
    [(code, message)] = result.results[0].warnings()
    assert code == "sync_other_instance" and "2410000000001" in message


def test_a_trainee_leaving_the_cycle_while_register_is_listed_makes_no_other_one_a_create(tmp_path, closed_at_end):
    """Another run (a colleague's, or the SRS vendor's) corrects a trainee's start to the next year while this one
    lists the cycle. Paged by offset, every later trainee moved a place forward and one was never listed: a run with a
    new state dir planned a create for a trainee Register holds (Register's 409 stops it only while the name is
    unchanged, §4). Each page from the last change read (§10), every trainee still in the cycle is listed."""
    offset = [-7200.0]  # the cohort was loaded two hours ago: none of it has changed since
    source = extract(tmp_path / "in.csv", 12)
    with start_emulator(
        tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=lambda: time.time() + offset[0]
    ) as emulator:
        assert sync_files([str(source)], options(emulator, tmp_path / "first")).actions == Counter(create=12)
        offset[0] = 0.0
        listed: list[list[dict]] = []

        class MovedMeanwhile(RegisterClient):
            def list_trainees(self, **params):
                items, meta = super().list_trainees(**params)
                if not listed:  # after the first page: the other run moves a trainee it held to the next year
                    moving = items[0]["trainee_id"]
                    start = {"itt_start_date": "2026-09-01", "trainee_start_date": "2026-09-01"}
                    RegisterClient.update_trainee(self, moving, {**start, "itt_end_date": "2027-07-15"})
                listed.append(items)
                return items, meta

        client = closed_at_end(MovedMeanwhile(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)))
        result = sync_files(
            [str(source)], options(emulator, tmp_path / "second", dry_run=True, per_page=4), client=client
        )
    # The moved one as its page showed it (the next run sees its new start), and no one planned as a create.
    assert Counter(r.plan.action for r in result.results) == Counter(unchanged=12), result.summary_line()


def test_a_corrected_husid_in_the_same_start_year_is_still_found_by_srs_id(emulator, tmp_path):
    first = trainee(1)
    sync_files([str(write_extract(tmp_path / "a.csv", [first]))], options(emulator, tmp_path))
    corrected = dict(first, hesa_id="2510000000009")
    fresh = options(emulator, tmp_path, state_dir=tmp_path / "fresh")
    result = sync_files([str(write_extract(tmp_path / "b.csv", [corrected]))], fresh)
    assert result.actions == Counter(update=1) and result.results[0].plan.matched_by == "provider_trainee_id"


def test_register_trainees_of_the_years_either_side_are_not_reported_as_missing(emulator, tmp_path):
    """The years either side are listed only to find moved trainees: theirs are not "not in the extract"."""
    older = started_in(2024, trainee(2))
    sync_files([str(write_extract(tmp_path / "a.csv", [older]))], options(emulator, tmp_path, state_dir=tmp_path / "a"))
    result = sync_files(
        [str(write_extract(tmp_path / "b.csv", [trainee(1)]))], options(emulator, tmp_path, state_dir=tmp_path / "b")
    )
    assert result.actions == Counter(create=1)
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["sync"]["not_in_extract"] == 0
    # The same files every night: a header alone when Register holds no one else.
    header = (tmp_path / "reports" / "not_in_extract.csv").read_text(encoding="utf-8-sig").splitlines()
    assert header == [",".join(NOT_IN_EXTRACT_COLUMNS)]


def test_a_report_folder_holding_an_input_under_a_reports_name_is_refused_before_any_request(emulator, tmp_path):
    """Reports are put in place by a rename: an extract kept as reports/results.csv was replaced by the results."""
    (tmp_path / "reports").mkdir()
    source = extract(tmp_path / "reports" / "results.csv", 3)
    before = source.read_bytes()
    with pytest.raises(UnwritableOutput, match=r"is the input .*results\.csv, .*: give the reports another folder"):
        sync_files([str(source)], options(emulator, tmp_path))
    assert source.read_bytes() == before
    assert stats(emulator)["requests"]["total"] == 0 and not (tmp_path / "state" / "ledger.sqlite3").exists()


def test_every_file_of_a_sync_report_is_one_an_input_is_checked_against(emulator, tmp_path):
    sync_files([str(extract(tmp_path / "in.csv", 2))], options(emulator, tmp_path))
    written = {path.name for path in (tmp_path / "reports").iterdir()}
    assert written == set(REPORT_FILES) - {"junit.xml"}  # junit.xml: validate's --junit


def test_an_invalid_records_start_year_is_not_listed(emulator, tmp_path):
    """Nothing is sent for an invalid record, so Register is not listed for its start year: only the valid records'
    years, and those either side of the ones created."""
    invalid = started_in(2022, trainee(2), sex="7")
    source = write_extract(tmp_path / "in.csv", [trainee(1), invalid])
    with fronting(emulator.url, lambda seen, forward: None) as front:
        result = sync_files([str(source)], options(emulator, tmp_path, target=front.url, target_identity=emulator.url))
    assert result.actions == Counter(create=1, invalid=1), result.summary_line()
    listed = {int(seen.query["academic_cycle"][0]) for seen in front.seen if "academic_cycle" in seen.query}
    assert listed == {2024, 2025, 2026}


def test_a_state_dir_whose_name_is_not_utf8_is_named_in_the_report_with_the_byte_escaped(emulator, tmp_path):
    """A state dir named in Latin-1 (`st-\\xe9`, made by a tool with another locale): report.json names it, and no UTF-8
    file can hold the name as Python reads it. The sync sent every record, then ended in an internal error (exit 70)
    writing report.json: no report and no summary line for writes Register had taken."""
    state_dir = tmp_path / os.fsdecode(b"st-\xe9")
    result = sync_files([str(extract(tmp_path / "in.csv", 2))], options(emulator, tmp_path, state_dir=state_dir))
    assert result.exit_code == 0 and result.actions == Counter(create=2)
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert report["sync"]["state_dir"] == str(tmp_path / "st-\\xe9")


@pytest.mark.parametrize("half", ["\\ud83d", "\\udce9"])
def test_a_message_holding_a_lone_surrogate_is_reported_with_it_escaped(emulator, tmp_path, half):
    """A gateway's (or a broken server's) 422 whose message holds a JSON escape of half a character (`\\ud83d`): no
    UTF-8 report can hold that, and the sync ended in an internal error (exit 70) as it spooled the record's issue."""

    def refused(seen, forward):
        if seen.method == "POST" and seen.path.endswith("/trainees"):
            body = b'{"message":"Validation failed","errors":{"first_names":["bad %s value"]}}' % half.encode()
            return 422, {"Content-Type": "application/json"}, body
        return None

    with fronting(emulator.url, refused) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        result = sync_files([str(write_extract(tmp_path / "a.csv", [trainee(1)]))], fronted)
    assert result.exit_code == 1 and result.outcomes == Counter(failed=1), result.summary_line()
    # report.json holds the escape as JSON reads it (the answer's own text); the CSV its six characters.
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    as_read = json.loads(f'"first_names bad {half} value"')
    assert [issue["message"] for issue in report["issues"]] == [as_read]
    results = (tmp_path / "reports" / "results.csv").read_text(encoding="utf-8-sig")
    assert f"first_names bad {half} value" in results


def test_an_embedded_sync_in_a_state_dir_whose_name_is_not_utf8_writes_its_report(tmp_path, monkeypatch):
    """The embedded emulator's Target names its data folder, in the state dir: a Latin-1 state dir's name in report.json
    ended the sync in an internal error (exit 70) after every record was sent, on every run."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_URL", raising=False)
    state_dir = os.fsdecode(b"st-\xe9")
    source = str(write_extract(tmp_path / "a.csv", [trainee(1)]))
    args = ["-q", "sync", source, "--state-dir", state_dir, "--report-dir", "reports", "--as-of", AS_OF.isoformat()]
    for _night in range(2):
        done = CliRunner().invoke(cli, args)
        assert done.exit_code == 0, done.output
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    shown = Path("st-\\xe9", "register")  # the byte as printable writes it: a backslash, x, e, 9
    assert report["sync"]["target"].endswith(f"its data is in {shown})")
    assert report["sync"]["actions"] == {"unchanged": 1}


def test_the_results_report_says_what_happened_to_each_record(emulator, tmp_path):
    rows = [trainee(n) for n in range(1, 4)]
    rows[1]["sex"] = "7"  # invalid: reported, not sent
    sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    by_record = {r["record"]: r for r in report["records"]}
    assert by_record[1]["action"] == "create" and by_record[1]["outcome"] == "done"
    assert len(by_record[1]["trainee_id"]) == 24 and by_record[1]["http_status"] == 201
    assert by_record[2]["action"] == "invalid" and by_record[2]["outcome"] == "skipped"
    assert report["sync"]["actions"] == {"create": 2, "invalid": 1}
    assert report["sync"]["requests"]["by_route"]["POST /trainees"] == 2
    assert (tmp_path / "reports" / "results.csv").read_text().count("\n") == 4
    assert stats(emulator)["trainees"] == 2


def test_faults_never_duplicate_or_lose_a_trainee(tmp_path):
    faults = "500:0.05,reset:0.03,lost-response:0.05"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, faults=faults, seed=11) as emulator:
        source = extract(tmp_path / "in.csv", 60)
        rows = [trainee(n) for n in range(1, 61)]
        for _attempt in range(6):
            result = sync_files([str(source)], options(emulator, tmp_path))
            if result.exit_code == 0:
                break
        assert result.exit_code == 0, f"not settled after six runs: {result.outcomes}"
        injected = stats(emulator)["requests"].get("faults", {})
        assert sum(injected.values()) > 0, "the faults were not exercised"
        hesa_ids = Counter(t["hesa_id"] for t in _listing_without_faults(emulator))
    assert set(hesa_ids) == {r["hesa_id"] for r in rows}
    assert max(hesa_ids.values()) == 1


def _listing_without_faults(emulator) -> list[dict]:
    """List the emulator's trainees, retrying through its injected faults (GETs are safe to retry)."""
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=20) as client:
        return list(client.iter_trainees(academic_cycle=2025, per_page=1000))


def test_a_sync_killed_mid_run_completes_on_the_next_run(tmp_path):
    db = tmp_path / "register.sqlite3"
    source = extract(tmp_path / "in.csv", 40)
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, db=db, latency_ms=40) as emulator:
        command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "r", AS_OF.isoformat())
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 60
        while stats(emulator)["requests"]["by_route"].get("POST /trainees", 0) < 12:
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=10)  # and its pipes closed
        time.sleep(0.3)  # a request received before the kill is still being stored by the emulator
        killed_wrote = {t["hesa_id"] for t in held(emulator)}
        assert 11 <= len(killed_wrote) < 40
        finished = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert finished.returncode == 0, finished.stdout + finished.stderr
        hesa_ids = Counter(t["hesa_id"] for t in held(emulator))
        assert len(hesa_ids) == 40 and max(hesa_ids.values()) == 1
        # The killed run wrote no report: the rerun, which finds those trainees as the extract says, names them.
        report = json.loads((tmp_path / "r" / "report.json").read_text())
        earlier = {i["hesa_id"] for i in report["issues"] if i["code"] == "sync_written_earlier"}
        assert earlier == killed_wrote and f"({len(killed_wrote)} sync_written_earlier)" in finished.stdout
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0 and "sync_written_earlier" not in again.stdout  # said once


def test_pacing_under_a_fixed_window_limit_gets_no_429(tmp_path):
    """The client's sliding window keeps under the server's fixed one. The server counts a request when it arrives,
    so the client keeps a margin for the time a request takes to get there; on a loaded test machine that can exceed
    the default 2% of a 2 s window (40 ms: one clean-clone run saw a 429), so this run keeps 200 ms, as a 60 s window's
    default (250 ms) does. That it otherwise goes at full speed is test_limiter's (on a clock of its own) and the
    benchmarks' (throughput against the limit): no timing is asserted here."""
    with start_emulator(tokens=[TOKEN], rate_limit=(40, 2.0), as_of=AS_OF) as emulator:
        source = extract(tmp_path / "in.csv", 150)
        client = RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(40, 2.0, margin=0.2))
        with client:
            result = sync_files([str(source)], options(emulator, tmp_path, rate=(40, 2.0)), client=client)
        counts = stats(emulator)["requests"]
        assert result.exit_code == 0
        assert counts["by_status"].get("429", 0) == 0
        assert counts["by_route"]["POST /trainees"] == 150


def test_a_name_the_srs_keeps_decomposed_is_no_change_to_the_same_name_register_holds_composed(emulator, tmp_path):
    """review40 F2: "Brontë" keyed in Register's service (composed, NFC) and held decomposed by the SRS: drift showed
    a change nobody can see, and the sync sent it."""
    import unicodedata

    row = {**trainee(1), "first_names": "Zoë", "last_name": "Brontë"}
    first = sync_files([str(write_extract(tmp_path / "in.csv", [row]))], options(emulator, tmp_path))
    assert first.actions == Counter(create=1)
    decomposed = {k: unicodedata.normalize("NFD", row[k]) for k in ("first_names", "last_name")}
    again = sync_files([str(write_extract(tmp_path / "in.csv", [{**row, **decomposed}]))], options(emulator, tmp_path))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=1), again.summary_line()
    assert "PUT /trainees/{trainee_id}" not in stats(emulator)["requests"]["by_route"]


def test_read_only_trainees_are_reported_not_written(emulator, tmp_path):
    source = extract(tmp_path / "in.csv", 3)
    sync_files([str(source)], options(emulator, tmp_path))
    trainee_id = {t["hesa_id"]: t["trainee_id"] for t in held(emulator)}[trainee(2)["hesa_id"]]
    _withdraw_directly(emulator, trainee_id)
    rows = [trainee(n) for n in range(1, 4)]
    rows[1]["email"] = "after.withdrawal@example.com"
    before = stats(emulator)["requests"]["by_route"].get("PUT /trainees/{trainee_id}", 0)
    result = sync_files([str(write_extract(tmp_path / "changed.csv", rows))], options(emulator, tmp_path))
    # a warning: nothing can change it through the API, nor can anyone make Register take it (review206 F1): exit 0
    assert result.exit_code == 0
    assert result.actions == Counter(unchanged=2, held=1)
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert [(i["code"], i["severity"]) for i in report["issues"]] == [("sync_after_withdrawal", "warning")]
    assert stats(emulator)["requests"]["by_route"].get("PUT /trainees/{trainee_id}", 0) == before


def test_a_withdrawal_of_a_trainee_recommended_for_award_is_blocked_with_its_reason_as_the_records_error(
    emulator, tmp_path
):
    """Register lists the trainee as recommended for award (a state the API withdraws no one from, §6): the record
    is blocked, and results.csv gives why in its errors, not as a held-back warning of a record that went ahead."""
    sync_files([str(extract(tmp_path / "in.csv", 1))], options(emulator, tmp_path))

    def recommended(seen, forward):
        if seen.method == "GET" and seen.path.split("?")[0].endswith("/trainees"):
            status, headers, content = forward()
            listing = json.loads(content)
            for listed in listing["data"]:
                listed["state"] = "recommended_for_award"
            return status, headers, json.dumps(listing).encode()
        return None

    leaving = {**trainee(1), **WITHDRAWN}
    with fronting(emulator.url, recommended) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        result = sync_files([str(write_extract(tmp_path / "b.csv", [leaving]))], fronted)
    assert result.actions == Counter(blocked=1) and result.exit_code == 1
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    [issue] = report["issues"]
    assert (issue["code"], issue["severity"]) == ("sync_blocked", "warning")
    with (tmp_path / "reports" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["errors"] == issue["message"] and "cannot be withdrawn" in row["errors"] and row["warnings"] == ""
    assert report["sync"]["warnings"] == {}
    assert [t["state"] for t in held(emulator)] != ["withdrawn"]


def test_a_withdrawal_register_refuses_from_a_state_it_allows_says_what_register_holds_and_what_to_do(
    emulator, tmp_path
):
    """Register also refuses a withdrawal for a trainee it holds as not yet started (a commencement status the API
    does not show) or whose ITT start its date puts ahead (§2.7 step 1). The report gave only Register's "not possible
    in its current state" for a trainee it lists as submitted for TRN, which the docs said meant recommended,
    withdrawn or awarded. Here Register's date (the emulator's) is before the ITT start, the run's after it."""
    dates = {"itt_start_date": "2026-12-10", "trainee_start_date": "2026-12-10", "itt_end_date": "2027-11-30"}
    starting = {**trainee(1), **dates}
    sync_files([str(write_extract(tmp_path / "a.csv", [starting]))], options(emulator, tmp_path))
    leaving = {**starting, **WITHDRAWN, "withdrawal_date": "2026-12-15"}
    later = options(emulator, tmp_path, as_of=date(2026, 12, 20))
    result = sync_files([str(write_extract(tmp_path / "b.csv", [leaving]))], later)
    assert result.actions == Counter(blocked=1) and result.exit_code == 1, result.summary_line()
    [message] = [issue["message"] for issue in json.loads((tmp_path / "reports" / "report.json").read_text())["issues"]]
    assert message.startswith("It’s not possible to perform this action while the trainee is in its current state: ")
    assert re.search(
        "Register lists the trainee as (submitted for a TRN|holding a TRN), which a withdrawal is", message
    )
    assert "Record the trainee's start in Register's service, or check the ITT start date" in message


def test_a_withdrawn_trainees_next_course_with_the_same_husid_is_blocked_and_says_it_cannot_be_told_apart(
    emulator, tmp_path
):
    """HESA keeps one HUSID for a student's courses. register-batch matches a HUSID to one trainee, so the next course
    of a withdrawn trainee is blocked as that trainee's: creating it beside, when the dates differ, also created a
    withdrawn trainee again whose start was corrected, and let the earlier course's record write over the new one
    (review32). Nothing is written, and the reason says what to do."""
    sync_files([str(write_extract(tmp_path / "a.csv", [{**trainee(1), **WITHDRAWN}]))], options(emulator, tmp_path))
    next_course = started_in(2026, trainee(1))
    result = sync_files([str(write_extract(tmp_path / "b.csv", [next_course]))], options(emulator, tmp_path))
    assert result.actions == Counter(blocked=1) and stats(emulator)["trainees"] == 1
    reason = result.results[0].plan.reason or ""
    assert "Its ITT start is 365 days from this record's: if the record is the student's next course" in reason
    assert reason.endswith(
        "add the new course in Register's service, with this HUSID and ITT start date, and submit it (Register "
        "lists no drafts): the next run syncs this record to it"
    )


def test_a_next_course_added_in_register_as_the_blocked_reason_says_is_synced_to_it_and_the_old_record_writes_nothing(
    emulator, tmp_path
):
    """review65 F2: the reason's advice left the record blocked every night, the ledger still linking it to the
    earlier course. Once Register holds the next course (added in its service), the record is synced to it. The
    earlier course's record, in a later extract, is not written over the next course through the link either."""
    first = started_in(2025, trainee(1))
    sync_files([str(write_extract(tmp_path / "a.csv", [{**first, **WITHDRAWN}]))], options(emulator, tmp_path))
    next_course = started_in(2026, trainee(1))
    blocked = sync_files([str(write_extract(tmp_path / "b.csv", [next_course]))], options(emulator, tmp_path))
    assert blocked.actions == Counter(blocked=1), blocked.summary_line()
    added = _create_directly(emulator, {**_api_body(next_course), "email": "added.in.register@example.com"})
    synced = sync_files([str(write_extract(tmp_path / "b.csv", [next_course]))], options(emulator, tmp_path))
    [result] = synced.results
    assert (result.plan.action, result.plan.trainee_id) == ("update", added["trainee_id"]), synced.summary_line()
    assert synced.exit_code == 0 and result.outcome == "done"
    again = sync_files([str(write_extract(tmp_path / "b.csv", [next_course]))], options(emulator, tmp_path))
    assert again.actions == Counter(unchanged=1) and again.exit_code == 0, again.summary_line()
    # The earlier course's record again, as it was: its own trainee, withdrawn, which nothing is written to, is
    # within 30 days of it; the next course, a year off, is not written to. Not a conflict every night (exit 1) while
    # the extract still has the record.
    old = sync_files([str(write_extract(tmp_path / "a.csv", [{**first, **WITHDRAWN}]))], options(emulator, tmp_path))
    assert old.actions == Counter(unchanged=1) and old.exit_code == 0, old.summary_line()
    assert old.results[0].plan.trainee_id != added["trainee_id"]
    [now] = held_in(emulator, 2026)
    assert (now["trainee_id"], now["itt_start_date"]) == (added["trainee_id"], "2026-09-01")
    assert now["state"] != "withdrawn"
    # review71 M2: the earlier course's record with its start corrected by more than 30 days, the ledger linking the
    # HUSID to the next course: not written over it (nor withdrawing it) through the link.
    # (Its own trainee, withdrawn, is nearer: the record is blocked on it, as on a student's only course.)
    corrected = {**first, **WITHDRAWN, "itt_start_date": "2025-10-15", "trainee_start_date": "2025-10-15"}
    moved = sync_files([str(write_extract(tmp_path / "c.csv", [corrected]))], options(emulator, tmp_path))
    assert moved.actions == Counter(blocked=1), moved.summary_line()
    assert moved.results[0].plan.trainee_id != added["trainee_id"]
    [now] = held_in(emulator, 2026)
    assert (now["trainee_id"], now["itt_start_date"]) == (added["trainee_id"], "2026-09-01")
    assert now["state"] != "withdrawn"
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 1 + 1  # the first course; the one added


def test_an_earlier_courses_record_far_from_both_courses_is_a_conflict_not_written_over_the_next_course(
    emulator, tmp_path
):
    """review71 H1: the earlier course (withdrawn) and the next (added in Register): the earlier course's record with
    its start corrected by more than 30 days matched the next course alone once the withdrawn one was set aside, and
    was written over it and withdrew it. Only a course within 30 days of the record's start is taken over an
    earlier one."""
    first = started_in(2025, trainee(1))
    sync_files([str(write_extract(tmp_path / "a.csv", [{**first, **WITHDRAWN}]))], options(emulator, tmp_path))
    added = _create_directly(emulator, _api_body(started_in(2026, trainee(1))))
    corrected = {**first, **WITHDRAWN, "itt_start_date": "2025-10-15", "trainee_start_date": "2025-10-15"}
    elsewhere = options(emulator, tmp_path, state_dir=tmp_path / "other-state")  # no link: matched by the HUSID
    # Another trainee starting in 2026 has the run list that year too, where the next course is.
    result = sync_files([str(write_extract(tmp_path / "b.csv", [corrected, started_in(2026, trainee(2))]))], elsewhere)
    only = result.results[0]
    assert only.plan.action == "conflict", result.summary_line()
    assert "They are one student's courses (one HUSID)" in (only.plan.reason or "")
    [now] = [t for t in held_in(emulator, 2026) if t["trainee_id"] == added["trainee_id"]]
    assert now["itt_start_date"] == "2026-09-01"
    assert now["state"] != "withdrawn"


def _next_course_linked(emulator, tmp_path) -> tuple[dict, dict]:
    """The earlier course withdrawn (2025), the next added in Register's service (2026) and its record synced to it:
    the ledger links the HUSID to the next course. Returns the earlier course's row and the next course's trainee."""
    first = started_in(2025, trainee(1))
    sync_files([str(write_extract(tmp_path / "a.csv", [{**first, **WITHDRAWN}]))], options(emulator, tmp_path))
    next_course = started_in(2026, trainee(1))
    added = _create_directly(emulator, {**_api_body(next_course), "email": "added.in.register@example.com"})
    synced = sync_files([str(write_extract(tmp_path / "b.csv", [next_course]))], options(emulator, tmp_path))
    assert [(r.plan.action, r.plan.trainee_id) for r in synced.results] == [("update", added["trainee_id"])]
    return first, added


def test_an_earlier_courses_record_moved_into_a_cycle_the_run_does_not_list_is_not_written_over_the_linked_next_course(
    emulator, tmp_path
):
    """review72 H1: the earlier course's record, its start corrected to 15 July (the cycle before), is alone in the
    extract, and the ledger links its HUSID to the next course. The earlier course (in neither the record's cycle nor
    the next course's) was not looked at, so the link was followed: the next course was written over and withdrawn.
    The cycles around a far link are listed, and the earlier course, nearer the record, sets the link aside."""
    first, added = _next_course_linked(emulator, tmp_path)
    corrected = {**first, **WITHDRAWN, "itt_start_date": "2025-07-15", "trainee_start_date": "2025-07-15"}
    moved = sync_files([str(write_extract(tmp_path / "c.csv", [corrected]))], options(emulator, tmp_path))
    assert moved.actions == Counter(conflict=1) and moved.exit_code == 1, moved.summary_line()
    assert "They are one student's courses (one HUSID)" in (moved.results[0].plan.reason or "")
    [now] = held_in(emulator, 2026)
    assert (now["trainee_id"], now["itt_start_date"]) == (added["trainee_id"], "2026-09-01")
    assert now["state"] != "withdrawn"


def test_the_next_course_the_ledger_links_is_not_counted_as_not_in_the_extract_of_the_earlier_courses_record(
    emulator, tmp_path
):
    """review73 (under F4): the earlier course's record alone, matched to its own withdrawn trainee, the ledger
    linking its HUSID to the next course (a cycle the extract does not have): the next course, fetched by its id to
    follow the link, was reported as in Register but not in the extract, which lists the extract's cycles only."""
    first, added = _next_course_linked(emulator, tmp_path)
    old = sync_files([str(write_extract(tmp_path / "a.csv", [{**first, **WITHDRAWN}]))], options(emulator, tmp_path))
    assert old.actions == Counter(unchanged=1), old.summary_line()
    assert old.results[0].plan.trainee_id != added["trainee_id"]
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["sync"]["not_in_extract"] == 0, report["not_in_extract"]


def test_the_next_courses_own_record_with_its_start_corrected_follows_its_link_past_the_earlier_course(
    emulator, tmp_path
):
    """review72 M1: the next course's record with its start corrected by 61 days, the earlier (withdrawn) course's
    cycle listed for another record, was a conflict every night, with advice that did not apply. The linked trainee
    is the nearer of the two: it is the record's."""
    _, added = _next_course_linked(emulator, tmp_path)
    corrected = started_in(2026, trainee(1), itt_start_date="2026-11-01", trainee_start_date="2026-11-01")
    other = started_in(2025, trainee(2))  # has the run list 2025, where the earlier course is
    result = sync_files([str(write_extract(tmp_path / "c.csv", [corrected, other]))], options(emulator, tmp_path))
    assert [r.plan.action for r in result.results] == ["update", "create"], result.summary_line()
    assert result.exit_code == 0 and result.results[0].plan.trainee_id == added["trainee_id"]
    [now] = held_in(emulator, 2026)
    assert (now["trainee_id"], now["itt_start_date"]) == (added["trainee_id"], "2026-11-01")


def test_a_trainee_whose_duplicate_twin_was_withdrawn_follows_its_link_when_its_start_is_corrected(emulator, tmp_path):
    """review72 M2: a duplicate of the trainee, created in Register and withdrawn there (what a provider can do to
    one), made the trainee's record a conflict every night once its start was corrected by more than 30 days: a
    withdrawn trainee with the HUSID counted as another course. A twin is as far as the linked trainee, not nearer."""
    mine = trainee(1)
    sync_files([str(write_extract(tmp_path / "a.csv", [mine]))], options(emulator, tmp_path))
    [linked] = held(emulator)
    twin = _create_directly(emulator, {**_api_body(mine), "first_names": "Twin", "email": "twin@example.com"})
    _withdraw_directly(emulator, twin["trainee_id"])
    corrected = {**mine, "itt_start_date": "2025-10-15", "trainee_start_date": "2025-10-15"}
    result = sync_files([str(write_extract(tmp_path / "b.csv", [corrected]))], options(emulator, tmp_path))
    [only] = result.results
    assert (only.plan.action, only.plan.trainee_id) == ("update", linked["trainee_id"]), result.summary_line()
    assert result.exit_code == 0 and twin["trainee_id"] in (only.plan.twins_note or "")


def test_an_earlier_courses_record_with_its_year_mistyped_by_four_is_not_written_over_the_linked_next_course(
    emulator, tmp_path
):
    """review73 F1: the earlier course's record (2025) with its year mistyped as 2021, the ledger linking the HUSID to
    the next course (2026): the earlier course, nearer the record but four cycles off, was not looked for, so the link
    was followed, and the next course was moved to 2021 and withdrawn (exit 0). A far link that a nearer course could
    hide beyond the cycles listed is not followed to a trainee the API can write to: a conflict that says why. (Three
    cycles off, the earlier course is in the cycle listed after the two: a course deferred before it began is.)"""
    first, added = _next_course_linked(emulator, tmp_path)
    # (Route 11: provider-led postgraduate, 12, has no cycle before 2022, R9.)
    mistyped = {**started_in(2021, first), **WITHDRAWN, "withdrawal_date": "2022-02-01", "training_route": "11"}
    result = sync_files([str(write_extract(tmp_path / "c.csv", [mistyped]))], options(emulator, tmp_path))
    [only] = result.results
    assert (only.plan.action, only.plan.related) == ("conflict", (added["trainee_id"],)), result.summary_line()
    assert result.exit_code == 1 and not only.plan.steps
    assert f"the ledger links this record to trainee {added['trainee_id']}, whose ITT start" in (only.plan.reason or "")
    [now] = held_in(emulator, 2026)
    assert (now["trainee_id"], now["itt_start_date"]) == (added["trainee_id"], "2026-09-01")
    assert now["state"] != "withdrawn"


def test_a_july_start_back_from_a_two_year_deferral_follows_its_link(emulator, tmp_path):
    """review74 R1: a course starting in July (the cycle before its academic year), deferred, and its record back two
    years on: a course nearer the record could start in five cycles, the first three before the record's own. Only
    two either side were listed, so the link was taken for one a nearer course could hide beyond: a conflict every
    night. A window of up to five cycles is listed whole, and the link followed."""
    july = {**trainee(1), "itt_start_date": "2024-07-20", "trainee_start_date": "2024-07-20"}
    sync_files(
        [str(write_extract(tmp_path / "a.csv", [{**july, "itt_end_date": "2025-07-31"}]))], options(emulator, tmp_path)
    )
    [deferred] = held_in(emulator, 2023)
    _set_state(emulator, deferred["trainee_id"], "deferred")
    back = started_in(2026, trainee(1))
    result = sync_files([str(write_extract(tmp_path / "b.csv", [back]))], options(emulator, tmp_path))
    [only] = result.results
    assert (only.plan.action, only.plan.trainee_id) == ("update", deferred["trainee_id"]), result.summary_line()
    assert result.exit_code == 0
    [now] = held_in(emulator, 2026)
    assert now["itt_start_date"] == "2026-09-01"


def test_a_trainee_with_an_open_duplicate_a_few_days_nearer_follows_its_link_when_its_start_is_corrected(
    emulator, tmp_path
):
    """review73 F2: a duplicate of the trainee created in Register (open) starting nine days later: once the record's
    start was corrected by 44 days, the twin, 35 days off, counted as a nearer course, and the record was a conflict
    every night with advice that did not apply. A trainee within 30 days of the linked one, and not of the record,
    is its twin: the link is followed, with the twins note."""
    mine = trainee(1)
    sync_files([str(write_extract(tmp_path / "a.csv", [mine]))], options(emulator, tmp_path))
    [linked] = held(emulator)
    later = {**_api_body(mine), "first_names": "Twin", "email": "twin@example.com"}
    twin = _create_directly(emulator, {**later, "itt_start_date": "2025-09-10", "trainee_start_date": "2025-09-10"})
    corrected = {**mine, "itt_start_date": "2025-10-15", "trainee_start_date": "2025-10-15"}
    result = sync_files([str(write_extract(tmp_path / "b.csv", [corrected]))], options(emulator, tmp_path))
    [only] = result.results
    assert (only.plan.action, only.plan.trainee_id) == ("update", linked["trainee_id"]), result.summary_line()
    assert result.exit_code == 0 and twin["trainee_id"] in (only.plan.twins_note or "")
    [now] = [t for t in held(emulator) if t["trainee_id"] == linked["trainee_id"]]
    assert now["itt_start_date"] == "2025-10-15"


def test_the_cycles_listed_around_a_far_link_are_not_listed_again_for_a_create(emulator, tmp_path):
    """review73 F3: a record back from its deferral (its start a year on, its link far) and a new trainee in one run:
    the cycles around the far link, listed whole, were listed whole again as the new trainee's neighbouring cycles
    (here only next year's: the cycles of the last far link, a start corrected by 44 days, were taken for the
    extract's). Each cycle is listed from its first page once a run."""
    sync_files([str(write_extract(tmp_path / "a.csv", [trainee(1), trainee(3)]))], options(emulator, tmp_path))
    back = started_in(2026, trainee(1))
    corrected = {**trainee(3), "itt_start_date": "2025-10-15", "trainee_start_date": "2025-10-15"}
    rows = [back, started_in(2026, trainee(2)), corrected]
    with fronting(emulator.url, lambda seen, forward: None) as front:
        result = sync_files(
            [str(write_extract(tmp_path / "b.csv", rows))],
            options(emulator, tmp_path, target=front.url, target_identity=emulator.url),
        )
    assert [r.plan.action for r in result.results] == ["update", "create", "update"], result.summary_line()
    first_pages = Counter(
        int(seen.query["academic_cycle"][0])
        for seen in front.seen
        if "academic_cycle" in seen.query and "since" not in seen.query
    )
    assert first_pages == Counter({2025: 1, 2026: 1, 2027: 1})


def test_a_new_records_trainee_deferred_into_a_cycle_listed_around_a_far_link_is_not_created_again(emulator, tmp_path):
    """A record back from its deferral (its link far, the cycles around it listed) and another deferred by a year,
    synced before from another state dir (no link here), in one run. The second is found in the year before, which
    the run lists around the first: it was never planned against that listing (the extract's cycles were taken for
    the far link's), so it was created a second time, which Register's 409 (start years, §4) does not refuse."""
    sync_files([str(write_extract(tmp_path / "a.csv", [trainee(1)]))], options(emulator, tmp_path))
    # The token's UKPRN given: a first run that only creates, into an account whose listed trainees are none of its
    # records, is otherwise refused as another provider's token would be (review212 F1).
    elsewhere = options(emulator, tmp_path, state_dir=tmp_path / "other-state", ukprn=held(emulator)[0]["ukprn"])
    sync_files([str(write_extract(tmp_path / "b.csv", [trainee(2)]))], elsewhere)
    [deferred] = [t for t in held(emulator) if t["hesa_id"] == trainee(2)["hesa_id"]]
    both = [started_in(2026, trainee(1)), started_in(2026, trainee(2))]
    result = sync_files([str(write_extract(tmp_path / "c.csv", both))], options(emulator, tmp_path))
    assert [r.plan.action for r in result.results] == ["update", "update"], result.summary_line()
    assert result.results[1].plan.trainee_id == deferred["trainee_id"]
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 2


def test_a_course_changed_within_the_year_is_not_called_a_duplicate_of_the_earlier_one(emulator, tmp_path):
    """review73 F5: the earlier course withdrawn (September), the next added in Register in January of the same
    academic year and its record synced to it: every later night the record was warned that Register also holds the
    earlier course "with this record's HUSID and start year ... ask Register's support to delete the other". A
    withdrawn or awarded trainee more than 30 days from the linked one is another course, not its twin."""
    first = trainee(1)
    sync_files([str(write_extract(tmp_path / "a.csv", [{**first, **WITHDRAWN}]))], options(emulator, tmp_path))
    next_course = {**first, "itt_start_date": "2026-01-10", "trainee_start_date": "2026-01-10"}
    changed = {**_api_body(next_course), "first_names": "Changed", "email": "next.course@example.com"}
    added = _create_directly(emulator, changed)
    for night in ("b.csv", "c.csv"):
        result = sync_files([str(write_extract(tmp_path / night, [next_course]))], options(emulator, tmp_path))
        [only] = result.results
        assert only.plan.trainee_id == added["trainee_id"] and result.exit_code == 0, result.summary_line()
        assert only.plan.twins_note is None, only.plan.twins_note
    assert only.plan.action == "unchanged"


def test_a_deferred_earlier_courses_link_is_not_followed_past_a_trainee_at_the_records_start(emulator, tmp_path):
    """review72 M3: the earlier course deferred (not withdrawn) and linked, the next course added in Register at the
    record's start: the next course's record was written over the deferred trainee, and the one at its start left
    without a word. The record may be the deferred course's, back from its deferral: a conflict that says so."""
    deferred = {**started_in(2025, trainee(1)), "defer_date": "2026-03-01", "defer_reason": "Illness"}
    sync_files([str(write_extract(tmp_path / "a.csv", [deferred]))], options(emulator, tmp_path))
    [earlier] = held(emulator)
    assert earlier["state"] == "deferred"
    next_course = started_in(2026, trainee(1))
    added = _create_directly(emulator, {**_api_body(next_course), "email": "added.in.register@example.com"})
    result = sync_files([str(write_extract(tmp_path / "b.csv", [next_course]))], options(emulator, tmp_path))
    [only] = result.results
    assert only.plan.action == "conflict" and result.exit_code == 1, result.summary_line()
    reason = only.plan.reason or ""
    assert f"Only trainee {added['trainee_id']} starts within 30 days of this record's ITT start, but " in reason
    assert f"but trainee {earlier['trainee_id']} is neither withdrawn nor awarded, and further off" in reason
    [still] = held(emulator)
    assert (still["itt_start_date"], still["state"]) == ("2025-09-01", "deferred")


def test_a_held_record_is_linked_in_the_ledger_and_found_through_it_after_its_start_moved_two_years(emulator, tmp_path):
    """A record first seen by this state dir as held (its trainee withdrawn in Register, synced before from
    another state dir; review206 F1): nothing is written, but the ledger links the record to its trainee. When the
    record's start then moves two years (beyond the years either side the run lists), the trainee is found through
    that link, not created a second time (Register's duplicate check compares start years, §4)."""
    mine = trainee(1)
    sync_files([str(write_extract(tmp_path / "in.csv", [mine]))], options(emulator, tmp_path, state_dir=tmp_path / "a"))
    [held_once] = held(emulator)
    _withdraw_directly(emulator, held_once["trainee_id"])
    here = options(emulator, tmp_path, state_dir=tmp_path / "b")
    changed = {**mine, "email": "after.withdrawal@example.com"}
    blocked = sync_files([str(write_extract(tmp_path / "in.csv", [changed]))], here)
    assert blocked.actions == Counter(held=1), blocked.summary_line()
    moved = sync_files([str(write_extract(tmp_path / "in.csv", [started_in(2027, changed)]))], here)
    assert moved.actions == Counter(blocked=1), moved.summary_line()
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 1


def test_a_trainee_withdrawn_in_register_while_the_run_was_going_is_blocked_not_failed(
    emulator, tmp_path, closed_at_end
):
    """Someone withdrew the trainee in Register's service after the run listed it: the planned update meets Register's
    422 StateTransitionError (§6). Nothing can change the trainee through the API, so the record is reported blocked
    (a warning, as for a trainee listed withdrawn), not failed as if the record were wrong."""
    sync_files([str(extract(tmp_path / "in.csv", 1))], options(emulator, tmp_path))

    class WithdrawnMeanwhile(RegisterClient):
        def update_trainee(self, trainee_id, data):
            _withdraw_directly(emulator, trainee_id)
            return super().update_trainee(trainee_id, data)

    client = WithdrawnMeanwhile(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    renamed = {**trainee(1), "last_name": "Renamed"}
    result = sync_files([str(write_extract(tmp_path / "b.csv", [renamed]))], options(emulator, tmp_path), client=client)
    [only] = result.results
    assert (only.plan.action, only.outcome, only.http_status) == ("blocked", "blocked", 422), result.summary_line()
    assert result.exit_code == 1 and "1 blocked" in result.summary_line()
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert [(i["code"], i["severity"]) for i in report["issues"]] == [("sync_blocked", "warning")]


def _post_directly(emulator, trainee_id: str, route: str, body: dict, status: int = 200) -> None:
    """Someone else's change in Register (as in its web service): a POST to the trainee's `route`, not the run's."""
    response = httpx.post(
        f"{emulator.api_url}/trainees/{trainee_id}/{route}",
        json={"data": body},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == status, response.text


DEFERRAL = {"defer_date": "2026-03-01", "defer_reason": "Illness"}


@pytest.mark.parametrize(
    ("kind", "made", "columns", "state"),
    [
        (
            "withdraw",
            {"withdrawal_date": "2026-02-01", "reasons": ["did_not_make_progress"], "trigger": "trainee",
             "future_interest": "no"},  # as the record says (one held otherwise: test_state_changed_meanwhile.py)
            WITHDRAWN,
            "withdrawn",
        ),
        ("defer", DEFERRAL, DEFERRAL, "deferred"),  # the record's columns are the deferral's body
    ],
    ids=["withdrawal", "deferral"],
)  # fmt: skip
def test_a_withdrawal_or_deferral_someone_made_in_register_while_the_run_was_going_is_done_not_blocked(
    emulator, tmp_path, kind, made, columns, state, closed_at_end
):
    """The run's withdrawal (or deferral) meets Register's 422 (not from this state, §6) because someone withdrew
    (or deferred) the trainee in Register's service after the run listed it: Register holds what the record says, so
    the record is done."""
    sync_files([str(extract(tmp_path / "in.csv", 1))], options(emulator, tmp_path))

    def someone_else_first(self, trainee_id, data):
        _post_directly(emulator, trainee_id, kind, made)
        return getattr(RegisterClient, kind)(self, trainee_id, data)

    client = type("MadeMeanwhile", (RegisterClient,), {kind: someone_else_first})(
        emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)
    )
    closed_at_end(client)
    row = {**trainee(1), **columns}
    result = sync_files([str(write_extract(tmp_path / "b.csv", [row]))], options(emulator, tmp_path), client=client)
    assert result.exit_code == 0 and result.outcomes == Counter(done=1), result.summary_line()
    assert [t["state"] for t in held(emulator)] == [state]


def test_a_withdrawal_register_refuses_for_its_values_fails_with_registers_message(emulator, tmp_path):
    """A 422 that is not a state transition (Register found something wrong with the withdrawal): the record failed,
    with Register's messages (in results.csv, one cell), not blocked (nothing to do in Register) nor done."""
    sync_files([str(extract(tmp_path / "in.csv", 1))], options(emulator, tmp_path))
    messages = ["withdrawal_date is invalid", "withdrawal_reasons is invalid"]
    refusal = json.dumps({"message": "Validation failed", "errors": messages}).encode()

    def refused(seen, forward):
        if seen.method == "POST" and seen.path.endswith("/withdraw"):
            return 422, {"Content-Type": "application/json"}, refusal
        return None

    leaving = {**trainee(1), **WITHDRAWN}
    with fronting(emulator.url, refused) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        result = sync_files([str(write_extract(tmp_path / "b.csv", [leaving]))], fronted)
    [only] = result.results
    assert (only.plan.action, only.outcome, only.http_status) == ("withdraw", "failed", 422), result.summary_line()
    assert any("withdrawal_date is invalid" in error for error in only.errors) and result.exit_code == 1
    assert result.summary_line().startswith("1 record: 1 failed. ")
    assert [t["state"] for t in held(emulator)] != ["withdrawn"]
    with (tmp_path / "reports" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        [written] = list(csv.DictReader(fh))
    assert written["errors"] == "; ".join(only.errors) and len(only.errors) == 2


def test_a_withdrawal_whose_connection_was_cut_before_register_read_it_is_sent_again_once(
    emulator, tmp_path, closed_at_end
):
    """No answer, and Register did not carry it out: the trainee's state says so, and the withdrawal is sent again."""
    sync_files([str(extract(tmp_path / "in.csv", 1))], options(emulator, tmp_path))
    client, calls = cutting_the_first(emulator, "withdraw")
    closed_at_end(client)
    leaving = {**trainee(1), **WITHDRAWN}
    result = sync_files([str(write_extract(tmp_path / "b.csv", [leaving]))], options(emulator, tmp_path), client=client)
    assert result.exit_code == 0 and result.outcomes == Counter(done=1), result.summary_line()
    assert len(calls) == 2 and [t["state"] for t in held(emulator)] == ["withdrawn"]


def cutting_the_first(emulator, method: str) -> tuple[RegisterClient, list]:
    """A client (with no retries of its own) whose first call of `method` has its connection cut before Register reads
    it (the emulator's reset fault), and the list of that method's calls."""
    calls: list = []

    def cut(self, *args):
        calls.append(args)
        emulator.set_faults("reset:1.0" if len(calls) == 1 else None)
        try:
            return getattr(RegisterClient, method)(self, *args)
        finally:
            emulator.set_faults(None)

    client_class = type("CutOnce", (RegisterClient,), {method: cut})
    return client_class(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1), calls


def test_a_degree_whose_connection_was_cut_before_register_read_it_is_sent_again_once(
    emulator, tmp_path, closed_at_end
):
    """No answer, and Register did not add it: the trainee's degrees (another one only) say so, and the degree is
    sent again, once; the record is not reported done with its degree missing."""
    mine = trainee(1)
    there = _api_body(mine)
    there["degrees_attributes"][0]["subject"] = "100302"  # another degree: the record's is still to add
    _create_directly(emulator, there)
    client, calls = cutting_the_first(emulator, "add_degree")
    closed_at_end(client)
    result = sync_files([str(write_extract(tmp_path / "in.csv", [mine]))], options(emulator, tmp_path), client=client)
    assert result.exit_code == 0 and result.outcomes == Counter(done=1), result.summary_line()
    [now] = held(emulator)
    assert len(calls) == 2 and sorted(d["subject"] for d in now["degrees"]) == ["100302", "100485"]


def test_a_wrong_token_stops_after_one_request_with_exit_2(emulator, tmp_path):
    source = extract(tmp_path / "in.csv", 5)
    before = stats(emulator)["requests"]["total"]
    env = {**os.environ, "REGISTER_API_TOKEN": "wrong-token"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "register_batch",
            "sync",
            str(source),
            "--target",
            emulator.url,
            "--state-dir",
            str(tmp_path / "state"),
            "--as-of",
            AS_OF.isoformat(),
            "--report-dir",
            str(tmp_path / "r"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert stats(emulator)["requests"]["total"] - before == 1
    assert "wrong-token" not in result.stdout + result.stderr
    assert "401" in result.stderr and "Traceback" not in result.stderr
    # Refused at the first listing: nothing was planned, so no report says what happened to the records; the ledger's
    # runs table says why the run stopped.
    assert not (tmp_path / "r" / "report.json").exists()
    with closing(sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")) as db:
        [(status,)] = db.execute("SELECT status FROM runs").fetchall()
    assert status == "stopped"


def test_dry_run_plans_and_reports_drift_without_writing(emulator, tmp_path):
    source = extract(tmp_path / "in.csv", 4)
    sync_files([str(source)], options(emulator, tmp_path))
    rows = [trainee(n) for n in range(1, 6)]
    rows[0]["last_name"] = "Renamed"
    writes_before = {k: v for k, v in stats(emulator)["requests"]["by_route"].items() if not k.startswith("GET")}
    result = sync_files([str(write_extract(tmp_path / "next.csv", rows))], options(emulator, tmp_path, dry_run=True))
    assert result.actions == Counter(unchanged=3, update=1, create=1)
    assert {(r.plan.action, r.outcome) for r in result.results} == {
        ("unchanged", "done"),
        ("update", "planned"),
        ("create", "planned"),
    }
    update = next(r for r in result.results if r.plan.action == "update")
    assert update.plan.changes == [{"field": "last_name", "register": "Smith1", "source": "Renamed"}]
    writes_after = {k: v for k, v in stats(emulator)["requests"]["by_route"].items() if not k.startswith("GET")}
    assert writes_after == writes_before


def test_a_dry_run_gives_an_unchanged_record_the_outcome_a_real_run_gives_it(emulator, tmp_path):
    """review114 F6: a dry run's unchanged records were `skipped`, which results.csv, report.json and report.html
    keep for a record held back (invalid, conflict, blocked): a script flagging `skipped` took them for problems."""
    import lxml.html

    sync_files([str(extract(tmp_path / "in.csv", 3))], options(emulator, tmp_path))
    rows = [trainee(n) for n in range(1, 4)]
    rows[0]["last_name"] = "Renamed"
    rows[1]["sex"] = "7"  # invalid
    night = write_extract(tmp_path / "night.csv", rows)
    reports = tmp_path / "dry"
    dry = sync_files([str(night)], options(emulator, tmp_path, dry_run=True, report_dir=reports))
    expected = [("update", "planned"), ("invalid", "skipped"), ("unchanged", "done")]
    assert [(r.plan.action, r.outcome) for r in dry.results] == expected
    with (reports / "results.csv").open(encoding="utf-8", newline="") as fh:
        assert [(row["action"], row["outcome"]) for row in csv.DictReader(fh)] == expected
    report = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    assert report["sync"]["outcomes"] == {"planned": 1, "skipped": 1, "done": 1}
    doc = lxml.html.fromstring((reports / "report.html").read_bytes())
    cards = {
        li.get("data-count"): " ".join(li.text_content().split()) for li in doc.xpath('//ul[@data-group="outcomes"]/li')
    }
    assert (cards["done"], cards["skipped"], cards["planned"]) == ("1 Nothing to send", "1 Skipped", "1 Planned")
    [cell] = doc.xpath('//table[@id="record-table"]//tr[@data-action="unchanged"]/td[@data-label="Outcome"]')
    assert " ".join(cell.text_content().split()) == "nothing to send"
    # the real run: the same outcome for the unchanged record
    real = sync_files([str(night)], options(emulator, tmp_path, report_dir=tmp_path / "real"))
    assert [(r.plan.action, r.outcome) for r in real.results] == [
        ("update", "done"),
        ("invalid", "skipped"),
        ("unchanged", "done"),
    ]


def test_a_state_dir_a_dry_run_alone_used_goes_to_the_target_of_the_next_sync(emulator, tmp_path, caplog):
    """review114 F4: a dry run against one target (the embedded emulator, --target forgotten) bound the state dir
    the docs name for production to it, and production's runs were refused. A dry run writes no trainee id: the next
    sync binds the state dir to its own target; once that wrote, the first target is refused."""
    source = extract(tmp_path / "in.csv", 2)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=8) as other:
        tried = sync_files([str(source)], options(other, tmp_path, dry_run=True))
        assert tried.actions == Counter(create=2)
        synced = sync_files([str(source)], options(emulator, tmp_path))
        assert synced.actions == Counter(create=2) and synced.exit_code == 0
        assert f"it is now bound to {emulator.url}" in caplog.text
        assert len(held(emulator)) == 2
        with pytest.raises(ConfigError, match=f"belongs to target {re.escape(emulator.url)}"):
            sync_files([str(source)], options(other, tmp_path, dry_run=True))


def test_withdrawals_and_deferrals_from_their_columns(emulator, tmp_path):
    rows = [trainee(n) for n in range(1, 4)]
    rows[0].update(
        withdrawal_date="2026-02-01",
        withdrawal_reasons="did_not_make_progress",
        withdrawal_trigger="trainee",
        withdrawal_future_interest="no",
    )
    rows[1].update(defer_date="2026-03-01", defer_reason="Illness")
    result = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert result.exit_code == 0, result.outcomes
    states = {t["hesa_id"]: t["state"] for t in held(emulator)}
    assert states[rows[0]["hesa_id"]] == "withdrawn"
    assert states[rows[1]["hesa_id"]] == "deferred"
    again = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert again.actions == Counter(unchanged=3)


def _create_directly(emulator, body: dict) -> dict:
    created = httpx.post(
        f"{emulator.api_url}/trainees", json={"data": body}, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert created.status_code == 201, created.text
    return created.json()["data"]


def _withdraw_directly(emulator, trainee_id: str) -> None:
    """Someone withdraws the trainee in Register's service (not the run)."""
    body = {"withdrawal_date": "2026-01-10", "reasons": ["did_not_make_progress"], "trigger": "trainee"}
    response = httpx.post(
        f"{emulator.api_url}/trainees/{trainee_id}/withdraw",
        json={"data": {**body, "future_interest": "no"}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200, response.text


def _api_body(row: dict) -> dict:
    body = {k: v for k, v in row.items() if not k.startswith(("placement_", "degree_", "uk_degree", "awarding"))}
    body["degrees_attributes"] = [
        {"uk_degree": "083", "subject": "100485", "grade": "01", "graduation_year": "2006", "institution": "0117"}
    ]
    return body


def _set_state(emulator, trainee_id: str, state: str) -> None:
    """Register's side changed by hand: the emulator makes no drafts (docs/emulator.md), Register's own service does
    (a trainee started there, or from Apply) and submits them."""
    with emulator.store.transaction():
        emulator.store._db.execute("UPDATE trainees SET state = ? WHERE slug = ?", (state, trainee_id))


def test_a_trainee_register_holds_as_a_draft_is_a_conflict_until_submitted_there_never_written_or_done(
    emulator, tmp_path
):
    """Register's duplicate rule takes a draft for the record's person (§4), and only the UI submits a draft (§6).
    The 409 was adopted: the draft was written to and stayed a draft, each report saying done and exit 0. A ledger
    linking the record to the draft (made so) is not followed either. Submitted in Register, it is synced."""
    mine, other = trainee(1), trainee(2)
    sync_files(
        [str(write_extract(tmp_path / "in.csv", [mine]))], options(emulator, tmp_path, state_dir=tmp_path / "old")
    )
    [draft] = held(emulator)
    _set_state(emulator, draft["trainee_id"], "draft")
    mine["email"] = "changed.since@example.org"  # a write the adopted draft was given
    source = str(write_extract(tmp_path / "in.csv", [mine, other]))

    for state_dir in (tmp_path / "new", tmp_path / "old"):  # no ledger, and one linking the record to the draft
        before = stats(emulator)["requests"]["by_route"]
        result = sync_files([source], options(emulator, tmp_path, state_dir=state_dir))
        first = result.results[0]
        assert (first.plan.action, first.outcome) == ("conflict", "conflict"), state_dir
        assert result.exit_code == 1, result.summary_line()
        [message] = result.results[0].errors
        assert message.startswith(f"Register holds trainee {draft['trainee_id']} as a draft (started in Register"), (
            message
        )
        assert "Submit the draft in Register" in message
        after = stats(emulator)["requests"]["by_route"]
        assert after.get("PUT /trainees/{trainee_id}") == before.get("PUT /trainees/{trainee_id}"), after
    assert (
        httpx.get(
            f"{emulator.api_url}/trainees/{draft['trainee_id']}", headers={"Authorization": f"Bearer {TOKEN}"}
        ).json()["email"]
        == trainee(1)["email"]
    )

    _set_state(emulator, draft["trainee_id"], "submitted_for_trn")  # submitted in Register
    submitted = sync_files([source], options(emulator, tmp_path, state_dir=tmp_path / "old"))
    assert submitted.exit_code == 0, submitted.summary_line()
    first = submitted.results[0]
    assert (first.plan.action, first.plan.trainee_id) == ("update", draft["trainee_id"])
    assert len(held(emulator)) == 2


def test_a_linked_trainee_register_no_longer_returns_is_a_conflict_not_created_again(emulator, tmp_path):
    """The ledger links the record to a trainee Register no longer returns (removed for good, here hidden by a front
    that answers as Register would then: 404, and not listed): the record is a conflict for people to check, not a
    create of the same person again."""
    mine = trainee(1)
    sync_files([str(write_extract(tmp_path / "in.csv", [mine]))], options(emulator, tmp_path))
    [gone] = held(emulator)

    def deleted(seen, forward):
        if seen.method == "GET" and seen.path.endswith(f"/trainees/{gone['trainee_id']}"):
            return 404, {"Content-Type": "application/json"}, b'{"errors":[{"error":"NotFound"}]}'
        if seen.method == "GET" and seen.path.endswith("/trainees"):
            status, headers, body = forward()
            listing = json.loads(body)
            listing["data"] = [t for t in listing["data"] if t["trainee_id"] != gone["trainee_id"]]
            if not listing["data"]:  # Register's empty page (§2.3)
                return (
                    404,
                    {"Content-Type": "application/json"},
                    b'{"errors":[{"error":"NotFound","message":"No trainees found"}]}',
                )
            return status, headers, json.dumps(listing).encode()
        return None

    with fronting(emulator.url, deleted) as front:
        result = sync_files(
            [str(write_extract(tmp_path / "in.csv", [mine]))],
            options(emulator, tmp_path, target=front.url, target_identity=emulator.url),
        )
    [only] = result.results
    assert (only.plan.action, only.plan.trainee_id) == ("conflict", gone["trainee_id"]), result.summary_line()
    assert "which Register no longer returns" in only.plan.reason
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 1


class _Listings(RegisterClient):
    """A client that notes the academic cycle and `since` of each listing page it asks for."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.asked: list[tuple[object, object]] = []

    def list_trainees(self, **params):
        self.asked.append((params.get("academic_cycle"), params.get("since")))
        return super().list_trainees(**params)


@pytest.mark.parametrize("deleted_ago", [0.0, 300.0], ids=["just now", "before the run"])
def test_a_trainee_deleted_in_register_is_a_conflict_that_names_it_told_by_the_fewest_listings(tmp_path, deleted_ago):
    """Deleted in Register's service, a trainee is listed no more (§2.3) but still shown by its id (§2.4). Deleted a
    while before the run listed its cycle, the listing tells it at no extra cost; deleted moments before (its change
    perhaps not yet in the listing's view), one listing of its cycle since that change tells it. Either way the
    record is a conflict naming it, every night, and no create is sent."""
    behind = [deleted_ago]
    with start_emulator(
        tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7, clock=lambda: time.time() - behind[0]
    ) as emulator:
        source = str(extract(tmp_path / "in.csv", 3))
        sync_files([source], options(emulator, tmp_path))
        gone = held(emulator)[1]
        assert emulator.discard_trainee(gone["trainee_id"])
        behind[0] = 0.0
        for _night in range(2):
            with _Listings(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
                result = sync_files([source], options(emulator, tmp_path), client=client)
            assert result.actions == Counter(unchanged=2, conflict=1) and result.exit_code == 1, result.summary_line()
            [conflict] = [r for r in result.results if r.plan.action == "conflict"]
            assert conflict.plan.trainee_id == gone["trainee_id"] and conflict.plan.hesa_id == gone["hesa_id"]
            assert (
                f"trainee {gone['trainee_id']}, which this record was synced to, was deleted in Register's service"
                in (conflict.plan.reason or "")
            )
            looked = [(cycle, since) for cycle, since in client.asked if since is not None]
            if deleted_ago:
                assert looked == []
            else:
                assert looked[0][0] == 2025 and listed_at(looked[0][1]) <= listed_at(
                    httpx.get(
                        f"{emulator.api_url}/trainees/{gone['trainee_id']}",
                        headers={"Authorization": f"Bearer {TOKEN}"},
                    ).json()["updated_at"]
                )
        assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 3
        assert len(held(emulator)) == 2


def test_two_trainees_deleted_in_register_just_before_the_run_are_told_by_one_listing_since_the_earlier(tmp_path):
    """Two trainees of one cycle deleted moments before the run (their changes perhaps not yet in its listing's view):
    one listing of the cycle since the earlier deletion tells both, and each record is a conflict naming its trainee.
    """
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7) as emulator:
        source = str(extract(tmp_path / "in.csv", 3))
        sync_files([source], options(emulator, tmp_path))
        first, _kept, last = held(emulator)
        for gone in (first, last):
            assert emulator.discard_trainee(gone["trainee_id"])
        with _Listings(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            result = sync_files([source], options(emulator, tmp_path), client=client)
        assert result.actions == Counter(unchanged=1, conflict=2), result.summary_line()
        conflicts = {r.plan.hesa_id: r.plan.trainee_id for r in result.results if r.plan.action == "conflict"}
        assert conflicts == {first["hesa_id"]: first["trainee_id"], last["hesa_id"]: last["trainee_id"]}
        changed = [
            listed_at(
                httpx.get(
                    f"{emulator.api_url}/trainees/{gone['trainee_id']}", headers={"Authorization": f"Bearer {TOKEN}"}
                ).json()["updated_at"]
            )
            for gone in (first, last)
        ]
        [(cycle, since)] = [(cycle, since) for cycle, since in client.asked if since is not None]
        assert cycle == 2025 and listed_at(since) == min(changed)
        assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 3


def test_a_linked_trainee_shown_without_a_change_time_is_taken_as_held_not_deleted(tmp_path):
    """A trainee whose start was moved to next year's cycle by hand is not in the run's listing; shown by its id
    without an `updated_at` (not Register's answer: a proxy's, an older release's), there is nothing to tell a
    deletion by. It is taken as held: the record updates it, as with Register's full answer, and the run goes on."""

    def without_change_time(seen, forward):
        status, headers, body = forward()
        if seen.method == "GET" and seen.path.rstrip("/").split("/")[-2:-1] == ["trainees"] and status == 200:
            shown = json.loads(body)
            (shown.get("data") if isinstance(shown.get("data"), dict) else shown).pop("updated_at", None)
            body = json.dumps(shown).encode()
        return status, headers, body

    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7) as emulator,
        fronting(emulator.url, without_change_time) as front,
    ):
        source = str(write_extract(tmp_path / "in.csv", [trainee(1)]))
        sync_files([source], options(emulator, tmp_path, target=front.url))
        [moved] = held(emulator)
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as hand:
            hand.update_trainee(
                moved["trainee_id"],
                {"trainee_start_date": "2026-09-01", "itt_start_date": "2026-09-01", "itt_end_date": "2027-07-31"},
            )
        result = sync_files([source], options(emulator, tmp_path, target=front.url))
        [record] = result.results
        assert (record.plan.action, record.plan.trainee_id) == ("update", moved["trainee_id"]), record.plan.reason
        assert result.exit_code == 0, result.summary_line()


def test_a_deleted_trainee_added_again_in_register_is_the_records_again(emulator, tmp_path):
    """Someone deleted the trainee and added them again in Register's service: the ledger's link to the deleted one is
    followed no further, and the record is matched to the new trainee (by its HUSID), which the ledger links from
    then on."""
    mine = trainee(1)
    source = str(write_extract(tmp_path / "in.csv", [mine]))
    sync_files([source], options(emulator, tmp_path))
    [gone] = held(emulator)
    assert emulator.discard_trainee(gone["trainee_id"])
    again = _create_directly(emulator, _api_body(mine))  # no 409: a deleted trainee is no duplicate (§4)
    for _night in range(2):
        result = sync_files([source], options(emulator, tmp_path))
        [only] = result.results
        assert only.plan.trainee_id == again["trainee_id"] and only.plan.action in ("update", "unchanged")
        assert result.exit_code == 0, result.summary_line()
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 2  # the run's first create, and the hand's


def test_a_linked_trainee_moved_into_a_listed_year_after_its_listing_is_not_taken_for_deleted(emulator, tmp_path):
    """The ledger's trainee was not in the listing of its record's year (its start was two years later in Register),
    and someone moved it back while the run went on: GET /trainees/{trainee_id} then shows it in the listed year,
    changed after the listing. The listing since that change has it: it is the record's trainee, not deleted."""
    mine = trainee(1)
    source = str(write_extract(tmp_path / "in.csv", [mine]))
    sync_files([source], options(emulator, tmp_path))
    [synced] = held(emulator)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{emulator.api_url}/trainees/{synced['trainee_id']}"

    def start_in(year: int) -> None:
        dates = {k: started_in(year, mine)[k] for k in ("itt_start_date", "trainee_start_date", "itt_end_date")}
        answer = httpx.put(url, json={"data": dates}, headers=auth)
        assert answer.status_code == 200, answer.text

    start_in(2027)

    class MovedBack(RegisterClient):
        def get_trainee(self, trainee_id):
            start_in(2025)  # after the run listed 2025
            return super().get_trainee(trainee_id)

    with MovedBack(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        result = sync_files([source], options(emulator, tmp_path), client=client)
    [only] = result.results
    assert (only.plan.action, only.plan.trainee_id) != ("conflict", synced["trainee_id"]), only.plan.reason
    assert only.plan.trainee_id == synced["trainee_id"] and result.exit_code == 0, result.summary_line()
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 1


def test_the_same_person_under_another_husid_is_a_conflict_not_a_second_trainee(emulator, tmp_path):
    mine = trainee(1)
    other = _api_body(mine)
    other["hesa_id"] = "9999999999999"
    other.pop("provider_trainee_id")
    _create_directly(emulator, other)
    # Register's duplicate rule matches it, but its HUSID differs: reported, never guessed, nothing written.
    result = sync_files([str(write_extract(tmp_path / "in.csv", [mine]))], options(emulator, tmp_path))
    assert result.actions == Counter(conflict=1) and result.exit_code == 1
    assert "duplicate rule" in result.results[0].plan.reason
    assert stats(emulator)["trainees"] == 1


def test_a_trainee_found_by_its_srs_id_gets_its_new_husid(emulator, tmp_path):
    mine = trainee(1)
    earlier = _api_body(mine)
    earlier["hesa_id"] = "9999999999999"
    created = _create_directly(emulator, earlier)
    result = sync_files([str(write_extract(tmp_path / "in.csv", [mine]))], options(emulator, tmp_path))
    [only] = result.results
    assert (only.plan.action, only.plan.matched_by, only.plan.trainee_id) == (
        "update",
        "provider_trainee_id",
        created["trainee_id"],
    )
    assert [t["hesa_id"] for t in held(emulator)] == [mine["hesa_id"]]


@pytest.mark.parametrize(
    ("change", "route", "state"),
    [
        (
            WITHDRAWN,
            "POST /trainees/{trainee_id}/withdraw",
            "withdrawn",
        ),
        ({"defer_date": "2026-03-01", "defer_reason": "Illness"}, "POST /trainees/{trainee_id}/defer", "deferred"),
    ],
)
def test_a_withdrawal_or_deferral_whose_reply_was_lost_is_found_done_not_sent_again(
    emulator, tmp_path, change, route, state
):
    """Register carried the state change out and the reply was lost: the trainee's state says so, and the record is
    done. Sent again, it would meet Register's 422 (not from this state) and be reported blocked."""
    sync_files([str(extract(tmp_path / "a.csv", 1))], options(emulator, tmp_path))
    emulator.set_faults("lost-response:1.0")
    result = sync_files(
        [str(write_extract(tmp_path / "b.csv", [{**trainee(1), **change}]))], options(emulator, tmp_path)
    )
    emulator.set_faults(None)
    assert result.exit_code == 0 and result.outcomes == Counter(done=1), result.summary_line()
    assert stats(emulator)["requests"]["by_route"][route] == 1
    assert [t["state"] for t in held(emulator)] == [state]


def test_a_degree_and_placements_whose_replies_were_lost_are_found_added_not_sent_again(emulator, tmp_path):
    """Register added them and the replies were lost: its lists of the trainee's degrees and placements say so, and
    the record is done. Register has no duplicate check for placements, so one sent again would be held twice."""
    mine = trainee(1)
    there = _api_body(mine)
    there["degrees_attributes"][0]["subject"] = "100302"  # another degree: the record's is still to add
    created = _create_directly(emulator, there)
    emulator.set_faults("lost-response:1.0")
    result = sync_files([str(write_extract(tmp_path / "in.csv", [mine]))], options(emulator, tmp_path))
    emulator.set_faults(None)
    assert [step.kind for step in result.results[0].plan.steps] == ["add_degree", "add_placement", "add_placement"]
    assert result.exit_code == 0 and result.outcomes == Counter(done=1), result.summary_line()
    routes = stats(emulator)["requests"]["by_route"]
    assert (routes["POST /trainees/{trainee_id}/degrees"], routes["POST /trainees/{trainee_id}/placements"]) == (1, 2)
    [now] = held(emulator)
    assert now["trainee_id"] == created["trainee_id"]
    assert sorted(d["subject"] for d in now["degrees"]) == ["100302", "100485"]
    assert sorted(p["urn"] for p in now["placements"]) == ["100001", "900020"]


@pytest.mark.parametrize(
    ("institution", "outcome", "held_degrees"),
    [("0117", "done", 2), ("0118", "failed", 2)],
    ids=["the-same-degree", "a-duplicate-by-registers-rule"],
)
def test_a_degree_register_answers_409_for_is_done_only_when_register_holds_that_very_degree(
    emulator, tmp_path, institution, outcome, held_degrees, closed_at_end
):
    """Between the plan and the send, the degree the record adds appears in Register (a resend after a lost reply, or
    someone adding it by hand): Register answers 409. The record is done when Register now holds this very degree;
    a degree that is only a duplicate by Register's rule (§3.7: here another awarding institution) leaves the
    record's degree missing, so the record failed with Register's message, never reported done."""
    mine = trainee(1)
    there = _api_body(mine)
    there["degrees_attributes"][0]["subject"] = "100302"  # another degree: the record's is still to add
    created = _create_directly(emulator, there)
    degree = {**_api_body(mine)["degrees_attributes"][0], "grade": mine["degree_grade"], "institution": institution}

    class AddedMeanwhile(RegisterClient):
        def add_degree(self, trainee_id, data):
            _post_directly(emulator, trainee_id, "degrees", degree, status=201)
            return super().add_degree(trainee_id, data)

    client = AddedMeanwhile(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    result = sync_files([str(write_extract(tmp_path / "in.csv", [mine]))], options(emulator, tmp_path), client=client)
    [only] = result.results
    assert [step.kind for step in only.plan.steps][:1] == ["add_degree"]
    assert only.outcome == outcome, result.summary_line()
    assert ("This is a duplicate degree" in " ".join(only.errors)) is (outcome == "failed")
    [now] = held(emulator)
    assert now["trainee_id"] == created["trainee_id"] and len(now["degrees"]) == held_degrees


def test_a_look_up_register_refuses_after_a_lost_create_stops_the_run_with_a_report_and_the_next_run_finds_it(
    emulator, tmp_path
):
    """The create went through, its reply was lost, and the listing that looks for it was refused (a 422 that is not
    "no such cycle"). What became of the create is unknown: the run stops there as for an outage (exit 3, a report,
    the record unknown), not with a bare error line and no report; the next run looks again and creates no one, and
    says the create went through (it was `unchanged` there and `unknown` before, so no report counted it)."""

    def refuse_the_look_up(seen, forward):
        if seen.method == "GET" and "since" in seen.query:
            return 422, {"Content-Type": "application/json"}, b'{"errors":{"since":["is invalid"]}}'
        return None

    source = str(extract(tmp_path / "in.csv", 2))
    emulator.set_faults("lost-response:1.0")
    with fronting(emulator.url, refuse_the_look_up) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        with pytest.raises(Interrupted, match=r"Register refused \(GET /trainees -> 422: since is invalid\)") as ended:
            sync_files([source], fronted)
    emulator.set_faults(None)
    assert ended.value.result.outcomes == Counter(unknown=1, pending=1)
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert [r["outcome"] for r in report["records"]] == ["unknown", "pending"]
    again = sync_files([source], options(emulator, tmp_path))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=1, create=1), again.summary_line()
    assert len(held(emulator)) == 2 and stats(emulator)["requests"]["by_route"]["POST /trainees"] == 2
    assert again.results[0].warnings() == [
        (
            "sync_written_earlier",
            "written to Register (create) by sync run 1, whose report has the record as unknown (the answer was "
            "lost): Register holds the record as the extract says",
        )
    ]
    assert "(1 sync_written_earlier)" in again.summary_line()


def test_a_create_whose_reply_was_lost_is_found_not_sent_again(emulator, tmp_path, open_ledger):
    source = extract(tmp_path / "in.csv", 1)
    emulator.set_faults("lost-response:1.0")
    result = sync_files([str(source)], options(emulator, tmp_path))
    emulator.set_faults(None)
    assert result.exit_code == 0 and result.outcomes == Counter(done=1)
    assert result.results[0].plan.matched_by == "listing after an unknown create"
    # This run created it (only the reply was lost): reported as created, not as a trainee already there.
    assert result.actions == Counter(create=1) and result.summary_line().startswith("1 record: 1 created.")
    routes = stats(emulator)["requests"]["by_route"]
    # the plan's listings (the start year and the years either side) + one look-up after the lost reply
    assert routes["POST /trainees"] == 1 and routes["GET /trainees"] == 4
    assert len(held(emulator)) == 1
    [entry] = open_ledger(tmp_path / "state", emulator.url).all()
    assert entry.status == "done" and entry.trainee_id == held(emulator)[0]["trainee_id"]


def test_a_create_whose_reply_was_lost_is_found_after_an_hour_of_suspend(
    emulator, tmp_path, monkeypatch, closed_at_end
):
    """A laptop suspended mid-request (or long retries) puts an hour between the create and the look-up for it: the
    look-up lists from when the create was sent, so it finds the trainee rather than leaning on Register's 409."""
    source = extract(tmp_path / "in.csv", 1)
    from register_batch.sync import runner

    def an_hour_later():
        later = runner.utc_now() + timedelta(hours=1)
        monkeypatch.setattr(runner, "utc_now", lambda: later)

    client = create_answers_lost(emulator, TOKEN, then=an_hour_later)
    closed_at_end(client)
    result = sync_files([str(source)], options(emulator, tmp_path), client=client)
    assert result.exit_code == 0 and result.results[0].plan.matched_by == "listing after an unknown create"
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 1 and len(held(emulator)) == 1


def test_the_look_up_for_a_create_whose_reply_was_lost_reads_the_newest_first(emulator, tmp_path):
    """A migration creates a trainee every 0.6 s, so the 15 minutes the look-up lists (for clocks that differ) hold
    up to 1,500 of this run's creates. Listed oldest first, the one sought, created a moment ago, came last: every
    page of them was read first (3 to 6 requests at Register's pace for each lost reply). Newest first, it is on the
    first page."""
    rows = [trainee(n) for n in range(1, 42)]
    assert sync_files([str(write_extract(tmp_path / "a.csv", rows[:40]))], options(emulator, tmp_path)).exit_code == 0
    looked_up: list[dict] = []  # the listings after the create was sent: the look-up's

    class AnswerLost(RegisterClient):
        def create_trainee(self, data):
            emulator.set_faults("lost-response:1.0")
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults(None)
                self.sent = True

        def list_trainees(self, **params):
            if getattr(self, "sent", False):
                looked_up.append(params)
            return super().list_trainees(**params)

    with AnswerLost(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        result = sync_files(
            [str(write_extract(tmp_path / "b.csv", rows))], options(emulator, tmp_path, per_page=10), client=client
        )
    assert result.exit_code == 0 and result.results[40].plan.matched_by == "listing after an unknown create"
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 41 and len(held(emulator)) == 41
    assert len(looked_up) == 1, looked_up  # one page of 10, not the 41 trainees created in the last 15 minutes


@pytest.mark.parametrize("dates", ["one cycle", "itt_start_date in the cycle before"])
def test_a_lost_create_whose_trainee_changes_while_the_look_up_reads_is_found_not_sent_again(
    tmp_path, monkeypatch, dates
):
    """Read newest first by offset, the look-up missed a trainee whose TRN arrived between two of its pages (it moved
    to the front, past the reader): the create was sent again, and with an itt_start_date in another cycle than the
    trainee's start date Register's 409 (§4, by the submitted itt_start_date's cycle) did not stop it: the trainee
    was created twice, exit 0 (found by review9). Register here: one trainee a page, TRNs arriving 100 s after each
    create, a clock moved by hand."""
    from register_batch.sync import runner

    now = [time.time()]
    monkeypatch.setattr(runner, "utc_now", lambda: datetime.fromtimestamp(now[0], UTC))
    first, lost = trainee(1), trainee(2)
    if dates != "one cycle":
        lost["itt_start_date"] = "2025-07-21"  # the cycle before its trainee_start_date's (2025-09-01)
    start, trn_delay = now[0], 100.0
    looked_up: list[tuple] = []

    class TraineesChangeWhileRead(RegisterClient):
        def create_trainee(self, data):
            if self.stats.by_route.get("POST /trainees", 0) == 0:
                now[0] = start
                return super().create_trainee(data)
            now[0] = start + 1
            emulator.set_faults("lost-response:1.0")
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults(None)
                self.lost = True

        def list_trainees(self, **params):
            if getattr(self, "lost", False):
                # The first page read after the first trainee's TRN arrived, every later one after the second's.
                now[0] = start + trn_delay + (0.5 if not looked_up else 2)
                items, meta = super().list_trainees(**params)
                looked_up.append((params.get("sort_order"), [item["hesa_id"] for item in items]))
                return items, meta
            return super().list_trainees(**params)

    emulator = start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=lambda: now[0], trn_delay=trn_delay)
    with emulator, TraineesChangeWhileRead(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        source = write_extract(tmp_path / "in.csv", [first, lost])
        result = sync_files([str(source)], options(emulator, tmp_path, per_page=1), client=client)
        assert result.exit_code == 0, result.summary_line()
        assert result.results[1].plan.matched_by == "listing after an unknown create", looked_up
        assert sorted(t["hesa_id"] for t in held(emulator)) == [first["hesa_id"], lost["hesa_id"]]
        assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 2
    assert looked_up[0] == ("desc", [first["hesa_id"]])  # the newest page: the first trainee, its TRN just arrived


@pytest.mark.parametrize("per_page", [1, 10], ids=["found by the listing oldest first", "found on the newest page"])
def test_a_lost_create_is_not_taken_for_another_person_given_its_husid_minutes_before(tmp_path, monkeypatch, per_page):
    """Someone gave another person the record's HUSID in Register (a typo there) five minutes before this run's
    create, whose answer was lost. Read oldest first, the look-up took the first trainee with that HUSID created in
    its window, the other person's, and the run wrote this record over it (found by review10). It is this person's
    (last name and date of birth) or none."""
    from register_batch.sync import runner

    now = [time.time()]
    monkeypatch.setattr(runner, "utc_now", lambda: datetime.fromtimestamp(now[0], UTC))
    start = now[0]
    mine, changed_later = trainee(1), trainee(2)
    someone_else = {**_api_body(mine), "first_names": "Someone", "last_name": "Else", "date_of_birth": "1990-01-01"}
    someone_else.pop("provider_trainee_id")
    theirs: dict = {}

    class AnswerLost(RegisterClient):
        def create_trainee(self, data):
            now[0] = start - 300
            theirs.update(_create_directly(emulator, someone_else))
            now[0] = start
            emulator.set_faults("lost-response:1.0")
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults(None)
                now[0] = start + 5  # a trainee changed after this one's create: the newest page of one is not it
                with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as direct:
                    direct.update_trainee(other_id, {"email": "changed@example.com"})
                now[0] = start + 10

    emulator = start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=lambda: now[0])
    with emulator, AnswerLost(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        now[0] = start - 3600
        other_id = _create_directly(emulator, _api_body(changed_later))["trainee_id"]
        now[0] = start - 1000
        source = write_extract(tmp_path / "in.csv", [mine])
        # The token's UKPRN given: a first run that only creates, into an account whose listed trainees are none of
        # its records, is otherwise refused as another provider's token would be (review212 F1).
        ukprn = held(emulator)[0]["ukprn"]
        result = sync_files([str(source)], options(emulator, tmp_path, per_page=per_page, ukprn=ukprn), client=client)
        [only] = result.results
        held_now = {t["trainee_id"]: t for t in held(emulator)}
    assert only.plan.trainee_id != theirs["trainee_id"], only.plan.matched_by
    assert held_now[theirs["trainee_id"]]["last_name"] == "Else"  # not written over
    assert held_now[only.plan.trainee_id]["last_name"] == mine["last_name"] and result.exit_code == 0


def _hour_into_a_first_load(monkeypatch, *, before_create):
    """An emulator on a clock moved by hand, this run's clock following it, and a client whose first create first
    calls `before_create(emulator, now)`: what happened in Register while a long first load was sending. The plan
    has listed Register by then, so a trainee the hook adds is one the plan did not see; the hook sets the clock back
    to add it "an hour before the create was sent" (Register's timestamps are what the look-up reads)."""
    from register_batch.sync import runner

    now = [time.time()]
    monkeypatch.setattr(runner, "utc_now", lambda: datetime.fromtimestamp(now[0], UTC))
    emulator = start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=lambda: now[0])

    class SomeoneWroteFirst(RegisterClient):
        def create_trainee(self, data):
            if self.stats.by_route.get("POST /trainees", 0) == 0:
                before_create(emulator, now)
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults(None)

    return emulator, SomeoneWroteFirst(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))


def _sync_one(emulator, client, tmp_path, row):
    """A sync of one record through `client` that must finish it: the run's result and the record's."""
    result = sync_files([str(write_extract(tmp_path / "in.csv", [row]))], options(emulator, tmp_path), client=client)
    [only] = result.results
    assert result.exit_code == 0 and only.outcome == "done", result.summary_line()
    return result, only


def test_a_409_after_a_lost_create_naming_a_trainee_there_before_is_not_reported_created(tmp_path, monkeypatch):
    """Someone added the trainee (in Register's own service) after the plan listed Register; an hour later this
    run's create met a reset: no reply. The look-up lists no trainee written since the create was sent, and the
    create sent again meets Register's 409 (§4) naming the trainee added an hour before: the unanswered create met
    the same 409 and created no one. It was reported "1 created"."""
    mine = trainee(1)

    def added_an_hour_before(emulator, now):
        now[0] -= 3600
        _create_directly(emulator, _api_body(mine))
        now[0] += 3600
        emulator.set_faults("reset:1.0")

    emulator, client = _hour_into_a_first_load(monkeypatch, before_create=added_an_hour_before)
    with emulator, client:
        result, only = _sync_one(emulator, client, tmp_path, mine)
        assert only.plan.matched_by == "409" and only.plan.action in ("update", "unchanged")
        assert "created" not in result.summary_line()
        assert [t["trainee_id"] for t in held(emulator)] == [only.plan.trainee_id]


def test_a_create_refused_unread_finds_the_trainee_someone_added_before_and_edited_since_without_sending_again(
    tmp_path, monkeypatch
):
    """Someone added the trainee (in Register's own service) an hour before this run's create, after the plan listed
    Register, and edited it in the minutes before the create met a reset (no reply, not carried out). The look-up
    lists it (written since), not as created since: it is the record's trainee by its HUSID, as the plan would have
    matched it, so the create is not sent again to lean on Register's 409."""
    mine = trainee(1)

    def added_an_hour_before_and_edited(emulator, now):
        now[0] -= 3600
        added = _create_directly(emulator, _api_body(mine))
        now[0] += 3600
        edited = httpx.put(
            f"{emulator.api_url}/trainees/{added['trainee_id']}",
            json={"data": {"email": "edited@example.com"}},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert edited.status_code == 200, edited.text
        emulator.set_faults("reset:1.0")

    emulator, client = _hour_into_a_first_load(monkeypatch, before_create=added_an_hour_before_and_edited)
    with emulator, client:
        result, only = _sync_one(emulator, client, tmp_path, mine)
        assert only.plan.matched_by == "hesa_id" and "created" not in result.summary_line()
        assert client.stats.by_route["POST /trainees"] == 1
        assert [t["trainee_id"] for t in held(emulator)] == [only.plan.trainee_id]


def test_a_lost_create_is_found_as_itself_not_as_an_older_trainee_with_its_husid(tmp_path, monkeypatch):
    """The look-up after a lost create lists the trainees Register wrote since shortly before it and took the first
    with the record's HUSID. A trainee added earlier under the same HUSID (another name: Register's 409 does not
    catch it) and edited in those minutes is listed first: the run adopted it, wrote the record over it, and left
    its own create unlinked, to be created again by the next run of a new state dir."""
    mine = trainee(1)
    earlier = {}

    def another_person_with_the_husid(emulator, now):
        other = {**_api_body(mine), "first_names": "Someone", "last_name": "Else", "date_of_birth": "1990-01-01"}
        other.pop("provider_trainee_id")
        now[0] -= 3600
        earlier.update(_create_directly(emulator, other))
        now[0] += 3600
        edited = httpx.put(
            f"{emulator.api_url}/trainees/{earlier['trainee_id']}",
            json={"data": {"email": "someone.else@example.com"}},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert edited.status_code == 200, edited.text
        now[0] += 1
        emulator.set_faults("lost-response:1.0")

    emulator, client = _hour_into_a_first_load(monkeypatch, before_create=another_person_with_the_husid)
    with emulator, client:
        _, only = _sync_one(emulator, client, tmp_path, mine)
        assert only.plan.matched_by == "listing after an unknown create" and only.plan.action == "create"
        assert only.plan.trainee_id != earlier["trainee_id"]
        by_id = {t["trainee_id"]: t for t in held(emulator)}
        assert by_id[earlier["trainee_id"]]["last_name"] == "Else"  # not written over
        assert by_id[only.plan.trainee_id]["last_name"] == mine["last_name"]


def test_a_token_revoked_mid_run_stops_at_once_with_exit_2_and_a_report(emulator, tmp_path, closed_at_end):
    source = extract(tmp_path / "in.csv", 20)
    done = []

    class Revoking(RegisterClient):
        def create_trainee(self, data):
            if len(done) == 5:  # revoke the provider's token in the emulator's own store
                with emulator.store._lock:
                    emulator.store._db.execute("UPDATE providers SET token_hash = 'revoked'")
            created = super().create_trainee(data)
            done.append(created)
            return created

    client = Revoking(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(Unauthorized) as refused:
        sync_files([str(source)], options(emulator, tmp_path), client=client)
    # The error says what the run did and where its report is, as a stopped run's does, and carries its result.
    said = str(refused.value)
    assert said.startswith("POST /trainees -> 401: Unauthorized; Register refused the API token"), said
    assert "; interrupted; 20 records: 5 created; 15 not reached." in said, said
    assert said.endswith(f"(report: {tmp_path / 'reports' / 'report.html'})"), said
    assert refused.value.result is not None and refused.value.result.outcomes == Counter(done=5, pending=15)
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    outcomes = Counter(r["outcome"] for r in report["records"])
    assert outcomes["done"] == 5 and report["sync"]["interrupted"] is True
    assert report["sync"]["stopped"] == {"by": "token", "message": said.split("; interrupted; ")[0]}
    assert stats(emulator)["requests"]["by_status"]["401"] == 1


def test_a_token_revoked_after_the_plan_and_before_any_write_stops_with_exit_2_and_no_report(
    emulator, tmp_path, closed_at_end
):
    """Refused at the first write: nothing was done, so the run ends as a wrong token does (exit 2, one line), with
    no report of 20 records all 'not reached' to read."""
    source = extract(tmp_path / "in.csv", 20)

    class RevokedBeforeWriting(RegisterClient):
        def create_trainee(self, data):
            with emulator.store._lock:
                emulator.store._db.execute("UPDATE providers SET token_hash = 'revoked'")
            return super().create_trainee(data)

    client = RevokedBeforeWriting(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(Unauthorized):
        sync_files([str(source)], options(emulator, tmp_path), client=client)
    assert not (tmp_path / "reports" / "report.json").exists()
    by_status = stats(emulator)["requests"]["by_status"]
    assert by_status["401"] == 1 and "201" not in by_status  # the create refused, nobody created


def test_a_token_refused_while_an_unanswered_first_create_is_looked_up_says_so_and_the_next_run_finds_it(
    emulator, tmp_path, closed_at_end
):
    """The first create's answer is lost, and the look-up that follows is refused (the token revoked meanwhile): the
    create went out, so the run does not end as a wrong token does ("nothing was sent", no report). Its record is
    unknown in the report, and the next run, with a token Register accepts, finds the trainee and creates no one."""
    source = extract(tmp_path / "in.csv", 3)
    with emulator.store._lock:
        [(token_hash,)] = emulator.store._db.execute("SELECT token_hash FROM providers").fetchall()

    def revoke():
        with emulator.store._lock:
            emulator.store._db.execute("UPDATE providers SET token_hash = 'revoked'")

    client = create_answers_lost(emulator, TOKEN, then=revoke)
    closed_at_end(client)
    with pytest.raises(Unauthorized) as refused:
        sync_files([str(source)], options(emulator, tmp_path), client=client)
    assert "; interrupted; 3 records: 1 unknown, 2 not reached." in str(refused.value), str(refused.value)
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert [r["outcome"] for r in report["records"]] == ["unknown", "pending", "pending"]
    with emulator.store._lock:
        emulator.store._db.execute("UPDATE providers SET token_hash = ?", (token_hash,))
    assert len(held(emulator)) == 1
    again = sync_files([str(source)], options(emulator, tmp_path))
    assert again.exit_code == 0 and len(held(emulator)) == 3
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 3


@pytest.mark.parametrize("rerun_before_it_lands", [False, True])
def test_a_placement_whose_answer_timed_out_is_never_added_twice(tmp_path, closed_at_end, rerun_before_it_lands):
    """Register has no duplicate check for placements: one still being processed when the client gives up must
    not be sent again. The run ends unknown (exit 3); the next run finds it there and adds nothing. A run started
    at once, before Register lists it, added it again, and Register then held it twice: it waits, as after an
    unanswered create, and says until when."""
    rows = [trainee(1)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, fault_hold=60.0) as emulator:
        fast = options(emulator, tmp_path, timeout=0.5)
        sync_files([str(write_extract(tmp_path / "a.csv", rows))], fast)
        rows[0]["placement_3_urn"] = "123456"

        class SlowPlacement(RegisterClient):
            def add_placement(self, trainee_id, data):
                emulator.set_faults("timeout:1.0")  # held until the test carries it out: the client waits 0.5 s
                try:
                    return super().add_placement(trainee_id, data)
                finally:
                    emulator.set_faults(None)

        client = SlowPlacement(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=0.5)
        closed_at_end(client)
        first = sync_files([str(write_extract(tmp_path / "b.csv", rows))], fast, client=client)
        assert first.exit_code == 3 and first.outcomes == Counter(unknown=1)
        assert "not sent again in this run" in " ".join(first.results[0].errors)
        if rerun_before_it_lands:
            waiting = sync_files([str(write_extract(tmp_path / "b.csv", rows))], fast)
            assert waiting.exit_code == 3 and waiting.outcomes == Counter(unknown=1)
            [line] = waiting.results[0].errors
            assert line.startswith("a request adding a placement to trainee ") and "after " in line
            assert waiting.results[0].again_after is not None
        assert emulator.carry_out_held() == 1  # the held request is carried out
        again = sync_files([str(write_extract(tmp_path / "b.csv", rows))], fast)
        assert again.exit_code == 0
        [held_now] = held(emulator)
        assert sorted(p["urn"] for p in held_now["placements"]) == sorted(["900020", "100001", "123456"])
        assert stats(emulator)["requests"]["by_route"]["POST /trainees/{trainee_id}/placements"] == 1


def test_a_gateway_that_only_answers_429_stops_the_run_with_nothing_written(tmp_path, closed_at_end):

    with answering(429, b'{"error":"Too many requests"}', {"Retry-After": "0"}) as url:
        client = RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=3, timeout=1.0)
        closed_at_end(client)
        stubborn = SyncOptions(
            target=url, token=Secret(TOKEN), state_dir=tmp_path / "state", report_dir=tmp_path / "r", as_of=AS_OF
        )
        with pytest.raises(RegisterUnavailable, match=r"Register was unavailable .*429.*nothing was written"):
            sync_files([str(extract(tmp_path / "in.csv", 2))], stubborn, client=client)
    assert client.stats.throttled == 3


def test_a_machine_register_blocks_from_the_first_listing_is_said_to_be_refused_not_unavailable(
    tmp_path, closed_at_end
):
    """review103 F4: rack-attack's blocklist 403 (register-api.md §1.3) met at the first listing read "Register was
    unavailable (...); nothing was written. Run again later.", while the same 403 after the first write reads
    "Register refused (...)". A blocked IP address or User-Agent is no outage: a later run meets the same 403."""
    with answering(403, b"Forbidden\n", {"Content-Type": "text/plain"}) as url:
        client = RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=3, timeout=1.0)
        closed_at_end(client)
        blocked = SyncOptions(
            target=url, token=Secret(TOKEN), state_dir=tmp_path / "state", report_dir=tmp_path / "r", as_of=AS_OF
        )
        with pytest.raises(RegisterUnavailable) as caught:
            sync_files([str(extract(tmp_path / "in.csv", 2))], blocked, client=client)
    message = str(caught.value)
    assert message.startswith("Register refused (GET /trainees -> 403: Forbidden; Register refused this machine")
    assert message.endswith("; nothing was written.") and "Run again later" not in message
    # Exit 3, as the same 403 part-way: nothing written, no report, and twice in a row a person looks (review208 F5).
    assert caught.value.exit_code == 3 and client.stats.total == 1


def test_a_proxy_asking_for_credentials_at_the_first_listing_is_a_setting_to_fix_naming_the_proxy(
    tmp_path, monkeypatch
):
    """review103 F5: a proxy answering the tunnel's CONNECT with 407 read "Register was unavailable (GET /trainees:
    connection lost (ProxyError)); nothing was written. Run again later." (exit 1) after five retries: Register was
    never asked, and a later run meets the same 407. It is a setting to fix (exit 2), said once, naming the proxy
    setting and its status, never its user name or password."""
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("REGISTER_BATCH_RATE_DIR", "off")
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    source = extract(tmp_path / "in.csv", 2)
    with answering(407, b"", {"Proxy-Authenticate": 'Basic realm="proxy"'}) as proxy:
        monkeypatch.setenv("https_proxy", proxy.replace("http://", "http://someone:pr0xy-pw@"))
        ran = subprocess.run(
            sync_command(source, "https://127.0.0.1:9", tmp_path / "state", tmp_path / "r", AS_OF.isoformat()),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert ran.returncode == 2, ran.stderr
    [line] = ran.stderr.strip().splitlines()
    assert line.startswith("register-batch: error: GET /trainees: the proxy https_proxy names (not shown) refused"), (
        line
    )
    assert "407 Proxy Authentication Required" in line
    # ... and the ledger's run it stopped, with the time (review208 F6)
    assert re.search(r"; nothing was written\. Ledger run 1, [0-9T:.-]+Z\.$", line), line
    assert "someone" not in line and "pr0xy-pw" not in line and TOKEN not in line


def test_register_failing_while_the_years_either_side_are_listed_writes_nothing(
    emulator, tmp_path, closed_at_end, no_backoff
):

    class FailingElsewhere(RegisterClient):
        def iter_trainees(self, *, academic_cycle=None, **params):
            emulator.set_faults(None if academic_cycle == 2025 else "500:1.0")  # the extract's own year answers
            try:
                yield from super().iter_trainees(academic_cycle=academic_cycle, **params)
            finally:
                emulator.set_faults(None)

    client = FailingElsewhere(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2)
    closed_at_end(client)
    with pytest.raises(RegisterUnavailable, match="nothing was written"):
        sync_files([str(extract(tmp_path / "in.csv", 3))], options(emulator, tmp_path), client=client)
    assert stats(emulator)["trainees"] == 0


def test_register_down_before_anything_is_written_exits_1_and_writes_nothing(emulator, tmp_path, no_backoff):

    source = extract(tmp_path / "in.csv", 3)
    emulator.set_faults("500:1.0")
    with pytest.raises(RegisterUnavailable, match=r"Register was unavailable .*nothing was written"):
        sync_files([str(source)], options(emulator, tmp_path))
    emulator.set_faults(None)
    assert stats(emulator)["trainees"] == 0


def test_register_going_down_mid_run_stops_the_run_and_the_next_run_finishes(
    emulator, tmp_path, closed_at_end, no_backoff
):
    from register_batch.errors import Interrupted

    source = extract(tmp_path / "in.csv", 10)

    class Failing(RegisterClient):
        def create_trainee(self, data):
            if self.stats.by_route["POST /trainees"] == 4:
                emulator.set_faults("reset:1.0")
            return super().create_trainee(data)

    client = Failing(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2)
    closed_at_end(client)
    with pytest.raises(Interrupted, match="Register stopped answering"):
        sync_files([str(source)], options(emulator, tmp_path), client=client)
    emulator.set_faults(None)
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["sync"]["interrupted"] is True
    assert Counter(r["outcome"] for r in report["records"])["done"] == 4
    again = sync_files([str(source)], options(emulator, tmp_path))
    assert again.exit_code == 0
    hesa_ids = Counter(t["hesa_id"] for t in held(emulator))
    assert len(hesa_ids) == 10 and max(hesa_ids.values()) == 1


def test_a_machine_register_blocks_mid_run_stops_the_run_at_the_first_refusal_and_the_next_run_finishes(
    emulator, tmp_path
):
    """rack-attack's blocklist answers 403 to every request from a blocked IP or User-Agent (register-api.md §1.3),
    before the service sees it. The run went on, each remaining record failed on its own 403 (a night's budget
    spent on refusals) and the report blamed the records: it now stops at the first, as when Register stops
    answering, and the next run, unblocked, creates the rest, each once."""
    source = extract(tmp_path / "in.csv", 6)
    blocked = {"now": False}

    def blocklist(seen, forward):
        if blocked["now"]:
            return 403, {"Content-Type": "text/plain"}, b"Forbidden\n"
        if seen.method == "POST" and seen.path.endswith("/trainees"):
            answer = forward()
            blocked["now"] = sum(s.method == "POST" for s in front.seen) == 2  # blocked after the second create
            return answer
        return None

    with fronting(emulator.url, blocklist) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        refused = r"Register refused \(POST /trainees -> 403: Forbidden; Register refused this machine"
        with pytest.raises(Interrupted, match=refused):
            sync_files([str(source)], fronted)
    assert [s.method for s in front.seen].count("POST") == 3  # two creates, then one refusal, and nothing more
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert Counter(r["outcome"] for r in report["records"]) == Counter(done=2, failed=1, pending=3)
    [failed] = [r for r in report["records"] if r["outcome"] == "failed"]
    assert failed["errors"][0] == "Forbidden" and "refused this machine" in failed["errors"][1]
    again = sync_files([str(source)], options(emulator, tmp_path))
    assert again.exit_code == 0 and again.actions == Counter(create=4, unchanged=2), again.summary_line()
    hesa_ids = Counter(t["hesa_id"] for t in held(emulator))
    assert len(hesa_ids) == 6 and max(hesa_ids.values()) == 1


def down_after_the_create(emulator) -> RegisterClient:
    """A client whose create's reply is lost (Register made the trainee) and Register down from then on: the run stops
    with the record unknown, its look-up for the create having failed."""

    class DownAfterTheCreate(RegisterClient):
        def create_trainee(self, data):
            emulator.set_faults("lost-response:1.0")
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults("reset:1.0")

    return DownAfterTheCreate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2)


def test_a_create_left_unanswered_is_found_on_the_next_run_after_its_start_moved_two_years(
    emulator, tmp_path, closed_at_end
):
    """A create's reply was lost (Register made the trainee) and Register went down before the look-up for it: the
    run stopped with the record unknown. Before the next run the start year, mistyped, was corrected by two years.
    That run lists the record's start year and the years either side, not the year Register holds the trainee
    under, and Register's 409 compares start years (§4): it created the trainee a second time."""
    from register_batch.errors import Interrupted

    mistyped = trainee(1)
    client = closed_at_end(down_after_the_create(emulator))
    with pytest.raises(Interrupted, match="Register stopped answering"):
        sync_files([str(write_extract(tmp_path / "a.csv", [mistyped]))], options(emulator, tmp_path), client=client)
    emulator.set_faults(None)
    assert stats(emulator)["trainees"] == 1
    corrected = started_in(2027, mistyped)
    # The create's answer was lost, so it may be carried out yet as far as the ledger can tell: an update changing the
    # start Register's 409 compares waits 10 minutes (review46 F2), and then is sent.
    waiting = sync_files([str(write_extract(tmp_path / "b.csv", [corrected]))], options(emulator, tmp_path))
    assert waiting.exit_code == 3 and waiting.actions == Counter(update=1), waiting.summary_line()
    minutes_pass(tmp_path, 11)
    result = sync_files([str(write_extract(tmp_path / "b.csv", [corrected]))], options(emulator, tmp_path))
    assert result.exit_code == 0 and result.actions == Counter(update=1), result.summary_line()
    assert stats(emulator)["trainees"] == 1
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as lister:
        [moved] = list(lister.iter_trainees(academic_cycle=2027))
    assert moved["hesa_id"] == mistyped["hesa_id"] and moved["itt_start_date"] == "2027-09-01"


def test_a_create_left_unanswered_for_a_record_the_ledger_linked_elsewhere_is_a_create_sent_without_answer(
    emulator, tmp_path, closed_at_end
):
    """A record the ledger links to trainee T, whose HUSID another person's record now carries by mistake: the record
    that is T's person keeps T, and the other is planned as a create (one_record_per_trainee). Its create's in-flight
    mark kept the link to T, so a run stopped while it was out left the ledger saying nothing was sent without an
    answer: the next run would not look in the year it was sent for (a start corrected by two years: created twice),
    and the link would bring the record back to T."""
    from register_batch.sync.ledger import Ledger

    person = trainee(1)
    assert sync_files([str(write_extract(tmp_path / "a.csv", [person]))], options(emulator, tmp_path)).exit_code == 0
    mistaken = trainee(2) | {"hesa_id": person["hesa_id"]}  # another person, given T's HUSID by mistake
    corrected = person | {"hesa_id": f"{int(person['hesa_id']) + 500:013d}"}  # T's person, HUSID corrected
    client = closed_at_end(down_after_the_create(emulator))
    source = write_extract(tmp_path / "b.csv", [mistaken, corrected])
    with pytest.raises(Interrupted, match="Register stopped answering"):
        sync_files([str(source)], options(emulator, tmp_path), client=client)
    emulator.set_faults(None)
    key = f"hesa:{person['hesa_id']}"
    with closing(Ledger(tmp_path / "state", emulator.url)) as ledger:
        assert ledger.unsettled_creates() == {key: 2025}
        assert key not in ledger.links()


def test_a_blank_in_the_extract_never_changes_register_even_when_another_field_does(emulator, tmp_path):
    """The initiative too, from an extract without its column (one with it says "none" by a blank: review196 F1)."""
    first = trainee(1)
    first.update(training_initiative="026", ethnicity="120", disability1="57", disability2="58")
    sync_files([str(write_extract(tmp_path / "a.csv", [first]))], options(emulator, tmp_path))
    later = trainee(1)
    later.update(training_initiative="", ethnicity="", disability1="", email="new.address@example.com")
    extract = without_columns(write_extract(tmp_path / "b.csv", [later]), "training_initiative")
    result = sync_files([str(extract)], options(emulator, tmp_path))
    assert result.actions == Counter(update=1)
    [held_trainee] = held(emulator)
    assert held_trainee["email"] == "new.address@example.com"
    assert held_trainee["training_initiative"] == "026"
    assert held_trainee["ethnicity"] == "120"
    assert {held_trainee.get("disability1"), held_trainee.get("disability2")} == {"57", "58"}


def test_the_summary_line_counts_what_was_and_would_be_done(emulator, tmp_path):
    rows = [trainee(n) for n in range(1, 4)]
    rows[0].update(
        withdrawal_date="2026-02-01",
        withdrawal_reasons="did_not_make_progress",
        withdrawal_trigger="trainee",
        withdrawal_future_interest="no",
    )
    rows[2]["sex"] = "7"
    planned = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path, dry_run=True))
    said = planned.summary_line()
    assert said == (
        "3 records: would create 2 (then withdraw 1); 1 invalid. 3 requests (1.0 per record). A real run now: about "
        "6 requests, under 1 s at 10000/60."
    )
    # report.json and the ledger count them as the line does: a nightly job reading `actions` saw no withdrawal.
    sync = json.loads((tmp_path / "reports" / "report.json").read_text())["sync"]
    assert (sync["actions"], sync["written"]) == ({"create": 2, "invalid": 1}, {"create": 2, "withdraw": 1})
    done = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert done.summary_line().startswith("3 records: 2 created (1 then withdrawn); 1 invalid. 6 requests")
    assert json.loads((tmp_path / "reports" / "report.json").read_text())["sync"]["written"] == {
        "create": 2,
        "withdraw": 1,
    }
    with closing(sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")) as ledger:
        [(summary,)] = ledger.execute("SELECT summary FROM runs WHERE dry_run = 0").fetchall()
    assert json.loads(summary)["written"] == {"create": 2, "withdraw": 1}


# report.json's `sync`, as docs/dry-run.md lists it.
SYNC_KEYS = (
    *("target", "dry_run", "interrupted", "stopped", "status", "state_dir", "actions", "outcomes", "written", "joined"),
    *("warnings", "requests"),
    *("not_in_extract", "cycles_lacked", "not_in_extract_synced", "unanswered_elsewhere", "waiting", "estimate"),
    "run_id",
    *("previous_run", "run_warnings", "lists_changed", "earlier_report"),
)


def test_the_summary_line_counts_the_trainees_updated_withdrawn_and_deferred_as_results_csv_lists_them(
    emulator, tmp_path
):
    """A trainee whose fields change and who is withdrawn too is one updated, then withdrawn (counted once, so that the
    counts add up to the records: review133 F2); one only withdrawn or only deferred is not also counted as
    updated."""
    rows = [trainee(n) for n in range(1, 6)]
    first = str(write_extract(tmp_path / "a.csv", rows))
    sync_files([first], options(emulator, tmp_path))
    unchanged = sync_files([first], options(emulator, tmp_path, dry_run=True))
    assert unchanged.summary_line().startswith("5 records: 5 unchanged. ")
    rows[0]["email"] = "moved@example.org"
    rows[1].update(WITHDRAWN)
    rows[2].update(defer_date="2026-03-01", defer_reason="Illness")
    rows[3].update(WITHDRAWN, email="left@example.org")
    later = write_extract(tmp_path / "b.csv", rows)

    planned = sync_files([str(later)], options(emulator, tmp_path, dry_run=True))
    assert planned.summary_line().startswith(
        "5 records: would update 2 (then withdraw 1), withdraw 1, defer 1, 1 unchanged. "
    )
    sync = json.loads((tmp_path / "reports" / "report.json").read_text())["sync"]
    assert set(sync) == set(SYNC_KEYS) and (sync["dry_run"], sync["interrupted"]) == (True, False)  # dry-run.md
    assert sync["joined"] == {"withdraw": {"update": {"planned": 1}}}  # the one updated and withdrawn (review134 F3)
    assert sync["state_dir"] == str(options(emulator, tmp_path).state_dir)
    done = sync_files([str(later)], options(emulator, tmp_path))
    assert done.exit_code == 0
    assert done.summary_line().startswith(
        "5 records: 2 updated (1 then withdrawn), 1 withdrawn, 1 deferred, 1 unchanged. "
    )
    with (tmp_path / "reports" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        results = list(csv.DictReader(fh))
    assert Counter(row["action"] for row in results) == Counter(update=2, withdraw=1, defer=1, unchanged=1)
    assert {row["outcome"] for row in results} == {"done"}
    states = {t["hesa_id"]: (t["state"], t["email"]) for t in held(emulator)}
    assert [states[row["hesa_id"]] for row in rows] == [
        ("trn_received", "moved@example.org"),
        ("withdrawn", "trainee2@example.com"),
        ("deferred", "trainee3@example.com"),
        ("withdrawn", "left@example.org"),
        ("trn_received", "trainee5@example.com"),
    ]


def test_trainees_register_holds_but_the_extract_lacks_are_reported_and_left_alone(emulator, tmp_path):
    # Courses that have not ended: one whose had is not the SRS's loss (review201 F2)
    rows = [{**trainee(n), "itt_end_date": "2027-07-31"} for n in range(1, 6)]
    sync_files([str(write_extract(tmp_path / "all.csv", rows))], options(emulator, tmp_path))
    fewer = sync_files([str(write_extract(tmp_path / "some.csv", rows[:3]))], options(emulator, tmp_path))
    assert fewer.actions == Counter(unchanged=3) and fewer.exit_code == 0
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["sync"]["not_in_extract"] == 2
    assert sorted(t["hesa_id"] for t in report["not_in_extract"]) == [trainee(4)["hesa_id"], trainee(5)["hesa_id"]]
    # Both synced by this state dir before: the SRS stopped sending them (review180 F2)
    assert (
        "2 in Register but not in the extract (left alone; 2 synced before by this state dir, no longer sent by the "
        "SRS (3 records tonight, 5 in the last run): check the SRS export)" in fewer.summary_line()
    )
    with (tmp_path / "reports" / "not_in_extract.csv").open(encoding="utf-8-sig", newline="") as fh:
        listed = list(csv.DictReader(fh))
    assert [{k: v.lstrip("'") for k, v in row.items()} for row in listed] == [
        {k: str(t[k] or "") for k in NOT_IN_EXTRACT_COLUMNS} for t in report["not_in_extract"]
    ]
    assert sorted(row["hesa_id"] for row in listed) == [f"'{trainee(n)['hesa_id']}" for n in (4, 5)]  # Excel-safe
    assert 'data-not-in-extract="2"' in (tmp_path / "reports" / "report.html").read_text()
    assert len(held(emulator)) == 5


def test_not_in_extract_csv_opens_in_excel_as_results_csv_does(emulator, tmp_path):
    """An SRS id, HUSID or start date a spreadsheet would turn into a number or a date (00042 as 42) is kept as text
    with Register's leading apostrophe, as results.csv keeps them."""
    rows = [trainee(1) | {"provider_trainee_id": "00042"}, trainee(2)]
    sync_files([str(write_extract(tmp_path / "both.csv", rows))], options(emulator, tmp_path))
    sync_files([str(write_extract(tmp_path / "one.csv", rows[1:]))], options(emulator, tmp_path))
    with (tmp_path / "reports" / "not_in_extract.csv").open(encoding="utf-8-sig", newline="") as fh:
        [listed] = list(csv.DictReader(fh))
    shown = (listed["provider_trainee_id"], listed["hesa_id"], listed["trainee_start_date"])
    assert shown == ("'00042", f"'{rows[0]['hesa_id']}", "'2025-09-01")


@pytest.mark.parametrize("answer", [b"{}", b'{"data":{}}', b""])
def test_a_create_answered_without_its_trainee_is_resolved_in_register_not_a_crash(emulator, tmp_path, answer):
    """A 201 whose body does not hold the trainee (a gateway rewrote it, a truncated reply): the trainee was most
    likely created, so it is looked up and adopted, never created again and never an internal error."""

    def created_without_trainee(seen, forward):
        if seen.method == "POST" and seen.path.endswith("/trainees"):
            status, headers, _content = forward()
            return status, headers, answer
        return None

    with fronting(emulator.url, created_without_trainee) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)  # one Register
        result = sync_files([str(extract(tmp_path / "in.csv", 3))], fronted)
    assert result.exit_code == 0 and result.outcomes == Counter(done=3)
    assert all(r.plan.trainee_id for r in result.results)
    assert sum(1 for s in front.seen if s.method == "POST") == 3
    hesa_ids = Counter(t["hesa_id"] for t in held(emulator))
    assert len(hesa_ids) == 3 and max(hesa_ids.values()) == 1
    again = sync_files([str(extract(tmp_path / "in.csv", 3))], options(emulator, tmp_path))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=3)


def test_a_version_register_does_not_serve_is_one_line_and_nothing_is_sent(emulator, tmp_path):
    """Register answers 404 `Not found` for a version it does not serve (§1.1): not an empty cycle to fill."""

    def old_version(seen, forward):
        if seen.path.startswith("/api/v2026.1/"):
            return 404, {"Content-Type": "application/json"}, b'{"errors":[{"error":"NotFound","message":"Not found"}]}'
        return None

    source = extract(tmp_path / "in.csv", 3)
    with fronting(emulator.url, old_version) as front:
        done = subprocess.run(
            sync_command(source, front.url, tmp_path / "state", tmp_path / "r", AS_OF.isoformat()),
            capture_output=True,
            text=True,
            env={**os.environ, "REGISTER_API_TOKEN": TOKEN},
        )
    assert done.returncode == 1, done.stderr
    [line] = done.stderr.strip().splitlines()
    assert "404" in line and "does not serve the Register API v2026.1" in line and "upgrade register-batch" in line
    assert [s.method for s in front.seen] == ["GET"]


@pytest.mark.parametrize("damaged", ["ledger.sqlite3", "register/register.sqlite3"])
def test_a_damaged_ledger_or_embedded_emulator_database_exits_2_with_one_line(tmp_path, damaged):
    source = extract(tmp_path / "in.csv", 2)
    state = tmp_path / "state"
    (state / "register").mkdir(parents=True)
    (state / damaged).write_bytes(b"this is not an SQLite database, whatever its name says\n" * 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}  # no target: the embedded one
    command = ["sync", str(source), "--state-dir", str(state), "--report-dir", str(tmp_path / "r"), "--dry-run"]
    result = subprocess.run(
        [sys.executable, "-m", "register_batch", *command, "--as-of", AS_OF.isoformat()],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("register-batch: error: "), result.stderr
    assert str(state / damaged) in lines[0] and "internal error" not in lines[0]


def _embedded(tmp_path: Path, *command: str) -> subprocess.CompletedProcess[str]:
    """`register-batch COMMAND...` with no target set: against the embedded emulator."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return subprocess.run(
        [sys.executable, "-m", "register_batch", *command], env=env, cwd=tmp_path, capture_output=True, text=True
    )


def test_an_embedded_emulator_database_damaged_past_its_first_pages_exits_2_with_one_line(tmp_path):
    """A page of the trainees table overwritten, the header and schema pages intact: opening the database read only
    those, and the damage was met at the run's first listing, answered 500 and retried, a traceback logged for each
    try, then "Register was unavailable", exit 1; as the ledger's was (review127 F2), it is found as it is opened:
    exit 2, one line naming the file, nothing asked of the emulator."""
    state, reports = tmp_path / "state", tmp_path / "r"
    source = extract(tmp_path / "in.csv", 3)
    synced = _embedded(tmp_path, "-q", "sync", str(source), "--state-dir", str(state), "--report-dir", str(reports))
    assert synced.returncode == 0, synced.stderr
    database = state / "register" / "register.sqlite3"
    with closing(sqlite3.connect(database)) as db:  # many pages: rows enough for a trainees table of its own pages
        [(provider,)] = db.execute("SELECT id FROM providers").fetchall()
        db.executemany(
            "INSERT INTO trainees (slug, provider_id, state, created_at, updated_at, fields, meta, discarded_at) "
            "VALUES (?, ?, 'draft', 0, 0, ?, '{}', 0)",
            [(f"padding{n:04d}", provider, json.dumps({"pad": f"{n}" * 1000})) for n in range(300)],
        )
        db.commit()
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        [(root,)] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'trainees'").fetchall()
        [(size,)] = db.execute("PRAGMA page_size").fetchall()
        [(pages,)] = db.execute("PRAGMA page_count").fetchall()
    assert 1 < root < pages // 10  # past the header page, in the middle of a file of many pages
    with database.open("r+b") as file:
        file.seek((root - 1) * size)
        file.write(b"\xff" * size)
    ledger_before = (state / "ledger.sqlite3").read_bytes()
    # Not emulator --db's "move it away", which leads to a refusal while the ledger links records (review152 F2).
    said = (
        f"register-batch: error: {database}: the embedded emulator's database is damaged (database disk image is "
        f"malformed). The embedded emulator never sent its trainees anywhere: to start afresh, delete the whole state "
        f"dir {state} (or give a new --state-dir); to keep them, put the folder {state / 'register'} back from a "
        "backup, token and all"
    )
    for command, sent in (
        (["sync", str(source), "--state-dir", str(state), "--report-dir", str(tmp_path / "again")], True),
        (["export", "--state-dir", str(state), "--to", "register-csv", "-o", str(tmp_path / "held.csv")], False),
    ):
        result = _embedded(tmp_path, *command)
        expected = f"{said}. Nothing was sent" if sent else said  # an export sends nothing anyway (review153 F5)
        assert (result.returncode, result.stderr.splitlines()) == (2, [expected]), result.stderr
    assert not (tmp_path / "again").exists() and not (tmp_path / "held.csv").exists()
    assert (state / "ledger.sqlite3").read_bytes() == ledger_before


# How a log or progress line is stamped: ISO 8601 in UTC, with the date and milliseconds.
MS_STAMP = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "default"])
def test_quiet_leaves_out_the_retries_the_run_rides_out(emulator, tmp_path, quiet):
    """`-q` is for nightly jobs whose stderr is mailed: a 503 the client retries past is not news; without `-q`
    each retry is still told, with its reason."""
    failed: list[str] = []

    def one_unavailable(seen, forward):
        if seen.method == "GET" and not failed:
            failed.append(seen.path)
            return 503, {"Content-Type": "application/json"}, b'{"errors":[{"error":"ServiceUnavailable"}]}'
        return None

    source = extract(tmp_path / "in.csv", 3)
    with fronting(emulator.url, one_unavailable) as front:
        command = sync_command(source, front.url, tmp_path / "state", tmp_path / "r", AS_OF.isoformat())
        if not quiet:
            command.remove("-q")
        done = subprocess.run(
            command, capture_output=True, text=True, env={**os.environ, "REGISTER_API_TOKEN": TOKEN}, timeout=120
        )
    assert done.returncode == 0, done.stderr
    assert failed and len(held(emulator)) == 3
    retried = [line for line in done.stderr.splitlines() if "retrying" in line]
    if quiet:
        assert retried == [], done.stderr
        summary, report = done.stdout.strip().splitlines()[-2:]
        assert summary.startswith("3 records: 3 created.") and report == f"Report: {tmp_path / 'r' / 'report.html'}"
    else:
        assert len(retried) == 1 and "503" in retried[0], done.stderr
        # time (UTC, marked Z), level and words: the logger's name (which module spoke) only with -vv
        # to the millisecond, to be matched with a server's log lines
        assert re.fullmatch(rf"{MS_STAMP} WARNING: GET /trainees\b.*503.*; retrying", retried[0])
        # the progress lines of the same log (standard error, not a terminal) are stamped the same way (review157 F4)
        stamps = {stamp for line in done.stderr.splitlines() if (stamp := line.split(" ", 1)[0]).endswith("Z")}
        assert all(re.fullmatch(MS_STAMP, stamp) for stamp in stamps), done.stderr


def test_a_token_given_as_a_plain_string_syncs_and_never_shows_in_the_options_repr(emulator, tmp_path):
    """A library caller passing `token="..."` (as RegisterClient takes it) had it printed by SyncOptions' repr,
    and so by any log line or traceback that shows the options."""
    settings = SyncOptions(
        target=emulator.url, token=TOKEN, state_dir=tmp_path / "state", report_dir=tmp_path / "reports", as_of=AS_OF
    )
    assert TOKEN not in repr(settings) and TOKEN not in str(settings)
    assert isinstance(settings.token, Secret)
    result = sync_files([str(write_extract(tmp_path / "a.csv", [trainee(1)]))], settings)
    assert result.outcomes == Counter(done=1)


def test_the_sync_command_hands_its_options_to_the_run(emulator, tmp_path, monkeypatch):
    """What `register-batch sync` is given reaches the run: the target and its token, the state and report folders,
    --as-of, --per-page and --dry-run; and it says where it synced, what it did and where the report is."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    (tmp_path / "token").write_text(TOKEN)
    source = extract(tmp_path / "in.csv", 3)
    to_emulator = ["--target", emulator.url, "--token-file", str(tmp_path / "token"), "--rate", "1000/1"]
    folders = ["--state-dir", str(tmp_path / "state"), "--as-of", "2026-11-28"]

    def sync(*extra: str, report: str):
        args = ["sync", str(source), *to_emulator, *folders, "--report-dir", str(tmp_path / report), *extra]
        result = CliRunner().invoke(cli, args)
        return result, json.loads((tmp_path / report / "report.json").read_text())

    first, report = sync(report="first")
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0] == f"Target: {emulator.url}"
    assert lines[-1] == f"Report: {tmp_path / 'first' / 'report.html'}"
    assert report["as_of"] == "2026-11-28"
    assert report["sync"]["target"] == emulator.url and report["sync"]["state_dir"] == str(tmp_path / "state")
    assert report["sync"]["dry_run"] is False and report["sync"]["actions"] == {"create": 3}

    paged, report = sync("--per-page", "1", report="paged")
    assert paged.exit_code == 0, paged.output
    assert report["sync"]["actions"] == {"unchanged": 3}
    assert report["sync"]["requests"]["by_route"]["GET /trainees"] >= 3  # a page per trainee (at 500: one)

    rows = [trainee(n) for n in range(1, 4)]
    rows[0]["email"] = "changed@example.org"
    write_extract(source, rows)
    planned, report = sync("--dry-run", report="planned")
    assert planned.exit_code == 0, planned.output
    assert report["sync"]["dry_run"] is True and report["sync"]["actions"] == {"unchanged": 2, "update": 1}
    assert "PUT /trainees/{trainee_id}" not in stats(emulator)["requests"]["by_route"]

    monkeypatch.chdir(tmp_path)  # no --report-dir: a new sync-<time> folder in register-batch-reports
    unnamed = CliRunner().invoke(cli, ["sync", str(source), *to_emulator, *folders, "--dry-run"])
    assert unnamed.exit_code == 0, unnamed.output
    [folder] = (tmp_path / "register-batch-reports").iterdir()
    assert folder.name.startswith("sync-") and (folder / "report.json").is_file()


def test_the_look_up_after_a_lost_create_reads_a_listing_that_gives_no_page_count(emulator, tmp_path):
    """A listing answered without `meta.total_pages` (a gateway's rewrite, a broken answer) is one page that may have
    more after it, not an error: the look-up after a create answered by a gateway's 502 still finds the trainee
    (found by mutation testing: the count was read as a number without a fallback)."""

    def gateway(seen, forward):
        if seen.method == "POST" and seen.path.endswith("/trainees"):
            forward()  # carried out by Register; the gateway's own error comes back
            return 502, {"Content-Type": "text/html"}, b"<html>502 Bad Gateway</html>"
        if seen.method == "GET" and seen.path.endswith("/trainees"):
            status, headers, body = forward()
            listing = json.loads(body)
            if isinstance(listing.get("meta"), dict):
                listing["meta"].pop("total_pages", None)
            return status, headers, json.dumps(listing).encode()
        return None

    source = extract(tmp_path / "in.csv", 1)
    with fronting(emulator.url, gateway) as front:
        result = sync_files([str(source)], options(emulator, tmp_path, target=front.url, target_identity=emulator.url))
    [only] = result.results
    assert result.exit_code == 0 and only.plan.matched_by == "listing after an unknown create", result.summary_line()
    assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == 1 and len(held(emulator)) == 1


def test_a_record_giving_both_a_training_partner_urn_and_ukprn_is_unchanged_on_a_rerun(emulator, tmp_path):
    """Register uses training_partner_ukprn only when no training_partner_urn key is sent (register-api.md §3.1), so
    it never holds the UKPRN such a record gives: compared all the same, the record was planned as an update on every
    run (`training_partner_ukprn` register None, source 10006841)."""
    rows = [{**trainee(1), "training_partner_urn": "136420", "training_partner_ukprn": "10006841"}]
    source = tmp_path / "in.csv"
    with source.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=[*rows[0]])
        writer.writeheader()
        writer.writerows(rows)
    first = sync_files([str(source)], options(emulator, tmp_path))
    assert first.exit_code == 0 and first.actions == Counter(create=1), first.summary_line()
    writes_before = stats(emulator)["requests"]["by_route"]
    again = sync_files([str(source)], options(emulator, tmp_path))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=1), again.summary_line()
    writes_after = stats(emulator)["requests"]["by_route"]
    assert {k: v for k, v in writes_after.items() if not k.startswith("GET")} == {
        k: v for k, v in writes_before.items() if not k.startswith("GET")
    }


def test_a_conflict_for_a_trainee_deleted_in_register_lists_no_change_it_did_not_send(emulator, tmp_path):
    """review67 F4: the record of a withdrawn trainee deleted in Register's service kept its create plan's changes,
    `state: null -> withdrawn`, in results.csv, though nothing was sent and Register had held it withdrawn."""
    source = str(write_extract(tmp_path / "in.csv", [{**trainee(1), **WITHDRAWN}, trainee(2)]))
    sync_files([source], options(emulator, tmp_path))
    [gone] = [t for t in held(emulator) if t["hesa_id"] == trainee(1)["hesa_id"]]
    assert gone["state"] == "withdrawn" and emulator.discard_trainee(gone["trainee_id"])
    result = sync_files([source], options(emulator, tmp_path))
    assert result.actions == Counter(conflict=1, unchanged=1), result.summary_line()
    assert result.results[0].plan.changes == []
    with (tmp_path / "reports" / "results.csv").open(encoding="utf-8", newline="") as fh:
        [row] = [r for r in csv.DictReader(fh) if r["action"] == "conflict"]
    assert json.loads(row["changes"] or "[]") == []


def test_a_repeated_no_known_disability_leaves_the_trainee_without_a_disability(register, tmp_path):
    """review107 F1: 95 given twice was drift against Register's single 95, and the update made Register record the
    trainee as disabled (§5.3: no_disability only for exactly one 95); a new record so was created disabled. The
    repeat is sent once: no write for the first, and the second is created without a disability."""
    once = {**trainee(1), "disability1": "95"}
    assert register.sync(write_extract(tmp_path / "in.csv", [once])).exit_code == 0
    twice, new = {**once, "disability2": "95"}, {**trainee(2), "disability1": "95", "disability2": "95"}
    night = register.sync(write_extract(tmp_path / "in.csv", [twice, new]))
    assert night.summary_line().startswith("2 records: 1 created, 1 unchanged; 2 warnings.")
    assert register.writes() == Counter({"POST /trainees": 2})
    held = {t["hesa_id"]: t["disability_disclosure"] for t in register.trainees(2025)}
    assert held == {once["hesa_id"]: "no_disability", new["hesa_id"]: "no_disability"}
