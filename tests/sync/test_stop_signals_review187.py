"""review187 F1: a caller that gives `sync_files` its own `stop=` on the main thread keeps the signal handlers it set,
but one that set none (an ordinary script with a time limit, say) still stops cleanly, with a report, on SIGTERM;
and a Ctrl-C while the report is written ends in `Interrupted` with the report whole, never a bare
KeyboardInterrupt with none.

Real processes and real signals; the emulator on 127.0.0.1, behind a server that holds the first create open (never
a sleep), so that the signal lands while a write is out however loaded the machine."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import pytest

from emulated import AS_OF, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.reports import ReportBuilder
from register_batch.sync import sync_files
from stub_http import HoldFirstCreate, fronting
from trainee_extracts import trainee, write_extract

TOKEN = "stop-signals-review187-token"

# The caller: a script that runs a sync on its main thread with a stop of its own (for a time limit, say),
# with Python's default handlers or, given "own-sighup", its own SIGHUP handler. It says how the run ended.
SCRIPT = """
import logging, signal, sys, threading
from datetime import date
from register_batch.api import Secret
from register_batch.errors import Interrupted
from register_batch.sync import SyncOptions, sync_files

url, token, state, reports, extract, mode = sys.argv[1:]
# Python's defaults, whatever the test runs under (nohup ignores SIGHUP, a background job SIGINT).
signal.signal(signal.SIGINT, signal.default_int_handler)
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signal.signal(signal.SIGHUP, signal.SIG_DFL)
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
calls = []
if mode == "own-sighup":
    signal.signal(signal.SIGHUP, lambda signum, frame: calls.append(signal.Signals(signum).name))
sighup = signal.getsignal(signal.SIGHUP)
options = SyncOptions(
    target=url, token=Secret(token), state_dir=state, report_dir=reports, as_of=date(2026, 11, 28), rate=(10000, 60.0)
)
try:
    result = sync_files([extract], options, stop=threading.Event())
    print("returned", result.status, dict(result.outcomes), calls)
except Interrupted as stopped:
    print("interrupted", stopped.by, stopped.result.status, dict(stopped.result.outcomes), calls)
print("handlers given back", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL,
      signal.getsignal(signal.SIGHUP) is sighup,
      signal.getsignal(signal.SIGINT) is signal.default_int_handler)
"""


def run_the_script_signalled_mid_write(tmp_path: Path, mode: str, signum: int) -> tuple[int, str, Counter]:
    """The script's exit code and output once `signum` is sent to it while its first create is out; and what
    Register holds (trainees by HUSID)."""
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 7)])
    script = tmp_path / "caller.py"
    script.write_text(SCRIPT, encoding="utf-8")
    gate = HoldFirstCreate()

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(REGISTER_BATCH_RATE_DIR="off", HOME=str(tmp_path / "home"))
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, gate) as front,
    ):
        args = [front.url, TOKEN, str(tmp_path / "state"), str(tmp_path / "reports"), str(source), mode]
        process = subprocess.Popen(
            [sys.executable, str(script), *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert gate.sent.wait(120), "the script sent no create"
            process.send_signal(signum)  # while the create is out
            gate.release.set()
            output, _ = process.communicate(timeout=120)
        finally:
            gate.release.set()
            if process.poll() is None:
                process.kill()
                process.wait()
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            held = Counter(t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=1000))
    return process.returncode, output, held


def test_sigterm_to_a_script_with_its_own_stop_and_no_handlers_stops_it_cleanly_with_a_report(tmp_path):
    """It was killed by the SIGTERM (rc -15) with the create out, no report and nothing logged (review187 F1)."""
    code, output, held = run_the_script_signalled_mid_write(tmp_path, "none", signal.SIGTERM)
    assert code == 0, output
    assert "WARNING SIGTERM: stopping after the request in flight" in output
    assert "interrupted signal interrupted {'done': 1, 'pending': 5} []" in output
    assert "handlers given back True True True" in output
    data = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert data["sync"]["stopped"]["by"] == "signal" and data["sync"]["status"] == "interrupted"
    assert len(held) == 1 and set(held.values()) == {1}  # the create in flight finished, and was reported done


def test_a_script_with_its_own_stop_and_sighup_handler_keeps_it_and_the_run_goes_on(tmp_path):
    """Its SIGTERM and SIGINT are still Python's defaults, so the run handles those; its SIGHUP stays its own."""
    code, output, held = run_the_script_signalled_mid_write(tmp_path, "own-sighup", signal.SIGHUP)
    assert code == 0, output
    assert "returned finished {'done': 6} ['SIGHUP']" in output
    assert "handlers given back True True True" in output
    assert len(held) == 6


@pytest.fixture
def python_default_sigint():
    """SIGINT at Python's default (KeyboardInterrupt), put back as it was after the test."""
    saved = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, saved)


def sigint_as_the_report_is_written(monkeypatch) -> None:
    """A Ctrl-C (a real SIGINT to this process) once, as the run begins writing its report: every record written."""
    original = ReportBuilder.write
    sent: list[bool] = []

    def write(self, *args, **kwargs):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGINT)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ReportBuilder, "write", write)


@pytest.fixture
def emulator():
    with start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None) as running:
        yield running


SAMPLE = Path(__file__).parents[2] / "samples" / "extract.xml"


def test_ctrl_c_as_the_report_is_written_with_a_stop_given_lets_the_report_finish(
    emulator, tmp_path, monkeypatch, python_default_sigint
):
    """SIGINT at Python's default: the run's handler takes it, as before review182, and the report is written (it
    was a bare KeyboardInterrupt with no report folder: review187 F1, repro 2)."""
    sigint_as_the_report_is_written(monkeypatch)
    try:
        result = sync_files([SAMPLE], sync_options(emulator, tmp_path, TOKEN), stop=threading.Event())
    except KeyboardInterrupt:
        pytest.fail("a bare KeyboardInterrupt, the report not written")
    assert result.status == "finished" and result.outcomes["done"] == 12
    assert sorted(path.name for path in (tmp_path / "reports").iterdir()) == [
        "issues.csv",
        "not_in_extract.csv",
        "report.html",
        "report.json",
        "results.csv",
    ]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_ctrl_c_as_the_report_is_written_with_no_handler_of_the_runs_is_interrupted_with_the_report_whole(
    emulator, tmp_path, monkeypatch, python_default_sigint
):
    """handle_signals=False: the KeyboardInterrupt lands in the report's writing. The report is written in full all
    the same, and the run ends in the documented Interrupted, with its result."""
    sigint_as_the_report_is_written(monkeypatch)
    try:
        with pytest.raises(Interrupted) as stopped:
            sync_files([SAMPLE], sync_options(emulator, tmp_path, TOKEN), handle_signals=False)
    except KeyboardInterrupt:
        pytest.fail("a bare KeyboardInterrupt, the report not written")
    assert stopped.value.by == "signal" and stopped.value.exit_code == 3
    result = stopped.value.result
    assert result is not None and result.status == "finished" and result.outcomes["done"] == 12
    assert str(stopped.value).startswith("interrupted while the report was written, once the run was done")
    data = json.loads(Path(result.report_paths["json"]).read_text(encoding="utf-8"))
    assert data["sync"]["status"] == "finished" and len(data["records"]) == 12
    assert (tmp_path / "reports" / "results.csv").read_text(encoding="utf-8-sig").count("\n") == 13
