"""Report builders for the report.html tests: real fixture extracts through the real checker.

`validation_builder` is what `register-batch validate` builds for the HESA samples and the Register CSV
with three errors. `sync_builder` runs clean and broken extracts through the checker and then fills
`ReportBuilder.extra` the way the sync command will (design.md, issue 8), including values crafted to
break out of HTML if anything were left unescaped.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from register_batch.mapping import load_mapping
from register_batch.model import API_VERSION, Severity, SourceRef, TraineeRecord
from register_batch.reference import load_reference
from register_batch.reports import ReportBuilder
from register_batch.validation import Checker

FIXTURES = Path(__file__).parent.parent / "fixtures"
AS_OF = date(2026, 11, 28)
# A run's start, for tests that pin it (ReportBuilder.started): reports written by two builders compare equal with it.
RUN_TIME = datetime(2026, 12, 2, 3, 18, 28, tzinfo=UTC)
VALIDATION_INPUTS = [
    *sorted(str(path) for path in (FIXTURES / "hesa_samples").glob("*.xml")),
    str(FIXTURES / "register_csv" / "five_trainees_with_three_errors.csv"),
]
SYNC_INPUTS = [
    str(FIXTURES / "register_csv" / "five_trainees.csv"),
    str(FIXTURES / "register_csv" / "five_trainees_with_three_errors.csv"),
]

# Values from a user's file that would run script or break the page if they reached it unescaped.
HOSTILE_VALUE = '</script><script>window.__pwned = "value"</script>'
HOSTILE_ID = '"><img src=x onerror="window.__pwned=\'id\'">'
HOSTILE_MESSAGE = (
    "first_names can't be <b>bold</b> & 'quoted' \"twice\" </td></tr></table><script>window.__pwned=1</script>"
)
HOSTILE_INPUT = 'uploads/evil "name" <x>.csv'


ACTIONS = ("create", "update", "unchanged", "withdraw", "defer", "conflict", "blocked", "invalid")
OUTCOMES = ("done", "failed", "unknown", "skipped", "planned", "pending")


def check(
    inputs: list[str], command: str, *, also: tuple[TraineeRecord, ...] = ()
) -> tuple[ReportBuilder, list[TraineeRecord]]:
    """Read, map and validate `inputs` (then add `also`) into a ReportBuilder, as jobs.validate_files does."""
    checker = Checker(fmt="auto", mapping=load_mapping(), reference=load_reference(API_VERSION), as_of=AS_OF)
    builder = ReportBuilder.judging(checker, api_version=API_VERSION, command=command)
    records = []
    for record in checker.records(inputs):
        builder.add_record(record)
        records.append(record)
    for record in also:
        builder.add_record(record)
    builder.add_batch_issues(checker.batch_issues())
    builder.finish(checker.inputs)
    return builder, records


def hostile_record(record_number: int) -> TraineeRecord:
    record = TraineeRecord(
        source=SourceRef(input=HOSTILE_INPUT, record=record_number, line=record_number + 1),
        data={"provider_trainee_id": HOSTILE_ID, "hesa_id": "0000000000001"},
    )
    record.issue("required", HOSTILE_MESSAGE, field="first_names", value=HOSTILE_VALUE)
    record.issue("too_long", "last_name is too long", field="last_name <i>", value="'" * 3, severity=Severity.WARNING)
    return record


def sync_extra(records: list[TraineeRecord], *, dry_run: bool) -> dict[str, Any]:
    """`extra` as the sync command fills it: one planned action and outcome per record, with drift."""
    plan = ["create", "update", "unchanged", "update", "withdraw"]
    rows = []
    for index, record in enumerate(records):
        action = "invalid" if record.has_errors else plan[index % len(plan)]
        if action == "invalid":
            outcome = "skipped"
        elif dry_run:
            outcome = "planned"
        elif index == 0:
            outcome = "failed"
        else:
            outcome = "done"
        row: dict[str, Any] = {
            "input": record.source.input,
            "record": record.source.record,
            "line": record.source.line,
            "provider_trainee_id": record.provider_trainee_id,
            "hesa_id": record.hesa_id,
            "action": action,
            "outcome": outcome,
            "trainee_id": None if action in ("create", "invalid") else f"trn-{index:04d}",
            "http_status": None,
            # as RecordResult.row() fills it: an invalid record carries its plan's reason
            "errors": ["the record failed validation and was not sent"] if action == "invalid" else [],
            "changes": [],
        }
        if action == "update":
            row["changes"] = [
                {"field": "last_name", "register": "Smith", "source": "Smith-Jones"},
                {"field": "study_mode", "register": "01", "source": None},
            ]
        if outcome == "failed":
            row["http_status"] = 422
            row["errors"] = ["itt_start_date must be on or after 1 August 2024", HOSTILE_VALUE]
        if outcome == "done":
            row["http_status"] = 201 if action == "create" else 200
        rows.append(row)
    hostile = {
        "input": HOSTILE_INPUT,
        "record": 99,
        "line": 100,
        "provider_trainee_id": HOSTILE_ID,
        "hesa_id": "0000000000001",
        "action": "conflict",
        "outcome": "skipped",
        "trainee_id": None,
        "http_status": 409,
        "errors": [HOSTILE_MESSAGE],
        "changes": [{"field": "first_names", "register": HOSTILE_ID, "source": HOSTILE_VALUE}],
    }
    rows.append(hostile)
    actions = Counter(row["action"] for row in rows)
    outcomes = Counter(row["outcome"] for row in rows)
    return {
        "sync": {
            "target": "http://127.0.0.1:8787/api/v2026.1 (embedded emulator)",
            "dry_run": dry_run,
            "requests": {"total": 0 if dry_run else 7, "retried": 0 if dry_run else 1},
            "actions": {key: actions.get(key, 0) for key in ACTIONS},
            "outcomes": {key: outcomes.get(key, 0) for key in OUTCOMES},
        },
        "records": rows,
    }


def load_report_json(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))
