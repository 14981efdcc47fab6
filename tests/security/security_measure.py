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
    report["peak_rss_mb"] = round(_peak_rss_kb() / 1024, 1)
    print(json.dumps(report))


def _peak_rss_kb() -> int:
    """This interpreter's own peak: Linux's ru_maxrss keeps the high-water mark of the process it was forked from
    across exec (subprocess forks for preexec_fn), so a big pytest worker would count; VmHWM is this image's."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


if __name__ == "__main__":
    main()
