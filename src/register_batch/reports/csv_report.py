"""issues.csv: one row per issue, the same columns as report.json's issues, safe to open in Excel."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import TYPE_CHECKING

from register_batch.csvsafe import neutralise
from register_batch.fs import private_writer

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder


def write(path: Path, report: ReportBuilder) -> Path:
    from register_batch.reports import ISSUE_KEYS

    with private_writer(path, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(ISSUE_KEYS)
        for row in report.issues():
            writer.writerow([neutralise(row[key]) for key in ISSUE_KEYS])
    return path
