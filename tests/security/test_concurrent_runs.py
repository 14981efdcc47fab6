"""Concurrency (issue 7): a second `sync` on a state dir in use refuses at once, with a clear message and
without sending a request; processes behind one IP share one rate budget (by default towards a real service,
and towards any target when REGISTER_BATCH_RATE_DIR names a folder).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import pytest

from register_batch.api import RateLimiter, RegisterClient
from register_batch.api.limiter import shared_budget_file
from register_batch.emulator import start_emulator
from register_batch.sync.ledger import StateDirLock
from trainee_extracts import extract, trainee, write_extract

AS_OF = date(2026, 11, 28)
TOKEN = "concurrency-token-0001"


def sync_command(source: Path, state: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "register_batch", "-q", "sync", str(source), "--state-dir", str(state),
        "--as-of", AS_OF.isoformat(), "--report-dir", str(state.parent / f"reports-{state.name}"), *extra,
    ]  # fmt: skip


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "REGISTER_API_TOKEN": TOKEN, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": ""}


@pytest.fixture
def embedded_env(env) -> dict[str, str]:
    """For the embedded emulator: no token (one with no target is refused, as a user's is)."""
    return {k: v for k, v in env.items() if k != "REGISTER_API_TOKEN"}


def test_a_second_sync_on_a_busy_state_dir_refuses_without_a_request(tmp_path, env):
    """The first sync is stuck on its first request (the emulator holds the reply); the second one must
    not wait, must not send anything, and must say what to do."""
    source = extract(tmp_path / "in.csv", 5)
    state = tmp_path / "state"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, faults="timeout:1", fault_hold=30) as emulator:
        first = subprocess.Popen(
            sync_command(source, state, "--target", emulator.url, "--timeout", "60"),
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 30
            while emulator.snapshot()["requests"]["total"] < 1:
                assert first.poll() is None and time.monotonic() < deadline, first.communicate()
                time.sleep(0.01)
            started = time.monotonic()
            second = subprocess.run(
                sync_command(source, state, "--target", emulator.url),
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            took = time.monotonic() - started
            assert emulator.snapshot()["requests"]["total"] == 1, "the second sync sent a request"
        finally:
            first.kill()
            first.communicate()
    assert second.returncode == 2, second.stdout + second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in second.stderr
    assert "is in use by another run" in lines[0] and f"(sync, pid {first.pid} " in lines[0]
    assert "--state-dir" in lines[0] and took < 15


def test_the_embedded_emulator_state_dir_is_locked_too(tmp_path, embedded_env):
    """The embedded emulator's data is in the state dir: a second run is refused before it opens it. It started
    an emulator on the first run's database, and met "database is locked" (exit 70) when the first was stopped
    with Ctrl-Z in the middle of a write."""
    source = extract(tmp_path / "in.csv", 3)
    state = tmp_path / "state"
    export = [sys.executable, "-m", "register_batch", "export", "--to", "json", "-o", str(tmp_path / "held.json")]
    with StateDirLock(state, "export"):
        refused = subprocess.run(
            sync_command(source, state), env=embedded_env, capture_output=True, text=True, timeout=60
        )
        exported = subprocess.run(
            [*export, "--state-dir", str(state)], env=embedded_env, capture_output=True, text=True, timeout=60
        )
    for run in (refused, exported):
        assert run.returncode == 2 and "is in use by another run" in run.stderr
        assert f"(export, pid {os.getpid()} since " in run.stderr  # what holds it: it may not be a sync
    assert not (state / "ledger.sqlite3").exists(), "the refused run touched the ledger"
    assert not (state / "register").exists(), "the refused run opened the embedded emulator's data"
    done = subprocess.run(sync_command(source, state), env=embedded_env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr  # the lock went with its holder


def test_a_second_state_dir_writing_for_the_same_provider_is_refused_without_a_request(tmp_path, env):
    """A cron job's sync and one started by hand in another folder (another state dir) for the same provider: the
    state dir's lock does not see it, and both would add the same missing placement (Register has no duplicate
    check for placements). The second is refused, exit 2, one line naming the other run's state dir; a dry run is
    not held up, nor a sync for another provider through the same budget."""
    from register_batch.api.client import resolve_target
    from register_batch.sync.ledger import ProviderLock

    budget = tmp_path / "budget"
    run_env = {**env, "REGISTER_BATCH_RATE_DIR": str(budget)}  # the emulator is on this machine: say to share
    source = extract(tmp_path / "in.csv", 3)
    other_token = "concurrency-token-0002"
    with start_emulator(tokens=[TOKEN, other_token], rate_limit=None, as_of=AS_OF) as emulator:

        def sync(state: str, *extra: str, token: str = TOKEN) -> subprocess.CompletedProcess[str]:
            command = sync_command(source, tmp_path / state, "--target", emulator.url, *extra)
            return subprocess.run(
                command, env={**run_env, "REGISTER_API_TOKEN": token}, capture_output=True, text=True, timeout=60
            )

        cron_state = tmp_path / "cron-state"
        with ProviderLock(budget, resolve_target(emulator.url), TOKEN, cron_state):
            refused = sync("by-hand")
            assert emulator.snapshot()["requests"]["total"] == 0, "the refused sync sent a request"
            assert not (tmp_path / "by-hand" / "ledger.sqlite3").exists(), "the refused sync started a ledger"
            dry = sync("by-hand", "--dry-run")
            other = sync("other-provider", token=other_token)
        after = sync("by-hand")
        held = emulator.snapshot()["trainees"]
    assert refused.returncode == 2, refused.stdout + refused.stderr
    [line] = refused.stderr.strip().splitlines()
    assert "another sync is writing to" in line and f"state dir {cron_state})" in line and "Nothing was sent" in line
    assert TOKEN not in refused.stdout + refused.stderr
    assert dry.returncode == 0 and "would create 3" in dry.stdout, dry.stdout + dry.stderr
    assert other.returncode == 0 and "3 created" in other.stdout, other.stdout + other.stderr
    assert after.returncode == 0 and "3 created" in after.stdout, after.stdout + after.stderr
    assert held == 6  # three trainees for each provider, none twice


def test_two_first_runs_at_once_agree_on_the_embedded_emulators_token(tmp_path, monkeypatch):
    """The embedded emulator's provider is its token: two first runs that both find no token file each make one,
    but only the first linked into place counts; the second reads it, never replaces it."""
    from register_batch.sync.target import embedded_token_in

    folder = tmp_path / "embedded"
    folder.mkdir()
    first = embedded_token_in(folder)
    real_exists = Path.exists
    monkeypatch.setattr(Path, "exists", lambda self: False if self.name == "token" else real_exists(self))
    second = embedded_token_in(folder)  # as if it had looked before the first run wrote its token
    assert second == first and first.startswith("embedded_")
    assert sorted(p.name for p in folder.iterdir()) == ["token"]  # no candidate left behind
    assert (folder / "token").stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("damage", ["\ufeffembedded_0123\r\n", "embedded 0123\n", ""])
def test_a_damaged_embedded_emulator_token_is_one_line_naming_its_file(tmp_path, embedded_env, damage):
    """The embedded emulator's token file saved again by an editor (a byte order mark, a space) or emptied: one line
    naming the file, exit 2, nothing sent, as for its damaged database. The emulator now refuses such a token, which
    was an internal error (exit 70)."""
    source = extract(tmp_path / "in.csv", 3)
    state = tmp_path / "state"
    (state / "register").mkdir(parents=True, mode=0o700)
    (state / "register" / "token").write_text(damage, encoding="utf-8")
    run = subprocess.run(sync_command(source, state), env=embedded_env, capture_output=True, text=True, timeout=60)
    assert run.returncode == 2, run.stderr
    assert "internal error" not in run.stderr and str(state / "register" / "token") in run.stderr
    assert not (state / "ledger.sqlite3").exists()


@pytest.mark.slow
@pytest.mark.parametrize("sharing", ["shared", "off"])
def test_two_state_dirs_behind_one_ip_share_one_budget(tmp_path, env, sharing):
    """Two providers' syncs, two state dirs, one emulator enforcing Register's per-IP fixed window (15 per 2 s
    here). Each sync paces itself at 14/2, one under the limit as the default 95/60 is five under Register's 100/60
    (at 15/2 exactly, a request recorded as sent at the end of one window and counted by the server in the next,
    delayed on a loaded machine, drew a 429): with the shared budget the server never answers 429; with sharing off
    (the control) the two together trip it."""
    run_env = {**env, "REGISTER_BATCH_RATE_DIR": str(tmp_path / "budget") if sharing == "shared" else "off"}
    sources = [
        write_extract(tmp_path / f"in-{side}.csv", [trainee(n) for n in range(start, start + 14)])
        for side, start in (("a", 1), ("b", 101))
    ]
    tokens = [TOKEN, "concurrency-token-0002"]  # one writing sync per provider at a time (ProviderLock)
    with start_emulator(tokens=tokens, rate_limit=(15, 2.0), as_of=AS_OF) as emulator:
        processes = [
            subprocess.Popen(
                sync_command(source, tmp_path / f"state-{n}", "--target", emulator.url, "--rate", "14/2"),
                env={**run_env, "REGISTER_API_TOKEN": tokens[n]},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for n, source in enumerate(sources)
        ]
        outputs = [p.communicate(timeout=120) for p in processes]
        snapshot = emulator.snapshot()
    counts = snapshot["requests"]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert snapshot["trainees"] == 28
    throttled = counts["by_status"].get("429", 0)
    if sharing == "shared":
        assert throttled == 0, counts
        assert any((tmp_path / "budget").glob("rate-*.json"))
    else:
        assert throttled > 0, f"the control run did not trip the limit, so the shared run proves nothing: {counts}"


def test_towards_a_real_service_the_budget_is_shared_by_default(tmp_path):
    """Two clients (as two processes would) towards one https host share one send log in the user's cache folder,
    without any setting; the emulator on this machine does not, unless REGISTER_BATCH_RATE_DIR says so. A login
    session's runtime dir makes no difference: cron and systemd have none, and a sync started by hand in a session
    used to keep its budget (and its provider lock) there, unseen by the nightly job's."""
    runtime = tmp_path / "run"
    runtime.mkdir()
    (tmp_path / "home").mkdir()
    (tmp_path / "h").mkdir()
    environ = {"XDG_RUNTIME_DIR": str(runtime), "HOME": str(tmp_path / "home"), "XDG_CACHE_HOME": ""}
    path = shared_budget_file("register.example", loopback=False, environ=environ)
    assert path == tmp_path / "home" / ".cache" / "register-batch" / "rate-register.example.json"
    assert shared_budget_file("register.example", loopback=False, environ={"HOME": str(tmp_path / "home")}) == path
    assert shared_budget_file("127.0.0.1", loopback=True, environ=environ) is None
    assert shared_budget_file("127.0.0.1", loopback=True, environ={"REGISTER_BATCH_RATE_DIR": str(tmp_path)}) == (
        tmp_path / "rate-loopback.json"
    )
    assert shared_budget_file("register.example", loopback=False, environ={"REGISTER_BATCH_RATE_DIR": "off"}) is None
    home_only = shared_budget_file("h.example", loopback=False, environ={"HOME": str(tmp_path / "h")})
    assert home_only == tmp_path / "h" / ".cache" / "register-batch" / "rate-h.example.json"

    clock = [1_000_000.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"status": "ok"}))
    old = dict(os.environ)
    os.environ.update(environ)
    try:
        clients = [
            RegisterClient(
                "https://register.example",
                TOKEN,
                limiter=RateLimiter(3, 60, clock=lambda: clock[0], sleep=sleep),
                transport=transport,
            )
            for _ in range(2)
        ]
    finally:
        os.environ.clear()
        os.environ.update(old)
    assert [c.limiter.shared_file for c in clients] == [path, path]
    for _ in range(3):
        clients[0].info()
    assert slept == []
    clients[1].info()  # the other "process" finds the 60-second budget spent
    assert slept and 59 < sum(slept) < 62
    assert (path.stat().st_mode & 0o777) == 0o600 and (path.parent.stat().st_mode & 0o777) == 0o700
    for client in clients:
        client.close()


def test_no_home_folder_for_the_budget_file_keeps_a_private_budget(no_home, caplog):
    """No runtime dir, no HOME and no home folder in the user database (an arbitrary uid): the client raised
    RuntimeError before its first request. It keeps its own budget and says so, as for any unusable file."""
    assert shared_budget_file("register.example", loopback=False, environ={}) is None
    assert "no home folder" in caplog.text and "keeps its own budget" in caplog.text


def test_an_unusable_budget_file_falls_back_to_a_private_budget(tmp_path, caplog):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    limiter = RateLimiter(2, 60, shared_file=blocker / "rate.json")
    assert limiter.shared_file is None and "cannot use" in caplog.text
    shared = tmp_path / "rate.json"
    shared.write_text('{"sent": "garbage", "blocked_until": "soon"}')  # a torn or foreign file
    limiter = RateLimiter(2, 60, shared_file=shared)
    limiter.acquire()
    limiter.acquire()
    assert limiter.shared_file == shared
    link = tmp_path / "link.json"
    target = tmp_path / "precious.txt"
    target.write_text("precious")
    link.symlink_to(target)
    limiter = RateLimiter(2, 60, shared_file=link)  # a link planted in a shared folder
    limiter.acquire()
    assert target.read_text() == "precious" and limiter.shared_file is None


@pytest.mark.parametrize("held_as", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_spellings_are_one_target_for_the_provider_lock_and_the_budget(tmp_path, env, held_as):
    """`localhost`, `127.0.0.1` and `::1` reach the same emulator on this machine: a sync to one while a sync with the
    same token writes to another is refused as for the same spelling, and they share one rate budget (review183 F4:
    `--target http://localhost:PORT` wrote while a run to 127.0.0.1 was writing, the two putting surnames back and
    forth). Only the key: each is contacted as given."""
    from register_batch.api.client import resolve_target
    from register_batch.sync.ledger import ProviderLock

    budget = tmp_path / "budget"
    run_env = {**env, "REGISTER_BATCH_RATE_DIR": str(budget)}
    source = extract(tmp_path / "in.csv", 3)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        port = httpx.URL(emulator.url).port
        held = resolve_target(f"http://{held_as}:{port}")
        with ProviderLock(budget, held, TOKEN, tmp_path / "cron-state"):
            refused = subprocess.run(
                sync_command(source, tmp_path / "by-hand", "--target", f"http://localhost:{port}"),
                env=run_env,
                capture_output=True,
                text=True,
                timeout=60,
            )
        sent = emulator.snapshot()["requests"]["total"]
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "another sync is writing to" in refused.stderr and sent == 0
    where = {"REGISTER_BATCH_RATE_DIR": str(budget)}
    files = {shared_budget_file(host, loopback=True, environ=where) for host in ("localhost", "127.0.0.1", "::1")}
    assert files == {budget / "rate-loopback.json"}
    assert (
        shared_budget_file("register.example", loopback=False, environ=where) == budget / "rate-register.example.json"
    )
