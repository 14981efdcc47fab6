"""Response objects exactly as Register v2026.1 serializes them (register-api.md §3.6-§3.8, §1.4 timestamps).

The store keeps request-level values (the codes a client sent, after the mapper's rewrites); everything a client
reads back is derived here, so a change of rule touches one place.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from register_batch.derived import NOT_PROVIDED_BACKGROUND
from register_batch.reference import DATA_DIR, ReferenceData
from register_batch.textyaml import load_text_yaml
from register_batch.validation.facts import (
    EARLY_YEARS_ROUTES,
    MAGIC_URNS,
    UNDERGRADUATE_ROUTES,
)
from register_batch.validation.nested import GRADE_REWRITES, INSTITUTION_REWRITES, graduation_year, is_uk_degree

# §3.6: ethnicity 998/999 come back as 997; ethnic_group from Diversities::BACKGROUNDS, grouped by HESA code
# (180 and 899 are other_ethnic_group, what any code not listed is; "Not provided" codes never get this far).
NOT_PROVIDED_ETHNICITY = "997"
ETHNIC_GROUPS = {
    "asian_ethnic_group": ("100", "101", "103", "104", "119"),
    "black_ethnic_group": ("120", "121", "139"),
    "mixed_ethnic_group": ("140", "141", "142", "159"),
    "white_ethnic_group": ("160", "163", "166", "168", "179"),
}
ETHNIC_GROUP_OF = {code: group for group, codes in ETHNIC_GROUPS.items() for code in codes}


def timestamp(micros: int) -> str:
    """UTC with milliseconds, `2025-09-15T12:34:56.000Z` (§1.4); stored values keep microseconds."""
    seconds, rest = divmod(int(micros), 1_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{rest // 1000:03d}Z"


def timestamp_seconds(micros: int | None) -> str | None:
    """`iso8601` without fractions, `2025-09-15T12:34:56Z` (recommended_for_award_at, §1.4)."""
    if micros is None:
        return None
    return f"{datetime.fromtimestamp(int(micros) // 1_000_000, tz=UTC):%Y-%m-%dT%H:%M:%SZ}"


@cache
def other_uk_institution_uuid() -> str | None:
    """Id of "Other UK institution" (no HESA code, so absent from the index): what unknown institutions become."""
    doc = load_text_yaml(DATA_DIR / "v2026.1" / "institution.yml")
    for value in doc["data"]:
        if value.get("name") == "other_uk":
            return str(value["id"])
    return None


def age_range(reference: ReferenceData, code: str | None) -> tuple[int | None, int | None]:
    """`course_min_age`/`course_max_age` from the age-range code (course_age_range.yml ids are `[min, max]`).

    A code is checked against the list when it is stored (§3.2), but an emulator's --db (and the embedded one's
    state dir) outlives the bundled list it was checked against: a code a later list lacks has no ages (null), not
    a 500 on every listing that holds it."""
    identity = reference.code_list("course_age_range").identities.get(code or "")
    if identity is None:
        return None, None
    low, high = json.loads(identity)
    return int(low), int(high)


def _code_or_none(reference: ReferenceData, list_name: str, value: Any) -> str | None:
    return value if isinstance(value, str) and value in reference.codes(list_name) else None


def degree_json(reference: ReferenceData, row: dict[str, Any]) -> dict[str, Any]:
    """A degree (§3.7 response): codes re-derived, UUIDs from the code lists, `graduation_year` an integer.

    Both type fields are given back whatever the locale (review113 F2): Register checks only the locale's own, but its
    mapper stores the other's too (the type's name for a code, the text of any other value) and its serializer
    re-derives a code from each, null for a value that is not one."""
    fields = row["fields"]
    uk = is_uk_degree(fields)
    uk_type = _code_or_none(reference, "degree_type", fields.get("uk_degree"))
    non_uk_type = _code_or_none(reference, "degree_type", fields.get("non_uk_degree"))
    subject = _code_or_none(reference, "degree_subject", fields.get("subject"))
    grade = _code_or_none(reference, "degree_grade", fields.get("grade"))
    grade = GRADE_REWRITES.get(grade, grade) if grade else None
    institution = None
    institution_uuid = None
    if uk:
        institution = _code_or_none(reference, "institution", fields.get("institution"))
        institution = INSTITUTION_REWRITES.get(institution, institution) if institution else None
        if institution:
            institution_uuid = reference.code_list("institution").identities.get(institution)
        else:
            institution_uuid = other_uk_institution_uuid()
    country = None if uk else _code_or_none(reference, "country", fields.get("country"))
    identities = {name: reference.code_list(name).identities for name in ("degree_type", "degree_subject")}
    year = graduation_year(fields.get("graduation_year"))
    return {
        "uk_degree": uk_type,
        "non_uk_degree": non_uk_type,
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "subject": subject,
        "institution": institution,
        "graduation_year": year,
        "grade": grade,
        "country": country,
        "other_grade": None,
        "institution_uuid": institution_uuid,
        "uk_degree_uuid": identities["degree_type"].get(uk_type) if uk and uk_type else None,  # the mapper's, UK only
        "subject_uuid": identities["degree_subject"].get(subject) if subject else None,
        "grade_uuid": reference.code_list("degree_grade").identities.get(grade) if grade else None,
        "degree_id": row["slug"],
    }


def placement_address(urn: str | None, postcode: str | None) -> str | None:
    """`full_address` (§3.8): null for magic URNs, else `URN <urn>, <postcode>` (no school table, so no town)."""
    if urn in MAGIC_URNS:
        return None
    parts = [f"URN {urn}" if urn else None, postcode]
    return ", ".join(p for p in parts if p) or None


def placement_json(row: dict[str, Any]) -> dict[str, Any]:
    """A placement (§3.8 response)."""
    fields = row["fields"]
    urn, postcode = fields.get("urn"), fields.get("postcode")
    return {
        "urn": urn,
        "name": fields.get("name"),
        "address": placement_address(urn, postcode),
        "postcode": postcode,
        "created_at": timestamp(row["created_at"]),
        "updated_at": timestamp(row["updated_at"]),
        "placement_id": row["slug"],
    }


def _integer(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _link(value: str | None) -> str | None:
    """A school or partner link: magic URNs mean "not applicable", serialized as null (§5.2). No blank is stored:
    a blank is dropped on create and clears the link on update."""
    return None if value in MAGIC_URNS else value


def trainee_json(
    reference: ReferenceData,
    trainee: dict[str, Any],
    *,
    ukprn: str,
    degrees: list[dict[str, Any]],
    placements: list[dict[str, Any]],
    withdrawal: dict[str, Any] | None,
) -> dict[str, Any]:
    """The full trainee object of §3.6 (key order as Register's serializer emits it)."""
    f = trainee["fields"]
    meta = trainee["meta"]
    route = f.get("training_route")
    ethnicity = f.get("ethnicity")
    if ethnicity not in reference.codes("ethnicity") or reference.name("ethnicity", ethnicity) == "Not provided":
        ethnicity_code, background, group = NOT_PROVIDED_ETHNICITY, NOT_PROVIDED_BACKGROUND, "not_provided_ethnic_group"
    else:
        ethnicity_code = ethnicity
        background = reference.name("ethnicity", ethnicity)
        group = ETHNIC_GROUP_OF.get(ethnicity, "other_ethnic_group")
    min_age, max_age = age_range(reference, f.get("course_age_range"))
    nationality = f.get("nationality")
    if nationality in reference.codes("nationality"):
        nationality = reference.code_list("nationality").identities.get(nationality, nationality)
    else:
        nationality = None
    withdrawal = withdrawal or {}
    body: dict[str, Any] = {
        "first_names": f.get("first_names"),
        "last_name": f.get("last_name"),
        "date_of_birth": f.get("date_of_birth"),
        "created_at": timestamp(trainee["created_at"]),
        "updated_at": timestamp(trainee["updated_at"]),
        "email": f.get("email"),
        "middle_names": f.get("middle_names"),
        "training_route": route,
        "sex": f.get("sex"),
        "diversity_disclosure": meta.get("diversity_disclosure"),
        "ethnic_group": group,
        "ethnic_background": background,
        "additional_ethnic_background": None,
        "disability_disclosure": meta.get("disability_disclosure"),
        "itt_start_date": f.get("itt_start_date"),
        "outcome_date": meta.get("outcome_date"),
        "itt_end_date": f.get("itt_end_date"),
        "trn": trainee.get("trn"),
        "submitted_for_trn_at": timestamp(meta["submitted_for_trn_at"]),  # every API trainee is submitted (§2.5)
        "defer_date": meta.get("defer_date"),
        "recommended_for_award_at": timestamp_seconds(meta.get("recommended_for_award_at")),
        "trainee_start_date": f.get("trainee_start_date"),
        "reinstate_date": meta.get("reinstate_date"),  # set by the web service only (§2.12)
        "course_min_age": min_age,
        "course_max_age": max_age,
        "awarded_at": timestamp_seconds(meta.get("awarded_at")),  # set by the award hook (awarding is DfE's)
        "training_initiative": f.get("training_initiative"),  # none kept for veterans (R19, attributes.py)
        "study_mode": f.get("study_mode"),
        "course_education_phase": meta.get("course_education_phase"),
        "hesa_id": f.get("hesa_id"),
        "record_source": meta.get("record_source", "api"),
        "provider_trainee_id": f.get("provider_trainee_id"),
        "defer_reason": meta.get("defer_reason"),
        "ukprn": ukprn,
        "ethnicity": ethnicity_code,
        "course_qualification": "EYTS" if route in EARLY_YEARS_ROUTES else "QTS",
        "course_title": None,
        "course_level": "undergrad" if route in UNDERGRADUATE_ROUTES else "postgrad",
        "course_itt_start_date": f.get("itt_start_date"),
        "course_age_range": f.get("course_age_range"),
        "employing_school_urn": _link(f.get("employing_school_urn")),
        "training_partner_ukprn": f.get("training_partner_ukprn"),
        "training_partner_urn": _link(f.get("training_partner_urn")),
        "previous_last_name": f.get("previous_last_name"),
        "itt_aim": f.get("itt_aim"),
        "course_year": _integer(f.get("course_year")),
        "pg_apprenticeship_start_date": f.get("pg_apprenticeship_start_date"),
        "funding_method": f.get("funding_method"),
        "ni_number": f.get("ni_number"),
        "additional_training_initiative": f.get("additional_training_initiative"),
        "itt_qualification_aim": f.get("itt_qualification_aim"),
        "fund_code": f.get("fund_code"),
        "course_subject_1": f.get("course_subject_1"),
        "course_subject_2": f.get("course_subject_2"),
        "course_subject_3": f.get("course_subject_3"),
        "nationality": nationality,
        "withdrawal_date": withdrawal.get("date"),
        "withdrawal_reasons": withdrawal.get("reasons"),
        "withdrawal_trigger": withdrawal.get("trigger"),
        "withdrawal_future_interest": withdrawal.get("future_interest"),
        "withdrawal_another_reason": withdrawal.get("another_reason"),
        "withdrawal_safeguarding_concern_reasons": withdrawal.get("safeguarding_concern_reasons"),
        "placements": [placement_json(p) for p in placements],
        "degrees": [degree_json(reference, d) for d in degrees],
        "state": trainee["state"],
        "trainee_id": trainee["slug"],
        "application_id": _integer(f.get("application_id")),
    }
    disabilities = meta["hesa_disabilities"]  # derived on create (§5.3), so always there
    for key in sorted(disabilities, key=lambda k: int(k[len("disability") :])):
        body[key] = disabilities[key]
    body["iqts_country"] = f.get("iqts_country")
    return body
