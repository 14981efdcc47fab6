"""Run one command in a fresh process and take its own wall time, CPU time and peak resident set.

Linux starts a forked process's peak resident set (`ru_maxrss`) at its parent's resident size (the page counts are
copied with the address space, and the high-water mark is kept across exec), so a command started straight from a
benchmark script that holds results, corpora or pandas would report at least the script's size. A launcher of a few
MB (`python -S`, the standard library only) starts the command instead and passes its rusage back.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

_LAUNCHER = """
import json, os, subprocess, sys, threading, time
report, timeout, command = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
started = time.perf_counter()
child = subprocess.Popen(command)
watchdog = threading.Timer(timeout, child.kill)
watchdog.start()
try:
    _pid, status, usage = os.wait4(child.pid, 0)
finally:
    watchdog.cancel()
wall = time.perf_counter() - started
with open(report, "w") as fh:
    json.dump({"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss": usage.ru_maxrss,
               "code": os.waitstatus_to_exitcode(status)}, fh)
"""


@dataclass
class Launched:
    wall: float  # seconds, from the command's start to its end (the launcher's own start-up is not counted)
    cpu: float  # the command's own user + system time
    rss_mb: float  # the command's own peak resident set (at least the launcher's few MB)
    returncode: int
    stdout: str
    stderr: str


def launch(
    cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 3600
) -> Launched:
    """Run `cmd` through the launcher; it is killed after `timeout` seconds."""
    with tempfile.TemporaryDirectory() as folder, tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        report = Path(folder) / "rusage.json"
        launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(report), str(timeout), *cmd]
        done = subprocess.run(launcher, stdout=out, stderr=err, cwd=cwd, env=env, check=False)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
        if not report.exists():
            raise RuntimeError(f"the launcher failed (exit {done.returncode}): {stderr[-2000:]}")
        found = json.loads(report.read_text())
        return Launched(found["wall"], found["cpu"], found["rss"] / 1024, found["code"], stdout, stderr)
