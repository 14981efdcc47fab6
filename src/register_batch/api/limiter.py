"""Client-side pacing under Register's per-IP limit (register-api.md §1.3, §10).

Register counts requests in fixed 60-second windows aligned to the epoch. A client that sends at most N
requests in *any* interval of the window's length (a sliding log) can never put N + 1 into one server
window, whatever the alignment; a small margin covers network jitter between the send time recorded here
and the arrival time the server sees. A rate of another window (`--rate 80/50`) within Register's 100 a minute
on average also keeps to 100 in any 60 s: its own window alone let it put 160 into one of Register's.

With `shared_file`, every process that uses the same file (for example two state dirs behind one egress
IP) shares one budget: the send log lives in that file under an exclusive lock. `shared_budget_file` names
the default one: towards a real service (not this machine) every register-batch process of this user shares
`rate-<host>.json` in the user's cache folder, `fs.user_cache_dir()` (`~/.cache/register-batch/` unless
`XDG_CACHE_HOME` says otherwise), not in `$XDG_RUNTIME_DIR`: a login session has one and cron or a systemd
service has none, so a sync started by hand would not see the nightly job's. `REGISTER_BATCH_RATE_DIR` picks
another folder (shared by every target, the emulator too) or, set to `off`, switches sharing off. The
file holds the send times of the last minute (Register's window, §1.3) or of the longest window of the processes
sharing it, if longer, and each sharer's rate with when it last asked: every request waits until every rate in use
there (its own too; another's asked with in the last minute) allows one more send over the whole log, so processes
of different rates sending together keep to the strictest of them. If the file cannot be used, the run falls back to
its own budget and says so.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import ipaddress
import json
import logging
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from register_batch import portable
from register_batch.errors import ConfigError, UnwritableOutput
from register_batch.fs import FILE_MODE, StrPath, file_of_its_own, home_expanded, make_private_dirs, user_cache_dir
from register_batch.tokens import refuse_token_named

log = logging.getLogger("register_batch.api")

_EPSILON = 1e-6  # seconds; float timestamps near 1.7e9 carry about this much rounding
RATE_DIR_ENV = "REGISTER_BATCH_RATE_DIR"
_OFF = ("off", "none", "0", "false", "no")  # REGISTER_BATCH_RATE_DIR's ways of saying each run keeps its own budget
# Never through a symlink: in a folder others can write to, a planted link would have us overwrite its target.
# (Windows has no O_NOFOLLOW; there the file is in the user's own profile unless REGISTER_BATCH_RATE_DIR says not.)
_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | portable.BINARY
REGISTER_WINDOW = 60.0  # seconds: Register's fixed window (register-api.md §1.3)
REGISTER_LIMIT = 100  # requests from one IP address in one of Register's windows (register-api.md §1.3)
LONGEST_PAUSE = REGISTER_WINDOW  # the longest Retry-After of a 429 the client passes on
# The longest Retry-After of a 502, 503 or 504 the client waits for before its next request (review163 F2): a gateway or
# app service restarting during a deploy says how long, typically tens of seconds ("back in 2 minutes"); one asking
# for longer is not waited for past this, nor past the client's own retry_timeout (RegisterClient).
LONGEST_UNAVAILABLE_PAUSE = 120.0
# What the wait after a 429 is for, as a progress line names it (`RateLimiter.paused_for`).
THROTTLED = "Register's next window (it answered 429, Retry later)"
# A shared file's log keeps at least Register's window and a second's margin of sends, whatever the rates of the
# processes writing to it: one of a longer window that joins later counts that minute's sends too.
SHARED_LOG_KEEPS = REGISTER_WINDOW + 1.0
# The longest window and highest limit of another process's rate that a shared file is read with (a process's own
# are kept whatever they are), and the most sends its log keeps: a file naming more (foreign, damaged) would keep
# every send for good.
LONGEST_SHARED_WINDOW = 3600.0
HIGHEST_SHARED_LIMIT = 10_000
# The most of the shared file that is read (review162 F4): its log of at most HIGHEST_SHARED_LIMIT sends (some 20 bytes
# each) and a few rates take some 200 KB. A longer one (damaged, or grown by another account in a folder that
# REGISTER_BATCH_RATE_DIR names for several) counts as unreadable, as a torn file does: it was read whole, before
# every request, so a file of GBs cost GBs of memory each time. Every other file the tool reads is capped too.
SHARED_FILE_MOST = 1 << 20


def within_registers_limit(limit: int, period: float) -> bool:
    """Whether a rate of `limit` requests in `period` seconds is, on average, within Register's limit (100 a
    minute): one faster gets a note (commands/common.py `say_rate`), and is not held to Register's limit."""
    return limit / period <= REGISTER_LIMIT / REGISTER_WINDOW


SHARED_BY_ACCOUNTS_MODE = 0o666  # a file in REGISTER_BATCH_RATE_DIR's folder: every account naming it writes to it


def rate_dir_given(environ: Mapping[str, str] | None = None) -> bool:
    """Whether REGISTER_BATCH_RATE_DIR names a folder: one the user accounts that name it share (security.md)."""
    return bool(_rate_dir_setting(environ))


def _rate_dir_setting(environ: Mapping[str, str] | None) -> str | None:
    """REGISTER_BATCH_RATE_DIR as given ("" when unset), or None when it says each run keeps its own budget. A token
    pasted there is refused (ConfigError), not shown, and no folder is made of it: its name would show the token to
    every account that may list the folder above, one shared by several of them (review61 F6), as a state dir's is."""
    setting = (os.environ if environ is None else environ).get(RATE_DIR_ENV, "").strip()
    refuse_token_named(RATE_DIR_ENV, setting)
    return None if setting.lower() in _OFF else setting


def open_shared(path: StrPath, *, accounts: bool = False) -> int:
    """Open, or make, a file processes share by locking it (the rate budget, the provider lock); never through a
    symlink. Owner-only, unless `accounts`: in a folder REGISTER_BATCH_RATE_DIR names for several user accounts, a
    file is made writable by each (it holds no personal data), and one made by another account is opened without
    O_CREAT, which Linux refuses for another's file in a folder such as /tmp (sticky, others may write: the
    fs.protected_regular setting). Both were owner-only: each account kept a budget and a provider lock of its own."""
    if not accounts:
        return os.open(path, _OPEN_FLAGS, FILE_MODE)
    existing = _OPEN_FLAGS & ~os.O_CREAT
    while True:
        try:
            return _one_of_its_own(os.open(path, existing), path)
        except FileNotFoundError:
            pass
        try:
            fd = os.open(path, existing | os.O_CREAT | os.O_EXCL, SHARED_BY_ACCOUNTS_MODE)
        except FileExistsError:  # another account's process made it in between
            continue
        with contextlib.suppress(OSError):
            portable.set_mode(fd, SHARED_BY_ACCOUNTS_MODE)  # past this process's umask
        return fd


def _one_of_its_own(fd: int, path: StrPath) -> int:
    """`fd`, if it is a regular file with no other name (`fs.file_of_its_own`; any account's, as the folder is
    theirs too): where other accounts may write, one of them could give a file of yours a second name there (a hard
    link; Linux's fs.protected_hardlinks forbids it, macOS does not), which the budget's rewrite or the lock's holder
    line would then overwrite."""
    file_of_its_own(fd, path, owner=False)
    return fd


def shared_budget_file(host: str, *, loopback: bool, environ: Mapping[str, str] | None = None) -> Path | None:
    """The file through which this user's register-batch processes sending to `host` share one budget.

    None for this machine (the emulator) unless REGISTER_BATCH_RATE_DIR names a folder, and when that
    setting is `off`; None too, said once, when sharing is meant but no folder can be named (`budget_unplaced`).
    """
    budget, problem = _budget_file(host, loopback=loopback, environ=os.environ if environ is None else environ)
    if problem is not None:
        _say_unshared(problem)
    return budget


def budget_unplaced(host: str | None, *, loopback: bool, environ: Mapping[str, str] | None = None) -> bool:
    """Whether a budget shared with this user's other processes is meant for `host` (REGISTER_BATCH_RATE_DIR not
    `off`; a folder named there, or a service on another machine) but no folder can be named for it: no home folder
    (a service account's `/nonexistent`), or `~/x` with none known. A sync then takes its provider lock elsewhere
    (sync/ledger.py `fallback_lock_folder`): it must not lose it without a word (review60 F1)."""
    environ = os.environ if environ is None else environ
    return _budget_file(host or "", loopback=loopback, environ=environ)[1] is not None


def _budget_file(host: str, *, loopback: bool, environ: Mapping[str, str]) -> tuple[Path | None, str | None]:
    """`shared_budget_file`, and why there is none when one is meant (the warning it gives), unsaid."""
    setting = _rate_dir_setting(environ)
    folder: Path | None
    if setting is None:
        return None, None
    if setting:
        try:
            folder = home_expanded(setting)
        except ConfigError as exc:  # `~/x` with no home known: not `/x`
            return None, f"{RATE_DIR_ENV}: {exc}; this run keeps its own budget"
    elif loopback:
        return None, None
    else:
        folder = user_cache_dir(environ)
        if folder is None:
            return None, (
                "no home folder to keep the rate budget shared with other register-batch processes in (set "
                f"{RATE_DIR_ENV} or XDG_CACHE_HOME); this run keeps its own budget"
            )
    return folder / f"rate-{host_file_name(host)}.json", None


# Where the warnings that a budget is not shared go while a sync makes its client (`held_budget_notes`): said with
# the provider lock's own news in one line, rather than as they arise.
_HELD_NOTES: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("held_budget_notes", default=None)


@contextlib.contextmanager
def held_budget_notes(notes: list[str]) -> Iterator[list[str]]:
    """Within the block (this thread's), a warning that the rate budget is not shared (each ends "this run keeps its
    own budget") is added to `notes` instead of logged: a sync says it once, with where its provider lock went
    (sync/runner.py), and `say_budget_notes` says those it did not."""
    token = _HELD_NOTES.set(notes)
    try:
        yield notes
    finally:
        _HELD_NOTES.reset(token)


def say_budget_notes(notes: list[str]) -> None:
    """Log the notes `held_budget_notes` kept and nobody has said yet, as they would have been; empties `notes`."""
    while notes:
        log.warning("%s", notes.pop(0))


def _say_unshared(message: str) -> None:
    held = _HELD_NOTES.get()
    if held is None:
        log.warning("%s", message)
    else:
        held.append(message)


def host_file_name(host: str | None) -> str:
    """A host name as part of a file name in the budget's folder (the budget's, and the provider lock's): every
    spelling of this machine's loopback is one (`same_host`)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", same_host(host).lower()) or "unknown-host"


LOOPBACK = "loopback"  # what the budget and the provider lock know every loopback host by


def same_host(host: str | None) -> str:
    """The host a rate budget and a provider lock are kept for: `localhost`, `127.0.0.1` and `::1` (any loopback
    address) are one, LOOPBACK, as they reach the same emulator on this machine. Keyed on the host as written, a sync
    to `localhost` wrote while one to `127.0.0.1` with the same token was writing, each with a budget of its own
    (review183 F4). Only the key: what is contacted is the host as given."""
    name = (host or "").strip("[]").lower().rstrip(".")
    if name == "localhost":
        return LOOPBACK
    try:
        return LOOPBACK if ipaddress.ip_address(name).is_loopback else host or ""
    except ValueError:
        return host or ""


def same_target(target: str) -> str:
    """`target` as the provider lock keys it: its host as `same_host` says it (the port, scheme and path kept: two
    emulators on two ports are two targets)."""
    parts = urlsplit(target)
    if same_host(parts.hostname) != LOOPBACK:
        return target
    netloc = LOOPBACK if parts.port is None else f"{LOOPBACK}:{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


STOP_CHECK_SECONDS = 0.25  # how often a wait for the budget looks whether the caller has been asked to stop


class StoppedWaiting(Exception):
    """The caller was asked to stop while a request waited for its turn in the budget: the request was not sent."""


class RateLimiter:
    """At most `limit` requests in any `period` seconds (plus `margin`), shared by a whole run; a rate within
    Register's limit on average also at most 100 in any 60 s (`_limits`)."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        margin: float | None = None,
        shared_file: StrPath | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        on_wait: Callable[[float, bool], None] | None = None,
    ):
        if limit < 1 or period <= 0:
            raise ValueError("a rate limit needs at least 1 request per positive period")
        self.limit = limit
        self.period = period
        self.margin = min(0.25, period * 0.02) if margin is None else margin
        self._register_margin = min(0.25, REGISTER_WINDOW * 0.02) if margin is None else margin
        self.shared_file = Path(shared_file) if shared_file else None
        self.shared_by_accounts = False  # the file's folder is one user accounts share (REGISTER_BATCH_RATE_DIR)
        # Why a budget meant to be shared is not (or no longer) shared: its file could not be used. A sync then
        # takes its provider lock in another folder (sync/runner.py), or says it has none.
        self.unshared: str | None = None
        self._clock = clock
        self._sleep = sleep
        # Told of each wait before it starts (seconds, and whether Register asked for it with a 429): progress says
        # why a run stands still for up to a minute. While it is set, the client logs no warning of its own for a 429
        # whose wait this shows: a 429 is said once.
        self.on_wait = on_wait
        self._told: list[Callable[[float, bool], None]] = []  # each run's progress that shows the waits (waits_told_to)
        self._lock = threading.Lock()
        self._sent: collections.deque[float] = collections.deque()
        self._blocked_until = 0.0
        # What the last pause is for, as a progress line names its wait: a 429's window, or a 5xx's Retry-After.
        self.paused_for = THROTTLED
        self._ahead: float | None = None  # when take_ahead took a turn, which the next acquire may use (below)
        self.waited = 0.0
        self._said_too_long = False  # the shared file was longer than any budget file (said once: _say_too_long)
        if self.shared_file:
            self.share(self.shared_file)

    @contextlib.contextmanager
    def waits_told_to(self, told: Callable[[float, bool], None]) -> Iterator[None]:
        """Tell `told` of each wait while in the block, as `on_wait`: runs sharing this limiter (one budget) each show
        its waits, end in any order, and leave a caller's own `on_wait` as it was."""
        self._told.append(told)
        try:
            yield
        finally:
            self._told.remove(told)

    @property
    def tells_waits(self) -> bool:
        """Whether something shows each wait (then a 429's wait is said there, not logged as well)."""
        return self.on_wait is not None or bool(self._told)

    def share(self, path: Path, *, accounts: bool = False) -> None:
        """Share the budget through `path` from now on (folders it creates are owner-only); with `accounts`, with
        the other user accounts that name its folder too (`open_shared`)."""
        path = Path(path)
        try:
            make_private_dirs(path.parent)
        except UnwritableOutput as exc:
            self._unshare(path, exc)
            return
        self.shared_file = path
        self.shared_by_accounts = accounts

    def _unshare(self, path: Path, exc: OSError | UnwritableOutput) -> None:
        problem = exc.problem if isinstance(exc, UnwritableOutput) else exc.strerror or exc
        self.unshared = (
            f"cannot use {path} to share the rate budget with other register-batch processes ({problem}); this run "
            "keeps its own budget"
        )
        _say_unshared(self.unshared)
        self.shared_file = None

    def take_ahead(self, stopping: Callable[[], bool] | None = None) -> None:
        """`acquire` a request's turn now, for the next `acquire` (the request's own, sent through the client) to
        use at once: a sync marks a write in flight in its ledger only once its turn has come, so that a run killed
        while it waits (up to a minute) leaves no mark of a write never sent (review137 F3). The turn is counted as
        of now: the request must go within half the budget's margin, or its acquire counts it again (review140 F1:
        slow commits let 6 requests into a budget of 5)."""
        self.acquire(stopping)
        with self._lock:
            self._ahead = self._clock()

    def acquire(self, stopping: Callable[[], bool] | None = None) -> None:
        """Block until one more request fits the budget, then count it as sent now (or use the turn `take_ahead`
        took for it).

        With `stopping`, a wait ends as soon as it says True (StoppedWaiting): a run asked to stop (Ctrl-C, SIGTERM)
        sends nothing that has to wait for its turn, which may be a minute away (a 429's Retry-After).
        """
        with self._lock:
            ahead, self._ahead = self._ahead, None
            if ahead is not None and self._clock() - ahead <= self.margin / 2:
                return
        while True:
            with self._lock:
                wait = self._local_try()
                if wait <= 0 and self.shared_file:
                    self._sent.pop()  # the shared log decides; the local one only tracks this run
                    try:
                        wait = self._shared_try()
                    except OSError as exc:
                        self._unshare(self.shared_file, exc)
                        wait = self._local_try()
                    else:
                        if wait <= 0:
                            self._sent.append(self._clock())
            if wait <= 0:
                return
            throttled = self._blocked_until > self._clock()
            for told in [self.on_wait, *self._told]:
                if told is not None:
                    told(wait, throttled)
            if stopping is None:
                self.waited += wait
                self._sleep(wait)
                continue
            # In short sleeps: a signal handler that asks to stop does not cut a sleep short (PEP 475).
            for _ in range(math.ceil(wait / STOP_CHECK_SECONDS)):
                if stopping():
                    raise StoppedWaiting()
                step = min(wait, STOP_CHECK_SECONDS)
                self.waited += step
                self._sleep(step)
                wait -= step
            if stopping():
                raise StoppedWaiting()

    def wait_ahead(self) -> float:
        """How long a request asked for now would wait, by this run's own sends and a 429's pause (those of other
        processes sharing the budget's file may add to it): what a progress line may count on. Sends nothing."""
        with self._lock:
            now = self._clock()
            if now < self._blocked_until:
                return self._blocked_until - now
            sent = [t for t in self._sent if t <= now]
            return max(_wait_for_room(sent, limit, window, now) for limit, window in self._limits())

    def now(self) -> float:
        """This budget's clock (time.time, unless a test's): a 429's wait is measured by it, as its pause is."""
        return self._clock()

    def _window(self) -> float:
        return self.period + self.margin

    def _limits(self) -> list[tuple[int, float]]:
        """What this budget keeps to: `limit` in any `period` seconds (and margin); and, for a rate within Register's
        limit on average, Register's 100 in any 60 s (and margin) too, where its own rate alone would allow more.
        N in any S seconds with S under 60 put up to N * ceil(60 / S) into one of Register's fixed windows (80/50:
        160), and N over 100 in S over 60 up to N: design.md ("uploader") holds only for a window of Register's
        length, and such a rate gets no note (review103 F1)."""
        own = [(self.limit, self._window())]
        if within_registers_limit(self.limit, self.period) and (
            self.period < REGISTER_WINDOW or self.limit > REGISTER_LIMIT
        ):
            own.append((REGISTER_LIMIT, REGISTER_WINDOW + self._register_margin))
        return own

    def seconds_for(self, requests: int, answer: float = 0.0) -> float:
        """How long `requests` take from a budget with none sent in the last window, sent one after another and each
        answered in `answer` seconds (`burst_seconds`, of each limit it keeps to): a dry run's estimate of its real
        run (sync/runner.py `real_run_estimate`). Other processes sharing the budget, and a 429, add to it."""
        return max(burst_seconds(requests, limit, window, answer) for limit, window in self._limits())

    def seconds_left(self, requests: float, answer: float = 0.0, waiting: float = 0.0) -> float:
        """How long `requests` more take from now, sent one after another and each answered in `answer` seconds, after
        this run's own sends in the last window, a 429's pause and a wait under way (`waiting`): a progress's time left
        (progress.py `remaining`), by the same schedule as `seconds_for`. Other processes sharing the budget add to
        it."""
        with self._lock:
            now = self._clock()
            start = max(waiting, self._blocked_until - now, 0.0)
            sent = [now - t for t in self._sent if t <= now]
        return max(burst_seconds(requests, limit, window, answer, sent, start) for limit, window in self._limits())

    @property
    def per_second(self) -> float:
        """The most requests a second this budget lets through over a run: what its progress may expect."""
        return min(limit / window for limit, window in self._limits())

    def _longest_wait(self) -> float:
        return max(LONGEST_PAUSE, LONGEST_UNAVAILABLE_PAUSE, *(window for _, window in self._limits()))

    def _local_try(self) -> float:
        now = self._clock()
        if self._sent and self._sent[-1] > now:  # the clock was set back: see _shared_try
            self._sent = collections.deque(min(t, now) for t in self._sent)
        if self._blocked_until > now + self._longest_wait():
            self._blocked_until = 0.0
        if now < self._blocked_until:
            return self._blocked_until - now
        limits = self._limits()
        keep = max(window for _, window in limits)
        while self._sent and now - self._sent[0] >= keep - _EPSILON:
            self._sent.popleft()
        wait = max(_wait_for_room(list(self._sent), limit, window, now) for limit, window in limits)
        if wait <= 0:
            self._sent.append(now)
        return wait

    @contextlib.contextmanager
    def _shared_state(self) -> Iterator[dict]:
        """The shared file's state under an exclusive lock, written back when the block ends.

        Read and written through the descriptor that holds the lock: on Windows the lock (on the first byte) keeps
        every other handle from reading or writing that byte, one of this process's own perhaps included."""
        assert self.shared_file is not None
        fd = open_shared(self.shared_file, accounts=self.shared_by_accounts)
        try:
            portable.lock(fd)
            data = _read_all(fd, SHARED_FILE_MOST)
            if data is None:
                self._say_too_long()
            state = _load_state(data or b"")
            yield state
            data = json.dumps(state).encode("utf-8")
            os.lseek(fd, 0, os.SEEK_SET)
            os.ftruncate(fd, 0)
            while data:
                data = data[os.write(fd, data) :]
        finally:
            with contextlib.suppress(OSError):
                portable.unlock(fd)
            os.close(fd)

    def _shared_try(self) -> float:
        with self._shared_state() as state:
            now = self._clock()
            # The file keeps every send that any process sharing it still counts, and the rate of each process that
            # asked within its own window: a request waits until every one of those rates allows one more send. Each
            # counting only its own let one of a shorter window send on top of a longer one's full window, and one of
            # a longer window joining after a shorter one see only the shorter's last window (155 in one minute).
            own = self._limits()
            earlier = state["rates"]
            rates = _rates_in_use(earlier, own, now)
            keep = max(SHARED_LOG_KEEPS, *(window for _, window, _ in rates))
            # Times ahead of now were taken before the wall clock was set back (NTP, by hand, a restored VM): they
            # count as sent now, and a pause that would end later than any can is forgotten (a 429 would say so
            # again), so such a jump costs at most one window's wait instead of stalling every run for as long as
            # the clock went back.
            most = max(self.limit, HIGHEST_SHARED_LIMIT)  # sends: a damaged file's endless log is not kept
            sent = sorted(min(t, now) for t in state["sent"] if now - t < keep)[-most:]
            state.update(sent=sent, rates=rates)
            if state["blocked_until"] > now + self._longest_wait():
                state["blocked_until"] = 0.0
            if now < state["blocked_until"]:
                return state["blocked_until"] - now
            # Another's rate holds this one back only until it is forgotten (_rates_in_use), unless asked with again;
            # its own, for as long as it says (waking to ask sooner would keep it in use, holding the others back).
            own_wait = max(_wait_for_room(sent, limit, window, now) for limit, window in own)
            wait = max(
                [
                    own_wait,
                    *(
                        min(_wait_for_room(sent, limit, window, now), asked + min(window, SHARED_LOG_KEEPS) - now)
                        for limit, window, asked in rates
                        if (limit, window) not in own
                    ),
                ]
            )
            if own_wait > min(own[0][1], SHARED_LOG_KEEPS):
                # A run that cannot send before the others forget a rate is not in use while it waits: marked as
                # asking, a gentle export (30/600) held a nightly sync to its rate for a minute each time it woke,
                # and sent nothing in it (the sync's own sends fill the gentle one's budget).
                state["rates"] = _rates_in_use(earlier, [], now)
            if wait <= 0:
                sent.append(now)
                del sent[:-most]
            return wait

    def _say_too_long(self) -> None:
        """A budget file longer than SHARED_FILE_MOST: said once a run, as it is written back small (a writer who keeps
        growing it would otherwise fill the log with the same line before every request)."""
        if not self._said_too_long:
            self._said_too_long = True
            log.warning(
                "%s is longer than any rate budget file (%s bytes or more): damaged, or not register-batch's; its log "
                "of sends starts again",
                self.shared_file,
                f"{SHARED_FILE_MOST:,}",
            )

    def pause(self, seconds: float, why: str = THROTTLED) -> None:
        """The server said 429 (or 502, 503, 504) with Retry-After: nobody sends until the time it names. `why` names
        the wait on a progress line."""
        until = self._clock() + max(0.0, seconds)
        with self._lock:
            self._blocked_until = max(self._blocked_until, until)
            self.paused_for = why
            if self.shared_file:
                try:
                    self._shared_pause(until)
                except OSError as exc:
                    self._unshare(self.shared_file, exc)

    def _shared_pause(self, until: float) -> None:
        with self._shared_state() as state:
            state["blocked_until"] = max(state["blocked_until"], until)


def _read_all(fd: int, most: int) -> bytes | None:
    """The whole of a (small) file, from its start; None, read no further, if it is longer than `most` bytes."""
    os.lseek(fd, 0, os.SEEK_SET)
    chunks = []
    left = most + 1  # one byte more tells a file of `most` bytes from a longer one
    while left > 0 and (chunk := os.read(fd, min(65536, left))):
        chunks.append(chunk)
        left -= len(chunk)
    return None if left <= 0 else b"".join(chunks)


def _wait_for_room(sent: list[float], limit: int, window: float, now: float) -> float:
    """How long until at most `limit` - 1 of `sent` (in order) are within `window` seconds of the time: 0 if now."""
    counted = [t for t in sent if now - t < window - _EPSILON]
    if len(counted) < limit:
        return 0.0
    return counted[len(counted) - limit] + window - now  # until enough of them have left the window for one more


def burst_seconds(
    requests: float,
    limit: int,
    window: float,
    answer: float = 0.0,
    sent: Sequence[float] = (),
    start: float = 0.0,
) -> float:
    """How long `requests` sent one after another take under at most `limit` in any `window` seconds, each answered in
    `answer` seconds, after a wait of `start` seconds and the requests `sent` that many seconds ago (none: a window
    with none sent before). Each goes when the one before is answered, or when the one `limit` before it has left the
    window (`_wait_for_room`), if later. With none sent before: the first `limit` go as fast as they are answered, and
    each `limit` more a window after the first of those before them. A window's requests go at once: a small run
    takes its answers' time, not its share of the rate (review164 F4: "about 10 s" of a run of 0.5 s). With those
    sent before, the next go as the window's earlier ones leave it: taken as none sent, a steady run at 1140/60
    (each request waiting a moment for the one a window before) said "about 0 s left" of 50 s (review175)."""
    if requests <= 0:
        return 0.0
    # The time a request goes is the longest chain of answers (each `answer` after the one before) and windows (each
    # `window` after the one `limit` before) back to the start or to a request sent before: window-bound
    # (`limit` * `answer` under `window`) as many windows as fit, answer-bound as few as may be.
    full = math.ceil(requests / limit) - 1  # windows waited before the last requests go
    longest = start + max(requests * answer, full * window + (requests - full * limit) * answer)
    for back, ago in enumerate(sorted(sent)[:limit]):  # the latest first: `back` sent after it
        if ago >= window:
            break  # left the window: it holds none back
        reach = requests + back  # from it to the last request
        most = int(reach // limit)  # the windows that fit between them
        for windows in {1, most} if most else ():
            longest = max(longest, windows * window - ago + (reach - windows * limit + 1) * answer)
    return longest


def _rates_in_use(rates: list[list], own: list[tuple[int, float]], now: float) -> list[list]:
    """The rates ([limit, window, last asked]) of the processes sharing the file that asked within their own window
    and SHARED_LOG_KEEPS, this one's (`own`, each limit it keeps to) as asking now; one entry per rate. A rate not
    asked with for longer is a run that has ended, or one waiting for its own budget: a gentle one (a one-off export's
    30/600) held every later run to it for as long as its window. Register's limit still holds: whoever sends keeps to
    its own rate and to those of the runs sending beside it, over every send of the last minute."""
    last_asked: dict[tuple[int, float], float] = {}
    for limit, window, asked in rates:
        asked = min(asked, now)  # a clock set back: asked now
        if now - asked < min(window, SHARED_LOG_KEEPS):
            last_asked[(limit, window)] = max(asked, last_asked.get((limit, window), asked))
    for rate in own:
        last_asked[rate] = now
    return [[limit, window, asked] for (limit, window), asked in last_asked.items()]


def _load_state(data: bytes) -> dict:
    """The shared file's state. Anything unreadable (a torn or foreign file, bytes that are not UTF-8) counts as an
    empty log, and an entry that is not a time or a rate (damaged) as none; a file of an earlier version, which names
    no rates, is a log of sends."""
    try:
        state = json.loads(data or b"{}")  # a UnicodeDecodeError is a ValueError
    except (ValueError, RecursionError):  # brackets nested too deep
        state = {}
    if not isinstance(state, dict):
        state = {}
    sent = [_time(t) for t in _entries(state.get("sent"))]
    rates = [_rate(r) for r in _entries(state.get("rates"))]
    return {
        "sent": [t for t in sent if t is not None],
        # A NaN pause (JSON as Python reads it) would never give way to a later one (max() keeps it).
        "blocked_until": _time(state.get("blocked_until")) or 0.0,
        "rates": [r for r in rates if r is not None],
    }


def _entries(value: object) -> list:
    return value if isinstance(value, list) else []


def _time(value: object) -> float | None:
    """A finite number as a float (not a bool, which JSON's reader gives as one); else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:  # an integer of hundreds of digits
        return None
    return number if math.isfinite(number) else None


def _rate(value: object) -> list | None:
    """[limit, window, last asked] of another process's rate: at most HIGHEST_SHARED_LIMIT requests and
    LONGEST_SHARED_WINDOW seconds (a file naming more would keep every send for good); None if it is not one."""
    if not isinstance(value, list) or len(value) != 3:
        return None
    limit, window, asked = (_time(v) for v in value)
    if limit is None or window is None or asked is None or limit < 1 or limit != int(limit) or window <= 0:
        return None
    return [min(int(limit), HIGHEST_SHARED_LIMIT), min(window, LONGEST_SHARED_WINDOW), asked]
