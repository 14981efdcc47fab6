"""Coverage-guided long-run fuzzing of every reader, through mapping and validation (atheris / libFuzzer).

    pip install -e '.[fuzz]'
    python tests/security/fuzz_readers.py -max_total_time=1800 -timeout=20 -rss_limit_mb=1024 fuzz-corpus/

The first byte of each input picks the container (plain .xml, plain .csv, zip) and the `--format` (auto or
one of the three); the rest is the file. The corpus folder is seeded with the realistic extracts of
security_inputs.seeds() in every container and format, so libFuzzer mutates real structure as well as
noise. The property is security_inputs.check_pipeline: records, or one UnusableInput line naming the file.
Any other exception is a crash (libFuzzer saves the input as crash-*), more than -timeout seconds a hang,
more than -rss_limit_mb a memory blow-up. Results of the runs so far are in docs/security.md.

Not collected by pytest (the name does not start with test_); tests/security/test_fuzz_inputs.py is the
quick, every-CI-run version of the same property.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).parent))

with atheris.instrument_imports(include=["register_batch"]):
    from security_inputs import READ_FORMATS, check_pipeline, seeds, zipped

CONTAINERS = ("input.xml", "input.csv", "input.zip")
_folder = Path(tempfile.mkdtemp(prefix="register-batch-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None))


def split(data: bytes) -> tuple[str, str, bytes]:
    """(file name, format, file bytes) from one fuzzer input."""
    if not data:
        return CONTAINERS[0], READ_FORMATS[0], b""
    selector = data[0]
    return CONTAINERS[selector % 3], READ_FORMATS[(selector // 3) % len(READ_FORMATS)], data[1:]


def test_one_input(data: bytes) -> None:
    name, fmt, body = split(data)
    path = _folder / name
    path.write_bytes(body)
    check_pipeline(path, fmt)


def seed_corpus(folder: Path) -> None:
    """Write every seed in every container and format, unless the corpus already has inputs."""
    folder.mkdir(parents=True, exist_ok=True)
    if any(folder.iterdir()):
        return
    for index, (name, data) in enumerate(sorted(seeds().items())):
        suffix = Path(name).suffix
        plain = CONTAINERS.index(f"input{suffix}") if f"input{suffix}" in CONTAINERS else 0
        for f in range(len(READ_FORMATS)):
            (folder / f"seed-{index}-plain-{f}").write_bytes(bytes([plain + 3 * f]) + data)
            (folder / f"seed-{index}-zip-{f}").write_bytes(bytes([2 + 3 * f]) + zipped({name: data}))


def main() -> None:
    corpus = [a for a in sys.argv[1:] if not a.startswith("-")]
    for folder in corpus[:1]:
        seed_corpus(Path(folder))
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
