"""A record a run holds back because a request of its trainee had no answer and Register may still carry it out
(`SyncRun.waits_for`: an update out that this run's update could be overtaken by, or one that would undo what Register
holds as the extract says) is left unknown, exit 3, and its message says after what time to run again. issues.csv's
`fix` and report.html's summary box said "run the same sync again" and "the run was stopped or lost an answer": run at
once, the same sync only waited again (review157 F1). Its own code now (`sync_waits`), with the time in report.json's
`sync.waiting` and in the summary box. Real syncs against the emulator over 127.0.0.1, whose fault hooks lose the
update's answer or hold the update past the client's timeout."""

from __future__ import annotations

import csv
import dataclasses
from datetime import datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest

from emulated import AS_OF, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.sync import SyncOptions, SyncResult, sync_files
from report_schema import allowed_report
from trainee_extracts import trainee, write_extract

TOKEN = "waits-say-when-token"
ROW = trainee(1)


def _sync(tmp_path: Path, options: SyncOptions, name: str, row: dict[str, Any], **more: Any) -> SyncResult:
    extract = write_extract(tmp_path / f"{name}.csv", [row])
    return sync_files([str(extract)], dataclasses.replace(options, report_dir=tmp_path / name), **more)


def _update_faulted(emulator: Any, fault: str) -> RegisterClient:
    """A client whose updates meet `fault` at the emulator (their answer lost, or held past the timeout)."""

    class Faulted(RegisterClient):
        def update_trainee(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
            emulator.set_faults(fault)
            try:
                return super().update_trainee(trainee_id, data)
            finally:
                emulator.set_faults(None)

    return Faulted(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=0.5, attempts=1)


@pytest.mark.parametrize(
    ("fault", "then", "why"),
    [
        # The update landed, its answer lost; the SRS changes the email again: this update could be overtaken.
        ("lost-response:1.0", {"email": "third@example.org"}, "put back what this record's update changes"),
        # The update is still held; the SRS puts the email back: Register holds it as the extract says, for now
        # (`_earlier_write_unsettles`).
        ("timeout:1.0", {}, "then no longer hold the record as the extract says"),
    ],
    ids=["overtaken", "unsettles"],
)
def test_a_record_held_back_for_an_unanswered_update_says_when_to_run_again(
    tmp_path: Path, fault: str, then: dict[str, str], why: str
) -> None:
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=60.0) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN, timeout=0.5)
        assert _sync(tmp_path, options, "first", ROW).exit_code == 0
        with _update_faulted(emulator, fault) as client, pytest.raises(Interrupted):
            _sync(tmp_path, options, "out", {**ROW, "email": "second@example.org"}, client=client)
        again = _sync(tmp_path, options, "again", {**ROW, **then})
        assert [r.outcome for r in again.results] == ["unknown"] and again.exit_code == 3  # as designed
        until: datetime = again.results[0].again_after
        assert until is not None
        hhmm = f"{until:%H:%M} UTC"
        assert again.summary_line().startswith(f"1 record: 1 unknown (run the same sync again after {hhmm}: ")

        folder = tmp_path / "again"
        data = allowed_report(folder)  # as report.schema.json says
        [issue] = data["issues"]
        assert (issue["code"], issue["severity"]) == ("sync_waits", "error")
        assert why in issue["message"] and f"Run sync again after {hhmm}" in issue["message"]
        assert data["sync"]["waiting"] == {"records": 1, "until": until.isoformat(timespec="seconds")}
        assert data["sync"]["outcomes"] == {"unknown": 1}

        with open(folder / "issues.csv", encoding="utf-8-sig", newline="") as fh:
            [row] = list(csv.DictReader(fh))
        assert row["code"] == "sync_waits"
        assert "after the time its message gives" in row["fix"], row["fix"]
        assert "Run the same sync again:" not in row["fix"]

        doc = lxml.html.fromstring((folder / "report.html").read_bytes())
        [box] = doc.xpath('//section[@id="summary"]/div[contains(@class, "status")]')
        text = " ".join(box.text_content().split())
        assert box.get("data-status") == "waits" and "status-bad" in box.get("class")
        assert text.startswith("1 record waits for a request of its trainee that had no answer."), text
        assert f"Run the same sync again after {hhmm}" in text, text
        assert "stopped" not in text and "was lost" not in text and "may not have been written" not in text, text

        # Run at once, it waits again, as the advice now says; after the time, it finishes the record.
        assert _sync(tmp_path, options, "soon", {**ROW, **then}).exit_code == 3
        emulator.carry_out_held()
        minutes_pass(tmp_path / "state", 11)
        after = _sync(tmp_path, options, "after", {**ROW, **then})
        assert after.exit_code == 0, after.summary_line()
        assert allowed_report(tmp_path / "after")["sync"]["waiting"] is None
