"""The `register-batch` console script and `python -m register_batch`: the stop signals are taken care of before the
command line's modules are imported.

Importing `register_batch.cli` (click, its commands, their settings: some 40 ms, more on a loaded host or a cold
cache, as a timer's start is) came before `cli.main` could turn SIGTERM and SIGHUP into a stop or catch a Ctrl-C:
one landing then was a Python traceback and death by SIGINT, or death by SIGTERM with nothing said (143 in a shell),
where every command but `emulator` exits 3 with one line (docs/exit-codes.md; review119 F6). This module imports
nothing but `signal` and `sys`; what runs before it (the interpreter's start, the package's `__init__`, which
changes no process state) is the window left.
"""

from __future__ import annotations

import signal
import sys


def main() -> None:
    """Handle SIGTERM and SIGHUP as Ctrl-C (KeyboardInterrupt), then import and run the command line (`cli.main`,
    which finds them handled and leaves them so). A signal the parent ignored (`nohup`) stays ignored."""
    for name in ("SIGTERM", "SIGHUP"):  # Windows has no SIGHUP
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _interrupt)
    try:
        from register_batch.cli import main as command_line

        command_line()
    except KeyboardInterrupt:  # before the command line could take it: nothing was read, written or sent
        _interrupted()


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def _interrupted() -> None:
    """One line and exit 3, as the commands' own stop (commands/common.py `Commands.invoke`)."""
    for name in ("SIGINT", "SIGTERM", "SIGHUP"):  # a second stop while it exits changes nothing (as in cli.main)
        if (signum := getattr(signal, name, None)) is not None:
            signal.signal(signum, signal.SIG_IGN)
    commands = [arg for arg in sys.argv[1:] if not arg.startswith("-")]
    again = "to resume" if commands[:1] == ["sync"] else "(it starts over)"
    sys.stderr.write(f"register-batch: interrupted; run the same command again {again}\n")
    # CPython notes a KeyboardInterrupt raised inside an exec() of a string (dataclasses, as modules are imported) as
    # unhandled, and `python -m` then ends by SIGINT after this line: an exec() of a string clears it (see cli.main).
    exec("None")
    sys.exit(3)
