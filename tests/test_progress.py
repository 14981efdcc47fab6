"""Progress: a plain log line every few seconds when not on a terminal; silence with --quiet."""

from __future__ import annotations

import calendar
import io
import random
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from register_batch.api.limiter import RateLimiter
from register_batch.progress import Progress, Task, drawing_paused, drawing_threads


class _Terminal(io.StringIO):
    """A stream that says it is a terminal, as standard error does in a person's shell."""

    def isatty(self) -> bool:
        return True


class _Writer:
    """A stream that can only be written to (no isatty): a library caller's own."""

    def __init__(self) -> None:
        self.written = ""

    def write(self, text: str) -> int:
        self.written += text
        return len(text)

    def flush(self) -> None:
        pass


def _lines_without_time(stream: io.StringIO) -> list[str]:
    return [line.split(" ", 1)[1] for line in stream.getvalue().splitlines()]


def test_plain_lines_when_not_a_terminal(monkeypatch):
    clock = iter(range(0, 1000, 3))
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: float(next(clock)))
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=10, unit="requests")
        for _ in range(10):
            task.advance()
        task.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3
    assert "Writing to Register:" in lines[0] and "/10 requests" in lines[0] and "/s" in lines[0]
    assert "10/10 requests" in lines[-1]


def test_a_plain_line_comes_five_seconds_after_the_last_and_starts_with_the_time_of_day(monkeypatch):
    """docs/nightly-sync.md §6: under cron, a line every 5 seconds of a long step (none sooner), each stamped."""
    now = [1000.0]
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    stream = io.StringIO()
    with Progress(stream=stream, force_terminal=False) as progress:
        task = progress.task("Validating", total=100)
        for at in (1004.9, 1005.0, 1009.0, 1010.0):
            now[0] = at
            task.advance(10)
    assert _lines_without_time(stream) == [
        "Validating: 20/100 records (4.0/s, about 20 s left)",
        "Validating: 40/100 records (4.0/s, about 15 s left)",
    ]
    # the date and time, ISO 8601 in UTC, as the log lines are (cli._OneLine): one form in a cron log (review157 F4),
    # to the millisecond (to be matched with a server's log lines)
    stamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert all(re.fullmatch(stamp, line.split(" ", 1)[0]) for line in stream.getvalue().splitlines())


def test_progress_lines_are_stamped_in_utc_whatever_tz_the_job_runs_under(monkeypatch):
    """review60 F3: a cron job under TZ=Pacific/Chatham (UTC+13:45) stamped its progress lines in local time beside
    "run again after 16:33 UTC" hints: each line is stamped in UTC, marked Z, as the log lines are."""
    monkeypatch.setenv("TZ", "Pacific/Chatham")
    time.tzset()
    try:
        stream = io.StringIO()
        with Progress(stream=stream, force_terminal=False) as progress:
            before = time.time()
            progress.log("Listing what Register holds")
            after = time.time()
        stamp, said = stream.getvalue().split(" ", 1)
        assert said == "Listing what Register holds\n"
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", stamp), stamp  # UTC, to the millisecond
        at = calendar.timegm(time.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S")) * 1000 + int(stamp[20:23])
        assert round(before * 1000) <= at <= round(after * 1000), stamp
        assert stamp[11:16] != time.strftime("%H:%M", time.localtime(before))  # Chatham is 13:45 ahead: not local
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    ("last_at", "last_line"),
    [
        (1009.0, "Writing to Register: 10/10 requests (1.1/s)"),  # the step's end line: the last request came early
        (1010.0, "Writing to Register: 10/10 requests (1.0/s)"),  # the interval's line, which the step ends on
    ],
)
def test_a_step_that_logged_along_the_way_ends_with_its_whole_count_once(monkeypatch, last_at, last_line):
    """With no time left. A sync's log ended `Writing to Register: 298/298 requests (0.7/s)` twice when the last
    request came an interval after the line before it."""
    now = [1000.0]
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=10, unit="requests")
        now[0] = 1005.0
        task.advance(5)
        now[0] = last_at
        task.advance(5)
        task.close()
    assert _lines_without_time(stream) == ["Writing to Register: 5/10 requests (1.0/s, about 5 s left)", last_line]


def test_each_line_reaches_a_log_file_as_it_is_written(tmp_path):
    """`>> sync.log` under cron: a line kept in the file's buffer until the run ends tells whoever watches the log
    nothing while the run stands still."""
    log = tmp_path / "sync.log"
    with log.open("w", encoding="utf-8") as stream, Progress(stream=stream, force_terminal=False) as progress:
        progress.task("Writing to Register", total=274, unit="requests").waiting(57, "the rate limit")
        assert "Writing to Register: 0/274 requests (0.0/s); waiting 57 s for the rate limit" in log.read_text(
            encoding="utf-8"
        )


def test_bars_are_drawn_where_the_stream_is_a_terminal_and_stay_when_done():
    terminal = _Terminal()
    with Progress(stream=terminal) as progress:
        task = progress.task("Validating", total=5)
        task.advance(5)
        task.close()
    assert "Validating" in terminal.getvalue() and "5/5" in terminal.getvalue()
    # A pipe or a file, or a stream that cannot say (no isatty): no bar, and this step is too short for a line.
    plain, writer = io.StringIO(), _Writer()
    for stream in (plain, writer):
        with Progress(stream=stream) as progress:  # type: ignore[arg-type]
            task = progress.task("Validating", total=5)
            task.advance(5)
            task.close()
    assert plain.getvalue() == "" and writer.written == ""


def test_bars_are_drawn_inside_the_with_the_library_page_shows_and_not_for_a_progress_never_entered():
    """docs/library.md said `progress=Progress()`: on a terminal, a progress never entered shows nothing at all."""
    terminal = _Terminal()
    task = Progress(stream=terminal).task("Validating", total=5)
    task.advance(5)
    task.close()
    assert terminal.getvalue() == ""
    with Progress(stream=terminal) as progress:
        task = progress.task("Validating", total=5)
        task.advance(5)
        task.close()
    assert "Validating" in terminal.getvalue() and "5/5" in terminal.getvalue()


def test_a_callers_own_output_while_the_bars_are_shown_stays_the_callers(capsys):
    """A library caller printing, or writing to standard error, while a validate or sync showed its bars: rich put a
    stream of its own in place of sys.stdout and sys.stderr for the run, so the caller's lines went into the bars'
    stream, reflowed to its width, and not where the caller sent them."""
    terminal = _Terminal()
    out, err = sys.stdout, sys.stderr
    with Progress(stream=terminal) as progress:
        task = progress.task("Validating", total=5)
        assert sys.stdout is out and sys.stderr is err
        print("the caller's own line")
        print("and its own warning", file=sys.stderr)
        task.advance(5)
        task.close()
    assert capsys.readouterr() == ("the caller's own line\n", "and its own warning\n")
    assert "own" not in terminal.getvalue() and "5/5" in terminal.getvalue()


def test_the_bars_move_while_the_work_stands_still():
    """A wait for the rate limit stands still for most of a minute: the bars' elapsed time goes on being redrawn."""
    terminal = _Terminal()
    with Progress(stream=terminal) as progress:
        progress.task("Writing to Register", total=5, unit="requests")
        drawn = len(terminal.getvalue())
        deadline = time.monotonic() + 5
        while len(terminal.getvalue()) == drawn and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(terminal.getvalue()) > drawn


def test_the_thread_drawing_the_bars_pauses_while_a_process_is_forked():
    """Validation forks its helper in a pause (validation/parallel.py): the fork copies no thread of the bars' part-way
    through writing to the terminal, whose lock would stay held in the helper for ever. Rich's own thread could not be
    paused, so a library caller showing progress never had the second core."""
    with Progress(stream=_Terminal()) as progress:
        progress.task("Validating", total=5)
        assert drawing_threads() == 1
        threads = threading.active_count()
        with drawing_paused():
            assert (drawing_threads(), threading.active_count()) == (0, threads - 1)
        assert (drawing_threads(), threading.active_count()) == (1, threads)
    assert drawing_threads() == 0
    with Progress(stream=io.StringIO()) as progress:  # no bars, no thread
        assert drawing_threads() == 0


def test_the_librarys_default_progress_writes_nothing_even_for_a_long_wait():
    """docs/library.md: "Nothing is printed unless you pass a progress" (the default is SILENT)."""
    script = (
        "from register_batch.progress import SILENT\n"
        "task = SILENT.task('Writing to Register', total=3, unit='requests')\n"
        "task.waiting(60, 'the rate limit (100 requests per 60 s)')\n"
        "task.advance(3)\n"
        "task.close()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout == done.stderr == ""


def test_quiet_prints_nothing():
    stream = io.StringIO()
    with Progress(enabled=False, stream=stream) as progress:
        task = progress.task("Validating")
        task.advance(1000)
        task.close()
        progress.log("hello")
    assert stream.getvalue() == ""


def test_rich_bars_on_a_terminal():
    stream = io.StringIO()
    with Progress(stream=stream, force_terminal=True) as progress:
        task = progress.task("Validating", total=5)
        task.advance(5)
    assert "Validating" in stream.getvalue()


@pytest.mark.parametrize("term", ["dumb", "unknown", "DUMB"])
def test_a_dumb_terminal_gets_the_plain_line_every_few_seconds(monkeypatch, term):
    """review119 F1: on a terminal that cannot move its cursor (TERM=dumb: Emacs's shell, a CI runner's pty) rich
    draws nothing until the bars stop: a sync showed nothing for its whole length. It gets the plain lines."""
    monkeypatch.setenv("TERM", term)
    now = [1000.0]
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    stream = _Terminal()
    with Progress(stream=stream) as progress:
        task = progress.task("Validating", total=100)
        for at in (1004.9, 1005.0):
            now[0] = at
            task.advance(10)
        assert _lines_without_time(stream) == ["Validating: 20/100 records (4.0/s, about 20 s left)"]


def test_a_bar_of_slow_steps_moves_at_each_one(monkeypatch):
    """Validation's bar is redrawn every 64 records; sync's writes, paced at 100 requests a minute, would leave such
    a bar still for over half a minute at a time: it is redrawn at each request."""
    stream = io.StringIO()
    drawn: list[dict] = []
    with Progress(stream=stream, force_terminal=True) as progress:
        records = progress.task("Validating", total=200)
        writes = progress.task("Writing to Register", total=5, unit="requests", every=1)
        monkeypatch.setattr(records, "_draw", lambda **fields: drawn.append({"task": "records", **fields}))
        monkeypatch.setattr(writes, "_draw", lambda **fields: drawn.append({"task": "writes", **fields}))
        for _ in range(3):
            writes.advance()
        for _ in range(130):
            records.advance()
    assert [d["completed"] for d in drawn if d["task"] == "writes"] == [1, 2, 3]
    assert [d["completed"] for d in drawn if d["task"] == "records"] == [64, 128]


def test_a_wait_for_the_rate_limit_is_a_plain_line_saying_how_long_and_why(monkeypatch):
    """Paced at 100 requests a minute, a sync sends a window's requests at once and then stands still for most of a
    minute: a log that only counts requests went silent for that minute, as if the job had hung."""
    now = [0.0]
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=274, unit="requests")
        now[0] = 2.0
        task.advance(91)
        task.waiting(1.5, "the rate limit (100 requests per 60 s)")  # shorter than a log line's interval: no line
        assert stream.getvalue() == ""
        task.waiting(57.4, "the rate limit (100 requests per 60 s)")
        [line] = stream.getvalue().splitlines()
        assert line.endswith(
            "Writing to Register: 91/274 requests (45.5/s, about 57 s left); waiting 57 s for the rate "
            "limit (100 requests per 60 s)"
        )
        now[0] = 59.5  # the wait is over: the next line comes an interval later, not at once
        task.advance()
        assert len(stream.getvalue().splitlines()) == 1
        now[0] = 64.5
        task.advance()
        assert (
            stream.getvalue()
            .splitlines()[-1]
            .endswith("Writing to Register: 93/274 requests (1.4/s, about 125 s left)")
        )


def test_a_wait_before_anything_is_done_or_soon_after_the_start_is_a_line_with_the_rate_so_far(monkeypatch):
    """Register may answer a run's first request with a 429 (another client used the token's minute): a wait with
    nothing done yet, on a clock that has not moved since the step began. A wait as long as the interval between
    lines is worth one."""
    now = [1000.0]
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=274, unit="requests")
        task.waiting(60, "Register's next window (it answered 429, Retry later)")
        now[0] = 1000.5
        task.advance(10)
        task.waiting(5, "the rate limit (10 requests per 1 s)")
    assert _lines_without_time(stream) == [
        "Writing to Register: 0/274 requests (0.0/s); waiting 60 s for Register's next window (it answered 429, "
        "Retry later)",
        "Writing to Register: 10/274 requests (20.0/s, about 13 s left); waiting 5 s for the rate limit (10 requests "
        "per 1 s)",
    ]


def test_a_bar_ends_on_the_whole_count_and_its_own_label():
    """A bar without a total is redrawn every 64 records: validation's bar of 130 records stayed at 128 unless drawn
    once more at the end; and a run stopped during a wait (Ctrl-C) left its bar saying it waited."""
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        records = progress.task("Validating")
        writes = progress.task("Writing to Register", total=3, unit="requests", every=1)
        for _ in range(130):
            records.advance()
        records.close()
        writes.advance()
        writes.waiting(30, "the rate limit (100 requests per 60 s)")
        writes.close()
        assert progress._rich is not None
        validating, writing = progress._rich.tasks
    assert (validating.completed, validating.description) == (130, "Validating")
    assert (writing.completed, writing.description) == (1, "Writing to Register")


def test_a_wait_is_shown_on_the_bar_until_the_next_request_and_not_at_all_when_quiet(monkeypatch):
    drawn: list[dict] = []
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        task = progress.task("Writing to Register", total=5, unit="requests", every=1)
        monkeypatch.setattr(task, "_draw", lambda **fields: drawn.append(fields))
        task.advance()
        task.waiting(30, "the rate limit (100 requests per 60 s)")
        task.advance()
        task.advance()
    assert drawn == [
        {"completed": 1},
        {  # said with the bar, counted down (review137 F1)
            "waiting": ("the rate limit (100 requests per 60 s)", False),
            "resumes_at": pytest.approx(time.monotonic() + 30, abs=5),
        },
        {"completed": 2, "waiting": None},
        {"completed": 3},
    ]
    stream = io.StringIO()
    with Progress(enabled=False, stream=stream) as progress:
        progress.task("Writing to Register").waiting(60, "the rate limit")
    assert stream.getvalue() == ""


@contextmanager
def paced_writes(monkeypatch, now: list[float], stream: io.StringIO, *, total: int, pace: float) -> Iterator[Task]:
    """A plain-line task of `total` requests paced at `pace` a second, on the clock `now[0]`, logging to `stream`."""
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=total, unit="requests")
        task.set_pace(pace)
        yield task


def test_the_estimate_of_work_paced_by_a_rate_limit_goes_no_faster_than_the_limit(monkeypatch):
    """A window's requests go out at once: the rate so far, taken in that burst, said 'about 4 s left' of two
    minutes. With the pace known, the estimate is the work left at the slower of the two."""
    now, stream = [0.0], io.StringIO()
    with paced_writes(monkeypatch, now, stream, total=274, pace=95 / 60.25) as task:
        now[0] = 2.0
        task.advance(91)
        task.waiting(57, "the rate limit (95 requests per 60 s)")
        now[0] = 600.0
        task.advance(182)  # slower than the pace: the rate so far decides
    first, second = stream.getvalue().splitlines()
    assert "91/274 requests (45.5/s, about 116 s left); waiting 57 s" in first  # 183 / (95 / 60.25)
    assert second.endswith("273/274 requests (0.5/s, about 2 s left)")


def test_the_estimate_during_a_wait_is_never_less_than_the_wait(monkeypatch):
    """The last requests of a run wait a minute for the rate limit's next window (or a 429's): the estimate, the
    requests left at the pace, said "about 0 s left" for that minute, in the log and on the bar."""
    now, stream = [0.0], io.StringIO()
    with paced_writes(monkeypatch, now, stream, total=101, pace=100 / 60) as task:
        now[0] = 1.0
        task.advance(100)
        task.waiting(59, "the rate limit (100 requests per 60 s)")
        halfway = task.line(30.0)  # as a line halfway through the wait would say
    [first] = _lines_without_time(stream)
    assert first.startswith("Writing to Register: 100/101 requests (100.0/s, about 59 s left); waiting 59 s"), first
    assert halfway == "Writing to Register: 100/101 requests (3.3/s, about 30 s left)", halfway

    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        task = progress.task("Writing to Register", total=101, unit="requests", every=1)
        task.set_pace(100 / 60)
        task.advance(100)
        task.waiting(59, "the rate limit (100 requests per 60 s)")
        assert progress._rich is not None
        [remaining] = [c for c in progress._rich.columns if type(c).__name__ == "Remaining"]
        [bar] = progress._rich.tasks
        assert remaining.render(bar).plain in ("0:00:59", "0:00:58"), remaining.render(bar).plain


def test_the_bar_estimates_paced_work_at_its_pace_in_rich_format():
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        task = progress.task("Writing to Register", total=274, unit="requests", every=1)
        other = progress.task("Validating", total=10)
        task.set_pace(95 / 60.25)
        task.advance(91)
        assert progress._rich is not None
        [remaining] = [c for c in progress._rich.columns if type(c).__name__ == "Remaining"]
        paced, unpaced = progress._rich.tasks
        assert remaining.render(paced).plain == "0:01:56"  # 183 requests at 95 per 60.25 s
        assert remaining.render(unpaced).plain == "-:--:--"  # nothing done: rich's own 'not known'
        assert remaining.render(paced).style == remaining.render(unpaced).style  # coloured as rich's own estimate
        other.advance(10)
        task.advance(183)
        assert remaining.render(paced).plain == "0:00:00"


def test_a_process_without_standard_error_shows_no_progress_rather_than_put_it_on_standard_output(monkeypatch, capsys):
    """pythonw on Windows, or a service started without one, has sys.stderr None: the lines went to standard output,
    among whatever the caller writes there (a summary, a file it pipes on)."""
    monkeypatch.setattr(sys, "stderr", None)
    with Progress(interval=0.0) as progress:
        task = progress.task("Reading", total=2, unit="records")
        task.advance(2)
        task.close()
        progress.log("a wait of 30 s")
    assert capsys.readouterr().out == ""


def test_a_short_wait_after_a_429_is_said_as_under_a_second_not_as_0_s():
    """A wait Register asked for is said whatever its length (the client logs no line of its own for it): one of
    0.3 s read `waiting 0 s`."""
    stream = io.StringIO()
    with Progress(stream=stream, interval=5.0, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=10, unit="requests")
        task.waiting(0.3, "Register's next window (it answered 429, Retry later)", news=True)
        task.waiting(0.3, "the rate limit (10 requests per 1 s)")  # not news, and short: no line
    [line] = stream.getvalue().splitlines()
    assert line.endswith("; waiting under 1 s for Register's next window (it answered 429, Retry later)"), line


class _Clock:
    """Time that moves only when slept through: a limiter's waits happen at once."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def time(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _limiter_of_one_a_minute(**hook):
    from register_batch.api.limiter import RateLimiter

    clock = _Clock()
    return RateLimiter(1, 60, clock=clock.time, sleep=clock.sleep, margin=0, **hook)


def test_a_callers_own_wait_hook_still_hears_each_wait_and_is_kept_after_the_block():
    """A library caller that watches its limiter's waits (`on_wait`) lost them while a sync showed progress, and
    found its hook gone (None) afterwards."""
    heard: list[tuple[float, bool]] = []

    def own(seconds: float, throttled: bool) -> None:
        heard.append((seconds, throttled))

    limiter = _limiter_of_one_a_minute(on_wait=own)
    stream = io.StringIO()
    with Progress(stream=stream, interval=5.0, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=10, unit="requests")
        with task.waits_shown(limiter):
            limiter.acquire()
            limiter.acquire()
        assert limiter.on_wait is own
    assert heard == [(60.0, False)]
    assert stream.getvalue().splitlines()[-1].endswith("waiting 60 s for the rate limit (1 request per 60 s)")


def test_two_runs_sharing_a_limiter_each_show_its_waits_ending_in_either_order():
    """Two runs in one process sharing one limiter (one budget): the first to end took the other's hook away, so the
    run still going showed none of its waits, and its client took 429s as shown and logged none."""
    limiter = _limiter_of_one_a_minute()
    first, second = io.StringIO(), io.StringIO()
    with (
        Progress(stream=first, interval=5.0, force_terminal=False) as one,
        Progress(stream=second, interval=5.0, force_terminal=False) as two,
    ):
        a = one.task("First", total=10, unit="requests")
        b = two.task("Second", total=10, unit="requests")
        a_shown, b_shown = a.waits_shown(limiter), b.waits_shown(limiter)
        a_shown.__enter__()
        b_shown.__enter__()
        a_shown.__exit__(None, None, None)  # the first run ends while the second still runs
        assert limiter.tells_waits
        limiter.acquire()
        limiter.acquire()
        b_shown.__exit__(None, None, None)
        assert not limiter.tells_waits
    assert "waiting" not in first.getvalue()
    assert second.getvalue().splitlines()[-1].endswith("waiting 60 s for the rate limit (1 request per 60 s)")


# Progress of a long sync as a migration lead reads it (review134): the time left of a resumed run, of the last
# windows at the rate limit, in hours for hours; and the finished steps' clocks stopped.


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


class _Stamped(io.StringIO):
    """A log that keeps the clock's time of each line it is given."""

    def __init__(self, clock: _Clock) -> None:
        super().__init__()
        self.clock = clock
        self.said: list[tuple[float, str]] = []

    def write(self, text: str) -> int:
        self.said.append((self.clock.now, text))
        return super().write(text)


def _steady_run(
    clock: _Clock,
    task: Task,
    limiter: RateLimiter,
    seen: Callable[[int], None] = lambda done: None,
    answer: Callable[[random.Random], float] = lambda draw: draw.uniform(0.01, 0.07),
):
    """A run of `task.total` requests through `limiter`, each answered in `answer` seconds (by default 0.01 to 0.07 s,
    as the emulator's writes on a loaded machine): at 1140/60 more go a second (25) than the rate lets through (19),
    so after the first window's burst each waits a moment for the one a window before. `seen` is told of each count,
    before its next request."""
    draw = random.Random(175)
    with task.waits_shown(limiter):
        for done in range(task.total or 0):
            seen(done)
            limiter.acquire()
            clock.now += answer(draw)
            task.advance()


@pytest.mark.parametrize(
    ("limit", "period", "total", "answer"),
    [
        (1140, 60, 4708, lambda draw: draw.uniform(0.01, 0.07)),
        # Answers of 1/30 s on average, most quicker, some much slower (an emulator's on a loaded machine): a run at
        # the limit, each quick answer's request waiting a moment for the one a second before.
        (30, 1, 1200, lambda draw: draw.expovariate(30)),
    ],
)
def test_the_time_left_of_a_steady_run_at_the_rate_limit_is_the_time_it_takes(
    monkeypatch, limit, period, total, answer
):
    """review175: a throttled run of 4,708 requests at 1140/60 said `3723/4708 requests (..., about 0 s left)` with
    50 s to go (and again at 3936 and 4068): a wait of a few milliseconds to come made the estimate that wait and
    the windows after it, taking up to a window's requests (1140) as taking no time. A run at 30/1 whose answers
    average the limit said "about 35 s left" of 40: the moments waited, for answers quicker than those before, left
    out of the requests' own time. Each line, within a tenth (and a second) of the time the run then took."""
    clock = _Clock()
    monkeypatch.setattr("register_batch.progress.time.monotonic", clock.time)
    limiter = RateLimiter(limit, period, clock=clock.time, sleep=clock.sleep, margin=0)
    stream = _Stamped(clock)
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=total, unit="requests")
        task.set_pace(limiter.per_second)
        _steady_run(clock, task, limiter, answer=answer)
    end = clock.now
    said = [(int(m[1]), end - at) for at, line in stream.said if (m := re.search(r"about (\d+) s left", line))]
    assert len(said) > 6, stream.getvalue()
    wrong = [(left, round(truth, 1)) for left, truth in said if abs(left - truth) > truth / 10 + 1]
    assert not wrong, wrong


def test_the_bars_time_left_of_a_steady_run_at_the_rate_limit_is_the_time_it_takes(monkeypatch):
    """review175, on a terminal: the bar's time left is the same estimate as the line's (`Task.seconds_left`)."""
    clock = _Clock()
    monkeypatch.setattr("register_batch.progress.time.monotonic", clock.time)
    limiter = RateLimiter(1140, 60, clock=clock.time, sleep=clock.sleep, margin=0)
    shown: dict[int, tuple[float, str]] = {}
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        task = progress.task("Writing to Register", total=4708, unit="requests", every=1)
        task.set_pace(limiter.per_second)

        def seen(done: int) -> None:
            if done in (500, 2000, 3662, 3723, 3936, 4068, 4600):
                shown[done] = (clock.now, _rendered(progress, "Remaining"))

        _steady_run(clock, task, limiter, seen)
    end = clock.now
    left = {done: (end - at, _seconds(rendered)) for done, (at, rendered) in shown.items()}
    assert all(truth - 2 <= said <= truth + 2 for truth, said in left.values()), left


def test_the_time_left_holds_while_a_slow_answer_is_awaited(monkeypatch):
    """review178 F2: with answers of a second each, the time left climbed between answers (136 s, then 258 s within
    the first second, then 132-147 s mid-run), as the answer under way was counted in the finished requests'
    average. Looked at half-way through each answer, elapsed plus time left stays the run's length."""
    clock = _Clock()
    monkeypatch.setattr("register_batch.progress.time.monotonic", clock.time)
    limiter = RateLimiter(1000, 60, clock=clock.time, sleep=clock.sleep, margin=0)  # no wait: the answers pace it
    total, sums = 131, []
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        task = progress.task("Writing to Register", total=total, unit="requests", every=1)
        task.set_pace(limiter.per_second)
        with task.waits_shown(limiter):
            for done in range(total):
                limiter.acquire()
                clock.now += 0.5
                if done:  # half-way through an answer: the time it has taken so far, and the time left
                    sums.append(clock.now - task.started + task.seconds_left(clock.now, total - done, 1.0))
                clock.now += 0.5
                task.advance()
    assert all(total - 1.5 <= said <= total + 1.5 for said in sums), [round(s, 1) for s in sums[:5]]


def _seconds(hms: str) -> int:
    hours, minutes, seconds = (int(part) for part in hms.split(":"))
    return 3600 * hours + 60 * minutes + seconds


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


def _rendered(progress: Progress, column: str) -> str:
    assert progress._rich is not None
    [found] = [c for c in progress._rich.columns if type(c).__name__ == column]
    [bar] = progress._rich.tasks
    return found.render(bar).plain


def _display(progress: Progress, width: int) -> list[str]:
    """The bars as a terminal `width` cells wide shows them: what rich's live display renders, line by line."""
    from rich.console import Console

    assert progress._rich is not None
    console = Console(width=width, record=True, file=io.StringIO(), color_system=None)
    console.print(progress._rich.get_renderable())
    return [line.rstrip() for line in console.export_text().splitlines()]


def _said_under(progress: Progress, label: str = "Writing to Register") -> str | None:
    """The line under the bar of `label` (a wait's words) on a 120-column terminal, if it has one."""
    shown = _display(progress, 120)
    [at] = [at for at, line in enumerate(shown) if line.startswith(label)]
    under = shown[at + 1] if at + 1 < len(shown) else ""
    return under.strip() if under.startswith("  ") else None


def test_the_bars_time_left_and_wait_count_down_all_through_a_wait(monkeypatch):
    """review137 F1: at 6 requests a minute, 10 left and a window's wait under way, the time left stood at "0:01:40"
    (10 requests at the pace) for the last 36 s of the wait, and the label said "waiting 60 s" all the while: nothing
    on the line moved. The wait left plus a window for the 4 after the 6 that go when it opens, and their answers
    (0.5 s each, as the first 5 took: review175), counted down."""
    clock = _Clock()
    monkeypatch.setattr("register_batch.progress.time.monotonic", clock.time)
    limiter = RateLimiter(6, 60, clock=clock.time, sleep=clock.sleep, margin=0)
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        task = progress.task("Writing to Register", total=15, unit="requests", every=1)
        task.set_pace(limiter.per_second)
        with task.waits_shown(limiter):
            for _ in range(5):
                clock.now += 0.5
                task.advance()
            task.waiting(57, "the rate limit (6 requests per 60 s)")
            seen = []
            for _ in range(3):
                seen.append((_rendered(progress, "Remaining"), _said_under(progress)))
                clock.now += 20
            task.advance()
            after = _said_under(progress)
    assert seen == [
        ("0:01:59", "waiting 57 s for the rate limit (6 requests per 60 s)"),
        ("0:01:39", "waiting 37 s for the rate limit (6 requests per 60 s)"),
        ("0:01:19", "waiting 17 s for the rate limit (6 requests per 60 s)"),
    ]
    assert after is None


def test_a_bars_wait_once_over_is_no_longer_said_but_a_429s_is_until_the_next_request(monkeypatch):
    clock = _Clock()
    monkeypatch.setattr("register_batch.progress.time.monotonic", clock.time)
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        task = progress.task("Writing to Register", total=15, unit="requests", every=1)
        task.waiting(10, "the rate limit (6 requests per 60 s)")
        clock.now += 10.2
        over = _said_under(progress)
        task.waiting(0.3, "Register's next window (it answered 429, Retry later)", news=True)
        clock.now += 1
        asked = _said_under(progress)
    assert over is None
    assert asked == "waiting under 1 s for Register's next window (it answered 429, Retry later)"


def test_a_task_going_at_another_ones_pace_says_no_time_left_of_its_own(monkeypatch):
    """review137 F2: "Recording unchanged records: 898/5980 records (34.1/s, about 149 s left)" four seconds before
    the writes' "about 26 s left": passed over between the writes, they end with them."""
    now, stream = [0.0], io.StringIO()
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        passed = progress.task("Recording unchanged records", total=5980, eta=False)
        now[0] = 26.0
        passed.advance(898)
    assert _lines_without_time(stream) == ["Recording unchanged records: 898/5980 records (34.5/s)"]


def test_a_step_of_few_long_steps_has_its_line_every_interval_while_one_goes_on(monkeypatch):
    """review134 F9: sync's reports are five files, one of them seconds long for 10,000 records: a line only as a file
    is done left the log still for longer than an interval. `tick` (each record's row read) gives the count's line once
    an interval has passed, and never sooner; the step still ends on its whole count."""
    now, stream = [0.0], io.StringIO()
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        reports = progress.task("Writing reports", total=5, unit="files", every=1, eta=False)
        for at in (1.0, 4.9, 5.0, 6.0, 9.9):
            now[0] = at
            reports.tick()
        now[0] = 10.0
        reports.advance()
        reports.tick()
        now[0] = 12.0
        reports.advance(4)
        reports.close()
    assert _lines_without_time(stream) == [
        "Writing reports: 0/5 files (0.0/s)",
        "Writing reports: 1/5 files (0.1/s)",
        "Writing reports: 5/5 files (0.4/s)",
    ]


def test_a_step_that_ends_within_the_interval_says_only_its_end(monkeypatch):
    """review157 F4: a stopped run's reports, a line due at once (its last long before), logged `Writing reports: 0/5
    files (0.0/s)` and then `5/5` in the same second. A line due while the step is at 0 and younger than an interval
    waits: the step's end says its count; one still at it an interval on says its count then."""
    now, stream = [0.0], io.StringIO()
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        now[0] = 60.0  # the run's last line a minute ago
        reports = progress.task("Writing reports", total=5, unit="files", every=1, eta=False)
        reports.tick()  # the rows read for report.json: at 0
        now[0] = 60.5
        reports.advance()  # report.json written
        reports.tick()
        now[0] = 61.0
        reports.advance(4)
        reports.close()
        now[0] = 120.0
        slow = progress.task("Writing reports", total=5, unit="files", every=1, eta=False)
        for at in (120.0, 121.0, 124.9):
            now[0] = at
            slow.tick()
        now[0] = 125.0
        slow.tick()  # an interval at 0: said
        now[0] = 126.0
        slow.advance(5)
        slow.close()
    assert _lines_without_time(stream) == [
        "Writing reports: 5/5 files (5.0/s)",
        "Writing reports: 0/5 files (0.0/s)",
        "Writing reports: 5/5 files (0.8/s)",
    ]


def test_a_step_that_opens_with_an_advance_and_ends_within_the_interval_says_only_its_end(monkeypatch):
    """review160 F4: the hold was for a step at 0, so one whose first event is an advance (Comparing with Register,
    Writing to Register) logged `Sending: 1/5 requests (33992.8/s, about 0 s left)` and then `5/5` in one second."""
    now, stream = [0.0], io.StringIO()
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        now[0] = 60.0  # the run's last line a minute ago
        sending = progress.task("Sending", total=5, unit="requests", every=1)
        for at in (60.0, 60.1, 60.2, 60.3, 60.4):
            now[0] = at
            sending.advance()
        sending.close()
    assert _lines_without_time(stream) == ["Sending: 5/5 requests (12.5/s)"]


def test_a_tick_draws_nothing_on_a_bar_nor_says_anything_when_quiet():
    """A bar's clock moves by itself (the drawing thread): a tick is no redraw. With no progress shown, nothing."""
    stream = _Terminal()
    with Progress(stream=stream, force_terminal=True) as progress:
        task = progress.task("Writing reports", total=5, unit="files", every=1)
        task.tick()
        assert progress._rich is not None
        [bar] = progress._rich.tasks
        assert bar.completed == 0
    quiet = io.StringIO()
    with Progress(enabled=False, stream=quiet, interval=0) as progress:
        progress.task("Writing reports", total=5, unit="files").tick()
    assert quiet.getvalue() == ""


def test_short_steps_one_after_another_still_give_a_line_an_interval_after_the_last(monkeypatch):
    """review134 F9: after the listing's last line, a 10,000-record rerun compared the records (4 s) and wrote its
    reports (4 s), each step under the interval its own first line waited for: nothing for 14 s on a loaded machine.
    A line is due an interval after the progress's last line, whichever step said it."""
    now, stream = [0.0], io.StringIO()
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: now[0])
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        listing = progress.task("Listing Register", unit="trainees")
        now[0] = 6.0
        listing.advance(100)
        now[0] = 7.0
        listing.close()
        comparing = progress.task("Comparing with Register", total=100)
        now[0] = 10.0
        comparing.advance(50)  # 4 s after the last line: none yet
        now[0] = 11.0
        comparing.advance(50)
        comparing.close()
        reports = progress.task("Writing reports", total=5, unit="files", every=1, eta=False)
        now[0] = 15.0
        reports.tick()
        now[0] = 16.0
        reports.tick()
        reports.advance(5)
        reports.close()
    assert _lines_without_time(stream) == [
        "Listing Register: 100 trainees (16.7/s)",
        "Comparing with Register: 100/100 records (25.0/s)",
        "Writing reports: 0/5 files (0.0/s)",
        "Writing reports: 5/5 files (1.0/s)",
    ]


RATE_LIMIT = "the rate limit (95 requests per 60 s)"
THROTTLED = "Register's next window (it answered 429, Retry later)"


def _a_first_loads_bars(progress: Progress, *, total: int, done: int) -> Task:
    """A sync's bars as a first load draws them once it writes: the steps before, done; `done` of `total` requests
    written, at Register's pace; the unchanged records' bar under the writes'. The writes' task."""
    for label, count, of in (
        ("Validating", 120, None),
        ("Listing Register", 0, None),
        ("Comparing with Register", 120, 120),
        ("Listing neighbouring cycles", 0, None),
    ):
        step = progress.task(label, total=of)
        step.advance(count)
        step.close()
    writes = progress.task("Writing to Register", total=total, unit="requests", every=1)
    writes.set_pace(95 / 60)
    writes.advance(done)
    progress.task("Recording unchanged records", total=10, eta=False)
    return writes


def _time_left(progress: Progress, label: str) -> str:
    assert progress._rich is not None
    [remaining] = [c for c in progress._rich.columns if type(c).__name__ == "Remaining"]
    [task] = [task for task in progress._rich.tasks if task.description == label]
    return remaining.render(task).plain


@pytest.mark.parametrize("width", [60, 80, 120])
@pytest.mark.parametrize(
    ("total", "done", "why", "news"),
    [(120, 95, RATE_LIMIT, False), (5275, 1366, THROTTLED, True)],
    ids=["limit", "429"],
)
def test_the_count_and_time_left_stay_on_the_bar_during_a_wait_and_the_wait_is_said_under_it(
    monkeypatch, width, total, done, why, news
):
    """review175 F1: on an 80-column terminal, "Writing to Register: waiting 50 s for the rate limit (95 requests per
    60 s)  7…" was the whole row (the label's column is every row's), for the ~55 s of each minute a first load at
    Register's rate waits: no count, no time left for most of an hour. The row keeps its label, count, percentage and
    time left at 60, 80 and 120 columns; the wait, counted down, and why, on a line of its own under it."""
    clock = _Clock()
    monkeypatch.setattr("register_batch.progress.time.monotonic", clock.time)
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        writes = _a_first_loads_bars(progress, total=total, done=done)
        writes.waiting(55, why, news=news)
        shown = _display(progress, width)
        time_left = _time_left(progress, "Writing to Register")
    assert all(len(line) <= width for line in shown), shown
    [at] = [at for at, line in enumerate(shown) if line.startswith("Writing to Register")]
    row = shown[at].split()
    assert row[-4:] == [f"{done}/{total}", f"{100 * done / total:.0f}%", "0:00:00", time_left], shown
    assert row[:3] == ["Writing", "to", "Register"], shown  # the wait is not in the label: its column is every row's
    said = " ".join(" ".join(shown[at + 1 :]).split())  # wrapped at 60 columns
    assert said.startswith(f"waiting 55 s for {why} Recording unchanged records"), shown
    assert " ".join(shown[-1].split()[:3]) == "Recording unchanged records", shown


@pytest.mark.parametrize("width", [60, 80, 120])
def test_every_bars_numbers_are_whole_at_any_usual_width_and_the_bar_gives_way_first(width):
    """At 60 columns the elapsed and time left columns were cut to "0:00:…" and the count to "1366/…" while a bar
    of a few cells stayed: the bar goes first, and the labels and numbers are whole."""
    with Progress(stream=io.StringIO(), force_terminal=True) as progress:
        _a_first_loads_bars(progress, total=5275, done=1366)
        shown = _display(progress, width)
        time_left = _time_left(progress, "Writing to Register")
    assert all(len(line) <= width for line in shown), shown
    assert "…" not in "".join(shown), shown
    [row] = [line for line in shown if line.startswith("Writing to Register ")]
    assert row.split()[-4:] == ["1366/5275", "26%", "0:00:00", time_left], shown
    assert ("━" in row) == (width >= 80), shown  # no room for a bar worth the name at 60
    assert len(shown) == 6, shown
