"""review184 F2: issues.csv and report.json quoted an over-long value whole, in `value` and again in the message: an
extract with values of 50,000 characters gave reports several times its size, with cells past the 32,767 characters
Excel holds in one. They show a value's first SHOWN_CHARS characters and its length, as report.html does."""

from __future__ import annotations

import csv
import json
import unicodedata
from pathlib import Path

from click.testing import CliRunner
from markupsafe import escape

from register_batch.cli import cli
from register_batch.reports import SHOWN_CHARS, shown_value
from register_batch.validation.rules import MAX_LENGTHS

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


def _validated(tmp_path: Path, **changes: str) -> tuple[list[dict[str, str]], list[dict[str, object]], str]:
    """issues.csv's rows, report.json's issues and report.html's text of a validate of `_extract(**changes)`."""
    path = _extract(tmp_path, **changes)
    out = tmp_path / "r"
    args = ["validate", str(path), "--as-of", AS_OF, "--report-dir", str(out)]
    CliRunner().invoke(cli, args, catch_exceptions=False)
    with (out / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    issues = json.loads((out / "report.json").read_text(encoding="utf-8"))["issues"]
    return rows, issues, (out / "report.html").read_text(encoding="utf-8")


def test_no_value_of_a_length_register_takes_is_cut(tmp_path):
    """review189 F4: at 200 characters, a 232-character email (Register takes 255) lost its end, where its mistake
    (`@example,com`) was. Register's longest field with a maximum is defer_reason's 500 (register-api.md §2.8)."""
    assert max(*MAX_LENGTHS.values(), 500) < SHOWN_CHARS
    email = "a" * 220 + "@example,com"
    rows, issues, html = _validated(tmp_path, F_NQTEMAIL=email)
    assert {issue["value"] for issue in issues if issue["code"] == "invalid_email"} == {email}
    assert {row["value"] for row in rows if row["code"] == "invalid_email"} == {email}
    assert f">{email}</code>" in html


def test_a_cut_never_parts_a_letter_from_its_accent(tmp_path):
    """review189 F5: the cut kept an `e` and dropped its U+0301 after it: another letter, not the value's start."""
    nation = "x" + "e\u0301" * 400  # 801 characters: the SHOWN_CHARS-th is an e, its accent after the cut
    assert unicodedata.combining(nation[SHOWN_CHARS])
    rows, issues, html = _validated(tmp_path, F_NATION=nation)
    [value] = {issue["value"] for issue in issues if issue["code"] == "invalid_code"}
    kept = value.removesuffix("… (801 characters)")
    assert nation.startswith(kept) and len(kept) == SHOWN_CHARS - 1 and kept.endswith("e\u0301")
    assert {row["value"] for row in rows if row["code"] == "invalid_code"} == {value}
    assert f">{kept}…" in html
    joined = "x" * (SHOWN_CHARS - 2) + "\U0001f468\u200d\U0001f469" + "x" * 100  # man, joiner, woman: one sign
    assert shown_value(joined) == "x" * (SHOWN_CHARS - 2) + f"… ({len(joined):,} characters)"
    marks = "x" + "\u0301" * 600  # no script's: damage, cut where it falls, not shown as nothing
    assert shown_value(marks) == marks[:SHOWN_CHARS] + "… (601 characters)"


def test_a_formula_values_second_quote_is_cut_too_in_every_report(tmp_path):
    """review189 F3: spreadsheet_formula quotes the value and then the text in Excel's ="…" form; that second quote
    was written whole (a 3,000-character one in each message), and the page cut the message at 500 characters with
    its own length."""
    nation = '="' + "A" * 3000 + '"'
    rows, issues, html = _validated(tmp_path, F_NATION=nation)
    issue, _ = [issue for issue in issues if issue["code"] == "spreadsheet_formula"]  # one a record
    cut, inner = shown_value(nation), shown_value("A" * 3000)
    assert issue["value"] == cut
    assert f"'{cut}'" in issue["message"] and f"'{inner}'" in issue["message"]
    assert len(issue["message"]) < 2 * SHOWN_CHARS + 300
    row, _ = [row for row in rows if row["code"] == "spreadsheet_formula"]
    assert row["message"] == issue["message"]
    assert escape(issue["message"]) in html  # the page's message: the files', whole (its words under 500)
