"""A library sync whose progress can no longer be shown (standard error a pipe whose reader went away: `python job.py
2>&1 | head`, a `| tee` that died, a log shipper restarted) carries on to its end, as the command line does."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from emulated import sync_options
from register_batch.emulator import start_emulator
from register_batch.progress import Progress
from register_batch.sync import sync_files

SAMPLES = Path(__file__).parents[2] / "samples"
TOKEN = "progress-gone-token"


class PipeWhoseReaderLeaves:
    """Standard error as a real pipe: its reader takes the first `writes` writes, then closes its end (the system
    answers each later write with EPIPE). `terminal`: it says it is one, so that rich draws its bars as it goes."""

    def __init__(self, writes: int, *, terminal: bool):
        read, write = os.pipe()
        self._reader = os.fdopen(read, "rb", buffering=0)
        self._writer = os.fdopen(write, "w", encoding="utf-8")
        self._left = writes
        self._terminal = terminal
        self.read = b""

    def write(self, text: str) -> int:
        if self._left <= 0 and not self._reader.closed:
            self._reader.close()  # the reader goes away
        self._left -= 1
        written = self._writer.write(text)
        self._writer.flush()  # each write reaches the pipe now, so that the reader gets it or the writer hears EPIPE
        if text and not self._reader.closed:
            self.read += self._reader.read(1 << 16)
        return written

    def flush(self) -> None:
        self._writer.flush()

    def isatty(self) -> bool:
        return self._terminal

    def fileno(self) -> int:
        return self._writer.fileno()

    def close(self) -> None:
        self._reader.close()
        with contextlib.suppress(BrokenPipeError):
            self._writer.close()


@pytest.mark.parametrize("terminal", [False, True], ids=["plain lines", "rich bars"])
def test_a_sync_whose_progress_reader_goes_away_finishes_and_writes_its_reports(tmp_path, terminal):
    """The run died between two records with a bare BrokenPipeError (rich's own answer is SystemExit, having pointed
    standard output at the null device): no report, not a RegisterBatchError. Now what cannot be shown is dropped."""
    stream = PipeWhoseReaderLeaves(3, terminal=terminal)
    try:
        with start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None, latency_ms=40) as emulator:
            options = sync_options(emulator, tmp_path, TOKEN)
            # interval 0: a line at each step, so that the reader is gone long before the run ends
            with Progress(stream=stream, interval=0, force_terminal=terminal) as progress:  # type: ignore[arg-type]
                result = sync_files([str(SAMPLES / "extract.xml")], options, progress=progress)
            held = emulator.snapshot()["trainees"]
    finally:
        stream.close()
    assert stream.read  # something was shown before the reader went
    assert stream._reader.closed and stream._left < 0  # and more was written after it had gone
    assert result.outcomes["done"] == 12 and result.exit_code == 0, result.summary_line()
    assert held == 12
    assert json.loads((tmp_path / "reports" / "report.json").read_text())["summary"]["records"] == 12
