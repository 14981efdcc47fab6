"""Text as people and files receive it: counts in words ("1 record"), characters XML cannot hold."""

from __future__ import annotations

import math
import os
import re
import sys
from collections.abc import Collection
from decimal import Decimal

# What XML 1.0 cannot hold at all: C0 controls other than tab and line ends, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Line breaks, tabs and other control characters (C0, DEL, C1): the control_character rule refuses a value holding
# one (Register would store it as it is), so the writers note each they write. So are the invisible characters no
# name or code holds: a byte-order mark (U+FEFF: a file's, left part-way down by `cat a.csv b.csv`), a zero-width
# space (U+200B, pasted from a web page), a word joiner (U+2060), and the bidirectional embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069: an override shows the text after it reversed, review162 F6). Not the other
# invisible format characters: the zero-width (non-)joiners, soft hyphen and direction marks (U+200E, U+200F, U+061C)
# are written in names of some scripts.
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2060\u2066-\u2069\ufeff]")
BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")  # of CONTROL_CHARACTER's: named so by control_character
# What a line on a terminal must not carry as it is: the control characters but tab. ESC (a file name's, or a code's
# from an extract) would drive the terminal: colours, its title, a cleared screen; a line break would forge a line.
# The bidirectional marks, overrides and isolates would reorder the line as shown; the line and paragraph separators
# (U+2028, U+2029) break it in some terminals and log viewers. Also the lone surrogates, which no UTF-8 report or
# terminal can hold: U+DC80-U+DCFF are a file name's bytes that are not UTF-8 (a Latin-1 name from a Windows share)
# as Python reads them (surrogateescape); others come from a JSON escape.
_NOT_SHOWN = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _shown(char: str) -> str:
    """One character printable escapes: a file name's undecodable byte as that byte, `\\xNN`, as a control character;
    the rest as `\\uXXXX`."""
    code = ord(char)
    return f"\\x{code & 0xFF:02x}" if code < 0x100 or 0xDC80 <= code <= 0xDCFF else f"\\u{code:04x}"


# How every file register-batch writes (reports, exports, outputs) encodes what UTF-8 cannot hold, a lone surrogate
# (from a JSON escape of half a character in Register's answer): as its escape, `\udce9`, not a crash part-way. JSON
# reads that back as the same value; validate and sync refuse it in a CSV or XML (control_character). A file name's
# undecodable byte is not among them: names reach the writers through printable.
ESCAPE_UNENCODABLE = "backslashreplace"


# The input format people fill in a spreadsheet by hand, with no SRS behind it: Register's bulk-add CSV template. Told
# to correct values there, not only to "export again from the SRS", which such a person cannot (review168 F1); but an
# SRS or register-batch writes the template too (mappings.md Example 4), and a file one of them wrote and a
# spreadsheet saved again is written again, not corrected row by row: both are said (review172 F3).
FILLED_IN_A_SPREADSHEET = "register-csv"


def spreadsheet_steps(values: str) -> str:
    """How to correct `values` in a spreadsheet so that it keeps them as Register reads them: the code columns and the
    HUSID column as Text (a HUSID in a General column loses its last digits for good: review172 F2), the dates as
    yyyy-mm-dd once they show the days written (a spreadsheet that read 03/04/2026 month first holds 4 March, which
    the format would then write as 2026-03-04: review224 F1), saved as CSV UTF-8."""
    return (
        "format the code columns and hesa_id as Text (or type each value with a leading ') and the date columns as "
        "yyyy-mm-dd (only if each date shows the day written: a spreadsheet that read the dates in the other "
        "day/month order has swapped them, which this format keeps; import such a column as Text instead), correct "
        f"{values}, then save as 'CSV UTF-8' and validate again"
    )


def where_to_correct(
    formats: Collection[str], values: str, *, from_srs: str | None = None, written_again: str | None = None
) -> str:
    """How to correct `values` (the words for them: "the values listed under Issues") of inputs of `formats`, as one
    clause: in the SRS for a HESA extract (`from_srs`, else "correct VALUES in your student record system and export
    again"); for Register's CSV template, both ways: written again by what wrote it (`written_again`, else as from
    the SRS), or corrected in the spreadsheet it is filled in (spreadsheet_steps); both formats' ways when a run reads
    both. Every place that says where to correct says it through this."""
    srs = from_srs or f"correct {values} in your student record system and export again"
    if FILLED_IN_A_SPREADSHEET not in formats:
        return srs
    steps = spreadsheet_steps(values)
    if set(formats) == {FILLED_IN_A_SPREADSHEET}:
        return (
            f"if an SRS or register-batch wrote the file, {written_again or srs}; if you fill it in a spreadsheet, "
            f"{steps}"
        )
    return f"{srs}; for Register's CSV template filled in a spreadsheet, {steps}"


def correct_in(fmt: str | None, values: str, from_srs: str) -> str:
    """where_to_correct for one record's value, read from an input of `fmt` (None: not known, an SRS's way)."""
    return where_to_correct(() if fmt is None else (fmt,), values, from_srs=from_srs)


def sentence(clause: str) -> str:
    """`clause` as a sentence of its own: its first letter upper case, a full stop at its end."""
    return f"{clause[:1].upper()}{clause[1:]}."


def counted(count: int | None, noun: str, *, grouped: bool = False) -> str:
    """`count noun`, the noun plural unless the count is one (nouns here take a plain -s); `grouped` writes
    thousands separators (`1,234 records`), as report.html does."""
    count = count or 0
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {noun}{'' if count == 1 else 's'}"


def significant(value: float, *, decimals: int = 3, figures: int = 3) -> float:
    """`value` to `decimals` decimal places, or to more where a small value needs them to keep `figures` significant
    figures: 5 requests for 20,000 records are 0.00025 per record, not 0.0 (review118 F2); 1540 for 1500, 1.027."""
    return round(value, _decimal_places(value, decimals=decimals, figures=figures))


def _decimal_places(value: float, *, decimals: int, figures: int) -> int:
    """The decimal places `significant` rounds `value` to."""
    if not value or not math.isfinite(value):
        return decimals
    return max(decimals, figures - 1 - math.floor(math.log10(abs(value))))


def plain(value: float, *, grouped: bool = False) -> str:
    """A figure as report.json holds it, in plain digits (Python writes 0.00005 as 5e-05); `grouped` writes thousands
    separators, as report.html does (`counted`)."""
    return format(Decimal(repr(value)), ",f" if grouped else "f")


def xml_safe(text: str) -> str:
    """Text as XML can carry it: a character it cannot (a NUL quoted from an input) written as an escape."""
    return _NOT_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def printable(text: str) -> str:
    """Text fit for one line on a terminal, in a log or in a UTF-8 report: its control characters (but tab) and the
    bytes of a file name that are not UTF-8 written as `\\xNN`, a bidirectional control or another lone surrogate
    as `\\uXXXX`."""
    return _NOT_SHOWN.sub(lambda m: _shown(m.group()), text)


_EXCEL_TEXT_FORMULA = re.compile(r'="(.*)"', re.S)  # Excel's way of keeping a value as text: ="02"


def excel_text_of(value: str) -> str | None:
    """The text inside Excel's way of keeping a value as text (`="02"` is `02`), or None for any other value: the
    spreadsheet_formula rule names it, and the reports cut it where a message quotes it (reports.shown_message)."""
    found = _EXCEL_TEXT_FORMULA.fullmatch(value)
    return None if found is None else found.group(1)


def cut_short(name: str, most: int = 80) -> str:
    """`name` (printable) for a line that names it, its middle left out past `most` characters: a path too long for
    the file system is some 300 characters or more, which would make the line about it unreadable."""
    name = printable(name)
    return name if len(name) <= most else f"{name[: most // 2]}…{name[-(most * 3 // 8) :]}"


def has_xml_unsafe(text: str) -> bool:
    return _NOT_XML.search(text) is not None


def _console_shows(text: str) -> bool:
    """Whether standard output and standard error can both write `text` as it is: guard_output writes what their
    encoding lacks as `\\u…` escapes, which name another file when pasted."""
    for stream in (sys.stdout, sys.stderr):
        encoding = getattr(stream, "encoding", None)
        if encoding:
            try:
                text.encode(encoding)
            except (UnicodeError, LookupError):
                return False
    return True


def shell_word(text: str, *, windows: bool | None = None) -> str:
    """`text` (a path) as one word of a command the user is told to run, to paste as it is: quoted for the shell
    (shlex). Where the console would not show it as it is, spelt in ASCII that gives the same name back: where its
    encoding lacks a character (a Windows code page's `sync x.xml > sync.log`, a Latin-1 locale; the `\\u65e5` it
    wrote named a folder that did not exist: review181 F6), for bytes that are not UTF-8, for the control characters
    printable writes as `\\x0a` (a line break), which inside quotes name another file, and for a tab or an invisible
    character, which a copy from the terminal does not keep (review186 F5). That spelling is POSIX (review186 F7):
    `"$(printf 'R\\303\\251pertoire')"`, the bytes the file system has (os.fsencode) in octal, which dash (/bin/sh,
    a crontab line's shell), bash, zsh and ksh read alike; bash's `$'\\xNN'` is not dash's. On Windows it is
    PowerShell's `"R$([char]0x00E9)…"`. A relative path that starts with `-` is written `./-x` (review186 F8):
    `chmod 600 -x` reads it as an option."""
    import shlex  # here: not needed at every start

    windows = os.name == "nt" if windows is None else windows
    if text.startswith("-"):  # never absolute, on either system
        text = (".\\" if windows else "./") + text
    if _console_shows(text) and not _NOT_SHOWN.search(text) and not CONTROL_CHARACTER.search(text):
        return shlex.quote(text)
    if windows:
        # os.name == "nt" is all the tool knows of the shell: PowerShell is Windows Terminal's and VS Code's, and
        # $([char]0x…) is how a PowerShell command line spells any character in ASCII. cmd.exe has no such spelling
        # at all (its ^ escapes only special signs): a cmd.exe user (a .bat run by Task Scheduler) gets this form,
        # which names the file when pasted into PowerShell, and in cmd.exe is taken literally, naming none.
        return '"' + "".join(_powershell_spelt(char) for char in text) + '"'
    raw = os.fsencode(text)
    if raw.endswith(b"\n"):
        # A command substitution drops the line breaks its output ends with, and POSIX has no other ASCII spelling
        # of one in a word: a name that ends with one (none but made on purpose) gets bash's and zsh's $'...'.
        return "$'" + "".join(chr(b) if 0x20 <= b < 0x7F and b not in b"\\'" else f"\\x{b:02x}" for b in raw) + "'"
    # printf's format reads \ooo (three octal digits) and %% (the word never starts with -, printf's option: above).
    spelt = "".join(
        "%%" if b == 0x25 else chr(b) if 0x20 <= b < 0x7F and b not in b"\\'" else f"\\{b:03o}" for b in raw
    )
    return f"\"$(printf '{spelt}')\""


def path_named(text: str) -> str:
    """`text` (a path) as a sentence names it: quoted as shlex does, the characters the console cannot show left to
    its own replacement (`\\u65e5`) and control characters written as printable does, readable where shell_word's
    ASCII spelling, for the command in the same message, is not (review186 F6)."""
    import shlex

    return shlex.quote(printable(text))


def _powershell_spelt(char: str) -> str:
    """One character in a PowerShell string in double quotes: as it is if ASCII and not special there, else as its
    UTF-16 code units (two for a character past U+FFFF), each a `$([char]0x…)`."""
    if " " <= char <= "~" and char not in '"`$':
        return char
    units = char.encode("utf-16-le", "surrogatepass")
    return "".join(f"$([char]0x{int.from_bytes(units[i : i + 2], 'little'):04X})" for i in range(0, len(units), 2))
