"""A hang made a failure: a test of something that once waited for ever ends with an error instead."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator


class Hung(BaseException):
    """Raised in the main thread when a time limit expires. Not an OSError (as TimeoutError is) nor an Exception:
    code under test that takes an OSError for a peer gone, or reports any Exception, would swallow it and carry on."""


@contextlib.contextmanager
def time_limit(seconds: float) -> Iterator[None]:
    """Fail (Hung) instead of hanging; main thread only (SIGALRM)."""

    def expired(_signum: int, _frame: object) -> None:
        raise Hung(f"no answer within {seconds} s: a hang")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
