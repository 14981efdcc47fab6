"""The provider lock when the rate budget's folder cannot be used (review60 F1): a missing or read-only home folder,
an unusable REGISTER_BATCH_RATE_DIR. The budget is then this run's own, and the lock that keeps two state dirs from
writing for one provider at once went with it, without a word: two syncs both added every new placement
(Register has no duplicate check for placements, register-api.md §2.11). The lock is now taken in a folder of this
user's in the temporary folder (`register-batch-<uid>`), said in the budget's warning line; one that cannot be used
there either is said too.

Real processes against the emulator on 127.0.0.1; the first sync's first placement is held open by a server in front
of it (never a sleep) while the second runs."""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync.ledger import ProviderBusy, ProviderLock, fallback_lock_folder
from stub_http import fronting
from trainee_extracts import trainee, write_extract

AS_OF = date(2026, 11, 28)
TOKEN = "lock-fallback-token-0001"
UID = os.geteuid() if hasattr(os, "geteuid") else "user"
LOCK_SAID = "the lock that keeps other syncs for this provider from writing at the same time is in"
ALONE = "this run relies on its state dir's lock alone"


def sync_command(source: Path, target: str, state: Path, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "register_batch", "-q", "sync", str(source), "--target", target,
        "--state-dir", str(state), "--report-dir", str(state.parent / f"reports-{state.name}"),
        "--as-of", AS_OF.isoformat(), "--rate", "1000/1", *extra,
    ]  # fmt: skip


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    """A REGISTER_BATCH_RATE_DIR that cannot be made (a file is on its way), as a read-only or missing home folder
    leaves the default one; a temporary folder of the test's own."""
    (tmp_path / "a-file").write_text("")
    (tmp_path / "tmp").mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {
        **clean,
        "REGISTER_API_TOKEN": TOKEN,
        "HOME": str(tmp_path / "home"),
        "REGISTER_BATCH_RATE_DIR": str(tmp_path / "a-file" / "rates"),
        "TMPDIR": str(tmp_path / "tmp"),
    }


def placements_held(url: str) -> Counter[tuple[str, str]]:
    """How many times each trainee (by HUSID) holds each placement URN."""
    with RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), share_budget=False) as client:
        return Counter(
            (str(t["hesa_id"]), str(p.get("urn")))
            for t in client.iter_trainees(academic_cycle=2025, per_page=1000)
            for p in t.get("placements") or []
        )


def test_two_syncs_from_two_state_dirs_whose_budget_folder_fails_still_keep_to_one_writer(tmp_path, env):
    """The first sync is adding the new placements (its first POST held open); a second one from another state dir
    is refused (exit 2, nothing sent) instead of adding every one of them again."""
    rows = [{**trainee(n), "placement_2_urn": ""} for n in range(1, 4)]
    first_extract = write_extract(tmp_path / "first.csv", rows)
    source = write_extract(
        tmp_path / "in.csv", [{**row, "placement_2_urn": f"{200000 + n}"} for n, row in enumerate(rows)]
    )
    held_open = threading.Event()
    release = threading.Event()

    def hold_the_first_placement(seen, forward):
        if seen.method == "POST" and seen.path.endswith("/placements") and not held_open.is_set():
            held_open.set()
            release.wait(60)
        return None

    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, hold_the_first_placement) as front,
    ):
        setup = subprocess.run(
            sync_command(first_extract, front.url, tmp_path / "state-0"),
            env={**env, "REGISTER_BATCH_RATE_DIR": "off"},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert setup.returncode == 0, setup.stderr
        before = emulator.snapshot()["requests"]["total"]
        first = subprocess.Popen(
            sync_command(source, front.url, tmp_path / "cron"), env=env, stderr=subprocess.PIPE, text=True
        )
        try:
            deadline = time.monotonic() + 60
            while not held_open.is_set():
                assert first.poll() is None and time.monotonic() < deadline, first.communicate()
                time.sleep(0.01)
            sent = emulator.snapshot()["requests"]["total"]
            second = subprocess.run(
                sync_command(source, front.url, tmp_path / "by-hand"),
                env=env,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert emulator.snapshot()["requests"]["total"] == sent, "the refused sync sent a request"
        finally:
            release.set()
            _out, first_errors = first.communicate(timeout=120)
        placements = placements_held(emulator.url)
        posts = emulator.snapshot()["requests"]["by_route"].get("POST /trainees/{trainee_id}/placements", 0)
    assert before > 0 and first.returncode == 0, first_errors
    folder = tmp_path / "tmp" / f"register-batch-{UID}"
    said = f"this run keeps its own budget; {LOCK_SAID} {folder} instead"
    assert said in first_errors, first_errors
    assert second.returncode == 2, second.stdout + second.stderr
    warning, error = second.stderr.strip().splitlines()
    assert said in warning
    assert "another sync is writing to" in error and f"state dir {tmp_path / 'cron'})" in error
    assert "Nothing was sent" in error and TOKEN not in second.stderr
    assert posts == 3 and set(placements.values()) == {1}, (posts, placements)  # each new placement added once
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert [stat.S_IMODE(f.stat().st_mode) for f in folder.iterdir()] == [0o600]


def test_rate_dir_off_keeps_no_provider_lock_as_documented(tmp_path, env):
    """`off`: each run keeps its own budget and takes no provider lock (security.md "Two runs at once"), without a
    warning and without a folder made for it."""
    source = write_extract(tmp_path / "in.csv", [trainee(1)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        done = subprocess.run(
            sync_command(source, emulator.url, tmp_path / "state"),
            env={**env, "REGISTER_BATCH_RATE_DIR": "off"},
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert list((tmp_path / "tmp").iterdir()) == []


def lock_in(fallback: Path, state: str, tmp_path: Path, note: str | None = None) -> ProviderLock:
    return ProviderLock(None, "https://register.example", TOKEN, tmp_path / state, fallback=fallback, note=note)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="gives a folder to another user: root only")
def test_a_fallback_folder_another_user_made_first_is_not_used(tmp_path, caplog):
    """In /tmp anyone may make `register-batch-<uid>` first, to hold the lock or see it: it is not used, and the run
    says that it has its state dir's lock alone, after the budget's own warning."""
    planted = tmp_path / f"register-batch-{UID}"
    planted.mkdir(mode=0o777)
    os.chown(planted, 65534, 65534)
    with (
        caplog.at_level(logging.WARNING),
        lock_in(planted, "s", tmp_path, note="budget: this run keeps its own budget"),
    ):
        pass
    assert "budget: this run keeps its own budget\n" in caplog.text + "\n"
    assert f"{planted / 'sync-'}" in caplog.text and "another user's folder (uid 65534)" in caplog.text
    assert ALONE in caplog.text and list(planted.iterdir()) == []


def test_a_link_or_a_file_at_the_fallback_folder_is_not_used(tmp_path, caplog):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "linked"
    link.symlink_to(elsewhere)
    a_file = tmp_path / "a-file"
    a_file.write_text("")
    with caplog.at_level(logging.WARNING):
        for planted in (link, a_file):
            with lock_in(planted, "s", tmp_path):
                pass
    assert "it is a symbolic link" in caplog.text and "it is not a folder" in caplog.text
    assert caplog.text.count(ALONE) == 2 and list(elsewhere.iterdir()) == []


def test_the_fallback_folder_is_made_owner_only_and_one_of_ours_left_wider_is_tightened(tmp_path, caplog):
    fallback = tmp_path / "made"
    with caplog.at_level(logging.WARNING), lock_in(fallback, "cron", tmp_path) as held:
        assert stat.S_IMODE(fallback.stat().st_mode) == 0o700 and held.path.parent == fallback
        with pytest.raises(ProviderBusy, match=r"^another sync is writing to https://register\.example "):
            lock_in(fallback, "by-hand", tmp_path).acquire()
    assert f"the rate budget is not shared with other register-batch processes; {LOCK_SAID} {fallback} instead" in (
        caplog.text
    )
    os.chmod(fallback, 0o777)
    with lock_in(fallback, "again", tmp_path):
        assert stat.S_IMODE(fallback.stat().st_mode) == 0o700


def test_the_fallback_folder_is_this_users_in_the_temporary_folder(tmp_path, monkeypatch):
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    assert fallback_lock_folder() == tmp_path / f"register-batch-{UID}"


def test_a_lent_client_whose_budget_file_failed_keeps_its_lock_in_the_fallback_folder(tmp_path, monkeypatch, caplog):
    """A library caller's client (`sync_files(client=)`) whose `shared_file` could not be used: its budget is its
    own, said when it was made, and the sync's provider lock is in the fallback folder, where another run holds it."""
    import tempfile

    from emulated import sync_options
    from register_batch.api.client import resolve_target
    from register_batch.sync import sync_files

    monkeypatch.delenv("REGISTER_BATCH_RATE_DIR", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    (tmp_path / "a-file").write_text("")
    source = write_extract(tmp_path / "in.csv", [trainee(1)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        limiter = RateLimiter(10_000, 1, shared_file=tmp_path / "a-file" / "rate.json")
        assert limiter.shared_file is None and limiter.unshared is not None
        fallback = tmp_path / f"register-batch-{UID}"
        with (
            RegisterClient(emulator.url, TOKEN, limiter=limiter) as client,
            caplog.at_level(logging.WARNING, logger="register_batch"),
        ):
            with ProviderLock(None, resolve_target(emulator.url), TOKEN, tmp_path / "cron", fallback=fallback):
                with pytest.raises(ProviderBusy, match=rf"state dir {tmp_path / 'cron'}\)"):
                    sync_files([source], sync_options(emulator, tmp_path, TOKEN), client=client)
                assert emulator.snapshot()["requests"]["total"] == 0
            done = sync_files([source], sync_options(emulator, tmp_path, TOKEN), client=client)
    assert done.exit_code == 0 and done.outcomes == {"done": 1}
    assert f"the rate budget is not shared with other register-batch processes; {LOCK_SAID} {fallback} instead" in (
        caplog.text
    )


@pytest.mark.parametrize(
    "environ,loopback,unplaced",
    [
        ({"HOME": "/nonexistent"}, False, True),  # a service account's home: no folder for the budget, a lock wanted
        ({"HOME": "/nonexistent", "REGISTER_BATCH_RATE_DIR": "~/rates"}, True, False),  # `~` is /nonexistent: named
        ({"HOME": "/nonexistent", "REGISTER_BATCH_RATE_DIR": "off"}, False, False),  # off: no budget, no lock
        ({"HOME": "/nonexistent"}, True, False),  # the emulator on this machine, no folder named: none meant
    ],
    ids=["no home", "a folder named", "off", "loopback"],
)
def test_budget_unplaced_says_when_a_budget_is_meant_but_has_no_folder(environ, loopback, unplaced, caplog):
    from register_batch.api.limiter import budget_unplaced

    with caplog.at_level(logging.WARNING):
        assert budget_unplaced("register.example", loopback=loopback, environ=environ) is unplaced
    assert caplog.text == ""  # said by the client as it is made, not here
