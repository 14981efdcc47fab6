"""The sync tests' Register: the project's emulator on 127.0.0.1, synced to from one state dir per test."""

from __future__ import annotations

import contextlib
import json
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulated import SYNC_TESTS_TOKEN, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync import SyncResult, sync_files
from register_batch.sync.ledger import Ledger

AS_OF = date(2026, 11, 28)
TOKEN = SYNC_TESTS_TOKEN


class Register:
    """The emulator as a sync test sees it: run syncs, count the writes Register received, list its trainees."""

    def __init__(self, emulator: Any, tmp_path: Path, as_of: date = AS_OF):
        self.emulator = emulator
        self.tmp_path = tmp_path
        self.as_of = as_of  # the emulator's, and each sync's unless a test says otherwise
        self.runs = 0

    def sync(self, path: Path, **extra: Any) -> SyncResult:
        """One sync of `path` (every run shares the state dir); its reports go to reports-<n>/."""
        return self.sync_all([path], **extra)

    def sync_all(self, paths: list[Path], **extra: Any) -> SyncResult:
        """`sync` of several inputs in one run."""
        self.runs += 1
        options = sync_options(
            self.emulator,
            self.tmp_path,
            extra.pop("token", TOKEN),
            report_dir=self.tmp_path / f"reports-{self.runs}",
            **{"timeout": 5.0, "as_of": self.as_of, **extra},
        )
        return sync_files([str(path) for path in paths], options)

    def report(self) -> dict[str, Any]:
        """report.json of the last sync."""
        return json.loads((self.tmp_path / f"reports-{self.runs}" / "report.json").read_text())

    def writes(self) -> Counter:
        """Every write request Register has received so far, by route (the emulator's own count)."""
        routes = httpx.get(f"{self.emulator.url}/__emulator__/stats").json()["requests"]["by_route"]
        return Counter({route: n for route, n in routes.items() if not route.startswith("GET")})

    def client(self) -> RegisterClient:
        return RegisterClient(self.emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))

    def trainees(self, academic_cycle: int) -> list[dict[str, Any]]:
        with self.client() as client:
            return list(client.iter_trainees(academic_cycle=academic_cycle, per_page=1000))


@pytest.fixture
def closed_at_end():
    """`closed_at_end(client)`: a client the test lends to sync_files (which leaves it open: it is the caller's),
    closed when the test ends however it ends, not left with its connections to the garbage collector."""
    with contextlib.ExitStack() as stack:
        yield lambda client: stack.enter_context(contextlib.closing(client))


@pytest.fixture
def open_ledger():
    """`Ledger(state_dir, target)` for a test, closed when the test ends however it ends: a connection left to the
    garbage collector is a ResourceWarning in whichever later test collects it."""
    opened: list[Ledger] = []

    def open_(state_dir: Path, target: str) -> Ledger:
        opened.append(Ledger(state_dir, target))
        return opened[-1]

    yield open_
    for ledger in opened:
        ledger.close()


@pytest.fixture
def register(tmp_path, request):
    """Register as of AS_OF, or of the date a test gives (`@pytest.mark.parametrize("register", [day],
    indirect=True)`)."""
    as_of = getattr(request, "param", AS_OF)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=as_of, seed=7) as emulator:
        yield Register(emulator, tmp_path, as_of)


@pytest.fixture
def our_register(tmp_path):
    """Register as `register`, whose provider for the token has the UKPRN the sync tests' HESA records name
    (10052198): a run with that `ukprn` sends for the token's own provider, as a first load must to go on."""
    with start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None, as_of=AS_OF, seed=7) as emulator:
        yield Register(emulator, tmp_path)


@pytest.fixture
def two_providers():
    """An emulator that knows two providers' tokens (TOKEN_A for UKPRN_A, TOKEN_B for UKPRN_B of
    test_hosting_providers_review183): one machine hosting several providers' syncs."""
    from test_hosting_providers_review183 import AS_OF, TOKEN_A, TOKEN_B, UKPRN_A, UKPRN_B

    ukprns = {TOKEN_A: UKPRN_A, TOKEN_B: UKPRN_B}
    with start_emulator(
        tokens=[TOKEN_A, TOKEN_B], ukprns=ukprns, rate_limit=None, as_of=date.fromisoformat(AS_OF)
    ) as running:
        yield running
