"""Peak memory of a whole command: its process and every process it starts, sampled together.

`run.py`'s memory figure is `ru_maxrss` from `os.wait4`: the peak of the command's largest single process. On inputs
over 8 MB, validate forks a helper process that works beside its main one, and its memory is not in that figure
(review128 F1). This script runs a command once and samples, every `--every` seconds, the proportional set size (PSS:
pages shared between the processes counted once, split between them) of the command's whole process tree from
/proc/PID/smaps_rollup, and reports the highest sum seen, with the highest sum of resident sets (RSS, shared pages
counted in each process) beside it. Linux only.

    python benchmarks/tree_memory.py -- register-batch validate benchmarks/data/hesa-xml-10000-d0-s2026.xml \\
        --as-of 2026-11-28 --report-dir /tmp/r

A sample can miss a peak that lasts less than `--every`; the figures are lower bounds of the true peaks.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path


def _children(pid: int) -> list[int]:
    """The process's children, from every thread's children list (Linux 3.5 and later)."""
    found: list[int] = []
    for tasks in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in tasks.read_text().split()]
        except OSError:
            continue
    return found


def _tree(pid: int) -> list[int]:
    tree, waiting = [], [pid]
    while waiting:
        current = waiting.pop()
        tree.append(current)
        waiting += _children(current)
    return tree


def _memory_kb(pid: int) -> tuple[int, int]:
    """(PSS, RSS) of one process in kB; (0, 0) once it has gone."""
    pss = rss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                pss = int(line.split()[1])
            elif line.startswith("Rss:"):
                rss = int(line.split()[1])
    except (OSError, ValueError):
        return 0, 0
    return pss, rss


def measure(command: list[str], every: float) -> dict[str, float | int]:
    """Run `command` to its end; its exit code, wall seconds, peak tree PSS and RSS (MB), most processes seen."""
    started = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    peak_pss = peak_rss = most = 0
    while child.poll() is None:
        pids = _tree(child.pid)
        sampled = [_memory_kb(pid) for pid in pids]
        peak_pss = max(peak_pss, sum(pss for pss, _rss in sampled))
        peak_rss = max(peak_rss, sum(rss for _pss, rss in sampled))
        most = max(most, len([1 for pss, _rss in sampled if pss]))
        time.sleep(every)
    return {
        "code": child.returncode,
        "wall": round(time.perf_counter() - started, 3),
        "peak_tree_pss_mb": round(peak_pss / 1024, 1),
        "peak_tree_rss_mb": round(peak_rss / 1024, 1),
        "most_processes": most,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--every", type=float, default=0.01, help="seconds between samples (default 0.01)")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    options = parser.parse_args(argv)
    command = options.command[1:] if options.command[:1] == ["--"] else options.command
    if not command:
        parser.error("give the command to measure after --")
    if not Path("/proc/self/smaps_rollup").exists():
        parser.error("needs Linux's /proc/PID/smaps_rollup")
    print(json.dumps(measure(command, options.every)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
