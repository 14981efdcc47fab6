"""review169 F1: a sync that went through every record but left some outcomes unknown exits 3 (docs/exit-codes.md: "the
outcome of a request is unknown"). Its report.json and the next night's `previous_run` said `finished`, so monitoring
that reads the reports could not see the night that needed a rerun. Against the project's emulator on 127.0.0.1, its
answer to an update lost on the way back (fault injection `lost-response`): that run stops; the next one, whose record
changed again, holds the record back while the lost update may still be overtaken (`sync_waits`), and ends with its
outcome unknown without being stopped."""

from __future__ import annotations

import dataclasses
import os
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from cli_runs import sync_command
from emulated import AS_OF, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.sync import SyncOptions, SyncResult, sync_files
from report_schema import allowed_report
from trainee_extracts import trainee, write_extract

TOKEN = "test-provider-token-0169"
ROW = trainee(1)


def _sync(tmp_path: Path, options: SyncOptions, name: str, row: dict[str, Any], **more: Any) -> SyncResult:
    extract = write_extract(tmp_path / f"{name}.csv", [row])
    return sync_files([str(extract)], dataclasses.replace(options, report_dir=tmp_path / name), **more)


def _update_answer_lost(emulator: Any) -> RegisterClient:
    """A client whose updates the emulator carries out, their answers lost on the way back."""

    class AnswerLost(RegisterClient):
        def update_trainee(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
            emulator.set_faults("lost-response:1.0")
            try:
                return super().update_trainee(trainee_id, data)
            finally:
                emulator.set_faults(None)

    return AnswerLost(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=0.5, attempts=1)


def _run_statuses(state: Path) -> list[str]:
    with closing(sqlite3.connect(state / "ledger.sqlite3")) as ledger:
        return [status for (status,) in ledger.execute("SELECT status FROM runs ORDER BY id")]


def test_a_run_left_with_unknown_outcomes_says_so_in_its_report_and_the_next_runs(tmp_path: Path) -> None:
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=169) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN, timeout=0.5)
        assert _sync(tmp_path, options, "first", ROW).exit_code == 0
        assert allowed_report(tmp_path / "first")["sync"]["status"] == "finished"
        with _update_answer_lost(emulator) as client, pytest.raises(Interrupted):
            _sync(tmp_path, options, "out", {**ROW, "email": "second@example.org"}, client=client)
        assert allowed_report(tmp_path / "out")["sync"]["status"] == "interrupted"

        # Not stopped: every record gone through, one left unknown until the lost update can no longer land.
        held = _sync(tmp_path, options, "held", {**ROW, "email": "third@example.org"})
        assert [r.outcome for r in held.results] == ["unknown"] and not held.interrupted and held.exit_code == 3
        sync = allowed_report(tmp_path / "held")["sync"]
        assert (sync["interrupted"], sync["stopped"], sync["status"]) == (False, None, "unknown outcomes")
        assert _run_statuses(options.state_dir) == ["finished", "interrupted", "unknown outcomes"]

        # The next night, from cron, once the wait is over: its report says how last night ended, in report.json
        # and in words.
        minutes_pass(options.state_dir, 11)
        source = write_extract(tmp_path / "next.csv", [{**ROW, "email": "third@example.org"}])
        command = sync_command(source, emulator.url, options.state_dir, tmp_path / "next", AS_OF.isoformat())
        done = subprocess.run(
            command, env={**os.environ, "REGISTER_API_TOKEN": TOKEN}, capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 0, done.stdout + done.stderr
    report = allowed_report(tmp_path / "next")
    assert report["sync"]["previous_run"]["status"] == "unknown outcomes" and report["sync"]["status"] == "finished"
    page = lxml.html.fromstring((tmp_path / "next" / "report.html").read_bytes())
    said = " ".join(page.text_content().split())
    assert "and left some records' outcomes unknown: this run looks them up in Register" in said, said[:2000]
    assert _run_statuses(options.state_dir)[-1] == "finished"


def test_a_dry_run_between_two_nights_hides_neither_from_the_next_real_runs_report(tmp_path: Path) -> None:
    """review173 F2: nightly-sync.md says a script tells two exit-3 nights in a row from tonight's `sync.status` and
    `sync.previous_run.status`. A dry run in between (a data officer's preview during the day) was the run before,
    `finished`, so the second night's report hid the first. A real run's previous_run is the last real run; a dry
    run's is the run just before it, of either kind."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=169) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN, timeout=0.5)
        assert _sync(tmp_path, options, "first", ROW).exit_code == 0
        with _update_answer_lost(emulator) as client, pytest.raises(Interrupted):
            _sync(tmp_path, options, "out", {**ROW, "email": "second@example.org"}, client=client)
        third = {**ROW, "email": "third@example.org"}
        assert _sync(tmp_path, options, "night1", third).exit_code == 3
        assert _sync(tmp_path, dataclasses.replace(options, dry_run=True), "preview", third).exit_code == 0
        assert _sync(tmp_path, options, "night2", third).exit_code == 3
    night1, preview, night2 = (allowed_report(tmp_path / name)["sync"] for name in ("night1", "preview", "night2"))
    # The preview names the run just before it, the real night
    assert (preview["previous_run"]["id"], preview["previous_run"]["dry_run"]) == (night1["run_id"], False)
    # The second night names the first, not the preview: both exited 3, and its report shows it
    assert night2["status"] == "unknown outcomes"
    assert night2["previous_run"]["id"] == night1["run_id"] == preview["run_id"] - 1
    assert (night2["previous_run"]["status"], night2["previous_run"]["dry_run"]) == ("unknown outcomes", False)
    page = lxml.html.fromstring((tmp_path / "night2" / "report.html").read_bytes())
    said = " ".join(page.text_content().split())
    assert f"The last real run before it, run {night1['run_id']}, started" in said, said[:2000]
    assert "and left some records' outcomes unknown: this run looks them up in Register" in said, said[:2000]
