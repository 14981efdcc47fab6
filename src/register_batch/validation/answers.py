"""What Register itself answers for a code a mapping file lists under `no_translation` (the mapping's error for it).

The mapping reports such a code with the reason its file gives, and the rules say nothing more of the field
(TraineeRecord.reported). Whether the record is refused for it is Register's to say, field by field (register-api.md
§5.1-§5.3, §3.3 R8/R9/R19, §3.7): a coded trainee field's unknown code fails its `api_inclusion` check, and a
degree's type, country, subject or UK grade fails the degree; an unknown disability is dropped, an institution becomes
"Other UK institution", a non-UK degree's grade and the other locale's degree type are dropped, a country beside an
institution is dropped, an initiative sent with funding_method C is replaced, and a code of Register's list is taken.
The report's label and summary follow (review234 F1: every one was "register-batch's check", "Register would not
refuse it", while Register answered 422).
"""

from __future__ import annotations

from typing import Any

from register_batch.reference import DEGREE_CODE_FIELDS, TRAINEE_CODE_FIELDS, ReferenceData
from register_batch.validation.facts import IQTS_ROUTE
from register_batch.validation.nested import ENTERED, _country_dropped, _own_type_field, is_uk_degree
from register_batch.validation.rules import _accepted_routes, _sorted_codes, inclusion_message

# The mapping's two codes for a code its file refuses: Register refuses the record for it, or takes the record.
REFUSED = "untranslatable_code"
TAKEN = "untranslatable_code_register_takes"


def registers_refusal(
    field: str, value: str, data: dict[str, Any], degree: dict[str, Any] | None, reference: ReferenceData
) -> str | None:
    """Register's own error for `value` of the trainee's `field` (`data`), or of the degree's (`degree` given), as its
    API's 422 or its CSV upload's error report words it; None where Register takes the record (and drops, replaces or
    keeps the code). Route 02 is in Register's list, but R9 refuses it all the same; R9 is checked once
    trainee_start_date has no error, and the record is refused for the date until then."""
    if degree is not None:
        return _degree_refusal(field, value, degree, reference)
    list_name = TRAINEE_CODE_FIELDS.get(field)
    if list_name is None:
        return None  # a disability (dropped without a word, §5.3), or a field with no list
    if field == "iqts_country" and data.get("training_route") != IQTS_ROUTE:
        return "iqts_country must be blank"  # R8, whatever the code
    if field == "training_route":
        accepted = _accepted_routes(reference)
        return None if value in accepted else inclusion_message(field, value, accepted)
    if value in reference.codes(list_name):
        return None
    if field == "training_initiative" and data.get("funding_method") == "C":
        return None  # R19: the veterans' initiative is set in its place, and the code is never looked up
    return inclusion_message(field, value, _sorted_codes(reference, list_name))


def _degree_refusal(field: str, value: str, degree: dict[str, Any], reference: ReferenceData) -> str | None:
    """registers_refusal for a degree's field (register-api.md §3.7)."""
    list_name = DEGREE_CODE_FIELDS.get(field)
    if list_name is None or value in reference.codes(list_name) or field == "institution":
        return None
    if field == "subject":
        return f"subject {ENTERED}"  # an unknown code is read as blank
    if field == "grade":
        return f"grade {ENTERED}" if is_uk_degree(degree) else None  # a non-UK degree needs none: dropped
    if field == "country" and _country_dropped(degree):
        return None  # beside an institution: a UK degree's, dropped before the check
    if field in ("uk_degree", "non_uk_degree") and field != _own_type_field(degree)[0]:
        return None  # the other locale's degree type: neither checked nor kept
    return inclusion_message(field, value, _sorted_codes(reference, list_name))
