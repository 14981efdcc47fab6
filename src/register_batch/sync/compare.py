"""Compare a source record with what Register holds: field-by-field drift, degrees and placements.

Register echoes most values as sent, but not all (register-api.md §3.6, §3.7): integers for course_year and
application_id, `997` for any "not provided" ethnicity, null for magic (not applicable) URNs and for
`no_initiative`, `trainee_start_date` defaulted to `itt_start_date`, a nationality that shares another's
entry echoed as that one's code (FK, GG, IM, IO, JE as GB: hesa-formats.md §2.3.4), grade `09` stored as `14`,
institution `0133` stored as `0149`, graduation years as integers. Both sides are normalised before comparing
so that a rerun of an unchanged extract finds nothing to do.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from functools import cache
from typing import Any

from register_batch.model import API_VERSION, TRAINEE_FIELDS
from register_batch.reference import DISABILITY_FIELDS, load_reference
from register_batch.validation.facts import MAGIC_URNS
from register_batch.validation.nested import GRADE_REWRITES, INSTITUTION_REWRITES, graduation_year

NOT_PROVIDED_ETHNICITY = frozenset({"997", "998", "999"})
URN_FIELDS = frozenset({"employing_school_urn", "training_partner_urn"})
SCALAR_FIELDS = tuple(f for f in TRAINEE_FIELDS if f not in DISABILITY_FIELDS)
DEGREE_KEYS = ("uk_degree", "non_uk_degree", "subject", "grade", "graduation_year", "institution", "country")


@cache
def canonical_codes(field: str) -> dict[str, str]:
    """Codes Register stores under another code's entry, and so echoes as that code (`JE` -> `GB`).

    From the reference data's identities (code -> the entry it belongs to), as the emulator serialises them; only
    the codes whose entry has another code are kept.
    """
    identities = load_reference(API_VERSION).code_list(field).identities
    return {code: canonical for code, canonical in identities.items() if canonical != code}


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normal(field: str, value: Any, data: dict[str, Any]) -> str | None:
    """A trainee field's value as Register would echo it back."""
    text = _text(value)
    if field == "ethnicity":
        return "997" if text is None or text in NOT_PROVIDED_ETHNICITY else text
    if field == "nationality" and text is not None:
        return canonical_codes("nationality").get(text, text)  # §3.6: the nationality's own code, not the one sent
    if field in URN_FIELDS and text in MAGIC_URNS:
        return None
    if field == "trainee_start_date" and text is None:
        return _text(data.get("itt_start_date"))
    if field == "training_initiative" and data.get("funding_method") == "C":
        return None  # R19: Register records the veteran initiative and echoes null
    if field in ("course_year", "application_id") and text is not None and text.lstrip("+-").isdigit():
        return str(int(text))
    return text


def disability_set(data: dict[str, Any]) -> list[str]:
    return sorted(v for v in (_text(data.get(f)) for f in DISABILITY_FIELDS) if v)


def drift(source: dict[str, Any], register: dict[str, Any]) -> list[dict[str, Any]]:
    """Fields whose source value differs from Register's: [{field, register, source}].

    Only fields the source provides are compared: a blank in the extract never clears a value in
    Register. Disabilities are compared as a set when the source gives any.
    """
    changes = []
    for field in SCALAR_FIELDS:
        if source.get(field) is None and field != "ethnicity":
            continue
        if field == "ethnicity" and "ethnicity" not in source:
            continue
        mine = normal(field, source.get(field), source)
        theirs = normal(field, register.get(field), register)
        if mine != theirs:
            changes.append({"field": field, "register": register.get(field), "source": source.get(field)})
    mine_disabilities = disability_set(source)
    if mine_disabilities:
        theirs_disabilities = disability_set(register)
        if mine_disabilities != theirs_disabilities:
            changes.append({"field": "disabilities", "register": theirs_disabilities, "source": mine_disabilities})
    return changes


def update_body(source: dict[str, Any], register: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full managed field set for a PUT (register-api.md §2.6).

    Every field the source gives, and all nine disability keys when it gives any. A PUT also recomputes
    some values from what it is sent: `training_initiative` falls back to none when absent, and diversity
    disclosure is derived from the ethnicity and disability keys sent. So when the source leaves those blank,
    Register's current values are sent back unchanged: a blank in the extract never changes Register.
    """
    body = {f: source[f] for f in SCALAR_FIELDS if source.get(f) is not None}
    if disability_set(source):
        for field in DISABILITY_FIELDS:
            body[field] = source.get(field) or ""
    if register is None:
        return body
    if "training_initiative" not in body and register.get("training_initiative"):
        body["training_initiative"] = str(register["training_initiative"])
    if "ethnicity" not in body and register.get("ethnicity"):
        body["ethnicity"] = str(register["ethnicity"])
    if not disability_set(source) and disability_set(register):
        for field in DISABILITY_FIELDS:
            body[field] = _text(register.get(field)) or ""
    return body


def create_body(source: dict[str, Any]) -> dict[str, Any]:
    """`POST /trainees` body: fields, nested degrees and placements; optional keys omitted, not null."""
    body = {
        k: v for k, v in source.items() if v is not None and k not in ("degrees_attributes", "placements_attributes")
    }
    if source.get("degrees_attributes"):
        body["degrees_attributes"] = [
            {k: v for k, v in d.items() if v is not None} for d in source["degrees_attributes"]
        ]
    if source.get("placements_attributes"):
        body["placements_attributes"] = [
            {k: v for k, v in p.items() if v is not None} for p in source["placements_attributes"]
        ]
    return body


def degree_key(degree: dict[str, Any]) -> tuple[str | None, ...]:
    """A degree as Register stores it (§3.7): grade 09 -> 14, institution 0133 -> 0149, year as integer."""
    values = {k: _text(degree.get(k)) for k in DEGREE_KEYS}
    values["grade"] = GRADE_REWRITES.get(values["grade"], values["grade"])
    values["institution"] = INSTITUTION_REWRITES.get(values["institution"], values["institution"])
    year = graduation_year(values["graduation_year"])
    values["graduation_year"] = str(year) if year else None
    if values["uk_degree"] is not None:
        values["country"] = None  # a UK degree's country is stored as null
    return tuple(values[k] for k in DEGREE_KEYS)


def degree_changes(
    source: list[dict[str, Any]], register: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]], list[str]]:
    """(degrees to add, (degree_id, body) to update, degree_ids to delete) to make Register match the source."""
    theirs = {d.get("degree_id"): degree_key(d) for d in register}
    unmatched_theirs = dict(theirs)
    to_add: list[dict[str, Any]] = []
    for degree in source:
        key = degree_key(degree)
        match = next((i for i, k in unmatched_theirs.items() if k == key), None)
        if match is not None:
            del unmatched_theirs[match]
        else:
            to_add.append(degree)
    updates: list[tuple[str, dict[str, Any]]] = []
    still_new = []
    for degree in to_add:
        key = degree_key(degree)
        # The same degree with a corrected detail (same subject and year): one PUT instead of POST + DELETE.
        match = next((i for i, k in unmatched_theirs.items() if k[2] == key[2] and k[4] == key[4]), None)
        if match is not None:
            del unmatched_theirs[match]
            updates.append((match, {k: v for k, v in degree.items() if v is not None}))
        else:
            still_new.append({k: v for k, v in degree.items() if v is not None})
    return still_new, updates, [i for i in unmatched_theirs if i]


def placement_changes(
    source: list[dict[str, Any]], register: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """(placements to add, placement_ids to delete), compared by URN (names are Register's or generated)."""
    wanted = Counter(_text(p.get("urn")) or _text(p.get("name")) for p in source)
    to_delete = []
    for placement in register:
        key = _text(placement.get("urn")) or _text(placement.get("name"))
        if wanted[key] > 0:
            wanted[key] -= 1
        else:
            to_delete.append(placement.get("placement_id"))
    to_add = []
    for placement in source:
        key = _text(placement.get("urn")) or _text(placement.get("name"))
        if wanted[key] > 0:
            wanted[key] -= 1
            to_add.append({k: v for k, v in placement.items() if v is not None})
    return to_add, [p for p in to_delete if p]


def payload_hash(source: dict[str, Any], withdrawal: dict[str, Any] | None, deferral: dict[str, Any] | None) -> str:
    """A fingerprint of what a record asks Register to hold (to see in the ledger whether it changed)."""
    text = json.dumps({"data": source, "withdrawal": withdrawal, "deferral": deferral}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
