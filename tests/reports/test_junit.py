"""junit.xml as a CI system reads it: one test case per record of each input, failed by the record's errors only."""

from __future__ import annotations

import stat
from datetime import UTC, date, datetime

from lxml import etree

from register_batch.model import API_VERSION, Severity, SourceRef, TraineeRecord, make_issue
from register_batch.readers.base import InputInfo
from register_batch.reports import ReportBuilder

CSV_INPUT = "extract.csv"
XML_INPUT = "uploads/C24053 <final>.xml"


def record(input_: str, number: int, line: int) -> TraineeRecord:
    return TraineeRecord(source=SourceRef(input=input_, record=number, line=line), data={})


def test_junit_has_a_case_per_record_and_fails_only_those_with_errors(tmp_path):
    """Each record is a test case named for its input and number; a record with errors fails with one line per
    error (its line, field and code; a message that begins with its field is not given the field again); warnings
    fail nothing; a file's own errors fail a case of their own, after its records'."""
    first, warned, broken = record(CSV_INPUT, 1, 2), record(CSV_INPUT, 2, 3), record(XML_INPUT, 1, 7)
    first.issue("required", "last_name can't be blank", field="last_name")
    first.issue("invalid_code", "is not a HESA code", field="sex", value="9")
    first.issue("invalid_email", "email: not an address", field="email", value="ann")
    warned.issue("too_long", "last_name is long", field="last_name", severity=Severity.WARNING)
    broken.issue("duplicate", "the same HUSID as record 3")
    file_issues = [
        make_issue(input=XML_INPUT, code="wrong_collection", severity=Severity.ERROR, message="not a C24053 file"),
        make_issue(input=XML_INPUT, code="no_students", severity=Severity.ERROR, message="no Student elements"),
        make_issue(input=XML_INPUT, code="old_layout", severity=Severity.WARNING, message="an older layout"),
    ]
    builder = ReportBuilder(
        api_version=API_VERSION,
        as_of=date(2026, 11, 28),
        command="validate",
        started=datetime(2026, 12, 2, 3, 18, 28, tzinfo=UTC),
        ended=datetime(2026, 12, 2, 3, 19, 40, tzinfo=UTC),
    )
    for each in (first, warned, broken):
        builder.add_record(each)
    builder.finish(
        [
            InputInfo(path=CSV_INPUT, format="register-csv", records=2),
            InputInfo(path=XML_INPUT, format="hesa-xml", records=1, issues=file_issues),
        ]
    )
    junit = builder.write(tmp_path / "r", junit=True, html=False)["junit"]
    builder.close()

    assert stat.S_IMODE(junit.stat().st_mode) == 0o600
    assert junit.read_bytes().startswith(b"<?xml version='1.0' encoding='UTF-8'?>\n<testsuite")
    suite = etree.parse(str(junit)).getroot()
    assert suite.tag == "testsuite"
    # The suite's counts are of the cases it holds, the file's own among them (CI systems read these attributes).
    # When the run started (UTC, with no zone: JUnit's schema allows none) and the seconds it took.
    assert dict(suite.attrib) == {
        "name": "register-batch validate",
        "timestamp": "2026-12-02T03:18:28",
        "time": "72",
        "tests": "4",
        "failures": "3",
        "errors": "0",
    }
    cases = [
        (
            case.tag,
            case.get("classname"),
            case.get("name"),
            [(f.get("message"), f.get("type"), f.text) for f in case.iterfind("failure")],
        )
        for case in suite
    ]
    assert cases == [
        (
            "testcase",
            CSV_INPUT,
            "record 1",
            [
                (
                    "3 error(s)",
                    "validation",
                    "line 2: last_name can't be blank [required]\nline 2: sex: is not a HESA code [invalid_code]\n"
                    "line 2: email: not an address [invalid_email]",
                )
            ],
        ),
        ("testcase", CSV_INPUT, "record 2", []),
        (
            "testcase",
            XML_INPUT,
            "record 1",
            [("1 error(s)", "validation", "line 7: -: the same HUSID as record 3 [duplicate]")],
        ),
        ("testcase", XML_INPUT, "file", [("2 error(s)", "file", "not a C24053 file\nno Student elements")]),
    ]
