"""After review226 F3: in a REGISTER_BATCH_RATE_DIR folder user accounts share, any of them can hold a provider's lock
file (0666) for as long as it likes, and each of that provider's syncs then stopped with "another sync is writing",
naming no holder and nothing to tell another account's process from a second sync. The refusal now names the lock
file, that other accounts can hold it, and the process the system lists as holding it with its uid when that is
another account's or the holder named none."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

from register_batch.sync.ledger import ProviderBusy, ProviderLock

TARGET, TOKEN = "https://register.example", "provider-lock-token-0226"
HOLD = (
    "import fcntl, sys, time; f = open(sys.argv[1], 'a'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); "
    "time.sleep(60)"
)

linux_only = pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="the holder is read from /proc/locks")


def held_by(command: list[str], preexec: Callable[[], None] | None = None) -> subprocess.Popen:
    """`command`, which flocks the lock file, says `held` and waits, once it has said so."""
    holder = subprocess.Popen(command, preexec_fn=preexec, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline() == "held\n"
    return holder


def refusal(folder: Path, state_dir: Path, *, accounts: bool) -> str:
    with pytest.raises(ProviderBusy) as caught:
        ProviderLock(folder, TARGET, TOKEN, state_dir, accounts=accounts).acquire()
    return str(caught.value)


@linux_only
def test_a_lock_held_in_a_shared_folder_by_a_process_that_named_no_holder_is_named_with_where_it_is(tmp_path):
    folder = tmp_path / "rate"
    folder.mkdir()
    lock_file = ProviderLock(folder, TARGET, TOKEN, tmp_path / "st", accounts=True).path
    holder = held_by([sys.executable, "-c", HOLD, str(lock_file)])
    try:
        message = refusal(folder, tmp_path / "st", accounts=True)
        own = refusal(folder, tmp_path / "st", accounts=False)  # the user's own cache folder: only its processes
    finally:
        holder.kill()
        holder.wait()
    said = (
        f"provider (held by pid {holder.pid}, which named no holder; lock {lock_file}, in a folder other user accounts "
        "share (REGISTER_BATCH_RATE_DIR): any of them can hold it); wait for it to finish"
    )
    assert said in message, message
    assert "lock " not in own and "for this token's provider; wait for it to finish" in own, own


@linux_only
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="a second user account: root only")
def test_a_lock_held_by_another_account_names_its_uid_beside_the_holder_line_it_wrote():
    """The review's repro: uid 65534 `flock`s the lock file in a 1777 folder (in /tmp: pytest's folders are root's
    alone). Its holder line, were it to write one, is its own word; the uid is the system's."""
    folder = Path(tempfile.mkdtemp(prefix="rate226-", dir="/tmp"))
    try:
        folder.chmod(0o1777)
        lock = ProviderLock(folder, TARGET, TOKEN, folder / "st", accounts=True).acquire()  # made 0666, as a sync does
        lock_file = lock.path
        lock.release()

        def as_nobody() -> None:
            os.setgid(65534)
            os.setuid(65534)

        holder = held_by(["flock", "-x", str(lock_file), "sh", "-c", "echo held; exec sleep 60"], as_nobody)
        try:
            message = refusal(folder, folder / "st", accounts=True)
        finally:
            holder.kill()
            holder.wait()
        assert f"held by a process of uid 65534, pid {holder.pid}, which named no holder" in message, message
        assert f"lock {lock_file}" in message, message
    finally:
        for leftover in folder.iterdir():
            leftover.unlink()
        folder.rmdir()
