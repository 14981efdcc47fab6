"""review222 F1: a rule's fix said what to do about one of its fields on every field's row (a blank sex was told about
a C21053 leaver's F_ENDDATE, a too-long last_name how an application_id is measured). A sentence about one field
(Rule.fix_by_field) goes on that field's rows of issues.csv only, and report.html's and docs/rules.md's one row per
rule name the field it is about."""

from __future__ import annotations

import copy
import csv
from datetime import date
from pathlib import Path

import pytest

from register_batch.model import API_VERSION, Severity, SourceRef, TraineeRecord
from register_batch.reports import ReportBuilder
from register_batch.validation import CATALOGUE, fix_for
from register_batch.validation.catalogue import describe
from valid_trainee import VALID, validated

LEAVER = "F_EXPECTEDENDDATE"  # in required's sentence about a C21053 leaver's itt_end_date
MEASURED = "An application_id is measured as it is sent"  # in too_long's sentence about application_id


def issues_csv(tmp_path: Path, *issues: tuple[str, str]) -> list[dict[str, str]]:
    """issues.csv of one record with an error of each (code, field)."""
    record = TraineeRecord(source=SourceRef(input="extract.xml", record=1, line=2), data={"hesa_id": "2301141661279"})
    for code, field in issues:
        record.issue(code, f"{field} is wrong", field=field, value=None, severity=Severity.ERROR)
    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    builder.add_record(record)
    builder.finish([])
    path = builder.write(tmp_path / "r")["csv"]
    builder.close()
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_rows_fix_has_the_sentence_about_its_own_field_only(tmp_path):
    rows = issues_csv(
        tmp_path,
        ("required", "sex"),
        ("required", "last_name"),
        ("required", "itt_end_date"),
        ("too_long", "last_name"),
        ("too_long", "application_id"),
    )
    fixes = {(row["code"], row["field"]): row["fix"] for row in rows}
    assert fixes[("required", "sex")] == "Fill in the field; Register refuses a trainee without it."
    assert fixes[("required", "last_name")] == fixes[("required", "sex")]
    assert fixes[("required", "itt_end_date")].startswith(fixes[("required", "sex")] + " A C21053 leaver's")
    assert LEAVER in fixes[("required", "itt_end_date")]
    assert fixes[("too_long", "last_name")] == "Shorten the value to the maximum length."
    assert MEASURED in fixes[("too_long", "application_id")]
    assert not any("hesa-formats.md" in fix or "register-api.md" in fix for fix in fixes.values())


def test_fix_for_a_library_caller_takes_the_field_too():
    assert fix_for("required") == "Fill in the field; Register refuses a trainee without it."
    assert fix_for("required", "sex") == fix_for("required")
    assert LEAVER in (fix_for("required", "itt_end_date") or "")
    assert fix_for("no_such_code", "sex") is None


def test_a_table_of_one_row_per_rule_names_the_field_a_sentence_is_about():
    """report.html's *Rules and fixes* and docs/rules.md: the general fix, then "For `itt_end_date`: ..."; a sentence
    two fields share is said once, naming both."""
    required = CATALOGUE["required"].fix_in_full()
    assert required.startswith("Fill in the field; Register refuses a trainee without it. For `itt_end_date`: A C21053")
    dated = CATALOGUE["invalid_date"].fix_in_full()
    assert dated.count("For `itt_start_date` or `trainee_start_date`: While the start date") == 1
    assert CATALOGUE["invalid_code"].fix_in_full() == CATALOGUE["invalid_code"].fix  # most rules have none
    doc = (Path(__file__).resolve().parents[2] / "docs" / "rules.md").read_text(encoding="utf-8")
    assert "For `application_id`: An application_id is measured" in doc and "the date they left (hesa" not in doc


def test_the_html_report_names_the_field_beside_its_sentence(tmp_path):
    from lxml import html

    issues_csv(tmp_path, ("required", "sex"))
    page = html.fromstring((tmp_path / "r" / "report.html").read_text(encoding="utf-8"))
    [cell] = page.xpath('//tr[@id="rule-required"]/td[@data-label="Suggested fix"]')
    said = cell.text_content()
    assert said.startswith("Fill in the field; Register refuses a trainee without it. For itt_end_date: A C21053")


def test_a_sentence_about_a_field_the_rule_has_not_is_refused():
    with pytest.raises(ValueError, match="fix_by_field names fields the rule has not"):
        describe(
            "review222_own",
            scope="trainee",
            fields=("sex",),
            message="m",
            source="s",
            fix="f",
            fix_by_field={"last_name": "never shown"},
        )
    assert "review222_own" not in CATALOGUE


WITHDRAWAL = {
    "withdrawal_date": "2026-11-01",
    "reasons": ["did_not_make_progress"],
    "trigger": "trainee",
    "future_interest": "no",
}


def test_a_deferral_after_the_withdrawal_has_its_own_code_and_fix():
    """Not defer_date_in_future's "Nothing to do if the date is the one planned", beside a message saying the deferral
    is never sent; nor "in future" for a date both of which have passed (record 11 of review222's night4.xml)."""
    record = validated(copy.deepcopy(VALID), withdrawal=WITHDRAWAL, deferral={"defer_date": "2026-11-10"})
    assert [(i.code, i.severity) for i in record.issues if i.field == "defer_date"] == [
        ("defer_date_after_withdrawal", Severity.WARNING)
    ]
    fix = CATALOGUE["defer_date_after_withdrawal"].fix
    assert fix.startswith("Correct the SRS: a trainee cannot be deferred after withdrawing.")
    assert "Nothing to do" not in fix and "withdraw" not in CATALOGUE["defer_date_in_future"].fix
    # A deferral ahead, alone or before the withdrawal, is still defer_date_in_future's.
    alone = validated(copy.deepcopy(VALID), deferral={"defer_date": "2027-01-05"})
    assert [i.code for i in alone.issues if i.field == "defer_date"] == ["defer_date_in_future"]
