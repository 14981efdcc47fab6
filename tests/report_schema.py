"""report.json checked against the JSON Schema the package ships (register_batch.reports.report_schema), as an SRS
vendor's or a nightly job's own check would: every format the schema names checked too (`date`, `date-time`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from register_batch.reports import report_schema

VALIDATOR = Draft202012Validator(report_schema(), format_checker=FormatChecker())


def schema_errors(report: Any) -> list[str]:
    """Each way `report` breaks the schema, as `where: what` (none for a report it allows)."""
    return [
        f"{'/'.join(str(step) for step in error.absolute_path) or '(top)'}: {error.message}"
        for error in sorted(VALIDATOR.iter_errors(report), key=lambda error: list(error.absolute_path))
    ]


def allowed_report(folder: Path) -> dict[str, Any]:
    """The report.json in `folder`, once the schema allows it (the test fails naming each key it does not)."""
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    errors = schema_errors(report)
    assert errors == [], "\n".join(errors[:20])
    return report
