"""Reading an extract as the readers' tests do: every record of every input, with the bundled mapping, and the line
a piece of text is on (tests/readers)."""

from __future__ import annotations

import functools

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
