"""Decide, per source record, what Register needs so that it holds exactly that trainee (design.md, §10).

Matching: the ledger first, then `hesa_id`, then `provider_trainee_id` among the trainees Register lists for
the extract's academic cycles; a Register trainee that Register's own duplicate rule (§4) would match, with
no or the same HUSID, is adopted rather than created twice. More than one candidate is a conflict,
reported and never guessed; so is one found by one identifier alone whose date of birth and last name both differ
(`another_person`: an identifier copied from another student).

Decisions: create (one POST with nested degrees and placements), update (one PUT with the full managed
field set, only when a managed field differs, plus degree/placement calls only for the ones that changed),
withdraw, defer, unchanged (no request), held (a correction to a trainee recommended for award, awarded or
withdrawn: not sent, a warning), conflict, blocked (read-only state, or an update Register would refuse:
sync/merged.py), invalid (not sent).

A withdrawal or deferral the API would refuse now (a future ITT start, §2.7; a state it cannot leave) is held
back, and only it: the record's other writes are still sent. With nothing else to send, the record is blocked.
An invalid record is still matched (never written) so that its trainee is not reported as missing from the
extract.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from register_batch.ilike import LikePatternError, ends_in_escape, has_wildcard, ilike, matches_itself
from register_batch.model import (
    ALL_CLEARABLE_INITIATIVES,
    ALL_CLEARABLE_SUBJECTS,
    HELD_DEFERRAL,
    HELD_WITHDRAWAL,
    READ_ONLY_STATES,
    STATE_WORDS,
    SourceRef,
    TraineeRecord,
)
from register_batch.reference import TRAINEE_CODE_FIELDS, ReferenceData, load_reference
from register_batch.sync.compare import (
    DISABILITIES_NOTE,
    EchoedCodes,
    NotKept,
    as_echoed,
    degree_changes,
    degree_name,
    derived_drift,
    disabilities_not_kept,
    disabilities_note,
    drift,
    lists_mark,
    payload_hash,
    placement_changes,
    unchanged_in_source,
    update_body,
)
from register_batch.sync.listed import ListedTrainee
from register_batch.sync.merged import refused_update
from register_batch.validation.duplicates import first_name_token
from register_batch.validation.facts import cycle_of, parse_date, register_date
from register_batch.validation.nested import withdrawal_day, withdrawal_kept_day

FINISHED_STATES = frozenset({"withdrawn", "awarded"})  # a course that has ended: the student's next has its own trainee
WITHDRAWABLE_STATES = frozenset({"submitted_for_trn", "trn_received", "deferred"})  # §2.7
DEFERRABLE_STATES = frozenset({"submitted_for_trn", "trn_received"})  # §2.8
ACTIONS = ("create", "update", "withdraw", "defer", "unchanged", "held", "conflict", "blocked", "invalid")
# The issue codes planning reads from a record (`_says`): a record spooled and read back keeps these alone.
KEPT_ISSUES = frozenset({"legacy_withdrawal_not_sent", "legacy_deferral_not_sent"})


@dataclass(slots=True)
class Step:
    """One write request. A create's body is the record's (`create_body`), made when it is sent: the plan does not
    hold a second copy of every new trainee's record."""

    kind: str  # create | update | add_degree | update_degree | delete_degree | add_placement | delete_placement
    # | defer | withdraw
    body: dict[str, Any] | None = None
    item_id: str | None = None  # degree_id or placement_id
    # An add_degree that replaces a degree Register holds (UK <-> non-UK, compare.degree_changes): that degree's id,
    # deleted after it; the ledger keeps it until then, so that a run stopped in between is finished by the next.
    replaces: str | None = None

    @property
    def route(self) -> str:
        return {
            "create": "POST /trainees",
            "update": "PUT /trainees/{trainee_id}",
            "add_degree": "POST /trainees/{trainee_id}/degrees",
            "update_degree": "PUT /trainees/{trainee_id}/degrees/{degree_id}",
            "delete_degree": "DELETE /trainees/{trainee_id}/degrees/{degree_id}",
            "add_placement": "POST /trainees/{trainee_id}/placements",
            "delete_placement": "DELETE /trainees/{trainee_id}/placements/{placement_id}",
            "defer": "POST /trainees/{trainee_id}/defer",
            "withdraw": "POST /trainees/{trainee_id}/withdraw",
        }[self.kind]


@dataclass(slots=True)
class RecordPlan:
    """What a sync does for one record. The record itself is not kept (a run plans every record before it writes,
    so plans holding records held the whole extract): `source`, `hesa_id` and `provider_trainee_id` say which one
    it is, and whoever sends or reports it reads the record again (sync/records.py)."""

    source: SourceRef
    hesa_id: str | None
    provider_trainee_id: str | None
    action: str
    steps: list[Step] = field(default_factory=list)
    trainee_id: str | None = None
    matched_by: str | None = None
    changes: list[dict[str, Any]] = field(default_factory=list)
    reason: str | None = None
    payload_hash: str | None = None
    held: list[Step] = field(default_factory=list)  # state changes not sent in this run (see `reason`)
    note: str | None = None  # a warning for people about an action that goes ahead (sync_other_instance)
    state_note: str | None = None  # Register's state is one the record does not show, and the API cannot undo
    held_note: str | None = None  # Register's withdrawal or deferral is not the record's, and the API cannot change it
    earlier: str | None = None  # written by a run that ended before its report: this report is the first to say so
    # The ledger key (the HUSID corrected since) of the earlier run's create `earlier` names, when not the record's
    created_under: str | None = None
    twins_note: str | None = None  # Register holds another trainee that is this record's too (sync_duplicate_held)
    # An initiative the ledger says the SRS gave, which no Student of the file has the tag for: Register's is kept
    # (TraineeRecord.kept_untagged; initiative_kept_untagged), one message each.
    kept_initiatives: tuple[str, ...] = ()
    related: tuple[str, ...] = ()  # the trainees a conflicting record might be: in the extract, not "missing"
    waits: str | None = None  # a dry run's: a real run now would hold the record back (sync_would_wait)
    refused: bool = False  # blocked as Register would refuse its update (sync_update_refused, sync/merged.py)
    # A degree of the record not sent, one message each: Register would refuse it as a duplicate of another of the
    # trainee's (sync_degree_covered; compare.degree_changes's `covered`)
    repeats: tuple[str, ...] = ()
    # The record differs from a trainee Register holds as recommended for award or awarded, in its fields, degrees or
    # placements alone: nothing is sent, and this says what differs (sync_after_award; action `held`). Also of a
    # withdrawn trainee whose record does not contradict the withdrawal (`after_code` sync_after_withdrawal)
    after_award: str | None = None
    after_code: str = "sync_after_award"
    # Register's trainee was changed since this state dir last synced the record, in fields the record has not changed
    # since: the update puts the record's values back over a change made in Register's service
    # (sync_overwrites_register_edit), and the fields it does so for (`register_edited`)
    edited_note: str | None = None
    edited: tuple[str, ...] = ()
    # The same, for a run whose writes of the record went out and did not all come back answered (a failed or unknown
    # record): they may have put the values back (RecordResult._edit_maybe_undone)
    edited_unanswered: str | None = None
    # Codes Register holds otherwise than the record gives them (register_did_not_keep_code; review210 F1, F2): what
    # its answer to a write of this run held, or, on a later night, what it still holds as it answered this state
    # dir's write of them (compare.as_echoed), one message each
    not_kept: tuple[str, ...] = ()
    # The fields (as the ledger's codes_echoed names them) compared as Register answered (compare.as_echoed): a write
    # of the record sends Register's value for them, and its answer says nothing of the record's code
    answered: frozenset[str] = frozenset()
    # The fields (as the ledger's codes_echoed names them: `nationality`, `degree <digest> institution`) whose note was
    # made under other code lists than the run's, with what Register answered then (compare.as_echoed's third list):
    # sent once more, and not an edit made in Register's service while Register holds that answer still
    # (`register_edited`)
    again: dict[str, str | None] = field(default_factory=dict)
    # The record's degrees as the drift names them (`degrees[0]`) and as codes_echoed does (`degree <digest>`): a
    # note, or an answer, of one degree says nothing of another's drift (review219 F1)
    degree_notes: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str | None:
        """The record's ledger key (`record_key`)."""
        return key_of(self.hesa_id)


def key_of(hesa_id: str | None) -> str | None:
    """The ledger key of a record with this HUSID (stable across extracts and runs); None without one."""
    return f"hesa:{hesa_id}" if hesa_id else None


def record_key(record: TraineeRecord) -> str | None:
    """The ledger key of a source record: its HUSID (stable across extracts and runs)."""
    return key_of(record.data.get("hesa_id"))


def start_cycle(data: Mapping[str, Any]) -> int | None:
    """Register's start academic cycle: trainee_start_date, else itt_start_date (§2.3)."""
    day = parse_date(data.get("trainee_start_date")) or parse_date(data.get("itt_start_date"))
    return cycle_of(day) if day else None


def a_second_create_is_refused(data: Mapping[str, Any]) -> bool:
    """Whether Register's 409 (§4) refuses this record's create sent a second time. It compares the cycle of the
    submitted itt_start_date with the held trainee's start cycle (trainee_start_date, else itt_start_date): for a
    trainee begun in a later cycle than its ITT course started (a July course start, begun in September) the two
    never meet, and the same create sent twice is two trainees (found by review13). Nor for a last name that is no
    match for itself as the ILIKE pattern §4 makes of it: one with a backslash (`O\\'Neil` is a pattern for
    `O'Neil`), or ending in one (PostgreSQL raises: Register answers 500, review139 F1)."""
    itt_start = parse_date(data.get("itt_start_date"))
    if itt_start is None or cycle_of(itt_start) != start_cycle(data):
        return False
    return matches_itself(data.get("last_name") or "")


def duplicate_check_key(data: Mapping[str, Any]) -> str | None:
    """What Register's 409 (§4) compares between this record's create and a trainee an earlier create of it made, as
    two digests, the one with the first name's token and the one with the email, space-separated: §4 matches on
    either. Of two creates sharing a digest, whichever lands second is refused. None when even the same create sent
    twice is not refused (`a_second_create_is_refused`). A surname, date of birth, route or start corrected between
    the two, or both the first name and the email, gives no digest in common (review43; helper-207 F2).

    The ledger keeps the digests, not the values, but they are unsalted SHA-256 of values that can be guessed: given
    a trainee's name, the date of birth and route are found by trying each in about a second (review162 F5). So the
    ledger and its backups are personal data, as its HUSIDs make them anyway (docs/security.md). Left unkeyed: a
    ledger's digests must be those the next run computes, which exactly-once depends on; but kept only while the
    create may still land (Ledger.record drops them once it has settled: review203 F1)."""
    if not a_second_create_is_refused(data):
        return None
    common = [
        start_cycle(data),
        data.get("date_of_birth"),
        (data.get("last_name") or "").lower(),
        data.get("training_route"),
    ]
    by_first_name = [*common, first_name_token(data.get("first_names"))]
    by_email = [*common, (data.get("email") or "").strip().lower()]
    return " ".join(hashlib.sha256(json.dumps(parts).encode()).hexdigest() for parts in (by_first_name, by_email))


def a_later_create_is_refused(earlier: str | None, later: str | None) -> bool:
    """Whether Register's 409 (§4) refuses whichever of two creates, with these `duplicate_check_key`s, lands second:
    they share a digest. A key kept by a version before the split in two (one digest of both) shares none, so its
    create is waited for rather than trusted to be refused. Every create still out is compared so, one by one
    (runner `_unguarded_by`, the ledger's writes_unanswered)."""
    if earlier is None or later is None:
        return False
    return not set(earlier.split()).isdisjoint(later.split())


def another_course_instance(data: dict[str, Any], trainee: Mapping[str, Any]) -> bool:
    """A trainee with the record's SRS id but another HUSID and another start year: an earlier (or later) course
    instance of the same student, which Register holds as a trainee of its own. An SRS id (OWNSTU) outlives an
    instance; a new instance gets a HUSID of its own. (Same start year, other HUSID: a corrected HUSID.)"""
    theirs, ours = trainee.get("hesa_id"), data.get("hesa_id")
    return bool(theirs and ours and theirs != ours and start_cycle(trainee) != start_cycle(data))


# Register's own HESA import took a withdrawn or awarded trainee whose ITT start date was more than this many days
# from the record's for another course (hesa-formats.md §1.5, MIN_NUMBER_OF_DAYS_SUGGESTING_COURSE_CHANGE).
COURSE_CHANGE_DAYS = 30


def _days_apart(data: Mapping[str, Any], trainee: Mapping[str, Any]) -> int | None:
    """Days between the record's ITT start date and the trainee's, when both are given."""
    ours, theirs = parse_date(data.get("itt_start_date")), parse_date(trainee.get("itt_start_date"))
    return abs((ours - theirs).days) if ours is not None and theirs is not None else None


def earlier_course(data: Mapping[str, Any], trainee: Mapping[str, Any]) -> bool:
    """A trainee Register holds as withdrawn or awarded, whose ITT start date is more than COURSE_CHANGE_DAYS from the
    record's: maybe the student's earlier course (HESA keeps one HUSID, and an SRS its id, for a student's courses;
    Register's own HESA import created the next course as a new trainee, hesa-formats.md §1.5), maybe the record's
    own course with its start corrected. Which, register-batch cannot tell: such a trainee alone is the record's
    (blocked, `plan_changes`), but beside the one trainee with the record's HUSID whose ITT start is within
    COURSE_CHANGE_DAYS of the record's, it is the other course (`match`)."""
    if trainee.get("state") not in FINISHED_STATES:
        return False
    apart = _days_apart(data, trainee)
    return apart is not None and apart > COURSE_CHANGE_DAYS


def _near(data: Mapping[str, Any], trainee: Mapping[str, Any]) -> bool:
    """The trainee's ITT start is within COURSE_CHANGE_DAYS of the record's (both given)."""
    apart = _days_apart(data, trainee)
    return apart is not None and apart <= COURSE_CHANGE_DAYS


def far_link(data: Mapping[str, Any], trainee: Mapping[str, Any]) -> int | None:
    """Days between the record's ITT start and the trainee's the ledger links it to, when more than
    COURSE_CHANGE_DAYS: the record may be another of the student's courses (one HUSID) than the trainee's, or the
    trainee's own with its start corrected. Which, only the student's other trainees tell (`_nearer_course`)."""
    apart = _days_apart(data, trainee)
    return apart if apart is not None and apart > COURSE_CHANGE_DAYS and data.get("hesa_id") else None


# The most academic cycles a far-linked record's window is listed in whole (`cycles_around_far_link`): every cycle a
# course nearer the record than the linked trainee could start in, up to next year's; as far as a return from a
# deferral of three years (review74 R1). A longer window (a year mistyped into the past) is listed FAR_LINK_CYCLES
# either side of the record's own, and the link is not followed to a trainee the API can write to
# (`far_link_beyond_reach`).
FAR_LINK_WINDOW = 5
FAR_LINK_CYCLES = 2


def _far_link_cycles(
    data: Mapping[str, Any], trainee: Mapping[str, Any], *, as_of: date
) -> tuple[int, int, bool] | None:
    """The first and last start cycles the run lists for a trainee nearer the record's ITT start than the linked one
    (`far_link`), and whether such a trainee could start in a cycle not listed (a window longer than
    FAR_LINK_WINDOW). None for a link that is not far. Register lists a trainee under its trainee_start_date's cycle
    (§2.3): its ITT start's, or a year later for a course deferred before it began (review73 F7). It has none after
    next year's (§3.4)."""
    apart = far_link(data, trainee)
    started = parse_date(data.get("itt_start_date"))
    if apart is None or started is None:
        return None
    own, newest = cycle_of(started), cycle_of(as_of) + 1
    nearer = timedelta(days=apart - 1)  # strictly nearer than the linked trainee (`_nearer_course`)
    first, last = cycle_of(started - nearer), min(cycle_of(started + nearer), newest)
    if last - first < FAR_LINK_WINDOW:
        return first, min(last + 1, newest), False
    return max(first, own - FAR_LINK_CYCLES), min(last, own + FAR_LINK_CYCLES + 1, newest), True


def cycles_around_far_link(data: Mapping[str, Any], trainee: Mapping[str, Any], *, as_of: date) -> set[int]:
    """The start cycles listed for a trainee nearer the record's ITT start than the linked one (`_far_link_cycles`).
    Empty for a link that is not far (review72 H1: the earlier course in a cycle the extract did not list was not
    seen, and its record followed the link to the next course, writing over it and withdrawing it)."""
    cycles = _far_link_cycles(data, trainee, as_of=as_of)
    return set(range(cycles[0], cycles[1] + 1)) if cycles else set()


def far_link_beyond_reach(data: Mapping[str, Any], trainee: Mapping[str, Any], *, as_of: date) -> bool:
    """The link is far, and a trainee nearer the record could start in a cycle the run does not list (a window
    longer than FAR_LINK_WINDOW cycles): the student's other course is not looked for there, so the linked trainee
    cannot be told to be the record's own. A record whose year was mistyped by four followed the link to the next
    course and withdrew it (review73 F1)."""
    cycles = _far_link_cycles(data, trainee, as_of=as_of)
    return cycles is not None and cycles[2]


def _nearer_course(data: Mapping[str, Any], trainee: Mapping[str, Any], holdings: Holdings) -> bool:
    """The ledger's link is far (`far_link`), and Register holds another trainee with the record's HUSID whose ITT
    start is nearer the record's: the student has courses in Register, and the link is not the record's nearest.
    Followed, it kept the next course's record blocked on the earlier course every night (review65 F2), and wrote an
    earlier course's record over the next course (review71 M2, review72 H1); the record is matched as if there were
    no link. The linked trainee, if nearest, is the record's own with its start corrected (review72 M1). A trainee
    within COURSE_CHANGE_DAYS of the linked one, and not of the record, is its duplicate twin, not another course,
    withdrawn or not, and as near or a few days nearer (review72 M2, review73 F2): the link stands."""
    apart = far_link(data, trainee)
    if apart is None:
        return False
    return any(
        other["trainee_id"] != trainee["trainee_id"]
        and (theirs := _days_apart(data, other)) is not None
        and theirs < apart
        and (_near(data, other) or not _near(trainee, other))
        for other in holdings.by_hesa.get(data["hesa_id"], ())
    )


def _beyond_reach(data: Mapping[str, Any], trainee: Mapping[str, Any]) -> str:
    """Why a record is not written over the trainee its far link names (`far_link_beyond_reach`)."""
    linked = trainee["trainee_id"]
    return (
        f"the ledger links this record to trainee {linked}, whose ITT start ({trainee.get('itt_start_date')}) is "
        f"{_days_apart(data, trainee)} days from this record's: another of the student's courses (one HUSID), nearer "
        f"this record, could start in more than {FAR_LINK_WINDOW} academic years, further than register-batch looks, "
        f"so the record may be that course's, and updating would write it over trainee {linked}; nothing was sent. "
        f"If the record's ITT start date is wrong, correct it in the SRS; if the record is trainee {linked}'s course "
        f"with its start moved that far, change that trainee's ITT start date in Register's service to this record's "
        f"({data.get('itt_start_date')}): the next run syncs the record to it"
    )


IDENTIFIERS = ("hesa_id", "provider_trainee_id")  # what a record and a Register trainee are matched by


def _disagrees(data: dict[str, Any], trainee: Mapping[str, Any]) -> bool:
    """The record and the trainee name different HUSIDs or different SRS ids (both given, and not equal)."""
    return any(data.get(key) and trainee.get(key) and data.get(key) != trainee.get(key) for key in IDENTIFIERS)


def another_person(data: Mapping[str, Any], trainee: Mapping[str, Any]) -> list[str]:
    """The fields that say a trainee found by one identifier is another person than the record's, or none.

    Another person: the two share one identifier only (the other differs, or one side lacks it) and the date of birth
    and the last name differ too: a HUSID or SRS id copied from another student in the SRS. Writing the record over
    that trainee would put one person's data on another's. Each change a person's record legitimately has leaves
    something else that agrees: a last name changed on marriage (same date of birth), a corrected date of birth (same
    last name), an SRS id re-keyed in a migration or a corrected HUSID (same date of birth and last name); so do any
    two of them in one night where the record and the trainee have an SRS id. Where neither has one, the HUSID is all
    there is to tell by, and a date of birth corrected on the night of a marriage is held back as a conflict with
    the rest: the safe side, as a copied HUSID looks the same. A blank date of birth or last name is not a difference.
    """
    shared = [key for key in IDENTIFIERS if data.get(key) and data.get(key) == trainee.get(key)]
    if len(shared) != 1:
        return []
    other = next(key for key in IDENTIFIERS if key not in shared)
    person = [
        key
        for key, ours, theirs in zip(("date_of_birth", "last_name"), birth_key(data), birth_key(trainee), strict=True)
        if ours and theirs and ours != theirs
    ]
    return [other, *person] if len(person) == 2 else []


def _another_persons(data: Mapping[str, Any], trainee: Mapping[str, Any], differ: list[str]) -> str:
    """Why a record is not written over the trainee `another_person` found: the identifier shared, the identifier
    that is not (values: identifiers, which reports and the ledger hold), and the personal fields that differ (named,
    not shown: the ledger keeps no personal data)."""
    other, *person = differ
    shared = next(key for key in IDENTIFIERS if key != other)
    mine, theirs = data.get(other), trainee.get(other)
    others = (
        f"{other} {mine or '(none)'} in the record, {theirs or '(none)'} in Register"
        if mine or theirs
        else f"no {other} in the record or in Register"
    )
    return (
        f"this record's {shared} {data.get(shared)} is trainee {trainee['trainee_id']}'s in Register, but nothing else "
        f"says they are one person: {others}, and another {' and '.join(person)}. Updating would write this record "
        f"over that trainee, so nothing was sent: if the {shared} was copied from another student, correct it in the "
        "SRS; if the record is that trainee, correct their date of birth or last name in Register first"
    )


def one_record_per_trainee(
    plans: list[RecordPlan],
    records: Sequence[TraineeRecord],
    holdings: Holdings,
    *,
    as_of: date,
    reference: ReferenceData | None = None,
    applied_on: date | None = None,
) -> list[RecordPlan]:
    """The plans, so that no two records of one extract write to one trainee (one person's data over another's,
    each night in turn). The record that is most surely the trainee's person keeps it (`_likeliest`); the others
    are matched again without it (a create, when Register has no one else for them). With no single such record,
    none of them is sent. `records[i]` is plan i's record (read only for records that claim one trainee)."""
    claims: dict[str, list[int]] = {}
    for index, plan in enumerate(plans):
        if plan.trainee_id and plan.action not in ("invalid", "conflict"):
            claims.setdefault(plan.trainee_id, []).append(index)
    settled = list(plans)
    for trainee_id, claimants in claims.items():
        if len(claimants) < 2:
            continue
        read = {i: records[i] for i in claimants}
        keeper = _likeliest([(plans[i], read[i]) for i in claimants], holdings.by_id.get(trainee_id) or {})
        if keeper is None:
            for i in claimants:
                _conflict(plans[i], f"{len(claimants)} records of this extract match trainee {trainee_id}")
            continue
        others = holdings.without(claims)
        for i in claimants:
            if plans[i] is keeper:
                continue
            again = plan_record(
                read[i], None, others, invalid=False, as_of=as_of, reference=reference, applied_on=applied_on
            )
            if again.action == "create" or (again.trainee_id and again.trainee_id not in claims):
                settled[i] = again
            else:
                _conflict(plans[i], f"another record of this extract is trainee {trainee_id}'s")
    _past_another_person(settled, records, holdings, as_of=as_of, reference=reference, applied_on=applied_on)
    return settled


def _past_another_person(
    plans: list[RecordPlan],
    records: Sequence[TraineeRecord],
    holdings: Holdings,
    *,
    as_of: date,
    reference: ReferenceData | None = None,
    applied_on: date | None = None,
) -> None:
    """Match again, without that trainee, a record held back as another person than the trainee its identifier found
    (`another_person`) when another record of the extract is that trainee's: the HUSID was keyed in as this record's
    person's, and is corrected in the night this person arrives. Nothing in Register is this record's: a create."""
    kept = {plan.trainee_id for plan in plans if plan.trainee_id and plan.action not in ("invalid", "conflict")}
    others: Holdings | None = None
    for index, plan in enumerate(plans):
        if plan.action != "conflict" or len(plan.related) != 1 or plan.related[0] not in kept:
            continue
        record, trainee = records[index], holdings.by_id.get(plan.related[0])
        if trainee is None or not another_person(record.data, trainee):
            continue
        if others is None:
            others = holdings.without(kept)
        again = plan_record(
            record, None, others, invalid=False, as_of=as_of, reference=reference, applied_on=applied_on
        )
        if again.action == "create" or (again.trainee_id and again.trainee_id not in kept):
            plans[index] = again
        else:
            _conflict(plan, f"another record of this extract is trainee {plan.related[0]}'s")


def _likeliest(claimants: list[tuple[RecordPlan, TraineeRecord]], trainee: Mapping[str, Any]) -> RecordPlan | None:
    """The one claimant that is the trainee's person, by the surest evidence that picks exactly one: the same
    date of birth and last name, else the same SRS id, else the same HUSID (a HUSID typo is what brings two
    records to one trainee, so it is the weakest here)."""
    tests = (
        lambda d: birth_key(d) == birth_key(trainee),
        lambda d: bool(d.get("provider_trainee_id")) and d["provider_trainee_id"] == trainee.get("provider_trainee_id"),
        lambda d: bool(d.get("hesa_id")) and d["hesa_id"] == trainee.get("hesa_id"),
    )
    for same in tests:
        found = [plan for plan, record in claimants if same(record.data)]
        if len(found) == 1:
            return found[0]
    return None


def birth_key(person: Mapping[str, Any]) -> tuple[str, str]:
    """Date of birth and last name (case ignored): how Register's duplicate rule first narrows its search (§4)."""
    return person.get("date_of_birth") or "", (person.get("last_name") or "").lower()


def _conflict(plan: RecordPlan, why: str) -> None:
    """Hold back a record planned against a trainee another record of the extract claims: nothing is sent, so its
    `changes` go too (results.csv lists the drift sent and each state change sent): what it differed from was the
    other record's trainee, whose data it showed beside this record's, and a deferral from it was never sent
    (review67 F4)."""
    plan.action, plan.steps, plan.held, plan.changes = "conflict", [], [], []
    plan.reason = f"{why}: check the HUSIDs and SRS ids in the SRS and in Register; nothing was sent"


def not_created_again(plan: RecordPlan, trainee: Mapping[str, Any]) -> None:
    """A record whose trainee was deleted in Register's service, and that nobody else Register holds is (re-entered
    there by hand: then it is that one's, `plan.match`), is a conflict that names the deleted trainee, not a create:
    a person deleted it, and the API could not take a trainee created again against that back out."""
    if plan.action != "create":
        return
    plan.action, plan.steps, plan.held, plan.note = "conflict", [], [], None
    plan.changes = []  # the create's (a withdrawal from no state): none is sent (review67 F4)
    plan.trainee_id = trainee["trainee_id"]
    plan.reason = _deleted_reason(trainee)


def _deleted_reason(trainee: Mapping[str, Any]) -> str:
    """Why a record whose trainee was deleted in Register is not sent, and what people can do about it."""
    return (
        f"trainee {trainee['trainee_id']}, which this record was synced to, was deleted in Register's service "
        "(Register lists it no more, though it still shows it by its id); nothing was sent, as a create would add it "
        "again. If it was deleted by mistake, ask Register's support to restore it, or add the trainee again in "
        "Register's service: the next sync finds it and updates it. If the trainee should not be in Register, leave "
        "the record out of the extract"
    )


def duplicate_rule_matches(data: dict[str, Any], trainee: Mapping[str, Any]) -> bool:
    """Register's create-time duplicate rule (§4), applied to a listed trainee: the record's last name is the ILIKE
    pattern, so `O_Neil` matches a held `O'Neil` (review139 F3). A name ending in a lone backslash that PostgreSQL
    refuses to match (Register answers 500) matches no one here: the create is sent, and Register's answer said."""
    if data.get("date_of_birth") != trainee.get("date_of_birth"):
        return False
    try:
        if not ilike(data.get("last_name") or "", trainee.get("last_name") or ""):
            return False
    except LikePatternError:
        return False
    if data.get("training_route") != trainee.get("training_route"):
        return False
    submitted = parse_date(data.get("itt_start_date"))
    if submitted is None or start_cycle(trainee) != cycle_of(submitted):
        return False
    same_first = first_name_token(data.get("first_names")) == first_name_token(trainee.get("first_names"))
    email = (data.get("email") or "").strip().lower()
    return same_first or (bool(email) and email == (trainee.get("email") or "").strip().lower())


class Holdings:
    """What Register holds for the provider: the listed trainees, indexed for matching.

    Each trainee is kept as a `ListedTrainee` (the keys planning reads, in a tuple), and each index entry as a tuple
    of them (one trainee, most often): a nightly run holds every trainee of its cycles while it plans."""

    def __init__(
        self,
        trainees: Iterable[Mapping[str, Any]],
        replaced: Mapping[str, Mapping[str, str]] | None = None,
        withdrawn: Mapping[str, str] | None = None,
        echoed: EchoedCodes | None = None,
    ):
        # trainee_id -> {degree_id: digest of its replacement}: degrees an earlier run replaced and had not yet
        # deleted (Ledger.degrees_replaced), deleted by the plan once their replacement is in (compare.degree_changes).
        # The run's own mapping, not a copy, even while empty: what the run notes as it goes is seen here too.
        self.replaced: Mapping[str, Mapping[str, str]] = replaced if replaced is not None else {}
        # trainee_id -> the date of the withdrawal this sync made of the trainee (Ledger.withdrawals_made): one back
        # in training since is not withdrawn again for it (`_withdrawal_undone`). The run's own mapping too.
        self.withdrawn: Mapping[str, str] = withdrawn if withdrawn is not None else {}
        # What Register answered this state dir's writes of codes it held otherwise (Ledger.codes_echoed), by record.
        self.echoed = echoed
        self.by_id: dict[str, ListedTrainee] = {}
        self.by_hesa: dict[str, tuple[ListedTrainee, ...]] = {}
        self.by_provider_id: dict[str, tuple[ListedTrainee, ...]] = {}
        self.by_birth: dict[tuple[str, str], tuple[ListedTrainee, ...]] = {}
        # date of birth -> the last names (lower case) by_birth has with it: where a record's last name is a pattern
        # to Register's duplicate check (`born_as`). A name whose trainees went (`_unindex`) stays: by_birth has none.
        self.names_born: dict[str, set[str]] = {}
        for trainee in trainees:
            self.add(trainee)

    def without(self, trainee_ids: Container[str]) -> Holdings:
        """The trainees but `trainee_ids`, with the run's own memory of replaced degrees and withdrawals made."""
        return Holdings(
            [t for t in self.by_id.values() if t["trainee_id"] not in trainee_ids],
            self.replaced,
            self.withdrawn,
            self.echoed,
        )

    def add(self, trainee: Mapping[str, Any]) -> None:
        trainee_id = trainee.get("trainee_id")
        if not trainee_id:
            return
        listed = ListedTrainee.of(trainee)
        old = self.by_id.get(trainee_id)
        if old is not None:
            self._unindex(old)
        self.by_id[trainee_id] = listed
        if hesa_id := listed.get("hesa_id"):
            self.by_hesa[hesa_id] = (*self.by_hesa.get(hesa_id, ()), listed)
        if srs_id := listed.get("provider_trainee_id"):
            self.by_provider_id[srs_id] = (*self.by_provider_id.get(srs_id, ()), listed)
        birth = birth_key(listed)
        self.by_birth[birth] = (*self.by_birth.get(birth, ()), listed)
        self.names_born.setdefault(birth[0], set()).add(birth[1])

    def born_as(self, data: Mapping[str, Any]) -> tuple[ListedTrainee, ...]:
        """The trainees Register's duplicate check (§4) looks at for a create of `data`: its date of birth, and a
        last name its own fits as an ILIKE pattern. A name with a wildcard (`%`, `_`) or an escape (`\\`) may fit
        other names than itself, and a name with an escape may not fit itself (review139 F1, F3)."""
        born, name = birth_key(data)
        if not has_wildcard(name) and "\\" not in name:
            return self.by_birth.get((born, name), ())
        return self._read_as_pattern(born, name)[0]

    def unmatchable_beside(self, data: Mapping[str, Any]) -> tuple[ListedTrainee, ...]:
        """The trainees of `data`'s date of birth beside which PostgreSQL refuses its last name as a pattern (one
        ending in a lone backslash, whose rest begins theirs): Register answers 500 to its create (§4; review141 F4)."""
        born, name = birth_key(data)
        return self._read_as_pattern(born, name)[1] if ends_in_escape(name) else ()

    def _read_as_pattern(self, born: str, name: str) -> tuple[tuple[ListedTrainee, ...], tuple[ListedTrainee, ...]]:
        """The trainees of date of birth `born` whose last name `name` fits as an ILIKE pattern, and those beside
        which PostgreSQL refuses it (LikePatternError): one pass over the date's names."""
        fits: list[ListedTrainee] = []
        refuses: list[ListedTrainee] = []
        for held in sorted(self.names_born.get(born, ())):
            try:
                if ilike(name, held):
                    fits.extend(self.by_birth.get((born, held), ()))
            except LikePatternError:
                refuses.extend(self.by_birth.get((born, held), ()))
        return tuple(fits), tuple(refuses)

    def _unindex(self, trainee: ListedTrainee) -> None:
        # Each index with the trainee's key in it: by_hesa and by_provider_id are by text, by_birth by a pair.
        indexes: tuple[tuple[dict[Any, tuple[ListedTrainee, ...]], Any], ...] = (
            (self.by_hesa, trainee.get("hesa_id")),
            (self.by_provider_id, trainee.get("provider_trainee_id")),
            (self.by_birth, birth_key(trainee)),
        )
        for index, key in indexes:
            if key in index:
                index[key] = tuple(t for t in index[key] if t.get("trainee_id") != trainee.get("trainee_id"))

    def __len__(self) -> int:
        return len(self.by_id)


def match(record: TraineeRecord, linked: str | None, holdings: Holdings, *, as_of: date) -> tuple[str, Any]:
    """('matched', (trainee, by)) | ('new', None) | ('conflict', (reason, trainee_ids)) | ('missing', trainee_id).

    `linked`: the trainee the ledger links the record to (its entry's trainee_id), if any."""
    data = record.data
    if linked:
        trainee = holdings.by_id.get(linked)
        if trainee is None:
            return "missing", linked
        if (
            not _disagrees(data, trainee)
            and not another_person(data, trainee)
            and not _nearer_course(data, trainee, holdings)
        ):
            if (trainee.get("state") or "") not in READ_ONLY_STATES and far_link_beyond_reach(
                data, trainee, as_of=as_of
            ):
                # Not when the API writes nothing to the trainee (§6): then the record is blocked on it, and told how
                # the student's next course is added (`plan_changes`).
                return "conflict", (_beyond_reach(data, trainee), (trainee["trainee_id"],))
            return "matched", (trainee, "ledger")
        # The link is stale: the trainee's HUSID or SRS id is now another record's (a corrected typo, a swap), or the
        # record is another person's with a copied HUSID, or another course's. Following it would write this record's
        # data over another person, or course; match as if there were no ledger.
    candidates: dict[str, ListedTrainee] = {}
    matched_by: dict[str, list[str]] = {}
    by = None
    for name, index, value in (
        ("hesa_id", holdings.by_hesa, data.get("hesa_id")),
        ("provider_trainee_id", holdings.by_provider_id, data.get("provider_trainee_id")),
    ):
        found: tuple[ListedTrainee, ...] = index.get(value, ()) if value else ()
        if name == "provider_trainee_id":
            found = tuple(t for t in found if not another_course_instance(data, t))
        if found and by is None:
            by = name
        for trainee in found:
            candidates[trainee["trainee_id"]] = trainee
            matched_by.setdefault(trainee["trainee_id"], []).append(name)
    # One student's courses (one HUSID): the one trainee whose ITT start is within 30 days of the record's is its
    # course, when every other is an earlier one, withdrawn or awarded (review65 F2), or when it is itself withdrawn
    # or awarded: the earlier course's own record, still in the extract beside the next course, which the API writes
    # nothing to (READ_ONLY_STATES), so it is not a conflict every night. Any other mix is a conflict: a course further
    # off, not finished, may be the next course, which an earlier course's record must not be written over (review71
    # H1), or the record's own course back from a deferral (review72 M3).
    one_student = len(candidates) > 1 and all(t.get("hesa_id") == data.get("hesa_id") for t in candidates.values())
    near: dict[str, ListedTrainee] = {}
    if one_student:
        near = {i: t for i, t in candidates.items() if _near(data, t)}
        if len(near) == 1 and (
            all(t.get("state") in FINISHED_STATES for t in near.values())
            or all(earlier_course(data, t) for i, t in candidates.items() if i not in near)
        ):
            candidates = near
    if len(candidates) == 1:
        trainee = next(iter(candidates.values()))
        if differ := another_person(data, trainee):
            return "conflict", (_another_persons(data, trainee, differ), (trainee["trainee_id"],))
        return "matched", (trainee, by)
    if len(candidates) > 1:
        ids = "; ".join(_matched_by(candidates[i], matched_by[i]) for i in sorted(candidates))
        why = f"more than one trainee in Register matches this record's hesa_id/provider_trainee_id: {ids}"
        if one_student and len(near) == 1:
            # review72 M3: a deferred earlier course beside the one at the record's start; it may be this record's
            # course back from its deferral, and the other one added twice.
            [close] = near
            further = sorted(i for i in candidates if i not in near)
            others = f"trainee {further[0]} is" if len(further) == 1 else f"trainees {', '.join(further)} are"
            why += (
                f". They are one student's courses (one HUSID). Only trainee {close} starts within 30 days of this "
                f"record's ITT start, but {others} neither withdrawn nor awarded, and further off, so this record may "
                "be that course's, back from a deferral: if that course has ended, withdraw it in Register's service; "
                f"if this record is that course, ask Register's support to delete trainee {close}"
            )
        elif one_student:
            why += (
                ". They are one student's courses (one HUSID), and none of them alone starts within 30 days of this "
                "record's ITT start: if the record is of a course that has ended, leave it out of the extract; if "
                "its ITT start date is wrong, correct it"
            )
        return "conflict", (why, tuple(sorted(candidates)))
    rule = [t for t in holdings.born_as(data) if duplicate_rule_matches(data, t)]
    if len(rule) == 1 and rule[0].get("hesa_id") in (None, data.get("hesa_id")):
        return "matched", (rule[0], "duplicate_rule")
    if rule:
        ids = ", ".join(sorted(t["trainee_id"] for t in rule))
        why = (
            f"Register's duplicate rule matches trainee(s) {ids} with another hesa_id: a create would be refused "
            "with 409. Check whether they are the same person"
        )
        return "conflict", (why, tuple(sorted(t["trainee_id"] for t in rule)))
    if unmatchable := holdings.unmatchable_beside(data):
        refusing = tuple(sorted(t["trainee_id"] for t in unmatchable))
        why = (
            "Register answers 500 to its create: the last name ends in a lone backslash, which Register's duplicate "
            f"check (PostgreSQL's ILIKE) refuses to read beside trainee(s) {', '.join(refusing)} of the same date of "
            "birth. Correct the last name in the SRS (a backslash is no part of a name: an escaped apostrophe?)"
        )
        return "conflict", (why, refusing)
    return "new", None


def _matched_by(trainee: ListedTrainee, names: list[str]) -> str:
    """One of several trainees a record matches, by which of its identifiers, and what Register holds for the other:
    which of the two is wrong in the SRS (review54 F9). Said in the reports only, which hold personal data."""
    other = next((n for n in ("hesa_id", "provider_trainee_id") if n not in names), None)
    held = f" (its {other} in Register: {trainee.get(other) or 'blank'})" if other else ""
    return f"trainee {trainee['trainee_id']} by {' and '.join(names)}{held}"


# The reason of a record that is not sent because it has errors (plan_record, and a run stopped before its plan).
NOT_SENT_INVALID = "the record failed validation and was not sent"


def plan_record(
    record: TraineeRecord,
    linked: str | None,
    holdings: Holdings,
    *,
    invalid: bool,
    as_of: date,
    reference: ReferenceData | None = None,
    applied_on: date | None = None,
) -> RecordPlan:
    """The plan for `record`; `linked` is the trainee the ledger links it to (its entry's trainee_id), if any.
    `applied_on`: the day Register would apply a withdrawal or deferral sent now, which one dated after it waits for
    (the run's `register_day`); `as_of` without it."""
    data = record.data
    digest = payload_hash(data, record.withdrawal, record.deferral)
    plan = RecordPlan(
        source=record.source,
        hesa_id=data.get("hesa_id"),
        provider_trainee_id=data.get("provider_trainee_id"),
        action="invalid",
        payload_hash=digest,
    )
    if invalid or plan.key is None:
        plan.reason = NOT_SENT_INVALID
        # Which Register trainee it is about, by the same rules, so that the trainee does not count as missing
        # from the extract; nothing is planned for it.
        outcome, detail = match(record, linked, holdings, as_of=as_of)
        if outcome == "matched":
            trainee, plan.matched_by = detail
            plan.trainee_id = trainee["trainee_id"]
        elif outcome == "conflict":  # nor do those it would be a conflict between, as for a valid record
            plan.related = detail[1]
        return plan
    outcome, detail = match(record, linked, holdings, as_of=as_of)
    if outcome == "conflict":
        plan.action, (plan.reason, plan.related) = "conflict", detail
        return plan
    if outcome == "missing":
        plan.action = "conflict"
        plan.trainee_id = detail
        plan.reason = (
            f"the ledger links this record to trainee {detail}, which Register no longer returns for this token "
            "(created with another provider's token, or removed from Register for good? A trainee deleted in "
            "Register's service is still returned): check it in Register before syncing this record"
        )
        return plan
    if outcome == "new":
        plan.action = "create"
        plan.steps.append(Step("create"))  # its body: create_body(record.data), made when it is sent
        srs_id = record.data.get("provider_trainee_id")
        others: tuple[ListedTrainee, ...] = holdings.by_provider_id.get(srs_id, ()) if srs_id else ()
        if others:
            # Told, not guessed: another course instance, or a HUSID corrected in the same night as a start moved.
            other = others[-1]
            plan.note = (
                f"created as another course instance: trainee {other['trainee_id']} has this SRS id with HUSID "
                f"{other.get('hesa_id')}, starting {other.get('itt_start_date')}. If this record's HUSID is a "
                "correction of that one, it is the same person: correct the HUSID in Register"
            )
        _status_steps(plan, record, state="submitted_for_trn", as_of=applied_on or as_of)
        return plan
    trainee, by = detail
    plan.trainee_id = trainee["trainee_id"]
    plan.matched_by = by
    if by == "ledger":  # else a second trainee with its HUSID is a conflict (match)
        plan.twins_note = _twins_note(trainee, holdings)
    plan_changes(
        plan,
        record,
        trainee,
        as_of=as_of,
        replaced=holdings.replaced.get(plan.trainee_id),
        reference=reference,
        withdrew=holdings.withdrawn.get(plan.trainee_id),
        echoed=holdings.echoed,
        applied_on=applied_on,
    )
    if record.kept_untagged:
        plan.kept_initiatives = _kept_initiatives(record, trainee)
    return plan


def _kept_initiatives(record: TraineeRecord, trainee: Mapping[str, Any]) -> tuple[str, ...]:
    """The initiative_kept_untagged warnings of a record whose file has no Student with an initiative's tag, where the
    ledger says the SRS gave one when the record was last synced (TraineeRecord.kept_untagged): the blank says
    nothing, so Register's value is kept, and said where Register holds one, or the removal would be lost silently
    (review205 F1/F2)."""
    return tuple(
        f"the ledger says the SRS gave a {name} when this state dir last synced the record; this file carries no "
        f"{tags} for any Student, so Register's {held} is kept. If the SRS removed it, give the tag as NULL"
        for name, _digest, tags in record.kept_untagged
        if (held := trainee.get(name))
    )


def _twins_note(trainee: Mapping[str, Any], holdings: Holdings) -> str | None:
    """The warning for a record the ledger links to `trainee` when Register lists others with its HUSID and start
    year: the same trainee created twice (two state dirs at once, a create carried out after another was sent), which
    following the link alone left unsaid every night (found by review39). Another start year is another course, and
    so is a withdrawn or awarded trainee more than COURSE_CHANGE_DAYS from the linked one, or one such from it: a
    course changed within the year, which Register's HESA import adds as a new trainee (hesa-formats.md §1.5;
    review73 F5: the earlier course was called a duplicate to delete, every night)."""
    husid, cycle = trainee.get("hesa_id"), start_cycle(trainee)
    twins = sorted(
        str(t["trainee_id"])
        for t in (holdings.by_hesa.get(husid, ()) if husid else ())
        if t["trainee_id"] != trainee["trainee_id"]
        and start_cycle(t) == cycle
        and not earlier_course(trainee, t)
        and not earlier_course(t, trainee)
    )
    if not twins:
        return None
    return (
        f"Register also holds trainee{'s' if len(twins) > 1 else ''} {', '.join(twins)} with this record's HUSID and "
        f"start year, besides trainee {trainee['trainee_id']}, which this record is synced to: if they are the same "
        "person, ask Register's support to delete the other"
    )


def plan_changes(
    plan: RecordPlan,
    record: TraineeRecord,
    trainee: Mapping[str, Any],
    *,
    as_of: date,
    replaced: Mapping[str, str] | None = None,
    reference: ReferenceData | None = None,
    withdrew: str | None = None,
    echoed: EchoedCodes | None = None,
    applied_on: date | None = None,
) -> None:
    """Fill in the update, sub-resource and state steps for a record matched to a Register trainee. `replaced`: the
    trainee's degrees an earlier run replaced and had not yet deleted (`Holdings.replaced`). `reference`: the code
    lists the run validates with (pulled ones too), which an update's merged trainee is checked with (sync/merged.py);
    the bundled ones without it. `withdrew`: the date of the withdrawal this sync made of the trainee, if it made one
    (`Holdings.withdrawn`). `applied_on`: as plan_record's. `echoed`: what Register answered this state dir's writes
    of codes it held otherwise with (`Holdings.echoed`): where it still holds that, the record is compared as it
    answered (compare.as_echoed)."""
    data = record.data
    lists = reference or load_reference()
    state = trainee.get("state") or ""
    writable = state not in READ_ONLY_STATES  # Register lets no one change the trainee otherwise (§6)
    plan.not_kept, plan.answered = (), frozenset()
    plan.again = {}
    plan.degree_notes = (
        {
            f"degrees[{n}]": degree_name(degree, echoed.key)
            for n, degree in enumerate(data.get("degrees_attributes") or ())
        }
        if echoed is not None
        else {}
    )
    noted: Mapping[str, Sequence[str]] = {}
    mark = lists_mark(lists, echoed.key) if echoed is not None else None
    if echoed is not None and plan.key is not None and (noted := echoed.noted.get(plan.key) or {}):
        # A trainee no one may change (§6) keeps its notes whatever the lists: a send once more would be blocked, and
        # never answered to note them again.
        data, kept, again = as_echoed(data, trainee, noted, echoed.key, mark if writable else None)
        # A code Register files under another listed one's entry (XL as GB) is said on the night its answer shows it,
        # not every night after: nothing a person does to the lists ends it (review216 F4).
        plan.not_kept = tuple(not_kept_words(item, lists, noted=True) for item in kept if not filed_as(item, lists))
        plan.not_kept += tuple(again_words(item, lists) for item in again)
        plan.answered = frozenset(item.name for item in kept)
        plan.again = {item.name: item.held for item in again}
    dropped = disabilities_not_kept(data, trainee, lists)
    resend = False
    if dropped is not None and echoed is not None and writable:
        # Quiet only while Register holds the drop it answered this state dir's write with, under the lists in use:
        # else (no note, or one made under other lists: a pull since) the record is sent once more, its disabilities
        # with it, and the answer tells whether Register keeps them now (review216 F2). Not a trainee no one may
        # change (§6): that send would be blocked every night.
        said = disabilities_note(dropped, trainee.get("disability_disclosure"), echoed.key, mark or "")
        if noted.get(DISABILITIES_NOTE) != said:
            plan.not_kept += (disabilities_words(dropped, lists, again=True),)
            dropped = None
            resend = True
        else:
            plan.not_kept += (disabilities_words(dropped, lists, noted=True),)
    elif dropped is not None:
        plan.not_kept += (disabilities_words(dropped, lists),)
    unsaid = record.partial_lists  # a course subject or initiative the input has no place for is never cleared
    if not writable:
        # Register lets no one change such a trainee (§6): a blank subject beside subject 1, or a blank initiative, is
        # left as said nothing of, as before blanks could clear, rather than a change refused (blocked) every night
        # (review44 F4).
        unsaid = unsaid | ALL_CLEARABLE_SUBJECTS | ALL_CLEARABLE_INITIATIVES
    plan.changes = drift(data, trainee, unsaid)
    plan.held, plan.reason, plan.state_note, plan.held_note, plan.refused = [], None, None, None, False
    plan.repeats, plan.after_award, plan.after_code = (), None, "sync_after_award"
    body = update_body(data, trainee, unsaid)
    derived = derived_drift(data, trainee, body, lists)
    if dropped is not None:  # Register derived its disclosures without the codes it dropped: not drift to mend
        derived = [change for change in derived if change["field"] != "diversity_disclosure"]
    elif resend and not plan.changes and not derived:
        # The update that sends them once more: not a change of the disclosure, which Register derives and may keep
        # as it is (review219 F3), but the record's disabilities sent again, said so.
        derived = [dict(RESENT_DISABILITIES)]
    plan.changes += derived
    update = [Step("update", body)] if plan.changes else []
    before: list[Step] = []  # the degree writes the trainee's PUT waits for, and those that wait for it
    after: list[Step] = []
    if data.get("degrees_attributes"):
        degrees = degree_changes(
            data["degrees_attributes"],
            trainee.get("degrees") or [],
            complete="degrees_attributes" not in record.partial_lists,
            replaced=replaced,
        )
        # Corrections first, then additions, then removals: a corrected degree may free the place (Register's
        # duplicate rule, §3.7) that an added one takes, and nothing is removed before its replacement is in. The
        # trainee's PUT goes between: Register validates it with the degrees it holds (§2.6 step 3), so a route
        # corrected to a postgraduate one is refused (R7a, §3.3) until its degree is in; and a degree removed after
        # it lets a route corrected to an undergraduate one drop its degree. Degree writes do not check the trainee.
        before = [Step("update_degree", body, degree_id) for degree_id, body in degrees.update]
        before += [Step("add_degree", d, replaces=degrees.replaces.get(n)) for n, d in enumerate(degrees.add)]
        after = [Step("delete_degree", None, degree_id) for degree_id in degrees.delete]
        plan.changes += degrees.changes
        plan.repeats = tuple(_repeated_degree(n, repeated) for n, repeated in degrees.covered)
    steps = [*before, *update, *after]
    if data.get("placements_attributes"):
        placements = placement_changes(
            data["placements_attributes"],
            trainee.get("placements") or [],
            complete="placements_attributes" not in record.partial_lists,
        )
        steps += [Step("add_placement", p) for p in placements.add]
        steps += [Step("delete_placement", None, placement_id) for placement_id in placements.delete]
        plan.changes += placements.changes
    if not writable and steps:
        plan.action = "blocked"
        # The state in words, as everywhere else: "is recommended_for_award in Register" read as a code (review133 F3).
        plan.reason = (
            f"the trainee is {STATE_WORDS.get(state, state)} in Register, and the API lets no one change "
            f"{a_trainee_in(state)}"
        )
        # The record's withdrawal or deferral, which `_status_steps` would hold back, is not sent either: said, or it
        # went unmentioned (review65 F3). Not one Register holds already: a deferral it ended (the record keeps it,
        # `_deferral_ended` says so) or a withdrawn trainee's same deferral is nothing to send (review206 F2).
        unsent = _unsent(plan, record, trainee, state, withdrew)
        # What else differs in Register's state is said too, as on every other run (docs/formats.md): blocked by
        # other drift, a withdrawal's changed details were said only once that drift was mended (review67 F1).
        _state_the_record_does_not_show(plan, record, state, trainee)
        _state_held_otherwise(plan, record, trainee, state)
        if not unsent and not earlier_course(data, trainee):
            _held_read_only(plan, state)
            return
        if unsent and not (state == "withdrawn" and plan.state_note):  # that note says it of a withdrawn trainee
            plan.reason += f"; nor can the record's {' and '.join(unsent)} be sent"
        if earlier_course(data, trainee):
            plan.reason += (
                f". Its ITT start is {_days_apart(data, trainee)} days from this record's: if the record is the "
                "student's next course (HESA keeps one HUSID for a student's courses), register-batch cannot tell the "
                "two apart: add the new course in Register's service, with this HUSID and ITT start date, and submit "
                "it (Register lists no drafts): the next run syncs this record to it"
            )
        return
    refused = refused_update(data, trainee, update[0].body or {}, as_of=as_of, reference=reference) if update else None
    if refused is not None:
        # Register would refuse the PUT (§2.6 step 3): nothing of the record is sent, neither the degree writes that go
        # before it nor the state changes after, as a run sending them met the 422 part-way (review78 F1).
        unsent = [noun for noun, body in (("deferral", record.deferral), ("withdrawal", record.withdrawal)) if body]
        if unsent:
            refused += f" (nor is its {' or '.join(unsent)}, until the update goes through)"
        plan.action, plan.reason, plan.refused, plan.steps = "blocked", refused, True, []
        _state_the_record_does_not_show(plan, record, state, trainee)
        _state_held_otherwise(plan, record, trainee, state)
        return
    plan.steps = steps
    plan.action = "update" if steps else "unchanged"
    _status_steps(plan, record, state=state, as_of=applied_on or as_of, trainee=trainee, withdrew=withdrew)
    _state_the_record_does_not_show(plan, record, state, trainee)
    _state_held_otherwise(plan, record, trainee, state)


def _lists_words(reference: ReferenceData) -> str:
    return (
        f"its code lists may have changed since the ones in use ({reference.source}): run `register-batch reference "
        "pull` and `register-batch reference diff`"
    )


# How again_words' message and disabilities_words' `again` one begin: planning's word on a record sent once more,
# which the write's answer replaces (runner `_echo_noted`).
AGAIN_SAID = "Sent once more: "


def again_words(item: NotKept, reference: ReferenceData) -> str:
    """The message for a code Register held otherwise than this state dir's write of it sent, noted under other code
    lists than the run's (a pull since): sent once more, as only Register's answer tells whether it keeps it now."""
    return (
        f"{AGAIN_SAID}Register did not keep {item.label} '{item.sent}' ({_holds(item)}) when this state dir last sent "
        f"it, under other code lists than the ones in use ({reference.source}), or before this version noted which "
        "lists: its answer now tells whether it keeps it"
    )


def _holds(item: NotKept) -> str:
    """What Register holds of a code it did not keep, in words: a degree institution it does not list is "Other UK
    institution" (§3.7: echoed as null)."""
    if item.held is None:
        return "it holds Other UK institution" if item.label == "degree institution" else "it holds none"
    return f"it holds '{item.held}'"


def filed_as(item: NotKept, reference: ReferenceData) -> bool:
    """Whether Register holds a trainee field's code as another code, both of the lists in use (XL as GB, §3.6: it
    files the one under the other's entry): no list is out of date, and a pull changes nothing."""
    if item.held is None or item.name.startswith("degree ") or item.name not in TRAINEE_CODE_FIELDS:
        return False
    codes = reference.codes(TRAINEE_CODE_FIELDS[item.name])
    return item.sent in codes and item.held in codes


def not_kept_words(item: NotKept, reference: ReferenceData, *, noted: bool = False) -> str:
    """register_did_not_keep_code's message: what Register holds of a code the record gives (review210 F1, F2); on a
    later night (`noted`), that it is what Register answered this state dir's write of it with, which is not sent
    again while both stay so (compare.as_echoed)."""
    if filed_as(item, reference):
        return (
            f"Register files {item.label} '{item.sent}' as '{item.held}' (both codes of the lists in use, "
            f"{reference.source}: it keeps the one under the other's entry): there is nothing to pull, and later "
            "nights compare the two as the same without a word. To have the records give what Register holds, send "
            f"'{item.held}' (the SRS, or a mapping translation)"
        )
    said = f"Register did not keep {item.label} '{item.sent}' ({_holds(item)})"
    if noted:
        said += ", as it answered this state dir's write of it: not sent again while the record and Register stay so"
    return f"{said}: {_lists_words(reference)}"


# How disabilities_words' message begins: what a write's answer replaces (runner `_echo_noted`).
DISABILITIES_SAID = "Register did not keep disability '"


def disabilities_words(
    codes: Sequence[str], reference: ReferenceData, *, noted: bool = False, again: bool = False
) -> str:
    """register_did_not_keep_code's message for disabilities Register holds as sent but derived no disability from
    (compare.disabilities_not_kept); on a later night (`noted`), that it is what Register answered this state dir's
    write with; or (`again`) that the record is sent once more, as no answer under the lists in use said so."""
    said = (
        f"{DISABILITIES_SAID}{', '.join(codes)}' (it holds the codes but no disability: its disclosure "
        'is not "disabled")'
    )
    if again:
        return (
            f"{AGAIN_SAID}{said}, which no answer to this state dir's writes under the code lists in use "
            f"({reference.source}) has shown: its answer now tells whether it keeps it"
        )
    if noted:
        said += ", as it answered this state dir's write of it: not sent again while the record and Register stay so"
    return f"{said}: {_lists_words(reference)}"


def _unsent(
    plan: RecordPlan, record: TraineeRecord, trainee: Mapping[str, Any], state: str, withdrew: str | None
) -> list[str]:
    """The record's deferral and withdrawal a trainee in a read-only state (recommended, awarded, withdrawn) does not
    hold already: what the SRS says of the trainee's state that Register does not, and the officer settles (the SRS
    or DfE). Register holds a withdrawn trainee's withdrawal (its details differing is `_state_held_otherwise`'s
    warning), and the deferral it holds with the same details; a recommended or awarded trainee the deferral or
    withdrawal it ended (`_deferral_ended`, `_withdrawal_undone`, which note the record keeps it), as `_status_steps`
    reads them."""
    if state == "withdrawn":
        held = record.deferral and trainee.get("defer_date") and not held_differences("defer", record.deferral, trainee)
        return ["deferral"] if record.deferral and not held else []
    unsent = []
    if record.deferral and not _deferral_ended(plan, record, trainee):
        unsent.append("deferral")
    if record.withdrawal and not _withdrawal_undone(plan, record, trainee, withdrew):
        unsent.append("withdrawal")
    return unsent


def _held_read_only(plan: RecordPlan, state: str) -> None:
    """Hold a correction the SRS makes to a trainee Register holds as recommended for award, awarded or withdrawn,
    whose state the record does not contradict: the API takes no write to such a trainee (register-api.md §6,
    StateTransitionError), and DfE support does not edit an award or reinstate a trainee who left for an end date, a
    name or a placement, so nothing the data officer does clears it. A warning (sync_after_award, or
    sync_after_withdrawal), exit 0, not `blocked` and exit 1 every night (review201 F1, review206 F1). Nothing is sent
    nor marked synced: if the trainee returns to a state the API can change, the next run sends it. A withdrawal or
    deferral in the record that Register does not hold, or a possible next course, stays `blocked`."""
    plan.action, plan.steps, plan.reason = "held", [], None
    differ = ", ".join(dict.fromkeys(str(change["field"]) for change in plan.changes)) or "its values"
    if state == "withdrawn":
        plan.after_code = "sync_after_withdrawal"
        plan.after_award = (
            f"this record differs from trainee {plan.trainee_id} in {differ}, but the trainee is withdrawn in "
            "Register, and Register's API takes no change of a trainee who is withdrawn: "
            "nothing is sent. Nothing to do through the API. It is sent if DfE reinstates the "
            "trainee"
        )
        return
    plan.after_code = "sync_after_award"
    plan.after_award = (
        f"this record differs from trainee {plan.trainee_id} in {differ}, but the trainee is {STATE_WORDS[state]} "
        f"in Register, and Register's API takes no change of a trainee who is recommended for award or awarded: "
        "nothing is sent. Nothing to do through the API; if the award "
        "depends on it, ask DfE's Register support. It is sent if the trainee returns to a state the API can change"
    )


# What Register derives rather than takes (compare.derived_drift): another client's partial update derives them again
# from what it sent. Drift in them alone is the record's update mending that, not a value a person changed.
DERIVED_FIELDS = frozenset({"course_education_phase", "diversity_disclosure"})
# The changes that are not a value of the trainee's a person could have changed in Register's service (the state
# changes the record sends: `_state_change`) or that no person changed (DERIVED_FIELDS).
_NOT_EDITS = DERIVED_FIELDS | {"state", "disability_disclosure"}
# The `changes` entry of an update that sends a record's disabilities once more (after a pull) as Register dropped
# them under other lists: no drift, and no edit made in Register's service (`register_edited`).
RESENT_DISABILITIES: Mapping[str, Any] = {"field": "disabilities", "register": "not kept", "source": "sent once more"}


def register_edited(
    plan: RecordPlan,
    *,
    last_trainee: str | None,
    synced_at: str,
    dry_run: bool,
    then: Mapping[str, Any] | None = None,
    now: Mapping[str, Any] | None = None,
    last_hash: str | None = None,
    sent: Mapping[str, Any] | None = None,
) -> None:
    """Note an update that puts the record's values back over a change made in Register's service since this state dir
    last synced the record (sync_overwrites_register_edit; review180 F1, review185 F1): a field the update mends whose
    value the SRS has not changed since (`then`, what the record said of each field then, and `now`, as
    compare.field_digests) was changed in Register since: a surname corrected there, a degree added, a placement
    deleted. A field the SRS changed too is the SRS's later word, and not named. Without `then` (a ledger of a version
    that did not keep them), only a record whose whole payload is as then (`last_hash`) is known unchanged, and every
    field it mends is named. The sync still sends the record (the SRS is the source of truth, design.md); said, so
    that a person makes the change in the SRS if Register's value is the right one. Not on a first sync of the record
    (nothing kept), nor for another trainee than the one synced then, nor for the state changes it sends or the fields
    Register derives (`_NOT_EDITS`). `sent`: what writes sent since then, unanswered (a lost reply, a record left part
    way: compare.sent_digests), may be in Register: a field is named only if the record says of it what they sent
    too, so that a value this tool wrote is never called Register's (review192 F1)."""
    if plan.action != "update" or last_trainee != plan.trainee_id:
        return
    edited = [
        change
        for change in plan.changes
        if change["field"] not in _NOT_EDITS
        and change != RESENT_DISABILITIES
        and not _cleared_by_an_update(change)
        and not _answered_then(plan, change)
    ]
    if then is not None and now is not None:
        edited = [
            change
            for change in edited
            if unchanged_in_source(change, now, then) and (sent is None or unchanged_in_source(change, now, sent))
        ]
    elif not last_hash or last_hash != plan.payload_hash:
        return
    if not edited:
        return
    plan.edited = tuple(dict.fromkeys(change["field"] for change in edited))
    said = ", ".join(dict.fromkeys(_edit_words(change) for change in edited))
    since = (
        f"Register's trainee was changed since this state dir last synced it ({synced_at[:10]} UTC), in what the "
        "extract has not changed since: this sync"
    )
    keep = "To keep Register's value, make the change in the SRS"
    plan.edited_note = f"{since} {'would put' if dry_run else 'puts'} the extract's values back ({said}). {keep}"
    plan.edited_unanswered = (
        f"{since} sent the extract's values back ({said}) and did not finish: Register may hold them now, which the "
        f"next sync cannot tell from the SRS's. {keep}"
    )


def _answered_then(plan: RecordPlan, change: Mapping[str, Any]) -> bool:
    """A drift of a field sent once more as its note was made under other code lists (`plan.again`), where Register
    holds still what it answered this state dir's write with: its own handling of the code, not a person's edit. A
    degree's by the degree the note names, not by its field alone: one degree's note is no answer for another's."""
    name = noted_name(plan, change["field"])
    if name is None or name not in plan.again:
        return False
    held = change.get("register")
    return (None if held is None or held == "" else str(held)) == plan.again[name]


def noted_name(plan: RecordPlan, name: str) -> str | None:
    """A drift's field as the ledger's codes_echoed names it (`degrees[1].institution`: `degree <digest>
    institution`, the record's degree 1 as `plan.degree_notes` names it); None for a degree it does not name."""
    nested = re.fullmatch(r"(degrees\[[0-9]+\])\.([a-z_]+)", name)
    if nested is None:
        return name
    degree = plan.degree_notes.get(nested.group(1))
    return f"{degree} {nested.group(2)}" if degree is not None else None


def _cleared_by_an_update(change: Mapping[str, Any]) -> bool:
    """A `training_initiative` Register holds none of: another client's update that did not send it cleared it, as a
    PUT does (compare.update_body: it falls back to none when absent), so that nobody changed it (review193 F1). One
    Register holds of another value was set there, and is named."""
    return change["field"] == "training_initiative" and change.get("register") in (None, "")


def _edit_words(change: Mapping[str, Any]) -> str:
    """A change `register_edited` names: its field, and for a whole degree or placement what the sync does to it."""
    name = str(change["field"])
    if change.get("source") is None and name in ("degrees", "placements"):
        return f"{name}: one added in Register is removed"
    if change.get("register") is None and name.startswith(("degrees[", "placements[")) and "." not in name:
        return f"{name}: one removed in Register is added again"
    return name


def _repeated_degree(n: int, repeated: str) -> str:
    """A degree of the record not sent, as Register's degree endpoint would refuse it every run (§3.7 "Duplicate
    rule": a degree whose every value given is another's of the trainee, a blank matching anything)."""
    other = f"{repeated}, which Register holds" if repeated.startswith("degree ") else f"{repeated}, added before it"
    return (
        f"degrees_attributes[{n}]: not sent, as Register refuses it as a duplicate degree (409 This is a duplicate "
        f"degree): each value it gives is that of {other}"
    )


def a_trainee_in(state: str) -> str:
    """ "a trainee who is recommended for award": a state of §6 in words (any other as given)."""
    return f"a trainee who is {STATE_WORDS.get(state, state or 'in no state')}"


def _status_steps(
    plan: RecordPlan,
    record: TraineeRecord,
    *,
    state: str,
    as_of: date,
    trainee: Mapping[str, Any] | None = None,
    withdrew: str | None = None,
) -> None:
    """Deferral then withdrawal, after the data writes; each only when Register is not there yet (nor was, and has
    since been reinstated: `_deferral_ended`, `_withdrawal_undone`), and not before its own date (`_dated_ahead`).
    `as_of`: the day Register would apply a change sent now (plan_record's `applied_on`)."""
    withdrawn_on = (
        withdrawal_kept_day(str(record.withdrawal.get("withdrawal_date") or ""), as_of) if record.withdrawal else None
    )
    if record.deferral and state not in ("deferred", "withdrawn") and not _deferral_ended(plan, record, trainee):
        dated = register_date(record.deferral.get("defer_date"), as_of)
        defer = Step("defer", dict(record.deferral))
        if state in DEFERRABLE_STATES and dated is not None and withdrawn_on is not None and withdrawn_on < dated:
            # Never sent, whether its date is ahead or both have passed (review220 F1: a first sync after both dates,
            # as after a missed night or a late entry, sent it before the withdrawal).
            _hold(plan, defer, _withdrawn_before("defer_date", dated, withdrawn_on), waits=True, never=True)
        elif state in DEFERRABLE_STATES and dated is not None and dated > as_of:
            _hold(plan, defer, _dated_ahead("defer_date", dated, as_of), waits=True)
        elif state in DEFERRABLE_STATES:
            plan.steps.append(defer)
            plan.action = "defer" if plan.action == "unchanged" else plan.action
            _state_change(plan, state, "deferred")
        else:
            _hold(plan, defer, f"{a_trainee_in(state)} cannot be deferred through the API")
            return
    if record.withdrawal and state != "withdrawn" and not _withdrawal_undone(plan, record, trainee, withdrew):
        start = parse_date(record.data.get("itt_start_date"))
        withdraw = Step("withdraw", dict(record.withdrawal))
        if state not in WITHDRAWABLE_STATES:
            _hold(plan, withdraw, f"{a_trainee_in(state)} cannot be withdrawn through the API")
        elif withdrawn_on is not None and withdrawn_on > as_of and (start is None or withdrawn_on >= start):
            # Dated after today, and not before the ITT start: it waits for its own date, the later of the two
            # (review214 F4: it was said to wait for the start date, and was held again on that day).
            _hold(plan, withdraw, _dated_ahead("withdrawal_date", withdrawn_on, as_of), waits=True)
        elif start is not None and start > as_of:
            _hold(
                plan,
                withdraw,
                f"a trainee cannot be withdrawn before the ITT start date ({start.isoformat()}): it is sent by the "
                f"first sync on or after {start.isoformat()}",
                waits=True,
            )
        else:
            plan.steps.append(withdraw)
            plan.action = "withdraw" if plan.action == "unchanged" else plan.action
            _state_change(plan, state, "withdrawn")


def _dated_ahead(field: str, day: date, as_of: date) -> str:
    """Why a withdrawal or deferral dated after today is held back (review211 F1): Register takes a date in the future
    (register-api.md §3.4: no future check) but withdraws or defers the trainee at once, and tells TRS (§2.7 step 3,
    §2.8); the API cannot reinstate (§2.12). So it waits for its day, as a withdrawal waits for the ITT start."""
    noun, verb = ("withdrawal", "withdraw") if field == "withdrawal_date" else ("deferral", "defer")
    return (
        f"the {noun} is dated {day.isoformat()} ({field}), after today ({as_of.isoformat()} UTC), and Register would "
        f"{verb} the trainee at once and tell TRS, which the API cannot undo: it is sent by the first sync on or "
        f"after {day.isoformat()}"
    )


def _withdrawn_before(field: str, day: date, withdrawn_on: date) -> str:
    """Why a deferral is never sent beside a withdrawal dated before it (review214 F2), whether its date is ahead or
    past (review220 F1): the trainee left before the planned deferral. The withdrawal goes on its day, and Register
    cannot defer a withdrawn trainee (register-api.md §2.8: only submitted_for_trn or trn_received; §6), so sending
    the deferral first would record a deferral that never happened."""
    return (
        f"the deferral is dated {day.isoformat()} ({field}), but the withdrawal is dated {withdrawn_on.isoformat()}, "
        "before it, and Register cannot defer a withdrawn trainee: the withdrawal is sent (on or after its date) and "
        "the deferral never is"
    )


def _state_change(plan: RecordPlan, state: str, to: str) -> None:
    """Name a deferral or withdrawal sent in `changes`, from the state Register has then (none before a create):
    beside a create or an update the record's action is that one, and results.csv did not show the trainee was also
    deferred or withdrawn."""
    earlier = [change["source"] for change in plan.changes if change["field"] == "state"]
    before = earlier[-1] if earlier else None if plan.action == "create" else state
    plan.changes.append({"field": "state", "register": before, "source": to})


def _a_new_one(ours: str, held: str, ended: str) -> bool:
    """Whether the record's deferral or withdrawal dated `ours` is a new one, not the one Register held (dated `held`)
    and has since ended (on `ended`): one the SRS dated otherwise is that one too, unless dated after the end."""
    dated, ended_on = parse_date(ours), parse_date(ended)
    return ours != held and (dated is None or ended_on is None or dated > ended_on)


def _deferral_ended(plan: RecordPlan, record: TraineeRecord, trainee: Mapping[str, Any] | None) -> bool:
    """The record's deferral is one Register made and has since ended: the trainee, back in training, keeps the
    deferral's date beside the reinstatement's (only Register's web service reinstates, register-api.md §2.12).
    Sending it again would defer a trainee back in training a second time: it is not sent, and the record says so.
    A deferral the SRS dated otherwise since (a corrected date) is that one too, unless it is dated after the
    reinstatement (review92 F1: it was sent, and the API cannot undo it)."""
    assert record.deferral is not None
    if trainee is None:
        return False
    ours = _held_value("defer_date", record.deferral.get("defer_date"))
    held = _held_value("defer_date", trainee.get("defer_date"))
    if ours is None or held is None:
        return False
    reinstated = _held_value("reinstate_date", trainee.get("reinstate_date"))
    ended = reinstated or held  # without a reinstate_date, the trainee is back in training since the deferral
    if _a_new_one(ours, held, ended):
        return False
    plan.held_note = (
        f"trainee {plan.trainee_id} was deferred on {held}"
        + (f" and reinstated on {reinstated}" if reinstated else ", and is back in training")
        + " in Register, but this record still has that deferral"
        + (
            ""
            if ours == held
            else f" (dated {ours} here: not after the {'reinstatement' if reinstated else 'deferral'})"
        )
        + ": it is not sent again (it would defer the trainee a second time). If the trainee is back in training, "
        f"clear the record's deferral; to defer them again, give the new deferral's date, after {ended}"
    )
    return True


def _withdrawal_undone(
    plan: RecordPlan, record: TraineeRecord, trainee: Mapping[str, Any] | None, withdrew: str | None
) -> bool:
    """The record's withdrawal is one Register made and has since undone: DfE's support reinstated the trainee (the
    API cannot, register-api.md §2.12, §6), who is back in training. Register shows the withdrawal still, or shows
    none (an undone withdrawal is discarded: §3.6 shows the latest kept one) and this sync made it (`withdrew`, the
    ledger's). Sending it again would withdraw the trainee a second time, which the API cannot undo, and undo DfE's
    correction (review108 F6): it is not sent, and the record says so, as for a deferral (`_deferral_ended`). A
    withdrawal dated after that one is a new one."""
    assert record.withdrawal is not None
    if trainee is None:
        return False
    ours = _held_value("withdrawal_date", record.withdrawal.get("withdrawal_date"))
    shown = _held_value("withdrawal_date", trainee.get("withdrawal_date"))
    held = shown or _held_value("withdrawal_date", withdrew)
    if ours is None or held is None:
        return False
    if _a_new_one(ours, held, held):
        return False
    plan.held_note = (
        f"trainee {plan.trainee_id} was withdrawn on {held}"
        + ("" if shown else " by this sync")
        + " and is back in training in Register (only DfE can reinstate a trainee), but this record still has that "
        "withdrawal"
        + ("" if ours == held else f" (dated {ours} here: not after it)")
        + ": it is not sent again (the API cannot undo a withdrawal). If the trainee is back in training, clear the "
        f"record's withdrawal; if they have left again, give the new withdrawal's date, after {held}"
    )
    return True


def _says(record: TraineeRecord, body: dict[str, Any] | None, legacy_code: str) -> bool:
    """The record holds the state change (`body`), or a legacy code that says it without the data Register needs."""
    return bool(body) or any(issue.code == legacy_code for issue in record.issues)


def _state_the_record_does_not_show(
    plan: RecordPlan, record: TraineeRecord, state: str, trainee: Mapping[str, Any]
) -> None:
    """Note a trainee Register has withdrawn or deferred whose record shows neither: the API cannot undo either
    (there is no reinstate endpoint, register-api.md §2 and §6), so nothing is sent, but someone must look.

    Only where the record's input could say so (`TraineeRecord.can_say`): Register's CSV template has no withdrawal
    or deferral column and HESA's layout no leaving since C23053, so a record of such a file that says nothing
    says nothing about it, and the warning would come back every night, whatever anyone did."""
    trainee_id = plan.trainee_id
    can_say = record.can_say or {}
    left = _says(record, record.withdrawal, "legacy_withdrawal_not_sent")
    if state == "withdrawn" and not left and "withdrawal" in can_say:
        # A deferral in the record is not sent (Register is past it, `_status_steps`): say so, or it goes unmentioned;
        # unless Register holds that very deferral (deferred, then withdrawn: review65 F4).
        unsent = record.deferral and not (
            trainee.get("defer_date") and not held_differences("defer", record.deferral, trainee)
        )
        deferral = " (its deferral is not sent: a withdrawn trainee cannot be deferred)" if unsent else ""
        plan.state_note = (
            f"trainee {trainee_id} is withdrawn in Register, but this record has no withdrawal{deferral}: the API "
            "cannot reinstate a trainee. If the trainee is still training, ask DfE to reinstate them in Register; if "
            f"not, fill in the record's withdrawal ({can_say['withdrawal']})"
        )
    elif (
        state == "deferred"
        and not left
        and "deferral" in can_say
        and not _says(record, record.deferral, "legacy_deferral_not_sent")
    ):
        plan.state_note = (
            f"trainee {trainee_id} is deferred in Register, but this record has no deferral: the API cannot reinstate "
            "a trainee. If the trainee is back in training, reinstate them in Register's web service; if not, fill "
            f"in the record's deferral ({can_say['deferral']})"
        )


def _held_value(key: str, value: Any) -> str | None:
    """A withdrawal or deferral value as compared: reasons in any order, a withdrawal date's day (the record's may
    have a time, §3.4; Register shows the date, §1.4), a blank as none."""
    if isinstance(value, list | tuple):
        return "; ".join(sorted(text for v in value if (text := str(v).strip()))) or None
    text = str(value).strip() if value is not None else ""
    if key == "withdrawal_date" and (day := withdrawal_day(text)) is not None:
        return day.isoformat()
    return text or None


def held_differences(kind: str, sent: Mapping[str, Any], trainee: Mapping[str, Any]) -> list[str]:
    """How Register holds the trainee's withdrawal (`kind` "withdraw") or deferral ("defer") otherwise than `sent`
    (the record's) gives it, one phrase a value. Only the values both give are compared: a blank in the record is
    never a difference, nor one Register does not show."""
    held_as = HELD_WITHDRAWAL if kind == "withdraw" else HELD_DEFERRAL
    return [
        f"{key} {held} in Register, {ours} in the record"
        for mine, key in held_as.items()
        if (ours := _held_value(key, sent.get(mine))) is not None
        and (held := _held_value(key, trainee.get(key))) is not None
        and ours != held
    ]


def _state_held_otherwise(plan: RecordPlan, record: TraineeRecord, trainee: Mapping[str, Any], state: str) -> None:
    """Note a withdrawal or deferral Register holds with other values than the record's (a date or reasons corrected
    in the SRS after it was sent): Register withdraws or defers a trainee once, and the API cannot change either
    (register-api.md §2.7, §2.8, §6), so nothing is sent, but Register does not hold the record as it says.

    Only the values both give are compared: a blank in the record is never a difference (nor one Register does not
    show)."""
    differ = []
    if state == "withdrawn" and record.withdrawal:
        differ += held_differences("withdraw", record.withdrawal, trainee)
    if state in ("deferred", "withdrawn") and record.deferral:
        differ += held_differences("defer", record.deferral, trainee)
    if differ:
        plan.held_note = (
            f"trainee {plan.trainee_id} is {state} in Register, but not as this record says: {'; '.join(differ)}: "
            "the API withdraws or defers a trainee once and cannot change what Register holds. Correct the record, "
            "or ask DfE's Register support to correct Register"
        )


def _hold(plan: RecordPlan, step: Step, why: str, *, waits: bool = False, never: bool = False) -> None:
    """Keep back a state change the API would refuse now (§2.7, §2.8), and only it: the create, update, degree and
    placement writes planned before it are still sent. With none, the record is blocked, unless the change only
    has to wait for a date (`waits`): that is not something anyone must fix, so it is a warning and exit 0, not a
    nightly exit 1 until the course starts. A deferral and a withdrawal both held for their dates are both named.
    `never`: a deferral the withdrawal before it makes one that is never sent (`why` says so): not "held back until
    then" (review214 F2)."""
    earlier = plan.reason if plan.held and waits else None
    plan.held.append(step)
    noun = {"withdraw": "withdrawal", "defer": "deferral"}[step.kind]
    if earlier:
        plan.reason = f"{earlier}; and {why}: the {noun} is held back too"
    elif never:
        plan.reason = f"{why}; the record's other changes are sent" if plan.steps else why
    elif plan.steps:
        plan.reason = f"{why}: the {noun} is held back; the record's other changes are sent"
    elif waits:
        plan.reason = f"{why}: the {noun} is held back until then"
    else:
        plan.action, plan.reason = "blocked", why
