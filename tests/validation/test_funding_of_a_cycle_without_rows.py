"""review57 F1: a start cycle Register has no funding rows for (2027/28) against one whose table is not bundled.

register-api.md §3.3 R10: fund code 7 is valid only for a route with a `funding_methods` row in the start cycle; §3.5.3
seeds those rows from `config/initializers/training_routes/funding/<cycle>/{bursaries,scholarships,grants}.rb`, and
Register's 2027_2028/ folder holds training_initiatives.rb alone. So Register refuses fund code 7 and every funded
funding_method for a 2027/28 start, and `validate` must too, as errors (the emulator then refuses as well). Older
cycles have tables in Register that register-batch does not bundle: those keep the warning.
"""

from __future__ import annotations

import pytest

from register_batch.reference import load_reference
from valid_trainee import validated, with_changes

FUND_CODE_MESSAGE = "fund_code is not valid for this trainee"


def started_in(year: int, **changes) -> dict:
    return with_changes(
        itt_start_date=f"{year}-09-01", trainee_start_date=f"{year}-09-01", itt_end_date=f"{year + 1}-07-31", **changes
    )


def found(data: dict, **options) -> list[tuple[str | None, str, str, str]]:
    return [(i.field, i.code, i.severity.value, i.message) for i in validated(data, **options).issues]


def test_2027_is_bundled_as_a_cycle_with_no_funding_rows():
    """The distinction is data: funding.yml lists 2027 with no rows, and leaves older cycles out."""
    rules = load_reference().funding.rules
    assert rules[2027] == []
    assert 2024 not in rules


@pytest.mark.parametrize("route", ["12", "03", "10"])
def test_fund_code_7_in_2027_is_refused_with_registers_message(route):
    data = started_in(2027, fund_code="7", training_route=route)
    assert found(data) == [("fund_code", "fund_code_not_valid", "error", FUND_CODE_MESSAGE)]
    assert found(data, api_only=True) == found(data)  # the emulator's answer


def test_a_bursary_with_fund_code_7_in_2027_gets_both_of_registers_messages():
    """The review's fmD_fc7_2027: physics, funding_method D (bursary), fund code 7."""
    data = started_in(2027, fund_code="7", funding_method="D", course_subject_1="100425")
    assert found(data) == [
        ("fund_code", "fund_code_not_valid", "error", FUND_CODE_MESSAGE),
        (
            "funding_method",
            "funding_method_not_available",
            "error",
            "funding_method 'bursary' is not allowed when training_route is 'provider_led_postgrad' and "
            "course_subject_1 is 'physics' in academic cycle '2027 to 2028'",
        ),
    ]


@pytest.mark.parametrize(("method", "kind"), [("4", "scholarship"), ("E", "grant"), ("7", "bursary")])
def test_every_funded_method_is_unavailable_in_2027(method, kind):
    data = started_in(2027, fund_code="7", funding_method=method, course_subject_1="100425")
    codes = [(code, message) for _f, code, _s, message in found(data) if code == "funding_method_not_available"]
    assert codes == [
        (
            "funding_method_not_available",
            f"funding_method '{kind}' is not allowed when training_route is 'provider_led_postgrad' and "
            "course_subject_1 is 'physics' in academic cycle '2027 to 2028'",
        )
    ]


def test_no_funding_in_2027_is_accepted():
    assert found(started_in(2027, fund_code="2", funding_method="6")) == []


def test_a_past_cycle_whose_table_is_not_bundled_keeps_the_warning():
    """2024/25 has rows in Register that register-batch does not bundle: not guessed, only warned about."""
    assert found(started_in(2024, fund_code="7")) == [
        (
            "funding_method",
            "funding_rules_not_bundled",
            "warning",
            "funding rules for academic cycle '2024 to 2025' are not bundled: fund_code and funding_method were not "
            "checked against Register's funding table",
        )
    ]
