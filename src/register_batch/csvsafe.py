"""Spreadsheet-safe CSV cells (CSV injection defence on every CSV register-batch writes).

A cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return is a formula to Excel and LibreOffice;
such cells get a leading apostrophe, as Register's own CsvValueSanitiser does (hesa-formats.md §3.5).
Register, and register-batch's readers, strip exactly one leading apostrophe, so for files meant to be
read back (`register-csv`) a value that itself starts with an apostrophe gets one more: every value then
reads back exactly as it was written.
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> str:
    """For report CSVs (issues, results): defuse formula-like text; other values unchanged."""
    if value is None:
        return ""
    text = str(value)
    if text and text != "-" and text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


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
    if prefix or text.startswith("'") or (text != "-" and text.startswith(FORMULA_STARTS)):
        return "'" + text
    return text
