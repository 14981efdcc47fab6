"""Client-side pacing under Register's per-IP limit (register-api.md §1.3, §10).

Register counts requests in fixed 60-second windows aligned to the epoch. A client that sends at most N
requests in *any* interval of the window's length (a sliding log) can never put N + 1 into one server
window, whatever the alignment; a small margin covers network jitter between the send time recorded here
and the arrival time the server sees.

With `shared_file`, every process that uses the same file (for example two state dirs behind one egress
IP) shares one budget: the send log lives in that file under an exclusive lock.
"""

from __future__ import annotations

import collections
import contextlib
import fcntl
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

_EPSILON = 1e-6  # seconds; float timestamps near 1.7e9 carry about this much rounding


class RateLimiter:
    """At most `limit` requests in any `period` seconds (plus `margin`), shared by a whole run."""

    def __init__(
        self,
        limit: int,
        period: float,
        *,
        margin: float | None = None,
        shared_file: Path | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        if limit < 1 or period <= 0:
            raise ValueError("a rate limit needs at least 1 request per positive period")
        self.limit = limit
        self.period = period
        self.margin = min(0.25, period * 0.02) if margin is None else margin
        self.shared_file = Path(shared_file) if shared_file else None
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sent: collections.deque[float] = collections.deque()
        self._blocked_until = 0.0
        self.waited = 0.0
        if self.shared_file:
            self.shared_file.parent.mkdir(parents=True, exist_ok=True)

    def acquire(self) -> None:
        """Block until one more request fits the budget, then count it as sent now."""
        while True:
            with self._lock:
                wait = self._shared_try() if self.shared_file else self._local_try()
            if wait <= 0:
                return
            self.waited += wait
            self._sleep(wait)

    def _window(self) -> float:
        return self.period + self.margin

    def _local_try(self) -> float:
        now = self._clock()
        if now < self._blocked_until:
            return self._blocked_until - now
        while self._sent and now - self._sent[0] >= self._window() - _EPSILON:
            self._sent.popleft()
        if len(self._sent) < self.limit:
            self._sent.append(now)
            return 0.0
        return self._sent[0] + self._window() - now

    def _shared_try(self) -> float:
        assert self.shared_file is not None
        fd = os.open(self.shared_file, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as fh:
                try:
                    state = json.loads(fh.read() or "{}")
                except ValueError:
                    state = {}
                now = self._clock()
                blocked = float(state.get("blocked_until", 0.0))
                if now < blocked:
                    return blocked - now
                sent = [t for t in state.get("sent", []) if now - t < self._window() - _EPSILON]
                wait = 0.0
                if len(sent) < self.limit:
                    sent.append(now)
                else:
                    wait = min(sent) + self._window() - now
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps({"sent": sent[-self.limit :], "blocked_until": blocked}))
                return wait
        finally:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def pause(self, seconds: float) -> None:
        """The server said 429 with Retry-After: nobody sends until the window it names has ended."""
        until = self._clock() + max(0.0, seconds)
        with self._lock:
            self._blocked_until = max(self._blocked_until, until)
            if self.shared_file:
                fd = os.open(self.shared_file, os.O_RDWR | os.O_CREAT, 0o600)
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX)
                    with os.fdopen(os.dup(fd), "r+", encoding="utf-8") as fh:
                        try:
                            state = json.loads(fh.read() or "{}")
                        except ValueError:
                            state = {}
                        state["blocked_until"] = max(float(state.get("blocked_until", 0.0)), until)
                        fh.seek(0)
                        fh.truncate()
                        fh.write(json.dumps(state))
                finally:
                    os.close(fd)
