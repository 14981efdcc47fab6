"""The domain's data: trainees as Register API v2026.1 request bodies, where they came from, and issues.

Codes are always strings with their zero padding (register-api.md §5.1). The validation hot path works on
plain dicts keyed by these field names (`TraineeRecord.data`); the pydantic models give the same data a
typed, documented shape for library users and for request bodies.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from register_batch.constants import API_VERSION as API_VERSION  # there for the command line's start-up

# UK Provider Reference Numbers are 8 digits and start with 1 (glossary.md); ASCII digits only (`\d` would take
# any script's digits, which no UKPRN has).
UKPRN_FORM = re.compile(r"1[0-9]{7}")
# Register's trainee states (register-api.md §6) in words, for messages: "recommended_for_award" read as a code.
STATE_WORDS = {
    "draft": "a draft",
    "submitted_for_trn": "submitted for a TRN",
    "trn_received": "holding a TRN",
    "deferred": "deferred",
    "withdrawn": "withdrawn",
    "recommended_for_award": "recommended for award",
    "awarded": "awarded",
}
# The states Register's API writes nothing to (register-api.md §6, StateTransitionError): sync.plan's READ_ONLY_STATES.
READ_ONLY_STATES = frozenset({"recommended_for_award", "withdrawn", "awarded"})
# The trainees not in the extract that a state dir synced before, by what their leaving it means (review201 F2):
# not_sent, a current trainee the SRS no longer sends (check the SRS export); finished, recommended for award, awarded
# or withdrawn in Register (nothing to do); course_ended, by the run's as-of date, and not recommended (recommend or
# withdraw them in Register's service); deferred, deferred in Register with the course's end passed by then (Register
# recommends no deferred trainee: reinstate them in Register's service when they return, or withdraw them; review206
# F4). report.json's sync.not_in_extract_synced counts each.
NOT_IN_EXTRACT_GROUPS = ("not_sent", "finished", "course_ended", "deferred")
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def not_in_extract_group(row: Mapping[str, Any], as_of: date) -> str | None:
    """Which of NOT_IN_EXTRACT_GROUPS a trainee not in the extract is in (a row of not_in_extract: `last_synced`,
    `state`, `itt_end_date`); None for one the state dir never synced (added in Register's service, or synced by
    another state dir). At the next cycle's extract every finished trainee was called one the SRS stopped sending,
    every night: the one an export lost was buried among them."""
    if not row.get("last_synced"):
        return None
    if row.get("state") in READ_ONLY_STATES:
        return "finished"
    ended = row.get("itt_end_date")
    if isinstance(ended, str) and _DAY.fullmatch(ended):
        with contextlib.suppress(ValueError):
            if date.fromisoformat(ended) <= as_of:
                return "deferred" if row.get("state") == "deferred" else "course_ended"
    return "not_sent"


# The course subjects a blank clears, beside a given course_subject_1 (register-api.md §2.6: ALLOWED_NIL_PARAMS),
# where the record's input has a place for them (TraineeRecord.partial_lists names one it has not).
CLEARABLE_SUBJECTS = ("course_subject_2", "course_subject_3")
ALL_CLEARABLE_SUBJECTS = frozenset(CLEARABLE_SUBJECTS)  # all of them unsaid: partial_lists gains it
# The training initiatives a blank says "none" of (hesa-formats.md §2.3.12: a blank is `no_initiative`; a PUT
# without training_initiative resets it, "" clears additional_training_initiative: register-api.md §2.6, §3.1),
# where the record's input says them: its CSV header has the column, or its HESA XML Student has the tag (NULL or
# empty too). An input that never gives them says nothing (TraineeRecord.partial_lists names them): Register keeps
# its. A HESA XML Student without the tag (some SRSs leave an empty tag out; HESA writes NULL, hesa-formats.md §1.4)
# says "none" only of one the SRS gave when this state dir last synced the record: TraineeRecord.untagged.
CLEARABLE_INITIATIVES = ("training_initiative", "additional_training_initiative")
ALL_CLEARABLE_INITIATIVES = frozenset(CLEARABLE_INITIATIVES)  # neither said: partial_lists gains it

# Writable trainee fields of §3.1, in Register's bulk-add template order (hesa-formats.md §3.1).
TRAINEE_FIELDS: tuple[str, ...] = (
    "provider_trainee_id",
    "application_id",
    "hesa_id",
    "first_names",
    "middle_names",
    "last_name",
    "previous_last_name",
    "date_of_birth",
    "ni_number",
    "sex",
    "email",
    "nationality",
    "ethnicity",
    *(f"disability{n}" for n in range(1, 10)),
    "itt_aim",
    "training_route",
    "itt_qualification_aim",
    "course_subject_1",
    "course_subject_2",
    "course_subject_3",
    "study_mode",
    "itt_start_date",
    "itt_end_date",
    "course_age_range",
    "course_year",
    "training_partner_urn",
    "training_partner_ukprn",
    "employing_school_urn",
    "trainee_start_date",
    "pg_apprenticeship_start_date",
    "fund_code",
    "funding_method",
    "training_initiative",
    "additional_training_initiative",
    "iqts_country",
)
# What Register refuses a trainee without (register-api.md §3.2: TraineeAttributes' and HesaTraineeDetailAttributes'
# REQUIRED_ATTRIBUTES, and email).
REQUIRED_FIELDS: tuple[str, ...] = (
    "first_names",
    "last_name",
    "date_of_birth",
    "sex",
    "training_route",
    "itt_start_date",
    "itt_end_date",
    "course_subject_1",
    "hesa_id",
    "email",
    "itt_aim",
    "course_year",
    "course_age_range",
    "fund_code",
    "funding_method",
)
DEGREE_FIELDS: tuple[str, ...] = (
    "uk_degree",
    "non_uk_degree",
    "subject",
    "grade",
    "graduation_year",
    "institution",
    "country",
    "other_grade",
)
PLACEMENT_FIELDS: tuple[str, ...] = ("urn", "name", "postcode")
WITHDRAWAL_FIELDS: tuple[str, ...] = (
    "withdrawal_date",
    "reasons",
    "trigger",
    "future_interest",
    "another_reason",
    "safeguarding_concern_reasons",
)
DEFERRAL_FIELDS: tuple[str, ...] = ("defer_date", "defer_reason")
# The trainee keys Register shows a withdrawal and a deferral under (§3.6), by request field (§3.9, §3.10).
HELD_WITHDRAWAL = {name: name if name.startswith("withdrawal_") else f"withdrawal_{name}" for name in WITHDRAWAL_FIELDS}
HELD_DEFERRAL = {name: name for name in DEFERRAL_FIELDS}


# An application_id as Rails' only_integer reads one ([0-9] only: Python's \d takes any script's digits).
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def as_sent(data: dict[str, Any]) -> dict[str, Any]:
    """A trainee request body (`data`, POST or PUT) as it goes to Register: `application_id` a JSON integer, as
    register-api.md §3.1 and the v2026.1 OpenAPI request say and as Register holds it (application_choice_id, an
    integer column; review171 F4). Only here, on the way out (the client, convert's json): the record, its plan and
    the ledger's digests keep the text read, so a trainee a version that sent "56789" created is not changed by the
    next run, and compare.normal reads both as the same number. Its length (≤ 7) is checked on that text, which is
    never shorter than the integer's digits: what validate passes, Register does not refuse for length either way.
    One that is not a whole number (application_id_not_integer, an error: never sent) is left as it is."""
    value = data.get("application_id")
    if isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value):
        return {**data, "application_id": int(value)}
    return data


def request_body(trainee: Mapping[str, Any]) -> dict[str, Any]:
    """A Register trainee object (§3.6) as the v2026.1 request body it corresponds to (§3.1): what export writes of
    it, and what sync merges an update into (sync/merged.py)."""
    body: dict[str, Any] = {}
    for name in TRAINEE_FIELDS:
        value = trainee.get(name)
        if value is None or value == "":
            continue
        body[name] = str(value)
    degrees = []
    for degree in trainee.get("degrees") or []:
        item = {k: str(degree[k]) for k in DEGREE_FIELDS if degree.get(k) not in (None, "")}
        if item:
            degrees.append(item)
    if degrees:
        body["degrees_attributes"] = degrees
    placements = [
        {k: str(p[k]) for k in ("urn", "name") if p.get(k) not in (None, "")} for p in trainee.get("placements") or []
    ]
    if placements:
        body["placements_attributes"] = placements
    return body


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


# Every model builds its pydantic validator on first use (defer_build), not at import: `register-batch validate`
# starts about 0.1 s sooner and, on the XML path, never needs one (see make_issue and the XML reader).


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where a record came from: the input as the user named it, 1-based record number, line, and `row`: a CSV
    record's row as a spreadsheet numbers it (header row 1), given only where it differs from `line` (after a quoted
    cell over several lines, Alt+Enter in Excel, each of whose lines a text editor counts), else None.

    A plain dataclass, not a pydantic model: one is made per record read, and its values come typed.
    """

    input: str
    record: int | None = None
    line: int | None = None
    row: int | None = None

    def place(self) -> str:
        """How a person finds the record in its input (`place`)."""
        return place(self.record, self.line, self.row)


def place(record: int | None, line: int | None, row: int | None = None) -> str:
    """How a person finds a record in its input, as the reports' location says it: `row 11 (line 12)` where a
    spreadsheet's row and a text editor's line differ, else `line 12` (the two are one), else `record 10` (rows a
    caller's code gave have no line)."""
    if row is not None and line is not None:
        return f"row {row} (line {line})"
    if line is not None:
        return f"line {line}"
    return f"record {record}"


class Issue(BaseModel):
    """One finding about one record (or the whole file when `record` is None).

    `code` is stable (see docs/rules.md); `field` is the v2026.1 API name, nested like
    `degrees_attributes[0].grade`; `message` uses the API's own wording where the API has one.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)

    input: str
    record: int | None = None
    line: int | None = None
    # A CSV record's spreadsheet row where it differs from `line` (SourceRef.row); None otherwise.
    row: int | None = None
    provider_trainee_id: str | None = None
    hesa_id: str | None = None
    field: str | None = None
    value: str | None = None
    code: str
    severity: Severity
    message: str

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR


# Every field is given to each issue made here: one set naming them all serves every issue (pydantic copies it for a
# model_copy), rather than a set of ten names per issue, two thirds of an issue's memory (a sync keeps each record's).
_construct_issue = functools.partial(Issue.model_construct, set(Issue.model_fields))


def make_issue(
    *,
    input: str,
    record: int | None = None,
    line: int | None = None,
    row: int | None = None,
    provider_trainee_id: str | None = None,
    hesa_id: str | None = None,
    field: str | None = None,
    value: str | None = None,
    code: str,
    severity: Severity,
    message: str,
) -> Issue:
    """`Issue(...)`, without pydantic's validation when every value already has the field's exact type.

    The hot path of validation (most values are plain str, int or None) skips building a validator; anything
    else (a number for an id in a request body, a severity given as text) goes through `Issue(...)` and is
    validated, or refused, exactly as before.
    """
    build: Callable[..., Issue]
    if (
        type(input) is str
        and type(code) is str
        and type(message) is str
        and type(severity) is Severity
        and (record is None or type(record) is int)
        and (line is None or type(line) is int)
        and (row is None or type(row) is int)
        and (provider_trainee_id is None or type(provider_trainee_id) is str)
        and (hesa_id is None or type(hesa_id) is str)
        and (field is None or type(field) is str)
        and (value is None or type(value) is str)
    ):
        build = _construct_issue
    else:
        build = Issue
    return build(
        input=input,
        record=record,
        line=line,
        row=row,
        provider_trainee_id=provider_trainee_id,
        hesa_id=hesa_id,
        field=field,
        value=value,
        code=code,
        severity=severity,
        message=message,
    )


# An issue as plain values, for a spool or a pipe between processes (marshal and pickle take it as it is).
IssueTuple = tuple[
    str, int | None, int | None, int | None, str | None, str | None, str | None, str | None, str, str, str
]


def issue_values(issue: Issue) -> IssueTuple:
    """The issue as a tuple of plain values (`issue_from_values` makes it again)."""
    return (
        issue.input,
        issue.record,
        issue.line,
        issue.row,
        issue.provider_trainee_id,
        issue.hesa_id,
        issue.field,
        issue.value,
        issue.code,
        issue.severity.value,
        issue.message,
    )


def issue_from_values(values: IssueTuple, renumbered: int | None = None) -> Issue:
    """The issue `issue_values` gave, its record number `renumbered` when given."""
    input_, record, line, row, provider_trainee_id, hesa_id, field, value, code, severity, message = values
    return make_issue(
        input=input_,
        record=record if renumbered is None else renumbered,
        line=line,
        row=row,
        provider_trainee_id=provider_trainee_id,
        hesa_id=hesa_id,
        field=field,
        value=value,
        code=code,
        severity=Severity(severity),
        message=message,
    )


class Degree(BaseModel):
    """A previous degree (§3.7): `uk_degree` or `non_uk_degree`, never both."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    uk_degree: str | None = None
    non_uk_degree: str | None = None
    subject: str | None = None
    grade: str | None = None
    graduation_year: str | None = None
    institution: str | None = None
    country: str | None = None
    other_grade: str | None = None


class Placement(BaseModel):
    """A school placement (§3.8)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    urn: str | None = None
    name: str | None = None
    postcode: str | None = None


class Withdrawal(BaseModel):
    """Body of `POST /trainees/{id}/withdraw` (§3.9)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    withdrawal_date: str | None = None
    reasons: list[str] = []
    trigger: str | None = None
    future_interest: str | None = None
    another_reason: str | None = None
    safeguarding_concern_reasons: str | None = None


class Deferral(BaseModel):
    """Body of `POST /trainees/{id}/defer` (§3.10)."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    defer_date: str | None = None
    defer_reason: str | None = None


class Trainee(BaseModel):
    """A `POST /trainees` body (§3.1): every writable field, codes as strings."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    provider_trainee_id: str | None = None
    application_id: str | None = None
    hesa_id: str | None = None
    first_names: str | None = None
    middle_names: str | None = None
    last_name: str | None = None
    previous_last_name: str | None = None
    date_of_birth: str | None = None
    ni_number: str | None = None
    sex: str | None = None
    email: str | None = None
    nationality: str | None = None
    ethnicity: str | None = None
    disability1: str | None = None
    disability2: str | None = None
    disability3: str | None = None
    disability4: str | None = None
    disability5: str | None = None
    disability6: str | None = None
    disability7: str | None = None
    disability8: str | None = None
    disability9: str | None = None
    itt_aim: str | None = None
    training_route: str | None = None
    itt_qualification_aim: str | None = None
    course_subject_1: str | None = None
    course_subject_2: str | None = None
    course_subject_3: str | None = None
    study_mode: str | None = None
    itt_start_date: str | None = None
    itt_end_date: str | None = None
    course_age_range: str | None = None
    course_year: str | None = None
    training_partner_urn: str | None = None
    training_partner_ukprn: str | None = None
    employing_school_urn: str | None = None
    trainee_start_date: str | None = None
    pg_apprenticeship_start_date: str | None = None
    fund_code: str | None = None
    funding_method: str | None = None
    training_initiative: str | None = None
    additional_training_initiative: str | None = None
    iqts_country: str | None = None
    degrees_attributes: list[Degree] = []
    placements_attributes: list[Placement] = []

    def to_api(self) -> dict[str, Any]:
        """The request body's `data`: optional keys omitted rather than null (§10 payload hygiene)."""
        return self.model_dump(exclude_none=True, exclude_defaults=False)


@dataclass(slots=True)
class TraineeRecord:
    """One source record after mapping: the API body, an optional withdrawal/deferral, and its issues.

    `data` holds TRAINEE_FIELDS plus `degrees_attributes`/`placements_attributes` lists of dicts; blank
    values are absent. `reported` names fields whose problem mapping already reported, so that
    validation does not report the same value twice. `partial_lists` names the lists of `data` that the
    input's format cannot hold in full (Register's CSV: one degree, three placement URNs; hesa-formats.md
    §3.1): a degree or placement such a record leaves out may still be the trainee's, so sync never deletes it. It
    names a CLEARABLE_SUBJECTS field too where the input has no place for it (a CSV header without its column, a tag of
    a user's mapping file in HESA XML): there a blank is "not said", and sync never clears Register's. And a
    CLEARABLE_INITIATIVES field the record does not give (no column for it; in HESA XML no tag for it on the Student).
    `untagged` names those of them a HESA XML Student leaves without their tag, where its field map reads one: sync
    takes such a blank for "none" of an initiative the ledger says the SRS gave when the record was last synced in
    full, which the SRS has so removed, where the file has the tag on some Student (its export gives initiatives);
    else it stays "not said" (sync/initiatives.py, review202 F1, review205). Whether other Students have an
    initiative plays no part: it flipped the meaning night by night.
    """

    source: SourceRef
    data: dict[str, Any]
    withdrawal: dict[str, Any] | None = None
    deferral: dict[str, Any] | None = None
    issues: list[Issue] = field(default_factory=list)
    reported: set[str] = field(default_factory=set)
    vintage: str | None = None
    partial_lists: frozenset[str] = frozenset()
    ukprn: str | None = None  # the provider the source says the record is of (F_UKPRN); never sent
    sources_seen: int = 0  # which mapped sources its input showed first in this record (mapping.SourceWatch)
    # The state changes its input can hold (withdrawal, deferral), each with the columns that say it (Mapper); shared
    # between records, never changed in place. None: not known (a record not read from an input).
    can_say: dict[str, str] | None = None
    # The line of each degree of `data` (degrees_attributes, in order) where the input says it: a HESA XML Student's
    # PREVIOUSQUALIFICATIONs, one or several (review164 F2). Empty when not known: an issue then names the record's
    # line.
    degree_lines: tuple[int | None, ...] = ()
    # The CLEARABLE_INITIATIVES of partial_lists whose HESA XML tag the Student lacks (see above); shared, never
    # changed in place.
    untagged: frozenset[str] = frozenset()
    # Sync's, on a record read back (sync/initiatives.py): each untagged initiative the ledger says the SRS gave when
    # the record was last synced, which its file has the tag for on no Student (so the blank is kept as "not said",
    # review205 F1/F2): (field, the ledger's digest of it, the tags read). The digest is kept as the record's own.
    kept_untagged: tuple[tuple[str, str, str], ...] = ()
    # A CSV record's YYYY-MM-DD trainee dates that a spreadsheet may have swapped (resaved.iso_dates), gathered by
    # Checker.check, which knows the input's format: empty for HESA XML, which no spreadsheet writes, so its records
    # cost nothing more (issue 6).
    swappable: tuple[tuple[str, str], ...] = ()

    def item_line(self, key: str, index: int) -> int | None:
        """The line of the record's degree `index` (`key` "degrees_attributes") where the input gives it
        (degree_lines), which an issue about that degree names; None for the record's own line: a CSV row holds its
        degrees on its own line, and no reader gives a placement's line."""
        lines = self.degree_lines if key == "degrees_attributes" else ()
        return lines[index] if index < len(lines) else None

    @property
    def hesa_id(self) -> str | None:
        return self.data.get("hesa_id")

    @property
    def provider_trainee_id(self) -> str | None:
        return self.data.get("provider_trainee_id")

    @property
    def misaligned(self) -> bool:
        """Whether the record's cells do not line up with its input's columns: a `malformed_record` naming no field
        (a CSV row with more or fewer cells than the header, a value under no header, a row cut in two). Its values
        stand under other fields' names, its SRS id, HUSID and UKPRN too, so no rule judges it, nor do the checks
        across records count it (review117 F8, review153 F2)."""
        issues = self.issues
        return bool(issues) and any(issue.code == "malformed_record" and issue.field is None for issue in issues)

    @property
    def has_errors(self) -> bool:
        # Most records have no issue: asked of each record twice, the empty list is answered without a generator
        return bool(self.issues) and any(issue.severity is Severity.ERROR for issue in self.issues)

    def issue(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        value: Any = None,
        severity: Severity = Severity.ERROR,
        line: int | None = None,
    ) -> Issue:
        """Record an issue about this record and return it; `line`: where in the input the issue is, if not on the
        record's first line (one of its degrees: a HESA XML element's, where no spreadsheet row differs)."""
        source = self.source
        found = make_issue(
            input=source.input,
            record=source.record,
            line=source.line if line is None else line,
            row=source.row if line is None or line == source.line else None,
            provider_trainee_id=self.data.get("provider_trainee_id"),
            hesa_id=self.data.get("hesa_id"),
            field=field,
            value=None if value is None else str(value),
            code=code,
            severity=severity,
            message=message,
        )
        self.issues.append(found)
        return found

    def trainee(self) -> Trainee:
        """The typed request body (raises pydantic.ValidationError on unknown keys)."""
        return Trainee.model_validate(self.data)
