"""A sync meeting Register's maintenance page part-way, a 503 with `Retry-After` for a few seconds (review163 F2): it
waits as asked before each next request, rides the outage out and finishes (exit 0), each trainee created once. It
stopped before, its retries spent in about 6 s. Times are those at which the server in front of the emulator received
each request, not how fast this machine ran."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from emulated import AS_OF, sync_options
from outages import Outage
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync import sync_files
from stub_http import fronting
from trainee_extracts import extract

TOKEN = "unavailable-retry-after-sync-token"


@pytest.mark.parametrize("status", [503])
def test_a_sync_waits_out_a_maintenance_page_as_its_retry_after_asks_and_finishes(tmp_path, status):
    source = extract(tmp_path / "in.csv", 5)
    creates = [0]

    def after_two_creates(seen) -> bool:
        creates[0] += seen.method == "POST"
        return creates[0] == 3  # the third create, and every request for 5 s from it

    outage = Outage(status, lasting=5.0, begins=after_two_creates)
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7) as emulator,
        fronting(emulator.url, outage) as front,
    ):
        options = sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        result = sync_files([str(source)], options)
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            held = Counter(t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=1000))
        posts = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]["POST /trainees"]
    assert result.exit_code == 0 and result.outcomes == Counter(done=5), result.summary_line()
    assert len(held) == 5 and set(held.values()) == {1}
    # The create met the page (its outcome unknown: not sent again blindly), the look-up waited, met it again, and
    # waited again; then the look-up found no trainee and the create went again.
    refused = [entry for entry in outage.log if entry[2] is not None]
    assert refused[0][1] == "POST /api/v2026.1/trainees" and len(refused) >= 2, outage.log
    assert min(outage.gaps_after_refusals()) >= 2.0 - 0.05, outage.log
    assert posts == 5  # the create the page answered never reached Register
