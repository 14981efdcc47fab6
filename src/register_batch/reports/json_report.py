"""report.json: the design.md format, issues streamed so a large report never sits in memory."""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder


def write(fh: IO[str], report: ReportBuilder) -> None:
    head = {**report.header(), **report.extra}
    fh.write(json.dumps(head, ensure_ascii=False, indent=1)[:-2])
    fh.write(',\n "issues": [')
    first = True
    for row in report.issues():
        fh.write("\n  " if first else ",\n  ")
        fh.write(json.dumps(row, ensure_ascii=False))
        first = False
    fh.write("\n ]\n}\n" if not first else "]\n}\n")
