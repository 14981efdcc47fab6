"""review184 F2: issues.csv and report.json quoted an over-long value whole, in `value` and again in the message: an
extract with values of 50,000 characters gave reports several times its size, with cells past the 32,767 characters
Excel holds in one. They show a value's first SHOWN_CHARS characters and its length, as report.html does."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.reports import SHOWN_CHARS

AS_OF = "2026-11-28"
EXCEL_CELL = 32_767


def _extract(tmp_path: Path, **changes: str) -> Path:
    """Two generated HESA-named CSV records, each with `changes`."""
    clean = tmp_path / "clean.csv"
    args = ["generate", "--count", "2", "--format", "hesa-csv", "-o", str(clean), "--seed", "7", "--as-of", AS_OF]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    with clean.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    path = tmp_path / "long.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for row in rows:
            values = {**dict(zip(header, row, strict=True)), **changes}
            writer.writerow([values[column] for column in header])
    return path


def test_long_values_are_cut_in_issues_csv_and_report_json(tmp_path):
    husid, nation = "1" * 50_000, "Q" * 50_005
    path = _extract(tmp_path, F_HUSID=husid, F_NATION=nation)
    assert path.stat().st_size > 200_000
    out = tmp_path / "r"
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--as-of", AS_OF, "--report-dir", str(out)], catch_exceptions=False
    )
    assert result.exit_code == 1, result.output
    with (out / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    issues = json.loads((out / "report.json").read_text(encoding="utf-8"))["issues"]
    codes = {issue["code"] for issue in issues}
    assert {"invalid_code", "duplicate_hesa_id", "hesa_id_length"} <= codes, codes
    for issue in issues:
        assert issue["hesa_id"] == "1" * SHOWN_CHARS + "… (50,000 characters)"
    said = {issue["code"]: issue for issue in issues if issue["field"] in ("nationality", "hesa_id")}
    assert said["invalid_code"]["value"] == "Q" * SHOWN_CHARS + "… (50,005 characters)"
    assert f"'{'Q' * SHOWN_CHARS}… (50,005 characters)'" in said["invalid_code"]["message"]
    assert said["duplicate_hesa_id"]["value"] == "1" * SHOWN_CHARS + "… (50,000 characters)"
    duplicate = said["duplicate_hesa_id"]["message"]
    assert f"'{'1' * SHOWN_CHARS}… (50,000 characters)' is on more than one record" in duplicate
    longest = max(len(cell) for row in rows for cell in row.values())
    assert longest < 1000 < EXCEL_CELL
    assert (out / "issues.csv").stat().st_size < path.stat().st_size / 10
    assert (out / "report.json").stat().st_size < path.stat().st_size / 10


def test_a_value_of_the_longest_length_shown_is_written_whole(tmp_path):
    path = _extract(tmp_path, F_NATION="Q" * SHOWN_CHARS)
    out = tmp_path / "r"
    CliRunner().invoke(cli, ["validate", str(path), "--as-of", AS_OF, "--report-dir", str(out)], catch_exceptions=False)
    issues = json.loads((out / "report.json").read_text(encoding="utf-8"))["issues"]
    [value] = {issue["value"] for issue in issues if issue["code"] == "invalid_code"}
    assert value == "Q" * SHOWN_CHARS
