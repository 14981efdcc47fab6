"""issues.csv: one row per issue, report.json's issue columns but `row`, then the fix, then `row`; safe to open in
Excel.

It starts with a UTF-8 byte-order mark: without one, Excel on Windows reads a CSV in the machine's ANSI code
page and every accent or dash turns into two or three wrong characters. The columns that quote the user's
file (SRS id, HUSID, value) keep codes, HUSIDs and dates as text with a leading apostrophe, as Register's
own CSVs do (`csvsafe.as_text`); report.json has every value exactly as read (but one over
reports.SHOWN_CHARS characters, which every report cuts short).

The column after `source`, `fix`, is the rule catalogue's suggested fix for the issue's code, with the sentence about
the issue's field where the rule has one (report.html's *Rules and fixes*, docs/rules.md's *Suggested fix*), so that
the file an officer hands to a colleague says how to fix each issue (design.md, "Who uses it"); empty for a code the
catalogue has no fix for. report.json's issues keep design.md's
keys: a reader of it looks the fix up by code. The last, `row`, is a CSV record's spreadsheet row where it differs
from its line (report.json's `row`).
"""

from __future__ import annotations

from typing import IO, TYPE_CHECKING

from register_batch.csvsafe import write_values_for_spreadsheets
from register_batch.reports import ISSUE_KEYS

AS_TEXT = frozenset({"provider_trainee_id", "hesa_id", "value"})
# report.json's keys, then `fix`, then `row`: the columns added after design.md's (source, fix, row: review168 F2) come
# last, in the order they were added, so that a reader of the earlier columns (by header or by place) reads them as
# before.
_ROW = ISSUE_KEYS.index("row")
COLUMNS = (*ISSUE_KEYS[:_ROW], *ISSUE_KEYS[_ROW + 1 :], "fix", "row")
_CODE = ISSUE_KEYS.index("code")
_FIELD = ISSUE_KEYS.index("field")

if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from register_batch.reports import ReportBuilder


def fixes() -> dict[str, str]:
    """Each code's general fix, as the rule catalogue holds it when the report is written: a run's own codes are
    described by the modules it runs (a sync's, `api_rejected` and the `sync_…` codes, by sync/runner.py; conversion's
    by jobs.py), as report.html's *Rules and fixes* finds them."""
    from register_batch.validation.catalogue import CATALOGUE

    return {code: rule.fix for code, rule in CATALOGUE.items()}


def field_fixes() -> dict[tuple[str, str], str]:
    """The fix of each (code, field) whose rule says more about that field (Rule.fix_by_field): the general fix and
    the field's sentence, which no other field's row is given (review222 F1)."""
    from register_batch.validation.catalogue import CATALOGUE

    return {(code, field): rule.fix_on(field) for code, rule in CATALOGUE.items() for field in rule.fix_by_field}


def write(fh: IO[str], report: ReportBuilder) -> None:
    """`fh` opened with newline="" (the csv module writes its own line ends)."""
    write_values_for_spreadsheets(fh, COLUMNS, _rows(report), as_text_columns=AS_TEXT)


def _rows(report: ReportBuilder) -> Iterator[tuple[Any, ...]]:
    """`report.issue_values()`, each with its code's fix (COLUMNS' values), and its field's sentence where the rule
    has one: looked up in dicts made once per report, not per row."""
    fix: dict[Any, str] = fixes()  # (a library caller's Issue.model_construct may have made a code of another kind)
    own: dict[Any, str] = field_fixes()
    own_codes = {code for code, _ in own}  # most rows' codes have none: one set lookup, no key made for them
    for values in report.issue_values():
        code = values[_CODE]
        said = own.get((code, values[_FIELD])) if code in own_codes else None
        yield (*values[:_ROW], *values[_ROW + 1 :], said or fix.get(code, ""), values[_ROW])
