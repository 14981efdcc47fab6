"""What sits in front of Register while it is briefly down: a gateway's maintenance page with a Retry-After, for the
servers of stub_http.py (`fronting`); and a client whose creates meet the emulator's faults (`creates_failing`)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from register_batch.api import RateLimiter, RegisterClient
from stub_http import Answer, Seen


class Outage:
    """In front of the emulator: every request answered `status` with `Retry-After: 2` for `lasting` seconds from
    the first one so answered, once `begins()` says so; each request's time of arrival and the status it got, as the
    server saw them."""

    def __init__(self, status: int, lasting: float, begins: Callable[[Seen], bool] = lambda seen: True):
        self.status, self.lasting, self.begins = status, lasting, begins
        self.began: float | None = None
        self.log: list[tuple[float, str, int | None]] = []  # (arrived, "METHOD /path", status or None: forwarded)
        self._lock = threading.Lock()

    def __call__(self, seen: Seen, forward: Callable[[], Answer]) -> Answer | None:
        arrived = time.monotonic()
        with self._lock:
            if self.began is None and self.begins(seen):
                self.began = arrived
            down = self.began is not None and arrived - self.began < self.lasting
            self.log.append((arrived, f"{seen.method} {seen.path}", self.status if down else None))
        if down:
            return self.status, {"Content-Type": "text/html", "Retry-After": "2"}, b"<html>Back soon</html>"
        return None

    def gaps_after_refusals(self) -> list[float]:
        """The time from each request refused to the next request's arrival."""
        return [
            later[0] - earlier[0]
            for earlier, later in zip(self.log, self.log[1:], strict=False)
            if earlier[2] is not None
        ]


def creates_failing(emulator: Any, faults: list[str | None], token: str) -> RegisterClient:
    """A client whose every `POST /trainees` meets the emulator's fault `faults[n % len(faults)]` (the n-th create
    sent, from 0); every other request is answered as Register would."""

    class CreatesFailing(RegisterClient):
        sent = 0

        def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
            emulator.set_faults(faults[self.sent % len(faults)])
            self.sent += 1
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults(None)

    return CreatesFailing(emulator.url, token, limiter=RateLimiter(10_000, 1))
