"""review151 F4: a HESA-named CSV row with fewer cells than its header is the record's error (`malformed_record`),
its values not judged under the fields they have moved into; Register's own CSV still reads a short row with the
missing cells blank, as Register's upload does (hesa-formats.md §3.2 item 9)."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.mapping import load_mapping
from register_batch.readers import open_inputs

AS_OF = date(2026, 11, 28)
MIDDLE = "row has {} cells but the header has {} columns (a missing cell moves every later value one column back)"


def read(path: Path, fmt: str = "auto"):
    [(info, records)] = list(open_inputs([str(path)], fmt, load_mapping()))
    return info, list(records)


def rows_of(path: Path) -> list[list[str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)


def issues_of(report_dir: Path) -> list[dict[str, str]]:
    with (report_dir / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def hesa_file_with_a_cell_lost(tmp_path: Path, *, last: str = "") -> tuple[Path, int]:
    """A generated HESA-named CSV whose third record lost its sixth cell (its last, F_COMMIT_TIMESTAMP, set to `last`
    first: blank, as many of a generated file's are), and the header's width."""
    whole = tmp_path / "whole.csv"
    generate(whole, count=5, fmt="hesa-csv", seed=7, as_of=AS_OF)
    header, *rows = rows_of(whole)
    assert header[-1] == "F_COMMIT_TIMESTAMP"
    rows[2][-1] = last
    del rows[2][5]
    ragged = tmp_path / "ragged.csv"
    write_rows(ragged, [header, *rows])
    return ragged, len(header)


def test_a_hesa_csv_row_a_cell_short_in_the_middle_is_one_malformed_record_error_through_validate(tmp_path):
    """It was read with the missing cell at the end, every later value one column back: 27 issues on the record (a
    first name as an ethnicity, an SRS id as a HUSID), none about the row."""
    ragged, width = hesa_file_with_a_cell_lost(tmp_path)
    result = validate_files([ragged], as_of=AS_OF, report_dir=tmp_path / "report", jobs=1)
    assert result.exit_code == 1
    found = [(row["record"], row["field"], row["code"], row["message"]) for row in issues_of(tmp_path / "report")]
    assert found == [("3", "", "malformed_record", MIDDLE.format(width - 1, width))]


def test_a_short_hesa_csv_row_ending_in_a_value_is_the_error_too_with_a_word_for_an_export_that_trims(tmp_path):
    """A row whose last cell holds a value may be a cell lost in the middle or a writer that leaves off a row's empty
    last cells: no row tells which, so it is the error either way, its message naming both."""
    ragged, width = hesa_file_with_a_cell_lost(tmp_path, last="2026-11-08 14:58:27")
    result = validate_files([ragged], as_of=AS_OF, report_dir=tmp_path / "report", jobs=1)
    assert result.exit_code == 1
    [issue] = issues_of(tmp_path / "report")
    assert (issue["record"], issue["code"]) == ("3", "malformed_record")
    assert issue["message"] == (
        f"row has {width - 1} cells but the header has {width} columns (a missing cell moves every later value one "
        "column back, or the export leaves off a row's empty last cells: have it write every column)"
    )


def test_the_command_line_reports_the_short_row_alone(tmp_path):
    ragged, width = hesa_file_with_a_cell_lost(tmp_path)
    result = CliRunner().invoke(
        cli,
        ["validate", str(ragged), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "r")],
        catch_exceptions=False,
    )
    assert result.exit_code == 1, result.output
    assert "5 records: 4 valid, 1 with errors (1 error, 0 warnings)" in result.output
    [issue] = issues_of(tmp_path / "r")
    assert (issue["record"], issue["line"], issue["message"]) == ("3", "4", MIDDLE.format(width - 1, width))


def test_registers_csv_still_reads_a_short_row_with_its_missing_cells_blank(tmp_path):
    """Register's upload takes a short row of its template (hesa-formats.md §3.2 item 9: the spec uploads
    `0123456789,Bob,Roberts` under the full header), so a row whose empty last cells were left off is the record it
    would be with them."""
    whole = tmp_path / "whole.csv"
    generate(whole, count=3, fmt="register-csv", seed=7, as_of=AS_OF)
    header, *rows = rows_of(whole)
    kept = next(n for n in range(len(rows[1]), 0, -1) if rows[1][n - 1])  # up to its last cell with a value
    assert kept < len(header) - 1, "the generated row ends on empty cells"
    rows[1] = rows[1][:kept]
    short = tmp_path / "short.csv"
    write_rows(short, [header, *rows])
    _info, raws = read(short)
    assert [raw.problems for raw in raws] == [[], [], []]
    for path, report in ((whole, "full"), (short, "short")):
        result = validate_files([path], as_of=AS_OF, report_dir=tmp_path / report, jobs=1)
        assert result.exit_code == 0
    result = CliRunner().invoke(
        cli,
        ["validate", str(short), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "cli")],
        catch_exceptions=False,
    )
    assert result.exit_code == 0 and "3 records: 3 valid, 0 with errors" in result.output, result.output


def test_a_short_row_under_a_header_with_blank_trailing_names_is_short_only_of_the_named_columns(tmp_path):
    """A spreadsheet's cleared columns (blank names after the last) hold no field: a row that has every named column's
    cell lacks nothing."""
    path = tmp_path / "hesa.csv"
    path.write_text("F_HUSID,F_SURNAME,F_FNAMES,,\n0310261553101,George,Dave\n0310261553102,Kim\n")
    _info, raws = read(path)
    assert raws[0].problems == []
    assert raws[1].problems == [
        (
            None,
            "row has 2 cells but the header names 3 columns (a missing cell moves every later value one column back, "
            "or the export leaves off a row's empty last cells: have it write every column)",
        )
    ]


def test_a_hesa_csv_row_cut_in_two_by_a_line_break_gets_that_error_alone(tmp_path):
    """Both halves are short: the line break is the cause to mend, said once, not beside a cell count."""
    path = tmp_path / "hesa.csv"
    path.write_text("F_HUSID,F_SURNAME,F_FNAMES,F_NATION\n0310261553101,Lee,A\nnn,GB\n0310261553102,Kim,Bo,GB\n")
    _info, raws = read(path)
    assert [len(raw.problems) for raw in raws] == [1, 1, 0]
    assert "cut one row in two" in raws[0].problems[0][1] and raws[1].problems == raws[0].problems


def test_each_process_finds_the_short_row_it_reads(tmp_path):
    """Two processes read a CSV's rows alternately (validation/parallel.py): the one that reads a short row in full
    reports it, whichever rows the other reads."""
    path = tmp_path / "hesa.csv"
    path.write_text("F_HUSID,F_SURNAME,F_FNAMES,F_NATION\n0310261553101,Lee,,\n0310261553102,Kim,\n0310261553103,,,\n")
    found = []
    for mine in (0, 1):
        [(info, records)] = list(open_inputs([str(path)], "auto", load_mapping()))
        info.select = lambda record, mine=mine: record % 2 == mine
        found += [(raw.source.record, bool(raw.problems)) for raw in records if raw.fields]
    assert sorted(found) == [(1, False), (2, True), (3, False)]
