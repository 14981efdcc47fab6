"""A file a spreadsheet opened and saved again, told once about the whole file (review151 F9).

Excel re-saving an extract changes every record the same way: dates become 30/09/2000, codes lose their leading
zeros, HUSIDs become 2.50046E+12. Each value gets its error and its hint (spreadsheet_date, leading_zeros_lost,
hesa_id_scientific_notation), thousands of rows that all have one cause and one fix: export the file again from the
SRS, or, for Register's CSV template that a person fills in a spreadsheet with no SRS behind it, correct it there in a
way the spreadsheet keeps (review168 F1). A view of the records' issues, made as the reports receive them
(ReportBuilder.add_record): no rule counts anything.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from register_batch.model import Issue, Severity, TraineeRecord, make_issue
from register_batch.readers import InputInfo
from register_batch.validation.catalogue import describe
from register_batch.validation.rules import DATE_AND_TIME
from register_batch.wording import FILLED_IN_A_SPREADSHEET, spreadsheet_steps, where_to_correct

RESAVED = "resaved_by_a_spreadsheet"

# What a file a spreadsheet re-saved needs: exported again from its SRS (for Register's CSV template, written again by
# the SRS or register-batch that wrote it), or for the template filled in by hand, its values corrected in the
# spreadsheet (wording.where_to_correct).
_FROM_SRS = "export it again from the SRS (as a CSV in UTF-8) rather than correcting it row by row"
_WRITTEN_AGAIN = "write it again from there rather than correcting it row by row"
_VALUES = "the values the issues name"


def what_to_do(formats: tuple[str, ...]) -> str:
    """The clause that ends the warning about a re-saved input of `formats`."""
    return where_to_correct(formats, _VALUES, from_srs=_FROM_SRS, written_again=_WRITTEN_AGAIN)


describe(
    RESAVED,
    scope="file",
    fields=(),
    message="the file looks opened in a spreadsheet and saved again: N of its N records have values a spreadsheet "
    "changed (dates not YYYY-MM-DD, codes without their leading zeros, HUSIDs as numbers such as 2.50046E+12); "
    + what_to_do(("hesa-csv", FILLED_IN_A_SPREADSHEET)),
    source="hesa-formats.md §1.4 (codes and HUSIDs are text), §5 items 29 and 30 (Excel drops leading zeros and "
    "rewrites dates); the hints it sums up: spreadsheet_date, leading_zeros_lost, hesa_id_scientific_notation, "
    "hesa_id_digit_groups",
    fix="From an SRS: export the file again and validate that export before anyone opens it in a spreadsheet: a "
    "CSV the SRS writes in UTF-8 (or its HESA XML, which no spreadsheet changes). Correcting the values row by row "
    "in a spreadsheet is slow, and saving it there changes them again; if it must be opened in one, import every "
    "column as text. Register's CSV template filled in by hand, with no SRS: in your spreadsheet, "
    + spreadsheet_steps(_VALUES)
    + ".",
    severity=Severity.WARNING,
)

# The formats a spreadsheet opens and saves: a HESA XML file with 30/09/2000 dates was written so by its SRS export,
# which exporting again would not change (review153 F4); each value's own hint still says what to mend.
_SPREADSHEET_FORMATS = frozenset({"hesa-csv", "register-csv"})

# Said when at least this many records of a file, and at least half of its records, have a value a spreadsheet
# changed: two damaged rows among 500 are rows to correct; most of a file is the file.
AT_LEAST = 10

# The hints and errors that say a spreadsheet changed a value, by what they say it changed (`spreadsheet_date` also
# names an SRS's DATETIME column, 2026-09-01 00:00:00, which exporting again would not change: not counted).
_KINDS = {
    "spreadsheet_date": "dates not YYYY-MM-DD",
    "leading_zeros_lost": "codes without their leading zeros",
    "hesa_id_scientific_notation": "HUSIDs as numbers such as 2.50046E+12",
    "hesa_id_digit_groups": "HUSIDs with thousands separators",
}
_ORDER = {words: place for place, words in enumerate(dict.fromkeys(_KINDS.values()))}


def changed_by_a_spreadsheet(issue: Issue) -> str | None:
    """What a spreadsheet changed, in the words of `_KINDS`, when `issue` says it changed a value; else None."""
    kind, value = _KINDS.get(issue.code), issue.value
    if kind is None or not isinstance(value, str):
        return None
    if issue.code == "spreadsheet_date" and DATE_AND_TIME.fullmatch(value):
        return None
    return kind


class ResavedWatch:
    """The records of each input with a value a spreadsheet changed, and what it changed: `issues()` names each input
    most of whose records have one."""

    def __init__(self) -> None:
        self._records: Counter[str] = Counter()  # input -> records with such a value
        self._kinds: dict[str, set[str]] = {}

    def add(self, record: TraineeRecord) -> None:
        kinds = {kind for issue in record.issues if (kind := changed_by_a_spreadsheet(issue))}
        if kinds:
            name = record.source.input
            self._records[name] += 1
            self._kinds.setdefault(name, set()).update(kinds)

    def issues(self, inputs: Iterable[InputInfo]) -> list[Issue]:
        """One warning about each of `inputs` with at least AT_LEAST such records, and at least half of its records."""
        found = []
        for info in inputs:
            if info.format not in _SPREADSHEET_FORMATS:  # XML: its dd/mm/yyyy dates are the SRS export's own
                continue
            changed = self._records.get(info.path, 0)
            if changed < AT_LEAST or 2 * changed < info.records:
                continue
            kinds = ", ".join(sorted(self._kinds[info.path], key=_ORDER.__getitem__))
            found.append(
                make_issue(
                    input=info.path,
                    code=RESAVED,
                    severity=Severity.WARNING,
                    message=(
                        f"the file looks opened in a spreadsheet and saved again: {changed:,} of its "
                        f"{info.records:,} records have values a spreadsheet changed ({kinds}); "
                        f"{what_to_do((info.format,))}"
                    ),
                )
            )
        return found
