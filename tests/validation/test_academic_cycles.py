"""The academic cycles an extract's records are in (review134 F4): `export --academic-cycle` lists one at a time, and
the export of the current cycle missed the trainees begun in an earlier one, which no output named."""

from __future__ import annotations

import json
from datetime import date

from register_batch.generate import generate
from register_batch.jobs import validate_files

AS_OF = date(2026, 11, 28)


def test_report_json_counts_the_records_that_pass_by_the_cycle_register_holds_their_trainee_in(tmp_path):
    """Per input, by start year: the cycle of trainee_start_date, else itt_start_date (register-api.md §2.3, §4), as
    the sync lists Register by. A record with an error is not sent, and its dates may be any year: not counted."""
    second_years, first_years = tmp_path / "second-years.csv", tmp_path / "first-years.csv"
    generate(second_years, count=30, fmt="register-csv", seed=11, academic_cycle=2025, as_of=AS_OF)
    generate(first_years, count=40, fmt="register-csv", seed=12, as_of=AS_OF, defects=0.3, truth=tmp_path / "t.json")
    validate_files([second_years, first_years], as_of=AS_OF, report_dir=tmp_path / "reports")
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    invalid = {(i["input"], i["record"]) for i in report["issues"] if i["severity"] == "error" and i["record"]}
    assert {name for name, _record in invalid} == {str(first_years)}  # the defects' records, each with its own error
    older, newer = report["inputs"]
    assert older["cycles"] == {"2025": 30}
    assert newer["cycles"] == {"2026": 40 - len(invalid)} and invalid


def test_a_record_only_a_check_across_records_finds_invalid_is_not_counted(tmp_path):
    """`cycles` adds up to `summary.valid`: a record whose only error is found across records (a HUSID on two
    records) is not sent either."""
    extract = tmp_path / "extract.csv"
    generate(extract, count=5, fmt="register-csv", seed=13, as_of=AS_OF)
    lines = extract.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    extract.write_text("".join(lines + lines[1:2]), encoding="utf-8")  # the first trainee twice: duplicate HUSID
    validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "reports")
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert {i["code"] for i in report["issues"] if i["severity"] == "error"} >= {"duplicate_hesa_id"}
    assert report["summary"]["valid"] == 4
    assert report["inputs"][0]["cycles"] == {"2026": 4}
