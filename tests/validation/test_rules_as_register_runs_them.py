"""review15: where the validator's verdict differed from what Register v2026.1 does (register-api.md, and Register's
own source where the note is silent or incomplete), and the edges found right. Each test states Register's behaviour.
"""

from __future__ import annotations

import copy

import pytest

from valid_trainee import VALID, validated, with_changes


def issues(**changes) -> list[tuple[str | None, str, str]]:
    return [(i.field, i.code, i.severity.value) for i in validated(with_changes(**changes)).issues]


def errors(**changes) -> list[tuple[str | None, str]]:
    return [(field, code) for field, code, severity in issues(**changes) if severity == "error"]


def with_dates(year: int, **changes) -> dict:
    """VALID starting on 1 September of `year`, with `changes`."""
    return with_changes(**started_in(year, **changes))


def started_in(year: int, *, end_year: int | None = None, **changes) -> dict:
    """VALID's changes for a start on 1 September of `year` (trainee_start_date too)."""
    return {
        "itt_start_date": f"{year}-09-01",
        "trainee_start_date": f"{year}-09-01",
        "itt_end_date": f"{end_year or year + 1}-07-31",
        **changes,
    }


# --- R12/R13: initiatives of start cycles before 2024/25 -----------------------------------------------------------
#
# Funding::AvailableTrainingInitiativesService looks up TRAINING_INITIATIVES_<Y>_TO_<Y+1> (register-api.md §3.3 R12,
# "empty list if the constant is missing"). Register defines the constants for 2020/21 to 2023/24 too
# (config/initializers/training_routes/funding/<cycle>/training_initiatives.rb; FundingHelper's spec checks the
# 2023/24 one: future_teaching_scholars, international_relocation_payment, now_teach, transition_to_teach,
# veterans_teaching_undergraduate_bursary). funding.yml bundled only 2024-2027, so every initiative of a 2020/21 to
# 2023/24 start -- still within the 10-year window of §3.4 -- was refused here and accepted by Register.

OLDER_CYCLE_INITIATIVES = [
    pytest.param(2023, "026", id="2023 now_teach"),
    pytest.param(2023, "025", id="2023 transition_to_teach"),
    pytest.param(2023, "036", id="2023 international_relocation_payment"),
    pytest.param(2022, "026", id="2022 now_teach"),
    pytest.param(2022, "009", id="2022 maths_physics_chairs"),
]


@pytest.mark.parametrize(("year", "code"), OLDER_CYCLE_INITIATIVES)
def test_an_initiative_register_lists_for_an_older_start_cycle_is_accepted(year, code):
    assert errors(**started_in(year, end_year=2027, training_initiative=code)) == []


def test_an_additional_initiative_register_lists_for_2023_is_accepted():
    assert errors(**started_in(2023, end_year=2027, additional_training_initiative="026")) == []


def test_funding_method_c_in_2023_is_not_refused_for_the_veterans_initiative():
    found = errors(**started_in(2023, end_year=2027, funding_method="C", fund_code="7"))
    assert ("training_initiative", "initiative_not_available") not in found


def test_an_initiative_an_older_cycle_does_not_list_is_still_refused():
    """International relocation payments began in 2023/24: TRAINING_INITIATIVES_2022_TO_2023 does not list it."""
    found = errors(**started_in(2022, end_year=2027, training_initiative="036"))
    assert ("training_initiative", "initiative_not_available") in found


def test_an_initiative_register_has_no_constant_for_is_refused():
    """The other side of the above, as Register does it: 2019/20 has no constant (nor 2016/17-2018/19): refused."""
    found = errors(**started_in(2019, end_year=2020, training_route="10", training_initiative="026"))
    assert ("training_initiative", "initiative_not_available") in found


# --- R10: fund code 7 in a start cycle Register has no funding rows for -----------------------------------------------
#
# §3.5.3: "Routes with any row in a cycle are also the only routes for which fund_code = 7 is accepted (R10)". At the
# note's HEAD only 2025/26 and 2026/27 (and earlier) are seeded; 2027_2028/ holds training_initiatives.rb alone. An ITT
# start in 2027 is allowed today (§3.4: start.year <= now.year + 1), so a 2027/28 trainee with fund code 7 gets
# `fund_code is not valid for this trainee` (422) from Register while the dry run gives a warning only.


# --- email: Register's EmailFormatValidator, not today's Notify -------------------------------------------------------
#
# register-api.md §3.1: "GOV.UK Notify-style format check (app/validators/email_format_validator.rb)". Register's
# Ruby port differs from the Python Notify check email_is_valid once followed: it does not strip, does not
# IDNA-encode the host, and its label pattern is PART_REGEX = /^(xn-|[a-z0-9]+)(-[a-z0-9]+)*$/i (one hyphen between
# alphanumerics; Notify's is (xn|[a-z0-9]+)(-?-[a-z0-9]+)*). These passed here and got a 422 from Register;
# email_is_valid is now the port (checked against Ruby 3.1 running EmailFormatValidator's logic on 120,000 generated
# addresses).


def test_an_email_with_a_non_ascii_domain_is_refused():
    assert ("email", "invalid_email") in errors(email="dave.george@exämple.com")


def test_an_email_with_a_double_hyphen_in_a_domain_label_is_refused():
    assert ("email", "invalid_email") in errors(email="dave.george@my--school.org.uk")


def test_punycode_and_single_hyphens_are_accepted_as_register_accepts_them():
    assert errors(email="dave.george@xn--bcher-kva.example.org") == []
    assert errors(email="dave.george@st-marys-school.org.uk") == []


# --- blank values (§3.2: presence; Rails' blank? is true for "" and whitespace) -------------------------------------
#
# The readers turn blank cells into None, so an extract never has these; a library caller's data or a request body
# (Validator.check_body, the emulator's own path) can. Register answers `<field> can't be blank`.


@pytest.mark.parametrize("value", ["", "   "])
def test_a_blank_string_in_a_required_field_is_reported_as_blank(value):
    """A library caller's request body (Validator.check_body), as Register reads it: Rails' blank? (§3.2). A blank
    code is no value either, not an unknown code."""
    from register_batch.reference import load_reference
    from register_batch.validation.runner import Validator
    from valid_trainee import AS_OF

    body = {**copy.deepcopy(VALID), "first_names": value, "sex": value}
    found = [(i.field, i.code) for i in Validator(load_reference(), AS_OF).check_body(body) if i.is_error]
    assert found == [("first_names", "required"), ("sex", "required")]


def test_a_blank_code_in_a_request_bodys_degree_is_reported_as_not_entered():
    """check_body reads text of spaces as no value in a degree too (Rails' blank?): not an unknown subject code."""
    from register_batch.reference import load_reference
    from register_batch.validation.runner import Validator
    from valid_trainee import AS_OF

    body = copy.deepcopy(VALID)
    body["degrees_attributes"][0]["subject"] = "  "
    found = [(i.field, i.code, i.value) for i in Validator(load_reference(), AS_OF).check_body(body) if i.is_error]
    assert found == [("degrees_attributes[0].subject", "degree_subject_required", None)]


def test_a_blank_graduation_year_is_reported_as_not_entered():
    data = copy.deepcopy(VALID)
    data["degrees_attributes"][0]["graduation_year"] = ""
    found = [(i.field, i.code) for i in validated(data).issues]
    assert found == [("degrees_attributes[0].graduation_year", "degree_graduation_year_required")]


# --- degree graduation_year: Register reads it with Ruby's to_i ------------------------------------------------------
#
# §3.4: "not in [now.year+1-60, now.year+1] (Degree::MAX_GRAD_YEARS = 60; non-numeric -> 0)". The mapper converts only
# a Date.strptime("%Y-%m-%d") date to its year and passes anything else through; Degrees::GraduationYearValidator then
# tests `value.to_i` (app/validators/degrees/graduation_year_validator.rb), and the integer column casts the same. So a
# value with digits first is that year to Register: "2012.0" (what pandas writes for a year column with blanks in it)
# is 2012 and accepted, as nested.graduation_year now reads it (with facts.ruby_to_i); it once read any value that was
# not exactly YYYY or YYYY-MM-DD as 0 and refused it.


def test_a_graduation_year_written_as_a_float_is_accepted():
    data = copy.deepcopy(VALID)
    data["degrees_attributes"][0]["graduation_year"] = "2012.0"
    assert [(i.field, i.code) for i in validated(data).issues if i.is_error] == []


# --- edges checked and found right (they pin the behaviour the gaps above are judged against) ------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        # §3.4 date_of_birth: < 100.years.ago (a time: the day itself is too old) / > 16.years.ago (the day is fine).
        ({"date_of_birth": "1926-11-28"}, [("date_of_birth", "date_of_birth_too_old")]),
        ({"date_of_birth": "1926-11-29"}, []),
        ({"date_of_birth": "2010-11-28"}, []),
        ({"date_of_birth": "2010-11-29"}, [("date_of_birth", "date_of_birth_under_16")]),
        # §3.4 itt_start_date: start.year > now.year + 1 (a calendar-year test).
        (started_in(2027, end_year=2028) | {"itt_start_date": "2027-12-31", "trainee_start_date": "2027-12-31"}, []),
        (
            started_in(2028, end_year=2028) | {"itt_start_date": "2028-01-01", "trainee_start_date": "2028-01-01"},
            [("itt_start_date", "itt_start_date_too_far")],
        ),
        # §3.4 itt_end_date: end.year > now.year + 5.
        ({"itt_end_date": "2031-12-31"}, []),
        ({"itt_end_date": "2032-01-01"}, [("itt_end_date", "itt_end_date_too_far")]),
        # §3.3 R9: 12 only from the 2022 cycle, which starts on 1 August.
        (
            started_in(2022) | {"itt_start_date": "2022-07-31", "trainee_start_date": "2022-07-31"},
            [("training_route", "invalid_training_route")],
        ),
        (started_in(2022) | {"itt_start_date": "2022-08-01", "trainee_start_date": "2022-08-01"}, []),
        # §3.1 lengths are characters (Ruby String#length), not bytes.
        ({"first_names": "😀" * 60}, []),
        ({"first_names": "é" * 61}, [("first_names", "too_long")]),
        ({"hesa_id": "0310261553101"[:12]}, [("hesa_id", "hesa_id_length")]),
        # §3.2/R1: itt_aim 201 needs no qualification aim; 202 does.
        ({"itt_aim": "201", "itt_qualification_aim": None}, []),
        ({"itt_qualification_aim": None}, [("itt_qualification_aim", "qualification_aim_required")]),
    ],
)
def test_boundaries_found_right(changes, expected):
    assert errors(**changes) == expected
