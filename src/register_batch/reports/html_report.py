"""report.html: one self-contained page (inline CSS, JS and SVG; no network) for people to read.

The page is server-rendered in full: every count, chart and table row is plain HTML, so the page is useful without
JavaScript, and user data has a single escaping path, markupsafe's `escape`: Jinja's autoescaping applies it in the
template, and the tables' rows (`issue_rows`, `record_row`, made here for speed) call it on each value. The
inline script only filters and sorts rows that are already there (it never builds HTML from data). A
Content-Security-Policy pins the inline style and script by hash and forbids every fetch, so even a
value that slipped through escaping could neither run nor phone home.

Counts and charts always cover every issue; the tables embed at most `HTML_ISSUE_LIMIT` rows (each record's
first error before its other errors and the warnings; sync records with problems, then the writes, before the
invalid and the quiet ones) and say so in numbers: issues.csv and report.json hold everything.
"""

from __future__ import annotations

import base64
import hashlib
import heapq
import re
from array import array
from collections import Counter, namedtuple
from collections.abc import Collection, Generator, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache, lru_cache
from importlib.resources import files
from itertools import islice
from pathlib import PurePath
from types import SimpleNamespace
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from jinja2 import Environment, PackageLoader, Template, select_autoescape
from markupsafe import Markup, escape

from register_batch import reports, wording
from register_batch.model import not_in_extract_group
from register_batch.progress import real_run_words
from register_batch.readers.layouts import TAG_ORDER
from register_batch.reports import field_key, template_cache

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder
    from register_batch.validation.catalogue import Rule

CHART_TOP = 10

# Not strftime("%B"): the page must not depend on the machine's locale.
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]
TITLES = {"validate": "Validation report", "convert": "Conversion check", "sync": "Sync report"}

# (key in extra["sync"]["actions"], card label, label on a dry run, tone when non-zero)
ACTIONS = (
    ("create", "Create", "To create", "info"),
    ("update", "Update", "To update", "info"),
    ("unchanged", "Unchanged", "Unchanged", "neutral"),
    ("withdraw", "Withdraw", "To withdraw", "info"),
    ("defer", "Defer", "To defer", "info"),
    ("conflict", "Conflict", "Conflict", "warn"),
    ("blocked", "Blocked", "Blocked", "warn"),
    ("invalid", "Invalid, not sent", "Invalid, not sent", "bad"),
)
# Cards shown only when a record has the action: a run stopped before it had listed Register planned nothing.
RARE_ACTIONS = {
    "unplanned": ("unplanned", "Not planned (stopped first)", "Not planned (stopped first)", "warn"),
    # A correction to a trainee recommended for award, awarded or withdrawn in Register: not sent, a warning (review201
    # F1, review206 F1)
    "held": ("held", "Held (recommended, awarded or withdrawn)", "Held (recommended, awarded or withdrawn)", "warn"),
}
OUTCOMES = (
    ("done", "Done", "good"),
    ("failed", "Failed", "bad"),
    ("unknown", "Unknown", "bad"),
    ("skipped", "Skipped", "neutral"),
    ("planned", "Planned", "neutral"),
    ("pending", "Not reached (pending)", "warn"),  # an interrupted run stopped before these; results.csv says pending
)
# Outcomes shown only when a record has them: Register's answer to a write made the record a conflict (a 409 naming
# a trainee that is not surely this one) or blocked (the trainee's state refuses the change). Nothing was written,
# but for a record this run created (action create) whose withdrawal or deferral Register then refused, or updated
# (action update; its issue names what went through) before Register refused its withdrawal.
RARE_OUTCOMES = {
    "conflict": ("conflict", "Conflict, not written", "warn"),
    "blocked": ("blocked", "Blocked by its state", "warn"),
}
HELD_BACK = ("conflict", "blocked")
# A dry run's words for an outcome: a record it gives `done`, as a real run would, has nothing to send (review114 F6).
DRY_RUN_OUTCOMES = {"done": "Nothing to send"}
# The request counts of report.json's `sync.requests`, as the page words them (its key names are for scripts).
REQUEST_WORDS = {
    "total": "{} in all",
    "retries": "{} retried",
    "throttled": "{} throttled by Register (429)",
    "per_trainee": "{} per record",  # as the summary line says
    "seconds": "{} seconds",
    "per_second": "{} per second",
}
# Figures of report.json's `sync.requests` that the page rounds for people ("114.6 seconds", not 114.566; review54 F10):
# to one decimal, or two significant figures when smaller ("0.012 seconds", not "0.0 seconds"; review118 F2).
_ROUNDED = frozenset({"seconds", "per_second"})


def _request_figure(key: str, value: float) -> str:
    """One figure of report.json's `sync.requests` as the page shows it: a count grouped (1,540), `per_trainee` in
    report.json's own digits, never as 5e-05 (review118 F2), `_ROUNDED` rounded."""
    if key in _ROUNDED:
        value = wording.significant(value, decimals=1, figures=2)
    return f"{value:,}" if isinstance(value, int) else wording.plain(value, grouped=True)


# The trainees not in the extract that this state dir synced before, by what it means (report.json's
# sync.not_in_extract_synced, runner.NOT_IN_EXTRACT_GROUPS); the order report.html names them in.
_GROUP_RANK = {"not_sent": 0, "course_ended": 1, "deferred": 1, "finished": 2}


def _not_in_extract_groups(said: Any, outside: list[dict[str, Any]]) -> dict[str, Any]:
    """report.json's counts of them (`said`); a report of a version without them calls every one synced before one
    the SRS stopped sending, as that version did."""
    if isinstance(said, dict):
        return {**dict.fromkeys(_GROUP_RANK, 0), **said}
    return {
        "not_sent": sum(1 for t in outside if t.get("last_synced")),
        "finished": 0,
        "course_ended": 0,
        "deferred": 0,
    }


def _not_in_extract_rank(trainee: dict[str, Any], groups: dict[str, Any]) -> int:
    """Synced before and still current first (the export may have lost them), then those whose course ended, the
    finished ones, and those never synced by this state dir."""
    if not trainee.get("last_synced"):
        return 3
    as_of = groups.get("as_of")
    if not isinstance(as_of, str) or (day := _iso_day(as_of)) is None:
        return 0
    return _GROUP_RANK.get(not_in_extract_group(trainee, day) or "not_sent", 0)


def _iso_day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


# Sync records with something to look at come first when the table cannot hold every record.
NOT_IN_EXTRACT_NAMED = 20  # trainees named on the page; not_in_extract.csv lists them all
# The writes (planned, or done) come before the invalid records, whose errors the Issues table lists: a dry run's page
# over the limit held only invalid records, none of the trainees the run would create (review54 F2). The invalid
# records keep a tenth of the rows (INVALID_SHARE) all the same, so that the Action filter's "invalid" shows some.
# A record with warnings (Register's state differs, a held withdrawal; or only its validation's) comes next, before
# the unchanged. But a record with a sync warning the summary box sends people to Records for (_SEE_RECORDS: written by
# a killed run, withdrawn in Register...) comes before the writes: a page after a kill listed 4,481 creates and none
# of the 1,025 unchanged records the summary named (review134 F6).
_OUTCOME_RANK = {"failed": 0, "unknown": 1}
_ACTION_RANK = {
    "conflict": 2,
    "blocked": 3,
    "held": 4,
    **dict.fromkeys(("create", "update", "withdraw", "defer"), 5),
    "invalid": 6,
}
_NAMED_RANK = 4
_WARNED_RANK = 7
INVALID_SHARE = 10  # a tenth of the rows, when the page cannot list every record

_ENV = Environment(
    loader=PackageLoader("register_batch.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
_ENV.filters["n"] = lambda value: f"{value or 0:,}"


def counted(count: int | None, noun: str) -> str:
    """`1 record`, `1,234 records`: the CLI's wording with thousands separators."""
    return wording.counted(count, noun, grouped=True)


_ENV.filters["counted"] = counted

# Characters that reorder or hide text around them (bidi embeddings, overrides, isolates, marks) and other
# invisible format characters: a value holding one would display as something it is not ("\u202e71" shows as
# "17" and flips the message after it). The page names them instead; issues.csv and report.json keep them. So are
# control characters (control_character's values): a browser shows a NUL as U+FFFD, a tab or line break as a space;
# and the line and paragraph separators (U+2028, U+2029), which a browser shows as a space too (review106 F2).
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")
SHOWN_MAX = reports.SHOWN_CHARS  # characters of a user's value shown in a cell, as issues.csv and report.json show it
# Combining marks (accents drawn over the letter before them) in a run longer than any script writes: the first few are
# kept, the rest counted. Vietnamese stacks two on a letter; a run of hundreds is damage or mischief.
_MARKS_KEPT = 4
_STACKED = re.compile(r"[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{5,}")


def visible(value: object) -> str:
    """A user's text as the page shows it, whole: invisible characters named, a long run of combining marks cut
    (stacked, they are drawn over the rows above: review87 F3)."""
    text = _INVISIBLE.sub(lambda m: f"<U+{ord(m.group()):04X}>", str(value))
    if not text.isascii():
        text = _STACKED.sub(
            lambda m: f"{m.group()[:_MARKS_KEPT]}<+{len(m.group()) - _MARKS_KEPT} combining marks>", text
        )
    return text


def shown(value: object, limit: int = SHOWN_MAX) -> str:
    """A user's text as the page shows it (`visible`), cut short when very long (not between a letter and its
    accents: reports.cut_at)."""
    text = visible(value)
    if len(text) > limit:
        return f"{text[: reports.cut_at(text, limit)]}… ({len(str(value)):,} characters in all)"
    return text


def shown_value(value: object) -> str:
    """An issue's value as the page shows it: cut as issues.csv and report.json cut it (reports.shown_value), then
    `visible`, so that the page's value, its quote in the message and the files' read alike (review189 F3)."""
    return visible(reports.shown_value(str(value)))


MESSAGE_CHARS = 500  # characters of an issue's message in our words the page shows; issues.csv and report.json 4,000


def shown_message(message: str, value: object) -> str:
    """An issue's message as the page shows it: its quotes of an over-long value cut as the files cut them
    (reports.shown_message); then, past MESSAGE_CHARS characters besides those quotes, the message cut, but never
    inside a quote of the value, whose own cut `'xxx… (3,003 characters)'` is kept whole (review189 F3)."""
    text = reports.shown_message(message, value)
    if len(text) <= MESSAGE_CHARS:
        return visible(text)
    quoted: list[tuple[int, int]] = []  # where the text quotes the value (or, of a ="…" value, the text inside)
    if isinstance(value, str) and value:
        quotes = {reports.shown_value(value)}
        if inner := wording.excel_text_of(value):  # not an empty one: it would be found everywhere
            quotes.add(reports.shown_value(inner))
        for quote in quotes:
            at = text.find(quote)
            while at > -1:
                quoted.append((at, at + len(quote)))
                at = text.find(quote, at + len(quote))
    most = MESSAGE_CHARS + sum(end - start for start, end in quoted)
    if len(text) <= most:
        return visible(text)
    end = reports.cut_at(text, most)
    end = max([end, *(stop for start, stop in quoted if start < end)])
    return f"{visible(text[:end])}… ({len(text):,} characters in all)"


_ENV.filters["shown"] = shown


def short_names(paths: Iterable[str]) -> dict[str, str]:
    """Each input's name as a row shows it: its file name, or as much of its path as tells it from another input of
    that file name (`a/extract.xml`, `b/extract.xml`: review87 F1). The full path is the row's title."""
    parts = {path: PurePath(path).parts or (path,) for path in set(paths)}
    names: dict[str, str] = {}
    for path, found in parts.items():
        for depth in range(1, len(found) + 1):
            tail = found[-depth:]
            if not any(other[-depth:] == tail for key, other in parts.items() if key != path) or depth == len(found):
                names[path] = str(PurePath(*tail))
                break
    return names


# A drift entry (dry-run.md) for a degree or placement one side lacks, or the state of a trainee Register does not
# hold yet, has null on that side: "none" there, not "blank", which dry-run.md keeps for a field left empty (drift in
# the extract only for a course subject 2 or 3 beside a subject 1, which sync clears).
_WHOLE_ITEM = re.compile(r"(degrees|placements)(\[[0-9]+\])?|state")


def change_side(field: object, value: object) -> tuple[str, bool]:
    """One side of a drift entry as the page shows it, and whether that is the absence of a value (in italics):
    disabilities (a list) as their codes, a missing degree or placement as "none", an empty field as "blank"."""
    if isinstance(value, list | tuple):
        return (", ".join(str(item) for item in value), False) if value else ("none", True)
    if value is None or value == "":
        return ("none" if _WHOLE_ITEM.fullmatch(str(field)) else "blank"), True
    return str(value), False


_BACKTICKED = re.compile(r"`([^`]+)`")


def inline_code(text: str) -> Markup:
    """The catalogue's fixes quote commands and values in `backticks`: show those as code."""
    return _inline_code(str(text))


@lru_cache(maxsize=256)
def _inline_code(text: str) -> Markup:
    # A rule's fix is shown beside each of its issues: each rule's, made once.
    return _as_code(text, _BACKTICKED)


def _as_code(text: str, backticked: re.Pattern[str]) -> Markup:
    """`text` escaped, with what `backticked` finds between backticks (its one group) shown as code: the one
    converter of the Rules and fixes' fixes (inline_code) and the messages' commands (commands_as_code)."""
    return Markup("").join(
        Markup("<code>{}</code>").format(part) if i % 2 else escape(part)
        for i, part in enumerate(backticked.split(text))
    )


_ENV.filters["inline_code"] = inline_code

# A command of ours a tool-written sentence quotes in backticks (`register-batch reference pull`): shown as code, as
# Rules and fixes shows its fixes' (inline_code), not between literal graves, which some screen readers read out
# (review223). Only our commands: a user's value quoted in a message may hold backticks of its own.
_COMMAND = re.compile(r"`(register-batch [^`]+)`")


def commands_as_code(text: object) -> Markup:
    """`text` escaped, with each backticked register-batch command in it shown as code."""
    said = str(text)
    if "`register-batch " not in said:  # most messages: no split
        return escape(said)
    return _as_code(said, _COMMAND)


_ENV.filters["commands"] = commands_as_code


def either_code(tags: Iterable[str]) -> Markup:
    """The tags an issue's field may be read from, as code, the last two joined by "or": `<code>A</code>,
    <code>B</code> or <code>C</code>`."""
    return _either_code(tuple(tags))


@lru_cache(maxsize=256)
def _either_code(tags: tuple[str, ...]) -> Markup:
    # The same few fields' tags are shown on most rows of a long table: each list made once. (A loop in the template
    # cost each row a loop object, and the table's loop one as well, to say which tag is the last.)
    # A user's field map names them: a bidi override in one would reverse the cell after it (review165 F4).
    codes = [Markup("<code>{}</code>").format(visible(tag)) for tag in tags]
    if len(codes) < 2:
        return Markup("").join(codes)
    return Markup(", ").join(codes[:-1]) + Markup(" or ") + codes[-1]


_ENV.filters["either_code"] = either_code
_BREAK_AFTER = re.compile(r"(?<=[_./\\\[-])")


def breakable(value: object) -> Markup:
    """Escape, then allow line breaks after _ . / \\ - [: long codes and paths wrap at word-like points."""
    return _breakable(str(value))


@lru_cache(maxsize=4096)
def _breakable(text: str) -> Markup:
    # Field names, rule codes, file names and sources repeat on every row of a long table.
    return Markup("<wbr>").join(escape(part) for part in _BREAK_AFTER.split(text))


_ENV.filters["breakable"] = breakable


def long_date(iso: str) -> str:
    """2026-11-28 -> 28 November 2026: how people in England write dates (GOV.UK style)."""
    try:
        day = date.fromisoformat(iso)
    except (TypeError, ValueError):
        return str(iso)
    return _day(day)


def _day(day: date) -> str:
    return f"{day.day} {MONTHS[day.month - 1]} {day.year}"


_ENV.filters["long_date"] = long_date


def layout_name(vintage: str) -> str:
    """A layout report.json's `vintages` counts records by, as the page names it: one later collections kept (C23053's,
    which C24053 has) is "C23053 (or later)". A C24053 extract read "in the C23053 layout", as if the SRS had
    exported last year's (review106 F5)."""
    tags = TAG_ORDER.get(vintage)
    kept = tags is not None and any(later > vintage and TAG_ORDER[later] == tags for later in TAG_ORDER)
    return f"{vintage} (or later)" if kept else vintage


_ENV.filters["layout_name"] = layout_name


def moment(iso: str | None) -> str:
    """2026-12-02T03:18:28+00:00 -> 2 December 2026 at 03:18 UTC: when a run started or ended, as a person reads it,
    naming its time zone; then the local time where the report was written, with its offset from UTC, when that is
    not UTC (a UK provider's in summer: `(04:18 local time, UTC+01:00)`). The offset, not a zone's short name, which
    can mean two zones (IST)."""
    try:
        when = datetime.fromisoformat(str(iso))
    except ValueError:
        return str(iso)
    if when.tzinfo is None:
        return str(iso)
    utc = when.astimezone(UTC)
    said = f"{_day(utc)} at {utc:%H:%M} UTC"
    local = utc.astimezone()
    offset = local.utcoffset() or timedelta(0)
    if offset:
        sign, minutes = ("+" if offset > timedelta(0) else "-"), abs(int(offset.total_seconds())) // 60
        on = "" if local.date() == utc.date() else f" on {_day(local)}"
        said += f" ({local:%H:%M}{on} local time, UTC{sign}{minutes // 60:02d}:{minutes % 60:02d})"
    return said


_ENV.filters["moment"] = moment

# How the run before a sync ended (Ledger.run_before's status), after "run N, started ...,".
_PREVIOUS_ENDED = {
    "finished": "and finished",
    "interrupted": "and was interrupted: this run carries on from it",
    # Went through every record, some of whose writes had no answer (exit 3 too, review169 F1).
    "unknown outcomes": "and left some records' outcomes unknown: this run looks them up in Register",
    # Stopped by an error (a refused token, a listing not answered), perhaps before it sent anything (review12).
    "stopped": "and stopped before it finished: this run does what it left undone",
    "ended unexpectedly": "and ended unexpectedly, without its report: this run carries on from it",
}


# The Python class name a stopped run's reason starts with in its ledger row ("ConfigError: ", "RegisterUnavailable: ":
# `Ledger.stop_run`), which means nothing to a data officer (review217 F5).
_CLASS_NAME = re.compile(r"^[A-Za-z_][\w.]*: ")


def _stopped_words(reason: object, sent: object, status: str) -> str:
    """How the run before ended when the ledger says it `stopped` (by an error, with no report), or `interrupted` with a
    reason: why, as its row keeps it, and whether this run carries anything on from it. A token refused at the first
    request sent nothing, and was told as a run "this run does what it left undone" (review208 F6). `interrupted` with
    a reason: a second Ctrl-C or SIGTERM stopped it at once, before its report (Ledger.interrupted_without_report,
    review231 F2)."""
    if isinstance(reason, str):
        reason = _CLASS_NAME.sub("", reason, count=1)  # the ledger keeps "ConfigError: ...": the message only (F5)
    why = f" ({shown(reason, 300)})" if isinstance(reason, str) and reason else ""
    ended = "was interrupted" if status == "interrupted" else "stopped"
    if sent is False:
        return f"and {ended} before it sent anything{why}: nothing of it to carry on"
    if sent is True or status == "interrupted":
        return (
            f"and {ended} part-way, without a report{why}: this run names the writes it made and does what it "
            "left undone"
        )
    return f"{_PREVIOUS_ENDED['stopped'].replace(':', why + ':', 1)}"


def academic_cycles(inputs: Iterable[dict[str, Any]]) -> list[tuple[int, int]]:
    """(start year, records) of every input's `cycles` (report.json), added up: the academic cycles the valid records
    are in, which `register-batch export --academic-cycle` takes one at a time (review134 F4: a trainee begun in an
    earlier cycle was missing from the export of the current one, and nothing named it)."""
    found: Counter[int] = Counter()
    for info in inputs:
        for year, count in (info.get("cycles") or {}).items():
            found[int(year)] += int(count)
    return sorted(found.items())


def _provider(extra: dict[str, Any]) -> dict[str, Any] | None:
    """Whom a sync was for (report.json's `provider`), for the page's title and header: the UKPRN given, else the one
    Register listed the token's trainees under, and the settings file; None when neither says (review183 F2)."""
    found = extra.get("provider")
    if not isinstance(found, dict):
        return None
    ukprn = found.get("ukprn") or found.get("listed_ukprn")
    if not ukprn and not found.get("config_file"):
        return None
    return {"ukprn": ukprn, "config_file": found.get("config_file")}


def _run_context(header: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    """When the run started and ended (report.json's `run`), and for a sync which run of its ledger it is, how the
    one before it ended, and where the report of an unfinished run this one would have replaced was moved (`kept`)."""
    times = header.get("run") or {}
    found = extra.get("sync")
    sync: dict[str, Any] = found if isinstance(found, dict) else {}
    previous = sync.get("previous_run")
    if isinstance(previous, dict):
        status = str(previous.get("status"))
        words = _PREVIOUS_ENDED.get(status, f"and ended as {status}")
        if status == "stopped" or (status == "interrupted" and previous.get("reason")):
            words = _stopped_words(previous.get("reason"), previous.get("sent"), status)
        if previous.get("dry_run") or sync.get("dry_run"):  # one of them sends nothing: nothing is carried on
            words = words.rsplit(": ", 1)[0]  # the last: a stopped run's reason, in brackets, may hold one
        # A real run's is the last real run (Ledger.run_before): dry runs between them are not "the run before it"
        skipped = isinstance(sync.get("run_id"), int) and isinstance(previous.get("id"), int)
        skipped = skipped and not sync.get("dry_run") and sync["run_id"] - previous["id"] > 1
        previous = {**previous, "ended_words": words, "named": "The last real run before it" if skipped else None}
    # The report of an unfinished run this one's would have replaced, moved into a folder beside it (review231 F1)
    kept = sync.get("earlier_report")
    kept = kept if isinstance(kept, dict) else {}
    moved_to = kept.get("moved_to")
    return {
        "started": times.get("started"),
        "ended": times.get("ended"),
        "id": sync.get("run_id"),
        "previous": previous if isinstance(previous, dict) else None,
        "kept": {**kept, "folder": PurePath(moved_to).name} if isinstance(moved_to, str) else None,
    }


@cache
def _asset(name: str) -> str:
    """The inline CSS/JS, read once; they are ours, so they go into the page unescaped."""
    text = files("register_batch.reports").joinpath("templates", name).read_text(encoding="utf-8")
    closing = "</style" if name.endswith(".css") else "</script"
    if closing in text.lower():  # would end the element early
        raise ValueError(f"{name} must not contain {closing}")
    return text


def _csp_hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


@dataclass
class Bar:
    """One bar of a chart: a field or rule with its issues split by severity (widths in % of the longest named bar;
    scale 0 for the "other" row, drawn without a bar)."""

    key: str
    label: str
    errors: int
    warnings: int
    scale: int
    filter: str | None  # the table filter the bar's link sets ("field" or "code"), None for "other"
    # How many of its issues the page lists, when it cannot list them all (None when it lists every issue). A bar with
    # none here is not a link: on a capped page it opened an empty table (review174 F2).
    here: int | None = None

    @property
    def total(self) -> int:
        return self.errors + self.warnings

    @property
    def error_width(self) -> float:
        return round(100 * self.errors / self.scale, 2) if self.scale else 0.0

    @property
    def warning_width(self) -> float:
        return round(100 * self.warnings / self.scale, 2) if self.scale else 0.0


# An issue about no one field is counted under a key (reports.field_key) that the rows and the filter match on; the
# chart and the filter's options name it in words, as the table does.
FIELD_WORDS = {"(record)": "whole record", "(file)": "whole file"}


def _bars(totals: Counter, errors: Counter, filter_key: str, noun: str, here: Counter | None = None) -> list[Bar]:
    """The top CHART_TOP keys by count, and the rest folded into one "other" bar. `here`: each key's rows on the page,
    when the page is capped (None when it lists every issue)."""
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    shown, rest = ranked[:CHART_TOP], ranked[CHART_TOP:]
    if len(rest) == 1:  # "1 other" would hide a name for no gain in space
        shown, rest = ranked, []
    # In % of the longest named bar: the "other" row, many keys in one, is drawn without a bar (its count beside it),
    # so that a long tail does not make the named bars look small beside it (review76 F10).
    scale = max([count for _, count in shown] + [0])
    bars = [
        Bar(
            key,
            FIELD_WORDS.get(key, key),
            errors[key],
            count - errors[key],
            scale,
            filter_key,
            None if here is None else here[key],
        )
        for key, count in shown
    ]
    if rest:
        rest_errors = sum(errors[key] for key, _ in rest)
        rest_total = sum(count for _, count in rest)
        label = f"{len(rest)} other {noun}"
        bars.append(Bar("", label, rest_errors, rest_total - rest_errors, 0, None))
    return bars


def _checked_by(rule: Rule | None) -> str:
    """Who decides what the rule says, in words a data officer can act on: Register itself (it would refuse the
    record), register-batch (what Register would drop or replace silently, or what goes wrong later), or neither: a
    sync's own code says what happened at Register, or what the sync found there (review118 F1). The `source` beside
    it cites the project's research notes, which the reader of a report does not have."""
    if rule is None:
        return ""
    if rule.api:
        return "Register's own rule"
    return "the sync's outcome" if is_sync_code(rule.code) else "register-batch's check"


def is_sync_code(code: str) -> bool:
    """A sync's own outcome code (sync/runner.py describes them, each `sync_…`): said of a record by the sync, not by
    its validation; an error of one is on a record that passed validation (dry-run.md "Sync reports")."""
    return code.startswith("sync_")


def _issue_rows(report: ReportBuilder, limit: int) -> tuple[_Rows, Counter, Counter]:
    """The rows to embed and the error counts, in two passes over the issues.

    When the page cannot hold every issue, it holds first each record's first error (and every error about a whole
    file), so that a search for any record with errors finds it here (review54 F1); then a tenth of the rows for
    warnings, when there are any, so that the Warnings filter shows some; then the other errors; then more warnings.
    Each kind is taken in file order. The page lists the errors first, then the warnings (review54 F4).

    The first pass counts, and keeps two small numbers an issue (its kind, and which field, rule and input it is of);
    the chosen rows are read again, one at a time, while the page is written. Memory does not grow with the number of
    issues, nor with the rows the page holds.
    """
    kind_of = bytearray()  # per issue: FIRST_ERROR, MORE_ERROR, WARNING or FILE_ERROR
    group_of = array("i")  # per issue: its (field key, code, input) in `groups`
    groups: dict[tuple[str, str, str], int] = {}
    field_errors: Counter = Counter()
    code_errors: Counter = Counter()
    records_erring: list[tuple[str, int]] = []  # each record with errors, at its first error: (input, record)
    last: tuple[str, int] | None = None
    invalid_kinds: Counter = Counter()  # the records with errors, by what their errors say (_count_kinds)
    erring: set[str] = set()  # the error kinds of the record read (_error_kind)
    sent_to_records: dict[tuple[str, int], set[str]] = {}  # (_Rows.sent_to_records)
    # A record's issues are read together (file-level issues first, then by record): its first error is the first
    # error read since another record's.
    for name, record, _line, _row, _pid, _hid, about, _value, code, severity, _message in report.plain_values():
        key = field_key(about, record)
        if severity == "error":
            field_errors[key] += 1
            code_errors[code] += 1
            if record is None:
                kind_of.append(FILE_ERROR)
            elif (name, record) != last:
                kind_of.append(FIRST_ERROR)
                last = (name, record)
                records_erring.append(last)
                _count_kinds(invalid_kinds, erring)
                erring = {_error_kind(code)}
            else:
                kind_of.append(MORE_ERROR)
                erring.add(_error_kind(code))
        else:
            kind_of.append(WARNING)
            if (code in _SEE_RECORDS or code in _RUN_WARNED_RECORDS) and record is not None:
                sent_to_records.setdefault((name, record), set()).add(code)
        group_of.append(groups.setdefault((key, code, name), len(groups)))
    counts = [0, 0, 0]  # issues by tier (_TIER)
    for kind in (FIRST_ERROR, MORE_ERROR, WARNING, FILE_ERROR):
        counts[_TIER[kind]] += kind_of.count(kind)
    take = _kept(counts, limit)
    chosen = bytearray(len(kind_of))
    seen = [0, 0, 0]
    listed = 0  # records with errors that have a row on the page
    for pos, kind in enumerate(kind_of):
        tier = _TIER[kind]
        if seen[tier] < take[tier]:
            chosen[pos] = 1
            listed += kind == FIRST_ERROR
        seen[tier] += 1
    rows = _Rows(report, chosen, [*groups], group_of, kind_of)
    rows.errors, rows.warnings = counts[0] + counts[1], counts[2]
    rows.records_erring, rows.records_listed = len(records_erring), listed
    rows.sent_to_records = sent_to_records
    # The page cannot hold every record's first error (review54 F1): it says after which record it lists none.
    rows.last_listed = records_erring[listed - 1] if 0 < listed < len(records_erring) else None
    _count_kinds(invalid_kinds, erring)
    rows.invalid_kinds = invalid_kinds
    return rows, field_errors, code_errors


# The provider checks (validation/providers.py): nothing in such a record needs correcting in the student record
# system; it goes with another token, or the run needs --ukprn (review114 F1).
PROVIDER_CODES = frozenset({"several_providers", "other_provider_record"})


@cache
def _error_kind(code: str) -> str:
    """What one error says of its record, for the summary box: "api" (Register's own rule: it would refuse the
    record; also a code outside the catalogue, and Register's refusal in a sync, api_rejected), "check"
    (register-batch's check: Register would take the record, but drop or replace data, or it would go wrong later),
    "sync" (the sync's own outcome, on a record that passed validation: a conflict, an unknown outcome; review118
    F1), or a provider check's code."""
    from register_batch.validation.catalogue import CATALOGUE

    rule = CATALOGUE.get(code)
    if rule is None or rule.api:
        return "api"
    if is_sync_code(code):
        return "sync"
    return code if code in PROVIDER_CODES else "check"


def _count_kinds(kinds: Counter, found: set[str]) -> None:
    """Count one record's errors (`found`, its _error_kinds): by provider check, and as "provider_only" when those
    are all it has, or "checks" when it has register-batch's checks and none of Register's own rules. The sync's own
    outcomes are left out: a record with only those did not fail validation (summary.invalid does not count it), and
    counting it made the box say "In 12 of them" of 2 invalid records (review118 F1)."""
    found = found - {"sync"}
    for code in PROVIDER_CODES & found:
        kinds[code] += 1
    if found and found <= PROVIDER_CODES:
        kinds["provider_only"] += 1
    elif "check" in found and "api" not in found:
        kinds["checks"] += 1


# An issue's kind, as _issue_rows chooses the rows: a record's first error, another error of the record, a warning,
# an error about a whole file; and the tier each kind is chosen in (a whole file's error is as needed as a record's
# first).
FIRST_ERROR, MORE_ERROR, WARNING, FILE_ERROR = 0, 1, 2, 3
_TIER = (0, 1, 2, 0)


def _kept(counts: list[int], limit: int) -> list[int]:
    """How many issues of each tier the page holds (`counts`: first errors, other errors, warnings), at most `limit`
    in all: every record's first error, then a tenth of the rows for warnings, then the other errors, then warnings."""
    firsts, others, warnings = counts
    first = min(firsts, limit)
    reserve = min(warnings, limit // 10, limit - first)
    more = min(others, limit - first - reserve)
    return [first, more, min(warnings, limit - first - more)]


# The template reads a row's values as attributes (`row.field`). Jinja looks an attribute up before a key, so a
# dict's values cost a caught AttributeError each; a named tuple's are found at once (a third of the page's time).
# An issue has no trainee_id: the template's `trainee` macro, shared with a sync's records, reads it as nothing.
class _IssueRow(NamedTuple):
    # reports.ISSUE_KEYS, in its order (tests/reports/test_html.py checks), then what the page adds.
    input: str
    record: int | None
    line: int | None
    row: int | None
    provider_trainee_id: str | None
    hesa_id: str | None
    field: str | None
    value: str | None
    code: str
    severity: str
    message: str
    source: str | None
    pos: int
    field_key: str
    input_name: str
    trainee_id: str | None = None
    read_from: Markup = Markup("")  # "from F_SURNAME", "from column degree_grade": where the field was read (_from)


# Issues whose field names what was compared, not a value read (the duplicate check keeps digests, not names; a tag
# given twice has two values): their value is never kept, and "value blank" beside them would be untrue. Register's
# refusal (api_rejected) has the record's value of the field Register names, but none for a list (degrees), or in a
# report of an earlier version: the field Register names is not blank for that.
VALUELESS_CODES = frozenset({"possible_duplicate_trainee", "duplicate_degrees", "malformed_record", "api_rejected"})

_RuleRow = namedtuple("_RuleRow", ("code", "count", "errors", "warnings", "source", "checked_by", "fix"))


class _Rows:
    """The embedded issue rows: a length, their input files, and `_IssueRow`s read as the template iterates, the errors
    first, then the warnings, each in file order. What the truncation notice says is set by `_issue_rows`."""

    errors = warnings = 0  # in the report
    invalid_kinds: Counter  # the records with errors, by what their errors say (_count_kinds)
    records_erring = records_listed = 0  # records with errors, and those with an error row on the page
    last_listed: tuple[str, int] | None = None  # (input, record): the last record with errors listed, when not all are
    # (input, record) -> the codes of its sync warnings the summary box sends people to Records for (_SEE_RECORDS)
    sent_to_records: dict[tuple[str, int], set[str]]

    def __init__(
        self,
        report: ReportBuilder,
        chosen: bytearray,
        groups: list[tuple[str, str, str]],
        group_of: array,
        kind_of: bytearray,
    ):
        self._report = report
        self._chosen = chosen
        self._kind_of = kind_of
        self._formats = {info.path: info.format for info in report.inputs}
        self._tags = {info.path: reports.layout_tags(info) for info in report.inputs}  # its layouts' (source_of)
        self._count = sum(chosen)
        # How many rows of each kind the page holds, for the filters' labels when it cannot hold them all.
        self.by_field: Counter = Counter()
        self.by_code: Counter = Counter()
        self.by_severity: Counter = Counter()
        self.inputs: set[str] = set()
        for pos, kept in enumerate(chosen):
            if not kept:
                continue
            key, code, name = groups[group_of[pos]]
            self.by_field[key] += 1
            self.by_code[code] += 1
            self.by_severity["warning" if kind_of[pos] == WARNING else "error"] += 1
            self.inputs.add(name)

    def __len__(self) -> int:
        return self._count

    def __iter__(self) -> Iterator[_IssueRow]:
        # What the page says of an input and of its fields, found once for the rows (at most the page's) naming them.
        input_names = short_names([info.path for info in self._report.inputs] + list(self.inputs))
        read_from: dict[tuple[str, tuple[str | None, str | None]], tuple[str | None, Markup]] = {}
        for errors in (True, False):
            wanted = self.by_severity["error" if errors else "warning"]
            if wanted:
                rows = self._read(errors, input_names, read_from)
                try:
                    yield from islice(rows, wanted)
                finally:
                    rows.close()  # the issues' file read no further, and put back at its end, at once

    def _read(
        self,
        errors: bool,
        input_names: dict[str, str],
        read_from: dict[tuple[str, tuple[str | None, str | None]], tuple[str | None, Markup]],
    ) -> Generator[_IssueRow, None, None]:
        """The chosen rows of errors (or of warnings), in file order: one read of the issues, as far as it is taken."""
        chosen, kind_of, formats, tags = self._chosen, self._kind_of, self._formats, self._tags
        sources = self._report.sources
        issues = self._report.plain_values()
        try:
            for pos, values in enumerate(issues):
                if not chosen[pos] or (kind_of[pos] != WARNING) is not errors:
                    continue
                name, record, _line, _row, _pid, _hid, about = values[:7]
                if name not in input_names:
                    input_names[name] = PurePath(name).name or name
                about, code = said = reports.source_key(values[8], about)
                key = (name, said)
                if key not in read_from:
                    named = reports.source_of(sources, formats.get(name), about, tags.get(name), code)
                    read_from[key] = (reports.source_text(named), _from(formats.get(name), about, named))
                source, words = read_from[key]
                yield _IssueRow(
                    *values,  # the ISSUE_KEYS values before `source`, in order
                    source,
                    pos,
                    field_key(about, record),
                    input_names[name],
                    None,
                    words,
                )
        finally:
            issues.close()  # (a generator) put back at its end at once, not once collected


def _from(fmt: str | None, field: str | None, named: tuple[str, ...]) -> Markup:
    """Where the page says an issue's field was read: the HESA tags of a HESA extract (`from F_SURNAME`), or the column
    of a Register CSV (`from column degree_grade`) where it is not named as the field is (its `last_name` column is
    Register's last_name, said once already)."""
    if not named or not field:
        return Markup("")
    if fmt in reports.TAGGED_FORMATS:
        return Markup("from ") + either_code(named)
    leaf = _INDEX_IN_FIELD.sub("", field).rsplit(".", 1)[-1]
    return Markup("") if named == (leaf,) else Markup("from column ") + either_code(named)


_INDEX_IN_FIELD = re.compile(r"\[[0-9]+\]")


# The tables' rows (the Issues table's and a sync's Records table's) are made here, not by the template: a page of
# 5,000 rows spent most of its time in Jinja's machinery for each row (some 50 pieces yielded and 4 macro calls a row).
# The template still lays out the page and its tables, and calls `issue_rows` once a piece of rows and `record_row`
# once a row. Every value goes through markupsafe's `escape`, as autoescaping put it through before (or is Markup that
# did: `breakable`, `either_code`); the rest is this module's own markup. tests/reports/test_html.py's escaping
# tests cover both kinds.


def _blank(text: str = "none") -> str:
    """The absence of a value, in italics: "none", "blank", "whole file"."""
    return f'<span class="blank">{escape(text)}</span>'


def _tag(kind: str, text: str) -> str:
    return f'<strong class="tag tag-{escape(kind)}">{escape(text)}</strong>'


def _where(name: object, short_name: str, record: int | None, line: int | None, row: int | None = None) -> str:
    """Where a row is: its file (by the name the rows know it by, the whole path when hovered), then its record and
    line (`record 10, row 11 (line 12)` where a CSV's spreadsheet row differs from its line: model.place), or its line
    alone, or the whole file."""
    file = _file(name, short_name)
    at = f"row {escape(row)} (line {escape(line)})" if row and line else f"line {escape(line)}" if line else ""
    if record:
        return f'{file}<span class="sub">record {escape(record)}{f", {at}" if at else ""}</span>\n'
    if at:
        return f'{file}<span class="sub">{at}</span>\n'
    return f'{file}<span class="sub">whole file</span>'


@lru_cache(maxsize=1024)
def _file(name: object, short_name: str) -> str:
    # Every row of a file names it: each file's made once.
    return f'<span class="file" title="{escape(name)}">{breakable(short_name)}</span>\n'


def _trainee(provider_trainee_id: str | None, hesa_id: str | None, trainee_id: str | None) -> str:
    """Whom a row is about: the SRS id, the HUSID and Register's trainee id it has, or "none"."""
    if not (provider_trainee_id or hesa_id or trainee_id):
        return _blank()
    said = f'<span class="id">{escape(shown(provider_trainee_id, 60))}</span>' if provider_trainee_id else ""
    if hesa_id:
        said += f'<span class="sub">HUSID <span class="id">{escape(shown(hesa_id, 60))}</span></span>'
    if trainee_id:
        said += f'<span class="sub">Register <span class="id">{escape(shown(trainee_id, 60))}</span></span>'
    return said


ROWS_AT_ONCE = 64  # the Issues table's rows the template is given in one piece (issue_rows)


def issue_rows(rows: Iterable[_IssueRow], rule_info: dict[str, _RuleRow]) -> Iterator[Markup]:
    """The Issues table's rows (`_issue_row`), ROWS_AT_ONCE of them a piece, each row followed by a newline but the
    piece's last, which the template writes after it: the page `{% for row in issues %}{{ issue_row(row) }}` wrote.
    A loop of the template's costs each row a call through Jinja's context and two pieces to write (a third of the
    table's time at 2,736 rows)."""
    batch: list[str] = []
    for row in rows:
        batch.append(_issue_row(row, rule_info))
        if len(batch) == ROWS_AT_ONCE:
            yield Markup("\n".join(batch))
            batch = []
    if batch:
        yield Markup("\n".join(batch))


def _issue_row(row: _IssueRow, rule_info: dict[str, _RuleRow]) -> str:
    """A row of the Issues table: where the issue is, whom it is about, its field and value, its rule, its message."""
    rule = rule_info.get(row.code)
    where = _where(row.input, row.input_name, row.record, row.line, row.row)
    trainee = _trainee(row.provider_trainee_id, row.hesa_id, row.trainee_id)
    return (
        f"{_issue_row_start(row.severity, row.field_key, row.code, row.input)}"
        f'<td data-label="Where" data-sort-value="{row.pos:d}">{where}</td>\n'
        f'<td data-label="Trainee">{trainee}</td>\n'
        f'<td data-label="Field" data-sort-value="{escape(row.field_key)}">\n{_field_and_value(row)}</td>\n'
        f"{_rule_cell(row.severity, row.code, rule.source if rule else '', rule.checked_by if rule else '')}"
        f'<td data-label="Message" class="message">\n<p class="message-text">'
        f"{commands_as_code(shown_message(row.message, row.value))}</p>\n"
        f"{_fix_link(row.code) if rule and rule.fix else ''}</td>\n</tr>"
    )


@lru_cache(maxsize=4096)
def _issue_row_start(severity: str, field_key: str, code: str, name: str) -> str:
    # What the filters match a row on (its severity, field, rule and input): the same few on most rows, each made once.
    return (
        f'<tr data-severity="{escape(severity)}" data-field="{escape(field_key)}" '
        f'data-code="{escape(code)}" data-input="{escape(name)}">\n'
    )


def _field_and_value(row: _IssueRow) -> str:
    """The field an issue is about (and where it was read from) or "whole record"/"whole file"; then its value, or
    "blank" when the field had none (not said of issues that keep no value: VALUELESS_CODES)."""
    if row.field:
        said = f'<code class="field">{breakable(row.field)}</code>'
        if row.read_from:
            said += f'<span class="sub" data-source>{escape(row.read_from)}</span>'
    else:
        said = _blank("whole record" if row.record else "whole file")
    if row.value is not None and row.value != "":
        said += f'<span class="sub">value <code class="value">{escape(shown_value(row.value))}</code></span>'
    elif row.field and row.code not in VALUELESS_CODES:
        said += f'<span class="sub">value {_blank("blank")}</span>'
    return said


@lru_cache(maxsize=1024)
def _rule_cell(severity: str, code: str, source: str, checked_by: str) -> str:
    # The same few rules on most rows of a long table: each rule's cell, of each severity, made once.
    title = f' title="{escape(source)}"' if source else ""
    by = f'<span class="sub source">{escape(checked_by)}</span>' if checked_by else ""
    return (
        f'<td data-label="Rule" data-sort-value="{0 if severity == "error" else 1} {escape(code)}">\n'
        f"{_tag(severity, severity.capitalize())}\n"
        f'<a class="code" href="#rule-{escape(code)}"{title}>{breakable(code)}</a>\n{by}</td>\n'
    )


@lru_cache(maxsize=1024)
def _fix_link(code: str) -> str:
    return f'<p class="fix"><a href="#rule-{escape(code)}">How to fix: see Rules and fixes</a></p>'


def record_row(row: SimpleNamespace, outcome_labels: dict[Any, str], issues: int) -> Markup:
    """A row of a sync's Records table: where the record is, whom it is about, its action and outcome, Register's HTTP
    status, its errors and warnings (and a link to its issues, `issues` being how many the page has), what it changes.
    A key the record lacks reads as nothing, as it did in the template."""
    get = vars(row).get
    action, outcome = get("action"), get("outcome")
    provider_trainee_id, hesa_id = get("provider_trainee_id"), get("hesa_id")
    where = _where(get("input", ""), row.input_name, get("record"), get("line"), get("row"))
    trainee = _trainee(provider_trainee_id, hesa_id, get("trainee_id"))
    action_tag = _tag(f"action-{action or 'none'}", action or "none")
    outcome_tag = _tag(f"outcome-{outcome or 'none'}", str(outcome_labels.get(outcome, outcome or "none")).lower())
    status = get("http_status")
    problems = _problems(get("errors"), get("warnings"))
    if action == "invalid" and issues and (hesa_id or provider_trainee_id):
        problems += (
            '<a class="js-only" href="#issues" data-filter="q" '
            f'data-value="{escape(shown(hesa_id or provider_trainee_id, 60))}">See its issues</a>'
        )
    # What the Action filter matches: the action, and a withdrawal or deferral made with it (review174 F5)
    steps = " ".join(sorted(_steps(vars(row))))
    return Markup(
        f'<tr data-action="{escape(action or "")}" data-steps="{escape(steps)}" data-outcome="{escape(outcome or "")}" '
        f'data-input="{escape(get("input") or "")}">\n'
        f'<td data-label="Where" data-sort-value="{escape(row.pos)}">{where}</td>\n'
        f'<td data-label="Trainee">{trainee}</td>\n'
        f'<td data-label="Action">{action_tag}</td>\n'
        f'<td data-label="Outcome">{outcome_tag}</td>\n'
        f'<td data-label="HTTP" class="num">{escape(status if status is not None else "")}</td>\n'
        f'<td data-label="Errors and warnings">{problems}</td>\n'
        f'<td data-label="Changes">{_changes(get("changes"))}</td>\n</tr>'
    )


def _problems(errors: Iterable[str] | None, warnings: Iterable[str] | None) -> str:
    """A sync record's errors, then its warnings (each tagged so), as a list."""
    if not (errors or warnings):
        return ""
    said = "".join(f"<li>{commands_as_code(shown(error, 500))}</li>" for error in errors or ())
    said += "".join(
        f"<li data-warning>{_WARNING} {commands_as_code(shown(warning, 500))}</li>" for warning in warnings or ()
    )
    return f'<ul class="plain">{said}</ul>'


_WARNING = _tag("warning", "Warning")


def _changes(changes: Iterable[dict[str, Any]] | None) -> str:
    """What a sync record changes in Register, a field a line: Register's value, then the extract's."""
    if not changes:
        return ""
    said = "".join(
        f'<li><code class="field">{breakable(change.get("field"))}</code> '
        '<span class="from"><span class="visually-hidden">Register has </span>'
        f'{_change_value(change.get("field"), change.get("register"))}</span> <span aria-hidden="true">→</span> '
        '<span class="to"><span class="visually-hidden">, the extract has </span>'
        f"{_change_value(change.get('field'), change.get('source'))}</span></li>"
        for change in changes
    )
    return f'<ul class="changes">{said}</ul>'


def _change_value(field: object, value: object) -> str:
    text, missing = change_side(field, value)
    return _blank(text) if missing else escape(shown(text))


_ENV.globals["issue_rows"] = issue_rows
_ENV.globals["record_row"] = record_row


def _with_invalid(
    ranked: list[tuple[int, dict[str, Any]]], invalid_first: list[tuple[int, dict[str, Any]]], limit: int
) -> list[tuple[int, dict[str, Any]]]:
    """The records `ranked` chose (best first), with the last of them making way for the first invalid records until
    the page lists `invalid_first` (a tenth of the rows, or all the invalid records when fewer). Both list the invalid
    records in file order: `ranked`'s are the first of them, as `invalid_first`'s are."""
    if sum(record.get("action") == "invalid" for _pos, record in ranked) >= len(invalid_first):
        return ranked
    others = [pair for pair in ranked if pair[1].get("action") != "invalid"]
    return others[: max(limit - len(invalid_first), 0)] + invalid_first


def _records_notice(shown: int, total: int, actions: list[tuple[str, int, int]]) -> list[str]:
    """What a sync page that cannot list every record says of those it lists: how they were chosen (_ACTION_RANK,
    INVALID_SHARE), and how many of each action it holds (review54 F2). Nothing when it lists every record."""
    if shown >= total:
        return []
    held = "; ".join(f"{action or 'none'} {here:,} of {count:,}" for action, count, here in actions)
    return [
        f"This page lists {shown:,} of the {total:,} records, in file order. They are chosen in this order: records "
        "that failed or whose outcome is unknown; conflicts and blocked records; the records the summary above sends "
        "you here for; the writes (create, update, withdraw, defer); the invalid records, which keep a tenth of the "
        "rows when there are that many (their errors are under Issues, and all in issues.csv); the other records with "
        "warnings; then the rest.",
        f"By action, the page holds: {held}.",
        "results.csv and report.json, next to this file, hold every record. The cards above count them all.",
    ]


def _options(counts: Counter[str], here: Counter[str]) -> list[tuple[str, int, int]]:
    """A records filter's options: each value, how many records have it, and how many of those the page lists."""
    return [(value, count, here[value]) for value, count in sorted(counts.items())]


_JOINED_WORDS = {"create": "creation", "update": "update", "defer": "deferral"}


def _step_options(
    steps: Counter[str], with_others: dict[str, Counter[str]], rows: list[SimpleNamespace]
) -> list[tuple[str, int, int, str]]:
    """The Action filter's options: each action, and each withdrawal or deferral made with another action (the Withdraw
    card counts those too: it said 3 and the filter had no withdraw, review174 F5). Each with how many records' rows
    name it in all and on the page, and the words for the joined ones ("all with their creation"). Counted from the
    rows, which is what the filter matches: a run stopped part-way lists only the withdrawals it made."""
    here: Counter[str] = Counter()
    for row in rows:
        here.update(_steps(vars(row)))
    options = []
    for value, count in sorted(steps.items()):
        words = " and ".join(
            f"{'all' if n == count else f'{n:,}'} with {'its' if n == 1 else 'their'} {_JOINED_WORDS.get(other, other)}"
            for other, n in sorted(with_others.get(value, Counter()).items())
        )
        options.append((value, count, here[value], words))
    return options


def _steps(record: dict[str, Any]) -> set[str]:
    """What the Action filter matches a record's row on: its action, and the withdrawal or deferral its row names."""
    action = record.get("action")
    return {action, *_states_reached(record)} if action else set()


def _sync_context(
    extra: dict[str, Any], limit: int, sent_to_records: dict[tuple[str, int], set[str]] | None = None
) -> dict[str, Any] | None:
    """Cards and the records table for `sync`, from ReportBuilder.extra (None when there is no sync).
    `sent_to_records`: (input, record) -> the codes of its warnings the summary box sends people to Records for."""
    sync = extra.get("sync")
    if not isinstance(sync, dict):
        return None
    # Read once, row by row (a sync's are made as they are read: reports.Rows), keeping the counts and the rows shown.
    records: Iterable[dict[str, Any]] = extra.get("records") or []
    dry_run = bool(sync.get("dry_run"))
    actions = sync.get("actions") or {}
    outcomes = sync.get("outcomes") or {}
    by_action: dict[str, Counter] = {}
    action_counts: Counter[str] = Counter()
    outcome_counts: Counter[str] = Counter()
    # withdraw/defer -> the actions they went with -> those records' outcomes: {"withdraw": {"create": {"done": 30}}}
    joined: dict[str, dict[str, Counter[str]]] = {}
    step_counts: Counter[str] = Counter()  # the Action filter's: each action, and each withdrawal or deferral made
    step_with: dict[str, Counter[str]] = {}  # withdraw/defer -> the actions they were made with -> records
    held: Counter[str] = Counter()  # conflict/blocked -> records planned so or refused so (RecordResult.held_back)
    named = sent_to_records or {}
    total = 0

    def counted() -> Iterator[tuple[int, dict[str, Any]]]:
        nonlocal total
        for pair in enumerate(records):
            record = pair[1]
            action, outcome = record.get("action"), record.get("outcome")
            by_action.setdefault(action or "", Counter())[outcome or ""] += 1
            if action:
                action_counts[action] += 1
            if outcome:
                outcome_counts[outcome] += 1
            # By its outcome, a record this run created whose withdrawal Register then refused (action create).
            if held_as := action if action in HELD_BACK else outcome if outcome in HELD_BACK else None:
                held[held_as] += 1
            if outcome in ("done", "planned") and action in ("create", "update"):
                for state in _states_reached(record):
                    joined.setdefault(state, {}).setdefault(action, Counter())[outcome] += 1
            steps = _steps(record)
            step_counts.update(steps)
            for step in steps - {action}:
                step_with.setdefault(step, Counter())[str(action)] += 1
            if action == "invalid" and len(invalid_first) < reserve:
                invalid_first.append(pair)
            total += 1
            yield pair

    def rank(pair: tuple[int, dict[str, Any]]) -> tuple[int, int]:
        record = pair[1]
        if record.get("outcome") in _OUTCOME_RANK:
            return _OUTCOME_RANK[record["outcome"]], pair[0]
        rank = _ACTION_RANK.get(record.get("action") or "", 9)
        if not record.get("warnings"):
            return rank, pair[0]
        sent = (record.get("input"), record.get("record")) in named
        return min(rank, _NAMED_RANK if sent else _WARNED_RANK), pair[0]

    reserve = max(limit, 0) // INVALID_SHARE
    invalid_first: list[tuple[int, dict[str, Any]]] = []  # the first `reserve` invalid records, in file order
    pairs = counted()
    # The `limit` first by rank, as sorted(...)[:limit] gives them (ranks differ: each ends with the record's place).
    chosen = heapq.nsmallest(limit, pairs, key=rank) if limit >= 0 else sorted(pairs, key=rank)[:limit]
    for _pair in pairs:  # the rest, counted (nsmallest reads none of them when limit is 0)
        pass
    chosen = _with_invalid(chosen, invalid_first, limit)
    if isinstance(planned := sync.get("joined"), dict):
        # The plan's (report.json's `sync.joined`), as the actions count the plan: the rows of the records not done
        # (not reached, failed) no longer name their withdrawal or deferral (review134 F3)
        joined = {state: {a: Counter(by) for a, by in actions.items()} for state, actions in planned.items()}
    known_actions = {key for key, *_ in ACTIONS}
    known_outcomes = {key for key, *_ in OUTCOMES}
    # Keys this page does not know yet (a newer sync) still get a card rather than vanishing.
    action_specs = [
        *ACTIONS,
        *(RARE_ACTIONS.get(key, (key, key, key, "info")) for key in actions if key not in known_actions),
    ]
    outcome_specs = [
        *OUTCOMES,
        *(RARE_OUTCOMES.get(key, (key, key, "neutral")) for key in outcomes if key not in known_outcomes),
    ]
    # A new trainee withdrawn or deferred in the same run counts as withdrawn or deferred too, as the summary line
    # says it ("300 created, 30 withdrawn"): the Withdraw card said 0 beside it. Each card counts the plan, and says how
    # its records ended (a run stopped part-way: "539 with their creation: 67 done, 472 not reached").
    action_cards = [
        {
            "key": key,
            "label": dry_label if dry_run else label,
            "value": (value := actions.get(key, 0) + sum(sum(by.values()) for by in joined.get(key, {}).values())),
            "tone": tone if value else "zero",
            "split": [] if dry_run else _split(by_action.get(key, Counter())),
            # (the action, how many, how they ended when not every one is done)
            "joined": [
                (action, sum(by.values()), [] if dry_run or set(by) <= {"done"} else _split(by))
                for action, by in sorted(joined.get(key, {}).items())
            ],
        }
        for key, label, dry_label, tone in action_specs
    ]
    outcome_cards = [
        {
            "key": key,
            "label": DRY_RUN_OUTCOMES.get(key, label) if dry_run else label,
            "value": outcomes.get(key, 0),
            "tone": tone if outcomes.get(key, 0) else "zero",
        }
        for key, label, tone in outcome_specs
    ]
    names = short_names(str(record.get("input") or "") for _pos, record in chosen)
    outside = [t for t in extra.get("not_in_extract") or [] if isinstance(t, dict)]
    groups = _not_in_extract_groups(sync.get("not_in_extract_synced"), outside)
    rows = [  # attributes, as the issue rows (_IssueRow); a key a record does not have reads as undefined, as before
        SimpleNamespace(**{**record, "pos": pos, "input_name": names[str(record.get("input") or "")]})
        for pos, record in sorted(chosen, key=lambda pair: pair[0])
    ]
    action_options = _options(action_counts, Counter(getattr(row, "action", None) or "" for row in rows))
    step_options = _step_options(step_counts, step_with, rows)
    return {
        "target": sync.get("target"),
        "dry_run": dry_run,
        "interrupted": bool(sync.get("interrupted")),
        "stopped": str((sync.get("stopped") or {}).get("message") or ""),
        # Scalars (total, retries, per_trainee, ...) read as a sentence; requests by route as a small list.
        "requests": {
            k: REQUEST_WORDS.get(k, k.replace("_", " ") + " {}").format(_request_figure(k, v))
            for k, v in (sync.get("requests") or {}).items()
            if isinstance(v, (int, float))
        },
        "requests_by_route": dict((sync.get("requests") or {}).get("by_route") or {}),
        "estimate": _estimate(sync.get("estimate")),
        "not_in_extract": int(sync.get("not_in_extract") or 0),
        # The cycles the extract lacks whose trainees not_in_extract lists too (review227 F2); none in an older report
        "cycles_lacked": [int(year) for year in sync.get("cycles_lacked") or () if isinstance(year, int)],
        # Those this state dir synced before first (`last_synced`: the SRS stopped sending them), the current ones of
        # them before those whose course ended and those finished (review201 F2), then the others
        "not_in_extract_rows": sorted(outside, key=lambda t: _not_in_extract_rank(t, groups))[:NOT_IN_EXTRACT_NAMED],
        "not_in_extract_synced": sum(1 for t in outside if t.get("last_synced")),
        "not_in_extract_groups": groups,
        "unanswered": list(extra.get("unanswered_elsewhere") or []),
        "action_cards": action_cards,
        "outcome_cards": outcome_cards,
        "rows": rows,
        "total": total,
        # (value, count in all, count on this page), as the issues' filters: the page may hold fewer records
        "action_options": action_options,
        "notice": _records_notice(len(rows), total, action_options),
        "step_options": step_options,
        "outcome_options": _options(outcome_counts, Counter(getattr(row, "outcome", None) or "" for row in rows)),
        "held_back": dict(held) if total else None,
        # A sync warning's code -> (records with it, those the page lists), for the summary box's "(see Records)"
        "sent_to_records": _sent_to_records(named, rows),
    }


def _estimate(estimate: object) -> dict[str, Any] | None:
    """A dry run's estimate of a real run now (report.json's `sync.estimate`) as the page says it, in the summary
    line's words (`progress.real_run_words`), with the reads and writes it adds up; None when there is none."""
    if not isinstance(estimate, dict):
        return None
    words = real_run_words(estimate["requests"], estimate["seconds"], estimate["rate"], grouped=True)
    reads, writes = (wording.counted(estimate[key], key[:-1], grouped=True) for key in ("reads", "writes"))
    return {"requests": estimate["requests"], "words": words, "reads": reads, "writes": writes}


def _sent_to_records(named: dict[tuple[str, int], set[str]], rows: list[SimpleNamespace]) -> dict[str, tuple[int, int]]:
    """For each code of `named`: how many records have it, and how many of those the page lists (`rows`)."""
    listed = {(getattr(row, "input", None), getattr(row, "record", None)) for row in rows}
    found: dict[str, tuple[int, int]] = {}
    for key, codes in named.items():
        for code in codes:
            count, here = found.get(code, (0, 0))
            found[code] = (count + 1, here + (key in listed))
    return found


def _issue_notice(rows: _Rows, total: int) -> list[str]:
    """What a page that cannot list every issue says of those it does list, in numbers (review54 F1): which errors and
    warnings, in what order, whether every record with errors has a row, and where the rest are. Nothing when it lists
    every issue."""
    shown = len(rows)
    if shown >= total:
        return []
    errors, warnings = rows.by_severity["error"], rows.by_severity["warning"]
    listed, erring = rows.records_listed, rows.records_erring
    said = [
        f"This page lists {shown:,} of the {total:,} issues: {_some(errors, rows.errors, 'error', first=False)} "
        f"and {_some(warnings, rows.warnings, 'warning', first=True)}, the errors first, then the warnings, each in "
        "file order."
    ]
    if erring and listed == erring:
        said.append(
            ("The record with errors has" if erring == 1 else f"Every one of the {erring:,} records with errors has")
            + " at least one of its errors here"
            + ("." if errors == rows.errors else ": the rest of a record's errors may be only in issues.csv.")
        )
    elif erring:
        name, record = rows.last_listed or ("", 0)
        said.append(
            f"Only {listed:,} of the {erring:,} records with errors have a row here: none after record {record:,} "
            f"of {PurePath(name).name or name}."
        )
    said.append(
        f"issues.csv and report.json, next to this file, hold all {total:,} issues: look there for a record not on "
        "this page. The counts and charts above cover them all."
    )
    return said


def _some(here: int, count: int, noun: str, *, first: bool) -> str:
    """`all 1,191 errors`, `4,500 of the 6,002 errors`, `the first 3,809 of the 4,473 warnings`, `none of the 2
    warnings`, `no warnings`."""
    if count == 0:
        return f"no {noun}s"
    if here == count:
        return f"the {noun}" if count == 1 else f"all {count:,} {noun}s"
    if here == 0:
        return f"not the {noun}" if count == 1 else f"none of the {counted(count, noun)}"
    return f"{'the first ' if first else ''}{here:,} of the {counted(count, noun)}"


@dataclass
class Status:
    """The summary box: what matters most about the run, for someone who reads nothing else."""

    key: str  # data-status, for tests and scripts
    tone: str  # good, warn or bad
    lines: list[tuple[str, str]]  # (in bold, then plain)


# A blocked record's words in the summary box: a real run's say what was written before the refused change, a
# dry run's do not.
_BLOCKED = "{} cannot be changed through the API."
_BLOCKED_WHY = (
    "Register's trainee is in a state that refuses the change (recommended, withdrawn or awarded; or a withdrawal "
    "before its ITT start date), and the extract differs (see Issues). Correct the SRS, or ask DfE's Register support "
    "if Register must change."
)
_BLOCKED_WRITTEN = (
    "A record whose action is create was created, and one whose action is update was updated (its issue says what was "
    "written): only the change after it is refused; do not add the trainee by hand."
)


# Problems the summary box names by how many records have them: (key, in bold with the count, then plain).
_PER_RECORD = {
    # Not only a lost answer: a stop while a record's next write waited for the rate budget (most of a run's time at
    # Register's pace) leaves it half written, every answer in hand; a 500 after every retry may have been carried out.
    "unknown": (
        "{} may not have been written in full.",
        "The run was stopped while writing to Register, or Register's answer to a write was lost or was a server "
        "error, so part of what the extract says may be missing there. Run the same sync again: it looks in "
        "Register first, sends what is missing and creates no one twice.",
    ),
    "failed": ("{} failed at Register.", "Register's messages are under Issues."),
    # A sync Register stopped answering: its record in hand then is `failed` too, with nothing wrong in it.
    "failed_when_register_stopped": (
        "{} not written to Register.",
        "Issues says why for each: correct a record Register refused (api_rejected); one caught when Register "
        "stopped answering (sync_unavailable) needs only the same sync run again.",
    ),
    "conflict": (
        "{} could not be matched safely to Register's trainees.",
        "Nothing was written for {them}; Issues names the trainees in Register.",
    ),
    "blocked": (_BLOCKED, f"{_BLOCKED_WHY} {_BLOCKED_WRITTEN}"),
    # A dry run's: it wrote nothing, and a record it plans blocked has action blocked (no create or update went
    # ahead of it), so what was written is left out (review180 F5).
    "blocked_dry_run": (_BLOCKED, _BLOCKED_WHY),
}


# The summary box's words for why a sync stopped part-way (report.json's sync.stopped.by), and what to do first.
_STOPPED_HOW = {
    "signal": "This sync was stopped before it finished (Ctrl-C or a signal).",
    "token": "This sync stopped before it finished: Register refused the API token part-way.",
}
_STOPPED_THEN = {
    "register": "Once Register answers again, run",
    "token": "Get a token Register accepts (a revoked or expired one is refused), then run",
}


def _status(
    summary: dict[str, int],
    sync: dict[str, Any] | None,
    held: dict[str, int] | None = None,
    kinds: Counter | None = None,
    *,
    listed: dict[str, tuple[int, int]] | None = None,
    formats: Collection[str] = (),
) -> Status:
    """Every problem that needs someone to act, worst first; "Nothing to fix" only when there is none. `held`: the
    records planned as conflict or blocked or found so by Register (by action or outcome: a record this run created,
    whose withdrawal Register then refused, keeps action create), when the records were read; else by action.
    `kinds`: the invalid records by what their errors say (_count_kinds); without it, each is one Register refuses.
    `listed`: a sync warning's code -> the records with it and those the page lists (_sync_news). `formats`: the
    inputs' formats, which say where their values are corrected (_invalid_advice)."""
    records, invalid = summary["records"], summary["invalid"]
    if records == 0:
        return Status("empty", "bad", [("No records were read.", "")])
    bad: list[tuple[str, str, str]] = []
    outcomes = (sync or {}).get("outcomes") or {}
    actions = (sync or {}).get("actions") or {}
    if sync and sync.get("interrupted"):
        bad.append(_interrupted(sync, records))
    waiting = (sync or {}).get("waiting") or {}
    if n := outcomes.get("unknown", 0) - waiting.get("records", 0):
        bad.append(_per_record("unknown", n))
    if waiting:
        bad.append(_waits(waiting))
    if n := outcomes.get("failed"):
        register_stopped = ((sync or {}).get("stopped") or {}).get("by") == "register"
        changed = (sync or {}).get("lists_changed")
        if isinstance(changed, dict) and (stale := int(changed.get("records") or 0)):
            # Refused for a code Register's lists no longer have, or held back unsent after that refusal: one cause and
            # one first step for all of them, in the summary line's words (review223 F1); the other failures after it.
            bad.append(_lists_changed(changed, stale))
            n -= stale
        if n > 0:
            kind = "failed_when_register_stopped" if register_stopped else "failed"
            bad.append(_per_record(kind, n, key="failed", other=n < outcomes["failed"]))
    if invalid:
        bad.append(
            (
                "errors",
                # report.json's summary.invalid: records that failed validation. A sync's own errors (a conflict,
                # Register's refusal) are on records it counts as valid, and are named by the lines below (review54 F6).
                f"{invalid:,} of {counted(records, 'record')} failed validation.",
                _invalid_advice(
                    invalid, kinds or Counter(), sent=bool(sync and not sync.get("dry_run")), formats=formats
                ),
            )
        )
    dry_run = bool(sync and sync.get("dry_run"))
    bad += [
        _per_record(f"{key}_dry_run" if dry_run and f"{key}_dry_run" in _PER_RECORD else key, n, key=key)
        for key in HELD_BACK
        if (n := (actions if held is None else held).get(key))
    ]
    news = _sync_news(sync or {}, listed or {})
    if bad:
        return Status(bad[0][0], "bad", [(strong, text) for _key, strong, text in bad] + news)
    if summary["errors"]:
        return Status("errors", "bad", [(f"{counted(summary['errors'], 'error')}.", "See Issues.")])
    if summary["warnings"] or news:
        return Status(
            "warnings",
            "warn",
            [
                *news,
                (
                    _all_pass(records),
                    f"{counted(summary['warnings'], 'warning')} to look at: Register accepts these records, "
                    "but check each one."
                    if summary["warnings"]
                    else "",
                ),
            ],
        )
    return Status("clean", "good", [(_all_pass(records), "Nothing to fix.")])


def _causes(status: Status, report: ReportBuilder) -> Status:
    """`status` with a line, after its first, for each cause that reaches across an input (ReportBuilder.causes): a
    file that looks opened in a spreadsheet and saved again, the one cause of most of its issues, which the issues
    table may list only past its row cap (review151 F9); a user's field map's sources that no record has, or that a
    record holds misspelt (review161 F1). Their words quote an input's name and a user's field map's source names:
    invisible characters are named, as in a value (a bidi override would reverse the paragraph after it, review165
    F4)."""
    status.lines[1:1] = [(f"{visible(name)}:", f"{visible(said)}.") for name, said in report.causes()]
    return status


def _invalid_advice(invalid: int, kinds: Counter, *, sent: bool, formats: Collection[str] = ()) -> str:
    """What the summary box says of the `invalid` records, by what their errors say (`kinds`, _count_kinds): Register
    refuses a record that breaks its own rules; one that fails only register-batch's checks it would take, but lose
    or change data; a record of another provider is right as it is, and goes with that provider's token (review114
    F1: a data officer told to correct it may give a partner's record their own UKPRN). Where to correct them, by the
    inputs' `formats`: the SRS, or the spreadsheet Register's CSV template is filled in (review168 F1)."""
    checks, provider_only = kinds["checks"], kinds["provider_only"]
    refused = max(invalid - checks - provider_only, 0)

    def them(count: int) -> str:
        return ("it" if count == 1 else "them") if count == invalid else f"{count:,} of them"

    def they_are(count: int) -> str:
        if count == invalid:
            return "It is" if count == 1 else "They are"
        return f"{count:,} of them {'is' if count == 1 else 'are'}"

    said = []
    if refused:
        said.append(f"Register would refuse {them(refused)}.")
    if checks:
        found = "register-batch's checks found data Register would drop or replace without telling you, or that would"
        said.append(
            f"Register would not refuse {them(checks)}, but {found} go wrong later."
            if checks == invalid
            else f"In {them(checks)}, {found} go wrong later."
        )
    if sent:
        said.append(f"{'It was' if invalid == 1 else 'They were'} not sent.")
    if refused or checks:
        values = "the values listed under Issues" + (
            ", other than the UKPRN," if kinds["several_providers"] or kinds["other_provider_record"] else ""
        )
        said.append(wording.sentence(wording.where_to_correct(formats, values)))
    if several := kinds["several_providers"]:
        said.append(
            f"{they_are(several)} from inputs that hold several providers' records (several_providers): give your "
            "provider's UKPRN with --ukprn, and send the other providers' records with their own provider's token."
        )
    if other := kinds["other_provider_record"]:
        said.append(
            f"{they_are(other)} another provider's (other_provider_record): send {'it' if other == 1 else 'them'} with "
            "that provider's own token (Rules and fixes says when a training partner's go with yours)."
        )
    if several or other:
        said.append("Do not change a record's UKPRN to yours.")
    return " ".join(said)


def _interrupted(sync: dict[str, Any], records: int) -> tuple[str, str, str]:
    """The first thing a stopped sync's report says: how it stopped, how far it got, and to run it again."""
    outcomes = sync.get("outcomes") or {}
    done, left = outcomes.get("done", 0), outcomes.get("pending", 0)
    why = sync.get("stopped") or {}
    by, message = str(why.get("by")), why.get("message")
    how = _STOPPED_HOW.get(by, "This sync stopped before it finished.")
    if by == "signal" and why.get("signal") and message:
        # Which signal, and what usually sends it: a systemd stop, a dropped SSH session or Ctrl-C (review208 F8).
        how = f"This sync was stopped before it finished, by {shown(str(message).removeprefix('stopped by '), 300)}."
    return (
        "interrupted",
        how,
        f"{done:,} of {counted(records, 'record')} done"
        + (f", {left:,} not reached" if left else "")
        # Register's words, its invisible characters named as the page names a value's (review106 F3)
        + (f" ({shown(message, 500)})" if by == "register" and message else "")
        + f". {_STOPPED_THEN.get(by, 'Run')} the same sync again: it carries on where this run stopped and "
        "creates no one twice.",
    )


def _sync_news(sync: dict[str, Any], listed: dict[str, tuple[int, int]] | None = None) -> list[tuple[str, str]]:
    """News about Register's side, most in need of a person first: earlier writes never answered for records not in
    this extract, then the sync's own warnings. `listed`: a code -> the records with it and those the page lists,
    when the page cannot list them all: "(see Records)" then says how many it does and where the rest are."""
    sync_warnings = sync.get("warnings") or {}
    dry_run = bool(sync.get("dry_run"))
    outcomes = sync.get("outcomes") or {}
    unfinished = bool(outcomes.get("failed") or outcomes.get("unknown"))
    news = [
        _sync_warning(code, n, dry_run=dry_run, listed=(listed or {}).get(code), unfinished=unfinished)
        for code in _SYNC_WARNINGS
        if (n := sync_warnings.get(code))
    ]
    if unanswered := int(sync.get("unanswered_elsewhere") or 0):
        news.insert(
            0,
            (
                f"{counted(unanswered, 'earlier write')} never answered, for "
                f"{'a record' if unanswered == 1 else 'records'} not in this extract.",
                "What Register holds for each is under Sync results: a create may have made a trainee nobody expects.",
            ),
        )
    # The night's own warnings before the records': an old extract, another year's, one that lacks trainees synced
    # before (report.json's sync.run_warnings, review208). Never "Nothing to fix" beside them.
    return [
        _run_warning(warning, dry_run=dry_run, listed=(listed or {}).get(str(warning.get("code"))))
        for warning in sync.get("run_warnings") or ()
    ] + news


# The summary box's words in bold for a run warning (report.json's sync.run_warnings), by code: a real run's, a dry
# run's. Its message follows them.
_RUN_WARNINGS = {
    # Expected on a provider's first sync; any other night, a job given another state dir than its earlier syncs'
    # (review223 F2). Never "Nothing to fix" beside it, even on a first migration: only a person knows which it is.
    "sync_state_dir_new": (
        "A new state dir, for trainees Register already holds: expected on a provider's first sync only.",
        "A new state dir, for trainees Register already holds: expected on a provider's first sync only.",
    ),
    "sync_extract_seen_before": (
        "This extract was synced before, and a newer one since.",
        "This extract was synced before, and a newer one since.",
    ),
    "sync_created_course_ended": (
        "{} created whose course had ended before last academic year.",
        "{} would be created whose course had ended before last academic year.",
    ),
    "sync_extract_lacks_synced": (
        "{} this state dir synced before not in tonight's extract.",
        "{} this state dir synced before not in the extract.",
    ),
    "sync_account_unmatched": (  # only a dry run's: a real run stops (review217 F1)
        "A real run would stop before creating {} in an account that holds none of the records.",
        "A real run would stop before creating {} in an account that holds none of the records.",
    ),
}


# Run warnings whose records each carry a record warning of the same code: the summary box sends people to Records
# for them, and the page ranks them as it ranks _SEE_RECORDS' (a capped page held none of 75, review223 F3).
_RUN_WARNED_RECORDS = frozenset({"sync_created_course_ended"})


def _run_warning(warning: dict[str, Any], *, dry_run: bool, listed: tuple[int, int] | None = None) -> tuple[str, str]:
    """A run warning's line. `listed`: of a code of _RUN_WARNED_RECORDS, the records with it and those the page lists:
    "(see Records)", or where they are when the page lists fewer (review223 F3)."""
    code, count = str(warning.get("code")), int(warning.get("count") or 0)
    real, dry = _RUN_WARNINGS.get(code, ("{}:", "{}:"))
    strong = (dry if dry_run else real).format(counted(count, "trainee"))
    message = str(warning.get("message") or "")
    where = ""
    if code in _RUN_WARNED_RECORDS and listed is not None:
        records, here = listed
        where = (
            f" {_SEE[:-1]}"
            if here >= records
            else f" ({'none of them on this page' if here == 0 else f'Records lists {here:,} of the {records:,}'}: "
            f"results.csv and issues.csv list them all, under the code {code})"
        )
    return strong, f"{visible(message[:1].upper() + message[1:])}{where}."  # a sentence of its own, as the summary's


_SEE = "(see Records)."
# Warnings the sync itself gives, which are news about Register's side rather than the extract's: (in bold with the
# count, then plain), most in need of a person first.
_SYNC_WARNINGS = {
    "sync_state_differs": (
        "{}: in training in the extract, withdrawn or deferred in Register.",
        "The API cannot reinstate anyone, so nothing was sent: decide which is right (see Records).",
    ),
    "sync_state_details_differ": (
        "{}: a withdrawal or deferral Register holds, or has ended, that is not as the extract says.",
        "The API cannot change or end a withdrawal or deferral, so nothing was sent: decide which is right (see "
        "Records).",
    ),
    "sync_overwrites_register_edit": (
        "{}: changed in Register's service since this state dir's last sync, in fields the SRS has not changed.",
        "This sync put the extract's values back: to keep a value changed in Register, make the same change in the "
        "SRS, or the next sync undoes it again (see Records).",
    ),
    "initiative_kept_untagged": (
        "{}: a training initiative the SRS gave last time kept in Register, as no Student of the file has its tag.",
        "If the SRS removed it, have the export write the tag as NULL; check that your mapping file names the tag "
        "the SRS writes (see Records).",
    ),
    "sync_duplicate_held": (
        "{}: Register holds another trainee with the same HUSID and start year.",
        "If they are the same person, ask Register's support to delete the one the record is not synced to (see "
        "Records).",
    ),
    "sync_other_instance": (
        "{}: created beside another course instance of the same SRS id.",
        "Check each is a new course, not the same person with a corrected HUSID (see Records).",
    ),
    "sync_found_done": (
        "{}: a withdrawal or deferral already in Register when this run sent it.",
        "Someone made {each} in Register's service after this run listed the trainee; this run did not write {them}.",
    ),
    "register_did_not_keep_code": (
        "{}: a code Register held otherwise than sent (null, or another code), without an error.",
        "Its code lists have most likely changed since the ones in use: run `register-batch reference pull` and "
        "`register-batch reference diff` (see Records).",
    ),
    "sync_degree_covered": (
        "{}: not sent, as Register refuses a degree whose every value given is another's of the trainee.",
        "Most often the extract has the same degree twice (once without its grade): remove the copy in the SRS, or "
        "give the value that tells the two apart (see Records).",
    ),
    "sync_after_award": (
        "{}: a correction the SRS made to a trainee recommended for award or awarded in Register, not sent.",
        "Register's API takes no change of such a trainee, and the job does not fail for it; if the award depends on "
        "it, ask DfE's Register support (see Records).",
    ),
    "sync_after_withdrawal": (
        "{}: a correction the SRS made to a trainee withdrawn in Register, not sent.",
        "Register's API takes no change of a withdrawn trainee, and the job does not fail for it; nothing to do "
        "unless DfE reinstates the trainee, when the next run sends it (see Records).",
    ),
    "sync_held": (
        "{}: a withdrawal or deferral waits until Register accepts it, or until its own date.",
        "Each run sends it then (a withdrawal from the ITT start date; one dated ahead on its day); nothing to do.",
    ),
    "sync_written_earlier": (
        "{}: written by an earlier sync that ended before its report (killed, stopped at once by a second Ctrl-C or "
        "SIGTERM, or the machine stopped), or whose "
        "report has them as unknown (the answer was lost).",
        "Register holds {each} once; this report is the first to list {them} (see Records).",
    ),
}


# A dry run settles nothing in the ledger: the real run after it lists the same earlier writes again. Both said they
# were the first to list them (review106 F4).
_DRY_RUN_SAYS = {
    "sync_overwrites_register_edit": "A real run puts the extract's values back: to keep a value changed in Register, "
    "make the same change in the SRS first (see Records).",
    "sync_written_earlier": "Register holds {each} once; a dry run settles nothing, so the next real run's report is "
    "the first to list {them} (see Records).",
}


# A run that left records failed or unknown: its warnings of them say the values were sent and "may" be in Register
# now (RecordResult._edit_maybe_undone), which the box does not state as fact (review192 F2).
_UNFINISHED_SAYS = {
    "sync_overwrites_register_edit": "This sync put the extract's values back, or, for a record it did not finish, "
    "sent them (Register may hold them now): to keep a value changed in Register, make the same change in the SRS, or "
    "the next sync undoes it again (see Records).",
}


# The records the summary box sends people to Records for (review134 F6: the table ranks them before the writes).
_SEE_RECORDS = frozenset(code for code, (_strong, text) in _SYNC_WARNINGS.items() if text.endswith(_SEE))


def _sync_warning(
    code: str, count: int, *, dry_run: bool = False, listed: tuple[int, int] | None = None, unfinished: bool = False
) -> tuple[str, str]:
    strong, text = _SYNC_WARNINGS[code]
    text = _UNFINISHED_SAYS.get(code, text) if unfinished and not dry_run else text
    # One warning a degree for sync_degree_covered (a record may have two), one a record for the others.
    noun = "degree" if code == "sync_degree_covered" else "record"
    said = _of_count(_DRY_RUN_SAYS.get(code, text) if dry_run else text, count)
    if listed is not None and listed[1] < listed[0] and said.endswith(_SEE):
        # more than the page holds: say how many it lists, and where every one is (an issue each)
        said = said[: -len(_SEE)] + (
            f"(Records lists {listed[1]:,} of the {counted(listed[0], 'record')}; issues.csv and report.json list "
            f"them all, under the code {code})."
        )
    return strong.format(counted(count, noun)), said


def _of_count(text: str, count: int) -> str:
    """The words after a count in the summary box, for that count: `{them}` and `{each}` of one record are "it"
    ("1 record could not be matched ... Nothing was written for them": review106 F6)."""
    return text.format(them="it", each="it") if count == 1 else text.format(them="them", each="each")


def _waits(waiting: dict[str, Any]) -> tuple[str, str, str]:
    """The summary box's line for the records held back until a time (report.json's `sync.waiting`, sync_waits): no
    run was stopped and no answer of this run's need have been lost, and the same sync run at once only waits again
    (review157 F1)."""
    count = int(waiting["records"])
    until = f"{datetime.fromisoformat(waiting['until']):%H:%M} UTC"
    its = "its trainee" if count == 1 else "their trainees"
    return (
        "waits",
        f"{counted(count, 'record')} {'waits' if count == 1 else 'wait'} for a request of {its} that had no answer.",
        _of_count(
            "Nothing is wrong with {them}: Register may still carry that request out, so nothing more was sent for "
            f"{{them}}, lest it be written twice or overtaken. Run the same sync again after {until}: it looks in "
            "Register first and finishes {them}. A run before then only waits again.",
            count,
        ),
    )


def _per_record(wording: str, count: int, *, key: str | None = None, other: bool = False) -> tuple[str, str, str]:
    """`other`: said after a line naming others of the same outcome ("2 other records failed at Register.")."""
    strong, text = _PER_RECORD[wording]
    return key or wording, strong.format(counted(count, "other record" if other else "record")), _of_count(text, count)


def _lists_changed(changed: dict[str, Any], count: int) -> tuple[str, str, str]:
    """The summary box's line for report.json's sync.lists_changed: records Register refused for a code the lists in
    use have, and those not sent after that refusal (none of which failed *at* Register): its lists changed, and the
    first step is to pull them, as the summary line says (review223 F1)."""
    message = str(changed.get("message") or "")
    return (
        "failed",
        f"{counted(count, 'record')} not written: Register no longer lists a code {'it' if count == 1 else 'they'} "
        "give.",
        f"{visible(message[:1].upper() + message[1:])}. Then give a code Register takes, in the SRS or a translation "
        "in your mapping file (each record's issue names its field), and run the same sync again.",
    )


def _all_pass(records: int) -> str:
    return "The record passes Register's rules." if records == 1 else f"All {records:,} records pass Register's rules."


_STATE_ACTIONS = {"withdrawn": "withdraw", "deferred": "defer"}


def _states_reached(record: dict[str, Any]) -> list[str]:
    """The withdrawal or deferral a created or updated record's row changes its trainee's state to (its `state`
    change: Register's state, the extract's), as an action name."""
    return [
        _STATE_ACTIONS[change["source"]]
        for change in record.get("changes") or ()
        if isinstance(change, dict) and change.get("field") == "state" and change.get("source") in _STATE_ACTIONS
    ]


def _split(outcomes: Counter) -> list[tuple[str, int]]:
    """How the records of one action ended, for a real run: [("done", 11), ("failed", 1)]."""
    order = {key: rank for rank, (key, _label, _tone) in enumerate(OUTCOMES)}
    return sorted(
        ((key, count) for key, count in outcomes.items() if key), key=lambda kv: (order.get(kv[0], 99), kv[0])
    )


def context(report: ReportBuilder) -> dict[str, Any]:
    """Everything the template shows, computed once so the template stays presentation only."""
    from register_batch.validation.catalogue import CATALOGUE

    header = report.header()
    summary = header["summary"]
    total = summary["errors"] + summary["warnings"]
    limit = reports.HTML_ISSUE_LIMIT  # read when used: tests lower it
    rows, field_errors, code_errors = _issue_rows(report, limit)
    rules = []
    for code, count in sorted(report.by_code.items(), key=lambda item: (-item[1], item[0])):
        entry = CATALOGUE.get(code)
        rules.append(
            _RuleRow(
                code=code,
                count=count,
                errors=code_errors[code],
                warnings=count - code_errors[code],
                source=entry.source if entry else "",
                checked_by=_checked_by(entry),
                fix=entry.fix_in_full() if entry else "",
            )
        )
    sync = _sync_context(report.extra, limit, rows.sent_to_records)
    capped = len(rows) < total
    css, js = _asset("report.css"), _asset("report.js")
    return {
        "title": TITLES.get(report.command, f"{report.command.capitalize()} report"),
        "command": report.command,
        "header": header,
        "summary": summary,
        "total": total,
        "issues": rows,
        "shown": len(rows),
        "truncated": capped,
        "issue_notice": _issue_notice(rows, total),
        "rules": rules,
        "rule_info": {rule.code: rule for rule in rules},
        "field_chart": _bars(report.by_field, field_errors, "field", "fields", rows.by_field if capped else None),
        "rule_chart": _bars(report.by_code, code_errors, "code", "rules", rows.by_code if capped else None),
        # (value, label, count in all, count on this page): the page may hold fewer rows than the report
        "field_options": [
            (key, FIELD_WORDS.get(key, key), count, rows.by_field[key])
            for key, count in sorted(report.by_field.items())
        ],
        "code_options": [(rule.code, rule.code, rule.count, rows.by_code[rule.code]) for rule in rules],
        "severity_options": [
            ("error", "Errors", summary["errors"], rows.by_severity["error"]),
            ("warning", "Warnings", summary["warnings"], rows.by_severity["warning"]),
        ],
        "outcome_labels": {key: label for key, label, _tone in (*OUTCOMES, *RARE_OUTCOMES.values())}
        | (DRY_RUN_OUTCOMES if sync and sync["dry_run"] else {}),
        "status": _causes(
            _status(
                summary,
                report.extra.get("sync") if isinstance(report.extra.get("sync"), dict) else None,
                sync["held_back"] if sync else None,
                rows.invalid_kinds,
                listed=sync["sent_to_records"] if sync else None,
                formats={info.format for info in report.inputs},
            ),
            report,
        ),
        "input_options": sorted({info["path"] for info in header["inputs"]} | rows.inputs),
        "sync": sync,
        "provider": _provider(report.extra),
        "run": _run_context(header, report.extra),
        # A sync's options (report.json's settings): its --rate, --timeout, token source, folders (review208 F3).
        "settings": report.extra.get("settings") if isinstance(report.extra.get("settings"), dict) else None,
        "cycles": academic_cycles(header["inputs"]),
        "css": Markup(css),
        "js": Markup(js),
        "csp": (
            f"default-src 'none'; style-src {_csp_hash(css)}; script-src {_csp_hash(js)}; "
            "img-src data:; base-uri 'none'; form-action 'none'"
        ),
    }


WRITE_SIZE = 1 << 16  # characters of rendered pieces (a few characters each, or a table's row) joined into one write


def write(fh: IO[str], report: ReportBuilder) -> None:
    """Write the page as it is rendered, some 64 K characters at a time: a large report never sits in memory whole.
    (By size, not by count: a table's row is one piece of about 1,400 characters, the rest a few characters each.)"""
    batch: list[str] = []
    size = 0
    for piece in _template().generate(**context(report)):
        batch.append(piece)
        size += len(piece)
        if size >= WRITE_SIZE:
            fh.write("".join(batch))
            batch, size = [], 0
    fh.write("".join(batch))


def _template() -> Template:
    if _ENV.bytecode_cache is None:  # looked up once per process
        _ENV.bytecode_cache = template_cache.for_environment(_ENV)
    return _ENV.get_template("report.html.j2")
