"""Reading an extract as the readers' tests do: every record of every input, with the bundled mapping, and the line
a piece of text is on (tests/readers)."""

from __future__ import annotations

import functools
import re

from register_batch.mapping import load_mapping
from register_batch.readers import XmlPart, newlines_before, open_inputs


@functools.cache
def bundled_mapping():
    return load_mapping()


def read(path):
    """[(info, rows)] for each input, every record read."""
    return [(info, list(records)) for info, records in open_inputs([str(path)], "auto", bundled_mapping())]


def line_of(text: str, needle: str, occurrence: int = 0) -> int:
    """The line of `needle`'s `occurrence`-th appearance in `text`."""
    position = -1
    for _ in range(occurrence + 1):
        position = text.index(needle, position + 1)
    return text.count("\n", 0, position) + 1


def record_on_line(text: str, line: int) -> int:
    """The number of the record whose start tag is the last at or before `line` of a plain extract (no comment or
    CDATA holding one): the record an error on that line is in, if its end tag is not before it."""
    before = "\n".join(text.split("\n")[:line])
    return len(re.findall(r"<(?:Student|student|STUDENT)[\s/>]", before))


def read_in_parts(path, chunks, first):
    """`path` read as a chunked validation reads it: chunks 0 to `first` - 1 by the reader from the file's start,
    every later chunk by a reader of that chunk alone. The records of all the parts, in order."""
    rows = []
    before = newlines_before(str(path), chunks)
    for index in [0, *range(first, len(chunks))]:
        [(info, records)] = list(open_inputs([str(path)], "hesa-xml", bundled_mapping()))
        info.part = (
            XmlPart(chunks, 0, lambda chunk: chunk < first)
            if index == 0
            else XmlPart(chunks, index, None, before[index])
        )
        rows.extend(records)
    return rows


READ = 32 << 10  # what lxml asks the reader for at a time


def long_title_extract() -> tuple[bytes, int]:
    """Three Students, the third with a course title of 2 MB, and where a chunk of them may start (the second's start):
    record 2 ends on the last byte of one of the whole file's 32 KiB reads, half-way through one of a read of that
    chunk alone, and record 3 ends 64 1/4 reads after it. The whole read counts 2 MB + 32 KiB without a complete
    Student, a chunk read alone 2 MB (review112 F5)."""

    def student(number: int, end: int, at: int) -> bytes:
        """A Student starting at byte `at` whose closing `>` is byte `end`."""
        shell = b"<Student><F_HUSID>%013d</F_HUSID><F_CTITLE></F_CTITLE></Student>" % number
        return shell.replace(b"</F_CTITLE>", b"x" * (end + 1 - at - len(shell)) + b"</F_CTITLE>")

    text = b"<ITTRecord>\n"
    text += student(1, 3 * READ + READ // 2 - 2, len(text)) + b"\n"
    chunk = len(text)  # half-way through a read of the whole file
    text += student(2, 5 * READ - 1, len(text)) + b"\n"
    text += student(3, 5 * READ - 1 + 64 * READ + READ // 4, len(text)) + b"\n</ITTRecord>\n"
    assert text.index(b"</Student>", chunk) + len(b"</Student>") - 1 == 5 * READ - 1
    return text, chunk
