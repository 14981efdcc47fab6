"""review15: POST /trainees answers of the emulator (over 127.0.0.1) that differed from Register v2026.1's, and one
body the emulator and the validator judged differently. Each test states Register's answer. The emulator validates
with the project's own rule catalogue (api_only), so a catalogue gap shows here too: the sync tests, which run
against the emulator, cannot catch it.
"""

from __future__ import annotations

from emulator_helpers import AS_OF, trainee_body

from register_batch.reference import load_reference
from register_batch.validation import Validator


def messages(response) -> list[str]:
    return response.json().get("errors") or []


def test_a_whitespace_only_required_field_gets_the_same_verdict_from_validator_and_emulator(api):
    body = trainee_body(first_names="   ")
    response = api.post("/trainees", json=body)
    # The emulator answers as Register does (§3.2: presence; Rails' blank? is true for whitespace).
    assert response.status_code == 422
    assert "first_names can't be blank" in messages(response)
    # The validator, given the same body, passes it: a library caller's dry run predicts a 201.
    found = [i.message for i in Validator(load_reference(), AS_OF).check_body(body["data"]) if i.is_error]
    assert "first_names can't be blank" in found


def test_now_teach_for_a_2023_start_is_created(api):
    # The helper body's additional initiative (011, primary mathematics specialist) is not a 2023/24 one: left out.
    body = trainee_body(itt_start_date="2023-09-01", itt_end_date="2027-07-31", additional_training_initiative=...)
    response = api.post("/trainees", json=body)
    assert response.status_code == 201, response.text


def test_an_email_with_spaces_around_is_refused(api):
    response = api.post("/trainees", json=trainee_body(email=" john.doe@example.com "))
    assert response.status_code == 422, response.text
    assert "email Enter an email address in the correct format, like name@example.com" in messages(response)


def test_an_email_with_a_non_ascii_domain_is_refused(api):
    response = api.post("/trainees", json=trainee_body(email="john.doe@exämple.com"))
    assert response.status_code == 422, response.text
    assert "email Enter an email address in the correct format, like name@example.com" in messages(response)


def test_an_email_whose_top_level_domain_has_a_capital_is_refused_and_one_with_capitals_before_it_is_created(api):
    """review113 F1: Register's TLD_REGEX has no /i (its PART_REGEX has), and the host is not lower-cased first."""
    refused = api.post("/trainees", json=trainee_body(email="John.Doe@Example.CO.UK"))
    assert refused.status_code == 422, refused.text
    assert "email Enter an email address in the correct format, like name@example.com" in messages(refused)
    created = api.post("/trainees", json=trainee_body(email="John.Doe@Example.CO.uk"))
    assert created.status_code == 201, created.text


def test_a_bursary_without_a_course_subject_gets_r11s_message_beside_the_subjects(api):
    """review113 F5: Rules::FundingMethod has no subject guard (§3.5.2): Register's 422 lists its message, naming the
    subject as '', beside `course_subject_1 can't be blank`."""
    response = api.post("/trainees", json=trainee_body(course_subject_1=..., funding_method="7"))
    assert response.status_code == 422, response.text
    assert {
        "course_subject_1 can't be blank",
        "funding_method 'bursary' is not allowed when fund_code is '2' and course_subject_1 is ''",
    } <= set(messages(response))


def test_an_initiative_with_no_constant_for_its_cycle_is_refused_as_register_does(api):
    """The right side of the 2023 gap: 2019/20 has no TRAINING_INITIATIVES constant in Register either (§3.3 R12)."""
    body = trainee_body(
        training_route="10",  # 12 only from 2022 (R9)
        itt_start_date="2019-09-01",
        itt_end_date="2020-07-31",
        additional_training_initiative=...,
    )
    response = api.post("/trainees", json=body)
    assert response.status_code == 422
    assert "training_initiative 'now_teach' is not available in academic cycle '2019 to 2020'" in messages(response)


def test_a_blank_email_gets_both_of_registers_messages_and_one_on_a_line_of_its_own_is_created(api):
    """review17: Register checks a blank email's format as well as its presence (EmailFormatValidator skips only nil),
    and its format check, line-anchored in Ruby, passes an address on one line of the value."""
    refused = api.post("/trainees", json=trainee_body(email=""))
    assert refused.status_code == 422, refused.text
    assert sorted(messages(refused)) == [
        "email Enter an email address in the correct format, like name@example.com",
        "email can't be blank",
    ]
    created = api.post("/trainees", json=trainee_body(email="john.doe@example.com\n"))
    assert created.status_code == 201, created.text
