"""issues.csv and report.json name where each issue's field was read from: the `source` column (review54 F3).

issues.csv is the fix list people hand out, and the colleague fixing a record in the student record system knows its
fields by their HESA names (F_SURNAME), or by the Register CSV's columns (degree_graduation_year): the reports named
only Register's field (last_name, degrees_attributes[0].graduation_year). `source` comes after the columns design.md
names, so that a reader of those keeps working.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.reports import ISSUE_KEYS

AS_OF = "2026-11-28"
DESIGN_KEYS = ("input", "record", "line", "provider_trainee_id", "hesa_id", "field", "value", "code", "severity")
KINDS = "missing_last_name,invalid_sex,degree_without_graduation_year,placement_urn_malformed,invalid_itt_end_date"


def validated(tmp_path: Path, fmt: str, suffix: str) -> Path:
    extract, truth, folder = tmp_path / f"extract.{suffix}", tmp_path / "truth.json", tmp_path / "r"
    runner = CliRunner()
    made = runner.invoke(
        cli,
        ["generate", "--count", "40", "--format", fmt, "-o", str(extract), "--defects", "1", "--truth", str(truth),
         "--seed", "5406", "--as-of", AS_OF, "--kinds", KINDS],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    checked = runner.invoke(cli, ["validate", str(extract), "--as-of", AS_OF, "--report-dir", str(folder)])
    assert checked.exit_code == 1, checked.output
    return folder


def csv_rows(folder: Path) -> tuple[list[str], list[dict[str, str]]]:
    with (folder / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or ()), list(reader)


def sources(rows: list[dict[str, str]]) -> dict[str, set[str]]:
    """Each field (its degree or placement index kept) and the sources its issues name."""
    found: dict[str, set[str]] = {}
    for row in rows:
        if row["field"]:
            found.setdefault(row["field"], set()).add(row["source"])
    return found


def test_the_source_column_comes_after_the_columns_design_md_names_in_csv_and_json(tmp_path):
    folder = validated(tmp_path, "hesa-xml", "xml")
    header, rows = csv_rows(folder)
    # (issues.csv's own columns, `fix` and `row`, after it: test_issues_csv_fix.py; in report.json, `row` (a CSV
    # record's spreadsheet row where it differs from `line`) beside `line`: review168 F2)
    assert header == [*DESIGN_KEYS, "message", "source", "fix", "row"]
    issues = json.loads((folder / "report.json").read_text(encoding="utf-8"))["issues"]
    keys = [*DESIGN_KEYS[:3], "row", *DESIGN_KEYS[3:], "message", "source"]
    assert issues and all(list(issue) == keys == list(ISSUE_KEYS) for issue in issues)
    # issues.csv's values are report.json's (a HUSID or a date kept as text with a leading apostrophe aside)
    assert [row["source"] for row in rows] == [issue["source"] or "" for issue in issues]


@pytest.mark.parametrize(("fmt", "suffix"), [("hesa-xml", "xml"), ("hesa-csv", "csv")])
def test_a_hesa_extracts_issues_name_the_hesa_tag(tmp_path, fmt, suffix):
    found = sources(csv_rows(validated(tmp_path, fmt, suffix))[1])
    assert found["last_name"] == {"F_SURNAME"}
    assert found["sex"] == {"F_SEXID"}
    # the C24053 layout has one tag for the expected end date: the other layouts' are not named
    assert found["itt_end_date"] == {"F_EXPECTEDENDDATE"}
    years = [
        tags for field, tags in found.items() if re.fullmatch(r"degrees_attributes\[\d+\]\.graduation_year", field)
    ]
    assert years and all(tags == {"F_DEGENDDT"} for tags in years)
    placements = [tags for field, tags in found.items() if field.startswith("placements_attributes[")]
    assert placements and all(tags == {"F_PLMNTSCH"} for tags in placements)


def test_a_register_csvs_issues_name_its_column_and_the_page_names_those_unlike_the_field(tmp_path):
    """For a Register CSV the page named no column: `degrees_attributes[0].graduation_year` is read from
    `degree_graduation_year`, `placements_attributes[0].urn` from `placement_1_urn`."""
    folder = validated(tmp_path, "register-csv", "csv")
    found = sources(csv_rows(folder)[1])
    assert found["last_name"] == {"last_name"} and found["sex"] == {"sex"}
    years = [tags for field, tags in found.items() if field.endswith(".graduation_year")]
    assert years and all(tags == {"degree_graduation_year"} for tags in years)
    placements = {field: tags for field, tags in found.items() if field.startswith("placements_attributes[")}
    assert placements
    for field, tags in placements.items():
        place = int(re.search(r"\[(\d+)\]", field).group(1))
        assert tags == {f"placement_{place + 1}_urn"}, field
    # report.html names a column beside Register's field only where it is not named as the field is
    doc = lxml.html.fromstring((folder / "report.html").read_bytes())
    named: dict[str, set[str]] = {}
    for row in doc.xpath('//table[@id="issue-table"]/tbody/tr'):
        field = row.xpath('string(td[@data-label="Field"]/code[@class="field"])')
        words = " ".join(" ".join(row.xpath('td[@data-label="Field"]/span[@data-source]//text()')).split())
        named.setdefault(field, set()).add(words)
    assert named["last_name"] == {""}
    assert [words for field, words in named.items() if field.endswith(".graduation_year")] == [
        {"from column degree_graduation_year"}
    ]
    for field in placements:
        place = int(re.search(r"\[(\d+)\]", field).group(1))
        assert named[field] == {f"from column placement_{place + 1}_urn"}, field


def test_an_issue_about_no_field_or_from_no_field_map_has_no_source(tmp_path):
    """A whole record's issue, or a whole file's, was read from no one field; nor was a field the map does not read
    (the sync's own trainee_id). Their `source` is empty in issues.csv and null in report.json."""
    from datetime import date

    from register_batch.mapping import load_mapping
    from register_batch.model import API_VERSION, SourceRef, TraineeRecord
    from register_batch.readers import InputInfo
    from register_batch.reports import ReportBuilder, field_sources

    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28), sources=field_sources(load_mapping()))
    record = TraineeRecord(source=SourceRef(input="one.xml", record=1, line=2), data={})
    record.issue("malformed_record", "the record could not be read")
    record.issue("required", "last_name can't be blank", field="last_name")
    record.issue("api_rejected", "trainee_id is invalid", field="trainee_id")
    builder.add_record(record)
    with builder:
        builder.finish([InputInfo(path="one.xml", format="hesa-xml", records=1)])
        builder.write(tmp_path)
    issues = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))["issues"]
    assert [(issue["field"], issue["source"]) for issue in issues] == [
        (None, None),
        ("last_name", "F_SURNAME"),
        ("trainee_id", None),
    ]
    assert [row["source"] for row in csv_rows(tmp_path)[1]] == ["", "F_SURNAME", ""]
