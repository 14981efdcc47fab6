"""Large inputs made on the fly, and a child process that reads one and reports its time and peak memory.

`repeating_zip` writes a zip whose one member is `head + block * count + tail`, deflated, without ever
compressing (or storing) the whole member: `block` is compressed once and ended with a full flush, so its
deflate bytes hold no reference to anything before them and can simply be written `count` times. A 2 GB
member costs a second or two and a few megabytes of disk.

`measure_read` runs security_measure.py in a fresh interpreter (so earlier tests' memory does not count),
under an address-space limit (so a reader that does not stream fails with MemoryError instead of taking
the machine down), and returns what it reported.
"""

from __future__ import annotations

import json
import resource
import struct
import subprocess
import sys
import zlib
from pathlib import Path

MEASURE = Path(__file__).parent / "security_measure.py"
MEMORY_CAP = 3 << 30  # bytes of address space a measured reader may map


def _deflate_parts(head: bytes, block: bytes, tail: bytes) -> tuple[bytes, bytes, bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -15)
    first = compressor.compress(head) + compressor.flush(zlib.Z_FULL_FLUSH)
    middle = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    last = compressor.compress(tail) + compressor.flush(zlib.Z_FINISH)
    return first, middle, last


def repeating_zip(path: Path, member: str, head: bytes, block: bytes, count: int, tail: bytes) -> int:
    """Write the zip; returns the member's uncompressed size (must stay under 4 GiB: no zip64 here)."""
    size = len(head) + len(block) * count + len(tail)
    if size >= 1 << 32:
        raise ValueError("repeating_zip writes no zip64 records: keep the member under 4 GiB")
    first, middle, last = _deflate_parts(head, block, tail)
    crc = zlib.crc32(head)
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    compressed = len(first) + len(middle) * count + len(last)
    name = member.encode()
    dos_time, dos_date = 0, (2026 - 1980) << 9 | 11 << 5 | 28
    local = struct.pack(
        "<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, dos_time, dos_date, crc, compressed, size, len(name), 0
    )
    central = struct.pack(
        "<4sHHHHHHIIIHHHHHII",
        b"PK\x01\x02",
        20,
        20,
        0,
        8,
        dos_time,
        dos_date,
        crc,
        compressed,
        size,
        len(name),
        0,
        0,
        0,
        0,
        0o100600 << 16,
        0,
    )
    with path.open("wb") as fh:
        fh.write(local + name + first)
        for _ in range(count):
            fh.write(middle)
        fh.write(last)
        directory_at = fh.tell()
        fh.write(central + name)
        directory_size = fh.tell() - directory_at
        fh.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, directory_size, directory_at, 0))
    return size


def _cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_CAP, MEMORY_CAP))


def measure_read(
    path: Path, fmt: str = "auto", *, mode: str = "reader", timeout: float = 300, carrier_zip: bool = False
) -> dict:
    """Read `path` in a child interpreter: {"records", "error", "exception", "seconds", "peak_rss_mb"}.

    `carrier_zip`: the zip only carries a long repetitive stream (see repeating_zip), so the zip-bomb refusal
    is lifted to let the stream reach the limits under test."""
    done = subprocess.run(
        [sys.executable, str(MEASURE), str(path), fmt, mode, *(["any-ratio"] if carrier_zip else [])],
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=_cap_memory,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        return {"exception": f"exit {done.returncode}: {done.stderr[-2000:]}", "records": None, "error": None}
    return json.loads(lines[-1])
