"""Two more values a spreadsheet changed that Register takes or misnames (review224 F2, F3).

A 17-digit HUSID held as a number keeps 15 significant digits: 26012101313901234 is saved as 26012101313901200,
still 17 digits, which is all Register checks (register-api.md §3.3 R18; hesa-formats.md §1.4 notes such HUSIDs in
Register's own data). A warning says so, as one real HUSID in a hundred ends in 00. A degree's graduation year that a
spreadsheet turned into a date (F_DEGENDDT's 2025-07-01 as 45839 or 01/07/2025) gets spreadsheet_date's hint with the
year, and a serial number is not called a year "in the future".
"""

from __future__ import annotations

import copy

import pytest

from register_batch.validation.resaved import changed_by_a_spreadsheet
from valid_trainee import VALID, validated, with_changes

ROUNDED = (
    "hesa_id '26012101313901200' is 17 digits ending in 00, as a 17-digit HUSID is once a spreadsheet has held it as "
    "a number: it keeps 15 significant digits, and the last two are lost for good (one real HUSID in a hundred ends in "
    "00: check it against the SRS). If it was rounded: export the HUSID column as text from the SRS"
)


def issues(data: dict, **kwargs) -> list[tuple[str | None, str | None, str, str, str]]:
    record = validated(data, **kwargs)
    return [(i.field, i.value, i.code, i.severity.value, i.message) for i in record.issues]


def test_a_17_digit_husid_ending_in_00_is_said_to_be_perhaps_rounded():
    found = issues(with_changes(hesa_id="26012101313901200"))
    assert found == [("hesa_id", "26012101313901200", "hesa_id_digits_rounded", "warning", ROUNDED)]
    record = validated(with_changes(hesa_id="26012101313901200"))
    assert [changed_by_a_spreadsheet(issue) for issue in record.issues] == ["17-digit HUSIDs rounded to 15 digits"]


def test_in_registers_template_the_spreadsheet_steps_follow():
    [(_, _, code, _, message)] = issues(with_changes(hesa_id="26012161929170000"), fmt="register-csv")
    assert code == "hesa_id_digits_rounded"
    assert "If it was rounded: if an SRS or register-batch wrote the file, export the HUSID column" in message
    assert "format the code columns and hesa_id as Text" in message


def test_not_in_hesa_xml_which_no_spreadsheet_writes():
    """review228 F7: a HESA XML file's HUSID ending in 00 is the SRS's own; a CSV's may be a spreadsheet's."""
    assert issues(with_changes(hesa_id="26012101313901200"), fmt="hesa-xml") == []
    assert [code for _, _, code, _, _ in issues(with_changes(hesa_id="26012101313901200"), fmt="hesa-csv")] == [
        "hesa_id_digits_rounded"
    ]


@pytest.mark.parametrize("husid", ["26012101313901201", "2601210131390", "0310261553100", "2601210131390120O"])
def test_other_husids_are_not(husid):
    assert "hesa_id_digits_rounded" not in [code for _, _, code, _, _ in issues(with_changes(hesa_id=husid))]


def with_graduation_year(year: str) -> dict:
    data = copy.deepcopy(VALID)
    data["degrees_attributes"][0]["graduation_year"] = year
    return data


LABEL = "degrees_attributes[0].graduation_year"


@pytest.mark.parametrize(
    "value,hint",
    [
        ("45839", "date serial number (2025-07-01 in Excel): write the year, 2025, or the date as YYYY-MM-DD "
                  "(2025-07-01)"),
        ("01/07/2025", "day/month/year date: write the year, 2025, or the date as YYYY-MM-DD (2025-07-01, or "
                       "2025-01-07 if the month comes first)"),
        ("7/31/2022", "month/day/year date: write the year, 2022, or the date as YYYY-MM-DD (2022-07-31)"),
        ("31/07/2022", "day/month/year date: write the year, 2022, or the date as YYYY-MM-DD (2022-07-31)"),
        # review235 F4: a two-digit year as the one century Register takes (1967 to 2027 as of validated's day)
        ("31/07/22", "day/month/year date: write the year, 2022 (the year ending '22' that Register takes: 1967 to "
                     "2027), or the date as YYYY-MM-DD (2022-07-31)"),
        ("01/07/22", "day/month/year date: write the year, 2022 (the year ending '22' that Register takes: 1967 to "
                     "2027), or the date as YYYY-MM-DD (2022-07-01, or 2022-01-07 if the month comes first)"),
        ("7/1/70", "day/month/year date: write the year, 1970 (the year ending '70' that Register takes: 1967 to "
                   "2027), or the date as YYYY-MM-DD (1970-01-07, or 1970-07-01 if the month comes first)"),
        ("31/07/50", "day/month/year date: write the year as YYYY or the date as YYYY-MM-DD"),  # 1950 nor 2050
        # review235 F4: Excel's named-month forms, as the trainee dates' hint reads them
        ("1-Jul-22", "day-month-year date: write the year, 2022 (the year ending '22' that Register takes: 1967 to "
                     "2027), or the date as YYYY-MM-DD (2022-07-01)"),
        ("01-Jul-2022", "day-month-year date: write the year, 2022, or the date as YYYY-MM-DD (2022-07-01)"),
        ("1 Jul 2022", "day-month-year date: write the year, 2022, or the date as YYYY-MM-DD (2022-07-01)"),
        ("Jul 1, 2022", "month-day-year date: write the year, 2022, or the date as YYYY-MM-DD (2022-07-01)"),
        ("1-Jul-50", "day-month-year date: write the year as YYYY or the date as YYYY-MM-DD"),
    ],
)  # fmt: skip
def test_a_graduation_year_a_spreadsheet_made_a_date_gets_the_year(value, hint):
    found = [(field, code, message) for field, _, code, _, message in issues(with_graduation_year(value))]
    assert found == [
        (LABEL, "degree_graduation_year_invalid", "graduation_year is invalid"),
        (LABEL, "spreadsheet_date", f"{LABEL}: '{value}' looks like a spreadsheet's {hint}"),
    ]


def test_a_month_name_no_spreadsheet_writes_gets_no_hint():
    found = [code for _, _, code, _, _ in issues(with_graduation_year("1-Foo-22"))]
    assert found == ["degree_graduation_year_invalid"]


def test_a_year_in_the_future_is_still_one():
    codes = [code for _, _, code, _, _ in issues(with_graduation_year("2099"))]
    assert codes == ["degree_graduation_year_in_future", "degree_graduation_year_invalid"]


@pytest.mark.parametrize("typo", ["20255", "20224"])
def test_a_five_digit_typo_of_a_year_is_in_the_future_not_a_serial(typo):
    """review228 F4: 20255 as a serial is 1955-06-15, no graduation Register would take: a 2025 with a digit too
    many, refused as Register refuses it, with no spreadsheet hint."""
    codes = [code for _, _, code, _, _ in issues(with_graduation_year(typo))]
    assert codes == ["degree_graduation_year_in_future", "degree_graduation_year_invalid"]


def test_a_graduation_date_gets_first_the_reading_its_row_shows():
    """review228 F3: the record's other dates are month first (6/14/2027), so 7/1/2017 is 1 July first."""
    data = with_graduation_year("7/1/2017")
    data["itt_end_date"] = "6/14/2027"
    [hint] = [m for field, _, code, _, m in issues(data) if code == "spreadsheet_date" and field == LABEL]
    assert hint.endswith(
        "(2017-07-01, as this record's other dates are month first; or 2017-01-07 if the day comes first)"
    )
