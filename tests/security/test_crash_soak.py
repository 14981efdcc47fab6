"""Crash and resume soak (issue 7): `sync` killed with SIGKILL at 20 random points, with and without server
faults, resumed each time; in the end every trainee is in Register exactly once, nothing is missing, and
the ledger agrees with Register.

Each scenario runs the real command line in a child process against an in-process emulator (so the kill
is a real SIGKILL of a real sync, and the emulator survives it). The kill points are drawn from a seeded
random generator: after the server has received k more writes (the kill then lands before, while or after
the write is carried out), after k more requests of any kind (the listing), or after a random delay
(start-up, validation, the ledger's creation). Those land where the timing puts them; so that the window
that matters is hit whatever the machine's load, five of the kills (three while creating) hold the reply to
the sync's k-th write once Register has carried it out, and kill the sync meanwhile: the lost-reply window by
construction, checked after each such kill (Register has the write, the ledger has not recorded it). The
first half of the kills hit a run that creates trainees, the second half a run that updates all of them (a
changed extract).
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest

from cli_runs import sync_command
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from trainee_extracts import trainee, write_extract

AS_OF = date(2026, 11, 28)
TOKEN = "soak-test-token-0001"
TRAINEES = 80
KILLS = 20
FAULTS = "500:0.04,reset:0.03,timeout:0.02,lost-response:0.06"
HELD_REPLY_KILLS = (1, 4, 7, 12, 16)  # kills in the lost-reply window by construction (1, 4 and 7 in creates)
UNSETTLED = ("in_flight", "unknown")  # a ledger status that makes the next run look in Register first


def extract_rows(version: int) -> list[dict]:
    rows = [trainee(n) for n in range(1, TRAINEES + 1)]
    if version == 2:  # every trainee changes: the resumed runs must update, never create
        for row in rows:
            row["email"] = row["email"].replace("@", ".v2@")
    return rows


def command(source: Path, emulator, tmp_path: Path) -> list[str]:
    return sync_command(
        source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat(), "--timeout", "1"
    )


def _requests(emulator, *, writes: bool) -> int:
    by_route = emulator.snapshot()["requests"]["by_route"]
    return sum(n for route, n in by_route.items() if not writes or not route.startswith("GET"))


class ReplyHold:
    """Holds the emulator's reply to the running sync's k-th trainee write (a create or an update) once Register
    has carried it out, until the test has killed the sync: the write is done, its reply never arrives.

    Only writes that reached the emulator during the current run count: one that a killed run sent, held back by a
    `timeout` fault, can be carried out while the next run is going, and is not this run's to hold.
    """

    ROUTES = ("POST /trainees", "PUT /trainees/{trainee_id}")

    def __init__(self, emulator, monkeypatch: pytest.MonkeyPatch):
        self._lock = threading.Lock()
        self._arrived = threading.local()  # per connection (one thread each): the run its current request came in
        self._run = 0
        self._left = 0
        self.held = threading.Event()
        self.release = threading.Event()
        self.written: dict | None = None  # the trainee as the held write left it, and the route
        count, handle = emulator.stats.request, emulator.app.handle

        def counted(route: str) -> None:  # called as each request arrives, before the latency and any fault
            self._arrived.run = self._run
            if self.held.is_set():  # however slow the kill, a sync that gave up waiting cannot look meanwhile
                self.release.wait(30)
            count(route)

        def handled(request, resolved=None):
            response = handle(request, resolved)
            if self._hold(resolved, response):
                self.release.wait(30)
            return response

        monkeypatch.setattr(emulator.stats, "request", counted)
        monkeypatch.setattr(emulator.app, "handle", handled)

    def next_run(self) -> None:
        """A new sync is about to start (the previous one is dead): requests from now on are its."""
        with self._lock:
            self._run += 1

    def arm(self, k: int) -> None:
        with self._lock:
            self._left, self.written = k, None
            self.held.clear()
            self.release.clear()

    def disarm(self) -> None:
        with self._lock:
            self._left = 0
        self.release.set()

    def _hold(self, resolved, response) -> bool:
        if resolved is None or resolved.key not in self.ROUTES or not 200 <= response.status < 300:
            return False
        with self._lock:
            if not self._left or getattr(self._arrived, "run", None) != self._run:
                return False
            self._left -= 1
            if self._left:
                return False
            self.written = {**response.payload["data"], "route": resolved.key}
        self.held.set()
        return True


def kill_held(process: subprocess.Popen, hold: ReplyHold, rng: random.Random) -> str:
    """SIGKILL the sync while Register's reply to its k-th write (carried out) is held back; returns where."""
    k = rng.randint(1, 10)
    hold.arm(k)
    deadline = time.monotonic() + 30
    try:
        while not hold.held.wait(0.005) and process.poll() is None:
            assert time.monotonic() < deadline, "the sync made no progress"
        where = f"with write {k} carried out and its reply held"
        if hold.held.is_set() and process.poll() is None:
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            return where
    finally:
        hold.disarm()  # the held reply goes to a dead client
    hold.written = None
    return where + " (it had already finished)"


def kill_after(process: subprocess.Popen, emulator, rng: random.Random) -> str:
    """SIGKILL the sync at a random point; returns where (for the failure message)."""
    draw = rng.random()
    if draw < 0.25:
        delay = rng.uniform(0.05, 0.75)  # start-up and validation: about 0.5 s idle, up to 2 s on a loaded machine
        deadline = time.monotonic() + delay
        while time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.005)
        where = f"after {delay:.2f} s"
    else:
        writes = draw >= 0.4  # mostly writes: the window that matters is a write's
        k = rng.randint(1, 10) if writes else rng.randint(1, 3)
        start = _requests(emulator, writes=writes)
        deadline = time.monotonic() + 30
        while _requests(emulator, writes=writes) < start + k and process.poll() is None:
            assert time.monotonic() < deadline, "the sync made no progress"
            time.sleep(0.002)
        time.sleep(rng.uniform(0, 0.02))  # before, during or after the server's work on request k
        where = f"after {k} {'writes' if writes else 'requests'}"
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
        process.wait(10)
        return where
    return where + " (it had already finished)"


def listing(emulator) -> list[dict]:
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=30) as client:
        return list(client.iter_trainees(academic_cycle=2025, per_page=1000))


def ledger_rows(state: Path) -> list[tuple]:
    """The ledger's records. A sync killed while it created the ledger leaves the file without its tables (the
    next run adds them): no records yet."""
    with closing(sqlite3.connect(f"file:{state / 'ledger.sqlite3'}?mode=ro", uri=True)) as db:
        if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'records'").fetchone() is None:
            return []
        return db.execute("SELECT key, hesa_id, trainee_id, status FROM records").fetchall()


@pytest.mark.slow
@pytest.mark.parametrize("faults", [None, FAULTS], ids=["no-faults", "faults"])
def test_sigkill_at_20_random_points_loses_and_duplicates_nothing(tmp_path, monkeypatch, faults):
    rng = random.Random(20261128 + (1 if faults else 0))
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN}
    sources = {v: write_extract(tmp_path / f"extract-v{v}.csv", extract_rows(v)) for v in (1, 2)}
    kills: list[str] = []
    lost_replies: set[str] = set()  # HUSIDs of creates carried out by Register and never recorded by the sync
    with start_emulator(
        tokens=[TOKEN], rate_limit=None, as_of=AS_OF, latency_ms=15, faults=faults, seed=5, fault_hold=1.5
    ) as emulator:
        hold = ReplyHold(emulator, monkeypatch)
        for index in range(KILLS):
            version = 1 if index < KILLS // 2 else 2
            hold.next_run()
            process = subprocess.Popen(
                command(sources[version], emulator, tmp_path),
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            if index in HELD_REPLY_KILLS:
                kills.append(f"v{version} " + kill_held(process, hold, rng))
            else:
                kills.append(f"v{version} " + kill_after(process, emulator, rng))
            if process.returncode not in (-signal.SIGKILL, 0, 1, 3):
                pytest.fail(f"sync exited {process.returncode}: {process.stderr.read().decode()[-2000:]}")
            process.stderr.close()
            held = hold.written if index in HELD_REPLY_KILLS else None
            if held or (tmp_path / "state" / "ledger.sqlite3").exists():
                time.sleep(0.05)  # let the server finish what the dead client sent
                in_register = {t["hesa_id"]: t for t in listing(emulator)}
                rows = {h: (t, s) for _k, h, t, s in ledger_rows(tmp_path / "state")}
                lost_replies.update(h for h, (t, s) in rows.items() if s in UNSETTLED and not t and h in in_register)
                if held:  # the held write is in Register, and the ledger still says to look there before writing
                    trainee_id, status = rows.get(held["hesa_id"], (None, None))
                    created = held["route"] == "POST /trainees"
                    assert in_register.get(held["hesa_id"], {}).get("email") == held["email"], (kills, held)
                    assert status in UNSETTLED and not (created and trainee_id), (kills, held, status, trainee_id)
        assert sum("already finished" not in k for k in kills) >= KILLS - 2, kills
        # The kills must land where it matters: a create carried out by Register whose reply the sync never got.
        assert len(lost_replies) >= 2, f"only {len(lost_replies)} creates done but unrecorded: {kills}"
        # Resume until done (faults may leave some outcomes unknown for a run; each rerun resolves them). A create a
        # killed v1 run sent unanswered, of a record whose email v2 corrects, is waited for: Register's 409 would not
        # refuse a second one (runner.UNANSWERED_CREATE_WAIT). The run says until when; the test lets that pass.
        waited = 0
        for _attempt in range(8):
            done = subprocess.run(command(sources[2], emulator, tmp_path), env=env, capture_output=True, text=True)
            assert done.returncode in (0, 3), done.stdout + done.stderr
            assert "Traceback" not in done.stderr
            if done.returncode == 0:
                break
            if re.search(r"unknown \(run the same sync again after [0-9]{2}:[0-9]{2} UTC", done.stdout):
                waited += 1
                minutes_pass(tmp_path / "state", 11)
        assert waited <= 1, f"a wait came back after it had passed: {kills}"
        assert done.returncode == 0, (kills, done.stdout, done.stderr)
        injected = emulator.snapshot()["requests"]["faults"]
        emulator.set_faults(None)
        held = listing(emulator)
        writes_before = _writes(emulator)
        again = subprocess.run(command(sources[2], emulator, tmp_path), env=env, capture_output=True, text=True)
        assert again.returncode == 0 and _writes(emulator) == writes_before, "a finished sync wrote again"
    if faults:
        assert sum(injected.values()) >= 5, f"the faults were not exercised: {injected}"

    wanted = {row["hesa_id"]: row for row in extract_rows(2)}
    per_hesa = Counter(t["hesa_id"] for t in held)
    assert set(per_hesa) == set(wanted), f"missing {set(wanted) - set(per_hesa)}, extra {set(per_hesa) - set(wanted)}"
    assert max(per_hesa.values()) == 1, f"duplicated: {[h for h, n in per_hesa.items() if n > 1]} ({kills})"
    assert all(t["email"] == wanted[t["hesa_id"]]["email"] for t in held), "an update was lost"

    rows = ledger_rows(tmp_path / "state")
    statuses = Counter(status for *_, status in rows)
    assert statuses == {"done": TRAINEES}, statuses  # no in_flight, unknown or failed rows left
    register_ids = {t["hesa_id"]: t["trainee_id"] for t in held}
    assert {hesa_id: trainee_id for _key, hesa_id, trainee_id, _status in rows} == register_ids
    assert {key for key, *_ in rows} == {f"hesa:{h}" for h in wanted}


def _writes(emulator) -> int:
    by_route = emulator.snapshot()["requests"]["by_route"]
    return sum(n for route, n in by_route.items() if not route.startswith("GET"))
