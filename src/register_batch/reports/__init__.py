"""Reports are views of one list of issues: report.json, issues.csv, report.html and junit.xml.

`ReportBuilder` receives records as they stream past, spools their issues to a temporary file (memory
does not grow with the input), keeps the counts, and writes every view at the end. All files are
created owner-only (mode 0600) in an owner-only folder, because issues quote trainees' personal data.
"""

from __future__ import annotations

import heapq
import json
import logging
import marshal
import os
import re
import stat
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from register_batch import __version__
from register_batch.errors import RegisterBatchError, UnwritableOutput
from register_batch.fs import (
    StrPath,
    absolute,
    check_not_an_input,
    check_not_planted,
    check_writable_dir,
    claim_new_dir,
    private_dir,
    private_files_together,
    same_folder,
)
from register_batch.mapping.apply import MISSING, MISSPELT, MISSPELT_STATE_TAG, MISSPELT_TAG
from register_batch.model import Issue, IssueTuple, Severity, TraineeRecord, issue_values
from register_batch.readers import InputInfo
from register_batch.readers.csv import UPLOAD_ONLY
from register_batch.readers.layouts import TAG_ORDER
from register_batch.reference import ReferenceData, bundled_snapshot
from register_batch.wording import ESCAPE_UNENCODABLE, counted, excel_text_of, printable

if TYPE_CHECKING:
    from register_batch.mapping.loader import MappingConfig
    from register_batch.validation.runner import Checker

log = logging.getLogger(__name__)

ISSUE_KEYS = (
    "input",
    "record",
    "line",
    # A CSV record's row as a spreadsheet numbers it, where it differs from `line` (after a quoted cell over several
    # lines: Alt+Enter); null otherwise (model.SourceRef.row).
    "row",
    "provider_trainee_id",
    "hesa_id",
    "field",
    "value",
    "code",
    "severity",
    "message",
    # After design.md's keys, so that readers of the earlier columns keep working: the HESA tag(s) or the Register
    # CSV column the field was read from (`source_text`), for the person fixing the record in the SRS (review54 F3).
    "source",
)
HTML_ISSUE_LIMIT = 5000
ROWS_TICK = 1024  # issue rows read between two calls of `write`'s `each_row`
# Characters of a user's value (`value`, and the ids, and where a message quotes the value) that the reports show: a
# longer one is cut to its start and its length (shown_value). Every report writes at most this much of it: a value of
# 100,000 characters in every record made issues.csv and report.json each several times the input's size, a cell
# past the 32,767 characters Excel holds in one (review184 F2). Above Register's longest field with a maximum
# (defer_reason, 500; email 255: register-api.md §2.8, §3.1), so that no value Register takes is cut, its mistake
# often at its end (review189 F4); only a withdrawal's free text, which has no maximum, can be.
SHOWN_CHARS = 512
# Characters of any other cell (a message, a path, an archive's member name, a source): our own words are far shorter;
# a message quoting a long value in other words than the value's own is cut at this (Excel's limit is 32,767).
SHOWN_TEXT_CHARS = 4000
# A character drawn with the one before it: a mark (combining or a vowel sign: Unicode category M), a variation
# selector; and one drawn with both its neighbours, a zero-width joiner (an emoji sequence).
_VARIATION = frozenset(map(chr, range(0xFE00, 0xFE10)))
_ZWJ = "\u200d"
_BACK_AT_MOST = 32  # Unicode's stream-safe text has at most 30 marks on a letter; a longer run is damage, cut anywhere


def cut_at(text: str, most: int) -> int:
    """Where to cut `text`, longer than `most`, to keep at most `most` characters: not between a letter and its
    marks (or a joiner or variation selector), so that the start shown is the start of the real value: an `e` kept
    without its accent is another letter (review189 F5). Grapheme-ish: within _BACK_AT_MOST characters, else at
    `most`."""
    end = most
    while end > max(0, most - _BACK_AT_MOST):
        after = text[end]
        if unicodedata.category(after)[0] == "M" or after in _VARIATION or after == _ZWJ or text[end - 1] == _ZWJ:
            end -= 1
        else:
            return end
    return most


def shown_value(text: str, most: int = SHOWN_CHARS) -> str:
    """`text`, or when longer than `most` its first `most` characters (fewer, not to part a letter from its
    accents: cut_at) and its length: `xxxx… (100,000 characters)`.
    (Not text, a library caller's Issue.model_construct's number: as it is.)"""
    if not isinstance(text, str) or len(text) <= most:
        return text
    return f"{text[: cut_at(text, most)]}… ({len(text):,} characters)"


def shown_message(message: str, value: object) -> str:
    """`message` with each quote of its over-long `value` cut as the value is (shown_value); so is the text inside
    Excel's `="…"` form, which spreadsheet_formula quotes again (review189 F3). Other words are left whole."""
    if not isinstance(value, str) or len(value) <= SHOWN_CHARS or not isinstance(message, str):
        return message
    message = message.replace(value, shown_value(value))
    if (inner := excel_text_of(value)) is not None and len(inner) > SHOWN_CHARS:
        message = message.replace(f"'{inner}'", f"'{shown_value(inner)}'")
    return message


def shown_ids(row: dict[str, Any]) -> dict[str, Any]:
    """`row` (a sync's record: results.csv, report.json's `records`) with its SRS id and HUSID cut as an issue's are
    (shown_value), so that an issue and its record name it alike (review189 F1)."""
    for key in ("provider_trainee_id", "hesa_id"):
        if isinstance(row.get(key), str) and len(row[key]) > SHOWN_CHARS:
            row[key] = shown_value(row[key])
    return row


def _shown_values(values: ReportTuple) -> ReportTuple:
    """An issue's values as the reports write them (issue_values), each cell cut to SHOWN_CHARS or SHOWN_TEXT_CHARS
    (a message's quote of its over-long value cut as the value is: shown_message)."""
    input_, record, line, row, pid, hid, about, value, code, severity, message, source = values
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        message = shown_message(message, value)
        value = shown_value(value)
    return (
        shown_value(input_, SHOWN_TEXT_CHARS),
        record,
        line,
        row,
        None if pid is None else shown_value(pid),
        None if hid is None else shown_value(hid),
        None if about is None else shown_value(about, SHOWN_TEXT_CHARS),
        value,
        code,
        severity,
        shown_value(message, SHOWN_TEXT_CHARS),
        None if source is None else shown_value(source, SHOWN_TEXT_CHARS),
    )


def _long(values: ReportTuple) -> bool:
    """Whether any cell of an issue's values is over what the reports show of it (nearly never: one test each)."""
    value, pid, hid, about, source = values[7], values[4], values[5], values[6], values[11]
    try:
        return (
            (value is not None and len(value) > SHOWN_CHARS)
            or len(values[10]) > SHOWN_TEXT_CHARS
            or (pid is not None and len(pid) > SHOWN_CHARS)
            or (hid is not None and len(hid) > SHOWN_CHARS)
            or len(values[0]) > SHOWN_TEXT_CHARS
            or (about is not None and len(about) > SHOWN_TEXT_CHARS)
            or (source is not None and len(source) > SHOWN_TEXT_CHARS)
        )
    except TypeError:  # a number (Issue.model_construct): shown_value leaves it, and cuts any other cell
        return True


# An issue as the reports write it: its values (model.issue_values, ISSUE_KEYS' first eleven), then its source.
ReportTuple = tuple[
    str, int | None, int | None, int | None, str | None, str | None, str | None, str | None, str, str, str, str | None
]


def issue_row(issue: Issue, source: str | None = None) -> dict[str, Any]:
    return {
        "input": issue.input,
        "record": issue.record,
        "line": issue.line,
        "row": issue.row,
        "provider_trainee_id": issue.provider_trainee_id,
        "hesa_id": issue.hesa_id,
        "field": issue.field,
        "value": issue.value,
        "code": issue.code,
        "severity": issue.severity.value,
        "message": issue.message,
        "source": source,
    }


# The issues ReportBuilder.causes says beside the summary.
_MISSPELLINGS = frozenset({MISSPELT, MISSPELT_TAG, MISSPELT_STATE_TAG})


def _misspellings_said(code: str, records: int, tags: str, xml: bool) -> str:
    """What ReportBuilder.causes says of an input's records with misspelt tags or columns (`tags`), by the code they
    got: a HESA tag the extract misspells (misspelt_tag, a warning: review171 F1, review173 F3), a withdrawal's or a
    deferral's date tag (misspelt_state_tag, an error: review177 F1), or a source a user's field map misspells
    (mapped_source_misspelt, review161 F1)."""
    one = records == 1
    said = f"{counted(records, 'record')} {'has' if one else 'have'} "
    lacks = "it lacks" if one else "they lack"
    if code == MISSPELT_TAG:
        return (
            f"{said}tags that are not HESA's but a few letters from a tag {lacks} ({tags}): "
            f"{'its values are' if one else 'their values are'} not sent until the extract spells them as "
            "register-batch reads them, or a mapping file lists them under `ignored:` (misspelt_tag, a warning)"
        )
    if code == MISSPELT_STATE_TAG:
        return (
            f"{said}tags a few letters from a withdrawal or deferral tag {lacks} ({tags}): "
            f"{'it is' if one else 'they are'} not sent, as the withdrawal or deferral would be lost, until the "
            "extract spells them as register-batch reads them, or a mapping file lists them under `ignored:` "
            "(misspelt_state_tag)"
        )
    blank = "its fields are blank, and it is" if one else "their fields are blank, and they are"
    return (
        f"{said}{'tags' if xml else 'columns'} nothing reads that look like misspellings of sources the field map "
        f"names ({tags}): {blank} invalid, until the mapping file names them as the extract does "
        "(mapped_source_misspelt)"
    )


class Rows(Sequence[dict[str, Any]]):
    """A list of report rows made as they are read, for a section of `ReportBuilder.extra` with a row per record
    (sync's `records`): each view (report.json, report.html) reads them once, and none holds them all.

    `Rows(items, row)` is `[row(item) for item in items]` without the list; `items` must not change meanwhile.
    """

    def __init__(self, items: Sequence[Any], row: Callable[[Any], dict[str, Any]]):
        self._items = items
        self._row = row

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return [self._row(item) for item in self._items[index]]
        return self._row(self._items[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        row = self._row
        for item in self._items:
            yield row(item)


# Input formats whose sources are named otherwise than Register's fields, and the family of field maps naming them.
# (A Register CSV's columns are mostly Register's field names: report.html names only those that differ.)
TAGGED_FORMATS = {"hesa-xml": "hesa", "hesa-csv": "hesa"}
# Every input format whose field map names its sources: issues.csv and report.json give each issue's (`source`).
SOURCE_FAMILIES = {**TAGGED_FORMATS, "register-csv": "register-csv"}
_INDEX = re.compile(r"\[[0-9]+\]")


def field_sources(mapping: MappingConfig) -> dict[str, dict[str, tuple[str, ...]]]:
    """Per family of SOURCE_FAMILIES, the sources (HESA tags, CSV columns) each field an issue can name is read from,
    as the field map in use (bundled and the user's files) has them (FieldMap.sources_by_field). A Register CSV's
    placements are in numbered columns: `placements_attributes[1].urn` is named with its index (`placement_2_urn`)."""
    found: dict[str, dict[str, tuple[str, ...]]] = {}
    for family in set(SOURCE_FAMILIES.values()):
        fmap = mapping.fields.get(family)
        if fmap is None:
            continue
        names = dict(fmap.sources_by_field())
        for place, column in enumerate(fmap.placement_columns):
            names[f"placements_attributes[{place}].urn"] = (column,)
        found[family] = names
    return found


# Issues whose value was not read from their field's own sources: a legacy leaving names withdrawal_date, the field it
# is not sent as, but is read from F_RSNEND and F_ENDDATE (mapping/apply.py), which a C21053 file has, unlike
# WITHDRAWAL_DATE (review161 F4). Only HESA extracts have them.
READ_ELSEWHERE = {"legacy_withdrawal_not_sent": ("F_RSNEND", "F_ENDDATE")}


def source_key(code: str, field: str | None) -> tuple[str | None, str | None]:
    """What an issue's source depends on besides its input (source_of): its field, and its code where READ_ELSEWHERE
    names it."""
    return field, code if code in READ_ELSEWHERE else None


def source_of(
    sources: Mapping[str, Mapping[str, tuple[str, ...]]],
    fmt: str | None,
    field: str | None,
    tags: frozenset[str] | None = None,
    code: str | None = None,
) -> tuple[str, ...]:
    """The tags (or columns) an issue's field was read from, for an input of format `fmt`; none for a format without a
    field map. With `tags` (`layout_tags`: those its input's layouts have), not the tags only other layouts have,
    unless that leaves none. With `code`, an issue of READ_ELSEWHERE's names the tags it lists."""
    family = SOURCE_FAMILIES.get(fmt or "")
    if family is None or not field:
        return ()
    if code in READ_ELSEWHERE:
        return READ_ELSEWHERE[code] if fmt in TAGGED_FORMATS else ()
    known = sources.get(family, {})
    named = tuple(known.get(field) or known.get(_INDEX.sub("", field), ()))
    if tags is None:
        return named
    return tuple(tag for tag in named if tag in tags or tag not in _LAYOUTS_TAGS) or named


def source_text(tags: tuple[str, ...]) -> str | None:
    """issues.csv's and report.json's `source`: the tags a field may be read from, as report.html lists them after
    "from" (`F_EXPECTEDENDDATE or F_ENDDATE`); null where none is known (a whole record's, or the sync's own)."""
    return " or ".join(tags) or None


_LAYOUTS_TAGS = frozenset(tag for tags in TAG_ORDER.values() for tag in tags)  # a tag of some layout's


def layout_tags(info: InputInfo) -> frozenset[str] | None:
    """The tags of the layouts (HESA collections) every record of `info` was read with, as the field map detected
    them; None when a record's is not known (it had none of a layout's tags, or the layout is a user's own)."""
    if not info.vintages or sum(info.vintages.values()) != info.records or not info.vintages.keys() <= TAG_ORDER.keys():
        return None
    return frozenset(tag for layout in info.vintages for tag in TAG_ORDER[layout])


def field_key(field: str | None, record: int | None) -> str:
    """What an issue is counted under by field: its field, or the whole record, or the whole file."""
    return field or ("(record)" if record else "(file)")


@dataclass
class Summary:
    """The counts at the top of every report: records, valid and invalid records, errors and warnings."""

    records: int = 0
    valid: int = 0
    invalid: int = 0
    errors: int = 0
    warnings: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "records": self.records,
            "valid": self.valid,
            "invalid": self.invalid,
            "errors": self.errors,
            "warnings": self.warnings,
        }


# A spool's issues are written this many at a time (or fewer, when their text is long): memory holds one such chunk,
# being filled or being read back.
SPOOL_CHUNK = 256
SPOOL_CHUNK_CHARS = 1 << 20
# Two halves of one character (a high surrogate, then a low one) as marshal writes them (UTF-8, surrogatepass).
_SURROGATE_PAIR = re.compile(rb"\xed[\xa0-\xaf][\x80-\xbf]\xed[\xb0-\xbf][\x80-\xbf]")


class IssueSpool:
    """Issues, each with its batch index, in a temporary file in the order added: the reports read them all back,
    each report once (report.html twice), however many there are, without holding them.

    Each issue is kept as its values (`model.issue_values`, in ISSUE_KEYS order), marshalled a chunk at a time: the
    JSON line per issue it was kept as cost more to write and to read back, four or five times over, than the rest of
    what the reports do with a warning.
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._chunk: list[tuple[int, IssueTuple]] = []
        self._chars = 0
        self._as_json = False  # the chunk holds a value of a library caller's own kind (_marshalled)

    @property
    def closed(self) -> bool:
        return self._file.closed

    def add(self, index: int, issue: Issue) -> None:
        if self._file.closed:
            raise ValueError("the issues were spooled to a temporary file, closed when the run ended")
        values = issue_values(issue)
        self._chunk.append((index, values))
        for value in values:
            if type(value) is str:  # the text an issue quotes from its input (its value, its ids) can be long
                self._chars += len(value)
            elif type(value) not in _PLAIN:  # a library caller's Issue.model_construct may hold anything
                self._as_json = True
        if len(self._chunk) >= SPOOL_CHUNK or self._chars >= SPOOL_CHUNK_CHARS:
            self._flush()

    def _flush(self) -> None:
        if self._chunk:
            blob = _marshalled(self._chunk, as_json=self._as_json)
            self._file.seek(0, os.SEEK_END)  # after the others, wherever a read left off
            self._file.write(len(blob).to_bytes(4, "little"))
            self._file.write(blob)
            self._chunk = []
            self._chars = 0
            self._as_json = False

    def __iter__(self) -> Iterator[tuple[int, IssueTuple]]:
        """(batch index, values) of each issue, in the order added. The file is put back at its end however far it
        was read, where the next issue is written (sync reads the issues before it adds its own)."""
        self._flush()
        file = self._file
        file.seek(0)
        try:
            while size := file.read(4):
                yield from marshal.loads(file.read(int.from_bytes(size, "little")))
        finally:
            if not file.closed:
                file.seek(0, os.SEEK_END)

    def close(self) -> None:
        self._chunk = []
        self._file.close()


# The kinds of value marshal reads back as JSON does (a str subclass, a tuple, a dict with numbers for keys do not).
_PLAIN = frozenset({str, int, float, bool, type(None)})


def _marshalled(chunk: list[tuple[int, IssueTuple]], *, as_json: bool = False) -> bytes:
    """`chunk` as marshal writes it; as it reads back from the JSON the spool held before, when it would read back
    otherwise: a value of another kind than _PLAIN (`as_json`: from a library caller's Issue.model_construct) as
    plain JSON values, and the two halves of a character, in two values joined (a lone surrogate each), as the
    character JSON reads them as. Every report then has the bytes it had."""
    if not as_json:
        blob = marshal.dumps(chunk)
        if not _SURROGATE_PAIR.search(blob):
            return blob
    texts = (json.dumps(pair, ensure_ascii=False).encode("utf-8", ESCAPE_UNENCODABLE) for pair in chunk)
    return marshal.dumps([json.loads(text) for text in texts])


class _Closed:
    """Where a pickled builder's spool was: closed, as the spool was when it was pickled."""

    closed = True

    def close(self) -> None:
        pass


_CLOSED = _Closed()


# Every file a run may write into its report folder: ReportBuilder.write's own and sync's results files.
REPORT_FILES = ("report.json", "issues.csv", "report.html", "junit.xml", "results.csv", "not_in_extract.csv")

# report.json's JSON Schema, beside this module (in the wheel too): every key validate, convert and sync write.
REPORT_SCHEMA = Path(__file__).with_name("report.schema.json")


def report_schema_text() -> str:
    """report.json's JSON Schema (draft 2020-12) as shipped, byte for byte: what `register-batch schema report`
    prints, for an SRS vendor or a nightly job to check the report.json files it reads against."""
    return REPORT_SCHEMA.read_text(encoding="utf-8")


def report_schema() -> dict[str, Any]:
    """report.json's JSON Schema (draft 2020-12), parsed: give it to a validator (`jsonschema.validate(report,
    report_schema())`). It names every key a report of this version writes, and refuses any other."""
    schema: dict[str, Any] = json.loads(report_schema_text())
    return schema


def check_report_dir(report_dir: StrPath, inputs: Iterable[StrPath], outputs: Iterable[StrPath] = ()) -> None:
    """Refuse, before any work, a report folder that cannot be written, that holds an input under a report's name
    (each report is put in place by a rename, which would replace that input), or in which an output of the run's
    (convert's) has a report's name: the reports would replace it, or remove it as an earlier run's. And an API token
    pasted as REGISTER_BATCH_TEMPLATE_CACHE, where report.html's compiled template would go (review111 F1)."""
    from register_batch.reports.template_cache import check_cache_setting

    check_cache_setting()
    check_writable_dir(report_dir)
    # A report folder another user planted (a link of theirs, a folder of theirs where they could have made it):
    # refused now, before a sync sends anything, not once its writes went out (review130 F5).
    check_not_planted(report_dir, reports=True)
    reports = [Path(report_dir) / name for name in REPORT_FILES]
    check_not_an_input(reports, inputs, instead="give the reports another folder")
    names = {name.casefold(): name for name in REPORT_FILES}
    # The report folder and the folders it is in, by their absolute names too (`-o o3 --report-dir o3/reports`, none
    # made yet): the reports were written into the output's name, which then failed "Is a directory" (review124 F2).
    holders = [Path(report_dir), *absolute(report_dir).parents]
    for output in outputs:
        target = Path(output)
        if any(same_folder(target, holder) for holder in holders):
            raise UnwritableOutput(
                output,
                "it is the report folder, or a folder it is in: name another file or give the reports another folder",
            )
        report = names.get(target.name.casefold())
        if report and same_folder(target.parent, Path(report_dir)):
            raise UnwritableOutput(
                output,
                f"the run's {report} is written in that folder: name another file or give the reports another folder",
            )


# How each report file of a run begins (its line ends as "\n"), to tell it from a file of that name someone else put
# in the folder (a CI job's own junit.xml or report.json in a shared build folder, or a junit.xml merged from ours and
# theirs), which is never removed; report.html by its title. The CSVs by their header: issues.csv's ISSUE_KEYS, sync's
# RESULT_COLUMNS and NOT_IN_EXTRACT_COLUMNS (sync/runner.py; test_report_set removes a real sync's files).
_OURS = {
    "report.json": b'{\n "tool": {\n  "name": "register-batch",',
    "junit.xml": b"<?xml version='1.0' encoding='UTF-8'?>\n<testsuite name=\"register-batch ",
    # (up to `line`: an earlier version's has no `source` after `message`, nor `fix` or `row` after that:
    # csv_report.COLUMNS)
    "issues.csv": ("\ufeff" + ",".join(ISSUE_KEYS[: ISSUE_KEYS.index("line") + 1]) + ",").encode(),
    "results.csv": "\ufeffinput,record,line,provider_trainee_id,hesa_id,action,outcome,trainee_id,".encode(),
    # (up to trainee_start_date: an earlier version's ends there, without `last_synced`)
    "not_in_extract.csv": "\ufefftrainee_id,hesa_id,provider_trainee_id,state,trainee_start_date".encode(),
}
_HTML_TITLE = b" register-batch</title>"


def _ours(path: Path) -> bool:
    """Whether `path` is a report file a run wrote (by how it begins: `_OURS`, with Windows' line ends too); False for
    one that cannot be read, or is not a plain file (a link, or a pipe, which would never answer)."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return False
        with open(path, "rb") as fh:
            head = fh.read(1024).replace(b"\r\n", b"\n")
    except OSError:
        return False
    return _HTML_TITLE in head if path.name == "report.html" else head.startswith(_OURS[path.name])


# The biggest head (all but the rows) of a report.json `report_head` reads: a run's header and sync block are far less.
_HEAD_AT_MOST = 16 << 20


def report_head(folder: StrPath) -> dict[str, Any] | None:
    """The report.json a run wrote in `folder`, without its rows (`records`, `issues`): its header and a sync's
    `sync`, read without the hundreds of megabytes of a large sync's records (json_report writes each top-level key on
    a line of its own, the rows last). None when the folder holds no run's report.json, or it cannot be read."""
    path = Path(folder) / "report.json"
    if not _ours(path):
        return None
    lines: list[str] = []
    size = 0
    try:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                if line.startswith((' "records": ', ' "issues": ')) or size > _HEAD_AT_MOST:
                    break
                lines.append(line)
                size += len(line)
        head = json.loads("".join(lines).rstrip().rstrip(",") + "\n}")
    except (OSError, ValueError):
        return None
    return head if isinstance(head, dict) else None


def move_reports(folder: StrPath, name: str) -> Path:
    """Move the report files a run wrote in `folder` (report.json and those beside it, `REPORT_FILES`) into a new
    owner-only folder in it, `name` (`name-2`, ... when taken): kept there, rather than replaced by the next run's.
    Returns that folder. Raises OSError (or UnwritableOutput) when it cannot be made or a file cannot be moved."""
    here = Path(folder)
    kept, _made = claim_new_dir(here / name)
    for file in REPORT_FILES:
        if _ours(here / file):
            os.replace(here / file, kept / file)
    return kept


def _remove_earlier_reports(folder: Path, keep: set[str]) -> None:
    """In a folder an earlier run wrote its reports in, remove its files that this run did not write (its junit.xml,
    a sync's results.csv before a validate): a reader takes every file beside report.html for this run's. Only a
    file that is a run's report is removed, and only once this run's are all in place; one that cannot be removed is
    named, and the run's reports stand."""
    for name in REPORT_FILES:
        path = folder / name
        if name in keep or not _ours(path):
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("%s is an earlier run's, left in place: %s", path, exc.strerror or exc)


def run_clock() -> datetime:
    """Now, in UTC to the second: when a run starts or ends, as its reports say (report.json's `run`)."""
    return datetime.now(UTC).replace(microsecond=0)


def run_times(started: datetime, ended: datetime | None) -> dict[str, str | None]:
    """report.json's `run`: when the run started and ended, ISO 8601 in UTC with its offset (`...+00:00`)."""

    def iso(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(UTC).replace(microsecond=0).isoformat()

    return {"started": iso(started), "ended": iso(ended)}


_FEW = 4  # a summary line names so many sources, then says how many more


def _first_few(names: Iterable[str]) -> str:
    """`names` for a summary line: the first _FEW, and how many more."""
    listed = list(names)
    more = f" and {len(listed) - _FEW} more" if len(listed) > _FEW else ""
    return ", ".join(listed[:_FEW]) + more


def reference_header(reference: ReferenceData) -> dict[str, Any]:
    """report.json's `reference`: the lists' source and sha256 (a pulled file's), when they were pulled (a pulled
    file's `pulled_at`, else None), and the bundled lists' date and DfE commit, whose rule tables a pull leaves as
    they are (review210 F7: no report said how old the lists it was judged with were)."""
    snapshot = bundled_snapshot(reference.api_version)
    return {
        "source": printable(reference.source),
        "sha256": reference.sha256,
        "pulled_at": reference.pulled_at,
        "bundled": {"date": snapshot.date, "commit": snapshot.commit},
    }


@dataclass
class ReportBuilder:
    """Collects issues from a stream of records; `write()` produces the report files."""

    api_version: str
    as_of: date
    command: str = "validate"
    summary: Summary = field(default_factory=Summary)
    by_field: Counter = field(default_factory=Counter)
    by_code: Counter = field(default_factory=Counter)
    inputs: list[InputInfo] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # What the records were judged with, besides the tool's version: the user's mapping files, as read (path,
    # sha256; the bundled ones come with the version), and the code lists (source "bundled v2026.1", or
    # "pulled <file>" with that file's sha256 and when it was pulled; `bundled`: the date and DfE commit of the
    # bundled lists, whose rule tables a pull does not replace: reference_header).
    mappings: list[dict[str, str]] = field(default_factory=list)
    reference: dict[str, Any] | None = None
    # The HESA tags or CSV columns each field is read from (field_sources): each issue's `source`, and report.html names
    # them beside Register's field.
    sources: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    # When the run started (the builder is made as it starts) and ended (its work done: set by the first `write()`
    # unless set before), for every report to say: no other part of a report printed, or written to a --report-dir,
    # says when it ran. Set once, so that the same builder written twice gives the same files.
    started: datetime = field(default_factory=run_clock)
    ended: datetime | None = None

    @classmethod
    def judging(
        cls, checker: Checker, *, api_version: str, command: str = "validate", started: datetime | None = None
    ) -> ReportBuilder:
        """A builder for the records `checker` judges, recording what they are judged with; the run started now,
        or at `started`."""
        mapping = checker.mapping
        return cls(
            api_version=api_version,
            as_of=checker.as_of,
            command=command,
            started=started or run_clock(),
            mappings=[
                {"path": printable(path), "sha256": digest}
                for path, digest in zip(mapping.files, mapping.sha256, strict=True)
            ],
            reference=reference_header(checker.reference),
            sources=field_sources(mapping),
        )

    def __post_init__(self) -> None:
        # A time without a zone (a library caller's datetime.now()) is this machine's local time, as Python takes it.
        self.started = self.started if self.started.tzinfo else self.started.astimezone(UTC)
        if self.ended is not None and self.ended.tzinfo is None:
            self.ended = self.ended.astimezone(UTC)
        self._spool = IssueSpool()  # _CLOSED in a pickled builder
        self._each_row: Callable[[], None] | None = None  # while `write` writes: called every ROWS_TICK issue rows
        self._file_issues: list[Issue] = []
        self._batch: list[IssueSpool] = []  # spools of later issues, each in batch order
        self._batch_last = -1
        self._invalid = bytearray()
        self._key = 0
        from register_batch.validation.resaved import ResavedWatch

        self._resaved = ResavedWatch()  # a file a spreadsheet re-saved: said once about the file (review151 F9)
        # (input, code) -> (field, the tag nothing reads) -> records given mapped_source_misspelt (review161 F1) or
        # misspelt_tag (review171 F1) for it
        self._misspelt: dict[tuple[str, str], Counter[tuple[str | None, str | None] | None]] = {}  # None: the records

    def _count(self, issue: Issue) -> None:
        if issue.severity is Severity.ERROR:
            self.summary.errors += 1
        else:
            self.summary.warnings += 1
        self.by_field[field_key(issue.field, issue.record)] += 1
        self.by_code[issue.code] += 1

    def add_record(self, record: TraineeRecord) -> None:
        """Count one record and spool its issues (records arrive in batch order)."""
        self.summary.records += 1
        invalid = record.has_errors
        self._invalid.append(1 if invalid else 0)
        spool = self._spool
        for issue in record.issues:
            self._count(issue)
            spool.add(self._key, issue)
        self._resaved.add(record)  # every record: its dates that could be swapped too (review224 F1)
        if record.issues:
            misspelt = [issue for issue in record.issues if issue.code in _MISSPELLINGS]
            for code in dict.fromkeys(issue.code for issue in misspelt):
                tally = self._misspelt.setdefault((record.source.input, code), Counter())
                tally[None] += 1
                tally.update(dict.fromkeys(((i.field, i.value) for i in misspelt if i.code == code), 1))
        self._key += 1

    def add_file_issues(self, issues: Iterable[Issue]) -> None:
        for issue in issues:
            self._count(issue)
            self._file_issues.append(issue)

    def add_batch_issues(self, pairs: Iterable[tuple[int, Issue]]) -> None:
        """Issues found after the stream (duplicates, upload results): pairs of (batch index, issue).

        They are spooled like the others; a run of pairs in batch order shares one spool file, and the
        files are merged in order when the reports are written.
        """
        for index, issue in pairs:
            self._count(issue)
            if not self._batch or index < self._batch_last:
                self._batch.append(IssueSpool())
            self._batch_last = index
            self._batch[-1].add(index, issue)
            if issue.severity is Severity.ERROR and index < len(self._invalid):
                self._invalid[index] = 1

    def finish(self, inputs: list[InputInfo]) -> None:
        self.inputs = list(inputs)
        self.add_file_issues(self._resaved.issues(inputs))  # first: the cause of most of the issues that follow
        self.add_file_issues(self._resaved.swapped(inputs))
        for info in inputs:
            # A Register CSV that its web upload would refuse (hesa-formats.md §3.2) is news to `validate`, the check
            # before that upload; `convert` writes files that fit and `sync` uses the API, where it is only noise.
            self.add_file_issues(i for i in info.issues if self.command == "validate" or i.code not in UPLOAD_ONLY)
        self.summary.invalid = sum(self._invalid)
        self.summary.valid = self.summary.records - self.summary.invalid

    def file_issues(self, code: str) -> list[Issue]:
        """The issues of `code` about a whole file (`resaved_by_a_spreadsheet`: the terminal says it beside the summary
        line, report.html in its summary box)."""
        return [issue for issue in self._file_issues if issue.code == code]

    def causes(self) -> list[tuple[str, str]]:
        """(input, what to say) of the causes that reach across a file, which the terminal says beside the summary
        line and report.html in its summary box, not only among the issues: a file a spreadsheet re-saved (review151
        F9); records holding a tag nothing reads that looks like a misspelt source of a user's field map, and the
        sources no record has, whose fields are blank in every record (review161 F1). After `finish()`."""
        from register_batch.validation.resaved import RESAVED, SWAPPED

        found = [(issue.input, issue.message) for issue in self.file_issues(RESAVED)]
        found += [(issue.input, f"{issue.message} ({SWAPPED})") for issue in self.file_issues(SWAPPED)]
        formats = {info.path: info.format for info in self.inputs}
        for (name, code), pairs in self._misspelt.items():
            tags = _first_few(f"{pair[1]} for {pair[0]}" for pair in pairs if pair is not None)
            found.append((name, _misspellings_said(code, pairs[None], tags, formats.get(name) == "hesa-xml")))
        missing: dict[str, list[Issue]] = {}
        for issue in self.file_issues(MISSING):
            missing.setdefault(issue.input, []).append(issue)
        for name, issues in missing.items():
            sources = _first_few(f"{issue.value} (for {issue.field})" for issue in issues)
            found.append(
                (
                    name,
                    f"no record has {sources}, which the field map reads: "
                    f"{'that field is' if len(issues) == 1 else 'those fields are'} blank in every record (a misspelt "
                    "tag or column, or none in this extract? mapped_source_missing)",
                )
            )
        return found

    def is_invalid(self, index: int) -> bool:
        return bool(self._invalid[index])

    def issues(self) -> Iterator[dict[str, Any]]:
        """Every issue as a report row: file-level first, then in record order; its values whole (the report files
        cut an over-long one short: issue_values).

        Only until `close()`: the job functions close the builder before they return, and the rows are then
        in the report's files (`report.json`, `issues.csv`).
        """
        for values in self.issue_values(whole=True):
            yield dict(zip(ISSUE_KEYS, values, strict=True))

    def issue_values(self, *, whole: bool = False) -> Iterator[ReportTuple]:
        """`issues()`, each row as its values, in ISSUE_KEYS order: what the report writers read, every issue of the
        run each, for which a dict apiece would cost more than the rest they do with most rows. An issue's `source`
        (source_of, as source_text words it) is found once for each input and field. An over-long value, id or
        message is cut short (SHOWN_CHARS, SHOWN_TEXT_CHARS), as every report writes it, unless `whole`."""
        formats = {info.path: info.format for info in self.inputs}
        tags = {info.path: layout_tags(info) for info in self.inputs}
        found: dict[tuple[str, tuple[str | None, str | None]], str | None] = {}  # (input, source_key) -> its source
        for values in self.plain_values():
            name = values[0]
            about, code = said = source_key(values[8], values[6])
            key = (name, said)
            if key not in found:
                found[key] = source_text(source_of(self.sources, formats.get(name), about, tags.get(name), code))
            shown = (*values, found[key])
            yield _shown_values(shown) if not whole and _long(shown) else shown

    def plain_values(self) -> Generator[IssueTuple, None, None]:
        """Every issue's values as spooled (model.issue_values: ISSUE_KEYS without `source`), file-level first."""
        self._still_spooled()
        for issue in self._file_issues:
            yield issue_values(issue)
        spooled = self._spooled()
        each_row = self._each_row
        try:
            if each_row is None:
                for _index, values in spooled:
                    yield values
            else:
                for count, (_index, values) in enumerate(spooled):
                    if not count % ROWS_TICK:
                        each_row()
                    yield values
        finally:
            spooled.close()  # when a reader stops early: the spools put back at their end at once, not once collected

    def errors_named(self) -> dict[int, list[str]]:
        """Each record's errors as "code (field)", once each, by batch index, for the records that have any: sync
        names them in the results row of a record it did not send, which said only that it failed validation."""
        return self.issues_named()[Severity.ERROR]

    def issues_named(self) -> dict[Severity, dict[int, list[str]]]:
        """`errors_named` for every severity, in one read of the spools: a record's warnings are named in its results
        row too, beside those of the sync."""
        self._still_spooled()
        found: dict[Severity, dict[int, list[str]]] = {severity: {} for severity in Severity}
        for index, values in self._spooled():
            about, code, severity = values[6], values[8], values[9]
            named = f"{code} ({about})" if about else code
            if named not in (names := found[Severity(severity)].setdefault(index, [])):
                names.append(named)
        return found

    def _still_spooled(self) -> None:
        if self._spool.closed:
            raise RegisterBatchError(
                "this run's issues were spooled to a temporary file, closed when the run ended: read them from "
                "the report.json or issues.csv it wrote, or iterate register_batch.validation.Checker.records() "
                "for each record's issues as Issue objects"
            )

    def _spooled(self) -> Generator[tuple[int, IssueTuple], None, None]:
        """(batch index, values) of every record's issue, in record order."""
        if not self._batch:  # the issues of a validate: in one spool, in record order already
            yield from self._spool
            return
        streams = [iter(spool) for spool in (self._spool, *self._batch)]
        try:
            yield from heapq.merge(*streams, key=lambda pair: pair[0])
        finally:
            for stream in streams:  # each spool put back at its end at once, not once the streams are collected
                stream.close()  # type: ignore[attr-defined]  # a generator

    def header(self) -> dict[str, Any]:
        return {
            "tool": {"name": "register-batch", "version": __version__},
            "api_version": self.api_version,
            "as_of": self.as_of.isoformat(),
            "inputs": [info.as_report() for info in self.inputs],
            "summary": self.summary.as_dict(),
            # After design.md's keys, in its order: what the records were judged with.
            "mappings": self.mappings,
            "reference": self.reference,
            "run": run_times(self.started, self.ended),
        }

    @staticmethod
    def file_count(*, junit: bool = False, html: bool = True, more: Mapping[str, object] | None = None) -> int:
        """How many files `write` writes given these arguments: report.json, issues.csv and each of the others."""
        return 2 + html + junit + len(more or {})

    def write(
        self,
        report_dir: StrPath,
        *,
        junit: bool = False,
        html: bool = True,
        more: Mapping[str, tuple[str, Callable[[IO[str]], None]]] | None = None,
        each_written: Callable[[], None] | None = None,
        each_row: Callable[[], None] | None = None,
    ) -> dict[str, Path]:
        """Write report.json, issues.csv, report.html (and junit.xml) into an owner-only folder, all or none.

        `more`: key -> (CSV file name, writer) for a command's own files of the same report (sync's results.csv).
        `each_written`: called as each file is written (`file_count` of them), before all are put in place together:
        a sync's progress counts them (review134 F9). `each_row`: called every ROWS_TICK issue rows a file reads (a
        progress's `tick`): a file of a million issues takes half a minute, which said nothing looked like a hang
        (review184 F4).
        """
        from register_batch.reports import csv_report, html_report, json_report, junit_report

        if self.ended is None:  # the run's work is done: its reports are written
            self.ended = max(run_clock(), self.started)
        folder = private_dir(report_dir, own=REPORT_FILES, reports=True)
        earlier = _ours(folder / "report.json")  # a folder a run wrote its reports in, not one of files like them
        files: dict[str, tuple[str, str | None, Callable[[IO[str]], None]]] = {
            "json": ("report.json", None, lambda fh: json_report.write(fh, self)),
            "csv": ("issues.csv", "", lambda fh: csv_report.write(fh, self)),
        }
        if html:
            files["html"] = ("report.html", None, lambda fh: html_report.write(fh, self))
        if junit:
            files["junit"] = ("junit.xml", None, lambda fh: junit_report.write(fh, self))
        for key, (name, fill) in (more or {}).items():
            files[key] = (name, "", fill)
        self._each_row = each_row
        try:
            with private_files_together({key: (folder / name, nl) for key, (name, nl, _fill) in files.items()}) as out:
                for key, (_name, _nl, fill) in files.items():
                    fill(out[key])
                    if each_written is not None:
                        # A full disk said while this file is counted, not after all are (review145 F2).
                        out[key].flush()
                        each_written()
        finally:
            self._each_row = None
        if earlier:
            _remove_earlier_reports(folder, keep={name for name, _nl, _fill in files.values()})
        return {key: folder / name for key, (name, _nl, _fill) in files.items()}

    def close(self) -> None:
        """Discard the spooled issues (after `write()`); the counts and `summary` stay."""
        self._spool.close()
        for spool in self._batch:
            spool.close()

    def __enter__(self) -> ReportBuilder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __getstate__(self) -> dict[str, Any]:
        """A finished run's builder pickles (a worker pool returning a job's result to its caller) without its
        spools, closed already: its counts, inputs and `summary` go; `issues()` says where the rows are, as it does
        here. One still being built holds issues only in its spools, and is refused rather than sent without them."""
        if not self._spool.closed:
            raise TypeError("a ReportBuilder still collecting issues cannot be pickled: close() it after write()")
        state = self.__dict__.copy()
        state["_spool"], state["_batch"] = _CLOSED, []
        return state
