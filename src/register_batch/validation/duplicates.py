"""Duplicates within a batch of inputs, found in memory that does not grow with the records' size.

Each record adds three 64-bit hashes and a spool offset to typed arrays (32 bytes per record) and one line of
identifiers to a spool file; the groups are found by sorting once all records are read, and only the
records in a group are looked up again. So 100,000 trainees cost a few MB, not a dict of strings each.
"""

from __future__ import annotations

import re
import tempfile
from array import array
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from register_batch.model import Issue, Severity, TraineeRecord, make_issue, place
from register_batch.validation.catalogue import describe
from register_batch.validation.facts import cycle_of, parse_date

describe(
    "duplicate_hesa_id",
    scope="batch",
    fields=("hesa_id",),
    message="hesa_id '<value>' is on more than one record: <places>",
    source="design.md (in-file duplicates); a HUSID identifies one trainee (hesa-formats.md §1.5)",
    # A HUSID stays with the student across course instances (F_NUMHUS tells them apart): never a new one for a
    # second instance (review227 F3).
    fix="Keep one record per trainee: a student keeps their HUSID across course instances. For a student "
    "restarting after a deferral, leave the old instance's row out (Register holds one trainee, and the sync moves "
    "it to the new dates); add a new course after a withdrawal or award in Register's service.",
)
describe(
    "duplicate_provider_trainee_id",
    scope="batch",
    fields=("provider_trainee_id",),
    message="provider_trainee_id '<value>' is on more than one record: <places>",
    source="design.md (in-file duplicates; sync matches on it)",
    fix="Give each trainee record its own SRS id (OWNSTU).",
)
describe(
    "possible_duplicate_trainee",
    scope="batch",
    fields=("last_name", "date_of_birth"),
    message="matches <place> by Register's duplicate rule (same date of birth, last name, route, start cycle, and "
    "first name or email): Register would answer 409 to the second",
    source="register-api.md §4 (find_duplicate_trainees.rb)",
    fix="If they are the same person, send one record; if not, check the names, dates and emails.",
    severity=Severity.WARNING,
)

# Five digests (HUSID, SRS id, Register's candidate key, first-name token, email), the record's two start cycles
# (its own, as Register stores it, and that of its itt_start_date, which a create is matched by; 0 for none), then
# its (input, record number, line, spreadsheet row where it differs (SourceRef.row), provider_trainee_id, hesa_id).
Identity = tuple[str, int | None, int | None, int | None, str | None, str | None]  # input, record, line, row, ids
Entry = tuple[int, int, int, int, int, int, int, Identity]
# An entry as another process sends it (`DuplicateFinder.parts`): the three keys kept in memory, the own start cycle,
# and the record's spool line before and after its record number, which the process numbering the records puts in.
Parts = tuple[int, int, int, int, bytes, bytes]

_NON_LETTER = re.compile(r"[^a-z ]")


# An entry's digests (DuplicateFinder.entry) are 64-bit, for grouping within one run: Python's own hash of a tuple of
# a letter naming the key and its parts. SipHash is keyed afresh for each process (so a crafted file cannot aim at
# collisions), and a tuple's parts never run into each other. Equal parts give equal digests within the process,
# which is all the grouping needs; a collision (about 2**-64 per pair) is what the 64-bit design accepts.


def _spooled_value(value: Any) -> str:
    """A value of an entry's identity as the spool holds it when one of them has a separator in it."""
    return "" if value is None else str(value).replace("\n", " ").replace("\x1f", " ")


def first_name_token(first_names: str | None) -> str:
    """`s.strip.downcase.gsub(/[^a-z ]/, "").partition(" ").first` (§4): "Mary-Jane Ann" -> "maryjane"."""
    if not first_names:
        return ""
    return _NON_LETTER.sub("", first_names.strip().lower()).partition(" ")[0]


SLICE_KEYS = 4096  # keys sorted at a time when looking for repeated ones (DuplicateFinder._groups)


def _in_record_order(index_of: array, kind_of: array, ref_of: array, records: int) -> Iterator[tuple[int, int, int]]:
    """(index, kind, reference) of each issue found (DuplicateFinder.issues), in batch order, and each record's in the
    order of their kinds (each kind at most once a record). A few are sorted; many are put in a reference array a kind
    (8 bytes a record each), and read in order: sorting every issue's position made two Python ints and a list entry of
    each, some 70 bytes an issue, 130 MB of a 2 GB extract's 276 MB peak (review184 F3)."""
    found = len(index_of)
    if found * 8 < records:  # few: sorting their positions costs less than a reference for every record
        for position in sorted(range(found), key=index_of.__getitem__):
            yield index_of[position], kind_of[position], ref_of[position]
        return
    refs = [array("q", [-1]) * records for _kind in range(3)]
    for position in range(found):
        refs[kind_of[position]][index_of[position]] = ref_of[position]
    del index_of[:], kind_of[:], ref_of[:]  # the caller's arrays, read: their memory goes now
    hesa, provider, match = refs
    for index in range(records):
        if (ref := hesa[index]) >= 0:
            yield index, 0, ref
        if (ref := provider[index]) >= 0:
            yield index, 1, ref
        if (ref := match[index]) >= 0:
            yield index, 2, ref


def _slices(keys: array) -> list[array]:
    """The keys divided by their low bits into slices of about SLICE_KEYS (the keys are hashes, evenly spread)."""
    count = 1
    while count * SLICE_KEYS < len(keys):
        count *= 2
    if count == 1:
        return [keys]
    mask = count - 1
    slices = [array(keys.typecode) for _ in range(count)]
    for key in keys:
        slices[key & mask].append(key)
    return slices


class DuplicateFinder:
    """Collects record digests while streaming; `issues()` reports the duplicate groups at the end."""

    def __init__(self) -> None:
        self._hesa = array("q")
        self._provider = array("q")
        self._match = array("q")  # Register's §4 candidate key: dob, last name, route (cycles are in the spool)
        self._offsets = array("Q")
        self._spool = tempfile.TemporaryFile(mode="w+b")
        self._spool_size = 0  # kept here: the spool's tell() is a system call per record
        self._read_since_write = False  # a look-up moved the spool's position away from its end
        self.count = 0

    @staticmethod
    def entry(record: TraineeRecord) -> Entry:
        """What the finder keeps of a record: five digests, two cycles and its identifiers (picklable, small).

        A record whose cells do not line up with its input's columns (`misaligned`) has its values under other
        fields' names: it is in no group (all digests 0), as one row that lost a cell made a valid record with a
        small SRS id a duplicate of it, held back from sync (review153 F2)."""
        source = record.source
        if record.misaligned:
            return (0, 0, 0, 0, 0, 0, 0, (source.input, source.record, source.line, source.row, None, None))
        data = record.data
        hesa_id = data.get("hesa_id")
        provider_id = data.get("provider_trainee_id")
        dob, last = data.get("date_of_birth"), data.get("last_name")
        # Each digest `hash` of a tuple written out (above), not a helper's call: five calls a record (the hot path)
        if dob and last and data.get("training_route"):
            match = hash(("m", dob, last.lower(), data["training_route"]))
        else:
            match = 0
        # §4: a trainee already in Register is in the cycle of its trainee_start_date || itt_start_date; a create
        # is matched by the cycle of its itt_start_date only.
        itt_start = parse_date(data.get("itt_start_date"))
        own_start = parse_date(data.get("trainee_start_date")) or itt_start
        first_names = data.get("first_names")
        email = (data.get("email") or "").strip().lower()
        return (
            hash(("h", hesa_id)) if hesa_id else 0,
            hash(("p", provider_id)) if provider_id else 0,
            match,
            # A name with no letters a-z has the token "", which Register matches like any other (§4).
            hash(("f", first_name_token(first_names))) if first_names else 0,
            hash(("e", email)) if email else 0,
            cycle_of(own_start) if own_start else 0,
            cycle_of(itt_start) if itt_start else 0,
            (source.input, source.record, source.line, source.row, provider_id, hesa_id),
        )

    def add(self, record: TraineeRecord) -> int:
        """Remember a record; returns its index in the batch."""
        return self.add_entry(self.entry(record))

    def add_entry(self, entry: Entry) -> int:
        """Remember a record from its `entry()` (which another process may have computed).

        Only the keys every record is grouped by are kept in memory; the first-name and email digests, needed
        only within a group of Register's candidate key (rare), go to the spool with the identifiers.
        """
        return self.add_parts(self.parts(entry), entry[-1][1])

    @staticmethod
    def parts(entry: Entry) -> Parts:
        """`entry` as `add_parts` takes it: what `add_entry` keeps, made by the process that checked the record (a
        parallel run's helper, which has time to spare at its end), less the record's number, which the process
        numbering the records puts in. The spool line is `add_entry`'s, byte for byte."""
        hesa, provider, match, first, email, own_cycle, itt_cycle, identity = entry
        name, _record, line, row, provider_id, hesa_id = identity
        head = f"{name}\x1f"
        tail = (
            f"\x1f{'' if line is None else line}\x1f{'' if row is None else row}\x1f{provider_id or ''}\x1f"
            f"{hesa_id or ''}"
        )
        if "\n" in head or "\n" in tail or head.count("\x1f") + tail.count("\x1f") != 5:  # as add_entry's text
            head = _spooled_value(name) + "\x1f"
            tail = "\x1f" + "\x1f".join(_spooled_value(v) for v in (line, row, provider_id, hesa_id))
        tail = f"{tail}\x1f{first}\x1f{email}\x1f{own_cycle}\x1f{itt_cycle}\n"
        return (
            hesa,
            provider,
            match,
            own_cycle,
            head.encode("utf-8", "surrogatepass"),
            tail.encode("utf-8", "surrogatepass"),
        )

    def add_parts(self, parts: Parts, record: int | None) -> int:
        """`add_entry` of the entry `parts` was made of, numbered `record`; returns its index in the batch."""
        hesa, provider, match, _own_cycle, head, tail = parts
        index = self.count
        self.count += 1
        self._hesa.append(hesa)
        self._provider.append(provider)
        self._match.append(match)
        if self._read_since_write:
            self._spool.seek(self._spool_size)
            self._read_since_write = False
        self._offsets.append(self._spool_size)
        self._spool_size += self._spool.write(head + tail if record is None else b"%b%d%b" % (head, record, tail))
        return index

    def _line(self, index: int) -> list[str]:
        self._spool.seek(self._offsets[index])
        self._read_since_write = True
        return self._spool.readline().decode("utf-8", "surrogatepass").rstrip("\n").split("\x1f")

    def identity(self, index: int) -> Identity:
        name, record, line, row, provider_id, hesa_id, *_match = self._line(index)
        return (
            name,
            int(record) if record else None,
            int(line) if line else None,
            int(row) if row else None,
            provider_id or None,
            hesa_id or None,
        )

    def _match_facts(self, index: int) -> tuple[int, int, int, int]:
        """First-name token and email digests, own start cycle and itt_start_date cycle (0: none)."""
        *_identity, first, email, own_cycle, itt_cycle = self._line(index)
        return int(first), int(email), int(own_cycle), int(itt_cycle)

    @staticmethod
    def _groups(keys: array) -> Iterator[list[int]]:
        """Indexes of the records sharing a key, for every key held by more than one record: groups in key order,
        indexes ascending. Repeated keys are found by sorting the keys alone, a slice of them at a time (equal
        keys fall in the same slice): the peak at the end of a large batch is a copy of the array and one
        slice's list of ints, not a list of every key (40 bytes a record)."""
        repeated = set()
        for part in _slices(keys):
            previous = 0
            for key in sorted(part):
                if key and key == previous:
                    repeated.add(key)
                previous = key
        if not repeated:
            return
        groups: dict[int, list[int]] = {}
        for index, key in enumerate(keys):
            if key in repeated:
                groups.setdefault(key, []).append(index)
        for key in sorted(groups):
            yield groups[key]

    def _issue(
        self, index: int, code: str, field: str, value: str | None, message: str, severity: Severity = Severity.ERROR
    ) -> tuple[int, Issue]:
        name, record, line, row, provider_id, hesa_id = self.identity(index)
        return index, make_issue(
            input=name,
            record=record,
            line=line,
            row=row,
            provider_trainee_id=provider_id,
            hesa_id=hesa_id,
            field=field,
            value=value,
            code=code,
            severity=severity,
            message=message,
        )

    def _place(self, index: int) -> str:
        """Where a person finds the record: `line 5 of dup.csv`, `row 11 (line 12) of ml.csv` (model.place), as the
        reports' location column says it, not its record number, which names another row of a spreadsheet."""
        name, record, line, row, *_ = self.identity(index)
        return f"{place(record, line, row)} of {name}"

    def _where(self, first: list[int], count: int) -> str:
        places = [self._place(index) for index in first[:5]]
        more = f" and {count - 5} more" if count > 5 else ""
        return ", ".join(places) + more

    def issues(self) -> Iterator[tuple[int, Issue]]:
        """(batch index, issue) for every record in a duplicate group, in batch order, built one at a time.

        What is found is kept as three small integer arrays (index, kind, reference), put in batch order without a
        Python int apiece (_in_record_order), so a file that is one record repeated a million times (three million
        issues) costs about 100 MB here, not half a GB; each issue is made only when it is written out.
        """
        index_of, kind_of, ref_of = array("q"), array("b"), array("q")
        members, sizes = array("q"), array("q")  # per group: its first five records, and how many it has
        for kind, keys in ((0, self._hesa), (1, self._provider)):
            for group in self._groups(keys):
                group_id = len(sizes)
                sizes.append(len(group))
                shown = group[:5]
                members.extend(shown + [-1] * (5 - len(shown)))
                for index in group:
                    index_of.append(index)
                    kind_of.append(kind)
                    ref_of.append(group_id)
        for group in self._groups(self._match):
            # Register's rule (§4), for each record against those created before it: the earlier record's own
            # start cycle is the cycle of this one's itt_start_date, and the first-name token or the email is
            # the same. Keyed by (cycle, digest) so each look-up is one dict access.
            first_by_token: dict[tuple[int, int], int] = {}
            first_by_email: dict[tuple[int, int], int] = {}
            for index in group:
                token, email, own_cycle, itt_cycle = self._match_facts(index)
                candidates = [
                    earlier
                    for earlier in (
                        first_by_token.get((itt_cycle, token)) if token and itt_cycle else None,
                        first_by_email.get((itt_cycle, email)) if email and itt_cycle else None,
                    )
                    if earlier is not None
                ]
                if candidates:
                    index_of.append(index)
                    kind_of.append(2)
                    ref_of.append(min(candidates))  # a group's records are in batch order
                if own_cycle:
                    if token:
                        first_by_token.setdefault((own_cycle, token), index)
                    if email:
                        first_by_email.setdefault((own_cycle, email), index)
        where = lru_cache(maxsize=4096)(
            lambda group_id: self._where(
                [m for m in members[group_id * 5 : group_id * 5 + 5] if m >= 0], sizes[group_id]
            )
        )
        for index, kind, ref in _in_record_order(index_of, kind_of, ref_of, len(self._hesa)):
            if kind == 2:
                yield self._issue(
                    index,
                    "possible_duplicate_trainee",
                    "last_name",
                    None,
                    f"matches {self._place(ref)} by Register's duplicate rule (same date of birth, last name, route, "
                    "start cycle, and first name or email): Register would answer 409 to the second",
                    Severity.WARNING,
                )
                continue
            field = "hesa_id" if kind == 0 else "provider_trainee_id"
            identity = self.identity(index)
            value = identity[5] if kind == 0 else identity[4]
            yield self._issue(
                index,
                f"duplicate_{field}",
                field,
                value,
                f"{field} '{value}' is on more than one record: {where(ref)}",
            )

    def close(self) -> None:
        """Free what the finder holds (before the reports are written, which need memory of their own)."""
        self._spool.close()
        self._hesa, self._provider, self._match, self._offsets = array("q"), array("q"), array("q"), array("Q")
