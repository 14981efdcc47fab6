"""sync_files(stop=threading.Event()) as a service stops a sync it runs in a worker thread, where no signal handler can
be installed (review62 F2): the run stops at its next safe point with Interrupted, as Ctrl-C does on the main thread,
and the next run finishes without creating anyone twice."""

from __future__ import annotations

import concurrent.futures
import logging
import re
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from emulated import AS_OF, sync_options
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError, Interrupted
from register_batch.sync import SyncResult, sync_files

SAMPLES = Path(__file__).parents[2] / "samples"
TOKEN = "stop-event-provider-token"


@pytest.fixture
def slow_register():
    """The emulator, each request taking 150 ms (a sync of 12 records takes more than a second), its provider the
    samples' (10052198)."""
    with start_emulator(
        tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None, as_of=AS_OF, seed=7, latency_ms=150
    ) as emulator:
        yield emulator


def trainees_created(emulator) -> int:
    return httpx.get(f"{emulator.url}/__emulator__/stats").json()["trainees"]


def requests_received(emulator) -> int:
    return httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["total"]


def husids_held(emulator) -> Counter[str]:
    """How many trainees Register holds for each HUSID (all cycles the samples start in)."""
    from register_batch.api import RateLimiter, RegisterClient

    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return Counter(
            str(trainee.get("hesa_id"))
            for cycle in (2025, 2026)
            for trainee in client.iter_trainees(academic_cycle=cycle)
        )


def sync_in_a_worker(emulator, tmp_path: Path, stop: threading.Event | None, run: int, **extra):
    """A sync of the samples' 12 records in a worker thread, as a service's thread pool runs it."""
    options = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / f"reports-{run}", **extra)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    future = pool.submit(sync_files, [SAMPLES / "extract.xml"], options, stop=stop)
    pool.shutdown(wait=False)
    return future


def test_a_sync_in_a_worker_thread_stops_when_the_event_is_set_and_the_next_run_creates_no_one_twice(
    slow_register, tmp_path
):
    stop = threading.Event()
    future = sync_in_a_worker(slow_register, tmp_path, stop, 1)
    deadline = time.monotonic() + 60
    while trainees_created(slow_register) < 2 and not future.done() and time.monotonic() < deadline:
        time.sleep(0.02)
    stop.set()  # the service is asked to stop
    with pytest.raises(Interrupted) as stopped:
        future.result(timeout=60)
    assert stopped.value.by == "stop"
    result = stopped.value.result
    assert isinstance(result, SyncResult) and result.interrupted and result.exit_code == 3
    outcomes = result.outcomes
    assert outcomes["done"] >= 2 and outcomes["pending"] >= 1, outcomes
    assert outcomes["done"] + outcomes["pending"] == 12, outcomes  # finished its record in hand: none unknown
    created = trainees_created(slow_register)
    assert created == outcomes["done"]
    assert "Run the same sync again to resume" in str(stopped.value)
    report = (tmp_path / "reports-1" / "report.json").read_text(encoding="utf-8")
    assert '"by": "stop"' in report

    again = sync_files(
        [SAMPLES / "extract.xml"], sync_options(slow_register, tmp_path, TOKEN, report_dir=tmp_path / "reports-2")
    )
    assert again.exit_code == 0
    assert again.outcomes["done"] == 12
    assert sum(1 for r in again.results if r.plan.action == "create") == 12 - created
    held = husids_held(slow_register)
    assert len(held) == 12 and set(held.values()) == {1}  # no trainee created twice


def test_a_stop_set_before_the_run_lists_nothing_and_the_next_run_does_it_all(slow_register, tmp_path, caplog):
    stop = threading.Event()
    stop.set()
    with caplog.at_level(logging.WARNING, logger="register_batch"), pytest.raises(Interrupted) as stopped:
        sync_in_a_worker(slow_register, tmp_path, stop, 1).result(timeout=60)
    assert stopped.value.by == "stop"
    assert "stop event set: the sync stopped at a safe point" in caplog.text  # as a signal's stop is logged
    # Stopped at the extract's first record (review182 F7): nothing sent, no state dir, no report.
    assert stopped.value.result is None and str(stopped.value).startswith("stopped while the records were read (0 ")
    assert requests_received(slow_register) == 0 and trainees_created(slow_register) == 0
    assert not (tmp_path / "state").exists() and not (tmp_path / "reports-1" / "report.json").exists()
    again = sync_in_a_worker(slow_register, tmp_path, threading.Event(), 2).result(timeout=60)
    assert again.exit_code == 0 and trainees_created(slow_register) == 12


def test_a_stop_while_a_large_extract_is_read_takes_effect_between_two_records(slow_register, tmp_path):
    """review182 F7: the stop was looked at only once the whole extract was read and validated (7 s for 20,000
    records, which a service's 30 s grace period may not have), as `_plan_run` first looked at it."""
    from register_batch.generate import generate

    count = 3000  # some 3 s to read and validate here, more on a loaded machine
    extract = generate(tmp_path / "large.xml", count=count, seed=3, as_of=AS_OF).output
    stop = threading.Event()
    options = sync_options(slow_register, tmp_path, TOKEN, dry_run=True)
    pool = concurrent.futures.ThreadPoolExecutor(1)
    future = pool.submit(sync_files, [extract], options, stop=stop)
    pool.shutdown(wait=False)
    time.sleep(0.5)  # part-way through the read
    asked = time.monotonic()
    stop.set()
    with pytest.raises(Interrupted) as stopped:
        future.result(timeout=120)
    assert time.monotonic() - asked < 1.5
    assert stopped.value.by == "stop" and stopped.value.result is None
    read = int(re.match(r"stopped while the records were read \((\d+) records? read\)", str(stopped.value))[1])
    assert 0 < read < count
    assert requests_received(slow_register) == 0 and not (tmp_path / "state").exists()


def test_a_stop_while_waiting_for_the_rate_budget_ends_the_wait(slow_register, tmp_path):
    """With a budget of 5 requests a minute (the listings take 3), the third create waits about a minute: a service's
    shutdown does not wait for it."""
    stop = threading.Event()
    future = sync_in_a_worker(slow_register, tmp_path, stop, 1, rate=(5, 60.0))
    deadline = time.monotonic() + 30
    while requests_received(slow_register) < 5 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.5)  # the sixth request waits for the budget now
    asked = time.monotonic()
    stop.set()
    with pytest.raises(Interrupted) as stopped:
        future.result(timeout=30)
    assert time.monotonic() - asked < 5
    assert stopped.value.by == "stop"
    result = stopped.value.result
    assert result is not None and result.requests["total"] == 5
    assert result.outcomes["done"] >= 1 and result.outcomes["pending"] >= 1 and result.outcomes["unknown"] == 0


def test_a_stop_that_is_not_a_threading_event_is_refused_before_anything_is_read(slow_register, tmp_path):
    options = sync_options(slow_register, tmp_path, TOKEN)
    with pytest.raises(ConfigError, match=r"^stop must be a threading\.Event, not bool$"):
        sync_files([SAMPLES / "extract.xml"], options, stop=True)  # type: ignore[arg-type]
    assert not (tmp_path / "state").exists()
