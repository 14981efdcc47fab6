"""Values derived once per record and shared by the rules: parsed dates, start cycle, route group."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from typing import Any

from register_batch.errors import ConfigError
from register_batch.reference import ReferenceData
from register_batch.validation.ruby_date import ruby_iso8601

# Route groups (register-api.md §3.3, config/initializers/training_routes.rb).
EARLY_YEARS_ROUTES = frozenset({"17", "18", "19", "20"})
UNDERGRADUATE_ROUTES = frozenset({"09", "11", "14", "18"})
NO_STUDY_MODE_ROUTES = frozenset({"16", "17"})
IQTS_ROUTE = "15"
REFUSED_ROUTES = frozenset({"02"})  # listed in training_route.yml but refused (R9)
PRIMARY_AGE_RANGES = frozenset({"13909", "13911", "13912", "13913", "13914", "13915"})
EARLY_YEARS_AGE_RANGE = "13920"
PRIMARY_SUBJECT = "100511"
EARLY_YEARS_SUBJECT = "100510"
# §3.8 magic URN labels (config/locales/en.yml `magic_urn`): the name Register gives a nested placement with one.
MAGIC_URN_NAMES = {
    "900000": "Placement outside England and Wales",
    "900010": "Not applicable or not available",
    "900020": "Establishment does not have a URN",
    "900030": "Not available",
}
MAGIC_URNS = frozenset(MAGIC_URN_NAMES)


_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


# Ruby's String#to_i: white space, a sign, then digits (an underscore between two). Ruby's \s and digits are ASCII
# only: '２０１２' is 0 to Register, not a year, and a no-break space ends the number's search.
_RUBY_INTEGER = re.compile(r"[ \t\n\v\f\r]*([+-]?[0-9]+(?:_[0-9]+)*)")


def ruby_to_i(text: str) -> int:
    """Ruby's `String#to_i`, as Register reads a graduation year or a listing's `page` (§2.3, §3.4): the leading
    integer, 0 when there is none."""
    match = _RUBY_INTEGER.match(text)
    if not match:
        return 0
    digits = match.group(1).replace("_", "")
    if len(digits) <= _INT_DIGITS:
        return int(digits)
    # Python refuses to read a number of more digits than sys.get_int_max_str_digits() (4,300): Ruby reads any.
    sign = -1 if digits[0] == "-" else 1
    return sign * functools.reduce(lambda n, part: n * 10 ** len(part) + int(part), _pieces(digits.lstrip("+-")), 0)


_INT_DIGITS = 4000  # well within Python's limit on reading a number


def _pieces(digits: str) -> list[str]:
    return [digits[i : i + _INT_DIGITS] for i in range(0, len(digits), _INT_DIGITS)]


def parse_date(value: Any) -> date | None:
    """A `YYYY-MM-DD` date that exists, else None.

    Only that form: hesa-formats.md §1.4 (every date tag is YYYY-MM-DD) and §5 item 30. Python's
    `date.fromisoformat` also takes the basic (`19851219`) and week (`2026-W36-4`) forms, which Register reads too
    (`register_date`) but returns as `YYYY-MM-DD` (§1.4): sent as written, they would show as drift. A trainee's
    dates are judged as Register reads them (`register_date`); `date_not_yyyy_mm_dd` refuses the other forms.
    """
    return _iso_date(value) if isinstance(value, str) else None


def register_date(value: Any, today: date) -> date | None:
    """A trainee's date as Register reads it: `Date.iso8601` (register-api.md §3.4, `valid_date_string?`), which also
    takes `19950505`, `1995-125` or `1995-W18-5` (ruby_date.py); None where Register answers "is invalid". `today`
    completes the reduced forms (`--05-05`), as Ruby's `Date.today` does."""
    if not isinstance(value, str):
        return None
    found = _iso_date(value)
    return found if found is not None else ruby_iso8601(value, today)


@lru_cache(maxsize=8192)
def _iso_date(value: str) -> date | None:
    # Extracts repeat the same few hundred dates (start dates, births per day): remembered, form check included.
    if not _ISO_DAY.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:  # 2023-02-30
        return None


def as_of_or_today(as_of: date | None) -> date:
    """The date a run treats as today: `as_of` if given (a `date`: a string or anything else is a ConfigError, not an
    AttributeError from deep inside a rule), else today as Register counts it: in UTC, its app time zone
    (register-api.md §1.4), not this machine's, so that a nightly run in London after midnight BST does not judge a
    date of "today" valid that Register, still on the day before, refuses as in the future."""
    if as_of is None:
        return datetime.now(UTC).date()
    if not isinstance(as_of, date):
        raise ConfigError(f"as_of must be a date, such as datetime.date(2026, 11, 28), not {as_of!r}")
    if isinstance(as_of, datetime):  # a date too, to a type checker; compared with a date, a TypeError in every rule
        return as_of.date()
    return as_of


@cache
def years_before(day: date, years: int) -> date:
    """`years.ago` for a date (29 February falls back to 28 February)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def cycle_of(day: date) -> int:
    """Academic cycle start year: 1 August to 31 July (glossary)."""
    return day.year if day.month >= 8 else day.year - 1


def cycle_label(start_year: int) -> str:
    return f"{start_year} to {start_year + 1}"


@dataclass(slots=True)
class Facts:
    """What the rules need to know about a record beyond its raw values."""

    as_of: date
    reference: ReferenceData
    route: str | None
    route_known: bool
    early_years: bool
    itt_start: date | None
    itt_end: date | None
    trainee_start: date | None
    born: date | None
    start_cycle: int
    # Every text value of the record and its items is ASCII (`all_ascii`): what two encoding rules ask first.
    all_ascii: bool
    # ... and printable, without a backslash, U+FFFD, `#`, `?` or `Err:`, none starting with `=` (`plain_text`): the
    # text rules' common case.
    plain_text: bool = False
    trainee_start_given: bool = True  # a blank trainee_start_date is itt_start_date to Register (§3.4)
    # The format of the input the record was read from (None: not known, a request body): a hint that says to export
    # a value again from the SRS says, for Register's CSV template, how to correct it in a spreadsheet too
    # (wording.correct_in; review172 F2).
    input_format: str | None = None
    # The trigger of the record's withdrawal as given (None: no withdrawal, or none given): code_case says whether a
    # reason in another case is one that trigger takes (review172 F4).
    withdrawal_trigger: str | None = None
    # The day of the record's withdrawal as Register keeps it (None: no withdrawal, or no date): a deferral dated
    # after it is never sent, which defer_date_after_withdrawal says (review214 F2, review222 F1).
    withdrawal_on: date | None = None
    # The one order, day or month first, that the record's dates written as a spreadsheet writes them can only be read
    # in (rules.written_order; None: none such, or both): set only for a record with issues, before the follow-up
    # rules, so that spreadsheet_date's hint gives first the reading of an ambiguous one that its row shows (review224
    # F1).
    date_order: str | None = None

    @property
    def trainee_start_checked(self) -> date | None:
        """trainee_start_date as Register checks it: a blank one is set to itt_start_date first (§3.4)."""
        return self.trainee_start if self.trainee_start_given else self.itt_start

    @classmethod
    def of(cls, data: dict[str, Any], as_of: date, reference: ReferenceData) -> Facts:
        route = data.get("training_route")
        # The dates as Register reads them (§3.4): the rules then judge what Register judges.
        itt_start = register_date(data.get("itt_start_date"), as_of)
        trainee_start = register_date(data.get("trainee_start_date"), as_of)
        # Start cycle: trainee_start_date || itt_start_date, else the cycle of now + 1 month (§3.3). Ruby's `||` on the
        # values as sent (academic_cyclable.rb): a trainee_start_date given but not a date is no date, and the cycle is
        # now + 1 month's, not itt_start_date's (review113 F6); a blank one is itt_start_date (§3.4).
        anchor = trainee_start if data.get("trainee_start_date") is not None else itt_start
        ascii_text, plain = text_facts(data)
        start_cycle = cycle_of(anchor) if anchor else cycle_of(as_of + timedelta(days=31))
        return cls(
            as_of=as_of,
            reference=reference,
            route=route,
            route_known=route is not None and route in reference.codes("training_route"),
            early_years=route in EARLY_YEARS_ROUTES,
            itt_start=itt_start,
            itt_end=register_date(data.get("itt_end_date"), as_of),
            trainee_start=trainee_start,
            born=register_date(data.get("date_of_birth"), as_of),
            start_cycle=start_cycle,
            trainee_start_given=data.get("trainee_start_date") is not None,
            all_ascii=ascii_text,
            plain_text=plain,
        )


def text_facts(data: dict[str, Any]) -> tuple[bool, bool]:
    """(`all_ascii`, `plain_text`) of a record: every text value of it and its items ASCII; and printable, without a
    backslash, U+FFFD, `#`, `?` or `Err:`, none starting with `=`, which the control_character, replacement_character,
    spreadsheet_formula, spreadsheet_error and lost_letter rules look for. Asked once a record, of all its text at
    once: one scan of the joined text in C per sign, not a loop over the values per rule (ASCII text has no U+FFFD:
    not looked for there)."""
    texts: list[str] = []
    for value in data.values():  # one pass: a record's degrees and placements are lists among its texts
        if type(value) is str:
            texts.append(value)
        elif type(value) is list:
            texts += [v for item in value if type(item) is dict for v in item.values() if type(v) is str]
    joined = "".join(texts)
    ascii_text = joined.isascii()
    plain = (
        joined.isprintable()
        and "\\" not in joined
        and (ascii_text or "\ufffd" not in joined)
        and ("=" not in joined or all(t[:1] != "=" for t in texts))
        and "#" not in joined
        and "?" not in joined
        and "Err:" not in joined
    )
    return ascii_text, plain
