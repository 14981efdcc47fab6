"""A report is a set of files (report.json, issues.csv, report.html, junit.xml): put in place together or not at all."""

from __future__ import annotations

import os
import subprocess
import sys

from cli_runs import files_limited_to
from trainee_extracts import extract, trainee, write_extract


def test_a_report_the_disk_cannot_hold_whole_leaves_the_previous_one_whole(tmp_path):
    """A full disk half-way through the reports left the new report.json and issues.csv beside the previous run's
    report.html in a reused --report-dir, so the page people open disagreed with the files next to it."""
    validate = [sys.executable, "-m", "register_batch", "-q", "validate", "--report-dir", "reports", "--junit"]
    first = subprocess.run([*validate, str(extract(tmp_path / "good.csv", 5))], cwd=tmp_path, capture_output=True)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (tmp_path / "reports").iterdir()}
    assert sorted(before) == ["issues.csv", "junit.xml", "report.html", "report.json"]

    rows = [trainee(n) for n in range(1, 6)]
    rows[0]["sex"] = "M"  # one issue: this run's report.json and issues.csv differ from the first run's
    second_input = write_extract(tmp_path / "bad.csv", rows)
    largest_but_the_page = max(len(data) for name, data in before.items() if name != "report.html")
    limit = largest_but_the_page + 4_000  # room for each file of the new report but its page (about 24 KB)
    assert limit < len(before["report.html"])
    done = subprocess.run(
        [*validate, str(second_input)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        preexec_fn=files_limited_to(limit),
    )
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert "report.html" in line and "File too large" in line, line
    after = {p.name: p.read_bytes() for p in (tmp_path / "reports").iterdir()}
    assert after == before  # not one file of the new report in place, no temporary file left
