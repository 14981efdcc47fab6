"""The trainee every rule test starts from: one valid record, changed in exactly one place by each test."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from register_batch.model import SourceRef, TraineeRecord
from register_batch.reference import load_reference
from register_batch.validation import Validator

AS_OF = date(2026, 11, 28)  # the day VALID passes every rule on

# A provider-led postgraduate trainee starting in 2025/26 that passes every rule (as of 2026-11-28).
VALID = {
    "provider_trainee_id": "99157234/2/01",
    "hesa_id": "0310261553101",
    "first_names": "Dave",
    "last_name": "George",
    "date_of_birth": "1990-08-13",
    "sex": "11",
    "email": "dave.george@example.com",
    "nationality": "GB",
    "ethnicity": "899",
    "disability1": "95",
    "itt_aim": "202",
    "training_route": "12",
    "itt_qualification_aim": "020",
    "course_subject_1": "100346",
    "study_mode": "01",
    "itt_start_date": "2025-09-01",
    "itt_end_date": "2026-07-31",
    "trainee_start_date": "2025-09-01",
    "course_age_range": "13918",
    "course_year": "1",
    "fund_code": "2",
    "funding_method": "6",
    "degrees_attributes": [
        {"uk_degree": "083", "subject": "100485", "grade": "02", "graduation_year": "2012", "institution": "0117"}
    ],
    "placements_attributes": [{"urn": "900020", "name": "Placement 1"}],
}

# VALID's degree as a non-UK one (§3.7): a type from the non-UK list and a country, no institution.
NON_UK_DEGREE = {"non_uk_degree": "083", "subject": "100485", "grade": "02", "graduation_year": "2012", "country": "FR"}


def validated(
    data: dict[str, Any],
    *,
    withdrawal: dict | None = None,
    deferral: dict | None = None,
    source: SourceRef | None = None,
    fmt: str | None = None,
    **options: Any,
) -> TraineeRecord:
    """`data` (and a withdrawal or deferral) as a record of an extract (of format `fmt`, where the hints say so),
    checked by the rules as of AS_OF; `options` go to the Validator (api_only, translation)."""
    record = TraineeRecord(
        source=source or SourceRef(input="t.xml", record=1, line=3), data=data, withdrawal=withdrawal, deferral=deferral
    )
    Validator(load_reference(), AS_OF, **options).check(record, fmt)
    return record


def with_changes(**changes: Any) -> dict[str, Any]:
    """A copy of VALID with `changes`; a change to None leaves the field out."""
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def withdrawal_for_another_reason(text: str) -> dict[str, Any]:
    """A withdrawal body whose reason is "another reason", given as `text` (the free text the text rules check)."""
    return {
        "withdrawal_date": "2026-01-15",
        "reasons": ["had_to_withdraw_trainee_another_reason"],
        "trigger": "provider",
        "future_interest": "no",
        "another_reason": text,
    }
