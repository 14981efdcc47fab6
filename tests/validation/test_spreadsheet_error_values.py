"""spreadsheet_error: a spreadsheet's error value (#N/A, #NAME?, Err:502) written in place of a value (review156 F1).

A workbook of lookups over SRS reports writes `#N/A` for each lookup that found nothing; Excel writes `#NAME?` for a
name typed as `-Jones` or `+Ann`, taken for a formula. Register stores such a text as the trainee's name or id, and
cannot delete a trainee (register-api.md §3.1: no check of text beyond length). In a text field it is an error of our
own; in a coded or date field, or one refused for its form (an email address, a URN, a number: review158 F1), that
field's own error refuses it already, and a warning after it says what the value is.
"""

from __future__ import annotations

import copy
import json

import pytest

from cli_runs import validate_issues
from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.validation import CATALOGUE
from register_batch.validation.facts import text_facts
from trainee_extracts import five_trainees_saved
from valid_trainee import AS_OF, VALID, validated, with_changes, withdrawal_for_another_reason

ERRORS = [
    "#N/A",
    "#NAME?",
    "#REF!",
    "#VALUE!",
    "#DIV/0!",
    "#NUM!",
    "#NULL!",
    "#SPILL!",
    "#CALC!",
    "#GETTING_DATA",
    "#n/a",
    "Err:502",
    "Err:504",
    "#",
    "########",
]


def found(data: dict, **bodies: dict) -> list[tuple[str | None, str | None, str, str, str]]:
    return [(i.field, i.value, i.code, i.severity.value, i.message) for i in validated(data, **bodies).issues]


def error(field: str, value: str) -> tuple[str, str, str, str, str]:
    message = (
        f"{field}: '{value}' is a spreadsheet's error value (a formula or lookup that failed), not the value: "
        "Register would store it as it is"
    )
    return (field, value, "spreadsheet_error", "error", message)


@pytest.mark.parametrize("value", ERRORS)
@pytest.mark.parametrize(
    "field", ["first_names", "middle_names", "last_name", "previous_last_name", "provider_trainee_id", "ni_number"]
)
def test_an_error_value_in_a_text_field_is_an_error_of_its_own(field, value):
    # (#GETTING_DATA's `_` is a wildcard to Register's duplicate check too: last_name_wildcard says so)
    assert [f for f in found(with_changes(**{field: value})) if f[2] != "last_name_wildcard"] == [error(field, value)]


@pytest.mark.parametrize(
    "field,refused,what",
    [
        ("email", "invalid_email", "an email address"),
        ("hesa_id", "hesa_id_length", "a HUSID"),
        ("course_year", "course_year_not_integer", "a number"),
        ("application_id", "application_id_not_integer", "a number"),  # ours: Register keeps it as a number
        ("training_partner_urn", "training_partner_urn_invalid", "a URN"),
        ("training_partner_ukprn", "training_partner_ukprn_invalid", "a UKPRN"),
        ("employing_school_urn", "employing_school_urn_invalid", "a URN"),
        ("iqts_country", "iqts_country_not_allowed", "a code"),  # on a route other than iQTS
    ],
)
def test_a_field_refused_for_its_form_gets_its_own_error_then_the_hint(field, refused, what):
    """review158 F1: these got spreadsheet_error too, saying "Register would store it as it is" beside the error
    that says it would not: two errors (three for a HUSID) for one cell. Their own error says the value is wrong; the
    hint says what it is."""
    issues = [f for f in found(with_changes(**{field: "#N/A"})) if f[0] == field]
    assert [f[2] for f in issues] == [refused, "spreadsheet_error_hint"]
    assert issues[1] == hint(field, "#N/A", what)


@pytest.mark.parametrize(
    "key,field,refused,what",
    [
        ("placements_attributes", "urn", "placement_urn_invalid", "a URN"),
        ("degrees_attributes", "graduation_year", "degree_graduation_year_invalid", "a year"),
    ],
)
def test_a_placements_urn_and_a_degrees_year_get_their_own_error_then_the_hint(key, field, refused, what):
    data = copy.deepcopy(VALID)
    data[key][0][field] = "#N/A"
    named = f"{key}[0].{field}"
    issues = [f for f in found(data) if f[0] == named]
    assert [f[2] for f in issues] == [refused, "spreadsheet_error_hint"]
    assert issues[1] == hint(named, "#N/A", what)


def test_a_husid_of_13_characters_is_one_register_would_store():
    """`#GETTING_DATA` has a HUSID's length: Register checks only that (R18), and would store it."""
    assert found(with_changes(hesa_id="#GETTING_DATA")) == [error("hesa_id", "#GETTING_DATA")]


def test_a_training_partner_ukprn_beside_a_urn_is_left_alone():
    """review160 F3: Register uses the URN and never looks at the UKPRN beside it (register-api.md §3.1), so an error
    value there is nothing Register would store: it held the record back with "Register would store it as it is"."""
    data = with_changes(training_partner_urn="123456", training_partner_ukprn="#N/A")
    assert [f for f in found(data) if f[0] == "training_partner_ukprn"] == []


def test_withdrawal_reasons_get_the_hint_after_their_error():
    withdrawal = {"withdrawal_date": "2026-01-15", "reasons": ["#N/A"], "trigger": "provider", "future_interest": "no"}
    issues = found(copy.deepcopy(VALID), withdrawal=withdrawal)
    assert [f[2] for f in issues] == ["withdrawal_reasons_invalid", "spreadsheet_error_hint"]
    assert issues[1] == hint("withdrawal_reasons", "#N/A", "a code")
    mixed = {**withdrawal, "reasons": ["record_added_in_error", "#REF!"]}
    issues = found(copy.deepcopy(VALID), withdrawal=mixed)
    assert [f[2] for f in issues] == ["withdrawal_reasons_invalid", "spreadsheet_error_hint"]
    assert issues[1] == hint("withdrawal_reasons", "#REF!", "a code")


def test_an_f_ukprn_gets_the_hint_after_invalid_ukprn(tmp_path):
    """F_UKPRN is read by the mapping, whose invalid_ukprn holds the record back: the hint follows it too."""
    path = tmp_path / "lookups.csv"
    generate(path, count=2, fmt="hesa-csv", seed=17, academic_cycle=2026, as_of=AS_OF, ukprn="10052198")
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(",10052198,", ",#N/A,", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "r")
    issues = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["issues"]
    assert [(i["record"], i["field"], i["value"], i["code"], i["message"]) for i in issues] == [
        (1, "ukprn", "#N/A", "invalid_ukprn", next(i["message"] for i in issues if i["code"] == "invalid_ukprn")),
        (1, "ukprn", "#N/A", "spreadsheet_error_hint", hint("ukprn", "#N/A", "a UKPRN")[4]),
    ]


@pytest.mark.parametrize("key,field", [("placements_attributes", "name"), ("degrees_attributes", "other_grade")])
def test_a_degrees_or_a_placements_text_is_named_with_its_item(key, field):
    data = copy.deepcopy(VALID)
    data[key][0][field] = "#REF!"
    named = f"{key}[0].{field}"
    assert [f for f in found(data) if f[2] == "spreadsheet_error"] == [error(named, "#REF!")]


def test_a_withdrawals_and_a_deferrals_free_text_is_checked_too():
    withdrawal = withdrawal_for_another_reason("#N/A")
    assert found(copy.deepcopy(VALID), withdrawal=withdrawal) == [error("withdrawal_another_reason", "#N/A")]
    deferral = {"defer_date": "2026-02-01", "defer_reason": "#VALUE!"}
    assert found(copy.deepcopy(VALID), deferral=deferral) == [error("defer_reason", "#VALUE!")]


def hint(field: str, value: str, what: str) -> tuple[str, str, str, str, str]:
    message = f"{field}: '{value}' is a spreadsheet's error value (a formula or lookup that failed), not {what}"
    return (field, value, "spreadsheet_error_hint", "warning", message)


@pytest.mark.parametrize(
    "field,registers,what",
    [
        ("sex", "invalid_code", "a code"),
        ("course_subject_1", "invalid_code", "a code"),
        ("disability1", "unknown_disability", "a code"),
        ("training_route", "invalid_training_route", "a code"),
        ("date_of_birth", "invalid_date", "a date"),
        ("itt_start_date", "invalid_date", "a date"),
        ("pg_apprenticeship_start_date", "unchecked_date_invalid", "a date"),
    ],
)
def test_a_coded_or_date_field_gets_registers_error_then_the_hint(field, registers, what):
    issues = found(with_changes(**{field: "#N/A"}))
    codes = [f[2] for f in issues]
    at = codes.index(registers)
    assert issues[at][0] == field
    assert issues[at + 1] == hint(field, "#N/A", what)
    assert "spreadsheet_error" not in codes


def test_a_degrees_code_gets_the_hint_named_with_its_item():
    data = copy.deepcopy(VALID)
    data["degrees_attributes"][0]["subject"] = "#N/A"
    issues = found(data)
    assert hint("degrees_attributes[0].subject", "#N/A", "a code") in issues
    assert "spreadsheet_error" not in [f[2] for f in issues]


def test_a_withdrawal_date_gets_the_hint():
    withdrawal = {"withdrawal_date": "#VALUE!", "reasons": ["record_added_in_error"], "trigger": "provider"}
    issues = found(copy.deepcopy(VALID), withdrawal={**withdrawal, "future_interest": "no"})
    assert [f[2] for f in issues] == ["withdrawal_date_invalid", "spreadsheet_error_hint"]
    assert issues[1] == hint("withdrawal_date", "#VALUE!", "a date")


@pytest.mark.parametrize(
    "value", ["#1 Placement", "N/A", "Smith #2", "Err:", "Err:5020", "#N/A ", "a#N/A", "#NAMES?", "O'Brien"]
)
def test_a_value_that_is_not_a_whole_error_value_is_left_alone(value):
    assert [f for f in found(with_changes(last_name=value)) if f[2].startswith("spreadsheet_error")] == []


def test_registers_own_checks_give_neither():
    """The emulator runs only Register's rules (api_only): it stores '#N/A' as Register would."""
    assert found(with_changes(last_name="#N/A", sex="#N/A"), api_only=True) == [
        found(with_changes(sex="#N/A"), api_only=True)[0]
    ]
    assert not CATALOGUE["spreadsheet_error"].api and not CATALOGUE["spreadsheet_error_hint"].api


@pytest.mark.parametrize(
    "changes", [{"last_name": "#N/A"}, {"placements_attributes": [{"urn": "900020", "name": "Err:502"}]}]
)
def test_the_record_text_with_a_hash_or_err_is_not_plain(changes):
    """The text rules' fast path (facts.text_facts): a record with neither pays nothing more."""
    assert text_facts({**VALID, **changes})[1] is False


def test_validate_exits_1_for_a_csv_with_an_error_value_for_a_last_name(tmp_path):
    """Through `register-batch validate`, as the reviewer found it: a Register CSV built with lookups."""
    damaged = five_trainees_saved(tmp_path / "lookups.csv", {(0, "last_name"): "#N/A"})
    code, issues, output = validate_issues(damaged, tmp_path / "r")
    assert code == 1, output
    assert [(i["record"], i["field"], i["value"], i["code"]) for i in issues] == [
        (1, "last_name", "#N/A", "spreadsheet_error")
    ]


@pytest.mark.parametrize("value", ["Err:502", "ERR:502", "err:502"])
@pytest.mark.parametrize("elsewhere", [{}, {"provider_trainee_id": "X#1"}], ids=["plain", "hash_elsewhere"])
def test_the_verdict_on_err_does_not_hang_on_a_hash_in_another_field(value, elsewhere):
    """review158 F2: the fast path looked for `Err:` as LibreOffice writes it, the rule for any case, so `ERR:502`
    was an error only when another field held a `#`. LibreOffice writes `Err:`: only that is its error value."""
    codes = [f[2] for f in found(with_changes(last_name=value, **elsewhere)) if f[0] == "last_name"]
    assert codes == (["spreadsheet_error"] if value == "Err:502" else [])
    deferral = {"defer_date": "2026-02-01", "defer_reason": value}  # a body has no fast path
    codes = [f[2] for f in found(copy.deepcopy(VALID), deferral=deferral)]
    assert codes == (["spreadsheet_error"] if value == "Err:502" else [])
