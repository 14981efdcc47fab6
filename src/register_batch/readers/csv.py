"""Stream rows from CSV extracts: Register's bulk-add template and HESA-named CSV.

Encoding (hesa-formats.md §3.2): UTF-8 with or without BOM, else Windows-1252 as Excel writes it (with
Latin-1 for the five bytes cp1252 leaves undefined). The whole file is checked once, while hashing, so the
choice never changes half-way through a file. CRLF, CR and LF line ends are all read.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from register_batch.errors import UnusableInput
from register_batch.model import Issue, Severity, SourceRef
from register_batch.readers.base import InputInfo, RawRecord, clean

MAX_CELL = 1 << 17  # 128 KiB: a longer cell is not trainee data
_BOM = codecs.BOM_UTF8


@dataclass(frozen=True)
class CsvLayout:
    """How to read one CSV flavour's header row."""

    format: str
    normalise: Callable[[str], str]
    known: frozenset[str]  # accepted column names after normalise()
    ignored: frozenset[str]  # accepted and dropped (e.g. Register's "Validation results")
    group_pattern: re.Pattern[str] | None = None  # repeated-group columns, e.g. F_PLMNTSCH_2
    expected: tuple[str, ...] = ()  # columns a complete file has (missing ones are reported)


def sniff_encoding(stream: BinaryIO, hasher) -> tuple[str, int]:
    """Hash the whole stream and pick its encoding; returns (encoding, size in bytes)."""
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    utf8 = True
    size = 0
    first = True
    while chunk := stream.read(1 << 20):
        hasher.update(chunk)
        size += len(chunk)
        if first:
            first = False
            if chunk.startswith(_BOM):
                chunk = chunk[3:]
        if utf8:
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    return ("utf-8-sig" if utf8 else "cp1252"), size


def _cp1252_or_latin1(error: UnicodeDecodeError) -> tuple[str, int]:
    """The five bytes cp1252 does not define are read as Latin-1 rather than failing."""
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("register_batch_cp1252", _cp1252_or_latin1)


def _strip_apostrophe(value: str) -> str:
    # Register strips exactly one leading apostrophe from every value (hesa-formats.md §3.3).
    return value[1:] if value.startswith("'") else value


def read_csv(stream: BinaryIO, info: InputInfo, layout: CsvLayout, encoding: str) -> Iterator[RawRecord]:
    """Yield one RawRecord per non-blank row. Raise UnusableInput for a header no row could fit."""
    name = info.path
    errors = "register_batch_cp1252" if encoding == "cp1252" else "strict"
    text = io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline="")
    reader = csv.reader(text, strict=False)
    csv.field_size_limit(MAX_CELL)
    try:
        header = next(reader, None)
    except (csv.Error, UnicodeDecodeError) as exc:
        raise UnusableInput(name, f"unreadable CSV header: {exc}", line=1) from None
    if header is None:
        raise UnusableInput(name, "the file is empty")
    columns = _header_columns(header, layout, name)
    present = set(columns)
    missing = [c for c in layout.expected if c not in present]
    if missing:
        info.issues.append(
            Issue(
                input=name,
                line=1,
                code="missing_columns",
                severity=Severity.WARNING,
                message=(
                    f"the header lacks {len(missing)} of the template's columns ({', '.join(missing)}): "
                    "they are read as blank, and Register's own CSV upload would reject this file"
                ),
            )
        )
    width = len(header)
    count = 0
    start_line = reader.line_num + 1
    try:
        for row in reader:
            line = start_line
            start_line = reader.line_num + 1
            if not any(cell.strip() for cell in row):
                continue
            count += 1
            fields: dict[str, str | None] = {}
            problems: list[tuple[str | None, str]] = []
            if len(row) > width:
                extra = [c for c in row[width:] if c.strip()]
                if extra:
                    problems.append(
                        (None, f"row has {len(row)} cells but the header has {width} columns (extra commas?)")
                    )
            for index, column in enumerate(columns):
                if column is None:
                    continue
                raw = row[index] if index < len(row) else None
                fields[column] = clean(_strip_apostrophe(raw.strip())) if raw is not None else None
            yield RawRecord(
                source=SourceRef(input=name, record=count, line=line),
                fields=fields,
                problems=problems,
            )
    except csv.Error as exc:
        raise UnusableInput(name, f"malformed CSV: {exc}", line=reader.line_num) from None
    info.records = count
    if count == 0:
        raise UnusableInput(name, "the file has a header but no trainee rows")


def _header_columns(header: list[str], layout: CsvLayout, name: str) -> list[str | None]:
    columns: list[str | None] = []
    seen: dict[str, int] = {}
    unknown: list[str] = []
    for position, cell in enumerate(header, start=1):
        label = _strip_apostrophe(cell.strip()).strip()
        if not label:
            if position == len(header) and len(header) > 1:
                columns.append(None)  # a trailing comma after the last header
                continue
            raise UnusableInput(name, f"column {position} has a blank header", line=1)
        key = layout.normalise(label)
        if key in layout.ignored:
            columns.append(None)
            continue
        if key not in layout.known and not (layout.group_pattern and layout.group_pattern.fullmatch(key)):
            unknown.append(label)
            columns.append(None)
            continue
        if key in seen:
            raise UnusableInput(name, f"duplicate column header {label!r} (columns {seen[key]} and {position})", line=1)
        seen[key] = position
        columns.append(key)
    if unknown:
        shown = ", ".join(repr(u) for u in unknown[:10])
        more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
        raise UnusableInput(
            name,
            f"unknown column header{'s' if len(unknown) > 1 else ''} {shown}{more} for {layout.format}",
            line=1,
        )
    return columns
