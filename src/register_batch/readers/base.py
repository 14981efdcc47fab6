"""What every reader yields, and the byte-level plumbing they share (hashing, zip members)."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING

from register_batch.model import Issue, SourceRef

if TYPE_CHECKING:
    from register_batch.readers.hesa_xml import XmlPart


def clean(value: str | None) -> str | None:
    """Strip a value; `NULL`/`Null`/empty mean no value (hesa-formats.md §1.4)."""
    if value is None:
        return None
    value = value.strip()
    if not value or value.lower() == "null":
        return None
    return value


@dataclass(slots=True)
class RawRecord:
    """One record as found in the input: scalar fields by source name, repeated groups by group name."""

    source: SourceRef
    fields: dict[str, str | None]
    groups: dict[str, list[dict[str, str | None]]] = field(default_factory=dict)
    problems: list[tuple[str | None, str]] = field(default_factory=list)
    # (name read by, problem) of a value with markup in it (HESA XML): a problem of the record only when the mapping
    # reads that name (mapping.apply), as a tag it does not read is ignored, whatever it holds (review71 M3).
    marked: tuple[tuple[str, str], ...] = ()
    # The line of each item of a group (HESA XML's PREVIOUSQUALIFICATIONs, one or several), by the
    # group's tag, None where not known: where an issue about one of them points. None: no lines kept.
    group_lines: dict[str, list[int | None]] | None = None
    # HESA XML's tags read by another name than they are written (<SURNAME>, <f_surname> read as F_SURNAME), by the
    # name read, the record's and its group rows' alike: a message about one names it as the extract has it
    # (review222 F2). None: every tag read as written.
    written: dict[str, str] | None = None


@dataclass(slots=True)
class InputInfo:
    """A summary of one input for reports: path as given, format, sha256 and record count."""

    path: str
    format: str
    sha256: str = ""
    records: int = 0
    issues: list[Issue] = field(default_factory=list)
    vintages: dict[str, int] = field(default_factory=dict)
    # Records by the academic cycle (its start year) Register holds each one's trainee in (Checker._count_cycle).
    cycles: dict[int, int] = field(default_factory=dict)
    sources_seen: int = 0  # the users' mapped sources its records have (mapping.SourceWatch bits)
    sources_known: bool = False  # every record has been looked at that needs to be (a CSV: its first)
    # The state changes (withdrawal, deferral) whose columns or tags (or F_RSNEND) some record has: in HESA XML,
    # where an absent tag is no value, a Student without them can still say them (Checker.widen_can_say; read in one
    # process).
    states_shown: set[str] = field(default_factory=set)
    # Which records (1-based, within this input) the reader should extract; others come back with no
    # fields. Set before reading, by a consumer that will never look at them (a parallel validation).
    select: Callable[[int], bool] | None = None
    # For a plain HESA XML file shared by two processes: which part of it this reader reads.
    part: XmlPart | None = None
    # A CSV's encoding as the reader found it for the whole file (csv.ENCODING_NAMES: "Windows-1252"); None for XML,
    # read as its declaration says, and for records given in code.
    encoding: str | None = None

    def as_report(self) -> dict[str, object]:
        """The input's entry in report.json; `vintages` counts the records read by an older collection's layout, and
        `encoding` is a CSV's only."""
        found: dict[str, object] = {"path": self.path, "format": self.format}
        if self.encoding is not None:  # a CSV's: Windows-1252 says why a name may have lost letters (review156 F2)
            found["encoding"] = self.encoding
        found["sha256"] = self.sha256
        found["records"] = self.records
        if self.vintages:
            found["vintages"] = dict(sorted(self.vintages.items()))
        if self.cycles:  # start year -> records: `register-batch export --academic-cycle YEAR` for each (review134 F4)
            found["cycles"] = {str(year): count for year, count in sorted(self.cycles.items())}
        return found


class PassingReader(io.RawIOBase):
    """A read-only stream that does something with the bytes its `read` passes on; io's buffered readers read it."""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        raise NotImplementedError

    # io's buffered readers pass a bytearray or a memoryview; typeshed's WriteableBuffer (any writable buffer) has no
    # slice assignment, so mypy would refuse this narrower parameter.
    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        chunk = self.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


class HashingReader(PassingReader):
    """A read-only stream that hashes what passes through it (one pass for parse and sha256)."""

    def __init__(self, raw: IO[bytes], hasher: hashlib._Hash | None = None):
        self._raw = raw
        self.hasher = hasher or hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self._raw.read(size)
        if chunk:
            self.hasher.update(chunk)
        return chunk

    def drain(self) -> None:
        """Read to the end so the hash covers the whole file."""
        while self.read(1 << 20):
            pass

    def close(self) -> None:
        self._raw.close()
        super().close()


SHOWN_NAME = 60  # characters of a name from the file (a column header, a root element) an error line quotes


def cut_short(name: str) -> str:
    """A name from the file, cut short for an error line: a first line that is no header (a one-line XML export read
    as CSV) is one 'column' as long as the file, and libxml2 allows element names of 50,000 characters."""
    return name if len(name) <= SHOWN_NAME else f"{name[:SHOWN_NAME]}…"
