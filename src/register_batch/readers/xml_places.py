"""Which record of a HESA XML file a refusal's line falls in, found from the file itself (only once a parse has failed).

lxml raises a parse error before it hands over the records already parsed in its buffer, so the count of records the
reader was given lags the error by up to a buffer's worth of them. This pass reads the bytes the parser was given
again, up to the error's line (or to the end of a file cut short), and counts the records' start and end tags as the
parse finds them: <Student> in the cases the reader reads (RECORD_TAGS), wherever it is (in a wrapper too), and never
in a comment, CDATA section, processing instruction or DOCTYPE. Memory stays bounded (a read at a time and a few bytes
carried over, and at most two places for the error's line), whatever the file's size or the length of its lines.

A place is (inside, number): inside record `number`, from the `<` of its start tag to the `>` of its end tag; or after
it (between records, or after the last; number 0 is before the first). No place when it cannot be known honestly: a
record inside another (whose numbering the reader refuses), a line that holds two places and a column that does not
tell them apart (libxml2 stands just past what it found wrong, so the byte before it and the byte at it must be in one
place), a column that cannot be followed to a byte (it counts characters: in UTF-8 those are the bytes that are not
continuation bytes, 0x80-0xBF, so invalid UTF-8 before it leaves it unknown; in the single-byte encodings the reader
accepts, a byte each; measured with libxml2 2.14 over lines past 65,535 columns and 1 MiB, a character cut by a read
too), or bytes that cannot be read again.
"""

from __future__ import annotations

import codecs
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass

Place = tuple[bool, int]

_READ = 1 << 20


@functools.cache
def _tokens(records: frozenset[str]) -> re.Pattern[bytes]:
    """Where a construct the count must see starts: a comment, a CDATA section, a processing instruction (an XML
    declaration too), a DOCTYPE, a record's start or end tag (`records`: its names). No other `<` changes the count."""
    names = b"|".join(sorted(re.escape(name.encode("ascii")) for name in records))
    return re.compile(rb"<(?:(!--)|(!\[CDATA\[)|(\?)|(!DOCTYPE)|(/?)(?:" + names + rb")(?=[\s/>]))")


_LONGEST_TOKEN = len(b"<![CDATA[") + 2  # bytes a token and its look-ahead may need past where it starts
_ENDS = {1: b"-->", 2: b"]]>", 3: b"?>"}
_TAG_END = re.compile(rb"""[>"']""")
_WHITE = b" \t\r\n"


@dataclass(slots=True)
class _Target:
    """What is known of the error's line as the pass reads it."""

    line: int
    column: int | None  # libxml2's, 1-based, where it was parsing: in characters
    utf8: bool = True  # its characters are UTF-8's (else a byte each: the single-byte encodings)
    start: int | None = None  # the line's first byte in the stream, once reached
    done: bool = False  # its line end passed
    at_start: Place | None = None  # the place of its first byte
    said: set[Place] | None = None  # the places of its bytes other than white space
    counted: int = 0  # the line's characters passed while the column's byte is not found
    cursor: int | None = None  # the column's byte in the stream, once found
    trusted: bool = True  # no invalid UTF-8 before the column: its byte can be found
    decoder: codecs.IncrementalDecoder | None = None  # checks the UTF-8 before the column, a read at a time
    last: tuple[int, Place] | None = None  # the line's last byte passed (before the column's byte is found) and place
    carried: bytes = b""  # the line's bytes from its last `<` in the read before, for a tag cut by a read
    at_column: dict[int, Place] | None = None  # the places of the bytes before and at the column


class _Count:
    """One pass over the bytes the parser was given, counting records and placing the error's line among them."""

    def __init__(
        self,
        read: Callable[[int], bytes],
        target: _Target | None,
        doctype_end: Callable[[bytes, int], int],
        tokens: re.Pattern[bytes],
    ):
        self._read = read
        self._tokens = tokens
        self._target = target
        self._doctype_end = doctype_end
        self.started = 0
        self.open: int | None = None  # the record whose start tag has been read, not yet its end
        self.unknown = False  # a record inside another, or a DOCTYPE not read whole: no place
        self.place: Place = (False, 0)
        self._buf = b""
        self._base = 0  # where _buf starts in the stream
        self._pos = 0  # in _buf: what is before it is counted
        self._line = 1
        self._eof = False

    def run(self) -> Place | None:
        """The place of the error: its line's, or (no target) the end of the input's."""
        state: int | tuple[str, bytes | None] | None = None  # a construct left open across reads
        while not self._stop():
            if not self._eof and len(self._buf) - self._pos < _READ:
                more = self._read(_READ)
                self._buf = self._buf[self._pos :] + more
                self._base += self._pos
                self._pos = 0
                self._eof = not more
                if self._base == 0 and self._buf.startswith(codecs.BOM_UTF8):
                    self._pos = len(codecs.BOM_UTF8)  # a byte order mark is not on line 1 for libxml2's columns
            state = self._scan(state)
            if self._eof and state is None and self._pos >= len(self._buf):
                break
            if self._eof and state is not None:  # a construct the input ends in: its bytes are where it stands
                self._advance(len(self._buf))
                break
        return None if self.unknown else self._answer()

    def _stop(self) -> bool:
        return self.unknown or (self._target is not None and self._target.done)

    def _scan(self, state: int | tuple[str, bytes | None] | None) -> int | tuple[str, bytes | None] | None:
        """Count what the buffer holds, as far as it can be told; returns the construct left open, if any."""
        buf = self._buf
        while not self._stop():
            if isinstance(state, int):  # in a comment, CDATA section or PI: to its end
                end = buf.find(_ENDS[state], self._pos)
                if end < 0:
                    self._advance(max(self._pos, len(buf) - 2))
                    return state
                self._advance(end + len(_ENDS[state]))
                state = None
            elif state is not None:  # in a record's start tag (its quote, if in one) or end tag
                tag, quote = state
                if quote is not None:
                    end = buf.find(quote, self._pos)
                    if end < 0:
                        self._advance(len(buf))
                        return state
                    self._advance(end + 1)
                    state = (tag, None)
                    continue
                found = _TAG_END.search(buf, self._pos) if tag == "start" else None
                end = found.start() if found else buf.find(b">", self._pos)
                if end < 0:
                    self._advance(max(self._pos, len(buf) - 1))  # the byte before `>` says whether it is `/>`
                    return state
                if buf[end] != 0x3E:  # a quote
                    self._advance(end + 1)
                    state = (tag, buf[end : end + 1])
                    continue
                self._advance(end + 1)
                if tag == "end" or (end > 0 and buf[end - 1] == 0x2F):  # `</Student>` or `<Student/>`: the record ends
                    self._ended()
                state = None
            else:
                limit = len(buf) if self._eof else len(buf) - _LONGEST_TOKEN
                found = self._tokens.search(buf, self._pos)
                if found is None or found.start() >= limit:
                    self._advance(max(self._pos, limit))
                    return None
                self._advance(found.start())
                if found.group(4):  # a DOCTYPE: only in the prolog, all of which is in the first read (PROLOG_LIMIT)
                    end = self._doctype_end(buf, found.start())
                    if end < 0:
                        self.unknown = True
                        return None
                    self._advance(end + 1)
                    continue
                skipped = next((k for k in (1, 2, 3) if found.group(k)), None)
                if skipped is not None:
                    self._advance(found.end())
                    state = skipped
                    continue
                if found.group(5):
                    state = ("end", None)
                else:
                    self._started()
                    state = ("start", None)
                self._advance(found.end())
        return state

    def _started(self) -> None:
        if self.open is not None:
            self.unknown = True
            return
        self.started += 1
        self.open = self.started
        self.place = (True, self.started)

    def _ended(self) -> None:
        if self.open is not None:
            self.place = (False, self.open)
            self.open = None

    def _advance(self, to: int) -> None:
        """Count the buffer's bytes up to `to` as in the current place, and note where the error's line lies."""
        pos, self._pos = self._pos, max(self._pos, to)
        target = self._target
        if to <= pos or target is None or target.done:
            return
        buf = self._buf
        if target.start is None:  # the line not reached yet (every byte is counted in order, from the first)
            newlines = buf.count(b"\n", pos, to)
            if self._line + newlines < target.line:
                self._line += newlines
                return
            while self._line < target.line:
                pos = buf.index(b"\n", pos, to) + 1
                self._line += 1
            target.start = self._base + pos
            target.at_start = self.place
            target.said = set()
            target.at_column = {}
            target.last = (target.start - 1, self.place)  # the line end before it: a column of 1 has it before
        end = buf.find(b"\n", pos, to)
        stop = to if end < 0 else end
        if buf[pos:stop].strip(_WHITE):
            assert target.said is not None
            if len(target.said) < 2:  # one place or more is all _answer asks: a one-line file's records not held
                target.said.add(self.place)
        if target.column is not None and target.trusted and target.at_column is not None:
            first = self._base + pos
            if target.cursor is None:
                # the line's end: its LF, or the input's (no LF after the last line)
                _follow_column(target, buf[pos:stop], first, end >= 0 or (self._eof and to >= len(buf)))
            # A column at the line's end stands past its last byte: that byte's place alone tells (`</Student>` then
            # the line end, which is already after the record)
            last = self._base + (end - 1 if end >= 0 else to - 1)
            cursor = target.cursor
            if cursor is not None and target.trusted:
                if target.last is not None and target.last[0] == cursor - 1:  # the byte before, in an earlier read
                    target.at_column[cursor - 1] = target.last[1]
                for at in (cursor - 1, cursor):
                    if first <= at <= last:
                        target.at_column[at] = self.place
            if first <= last:
                target.last = (last, self.place)
        if end >= 0:
            target.done = True

    def _answer(self) -> Place | None:
        target = self._target
        if target is None or target.start is None:  # the input's end (cut short, or the line past it)
            return self.place
        assert target.said is not None and target.at_column is not None
        if target.trusted and len(target.at_column) == 2:
            # The column first, where it can be trusted: libxml2 finds a fault in what comes before a record (a
            # wrapper's start tag left without its `>` on an earlier line, content after the root) at the `<` of the
            # record's start tag, a line of that record alone (review147 F1). Bytes either side in two places: unknown.
            places = set(target.at_column.values())
            return places.pop() if len(places) == 1 else None
        if len(target.said) == 1:
            return next(iter(target.said))
        if not target.said:
            return target.at_start
        return None


_CONTINUATION = bytes(range(0x80, 0xC0))  # UTF-8's bytes that start no character
_NON_ASCII_END_TAG = re.compile(rb"</[^>\s]*[\x80-\xff]")
_CARRIED = 256  # the end of a read kept for an end tag's name cut by the next (longer names are not HESA's)


def _characters(data: bytes) -> int:
    """The UTF-8 characters that start in `data` (the bytes that are not continuation bytes)."""
    return len(data.translate(None, _CONTINUATION))


def _character_at(data: bytes, index: int) -> int | None:
    """Where in `data` its UTF-8 character `index` (0-based, counted from its first byte) starts; None: fewer."""
    at = index  # no character takes less than a byte: it starts at `index` or later
    while at <= len(data):
        deficit = index - _characters(data[:at])
        if deficit == 0:
            while at < len(data) and 0x80 <= data[at] < 0xC0:  # the continuation bytes of character `index` - 1
                at += 1
            return at if at < len(data) else None
        at += deficit  # never past it: `deficit` bytes hold at most as many characters
    return None


def _follow_column(target: _Target, data: bytes, first: int, line_ends: bool) -> None:
    """Count the characters of `data` (bytes of the error's line from stream position `first`, up to its end if
    `line_ends`) towards libxml2's column, noting its byte once reached; UTF-8 is checked up to it, and invalid UTF-8
    there makes the column one that cannot be followed."""
    assert target.column is not None
    wanted = target.column - 1 - target.counted  # characters before the column's, still to pass
    if target.utf8:
        at = _character_at(data, wanted)
        before = data if at is None else data[:at]
        if target.decoder is None:
            target.decoder = codecs.getincrementaldecoder("utf-8")()
        try:
            target.decoder.decode(before, final=at is not None or line_ends)
        except UnicodeDecodeError:
            target.trusted = False
            return
        passed = _characters(before)
    else:
        at = wanted if wanted < len(data) else None
        before = data if at is None else data[:at]
        passed = len(before)
    # libxml2 counts the name of an end tag in bytes (of UTF-8, whatever the file's encoding), everything else in
    # characters: a name with a letter past ASCII before the column (</F_NOTÉ>) moves it (review149 F2). Looked for
    # in what is carried from the read before (a tag cut by it) too.
    if _NON_ASCII_END_TAG.search(target.carried + before):
        target.trusted = False
        return
    target.carried = before[before.rfind(b"<") :] if b"<" in before[-_CARRIED:] else b""
    if at is not None:
        target.cursor = first + at
    elif line_ends:  # past the line's last byte: the line end, or beyond it (no byte of the line)
        target.cursor = first + len(data) + wanted - passed
    target.counted += passed


def place_and_element_of(
    read: Callable[[int], bytes],
    doctype_end: Callable[[bytes, int], int],
    records: frozenset[str],
    *,
    line: int | None,
    column: int | None = None,
    utf8: bool = True,
) -> tuple[Place | None, str | None]:
    """The place of an error at `line` (libxml2's numbering, LFs counted) and `column`, among the records of the bytes
    `read` gives (the parser's, from the first); line None: at the end of those bytes (a file cut short). `utf8`: the
    file is read as UTF-8 (declared so, or declaring nothing), else as a single-byte encoding (libxml2's column counts
    characters: _follow_column). With it, the element whose value the error is in (_open_element), or None: a bad
    byte in <F_SURNAME>'s value is named by the tag (review232 F2), as libxml2's own words do only for a tag
    mismatch."""
    target = None if line is None else _Target(line, column or None, utf8)
    place = _Count(read, target, doctype_end, _tokens(records)).run()
    return place, None if target is None else _open_element(target)


# A start tag (its attributes, if any) and text after it, up to the column: the error is in that element's value.
_IN_A_VALUE = re.compile(rb"<([A-Za-z_:\x80-\xff][^\s/<>]*)(?:\s[^<>]*)?(?<!/)>[^<]*")


def _open_element(target: _Target) -> str | None:
    """The element whose start tag is the last tag before the error's column on its line, with only text between
    (what the pass carried of the line: _follow_column); None when that is not so, or not known (an element's value
    over lines, or longer than what is carried, a column that cannot be followed)."""
    if target.cursor is None or not target.trusted:
        return None
    found = _IN_A_VALUE.fullmatch(target.carried)
    return None if found is None else found.group(1).decode("utf-8", "replace")


def said_of(place: Place | None) -> tuple[int | None, str]:
    """How a refusal says a place: the record to name (UnusableInput's `record`), or words for its problem."""
    if place is None:
        return None, ""
    inside, number = place
    if inside:
        return number, ""
    return None, f" after record {number}" if number else " before the first record"
