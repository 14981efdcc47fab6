"""More date forms a spreadsheet or an SRS writes get the spreadsheet_date hint, with the day worked out (review151 F8).

Excel's d-mmm-yy format writes 2026-09-01 as `01-Sep-26`; an SRS's DATETIME column comes out as `2026-09-01 00:00:00`.
Register answers only "... is invalid" (register-api.md §3.4, Date.iso8601). As for `30/09/2000` and a serial number,
a warning after it says what the value looks like and which YYYY-MM-DD day it is; a two-digit year's century is said
as an assumption, and for a date of birth the century whose day gives an age of 16 to 100, as Register requires
(review153 F3), or none (hesa-formats.md §5 item 30).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from valid_trainee import validated, with_changes

# What a trainee date's hint adds where only one order reads its text: the column's other dates may be swapped, and
# correcting the text alone would hide that (review228 F2); test_possibly_swapped_date says which values get it.
BESIDE = (
    "; if a spreadsheet left it as text, the other YYYY-MM-DD dates in this file's date columns may have day and "
    "month swapped: import the date columns again from the SRS as Text rather than correcting only this value"
)

NAMED_MONTH = "looks like a spreadsheet's day-month-year date: write the date as YYYY-MM-DD{}"
DATE_AND_TIME = (
    "is a date and a time (an SRS's DATETIME column, or a spreadsheet's): write the date alone as YYYY-MM-DD{}"
)


def issues_of(data: dict):
    return validated(data).issues


@pytest.mark.parametrize(
    "field,value,hint",
    [
        ("itt_start_date", "01-Sep-26", NAMED_MONTH.format(" (2026-09-01, taking '26' as 2026)")),
        ("itt_start_date", "1-SEP-26", NAMED_MONTH.format(" (2026-09-01, taking '26' as 2026)")),
        ("itt_start_date", "01-Sep-2026", NAMED_MONTH.format(" (2026-09-01)")),
        ("itt_end_date", "31-Jul-30", NAMED_MONTH.format(" (2030-07-31, taking '30' as 2030)")),
        # a date of birth: the century whose day gives an age of 16 to 100 (as of 2026-11-28: review153 F3)
        ("date_of_birth", "06-Jul-05", NAMED_MONTH.format(" (2005-07-06, the century that gives an age of 16 to 100)")),
        ("date_of_birth", "06-Jul-99", NAMED_MONTH.format(" (1999-07-06, the century that gives an age of 16 to 100)")),
        ("date_of_birth", "29-Feb-00", NAMED_MONTH.format(" (2000-02-29)")),  # 1900 had no 29 February
        ("date_of_birth", "01-Sep-26", NAMED_MONTH.format(" (1926-09-01 or 2026-09-01: neither gives an age of 16 to "
                                                          "100, which Register requires)")),
        ("date_of_birth", "31-Feb-99", NAMED_MONTH.format("")),  # no such day
        ("itt_start_date", "2026-09-01 00:00:00", DATE_AND_TIME.format(" (2026-09-01)")),
        ("date_of_birth", "1999-07-06 00:00", DATE_AND_TIME.format(" (1999-07-06)")),
        ("itt_start_date", "2026-09-01 14:06:35.123", DATE_AND_TIME.format(" (2026-09-01)")),
        ("date_of_birth", "1999-02-30 00:00:00", DATE_AND_TIME.format("")),  # no such day
        # Excel's day/month/year with the time it shows for a date and time
        ("itt_start_date", "30/09/2026 00:00", "looks like a spreadsheet's day/month/year date: write the date as "
                                               "YYYY-MM-DD (2026-09-30)"),
    ],
)  # fmt: skip
def test_a_date_a_spreadsheet_or_srs_wrote_gets_the_hint_after_registers_error(field, value, hint):
    found = [(i.field, i.value, i.code, i.severity.value, i.message) for i in issues_of(with_changes(**{field: value}))]
    at = found.index((field, value, "invalid_date", "error", f"{field} is invalid"))
    said = f"{field}: '{value}' {hint}"
    assert found[at + 1][:4] == (field, value, "spreadsheet_date", "warning")
    assert found[at + 1][4] in (said, said + BESIDE)
    assert [f[2] for f in found].count("spreadsheet_date") == 1


DAY_MONTH_YEAR = "looks like a spreadsheet's day/month/year date: write the date as YYYY-MM-DD{}"
MONTH_DAY_YEAR = "looks like a spreadsheet's month/day/year date: write the date as YYYY-MM-DD{}"
YEAR_MONTH_DAY = "looks like a spreadsheet's year/month/day date: write the date as YYYY-MM-DD{}"
MONTH_NAME_FIRST = "looks like a spreadsheet's month-day-year date: write the date as YYYY-MM-DD{}"


@pytest.mark.parametrize(
    "field,value,hint",
    [
        # SQL Server's and Excel's dd-mm-yyyy (a four-digit year: 96-12-26 is a form Register reads itself)
        ("date_of_birth", "26-12-1996", DAY_MONTH_YEAR.format(" (1996-12-26)")),
        ("itt_start_date", "01-09-2026",
         DAY_MONTH_YEAR.format(" (2026-09-01, or 2026-01-09 if the month comes first)")),
        ("date_of_birth", "1996/12/26", YEAR_MONTH_DAY.format(" (1996-12-26)")),
        ("itt_start_date", "2026/9/1", YEAR_MONTH_DAY.format(" (2026-09-01)")),
        ("date_of_birth", "1996/13/26", YEAR_MONTH_DAY.format("")),  # no such day
        ("date_of_birth", "26 Dec 1996", NAMED_MONTH.format(" (1996-12-26)")),
        ("itt_start_date", "1 Sep 26", NAMED_MONTH.format(" (2026-09-01, taking '26' as 2026)")),
        ("date_of_birth", "Dec 26, 1996", MONTH_NAME_FIRST.format(" (1996-12-26)")),
        ("date_of_birth", "Dec 26 1996", MONTH_NAME_FIRST.format(" (1996-12-26)")),
        ("date_of_birth", "Feb 30, 1996", MONTH_NAME_FIRST.format("")),  # no such day
        # Excel's and SQL Server's US date and time, with AM or PM
        ("date_of_birth", "26/12/1996 12:00:00 AM", DAY_MONTH_YEAR.format(" (1996-12-26)")),
        ("itt_start_date", "30/09/2026 2:30 PM", DAY_MONTH_YEAR.format(" (2026-09-30)")),
        ("date_of_birth", "1996-12-26 12:00:00 AM", DATE_AND_TIME.format(" (1996-12-26)")),
        # only the month-first reading is a day: named so (review156 F4)
        ("date_of_birth", "12/26/1996", MONTH_DAY_YEAR.format(" (1996-12-26)")),
        ("date_of_birth", "12/26/1996 12:00:00 AM", MONTH_DAY_YEAR.format(" (1996-12-26)")),
        ("date_of_birth", "12-26-1996", MONTH_DAY_YEAR.format(" (1996-12-26)")),
        # US Excel's m/d/yy: month first too, with no day worked out, as the century is unknown (review158 F6)
        ("date_of_birth", "12/26/96", MONTH_DAY_YEAR.format("")),
        ("itt_start_date", "9/30/26 12:00 AM", MONTH_DAY_YEAR.format("")),
        ("date_of_birth", "26/12/96", DAY_MONTH_YEAR.format("")),
        ("date_of_birth", "02/03/96", DAY_MONTH_YEAR.format("")),  # either: day/month/year, as before
    ],
)  # fmt: skip
def test_more_forms_get_the_hint_with_the_day_worked_out(field, value, hint):
    """review156 F4: these got Register's bare "is invalid" alone, and 12/26/1996 was called day/month/year."""
    found = [(i.field, i.value, i.code, i.severity.value, i.message) for i in issues_of(with_changes(**{field: value}))]
    at = next(n for n, f in enumerate(found) if f[0] == field and f[2] in ("invalid_date", "date_not_yyyy_mm_dd"))
    said = f"{field}: '{value}' {hint}"
    assert found[at + 1][:4] == (field, value, "spreadsheet_date", "warning")
    assert found[at + 1][4] in (said, said + BESIDE)
    assert [f[2] for f in found].count("spreadsheet_date") == 1


@pytest.mark.parametrize(
    "value", ["13 August 1990", "01-Foo-26", "Sep-26", "1990-08-13 noon", "01-Sep-126", "26-12-96", "26/12/1996 AM"]
)
def test_other_forms_get_registers_error_alone(value):
    assert [i.code for i in issues_of(with_changes(date_of_birth=value))] == ["invalid_date"]


def test_validate_gives_the_hints_for_a_hesa_csv(tmp_path):
    """Through `register-batch validate` on a HESA-named CSV, as the reviewer found it: the hint follows each error."""
    extract = tmp_path / "g.csv"
    made = CliRunner().invoke(
        cli, ["generate", "--count", "2", "--format", "hesa-csv", "-o", str(extract), "--as-of", "2026-11-28"]
    )
    assert made.exit_code == 0, made.output
    with extract.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    start, born = header.index("F_ITTSTARTDATE"), header.index("F_BIRTHDTE")
    rows[0][start], rows[1][start] = "01-Sep-26", "2026-09-01 00:00:00"
    rows[0][born] = "1999-07-06 00:00:00"
    with extract.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    args = ["validate", str(extract), "--as-of", "2026-11-28", "--report-dir", str(tmp_path / "r")]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    hints = [(i["record"], i["message"]) for i in report["issues"] if i["code"] == "spreadsheet_date"]
    assert hints == [
        (1, f"date_of_birth: '1999-07-06 00:00:00' {DATE_AND_TIME.format(' (1999-07-06)')}"),
        (1, f"itt_start_date: '01-Sep-26' {NAMED_MONTH.format(' (2026-09-01, taking ' + repr('26') + ' as 2026)')}"),
        (2, f"itt_start_date: '2026-09-01 00:00:00' {DATE_AND_TIME.format(' (2026-09-01)')}"),
    ]


def test_an_srs_datetime_column_is_not_taken_for_a_file_resaved_by_a_spreadsheet(tmp_path):
    """A DATETIME column in every record is how the SRS exported it: exporting it again changes nothing, so the file
    is not told it looks re-saved by a spreadsheet (review151 F9), though each value gets its hint."""
    extract = tmp_path / "g.csv"
    made = CliRunner().invoke(
        cli, ["generate", "--count", "12", "--format", "hesa-csv", "-o", str(extract), "--as-of", "2026-11-28"]
    )
    assert made.exit_code == 0, made.output
    with extract.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    start = header.index("F_ITTSTARTDATE")
    for row in rows:
        row[start] = f"{row[start]} 00:00:00"
    with extract.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    result = CliRunner().invoke(
        cli, ["validate", str(extract), "--as-of", "2026-11-28", "--report-dir", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output
    codes = [i["code"] for i in json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["issues"]]
    assert codes.count("spreadsheet_date") == 12
    assert "resaved_by_a_spreadsheet" not in codes and "looks opened in a spreadsheet" not in result.output


def test_the_catalogue_names_the_new_forms():
    from register_batch.validation import CATALOGUE

    message = CATALOGUE["spreadsheet_date"].message
    assert "day-month-year" in message and "DATETIME" in message
    assert Path(__file__).parents[2].joinpath("docs", "rules.md").read_text(encoding="utf-8").count("DATETIME") >= 1


def test_a_leap_day_of_birth_only_one_century_has_is_named_alone_when_it_gives_no_age_to_take():
    """29-Feb-00 is 2000-02-29 (1900 had no 29 February); as of 2015 that is 14 years ago: "neither" of one day read
    wrong (review154 F3)."""
    from datetime import date

    from register_batch.validation.rules import _days_of_a_named_month

    assert _days_of_a_named_month("date_of_birth", "29", "2", "00", date(2015, 1, 1)) == (
        " (2000-02-29: not an age of 16 to 100, which Register requires)"
    )
    assert _days_of_a_named_month("date_of_birth", "29", "2", "00", date(2026, 11, 28)) == " (2000-02-29)"
