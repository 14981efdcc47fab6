"""Client-side pacing: never more than N requests in any period, whatever the alignment."""

from __future__ import annotations

import contextlib
import heapq
import json
import logging
import multiprocessing
import os
import random
import stat
import subprocess
import sys
import threading
import time

try:
    import resource
except ImportError:  # Windows
    resource = None  # type: ignore[assignment]

import pytest

from register_batch.api.limiter import (
    HIGHEST_SHARED_LIMIT,
    RATE_DIR_ENV,
    SHARED_FILE_MOST,
    RateLimiter,
    StoppedWaiting,
    shared_budget_file,
)


class FakeClock:
    def __init__(self, start: float = 1_000_000.0):
        self.now = start

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def max_in_any_window(times: list[float], period: float) -> int:
    times = sorted(times)
    best = 0
    start = 0
    for end, t in enumerate(times):
        while t - times[start] >= period:
            start += 1
        best = max(best, end - start + 1)
    return best


def max_in_aligned_windows(times: list[float], period: float) -> int:
    counts: dict[int, int] = {}
    for t in times:
        counts[int(t // period)] = counts.get(int(t // period), 0) + 1
    return max(counts.values())


def test_never_more_than_n_in_any_interval_and_full_speed_otherwise():
    clock = FakeClock(start=1_000_000.7)  # deliberately not aligned to the server's windows
    limiter = RateLimiter(95, 60, clock=clock.time, sleep=clock.sleep, margin=0.1)
    sent = []
    for _ in range(1000):
        limiter.acquire()
        sent.append(clock.now)
    assert max_in_any_window(sent, 60) == 95
    assert max_in_aligned_windows(sent, 60) <= 95
    elapsed = sent[-1] - sent[0]
    # 1000 requests at 95 per 60.1 s: 10 full windows of waiting, no more
    assert elapsed < 10.6 * 60.1


def test_pause_after_a_429_holds_everyone_until_the_window_ends():
    clock = FakeClock()
    limiter = RateLimiter(10, 2, clock=clock.time, sleep=clock.sleep, margin=0)
    limiter.acquire()
    limiter.pause(1.5)
    limiter.acquire()
    assert clock.now >= 1_000_001.5


def test_each_wait_is_told_before_it_starts_and_its_length_is_the_time_slept():
    """Progress names a wait for the rate limit when it begins (Task.waits_shown), and whether Register asked for it;
    none when a request fits."""
    clock = FakeClock()
    told: list[tuple[float, float]] = []
    limiter = RateLimiter(
        3,
        10,
        clock=clock.time,
        sleep=clock.sleep,
        margin=0,
        on_wait=lambda s, throttled: told.append((clock.now, s, throttled)),
    )
    for _ in range(3):
        limiter.acquire()
    assert told == [] and clock.now == 1_000_000.0
    limiter.acquire()
    assert told == [(1_000_000.0, 10.0, False)] and clock.now == 1_000_010.0
    limiter.pause(4)
    limiter.acquire(stopping=lambda: False)
    assert told[1] == (1_000_010.0, 4.0, True) and clock.now == 1_000_014.0  # a 429's Retry-After


def _worker(path: str, count: int, queue) -> None:
    # The send times are taken after acquire() returns, so a process the machine leaves waiting records its
    # send late, and it may then seem to share a window with one sent a window later. The margin (each window
    # 0.25 s longer) absorbs such a delay; a limiter whose processes did not share the file would still send
    # all 12 in well under a second.
    limiter = RateLimiter(5, 1.0, shared_file=path, margin=0.25)
    for _ in range(count):
        limiter.acquire()
        queue.put(time.time())


def test_processes_sharing_a_file_share_one_budget(tmp_path):
    shared = tmp_path / "rate.json"
    queue = multiprocessing.Queue()
    workers = [multiprocessing.Process(target=_worker, args=(str(shared), 6, queue)) for _ in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    sent = [queue.get(timeout=5) for _ in range(12)]
    assert max_in_any_window(sent, 1.0) <= 5


def test_a_clock_set_back_costs_at_most_one_window_not_the_jump(tmp_path):
    """Send times (and a 429 pause) taken before the wall clock was set back by an hour lay an hour ahead: every run
    then waited that hour, silently, for the budget; a shared file written before the jump stalled every process."""
    for shared in (None, tmp_path / "rate.json"):
        clock = FakeClock()
        limiter = RateLimiter(10, 2, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared)
        for _ in range(10):
            limiter.acquire()
        limiter.pause(1.5)
        clock.now -= 3600
        before = clock.now
        limiter.acquire()
        assert clock.now - before <= 60
        # and a new process, with only the shared file's hour-ahead times to go by
        if shared is not None:
            clock.now -= 3600
            before = clock.now
            RateLimiter(10, 2, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared).acquire()
            assert clock.now - before <= 60


def test_a_wait_for_the_budget_ends_when_the_caller_is_asked_to_stop():
    """A sync's Ctrl-C lands in a wait for the budget: nothing is sent, and the wait does not run its course."""
    clock = FakeClock()
    asked: list[bool] = []
    limiter = RateLimiter(1, 60, clock=clock.time, sleep=lambda s: (asked.append(True), clock.sleep(s)), margin=0)
    limiter.acquire(lambda: bool(asked))
    started = clock.now
    with pytest.raises(StoppedWaiting):
        limiter.acquire(lambda: bool(asked))
    assert clock.now - started < 60 and len(asked) == 1
    limiter.acquire(lambda: False)  # not asked to stop: the whole wait, then the request
    assert clock.now - started >= 60


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b'{"sent": [1',
        b"\xff\xfe garbage",
        b'["sent"]',
        b"\x00" * 64,
        b"[" * 100_000,
        b'{"sent": [1e999, "x", null], "rates": [[1e999, 1e999, 1e999], 7], "blocked_until": NaN}',
        b'{"sent": 1, "rates": {"95": 60}, "blocked_until": [1]}',
    ],
    ids=["empty", "torn", "not utf-8", "a list", "zeros", "nested too deep", "endless entries", "entries not lists"],
)
def test_a_torn_empty_or_foreign_shared_file_counts_as_an_empty_log(tmp_path, content):
    """As _load_state says: whatever the file holds, the budget starts again from it. Bytes that are not UTF-8 (a
    file that is not ours) were a UnicodeDecodeError, an internal error from the sync before its first request; brackets
    nested deeper than Python's recursion limit were a RecursionError."""
    shared = tmp_path / "rate.json"
    shared.write_bytes(content)
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, shared_file=shared, clock=clock.time, sleep=clock.sleep, margin=0)
    limiter.acquire()
    assert limiter.shared_file == shared  # still shared
    # The rates of the processes sharing it, with when each last asked: here this one's alone.
    assert json.loads(shared.read_text()) == {"sent": [clock.now], "blocked_until": 0.0, "rates": [[2, 1.0, clock.now]]}


def _log_of(sends: int, at: float) -> bytes:
    """A budget file whose log holds `sends` sends at `at`, as a process writes it."""
    return json.dumps({"sent": [at] * sends, "blocked_until": 0.0, "rates": [[sends, 60.0, at]]}).encode()


def test_a_budget_file_longer_than_any_log_counts_as_damaged_and_is_said_once(tmp_path, caplog):
    """review162 F4: the file was read whole before every request, so one grown to GBs (damaged, or by another account
    in a folder REGISTER_BATCH_RATE_DIR names for several) cost GBs of memory each time. Past SHARED_FILE_MOST bytes
    it is not read further: an empty log, as for a torn file (its sends here would otherwise fill the budget), said
    once, and written back small."""
    shared = tmp_path / "rate.json"
    clock = FakeClock()
    sends = SHARED_FILE_MOST // len(b"%r, " % clock.now) + 1  # every one of them now: no room for one more
    shared.write_bytes(_log_of(sends, clock.now))
    assert SHARED_FILE_MOST < shared.stat().st_size < SHARED_FILE_MOST + 128  # just over
    limiter = RateLimiter(2, 60.0, shared_file=shared, clock=clock.time, sleep=clock.sleep, margin=0)
    with caplog.at_level(logging.WARNING, logger="register_batch.api"):
        limiter.acquire()
        assert clock.now == 1_000_000.0  # not held back by the sends the file names
        shared.write_bytes(_log_of(sends, clock.now))  # grown again
        limiter.acquire()
    assert clock.now == 1_000_000.0 and limiter.shared_file == shared  # still shared
    said = [r.getMessage() for r in caplog.records if "longer than" in r.getMessage()]
    assert said == [
        f"{shared} is longer than any rate budget file ({SHARED_FILE_MOST:,} bytes or more): damaged, or not "
        "register-batch's; its log of sends starts again"
    ], caplog.text
    assert json.loads(shared.read_text())["sent"] == [clock.now]


def test_a_budget_file_of_the_longest_log_a_run_keeps_is_read(tmp_path):
    """HIGHEST_SHARED_LIMIT sends at the longest their times are written fit well within SHARED_FILE_MOST."""
    shared = tmp_path / "rate.json"
    clock = FakeClock(1_796_630_400.123457)
    shared.write_bytes(_log_of(HIGHEST_SHARED_LIMIT, clock.now))
    assert shared.stat().st_size < SHARED_FILE_MOST / 4
    limiter = RateLimiter(2, 60.0, shared_file=shared, clock=clock.time, sleep=clock.sleep, margin=0)
    limiter.acquire()
    assert clock.now > 1_796_630_400.123457 + 59  # held back by the other process's sends and rate


@pytest.mark.parametrize("limit,period", [(0, 60), (1, 0), (1, -1)])
def test_a_limit_without_a_request_or_a_period_is_refused(limit, period):
    """A budget of no requests, or of no time, would wait for ever or never: refused when the limiter is made."""
    with pytest.raises(ValueError, match="at least 1 request per positive period"):
        RateLimiter(limit, period)


@pytest.mark.parametrize(
    "period,margin,waited",
    [(10, 0.5, 10.5), (10, None, 10.2), (60, None, 60.25)],
    ids=["given", "by default 2%", "by default at most 0.25 s"],
)
@pytest.mark.parametrize("shared", [False, True], ids=["own budget", "shared budget"])
def test_a_spent_budget_waits_until_the_oldest_send_leaves_the_window_and_the_margin(
    tmp_path, shared, period, margin, waited
):
    """Register's window is 60 s (register-api.md §1.3): a margin of more than a quarter second would slow every sync
    for nothing. Shared, the budget is spent by two processes, each of which has sent one request itself."""
    clock = FakeClock()
    shared_file = tmp_path / "rate.json" if shared else None
    one, other = (
        RateLimiter(2, period, clock=clock.time, sleep=clock.sleep, margin=margin, shared_file=shared_file)
        for _ in range(2)
    )
    if not shared:
        other = one
    started = clock.now
    one.acquire()
    clock.now += 1  # the second a second later: the oldest is the one to wait for
    other.acquire()
    one.acquire()
    assert clock.now - started == pytest.approx(waited)


@pytest.mark.parametrize("setting", ["off", "OFF", " off ", "none", "0", "false", "no"])
def test_each_way_of_saying_off_keeps_the_budget_private(setting):
    environ = {RATE_DIR_ENV: setting, "XDG_RUNTIME_DIR": "/tmp", "HOME": "/tmp"}
    assert shared_budget_file("register.example", loopback=False, environ=environ) is None


def test_a_429_pause_holds_every_process_sharing_the_budget(tmp_path):
    """Register's 429 is per IP: another process behind the same address waits for the window's end as well."""
    clock = FakeClock()
    shared = tmp_path / "rate.json"
    one, other = (
        RateLimiter(100, 60, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared) for _ in range(2)
    )
    one.acquire()
    one.pause(5)
    started = clock.now
    other.acquire()
    assert clock.now - started == pytest.approx(5)


def test_a_stop_asked_during_the_last_step_of_a_wait_sends_nothing():
    clock = FakeClock()
    asked: list[bool] = []
    limiter = RateLimiter(1, 0.1, clock=clock.time, sleep=lambda s: (asked.append(True), clock.sleep(s)), margin=0)
    limiter.acquire()
    with pytest.raises(StoppedWaiting):  # a wait shorter than one look at `stopping`: asked during its only step
        limiter.acquire(lambda: bool(asked))


def test_the_request_sent_when_a_pause_ends_counts_against_the_budget():
    clock = FakeClock()
    limiter = RateLimiter(2, 10, clock=clock.time, sleep=clock.sleep, margin=0)
    started = clock.now
    limiter.acquire()
    limiter.pause(1.5)
    limiter.acquire()  # at the pause's end: the second of two
    limiter.acquire()  # the first leaves the window 10 s after it was sent
    assert clock.now - started == pytest.approx(10)


def throttled_and_other(clock: FakeClock, shared_file) -> tuple[RateLimiter, RateLimiter]:
    """The limiter a 429 pauses, and the one the next request goes through: another process's sharing its budget
    file, or, with no file, the same one."""
    throttled = RateLimiter(5, 1, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared_file)
    if shared_file is None:
        return throttled, throttled
    return throttled, RateLimiter(5, 1, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared_file)


@pytest.mark.parametrize("shared", [False, True], ids=["own budget", "shared budget"])
def test_a_429_pause_longer_than_the_budgets_window_is_kept_and_a_shorter_one_does_not_cut_it(tmp_path, shared):
    """Register's Retry-After names the end of its own 60 s window (at most a minute, LONGEST_PAUSE), whatever the
    budget's period; a second 429 naming an earlier end does not shorten the wait the first asked for."""
    clock = FakeClock()
    throttled, other = throttled_and_other(clock, tmp_path / "rate.json" if shared else None)
    started = clock.now
    throttled.acquire()
    throttled.pause(45)
    throttled.pause(10)
    other.acquire()
    assert clock.now - started == pytest.approx(45)


def test_a_shared_budget_in_a_folder_not_made_yet_makes_it_owner_only_and_shares_through_it(tmp_path):
    """The default folder (~/.cache/register-batch) does not exist before the first sync: made, not given up."""
    clock = FakeClock()
    shared = tmp_path / "cache" / "register-batch" / "rate.json"
    limiter = RateLimiter(2, 1.0, shared_file=shared, clock=clock.time, sleep=clock.sleep, margin=0)
    limiter.acquire()
    assert limiter.shared_file == shared and json.loads(shared.read_text())["sent"] == [clock.now]
    assert stat.S_IMODE(shared.parent.stat().st_mode) == 0o700


def test_the_pace_a_budget_lets_through_is_its_limit_over_its_window_and_margin():
    """What progress expects of a run (Task.set_pace): 95 requests in every 60.25 s by default."""
    assert RateLimiter(95, 60).per_second == pytest.approx(95 / 60.25)
    assert RateLimiter(10, 2, margin=0.5).per_second == pytest.approx(4.0)


@pytest.mark.parametrize("shared", [False, True], ids=["own budget", "shared budget"])
def test_a_429_pause_of_the_longest_retry_after_is_kept_whole(tmp_path, shared):
    """Retry-After at its longest (a minute, LONGEST_PAUSE), answered by the very next request: not taken for a
    pause left over from a clock set back."""
    clock = FakeClock()
    throttled, other = throttled_and_other(clock, tmp_path / "rate.json" if shared else None)
    started = clock.now
    throttled.pause(60)
    other.acquire()
    assert clock.now - started == pytest.approx(60)


@pytest.mark.parametrize("shared", [False, True], ids=["own budget", "shared budget"])
def test_sends_spread_over_a_window_never_put_more_than_n_in_any_window_and_keep_the_pace(tmp_path, shared):
    """A run whose first sends are spread out (not all at one instant) waits for each in turn to leave the window:
    never one more, and, alone on a shared budget, not fewer than its limit either."""
    clock = FakeClock()
    limiter = RateLimiter(
        3, 10, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=tmp_path / "rate.json" if shared else None
    )
    sent = []
    for step in (0, 1, 1):
        clock.now += step
        limiter.acquire()
        sent.append(clock.now)
    for _ in range(30):
        limiter.acquire()
        sent.append(clock.now)
    assert max_in_any_window(sent, 10) == 3
    assert sent[-1] - sent[0] == pytest.approx(102)  # 33 sends, 3 in every 10 s: the last three at 100, 101, 102 s


@pytest.mark.parametrize("shared", [False, True], ids=["own budget", "shared budget"])
def test_the_request_sent_when_a_pause_ends_counts_against_the_budget_it_shares(tmp_path, shared):
    clock = FakeClock()
    throttled, other = throttled_and_other(clock, tmp_path / "rate.json" if shared else None)
    started = clock.now
    for _ in range(4):
        throttled.acquire()
    throttled.pause(0.5)
    throttled.acquire()  # at the pause's end: the fifth of five
    other.acquire()  # the first leaves the window 1 s after it was sent
    assert clock.now - started == pytest.approx(1)


def test_a_process_sharing_the_budget_waits_only_as_long_as_the_shared_log_says(tmp_path):
    """A wait for the shared budget is not counted as a send of this process: its next request waits for the shared
    log's oldest send, not for the time it started waiting."""
    clock = FakeClock()
    shared = tmp_path / "rate.json"
    one, other = (RateLimiter(2, 10, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared) for _ in "12")
    started = clock.now
    one.acquire()
    clock.now += 0.5
    other.acquire()
    clock.now += 0.5
    one.acquire()  # the budget is spent: until the first send leaves it, at 10 s
    assert clock.now - started == pytest.approx(10)
    one.acquire()  # then until the other's leaves it, at 10.5 s
    assert clock.now - started == pytest.approx(10.5)


@pytest.mark.parametrize("how", ["deleted", "replaced by a folder"])
def test_a_budget_file_lost_mid_run_still_counts_the_runs_own_sends(tmp_path, caplog, how):
    """A cache cleaned under a running sync, or a budget file that can no longer be used: the requests the run has
    sent in this window still count, shared again through a new file or, falling back to its own budget, said so."""
    clock = FakeClock()
    shared = tmp_path / "rate.json"
    limiter = RateLimiter(2, 10, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared)
    sent = []
    for step in (0, 9.5):
        clock.now += step
        limiter.acquire()
        sent.append(clock.now)
    shared.unlink()
    if how == "replaced by a folder":
        shared.mkdir()
    for _ in range(3):
        limiter.acquire()
        sent.append(clock.now)
    assert max_in_any_window(sent, 10) == 2
    if how == "deleted":
        assert limiter.shared_file == shared
        assert [t for t in json.loads(shared.read_text())["sent"] if t > clock.now - 10] == [clock.now - 0.5, clock.now]
    else:
        assert limiter.shared_file is None
        assert "cannot use" in caplog.text and "Is a directory" in caplog.text and "own budget" in caplog.text


def test_after_a_429s_wait_a_wait_for_the_budget_is_the_clients_own():
    """Progress says Register's next window only while the 429's pause lasts; once it has ended, a further wait is
    for the client's own budget."""
    clock = FakeClock()
    told: list[tuple[float, bool]] = []
    limiter = RateLimiter(
        1, 10, clock=clock.time, sleep=clock.sleep, margin=0, on_wait=lambda s, t: told.append((s, t))
    )
    limiter.acquire()
    limiter.pause(1.5)
    limiter.acquire()
    assert told == [(1.5, True), (8.5, False)]


def test_a_wait_watched_for_a_stop_lasts_as_long_as_an_unwatched_one_and_both_are_counted():
    """Looking at `stopping` every quarter second does not lengthen a wait (0.3 s is not two quarters), and the time
    a run stood waiting for the budget (the client's seconds_waiting) counts both kinds."""
    clock = FakeClock()
    limiter = RateLimiter(1, 0.3, clock=clock.time, sleep=clock.sleep, margin=0)
    started = clock.now
    limiter.acquire()
    limiter.acquire(lambda: False)
    assert clock.now - started == pytest.approx(0.3) and limiter.waited == pytest.approx(0.3)
    limiter.acquire()
    assert clock.now - started == pytest.approx(0.6) and limiter.waited == pytest.approx(0.6)


@pytest.mark.skipif(not hasattr(os, "O_NOFOLLOW"), reason="no O_NOFOLLOW (Windows): the file is in the user's profile")
def test_a_link_planted_under_the_budget_files_name_is_not_followed(tmp_path, caplog):
    """In a folder others can write to (a shared REGISTER_BATCH_RATE_DIR), a link named like the budget file would
    have the run overwrite whatever it points at: not used, and the run keeps its own budget."""
    target = tmp_path / "precious.txt"
    target.write_text("keep me\n")
    shared = tmp_path / "rate.json"
    shared.symlink_to(target)
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, shared_file=shared, clock=clock.time, sleep=clock.sleep, margin=0)
    limiter.acquire()
    assert target.read_text() == "keep me\n"
    assert limiter.shared_file is None and "cannot use" in caplog.text


@pytest.mark.skipif(resource is None, reason="no resource module (Windows)")
def test_a_long_run_on_a_shared_budget_gives_each_look_at_the_file_back(tmp_path):
    """Every request opens the budget file: a run of more requests than it may hold files open keeps sharing."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    clock = FakeClock()
    limiter = RateLimiter(10_000, 1, clock=clock.time, sleep=clock.sleep, shared_file=tmp_path / "rate.json")
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(len(os.listdir("/proc/self/fd")) + 50, hard), hard))
    try:
        for _ in range(200):
            limiter.acquire()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert limiter.shared_file == tmp_path / "rate.json"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes (Windows)")
def test_a_named_pipe_under_the_budget_files_name_falls_back_to_a_private_budget(tmp_path, caplog):
    """Anyone who can write in a shared REGISTER_BATCH_RATE_DIR can leave a pipe named like the budget file: read, it
    would keep the run's first request waiting for ever for the pipe to say something."""
    shared = tmp_path / "rate.json"
    os.mkfifo(shared)
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, shared_file=shared, clock=clock.time, sleep=clock.sleep, margin=0)
    sender = threading.Thread(target=limiter.acquire, daemon=True)
    sender.start()
    sender.join(30)  # not a timing: the request either goes or waits for ever
    assert not sender.is_alive(), "waited on the pipe"
    assert limiter.shared_file is None and "cannot use" in caplog.text


def test_a_429_pause_is_shared_through_a_file_whose_pause_is_not_a_number(tmp_path):
    """JSON's NaN (Python writes and reads it) as a foreign file's pause: no pause could ever replace it, and no
    process sharing the file waited for another's 429 again."""
    clock = FakeClock()
    shared = tmp_path / "rate.json"
    shared.write_text('{"sent": [], "blocked_until": NaN}')
    one, other = (RateLimiter(5, 1, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared) for _ in "12")
    one.pause(5)
    started = clock.now
    other.acquire()
    assert clock.now - started == pytest.approx(5)


def test_a_budget_it_cannot_share_prints_nothing_in_a_process_that_set_up_no_logging(tmp_path):
    """docs/library.md: what the library has to say goes to the `register_batch` logger, seen only where logging is
    set up; a vendor's job got no line of Python's last-resort handler on its stderr."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    job = (
        "from register_batch.api.limiter import RateLimiter\n"
        f"limiter = RateLimiter(2, 60, shared_file={str(blocker / 'rate.json')!r})\n"
        "limiter.acquire()\n"
        "print(limiter.shared_file)\n"
    )
    done = subprocess.run([sys.executable, "-c", job], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (0, "None\n", "")


def test_a_budget_shared_later_through_a_file_named_by_a_string_is_shared(tmp_path):
    """`share` as a library caller may call it, with the file's name as a str."""
    clock = FakeClock()
    limiter = RateLimiter(2, 1.0, clock=clock.time, sleep=clock.sleep, margin=0)
    limiter.share(str(tmp_path / "rate.json"))
    limiter.acquire()
    assert json.loads((tmp_path / "rate.json").read_text())["sent"] == [clock.now]


def test_an_ipv6_targets_budget_file_has_a_name_every_file_system_takes(tmp_path):
    """A target such as http://[::1]:8080: Windows refuses a colon in a file name."""
    path = shared_budget_file("::1", loopback=True, environ={RATE_DIR_ENV: str(tmp_path)})
    assert path is not None and path.parent == tmp_path and ":" not in path.name and path.name == "rate-loopback.json"


@pytest.mark.parametrize("other_rate", [(45, 60), (10, 1)], ids=["a lower limit", "a shorter window"])
def test_a_process_of_another_rate_sharing_the_budget_never_drops_sends_others_still_count(tmp_path, other_rate):
    """Two nightly jobs behind one IP with different --rate settings share `rate-<host>.json`. The one with the lower
    limit, or the shorter window, wrote back only the sends its own rate counts: the other then saw room for more and
    put up to 145 requests into one minute (Register refuses the 101st)."""
    clock = FakeClock()
    shared = tmp_path / "rate.json"

    def job(limit: int, period: float) -> RateLimiter:
        return RateLimiter(limit, period, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared)

    first = job(95, 60)
    for _ in range(95):
        first.acquire()
    started = clock.now
    clock.sleep(2)
    with contextlib.suppress(StoppedWaiting):
        job(*other_rate).acquire(lambda: True)  # no room under the first one's rate either: it stops at once
    job(95, 60).acquire()  # a third job (or the first one's next run) at the default rate
    assert clock.now >= started + 60  # the first one's 95 sends of this minute are still in the shared log


def test_a_shared_file_naming_an_endless_window_does_not_keep_every_send_for_good(tmp_path):
    """The rates of the processes sharing the file are read from it: a foreign or damaged file naming an endless
    window and limit (in a folder several users write to) must not have every send kept, and the whole log rewritten,
    for ever. Read as at most an hour and 10,000 requests, such a rate is in use for an hour after it last asked."""
    clock = FakeClock()
    shared = tmp_path / "rate.json"
    shared.write_text(
        json.dumps({"sent": [clock.now - 10], "blocked_until": 0.0, "rates": [[10**12, 1e12, clock.now]]})
    )
    limiter = RateLimiter(5, 1, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared)
    for _ in range(100):
        limiter.acquire()
        clock.sleep(100)
    state = json.loads(shared.read_text())
    assert len(state["sent"]) <= 37  # the sends of the last hour at most (one every 100 s)
    assert state["rates"] == [[5, 1.0, clock.now - 100]]  # the endless one's hour is over


class Waits(Exception):
    """A limiter's sleep in a simulation of several processes on one clock: the process is due again `seconds` on."""

    def __init__(self, seconds: float):
        self.seconds = seconds


def sends_of_processes_sharing_a_budget(shared, clock: FakeClock, starts: dict[tuple[int, float], float], until: float):
    """Each process (its rate: when it starts) sends whenever its limiter lets it, an answer taking 10 ms; the time of
    every send, in order."""

    def waits(seconds: float) -> None:
        raise Waits(seconds)

    jobs = [RateLimiter(limit, period, shared_file=shared, clock=clock.time, sleep=waits) for limit, period in starts]
    due = [(start, n) for n, start in enumerate(starts.values())]
    sent = []
    while due:
        clock.now, n = heapq.heappop(due)
        if clock.now >= until:
            continue
        try:
            jobs[n].acquire()
        except Waits as wait:
            heapq.heappush(due, (clock.now + wait.seconds, n))
            continue
        sent.append(clock.now)
        heapq.heappush(due, (clock.now + 0.01, n))
    return sent


@pytest.mark.parametrize(
    "first,second", [((95, 60), (15, 10)), ((15, 10), (95, 60))], ids=["a shorter window joins", "a longer one joins"]
)
def test_processes_of_different_rates_sharing_the_budget_keep_together_to_the_strictest(tmp_path, first, second):
    """Two jobs behind one IP, the default 95/60 and another's `--rate 15/10` (90 a minute), each under Register's 100
    a minute alone: each counted only its own rate over the shared log, so the 10 s one sent on top of the other's
    full minute, and a 60 s one joining after a 10 s one saw only the last 10 s (155 and 140 in one of Register's
    fixed minutes). Every send now keeps to every rate still sharing the file."""
    minute = 1_800_000_000.0  # the start of one of Register's fixed minutes (register-api.md §1.3)
    clock = FakeClock(start=minute)
    starts = {first: minute, second: minute + 30}
    sent = sends_of_processes_sharing_a_budget(tmp_path / "rate.json", clock, starts, until=minute + 180)
    assert max_in_aligned_windows(sent, 60) <= 95
    assert max_in_any_window([t for t in sent if t >= minute + 30], 10) <= 15  # once both share it
    assert len([t for t in sent if t >= minute + 120]) >= 85  # and together still at the strictest's pace


def test_a_process_joining_after_one_of_a_shorter_window_sees_registers_whole_minute(tmp_path):
    """A `--rate 15/10` job sends for 40 s and ends; a 95/60 one starting 10 s later found only the last 10 s of sends
    in the shared file (the shorter window's), and sent 95 more into the same minute of Register's."""
    minute = 1_800_000_000.0
    clock = FakeClock(start=minute)
    shared = tmp_path / "rate.json"
    sent = sends_of_processes_sharing_a_budget(shared, clock, {(15, 10): minute}, until=minute + 40)
    assert len(sent) == 60
    sent += sends_of_processes_sharing_a_budget(shared, clock, {(95, 60): minute + 50}, until=minute + 60)
    assert max_in_aligned_windows(sent, 60) == 95


def test_a_gentle_run_that_has_ended_holds_no_later_run_to_its_rate(tmp_path):
    """A one-off export at `--rate 30/600` sends 3 requests and ends; a nightly sync starting 5 s later was held to
    30 in 10 minutes (28 requests in its first 5) for as long as the export's window. A rate not asked with for
    SHARED_LOG_KEEPS is forgotten."""
    minute = 1_800_000_000.0
    clock = FakeClock(start=minute)
    shared = tmp_path / "rate.json"
    sent = sends_of_processes_sharing_a_budget(shared, clock, {(30, 600): minute}, until=minute + 1)
    assert len(sent) == 30  # its whole budget, at once
    later = sends_of_processes_sharing_a_budget(shared, clock, {(95, 60): minute + 5}, until=minute + 305)
    assert len(later) >= 4 * 95  # its own pace once the export's rate is forgotten (a minute on)


def test_a_run_waiting_for_its_gentle_rate_keeps_to_it_and_no_minute_of_registers_goes_past_the_limit(tmp_path):
    """The other side of forgetting: a 30/600 run waiting ten minutes for its own budget is forgotten too, and a 95/60
    run beside it goes at its own pace once the gentle one's minute is over; the gentle one still sends no more than
    its rate, and no fixed minute of Register's gets more than the 95/60's 95. Waking every minute to ask again (as a
    wait for another's rate does) kept the gentle one in use, and the 95/60 one sent nothing for ten minutes."""
    minute = 1_800_000_000.0
    clock = FakeClock(start=minute)
    shared = tmp_path / "rate.json"
    jobs = {(30, 600): minute, (95, 60): minute + 5}  # the gentle one first when both are due at once
    sent = sends_of_processes_sharing_a_budget(shared, clock, jobs, until=minute + 1200)
    assert max_in_aligned_windows(sent, 60) <= 95
    assert len(sent) >= 30 + 17 * 95  # the 95/60 run's own pace but for the gentle one's minute every ten


def test_a_gentle_run_that_cannot_send_beside_a_nightly_sync_never_holds_it_back(tmp_path):
    """A one-off export at 30/600 starting beside a nightly sync at 95/60 finds its budget full of the sync's sends
    each time it wakes: it sends nothing, and asking marked it in use, holding the sync to 30/600 for a minute every
    ten (5,278 requests in the hour instead of 5,700) for nothing. Waiting longer than a rate is remembered, it is not
    in use; the sync keeps its own pace, and no fixed minute of Register's gets more than 95."""
    minute = 1_800_000_000.0
    clock = FakeClock(start=minute)
    jobs = {(95, 60): minute, (30, 600): minute + 120}
    sent = sends_of_processes_sharing_a_budget(tmp_path / "rate.json", clock, jobs, until=minute + 3600)
    assert max_in_aligned_windows(sent, 60) <= 95
    assert len(sent) >= 60 * 95 - 5


@pytest.mark.parametrize("own_rate", [(3, 60), (10, 1)], ids=["as an earlier version wrote it", "with damaged entries"])
def test_a_shared_file_is_read_for_the_sends_and_rates_it_holds_whatever_else_it_holds(tmp_path, own_rate):
    """A file written before rates were shared holds sends only: they count. A damaged send time or rate (not a
    number, a bool, no window, a fraction of a request) is dropped, not the whole file, and never an internal error:
    the sends and the rate in use that can be read still count (here 3 in 60 s, which two sends have begun)."""
    clock = FakeClock()
    shared = tmp_path / "rate.json"
    sent = [clock.now - 1, "soon", None, [1], True, clock.now - 0.5]
    damaged = [[True, 60, clock.now], [0, 60, clock.now], [2.5, 10, clock.now], [5, -1, clock.now], [5, 10], "95/60"]
    if own_rate == (3, 60):
        shared.write_text(json.dumps({"sent": [clock.now - 1, clock.now - 0.5], "blocked_until": 0.0}))
    else:
        shared.write_text(json.dumps({"sent": sent, "rates": [*damaged, [3, 60, clock.now], [5, float("nan"), 1]]}))
    limiter = RateLimiter(*own_rate, clock=clock.time, sleep=clock.sleep, margin=0, shared_file=shared)
    started = clock.now
    limiter.acquire()  # the third of three
    assert clock.now == started
    limiter.acquire()  # until the earliest leaves the 60 s
    assert clock.now == pytest.approx(started + 59)
    in_use = [[*own_rate, clock.now]] if own_rate == (3, 60) else [[3, 60, started], [*own_rate, clock.now]]
    assert sorted(json.loads(shared.read_text())["rates"]) == in_use  # and nothing damaged written back


def _budget_and_lock(token: str = "token-of-one-provider"):
    """What a sync takes in the rate folder: its client's budget (one send counted) and its provider lock (to take)."""
    from register_batch.api import RegisterClient
    from register_batch.sync.ledger import ProviderLock

    client = RegisterClient("https://register.example", token)
    client.limiter.acquire()
    limiter = client.limiter
    assert limiter.shared_file is not None
    return client, ProviderLock(
        limiter.shared_file.parent, client.root, token, "state", accounts=limiter.shared_by_accounts
    )


@pytest.mark.skipif(not hasattr(os, "fchmod"), reason="file modes: POSIX only")
@pytest.mark.parametrize("given", [True, False], ids=["REGISTER_BATCH_RATE_DIR", "the user's cache folder"])
def test_files_in_a_rate_folder_user_accounts_share_are_writable_by_each_and_the_users_own_are_owner_only(
    tmp_path, monkeypatch, given
):
    """security.md has syncs under several user accounts share one budget through REGISTER_BATCH_RATE_DIR, a folder
    they can all write to; its files were made owner-only (0600), so every other account kept its own budget and its
    own provider lock. They hold no personal data: made there, they are writable by each account."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if given:
        monkeypatch.setenv(RATE_DIR_ENV, str(tmp_path / "shared"))
        (tmp_path / "shared").mkdir()
    else:
        monkeypatch.delenv(RATE_DIR_ENV, raising=False)
    umask = os.umask(0o077)
    try:
        client, lock = _budget_and_lock()
    finally:
        os.umask(umask)
    with client, lock:
        modes = {stat.S_IMODE(p.stat().st_mode) for p in (lock.path, client.limiter.shared_file)}
    assert modes == ({0o666} if given else {0o600})


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="a second user account: root only")
@pytest.mark.skipif(os.name == "posix" and not os.stat("/").st_mode & 0o001, reason="/ is closed to other users")
def test_a_rate_folder_shared_by_two_user_accounts_is_one_budget_and_one_provider_lock(tmp_path, monkeypatch, caplog):
    """The second account could not open the first's files ("Permission denied"): it kept a budget of its own, and
    took no provider lock, so two syncs for one provider could run at once (security.md)."""
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o1777)  # as /tmp: sticky, every account may write
    monkeypatch.setenv(RATE_DIR_ENV, str(shared))
    first, held = _budget_and_lock()  # root's, held while `nobody` syncs
    held.acquire()
    from cli_runs import as_nobody
    from register_batch.sync.ledger import ProviderBusy

    with as_nobody(shared):
        same_provider, busy = _budget_and_lock()
        with same_provider, pytest.raises(ProviderBusy):
            busy.acquire()
        second, other = _budget_and_lock("another-providers-token")
        other.acquire()
    held.release()
    other.release()
    with first, second:
        assert not [r for r in caplog.records if "cannot use" in r.getMessage()], caplog.text
        assert len(json.loads(first.limiter.shared_file.read_text())["sent"]) == 3  # one budget: every send in it


def test_a_budget_name_in_a_folder_accounts_share_that_is_a_second_name_of_another_file_is_not_written(
    tmp_path, caplog
):
    """Another account may give one of your files a second name in the shared folder (a hard link, where the system
    allows it): the budget's rewrite would overwrite that file. Refused, and the run keeps its own budget."""
    yours = tmp_path / "yours.txt"
    yours.write_text("your own file\n")
    shared = tmp_path / "shared"
    shared.mkdir()
    budget = shared / "rate-register.example.json"
    os.link(yours, budget)
    limiter = RateLimiter(2, 1.0, clock=FakeClock().time, sleep=FakeClock().sleep, margin=0)
    limiter.share(budget, accounts=True)
    limiter.acquire()
    assert yours.read_text() == "your own file\n" and limiter.shared_file is None
    assert "not a file of its own" in caplog.text


@pytest.mark.parametrize("shared", [False, True], ids=["own budget", "shared budget"])
@pytest.mark.parametrize("limit, period", [(80, 50), (95, 59), (60, 40), (5, 3), (150, 120)])
def test_a_rate_within_registers_limit_on_average_never_puts_more_than_100_into_one_of_its_windows(
    tmp_path, shared, limit, period
):
    """review103 F1: a rate whose average is within Register's 100 a minute gets no note (say_rate), but N in any
    S seconds with S other than 60 put up to N * ceil(60 / S) into one of Register's fixed, epoch-aligned windows
    (80/50: 160) and met its 429s. It keeps Register's 100 in any 60 s too, and its own rate."""
    assert limit / period <= 100 / 60
    clock = FakeClock(start=6000.0)  # the start of one of Register's windows
    limiter = RateLimiter(
        limit, period, clock=clock.time, sleep=clock.sleep, shared_file=tmp_path / "rate.json" if shared else None
    )
    sent = []
    for _ in range(400):
        limiter.acquire()
        sent.append(clock.now)
    assert max_in_aligned_windows(sent, 60) <= 100
    assert max_in_any_window(sent, 60) <= 100
    assert max_in_any_window(sent, period) <= limit


def test_a_rate_over_registers_limit_keeps_to_itself_alone():
    """A rate faster than Register's limit on average is one the user chose knowingly (it gets a note, say_rate;
    the emulator with `--rate-limit 0`): it is not held to Register's 100 a minute."""
    clock = FakeClock(start=6000.0)
    limiter = RateLimiter(300, 60, clock=clock.time, sleep=clock.sleep, margin=0)
    sent = []
    for _ in range(300):
        limiter.acquire()
        sent.append(clock.now)
    assert clock.now == 6000.0 and len(sent) == 300


def test_a_turn_taken_ahead_is_waited_for_then_and_used_by_the_next_request_without_another():
    """review137 F3: a sync takes a write's turn before it marks the write in flight; the request itself, sent a
    moment later through the client, neither waits again nor counts twice."""
    clock = FakeClock()
    waits: list[float] = []
    limiter = RateLimiter(2, 60, clock=clock.time, sleep=clock.sleep, margin=0.0, on_wait=lambda s, _: waits.append(s))
    limiter.acquire()
    limiter.acquire()
    limiter.take_ahead()  # the wait is here, before anything is marked
    assert waits == [60.0] and clock.now == 1_000_060.0
    limiter.acquire()  # the request the turn was taken for
    assert waits == [60.0] and clock.now == 1_000_060.0
    limiter.acquire()  # the window's second: the one taken ahead was counted once, not twice
    assert waits == [60.0]
    limiter.acquire()
    assert waits == [60.0, 60.0]


def test_a_turn_taken_ahead_and_not_used_at_once_is_counted_again_when_the_request_goes():
    """review140 F1: the turn was counted when taken, and the request went out two ledger commits later; commits slowed
    past the budget's margin (0.2 s at 5/10) let 6 requests into 10 s. A turn not used within half the margin is
    taken again at the request's own acquire; a turn left by a request never sent is not used by a later one."""
    clock = FakeClock()
    limiter = RateLimiter(5, 10, clock=clock.time, sleep=clock.sleep)
    sent = []
    for _ in range(16):
        limiter.take_ahead()
        clock.sleep(0.7 if len(sent) % 3 == 0 else 0.0)  # the in-flight mark's commits, every third slowed
        limiter.acquire()
        sent.append(clock.now)
    assert max(sum(1 for t in sent if start <= t < start + 10) for start in sent) <= 5
    clock.sleep(60)
    limiter.take_ahead()  # a write stopped before it was sent
    clock.sleep(30)
    limiter.acquire()  # another request, much later: counted as its own, when it goes
    assert limiter._sent[-1] == clock.now


@pytest.mark.parametrize(
    ("limit", "period", "requests", "answer"),
    [
        (95, 60, 15, 0.03),
        (95, 60, 95, 0.3),
        (95, 60, 190, 0.03),
        (95, 60, 191, 0.0),
        (95, 60, 400, 0.7),
        (5, 1, 23, 0.05),
    ],
)
def test_the_time_n_requests_take_is_the_limiters_own(limit, period, requests, answer):
    """`seconds_for` (a dry run's estimate of its real run) is the time the limiter takes to let `requests` through,
    sent one after another and each answered in `answer` seconds: a window's requests go at once, at the answers'
    pace, and not at the rate's share each (15 requests at 95/60: 0.45 s, not 9.5 s; review164 F4)."""
    clock = FakeClock()
    limiter = RateLimiter(limit, period, clock=clock.time, sleep=clock.sleep)
    started = clock.now
    for _ in range(requests):
        limiter.acquire()
        clock.now += answer
    taken = clock.now - started
    assert RateLimiter(limit, period).seconds_for(requests, answer) == pytest.approx(taken, abs=1e-6)
    if requests <= limit:
        assert taken == pytest.approx(requests * answer)


@pytest.mark.parametrize(
    ("limit", "period", "before", "requests", "answer"),
    [
        (1140, 60, 3662, 1046, 0.04),  # review175: mid-window of a steady run, each request waiting a moment
        (1140, 60, 1200, 300, 0.01),
        (95, 60, 95, 109, 0.03),  # a window's burst sent, its wait to come (review134 F2)
        (95, 60, 40, 400, 0.7),  # answer-bound: slower than the rate
        (10, 15, 37, 250, 0.05),  # and Register's 100 in any 60 s
        (5, 1, 3, 23, 0.05),
    ],
)
def test_the_time_left_mid_run_is_the_limiters_own(limit, period, before, requests, answer):
    """`seconds_left` (a progress's time left) is the time the limiter then takes to let `requests` more through,
    each answered in `answer` seconds, after `before` sent with answers of 0.25 to 1.75 times that: the requests of
    the last window go back into it as they leave. Taken as a fresh window, a steady run at 1140/60 said "about 0 s
    left" with 50 s to go (review175). Of a fresh budget, it is `seconds_for`: a dry run's estimate of its real run."""
    clock = FakeClock()
    limiter = RateLimiter(limit, period, clock=clock.time, sleep=clock.sleep)
    assert limiter.seconds_left(requests, answer) == limiter.seconds_for(requests, answer)
    answers = random.Random(175)
    for _ in range(before):
        limiter.acquire()
        clock.now += answer * answers.uniform(0.25, 1.75)
    left = limiter.seconds_left(requests, answer)
    started = clock.now
    for _ in range(requests):
        limiter.acquire()
        clock.now += answer
    assert left == pytest.approx(clock.now - started, abs=1e-6)
