"""What POSIX and Windows' Python offer differently, behind one name each.

On Linux and macOS each function here makes exactly the calls register-batch made before it ran on Windows
(`fcntl.flock`, `os.fchmod`, `os.pwrite`), so nothing changes there. A branch is chosen by whether the interface
exists, not by the platform's name, so that tests/test_windows_surface.py can take the POSIX-only ones away on
Linux and run the commands.
"""

from __future__ import annotations

import contextlib
import os

try:
    import fcntl
except ImportError:  # Windows
    HAS_FLOCK = False
else:
    HAS_FLOCK = True

# Files have an owner (a uid) and mode bits that decide who else may read them. Not on Windows: there a new file
# takes its folder's access list (ACL), `os.chmod` can only set read-only, and `st_uid` is always 0.
POSIX_PERMISSIONS = hasattr(os, "getuid")

# Windows' `os.open` opens in text mode (CRLF for LF, Ctrl-Z as the end) unless told otherwise; 0 elsewhere.
BINARY = getattr(os, "O_BINARY", 0)

# While a blocking lock waits on Windows, how often it tries again (filelock polls there; flock waits in the kernel).
_POLL_SECONDS = 0.01


def set_mode(target: int | str | os.PathLike[str], mode: int) -> None:
    """`os.fchmod` (a descriptor) or `os.chmod` (a path) where files have mode bits. Nothing on Windows, where a
    mode cannot make a file private (the folder's ACL does) and `os.fchmod` is missing before Python 3.13."""
    if not POSIX_PERMISSIONS:
        return
    if isinstance(target, int):
        os.fchmod(target, mode)
    else:
        os.chmod(target, mode)


def owned_by_me(path: str | os.PathLike[str]) -> bool:
    """Whether this user's uid owns `path` (OSError if it cannot be looked at). Always False on Windows: there is
    no uid to compare, so whatever is done only to one's own files (tightening a mode, trusting compiled code) is
    not done."""
    return POSIX_PERMISSIONS and os.stat(path).st_uid == os.getuid()


def tighten(path: str | os.PathLike[str], mode: int) -> None:
    """Give `path` `mode` if it is this user's (one an older version made wider, or copied in); nothing if it is
    not, on Windows, or where it cannot be done (not there, a read-only disk: whoever writes to it next says so)."""
    with contextlib.suppress(OSError):
        if owned_by_me(path):
            os.chmod(path, mode)


def read_at(fd: int, size: int, offset: int) -> bytes:
    """`os.pread`; where there is none (Windows), a seek and a read, which move the descriptor's position."""
    if hasattr(os, "pread"):
        return os.pread(fd, size, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.read(fd, size)


def write_at(fd: int, data: bytes, offset: int) -> int:
    """`os.pwrite`; where there is none (Windows), a seek and a write, which move the descriptor's position."""
    if hasattr(os, "pwrite"):
        return os.pwrite(fd, data, offset)
    os.lseek(fd, offset, os.SEEK_SET)
    return os.write(fd, data)


def try_lock(fd: int) -> bool:
    """Take the exclusive lock on an open file if no other open of it holds the lock; False if one does.

    The operating system drops the lock when the descriptor is closed or the process ends, however it ends
    (SIGKILL, Task Manager's End task). POSIX: `flock` of the whole file, advisory. Windows: filelock's `LockFileEx`
    of the file's first byte, which other processes can then neither read nor write.
    """
    if HAS_FLOCK:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
    from filelock import lock_descriptor

    return lock_descriptor(fd, blocking=False)


def lock(fd: int) -> None:
    """Take the exclusive lock on an open file, waiting for whoever holds it (see `try_lock`)."""
    if HAS_FLOCK:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    from filelock import lock_descriptor

    lock_descriptor(fd, poll_interval=_POLL_SECONDS)


def unlock(fd: int) -> None:
    """Release a lock taken by `try_lock` or `lock`; the descriptor stays open."""
    if HAS_FLOCK:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return
    from filelock import unlock_descriptor

    unlock_descriptor(fd)
