"""Make this Linux interpreter lack what Windows' CPython lacks, before any register-batch code is imported.

Put this folder first on PYTHONPATH and `site` runs it at start-up. It takes away only what the Python docs
mark "Availability: Unix" (or Linux), or describe as missing where the C library does not define it, and that
CPython 3.11 on Windows (the oldest Python register-batch supports) does not have:

- the modules fcntl, resource, pwd, grp, termios (and tty, pty, which import it);
- os functions such as fchmod, getuid, pread/pwrite, fork, sched_getaffinity, set_blocking, and the open flags
  O_NONBLOCK, O_NOFOLLOW, O_CLOEXEC, O_NOCTTY, O_DIRECTORY...;
- signal: every signal but SIGABRT, SIGFPE, SIGILL, SIGINT, SIGSEGV, SIGTERM (and alarm, setitimer, sigwait...),
  and `signal.signal`/`getsignal` refuse any other signal number with Windows' ValueError;
- multiprocessing: only the "spawn" start method (`get_context("fork")` raises ValueError);
- select: only select.select (no poll, epoll), so selectors and socketserver take Windows' choice;
- socket.AF_UNIX and SO_REUSEPORT, time.tzset.

filelock is imported first, while fcntl is still there: see tests/test_windows_surface.py for what that means.
It keeps what the standard library's own POSIX code needs as it is imported (os.waitpid's WNOHANG for
subprocess): on Windows the standard library takes its Windows branches instead.

It adds nothing Windows has and Linux lacks (msvcrt, O_BINARY, SIGBREAK, SO_EXCLUSIVEADDRUSE), changes no
path rules (ntpath), file-sharing rules or console, and leaves sys.platform and os.name as they are.
"""

import multiprocessing
import multiprocessing.context
import os
import select
import signal
import socket
import sys
import time

import filelock  # noqa: F401  (before fcntl goes: filelock keeps the flock it binds at import)

for name in ("fcntl", "resource", "pwd", "grp", "termios", "tty", "pty"):
    sys.modules.pop(name, None)
    sys.modules[name] = None  # `import fcntl` now raises ImportError, as on Windows

_OS_UNIX_ONLY = """
    fchmod fchown chown lchown lchmod chflags lchflags chroot getuid geteuid getgid getegid getgroups setgroups
    setuid seteuid setgid setegid setreuid setregid getresuid getresgid setresuid setresgid initgroups getgrouplist
    getpgid getpgrp setpgid setpgrp setsid getsid killpg tcgetpgrp tcsetpgrp ctermid ttyname openpty forkpty
    fork register_at_fork
    pread pwrite preadv pwritev readv writev sendfile pipe2 mkfifo mknod major minor makedev
    sync fdatasync statvfs fstatvfs getloadavg nice getpriority setpriority uname lockf posix_fadvise
    posix_fallocate set_blocking get_blocking fchdir fpathconf pathconf sysconf confstr memfd_create
    sched_getaffinity sched_setaffinity sched_yield sched_get_priority_min sched_get_priority_max
    sched_getscheduler sched_setscheduler sched_getparam sched_setparam sched_rr_get_interval
    O_NONBLOCK O_NDELAY O_NOCTTY O_CLOEXEC O_SYNC O_DSYNC O_RSYNC O_ASYNC O_DIRECT O_DIRECTORY O_NOFOLLOW
    O_NOATIME O_PATH O_TMPFILE O_SHLOCK O_EXLOCK
""".split()  # noqa: SIM905
for name in _OS_UNIX_ONLY:
    if hasattr(os, name):
        delattr(os, name)

_WINDOWS_SIGNAL_NAMES = {"SIGABRT", "SIGFPE", "SIGILL", "SIGINT", "SIGSEGV", "SIGTERM"}
_WINDOWS_SIGNALS = {getattr(signal, name) for name in _WINDOWS_SIGNAL_NAMES}
for name in dir(signal):
    if name.startswith("SIG") and not name.startswith("SIG_") and name not in _WINDOWS_SIGNAL_NAMES:
        delattr(signal, name)  # SIGIOT too, though it is SIGABRT's number
_SIGNAL_UNIX_ONLY = """
    alarm pause setitimer getitimer ITIMER_REAL ITIMER_VIRTUAL ITIMER_PROF ItimerError siginterrupt sigpending
    sigwait sigwaitinfo sigtimedwait pthread_kill pthread_sigmask SIG_BLOCK SIG_UNBLOCK SIG_SETMASK pidfd_send_signal
""".split()  # noqa: SIM905
for name in _SIGNAL_UNIX_ONLY:
    if hasattr(signal, name):
        delattr(signal, name)

_signal, _getsignal = signal.signal, signal.getsignal


def _windows_signal(signalnum, handler):
    if signalnum not in _WINDOWS_SIGNALS:
        raise ValueError("invalid signal value")
    return _signal(signalnum, handler)


def _windows_getsignal(signalnum):
    if signalnum not in _WINDOWS_SIGNALS:
        raise ValueError("invalid signal value")
    return _getsignal(signalnum)


signal.signal, signal.getsignal = _windows_signal, _windows_getsignal

# multiprocessing: Windows has "spawn" only. get_context("fork") looks the method up in this dict (ValueError when it
# is not there); the module-level get_all_start_methods is the default context's, bound at import.
for method in ("fork", "forkserver"):
    multiprocessing.context._concrete_contexts.pop(method, None)
_default = multiprocessing.context._default_context
_default._default_context = multiprocessing.context._concrete_contexts["spawn"]
_default.get_all_start_methods = multiprocessing.get_all_start_methods = lambda: ["spawn"]

for name in [n for n in dir(select) if n != "select" and not n.startswith("_") and n != "error"]:
    delattr(select, name)
for name in ("AF_UNIX", "SO_REUSEPORT"):
    if hasattr(socket, name):
        delattr(socket, name)
if hasattr(time, "tzset"):
    del time.tzset
