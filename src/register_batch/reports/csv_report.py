"""issues.csv: one row per issue, the same columns as report.json's issues, safe to open in Excel.

It starts with a UTF-8 byte-order mark: without one, Excel on Windows reads a CSV in the machine's ANSI code
page and every accent or dash turns into two or three wrong characters. The columns that quote the user's
file (SRS id, HUSID, value) keep codes, HUSIDs and dates as text with a leading apostrophe, as Register's
own CSVs do (`csvsafe.as_text`); report.json has every value exactly as read.
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from register_batch.csvsafe import write_for_spreadsheets

AS_TEXT = frozenset({"provider_trainee_id", "hesa_id", "value"})

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder


def write(fh: IO[str], report: ReportBuilder) -> None:
    """`fh` opened with newline="" (the csv module writes its own line ends)."""
    from register_batch.reports import ISSUE_KEYS

    write_for_spreadsheets(fh, ISSUE_KEYS, report.issues(), as_text_columns=AS_TEXT)
