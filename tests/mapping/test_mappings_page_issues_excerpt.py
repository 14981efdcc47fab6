"""The issues.csv excerpt of docs/mappings.md Example 3 is rows the documented `validate` writes, with the page's own
subjects.yaml and routes.yaml: it showed records 45, 50 and 52, which the current run has elsewhere or not at all
(review58 F11). tests/docs/test_documented_commands.py runs the commands; this compares the file they write."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "mappings.md"


def page_files(folder: Path) -> list[str]:
    """The page's `file=` blocks saved in `folder` as the reader saves them; their names."""
    names = []
    for name, body in re.findall(r"```yaml file=(\S+)\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S):
        (folder / name).write_text(body, encoding="utf-8")
        names.append(name)
    return names


def test_example_3_issues_excerpt_is_what_validate_writes(tmp_path, monkeypatch):
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    assert {"subjects.yaml", "routes.yaml"} <= set(page_files(tmp_path))
    monkeypatch.chdir(tmp_path)
    args = "validate samples/defects.xml --as-of 2026-11-28 --mapping subjects.yaml --mapping routes.yaml"
    assert f"$ register-batch {args} --report-dir reports/mapped  # exit 1" in PAGE.read_text(encoding="utf-8")
    result = CliRunner().invoke(cli, [*args.split(), "--report-dir", "reports/mapped"], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    written = (tmp_path / "reports" / "mapped" / "issues.csv").read_text(encoding="utf-8-sig").splitlines()
    [shown] = [
        block.splitlines()
        for block in re.findall(r"```text\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
        if block.startswith(written[0] + "\n")
    ]
    assert len(shown) == 4 and [line for line in shown if line not in written] == []
    assert {line.split(",")[8] for line in shown[1:]} == {"legacy_code_translated", "untranslatable_code"}
