"""A dry run says which records a real run started now would hold back, and until when (`sync_would_wait`): an earlier
run's create or placement had no answer and may still be carried out (runner.UNANSWERED_CREATE_WAIT). Before, the dry
run said "would create 1" and exited 0, and the real run after it sent nothing and exited 3. Against the emulator over
127.0.0.1, which holds a timed-out request until the test carries it out (`carry_out_held`)."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path
from typing import Any

from test_review13_gaps import HOLD, TOKEN, _held, _killed_with_its_create_out, _resent_then_corrected
from test_unanswered_writes import _held_urns, _placement_left_out

from emulated import AS_OF, sync_options
from ledger_clock import minutes_pass
from register_batch.emulator import start_emulator
from register_batch.sync import SyncResult, sync_files
from trainee_extracts import trainee, write_extract


def _dry_run(emulator: Any, extract: Path, tmp_path: Path, name: str = "dry", **extra: Any) -> SyncResult:
    options = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name, dry_run=True, **extra)
    return sync_files([str(extract)], options)


def _foreseen(result: SyncResult) -> list[str]:
    return [issue.message for r in result.results for issue in r.issues if issue.code == "sync_would_wait"]


def _until(message: str) -> str:
    after = re.search(r"Run sync again after ([0-9]{2}:[0-9]{2}) UTC", message)
    assert after, message
    return after[1]


def test_a_dry_run_says_a_corrected_create_would_wait_and_the_real_run_does(tmp_path: Path) -> None:
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _killed_with_its_create_out(emulator, extract, tmp_path)
        write_extract(extract, [{**row, "last_name": "Corrected"}])  # Register's 409 would not refuse it beside it
        dry = _dry_run(emulator, extract, tmp_path)
        assert [(r.plan.action, r.outcome) for r in dry.results] == [("create", "planned")]
        [message] = _foreseen(dry)
        assert message.startswith(
            "a sync started now would send nothing for this record and leave it unknown (exit 3): an earlier run's "
            "create of this trainee (run 1) had no answer"
        ), message
        until = _until(message)
        # Counted apart from what the run would write: a real run now creates no one (review51 F2).
        assert dry.summary_line().startswith(
            f"1 record: 1 would wait until {until} UTC (a run now sends nothing for it: an earlier write had no "
            "answer), 1 warning (1 sync_would_wait)."
        ), dry.summary_line()
        assert json.loads((tmp_path / "dry" / "report.json").read_text())["sync"]["written"] == {}
        assert dry.exit_code == 0  # nothing is wrong with the record
        # The reports say it too: results.csv's warnings and issues.csv, as report.json lists them.
        issues = json.loads((tmp_path / "dry" / "report.json").read_text())["issues"]
        assert [(i["code"], i["severity"]) for i in issues if i["code"] == "sync_would_wait"] == [
            ("sync_would_wait", "warning")
        ]
        assert "sync_would_wait" in (tmp_path / "dry" / "issues.csv").read_text()
        assert message in (tmp_path / "dry" / "results.csv").read_text()

        real = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "real"))
        assert [r.outcome for r in real.results] == ["unknown"] and real.exit_code == 3
        assert _until(real.results[0].errors[0]) == until  # the time the dry run said
        assert not _foreseen(real)  # a real run's record is unknown: its own issue says why
        # The dry run's estimate of the real run counted no write for it: the real run sent none (review161 F6).
        estimate = json.loads((tmp_path / "dry" / "report.json").read_text())["sync"]["estimate"]
        assert (estimate["writes"], estimate["requests"]) == (0, real.requests["total"]), real.requests
        assert emulator.carry_out_held() == 1  # the held create is carried out
        assert [t["hesa_id"] for t in _held(emulator)].count(row["hesa_id"]) == 1


def test_a_dry_run_after_the_wait_foresees_none(tmp_path: Path) -> None:
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _killed_with_its_create_out(emulator, extract, tmp_path)
        write_extract(extract, [{**row, "last_name": "Corrected"}])
        minutes_pass(tmp_path / "state", 11)
        dry = _dry_run(emulator, extract, tmp_path)
        assert not _foreseen(dry) and "held back" not in dry.summary_line()
        assert emulator.carry_out_held() == 1  # let the held create land before the emulator stops


def test_a_dry_run_of_the_record_as_sent_foresees_no_wait(tmp_path: Path) -> None:
    """Unchanged, the record's create is sent again at once: Register's 409 refuses whichever lands second."""
    extract = write_extract(tmp_path / "extract.csv", [trainee(1)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _killed_with_its_create_out(emulator, extract, tmp_path)
        dry = _dry_run(emulator, extract, tmp_path)
        assert [r.outcome for r in dry.results] == ["planned"] and not _foreseen(dry)
        assert emulator.carry_out_held() == 1


def test_a_dry_run_says_an_update_would_wait(tmp_path: Path) -> None:
    """review46 F2's case: the create timed out and was sent again (201); the surname corrected at once would leave
    Register's 409 unable to refuse the first create, landing late."""
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _resent_then_corrected(emulator, extract, tmp_path, row, last_name="Corrected")
        dry = _dry_run(emulator, extract, tmp_path)
        assert [(r.plan.action, r.outcome) for r in dry.results] == [("update", "planned")]
        [message] = _foreseen(dry)
        assert "this record's update changes what its duplicate check compares" in message, message
        assert message.endswith("to send the update"), message
        assert emulator.carry_out_held() == 1
        assert len(_held(emulator)) == 1


def test_a_dry_run_says_a_placement_would_wait(tmp_path: Path) -> None:
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, fault_hold=HOLD) as emulator:
        options = _placement_left_out(emulator, tmp_path, row)
        extract = write_extract(tmp_path / "c.csv", [{**row, "placement_3_urn": "123456"}])
        dry = sync_files([str(extract)], dataclasses.replace(options, dry_run=True, report_dir=tmp_path / "dry"))
        [message] = _foreseen(dry)
        assert "a request adding a placement to trainee" in message and "no duplicate check for placements" in message
        assert emulator.carry_out_held() == 1  # the held placement is carried out
        assert _held_urns(emulator).count("123456") == 1
