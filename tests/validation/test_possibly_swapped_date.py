"""Dates a spreadsheet read in the other day/month order are said, though each is a valid YYYY-MM-DD (review224 F1).

A UK SRS writes 24/08/2026 and 03/04/2026; a spreadsheet set to month/day/year reads the second as 4 March and leaves
the first as text, as no month is 24. Formatted as yyyy-mm-dd, the column then holds 2026-03-04, a valid date that is
not the trainee's. The text dates the spreadsheet left show the order it did not read: the column's YYYY-MM-DD dates
that could be swapped (day 12 or less, not the month) get one warning about the column, possibly_swapped_date, made
as the reports receive the records (resaved.py), in a two-process run too. A record's ambiguous text date gets the
reading its other dates show first.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.validation.resaved import SWAPPED, iso_dates
from valid_trainee import validated, with_changes

AS_OF = date(2026, 11, 28)
DATES = ("date_of_birth", "itt_start_date", "itt_end_date", "trainee_start_date")


def generated(folder: Path, count: int = 30) -> Path:
    path = folder / "trainees.csv"
    generate(path, count=count, fmt="register-csv", seed=11, academic_cycle=2026, as_of=AS_OF)
    return path


def rewritten(source: Path, target: Path, cell) -> Path:
    """`source` with each trainee date cell given by `cell(field, value)`."""
    with source.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    at = {header.index(field): field for field in DATES}
    for row in rows:
        for index, field in at.items():
            if row[index]:
                row[index] = cell(field, row[index].lstrip("'"))
    with target.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    return target


def read_month_first(field: str, value: str) -> str:
    """A d/m/y text date as a spreadsheet set to month/day/year keeps it, formatted yyyy-mm-dd afterwards: swapped
    where the day could be a month, left as text otherwise."""
    year, month, day = value.split("-")
    return f"{year}-{day}-{month}" if int(day) <= 12 else f"{day}/{month}/{year}"


@pytest.fixture(scope="module")
def trainees(tmp_path_factory) -> Path:
    return generated(tmp_path_factory.mktemp("swap"))


def swapped_warnings(path: Path, reports: Path, jobs: int = 1) -> dict[str | None, str]:
    validate_files([str(path)], as_of=AS_OF, report_dir=reports, jobs=jobs)
    issues = json.loads((reports / "report.json").read_text(encoding="utf-8"))["issues"]
    return {row["field"]: row["message"] for row in issues if row["code"] == SWAPPED}


def test_yyyy_mm_dd_dates_beside_text_only_one_order_reads_are_said_once_a_column(trainees, tmp_path):
    swapped = rewritten(trainees, tmp_path / "swapped.csv", read_month_first)
    said = swapped_warnings(swapped, tmp_path / "r")
    assert set(said) == set(DATES)
    message = said["itt_start_date"]
    assert message.startswith("itt_start_date: ")
    assert " of a day 12 or less may have day and month swapped (line " in message
    assert "the column also has " in message
    assert "readable only as day/month/year" in message
    assert "as a spreadsheet reading dates as month/day/year leaves them" in message
    assert "check them against the SRS" in message


def test_the_same_in_two_processes(trainees, tmp_path):
    swapped = rewritten(trainees, tmp_path / "swapped.csv", read_month_first)
    assert swapped_warnings(swapped, tmp_path / "two", jobs=2) == swapped_warnings(swapped, tmp_path / "one")


def test_a_file_of_yyyy_mm_dd_dates_alone_is_not_told(trainees, tmp_path):
    assert swapped_warnings(trainees, tmp_path / "r") == {}


def test_text_dates_either_order_reads_show_no_spreadsheet_read_them(trainees, tmp_path):
    """Every date d/m/y text (03/04/2026 too, which a spreadsheet reading month first would have taken): not one
    spreadsheet's doing; nor YYYY-MM-DD dates beside such text."""

    def some_as_text(field: str, value: str) -> str:
        year, month, day = value.split("-")
        return f"{day}/{month}/{year}" if field == "date_of_birth" else value

    mixed = rewritten(trainees, tmp_path / "mixed.csv", some_as_text)
    with mixed.open(encoding="utf-8") as fh:
        assert any(f"/{m:02d}/" in line for line in fh for m in range(1, 13))
    said = swapped_warnings(mixed, tmp_path / "r")
    # date_of_birth's text has dates either order reads (generated days 1 to 28): nothing is said of any column
    assert said == {}


def test_a_hand_typed_text_date_among_dates_of_any_day_is_not_a_spreadsheets_reading(trainees, tmp_path):
    """One 30/01/2002 among YYYY-MM-DD dates some of which have a day above 12: no spreadsheet swapped that column,
    which leaves no such day (the defect corpus of docs/dry-run.md)."""
    with trainees.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    born = header.index("date_of_birth")
    assert any(row[born].lstrip("'")[8:] > "12" for row in rows[1:])
    rows[0][born] = "30/01/2002"
    path = tmp_path / "typed.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    assert "date_of_birth" not in swapped_warnings(path, tmp_path / "r")


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


def written(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    return path


def test_one_hand_typed_date_tells_no_other_column(tmp_path):
    """review228 F1: cohort start dates (all of day 12 or less) beside one hand-typed 30/01/2002 among 200 dates of
    birth: each column is judged on its own text dates, and one in 200 is a typist's."""
    header, rows = read_rows(generated(tmp_path, count=200))
    born, start, trainee = (header.index(f) for f in ("date_of_birth", "itt_start_date", "trainee_start_date"))
    for n, row in enumerate(rows):
        row[start] = row[trainee] = "2026-09-01" if n % 2 else "2026-09-07"
    rows[4][born] = "30/01/2002"
    assert swapped_warnings(written(tmp_path / "typed.csv", header, rows), tmp_path / "r") == {}


def test_a_column_whose_own_text_shows_the_other_order_is_not_told(tmp_path):
    """review235 F1: a column that shows a swap tells the file's other date columns, but not one whose own text date
    was not read by that spreadsheet: a date only the other order reads, or one either order reads."""
    header, rows = read_rows(generated(tmp_path))
    born, start = header.index("date_of_birth"), header.index("itt_start_date")
    rows[0][born], rows[1][born], rows[2][born] = "12/26/1996", "12/27/1996", "1996-07-12"  # only month first reads
    rows[0][start], rows[1][start], rows[2][start] = "2026-09-01", "2026-09-04", "2026-09-10"
    said = swapped_warnings(written(tmp_path / "told.csv", header, rows[:3]), tmp_path / "r")
    assert "date_of_birth" in said
    assert "itt_start_date: 3 of this file's YYYY-MM-DD itt_start_date dates" in said["itt_start_date"]
    for text in ("30/09/2026", "03/09/2026"):  # only day first reads it; either order does
        rows[1][start] = text
        said = swapped_warnings(written(tmp_path / "not.csv", header, rows[:3]), tmp_path / text.replace("/", ""))
        assert "date_of_birth" in said
        assert "itt_start_date" not in said


def test_columns_that_show_both_orders_tell_no_other_column(tmp_path):
    """review235 F1: no one spreadsheet read the file when one column shows a day-first reading and another a
    month-first one; each is said on its own evidence, and the start dates are not said."""
    header, rows = read_rows(generated(tmp_path))
    born, start, end = (header.index(f) for f in ("date_of_birth", "itt_start_date", "itt_end_date"))
    rows[0][born], rows[1][born], rows[2][born] = "24/08/1996", "25/08/1996", "1996-07-12"  # only day first reads
    rows[0][end], rows[1][end], rows[2][end] = "12/26/2027", "12/27/2027", "2027-07-12"  # only month first reads
    rows[0][start], rows[1][start], rows[2][start] = "2026-09-01", "2026-09-04", "2026-09-10"
    said = swapped_warnings(written(tmp_path / "both.csv", header, rows[:3]), tmp_path / "r")
    assert {"date_of_birth", "itt_end_date"} <= set(said)
    assert "itt_start_date" not in said


def test_correcting_some_text_dates_leaves_the_warning(trainees, tmp_path):
    """review228 F2: a text date corrected as its hint says gives the column a day above 12, which no longer silences
    it; once all its text dates are corrected, the file's other columns still tell it (review235 F1); once every
    text date of the file is corrected nothing is left to tell (the hint says so before)."""
    header, rows = read_rows(rewritten(trainees, tmp_path / "swapped.csv", read_month_first))
    start = header.index("itt_start_date")
    texts = [row for row in rows if "/" in row[start]]
    assert len(texts) >= 3
    day, month, year = texts[0][start].split("/")
    texts[0][start] = f"{year}-{month}-{day}"
    said = swapped_warnings(written(tmp_path / "one.csv", header, rows), tmp_path / "r")
    assert f"the column also has {len(texts) - 1} dates a spreadsheet left as text" in said["itt_start_date"]
    for row in texts:
        if "/" in row[start]:
            day, month, year = row[start].split("/")
            row[start] = f"{year}-{month}-{day}"
    said = swapped_warnings(written(tmp_path / "column.csv", header, rows), tmp_path / "r2")
    assert "may have day and month swapped too" in said["itt_start_date"]
    for row in rows:
        for field in DATES:
            if "/" in row[header.index(field)]:
                day, month, year = row[header.index(field)].split("/")
                row[header.index(field)] = f"{year}-{month}-{day}"
    assert swapped_warnings(written(tmp_path / "all.csv", header, rows), tmp_path / "r3") == {}


def test_a_text_date_one_order_reads_says_the_column_may_be_swapped():
    """review228 F2: the hint of a text date only one order reads says the column's other dates may be swapped, as
    correcting it alone hides the swap; a text date either order reads does not."""
    record = validated(with_changes(date_of_birth="30/01/2002"))
    [hint] = [i.message for i in record.issues if i.code == "spreadsheet_date"]
    assert hint.endswith(
        "(2002-01-30); if a spreadsheet left it as text, the other YYYY-MM-DD dates in this file's date columns may "
        "have day and month swapped: import the date columns again from the SRS as Text rather than correcting only "
        "this value"
    )
    record = validated(with_changes(date_of_birth="03/04/1992"))
    [hint] = [i.message for i in record.issues if i.code == "spreadsheet_date"]
    assert "may have day and month swapped" not in hint


def cohort(folder: Path, count: int) -> tuple[list[str], list[list[str]]]:
    """A cohort all starting on 1 September 2026, as an SRS writes it day first and a spreadsheet reading month first
    keeps it, formatted yyyy-mm-dd (review235 F1's repro): every start date read, as 2026-01-09; the other columns'
    dates of a day above 12 left as text."""
    header, rows = read_rows(generated(folder, count=count))
    for row in rows:
        for field in DATES:
            value = "2026-09-01" if field.endswith("start_date") else row[header.index(field)].lstrip("'")
            row[header.index(field)] = read_month_first(field, value)
    return header, rows


def test_a_column_that_shows_the_swap_tells_the_files_start_dates(tmp_path):
    """review235 F1: a spreadsheet reads every date column of a file in one order; start dates, all of a day 12 or
    less, leave no text of their own to show it, and are said from the columns that do."""
    header, rows = cohort(tmp_path, 40)
    path = written(tmp_path / "cohort.csv", header, rows)
    said = swapped_warnings(path, tmp_path / "r")
    assert set(said) == set(DATES)
    for field in ("itt_start_date", "trainee_start_date"):
        assert said[field].startswith(
            f"{field}: 40 of this file's YYYY-MM-DD {field} dates of a day 12 or less may have day and month swapped "
            "too (line 2: 2026-01-09; line 3: 2026-01-09;"
        )
        assert (
            ": the file's date_of_birth and itt_end_date have dates a spreadsheet left as text, each readable only as "
            "day/month/year, as a spreadsheet reading dates as month/day/year leaves them, and that spreadsheet read "
            "every date column of the file as month/day/year, with day and month swapped in each date it could read: "
            "check them against the SRS (2026-01-09 may be 2026-09-01)"
        ) in said[field]
    assert "the column also has " in said["date_of_birth"]
    assert swapped_warnings(path, tmp_path / "two", jobs=2) == said


def test_a_column_of_yyyy_mm_dd_dates_of_any_day_is_not_told_by_another(tmp_path):
    """review235 F1: beside a column that shows the swap, a column with more YYYY-MM-DD dates of a day above 12 than
    of a day 12 or less (a column written right: days 13 to 31 are most of a month) is not said; a column that has
    them only where the user corrected its text dates is."""
    header, rows = cohort(tmp_path, 40)
    end, generated_rows = header.index("itt_end_date"), read_rows(tmp_path / "trainees.csv")[1]
    for row, kept in zip(rows, generated_rows, strict=True):
        row[end] = kept[end].lstrip("'")  # as the SRS wrote it: 29 of 40 of a day above 12
    said = swapped_warnings(written(tmp_path / "kept.csv", header, rows), tmp_path / "r")
    assert set(said) == {"date_of_birth", "itt_start_date", "trainee_start_date"}
    assert ": the file's date_of_birth has dates a spreadsheet left as text" in said["itt_start_date"]


def test_two_typed_dates_among_dates_of_any_day_are_a_typists(tmp_path):
    """review235 F2: in a small file two dates of birth typed day first reach a tenth of the column, but its
    YYYY-MM-DD dates of a day above 12, which no swap writes, outnumber them: the dates are right, and not said."""
    header, rows = read_rows(generated(tmp_path, count=20))
    born = header.index("date_of_birth")
    typed = [row for row in rows if row[born].lstrip("'")[8:] > "12"]
    assert len(typed) >= 4  # 2 typed, and more left as YYYY-MM-DD of a day above 12
    for row in typed[:2]:
        year, month, day = row[born].lstrip("'").split("-")
        row[born] = f"{day}/{month}/{year}"
    path = written(tmp_path / "typed.csv", header, rows)
    assert swapped_warnings(path, tmp_path / "r") == {}
    assert swapped_warnings(path, tmp_path / "two", jobs=2) == {}


@pytest.mark.parametrize(
    "data,found",
    [
        ({"date_of_birth": "1996-07-12"}, (("date_of_birth", "1996-07-12"),)),
        ({"date_of_birth": "1996-07-07"}, ()),  # the same day either way
        ({"date_of_birth": "1996-07-13"}, (("date_of_birth", "1996-07-13"),)),  # a day no swap leaves
        (
            {"itt_end_date": "2027-12-01", "itt_start_date": "2026-09-30"},
            (("itt_start_date", "2026-09-30"), ("itt_end_date", "2027-12-01")),
        ),
        ({"date_of_birth": "12/07/1996"}, ()),
        ({"date_of_birth": None}, ()),
    ],
)
def test_iso_dates(data, found):
    assert iso_dates(data) == found


def test_an_ambiguous_date_gets_first_the_reading_its_row_shows():
    record = validated(with_changes(date_of_birth="12/7/1996", itt_end_date="6/14/2027"))
    [hint] = [i.message for i in record.issues if i.code == "spreadsheet_date" and i.field == "date_of_birth"]
    assert hint == (
        "date_of_birth: '12/7/1996' looks like a spreadsheet's month/day/year date: write the date as YYYY-MM-DD "
        "(1996-12-07, as this record's other dates are month first; or 1996-07-12 if the day comes first)"
    )
    record = validated(with_changes(date_of_birth="12/7/1996", itt_end_date="14/06/2027"))
    [hint] = [i.message for i in record.issues if i.code == "spreadsheet_date" and i.field == "date_of_birth"]
    assert hint.endswith("(1996-07-12, as this record's other dates are day first; or 1996-12-07 if the month comes "
                         "first)")  # fmt: skip
    record = validated(with_changes(date_of_birth="12/7/1996"))
    [hint] = [i.message for i in record.issues if i.code == "spreadsheet_date" and i.field == "date_of_birth"]
    assert hint.endswith("(1996-07-12, or 1996-12-07 if the month comes first)")
