"""What a sync's report tells people when the run did not end as planned: run again, or fix the record.

Against the project's emulator over real HTTP on 127.0.0.1, with faults switched on mid-run.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from contextlib import closing
from datetime import date
from pathlib import Path

import httpx
import lxml.html
import pytest

from cli_runs import files_limited_to, sync_command
from emulated import create_answers_lost, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.sync import SyncOptions, sync_files
from register_batch.validation import CATALOGUE
from stub_http import fronting
from trainee_extracts import WITHDRAWN, started_in, trainee, write_extract

AS_OF = date(2026, 11, 28)
TOKEN = "test-provider-token-0001"


@pytest.fixture
def emulator():
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7, fault_hold=1.0) as running:
        yield running


def options(emulator, tmp_path: Path, **extra) -> SyncOptions:
    return sync_options(emulator, tmp_path, TOKEN, **{"timeout": 2.0, **extra})


def report_of(tmp_path: Path) -> tuple[dict, lxml.html.HtmlElement]:
    folder = tmp_path / "reports"
    return json.loads((folder / "report.json").read_text()), lxml.html.fromstring((folder / "report.html").read_bytes())


def status_box(doc: lxml.html.HtmlElement) -> tuple[str, str, str]:
    [box] = doc.xpath('//section[@id="summary"]/div[contains(@class, "status")]')
    return box.get("data-status"), box.get("class"), " ".join(box.text_content().split())


def _register_stops_during_the_updates(emulator, tmp_path, closed_at_end, *, records, invalid, answered):
    """`records` trainees synced, then every one's email changed and record `invalid + 1` given an invalid sex; Register
    answers 500 to every request from the update after the first `answered` ones, and the run stops (Interrupted)."""
    rows = [trainee(n) for n in range(1, records + 1)]
    sync_files([str(write_extract(tmp_path / "a.csv", rows))], options(emulator, tmp_path))
    for row in rows:
        row["email"] = row["email"].replace("@", ".new@")
    rows[invalid]["sex"] = "7"

    class Failing(RegisterClient):
        def update_trainee(self, trainee_id, data):
            if self.stats.by_route["PUT /trainees/{trainee_id}"] == answered:
                emulator.set_faults("500:1.0")
            return super().update_trainee(trainee_id, data)

    client = Failing(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2)
    closed_at_end(client)
    with pytest.raises(Interrupted, match="Register stopped answering"):
        sync_files([str(write_extract(tmp_path / "b.csv", rows))], options(emulator, tmp_path), client=client)
    emulator.set_faults(None)


def test_register_stopping_mid_run_reports_run_again_not_fix_the_record(emulator, tmp_path, closed_at_end, no_backoff):
    # record 5 invalid: never sent, whether or not the run is interrupted
    _register_stops_during_the_updates(emulator, tmp_path, closed_at_end, records=6, invalid=4, answered=2)
    data, doc = report_of(tmp_path)

    outcomes = {r["record"]: r["outcome"] for r in data["records"]}
    assert outcomes == {1: "done", 2: "done", 3: "failed", 4: "pending", 5: "skipped", 6: "pending"}
    [unavailable] = [i for i in data["issues"] if i["record"] == 3]
    assert unavailable["code"] == "sync_unavailable"  # not api_rejected: nothing is wrong with the record
    # issues.csv says so too, not only report.html's rules table: its message was the server's words alone
    assert unavailable["message"] == (
        "Internal server error (Register stopped answering; nothing is wrong with the record: run the same sync again)"
    )
    # charted under the record it belongs to, not under "(file)"
    assert sorted(doc.xpath('//table[@id="chart-field"]//tr/@data-key')) == ["(record)", "sex"]

    key, tone, text = status_box(doc)
    assert key == "interrupted" and "status-bad" in tone
    assert (
        "This sync stopped before it finished. 2 of 6 records done, 2 not reached (Register stopped answering (PUT"
        in text
    )
    assert (
        "-> 500: Internal server error)). Once Register answers again, run the same sync again: it carries on" in text
    )
    assert "Nothing to fix" not in text
    # the record Register's outage caught is not one to correct, as "failed at Register" had it read
    assert "1 record failed at Register" not in text
    assert "1 record not written to Register. Issues says why for each: correct a record Register refused" in text
    assert data["sync"]["stopped"]["by"] == "register"  # why, for a job that reads report.json
    assert data["sync"]["stopped"]["message"].startswith("Register stopped answering (PUT /trainees/")
    [pending] = doc.xpath('//ul[@data-group="outcomes"]/li[@data-count="pending"]/span[@class="label"]/text()')
    assert pending == "Not reached (pending)"  # the word results.csv and report.json use
    assert "(interrupted)" in doc.findtext(".//title")
    # The runs table says how each run ended.
    with closing(sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")) as db:
        assert [status for (status,) in db.execute("SELECT status FROM runs ORDER BY id")] == [
            "finished",
            "interrupted",
        ]


@pytest.mark.parametrize("status", [403, 500])
def test_a_record_caught_by_an_outage_reports_registers_status_code(status, emulator, tmp_path, no_backoff):
    """docs/dry-run.md: http_status is, for a refusal, Register's status code. A record whose update met a 403 (a
    machine blocked) or a 500 after every retry, which stops the run, had none in report.json, results.csv or the
    ledger: the `_Outage` branch set its outcome and errors only."""
    rows = [trainee(n) for n in range(1, 4)]
    sync_files([str(write_extract(tmp_path / "a.csv", rows))], options(emulator, tmp_path))
    for row in rows:
        row["email"] = row["email"].replace("@", ".new@")

    def refusing(seen, forward):
        if seen.method == "PUT" and sum(s.method == "PUT" for s in front.seen) >= 2:
            return status, {"Content-Type": "text/plain"}, b"Refused\n"
        return None

    with fronting(emulator.url, refusing) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        with pytest.raises(Interrupted):
            sync_files([str(write_extract(tmp_path / "b.csv", rows))], fronted)
    data, _ = report_of(tmp_path)
    [failed] = [r for r in data["records"] if r["outcome"] == "failed"]
    assert failed["http_status"] == status
    with (tmp_path / "reports" / "results.csv").open(newline="") as f:
        [line] = [r for r in csv.DictReader(f) if r["outcome"] == "failed"]
    assert line["http_status"] == str(status)
    with closing(sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")) as db:
        assert db.execute("SELECT http_status FROM records WHERE status = 'failed'").fetchall() == [(status,)]


def test_a_create_left_unanswered_while_register_goes_down_is_unknown_not_pending(emulator, tmp_path, closed_at_end):
    rows = [trainee(n) for n in range(1, 4)]

    class Failing(RegisterClient):
        def create_trainee(self, data):
            if self.stats.by_route["POST /trainees"] == 1:
                emulator.set_faults("500:1.0")  # this create and the look-up after it both fail
            return super().create_trainee(data)

    client = Failing(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2)
    closed_at_end(client)
    with pytest.raises(Interrupted, match="Register stopped answering"):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
    emulator.set_faults(None)
    data, _doc = report_of(tmp_path)
    assert [r["outcome"] for r in data["records"]] == ["done", "unknown", "pending"]
    assert [i["code"] for i in data["issues"]] == ["sync_unknown"]
    # issues.csv says what to do after the server's words, as the rules table does
    assert data["issues"][0]["message"].endswith(
        " (the write may not have gone through: run the same sync again, which looks in Register first)"
    )
    again = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert again.exit_code == 0
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as look:
        held = Counter(t["hesa_id"] for t in look.iter_trainees(academic_cycle=2025, per_page=100))
    assert sorted(held.values()) == [1, 1, 1]


def slow_placement_client(emulator) -> RegisterClient:
    """A client (timeout 0.3 s) whose placement requests the emulator holds past its timeout, then carries out."""

    class SlowPlacement(RegisterClient):
        def add_placement(self, trainee_id, data):
            emulator.set_faults("timeout:1.0")
            try:
                return super().add_placement(trainee_id, data)
            finally:
                emulator.set_faults(None)

    return SlowPlacement(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=0.3)


def test_a_lost_answer_is_reported_as_unknown_with_run_again(emulator, tmp_path, closed_at_end):
    rows = [trainee(1)]
    sync_files([str(write_extract(tmp_path / "a.csv", rows))], options(emulator, tmp_path, timeout=0.3))
    rows[0]["placement_3_urn"] = "123456"

    client = slow_placement_client(emulator)
    closed_at_end(client)
    result = sync_files(
        [str(write_extract(tmp_path / "b.csv", rows))], options(emulator, tmp_path, timeout=0.3), client=client
    )
    assert result.exit_code == 3 and result.outcomes == Counter(unknown=1)
    # exit 3 as a stop's is, and said as a stop's line says it (a run that ended "…; 1 unknown." said nothing more)
    # ...with the time the placement's wait ends: a run before then waits again (Register may still add it)
    assert re.match(
        r"1 record: 1 unknown \(run the same sync again after \d\d:\d\d UTC: it looks in Register first\)\. ",
        result.summary_line(),
    ), result.summary_line()
    data, doc = report_of(tmp_path)
    # a record left unknown until a time has its own code, whose fix and summary box say to wait (review157 F1)
    assert [i["code"] for i in data["issues"]] == ["sync_waits"]
    key, tone, text = status_box(doc)
    assert key == "waits" and "status-bad" in tone
    assert text.startswith("1 record waits for a request of its trainee that had no answer.")
    assert "Nothing to fix" not in text and re.search(r"Run the same sync again after \d\d:\d\d UTC", text)
    # the rule's fix, under Rules and fixes (each issue's row links there: review54 F5)
    fix = " ".join(doc.xpath('//tr[@id="rule-sync_waits"]/td[@data-label="Suggested fix"]')[0].text_content().split())
    assert "run the same sync again after the time its message gives" in fix


def test_a_refused_update_beside_a_withdrawal_that_must_wait_is_reported_failed_without_the_held_warning(
    emulator, tmp_path
):
    """sync_held tells people the record's other changes were sent and only its withdrawal waits: not so for a record
    whose update Register refused. It has its own issue (api_rejected), and no warning beside it."""
    first = started_in(2027, trainee(1))  # after the as-of day: its withdrawal waits for the ITT start date (§2.7)
    sync_files([str(write_extract(tmp_path / "a.csv", [first]))], options(emulator, tmp_path))
    changed = {**first, **WITHDRAWN, "withdrawal_date": "2027-12-01", "email": "changed@example.com"}
    refusal = json.dumps({"message": "Validation failed", "errors": ["email is invalid"]}).encode()

    def refused(seen, forward):
        if seen.method == "PUT":
            return 422, {"Content-Type": "application/json"}, refusal
        return None

    with fronting(emulator.url, refused) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        result = sync_files([str(write_extract(tmp_path / "b.csv", [changed]))], fronted)
    assert [(r.plan.action, r.outcome) for r in result.results] == [("update", "failed")] and result.exit_code == 1
    data, _doc = report_of(tmp_path)
    # Validation's warning of the withdrawal dated after today (review211 F1) is the record's own; no sync_held.
    assert [i["code"] for i in data["issues"]] == ["withdrawal_date_in_future", "api_rejected"]
    [errors] = [r["errors"] for r in data["records"]]
    assert len(errors) == 1 and "email is invalid" in errors[0]  # Register's message, not the held withdrawal's
    assert [r["warnings"] for r in data["records"]] == [["withdrawal_date_in_future (withdrawal_date)"]] and data[
        "sync"
    ]["warnings"] == {}
    assert result.summary_line().startswith("1 record: 1 failed, 1 warning. ")


def test_a_placement_left_unanswered_beside_a_withdrawal_that_must_wait_is_unknown_without_the_held_warning(
    emulator, tmp_path, closed_at_end
):
    """As for a refused update: a record whose write may not have happened is `unknown` (run again), not one whose
    changes went through with only its withdrawal waiting."""
    first = started_in(2027, trainee(1))
    sync_files([str(write_extract(tmp_path / "a.csv", [first]))], options(emulator, tmp_path, timeout=0.3))
    changed = {**first, **WITHDRAWN, "withdrawal_date": "2027-12-01", "placement_3_urn": "123456"}

    client = slow_placement_client(emulator)
    closed_at_end(client)
    result = sync_files(
        [str(write_extract(tmp_path / "b.csv", [changed]))], options(emulator, tmp_path, timeout=0.3), client=client
    )
    assert result.exit_code == 3 and result.outcomes == Counter(unknown=1)
    data, _doc = report_of(tmp_path)
    # Validation's warning of the withdrawal dated after today (review211 F1) is the record's own; no sync_held.
    assert [i["code"] for i in data["issues"]] == ["withdrawal_date_in_future", "sync_waits"]
    # our own words say to run again already: not twice (review22)
    assert data["issues"][-1]["message"].endswith("to finish: it adds it only if Register still does not list it")
    assert [r["warnings"] for r in data["records"]] == [["withdrawal_date_in_future (withdrawal_date)"]]
    assert data["sync"]["warnings"] == {}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["SIGTERM", "SIGINT", "SIGHUP"])
def test_a_stop_signal_finishes_the_request_in_flight_and_the_report_says_so(signum, tmp_path):
    """docs/nightly-sync.md §7: on stop, the request in flight is finished; the report then tells the truth. A
    second hangup does not stop at once (docs/exit-codes.md), so the hangup's line does not offer it."""
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 9)])
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, latency_ms=400) as emulator:
        command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        process = subprocess.Popen(
            command,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as from a terminal
        )
        try:
            deadline = time.monotonic() + 60
            while not stats(emulator)["requests"]["by_route"].get("POST /trainees"):
                assert process.poll() is None and time.monotonic() < deadline, process.communicate()
                time.sleep(0.02)
            time.sleep(0.1)  # that create is still on its way: 400 ms before Register answers it
            process.send_signal(signum)
            _out, err = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 3, err
        assert "stopping after the request in flight" in err
        assert ("send it again to stop at once" in err) is (signum != signal.SIGHUP), err
        # a stop asked for is not an error: the line reads as a stop before the run began does
        assert err.splitlines()[-1].startswith("register-batch: interrupted; 8 records: "), err
        data, _doc = report_of(tmp_path)
        outcomes = Counter(r["outcome"] for r in data["records"])
        held_now = Counter(t["hesa_id"] for t in held(emulator))
        # every trainee Register holds is reported done; nothing is left unknown; the rest were not reached
        assert outcomes["done"] == len(held_now) >= 1 and not outcomes["unknown"]
        assert outcomes["done"] + outcomes["pending"] == 8 and outcomes["pending"] >= 1
        emulator.latency = 0  # the slow answers were for the stop to land in one; the resumed run needs none
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert sorted(Counter(t["hesa_id"] for t in held(emulator)).values()) == [1] * 8


def test_a_sigterm_to_the_command_while_its_budget_is_spent_stops_it_at_once(tmp_path):
    """The budget spent (5 requests in 40 s), the run waits for the window to pass. A SIGTERM then was answered
    "stopping after the request in flight", with none in flight: it slept out the window and sent one more create
    before stopping, up to a minute at Register's limit, which is most of systemd's TimeoutStopSec."""
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 9)])
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off"}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        process = subprocess.Popen([*command, "--rate", "5/40"], env=env, stderr=subprocess.PIPE, text=True)
        try:
            deadline = time.monotonic() + 60
            while sum(stats(emulator)["requests"]["by_route"].values()) < 5:
                assert process.poll() is None and time.monotonic() < deadline, process.communicate()
                time.sleep(0.02)
            time.sleep(0.5)  # the fifth request answered: the run now waits for the budget
            creates = stats(emulator)["requests"]["by_route"]["POST /trainees"]
            process.send_signal(signal.SIGTERM)
            _out, err = process.communicate(timeout=20)  # the window has 39 s to go
        finally:
            if process.poll() is None:
                process.kill()
        assert process.returncode == 3, err
        assert stats(emulator)["requests"]["by_route"]["POST /trainees"] == creates >= 1
        data, _doc = report_of(tmp_path)
        assert Counter(r["outcome"] for r in data["records"]) == Counter(done=creates, pending=8 - creates)
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert sorted(Counter(t["hesa_id"] for t in held(emulator)).values()) == [1] * 8


def test_a_stop_while_register_hangs_takes_one_request_timeout_not_every_retry(tmp_path):
    """docs/nightly-sync.md: systemd kills the run TimeoutStopSec after its SIGTERM. With Register hanging, the
    create in flight timed out, and the run then retried the look-up of what became of it, six times a timeout
    (3 minutes 40 s at the default 30 s), so the stop ended in a SIGKILL. Asked to stop, it tries nothing again:
    the next run looks the record up.

    Register hangs from the second create on, by construction (a server in front of the emulator holds it), so
    the stop always lands while a write is out, however fast the machine."""
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 9)])
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off"}
    creates: list[str] = []
    holding, answering_again = threading.Event(), threading.Event()

    def hang_from_the_second_create(seen, _forward):
        """Every request from the second create on (the create, then the look-ups of what became of it) hangs."""
        if answering_again.is_set():
            return None
        if not holding.is_set():
            if seen.method != "POST":
                return None
            creates.append(seen.path)
            if len(creates) == 1:
                return None
            holding.set()
        answering_again.wait(60)  # the client has given up long before: nothing held reaches Register
        return 503, {"Content-Type": "application/json"}, b'{"errors":[{"error":"ServiceUnavailable"}]}'

    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, hang_from_the_second_create) as front,
    ):
        command = sync_command(
            source, front.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat(), "--timeout", "2"
        )
        process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            assert holding.wait(60), process.communicate()
            process.send_signal(signal.SIGTERM)
            stopping = time.monotonic()
            _out, err = process.communicate(timeout=120)
            took = time.monotonic() - stopping
        finally:
            answering_again.set()
            if process.poll() is None:
                process.kill()
        assert process.returncode == 3, err
        assert took < 6, (took, err)  # one 2 s timeout, and the report
        assert "retrying" not in err and "Register stopped answering" not in err, err
        assert "interrupted" in err.splitlines()[-1]
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert sorted(Counter(t["hesa_id"] for t in held(emulator)).values()) == [1] * 8


def stats(emulator) -> dict:
    return httpx.get(f"{emulator.url}/__emulator__/stats").json()


def held(emulator) -> list[dict]:
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return list(client.iter_trainees(academic_cycle=2025, per_page=1000))


def test_a_second_stop_just_after_a_write_reports_the_record_unknown_not_pending(emulator, tmp_path, monkeypatch):
    """Both signals land while the ledger notes a write Register has taken: the record is not 'not reached'."""
    from register_batch.sync.ledger import Ledger

    rows = [trainee(n) for n in range(1, 4)]
    sync_files([str(write_extract(tmp_path / "a.csv", rows))], options(emulator, tmp_path))
    for row in rows:
        row["email"] = row["email"].replace("@", ".new@")
    original = Ledger.record

    def record(self, key, status, **details):
        if status == "in_flight" and details.get("http_status") == 200:  # right after the first update succeeded
            os.kill(os.getpid(), signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, key, status, **details)

    monkeypatch.setattr(Ledger, "record", record)
    # Stopped by people, not by Register: the line says only that (no record is done until Register is looked at).
    with pytest.raises(Interrupted, match=r"^interrupted; 3 records: 1 unknown, 2 not reached\. \d+ requests? "):
        sync_files([str(write_extract(tmp_path / "b.csv", rows))], options(emulator, tmp_path))
    data, _doc = report_of(tmp_path)
    assert [r["outcome"] for r in data["records"]] == ["unknown", "pending", "pending"]


def stop_after_the_first_update(monkeypatch) -> None:
    """A SIGTERM right after the run's first update is noted done in the ledger."""
    from register_batch.sync.ledger import Ledger

    original = Ledger.record

    def record(self, key, status, **details):
        if status == "done" and details.get("http_status") == 200:
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, key, status, **details)

    monkeypatch.setattr(Ledger, "record", record)


def test_a_stopped_runs_line_tells_the_records_written_from_those_already_as_register_holds_them(
    emulator, tmp_path, monkeypatch
):
    """A nightly run stopped part-way: its line is the summary a finished run ends with, so the records that needed
    nothing are "unchanged", not counted with the one written as "records done" (a person on call read "3 records
    done" as three writes), and the rest "not reached"."""
    rows = [trainee(n) for n in range(1, 6)]
    sync_files([str(write_extract(tmp_path / "a.csv", rows))], options(emulator, tmp_path))
    for row in rows[2:]:
        row["email"] = row["email"].replace("@", ".new@")
    stop_after_the_first_update(monkeypatch)
    with pytest.raises(Interrupted) as stopped:
        sync_files([str(write_extract(tmp_path / "b.csv", rows))], options(emulator, tmp_path))
    line = str(stopped.value)
    assert re.match(
        r"interrupted; 5 records: 1 updated, 2 unchanged; 2 not reached\. \d+ requests? \([\d.]+ per record\)\. "
        r"Run the same sync again to resume \(report: .*report\.html\)$",
        line,
    ), line
    assert stats(emulator)["requests"]["by_route"]["PUT /trainees/{trainee_id}"] == 1


def test_a_stopped_runs_line_counts_each_record_once_when_unchanged_ones_were_not_reached(
    emulator, tmp_path, monkeypatch
):
    """Stopped after the first of two updates, before the three unchanged records after them: those three are
    among the "not reached", not also "unchanged" (the line said "1 updated, 3 unchanged; 4 not reached" of 5
    records, and a nightly log of 300 records added up to 479)."""
    rows = [trainee(n) for n in range(1, 6)]
    sync_files([str(write_extract(tmp_path / "a.csv", rows))], options(emulator, tmp_path))
    for row in rows[:2]:
        row["email"] = row["email"].replace("@", ".new@")
    stop_after_the_first_update(monkeypatch)
    with pytest.raises(Interrupted) as stopped:
        sync_files([str(write_extract(tmp_path / "b.csv", rows))], options(emulator, tmp_path))
    assert str(stopped.value).startswith("interrupted; 5 records: 1 updated; 4 not reached. "), str(stopped.value)


def test_a_request_register_fails_after_people_asked_to_stop_is_not_called_an_outage(emulator, tmp_path, closed_at_end):
    """SIGTERM while an update is under way, and Register answers it 500: the client does not retry (a stop takes
    one request at most), and the line says the run was stopped, not that Register stopped answering, which would
    send the person on call to look at Register for nothing. The update is `failed` with its status, as after the
    last retry (docs/exit-codes.md; review39 F5 asked which), and the next run sends it."""
    rows = [trainee(1), trainee(2)]
    sync_files([str(write_extract(tmp_path / "a.csv", rows))], options(emulator, tmp_path))
    for row in rows:
        row["email"] = row["email"].replace("@", ".new@")

    class StoppedThenFailed(RegisterClient):
        def update_trainee(self, trainee_id, data):
            os.kill(os.getpid(), signal.SIGTERM)  # people ask to stop after the request in flight
            emulator.set_faults("500:1.0")
            try:
                return super().update_trainee(trainee_id, data)
            finally:
                emulator.set_faults(None)

    client = StoppedThenFailed(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    changed = [str(write_extract(tmp_path / "b.csv", rows))]
    with pytest.raises(Interrupted) as stopped:
        sync_files(changed, options(emulator, tmp_path), client=client)
    assert str(stopped.value).startswith("interrupted; "), str(stopped.value)
    assert stats(emulator)["requests"]["by_route"]["PUT /trainees/{trainee_id}"] == 1
    result = stopped.value.result
    assert [(r.outcome, r.http_status) for r in result.results] == [("failed", 500), ("pending", None)]
    data, _doc = report_of(tmp_path)
    assert data["sync"]["stopped"]["by"] == "signal" and data["sync"]["requests"]["retries"] == 0
    after = sync_files(changed, options(emulator, tmp_path))
    assert after.exit_code == 0 and after.actions == Counter(update=2), after.summary_line()
    assert sorted(t["email"] for t in held(emulator)) == sorted(row["email"] for row in rows)


def test_a_stop_while_a_create_goes_unanswered_leaves_it_unknown_for_the_next_run_to_look_up(
    emulator, tmp_path, closed_at_end
):
    """Stopped (SIGTERM) while a create's reply was lost: the run writes nothing more, not even the look-up that would
    tell what became of it, and reports the record unknown; the next run looks it up before it writes anything and
    finds it created, once."""
    before = stats(emulator)["requests"]["by_route"].get("GET /trainees", 0)

    client = create_answers_lost(emulator, TOKEN, then=lambda: os.kill(os.getpid(), signal.SIGTERM))
    closed_at_end(client)
    source = str(write_extract(tmp_path / "in.csv", [trainee(1), trainee(2)]))
    with pytest.raises(Interrupted) as stopped:
        sync_files([source], options(emulator, tmp_path), client=client)
    assert stopped.value.result.outcomes == Counter(unknown=1, pending=1)
    assert stopped.value.result.summary_line().startswith("2 records: 1 unknown, 1 not reached. ")
    routes = stats(emulator)["requests"]["by_route"]
    assert routes["POST /trainees"] == 1 and routes["GET /trainees"] - before == 3  # the plan's listings only
    again = sync_files([source], options(emulator, tmp_path))
    assert again.exit_code == 0 and [r.plan.action for r in again.results] == ["unchanged", "create"]
    assert sorted(t["hesa_id"] for t in held(emulator)) == [trainee(1)["hesa_id"], trainee(2)["hesa_id"]]


def test_a_stop_while_the_report_is_written_lets_it_finish(emulator, tmp_path, monkeypatch):
    from register_batch.reports import ReportBuilder

    original = ReportBuilder.write

    def write(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ReportBuilder, "write", write)
    result = sync_files([str(write_extract(tmp_path / "a.csv", [trainee(1)]))], options(emulator, tmp_path))
    assert result.exit_code == 0
    assert all((tmp_path / "reports" / name).exists() for name in ("report.json", "report.html", "results.csv"))


def test_a_second_stop_while_the_report_is_written_stops_it_and_the_next_report_names_what_was_written(
    emulator, tmp_path, monkeypatch
):
    """exit-codes.md: one stop while the report is written lets it finish, a second stops that too; the run then
    has no report, and the next run's report names the writes it made."""
    from register_batch.reports import ReportBuilder

    original = ReportBuilder.write

    def write(self, *args, **kwargs):
        os.kill(os.getpid(), signal.SIGTERM)
        os.kill(os.getpid(), signal.SIGTERM)
        return original(self, *args, **kwargs)

    extract = [str(write_extract(tmp_path / "a.csv", [trainee(1)]))]
    with monkeypatch.context() as patched:
        patched.setattr(ReportBuilder, "write", write)
        with pytest.raises(KeyboardInterrupt):
            sync_files(extract, options(emulator, tmp_path))
    assert not (tmp_path / "reports" / "report.json").exists() and len(held(emulator)) == 1
    again = sync_files(extract, options(emulator, tmp_path))
    assert again.exit_code == 0 and len(held(emulator)) == 1
    [result] = again.results
    assert (result.plan.action, result.warnings()[0][0]) == ("unchanged", "sync_written_earlier"), result.warnings()


def test_a_report_its_disk_will_not_take_after_writes_says_what_was_sent_and_exits_3_and_the_next_report_lists_them(
    tmp_path,
):
    """The sync's writes went through and then its report found the disk full: that was exit 2, which means
    "nothing was sent", with a line that did not say 200 trainees had just been created. 300 invalid records make the
    report far bigger than the ledger, so a file size limit stops the report only."""
    rows = [trainee(n) for n in range(1, 303)]
    for row in rows[2:]:
        row["date_of_birth"] = "not a date"
    source = write_extract(tmp_path / "in.csv", rows)
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "TMPDIR": str(tmp_path)}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, preexec_fn=files_limited_to(400_000)
        )
        assert done.returncode == 3, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith(f"register-batch: error: cannot write {tmp_path / 'reports'}"), line
        assert "The sync went through but has no report" in line and "run the same sync again" in line
        assert "free space there or use another --report-dir, then" in line  # the library says report_dir
        assert "(nothing is sent twice). 302 records: 2 created; 300 invalid." in line
        assert len(held(emulator)) == 2
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 1, again.stderr  # the invalid records; nothing is sent twice
        assert len(held(emulator)) == 2 and stats(emulator)["requests"]["by_route"].get("POST /trainees") == 2
        # The first report to list the two creates: the ledger had marked the run finished before its report was
        # written, so no report ever did (nor after a kill while the report was written).
        data = json.loads((tmp_path / "reports" / "report.json").read_text())
        assert data["sync"]["warnings"] == {"sync_written_earlier": 2}, data["sync"]["warnings"]
        # A run that sent nothing keeps exit 2: it could not start its report, and nothing happened.
        unchanged = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, preexec_fn=files_limited_to(400_000)
        )
        assert unchanged.returncode == 2, unchanged.stderr
        assert unchanged.stderr.startswith(f"register-batch: error: cannot write {tmp_path / 'reports'}")
        assert "went through" not in unchanged.stderr


def test_writes_of_a_run_without_a_report_are_listed_by_the_first_report_after_two_nights_without_one(tmp_path):
    """The report folder's disk stayed full two nights: the first run created two trainees, the second found them in
    Register and settled them as its own with no write, so the third run, the first with a report, named nothing
    and no report ever listed the creates. The first report names them, with the run that wrote them."""
    rows = [trainee(n) for n in range(1, 303)]
    for row in rows[2:]:
        row["date_of_birth"] = "not a date"  # a report far bigger than the ledger: a file size limit stops it only
    source = write_extract(tmp_path / "in.csv", rows)
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "TMPDIR": str(tmp_path)}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        for night, code in enumerate((3, 2), start=1):  # writes, then none: each ends without its report
            full = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=120, preexec_fn=files_limited_to(400_000)
            )
            assert full.returncode == code, (night, full.stderr)
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 1, again.stderr  # the invalid records
        assert len(held(emulator)) == 2 and stats(emulator)["requests"]["by_route"].get("POST /trainees") == 2
        data = json.loads((tmp_path / "reports" / "report.json").read_text())
        named = [(i["record"], i["message"]) for i in data["issues"] if i["code"] == "sync_written_earlier"]
        assert [record for record, _message in named] == [1, 2], data["sync"]["warnings"]
        assert all(message.startswith("written to Register (create) by the sync started") for _r, message in named)
        assert all("(run 1), which ended before its report" in message for _record, message in named), named
        # Said once: the run whose report listed them took them over.
        listed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert listed.returncode == 1, listed.stderr
        data = json.loads((tmp_path / "reports" / "report.json").read_text())
        assert "sync_written_earlier" not in data["sync"]["warnings"], data["sync"]["warnings"]


def _refuse_the_look_up(seen, forward):
    """The look-up after a lost answer (a listing `since` a moment) refused: the write stays unknown."""
    if seen.method == "GET" and "since" in seen.query:
        return 422, {"Content-Type": "application/json"}, b'{"errors":{"since":["is invalid"]}}'
    return None


def a_create_answer_lost(emulator, tmp_path: Path, source: Path) -> list[dict]:
    """A run whose first create Register carries out, its answer lost and the look-up after it refused (the run
    stops): its report's records, the first `unknown`."""
    emulator.set_faults("lost-response:1.0")
    with fronting(emulator.url, _refuse_the_look_up) as front:
        fronted = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        with pytest.raises(Interrupted, match=r"Register refused \(GET /trainees -> 422"):
            sync_files([str(source)], fronted)
    emulator.set_faults(None)
    return json.loads((tmp_path / "reports" / "report.json").read_text())["records"]


def nightly(emulator, tmp_path: Path, source: Path) -> Callable[..., subprocess.CompletedProcess]:
    """`night(disk_full=False)`: a nightly `sync` of `source` in a child process, with the state and report folders
    of `a_create_answer_lost`'s run; `disk_full` leaves no room for its report (a file size limit)."""
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "TMPDIR": str(tmp_path)}
    command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())

    def night(*, disk_full: bool = False) -> subprocess.CompletedProcess:
        limit = files_limited_to(400_000) if disk_full else None
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, preexec_fn=limit)

    return night


def test_a_create_whose_answer_was_lost_is_named_as_gone_through_by_the_first_report_after_a_night_without_one(
    emulator, tmp_path
):
    """A run's report had a create `unknown` (its answer lost, and the look-up for it refused). The next run found
    the trainee in Register and settled the record, then found no room for its report, so the report after it had
    the record unchanged and no report ever said the create had gone through."""
    rows = [trainee(n) for n in range(1, 303)]
    for row in rows[2:]:
        row["date_of_birth"] = "not a date"  # a report far bigger than the ledger: a file size limit stops it only
    source = write_extract(tmp_path / "in.csv", rows)
    assert [r["outcome"] for r in a_create_answer_lost(emulator, tmp_path, source)[:2]] == ["unknown", "pending"]
    night = nightly(emulator, tmp_path, source)
    full = night(disk_full=True)
    assert full.returncode == 3 and "1 created, 1 unchanged; 300 invalid" in full.stderr, full.stderr
    again = night()
    assert again.returncode == 1, again.stderr  # the invalid records
    assert len(held(emulator)) == 2 and stats(emulator)["requests"]["by_route"].get("POST /trainees") == 2
    data = json.loads((tmp_path / "reports" / "report.json").read_text())
    named = {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}
    assert sorted(named) == [1, 2], named
    assert named[1].startswith("written to Register (create) by sync run 1, whose report has the record as unknown")
    assert re.match(r"written to Register \(create\) by the sync started .* \(run 2\), which ended before", named[2])


def test_a_lost_create_of_a_record_that_left_the_extract_is_named_by_the_first_report_after_a_night_without_one(
    emulator, tmp_path
):
    """As above, for a record that then left the extract (a nightly extract of changes): the next run looked the
    create up and settled it before any write, then found no room for its report, and no report ever said the create
    had gone through; the trainee showed only in not_in_extract.csv."""
    source = write_extract(tmp_path / "in.csv", [trainee(1), trainee(2)])
    assert [r["outcome"] for r in a_create_answer_lost(emulator, tmp_path, source)] == ["unknown", "pending"]
    rows = [trainee(n) for n in range(2, 303)]  # the first record gone from the extract
    for row in rows[1:]:
        row["date_of_birth"] = "not a date"  # a report far bigger than the ledger: a file size limit stops it only
    source = write_extract(tmp_path / "in.csv", rows)
    night = nightly(emulator, tmp_path, source)
    full = night(disk_full=True)
    assert full.returncode == 3 and "1 earlier write never answered" in full.stderr, full.stderr
    again = night()
    assert again.returncode == 1, again.stderr  # the invalid records
    assert len(held(emulator)) == 2 and stats(emulator)["requests"]["by_route"].get("POST /trainees") == 2
    data = json.loads((tmp_path / "reports" / "report.json").read_text())
    [went] = data["unanswered_elsewhere"]
    assert (went["hesa_id"], went["operation"], went["settled"]) == (trainee(1)["hesa_id"], "create", "done")
    listed = night()  # said once
    assert listed.returncode == 1 and "never answered" not in listed.stdout + listed.stderr, listed.stderr
    assert json.loads((tmp_path / "reports" / "report.json").read_text())["unanswered_elsewhere"] == []


def test_a_lost_create_in_a_cycle_listed_only_around_a_far_link_is_found_there_not_taken_for_never_carried_out(
    emulator, tmp_path
):
    """A cycle the run lists only for a record whose ledger link is far from it (review72 H1's look for the student's
    other courses) counts as looked in. An earlier run's lost create sent for that cycle, of a record gone from the
    extract, was looked for only among the listings' other trainees, and once its wait was over, settled as never
    carried out: "Register holds no trainee with this HUSID", though Register listed it."""
    sync_files([str(write_extract(tmp_path / "a.csv", [trainee(1)]))], options(emulator, tmp_path))
    lost = write_extract(tmp_path / "b.csv", [trainee(2)])
    assert [r["outcome"] for r in a_create_answer_lost(emulator, tmp_path, lost)] == ["unknown"]
    minutes_pass(tmp_path, 120)  # Register can no longer carry it out later: the look tells
    moved = started_in(2026, trainee(1))  # a year from its trainee: 2025 (the lost create's cycle) is listed around it
    result = sync_files([str(write_extract(tmp_path / "c.csv", [moved]))], options(emulator, tmp_path))
    assert [r.plan.action for r in result.results] == ["update"], result.summary_line()
    [went] = json.loads((tmp_path / "reports" / "report.json").read_text())["unanswered_elsewhere"]
    assert (went["hesa_id"], went["operation"], went["settled"]) == (trainee(2)["hesa_id"], "create", "done"), went


def test_a_report_its_disk_will_not_take_after_a_run_was_stopped_says_the_run_stopped_part_way(tmp_path):
    """As above, for a run stopped (SIGTERM) while its first create was out: "went through" would tell people every
    record had been sent, when the second was not reached."""
    rows = [trainee(n) for n in range(1, 303)]
    for row in rows[2:]:
        row["date_of_birth"] = "not a date"
    source = write_extract(tmp_path / "in.csv", rows)
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "TMPDIR": str(tmp_path)}
    running: list[subprocess.Popen] = []

    def stop_at_the_first_create(seen, _forward):
        if seen.method == "POST" and seen.path.endswith("/trainees"):
            running[0].send_signal(signal.SIGTERM)

    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, stop_at_the_first_create) as front,
    ):
        command = sync_command(source, front.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        child = subprocess.Popen(
            command, env=env, stderr=subprocess.PIPE, text=True, preexec_fn=files_limited_to(400_000)
        )
        running.append(child)
        _out, err = child.communicate(timeout=120)
        assert child.returncode == 3, err
        [warning, line] = err.splitlines()
        assert "SIGTERM: stopping after the request in flight" in warning
        assert "The sync stopped part-way but has no report" in line, line
        assert "302 records: 1 created; 300 invalid, 1 not reached." in line
        assert len(held(emulator)) == 1


def test_a_library_caller_whose_report_cannot_be_written_after_writes_gets_the_runs_result(
    emulator, tmp_path, closed_at_end
):
    """docs/library.md: a stopped run raises Interrupted with its `result`, the run's SyncResult up to then: also when
    it is the report that could not be written after writes (here its folder became a file while the run wrote)."""
    reports = tmp_path / "reports"

    class FolderReplacedByAFile(RegisterClient):
        def create_trainee(self, data):
            created = super().create_trainee(data)
            if reports.is_dir():
                shutil.rmtree(reports)
            reports.write_text("not a folder")
            return created

    client = FolderReplacedByAFile(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(Interrupted, match="The sync went through but has no report") as stopped:
        sync_files([str(write_extract(tmp_path / "in.csv", [trainee(1)]))], options(emulator, tmp_path), client=client)
    assert stopped.value.result is not None and stopped.value.result.outcomes == Counter(done=1)
    assert stopped.value.result.actions == Counter(create=1) and stopped.value.result.report_paths == {}


@pytest.mark.parametrize("room_for_the_report", [True, False])
def test_a_token_refused_part_way_says_what_was_done_and_where_the_report_is(tmp_path, room_for_the_report):
    """A token revoked or expired mid-run: exit 2, as for a wrong token, whose line said only that the token was
    refused (docs/exit-codes.md: exit 2 "nothing was sent"), though 5 trainees had been created and a report said so.
    The line now also says what was done and where the report is, or that there is none and why."""
    # Without room: 500 invalid records make a report too big for the file size limit (report.html, 1 MB), and the
    # ledger fits under it (its write-ahead log peaks at about 630 KB).
    valid = 20 if room_for_the_report else 6
    rows = [trainee(n) for n in range(1, valid + 1 if room_for_the_report else valid + 501)]
    for row in rows[valid:]:
        row["date_of_birth"] = "not a date"
    source = write_extract(tmp_path / "in.csv", rows)
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "TMPDIR": str(tmp_path)}
    creates: list[int] = []

    def revoked_after_five_creates(seen, _forward):
        if seen.method == "POST" and seen.path.endswith("/trainees"):
            creates.append(1)
            if len(creates) > 5:
                return 401, {"Content-Type": "application/json"}, b'{"error":"Unauthorized"}'
        return None

    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, revoked_after_five_creates) as front,
    ):
        reports = tmp_path / "reports"
        command = sync_command(source, front.url, tmp_path / "state", reports, AS_OF.isoformat())
        limit = None if room_for_the_report else files_limited_to(800_000)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, preexec_fn=limit)
        assert len(held(emulator)) == 5, done.stderr
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert line.startswith("register-batch: error: POST /trainees -> 401: Unauthorized; Register refused"), line
    assert (  # where the token came from, and where a good one goes (review183 F1)
        "Register refused the API token from $REGISTER_API_TOKEN: give an active token of this service in "
        "$REGISTER_API_TOKEN (" in line
    ), line
    if room_for_the_report:
        assert "; interrupted; 20 records: 5 created; 15 not reached." in line, line
        said = f"Run the same sync again to resume (report: {reports / 'report.html'})"
        assert re.search(re.escape(said) + r"\. Ledger run 1, [0-9T:.-]+Z\.$", line), line  # review208 F6
        assert json.loads((reports / "report.json").read_text())["sync"]["outcomes"] == {"done": 5, "pending": 15}
        key, _tone, text = status_box(lxml.html.fromstring((reports / "report.html").read_bytes()))
        assert key == "interrupted" and "Register refused the API token part-way. 5 of 20 records done, 15 not " in text
        assert "not reached. Get a token" in text  # Register's answer is said once, in the sync section
        assert "Get a token Register accepts (a revoked or expired one is refused), then run the same" in text
        [why] = lxml.html.fromstring((reports / "report.html").read_bytes()).xpath("//*[@data-stopped]")
        assert why.text_content().startswith("POST /trainees -> 401: Unauthorized; Register refused the API token")
    else:
        assert "The sync stopped part-way but has no report: free space there or use another --report-dir" in line
        assert "(nothing is sent twice). 506 records: 5 created; 500 invalid, 1 not reached." in line, line


@pytest.mark.parametrize("answered", ["refused", "unanswered"])
def test_a_report_its_disk_will_not_take_after_writes_register_refused_or_left_unanswered_exits_3(tmp_path, answered):
    """A write Register refused (422), or whose answer was lost and not found again, was sent all the same: a report
    the disk will not take then exits 3 with the summary line, as after writes that went through, not 2 ("nothing was
    sent", docs/exit-codes.md)."""
    rows = [trainee(n) for n in range(1, 303)]
    for row in rows[2:]:
        row["date_of_birth"] = "not a date"
    source = write_extract(tmp_path / "in.csv", rows)
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "TMPDIR": str(tmp_path)}
    refusal = json.dumps({"message": "Validation failed", "errors": ["email is invalid"]}).encode()

    def refused_or_not_found_again(seen, _forward):
        if answered == "refused" and seen.method == "POST" and seen.path.endswith("/trainees"):
            return 422, {"Content-Type": "application/json"}, refusal
        if answered == "unanswered" and seen.method == "GET" and "since" in seen.query:
            return 422, {"Content-Type": "application/json"}, b'{"errors":{"since":["is invalid"]}}'
        return None

    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, refused_or_not_found_again) as front,
    ):
        if answered == "unanswered":
            emulator.set_faults("lost-response:1.0")
        command = sync_command(source, front.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, preexec_fn=files_limited_to(400_000)
        )
    assert done.returncode == 3, done.stderr
    line = done.stderr.splitlines()[-1]
    assert line.startswith("register-batch: error: ") and "but has no report" in line, line
    said = "300 invalid, 2 failed." if answered == "refused" else "300 invalid, 1 unknown, 1 not reached."
    assert f"(nothing is sent twice). 302 records: {said}" in line, line


def test_only_records_a_run_that_stopped_without_a_report_wrote_and_nothing_is_left_to_send_for_are_named_so(
    emulator, tmp_path, closed_at_end
):
    """A run that ended without its report (here a bug stopped it part-way) wrote two updates, and found a record
    unchanged. The next report names both updates: the one Register now holds as the extract says, and the other,
    changed again and updated by this run, without saying Register holds it as the extract says; not the record that
    run did not write, nor those it never reached (created by the run before)."""
    rows = [trainee(n) for n in (1, 2, 3, 4, 5)]
    first = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert first.actions == Counter(create=5), first.summary_line()

    class BugOnThirdUpdate(RegisterClient):
        def update_trainee(self, trainee_id, data):
            if self.stats.by_route.get("PUT /trainees/{trainee_id}", 0) == 2:
                raise RuntimeError("a bug")
            return super().update_trainee(trainee_id, data)

    for row in (rows[0], rows[2], rows[3]):  # records 2 and 5 unchanged
        row["email"] = row["email"].replace("@", ".new@")
    client = BugOnThirdUpdate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(RuntimeError, match="a bug"):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)

    rows[0]["email"] = "changed.again@example.org"  # written by the stopped run, and changed again since
    after = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert after.exit_code == 0 and after.actions == Counter(update=2, unchanged=3), after.summary_line()
    data, _doc = report_of(tmp_path)
    named = {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}
    assert sorted(named) == [1, 3], named
    by = r"written to Register \(update\) by the sync started \d{4}-\d\d-\d\d.\d\d:\d\d:\d\d UTC \(run 2\)"
    assert re.match(by + ", which ended before its report: Register holds the record as the extract says", named[3])
    assert re.fullmatch(by + ", which ended before its report", named[1]), named[1]


class BugOnThirdCreate(RegisterClient):
    """Register creates two trainees, then a bug stops the run: it ends without its report."""

    def create_trainee(self, data):
        if self.stats.by_route.get("POST /trainees", 0) == 2:
            raise RuntimeError("a bug")
        return super().create_trainee(data)


def test_a_create_by_a_run_without_a_report_is_named_on_a_record_changed_since_and_updated(
    emulator, tmp_path, closed_at_end
):
    """A run that ended without its report created two trainees; the first record then changed in the SRS. The next
    run updated it, and its report called it updated only: no report said the trainee had been created. It names the
    create on both records (the changed one without saying Register holds it as the extract says), once."""
    rows = [trainee(n) for n in (1, 2, 3)]
    client = BugOnThirdCreate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(RuntimeError, match="a bug"):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
    assert len(held(emulator)) == 2

    rows[0]["email"] = "changed.since@example.org"
    after = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert after.exit_code == 0 and after.actions == Counter(update=1, unchanged=1, create=1), after.summary_line()
    data, _doc = report_of(tmp_path)
    named = {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}
    assert sorted(named) == [1, 2], named
    assert re.fullmatch(
        r"written to Register \(create\) by the sync started .* \(run 1\), which ended before its report", named[1]
    )
    assert "Register holds the record as the extract says" in named[2]

    again = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert again.actions == Counter(unchanged=3), again.summary_line()
    assert not [r.warnings() for r in again.results if r.warnings()]


def test_a_dry_run_does_not_claim_to_be_the_first_report_to_list_an_earlier_runs_writes(
    emulator, tmp_path, closed_at_end
):
    """review106 F4: a dry run settles nothing, so the real run after it names the same earlier writes again: both
    reports said they were "the first to list" them, in the summary box and on each record. The dry run says the
    next real run's report is the first; that report says it is, and the one after names them no more."""
    rows = [trainee(n) for n in (1, 2, 3)]
    client = BugOnThirdCreate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    extract = [str(write_extract(tmp_path / "in.csv", rows))]
    with pytest.raises(RuntimeError, match="a bug"):
        sync_files(extract, options(emulator, tmp_path), client=client)

    def written_earlier(dry_run: bool) -> tuple[dict[int, str], str]:
        sync_files(extract, options(emulator, tmp_path, dry_run=dry_run))
        data, doc = report_of(tmp_path)
        named = {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}
        return named, status_box(doc)[2]

    named, box = written_earlier(True)
    assert sorted(named) == [1, 2]
    assert not [m for m in named.values() if "the first report to list it" in m], named
    assert all(
        m.endswith("; a dry run settles nothing: the next real run's report is the first to list it")
        for m in named.values()
    ), named
    assert "this report is the first to list them" not in box
    assert "a dry run settles nothing, so the next real run's report is the first to list them" in box

    named, box = written_earlier(False)
    assert sorted(named) == [1, 2]
    assert all(m.endswith("; this is the first report to list it") for m in named.values()), named
    assert "Register holds each once; this report is the first to list them (see Records)." in box

    named, _box = written_earlier(False)
    assert named == {}


def test_a_create_by_a_run_without_a_report_is_named_on_a_record_now_in_conflict_by_the_first_report_written(
    emulator, tmp_path, closed_at_end, monkeypatch
):
    """A run that ended without its report created two trainees; the first record was then given the SRS id of a
    trainee an earlier run created (a typo), so it matches two trainees and is held back as a conflict. The next
    report names the create; a run in between that itself ends without a report leaves it to the report after (the
    conflict settled in the ledger only once a report names it), and a report that named it does not name it again."""
    from register_batch.reports import ReportBuilder

    sync_files([str(write_extract(tmp_path / "in.csv", [trainee(4)]))], options(emulator, tmp_path))
    rows = [trainee(n) for n in (1, 2, 3)]
    client = BugOnThirdCreate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(RuntimeError, match="a bug"):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
    rows[0]["provider_trainee_id"] = trainee(4)["provider_trainee_id"]
    extract = [str(write_extract(tmp_path / "in.csv", rows))]

    def no_report(self, *args, **kwargs):
        raise RuntimeError("a bug in the report")

    with monkeypatch.context() as patched:
        patched.setattr(ReportBuilder, "write", no_report)
        with pytest.raises(RuntimeError, match="a bug in the report"):
            sync_files(extract, options(emulator, tmp_path))
    after = sync_files(extract, options(emulator, tmp_path))
    assert after.actions == Counter(conflict=1, unchanged=2), after.summary_line()
    data, _doc = report_of(tmp_path)
    named = {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}
    assert sorted(named) == [1, 2, 3], named  # the third created by the run in between
    assert re.fullmatch(
        r"written to Register \(create\) by the sync started .* \(run 2\), which ended before its report", named[1]
    )
    assert len(held(emulator)) == 4

    again = sync_files(extract, options(emulator, tmp_path))
    assert again.actions == Counter(conflict=1, unchanged=2), again.summary_line()
    data, _doc = report_of(tmp_path)
    assert "sync_written_earlier" not in data["sync"]["warnings"], data["sync"]["warnings"]


def test_a_create_then_a_deferral_by_a_run_without_a_report_names_the_create(emulator, tmp_path, closed_at_end):
    """A record's entry moves on from its create to its next write: a run that created and deferred one trainee, and
    created another and ended (a bug) while its deferral was out, left no trace of either create, and the next
    report named the first "(defer)" only and the second not at all. Each create is named, once."""
    deferral = {"defer_date": "2026-03-01", "defer_reason": "Illness"}
    rows = [{**trainee(1), **deferral}, {**trainee(2), **deferral}]

    class BugOnSecondDeferral(RegisterClient):
        def defer(self, trainee_id, data):
            if self.stats.by_route.get("POST /trainees/{trainee_id}/defer", 0) == 1:
                raise RuntimeError("a bug")
            return super().defer(trainee_id, data)

    client = BugOnSecondDeferral(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    extract = [str(write_extract(tmp_path / "in.csv", rows))]
    with pytest.raises(RuntimeError, match="a bug"):
        sync_files(extract, options(emulator, tmp_path), client=client)
    assert len(held(emulator)) == 2

    after = sync_files(extract, options(emulator, tmp_path))
    assert [r.plan.action for r in after.results] == ["unchanged", "defer"], after.summary_line()
    data, _doc = report_of(tmp_path)
    named = {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}
    by = r"by the sync started .* UTC \(run 1\), which ended before its report"
    assert re.fullmatch(
        r"written to Register \(create, then defer\) " + by + ": Register holds the record as the "
        "extract says; this is the first report to list it",
        named[1],
    ), named[1]
    assert re.fullmatch(r"written to Register \(create\) " + by, named[2]), named[2]

    again = sync_files(extract, options(emulator, tmp_path))
    assert again.actions == Counter(unchanged=2) and not [r for r in again.results if r.warnings()]


def test_a_create_whose_withdrawal_register_refused_is_counted_created_by_its_own_report(
    emulator, tmp_path, closed_at_end
):
    """The create went through and the withdrawal after it was refused: the record keeps action create, its outcome
    failed, and the summary counts it created as well as failed (it counted it failed only, so a person read the
    trainee as not in Register). The next report, having nothing new to say of the create, says nothing of it."""
    from register_batch.api import Unprocessable

    class RefusedWithdrawal(RegisterClient):
        def withdraw(self, trainee_id, data):
            raise Unprocessable("POST", f"/trainees/{trainee_id}/withdraw", 422, ["withdrawal_reasons is invalid"])

    client = RefusedWithdrawal(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    extract = [str(write_extract(tmp_path / "in.csv", [{**trainee(1), **WITHDRAWN}, trainee(2)]))]
    first = sync_files(extract, options(emulator, tmp_path), client=client)
    assert first.summary_line().startswith("2 records: 2 created; 1 failed."), first.summary_line()
    data, _doc = report_of(tmp_path)
    assert [(r["action"], r["outcome"], bool(r["trainee_id"])) for r in data["records"]] == [
        ("create", "failed", True),
        ("create", "done", True),
    ]
    assert data["sync"]["written"] == {"create": 2}
    assert [(i["code"], i["field"], i["message"]) for i in data["issues"] if i["record"] == 1] == [
        (
            "api_rejected",
            None,  # the withdrawal's fields are not the record's (record.data)
            "withdrawal_reasons is invalid (the trainee itself was created by this run: "
            f"{data['records'][0]['trainee_id']})",
        )
    ]
    after = sync_files(extract, options(emulator, tmp_path))
    assert [r.plan.action for r in after.results] == ["withdraw", "unchanged"], after.summary_line()
    data, _doc = report_of(tmp_path)
    assert [i for i in data["issues"] if i["code"] == "sync_written_earlier"] == []
    again = sync_files(extract, options(emulator, tmp_path))
    assert again.actions == Counter(unchanged=2) and not [r for r in again.results if r.warnings()]


def test_a_create_whose_withdrawal_register_refuses_as_a_state_change_is_created_and_blocked_not_unwritten(tmp_path):
    """Register (here a day before the ITT start: sync --as-of later than Register's today) refuses the withdrawal of
    the trainee just created with a StateTransitionError. The record was `blocked`, action and outcome, its report
    saying nothing was written, its summary counting it blocked only: a person told so could add the trainee by hand
    and make a second one. It keeps action create, its outcome blocked (sync_blocked, exit 1), and is counted
    created."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=date(2025, 8, 15), seed=7) as early:
        extract = [str(write_extract(tmp_path / "in.csv", [{**trainee(1), **WITHDRAWN}, trainee(2)]))]
        first = sync_files(extract, options(early, tmp_path))
        assert first.summary_line().startswith("2 records: 2 created; 1 blocked, 1 warning."), first.summary_line()
        assert first.exit_code == 1
        data, doc = report_of(tmp_path)
        _key, _tone, said = status_box(doc)
        assert "1 record cannot be changed through the API." in said and "A record whose action is create was" in said
        assert "not written" not in " ".join(doc.text_content().split())
        assert [(r["action"], r["outcome"], r["http_status"]) for r in data["records"]] == [
            ("create", "blocked", 422),
            ("create", "done", 201),
        ]
        assert [(i["code"], i["severity"]) for i in data["issues"] if i["record"] == 1] == [("sync_blocked", "warning")]
        [blocked] = [i["message"] for i in data["issues"] if i["record"] == 1]
        trainee_id = data["records"][0]["trainee_id"]
        assert blocked.endswith(f" (the trainee itself was created by this run: {trainee_id})"), blocked
        assert sorted((t["hesa_id"], t["state"]) for t in held(early)) == [
            (trainee(1)["hesa_id"], "trn_received"),
            (trainee(2)["hesa_id"], "trn_received"),
        ]
        after = sync_files(extract, options(early, tmp_path))
        assert [(r.plan.action, r.outcome) for r in after.results] == [("blocked", "blocked"), ("unchanged", "done")]
        data, _doc = report_of(tmp_path)
        assert [i for i in data["issues"] if i["code"] == "sync_written_earlier"] == []


def test_a_create_known_only_from_its_entry_is_kept_when_a_run_without_a_report_replaces_the_entry(
    emulator, tmp_path, closed_at_end, monkeypatch
):
    """A run was killed as it noted the create Register had answered (its entry says create, in flight), and the next
    run was killed after the record's withdrawal: that replaced the entry, and the third report named the withdrawal
    only. The create is kept apart before any write of the second run, and named."""
    from register_batch.sync.ledger import Ledger

    noting = Ledger.record

    def killed_as_it_notes_the_create(self, key, status, **details):
        if details.get("created"):
            raise RuntimeError("killed")
        return noting(self, key, status, **details)

    class KilledAfterTheWithdrawal(RegisterClient):
        def withdraw(self, trainee_id, data):
            super().withdraw(trainee_id, data)
            raise RuntimeError("killed")

    extract = [str(write_extract(tmp_path / "in.csv", [{**trainee(1), **WITHDRAWN}]))]
    with monkeypatch.context() as patched:
        patched.setattr(Ledger, "record", killed_as_it_notes_the_create)
        with pytest.raises(RuntimeError, match="killed"):
            sync_files(extract, options(emulator, tmp_path))
    client = KilledAfterTheWithdrawal(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(RuntimeError, match="killed"):
        sync_files(extract, options(emulator, tmp_path), client=client)
    after = sync_files(extract, options(emulator, tmp_path))
    assert after.actions == Counter(unchanged=1) and len(held_in(emulator, 2025)) == 1, after.summary_line()
    [warning] = [message for code, message in after.results[0].warnings() if code == "sync_written_earlier"]
    assert re.fullmatch(
        r"written to Register \(create\) by the sync started .* \(run 1\), which ended before its report and "
        r"\(withdraw\) by the sync started .* \(run 2\), which ended before its report: Register holds the record "
        r"as the extract says; this is the first report to list it",
        warning,
    ), warning


def test_a_kept_create_of_a_record_that_left_the_extract_is_named_once_not_again_when_it_comes_back(
    emulator, tmp_path, closed_at_end
):
    """A create's answer was lost (a stop while it was out); the next run kept it apart and was stopped before the
    record; the record then left the extract, and that run named the create as gone through (unanswered_elsewhere).
    The create kept apart was not forgotten, so when the record came back its create was named a second time."""

    class StoppedWhileTheCreateIsOut(RegisterClient):
        def create_trainee(self, data):
            created = super().create_trainee(data)
            if data["hesa_id"] == trainee(1)["hesa_id"]:
                raise KeyboardInterrupt
            return created

    class StoppedBeforeAnUpdate(RegisterClient):
        def update_trainee(self, trainee_id, data):
            raise KeyboardInterrupt

    rows = [trainee(3), trainee(1)]
    for client_class in (StoppedWhileTheCreateIsOut, StoppedBeforeAnUpdate):
        client = client_class(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
        closed_at_end(client)
        with pytest.raises(Interrupted):
            sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
        rows[0] = {**rows[0], "email": "changed@example.org"}
    without = sync_files([str(write_extract(tmp_path / "in.csv", rows[:1]))], options(emulator, tmp_path))
    data, _doc = report_of(tmp_path)
    [went] = data["unanswered_elsewhere"]
    assert (went["hesa_id"], went["operation"], went["settled"]) == (trainee(1)["hesa_id"], "create", "done")
    assert without.exit_code == 0, without.summary_line()
    back = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert back.actions == Counter(unchanged=2) and not [r.warnings() for r in back.results if r.warnings()]


def test_a_trainee_adopted_after_a_409_by_a_run_without_a_report_is_not_named_as_created(
    emulator, tmp_path, closed_at_end, monkeypatch
):
    """Register had the trainee (someone added it after the listing), so the create met a 409 and the run took the
    trainee over, then ended without its report: the next report said it was "written to Register (create)"."""
    from register_batch.reports import ReportBuilder

    sync_files([str(write_extract(tmp_path / "theirs.csv", [trainee(1)]))], options(emulator, tmp_path / "theirs"))

    class ListedBeforeItWasAdded(RegisterClient):
        def iter_trainees(self, **query):
            yield from (t for t in super().iter_trainees(**query) if t.get("hesa_id") != trainee(1)["hesa_id"])

    def no_report(self, *args, **kwargs):
        raise RuntimeError("a bug in the report")

    client = ListedBeforeItWasAdded(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    extract = [str(write_extract(tmp_path / "in.csv", [trainee(1)]))]
    with monkeypatch.context() as patched:
        patched.setattr(ReportBuilder, "write", no_report)
        with pytest.raises(RuntimeError, match="a bug in the report"):
            sync_files(extract, options(emulator, tmp_path), client=client)
    assert stats(emulator)["requests"]["by_status"].get("409") == 1
    after = sync_files(extract, options(emulator, tmp_path))
    assert after.actions == Counter(unchanged=1) and after.results[0].warnings() == [], after.results[0].warnings()


def test_a_kept_create_whose_withdrawal_was_settled_while_its_record_was_away_is_named_when_it_comes_back(
    emulator, tmp_path, closed_at_end
):
    """A run created and withdrew a trainee and ended (a bug) as the withdrawal's answer came back, without a report.
    The next extract lacked the record: its report settled the withdrawal (unanswered_elsewhere) and forgot the create
    kept apart with it, so when the record came back no report had counted the trainee as created."""

    class BugAsTheWithdrawalIsAnswered(RegisterClient):
        def withdraw(self, trainee_id, data):
            super().withdraw(trainee_id, data)
            raise RuntimeError("a bug")

    rows = [{**trainee(1), **WITHDRAWN}, trainee(2)]
    client = BugAsTheWithdrawalIsAnswered(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(RuntimeError, match="a bug"):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
    sync_files([str(write_extract(tmp_path / "in.csv", rows[1:]))], options(emulator, tmp_path))
    data, _doc = report_of(tmp_path)
    assert [(u["operation"], u["settled"]) for u in data["unanswered_elsewhere"]] == [("withdraw", "done")]
    back = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    named = [dict(r.warnings()).get("sync_written_earlier") for r in back.results]
    assert named[1] is None and re.fullmatch(
        r"written to Register \(create\) by the sync started .* UTC \(run 1\), which ended before its report: "
        "Register holds the record as the extract says; this is the first report to list it",
        named[0] or "",
    ), named


def test_a_create_whose_withdrawal_was_left_unknown_by_a_stop_is_counted_created_by_the_stopped_runs_report(
    emulator, tmp_path, closed_at_end
):
    """Stopped as the withdrawal's answer came back: the interrupted run's report counts the create (its record's
    outcome unknown, for the withdrawal), and the next report names the withdrawal only, not the create again."""

    class StoppedAsTheWithdrawalIsAnswered(RegisterClient):
        def withdraw(self, trainee_id, data):
            super().withdraw(trainee_id, data)
            raise KeyboardInterrupt

    rows = [{**trainee(1), **WITHDRAWN}, trainee(2)]
    client = StoppedAsTheWithdrawalIsAnswered(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(Interrupted) as stopped:
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
    assert stopped.value.result.summary_line().startswith("2 records: 1 created; 1 unknown, 1 not reached.")
    data, _doc = report_of(tmp_path)
    assert [(r["action"], r["outcome"]) for r in data["records"]] == [("create", "unknown"), ("create", "pending")]
    [unknown] = [i["message"] for i in data["issues"] if i["record"] == 1]
    assert unknown.startswith("stopped while writing this record; run the same sync again to finish (the trainee ")
    assert unknown.endswith(f"itself was created by this run: {data['records'][0]['trainee_id']})"), unknown
    back = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert [r.plan.action for r in back.results] == ["unchanged", "create"], back.summary_line()
    assert [dict(r.warnings()).get("sync_written_earlier") for r in back.results] == [
        "written to Register (withdraw) by sync run 1, whose report has the record as unknown (the answer was lost): "
        "Register holds the record as the extract says",
        None,
    ]


def test_a_lost_create_of_a_record_now_in_conflict_is_named(emulator, tmp_path, closed_at_end):
    """A create's answer was lost (its report: unknown); the record was then given the SRS id of another trainee, so
    the next run held it back as a conflict, replaced its entry, and no report said the create had gone through."""
    sync_files([str(write_extract(tmp_path / "in.csv", [trainee(4)]))], options(emulator, tmp_path))
    rows = [trainee(1), trainee(2)]
    source = write_extract(tmp_path / "in.csv", rows)
    assert [r["outcome"] for r in a_create_answer_lost(emulator, tmp_path, source)] == ["unknown", "pending"]
    rows[0]["provider_trainee_id"] = trainee(4)["provider_trainee_id"]
    after = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert [r.plan.action for r in after.results] == ["conflict", "create"], after.summary_line()
    data, _doc = report_of(tmp_path)
    named = {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}
    assert named == {
        1: "written to Register (create) by sync run 2, whose report has the record as unknown (the answer was lost)"
    }, named


def test_a_write_named_beside_a_warning_that_register_differs_does_not_say_register_holds_it_as_the_extract_says(
    emulator, tmp_path, closed_at_end
):
    """A run created and withdrew a trainee and ended without its report; the SRS then corrected the withdrawal date.
    The next report's row said both "not as this record says" and "Register holds the record as the extract says"."""
    leaving = {**trainee(1), **WITHDRAWN}
    client = BugOnThirdCreate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    rows = [leaving, trainee(2), trainee(3)]
    with pytest.raises(RuntimeError, match="a bug"):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
    rows[0] = {**leaving, "withdrawal_date": "2026-02-03"}
    after = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    first = after.results[0]
    codes = dict(first.warnings())
    assert set(codes) == {"sync_state_details_differ", "sync_written_earlier"}, codes
    assert "(create, then withdraw)" in codes["sync_written_earlier"]
    assert "Register holds the record as the extract says" not in codes["sync_written_earlier"]
    assert codes["sync_written_earlier"].endswith("which ended before its report; this is the first report to list it")


def test_a_create_whose_answer_was_lost_is_named_as_gone_through_on_a_record_changed_since(emulator, tmp_path):
    """A run's report had a create `unknown` (its answer lost, the look-up refused); the record then changed. The next
    run found the trainee by its HUSID and updated it: its report said updated, and no report said created."""
    rows = [trainee(1), trainee(2)]
    source = write_extract(tmp_path / "in.csv", rows)
    assert [r["outcome"] for r in a_create_answer_lost(emulator, tmp_path, source)] == ["unknown", "pending"]
    rows[0]["email"] = "changed.since@example.org"
    after = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert after.actions == Counter(update=1, create=1), after.summary_line()
    data, _doc = report_of(tmp_path)
    named = {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}
    assert named == {
        1: "written to Register (create) by sync run 1, whose report has the record as unknown (the answer was lost)"
    }, named
    assert len(held(emulator)) == 2


def test_a_write_register_refused_in_a_run_that_stopped_without_a_report_is_not_named_as_written(
    emulator, tmp_path, closed_at_end
):
    """The run that stopped had one update refused (Register's 422) and one carried out. Both records are unchanged
    in the next run (the first set back as Register holds it): only the update Register took is named as written
    by that run; the refused one was never written."""
    from register_batch.api import Unprocessable

    rows = [trainee(n) for n in (1, 2, 3)]
    sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    held_email = rows[0]["email"]

    class RefusedThenBug(RegisterClient):
        puts = 0

        def update_trainee(self, trainee_id, data):
            RefusedThenBug.puts += 1
            if RefusedThenBug.puts == 1:
                path = f"/trainees/{trainee_id}"
                raise Unprocessable("PUT", path, 422, ["email is invalid"], body={"errors": ["email is invalid"]})
            if RefusedThenBug.puts == 3:
                raise RuntimeError("a bug")
            return super().update_trainee(trainee_id, data)

    for row in rows:
        row["email"] = row["email"].replace("@", ".new@")
    client = RefusedThenBug(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(RuntimeError, match="a bug"):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
    assert RefusedThenBug.puts == 3

    rows[0]["email"] = held_email  # the refused change given up: the record is as Register holds it
    after = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert after.actions == Counter(unchanged=2, update=1), after.summary_line()
    data, _doc = report_of(tmp_path)
    named = [i["record"] for i in data["issues"] if i["code"] == "sync_written_earlier"]
    assert named == [2], named


class _matching(str):
    """A string equal to any message the regular expression matches in full, for comparing dicts of messages."""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, str) and re.fullmatch(str(self), other) is not None

    __hash__ = str.__hash__


def _written_earlier(tmp_path: Path) -> dict[int, str]:
    """Record -> its `sync_written_earlier` message, in the last report written."""
    data, _doc = report_of(tmp_path)
    return {i["record"]: i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"}


def _without_a_report(monkeypatch, extract: list[str], options: SyncOptions, **kwargs) -> None:
    """A sync of `extract` that writes what it plans and ends before its report (a bug in the report)."""
    from register_batch.reports import ReportBuilder

    def no_report(self, *args, **kwargs):
        raise RuntimeError("a bug in the report")

    with monkeypatch.context() as patched:
        patched.setattr(ReportBuilder, "write", no_report)
        with pytest.raises(RuntimeError, match="a bug in the report"):
            sync_files(extract, options, **kwargs)


def test_an_update_by_a_run_without_a_report_is_named_on_a_record_now_in_conflict_by_the_first_report_written(
    emulator, tmp_path, monkeypatch
):
    """As for a create, for an update (which the ledger knows from the record's entry alone): a run in between, itself
    without a report, that held the record back as a conflict must not replace its entry, or no report names the
    update."""
    sync_files([str(write_extract(tmp_path / "in.csv", [trainee(4)]))], options(emulator, tmp_path))
    rows = [trainee(1), trainee(2)]
    sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    rows[0]["email"] = "changed@example.org"
    _without_a_report(monkeypatch, [str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    rows[0]["provider_trainee_id"] = trainee(4)["provider_trainee_id"]  # a typo: it matches two trainees
    extract = [str(write_extract(tmp_path / "in.csv", rows))]
    _without_a_report(monkeypatch, extract, options(emulator, tmp_path))

    after = sync_files(extract, options(emulator, tmp_path))
    assert [(r.plan.action, r.outcome) for r in after.results] == [("conflict", "skipped"), ("unchanged", "done")]
    assert _written_earlier(tmp_path) == {
        1: _matching(r"written to Register \(update\) by the sync started .* \(run 3\), which ended before its report")
    }
    again = sync_files(extract, options(emulator, tmp_path))
    assert again.actions == Counter(conflict=1, unchanged=1) and _written_earlier(tmp_path) == {}


def test_an_update_left_by_two_runs_without_a_report_is_named_as_an_update_not_as_a_create(
    emulator, tmp_path, monkeypatch
):
    """Only a create is kept apart from the record's entry: an update by a run without a report, which the next run
    (itself without a report) found as Register holds it, is named by the first report as the update it was."""
    rows = [trainee(1), trainee(2)]
    sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    rows[0]["email"] = "changed@example.org"
    extract = [str(write_extract(tmp_path / "in.csv", rows))]
    for _night in (2, 3):  # the update, then nothing left to send
        _without_a_report(monkeypatch, extract, options(emulator, tmp_path))

    after = sync_files(extract, options(emulator, tmp_path))
    assert after.actions == Counter(unchanged=2), after.summary_line()
    assert _written_earlier(tmp_path) == {
        1: _matching(
            r"written to Register \(update\) by the sync started .* \(run 2\), which ended before its report: "
            r"Register holds the record as the extract says; this is the first report to list it"
        )
    }
    sync_files(extract, options(emulator, tmp_path))
    assert _written_earlier(tmp_path) == {}


def test_writes_by_a_run_without_a_report_for_records_then_invalid_are_named_once_they_are_valid_and_once(
    emulator, tmp_path, monkeypatch
):
    """An invalid record is not sent, and its entry waits for it: the create and the update an earlier run without a
    report made for two records then invalid are named when the records are valid again (and only then, once), not
    on the invalid records' rows; a record after them is named as ever."""
    rows = [trainee(1), trainee(2), trainee(3)]
    sync_files([str(write_extract(tmp_path / "in.csv", rows[1:2]))], options(emulator, tmp_path))
    rows[1]["email"] = "changed@example.org"
    extract = [str(write_extract(tmp_path / "in.csv", rows))]
    _without_a_report(monkeypatch, extract, options(emulator, tmp_path))  # creates 1 and 3, updates 2
    by = r"by the sync started .* \(run 2\), which ended before its report: Register holds the record as the extract "
    by += "says; .*"

    invalid = [{**row, "date_of_birth": "not a date"} for row in rows[:2]] + rows[2:]
    after = sync_files([str(write_extract(tmp_path / "invalid.csv", invalid))], options(emulator, tmp_path))
    assert [r.plan.action for r in after.results] == ["invalid", "invalid", "unchanged"], after.summary_line()
    assert _written_earlier(tmp_path) == {3: _matching(r"written to Register \(create\) " + by)}

    valid = sync_files(extract, options(emulator, tmp_path))
    assert valid.actions == Counter(unchanged=3), valid.summary_line()
    assert _written_earlier(tmp_path) == {
        1: _matching(r"written to Register \(create\) " + by),
        2: _matching(r"written to Register \(update\) " + by),
    }
    sync_files(extract, options(emulator, tmp_path))
    assert _written_earlier(tmp_path) == {}
    assert len(held(emulator)) == 3


def test_a_create_then_withdrawal_by_a_run_without_a_report_is_left_to_the_next_report_by_a_run_stopped_before_it(
    emulator, tmp_path, closed_at_end, monkeypatch
):
    """A run stopped (Ctrl-C) before it reached a record leaves it pending, with no warning: the create (and the
    withdrawal after it) an earlier run without a report made for it are named by the next report, create included."""
    rows = [trainee(3), {**trainee(1), **WITHDRAWN}]
    sync_files([str(write_extract(tmp_path / "in.csv", rows[:1]))], options(emulator, tmp_path))
    extract = [str(write_extract(tmp_path / "in.csv", rows))]
    _without_a_report(monkeypatch, extract, options(emulator, tmp_path))  # creates and withdraws 1

    class StoppedBeforeAnUpdate(RegisterClient):
        def update_trainee(self, trainee_id, data):
            raise KeyboardInterrupt

    rows[0] = {**rows[0], "email": "changed@example.org"}
    client = StoppedBeforeAnUpdate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(Interrupted):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client)
    assert _written_earlier(tmp_path) == {}

    after = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert after.actions == Counter(update=1, unchanged=1), after.summary_line()
    assert _written_earlier(tmp_path) == {
        2: _matching(r"written to Register \(create, then withdraw\) by the sync started .* \(run 2\), .*")
    }


def test_a_create_by_a_run_without_a_report_is_named_once_on_a_record_register_now_holds_read_only(
    emulator, tmp_path, monkeypatch
):
    """A trainee created by a run without a report, then withdrawn in Register by hand: the record, changed since, is
    held back (held, review206 F1). The report names the create, and settles the record, so the next report does
    not again."""
    rows = [trainee(1), trainee(2)]
    extract = [str(write_extract(tmp_path / "in.csv", rows))]
    _without_a_report(monkeypatch, extract, options(emulator, tmp_path))
    [withdrawn] = [t["trainee_id"] for t in held(emulator) if t["hesa_id"] == trainee(1)["hesa_id"]]
    body = {"data": {"withdrawal_date": "2026-01-10", "reasons": ["did_not_make_progress"], "trigger": "trainee"}}
    body["data"]["future_interest"] = "no"
    answer = httpx.post(
        f"{emulator.api_url}/trainees/{withdrawn}/withdraw", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert answer.status_code == 200, answer.text
    rows[0]["email"] = "after.withdrawal@example.org"
    extract = [str(write_extract(tmp_path / "in.csv", rows))]

    after = sync_files(extract, options(emulator, tmp_path))
    assert [(r.plan.action, r.outcome) for r in after.results] == [("held", "skipped"), ("unchanged", "done")]
    by = r"by the sync started .* \(run 1\), which ended before its report"
    assert _written_earlier(tmp_path) == {
        1: _matching(r"written to Register \(create\) " + by),
        2: _matching(r"written to Register \(create\) " + by + ": .*"),
    }
    again = sync_files(extract, options(emulator, tmp_path))
    assert again.actions == Counter(held=1, unchanged=1) and _written_earlier(tmp_path) == {}


def test_an_update_register_refused_in_a_run_without_a_report_is_not_named_when_the_record_is_updated_again(
    emulator, tmp_path, closed_at_end, monkeypatch
):
    """A record whose update Register refused (422) in a run that ended without its report, changed again since and
    updated by the next run: nothing was written by that run for it, so only the other record's update is named."""
    from register_batch.api import Unprocessable

    rows = [trainee(1), trainee(2)]
    first = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    refused_id = first.results[0].plan.trainee_id

    class RefusesTheFirst(RegisterClient):
        def update_trainee(self, trainee_id, data):
            if trainee_id == refused_id:
                path = f"/trainees/{trainee_id}"
                raise Unprocessable("PUT", path, 422, ["email is invalid"], body={"errors": ["email is invalid"]})
            return super().update_trainee(trainee_id, data)

    for row in rows:
        row["email"] = row["email"].replace("@", ".new@")
    client = RefusesTheFirst(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    _without_a_report(
        monkeypatch, [str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path), client=client
    )
    rows[0]["email"] = "corrected@example.org"
    after = sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    assert after.actions == Counter(update=1, unchanged=1), after.summary_line()
    assert _written_earlier(tmp_path) == {
        2: _matching(
            r"written to Register \(update\) by the sync started .* \(run 2\), which ended before its report: .*"
        )
    }


def test_a_create_that_never_reached_register_is_not_named_on_a_record_matched_since_by_its_srs_id(
    emulator, tmp_path, closed_at_end
):
    """A run killed as it sent a create that Register never got: the next run finds the record's trainee by its SRS id
    (entered in Register under another HUSID) and updates it. Register lists no trainee with the record's HUSID, so
    that create did not happen and is not named."""

    class KilledBeforeTheCreateIsSent(RegisterClient):
        def create_trainee(self, data):
            raise RuntimeError("killed")

    extract = [str(write_extract(tmp_path / "in.csv", [trainee(1)]))]
    client = KilledBeforeTheCreateIsSent(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(RuntimeError, match="killed"):
        sync_files(extract, options(emulator, tmp_path), client=client)
    theirs = {**trainee(1), "hesa_id": trainee(9)["hesa_id"]}  # entered by hand with a mistyped HUSID
    sync_files([str(write_extract(tmp_path / "theirs.csv", [theirs]))], options(emulator, tmp_path / "theirs"))

    after = sync_files(extract, options(emulator, tmp_path))
    [only] = after.results
    assert (only.plan.action, only.plan.matched_by, only.outcome) == ("update", "provider_trainee_id", "done")
    assert _written_earlier(tmp_path) == {}
    assert [t["hesa_id"] for t in held(emulator)] == [trainee(1)["hesa_id"]]


def test_a_create_by_a_run_without_a_report_beside_a_withdrawal_that_waits_is_not_said_to_be_as_the_extract_says(
    emulator, tmp_path, monkeypatch
):
    """The record's withdrawal waits for its ITT start (sync_held): Register does not hold it as the extract says, and
    the create named beside that warning does not say it does."""
    waiting = {**started_in(2027, trainee(1)), **WITHDRAWN, "withdrawal_date": "2027-12-01"}
    extract = [str(write_extract(tmp_path / "in.csv", [waiting]))]
    _without_a_report(monkeypatch, extract, options(emulator, tmp_path))

    after = sync_files(extract, options(emulator, tmp_path))
    codes = dict(after.results[0].warnings())
    assert set(codes) == {"sync_held", "sync_written_earlier"}, codes
    assert re.fullmatch(
        r"written to Register \(create\) by the sync started .* \(run 1\), which ended before its report; this is the "
        r"first report to list it",
        codes["sync_written_earlier"],
    ), codes["sync_written_earlier"]


def test_results_csv_opens_in_excel_as_issues_csv_does(emulator, tmp_path):
    """A UTF-8 byte-order mark (Excel on Windows reads a CSV without one in its ANSI code page: Chloé became ChloÃ©),
    and an SRS id or HUSID a spreadsheet would turn into a number kept as text with Register's leading apostrophe."""
    import csv

    row = trainee(2) | {"provider_trainee_id": "00042", "first_names": "Chloé"}
    sync_files([str(write_extract(tmp_path / "in.csv", [row]))], options(emulator, tmp_path))
    raw = (tmp_path / "reports" / "results.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with (tmp_path / "reports" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        [written] = list(csv.DictReader(fh))
    assert written["provider_trainee_id"] == "'00042" and written["hesa_id"] == f"'{row['hesa_id']}"
    assert written["outcome"] == "done"


def test_results_csvs_changes_show_a_value_with_an_accent_as_written(emulator, tmp_path):
    """The changes cell is read by people in a spreadsheet as well as by scripts: "Zoé", not "Zo\\u00e9"."""
    import csv

    row = trainee(2)
    sync_files([str(write_extract(tmp_path / "in.csv", [row]))], options(emulator, tmp_path))
    renamed = sync_files(
        [str(write_extract(tmp_path / "in.csv", [row | {"first_names": "Zoé"}]))], options(emulator, tmp_path)
    )
    assert renamed.actions == Counter(update=1)
    with (tmp_path / "reports" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        [written] = list(csv.DictReader(fh))
    assert json.loads(written["changes"]) == [{"field": "first_names", "register": row["first_names"], "source": "Zoé"}]
    assert '"source": "Zoé"' in written["changes"]


def test_a_record_a_stopped_run_did_not_reach_has_no_warning_that_its_changes_were_sent(emulator, tmp_path):
    """The second record's withdrawal must wait for its ITT start date (sync_held: "the record's other changes are
    sent"), but the run stopped after the first record: it is pending, with nothing said of changes sent."""

    class StopsAfterTheFirstCreate(RegisterClient):
        def create_trainee(self, data):
            created = super().create_trainee(data)
            os.kill(os.getpid(), signal.SIGTERM)  # the request in flight finishes; the run stops after that record
            return created

    waiting = {**started_in(2027, trainee(2)), **WITHDRAWN, "withdrawal_date": "2027-12-01"}
    source = str(write_extract(tmp_path / "a.csv", [trainee(1), waiting]))
    with (
        StopsAfterTheFirstCreate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
        pytest.raises(Interrupted) as stopped,
    ):
        sync_files([source], options(emulator, tmp_path), client=client)
    assert [r.outcome for r in stopped.value.result.results] == ["done", "pending"]
    data, _doc = report_of(tmp_path)
    # Validation's warning of the withdrawal dated after today (review211 F1) is the record's own, not the sync's.
    assert [(r["outcome"], r["warnings"]) for r in data["records"]] == [
        ("done", []),
        ("pending", ["withdrawal_date_in_future (withdrawal_date)"]),
    ]
    assert data["sync"]["warnings"] == {} and "sync_held" not in [i["code"] for i in data["issues"]]


def test_a_stop_while_waiting_for_the_rate_budget_sends_nothing_more(emulator, tmp_path):
    """A migration's sync against Register's 100-a-minute limit spends most of its time waiting for the budget.
    Ctrl-C or SIGTERM in that wait was taken only once the wait was over (up to a minute, past systemd's
    TimeoutStopSec), and the request that waited was then sent. Nothing was in flight: nothing more goes.

    The budget is one request a minute, on a fake clock whose sleep is where the signal lands: in the wait for the
    second create's turn."""
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        if not clock.signalled and client.stats.by_route.get("POST /trainees"):  # the first create has gone
            clock.signalled = True
            os.kill(os.getpid(), signal.SIGTERM)
        clock.now += seconds

    rows = [trainee(n) for n in range(1, 4)]
    source = str(write_extract(tmp_path / "a.csv", rows))
    limiter = RateLimiter(1, 60.0, clock=clock.time, sleep=sleep)
    with (
        RegisterClient(emulator.url, TOKEN, limiter=limiter, share_budget=False) as client,
        pytest.raises(Interrupted) as stopped,
    ):
        sync_files([source], options(emulator, tmp_path), client=client)
    assert clock.signalled
    assert len(held(emulator)) == 1  # the first create only
    data, _doc = report_of(tmp_path)
    assert [r["outcome"] for r in data["records"]] == ["done", "pending", "pending"]
    # A library caller has what the run did without reading the report back.
    partial = stopped.value.result
    assert [r.outcome for r in partial.results] == ["done", "pending", "pending"] and partial.interrupted
    assert partial.exit_code == 3 and partial.report_paths["json"] == tmp_path / "reports" / "report.json"
    assert sync_files([source], options(emulator, tmp_path)).exit_code == 0
    assert sorted(Counter(t["hesa_id"] for t in held(emulator)).values()) == [1, 1, 1]


def test_a_record_whose_only_answer_was_429_then_stopped_is_not_reached_not_unknown(tmp_path):
    """Register answered the create 429 (it did nothing), and the run was stopped while it waited out Retry-After.
    That record was reported `unknown` ("may have been written"), which only a request Register may have acted on
    can make it. Register's window here takes 4 requests: 3 listings and the first create."""
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        if not clock.signalled and client.stats.throttled:  # the second create was answered 429
            clock.signalled = True
            os.kill(os.getpid(), signal.SIGTERM)
        clock.now += seconds

    source = str(write_extract(tmp_path / "a.csv", [trainee(n) for n in range(1, 4)]))
    with (
        start_emulator(tokens=[TOKEN], rate_limit=(4, 60.0), as_of=AS_OF) as emulator,
        RegisterClient(
            emulator.url, TOKEN, limiter=RateLimiter(1000, 1.0, clock=clock.time, sleep=sleep), share_budget=False
        ) as client,
        pytest.raises(Interrupted) as stopped,
    ):
        sync_files([source], options(emulator, tmp_path), client=client)
    assert clock.signalled and stopped.value.result.requests["throttled"] == 1
    assert [r.outcome for r in stopped.value.result.results] == ["done", "pending", "pending"]
    data, _doc = report_of(tmp_path)
    assert [r["outcome"] for r in data["records"]] == ["done", "pending", "pending"]
    assert "sync_unknown" not in {i["code"] for i in data["issues"]}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0
        self.signalled = False

    def time(self) -> float:
        return self.now


def test_a_client_lent_to_a_stopped_sync_is_not_left_stopping(emulator, tmp_path):
    """sync_files(client=...) set the client's `stopping` to its own run's stop and left it there: once that run was
    stopped, every later call on the caller's client that had to wait for the budget (an export, a look-up) raised
    StoppedWaiting, and a failed request was never tried again. A caller's own `stopping` was lost the same way."""
    clock = FakeClock()

    def sleep(seconds: float) -> None:
        if not clock.signalled and client.stats.by_route.get("POST /trainees"):
            clock.signalled = True
            os.kill(os.getpid(), signal.SIGTERM)
        clock.now += seconds

    source = str(write_extract(tmp_path / "a.csv", [trainee(n) for n in range(1, 3)]))
    limiter = RateLimiter(1, 60.0, clock=clock.time, sleep=sleep)
    with RegisterClient(emulator.url, TOKEN, limiter=limiter, share_budget=False) as client:
        own = client.stopping
        with pytest.raises(Interrupted):
            sync_files([source], options(emulator, tmp_path), client=client)
        assert clock.signalled
        [created] = held(emulator)
        assert client.get_trainee(created["trainee_id"])["hesa_id"] == created["hesa_id"]  # waits its turn, then goes
        assert client.stopping is own


def test_a_stop_between_a_create_and_its_withdrawal_is_not_reported_as_a_lost_answer(emulator, tmp_path):
    """At Register's pace a run spends most of its time waiting for the rate budget, so a Ctrl-C mostly lands in a
    wait: here after a new trainee's create was answered (201) and before its withdrawal was sent. The record is
    `unknown` (half written; the next run finishes it), but the report's summary box said "Register's answer was
    lost", which no request of this run was: a migration lead went looking for a network fault."""
    rows = [{**trainee(1), **WITHDRAWN}, trainee(2)]
    source = str(write_extract(tmp_path / "a.csv", rows))
    clock = FakeClock()

    def sleep(seconds: float) -> None:  # the budget is one request a minute: every request after the first waits
        if not clock.signalled and client.stats.by_route.get("POST /trainees"):
            clock.signalled = True
            # SIGTERM, which stops a sync as Ctrl-C's SIGINT does: a SIGINT is ignored by a process started in the
            # background (pytest run as `pytest &`, and its workers), and a sync keeps it ignored; it went unseen.
            os.kill(os.getpid(), signal.SIGTERM)
        clock.now += seconds

    limiter = RateLimiter(1, 60.0, clock=clock.time, sleep=sleep)
    with (
        RegisterClient(emulator.url, TOKEN, limiter=limiter, share_budget=False) as client,
        pytest.raises(Interrupted),
    ):
        sync_files([source], options(emulator, tmp_path), client=client)
    assert clock.signalled
    [created] = held(emulator)
    assert created["state"] != "withdrawn"  # the withdrawal waited for the budget, and was not sent
    assert "POST /trainees/{trainee_id}/withdraw" not in stats(emulator)["requests"]["by_route"]
    data, doc = report_of(tmp_path)
    assert [(r["outcome"], r["http_status"]) for r in data["records"]] == [("unknown", 201), ("pending", None)]
    _key, _tone, text = status_box(doc)
    assert "1 record may not have been written in full." in text
    assert "answer was lost" not in text, text
    assert "The run was stopped while writing to Register" in text, text
    # The next run finishes it: the withdrawal alone, nothing created twice.
    again = sync_files([source], options(emulator, tmp_path))
    assert again.outcomes == Counter(done=2), again.summary_line()
    assert sorted(t["state"] for t in held(emulator))[-1] == "withdrawn" and len(held(emulator)) == 2


def test_an_update_a_stop_kept_from_being_sent_is_not_named_later_as_written(emulator, tmp_path):
    """A stop while an update waited for the rate budget: the update was never sent, and the run's report has the
    record `pending`. Its ledger entry stayed in flight, so a later run that found the record as Register holds it
    (the SRS change taken back) said the update had been written by that run and its report had it as unknown."""
    rows = [trainee(n) for n in range(1, 3)]
    source = write_extract(tmp_path / "a.csv", rows)
    assert sync_files([str(source)], options(emulator, tmp_path)).exit_code == 0
    held_emails = [row["email"] for row in rows]
    for row in rows:
        row["email"] = row["email"].replace("@", ".new@")
    write_extract(tmp_path / "a.csv", rows)
    clock = FakeClock()

    def sleep(seconds: float) -> None:  # the listing took the one request of the budget: the first update waits
        if not clock.signalled:
            clock.signalled = True
            os.kill(os.getpid(), signal.SIGTERM)
        clock.now += seconds

    limiter = RateLimiter(1, 60.0, clock=clock.time, sleep=sleep)
    with (
        RegisterClient(emulator.url, TOKEN, limiter=limiter, share_budget=False) as client,
        pytest.raises(Interrupted) as stopped,
    ):
        sync_files([str(source)], options(emulator, tmp_path), client=client)
    assert clock.signalled and [r.outcome for r in stopped.value.result.results] == ["pending", "pending"]
    assert "PUT /trainees/{trainee_id}" not in stats(emulator)["requests"]["by_route"]
    for row, email in zip(rows, held_emails, strict=True):
        row["email"] = email  # the change taken back in the SRS
    write_extract(tmp_path / "a.csv", rows)
    again = sync_files([str(source)], options(emulator, tmp_path))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=2), again.summary_line()
    assert [result.warnings() for result in again.results] == [[], []]


def test_an_invalid_records_results_row_names_its_errors_codes(emulator, tmp_path):
    """results.csv is the spreadsheet people work through after a sync: an invalid record's row names its errors as
    code and field (each once, in the order issues.csv gives them), not only that it failed validation."""
    import csv

    rows = [trainee(n) for n in range(1, 4)]
    rows[1]["sex"] = "7"
    rows[2].update(sex="7", ethnicity="1", nationality="ZZ")
    source = str(write_extract(tmp_path / "a.csv", rows))
    assert sync_files([source], options(emulator, tmp_path)).exit_code == 1
    folder = tmp_path / "reports"
    with (folder / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        results = {row["record"]: row for row in csv.DictReader(fh)}
    with (folder / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        errors: dict[str, list[str]] = {}
        for issue in csv.DictReader(fh):
            named = f"{issue['code']} ({issue['field']})"
            if issue["severity"] == "error" and named not in errors.setdefault(issue["record"], []):
                errors[issue["record"]].append(named)
    assert results["1"]["action"] == "create" and results["1"]["errors"] == ""
    assert len(errors["3"]) >= 2, errors  # three bad codes, at least two kinds of error
    for record in ("2", "3"):
        assert (results[record]["action"], results[record]["outcome"]) == ("invalid", "skipped")
        assert results[record]["errors"] == (
            f"the record failed validation and was not sent: {', '.join(errors[record])}. issues.csv has each one's "
            "value and message"
        )
    # A rerun says the same.
    assert sync_files([source], options(emulator, tmp_path)).exit_code == 1
    with (folder / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        again = {row["record"]: row["errors"] for row in csv.DictReader(fh)}
    assert again["2"] == results["2"]["errors"] and again["3"] == results["3"]["errors"]


def test_a_run_stopped_while_register_is_listed_reports_every_record_not_reached(emulator, tmp_path):
    """SIGTERM while Register is listed (before anything is planned or sent) stops the run at once, and its report
    is written: it listed no record at all (results.csv a header alone, `records` empty), although report.json
    counted them. Every record is in it: not reached (`pending`, action `unplanned`), or invalid as always."""
    rows = [trainee(n) for n in range(1, 4)]
    rows[1]["sex"] = "7"  # invalid: known without Register

    class StoppedWhileListing(RegisterClient):
        def list_trainees(self, **params):
            page = super().list_trainees(**params)
            os.kill(os.getpid(), signal.SIGTERM)  # as systemd's stop: the handler stops the run at once
            return page

    source = str(write_extract(tmp_path / "a.csv", rows))
    with (
        StoppedWhileListing(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
        pytest.raises(Interrupted) as stopped,
    ):
        sync_files([source], options(emulator, tmp_path), client=client)
    partial = stopped.value.result
    assert [(r.plan.action, r.outcome) for r in partial.results] == [
        ("unplanned", "pending"),
        ("invalid", "skipped"),
        ("unplanned", "pending"),
    ]
    assert partial.exit_code == 3
    data, doc = report_of(tmp_path)
    assert [(r["record"], r["action"], r["outcome"]) for r in data["records"]] == [
        (1, "unplanned", "pending"),
        (2, "invalid", "skipped"),
        (3, "unplanned", "pending"),
    ]
    assert (tmp_path / "reports" / "results.csv").read_text(encoding="utf-8-sig").count("\n") == 4
    # Invalid as always, and saying why: its errors' codes (records stopped before their plan have none yet).
    assert data["records"][1]["errors"] == [
        "the record failed validation and was not sent: invalid_code (sex). issues.csv has each one's value and message"
    ]
    [card] = doc.xpath('//ul[@data-group="actions"]/li[@data-count="unplanned"]/span[@class="label"]/text()')
    assert card == "Not planned (stopped first)"
    assert sync_files([source], options(emulator, tmp_path)).exit_code == 1  # the invalid record
    assert len(held(emulator)) == 2


def test_a_create_register_answers_409_for_another_record_is_a_conflict_named_in_words(emulator, tmp_path):
    """Two records of one extract that Register's duplicate rule takes for one person (§4): the plan creates both,
    Register answers the second 409 naming the first. Its outcome is `conflict` (results.csv, report.json), which
    the page showed as a bare lower-case `conflict` card in grey beside the outcomes it knows."""
    first = trainee(1)
    second = {**trainee(2), **{k: first[k] for k in ("first_names", "last_name", "date_of_birth")}}
    source = str(write_extract(tmp_path / "a.csv", [first, second]))
    # The dry run cannot tell (docs/dry-run.md says so): Register holds neither yet, so both are to be created.
    planned = sync_files([source], options(emulator, tmp_path, dry_run=True, report_dir=tmp_path / "plan"))
    assert [(r.plan.action, r.outcome) for r in planned.results] == [("create", "planned"), ("create", "planned")]
    done = sync_files([source], options(emulator, tmp_path))
    assert [(r.plan.action, r.outcome) for r in done.results] == [("create", "done"), ("conflict", "conflict")]
    assert done.exit_code == 1 and len(held(emulator)) == 1 and done.results[1].http_status == 409
    assert done.summary_line() == "2 records: 1 created; 1 conflict, 1 warning. 5 requests (2.5 per record)."
    [first_id] = [t["trainee_id"] for t in held(emulator)]
    assert done.results[1].errors == [
        f"Register answered 409 (already in Register) with trainee(s) {first_id}, none of them unambiguously this "
        f"record (hesa_id {second['hesa_id']}): Register's duplicate rule takes them for this person (same date of "
        "birth, last name, route and start year, and first name or email). Check them in Register: if one is this "
        "person, keep one record of them in the extract, and make its HUSID the one Register holds (or correct "
        "Register's)"
    ]
    data, doc = report_of(tmp_path)
    assert data["sync"]["outcomes"] == {"done": 1, "conflict": 1}
    [label] = doc.xpath('//ul[@data-group="outcomes"]/li[@data-count="conflict"]/span[@class="label"]/text()')
    [card] = doc.xpath('//ul[@data-group="outcomes"]/li[@data-count="conflict"]')
    assert label == "Conflict, not written" and "tone-warn" in card.get("class")
    [tag] = doc.xpath(
        '//table[@id="record-table"]/tbody/tr[@data-outcome="conflict"]//*[contains(@class, "tag-")]'
        '[contains(@class, "tag-outcome-conflict")]'
    )
    assert " ".join(tag.text_content().split()) == "conflict, not written"


def test_a_create_answered_409_beside_a_withdrawal_that_must_wait_is_a_conflict_without_the_held_warning(
    emulator, tmp_path
):
    """The second record's withdrawal waits for its ITT start date, and Register takes it for the first record's
    person (409): nothing of it was sent, so it is a conflict to look at, with no sync_held "other changes sent"."""
    first = started_in(2027, trainee(1))
    same_person = {k: first[k] for k in ("first_names", "last_name", "date_of_birth")}
    second = {**started_in(2027, trainee(2)), **same_person, **WITHDRAWN, "withdrawal_date": "2027-12-01"}
    done = sync_files([str(write_extract(tmp_path / "a.csv", [first, second]))], options(emulator, tmp_path))
    assert [(r.plan.action, r.outcome) for r in done.results] == [("create", "done"), ("conflict", "conflict")]
    data, _doc = report_of(tmp_path)
    # Validation's warning of the second (Register's duplicate rule) is named; the sync gives none of its own.
    assert [r["warnings"] for r in data["records"]] == [
        [],
        ["withdrawal_date_in_future (withdrawal_date)", "possible_duplicate_trainee (last_name)"],
    ]
    assert data["sync"]["warnings"] == {}
    assert [(i["record"], i["severity"]) for i in data["issues"] if i["code"] == "sync_conflict"] == [(2, "error")]
    assert done.exit_code == 1


def test_a_create_left_unanswered_for_a_record_that_then_left_the_extract_is_looked_up_named_and_settled(
    emulator, tmp_path, closed_at_end
):
    """Creates went out unanswered when Register went down: one carried out (its reply lost), one not (refused
    before the server read it). Each record then left the extract (gone from the SRS, or a nightly extract of changes
    only). Only a record makes a run look its writes up, so no report would name either, and Register would hold a
    trainee nobody expects. The next run looks for each where it was sent (the refused one's start year is one the
    extract does not list: one listing more), names it with what it found, and settles it; a dry run names it and
    settles nothing. When the records come back, neither is created twice."""
    carried_out, refused, other = trainee(1), started_in(2027, trainee(2)), trainee(3)

    class DownMidCreate(RegisterClient):
        def create_trainee(self, data):
            emulator.set_faults("lost-response:1.0" if data["hesa_id"] == carried_out["hesa_id"] else "reset:1.0")
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults("reset:1.0")  # and the look-up after it fails: the run stops, the create unknown

    def unanswered(dry_run: bool = False, *, rows: list[dict], down: bool = False) -> tuple[dict, dict, str]:
        client = DownMidCreate(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2) if down else None
        if client is not None:
            closed_at_end(client)
        line = summary_of_sync(emulator, tmp_path, rows, client=client, dry_run=dry_run)
        data, doc = report_of(tmp_path)
        assert data["sync"]["unanswered_elsewhere"] == len(data["unanswered_elsewhere"])
        notices = doc.xpath("//div[@data-unanswered]")
        assert len(notices) == (1 if data["unanswered_elsewhere"] else 0)
        assert ("never answered" in status_box(doc)[2]) is bool(notices)
        return {u["hesa_id"]: u for u in data["unanswered_elsewhere"]}, data, line

    named, _data, _line = unanswered(rows=[carried_out], down=True)
    assert named == {}
    [held] = held_in(emulator, 2025)
    assert held["hesa_id"] == carried_out["hesa_id"]

    # The next run (whose own create goes unanswered too) finds the first: it went through.
    named, data, line = unanswered(rows=[refused], down=True)
    assert "1 earlier write never answered, for a record not in the extract" in line
    went = named[carried_out["hesa_id"]]
    assert (went["operation"], went["settled"], went["trainee_id"]) == ("create", "done", held["trainee_id"])
    assert went["note"] == f"Register holds trainee {held['trainee_id']} with this HUSID: the create went through"

    # Within 10 minutes of it, Register may still carry the other out: named, not settled (review43).
    named, data, line = unanswered(True, rows=[other])
    assert named[refused["hesa_id"]]["settled"] is None, named
    assert "which the create was sent for, yet: it may still carry it out" in named[refused["hesa_id"]]["note"]
    minutes_pass(tmp_path, 11)

    for dry_run in (True, True, False):
        listed_before = stats(emulator)["requests"]["by_route"].get("GET /trainees", 0)
        named, data, line = unanswered(dry_run, rows=[other])
        assert list(named) == [refused["hesa_id"]], line
        lost = named[refused["hesa_id"]]
        assert (lost["operation"], lost["settled"], lost["trainee_id"]) == ("create", "failed", None)
        assert "no trainee with this HUSID in academic cycle 2027, which the create was sent for" in lost["note"]
        # 2025 and the years either side (a create is planned), then 2027, where the refused create was sent
        assert stats(emulator)["requests"]["by_route"]["GET /trainees"] - listed_before == 4
        assert [t["trainee_id"] for t in data["not_in_extract"]] == [held["trainee_id"]]
        _report, doc = report_of(tmp_path)
        [notice] = doc.xpath("//div[@data-unanswered]")
        assert notice.xpath(".//li/@data-settled") == ["failed"]
        assert ("Settled: later runs do not name it" in notice.text_content()) is not dry_run
        _key, tone, text = status_box(doc)
        assert "status-good" not in tone and "Nothing to fix" not in text
        assert text.startswith("1 earlier write never answered, for a record not in this extract.")

    named, _data, line = unanswered(rows=[other])
    assert named == {} and "never answered" not in line

    # Both records back: the one Register holds is found (the ledger links it now), the other is created, once.
    back = sync_files(
        [str(write_extract(tmp_path / "in.csv", [carried_out, refused, other]))], options(emulator, tmp_path)
    )
    assert back.exit_code == 0 and back.actions == Counter(create=1, unchanged=2), back.summary_line()
    assert sorted(t["hesa_id"] for t in held_in(emulator, 2025) + held_in(emulator, 2027)) == sorted(
        row["hesa_id"] for row in (carried_out, refused, other)
    )


def test_a_withdrawal_and_a_deferral_left_unanswered_for_records_that_then_left_the_extract_are_settled_by_state(
    emulator, tmp_path, closed_at_end
):
    """A withdrawal (carried out, its reply lost) and a deferral (refused before the server read it) went out
    unanswered, and their records then left the extract: a nightly extract of changes only has no reason to send a
    withdrawn trainee again. Their trainees' states tell what happened, so the next run looks (one request each) and
    settles them, and later reports do not name them every night; a dry run looks and settles nothing."""
    leaving, deferring, other = trainee(1), trainee(2), trainee(3)
    first = sync_files(
        [str(write_extract(tmp_path / "in.csv", [leaving, deferring, other]))], options(emulator, tmp_path)
    )
    assert first.actions == Counter(create=3), first.summary_line()
    withdrawn = {**leaving, **WITHDRAWN}
    deferred = {**deferring, "defer_date": "2026-03-01", "defer_reason": "Illness"}

    class DownMidWrite(RegisterClient):
        def _down(self, fault: str, write, *args):
            emulator.set_faults(fault)
            try:
                return write(*args)
            finally:
                emulator.set_faults("reset:1.0")  # and the look-up after it fails: the run stops, the write unknown

        def withdraw(self, trainee_id, data):
            return self._down("lost-response:1.0", super().withdraw, trainee_id, data)

        def defer(self, trainee_id, data):
            return self._down("reset:1.0", super().defer, trainee_id, data)

    def run(rows: list[dict], *, dry_run: bool = False, down: bool = False) -> tuple[dict, str, int]:
        looks = stats(emulator)["requests"]["by_route"].get("GET /trainees/{trainee_id}", 0)
        client = DownMidWrite(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2) if down else None
        if client is not None:
            closed_at_end(client)
        line = summary_of_sync(emulator, tmp_path, rows, client=client, dry_run=dry_run)
        data, _doc = report_of(tmp_path)
        looked = stats(emulator)["requests"]["by_route"].get("GET /trainees/{trainee_id}", 0) - looks
        return {u["hesa_id"]: u for u in data["unanswered_elsewhere"]}, line, looked

    named, _line, _looked = run([withdrawn], down=True)
    assert named == {}
    states = {t["hesa_id"]: t for t in held(emulator)}
    assert states[leaving["hesa_id"]]["state"] == "withdrawn"

    # The next run (whose own deferral goes unanswered) looks at the first: the trainee is withdrawn.
    named, line, _looked = run([deferred], down=True)
    assert "1 earlier write never answered, for a record not in the extract" in line
    went = named[leaving["hesa_id"]]
    trainee_id = states[leaving["hesa_id"]]["trainee_id"]
    assert (went["operation"], went["settled"], went["trainee_id"]) == ("withdraw", "done", trainee_id)
    assert went["note"] == f"Register holds trainee {trainee_id} as withdrawn: the withdraw went through"

    still = states[deferring["hesa_id"]]
    assert still["state"] not in ("deferred", "withdrawn")
    for dry_run in (True, True, False):
        named, line, looked = run([other], dry_run=dry_run)
        assert list(named) == [deferring["hesa_id"]], line
        lost = named[deferring["hesa_id"]]
        assert (lost["operation"], lost["settled"]) == ("defer", "failed")
        assert lost["note"].startswith(f"Register holds trainee {still['trainee_id']} as {still['state']}: the defer")
        assert looked == 1

    named, line, looked = run([other])
    assert (named, looked) == ({}, 0) and "never answered" not in line

    # Both records back: the withdrawn trainee is left as it is, the deferral is sent, once.
    back = sync_files(
        [str(write_extract(tmp_path / "in.csv", [withdrawn, deferred, other]))], options(emulator, tmp_path)
    )
    assert back.exit_code == 0, back.summary_line()
    states = {t["hesa_id"]: t["state"] for t in held(emulator)}
    assert (states[leaving["hesa_id"]], states[deferring["hesa_id"]]) == ("withdrawn", "deferred")
    assert stats(emulator)["requests"]["by_route"]["POST /trainees/{trainee_id}/withdraw"] == 1


def test_a_placement_left_unanswered_for_a_record_that_then_left_the_extract_is_named_every_run_until_it_is_back(
    emulator, tmp_path, closed_at_end
):
    """A placement went out unanswered (its reply lost, and the look-up after it cut) and its record then left the
    extract. Only the record can tell whether Register holds what it says, so each run names the write, not only the
    first after it: nothing settles it until the record is back, and then it is simply compared (never added twice)."""
    leaving, staying = trainee(1), trainee(2)
    first = sync_files([str(write_extract(tmp_path / "in.csv", [leaving, staying]))], options(emulator, tmp_path))
    assert first.actions == Counter(create=2), first.summary_line()

    class DownMidPlacement(RegisterClient):
        def add_placement(self, trainee_id, data):
            emulator.set_faults("lost-response:1.0")
            try:
                return super().add_placement(trainee_id, data)
            finally:
                emulator.set_faults("reset:1.0")  # and the look-up after it fails: the run stops, the write unknown

    changed = {**leaving, "placement_3_urn": "100999"}
    client = DownMidPlacement(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2)
    closed_at_end(client)
    summary_of_sync(emulator, tmp_path, [changed, staying], client=client)
    for _night in range(2):
        looks = stats(emulator)["requests"]["by_route"].get("GET /trainees/{trainee_id}", 0)
        line = summary_of_sync(emulator, tmp_path, [staying])
        assert "1 earlier write never answered, for a record not in the extract" in line
        # Its trainee's state would not tell: Register is not asked about it.
        assert stats(emulator)["requests"]["by_route"].get("GET /trainees/{trainee_id}", 0) == looks
        data, _doc = report_of(tmp_path)
        [named] = data["unanswered_elsewhere"]
        assert (named["hesa_id"], named["operation"], named["settled"]) == (leaving["hesa_id"], "add_placement", None)
    back = sync_files([str(write_extract(tmp_path / "in.csv", [changed, staying]))], options(emulator, tmp_path))
    assert back.exit_code == 0 and "never answered" not in back.summary_line()
    placements = {t["hesa_id"]: t["placements"] for t in held(emulator)}[leaving["hesa_id"]]
    assert sorted(p["urn"] for p in placements) == ["100001", "100999", "900020"]


def summary_of_sync(emulator, tmp_path: Path, rows: list[dict], *, client=None, dry_run: bool = False) -> str:
    """The summary line of a sync of `rows` through `client`, which may take Register down mid-run and so stop the
    run (only such a client may); the emulator's faults are cleared afterwards."""
    try:
        return sync_files(
            [str(write_extract(tmp_path / "in.csv", rows))],
            options(emulator, tmp_path, dry_run=dry_run),
            client=client,
        ).summary_line()
    except Interrupted as stopped:
        assert client is not None, stopped
        return stopped.result.summary_line()
    finally:
        emulator.set_faults(None)


def held_in(emulator, cycle: int) -> list[dict]:
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as look:
        return list(look.iter_trainees(academic_cycle=cycle))


def test_an_update_that_went_through_before_register_refused_the_withdrawal_is_counted_and_named(tmp_path):
    """review67 F2: the trainee's update went through, then Register refused its withdrawal as a state change (here
    a day before the ITT start: sync --as-of later than Register's today). The record was reported `blocked` with
    action blocked, `sync.written` empty and "1 blocked" only, as if nothing of it had been written. It keeps its
    action, is counted updated as well as blocked, and its issue says what was written before the refusal."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=date(2025, 8, 15), seed=7) as early:
        extract = tmp_path / "in.csv"
        write_extract(extract, [trainee(1), trainee(2)])
        assert sync_files([str(extract)], options(early, tmp_path)).actions == Counter(create=2)
        write_extract(extract, [{**trainee(1), **WITHDRAWN, "email": "changed@example.com"}, trainee(2)])
        second = sync_files([str(extract)], options(early, tmp_path))
        assert second.summary_line().startswith("2 records: 1 updated, 1 unchanged; 1 blocked"), second.summary_line()
        data, _doc = report_of(tmp_path)
        assert [(r["action"], r["outcome"], r["http_status"]) for r in data["records"]] == [
            ("update", "blocked", 422),
            ("unchanged", "done", None),
        ]
        assert data["sync"]["written"] == {"update": 1}
        [blocked] = [i["message"] for i in data["issues"] if i["record"] == 1 and i["code"] == "sync_blocked"]
        assert blocked.endswith(" (written before that: its update)"), blocked
        [one] = [t for t in held(early) if t["hesa_id"] == trainee(1)["hesa_id"]]
        assert one["email"] == "changed@example.com" and one["state"] == "trn_received"
        third = sync_files([str(extract)], options(early, tmp_path))  # the update is not sent again; the refusal stays
        assert [(r.plan.action, r.outcome) for r in third.results][1] == ("unchanged", "done")
        assert third.results[0].landed == [] and third.results[0].outcome == "blocked"


def test_a_deferral_sent_with_a_create_before_register_refused_the_withdrawal_is_said_with_the_creates(tmp_path):
    """The create and the deferral went through, then Register refused the withdrawal (a trainee it holds as not yet
    started). The deferral is one of the run's writes, said with the creates as a done one is ("2 created (1 then
    deferred)"), not as a second count beside them ("2 created, 1 deferred" for one record)."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=date(2025, 8, 15), seed=7) as early:
        row = {**trainee(1), **WITHDRAWN, "defer_date": "2025-12-01"}
        extract = [str(write_extract(tmp_path / "in.csv", [row, trainee(2)]))]
        first = sync_files(extract, options(early, tmp_path))
        line = first.summary_line()
        assert line.startswith("2 records: 2 created (1 then deferred); 1 blocked"), line
        assert [(r.plan.action, r.outcome, r.landed) for r in first.results] == [
            ("create", "blocked", ["create", "defer"]),
            ("create", "done", ["create"]),
        ]
        data, _doc = report_of(tmp_path)
        assert data["sync"]["written"] == {"create": 2, "defer": 1}


def errors_line(doc: lxml.html.HtmlElement) -> str:
    """The summary box's paragraph on the records that failed validation."""
    [line] = doc.xpath('//section[@id="summary"]//p[starts-with(normalize-space(.), "1 of 3 records failed")]')
    return " ".join(line.text_content().split())


# Where the box says to correct the records of a Register CSV, the template people fill in a spreadsheet, with no SRS
# to export from (review168 F1): these tests' extracts are Register CSVs.
IN_A_SPREADSHEET = (
    " If an SRS or register-batch wrote the file, correct the values listed under Issues in your student record system "
    "and export again; if you fill it in a spreadsheet, format the code columns and hesa_id as Text (or type each "
    "value with a leading ') and the date columns as yyyy-mm-dd (only if each date shows the day written: a "
    "spreadsheet that read the dates in the other day/month order has swapped them, which this format keeps; import "
    "such a column as Text instead), correct the values listed under Issues, then save as 'CSV UTF-8' and validate "
    "again."
)


def sync_code_labels(doc: lxml.html.HtmlElement, code: str) -> tuple[list[str], str]:
    """What the issue rows of `code` and its *Rules and fixes* row say it is."""
    rows = doc.xpath(f'//table[@id="issue-table"]//tr[@data-code="{code}"]//span[@class="sub source"]/text()')
    [cell] = doc.xpath(f'//table[@id="rule-table"]//tr[@data-code="{code}"]/td[@data-label="Source"]')
    return rows, cell.text_content()


@pytest.mark.parametrize("dry_run", [False, True], ids=["real", "dry run"])
def test_a_conflict_is_not_counted_among_the_records_that_failed_validation(emulator, tmp_path, dry_run):
    """review118 F1: the record whose trainee was deleted in Register is a conflict, valid as it is: the summary box's
    sentence on the invalid records names the one invalid record only ("Register would refuse it"), and the conflict's
    issue says it is the sync's outcome, not register-batch's check of the record's data."""
    rows = [trainee(n) for n in range(1, 4)]
    sync_files([str(write_extract(tmp_path / "a.csv", rows))], options(emulator, tmp_path))
    [gone] = [t for t in held(emulator) if t["hesa_id"] == rows[0]["hesa_id"]]
    assert emulator.discard_trainee(gone["trainee_id"])
    rows[1]["sex"] = "7"  # invalid by Register's own rule (invalid_code)
    result = sync_files([str(write_extract(tmp_path / "b.csv", rows))], options(emulator, tmp_path, dry_run=dry_run))
    assert result.actions == Counter(conflict=1, invalid=1, unchanged=1), result.summary_line()
    data, doc = report_of(tmp_path)
    assert data["summary"]["invalid"] == 1
    assert errors_line(doc) == (
        "1 of 3 records failed validation. Register would refuse it."
        + ("" if dry_run else " It was not sent.")
        + IN_A_SPREADSHEET
    )
    source = CATALOGUE["sync_conflict"].source
    assert sync_code_labels(doc, "sync_conflict") == (["the sync's outcome"], "the sync's outcome" + source)
    [intro] = doc.xpath('//section[@id="rules"]/p[1]')
    assert "; and the sync's outcomes, what happened at Register or what the sync found there." in intro.text_content()


def test_a_record_register_stopped_answering_on_is_not_counted_among_the_records_that_failed_validation(
    emulator, tmp_path, closed_at_end, no_backoff
):
    """review118 F1: the record the run was writing when Register stopped answering (sync_unavailable, nothing wrong
    with it) moved the one invalid record from "Register would refuse it" to "register-batch's checks found …"."""
    _register_stops_during_the_updates(emulator, tmp_path, closed_at_end, records=3, invalid=1, answered=0)
    data, doc = report_of(tmp_path)
    assert [i["code"] for i in data["issues"]] == ["sync_unavailable", "invalid_code"]
    assert errors_line(doc) == (
        "1 of 3 records failed validation. Register would refuse it. It was not sent." + IN_A_SPREADSHEET
    )
    assert sync_code_labels(doc, "sync_unavailable")[0] == ["the sync's outcome"]


def test_a_large_dry_runs_requests_per_record_keep_their_significant_figures(emulator, tmp_path):
    """review118 F2: the dry run of a first migration (Register holds none of the cycle's trainees yet) lists a few
    pages for thousands of records: rounded to 3 decimals, report.json's per_trainee and the summary line read 0.0."""
    count = 7000
    source = write_extract(tmp_path / "first.csv", [trainee(n) for n in range(1, count + 1)])
    result = sync_files([str(source)], options(emulator, tmp_path, dry_run=True))
    data, doc = report_of(tmp_path)
    requests = data["sync"]["requests"]
    assert 0 < requests["total"] < 10, requests
    assert requests["per_trainee"] == float(f"{requests['total'] / count:.3g}")  # 3 significant figures
    figure = re.search(r"\((\S+) per record\)\. A real run now: ", result.summary_line())
    assert figure and figure[1].startswith("0.000") and float(figure[1]) == requests["per_trainee"], figure
    assert doc.xpath('//*[@data-request="per_trainee"]/text()') == [f"{figure[1]} per record"]


def test_a_stopped_runs_report_counts_the_withdrawals_planned_with_creates_not_reached(emulator, tmp_path, monkeypatch):
    """review134 F3: stopped part-way, report.html's Create card counted the creates not reached, the Withdraw card
    only the withdrawals done. report.json's `sync.joined` counts the plan's withdrawals beside a create by the
    record's outcome, and the Withdraw card counts them all."""
    from register_batch.sync.ledger import Ledger

    original = Ledger.record

    def record(self, key, status, **details):  # a SIGTERM once the first record is written in full
        if status == "done":
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, key, status, **details)

    monkeypatch.setattr(Ledger, "record", record)
    rows = [{**trainee(n), **WITHDRAWN} for n in range(1, 4)]
    with pytest.raises(Interrupted):
        sync_files([str(write_extract(tmp_path / "in.csv", rows))], options(emulator, tmp_path))
    data, doc = report_of(tmp_path)
    assert [(r["action"], r["outcome"]) for r in data["records"]] == [("create", "done")] + [("create", "pending")] * 2
    assert data["sync"]["joined"] == {"withdraw": {"create": {"done": 1, "pending": 2}}}
    [withdraw] = doc.xpath('//ul[@data-group="actions"]/li[@data-count="withdraw"]')
    assert " ".join(withdraw.text_content().split()).endswith(
        "3 with their creation: 1 done, 2 not reached (pending)"
    ), withdraw.text_content()
