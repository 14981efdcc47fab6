"""Child process for security_streams.measure_read: read one input, print one JSON line of what happened.

python security_measure.py PATH FORMAT reader|pipeline [any-ratio]

`any-ratio` lifts the zip-bomb refusal (readers.MAX_RATIO), for tests that use a zip only to carry a long,
repetitive stream to the reader's streaming limits.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path


def peak_rss_mb() -> float:
    """This process's own peak resident set: VmHWM, not ru_maxrss, which on Linux starts at the parent's resident size
    and keeps it across exec (a pytest worker's, over 150 MB late in a run, failed a 150 MB bound here)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:  # no /proc: not Linux
        pass
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def main() -> None:
    path, fmt, mode = sys.argv[1:4]
    sys.path.insert(0, str(Path(__file__).parent))
    if sys.argv[4:] == ["any-ratio"]:
        import register_batch.readers

        register_batch.readers.MAX_RATIO = float("inf")
    from security_inputs import check_pipeline, check_reader

    started = time.monotonic()
    report: dict[str, object] = {"records": None, "error": None, "exception": None}
    try:
        outcome = (check_pipeline if mode == "pipeline" else check_reader)(Path(path), fmt)
        report["records"], report["error"] = outcome.records, outcome.error
    except BaseException as exc:  # reported, not raised: the parent judges
        report["exception"] = f"{type(exc).__name__}: {exc}"[:2000]
    report["seconds"] = round(time.monotonic() - started, 3)
    report["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(report))


if __name__ == "__main__":
    main()
