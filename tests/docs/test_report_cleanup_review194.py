"""nightly-sync.md's weekly clean-up of report folders, run as written against a real tree (review194 F3): the
documented-commands test skips `find`, as it deletes files on the reader's machine. The old line (`-maxdepth 1
-name 'sync-*'`) left every provider's report folders, and every validate folder, for ever."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest

PAGE = Path(__file__).resolve().parents[2] / "docs" / "nightly-sync.md"
OLD = time.time() - 60 * 86400  # past the documented 30 days
RECENT = time.time() - 2 * 86400


def _cleanup_lines() -> list[str]:
    """The `find reports ...` lines of the page's shell blocks."""
    blocks = re.findall(r"^```(?:sh|shell|bash)\n(.*?)^```", PAGE.read_text(encoding="utf-8"), flags=re.S | re.M)
    return [line for block in blocks for line in block.splitlines() if line.startswith("find reports")]


def _folder(root: Path, name: str, when: float) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "report.json").write_text("{}")
    os.utime(folder / "report.json", (when, when))
    os.utime(folder, (when, when))
    return folder


@pytest.mark.skipif(shutil.which("find") is None, reason="needs find(1)")
def test_the_documented_cleanup_removes_every_old_report_folder_and_keeps_the_rest(tmp_path: Path) -> None:
    [line] = _cleanup_lines()
    reports = tmp_path / "reports"
    old = [
        _folder(reports, "sync-20260901-020000Z", OLD),
        _folder(reports, "validate-20260901-020000Z", OLD),
        _folder(reports, "provider-b/sync-20260901-023000Z", OLD),
        _folder(reports, "provider-b/validate-20260901-023000Z", OLD),
    ]
    kept = [
        _folder(reports, "sync-20261205-020000Z", RECENT),
        _folder(reports, "provider-b/sync-20261205-023000Z", RECENT),
        _folder(reports, "defects", OLD),  # a folder given with --report-dir: the reader's own to delete
    ]
    os.utime(reports / "provider-b", (OLD, OLD))  # the provider's folder itself is never removed

    done = subprocess.run(["sh", "-c", line], cwd=tmp_path, capture_output=True, text=True, timeout=60)

    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert [folder.name for folder in old if folder.exists()] == []
    assert [folder.name for folder in kept if not folder.exists()] == []
    assert (reports / "provider-b").is_dir()
