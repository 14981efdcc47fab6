"""report.json: the design.md format, issues streamed so a large report never sits in memory."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from register_batch.reports import ISSUE_KEYS, Rows

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder


def write(fh: IO[str], report: ReportBuilder) -> None:
    for text in head_text({**report.header(), **report.extra}):
        fh.write(text)
    fh.write(',\n "issues": [')
    dumps = json.JSONEncoder(ensure_ascii=False).encode  # json.dumps(row, ensure_ascii=False), its encoder made once
    before = "\n  "  # an issue's row, on a line of its own: "\n  " before the first, ",\n  " before each other
    pieces: list[str] = []
    size = 0
    for values in report.issue_values():
        row = dumps(dict(zip(ISSUE_KEYS, values, strict=True)))
        pieces += (before, row)
        before = ",\n  "
        size += len(row)
        if size >= WRITE_AT_ONCE:  # rows written a few dozen at a time, rather than two writes each
            fh.write("".join(pieces))
            pieces.clear()
            size = 0
    fh.write("".join(pieces))
    fh.write("]\n}\n" if before == "\n  " else "\n ]\n}\n")


WRITE_AT_ONCE = 1 << 16  # characters of issue rows joined into one write


def head_text(head: dict[str, Any]) -> Iterator[str]:
    """`json.dumps(head, ensure_ascii=False, indent=1)` without its closing `\\n}`, in pieces: a `Rows` value a few
    hundred rows at a time (a sync's records: never every row, nor the text of them all, in memory at once)."""
    dumps = json.JSONEncoder(ensure_ascii=False, indent=1).encode  # json.dumps(value, ensure_ascii=False, indent=1)
    yield "{"
    for place, (key, value) in enumerate(head.items()):
        yield f"{',' if place else ''}\n {dumps(key)}: "
        if isinstance(value, Rows):
            # A list one level in, as json.dumps lays out the rows of each batch, one level further in: `[\n  {...},
            # \n  {...}\n ]`, less the brackets, and the batches joined with a comma.
            empty = True
            for batch in _batches(value, ROWS_AT_ONCE):
                yield ("[" if empty else ",") + dumps(batch).replace("\n", "\n ")[1:-3]
                empty = False
            yield "[]" if empty else "\n ]"
        else:
            yield dumps(value).replace("\n", "\n ")


ROWS_AT_ONCE = 512


def _batches(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
