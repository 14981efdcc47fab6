"""Stream `Student` records from a HESA ITT XML extract (hesa-formats.md §1, §5 items 1-7).

Constant memory: lxml `iterparse` on `Student` end events, each element cleared and unlinked once read.
Hostile XML is refused before parsing: a DTD that declares entities or points at external resources,
or a root that is not `ITTRecord`. The parser itself never resolves entities, loads DTDs or touches the
network, and keeps libxml2's limits on depth and text size (`huge_tree=False`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import BinaryIO

from lxml import etree

from register_batch.errors import UnusableInput
from register_batch.model import SourceRef
from register_batch.readers.base import HashingReader, InputInfo, RawRecord, clean

ROOT = "ITTRecord"
RECORD = "Student"
new_source = SourceRef.model_construct
PROLOG_LIMIT = 1 << 20
RECORD_SPAN = 2 << 20  # a Student is a few KB; 2 MB without one is not a HESA extract (or a damaged one)
_FIRST_ELEMENT = re.compile(rb"<([A-Za-z_][\w.\-]*)")
_BOM = b"\xef\xbb\xbf"


def _check_prolog(head: bytes, name: str) -> None:
    """Refuse DTD entity declarations, external DTDs and a root other than ITTRecord."""
    text = head[3:] if head.startswith(_BOM) else head
    # Skip the XML declaration, comments and processing instructions to find the root element.
    pos = 0
    doctype = b""
    while True:
        pos = text.find(b"<", pos)
        if pos < 0:
            if len(head) >= PROLOG_LIMIT:
                raise UnusableInput(name, "the XML prolog is longer than 1 MB; refusing to parse it")
            raise UnusableInput(name, "no XML element found (empty or not an XML file)")
        if text.startswith(b"<?", pos):
            end = text.find(b"?>", pos)
        elif text.startswith(b"<!--", pos):
            end = text.find(b"-->", pos)
        elif text.startswith(b"<!DOCTYPE", pos):
            end = _doctype_end(text, pos)
            doctype = text[pos:end] if end > 0 else text[pos:]
        else:
            break
        if end < 0:
            raise UnusableInput(name, "the XML prolog is truncated or longer than 1 MB")
        pos = end + 1
    if doctype:
        if b"<!ENTITY" in doctype:
            raise UnusableInput(name, "the XML declares entities in a DTD; refusing to expand them")
        if b"SYSTEM" in doctype or b"PUBLIC" in doctype:
            raise UnusableInput(name, "the XML refers to an external DTD; refusing to fetch it")
    match = _FIRST_ELEMENT.match(text, pos)
    if not match:
        raise UnusableInput(name, "not well-formed XML: no root element")
    root = match.group(1).decode("ascii", "replace")
    if root != ROOT:
        raise UnusableInput(name, f"the root element is <{root}>, not <{ROOT}>: not a HESA ITT extract")


def _doctype_end(text: bytes, start: int) -> int:
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c == 0x5B:  # [
            depth += 1
        elif c == 0x5D:  # ]
            depth -= 1
        elif c == 0x3E and depth <= 0:  # >
            return i
    return -1


def _student_fields(student: etree._Element, source: SourceRef) -> RawRecord:
    # The hot loop of the reader. The parser drops comments and processing instructions, and entities are
    # never resolved, so every child is an element. A leaf has text, or no text and no children.
    fields: dict[str, str | None] = {}
    groups: dict[str, list[dict[str, str | None]]] = {}
    containers = 0
    for child in student:
        text = child.text
        if text is not None:
            value = text.strip()
            if value:
                fields[child.tag] = None if len(value) == 4 and value.lower() == "null" else value
                continue
        if len(child):
            containers += 1
            for item in child:
                groups.setdefault(item.tag, []).append({leaf.tag: clean(leaf.text) for leaf in item})
            continue
        fields[child.tag] = None
    problems: list[tuple[str | None, str]] = []
    if len(fields) + containers != len(student):
        problems = _repeated_tags(student)
        for tag, _message in problems:
            fields[tag] = _first_value(student, tag)
    return RawRecord(source=source, fields=fields, groups=groups, problems=problems)


def _repeated_tags(student: etree._Element) -> list[tuple[str | None, str]]:
    """Tags given more than once with different values (the slow path; rare)."""
    seen: dict[str, str | None] = {}
    problems: list[tuple[str | None, str]] = []
    for child in student:
        if len(child):
            continue
        value = clean(child.text)
        if child.tag in seen and seen[child.tag] != value and all(t != child.tag for t, _ in problems):
            problems.append((child.tag, f"<{child.tag}> appears more than once with different values"))
        seen.setdefault(child.tag, value)
    return problems


def _first_value(student: etree._Element, tag: str) -> str | None:
    for child in student:
        if child.tag == tag and not len(child):
            return clean(child.text)
    return None


def read_hesa_xml(stream: BinaryIO, info: InputInfo) -> Iterator[RawRecord]:
    """Yield one RawRecord per `Student`, wherever it is in the document."""
    name = info.path
    hashing = HashingReader(stream)
    head = hashing.read(PROLOG_LIMIT)
    _check_prolog(head, name)
    feed = _Replay(head, hashing)
    parser_events = etree.iterparse(
        feed,
        events=("end",),
        tag=RECORD,
        resolve_entities=False,
        load_dtd=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    count = 0
    select = info.select
    try:
        for _event, student in parser_events:
            count += 1
            # The values are already of SourceRef's types (str, int, int or None): no validation needed.
            source = new_source(input=name, record=count, line=student.sourceline)
            if select is None or select(count):
                raw = _student_fields(student, source)
            else:
                raw = RawRecord(source=source, fields={})
            # Free what has been read: this element, and everything before it in the document (earlier
            # siblings of it and of its ancestors), whatever those elements are.
            student.clear(keep_tail=False)
            node = student
            parent = node.getparent()
            while parent is not None:
                while node.getprevious() is not None:
                    del parent[0]
                node, parent = parent, parent.getparent()
            feed.mark()
            yield raw
    except _NoRecordInSight:
        raise UnusableInput(
            name,
            f"more than {RECORD_SPAN >> 20} MB of XML without a complete <{RECORD}> "
            f"({f'after record {count}' if count else 'before the first record'}): "
            "not a HESA ITT extract, or a damaged one; refusing to hold it all in memory",
        ) from None
    except etree.XMLSyntaxError as exc:
        line = exc.lineno if exc.lineno else None
        msg = str(exc.msg if hasattr(exc, "msg") and exc.msg else exc)
        problem = "truncated XML (the file ends before the document does)" if _is_truncation(msg) else msg
        raise UnusableInput(name, f"not well-formed XML: {problem}", line=line) from None
    hashing.drain()
    info.sha256 = hashing.hasher.hexdigest()
    info.records = count
    if count == 0:
        raise UnusableInput(name, f"no <{RECORD}> records in the <{ROOT}> document")


def _is_truncation(message: str) -> bool:
    lowered = message.lower()
    return "premature end" in lowered or ("extra content" not in lowered and "end of data" in lowered)


class _NoRecordInSight(Exception):
    """Too many bytes read since the last complete Student: memory would grow with them."""


class _Replay:
    """File-like object that first returns already-read bytes, then the rest of the stream.

    It also bounds memory: lxml keeps every element until it is freed, and only complete Students are, so the
    reader marks each Student and a stretch of more than RECORD_SPAN bytes without one (a huge record, or
    masses of other elements) stops the parse instead of filling memory.
    """

    def __init__(self, head: bytes, rest: HashingReader):
        self._head = head
        self._rest = rest
        self._given = 0
        self._mark = 0

    def mark(self) -> None:
        self._mark = self._given

    def read(self, size: int = -1) -> bytes:
        out = self._read(size)
        self._given += len(out)
        if self._given - self._mark > RECORD_SPAN:
            raise _NoRecordInSight()
        return out

    def _read(self, size: int) -> bytes:
        if self._head:
            if size is None or size < 0 or size >= len(self._head):
                out, self._head = self._head, b""
                if size is not None and size > len(out):
                    out += self._rest.read(size - len(out))
                return out
            out, self._head = self._head[:size], self._head[size:]
            return out
        return self._rest.read(size)
