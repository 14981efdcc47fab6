"""review57 F2: the ISO 8601 forms Register's `Date.iso8601` takes are not refused under Register's name.

register-api.md §3.4: "Dates must parse with Ruby `Date.iso8601`" (DateValidatable#valid_date_string?), which also
reads the basic (19950505), ordinal (1995-125) and week (1995-W18-5) forms. Register takes such a trainee and returns
the day as YYYY-MM-DD, so register-batch refuses them as its own rule (`date_not_yyyy_mm_dd`, api: no) and the
emulator, which runs Register's rules only, takes them. Genuinely invalid dates keep Register's "is invalid".
"""

from __future__ import annotations

from datetime import date

import pytest

from register_batch.model import Severity
from register_batch.validation.catalogue import CATALOGUE
from register_batch.validation.ruby_date import ruby_datetime_instant, ruby_iso8601, ruby_time_alone_day
from valid_trainee import validated, with_changes

TODAY = date(2026, 12, 4)

# What Ruby 3.1.2 (date 3.2.2) answered for `Date.iso8601(value).iso8601` on 2026-12-04 (None: it raised).
RUBY_ANSWERS = [
    ("1995-05-05", "1995-05-05"),
    ("19950505", "1995-05-05"),
    ("1995-125", "1995-05-05"),
    ("1995125", "1995-05-05"),
    ("1995-W18-5", "1995-05-05"),
    ("1995w185", "1995-05-05"),
    ("95-05-05", "1995-05-05"),
    ("950505", "1995-05-05"),
    (" 1995-05-05 ", "1995-05-05"),
    ("1995-05-05\n", "1995-05-05"),
    ("1995-05-05T10:00Z", "1995-05-05"),
    ("1995-05-05t10:00:00.5+01:00", "1995-05-05"),
    ("19950505T1000", "1995-05-05"),
    ("1995-05", "1995-05-01"),
    ("1995-", "1995-01-01"),
    ("1995--05", "1995-01-05"),
    ("--05-05", "2026-05-05"),
    ("--0505", "2026-05-05"),
    ("-125", "2026-05-05"),
    ("-W-5", "2026-12-04"),
    ("-w18-5", "2026-05-01"),
    ("2026-W53-1", "2026-12-28"),
    ("1996-366", "1996-12-31"),
    ("995-05-05", "2895-05-05"),
    ("+1995-05-05", "1995-05-05"),
    ("36086", "2036-03-26"),  # a spreadsheet's serial number for 1998-10-18: YYDDD to Ruby
    ("1995-W53-1", None),
    ("1995-366", None),
    ("2000-02-30", None),
    ("2023-02-30", None),
    ("1995-05-05T10", None),
    ("10:00", None),
    ("44927", None),
    ("1995-5-5", None),
    ("1995/05/05", None),
    ("05/05/1995", None),
    ("１９９５-05-05", None),
    ("abc", None),
    ("", None),
    ("1995-05-05" + " " * 119, None),  # over Date.iso8601's limit of 128 characters
]


# What Ruby 3.1.2 (date 3.2.2) answered for `DateTime.iso8601(value).new_offset(0)` on 2026-12-06 (None: it raised):
# a time alone is today's (review113 F3), with a zone only after the seconds; an offset beyond a day is ignored.
RUBY_INSTANTS = [
    ("2025", "2026-12-06T20:25:00"),
    ("2059", "2026-12-06T20:59:00"),
    ("10:30", "2026-12-06T10:30:00"),
    ("1030", "2026-12-06T10:30:00"),
    ("103000Z", "2026-12-06T10:30:00"),
    ("10:30:00+01:00", "2026-12-06T09:30:00"),
    (" 0000 ", "2026-12-06T00:00:00"),
    ("2400", "2026-12-07T00:00:00"),
    ("24:00:00", "2026-12-07T00:00:00"),
    ("23:59:60", "2026-12-06T23:59:59"),
    ("10:30:00.5-0800", "2026-12-06T18:30:00"),
    ("103000+24", "2026-12-05T10:30:00"),
    ("10:30:00+25:00", "2026-12-06T10:30:00"),
    ("10:30Z", None),
    ("1030Z", None),
    ("10:30+01:00", None),
    ("T10:30", None),
    ("2460", None),
    ("10:61", None),
    ("24:00:01", None),
    ("20250831T233000-0100", "2025-09-01T00:30:00"),
    ("20250901T003000+0100", "2025-08-31T23:30:00"),
    ("2025-08-31T24:00:00+01:00", "2025-08-31T23:00:00"),
    ("2025-244T23:30:00-01:00", "2025-09-02T00:30:00"),
    ("2025-W36-1T00:30+01", "2025-08-31T23:30:00"),
    ("2025-09-01T00:00:00-00", "2025-09-01T00:00:00"),
]
RUBY_TODAY = date(2026, 12, 6)


@pytest.mark.parametrize(("value", "instant"), RUBY_INSTANTS)
def test_the_port_gives_the_instant_rubys_datetime_gives(value, instant):
    found = ruby_datetime_instant(value, RUBY_TODAY)
    assert (found.strftime("%Y-%m-%dT%H:%M:%S") if found else None) == instant
    assert found is None or found.utcoffset() is not None  # an instant, compared as Ruby compares


def test_a_time_alone_is_the_day_it_is_read_on_and_nothing_else_is():
    assert ruby_time_alone_day("2025", RUBY_TODAY) == RUBY_TODAY
    assert ruby_time_alone_day("24:00", RUBY_TODAY) == date(2026, 12, 7)
    assert ruby_time_alone_day("00:30:00+01:00", RUBY_TODAY) == RUBY_TODAY  # in its own offset
    assert ruby_time_alone_day("20250831", RUBY_TODAY) is None  # a date
    assert ruby_time_alone_day("10:30Z", RUBY_TODAY) is None  # DateTime refuses it


@pytest.mark.parametrize(("value", "day"), RUBY_ANSWERS)
def test_the_port_gives_the_day_ruby_gives(value, day):
    found = ruby_iso8601(value, TODAY)
    assert (found.isoformat() if found else None) == day


def issues(api_only: bool = False, **changes) -> list[tuple[str | None, str, str, str]]:
    record = validated(with_changes(**changes), api_only=api_only)
    return [(i.field, i.code, i.severity.value, i.message) for i in record.issues]


# VALID's dates (1990-08-13, 2025-09-01, 2026-07-31) in forms Register reads.
OTHER_FORMS = [
    ("date_of_birth", "19900813", "1990-08-13"),
    ("date_of_birth", "1990-W33-1", "1990-08-13"),
    ("date_of_birth", "1990-225", "1990-08-13"),
    ("date_of_birth", "1990-08-13T00:00:00", "1990-08-13"),
    ("itt_start_date", "20250901", "2025-09-01"),
    ("itt_end_date", "2026-W31-5", "2026-07-31"),
    ("trainee_start_date", "2025-244", "2025-09-01"),
]


@pytest.mark.parametrize(("field", "value", "day"), OTHER_FORMS)
def test_a_form_register_reads_is_the_tools_own_error_not_registers(field, value, day):
    assert issues(**{field: value}) == [
        (
            field,
            "date_not_yyyy_mm_dd",
            "error",
            f"{field}: write the date as YYYY-MM-DD ({day}): Register reads '{value}' as that day but returns it as "
            "YYYY-MM-DD, so the value sent would show as changed on every sync",
        )
    ]


@pytest.mark.parametrize(("field", "value", "day"), OTHER_FORMS)
def test_registers_own_rules_take_a_form_it_reads(field, value, day):
    """The emulator runs the api rules only (Validator(api_only=True)): no issue, as Register answers 201."""
    assert issues(api_only=True, **{field: value}) == []


def test_the_rule_is_the_tools_own_and_an_error():
    entry = CATALOGUE["date_not_yyyy_mm_dd"]
    assert (entry.api, entry.severity) == (False, Severity.ERROR)
    assert CATALOGUE["invalid_date"].api


@pytest.mark.parametrize("value", ["2000-02-30", "abc", "1990-13-08", "1990-W54-1", "1990-366"])
def test_a_date_register_cannot_read_keeps_registers_message(value):
    assert issues(date_of_birth=value) == [("date_of_birth", "invalid_date", "error", "date_of_birth is invalid")]
    assert issues(api_only=True, date_of_birth=value) == issues(date_of_birth=value)


def test_registers_range_checks_judge_the_day_it_reads():
    """36086, a spreadsheet's serial number, is 2036-03-26 to Register: a birth date in the future, which Register
    says; the tool adds its own error and the spreadsheet hint."""
    assert issues(api_only=True, date_of_birth="36086") == [
        ("date_of_birth", "date_of_birth_in_future", "error", "date_of_birth must be in the past")
    ]
    assert [(code, severity) for _f, code, severity, _m in issues(date_of_birth="36086")] == [
        ("date_not_yyyy_mm_dd", "error"),
        ("spreadsheet_date", "warning"),
        ("date_of_birth_in_future", "error"),
    ]


def test_a_start_date_in_another_form_sets_the_start_cycle():
    """R12 reads the cycle of the day Register reads: 036 runs in 2025/26, not in the cycle of `now + 1 month`."""
    found = issues(api_only=True, itt_start_date="20250901", trainee_start_date="2025-W36-1", training_initiative="036")
    assert found == []


def test_a_blank_trainee_start_date_is_invalid_with_an_invalid_itt_start_date():
    """§3.4: a blank trainee_start_date is set to itt_start_date and then checked under its own name, so Register
    answers both messages (validate_trainee_start_date after validate_itt_start_and_end_dates)."""
    assert issues(api_only=True, itt_start_date="2025-13-01", trainee_start_date=None) == [
        ("itt_start_date", "invalid_date", "error", "itt_start_date is invalid"),
        ("trainee_start_date", "invalid_date", "error", "trainee_start_date is invalid"),
    ]


def test_the_spreadsheet_hint_is_given_once_for_an_itt_start_date_a_blank_trainee_start_date_takes():
    found = issues(itt_start_date="13/08/2025", trainee_start_date=None)
    assert [(field, code) for field, code, _s, _m in found] == [
        ("itt_start_date", "invalid_date"),
        ("itt_start_date", "spreadsheet_date"),
        ("trainee_start_date", "invalid_date"),
    ]
