"""A report.html too long for its row cap, as `validate` and `sync --dry-run` write it (review54 F1, F2, F4, F6).

The page lists at most `HTML_ISSUE_LIMIT` issues (and as many sync records); lowered here, so that a generated extract
of a hundred records makes the page a 5,000-row cap makes of a provider's whole cohort.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

import register_batch.reports as reports
from register_batch.cli import cli

AS_OF = "2026-11-28"


def run(*args: str) -> None:
    result = CliRunner().invoke(cli, ["-q", *args], catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output


def generated(tmp_path: Path, count: int, defects: float, seed: int, *more: str) -> Path:
    extract = tmp_path / "extract.xml"
    truth = tmp_path / "truth.json"
    run(
        "generate", "--count", str(count), "-o", str(extract), "--defects", str(defects), "--truth", str(truth),
        "--seed", str(seed), "--as-of", AS_OF, *more,
    )  # fmt: skip
    return extract


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def page(folder: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((folder / "report.html").read_bytes())


def said(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def listed(doc: lxml.html.HtmlElement, table: str) -> list[lxml.html.HtmlElement]:
    return doc.xpath(f'//table[@id="{table}"]/tbody/tr')


def record_of(row: lxml.html.HtmlElement) -> int:
    return int(re.search(r"record (\d+)", said(row.xpath("./td[1]")[0])).group(1))


@pytest.fixture
def truncated_validate(tmp_path, monkeypatch):
    """A C21053 extract (five legacy-code warnings a record) with a defect in every record, validated whole and then
    with a cap of five rows more than the records with errors: fewer than its errors."""
    extract = generated(tmp_path, 60, 1.0, 5401, "--vintage", "C21053")
    run("validate", str(extract), "--as-of", AS_OF, "--jobs", "1", "--report-dir", str(tmp_path / "whole"))
    issues = rows_of(tmp_path / "whole" / "issues.csv")
    erring = {int(row["record"]) for row in issues if row["severity"] == "error"}
    errors = sum(row["severity"] == "error" for row in issues)
    limit = len(erring) + 5
    assert errors > limit - limit // 10, "the cap must cut the errors for the page to be at stake"
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", limit)
    run("validate", str(extract), "--as-of", AS_OF, "--jobs", "1", "--report-dir", str(tmp_path / "cut"))
    return tmp_path / "cut", issues, erring, limit


def test_a_truncated_page_lists_every_record_with_errors_and_says_so_in_numbers(truncated_validate):
    """A 6,000-record page kept the first 4,500 errors in file order: 1,410 invalid records had no row, and a search
    for one said "No issues match these filters". Now each record's first error is kept first, and the notice counts
    what the page holds."""
    folder, issues, erring, limit = truncated_validate
    assert rows_of(folder / "issues.csv") == issues  # issues.csv holds them all, whatever the page holds
    doc = page(folder)
    rows = listed(doc, "issue-table")
    assert len(rows) == limit < len(issues)
    assert {record_of(row) for row in rows if row.get("data-severity") == "error"} == erring
    errors = sum(row["severity"] == "error" for row in issues)
    here = Counter(row.get("data-severity") for row in rows)
    # each record's first error (one row each), then the rows left (a tenth of the page at most) for warnings
    assert (here["error"], here["warning"]) == (len(erring), 5)
    [notice] = doc.xpath('//*[@data-truncated="issues"]')
    assert [said(p) for p in notice.xpath("./p")] == [
        f"This page lists {limit} of the {len(issues)} issues: {len(erring)} of the {errors} errors and the first 5 "
        f"of the {len(issues) - errors} warnings, the errors first, then the warnings, each in file order.",
        f"Every one of the {len(erring)} records with errors has at least one of its errors here: the rest of a "
        "record's errors may be only in issues.csv.",
        f"issues.csv and report.json, next to this file, hold all {len(issues)} issues: look there for a record not "
        "on this page. The counts and charts above cover them all.",
    ]
    # A search that finds nothing here says where the rest are: in the page as written, so on paper or without a script.
    assert said(doc.get_element_by_id("issue-empty")) == (
        f"None of the {limit} issues on this page match. issues.csv holds all {len(issues)}: search there."
    )
    whole = page(folder.parent / "whole")  # a page that lists every issue says neither
    assert not whole.xpath("//*[@data-truncated]")
    assert said(whole.get_element_by_id("issue-empty")) == "No issues match these filters."


def test_the_issues_list_errors_first_then_warnings_each_in_file_order(truncated_validate, tmp_path):
    """The banner's "Go to the issues" led to a table whose first rows were legacy-code warnings, 351 of them before
    the 62 errors were all seen; without a script, or on paper, there was no way to see the errors alone."""
    for folder in (tmp_path / "whole", tmp_path / "cut"):
        rows = listed(page(folder), "issue-table")
        severities = [row.get("data-severity") for row in rows]
        assert severities == sorted(severities) and "warning" in severities  # error < warning
        for severity in ("error", "warning"):
            places = [
                int(row.xpath("./td[1]/@data-sort-value")[0]) for row in rows if row.get("data-severity") == severity
            ]
            assert places == sorted(places), severity
        assert page(folder).xpath('//*[@data-status="errors"]//a[@href="#issues"]')


def test_each_rules_fix_is_written_once_not_on_every_row(truncated_validate, tmp_path):
    """Every row repeated its rule's Fix paragraph: on a 4,000-record extract's page, 5,000 paragraphs, 1.6 MB of its
    8.6 MB. The fix is in the rule's row under Rules and fixes; each issue links there."""
    doc = page(tmp_path / "whole")
    text = said(doc)
    codes = {row.get("data-code") for row in listed(doc, "issue-table")}
    assert len(listed(doc, "issue-table")) > 3 * len(codes)
    for code in codes:
        [fix] = doc.xpath(f'//tr[@id="rule-{code}"]/td[@data-label="Suggested fix"]')
        assert len(said(fix)) > 20 and text.count(said(fix)) == 1, code
        links = doc.xpath(f'//table[@id="issue-table"]/tbody/tr[@data-code="{code}"]//p[@class="fix"]/a/@href')
        assert set(links) == {f"#rule-{code}"}


def test_a_big_dry_runs_page_lists_the_planned_writes_before_the_invalid_records(tmp_path, monkeypatch):
    """A 6,000-record dry run's page held 5,000 invalid records and none of the 229 trainees it would create: its
    Action filter read "create (229; 0 on this page)". The writes now come first, the invalid records keep a tenth
    of the rows, and the notice says how many of each the page holds."""
    extract = generated(tmp_path, 40, 0.6, 5406)  # 26 invalid, 14 to create (5403 had 18 to create from 108 kinds)
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 20)
    run(
        "sync", str(extract), "--as-of", AS_OF, "--dry-run", "--state-dir", str(tmp_path / "state"),
        "--report-dir", str(tmp_path / "r"),
    )  # fmt: skip
    results = rows_of(tmp_path / "r" / "results.csv")
    actions = Counter(row["action"] for row in results)
    assert actions["invalid"] > 20 and 0 < actions["create"] < 18, actions
    doc = page(tmp_path / "r")
    rows = listed(doc, "record-table")
    creates = {int(row["record"]) for row in results if row["action"] == "create"}
    assert {record_of(row) for row in rows if row.get("data-action") == "create"} == creates
    here = Counter(row.get("data-action") for row in rows)
    assert here["invalid"] == 20 - len(creates) >= 2  # a tenth of the rows at least, and what the writes leave
    [notice] = doc.xpath('//*[@data-truncated="records"]')
    lines = [said(p) for p in notice.xpath("./p")]
    assert lines[0].startswith(f"This page lists 20 of the {len(results)} records, in file order.")
    chosen = "the writes (create, update, withdraw, defer); the invalid records, which keep a tenth of the rows"
    assert chosen in lines[0]
    held = "; ".join(f"{action} {here[action]} of {count}" for action, count in sorted(actions.items()))
    assert lines[1] == f"By action, the page holds: {held}."
    assert f"create ({len(creates)})" in [said(option) for option in doc.xpath('//select[@id="f-action"]/option')]


def test_the_summary_says_failed_validation_for_the_count_report_json_calls_invalid(truncated_validate, tmp_path):
    """The cards said "Records with errors" and "Valid" for summary.invalid and summary.valid, which count validation
    only: a sync's conflict or Register's refusal gives a "valid" record error rows too. They say what they count."""
    doc = page(tmp_path / "whole")
    labels = {
        li.get("data-count"): said(li.xpath('./span[@class="label"]')[0])
        for li in doc.xpath('//ul[@data-group="summary"]/li')
    }
    assert (labels["valid"], labels["invalid"]) == ("Passed validation", "Failed validation")
    [line] = doc.xpath('//*[@data-status="errors"]/p[1]/strong')
    assert re.fullmatch(r"\d+ of 60 records failed validation\.", said(line))
