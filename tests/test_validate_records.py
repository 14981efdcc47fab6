"""`jobs.validate_records`: the report files of `validate_files` for rows a caller's code holds (review62 F3)."""

from __future__ import annotations

import csv
import json
import re
import stat
from datetime import date
from pathlib import Path

import pytest

from register_batch.errors import ConfigError
from register_batch.generate import KINDS, generate
from register_batch.jobs import validate_files, validate_records

AS_OF = date(2026, 11, 28)


def values_of(path: Path) -> list[dict[str, str | None]]:
    """A Register CSV's rows as the values their cells say: one leading `'` off, blank or a bare NULL no value."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    values = []
    for row in rows:
        kept: dict[str, str | None] = {}
        for key, cell in row.items():
            text = (cell or "").strip()
            protected = text.startswith("'")
            text = text[1:].strip() if protected else text
            kept[key] = None if not text or (text.upper() == "NULL" and not protected) else text
        values.append(kept)
    return values


def record_issues(report_json: Path) -> list[tuple[object, ...]]:
    """Each record's issues as the report holds them, without where the record came from (a file, or rows): a
    duplicate's message names the other record by its line in a file (`line 5 of x.csv`, a header and no cell over
    several lines: its record number and one), by its number among rows, which have no lines (`record 4 of x.csv`)."""
    found = json.loads(report_json.read_text(encoding="utf-8"))

    def by_number(message: str) -> str:
        return re.sub(r"\bline (\d+) of ", lambda m: f"record {int(m[1]) - 1} of ", message)

    return sorted(
        (issue["record"], issue["code"], issue["field"], issue["value"], issue["severity"], by_number(issue["message"]))
        for issue in found["issues"]
        if issue["record"] is not None
    )


def test_rows_give_the_reports_the_same_rows_in_a_file_give(tmp_path):
    extract = tmp_path / "trainees.csv"
    kinds = [name for name, kind in KINDS.items() if "register-csv" in kind.formats and name != "malformed_record"]
    generate(
        extract, count=300, fmt="register-csv", seed=7, as_of=AS_OF, defects=0.2, kinds=kinds, truth=tmp_path / "t.json"
    )
    from_file = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "file")
    from_rows = validate_records(  # named as the file, which duplicates messages name
        values_of(extract), name=str(extract), as_of=AS_OF, report_dir=tmp_path / "rows", junit=True
    )
    assert from_rows.report.summary.errors > 20  # the generated defects were found, and by the same rules
    assert from_rows.report.summary.as_dict() == from_file.report.summary.as_dict()
    assert record_issues(from_rows.report_paths["json"]) == record_issues(from_file.report_paths["json"])
    assert from_rows.exit_code == from_file.exit_code == 1
    junit = from_rows.report_paths["junit"].read_text(encoding="utf-8")
    assert "line None" not in junit and "<failure" in junit
    for written in from_rows.report_paths.values():
        assert stat.S_IMODE(written.stat().st_mode) == 0o600  # personal data: owner-only, as a file's reports


def test_rows_that_are_not_text_are_refused_before_a_report_is_written(tmp_path):
    with pytest.raises(ConfigError, match="record 1, field hesa_id"):
        validate_records([{"hesa_id": 500951347799}], name="srs", as_of=AS_OF, report_dir=tmp_path / "reports")
    assert not (tmp_path / "reports" / "report.json").exists()


def test_rows_read_straight_from_a_hesa_csv_give_no_more_errors_than_the_file(tmp_path):
    """The review's measurement (review63 F4): 200 HESA rows as csv.DictReader reads them, every value HESA leaves out
    the text NULL, gave 5,481 errors ("course_subject_2 has invalid reference data value of 'NULL'") where the file
    gave none. In hesa-csv rows NULL is no value, as in the file (hesa-formats.md §1.4)."""
    extract = tmp_path / "hesa.csv"
    generate(extract, count=200, fmt="hesa-csv", seed=63, as_of=AS_OF)
    with extract.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sum(value == "NULL" for row in rows for value in row.values()) > 2000  # HESA's no value, in most cells
    from_file = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "file", jobs=1)
    from_rows = validate_records(rows, fmt="hesa-csv", name=str(extract), as_of=AS_OF, report_dir=tmp_path / "rows")
    assert from_rows.report.summary.errors - from_file.report.summary.errors == 0
    assert from_rows.report.summary.as_dict() == from_file.report.summary.as_dict()
    assert record_issues(from_rows.report_paths["json"]) == record_issues(from_file.report_paths["json"])
