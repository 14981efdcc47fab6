"""issues.csv as Excel opens it: a double-click in Windows Excel, which is how provider data officers read it.

Excel reads a CSV without a byte-order mark in the machine's ANSI code page (Windows-1252), so every accent,
dash and arrow of UTF-8 text turns into two or three wrong characters (`Zoë` shows as `ZoÃ«`). It also turns
any cell that looks like a number or a date into one: `083` becomes 83, the HUSID `0310261553101` becomes
3.10262E+11, `01/02` becomes 1 February. Register's own CSVs keep such cells as text with a leading
apostrophe (hesa-formats.md §3.3); issues.csv does the same for the columns that quote the user's values.
"""

from __future__ import annotations

import csv
import json
from datetime import date

import pytest

from register_batch.csvsafe import as_text
from register_batch.model import API_VERSION, Severity, SourceRef, TraineeRecord
from register_batch.reports import ReportBuilder


def write_report(tmp_path, records):
    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    for record in records:
        builder.add_record(record)
    builder.finish([])
    paths = builder.write(tmp_path / "r")
    builder.close()
    return paths


def record(number: int, *, trainee_id: str, hesa_id: str, value: str, message: str = "bad value") -> TraineeRecord:
    made = TraineeRecord(
        source=SourceRef(input="extract.csv", record=number, line=number + 1),
        data={"provider_trainee_id": trainee_id, "hesa_id": hesa_id},
    )
    made.issue("invalid_code", message, field="course_subject_one", value=value, severity=Severity.ERROR)
    return made


def test_issues_csv_starts_with_a_bom_so_excel_reads_it_as_utf8(tmp_path):
    paths = write_report(
        tmp_path, [record(1, trainee_id="ÉLÈVE-1", hesa_id="2301141661279", value="Zoë", message="naïve – “x” → y")]
    )
    raw = paths["csv"].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf"), "no BOM: Excel on Windows would read the file as Windows-1252"
    assert raw.count(b"\xef\xbb\xbf") == 1
    with paths["csv"].open(newline="", encoding="utf-8-sig") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["value"] == "Zoë" and row["message"] == "naïve – “x” → y"
    assert row["provider_trainee_id"] == "ÉLÈVE-1"


def test_codes_husids_and_dates_keep_their_form_in_excel(tmp_path):
    cases = [
        # (provider_trainee_id, hesa_id, value)
        ("00123", "0310261553101", "083"),
        ("30887567/1/26", "2301141661279", "2026-11-28"),
        ("1/2", "03102615531010001", "00"),
        ("A12", "12345678901", "12E3"),
        ("7", "", "AA"),
    ]
    records = [record(n, trainee_id=t, hesa_id=h, value=v) for n, (t, h, v) in enumerate(cases, start=1)]
    paths = write_report(tmp_path, records)
    with paths["csv"].open(newline="", encoding="utf-8-sig") as fh:
        rows = [(r["provider_trainee_id"], r["hesa_id"], r["value"]) for r in csv.DictReader(fh)]
    assert rows == [
        ("'00123", "'0310261553101", "'083"),
        ("30887567/1/26", "'2301141661279", "'2026-11-28"),
        ("'1/2", "'03102615531010001", "'00"),
        ("A12", "12345678901", "'12E3"),
        ("7", "", "AA"),
    ]
    # report.json keeps every value exactly as it was read: the apostrophe is only for spreadsheets.
    issues = json.loads(paths["json"].read_text(encoding="utf-8"))["issues"]
    assert [(i["provider_trainee_id"], i["hesa_id"] or "", i["value"]) for i in issues] == cases


def test_a_date_with_a_months_name_keeps_its_form_in_excel(tmp_path):
    """An invalid_date error's value `Sep-26` (or `14-Mar-1999`, `50%`, `12:30`) showed in Excel as a date, a number or
    a time it made of it (26 September of this year): the one clue to the error, changed. It is text, as `083` is."""
    values = ["Sep-26", "14-Mar-1999", "14 March 1999", "50%", "(12)", "1,000", "12:30", "March", "May Lee"]
    paths = write_report(tmp_path, [record(n, trainee_id="S1", hesa_id="", value=v) for n, v in enumerate(values, 1)])
    with paths["csv"].open(newline="", encoding="utf-8-sig") as fh:
        written = [row["value"] for row in csv.DictReader(fh)]
    assert written == ["'" + value for value in values[:-2]] + ["March", "May Lee"]
    issues = json.loads(paths["json"].read_text(encoding="utf-8"))["issues"]
    assert [issue["value"] for issue in issues] == values


@pytest.mark.parametrize(
    "value",
    [
        *("083", "00", "0310261553101", "123456789012", "1234567890.12", "1.50", "1.", ".5", "1e5", "2E-3"),
        *("2026-11-28", "28/11/2026", "1/2", "3-11", "1.5.2026", "12-2026", "9/2026"),
        # dates with a month's name, times, percentages, accountants' negatives, thousands: Excel converts them too
        *("14-Mar-1999", "14 March 1999", "14/mar/99", "3 Mar", "Sep-26", "SEP 2026", "March 14, 1999", "May 1"),
        *("2026-11-28 10:00", "12:30", "9:05", "12:30:45", "9:05 pm", "9 AM", "50%", "1.5%", ".5%", "50 %"),
        *("(12)", "(1,000.50)", "(.5)", "1,000", "12,345.67", "1,5"),
        *("True", "FALSE", "true", "False"),  # logical values (review233 F2)
    ],
)
def test_text_a_spreadsheet_would_change_gets_an_apostrophe(value):
    assert as_text(value) == "'" + value


@pytest.mark.parametrize(
    "value",
    [
        *("", "0", "1", "11", "12345678901", "1.5", "0.5", "11.2026", "AA", "30887567/1/26", "O310261553101"),
        *("Year 1", "'083", "x-1", "1 2"),
        # a month's name that is not a date, names, codes and addresses
        *("March", "May Lee", "Mar", "SEP", "June", "Augusta 5", "Mayfield 12", "12 May Road", "Dec 2026 intake"),
        *("AB-12", "MAR1", "(a)", "()", "%", "12 Angel Road", "Flat 1, 2 High St", "1:2:3:4"),
    ],
)
def test_text_a_spreadsheet_keeps_as_it_is_is_unchanged(value):
    assert as_text(value) == value


@pytest.mark.parametrize("value", ["=1+1", "+44", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_formula_starts_still_get_exactly_one_apostrophe(value):
    assert as_text(value) == "'" + value
