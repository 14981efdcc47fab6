"""Ruby's `Date.iso8601`, which decides whether Register takes a trainee's date (register-api.md §3.4).

Register's check is `DateValidatable#valid_date_string?`: `Date.iso8601(date.to_s)`, rescued to false. Besides
`YYYY-MM-DD` that reads the basic (`19950505`), ordinal (`1995-125`) and week (`1995-W18-5`) forms, two-digit years
(`95-05-05` is 1995), a time after the date (`1995-05-05T10:00Z`), white space around it, and reduced forms Ruby
completes (`1995-05` is 1 May, `--05-05` is 5 May this year). This is a port of the date gem's `date__iso8601`
(ext/date/date_parse.c: the extended and basic date-time patterns and their callbacks; a time alone is no date) and of
`d_new_by_frags` with `rt_complete_frags` (ext/date/date_core.c). It gives the day Ruby 3.1.2 (date 3.2.2) gives for
100,000 generated strings, for every day Python can hold in the Gregorian calendar: Ruby also reads years past 9999
and before 1 (which are None here) and counts days before 15 October 1582 as Julian (a year-1500 leap day is a day to
it, not here). No trainee has such a date.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

# Ruby's \s (ASCII white space), \d ([0-9]) and a case-insensitive T, W and Z (REGCOMP_I).
_SPACE = "[ \t\n\v\f\r]*"
_EXTENDED = re.compile(
    _SPACE + "(?:([-+]?[0-9]{2,}|-)-([0-9]{2})?(?:-([0-9]{2}))?"
    "|([-+]?[0-9]{2,})?-([0-9]{3})"
    "|([0-9]{4}|[0-9]{2})?-w([0-9]{2})-([0-9])"
    "|-w-([0-9]))"
    "(?:t([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[,.]([0-9]+))?)?(z|[-+][0-9]{2}(?::?[0-9]{2})?)?)?" + _SPACE,
    re.IGNORECASE | re.ASCII,
)
_BASIC = re.compile(
    _SPACE + "(?:([-+]?(?:[0-9]{4}|[0-9]{2})|--)([0-9]{2}|-)([0-9]{2})"
    "|([-+]?(?:[0-9]{4}|[0-9]{2}))([0-9]{3})"
    "|-([0-9]{3})"
    "|([0-9]{4}|[0-9]{2})w([0-9]{2})([0-9])"
    "|-w([0-9]{2})([0-9])"
    "|-w-([0-9]))"
    "(?:t?([0-9]{2})([0-9]{2})(?:([0-9]{2})(?:[,.]([0-9]+))?)?(z|[-+][0-9]{2}(?:[0-9]{2})?)?)?" + _SPACE,
    re.IGNORECASE | re.ASCII,
)
# A time alone (iso8601_ext_time, iso8601_bas_time): a zone only after the seconds. DateTime completes it with today's
# date; a Date takes no day from it.
_EXTENDED_TIME = re.compile(
    _SPACE + "([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[,.]([0-9]+))?(z|[-+][0-9]{2}(?::?[0-9]{2})?)?)?" + _SPACE,
    re.IGNORECASE | re.ASCII,
)
_BASIC_TIME = re.compile(
    _SPACE + "([0-9]{2})([0-9]{2})(?:([0-9]{2})(?:[,.]([0-9]+))?(z|[-+][0-9]{2}(?:[0-9]{2})?)?)?" + _SPACE,
    re.IGNORECASE | re.ASCII,
)
_LIMIT = 128  # Date.iso8601's `limit:` (date 3.2.1 on): a longer string is an ArgumentError
_TIME = ("hour", "min", "sec")
# rt_complete_frags' table: the pattern with the most fields present (the first of equals) is completed.
_PATTERNS: tuple[tuple[str | None, tuple[str, ...]], ...] = (
    ("time", _TIME),
    (None, ("jd",)),
    ("ordinal", ("year", "yday", *_TIME)),
    ("civil", ("year", "mon", "mday", *_TIME)),
    ("commercial", ("cwyear", "cweek", "cwday", *_TIME)),
    ("wday", ("wday", *_TIME)),
    ("wnum0", ("year", "wnum0", "wday", *_TIME)),
    ("wnum1", ("year", "wnum1", "wday", *_TIME)),
    (None, ("cwyear", "cweek", "wday", *_TIME)),
    (None, ("year", "wnum0", "cwday", *_TIME)),
    (None, ("year", "wnum1", "cwday", *_TIME)),
)


@lru_cache(maxsize=4096)
def ruby_iso8601(value: str, today: date) -> date | None:
    """The day `Date.iso8601(value)` gives, or None where it raises; `today` is Ruby's `Date.today`, which completes
    the reduced forms."""
    fields = _fields_of(value)
    return None if fields is None else _day_of(fields, today)


def _fields_of(value: str) -> dict[str, int] | None:
    """`date__iso8601`'s fields of `value`, or None: too long, or no date (a time alone, 10:00, gives no day to a
    Date; nothing else matches)."""
    if len(value) > _LIMIT:
        return None
    if match := _EXTENDED.fullmatch(value):
        return _extended_fields(match)
    if match := _BASIC.fullmatch(value):
        return _basic_fields(match)
    return None


def _time_alone_fields(value: str) -> dict[str, int] | None:
    """`date__iso8601`'s fields of a time alone (no date matched first), or None."""
    if len(value) > _LIMIT or _fields_of(value) is not None:
        return None
    match = _EXTENDED_TIME.fullmatch(value) or _BASIC_TIME.fullmatch(value)
    if match is None:
        return None
    hour, minute, second, _fraction, zone = match.groups()
    fields: dict[str, int] = {}
    _time(fields, hour, minute, second)
    _zone(fields, zone)
    return fields


def ruby_time_alone_day(value: str, today: date) -> date | None:
    """The day (in the time's own offset) DateTime.iso8601 gives a time alone it reads (`2025` is 20:25, `10:30`,
    `103000Z`): `today`, or the next day for 24:00; None for anything else, Date.iso8601 reading no day from it."""
    fields = _time_alone_fields(value)
    return None if fields is None else _checked_day(today, fields, civil=False)


def _zone(fields: dict[str, int], zone: str | None) -> None:
    """date_zone_to_diff for the zones `date__iso8601` matches: Z, ±hh, ±hhmm, ±hh:mm; DateTime ignores an offset
    beyond a day (+25:00 is +00:00)."""
    if zone is None or zone in ("z", "Z"):
        return
    digits = zone[1:].replace(":", "")
    offset = int(digits[:2]) * 3600 + int(digits[2:] or 0) * 60
    if offset <= 86400:
        fields["offset"] = -offset if zone[0] == "-" else offset


@lru_cache(maxsize=4096)
def ruby_datetime_instant(value: str, today: date) -> datetime | None:
    """The instant (in UTC) `DateTime.iso8601(value)` gives, or None where it raises: a date as `ruby_datetime_iso8601`
    reads it, or a time alone on `today` (Ruby's `Date.today`), at the time in its offset (none is UTC). Ruby compares
    a DateTime with a Date by instant, the Date at 00:00 UTC (withdrawal_date against itt_start_date, §3.9)."""
    fields = _fields_of(value)
    if fields is not None:
        day = _datetime_day(fields, today)
        zone = _zone_of(value)
    elif (fields := _time_alone_fields(value)) is not None:
        day = _checked_day(today, fields, civil=False)
        zone = fields
    else:
        return None
    if day is None:
        return None
    moment = datetime.combine(
        day, time(fields.get("hour", 0) % 24, fields.get("min", 0), min(fields.get("sec", 0), 59))
    )
    return moment.replace(tzinfo=UTC) - timedelta(seconds=zone.get("offset", 0))


def _zone_of(value: str) -> dict[str, int]:
    """The offset field of a date and time (the zone group of whichever pattern matched)."""
    fields: dict[str, int] = {}
    if match := _EXTENDED.fullmatch(value):
        _zone(fields, match.group(14))
    elif match := _BASIC.fullmatch(value):
        _zone(fields, match.group(17))
    return fields


@lru_cache(maxsize=4096)
def ruby_datetime_iso8601(value: str, today: date) -> date | None:
    """The day (in the time's own offset) `DateTime.iso8601(value)` gives, or None where it raises: the date as
    `ruby_iso8601` reads it, and the time checked as `dt_new_by_frags` checks it (register-api.md §3.9: Register reads
    withdrawal_date so). A second past 59 is 59 (only 60 beside a full calendar date, any past 59 beside another form:
    rt_complete_frags); then `c_valid_time_p`: hours 0-24, 24 only as 24:00:00, which is the next day; minutes and
    seconds 0-59. A time alone, which DateTime completes with today's date, is None here as for `ruby_iso8601`."""
    fields = _fields_of(value)
    return None if fields is None else _datetime_day(fields, today)


def _datetime_day(fields: dict[str, int], today: date) -> date | None:
    """The day of a date and time's fields, its time checked (None where DateTime raises), 24:00 the next day."""
    civil = "yday" not in fields and all(key in fields for key in ("year", "mon", "mday"))
    day = _day_of(fields, today)
    return None if day is None else _checked_day(day, fields, civil=civil)


def _checked_day(day: date, fields: dict[str, int], *, civil: bool) -> date | None:
    """`day` with the time of `fields` checked as dt_new_by_frags checks it: a second past 59 is 59 (only 60 beside a
    full calendar date, any past 59 otherwise: rt_complete_frags), then hours 0-24 (24 only as 24:00:00, the next
    day), minutes and seconds 0-59 (c_valid_time_p); None where it raises."""
    hour, minute, second = fields.get("hour", 0), fields.get("min", 0), fields.get("sec", 0)
    if second == 60 or (second > 59 and not civil):
        second = 59
    if hour > 24 or minute > 59 or second > 59 or (hour == 24 and (minute or second)):
        return None
    return day + timedelta(days=1) if hour == 24 else day


def _year(text: str) -> int:
    """A year as written; fewer than four characters (sign included) is completed: 69-99 to 19xx, the rest to
    20xx (comp_year69)."""
    year = int(text)
    if len(text) < 4:
        year += 1900 if year >= 69 else 2000
    return year


def _time(fields: dict[str, int], hour: str | None, minute: str | None, second: str | None) -> None:
    if hour is not None and minute is not None:
        fields["hour"], fields["min"] = int(hour), int(minute)
        if second is not None:
            fields["sec"] = int(second)


def _extended_fields(match: re.Match[str]) -> dict[str, int]:
    """iso8601_ext_datetime_cb."""
    g = match.groups()
    fields: dict[str, int] = {}
    if g[0] is not None:
        if g[2] is not None:
            fields["mday"] = int(g[2])
        if g[0] != "-":
            fields["year"] = _year(g[0])
        if g[1] is None:
            if g[0] != "-":
                return fields  # `return 0`: the callback stops, what it set so far stays
        else:
            fields["mon"] = int(g[1])
    elif g[4] is not None:
        fields["yday"] = int(g[4])
        if g[3] is not None:
            fields["year"] = _year(g[3])
    elif g[7] is not None:
        fields["cweek"], fields["cwday"] = int(g[6]), int(g[7])
        if g[5] is not None:
            fields["cwyear"] = _year(g[5])
    elif g[8] is not None:
        fields["cwday"] = int(g[8])
    _time(fields, g[9], g[10], g[11])
    return fields


def _basic_fields(match: re.Match[str]) -> dict[str, int]:
    """iso8601_bas_datetime_cb."""
    g = match.groups()
    fields: dict[str, int] = {}
    if g[2] is not None:
        fields["mday"] = int(g[2])
        if g[0] != "--":
            fields["year"] = _year(g[0])
        if g[1] == "-":
            if g[0] != "--":
                return fields  # as above
        else:
            fields["mon"] = int(g[1])
    elif g[4] is not None:
        fields["yday"] = int(g[4])
        fields["year"] = _year(g[3])
    elif g[5] is not None:
        fields["yday"] = int(g[5])
    elif g[8] is not None:
        fields["cweek"], fields["cwday"] = int(g[7]), int(g[8])
        fields["cwyear"] = _year(g[6])
    elif g[10] is not None:
        fields["cweek"], fields["cwday"] = int(g[9]), int(g[10])
    elif g[11] is not None:
        fields["cwday"] = int(g[11])
    _time(fields, g[12], g[13], g[14])
    return fields


def _day_of(fields: dict[str, int], today: date) -> date | None:
    """d_new_by_frags for a Date: a full calendar date as it is, else completed (rt_complete_frags) and checked as an
    ordinal, then a calendar, then a week date (rt__valid_date_frags_p). The time is read and left out."""
    if "yday" not in fields and all(key in fields for key in ("year", "mon", "mday")):
        return _calendar(fields["year"], fields["mon"], fields["mday"])
    _complete(fields, today)
    if "year" in fields and "yday" in fields and (day := _ordinal(fields["year"], fields["yday"])):
        return day
    if all(key in fields for key in ("year", "mon", "mday")) and (
        day := _calendar(fields["year"], fields["mon"], fields["mday"])
    ):
        return day
    if all(key in fields for key in ("cwyear", "cweek", "cwday")):
        return _week(fields["cwyear"], fields["cweek"], fields["cwday"])
    return None


def _complete(fields: dict[str, int], today: date) -> None:
    """rt_complete_frags for the fields `date__iso8601` sets: the leading fields left out are today's, the rest the
    first (`1995-125` needs none; `--05-05` takes this year; `-W-5` this week)."""
    kind: str | None = None
    keys: tuple[str, ...] = ()
    present = 0
    for name, pattern in _PATTERNS:
        count = sum(key in fields for key in pattern)
        if count > present:
            kind, keys, present = name, pattern, count
    if kind is None or present == len(keys):
        return
    if kind == "ordinal":
        fields.setdefault("year", today.year)
        fields.setdefault("yday", 1)
    elif kind == "civil":
        _leading_from_today(fields, ("year", "mon", "mday"), (today.year, today.month, today.day))
        fields.setdefault("mon", 1)
        fields.setdefault("mday", 1)
    elif kind == "commercial":
        week = today.isocalendar()
        _leading_from_today(fields, ("cwyear", "cweek", "cwday"), (week.year, week.week, week.weekday))
        fields.setdefault("cweek", 1)
        fields.setdefault("cwday", 1)


def _leading_from_today(fields: dict[str, int], keys: tuple[str, ...], todays: tuple[int, ...]) -> None:
    for key, value in zip(keys, todays, strict=True):
        if key in fields:
            return
        fields[key] = value


def _calendar(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except (ValueError, OverflowError):  # 2023-02-30, month 13, or a year Python cannot hold
        return None


def _ordinal(year: int, day_of_year: int) -> date | None:
    first = _calendar(year, 1, 1)
    if first is None or not 1 <= day_of_year <= (366 if _calendar(year, 2, 29) else 365):
        return None
    return first + timedelta(days=day_of_year - 1)


def _week(year: int, week: int, weekday: int) -> date | None:
    try:
        return date.fromisocalendar(year, week, weekday)
    except (ValueError, OverflowError):  # week 54, weekday 0 or 8, or a year Python cannot hold
        return None
