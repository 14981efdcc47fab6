"""The full 2 GB case, too slow for every CI run: stream a 2 GB HESA XML extract of valid records and report
time and peak memory (figures in docs/security.md).

    python tests/security/stream_2gb.py [--gigabytes 2] [--mode reader|pipeline] [--folder DIR]

The extract is a zip member made on the fly (security_streams.repeating_zip): a few MB of disk, never 2 GB.
`reader` reads every record (the readers alone); `pipeline` also maps and validates each one (what
`validate` does, minus writing the report). test_hostile_inputs.py::test_many_records_stream_in_flat_memory
is the every-CI-run version (20 MB against 300 MB).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from security_inputs import seeds
from security_streams import measure_read, repeating_zip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gigabytes", type=float, default=2.0)
    parser.add_argument("--mode", choices=("reader", "pipeline"), default="reader")
    parser.add_argument("--folder", type=Path, default=None)
    options = parser.parse_args()
    xml = seeds()["generated-hesa-xml-mixed.xml"]
    block = xml[xml.index(b"<Student>") : xml.rindex(b"</Student>") + len(b"</Student>")] + b"\n"
    block *= 200
    count = int(options.gigabytes * (1 << 30)) // len(block)
    with tempfile.TemporaryDirectory(dir=options.folder) as folder:
        path = Path(folder) / "stream.zip"
        started = time.monotonic()
        size = repeating_zip(
            path, "extract.xml", b'<?xml version="1.0"?>\n<ITTRecord>\n', block, count, b"</ITTRecord>\n"
        )
        made = time.monotonic() - started
        on_disk = path.stat().st_size
        result = measure_read(path, mode=options.mode, timeout=24 * 3600, carrier_zip=True)
    expected = count * block.count(b"<Student>")
    report = {
        "mode": options.mode,
        "member_bytes": size,
        "zip_bytes_on_disk": on_disk,
        "seconds_to_make": round(made, 1),
        "records_expected": expected,
        **result,
        "mb_per_second": round(size / (1 << 20) / result["seconds"], 1) if result.get("seconds") else None,
    }
    print(json.dumps(report, indent=1))
    sys.exit(0 if result.get("records") == expected else 1)


if __name__ == "__main__":
    main()
