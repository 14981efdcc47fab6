"""review168 F5 and F7: a code in another letter case, and a start date that is not YYYY-MM-DD.

F5: Register's lookups are exact (hesa-formats.md §2.1, §3.3: `gb` is not `GB`), so its error for `gb`, `Trainee` or
`Yes` stands, but its words only say the value is not in the list (and its examples stop before GB). `code_case`
follows such an error with the code the value differs from in letter case only (or `yes`/`no` for a future interest
of Y or N).

F7: a start date Register reads as another day (Excel's serial 46273 is 2046-09-30 to it) or as none put the trainee in
a cycle the user never typed, and register-batch's funding and initiative findings then talked about "2046 to 2047".
While the date the start cycle is taken from is not YYYY-MM-DD, validate leaves them out (its own error says what to
mend), as it does the route's while the route is no code; Register's answer (the emulator's, `api_only`) is unchanged,
and Register's date errors are kept.
"""

from __future__ import annotations

import pytest

from one_hesa_csv import hesa_csv, invalid_issues
from register_batch.validation import Validator
from valid_trainee import NON_UK_DEGREE, validated, with_changes

AS_OF = "2026-11-28"
CASE = "(Register's codes are case-sensitive)"
# The findings that turn on the start cycle (register-api.md §3.3 R10-R13, §3.5), and register-batch's own note.
CYCLE_FINDINGS = {
    "funding_rules_not_bundled",
    "fund_code_not_valid",
    "funding_method_not_eligible",
    "funding_method_not_available",
    "initiative_not_available",
    "additional_initiative_not_available",
}


def found(data: dict, **options) -> list[tuple[str | None, str | None, str, str, str]]:
    return [(i.field, i.value, i.code, i.severity.value, i.message) for i in validated(data, **options).issues]


def withdrawal(**changes: object) -> dict:
    body = {
        "withdrawal_date": "2026-01-15",
        "reasons": ["did_not_make_progress"],
        "trigger": "provider",
        "future_interest": "no",
    }
    body.update(changes)
    return body


# --- F5 ---------------------------------------------------------------------------------------------------------------


def hint(field: str, value: str, code: str) -> tuple[str, str, str, str, str]:
    return (field, value, "code_case", "warning", f"{field}: '{value}' is not a code, but '{code}' is {CASE}")


@pytest.mark.parametrize(
    "data,field,value,code,error",
    [
        (with_changes(nationality="gb"), "nationality", "gb", "GB", "invalid_code"),
        (with_changes(nationality="Gb"), "nationality", "Gb", "GB", "invalid_code"),
        (with_changes(fund_code="7", funding_method="b"), "funding_method", "b", "B", "invalid_code"),
        (
            with_changes(training_route="15", iqts_country="fr"),
            "iqts_country",
            "fr",
            "FR",
            "invalid_iqts_country",
        ),
        (
            with_changes(degrees_attributes=[{**NON_UK_DEGREE, "country": "fr"}]),
            "degrees_attributes[0].country",
            "fr",
            "FR",
            "invalid_degree_code",
        ),
    ],
)
def test_a_code_in_another_case_is_named_beside_registers_error(monkeypatch, data, field, value, code, error):
    issues = found(data)
    [at] = [n for n, issue in enumerate(issues) if issue[2] == error and issue[0] == field]
    assert issues[at + 1] == hint(field, value, code)  # right beside the error it explains
    assert [issue for issue in issues if issue[2] == "code_case"] == [hint(field, value, code)]
    # Register's own words are untouched: the same issues as without the follow-up rules.
    monkeypatch.setattr(Validator, "_follow_up", lambda *args: None)
    assert [issue for issue in issues if issue[2] != "code_case"] == found(data)


@pytest.mark.parametrize(
    "body,field,value,message",
    [
        (
            withdrawal(trigger="Trainee", reasons=["did_not_make_progress"]),
            "withdrawal_trigger",
            "Trainee",
            f"withdrawal_trigger: 'Trainee' is not a code, but 'trainee' is {CASE}",
        ),
        (
            withdrawal(future_interest="Yes"),
            "withdrawal_future_interest",
            "Yes",
            f"withdrawal_future_interest: 'Yes' is not a code, but 'yes' is {CASE}",
        ),
        (
            withdrawal(future_interest="UNKNOWN"),
            "withdrawal_future_interest",
            "UNKNOWN",
            f"withdrawal_future_interest: 'UNKNOWN' is not a code, but 'unknown' is {CASE}",
        ),
        (
            withdrawal(future_interest="Y"),
            "withdrawal_future_interest",
            "Y",
            "withdrawal_future_interest: 'Y' is not a code, but 'yes' is (Register's codes are written in full, and "
            "are case-sensitive)",
        ),
        (
            withdrawal(future_interest="n"),
            "withdrawal_future_interest",
            "n",
            "withdrawal_future_interest: 'n' is not a code, but 'no' is (Register's codes are written in full, and "
            "are case-sensitive)",
        ),
        (
            withdrawal(reasons=["Did_Not_Make_Progress"]),
            "withdrawal_reasons",
            "Did_Not_Make_Progress",
            f"withdrawal_reasons: 'Did_Not_Make_Progress' is not a code, but 'did_not_make_progress' is {CASE}",
        ),
    ],
)
def test_a_withdrawal_value_in_another_case_is_named_beside_registers_error(body, field, value, message):
    issues = found(with_changes(), withdrawal=body)
    [at] = [n for n, issue in enumerate(issues) if issue[0] == field and issue[3] == "error"]
    assert issues[at + 1] == (field, value, "code_case", "warning", message)
    assert [issue[0] for issue in issues if issue[2] == "code_case"] == [field]


def test_each_refused_reason_in_another_case_is_named():
    body = withdrawal(reasons=["Mandatory_reasons", "no_such_reason", "stopped_responding_to_messages", "MANDATORY"])
    issues = [issue for issue in found(with_changes(), withdrawal=body) if issue[0] == "withdrawal_reasons"]
    assert [issue[2] for issue in issues] == ["withdrawal_reasons_invalid", "code_case"]
    assert issues[1][4] == f"withdrawal_reasons: 'Mandatory_reasons' is not a code, but 'mandatory_reasons' is {CASE}"


@pytest.mark.parametrize(
    ("trigger", "said"),
    [
        ("trainee", ", a reason for a provider trigger, not a trainee one"),  # corrected, it is refused still
        ("provider", ""),  # the trigger's own reason: the case is all there is to correct
        ("Trainee", ", a reason for a provider trigger only"),  # no trigger of Register's (its own error says so)
    ],
)
def test_a_reason_in_another_case_that_the_records_trigger_does_not_take_says_whose_it_is(trigger, said):
    """review172 F4: `Record_Added_In_Error` with a trainee trigger was told `record_added_in_error` is a code, which
    is a provider trigger's reason only: corrected as told, the record got the same error again."""
    body = withdrawal(reasons=["Record_Added_In_Error"], trigger=trigger)
    issues = found(with_changes(), withdrawal=body)
    [hint] = [issue for issue in issues if issue[2] == "code_case" and issue[0] == "withdrawal_reasons"]
    assert hint[4] == (
        f"withdrawal_reasons: 'Record_Added_In_Error' is not a code, but 'record_added_in_error' is{said} {CASE}"
    )


def test_a_reason_both_triggers_take_is_named_as_before():
    body = withdrawal(reasons=["Did_Not_Make_Progress"], trigger="trainee")
    [hint] = [issue for issue in found(with_changes(), withdrawal=body) if issue[0] == "withdrawal_reasons"][1:]
    said = "withdrawal_reasons: 'Did_Not_Make_Progress' is not a code, but 'did_not_make_progress' is"
    assert hint[4] == f"{said} {CASE}"


@pytest.mark.parametrize(
    "changes,body",
    [
        ({}, None),  # every code valid: nothing said
        ({}, withdrawal()),
        ({"nationality": "UK"}, None),  # not GB in another case: Register's error alone
        ({"nationality": "British"}, None),
        ({"sex": "M"}, None),  # sex codes are numbers: no case to get wrong
        ({"study_mode": "1"}, None),  # leading_zeros_lost's, not this rule's
        ({"nationality": "ｇｂ"}, None),  # full-width letters are other characters, not another case
        ({}, withdrawal(future_interest="U")),  # U is not named as unknown: only Y and N are
        ({}, withdrawal(future_interest="maybe")),
        ({}, withdrawal(trigger="T")),  # Y and N only for the future interest
    ],
)
def test_nothing_is_said_where_no_code_differs_in_case_only(changes, body):
    assert "code_case" not in {issue[2] for issue in found(with_changes(**changes), withdrawal=body)}


def test_the_emulator_answers_as_register_does():
    """api_only: Register's own rules, none of register-batch's hints."""
    issues = found(with_changes(nationality="gb"), withdrawal=withdrawal(trigger="Trainee"), api_only=True)
    assert {issue[2] for issue in issues} == {"invalid_code", "withdrawal_trigger_invalid"}


# --- F7 ---------------------------------------------------------------------------------------------------------------


def codes(data: dict, **options) -> list[tuple[str | None, str]]:
    return [(field, code) for field, _value, code, _severity, _message in found(data, **options)]


SERIAL = {"itt_start_date": "46273", "trainee_start_date": "46273"}  # 2026-09-08 in Excel, 2046-09-30 to Register


def test_a_spreadsheet_serial_start_date_gets_its_own_errors_and_no_cycle_it_puts_the_trainee_in():
    """The review's record: fund code 7, funding method 6, initiative 026 (now_teach)."""
    data = with_changes(**SERIAL, fund_code="7", funding_method="6", training_initiative="026")
    assert codes(data) == [
        ("itt_start_date", "date_not_yyyy_mm_dd"),
        ("itt_start_date", "spreadsheet_date"),
        ("trainee_start_date", "date_not_yyyy_mm_dd"),
        ("trainee_start_date", "spreadsheet_date"),
        ("itt_start_date", "itt_start_date_too_far"),  # Register's own, about the date: kept
        ("itt_end_date", "itt_end_date_before_start"),
    ]
    assert not any("2046 to 2047" in message for *_rest, message in found(data))
    # Register (the emulator) says what it says of 2046-09-30, the initiative's R12 too.
    assert codes(data, api_only=True) == [
        ("itt_start_date", "itt_start_date_too_far"),
        ("itt_end_date", "itt_end_date_before_start"),
        ("training_initiative", "initiative_not_available"),
    ]


def test_the_same_day_written_yyyy_mm_dd_is_judged_in_its_cycle():
    """Only the form is waited for: a date typed 2046-09-30 puts the trainee in 2046/27, and that is said."""
    data = with_changes(
        itt_start_date="2046-09-30",
        trainee_start_date="2046-09-30",
        itt_end_date="2047-07-31",
        fund_code="7",
        funding_method="6",
        training_initiative="026",
        additional_training_initiative="011",
    )
    found_codes = {code for _field, code in codes(data)}
    assert {"funding_rules_not_bundled", "initiative_not_available", "additional_initiative_not_available"} <= (
        found_codes
    )


@pytest.mark.parametrize(
    "dates",
    [
        {"itt_start_date": "46273", "trainee_start_date": None},  # a blank trainee start date is the ITT start's
        {"trainee_start_date": "01/09/2025"},  # no date to Register: the cycle is now + 1 month's (2026/27)
        {"trainee_start_date": "2025-09-31"},  # no such day
        {"trainee_start_date": "20250901"},  # 2025-09-01 to Register, and in 2025/26; but not YYYY-MM-DD
    ],
)
def test_the_cycle_findings_wait_while_the_date_the_cycle_is_taken_from_is_not_yyyy_mm_dd(dates):
    # 036 runs in 2025/26 (VALID's cycle) but not in 2026/27 or 2046/47; 009 runs in none of them.
    for initiative in ("036", "009"):
        data = with_changes(**dates, training_initiative=initiative, additional_training_initiative="009")
        assert not {code for _field, code in codes(data)} & CYCLE_FINDINGS
        # The record is refused for its date all the same: nothing is sent that Register would refuse.
        assert any(severity == "error" for _f, _v, _c, severity, _m in found(data))


def test_a_misread_itt_start_date_beside_a_trainee_start_date_leaves_the_cycle_findings_in():
    """The cycle is trainee_start_date's when it is given (register-api.md §3.3): a YYYY-MM-DD one keeps the trainee in
    the cycle the user typed, whatever itt_start_date says, and Register's R12 is said as Register says it."""
    data = with_changes(itt_start_date="46273", training_initiative="025")  # 025: not in 2025/26
    assert ("training_initiative", "initiative_not_available") in codes(data)


def test_funding_findings_wait_for_the_start_date_as_for_the_route():
    """R11's fund-code exception turns on the cycle (2025 and 2026 only): physics with a bursary and fund code 2 is
    allowed in 2025/26 but refused in 2046/47, a cycle the user did not type."""
    data = with_changes(course_subject_1="100425", fund_code="2", funding_method="D")
    assert codes(data) == []
    misread = with_changes(**SERIAL, course_subject_1="100425", fund_code="2", funding_method="D")
    assert "funding_method_not_eligible" not in {code for _field, code in codes(misread)}
    assert "funding_method_not_eligible" in {code for _field, code in codes(misread, api_only=True)}
    no_table = with_changes(**SERIAL, fund_code="7", funding_method="D")
    assert not {code for _field, code in codes(no_table)} & CYCLE_FINDINGS


# --- from a file ------------------------------------------------------------------------------------------------------


def test_validate_of_a_hesa_csv_names_the_case_and_no_cycle_of_a_serial_date(tmp_path):
    path = hesa_csv(tmp_path, F_NATION="gb", F_ITTSTARTDATE="46273", F_TRAINEESTARTDATE="46273", F_INITIATIVES1="026")
    issues = invalid_issues(path, tmp_path / "r")
    assert ("nationality", "code_case", f"nationality: 'gb' is not a code, but 'GB' is {CASE}") in issues
    assert not {code for _field, code, _message in issues} & CYCLE_FINDINGS
    assert ("itt_start_date", "itt_start_date_too_far") in {(field, code) for field, code, _m in issues}
