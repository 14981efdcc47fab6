"""Export what Register holds: Register's bulk-add CSV, HESA ITT XML, JSON or JSON Lines.

Trainees are listed from `GET /trainees` oldest change first, each page after the first from the last change read
(`since`, register-api.md §10: `RegisterClient.iter_trainees`), and de-duplicated by `trainee_id`. Paged by offset,
a trainee that left the listing while it was read (its start moved to another cycle, withdrawn out of a `--status`,
deleted in Register) moved every later one a place forward, and the one moved onto a page already read was never
written. A trainee that changes during the export moves to the end of the listing: one not yet written is written as
it now is; one written already comes again and is dropped as a repeat (the file holds it as it was when read).
Every format streams: memory does not grow with the number of trainees.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, overload

from lxml import etree

from register_batch.api import UNAVAILABLE, RegisterClient, Unprocessable
from register_batch.api.client import RequestCounts, listed_at
from register_batch.api.errors import first_request_failed
from register_batch.arguments import checked_client, checked_folder, checked_progress, checked_whole
from register_batch.constants import EXPORT_FORMATS as EXPORT_FORMATS  # in constants.py for the command line
from register_batch.constants import TRAINEE_STATUSES as STATUSES
from register_batch.errors import ConfigError
from register_batch.fs import (
    StrPath,
    check_not_in_state_dir,
    check_output_ending,
    leftover_temporaries,
    private_writer,
)
from register_batch.mapping import Mapper
from register_batch.mapping.apply import COUNTRY_NOT_NATIONALITY, KOSOVO_NATIONALITY
from register_batch.mapping.loader import load_mapping
from register_batch.model import (
    HELD_DEFERRAL,
    HELD_WITHDRAWAL,
    REQUIRED_FIELDS,
    STATE_WORDS,
    Issue,
    SourceRef,
    TraineeRecord,
    request_body,
)
from register_batch.progress import SILENT, Progress
from register_batch.reference import DISABILITY_FIELDS, DISABILITY_KEY, load_reference
from register_batch.tokens import shown_value
from register_batch.validation.duplicates import DuplicateFinder
from register_batch.validation.providers import checked_ukprn
from register_batch.validation.runner import Validator
from register_batch.wording import CONTROL_CHARACTER, counted, cut_short, has_xml_unsafe, xml_safe
from register_batch.writers import (
    JsonArrayWriter,
    JsonLinesWriter,
    RegisterCsvWriter,
    abandon,
    placements_with_urn,
)

COLLECTION = "C24053"
_YEAR = re.compile(r"[0-9]{4}")
# F_DEGENDDT is a date like every HESA date tag (hesa-formats.md §1.4), but Register holds only the year
# (`graduation_year`, register-api.md §3.7). The export writes 1 January of that year and says so in a note: the
# earliest day of the year never puts a degree's end after an ITT start of the same year, and a YYYY-MM-DD
# graduation year is read back as its year by Register (§3.4) and by register-batch.
GRADUATION_TAG = "F_DEGENDDT"
GRADUATION_DAY = "01-01"
GRADUATION_NOTE = f"{GRADUATION_TAG} is written as 1 January of the graduation year: Register holds only the year"
# States the CSV and XML exports cannot hold (Register's template has no withdrawal or deferral columns; C24053 no
# recommendation or award, and the HESA XML export's WITHDRAWAL_* and DEFER_* say only a withdrawal or deferral held
# whole): without a note, such a trainee's row reads as one still in training.
NOTED_STATES = frozenset({"withdrawn", "deferred", "recommended_for_award", "awarded"})
STATE_HOLDERS = {
    "register-csv": "Register's CSV template has no column for it, so the row",
    "hesa-xml": "the HESA XML export has no tag for it, so the Student",
}
# Every HESA record can say a deferral (a dormant F_MODE, or the DEFER_* elements register-batch reads inside a
# Student: formats.md, Withdrawals and deferrals), so a deferred trainee's Student that says none reads back as "not
# deferred" and a sync of the export warns (sync_state_differs) every run. The XML export writes the deferral Register
# holds (defer_date, defer_reason: register-api.md §3.6, §3.10); a sync finds the trainee deferred already and sends
# nothing (§6: the API cannot reinstate). So too a withdrawal, as the WITHDRAWAL_* elements the reader takes beside
# DEFER_*: without them a rehearsal's sync of the file brought every withdrawn trainee back in training (review157
# F2). Only one Register holds whole is written: one held without the reasons, trigger or future interest the API
# now needs (§3.9: a withdrawal made before it did) would read back as an invalid record, and stays a note. So does one
# validate of the file would refuse (a reason's text with a line break: `read_back_notes`, review160 F2). A deferral
# needs only its date (§3.10): one whose reason validate would refuse is written without the reason, with a note, and
# reads back deferred (left out whole, every sync of the file would warn sync_state_differs).
# The values a withdrawal or deferral needs (§3.9, §3.10), by request field, as a note names them when Register holds
# one without them (`_lacking`).
WITHDRAWAL_NEEDS = {
    "withdrawal_date": "date",
    "reasons": "reasons",
    "trigger": "trigger",
    "future_interest": "future interest",
}
DEFERRAL_NEEDS = {"defer_date": "date"}


def reads_as_null(value: Any) -> bool:
    """Whether a value written to a HESA XML tag reads back as no value: the text `Null` in any case, HESA's NULL
    (hesa-formats.md §1.4), as the XML reader takes it."""
    return isinstance(value, str) and value.strip().lower() == "null"


def null_notes(body: dict[str, Any], *, refused: Collection[str]) -> list[str]:
    """Notes for values that are the text `Null` (a real surname) in HESA XML, where `NULL` is no value
    (hesa-formats.md §1.4) and there is no way to say otherwise. A CSV cell says it with a leading apostrophe
    (`csvsafe.protect`), which the readers keep as text, as Register does. `refused`: the fields validate of the
    Student as it reads back refuses for want of a value (`required`, `read_back_issues`): the whole Student is then
    refused, not only the value lost (review56 F1); an optional field's is only not seen (blank is never drift)."""
    named = sorted(k for k, v in body.items() if reads_as_null(v))
    if not named:
        return []
    lost = "holds the text 'Null', which reads back as no value (HESA's NULL)"
    notes = []
    if needed := [k for k in named if k in refused]:
        notes.append(
            f"{', '.join(needed)} {lost}: validate and sync of this file refuse the Student (required); the json and "
            "jsonl exports hold it"
        )
    if others := [k for k in named if k not in refused]:
        notes.append(f"{', '.join(others)} {lost}: validate and sync of this file will not see it")
    return notes


def state_note(
    trainee: dict[str, Any], to: str, refused: Collection[Issue] = (), *, refused_anyway: bool = False
) -> str | None:
    """A note for a trainee whose state (withdrawn, deferred, ...) the format `to` cannot hold, else None. `refused`:
    what validate of the HESA XML would refuse in the trainee's withdrawal or deferral (`read_back_notes`), which is
    then not written (of a deferral, its reason only: `HesaXmlWriter.write`), and the note says why.
    `refused_anyway`: validate of the file refuses the Student (the row) for another reason, which the next note says
    (`read_back_notes`' first): the note then says what is written, not how it reads back, which it does not
    (review164 F6), whatever the state's note."""
    state = str(trainee.get("state"))
    if state not in NOTED_STATES or to not in STATE_HOLDERS:
        return None
    only = f"; `--status {state}` exports only those" if state in STATUSES else ""
    kept = f"reads as a trainee in training (the json and jsonl exports hold the state and its dates{only})"
    if refused_anyway:  # it does not read back at all: the next note says why
        kept = (
            "would read as a trainee in training, but validate and sync of this file refuse it for another reason (the "
            f"next note; the json and jsonl exports hold the state and its dates{only})"
        )
    if to == "hesa-xml" and state in ("withdrawn", "deferred") and refused:
        noun = "withdrawal" if state == "withdrawn" else "deferral"
        why = "; ".join(dict.fromkeys(_refused_value(issue, noun) for issue in refused))
        written = (
            "the HESA XML export writes the deferral with its date only (DEFER_REASON NULL)"
            if state == "deferred"
            else "the HESA XML export writes no withdrawal for it"
        )
        if refused_anyway:
            return (
                f"{state} in Register, but {why}: {written}, and validate and sync of this file refuse the Student "
                f"for another reason (the next note); the json and jsonl exports hold the {noun}{only}"
            )
        if state == "deferred":
            return (
                f"deferred in Register, but {why}: {written}, so the Student reads back deferred without the reason "
                f"(the json and jsonl exports hold it{only})"
            )
        return f"withdrawn in Register, but {why}: {written}, so the Student {kept}"
    if to == "hesa-xml" and state in ("withdrawn", "deferred"):
        noun, needs = ("withdrawal", WITHDRAWAL_NEEDS) if state == "withdrawn" else ("deferral", DEFERRAL_NEEDS)
        lacking = _lacking(trainee, state)
        if not lacking:
            return None  # written as WITHDRAWAL_* or DEFER_* (HesaXmlWriter)
        return (
            f"{STATE_WORDS[state]} in Register without the {_joined([needs[name] for name in lacking])} a {noun} "
            f"needs: the HESA XML export writes no {noun} for it, so the Student {kept}"
        )
    return f"{STATE_WORDS[state]} in Register: {STATE_HOLDERS[to]} {kept}"


def _lacking(trainee: dict[str, Any], state: str) -> list[str]:
    """The request fields a withdrawn (deferred) trainee's withdrawal (deferral) needs (§3.9, §3.10) that Register
    holds no value of: a HESA XML Student cannot say it without them."""
    held, needs = (HELD_WITHDRAWAL, WITHDRAWAL_NEEDS) if state == "withdrawn" else (HELD_DEFERRAL, DEFERRAL_NEEDS)
    return [name for name in needs if trainee.get(held[name]) in (None, "", [])]


def _joined(words: list[str]) -> str:
    """`a`, `a and b`, `a, b and c`."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


# What a withdrawal's or deferral's value is that validate refuses, by rule code, as a note says it: by what the value
# holds, not the value (notes are printed, and a reason's text can be personal data). Another code is named only.
_REFUSED_TEXT = {
    "spreadsheet_formula": "starts with `=`, as a spreadsheet formula does",
    "spreadsheet_error": "is a spreadsheet's error value",
    "lost_letter": "has a `?` where a letter should be",
    "replacement_character": "holds U+FFFD, the replacement character",
}


def _refused_value(issue: Issue, noun: str) -> str:
    """`its withdrawal's another_reason holds a line break, which validate refuses (control_character)` (`noun`:
    withdrawal or deferral); for a rule not in _REFUSED_TEXT, `validate refuses its withdrawal's reasons
    (withdrawal_reasons_invalid)`."""
    name = str(issue.field).removeprefix("withdrawal_")
    value = str(issue.value)
    if issue.code == "control_character":
        held = "line break" if "\n" in value or "\r" in value else "tab" if "\t" in value else "control character"
        what: str | None = f"holds a {held}"
    else:
        what = _REFUSED_TEXT.get(issue.code)
    if what is None:
        return f"validate refuses its {noun}'s {name} ({issue.code})"
    return f"its {noun}'s {name} {what}, which validate refuses ({issue.code})"


def missing_note(trainee: dict[str, Any], to: str) -> str | None:
    """A note for a trainee Register holds (§3.6: its fields named as a request's) without a field it requires of a
    request (§3.2), else None: one it got from Apply, or a user added in its web service, has no HESA detail (no
    itt_aim, course_year or fund_code: §3.6). Its row or Student does not read back (validate refuses it) until the SRS
    fills them in."""
    if to not in STATE_HOLDERS:
        return None
    missing = [name for name in REQUIRED_FIELDS if trainee.get(name) in (None, "")]
    if not missing:
        return None
    return (
        f"Register holds no {', '.join(missing)} for this trainee (one from Apply or added in Register's service is "
        "held without its HESA details): validate and sync of this file refuse it until they are filled in"
    )


# Refusals another note names already: a control character (the writers' own note, by field); a field Register holds
# no value for is missing_note's, which is given instead of this one (rules that follow from it would be noise), and
# one whose text 'Null' reads back as no value in HESA XML is null_notes' (review56 F1).
_NOTED_ELSEWHERE = frozenset({"control_character", "required"})


def read_back_issues(
    held: dict[str, Any],
    validator: Validator,
    read_by: Mapper | None = None,
    *,
    deferral: dict[str, Any] | None = None,
    withdrawal: dict[str, Any] | None = None,
) -> list[Issue]:
    """The errors validate (and sync) of the file finds in a trainee's row or Student: `held`, what the file holds of
    the trainee's body as it reads back (the writer's `held`: in HESA XML, without a value that is the text `Null`),
    checked with its legacy codes read as validate reads them (`read_by`, review44 F6), and with the deferral and
    withdrawal the HESA XML writes (`deferral`: a defer_reason starting with `=`, review82 F2; `withdrawal`: one
    Register holds with a reason its rules now refuse, say), what of which is refused the export leaves out
    (`read_back_notes`)."""
    issues = validator.check_body(held, read_by, deferral=deferral, withdrawal=withdrawal)
    return [issue for issue in issues if issue.is_error]


def required_fields(issues: list[Issue]) -> set[str]:
    """The fields `issues` refuse for want of a value (`required`)."""
    return {issue.field for issue in issues if issue.code == "required" and issue.field}


def refused_note(issues: list[Issue], held: dict[str, Any], sent: dict[str, Any] | None = None) -> str | None:
    """A note for a trainee whose row or Student validate (and sync) of this file refuse for more than the HESA
    details `missing_note` names: Register can hold what its rules refuse of a request now (its only degree deleted
    in Register's service, a rule of a later API version; review40 F4), else None. `issues` are validate's errors of
    `held`, what of the trainee's body the row or Student holds as it reads back (`read_back_issues`): what the file
    leaves out (a second degree in the CSV, a middle_names with no column or tag) is not refused by validate of it,
    and a note saying it is would be false.
    A rule refused only for want of a field Register holds (`sent`, the trainee's whole body) and the file leaves out
    (HESA XML has no tag for iqts_country) is said to be so: it is not Register's (review48 F7).
    Named by rule code and field only: notes are printed, and a value can be personal data."""
    refused = sorted({(i.code, i.field) for i in issues if i.code not in _NOTED_ELSEWHERE})
    if not refused:
        return None
    said = ", ".join(f"{code} ({where})" if where else code for code, where in refused)
    left_out = sorted({where for _code, where in refused if where and _left_out(where, held, sent or {})})
    if left_out and all(where in left_out for _code, where in refused):
        return (
            f"validate and sync of this file refuse it: {said}, for want of {', '.join(left_out)}, which Register "
            "holds and this format has no place for (the json and jsonl exports hold it)"
        )
    return (
        f"validate and sync of this file refuse it: {said}; `register-batch validate` on the file says why. "
        "Register holds it as its service or an earlier rule let it be"
    )


def _left_out(field: str, held: dict[str, Any], sent: dict[str, Any]) -> bool:
    """Whether Register holds a value of `field` that the file's row or Student does not."""
    return sent.get(field) not in (None, "", []) and held.get(field) in (None, "", [])


def read_back_notes(
    trainee: dict[str, Any],
    to: str,
    held_of: Callable[[dict[str, Any]], dict[str, Any]],
    validator: Validator,
    read_by: Mapper | None,
    duplicates: InFileDuplicates | None = None,
) -> tuple[list[str], list[str], list[Issue]]:
    """What validate (and sync) of the file say of a trainee's row or Student, checked once as it reads back
    (`held_of`, the writer's `held`), before it is written: the notes put before the writer's (Register holds no value
    for a required field: missing_note; else another refusal: refused_note), those after them (a value that is the
    text `Null` in HESA XML, which a refusal for want of it follows from: null_notes), and what of the withdrawal or
    deferral the HESA XML would write validate refuses (a reason's text typed in Register's service with a line
    break, a tab or a lost letter, say), which the writer then leaves out (`HesaXmlWriter.write`) and `state_note`
    names: written, it made the whole Student refused (review160 F2; the API cannot change a withdrawal or a
    deferral, so it cannot be corrected in Register). The notes are of the Student without it. What the row or
    Student reads back as is also given to `duplicates`, for the checks across the file."""
    body = request_body(trainee)
    held = as_read(held_of(body))
    if duplicates is not None:
        duplicates.add(_trainee_id(trainee), held)
    deferral = as_read(xml_deferral(trainee)) if to == "hesa-xml" else None
    withdrawal = as_read(xml_withdrawal(trainee)) if to == "hesa-xml" else None
    issues: list[Issue] = []
    refused: list[Issue] = []
    for issue in read_back_issues(held, validator, read_by, deferral=deferral, withdrawal=withdrawal):
        (refused if issue.field in LEFT_OUT_WHEN_REFUSED else issues).append(issue)
    if (first := missing_note(trainee, to)) is None:
        first = refused_note(issues, held, body)
    last = null_notes(body, refused=required_fields(issues)) if to == "hesa-xml" else []
    return ([] if first is None else [first]), last, refused


@overload
def as_read(values: dict[str, Any]) -> dict[str, Any]: ...
@overload
def as_read(values: None) -> None: ...
def as_read(values: dict[str, Any] | None) -> dict[str, Any] | None:
    """Values as validate's readers give them back from the file: text trimmed as `str.strip` trims it (a no-break
    space too), one left blank as no value; degrees and placements alike. Register holds ` =sum(1)` as sent, and
    validate of the file refuses `=sum(1)` (review84 F2)."""
    if values is None:
        return None
    read: dict[str, Any] = {}
    for key, value in values.items():
        if isinstance(value, str):
            value = value.strip() or None
        elif isinstance(value, list):
            value = [as_read(item) if isinstance(item, dict) else item for item in value]
        read[key] = value
    return read


DUPLICATE_NOTE = (
    "another trainee in this file has the same one: Register holds both (a student's course changed within the year?); "
    "give validate or sync the file without the row or Student of the course that ended"
)


class InFileDuplicates:
    """Validate's checks across a file (duplicate_hesa_id, duplicate_provider_trainee_id: validation/duplicates.py) of
    the rows or Students an export writes, as they read back. Register can hold two trainees of one HUSID and SRS id
    starting in one year (a course changed within it, hesa-formats.md §1.5), and validate of the file refuses both
    (review82 F3). Its finder keeps digests, not values; the trainee ids are kept to name them in notes."""

    def __init__(self) -> None:
        self._finder = DuplicateFinder()
        self._trainee_ids: list[str | None] = []

    def add(self, trainee_id: str | None, held: dict[str, Any]) -> None:
        number = len(self._trainee_ids) + 1
        self._finder.add(TraineeRecord(source=SourceRef(input="export", record=number), data=held))
        self._trainee_ids.append(trainee_id)

    def notes(self) -> list[ExportNote]:
        """A note for each trainee the file's duplicate checks refuse, in the file's order (read once)."""
        refused: dict[int, set[tuple[str, str | None]]] = {}
        for index, issue in self._finder.issues():
            if issue.is_error:
                refused.setdefault(index, set()).add((issue.code, issue.field))
        self.close()
        return [
            ExportNote(
                self._trainee_ids[index],
                "validate and sync of this file refuse it: "
                f"{', '.join(f'{code} ({where})' for code, where in sorted(said))}; {DUPLICATE_NOTE}",
            )
            for index, said in sorted(refused.items())
        ]

    def close(self) -> None:
        self._finder.close()


# Register keeps every `disabilityN` key it is sent (DISABILITY_KEY) and GET echoes them (register-api.md §5.3, §3.6);
# its CSV template and C24053 have nine places (hesa-formats.md: disability1-9, F_DISABLE1-9).
DISABILITY_PLACES = {
    "register-csv": "Register's CSV template has columns for disability1 to disability9 only",
    "hesa-xml": "the HESA XML has tags for disability1 to disability9 only (F_DISABLE1 to F_DISABLE9)",
}


def disabilities_note(trainee: dict[str, Any], to: str) -> str | None:
    """A note naming the disability keys Register holds past the nine the format `to` has places for (disability10
    and on), else None: the row or Student is written without them, and moving one into a free place would make it a
    disability Register's create does not count (it maps disability1-9 only)."""
    if to not in DISABILITY_PLACES:
        return None
    extra = []
    for key, value in trainee.items():
        found = DISABILITY_KEY.fullmatch(key)
        if found and key not in DISABILITY_FIELDS and value not in (None, ""):
            digits = found[1].lstrip("0")
            extra.append((len(digits), digits, key))  # in number order, however long (int() refuses 4,300 digits)
    if not extra:
        return None
    named = ", ".join(cut_short(key) for *_n, key in sorted(extra))
    return f"{named} left out: {DISABILITY_PLACES[to]} (the json and jsonl exports hold them)"


def xml_deferral(trainee: dict[str, Any]) -> dict[str, Any] | None:
    """The deferral of a trainee Register holds as deferred, as the record fields the HESA XML export writes (see
    HELD_DEFERRAL), or None: another state, or a deferral without its date (which the API needs, §3.10)."""
    if trainee.get("state") != "deferred" or _lacking(trainee, "deferred"):
        return None
    return {field: trainee.get(key) for field, key in HELD_DEFERRAL.items()}


def xml_withdrawal(trainee: dict[str, Any]) -> dict[str, Any] | None:
    """The withdrawal of a trainee Register holds as withdrawn, as the record fields the HESA XML export writes (see
    HELD_WITHDRAWAL: `reasons` a list of codes), or None: another state, or a withdrawal without its date, reasons,
    trigger or future interest (which the API needs, §3.9: one made before it did), which would read back refused."""
    if trainee.get("state") != "withdrawn" or _lacking(trainee, "withdrawn"):
        return None
    return {field: trainee.get(key) for field, key in HELD_WITHDRAWAL.items()}


_WITHDRAWAL_LABELS = frozenset(HELD_WITHDRAWAL.values())  # how validate names a withdrawal's fields
# The fields of a withdrawal or deferral the HESA XML leaves out when validate of the file would refuse them
# (`read_back_notes`): a withdrawal's, which is then left out whole (a withdrawal needs each of its values, §3.9), and
# a deferral's reason, which alone is (a deferral needs only its date, §3.10).
LEFT_OUT_WHEN_REFUSED = _WITHDRAWAL_LABELS | {HELD_DEFERRAL["defer_reason"]}


LISTED_UNDER_IT = "Register lists its trainees under that UKPRN"  # how a token's provider is known, at the least
NOTHING_WRITTEN = "nothing was written"
# The token a refusal names, as the library says it: the command line says where this run's came from (review183 F1).
THE_TOKEN = {"the_token": "the API token"}


def another_providers(
    listed: str,
    expected: str,
    source: str,
    *,
    how: str = LISTED_UNDER_IT,
    written: str = NOTHING_WRITTEN,
    again: str = "",
) -> ConfigError:
    """The refusal of a token that is another provider's than the `ukprn` given (with `source`): Register files every
    trainee it lists under the token's provider (register-api.md §3.6, `ukprn`). A vendor's job for one provider run
    with another's token would otherwise write that provider's trainees, their personal data, where this one's are
    kept (an export), or send them to the wrong account (a sync, which says `how` it knows and what was `written`)."""
    return ConfigError.naming(
        "{the_token} is provider {listed}'s ({how}), not {expected}'s, given with {source}: {written}. Use "
        "{expected}'s token, or correct {source}.{again}",
        said=THE_TOKEN,
        listed=listed,
        how=how,
        expected=expected,
        source=source,
        written=written,
        again=again,
    )


def _checked_filters(status: str | None, academic_cycle: int | None) -> int | None:
    """The status and academic cycle of a listing, refused before anything is sent (the status masked, as every
    refusal here: review228 F6); the cycle, a whole number, as the query string gets it."""
    if status is not None and status not in STATUSES:
        raise ConfigError(f"status {shown_value(status)} is not one of {', '.join(STATUSES)}")
    return None if academic_cycle is None else checked_whole("academic_cycle", academic_cycle)


def iter_register_trainees(
    client: RegisterClient,
    *,
    academic_cycle: int | None = None,
    status: str | None = None,
    since: str | None = None,
    per_page: int = 500,
) -> Iterator[dict[str, Any]]:
    """Every trainee Register lists for the filters, each once, oldest change first (see the module docstring)."""
    academic_cycle = _checked_filters(status, academic_cycle)
    return client.iter_trainees(
        academic_cycle=academic_cycle, status=status, since=since, sort_order="asc", per_page=per_page
    )


# The forms Ruby's DateTime.iso8601 and Python both read the same way (a time needs hh:mm, §2.3).
_SINCE = re.compile(r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[Zz]|[+-]\d{2}:?\d{2})?)?")
SINCE_EXAMPLE = "e.g. 2026-11-01 or 2026-11-01T00:00:00Z"


def readable_since(value: str) -> bool:
    """Whether `value` is a `since` both Register and this module read as the same moment, on a day that exists:
    the listing's later pages start from the later of it and the last change read (`RegisterClient.iter_trainees`)."""
    return _SINCE.fullmatch(value) is not None and listed_at(value) is not None


# The listing's parameters a caller gives (register-api.md §2.3). Register answers 422 for a value it does not take,
# its errors keyed by parameter (§2.3, §7.1 shape E): an academic cycle it has no record of (`AcademicCycle.for_year`)
# is known only to it, so it is not checked here.
GIVEN_PARAMETERS = ("academic_cycle", "since", "status")


def refused_listing(exc: Unprocessable, given: Mapping[str, object], output: Path) -> ConfigError | None:
    """Register's 422 to `GET /trainees` for a parameter the caller gave (`given`), as the bad option it is (exit 2,
    as `--status busy` or a bad `--since` before any request; review56 F3), saying that nothing was written and that
    an earlier `output` stays as it was (the export writes a temporary file until the end); else None."""
    errors = exc.body.get("errors") if isinstance(exc.body, dict) else None
    if (exc.method, exc.path) != ("GET", "/trainees") or not isinstance(errors, dict):
        return None
    named = [name for name in GIVEN_PARAMETERS if name in errors and given.get(name) is not None]
    if not named:
        return None
    options = ", ".join(f"{{{name}}} {{{name}_value}}" for name in named)
    values: dict[str, Any] = {f"{name}_value": given[name] for name in named}
    kept = ", and the earlier {output} stays as it was" if output.exists() else ""
    hint = (
        " (without {academic_cycle}, the academic cycle current today is exported)" if "academic_cycle" in named else ""
    )
    return ConfigError.naming(
        f"Register does not take {options} (GET /trainees -> 422: {{answer}}): no file was written{kept}. Give one "
        f"it takes{hint}",
        answer="; ".join(exc.messages),
        output=output,
        **values,
    )


def degree_type_key(degree: dict[str, Any]) -> str:
    """The field of a degree (§3.7) that HESA's one type tag, F_DEGTYPE, is written from: its locale's type (a UK
    degree's uk_degree; a non-UK degree's, which alone has a country in Register, non_uk_degree), or else the other.
    Register keeps and gives back a type in the other locale's field too, which it does not check (review113 F2): a
    non-UK degree's stray uk_degree written to F_DEGTYPE would read back as its non-UK type."""
    own, other = (
        ("non_uk_degree", "uk_degree") if degree.get("country") not in (None, "") else ("uk_degree", "non_uk_degree")
    )
    return own if degree.get(own) not in (None, "") else other


def _read_back(item: dict[str, Any], keys: list[str]) -> dict[str, Any]:
    """The values of `item` at `keys` that a Student's tags read back as values: not one that is the text `Null`."""
    return {key: item[key] for key in keys if key in item and not reads_as_null(item[key])}


def _hesa_code(field_name: str, value: Any) -> Any:
    """The HESA code of a value Register holds: Register's nationality XK (Kosovan) is QO in HESA's list, where XK is
    no nationality but the country code for the UK (hesa-formats.md §2.3.4; review126 F1). The one code of a
    current HESA list that the bundled translations change: read back, QO is sent as XK again."""
    if field_name == "nationality" and value == COUNTRY_NOT_NATIONALITY:
        return KOSOVO_NATIONALITY
    return value


class HesaXmlWriter:
    """An `ITTRecord` document, one `Student` per trainee, with the C24053 tags the API fields map back to."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        config = load_mapping()
        hesa = config.fields["hesa"]
        # The first (current) tag of each API field; older-collection alternatives are for reading only.
        self.trainee_tags = [(api, sources[0]) for api, sources in hesa.trainee.items()]
        self.degree_tags = [(api, sources[0]) for api, sources in hesa.degree_fields.items()]
        self.placement_tags = [(api, sources[0]) for api, sources in hesa.placement_fields.items()]
        # Whose trainee it is (the token's provider, §3.6 `ukprn`): read back, it lets `--ukprn` check the records.
        self.provider_tag = (hesa.provider.get("ukprn") or ("F_UKPRN",))[0]
        self.deferral_tags = [(field, hesa.deferral[field][0]) for field in HELD_DEFERRAL if hesa.deferral.get(field)]
        self.withdrawal_tags = [
            (field, hesa.withdrawal[field][0]) for field in HELD_WITHDRAWAL if hesa.withdrawal.get(field)
        ]
        self._tagged = {api for api, _tag in self.trainee_tags}
        self.rows = 0
        self._context = private_writer(self.path)
        self._fh = self._context.__enter__()
        self.stale: list[Path] = []  # one file, no parts
        self._fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<ITTRecord>\n')

    def _leaf(self, parent: etree._Element, tag: str, value: Any) -> None:
        text = "NULL" if value in (None, "") else str(value)
        if has_xml_unsafe(text):
            self._escaped.append(tag)
            text = xml_safe(text)
        # XML carries it; read back, it is refused, unless it is at the value's start or end, which the reader trims
        # as str.strip does (review110 F1)
        elif not text.isprintable() and CONTROL_CHARACTER.search(text.strip()):
            self._broken.append(tag)
        etree.SubElement(parent, tag).text = text

    def held(self, body: dict[str, Any]) -> dict[str, Any]:
        """What of a trainee body its Student holds as it reads back, as a body: the fields with a tag, each degree's
        tagged fields (its type as the one F_DEGTYPE is written from), the placements with a URN, none of them a value
        that is the text `Null`, which reads back as no value (hesa-formats.md §1.4; review56 F1). What validate of
        the file can refuse (refused_note): a middle_names or iqts_country C24053 has no tag for is not in it."""
        held = _read_back(body, [api for api, _tag in self.trainee_tags])
        degrees = [self._held_degree(degree) for degree in body.get("degrees_attributes") or []]
        if degrees := [degree for degree in degrees if degree]:  # one of NULLs only reads back as none (§1.4)
            held["degrees_attributes"] = degrees
        placements = placements_with_urn(body.get("placements_attributes") or [], "", [])
        tags = [api for api, _tag in self.placement_tags]
        if placements := [placement for p in placements if (placement := _read_back(p, tags))]:
            held["placements_attributes"] = placements
        return held

    def _held_degree(self, degree: dict[str, Any]) -> dict[str, Any]:
        """The fields of a degree its PREVIOUSQUALIFICATION holds, as it reads back."""
        return _read_back(
            degree, [degree_type_key(degree) if api == "degree_type" else api for api, _t in self.degree_tags]
        )

    def write(self, trainee: dict[str, Any], *, refused: Collection[str] = ()) -> list[str]:
        """Write a trainee's Student. `refused`: the fields of its withdrawal or deferral that validate of the file
        would refuse (`read_back_notes`): a withdrawal with one is left out whole, a deferral's reason alone (the
        deferral is written with its date, which is all it needs: §3.10)."""
        body = request_body(trainee)
        self._escaped: list[str] = []
        self._broken: list[str] = []
        notes = []
        unplaced = sorted(
            k for k in body if k not in self._tagged and k not in ("degrees_attributes", "placements_attributes")
        )
        if unplaced:
            notes.append(f"no HESA tag for {', '.join(unplaced)}: left out of the XML")
        student = etree.Element("Student")
        self._leaf(student, self.provider_tag, trainee.get("ukprn"))
        self._leaf(student, "F_RECID", COLLECTION[1:])
        for api, tag in self.trainee_tags:
            self._leaf(student, tag, _hesa_code(api, body.get(api)))
        if (deferral := xml_deferral(trainee)) is not None:
            for field, tag in self.deferral_tags:
                self._leaf(student, tag, None if HELD_DEFERRAL[field] in refused else deferral.get(field))
        if _WITHDRAWAL_LABELS.isdisjoint(refused) and (held_withdrawal := xml_withdrawal(trainee)) is not None:
            for field, tag in self.withdrawal_tags:
                value = held_withdrawal.get(field)
                if isinstance(value, list):  # the reasons, one code each: the reader splits them at `;` (formats.md)
                    value = ";".join(str(reason) for reason in value)
                if value not in (None, ""):  # another_reason and the safeguarding text only where Register holds one
                    self._leaf(student, tag, value)
        # One Register holds by name and postcode only has no tag: an empty PLACEMENT would read back as none at all.
        placements = placements_with_urn(
            body.get("placements_attributes") or [], "HESA's F_PLMNTSCH holds a URN only", notes
        )
        if placements:
            group = etree.SubElement(student, "PLACEMENTS")
            for placement in placements:
                item = etree.SubElement(group, "PLACEMENT")
                for api, tag in self.placement_tags:
                    self._leaf(item, tag, placement.get(api))
        degrees = body.get("degrees_attributes") or []
        dated = False
        if degrees:
            group = etree.SubElement(student, "PREVIOUSQUALIFICATIONS")
            for degree in degrees:
                item = etree.SubElement(group, "PREVIOUSQUALIFICATION")
                for api, tag in self.degree_tags:
                    value = degree.get(api)
                    if api == "degree_type":
                        value = degree.get(degree_type_key(degree))
                    elif tag == GRADUATION_TAG and value is not None and _YEAR.fullmatch(value):
                        value = f"{value}-{GRADUATION_DAY}"
                        dated = True
                    self._leaf(item, tag, value)
        self._fh.write(etree.tostring(student, encoding="unicode", pretty_print=True))
        self.rows += 1
        if dated:
            notes.append(GRADUATION_NOTE)
        if self._escaped:
            notes.append(
                f"{', '.join(sorted(set(self._escaped)))} holds a character XML cannot carry: written as an escape "
                "(\\xNN), which validate and sync of this file refuse (control_character); correct the value in "
                "Register"
            )
        if self._broken:
            notes.append(
                f"{', '.join(sorted(set(self._broken)))} holds a line break, a tab or another control character: "
                "written as it is, but validate and sync of this file refuse the record (control_character); correct "
                "the value in Register"
            )
        return notes

    def close(self) -> list[Path]:
        self._fh.write("</ITTRecord>\n")
        self._context.__exit__(None, None, None)
        return [self.path]

    def abort(self) -> None:
        """Leave no file behind."""
        abandon(self._context)


@dataclass(frozen=True)
class ExportNote:
    """A note on what the chosen format leaves out of (or says differently of) one trainee's row or Student: whose
    (`trainee_id`, Register's; None for a trainee listed without one) and what (`message`, the same for every trainee
    it concerns), so a caller needs no parsing of the printed form, `str(note)`: "trainee <id>: <message>"."""

    trainee_id: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.whose}: {self.message}" if self.trainee_id is not None else self.message

    @property
    def whose(self) -> str:
        return f"trainee {self.trainee_id}"


@dataclass
class ExportResult:
    """What `export_trainees` wrote: the output files, trainees `written`, the requests made (`requests`, a
    `RequestCounts` dict: `total`, `by_route`, `by_status`, ... as the client's `stats` count them), and `notes`
    (ExportNote) on what the chosen format leaves out; `exit_code` is what `register-batch export` exits with for
    it."""

    outputs: list[Path]
    written: int
    requests: RequestCounts
    notes: list[ExportNote] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)  # OUT-N.csv files after the last part (RegisterCsvWriter)
    leftovers: list[Path] = field(default_factory=list)  # temporary files of a killed run (leftover_temporaries)
    providers: list[str] = field(default_factory=list)  # the UKPRNs Register listed the trainees under: the token's

    @property
    def empty(self) -> bool:
        return self.written == 0

    @property
    def exit_code(self) -> int:
        """0: the notes say what a format cannot hold, not that the export failed; what stops it is raised instead
        (RegisterBatchError's exit_code), with nothing written."""
        return 0

    def note_lines(self, limit: int = 20) -> list[str]:
        """The notes for people: each kind once, with how many trainees it concerns and one of them."""
        by_message: dict[str, list[ExportNote]] = {}
        for note in self.notes:
            by_message.setdefault(note.message, []).append(note)
        lines = [_note_line(message, notes) for message, notes in by_message.items()]
        more = len(lines) - limit
        return lines[:limit] + ([f"… and {more} more kind{'' if more == 1 else 's'} of note"] if more > 0 else [])


def _note_line(message: str, notes: list[ExportNote]) -> str:
    """One kind of note: for one trainee as the note reads, for more with their count and the first one named."""
    if len(notes) == 1:
        return str(notes[0])
    named = next((note.whose for note in notes if note.trainee_id is not None), None)
    example = f", e.g. {named}" if named is not None else ""
    return f"{message} ({counted(len(notes), 'trainee')}{example})"


def _trainee_id(trainee: dict[str, Any]) -> str | None:
    """Register's id of a listed trainee (§3.6 `trainee_id`), as a note names it."""
    value = trainee.get("trainee_id")
    return None if value is None else str(value)


def export_trainees(
    client: RegisterClient,
    *,
    to: str,
    output: StrPath,
    academic_cycle: int | None = None,
    status: str | None = None,
    since: str | None = None,
    per_page: int = 500,
    progress: Progress = SILENT,
    ukprn: str | None = None,
    ukprn_source: str = "ukprn",
) -> ExportResult:
    """Write what Register holds in one of EXPORT_FORMATS; an empty listing still writes a valid file.

    With `ukprn` (the provider the token is meant to be for), a trainee Register lists under another UKPRN stops the
    export before anything is put in place: see `another_providers`. An `output` whose name says another format
    (`.xlsx` for `to="register-csv"`) is a ConfigError, and one inside a folder holding a state dir's files (a sync
    ledger, the embedded emulator's data) an UnwritableOutput, before any request."""
    checked_client(client)
    # As validation and SyncOptions read it (10052198 as a number, surrounding spaces, "" as none), before any request:
    # compared as given, the right provider's token was refused (review111 F4).
    ukprn = checked_ukprn(ukprn)
    if to not in EXPORT_FORMATS:
        raise ConfigError.naming("{to} must be one of {choices}", choices=", ".join(EXPORT_FORMATS))
    # A None (an unset setting) or bytes `output` was a TypeError, outside the library's errors (review62 F5).
    output, progress = checked_folder("output", output), checked_progress(progress)
    check_output_ending(output, to)
    # As the command line's (which also refuses its own state dir): an export over ledger.sqlite3 replaced the sync
    # ledger. The client says no state dir: any folder holding a state dir's files is refused.
    check_not_in_state_dir(output, None)
    if since is not None and not readable_since(since):
        # Refused before any request, as the command line's --since is, with an example of what is taken: Register
        # answers 422 for most such values, and the later pages' `since` is compared with it (iter_trainees).
        raise ConfigError.naming(
            "{since} {value} is not an ISO 8601 date or time, {example}",
            value=shown_value(since),
            example=SINCE_EXAMPLE,
        )
    academic_cycle = _checked_filters(status, academic_cycle)  # before any file is opened
    writer: Any = {
        "register-csv": RegisterCsvWriter,
        "hesa-xml": HesaXmlWriter,
        "json": JsonArrayWriter,
        "jsonl": JsonLinesWriter,
    }[to](Path(output))
    notes: list[ExportNote] = []
    providers: set[str] = set()
    # The formats that read back are checked as validate would check them (refused_note).
    validator = Validator(load_reference(client.api_version)) if to in STATE_HOLDERS else None
    read_by = Mapper(load_mapping(), validator.reference) if validator is not None else None  # as validate reads it
    duplicates = InFileDuplicates() if validator is not None else None
    task = progress.task("Exporting", unit="trainees")
    before = client.stats.copy()  # this export's requests, of a client lent to many (RequestStats.since)
    written = 0
    try:
        with task.waits_shown(client.limiter):
            for trainee in iter_register_trainees(
                client, academic_cycle=academic_cycle, status=status, since=since, per_page=per_page
            ):
                if (listed := trainee.get("ukprn")) not in (None, ""):
                    if ukprn is not None and str(listed) != ukprn:
                        raise another_providers(str(listed), ukprn, ukprn_source)
                    providers.add(str(listed))
                first: list[str] = []
                last: list[str] = []
                refused: list[Issue] = []
                if validator is not None:  # checked once, before it is written: what is refused is left out
                    first, last, refused = read_back_notes(trainee, to, writer.held, validator, read_by, duplicates)
                if to == "hesa-xml":
                    said = writer.write(trainee, refused={str(issue.field) for issue in refused})
                else:
                    said = writer.write(request_body(trainee) if to == "register-csv" else trainee)
                if (dropped := disabilities_note(trainee, to)) is not None:
                    said = [dropped, *said]
                said = [*first, *said, *last]
                if (held := state_note(trainee, to, refused, refused_anyway=bool(first))) is not None:
                    said = [held, *said]
                notes.extend(ExportNote(_trainee_id(trainee), note) for note in said)
                written += 1
                task.advance()
        if duplicates is not None:
            notes.extend(duplicates.notes())
    except UNAVAILABLE as exc:
        writer.abort()
        # The export wrote a temporary file until the end: an earlier one of that name is kept, as refused_listing says.
        kept = f", and the earlier {output} stays as it was" if Path(output).exists() else ""
        raise first_request_failed(exc, f"no file was written{kept}") from None
    except Unprocessable as exc:
        writer.abort()
        given = {"academic_cycle": academic_cycle, "since": since, "status": status}
        if (refusal := refused_listing(exc, given, Path(output))) is not None:
            raise refusal from exc
        raise
    except BaseException:
        writer.abort()  # leave no half-written export behind, and no part of one
        raise
    finally:
        if duplicates is not None:
            duplicates.close()  # its temporary file, whatever stopped the export
    task.close()
    outputs = writer.close()
    return ExportResult(
        outputs=outputs,
        written=written,
        requests=client.stats.since(before).as_dict(),
        notes=notes,
        stale=writer.stale,
        leftovers=leftover_temporaries([*outputs, *writer.stale], parts=to == "register-csv"),
        providers=sorted(providers),
    )
