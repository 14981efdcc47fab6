"""What Register would say of an update: it checks the trainee it holds with the PUT written over it, not the PUT.

register-api.md §2.6 step 3: Register merges a PUT into the stored trainee ("" clears, a key left out keeps its value,
training_initiative falls back to none unless sent, a blank trainee_start_date is the ITT start) and validates the
whole merged trainee. A record that passes validation alone can so be refused: a blank it leaves keeps what Register
holds (a trainee_start_date of its own, set in its service; the initiative `update_body` sends back so that the PUT
does not reset it, where the input gives no initiatives), and that value puts the trainee in another start cycle,
whose funding or initiatives differ (§3.3, §3.5). Found by review78 (F1): such an update failed with 422 every night,
after the degree writes before it.

The merge is the emulator's (`emulator.attributes.merge_update`, the project's model of Register's), on the trainee
as listed (`request_body`), and the check is the rule catalogue's rules that Register runs (`api_only`). Only what the
merged trainee adds to the record's own findings counts: the record was valid, so each of those is a value Register
holds that the update would be judged with.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import date
from typing import Any

from register_batch.model import API_VERSION, request_body
from register_batch.reference import ReferenceData, load_reference
from register_batch.validation.facts import cycle_label, cycle_of, parse_date
from register_batch.validation.runner import Validator

NESTED = ("degrees_attributes", "placements_attributes")
# Kept as held where the input does not give them (compare.update_body, blank_initiatives): sent back, or left out.
INITIATIVES = ("training_initiative", "additional_training_initiative")
# How an extract says "none" of each (compare.blank_initiatives, sync/initiatives.py).
_INITIATIVE_SOURCES = {
    "training_initiative": "the F_INITIATIVES1 tag as NULL, or the F_INITIATIVES1 or training_initiative column blank",
    "additional_training_initiative": "the F_INITIATIVES2 tag as NULL, or the F_INITIATIVES2 or "
    "additional_training_initiative column blank",
}


@functools.lru_cache(maxsize=4)  # thread-safe (review80 F3); keyed by the lists object itself, which it keeps alive
def _registers_rules(as_of: date, reference: ReferenceData) -> Validator:
    """The rules Register runs, with the run's code lists (a run has one `as_of` and one set of lists: one validator a
    run; the few last kept)."""
    return Validator(reference, as_of, api_only=True)


def merged_trainee(
    data: Mapping[str, Any], trainee: Mapping[str, Any], body: Mapping[str, Any], reference: ReferenceData
) -> dict[str, Any]:
    """The trainee Register validates for the PUT `body` (§2.6 step 3), as a request body: `trainee` (as listed) with
    `body` merged in. Its degrees and placements are the record's where it gives them (the degree writes go before
    the PUT), else those Register holds."""
    from register_batch.emulator import attributes  # imported when an update is planned, not by every sync

    held = request_body(trainee)
    nested = {key: data.get(key) or items for key in NESTED for items in (held.pop(key, []),)}
    disabilities = {key: value for key, value in held.items() if attributes.is_disability_key(key)}
    stored = {key: value for key, value in held.items() if key not in disabilities}
    fields, meta = attributes.merge_update(reference, stored, {"hesa_disabilities": disabilities}, dict(body))
    return {**fields, **meta["hesa_disabilities"], **nested}


def refused_update(
    data: Mapping[str, Any],
    trainee: Mapping[str, Any],
    body: Mapping[str, Any],
    *,
    as_of: date,
    reference: ReferenceData | None = None,
) -> str | None:
    """Why Register would refuse the PUT `body` of the trainee it holds (`trainee`) for the record `data`, in its
    words and the values it holds that lead to it; None when it would take it. `reference`: the code lists the run
    validates with, pulled ones too (review79 F1: a code Register added, which it holds, is no refusal); the bundled
    ones without it."""
    reference = reference or load_reference(API_VERSION)
    rules = _registers_rules(as_of, reference)
    own = {(issue.code, issue.field) for issue in rules.check_body(dict(data)) if issue.is_error}
    merged = merged_trainee(data, trainee, body, reference)
    refused = [
        issue
        for issue in rules.check_body(merged)
        if issue.is_error and (issue.code, issue.field) not in own and not _nested(issue.field)
    ]
    if not refused:
        return None
    messages = "; ".join(dict.fromkeys(issue.message for issue in refused))
    held, advice = _held_values(data, merged, {issue.field for issue in refused})
    return (
        f"Register would refuse this update (422: {messages}): it checks the trainee it holds with the update written "
        f"over it, not the update alone{held}. Nothing of this record was sent: {advice}"
    )


def _nested(field: str | None) -> bool:
    """A finding of a degree or placement: of the trainee's own items, which the update does not write."""
    return field is not None and field.startswith(NESTED)


def _held_values(data: Mapping[str, Any], merged: Mapping[str, Any], fields: set[str | None]) -> tuple[str, str]:
    """("; Register holds trainee_start_date 2026-07-20, ...", what to do): the held values the record leaves blank
    that the refusal turns on (a start that puts the trainee in another cycle than the record's, a refused field), and
    what a person can do about them. An initiative Register holds stays under a blank only where the record does not
    give the field (no column for it; in HESA XML no tag for it on the Student, which the SRS did not give one under
    when last synced: sync/initiatives.py): there the advice is to give a code, to give the field empty (whose blank
    then says "none", review196 F1, review202 F1), or to change it in Register's service (review79 F2)."""
    said: list[str] = []
    advice: list[str] = []
    mine = parse_date(data.get("trainee_start_date")) or parse_date(data.get("itt_start_date"))
    theirs = parse_date(merged.get("trainee_start_date")) or parse_date(merged.get("itt_start_date"))
    cycle = cycle_label(cycle_of(theirs)) if theirs else None
    if data.get("trainee_start_date") is None and mine and theirs and cycle_of(mine) != cycle_of(theirs):
        said.append(
            f"Register holds trainee_start_date {merged['trainee_start_date']}, which the record leaves blank, so it "
            f"counts the trainee's start in academic cycle {cycle}, not {cycle_label(cycle_of(mine))}"
        )
        advice.append("give the record its trainee_start_date, or correct the one Register holds in its service")
    for field in sorted(f for f in fields if f and f != "trainee_start_date"):
        if data.get(field) is None and merged.get(field) not in (None, ""):
            said.append(f"Register holds {field} {merged[field]}, which the record leaves blank")
            if field in INITIATIVES:
                where = f" in academic cycle {cycle}" if cycle else ""
                advice.append(
                    f"give the record a {field} that Register has{where}; or, for none, have the extract give the "
                    f"field empty ({_INITIATIVE_SOURCES[field]}: a record without it says nothing of it, and Register "
                    f"keeps {merged[field]}); or remove {merged[field]} in Register's service"
                )
    if not advice:
        advice.append("give the value in the record, or correct the one Register holds in its service")
    return "".join(f"; {text}" for text in said), "; or ".join(advice)
