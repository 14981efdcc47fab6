"""register_batch.portable on this machine: the POSIX calls register-batch always made, with their semantics.

The branches taken where an interface is missing (Windows) run in tests/test_windows_surface.py; the locks' and
read_at/write_at's run here too, with fcntl or pread/pwrite taken away."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from register_batch import portable


@pytest.fixture(params=["posix", "windows"])
def branch(request, monkeypatch):
    """The locks on both branches: flock itself, and what is taken where fcntl is missing (Windows): filelock's
    lock_descriptor, which on this machine locks with flock too."""
    if request.param == "windows":
        monkeypatch.setattr(portable, "HAS_FLOCK", False)
    return request.param


def test_this_platform_takes_the_posix_branches():
    assert portable.HAS_FLOCK
    assert portable.POSIX_PERMISSIONS
    assert portable.BINARY == 0


def test_a_second_open_of_a_locked_file_cannot_take_the_lock_until_it_is_released(tmp_path, branch):
    path = tmp_path / "lock"
    first = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    second = os.open(path, os.O_RDWR)
    try:
        assert portable.try_lock(first)
        assert not portable.try_lock(second)
        portable.unlock(first)
        assert portable.try_lock(second)
    finally:
        os.close(first)
        os.close(second)


def test_a_blocking_lock_waits_for_the_holder(tmp_path, branch):
    path = tmp_path / "lock"
    holder = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    waiter = os.open(path, os.O_RDWR)
    taken = threading.Event()

    def wait_for_it() -> None:
        portable.lock(waiter)
        taken.set()

    try:
        assert portable.try_lock(holder)
        thread = threading.Thread(target=wait_for_it, daemon=True)
        thread.start()
        assert not taken.wait(0.3)
        portable.unlock(holder)
        assert taken.wait(10)
        thread.join(10)
    finally:
        os.close(holder)
        os.close(waiter)


def test_the_lock_of_a_killed_process_is_released(tmp_path):
    """The ledger's one-run-at-a-time lock must not outlive a sync killed with SIGKILL."""
    path = tmp_path / "lock"
    script = (
        "import os, sys\n"
        "from register_batch import portable\n"
        "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)\n"
        "assert portable.try_lock(fd)\n"
        "print('locked', flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "locked\n"
        fd = os.open(path, os.O_RDWR)
        try:
            assert not portable.try_lock(fd)
            child.kill()
            child.wait(10)
            assert portable.try_lock(fd)
        finally:
            os.close(fd)
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()


def test_read_at_and_write_at_leave_the_files_position_alone_here(tmp_path):
    fd = os.open(tmp_path / "note", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        assert portable.write_at(fd, b"pid 42", 0) == 6
        assert portable.write_at(fd, b"43", 4) == 2
        assert portable.read_at(fd, 200, 0) == b"pid 43"
        assert os.lseek(fd, 0, os.SEEK_CUR) == 0
    finally:
        os.close(fd)


def test_without_pread_and_pwrite_read_at_and_write_at_still_go_to_the_offset_given(tmp_path, monkeypatch):
    """Windows has neither: a seek, then the read or write, wherever the descriptor's position was left."""
    monkeypatch.delattr(os, "pread")
    monkeypatch.delattr(os, "pwrite")
    fd = os.open(tmp_path / "note", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        assert portable.write_at(fd, b"pid 42", 0) == 6
        assert portable.write_at(fd, b"43", 4) == 2
        assert portable.read_at(fd, 200, 0) == b"pid 43"
        assert portable.read_at(fd, 2, 4) == b"43"
    finally:
        os.close(fd)


def test_set_mode_sets_the_mode_of_a_path_or_a_descriptor(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("{}", encoding="utf-8")
    os.chmod(path, 0o644)
    portable.set_mode(path, 0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fd = os.open(path, os.O_RDONLY)
    try:
        portable.set_mode(fd, 0o640)
    finally:
        os.close(fd)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_owned_by_me_compares_the_files_uid_with_this_users(tmp_path):
    path = tmp_path / "mine"
    path.touch()
    assert portable.owned_by_me(path) is True
    assert portable.owned_by_me(tmp_path) is True


def _another_users_file(tmp_path) -> Path:
    """A file this user does not own: root's own folder for anyone else; for root, one given to `nobody`."""
    if os.getuid() != 0:
        return Path("/")
    path = tmp_path / "theirs"
    path.write_text("{}", encoding="utf-8")
    os.chmod(path, 0o644)
    os.chown(path, 65534, 65534)
    return path


def test_a_file_another_user_owns_is_not_mine(tmp_path):
    assert portable.owned_by_me(_another_users_file(tmp_path)) is False


def test_tighten_narrows_the_mode_of_this_users_file_and_leaves_another_users_alone(tmp_path):
    """A ledger an older version made readable by all is made owner-only; a file of someone else's (a state dir
    shared by mistake, a run as root) keeps its mode."""
    mine = tmp_path / "ledger.sqlite3"
    mine.write_text("", encoding="utf-8")
    os.chmod(mine, 0o644)
    portable.tighten(mine, 0o600)
    assert stat.S_IMODE(mine.stat().st_mode) == 0o600
    theirs = _another_users_file(tmp_path)
    before = stat.S_IMODE(theirs.stat().st_mode)
    portable.tighten(theirs, 0o600)
    assert stat.S_IMODE(theirs.stat().st_mode) == before
