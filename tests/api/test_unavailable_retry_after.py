"""A 502, 503 or 504 whose Retry-After says when to come back (a gateway or app service restarting during a deploy,
RFC 9110 §10.2.3): the client waits that long before the next request, as it does for a 429, within a bound, instead
of its usual backoff of about 6 s in all, after which the run stopped (review163 F2)."""

from __future__ import annotations

import pytest

from outages import Outage
from register_batch.api import RateLimiter, RegisterClient, ServerError
from register_batch.api.limiter import LONGEST_UNAVAILABLE_PAUSE
from register_batch.emulator import start_emulator
from stub_http import answering, fronting

TOKEN = "unavailable-retry-after-token"


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_read_answered_unavailable_with_retry_after_waits_that_long_then_succeeds(status):
    outage = Outage(status, lasting=3.0)
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None) as emulator,
        fronting(emulator.url, outage) as front,
        RegisterClient(front.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
    ):
        assert client.info()["status"] == "ok"
    refused = [entry for entry in outage.log if entry[2] is not None]
    assert len(refused) == 2 and outage.log[-1][2] is None, outage.log  # at 0 s and 2 s; answered at 4 s
    assert min(outage.gaps_after_refusals()) >= 2.0 - 0.05, outage.log


def _paused_for(header: str, **client_options) -> float:
    """How long the client's budget held it back after a 503 with `header` as its Retry-After and one more try, by a
    clock of the test's own (no real wait)."""
    now = [1_000_000.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(10_000, 1, clock=lambda: now[0], sleep=sleep)
    with (
        answering(503, b"<html>Down</html>", {"Content-Type": "text/html", "Retry-After": header}) as url,
        RegisterClient(url, TOKEN, limiter=limiter, attempts=2, **client_options) as client,
        pytest.raises(ServerError),
    ):
        client.info()
    return limiter.waited


@pytest.mark.parametrize("header", ["86400", "inf", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_retry_after_of_an_unavailable_service_is_waited_at_most_the_bound(header):
    """A gateway asking for a day (or forever): at most LONGEST_UNAVAILABLE_PAUSE (120 s), then the usual ending."""
    assert _paused_for(header) == pytest.approx(LONGEST_UNAVAILABLE_PAUSE)


def test_a_retry_after_of_an_unavailable_service_is_waited_no_longer_than_the_clients_retry_timeout():
    """A client told to give up retrying after 30 s does not wait 120 s for one retry."""
    assert _paused_for("100", retry_timeout=30.0) == pytest.approx(30.0)
