"""Files that hold personal data: created owner-only (0600 files, 0700 folders), written atomically."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

FILE_MODE = 0o600
DIR_MODE = 0o700


def make_private_dirs(path: str | Path) -> Path:
    """`mkdir -p` that makes every folder it creates owner-only (`Path.mkdir` applies the mode to the last one
    only); folders that exist already are left as they are."""
    folder = Path(path)
    missing = []
    current = folder
    while not current.exists() and current != current.parent:
        missing.append(current)
        current = current.parent
    for item in reversed(missing):
        with contextlib.suppress(FileExistsError):
            item.mkdir(mode=DIR_MODE)
    folder.mkdir(mode=DIR_MODE, exist_ok=True)  # as before: FileExistsError when a file has the name
    return folder


def private_dir(path: str | Path) -> Path:
    """Create a folder readable by its owner only (and tighten it if it already exists and is ours)."""
    folder = make_private_dirs(path)
    with contextlib.suppress(PermissionError):
        if folder.stat().st_uid == os.getuid():
            os.chmod(folder, DIR_MODE)
    return folder


@contextlib.contextmanager
def private_writer(path: str | Path, *, newline: str | None = None, encoding: str = "utf-8") -> Iterator[IO[str]]:
    """Write a text file atomically with mode 0600: readers never see half a report."""
    target = Path(path)
    make_private_dirs(target.parent)
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        with os.fdopen(fd, "w", encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise


def write_private_text(path: str | Path, text: str) -> Path:
    with private_writer(path) as fh:
        fh.write(text)
    return Path(path)
