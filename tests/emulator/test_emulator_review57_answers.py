"""review57: the emulator answers as Register does where the rule catalogue differed from Register (over HTTP).

* F1: a 2027/28 start has no funding rows in Register (register-api.md §3.3 R10, §3.5.3): fund code 7 is a 422.
* F2: Register's `Date.iso8601` (§3.4) takes 19950505, 1995-125 and 1995-W18-5; Register keeps the day and returns it
  as YYYY-MM-DD (§1.4), so the emulator stores the day, finds duplicates by it, and sees no change in a PUT of it.
* F3: Register's exclusive and guarded checks give one message where the catalogue gave two, and R7a's degree
  message for an unknown route.

AS_OF is 2026-10-15: 10 years before is 2016-10-15.
"""

from __future__ import annotations

import pytest
from emulator_helpers import trainee_body

NEEDS_DEGREE = "degrees_attributes must be entered if specifying a postgraduate training_route"


def errors(api, **overrides) -> list[str]:
    response = api.post("/trainees", json=trainee_body(**overrides))
    assert response.status_code == 422, response.text
    return response.json()["errors"]


# --- F1 ----------------------------------------------------------------------------------------------------------


def test_fund_code_7_for_a_2027_start_is_refused(api):
    """The review's probe_F_fc7_2027 (201 before)."""
    found = errors(
        api, fund_code="7", itt_start_date="2027-09-01", itt_end_date="2028-07-31", trainee_start_date="2027-09-01"
    )
    assert found == ["fund_code is not valid for this trainee"]


def test_a_bursary_for_a_2027_start_is_refused(api):
    found = errors(
        api,
        fund_code="7",
        funding_method="D",
        itt_start_date="2027-09-01",
        itt_end_date="2028-07-31",
        training_initiative=None,
        additional_training_initiative=None,
    )
    assert found == [
        "fund_code is not valid for this trainee",
        "funding_method 'bursary' is not allowed when training_route is 'provider_led_postgrad' and "
        "course_subject_1 is 'physics' in academic cycle '2027 to 2028'",
    ]


# --- F2 ----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "day"),
    [
        ("date_of_birth", "19900101", "1990-01-01"),
        ("date_of_birth", "1990-W01-1", "1990-01-01"),
        ("date_of_birth", "1990-001", "1990-01-01"),
        ("itt_start_date", "2026-W36-2", "2026-09-01"),
        ("itt_end_date", "20270731", "2027-07-31"),
        ("trainee_start_date", "20260901", "2026-09-01"),
    ],
)
def test_a_date_in_another_iso_8601_form_is_taken_and_kept_as_the_day(api, create, field, value, day):
    created = api.post("/trainees", json=trainee_body(**{field: value}))
    assert created.status_code == 201, created.text
    slug = created.json()["data"]["trainee_id"]
    assert created.json()["data"][field] == day
    assert api.get(f"/trainees/{slug}").json()[field] == day


def test_a_put_of_the_same_day_in_another_form_changes_nothing(api, create):
    """After a PUT of 1990-01-01 (which resets the derived values a PUT recomputes, §2.6), one of 19900101 is the
    same record: not saved again."""
    slug = create()["trainee_id"]
    first = api.put(f"/trainees/{slug}", json={"data": {"date_of_birth": "1990-01-01"}})
    again = api.put(f"/trainees/{slug}", json={"data": {"date_of_birth": "19900101"}})
    assert (first.status_code, again.status_code) == (200, 200), again.text
    assert again.json()["data"]["date_of_birth"] == "1990-01-01"
    assert again.json()["data"]["updated_at"] == first.json()["data"]["updated_at"]


def test_a_put_of_another_day_in_another_form_stores_that_day(api, create):
    held = create()
    update = api.put(f"/trainees/{held['trainee_id']}", json={"data": {"itt_end_date": "2027-W27-5"}})
    assert update.status_code == 200, update.text
    assert api.get(f"/trainees/{held['trainee_id']}").json()["itt_end_date"] == "2027-07-09"


def test_a_duplicate_is_found_by_the_day_not_the_text(api, create):
    """§4 compares the date of birth: 19900101 is the trainee created with 1990-01-01."""
    create()
    again = api.post("/trainees", json=trainee_body(date_of_birth="19900101"))
    assert again.status_code == 409, again.text


def test_a_date_register_cannot_read_is_still_invalid(api):
    assert errors(api, date_of_birth="1990-02-30") == ["date_of_birth is invalid"]


# --- F3 ----------------------------------------------------------------------------------------------------------


def test_an_end_date_too_old_and_before_the_start_gets_one_message(api):
    """The review's probe A, moved to AS_OF."""
    found = errors(
        api,
        training_route="03",
        itt_start_date="2016-11-01",
        trainee_start_date="2016-11-01",
        itt_end_date="2016-10-01",
        training_initiative=None,
        additional_training_initiative=None,
    )
    assert found == ["itt_end_date must be within the last 10 years"]


def test_a_blank_start_date_gets_no_end_date_message(api):
    """The review's probe B2."""
    found = errors(api, itt_start_date=None, trainee_start_date=None, itt_end_date="2040-01-01")
    assert found == ["itt_start_date can't be blank"]


def test_route_12_with_a_start_over_10_years_ago_gets_no_route_message(api):
    """The review's probe C, moved to AS_OF."""
    found = errors(
        api,
        itt_start_date="2016-09-01",
        trainee_start_date="2016-09-01",
        itt_end_date="2017-07-01",
        training_initiative=None,
        additional_training_initiative=None,
    )
    assert found == ["trainee_start_date Cannot be more than 10 years in the past"]


def test_an_unknown_route_without_a_degree_gets_both_messages(api):
    """The review's probe D."""
    found = errors(api, training_route="99", degrees_attributes=[])
    assert found[0] == NEEDS_DEGREE
    assert found[1].startswith("training_route has invalid reference data value of '99'.")
    assert len(found) == 2
