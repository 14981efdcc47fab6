"""junit.xml for CI systems: one test case per record (per input for file-level issues)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC
from typing import IO, TYPE_CHECKING, Any

from lxml import etree

from register_batch.reports import ISSUE_KEYS
from register_batch.wording import xml_safe

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder


SEVERITY = ISSUE_KEYS.index("severity")


def write(fh: IO[str], report: ReportBuilder) -> None:
    failures: dict[tuple[str, int | None], list[dict]] = defaultdict(list)
    for values in report.issue_values():  # a row (dict) made for the errors only, the issues the file names
        if values[SEVERITY] == "error":
            row: dict[str, Any] = dict(zip(ISSUE_KEYS, values, strict=True))
            failures[(row["input"], row["record"])].append(row)
    suite = etree.Element("testsuite", name=f"register-batch {report.command}")
    # When the run started, as JUnit's schema has it (UTC here, with no zone: the schema allows none), and how long it
    # took: CI systems show them beside the suite.
    started = report.started.astimezone(UTC)
    suite.set("timestamp", started.replace(tzinfo=None).isoformat(timespec="seconds"))
    ended = report.ended or started
    suite.set("time", str(max(int((ended - started).total_seconds()), 0)))
    for info in report.inputs:
        for record in range(1, info.records + 1):
            case = etree.SubElement(suite, "testcase", classname=xml_safe(info.path), name=f"record {record}")
            rows = failures.get((info.path, record))
            if rows:
                failure = etree.SubElement(case, "failure", message=f"{len(rows)} error(s)", type="validation")
                failure.text = xml_safe("\n".join(f"{_where(r)}{_said(r)} [{r['code']}]" for r in rows))
        file_rows = failures.get((info.path, None))
        if file_rows:
            case = etree.SubElement(suite, "testcase", classname=xml_safe(info.path), name="file")
            failure = etree.SubElement(case, "failure", message=f"{len(file_rows)} error(s)", type="file")
            failure.text = xml_safe("\n".join(r["message"] for r in file_rows))
    # The counts of what the suite holds, a file's own case among them: CI systems that read these attributes
    # (rather than count the cases) showed fewer failures than the log listed.
    suite.set("tests", str(len(suite)))
    suite.set("failures", str(sum(1 for case in suite if len(case))))
    suite.set("errors", "0")
    fh.write(etree.tostring(suite, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8"))


def _where(row: dict) -> str:
    """Where the issue is, before it: its line in a file (`Checker.rows`' records have none)."""
    if row["line"] is None:
        return ""
    return f"line {row['line']}: " if row["row"] is None else f"row {row['row']} (line {row['line']}): "


def _said(row: dict) -> str:
    """The issue's message, after its field unless the message begins with it, as Register's own messages do
    (`last_name can't be blank`): a CI log names each field once."""
    field, message = row["field"], row["message"]
    if field and (message == field or message.startswith((f"{field} ", f"{field}: "))):
        return message
    return f"{field or '-'}: {message}"
