"""A service that owns its signals keeps them through `sync_files` (review182 F1): given its own `stop=`, or
`handle_signals=False`, the run installs no handler, so a log rotation's SIGHUP reopens the service's logs and its
SIGTERM handler runs, rather than the sync stopping. Real signals, sent to this process while the run writes to the
emulator over 127.0.0.1."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest

from emulated import sync_options
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError, Interrupted
from register_batch.sync import sync_files
from register_batch.sync.ledger import Ledger

SAMPLES = Path(__file__).parents[2] / "samples"
TOKEN = "signals-review182-token"


@pytest.fixture
def emulator():
    with start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None) as running:
        yield running


def signal_at_first_write(monkeypatch, signum: int) -> None:
    """`signum` sent to this process once, as the run notes its first write done: mid-run, while it writes."""
    original = Ledger.record
    sent: list[int] = []

    def record(self, key, status, **details):
        if status == "done" and not sent:
            sent.append(signum)
            os.kill(os.getpid(), signum)
        return original(self, key, status, **details)

    monkeypatch.setattr(Ledger, "record", record)


@pytest.fixture
def own_handler():
    """A handler of the caller's for a signal, put back as it was after the test."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGHUP, signal.SIGTERM)}
    calls: list[int] = []

    def handler(signum, _frame):
        calls.append(signum)

    yield handler, calls
    for sig, previous in saved.items():
        signal.signal(sig, previous)


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_caller_that_gives_its_own_stop_keeps_its_signal_handlers(
    emulator, tmp_path, monkeypatch, own_handler, signum
):
    handler, calls = own_handler
    signal.signal(signum, handler)
    signal_at_first_write(monkeypatch, signum)
    result = sync_files([SAMPLES / "extract.xml"], sync_options(emulator, tmp_path, TOKEN), stop=threading.Event())
    assert calls == [signum]  # the caller's handler ran: its logs reopened, its shutdown begun
    assert result.outcomes["done"] == 12 and not result.interrupted  # and the run went on to its end
    assert signal.getsignal(signum) is handler


def test_handle_signals_false_keeps_the_callers_handlers_without_a_stop(emulator, tmp_path, monkeypatch, own_handler):
    handler, calls = own_handler
    signal.signal(signal.SIGHUP, handler)
    signal_at_first_write(monkeypatch, signal.SIGHUP)
    options = sync_options(emulator, tmp_path, TOKEN)
    result = sync_files([SAMPLES / "extract.xml"], options, handle_signals=False)
    assert calls == [signal.SIGHUP] and result.outcomes["done"] == 12
    # How it ended, typed (review182 F2), as report.json says it.
    assert result.status == "finished" == result.report.extra["sync"]["status"] and result.estimate is None
    assert signal.getsignal(signal.SIGHUP) is handler


def test_handle_signals_true_with_a_stop_stops_on_the_signal_and_gives_the_handler_back(
    emulator, tmp_path, monkeypatch, own_handler
):
    handler, calls = own_handler
    signal.signal(signal.SIGTERM, handler)
    signal_at_first_write(monkeypatch, signal.SIGTERM)
    options = sync_options(emulator, tmp_path, TOKEN)
    with pytest.raises(Interrupted) as stopped:
        sync_files([SAMPLES / "extract.xml"], options, stop=threading.Event(), handle_signals=True)
    assert stopped.value.by == "signal" and calls == []
    assert stopped.value.result is not None and stopped.value.result.status == "interrupted"
    assert signal.getsignal(signal.SIGTERM) is handler


def test_handle_signals_that_is_not_a_flag_is_refused(emulator, tmp_path):
    with pytest.raises(ConfigError, match=r"^handle_signals must be True or False, not 'no'$"):
        sync_files([SAMPLES / "extract.xml"], sync_options(emulator, tmp_path, TOKEN), handle_signals="no")


def test_a_dry_runs_estimate_is_a_typed_attribute_of_its_result(emulator, tmp_path):
    """review182 F2: the estimate was reachable only as report.extra["sync"]["estimate"]."""
    result = sync_files([SAMPLES / "extract.xml"], sync_options(emulator, tmp_path, TOKEN, dry_run=True))
    estimate = result.estimate
    assert estimate is not None and estimate == result.report.extra["sync"]["estimate"]
    assert estimate["writes"] == 12 and estimate["requests"] == estimate["reads"] + 12
    assert set(result.requests) == {
        "total",
        "by_route",
        "by_status",
        "retries",
        "throttled",
        "per_trainee",
        "seconds",
        "per_second",
    }
