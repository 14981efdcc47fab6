"""A stop signal (systemd's SIGTERM at shutdown, Ctrl-C) that lands once a sync's report is written, while the run
is still letting go of its state dir's lock, its ledger and its spools: the run's outcome is already decided, so the
signal changes nothing (docs/exit-codes.md). It made a finished run "interrupted; run the same command again"
(exit 3, no summary, no Report line), and a stopped run lost its summary line (review60 F2).

The signal is sent at one exact point, not hoped to land there: as the state dir's lock file is emptied on its
release (os.ftruncate on `sync.lock`), which `sync_files` does after the report is written and the ledger closed.
The handler in place before the run is the command line's own (`cli._interrupt`: KeyboardInterrupt), as under
`register-batch sync`. And one while the report is written lets it finish, a dry run's too."""

from __future__ import annotations

import logging
import os
import signal
import threading
from pathlib import Path

import pytest

from emulated import AS_OF, sync_options
from register_batch.cli import _interrupt
from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.sync import SyncResult, sync_files

SAMPLES = Path(__file__).parents[2] / "samples"
TOKEN = "stop-after-report-token-01"

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGTERM") or os.name != "posix", reason="POSIX signals")


@pytest.fixture
def register():
    with start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None, as_of=AS_OF, seed=3) as emulator:
        yield emulator


def _sigterm_as_the_lock_is_released(monkeypatch: pytest.MonkeyPatch, state: Path, report: Path) -> list[int]:
    """Send this process SIGTERM as `state`'s lock file is emptied once `report` exists (the lock's release: its
    holder line is written, and emptied, by os.ftruncate). Returns the list the signals sent are noted in."""
    sent: list[int] = []
    ftruncate = os.ftruncate

    def then_a_signal(fd: int, length: int) -> None:
        ftruncate(fd, length)
        lock = state / "sync.lock"
        if not sent and length == 0 and report.exists() and os.fstat(fd).st_ino == lock.stat().st_ino:
            sent.append(signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)  # handled at the next bytecode: still inside sync_files

    monkeypatch.setattr(os, "ftruncate", then_a_signal)
    return sent


@pytest.fixture
def command_lines_handler():
    """SIGTERM handled as `register-batch` handles it (cli.main), given back after the test."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are installed on the main thread only")
    previous = signal.signal(signal.SIGTERM, _interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


def test_a_sigterm_after_the_report_is_written_leaves_a_finished_run_finished(
    register, tmp_path, monkeypatch, command_lines_handler
):
    options = sync_options(register, tmp_path, TOKEN)
    sent = _sigterm_as_the_lock_is_released(monkeypatch, tmp_path / "state", tmp_path / "reports" / "report.json")
    try:
        result = sync_files([SAMPLES / "extract.xml"], options)
    except KeyboardInterrupt:  # the command line's exit 3, "interrupted; run the same command again to resume"
        pytest.fail("a signal after the report was written made the finished run an interrupted one")
    finally:
        monkeypatch.undo()
    assert sent == [signal.SIGTERM], "the signal was not sent once the report was written"
    assert isinstance(result, SyncResult) and not result.interrupted
    assert result.exit_code == 0 and result.outcomes == {"done": 12}
    assert Path(result.report_paths["json"]).exists()
    again = sync_files([SAMPLES / "extract.xml"], sync_options(register, tmp_path, TOKEN))  # the lock was released
    assert again.exit_code == 0 and again.outcomes == {"done": 12}


def test_a_sigterm_after_a_stopped_runs_report_keeps_its_summary(
    register, tmp_path, monkeypatch, command_lines_handler
):
    """A run stopped part-way ends with Interrupted, which carries its result and summary line: a signal while it
    lets go of its locks replaced that with a bare KeyboardInterrupt ("interrupted; run the same command again")."""
    stop = threading.Event()
    ftruncate = os.ftruncate

    def stop_once_locked(fd: int, length: int) -> None:
        ftruncate(fd, length)
        stop.set()  # the extract read and the state dir locked: stopped before anything is listed, with a report

    monkeypatch.setattr(os, "ftruncate", stop_once_locked)
    options = sync_options(register, tmp_path, TOKEN)
    sent = _sigterm_as_the_lock_is_released(monkeypatch, tmp_path / "state", tmp_path / "reports" / "report.json")
    try:
        with pytest.raises(Interrupted) as stopped:
            # The run's own handlers, as the command line has them: given a stop, it installs none unasked.
            sync_files([SAMPLES / "extract.xml"], options, stop=stop, handle_signals=True)
    except KeyboardInterrupt:
        pytest.fail("a signal after the report was written lost the stopped run's result and summary")
    finally:
        monkeypatch.undo()
    assert sent == [signal.SIGTERM]
    assert stopped.value.by == "stop" and stopped.value.result is not None
    assert stopped.value.result.exit_code == 3 and "Run the same sync again to resume" in str(stopped.value)


def test_a_sigterm_while_a_dry_runs_report_is_written_lets_the_report_finish(
    register, tmp_path, monkeypatch, command_lines_handler, caplog
):
    """A first signal while the report is written lets it finish (docs/exit-codes.md), a dry run's too: it wrote
    nothing, so the signal stopped it at once, half its report files in place and the others not."""
    options = sync_options(register, tmp_path, TOKEN, dry_run=True)
    reports = tmp_path / "reports"
    sent: list[int] = []
    replace = os.replace

    def then_a_signal(source, target, *args, **kwargs):
        replace(source, target, *args, **kwargs)
        if not sent and Path(target).parent == reports:  # the first report file in place
            sent.append(signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr(os, "replace", then_a_signal)
    try:
        with caplog.at_level(logging.WARNING, logger="register_batch"):
            result = sync_files([SAMPLES / "extract.xml"], options)
    except KeyboardInterrupt:
        pytest.fail("a signal while the report was written stopped the dry run without its report")
    finally:
        monkeypatch.undo()
    assert sent == [signal.SIGTERM]
    assert result.exit_code == 0 and result.outcomes == {"planned": 12}
    assert sorted(p.name for p in reports.iterdir()) == [
        "issues.csv", "not_in_extract.csv", "report.html", "report.json", "results.csv",
    ]  # fmt: skip
    assert "SIGTERM: finishing the report (send it again to stop at once)" in caplog.text
