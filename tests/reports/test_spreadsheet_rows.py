"""A CSV record's row as a spreadsheet numbers it, beside its line, where the two differ (review168 F2).

`line` is the physical text line, as VS Code and Notepad++ number it (docs/formats.md): SRS vendors and error lines
rely on it. A quoted cell holding a line break (Alt+Enter in Excel) spans two lines but is one spreadsheet row, so
every later record's line is higher than the row Excel and LibreOffice show it on, and a data officer who went to
"line 6" corrected another trainee. The reports give the row too where it differs (`row`: null or blank otherwise),
and the duplicate messages name the other record by where a person finds it, not by its record number.

The row is what Python's csv module counts (header row 1, a blank row counted, a row over several lines once): what
LibreOffice 7.4 showed for these fixtures (`soffice --convert-to html`: the blank middle row is a row of its own, the
cell with a line break one row). The fixtures are written as Excel's "CSV UTF-8" writes a sheet: CRLF between rows, a
bare LF for Alt+Enter inside a quoted cell.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.jobs import validate_files
from register_batch.validation.runner import Checker
from report_schema import allowed_report

AS_OF = "2026-11-28"
AS_OF_DATE = date(2026, 11, 28)


@pytest.fixture(scope="module")
def rows_fixtures(fixtures: Path) -> Path:
    return fixtures / "spreadsheet_rows"


def validated(fixture: Path, reports: Path) -> tuple[list[dict[str, str]], list[dict], str]:
    """issues.csv's rows, report.json's issues (allowed by the schema) and the Issues table's text of a validate."""
    result = CliRunner().invoke(cli, ["validate", str(fixture), "--as-of", AS_OF, "--report-dir", str(reports)])
    assert result.exit_code == 1, result.output
    with (reports / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    issues = allowed_report(reports)["issues"]
    page = lxml.html.fromstring((reports / "report.html").read_text(encoding="utf-8"))
    return rows, issues, page.text_content()


def spreadsheet_row(fixture: Path, nationality: str) -> int:
    """The row (header row 1) of the record with this nationality, as the csv module counts rows."""
    with fixture.open(encoding="utf-8", newline="") as fh:
        found = [n for n, cells in enumerate(csv.reader(fh), 1) if cells and cells[10] == nationality]
    assert len(found) == 1
    return found[0]


def test_after_a_multi_line_cell_a_record_gives_its_spreadsheet_row_beside_its_line(rows_fixtures, tmp_path):
    fixture = rows_fixtures / "a_multi_line_cell.csv"
    rows, issues, page = validated(fixture, tmp_path / "r")
    # Record 2's first_names is "Evie", Alt+Enter, "Rose": lines 3 and 4 of the file, row 3 of a spreadsheet.
    [broken] = [row for row in rows if row["code"] == "control_character"]
    assert (broken["record"], broken["line"], broken["row"]) == ("2", "3", "")
    # Record 4's nationality gb: line 6 in a text editor, row 5 in Excel and LibreOffice.
    [gb] = [row for row in rows if row["value"] == "gb" and row["code"] == "invalid_code"]
    assert (gb["record"], gb["line"], gb["row"]) == ("4", "6", "5") and spreadsheet_row(fixture, "gb") == 5
    assert list(rows[0])[:4] == ["input", "record", "line", "provider_trainee_id"] and list(rows[0])[-1] == "row"
    # report.json the same, `row` after `line`, null where the two are one
    # (gb's invalid_code and the code_case hint beside it)
    assert [(i["record"], i["line"], i["row"]) for i in issues] == [(2, 3, None), (4, 6, 5), (4, 6, 5)]
    assert list(issues[1])[:4] == ["input", "record", "line", "row"]
    # report.html's location says both
    assert "record 4, row 5 (line 6)" in page and "record 2, line 3" in page


def test_a_blank_middle_row_is_a_row_and_a_line_so_nothing_new_is_said(rows_fixtures, tmp_path):
    fixture = rows_fixtures / "a_blank_middle_row.csv"
    rows, issues, page = validated(fixture, tmp_path / "r")
    [gb] = [row for row in rows if row["value"] == "gb" and row["code"] == "invalid_code"]
    # Excel and LibreOffice show the blank line as an empty row: record 4 is on row 6, as on line 6.
    assert (gb["record"], gb["line"], gb["row"]) == ("4", "6", "") and spreadsheet_row(fixture, "gb") == 6
    assert [(i["record"], i["line"], i["row"]) for i in issues] == [
        (4, 6, None),
        (4, 6, None),
    ]  # invalid_code and code_case
    assert "record 4, line 6" in page and "(line" not in page


def test_a_duplicate_message_names_the_records_lines_not_their_numbers(rows_fixtures, tmp_path):
    rows, _issues, _page = validated(rows_fixtures / "a_duplicate_row.csv", tmp_path / "r")
    # Row 2 was copied to row 5: records 1 and 4, which a person reading "records 1, 4" looked for on rows 1 and 4.
    husid = [row for row in rows if row["code"] == "duplicate_hesa_id"]
    assert [(row["record"], row["line"], row["row"]) for row in husid] == [("1", "2", ""), ("4", "5", "")]
    where = str(rows_fixtures / "a_duplicate_row.csv")  # the input as the command was given it
    for row in husid:
        assert row["message"].endswith(f"is on more than one record: line 2 of {where}, line 5 of {where}")
    [possible] = [row for row in rows if row["code"] == "possible_duplicate_trainee"]
    assert possible["line"] == "5"
    assert possible["message"].startswith(f"matches line 2 of {where} by Register's duplicate rule")


def test_a_duplicate_message_names_the_row_where_it_differs_from_the_line(rows_fixtures, tmp_path):
    fixture = rows_fixtures / "a_duplicate_row_after_a_multi_line_cell.csv"
    rows, issues, page = validated(fixture, tmp_path / "r")
    where = str(fixture)
    [srs_id, _husid] = [row for row in rows if row["code"].startswith("duplicate_") and row["record"] == "4"]
    assert (srs_id["line"], srs_id["row"]) == ("6", "5")
    assert srs_id["message"].endswith(f"on more than one record: line 2 of {where}, row 5 (line 6) of {where}")
    assert [issue["row"] for issue in issues if issue["record"] == 4] == [5, 5, 5]
    assert "record 4, row 5 (line 6)" in page


def test_two_processes_give_the_rows_one_gives(rows_fixtures, tmp_path):
    """The helper checks every other record (record 4 among them) and sends its issues back as plain values."""
    names = ("a_multi_line_cell.csv", "a_duplicate_row_after_a_multi_line_cell.csv")
    inputs = [str(rows_fixtures / name) for name in names]
    one = validate_files(inputs, as_of=AS_OF_DATE, report_dir=tmp_path / "one", jobs=1)
    two = validate_files(inputs, as_of=AS_OF_DATE, report_dir=tmp_path / "two", jobs=2)
    assert one.report.summary == two.report.summary
    of_one = json.loads((tmp_path / "one" / "report.json").read_text(encoding="utf-8"))["issues"]
    of_two = json.loads((tmp_path / "two" / "report.json").read_text(encoding="utf-8"))["issues"]
    assert of_one == of_two
    # the files hold the same trainees: each record of one a duplicate of the other's, named by its row too
    assert {(i["record"], i["line"], i["row"]) for i in of_two if i["row"] is not None} == {(3, 5, 4), (4, 6, 5)}


def test_a_plain_csvs_records_have_no_row_to_tell(rows_fixtures):
    with Checker(as_of=AS_OF_DATE) as checker:
        plain = [raw.source for _info, raw in checker.raw_records([str(rows_fixtures / "a_blank_middle_row.csv")])]
        after = [raw.source for _info, raw in checker.raw_records([str(rows_fixtures / "a_multi_line_cell.csv")])]
    assert [(s.line, s.row) for s in plain] == [(2, None), (4, None), (5, None), (6, None)]
    assert [(s.line, s.row) for s in after] == [(2, None), (3, None), (5, 4), (6, 5)]


def test_an_error_line_naming_a_record_gives_its_row_too(rows_fixtures, tmp_path):
    """A file cut short after a multi-line cell: the one line the run prints names the row a spreadsheet shows."""
    text = (rows_fixtures / "a_multi_line_cell.csv").read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(text[: text.rindex(b",'20")])  # record 4 ends in the middle, with no line end
    with Checker(as_of=AS_OF_DATE) as checker, pytest.raises(UnusableInput) as refused:
        list(checker.records([str(cut)]))
    assert (refused.value.record, refused.value.line, refused.value.row) == (4, 6, 5)
    assert str(refused.value).startswith(f"{cut}, record 4, row 5 (line 6): the file ends in the middle of a row")
    result = CliRunner().invoke(cli, ["validate", str(cut), "--as-of", AS_OF, "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 2 and "record 4, row 5 (line 6): the file ends in the middle" in result.output


def test_mappings_check_says_where_a_code_is_first_found_by_its_row_too(rows_fixtures):
    result = CliRunner().invoke(cli, ["mappings", "check", str(rows_fixtures / "a_multi_line_cell.csv")])
    assert "nationality: 'gb' x1, first at record 4, row 5 (line 6)" in result.output, result.output


def test_a_file_warning_naming_its_first_cell_gives_that_cells_row_too(rows_fixtures, tmp_path):
    text = (rows_fixtures / "a_multi_line_cell.csv").read_bytes()
    spaced = tmp_path / "spaced.csv"
    spaced.write_bytes(text.replace(b",gb,", b",gb ,"))  # record 4's nationality, with a space after it
    rows, _issues, _page = validated(spaced, tmp_path / "r")
    [warning] = [row for row in rows if row["code"] == "untrimmed_values"]
    assert "(row 5 (line 6), nationality 'gb ')" in warning["message"]


def test_a_syncs_results_give_the_spreadsheet_row_too(rows_fixtures, tmp_path, monkeypatch):
    """review176 F1: results.csv, report.json's records and report.html's Records table gave the line only, so the
    same report named record 4 as "row 5 (line 6)" in its Issues table and "line 6" in its Records table. Against
    the embedded emulator (over 127.0.0.1), in a dry run."""
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_API_TOKEN", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    fixture = rows_fixtures / "a_multi_line_cell.csv"
    args = ["sync", str(fixture), "--dry-run", "--state-dir", "state", "--report-dir", "r", "--as-of", AS_OF]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    reports = tmp_path / "r"
    with (reports / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    # Its earlier columns where they were; `row` last, as in issues.csv.
    assert header[:3] == ["input", "record", "line"] and header[-1] == "row" and header[-2] == "changes"
    by_record = {row[1]: dict(zip(header, row, strict=True)) for row in rows}
    assert (by_record["4"]["line"], by_record["4"]["row"]) == ("6", "5")
    assert (by_record["2"]["line"], by_record["2"]["row"]) == ("3", "")
    records = allowed_report(reports)["records"]
    where = [(r["record"], r["line"], r["row"]) for r in records]
    assert where[:4] == [(1, 2, None), (2, 3, None), (3, 5, 4), (4, 6, 5)]
    assert list(records[0])[:4] == ["input", "record", "line", "row"]
    page = lxml.html.fromstring((reports / "report.html").read_text(encoding="utf-8"))
    [table] = page.xpath('//section[@id="sync"]//table') or page.xpath("//table[.//td[@data-label='Action']]")
    assert "record 4, row 5 (line 6)" in table.text_content()
