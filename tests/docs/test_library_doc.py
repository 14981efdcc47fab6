"""docs/library.md's Python is run as written, so the library's documented entry points cannot drift from it."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]


def test_the_library_page_runs_as_written(tmp_path):
    page = (REPOSITORY / "docs" / "library.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", page, flags=re.S | re.M)
    assert blocks, "docs/library.md shows no Python"
    shutil.copytree(REPOSITORY / "samples", tmp_path / "samples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    printed = []
    for block in blocks:
        done = subprocess.run(
            [sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        assert "Traceback" not in done.stderr
        printed.append(done.stdout)
    # What the page says each step leaves behind.
    made = ("reports/report.json", "bodies.jsonl", "sync-reports/report.json", "held.jsonl", "test.xml")
    for name in (*made, "fix-reports/report.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    assert len((tmp_path / "held.jsonl").read_text(encoding="utf-8").splitlines()) == 12  # the synced extract
    assert "12 trainees held in Register" in printed[0]  # and read as data, with no file (iter_trainees)
    # A sync in a worker thread, stopped by its event before the extract was read (review182 F7), then run to its end
    # (review62 F2).
    [stopped] = [out for block, out in zip(blocks, printed, strict=True) if "stop=stop" in block]
    assert stopped.splitlines() == [
        "stopped (stop) while reading: stopped while the records were read (0 records read): nothing was sent and no "
        "report written; run the same sync again",
        "12 records: 12 created; 14 warnings. 15 requests (1.25 per record).",
    ]
    # "Each record's result": a line for each record with errors, from its result's own issues, as the report has it.
    [fixes] = [out for block, out in zip(blocks, printed, strict=True) if "RecordResult" in block]
    report = json.loads((tmp_path / "fix-reports" / "report.json").read_text(encoding="utf-8"))
    named = [line for line in fixes.splitlines() if line.startswith("record ")]
    # The records failing validation, and any Register refused (samples/defects.xml's same_trainee_twice record
    # comes after a valid record, so Register's 409 rule refuses it): each with errors in the report.
    assert [int(line.split()[1]) for line in named] == [row["record"] for row in report["records"] if row["errors"]]
    assert len(named) >= report["summary"]["invalid"] > 0
    errors = [row for row in report["issues"] if row["severity"] == "error" and row["record"] is not None]
    assert [line.lstrip() for line in fixes.splitlines() if line.startswith("  ")] == [
        f"{row['code']} ({row['field'] or 'the record'}): {row['message']}" for row in errors
    ]


def test_the_library_pages_syncs_run_again_in_the_same_folder(tmp_path):
    """A vendor pastes a sync example into a notebook cell or a test and runs it twice: each run starts an emulator
    on a new port with no trainees, and a state dir kept in the folder was bound to the first one's (ConfigError:
    the state dir belongs to another target; with a fixed port, every record a conflict)."""
    page = (REPOSITORY / "docs" / "library.md").read_text(encoding="utf-8")
    blocks = [
        block
        for block in re.findall(r"^```python\n(.*?)^```", page, flags=re.S | re.M)
        if "start_emulator" in block and "sync_files" in block
    ]
    assert len(blocks) == 3
    shutil.copytree(REPOSITORY / "samples", tmp_path / "samples")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    for block in blocks:
        for _run in range(2):
            done = subprocess.run(
                [sys.executable, "-c", block], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, done.stderr[-3000:]
    assert len((tmp_path / "held.jsonl").read_text(encoding="utf-8").splitlines()) == 12  # the second run's emulator's
