"""review153 F2: a CSV row whose cells do not line up with the header (a cell lost or added: one `malformed_record`
naming no field) has its SRS id, HUSID and UKPRN from other columns. They are not its identifiers: the row takes no
part in the checks across records (a valid record with a small SRS id was a duplicate of it, and held back), gets no
`invalid_ukprn`; its reports name it by input, record and line, and by its SRS id and HUSID as read, which are its
own where the lost cell comes after them (review154 F1: blank, its trainee was listed as not in the extract)."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.validation.runner import Checker

AS_OF = date(2026, 11, 28)


def issues_of(report_dir: Path) -> list[dict[str, str]]:
    with (report_dir / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def generated_rows(tmp_path: Path, count: int = 6) -> tuple[list[str], list[list[str]]]:
    whole = tmp_path / "whole.csv"
    generate(whole, count=count, fmt="hesa-csv", seed=7, as_of=AS_OF)
    with whole.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = csv.reader(fh)
    return header, rows


def write_rows(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows([header, *rows])
    return path


def srs_id_taken_by_a_shifted_row(tmp_path: Path, shifted: int = 3) -> Path:
    """The review's file: record 1 a valid trainee whose SRS id is 2; record 3 (`shifted`) lost its F_UKPRN cell, so
    its F_OWNSTU column holds its F_ALLPLACE (2), its F_HUSID column its SRS id, and its F_UKPRN column its F_RECID
    (24053)."""
    header, rows = generated_rows(tmp_path)
    rows[0][header.index("F_OWNSTU")] = "2"
    rows[shifted - 1][header.index("F_ALLPLACE")] = "2"
    del rows[shifted - 1][header.index("F_UKPRN")]
    return write_rows(tmp_path / f"dupid-{shifted}.csv", header, rows)


def only_the_row_error(issues: list[dict[str, str]], record: int = 3) -> None:
    found = [(i["record"], i["line"], i["field"], i["code"]) for i in issues]
    assert found == [(str(record), str(record + 1), "", "malformed_record")]


def test_a_valid_record_is_no_duplicate_of_a_row_that_lost_a_cell(tmp_path):
    """It was: record 1 `duplicate_provider_trainee_id` (held back), record 3 `invalid_ukprn '24053'` and the same
    duplicate beside its row error. Record 3's lost cell (F_UKPRN) comes before its ids, so they are moved values,
    shown as read beside the error that says the row's cells do not line up."""
    extract = srs_id_taken_by_a_shifted_row(tmp_path)
    result = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "one", jobs=1)
    assert (result.report.summary.records, result.report.summary.valid, result.report.summary.errors) == (6, 5, 1)
    only_the_row_error(issues_of(tmp_path / "one"))
    [issue] = json.loads((tmp_path / "one" / "report.json").read_text())["issues"]
    assert (issue["record"], issue["provider_trainee_id"], issue["code"]) == (3, "2", "malformed_record")


@pytest.mark.parametrize("shifted", [3, 4])
def test_two_processes_find_the_same_whichever_checks_the_shifted_row(tmp_path, monkeypatch, shifted):
    """A helper process checks every other record (the second, fourth, ...): the shifted row is the parent's (3) or
    the helper's (4), and record 1, the valid one, the parent's."""
    extract = srs_id_taken_by_a_shifted_row(tmp_path, shifted)
    validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "one", jobs=1)
    only_the_row_error(issues_of(tmp_path / "one"), shifted)
    checked: list[int | None] = []
    real = Checker.check

    def check(self, info, raw):
        checked.append(raw.source.record)
        return real(self, info, raw)

    monkeypatch.setattr(Checker, "check", check)  # counts in this process only: the forked helper has its own list
    validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    assert checked == [1, 3, 5]
    assert (tmp_path / "two" / "issues.csv").read_bytes() == (tmp_path / "one" / "issues.csv").read_bytes()


def test_the_command_line_says_the_row_error_only(tmp_path):
    extract = srs_id_taken_by_a_shifted_row(tmp_path)
    report = tmp_path / "report"
    args = ["validate", str(extract), "--as-of", AS_OF.isoformat(), "--report-dir", str(report)]
    result = CliRunner().invoke(cli, [*args, "--ukprn", "10032383"])
    assert result.exit_code == 1, result.output
    assert "6 records: 5 valid, 1 with errors (1 error, 0 warnings)" in result.output
    only_the_row_error(issues_of(report))


def test_a_ukprn_moved_into_f_ukprn_is_no_second_provider_holding_every_record_back(tmp_path):
    """A cell added before F_UKPRN put a UKPRN-shaped value there: read as a second provider's record, it made every
    record of the file a `several_providers` error (none could be sent without --ukprn)."""
    header, rows = generated_rows(tmp_path)
    rows[2].insert(header.index("F_UKPRN"), "10007713")
    extract = write_rows(tmp_path / "added.csv", header, rows)
    result = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "report", jobs=1)
    assert (result.report.summary.valid, result.report.summary.errors) == (5, 1)
    only_the_row_error(issues_of(tmp_path / "report"))


def test_a_copy_of_a_row_with_a_comma_too_many_leaves_the_row_it_copies_valid(tmp_path):
    """Its values are where they were, but the row error says it cannot be told: it is judged, against the others
    too, once its cells line up (before: both records `duplicate_hesa_id`, `duplicate_provider_trainee_id` and a
    `possible_duplicate_trainee` warning)."""
    header, rows = generated_rows(tmp_path)
    rows.insert(2, [*rows[0], ""])
    extract = write_rows(tmp_path / "copied.csv", header, rows)
    result = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "report", jobs=1)
    assert (result.report.summary.valid, result.report.summary.errors, result.report.summary.warnings) == (6, 1, 0)
    only_the_row_error(issues_of(tmp_path / "report"))


def test_a_row_with_a_comma_too_many_gets_no_word_about_its_repeated_no_known_disability(tmp_path):
    """`disability_sent_once` changes what is sent and says so: of values under other fields' names it said nothing
    true (the rules judge the row once its cells line up)."""
    header, rows = generated_rows(tmp_path)
    row = rows[2]
    row[header.index("F_DISABLE1")] = row[header.index("F_DISABLE2")] = "95"
    row.append("")
    extract = write_rows(tmp_path / "comma.csv", header, rows)
    result = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "report", jobs=1)
    assert (result.report.summary.errors, result.report.summary.warnings) == (1, 0)
    only_the_row_error(issues_of(tmp_path / "report"))
