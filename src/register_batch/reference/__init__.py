"""Register's reference data (code lists) for one API version.

Bundled lists come from DfE's repository (see `data/<version>/SOURCES.txt`); a list pulled from a live
service with `register-batch reference pull` replaces the bundled codes when present.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import re
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path
from typing import Any, TypeVar, cast

from register_batch.errors import ConfigError
from register_batch.fs import StrPath, is_file, read_at_most
from register_batch.tokens import quoted_setting
from register_batch.wording import cut_short

DATA_DIR = Path(__file__).parent / "data"
SUPPORTED_VERSIONS = ("v2026.1",)
PULLED_FILE = "reference-data.json"
# The longest code and label (characters) a list may hold, pulled or read from a pulled file: far beyond Register's
# longest (a withdrawal reason's code, 42; an institution's name, 169). A megabyte as one was taken, and then quoted in
# every issue that names the list's codes, and by `reference show`.
CODE_LIMIT = 100
LABEL_LIMIT = 500
_Table = TypeVar("_Table")

# Fields of the trainee body (and degree body) and the code list that governs each (§3.1, §3.7).
TRAINEE_CODE_FIELDS: dict[str, str] = {
    "sex": "sex",
    "nationality": "nationality",
    "ethnicity": "ethnicity",
    "itt_aim": "itt_aim",
    "itt_qualification_aim": "itt_qualification_aim",
    "training_route": "training_route",
    "course_subject_1": "course_subject",
    "course_subject_2": "course_subject",
    "course_subject_3": "course_subject",
    "study_mode": "study_mode",
    "course_age_range": "course_age_range",
    "fund_code": "fund_code",
    "funding_method": "funding_method",
    "training_initiative": "training_initiative",
    "additional_training_initiative": "training_initiative",
    "iqts_country": "country",
}
DISABILITY_FIELDS = tuple(f"disability{n}" for n in range(1, 10))
# Every key Register keeps as a disability (`hesa_disabilities`: Ruby's `/\Adisability\d+\z/`, ASCII digits), past the
# nine a create maps too (register-api.md §5.3).
DISABILITY_KEY = re.compile(r"disability([0-9]+)")
DEGREE_CODE_FIELDS: dict[str, str] = {
    "uk_degree": "degree_type",
    "non_uk_degree": "degree_type",
    "subject": "degree_subject",
    "grade": "degree_grade",
    "institution": "institution",
    "country": "country",
}

# A degree's field as the reports name it (`degrees_attributes[0].grade`), or as rules.md does
# (`degrees_attributes.grade`).
_DEGREE_FIELD = re.compile(r"degrees_attributes(?:\[[0-9]+\])?\.([a-z_]+)")


def list_of_field(field: str) -> str | None:
    """The code list a field an issue names is checked against (`course_subject_1`: course_subject, `disability3`:
    disability, `degrees_attributes[0].grade`: degree_grade), by the tables above; None for a field with no list.
    `reference show` takes these names, as the reports use them (review151 F7)."""
    if field in TRAINEE_CODE_FIELDS:
        return TRAINEE_CODE_FIELDS[field]
    if DISABILITY_KEY.fullmatch(field):
        return "disability"
    if degree := _DEGREE_FIELD.fullmatch(field):
        return DEGREE_CODE_FIELDS.get(degree.group(1))
    return None


@dataclass(frozen=True)
class CodeList:
    """One field's codes, in the API's order (string sort), with internal names."""

    field: str
    metadata: dict[str, Any]
    entries: tuple[dict[str, Any], ...]
    codes: frozenset[str]
    # `dataclasses.field`: in this class the bare name is the `field` attribute above, to a reader and to mypy.
    names: dict[str, str] = dataclasses.field(default_factory=dict)
    identities: dict[str, str] = dataclasses.field(default_factory=dict)

    def label(self, code: str) -> str | None:
        for entry in self.entries:
            if entry["code"] == code:
                return entry.get("display_name")
        return None


@dataclass(frozen=True)
class Funding:
    """Funding rules per start cycle (register-api.md §3.5), as loaded from funding.yml."""

    training_routes: dict[str, str]
    funding_types: dict[str, str]
    rules: dict[int, list[tuple[str, str, frozenset[str]]]]
    exception_cycles: frozenset[int]
    exception_subjects: frozenset[str]
    initiatives: dict[int, frozenset[str]]
    allocation_subjects: dict[str, frozenset[str]]  # allocation subject -> course subject codes

    def allocation_subjects_of(self, course_subject: str) -> set[str]:
        return {name for name, codes in self.allocation_subjects.items() if course_subject in codes}


class ReferenceData:
    """All code lists of one API version, loaded once."""

    def __init__(
        self,
        index: dict[str, Any],
        *,
        source: str,
        pulled: dict[str, Any] | None = None,
        sha256: str | None = None,
        pulled_at: str | None = None,
    ):
        self.api_version: str = index["api_version"]
        self.source = source
        self.sha256 = sha256  # of the pulled file, as read: which lists a report was judged with
        # Whether a pull's lists are in use: only its codes and labels are (`entries`); internal names, identities,
        # funding tables, initiatives' cycles and allocation subjects stay the bundled ones (review210).
        self.pulled = bool(pulled)
        self.pulled_at = pulled_at  # when `reference pull` saved them, as its file says (None: it does not say)
        payload = dict(index["payload"])
        overlay = {k: v for k, v in (pulled or {}).items() if isinstance(v, dict) and "entries" in v}
        payload.update(overlay)
        self._payload = payload
        self._overlay = overlay
        self._derived: dict[Hashable, Any] = {}  # the tables `derived` made from these lists
        self._lists: dict[str, CodeList] = {}
        for name, body in payload.items():
            if name == "withdrawal_reasons":
                continue
            entries = tuple(body.get("entries") or ())
            self._lists[name] = CodeList(
                field=name,
                metadata=dict(body.get("metadata") or {}),
                entries=entries,
                codes=frozenset(str(e["code"]) for e in entries),
                names=dict(index["names"].get(name, {})),
                identities=dict(index["identities"].get(name, {})),
            )
        withdrawal = payload["withdrawal_reasons"]
        self.withdrawal_triggers: tuple[str, ...] = tuple(withdrawal.get("triggers") or ())
        self.withdrawal_future_interest: tuple[str, ...] = tuple(withdrawal.get("future_interest") or ())
        reasons: dict[str, list[str]] = {}
        for entry in withdrawal.get("entries") or ():
            reasons.setdefault(entry["trigger"], []).append(entry["code"])
        self.withdrawal_reasons: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in reasons.items()}
        funding = index["funding"]
        self.funding = Funding(
            training_routes={str(k): v for k, v in funding["training_routes"].items()},
            funding_types={str(k): v for k, v in funding["funding_types"].items()},
            rules={
                int(cycle): [(r["type"], r["route"], frozenset(r["subjects"])) for r in rows]
                for cycle, rows in funding["funding"].items()
            },
            exception_cycles=frozenset(int(c) for c in funding["fund_code_exception"]["cycles"]),
            exception_subjects=frozenset(funding["fund_code_exception"]["allocation_subjects"]),
            initiatives={int(c): frozenset(v) for c, v in funding["training_initiatives"].items()},
            allocation_subjects={k: frozenset(v) for k, v in index["allocation_subjects"].items()},
        )

    @property
    def fields(self) -> list[str]:
        return [*self._lists, "withdrawal_reasons"]

    def code_list(self, field: str) -> CodeList:
        try:
            return self._lists[field]
        except KeyError:
            raise ConfigError(
                f"unknown reference data field {field!r}; known fields: {', '.join(self.fields)}"
            ) from None

    def codes(self, field: str) -> frozenset[str]:
        try:  # the rules ask several times a record: one call, not two
            return self._lists[field].codes
        except KeyError:
            return self.code_list(field).codes  # its ConfigError

    def name(self, field: str, code: str) -> str:
        """Register's internal name for a code (as used in the API's funding messages)."""
        code_list = self.code_list(field)
        return code_list.names.get(code) or code_list.label(code) or code

    def added_codes(self, field: str) -> frozenset[str]:
        """The codes of list `field` a pull brought that the bundled lists lack (none for the bundled lists): the
        bundled rule tables (internal names, initiatives' cycles, allocation subjects, legacy.yaml's notes) know
        nothing of them (review210 F4, F6). Made once per list, asked only of a finding or a pulled code."""
        if not self.pulled:
            return frozenset()
        return self.derived(("added_codes", field), lambda: self.codes(field) - _bundled(self.api_version).codes(field))

    @cached_property
    def lists_sha256(self) -> str | None:
        """Which lists are in use, whatever file they were read from: a digest of the pulled lists' entries, canonically
        serialised (None: the bundled ones). Two pulls of the same lists have the same digest (review219 F2). Only a
        sync's ledger notes ask it, so it is made then, not on every load of pulled lists."""
        return _lists_digest(self._overlay) if self.pulled else None

    def unjudged(self, field: str, code: str) -> bool:
        """Whether the bundled rule tables know nothing of `code` of list `field` (review210 F4): an initiative with
        no internal name (so in no cycle's list), a course subject no allocation subject takes, a route funding.yml
        does not name. A pull updates the codes, not these tables; validate's warnings and `reference diff` ask it."""
        if field == "training_initiative":
            return code not in self.code_list(field).names
        if field == "course_subject":
            return not self.funding.allocation_subjects_of(code)
        if field == "training_route":
            return code not in self.funding.training_routes
        return False

    def derived(self, key: Hashable, make: Callable[[], _Table]) -> _Table:
        """The table `make` derives from these lists (a validation rule's sorted codes, say), made once and kept on
        this object, so that it goes when the lists go: a module-level cache keyed on the object kept every pull's
        lists alive in a long-running service (review62 F4). `key` names the table among this object's."""
        try:
            return cast("_Table", self._derived[key])
        except KeyError:
            table = self._derived[key] = make()
            return table

    def api_payload(self, field: str | None = None) -> dict[str, Any]:
        """The body `GET /reference-data[?field=]` answers with (§2.2)."""
        if field is None:
            return self._payload
        return self._payload[field]


def payload_problem(payload: Any, required: tuple[str, ...] = ()) -> str | None:
    """What makes `payload` other than a `GET /reference-data` answer (§2.2), or None: saved or read as it is, a list
    whose entries have no code fails every command that reads the lists with an internal error. Every part
    ReferenceData and `reference show` read is checked: a `metadata` that is not an object, or withdrawal `triggers`
    that are not a list, was saved and then failed every validate, convert and sync (review124 F1).

    `required`: fields it must have (a pull must bring every list; a file written by hand may hold only some).
    """
    if not isinstance(payload, dict):
        return "not a JSON object"
    missing = [name for name in required if name not in payload]
    if missing:
        more = f", nor {len(missing) - 1} more of the {len(required)}" if missing[1:] else ""
        return f"no {missing[0]} list{more}"
    for name, body in payload.items():
        problem = _list_problem(name, body)
        if problem:
            return f"{cut_short(name)}: {problem}"  # a payload's own text, cut short to keep the line readable
    # Register's answer has a row per code of each list, and none of v2026.1's is empty (§2.2): an empty list is a
    # stub's or a broken proxy's, and saved it refused every record's code (review131 F2). Any list present, not only
    # a pull's required ones: a file saved before that fix is refused on reading too (`pulled_payload`, review139 F2).
    empty = [name for name, body in payload.items() if not body["entries"]]
    if empty:
        more = f", nor in {len(empty) - 1} more list(s)" if empty[1:] else ""
        return f"{cut_short(empty[0])}: no entries{more}"  # a name of the payload's own, as above
    return None


def _list_problem(name: str, body: Any) -> str | None:
    """What makes `body` other than one list of a `GET /reference-data` answer (§2.2), or None."""
    if not isinstance(body, dict) or "entries" not in body:
        return "not an object with entries"
    if not isinstance(body["entries"], list):
        return "entries is not a list"
    if body.get("metadata") is not None and not isinstance(body["metadata"], dict):
        return "metadata is not an object"
    withdrawal = name == "withdrawal_reasons"
    keys = ("code", "trigger") if withdrawal else ("code",)
    for number, entry in enumerate(body["entries"], 1):
        for key in keys:
            if not isinstance(entry, dict) or entry.get(key) is None:
                return f"entry {number} has no {key}"
            if not isinstance(entry[key], str):
                return f"entry {number}'s {key} {cut_short(repr(entry[key]))} is not text"
            if not entry[key].strip():  # no Register code is blank (§2.2): saved, it was the list's only code
                return f"entry {number} has no {key}"
            if len(entry[key]) > CODE_LIMIT:
                return f"entry {number}'s {key} is {_too_long(entry[key], CODE_LIMIT, 'code')}"
        # A code with no label is named by its code (ReferenceData.name); a label that is not text, by nothing.
        label = entry.get("display_name") or ""
        if not isinstance(label, str):
            return f"entry {number}'s display_name {cut_short(repr(entry['display_name']))} is not text"
        if len(label) > LABEL_LIMIT:
            return f"entry {number}'s display_name is {_too_long(label, LABEL_LIMIT, 'label')}"
    # The triggers and future_interest a withdrawal may give (§2.2, §2.7): without them every withdrawal is refused.
    for key in ("triggers", "future_interest") if withdrawal else ():
        if key not in body:
            return f"no {key}"
        if not isinstance(body[key], list) or not all(isinstance(value, str) for value in body[key]):
            return f"{key} {cut_short(repr(body[key]))} is not a list of text"
        if not [value for value in body[key] if value.strip()]:  # an empty list refused them all (review139 F2)
            return f"no {key}"
        if long := next((value for value in body[key] if len(value) > CODE_LIMIT), None):
            return f"{key} holds a value {_too_long(long, CODE_LIMIT, 'code')}"
    return None


def _too_long(value: str, limit: int, what: str) -> str:
    """How `value` is longer than a code or label may be, with its ends (one readable line, whatever its length)."""
    return f"{len(value):,} characters long ('{cut_short(value)}'), more than the {limit} a {what} may have"


# What a pulled file that is not reference data is told to do: a state dir's (the emulator's --reference-data says
# otherwise: the file is the user's own, to give again, not one to delete).
PULLED_ADVICE = "run `register-batch reference pull` again, or delete the file to use the bundled lists"


def pulled_payload(document: Any, where: StrPath) -> dict[str, Any]:
    """The code lists of a pulled file's `document` (`{"payload": ...}`, or the payload itself); one line naming the
    file when it is not reference data."""
    payload = document.get("payload", document) if isinstance(document, dict) else document
    # An empty payload passes every test of a list's shape, and would hide every bundled code from `reference diff`.
    problem = payload_problem(payload) or (None if payload else "no code lists")
    if problem:
        raise ConfigError(f"{where}: not reference data pulled from Register ({problem}); {PULLED_ADVICE}")
    return payload


def pulled_file(state_dir: StrPath) -> Path | None:
    """The state dir's pulled file, None when nothing has its name; one line (exit 2) when something other than a
    file has it (a folder, a link to nothing, a pipe): taken for "nothing pulled", validation used the bundled lists
    without a word while `reference diff` refused it. A folder on the way this user may not enter raises
    PermissionError (fs.is_file)."""
    path = Path(state_dir) / PULLED_FILE
    if is_file(path):
        return path
    if not os.path.lexists(path):
        return None
    if path.is_symlink() and not path.exists():
        what = f"a link to {os.readlink(path)}, which is not there"
    elif path.is_dir():
        what = "a folder, not a file of pulled reference data"
    else:
        what = "not a regular file (a device, a pipe or a socket), so not pulled reference data"
    raise ConfigError(
        f"{path}: {what}; remove it to use the bundled lists, or to run `register-batch reference pull` again"
    )


def check_api_version(api_version: str) -> None:
    """Refuse an API version register-batch does not speak (exit 2), before any request is sent."""
    if api_version not in SUPPORTED_VERSIONS:
        raise ConfigError(
            f"API version {quoted_setting(api_version)} is not supported; supported: {', '.join(SUPPORTED_VERSIONS)}"
        )


def _bundled_index(api_version: str) -> dict[str, Any]:
    check_api_version(api_version)
    with (DATA_DIR / api_version / "index.json").open(encoding="utf-8") as fh:
        return json.load(fh)


# The latest read of each pulled file, by API version and path, with the file's (inode, size, mtime) when read, for the
# KEPT_PULLED files read last. Each new version of a file replaces the one before: a `@cache` by version kept every
# pull's lists (about 1.7 MB each) for the life of a service that pulls weekly, or that gives each job a state dir of
# its own (review62 F4). A file rewritten with the same lists keeps its object, and with it the tables the validation
# rules derive from it, which are keyed on the object.
KEPT_PULLED = 4
_LATEST: dict[tuple[str, str], tuple[tuple[int, int, int], ReferenceData]] = {}
_LATEST_LOCK = threading.Lock()


def load_reference(api_version: str = "v2026.1", pulled_path: StrPath | None = None) -> ReferenceData:
    """Load the bundled lists, overlaid with a pulled `GET /reference-data` payload if one is given.

    Loaded once per process, and a pulled file once per version of it: a long-running caller that pulls again
    (a weekly `reference pull` beside a nightly job) is judged with the new lists, not the first ones it read. Only
    the latest read of each file is kept (`_LATEST`), and a file rewritten with the same lists gives the same object.
    """
    if pulled_path is None:
        return _bundled(api_version)
    try:
        status = os.stat(pulled_path)
    except OSError as exc:
        raise ConfigError(f"{pulled_path}: cannot read pulled reference data ({exc.strerror or exc})") from None
    where, version = (api_version, str(pulled_path)), (status.st_ino, status.st_size, status.st_mtime_ns)
    kept = _LATEST.get(where)
    if kept is not None and kept[0] == version:
        return kept[1]
    data = _read_pulled(where[1])
    digest = hashlib.sha256(data).hexdigest()
    if kept is not None and kept[1].sha256 == digest:  # rewritten with the same lists (a pull that changed nothing)
        reference = kept[1]
    else:
        reference = _pulled(api_version, where[1], data, digest)
    _keep_latest(where, version, reference)
    return reference


def _keep_latest(where: tuple[str, str], version: tuple[int, int, int], reference: ReferenceData) -> None:
    """Keep `reference` as the latest read of `where`, and only the KEPT_PULLED files read last."""
    with _LATEST_LOCK:  # threads validating at once
        _LATEST.pop(where, None)  # to the end: the most recently read
        _LATEST[where] = (version, reference)
        while len(_LATEST) > KEPT_PULLED:
            del _LATEST[next(iter(_LATEST))]


# Register's code lists are about 1 MB: a file past this is something else (a device, the extract given in its place).
PULLED_FILE_LIMIT = 64 << 20


def _lists_digest(lists: dict[str, Any]) -> str:
    """The SHA-256 of code lists as JSON with keys sorted and each list's entries in a stable order: the same lists
    give the same digest whatever order a pull wrote them in or when it did (`pulled_at` is not in it)."""

    def line(entry: Any) -> str:
        return json.dumps(entry, sort_keys=True, separators=(",", ":"))

    canonical = {name: sorted(line(entry) for entry in body["entries"] or ()) for name, body in sorted(lists.items())}
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode()).hexdigest()


@cache
def _bundled(api_version: str) -> ReferenceData:
    return ReferenceData(_bundled_index(api_version), source=f"bundled {api_version}")


def _read_pulled(pulled_path: str) -> bytes:
    """The pulled file's bytes; ConfigError naming it when it cannot be read."""
    try:
        return read_at_most(pulled_path, PULLED_FILE_LIMIT, "a pulled reference file")
    except OSError as exc:
        raise ConfigError(f"{pulled_path}: cannot read pulled reference data ({exc.strerror or exc})") from None


def _pulled(api_version: str, pulled_path: str, data: bytes, digest: str) -> ReferenceData:
    """The bundled lists overlaid with those of a pulled file read as `data` (whose SHA-256 is `digest`)."""
    index = _bundled_index(api_version)
    try:
        pulled = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested thousands deep
        raise ConfigError(f"{pulled_path}: cannot read pulled reference data ({exc})") from None
    when = pulled.get("pulled_at") if isinstance(pulled, dict) else None
    return ReferenceData(
        index,
        source=f"pulled {pulled_path}",
        pulled=pulled_payload(pulled, pulled_path),
        sha256=digest,
        pulled_at=when if isinstance(when, str) and PULLED_AT.fullmatch(when) else None,
    )


# `pulled_at` as `reference pull` writes it (UTC, to the second): any other text in a file is not quoted as a time.
PULLED_AT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\+00:00")
# SOURCES.txt's line naming the DfE commit the bundled lists were copied at, and its date.
_SNAPSHOT = re.compile(r"at ([0-9a-f]{40})\s*\(([0-9]{4}-[0-9]{2}-[0-9]{2})\)")


@dataclass(frozen=True)
class Snapshot:
    """When the bundled lists were copied from Register's repository: their date and DfE's commit (SOURCES.txt)."""

    date: str
    commit: str

    def __str__(self) -> str:
        return f"Register's lists of {self.date}, DfE commit {self.commit[:9]}"


@cache
def bundled_snapshot(api_version: str = "v2026.1") -> Snapshot:
    """The bundled lists' snapshot (review210 F7: no command said how old the lists a run used were)."""
    check_api_version(api_version)
    text = (DATA_DIR / api_version / "SOURCES.txt").read_text(encoding="utf-8")
    found = _SNAPSHOT.search(text)
    if found is None:  # a build's mistake, which a test catches
        raise ValueError(f"{api_version}'s SOURCES.txt names no commit and date")
    return Snapshot(date=found.group(2), commit=found.group(1))
