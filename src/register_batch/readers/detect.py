"""Tell an input's format from its content (not only its name)."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence

from register_batch.constants import FORMATS as FORMATS  # kept in constants.py for the command line's start-up
from register_batch.errors import UnusableInput
from register_batch.wording import cut_short

ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")


def is_zip(head: bytes) -> bool:
    return head.startswith(ZIP_MAGIC)


def is_gzip(head: bytes) -> bool:
    return head.startswith(GZIP_MAGIC)


SAVE_AS_CSV = "save the sheet as 'CSV UTF-8' and give that file"
_NOT_READ = "which register-batch does not read: extract the file from it, or compress it as .zip or .gz"
# Files people hand over for an extract, told by their first bytes (their "magic numbers"), so that the line says what
# the file is rather than "binary content".
_FOREIGN = tuple(
    (re.compile(magic), problem)
    for magic, problem in (
        (rb"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", f"an Excel 97-2003 workbook (.xls), not an extract: {SAVE_AS_CSV}"),
        (rb"BZh[1-9](?:1AY&SY|\x17rE8P\x90)", f"compressed with bzip2, {_NOT_READ}"),  # a block, or no data
        (rb"\xfd7zXZ\x00", f"compressed with xz, {_NOT_READ}"),
        (rb"7z\xbc\xaf\x27\x1c", f"a 7-Zip archive, {_NOT_READ}"),
        (rb"Rar!\x1a\x07", f"a RAR archive, {_NOT_READ}"),
        (rb"%PDF-", "a PDF document, not an extract: give the HESA XML or CSV file itself"),
        # A zip of no files is its end record alone (zipfile writes one for `ZipFile(path, "w")` closed empty).
        (rb"PK\x05\x06", "an empty zip file: it holds no extract; zip the extract itself"),
    )
)


def check_not_foreign(head: bytes, name: str) -> None:
    """Refuse a spreadsheet, archive or document of a kind no reader takes, saying what it is."""
    for magic, problem in _FOREIGN:
        if magic.match(head):
            raise UnusableInput(name, problem)


UTF16 = "UTF-16 text (Excel's 'Unicode Text'): save it again as 'CSV UTF-8' (or the XML as UTF-8)"
# An XML extract in UTF-16 (an XmlWriter set to Unicode) is no spreadsheet's: said in XML's words (review171 F5).
UTF16_XML = 'UTF-16 XML: write the extract as UTF-8 (encoding="UTF-8")'
UTF32 = "UTF-32 text: save it again as 'CSV UTF-8' (or the XML as UTF-8)"
# UTF-32's byte-order marks; the little-endian one starts as UTF-16's does (FF FE), so it is looked for first.
_UTF32_BOMS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")


def _utf32_without_bom(head: bytes) -> bool:
    """Text in UTF-32 with no byte-order mark: mostly ASCII, so three bytes in every four are NUL."""
    sample = head[: 4096 - 4096 % 4]
    if len(sample) < 16:
        return False
    for char in (0, 3):  # little-, then big-endian: where each character's ASCII byte is
        chars = sample[char::4]
        if sample.count(0) - chars.count(0) >= 0.9 * 3 * len(chars) and chars.count(0) <= 0.1 * len(chars):
            return True
    return False


def _utf16_without_bom(head: bytes) -> bool:
    """Text in UTF-16 with no byte-order mark (some exports write none): mostly ASCII, so every other byte is NUL."""
    sample = head[:4096]
    if len(sample) < 8:
        return False
    for zeros, chars in ((sample[1::2], sample[0::2]), (sample[0::2], sample[1::2])):  # little-, then big-endian
        if zeros.count(0) >= 0.9 * len(zeros) and chars.count(0) <= 0.1 * len(chars):
            return True
    return False


def check_not_utf16(head: bytes, name: str) -> None:
    """Refuse UTF-16, with or without its byte-order mark, whatever format the input is said to be: read as UTF-8 or
    Windows-1252 it is a NUL after every letter ("unknown column headers 'p\\x00r\\x00...'"). UTF-32 likewise, named
    as what it is (its byte-order mark starts as UTF-16's: review53 F6)."""
    if head.startswith(_UTF32_BOMS) or _utf32_without_bom(head):
        raise UnusableInput(name, UTF32)  # before UTF-16: read as that, it is a NUL after every letter too
    if head.startswith((b"\xff\xfe", b"\xfe\xff")) or _utf16_without_bom(head):
        raise UnusableInput(name, UTF16_XML if _utf16_xml(head) else UTF16)


def _utf16_xml(head: bytes) -> bool:
    """Whether UTF-16 text is XML: it starts, after any byte-order mark (and white space), with `<`."""
    for bom, encoding in ((b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")):
        if head.startswith(bom):
            candidates = [(head[2:66], encoding)]
            break
    else:  # no byte-order mark: the side the NULs are on says which (_utf16_without_bom)
        candidates = [(head[:64], "utf-16-le"), (head[:64], "utf-16-be")]
    for sample, encoding in candidates:
        text = sample[: len(sample) - len(sample) % 2].decode(encoding, errors="replace")
        if text.lstrip(" \t\r\n").startswith("<"):
            return True
    return False


def check_text_start(head: bytes, name: str) -> None:
    """Refuse what no reader can take from its first bytes, whatever format the input is said to be: UTF-16, and a
    UTF-8 byte-order mark twice (a tool that adds one to a file that has one), which a CSV reads as a first column
    named '\\ufeffprovider_trainee_id' and XML as "not XML"."""
    check_not_utf16(head, name)
    check_not_foreign(head, name)
    if head.startswith(_BOMS[0] * 2):
        raise UnusableInput(
            name,
            "the file starts with two UTF-8 byte-order marks (a tool added one to a file that had one): save it "
            "again as UTF-8",
            line=1,
        )


# An object, or an array of objects (or none): what `convert` and `export` write with `--to jsonl` or `json`. No format
# reads it, so "use fmt to say which" would send the user looking for one.
_JSON_START = re.compile(rb'\{\s*"|\[\s*[{\]]')
JSON_GIVEN = (
    "JSON, as convert and export write it, which register-batch does not read back: give the extract it was "
    "converted from, or an export to register-csv or hesa-xml"
)

# A mapping file's first key, after any comments or a `---` (docs/mappings.md): the likeliest file given as an input
# by mistake to `mappings check` (review117 F6), where "use fmt to say which" could not help.
# Block style (`codes:`) or flow style (`codes: {sex: ...}`); a `%YAML` directive, `---` (with a comment after it) and
# comments may come first (review121 F4).
_MAPPING_KEY = re.compile(r"(fields|codes)\s*:(\s*(#.*)?|\s+[{\[].*)")
_YAML_ASIDE = re.compile(r"\s*(#.*|---\s*(#.*)?|%.*)?")
MAPPING_GIVEN = "a mapping file (YAML), not an extract: give it with mapping_files"


def refuse_mapping_file(lines: list[str], name: str) -> None:
    """Refuse a file whose first line other than comments, blank ones and `---` is a mapping file's `fields:` or
    `codes:`, saying what it is and how to give it."""
    for number, line in enumerate(lines, start=1):
        if _YAML_ASIDE.fullmatch(line):
            continue
        if _MAPPING_KEY.fullmatch(line.rstrip()):
            raise UnusableInput(name, MAPPING_GIVEN, line=number).marking(mapping_files="mapping_files")
        return


def refuse_text_given_as_xml(
    head: bytes, name: str, register_columns: frozenset[str], hesa_tags: frozenset[str]
) -> None:
    """Refuse, as what it is, a file given as HESA XML that has no XML element: a CSV of a format register-batch reads,
    or a mapping file (review117 F6), as an XML file given as a CSV is named (csv.py)."""
    lines = head.decode("utf-8", "replace").lstrip("\ufeff").splitlines()[:HEADER_SEARCH_LINES]
    refuse_mapping_file(lines, name)
    if lines and (found := csv_format_of(_cells(lines[0]), register_columns, hesa_tags)):
        raise UnusableInput(
            name,
            f"the file is a CSV ({found}), not XML: give fmt {found}, or leave it out to have the format told from the "
            "file",
            line=1,
        ).marking(fmt="fmt")


# The header of Register's bulk-add template before v2026.0 (public/csv/bulk_create_trainee.csv, and v2025_0's), which
# an SRS set up in 2025 may still write. Register's v2026.1 upload refuses it (column names must match the template's).
OLDER_TEMPLATE = frozenset(
    label.lower()
    for label in (  # noqa: SIM905 - the header as the template spells it, one line of the file
        "Provider Trainee ID,Application ID,HESA ID,First Names,Last Name,Previous Last Name,Date of Birth,NI Number,"
        "Sex,Email,Nationality,Ethnicity,Disability 1,Disability 2,Disability 3,Disability 4,Disability 5,Disability 6,"
        "Disability 7,Disability 8,Disability 9,ITT Aim,Training Route,Qualification Aim,Course Subject One,"
        "Course Subject Two,Course Subject Three,Study Mode,ITT Start Date,ITT End Date,Course Age Range,Course Year,"
        "Lead Partner URN,Employing School URN,Trainee Start Date,PG Apprenticeship Start Date,Fund Code,"
        "Funding Method,Training Initiative,Additional Training Initiative,Placement 1 URN,Placement 2 URN,"
        "Placement 3 URN,UK Degree Type,Non-UK Degree Type,Degree Subject,Degree Grade,Degree Graduation Year,"
        "Awarding Institution,Degree Country"
    ).split(",")
)


def refuse_older_template(labels: list[str], name: str, width: int | None = None) -> None:
    """A header most of whose `width` column names (by default: `labels`, the whole header) are among `labels` and the
    older template's: say what it is and what to do, not "cannot tell the format" or 46 unknown column names. Given
    only the unknown ones, columns a mapping file reads (`Provider Trainee ID` mapped to provider_trainee_id) do not
    count."""
    hits = sum(1 for label in labels if label.strip().lstrip("'").strip().lower() in OLDER_TEMPLATE)
    if width is None:
        width = len([label for label in labels if label.strip()])
    if hits >= max(3, width // 2):
        raise UnusableInput(
            name,
            "the header is Register's older bulk-add template (title-case names such as 'Provider Trainee ID', "
            "before v2026.0), which Register's v2026.1 upload refuses: rename the columns as in the v2026.1 template "
            "(provider_trainee_id, …; `register-batch reference template -o FILE` writes its header)",
            line=1,
        )


def refuse_blank_header(header: list[str], name: str) -> None:
    """A blank line (or one of commas) above a CSV's header: read as the header, every row after it had extra cells.
    Refused whether the format was told from the file (`detect_format`) or given (`read_csv`)."""
    if not any(cell.strip() for cell in header):
        raise UnusableInput(
            name, "the first line is blank: a CSV's header must be its first line (delete the lines above it)", line=1
        )


# How far down a file a header is looked for under a line that is none: an SRS report's title, a blank line or a
# run date, Excel's `sep=,` (review117 F4: a title and a blank line was "use --format", then "list it under
# `ignored`").
HEADER_SEARCH_LINES = 10


def header_below(
    name: str,
    first_line: str,
    fmt: str,
    separator: str | None = None,
    *,
    width: int = 0,
    at: int = 2,
    rows_above: Sequence[list[str]] = (),
) -> UnusableInput:
    """The refusal of a file whose line `at` (up to HEADER_SEARCH_LINES) is a header of `fmt`'s columns (`width`
    cells) and whose first is none: a title, or the `sep=,` line Excel reads (and writes), and a blank line or a
    run date under it. Giving the format, or ignoring that "column", would not help. With `sep=;` the header below is
    separated by semicolons (`separator`), which must be said too.

    Line 1 may also be a trainee's row pasted above the header: it is quoted only when no cell of it could be a
    trainee's data (review53 F2), as an error line goes to a terminal, a cron mail or a CI log. So may the lines
    between (`rows_above`, their cells): such rows are to be moved, not deleted (review121 F3)."""
    cells = _cells(first_line) or first_line.split(",")  # (no cells: a line the csv module refuses, a NUL in it)
    delete = "delete the line above it" if at == 2 else f"delete the {at - 1} lines above it"
    # As wide as a row: not a title with a date in it
    rows = [
        n for n, row in enumerate([cells, *rows_above], start=1) if looks_like_record(row) and 2 * len(row) >= width
    ]
    if rows == [1] and at == 2:
        said = f"line 1 is not a header (it looks like a trainee's row, {_count_cells(cells)})"
        fix = "move that row below the header"
    elif rows:
        named = f"line {rows[0]}" if len(rows) == 1 else f"lines {', '.join(map(str, rows[:-1]))} and {rows[-1]}"
        look = "a trainee's row, by the look of it" if len(rows) == 1 else "trainees' rows, by the look of them"
        said = f"{named} {'is' if len(rows) == 1 else 'are'} not a header ({look})"
        fix = f"move {'that row' if len(rows) == 1 else 'those rows'} below the header"
        if len(rows) < at - 1:
            fix += ", and delete the other lines above it"
    elif any(looks_like_value(cell) for cell in cells):
        said = "line 1 is not a header (not shown: it may hold a trainee's data)"
        fix = delete
    else:
        shown = cut_short(first_line.strip(" \r\n"))  # a tab kept: `sep=\t` is shown so
        said = f"line 1 ({shown!r}) is not a header"
        fix = delete
    problem = f"{said}, but line {at} is one of {fmt}'s: a CSV's header must be its first line ({fix})"
    if separator:
        problem += f"; and {wrong_separator(separator)}"
    return UnusableInput(name, problem, line=1)


# What a trainee's value has and a column name has not: a run of five digits (a HUSID, an SRS id, a URN, an NI number),
# an email address, a date (2002-06-21, 21/07/2026) or a time.
_VALUE_SIGN = re.compile(r"\d{5}|@|\d[-/.]\d{1,2}[-/.]\d|\d:\d\d")


def looks_like_value(cell: str) -> bool:
    """Whether a header's cell could be a trainee's value rather than a column's name (so not to be shown in an error
    line): one with a sign of data (`_VALUE_SIGN`), no letter at all (a code, `'2`), or HESA's NULL. A name (Jade)
    cannot be told from a column's: `looks_like_record` keeps a whole row's cells out of sight."""
    label = cell.strip().lstrip("'").strip()
    if not label:
        return False
    return label.upper() == "NULL" or _VALUE_SIGN.search(label) is not None or not any(c.isalpha() for c in label)


def looks_like_record(cells: list[str]) -> bool:
    """Whether a line read as a header is a trainee's row: two or more cells, and one with a sign of data (a HUSID, a
    date, an email) or at least half of them values. A title line (`Trainees exported 21/07/2026`) is one cell."""
    labels = [cell for cell in cells if cell.strip()]
    values = [cell for cell in labels if looks_like_value(cell)]
    if len(labels) < 2 or not values:
        return False
    return any(_VALUE_SIGN.search(cell) for cell in values) or (len(values) >= 2 and 2 * len(values) >= len(labels))


def _count_cells(cells: list[str]) -> str:
    return f"{len(cells)} cell{'s' if len(cells) != 1 else ''}"


def separated_otherwise(cells: list[str], known: Callable[[list[str]], bool]) -> str | None:
    """'semicolons' or 'tabs' when a line read with commas is one cell whose parts, split by those, are a header
    (`known`)."""
    separator = other_separator(cells)
    return separator if separator and known(cells[0].split(SEPARATORS[separator][0])) else None


def without_bom(head: bytes) -> bytes:
    """The first bytes of a file without the byte-order mark it may start with (UTF-8's, or UTF-16's)."""
    for bom in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :]
    return head


def detect_format(head: bytes, name: str, register_columns: frozenset[str], hesa_tags: frozenset[str]) -> str:
    """Return 'hesa-xml', 'register-csv' or 'hesa-csv' from the first bytes of a file."""
    check_text_start(head, name)
    body = without_bom(head)
    stripped = body.lstrip()
    if not stripped:
        raise UnusableInput(name, "the file is empty")
    if stripped.startswith(b"<"):
        return "hesa-xml"
    lines = body.decode("utf-8", "replace").splitlines()[:HEADER_SEARCH_LINES]
    first_line = lines[0] if lines else ""
    header = _cells(first_line)
    found = csv_format_of(header, register_columns, hesa_tags)
    if found:
        return found
    refuse_blank_header(header, name)

    def known(cells: list[str]) -> bool:
        return csv_format_of(cells, register_columns, hesa_tags) is not None

    if separator := separated_otherwise(header, known):
        raise UnusableInput(name, wrong_separator(separator), line=1)
    # A NUL in a file whose first line is a header is a bad cell (control_character, on its record and line); with
    # no header, it is not text at all.
    if b"\x00" in body[:4096]:
        raise UnusableInput(name, "binary content: not a HESA XML or CSV extract")
    if _JSON_START.match(stripped):
        raise UnusableInput(name, JSON_GIVEN)
    refuse_mapping_file(lines, name)
    refuse_older_template(header, name)
    for at, line in enumerate(lines[1:], start=2):
        second = _cells(line)
        separator = None if known(second) else separated_otherwise(second, known)
        cells = second if separator is None else second[0].split(SEPARATORS[separator][0])
        if below := csv_format_of(cells, register_columns, hesa_tags):
            rows_above = [_cells(above) for above in lines[1 : at - 1]]
            raise header_below(name, first_line, below, separator, width=len(cells), at=at, rows_above=rows_above)
    if looks_like_record(header):
        raise UnusableInput(
            name,
            f"cannot tell the format: this looks like a trainee's row ({_count_cells(header)}), not a header: is the "
            "header row missing?",
            line=1,
        )
    raise UnusableInput(
        name,
        "cannot tell the format: not XML, and the first line is not a header of Register's CSV template "
        "or of HESA-named columns (use fmt to say which)",
        line=1,
    ).marking(fmt="fmt")


def _cells(line: str) -> list[str]:
    """A line's cells as a CSV's header; none if it is no CSV line."""
    try:
        return next(csv.reader(io.StringIO(line)), [])
    except csv.Error:
        return []


def csv_format_of(header: list[str], register_columns: frozenset[str], hesa_tags: frozenset[str]) -> str | None:
    """'register-csv' or 'hesa-csv' when most of a header's labels are that format's columns."""
    labels = [h.strip().lstrip("'").strip() for h in header if h.strip()]
    if not labels:
        return None
    register_hits = sum(1 for label in labels if label.lower() in register_columns)
    hesa_hits = sum(1 for label in labels if _is_hesa(label, hesa_tags))
    if register_hits >= max(3, len(labels) // 2) and register_hits >= hesa_hits:
        return "register-csv"
    if hesa_hits >= max(3, len(labels) // 2):
        return "hesa-csv"
    return None


# A spreadsheet saved as CSV where the decimal mark is a comma separates cells with semicolons; Excel's "Text (Tab
# delimited)" with tabs. Read with commas, such a header is one long cell. Register's upload takes commas only.
SEPARATORS = {
    "semicolons": (";", "as a spreadsheet set to a European language saves CSV"),
    "tabs": ("\t", "Excel's 'Text (Tab delimited)'"),
}


def other_separator(header: list[str], known: Callable[[str], bool] | None = None) -> str | None:
    """'semicolons' or 'tabs' when a header read with commas is one cell that those split into several labels: three
    or more, or two that are both columns `known` to the format given (a two-column extract)."""
    if len(header) != 1:
        return None
    for separator, (char, _origin) in SEPARATORS.items():
        count = header[0].count(char)
        if count >= 2 or (count == 1 and known is not None and all(known(part) for part in header[0].split(char))):
            return separator
    return None


def wrong_separator(separator: str) -> str:
    return (
        f"the cells are separated by {separator}, not commas ({SEPARATORS[separator][1]}): save it again as "
        "'CSV UTF-8 (Comma delimited)'"
    )


_GROUP_SUFFIX = re.compile(r"_\d+$")


def _is_hesa(label: str, hesa_tags: frozenset[str]) -> bool:
    """A HESA-named column: a tag (with or without F_), a numbered group column of one (F_DEGTYPE_3), or another
    column of that format (WITHDRAWAL_DATE, DEFER_DATE). A file with many degrees is still a HESA-named CSV."""
    upper = label.upper()
    base = _GROUP_SUFFIX.sub("", upper)
    return any(name in hesa_tags for name in (upper, base, f"F_{upper}", f"F_{base}"))
