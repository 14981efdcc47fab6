"""Register's rate limit (register-api.md §1.3): rack-attack's fixed window, aligned to the epoch, per client IP.

Every request whose path starts with `/api` counts, whatever its outcome, throttled ones included (rack-attack
increments the counter before it compares). The (N+1)th request inside one window gets 429 until the window ends.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

DEFAULT_RATE_LIMIT = (100, 60.0)


def parse_rate_limit(text: str) -> tuple[int, float] | None:
    """`N/SECONDS` -> (N, SECONDS), `N` alone being N a minute (as sync's `--rate` reads it); `0` (or `0/…`) switches
    the limit off and gives None."""
    value = str(text).strip()
    count_text, _, period_text = value.partition("/")
    try:
        count = int(count_text)
        period = float(period_text) if period_text else DEFAULT_RATE_LIMIT[1]
    except ValueError:
        raise ValueError(f"rate limit {text!r} is not N/SECONDS, e.g. 100/60 (or 0 to switch it off)") from None
    if count == 0:
        return None
    if count < 0 or not period > 0 or not math.isfinite(period):
        raise ValueError(f"rate limit {text!r} needs a positive count and a positive number of seconds")
    return count, period


class FixedWindowLimiter:
    """Counts requests per key in windows `floor(now / period)`; `hit` answers the Retry-After when throttled."""

    def __init__(self, limit: int, period: float, clock: Callable[[], float] = time.time):
        self.limit = limit
        self.period = period
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str) -> int | None:
        """Count one request; None when allowed, else the seconds to the window's end (1..period, rounded up).

        Equal to rack-attack's `period - (now.to_i % period)` for whole-second periods.
        """
        now = self.clock()
        window = math.floor(now / self.period)
        with self._lock:
            current, count = self._windows.get(key, (window, 0))
            count = count + 1 if current == window else 1
            self._windows[key] = (window, count)
            if len(self._windows) > 10_000:  # forget clients of past windows
                self._windows = {k: v for k, v in self._windows.items() if v[0] == window}
        if count <= self.limit:
            return None
        return max(1, math.ceil((window + 1) * self.period - now))

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()
