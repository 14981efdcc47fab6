"""A file a spreadsheet opened and saved again gets one line about the whole file (review151 F9).

Excel re-saving a HESA-named CSV changes every record the same way: ISO dates become 30/09/2000, codes lose their
leading zeros, 13-digit HUSIDs become 2.50046E+12. Each value gets its own error and hint (spreadsheet_date,
leading_zeros_lost, hesa_id_scientific_notation), thousands of rows in all, and most hints fall past report.html's
row cap. The cause is one: the file should be exported again from the SRS, not corrected row by row. The terminal
summary, report.html's summary box and report.json (a warning about the whole file, `resaved_by_a_spreadsheet`) say
so, when most records of a file carry such hints; not for a clean file, nor for a few such records among many.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from report_schema import allowed_report

AS_OF = "2026-11-28"
LOOKS_RESAVED = "the file looks opened in a spreadsheet and saved again"


def generated(folder: Path, count: int) -> Path:
    extract = folder / f"g{count}.csv"
    args = ["generate", "--count", str(count), "--format", "hesa-csv", "-o", str(extract), "--seed", "7"]
    result = CliRunner().invoke(cli, [*args, "--ukprn", "10052198", "--as-of", AS_OF], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return extract


def as_excel_saves(value: str) -> str:
    """A cell as Excel writes it back to a CSV (UK locale): dates day/month/year, numbers without leading zeros,
    numbers of more than 11 digits in scientific notation."""
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        year, month, day = value.split("-")
        return f"{day}/{month}/{year}"
    if re.fullmatch(r"\d+", value):
        number = int(value)
        if len(str(number)) > 11:
            mantissa, exponent = f"{number:.5E}".split("E")
            return f"{mantissa.rstrip('0').rstrip('.')}E+{int(exponent)}"
        return str(number)
    return value


def resaved(extract: Path, rows: int | None = None) -> Path:
    """`extract` opened in Excel and saved again as CSV: all its rows changed, or only the first `rows`."""
    with extract.open(encoding="utf-8-sig", newline="") as fh:
        header, *records = list(csv.reader(fh))
    changed = len(records) if rows is None else rows
    records = [[as_excel_saves(cell) for cell in row] for row in records[:changed]] + records[changed:]
    target = extract.with_name(f"excel-{changed}-{extract.name}")
    with target.open("w", encoding="utf-8-sig", newline="") as fh:  # Excel's "CSV UTF-8"
        csv.writer(fh, lineterminator="\r\n").writerows([header, *records])
    return target


def validate(extract: Path, folder: Path) -> tuple[str, dict, str]:
    """`register-batch validate`: its standard output (not its standard error, where a progress line may come first on
    a busy machine), report.json (checked against the schema) and report.html."""
    result = CliRunner().invoke(
        cli, ["validate", str(extract), "--as-of", AS_OF, "--report-dir", str(folder)], catch_exceptions=False
    )
    assert result.exit_code in (0, 1), result.output
    return result.stdout, allowed_report(folder), (folder / "report.html").read_text(encoding="utf-8")


def status_box(page: str) -> str:
    [box] = lxml.html.fromstring(page).find_class("status")
    return " ".join(box.text_content().split())


@pytest.fixture(scope="module")
def g500(tmp_path_factory) -> Path:
    return generated(tmp_path_factory.mktemp("g500"), 500)


def test_a_file_resaved_in_excel_is_told_once_to_be_exported_again(g500, tmp_path):
    extract = resaved(g500)
    output, report, page = validate(extract, tmp_path / "r")
    told = [issue for issue in report["issues"] if issue["code"] == "resaved_by_a_spreadsheet"]
    assert len(told) == 1
    [issue] = told
    assert (issue["input"], issue["record"], issue["field"], issue["severity"]) == (str(extract), None, None, "warning")
    message = issue["message"]
    assert message.startswith(f"{LOOKS_RESAVED}: 500 of its 500 records have values a spreadsheet changed (dates ")
    assert "codes without their leading zeros" in message and "HUSIDs" in message
    assert "export it again from the SRS" in message and "rather than correcting it row by row" in message
    # first among the issues (a whole file's), and counted once as a warning
    assert report["issues"][0] == issue
    # the terminal: right after the summary line
    lines = output.splitlines()
    assert lines[0].startswith("500 records: 0 valid, 500 with errors")
    assert lines[1] == f"{extract}: {message}"
    # report.html: in the summary box at the top, not only in the issues table past its row cap
    assert f"{extract}: {message}" in status_box(page)


def test_a_clean_file_is_not_told_it_was_resaved(g500, tmp_path):
    output, report, page = validate(g500, tmp_path / "r")
    assert LOOKS_RESAVED not in output and LOOKS_RESAVED not in page
    assert not [issue for issue in report["issues"] if issue["code"] == "resaved_by_a_spreadsheet"]


def test_two_resaved_records_of_500_get_their_own_hints_but_no_line_about_the_file(g500, tmp_path):
    output, report, page = validate(resaved(g500, rows=2), tmp_path / "r")
    hinted = {issue["record"] for issue in report["issues"] if issue["code"] == "spreadsheet_date"}
    assert hinted == {1, 2}
    assert LOOKS_RESAVED not in output and LOOKS_RESAVED not in page
    assert not [issue for issue in report["issues"] if issue["code"] == "resaved_by_a_spreadsheet"]


@pytest.mark.parametrize(
    ("count", "rows", "told"),
    [(20, 10, True), (20, 9, False), (9, 9, False), (10, 10, True)],
    ids=["half-of-20", "under-half", "too-few-records", "ten-of-ten"],
)
def test_the_line_needs_ten_records_and_half_the_file(tmp_path, count, rows, told):
    extract = resaved(generated(tmp_path, count), rows=rows)
    output, report, _page = validate(extract, tmp_path / "r")
    assert (LOOKS_RESAVED in output) is told
    found = [json.dumps(issue) for issue in report["issues"] if issue["code"] == "resaved_by_a_spreadsheet"]
    assert len(found) == told


def test_a_hesa_xml_file_with_day_month_year_dates_gets_each_hint_but_no_line_about_the_file(tmp_path):
    """No spreadsheet writes HESA XML: 30/09/2000 dates there are the SRS export's own, which exporting again would not
    change, so each value's hint says what to mend and no line says the file was resaved (review153 F4)."""
    extract = tmp_path / "g20.xml"
    args = ["generate", "--count", "20", "-o", str(extract), "--seed", "7", "--ukprn", "10052198", "--as-of", AS_OF]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    text = extract.read_text(encoding="utf-8")
    extract.write_text(re.sub(r">(\d{4})-(\d{2})-(\d{2})<", r">\3/\2/\1<", text), encoding="utf-8")
    output, report, page = validate(extract, tmp_path / "r")
    assert len({issue["record"] for issue in report["issues"] if issue["code"] == "spreadsheet_date"}) == 20
    assert LOOKS_RESAVED not in output and LOOKS_RESAVED not in page
    assert not [issue for issue in report["issues"] if issue["code"] == "resaved_by_a_spreadsheet"]


def typed_in_a_spreadsheet(folder: Path, count: int) -> Path:
    """Register's bulk-add CSV as a data officer with no SRS fills it in Excel and saves it as "CSV UTF-8": no
    leading `'` on the codes, so Excel drops their leading zeros and writes its dates as 30/09/2000 (review168 F1)."""
    extract = folder / f"template{count}.csv"
    args = ["generate", "--count", str(count), "--format", "register-csv", "-o", str(extract), "--seed", "7"]
    assert CliRunner().invoke(cli, [*args, "--as-of", AS_OF], catch_exceptions=False).exit_code == 0
    with extract.open(encoding="utf-8", newline="") as fh:
        header, *records = list(csv.reader(fh))
    records = [[as_excel_saves(cell.removeprefix("'")) for cell in row] for row in records]
    with extract.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *records])
    return extract


# The steps in a spreadsheet that keeps codes, HUSIDs and dates as Register reads them (wording.spreadsheet_steps).
STEPS = (
    "format the code columns and hesa_id as Text (or type each value with a leading ') and the date columns as "
    "yyyy-mm-dd (only if each date shows the day written: a spreadsheet that read the dates in the other day/month "
    "order has swapped them, which this format keeps; import such a column as Text instead), correct {values}, then "
    "save as 'CSV UTF-8' and validate again"
)


def test_registers_template_filled_in_a_spreadsheet_is_told_what_to_do_there_and_how_to_write_it_again(tmp_path):
    """The person who fills Register's CSV template in Excel has no SRS to export from: the line after the summary,
    its issue, the summary box's last sentence and the fix say what to do in the spreadsheet (review168 F1). An SRS or
    register-batch writes the template too (mappings.md Example 4), and such a file re-saved is written again, not
    corrected row by row: the line and the box say both ways (review172 F3)."""
    extract = typed_in_a_spreadsheet(tmp_path, 12)
    output, report, page = validate(extract, tmp_path / "r")
    [issue] = [issue for issue in report["issues"] if issue["code"] == "resaved_by_a_spreadsheet"]
    message = issue["message"]
    assert message.startswith(f"{LOOKS_RESAVED}: 12 of its 12 records have values a spreadsheet changed (dates ")
    steps = STEPS.format(values="the values the issues name")
    assert message.endswith(
        "; if an SRS or register-batch wrote the file, write it again from there rather than correcting it row by "
        f"row; if you fill it in a spreadsheet, {steps}"
    )
    assert output.splitlines()[1] == f"{extract}: {message}"
    box = status_box(page)
    assert f"{extract}: {message}" in box
    assert (
        "12 of 12 records failed validation. Register would refuse them. If an SRS or register-batch wrote the file, "
        "correct the values listed under Issues in your student record system and export again; if you fill it in "
        f"a spreadsheet, {STEPS.format(values='the values listed under Issues')}."
    ) in box
    # issues.csv's fix for the warning: the SRS's way for an SRS's extract, the spreadsheet's for the template
    with (tmp_path / "r" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        [fix] = {row["fix"] for row in csv.DictReader(fh) if row["code"] == "resaved_by_a_spreadsheet"}
    assert fix.startswith("From an SRS: export the file again")
    assert fix.endswith(f"Register's CSV template filled in by hand, with no SRS: in your spreadsheet, {steps}.")


def test_a_template_whose_only_damage_is_its_husids_is_told_to_format_hesa_id_as_text(tmp_path):
    """review172 F2: HUSIDs in a General column become 2.60117E+12 and lose their last digits for good; the advice
    named the code and date columns only, and each row's hint said to export the column from the SRS, which the
    person filling the template in has not got."""
    extract = tmp_path / "husid.csv"
    args = ["generate", "--count", "12", "--format", "register-csv", "-o", str(extract), "--seed", "7"]
    assert CliRunner().invoke(cli, [*args, "--as-of", AS_OF], catch_exceptions=False).exit_code == 0
    with extract.open(encoding="utf-8", newline="") as fh:
        header, *records = list(csv.reader(fh))
    at = header.index("hesa_id")
    for row in records:
        row[at] = as_excel_saves(row[at].removeprefix("'"))
    with extract.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *records])
    _output, report, _page = validate(extract, tmp_path / "r")
    [issue] = [issue for issue in report["issues"] if issue["code"] == "resaved_by_a_spreadsheet"]
    assert "(HUSIDs as numbers such as 2.50046E+12)" in issue["message"]
    assert "format the code columns and hesa_id as Text" in issue["message"]
    hints = {i["message"] for i in report["issues"] if i["code"] == "hesa_id_scientific_notation"}
    assert hints == {
        "hesa_id is a number in scientific notation: a spreadsheet turned this HUSID into a number and its last "
        "digits are lost; if an SRS or register-batch wrote the file, export the HUSID column as text from the SRS; "
        f"if you fill it in a spreadsheet, {STEPS.format(values='the HUSID')}"
    }
