"""Writers shared by `convert` and `export`: JSON Lines, JSON and Register's bulk-add CSV.

Register's CSV (hesa-formats.md §3.1 and §5 items 27-31): exactly the 51 v2026.1 headers in template order,
UTF-8 without BOM, ISO dates, one degree (the highest) and at most three placements per row, a leading
apostrophe on code and date cells (Register strips one), and files kept under 1 MB by splitting.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from pathlib import Path
from typing import Any

from register_batch.csvsafe import protect, spreadsheet_would_change
from register_batch.errors import UnwritableOutput
from register_batch.fs import private_writer
from register_batch.model import as_sent
from register_batch.resources import data_dir
from register_batch.wording import CONTROL_CHARACTER, ESCAPE_UNENCODABLE, counted

# Half a character: a lone surrogate, which a JSON escape in Register's answer can give and UTF-8 cannot carry.
_SURROGATE = re.compile("[\ud800-\udfff]")

REGISTER_CSV_MAX_BYTES = 1_000_000  # Register refuses uploads over 1 MB (§3.2 item 3)

# PREFIXED_HEADERS of import_rows.rb: code and date columns Register's error report protects with "'".
PREFIXED = frozenset(
    {
        "hesa_id",
        "date_of_birth",
        "sex",
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
        "trainee_start_date",
        "pg_apprenticeship_start_date",
        "fund_code",
        "funding_method",
        "training_initiative",
        "additional_training_initiative",
        "uk_degree",
        "non_uk_degree",
        "degree_subject",
        "degree_grade",
        "degree_graduation_year",
        "awarding_institution",
    }
)
DEGREE_COLUMNS = {
    "uk_degree": "uk_degree",
    "non_uk_degree": "non_uk_degree",
    "degree_subject": "subject",
    "degree_grade": "grade",
    "degree_graduation_year": "graduation_year",
    "awarding_institution": "institution",
    "degree_country": "country",
}
DEGREE_KEYS = frozenset(DEGREE_COLUMNS.values())
PLACEMENT_COLUMNS = ("placement_1_urn", "placement_2_urn", "placement_3_urn")


def register_template() -> tuple[str, ...]:
    """The 51 v2026.1 headers, from mappings/fields/register-csv.yaml (copied from Register's template)."""
    from register_batch.mapping.loader import _read_yaml

    doc = _read_yaml(data_dir("mappings") / "fields" / "register-csv.yaml")
    return tuple(doc["template"])


# How to look at a Register CSV this module wrote in Excel: it is UTF-8 without a byte-order mark, as Register's
# template is, which Excel opened by a double-click reads as Windows-1252 (formats.md, "About the register-csv
# output"). Said by `convert` and `export` after they write one (review168 F6).
OPENING_IN_EXCEL = (
    "to look at a Register CSV in Excel, use Data > From Text/CSV and choose UTF-8 (a double-click shows accented "
    "names garbled, and saving it then keeps them so); upload the file as written"
)

# The template's version: Register's "bulk add trainees" page offers the blank template as
# v2026_1_bulk_create_trainee.csv, which `register-batch reference template` writes byte for byte (review168 F4).
TEMPLATE_VERSION = "v2026.1"


# Why `write_register_template` never replaces a file: the template is where someone with no SRS keeps their trainees
# (formats.md), so a file of its name may be one filled in (review172 F1: 25 trainees replaced by a header, exit 0).
TEMPLATE_THERE = "a file of that name is there already (perhaps a template filled in): delete it or choose another name"


def write_register_template(path: str | Path) -> Path:
    """Write a blank copy of Register's bulk-add CSV template: its header alone, as Register's own file has it (the
    51 headers in template order, UTF-8 without a byte-order mark, `\\n` after it), owner-only and atomically as every
    file register-batch writes (fs.private_writer); for someone who fills trainees in a spreadsheet, with no SRS. A
    file already at `path` is kept and the write refused (UnwritableOutput): it may be the template filled in."""
    with private_writer(path, newline="", if_there=TEMPLATE_THERE) as fh:
        fh.write(RegisterCsvWriter._line(list(register_template())))
    return Path(path)


def _year(value: Any) -> int:
    text = str(value or "")
    return int(text[:4]) if text[:4].isdigit() else -1


# The qualification level of a HESA degree type (DEGTYPE, the codes of `uk_degree` and `non_uk_degree`), as DfE's
# reference data gives it (`DfE::ReferenceData::Degrees::TYPES` → `Qualifications`, where Register's degree types come
# from): 0xx bachelor's, level 6; 2xx master's (and 207, a level 7 certificate), 7; 3xx doctorates, 8. Of the generic
# types, 400 "First degree" and 402 "Degree equivalent" are level 6, and 401 "Higher degree or equivalent" is level 7
# or 8, ranked 7 here: a named doctorate outranks it. 999 "Not available" and codes outside these have no level (0).
def degree_level(degree: dict[str, Any]) -> int:
    """The qualification level of a degree's type (see above), 0 when it is not known."""
    code = str(degree.get("uk_degree") or degree.get("non_uk_degree") or "")
    if len(code) != 3 or not code.isdigit():
        return 0
    if code[0] == "3":
        return 8
    if code[0] == "2" or code == "401":
        return 7
    if code[0] == "0" or code in ("400", "402"):
        return 6
    return 0


def highest_degree(degrees: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The one degree Register's CSV holds, as its guidance says: "Only the highest previous degree qualification
    should be submitted" (hesa-formats.md §3.1). The highest level; of one level, the most recent; of one year, the
    first listed (`max` keeps the first), so the same degrees always give the same row."""
    if not degrees:
        return None
    return max(degrees, key=lambda d: (degree_level(d), _year(d.get("graduation_year"))))


def register_csv_values(data: dict[str, Any], notes: list[str]) -> dict[str, Any]:
    """A trainee body's values by the column they are written to (those with no column too, for their note): its
    fields, the highest degree, the placements with a URN. Notes what of the degrees and placements is left out. A
    whole-number application_id as sync sends it (model.as_sent): its digits without leading zeros, which Register's
    upload measures as text (≤ 7; hesa-formats.md §3.3), as validate of a HESA input measured it (review196 F2)."""
    values: dict[str, Any] = {k: v for k, v in data.items() if k not in ("degrees_attributes", "placements_attributes")}
    if isinstance(sent := as_sent(values).get("application_id"), int):
        values["application_id"] = str(sent)
    degrees = data.get("degrees_attributes") or []
    degree = highest_degree(degrees)
    if degree:
        for column, key in DEGREE_COLUMNS.items():
            values[column] = degree.get(key)
        if len(degrees) > 1:
            others = counted(len(degrees) - 1, "other degree")
            notes.append(f"{others} left out: Register's CSV holds one degree per trainee, the highest")
        extra = sorted(k for k, v in degree.items() if k not in DEGREE_KEYS and v not in (None, ""))
        if extra:
            # Named by field, not value: a note's words are the same for every trainee it concerns, so that notes
            # are counted by kind (ExportResult.note_lines), and a value may be personal data (review82 F1).
            notes.append(f"the degree's {', '.join(extra)} left out: Register's CSV template has no column for it")
    # A placement without a URN must not take a column from one that can be written.
    with_urn = placements_with_urn(
        data.get("placements_attributes") or [], "Register's CSV holds placements by URN only", notes
    )
    for column, placement in zip(PLACEMENT_COLUMNS, with_urn, strict=False):
        values[column] = placement["urn"]
    if len(with_urn) > len(PLACEMENT_COLUMNS):
        notes.append(f"{counted(len(with_urn) - 3, 'placement')} left out: Register's CSV holds three")
    return values


def register_csv_held(data: dict[str, Any], template: tuple[str, ...]) -> dict[str, Any]:
    """What of a trainee body its row holds, as a body: the values of `template`'s columns as the fields they were
    written from (one degree, placements by URN). What validate of the file can refuse (export's refused_note): a
    second degree or a middle_names the row has no column for is not in it."""
    values = register_csv_values(data, [])
    columns = set(template)

    def written(column: str) -> bool:
        return column in columns and values.get(column) is not None

    nested = {*DEGREE_COLUMNS, *PLACEMENT_COLUMNS}
    held = {k: v for k, v in values.items() if k not in nested and written(k)}
    degree = {key: values[column] for column, key in DEGREE_COLUMNS.items() if written(column)}
    if degree:
        held["degrees_attributes"] = [degree]
    placements = [{"urn": values[column]} for column in PLACEMENT_COLUMNS if written(column)]
    if placements:
        held["placements_attributes"] = placements
    return held


def register_csv_row(data: dict[str, Any], template: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """One CSV row for a trainee body, and notes on what the row could not hold."""
    notes: list[str] = []
    values = register_csv_values(data, notes)
    unplaced = [k for k, v in values.items() if v is not None and k not in template]
    if unplaced:
        notes.append(f"no column for {', '.join(sorted(unplaced))} in Register's CSV template")
    row = [
        protect(values.get(column), prefix=column in PREFIXED or _converted(values.get(column))) for column in template
    ]
    # A quoted cell keeps its line break: register-batch reads it as one cell, and refuses the record for it
    # (control_character, as a tab), so the note says that (review56 F2; docs/formats.md, export); but not of one at
    # the value's start or end, which the reader trims (review110 F1).
    broken = sorted(column for column, cell in zip(template, row, strict=True) if _line_break(cell_as_read(cell)))
    if broken:
        notes.append(
            f"{', '.join(broken)} holds a line break: written as one quoted cell, but validate and sync of this file "
            "refuse the record (control_character); correct the value at its source"
        )
    return row, notes


def _line_break(text: str) -> bool:
    return "\n" in text or "\r" in text


def cell_as_read(cell: str) -> str:
    """A written cell's value as validate's CSV reader keeps it (readers/csv.py cell_fields): trimmed as `str.strip`
    trims, and one protecting apostrophe taken off and trimmed again. A control character at either end (a tab, a line
    break, U+0085) is not in it, and validate does not refuse the record for it (review110 F1)."""
    value = cell.strip()
    return value[1:].strip() if value[:1] == "'" else value


def _converted(value: Any) -> bool:
    """A value outside Register's protected columns that a spreadsheet would turn into a number or date (an SRS id
    `00123` saved as 123, `1/2/26` as a day; found by review40), or one starting with a letter or bracket that it would
    (`SEP-2026`, `Sep-26` as a day, `(1234)` as -1234: review88 F4): the apostrophe Register strips keeps it as it
    is."""
    return isinstance(value, str) and spreadsheet_would_change(value)


def control_notes(template: tuple[str, ...], row: list[str]) -> list[str]:
    """Notes naming the cells of a written row that validate and sync of the file will refuse (control_character):
    a tab or another control character, written as it is (a line break has its note in register_csv_row), and half
    a character (a lone surrogate, from a broken escape in Register's answer), written as its escape (`\\udce9`)."""
    controlled, halved = [], []
    for column, cell in zip(template, row, strict=True):
        if cell.isprintable():  # nearly every cell: no control character, no surrogate
            continue
        read = cell_as_read(cell)  # a control character at either end is trimmed as it is read (review110 F1)
        if not _line_break(read) and CONTROL_CHARACTER.search(read):
            controlled.append(column)
        if _SURROGATE.search(cell):
            halved.append(column)
    notes = []
    if controlled:
        notes.append(
            f"{', '.join(sorted(controlled))} holds a tab or another control character: written as it is, but "
            "validate and sync of this file refuse the record (control_character); correct the value at its source"
        )
    if halved:
        notes.append(
            f"{', '.join(sorted(halved))} holds half a character, which UTF-8 cannot carry: written as an escape "
            "(\\udXXX), which validate and sync of this file refuse (control_character); correct the value at its "
            "source"
        )
    return notes


def placements_with_urn(placements: list[dict[str, Any]], why: str, notes: list[str]) -> list[dict[str, Any]]:
    """The placements a format that holds them by URN can write (Register's CSV, HESA XML); the others (a name and
    postcode, no URN) get one note saying how many and `why` they are left out. Not by name: a note's words are the
    same for every trainee it concerns, and notes are counted by kind; one per school's name pushed every other kind
    of note past the twenty the command prints (review82 F1)."""
    with_urn = [placement for placement in placements if placement.get("urn") not in (None, "")]
    if without := len(placements) - len(with_urn):
        notes.append(f"{counted(without, 'placement')} without a URN left out: {why}")
    return with_urn


def abandon(context: Any) -> None:
    """Close a private_writer context as failed: its temporary file is removed and nothing is put in place (a
    disk that refused the output also refuses what was still buffered for it: that is no further news)."""
    with contextlib.suppress(RuntimeError, UnwritableOutput):
        context.__exit__(RuntimeError, RuntimeError("the output was abandoned"), None)


class RegisterCsvWriter:
    """Writes rows to OUT, continuing in OUT-2.csv, OUT-3.csv, ... when a file would pass max_bytes.

    Every part stays a private temporary file until close() puts them all in place, so a run that fails part-way
    (abort()) leaves the earlier output whole, never some of its parts replaced by some of this one's."""

    def __init__(self, path: str | Path, *, max_bytes: int = REGISTER_CSV_MAX_BYTES):
        self.path = Path(path)
        self.template = register_template()
        self.max_bytes = max_bytes
        self.paths: list[Path] = []
        self.rows = 0
        self._header = self._line(list(self.template))
        self._current: Any = None
        self._context: Any = None
        self._finished: list[Any] = []  # the parts written, still temporary files (their private_writer contexts)
        self._size = 0
        self.stale: list[Path] = []  # OUT-N.csv files after this output's last part (see close())

    @staticmethod
    def _line(row: list[str]) -> str:
        buffer = io.StringIO()
        # Minimal quoting quotes a cell holding the line terminator, "\n", but not a bare "\r", which a reader
        # (Excel, Register, this tool) takes for a line end too: a row holding one is quoted throughout.
        quote_all = any("\r" in cell for cell in row)
        csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL).writerow(row)
        return buffer.getvalue()

    def _open(self) -> None:
        target = self._part(len(self.paths) + 1)
        self._context = private_writer(target, newline="")
        self._current = self._context.__enter__()
        self._current.write(self._header)
        self._size = len(self._header.encode("utf-8"))  # the template's labels: ASCII
        self.paths.append(target)

    def held(self, data: dict[str, Any]) -> dict[str, Any]:
        """What of a trainee body its row holds (register_csv_held)."""
        return register_csv_held(data, self.template)

    def write(self, data: dict[str, Any]) -> list[str]:
        row, notes = register_csv_row(data, self.template)
        notes += control_notes(self.template, row)
        line = self._line(row)
        size = len(line.encode("utf-8", ESCAPE_UNENCODABLE))  # as private_writer writes it
        if self._current is None:
            self._open()
        elif self.rows and self._size + size > self.max_bytes and self._size > len(self._header):
            self._finish_part()
            self._open()
        self._current.write(line)
        self._size += size
        self.rows += 1
        return notes

    def _finish_part(self) -> None:
        if self._context is not None:
            # On disk before any part is put in place (close()): a disk that fails one (full, or a network share
            # refusing at fsync) then leaves every part of the earlier output as it was, as private_files_together.
            self._current.sync()
            self._finished.append(self._context)
            self._context = self._current = None

    def abort(self) -> None:
        """Leave no part of this output behind: every temporary part is removed, nothing put in place."""
        if self._context is not None:  # not flushed: the disk may be what failed
            self._finished.append(self._context)
            self._context = self._current = None
        for context in self._finished:
            abandon(context)
        self._finished = []

    def _part(self, number: int) -> Path:
        return self.path if number == 1 else self.path.with_name(f"{self.path.stem}-{number}{self.path.suffix}")

    def finish(self) -> None:
        """Write the last part to disk, none put in place yet: what a full disk can still refuse is refused here,
        before a caller writes a report saying the output was written."""
        try:
            if self._current is None and not self._finished:
                self._open()  # an empty export is still a valid file: the header row
            self._finish_part()
        except BaseException:
            self.abort()  # the last part's disk refused it: no part is put in place
            raise

    def close(self) -> list[Path]:
        """Put every part in place (finished first if finish() was not called); note the OUT-N.csv files numbered
        after the last (N contiguous). They may be parts of an earlier, longer output, which uploading OUT*.csv would
        send with this one, or files of their own that happen to have such a name: they are named to the user, never
        deleted."""
        self.finish()
        finished, self._finished = self._finished, []
        for index, context in enumerate(finished):
            try:
                context.__exit__(None, None, None)
            except BaseException:
                for rest in finished[index + 1 :]:  # left as temporary files otherwise
                    abandon(rest)
                raise
        number = len(self.paths) + 1
        while (stale := self._part(number)).is_file():
            self.stale.append(stale)
            number += 1
        return self.paths


# Line ends json.dumps leaves raw with ensure_ascii=False (it escapes only those below U+0020): str.splitlines() and
# JavaScript's older line readers end a line at each, and a record holding one (a name pasted from a web page) would
# read as two broken lines.
_LINE_ENDS = {0x85: "\\u0085", 0x2028: "\\u2028", 0x2029: "\\u2029"}


def _one_line(text: str) -> str:
    """`text` (JSON) with the line ends JSON may hold raw escaped; as it is, when it holds none (nearly always)."""
    if "\u2028" in text or "\u2029" in text or "\x85" in text:
        return text.translate(_LINE_ENDS)
    return text


class JsonLinesWriter:
    """One JSON document per line (JSON Lines), each line whole for any reader's idea of a line's end."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._context = private_writer(self.path)
        self._fh: Any = self._context.__enter__()  # an fs._OutputText: sync() puts it on disk
        self.rows = 0
        self.stale: list[Path] = []  # one file, no parts
        self._finished = False

    def write(self, item: dict[str, Any]) -> list[str]:
        self._fh.write(_one_line(json.dumps(item, ensure_ascii=False)) + "\n")
        self.rows += 1
        return []

    def _ending(self) -> str:
        return ""

    def finish(self) -> None:
        """Write the file to disk, not yet put in place: what a full disk can still refuse is refused here (see
        RegisterCsvWriter.finish)."""
        if self._finished:
            return
        try:
            self._fh.write(self._ending())
            self._fh.sync()
        except BaseException:
            self.abort()
            raise
        self._finished = True

    def close(self) -> list[Path]:
        self.finish()
        self._context.__exit__(None, None, None)
        return [self.path]

    def abort(self) -> None:
        """Leave no file behind."""
        abandon(self._context)


class JsonArrayWriter(JsonLinesWriter):
    """A JSON array written item by item (an empty export is `[]`)."""

    def write(self, item: dict[str, Any]) -> list[str]:
        self._fh.write(("[\n" if not self.rows else ",\n") + json.dumps(item, ensure_ascii=False))
        self.rows += 1
        return []

    def _ending(self) -> str:
        return "\n]\n" if self.rows else "[]\n"
