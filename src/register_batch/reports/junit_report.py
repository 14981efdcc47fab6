"""junit.xml for CI systems: one test case per record (per input for file-level issues)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from lxml import etree

from register_batch.fs import private_writer

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder


# What XML 1.0 cannot hold at all: C0 controls other than tab and line ends, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str) -> str:
    """Text as XML can carry it: a character it cannot (a NUL quoted from the input) shown as an escape."""
    return _NOT_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def write(path: Path, report: ReportBuilder) -> Path:
    failures: dict[tuple[str, int | None], list[dict]] = defaultdict(list)
    for row in report.issues():
        if row["severity"] == "error":
            failures[(row["input"], row["record"])].append(row)
    summary = report.summary
    suite = etree.Element(
        "testsuite",
        name=f"register-batch {report.command}",
        tests=str(summary.records),
        failures=str(summary.invalid),
        errors="0",
    )
    for info in report.inputs:
        for record in range(1, info.records + 1):
            case = etree.SubElement(suite, "testcase", classname=_xml_text(info.path), name=f"record {record}")
            rows = failures.get((info.path, record))
            if rows:
                failure = etree.SubElement(case, "failure", message=f"{len(rows)} error(s)", type="validation")
                failure.text = _xml_text(
                    "\n".join(f"line {r['line']}: {r['field'] or '-'}: {r['message']} [{r['code']}]" for r in rows)
                )
        file_rows = failures.get((info.path, None))
        if file_rows:
            case = etree.SubElement(suite, "testcase", classname=_xml_text(info.path), name="file")
            failure = etree.SubElement(case, "failure", message=f"{len(file_rows)} error(s)", type="file")
            failure.text = _xml_text("\n".join(r["message"] for r in file_rows))
    with private_writer(path) as fh:
        fh.write(etree.tostring(suite, pretty_print=True, xml_declaration=True, encoding="UTF-8").decode("utf-8"))
    return path
