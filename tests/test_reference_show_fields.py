"""`reference show` takes the field names the reports use (review151 F7).

An issue names Register's field (`course_subject_1`, `disability3`, `degrees_attributes[0].grade`), and a code list
may serve several fields (`course_subject` for course_subject_1 to 3, `degree_type` for uk_degree and non_uk_degree).
`register-batch reference show course_subject_1` was refused, so every fix had to explain which list a field reads.
The fields are read as the lists the package maps them to (reference.TRAINEE_CODE_FIELDS, DISABILITY_KEY,
DEGREE_CODE_FIELDS), so a fix can say "`register-batch reference show FIELD`" with the field as the report names it.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.validation import CATALOGUE


def show(*args: str):
    return CliRunner().invoke(cli, ["reference", "show", *args])


@pytest.mark.parametrize(
    "field,list_name",
    [
        ("course_subject_1", "course_subject"),
        ("course_subject_3", "course_subject"),
        ("additional_training_initiative", "training_initiative"),
        ("iqts_country", "country"),
        ("disability3", "disability"),
        ("disability12", "disability"),  # Register keeps every disabilityN key (register-api.md §5.3)
        ("degrees_attributes[0].grade", "degree_grade"),
        ("degrees_attributes[2].uk_degree", "degree_type"),
        ("degrees_attributes[0].non_uk_degree", "degree_type"),
        ("degrees_attributes[0].subject", "degree_subject"),
        ("degrees_attributes[1].institution", "institution"),
        ("degrees_attributes[0].country", "country"),
        ("degrees_attributes.grade", "degree_grade"),  # as rules.md's Field(s) column names it
    ],
)
def test_a_field_the_reports_name_lists_the_codes_of_its_list(field, list_name):
    shown, listed = show(field), show(list_name)
    assert shown.exit_code == 0, shown.output
    assert shown.output == listed.output and shown.output
    as_json = show(field, "--json")
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output) == json.loads(show(list_name, "--json").output)


def test_every_field_a_code_rule_names_is_shown():
    """Each field the code-list rules can name in a report (their catalogue fields, with a degree's index)."""
    fields = {
        field.replace("degrees_attributes.", "degrees_attributes[0].")
        for code in ("invalid_code", "leading_zeros_lost")
        for field in CATALOGUE[code].fields
    }
    assert {"course_subject_2", "disability9", "degrees_attributes[0].uk_degree"} <= fields
    refused = {field: result.output for field in sorted(fields) if (result := show(field)).exit_code}
    assert refused == {}


@pytest.mark.parametrize(
    "field", ["colour", "course_subject_4", "degrees_attributes[0].graduation_year", "disability", "disabilityx"]
)
def test_other_names_are_still_refused_or_are_lists(field):
    result = show(field)
    if field == "disability":  # a list's own name
        assert result.exit_code == 0
        return
    assert result.exit_code == 2
    assert f"Invalid value for FIELD: unknown field '{field}'; known: country, course_age_range," in result.output


def test_the_invalid_code_fix_no_longer_explains_which_list_a_field_reads():
    fix = CATALOGUE["invalid_code"].fix
    assert "`register-batch reference show FIELD`, with FIELD as the report names it" in fix
    assert "the list is" not in fix
