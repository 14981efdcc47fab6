"""Run a sync: validate everything, list Register, plan, then write within the rate limit, ledger first.

Nothing is sent unless every input could be read: a file that turns out unusable half-way stops the run
before the first request. Each write is marked `in_flight` in the ledger (committed) before it is sent and
settled right after; a write whose outcome is unknown (timeout, reset, lost reply, 5xx) is resolved by
looking at Register, never by resending blindly.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Literal, TypedDict, TypeVar, overload
from urllib.parse import urlsplit

from register_batch.api import (
    TARGETS,
    UNAVAILABLE,
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    NotFound,
    OutcomeUnknown,
    ProxyRefused,
    RateLimiter,
    RegisterClient,
    Secret,
    StoppedWaiting,
    TransportError,
    Unauthorized,
    Unprocessable,
    resolve_target,
)
from register_batch.api.client import (
    CLOCK_SKEW,
    LISTING_OVERLAP,
    RequestCounts,
    RequestStats,
    check_sendable,
    is_loopback,
    listed_at,
    meta_count,
    wrapped_token,
)
from register_batch.api.errors import ServerError, first_request_failed
from register_batch.api.limiter import budget_unplaced, held_budget_notes, say_budget_notes
from register_batch.arguments import (
    checked_client,
    checked_flag,
    checked_folder,
    checked_kind,
    checked_per_page,
    checked_progress,
    checked_timeout,
)
from register_batch.config import DEFAULT_STATE_DIR, checked_rate, host_slug, target_slug
from register_batch.errors import (
    ConfigError,
    Interrupted,
    RegisterBatchError,
    UnwritableOutput,
    Worded,
)
from register_batch.export import (
    LISTED_UNDER_IT,
    NOTHING_WRITTEN,
    THE_TOKEN,
    another_providers,
    iter_register_trainees,
)
from register_batch.fs import StrPath, path_list, temporary_space
from register_batch.ilike import matches_itself
from register_batch.mapping import MappingConfig, load_mapping
from register_batch.model import (
    API_VERSION,
    CLEARABLE_INITIATIVES,
    DEGREE_FIELDS,
    NOT_IN_EXTRACT_GROUPS,
    PLACEMENT_FIELDS,
    STATE_WORDS,
    Issue,
    Severity,
    SourceRef,
    TraineeRecord,
    not_in_extract_group,
)
from register_batch.progress import SILENT, Progress, real_run_words
from register_batch.readers import check_format, input_paths
from register_batch.reference import (
    DISABILITY_FIELDS,
    ReferenceData,
    check_api_version,
    list_of_field,
    load_reference,
)
from register_batch.reference.pull import pulled_lists
from register_batch.reports import ReportBuilder, Rows, check_report_dir, move_reports, report_head, shown_ids
from register_batch.runlog import LoggedRun, logged_run
from register_batch.sync.compare import (
    DISABILITIES_NOTE,
    LIST_DIGESTS,
    PACKED_FIELDS,
    UNKNOWN_DIGEST,
    EchoedCodes,
    FieldKey,
    NotKept,
    agrees,
    codes_not_kept,
    create_body,
    created_degrees_not_kept,
    degree_codes_not_kept,
    degree_digest,
    degree_key,
    degree_puts,
    degree_values,
    disabilities_not_kept,
    disabilities_note,
    echo_digests,
    field_digests,
    landed_update_bodies,
    lists_mark,
    pack_digests,
    placement_key,
    sent_digest,
    sent_digests,
    sent_names,
    text_or_none,
    unpack_digests,
    unpack_echoed,
)
from register_batch.sync.initiatives import INITIATIVE_KEPT, given_when_synced, initiative_tags, said_by_ledger
from register_batch.sync.ledger import (
    Entry,
    Ledger,
    LedgerUnwritable,
    ProviderLock,
    RunInputs,
    StateDirLock,
    Synced,
    fallback_lock_folder,
)
from register_batch.sync.listed import ListedTrainee
from register_batch.sync.plan import (
    AGAIN_SAID,
    DISABILITIES_SAID,
    NOT_SENT_INVALID,
    WITHDRAWABLE_STATES,
    Holdings,
    RecordPlan,
    Step,
    a_later_create_is_refused,
    a_second_create_is_refused,
    cycles_around_far_link,
    disabilities_words,
    duplicate_check_key,
    held_differences,
    key_of,
    not_created_again,
    not_kept_words,
    noted_name,
    one_record_per_trainee,
    plan_changes,
    plan_record,
    record_key,
    register_edited,
    start_cycle,
)
from register_batch.sync.records import NO_CYCLE, RecordSpool
from register_batch.tokens import TOKEN_AS_FILE, masked_path_words, refuse_token_named, shown_value
from register_batch.validation import Checker
from register_batch.validation.catalogue import describe
from register_batch.validation.facts import as_of_or_today, cycle_label, cycle_of
from register_batch.validation.providers import checked_ukprn, moved_why, training_partners
from register_batch.wording import counted, plain, printable, significant

log = logging.getLogger("register_batch.sync")
_Answer = TypeVar("_Answer")

# How long after an unanswered create of a record that Register's 409 does not protect (a_second_create_is_refused)
# the next runs wait before creating it again: Register may carry out a request long after the client gave up on it
# (a held connection, a queue in front of it); one that listed no trainee after this is taken as never carried out.
UNANSWERED_CREATE_WAIT = timedelta(minutes=10)


def _why_not_refused(data: Mapping[str, Any]) -> str:
    """Why Register's 409 would not refuse this record's create sent twice (`a_second_create_is_refused` false)."""
    if not matches_itself(data.get("last_name") or ""):
        return (
            "its last name has a backslash, which Register's duplicate check reads as an escape (it compares last "
            "names as SQL's ILIKE patterns): the name is no match for itself there"
        )
    return (
        "its trainee_start_date is in another academic cycle than its itt_start_date, which Register's duplicate "
        "check does not match"
    )


def _ledger_time(stamp: str) -> datetime | None:
    """A ledger note's time (`Ledger._now`'s ISO 8601) in UTC; None if unreadable (a ledger written otherwise)."""
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC)
    except ValueError:
        return None


def _create_wait_over(sent: str | None) -> datetime | None:
    """When the wait after a create sent at `sent` (the ledger's time; now when None) is over: on a whole minute, as
    the record's line gives it ("after 08:02 UTC"), so that a run at that minute is not held again."""
    at = datetime.now(UTC) if sent is None else _ledger_time(sent)
    if at is None:
        return None
    over = at + UNANSWERED_CREATE_WAIT
    return over.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _still_out_until(sent_at: str) -> datetime | None:
    """Until when a request sent (or last known unanswered) at `sent_at` may still be carried out, if it may now."""
    until = _create_wait_over(sent_at)
    return until if until is not None and datetime.now(UTC) < until else None


def _never_carried_out(exc: ApiError) -> bool:
    """Whether a write's error says Register did not and will not carry it out: refused with a 4xx (409, 422, a 429
    after every retry, 403), or never sent (a connection refused). Not an OutcomeUnknown: a timeout, a lost reply or a
    5xx may be carried out yet."""
    if isinstance(exc, OutcomeUnknown):
        return False
    if isinstance(exc, TransportError):
        return not exc.sent
    return exc.status is not None and exc.status < 500


class _MayStillLand(OutcomeUnknown):
    """A record's writes (to `path`) left unknown because a request sent earlier (a create, placement, degree, update,
    withdrawal or deferral) went unanswered and may still be carried out until `until`: `why`, and what to do
    (`then`), make its message."""

    def __init__(
        self,
        until: datetime | None,
        why: str,
        then: str,
        path: str = "/trainees",
        *,
        joined: str = ", so nothing was sent. ",
    ):
        self.until, self.why, self.then = until, why, then
        super().__init__("POST", path, None, [f"{why}{joined}{then}"])

    def foreseen(self) -> str:
        """What a dry run says of the record: a real run started now would hold it back."""
        return (
            f"a sync started now would send nothing for this record and leave it unknown (exit 3): {self.why}. "
            f"{self.then}"
        )


def _create_may_still_land(entry: Entry) -> datetime | None:
    """Until when an earlier run's unanswered create may still be carried out by Register, if it may be now."""
    return _still_out_until(entry.updated_at) if entry.operation == "create" else None


# The writes of a run to a trainee that an earlier run's request of the kind named, unanswered, could land after and
# undo or double (`SyncRun._earlier_write_out`): a degree added beside one corrected since, or beside a degree this run
# corrects, as Register's 409 refuses only the very same degree (§2.10); an update put back (§2.6); a withdrawal after
# a deferral, or a withdrawal or deferral Register takes in place of this run's, refusing this one as a second (§2.7,
# §2.8). A deferral landing after a withdrawal is refused (§2.8: a withdrawn trainee cannot be deferred): not counted.
# A degree's PUT writes what it was sent over a correction made since, or over the degree a degree added now would
# duplicate (§2.10: it checks nothing against a later request); a degree's DELETE removes one corrected since, or one
# a degree added now repeats (refused as a duplicate until then, §3.7); a placement's DELETE, the one Register holds
# that an occurrence added now stands beside (§2.11: no duplicate check) (review115 F1).
_OVERTAKEN: dict[str, tuple[str, ...]] = {
    "add_degree": ("add_degree", "update_degree"),
    "update_degree": ("add_degree", "update_degree"),
    "delete_degree": ("add_degree", "update_degree"),
    "delete_placement": ("add_placement",),
    "update": ("update",),
    "withdraw": ("defer", "withdraw"),
    "defer": ("defer",),
}
_STATE_NOUNS = {"withdraw": "withdrawal", "defer": "deferral"}
# The unanswered requests of an earlier run that, landing late, could leave a record this run sends nothing for (or
# sends other writes for) otherwise than the extract says (`SyncRun._earlier_write_unsettles`, review115 F3), and how
# the record's message names each. A withdrawal or deferral is said in the record's warnings (`_maybe_written`), and a
# placement added has no digest kept of it (its wait is `_earlier_placement_out`'s).
_UNSETTLING = {
    "update": "an update of",
    "update_degree": "a correction of a degree of",
    "add_degree": "a request adding a degree to",
    "delete_degree": "a request deleting a degree of",
    "delete_placement": "a request deleting a placement of",
}


def _sent_again(kind: str, steps: list[Step], sent: set[str | None]) -> bool:
    """Whether `steps` only send again a request of `kind` still out (`sent`: what each sent, `compare.sent_digest`):
    Register refuses whichever lands second (a degree's 409, §2.10; a withdrawal's or deferral's 422, §2.7, §2.8), and
    an update sent twice leaves what one leaves. Not held back, as a create sent again is not (review52 F1)."""
    return all(step.kind == kind and _step_digest(step) in sent for step in steps)


def _step_digest(step: Step) -> str:
    """What a step sends, as the ledger notes it while it is out (`compare.sent_digest`)."""
    return sent_digest(step.kind, step.body or {}, step.item_id)


def _write_out_words(kind: str, trainee_id: str | None, steps: list[Step], until: datetime) -> tuple[str, str, str]:
    """Why `SyncRun._earlier_write_out` holds a record back, what to do, and the path of its message."""
    after = f"Run sync again after {until:%H:%M} UTC"
    if kind == "add_degree":
        return (
            f"a request adding a degree to trainee {trainee_id} had no answer a short while ago: Register may still "
            "carry it out, and its duplicate check stops only the very same degree, not one corrected since",
            f"{after}: it compares the degrees with those Register then holds",
            f"/trainees/{trainee_id}/degrees",
        )
    if kind == "update":
        return (
            f"an update of trainee {trainee_id} had no answer a short while ago: Register may still carry it out, and "
            "put back what this record's update changes",
            f"{after} to send the update",
            f"/trainees/{trainee_id}",
        )
    if kind in ("update_degree", "delete_degree"):
        request = "a correction of a degree" if kind == "update_degree" else "a request deleting a degree"
        return (
            f"{request} of trainee {trainee_id} had no answer a short while ago: Register may still carry it out, "
            "after this record's degree changes, and undo them",
            f"{after}: it compares the degrees with those Register then holds",
            f"/trainees/{trainee_id}/degrees",
        )
    if kind == "delete_placement":
        return (
            f"a request deleting a placement of trainee {trainee_id} had no answer a short while ago: Register may "
            "still carry it out, after this record's placement is added",
            f"{after}: it compares the placements with those Register then holds",
            f"/trainees/{trainee_id}/placements",
        )
    asked = " and ".join(dict.fromkeys(_STATE_NOUNS[step.kind] for step in steps))
    verb = "withdrawing" if kind == "withdraw" else "deferring"
    undone = " (a withdrawal cannot be undone through the API)" if kind == "withdraw" else ""
    return (
        f"a request {verb} trainee {trainee_id} had no answer a short while ago: Register may still carry it out, "
        f"after this record's {asked} or in its place{undone}",
        f"{after}: it finds what Register did with that request before it sends the {asked}",
        f"/trainees/{trainee_id}/{kind}",
    )


describe(
    "api_rejected",
    scope="batch",
    fields=("*",),
    message="<the Register API's own message>",
    source="register-api.md §7 (422 and other refusals returned by the API)",
    fix="Correct the record as the message says; Register's message names the field. Where it refuses a code "
    "(\"invalid reference data value of 'X'\") that validate accepted, the message says the code is in the lists in "
    "use: Register's code lists have changed since. Run `register-batch reference pull` and `register-batch reference "
    "diff`; the record is then refused before it is sent (invalid_code), and the SRS, or a translation in your mapping "
    "file, gives a code Register takes.",
    api=True,  # Register's own answer: report.html says so (docs/rules.md's API column)
)
describe(
    "sync_conflict",
    scope="batch",
    fields=("hesa_id", "provider_trainee_id"),
    message="<why the record matches more than one trainee, or one it should not>",
    source="design.md (Sync semantics: ambiguity is a reported conflict)",
    fix="Look at the trainees named in Register and correct the HUSID or SRS id; nothing was written. A draft "
    "named: submit it in Register (or delete it there), as the message says.",
)
describe(
    "sync_blocked",
    scope="batch",
    fields=(),
    message="the trainee is <state> in Register, which the API does not let anyone change",
    source="register-api.md §6 (StateTransitionError)",
    fix="Nothing to do through the API; ask DfE support if Register must change.",
    severity=Severity.WARNING,
)
describe(
    "sync_update_refused",
    scope="batch",
    fields=(),
    message="Register would refuse this update (422: <Register's messages>): it checks the trainee it holds with the "
    "update written over it; Register holds <field> <value>, which the record leaves blank",
    source="register-api.md §2.6 step 3 (an update is validated as the merged trainee), §3.3, §3.5",
    fix="Give the value in the record (a trainee_start_date, the initiative), or correct the one Register holds in its "
    "service; nothing of the record is sent until Register would take it. An initiative Register holds is kept under a "
    "blank only where the record does not give the field (no F_INITIATIVES1/2 or training_initiative column; in HESA "
    "XML no tag on the Student, which had none either when this state dir last synced it): give it empty (the tag as "
    "NULL, the column blank), and its blank says no initiative, which the update then clears.",
)
describe(
    "sync_after_award",
    scope="batch",
    fields=(),
    message="this record differs from trainee <id> in <fields>, but the trainee is <recommended for award|awarded> "
    "in Register, and Register's API takes no change of a trainee who is recommended for award or awarded: nothing is "
    "sent",
    source="register-api.md §6 (StateTransitionError: no write to a trainee recommended for award, withdrawn or "
    "awarded)",
    fix="Nothing to do through the API, and the job does not fail for it. If the award depends on the change, ask "
    "DfE's Register support; if the trainee returns to a state the API can change, the next run sends it.",
    severity=Severity.WARNING,
)
describe(
    "sync_after_withdrawal",
    scope="batch",
    fields=(),
    message="this record differs from trainee <id> in <fields>, but the trainee is withdrawn in Register, and "
    "Register's API takes no change of a trainee who is withdrawn: nothing is sent",
    source="register-api.md §6 (StateTransitionError: no write to a trainee recommended for award, withdrawn or "
    "awarded)",
    fix="Nothing to do through the API, and the job does not fail for it: the record's withdrawal (if it has one) is "
    "the one Register holds, and a correction (an end date set to the withdrawal date, a name) is not a reason to "
    "reinstate a trainee who left. If DfE reinstates the trainee, the next run sends it. A withdrawal whose details "
    "differ, or that the record lacks, has its own warning (sync_state_details_differ, sync_state_differs).",
    severity=Severity.WARNING,
)
describe(
    "sync_held",
    scope="batch",
    fields=(),
    message="<why Register would refuse the withdrawal or deferral now, or why it waits for its date>: the "
    "<withdrawal> is held back; the record's other changes are sent",
    source="register-api.md §2.7 (no withdrawal before the ITT start date; the trainee is withdrawn at once and TRS "
    "told), §2.8 (states that can be deferred; deferred at once), §2.12 (no reinstate)",
    fix="Nothing to do now: each run sends the record's other changes, and the withdrawal or deferral once "
    "Register accepts it (for a withdrawal, from the ITT start date) and its own date has come (one dated after "
    "today, in UTC as Register counts it, is sent by the first sync on or after the later of the two). A deferral "
    "dated after the record's withdrawal is never sent: a withdrawn trainee cannot be deferred.",
    severity=Severity.WARNING,
)
describe(
    INITIATIVE_KEPT,
    scope="batch",
    fields=CLEARABLE_INITIATIVES,
    message="the ledger says the SRS gave a <training_initiative> when this state dir last synced the record; this "
    "file carries no <tag> for any Student, so Register's <code> is kept. If the SRS removed it, give the tag as NULL",
    source="hesa-formats.md §1.4 (NULL, HESA's absent value) and §2.3.12 (a blank initiative is none); "
    "register-api.md §2.6 (an update that leaves a field out keeps Register's value)",
    fix="If the SRS still gives the initiative, nothing to do. If it removed it, have the export write the tag as NULL "
    '(or empty) for the Student: a Student without the tag says "none" only where another Student of the same file '
    "has it (the export gives initiatives) and the ledger says the SRS gave one last time. Check too that your "
    "mapping file names the tag the SRS writes (a mapped_source_missing warning names a tag no record has). Said "
    "where Register holds an initiative; the ledger keeps the SRS's last one, so it is said each night until the "
    "file gives the tag.",
    severity=Severity.WARNING,
)
describe(
    "sync_duplicate_held",
    scope="batch",
    fields=("hesa_id",),
    message="Register also holds trainee(s) <ids> with this record's HUSID and start year, besides trainee <id>, which "
    "this record is synced to",
    source="design.md (Sync semantics: ambiguity is a reported conflict); register-api.md §4 (the 409 duplicate check)",
    fix="Check the trainees in Register: if they are the same person, ask Register's support to delete the one the "
    "record is not synced to. Each run syncs the record to the one named.",
    severity=Severity.WARNING,
)
describe(
    "sync_degree_covered",
    scope="batch",
    fields=("degrees_attributes",),
    message="degrees_attributes[<n>]: not sent, as Register refuses it as a duplicate degree (409 This is a duplicate "
    "degree): each value it gives is that of degree <id>, which Register holds (or of degrees_attributes[<k>], added "
    "before it)",
    source="register-api.md §3.7 (the degree endpoints' duplicate rule: a blank sent matches any value held)",
    fix="If it is the same degree listed twice (once without its grade, say), remove the copy from the SRS; if it is "
    "another degree, give the value that tells the two apart. The record's other changes are sent.",
    severity=Severity.WARNING,
)
describe(
    "register_did_not_keep_code",
    scope="batch",
    fields=("*",),
    message="Register did not keep <field> '<code>' (it holds <Other UK institution|none|'code'>)[, as it answered "
    "this state dir's write of it: not sent again while the record and Register stay so]: its code lists may have "
    "changed since the ones in use (<bundled v2026.1|pulled FILE>): run `register-batch reference pull` and "
    "`register-batch reference diff`; or: Register files <field> '<code>' as '<code>' (both codes of the lists in "
    "use, ...): there is nothing to pull ...; or: Sent once more: Register did not keep <field> '<code>' (...) when "
    "this state dir last sent it, under other code lists than the ones in use (...)",
    source="register-api.md §3.6 (a code filed under another's entry is echoed as that one's), §3.7 (an unknown "
    "institution becomes Other UK institution, echoed as null), §5.3 (an unknown disability is dropped)",
    fix="Register's answer to the write held the code otherwise, without an error: its code lists have most likely "
    "changed since the ones register-batch judged the record by. Run `register-batch reference pull`, then "
    "`register-batch reference diff`: a code it no longer lists is then refused before it is sent (invalid_code), and "
    "the SRS or a mapping translation gives the code Register takes. Nothing is sent again for it meanwhile: while the "
    "record gives that code, Register holds what it answered, and the code lists in use are the ones it answered "
    "under, the two count as in sync, and this warning says so each night. After a pull that changes the "
    "lists (one that pulls the same lists again changes nothing) the record is sent once more, one request for the "
    "record (a degree's own), as Register may list the code again: its answer then drops the warning, or notes it "
    "again. A code Register files under another code's entry, both listed (XL as GB), is said once, on the night of "
    "the write, and again when sent once more after a pull that changes the lists; later nights compare the two as "
    "the same without a word; send the code Register holds to have the records say it. A value set in Register's "
    "service since (another institution, nationality) is not Register's answer: it is named by "
    "sync_overwrites_register_edit when the sync puts the record's code back.",
    severity=Severity.WARNING,
)
describe(
    "sync_other_instance",
    scope="batch",
    fields=("hesa_id", "provider_trainee_id"),
    message="created as another course instance: trainee <id> has this SRS id with HUSID <husid>, starting <date>",
    source="design.md (Sync semantics); docs/faq.md (another course instance of the same student)",
    fix="Nothing to do if this is a new course. If the HUSID was corrected while the start date moved, it is the "
    "same person twice: correct the HUSID of the older trainee in Register, then ask DfE to remove the new one.",
    severity=Severity.WARNING,
)
describe(
    "sync_state_differs",
    scope="batch",
    fields=("withdrawal_date", "defer_date"),
    message="trainee <id> is withdrawn (deferred) in Register, but this record has no withdrawal (deferral): the API "
    "cannot reinstate a trainee",
    source="register-api.md §2 and §6 (no reinstate endpoint; withdrawn is a read-only state)",
    fix="If the trainee is still training, have Register reinstate them (a deferred trainee in Register's web "
    "service, a withdrawn one through DfE's support); if not, fill in the record's withdrawal or deferral in the "
    "columns the message names (`withdrawal_*` or `defer_*`, or those your mapping file reads them from; "
    "`WITHDRAWAL_*`, `DEFER_*`, a dormant `F_MODE` or, up to C22053, `F_RSNEND` in HESA files). Said only of records "
    "whose input can hold the state: not of Register's CSV template, nor of a withdrawal in HESA files since C23053, "
    "without register-batch's own columns or `F_RSNEND` (in HESA XML, without those tags in any of the file's "
    "Students).",
    severity=Severity.WARNING,
)
describe(
    "sync_state_details_differ",
    scope="batch",
    fields=("withdrawal_date", "defer_date"),
    message="trainee <id> is withdrawn (deferred) in Register, but not as this record says: <field> <value> in "
    "Register, <value> in the record: the API withdraws or defers a trainee once and cannot change what Register holds "
    "/ trainee <id> was deferred on <date> and reinstated on <date> in Register, but this record still has that "
    "deferral: it is not sent again",
    source="register-api.md §2.7, §2.8, §2.12 and §6 (a withdrawn trainee is read-only; a deferred one cannot be "
    "deferred again; only Register's web service reinstates)",
    fix="Nothing was sent. If Register's withdrawal or deferral is right, make the record's the same (its date, "
    "reasons, trigger, future interest, texts); if the record's is, ask DfE's Register support to correct Register's. "
    "For a trainee reinstated after the record's deferral: clear the deferral in the record, or give a new deferral "
    "date to defer them again.",
    severity=Severity.WARNING,
)
describe(
    "sync_written_earlier",
    scope="batch",
    fields=(),
    message="written to Register (<operation>[, then <operation>]) by the sync started <time> (run <n>), which ended "
    "before its report[ (stopped at once by a second <SIGINT or SIGTERM>[ while its report was written])][: Register "
    "holds the record as the extract says][; this is the first report to list it] / "
    "written to Register (<operation>) by sync run <n>, whose report has the record as unknown (the answer was "
    "lost)[: Register holds the record as the extract says] / written to Register (create) by sync run <n>, whose "
    "report did not count it as created (a write after it did not go through, or the run was stopped) / may have been "
    "written to Register (<operation>) by <the sync or sync run, as above>: the request had no answer, and Register "
    "may yet carry it out (for a deferral of a trainee withdrawn since, or a deferral or withdrawal Register holds "
    "otherwise than the record says: and Register holds the trainee as <state> now, which does not tell)[; this is "
    "the first report to list it] / two of these joined by 'and', for writes of "
    "two runs; a dry run, which settles nothing, says 'a dry run settles nothing: the next real run's report is the "
    "first to list it' in place of 'this is the first report to list it'",
    source="design.md (Sync semantics: every write goes to the ledger before it is sent)",
    fix="Nothing to do for a write said to be written: it is in Register once. It is said so that a run killed "
    "before its report (a machine stopped, an out-of-memory kill), or stopped at once by a second Ctrl-C or SIGTERM, "
    "leaves no write unreported, and a write a report "
    "left unknown is said to have gone through (the record counts as unchanged in this run, as created or updated "
    "in none). The parts in brackets "
    "are said when this run sends nothing for the record (that Register holds it as the extract says, unless another "
    "warning beside it says otherwise); without them, this run updates the record again or holds it back, and its "
    "own outcome follows. A write that had no answer, on a record this run sends nothing for, is said only to have "
    "maybe been written, unless Register's listing shows it (a create, a withdrawal or deferral, by the state it "
    "leaves). Register may still carry such a write out for 10 minutes after it went out: when it would then change "
    "what Register holds (an update, a degree's correction or a DELETE that sent otherwise than the record now says, "
    "or a degree added that the record no longer has), the record is left unknown (exit 3) and the summary line says "
    "after what time to run the same sync again, which puts right what it changed. Later, if Register carries one "
    "out, the next sync finds what differs.",
    severity=Severity.WARNING,
)
describe(
    "sync_found_done",
    scope="batch",
    fields=("withdrawal_date", "defer_date"),
    message="Register already held this record's withdrawal (deferral) when this run sent its <deferral and "
    "withdrawal>, made in Register's service after the run listed the trainee: this run did not write it (them)",
    source="register-api.md §2.7, §2.8 and §6 (a withdrawn trainee cannot be withdrawn or deferred again; a deferred "
    "one cannot be deferred again)",
    fix="Nothing to do: Register holds what the record says. It is said so that the record's row, action `withdraw` "
    "or `defer` and outcome `done`, is not read as this run's write: the summary line counts the record as found "
    "already done in Register, and results.csv lists no state change for it.",
    severity=Severity.WARNING,
)
# Run-level warnings (report.json's sync.run_warnings, counted in sync.warnings beside the records' own codes), and
# the record warning the first sums up: what a night that looks fine can hide (review208 F1, F2, F4).
EXTRACT_SEEN_BEFORE = "sync_extract_seen_before"
CREATED_COURSE_ENDED = "sync_created_course_ended"
EXTRACT_LACKS_SYNCED = "sync_extract_lacks_synced"
# A dry run whose real run would stop before its first write: the token's account holds none of the records, and no
# UKPRN tells whose token it is (SyncRun.check_unmatched_account, review217 F1).
ACCOUNT_UNMATCHED = "sync_account_unmatched"
# A state dir with no ledger, for a Register that already holds trainees of the extract's cycles: a job started from
# another folder, or given another --state-dir, than the earlier syncs (review127 F1; in the reports, review223 F2).
STATE_DIR_NEW = "sync_state_dir_new"
# Those counted in sync.warnings that are no record's warning (summary.warnings does not count them).
RUN_ONLY_WARNINGS = (EXTRACT_SEEN_BEFORE, EXTRACT_LACKS_SYNCED, ACCOUNT_UNMATCHED, STATE_DIR_NEW)
# Those the summary line does not say again: the log said it as the run found it (a WARNING line above the summary).
LOGGED_RUN_WARNINGS = (STATE_DIR_NEW,)
describe(
    CREATED_COURSE_ENDED,
    scope="batch",
    fields=("itt_end_date",),
    message="creates a trainee whose course ended on <itt_end_date> (itt_end_date), before the academic year before "
    "the as-of date's began: is the extract another academic year's? Register keeps the trainee in training until "
    "recommended or withdrawn",
    source="register-api.md §2.5 (create a trainee); design.md (Sync semantics: the SRS extract is the source of "
    "truth)",
    fix="Sent as the extract says. Said of a course that ended before 1 August of the academic year before the "
    "as-of date's (--as-of 2026-12-07: before 1 August 2025); one that ended since is an ordinary late record (a "
    "provider's first load), a trainee to recommend or withdraw next. If the SRS exported another academic year's "
    "records (the summary line and report.html say how many were created "
    "so, and whether the extract has any of the as-of date's academic cycle), correct the export and ask Register's "
    "support to delete the trainees created in error; otherwise recommend or withdraw each in Register's service.",
    severity=Severity.WARNING,
)
describe(
    "sync_overwrites_register_edit",
    scope="batch",
    fields=(),
    message="Register's trainee was changed since this state dir last synced it (<date> UTC), in what the extract has "
    "not changed since: this sync puts the extract's values back (<fields>). To keep Register's value, make the change "
    "in the SRS",
    source="design.md (Sync semantics: the SRS extract is the source of truth); register-api.md §2.6 (an update "
    "sends the full managed field set)",
    fix="The record is sent as the extract has it, as every night. If the change made in Register's service is the "
    "right one (a married name, a corrected route, a degree found late), make it in the SRS too, or the next sync "
    "undoes it again. Named field by field: each field (each degree or placement) the update changes whose value in "
    "the extract is the same as at this state dir's last successful sync of the trainee (the date, a UTC day; a "
    "failed or interrupted run since does not count). A field the SRS changed too is the SRS's later word and is not "
    "named, nor is a degree Register holds beyond the record's while the SRS dropped or changed one of its own since. "
    "Not said on a first sync, for another trainee than the one synced then, nor for the course_education_phase and "
    "diversity_disclosure Register derives, nor a training_initiative Register holds none of (another client's update "
    "that did not send it cleared it). (A state dir an earlier version of register-batch used keeps no field "
    "digests yet: until its next sync of the record, only a record the SRS did not change at all is named, with every "
    "field.) A record the run failed or left unknown after its writes went out (a reply lost, Register stopped "
    "answering) says instead that the sync `sent the extract's values back (<fields>) and did not finish`: Register "
    "may hold them now, and the next sync, finding them there, cannot tell. The issue's field is the one field put "
    "back, when there is one.",
    severity=Severity.WARNING,
)
# What issues.csv adds to the transport's words ("Internal server error", "connection lost") for a record with nothing
# wrong in it: the rules table's fix, where only report.html had it.
_RUN_AGAIN = {
    "sync_unknown": " (the write may not have gone through: run the same sync again, which looks in Register first)",
    "sync_unavailable": " (Register stopped answering; nothing is wrong with the record: run the same sync again)",
}


describe(
    "sync_would_wait",
    scope="batch",
    fields=(),
    message="a sync started now would send nothing for this record and leave it unknown (exit 3): <an earlier run's "
    "create, placement, degree, update, withdrawal or deferral of it had no answer, and Register may still carry it "
    "out>. Run sync again after <HH:MM> UTC",
    source="design.md (Sync semantics: an unknown outcome is resolved against Register, never resent blindly); "
    "register-api.md §4 (the duplicate check on create), §2.10 (on a degree, only the same one) and §2.11 (none for "
    "placements)",
    fix="Nothing is wrong with the record. Said by a dry run only: a real run before that time sends nothing for the "
    "record, so that Register does not carry out the same create or placement twice, nor an earlier degree, update, "
    "withdrawal or deferral after this run's; a run after it finds what Register did with the earlier request and "
    "finishes the record.",
    severity=Severity.WARNING,
)
describe(
    "sync_unknown",
    scope="batch",
    fields=(),
    message="<what happened to the request: a timeout, a lost connection>" + _RUN_AGAIN["sync_unknown"],
    source="design.md (Sync semantics: an unknown outcome is resolved against Register, never resent blindly)",
    fix="Nothing is wrong with the record. Run the same sync again: it looks in Register first and finishes "
    "the record without creating anyone twice.",
)
describe(
    "sync_waits",
    scope="batch",
    fields=(),
    message="<a create, placement, degree, update, withdrawal or deferral of the trainee, by this run or an earlier "
    "one, had no answer, and Register may still carry it out>, so nothing (more) was sent. Run sync again after "
    "<HH:MM> UTC",
    source="design.md (Sync semantics: an unknown outcome is resolved against Register, never resent blindly); "
    "register-api.md §4 (the duplicate check on create), §2.10 (on a degree, only the same one) and §2.11 (none for "
    "placements)",
    fix="Nothing is wrong with the record, and nothing needs doing but to wait: run the same sync again after the "
    "time its message gives (the summary line gives the latest of the run). A run before then sends nothing for the "
    "record again, so that Register does not carry out the same create or placement twice, nor an earlier degree, "
    "update, withdrawal or deferral after a later one; a run after it finds what Register did with the request and "
    "finishes the record.",
)
describe(
    "sync_unavailable",
    scope="batch",
    fields=(),
    message="<Register's answer after every retry: a 5xx, or no answer>" + _RUN_AGAIN["sync_unavailable"],
    source="register-api.md §1 (server errors and the rate limit); the run stopped here",
    fix="Nothing is wrong with the record; Register was not taking requests. Run the same sync again later.",
)

# The states a defer or withdraw leaves a trainee in (§3.9, §3.10; a withdrawn trainee cannot be deferred after): what
# Register shows of such a write once it is done, when its answer was lost.
REACHED_STATES = {"defer": ("deferred", "withdrawn"), "withdraw": ("withdrawn",)}
STATE_OF_STEP = {kind: states[0] for kind, states in REACHED_STATES.items()}  # the state the step itself leaves


def _held_as_sent(step: Step | None, held: Mapping[str, Any] | None) -> bool:
    """Register holds the trainee in the state `step` puts it in, with the withdrawal's or deferral's values as the
    step sends them (those both give): the step, or a request just like it, was carried out."""
    return (
        step is not None
        and held is not None
        and held.get("state") == STATE_OF_STEP[step.kind]
        and not held_differences(step.kind, step.body or {}, held)
    )


def _changed_meanwhile(
    messages: list[str], step: Step, held: Mapping[str, Any], state: str, withdrawal: Mapping[str, Any] | None
) -> str:
    """Register's refusal of a withdrawal or deferral, with why: the trainee was withdrawn or deferred in Register,
    otherwise than the record says, after this run listed it (review65 F1). `withdrawal`: the record's, for a
    deferral refused because the trainee is withdrawn."""
    trainee_id = held.get("trainee_id")
    refused = "; ".join(messages)
    if state != STATE_OF_STEP[step.kind]:  # a deferral, the trainee since withdrawn
        said = f"{refused}: trainee {trainee_id} was withdrawn in Register after this run listed it"
        if withdrawal is None:
            return (
                f"{said}, so it cannot be deferred. If the trainee has left, fill in the record's withdrawal; if not, "
                "ask DfE's Register support to reinstate them"
            )
        return (  # (held as the record says, the deferral is done: `perform`)
            f"{said}, but not as this record says: {'; '.join(held_differences('withdraw', withdrawal, held))}. "
            "Correct the record, or ask DfE's Register support to correct Register"
        )
    differ = held_differences(step.kind, step.body or {}, held)
    return (
        f"{refused}: trainee {trainee_id} was {state} in Register after this run listed it, but not as this record "
        f"says: {'; '.join(differ)}: the API withdraws or defers a trainee once and cannot change what Register "
        "holds. Correct the record, or ask DfE's Register support to correct Register"
    )


RESULT_COLUMNS = (
    "input",
    "record",
    "line",
    "provider_trainee_id",
    "hesa_id",
    "action",
    "outcome",
    "trainee_id",
    "http_status",
    "requests",
    "errors",
    "warnings",
    "changes",
    # Last, after the columns it came after (review176 F1): a reader of the columns by their place reads each where
    # it was, as in issues.csv. A CSV record's spreadsheet row where it differs from `line` (RecordSource.row).
    "row",
)


# What a SyncOptions refused for its target holds in its place: not the target, which may be a token (review225 F1).
REFUSED_TARGET = "(refused: not kept)"


@dataclass(frozen=True)
class SyncOptions:
    """Everything a sync run needs besides its inputs.

    `token` may be given as a plain string: it is wrapped in `Secret` at once, so no repr shows it. Frozen, and
    checked when made: a field is changed with `dataclasses.replace(options, token=...)`, which makes a new one and
    checks it again. Assigned in place, a token rotated showed in `repr(options)` (a service's logs, an error
    reporter's frame locals), and a `dry_run="no"` ended in a ValueError once the ledger was opened (review62 F1).
    """

    target: str
    token: Secret | str | None
    state_dir: StrPath
    report_dir: StrPath
    dry_run: bool = False
    as_of: date | None = None
    rate: tuple[int, float] = (95, 60.0)
    per_page: int = 500
    timeout: float = 30.0
    fmt: str = "auto"
    mapping_files: Iterable[StrPath] = ()
    api_version: str = API_VERSION
    reference_path: StrPath | None = None  # None: the state dir's pulled lists when there are some, else the bundled
    target_label: str | None = None
    target_identity: str | None = None  # what the ledger binds to (defaults to the target URL)
    shared_rate_file: StrPath | None = None
    ukprn: str | None = None  # the provider the token sends for (validation/providers.py)
    ukprn_source: str = "ukprn"  # where `ukprn` was set, for the message that says to correct it
    # The settings file the run's settings came from, as the reports name it (report.json's `provider`): a host
    # running several providers' syncs tells their reports apart by it and the UKPRN (review183 F2).
    config_file: str | None = None
    # Where the token came from, as the reports name it (report.json's settings.token_source: `secrets/b (token_file
    # in provider-b.toml)`, `$REGISTER_API_TOKEN`), never the token; None when the caller does not say (review208 F3).
    token_source: str | None = None
    # When the run began, as its report (report.json's run.started) and its ledger row say it: the command line gives
    # the moment its report folder is named by (sync-YYYYmmdd-HHMMSSZ), so that the folder is found from either
    # (review208 F6). None: when the run starts reading its inputs.
    started: datetime | None = None
    embedded: bool = False  # the embedded emulator: its provider stands in for whoever the records are of
    # The embedded emulator's: gives its provider the one UKPRN the records name, in a run without `ukprn`, so that
    # what it lists (an export, drift) is filed under theirs, not a made-up one (Target.stand_in).
    stand_in: Callable[[str], object] | None = None
    # Each record's issues on its result (RecordResult.issues), for a library caller: under 1 KB an issue for as
    # long as the result is held. The command line reads the reports instead, and keeps none.
    keep_issues: bool = True

    def __post_init__(self) -> None:
        # Frozen: each value is set as checked through object.__setattr__, here only.
        def settle(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        try:
            settle("token", token := wrapped_token(self.token))
        except ConfigError:
            settle("token", None)  # not held by `self` in the frame locals of the refusal (review111 F3, F7)
            raise
        # The target, and the token as a request to it can carry it, as RegisterClient refuses them when made: left
        # to `sync_files`, options a service made when it started (a config check) failed every nightly job, and a
        # target holding the token (swapped with it, `https://x:<token>@host`) showed it in `repr(options)` meanwhile
        # (review225 F1). Neither is kept by `self` once refused.
        try:
            root = resolve_target(self.target)
            check_sendable(root, token)
        except RegisterBatchError:
            settle("target", REFUSED_TARGET)
            settle("token", None)
            raise
        # Strings or path objects, as every library call takes them; Paths from here on. None (an unset setting) is
        # a ConfigError naming the field, not a TypeError. A folder or mapping file named by a token is refused, as
        # the command line refuses it: made, it showed the token in each report (review225 F2).
        for name in ("state_dir", "report_dir"):
            folder = checked_folder(name, getattr(self, name))
            settle(name, None)  # not kept by `self` if refused below
            refuse_token_named(name, str(folder))
            settle(name, folder)
        mapping_files = tuple(Path(path) for path in path_list(self.mapping_files, "mapping files"))
        settle("mapping_files", ())
        for path in mapping_files:
            refuse_token_named("mapping_files", str(path), TOKEN_AS_FILE)
        settle("mapping_files", mapping_files)
        # Said by the reports (report.json's settings and provider blocks, report.html) as given, but never a token in
        # them: a token file named after its token, a settings file's path (review225 F2), as the command line says
        # them (config.token_source). Only a token of Register's shape or the one given: a name a caller chose with a
        # UKPRN in it is shown whole (review229 F1).
        for name in ("token_source", "config_file", "target_label"):
            if isinstance(given := getattr(self, name), str):
                settle(name, masked_path_words(given, token.reveal() if token else None))
        if self.reference_path is not None:
            settle("reference_path", checked_folder("reference_path", self.reference_path))
        if self.shared_rate_file is not None:
            settle("shared_rate_file", checked_folder("shared_rate_file", self.shared_rate_file))
        # As validation reads it (10052198 as a number, surrounding spaces), so that the listing check compares
        # like with like; not a UKPRN: ConfigError before anything is read or sent.
        settle("ukprn", checked_ukprn(self.ukprn))
        # A value no run can use is ConfigError here, not a ValueError (or AttributeError) from deep inside the run.
        settle("as_of", as_of_or_today(self.as_of) if self.as_of is not None else None)
        if self.started is not None and not isinstance(self.started, datetime):
            raise ConfigError.naming("{started} must be a datetime, not {value}", value=type(self.started).__name__)
        if self.token_source is not None and not isinstance(self.token_source, str):
            raise ConfigError.naming(
                "{token_source} must be a str (where the token came from), not {value}",
                value=type(self.token_source).__name__,
            )
        checked_rate(self.rate, shown=shown_value(self.rate), example=", e.g. (95, 60.0)")
        # So are those the run's client and reading take (review163 F4): refused by `sync_files` only, a service's
        # settings made when it starts failed the nightly job, `per_page` once the extract was read.
        checked_timeout(self.timeout)
        checked_per_page(self.per_page)
        check_format(self.fmt)
        check_api_version(self.api_version)
        # A string is true, whatever it says: "no" made a dry run, and a ValueError once the ledger was opened; "no"
        # kept every issue. 0 and 1 are taken, as Python's own flags take them (review45 F3, review62 F5).
        settle("dry_run", checked_flag("dry_run", self.dry_run))
        settle("keep_issues", checked_flag("keep_issues", self.keep_issues))
        # A true `embedded` lets the checks that the token is another provider's go (the embedded emulator's provider
        # stands in for whoever the records are of): `embedded="false"` (a JSON or environment setting) was true, and
        # twelve trainees went into the wrong account; towards a real service those checks are what stops that, so
        # it is for a target on this machine only (review111 F5).
        settle("embedded", checked_flag("embedded", self.embedded))
        if self.embedded and not is_loopback(urlsplit(root).hostname):
            raise ConfigError.naming(
                "{embedded} is True only for the embedded emulator, on this machine: it turns off the checks that the "
                "token is the records' provider's, which keep a trainee out of another provider's account; leave it "
                "False for this target"
            )


@dataclass(slots=True)
class RecordResult:
    """One record's fate in a sync: its plan (action, trainee, changes) and what became of it (`outcome`: done,
    planned, failed, unknown, skipped or pending), as results.csv and report.json show it (`row()`)."""

    plan: RecordPlan
    outcome: str = "pending"
    http_status: int | None = None
    errors: list[str] = field(default_factory=list)
    requests: int = 0
    unavailable: bool = False  # failed because Register stopped answering, not because of the record
    # The kinds of this run's writes of the record that went through (`create`, `update`, `add_degree`, ...; a
    # create whose answer was lost but that Register carried out too): when Register then refuses a later one (a
    # withdrawal of a trainee not yet started, say), the record keeps its action and the run counts what did go
    # through (`written`), rather than reporting it blocked with nothing written (review67 F2).
    landed: list[str] = field(default_factory=list)
    # The kinds of its steps Register refused because it held what they ask already, and not from this run's own
    # request whose answer was lost: someone else's withdrawal made meanwhile, or the deferral a withdrawal held
    # passes. The record is done, but the run wrote none of them, so none is counted written (review72 L1).
    passed: list[str] = field(default_factory=list)
    # The record's issues, the very ones the reports list as rows (issues.csv, report.json) in their order: its
    # validation's, then those found across records (a duplicate), then the sync's own (Register's refusal, a write
    # left unknown, a warning). Set when the report is made; () for a record with none.
    issues: tuple[Issue, ...] = ()
    # Left unknown because a request of it that went unanswered may still be carried out (_MayStillLand): a run before
    # this time only waits again (UNANSWERED_CREATE_WAIT), so its issue (sync_waits), the summary line and report.html's
    # summary box say when to run again.
    again_after: datetime | None = None
    # Codes Register refused as not in its lists (422 "invalid reference data value") that the lists in use accept:
    # its lists changed since (`stale_codes`; review210 F5), said in the record's issue and in the summary line.
    stale: tuple[str, ...] = ()
    # Failed without being sent: Register refused one of its `stale` codes for another record earlier in this run
    # (SyncRun._refused_before). Counted apart from those Register refused (report.json's sync.lists_changed).
    not_sent: bool = False
    # Validation's warnings of the record (and those found across records), as "code (field)": results.csv names them
    # beside the sync's, so that the summary's count of warnings can be found record by record (review48 F4).
    checked: list[str] = field(default_factory=list)
    # The record's itt_end_date, when it is before the academic year before the run's as-of date's began: its create
    # is sync_created_course_ended's (a wrong year's extract, review208 F2; `ended_long_before`).
    course_ended: date | None = None

    @property
    def created(self) -> bool:
        """This run's create of the record went through, whatever came of the writes after it (a withdrawal refused,
        an answer lost): its action stays `create` and the run counts it created (`created_by_run`)."""
        return "create" in self.landed

    def warnings(self) -> list[tuple[str, str]]:
        """(code, message) of each warning this record's sync leaves people (`_warnings`), for a record that went
        ahead or, in a dry run, would: a failed, unknown, conflicting or blocked record has its own issue, and only
        an earlier run's write beside it (this run's entry replaces that run's), and for one planned blocked what
        else Register's state differs in; an unreached one has none (the ledger keeps the earlier write for the next
        report)."""
        if self.outcome == "pending":
            return []
        if self.outcome in ("failed", "unknown") or self.held_back():
            found = [
                ("sync_overwrites_register_edit", self._edit_maybe_undone()),
                ("sync_written_earlier", self.plan.earlier),
            ]
            if self.plan.action == "blocked":  # what Register's state differs in besides (review67 F1)
                found = [
                    ("sync_state_differs", self.plan.state_note),
                    ("sync_state_details_differ", self.plan.held_note),
                    *found,
                ]
            return [(code, message) for code, message in found if message]
        return _warnings(self.plan) + self._found_done() + self._created_ended()

    def _created_ended(self) -> list[tuple[str, str]]:
        """sync_created_course_ended, for a create (made, or in a dry run planned) of a trainee whose course had ended
        before the academic year before the as-of date's (`ended_long_before`): another year's extract, not an
        ordinary night's new trainee (review208 F2)."""
        if self.course_ended is None or self.plan.action != "create":
            return []
        return [
            (
                CREATED_COURSE_ENDED,
                f"creates a trainee whose course ended on {self.course_ended.isoformat()} (itt_end_date), before the "
                "academic year before the as-of date's began: is the extract another academic year's? Register keeps "
                "the trainee in training until recommended or withdrawn",
            )
        ]

    def _edit_maybe_undone(self) -> str | None:
        """The sync_overwrites_register_edit warning of a record this run failed or left unknown after some of its
        writes went out: one went through before a later one failed, or a write had no answer (Register stopped
        answering, or the reply was lost) and may have been carried out. The next run finds Register holding the
        extract's values and cannot tell it put a change made in Register back, so this run's report says it may have
        (review185 F2). Not for a write Register refused (nothing carried out: the next run warns) nor for one never
        sent."""
        plan = self.plan
        if plan.edited_unanswered is None or self.outcome not in ("failed", "unknown") or not self.requests:
            return None
        if self.landed or self.unavailable or self.outcome == "unknown":
            return plan.edited_unanswered
        return None

    def _found_done(self) -> list[tuple[str, str]]:
        """The warning for a record whose withdrawal or deferral Register refused because it held it already, made
        by someone else after the run listed it (`passed`): its row still read as this run's (review73 F6)."""
        if not self.passed or self.outcome != "done":
            return []
        held = _STATE_NOUNS["withdraw" if "withdraw" in self.passed else "defer"]
        sent = " and ".join(_STATE_NOUNS[kind] for kind in self.passed)
        them = "them" if len(self.passed) > 1 else "it"
        why = (
            f"Register already held this record's {held} when this run sent its {sent}, made in Register's service "
            f"after the run listed the trainee: this run did not write {them}"
        )
        return [("sync_found_done", why)]

    @property
    def would_wait(self) -> bool:
        """A dry run's record that a real run started now would hold back (sync_would_wait): not counted as written.
        One with nothing to send is `done` in a dry run (`_dry_run_outcome`), and held back too when an earlier write
        may still land and undo it (`SyncRun._earlier_write_unsettles`)."""
        return self.outcome in ("planned", "done") and self.again_after is not None

    def held_back(self, kinds: tuple[str, ...] = ("conflict", "blocked")) -> bool:
        """Planned as one of `kinds`, or found to be one by Register's answer: by its action, or (a record this run
        created, whose withdrawal Register then refused, keeps action create) by its outcome."""
        return self.plan.action in kinds or self.outcome in kinds

    def row(self) -> dict[str, Any]:
        source = self.plan.source
        warnings = self.warnings()
        # A held withdrawal's reason is the record's warning (sync_held), not an error of a record that went ahead.
        reason = self.plan.reason if ("sync_held", self.plan.reason) not in warnings else None
        return {
            "input": source.input,
            "record": source.record,
            "line": source.line,
            "row": source.row,  # after line, as in report.json's issues; results.csv has it last (RESULT_COLUMNS)
            "provider_trainee_id": self.plan.provider_trainee_id,
            "hesa_id": self.plan.hesa_id,
            "action": self.plan.action,
            "outcome": self.outcome,
            "trainee_id": self.plan.trainee_id,
            "http_status": self.http_status,
            "requests": self.requests,
            "errors": self.errors or ([reason] if reason else []),
            "warnings": [message for _code, message in warnings] + self.checked,
            "changes": self._changes(),
        }

    def _changes(self) -> list[dict[str, Any]]:
        """The plan's changes, without a state change the run did not write: one Register held already when the run
        sent it (`passed`, review73 F6), or, on a record the run did not finish (a write refused before it, a run
        stopped before the record, an answer lost), one it never had answered (review108 F2). results.csv lists each
        deferral or withdrawal sent; a dry run's, each it would send."""
        if self.outcome in ("planned", "done"):
            if not self.passed:
                return self.plan.changes
            unsent = {STATE_OF_STEP[kind] for kind in self.passed}
            return [c for c in self.plan.changes if not (c["field"] == "state" and c["source"] in unsent)]
        sent = {STATE_OF_STEP[kind] for kind in self.landed if kind in STATE_OF_STEP}
        return [c for c in self.plan.changes if c["field"] != "state" or c["source"] in sent]


# A record's writes that went through before Register refused a later one, in words (`_landed_before`).
_LANDED_WORDS = {
    "update": "its update",
    "add_degree": "a degree added",
    "update_degree": "a degree changed",
    "delete_degree": "a degree removed",
    "add_placement": "a placement added",
    "delete_placement": "a placement removed",
    "defer": "its deferral",
}


# Outcomes of a record whose write Register refused (or stopped answering for): its writes that went through before
# are counted and named. An unknown one's are not: the next run looks in Register before anything is said done.
REFUSED = ("failed", "blocked")


def _landed_before(landed: list[str]) -> str:
    """What of the record this run wrote before Register refused its next write, said after Register's message: the
    record is not as it was, though its outcome is failed or blocked (review67 F2)."""
    words = list(dict.fromkeys(_LANDED_WORDS.get(kind, kind) for kind in landed))
    return f" (written before that: {', '.join(words)})" if words else ""


def written(results: list[RecordResult], dry_run: bool) -> Counter[str]:
    """Records by what was written for them (`create`, `update`, `withdraw`, `defer`; in a dry run, what would be):
    a withdrawal sent with its creation counts in both (report.json's `sync.written`; the summary line says it with the
    creates, `alongside`: "80 created (5 then withdrawn)"; so too after an update or a deferral)."""
    kinds: Counter[str] = Counter()
    wanted = "planned" if dry_run else "done"
    for result in results:
        if result.would_wait:
            continue  # counted as that, not as written
        # By the record's action, as results.csv gives it: a create Register answered 409 to adopts a trainee
        # that was there already (unchanged, or updated), which is not one created (nor also one unchanged). A
        # create counts also when a write after it failed (`created`): the trainee is in Register.
        creates = result.plan.action == "create"
        if created_by_run(result, dry_run):
            kinds["create"] += 1
        steps = _written_steps(result, wanted)
        if not creates and steps - {"create", "defer", "withdraw"}:
            kinds["update"] += 1
        kinds.update(steps & {"defer", "withdraw"})
    return kinds


def writes_to_send(results: list[RecordResult]) -> int:
    """The write requests the plan sends, one a step: a create (its degrees and placements in its body), an update,
    each degree or placement added, corrected or removed, a deferral, a withdrawal. None for a record nothing is sent
    for (`skipped`: invalid, conflict, blocked), nor, in a dry run, for one a real run now would hold back
    (`would_wait`). The real run's progress counts its writes by it (`_write_all`), and a dry run's estimate of that
    run (`real_run_estimate`), so the two cannot count otherwise."""
    return sum(len(r.plan.steps) for r in results if r.outcome != "skipped" and not r.would_wait)


class SyncRequestCounts(RequestCounts):
    """A sync's requests (`SyncResult.requests`, report.json's sync.requests): the client's counts, with the requests
    per record, the run's seconds and its pace."""

    per_trainee: float
    seconds: float
    per_second: float


class RealRunEstimate(TypedDict):
    """A dry run's estimate of a real run started now (`SyncResult.estimate`, report.json's sync.estimate): its
    requests (the reads before the first write, and the writes), the seconds the rate budget gives them, and the rate
    (`"95/60"`)."""

    requests: int
    reads: int
    writes: int
    seconds: float
    rate: str


# How a run ended (`run_status`, `SyncResult.status`, report.json's sync.status).
RunStatus = Literal["finished", "interrupted", "unknown outcomes"]


def real_run_estimate(
    results: list[RecordResult], requests: RequestCounts, limiter: RateLimiter, answer: float = 0.0
) -> RealRunEstimate:
    """A dry run's estimate of a real run started now (report.json's `sync.estimate`; the summary line and report.html
    say it, review161 F6): its own requests (`requests`, sync.requests) are the reads a real run makes before its first
    write, as the same planning code makes them (the listings, the look-ups, the provider's probe), each once (not
    its retries); the writes are those the plan sends (`writes_to_send`). The time is the rate budget's for them
    (`RateLimiter.seconds_for`): a window's requests go at once, each `answer` seconds (what this dry run's own took
    to answer, on average: `answer_time`), and each window's more a window later. It was their share of the rate
    (`per_second`): "about 10 s" of a run of 15 requests that took 0.5 s (review164 F4). Longer when another process
    shares the budget, or the writes take Register longer than the reads did. The count is the real run's when
    Register answers each write as planned; a write it refuses (those after it are not sent), a 409 for a trainee
    entered meanwhile, a lost answer looked up, or a retry, changes it."""
    reads = requests["total"] - requests["retries"]
    writes = writes_to_send(results)
    total = reads + writes
    return {
        "requests": total,
        "reads": reads,
        "writes": writes,
        "seconds": significant(limiter.seconds_for(total, answer), decimals=1),
        "rate": f"{limiter.limit}/{limiter.period:g}",
    }


def answer_time(stats: RequestStats) -> float:
    """The seconds a request of `stats` took to answer, on average (0 of none): the pace a real run's requests go at
    while the rate budget lets them (`real_run_estimate`)."""
    return stats.seconds_answering / stats.answered if stats.answered else 0.0


def _written_steps(result: RecordResult, wanted: str) -> set[str]:
    """The kinds of the record's writes that went through (`wanted`: done) or would (planned): every step of its
    plan, or, when Register refused one, those before it (`landed`)."""
    if result.outcome == wanted:
        return {step.kind for step in result.plan.steps} - set(result.passed)
    if result.outcome in REFUSED:  # what went through before Register refused a write
        return set(result.landed)
    return set()


def alongside(results: list[RecordResult], dry_run: bool) -> dict[str, Counter[str]]:
    """The withdrawals and deferrals (`withdraw`, `defer`) `written` counts of records it counts under an earlier
    write of theirs too, by that write: a trainee the run created (in a dry run, would create) and withdrew or deferred
    with its creation (a record of a trainee who has left), one it updated and then withdrew or deferred, or deferred
    and then withdrew (`{"update": Counter(withdraw=1)}`). The summary line says them with that write, so that each
    record is counted once (review54 F7 for creates; review133 F2 for the others)."""
    wanted = "planned" if dry_run else "done"
    found: dict[str, Counter[str]] = {}
    for result in results:
        if result.would_wait:
            continue  # counted as that, not as written (`written`)
        steps = _written_steps(result, wanted)
        states = steps & {"defer", "withdraw"}
        if created_by_run(result, dry_run):
            first = "create"
        elif result.plan.action != "create" and steps - {"create", "defer", "withdraw"}:
            first = "update"  # as `written` counts an update
        elif "defer" in states:
            first = "defer"  # a deferral goes before a withdrawal (plan._status_steps)
        else:
            continue
        if along := states - {first}:
            found.setdefault(first, Counter()).update(along)
    return found


def joined(results: list[RecordResult]) -> dict[str, dict[str, dict[str, int]]]:
    """The withdrawals and deferrals planned with a create, an update or a deferral (report.json's `sync.joined`), by
    that action and by the record's outcome: `{"withdraw": {"create": {"done": 67, "pending": 472}}}`. The plan, as the
    actions count it: report.html's Withdraw and Defer cards counted only those done beside a Create card counting the
    records not reached too (review134 F3), and left out a withdrawal after a deferral, which the summary line counts
    ("1 deferred (1 then withdrawn)", review137 F4)."""
    found: dict[str, dict[str, Counter[str]]] = {}
    for result in results:
        if result.plan.action not in ("create", "update", "defer"):
            continue
        # (a deferral's own step is its action's, counted by the actions: only the withdrawal after it is joined)
        for kind in {step.kind for step in result.plan.steps} & {"withdraw", "defer"} - {result.plan.action}:
            found.setdefault(kind, {}).setdefault(result.plan.action, Counter())[result.outcome] += 1
    return {
        kind: {action: dict(sorted(outcomes.items())) for action, outcomes in sorted(by.items())}
        for kind, by in sorted(found.items())
    }


def created_by_run(result: RecordResult, dry_run: bool = False) -> bool:
    """Whether the run created (a dry run: would create) the record's trainee: its create done, and perhaps a later
    write of it not (`created`)."""
    if result.would_wait:
        return False
    return result.plan.action == "create" and (result.outcome == ("planned" if dry_run else "done") or result.created)


def run_status(interrupted: bool, outcomes: Mapping[str, int]) -> RunStatus:
    """How a run ended, as its ledger keeps it and report.json says it (`sync.status`, and the next run's
    `sync.previous_run.status`): `interrupted` (stopped part-way), `unknown outcomes` (it went through every record,
    but some writes had no answer, or wait for one that had none: the next run looks them up), or `finished`. Exit 3
    for the first two (docs/exit-codes.md): a run that only left outcomes unknown read as `finished`, so monitoring
    that reads the reports could not see the night that needed a rerun (review169 F1)."""
    if interrupted:
        return "interrupted"
    if outcomes.get("unknown") or outcomes.get("pending"):
        return "unknown outcomes"
    return "finished"


@dataclass
class SyncResult:
    """What `sync_files` did: every record's result in input order, the requests made (`requests`, a
    `SyncRequestCounts` dict: `total`, `by_route`, `by_status`, ... as report.json's sync.requests), how it ended
    (`status`), and the report files written (`report_paths`, by kind; none when there was no room for them);
    `exit_code` is what `register-batch sync` exits with for it."""

    report: ReportBuilder
    results: list[RecordResult]
    report_paths: dict[str, Path]
    requests: SyncRequestCounts
    interrupted: bool = False

    @property
    def status(self) -> RunStatus:
        """How the run ended, as report.json's sync.status says it: `finished`, `interrupted` (stopped part-way), or
        `unknown outcomes` (writes with no answer yet, which the next run looks up); exit 3 for the last two."""
        return run_status(self.interrupted, self.outcomes)

    @property
    def estimate(self) -> RealRunEstimate | None:
        """A dry run's estimate of a real run started now (report.json's sync.estimate); None for a real run, and for
        a dry run stopped before its plan was whole."""
        estimate: RealRunEstimate | None = self.report.extra.get("sync", {}).get("estimate")
        return estimate

    @property
    def actions(self) -> Counter[str]:
        return Counter(r.plan.action for r in self.results)

    @property
    def outcomes(self) -> Counter[str]:
        return Counter(r.outcome for r in self.results)

    @property
    def run_id(self) -> int | None:
        """This run's id in the state dir's ledger (report.json's sync.run_id), as the command line's lines name it."""
        sync = self.report.extra.get("sync")
        found = sync.get("run_id") if isinstance(sync, dict) else None
        return found if isinstance(found, int) else None

    def summary_line(self) -> str:
        """One line for people: what was (or would be) done, the problems, and the request cost."""
        sync = self.report.extra.get("sync", {})
        dry_run = bool(sync.get("dry_run"))
        kinds = written(self.results, dry_run)
        outcomes = self.outcomes  # a Counter made afresh on each read
        # A withdrawal or deferral sent after the record's creation, update or deferral is said with that write, so
        # that the counts add up to the records ("239 created (7 then withdrawn); 61 invalid" of 300, not "239
        # created, 7 withdrawn; ..."; "2 updated (1 then withdrawn), 1 deferred (1 then withdrawn)", review133 F2).
        along = alongside(self.results, dry_run)
        for counts in along.values():
            kinds.subtract(counts)
        states = (("withdraw", "withdrawn"), ("defer", "deferred"))
        labels = (("create", "created"), ("update", "updated"), *states)
        done = []
        for kind, word in labels:
            if kinds[kind] <= 0:
                continue
            then = along.get(kind, Counter())
            if dry_run:
                also = [f"{verb} {then[verb]}" for verb, _ in states if then[verb]]
                done.append(f"{kind} {kinds[kind]}" + (f" (then {', '.join(also)})" if also else ""))
            else:
                also = [f"{then[verb]} then {state}" for verb, state in states if then[verb]]
                done.append(f"{kinds[kind]} {word}" + (f" ({', '.join(also)})" if also else ""))
        if dry_run:
            done = [f"would {', '.join(done)}"] if done else []
        # Not those a stopped run did not reach: they are counted once, as "not reached" (below); nor those held back
        # while an earlier write may still undo them (`SyncRun._earlier_write_unsettles`): counted as unknown, or as
        # would wait in a dry run.
        unchanged = sum(
            1
            for r in self.results
            if r.plan.action == "unchanged" and r.outcome not in ("pending", "unknown") and not r.would_wait
        )
        if unchanged:
            done.append(f"{unchanged} unchanged")
        # Corrections to trainees recommended for award, awarded or withdrawn: not sent, a warning each
        # (sync_after_award, sync_after_withdrawal)
        if kept := sum(1 for r in self.results if r.plan.action == "held"):
            done.append(f"{kept} held (recommended, awarded or withdrawn in Register)")
        # Done, with every write Register's refusal found made already by someone else (RecordResult.passed).
        if found := sum(1 for r in self.results if r.passed and not _written_steps(r, "done")):
            done.append(f"{found} found already done in Register")
        held = {a: sum(1 for r in self.results if r.held_back((a,))) for a in ("invalid", "conflict", "blocked")}
        problems = [f"{count} {a}" for a, count in held.items() if count]
        problems += [f"{outcomes[o]} {o}" for o in ("failed", "unknown") if outcomes.get(o)]
        if outcomes.get("unknown") and not self.interrupted:  # exit 3 too; a stop's line says to run again
            waits = _waits(self.results)
            after = f" after {max(waits):%H:%M} UTC" if waits else ""  # at once, such a record only waits again
            problems[-1] += f" (run the same sync again{after}: it looks in Register first)"
        if changed := sync.get("lists_changed"):
            # Register refused codes the lists in use accept (review210 F5): said once for the run, not per record, in
            # report.json's words (`lists_changed`), which report.html's summary box says too (review223 F1).
            failed = problems.index(f"{outcomes['failed']} failed")
            some = "" if changed["records"] == outcomes["failed"] else f"{changed['records']} of them: "
            problems[failed] += f" ({some}{changed['message']})"
        if outcomes.get("pending"):  # a stopped run (Interrupted.result): not "nothing to do" for these
            problems.append(f"{outcomes['pending']} not reached")
        if foreseen := [r.again_after for r in self.results if r.would_wait and r.again_after]:
            # A dry run's (sync_would_wait): a real run now would send nothing for these, leave them unknown and exit
            # 3; they are not counted as what it would write.
            problems.append(
                f"{len(foreseen)} would wait until {max(foreseen):%H:%M} UTC (a run now sends nothing for "
                f"{'it' if len(foreseen) == 1 else 'them'}: an earlier write had no answer)"
            )
        total = self.requests["total"]
        elsewhere = sync.get("not_in_extract", 0)
        if elsewhere:
            problems.append(f"{elsewhere} in Register but not in the extract (left alone{_synced_before(self.report)})")
        if unanswered := sync.get("unanswered_elsewhere", 0):
            which = "a record" if unanswered == 1 else "records"
            problems.append(f"{counted(unanswered, 'earlier write')} never answered, for {which} not in the extract")
        warnings = self.report.summary.warnings
        if warnings:
            # Named by code where the sync itself gave them: a nightly job's new news (docs/dry-run.md); the rest
            # (legacy codes translated, ...) come back every night and are in issues.csv.
            sync_codes = sync.get("warnings") or {}
            named = ", ".join(f"{count} {code}" for code, count in sync_codes.items() if code not in RUN_ONLY_WARNINGS)
            problems.append(counted(warnings, "warning") + (f" ({named})" if named else ""))
        # "nothing to do" only when there is nothing else to say: "1 record: nothing to do; 1 failed" read as if
        # the failure did not matter.
        said = "; ".join(filter(None, (", ".join(done), ", ".join(problems)))) or "nothing to do"
        # No figure per record of no records (a run given no inputs): its requests, if any, looked up earlier writes.
        cost = f" ({plain(self.requests['per_trainee'])} per record)" if self.results else ""
        # A dry run's own requests are a few listing pages: what a real run now would cost is said after them.
        estimate = sync.get("estimate")
        real = (
            f" A real run now: {real_run_words(estimate['requests'], estimate['seconds'], estimate['rate'])}."
            if estimate
            else ""
        )
        # The night's own warnings, a sentence each after what was done (review208): an old extract, another year's;
        # the trainees the extract lacks are said with the others not in it (_synced_before), unless some are of a
        # cycle the extract lacks, which no listing of its cycles has. Each message begins as a sentence does (never
        # with a file's name, which is not capitalised: `incoming/x.xml` is not `Incoming/x.xml`).
        night = "".join(
            f" {w['message']}."
            for w in sync.get("run_warnings") or ()
            if (w["code"] != EXTRACT_LACKS_SYNCED or w.get("of_cycles_lacked")) and w["code"] not in LOGGED_RUN_WARNINGS
        )
        if kept := sync.get("earlier_report"):  # the report of an unfinished run, moved aside (review231 F1)
            night += (
                f" Run {kept['run_id']}'s report ({kept['status']}) was in the report folder: moved to "
                f"{kept['moved_to']}, not replaced."
            )
        return f"{counted(len(self.results), 'record')}: {said}.{night} {counted(total, 'request')}{cost}.{real}"

    @property
    def exit_code(self) -> int:
        outcomes = self.outcomes
        if run_status(self.interrupted, outcomes) != "finished":
            return 3
        # A blocked record (read-only in Register) is reported as a warning, since nothing can be done through the
        # API, but the extract still differs from Register: exit 1 tells a person (docs/exit-codes.md). So does one
        # whose update Register would refuse (sync_update_refused, an error). Not a held one (a correction to a trainee
        # recommended, awarded or withdrawn: sync_after_award, sync_after_withdrawal): nobody can clear it, and every
        # night's exit 1 hid those who can.
        if outcomes["failed"] or any(r.held_back(("invalid", "conflict", "blocked")) for r in self.results):
            return 1
        return 0


# Trainees the ledger links that a token seeing nobody answers 404 for, by which the run is refused (_links_unseen).
# Fewer are not enough to tell a wrong token from a trainee removed for good (a conflict for people to check).
LINKS_UNSEEN = 3
# Creates in a row Register left unanswered (a 5xx, a page not Register's, or no answer; each after the look-up found
# no trainee and the create sent again met the same) by which a run stops, as it stops at the first update Register
# does not answer (review163 F1): Register failing every create while it still answers reads had each record of a
# first load spend three requests to end unknown, an hour for 2,000 before exit 3. Not at the first: one record
# Register fails on for what it holds (a 500 for a request of its shape, register-api.md §2.5, §2.7) or a moment's
# outage does not stop the run; three, nine requests, is past what one record's shape or a blip explains, and each
# one more would cost three more requests to say the same. A create an earlier run left unknown neither counts nor
# breaks the run (`_create_unanswered`), so that a few such records do not stop every later run at the same place.
CREATES_UNANSWERED = 3


class _Stop(KeyboardInterrupt):
    """Ctrl-C or SIGTERM: stop at the next safe point (or at once, on a second signal or before any write). A
    KeyboardInterrupt, so that wherever it lands the CLI reports an interrupted run (exit 3)."""


class _Outage(Exception):
    """Register did not answer (after retries): stop the run; the next run resumes."""

    def __init__(self, error: ApiError, *, unknown: bool = False):
        self.error = error
        self.unknown = unknown  # the write itself went unanswered: it may have happened


# What stops a run part-way (it resumes next time): Register not answering, or a write's outcome left unknown.
_STOPS_THE_RUN: tuple[type[ApiError] | type[_Outage], ...] = (*UNAVAILABLE, _Outage)
# What ends the look-up after a write's lost reply with the write still unknown: Register not answering, or refusing
# the look-up itself (a listing's 400 or 422 other than "no such cycle", _find_created).
_LOOK_UP_FAILED: tuple[type[ApiError], ...] = (*UNAVAILABLE, BadRequest, Unprocessable)


# Each stop signal's handler in a Python program that set none of its own: Ctrl-C raises KeyboardInterrupt, SIGTERM
# and SIGHUP end the process at once (no report, nothing logged). `sync_files(stop=)` replaces only these.
_PYTHONS_DEFAULTS: dict[int, Any] = {
    signal.SIGINT: signal.default_int_handler,
    signal.SIGTERM: signal.SIG_DFL,
    **({signal.SIGHUP: signal.SIG_DFL} if hasattr(signal, "SIGHUP") else {}),
}


class StopSignals:
    """Ctrl-C, SIGTERM and SIGHUP while writing finish the request in flight, then stop (docs/nightly-sync.md §7).

    Before the first write nothing needs finishing, so a signal stops the run at once; so does a second Ctrl-C or
    SIGTERM while a request is still out (the record is then reported `unknown`, and the next run looks it up). A
    hangup (the terminal gone: an SSH session dropped) is no person insisting, and may come twice (from the kernel
    and from the shell that leaves): it never stops a request half-way.
    """

    def __init__(
        self, event: threading.Event | None = None, *, install: bool = True, over_defaults_only: bool = False
    ) -> None:
        # Whether `install` replaces the process's handlers at all: not when the caller keeps its own (review182 F1).
        self.installing = install
        # Only a signal still at Python's default (`_PYTHONS_DEFAULTS`): a caller that gives its own stop keeps the
        # handlers it set, and one that set none still gets a clean stop with a report on SIGTERM (review187 F1).
        self.over_defaults_only = over_defaults_only
        self.writing = False
        self.signalled = False  # a signal asked for the stop (while writing: one is finishing its record)
        # The first stop signal's name (SIGTERM), for report.json's sync.stopped: a systemd stop, a dropped SSH session
        # and a person's Ctrl-C call for different changes (review208 F8). None until one comes.
        self.signal: str | None = None
        # The caller's stop (`sync_files(stop=)`), set from any thread: asks as a first signal does, and is looked at
        # where the run can stop safely, as no handler can be installed off the main thread (review62 F2).
        self.event = event
        # The run's outcome is decided (its report written, or the run refused): a signal from then on changes
        # nothing (docs/exit-codes.md), while the run lets go of its ledger, locks and spools (review60 F2).
        self.decided = False
        self.reporting = False  # the report is being written: a first signal lets it finish, as while writing
        # The signal that stopped the run at once, a second one (a Ctrl-C pressed again): the ledger's words for a run
        # it ended before its report (`ended_by`), not the class name `_Stop` (review231 F2).
        self.again: str | None = None
        self._previous: dict[int, Any] = {}  # the handlers in place before `install`, given back by `give_back`

    @property
    def requested(self) -> bool:
        return self.signalled or (self.event is not None and self.event.is_set())

    @property
    def why(self) -> dict[str, Any]:
        """report.json's sync.stopped for this stop: a signal's (named, when one of ours took it), else the caller's
        event's."""
        return stopped_by_signal(self.signal) if self.signalled or not self.requested else STOPPED_BY_CALLER

    def ended_by(self, stop: KeyboardInterrupt) -> str:
        """Why a stop ended the run before its report, in words, for its ledger row (`Ledger.stop_run`) and so the
        next run's previous_run.reason and sync_written_earlier: a second Ctrl-C or SIGTERM, most often (review231
        F2: the row said `_Stop: `, and the next report took the run for one killed)."""
        if self.again is not None:
            return f"stopped at once by a second {self.again}" + (
                " while its report was written" if self.reporting else ""
            )
        if self.signal is not None and self.signalled:
            return f"stopped by {self.signal} before its report was written"
        if self.signal is not None:
            return f"stopped by {self.signal} before its first write"
        if isinstance(stop, _Stop) and self.event is not None and self.event.is_set():
            return "stopped by the caller's stop before its report was written"
        return "stopped by Ctrl-C (KeyboardInterrupt) before its report was written"

    def check(self) -> None:
        """Called between requests: the safe points where a requested stop happens."""
        if self.requested:
            raise _Stop()

    def before_writes(self) -> None:
        """Called between the requests that plan the run (the listings, the look-ups): before the first write nothing
        needs finishing, so a stop the caller asked for happens here at once, as a signal's does wherever it lands.
        Not once writing: a record is then finished first (`check` between records)."""
        if not self.writing:
            self.check()

    def _handle(self, signum: int, _frame: Any) -> None:
        if self.decided:  # a finished run stays finished, a stopped one keeps its summary: its exit code is its own
            log.debug("%s once the run had ended: its outcome stands", signal.Signals(signum).name)
            return
        hangup = signum == getattr(signal, "SIGHUP", None)
        if self.signal is None:
            self.signal = signal.Signals(signum).name
        if not self.writing or (self.signalled and not hangup):
            if self.signalled:
                self.again = signal.Signals(signum).name
            raise _Stop()
        if self.signalled:
            return
        self.signalled = True
        # A second hangup is the terminal going again, not a person asking twice: it does not stop at once.
        again = "" if hangup else " (send it again to stop at once)"
        doing = "finishing the report" if self.reporting else "stopping after the request in flight"
        log.warning("%s: %s%s", signal.Signals(signum).name, doing, again)

    def report_begins(self) -> None:
        """From here the report is written: a first signal lets it finish (docs/exit-codes.md), a dry run's and that
        of a run stopped before its first write too (a signal stopped those at once); a second one stops it."""
        self.writing = self.reporting = True

    def install(self) -> None:
        """Handle the stop signals from now on, until `give_back` (on the main thread only: none can be installed
        elsewhere). Once only: a second call changes nothing."""
        if not self.installing or self._previous or threading.current_thread() is not threading.main_thread():
            return
        # A SIGINT the parent chose to ignore (a background job of a script) stays ignored, as does a SIGHUP under
        # `nohup`. Windows has no SIGHUP. One handled outside Python (None: a program embedding Python, as uWSGI,
        # handles it) stays the host's: Python could not put it back after the run.
        wanted = (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
        signals = [sig for sig in wanted if sig is not None and signal.getsignal(sig) not in (signal.SIG_IGN, None)]
        if self.over_defaults_only:
            signals = [sig for sig in signals if signal.getsignal(sig) is _PYTHONS_DEFAULTS.get(sig)]
        self._previous = {sig: signal.signal(sig, self._handle) for sig in signals}

    @contextlib.contextmanager
    def in_force(self) -> Iterator[None]:
        """Plan, write and report one run under these stops: installed now (given back by `sync_files`), the run's
        outcome decided, whichever way it ends, once the block is left."""
        self.install()
        try:
            yield
        finally:
            self.decided = True

    def give_back(self) -> None:
        """Put back the handlers `install` replaced: the last thing `sync_files` does, so that a signal once the
        run's outcome is decided meets `decided` here, not the caller's handler (KeyboardInterrupt: exit 3) while the
        run still lets go of its ledger and locks. signal.signal runs a signal already pending with the handler it
        replaces: one caught just before is this one's too."""
        previous, self._previous = self._previous, {}
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class SyncRun:
    """One run against one target and state dir."""

    def __init__(
        self,
        options: SyncOptions,
        client: RegisterClient,
        ledger: Ledger,
        progress: Progress,
        moved: dict[str, tuple[str, int]] | None = None,
        implied: str | None = None,
        *,
        stops: StopSignals | None = None,
        reference: ReferenceData | None = None,
    ):
        self.options = options
        # The code lists the run validates with (pulled ones too): an update's merged trainee is checked with them.
        self.reference = reference
        self.client = client
        # The key the ledger's field digests are made under: the token's (review194 F2), which the ledger never holds.
        self.field_key = FieldKey(client.token)
        self.ledger = ledger
        self.progress = progress
        # The run's stop: looked at between the requests that plan it (`StopSignals.before_writes`).
        self.stops = stops or StopSignals()
        self.as_of = as_of_or_today(options.as_of)
        # The day Register would apply a withdrawal or deferral sent now: one dated after it is held (review214 F1).
        self.applied_on = register_day(options)
        # The client's counts before the run: the run's figures are those after, so that a client lent to each
        # night's run does not count every earlier night's requests as the night's.
        self.counted_before = client.stats.copy()
        self.listed_cycles: set[int] = set()  # cycles listed so far (the token's provider may show in them)
        # Register's time when each cycle listed in full was first answered (`deleted_in_register`).
        self.listing_began: dict[int, datetime] = {}
        self.provider_seen = False  # a listed trainee has shown the token's provider (check_provider)
        self.tokens_provider: str | None = None  # the UKPRN Register showed on the first of the token's trainees
        # Creates left unanswered before the provider was seen: in the account the token is for, whichever it is.
        self.unsure_creates: list[SourceRef] = []
        # Whether the run's first create notes its token, from a state dir bound to no provider (check_creates_token).
        self._note_token = False
        # Training partners whose records the run files under their accredited provider (ProviderCheck.moved):
        # the partner's own token is refused for them without --ukprn too.
        self.moved = moved or {}
        # Without --ukprn, the one provider the records' F_UKPRN name (ProviderCheck.sole_provider): a listed trainee
        # of another provider shows a mixed-up token. No request is made for it (probe_provider is --ukprn's).
        # Not towards the sandbox either: its test provider's UKPRN may not be the one a real extract names, so a
        # rehearsal's second run would be refused, and a token mixed up there files no one where it matters.
        sandbox = options.target.rstrip("/") == TARGETS["sandbox"]
        self.implied = None if options.ukprn or options.embedded or sandbox else implied
        # The provider Register files the state dir's trainees under (Ledger.provider): a token Register shows is
        # another's is refused, --ukprn or not. Adopted from the first of its own trainees seen, when not known yet.
        # Not for the embedded emulator: its provider takes the run's --ukprn or the records' UKPRN (sync/target.py),
        # and refuses another provider's once it holds trainees (review48 F1).
        self.state_provider = None if options.embedded else ledger.provider()
        # The degrees earlier runs replaced and have not yet deleted (Ledger.degrees_replaced), which planning deletes
        # once their replacements are in: trainee_id -> {degree_id: digest of its replacement}.
        self.replaced: dict[str, dict[str, str]] = ledger.degrees_replaced()
        # The trainees this sync withdrew, with the withdrawal's date (Ledger.withdrawals_made): one back in training
        # since is not withdrawn again for the same withdrawal (plan `_withdrawal_undone`).
        self.withdrawn: dict[str, str] = ledger.withdrawals_made()
        # What Register answered this state dir's writes of codes it held otherwise (Ledger.codes_echoed): planning
        # compares those records as it answered (compare.as_echoed; review210 F1, F2). Notes made under another token's
        # key are none.
        noted = {key: unpack_echoed(text, self.field_key) for key, text in ledger.codes_echoed().items()}
        self.echoed = EchoedCodes(self.field_key, {key: found for key, found in noted.items() if found})
        # What the answer to the step just sent held of the coded values it sent (`_compare_echo`): the codes Register
        # did not keep, and the names of those compared, for the ledger and the record's warning.
        self._echo: _Echo | None = None
        # The trainee fields' codes Register refused in this run though the lists in use accept them (`stale_codes`):
        # (field, code) -> the record it refused them for. The next records that would send one are held back, not
        # sent to the same refusal (review210 F5): reported failed, their ledger entries left as they were.
        self.refused_codes: dict[tuple[str, str], str] = {}
        # The request of the step being sent that went unanswered, noted in the ledger (`_noted_while_out`): answered
        # by the look-up that finds it carried out (`resolve`).
        self._out: int | None = None
        # Whether the ledger held a request noted while out when the run first looked (`_noted_before_run`).
        self._any_noted: bool | None = None
        # The status that ended the step, where it is not the last answer's (`_delete`: a 404 of a DELETE resent).
        self._ended_with: int | None = None
        # The step found held after Register refused it, and not from this run's request (RecordResult.passed).
        self._passed = False
        # Earlier runs' unanswered creates this run found carried out for a record whose HUSID was corrected since
        # (`_adopt`): their ledger keys. The record's result names the create; the report does not name
        # it again as a write for a record not in the extract.
        self.created_under: set[str] = set()
        # This run's creates in a row that Register left unanswered (`_create_unanswered`, CREATES_UNANSWERED).
        self.creates_unanswered = 0
        # What the earlier real runs were given (Ledger.runs_given), read before this run's row: an old extract given
        # again (sync_extract_seen_before) and the last run's record count (sync_extract_lacks_synced) come from it.
        self.earlier_runs: list[RunInputs] = []
        # An old extract given again (`_old_inputs`: sync_extract_seen_before), and the records whose planned update
        # puts its values back over what a later run given another extract synced (`_note_put_back`): by index, with
        # the later run's id.
        self.old_inputs: _OldInputs | None = None
        self.put_back: list[tuple[int, int]] = []
        # The academic cycles the last real run sharing one with tonight's extract synced records of and tonight's
        # extract has none of, and that run's id (`_of_cycles_lacked`: sync_extract_lacks_synced)
        self.cycles_lacked: frozenset[int] = frozenset()
        self.lacked_since: int | None = None
        # sync_account_unmatched's (count, words): a dry run that a real run would stop (check_unmatched_account)
        self.unmatched_account: tuple[int, str] | None = None
        # sync_state_dir_new's (count, words): a state dir with no ledger, for a Register that holds trainees of the
        # extract's cycles (_plan_run), said in the reports as well as the log (review223 F2)
        self.no_ledger: tuple[int, str] | None = None

    def planned(
        self, record: TraineeRecord, linked: str | None, holdings: Holdings, *, invalid: bool = False
    ) -> RecordPlan:
        """plan_record with the run's as-of day, reference data and the day Register applies a state change."""
        return plan_record(
            record,
            linked,
            holdings,
            invalid=invalid,
            as_of=self.as_of,
            reference=self.reference,
            applied_on=self.applied_on,
        )

    # --- Register's holdings -------------------------------------------------------------------------

    def holdings(self, cycles: set[int]) -> Holdings:
        """Every trainee Register lists for the extract's cycles, plus any the ledger knows elsewhere."""
        return self.list_into(Holdings([], self.replaced, self.withdrawn, self.echoed), cycles)

    def list_into(self, holdings: Holdings, cycles: set[int], *, neighbours: bool = False) -> Holdings:
        """Add every trainee Register lists for `cycles` (start cycles, §2.3). A cycle that Register has no row for
        (before its first, or after next year's) is answered with 422: no one is listed in it. That includes an
        extract's own cycle: a start moved to the year after next (a deferral before the course began) is valid
        (§3.4 allows next calendar year), and must not stop the night's sync of every other record; the trainee is
        still found through the ledger (`fetch_missing`) or Register's 409.

        Listed as `export` lists (`iter_register_trainees`): oldest change first, each page from the last change read
        (§10), so a trainee that leaves a cycle while its pages are read (another run moving its start) makes no
        other one be skipped, and one that changes (a TRN arriving) is listed when reached. A trainee missing from the
        listing is planned as a create, which Register's 409 (§4) does not stop when its name was corrected too."""
        # The neighbouring cycles get a bar of their own, named so: two bars of one name looked like one listing twice.
        task = self.progress.task("Listing neighbouring cycles" if neighbours else "Listing Register", unit="trainees")
        with task.waits_shown(self.client.limiter):
            for cycle in sorted(cycles):
                self.stops.before_writes()
                self.listed_cycles.add(cycle)
                began: datetime | None = None
                try:
                    for trainee in iter_register_trainees(
                        self.client, academic_cycle=cycle, per_page=self.options.per_page
                    ):
                        began = began or self._at_most_registers(self.client.last_date)  # the first page's answer
                        self.check_provider(trainee)
                        holdings.add(trainee)
                        task.advance()
                        self.stops.before_writes()
                    began = began or self._at_most_registers(self.client.last_date)  # an empty cycle's one answer
                    if began is not None:
                        self.listing_began.setdefault(cycle, began)
                except Unprocessable as exc:
                    if not (neighbours or _no_such_cycle(exc, cycle, self.as_of)):
                        raise
                    log.info("Register has no academic cycle %s: nothing listed for it", cycle)
        task.close()
        return holdings

    @overload
    def _at_most_registers(self, moment: datetime) -> datetime: ...

    @overload
    def _at_most_registers(self, moment: None) -> datetime | None: ...

    def _at_most_registers(self, moment: datetime | None) -> datetime | None:
        """`moment`, or Register's time as its last answer's Date said it where that is earlier: a look-back from it
        misses nothing Register stamped since, though this machine's clock be ahead of Register's (further than the
        client's `last_date` believes a Date, which it then takes for a proxy's)."""
        said = self.client.last_said_date
        return said if moment is None or (said is not None and said < moment) else moment

    def fetch_missing(self, holdings: Holdings, trainee_ids: list[str]) -> tuple[set[str], dict[str, dict[str, Any]]]:
        """Trainees the ledger links to that the cycle listings did not include (their start date moved), added to
        `holdings`. Returns the ones left out, whose links are followed no further: the drafts (Register lists no
        draft, §2.3; an earlier version adopted one, `_adopt`), and the trainees deleted in Register's service
        (`deleted_in_register`), by id, as GET /trainees/{trainee_id} still shows them (§2.4)."""
        drafts: set[str] = set()
        unlisted: list[dict[str, Any]] = []
        not_found = 0
        for trainee_id in trainee_ids:
            self.stops.before_writes()
            try:
                trainee = self.client.get_trainee(trainee_id)
            except NotFound:
                not_found += 1
                seen = unlisted or drafts or holdings.by_id or self.options.embedded  # the embedded: its own data
                if not seen and not_found == LINKS_UNSEEN:
                    raise self._links_unseen(not_found) from None
                continue
            self.check_provider(trainee)
            if trainee.get("state") == "draft":
                drafts.add(trainee_id)
            else:
                unlisted.append(trainee)
        deleted = self.deleted_in_register(unlisted)
        for trainee in unlisted:
            if trainee["trainee_id"] not in deleted:
                holdings.add(trainee)
        return drafts, deleted

    def _links_unseen(self, looked: int) -> ConfigError:
        """A token that sees none of the state dir's trainees: Register listed nobody in the extract's cycles and
        answered 404, as it does for another provider's trainee (§1.2), for each trainee the ledger links that it
        looked up. Its first create would put a trainee (personal data) in another provider's account, where the API
        cannot delete it (review26); refused before anything is written, after a few look-ups, not hundreds. The same
        answers come from a Register that no longer holds them (an emulator that forgot them): the message says both."""
        whose = f" (UKPRN {self.state_provider})" if self.state_provider else ""
        return ConfigError.naming(
            "the API token cannot see the trainees this state dir's earlier syncs wrote: Register listed none in the "
            "extract's academic cycles, and answered 404 (not found, as for another provider's trainee) for each of "
            "the {looked} the ledger links that were looked up. Either it is not the token of their provider{whose}: "
            "use that provider's token; or Register no longer holds those trainees at all (an emulator restarted "
            "without --db or reset, a sandbox cleared, trainees removed by DfE's support): give a new {state_dir}. "
            "Nothing was written",
            looked=counted(looked, "trainee"),
            whose=whose,
        )

    def deleted_in_register(self, unlisted: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        """Of trainees GET /trainees/{trainee_id} shows (no drafts) that no listing of this run had, those deleted in
        Register's service, by id. Register lists every trainee of a start cycle but its drafts and deleted ones
        (§2.3), and shows a deleted one by its id all the same (§2.4): one unlisted is deleted when a listing of its
        start cycle that had to include it did not. That is the run's own listing of the cycle when the trainee has
        not changed since a while before Register first answered it (LISTING_OVERLAP: a change stamped before that
        was in the listing's view); else (changed since, its start moved there, or a cycle not listed) one listing of
        the cycle `since` the trainee's `updated_at` (§10: inclusive), which has it if Register lists it. Without a
        start cycle or an `updated_at` to tell by, or a cycle Register has no row for (422), it is taken as held."""
        deleted: dict[str, dict[str, Any]] = {}
        to_look: dict[int, list[tuple[datetime, dict[str, Any]]]] = {}  # by cycle: when each last changed, and it
        for trainee in unlisted:
            cycle, changed = start_cycle(trainee), listed_at(trainee.get("updated_at"))
            if cycle is None or changed is None:
                continue
            began = self.listing_began.get(cycle)
            if began is not None and changed < began - LISTING_OVERLAP:
                deleted[trainee["trainee_id"]] = trainee
            else:
                to_look.setdefault(cycle, []).append((changed, trainee))
        for cycle, changes in sorted(to_look.items()):
            earliest = min(changes, key=lambda change: change[0])[1]
            trainees = [trainee for _changed, trainee in changes]
            sought = {t["trainee_id"] for t in trainees}
            try:
                # Oldest change first from the earliest's: each sought is on the first pages, unless it was deleted.
                for listed in iter_register_trainees(
                    self.client, academic_cycle=cycle, since=earliest["updated_at"], per_page=self.options.per_page
                ):
                    sought.discard(listed.get("trainee_id"))
                    if not sought:
                        break
            except Unprocessable:
                continue
            deleted.update((t["trainee_id"], t) for t in trainees if t["trainee_id"] in sought)
        return deleted

    def check_provider(self, trainee: dict[str, Any], *, created_for: TraineeRecord | None = None) -> None:
        """Stop before anything more is written when Register shows the token is another provider's than `--ukprn`.

        Every trainee Register returns carries its provider's UKPRN (register-api.md §3.6, `ukprn`), which is the
        token's: the first one read tells whether the run's records (checked against --ukprn when they were
        validated) would go to the provider they are of. A wrong token (another client's, in a vendor's job) is
        caught here; with nothing listed yet (a first load) there is nothing to tell by before the first create, whose
        answer (`created_for` its record, a lost one's found in the look-up) is looked at the same way: another
        provider's token then puts one trainee in that provider's account, not the whole cohort. That create stays
        in the ledger as sent and unanswered: the next run, with the right token, does not find it there and creates
        the trainee in the right account.

        Without --ukprn, the token of a training partner whose records the run files under their accredited provider
        (hesa-formats.md §5 item 11) is refused: its own extract, sent with its own token, would put the accredited
        provider's trainees in the partner's account, each its own training partner. So is any token whose trainees
        are listed under another UKPRN than the one the records' F_UKPRN all name (`implied`), and, whatever the
        settings, one Register shows is another provider's than the state dir's trainees (`_state_dirs_provider`).
        """
        expected = self.options.ukprn
        listed = trainee.get("ukprn")
        if not listed:
            return
        listed = str(listed)
        if (
            (expected and listed != expected)
            or (not expected and listed in self.moved)
            or (self.implied and listed != self.implied)
        ):
            raise self._another_providers(listed, trainee, created_for)
        self.tokens_provider = self.tokens_provider or listed
        if self._state_dirs_provider(listed, trainee, created_for) or expected or self.moved or self.implied:
            self.provider_seen = True

    def _state_dirs_provider(self, listed: str, trainee: dict[str, Any], created_for: TraineeRecord | None) -> bool:
        """Refuse a token Register shows is another provider's than the one it files the state dir's trainees under
        (Ledger.provider), or adopt `listed` when that is not known yet and the trainee is one of the state dir's own:
        just created, or linked by the ledger (not any trainee listed: a ledger of an older version, first used with
        another provider's token, would take that provider for its own). Whether the provider was checked."""
        known = self.state_provider
        if self.options.embedded:
            return False
        if known is not None:
            if listed != known:
                how, written, again = self._what_was_written(listed, trainee, created_for)
                raise ConfigError.naming(
                    "{the_token} is provider {listed}'s ({how}), not {known}'s, under whom Register files the "
                    "trainees of the state dir {folder}{state_dir_given}: {written}. Use {known}'s token with this "
                    "state dir, or another {state_dir} for {listed}'s syncs.{again}",
                    said={**THE_TOKEN, "state_dir_given": ""},  # the command line's says where it was set
                    listed=listed,
                    how=how,
                    known=known,
                    folder=self.options.state_dir,
                    written=written,
                    again=again,
                )
            return True
        # A create's answer binds a state dir that links no trainee yet; one that does (an older version's ledger)
        # takes its provider from a trainee it links, not from the create of a run with a mixed-up token, whose
        # provider it would then refuse the right token for (found by review14).
        ours = (created_for is not None and not self.ledger.links_any()) or bool(
            trainee.get("trainee_id") and self.ledger.links_to(trainee["trainee_id"])
        )
        if not ours:
            return False
        if not self.options.dry_run:  # a dry run writes nothing, to Register or of it
            self.ledger.adopt_provider(listed)
        self.state_provider = listed
        return True

    def check_creates_token(self) -> None:
        """Refuse, before anything is listed or sent, a token other than the one that sent the creates a state dir
        bound to no provider still holds unanswered, without --ukprn (review166 F1). Their trainees may be in the
        account of the token that sent them, whose provider no answer showed; another provider's token would find
        none of them and create each again in its own account, which Register's API cannot undo. The same token, or
        --ukprn, or records that name their provider (`implied`), which probe_provider and the first create's answer
        check the token against, goes on. Which token sent them is known by a salted digest (Ledger.token_sent_creates):
        None for a ledger of an older version. A token the provider checks refuse is not forgotten: the --ukprn given
        with it may have been the mistake, and another token's run would then be let through (review167 F1)."""
        self._note_token = False
        token = self.client.token
        if self.options.embedded or self.state_provider is not None or token is None:
            return
        same = self.ledger.token_sent_creates(token.reveal())
        unknown = self.ledger.creates_left_unknown() if same is False else 0
        if unknown and not self.options.ukprn and not self.implied:
            raise ConfigError.naming(
                "{the_token} is not the one the state dir {folder} sent its last creates with, {unanswered} of "
                "which went unanswered: {they} may be in that token's provider's account, and as no answer has shown "
                "which provider that is, this token's run would not find {them} and would create {them} again in "
                "its own. Give {ukprn} (the token is then checked against it, in an empty account by its first "
                "create's answer), or, if the earlier run's token was this state dir's provider's, use that; nothing "
                "was written",
                said=THE_TOKEN,
                folder=self.options.state_dir,
                unanswered=unknown,
                they="that trainee" if unknown == 1 else "their trainees",
                them="it" if unknown == 1 else "them",
            )
        self._note_token = same is not True and not unknown  # with --ukprn, the earlier token's creates stay its own

    def _noting_creates_token(self) -> None:
        """Before a create is sent from a state dir bound to no provider: note its token (`check_creates_token`)."""
        if self._note_token and self.state_provider is None and not self.options.dry_run and self.client.token:
            self.ledger.note_creates_token(self.client.token.reveal())
            self._note_token = False

    def bind_state_dir(self) -> None:
        """Bind a state dir that links no trainee yet to the provider its listing showed (`tokens_provider`), once the
        run is planned: the trainees it matches are that provider's, and so are those it creates. Its first run was
        bound only by a create's answer that the provider was not yet seen by, so a first run into an account that
        held trainees (one that matched them only, or created with --ukprn given) left it bound to none, and the next
        night's mixed-up token was not refused (review127 F3). A ledger that links trainees (an older version's)
        takes its provider from one of them (`_state_dirs_provider`). No request: what the listing showed."""
        if self.options.embedded or self.options.dry_run or self.state_provider is not None:
            return
        if self.tokens_provider is None or self.ledger.links_any():
            return
        self.ledger.adopt_provider(self.tokens_provider)
        self.state_provider = self.tokens_provider

    def _what_was_written(
        self, listed: str, trainee: dict[str, Any], created_for: TraineeRecord | None
    ) -> tuple[str, str, str]:
        """How a refused token's provider is known, what the run wrote (nothing, or the create whose answer showed
        it), and what the next run does: the words of `_another_providers` and `_state_dirs_provider`."""
        if created_for is None:
            return LISTED_UNDER_IT, NOTHING_WRITTEN, ""
        where = created_for.source
        unsure = [f"{source.place()} of {source.input}" for source in self.unsure_creates]
        maybe = (
            f" (and perhaps the trainee{'s' if len(unsure) > 1 else ''} of {', '.join(unsure)}, whose create"
            f"{'s' if len(unsure) > 1 else ''} went unanswered)"
            if unsure
            else ""
        )
        written = (
            f"that trainee, {trainee.get('trainee_id')} ({where.place()} of {where.input}), is in {listed}'s "
            f"account{maybe}, and nothing else was written; Register's API cannot delete a trainee: ask "
            "Register's support to remove it"
        )
        how = "Register filed the first trainee this run created under that UKPRN"
        return how, written, " The next run creates that record too."

    def _another_providers(
        self, listed: str, trainee: dict[str, Any], created_for: TraineeRecord | None
    ) -> ConfigError:
        """check_provider's refusal, worded only when there is one (it looks at every trainee listed)."""
        expected = self.options.ukprn
        how, written, again = self._what_was_written(listed, trainee, created_for)
        if expected:
            return another_providers(listed, expected, self.options.ukprn_source, how=how, written=written, again=again)
        sentence = written[0].upper() + written[1:]  # the messages below start a sentence with it
        if listed in self.moved:
            accredited, records = self.moved[listed]
            return ConfigError.naming(
                "{the_token} is provider {listed}'s ({how}), {filed_under}: {records} of F_UKPRN {listed} {are} "
                "{accredited}'s, and would be filed under {listed}. {written}. Send them with {accredited}'s token and "
                "{ukprn} {accredited}.{again}",
                said=THE_TOKEN,
                listed=listed,
                how=how,
                filed_under=training_partners().filed_under(accredited),
                records=counted(records, "record"),
                are="is" if records == 1 else "are",
                accredited=accredited,
                written=sentence,
                again=again,
            )
        return ConfigError.naming(
            "{the_token} is provider {listed}'s ({how}), but the records are {records_of}'s ({why}): Register "
            "would file them under {listed}. {written}. Use {records_of}'s token, and give {ukprn} {records_of} "
            "in jobs, so that a first load is checked before its first create (rehearsing against "
            "{emulator_ukprn}).{again}",
            said={**THE_TOKEN, "emulator_ukprn": "the emulator: give it that UKPRN for the token"},
            listed=listed,
            how=how,
            records_of=self.implied,
            why=moved_why(self.moved) or "F_UKPRN",
            written=sentence,
            again=again,
        )

    PROBED_CYCLES = 6  # one-trainee listings that look for the token's provider: next cycle, this one, four before

    def probe_provider(self) -> None:
        """Before the first write, when the extract's cycles listed nobody: look for one trainee of the token in the
        other recent cycles, so a token of another provider that has trainees there is still caught.

        One request per cycle (a page of one), from next cycle back, stopping at the first trainee or at a cycle
        before Register's first (422); nothing when there is no provider to tell a token by (no `--ukprn`, no training
        partner's records filed under their accredited provider, no state dir bound to one: review14 found a
        mixed-up token's first create made in the other account) or a listing already showed the provider.
        """
        if not (self.options.ukprn or self.moved or self.state_provider) or self.provider_seen:
            return
        current = cycle_of(self.as_of)
        for cycle in range(current + 1, current + 1 - self.PROBED_CYCLES, -1):
            if cycle in self.listed_cycles:
                continue
            self.stops.before_writes()
            try:
                items, _meta = self.client.list_trainees(academic_cycle=cycle, per_page=1, page=1)
            except Unprocessable:  # no such cycle in Register: after next year's, or before its first
                if cycle <= current:
                    return
                continue
            for trainee in items:
                self.check_provider(trainee)
            if self.provider_seen:
                return

    def check_unmatched_account(self, holdings: Holdings, results: list[RecordResult]) -> None:
        """Stop before the first write a run with no provider to tell its token by (no `--ukprn`, records that name
        none, a state dir bound to none: the caller's `fresh` ledger) whose token's account holds trainees of the
        extract's cycles, none of them one of its records, while the plan creates records (review212 F1). That is how
        another provider's token looks (one settings file of a vendor's forty without its `ukprn` line, its
        token_file another's): every record would be created in that provider's account, where the API cannot delete
        them. It is also how a provider's own first run of trainees Register does not hold yet looks, into an account
        holding others of those cycles (an earlier intake, trainees entered by hand): the two cannot be told apart
        without a UKPRN, so the message names both and the setting that settles it (review217 F1). A dry run, which
        writes nothing, is not stopped: it plans, and says so as a run warning (sync_account_unmatched). A provider's
        own first run into an account it loaded from another state dir matches its trainees; one into an empty account
        has nothing listed (`probe_provider` and the first create's answer are --ukprn's). Not towards the sandbox,
        whose test provider holds every rehearsal's trainees, nor the embedded emulator."""
        options = self.options
        listed = self.tokens_provider
        if listed is None or not holdings.by_id or options.embedded or options.ukprn or self.implied or self.moved:
            return
        if self.state_provider is not None or options.target.rstrip("/") == TARGETS["sandbox"]:
            return
        matched = {r.plan.trainee_id for r in results if r.plan.trainee_id}
        matched.update(trainee_id for r in results for trainee_id in r.plan.related)
        creates = sum(1 for r in results if any(step.kind == "create" for step in r.plan.steps))
        if not creates or matched & holdings.by_id.keys():
            return
        error = ConfigError.naming(
            "{the_token} is provider {listed}'s ({how}): Register holds {held} of the extract's academic cycles in "
            "its account, none of them one of the records, and {this_run} create {creates} there. With no UKPRN to "
            "check the token by and no ledger in the state dir {folder}, that is what trainees Register does not hold "
            "yet look like, in an account that already holds others of these cycles (an earlier intake, trainees "
            "entered by hand), and also what another provider's token looks like (a token_file naming another "
            "provider's file), whose account the API cannot delete them from. {stopped}Set the ukprn "
            "setting{where_given} to the UKPRN of the provider the records are of ({listed} if they are yours), and "
            "the token is checked against it",
            said={**THE_TOKEN, "where_given": ""},
            listed=listed,
            how=LISTED_UNDER_IT,
            held=counted(len(holdings.by_id), "trainee"),
            this_run="a real run would" if options.dry_run else "this run would",
            creates=counted(creates, "record"),
            folder=options.state_dir,
            stopped="A real run stops here, before its first write (exit 2). "
            if options.dry_run
            else "Nothing was written. ",
        )
        if not options.dry_run:
            raise error
        self.unmatched_account = (creates, str(error))

    # --- execution --------------------------------------------------------------------------------------

    def execute(self, result: RecordResult, record: TraineeRecord) -> None:
        """Send the steps of `record`'s plan; stopped at once part-way (a second Ctrl-C), say so truthfully."""
        stats = self.client.stats
        started = stats.total
        answered_429 = stats.throttled  # a 429 says Register did nothing with the request
        try:
            try:
                self._execute(result, record)
            except StoppedWaiting:  # asked to stop while a request waited for the rate budget: it was not sent
                raise _Stop() from None
        except (KeyboardInterrupt, Unauthorized) as stop:  # and _Stop
            refused = isinstance(stop, Unauthorized)  # the 401 did nothing; a request before it may have
            if result.outcome == "pending" and stats.total - stats.throttled - refused > started - answered_429:
                # A request went out for this record: Register may have carried it out. The ledger says in flight
                # (or unknown), so the next run looks in Register before it writes anything for this record.
                result.requests = stats.total - started
                result.outcome = "unknown"
                result.errors = [
                    "Register refused the API token while this record was written; run the same sync again with "
                    "a token it accepts to finish"
                    if refused
                    else "stopped while writing this record; run the same sync again to finish"
                ]
            elif result.outcome == "pending" and result.plan.key:
                # Nothing went out for it: its in-flight mark (made before a request that was then not sent) would
                # have a later run name a write that never happened (_note_earlier_writes). Only this run's own mark.
                with contextlib.suppress(LedgerUnwritable):  # else it stays in flight: looked up, as before
                    entry = self.ledger.get(result.plan.key)
                    if entry is not None and entry.status == "in_flight" and entry.run_id == self.ledger.run_id:
                        self.ledger.record(result.plan.key, "pending")
            raise

    def _execute(self, result: RecordResult, record: TraineeRecord) -> None:
        plan = result.plan
        key = plan.key
        assert key is not None
        common: dict[str, Any] = {
            "hesa_id": record.data.get("hesa_id"),
            "provider_trainee_id": record.data.get("provider_trainee_id"),
            "source": f"{record.source.input}#{record.source.record}",
        }
        index = 0
        if (wait := self.waits_for(key, plan, record)) is not None:
            # Nothing sent: its ledger entry stays the earlier run's.
            result.outcome, result.errors, result.again_after = "unknown", [wait.messages[0]], wait.until
            return
        if (refused := self._refused_before(plan, record)) is not None:
            # Nothing sent: its ledger entry stays as it was, and the next run plans it afresh.
            result.outcome, result.errors, result.stale = "failed", [refused[0]], refused[1]
            result.not_sent = True
            return
        left_unknown = self._left_unknown(key)  # before this run's in-flight mark takes the entry's place
        # Register may hold them from here on (review192 F1).
        sending = sending_digests(self.ledger, key, record, self.field_key)
        while index < len(plan.steps):  # a requested stop waits for the whole record (StopSignals.check)
            step = plan.steps[index]
            # The write's turn in the rate budget first: marked in flight while it waited (most of a rate-limited
            # run's time), a run killed then left a write never sent held back as unknown by the next runs for 10
            # minutes (review137 F3). The mark is still made before any byte of the request goes (design.md).
            self._take_turn()
            # A create's cycle is kept: a run killed while it was out looks there next time (unsettled_creates). A
            # create links the record to no trainee (`""`): a link an earlier run made, to a trainee another record
            # of this extract now keeps (one_record_per_trainee), would hide the create sent and bring it back there.
            self.ledger.record(
                key,
                "in_flight",
                operation=step.kind,
                trainee_id="" if step.kind == "create" else plan.trainee_id,
                attempt=True,
                create_for_cycle=start_cycle(record.data) if step.kind == "create" else None,
                create_match=duplicate_check_key(record.data) if step.kind == "create" else None,
                sent=sending,
                **common,
            )
            before = self.client.stats.total
            try:
                self.send(plan, step, key, common, record)
            except _Outage as outage:
                result.requests += self.client.stats.total - before
                if outage.unknown:  # the ledger says unknown already: the next run looks before it writes
                    result.outcome, result.errors = "unknown", outage.error.messages
                    raise
                result.outcome, result.errors, result.unavailable = "failed", outage.error.messages, True
                result.http_status = outage.error.status  # the 403, or the 429/500 of the last try (docs/dry-run.md)
                self.ledger.record(
                    key,
                    "failed",
                    operation=step.kind,
                    trainee_id=plan.trainee_id,
                    http_status=outage.error.status,
                    errors=outage.error.messages,
                    **common,
                )
                raise
            except OutcomeUnknown as again:
                result.requests += self.client.stats.total - before
                result.outcome, result.errors = "unknown", again.messages
                result.again_after = again.until if isinstance(again, _MayStillLand) else None
                if step.kind == "create" and not self.provider_seen:
                    self.unsure_creates.append(record.source)
                self.ledger.record(
                    key, "unknown", operation=step.kind, trainee_id=plan.trainee_id, errors=again.messages, **common
                )
                if step.kind == "create":  # recorded first: a run stopped here leaves the create unknown, looked up
                    self._create_unanswered(again, counted=not left_unknown)
                return
            except _Adopted as adopted:
                # The create happened (a lost reply) or the trainee was already there (409): carry on from what
                # Register holds for it.
                result.requests += self.client.stats.total - before
                self.creates_unanswered = 0  # Register answered: the create, or the look-up found it
                lost_reply = adopted.how in (_FOUND_AFTER_UNKNOWN_CREATE, _CONFLICT_AFTER_UNKNOWN_CREATE)
                if not lost_reply:  # a trainee Register had: its entry says 409, not a create (_writes_named)
                    result.http_status = 409
                if not self.provider_seen:  # whose account it is in, as for a create answered (perform)
                    self.check_provider(adopted.trainee, created_for=record if lost_reply else None)
                plan.trainee_id = adopted.trainee["trainee_id"]
                plan_changes(
                    plan,
                    record,
                    adopted.trainee,
                    as_of=self.as_of,
                    replaced=self.replaced.get(plan.trainee_id or ""),
                    withdrew=self.withdrawn.get(plan.trainee_id or ""),
                    reference=self.reference,
                    echoed=self.echoed,
                    applied_on=self.applied_on,
                )
                plan.matched_by = adopted.how
                if lost_reply and (
                    plan.action in ("update", "unchanged", "withdraw", "defer")
                    or (plan.action == "blocked" and plan.held)
                ):
                    # This run's create, whose reply was lost: not a trainee already there. A state change held back
                    # (a withdrawal before the ITT start) does not make the create that happened "blocked", and one
                    # sent after it does not make it a withdrawal of a trainee Register had.
                    plan.action = "create"
                if lost_reply and plan.action == "create" and not result.created:  # this run's, its answer lost
                    result.landed.append("create")
                blocked = plan.action in ("blocked", "held")
                if plan.action == "held":  # a correction Register cannot take: a warning
                    result.outcome, result.errors = "skipped", []
                elif blocked:
                    result.outcome, result.errors = "blocked", [plan.reason or ""]
                else:
                    plan.steps = [step, *plan.steps]
                with self._settling_under(adopted):
                    self.ledger.record(
                        key,
                        "blocked" if blocked else "in_flight",
                        operation=step.kind,
                        trainee_id=plan.trainee_id,
                        created=lost_reply,
                        **({"errors": result.errors or [plan.after_award or ""]} if blocked else {"http_status": 409}),
                        **common,
                    )
                if blocked:
                    return
                index = 1
                continue
            except _Settled as settled:
                result.requests += self.client.stats.total - before
                if step.kind == "create":  # Register answered it (a refusal)
                    self.creates_unanswered = 0
                result.outcome = settled.outcome
                result.http_status = settled.status
                result.errors = _placed(record, step, settled.messages)
                if settled.status == 422:
                    result.errors, result.stale = stale_codes(result.errors, self._lists)
                    for field, code in _stale_fields(result.stale):
                        self.refused_codes.setdefault((field, code), _who(record))
                if not result.landed:  # a refusal of a write after others went through does not undo them
                    plan.action = settled.action or plan.action
                status = {"failed": "failed", "conflict": "conflict", "blocked": "blocked"}[settled.outcome]
                self.ledger.record(
                    key,
                    status,
                    operation=step.kind,
                    trainee_id=plan.trainee_id,
                    http_status=settled.status,
                    errors=settled.messages,
                    **common,
                )
                return
            result.requests += self.client.stats.total - before
            if step.kind == "create":
                self.creates_unanswered = 0
            result.http_status = self._ended_with if self._ended_with is not None else self.client.last_status
            (result.passed if self._passed else result.landed).append(step.kind)
            index += 1
            withdrew = _withdrawal_made(plan, step, self._passed)
            self.ledger.record(
                key,
                "in_flight",
                operation=step.kind,
                trainee_id=plan.trainee_id,
                http_status=result.http_status,
                created=step.kind == "create",
                landed=None if self._passed else step.kind,
                withdrew=withdrew,
                echoed=self._echo_noted(plan),
                **common,
            )
            if withdrew is not None and withdrew[1] is not None:
                self.withdrawn[withdrew[0]] = withdrew[1]  # as the ledger now lists it (Ledger.withdrawals_made)
        result.outcome = "done"
        self.ledger.record(
            key,
            "done",
            operation=plan.steps[-1].kind if plan.steps else None,
            trainee_id=plan.trainee_id,
            payload_hash=plan.payload_hash,
            http_status=result.http_status,
            synced=synced_digests(record, self.field_key),
            **common,
        )

    def _left_unknown(self, key: str) -> bool:
        """Whether an earlier run left this record's create unknown (its entry not yet settled since)."""
        entry = self.ledger.get(key)
        return (
            entry is not None
            and entry.operation == "create"
            and entry.status in ("in_flight", "unknown")
            and entry.run_id != self.ledger.run_id
        )

    def _create_unanswered(self, unknown: OutcomeUnknown, *, counted: bool) -> None:
        """A create left unknown, recorded so: the CREATES_UNANSWERED-th in a row that Register did not answer (a 5xx,
        a page not Register's, or no answer: `cause`) stops the run as an outage does (`_Outage`, exit 3), the record
        unknown and the rest not reached, which the next run looks up or sends (review163 F1). A record an earlier run
        left so (`counted` false) neither counts nor breaks the run; any other unknown outcome (a 201 naming no
        trainee) is an answer, and breaks it."""
        if not counted:
            return
        cause = unknown.cause
        if not isinstance(cause, ServerError | TransportError):
            self.creates_unanswered = 0
            return
        self.creates_unanswered += 1
        if self.creates_unanswered < CREATES_UNANSWERED:
            return
        said = f"{CREATES_UNANSWERED} creates in a row had no answer"  # said once, in the run's error line
        stopped: ApiError = (
            TransportError(cause.method, cause.path, "; ".join([*cause.messages, said]), sent=cause.sent)
            if isinstance(cause, TransportError)
            else ServerError(cause.method, cause.path, cause.status, [*cause.messages, said], cause.body)
        )
        raise _Outage(stopped, unknown=True)

    def _take_turn(self) -> None:
        """Wait for the next request's turn in the rate budget (RateLimiter.take_ahead), counted as the client counts
        its own waits; a stop asked meanwhile raises StoppedWaiting, as a wait in the client does."""
        client = self.client
        waited = client.limiter.waited
        try:
            client.limiter.take_ahead(client.stopping)
        finally:
            client.stats.seconds_waiting += client.limiter.waited - waited

    def waits_for(self, key: str, plan: RecordPlan, record: TraineeRecord) -> _MayStillLand | None:
        """Why nothing is sent for the record yet, if a create, placement, degree, update, withdrawal or deferral an
        earlier run sent had no answer and may still be carried out: a placement added again, or a create or update
        sent now, could leave Register holding the same thing twice, and a changed degree, update or state change could
        be overtaken by the earlier one. Reads only the ledger, so a dry run says it too (`_foresee_waits`)."""
        if (wait := self._earlier_placement_out(key, plan)) is not None:
            return wait
        if (wait := self._earlier_write_out(key, plan, record)) is not None:
            return wait
        if (wait := self._earlier_write_unsettles(key, plan, record)) is not None:
            return wait
        if plan.steps and plan.steps[0].kind == "create" and (wait := self._earlier_create_out(key, record)):
            return wait
        return self._update_would_unguard(key, plan, record)

    def _earlier_create_out(self, key: str, record: TraineeRecord) -> _MayStillLand | None:
        """Why this record's create is not sent yet, if an earlier run's create of it went unanswered a short while
        ago and Register's 409 would not refuse a second one (`a_second_create_is_refused`): Register may still be
        carrying that create out, and listed no one when this run began. Sent again now, both would be carried out
        (found by review39: a rerun started at once, as the earlier run's line said to)."""
        # Guarded only when Register's 409 would refuse either create whichever lands second: both refused when sent
        # twice, and nothing it compares corrected between them (a start, ITT start, surname, date of birth, or both
        # the first name and the email: review41, review42, review43, helper-207 F2).
        match = duplicate_check_key(record.data)
        unguarded = self._unguarded_by(key, record.provider_trainee_id, match)
        sent = self.ledger.create_sent_for(key)
        if unguarded is None and (
            match is not None
            and (sent is None or (sent[0] == start_cycle(record.data) and a_later_create_is_refused(sent[1], match)))
        ):
            return None
        out = self._earlier_create_may_land(key)
        if out is None and unguarded is None:
            return None
        run_id, until = (out[0].run_id, out[1]) if out is not None else (None, None)
        until = max(u for u in (until, unguarded) if u is not None)
        return _MayStillLand(
            until,
            f"an earlier run's create of this trainee{f' (run {run_id})' if run_id else ''} had no answer, and "
            "Register does not list "
            "it yet: it may still be carrying it out, and its duplicate check would not stop a second one (a "
            "trainee_start_date in another academic cycle than the itt_start_date, or a backslash in the last name, "
            "in that create or this one, or a start, surname, date of birth or route corrected since, or both the "
            "first name and the email)",
            f"Run sync again after {until:%H:%M} UTC: it finds the trainee, or creates it if Register still lists "
            "no one",
        )

    def _earlier_placement_out(self, key: str, plan: RecordPlan) -> _MayStillLand | None:
        """Why this record's placements are not added yet, if a request adding one to its trainee went unanswered a
        short while ago: Register has no duplicate check for placements (§2.11), and may still carry that request out,
        so one added again now could be held twice. Within a run the request is not sent again (`resolve`); the runs
        after it wait as for an unanswered create, then add it if it is still missing. Found by the ledger's note of
        the request (`write_going_out`), whatever the record's entry says since (the placement gone from the extract
        and back) and whatever its HUSID is now (review47 F1, F2)."""
        if not any(step.kind == "add_placement" for step in plan.steps):
            return None
        out = [
            until
            for _compared, sent_at in self.ledger.unanswered(
                "add_placement", key, srs_id=plan.provider_trainee_id, trainee_id=plan.trainee_id
            )
            if (until := _still_out_until(sent_at)) is not None
        ]
        if not out:
            return None
        until = max(out)
        return _MayStillLand(
            until,
            f"a request adding a placement to trainee {plan.trainee_id} had no answer a short while ago: Register may "
            "still carry it out, and it has no duplicate check for placements",
            f"Run sync again after {until:%H:%M} UTC: it adds a placement only if Register still does not list it",
            f"/trainees/{plan.trainee_id}/placements",
        )

    def _earlier_write_out(self, key: str, plan: RecordPlan, record: TraineeRecord) -> _MayStillLand | None:
        """Why this record's degree, placement, update, withdrawal or deferral is not sent yet, if a request to its
        trainee that it could be overtaken by (`_OVERTAKEN`) went unanswered a short while ago (a run killed or stopped
        while it was out): Register may still carry that request out after this one, and leave the trainee with a
        degree both as it was and as corrected, write back a degree's class corrected again, put back what this update
        changes, or withdraw a trainee this record now defers (review52 F1, F3, F4, review115 F1). The same request
        sent again is not held back (`_sent_again`)."""
        if plan.trainee_id is None:  # a create: nothing was written to its trainee yet
            return None
        for kind, overtaken in _OVERTAKEN.items():
            steps = [step for step in plan.steps if step.kind in overtaken]
            if not steps:
                continue
            out = self._still_out(kind, key, plan.trainee_id)
            if out and kind == "add_degree":
                out = self._degrees_not_yet_held(plan.trainee_id, out)
            elif out and kind in ("delete_degree", "delete_placement"):
                out = self._deletes_overtaking(kind, plan.trainee_id, out, steps)
            elif out and kind == "update_degree":
                out = self._degree_puts_overtaking(plan, record, out)
            if out and not _sent_again(kind, steps, {compared for compared, _until in out}):
                until = max(until for _compared, until in out)
                why, then, path = _write_out_words(kind, plan.trainee_id, steps, until)
                return _MayStillLand(until, why, then, path)
        return None

    def _still_out(self, kind: str, key: str, trainee_id: str) -> list[tuple[str | None, datetime]]:
        """The requests of `kind` to the trainee noted unanswered (what each sent) that Register may still carry out,
        with the time until which it may."""
        return [
            (compared, until)
            for compared, sent_at in self.ledger.unanswered(kind, key, trainee_id=trainee_id)
            if (until := _still_out_until(sent_at)) is not None
        ]

    def _listed_items(self, kind: str, trainee_id: str) -> dict[str, Mapping[str, Any]]:
        """The degrees (`delete_degree`) or placements (`delete_placement`) Register lists for the trainee, by what a
        DELETE of each sends, as the ledger notes it (`_step_digest`). One GET."""
        if kind == "delete_degree":
            return {sent_digest(kind, {}, str(d.get("degree_id"))): d for d in self.client.list_degrees(trainee_id)}
        return {sent_digest(kind, {}, str(p.get("placement_id"))): p for p in self.client.list_placements(trainee_id)}

    def _deletes_overtaking(
        self, kind: str, trainee_id: str, out: list[tuple[str | None, datetime]], steps: list[Step]
    ) -> list[tuple[str | None, datetime]]:
        """The unanswered DELETEs of a degree or placement (`out`: what each sent, by the id it removes) that could
        undo one of `steps` landing after it: only of an item Register still lists (one it no longer lists is gone:
        the DELETE's 404, §2.10, §2.11), and, as a DELETE goes by id, a degree this run corrects (any degree it adds,
        which the one deleted may stand in the way of, §3.7), or a placement at the school of one this run adds
        (§2.11: it stands beside it). Else it held the trainee's other changes for 10 minutes (review120 F2). One GET,
        only for a trainee with such a request still noted."""
        listed = self._listed_items(kind, trainee_id)
        if kind == "delete_degree":
            corrected = {step.item_id for step in steps if step.kind == "update_degree"}
            adds = any(step.kind == "add_degree" for step in steps)
            wanted = {digest for digest, d in listed.items() if adds or str(d.get("degree_id")) in corrected}
        else:
            added = {placement_key(step.body or {}) for step in steps}
            wanted = {digest for digest, p in listed.items() if placement_key(p) in added}
        return [(compared, until) for compared, until in out if compared in wanted]

    def _degree_puts_overtaking(
        self, plan: RecordPlan, record: TraineeRecord, out: list[tuple[str | None, datetime]]
    ) -> list[tuple[str | None, datetime]]:
        """The unanswered degree PUTs (`out`: what each sent, by body) that could undo this run's degree writes
        landing after them: all but one that sent a degree as the record has it and as it is to be held, Register
        holding it so already (it landed) or this run sending that very PUT again. Landing (again), such a PUT writes
        what the record says (§2.10: the values it is sent, to the degree it is sent to), and it held a correction of
        the trainee's other degree for 10 minutes (review120 F3). One GET, only for a trainee with such a PUT noted."""
        trainee_id = plan.trainee_id or ""
        sending = {_step_digest(step) for step in plan.steps}
        recorded = degree_puts(record.data.get("degrees_attributes") or [])
        if not any(compared in recorded for compared, _until in out):
            return out
        held = [degree_values(degree) for degree in self.client.list_degrees(trainee_id)]

        def as_held(compared: str | None) -> bool:
            mine = recorded.get(compared or "")
            if mine is None:
                return False
            return compared in sending or any(agrees(mine, theirs) for theirs in held)

        return [(compared, until) for compared, until in out if not as_held(compared)]

    def _earlier_write_unsettles(self, key: str, plan: RecordPlan, record: TraineeRecord) -> _MayStillLand | None:
        """Why this record is left unknown, if a degree added, corrected or deleted, a placement deleted, or an update
        an earlier run sent its trainee went unanswered a short while ago, this run does not send it again, and Register
        landing it now would no longer hold the record as the extract says: an update or a degree's PUT that sent
        otherwise than the record now says (the SRS put a change back), a DELETE of a degree or placement Register
        still holds (the SRS put it back), a degree added that Register does not hold and the record no longer has.
        Nothing this run sends could stop it, and a record said to be held as the extract says (done, exit 0) would
        then not be (review115 F3). Reads Register (one GET) only for a trainee with such a request still out."""
        if plan.trainee_id is None or plan.action not in ("update", "unchanged") or not self._noted_before_run():
            return None
        trainee_id = plan.trainee_id
        sending = {_step_digest(step) for step in plan.steps}
        for kind in _UNSETTLING:
            out = [
                (compared, until)
                for compared, until in self._still_out(kind, key, trainee_id)
                if compared not in sending
            ]
            if out and (changing := self._would_change(kind, trainee_id, record, out)):
                until = max(until for _compared, until in changing)
                return _MayStillLand(
                    until,
                    f"{_UNSETTLING[kind]} trainee {trainee_id} had no answer a short while ago: Register may still "
                    "carry it out, and then no longer hold the record as the extract says",
                    f"Run sync again after {until:%H:%M} UTC: it compares the trainee with what Register then holds",
                    f"/trainees/{trainee_id}",
                    joined=", and nothing this run sends could stop it. ",
                )
        return None

    def _would_change(
        self, kind: str, trainee_id: str, record: TraineeRecord, out: list[tuple[str | None, datetime]]
    ) -> list[tuple[str | None, datetime]]:
        """The requests of `kind` still out (`out`: what each sent, `_step_digest`) that would change what Register
        holds of the trainee, now as the record says, were they carried out now (`_earlier_write_unsettles`)."""
        if kind == "add_degree":  # one Register holds was carried out: its 409 refuses it a second time (§2.10)
            return self._degrees_not_yet_held(trainee_id, out)
        if kind == "update":  # a PUT writes every field it is sent (§2.6): harmless only if it sent what this would
            held = self.client.get_trainee(trainee_id)
            # One sent before it landed carried keys the update now leaves out (review120 F1): any such is harmless.
            same = {sent_digest(kind, body) for body in landed_update_bodies(record.data, held, record.partial_lists)}
            return [(compared, until) for compared, until in out if compared not in same]
        if kind == "update_degree":  # a degree's PUT writes the values it is sent (§2.10): the record's degrees
            recorded = degree_puts(record.data.get("degrees_attributes") or [])
            return [(compared, until) for compared, until in out if compared not in recorded]
        # A DELETE of a degree or placement Register no longer holds can change nothing (its 404, §2.10, §2.11).
        held = self._listed_items(kind, trainee_id)
        return [(compared, until) for compared, until in out if compared in held]

    def _noted_before_run(self) -> bool:
        """Whether the ledger held any request noted while out when this run first asked (`Ledger.has_unanswered`):
        else no record need be compared with one (`_earlier_write_unsettles`), on the common paths."""
        if self._any_noted is None:
            self._any_noted = self.ledger.has_unanswered()
        return self._any_noted

    def _degrees_not_yet_held(
        self, trainee_id: str, out: list[tuple[str | None, datetime]]
    ) -> list[tuple[str | None, datetime]]:
        """The unanswered degree requests (`out`: what each sent, `compare.sent_digest`) whose degree Register does not
        hold yet. One Register holds was carried out, and its 409 refuses it a second time (§2.10): nothing to wait
        for (review55 F2: such a degree held the trainee's next degree change back for 10 minutes, exit 3). One GET,
        only for a trainee with such a request still noted."""
        held = {degree_digest(degree) for degree in self.client.list_degrees(trainee_id)}
        return [(compared, until) for compared, until in out if compared not in held]

    def _earlier_create_may_land(self, key: str) -> tuple[Entry, datetime] | None:
        """An earlier run's create of the record left unanswered, and until when it may still be carried out, if it
        may."""
        entry = self.ledger.get(key)
        if (
            entry is None
            or (entry.operation, entry.trainee_id or "") != ("create", "")
            or entry.status not in ("in_flight", "unknown")
            or entry.run_id == self.ledger.run_id
        ):
            return None
        until = _create_may_still_land(entry)
        return None if until is None else (entry, until)

    def send(self, plan: RecordPlan, step: Step, key: str, common: dict[str, Any], record: TraineeRecord) -> None:
        """Perform a step; if its outcome is unknown, record that and resolve it against Register."""
        # Before the request, by Register's clock where it is behind: the look-up after a lost reply lists from here
        # (_find_created), and from this machine's time alone, 20 minutes fast, it missed the trainee created and sent
        # the create again (found by review13).
        sent_at = self._at_most_registers(utc_now())
        self._out = self._ended_with = None
        self._passed = False
        self._echo = None
        try:
            self.perform(plan, step, record)
        except OutcomeUnknown as exc:
            self.ledger.record(
                key, "unknown", operation=step.kind, trainee_id=plan.trainee_id, errors=exc.messages, **common
            )
            if self.client.stopping():  # asked to stop: the next run looks it up before it writes anything
                raise
            try:
                self.resolve(plan, step, record, sent_at)
            except _MayStillLand as wait:  # not sent again: left unknown by the first request's failure
                wait.cause = exc.cause
                raise
            except _LOOK_UP_FAILED as down:
                # Stopped as for an outage, with a report; the next run looks again before it writes anything for
                # this record.
                raise _Outage(down, unknown=True) from None

    def perform(self, plan: RecordPlan, step: Step, record: TraineeRecord) -> None:
        """Send one step; refusals become _Settled, a 409 on create becomes _Adopted."""
        client = self.client
        try:
            if step.kind == "create":
                created = self._create(plan, record)
                if not created.get("trainee_id"):  # a 201 that names no trainee: created, but as whom is unknown
                    raise OutcomeUnknown("POST", "/trainees", 201, ["Register's answer named no trainee_id"])
                plan.trainee_id = created["trainee_id"]  # the rest of the answer is not kept: 10 KB a trainee
                if not self.provider_seen:
                    self.check_provider(created, created_for=record)
                self._compare_echo(create_body(record.data), created, record)
                return
            trainee_id = _trainee_id(plan)
            if step.kind == "update":
                answer = self._sent_noted(plan, step, lambda: client.update_trainee(trainee_id, step.body or {}))
                if isinstance(answer, dict):
                    self._compare_echo(step.body or {}, answer, record)
            elif step.kind == "add_degree":
                self._replacing(trainee_id, step)
                try:
                    answer = self._sent_noted(plan, step, lambda: client.add_degree(trainee_id, step.body or {}))
                    if isinstance(answer, dict):
                        self._compare_degree_echo(step.body or {}, answer)
                except Conflict:
                    # 409 is success only if Register now holds this very degree (a resend after a lost reply);
                    # a duplicate of another degree (§3.7) means this one is still missing.
                    wanted = degree_key(step.body or {})
                    if not any(degree_key(d) == wanted for d in client.list_degrees(trainee_id)):
                        raise
                    self._found_carried_out()  # a resend's 409: the request before it was carried out
            elif step.kind == "update_degree":
                answer = self._sent_noted(
                    plan, step, lambda: client.update_degree(trainee_id, _item_id(step), step.body or {})
                )
                if isinstance(answer, dict):
                    self._compare_degree_echo(step.body or {}, answer)
            elif step.kind == "delete_degree":
                self._delete(
                    plan, step, lambda: client.delete_degree(trainee_id, _item_id(step)), "Degree(s) not found"
                )
                self._replaced(trainee_id, _item_id(step))
            elif step.kind == "add_placement":
                assert plan.key is not None
                sent = self.ledger.write_going_out(
                    "add_placement", plan.key, srs_id=plan.provider_trainee_id, trainee_id=trainee_id
                )
                self._noted_while_out(sent, lambda: client.add_placement(trainee_id, step.body or {}))
            elif step.kind == "delete_placement":
                self._delete(
                    plan, step, lambda: client.delete_placement(trainee_id, _item_id(step)), "Placement(s) not found"
                )
            elif step.kind == "defer":
                self._sent_noted(plan, step, lambda: client.defer(trainee_id, step.body or {}))
            elif step.kind == "withdraw":
                self._sent_noted(plan, step, lambda: client.withdraw(trainee_id, step.body or {}))
            else:  # pragma: no cover - plan only makes the kinds above
                raise ValueError(step.kind)
        except Unauthorized:
            raise
        except Conflict as exc:
            if step.kind != "create":
                raise _Settled("failed", exc.status, exc.messages) from None
            raise self._adopt(plan, exc) from None
        except Unprocessable as exc:
            held = self._held(trainee_id) if step.kind in ("defer", "withdraw") else None
            state = None if held is None else str(held.get("state") or "")
            if held is not None and state in REACHED_STATES[step.kind]:
                # Already in the state asked for: a resend's 422 (the request before it was carried out, its reply
                # lost), or someone else's change since the plan listed Register. Only a withdrawal or deferral held
                # as this one says is taken for the former (review65 F1: a trainee withdrawn by hand meanwhile was
                # reported deferred).
                withdrawal = next((s for s in plan.steps if s.kind == "withdraw"), None)
                # A deferral whose trainee was withdrawn as the record says (its next step) is past: Register holds
                # what the record ends in, as a plan made now would find (`_status_steps` sends no deferral then).
                if _held_as_sent(step, held) or (step.kind == "defer" and _held_as_sent(withdrawal, held)):
                    # This run's write only if its earlier request of the step went unanswered (`_out`) and Register
                    # holds that step itself, not the withdrawal a deferral is passed by.
                    ours = self._out is not None or self._sent_by_an_earlier_run(plan, step)
                    self._passed = not ours or not _held_as_sent(step, held)
                    self._found_carried_out()
                    return
                said = _changed_meanwhile(exc.messages, step, held, state, withdrawal.body if withdrawal else None)
                raise _Settled("blocked", exc.status, [said], action="blocked") from None
            if exc.state_transition:
                messages = exc.messages
                if step.kind == "withdraw" and state in WITHDRAWABLE_STATES:
                    messages = [f"{'; '.join(messages)}: {_not_started_in_register(state)}"]
                raise _Settled("blocked", exc.status, messages, action="blocked") from None
            raise _Settled("failed", exc.status, exc.messages) from None
        except OutcomeUnknown:
            raise
        except UNAVAILABLE as exc:  # RateLimited: still 429 after every retry
            raise _Outage(exc) from None
        except ApiError as exc:
            raise _Settled("failed", exc.status, exc.messages) from None

    def _refused_before(self, plan: RecordPlan, record: TraineeRecord) -> tuple[str, tuple[str, ...]] | None:
        """Why a record is not sent: a trainee field's code it would send (a create sends the record's fields, an
        update its body's) is one Register refused for another record in this run, though the lists in use accept it
        (`refused_codes`): its lists changed, and it would refuse this one the same way (review210 F5). None to send it.
        """
        if not self.refused_codes:
            return None
        sending: dict[str, Any] = {}
        for step in plan.steps:
            if step.kind == "create":
                sending.update(record.data)
            elif step.kind == "update":
                sending.update(step.body or {})
        found = [
            (field, code, who)
            for (field, code), who in self.refused_codes.items()
            if text_or_none(sending.get(field)) == code
        ]
        if not found:
            return None
        codes = tuple(f"{field} '{code}'" for field, code, _who in found)
        said = " and ".join(f"{field} '{code}' (for {who})" for field, code, who in found)
        return (
            f"not sent: Register refused {said} earlier in this run, as not in its code lists, which the lists in use "
            f"({self._lists.source}) still have: Register's lists have changed since them. Run `register-batch "
            "reference pull` and `register-batch reference diff`: the record is then refused before it is sent, and "
            "the SRS or a mapping translation gives a code Register takes",
            codes,
        )

    def _compare_echo(self, sent: Mapping[str, Any], echoed: Mapping[str, Any], record: TraineeRecord) -> None:
        """Register's answer to a create or update (`echoed`, the trainee it holds now) against what was sent: the
        coded fields and degrees it holds otherwise (`_echo`, noted with the step's outcome; review210 F1, F2), and the
        disabilities it derived none from (said, not noted: told from Register's trainee on any night). No request."""
        degrees = sent.get("degrees_attributes") or []
        found = codes_not_kept(sent, echoed)
        found += created_degrees_not_kept(degrees, echoed.get("degrees") or [], self.field_key)
        disabilities = None
        compared = any(name in sent for name in DISABILITY_FIELDS)
        if compared:
            disabilities = disabilities_not_kept(record.data, echoed, self._lists)
        held = echoed.get("disability_disclosure") if compared else None
        self._echo = _Echo(found, sent_names(sent, degrees, self.field_key), disabilities, compared, held)

    @property
    def _lists(self) -> ReferenceData:
        """The code lists the run validates with (planning's), the bundled ones without any given."""
        return self.reference or load_reference()

    def _compare_degree_echo(self, sent: Mapping[str, Any], echoed: Mapping[str, Any]) -> None:
        """As `_compare_echo`, for a degree added or corrected and Register's answer (the degree it holds now)."""
        found = degree_codes_not_kept(sent, echoed, self.field_key)
        self._echo = _Echo(found, sent_names({}, [sent], self.field_key))

    def _echo_noted(self, plan: RecordPlan) -> tuple[str, dict[str, list[str] | None]] | None:
        """What the ledger keeps of the answer to the step just sent (Ledger.record's `echoed`), and the record's
        register_did_not_keep_code warnings for it, said in this run's report."""
        if self._echo is None:
            return None
        echo, self._echo = self._echo, None
        found, compared, disabilities = echo.found, echo.compared, echo.disabilities
        said = [not_kept_words(item, self._lists) for item in found]
        if disabilities is not None:
            said.append(disabilities_words(disabilities, self._lists))
        # The answer shows what Register holds now of what it compared: planning's word on those (told from the
        # listing before the write: a drop, a note made under other lists) is replaced by it, not said of a trainee
        # Register has just mended (review216 F5).
        labels = {f"degree {n.rsplit(' ', 1)[1]}" if n.startswith("degree ") else n for n in compared}
        heads = [f"{AGAIN_SAID}Register did not keep {label} '" for label in labels]
        if echo.disabilities_compared:
            heads += [DISABILITIES_SAID, AGAIN_SAID + DISABILITIES_SAID]
        planned = tuple(message for message in plan.not_kept if not message.startswith(tuple(heads)))
        plan.not_kept = tuple(dict.fromkeys((*planned, *said)))
        if plan.edited_note and found and _all_answered_before(plan, found):
            # The drift this write mended was Register not keeping the code (a ledger without the note of its answer:
            # one made before it): Register held before the write what it answered it with, so no person changed it.
            # A value Register held otherwise before (set in its service) was a person's, and stays named.
            plan.edited_note = plan.edited_unanswered = None
        # A field compared as Register answered was sent as Register holds it: its answer keeps the note as it is.
        compared = [name for name in compared if name not in plan.answered]
        mark = lists_mark(self._lists, self.field_key)
        noted = echo_digests(found, compared, self.field_key, mark)
        if echo.disabilities_compared:
            noted[DISABILITIES_NOTE] = (
                None if disabilities is None else disabilities_note(disabilities, echo.held, self.field_key, mark)
            )
        if not noted:
            return None
        return self.field_key.id, noted

    def _create(self, plan: RecordPlan, record: TraineeRecord) -> dict[str, Any]:
        """`POST /trainees`, noted in the ledger while it may still be carried out (`_unguarded_by`)."""
        assert plan.key is not None  # a record sent has a key (_execute)
        self._noting_creates_token()
        sent = self.ledger.write_going_out(
            "create", plan.key, srs_id=plan.provider_trainee_id, compared=duplicate_check_key(record.data)
        )
        return self._noted_while_out(sent, lambda: self.client.create_trainee(create_body(record.data)))

    def _sent_noted(self, plan: RecordPlan, step: Step, request: Callable[[], _Answer]) -> _Answer:
        """A degree added, corrected or deleted, a placement deleted, or a trainee's update, withdrawal or deferral,
        noted in the ledger while it is out (`_noted_while_out`) with what it sends (`_step_digest`): a later run holds
        back another such write to the trainee while this one may still be carried out (`_earlier_write_out`; review52
        F1, F3, F4, review115 F1)."""
        assert plan.key is not None  # a record sent has a key (_execute)
        compared = _step_digest(step)
        sent = self.ledger.write_going_out(step.kind, plan.key, trainee_id=plan.trainee_id, compared=compared)
        return self._noted_while_out(sent, request)

    def _noted_while_out(self, sent: int, request: Callable[[], _Answer]) -> _Answer:
        """A request noted in the ledger (`write_going_out`, before it is sent) until Register answers it: a request
        with no answer (a timeout, a lost reply, a 5xx, the process killed) stays noted, its wait from when it was last
        known unanswered, until a look-up finds it carried out (`_found_carried_out`)."""
        try:
            answer = request()
        except StoppedWaiting:  # a stop asked for while it waited for its turn: never sent
            self.ledger.write_answered(sent)
            raise
        except ApiError as exc:
            if _never_carried_out(exc):
                self.ledger.write_answered(sent)
            else:
                self.ledger.write_unanswered(sent)
                self._out = sent
            raise
        self.ledger.write_answered(sent)
        return answer

    def _sent_by_an_earlier_run(self, plan: RecordPlan, step: Step) -> bool:
        """Whether an earlier run sent this very withdrawal or deferral (its note, `sent_digest`, still unanswered:
        that run ended before the answer) which Register carried out after this run listed the trainee: the sync's own
        write, not one made in Register's service (review86 F2). Only the report is told: the note stays until its
        wait is over, as another such request may still be out (review89 F1)."""
        assert plan.key is not None  # a record sent has a key (_execute)
        sent = _step_digest(step)
        return any(
            compared == sent
            for compared, _sent_at in self.ledger.unanswered(step.kind, plan.key, trainee_id=plan.trainee_id)
        )

    def _created_by_an_earlier_run(self, plan: RecordPlan, trainee: Mapping[str, Any]) -> str | None:
        """The ledger key of an earlier run's create of the record that made the trainee of this create's 409: a
        create that run never had an answer to (its note still unanswered), which Register carried out after this run
        listed it. The trainee has the HUSID and SRS id that create sent (a trainee added in Register's service has
        neither: review89 F2; the HUSID or SRS id may have been corrected in the SRS since, and the key with the HUSID:
        review89 F3, review95 F1) and was created since it was sent. Then it is the sync's create, not a trainee
        Register had (review86 F1). Only the report is told: the notes stay until their wait is over, as another
        create of the record may still be out, and a later update must wait for it (review89 F1)."""
        made, its_srs_id = key_of(trainee.get("hesa_id")), trainee.get("provider_trainee_id")
        if plan.key is None or made is None or not its_srs_id:
            return None
        for key, sent_srs_id, sent_at in self.ledger.unanswered_creates(plan.key, plan.provider_trainee_id):
            moment = _ledger_time(sent_at)
            if key == made and sent_srs_id == its_srs_id and moment and _created_since(trainee, moment - CLOCK_SKEW):
                return key
        return None

    def _found_carried_out(self) -> None:
        """The look-up after the step's unanswered request found it carried out (`resolve`): Register cannot carry it
        out again, so no later run need wait for it (review52 F5: a placement found so held the trainee's next one
        back for 10 minutes)."""
        if self._out is not None:
            self.ledger.write_answered(self._out)
            self._out = None

    def _delete(self, plan: RecordPlan, step: Step, request: Callable[[], object], gone: str) -> None:
        """A DELETE of a degree or placement, noted while out (`_sent_noted`: a later run holds back what it could
        undo, review115 F1). Its own 404 (`gone`: "Degree(s) not found", §7.1) is what a DELETE sent again after a lost
        reply gets once the first was carried out: the step is done, and reported with the 200 a DELETE answers
        (§2.10, §2.11). Any other 404 is not: "Trainee(s) not found" is a trainee Register no longer holds for this
        token (§1.2), which the step fails on (review52 F6). Answered, the degree or placement is gone: a request
        deleting it still out, this run's or an earlier one's, can change nothing when it lands."""

        def deleted() -> None:
            try:
                request()
            except NotFound as exc:
                if gone not in exc.messages:
                    raise
                self._ended_with = 200

        self._sent_noted(plan, step, deleted)
        self.ledger.writes_settled(step.kind, _trainee_id(plan), _step_digest(step))
        self._out = None

    def _replacing(self, trainee_id: str, step: Step) -> None:
        """Before a degree that replaces one Register holds is sent, note the one to delete after it
        (`Ledger.degrees_replaced`): a run stopped in between leaves its DELETE to the next (review52 F2)."""
        if step.replaces is None:
            return
        replacement = degree_digest(step.body or {})
        self.ledger.replacing_degree(trainee_id, step.replaces, replacement)
        self.replaced.setdefault(trainee_id, {})[step.replaces] = replacement

    def _replaced(self, trainee_id: str, degree_id: str) -> None:
        """A replaced degree's DELETE was answered (200, or its own 404): nothing is left to finish."""
        if degree_id in self.replaced.get(trainee_id, {}):
            self.ledger.degree_gone(trainee_id, degree_id)
            del self.replaced[trainee_id][degree_id]

    def _unguarded_by(
        self, key: str, srs_id: str | None, match: str | None, *, creates_only: bool = False
    ) -> datetime | None:
        """Until when a create of the record that Register never answered may still be carried out, if one may and
        Register's 409 could not refuse it beside a trainee with `match` (`duplicate_check_key`): a create of the
        record now, or a trainee updated to it (one created by a resend after the unanswered create, review46 F2).
        Whatever the record's entry says since: a later create refused (429, 422) did not answer the first (review46
        F1); found by the SRS id too, as a HUSID corrected since changes the record's key (review47 F1).
        `creates_only`: a create sent unguarded (match None) is not counted, as no update could guard it."""
        out = [
            (compared, until)
            for compared, sent_at in self.ledger.unanswered("create", key, srs_id=srs_id)
            if (until := _still_out_until(sent_at)) is not None
        ]
        if creates_only:
            out = [(compared, until) for compared, until in out if compared is not None]
        unguarded = [until for compared, until in out if not a_later_create_is_refused(compared, match)]
        return max(unguarded) if unguarded else None

    def _update_would_unguard(self, key: str, plan: RecordPlan, record: TraineeRecord) -> _MayStillLand | None:
        """Why the record's update is not sent yet: a create of it that Register never answered may still be carried
        out, and the update would change what Register's 409 compares (a surname, date of birth, route or start, or
        both the first name and the email) so that it no longer refuses that create (review46 F2)."""
        if not any(step.kind == "update" for step in plan.steps):
            return None
        until = self._unguarded_by(key, plan.provider_trainee_id, duplicate_check_key(record.data), creates_only=True)
        if until is None:
            return None
        return _MayStillLand(
            until,
            "a create of this trainee sent a short while ago had no answer (a timeout, a lost reply, a run stopped "
            "while it was out), and Register may still carry it out: this record's update changes what its duplicate "
            "check compares (a surname, date of birth, route or start, or both the first name and the email), and "
            "that check would then not stop it",
            f"Run sync again after {until:%H:%M} UTC to send the update",
            f"/trainees/{plan.trainee_id}",
        )

    @contextlib.contextmanager
    def _settling_under(self, adopted: _Adopted) -> Iterator[None]:
        """The record's entry written (the body), with the entry of the earlier create that made its trainee under
        another key settled done in the same commit: a run killed between two commits left that create to no report
        (review94 F4)."""
        if adopted.under is None:
            yield
            return
        with self.ledger.together():
            self.ledger.record(adopted.under, "done", operation="create", trainee_id=adopted.trainee["trainee_id"])
            yield

    def _adopt(self, plan: RecordPlan, exc: Conflict) -> Exception:
        """A 409 on create: Register holds this trainee already; adopt it when it is unambiguously ours."""
        hesa_id = plan.hesa_id
        earlier = [
            (trainee, key)
            for trainee in exc.existing
            if trainee.get("trainee_id") and (key := self._created_by_an_earlier_run(plan, trainee))
        ]
        if len(earlier) == 1:
            # The sync's own create, carried out late; under the HUSID the record had then, if corrected since (its
            # update now sends the new one): that note's entry is this record's, not one for a record gone.
            trainee, key = earlier[0]
            if key != plan.key:  # settled with the record's own entry, in one commit (`_settling_under`)
                self.created_under.add(key)
            return _Adopted(trainee, _CONFLICT_AFTER_UNKNOWN_CREATE, under=key if key != plan.key else None)
        mine = [t for t in exc.existing if t.get("hesa_id") in (None, hesa_id)]
        if len(mine) == 1 and mine[0].get("trainee_id"):
            if mine[0].get("state") == "draft":  # §4: drafts are duplicates too; only POST submits one (§6)
                return _Settled("conflict", 409, [_a_draft(mine[0]["trainee_id"])], action="conflict")
            return _Adopted(mine[0], "409")
        ids = ", ".join(str(t.get("trainee_id")) for t in exc.existing) or "none returned"
        return _Settled(
            "conflict",
            409,
            [
                f"Register answered 409 (already in Register) with trainee(s) {ids}, none of them "
                f"unambiguously this record (hesa_id {hesa_id}): Register's duplicate rule takes them for this "
                "person (same date of birth, last name, route and start year, and first name or email). Check them "
                "in Register: if one is this person, keep one record of them in the extract, and make its HUSID the "
                "one Register holds (or correct Register's)"
            ],
            action="conflict",
        )

    def _reached(self, plan: RecordPlan, step: Step) -> bool:
        """After an unclear defer/withdraw: does Register hold the trainee as the step asked? Otherwise the step is
        sent again: Register refuses it if the trainee was withdrawn or deferred meanwhile, and `perform` says how
        (review71 M1: a deferral whose answer was lost, the trainee withdrawn by someone else, was reported done)."""
        return _held_as_sent(step, self._held(_trainee_id(plan)))

    def state_of(self, trainee_id: str) -> str | None:
        """The state Register holds the trainee in (§3.6), or None when it holds no such trainee (404)."""
        held = self._held(trainee_id)
        return None if held is None else str(held.get("state") or "")

    def _held(self, trainee_id: str) -> dict[str, Any] | None:
        """The trainee as Register holds it (§2.3), or None when it holds no such trainee (404)."""
        try:
            return self.client.get_trainee(trainee_id)
        except NotFound:
            return None

    def resolve(self, plan: RecordPlan, step: Step, record: TraineeRecord, sent_at: datetime) -> None:
        """A write with an unknown outcome: look at Register; resend only if it surely did not happen."""
        # By its place in the input, not its ledger key: that holds the HUSID, and -v prints this (review51 F3).
        log.info(
            "resolving an unknown %s outcome for record %s of %s", step.kind, plan.source.record, plan.source.input
        )
        if step.kind == "create":
            found = self._find_created(record, sent_at)
            if found is not None:
                # Register lists the trainee: this run's create, or (created before it) one with this HUSID that
                # someone added after the plan listed Register, whom the plan would have matched by HUSID.
                ours = _created_since(found, sent_at - CLOCK_SKEW)
                raise _Adopted(found, _FOUND_AFTER_UNKNOWN_CREATE if ours else "hesa_id")
            if not a_second_create_is_refused(record.data):
                # Not listed yet, but Register may still be carrying it out, and its 409 would not stop a second
                # one for this trainee: left unknown; the next run lists Register and creates it only if it is not
                # there (found by review13: a create that timed out, carried out after it was sent again).
                until = _create_wait_over(None)  # from now: never None
                assert until is not None
                raise _MayStillLand(
                    until,
                    "creating the trainee: no answer, and Register does not list it yet; not sent again in this "
                    f"run ({_why_not_refused(record.data)}, so a second request could create it twice)",
                    f"Run sync again after {until:%H:%M} UTC to finish",
                    joined=". ",
                )
            try:
                self.perform(plan, step, record)
            except _Adopted as adopted:
                # 409 to the create sent again: the unanswered create's trainee, unless Register created it before
                # that create was sent (then that create met the same 409, §4, and created no one; the look-up above
                # did not list it for the same reason: it was not written since), or an earlier run's (`_adopt`).
                ours = adopted.how == _CONFLICT_AFTER_UNKNOWN_CREATE or _created_since(
                    adopted.trainee, sent_at - CLOCK_SKEW
                )
                how = _CONFLICT_AFTER_UNKNOWN_CREATE if ours else "409"
                raise _Adopted(adopted.trainee, how, under=adopted.under) from None
            return
        elif step.kind in ("defer", "withdraw"):
            if self._reached(plan, step):
                self._found_carried_out()
                return
        elif step.kind == "add_degree":
            wanted = degree_key(step.body or {})
            if any(degree_key(d) == wanted for d in self.client.list_degrees(_trainee_id(plan))):
                self._found_carried_out()
                return
        elif step.kind == "add_placement":
            urn = (step.body or {}).get("urn")
            in_record = sum(1 for p in record.data.get("placements_attributes") or [] if p.get("urn") == urn)
            held = sum(1 for p in self.client.list_placements(_trainee_id(plan)) if p.get("urn") == urn)
            if held >= in_record:
                self._found_carried_out()
                return
            # Not there yet, but it may be still being processed, and Register has no duplicate check for
            # placements (unlike trainees, degrees and state changes): a resend could add it twice. Left unknown;
            # the runs after the wait compare the placements again and add it only if it is still missing
            # (`_earlier_placement_out`).
            until = _create_wait_over(None)  # from now: never None
            raise _MayStillLand(
                until,
                f"adding placement {urn}: no answer, and Register does not list it yet; not sent again in this run "
                "(a second request could add it twice)",
                f"Run sync again after {until:%H:%M} UTC to finish: it adds it only if Register still does not list it",
                f"/trainees/{plan.trainee_id}/placements",
                joined=". ",
            )
        self.perform(plan, step, record)

    def _find_created(self, record: TraineeRecord, sent_at: datetime) -> dict[str, Any] | None:
        """Look for a trainee created moments ago: a short `since` listing of its start cycle (§10). A cycle Register
        has no row for yet lists no one (`list_into`): the create is then sent again, and Register's 409 says whether
        it happened.

        The listing starts 15 minutes before the create was sent (clocks differ), not before now: the retries of a
        request, or a laptop suspended mid-request, can put an hour between the two, and a trainee created then would
        not be listed (the create sent again would meet Register's 409 instead, which is safe but leans on it).

        First the newest page alone: those 15 minutes of a first load hold up to 1,500 of its own creates, and the one
        sought, made a moment ago, is on it (it was on the last page of the listing oldest first). Only when it is not
        there, and the listing has more pages, is the listing read oldest first (`iter_trainees`): read newest first
        by offset, a trainee that changes while the pages are read (its TRN arriving) moves to the front, past the
        reader, and a create sent again for it is not always Register's 409 (§4 compares the start cycle of the
        submitted itt_start_date): a trainee twice (found by review9)."""
        cycle = start_cycle(record.data)
        since = sent_at - CLOCK_SKEW
        since_text = since.isoformat(timespec="seconds")
        hesa_id = record.data.get("hesa_id")

        def sought(trainees: Iterable[dict[str, Any]]) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
            """This create's trainee, if among `trainees`; else those with its HUSID changed since, in listed order."""
            created: list[dict[str, Any]] = []
            listed: list[dict[str, Any]] = []
            for trainee in trainees:
                if trainee.get("hesa_id") == hesa_id and trainee.get("trainee_id"):
                    (created if _created_since(trainee, since) else listed).append(trainee)
            return _this_create(created, record), ([] if created else listed)

        try:
            newest, meta = self.client.list_trainees(
                academic_cycle=cycle, since=since_text, sort_order="desc", per_page=self.options.per_page, page=1
            )
            found, listed = sought(newest)
            more = (meta_count(meta.get("total_pages")) or 0) > 1  # a gateway capping pages says so here
            if found is None and (len(newest) >= self.options.per_page or more):  # more may follow this page
                found, listed = sought(
                    self.client.iter_trainees(
                        academic_cycle=cycle, since=since_text, sort_order="asc", per_page=self.options.per_page
                    )
                )
            else:
                listed.reverse()  # oldest change first, as the listing oldest first gives them
        except Unprocessable as exc:
            if cycle is None or not _no_such_cycle(exc, cycle, self.as_of):
                raise
            return None
        return found or (listed[0] if listed else None)


def _this_create(created: list[dict[str, Any]], record: TraineeRecord) -> dict[str, Any] | None:
    """Of trainees with the record's HUSID created since its create was sent, the one that create made: the one
    with its last name and date of birth (sent as they are, and so held), the last created of them. Another person
    given that HUSID in Register in those minutes (a typo there) is not taken for it, nor written over (found by
    review10); with none of them this person, the create is sent again, and Register's 409 (§4) says whether it was
    carried out."""
    surname = str(record.data.get("last_name") or "").strip().casefold()
    born = record.data.get("date_of_birth")
    same = [
        trainee
        for trainee in created
        if str(trainee.get("last_name") or "").strip().casefold() == surname and trainee.get("date_of_birth") == born
    ]
    earliest = datetime.min.replace(tzinfo=UTC)
    return max(same, key=lambda trainee: listed_at(trainee.get("created_at")) or earliest, default=None)


def _a_draft(trainee_id: str) -> str:
    """Why a record whose person Register holds as a draft is not synced: the API cannot submit a draft for a TRN
    (register-api.md §6), and Register refuses a create beside it (§4). Written to, the draft stayed a draft while
    every report said done."""
    return (
        f"Register holds trainee {trainee_id} as a draft (started in Register, or from Apply), which its duplicate "
        "rule takes for this record: the API cannot submit a draft for a TRN, nor create the trainee beside it. "
        "Submit the draft in Register (the next sync then updates it from the extract), or delete it there if it is "
        "not wanted; then run the same sync again"
    )


def _trainee_id(plan: RecordPlan) -> str:
    """The trainee a step other than the create writes to: matched (Holdings keeps only trainees with an id), adopted
    after a 409 or a lost reply (only one that names its id), or created by this run (a 201 naming none is unknown)."""
    assert plan.trainee_id is not None, f"a write for {plan.key}, which has no trainee_id"
    return plan.trainee_id


def _item_id(step: Step) -> str:
    """The degree or placement an update_degree, delete_degree or delete_placement step is for (plan names it)."""
    assert step.item_id is not None, f"a {step.kind} step without the id of its degree or placement"
    return step.item_id


def _created_since(trainee: Mapping[str, Any], moment: datetime) -> bool:
    """Whether Register created `trainee` at `moment` or after (its `created_at`, §3.6). A trainee whose
    `created_at` is missing or unreadable counts as created since: of a create whose reply was lost, it is most
    likely that create's."""
    created = listed_at(trainee.get("created_at"))  # offset-less values are UTC (§2.3)
    return created is None or created >= moment


def utc_now() -> datetime:
    """The time now (a function, so a test can move this run's clock as a suspended laptop's moves)."""
    return datetime.now(UTC)


_FOUND_AFTER_UNKNOWN_CREATE = "listing after an unknown create"
_CONFLICT_AFTER_UNKNOWN_CREATE = "409 after an unknown create"


def _no_such_cycle(exc: Unprocessable, cycle: int, as_of: date) -> bool:
    """A listing's 422 that says only that Register has no such academic cycle (§2.3), for a cycle it cannot have
    yet: after next year's. Register has every cycle up to the next, so a 422 for one of them is something else gone
    wrong, and taking it as "no one listed" would plan a create for everyone: it stops the run."""
    errors = exc.body.get("errors") if isinstance(exc.body, dict) else None
    return isinstance(errors, dict) and set(errors) == {"academic_cycle"} and cycle > cycle_of(as_of) + 1


class _Adopted(Exception):
    """The trainee of a create is in Register (found after an unknown outcome, or returned by a 409)."""

    def __init__(self, trainee: dict[str, Any], how: str, *, under: str | None = None):
        self.trainee = trainee
        self.how = how
        # The ledger key of an earlier run's create that made the trainee, when not the record's (a HUSID corrected
        # since): its entry is settled with the record's, in one commit (review94 F4).
        self.under = under


class _Settled(Exception):
    """A step ended without success: failed, conflict or blocked; the record stops there."""

    def __init__(self, outcome: str, status: int | None, messages: list[str], action: str | None = None):
        self.outcome = outcome
        self.status = status
        self.messages = messages
        self.action = action


# The record's list each degree or placement write sends one of (`_placed`).
_NESTED_OF_STEP = {
    "add_degree": ("degrees_attributes", DEGREE_FIELDS),
    "update_degree": ("degrees_attributes", DEGREE_FIELDS),
    "add_placement": ("placements_attributes", PLACEMENT_FIELDS),
}
_NESTED_PLACE = re.compile(r"(degrees_attributes|placements_attributes)\[(\d+)\](?:\.(\w+))?:?")


def _placed(record: TraineeRecord, step: Step, messages: list[str]) -> list[str]:
    """Register's refusal of a degree or placement write, said of the record's degree or placement it sent:
    `degrees_attributes[2].graduation_year must be in the past …`, as validation names a degree's field. Register's
    sub-resource messages name no degree (§2.10, §7.2: no `degrees_attributes` prefix), and a record with three
    degrees left the user to guess which one was refused (review108 F4)."""
    nested = _NESTED_OF_STEP.get(step.kind)
    if nested is None or not isinstance(step.body, dict):
        return messages
    key, fields = nested
    sent = step.body
    place = next(
        (
            f"{key}[{n}]"
            for n, item in enumerate(record.data.get(key) or ())
            if all(sent.get(field) == value for field, value in item.items() if value is not None)
        ),
        None,
    )
    if place is None:
        return messages
    return [
        f"{place}.{message}" if message.split(" ", 1)[0] in fields else f"{place}: {message}" for message in messages
    ]


# Register's refusal of a code its list does not have (register-api.md §7: `validates :x, inclusion:`), as its
# message begins: the field (a degree's as `_placed` names it) and the code.
_NOT_LISTED = re.compile(r"((?:[a-z_]+\[[0-9]+\]\.)?[a-z_0-9]+) has invalid reference data value of '([^']*)'")


def _stale_fields(stale: tuple[str, ...]) -> list[tuple[str, str]]:
    """The trainee fields and codes of `stale_codes`' list (`nationality 'IT'`); a degree's are left out."""
    found = []
    for item in stale:
        field, _space, quoted = item.partition(" ")
        if "[" not in field:
            found.append((field, quoted.strip("'")))
    return found


def _who(record: TraineeRecord) -> str:
    """A record as a message of another record's names it: its SRS id, else its HUSID, else its place."""
    data = record.data
    if data.get("provider_trainee_id"):
        return f"SRS id {printable(str(data['provider_trainee_id']))}"
    if data.get("hesa_id"):
        return f"HUSID {printable(str(data['hesa_id']))}"
    return f"record {record.source.record} of {record.source.input}"


def stale_codes(messages: list[str], reference: ReferenceData) -> tuple[list[str], tuple[str, ...]]:
    """Register's 422 messages, each refusal of a code the lists in use accept (`reference`: the run's) told apart: the
    record passed validation with it, so Register's lists changed since those (a code retired in the middle of a
    year), and the fix is not in the record but in the lists (review210 F5). Those messages end by saying so; and the
    codes, as `field 'code'`, for the summary line."""
    found: list[str] = []
    said = []
    for message in messages:
        here = []
        for match in _NOT_LISTED.finditer(message):
            field, code = match.groups()
            listed = list_of_field(field)
            if listed is not None and listed in reference.fields and code in reference.codes(listed):
                here.append(f"{field} '{code}'")
        if here:
            message += (
                f" ({' and '.join(here)} {'is' if len(here) == 1 else 'are'} in the code lists in use, "
                f"{reference.source}: Register's lists have changed since them. Run `register-batch reference pull` "
                "and `register-batch reference diff`: the record is then refused before it is sent, and the SRS or a "
                "mapping translation gives a code Register takes)"
            )
            found += here
        said.append(message)
    return said, tuple(dict.fromkeys(found))


@dataclass
class _Echo:
    """What the answer to the step just sent held of the coded values it sent (SyncRun._compare_echo): the codes
    Register did not keep, the names of those compared, the disabilities it derived none from (`disabilities`,
    where they were sent: `disabilities_compared`), and the disclosure it derived (`held`)."""

    found: list[NotKept]
    compared: list[str]
    disabilities: list[str] | None = None
    disabilities_compared: bool = False
    held: object = None


def _all_answered_before(plan: RecordPlan, found: list[NotKept]) -> bool:
    """Whether each field of the drift report the update put back over an edit (`plan.edited`: `nationality`,
    `degrees[0].institution`) is one of the codes Register did not keep (`found`), and Register held before the write
    (the drift's `register` side) what it answered the write with: its own handling of the code, not a person's
    change. A degree's by the degree the answer names (by its values, as `plan.degree_notes` names the record's): one
    degree's answer is no answer for another's drift (review219 F1)."""
    before = {change["field"]: _held_text(change.get("register")) for change in plan.changes}
    for name in plan.edited:
        noted = noted_name(plan, name)
        held = [item.held for item in found if noted is not None and item.name == noted]
        if name not in before or before[name] not in held:
            return False
    return True


def _held_text(value: object) -> str | None:
    """A drift side as NotKept.held gives it: None for none, else the code as text."""
    return None if value is None or value == "" else str(value)


def _named_field(result: RecordResult, code: str) -> str | None:
    """The field an issue of the sync's is about where its message does not begin with it: the one field an update
    puts back over a change made in Register (sync_overwrites_register_edit), when there is one."""
    edited = result.plan.edited
    return edited[0] if code == "sync_overwrites_register_edit" and len(edited) == 1 else None


_NOT_KEPT_SAYS = re.compile(r"(?:Sent once more: )?Register (?:did not keep|files) (degree )?([a-z_0-9]+) '([^',]*)")


def _not_kept_field(record: TraineeRecord, code: str, message: str) -> str | None:
    """The record's field a register_did_not_keep_code warning is of, for the issue's field and value columns: the
    trainee field, the degree's (`degrees_attributes[1].institution`, the first of the record's degrees with the code),
    or the first disability key holding the first code named."""
    said = _NOT_KEPT_SAYS.match(message) if code == "register_did_not_keep_code" else None
    if said is None:
        return None
    degree, field, value = said.groups()
    if degree:
        for n, item in enumerate(record.data.get("degrees_attributes") or ()):
            if str(item.get(field) or "") == value:
                return f"degrees_attributes[{n}].{field}"
        return "degrees_attributes"
    if field == "disability":
        return next((key for key in DISABILITY_FIELDS if record.data.get(key) == value), None)
    return field


def _api_issue(
    record: TraineeRecord, code: str, message: str, severity: Severity = Severity.ERROR, *, named: str | None = None
) -> Issue:
    first = named or (message.split(" ", 1)[0] if message else None)
    known = first if first and (first in record.data or first.endswith("_attributes")) else None
    # The value the record sent for the field Register names, as validation's issues give theirs: the report said
    # "value blank" beside a start date the extract has. A list (degrees, placements) is not one value.
    value = record.data.get(known) if known else None
    if first and (nested := _NESTED_PLACE.fullmatch(first)):  # a degree or placement write refused (`_placed`)
        key, index, field = nested.groups()
        items = record.data.get(key) or ()
        item = items[int(index)] if int(index) < len(items) else {}
        known = f"{key}[{index}]" + (f".{field}" if field else "")
        value = item.get(field) if field else None
    return Issue(
        input=record.source.input,
        record=record.source.record,
        line=record.source.line,
        row=record.source.row,
        provider_trainee_id=record.data.get("provider_trainee_id"),
        hesa_id=record.data.get("hesa_id"),
        field=known,
        value=str(value) if isinstance(value, (str, int)) else None,
        code=code,
        severity=severity,
        message=message,
    )


def sync_files(
    inputs: Iterable[StrPath],
    options: SyncOptions,
    *,
    progress: Progress = SILENT,
    client: RegisterClient | None = None,
    held_lock: StateDirLock | None = None,
    stop: threading.Event | None = None,
    mapping: MappingConfig | None = None,
    handle_signals: bool | None = None,
) -> SyncResult:
    """Make Register hold exactly the valid trainees of the inputs; write the results report.

    `held_lock` is the state dir's lock when the caller holds it already (`open_target`'s, for the embedded
    emulator, whose data is in the state dir); otherwise the run takes it once the inputs are checked.

    `stop`, set from any thread, stops the run as Ctrl-C or SIGTERM does on the main thread (StopSignals): at the
    next safe point, with `Interrupted` (`by="stop"`) and a report; the next run resumes. A service runs syncs in a
    worker thread, where no signal handler can be installed (review62 F2). A signal once the run's outcome is
    decided (its report written) changes nothing: the handlers the run installs are given back as it returns.

    `handle_signals` says whether the run installs its own SIGINT, SIGTERM and SIGHUP handlers on the main thread
    while it talks to Register (the command line passes True). None, the default, installs them all when no `stop`
    is given; with a `stop`, only for a signal whose handler is still Python's default: a caller that gives its own
    stop and handles a signal owns it (a daemon's SIGHUP reopens its logs, its SIGTERM handler shuts it down, and
    sets `stop`: review182 F1), while a script that handles none still stops cleanly, with a report, on SIGTERM
    (review187 F1).

    `mapping` is `load_mapping(options.mapping_files)` when the caller has loaded it already (the command line, for
    its look at the inputs before the run): the files are then not read again, which a pipe (`--mapping <(...)`)
    could not be; None loads them."""
    _check_sync_arguments(options, progress, stop, client, mapping)
    # By default, with the caller's own stop, only over the handlers it left at Python's default (review187 F1).
    install = True if handle_signals is None else checked_flag("handle_signals", handle_signals)
    stops = StopSignals(stop, install=install, over_defaults_only=handle_signals is None and stop is not None)
    try:
        # Each record the library logs meanwhile names the run: a service's handler routes it to its provider's log
        # (register_batch_run; review225 F4).
        with logged_run(str(options.state_dir), options.ukprn, resolve_target(options.target)) as logged:
            return _sync(inputs, options, progress, client, held_lock, stops, mapping, logged)
    finally:
        stops.give_back()  # the very last thing: a signal before it meets `stops.decided` (review60 F2)


def _an_emulator_judges_as_of(options: SyncOptions) -> bool:
    """Whether the target judges dates as of the run's `as_of`: the embedded emulator (open_target starts it with
    it), or one on this machine, started with its own --as-of. Register itself judges as of today, in UTC."""
    return options.embedded or is_loopback(urlsplit(resolve_target(options.target)).hostname)


def register_day(options: SyncOptions) -> date:
    """The day the target applies a withdrawal or deferral sent now, which one dated after it waits for (review214
    F1): Register's is today in UTC whatever `--as-of` says (register-api.md §1.4, §3.4), and it withdraws or defers
    the trainee at once and tells TRS (§2.7 step 3, §2.8), which the API cannot undo (§2.12). So against Register, a
    run as of a later day (a rehearsal of a night ahead, a script that pins the date) holds them as of today, and a
    dry run plans what the real run would send; a run as of an earlier day holds as of it, which only sends later.
    An emulator that judges as of `as_of` applies them as of it."""
    as_of = as_of_or_today(options.as_of)
    return as_of if _an_emulator_judges_as_of(options) else min(as_of, as_of_or_today(None))


def _judged_as_of_another_day(options: SyncOptions) -> str | None:
    """What to say when the run judges dates as of another day than Register will: Register judges them as of today
    in UTC (register-api.md §1.4, §3.4), whatever `as_of` says, so a dry run's "would create" may be a 422, and a
    record held back as invalid one Register would take (review156 F3). Nothing for the embedded emulator, which
    judges as of the run's `as_of` (open_target), nor for an emulator on this machine, started with its own
    --as-of. A later day also says withdrawals and deferrals dated up to it are held until their day all the same
    (`register_day`)."""
    if options.as_of is None or _an_emulator_judges_as_of(options):
        return None
    today = as_of_or_today(None)
    if options.as_of == today:
        return None
    held = (
        "; withdrawals and deferrals dated after today are still held until their day, as Register would apply them "
        "at once"
        if options.as_of > today
        else ""
    )
    return (
        f"this run judges dates as of {options.as_of}, not today, but Register judges them as of today ({today}, "
        f"UTC): records valid as of {options.as_of} may be refused, and records held back here as invalid may be "
        f"ones Register would take{held}"
    )


@temporary_space()
def _sync(
    inputs: Iterable[StrPath],
    options: SyncOptions,
    progress: Progress,
    client: RegisterClient | None,
    held_lock: StateDirLock | None,
    stops: StopSignals,
    mapping: MappingConfig | None,
    logged: LoggedRun,
) -> SyncResult:
    """`sync_files`, its arguments checked; `_run` installs `stops`, and `sync_files` gives them back. `logged` is
    the run the library's log records name, given its ledger once opened."""
    inputs = input_paths(inputs)
    # Before anything is sent: a sync must be able to say what it did.
    check_report_dir(options.report_dir, [*inputs, *options.mapping_files])
    # What the ledger is bound to: the service, however its URL is written (`sandbox`, a trailing slash, the API's
    # own URL), as the command line binds it. A URL that cannot be used raises here, before the state dir is bound.
    identity = options.target_identity or resolve_target(options.target)
    if not (client.token if client is not None else options.token):
        # Register answers nothing without one: said now, as the command line says it, not as the first listing's
        # 401 once the whole extract is read (or not at all, for an extract with no valid record to list Register for).
        raise ConfigError.naming(
            "no API token for {root}: give one as {token} (Register refuses every request without one); "
            "nothing was sent",
            said={"token": "SyncOptions(token=...)"},
            root=resolve_target(options.target),
        )
    if (note := _judged_as_of_another_day(options)) is not None:
        log.warning("%s", note)
    checker = Checker(
        fmt=options.fmt,
        mapping=mapping or load_mapping(options.mapping_files),
        # The lists given, else those `reference pull` saved in the state dir, as the command line reads them.
        reference=load_reference(options.api_version, options.reference_path or pulled_lists(options.state_dir)),
        as_of=options.as_of,
        ukprn=options.ukprn,
    )
    # Why the budget is not shared, if it is not: said with where the provider lock went, in one line (review60 F1),
    # or as it was on the way out of a run that takes no lock.
    budget_notes: list[str] = []
    # Closed on every way out (an unusable input, a state dir in use, a spool refused): a long-running caller must not
    # collect them.
    with contextlib.ExitStack() as cleanup:
        cleanup.callback(say_budget_notes, budget_notes)
        cleanup.enter_context(checker)
        report = cleanup.enter_context(
            ReportBuilder.judging(checker, api_version=options.api_version, command="sync", started=options.started)
        )
        if client is None:
            # Before anything is read or bound: a token unfit for a header, or bound for plain http:// to another
            # machine, is refused now, not after the ledger has recorded the target.
            with held_budget_notes(budget_notes):
                limiter = RateLimiter(options.rate[0], options.rate[1], shared_file=options.shared_rate_file)
                client = RegisterClient(
                    options.target,
                    options.token,
                    limiter=limiter,
                    api_version=options.api_version,
                    timeout=options.timeout,
                )
            cleanup.callback(client.close)
            if options.dry_run:  # no provider lock to say them with
                say_budget_notes(budget_notes)
        # One run at a time through a client (a caller's, lent to runs in several threads), from before the extract
        # is read: a second is refused (ClientInUse) before it reads or sends anything, and so is a caller's client
        # that is closed, or of another service or API version than the options' (the ledger's and report's).
        cleanup.enter_context(client.lent_to_a_run(options.target, options.api_version))
        task = progress.task("Validating", unit="records")
        # Each record on disk once validated, read back when it is planned, sent or reported (sync/records.py).
        records = cleanup.enter_context(contextlib.closing(RecordSpool()))
        # Each record's issues for its result (RecordResult.issues), unless the caller keeps none (keep_issues): the
        # Issue objects validation made, kept rather than copied (the report spools them as rows); the one empty
        # tuple for each record that has none.
        issues: list[tuple[Issue, ...]] | None = [] if options.keep_issues else None
        for record in checker.records(inputs):
            if stops.event is not None and stops.event.is_set():
                raise _stopped_reading(stops, len(records))
            report.add_record(record)
            records.append(record)
            if issues is not None:
                issues.append(tuple(record.issues))
            task.advance()
        task.close()
        records.widen = checker.widener()
        records.initiative_tags = initiative_tags(checker.mapping)
        batch_issues = checker.batch_issues()
        report.add_batch_issues(batch_issues if issues is None else _kept_for_results(batch_issues, issues))
        report.finish(checker.finish_inputs())
        if (mismatch := checker.providers.none_of_the_run()) is not None:
            raise mismatch  # a wrong setting or file, told before the lock, the ledger or any request

        if held_lock is not None and not held_lock.holds(options.state_dir):
            raise ConfigError.naming(
                "{held_lock} is not the lock of the state dir {state_dir}: give the lock held on that state dir, or "
                "none (the run then takes it); nothing was sent",
                state_dir=printable(str(options.state_dir)),
            )
        with contextlib.ExitStack() as locks:
            if held_lock is None:
                locks.enter_context(StateDirLock(Path(options.state_dir)))
            if not options.dry_run and client.token and (lock := _provider_lock(client, options, budget_notes)):
                locks.enter_context(lock)
            ledger = Ledger(Path(options.state_dir), identity)
            logged.ledger = ledger  # its run_id, once started, on each record from here on
            try:
                providers = checker.providers
                if options.stand_in is not None and (records_ukprn := providers.sole_provider()):
                    options.stand_in(records_ukprn)
                with stops.in_force():
                    return _run(
                        options,
                        records,
                        report,
                        client,
                        ledger,
                        progress,
                        issues,
                        providers.moved(),
                        providers.sole_provider(),
                        stops,
                        checker.reference,
                    )
            except KeyboardInterrupt as stop:  # a second Ctrl-C or SIGTERM (_Stop): interrupted, said in words
                ledger.stop_run(stops.ended_by(stop), status="interrupted")
                raise
            except BaseException as exc:
                ledger.stop_run(f"{type(exc).__name__}: {exc}")
                if isinstance(exc, RegisterBatchError) and ledger.run_id is not None:
                    exc.run_id = ledger.run_id  # its line names the ledger's row (review208 F6)
                raise
            finally:
                ledger.close()


def _stopped_reading(stops: StopSignals, read: int) -> Interrupted:
    """The caller's stop, seen between two records of the extract being read: it takes effect at once rather than once
    the whole extract is read and validated (a minute for a large one, past a service's grace period; review182 F7).
    Nothing was sent, and no state dir nor report written: `result` is None, and the next run does it all."""
    _stopped(stops)
    return Interrupted(
        f"stopped while the records were read ({counted(read, 'record')} read): nothing was sent and no report "
        "written; run the same sync again",
        by="stop",
    )


def _provider_lock(client: RegisterClient, options: SyncOptions, notes: list[str]) -> ProviderLock | None:
    """The lock that keeps another state dir's sync from writing for this provider at once (ledger.py ProviderLock):
    in the shared budget's folder, or, when the budget was meant to be shared but its folder cannot be used (a
    missing or read-only home, an unusable REGISTER_BATCH_RATE_DIR), in `fallback_lock_folder`, said in one line
    with the budget's own warning (`notes`, which this takes). None where no budget is meant to be shared: with
    REGISTER_BATCH_RATE_DIR=off, and towards the emulator on this machine when it names no folder (security.md)."""
    limiter, token = client.limiter, client.token
    assert token is not None
    if limiter.shared_file is not None:
        folder: Path | None = limiter.shared_file.parent
    elif notes or limiter.unshared or budget_unplaced(client.host, loopback=is_loopback(client.host)):
        folder = None
    else:
        return None
    note = "; ".join(notes) if folder is None else None
    if note is None:
        say_budget_notes(notes)  # its budget shared after all (the default file, past `shared_rate_file`'s)
    notes.clear()
    return ProviderLock(
        folder,
        client.root,
        token.reveal(),
        options.state_dir,
        accounts=limiter.shared_by_accounts,
        fallback=fallback_lock_folder(),
        note=note,
        config_file=options.config_file,
    )


def _check_sync_arguments(options: object, progress: object, stop: object, client: object, mapping: object) -> None:
    """`sync_files`' own arguments, refused with a ConfigError before anything is read: a dict of settings in place
    of `SyncOptions` was an AttributeError, a None `progress` one once the records were read (review62 F5)."""
    if not isinstance(options, SyncOptions):
        raise ConfigError.naming(
            "{options} must be a register_batch.sync.SyncOptions, not {value}", value=type(options).__name__
        )
    checked_kind("mapping", mapping, MappingConfig, "register_batch.mapping.load_mapping()")
    # The files the reports name and the report dir is checked against are the options': a mapping loaded from
    # others would judge the records by files the report does not name.
    if isinstance(mapping, MappingConfig) and mapping.files != (named := [str(path) for path in options.mapping_files]):
        raise ConfigError.naming(
            "{mapping} was loaded from {files}, but {mapping_files} names {named}: give sync_files the mapping loaded "
            "from the options' {mapping_files} (load_mapping(options.mapping_files)), or none",
            files=mapping.files,
            named=named,
        )
    checked_progress(progress)
    if client is not None:
        checked_client(client)
    if stop is not None and not isinstance(stop, threading.Event):
        raise ConfigError.naming("{stop} must be a threading.Event, not {value}", value=type(stop).__name__)


@dataclass(slots=True)
class _Planned:
    """What a run knows before it writes, filled in as it is learnt, so that a run stopped part-way reports what it
    had: every record's plan (none until all are planned: a listing that fails leaves nothing planned, nothing
    written), the trainees Register holds that no record matched, and the writes an earlier run never had answered
    for records this extract lacks (`orphans`), with what Register shows of each (`unanswered`)."""

    results: list[RecordResult] = field(default_factory=list)
    unmatched: list[ListedTrainee] = field(default_factory=list)
    orphans: list[Entry] = field(default_factory=list)
    unanswered: list[dict[str, Any]] = field(default_factory=list)
    keep: list[tuple[str, int]] = field(default_factory=list)  # creates known from an entry only (_note_earlier_writes)
    # Orphans' keys whose create a record of the extract names (`_claimed_by_records`): settled as orphans are, but
    # not reported as writes for records the extract lacks.
    claimed: set[str] = field(default_factory=set)
    # An earlier run's unanswered update, degree, placement or state write under a key no record has, to the trainee
    # one record of the extract matched (its HUSID corrected since, `_moved_writes`): that record's, not one for a
    # record the extract lacks (review115 F2).
    moved: list[Entry] = field(default_factory=list)
    # The trainees Register lists in the cycles tonight's extract lacks that the last run's had (`_of_cycles_lacked`),
    # that no record matched: listed in not_in_extract with the others; those this state dir synced before, and in
    # training, are counted as no longer sent.
    lacked: list[ListedTrainee] = field(default_factory=list)


def _kept_for_results(
    pairs: Iterable[tuple[int, Issue]], issues: list[tuple[Issue, ...]]
) -> Iterator[tuple[int, Issue]]:
    """The issues found across records (`Checker.batch_issues`) as they go to the report, each also added to its
    record's (`issues`, by batch index), after its own."""
    for index, issue in pairs:
        issues[index] += (issue,)
        yield index, issue


def _run(
    options: SyncOptions,
    records: RecordSpool,
    report: ReportBuilder,
    client: RegisterClient,
    ledger: Ledger,
    progress: Progress,
    issues: list[tuple[Issue, ...]] | None,
    moved: dict[str, tuple[str, int]] | None,
    implied: str | None,
    stops: StopSignals,
    reference: ReferenceData | None = None,
) -> SyncResult:
    run = SyncRun(options, client, ledger, progress, moved, implied, stops=stops, reference=reference)
    # A Student without its initiative tags says "none" of one the SRS gave when last synced (review202 F1): as the
    # ledger says before anything is written, for every read of a record from here on.
    records.widen = said_by_ledger(
        given_when_synced(ledger, run.field_key), records.widen, records.tagged, records.initiative_tags
    )
    # What earlier real runs were given, read before this run's row is added (review208 F1, F4)
    run.earlier_runs = ledger.runs_given()
    digests = [info.sha256 for info in report.inputs if info.sha256]
    cycles = {int(year) for info in report.inputs for year in info.cycles}
    # the report's start and the ledger's, one
    ledger.start_run(dry_run=options.dry_run, started=report.started, inputs=(digests, cycles))
    run.old_inputs = _old_inputs(run.earlier_runs, digests, [info.path for info in report.inputs])
    log.info("Settings of ledger run %s: %s", ledger.run_id, settings_words(run_settings(options)))
    planned = _Planned()
    why: dict[str, Any] | None = None  # why the run stopped part-way: report.json's sync.stopped
    refused: Unauthorized | None = None
    started = time.monotonic()
    # The run's stop, for this run only: a client lent by the caller gets its own `stopping` back on every way out,
    # or its later calls would stop waiting for the budget (StoppedWaiting) once this run had been stopped.
    lent = client.stopping
    client.stopping = lambda: stops.requested
    with contextlib.ExitStack() as restore:
        restore.callback(setattr, client, "stopping", lent)
        try:
            _plan_run(run, records, report, planned)
            if options.dry_run:
                for result in planned.results:
                    result.outcome = _dry_run_outcome(result.plan)
                _foresee_waits(run, records, planned.results)
            else:
                _settle_unsent(ledger, planned)
                _write_all(run, records, planned.results, stops)
        except (KeyboardInterrupt, StoppedWaiting):  # and _Stop; StoppedWaiting: a listing's wait cut short by it
            why = _stopped(stops)
            _account_unplanned(planned, records, report)
        except _STOPS_THE_RUN as exc:
            error = exc.error if isinstance(exc, _Outage) else exc
            if stops.requested:  # a request cut short by the stop (not retried), not an outage
                why = _stopped(stops)
                _account_unplanned(planned, records, report)
            elif not planned.results:  # the listing failed: nothing was planned or written, nothing to resume
                raise _listing_failed(error) from None
            else:
                # 403: it answered; a proxy's refusal: Register was never asked (review103 F5)
                answering = isinstance(error, UNAVAILABLE) and not isinstance(error, Forbidden | ProxyRefused)
                what = "stopped answering" if answering else "refused"
                if isinstance(error, ProxyRefused):
                    what = "could not be reached"
                why = {"by": "register", "message": f"Register {what} ({error})"}
        except Unauthorized as exc:
            # The token was refused (revoked mid-run, or wrong): stop at once, but report what was done.
            if not planned.results or all(r.outcome == "pending" for r in planned.results):
                raise
            refused = exc
            why = {"by": "token", "message": str(exc)}
        elapsed = time.monotonic() - started
        stops.report_begins()
        try:  # still under `stops`: a stop while the report is written waits for it (a second one does not)
            return _finish(run, report, records, planned, why, elapsed, issues)
        except Interrupted as stopped:
            if refused is not None:
                # Refused part-way (a token revoked or expired mid-run): the line says what was done and where the
                # report is, not only that the token was refused (exit 2 says "nothing was sent" otherwise).
                refused.result = stopped.result
                raise refused.followed_by(stopped) from None
            if why is not None and why["by"] == "register":
                raise Interrupted(why["message"], result=stopped.result, by="register").followed_by(stopped) from None
            raise


@dataclass(frozen=True)
class _OldInputs:
    """Tonight's inputs are byte for byte those of earlier real runs (`same`, oldest first), and later runs were given
    a different extract, of whatever academic cycles (`newer`, by id): an old extract picked up again, if tonight's
    run puts back what one of those synced (`_note_put_back`)."""

    digest: str  # tonight's inputs' first SHA-256, as said
    names: tuple[str, ...]  # tonight's inputs, as given
    same: tuple[RunInputs, ...]
    newer: dict[int, RunInputs]


def _old_inputs(earlier: list[RunInputs], digests: list[str], names: list[str]) -> _OldInputs | None:
    """Whether tonight's inputs are byte for byte those of an earlier real run that a later real run, of any end, was
    given a different extract after (review208 F1): a copy of an old extract picked up again (the export job writing
    to another folder, an archive copied back, a backup restored). Not one whose files were all among tonight's or
    had all of tonight's among its own (`sync a b`, `sync a`, `sync a b`: nothing of tonight's is older), nor one
    given back files first synced before tonight's were (`a`, `b`, `a`, `b`: the last `b` is not old). A later run
    of other academic cycles counts too (review227 F1): across the rollover a trainee restarting after deferral is in
    last year's file and in the new cycle's, and last year's file again moves the trainee back. Whether anything is
    put back is told once the records are planned (`_note_put_back`, by the record's last writer): a rerun, two
    cohorts or two cycles' extracts synced in turn (no record in both), a later run that stopped before writing, put
    nothing back, and are not named."""
    tonight = tuple(sorted(set(digests)))
    known = [r for r in earlier if r.known]
    same = tuple(r for r in known if r.digests == tonight)
    if not tonight or not same:
        return None
    # "Newer" by the order files were first seen in (review230 F1): a later run given back a file synced before this
    # one's first run (last year's file again, then the right one put back) was given an older file, not a newer one.
    first: dict[tuple[str, ...], int] = {}
    for r in known:
        first.setdefault(r.digests, r.run_id)
    newer = {
        r.run_id: r
        for r in known
        if r.run_id > same[0].run_id
        and first[r.digests] > same[0].run_id
        and not set(tonight) <= set(r.digests)
        and not set(r.digests) <= set(tonight)
    }
    return _OldInputs(tonight[0], tuple(names), same, newer) if newer else None


# The planned writes that put a record's values back over another's: an update, and a withdrawal or deferral (with
# the update it may carry).
_PUTS_BACK = ("update", "withdraw", "defer")


def _note_put_back(run: SyncRun, results: list[RecordResult]) -> None:
    """Before anything is written, the records of an old extract given again (`run.old_inputs`) whose planned write
    puts back what a later run given a different extract synced: the ledger's entry's payload was written by that run
    (`Ledger.payload_writer`; a run that stopped before reaching the record, or a cohort's extract without it, left it
    as it was), and what the record says tonight is not what it said then (an update for a change made in Register's
    service since is no rollback). Read for those writes only (a night's few)."""
    old = run.old_inputs
    if old is None:
        return
    for index, result in enumerate(results):
        plan = result.plan
        if plan.action not in _PUTS_BACK or plan.key is None:
            continue
        entry = run.ledger.get(plan.key)
        if entry is None or entry.payload_hash == plan.payload_hash:
            continue
        # The run that wrote what is put back, not a later rerun that found it unchanged (review230 F3)
        writer = run.ledger.payload_writer(entry)
        if writer in old.newer:
            run.put_back.append((index, writer))


def _seen_before(run: SyncRun, results: list[RecordResult]) -> str | None:
    """sync_extract_seen_before's words (review208 F1), for a run given an old extract whose writes put back what a
    later run's extract synced (`_note_put_back`), worded by what happened: sent, planned and not sent (the run
    stopped or Register refused them), or in a dry run what a real run would do. Begins with words, never with the
    file's name, which the summary line must not capitalise (`incoming/…` is not `Incoming/…`)."""
    old = run.old_inputs
    if old is None or not run.put_back:
        return None
    # The later runs whose writes go back, each named (review227 F1: run 3's corrections and run 4's new-cycle dates
    # put back by one file were counted as run 4's), and the run of this file's before the first of them.
    runs = sorted({run_id for _index, run_id in run.put_back})
    since = old.newer[runs[-1]]
    then = [r for r in old.same if r.run_id < runs[0]][-1]
    what = f"The extract {printable(old.names[0])} is" if len(old.names) == 1 else "These inputs are"
    planned = len(run.put_back)
    sent = sum(1 for index, _run_id in run.put_back if results[index].landed)
    if len(runs) == 1:
        by, newer = f"run {since.run_id}", f"synced a different one since, on {since.started_at[:10]}"
        back = f"back in {{}} {by} had synced from the newer one (the SRS's own corrections, if it was)"
    else:
        by = f"runs {', '.join(str(r) for r in runs[:-1])} and {runs[-1]}"
        newer = f"synced different ones since, the last on {since.started_at[:10]}"
        back = f"back in {{}} {by} had synced from the newer ones (the SRS's own corrections, if they were)"
    if run.options.dry_run:
        did = f"A real run now would put this file's values {back.format(counted(planned, 'record'))}"
    elif sent:
        did = f"This run put this file's values {back.format(counted(sent, 'record'))}"
        if sent < planned:
            did += f", and did not send {planned - sent} more such {'update' if planned - sent == 1 else 'updates'}"
    else:
        did = (
            f"This run was to put this file's values {back.format(counted(planned, 'record'))}, and sent none of "
            f"{'that update' if planned == 1 else 'those updates'}"
        )
    return (
        f"{what} byte for byte the extract run {then.run_id} synced on {then.started_at[:10]} (SHA-256 "
        f"{old.digest[:12]}…), and {by} {newer}: is this an old file? {did}: check the folder the job reads and the "
        "SRS export, and if the newer extract is right, put it in place and run the sync again"
    )


def _run_warnings(
    run: SyncRun, report: ReportBuilder, results: list[RecordResult], not_sent: int, lacked: int
) -> list[dict[str, Any]]:
    """report.json's sync.run_warnings: what the night as a whole should tell people, each with its code, count and
    words (review208): an old extract given again whose writes put back what a newer one synced (F1), trainees
    created whose course had ended before the as-of date's academic year (another year's extract, F2), and the
    current trainees this state dir synced before that tonight's extract lacks (F4): of its cycles (`not_sent`: a file
    cut short at a row's end, a filter changed), and of a cycle the last run's extract had and tonight's has no record
    of (`lacked`: `_of_cycles_lacked`), with tonight's record count and the last real run's; and first, a state dir
    with no ledger for a Register that holds trainees already (sync_state_dir_new, review223 F2: a job given another
    state dir than its earlier syncs'). Each message begins with words or a figure, as the summary line gives it."""
    dry_run = run.options.dry_run
    found: list[dict[str, Any]] = []
    if run.no_ledger is not None:
        held, words = run.no_ledger
        found.append({"code": STATE_DIR_NEW, "count": held, "message": words})
    if seen := _seen_before(run, results):
        found.append({"code": EXTRACT_SEEN_BEFORE, "count": 1, "message": seen})
    if run.unmatched_account is not None:  # a dry run a real run would stop (review217 F1)
        creates, words = run.unmatched_account
        found.append({"code": ACCOUNT_UNMATCHED, "count": creates, "message": words})
    if ended := sum(1 for r in results if any(code == CREATED_COURSE_ENDED for code, _ in r.warnings())):
        current = cycle_of(run.as_of)
        cycles = sorted({int(year) for info in report.inputs for year in info.cycles})
        other = (
            f"; no record of the extract starts in {cycle_label(current)}, the as-of date's academic cycle (they "
            f"start in {', '.join(cycle_label(year) for year in cycles)})"
            if cycles and current not in cycles
            else ""
        )
        them, these = ("it", "the trainee") if ended == 1 else ("them", f"these {ended} trainees")
        found.append(
            {
                "code": CREATED_COURSE_ENDED,
                "count": ended,
                "message": f"{counted(ended, 'trainee')} {'would be created' if dry_run else 'created'} whose "
                f"course had ended before {ended_long_before(run.as_of).isoformat()} (itt_end_date), more than an "
                f"academic year before the as-of date {run.as_of.isoformat()}{other}: is the extract another "
                "academic year's? "
                + (
                    f"A real run sends {them} as the extract says: correct the SRS export first if it is the wrong "
                    "year's"
                    if dry_run
                    else "Sent as the extract says (sync refuses no record for its dates): if the extract was the "
                    f"wrong year's, correct the SRS export and ask Register's support to delete {these} (results.csv "
                    f"lists {them}, warning {CREATED_COURSE_ENDED}); Register's API cannot delete a trainee"
                ),
            }
        )
    if not_sent or lacked:
        last = next((r for r in reversed(run.earlier_runs) if r.records is not None), None)
        extract = "this extract" if dry_run else "tonight's extract"
        here = "in it" if dry_run else "tonight"
        count = not_sent + lacked
        tonight = f"{len(results):,} {'record' if len(results) == 1 else 'records'} {here}"
        then = f", {last.records:,} in the last run, run {last.run_id}" if last is not None else ""
        of_cycles = ""
        if lacked:
            lacking = ", ".join(cycle_label(year) for year in sorted(run.cycles_lacked))
            who = "it is" if count == 1 else "all of them are" if lacked == count else f"{lacked} of them are"
            export = (
                f"register-batch export --academic-cycle {min(run.cycles_lacked)}"
                if len(run.cycles_lacked) == 1
                else "register-batch export --academic-cycle, once for each,"
            )
            # Listed only the first night: the next night's last run has no record of the cycle either (review227 F2)
            of_cycles = (
                f"; {who} of {lacking}, which run {run.lacked_since} synced records of and {extract} has none of "
                f"(not_in_extract.csv lists {'it' if count == 1 else 'them'}, with {lacking}'s other trainees, on "
                f"this first run without {'it' if len(run.cycles_lacked) == 1 else 'them'} only: {export} lists "
                f"{'it' if count == 1 else 'them'} after)"
            )
        found.append(
            {
                "code": EXTRACT_LACKS_SYNCED,
                "count": count,
                "message": f"{counted(count, 'trainee')} this state dir synced before "
                f"{'is' if count == 1 else 'are'} not in {extract} ({tonight}{then}){of_cycles}: check the SRS "
                "export (a file cut short, a filter changed, a cycle left out)"
                + ("; not_in_extract.csv lists them" if not lacked else ""),
                "records": len(results),
                "last_run_records": None if last is None else last.records,
                "of_cycles_lacked": lacked,
            }
        )
    return found


def run_settings(options: SyncOptions) -> dict[str, Any]:
    """report.json's `settings`: the options the run was started with that change how it talks to Register and where
    it reads and writes, so that a night of 429s or timeouts tells a crontab's `--rate 500` or `--timeout 1` from an
    outage, and an `incoming/` extract from an `archive/` one by the folder it ran in (review208 F3). Never the
    token: where it came from."""
    count, seconds = options.rate
    return {
        "rate": f"{count}/{seconds:g}",
        "timeout": options.timeout,
        "per_page": options.per_page,
        "format": options.fmt,
        "token_source": None if options.token_source is None else printable(options.token_source),
        "state_dir": printable(str(options.state_dir)),
        "report_dir": printable(str(options.report_dir)),
        "config_file": None if options.config_file is None else printable(str(options.config_file)),
        "working_directory": _working_directory(options.token),
    }


def _working_directory(token: Secret | str | None) -> str | None:
    """The folder the run's relative paths are of, a token of Register's shape or in use in it masked (review226 F1: a
    folder named after a token was shown in report.json, report.html and the -v log; review229 F1: only such a token,
    `masked_path_words`); None when it is gone (deleted under the run)."""
    try:
        return printable(masked_path_words(os.getcwd(), token.reveal() if isinstance(token, Secret) else token))
    except OSError:
        return None


def settings_words(settings: Mapping[str, Any]) -> str:
    """`run_settings` in one line, for the log at -v."""
    said = [
        f"rate {settings['rate']}",
        f"timeout {settings['timeout']:g} s",
        f"per page {settings['per_page']}",
        f"format {settings['format']}",
        f"token from {settings['token_source'] or 'the caller (not said)'}",
        f"state dir {settings['state_dir']}",
        f"report dir {settings['report_dir']}",
        f"settings file {settings['config_file'] or 'none'}",
        f"working directory {settings['working_directory'] or 'gone'}",
    ]
    return ", ".join(said)


def _listing_failed(error: ApiError) -> RegisterBatchError:
    """The error of a sync whose listing (or look-up before any write) Register did not answer, kept failing, or
    refused this machine for: nothing was written. Exit 3, as for every command (RegisterUnavailable); a setting to
    change (a proxy's 407, a TLS certificate, a host name not found) exit 2."""
    return first_request_failed(error, "nothing was written")


def _stopped(stops: StopSignals) -> dict[str, Any]:
    """Why a stopped run stopped (report.json's sync.stopped); a stop the caller's event asked for is logged, as a
    signal's is when it lands (library.md: a stop asked for is a warning of the `register_batch` logger)."""
    why = stops.why
    if why is STOPPED_BY_CALLER:
        log.warning("stop event set: the sync stopped at a safe point; run the same sync again to resume")
    return why


def _older_default(options: SyncOptions) -> str:
    """The no-ledger warning's word on the folder an older build used by default for this target (config.host_slug),
    when it holds a ledger and is not the state dir in use: a run given another state dir (the default one is refused
    then, config.moved_state_dir) is told where the ledger of its syncs before the upgrade is (review195 F1)."""
    from register_batch.fs import LEDGER_NAME
    from register_batch.wording import path_named

    if (older := host_slug(options.target)) is None:
        return ""
    folder = Path(DEFAULT_STATE_DIR) / older
    try:
        if not (folder / LEDGER_NAME).is_file() or folder.resolve() == Path(options.state_dir).resolve():
            return ""
    except OSError:
        return ""
    return f"; earlier versions named it {path_named(str(folder))}, which holds a ledger"


def _account_unplanned(planned: _Planned, records: RecordSpool, report: ReportBuilder) -> None:
    """Stopped before the plan (while Register was listed): nothing was sent, and the report still accounts for every
    record (docs/dry-run.md, results.csv): not reached, or invalid as always."""
    if not planned.results:
        planned.results = [_unplanned(records, index, report.is_invalid(index)) for index in range(len(records))]


def _plan_run(run: SyncRun, records: RecordSpool, report: ReportBuilder, planned: _Planned) -> None:
    """Plan every record against what Register lists (and the ledger links), settling nothing and sending no write;
    fills `planned` as it learns (see `_Planned`)."""
    ledger, options = run.ledger, run.options
    run.stops.before_writes()  # a stop asked for while the records were read: nothing is listed
    run.check_creates_token()  # before the listing, which binds the state dir to the token's provider
    valid = [not report.is_invalid(index) for index in range(len(records))]
    cycles = {cycle for cycle, ok in zip(records.cycles, valid, strict=True) if ok and cycle != NO_CYCLE}
    links = ledger.links()  # record key -> the trainee the ledger links it to
    holdings = run.holdings(cycles) if any(valid) else Holdings([])
    fresh = ledger.never_listed()  # noted listed once planned: a run refused below is no less fresh the next time
    if fresh and holdings.by_id and not options.embedded:
        # A nightly job started from another folder gets another default state dir: nothing is created
        # twice (trainees are matched through the listing), but the ledger's links and history are elsewhere,
        # and they alone remember a trainee a person deleted in Register's service (Register lists it no more,
        # register-api.md §2.3) and the withdrawals this sync made (review127 F1).
        # The other state dir named as the caller's surface takes it: a library caller's `state_dir` (it has no
        # option, settings file or default folder), the command line's own (OPTIONS; review157 F3).
        older = _older_default(options)
        warning = Worded(
            "{state_dir_path} has no ledger, but Register already holds {held} of the extract's academic cycles. "
            "If earlier syncs used another {earlier_state_dir}, use that one: without its ledger, a trainee "
            "deleted in Register's service is created again, and a withdrawal DfE's support undid is sent again",
            said={"earlier_state_dir": "`state_dir`"},
            state_dir_path=options.state_dir,
            held=counted(len(holdings.by_id), "trainee"),
            default_state_dir=Path(DEFAULT_STATE_DIR) / target_slug(options.target),
            older_state_dir=older,
        )
        log.warning(warning)
        # The reports' words name no surface's setting (a library caller's report is read by the same people), and
        # begin as a sentence does, not with the folder's name (sync.run_warnings).
        aside = f" ({older.removeprefix('; ')})" if older else ""
        run.no_ledger = (
            len(holdings.by_id),
            f"The state dir {warning.worded({'earlier_state_dir': 'state dir' + aside})}",
        )
    missing = [
        links[key]
        for key in (key_of(hesa_id) for hesa_id, ok in zip(records.hesa_ids, valid, strict=True) if ok)
        if key in links and links[key] not in holdings.by_id
    ]
    drafts, deleted = run.fetch_missing(holdings, missing)

    # One record at a time: each read back, planned, and let go (the plan does not keep it). Counted: seconds for
    # 10,000 records matched (more on a loaded machine) between the listing's last line and the next (review134 F9).
    results = []
    far: dict[int, str] = {}  # record index -> the trainee its far link names (`_plan_far_links`)
    around: set[int] = set()
    # (Not said of a run whose records are all invalid: it listed nothing, and only plans to leave them out.)
    task = run.progress.task("Comparing with Register" if any(valid) else "Planning records", total=len(records))
    for index, record in enumerate(records):
        link = links.get(key) if (key := record_key(record)) else None
        followed = None if link in drafts or link in deleted else link
        plan = run.planned(record, followed, holdings, invalid=not valid[index])
        if link in deleted:
            not_created_again(plan, deleted[link])
        linked = holdings.by_id.get(followed) if followed and valid[index] else None
        # (Not named `cycles`: that is the extract's, which the creates' neighbouring cycles are counted from.)
        if linked is not None and (around_it := cycles_around_far_link(record.data, linked, as_of=run.as_of)):
            far[index] = linked["trainee_id"]
            around |= around_it
        results.append(RecordResult(plan, course_ended=_ended_before(record, run.as_of)))
        task.advance()
    task.close()
    del links, valid
    around_held, joined = _plan_far_links(run, records, results, holdings, far, around)
    settled = one_record_per_trainee(
        [result.plan for result in results],
        records,
        holdings,
        as_of=run.as_of,
        reference=run.reference,
        applied_on=run.applied_on,
    )
    for result, plan in zip(results, settled, strict=True):
        result.plan = plan
    sent = ledger.unsettled_creates()
    unresolved = ledger.unresolved()  # writes an earlier run never had answered: of records here or gone
    elsewhere = _plan_in_neighbour_cycles(run, records, results, cycles, sent, around_held)
    _note_register_edits(run, results, records)
    # Every listing's trainees: a cycle listed counts as looked in (`run.listed_cycles`), so an earlier run's create
    # sent for it and found in none of these would be taken for one never carried out.
    looked = [holdings, elsewhere, around_held]
    planned.moved = _moved_writes(results, unresolved)
    moved = {entry.key for entry in planned.moved}
    planned.orphans, planned.unanswered = _orphans(
        run, results, sent, [entry for entry in unresolved if entry.key not in moved], looked
    )
    claimed = _claimed_by_records(results, planned.orphans, planned.unanswered)
    planned.claimed = {key for key, _run_id in claimed.values()}
    died = ledger.ended_without_report()
    planned.keep = _note_earlier_writes(
        results,
        died=died,
        at_once={run_id: why for run_id, (_started, why) in ledger.interrupted_without_report().items()},
        entries=ledger.entries_of_runs(died) if died else {},
        landed=ledger.writes_landed(died) if died else {},
        unresolved=unresolved,
        created=ledger.creates_unreported(),
        created_of={**ledger.creates_unreported_by_trainee(), **claimed},
        held=_held_husids(looked),
        state=_held_state(looked),
        dry_run=options.dry_run,
    )
    if any(result.plan.steps for result in results):
        run.probe_provider()  # a token of another provider is refused here too, before any write
    if fresh:
        run.check_unmatched_account(holdings, results)
    # A dry run leaves the ledger as fresh: the real run would stop for an unmatched account (review217 F1), and the
    # real run's reports, the ones kept, carry sync_state_dir_new after a dry run too (review229 F3).
    if run.unmatched_account is None and not options.dry_run:
        ledger.listed()
    run.bind_state_dir()
    ledger.run_listed()  # a night that saw its cycles' trainees (`_of_cycles_lacked`, review230 F2)
    planned.results = results  # only now: a listing that fails above leaves nothing planned, nothing written
    matched = {r.plan.trainee_id for r in results if r.plan.trainee_id}
    matched.update(trainee_id for r in results for trainee_id in r.plan.related)
    # Only the extract's cycles' trainees: not those fetched by id to follow a link (their start moved out of them),
    # nor those joined from the cycles around a far link (review73: the next course a set-aside link names was
    # reported as not in the extract of the earlier course's record).
    accounted = matched | joined | set(missing)
    planned.unmatched = [t for t in holdings.by_id.values() if t["trainee_id"] not in accounted]
    _note_put_back(run, results)
    planned.lacked = _of_cycles_lacked(run, report, looked, accounted)


def _of_cycles_lacked(
    run: SyncRun, report: ReportBuilder, looked: list[Holdings], accounted: set[str]
) -> list[ListedTrainee]:
    """The trainees Register lists in the academic cycles the last real run sharing a cycle with tonight's extract
    synced records of and tonight's has none of (`runs.inputs` cycles; review208 F2): an extract that lost a cycle (an
    export sorted newest first and cut, a filter changed) leaves its trainees out of the listing of tonight's cycles,
    and so out of not_in_extract. The run lists those cycles once more, after planning (nothing planned reads it),
    unless it listed them already (no request more), and `_finish` lists them in not_in_extract, told apart as its
    own cycles' trainees are (review227 F2), counting those this state dir synced before and in training as no
    longer sent. Not for a run of other cycles only (two
    extracts, one a cycle, synced in turn), nor before a run with inputs recorded: said the first night, as the last
    run after it has no record of the cycle either. A listing Register does not answer counts none: it is a warning's
    count, and must not stop the night's writes."""
    tonight = {int(year) for info in report.inputs for year in info.cycles}
    # The last run that listed Register (review230 F2): one that stopped before (Register unreachable, exit 3) saw
    # none of the lacked cycle's trainees, and the first night that lists is the first night without it.
    last = next((r for r in reversed(run.earlier_runs) if r.known and r.listed and r.cycles & tonight), None)
    if last is None or not (lacked := last.cycles - tonight):
        return []
    run.cycles_lacked, run.lacked_since = frozenset(lacked), last.run_id
    found = {t["trainee_id"]: t for held in looked for t in held.by_id.values() if start_cycle(t) in lacked}
    if unlisted := set(lacked) - run.listed_cycles:
        try:
            listed = run.list_into(Holdings([]), unlisted, neighbours=True)
        except _STOPS_THE_RUN:
            if run.stops.requested:
                raise
            log.warning(
                "Register did not answer the listing of %s: its trainees are not counted as no longer sent",
                ", ".join(cycle_label(year) for year in sorted(unlisted)),
            )
            run.cycles_lacked = frozenset()  # none of its trainees is listed in not_in_extract
            return []
        found.update((t["trainee_id"], t) for t in listed.by_id.values())
    return [t for trainee_id, t in found.items() if trainee_id not in accounted]


def ended_long_before(as_of: date) -> date:
    """The day a course must have ended before for its create to be sync_created_course_ended's (review208 F2): the
    first of the academic year before the as-of date's (1 August). A course that ended in this academic year or the
    last is an ordinary late record (a trainee registered late, a provider's first load through the API: one to
    recommend next, as not_in_extract's course_ended says); one that ended before the last began is another year's
    extract, or a record the SRS should not send."""
    return date(cycle_of(as_of) - 1, 8, 1)


def _ended_before(record: TraineeRecord, as_of: date) -> date | None:
    """The record's itt_end_date when it is before `ended_long_before(as_of)` (sync_created_course_ended); None
    otherwise, and for one with no such date, or one not a date (validation's error: the record is not sent)."""
    end = record.data.get("itt_end_date")
    try:
        day = date.fromisoformat(end) if isinstance(end, str) else None
    except ValueError:
        return None
    return day if day is not None and day < ended_long_before(as_of) else None


def _note_register_edits(run: SyncRun, results: list[RecordResult], records: RecordSpool) -> None:
    """Name each update that puts the record's values back over a change made in Register's service since this state
    dir last synced it (`register_edited`), read for updates only (a night's few): what the record said of each field
    when last synced in full (Ledger.synced), kept whatever its entry says since (a failed or unanswered write:
    review185 F2); or, in a ledger of a version before those were kept, whose digests were made under another
    token's key (`unpack_digests`), or where a build that kept none wrote the record since (its done entry's payload
    is not theirs: review195 F2), the entry's payload digest, if it is done."""
    ledger, key, dry_run = run.ledger, run.field_key, run.options.dry_run
    for index, result in enumerate(results):
        plan = result.plan
        if plan.action != "update" or plan.key is None:
            continue
        synced = ledger.synced(plan.key)
        if synced is not None and not synced.stale and (then := unpack_digests(synced.digests, key)) is not None:
            register_edited(
                plan,
                last_trainee=synced.trainee_id,
                synced_at=synced.synced_at,
                dry_run=dry_run,
                then=then,
                now=field_digests(records[index].data, key),
                sent=_sent_since(synced, key),
            )
        elif (entry := ledger.get(plan.key)) is not None and entry.status == "done":
            register_edited(
                plan,
                last_trainee=entry.trainee_id,
                synced_at=entry.updated_at,
                dry_run=dry_run,
                last_hash=entry.payload_hash,
            )


def _plan_far_links(
    run: SyncRun,
    records: RecordSpool,
    results: list[RecordResult],
    holdings: Holdings,
    far: dict[int, str],
    around: set[int],
) -> tuple[Holdings, set[str]]:
    """Plan again, before anything is sent, the records whose ledger link is far from them (`far_link`), once the
    cycles around them the run has not listed are (`cycles_around_far_link`): the student's other course, nearer the
    record than the linked trainee, may start in one (review72 H1: an earlier course's record with its start
    corrected across 1 August followed the link to the next course, wrote over it and withdrew it). The trainees
    found there with such a record's HUSID join `holdings`. Returns what those cycles list, and the ids that joined:
    not the extract's cycles', so not counted as trainees not in the extract."""
    unlisted = around - run.listed_cycles
    if not far or not unlisted:
        return Holdings([]), set()
    husids = {records.hesa_ids[index] for index in far}
    listed = run.list_into(Holdings([]), unlisted, neighbours=True)
    joined = set()
    for trainee in listed.by_id.values():
        if trainee.get("hesa_id") in husids and trainee["trainee_id"] not in holdings.by_id:
            holdings.add(trainee)
            joined.add(trainee["trainee_id"])
    if joined:
        for index, linked in far.items():
            results[index].plan = run.planned(records[index], linked, holdings)
    return listed, joined


def _plan_in_neighbour_cycles(
    run: SyncRun,
    records: RecordSpool,
    results: list[RecordResult],
    cycles: set[int],
    sent: dict[str, int],
    around: Holdings,
) -> Holdings:
    """Replan the creates against the cycles either side of each, before anything is created, and return what those
    listings hold. A record with no ledger entry whose start cycle changed since Register got it (a deferral, a
    corrected start date) is listed under the old cycle, and Register's 409 rule compares cycles too, so it would be
    created twice. `sent`: where an earlier run's create, killed or stopped before its answer, was sent: the start
    may have moved further since (a mistyped year corrected), and Register's 409 compares start years (§4).
    `around`: what the cycles listed around far links hold (`_plan_far_links`); those cycles are not listed again
    (review73 F3: each was, whole, in a run with a create)."""
    creating = [index for index, result in enumerate(results) if result.plan.action == "create"]
    near = {cycle + step for index in creating if (cycle := records.cycles[index]) != NO_CYCLE for step in (-1, 1)}
    near.update(sent[key] for index in creating if (key := results[index].plan.key) in sent)
    near -= cycles
    if not near:
        return Holdings([])
    # Matched there as anywhere (plan.match): by HUSID, by SRS id unless it is another course instance,
    # or by Register's own duplicate rule, which compares the record's itt_start_date year.
    elsewhere = Holdings(
        [t for t in around.by_id.values() if start_cycle(t) in near], run.replaced, run.withdrawn, run.echoed
    )
    if unlisted := near - run.listed_cycles:
        run.list_into(elsewhere, unlisted, neighbours=True)
    # With no one listed there, each record would be planned as the create it is, with no note.
    for index in creating if elsewhere.by_id else ():
        result = results[index]
        again = run.planned(records[index], None, elsewhere)
        if again.action != "create":
            result.plan = again
        elif again.note:
            result.plan.note = again.note
    return elsewhere


def _orphans(
    run: SyncRun, results: list[RecordResult], sent: dict[str, int], unresolved: list[Entry], looked: list[Holdings]
) -> tuple[list[Entry], list[dict[str, Any]]]:
    """Writes an earlier run never had answered, for records this extract lacks (only their records would have them
    looked up), with what Register shows of each (`unanswered_elsewhere`). A create is looked for where it was sent
    (one listing per such cycle not listed already, beside the listings `looked`), and settled when the listing
    tells; every one is named in the report."""
    in_extract = {result.plan.key for result in results if result.plan.key}
    orphans = [entry for entry in unresolved if entry.key not in in_extract]
    if unlisted := {sent[entry.key] for entry in orphans if entry.key in sent} - run.listed_cycles:
        looked = [*looked, run.list_into(Holdings([]), unlisted, neighbours=True)]
    # A withdrawal or deferral shows in the trainee's state: one look each, until it is settled.
    states = {
        entry.trainee_id: run.state_of(entry.trainee_id)
        for entry in orphans
        if entry.trainee_id and entry.operation in REACHED_STATES
    }
    return orphans, unanswered_elsewhere(orphans, sent, run.listed_cycles, looked, states)


def _moved_writes(results: list[RecordResult], unresolved: list[Entry]) -> list[Entry]:
    """The earlier runs' unanswered writes but creates (an update, a degree or placement write, a withdrawal or
    deferral) under a key no record of the extract has, to a trainee exactly one record matched: the record is there,
    its HUSID corrected since (matched by its SRS id). Its run compares it with Register, and holds it back while such a
    request may still land (`SyncRun.waits_for` finds the request by the trainee); it is not a write for a record the
    extract lacks, which every later report named, asking a person to check it in Register (review115 F2). A create's
    entry is `_claimed_by_records`'."""
    keys = {result.plan.key for result in results if result.plan.key}
    matched = Counter(
        plan.trainee_id
        for result in results
        if (plan := result.plan).trainee_id and plan.action not in ("create", "invalid")
    )
    return [
        entry
        for entry in unresolved
        if entry.key not in keys
        and entry.operation not in (None, "create")
        and entry.trainee_id
        and matched[entry.trainee_id] == 1
    ]


def _claimed_by_records(
    results: list[RecordResult], orphans: list[Entry], unanswered: list[dict[str, Any]]
) -> dict[str, tuple[str, int]]:
    """trainee_id -> (ledger key, run) of each earlier create, unanswered under a key no record has, that the listings
    show went through (`unanswered_elsewhere`: a trainee with its HUSID) and made the trainee one record of the
    extract matched: by its SRS id, the HUSID corrected since. That record names the create (`_note_earlier_writes`),
    not the list of writes for records the extract lacks (review94 F2)."""
    # As `_note_earlier_writes` names a write: not on a record to create, nor on an invalid one (it waits for it).
    matched = Counter(
        plan.trainee_id
        for result in results
        if (plan := result.plan).trainee_id and plan.action not in ("create", "invalid")
    )
    claimed: dict[str, tuple[str, int]] = {}
    for entry, row in zip(orphans, unanswered, strict=True):
        trainee_id, run_id = row["trainee_id"], entry.run_id
        done = entry.operation == "create" and row["settled"] == "done"
        if done and run_id is not None and trainee_id and matched[trainee_id] == 1:
            claimed[trainee_id] = (entry.key, run_id)
    return claimed


def _dry_run_outcome(plan: RecordPlan) -> str:
    """A dry run's outcome of a record, as a real run gives it (`_settle_unsent`, `_write_all`), but `planned` for one
    it would send writes for: a record with nothing to send (unchanged) is `done`, not `skipped`, which is a record
    held back (review114 F6: a script flagging `skipped` took healthy trainees for problems)."""
    if plan.action in NOT_SENT:
        return "skipped"
    return "planned" if plan.steps else "done"


# The actions of the records a run sends nothing for: their outcome is `skipped`.
NOT_SENT = ("invalid", "conflict", "blocked", "held")


def _settle_unsent(ledger: Ledger, planned: _Planned) -> None:
    """Before any write, settle in the ledger the records nothing will be sent for. An interrupted run then leaves
    only records it did not reach "pending", never one that was not going to be sent anyway."""
    if planned.keep:  # before a write replaces the entries they are known from
        ledger.keep_creates(planned.keep)
    for result in planned.results:
        if result.plan.action in NOT_SENT:
            result.outcome = "skipped"
            if result.plan.earlier is None:  # else an earlier run's write this report is the first to name (_finish)
                _settle_skipped(ledger, result.plan)


def _settle_skipped(ledger: Ledger, plan: RecordPlan) -> None:
    """Record in the ledger a record held back (conflict, blocked); an invalid one keeps what it had."""
    if plan.key and plan.action != "invalid":
        # A held record's entry is a blocked one's: nothing sent, nor its fields marked synced (review201 F1: a change
        # held after the award is sent if the trainee returns to a state the API can change, and not called Register's).
        status = "blocked" if plan.action == "held" else plan.action
        reason = plan.after_award if plan.action == "held" else plan.reason
        ledger.record(plan.key, status, trainee_id=plan.trainee_id, hesa_id=plan.hesa_id, errors=[reason or ""])


def _settle_orphans(ledger: Ledger, planned: _Planned) -> None:
    """Settle the earlier runs' unanswered writes for records not in the extract, as the look-ups found them: only
    once this run's report names them (`_finish`), or a run ending before its report would leave them to no report."""
    for entry, row in zip(planned.orphans, planned.unanswered, strict=True):
        if row["settled"]:
            ledger.record(
                entry.key,
                row["settled"],
                trainee_id=row["trainee_id"],
                operation=row["operation"],
                errors=[] if row["settled"] == "done" else [row["note"]],
            )


def _write_all(run: SyncRun, records: RecordSpool, results: list[RecordResult], stops: StopSignals) -> None:
    """Send each record's writes in the extract's order, a requested stop honoured between records; a record with
    nothing to send is recorded done. The records nothing is sent for are settled first (`_settle_unsent`: their
    outcome `skipped`), and passed over here."""
    ledger, client = run.ledger, run.client
    writes = writes_to_send(results)
    unsent = sum(1 for r in results if r.outcome != "skipped" and not r.plan.steps)
    task = run.progress.task("Writing to Register", total=writes, unit="requests", every=1)
    # The records with nothing to send are counted too: a rerun of an unchanged 20k cohort passed over them for a
    # minute with no line (nightly-sync.md §6: a line every 5 seconds of a long step; review134 F9).
    # Passed over between the writes, they go at the writes' pace: with writes, their own time left (the average so
    # far) is not said, "about 149 s left" beside the writes' "about 26 s left" of one run (review137 F2).
    passed = run.progress.task("Recording unchanged records", total=unsent, eta=not writes) if unsent else None
    settles = _Settles(ledger)
    # Record key -> the payload and trainee its field digests under the run's key are of (`_synced`).
    noted = ledger.synced_payloads(run.field_key.id)
    stops.writing = True
    task.set_pace(client.limiter.per_second)
    with task.waits_shown(client.limiter), settles:
        for index, result in enumerate(results):
            stops.check()
            if result.outcome == "skipped":
                continue
            if not result.plan.steps:
                if passed is not None:
                    passed.advance()
                plan, record = result.plan, records[index]  # read once: also for its field digests (`_synced`)
                if plan.key is not None and (wait := run.waits_for(plan.key, plan, record)) is not None:
                    # An earlier run's write may still land and undo what Register holds (review115 F3): nothing to
                    # send, nor to settle; its ledger entry stays the earlier run's.
                    result.outcome, result.errors, result.again_after = "unknown", [wait.messages[0]], wait.until
                    continue
                result.outcome = "done"
                if result.plan.earlier is None:
                    settles.add(plan, _synced(noted, plan, record, run.field_key))
                # else an earlier run's write this report is the first to name: the ledger keeps it as that run left it
                # until the report is written (_finish), so that a run ending before its report leaves it to the next.
                continue
            settles.commit()  # before this record's first in-flight mark (_Settles)
            if task.done == 0:
                task.start_clock()  # the time of the records passed over is not the requests' (review134 F1)
            run.execute(result, records[index])
            task.advance(max(1, len(result.plan.steps)))
    task.close()
    if passed is not None:
        passed.close()


class _Settles:
    """The records with nothing to send, recorded done in the ledger in one commit of up to `every` records, not one
    each: a rerun of an unchanged 20k cohort spent 45 s of its minute on 18,107 syncs to disk (review134 F9).

    Safe for exactly-once: the pending ones are committed before any write of the run is noted as going out
    (`commit` before `run.execute`), so the ledger never holds a later write's in-flight mark without every settle
    before it; and a run killed with settles pending leaves those records' entries as the earlier runs left them,
    exactly as a run killed just after the last commit would have, one the ledger is already built to resume from.
    Nothing sent depends on them: a settle says Register holds the record as the extract does, which the next run
    reads again from Register's listing. A run stopped between records (Ctrl-C) or ending commits them."""

    every = 1000

    def __init__(self, ledger: Ledger):
        self.ledger = ledger
        self.pending: list[tuple[RecordPlan, str | None]] = []

    def add(self, plan: RecordPlan, synced: str | None) -> None:
        self.pending.append((plan, synced))
        if len(self.pending) >= self.every:
            self.commit()

    def commit(self) -> None:
        if self.pending:
            with self.ledger.together():
                for plan, synced in self.pending:
                    _settle_done(self.ledger, plan, synced)
            self.pending.clear()

    def __enter__(self) -> _Settles:
        return self

    def __exit__(self, kind: type[BaseException] | None, *exc: object) -> None:
        if kind is None:
            self.commit()
        elif issubclass(kind, (_Stop, Exception)):  # stopped or failed: kept if they can be, without hiding why
            with contextlib.suppress(Exception):
                self.commit()


def _foresee_waits(run: SyncRun, records: RecordSpool, results: list[RecordResult]) -> None:
    """In a dry run, say on each record a real run started now would hold back, and until when (`SyncRun.waits_for`):
    an earlier run's create or placement had no answer and may still be carried out. Without it, the dry run said
    "would create" where the real run then sent nothing and exited 3."""
    if not run.ledger.has_unanswered():  # nothing out: no record need be read back
        return
    for index, result in enumerate(results):
        plan = result.plan
        if result.outcome in ("planned", "done") and plan.key is not None:
            wait = run.waits_for(plan.key, plan, records[index])
            if wait is not None:
                plan.waits, result.again_after = wait.foreseen(), wait.until


def _withdrawal_made(plan: RecordPlan, step: Step, passed: bool) -> tuple[str, str | None] | None:
    """The trainee and date of a withdrawal Register has just carried out, to keep (Ledger.withdrawals_made); None for
    any other write, or one Register held already (`passed`)."""
    if step.kind != "withdraw" or passed or not plan.trainee_id:
        return None
    day = (step.body or {}).get("withdrawal_date")
    return plan.trainee_id, None if day is None else str(day)


def _settle_done(ledger: Ledger, plan: RecordPlan, synced: str | None) -> None:
    """Record in the ledger a record that has nothing left to send: Register holds it as the extract says, and so
    what it says of each field is the last synced (`synced`: Ledger.record's)."""
    assert plan.key is not None  # only an invalid record has none, and _settle_unsent skipped it
    ledger.record(
        plan.key,
        "done",
        trainee_id=plan.trainee_id,
        hesa_id=plan.hesa_id,
        provider_trainee_id=plan.provider_trainee_id,
        payload_hash=plan.payload_hash,
        synced=synced,
    )


def synced_digests(record: TraineeRecord, key: FieldKey) -> str:
    """The record's field digests (compare.field_digests) under the run's `key`, as the ledger keeps them
    (Ledger.record's `synced`). An initiative kept as its file has no Student with the tag (TraineeRecord.
    kept_untagged) keeps the digest the ledger had: the SRS's last word on it, for the next night (review205 F2)."""
    digests = field_digests(record.data, key)
    for name, digest, _tags in record.kept_untagged:
        digests[name] = digest
    return pack_digests(digests, key)


def _sent_since(synced: Synced, key: FieldKey) -> dict[str, Any] | None:
    """What unanswered writes sent since the record was last synced in full (Ledger.synced's `sent`), if any: a sent
    set the ledger cannot read (made under another token's key too) stands for every field unknown (none named)."""
    if synced.sent is None:
        return None
    return unpack_digests(synced.sent, key) or _every_field_unknown()


def _every_field_unknown() -> dict[str, Any]:
    """A `sent` set (compare.sent_digests) in which no field's digest is known: none of them is named as Register's."""
    return {**dict.fromkeys(PACKED_FIELDS, UNKNOWN_DIGEST), **{name: [UNKNOWN_DIGEST] for name in LIST_DIGESTS}}


def sending_digests(ledger: Ledger, key: str, record: TraineeRecord, field_key: FieldKey) -> str | None:
    """What the record's writes about to go out carry, beside those an earlier unanswered write sent (Ledger.record's
    `sent`, compare.sent_digests), for a record whose fields the ledger keeps under `field_key`: None for one it keeps
    none of. For one it keeps under another token's key (never read with this one's: `unpack_digests`), every field
    unknown: with that token back, its digests are read again, and a value this write left in Register would be named
    as Register's edit (review203 F2: two tokens in turn on one state dir)."""
    if (synced := ledger.synced(key)) is None:
        return None
    if unpack_digests(synced.digests, field_key) is None:
        return pack_digests(_every_field_unknown(), field_key)
    return pack_digests(sent_digests(_sent_since(synced, field_key), field_digests(record.data, field_key)), field_key)


def _synced(
    noted: dict[str, tuple[str, str | None]], plan: RecordPlan, record: TraineeRecord, key: FieldKey
) -> str | None:
    """What a record settled unchanged notes of its fields (Ledger.record's `synced`): nothing where the ledger keeps
    the digests of this very payload and trainee under this `key` (`noted`: Ledger.synced_payloads), as for every
    record of an unchanged rerun (its entry's time is theirs); else its digests, worked out for it alone: a token
    rotated has each record's digests made again under the new one's key as the record is settled."""
    if plan.key is not None and noted.get(plan.key) == (plan.payload_hash, plan.trainee_id):
        return None
    return synced_digests(record, key)


def _not_started_in_register(state: str) -> str:
    """Why Register refuses to withdraw a trainee it lists in a state a withdrawal is allowed from (§2.7 step 1): it
    also holds whether the trainee has started (its commencement status, which the API does not show), and its
    own date may put the ITT start still ahead."""
    return (
        f"Register lists the trainee as {STATE_WORDS.get(state, state)}, which a withdrawal is allowed from, so it "
        "holds the trainee as not yet started on the ITT course (set in its service; the API does not show it), or "
        "its date puts the ITT start date still ahead. Record the trainee's start in Register's service, or check the "
        "ITT start date; the next sync sends the withdrawal again"
    )


# report.json's sync.stopped for a run stopped by Ctrl-C or a signal (SIGTERM from systemd, SIGHUP), or by a request
# cut short by one, when which signal is not known (a KeyboardInterrupt no handler of the run's took).
STOPPED_BY_SIGNAL = {"by": "signal", "signal": None, "message": "stopped by Ctrl-C or a signal (SIGTERM, SIGHUP)"}
# ... and each signal's words, as the log's warning names it: what usually sends it, for what to change (review208 F8).
SIGNAL_WORDS = {
    "SIGINT": "Ctrl-C (SIGINT) in the terminal the sync ran in",
    "SIGTERM": "SIGTERM: a service stopped (systemctl stop, systemd's TimeoutStopSec), a shutdown, or a kill",
    "SIGHUP": "SIGHUP: the terminal went (an SSH session dropped, a window closed); run it under nohup, tmux or screen",
}


def stopped_by_signal(name: str | None) -> dict[str, Any]:
    """report.json's sync.stopped for a run stopped by the signal `name` (None: not known)."""
    if name is None:
        return STOPPED_BY_SIGNAL
    return {"by": "signal", "signal": name, "message": f"stopped by {SIGNAL_WORDS.get(name, name)}"}


# ... and for one stopped by the caller's `stop` event (sync_files(stop=): a service's shutdown, off the main thread).
STOPPED_BY_CALLER = {"by": "stop", "message": "stopped by the caller (its stop event was set)"}


def unanswered_elsewhere(
    entries: Iterable[Entry],
    sent: Mapping[str, int],
    listed_cycles: set[int],
    looked: list[Holdings],
    states: Mapping[str, str | None] | None = None,
) -> list[dict[str, Any]]:
    """Writes an earlier run sent and never had answered (killed, stopped, or Register gone quiet while they were
    out), whose records this extract does not have (left the SRS, or a nightly extract of changes only), with what
    Register's listings show. A run looks such a write up only through its record, so without this no report would
    name it, and Register may hold a trainee nobody expects.

    A create is settled when the listings tell: one trainee with its HUSID (it went through: `settled` "done", the
    ledger links them), or none in the cycle it was sent for, listed (not carried out: "failed"). `sent`: key -> that
    cycle (`Ledger.unsettled_creates`). A withdrawal or deferral is settled by the state Register holds its trainee
    in (`states`: trainee_id -> state, None for a trainee Register does not hold). Any other write is to a trainee
    the record was linked to, which only the record can be compared with: it is named until the record is back.
    A create not listed is left unsettled while Register may still carry it out (`_create_may_still_land`): the
    record back in an extract, corrected since, may be created again without Register's 409 stopping it (review43)."""
    states = states or {}
    found = []
    for entry in entries:
        what = entry.operation or "write"
        trainee_id = entry.trainee_id or None
        settled = None
        if trainee_id and trainee_id in states and entry.operation in REACHED_STATES:
            state = states[trainee_id]
            if state == STATE_OF_STEP[entry.operation]:
                settled = "done"
                note = f"Register holds trainee {trainee_id} as {state}: the {what} went through"
            elif state in REACHED_STATES[entry.operation]:
                settled = "done"
                note = f"Register holds trainee {trainee_id} as {state}, which a {what} would not change: nothing to do"
            elif state is None:
                settled = "failed"
                note = f"Register no longer holds trainee {trainee_id} (404): nothing is left to {what}"
            else:
                settled = "failed"
                note = (
                    f"Register holds trainee {trainee_id} as {state or 'no state'}: the {what} was not carried out "
                    "(or was undone in Register since)"
                )
        elif trainee_id:
            note = f"the {what} for trainee {trainee_id} may or may not have been carried out: check it in Register"
        elif held := sorted({t["trainee_id"] for h in looked for t in h.by_hesa.get(entry.hesa_id or "", ())}):
            if len(held) == 1:
                trainee_id, settled = held[0], "done"
                note = f"Register holds trainee {trainee_id} with this HUSID: the {what} went through"
            else:
                note = f"Register holds trainees {', '.join(held)} with this HUSID: check which one is this person"
        elif sent.get(entry.key) in listed_cycles:
            cycle = sent[entry.key]
            nobody = (
                f"Register holds no trainee with this HUSID in academic cycle {cycle}, which the {what} was sent for"
            )
            if (until := _create_may_still_land(entry)) is not None:
                # Not "failed" yet: Register may still carry it out, and a run with the record back would create it
                # again (found by review41). Named again by the runs until then.
                note = f"{nobody}, yet: it may still carry it out; a run after {until:%H:%M} UTC looks again"
            else:
                settled = "failed"
                note = f"{nobody}: it was not carried out"
        else:
            note = (
                f"no trainee with this HUSID in the academic cycles this run listed: the {what} may not have "
                "happened, or Register holds the trainee in another cycle; look for the HUSID in Register"
            )
        found.append(
            {
                "hesa_id": entry.hesa_id,
                "provider_trainee_id": entry.provider_trainee_id,
                "operation": entry.operation,
                "status": entry.status,
                "trainee_id": trainee_id,
                "updated_at": entry.updated_at,
                "run_id": entry.run_id,
                "settled": settled,
                "note": note,
            }
        )
    return found


def _unplanned(records: RecordSpool, index: int, invalid: bool) -> RecordResult:
    """Record `index` of a run stopped before its plan: `pending` (action `unplanned`), or invalid (never sent).
    What names it is in the spool's memory: no record is read back."""
    plan = RecordPlan(records.sources[index], records.hesa_ids[index], records.provider_trainee_ids[index], "unplanned")
    if invalid or plan.key is None:
        plan.action, plan.reason = "invalid", NOT_SENT_INVALID
        return RecordResult(plan, outcome="skipped")
    return RecordResult(plan)


def _issue_code(result: RecordResult) -> str:
    """Why a record did not end as planned: the code tells people whether to fix the record or just run again."""
    if result.outcome == "unknown":
        # Held back until a request that had no answer can no longer land (_MayStillLand): run again after that.
        return "sync_waits" if result.again_after is not None else "sync_unknown"
    if result.unavailable:
        return "sync_unavailable"
    if result.plan.refused and result.outcome in ("skipped", "blocked"):
        return "sync_update_refused"
    codes = {"conflict": "sync_conflict", "blocked": "sync_blocked"}
    # By the outcome first: a record this run created, whose withdrawal Register then refused, keeps action create.
    return codes.get(result.outcome) or codes.get(result.plan.action, "api_rejected")


def _warnings(plan: RecordPlan) -> list[tuple[str, str]]:
    """(code, message) for each thing people should know of a record that went ahead: created beside another course
    instance, sent without its withdrawal or deferral, which waits, or withdrawn or deferred in Register although the
    record does not say so. One record can have more than one (a new course instance whose withdrawal waits)."""
    found = [
        ("sync_other_instance", plan.note),
        ("sync_held", plan.reason if plan.held else None),
        (plan.after_code, plan.after_award),
        ("sync_overwrites_register_edit", plan.edited_note),
        *(("register_did_not_keep_code", message) for message in plan.not_kept),
        ("sync_state_differs", plan.state_note),
        ("sync_state_details_differ", plan.held_note),
        ("sync_written_earlier", plan.earlier),
        ("sync_duplicate_held", plan.twins_note),
        *((INITIATIVE_KEPT, message) for message in plan.kept_initiatives),
        ("sync_would_wait", plan.waits),
        *(("sync_degree_covered", message) for message in plan.repeats),
    ]
    return [(code, message) for code, message in found if message]


def _note_earlier_writes(
    results: list[RecordResult],
    *,
    died: dict[int, str],
    at_once: dict[int, str],
    entries: dict[str, Entry],
    landed: dict[str, dict[int, list[str]]],
    unresolved: list[Entry],
    created: dict[str, int],
    created_of: dict[str, tuple[str, int]],
    held: Callable[[str | None], bool],
    state: Callable[[str | None], str | None],
    dry_run: bool = False,
) -> list[tuple[str, int]]:
    """Name, on each record, the writes earlier runs made that no report counted: a run that died (killed, a power
    cut: no report), each write of it Register answered (`landed`) and its entry's last write (`entries`); a write
    whose answer a run never had, which its report has
    as unknown (`unresolved`); and every create Register carried out that no report counted as created (`created`,
    kept apart: the record's entry moves on to its next write, and a report has a record whose later write failed as
    failed; found by the trainee the record matched, `created_of`, when no record has its key: the HUSID was corrected
    since, review86 F3). On a record nothing is left to send for, Register holds it as the extract says; on one this
    run writes again or holds back, only a write Register shows it took is named (`_took`).

    Returns the creates known only from an entry (an answer lost, or a run killed before it marked the create), to
    keep (`Ledger.keep_creates`) before a write of this run replaces the entry."""
    lost = {entry.key: entry for entry in unresolved if entry.operation is not None}
    keys = {result.plan.key for result in results}
    keep: list[tuple[str, int]] = []
    for result in results:
        plan = result.plan
        if plan.key is None or plan.action in ("create", "invalid"):
            continue  # Register no longer lists a trainee for it; an invalid record's entry waits for it
        made = created.get(plan.key)
        if made is None and plan.trainee_id in created_of and (under := created_of[plan.trainee_id])[0] not in keys:
            plan.created_under, made = under
        entry = entries.get(plan.key) or lost.get(plan.key)
        writes = _writes_named(plan, entry, made, held, state, landed.get(plan.key, {}))
        maybe = _maybe_written(plan, entry, state)
        if not writes and maybe is None:
            continue
        if made is None and entry is not None and entry.run_id is not None and "create" in writes.get(entry.run_id, []):
            keep.append((plan.key, entry.run_id))  # known from the entry only: kept before a write replaces it
        unknown = entry.run_id if entry is not None and entry.key in lost else None
        said = [
            f"({', then '.join(ops)}) {_by_run(run_id, died, unknown, at_once)}"
            for run_id, ops in sorted(writes.items())
        ]
        clauses = ["written to Register " + " and ".join(said)] if said else []
        if maybe is not None:
            run_id, operation = maybe
            now = state(plan.trainee_id) if operation in REACHED_STATES else None
            # A deferral of a trainee withdrawn since cannot be carried out now, nor told from the state (review72 L2),
            # nor can one Register holds otherwise (review73).
            later = (
                f"Register holds the trainee as {now} now, which does not tell"
                if now in REACHED_STATES.get(operation, ())
                else "Register may yet carry it out"
            )
            clauses.append(
                f"may have been written to Register ({operation}) {_by_run(run_id, died, unknown, at_once)}: the "
                f"request had no answer, and {later}"
            )
        plan.earlier = " and ".join(clauses)
        if plan.action == "unchanged":
            if maybe is None:
                plan.earlier += _as_the_extract_says(plan)
            if any(run_id in died for run_id in [*writes, *([maybe[0]] if maybe else [])]):
                # A dry run settles nothing: the real run after it names the write again (review106 F4).
                plan.earlier += (
                    "; a dry run settles nothing: the next real run's report is the first to list it"
                    if dry_run
                    else "; this is the first report to list it"
                )
    return keep


def _writes_named(
    plan: RecordPlan,
    entry: Entry | None,
    made: int | None,
    held: Callable[[str | None], bool],
    state: Callable[[str | None], str | None],
    landed: Mapping[int, list[str]],
) -> dict[int, list[str]]:
    """Run -> the writes of it `_note_earlier_writes` names on `plan`'s record, in order: the create kept apart
    (`made`, its run), then the writes Register answered of a run that ended before its report (`landed`: an update
    and a degree deleted before the withdrawal in flight, review108 F1), then the entry's last write, when Register
    shows it (`_took`, or nothing left to send)."""
    writes: dict[int, list[str]] = {made: ["create"]} if made is not None else {}
    for run_id, kinds in sorted(landed.items()):
        answered = [kind for kind in dict.fromkeys(kinds) if kind != "create"]  # a create is `made`'s to name
        if answered:
            writes.setdefault(run_id, []).extend(answered)
    if entry is None or entry.operation is None or entry.run_id is None:
        return writes
    if entry.operation == "create" and entry.http_status == 409:
        return writes  # a trainee Register had, adopted after its 409: nothing was created (a create of ours is `made`)
    # On a record with nothing left to send: a write Register answered, or one it shows it carried out. Another write
    # with no answer may not have been carried out yet (`_maybe_written`).
    unchanged = plan.action == "unchanged" and (entry.status == "done" or _shown_done(plan, entry, state))
    if (unchanged or _took(plan, entry, held)) and entry.operation not in writes.get(entry.run_id, []):
        writes.setdefault(entry.run_id, []).append(entry.operation)
    return writes


def _shown_done(plan: RecordPlan, entry: Entry, state: Callable[[str | None], str | None]) -> bool:
    """Whether Register's listing shows it carried out an earlier run's write it never answered: a create (the record
    matched a trainee, which Register lists), a withdrawal or deferral (its trainee in the state it leaves, §3.9,
    §3.10). A deferral's trainee since withdrawn shows nothing: someone may have withdrawn it after the deferral, or
    instead of it, which Register refused then (review72 L2); nor does one held otherwise than the record says
    (`held_note`): someone else's deferral or withdrawal, or the record's changed since (review73)."""
    if entry.status not in ("in_flight", "unknown"):
        return False
    if entry.operation in REACHED_STATES:
        return state(plan.trainee_id) == STATE_OF_STEP[entry.operation] and not plan.held_note
    return entry.operation == "create"


def _maybe_written(
    plan: RecordPlan, entry: Entry | None, state: Callable[[str | None], str | None]
) -> tuple[int, str] | None:
    """The run and operation of the entry's write, when Register never answered it (in flight, unknown) and does not
    show it carried out (`_shown_done`), on a record with nothing left to send: it may have been carried out or not,
    or may be yet, so it is not said to be written, nor the record said to be held as the extract says (review52 F2:
    a DELETE never carried out was so named; F3: an update still to land)."""
    if entry is None or entry.operation is None or entry.run_id is None or plan.action != "unchanged":
        return None
    if entry.status not in ("in_flight", "unknown") or _shown_done(plan, entry, state):
        return None
    return entry.run_id, entry.operation


def _by_run(run_id: int, died: dict[int, str], unknown: int | None, at_once: dict[int, str]) -> str:
    """Which earlier run made a write `_note_earlier_writes` names, and why no report counted it: for one a second
    Ctrl-C or SIGTERM ended before its report (`at_once`: run id -> its ledger reason), that, not a kill (review231
    F2)."""
    if run_id in died:
        why = f" ({at_once[run_id]})" if run_id in at_once else ""
        return f"by the sync started {died[run_id][:19]} UTC (run {run_id}), which ended before its report{why}"
    if run_id == unknown:
        return f"by sync run {run_id}, whose report has the record as unknown (the answer was lost)"
    return f"by sync run {run_id}, whose report did not count it as created"


def _as_the_extract_says(plan: RecordPlan) -> str:
    """On a record nothing is left to send for, that Register holds it as the extract says: unless a warning beside
    it says Register does not (a withdrawal held back, one Register holds otherwise, a state the record lacks)."""
    return "" if plan.held or plan.held_note or plan.state_note else ": Register holds the record as the extract says"


def _took(plan: RecordPlan, entry: Entry, held: Callable[[str | None], bool]) -> bool:
    """Whether Register shows it took an earlier run's write for a record this run writes again or holds back (an
    update, a conflict): a create, when Register lists a trainee with the record's HUSID (`held`), or a write it
    answered, to a trainee the record matches (or might be, for a conflict). An unanswered update or state change
    only the record can be compared with; an invalid record keeps its entry, so it is named once it is valid."""
    if plan.action in ("unchanged", "create", "invalid"):
        return False
    if entry.status in ("in_flight", "unknown"):
        return entry.operation == "create" and held(plan.hesa_id)
    return entry.status == "done" and bool(entry.trainee_id) and entry.trainee_id in (plan.trainee_id, *plan.related)


def _held_husids(looked: list[Holdings]) -> Callable[[str | None], bool]:
    """Whether one of the listings `looked` has a trainee with this HUSID."""
    return lambda hesa_id: hesa_id is not None and any(h.by_hesa.get(hesa_id) for h in looked)


def _held_state(looked: list[Holdings]) -> Callable[[str | None], str | None]:
    """The state one of the listings `looked` has the trainee with this id in, if one has it."""

    def state(trainee_id: str | None) -> str | None:
        found = [h.by_id[trainee_id] for h in looked if trainee_id in h.by_id] if trainee_id else []
        return found[0].get("state") if found else None

    return state


# Trainees Register holds that no record matched, as report.json and not_in_extract.csv list them (every one).
# `last_synced` (last, so that a script reading the columns by place reads them as before): the day this state dir last
# synced a record of the SRS's to the trainee, empty for one it never did (review180 F2: the SRS stopped sending it).
# `itt_end_date` after it, as Register lists it: a course that ended is no export lost (review201 F2).
# `academic_cycle` last: the trainee's start cycle (its first year), which tells the trainees of a cycle the extract
# lacks from those of its own (review227 F2).
NOT_IN_EXTRACT_COLUMNS = (
    "trainee_id",
    "hesa_id",
    "provider_trainee_id",
    "state",
    "trainee_start_date",
    "last_synced",
    "itt_end_date",
    "academic_cycle",
)


def _add_sync_issues(
    report: ReportBuilder, records: RecordSpool, results: list[RecordResult], issues: list[tuple[Issue, ...]] | None
) -> None:
    """The sync's own issues beside validation's: each write that failed or was left unknown, each record held back
    (conflict, blocked), each warning of one that went ahead; and an invalid record's reason naming its errors. Each
    record's result is given its issues (`issues`, validation's, then these), as the report lists them."""
    # Validation's issues by record, read once before the sync's own are added: an invalid record's errors (below),
    # and every record's warnings (`checked`).
    invalid = any(r.plan.action == "invalid" for r in results)
    named = report.issues_named() if invalid or report.summary.warnings else {}
    for index, names in named.get(Severity.WARNING, {}).items():
        results[index].checked = names
    for index, result in enumerate(results):
        found: list[tuple[str, str, Severity]] = []
        if result.outcome in ("failed", "unknown") or result.held_back():
            code = _issue_code(result)
            severity = Severity.WARNING if code == "sync_blocked" else Severity.ERROR
            then = _RUN_AGAIN.get(code, "")
            # A write after this run's create: the trainee is in Register, whatever the message says of this write.
            created = (
                f" (the trainee itself was created by this run: {result.plan.trainee_id})"
                if result.created
                else _landed_before(result.landed)
                if result.outcome in REFUSED
                else ""
            )
            found += [
                (code, m + ("" if " again" in m else then) + created, severity)  # our own words may say so already
                for m in result.errors or [result.plan.reason or "the write did not complete"]
            ]
        found += [(code, message, Severity.WARNING) for code, message in result.warnings()]
        if issues is not None:
            result.issues = issues[index]
        if found:
            record = records[index]
            own = [
                _api_issue(record, *issue, named=_named_field(result, issue[0]) or _not_kept_field(record, *issue[:2]))
                for issue in found
            ]
            report.add_batch_issues((index, issue) for issue in own)
            if issues is not None:
                result.issues += tuple(own)
    # An invalid record's row in results.csv names its errors: in a spreadsheet of results, "failed validation" alone
    # sent people to search issues.csv for the record.
    if invalid:
        for index, errors in named[Severity.ERROR].items():
            plan = results[index].plan
            if plan.action == "invalid":  # its reason is NOT_SENT_INVALID (plan_record, _unplanned)
                plan.reason = f"{NOT_SENT_INVALID}: {', '.join(errors)}. issues.csv has each one's value and message"


def _request_figures(run: SyncRun, count: int, elapsed: float) -> SyncRequestCounts:
    """report.json's sync.requests: the run's counts, with requests per trainee of the `count` records (a
    first-class figure) and the pace achieved."""
    counts = run.client.stats.since(run.counted_before).as_dict()
    total = counts["total"]
    return {
        **counts,
        # Three decimals, or more for a small figure: the dry run of a first migration lists a few pages for thousands
        # of records, which rounded to 3 decimals read "0.0 per record" (review118 F2).
        "per_trainee": significant(total / count) if count else 0.0,
        "seconds": significant(elapsed),
        "per_second": significant(total / elapsed) if elapsed > 0 else 0.0,
    }


def _waits(results: list[RecordResult]) -> list[datetime]:
    """The times the records left unknown until a time (`sync_waits`) may be finished after: the summary line and
    report.json's `sync.waiting` say the latest."""
    return [r.again_after for r in results if r.outcome == "unknown" and r.again_after is not None]


def lists_changed(results: list[RecordResult], lists: ReferenceData) -> dict[str, Any] | None:
    """report.json's sync.lists_changed: the failed records whose code Register refused though the lists in use
    (`lists`) have it (`RecordResult.stale`: its lists changed since, review210 F5), those it refused apart from those
    held back unsent after its refusal of the same code for another record (`not_sent`); and the words the summary
    line and report.html's summary box both say them in (review223 F1). None when there are none."""
    stale = [r for r in results if r.outcome == "failed" and r.stale]
    if not stale:
        return None
    codes = list(dict.fromkeys(code for r in stale for code in r.stale))
    not_sent = sum(1 for r in stale if r.not_sent)
    refused = len(stale) - not_sent
    named = ", ".join(codes[:3]) + (", …" if len(codes) > 3 else "")
    how = f"{refused} refused by Register" + (f" and {not_sent} not sent after the same refusal," if not_sent else "")
    return {
        "records": len(stale),
        "refused": refused,
        "not_sent": not_sent,
        "codes": codes,
        "message": f"{how} for {named}: Register's code lists have changed since those in use, {lists.source}: run "
        "`register-batch reference pull` and `register-batch reference diff`",
    }


def _waiting(results: list[RecordResult]) -> dict[str, Any] | None:
    """report.json's `sync.waiting`: how many records are left unknown until a time (`sync_waits`), and the latest
    such time; None when there is none."""
    waits = _waits(results)
    return {"records": len(waits), "until": max(waits).isoformat(timespec="seconds")} if waits else None


def _finish(
    run: SyncRun,
    report: ReportBuilder,
    records: RecordSpool,
    planned: _Planned,
    why: dict[str, Any] | None,
    elapsed: float,
    issues: list[tuple[Issue, ...]] | None,
) -> SyncResult:
    """Write the reports and close the ledger's run; raise Interrupted (with the result) for a run stopped part-way."""
    options, ledger = run.options, run.ledger
    if run.created_under:  # named by their records' results (`_adopt`), and settled in the ledger there
        kept = [
            (e, row)
            for e, row in zip(planned.orphans, planned.unanswered, strict=True)
            if e.key not in run.created_under
        ]
        planned.orphans, planned.unanswered = [e for e, _row in kept], [row for _e, row in kept]
    results, unmatched = planned.results, planned.unmatched
    # Those a record names (`_claimed_by_records`) are settled with the others, and reported on their records only.
    unanswered = [
        row for e, row in zip(planned.orphans, planned.unanswered, strict=True) if e.key not in planned.claimed
    ]
    _add_sync_issues(report, records, results, issues)
    requests = _request_figures(run, len(results), elapsed)
    # Trainees Register holds in the extract's cycles that no record matched, and, the night the extract lacks a
    # cycle the last run's had, those Register lists in it (`_of_cycles_lacked`): told apart as the others are
    # (finished, course ended, deferred), each with its academic cycle, not only the current ones counted (review227
    # F2: the first new-cycle-only night said nothing of last year's trainees still to recommend). For
    # reconciliation, never touched.
    listed_ids = {t["trainee_id"] for t in unmatched}
    lacked_rows = [t for t in planned.lacked if t["trainee_id"] not in listed_ids]
    outside = [*unmatched, *lacked_rows]
    last_synced = _last_synced(ledger, outside)
    not_in_extract = [
        {
            **{k: t.get(k) for k in NOT_IN_EXTRACT_COLUMNS if k not in ("last_synced", "academic_cycle")},
            "last_synced": last_synced.get(t["trainee_id"]),
            "academic_cycle": start_cycle(t),
        }
        for t in outside
    ]
    group_of = [not_in_extract_group(row, run.as_of) for row in not_in_extract]
    groups = Counter(group_of)
    # The current ones of the cycles tonight's extract lacks (listed after tonight's cycles' own), told apart in
    # sync_extract_lacks_synced's words
    lacked = group_of[len(unmatched) :].count("not_sent")
    run_warnings = _run_warnings(run, report, results, groups["not_sent"] - lacked, lacked)
    interrupted = why is not None
    outcomes = Counter(r.outcome for r in results)
    status = run_status(interrupted, outcomes)
    summary = {
        "target": options.target_label or options.target,
        "dry_run": options.dry_run,
        "interrupted": interrupted,
        "stopped": why,  # why it stopped part-way: {"by": "signal" | "stop" | "register" | "token", "message": ...}
        # As the ledger keeps it and the next run's previous_run says it: exit 3 for a run that was not stopped too.
        "status": status,
        "requests": requests,
        "actions": dict(Counter(r.plan.action for r in results)),
        "outcomes": dict(outcomes),
        "written": dict(written(results, options.dry_run)),  # as the summary line counts them
        "joined": joined(results),  # the withdrawals and deferrals planned with a create or update, by outcome
        "state_dir": printable(str(options.state_dir)),
        "not_in_extract": len(not_in_extract),
        # The cycles the extract lacks whose trainees not_in_extract lists too (`_of_cycles_lacked`): the first night
        # only
        "cycles_lacked": sorted(run.cycles_lacked),
        # Those of them this state dir synced before, by what it means (NOT_IN_EXTRACT_GROUPS), as of `as_of`
        "not_in_extract_synced": {
            **{group: groups[group] for group in NOT_IN_EXTRACT_GROUPS},
            "as_of": run.as_of.isoformat(),
        },
        "unanswered_elsewhere": len(unanswered),
        # The unknown records held back while a request that had no answer may still land (sync_waits), and the
        # latest time their messages say to run again after: report.html's summary box says it (review157 F1).
        "waiting": _waiting(results),
        # The records Register refused a code of that the lists in use have, and those held back after it (F1)
        "lists_changed": lists_changed(results, run._lists),
        # A dry run's estimate of the real run started now (`real_run_estimate`); none for a real run, whose requests
        # are counted, nor a dry run stopped before its plan was whole.
        "estimate": real_run_estimate(
            results, requests, run.client.limiter, answer_time(run.client.stats.since(run.counted_before))
        )
        if options.dry_run and not interrupted
        else None,
        # The warnings the sync itself gave (the summary line and report.html's summary name them), by code: the
        # records', and the run's own (run_warnings, below: RUN_ONLY_WARNINGS are no record's).
        "warnings": dict(
            sorted(
                (
                    Counter(code for r in results for code, _message in r.warnings())
                    + Counter({w["code"]: w["count"] for w in run_warnings if w["code"] in RUN_ONLY_WARNINGS})
                ).items()
            )
        ),
        "run_warnings": run_warnings,
        # Which run of this state dir's ledger this is, and the one before it (an interrupted one this run carries on
        # from): a stopped or resumed sync's report says which run it is. report.json's `run` says when it ran.
        "run_id": ledger.run_id,
        "previous_run": ledger.run_before(),
        # The report of an unfinished run this run's report would have replaced, moved aside (`_keep_unfinished_report`)
        "earlier_report": None,
    }

    # The reports, a file at a time, each reading every record's row: seconds for 10,000 records on a loaded machine,
    # which, said by nothing, looked like a hang after the last request (review134 F9). A plain line comes every
    # interval as the rows are read (`tick`), not only between two files.
    # Each row's ids cut as its issues' are (shown_ids): an over-long one no longer makes results.csv and report.json
    # the extract's size, or names the record otherwise than its issues do (review189 F1). RecordResult keeps them.
    def row(result: RecordResult) -> dict[str, Any]:
        task.tick()
        return shown_ids(result.row())

    # The records' rows are made as each report reads them, not held (a row per record: reports.Rows): report.json,
    # report.html and results.csv each read them once.
    records_rows = Rows(results, row)
    more = {
        "results": ("results.csv", lambda fh: write_results(fh, records_rows)),
        "not_in_extract": ("not_in_extract.csv", lambda fh: write_not_in_extract(fh, not_in_extract)),
    }
    task = run.progress.task("Writing reports", total=report.file_count(more=more), unit="files", every=1, eta=False)
    report.extra = {
        # Whom the run was for: a report forwarded on its own, or one of several providers' in a shared folder, says
        # whose trainees it holds (review183 F2).
        "provider": {
            "ukprn": options.ukprn,
            "listed_ukprn": run.tokens_provider or run.state_provider,
            "config_file": None if options.config_file is None else printable(str(options.config_file)),
        },
        "settings": run_settings(options),
        "sync": summary,
        "records": records_rows,
        "not_in_extract": not_in_extract,
        "unanswered_elsewhere": unanswered,
    }
    cut_short = False  # a KeyboardInterrupt no handler of the run's took cut the report's writing short
    try:
        summary["earlier_report"] = _keep_unfinished_report(run)
        try:
            paths = report.write(options.report_dir, more=more, each_written=task.advance)
        except _Stop:  # the run's handler, on a second signal: it stops that too (docs/exit-codes.md)
            raise
        except KeyboardInterrupt:
            # A Ctrl-C the run installed no handler for (handle_signals=False, or the caller's own handler raising
            # it): the report is written in full all the same, as a first signal lets it finish, and the run ends
            # in Interrupted, not a bare KeyboardInterrupt with no report (review187 F1). A second one stops it.
            log.warning("KeyboardInterrupt while the report was written: finishing it (again to stop at once)")
            cut_short = True
            paths = report.write(options.report_dir, more=more)
    except UnwritableOutput as exc:  # a full disk: report.write checked the folder, not the room in it
        if not any(r.plan.steps and r.outcome in ("done", "failed", "unknown") for r in results):
            raise  # nothing was sent: exit 2 says so
        sent = SyncResult(report=report, results=results, report_paths={}, requests=requests, interrupted=interrupted)
        stopped = Interrupted.naming(
            "{problem}. The sync {went} but has no report: free space there or use another {report_dir}, then run the "
            "same sync again (nothing is sent twice). {summary}",
            problem=str(exc),
            went="stopped part-way" if interrupted else "went through",
            summary=sent.summary_line(),
        )
        stopped.result = sent
        raise stopped from None
    finally:
        task.close()
        # The report the result holds, read again by a caller, says nothing on the progress of a run long done.
        report.extra["records"] = Rows(results, RecordResult.row)
    # Only once the report is written: a run killed while writing it (or whose report found no room, `stop_run`) is
    # one whose writes no report lists, and the next run names them (`Ledger.ended_without_report`). A ledger with
    # no room for this mark loses nothing: every record's state is in it, and the next run says the disk is full.
    counts = {k: summary[k] for k in ("actions", "outcomes", "written")}
    # In one commit with the run's end: a run killed before it is one without a report, named again by the next.
    with contextlib.suppress(LedgerUnwritable), ledger.together():  # else named again by the next report
        if not options.dry_run:
            _settle_named(ledger, planned, records, run.field_key)
        ledger.finish_run(status, counts)
    synced = SyncResult(report=report, results=results, report_paths=paths, requests=requests, interrupted=interrupted)
    if why is not None:
        # The summary line, as a finished run ends with: "N records done" counted the unchanged ones with those written.
        raise Interrupted(
            f"interrupted; {synced.summary_line()} Run the same sync again to resume "
            f"(report: {paths.get('html', paths['json'])})",
            result=synced,
            by=why["by"],
        )
    if cut_short:
        raise Interrupted(
            f"interrupted while the report was written, once the run was done: the report is whole; "
            f"{synced.summary_line()} (report: {paths.get('html', paths['json'])})",
            result=synced,
            by="signal",
        )
    return synced


# How a real run ended that left work to resume (`run_status`): its report is the only one of the writes it made.
_UNFINISHED = ("interrupted", "unknown outcomes")


def _keep_unfinished_report(run: SyncRun) -> dict[str, Any] | None:
    """Move aside, rather than replace, the report of an unfinished real run of this state dir's ledger (interrupted,
    or outcomes left unknown) that the folder this run writes its report into holds: `--report-dir` given again, as
    the interrupted run's line says (run the same sync again). That report is the only one that lists the writes
    the run made, which this run's counts as `unchanged` (review231 F1). It goes into a folder in the report folder
    named after the run (`run-7-interrupted`); report.json's sync.earlier_report and the summary line say where.
    None when there is none: a finished run's report is replaced (docs/configuration.md), a dated folder is new."""
    folder = run.options.report_dir
    head = report_head(folder)
    if head is None:
        return None
    sync, times = head.get("sync"), head.get("run")
    if not isinstance(sync, dict) or sync.get("dry_run") is not False:
        return None
    started = times.get("started") if isinstance(times, dict) else None
    earlier = next((r for r in run.earlier_runs if r.run_id == sync.get("run_id")), None)
    # This ledger's run, by its number and its start (another state dir's run of the same number started otherwise)
    if earlier is None or earlier.status not in _UNFINISHED or not _same_moment(earlier.started_at, started):
        return None
    try:
        kept = move_reports(folder, f"run-{earlier.run_id}-{earlier.status.replace(' ', '-')}")
    except (OSError, UnwritableOutput) as exc:
        log.warning(
            "The report of run %s (%s) could not be moved aside, and this run's replaces it: %s",
            earlier.run_id,
            earlier.status,
            exc,
        )
        return None
    return {"run_id": earlier.run_id, "status": earlier.status, "moved_to": printable(str(kept))}


def _same_moment(stamp: str, other: object) -> bool:
    """Whether a runs table time (milliseconds) and a report's (to the second) are the same moment."""
    try:
        return isinstance(other, str) and datetime.fromisoformat(stamp) == datetime.fromisoformat(other)
    except ValueError:
        return False


def _settle_named(ledger: Ledger, planned: _Planned, records: RecordSpool, key: FieldKey) -> None:
    """Once the report is written, settle in the ledger what it is the first to name (said once): the earlier runs'
    unanswered writes for records not in the extract, their writes on records this run sent nothing for (`_write_all`,
    `_settle_unsent`), and every create this run or they carried out."""
    _settle_orphans(ledger, planned)
    # The earlier runs' writes of a record under its HUSID before the correction (`_moved_writes`): settled once the
    # record is done (Register holds it as the extract says, and no such request may still land: else it is unknown).
    done = {r.plan.trainee_id for r in planned.results if r.outcome == "done" and r.plan.trainee_id}
    for entry in planned.moved:
        if entry.trainee_id in done:
            ledger.record(entry.key, "done", trainee_id=entry.trainee_id, operation=entry.operation)
    for index, result in enumerate(planned.results):
        if result.plan.earlier is None:
            continue
        if result.outcome == "done" and not result.plan.steps:
            _settle_done(ledger, result.plan, synced_digests(records[index], key))
        elif result.outcome == "skipped" and result.plan.action in ("conflict", "blocked", "held"):
            _settle_skipped(ledger, result.plan)
    named = [
        r.plan.key
        for r in planned.results
        if r.plan.key and ((r.plan.earlier and r.outcome != "pending") or created_by_run(r))
    ]
    named += [r.plan.created_under for r in planned.results if r.plan.created_under and r.outcome != "pending"]
    # and the creates of records not in the extract this report named as settled (unanswered_elsewhere): a kept create
    # beside another settled write (a withdrawal after it) is not named there, and waits for its record
    named += [
        entry.key
        for entry, row in zip(planned.orphans, planned.unanswered, strict=True)
        if row["settled"] and entry.operation == "create"
    ]
    ledger.creates_reported(named)
    ledger.landed_reported(r.plan.key for r in planned.results if r.plan.key and r.plan.earlier)


def write_results(fh: IO[str], records: Iterable[dict[str, Any]]) -> None:
    """results.csv, one row per record (`records`: each one's `RecordResult.row`, as report.json's `records` has
    them); `fh` opened with newline="". Excel-safe as issues.csv is (csvsafe)."""
    from register_batch.csvsafe import write_for_spreadsheets

    def rows() -> Iterator[dict[str, Any]]:
        for row in records:
            row["errors"] = "; ".join(row["errors"])
            row["warnings"] = "; ".join(row["warnings"])
            row["changes"] = json.dumps(row["changes"], ensure_ascii=False) if row["changes"] else ""
            yield row

    write_for_spreadsheets(fh, RESULT_COLUMNS, rows(), as_text_columns=("provider_trainee_id", "hesa_id"))


def _synced_before(report: ReportBuilder) -> str:
    """The summary line's words for the trainees in Register but not in the extract that this state dir synced
    before (not_in_extract's `last_synced`): the SRS stopped sending them, which the others (added in Register's
    service, or of another cycle) are not (review180 F2). Only a current one is sent to the SRS export; finished ones
    and those whose course ended are said apart, with what to do (review201 F2)."""
    sync = report.extra.get("sync") or {}
    groups = sync.get("not_in_extract_synced") or {}
    said = []
    lacks = [w for w in sync.get("run_warnings") or () if w["code"] == EXTRACT_LACKS_SYNCED]
    # Those of a cycle the extract lacks have a sentence of their own after (`_run_warnings`): not said twice
    if count := (groups.get("not_sent") or 0) - sum(w.get("of_cycles_lacked") or 0 for w in lacks):
        # tonight's record count beside the last run's: a file cut short at a row's end looks whole (review208 F4)
        records = lacks[0]["records"] if lacks else None
        last = lacks[0].get("last_run_records") if lacks else None
        here = "in this extract" if sync.get("dry_run") else "tonight"
        counts = (
            f" ({records:,} {'record' if records == 1 else 'records'} {here}"
            + (f", {last:,} in the last run" if last is not None else "")
            + ")"
            if records is not None
            else ""
        )
        said.append(f"{count} synced before by this state dir, no longer sent by the SRS{counts}: check the SRS export")
    if count := groups.get("finished"):
        said.append(f"{count} finished (awarded, recommended or withdrawn)")
    if count := groups.get("course_ended"):
        said.append(
            f"{count} whose course ended by {groups.get('as_of')} and who are not recommended: recommend or withdraw "
            f"{'them' if count > 1 else 'the trainee'} in Register's service"
        )
    if count := groups.get("deferred"):  # Register recommends no deferred trainee (review206 F4)
        said.append(
            f"{count} deferred whose course ended by {groups.get('as_of')}: reinstate "
            f"{'them' if count > 1 else 'the trainee'} in Register's service when back in training, or withdraw "
            f"{'them' if count > 1 else 'the trainee'}"
        )
    return "".join(f"; {words}" for words in said)


def _last_synced(ledger: Ledger, unmatched: list[ListedTrainee]) -> dict[str, str]:
    """Trainee id -> the day this state dir last synced a record to it (`Ledger.last_synced`), for the trainees no
    record of the extract matched: those the SRS stopped sending. A UTC day, as the ledger's times are (review185 F4:
    said so in the docs and report.json's schema, as the warning's date is)."""
    return {k: v[:10] for k, v in ledger.last_synced(t["trainee_id"] for t in unmatched).items()}


def write_not_in_extract(fh: IO[str], trainees: list[dict[str, Any]]) -> None:
    """not_in_extract.csv: every trainee Register holds in the extract's cycles (and, the first night without it, in
    a cycle the last run's extract had) that no record matched, for the reconciliation someone must do by hand (sync
    leaves them alone); a header alone when there are none, so that a job finds the same files every night.
    Excel-safe as results.csv is."""
    from register_batch.csvsafe import write_for_spreadsheets

    write_for_spreadsheets(
        fh,
        NOT_IN_EXTRACT_COLUMNS,
        trainees,
        as_text_columns=("provider_trainee_id", "hesa_id", "trainee_start_date", "last_synced", "itt_end_date"),
    )
