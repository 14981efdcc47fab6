"""A sync's records, spooled: what planning and sending read of each record on disk, a few values in memory.

A sync validates every record before it lists Register, and plans every record before it writes any, so each
record was held from the first read to the report: its request body and issues, about 3-5 KB of Python objects a
record, and as much again for the plan's copy of the body. Here each record, once validated, goes to an
anonymous temporary file (like the issues' spools: removed from its folder when made), and is read back when
planning, sending or the report needs it; a record read back is the record as it was, but for its issues, of
which it keeps those sync reads (`KEPT_ISSUES`). In memory stay, per record, its source reference, HUSID and SRS
id (what the results and the ledger name it by), its start cycle and its place in the file.

A record's request body is written as its values (marshal), with the keys' order given by a number: the records
of an input have a few hundred such orders at most (which fields are given), each kept once (at most
`MAX_SHAPES`; a record of another one is written whole). That halves the file, to about 300-400 bytes a record.
"""

from __future__ import annotations

import marshal
import pickle
import tempfile
from array import array
from collections.abc import Callable, Iterator, Sequence
from typing import Any, overload

from register_batch.model import (
    ALL_CLEARABLE_INITIATIVES,
    CLEARABLE_INITIATIVES,
    SourceRef,
    TraineeRecord,
    issue_from_values,
    issue_values,
)
from register_batch.sync.plan import KEPT_ISSUES, start_cycle

NO_CYCLE = -1  # in `cycles`: a record with no start date (start_cycle None)
MAX_SHAPES = 4096  # key orders of request bodies (and of their degrees and placements) kept
_NESTED = frozenset({"degrees_attributes", "placements_attributes"})
# TraineeRecord.untagged read back: one set for all the records that have it, not a copy each.
_UNTAGGED = {
    names: names for names in (frozenset(), ALL_CLEARABLE_INITIATIVES, *(frozenset({n}) for n in CLEARABLE_INITIATIVES))
}

_NO_INITIATIVES: frozenset[str] = frozenset()


class RecordSpool(Sequence[TraineeRecord]):
    """The run's records in batch order: `append` each as it is validated, then `spool[i]` reads record i back.

    `widen`, when set, is applied to each record read back (Checker.widen_can_say's, known once all are read).
    """

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile()
        self._ends = array("q")  # where each record's bytes end; the first starts at 0
        self.sources: list[SourceRef] = []
        self.hesa_ids: list[str | None] = []
        self.provider_trainee_ids: list[str | None] = []
        self.cycles = array("i")  # each record's start academic cycle (start_cycle), NO_CYCLE for none
        self.widen: Callable[[TraineeRecord], None] | None = None
        # Input -> the CLEARABLE_INITIATIVES some record of it gives (in HESA XML: some Student has the tag), for
        # sync/initiatives.py: a Student without a tag no Student of its file has says nothing (review205 F1/F2).
        self.tagged: dict[str, frozenset[str]] = {}
        self.initiative_tags: dict[str, str] = {}  # the tags each initiative is read from (initiatives.initiative_tags)
        self._shared: list[Any] = []  # can_say dicts (shared between records, never changed in place)
        self._shared_at: dict[int, int] = {}
        self._shapes: list[tuple[str, ...]] = []  # the key orders of the bodies, and of their degrees and placements
        self._shape_at: dict[tuple[str, ...], int] = {}

    def append(self, record: TraineeRecord) -> None:
        data = record.data
        can_say = record.can_say
        if can_say is None:
            shared = -1
        elif (shared := self._shared_at.get(id(can_say), -1)) < 0:
            shared = self._shared_at[id(can_say)] = len(self._shared)
            self._shared.append(can_say)
        issues = tuple(issue_values(issue) for issue in record.issues if issue.code in KEPT_ISSUES)
        packed = self._pack(data)
        fields = (
            packed is not None,
            data if packed is None else packed,
            record.withdrawal,
            record.deferral,
            issues,
            sorted(record.reported),
            record.vintage,
            record.partial_lists,
            record.ukprn,
            record.sources_seen,
            shared,
            record.untagged,
        )
        try:
            blob = b"m" + marshal.dumps(fields)
        except ValueError:  # a value marshal does not take (no reader makes one): pickle says it as well
            blob = b"p" + pickle.dumps(fields, pickle.HIGHEST_PROTOCOL)
        if said := ALL_CLEARABLE_INITIATIVES - record.partial_lists:
            shown = self.tagged.get(record.source.input, _NO_INITIATIVES)
            if not said <= shown:
                self.tagged[record.source.input] = shown | said
        self._file.write(blob)
        self._ends.append((self._ends[-1] if self._ends else 0) + len(blob))
        self.sources.append(record.source)
        self.hesa_ids.append(data.get("hesa_id"))
        self.provider_trainee_ids.append(data.get("provider_trainee_id"))
        cycle = start_cycle(data)
        self.cycles.append(NO_CYCLE if cycle is None else cycle)

    def __len__(self) -> int:
        return len(self._ends)

    @overload
    def __getitem__(self, index: int) -> TraineeRecord: ...

    @overload
    def __getitem__(self, index: slice) -> list[TraineeRecord]: ...

    def __getitem__(self, index: int | slice) -> TraineeRecord | list[TraineeRecord]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self._ends):
            raise IndexError(index)
        start = self._ends[index - 1] if index else 0
        self._file.seek(start)
        return self._record(index, self._file.read(self._ends[index] - start))

    def __iter__(self) -> Iterator[TraineeRecord]:
        for index in range(len(self)):
            yield self[index]

    def _record(self, index: int, blob: bytes) -> TraineeRecord:
        fields = marshal.loads(blob[1:]) if blob[:1] == b"m" else pickle.loads(blob[1:])
        packed, data, withdrawal, deferral, issues, reported, vintage, partial_lists, ukprn, sources_seen = fields[:10]
        shared, untagged = fields[10:]
        if packed:
            data = self._unpack(data)
        # The HUSID and SRS id this spool holds already, rather than equal copies: plans and results keep them.
        if "hesa_id" in data:
            data["hesa_id"] = self.hesa_ids[index]
        if "provider_trainee_id" in data:
            data["provider_trainee_id"] = self.provider_trainee_ids[index]
        record = TraineeRecord(
            source=self.sources[index],
            data=data,
            withdrawal=withdrawal,
            deferral=deferral,
            issues=[issue_from_values(values) for values in issues],
            reported=set(reported),
            vintage=vintage,
            partial_lists=partial_lists,
            ukprn=ukprn,
            sources_seen=sources_seen,
            can_say=self._shared[shared] if shared >= 0 else None,
            untagged=_UNTAGGED.get(untagged, untagged),
        )
        if self.widen is not None:
            self.widen(record)
        return record

    def close(self) -> None:
        self._file.close()

    def _shape(self, keys: tuple[str, ...]) -> int | None:
        shape = self._shape_at.get(keys)
        if shape is None and len(self._shapes) < MAX_SHAPES:
            shape = self._shape_at[keys] = len(self._shapes)
            self._shapes.append(keys)
        return shape

    def _pack(self, data: dict[str, Any]) -> tuple[int, tuple[Any, ...]] | None:
        """(key order, values) of a body whose values are text, and lists of dicts of text for its degrees and
        placements (as the mapping makes them); None for any other (written whole)."""
        values = list(data.values())
        kinds = list(map(type, values))
        if kinds.count(str) != len(kinds):
            keys = tuple(data)
            for key in _NESTED:
                items = data.get(key)
                if type(items) is not list:
                    continue
                packed = []
                for item in items:
                    if type(item) is not dict:
                        return None
                    texts = tuple(item.values())
                    if list(map(type, texts)).count(str) != len(texts) or (shape := self._shape(tuple(item))) is None:
                        return None
                    packed.append((shape, texts))
                place = keys.index(key)
                values[place], kinds[place] = tuple(packed), str  # told apart from text by its type when read
            if kinds.count(str) != len(kinds):
                return None
        shape = self._shape(tuple(data))
        return None if shape is None else (shape, tuple(values))

    def _unpack(self, packed: tuple[int, tuple[Any, ...]]) -> dict[str, Any]:
        shape, values = packed
        shapes = self._shapes
        data = dict(zip(shapes[shape], values, strict=True))
        for key in _NESTED:
            items = data.get(key)
            if type(items) is tuple:
                data[key] = [dict(zip(shapes[kind], item, strict=True)) for kind, item in items]
        return data
