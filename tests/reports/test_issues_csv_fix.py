"""issues.csv says how to fix each issue: its last column, `fix`, is the rule catalogue's fix for the row's code.

design.md ("Who uses it"): the provider data officer needs a readable report (HTML and CSV) that names the record,
field, bad value and the fix. report.html links each issue to its rule's fix, but issues.csv, the file officers hand
to colleagues in Excel, had none. report.json's issues keep design.md's keys (its readers look a fix up by code).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulated import SYNC_TESTS_TOKEN, sync_options
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.model import API_VERSION, Issue, Severity, SourceRef, TraineeRecord
from register_batch.reports import ISSUE_KEYS, ReportBuilder, _ours
from register_batch.sync import sync_files
from register_batch.validation import CATALOGUE, Rule
from trainee_extracts import trainee, write_extract

FIXTURES = Path(__file__).parent.parent / "fixtures"
THREE_ERRORS = FIXTURES / "register_csv" / "five_trainees_with_three_errors.csv"


def csv_of(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        return list(reader.fieldnames or ()), list(reader)


def validated(tmp_path: Path) -> Path:
    folder = tmp_path / "r"
    args = ["validate", str(THREE_ERRORS), "--as-of", "2026-11-28", "--report-dir", str(folder)]
    checked = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert checked.exit_code == 1, checked.output
    return folder


def own_issues(tmp_path: Path, *issues: tuple[str, str]) -> Path:
    """A library caller's builder whose one record has issues of the codes given, (code, message): issues.csv."""
    record = TraineeRecord(source=SourceRef(input="extract.csv", record=1, line=2), data={"hesa_id": "2301141661279"})
    for code, message in issues:
        record.issue(code, message, field="sex", value="7", severity=Severity.ERROR)
    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    builder.add_record(record)
    builder.finish([])
    paths = builder.write(tmp_path / "own")
    builder.close()
    return paths["csv"]


def test_the_fix_column_comes_after_report_jsons_keys_which_are_unchanged(tmp_path):
    """`fix` after report.json's keys but `row`, which comes last: each column added after design.md's where a reader
    of the earlier ones by their place finds them as before (review168 F2 added `row`)."""
    folder = validated(tmp_path)
    header, rows = csv_of(folder / "issues.csv")
    assert header == [*(key for key in ISSUE_KEYS if key != "row"), "fix", "row"]
    assert header[-3:] == ["source", "fix", "row"]
    issues = json.loads((folder / "report.json").read_text(encoding="utf-8"))["issues"]
    assert issues and all(list(issue) == list(ISSUE_KEYS) for issue in issues)  # no fix in report.json
    assert [row["code"] for row in rows] == [issue["code"] for issue in issues]


def test_each_rows_fix_is_exactly_the_catalogues_text_for_its_code(tmp_path):
    _header, rows = csv_of(validated(tmp_path) / "issues.csv")
    codes = {row["code"] for row in rows}
    assert {"invalid_code", "required"} <= codes, codes
    for row in rows:
        assert row["fix"] == CATALOGUE[row["code"]].fix_on(row["field"]) != "", row
    [aim] = [row for row in rows if row["field"] == "itt_aim"]
    assert (aim["code"], aim["fix"]) == (
        "invalid_code",
        "Use a code from Register's list for the field (`register-batch reference show FIELD`, with FIELD as the "
        "report names it), or add a translation in a mapping file (--mapping, or `mapping_files` in a library call).",
    )
    # a warning's row too (the same record's leading_zeros_lost), and the same code's rows alike
    assert {row["fix"] for row in rows if row["code"] == "leading_zeros_lost"} == {CATALOGUE["leading_zeros_lost"].fix}


def test_a_code_the_catalogue_has_no_fix_for_has_an_empty_cell(tmp_path):
    """A library caller's own code (outside the catalogue), also one that is not text (Issue.model_construct)."""
    header, rows = csv_of(own_issues(tmp_path, ("invalid_code", "sex is not a code"), ("own_check", "ours")))
    assert header[-2:] == ["fix", "row"]
    assert [(row["code"], row["fix"]) for row in rows] == [
        ("invalid_code", CATALOGUE["invalid_code"].fix),
        ("own_check", ""),
    ]
    made = Issue(code="x", message="m", input="a.csv", severity=Severity.ERROR).model_dump()
    odd = Issue.model_construct(**{**made, "code": ("a", "b")})
    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    builder.add_file_issues([odd])
    builder.finish([])
    path = builder.write(tmp_path / "odd")["csv"]
    builder.close()
    [row] = csv_of(path)[1]
    assert row["code"] == "('a', 'b')" and row["fix"] == ""


def test_a_syncs_issues_csv_gives_the_fix_of_its_own_codes_and_of_validations(tmp_path):
    """A sync's own outcome codes are described in the catalogue by sync/runner.py: issues.csv gives their fixes too."""
    last_year = {
        **trainee(1),
        "hesa_id": "2610000000001",
        "itt_start_date": "2026-09-01",
        "trainee_start_date": "2026-09-01",
        "itt_end_date": "2027-07-31",
    }
    next_course = {
        **trainee(1),
        "itt_start_date": "2027-09-01",
        "trainee_start_date": "2027-09-01",
        "itt_end_date": "2028-07-31",
    }
    invalid = {**trainee(2), "sex": "7"}
    with start_emulator(tokens=[SYNC_TESTS_TOKEN], rate_limit=None, as_of=date(2026, 11, 28), seed=7) as emulator:
        first = sync_options(emulator, tmp_path, SYNC_TESTS_TOKEN, report_dir=tmp_path / "first")
        assert sync_files([str(write_extract(tmp_path / "a.csv", [last_year]))], first).exit_code == 0
        options = sync_options(emulator, tmp_path, SYNC_TESTS_TOKEN)
        synced = sync_files([str(write_extract(tmp_path / "b.csv", [next_course, invalid]))], options)
    assert synced.exit_code == 1
    header, rows = csv_of(synced.report_paths["csv"])
    assert header == [*(key for key in ISSUE_KEYS if key != "row"), "fix", "row"]
    fixes = {row["code"]: row["fix"] for row in rows}
    assert {"sync_other_instance", "invalid_code"} <= fixes.keys(), fixes
    assert fixes["sync_other_instance"] == CATALOGUE["sync_other_instance"].fix
    assert fixes["sync_other_instance"].startswith("Nothing to do if this is a new course.")
    assert all(fix == CATALOGUE[code].fix for code, fix in fixes.items())
    report = json.loads(synced.report_paths["json"].read_text(encoding="utf-8"))
    assert all(list(issue) == list(ISSUE_KEYS) for issue in report["issues"])


@pytest.mark.parametrize("start", ["=", "+", "-", "@"])
def test_a_fix_a_spreadsheet_would_take_for_a_formula_gets_an_apostrophe(tmp_path, monkeypatch, start):
    """The fix is our own text, but goes through the same writer as every other cell (csvsafe.neutralise): one that
    starts as a formula does (none in the catalogue does) would get the apostrophe, and a control character its
    symbol. A lone "-" stays as it is, as in every other column."""
    fix = f'{start}HYPERLINK("http://example.invalid", "fix")\x1b[2J'
    for code, text in (("own_check", fix), ("own_dash", "-")):  # a catalogue entry for the test, removed after it
        monkeypatch.setitem(CATALOGUE, code, Rule(code, "trainee", ("sex",), "m", "s", text, Severity.ERROR, False))
    [row, dash] = csv_of(own_issues(tmp_path, ("own_check", "ours"), ("own_dash", "ours")))[1]
    assert row["fix"] == f'\'{start}HYPERLINK("http://example.invalid", "fix")\u241b[2J'
    assert dash["fix"] == "-"
    ours = [rule for code, rule in CATALOGUE.items() if not code.startswith("own_")]
    assert not any(rule.fix.startswith(("=", "+", "-", "@", "\t", "\r")) for rule in ours)


def test_an_issues_csv_of_this_version_or_an_earlier_one_is_still_a_runs_report(tmp_path):
    """(A guard: passes before the change too.) The report folder tells a run's issues.csv by its header's columns up
    to `message`: one with `fix` after `source`, and an earlier version's without either, are both a run's."""
    folder = validated(tmp_path)
    assert _ours(folder / "issues.csv")
    older = tmp_path / "older" / "issues.csv"
    older.parent.mkdir()
    older.write_text("\ufeff" + ",".join(ISSUE_KEYS[: ISSUE_KEYS.index("message") + 1]) + "\r\n", encoding="utf-8")
    assert _ours(older)


def test_the_schema_docs_and_module_say_issues_csv_has_row_last_after_fix():
    """review176 F4: report.schema.json's issue (printed by `register-batch schema report` for other programs),
    dry-run.md's `source` row and csv_report's docstring said issues.csv is report.json's columns "then fix": a
    program following them read provider_trainee_id's values as its fourth column, `row`."""
    from register_batch.reports import csv_report
    from register_batch.sync.runner import RESULT_COLUMNS

    repo = Path(__file__).resolve().parents[2]
    schema = json.loads((repo / "src/register_batch/reports/report.schema.json").read_text(encoding="utf-8"))
    columns = csv_report.COLUMNS
    assert columns == (*(key for key in ISSUE_KEYS if key != "row"), "fix", "row")
    described = schema["$defs"]["issue"]["description"]
    assert "then fix." not in described and "but row, then fix, then row" in described
    assert "but `row`, then the fix, then `row`" in " ".join((csv_report.__doc__ or "").split())
    [source_row] = [
        line for line in (repo / "docs/dry-run.md").read_text().splitlines() if line.startswith("| `source`")
    ]
    assert "`fix` and then `row` come after it" in source_row
    # results.csv, the same way (review176 F1)
    assert (
        RESULT_COLUMNS[-1] == "row"
        and "row, which is its last column" in schema["$defs"]["record_result"]["description"]
    )
