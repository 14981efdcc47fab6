"""The facts every rule shares (validation/facts.py): the start cycle of register-api.md §3.3 and the `N.years.ago` of
§3.4, at their boundaries (found untested by mutation testing)."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import pytest

from register_batch.model import SourceRef, TraineeRecord
from register_batch.reference import load_reference
from register_batch.validation import Validator
from register_batch.validation.facts import Facts, cycle_of, text_facts, years_before
from valid_trainee import VALID, validated


def codes(**changes) -> set[str]:
    return {i.code for i in validated({k: v for k, v in {**VALID, **changes}.items() if v is not None}).issues}


@pytest.mark.parametrize(
    "day,cycle",
    [(date(2026, 7, 31), 2025), (date(2026, 8, 1), 2026), (date(2026, 12, 31), 2026), (date(2027, 1, 1), 2026)],
)
def test_an_academic_cycle_runs_from_1_august_to_31_july(day, cycle):
    assert cycle_of(day) == cycle


@pytest.mark.parametrize(
    "data,cycle",
    [
        ({"trainee_start_date": "2026-08-01", "itt_start_date": "2026-07-31"}, 2026),  # trainee_start_date first
        # Given but not a date: no date, and now + 1 month's cycle, not itt_start_date's (review113 F6)
        ({"trainee_start_date": "2026-13-01", "itt_start_date": "2026-07-31"}, 2026),
        ({"itt_start_date": "2026-07-31"}, 2025),  # a blank one is itt_start_date (§3.4)
        ({"itt_start_date": "2026-08-01"}, 2026),
    ],
)
def test_the_start_cycle_is_that_of_trainee_start_date_else_itt_start_date(data, cycle):
    """§3.3: "Start cycle" = the academic cycle containing trainee_start_date ‖ itt_start_date, Ruby's `||` on the
    values as sent, then Date.iso8601 or nil (academic_cyclable.rb)."""
    assert Facts.of(data, date(2026, 11, 28), load_reference()).start_cycle == cycle


@pytest.mark.parametrize("today,cycle", [(date(2026, 6, 30), 2025), (date(2026, 7, 1), 2026)])
def test_without_a_valid_start_date_the_start_cycle_is_that_of_a_month_from_now(today, cycle):
    """§3.3: neither date valid: the cycle containing now + 1 month (1 July + 1 month is 1 August)."""
    assert Facts.of({"itt_start_date": "soon"}, today, load_reference()).start_cycle == cycle


def test_years_ago_from_29_february_falls_back_to_28_february_only_when_needed():
    """Rails' `N.years.ago` on a leap day gives 28 February in a year without one, and 29 February in a leap year."""
    assert years_before(date(2028, 2, 29), 10) == date(2018, 2, 28)
    assert years_before(date(2028, 2, 29), 100) == date(1928, 2, 29)
    assert years_before(date(2026, 11, 28), 16) == date(2010, 11, 28)


def test_the_route_group_facts():
    """§3.3's route groups: early years is 17-20; a route is known when training_route.yml lists it."""
    reference = load_reference()
    early = Facts.of({"training_route": "20"}, date(2026, 11, 28), reference)
    assert (early.early_years, early.route_known) == (True, True)
    unknown = Facts.of({"training_route": "99"}, date(2026, 11, 28), reference)
    assert (unknown.early_years, unknown.route_known) == (False, False)


# The route groups and code sets of register-api.md §3.3 (and §3.1 for the magic URNs), each member seen through the
# rule that uses it.


@pytest.mark.parametrize("route", ["17", "18", "19", "20"])
def test_early_years_routes_take_the_early_years_subject(route):
    """R3: early-years routes are 17, 18, 19 and 20."""
    assert "early_years_subject_required" in codes(training_route=route, course_age_range="13920")


@pytest.mark.parametrize(
    "route,needs_degree", [("09", False), ("11", False), ("14", False), ("18", False), ("03", True)]
)
def test_only_postgraduate_routes_need_a_degree(route, needs_degree):
    """R7a: the undergraduate routes (no degree required) are 09, 11, 14 and 18."""
    assert ("degree_required" in codes(training_route=route, degrees_attributes=None)) is needs_degree


@pytest.mark.parametrize("route,needs_mode", [("16", False), ("17", False), ("15", True)])
def test_assessment_only_routes_need_no_study_mode(route, needs_mode):
    """R6: study_mode is required except on routes 16 and 17."""
    assert ("study_mode_required" in codes(training_route=route, study_mode=None)) is needs_mode


@pytest.mark.parametrize(
    "age_range,primary",
    [
        *((code, True) for code in ("13909", "13911", "13912", "13913", "13914", "13915")),
        ("13916", False),
        ("13917", False),
    ],
)
def test_primary_age_ranges_are_those_up_to_11(age_range, primary):
    """R2: primary is a mapped maximum age of 11 or less (13909, 13911-13915); 7-14 and 9-14 are not."""
    assert ("primary_subject_required" in codes(course_age_range=age_range)) is primary


@pytest.mark.parametrize("urn", ["900000", "900010", "900020", "900030"])
def test_the_magic_urns_stand_for_no_school(urn):
    """§3.1: 900000, 900010, 900020 and 900030 mean not applicable, for a school or a partner."""
    assert codes(employing_school_urn=urn, training_partner_urn=urn) == set()


@pytest.fixture
def a_zone_on_another_day(monkeypatch):
    """This process's local time zone set to one whose date is not UTC's now: 14 hours ahead from 10:00 UTC, else
    12 hours behind (POSIX names the offset with its sign turned round)."""
    if not hasattr(time, "tzset"):
        pytest.skip("time.tzset is Unix's")
    monkeypatch.setenv("TZ", "Etc/GMT-14" if datetime.now(UTC).hour >= 10 else "Etc/GMT+12")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def test_without_as_of_today_is_registers_utc_date_not_this_machines(a_zone_on_another_day):
    """§1.4: Register's time zone is UTC, so its "in the future" starts at UTC's tomorrow; a machine in another zone
    (London after midnight in summer) judged a trainee_start_date by its own date and disagreed with Register."""
    today = datetime.now(UTC).date()
    assert date.today() != today  # the zone is on another day, or this test shows nothing

    def future_start(start: date) -> bool:
        record = TraineeRecord(source=SourceRef("t.xml", 1, 3), data={**VALID, "trainee_start_date": start.isoformat()})
        Validator(load_reference()).check(record)
        return "trainee_start_date_in_future" in {i.code for i in record.issues}

    assert (future_start(today), future_start(today + timedelta(days=1))) == (False, True)


def test_ruby_to_i_reads_a_number_of_any_length_as_ruby_does():
    """Ruby's String#to_i reads any number of digits (a Bignum); int() of more than 4300 digits raises ValueError, so a
    degree's graduation_year of 5000 nines ends `validate` with "internal error" (exit 70) rather than a finding."""
    from register_batch.validation.facts import ruby_to_i

    assert ruby_to_i(" " + "9" * 5000 + "x") == 10**5000 - 1


@pytest.mark.parametrize(
    ("text", "number"),
    [
        (" \t\n\v\f\r-12_345x", -12345),  # Ruby's white space, a sign, an underscore between digits
        ("+7", 7),
        ("1_2_3", 123),
        ("1__2", 1),  # two underscores end the number
        ("12_", 12),
        ("_12", 0),
        ("2012/13", 2012),
        ("June 2012", 0),  # the number must lead: Ruby does not look further along
        ("- 5", 0),
        ("+-5", 0),
        ("\u00a012", 0),  # a no-break space is not Ruby's white space
        ("\u3000" + "12", 0),
        ("２０１２", 0),  # nor are full-width digits its digits
        ("", 0),
    ],
)
def test_ruby_to_i_reads_the_leading_number_as_ruby_does(text, number):
    """Register reads a graduation year and a listing's `page` with Ruby's String#to_i; each pair here is what Ruby 3.1
    answered for the text."""
    from register_batch.validation.facts import ruby_to_i

    assert ruby_to_i(text) == number


def test_ruby_to_i_reads_a_long_number_with_its_sign_and_underscores_as_ruby_does():
    """More digits than int() reads at once take another way: the sign and the underscores are read there too (Ruby 3.1:
    `(" -" + "9" * 5000).to_i == -(10**5000 - 1)`, `("1_" + "0" * 4500).to_i == 10**4500`)."""
    from register_batch.validation.facts import ruby_to_i

    assert ruby_to_i(" -" + "9" * 5000) == -(10**5000 - 1)
    assert ruby_to_i("+" + "9" * 5000) == 10**5000 - 1
    assert ruby_to_i("1_" + "0" * 4500) == 10**4500
    # an underscore in the digits read after the first 4,000 is left out as well (Ruby: 4,500 nines, then 1)
    assert ruby_to_i("9" * 4500 + "_1") == (10**4500 - 1) * 10 + 1


@pytest.mark.parametrize(
    "changes,facts",
    [
        ({}, (True, True)),
        ({"last_name": "Núñez"}, (False, True)),
        ({"email": "a=b@example.com"}, (True, True)),  # an `=` inside a value is no formula
        ({"last_name": "=Hughes"}, (True, False)),
        ({"last_name": "Hughes\t"}, (True, False)),
        ({"last_name": "Hug\\x0bhes"}, (True, False)),  # a backslash: perhaps an export's escape
        ({"placements_attributes": [{"urn": "=100001", "name": "One"}]}, (True, False)),
        ({"degrees_attributes": [{"subject": "100485", "institution": "Zürich"}]}, (False, True)),
        ({"last_name": "N\ufffd\ufffdez"}, (False, False)),  # U+FFFD: a letter lost (replacement_character)
        ({"placements_attributes": [{"urn": "100001", "name": "Ysgol \ufffd"}]}, (False, False)),
    ],
)
def test_text_facts_are_those_of_every_text_value_of_the_record_and_its_items(changes, facts):
    """`all_ascii` and `plain_text` (facts.text_facts), asked of the record's joined text at once: a value of a
    degree or placement counts as the record's own do, and only a value starting with `=` is a formula; text with
    U+FFFD is not plain (replacement_character looks at it)."""
    assert text_facts({**VALID, **changes}) == facts
