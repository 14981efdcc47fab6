"""Stream rows from CSV extracts: Register's bulk-add template and HESA-named CSV.

Encoding (hesa-formats.md §3.2): UTF-8 with or without BOM, else Windows-1252 as Excel writes it (with
Latin-1 for the five bytes cp1252 leaves undefined). The whole file is checked once, while hashing, so the
choice never changes half-way through a file. CRLF, CR and LF line ends are all read.

Hostile or damaged files are refused, never half-read: a line longer than MAX_LINE (found while hashing,
before any parsing), a record longer than MAX_RECORD, a cell longer than MAX_CELL, a quoted cell over
several lines that a stray or unclosed quote could have made (it would otherwise merge, and so lose, every
row up to the next quote; `_one_records_line_break` says which cannot be), and a file that changes between
the hashing pass and the parsing pass.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import IO, TYPE_CHECKING

from register_batch.errors import ConfigError, UnusableInput
from register_batch.model import Issue, Severity, SourceRef, make_issue, place
from register_batch.readers.base import InputInfo, RawRecord, cut_short
from register_batch.readers.detect import (
    HEADER_SEARCH_LINES,
    check_text_start,
    header_below,
    looks_like_record,
    looks_like_value,
    other_separator,
    refuse_blank_header,
    refuse_older_template,
    separated_otherwise,
    wrong_separator,
)
from register_batch.wording import printable

if TYPE_CHECKING:
    from _csv import Reader

MAX_CELL = 1 << 17  # 128 KiB: a longer cell is not trainee data
MAX_LINE = 1 << 20  # 1 MiB per physical line: Register refuses whole files over 1 MB
MAX_RECORD = 4 << 20  # characters one record (row) may span, over all its physical lines
_BOM = codecs.BOM_UTF8
# Register's upload refuses a file over `1.megabyte` (1,048,576 bytes) before reading a row: "The selected file must
# be smaller than 1MB" (hesa-formats.md §3.2 item 3). register-batch's own register-csv output is split well below it.
REGISTER_UPLOAD_MAX_BYTES = 1 << 20
# File warnings about uploading the input itself to Register's web page: only `validate` reports them (reports/).
UPLOAD_ONLY = frozenset(
    {
        "too_large_for_upload",
        "blank_header",
        "extra_columns",
        "untrimmed_values",
        "untrimmed_header",
        "stray_quote",
        "null_values",
    }
)
_REPORT_COLUMNS = frozenset({"validation results", "errors"})  # Register's error report adds them (§3.5)
_CHUNK = 1 << 20
_NEWLINE = re.compile(rb"[\r\n]")


@dataclass(frozen=True)
class CsvLayout:
    """How to read one CSV flavour's header row."""

    format: str
    normalise: Callable[[str], str]
    known: frozenset[str]  # accepted column names after normalise()
    ignored: frozenset[str]  # accepted and dropped (e.g. Register's "Validation results")
    group_pattern: re.Pattern[str] | None = None  # repeated-group columns, e.g. F_PLMNTSCH_2
    expected: tuple[str, ...] = ()  # columns a complete file has (missing ones are reported)
    # The columns the field maps read a value from; None where not told (every template column is then taken as read).
    # A template column whose field a mapping file reads from another column (`provider_trainee_id: student number`)
    # is missing all the same, but its field is not blank (review58 F9).
    read: frozenset[str] | None = None
    # Which CSV format a header is ('register-csv', 'hesa-csv' or None), to say so when the one given is the other's.
    format_of: Callable[[list[str]], str | None] | None = None
    # The mapping files' family of fields this layout reads (`fields: hesa:` for hesa-csv), which the advice to list
    # an unknown column under `ignored` names: `fields: hesa-csv:` is refused as no family (review156 F6).
    family: str = "hesa"


class _LineLength:
    """Tracks physical line lengths across chunks, so a huge line is refused while hashing; and counts line ends as
    the reader does (CR LF, a lone CR and a lone LF each end one line), so that an error while hashing names the line
    the reader would (review104 F3: with CR CR LF line ends, one row was line 4 in an encoding error, 7 in issues.csv).

    A lone CR is rare but for old Mac line ends: a chunk with none (one search) costs no CR LF count."""

    def __init__(self, name: str):
        self.name = name
        self.run = 0  # bytes of the line in progress
        self.lf = 0  # line feeds seen
        self.ends = 0  # line ends seen
        self.after_cr = False  # the last chunk ended in a CR, which is one line end with an LF that starts the next

    def feed(self, chunk: bytes) -> None:
        first = _NEWLINE.search(chunk)
        if first is None:
            self.run += len(chunk)
            self.after_cr = False
            self._check()
            return
        self.run += first.start()
        self._check()
        last = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        if last - first.start() > MAX_LINE and (long := re.search(rb"[^\r\n]{%d}" % (MAX_LINE + 1), chunk)):
            self.run = MAX_LINE + 1
            self._check(_line_at(self.ends, self.after_cr, chunk[: long.start()]))
        lf = chunk.count(b"\n")
        ends = lf  # a CR LF's CR adds none
        if (lone := _LONE_CR.search(chunk)) is not None:
            # Only the chunk's last byte (a CR LF it may cut: counted here, and not the LF that starts the next), or
            # CR line ends, a CR in a quoted cell, CR CR LF.
            ends += 1 if lone.start() == len(chunk) - 1 else chunk.count(b"\r") - (chunk.count(b"\r\n") if lf else 0)
        if self.after_cr and chunk[:1] == b"\n":
            ends -= 1
        self.lf += lf
        self.ends += ends
        self.after_cr = chunk[-1:] == b"\r"
        self.run = len(chunk) - last - 1
        self._check()

    def _check(self, line: int | None = None) -> None:
        if self.run > MAX_LINE:
            raise UnusableInput(
                self.name,
                f"a line is longer than {MAX_LINE // (1 << 20)} MiB: not a CSV extract (or its line ends are lost)",
                line=line or self.ends + 1,
            )


_LONE_CR = re.compile(rb"\r(?!\n)")  # a CR that is not a CR LF's (or the chunk's last byte)


def _line_at(ends: int, after_cr: bool, before: bytes) -> int:
    """The line, as the reader counts them, of the byte after `before`: `ends` line ends came before it, the last a
    CR that an LF starting `before` makes a CR LF when `after_cr`. Only for an error's line: it counts three times."""
    crlf = before.count(b"\r\n") + (after_cr and before[:1] == b"\n")
    return ends + before.count(b"\n") + before.count(b"\r") - crlf + 1


def sniff_encoding(stream: IO[bytes], hasher: hashlib._Hash, name: str = "") -> tuple[str, int, str]:
    """Hash the whole stream and pick its encoding; returns (encoding, size in bytes, the encoding as the reports
    name it: `ENCODING_NAMES`).

    Raises UnusableInput for a line longer than MAX_LINE, before anything is parsed.
    """
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    lines = _LineLength(name)
    utf8 = True
    bom = False
    evidence = _Utf8Evidence()
    size = 0
    first = True
    windows: tuple[int, int] | None = None  # the first byte that is not UTF-8, and its line
    mac = _MacRomanEvidence()  # read only while no LF is seen: for a file with CR line ends
    tail = b""  # the last chunk's end, from its last ASCII byte: a UTF-8 character's start
    last = b""
    while chunk := stream.read(_CHUNK):
        last = chunk
        hasher.update(chunk)
        size += len(chunk)
        ends, after_cr = lines.ends, lines.after_cr
        lines.feed(chunk)
        if first:
            first = False
            check_text_start(chunk, name)  # also when --format said what it is
            if chunk.startswith(_BOM):
                bom = True
                chunk = chunk[3:]
        if windows is not None:
            _no_utf8_after_windows_1252(name, tail + chunk, 0, (ends, after_cr), windows)
            tail = _high_tail(chunk)
            if not lines.lf:
                mac.add(chunk, ends + 1)
        elif utf8:
            try:
                evidence.add(decoder.decode(chunk))
            except UnicodeDecodeError as exc:
                utf8 = False
                before = exc.object[: exc.start]  # valid UTF-8, up to the byte that is not
                evidence.add(before.decode("utf-8", "ignore"))
                line = _line_at(ends, after_cr, before)
                if bom or evidence.found:
                    _mixed_encoding(name, line, exc.object[exc.start])
                windows = (exc.object[exc.start], line)
                _no_utf8_after_windows_1252(name, exc.object, exc.end, (ends, after_cr), windows)
                tail = _high_tail(chunk)
                if not lines.lf:
                    start = max(exc.start - 1, 0)
                    mac.add(exc.object[start:], _line_at(ends, after_cr, exc.object[:start]))
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
            if bom or evidence.found:
                raise UnusableInput(
                    name, "the file ends part-way through a UTF-8 character: it was cut short; export it again"
                ) from None
            windows = (_high_tail(last)[:1] or b"\x80")[0], lines.ends + 1  # on the last line
            if not lines.lf:
                mac.add(_high_tail(last), lines.ends + 1)
    # A file whose every byte over 0x7F reads the same in both (£, ©) is read: every reading gives its text (review104
    # F4: it was refused, as a tie, naming '£' in Mac Roman and '£' in Windows-1252).
    if windows is not None and lines.ends and not lines.lf and mac.first is not None and not mac.windows_1252():
        _refuse_mac_roman(name, *mac.first)
    if not utf8:
        return "cp1252", size, ENCODING_NAMES["cp1252"]
    # No byte over 0x7F (a BOM aside): any of the encodings, such as Excel's Windows-1252 save of a file whose every
    # letter beyond ASCII it wrote as `?`, which is why the reports do not call it UTF-8 (review156 F2).
    named = "utf-8-sig" if bom else "utf-8" if evidence.non_ascii else "ascii"
    return "utf-8-sig", size, ENCODING_NAMES[named]


# The encoding a CSV was read in, as report.json's `inputs` and report.html name it.
ENCODING_NAMES = {
    "utf-8": "UTF-8",
    "utf-8-sig": "UTF-8 with a byte order mark",
    "cp1252": "Windows-1252",
    "ascii": "ASCII",
}


def _refuse_mac_roman(name: str, byte: int, line: int) -> None:
    """Refuse a file that is not UTF-8 and ends its lines with CR alone: Excel for Mac's 'CSV (Macintosh)', in Mac
    Roman. Windows Excel never ends a line so (it writes CR LF), and read as Windows-1252 most of Mac Roman's accented
    letters are other letters or marks, with no error: Zoë as Zo‘, José as JosŽ, Müller as MŸller (review53 F3).
    `byte`: the file's first byte that reads otherwise in Mac Roman than in Windows-1252, on `line`."""
    mac = bytes([byte]).decode("mac_roman")
    windows = bytes([byte]).decode("cp1252", "register_batch_cp1252")
    raise UnusableInput(
        name,
        "Mac Roman text, as Excel for Mac's 'CSV (Macintosh)' saves it (old Mac line ends, CR alone): read as "
        f"Windows-1252 its accented letters would be garbled (the byte 0x{byte:02X} on this line is {mac!r} in Mac "
        f"Roman, {windows!r} in Windows-1252); save it as 'CSV UTF-8' and give that file",
        line=line,
    )


def _reads_as_letter(encoding: str) -> tuple[tuple[bool, bool], ...]:
    """For each byte: whether `encoding` reads it as a letter, and as a lowercase one."""
    read = [bytes([byte]).decode(encoding, "replace") for byte in range(256)]
    return tuple((char.isalpha(), char.islower()) for char in read)


_MAC_ROMAN_LETTERS = _reads_as_letter("mac_roman")
_WINDOWS_1252_LETTERS = _reads_as_letter("cp1252")
_HIGH_BYTE = re.compile(rb"[\x00-\x7f]?[\x80-\xff]")
_CURLY_QUOTES = b"\x91\x92"  # Windows-1252's ‘ and ’; Mac Roman's ë and í
# The bytes over 0x7F that Mac Roman reads as another character than Windows-1252: all but ¢ £ © ± µ.
_READS_OTHERWISE = re.compile(
    b"[%s]"
    % b"".join(
        re.escape(bytes([byte]))
        for byte in range(0x80, 0x100)
        if bytes([byte]).decode("mac_roman") != bytes([byte]).decode("cp1252", "replace")
    )
)


class _MacRomanEvidence:
    """Which reading of a file's bytes above 0x7F makes letters of them, for a file with CR line ends: Mac Roman's
    accented small letters are 0x87-0x9F, where Windows-1252 has quotes and dashes, and Windows-1252's are 0xE0-0xFF,
    where Mac Roman has symbols and capitals. A byte after a small ASCII letter counts for the reading that makes it a
    small letter too (Zoë: 0x91 in Mac Roman, 0xEB in Windows-1252); any other, for one that makes it a letter
    (review55 F4: a Windows-1252 file with CR line ends, as FileMaker or LibreOffice can write, was refused)."""

    _ENOUGH = 1000  # bytes weighed: a file's first thousand accented letters tell its encoding

    def __init__(self) -> None:
        self.mac_roman = 0
        self.cp1252 = 0
        self.first: tuple[int, int] | None = None  # the first byte that reads otherwise in the two, and its line

    def add(self, chunk: bytes, line: int) -> None:
        """Weigh `chunk`, which starts on `line` (of a file whose lines end in CR, as no other is refused)."""
        if self.first is None and (other := _READS_OTHERWISE.search(chunk)):
            self.first = other.group()[0], line + chunk.count(b"\r", 0, other.start())
        for found in _HIGH_BYTE.finditer(chunk):
            if self.mac_roman + self.cp1252 >= self._ENOUGH:
                return
            pair = found.group()
            if pair[-1] in _CURLY_QUOTES and pair[:1].isalpha() and chunk[found.end() : found.end() + 1].isupper():
                # O’Brien, D’Arcy: Windows-1252's apostrophe between a letter and a capital; Mac Roman would make it a
                # small í (ë) before a capital, which no name has (review117 F5: it outweighed Zoë's ë).
                self.cp1252 += 1
                continue
            wanted = 1 if len(pair) == 2 and pair[:1].islower() else 0  # a small letter, or any letter
            self.mac_roman += _MAC_ROMAN_LETTERS[pair[-1]][wanted]
            self.cp1252 += _WINDOWS_1252_LETTERS[pair[-1]][wanted]

    def windows_1252(self) -> bool:
        """Whether more of the bytes weighed read as letters in Windows-1252 than in Mac Roman."""
        return self.cp1252 > self.mac_roman


# What a UTF-8 file is likely to hold: Latin-1 symbols and letters, Latin Extended-A and the first part of -B (é, ñ,
# ł, č, ơ, ș, ț, £, no-break space), Greek and Cyrillic letters, anything of three bytes or more. Read as
# Windows-1252 these are nonsense (Ã©, Å‚, È™, Â£). What a genuine Windows-1252 file can form by chance, an
# accented capital followed by a no-break space or a curly quote (É + NBSP, É + ’, Ñ + NBSP), decodes to the
# ranges left out (U+021C-U+036F, U+0460-U+07FF).
_LIKELY_UTF8 = re.compile("[\u0080-\u021b\u0370-\u045f\u0800-\U0010ffff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


class _Utf8Evidence:
    """Whether what decoded as UTF-8 so far shows the file is UTF-8, not Windows-1252 that happened to decode."""

    def __init__(self) -> None:
        self.found = False
        self._characters = 0  # non-ASCII characters decoded so far

    @property
    def non_ascii(self) -> bool:
        """Whether any character decoded so far is not ASCII."""
        return self.found or self._characters > 0

    def add(self, text: str) -> None:
        if self.found or text.isascii():
            return
        self._characters += len(_NON_ASCII.findall(text))
        self.found = self._characters >= 2 or _LIKELY_UTF8.search(text) is not None


# After a byte that is not UTF-8, the rest of a Windows-1252 file is looked through for what only UTF-8 writes so: a
# letter of _LIKELY_UTF8 as its two to four bytes. Each byte is first marked as the start of such a character or as
# a byte that may follow one (the Windows-1252 symbols U+0080-U+00BF: €, ’, no-break space, ©), and the marks then
# searched for each pair (or run) a UTF-8 character makes: a few searches of the whole text, not a step per byte;
# and only where one search finds such a start followed by such a byte at all (rare in a Windows-1252 file).
# Two bytes: a lead whose every character is a likely one (U+00C0-U+01FF, U+0380-U+043F: `A`), or U+00A0-U+00BF
# (`B`, then z), U+0200-U+021B (`C`, then x: ș, ț), U+0440-U+045F (`D`, then x or y); three and four bytes: any.
_ASCII = b"." * 0x80  # marks no ASCII byte can make
_ANY_MARKS = _ASCII + b"c" * 0x40 + b".." + b"L" * 7 + b"." * 5 + b"L" * 4 + b"." * 14 + b"L" * 21 + b"." * 11
_TWO_BYTE_MARKS = _ASCII + b"x" * 0x1C + b"yyyy" + b"z" * 0x20 + b"..BAAAAAC....." + b"AAAD" + b"." * 0x2E
_TWO_BYTE = (b"Ax", b"Ay", b"Az", b"Bz", b"Cx", b"Dx", b"Dy")
_LONGER_MARKS = _ASCII + b"c" * 0x40 + b"." * 0x20 + b"E" * 0x10 + b"F" * 5 + b"." * 11
_LONGER = (b"Ecc", b"Fccc")


_CELL_END = re.compile(rb'[,\r\n"]')


def _high_tail(chunk: bytes) -> bytes:
    """The end of a chunk that may start a UTF-8 character the next chunk ends: its last bytes, up to 3, after its
    last ASCII byte (so no line end)."""
    end = chunk[-3:]
    for index in range(len(end) - 1, -1, -1):
        if end[index] < 0x80:
            return end[index + 1 :]
    return end


def _no_utf8_after_windows_1252(
    name: str, data: bytes, start: int, lines_before: tuple[int, bool], windows: tuple[int, int]
) -> None:
    """Refuse a Windows-1252 file (its first such byte and line: `windows`) that has, in `data` from `start`, a letter
    written as UTF-8: rows pasted in from a UTF-8 source, their names garbled (José as JosÃ©) if read as the rest.
    `lines_before`: the line ends before `data`, and whether the last was a CR (`_line_at`)."""
    if data.isascii() or (start := data.translate(_ANY_MARKS).find(b"Lc", start)) < 0:
        return
    two_bytes, longer = data.translate(_TWO_BYTE_MARKS), data.translate(_LONGER_MARKS)
    while True:
        found = [at for needle in _TWO_BYTE if (at := two_bytes.find(needle, start)) >= 0]
        found += [at for needle in _LONGER if (at := longer.find(needle, start)) >= 0]
        if not found:
            return
        at = min(found)
        # A name pasted from UTF-8 is UTF-8 throughout its cell; a Windows-1252 one whose capital is followed by a
        # symbol (MÄKELÄ–SMITH: Ä then an en dash reads as a UTF-8 letter) has other bytes there that UTF-8 has not.
        cell_start = max(data.rfind(mark, 0, at) for mark in (b",", b"\n", b"\r", b'"')) + 1
        cell_end = _CELL_END.search(data, at)
        end = cell_end.start() if cell_end else len(data)
        try:
            codecs.getincrementaldecoder("utf-8")().decode(data[cell_start:end])  # a character cut by the chunk: fine
            break
        except UnicodeDecodeError:
            if cell_end is None:
                return
            start = end + 1
    line = _line_at(*lines_before, data[:at])
    size = 2 if data[at] < 0xE0 else 3 if data[at] < 0xF0 else 4
    letter = data[at : at + size].decode("utf-8", "replace")
    byte, first = windows
    raise UnusableInput(
        name,
        f"mixed encodings: {letter!r} on this line is written as UTF-8, but the file is Windows-1252 before it (the "
        f"byte 0x{byte:02X} on line {first}): read either way, some names come out garbled; correct them and save the "
        "whole file as 'CSV UTF-8'",
        line=line,
    )


def _mixed_encoding(name: str, line: int, byte: int) -> None:
    """A file that is UTF-8 (a BOM, or characters encoded as UTF-8) up to a byte that cannot be: reading it all
    as Windows-1252 would garble every accented name before that byte, and as UTF-8 the ones after it."""
    raise UnusableInput(
        name,
        f"mixed encodings: the byte 0x{byte:02X} on this line is not UTF-8, but the file is UTF-8 before it "
        "(Windows-1252 or Latin-1 text pasted in?); save the whole file as 'CSV UTF-8' and try again",
        line=line,
    )


def _cp1252_or_latin1(error: UnicodeError) -> tuple[str, int]:
    """The five bytes cp1252 does not define are read as Latin-1 rather than failing (decoding only: for anything
    else the handler fails as "strict" would)."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    return error.object[error.start : error.end].decode("latin-1"), error.end


codecs.register_error("register_batch_cp1252", _cp1252_or_latin1)


def _strip_apostrophe(value: str) -> str:
    # Register strips exactly one leading apostrophe from every value (hesa-formats.md §3.3).
    return value[1:] if value.startswith("'") else value


def _bare_label(cell: str) -> str:
    """A header cell's label: spaces and one protecting apostrophe aside."""
    return _strip_apostrophe(cell.strip()).strip()


class _BoundedLines:
    """The text stream as physical lines for `csv.reader`, refusing a line over MAX_LINE characters and a
    record (a row, which quoted cells may spread over several lines) over MAX_RECORD characters."""

    def __init__(self, text: io.TextIOBase, name: str):
        self._text = text
        self._name = name
        self.lines = 0
        self.record_chars = 0
        self.held: list[str] = []  # the lines of the row being read (its cells named when one is over MAX_CELL)
        self.unterminated = False  # the last line had no line end

    def __iter__(self) -> _BoundedLines:
        return self

    def __next__(self) -> str:
        # MAX_LINE characters and a line end (CR LF): as the hashing pass (_LineLength), the end is no part of the line.
        line = self._text.readline(MAX_LINE + 2)
        if not line or line == "\x1a":  # the end, or DOS's end-of-file mark (Ctrl-Z) after the last line's end
            raise StopIteration
        self.lines += 1
        if len(line) > MAX_LINE and len(line.rstrip("\r\n")) > MAX_LINE:
            raise UnusableInput(
                self._name, f"a line is longer than {MAX_LINE // (1 << 20)} MiB: not a CSV extract", line=self.lines
            )
        self.record_chars += len(line)
        self.held.append(line)
        if self.record_chars > MAX_RECORD:
            raise UnusableInput(
                self._name,
                f"a row runs on past {MAX_RECORD // (1 << 20)} MiB (an unclosed quote?): not a CSV extract",
                line=self.lines,
            )
        if line[-1] not in "\r\n":
            # The last line, with no line end: given one, so that a quote left open in it ends its cell with a
            # line break, which read_csv refuses, instead of closing quietly at the end of the file.
            line += "\n"
            self.unterminated = True
        return line


def _over_cell_limit(row: list[str], lines: _BoundedLines) -> bool:
    """Whether a cell of the row just read is over MAX_CELL characters. The csv module's own limit is one for the
    whole process, a library caller's to set (and threads share it): it is left alone, and its default is this one.
    A row whose lines hold no more than MAX_CELL characters in all (nearly every row) has no such cell."""
    return lines.record_chars > MAX_CELL and any(len(cell) > MAX_CELL for cell in row)


CELL_OVER_LIMIT = f"field larger than field limit ({MAX_CELL})"  # the csv module's words, at its default limit
_QUOTE_OR_COMMA = re.compile('[",]')


def _longest_cell(text: str) -> int:
    """The index of the longest cell of a row's text (quotes and all), as `csv.reader` splits it (strict=False: a
    quote opens a cell only at its start, and two in a quoted cell are one): the cell the csv module found over its
    limit, which it does not name."""
    lengths: list[int] = []
    start = 0
    quoted = False
    doubled = -1  # the second quote of a pair in a quoted cell
    for found in _QUOTE_OR_COMMA.finditer(text):
        at = found.start()
        if found.group() == '"':
            if quoted and at != doubled:
                if text.startswith('"', at + 1):
                    doubled = at + 1
                else:
                    quoted = False
            elif not quoted and at == start:
                quoted = True
        elif not quoted:
            lengths.append(at - start)
            start = at + 1
    lengths.append(len(text) - start)
    return max(range(len(lengths)), key=lengths.__getitem__)


def _swallowed_rows(cell: str, index: int, width: int, cells: int) -> bool:
    """Whether a quoted cell (`index` of a row of `cells` cells, the header `width` wide) holds what a stray quote
    merged into it from other rows.

    A later line that looks like a row of its own (half the header's commas) was one. So was a quote opened in this
    cell of one row and closed in the next: the cell then holds the rest of the first row (a comma for each column
    after this one) on its first line, and the start of the next row (a comma for each column before this one, less
    any cells the row has over the header's) on its last; and the row it makes may well have the header's width, so
    nothing else shows it. A note written over two lines with a comma or two is not read so: it would need, in all,
    a comma for each of the header's other columns."""
    if "\n" not in cell and "\r" not in cell:
        return False
    lines = cell.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if _rows_in(lines, width):
        return True
    after = width - 1 - index  # the first row's cells after this one
    before = index - max(0, cells - width)  # the next row's cells before the one its quote closes
    return after + before >= 2 and lines[0].count(",") >= max(0, after) and lines[-1].count(",") >= max(0, before)


def _rows_in(held: list[str], width: int) -> bool:
    """Whether a row's (or a cell's) lines after its first hold one that looks like a row of its own (half the header's
    commas): what a stray quote merges into its cell, and a long note does not hold (_swallowed_rows, and a row past
    the cell limit)."""
    least = max(2, width // 2)
    return any(line.count(",") >= least for line in held[1:])


def _file_warning(path: str, code: str, message: str, *, line: int | None = None) -> Issue:
    """A warning about a whole input file (no record): what a file-scope rule of the catalogue reports."""
    return make_issue(input=path, line=line, code=code, severity=Severity.WARNING, message=message)


def note_upload_size(info: InputInfo, size: int) -> None:
    """Warn that Register's own CSV upload would refuse a Register CSV this large (hesa-formats.md §3.2 item 3).

    The file is still read: `validate` and `sync` check every row, and `convert --to register-csv` splits the rows
    into files that fit. Only Register's template is uploaded as a file; a HESA-named CSV never is."""
    if info.format != "register-csv" or size <= REGISTER_UPLOAD_MAX_BYTES:
        return
    info.issues.append(
        _file_warning(
            info.path,
            "too_large_for_upload",
            f"the file is {size:,} bytes: Register's CSV upload refuses a file over 1 MB (\"The selected file must be "
            'smaller than 1MB"); `register-batch convert --to register-csv` splits its trainees into files that fit',
        )
    )


def read_csv(stream: IO[bytes], info: InputInfo, layout: CsvLayout, encoding: str) -> Iterator[RawRecord]:
    """Yield one RawRecord per non-blank row. Raise UnusableInput for a header no row could fit."""
    name = info.path
    errors = "register_batch_cp1252" if encoding == "cp1252" else "strict"
    text = io.TextIOWrapper(stream, encoding=encoding, errors=errors, newline="")
    lines = _BoundedLines(text, name)
    reader = csv.reader(lines, strict=False)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise UnusableInput(name, f"unreadable CSV header: {exc}", line=1) from None
    except UnicodeDecodeError as exc:  # decoded ahead of the header: a change anywhere in the text read with it
        raise _changed(name, exc) from None
    if header is not None and _over_cell_limit(header, lines):
        raise UnusableInput(name, f"unreadable CSV header: {CELL_OVER_LIMIT}", line=1)
    if header is None:
        raise UnusableInput(name, "the file is empty")
    _refuse_what_is_no_header(header, reader, lines, layout, name)
    read = _CsvHeader.of(header, info, layout)
    # As locals: the loop below reads them for every row.
    width, named, columns, places = read.width, read.named, read.columns, read.places
    protected_null_is_text, doubled_quotes, spaces = read.protected_null_is_text, read.doubled_quotes, read.spaces
    labels = read.labels
    first_label = labels[0]
    select = info.select
    quotes = _StrayQuotes()
    nulls = _BareNulls()
    kept: RawRecord | None = None  # the row held back (_cut_in_two), its cell count, and its problem if short
    kept_cells = 0
    kept_short: str | None = None
    pads_short_rows = read.pads_short_rows
    count = 0
    start_line = reader.line_num + 1
    # The lines so far over the rows: a spreadsheet's row (each CSV row counted once, a blank one too, as Excel and
    # LibreOffice show it; csv.reader's rows) is a record's line less these. Only a quoted cell over several lines
    # (Alt+Enter) makes any, counted where such a row is looked at already: until then a record's `row` is None, at
    # the cost of one test a row.
    extra = start_line - 2
    at: int | None = None  # the record's row, where it differs from its line
    try:
        while True:
            lines.record_chars = 0
            lines.held.clear()
            row = next(reader, None)
            if row is None:
                break
            line = start_line
            at = line - extra if extra else None
            if _over_cell_limit(row, lines):
                raise csv.Error(CELL_OVER_LIMIT)
            start_line = reader.line_num + 1
            if not any(cell.strip() for cell in row):
                extra += start_line - line - 1  # a blank row over several lines (a quoted line break alone): rare
                continue
            # `cat a.csv b.csv` (the second's byte-order mark kept, its labels as that export spells them): read as a
            # trainee, it was a record with an error in every column. Its first cell alone rules out a trainee's row.
            if _header_label(row[0]) == first_label and [_header_label(c) for c in row] == labels:
                raise UnusableInput(
                    name,
                    "the header again, as if two files were joined into one: give each extract as a file of its own "
                    "(or delete the line)",
                    line=line,
                    row=at,
                )
            count += 1
            # Quoted cells spread this row over several lines, or a quote is still open at the end of the file.
            if reader.line_num > line or (row and row[-1].endswith(("\n", "\r"))):
                _check_multiline(row, header, columns, name, count, line, reader.line_num, at)
                extra += reader.line_num - line  # the later rows' lines over their rows
            if spaces is not None:  # a Register CSV: what its upload would find (cell by cell only in a rare row)
                joined = "\x00".join(row)
                if _edge_space(joined):
                    spaces.note_row(row, places, line, at)
                # A bare NULL perhaps (in any mix of cases: its U and first L are one of these): the cells are looked at
                if "ul" in joined or "UL" in joined or "Ul" in joined or "uL" in joined:
                    nulls.note_row(row, places, line, at)
                held = lines.held
                as_read = held[0] if len(held) == 1 else "".join(held)
                if '"' in as_read:
                    quotes.note_row(as_read, read, line, at)
            cells = len(row)
            short: str | None = None  # a HESA-named CSV's short row: its problem, unless it is half of a cut row
            if select is not None and not select(count):  # another process reads this record in full
                raw = RawRecord(source=SourceRef(input=name, record=count, line=line, row=at), fields={})
            else:
                problems: list[tuple[str | None, str]] = []
                padded: Sequence[str | None] = row
                if cells != width or named < width:  # most rows are neither short, long nor under unnamed columns
                    padded = _shaped(row, read, problems, ended=lines.unterminated, where=(name, count, line, at))
                    if cells < named and not pads_short_rows:
                        short = _short_row(row, named, width)
                fields = cell_fields(padded, places, protected_null_is_text, doubled_quotes)
                raw = RawRecord(
                    source=SourceRef(input=name, record=count, line=line, row=at), fields=fields, problems=problems
                )
            # A row no wider than the header is held back one row, to be seen with the next (_cut_in_two); a full row
            # then another costs two comparisons and two names more than giving each at once (review104 F5).
            if kept is not None:
                previous, kept = kept, None
                if cells < width and kept_cells + cells == width + 1:
                    _cut_in_two(previous, kept_cells, raw, cells, width)
                    yield previous
                    yield raw  # a half, not held to pair again: a short row after it is judged with the next
                    continue
                if kept_short is not None:
                    previous.problems.append((None, kept_short))
                yield previous
            if cells > width:
                yield raw
            else:
                kept, kept_cells, kept_short = raw, cells, short
        if kept is not None:
            if kept_short is not None:
                kept.problems.append((None, kept_short))
            yield kept
    except csv.Error as exc:
        if not str(exc).startswith("field larger than field limit"):
            raise UnusableInput(name, f"malformed CSV: {exc}", line=reader.line_num) from None
        # Named where the row starts, not where reading stopped (perhaps hundreds of lines into a quoted cell).
        index = _longest_cell("".join(lines.held))
        big = columns[index] if index < len(columns) else None
        where = "" if big is not None else f" (column {index + 1})"
        message = f"malformed CSV: {exc}{where}"
        if len(lines.held) > 1:
            # A quoted cell over many lines and past the cell limit: a stray quote's work where its lines look like
            # rows (review184 F1), said as _check_multiline says it near the end of a file, wherever the quote is.
            # A long note, correctly quoted, has no such lines: not called a stray quote for sure (review189 F2).
            place = "" if big is not None else f" in column {index + 1}"
            span = f"a quoted cell{place} runs over lines {start_line}-{max(reader.line_num, start_line + 1)}"
            if _rows_in(lines.held, width):
                why = 'a stray or unclosed quote (") would merge rows into one and lose them; correct the quoting'
            else:
                why = (
                    'a stray or unclosed quote ("), or a cell longer than register-batch reads: correct the quoting, '
                    "or shorten the cell or leave its column out of the export"
                )
            message = f"{span} and past {MAX_CELL // 1024} KiB: {why}"
        raise UnusableInput(
            name,
            message,
            record=count + 1,
            line=start_line,
            field=big,
            row=start_line - extra if extra else None,
        ) from None
    except UnicodeDecodeError as exc:
        raise _changed(name, exc) from None
    info.records = count
    if count == 0:
        raise UnusableInput(name, "the file has a header but no trainee rows")
    if spaces is not None and spaces.count:
        info.issues.append(spaces.issue(name))
    if quotes.count:
        info.issues.append(quotes.issue(name))
    if nulls.count:
        info.issues.append(nulls.issue(name))


def cell_fields(
    cells: Sequence[str | None], places: list[tuple[int, str]], protected_null_is_text: bool, doubled_quotes: bool
) -> dict[str, str | None]:
    """A row's fields from its cells (`places`: the index and column of each cell read; None for a short row's missing
    cell), as Register reads a cell: spaces around and one leading apostrophe off (hesa-formats.md §3.3), and no value
    for a blank cell or a bare NULL (§1.4). `_CsvHeader` says when a protected NULL is text and when quotes are
    doubled. One call per row, for a CSV file's rows and for rows a caller's code holds (`read_mappings`): the loop
    runs once per cell, so it is written out rather than calling clean(_strip_apostrophe(...)) per cell (what it
    takes for no value, _no_value says too)."""
    fields: dict[str, str | None] = {}
    for index, column in places:
        value = cells[index]
        if value is not None:
            value = value.strip()
            if value[:1] == "'":
                value = value[1:].strip()
                if doubled_quotes:
                    value = value.replace('""', '"')
                if not value or (len(value) == 4 and value.lower() == "null" and not protected_null_is_text):
                    value = None
            elif not value or (len(value) == 4 and value.lower() == "null"):
                value = None
        fields[column] = value
    return fields


# Key sets of caller's rows (`read_mappings`) whose reading is kept: rows from one query share one.
_ROW_HEADERS_KEPT = 64


def read_mappings(rows: Iterable[object], info: InputInfo, layout: CsvLayout) -> Iterator[RawRecord]:
    """One RawRecord per row of records a caller's code holds (`Checker.rows`), each row a mapping keyed by the
    columns of `layout`'s CSV format, read by the CSV reader's own code: the keys as a header's cells (an unknown or
    repeated one is refused as it is in a file's header, naming the row), each value as the cell `protect(value,
    prefix=True)` writes for it, an apostrophe before it. So a value is read as it is, trimmed: None and blank text
    are no value, a name 'Ofa is that name, and no quotes are undoubled. NULL (in any case) is what the format makes
    it: in Register's CSV the text (a surname Null, §5 item 31); in HESA's, no value, as a HESA-named CSV reads it
    (hesa-formats.md §1.4): HESA has no way to write the text Null, and its exports write NULL for every value left
    out, so rows read straight from one (csv.DictReader) found thousands of codes 'NULL' (review63 F4). A row is a
    record whatever it holds (a CSV's blank row is none), numbered by its place among the rows, with no line. No file
    warnings: nothing here is a file to upload.

    ConfigError for what is no row (not a mapping), or a key or value that is not text (str; None for a value)."""
    name = info.path
    null_is_text = layout.format == "register-csv"  # as `_CsvHeader` says of a protected NULL in a file
    headers: dict[tuple[object, ...], list[tuple[int, str]]] = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, Mapping):
            raise _not_a_row(name, number, row)
        keys = tuple(row)
        places = headers.get(keys)
        if places is None:
            places = _row_places(keys, layout, name, number)
            if len(headers) >= _ROW_HEADERS_KEPT:
                headers.clear()
            headers[keys] = places
            info.sources_known = False  # columns no row before had: the checker looks for the mapped sources again
        cells: list[str] = []
        for key in keys:
            value = row[key]
            if value is None:
                cells.append("")
            elif isinstance(value, str):
                cells.append("'" + value)  # protect(value, prefix=True), which the reader reads back as `value`
            else:
                raise _not_text(name, number, key, value)
        info.records = number
        fields = cell_fields(cells, places, null_is_text, False)
        yield RawRecord(source=SourceRef(input=name, record=number), fields=fields)


def _row_places(keys: tuple[object, ...], layout: CsvLayout, name: str, number: int) -> list[tuple[int, str]]:
    """The (index, column) of the keys read, the keys taken as a CSV header's cells; ConfigError for a key that is not
    text, UnusableInput (naming the row, not line 1) for what a file's header is refused for."""
    for key in keys:
        if not isinstance(key, str):
            beyond = (
                ": csv.DictReader gives a row's cells beyond its header's columns under None (extra commas?)"
                if key is None
                else ""
            )
            raise ConfigError(
                f"{name}, record {number}: a key of type {type(key).__name__} ({cut_short(repr(key))}); the keys are "
                f"{layout.format}'s column names (str){beyond}"
            )
    labels = [str(key) for key in keys]
    try:
        columns = _header_columns(labels, len(labels), layout, name)
    except UnusableInput as exc:
        raise UnusableInput(exc.path, exc.problem, record=number, field=exc.field) from None
    return [(index, column) for index, column in enumerate(columns) if column is not None]


def _not_a_row(name: str, number: int, row: object) -> ConfigError:
    """A row that is no mapping: how to make one of it, where that can be said."""
    kind = type(row).__name__
    if isinstance(row, (str, os.PathLike)):
        hint = ": Checker.records() reads files"
    elif hasattr(row, "keys") and hasattr(row, "__getitem__"):
        hint = f": make it one with dict(row) (this {kind} has keys, but is no Mapping)"
    else:
        hint = ""
    return ConfigError(
        f"{name}, record {number}: a row is a mapping of column name to value (a dict), not of type {kind}{hint}"
    )


def _not_text(name: str, number: int, key: str, value: object) -> ConfigError:
    """A value that is not text: not converted, as a conversion could change it unseen (an int has no leading zeros,
    and str(datetime) has a time). The value is not shown: it may be a trainee's."""
    if isinstance(value, date):
        hint = "write a date as text, in the form the column takes (2026-09-02: value.isoformat())"
    elif isinstance(value, (int, float, Decimal)):
        hint = (
            "write a code or a number as text, as it is written, leading zeros and all (an int has none: a HUSID "
            "0500951347799 or a code 08 cannot be one)"
        )
    else:
        hint = "write it as text, as a CSV cell would hold it"
    return ConfigError(
        f"{name}, record {number}, field {printable(cut_short(key))}: a value of type {type(value).__name__}, where "
        f"values are text (str) or None for no value; {hint}"
    )


def _refuse_what_is_no_header(
    header: list[str], reader: Reader, lines: _BoundedLines, layout: CsvLayout, name: str
) -> None:
    """Refuse, saying what it is, a first line that names none of the columns of the format given: the start of an
    XML file, or a line (Excel's `sep=,`, a title) above a header on one of the next lines (HEADER_SEARCH_LINES: a
    title and a blank line, review117 F4). Otherwise "unknown column header" would advise listing it under `ignored`
    in a mapping file. (Reading those lines here is no loss: such a header is refused.)"""
    if header and header[0].lstrip("\ufeff").lstrip().startswith("<"):
        raise UnusableInput(
            name,
            f"the file is XML, not {layout.format}: give fmt hesa-xml, or leave it out to have the format told from "
            "the file",
            line=1,
        ).marking(fmt="fmt")
    keys = [layout.normalise(label) for cell in header if (label := _bare_label(cell))]
    if not keys or all(key in layout.ignored for key in keys) or any(_known_column(key, layout) for key in keys):
        return
    first_line = "".join(lines.held)

    def known(cells: list[str]) -> bool:
        labels = [label for cell in cells if (label := _bare_label(cell))]
        found = sum(1 for label in labels if _known_column(layout.normalise(label), layout))
        return bool(labels) and found >= max(3, len(labels) // 2)

    passed: list[list[str]] = []  # the rows between line 1 and a header below (header_below: trainees' rows?)
    while reader.line_num < HEADER_SEARCH_LINES:
        try:
            second = next(reader, None)
        except (csv.Error, UnicodeDecodeError):
            break
        if second is None:
            break
        separator = None if known(second) else separated_otherwise(second, known)
        if separator or known(second):
            at = reader.line_num
            raise header_below(name, first_line, layout.format, separator, width=len(second), at=at, rows_above=passed)
        passed.append(second)
    if looks_like_record(header):
        # Its cells are a trainee's HUSID, name and date of birth: not quoted as "unknown column headers" (review53 F2).
        raise UnusableInput(
            name,
            f"names none of {layout.format}'s columns ({len(header)} cells; it looks like a trainee's row): is the "
            "header row missing?",
            line=1,
        )


def _changed(name: str, exc: UnicodeDecodeError) -> UnusableInput:
    """A decoding error in the parsing pass: the hashing pass found the whole file valid in this encoding, so it
    changed between the passes."""
    return UnusableInput(
        name, f"the file changed while it was being read ({exc.reason}); run again once it is complete"
    )


def _shaped(
    row: list[str],
    header: _CsvHeader,
    problems: list[tuple[str | None, str]],
    *,
    ended: bool,
    where: tuple[str, int, int, int | None],
) -> Sequence[str | None]:
    """A row of another width than the header's, or with cells under its unnamed columns: its problems added to
    `problems`, and its cells as many as the header's (a short row's missing cells are absent values). `ended`: the
    file ends in this row with no line end; `where`: the file, record, line and row (SourceRef's)."""
    width = header.width
    if header.named < width and (unheaded := _unheaded(row, header.named, width, header.protected_null_is_text)):
        problems.append(unheaded)
    # Blank extra cells too: an unquoted comma in a cell moves every later cell one column on, and where the last
    # column is blank (a previous surname, iqts_country) only a blank cell lands past the header (review104 F1).
    # A spreadsheet's trailing columns come with blank names in the header, so they are within its width.
    if len(row) > width:
        problems.append((None, f"row has {len(row)} cells but the header has {width} columns (extra commas?)"))
    if len(row) >= width:
        return row
    if ended:
        # The file ends in the middle of a row: cut short, or still being written (its last cell may be cut too).
        # Read as it is, it would be a record with missing or wrong values.
        name, record, line, at = where
        raise UnusableInput(
            name,
            f"the file ends in the middle of a row ({len(row)} of the header's {width} cells, and no line end): it "
            "looks cut short, or still being written; run again once it is complete",
            record=record,
            line=line,
            row=at,
        )
    return row + [None] * (width - len(row))


def _short_row(row: list[str], named: int, width: int) -> str:
    """The problem of a HESA-named CSV's row with fewer cells than the header names columns (review151 F4).

    Register's upload reads a short row of its own template with the missing cells blank (hesa-formats.md §3.2 item
    9), and so does register-batch; but a HESA-named CSV is never uploaded as it is, and a cell lost in the middle of a
    row (a cell deleted in a spreadsheet, an export that skips a blank value) moves every later value one column
    back: read so, the record had an error for nearly every field (a first name as an ethnicity) and none about the
    row. No row can tell that loss from a writer that leaves off a row's empty last cells: both lack a cell, and the
    mid-row loss ends in the last column's value, which may be anything. So every short row is the record's error,
    whose other issues are not said (as for extra cells); one that ends on an empty cell is no trimming writer's.
    """
    columns = f"the header has {width} columns" if named == width else f"the header names {named} columns"
    said = f"row has {len(row)} cells but {columns} (a missing cell moves every later value one column back"
    if row[-1].strip():
        return f"{said}, or the export leaves off a row's empty last cells: have it write every column)"
    return f"{said})"


@dataclass(slots=True)
class _CsvHeader:
    """What a CSV's header tells, read once per file: which column each cell is, and how the rows' values are read."""

    width: int  # the header's cells, named or not
    named: int  # the cells up to the last named one: those after it are a spreadsheet's blank columns
    columns: list[str | None]  # each cell's column (None for one not read)
    places: list[tuple[int, str]]  # (cell, column) of the columns read
    labels: list[str]  # each cell as a repeated header would spell it (`_header_label`)
    # In Register's CSV only a blank cell is no value (hesa-formats.md §5 item 31), and `'Null` is the text Null (a
    # surname) once Register strips the apostrophe; a bare NULL is still taken as blank, as SRS exports write it.
    # In a HESA-named CSV, NULL is HESA's no value with or without an apostrophe (§1.4).
    protected_null_is_text: bool
    # Register's upload reads a short row with its missing cells blank (hesa-formats.md §3.2 item 9), and so does
    # register-batch for Register's CSV; a HESA-named CSV's short row is the record's error instead (_short_row).
    pads_short_rows: bool
    # Register's error report (its `Errors` column) doubles the quotes of every value it protects with an apostrophe
    # (AddTraineeCsvValueSanitiser, §3.5, §5 item 32): read back, such a value loses both, and is the value Register
    # holds. register-batch's own CSVs double nothing, so only the report is read so.
    doubled_quotes: bool
    # Register's CSV import looks codes up exactly as written, spaces and all (§3.3, §5 item 26): values register-batch
    # trims are counted, in every row whichever process reads it in full, for one warning (untrimmed_values).
    spaces: _Untrimmed | None

    @classmethod
    def of(cls, header: list[str], info: InputInfo, layout: CsvLayout) -> _CsvHeader:
        """The header's reading, its file-level warnings added to `info`; UnusableInput for one no row could fit."""
        name = info.path
        refuse_blank_header(header, name)  # `--format` given: detect_format did not look
        named = _named_columns(header)
        columns = _header_columns(header, named, layout, name)
        register = layout.format == "register-csv"
        if register:
            _note_upload_header(info, header, named, columns, layout)
        # A template column a mapping file ignores is there all the same: Register's upload takes the file.
        present = {key or layout.normalise(_bare_label(cell)) for cell, key in zip(header, columns, strict=True)}
        if missing := [c for c in layout.expected if c not in present]:
            info.issues.append(_file_warning(name, "missing_columns", _missing_columns(missing, layout), line=1))
        return cls(
            width=len(header),
            named=named,
            columns=columns,
            places=[(index, column) for index, column in enumerate(columns) if column is not None],
            labels=[_header_label(cell) for cell in header],
            protected_null_is_text=register,
            pads_short_rows=register,
            doubled_quotes=register and _is_error_report(header, layout),
            spaces=_Untrimmed() if register else None,
        )


def _missing_columns(missing: list[str], layout: CsvLayout) -> str:
    """missing_columns' message: of the template's columns the header lacks, which are read as blank and which a
    mapping file reads the fields of from other columns; Register's upload refuses the file either way (hesa-formats.md
    §3.2 item 6)."""
    blank = [c for c in missing if layout.read is None or c in layout.read]
    elsewhere = [c for c in missing if c not in blank]
    if not elsewhere:
        said = f"{'it is' if len(blank) == 1 else 'they are'} read as blank"
    elif not blank:
        said = f"a mapping file reads {'its field' if len(elsewhere) == 1 else 'their fields'} from another column"
    else:
        said = (
            f"{', '.join(blank)} {'is' if len(blank) == 1 else 'are'} read as blank, a mapping file reads the "
            f"field{'' if len(elsewhere) == 1 else 's'} of {', '.join(elsewhere)} from another column"
        )
    return (
        f"the header lacks {len(missing)} of the template's columns ({', '.join(missing)}): {said}, and Register's "
        "own CSV upload would reject this file"
    )


def _cut_in_two(first: RawRecord, first_cells: int, second: RawRecord, cells: int, width: int) -> None:
    """Mark two rows, the second short, whose cells make the header's columns and one more: a line break in a cell not
    in quotes cut one row in two (an SRS export that does not quote). Short rows alone are fine in Register's CSV
    (Register's import takes them, hesa-formats.md §3.2 item 9), so read alone the first half would pass as a record
    without its later columns (placements, a degree) and be created so; in a HESA-named CSV each half is said as
    this, the cause, not as a short row (`_short_row`). Both halves are errors instead: nothing is sent, nothing lost.
    A break in the last column leaves the first half at full width and the second one cell (review104 F5: it was a
    record of its own, a `required` error for every field, the cause unsaid); so `read_csv` holds back every row no
    wider than the header until it has seen the next. (A break in the first column, a one-cell row and then a full
    one, is not told from a stray line before a row: an identifier holds no line break.)"""
    one, two = first.source.line, second.source.line
    where = f"lines {one} and {two}"
    if first.source.row is not None and second.source.row is not None:  # a cell over several lines above them
        where = f"rows {first.source.row} and {second.source.row} ({where})"
    said = (
        f"{where} have {first_cells} and {cells} cells, the header's {width} columns and one more: a "
        "line break in a cell that is not in quotes seems to have cut one row in two. Remove the line break or put "
        "the cell in double quotes; neither line is sent"
    )
    first.problems.append((None, said))
    second.problems.append((None, said))


# What str.strip() takes off a cell's ends besides ASCII spaces, tabs, line breaks, vertical tabs and form feeds: the
# no-break and other Unicode spaces (an em space pasted from a word processor), and the line and paragraph separators.
# (Of what it strips, only \x1c-\x1f are not looked for: no keyboard, spreadsheet or export writes those.)
_WIDE_SPACE = re.compile("[\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]")


def _edge_space(cells: str) -> bool:
    """Whether a row's cells, joined by NUL, may hold one starting or ending in a space (or holding a tab, a line break
    or a Unicode space anywhere): a few substring tests, several times faster than a regular expression on every row,
    and one only on a row with other than ASCII in it. `_Untrimmed.note_row` then compares each cell with its
    `strip()`, which takes all of those off (review53 F5: a quoted email ending in a line break went unsaid)."""
    return (
        cells[:1] == " "
        or cells[-1:] == " "
        or cells.startswith("' ")
        or " \x00" in cells
        or "\x00 " in cells
        or "\x00' " in cells
        or "\t" in cells
        or "\n" in cells
        or "\r" in cells
        or "\x0b" in cells  # Word's manual line break, pasted into a cell
        or "\x0c" in cells
        or (not cells.isascii() and _WIDE_SPACE.search(cells) is not None)
    )


# How many of a file's untrimmed values its warning names, each by its line, column and value (shown by its ends:
# _edges); the rest are counted. Named while the list stays within _PLACES_ROOM characters: report.html shows a
# message's first 500 (html_report._issue_row), and the warning's own words take up to 190 of them.
_PLACES_SHOWN = 10
_PLACES_ROOM = 310
_EDGE = 10  # characters kept of each end of a long value shown


def _edges(cell: str) -> str:
    """A value for a list of places, its middle left out when long: the spaces to find are at its ends."""
    return cell if len(cell) <= 2 * _EDGE + 1 else f"{cell[:_EDGE]}…{cell[-_EDGE:]}"


class _Untrimmed:
    """Values of a Register CSV with spaces around them: how many, and the first few (each its place, column and
    cell). review168 F8: naming only the first left someone uploading through Register's page to find the rest."""

    def __init__(self) -> None:
        self.count = 0
        self.places: list[tuple[str, str, str]] = []

    def note_row(self, row: list[str], places: list[tuple[int, str]], line: int, at: int | None) -> None:
        """Count the row's cells (of `places`: index, column) that Register would keep with spaces around; `line`
        and `at`: the row's line and spreadsheet row (SourceRef's)."""
        for index, column in places:
            if index < len(row):
                cell = row[index]
                kept = cell[1:] if cell[:1] == "'" else cell  # what Register keeps: one apostrophe off
                if kept != kept.strip() and kept.strip():
                    self.count += 1
                    if len(self.places) < _PLACES_SHOWN:
                        self.places.append((place(None, line, at), column, cell))

    def issue(self, name: str) -> Issue:
        named: list[str] = []
        for where, column, cell in self.places:
            spot = f"{where}, {column} {_edges(cell)!r}"
            if named and sum(len(p) + 2 for p in (*named, spot)) > _PLACES_ROOM:
                break
            named.append(spot)
        more = f"; and {self.count - len(named)} more" if self.count > len(named) else ""
        listed = "; ".join(named) + more
        return _file_warning(
            name,
            "untrimmed_values",
            f"{self.count} {'values have' if self.count > 1 else 'value has'} spaces around ({listed}): "
            "register-batch trims them, but Register's CSV upload does not, so it finds no code or date written so "
            "(and keeps the spaces in a name)",
        )


class _CellTally:
    """Cells of a Register CSV its upload would take otherwise than register-batch does, for one file warning (`code`):
    how many, and where the first is (its place, `line 12` or `row 11 (line 12)`, and column; not its value)."""

    code = ""

    def __init__(self) -> None:
        self.count = 0
        self.first: tuple[str, str] | None = None

    def issue(self, name: str) -> Issue:
        where, column = self.first or ("", "")
        return _file_warning(name, self.code, self.message(where, column, self.count > 1))

    def message(self, where: str, column: str, many: bool) -> str:
        raise NotImplementedError


class _BareNulls(_CellTally):
    """Cells of a Register CSV that are a bare NULL, which register-batch reads as no value (as SRS exports mean it,
    hesa-formats.md §1.4) but Register's upload takes as written: only a blank cell is nil there (§3.3
    `transform_values!(&:presence)`, §5 item 31), so NULL is an unknown code, failing the row and with it the whole
    file, or the text NULL in a name (review83 F1)."""

    code = "null_values"

    def note_row(self, row: list[str], places: list[tuple[int, str]], line: int, at: int | None) -> None:
        for index, column in places:
            if index < len(row) and row[index].strip().lower() == "null":  # `'NULL` is the text, as Register reads it
                self.count += 1
                if self.first is None:
                    self.first = (place(None, line, at), column)

    def message(self, where: str, column: str, many: bool) -> str:
        return (
            f"{self.count} {'cells are' if many else 'cell is'} NULL (first: {where}, {column}): register-batch "
            "reads NULL as no value, but Register's CSV upload takes it as written, as an unknown code (failing the "
            "row, and with it the whole file) or the text NULL in a name"
        )


# A row as Ruby's CSV reads it without `liberal_parsing` (Register's upload, hesa-formats.md §3.2 item 4, §3.3): each
# cell either in double quotes from its first character to a closing quote the next comma (or the line end) follows,
# any quote in it doubled; or holding no quote at all. A quote anywhere else is "Illegal quoting" or "Any value after
# quoted field isn't allowed", and the whole file is refused. (Python's csv module reads such a quote as a letter.)
_QUOTED_CELL = '"[^"]*(?:""[^"]*)*"'  # (the loop unrolled: twice as fast as an alternation per character)
_WELL_QUOTED = re.compile(f'(?:{_QUOTED_CELL}|[^",\r\n]*)(?:,(?:{_QUOTED_CELL}|[^",\r\n]*))*(?:\r\n|\r|\n)?')
_CELL_AT = re.compile(f'{_QUOTED_CELL}(?=,|\r|\n|$)|[^",\r\n]*(?=,|\r|\n|$)')


def _badly_quoted_cells(text: str) -> list[tuple[int, bool]]:
    """The indexes of a row's cells (`text`: the row as read, its line end and all) with a double quote Register's
    upload cannot read, each with whether it opens with one (its quotes are then dropped: `"Bud" Kim` is read as
    `Bud Kim`): none for nearly every row, told by one regular expression."""
    if _WELL_QUOTED.fullmatch(text):
        return []
    found = []
    at = index = 0
    while at <= len(text):
        cell = _CELL_AT.match(text, at)
        end = cell.end() if cell else _next_comma(text, at)
        if cell is None:
            found.append((index, text.startswith('"', at)))
        if end >= len(text) or text[end] != ",":
            break
        at, index = end + 1, index + 1
    return found


def _next_comma(text: str, at: int) -> int:
    """Where a cell that is not well quoted ends, as Python's csv module reads it (strict=False): at the next comma
    (after a closing quote, if it opens with one), or the end of the text."""
    if text.startswith('"', at):
        close = at + 1
        while (close := text.find('"', close)) >= 0 and text.startswith('"', close + 1):
            close += 2
        at = len(text) if close < 0 else close + 1
    comma = text.find(",", at)
    return len(text) if comma < 0 else comma


class _StrayQuotes(_CellTally):
    """Cells of a Register CSV with a double quote Register's CSV upload refuses (review53 F4)."""

    code = "stray_quote"

    def __init__(self) -> None:
        super().__init__()
        self.dropped = 0  # of them, cells that open with a quote: read without it and the one closing it

    def note_row(self, text: str, header: _CsvHeader, line: int, at: int | None) -> None:
        """Count the cells of a row (`text`, as read) with such a quote."""
        found = _badly_quoted_cells(text)
        self.count += len(found)
        self.dropped += sum(opened for _index, opened in found)
        if found and self.first is None:
            index = found[0][0]
            column = header.columns[index] if index < len(header.columns) else None
            self.first = (place(None, line, at), column or f"column {index + 1}")

    def message(self, where: str, column: str, many: bool) -> str:
        # A quote inside a cell is read as a letter; a cell that opens with one loses it and the one closing it
        # (review117 F3: `"Bud" Kim` was said to be read with its quotes, and sent as Bud Kim).
        dropped = '("Bud" Kim is read as Bud Kim)'
        if not self.dropped:
            read = f"reads {'each' if many else 'it'} as part of the value"
        elif self.dropped == self.count:
            read = f"drops the quote {'each' if many else 'it'} opens with and the one closing it {dropped}"
        else:
            read = (
                "reads a quote inside a cell as part of the value, and drops the quote a cell opens with and the one "
                f"closing it {dropped}"
            )
        return (
            f"{self.count} {'cells have' if many else 'cell has'} a double quote (\") where Register's CSV upload "
            f"allows none (first: {where}, {column}): register-batch {read}, but Register refuses the whole file "
            '("The selected file must be a CSV"); remove the quote, or put the whole cell in double quotes with each '
            'quote in it doubled ("")'
        )


def _is_error_report(header: list[str], layout: CsvLayout) -> bool:
    """A header with a column only Register's error report has (`Validation results`, `Errors`: §3.5), not merely
    one a user's mapping file ignores."""
    return any(layout.normalise(_bare_label(cell)) in _REPORT_COLUMNS for cell in header)


def _note_upload_header(
    info: InputInfo, header: list[str], named: int, columns: list[str | None], layout: CsvLayout
) -> None:
    """Warn about a Register CSV header that register-batch reads but Register's own upload refuses
    (hesa-formats.md §3.2 items 5 and 6): a blank header (a comma after the last name, which register-batch reads
    past), and columns that are register-batch's own (middle_names, the withdrawal and deferral columns) or that a
    mapping file has it ignore (an SRS's notes), and template column names with spaces around (§3.3). A missing
    template column has its own warning (missing_columns); Register ignores its error report's two extra columns."""
    if named < len(header):  # only after the last label: a blank header before it is refused (_header_columns)
        if named + 1 == len(header):
            blanks = (
                f"column {named + 1} has a blank header (a comma after the last column name): register-batch reads "
                "past it"
            )
        else:
            blanks = (
                f"columns {named + 1}-{len(header)} have blank headers (commas after the last column name): "
                "register-batch reads past them"
            )
        info.issues.append(
            _file_warning(
                info.path,
                "blank_header",
                f"{blanks}, but Register's CSV upload refuses the file "
                '("The selected CSV file has structural issues")',
                line=1,
            )
        )
    template = frozenset(layout.expected)
    extra = [
        label
        for cell, key in zip(header, columns, strict=True)
        if (label := _bare_label(cell))
        and (key if key is not None else layout.normalise(label)) not in template
        and (key is not None or layout.normalise(label) not in _REPORT_COLUMNS)
    ]
    _note_untrimmed_header(info, header, columns, template)
    if extra:
        info.issues.append(
            _file_warning(
                info.path,
                "extra_columns",
                f"the header has {len(extra)} column{'s' if len(extra) > 1 else ''} that Register's template does "
                f"not ({', '.join(repr(c) for c in extra)}): register-batch reads "
                f"{'them' if len(extra) > 1 else 'it'}, but Register's CSV upload refuses a file with extra columns",
                line=1,
            )
        )


def _note_untrimmed_header(
    info: InputInfo, header: list[str], columns: list[str | None], template: frozenset[str]
) -> None:
    """Warn about template column names with spaces around (`, hesa_id ,`): register-batch trims them (_bare_label),
    and so does Register's file check (`strip: true`), but its import parses the file again without `strip`
    (hesa-formats.md §3.3, an inference from the code), so the name resolves to no column and every row would lack
    the field. A column register-batch does not read, or one not in the template, is another warning's or none."""
    spaced = [cell for cell, key in zip(header, columns, strict=True) if key in template and cell != cell.strip()]
    if not spaced:
        return
    more = f" and {len(spaced) - 5} more" if len(spaced) > 5 else ""
    shown = ", ".join(_label(cell) for cell in spaced[:5]) + more
    names = ", ".join(_bare_label(cell) for cell in spaced[:5]) + more
    many = len(spaced) > 1
    info.issues.append(
        _file_warning(
            info.path,
            "untrimmed_header",
            f"the header has {len(spaced)} column name{'s' if many else ''} with spaces around ({shown}): "
            "register-batch trims them, but Register's CSV import does not, so it would read no value from "
            f"{'those columns' if many else 'that column'} (every row lacking {names})",
            line=1,
        )
    )


def _check_multiline(
    row: list[str],
    header: list[str],
    columns: list[str | None],
    name: str,
    record: int,
    first: int,
    last: int,
    at: int | None,
) -> None:
    """Refuse a row whose quoted cells span lines in a way no trainee record does (see module docstring); `at`: its
    spreadsheet row where it differs from its line `first` (SourceRef.row).

    A line break in a read column is refused unless the row can only be one record whose cell holds it (a
    spreadsheet's Alt+Enter in a name): the record is then read, and validation's `control_character` makes it an
    error. An ignored column (Register's multi-line `Errors`) may hold line breaks, but not lines that look like
    whole rows.
    """
    span = f"runs over lines {first}-{last}" if last > first else "is still open at the end of the file"
    width = len(header)
    for index, cell in enumerate(row):
        column = columns[index] if index < len(columns) else None
        if column is not None and ("\n" in cell or "\r" in cell) and not _one_records_line_break(row, index, width):
            raise UnusableInput(
                name,
                f'a quoted cell {span}: a stray or unclosed quote (") would merge rows into one and lose them; '
                "correct the quoting",
                record=record,
                line=first,
                field=column,
                row=at,
            )
        if column is None and _swallowed_rows(cell, index, width, len(row)):
            label = f" ({_label(_bare_label(header[index]))})" if index < len(header) else ""
            raise UnusableInput(
                name,
                f"a quoted cell {span} in column {index + 1}{label} and holds what look like whole rows, or parts of "
                'two: a stray or unclosed quote (") would merge them into one and lose them; correct the quoting',
                record=record,
                line=first,
                row=at,
            )


def _one_records_line_break(row: list[str], index: int, width: int) -> bool:
    """Whether `row[index]`, a cell with a line break, can only be one record's value rather than a stray quote
    merging rows. A quote opened in one row and closed in a later one takes into the cell the rest of the first row
    and the start of the next: their commas, or, with neither, a row of other than the header's width (the columns
    before the quote, plus the next row's). And a cell that another follows was closed: a quote still open at the
    end of the file takes the rest of the file into the row's last cell."""
    return len(row) == width and index < width - 1 and "," not in row[index] and '"' not in row[index]


def _slot(key: str, layout: CsvLayout) -> str:
    """The field a column fills: a repeated group's column by tag and row number, so `F_DEGCLSS_01`,
    `F_DEGCLSS_1` and a bare `F_DEGCLSS` (row 1, as the mapper reads it) are one and the same."""
    if layout.group_pattern is None:
        return key
    tag, _, number = key.rpartition("_")
    if number.isdigit() and layout.group_pattern.fullmatch(key):
        return f"{tag}_{int(number)}"
    if layout.group_pattern.fullmatch(f"{key}_1"):
        return f"{key}_1"
    return key


def _named_columns(header: list[str]) -> int:
    """How many columns the header names: those after its last label are a spreadsheet's blank columns."""
    return next((n for n in range(len(header), 0, -1) if _bare_label(header[n - 1])), 0)


def _unheaded(row: list[str], named: int, width: int, protected_null_is_text: bool) -> tuple[None, str] | None:
    """A value in a column after the header's last label: nobody can say which field it is, so it is not dropped
    unsaid. What reads as no value under a named column (a bare NULL, a lone apostrophe) is none here either."""
    for position in range(named, min(len(row), width)):
        if not _no_value(row[position], protected_null_is_text):
            return (None, f"row has a value in column {position + 1}, which has no header (extra commas?)")
    return None


def _no_value(cell: str, protected_null_is_text: bool) -> bool:
    """Whether `read_csv` reads the cell as no value (as `cell_fields` does)."""
    value = cell.strip()
    if value[:1] == "'":
        value = value[1:].strip()
        return not value or (not protected_null_is_text and value.lower() == "null")
    return not value or value.lower() == "null"


def _header_label(cell: str) -> str:
    """A header's cell as told from another spelling of it: a byte-order mark, spaces, one apostrophe and case aside."""
    return _bare_label(cell.strip().lstrip("\ufeff")).lower()


def _label(label: str) -> str:
    """A column name for an error line, quoted and cut short."""
    return repr(cut_short(label))


def _known_column(key: str, layout: CsvLayout) -> bool:
    """A column the layout reads (`key` normalised): a field's, or a numbered repeat of a group's."""
    return key in layout.known or bool(layout.group_pattern and layout.group_pattern.fullmatch(key))


_SPELT_APART = re.compile(r"[\s_-]+")
_NUMBERED = re.compile(r"(?P<tag>.+?)[\s_-]*(?P<number>\d+)")


def _squashed(name: str) -> str:
    """A column name as told from another spelling of it: case, spaces, hyphens and underscores aside."""
    return _SPELT_APART.sub("", name).upper()


def _meant_columns(names: list[str], layout: CsvLayout, present: set[str]) -> dict[str, str]:
    """The column each unknown header name (of `names`) was likely meant for: one the layout reads and the file lacks
    (`present`: the slots of those it has) and whose field no other column fills (CsvLayout.read), named the same
    but for case, spaces, hyphens and underscores (`First Names`, `e-mail`, `HESA ID`; a HESA tag with or without its
    F_, as _hesa_normaliser reads it: `f surname`), or a near miss (`first_name`, `F_SURNAM`: mapping.apply's
    near_miss, as a field-map source is told its tag); a numbered column of a repeated group keeps its number
    (`F_DEGCLS_2`: F_DEGCLSS_2). Each column is told once. review168 F3: two of the three ways out the refusal
    offers, removing the column or ignoring it, would throw away every trainee's value."""
    from register_batch.mapping.apply import near_miss  # only on the way to refusing the file

    def spellings(columns: Iterable[str]) -> dict[str, str]:
        """Each column's squashed spellings (a HESA tag's with and without its F_): the column."""
        forms: dict[str, str] = {}
        for column in sorted(columns):
            forms.setdefault(_squashed(column), column)
            if column.startswith("F_"):
                forms.setdefault(_squashed(column[2:]), column)
        return forms

    def spelt(label: str, forms: dict[str, str]) -> str | None:
        squashed = _squashed(label)
        found = squashed if squashed in forms else near_miss(squashed, forms)
        return None if found is None else forms[found]

    # Not a column read by nothing: one whose field a user's field map reads from another column (`provider_trainee_id:
    # student number`), which the file, renamed so, would hold unread beside the source (review172 F6).
    columns = {column for column in layout.known - layout.ignored if layout.read is None or column in layout.read}
    lacking = spellings(column for column in columns if _slot(column, layout) not in present)
    groups = spellings(column for column in columns if _group_tag(column, layout))
    meant: dict[str, str] = {}
    for label in names:
        column = lacking.get(_squashed(label))
        numbered = _NUMBERED.fullmatch(label.strip()) if groups and column is None else None
        if numbered and (tag := spelt(numbered["tag"], groups)) is not None:
            # A group's numbered column, or none: not its row 1's bare tag (F_DEGCLSS for F_DEGCLS_2).
            column = f"{tag}_{int(numbered['number'])}"
            column = None if _slot(column, layout) in present else column
        elif column is None:
            column = spelt(label, lacking)
        if column is not None and column not in meant.values():
            meant[label] = column
    return meant


def _group_tag(column: str, layout: CsvLayout) -> bool:
    """Whether `column` is a repeated group's tag, its columns numbered (F_DEGCLSS_2)."""
    return layout.group_pattern is not None and layout.group_pattern.fullmatch(f"{column}_1") is not None


def _header_columns(header: list[str], named: int, layout: CsvLayout, name: str) -> list[str | None]:
    columns: list[str | None] = []
    seen: dict[str, tuple[int, str]] = {}
    unknown: list[tuple[int, str]] = []
    for position, cell in enumerate(header, start=1):
        label = _bare_label(cell)
        if not label:
            if position > named > 0:
                columns.append(None)  # commas after the last header (a row's value there is its error: _unheaded)
                continue
            raise UnusableInput(name, f"column {position} has a blank header", line=1)
        key = layout.normalise(label)
        if key in layout.ignored:
            columns.append(None)
            continue
        if not _known_column(key, layout):
            unknown.append((position, label))
            columns.append(None)
            continue
        slot = _slot(key, layout)
        if slot in seen:
            first, first_label = seen[slot]
            same = "" if first_label == label else f"; {_label(first_label)} is the same field"
            raise UnusableInput(
                name, f"duplicate column header {_label(label)} (columns {first} and {position}{same})", line=1
            )
        seen[slot] = (position, label)
        columns.append(key)
    if unknown and (
        separator := other_separator(header, lambda part: _known_column(layout.normalise(part.strip()), layout))
    ):
        raise UnusableInput(name, wrong_separator(separator), line=1)
    if unknown and layout.format == "register-csv":
        refuse_older_template([label for _position, label in unknown], name, width=named)
    if unknown and layout.format_of and (other := layout.format_of(header)) not in (None, layout.format):
        # `--format hesa-csv` on Register's template: its 51 columns are no misspelt names to list under `ignored`.
        raise UnusableInput(
            name,
            f"the header is {other}'s, not {layout.format}'s: give fmt {other}, or leave it out to have the format "
            "told from the file",
            line=1,
        ).marking(fmt="fmt")
    if unknown:
        present = {_slot(key, layout) for key in columns if key is not None}
        raise UnusableInput(
            name,
            f"{_unknown_columns(unknown, layout, present)} for {layout.format}: correct a misspelt name, or remove the "
            f"column or list it under `fields: {layout.family}: ignored:` in a mapping file (docs/mappings.md)",
            line=1,
        )
    return columns


def _unknown_columns(unknown: list[tuple[int, str]], layout: CsvLayout, present: set[str]) -> str:
    """The unknown columns (position, label) for an error line: up to ten names, and only those that look like a
    column's; a cell that could be a trainee's value (a row's cell in the header) is told by its column number, not
    quoted (review53 F2: an error line goes to a terminal, a cron mail or a CI log). A name near a column the file
    lacks (`present`: the slots of those it has) is told that column first (_meant_columns)."""
    names = [label for _position, label in unknown if not looks_like_value(label)]
    values = [position for position, label in unknown if looks_like_value(label)]
    said = []
    if names:
        more = f" and {len(names) - 10} more" if len(names) > 10 else ""
        meant = _meant_columns(names[:10], layout, present)
        shown = ", ".join(
            f"{_label(label)} (did you mean {column}?)" if (column := meant.get(label)) else _label(label)
            for label in names[:10]
        )
        said.append(f"unknown column header{'s' if len(names) > 1 else ''} {shown}{more}")
    if values:
        where = ", ".join(map(str, values[:10])) + (" …" if len(values) > 10 else "")
        if len(values) > 1:
            said.append(f"columns {where} of the header hold what look like values, not column names (not shown)")
        else:
            said.append(f"column {where} of the header holds what looks like a value, not a column name (not shown)")
    return ", and ".join(said)
