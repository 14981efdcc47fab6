"""Progress for long work: rich bars on a terminal, a plain log line every few seconds otherwise (cron)."""

from __future__ import annotations

import errno
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import IO, TYPE_CHECKING, Any, cast

from register_batch.wording import counted

if TYPE_CHECKING:
    from rich.progress import Progress as RichProgress
    from rich.progress import TaskID

    from register_batch.api.limiter import RateLimiter


# Seconds between two redraws of the bars (rich's own pace for them).
REDRAW_EVERY = 0.1

# A wait for the rate limit this long or longer is a window's (or a 429's), which the time left counts by the limiter's
# schedule; a shorter one comes of answers quicker than those a window before, which the schedule, at the answers'
# average time, does not foresee: it is counted in the steps' own time (Task.answer_time). Left out of it, a run at
# 30/1 going at 24 a second, its answers' average at the limit, said "about 36 s left" of 46 (on the emulator, fixing
# review175's "about 0 s left").
WINDOW_WAIT = 1.0

# Output that cannot go where it was sent: the reader gone (a closed pipe, a hung-up terminal), or a file on a full
# disk or over its quota or size limit (`>> sync.log`).
READER_GONE = frozenset({errno.EPIPE, errno.EIO})
NO_ROOM = frozenset(code for code in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if code is not None)


class DropWhenGone:
    """A stream that drops what it can no longer write: its reader gone (a closed pipe, `| head` that has read its
    line or a `| tee` that died: EPIPE; a hung-up terminal: EIO) or no room left for it (a full disk: ENOSPC). From
    then on what is written goes nowhere, so that the work it reports on carries on to its end (a sync writes its
    reports and ledger) instead of stopping between two records with a BrokenPipeError. Any other error is raised.
    The command line's standard streams (commands/common.py GoneQuietly) build on it."""

    def __init__(self, stream: Any):
        self._stream = stream
        self._gone = False

    @property
    def gone(self) -> bool:
        return self._gone

    def write(self, text: Any) -> int:
        if not self.gone:
            try:
                return int(self._stream.write(text))
            except OSError as exc:
                self._lost(exc)
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self._stream.flush()
            except OSError as exc:
                self._lost(exc)

    def _lost(self, exc: OSError) -> None:
        """Drop the rest of the output if `exc` says it cannot be written any more; raise any other error."""
        if exc.errno not in READER_GONE and exc.errno not in NO_ROOM:
            raise exc
        self._gone = True

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def utc_stamp(seconds: float) -> str:
    """How a plain line (and the command line's log line, cli._OneLine) is stamped, `seconds` after the epoch: ISO
    8601 in UTC, date and time to the millisecond (2026-12-07T07:10:35.123Z), so that a cron log has one form to grep
    and parse, a run past midnight dates its lines (review157 F4), and a nightly job's operator can match its lines
    with Register's or a proxy's, which seconds alone could not (a second holds several requests)."""
    whole, millis = divmod(round(seconds * 1000), 1000)  # (the float's .123 is .12299..., not cut to .122)
    return f"{time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole))}.{millis:03d}Z"


class Task:
    """One counter of work (records read, requests sent)."""

    def __init__(self, owner: Progress, label: str, total: int | None, unit: str, every: int = 64, *, eta: bool = True):
        self.owner = owner
        self.label = label
        self.total = total
        self.unit = unit
        self.every = every  # steps between redraws of a bar
        self.eta = eta  # whether a plain line says the time left (Progress.task)
        self.done = 0
        self.started = time.monotonic()
        # A plain line is due an interval after the progress's last line, of this step or the one before: steps of a
        # few seconds each, one after another (a sync's comparison, the unchanged records, the reports), otherwise
        # gave a log nothing for three intervals on end (review134 F9).
        self._last_log = min(owner.said_at, self.started)
        self._logged: int | None = None  # the count the last plain line gave
        # Its first line came due while the step was younger than an interval: none is said until it is that old, or
        # it ends (close), so that a step done within the interval says only its end, not `0/5` (review157 F4), or
        # `1/5` for one that opens with an advance (review160 F4), then `5/5` in the same second.
        self._held = False
        self._described = False  # the bar's label says what it waits for
        self.pace: float | None = None  # the most steps a second the work can go (a rate limit), for the estimate
        self.resumes_at = 0.0  # when the last wait (waiting) ends: no estimate says less time is left
        # The waits (`waiting`) of a window (WINDOW_WAIT) up to the start of the last one, when that one began, and
        # whether it is one: the rest of the time is the steps' own, which those to come take alike (`answer_time`).
        self._waited = 0.0
        self._wait_began = self.started
        self._window_wait = False
        # The steps' own time up to the end of the last one done, while paced by a limiter (answer_time): not the
        # time of one still under way, a slow answer's second counted as the steps' own made the time left climb
        # between answers (review178 F2).
        self._own_time = 0.0
        # The rate limiter the work waits for (waits_shown), while known: the estimate adds the windows still to wait
        # for to the wait under way (review134 F2).
        self._limiter: RateLimiter | None = None
        rich = owner._rich
        # The owner's bars and this task's bar among them; None without bars (not a terminal).
        self._bar: tuple[RichProgress, TaskID] | None = (
            (rich, rich.add_task(label, total=total, ours=self)) if rich is not None else None
        )

    def advance(self, amount: int = 1) -> None:
        self.done += amount
        if self._limiter is not None:
            now = time.monotonic()
            self._own_time = max(0.0, now - self.started - self._waited - self._waiting_done(now))
        if self._bar is not None:
            # Redrawing is costly next to checking a record: a bar is updated every `every` steps (64 by default, and
            # at the end); one of slow steps (a request, paced by Register's rate limit) at each, or it would stand
            # still for a minute.
            if self._described:
                self._described = False
                self._draw(completed=self.done, waiting=None)
            elif self.done % self.every < amount or self.done == self.total:
                self._draw(completed=self.done)
        elif self.owner.enabled:
            self._line_if_due(unless_a_wait_follows=True)

    def tick(self) -> None:
        """No step done, but the work goes on: a plain line if one is due (an interval after the last). A step of few,
        long steps (sync's reports, a file each: report.html of 10,000 records takes seconds on a loaded machine) is
        then not silent between them (review134 F9). A bar's clock moves by itself (_Drawer)."""
        if self._bar is None and self.owner.enabled:
            self._line_if_due()

    def _line_if_due(self, *, unless_a_wait_follows: bool = False) -> None:
        """The count's plain line, if an interval has passed since the last (and no wait's line follows at once)."""
        now = time.monotonic()
        if now - self._last_log >= self.owner.interval and not (unless_a_wait_follows and self._wait_line_follows()):
            if self._logged is None and now - self.started < self.owner.interval:  # its first line, too soon
                self._held = True
                return
            self._held = False
            self._last_log, self._logged = now, self.done
            self.owner.log(self.line(now))

    def _wait_line_follows(self) -> bool:
        """Whether the next step waits long enough for the rate limit to get a line of its own (`waiting`), with this
        count: the count's line just before it said "about 29 s left", and the wait's line of the same second "about
        55 s left" (review134 F2)."""
        if self._limiter is None or (self.total is not None and self.done >= self.total):
            return False
        return self._limiter.wait_ahead() >= self.owner.interval

    def start_clock(self) -> None:
        """Time the work from now: a resumed sync passes over the records an earlier run finished before its first
        request, and that time, counted as the requests', made its first lines say "about 213276 s left" of ten
        minutes (review134 F1)."""
        self.started = self._last_log = time.monotonic()
        self._waited, self._wait_began = 0.0, max(self._wait_began, self.started)

    def waiting(self, seconds: float, why: str, *, news: bool = False) -> None:
        """Say that the work stands still for `seconds` and why (the rate limit's next window): otherwise a log stays
        silent, and a bar stands still, for up to a minute at a time. Short waits are not worth a line, unless they
        are `news` (Register's 429, which nothing else says while waits are shown: `waits_shown`)."""
        now = time.monotonic()
        self._waited += self._waiting_done(now)
        self._wait_began, self.resumes_at, self._window_wait = now, now + seconds, seconds >= WINDOW_WAIT
        if (seconds < self.owner.interval and not news) or not self.owner.enabled:
            return
        if self._bar is not None:
            # The wait left is drawn under the bar (wait_said), counted down: "waiting 60 s" for the whole minute,
            # beside a time left standing still, had nothing on the line move (review137 F1).
            self._draw(waiting=(why, news), resumes_at=self.resumes_at)
            self._described = True
        else:
            self.owner.log(f"{self.line(now)}; waiting {wait_words(seconds, news)} for {why}")
            self._last_log = now + seconds  # the next line a full interval after the wait, not at once
            self._logged = None  # a wait's line is not the count's last word

    @contextmanager
    def waits_shown(self, limiter: RateLimiter) -> Iterator[None]:
        """Name each wait for `limiter` while in the block: after each burst of a window's requests the work stands
        still for most of a minute (register-api.md §1.3). Each wait after a 429 is said here, once: the client logs
        no warning of its own for a 429 whose wait a limiter's `on_wait` shows. A progress that shows nothing leaves
        the limiter's waits to the log. A caller's own `on_wait` hears them as before."""
        if not self.owner.enabled:
            yield
            return
        self._limiter = limiter
        budget = f"the rate limit ({counted(limiter.limit, 'request')} per {limiter.period:g} s)"
        with limiter.waits_told_to(
            lambda seconds, throttled: self.waiting(
                seconds, limiter.paused_for if throttled else budget, news=throttled
            )
        ):
            try:
                yield
            finally:
                self._limiter = None

    def set_pace(self, per_second: float) -> None:
        """The most steps a second the work can go: requests paced by a rate limit go out a minute's worth at once,
        so the rate so far, taken in a burst, made 'about 4 s left' of two minutes."""
        self.pace = per_second
        if self._bar is not None:
            self._draw(pace=per_second)

    def _waiting_done(self, now: float) -> float:
        """How much of the last wait, if a window's (WINDOW_WAIT), has passed by `now`."""
        return max(0.0, min(now, self.resumes_at) - self._wait_began) if self._window_wait else 0.0

    def answer_time(self) -> float:
        """The seconds a step has taken, on average, not counting the windows' waits (0 before the first): each
        request's answer (and its record's handling) where the steps are requests; up to the end of the last one
        done (`_own_time`)."""
        return self._own_time / self.done if self.done else 0.0

    def seconds_left(self, now: float, steps: float, rate: float) -> float:
        """The time left of a line and of the bar alike (`remaining`): `steps` more at `rate`, or, paced by a rate
        limiter (`waits_shown`), by its schedule."""
        return remaining(steps, paced(rate, self.pace), self.resumes_at - now, self._limiter, self.answer_time())

    def _draw(self, **fields: Any) -> None:
        assert self._bar is not None
        rich, bar = self._bar
        rich.update(bar, **fields)

    def line(self, now: float | None = None) -> str:
        now = now or time.monotonic()
        elapsed = max(now - self.started, 1e-9)
        rate = self.done / elapsed
        of = f"/{self.total}" if self.total is not None else ""
        eta = ""
        if self.eta and self.total and rate > 0 and self.done < self.total:
            left = self.seconds_left(now, self.total - self.done, rate)
            eta = f", about {duration(left)} left"
        return f"{self.label}: {self.done}{of} {self.unit} ({rate:.1f}/s{eta})"

    def close(self) -> None:
        """The bar's final count, or a final plain line for runs long enough to have logged along the way, or whose
        line came due (`_held`) (unless the last line gave that count already: a log ended on the same line twice)."""
        if self._bar is not None:
            self._draw(completed=self.done, waiting=None, resumes_at=0.0)
            rich, bar = self._bar
            # Its elapsed time stops here: a bar of no total is never finished to rich, and the finished steps'
            # clocks ran on for the whole upload ("Validating 4000/? 0:00:19" of 3 s: review134 F5).
            rich.stop_task(bar)
        elif self.owner.enabled and (self._last_log > self.started or self._held) and self._logged != self.done:
            self.owner.log(self.line())


class _Drawer:
    """Redraws a Progress's bars from a thread of its own, so that the elapsed time and estimate move while the work
    stands still (a wait for the rate limit). It replaces rich's own refresh thread, which nothing outside rich can
    pause: validation pauses this one while it forks its helper (`drawing_paused`), so the helper is never forked
    from a process with a thread part-way through writing to the terminal, holding a lock that would stay held in the
    helper for ever (validation/parallel.py)."""

    def __init__(self, rich: RichProgress):
        self._rich = rich
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="register-batch progress", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop redrawing and wait for a redraw under way to end: then the thread holds no lock."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def _run(self, stop: threading.Event) -> None:
        while not stop.wait(REDRAW_EVERY):
            self._rich.refresh()


# The drawers of the progresses shown now, and the lock that pauses them (`drawing_paused`).
_DRAWERS: set[_Drawer] = set()
_DRAWERS_LOCK = threading.RLock()  # a progress may be begun, or counted, in a pause


def drawing_threads() -> int:
    """How many threads are drawing bars now: validation does not count them among a process's other threads
    (validation/parallel.py worth_parallel), as it pauses them while it forks."""
    with _DRAWERS_LOCK:
        return sum(drawer.alive for drawer in _DRAWERS)


@contextmanager
def drawing_paused() -> Iterator[None]:
    """No bar is redrawn in the block: each drawing thread is stopped, once its redraw under way has ended, and started
    again after the block. A process forked in the block copies no thread of ours, nor a lock one of them held."""
    with _DRAWERS_LOCK:
        paused = [drawer for drawer in _DRAWERS if drawer.alive]
        for drawer in paused:
            drawer.stop()
        try:
            yield
        finally:
            for drawer in paused:
                drawer.start()


class Progress:
    """Use as a context manager; `task()` starts a counter."""

    def __init__(
        self,
        *,
        enabled: bool = True,
        stream: IO[str] | None = None,
        interval: float = 5.0,
        force_terminal: bool | None = None,
    ):
        self.stream = stream or sys.stderr
        # No standard error at all (pythonw on Windows, a service's): nothing to show them on. print(file=None) would
        # put them on standard output, among what a caller writes there.
        self.enabled = enabled and self.stream is not None
        # What is shown goes through this: a stream that can no longer be written to (its reader gone, a full disk)
        # stops the progress, not the work it shows (rich's own answer to a closed pipe is to exit the program).
        self._out = DropWhenGone(self.stream)
        self.interval = interval
        self.said_at = time.monotonic()  # when the last line was shown (`log`), else when the progress was made
        terminal = force_terminal if force_terminal is not None else _is_terminal(self.stream)
        self._rich: RichProgress | None = None
        self._drawer: _Drawer | None = None
        if enabled and terminal:
            self._rich = _rich_bars(cast(IO[str], self._out))

    def __enter__(self) -> Progress:
        self.said_at = time.monotonic()  # a caller's progress made long before the work it shows
        if self._rich is not None:
            self._rich.start()
            if self._drawer is None:  # entered again: drawn by the one it has
                drawer = _Drawer(self._rich)
                with _DRAWERS_LOCK:
                    drawer.start()
                    _DRAWERS.add(drawer)
                self._drawer = drawer
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._rich is not None:
            drawer, self._drawer = self._drawer, None
            if drawer is not None:
                with _DRAWERS_LOCK:
                    _DRAWERS.discard(drawer)
                    drawer.stop()
            self._rich.stop()

    def task(
        self, label: str, total: int | None = None, unit: str = "records", every: int = 64, *, eta: bool = True
    ) -> Task:
        """A counter; `every` is how many steps a bar takes between redraws (1 for steps that take a while). Without
        `eta`, its plain lines say no time left: work that goes at another task's pace, whose own average says
        nothing of when it ends (review137 F2)."""
        return Task(self, label, total, unit, every, eta=eta)

    def log(self, message: str) -> None:
        if not self.enabled:
            return
        self.said_at = time.monotonic()
        if self._rich is not None:
            self._rich.console.print(message)
        else:
            stamp = utc_stamp(time.time())  # UTC, as the log lines (cli._OneLine)
            print(f"{stamp} {message}", file=self._out, flush=True)
        if self._out.gone:
            self.enabled = False  # nothing more to show it on


# How the bars give way on a narrow terminal (fit_columns): the bar is drawn at most rich's own 40 cells, and only if
# it can have 10 (a shorter one says little that the percentage beside it does not); a label is cut to 20 (with an
# ellipsis) before the elapsed time is left out.
BAR_MOST = 40
BAR_LEAST = 10
LABEL_LEAST = 20


def fit_columns(width: int, natural: list[int], bar: int, elapsed: int) -> list[int]:
    """The widths of the bars' columns (0: left out) on a terminal `width` cells wide, from their `natural` widths
    (the label's first; a cell between two columns). The count, percentage and time left matter most and keep theirs:
    the bar narrows, then goes; then the labels are cut; then the elapsed time goes. rich's own layout cut every
    column alike, and a wait's long label took the count and time left off an 80-column terminal (review175 F1)."""
    widths = [0] * len(natural)
    numbers = [at for at, cells in enumerate(natural) if cells and at not in (0, bar)]
    for at in numbers:
        widths[at] = natural[at]
    room = width - sum(natural[at] + 1 for at in numbers)  # for the label, and the bar with the cell before it
    label = natural[0]
    if room - label - 1 >= BAR_LEAST:
        widths[0], widths[bar] = label, min(BAR_MOST, room - label - 1)
        return widths
    if room < min(label, LABEL_LEAST) and widths[elapsed]:
        room += widths[elapsed] + 1
        widths[elapsed] = 0
    widths[0] = max(1, min(label, room))
    return widths


def wait_said(fields: dict[str, Any]) -> str | None:
    """What a bar's line under it says of the wait under way (Task.waiting) from its task's `fields`: how long is left,
    counted down, and why; None once it is over (a 429's stays said until the next request, as before)."""
    shown = fields.get("waiting")
    if not shown:
        return None
    why, news = shown
    left = fields.get("resumes_at", 0.0) - time.monotonic()
    if left <= 0 and not news:
        return None
    # whole seconds, as the time left beside it (Remaining) writes them
    return f"waiting {'under 1 s' if left < 1 else f'{int(left)} s'} for {why}"


def _rich_bars(out: IO[str]) -> RichProgress:
    """rich's bars on `out` (a terminal), laid out to its width (fit_columns), each wait under way said on a line of
    its own under its bar. rich is imported only here: cron jobs and pipes start without it."""
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.measure import Measurement
    from rich.padding import Padding
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        ProgressColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress
    from rich.table import Table
    from rich.text import Text

    class Remaining(TimeRemainingColumn):
        """Rich's estimate, at most a task's pace (Task.set_pace), in rich's own format."""

        def render(self, task: Any) -> Text:
            ours = task.fields.get("ours")
            if ours is None or not ours.pace or task.total is None or task.finished:
                return super().render(task)
            left = timedelta(seconds=int(ours.seconds_left(time.monotonic(), task.total - task.completed, task.speed)))
            return Text(str(left), style="progress.remaining")  # h:mm:ss, as rich writes it

    class Fitted:
        """The bars as a terminal of the width rendered to shows them. A wait's words were the label's once, and
        the label's column is every row's: "Writing to Register: waiting 55 s for the rate limit (95 requests per
        60 s)" left an 80-column terminal no room for the count or time left, for ~55 s of each minute of a first
        load (review175 F1). Its own line, under its bar, wraps as it must and takes no row's room."""

        def __init__(self, bars: RichProgress):
            self.bars = bars

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            columns = cast(list[ProgressColumn], list(self.bars.columns))
            tasks = [task for task in self.bars.tasks if task.visible]
            if not tasks:
                return
            rows = [[column(task) for column in columns] for task in tasks]
            natural = [
                max(Measurement.get(console, options, row[at]).maximum for row in rows) for at in range(len(columns))
            ]
            widths = fit_columns(options.max_width, natural, bar=1, elapsed=4)
            shown = [at for at, cells in enumerate(widths) if cells]

            def table() -> Table:
                grid = []
                for at in shown:
                    column = columns[at].get_table_column().copy()
                    column.width, column.no_wrap, column.overflow = widths[at], True, "ellipsis"
                    grid.append(column)
                return Table.grid(*grid, padding=(0, 1))

            part = table()
            for task, row in zip(tasks, rows, strict=True):
                part.add_row(*(row[at] for at in shown))
                said = wait_said(task.fields)
                if said is not None:
                    yield part
                    yield Padding(Text(said, style="progress.description"), (0, 0, 0, 2), expand=False)
                    part = table()
            if part.row_count:
                yield part

    class Bars(RichProgress):
        def get_renderables(self) -> Iterable[RenderableType]:
            yield Fitted(self)

    return Bars(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(bar_width=BAR_MOST),
        MofNCompleteColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        Remaining(),
        console=Console(file=out),
        transient=False,
        # Redrawn by a thread of ours (_Drawer), which validation can pause while it forks.
        auto_refresh=False,
        # The caller's standard output and error stay theirs: a library caller printing, or logging, while the bars
        # are shown wrote through rich, reflowed to the terminal's width, or into the bars' stream.
        redirect_stdout=False,
        redirect_stderr=False,
    )


def paced(rate: float | None, pace: float | None) -> float:
    """The rate to expect of work that cannot go faster than `pace` (if known): the rate so far, measured in a burst
    (a window's requests sent at once), would say seconds where minutes are left."""
    if rate and pace:
        return min(rate, pace)
    return rate or pace or 0.0


def remaining(
    steps: float, rate: float, waiting: float, limiter: RateLimiter | None = None, answer: float = 0.0
) -> float:
    """Seconds `steps` take at `rate`, and never less than a wait under way: the last requests of a run waiting a
    minute for the rate limit's next window said "about 0 s left". Steps paced by a rate `limiter` take the time its
    schedule gives them (`RateLimiter.seconds_left`, as a dry run's estimate of its real run: `seconds_for`), each
    `answer` seconds: a wait under way, then its window's requests at once, and each window's more a window after
    those before them. Taken instead of added, 109 requests left at 95 a minute with 57 s to wait said 1 min 9 s of
    two minutes (review134 F2). That schedule alone, not the steps at `rate` (at most the pace, which spreads a
    window's requests over it where they go at once when it opens): the greater of the two stood still at the steps'
    share of the pace for up to most of each wait, "0:01:40" for 36 s (review137 F1). With the answers' time and the
    requests sent in the last window: without them a steady run at 1140/60, whose every request waited a moment for
    the one a window before, said "about 0 s left" with 50 s to go (review175)."""
    if limiter is None:
        return max(steps / rate, waiting)
    return limiter.seconds_left(steps, answer, waiting)


def wait_words(seconds: float, short: bool = False) -> str:
    """A wait as a line says it; a `short` one (a 429's, or the last moment of one counted down) under half a
    second as "under 1 s", not "0 s"."""
    return "under 1 s" if short and seconds < 0.5 else f"{seconds:.0f} s"


def duration(seconds: float) -> str:
    """A time left as a reader takes it in: seconds for a few minutes, then minutes, and hours and minutes past an
    hour ("about 12014 s left" was 3 h 20 min: review134 F8)."""
    if seconds < 300:
        return f"{int(seconds)} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60} min"


def real_run_words(requests: int, seconds: float, rate: str, *, grouped: bool = False) -> str:
    """A dry run's estimate of a real run started now (report.json's `sync.estimate`) as its summary line and
    report.html say it: "about 224 requests, about 142 s at 95/60", the time as a progress line says one left.
    `grouped`: the count with thousands separators, as report.html writes every count (review223)."""
    if not requests:
        return "no requests"
    time_words = f"about {duration(round(seconds))}" if seconds >= 1 else "under 1 s"
    return f"about {counted(requests, 'request', grouped=grouped)}, {time_words} at {rate}"


def _is_terminal(stream: IO[str]) -> bool:
    """Whether `stream` is a terminal bars can be drawn on. A dumb one (TERM=dumb or unknown, as rich reads it: Emacs's
    shell, a CI runner's pty) is not: rich draws nothing on it until the bars stop, so it gets the plain lines
    (review119 F1)."""
    if os.environ.get("TERM", "").lower() in ("dumb", "unknown"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


SILENT = Progress(enabled=False)
