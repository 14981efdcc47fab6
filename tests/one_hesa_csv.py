"""One generated HESA-named CSV record, changed as a test needs, validated through the command line: for rules that
read a record as a spreadsheet saved it (a serial date, a code in another case, a route without its zero)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli

AS_OF = "2026-11-28"


def hesa_csv(tmp_path: Path, **changes: str) -> Path:
    """One generated HESA-named CSV record (valid as of AS_OF: route 12, fund code 7) with `changes`."""
    clean = tmp_path / "clean.csv"
    args = ["generate", "--count", "1", "--format", "hesa-csv", "-o", str(clean), "--seed", "7", "--as-of", AS_OF]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    with clean.open(encoding="utf-8-sig", newline="") as fh:
        [header, row] = list(csv.reader(fh))
    values = dict(zip(header, row, strict=True))
    assert values["F_FUNDCODE"] == "7"
    values.update(changes)
    path = tmp_path / "saved.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, [values[column] for column in header]])
    return path


def invalid_issues(path: Path, report_dir: Path) -> list[tuple[str, str, str]]:
    """`validate` of a file with errors (exit 1): each issue's field, code and message."""
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--as-of", AS_OF, "--report-dir", str(report_dir)], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    report = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))
    return [(issue["field"], issue["code"], issue["message"]) for issue in report["issues"]]
