"""What Register does to a request body before validating it: strong params, the HESA mapper's rewrites, and the
merge of a PUT into the stored record (register-api.md §1.4, §2.5, §2.6, §3.7, §3.8, §5).

The emulator stores request-level values (the codes a client sent), so that a merged PUT can be validated by the
project's rule catalogue exactly like a POST body.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from register_batch.derived import disability_disclosure, diversity_disclosure, education_phase
from register_batch.model import DEGREE_FIELDS, PLACEMENT_FIELDS, TRAINEE_FIELDS
from register_batch.reference import DISABILITY_FIELDS, DISABILITY_KEY, ReferenceData
from register_batch.validation.facts import (
    IQTS_ROUTE,
    MAGIC_URN_NAMES,
    MAGIC_URNS,
    cycle_of,
    parse_date,
    register_date,
)
from register_batch.validation.nested import NON_UK_LOCALE, UK_LOCALE, is_uk_degree
from register_batch.validation.rules import repeated_disability

# Stored raw and compared with the string code list by `include?`, so a JSON number fails inclusion (§5.1).
RAW_CODE_FIELDS = frozenset(
    {
        "itt_aim",
        "itt_qualification_aim",
        "fund_code",
        "funding_method",
        "course_age_range",
        "additional_training_initiative",
    }
)
# `course_subject_2/3` are cleared by `null` too (ALLOWED_NIL_PARAMS, §2.6).
NIL_CLEARS = frozenset({"course_subject_2", "course_subject_3"})
TRAINEE_SCALARS = frozenset(TRAINEE_FIELDS)
# The trainee dates Register reads with Date.iso8601 (§3.4) and keeps in date columns.
DATE_FIELDS = ("date_of_birth", "itt_start_date", "itt_end_date", "trainee_start_date")


def is_disability_key(key: str) -> bool:
    """Whether `key` is one `hesa_disabilities` holds (any number: disability10 too, §5.3)."""
    return DISABILITY_KEY.fullmatch(key) is not None


def mapped_disabilities(disabilities: dict[str, Any]) -> dict[str, Any]:
    """The disability keys the mapper turns into disabilities (`disabilities`: 1 to 9, §5.3), for the disclosures
    derived from them; `hesa_disabilities` holds every key matching DISABILITY_KEY, which GET echoes."""
    return {k: v for k, v in disabilities.items() if k in DISABILITY_FIELDS}


def is_blank(value: Any) -> bool:
    """Rails' `blank?` for a scalar (what `_scalar` lets through: structured values never get here)."""
    return value is None or (isinstance(value, str) and not value.strip())


def _scalar(field: str, value: Any, *, raw_numbers: frozenset[str] = frozenset()) -> Any:
    """A permitted scalar as the attribute sees it, or None when strong params would drop it."""
    if isinstance(value, dict | list):
        return None  # a scalar key with a structured value is filtered out by `permit`
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float) and field not in raw_numbers:  # `to_s`, as the mapper reads codes (§5.1)
        return str(value)
    return value


def permit_trainee(data: dict[str, Any]) -> dict[str, Any]:
    """The permitted trainee keys (§3.1, and disability keys past 9), `null`s dropped like the mapper's `.compact`;
    blanks kept as ''. A disability key keeps its `null`: `.compact` works on the mapper's own keys, and
    `hesa_disabilities` (one of them) holds every disability key as sent, null included (§5.3)."""
    found: dict[str, Any] = {}
    for key, value in data.items():
        if key not in TRAINEE_SCALARS and not is_disability_key(key):
            continue  # unknown and read-only keys (e.g. `trn`) are dropped (§1.4)
        if value is None and is_disability_key(key):
            found[key] = None
            continue
        value = _scalar(key, value, raw_numbers=RAW_CODE_FIELDS)
        if value is not None:
            found[key] = "" if is_blank(value) else value
    return found


def _nested_items(value: Any) -> list[dict[str, Any]]:
    """`*_attributes` as an array of objects, or Rails' `{"0": {...}}` form."""
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, list):
        return []
    return [item for item in value if isinstance(item, dict)]


def permit_degree(data: dict[str, Any]) -> dict[str, Any]:
    """A degree body's permitted keys (§3.7); blanks dropped (an unknown or blank code is 'not entered')."""
    found: dict[str, Any] = {}
    for key in DEGREE_FIELDS:
        if key not in data:
            continue
        value = _scalar(key, data[key])  # a graduation_year of 2012 is read as "2012" is (§3.4)
        if not is_blank(value):
            found[key] = value
    return found


def with_locale(degree: dict[str, Any], locale_from: dict[str, Any]) -> dict[str, Any]:
    """`degree` with the `locale_code` the mapper works out from `locale_from`, the request's degree keys (§3.7)."""
    return {**degree, "locale_code": UK_LOCALE if is_uk_degree(locale_from) else NON_UK_LOCALE}


def mapped_degree(degree: dict[str, Any]) -> dict[str, Any]:
    """A degree body as `DegreeAttributes` gets it from the mapper: the country of one sent with an institution,
    which it takes for a UK degree, nulled (`uk_country_or_uk_institution_present?`, §3.7) and so not written, before
    it is checked: an unknown code there (GB) is never refused (review91 F2, review94 F1)."""
    if degree.get("institution") is None:
        return degree
    return {key: value for key, value in degree.items() if key != "country"}


def permit_placement(data: dict[str, Any]) -> dict[str, Any]:
    """A placement body's permitted keys (§3.8), blanks dropped."""
    found: dict[str, Any] = {}
    for key in PLACEMENT_FIELDS:
        value = _scalar(key, data.get(key))
        if not is_blank(value):
            found[key] = value
    return found


def nested_placement(placement: dict[str, Any]) -> dict[str, Any]:
    """`HesaMapper::PlacementAttributes` on create: postcode dropped, magic URNs get their label (§3.8)."""
    mapped = {k: v for k, v in placement.items() if k in ("urn", "name")}
    if mapped.get("urn") in MAGIC_URNS:
        mapped["name"] = MAGIC_URN_NAMES[mapped["urn"]]
    return mapped


def create_body(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(fields to validate and store, the keys that were present): the POST /trainees body after the mapper."""
    present = permit_trainee(data)
    # A blank email stays: Register checks its format as well as its presence (EmailFormatValidator skips only nil).
    # So does a blank disability key: `hesa_disabilities` is every disability key as sent (§5.3), echoed by GET.
    fields = {k: v for k, v in present.items() if v != "" or k == "email" or is_disability_key(k)}
    if "training_partner_urn" in present:
        fields.pop("training_partner_ukprn", None)  # the URN wins whenever its key is present, even blank (§3.1)
    body = {
        **fields,
        "degrees_attributes": [permit_degree(d) for d in _nested_items(data.get("degrees_attributes"))],
        "placements_attributes": [permit_placement(p) for p in _nested_items(data.get("placements_attributes"))],
    }
    return body, present


def with_register_dates(fields: dict[str, Any], today: date) -> dict[str, Any]:
    """`fields` with each date as Register keeps it once validation passed: the day, returned as YYYY-MM-DD (§1.4,
    §3.6), whichever ISO 8601 form `Date.iso8601` took (19950505, 1995-125, 1995-W18-5). So duplicate checks,
    listings and GET see the day, not the text sent (review57 F2). Register stores it through Rails' date cast,
    which reads the calendar forms alike; by code reading (not run) the cast gives no day for an ordinal or week
    date, which register-batch never sends (its date_not_yyyy_mm_dd rule refuses them)."""
    kept = dict(fields)
    for key in DATE_FIELDS:
        day = register_date(kept.get(key), today)
        if day is not None:
            kept[key] = day.isoformat()
    if (unchecked := kept.get("pg_apprenticeship_start_date")) is not None:
        cast = rails_date_cast(unchecked)
        if cast is None:
            kept.pop("pg_apprenticeship_start_date")
        else:
            kept["pg_apprenticeship_start_date"] = cast.isoformat()
    return kept


# Rails' date cast (ActiveModel::Type::Date): YYYY-MM-DD first (its fast path), else `Date._parse`, whose forms this
# reads only as far as a leading YYYY-MM-DD (2025-09-01T00:00:00Z) and day/month/year (03/04/2025 is 3 April).
_LEADING_ISO_DAY = re.compile(r"\s*([0-9]{4})-([0-9]{2})-([0-9]{2})(?![0-9])")
_DAY_MONTH_YEAR = re.compile(r"\s*([0-9]{1,2})/([0-9]{1,2})/([0-9]{4})\s*")


def rails_date_cast(value: Any) -> date | None:
    """pg_apprenticeship_start_date as Register keeps it: Register checks nothing of it but stores it in a `date`
    column (hesa-formats.md §3.4, app/models/hesa/trainee_detail.rb), so it answers the day as YYYY-MM-DD, or null
    where the cast finds no day (review211 F6). By code reading of Rails, not run against Register (inference): the
    emulator reads the two forms above and gives null for every other (Rails' `Date._parse` reads some more, such
    as 3 April 2025; register-batch's unchecked_date_invalid refuses them all before sending)."""
    if isinstance(value, date):
        return value
    text = str(value)
    parts = _LEADING_ISO_DAY.match(text)
    if parts is not None:
        year, month, day = parts.groups()
    elif (parts := _DAY_MONTH_YEAR.fullmatch(text)) is not None:
        day, month, year = parts.groups()
    else:
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:  # 2025-02-30: Rails' cast gives nil
        return None


def derived_on_create(reference: ReferenceData, fields: dict[str, Any]) -> dict[str, Any]:
    """Values the mapper derives on create (§2.5, §5.2, §5.3): stored beside the fields."""
    disabilities = {k: v for k, v in fields.items() if is_disability_key(k)}
    mapped = mapped_disabilities(disabilities)
    return {
        "course_education_phase": education_phase(fields.get("training_route"), fields.get("course_age_range")),
        "diversity_disclosure": diversity_disclosure(reference, fields.get("ethnicity"), mapped),
        "disability_disclosure": disability_disclosure(reference, mapped),
        "hesa_disabilities": disabilities,
        "veterans_initiative": fields.get("funding_method") == "C",
    }


def store_fields(fields: dict[str, Any]) -> dict[str, Any]:
    """The trainee fields kept after create: trainee_start_date defaults to itt_start_date; R19 veterans."""
    kept = {k: v for k, v in fields.items() if k not in ("degrees_attributes", "placements_attributes")}
    kept = {k: v for k, v in kept.items() if not is_disability_key(k)}
    kept.setdefault("trainee_start_date", kept["itt_start_date"])  # itt_start_date is required (§3.2)
    if kept.get("funding_method") == "C":
        kept.pop("training_initiative", None)  # R19: the veteran bursary initiative replaces any sent value
    return kept


def merge_update(
    reference: ReferenceData, stored: dict[str, Any], meta: dict[str, Any], data: dict[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """PUT/PATCH semantics of §2.6: (merged fields, merged meta) before validation.

    * `null` leaves a value alone, `""` clears it; `course_subject_2/3` are cleared by either. A blank email is kept
      as `""` (the mapper's `.compact` drops nil only), so the merged record gets both email messages.
    * Disability keys merge by key into the stored set, a `""` held as `""` (`update_hesa_disabilities` merges the
      mapper's `hesa_disabilities`, every key as sent); none sent leaves them untouched.
    * Derived keys are recomputed from *this request only* (code reading, register-api.md §2.6 ⚠):
      training_initiative → none unless sent (funding_method `C` → veterans), course_education_phase from the
      request's route and age range (secondary when neither is sent), diversity_disclosure from the request's
      ethnicity and disability keys, disability_disclosure from the request's disability1-9 when it has a
      disability key (the mapper drops it otherwise: `except(:hesa_disabilities, :disability_disclosure, ...)`), so
      the stored one stays.
    * Omitted partner/school keys leave the links; a route changed away from iQTS drops iqts_country.
    """
    sent = permit_trainee(data)
    for key in NIL_CLEARS:
        if key in data and data[key] is None:
            sent[key] = ""
    fields = dict(stored)
    disabilities = dict(meta["hesa_disabilities"])
    for key, value in sent.items():
        if is_disability_key(key):
            disabilities[key] = value
            continue
        if value == "" and key != "email":
            fields.pop(key, None)
        else:
            fields[key] = value  # a blank email is assigned, not cleared: both of its checks run, as on create
    if "training_partner_urn" in sent:
        fields.pop("training_partner_ukprn", None)
    elif "training_partner_ukprn" in sent:
        fields.pop("training_partner_urn", None)
    # A route changed away from iQTS clears the country, one sent in the same request too: Register clears it
    # before validating (§2.6, `clear_iqts_country if route_changed_from_iqts?`; review105 F2). One sent for a
    # trainee not on iQTS before is kept, and refused by R8.
    if stored.get("training_route") == IQTS_ROUTE and fields.get("training_route") != IQTS_ROUTE:
        fields.pop("iqts_country", None)
    if fields.get("trainee_start_date") is None and fields.get("itt_start_date") is not None:
        fields["trainee_start_date"] = fields["itt_start_date"]
    veterans = sent.get("funding_method") == "C"
    if veterans or not sent.get("training_initiative"):
        fields.pop("training_initiative", None)
    merged_meta = dict(meta)
    merged_meta["veterans_initiative"] = veterans
    # A blank ("") route, age range or ethnicity is no known code, read as one not sent.
    merged_meta["course_education_phase"] = education_phase(sent.get("training_route"), sent.get("course_age_range"))
    sent_disabilities = mapped_disabilities(sent)  # a "" maps to no disability
    merged_meta["diversity_disclosure"] = diversity_disclosure(reference, sent.get("ethnicity"), sent_disabilities)
    merged_meta["hesa_disabilities"] = disabilities  # the stored set when no disability key was sent
    if any(is_disability_key(key) for key in sent):
        merged_meta["disability_disclosure"] = disability_disclosure(reference, sent_disabilities)
    return fields, merged_meta


def repeats_a_disability(reference: ReferenceData, disabilities: dict[str, Any]) -> bool:
    """Whether two of a merged record's disability keys, disability10 and past included, name the same disability:
    on update Register maps every merged key into the set R14 checks (`params_with_updated_disabilities`), where
    create maps disability1-9 only. A `""` or an unknown code names none. Disabilities are told apart as the
    catalogue's R14 rule (`duplicate_disabilities`) tells them apart."""
    return repeated_disability(reference.code_list("disability").identities, disabilities.items()) is not None


def validation_body(fields: dict[str, Any], meta: dict[str, Any], degrees: list[dict], placements: list[dict]) -> dict:
    """A stored (or merged) trainee as a request body, for re-validating the whole record (§2.6 step 3)."""
    return {
        **fields,
        **meta["hesa_disabilities"],
        "degrees_attributes": [dict(d["fields"]) for d in degrees],
        "placements_attributes": [dict(p["fields"]) for p in placements],
    }


def start_cycle(fields: dict[str, Any]) -> int | None:
    """The trainee's start academic cycle: `trainee_start_date || itt_start_date` (§2.3)."""
    day = parse_date(fields.get("trainee_start_date")) or parse_date(fields.get("itt_start_date"))
    return cycle_of(day) if day else None
