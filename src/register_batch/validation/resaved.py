"""A file a spreadsheet opened and saved again, told once about the whole file (review151 F9).

Excel re-saving an extract changes every record the same way: dates become 30/09/2000, codes lose their leading
zeros, HUSIDs become 2.50046E+12. Each value gets its error and its hint (spreadsheet_date, leading_zeros_lost,
hesa_id_scientific_notation), thousands of rows that all have one cause and one fix: export the file again from the
SRS, or, for Register's CSV template that a person fills in a spreadsheet with no SRS behind it, correct it there in a
way the spreadsheet keeps (review168 F1). A view of the records' issues, made as the reports receive them
(ReportBuilder.add_record): no rule counts anything.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from register_batch.model import Issue, Severity, TraineeRecord, make_issue
from register_batch.readers import InputInfo
from register_batch.validation.catalogue import describe
from register_batch.validation.rules import DATE_AND_TIME, DATE_FIELDS, DAY_FIRST, EITHER, MONTH_FIRST, written_order
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
    "hesa_id_digit_groups, hesa_id_digits_rounded",
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
SPREADSHEET_FORMATS = frozenset({"hesa-csv", "register-csv"})

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
    "hesa_id_digits_rounded": "17-digit HUSIDs rounded to 15 digits",
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


SWAPPED = "possibly_swapped_date"

describe(
    SWAPPED,
    scope="file",
    fields=DATE_FIELDS,
    message="<field>: N of this file's YYYY-MM-DD <field> dates of a day 12 or less may have day and month swapped "
    "(line 3: 1996-07-12, …): the column also has N dates a spreadsheet left as text, each readable only as "
    "day/month/year (24/08/2026) or only as month/day/year (12/26/1996), as a spreadsheet set to the other order "
    "leaves them, and that spreadsheet reads every date it can in its own order, with day and month swapped: check "
    "these against the SRS (1996-07-12 may be 1996-12-07) / <field>: N of this file's YYYY-MM-DD <field> dates of a "
    "day 12 or less may have day and month swapped too (line 2: 2026-01-09, …): the file's <field> and <field> "
    "have dates a spreadsheet left as text, each readable only as day/month/year, as a spreadsheet reading dates as "
    "month/day/year leaves them, and that spreadsheet read every date column of the file as month/day/year, with "
    "day and month swapped in each date it could read: check these against the SRS (2026-01-09 may be 2026-09-01)",
    source="hesa-formats.md §5 item 30 (Excel rewrites dates); review224 F1 (a date column read in the other "
    "day/month order, then formatted as yyyy-mm-dd); review228 F1/F2 (a column's own evidence: at least 2 such text "
    "dates, and at least a tenth of its dates); review235 F1 (a column with that evidence tells the file's other "
    "date columns, such as start dates, all of a day 12 or less, which a spreadsheet leaves no text of) and F2 (the "
    "text dates outnumber the column's YYYY-MM-DD dates of a day above 12, which no swap writes)",
    fix="Check each date named against the SRS before correcting any text date: the warning is there only while "
    "the file still has its text dates. If a spreadsheet read the file's dates in the other day/month order, "
    "open the SRS's file again with the date columns imported as Text (Excel's Data > From Text/CSV, LibreOffice's "
    "Text Import dialog), or export it again from the SRS as YYYY-MM-DD dates; formatting the swapped cells as "
    "yyyy-mm-dd keeps the swap.",
    severity=Severity.WARNING,
)

SWAPPED_SHOWN = 5  # dates named in a possibly_swapped_date message
# A column's text dates only one order reads are evidence of a spreadsheet's swap when there are at least SWAP_TEXTS of
# them and they are at least 1/SWAP_SHARE of the column's dates (review228 F1/F2). A spreadsheet reading d/m/y dates as
# m/d/y leaves as text each date of a day 13 to 31: about 60 % of a column of any day, still 20 % of a column of
# cohort start dates, which cluster on days 1 to 12 (a 20,000-record swapped file's itt_start_date); a tenth leaves
# room for the user's first corrections (swap30.csv with one of its 7 text start dates corrected: 6 of 30). One
# hand-typed 30/01/2002 among 200 dates of birth (0.5 %) is a typist's, not a spreadsheet's. They must also outnumber
# the column's YYYY-MM-DD dates of a day above 12 (review235 F2): a swap writes none, so the only ones in a swapped
# column are the user's corrections of its text dates, while a column written right has more of them than of days 1
# to 12 (2 typed 24/08/1985 among 20 dates of birth, 10 of them YYYY-MM-DD of a day above 12: a typist's).
SWAP_TEXTS = 2
SWAP_SHARE = 10


def iso_dates(data: dict[str, object]) -> tuple[tuple[str, str], ...]:
    """The record's YYYY-MM-DD trainee dates whose day is not their month, as (field, value): those of day 12 or less
    read as dates with day and month swapped too, which possibly_swapped_date names where its file shows a spreadsheet
    read the dates in the other order; one of a later day counts among the column's dates (the share its text dates
    must reach), and against a swap, which writes none (review235 F2). Asked of every record: a few string
    comparisons each."""
    found: tuple[tuple[str, str], ...] = ()
    for field in DATE_FIELDS:
        value = data.get(field)
        if (
            type(value) is str
            and len(value) == 10
            and value[4] == "-"
            and value[7] == "-"
            and "01" <= (day := value[8:]) <= "31"
            and "01" <= (month := value[5:7]) <= "12"
            and day != month
            and value[:4].isdigit()
            and day.isdigit()
            and month.isdigit()
        ):
            found += ((field, value),)
    return found


class _Column:
    """What one date column of one input shows: its YYYY-MM-DD dates that could be swapped (how many, the first few
    with their places), and its text dates by the order they can be read in (rules.written_order)."""

    __slots__ = ("late", "orders", "shown", "swappable", "text")

    def __init__(self) -> None:
        self.swappable = 0
        self.late = 0  # YYYY-MM-DD dates of a day above 12: counted in the column's dates, never swapped
        self.shown: list[tuple[str, str]] = []  # (place, value)
        self.orders: Counter[str] = Counter()
        self.text: dict[str, str] = {}  # order -> the first text date only it reads


class ResavedWatch:
    """The records of each input with a value a spreadsheet changed, and what it changed: `issues()` names each input
    most of whose records have one."""

    def __init__(self) -> None:
        self._records: Counter[str] = Counter()  # input -> records with such a value
        self._kinds: dict[str, set[str]] = {}
        # (input, date field) -> what it shows (review224 F1); swapped() reads it with get, adding no column
        self._columns: defaultdict[tuple[str, str], _Column] = defaultdict(_Column)

    def add(self, record: TraineeRecord) -> None:
        """Note a record, every record of the batch in turn (a clean one only for its dates that could be swapped)."""
        if swappable := record.swappable:  # Checker.check's, for a CSV record only
            source = record.source
            for field, value in swappable:
                column = self._columns[source.input, field]
                if value[8:] > "12":
                    column.late += 1
                    continue
                column.swappable += 1
                if len(column.shown) < SWAPPED_SHOWN:
                    column.shown.append((source.place(), value))
        if not record.issues:
            return
        kinds = set()
        for issue in record.issues:
            if kind := changed_by_a_spreadsheet(issue):
                kinds.add(kind)
                if issue.code == "spreadsheet_date" and issue.field in DATE_FIELDS and type(issue.value) is str:
                    self._text_date(record.source.input, issue.field, issue.value)
        if kinds:
            name = record.source.input
            self._records[name] += 1
            self._kinds.setdefault(name, set()).update(kinds)

    def _text_date(self, name: str, field: str, value: str) -> None:
        """Note a date a spreadsheet wrote as text (24/08/2026), by the order it can be read in."""
        order = written_order(value)
        if order is None:
            return
        column = self._columns[name, field]
        column.orders[order] += 1
        column.text.setdefault(order, value)

    def swapped(self, inputs: Iterable[InputInfo]) -> list[Issue]:
        """possibly_swapped_date for each date column of `inputs` with YYYY-MM-DD dates that could be swapped, whose
        own text dates only one order reads show a spreadsheet read it in the other order (_shows_a_swap): that
        spreadsheet swapped day and month of each date it read (review224 F1). One hand-typed 30/01/2002 shows
        nothing, of its column or another (review228 F1); a day above 12 the user wrote in correcting a text date
        does not cancel the rest (review228 F2). A spreadsheet reads every date column of a file in one order, so a
        column that shows it tells the file's other date columns too (review235 F1): start dates, nearly all of a day
        12 or less, are all read, and left no text of their own to show it. Said about the column, after the last
        record: no record is read twice."""
        found = []
        for info in inputs:
            if info.format not in SPREADSHEET_FORMATS:
                continue
            columns = {
                field: column
                for field in DATE_FIELDS
                if (column := self._columns.get((info.path, field))) is not None and column.swappable
            }
            shown = {field: read for field, column in columns.items() if (read := _shows_a_swap(column))}
            orders = set(shown.values())
            order = orders.pop() if len(orders) == 1 else None  # the file's, when the columns that show one agree
            for field, column in columns.items():
                if field in shown:
                    found.append(_swapped(info.path, field, column, shown[field], ()))
                elif order is not None and _read_alike(column, order):
                    found.append(_swapped(info.path, field, column, order, tuple(shown)))
        return found

    def issues(self, inputs: Iterable[InputInfo]) -> list[Issue]:
        """One warning about each of `inputs` with at least AT_LEAST such records, and at least half of its records."""
        found = []
        for info in inputs:
            if info.format not in SPREADSHEET_FORMATS:  # XML: its dd/mm/yyyy dates are the SRS export's own
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


def _one_order(orders: Counter[str]) -> str | None:
    """The one order text dates can be read in, when every one of them can be read only so."""
    if orders[EITHER]:
        return None  # a text date either order reads: no spreadsheet read the column in one of them
    day_first, month_first = orders[DAY_FIRST], orders[MONTH_FIRST]
    if bool(day_first) == bool(month_first):
        return None
    return DAY_FIRST if day_first else MONTH_FIRST


def _shows_a_swap(column: _Column) -> str | None:
    """The order `column`'s own text dates show a spreadsheet did not read its dates in: at least SWAP_TEXTS of them
    only that order reads, at least 1/SWAP_SHARE of its dates, and more than its YYYY-MM-DD dates of a day above 12
    (review228 F1/F2, review235 F2); None when they show none."""
    if (read := _one_order(column.orders)) is None:
        return None
    texts = column.orders[read]
    if texts < SWAP_TEXTS or texts <= column.late:
        return None
    return read if texts * SWAP_SHARE >= column.swappable + column.late + texts else None


def _read_alike(column: _Column, order: str) -> bool:
    """Whether `column`, beside a column of its file that shows a spreadsheet did not read dates in `order`, may have
    been read by that spreadsheet too (review235 F1): it has no text date the spreadsheet would have read (one either
    order reads) or that shows the other order, and fewer YYYY-MM-DD dates of a day above 12, which no swap writes,
    than of a day 12 or less (a column written right has more: days 13 to 31 are 19 of a month's 31; a swapped one
    has only the user's corrections of its text dates)."""
    other = MONTH_FIRST if order == DAY_FIRST else DAY_FIRST
    return not column.orders[EITHER] and not column.orders[other] and column.late < column.swappable


def _swapped(name: str, field: str, column: _Column, order: str, shown: tuple[str, ...]) -> Issue:
    """The possibly_swapped_date warning about `field` of input `name`: its own text dates only `order` reads show the
    swap, or, when `shown` names them, those of the file's other date columns `shown` (review235 F1)."""
    value = column.shown[0][1]
    named = "; ".join(f"{place}: {date}" for place, date in column.shown)
    more = f"; and {column.swappable - len(column.shown):,} more" if column.swappable > len(column.shown) else ""
    other = "month/day/year" if order == DAY_FIRST else "day/month/year"
    dates = "date" if column.swappable == 1 else "dates"
    if shown:
        columns = " and ".join(shown) if len(shown) < 3 else f"{', '.join(shown[:-1])} and {shown[-1]}"
        evidence = (
            f"the file's {columns} {'has' if len(shown) == 1 else 'have'} dates a spreadsheet left as text, each "
            f"readable only as {order}, as a spreadsheet reading dates as {other} leaves them, and that spreadsheet "
            f"read every date column of the file as {other}, with day and month swapped in each date it could read"
        )
        too = " too"
    else:
        texts = column.orders[order]
        evidence = (
            f"the column also has {texts:,} dates a spreadsheet left as text, each readable only as {order} "
            f"('{column.text[order]}'), as a spreadsheet reading dates as {other} leaves them, and such a spreadsheet "
            f"reads every date it can as {other}, with day and month swapped"
        )
        too = ""
    return make_issue(
        input=name,
        field=field,
        value=value,
        code=SWAPPED,
        severity=Severity.WARNING,
        message=(
            f"{field}: {column.swappable:,} of this file's YYYY-MM-DD {field} {dates} of a day 12 or less may have "
            f"day and month swapped{too} ({named}{more}): {evidence}: check "
            f"{'it' if column.swappable == 1 else 'them'} against the SRS ({value} may be "
            f"{value[:4]}-{value[8:]}-{value[5:7]})"
        ),
    )
