"""report.json: the design.md format, issues streamed so a large report never sits in memory."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, TYPE_CHECKING, Any

from register_batch.reports import Rows

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder


def write(fh: IO[str], report: ReportBuilder) -> None:
    for text in head_text({**report.header(), **report.extra}):
        fh.write(text)
    fh.write(',\n "issues": [')
    first = True
    for row in report.issues():
        fh.write("\n  " if first else ",\n  ")
        fh.write(json.dumps(row, ensure_ascii=False))
        first = False
    fh.write("\n ]\n}\n" if not first else "]\n}\n")


def head_text(head: dict[str, Any]) -> Iterator[str]:
    """`json.dumps(head, ensure_ascii=False, indent=1)` without its closing `\\n}`, in pieces: a `Rows` value row by
    row (a sync's records: one row in memory at a time, not every row and the text of them all)."""
    yield "{"
    for place, (key, value) in enumerate(head.items()):
        yield f"{',' if place else ''}\n {json.dumps(key, ensure_ascii=False)}: "
        if isinstance(value, Rows):
            # A list one level in: each item on its own line, two spaces in, its own lines two spaces further.
            empty = True
            for row in value:
                yield (
                    ("[" if empty else ",")
                    + "\n  "
                    + json.dumps(row, ensure_ascii=False, indent=1).replace("\n", "\n  ")
                )
                empty = False
            yield "[]" if empty else "\n ]"
        else:
            yield json.dumps(value, ensure_ascii=False, indent=1).replace("\n", "\n ")
