"""report.json has a published JSON Schema (register_batch.reports.report_schema, `register-batch schema report`):
SRS vendors and nightly jobs read report.json by machine, and had only the prose of docs/dry-run.md to go by. Real
reports of validate and convert are checked against it here (a sync's in tests/sync/test_sync_report_schema.py), and
the schema refuses a key it does not name, so a key added to report.json without it fails these tests."""

from __future__ import annotations

import copy
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from jsonschema import Draft202012Validator
from report_builders import AS_OF

from register_batch.cli import cli
from register_batch.jobs import convert_files, validate_files, validate_records
from register_batch.reports import REPORT_SCHEMA, report_schema, report_schema_text
from report_schema import allowed_report, schema_errors

SAMPLES = Path(__file__).parents[2] / "samples"


def test_the_schema_is_a_draft_2020_12_schema_with_an_id_a_title_and_a_description():
    schema = report_schema()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "urn:register-batch:report.schema.json"
    assert schema["title"] == "register-batch report.json" and schema["description"]
    # Printed on any console (a Windows code page, a Latin-1 locale) as written: no character one may lack.
    assert report_schema_text().isascii()


def test_the_schema_is_the_file_shipped_beside_the_reports_module():
    assert REPORT_SCHEMA.name == "report.schema.json" and REPORT_SCHEMA.parent.name == "reports"
    assert report_schema_text() == REPORT_SCHEMA.read_text(encoding="utf-8")
    assert report_schema() == json.loads(REPORT_SCHEMA.read_text(encoding="utf-8"))


def test_schema_report_prints_the_schema_for_a_job_to_save():
    result = CliRunner().invoke(cli, ["schema", "report"])
    assert result.exit_code == 0, result.output
    assert result.output == report_schema_text()
    assert json.loads(result.output)["$id"] == "urn:register-batch:report.schema.json"


def _zip_of_two_extracts(tmp_path: Path) -> list[str]:
    archive = tmp_path / "census.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(SAMPLES / "extract.xml", "extract.xml")
        zipped.write(SAMPLES / "register.csv", "register.csv")
    return [str(archive)]


@pytest.mark.parametrize(
    "inputs",
    [
        lambda _tmp: [str(SAMPLES / "extract.xml")],
        lambda _tmp: [str(SAMPLES / name) for name in ("extract.xml", "extract.csv", "register.csv")],
        _zip_of_two_extracts,
    ],
    ids=["clean sample", "three formats", "zip"],  # samples/defects.xml: the test after
)
def test_validates_report_is_one_the_schema_allows(tmp_path, inputs):
    given = inputs(tmp_path)
    validate_files(given, as_of=AS_OF, report_dir=tmp_path / "reports")
    report = allowed_report(tmp_path / "reports")
    assert len(report["inputs"]) == (2 if given[0].endswith(".zip") else len(given))
    assert report["issues"]  # the samples' warnings at least: each issue's keys were checked


def test_the_defects_report_has_the_optional_keys_of_an_input_and_every_kind_of_issue(tmp_path):
    """The keys only some reports have (an input's vintages and cycles), issues of both severities, a file-level issue
    (no record) and an issue with no field: the schema was checked against each."""
    validate_files([str(SAMPLES / "defects.xml")], as_of=AS_OF, report_dir=tmp_path / "reports")
    report = allowed_report(tmp_path / "reports")
    [shown] = report["inputs"]
    assert shown["vintages"] and shown["cycles"]
    assert {issue["severity"] for issue in report["issues"]} == {"error", "warning"}
    assert any(issue["source"] is None for issue in report["issues"])


def test_converts_report_is_one_the_schema_allows(tmp_path):
    convert_files(
        [str(SAMPLES / "defects.xml")],
        to="register-csv",
        output=tmp_path / "upload.csv",
        as_of=AS_OF,
        report_dir=tmp_path / "reports",
    )
    report = allowed_report(tmp_path / "reports")
    assert any(issue["code"] == "not_in_register_csv" for issue in report["issues"])  # convert's own notes


def test_the_report_of_records_given_in_code_is_one_the_schema_allows(tmp_path):
    """validate_records: an input no file holds (no SHA-256) and records with no line."""
    rows = [{"first_names": "Amira", "last_name": "Okafor", "sex": "7"}]
    validate_records(rows, as_of=AS_OF, report_dir=tmp_path / "reports")
    report = allowed_report(tmp_path / "reports")
    assert report["inputs"][0]["sha256"] == "" and report["issues"][0]["line"] is None


@pytest.fixture(scope="module")
def clean_report(tmp_path_factory) -> dict[str, Any]:
    folder = tmp_path_factory.mktemp("clean")
    validate_files([str(SAMPLES / "extract.xml")], as_of=AS_OF, report_dir=folder)
    return allowed_report(folder)


def _changed(report: dict[str, Any], change) -> dict[str, Any]:
    changed = copy.deepcopy(report)
    change(changed)
    return changed


@pytest.mark.parametrize(
    ("change", "refused_at"),
    [
        (lambda r: r.update(command="validate"), "(top)"),
        (lambda r: r["issues"][0].update(fix="Correct it"), "issues/0"),
        (lambda r: r["inputs"][0].update(rows=12), "inputs/0"),
        (lambda r: r["summary"].update(skipped=0), "summary"),
        (lambda r: r["issues"][0].update(severity="fatal"), "issues/0/severity"),
        (lambda r: r["issues"][0].update(severity="Error"), "issues/0/severity"),
        (lambda r: r["issues"][0].pop("source"), "issues/0"),
        (lambda r: r["summary"].update(records="12"), "summary/records"),
        (lambda r: r.update(as_of="28/11/2026"), "as_of"),
        (lambda r: r["run"].update(started="2026-12-02 03:18:28"), "run/started"),
        (lambda r: r.update(records=[]), "(top)"),  # a sync's key, in a report with no sync
        (lambda r: r["reference"].update(pulled_at="yesterday"), "reference/pulled_at"),
    ],
    ids=[
        "unknown key",
        "unknown issue key",
        "unknown input key",
        "unknown summary key",
        "unknown severity",
        "severity capitalised",
        "issue key missing",
        "count as text",
        "as_of not ISO",
        "started without offset",
        "records without sync",
        "pulled_at not a moment",
    ],
)
def test_the_schema_refuses_a_report_it_does_not_describe(clean_report, change, refused_at):
    assert schema_errors(clean_report) == []
    errors = schema_errors(_changed(clean_report, change))
    assert errors and all(error.startswith(f"{refused_at}: ") for error in errors), errors
