"""Reports of two runs compared as the same report but for when each ran (report.json's `run`, report.html's times of
the run): runs made a moment apart, which must otherwise give the same bytes (one process or two, a cache or none)."""

from __future__ import annotations

import re
from pathlib import Path

_JSON_RUN = re.compile(rb'\n "run": \{\n  "started": "[^"]*",\n  "ended": "[^"]*"\n \}')
# A moment (a date with a time) in report.html: the run's start and end, and for a sync the start of the run before.
_HTML_MOMENT = re.compile(rb'<time datetime="[0-9]{4}-[0-9]{2}-[0-9]{2}T[^"]*">[^<]*</time>')


def without_run_times(path: Path) -> bytes:
    """The file's bytes with the times of its run taken out (report.json, report.html; other files as they are).
    Each must be there to be taken out: a report that lost them is not the same as one that has them."""
    data = path.read_bytes()
    if path.name == "report.json":
        data, found = _JSON_RUN.subn(b'\n "run": "(when it ran)"', data)
        assert found == 1, f"{path} has no run times"
    elif path.name == "report.html":
        data, found = _HTML_MOMENT.subn(b"<time>(when it ran)</time>", data)
        assert found >= 2, f"{path} has no run times"
    return data


def same_but_when(
    left: Path, right: Path, names: tuple[str, ...] = ("report.json", "issues.csv", "report.html")
) -> bool:
    """Whether the two folders' reports are the same, byte for byte, but for when each run happened."""
    return all(without_run_times(left / name) == without_run_times(right / name) for name in names)
