"""Spreadsheet-safe CSV cells (CSV injection defence on every CSV register-batch writes).

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel and LibreOffice;
such cells get a leading apostrophe, as Register's own CsvValueSanitiser does (hesa-formats.md §3.5).
Register, and register-batch's readers, strip exactly one leading apostrophe, so for files meant to be
read back (`register-csv`) a value that itself starts with an apostrophe gets one more: every value then
reads back exactly as it was written.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Callable, Iterable, Mapping
from typing import IO, Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Text that Excel and LibreOffice turn into a number or a date when they open a CSV, changing what it shows:
# a number with a leading zero (`083`, a HUSID `0310261553101`), 12 digits or more (shown as 3.10262E+11 and
# past 15 digits rounded), a trailing or leading decimal point or zero after it (`1.50`), an exponent (`1e5`),
# and date-like text (`2026-11-28`, `28/11/2026`, `1/2` becomes 1 February, `3-11` 3 November, `12-2026` and `9/2026`
# the first of that month, shown as Dec-26: review124 F5).
_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?(?:[eE][+-]?\d+)?")
_DATE = re.compile(r"\d{1,4}[-/]\d{1,2}(?:[-/]\d{1,4})?|\d{1,2}[-/]\d{4}|\d{1,2}\.\d{1,2}\.\d{2,4}")
# And, starting with a digit, text it reads as a date with a month's name (`14-Mar-1999`, `14 March 1999`, `3 Mar`),
# a date and time (`2026-11-28 10:00`), a time (`12:30`, `9:05 pm`: shown as 12:30:00 or 21:05), a percentage (`50%`,
# held as 0.5), or a number with thousands separators (`1,000`; in a locale whose decimal separator is the comma, `1,5`
# becomes 1.5); starting with a month's name or a bracket, a date (`Sep-26` becomes 26 September, `March 14, 1999`)
# or an accountant's negative number (`(12)` becomes -12). A month's name alone (`March`, `May Lee`) stays text.
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_TIME = r"\d{1,2}(?::\d{1,2}(?::\d{1,2}(?:\.\d*)?)?\s*(?:[ap]\.?m\.?)?|\s*[ap]\.?m\.?)"
_AMOUNT = r"(?:\d+(?:,\d+)*(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?"
_CONVERTED_DIGITS = re.compile(
    rf"\d{{1,2}}[-/ ]{_MONTH}(?:[-/ ]\d{{2,4}})?|(?:{_DATE.pattern})(?:\s+{_TIME})?|{_TIME}|{_AMOUNT}\s?%"
    r"|\d+(?:,\d+)+(?:\.\d*)?",
    re.IGNORECASE,
)
_CONVERTED_WORDS = re.compile(rf"{_MONTH}[-/ ]\d{{1,4}}(?:,?\s?\d{{2,4}})?|\({_AMOUNT}\)", re.IGNORECASE)
_CONVERTED_STARTS = frozenset("(JFMASONDjfmasond")
# And the logical values, in any case: Excel and LibreOffice open `True` (a surname) or `false` as a boolean and save
# it back as TRUE or FALSE (review233 F2).
_BOOLEANS = frozenset({"true", "false"})


# Control characters a report CSV shows instead of holding: C0 but tab and line ends (a quoted cell carries those),
# DEL, and C1. A spreadsheet cuts a cell, or the whole file, at a NUL, and a terminal showing the file (`cat
# issues.csv`, `grep` in it) obeys an ESC from an extract's value: colours, its title, a cleared screen.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _picture(match: re.Match[str]) -> str:
    """A C0 control as its Unicode control picture (NUL as ␀, ESC as ␛), DEL as ␡; C1, which has none, as `\\xNN`."""
    code = ord(match.group())
    return chr(0x2400 + code) if code < 0x20 else "\u2421" if code == 0x7F else f"\\x{code:02x}"


def neutralise(value: Any) -> str:
    """For report CSVs (issues, results): defuse formula-like text, and show control characters (but tab and line
    ends) as symbols, a NUL as ␀ and an ESC as ␛ (the issue's message names them); other values unchanged."""
    if value is None:
        return ""
    text = str(value)
    if not text.isprintable():  # nearly every cell is
        text = _CONTROL.sub(_picture, text)
    if text and text != "-" and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def as_text(value: Any) -> str:
    """For report CSVs' identifier and value columns: `neutralise`, and an apostrophe before text that a
    spreadsheet would turn into a number, date or time it then shows differently (`spreadsheet_would_change`), as
    Register's own CSVs keep codes, HUSIDs and dates (hesa-formats.md §3.3). Other text is unchanged."""
    text = neutralise(value)
    return "'" + text if spreadsheet_would_change(text) else text


def spreadsheet_would_change(text: str) -> bool:
    """Whether a spreadsheet opening `text` turns it into a number, date, time or logical value it then shows
    differently (`083` as 83, `Sep-26` as a day in September, `True` as TRUE)."""
    if text[:1].isdigit() or text[:1] == ".":
        number = _NUMBER.fullmatch(text)
        if number:
            whole, fraction = number.group(1), number.group(2)
            digits = len(whole) + len(fraction or "")
            return (
                (len(whole) > 1 and whole.startswith("0"))
                or not whole
                or (fraction is not None and (not fraction or fraction.endswith("0")))
                or digits > 11
                or "e" in text.lower()
            )
        return bool(_CONVERTED_DIGITS.fullmatch(text))
    if text.strip().lower() in _BOOLEANS:
        return True
    return text[:1] in _CONVERTED_STARTS and bool(_CONVERTED_WORDS.fullmatch(text))


def write_for_spreadsheets(
    fh: IO[str], columns: Iterable[str], rows: Iterable[Mapping[str, Any]], *, as_text_columns: Iterable[str] = ()
) -> None:
    """A report CSV (issues.csv, results.csv) as Excel opens it right: a UTF-8 byte-order mark first (without one,
    Excel on Windows reads it in the machine's ANSI code page and mangles every accent), then the header and one
    row per mapping, every cell `neutralise`d, and `as_text` for the columns that quote identifiers and values."""
    columns = tuple(columns)
    write_values_for_spreadsheets(
        fh, columns, (map(row.__getitem__, columns) for row in rows), as_text_columns=as_text_columns
    )


def write_values_for_spreadsheets(
    fh: IO[str], columns: Iterable[str], rows: Iterable[Iterable[Any]], *, as_text_columns: Iterable[str] = ()
) -> None:
    """`write_for_spreadsheets` of rows given as their values, in `columns`' order: issues.csv's rows are values
    already (ReportBuilder.issue_values), and a dict made of each only to be read back cost 1 us a row."""
    columns = tuple(columns)
    text_columns = frozenset(as_text_columns)
    cells: list[Callable[[Any], str]] = [as_text if c in text_columns else neutralise for c in columns]
    # A column's texts repeat from row to row (the input's name, a field, a rule's code and message, a record's ids on
    # each of its issues): each column remembers the cells it made of the last REMEMBERED short texts, so that most
    # are made once. A text always makes the same cell; memory stays the same however many rows there are.
    known = [functools.lru_cache(maxsize=REMEMBERED)(cell) for cell in cells]
    fh.write("\ufeff")
    writer = csv.writer(fh)
    writer.writerow(columns)
    for row in rows:
        writer.writerow(
            [
                made(value) if type(value) is str and len(value) <= REMEMBERED_CHARS else cell(value)
                for cell, made, value in zip(cells, known, row, strict=True)
            ]
        )


REMEMBERED = 1024  # texts each column of write_for_spreadsheets remembers the cell of
REMEMBERED_CHARS = 256  # and the most characters of one


def protect(value: Any, *, prefix: bool = False) -> str:
    """For CSVs read back through the one-apostrophe rule: the written cell reads back as `value`.

    `prefix=True` adds the apostrophe to every non-blank value, as Register's error report does for code
    and date columns to keep leading zeros and ISO dates away from Excel.
    """
    if value is None:
        return ""
    text = str(value)
    if not text:
        return text
    if (
        prefix
        or text.startswith("'")
        or (text != "-" and text.startswith(FORMULA_STARTS))
        or text.strip().lower() == "null"  # a surname: unprotected, the readers take it for HESA's no value
    ):
        return "'" + text
    return text
