"""validation.answers: where Register refuses a record for a code a mapping refuses, in Register's own words (review234
F1), field by field as register-api.md §5.1-§5.3, §3.3 and §3.7 say, checked against the rules the emulator answers
with (Validator(api_only=True)) on the same body."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from register_batch.reference import load_reference
from register_batch.validation import Validator
from register_batch.validation.answers import registers_refusal
from valid_trainee import AS_OF, NON_UK_DEGREE, VALID

UK_DEGREE = VALID["degrees_attributes"][0]

CASES = [
    # (field, value, other changes to VALID, the degree changed (None: a trainee field), Register refuses)
    ("nationality", "ZZ", {}, None, True),
    ("course_subject_1", "101085", {}, None, True),
    ("training_route", "13", {}, None, True),
    ("training_route", "02", {}, None, True),  # in Register's list, refused by R9
    ("iqts_country", "FR", {}, None, True),  # R8: off the iQTS route, whatever the code
    ("training_initiative", "P", {"funding_method": "C"}, None, False),  # R19 sets the veterans' one in its place
    ("training_initiative", "P", {}, None, True),
    ("sex", "11", {}, None, False),  # a code of Register's list, which only a mapping file refuses
    ("disability1", "08", {}, None, False),  # dropped without a word (§5.3)
    ("subject", "C800", {}, UK_DEGREE, True),  # read as blank: "must be entered"
    ("grade", "2:1", {}, UK_DEGREE, True),
    ("grade", "2:1", {}, NON_UK_DEGREE, False),  # a non-UK degree needs none: dropped
    ("institution", "9999", {}, UK_DEGREE, False),  # Other UK institution
    ("uk_degree", "XXX", {}, UK_DEGREE, True),
    ("non_uk_degree", "XXX", {}, UK_DEGREE, False),  # the other locale's type: not checked
    ("non_uk_degree", "XXX", {}, NON_UK_DEGREE, True),
    ("country", "QQ", {}, UK_DEGREE, False),  # beside an institution: dropped before the check
    ("country", "QQ", {}, NON_UK_DEGREE, True),
]


def registers_errors(data: dict[str, Any], label: str) -> list[str]:
    """The emulator's rules' errors on the field `label` names."""
    issues = Validator(load_reference(), AS_OF, api_only=True).check_body(data)
    return [issue.message for issue in issues if issue.is_error and issue.field == label]


@pytest.mark.parametrize(("field", "value", "changes", "degree", "refused"), CASES)
def test_registers_refusal_is_the_error_register_gives_and_none_where_it_gives_none(
    field, value, changes, degree, refused
):
    data = {**copy.deepcopy(VALID), **changes}
    if degree is None:
        data[field], label, held = value, field, None
    else:
        held = {**degree, field: value}
        data["degrees_attributes"], label = [held], f"degrees_attributes[0].{field}"
    answer = registers_refusal(field, value, data, held, load_reference())
    errors = registers_errors(data, label)
    if refused:
        assert answer is not None and answer in errors, (answer, errors)
    else:
        assert answer is None and errors == [], errors
