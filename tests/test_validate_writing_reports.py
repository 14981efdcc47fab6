"""review184 F4: validate said nothing while it wrote its reports (a million issues: over a minute and a half, which
looked like a hang after the last record's count). It shows a "Writing reports" step, as sync does: a bar on a
terminal, a plain line in a log, ticked as each file's issue rows are read."""

from __future__ import annotations

import io
import json
from datetime import date

from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.jobs import validate_files
from register_batch.model import API_VERSION, Severity, SourceRef, TraineeRecord
from register_batch.progress import Progress
from register_batch.reports import ROWS_TICK, ReportBuilder


def _extract(tmp_path):
    path = tmp_path / "extract.xml"
    args = ["generate", "--count", "3", "--format", "hesa-xml", "-o", str(path), "--seed", "7", "--as-of", "2026-11-28"]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    return path


def test_validate_logs_its_reports_being_written(tmp_path):
    stream = io.StringIO()
    with Progress(stream=stream, interval=0, force_terminal=False) as progress:
        validate_files(
            [_extract(tmp_path)], as_of=date(2026, 11, 28), report_dir=tmp_path / "r", junit=True, progress=progress
        )
    lines = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    assert "Writing reports: 4/4 files" in "\n".join(lines), lines
    assert [line.split(":")[0] for line in lines][-1] == "Writing reports"


def test_validate_shows_a_writing_reports_bar_on_a_terminal(tmp_path):
    terminal = io.StringIO()
    with Progress(stream=terminal, force_terminal=True) as progress:
        validate_files([_extract(tmp_path)], as_of=date(2026, 11, 28), report_dir=tmp_path / "r", progress=progress)
    assert "Writing reports" in terminal.getvalue() and "3/3" in terminal.getvalue()


def test_each_file_s_issue_rows_tick_as_they_are_read(tmp_path):
    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    for number in range(1, 3 * ROWS_TICK):
        record = TraineeRecord(source=SourceRef(input="in.csv", record=number, line=number + 1), data={})
        record.issue("invalid_code", "bad", field="sex", value="M", severity=Severity.ERROR)
        builder.add_record(record)
    builder.finish([])
    ticks: list[int] = []
    written: list[int] = []
    builder.write(tmp_path / "r", each_written=lambda: written.append(len(ticks)), each_row=lambda: ticks.append(1))
    builder.close()
    # report.json and issues.csv read every row (3 ticks each); the page reads its rows more than once
    assert written[0] >= 3 and written[1] - written[0] >= 3 and len(ticks) > written[1], (written, len(ticks))


def test_the_step_is_said_while_duplicates_are_found_before_the_files_are_written(tmp_path):
    """review189 F6: the duplicate pass ran after the Validating step closed and before Writing reports opened, under
    no step: 3.5 s for 180,000 duplicate issues, tens of seconds for millions, then the new step's first line held back
    an interval more. The step now opens first and is ticked by each issue the pass finds (a line each, here, with a
    log interval of 0)."""
    one = tmp_path / "one.csv"
    args = ["generate", "--count", "1", "--format", "hesa-csv", "-o", str(one), "--seed", "7", "--as-of", "2026-11-28"]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    header, row = one.read_text(encoding="utf-8-sig").splitlines()
    same = tmp_path / "same.csv"
    same.write_text(header + "\n" + (row + "\n") * 40, encoding="utf-8")
    stream = io.StringIO()
    with Progress(stream=stream, interval=0, force_terminal=False) as progress:
        validate_files([same], as_of=date(2026, 11, 28), report_dir=tmp_path / "r", progress=progress)
    issues = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["issues"]
    duplicates = sum(1 for issue in issues if issue["code"].startswith("duplicate_"))
    assert duplicates >= 40
    lines = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    before_a_file = [line for line in lines if line.startswith("Writing reports: 0/3 files")]
    assert len(before_a_file) >= duplicates, lines
    assert not any(line.startswith("Validating") for line in lines[lines.index(before_a_file[0]) :])
