"""register_batch.portable on this machine: the POSIX calls register-batch always made, with their semantics.

The branches taken where an interface is missing (Windows) run in tests/test_windows_surface.py."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

from register_batch import portable


def test_this_platform_takes_the_posix_branches():
    assert portable.HAS_FLOCK
    assert portable.POSIX_PERMISSIONS
    assert portable.BINARY == 0


def test_a_second_open_of_a_locked_file_cannot_take_the_lock_until_it_is_released(tmp_path):
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


def test_a_blocking_lock_waits_for_the_holder(tmp_path):
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
