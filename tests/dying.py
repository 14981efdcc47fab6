"""A sync whose process dies part-way, as a SIGKILL or a power cut leaves it: the ledger as it was, no report."""

from __future__ import annotations

from register_batch.api import RateLimiter, RegisterClient


class Died(BaseException):
    """The process ended there (not an exception the sync could catch and report)."""


def dying_client(url: str, token: str, write: int, *, after: bool = False) -> RegisterClient:
    """A client whose process dies at its `write`-th write request: before it is sent, or after Register answered."""

    class Dying(RegisterClient):
        writes = 0

        def _once(self, method, path, route, body, params, auth, expect=None):
            if method != "GET":
                Dying.writes += 1
                if Dying.writes == write and not after:
                    raise Died()
            answer = super()._once(method, path, route, body, params, auth, expect)
            if method != "GET" and Dying.writes == write:
                raise Died()
            return answer

    return Dying(url, token, limiter=RateLimiter(100_000, 1), timeout=5.0)
