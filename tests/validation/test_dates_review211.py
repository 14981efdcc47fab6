"""review211: dates judged against today, dates with a time and a time zone, spreadsheet serials, graduation years
that are not years, and `--as-of` out of range."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from valid_trainee import VALID, validated

GOOD_WITHDRAWAL = {
    "withdrawal_date": "2026-01-15",
    "reasons": ["did_not_make_progress"],
    "trigger": "trainee",
    "future_interest": "no",
}


def _issues(record) -> list[tuple[str, str | None, bool]]:
    return [(i.code, i.field, i.is_error) for i in record.issues]


# --- F1: a withdrawal or deferral dated after today ---------------------------------------------------------------


def test_a_withdrawal_dated_after_today_is_a_warning_naming_the_day_it_is_sent():
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date="2027-06-30"))
    assert _issues(record) == [("withdrawal_date_in_future", "withdrawal_date", False)]
    assert record.issues[0].message == (
        "withdrawal_date: 2027-06-30 is after today (2026-11-28, UTC): Register would withdraw the trainee at once and "
        "tell TRS, and the API cannot undo it; sync holds the withdrawal back and sends it by the first sync on or "
        "after 2027-06-30"
    )
    today = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date="2026-11-28"))
    assert _issues(today) == []


def test_a_deferral_dated_after_today_is_a_warning_and_one_of_today_is_not():
    record = validated(copy.deepcopy(VALID), deferral={"defer_date": "2027-03-01"})
    assert _issues(record) == [("defer_date_in_future", "defer_date", False)]
    assert "sync holds the deferral back and sends it by the first sync on or after 2027-03-01" in (
        record.issues[0].message
    )
    assert _issues(validated(copy.deepcopy(VALID), deferral={"defer_date": "2026-11-28"})) == []


# --- F2: a withdrawal_date with a time is not YYYY-MM-DD -----------------------------------------------------------


@pytest.mark.parametrize("written", ["2026-09-30T23:00:00Z", "2026-01-15T09:00:00Z", "2026-01-15T09:00"])
def test_a_withdrawal_date_with_a_time_is_refused_as_a_defer_date_is(written):
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    assert _issues(record) == [("date_not_yyyy_mm_dd", "withdrawal_date", True)]


# --- F3: the day offered for a date and time, and for a spreadsheet's serial --------------------------------------


def test_a_utc_converted_midnight_names_the_utc_day_and_the_uk_day_not_one_date():
    record = validated({**copy.deepcopy(VALID), "date_of_birth": "1992-04-02T23:00:00Z"})
    [message] = [i.message for i in record.issues if i.code == "date_not_yyyy_mm_dd"]
    assert "(1992-04-02)" not in message
    assert "1992-04-02 in UTC and 1992-04-03 in UK time, which Register would read as 1992-04-02" in message
    assert "the date meant is 1992-04-03" in message
    withdrawn = validated(
        copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date="2026-09-30T23:00:00Z")
    )
    assert "2026-09-30 in UTC and 2026-10-01 in UK time" in withdrawn.issues[0].message
    # A midnight with its zone is the day written: offered as before.
    midnight = validated({**copy.deepcopy(VALID), "date_of_birth": "1992-04-02T00:00:00Z"})
    [said] = [i.message for i in midnight.issues if i.code == "date_not_yyyy_mm_dd"]
    assert said.startswith("date_of_birth: write the date as YYYY-MM-DD (1992-04-02)")


def test_a_spreadsheet_date_and_time_that_is_not_midnight_does_not_offer_its_day():
    record = validated({**copy.deepcopy(VALID), "date_of_birth": "1992-04-02 23:00:00"})
    [hint] = [i.message for i in record.issues if i.code == "spreadsheet_date"]
    assert "(1992-04-02)" not in hint and "the day written is 1992-04-02" in hint
    midnight = validated({**copy.deepcopy(VALID), "date_of_birth": "1992-04-02 00:00:00"})
    [said] = [i.message for i in midnight.issues if i.code == "spreadsheet_date"]
    assert said.endswith("write the date alone as YYYY-MM-DD (1992-04-02)")


def test_a_serial_number_register_reads_as_a_date_is_not_offered_as_the_date_to_write():
    record = validated({**copy.deepcopy(VALID), "date_of_birth": "36086"})
    [error] = [i.message for i in record.issues if i.code == "date_not_yyyy_mm_dd"]
    assert "(2036-03-26)" not in error and "Register would read '36086' as 2036-03-26" in error
    [hint] = [i.message for i in record.issues if i.code == "spreadsheet_date"]
    assert "(1998-10-18 in Excel)" in hint


def test_a_serial_number_through_a_float_column_gets_the_serial_hint():
    record = validated({**copy.deepcopy(VALID), "itt_start_date": "46267.0"})
    hints = [i.message for i in record.issues if i.code == "spreadsheet_date"]
    assert hints == [
        "itt_start_date: '46267.0' looks like a spreadsheet's date serial number (2026-09-02 in Excel): write the "
        "date as YYYY-MM-DD"
    ]


def test_the_uk_day_follows_summer_time():
    from register_batch.validation.rules import uk_day  # new with review211 F3

    assert uk_day(datetime(2026, 9, 30, 23, tzinfo=UTC)) == date(2026, 10, 1)
    assert uk_day(datetime(2026, 12, 1, 23, tzinfo=UTC)) == date(2026, 12, 1)


# --- F4: a graduation year that is not a year -------------------------------------------------------------------


def _with_year(year: str):
    data = copy.deepcopy(VALID)
    data["degrees_attributes"] = [{**data["degrees_attributes"][0], "graduation_year": year}]
    return validated(data)


@pytest.mark.parametrize("written", ["2016-13-01", "2016-02-30", "2016-W27-5", "2016-07-01T00:00:00Z", "2016.0"])
def test_a_graduation_year_register_reads_as_its_leading_number_is_a_warning(written):
    record = _with_year(written)
    assert [(i.code, i.is_error) for i in record.issues] == [("degree_graduation_year_not_a_year", False)]
    assert "Register keeps 2016, the number it starts with" in record.issues[0].message


def test_an_academic_year_names_the_year_register_keeps_and_the_likely_graduation_year():
    record = _with_year("2016/17")
    assert [(i.code, i.is_error) for i in record.issues] == [("degree_graduation_year_not_a_year", False)]
    assert "Register keeps 2016, its first year; as an academic year, a 2016/17 graduate graduated in 2017" in (
        record.issues[0].message
    )


@pytest.mark.parametrize("written", ["2016", "2016-07-01"])
def test_a_year_or_a_date_is_no_warning(written):
    assert _with_year(written).issues == []


# --- F5: --as-of out of range ----------------------------------------------------------------------------------


@pytest.mark.parametrize("given", ["0026-12-07", "1899-12-31", "2101-01-01"])
def test_an_as_of_outside_1900_to_2100_is_a_usage_error(tmp_path, given):
    extract = tmp_path / "in.csv"
    extract.write_text("first_names\nA\n", encoding="utf-8")
    ran = CliRunner().invoke(cli, ["validate", str(extract), "--as-of", given, "--report-dir", str(tmp_path / "r")])
    assert ran.exit_code == 2, ran.output
    assert "is not a date from 1900 to 2100" in ran.output
