"""A sync's pace as a person sees it: the bar on a terminal, the request rate in its report."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from emulated import sync_options
from register_batch.progress import Progress
from register_batch.sync import sync_files

SAMPLES = Path(__file__).parents[2] / "samples"


def test_the_writing_bar_moves_at_each_request(register, tmp_path, monkeypatch):
    """Sync's writes are paced at 100 requests a minute: a bar redrawn every 64 steps, as validation's is, stood still
    for over half a minute at a time, then jumped. It is redrawn at each record written."""
    register.emulator.add_token("samples-provider-token", "10052198")
    options = sync_options(register.emulator, tmp_path, "samples-provider-token", as_of=register.as_of)
    progress = Progress(stream=io.StringIO(), force_terminal=True)
    bars = progress._rich
    assert bars is not None
    drawn: list[tuple[Any, Any]] = []
    update = bars.update

    def recorded(bar: Any, **fields: Any) -> None:
        drawn.append((bar, fields.get("completed")))
        update(bar, **fields)

    monkeypatch.setattr(bars, "update", recorded)
    with progress:
        result = sync_files([str(SAMPLES / "extract.xml")], options, progress=progress)
    assert result.outcomes["done"] == 12
    [writing] = [task for task in bars.tasks if task.description == "Writing to Register"]
    counts = [completed for bar, completed in drawn if bar == writing.id and completed is not None]
    assert counts[:12] == list(range(1, 13))  # then once more as the bar closes
    assert writing.completed == writing.total == 12


def test_the_reports_request_rate_is_its_requests_over_its_seconds_however_short_the_run(register):
    """report.json's `per_second` (what a person compares with Register's 100 a minute): a run against a fast local
    Register takes well under a second, and its rate is still the requests over the seconds, not 0."""
    register.emulator.add_token("samples-provider-token", "10052198")
    register.sync(SAMPLES / "extract.xml", token="samples-provider-token")
    requests = register.report()["sync"]["requests"]
    assert requests["total"] == 15 and requests["seconds"] > 0, requests
    # Both are rounded to 3 decimals: `seconds` within 0.0005 of the run's, which in a run of 30 ms moves the rate by
    # almost 2%, so the bounds are the rate over the longest and the shortest run that rounds to `seconds`.
    total, seconds = requests["total"], requests["seconds"]
    assert total / (seconds + 0.0005) - 0.0005 <= requests["per_second"] <= total / (seconds - 0.0005) + 0.0005, (
        requests
    )


def test_a_log_says_when_and_why_the_rate_limit_holds_the_writes_back(register, tmp_path):
    """Not on a terminal (cron, a CI log, `| tee`), a sync paced by the rate limit stood silent after each window's
    burst of requests, up to a minute against Register. Each wait worth a line is one, naming the limit."""
    register.emulator.add_token("samples-provider-token", "10052198")
    options = sync_options(register.emulator, tmp_path, "samples-provider-token", as_of=register.as_of, rate=(5, 1.0))
    stream = io.StringIO()
    with Progress(stream=stream, interval=0.3, force_terminal=False) as progress:
        result = sync_files([str(SAMPLES / "extract.xml")], options, progress=progress)
    assert result.outcomes["done"] == 12
    waits = [line for line in stream.getvalue().splitlines() if "waiting" in line]
    assert waits, stream.getvalue()
    shape = re.compile(r".*(Listing Register: \d+ trainees|Writing to Register: \d+/12 requests) \(.*\); waiting \d+ s")
    for line in waits:
        assert shape.match(line) and line.endswith(" s for the rate limit (5 requests per 1 s)"), line
    assert any("Writing to Register:" in line for line in waits)


def test_the_neighbouring_cycles_listing_has_a_bar_of_its_own_name(register, tmp_path):
    """A first load lists the extract's cycle, then the cycles either side of its creates (a start moved since
    Register got the trainee): the second listing drew a second "Listing Register" bar, as if Register were listed
    twice."""
    register.emulator.add_token("samples-provider-token", "10052198")
    options = sync_options(register.emulator, tmp_path, "samples-provider-token", as_of=register.as_of)
    progress = Progress(stream=io.StringIO(), force_terminal=True)
    with progress:
        result = sync_files([str(SAMPLES / "extract.xml")], options, progress=progress)
    assert result.outcomes["done"] == 12
    assert progress._rich is not None
    listings = [task.description for task in progress._rich.tasks if task.description.startswith("Listing")]
    assert listings == ["Listing Register", "Listing neighbouring cycles"]


@pytest.mark.parametrize("shown", [True, False], ids=["with a progress", "without one"])
def test_each_429_is_said_once_by_the_progress_line_or_else_by_the_log(tmp_path, caplog, shown):
    """Throttled by Register, a sync said each wait twice: a warning line (`throttled by Register (429 Retry
    later)`), then the progress line (`waiting 2 s for Register's next window (it answered 429, Retry later)`), both
    on standard error. A progress that shows the waits says each 429 once, whatever its length; without one, the log
    still says it."""
    from register_batch.emulator import start_emulator

    token = "throttled-provider-token"
    stream = io.StringIO()
    with (
        start_emulator(tokens=[token], ukprns={token: "10052198"}, rate_limit=(4, 2.0)) as emulator,
        Progress(stream=stream, interval=0.01 if shown else 60.0, enabled=shown, force_terminal=False) as progress,
        # That logger's own level: an earlier test's `register-batch -q` (in this process) left it at ERROR.
        caplog.at_level(logging.WARNING, logger="register_batch.api.retries"),
    ):
        options = sync_options(emulator, tmp_path, token, rate=(100, 1.0))  # faster than Register allows
        result = sync_files([str(SAMPLES / "extract.xml")], options, progress=progress)
    assert result.outcomes["done"] == 12
    throttled = result.requests["throttled"]
    assert throttled >= 2, result.requests
    logged = [record.getMessage() for record in caplog.records if "429" in record.getMessage()]
    lines = [line for line in stream.getvalue().splitlines() if "429" in line]
    assert len(logged) + len(lines) == throttled, (logged, lines)
    if not shown:
        assert len(logged) == throttled and not stream.getvalue()
    else:
        assert lines, stream.getvalue()  # the progress says them (a 429 whose wait the client backs off says itself)


@pytest.mark.skipif(not hasattr(os, "openpty"), reason="needs a pseudo-terminal (POSIX)")
def test_on_a_terminal_a_sync_shows_it_compares_the_records_and_writes_its_reports(tmp_path):
    """review134 F9: once Register was listed, and again after the last request, nothing on the terminal moved while
    the sync compared the records with the listing and wrote its reports (seconds each for 10,000 records, 14 s of
    them on a loaded machine), which looked like a hang. Each has a bar of its own, the reports' counting the files.
    The command line as a person runs it: `python -m register_batch sync` on a terminal (a pty)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(TERM="xterm", COLUMNS="160", HOME=str(tmp_path / "home"))
    command = [sys.executable, "-m", "register_batch", "sync", str(SAMPLES / "extract.xml"), "--as-of", "2026-11-28"]
    command += ["--state-dir", str(tmp_path / "state"), "--report-dir", str(tmp_path / "reports")]  # embedded emulator
    terminal, child_end = os.openpty()
    try:
        process = subprocess.Popen(
            command, cwd=tmp_path, env=env, stdin=subprocess.DEVNULL, stdout=child_end, stderr=child_end
        )
        os.close(child_end)
        shown = _read_terminal(terminal, process)
    finally:
        os.close(terminal)
    assert process.returncode == 0, shown
    lines = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).splitlines()  # what a person reads once the bars stop
    assert any(re.search(r"Comparing with Register .* 12/12 ", line) for line in lines), shown
    assert any(re.search(r"Writing reports .* 5/5 ", line) for line in lines), shown
    assert (tmp_path / "reports" / "results.csv").exists()


def _read_terminal(terminal: int, process: subprocess.Popen) -> str:
    """All the child writes to its terminal until it ends, read as it comes (a full terminal would block it)."""
    read = b""
    deadline = time.monotonic() + 120
    while True:
        assert time.monotonic() < deadline, read.decode(errors="replace")
        if select.select([terminal], [], [], 0.05)[0]:
            try:
                chunk = os.read(terminal, 65536)
            except OSError:  # EIO: every copy of the child's end is closed (it has ended)
                chunk = b""
            read += chunk
            if not chunk:
                break
        elif process.poll() is not None and not select.select([terminal], [], [], 0.2)[0]:
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(60)
    return read.decode(errors="replace")


def test_a_run_of_invalid_records_alone_says_it_plans_them_not_that_it_compares_them_with_register(register, tmp_path):
    """review145 F1: a sync whose every record is invalid lists nothing from Register (0 requests), yet its progress
    said "Comparing with Register"."""
    register.emulator.add_token("samples-provider-token", "10052198")
    options = sync_options(register.emulator, tmp_path, "samples-provider-token", as_of=register.as_of)
    text = (SAMPLES / "extract.xml").read_text(encoding="utf-8")
    extract = tmp_path / "all-invalid.xml"
    extract.write_text(re.sub(r"<F_SEXID>[^<]*</F_SEXID>", "<F_SEXID>77</F_SEXID>", text), encoding="utf-8")
    stream = io.StringIO()
    with Progress(stream=stream, interval=0, force_terminal=False) as progress:
        result = sync_files([str(extract)], options, progress=progress)
    assert result.requests["total"] == 0 and result.outcomes["skipped"] == 12, result.summary_line()
    said = [line.split(" ", 1)[1].split(" (")[0] for line in stream.getvalue().splitlines()]
    assert "Planning records: 12/12 records" in said, said
    assert not [line for line in said if "Register" in line], said


def test_a_log_names_the_comparison_and_the_reports_being_written_as_their_rows_are_read(register, tmp_path):
    """review134 F9: under cron a 10,000-record rerun's log stood still from the listing's last line to the summary.
    The comparison with the listing and the reports are steps with lines of their own, and the reports' come as each
    record's row is read, not only between two files (report.html of many records is one file): here a line is due
    at every step (interval 0), so a line before the first file is done shows it."""
    register.emulator.add_token("samples-provider-token", "10052198")
    options = sync_options(register.emulator, tmp_path, "samples-provider-token", as_of=register.as_of)
    stream = io.StringIO()
    with Progress(stream=stream, interval=0, force_terminal=False) as progress:
        result = sync_files([str(SAMPLES / "extract.xml")], options, progress=progress)
    assert result.outcomes["done"] == 12
    said = [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]
    assert "Comparing with Register: 12/12 records" in [line.split(" (")[0] for line in said], said
    reports = [line.split(" (")[0] for line in said if line.startswith("Writing reports:")]
    assert reports[0] == "Writing reports: 0/5 files" and reports[-1] == "Writing reports: 5/5 files", reports
    assert said[-1].startswith("Writing reports: 5/5 files (") and "left" not in said[-1], said
    # Every file is there, as before: the lines change nothing of what is written.
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "issues.csv",
        "not_in_extract.csv",
        "report.html",
        "report.json",
        "results.csv",
    ]
