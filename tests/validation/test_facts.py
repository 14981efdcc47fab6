"""The facts every rule shares (validation/facts.py): the start cycle of register-api.md §3.3 and the `N.years.ago` of
§3.4, at their boundaries (found untested by mutation testing)."""

from __future__ import annotations

from datetime import date

import pytest

from register_batch.reference import load_reference
from register_batch.validation.facts import Facts, cycle_of, years_before


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
        ({"trainee_start_date": "2026-13-01", "itt_start_date": "2026-07-31"}, 2025),  # an invalid one is skipped
        ({"itt_start_date": "2026-08-01"}, 2026),
    ],
)
def test_the_start_cycle_is_that_of_trainee_start_date_else_itt_start_date(data, cycle):
    """§3.3: "Start cycle" = the academic cycle containing trainee_start_date ‖ itt_start_date."""
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
