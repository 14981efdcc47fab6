"""Apply a MappingConfig to raw records, producing TraineeRecords with mapping issues attached."""

from __future__ import annotations

import difflib
import functools
import itertools
import re
import unicodedata
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from functools import lru_cache, update_wrapper
from typing import Any, TypeVar, cast

from register_batch.mapping.loader import (
    FAMILIES,
    CodeTranslation,
    FieldMap,
    MappingConfig,
    NamedSource,
    code_list_for,
)
from register_batch.model import (
    ALL_CLEARABLE_INITIATIVES,
    ALL_CLEARABLE_SUBJECTS,
    CLEARABLE_INITIATIVES,
    CLEARABLE_SUBJECTS,
    HELD_WITHDRAWAL,
    UKPRN_FORM,
    Severity,
    TraineeRecord,
)
from register_batch.readers.base import RawRecord
from register_batch.reference import (
    DISABILITY_FIELDS,
    TRAINEE_CODE_FIELDS,
    ReferenceData,
    list_of_field,
    load_reference,
)

UK_COUNTRIES = frozenset({"XF", "XG", "XH", "XI", "XK"})  # hesa-formats.md §2.3.4
_FLAT_GROUP = re.compile(r"^(?P<tag>.+?)_(?P<n>\d+)$")
_REASON_SPLIT = re.compile(r"[;|]")
# A HESA ITT collection as F_RECID gives it (22053), or as a vintage is named (C22053): hesa-formats.md §1.1.
_COLLECTION = re.compile(r"[Cc]?(\d\d053)")
# Names and email as people type them: in the composed form (NFC) that keyboards and Register's service give, not
# an SRS's decomposed one (e + U+0308 for ë). Register counts the characters against its limits (§3.1: 60), its
# duplicate check (§4) compares surnames as text, and drift would show a name that looks the same as changed, every
# night (review40 F2).
COMPOSED_FIELDS = ("first_names", "middle_names", "last_name", "previous_last_name", "email")


@dataclass(frozen=True, slots=True)
class _Plan:
    """A field map as the per-record loop wants it: (API field, first source, other sources) of each field read from
    a source, and fields with translations."""

    fmap: FieldMap
    trainee: tuple[tuple[str, str, tuple[str, ...]], ...]
    # (field, its translations, the codes they translate by a `when`: most have none)
    translated: tuple[tuple[str, CodeTranslation, frozenset[str]], ...]
    # CLEARABLE_SUBJECTS, their sources (none: not read), and whether they are a user's (not the bundled ones)
    subjects: tuple[tuple[str, tuple[str, ...], bool], ...]
    groups: frozenset[str | None]  # the groups the field map reads (degrees, placements): any other is `_unread_groups`
    initiatives: tuple[tuple[str, frozenset[str]], ...]  # CLEARABLE_INITIATIVES and their sources (none: not read)
    # What _said_initiatives answers for a record with every one of those sources (a HESA extract's usual Student):
    # the initiatives read from a source, and those sources.
    every_initiative: frozenset[str]
    initiative_sources: frozenset[str]


_F = TypeVar("_F", bound=Callable[..., Any])


def _names_cache(maxsize: int, most_chars: int) -> Callable[[_F], _F]:
    """lru_cache(maxsize) for a function of the input's tag or column names (its first argument: a str, or a tuple of
    them; the others are subsets of it or the field map's), which holds at most one entry for names of more than
    `most_chars` characters in all: bounded in entries only, each cache could hold 256 records' worth of tag names of
    45,000 characters, hundreds of MB (review184 F5). A HESA record's tags come to some 1,500 characters, a CSV's
    header a few thousand. The names are measured on a miss only, and such names empty the cache before theirs is
    kept: a hit costs what lru_cache's does (measuring at every call, 60 tags' lengths, cost a microsecond a call,
    some 2.5% of a validate)."""

    def wrap(function: _F) -> _F:
        def missed(*args: Any) -> Any:
            names = args[0]
            if (len(names) if isinstance(names, str) else sum(map(len, names))) > most_chars:
                cached.cache_clear()  # lru_cache keeps the result after this returns: the one long entry
            return function(*args)

        cached = lru_cache(maxsize=maxsize)(missed)
        return cast(_F, update_wrapper(cached, function))

    return wrap


NAME_CHARS_CACHED = 256  # a column name's characters, at most, for _place to remember it (HESA's longest tag: ~20)
NAMES_CHARS_CACHED = 16_384  # a set of names' characters, at most, for the caches of record's tags to remember it


_SOURCE_NAMES: dict[int, tuple[dict[str, tuple[str, ...]], frozenset[str]]] = {}
_SOURCE_NAMES_KEPT = 256  # tables remembered at most: a long-running caller loads a mapping per job


def _source_names(table: dict[str, tuple[str, ...]]) -> frozenset[str]:
    """Every source name of a field table, remembered per table. The cache keeps its tables alive, so it holds a
    bounded number: a service loading a mapping per job would otherwise keep every one it ever loaded."""
    found = _SOURCE_NAMES.get(id(table))
    if found is None or found[0] is not table:
        if len(_SOURCE_NAMES) >= _SOURCE_NAMES_KEPT:
            _SOURCE_NAMES.clear()
        found = _SOURCE_NAMES[id(table)] = (table, frozenset(s for sources in table.values() for s in sources))
    return found[1]


@_names_cache(4096, NAME_CHARS_CACHED)  # bounded: column names are the input's to choose
def _place(name: str, wanted: frozenset[str]) -> tuple[str, int] | None:
    """(source name, row number) of a flat column of a group, or None when the column is not the group's."""
    if name in wanted:
        return name, 1
    match = _FLAT_GROUP.match(name)
    if match and match["tag"] in wanted:
        return match["tag"], int(match["n"])
    return None


@_names_cache(256, NAMES_CHARS_CACHED)  # a CSV's rows all have its header's names: one entry serves a whole file
def _group_columns(names: tuple[str, ...], wanted: frozenset[str]) -> tuple[tuple[str, str, int], ...]:
    """The columns among `names` that belong to a group: (column, source name, row number), in order."""
    return tuple((name, *place) for name in names if (place := _place(name, wanted)) is not None)


# C22053 and earlier: F_RSNEND with F_ENDDATE made the legacy import withdraw a trainee for 03, 05 and 11
# (hesa-formats.md §2.3.19). Every code but 01 (left with an award) and 98 (award not yet known) says the trainee
# left (§5 item 25), so each of them is reported.
LEGACY_LEAVING_REASONS = {"03": "transferred to another provider", "05": "death", "11": "another reason"}
NOT_LEAVING = frozenset({None, "01", "98"})  # no value, or an award
# The layouts with F_RSNEND and F_ENDDATE, which C23053 removed (hesa-formats.md §1.3): records that can say a
# trainee left. Since then a HESA record says a withdrawal only in register-batch's own WITHDRAWAL_* columns (or an
# F_RSNEND its SRS still writes, which is read in any layout).
LEAVING_LAYOUTS = frozenset({"C21053", "C22053"})
# A leaver's F_ENDDATE is the date they left (hesa-formats.md §1.3), never read as their expected end date.
LEAVING_DATE = "F_ENDDATE"


def _named(table: dict[str, tuple[str, ...]]) -> str:
    """The columns a withdrawal or deferral table reads, for a message: `withdrawal_*` when they share a prefix."""
    names = list(dict.fromkeys(sources[0] for sources in table.values()))
    prefix = names[0].partition("_")[0] + "_"
    return f"{prefix}*" if len(names) > 1 and all(n.startswith(prefix) for n in names) else ", ".join(names)


@dataclass(frozen=True, slots=True)
class _StateSources:
    """Where a field map's records say a withdrawal or a deferral (TraineeRecord.can_say): its own columns or tags
    for them (`withdrawal_*`, `defer_*` or a user's), and the advice naming them. HESA records also say a deferral
    in every layout (a dormant F_MODE) and a leaving in F_RSNEND (Mapper.map)."""

    withdrawal: frozenset[str]
    deferral: frozenset[str]
    can_say: dict[tuple[bool, bool], dict[str, str]]

    @classmethod
    def of(cls, fmap: FieldMap) -> _StateSources:
        hesa = fmap.family == "hesa"
        word = "columns or tags" if hesa else "columns"
        # Both families' bundled maps have both tables, and a user's file adds to them (loader._merge), never empties.
        said = {
            state: f"its {_named(table)} {word}"
            for state, table in (("withdrawal", fmap.withdrawal), ("deferral", fmap.deferral))
        }
        if hesa:
            said["withdrawal"] += " or F_RSNEND (up to C22053)"
            said["deferral"] += " or a dormant F_MODE"
        can_say = {
            (w, d): {state: said[state] for state, can in (("withdrawal", w), ("deferral", d)) if can}
            for w in (False, True)
            for d in (False, True)
        }
        return cls(_source_names(fmap.withdrawal), _source_names(fmap.deferral), can_say)


def _read_from(plan: _Plan, api_field: str, fields: dict[str, str | None]) -> str | None:
    """The source the record's `api_field` was read from (the first of its sources with a value), None if none."""
    for name, source, others in plan.trainee:
        if name == api_field:
            return next((tag for tag in (source, *others) if fields.get(tag) is not None), None)
    return None


def _legacy_withdrawal(record: TraineeRecord, fields: dict[str, str | None], plan: _Plan) -> None:
    """Say that a legacy leaving reason is not sent: Register's withdrawals need data HESA never had.

    A leaver's F_ENDDATE is the leaving date (hesa-formats.md §1.3, §2.3.19), not the course's expected end date that
    C21053's field map falls back to it for: sent as itt_end_date, it overwrote the end date Register held with the
    leaving date of a trainee who stays in training there (review161 F2). It is left blank instead: the record then
    lacks a required itt_end_date (register-api.md §3.2), and sends nothing until the expected end date is given in
    F_EXPECTEDENDDATE; no new trainee is created with a made-up end date. That `required` error is said here, with the
    date F_ENDDATE holds and the tag to give, not as the rule says a blank field ("fill in the field": review164 F3)."""
    code = fields["F_RSNEND"]
    assert code is not None  # the caller's test: F_RSNEND is not in NOT_LEAVING, which holds None
    ended = fields.get("F_ENDDATE")
    meaning = LEGACY_LEAVING_REASONS.get(code, "a reason for ending other than an award")
    not_end = ended is not None and _read_from(plan, "itt_end_date", fields) == LEAVING_DATE
    if not_end:
        del record.data["itt_end_date"]
        record.reported.add("itt_end_date")  # the rule's plain `required` is not said beside this one
        record.issue(
            "required",
            f"itt_end_date can't be blank: F_ENDDATE {ended} is the date the trainee left (F_RSNEND '{code}'), not "
            "the expected end date of their course: give that in F_EXPECTEDENDDATE",
            field="itt_end_date",
            value=ended,
        )
    record.issue(
        "legacy_withdrawal_not_sent",
        f"F_RSNEND '{code}' ({meaning})"
        + (f" with F_ENDDATE {ended}" if ended else "")
        + " says the trainee left, but Register records a withdrawal only with reasons, a trigger and future "
        "interest, which HESA did not collect: add the withdrawal_* columns to withdraw the trainee in Register"
        + (
            f". F_ENDDATE {ended} is read as the leaving date, not as the expected end date, so itt_end_date is "
            "blank: give the expected end date in F_EXPECTEDENDDATE"
            if not_end
            else ""
        ),
        field="withdrawal_date",
        value=code,
        severity=Severity.WARNING,
    )


def _leaving_date_as_end_date(record: TraineeRecord, fields: dict[str, str | None], plan: _Plan) -> None:
    """Warn that a leaver's F_ENDDATE, the leaving date (hesa-formats.md §1.3), is sent as itt_end_date.

    For a leaver whose withdrawal is given (its withdrawal_* columns) it is kept: itt_end_date is required
    (register-api.md §3.2), and blanking it would refuse the record and the withdrawal with it. Register's expected
    end date then becomes the leaving date, which only results.csv's changes showed (review164 F1)."""
    ended = fields.get("F_ENDDATE")
    if ended is None or _read_from(plan, "itt_end_date", fields) != LEAVING_DATE:
        return
    code = fields["F_RSNEND"]
    assert code is not None  # the caller's test: F_RSNEND is not in NOT_LEAVING, which holds None
    meaning = LEGACY_LEAVING_REASONS.get(code, "a reason for ending other than an award")
    record.issue(
        "leaving_date_sent_as_end_date",
        f"F_RSNEND '{code}' ({meaning}) says the trainee left, so F_ENDDATE {ended} is the date they left, and with "
        f"no F_EXPECTEDENDDATE it is read as itt_end_date too: Register's expected end date for the course becomes "
        f"{ended}. Give the expected end date in F_EXPECTEDENDDATE to keep it",
        field="itt_end_date",
        value=ended,
        severity=Severity.WARNING,
    )


# A record's layout: the field map's vintage and the sources it reads trainee fields from instead of the map's own.
_Layout = tuple[str, dict[str, tuple[str, ...]]]
RECID = "F_RECID"  # the collection a HESA record says it is of (hesa-formats.md §1.1)
LAYOUT_CONFLICT = "layout_conflict"
_RECIDS_KEPT = 64  # F_RECID values remembered per field map: a file has one or two, but the values are the input's
_UNSEEN: Any = ("", {})  # an F_RECID value not remembered yet (_Layouts.told)


@dataclass(frozen=True, slots=True)
class _Layouts:
    """A field map's layouts as the per-record decision wants them (_choose_layout).

    `newest`: the first vintage (C23053, C24053's too); `starts`: its start-date tags (F_ITTSTARTDATE,
    F_TRAINEESTARTDATE), which the older layouts read from `older_starts` (F_ITTCOMDATE, F_COMDATE) instead;
    `older`: the other vintages in the field map's order, each with the tags that tell it (`any_of`); `apart`: those
    told by tags other than the older start dates (C21053's F_DISABLE, F_TREFNO, F_SPLENGTH, F_UNITLGTH: tags no
    later collection has), which tell them even without a start date (C22053's other tags, F_DISABLE1,
    F_EXPECTEDENDDATE, F_RSNEND, are C23053's too or kept by its templates: review121 F5); `named`: the vintages
    named for a collection, by number, for F_RECID; `dated`: the fields some layout reads from sources of its own,
    which a warning names."""

    newest: _Layout
    starts: tuple[str, ...]
    older_starts: tuple[str, ...]
    older: tuple[tuple[_Layout, tuple[str, ...]], ...]
    apart: tuple[tuple[_Layout, tuple[str, ...]], ...]
    named: tuple[tuple[int, _Layout], ...]
    dated: tuple[str, ...]
    told: dict[str, _Layout | None]  # F_RECID values seen, with the layout each says (named_by)

    @classmethod
    def of(cls, fmap: FieldMap) -> _Layouts:
        (name, any_of, _own), *rest = fmap.vintages
        newest = set(any_of)
        # The fields the newest layout reads from tags of its own and an older one from others: the start dates.
        elsewhere = {field for _name, _any_of, table in rest for field in table}
        moved = {
            field for field, sources in fmap.trainee.items() if field in elsewhere and newest.intersection(sources)
        }
        read = {source for sources in fmap.trainee.values() for source in sources}
        # In the field map's order, not the set's: the tags are named in messages.
        starts = [tag for field, sources in fmap.trainee.items() if field in moved for tag in sources if tag in newest]
        older_starts = [
            tag
            for _name, _any_of, table in rest
            for field, sources in table.items()
            if field in moved
            for tag in sources
            if tag not in read
        ]
        # Each layout one tuple, whichever way it is found: the decision compares them by identity.
        layout = {n: (n, table) for n, _a, table in fmap.vintages}
        older = tuple((layout[n], tuple(a)) for n, a, _table in rest)
        numbered = ((_COLLECTION.fullmatch(n), found) for n, found in layout.items())
        return cls(
            newest=layout[name],
            starts=tuple(dict.fromkeys(starts)),
            older_starts=tuple(dict.fromkeys(older_starts)),
            older=older,
            apart=tuple(entry for entry in older if not set(entry[1]).intersection(older_starts)),
            named=tuple(sorted(((int(m.group(1)), layout) for m, layout in numbered if m), key=lambda e: e[0])),
            dated=tuple(dict.fromkeys(field for _n, _a, table in fmap.vintages for field in table)),
            told={},
        )

    def named_by(self, recid: str) -> _Layout | None:
        """The layout of the collection F_RECID names (`22053`, or `C22053`): the vintage of that name, or of the
        latest collection before it (C24053 has C23053's layout); None where it names no ITT collection (C##053) or
        one older than every layout (16053, the value Register's own samples carry whatever their layout: review121
        F1)."""
        try:
            return self.told[recid]
        except KeyError:
            pass
        match = _COLLECTION.fullmatch(recid.strip())
        number = int(match.group(1)) if match else -1
        earlier = [layout for n, layout in self.named if n <= number]
        found = earlier[-1] if earlier else None
        if len(self.told) < _RECIDS_KEPT:
            self.told[recid] = found
        return found


@dataclass(frozen=True, slots=True)
class _Conflict:
    """What says another layout than the one a record is read by: `why` the record is read so and `against`, what
    says the `other` layout (each "recid", "starts", "older" or "apart": F_RECID, the newest layout's start dates,
    the older layouts' start dates, the tags of a layout `apart`)."""

    why: str
    other: _Layout
    against: str


def _filled(get: Any, tags: tuple[str, ...]) -> bool:
    """Whether one of `tags` has a value."""
    for tag in tags:  # noqa: SIM110 - a loop: any() of a generator costs more, once a record
        if get(tag) is not None:
            return True
    return False


def _by_tags(get: Any, candidates: tuple[tuple[_Layout, tuple[str, ...]], ...]) -> _Layout | None:
    """The first of `candidates` one of whose tags has a value."""
    for layout, any_of in candidates:
        for tag in any_of:
            if get(tag) is not None:
                return layout
    return None


def _only_older_starts(fields: dict[str, str | None], layouts: _Layouts) -> bool:
    """Whether a record has an older layout's start-date tags (F_ITTCOMDATE, F_COMDATE), even without a value, and
    none of the newest's (F_ITTSTARTDATE, F_TRAINEESTARTDATE): what tells a C22053 extract's record without a start
    date, whose F_RECID says nothing (16053, as Register's samples have, or none), from a C23053 one. Read as C23053's,
    its `required` error named F_ITTSTARTDATE, a tag its extract does not have (review176 F2). Presence, not value,
    and only where no value says anything: an exception to "NULL says nothing" that chooses no date to read."""
    return not any(tag in fields for tag in layouts.starts) and any(tag in fields for tag in layouts.older_starts)


def _why(reason: str, name: str, fields: dict[str, str | None], layouts: _Layouts, against: bool) -> str:
    """Why a record is read by the `name` layout, or (`against`) what says it is of that one (_Conflict)."""

    def filled(tags: Iterable[str]) -> str:
        return " and ".join(tag for tag in tags if fields.get(tag) is not None)

    if reason == "recid":
        return f"F_RECID {fields[RECID]} says the {name} layout" if against else f"F_RECID is {fields[RECID]}"
    if reason == "starts":
        return f"it fills {filled(layouts.starts)}"
    if reason == "older":
        if against:
            return f"it fills {filled(layouts.older_starts)} too, the {name} layout's start date"
        return f"its start date is in {filled(layouts.older_starts)}, not in {' or '.join(layouts.starts)}"
    tags = next(any_of for (layout, _own), any_of in layouts.apart if layout == name)
    return f"it fills {filled(tags)}, the {name} layout's"


def _choose_layout(fields: dict[str, str | None], layouts: _Layouts) -> tuple[_Layout, _Conflict | None]:
    """The layout a HESA record is read by, from the tags it fills and its F_RECID (hesa-formats.md §5 items 8-9),
    the same in XML and CSV (review171 F2: XML counted a NULL tag and never read F_RECID; CSV let a stale F_RECID
    outweigh a filled start date); with what says another layout, if anything.

    Only tags with a value count: an SRS template keeps an older collection's tags, empty (review117 F7), and a HESA
    file has every tag of its collection, NULL for none. The start dates decide first, as they are what the layouts
    read differently and what Register's cycle for the trainee follows: a record filling F_ITTSTARTDATE or
    F_TRAINEESTARTDATE is C23053's, whatever its F_RECID (a template updated but its record id not); one filling
    only F_ITTCOMDATE or F_COMDATE an older collection's, whatever its F_RECID (a C22053 template whose F_RECID was
    kept current: review121 F2). Register's own import read the tags its code knew, never F_RECID (its samples carry
    16053 in every layout: §1.1). F_RECID chooses among the older layouts, and where no start date is given; without
    it, an older layout told by tags of its own other than start dates (C21053's F_DISABLE, F_TREFNO, ...) is chosen
    by a value in them, then an older layout if the record has only the older start-date tags, all without a value
    (_only_older_starts), and otherwise the newest is (a C23053 record without start dates yet: review121 F5)."""
    get = fields.get
    recid = get(RECID)
    told = None
    if recid is not None and (told := layouts.told.get(recid, _UNSEEN)) is _UNSEEN:
        told = layouts.named_by(recid)  # a value not seen before: the ones seen are looked up without a call
    newest = layouts.newest
    if _filled(get, layouts.starts):
        if told is not None and told is not newest:
            return newest, _Conflict("starts", told, "recid")
        if _filled(get, layouts.older_starts):
            return newest, _Conflict("starts", _by_tags(get, layouts.older) or layouts.older[-1][0], "older")
        return newest, None
    if (told is None or told is newest) and _filled(get, layouts.older_starts):
        implied = _by_tags(get, layouts.older) or layouts.older[-1][0]
        return implied, None if told is None else _Conflict("older", told, "recid")
    apart = _by_tags(get, layouts.apart)
    if told is None:
        if apart is None and _only_older_starts(fields, layouts):
            return _by_tags(get, layouts.older) or layouts.older[-1][0], None
        return apart or newest, None
    return told, _Conflict("recid", apart, "apart") if apart is not None and apart is not told else None


def _invalid_ukprn(record: TraineeRecord, source: str, value: str) -> None:
    """Say that a record's provider cannot be told: it must not go under anyone's token (hesa-formats.md §5 item 11)."""
    record.issue(
        "invalid_ukprn",
        f"{source} '{value}' is not a UKPRN (8 digits starting with 1), so whose record this is cannot be told: "
        "it is held back",
        field="ukprn",
        value=value,
    )


# F_MODE 63/64 (dormant) made the legacy HESA import defer the trainee; the API stores them as a study mode only,
# and defers through its own call, with a date HESA never had (hesa-formats.md §1.5, §2.3.8, §5 item 25).
DORMANT_MODES = {"63": "dormant, previously full-time", "64": "dormant, previously part-time"}


def _legacy_deferral(record: TraineeRecord, mode: str, written: str) -> None:
    """Say that a dormant study mode does not defer the trainee in Register. `written`: the code as the extract has
    it, which a mapping file may translate to `mode`; the issue names it, as validation names a translated code (the
    value to look for in the SRS)."""
    shown = f"'{mode}'" if written == mode else f"'{written}' (translated to '{mode}')"
    record.issue(
        "legacy_deferral_not_sent",
        f"study_mode {shown} ({DORMANT_MODES[mode]}) made the old HESA import defer the trainee, but Register "
        "stores it as a study mode only and records a deferral only with a date, which HESA did not collect: add "
        "the defer_date column to defer the trainee in Register",
        field="study_mode",
        value=written,
        severity=Severity.WARNING,
    )


# Nationality XK is Kosovan in Register's list, but HESA's nationality list has none: Kosovo is QO there (translated to
# XK), and XK is HESA's *country* code for "United Kingdom, not otherwise specified" (hesa-formats.md §2.3.4 pitfall,
# §5 item 21). In a HESA extract it is a country code in the wrong field; in Register's CSV it is Register's own code.
COUNTRY_NOT_NATIONALITY = "XK"
KOSOVO_NATIONALITY = "QO"  # HESA's nationality code for Kosovan, which the bundled legacy.yaml translates to XK


def _uk_country_as_nationality(record: TraineeRecord, read: str) -> None:
    """Warn that a HESA record's nationality XK makes the trainee Kosovan in Register: a warning, not an error, as
    Register accepts the code and the trainee may be Kosovan after all (an SRS that writes Register's code). `read`:
    the code as the extract has it, XK, or one a user's mapping file translated to XK, the same mistake made in the
    mapping file by one who looked the UK up in the country list (review126 F2)."""
    if read == COUNTRY_NOT_NATIONALITY:
        message = (
            "nationality 'XK' is Kosovan in Register's nationality list, but HESA's nationality codes have no XK "
            "(Kosovo is QO): XK is HESA's country code for the United Kingdom, not otherwise specified, and Register "
            "would record the trainee as Kosovan. Write GB for a British trainee, QO for a Kosovan one"
        )
    else:
        message = (
            f"nationality '{read}' is translated to 'XK' by a mapping file: XK is Kosovan in Register's nationality "
            "list, though it is the country code for the United Kingdom, not otherwise specified, and Register would "
            f"record the trainee as Kosovan. If '{read}' is your SRS's code for British, translate it to GB"
        )
    record.issue("nationality_uk_country_code", message, field="nationality", value=read, severity=Severity.WARNING)


def _upload_refuses(value: str, translated: str, field: str) -> str:
    """What a legacy code's translation warning adds in Register's bulk-add CSV: register-batch sends the translated
    code through the API, but Register's CSV upload runs each row through the API's mapper as it is, with no legacy
    translation (hesa-formats.md §3.3 "Same path as the API"), so it refuses a code no longer listed (§2.1: every
    bundled legacy code) and, all or nothing (§3.4), the whole file; a disability code it drops without a word
    instead (register-api.md §3.1, §5.3; review83 F2). A warning still, as the other upload notes are: `sync` sends
    the translated code."""
    if field in DISABILITY_FIELDS:
        taken = (
            f"it takes the row and drops '{value}' without a word: Register would record the disability as not "
            f"provided (or only the row's other codes) instead of '{translated}'"
        )
    else:
        taken = f"it takes '{value}' as written, and a code not in its lists fails the row, and with it the whole file"
    return (
        f". Register's CSV upload does not translate codes: {taken}. To upload the file, write '{translated}' in it "
        f"(as `register-batch convert --to register-csv` does); `sync` sends '{translated}'"
    )


def _register_answers(field: str, value: str, reference: ReferenceData) -> str:
    """What Register itself does with a code of a row of its bulk-add CSV that the mapping cannot translate and for
    which it takes the row (untranslatable_code_register_takes; one it refuses is quoted in Register's words:
    validation.answers), after the tool's reason: what the user will find in Register's service once the file is
    uploaded (review57 F4). A code of Register's list that only a mapping file refuses is taken as written (review117
    F1); an unknown disability code is dropped without a word (register-api.md §5.3); an initiative sent with
    funding_method C is replaced (§3.3 R19). A degree's fields, dropped or replaced (§3.7), are not quoted."""
    list_name = TRAINEE_CODE_FIELDS.get(field) or ("disability" if field in DISABILITY_FIELDS else None)
    if list_name is not None and value in reference.codes(list_name):
        return (
            f". Register itself accepts '{value}' (a code of its {list_name} list): its CSV upload takes the row as "
            "written"
        )
    if field in DISABILITY_FIELDS:
        return ". Register's own answer is none: its CSV upload takes the row and drops the code without a word"
    if field == "training_initiative":
        return (
            ". Register's own answer is none: with funding_method C it records the veterans' initiative in its place, "
            "and its CSV upload takes the row"
        )
    return ""


# How an untranslatable_code error for a code the bundled legacy.yaml refuses ends, where the lists in use lack it
# (review210 F6): a pull that brings it sends it (no_translation_now_listed); a mapping of it to itself would only
# trade this error for invalid_code while the lists lack it (review213 F4).
SEND_ANYWAY = "; if Register lists it now, run `register-batch reference pull`: a code the pulled lists hold is sent"


def _listed(label: str, value: Any, reference: ReferenceData | None) -> bool:
    """Whether the lists in use (the bundled ones when not given) hold `value` for the field `label` names."""
    list_name = list_of_field(label)
    return list_name is not None and value in (reference or load_reference()).codes(list_name)


def _pulled_since(label: str, value: Any, reference: ReferenceData) -> bool:
    """Whether the pulled lists in use hold `value`, a code the bundled legacy.yaml refuses, that the bundled lists
    lack: Register has listed it since register-batch's release (review210 F6). Route 02 is in both, refused by R9."""
    list_name = list_of_field(label)
    return list_name is not None and value in reference.added_codes(list_name)


def _now_listed(label: str, value: str, reason: str) -> str:
    """The warning for a code the bundled legacy.yaml refuses and the pulled lists in use hold: sent as written."""
    return (
        f"{label}: '{value}' is sent as written: the pulled lists in use hold it, so the bundled note refusing it "
        f'("{reason}") is out of date. Register will judge it'
    )


def _locate(degree: dict[str, str]) -> str | None:
    """Send a degree read from an input as a UK or a non-UK one: the API field its `degree_type` became, if it had
    one. It runs on the translated codes (review58 F1): an SRS's own country code that a mapping file translates to
    XF makes a UK degree."""
    degree_type = degree.pop("degree_type", None)
    sent_as = None
    if degree_type is not None:
        # Locale rule (hesa-formats.md §5 item 12): UK if the country is blank or a UK code, or an institution is given.
        country = degree.get("country")
        uk = country is None or country in UK_COUNTRIES or bool(degree.get("institution"))
        sent_as = "uk_degree" if uk else "non_uk_degree"
        degree[sent_as] = degree_type
    if degree.get("country") in UK_COUNTRIES and "uk_degree" in degree:
        # A UK degree's country is stored as null by Register (register-api.md §3.7); do not send it.
        degree.pop("country")
    return sent_as


def family_of(fmt: str) -> str:
    return "register-csv" if fmt == "register-csv" else "hesa"


@dataclass(frozen=True, slots=True)
class _Elsewhere:
    """A layout (vintage) that reads a user's trainee field from sources of its own (the user's file kept them,
    loader._own_sources_win): bits for "a record of it was read" and "one of them had one of its sources"."""

    layout: str
    names: frozenset[str]
    written: tuple[str, ...]
    present: int
    filled: int


@dataclass(frozen=True, slots=True)
class _Watched:
    """A named source as watched: its bit, where it is read, and the layouts that read its field elsewhere (with the
    bit of "a record read the field from the user's source"); those matter only while the source is unseen."""

    bit: int
    names: frozenset[str]
    group: str | None
    reads_mine: int
    elsewhere: tuple[_Elsewhere, ...]


@dataclass(frozen=True, slots=True)
class UnseenSource:
    """A named source no record has, with the layouts whose records read its field from their own sources instead:
    `filled` ones had the field from them, `missing` ones did not have those either. Its field is blank in every
    record but the `filled` layouts' ones."""

    named: NamedSource
    filled: tuple[tuple[str, tuple[str, ...]], ...] = ()
    missing: tuple[tuple[str, tuple[str, ...]], ...] = ()
    near: str | None = None  # a tag or column of the input nothing reads that looks like its misspelling

    @property
    def nor(self) -> str:
        """`, nor X, which its C21053 records read instead` (or nothing), after "no record has the source"."""
        if not self.missing:
            return ""
        layouts, names = _said(self.missing)
        return f", nor {names}, which its {layouts} records read instead"

    @property
    def but(self) -> str:
        """` but its C21053 ones, which read it from X` (or nothing), after "the field is blank in every record"."""
        if not self.filled:
            return ""
        layouts, names = _said(self.filled)
        return f" but its {layouts} ones, which read it from {names}"


def _said(pairs: tuple[tuple[str, tuple[str, ...]], ...]) -> tuple[str, str]:
    """("C21053 and C22053", "F_A or F_B") for (layout, its sources) pairs, each source once."""
    names = dict.fromkeys(name for _layout, written in pairs for name in written)
    return " and ".join(layout for layout, _ in pairs), " or ".join(names)


def _trainee_field(named: NamedSource) -> str | None:
    """The trainee field a named source is read for (the only kind a layout reads from sources of its own)."""
    prefix = f"fields.{named.family}.trainee."
    return named.key.removeprefix(prefix) if named.group is None and named.key.startswith(prefix) else None


class SourceWatch:
    """Which of the tags and columns the users' field maps name an input's records have.

    A misspelt tag in a user's map matches nothing, and HESA XML ignores tags it does not know: the field would be
    blank in every record, unsaid. Each named source is a bit; a record is looked at only for the bits its input
    has not shown yet, so the cost ends once every source has been seen (a CSV's first record shows them all).
    A source counts where the mapper reads it: a trainee field's among the record's own tags, a degree's or a
    placement's in that group's rows (or, without them, as a column of its own, numbered in a CSV).

    A record of a layout that reads the field from sources of its own (C21053's `itt_end_date`, where the user's file
    keeps them) does not read the user's source: while the source is unseen, more bits note whether the records that
    read it were there, and whether each such layout's records had its sources, so that the warning is given only
    where the field is blank, and says where it is not.
    """

    def __init__(self, config: MappingConfig) -> None:
        self.named = config.named_sources
        groups = {
            family: {"degrees": fmap.degree_group, "placements": fmap.placement_group}
            for family, fmap in config.fields.items()
        }
        bits = iter(1 << n for n in itertools.count(len(self.named)))  # after the named sources' own
        self._watched: list[_Watched] = []
        for n, named in enumerate(self.named):
            api_field = _trainee_field(named)
            elsewhere = tuple(
                _Elsewhere(layout, frozenset(sources), sources, next(bits), next(bits))
                for layout, _any_of, table in config.fields[named.family].vintages
                if api_field is not None and (sources := table.get(api_field)) is not None
            )
            group = _group_of(named, groups[named.family])
            self._watched.append(
                _Watched(1 << n, frozenset(named.names), group, next(bits) if elsewhere else 0, elsewhere)
            )
        self._watch = {
            family: tuple(w for w, named in zip(self._watched, self.named, strict=True) if named.family == family)
            for family in FAMILIES
        }
        # Once these are all seen nothing more can be learnt: the other bits matter only while theirs is unseen.
        self.everything = {family: sum(w.bit for w in watched) for family, watched in self._watch.items()}

    def seen(self, raw: RawRecord, fmt: str, already: int, layout: str | None = None) -> int:
        """The bits of the sources `raw` (a record of `layout`, Mapper.map's vintage) has, among those `already`
        lacks."""
        found = 0
        for watched in self._watch[family_of(fmt)]:
            if already & watched.bit:
                continue
            if _has_source(raw, watched.names, watched.group):
                found |= watched.bit
                continue
            for elsewhere in watched.elsewhere:
                if elsewhere.layout == layout:
                    found |= elsewhere.present
                    if not elsewhere.names.isdisjoint(raw.fields):
                        found |= elsewhere.filled
                    break
            else:
                found |= watched.reads_mine
        return found & ~already

    def unseen(self, seen: dict[str, int], misspelt: dict[tuple[str, str], str] | None = None) -> list[UnseenSource]:
        """The named sources of the families in `seen` (family: its records' bits) that none of its records has,
        where their field is blank in some record for it: not where every record read it from its layout's own.
        `misspelt`: the tag a record's mapped_source_misspelt error found for a source, by (family, the issue's
        field), as UnseenSource.near."""
        found = []
        for named, watched in zip(self.named, self._watched, strict=True):
            bits = seen.get(named.family)
            if bits is None or bits & watched.bit:
                continue
            read = [e for e in watched.elsewhere if bits & e.present]
            filled = tuple((e.layout, e.written) for e in read if bits & e.filled)
            if read and len(filled) == len(read) and not bits & watched.reads_mine:
                continue  # no record reads the user's source, and every one has the field from its layout's own
            missing = tuple((e.layout, e.written) for e in read if not bits & e.filled)
            near = misspelt.get((named.family, _issue_field(named))) if misspelt else None
            found.append(UnseenSource(named, filled, missing, near))
        return found


def _as_written(raw: RawRecord, name: str, shown: str = "{}") -> tuple[str, str]:
    """A tag as the extract writes it, and as a message names it (`shown`: "<{}>" for <SURNAME>): an XML tag read by
    another name says so, "<SURNAME> (read as F_SURNAME)" (review222 F2: the F_SURNAME a message named was nowhere in
    the extract). Most records have no such tag: one look."""
    tag = raw.written.get(name, name) if raw.written else name
    said = shown.format(tag)
    return tag, said if tag == name else f"{said} (read as {name})"


MISSPELT = "mapped_source_misspelt"
MISSPELT_TAG = "misspelt_tag"  # a HESA tag the field map reads, misspelt in an extract (Mapper._misspelt_sources)
# One of register-batch's own withdrawal or deferral tags (WITHDRAWAL_DATE, DEFER_DATE), misspelt in an extract: an
# error (review177 F1), as the record would be sent as a trainee in training, the leaving or deferral lost.
MISSPELT_STATE_TAG = "misspelt_state_tag"
MISSING = "mapped_source_missing"  # a named source no record of an input has (SourceWatch.unseen; the runner says it)
# How alike a tag or column nothing reads must be to a mapped source a record lacks to be taken for its misspelling:
# difflib's ratio, case aside (LEAVE_DATE for LEAVING_DATE is 0.91, F_ITTKEY for F_ITTKY 0.93, WITHDRAWAL_DATE for
# DEFER_DATE 0.56), and a few letters apart at most (LEAVE_DATE and LEAVING_DATE are three): two long names that
# share a long part are alike by the ratio (LEAVING_SAFEGUARDING_CONCERN_REASONS and
# WITHDRAWAL_SAFEGUARDING_CONCERN_REASONS, 0.85) but name other things.
NEAR_MISS = 0.8
FEW_LETTERS = 3


def near_miss(name: str, candidates: Iterable[str], letters: int = FEW_LETTERS) -> str | None:
    """The one of `candidates` most like `name` (case aside), when alike enough to be its misspelling, `letters`
    apart at most; else None (the first by name of the most alike)."""
    wanted = name.upper()
    best: tuple[float, str] | None = None
    for candidate in sorted(candidates):
        other = candidate.upper()
        if other == wanted:
            continue
        matcher = difflib.SequenceMatcher(None, wanted, other)
        if matcher.real_quick_ratio() < NEAR_MISS or matcher.quick_ratio() < NEAR_MISS:
            continue
        ratio = matcher.ratio()
        if ratio < NEAR_MISS or (best is not None and ratio <= best[0]):
            continue
        same = sum(block.size for block in matcher.get_matching_blocks())
        if max(len(wanted), len(other)) - same <= letters:
            best = (ratio, candidate)
    return best[1] if best else None


@_names_cache(1024, NAMES_CHARS_CACHED)  # the tags are the input's to choose; a file's records repeat a few sets
def _misspelling(names: tuple[str, ...], unread: tuple[str, ...]) -> tuple[str, str] | None:
    """(the one of `names`, the tag of `unread`, read by nothing, that looks like its misspelling), if any."""
    for name in names:
        if (found := near_miss(name, unread)) is not None:
            return name, found
    return None


def _extends(present: str, tag: str, families: frozenset[str]) -> bool:
    """Whether `present`, a tag nothing reads, is rather a tag of the SRS's own beside HESA's `tag` than its misspelling
    (review173 F3): one that holds the whole of it (F_SDEMPLOYER, F_NINO, F_SDLEADURN for F_SDEMPLOY, F_NIN,
    F_SDLEAD), two or more letters longer or shorter (F_INITIATIVE for F_INITIATIVES1), or the stem of a numbered
    tag whose family the row holds with a value (F_SBJCA beside F_SBJCA1, for the F_SBJCA2 it lacks). A misspelling
    changes a letter or two in place (F_NATON, F_PSURNAM, F_SDLAED; F_DEGSBJ in a degree with no F_DEGSBJ1)."""
    written, wanted = present.upper(), tag.upper()
    if abs(len(written) - len(wanted)) > 1 or wanted in written:
        return True
    return wanted[-1:].isdigit() and written == wanted.rstrip("0123456789") and written in families


@_names_cache(256, NAMES_CHARS_CACHED)  # the tags are the input's to choose; a file's records repeat a few sets
def _tag_misspelling(
    names: tuple[str, ...], valued: tuple[str, ...], families: frozenset[str], loose: bool = False, letters: int = 2
) -> tuple[str, str] | None:
    """As _misspelling, for a known tag (a HESA tag, or one register-batch reads: misspelt_tag), stricter than for a
    user's source: an SRS's extract may leave out an empty element (formats.md) and carry tags of its own beside
    HESA's, which are no misspelling (_extends). `families`: the stems of the row's numbered tags with a value.
    `loose`: any near miss `letters` apart at most that begins as the tag does (a withdrawal's or a deferral's date,
    among tags holding a date: two letters off, WITHDRAW_DATE, WITHDRAWL_DATE, DEFERDATE, misspelt_state_tag; three,
    DEFERRAL_DATE, but an SRS's DEFER_ENDDATE too, misspelt_tag's warning; never an SRS's OFFER_DATE or REFER_DATE,
    which every record in training would hold: review179 F1, F2)."""
    for name in names:
        if loose:
            start = name[:4].upper()  # an F_ before it aside: <F_DEFERDATE>, HESA's way of naming, is one
            near = tuple(present for present in valued if present.upper().removeprefix("F_")[:4] == start)
        else:
            near = tuple(present for present in valued if not _extends(present, name, families))
        if near and (found := near_miss(name, near, letters if loose else FEW_LETTERS)) is not None:
            return name, found
    return None


# The fields whose tag, misspelt, loses a withdrawal or a deferral: with no date the record reads as a trainee in
# training (misspelt_state_tag, an error: review177 F1). Looked for among tags holding a date only, so that an SRS's
# own DEFER_STATE or WITHDRAWAL_OTHER_REASON beside them is not taken for theirs (review178 F1).
_STATE_DATES = frozenset({"withdrawal_date", "defer_date"})


def _holds_a_date(value: str | None) -> bool:
    """Whether a tag's value may be a date, in any form an SRS or a spreadsheet writes one (2026-09-01, 01/09/2026,
    46273): four digits at least."""
    return value is not None and sum(char.isdigit() for char in value) >= 4


@_names_cache(256, NAMES_CHARS_CACHED)  # the tags are the input's to choose; a file's records repeat a few sets
def _unread(names: tuple[str, ...], reads: frozenset[str], grouped: frozenset[str]) -> tuple[str, ...]:
    """The `names` (a record's tags, or a CSV's columns) that a field map reading `reads` does not read, as such or
    numbered (F_DISABLE as F_DISABLE1), nor as a flat column of a degree or placement it reads from `grouped`
    (F_DEGEST_1: Mapper._group_rows)."""
    return tuple(
        name
        for name in names
        if name not in reads
        and not _numbered_in(name, reads)
        and not ((match := _FLAT_GROUP.match(name)) and match["tag"] in grouped)
    )


@_names_cache(256, NAMES_CHARS_CACHED)  # as _unread: a file's records repeat a few sets of tags
def _strangers(
    names: tuple[str, ...], reads: frozenset[str], grouped: frozenset[str], known: frozenset[str]
) -> tuple[str, ...]:
    """The `names` (a record's tags) that nothing reads (`reads`, with `ignored`) and its family does not know
    (`known`: a HESA tag of any collection, `known_tags`): those that may be a HESA tag misspelt. Not a flat column of
    a group's tag (F_DEGEST_1, F_DEGSTDT_1: Mapper._group_rows), nor a further number of a tag read numbered
    (F_DISABLE10: HESA has nine), which are no misspelling of another. A numbered tag's stem is one (<F_DEGSBJ> for
    F_DEGSBJ1, as a CSV refuses that column), unless known (C21053's F_DISABLE). Most records have none, and are
    looked at no further (Mapper._misspelt_sources)."""
    return tuple(
        name
        for name in names
        if name not in reads
        and name not in known
        and not ((match := _FLAT_GROUP.match(name)) and (match["tag"] in grouped or match["tag"] in known))
        and not (name[-1:].isdigit() and _numbered_in(name.rstrip("0123456789"), reads))
    )


@dataclass(frozen=True, slots=True)
class _Spelling:
    """A source a field map reads a field from (a user's named one, or the bundled map's), as a record is looked at
    for a tag that is its misspelling."""

    named: NamedSource
    names: frozenset[str]
    where: str | None  # _TRAINEE_LEVEL, or the element name of the group whose rows hold it (None: not looked at)
    trainee_field: str | None  # the trainee field it is read for, which a record's layout may read from its own
    field: str  # as an issue names the field
    # The names that may be misspelt: not those its family knows (a HESA tag, in `known_tags` or the bundled map's),
    # which are spelt right by definition; `mappings check` warns only of the others too (near_hesa_tags).
    unknown: tuple[str, ...]
    # The names its family knows (HESA's tags): an extract's tag that nothing reads nor knows is their misspelling
    # (misspelt_tag), in HESA XML, which ignores a tag it does not know (a CSV refuses such a column).
    known: tuple[str, ...]


def _issue_field(named: NamedSource) -> str:
    """The field an issue about a named source names, as FieldMap.sources_by_field keys it (so reports find its
    source): `withdrawal_reasons` for `fields.hesa.withdrawal.reasons`, `degrees_attributes.subject`."""
    parts = named.key.split(".")
    section, last = parts[2], parts[-1]
    if section == "withdrawal":
        return HELD_WITHDRAWAL.get(last, last)
    if section in ("degrees", "placements"):
        return f"{section}_attributes.{last}"
    return last


_TRAINEE_LEVEL = ""  # a source of the record itself, not of a group (trainee, withdrawal, deferral, provider)


@dataclass(frozen=True, slots=True)
class _Spellings:
    """A field map's sources as Mapper._misspelt_sources looks at them, derived once per field map."""

    users: tuple[_Spelling, ...]  # a user's sources with a name no HESA tag (mapped_source_misspelt)
    # (where, the sources with a known name read there): _TRAINEE_LEVEL, then the groups' element names (misspelt_tag)
    tags: tuple[tuple[str, tuple[_Spelling, ...]], ...]
    reads: frozenset[str]  # the names the field map reads or ignores (`ignored`)
    grouped: frozenset[str]  # the names it reads a degree's or a placement's field from, which a CSV numbers
    known: frozenset[str]  # the names its family knows (FieldMap.known) and those it reads: no misspelling


_BUNDLED_SECTIONS = ("trainee", "withdrawal", "deferral", "provider")


def _bundled_sources(fmap: FieldMap) -> list[NamedSource]:
    """Each field a field map reads from a source, as the NamedSource a user's file naming it would be (its key), for
    the fields no user's file names: the bundled map's, whose HESA tags an extract may misspell (misspelt_tag)."""
    where = f"fields.{fmap.family}"
    bundled = f"mappings/fields/{fmap.family}.yaml"
    tables: list[tuple[str, dict[str, tuple[str, ...]], str | None]] = [
        (f"{where}.{section}", getattr(fmap, section), None) for section in _BUNDLED_SECTIONS
    ]
    tables += [
        (f"{where}.degrees.fields", fmap.degree_fields, "degrees"),
        (f"{where}.placements.fields", fmap.placement_fields, "placements"),
    ]
    return [
        NamedSource(bundled, fmap.family, f"{path}.{field}", sources, group)
        for path, table, group in tables
        for field, sources in table.items()
        if sources
    ]


def _rows_at(raw: RawRecord, where: str | None) -> list[tuple[dict[str, str | None], int | None]]:
    """The rows a source read `where` (_Spelling.where) is looked for in, with each one's line (None: the record's):
    the record's own fields, or its rows of that group (none where it has none, or the group is read from columns)."""
    if where == _TRAINEE_LEVEL:
        return [(raw.fields, None)]
    if where is None or not (group_rows := raw.groups.get(where)):
        return []
    lines = (raw.group_lines or {}).get(where) or []
    return [(row, lines[n] if n < len(lines) else None) for n, row in enumerate(group_rows)]


def _group_of(named: NamedSource, groups: dict[str, str | None]) -> str | None:
    """The element name of the group a named source is read in, _TRAINEE_LEVEL for the record's own fields, None for
    a group read from columns only (Register's CSV)."""
    return _TRAINEE_LEVEL if named.group is None else groups[named.group]


def _has_source(raw: RawRecord, names: frozenset[str], group: str | None) -> bool:
    """Whether the record has one of `names` where the mapper reads it (Mapper._group_rows): a field of its own; a
    group's rows when the record has that group; else a column or tag of its own, numbered or not (a HESA XML Student
    without degree elements but with F_DEGSBJ1_1 has that degree as a CSV row has it)."""
    if group == _TRAINEE_LEVEL:
        return not names.isdisjoint(raw.fields)
    rows = raw.groups.get(group) if group else None
    if rows is not None:
        return any(not names.isdisjoint(row) for row in rows)
    return any(_place(name, names) for name in raw.fields)


# The nested lists each input family cannot hold in full (TraineeRecord.partial_lists): Register's CSV has one
# degree per row and three placement URN columns, and no placement without a URN (hesa-formats.md §3.1).
PARTIAL_LISTS: dict[str, frozenset[str]] = {
    "hesa": frozenset(),
    "register-csv": frozenset({"degrees_attributes", "placements_attributes"}),
}
_FILLED = {  # which lists fill their header's column sets: (degrees, placements)
    (degrees, placements): frozenset(
        name for name, full in (("degrees_attributes", degrees), ("placements_attributes", placements)) if full
    )
    for degrees in (False, True)
    for placements in (False, True)
}


@_names_cache(256, NAMES_CHARS_CACHED)  # as _group_columns: one entry serves a whole file
def _column_sets(names: tuple[str, ...], wanted: frozenset[str]) -> int:
    """How many items of a group a CSV header has room for: its numbered column sets (a bare column is the first)."""
    return len({n for _name, _source, n in _group_columns(names, wanted)})


def _partial_lists(raw: RawRecord, fmt: str, fmap: FieldMap, data: dict[str, Any]) -> frozenset[str]:
    """TraineeRecord.partial_lists of a record. A HESA-named CSV has room for as many degrees (placements) as its
    header has column sets: a row that fills them all cannot say the trainee has no other one (as Register's CSV
    cannot), while a row with room to spare lists them all. HESA XML has no such cap."""
    if fmt != "hesa-csv":
        return PARTIAL_LISTS[family_of(fmt)]
    names = tuple(raw.fields)  # a CSV row has every column of its header
    degrees = len(data.get("degrees_attributes") or ())
    placements = len(data.get("placements_attributes") or ())
    if fmap.placement_columns:  # a user's map reading placements from columns (Mapper._placements)
        placement_sets = sum(column in raw.fields for column in fmap.placement_columns)
    else:
        placement_sets = _column_sets(names, _source_names(fmap.placement_fields))
    degree_sets = _column_sets(names, _source_names(fmap.degree_fields))
    return _FILLED[degrees > 0 and degrees >= degree_sets, placements > 0 and placements >= placement_sets]


_NOTHING_UNSAID: frozenset[str] = frozenset()


def _unsaid_subjects(plan: _Plan, raw: RawRecord, fmt: str) -> frozenset[str]:
    """The CLEARABLE_SUBJECTS a record's input has no place for (TraineeRecord.partial_lists), whose blank sync must
    not take for "none": its field map reads them from no source, or its CSV header (a row has every column of its
    header) has none of their columns. In HESA XML an absent tag is no value (hesa-formats.md §1.4: HESA writes
    NULL, some SRSs leave the tag out), so a Student without F_SBJCA2 has no second subject; a tag a user's
    mapping file names may be one the SRS never writes (misspelt, or a column name), whose absence says nothing
    (review44 F2)."""
    fields = raw.fields.keys()
    xml = fmt == "hesa-xml"
    unsaid = [
        name for name, sources, users in plan.subjects if not sources or (users if xml else fields.isdisjoint(sources))
    ]
    return frozenset(unsaid) if unsaid else _NOTHING_UNSAID


# Of CLEARABLE_INITIATIVES, those a record's input gives a place for -> those it does not (TraineeRecord.partial_lists).
_UNSAID_INITIATIVES = {
    said: ALL_CLEARABLE_INITIATIVES - said
    for said in (frozenset(), *(frozenset({name}) for name in CLEARABLE_INITIATIVES), ALL_CLEARABLE_INITIATIVES)
}


@functools.cache  # a few dozen pairs at most: the records of an input share one set, not a copy each
def _joined(lists: frozenset[str], unsaid: frozenset[str]) -> frozenset[str]:
    return lists | unsaid


def _said_initiatives(plan: _Plan, raw: RawRecord) -> frozenset[str]:
    """The CLEARABLE_INITIATIVES a record gives, whose blank sync takes for "no initiative" (hesa-formats.md
    §2.3.12): the record has a source of theirs, blank or not. A CSV row has every column of its header; a HESA XML
    Student has the tag, NULL (HESA's absent value, §1.4) or empty. One its field map reads from no source is never
    said."""
    fields = raw.fields.keys()
    if fields >= plan.initiative_sources:  # every source: every initiative read from one (one look-up a source)
        return plan.every_initiative
    return frozenset(name for name, sources in plan.initiatives if not fields.isdisjoint(sources))


def _untagged_initiatives(plan: _Plan, fmt: str, said: frozenset[str]) -> frozenset[str]:
    """TraineeRecord.untagged: the CLEARABLE_INITIATIVES a HESA XML Student does not say (`said`: those it does) and
    its field map reads from a tag. HESA writes the tag as NULL for none, but some SRSs leave an empty tag out, so
    the absence may be "none" (an initiative the SRS removed) or "not exported": sync tells them apart by what the SRS
    gave when it last synced the record (review202 F1). A CSV without the column never gives the field."""
    if fmt != "hesa-xml" or said is plan.every_initiative:  # said: every one read from a tag
        return _NOTHING_UNSAID
    return _UNTAGGED[frozenset(name for name, sources in plan.initiatives if sources and name not in said)]


_UNTAGGED = {names: names for names in _UNSAID_INITIATIVES.values()}  # one set each, shared by the records


# The UKPRNs found well-formed (UKPRN_FORM): an extract names one provider, or a few, in every record; a set look-up is
# a tenth of the regular expression's match. Bounded, as a file's values are its own to choose.
_UKPRNS_SEEN: set[str] = set()
_UKPRNS_KEPT = 1024


def _ukprn_form(ukprn: str) -> bool:
    """Whether `ukprn` has a UKPRN's form (UKPRN_FORM), remembered in _UKPRNS_SEEN if so."""
    if UKPRN_FORM.fullmatch(ukprn) is None:
        return False
    if len(_UKPRNS_SEEN) < _UKPRNS_KEPT:
        _UKPRNS_SEEN.add(ukprn)
    return True


class Mapper:
    """Turns RawRecords of one input format into TraineeRecords (API field names, translated codes)."""

    def __init__(self, config: MappingConfig, reference: ReferenceData | None = None):
        """`reference`: Register's lists, to tell a row of its CSV what Register answers for a code a mapping file
        refuses (the bundled lists when not given)."""
        self.config = config
        self._reference = reference
        self._translations: dict[str, CodeTranslation | None] = {}
        # Derived once per field map (and vintage): the per-record work only looks things up.
        self._plans: dict[tuple[int, str | None], _Plan] = {}
        self._degree_translations: dict[str, CodeTranslation | None] = {}
        self._states: dict[int, tuple[FieldMap, _StateSources]] = {}
        self._read_names: dict[int, tuple[FieldMap, set[str]]] = {}
        self._conditionals: dict[int, tuple[CodeTranslation, frozenset[str]]] = {}
        # The layouts (vintages) as the per-record decision wants them, per field map (_layouts).
        self._layout_sets: dict[int, tuple[FieldMap, _Layouts | None]] = {}
        self._spellings: dict[int, tuple[FieldMap, _Spellings]] = {}

    def translation(self, field_name: str) -> CodeTranslation | None:
        try:
            return self._translations[field_name]
        except KeyError:
            found = self._translations[field_name] = self.config.translations_for(field_name)
            return found

    def _plan(self, fmap: FieldMap, vintage: str | None, overrides: dict[str, tuple[str, ...]] | None) -> _Plan:
        key = (id(fmap), vintage)
        plan = self._plans.get(key)
        if plan is None or plan.fmap is not fmap:
            trainee_map = {**fmap.trainee, **overrides} if overrides else fmap.trainee
            # Data keys follow the field map's order, so translating in this order is translating in data order.
            translated = tuple(
                (name, translation, self._conditional(translation))
                for name in trainee_map
                if (translation := self.translation(name)) is not None
            )
            bundled = self._bundled_map(fmap.family, vintage)
            subjects = tuple(
                (name, trainee_map.get(name, ()), bundled is None or trainee_map.get(name) != bundled.get(name))
                for name in CLEARABLE_SUBJECTS
            )
            groups = frozenset({fmap.degree_group, fmap.placement_group})
            read = tuple((name, sources[0], sources[1:]) for name, sources in trainee_map.items() if sources)
            initiatives = tuple((name, frozenset(trainee_map.get(name, ()))) for name in CLEARABLE_INITIATIVES)
            plan = self._plans[key] = _Plan(
                fmap,
                read,
                translated,
                subjects,
                groups,
                initiatives,
                frozenset(name for name, sources in initiatives if sources),
                frozenset(source for _name, sources in initiatives for source in sources),
            )
        return plan

    def _bundled_map(self, family: str, vintage: str | None) -> dict[str, tuple[str, ...]] | None:
        """The bundled trainee field map of a family's layout (`vintage`), before any user's file; None if unknown."""
        bundled = self.config.bundled_fields.get(family)
        if bundled is None:
            return None
        overrides = next((found for name, _any_of, found in bundled.vintages if name == vintage), None)
        return {**bundled.trainee, **overrides} if overrides else bundled.trainee

    def _unread_groups(self, record: TraineeRecord, raw: RawRecord, fmap: FieldMap) -> None:
        """An error for each tag the field map reads that only a group it does not read holds (an SRS's own
        <DISABILITY><F_DISABLE>, or <QUALIFICATION><F_DEGTYPE>): its values would be left out without a word
        (review96 F2). Not a group the map reads (`degrees.group`, `placements.group`: review100 F2), nor a tag the
        record gives itself."""
        reads = self._reads(fmap)
        said: set[str] = set()
        for group, rows in raw.groups.items():
            if group in (fmap.degree_group, fmap.placement_group):
                continue
            for name in dict.fromkeys(name for row in rows for name, value in row.items() if value is not None):
                if name in said or raw.fields.get(name) is not None:
                    continue
                numbered = _numbered_in(name, reads) and name not in reads
                if name in reads or numbered:
                    said.add(name)
                    also = f", as the Student's own <{name}1>, <{name}2>, …" if numbered else ""
                    record.issue(
                        "malformed_record",
                        f"<{name}> is in <{group}>, a group the field map does not read: register-batch reads HESA's "
                        f"tags in the <Student> itself, and a degree's in <{fmap.degree_group}> groups and a "
                        f"placement's in <{fmap.placement_group}> groups (as the field map names them: "
                        f"`degrees.group`, `placements.group`), so its value is not read; move it there{also}",
                        field=name,
                    )

    def _spelling(self, fmap: FieldMap) -> _Spellings:
        """The sources of the field map's fields as they are looked at for a misspelling (_Spellings): a user's named
        ones, and the bundled map's of the fields no user's file names."""
        found = self._spellings.get(id(fmap))
        if found is None or found[0] is not fmap:
            groups = {"degrees": fmap.degree_group, "placements": fmap.placement_group}
            bundled = self.config.bundled_fields.get(fmap.family)
            known = bundled.known if bundled is not None else frozenset()
            users = [named for named in self.config.named_sources if named.family == fmap.family]
            named_keys = {named.key for named in users}
            sources = users + [named for named in _bundled_sources(fmap) if named.key not in named_keys]
            spellings = [
                _Spelling(
                    named,
                    frozenset(named.names),
                    _group_of(named, groups),
                    _trainee_field(named),
                    _issue_field(named),
                    tuple(name for name in named.names if name not in known),
                    tuple(name for name in named.names if name in known),
                )
                for named in sources
            ]
            levels: dict[str, list[_Spelling]] = {}
            for spelling in spellings:
                if spelling.known and spelling.where is not None:
                    levels.setdefault(spelling.where, []).append(spelling)
            reads = frozenset({*self._reads(fmap), *fmap.ignored})
            grouped = _source_names(fmap.degree_fields) | _source_names(fmap.placement_fields)
            found = self._spellings[id(fmap)] = (
                fmap,
                _Spellings(
                    tuple(spelling for spelling in spellings if spelling.unknown),
                    tuple((where, tuple(level)) for where, level in levels.items()),
                    reads,
                    grouped,
                    fmap.known | reads,
                ),
            )
        return found[1]

    def _misspelt_sources(
        self,
        record: TraineeRecord,
        raw: RawRecord,
        fmt: str,
        fmap: FieldMap,
        overrides: dict[str, tuple[str, ...]] | None,
    ) -> None:
        """An error where the record lacks a source the field map reads and has, with a value, a tag or column
        nothing reads that looks like its misspelling: the field would be blank (an optional one sent as absent, a
        leaver's withdrawal not sent) without a word. A source no record has is no mistake by itself (a nightly
        extract may have no leaver): the near miss beside it is what tells one. A user's misspelt source is an error,
        not a warning: the record would be sent without a value the extract holds for it. The extract's misspelt tag
        is a warning (review173 F3): an SRS may leave out an empty element (formats.md) and write tags of its own a
        few letters from HESA's (<F_PREFNAME> beside no F_PSURNAME), whose records an error would hold back after an
        upgrade for a guess; a required field left blank gets its own error. The near miss for a known tag is
        stricter (_tag_misspelling).

        Which of the two is misspelt decides the error. A user's source that is none of its family's known names
        (the bundled field map's sources and `known_tags`, as `mappings check` judges them) may be the mapping file's
        misspelling (LEAVE_DATE for the map's LEAVING_DATE: mapped_source_misspelt, review161 F1); a known tag
        nothing reads is still the near miss of such a source (F_ITTKEY for F_ITTKY). A known source (a HESA tag:
        the bundled map's, or a user's naming one) is spelt right, and the extract's tag is the misspelling
        (<F_NATON> for F_NATION: misspelt_tag, review171 F1), looked for in HESA XML only, as a CSV refuses a column
        nothing reads (readers.csv) unless it is a known one; and only among tags no collection of HESA's knows
        (review165 F1: F_DEGEST, absent from a non-UK degree, is no misspelling of the F_DEGSTDT beside it).

        Most records hold no tag nobody knows: one look at their tags (every one known, or else _strangers,
        remembered per set of tags) is all they cost."""
        spellings = self._spelling(fmap)
        said: set[int] = set()  # one error a source: a record's degrees all lack it alike
        if spellings.users:
            self._misspelt_users(record, raw, fmt, fmap, overrides, spellings, said)
        if fmt != "hesa-xml":
            return
        reads, grouped, known = spellings.reads, spellings.grouped, spellings.known
        for where, level in spellings.tags:
            rows = (raw.fields,) if where == _TRAINEE_LEVEL else raw.groups.get(where) or ()
            for number, row in enumerate(rows):
                # The cheap look most records end with: every tag one the field map reads or its family knows
                # (`known` holds `reads`), a set's look-up a tag; a tuple of the tags for _strangers' cache cost
                # four times that, as each tag is compared by its text with the cached tuple's.
                if known.issuperset(row):
                    continue
                if not (strangers := _strangers(tuple(row), reads, grouped, known)):
                    continue  # no tag nobody knows
                valued = tuple(name for name in strangers if row[name] is not None)
                families = (
                    frozenset(
                        name.rstrip("0123456789").upper()
                        for name, value in row.items()
                        if value is not None and name[-1:].isdigit()
                    )
                    if valued
                    else frozenset()
                )
                for spelling in level if valued else ():
                    if id(spelling) in said or not spelling.names.isdisjoint(row):
                        continue
                    if overrides and spelling.trainee_field in overrides:
                        continue  # the record's layout reads the field from its own sources (C22053's start dates)
                    state_date = spelling.field in _STATE_DATES
                    if state_date:
                        dated = tuple(name for name in valued if _holds_a_date(row[name]))
                        pair = _tag_misspelling(spelling.known, dated, families, True) if dated else None
                        if pair is None and dated:  # three letters off: a warning (DEFERRAL_DATE, DEFER_ENDDATE)
                            pair = _tag_misspelling(spelling.known, dated, families, True, FEW_LETTERS)
                            state_date = False
                    else:
                        pair = _tag_misspelling(spelling.known, valued, families)
                    if pair is None:
                        continue
                    near, (present, has) = pair[0], _as_written(raw, pair[1], "<{}>")
                    said.add(id(spelling))
                    if where == _TRAINEE_LEVEL:
                        holder, line = "record", None  # the record's
                    else:  # a degree's or a placement's, where the reader kept it (RawRecord.group_lines)
                        lines = (raw.group_lines or {}).get(where) or []
                        holder, line = f"<{where}>", lines[number] if number < len(lines) else None
                    if state_date:  # the withdrawal's or the deferral's date: the record is not sent (review177 F1)
                        record.issue(
                            MISSPELT_STATE_TAG,
                            f"{has} is not a tag register-batch reads; did you mean <{near}>, which this "
                            f"{holder} lacks? Nothing reads <{present}>, so the record would be sent without its "
                            f"{spelling.field} (a leaver or a deferral sent as a trainee in training); it is not sent "
                            f"until the extract spells it <{near}> (or a mapping file lists {present} under "
                            f"`fields: {fmap.family}: ignored:` if it is a tag of the SRS's own)",
                            field=spelling.field,
                            value=present,  # the tag's name, not its value
                            line=line,
                        )
                        continue
                    # HESA's tags begin F_; WITHDRAWAL_REASONS, DEFER_REASON and the like are register-batch's own
                    kind = "a HESA tag" if near.upper().startswith("F_") else "a tag register-batch reads"
                    record.issue(
                        MISSPELT_TAG,
                        f"{has} is not {kind}; did you mean <{near}>, which this {holder} lacks? Nothing "
                        f"reads <{present}>, so its value is not sent ({spelling.field} is blank) until the extract "
                        f"spells it <{near}> (or a mapping file lists {present} under `fields: {fmap.family}: "
                        "ignored:` if it is a tag of the SRS's own)",
                        field=spelling.field,
                        value=present,  # the tag's name, not its value
                        severity=Severity.WARNING,  # review173 F3: the guess may be wrong; a required field says so
                        line=line,
                    )

    def _misspelt_users(
        self,
        record: TraineeRecord,
        raw: RawRecord,
        fmt: str,
        fmap: FieldMap,
        overrides: dict[str, tuple[str, ...]] | None,
        spellings: _Spellings,
        said: set[int],
    ) -> None:
        """mapped_source_misspelt (_misspelt_sources): a user's source that is no known name, lacking from a record
        that holds a tag or column nothing reads a few letters from it."""
        unread: dict[int, tuple[str, ...]] = {}  # by id of the row: its tags with a value that nothing reads

        def unread_in(row: dict[str, str | None]) -> tuple[str, ...]:
            found = unread.get(id(row))
            if found is None:
                found = unread[id(row)] = tuple(
                    name for name in _unread(tuple(row), spellings.reads, spellings.grouped) if row[name] is not None
                )
            return found

        for spelling in spellings.users:
            if spelling.where == _TRAINEE_LEVEL and overrides and spelling.trainee_field in overrides:
                continue  # the record's layout reads the field from its own sources (C21053's itt_end_date)
            for row, line in _rows_at(raw, spelling.where):
                if not spelling.names.isdisjoint(row):
                    continue
                candidates = unread_in(row)
                if not candidates or (pair := _misspelling(spelling.unknown, candidates)) is None:
                    continue
                named = spelling.named
                written = " or ".join(named.names)
                kind = "tag" if fmt == "hesa-xml" else "column"
                present, has = _as_written(raw, pair[1], "<{}>" if raw.written else "{}")
                said.add(id(spelling))
                record.issue(
                    MISSPELT,
                    f"{named.place} reads {spelling.field} from {written}, which this record lacks, but it has "
                    f"{has}, which nothing reads: a misspelt {kind}? The field is blank until the mapping file "
                    f"names it as the extract does (or lists {present} under `fields: {fmap.family}: ignored:` if "
                    "it holds something else)",
                    field=spelling.field,
                    value=present,  # the tag's name, not its value: a safeguarding concern's text is no hint
                    line=line,
                )
                break  # one error a source: a record's degrees all lack it alike

    def _conditional(self, translation: CodeTranslation) -> frozenset[str]:
        """The codes `translation` translates by a `when` (most translations have none: one look a field)."""
        found = self._conditionals.get(id(translation))
        if found is None or found[0] is not translation:
            codes = frozenset(code for code, alts in translation.translate.items() if any(a.when for a in alts))
            found = self._conditionals[id(translation)] = (translation, codes)
        return found[1]

    def _reads(self, fmap: FieldMap) -> set[str]:
        """The names (HESA tags, columns) the field map reads a value from."""
        found = self._read_names.get(id(fmap))
        if found is None or found[0] is not fmap:
            found = self._read_names[id(fmap)] = (fmap, fmap.source_names())
        return found[1]

    def _state_sources(self, fmap: FieldMap) -> _StateSources:
        found = self._states.get(id(fmap))
        if found is None or found[0] is not fmap:
            found = self._states[id(fmap)] = (fmap, _StateSources.of(fmap))
        return found[1]

    def can_say(self, fmt: str, states: set[str] | frozenset[str]) -> dict[str, str]:
        """TraineeRecord.can_say for the `states` an input's columns or tags can say (Checker.widen_can_say)."""
        can_say = self._state_sources(self.config.fields[family_of(fmt)]).can_say
        return can_say["withdrawal" in states, "deferral" in states]

    def _layouts(self, fmap: FieldMap) -> _Layouts | None:
        """The field map's layouts as _choose_layout wants them, derived once per field map; None if it has none."""
        found = self._layout_sets.get(id(fmap))
        if found is None or found[0] is not fmap:
            found = self._layout_sets[id(fmap)] = (fmap, _Layouts.of(fmap) if fmap.vintages else None)
        return found[1]

    def _layout(self, fields: dict[str, str | None], fmap: FieldMap) -> tuple[_Layout | None, _Conflict | None]:
        """The record's layout (the field map's vintage), None for the field map's own, and what disagrees with it."""
        found = self._layout_sets.get(id(fmap))
        layouts = found[1] if found is not None and found[0] is fmap else self._layouts(fmap)
        return (None, None) if layouts is None else _choose_layout(fields, layouts)

    def _layout_conflict(
        self, record: TraineeRecord, fields: dict[str, str | None], fmap: FieldMap, plan: _Plan, conflict: _Conflict
    ) -> None:
        """Warn that F_RECID or the tags a record fills say another layout than the one it is read by, naming each
        date tag with a value that the other layout reads and this one does not, and what is read instead
        (review171 F2: a stale F_RECID beside a filled F_ITTSTARTDATE chose the start date without a word).

        A tag whose value is the one read for every field the other layout would read from it is not named: nothing
        would be read differently (review176 F3: a C23053 template that still fills F_ITTCOMDATE and F_COMDATE with
        the same date was warned about on every record). Then, with nothing left to name, only an F_RECID that says
        another layout is said: the file contradicts itself, and the layout also decides what a leaving reason and a
        dormant study mode say (LEAVING_LAYOUTS); tags of another layout filled beside the layout F_RECID names, or
        the older start dates beside the newest, change nothing read and are not."""
        layouts = self._layouts(fmap)
        assert layouts is not None and record.vintage is not None  # a conflict is found between two layouts
        other_name, other_overrides = conflict.other
        other_plan = self._plan(fmap, other_name, other_overrides)
        other = {name: (source, *rest) for name, source, rest in other_plan.trainee}
        mine = {name: (source, *rest) for name, source, rest in plan.trainee}
        unread: dict[str, list[str]] = {}  # tag with a value -> the fields the other layout reads from it
        differs: set[str] = set()  # those of them whose value is not the one read for one of those fields
        for name in layouts.dated:
            for tag in other.get(name, ()):
                if tag not in mine.get(name, ()) and (value := fields.get(tag)) is not None:
                    unread.setdefault(tag, []).append(name)
                    source = _read_from(plan, name, fields)
                    if source is None or fields[source] != value:
                        differs.add(tag)
        unread = {tag: names for tag, names in unread.items() if tag in differs}
        if not unread and conflict.against != "recid":
            return
        said = []
        for tag, names in unread.items():
            instead = []
            for name in names:
                source = _read_from(plan, name, fields)
                sources = " or ".join(mine.get(name, ())) or "no tag"
                instead.append(
                    f"{name} is {source}'s {fields[source]}" if source else f"{name} is blank ({sources}: no value)"
                )
            said.append(f"{tag} {fields[tag]} is not read as {' or '.join(names)} ({', '.join(instead)})")
        first = next(iter(unread), None)
        record.issue(
            LAYOUT_CONFLICT,
            f"read by the {record.vintage} layout, as {_why(conflict.why, record.vintage, fields, layouts, False)}, "
            f"though {_why(conflict.against, other_name, fields, layouts, True)}"
            + (": " + "; ".join(said) if said else ""),
            field=unread[first][0] if first else None,
            value=fields[first] if first else fields.get(RECID),
            severity=Severity.WARNING,
        )

    def map(self, raw: RawRecord, fmt: str, shown: set[str] | None = None) -> TraineeRecord:
        """The record of `raw`; `shown` (an input's) gains the states the record has the columns or tags of."""
        family = family_of(fmt)
        fmap = self.config.fields[family]
        fields = raw.fields
        keys = fields.keys()
        layout, conflict = self._layout(fields, fmap)
        vintage, overrides = layout or (None, None)
        plan = self._plan(fmap, vintage, overrides)
        get = fields.get
        data: dict[str, Any] = {}
        for api_field, source, others in plan.trainee:
            value = get(source)
            if value is None and others:  # a field read from several sources (disability1: F_DISABLE1, F_DISABLE)
                for other in others:
                    value = get(other)
                    if value is not None:
                        break
            if value is not None:
                data[api_field] = value
        # A row whose cells do not line up with the header (the CSV reader's problem naming no field: the record's
        # `misaligned`) may have its SRS id, HUSID and UKPRN from other columns: its UKPRN is not read (no
        # invalid_ukprn, no second provider), and the checks across records leave it out (DuplicateFinder.entry,
        # review153 F2). Its SRS id and HUSID stay as read, to name it in the reports and for sync to find its
        # trainee: where the lost or added cell comes after them (Register's CSV has them in its first columns; the
        # first half of a cut row; a row short of its last cell) they are its own, and blanking them listed its
        # trainee as not in the extract (review154 F1).
        shifted = bool(raw.problems) and any(column is None for column, _problem in raw.problems)
        for name in COMPOSED_FIELDS:
            value = data.get(name)
            if value is not None and not value.isascii():
                data[name] = unicodedata.normalize("NFC", value)
        degrees, degree_lines = self._degrees_and_lines(raw, fmap)
        if degrees:
            data["degrees_attributes"] = degrees
        placements = self._placements(raw, fmap)
        if placements:
            data["placements_attributes"] = placements
        partial_lists = _partial_lists(raw, fmt, fmap, data)
        if unsaid := _unsaid_subjects(plan, raw, fmt):
            partial_lists = partial_lists | unsaid
        initiatives = _said_initiatives(plan, raw)
        if unsaid := _UNSAID_INITIATIVES[initiatives]:
            partial_lists = _joined(partial_lists, unsaid)
        record = TraineeRecord(source=raw.source, data=data, vintage=vintage, partial_lists=partial_lists)
        if untagged := _untagged_initiatives(plan, fmt, initiatives):
            record.untagged = untagged
        if degree_lines:
            record.degree_lines = degree_lines
        states = self._state_sources(fmap)
        has_withdrawal = not keys.isdisjoint(states.withdrawal)
        has_deferral = not keys.isdisjoint(states.deferral)
        if has_withdrawal:
            record.withdrawal = self._optional(fields, fmap.withdrawal)
            if record.withdrawal and "reasons" in record.withdrawal:
                reasons = [r.strip() for r in _REASON_SPLIT.split(record.withdrawal["reasons"]) if r.strip()]
                # Register stores each reason once (register-api.md §3.9, `WithdrawalReason.where(name: reasons)`):
                # a repeat is sent once, so what Register holds is what the record says (review30 F3).
                record.withdrawal["reasons"] = list(dict.fromkeys(reasons))
        if has_deferral:
            record.deferral = self._optional(fields, fmap.deferral)
        # F_RSNEND says a leaving in any layout (it is read in any): like WITHDRAWAL_*, a tag some Students have
        # lets the file's others say one too (Checker.widen_can_say).
        if family == "hesa":
            has_withdrawal = has_withdrawal or "F_RSNEND" in keys
        if shown is not None:
            if has_withdrawal:
                shown.add("withdrawal")
            if has_deferral:
                shown.add("deferral")
        if family == "hesa":  # F_MODE's dormant codes say a deferral in every layout; layouts up to C22053 a leaving
            has_withdrawal = has_withdrawal or vintage in LEAVING_LAYOUTS  # (of the record's layout, not its file's)
            has_deferral = True
        record.can_say = states.can_say[has_withdrawal, has_deferral]
        for source in () if shifted else fmap.provider.get("ukprn", ()):
            if (ukprn := get(source)) is not None:
                if ukprn in _UKPRNS_SEEN or _ukprn_form(ukprn):
                    record.ukprn = ukprn
                else:  # not counted as a provider of its own (1.0052198E7 is no second provider): held back
                    _invalid_ukprn(record, source, ukprn)
                break
        for column, problem in raw.problems:
            record.issue("malformed_record", problem, field=column)
        if raw.groups and not raw.groups.keys() <= plan.groups:
            self._unread_groups(record, raw, fmap)
        if raw.marked:
            reads = self._reads(fmap)
            for name, problem in raw.marked:
                if name in reads:
                    record.issue("malformed_record", problem, field=name)
                elif _numbered_in(name, reads):  # <DISABILITY><F_DISABLE>: a group of the numbered tags' values
                    numbered = f"{problem}, as the Student's own <{name}1>, <{name}2>, …"
                    record.issue("malformed_record", numbered, field=name)
        if (self.config.named_sources or fmt == "hesa-xml") and not shifted:
            self._misspelt_sources(record, raw, fmt, fmap, overrides)
        if shifted:
            # A row whose cells do not line up with the header (cut in two by a line break, extra commas: the reader
            # names no field) has its values under other fields' names: its codes are not translated nor its leaving
            # said, as the rules do not judge it (Checker.check) until its cells line up (review117 F8). Its degrees
            # are still said as the API's UK or non-UK ones, on their codes as read: `degree_type` is no field of the
            # API, and `convert` writes such a record too (review121 F6).
            for degree in data.get("degrees_attributes") or ():
                _locate(degree)
            return record
        if conflict is not None:
            self._layout_conflict(record, fields, fmap, plan, conflict)
        if fields.get("F_RSNEND") not in NOT_LEAVING:
            if record.withdrawal is None:
                _legacy_withdrawal(record, fields, plan)
            else:
                _leaving_date_as_end_date(record, fields, plan)
        nationality = data.get("nationality")  # as read: QO is translated to XK, which is no mistake
        mode = data.get("study_mode")
        self._translate(record, plan.translated, uploaded=family == "register-csv", read=True)
        # The checks below see the translated codes: an SRS's own study mode translated to 63 is dormant (review58 F1).
        if family == "hesa" and record.deferral is None and data.get("study_mode") in DORMANT_MODES:
            _legacy_deferral(record, data["study_mode"], mode or data["study_mode"])  # a translation adds no field
        # Kosovo as HESA writes it (QO) translated to Register's XK is no mistake: any other way to XK may be. In
        # Register's CSV a written XK is Register's own code; a mapping file's XK is the mistake there too
        # (review131 F3).
        sent = data.get("nationality")
        if (
            sent == COUNTRY_NOT_NATIONALITY
            and nationality
            and nationality != KOSOVO_NATIONALITY
            and (family == "hesa" or nationality != COUNTRY_NOT_NATIONALITY)
            and not names_kosovan(nationality, self._reference)
        ):
            _uk_country_as_nationality(record, nationality)
        return record

    @staticmethod
    def _optional(fields: dict[str, str | None], table: dict[str, tuple[str, ...]]) -> dict[str, Any] | None:
        found = {}
        for api_field, sources in table.items():
            for source in sources:
                value = fields.get(source)
                if value is not None:
                    found[api_field] = value
                    break
        return found or None

    def _group_rows(self, raw: RawRecord, group: str | None, columns: dict[str, tuple[str, ...]]) -> list[dict]:
        """Rows of a repeated group: nested elements (XML) or numbered columns (flat CSV)."""
        if group and group in raw.groups:
            return raw.groups[group]
        fields = raw.fields
        rows: dict[int, dict[str, str | None]] = {}
        for name, source, n in _group_columns(tuple(fields), _source_names(columns)):
            rows.setdefault(n, {})[source] = fields[name]
        return [rows[n] for n in sorted(rows)]

    def _degrees_and_lines(self, raw: RawRecord, fmap: FieldMap) -> tuple[list[dict[str, str]], tuple[int | None, ...]]:
        """The record's degrees, and the line of each where the reader kept them (RawRecord.group_lines), else ()."""
        if not fmap.degree_fields:
            return [], ()
        degrees = []
        rows = self._group_rows(raw, fmap.degree_group, fmap.degree_fields)
        given = (raw.group_lines or {}).get(fmap.degree_group or "")
        known = given if given is not None and len(given) == len(rows) else None
        lines: list[int | None] = []
        for number, row in enumerate(rows):
            degree: dict[str, str] = {}
            for api_field, sources in fmap.degree_fields.items():
                for source in sources:
                    value = row.get(source)
                    if value is not None:
                        degree[api_field] = value
                        break
            if not degree:
                continue  # a qualification whose values are all NULL is dropped (hesa-formats.md §1.4)
            degrees.append(degree)  # its degree_type is split by _locate, once its codes are translated
            if known is not None:
                lines.append(known[number])
        return degrees, tuple(lines)

    def _placements(self, raw: RawRecord, fmap: FieldMap) -> list[dict[str, str]]:
        urns: list[dict[str, str]] = []
        if fmap.placement_columns:
            for column in fmap.placement_columns:
                value = raw.fields.get(column)
                if value is not None:
                    urns.append({"urn": value})
        elif fmap.placement_fields:
            for row in self._group_rows(raw, fmap.placement_group, fmap.placement_fields):
                placement = {}
                for api_field, sources in fmap.placement_fields.items():
                    for source in sources:
                        value = row.get(source)
                        if value is not None:
                            placement[api_field] = value
                            break
                if placement:
                    urns.append(placement)
        for number, placement in enumerate(urns, start=1):
            placement.setdefault("name", f"Placement {number}")
        return urns

    def translate(self, record: TraineeRecord) -> None:
        """Translate the legacy codes of a record made from a request body, as reading it from a file would: what
        validate of an exported file says of a value Register holds (export's refused_note; review44 F6)."""
        data = record.data
        self._translate(
            record, [(name, t, self._conditional(t)) for name in data if (t := self.translation(name)) is not None]
        )

    def _translate(
        self,
        record: TraineeRecord,
        translated: Iterable[tuple[str, CodeTranslation, frozenset[str]]],
        *,
        uploaded: bool = False,
        read: bool = False,
    ) -> None:
        """Translate the record's legacy codes. `uploaded`: the record is a row of Register's bulk-add CSV, a file
        made to be uploaded to Register's service, whose import translates nothing (_apply). `read`: the record was
        read from an input, and its degrees are located (_locate) on their translated codes, before their degree
        type, which is translated as the field it is sent as."""
        data = record.data
        tested: list[tuple[str, CodeTranslation, frozenset[str]]] = []
        for field_name, translation, conditional in translated:
            if field_name in data:
                value = data[field_name]
                if conditional and value in conditional:
                    tests = frozenset(f for a in translation.translate[value] for f in a.when) - {field_name}
                    tested.append((field_name, translation, tests))  # after the fields its `when` tests
                    continue
                # A value neither table names (a current code: most values) leaves _apply nothing to do
                if value in translation.translate or value in translation.no_translation:
                    self._apply(record, data, field_name, field_name, translation, uploaded)
        # A `when` sees the other fields as Register gets them, translated: which of them were translated before it
        # depended on the field map's order, which nobody can see (review97 F1: a route's `when` on study_mode 01 met
        # the SRS's FT, and the fallback route was sent); one testing a field with a `when` of its own, after it
        # (review100 F1), as far as they do not test each other.
        while tested:
            waiting = {field_name for field_name, _t, _tests in tested}
            ready = [one for one in tested if not one[2] & waiting] or tested[:1]
            for field_name, translation, _tests in ready:
                self._apply(record, data, field_name, field_name, translation, uploaded)
            tested = [one for one in tested if one not in ready]
        for index, degree in enumerate(data.get("degrees_attributes") or ()):
            self._translate_degree(record, index, degree, [name for name in degree if name != "degree_type"], uploaded)
            if read and (sent_as := _locate(degree)) is not None:
                self._translate_degree(record, index, degree, (sent_as,), uploaded)

    def _translate_degree(
        self, record: TraineeRecord, index: int, degree: dict[str, Any], names: Iterable[str], uploaded: bool
    ) -> None:
        """Translate the codes of the degree's fields `names`, each reported under its place in the record."""
        cache = self._degree_translations
        for field_name in names:
            try:
                degree_translation = cache[field_name]
            except KeyError:
                degree_translation = cache[field_name] = self.translation(f"degrees_attributes.{field_name}")
            if degree_translation is None:
                continue
            value = degree[field_name]
            if value in degree_translation.translate or value in degree_translation.no_translation:  # as above
                label = f"degrees_attributes[{index}].{field_name}"
                line = record.item_line("degrees_attributes", index)  # the degree's, where the input gives it
                self._apply(record, degree, field_name, label, degree_translation, uploaded, line)

    def _apply(
        self,
        record: TraineeRecord,
        holder: dict[str, Any],
        key: str,
        label: str,
        translation: CodeTranslation,
        uploaded: bool = False,
        line: int | None = None,
    ) -> None:
        """Translate `holder[key]`, or say it has no translation, in an issue named `label` on `line` (None: the
        record's)."""
        value = holder[key]
        reason = translation.no_translation.get(value)
        if reason is not None:
            bundled = translation.block_of(value).bundled
            if bundled and self._reference is not None and _pulled_since(label, value, self._reference):
                record.issue(
                    "no_translation_now_listed",
                    _now_listed(label, value, reason),
                    field=label,
                    value=value,
                    severity=Severity.WARNING,
                    line=line,
                )  # sent as written
                return
            from register_batch.validation.answers import REFUSED, TAKEN, registers_refusal  # (imports this module)

            if self._reference is None:
                self._reference = load_reference()
            reference = self._reference
            # A bundled note is the tool's word on Register's lists of its release (review210 F6): the way past it
            # should Register list the code since. Not for one its lists hold and R9 refuses (route 02).
            to_send = SEND_ANYWAY if bundled and not _listed(label, value, reference) else ""
            # Register's own words first, where it refuses the record for the code, whatever the input's format: the
            # words support finds in its 422 or error report (review234 F1); the file's reason after them.
            refusal = registers_refusal(key, value, record.data, None if holder is record.data else holder, reference)
            if refusal is not None:
                upload = ". Register's CSV upload fails the row, and with it the whole file" if uploaded else ""
                ended = refusal if refusal.endswith(".") else f"{refusal}."  # "… values include '…'..." ends one
                code, message = REFUSED, f"{ended} {label}: {reason}{upload}{to_send}"
            else:
                answer = _register_answers(label, value, reference) if uploaded else ""
                code, message = TAKEN, f"{label}: {reason}{answer}{to_send}"
            record.issue(code, message, field=label, value=value, line=line)
            record.reported.add(label)
            return
        alternatives = translation.translate.get(value)
        if not alternatives:
            return
        for alternative in alternatives:
            if all(record.data.get(other) in allowed for other, allowed in alternative.when.items()):
                if alternative.to == value:  # mapped to itself (undoing a bundled translation): nothing translated
                    return
                holder[key] = alternative.to
                if label.startswith("course_subject_"):
                    # A legacy subject can name a specialism (101085: primary with mathematics) that Register holds as
                    # a second subject: the extract's blank subjects say nothing then (review46 F4).
                    record.partial_lists = record.partial_lists | ALL_CLEARABLE_SUBJECTS
                note = f" ({alternative.note})" if alternative.note else ""
                upload = _upload_refuses(value, alternative.to, label) if uploaded else ""
                source, place = translation.source_of(value), translation.place_of(value)
                record.issue(
                    "legacy_code_translated",
                    f"{label}: legacy code '{value}' translated to '{alternative.to}'{note}; "
                    f"{place if source == translation.block_of(value).origin else f'{source} ({place})'}{upload}",
                    field=label,
                    value=value,
                    severity=Severity.WARNING,
                    line=line,
                )
                return
        # Every alternative has a `when` (one without matches every record), and none matched: left as written.
        self._unmatched(record, holder is record.data, key, label, value, translation, line)

    def _unmatched(
        self,
        record: TraineeRecord,
        own: bool,
        key: str,
        label: str,
        value: str,
        translation: CodeTranslation,
        line: int | None,
    ) -> None:
        """Say that `value`, which a block translates only under conditions the record does not meet, is left as
        written, where Register's list has no such code: its error alone said the code is invalid, as if no file
        translated it (review209 F5). Only on that path: a translated code never gets here."""
        list_name = code_list_for(key if own else f"degrees_attributes.{key}")
        if list_name is None:
            return
        if self._reference is None:
            self._reference = load_reference()
        if value in self._reference.codes(list_name):
            return  # a code of Register's, kept for the records no `when` picks out
        place = translation.place_of(value)
        tests = ", or when ".join(alternative.tests() for alternative in translation.translate[value])
        record.issue(
            "translation_unmatched",
            f"{label}: {place} translates '{value}' only when {tests}, and this record meets none of these, so it is "
            f"left as written, which is not in Register's {list_name} list: add a last alternative without a `when` "
            "for the other records, or correct the fields it tests",
            field=label,
            value=value,
            severity=Severity.WARNING,
            line=line,
        )


def names_kosovan(code: str, reference: ReferenceData | None) -> bool:
    """Whether an SRS's nationality, written as a name, is the label Register's nationality list gives XK (`Kosovan`,
    in any case): a translation of it to XK is right, and no British trainee sent as Kosovan (review209 F8: the
    warning told a vendor whose SRS writes names to "translate British to GB", of its Kosovan key)."""
    label = (reference or load_reference()).code_list("nationality").label(COUNTRY_NOT_NATIONALITY)
    return label is not None and code.strip().casefold() == label.casefold()


def _numbered_in(name: str, reads: Collection[str]) -> bool:
    """Whether the mapping reads `name` numbered (F_DISABLE as F_DISABLE1, ...): an SRS's <DISABILITY><F_DISABLE>
    group holds the values of those (review96 F2)."""
    return not name[-1:].isdigit() and any(read.startswith(name) and read[len(name) :].isdigit() for read in reads)
