"""review57 F3: the messages of Register's guarded and exclusive checks, as trainee_attributes.rb runs them.

* `itt_end_date_valid` (register-api.md §3.4): returns unless both ITT dates are valid date strings, then
  `if too far … elsif too old … elsif start >= end`: one itt_end_date message at most.
* R9 (§3.3) runs `if: :valid_trainee_start_date?`, `errors[:trainee_start_date].blank?`: any trainee_start_date
  error (invalid, too old, in the future) skips it; with no start date at all there is none, and R9 runs.
* R7a (§3.3) runs `if: training_route.present? && requires_degree?`: an unknown route code is present and not
  undergraduate, so it needs a degree too.

AS_OF is 2026-11-28: 10 years before is 2016-11-28 (too old, as a time), the next 5 years end in 2031.
"""

from __future__ import annotations

import pytest

from valid_trainee import validated, with_changes

ROUTE_02 = (
    "training_route has invalid reference data value of '02'. Example values include '03', '09', '10', '11', '12', "
    "'14', '15', '16', '17', '18'..."
)
NEEDS_DEGREE = "degrees_attributes must be entered if specifying a postgraduate training_route"


def messages(**changes) -> list[tuple[str | None, str]]:
    """The errors Register's own rules give (what the emulator answers): (field, message)."""
    record = validated(with_changes(**changes), api_only=True)
    return [(i.field, i.message) for i in record.issues if i.is_error]


# --- itt_end_date_valid: exclusive, in Register's order ---------------------------------------------------------------


def test_an_end_date_too_old_and_before_the_start_gets_only_too_old():
    """The review's probe A (route 03: route 12 is refused for a 2016/17 start): Register's chain stops at
    `too_old`."""
    found = messages(
        training_route="03", itt_start_date="2016-12-01", trainee_start_date="2016-12-01", itt_end_date="2016-11-01"
    )
    assert found == [("itt_end_date", "itt_end_date must be within the last 10 years")]


def test_an_end_date_too_old_to_the_day_and_equal_to_the_start_gets_only_too_old():
    found = messages(itt_start_date="2016-11-28", trainee_start_date=None, itt_end_date="2016-11-28")
    assert ("itt_end_date", "itt_end_date must be after itt_start_date") not in found
    assert ("itt_end_date", "itt_end_date must be within the last 10 years") in found


def test_an_end_date_before_the_start_alone_is_still_refused():
    found = messages(itt_start_date="2025-09-01", itt_end_date="2025-08-31")
    assert found == [("itt_end_date", "itt_end_date must be after itt_start_date")]


def test_an_end_date_too_far_is_checked_first():
    found = messages(itt_start_date="2025-09-01", itt_end_date="2032-01-01")
    assert found == [("itt_end_date", "itt_end_date must be within the next 5 years")]


def test_no_end_date_check_without_an_itt_start_date():
    """The review's probe B2: a blank start (and so a blank trainee start) gets its own message alone."""
    found = messages(itt_start_date=None, trainee_start_date=None, itt_end_date="2040-01-01")
    assert found == [("itt_start_date", "itt_start_date can't be blank")]


def test_no_end_date_check_with_an_invalid_itt_start_date():
    found = messages(itt_start_date="2025-02-30", trainee_start_date=None, itt_end_date="2040-01-01")
    assert found == [
        ("itt_start_date", "itt_start_date is invalid"),
        ("trainee_start_date", "trainee_start_date is invalid"),
    ]


def test_an_invalid_end_date_gets_only_its_own_message():
    found = messages(itt_end_date="2025-02-30")
    assert found == [("itt_end_date", "itt_end_date is invalid")]


# --- R9 only when trainee_start_date has no error ---------------------------------------------------------------------


def test_route_12_with_a_start_over_10_years_ago_gets_only_the_start_date_message():
    """The review's probe C: route 12 is refused for a start before 2022/23, but R9 does not run at all."""
    found = messages(itt_start_date="2016-09-01", trainee_start_date="2016-09-01", itt_end_date="2017-07-01")
    assert found == [("trainee_start_date", "trainee_start_date Cannot be more than 10 years in the past")]


def test_a_trainee_start_date_in_the_future_skips_the_route_check():
    found = messages(training_route="02", trainee_start_date="2026-12-15")
    assert found == [("trainee_start_date", "trainee_start_date must be in the past")]


@pytest.mark.parametrize(
    "changes",
    [
        {"trainee_start_date": "2025-02-30"},
        {"itt_start_date": "2025-02-30", "trainee_start_date": None},  # the blank one is set to it, then invalid
    ],
)
def test_an_invalid_trainee_start_date_skips_the_route_check(changes):
    found = messages(training_route="02", **changes)
    assert ("training_route", ROUTE_02) not in found
    assert ("trainee_start_date", "trainee_start_date is invalid") in found


def test_with_no_start_date_at_all_the_route_check_runs():
    """No trainee_start_date error: `valid_trainee_start_date?` is true, and 02 is refused in any cycle."""
    found = messages(training_route="02", itt_start_date=None, trainee_start_date=None)
    assert found == [("itt_start_date", "itt_start_date can't be blank"), ("training_route", ROUTE_02)]


def test_a_valid_start_still_gets_the_route_check():
    assert messages(training_route="02") == [("training_route", ROUTE_02)]


# --- R7a for an unknown route -----------------------------------------------------------------------------------------


def test_an_unknown_route_without_a_degree_needs_one_too():
    """The review's probe D: route 99 with no degree."""
    found = messages(training_route="99", degrees_attributes=None)
    assert [message for _field, message in found] == [
        NEEDS_DEGREE,
        "training_route has invalid reference data value of '99'. Example values include '03', '09', '10', '11', "
        "'12', '14', '15', '16', '17', '18'...",
    ]


def test_no_route_needs_no_degree():
    found = messages(training_route=None, degrees_attributes=None)
    assert ("degrees_attributes", NEEDS_DEGREE) not in found
    assert ("training_route", "training_route can't be blank") in found
