"""Compare a source record with what Register holds: field-by-field drift, degrees and placements.

Register echoes most values as sent, but not all (register-api.md §3.6, §3.7): integers for course_year and
application_id, `997` for any "not provided" ethnicity, null for magic (not applicable) URNs and for
`no_initiative`, `trainee_start_date` defaulted to `itt_start_date`, a nationality that shares another's
entry echoed as that one's code (FK, GG, IM, IO, JE as GB: hesa-formats.md §2.3.4), grade `09` stored as `14`,
institution `0133` stored as `0149`, graduation years as integers. Both sides are normalised before comparing
so that a rerun of an unchanged extract finds nothing to do.

A blank never clears a value in Register, in a trainee's fields or a degree's (a degree PUT writes only the
keys it is sent, §2.10), so a blank is never a difference. Exceptions: beside a given `course_subject_1`, a blank
`course_subject_2` or `course_subject_3` means the course has no such subject, not that the extract does not say.
HESA XML and Register's CSV carry all three subject slots, and Register's API clears these two by `""` or null
(register-api.md §2.6, ALLOWED_NIL_PARAMS): a second subject the course dropped is a difference, and is cleared.
So too a blank `training_initiative` or `additional_training_initiative` where the record gives the field (its
column; in HESA XML its tag on the Student, or, without it, an initiative the SRS gave when last synced:
sync/initiatives.py; `blank_initiatives`): HESA's blank is "no initiative" (hesa-formats.md §2.3.12), so an
initiative the SRS removed is a difference, and is cleared (review196 F1, review202 F1). A record that does not give
them (`unsaid`) says nothing of them, and Register's stays.
Nor does a blank `trainee_start_date` leave Register's alone when Register holds the default it set from the ITT start
(`defaulted_start`): beside a corrected `itt_start_date`, the start follows it, as it would on create.

Degrees and placements are compared item by item; a record from a format that cannot hold them all (Register's
CSV: one degree, three placement URNs) never asks for one Register holds to be deleted, but for the old half of a
degree replaced by a run that stopped before it could delete it (`degree_changes`, `replaced`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import operator
import unicodedata
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as _field
from functools import cache
from typing import TYPE_CHECKING, Any

from register_batch.derived import disability_disclosure, diversity_disclosure, education_phase
from register_batch.mapping.apply import COMPOSED_FIELDS
from register_batch.model import API_VERSION, CLEARABLE_INITIATIVES, CLEARABLE_SUBJECTS, TRAINEE_FIELDS
from register_batch.reference import (
    DISABILITY_FIELDS,
    TRAINEE_CODE_FIELDS,
    ReferenceData,
    load_reference,
)
from register_batch.validation.facts import EARLY_YEARS_ROUTES, MAGIC_URN_NAMES, MAGIC_URNS
from register_batch.validation.nested import GRADE_REWRITES, INSTITUTION_REWRITES, graduation_year, is_uk_postcode

if TYPE_CHECKING:
    from register_batch.api.client import Secret

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


def text_or_none(value: Any) -> str | None:
    """A value as text with its spaces trimmed, None for none or blank."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def normal(field: str, value: Any, data: Mapping[str, Any]) -> str | None:
    """A trainee field's value as Register would echo it back."""
    text = text_or_none(value)
    if field == "ethnicity":
        return "997" if text is None or text in NOT_PROVIDED_ETHNICITY else text
    if field == "nationality" and text is not None:
        return canonical_codes("nationality").get(text, text)  # §3.6: the nationality's own code, not the one sent
    if field in URN_FIELDS and text in MAGIC_URNS:
        return None
    if field == "trainee_start_date" and text is None:
        return text_or_none(data.get("itt_start_date"))
    if field == "training_initiative" and data.get("funding_method") == "C":
        return None  # R19: Register records the veteran initiative and echoes null
    if field in ("course_year", "application_id") and text is not None and text.lstrip("+-").isdigit():
        return str(int(text))
    if field in COMPOSED_FIELDS and text is not None and not text.isascii():
        # A name Register holds decomposed (another client's, e + U+0308) is the name the record gives composed, as
        # every input is read (mapping COMPOSED_FIELDS): not drift, which showed two identical-looking values and
        # sent an update every night, an export read back included (review107 F2).
        return unicodedata.normalize("NFC", text)
    return text


def disability_set(data: Mapping[str, Any]) -> list[str]:
    return sorted(v for v in (text_or_none(data.get(f)) for f in DISABILITY_FIELDS) if v)


def _urn_sent(source: Mapping[str, Any]) -> bool:
    """A request made from `source` has a `training_partner_urn` key (it sends every field it gives), so Register
    does not use `training_partner_ukprn` (register-api.md §3.1: only when the URN key is absent)."""
    return source.get("training_partner_urn") is not None


def blank_subjects(source: Mapping[str, Any], unsaid: frozenset[str] = frozenset()) -> list[str]:
    """The course subjects the source says the course does not have: `course_subject_2`/`_3` left blank beside a
    given `course_subject_1`. HESA XML and Register's CSV have a place for all three, so there a blank is "none", not
    "unknown" (a second subject the course dropped would otherwise stay in Register for good). Slot by slot: a
    subject 3 given beside a blank subject 2 leaves slot 2 blank. No subject 1, no telling: nothing is cleared; nor
    is a slot the record's input has no place for (`unsaid`: TraineeRecord.partial_lists, e.g. a CSV header without
    its column, or a tag of a user's mapping file in HESA XML)."""
    if text_or_none(source.get("course_subject_1")) is None:
        return []
    return [field for field in CLEARABLE_SUBJECTS if field not in unsaid and text_or_none(source.get(field)) is None]


TRAINING = "training_initiative"  # of CLEARABLE_INITIATIVES, the one a PUT resets by leaving it out (§2.6, §3.1)


def blank_initiatives(source: Mapping[str, Any], unsaid: frozenset[str] = frozenset()) -> list[str]:
    """The training initiatives the source says the trainee has none of: `training_initiative` or
    `additional_training_initiative` left blank where the record gives the field (a CSV header with its column, a
    HESA XML Student with its tag; one without it, that gave one when last synced: sync/initiatives.py). HESA's blank
    is `no_initiative` (hesa-formats.md §2.3.12),
    not "not said", so an initiative the SRS removed would otherwise stay in Register for good, reported as unchanged
    (review196 F1). An input that never gives them (`unsaid`: TraineeRecord.partial_lists) says nothing: Register's
    stays, as an SRS that does not export initiatives must not wipe them."""
    return [field for field in CLEARABLE_INITIATIVES if field not in unsaid and text_or_none(source.get(field)) is None]


def defaulted_start(source: Mapping[str, Any], register: Mapping[str, Any]) -> str | None:
    """The `trainee_start_date` a record that leaves it blank means for a trainee Register holds: its `itt_start_date`,
    where Register's start is the one it set from its own ITT start (blank, or the same date: §3.4, "blank -> set to
    itt_start_date"). A PUT merges into the stored record (§2.6), so a corrected ITT start sent alone left the old
    start in Register: in another start cycle across 1 August, or refused as a start in the future that is not the
    ITT start (found by review49). None where the record gives a start, gives no ITT start, or Register holds a start
    of its own (set in its service): a blank does not say to change that."""
    if text_or_none(source.get("trainee_start_date")) is not None:
        return None
    itt_start = text_or_none(source.get("itt_start_date"))
    held = text_or_none(register.get("trainee_start_date"))
    if itt_start is None or held not in (None, text_or_none(register.get("itt_start_date"))):
        return None
    return itt_start


def drift(
    source: dict[str, Any], register: Mapping[str, Any], unsaid: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Fields whose source value differs from Register's: [{field, register, source}].

    Only fields the source provides are compared: a blank in the extract never clears a value in
    Register, but for a blank course subject 2 or 3 beside a subject 1 (`blank_subjects`) and a blank initiative
    where the input gives it (`blank_initiatives`), which are "none" and are compared with Register's. Disabilities are
    compared as a set when the source gives any.
    """
    changes = []
    cleared = blank_subjects(source, unsaid) + blank_initiatives(source, unsaid)
    if (start := defaulted_start(source, register)) is not None:
        source = {**source, "trainee_start_date": start}
    for field in SCALAR_FIELDS:
        if source.get(field) is None and field != "ethnicity" and field not in cleared:
            continue
        if field == "training_partner_ukprn" and _urn_sent(source):
            continue  # Register does not use it: it holds the partner the URN names (register-api.md §3.1)
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


def derived_drift(
    source: Mapping[str, Any], register: Mapping[str, Any], body: Mapping[str, Any], reference: ReferenceData
) -> list[dict[str, Any]]:
    """What Register derived otherwise than the record's PUT would have it derive (register-api.md §2.6 ⚠, §5.2,
    §5.3): another client's partial update recomputes the course's education phase from the route and age range it
    sends (secondary when it sends neither) and the diversity disclosure from the ethnicity and disabilities it sends,
    and no field of the record differs, so the night's sync sent nothing and Register kept a primary course as
    secondary for good (review92 F2). A change each, as drift, mended by the record's PUT (`body`), which Register
    derives them from: the phase only where the record gives an age range (or an early-years route), else the PUT
    itself would make it secondary."""
    changes = []
    held = register.get("course_education_phase")
    route, age_range = body.get("training_route"), body.get("course_age_range")
    if held and (age_range is not None or route in EARLY_YEARS_ROUTES) and source.get("training_route") is not None:
        expected = education_phase(route, age_range)
        if expected != held:
            changes.append({"field": "course_education_phase", "register": held, "source": expected})
    held = register.get("diversity_disclosure")
    if held:
        disabilities = {field: body[field] for field in DISABILITY_FIELDS if body.get(field)}
        expected = diversity_disclosure(reference, body.get("ethnicity"), disabilities)
        if expected != held:
            changes.append({"field": "diversity_disclosure", "register": held, "source": expected})
    return changes


def update_body(
    source: dict[str, Any], register: Mapping[str, Any] | None = None, unsaid: frozenset[str] = frozenset()
) -> dict[str, Any]:
    """The full managed field set for a PUT (register-api.md §2.6).

    Every field the source gives (but a nationality Register holds already), and all nine disability keys when it
    gives any. A PUT also recomputes some values from what it is sent: `training_initiative` falls back to none when
    absent, and diversity disclosure is derived from the ethnicity and disability keys sent. So when the source
    leaves those blank, Register's current values are sent back unchanged: a blank in the extract never changes
    Register, with two exceptions. A blank course subject 2 or 3 beside a subject 1 (`blank_subjects`) means the
    course has none, so one Register holds is cleared; one it does not hold is not sent, so that the PUT of a record
    whose subjects did not change is as before. A blank initiative the input gives (`blank_initiatives`) means none:
    `training_initiative` is left out, which resets it (§2.6, §3.1: absent -> no_initiative), and an
    `additional_training_initiative` Register holds is sent as `""`, which clears it (§2.6; left out it is kept).
    """
    body = {f: source[f] for f in SCALAR_FIELDS if source.get(f) is not None}
    if _urn_sent(source):
        body.pop("training_partner_ukprn", None)  # Register ignores it beside a training_partner_urn key (§3.1)
    if disability_set(source):
        for field in DISABILITY_FIELDS:
            body[field] = source.get(field) or ""
    if register is None:
        return body
    none = blank_initiatives(source, unsaid)
    if "training_initiative" not in body and "training_initiative" not in none and register.get("training_initiative"):
        body["training_initiative"] = str(register["training_initiative"])  # unsaid: kept, not reset by the PUT
    if (
        "additional_training_initiative" in none
        and text_or_none(register.get("additional_training_initiative")) is not None
    ):
        body["additional_training_initiative"] = ""  # register-api.md §2.6: "" clears it (left out, it is kept)
    if "ethnicity" not in body and register.get("ethnicity"):
        body["ethnicity"] = str(register["ethnicity"])
    for field in blank_subjects(source, unsaid):
        if text_or_none(register.get(field)) is not None:
            body[field] = ""  # register-api.md §2.6: "" clears any field; these two are cleared by null as well
    start = defaulted_start(source, register)
    if start is not None and start != normal("trainee_start_date", register.get("trainee_start_date"), register):
        body["trainee_start_date"] = start  # only where it moves: an unchanged record's PUT is as before
    if not disability_set(source) and disability_set(register):
        for field in DISABILITY_FIELDS:
            body[field] = text_or_none(register.get(field)) or ""
    # A PUT naming a nationality replaces every one the trainee has (update_trainee_service.rb: `nationalities.
    # destroy_all`, before it validates): one Register echoes already is left out, so a second nationality given in
    # Register's service stays (GET echoes only the first).
    if "nationality" in body and normal("nationality", body["nationality"], source) == normal(
        "nationality", register.get("nationality"), register
    ):
        del body["nationality"]
    return body


def landed_update_bodies(
    source: dict[str, Any], register: Mapping[str, Any], unsaid: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Every PUT of the record that, carried out now, leaves Register as it is: `update_body` against what Register
    holds now, and that body with any of the keys `update_body` sends only while Register holds otherwise put back as
    the record says them (a nationality Register echoes, a blank course subject it no longer holds, a start that no
    longer moves, an additional initiative it no longer holds). An update sent before Register held them carried
    those keys; it landed, and landing again it writes what Register holds (§2.6), so it cannot change the record
    (review120 F1)."""
    body = update_body(source, register, unsaid)
    extras: list[tuple[str, str]] = []
    if "nationality" not in body and source.get("nationality") is not None:
        extras.append(("nationality", source["nationality"]))
    extras += [(field, "") for field in blank_subjects(source, unsaid) if field not in body]
    extras += [(field, "") for field in blank_initiatives(source, unsaid) if field not in body and field != TRAINING]
    start = defaulted_start(source, register)
    if start is not None and "trainee_start_date" not in body:
        extras.append(("trainee_start_date", start))
    bodies = []
    for chosen in range(1 << len(extras)):
        bodies.append({**body, **{k: v for n, (k, v) in enumerate(extras) if chosen >> n & 1}})
    return bodies


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


@cache
def _degree_types() -> frozenset[str]:
    return frozenset(load_reference(API_VERSION).codes("degree_type"))


def degree_values(degree: Mapping[str, Any]) -> dict[str, str | None]:
    """A degree as Register stores it (§3.7): grade 09 -> 14, institution 0133 -> 0149, year as integer; a degree type
    that is not a code as null, as Register gives it back (the other locale's type, which Register does not check:
    review113 F2, validate's degree_type_not_kept), or a source degree carrying one would be written every night."""
    values = {k: text_or_none(degree.get(k)) for k in DEGREE_KEYS}
    for key in ("uk_degree", "non_uk_degree"):
        if values[key] not in _degree_types():
            values[key] = None
    if (grade := values["grade"]) is not None:
        values["grade"] = GRADE_REWRITES.get(grade, grade)
    if (institution := values["institution"]) is not None:
        values["institution"] = INSTITUTION_REWRITES.get(institution, institution)
    year = graduation_year(values["graduation_year"])
    values["graduation_year"] = str(year) if year else None
    if values["uk_degree"] is not None:
        values["country"] = None  # a UK degree's country is stored as null
    return values


def degree_key(degree: Mapping[str, Any]) -> tuple[str | None, ...]:
    """A degree as Register stores it, as a tuple in DEGREE_KEYS order."""
    values = degree_values(degree)
    return tuple(values[k] for k in DEGREE_KEYS)


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:32]


def degree_digest(degree: Mapping[str, Any]) -> str:
    """A degree as Register stores it (`degree_key`), as a digest: what the ledger keeps of a degree (it keeps no
    personal data), to know it again in a later run."""
    return _digest(degree_key(degree))


def degree_puts(degrees: list[dict[str, Any]]) -> dict[str, dict[str, str | None]]:
    """The PUT a degree correction sends for each of `degrees` (its values given, as `degree_changes` sends them), as
    the ledger notes it (`sent_digest`), with the degree as Register stores it (`degree_values`)."""
    return {
        sent_digest("update_degree", {k: v for k, v in degree.items() if v is not None}): degree_values(degree)
        for degree in degrees
    }


def sent_digest(kind: str, body: Mapping[str, Any], item_id: str | None = None) -> str:
    """What a write of `kind` sends, as a digest, to tell a request sent again from a changed one: a degree as Register
    stores it (its 409 refuses the very same degree a second time, §2.10), a DELETE by the degree or placement it
    removes (`item_id`: it sends no body, §2.10, §2.11), anything else by its body (a degree's PUT too: what it writes,
    whichever degree it is sent to)."""
    if kind == "add_degree":
        return degree_digest(body)
    return _digest([kind, item_id]) if kind in ("delete_degree", "delete_placement") else _digest([kind, body])


def agrees(mine: dict[str, str | None], theirs: dict[str, str | None]) -> bool:
    """Register's degree has every value the source's gives: a blank in the extract leaves Register's as it is
    (a degree PUT writes only the keys it is sent, §2.10, so a blank could never converge)."""
    return all(value is None or value == theirs[key] for key, value in mine.items())


# What Register's duplicate rule compares (§3.7 "Duplicate rule"): every degree value but the institution.
_IDENTITY = tuple(key for key in DEGREE_KEYS if key != "institution")


def _within_identity(mine: dict[str, str | None], theirs: dict[str, str | None]) -> bool:
    """`theirs` has each value of the duplicate identity that `mine` gives. So a PUT of `mine` (its values given; a
    blank leaves Register's) onto `theirs` leaves its identity as it is, and cannot make it a duplicate of another
    degree; and Register's degree endpoint refuses `mine` added beside `theirs` (a blank sent matches anything)."""
    return all(mine[key] is None or mine[key] == theirs[key] for key in _IDENTITY)


def _is_uk(values: dict[str, str | None]) -> bool:
    return values["uk_degree"] is not None or (values["non_uk_degree"] is None and values["institution"] is not None)


def _describe(values: dict[str, str | None]) -> str:
    """A degree or placement for people, in the drift report: `uk_degree 083, subject 100425, …`."""
    return ", ".join(f"{key} {value}" for key, value in values.items() if value is not None)


@dataclass
class NestedChanges:
    """What makes Register's degrees (or placements) match the source's, and the drift to report for it."""

    add: list[dict[str, Any]] = _field(default_factory=list)  # bodies to POST
    update: list[tuple[str, dict[str, Any]]] = _field(default_factory=list)  # (degree_id, body) to PUT
    delete: list[str] = _field(default_factory=list)  # ids to DELETE
    changes: list[dict[str, Any]] = _field(default_factory=list)  # [{field, register, source}]
    # Of the degrees added, those that replace one Register holds (UK <-> non-UK): index in `add` -> the degree_id
    # deleted after it, which the ledger keeps until it is gone (`degree_changes`, `replaced`).
    replaces: dict[int, str] = _field(default_factory=dict)
    # Source degrees not added because Register would refuse them as duplicates of another (§3.7 "Duplicate rule"):
    # (position in the source, the degree it repeats: `degree <id>` Register holds, or `degrees_attributes[k]`).
    covered: list[tuple[int, str]] = _field(default_factory=list)


def degree_changes(
    source: list[dict[str, Any]],
    register: Sequence[Mapping[str, Any]],
    *,
    complete: bool = True,
    replaced: Mapping[str, str] | None = None,
) -> NestedChanges:
    """The degree writes that make Register hold the source's degrees.

    A source degree matches a Register degree that has every value it gives (exactly equal ones first); else one
    with the same subject and graduation year is the same degree with a corrected detail (one PUT instead of
    POST + DELETE); else it is added. Register's degrees that no source degree matches are deleted only when the
    source is `complete` (its format can hold every degree), or when an earlier run replaced them and stopped before
    the DELETE (`replaced`: degree_id -> the `degree_digest` of its replacement, which a source degree matched in
    Register must still be). A degree to add that gives no value another lacks (a copy without its grade) is not
    added (`covered`): Register's degree endpoint refuses it as a duplicate (§3.7), every run. Changes name the
    source degree by its position: `degrees[0].institution`.
    """
    found = NestedChanges()
    theirs = [(d, degree_values(d)) for d in register]
    unmatched = list(range(len(theirs)))
    pending = [(n, degree, degree_values(degree)) for n, degree in enumerate(source)]
    for same in (operator.eq, agrees):
        left = []
        for n, degree, mine in pending:
            match = next((i for i in unmatched if same(mine, theirs[i][1])), None)
            if match is None:
                left.append((n, degree, mine))
            else:
                unmatched.remove(match)
        pending = left
    # The source's degrees Register holds, to know a replacement by (only for a trainee an earlier run replaced one of).
    unpaired = {n for n, _degree, _mine in pending}
    matched = {degree_digest(d) for n, d in enumerate(source) if n not in unpaired} if replaced else set()
    # Left: corrections. Each pairs with the Register degree of the same subject and year whose duplicate identity
    # a PUT leaves as it is, if there is one, else that agrees on the most values; best pairs first. Pairing by
    # order, or by agreement alone, could PUT a degree into a duplicate of its sibling (409, §3.7), every run.
    pairs = sorted(
        (
            (
                not _within_identity(mine, theirs[i][1]),
                -sum(mine[key] == theirs[i][1][key] for key in DEGREE_KEYS),
                n,
                i,
            )
            for n, _degree, mine in pending
            for i in unmatched
            if theirs[i][1]["subject"] == mine["subject"]
            and theirs[i][1]["graduation_year"] == mine["graduation_year"]
            and theirs[i][0].get("degree_id")
        )
    )
    given = {n: mine for n, _degree, mine in pending}
    paired: dict[int, int] = {}
    for _identity, _score, n, i in pairs:
        if n not in paired and i not in paired.values():
            paired[n] = i
    # The degrees the trainee holds when the additions are sent: Register's, corrected (the PUTs go first, writing
    # only the values given, §2.10), none deleted yet (the DELETEs go last), then each one added before.
    standing = [(f"degree {held.get('degree_id')}", values) for held, values in theirs]
    for n, i in paired.items():
        if _is_uk(given[n]) == _is_uk(theirs[i][1]):
            standing[i] = (standing[i][0], {k: theirs[i][1][k] if v is None else v for k, v in given[n].items()})
    for n, degree, mine in pending:
        body = {k: v for k, v in degree.items() if v is not None}
        if n not in paired:
            repeated = next((label for label, values in standing if _within_identity(mine, values)), None)
            if repeated is not None:
                found.covered.append((n, repeated))
                continue
            standing.append((f"degrees_attributes[{n}]", mine))
            found.add.append(body)
            found.changes.append({"field": f"degrees[{n}]", "register": None, "source": _describe(mine)})
            continue
        match = paired[n]
        unmatched.remove(match)
        held, held_values = theirs[match]
        if _is_uk(mine) != _is_uk(held_values):
            # UK <-> non-UK: a PUT rewrites the type and country but never clears the institution (§2.10), and a
            # non-UK degree with an institution is refused (§3.7). Replace it: POST the new one, DELETE the old.
            found.replaces[len(found.add)] = held["degree_id"]
            standing.append((f"degrees_attributes[{n}]", mine))
            found.add.append(body)
            found.delete.append(held["degree_id"])
            found.changes.append(
                {"field": f"degrees[{n}]", "register": _describe(held_values), "source": _describe(mine)}
            )
            continue
        found.update.append((held["degree_id"], body))
        for key, value in mine.items():
            if value is not None and value != held_values[key]:
                found.changes.append(
                    {"field": f"degrees[{n}].{key}", "register": held.get(key), "source": degree.get(key)}
                )
    for i in unmatched:
        held, held_values = theirs[i]
        if held.get("degree_id") and (complete or _replacement_held(held["degree_id"], replaced, matched)):
            found.delete.append(held["degree_id"])
            found.changes.append({"field": "degrees", "register": _describe(held_values), "source": None})
    return found


def _replacement_held(degree_id: str, replaced: Mapping[str, str] | None, matched: set[str]) -> bool:
    """Whether Register's degree `degree_id` is the old half of a replacement an earlier run began (`replaced`) whose
    new half Register holds, and the source still has: deleted though the source cannot hold every degree (Register's
    CSV), or it stayed beside its replacement for good (review52 F2)."""
    return replaced is not None and replaced.get(degree_id) in matched


def _placement_values(placement: Mapping[str, Any]) -> dict[str, str | None]:
    """What identifies a placement: its URN, else its name (names are Register's or generated)."""
    urn = text_or_none(placement.get("urn"))
    return {"urn": urn} if urn else {"name": text_or_none(placement.get("name"))}


def placement_key(placement: Mapping[str, Any]) -> str | None:
    (value,) = _placement_values(placement).values()
    return value


def placement_changes(
    source: list[dict[str, Any]], register: Sequence[Mapping[str, Any]], *, complete: bool = True
) -> NestedChanges:
    """The placement writes that make Register hold the source's placements, compared by URN (names are Register's
    or generated). Register's extra placements are deleted only when the source is `complete`, and one without a
    URN (a name and postcode) only when the source has such placements too: no HESA tag or Register CSV column
    holds one, so its absence from such a source says nothing."""
    found = NestedChanges()
    names_held = any(not text_or_none(p.get("urn")) for p in source)
    wanted = Counter(placement_key(p) for p in source)
    held = Counter(placement_key(p) for p in register)
    extra = []
    for placement in register:
        key = placement_key(placement)
        if wanted[key] > 0:
            wanted[key] -= 1
        else:
            extra.append(placement)
    # A URN's first occurrences are the ones Register holds; the later ones are added, with their own names and
    # places (a second spell at a school is "Placement 3", as a create names it, not the first's: review116 F2).
    for n, placement in enumerate(source):
        key = placement_key(placement)
        if held[key] > 0:
            held[key] -= 1
        else:
            found.add.append(_as_created({k: v for k, v in placement.items() if v is not None}))
            found.changes.append(
                {"field": f"placements[{n}]", "register": None, "source": _describe(_placement_values(placement))}
            )
    if complete:
        for placement in extra:
            if placement.get("placement_id") and (names_held or text_or_none(placement.get("urn"))):
                found.delete.append(placement["placement_id"])
                found.changes.append(
                    {"field": "placements", "register": _describe(_placement_values(placement)), "source": None}
                )
    return found


def _as_created(placement: dict[str, Any]) -> dict[str, Any]:
    """A placement added to a trainee named as its create would have named it: the placements endpoint gives a magic
    URN no label (register-api.md §3.8), so one added later showed "Placement 3" where the others showed the label.
    And without a postcode Register would refuse: a create drops every placement's postcode before checking it
    (§3.8, §2.5), but `POST …/placements` checks it (§2.11, §3.8: "postcode Enter a valid postcode"), so the record
    was refused part-way, after its update, every night (review133 F1). The record's `placement_postcode_invalid`
    warning says so; a valid postcode is sent (the endpoint keeps it)."""
    postcode = placement.get("postcode")
    if postcode is not None and not is_uk_postcode(postcode):
        placement = {k: v for k, v in placement.items() if k != "postcode"}
    urn = placement.get("urn")
    if urn in MAGIC_URN_NAMES:
        return {**placement, "name": MAGIC_URN_NAMES[urn]}
    return placement


def payload_hash(source: dict[str, Any], withdrawal: dict[str, Any] | None, deferral: dict[str, Any] | None) -> str:
    """A fingerprint of what a record asks Register to hold (to see in the ledger whether it changed)."""
    text = json.dumps({"data": source, "withdrawal": withdrawal, "deferral": deferral}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# A field's value as `field_digests` keeps it: 8 hex digits (32 bits) of a MAC under the run's FieldKey, enough to tell
# a value from the one before it (a chance in 4 billion that a change goes unseen, and then only a warning is not
# given), and short, as the ledger keeps one set a record (review192 F5).
FIELD_DIGEST_CHARS = 8
# The items of a record's lists as `field_digests` keeps them, under these names (the drift report's `degrees[n]`,
# `placements[n]`).
LIST_DIGESTS = {"degrees": "degrees_attributes", "placements": "placements_attributes"}
# What the field key is derived from the API token with: a new label is a new key (and key id) for every token.
FIELD_KEY_LABEL = b"register-batch fields_synced v1"


class FieldKey:
    """The key `field_digests` digests each field under (keyed BLAKE2b), derived from the API token, which the ledger
    never holds: unkeyed, each field's 32-bit digest was found from the ledger alone by trying every value (every
    date of birth, sex, ethnicity and set of disabilities of 3,000 trainees in a third of a second), and two ledgers
    could be joined on them (review194 F2). Whoever holds the token can read every trainee from Register anyway.
    Without a token (an emulator that asks for none) the key is a fixed one, and the digests are as guessable as
    before. `id`: a digest of nothing under the key, kept before each record's digests (`pack_digests`), so that those
    made under another key (a token rotated) are never compared with this one's (`unpack_digests`). The repr shows the
    id only: the key is a secret derived from the token."""

    __slots__ = ("_key", "id")

    def __init__(self, token: Secret | None) -> None:
        secret = token.reveal().encode() if token else b""
        self._key = hmac.new(secret, FIELD_KEY_LABEL, hashlib.sha256).digest()
        self.id = hashlib.blake2b(key=self._key, digest_size=FIELD_DIGEST_CHARS // 2, person=b"key id").hexdigest()

    def short(self, value: Any) -> str:
        """`value`'s digest under the key (FIELD_DIGEST_CHARS hex digits)."""
        data = json.dumps(value, sort_keys=True).encode()
        return hashlib.blake2b(data, key=self._key, digest_size=FIELD_DIGEST_CHARS // 2).hexdigest()

    def __repr__(self) -> str:
        return f"FieldKey(id={self.id!r})"

    __str__ = __repr__


def field_digests(source: Mapping[str, Any], key: FieldKey) -> dict[str, Any]:
    """What a record says of each field the drift report names, as short digests under `key`, for the ledger to keep
    when the record is synced (Ledger.note_synced) and a later run to tell which of them the SRS has changed since: a
    field whose digest is as then, and which Register holds otherwise, was changed in Register's service (review185
    F1).

    One digest per scalar field the record gives (a blank one is left out: blank then and now is unchanged), with what
    the comparison reads beside it (`normal`: the ITT start a blank `trainee_start_date` stands for, the funding
    method that makes `training_initiative` the veteran one), and `disabilities` as a set; the degrees and placements
    as lists of one digest per item, each as the comparison matches it (a degree as Register stores it,
    `degree_digest`; a placement by its URN or name, `placement_key`)."""
    found: dict[str, Any] = {}
    for name in SCALAR_FIELDS:
        text = text_or_none(source.get(name))
        value: str | list[str | None] | None = text
        if name == "trainee_start_date" and text is None:
            value = ["itt_start_date", text_or_none(source.get("itt_start_date"))]
        elif name == "training_initiative" and source.get("funding_method") == "C":
            value = [text, "C"]
        if value is not None:
            found[name] = key.short(value)
    if disabilities := disability_set(source):
        found["disabilities"] = key.short(disabilities)
    found["degrees"] = [key.short(degree_digest(degree)) for degree in source.get(LIST_DIGESTS["degrees"]) or []]
    found["placements"] = [key.short(placement_key(p)) for p in source.get(LIST_DIGESTS["placements"]) or []]
    return found


def initiatives_given(then: Mapping[str, Any], key: FieldKey) -> frozenset[str]:
    """The CLEARABLE_INITIATIVES a record gave a value of when it was last synced in full (`then`: its
    `field_digests` under `key`): those whose digest is not the one of the field not given (none kept; for a
    `training_initiative` beside funding method C, that of [None, "C"])."""
    not_given = {"training_initiative": key.short([None, "C"])}
    return frozenset(name for name in CLEARABLE_INITIATIVES if then.get(name) not in (None, not_given.get(name)))


# The fields `pack_digests` keeps in this order, each in its place (a blank one empty); the lists after them.
PACKED_FIELDS = (*SCALAR_FIELDS, "disabilities")
# What `sent_digests` keeps of a field that two unanswered writes sent differently: Register may hold either, and
# no record's digest equals it.
UNKNOWN_DIGEST = "?"


def pack_digests(digests: Mapping[str, Any], key: FieldKey) -> str:
    """`field_digests` (made under `key`) as the ledger keeps them: the key's id and a `:`, the scalars' in
    PACKED_FIELDS' order, comma-separated, then the degrees' and the placements', each list after a `/` (review192 F5:
    ~250 bytes a record, not a JSON object's ~770 of which the field names were 40%)."""
    scalars = ",".join(str(digests.get(name) or "") for name in PACKED_FIELDS)
    lists = ("/" + ",".join(digests.get(name) or ()) for name in LIST_DIGESTS)
    return f"{key.id}:{scalars}{''.join(lists)}"


def unpack_digests(text: str, key: FieldKey) -> dict[str, Any] | None:
    """`pack_digests`'s text as `field_digests`, or None for any other: digests made under another key (another
    token's, review194 F2), which compared with this key's would tell nothing, and those of a development build
    before this format (unkeyed). The warning then falls back to the whole record's digest until the record is next
    synced in full."""
    made_under, colon, text = text.partition(":")
    if not colon or made_under != key.id:
        return None
    parts = text.split("/")
    scalars = parts[0].split(",")
    if len(parts) != 1 + len(LIST_DIGESTS) or len(scalars) != len(PACKED_FIELDS):
        return None
    found: dict[str, Any] = {name: value for name, value in zip(PACKED_FIELDS, scalars, strict=True) if value}
    for name, items in zip(LIST_DIGESTS, parts[1:], strict=True):
        found[name] = items.split(",") if items else []
    return found


def sent_digests(earlier: Mapping[str, Any] | None, sending: Mapping[str, Any]) -> dict[str, Any]:
    """What the writes sent since the record was last synced in full may have left in Register (the ledger's
    `fields_synced.sent`, review192 F1): `sending`'s digests; where an earlier unanswered write (`earlier`) sent a field
    otherwise, UNKNOWN_DIGEST, which no record's digest equals, so that the field is never named as Register's."""
    if earlier is None:
        return dict(sending)
    found: dict[str, Any] = {}
    for name in (*PACKED_FIELDS, *LIST_DIGESTS):
        mine, theirs = sending.get(name), earlier.get(name)
        if name in LIST_DIGESTS:
            found[name] = list(mine or ()) if list(mine or ()) == list(theirs or ()) else [UNKNOWN_DIGEST]
        elif mine == theirs:
            if mine is not None:
                found[name] = mine
        else:
            found[name] = UNKNOWN_DIGEST
    return found


def unchanged_in_source(change: Mapping[str, Any], now: Mapping[str, Any], then: Mapping[str, Any]) -> bool:
    """Whether the record says of `change`'s field what it said when last synced (`then`; `now`: this run's, both
    `field_digests`): so the difference the change mends was made in Register since. A degree or placement of the
    record (`degrees[n]`, `degrees[n].grade`) is unchanged when the record had it then as often as it has it now
    (matched as the comparison matches it); one Register holds that the record lacks (`degrees`, `placements`) was
    added in Register only when every item the record had then, it still has: else it may be the one the SRS
    dropped."""
    name = str(change["field"])
    listed = name.split("[", 1)[0]
    if listed not in LIST_DIGESTS:
        return now.get(name) == then.get(name)
    mine, theirs = Counter(now.get(listed) or ()), Counter(then.get(listed) or ())
    if name == listed:  # one Register holds and the record does not: deleted
        return not theirs - mine
    index = int(name[len(listed) + 1 : name.index("]")])
    items = now.get(listed) or ()
    if index >= len(items):
        return False
    return 0 < mine[items[index]] <= theirs[items[index]]


# --- codes Register did not keep (review210 F1, F2) ---------------------------------------------------------------

# The trainee fields with a code list (reference TRAINEE_CODE_FIELDS) that a write's echo is compared on.
CODED_FIELDS = tuple(name for name in SCALAR_FIELDS if name in TRAINEE_CODE_FIELDS)
# The fields a degree's echo is compared on: an institution Register's lists no longer have is stored as "Other UK
# institution" and echoed as null, without an error (register-api.md §3.7); an unknown subject, grade, type or country
# is refused (422), not kept otherwise.
DEGREE_CODED = ("institution",)


@dataclass(frozen=True)
class NotKept:
    """A code a write sent that Register's answer holds otherwise (`name`: the field; for a degree's, the degree as
    the ledger names it, `degree_name`), with what it sent and what it holds: null, or another code."""

    name: str
    label: str  # the field as people read it: `nationality`, `degree institution`
    sent: str
    held: str | None


def _identity(degree: Mapping[str, Any]) -> tuple[str | None, ...]:
    """A degree's values but the institution: Register's duplicate rule (§3.7) lets no two of a trainee's share them,
    so they tell the degree Register answered with, and the record's degree on a later night, from its others."""
    return _identity_of(degree_values(degree))


def _identity_of(values: Mapping[str, str | None]) -> tuple[str | None, ...]:
    """`_identity` of a degree already as Register stores it (degree_values)."""
    return tuple(values[name] for name in _IDENTITY)


def degree_name(degree: Mapping[str, Any], key: FieldKey) -> str:
    """A degree as the ledger's `codes_echoed` names it: by its values but the institution (`_identity`), as a digest
    under the run's `key` (no personal data)."""
    return f"degree {key.short(list(_identity(degree)))}"


def codes_not_kept(sent: Mapping[str, Any], echoed: Mapping[str, Any]) -> list[NotKept]:
    """The coded trainee fields a write sent (`sent`: its body) that Register's answer (`echoed`, the trainee it
    returns) holds as null or another code than the comparison expects (`normal`: a code Register files under
    another's entry that the lists know, `JE` as `GB`, is kept). Register's lists changed since the ones in use: it
    drops a retired code it does not check, or files a code under an entry the bundled lists do not know (§3.6)."""
    found = []
    for name in CODED_FIELDS:
        text = text_or_none(sent.get(name))
        if text is None:
            continue
        if normal(name, text, sent) != normal(name, echoed.get(name), echoed):
            found.append(NotKept(name, name, text, text_or_none(echoed.get(name))))
    return found


def degree_codes_not_kept(sent: Mapping[str, Any], echoed: Mapping[str, Any], key: FieldKey) -> list[NotKept]:
    """As `codes_not_kept`, for one degree sent and Register's answer for it (its degree as stored)."""
    mine, theirs = degree_values(sent), degree_values(echoed)
    named = degree_name(sent, key)
    return [
        NotKept(f"{named} {name}", f"degree {name}", str(mine[name]), theirs[name])
        for name in DEGREE_CODED
        if mine[name] is not None and mine[name] != theirs[name]
    ]


def created_degrees_not_kept(
    sent: Sequence[Mapping[str, Any]], echoed: Sequence[Mapping[str, Any]], key: FieldKey
) -> list[NotKept]:
    """`degree_codes_not_kept` for each degree a create sent, paired with the one Register's answer holds with the same
    values but the institution (`_identity`; the order is Register's)."""
    found = []
    held = [(_identity(d), d) for d in echoed]
    for degree in sent:
        mine = _identity(degree)
        match = next((d for identity, d in held if identity == mine), None)
        if match is not None:
            found += degree_codes_not_kept(degree, match, key)
    return found


def disabilities_not_kept(
    source: Mapping[str, Any], register: Mapping[str, Any], reference: ReferenceData
) -> list[str] | None:
    """The record's disability codes, where Register holds them as the record gives them (it echoes the codes as
    sent, §5.3) but derived no disability from them: its lists no longer have them and it dropped them without an
    error, its disclosure "not provided" or "no known disability" where the lists in use give "disabled"; else None.
    Told from what Register holds, on any night (one code of several dropped cannot be told from the disclosure)."""
    mine = disability_set(source)
    held = register.get("disability_disclosure")
    if not mine or held is None or mine != disability_set(register):
        return None
    given = {name: source[name] for name in DISABILITY_FIELDS if text_or_none(source.get(name))}
    if disability_disclosure(reference, given) == "disabled" and held != "disabled":
        return mine
    return None


def echo_digests(
    found: Sequence[NotKept], compared: Sequence[str], key: FieldKey, mark: str
) -> dict[str, list[str] | None]:
    """What the ledger's `codes_echoed` keeps of a write's answer: for each field it compared (`compared`: the names
    of the fields and degree fields sent), the digests under `key` of the code sent and of what Register holds, and
    the code lists in use then (`mark`, `lists_mark`), where Register did not keep it (`found`); None where it did (an
    earlier note of the field is dropped)."""
    noted: dict[str, list[str] | None] = dict.fromkeys(compared)
    for item in found:
        noted[item.name] = [key.short(item.sent), key.short(item.held), mark]
    return noted


# The name of a record's note of disabilities Register held as sent but derived no disability from
# (`disabilities_not_kept`): its digests are of the codes sent and of the disclosure Register derived.
DISABILITIES_NOTE = "disabilities"


def disabilities_note(codes: Sequence[str], held: object, key: FieldKey, mark: str) -> list[str]:
    """`echo_digests`'s note of disabilities Register dropped (DISABILITIES_NOTE): the codes sent, the disclosure it
    holds, the lists in use."""
    return [key.short(sorted(codes)), key.short(text_or_none(held)), mark]


def lists_mark(reference: ReferenceData, key: FieldKey) -> str:
    """Which code lists a note was made under: the bundled ones of a version, or the pulled lists themselves (the
    digest of their entries, not of the file: a pull of the same lists at another time is the same lists, review219
    F2). A note made under other lists than the run's holds no more: Register's lists may have changed back or on (a
    code listed again, given its own entry), and only a write's answer tells, so the record is sent once more and its
    answer noted again, or the note dropped. Notes made under a file's digest (before) count as other lists: sent once
    more, then noted with this mark."""
    return key.short(f"lists {reference.lists_sha256}" if reference.lists_sha256 else reference.source)


def sent_names(sent: Mapping[str, Any], degrees: Sequence[Mapping[str, Any]], key: FieldKey) -> list[str]:
    """The names `echo_digests` compares a write's fields under: the coded fields `sent` gives, and each coded value
    of each degree in `degrees`."""
    names = [name for name in CODED_FIELDS if text_or_none(sent.get(name)) is not None]
    for degree in degrees:
        values, named = degree_values(degree), degree_name(degree, key)
        names += [f"{named} {name}" for name in DEGREE_CODED if values[name] is not None]
    return names


def as_echoed(
    source: dict[str, Any],
    register: Mapping[str, Any],
    noted: Mapping[str, Sequence[str]],
    key: FieldKey,
    mark: str | None = None,
) -> tuple[dict[str, Any], list[NotKept], list[NotKept]]:
    """The record as it is compared with what Register holds, where Register holds a code otherwise than the record
    gives it and that is what it answered this state dir's own write of that very code with (`noted`: the ledger's
    `codes_echoed`, `echo_digests`): Register's value in the record's place, so that the comparison finds the two in
    sync and no update is sent every night (review210 F1, F2), and what was so taken, for the warning that says it
    each night. Register holding anything else (changed in its service since) is a difference, as before. A note
    made under other code lists than the run's (`mark`, `lists_mark`) holds no more: the record is compared as it is,
    and sent once more (the third list returned: what such notes said)."""
    if not noted:
        return source, [], []
    found: list[NotKept] = []
    again: list[NotKept] = []
    data = dict(source)
    for name in CODED_FIELDS:
        digests = noted.get(name)
        text = text_or_none(source.get(name))
        if not digests or text is None or key.short(text) != digests[0]:
            continue
        held = text_or_none(register.get(name))
        if key.short(held) == digests[1]:
            if not _same_lists(digests, mark):
                again.append(NotKept(name, name, text, held))
                continue
            data[name] = register.get(name)
            found.append(NotKept(name, name, text, held))
    degrees = source.get("degrees_attributes")
    if degrees:
        changed = []
        held_degrees = [degree_values(theirs) for theirs in register.get("degrees") or ()]
        for degree in degrees:
            values = degree_values(degree)
            mine = _identity_of(values)  # the institution, the one DEGREE_CODED field set below, is not in it
            named = f"degree {key.short(list(mine))}"  # degree_name's
            degree = dict(degree)
            for name in DEGREE_CODED:
                digests = noted.get(f"{named} {name}")
                if not digests or values[name] is None or key.short(values[name]) != digests[0]:
                    continue
                same = [
                    theirs
                    for theirs in held_degrees
                    if _identity_of(theirs) == mine and key.short(theirs[name]) == digests[1]
                ]
                if same:
                    held = same[0][name]
                    item = NotKept(f"{named} {name}", f"degree {name}", str(values[name]), held)
                    if not _same_lists(digests, mark):
                        again.append(item)
                        continue
                    degree[name] = held
                    found.append(item)
            changed.append(degree)
        data["degrees_attributes"] = changed
    return data, found, again


def _same_lists(digests: Sequence[str], mark: str | None) -> bool:
    """Whether a note was made under the lists in use (`mark`; None: not asked). A note made before notes named
    their lists has none: it counts as made under other lists (sent once more, and noted again with them)."""
    return mark is None or (len(digests) > 2 and digests[2] == mark)


def pack_echoed(noted: Mapping[str, Sequence[str]], key: FieldKey) -> str:
    """`codes_echoed.echoed` as the ledger keeps it: the key's id, `:`, then the notes as JSON."""
    return f"{key.id}:{json.dumps(noted, sort_keys=True, separators=(',', ':'))}"


def unpack_echoed(text: str, key: FieldKey) -> dict[str, list[str]]:
    """`pack_echoed`'s notes, or none for those made under another key (another token's): compared with this key's
    digests they would tell nothing, and the record's next write notes them again."""
    made_under, colon, rest = text.partition(":")
    if not colon or made_under != key.id:
        return {}
    try:
        noted = json.loads(rest)
    except ValueError:
        return {}
    if not isinstance(noted, dict):
        return {}
    return {
        str(name): [str(d) for d in digests]
        for name, digests in noted.items()
        if isinstance(digests, list) and len(digests) in (2, 3)
    }


@dataclass(frozen=True)
class EchoedCodes:
    """What Register answered this state dir's writes of codes it held otherwise (Ledger.codes_echoed, unpacked under
    the run's `key`): record key -> field -> [digest of the code sent, digest of what Register held]."""

    key: FieldKey
    noted: Mapping[str, Mapping[str, Sequence[str]]]
