"""issues.csv: one row per issue, the same columns as report.json's issues, safe to open in Excel."""

from __future__ import annotations

import csv
from typing import IO, TYPE_CHECKING

from register_batch.csvsafe import neutralise

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder


def write(fh: IO[str], report: ReportBuilder) -> None:
    """`fh` opened with newline="" (the csv module writes its own line ends)."""
    from register_batch.reports import ISSUE_KEYS

    writer = csv.writer(fh)
    writer.writerow(ISSUE_KEYS)
    for row in report.issues():
        writer.writerow([neutralise(row[key]) for key in ISSUE_KEYS])
