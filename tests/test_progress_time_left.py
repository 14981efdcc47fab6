"""Progress of a long sync as a migration lead reads it (review134): the time left of a resumed run, of the last
windows at the rate limit, in hours for hours; and the finished steps' clocks stopped."""

from __future__ import annotations

import io
import time

from register_batch.api.limiter import RateLimiter
from register_batch.progress import Progress


def _lines_without_time(stream: io.StringIO) -> list[str]:
    return [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]


class _Clock:
    """One clock for the limiter and the progress, moved by the test or by the limiter's sleeps."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_resumed_run_times_its_requests_from_the_first_one_sent(monkeypatch):
    """F1: a resumed sync passed over 3,000 records the earlier run finished (10 s) before its first request; that
    time, counted as the requests', made its first line "1/16822 requests (0.1/s, about 213276 s left)"."""
    now = [0.0]
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=16822, unit="requests", every=1)
        now[0] = 10.0  # the records done already, passed over
        task.start_clock()
        now[0] = 12.0
        task.advance(50)  # no line yet: 2 s of requests, not 12
        now[0] = 15.0
        task.advance(75)
    assert _lines_without_time(stream) == ["Writing to Register: 125/16822 requests (25.0/s, about 11 min left)"]


def test_the_time_left_adds_the_wait_to_the_windows_after_it_and_says_it_once(monkeypatch):
    """F2: at 95 requests a minute, 105 left and a wait of 55 s coming: the count's line said "about 66 s left", the
    wait's line of the same second "about 66 s left" (taken instead of added), and the run took two minutes: 95 go
    after the wait, the last 10 a window later. One line, saying so."""
    clock = _Clock()
    monkeypatch.setattr("register_batch.progress.time.monotonic", clock.time)
    limiter = RateLimiter(95, 60, clock=clock.time, sleep=clock.sleep, margin=0)
    start = clock.now
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=200, unit="requests", every=1)
        task.set_pace(limiter.per_second)
        with task.waits_shown(limiter):
            for _ in range(94):
                clock.now += 0.01
                limiter.acquire()
                task.advance()
            clock.now = start + 5.0
            limiter.acquire()
            task.advance()  # a line is due, but the wait's follows at once with the same count
            limiter.acquire()  # waits 55.01 s
    assert _lines_without_time(stream) == [
        "Writing to Register: 95/200 requests (19.0/s, about 115 s left); waiting 55 s for the rate limit "
        "(95 requests per 60 s)"
    ]


def test_the_bar_counts_a_wait_down_and_adds_the_windows_after_it(monkeypatch):
    """F2, on a terminal: "0:01:09" for the whole minute's wait, then the writes took two minutes."""
    clock = _Clock()
    monkeypatch.setattr("register_batch.progress.time.monotonic", clock.time)
    limiter = RateLimiter(95, 60, clock=clock.time, sleep=clock.sleep, margin=0)
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        task = progress.task("Writing to Register", total=200, unit="requests", every=1)
        task.set_pace(limiter.per_second)
        with task.waits_shown(limiter):
            for _ in range(95):
                limiter.acquire()
                clock.now += 0.05
                task.advance()
            task.waiting(55.25, "the rate limit (95 requests per 60 s)")  # the 96th request's, as acquire says
            assert progress._rich is not None
            [remaining] = [c for c in progress._rich.columns if type(c).__name__ == "Remaining"]
            [bar] = progress._rich.tasks
            first = remaining.render(bar).plain
            clock.now += 30
            later = remaining.render(bar).plain
    assert (first, later) == ("0:01:55", "0:01:25")


def test_a_finished_steps_bar_stops_its_clock():
    """F5: "Validating 4000/? 0:00:19" for a validation of 3 s: a bar with no total ran on with the upload."""
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        validating = progress.task("Validating")
        validating.advance(4000)
        validating.close()
        assert progress._rich is not None
        [bar] = progress._rich.tasks
        elapsed = bar.elapsed
        time.sleep(0.05)
        assert bar.elapsed == elapsed


def test_hours_left_are_said_in_hours_and_minutes(monkeypatch):
    """F8: "about 12014 s left" was 3 h 20 min; a few minutes are said in minutes, less in seconds."""
    now = [0.0]
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=19100, unit="requests", every=1)
        task.set_pace(95 / 60)
        for done in (95, 18100, 18900):
            now[0] += 5
            task.advance(done - task.done)
    assert _lines_without_time(stream) == [
        "Writing to Register: 95/19100 requests (19.0/s, about 3 h 20 min left)",
        "Writing to Register: 18100/19100 requests (1810.0/s, about 11 min left)",
        "Writing to Register: 18900/19100 requests (1260.0/s, about 126 s left)",
    ]
