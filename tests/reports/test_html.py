"""report.html without a browser: self-contained, escaped, honest about truncation, sync sections present."""

from __future__ import annotations

import base64
import hashlib
import itertools
import re
import stat
from collections import Counter
from datetime import date
from pathlib import Path

import lxml.html
import pytest
from report_builders import (
    HOSTILE_ID,
    HOSTILE_INPUT,
    HOSTILE_MESSAGE,
    HOSTILE_VALUE,
    VALIDATION_INPUTS,
    check,
    load_report_json,
)

import register_batch.reports as reports
from register_batch.jobs import validate_files
from register_batch.model import API_VERSION, Severity, SourceRef, TraineeRecord, make_issue
from register_batch.readers import InputInfo
from register_batch.reports import ReportBuilder, html_report


def page(folder: Path) -> lxml.html.HtmlElement:
    return lxml.html.fromstring((folder / "report.html").read_bytes())


def written_page(builder, folder: Path) -> lxml.html.HtmlElement:
    """The page of a builder's reports written into `folder` (the builder closed after, as a job closes it)."""
    try:
        builder.write(folder)
    finally:
        builder.close()
    return page(folder)


def texts(doc: lxml.html.HtmlElement, xpath: str) -> list[str]:
    return [" ".join(element.text_content().split()) for element in doc.xpath(xpath)]


def card(doc: lxml.html.HtmlElement, group: str, key: str) -> int:
    [value] = texts(doc, f'//ul[@data-group="{group}"]/li[@data-count="{key}"]/span[@class="value"]')
    return int(value.replace(",", ""))


def visible_rows(doc: lxml.html.HtmlElement, table: str) -> list[lxml.html.HtmlElement]:
    return doc.xpath(f'//table[@id="{table}"]/tbody/tr')


def test_page_is_self_contained(validation_builder, tmp_path):
    validation_builder.write(tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    doc = page(tmp_path)
    for element in doc.iter():
        for name in ("src", "href", "action", "srcset", "xlink:href", "data"):
            url = element.get(name)
            if url is not None:
                assert not re.match(r"^\s*(https?:|//|ftp:|file:)", url, re.I), f"{element.tag} {name}={url}"
    assert not doc.xpath("//script[@src] | //link[@rel='stylesheet'] | //img | //iframe | //object | //embed")
    style = doc.xpath("//style")[0].text
    assert "url(" not in style and "@import" not in style and "@font-face" not in style
    assert "http" not in doc.xpath("//script")[0].text
    assert len(html.encode()) < 400_000


def test_csp_pins_the_inline_style_and_script(validation_builder, tmp_path):
    """The browser runs the inline CSS/JS only if their hashes are in the policy: a whitespace change would
    silently turn the page into an unstyled, unfilterable one."""
    validation_builder.write(tmp_path)
    doc = page(tmp_path)
    [policy] = doc.xpath('//meta[@http-equiv="Content-Security-Policy"]/@content')
    assert "default-src 'none'" in policy
    for tag, directive in (("style", "style-src"), ("script", "script-src")):
        [element] = doc.xpath(f"//{tag}")
        digest = base64.b64encode(hashlib.sha256(element.text.encode("utf-8")).digest()).decode()
        assert f"{directive} 'sha256-{digest}'" in policy


def test_counts_cards_and_charts_match_report_json(validation_builder, tmp_path):
    validation_builder.write(tmp_path)
    data, doc = load_report_json(tmp_path), page(tmp_path)
    for key, value in data["summary"].items():
        assert card(doc, "summary", key) == value
    issues = data["issues"]
    total = len(issues)
    assert total == data["summary"]["errors"] + data["summary"]["warnings"] > 0
    assert len(visible_rows(doc, "issue-table")) == total
    for chart in ("chart-field", "chart-rule"):
        assert sum(int(n) for n in doc.xpath(f'//table[@id="{chart}"]/tbody/tr/@data-total')) == total
    errors_in_bars = sum(
        int(re.match(r"([\d,]+) errors", text).group(1))
        for text in texts(doc, '//table[@id="chart-rule"]//td[@class="bar-cell"]/span')
    )
    assert errors_in_bars == data["summary"]["errors"]
    assert texts(doc, '//*[@id="issue-count"]') == [f"Showing {total} of {total} issues"]
    assert not doc.xpath("//*[@data-truncated]")
    assert not doc.xpath('//*[@id="sync"]')


def test_issues_about_a_whole_record_are_named_in_words_in_the_chart_and_the_filter(tmp_path):
    """The table says "whole record"; the chart and the Field filter said "(record)", the key rows are matched on."""
    record = TraineeRecord(source=SourceRef(input="extract.csv", record=3, line=4), data={"hesa_id": "2601200000017"})
    record.issue("sync_state_differs", "Register has the trainee deferred", severity=Severity.WARNING)
    builder, _records = check(VALIDATION_INPUTS[-1:], "validate", also=(record,))
    doc = written_page(builder, tmp_path)
    [link] = doc.xpath('//table[@id="chart-field"]//a[@data-value="(record)"]')
    assert link.text_content() == "whole record"
    [option] = doc.xpath('//select[@id="f-field"]/option[@value="(record)"]')
    assert option.text_content().startswith("whole record (1")
    [row] = [row for row in visible_rows(doc, "issue-table") if row.get("data-field") == "(record)"]
    assert "whole record" in row.text_content()


def test_rows_carry_what_the_filters_match_on(validation_builder, tmp_path):
    validation_builder.write(tmp_path)
    data, doc = load_report_json(tmp_path), page(tmp_path)
    rows = visible_rows(doc, "issue-table")
    listed = sorted(data["issues"], key=lambda issue: issue["severity"] != "error")  # errors first, each in file order
    for issue, row in zip(listed, rows, strict=True):
        assert row.get("data-severity") == issue["severity"]
        assert row.get("data-code") == issue["code"]
        assert row.get("data-field") == (issue["field"] or "(file)")
        assert row.get("data-input") == issue["input"]
    options = {
        key: doc.xpath(f'//select[@data-key="{key}"]/option/@value')[1:] for key in ("severity", "field", "code")
    }
    assert set(options["field"]) == {row.get("data-field") for row in rows}
    assert set(options["code"]) == {row.get("data-code") for row in rows}
    assert options["severity"] == ["error", "warning"]
    assert all(doc.xpath(f'//label[@for="{control.get("id")}"]') for control in doc.xpath("//select | //input"))


def test_a_page_rows_first_fields_are_the_issue_keys():
    """_IssueRow spells its fields out for the type checker: they must stay reports.ISSUE_KEYS, in that order."""
    fields = html_report._IssueRow._fields
    assert fields[: len(reports.ISSUE_KEYS)] == reports.ISSUE_KEYS
    assert fields[len(reports.ISSUE_KEYS) :] == ("pos", "field_key", "input_name", "trainee_id", "read_from")


def test_suggested_fix_and_source_come_from_the_catalogue(validation_builder, tmp_path):
    from register_batch.validation import CATALOGUE

    validation_builder.write(tmp_path)
    doc = page(tmp_path)
    for row in visible_rows(doc, "issue-table"):
        entry = CATALOGUE[row.get("data-code")]
        [link] = row.xpath('.//a[@class="code"]')
        assert link.get("title") == entry.source
        assert link.get("href") == f"#rule-{entry.code}" and doc.get_element_by_id(f"rule-{entry.code}") is not None
        # The fix is said once, in the rule's row of Rules and fixes, which the issue's row links to (review54 F5).
        assert row.xpath('.//p[@class="fix"]/a/@href') == [f"#rule-{entry.code}"]
        [fix] = doc.xpath(f'//tr[@id="rule-{entry.code}"]/td[@data-label="Suggested fix"]')
        assert texts(fix, ".") == [entry.fix_in_full().replace("`", "")]
        quoted = entry.fix_in_full().split("`")[1::2]  # `commands` and `values` in a fix show as code
        assert texts(fix, "./code") == quoted


def who_decides(entry) -> str:
    if entry.api:
        return "Register's own rule"
    return "the sync's outcome" if entry.code.startswith("sync_") else "register-batch's check"


def test_the_syncs_own_codes_are_neither_registers_rules_nor_register_batchs_checks():
    """review118 F1: sync/runner.py describes its codes with api=False, so the page called "Internal server error (the
    write may not have gone through …)" register-batch's check, and the summary box counted the records with only such
    an error among those that failed validation. Register's refusal (api_rejected) stays Register's."""
    import register_batch.sync.runner  # noqa: F401  # describes the sync's own codes in the catalogue
    from register_batch.validation import CATALOGUE

    sync_codes = {code for code in CATALOGUE if code.startswith("sync_")}
    assert {"sync_conflict", "sync_unknown", "sync_unavailable", "sync_update_refused"} <= sync_codes
    for code in sync_codes:
        assert html_report._checked_by(CATALOGUE[code]) == "the sync's outcome"
        assert html_report._error_kind(code) == "sync"
    assert html_report._checked_by(CATALOGUE["api_rejected"]) == "Register's own rule"
    assert html_report._checked_by(CATALOGUE["unknown_institution"]) == "register-batch's check"
    kinds: Counter = Counter()
    for found in ({"sync"}, {"sync", "check"}, {"sync", "api"}, {"sync", "other_provider_record"}):
        html_report._count_kinds(kinds, found)
    assert kinds == Counter(checks=1, other_provider_record=1, provider_only=1)


def test_each_rule_says_whether_register_or_register_batch_decides(validation_builder, make_sync_builder, tmp_path):
    """A data officer has no copy of the research notes a rule's source cites: the issue row says in words who
    decides (Register would refuse the record, or register-batch warns of what Register would drop), and the rules
    table adds the citation as small print."""
    import register_batch.sync.runner  # noqa: F401  # describes the sync's own codes (api_rejected) in the catalogue
    from register_batch.validation import CATALOGUE

    validation_builder.write(tmp_path / "validate")
    make_sync_builder().write(tmp_path / "sync")
    seen = set()
    for folder in ("validate", "sync"):
        doc = page(tmp_path / folder)
        for row in visible_rows(doc, "issue-table"):
            entry = CATALOGUE[row.get("data-code")]
            assert texts(row, './/span[@class="sub source"]') == [who_decides(entry)]
            assert "register-api.md" not in row.text_content() and "hesa-formats.md" not in row.text_content()
            seen.add((entry.code, entry.api))
        for rule_row in doc.xpath('//table[@id="rule-table"]/tbody/tr'):
            entry = CATALOGUE[rule_row.get("data-code")]
            [cell] = rule_row.xpath('./td[@data-label="Source"]')
            assert cell.text_content() == who_decides(entry) + entry.source
    assert {api for _code, api in seen} == {True, False}, seen
    [intro] = page(tmp_path / "validate").xpath('//section[@id="rules"]/p[1]')
    assert "the sync's outcomes" not in intro.text_content()  # said only where a sync's own code is listed
    assert CATALOGUE["api_rejected"].api  # Register's refusal is Register's, though no rule of ours raised it


def test_values_from_user_files_are_escaped(make_sync_builder, tmp_path):
    make_sync_builder().write(tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    doc = page(tmp_path)
    assert len(doc.xpath("//script")) == 1 and "__pwned" not in doc.xpath("//script")[0].text
    assert html.lower().count("<script") == 1 and html.lower().count("</script") == 1
    assert not doc.xpath("//img | //b | //i")
    handlers = [name for element in doc.iter() for name in element.attrib if name.lower().startswith("on")]
    assert handlers == []
    body = doc.text_content()
    for hostile in (HOSTILE_VALUE, HOSTILE_ID, HOSTILE_MESSAGE, HOSTILE_INPUT):
        assert hostile in body  # shown exactly as the user's file has it, as text
    assert doc.xpath(f"//tr[@data-input={quoted(HOSTILE_INPUT)}]")
    assert doc.xpath(f"//option[@value={quoted('last_name <i>')}]")


def test_every_value_a_row_shows_is_escaped(make_sync_builder, tmp_path):
    """The tables' rows are made in Python (html_report.issue_row, record_row): each value a row shows, in text or in
    an attribute, is escaped, the kinds the test above does not reach too (a sync record's warning, Register's trainee
    id, an action and outcome, a changed field's name, the id "See its issues" searches for; an issue row's input)."""
    builder = make_sync_builder()
    hostile = {
        "input": HOSTILE_INPUT,
        "record": 98,
        "line": 99,
        "provider_trainee_id": None,
        "hesa_id": HOSTILE_ID,
        "action": "invalid",
        "outcome": HOSTILE_ID,
        "trainee_id": HOSTILE_VALUE,
        "http_status": None,
        "errors": [],
        "warnings": [HOSTILE_MESSAGE, "a\x00b"],
        "changes": [{"field": HOSTILE_VALUE, "register": [HOSTILE_ID], "source": "x"}],
    }
    builder.extra["records"] = [*builder.extra["records"], hostile, {**hostile, "action": HOSTILE_VALUE}]
    builder.write(tmp_path)
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    doc = page(tmp_path)
    assert html.lower().count("<script") == 1 and not doc.xpath("//img | //b")
    assert not [name for element in doc.iter() for name in element.attrib if name.lower().startswith("on")]
    first, second = visible_rows(doc, "record-table")[-2:]
    assert first.get("data-outcome") == HOSTILE_ID and first.get("data-input") == HOSTILE_INPUT
    assert second.get("data-action") == HOSTILE_VALUE
    assert [link.get("data-value") for link in first.xpath('.//a[@data-filter="q"]')] == [HOSTILE_ID]
    assert texts(first, './/td[@data-label="Trainee"]//span[@class="id"]') == [HOSTILE_ID, HOSTILE_VALUE]
    assert [li.text_content() for li in first.xpath(".//li[@data-warning]")] == [
        f"Warning {HOSTILE_MESSAGE}",
        "Warning a<U+0000>b",
    ]
    assert texts(first, './/ul[@class="changes"]/li/code') == [HOSTILE_VALUE]
    assert texts(first, './/ul[@class="changes"]//span[@class="from"]') == [f"Register has {HOSTILE_ID}"]
    assert texts(first, './/td[@data-label="Outcome"]') == [HOSTILE_ID.lower()]
    for table in ("issue-table", "record-table"):  # the issue rows' input too, in both attributes
        rows = doc.xpath(f'//table[@id="{table}"]/tbody/tr[@data-input={quoted(HOSTILE_INPUT)}]')
        assert rows and all(row.xpath('.//span[@class="file"]')[0].get("title") == HOSTILE_INPUT for row in rows)


def quoted(value: str) -> str:
    """An XPath string literal for a value with both quote kinds."""
    return "concat(" + ", '\"', ".join(f'"{part}"' for part in value.split('"')) + ", '')"


def test_table_is_truncated_with_a_clear_note_but_counts_cover_everything(validation_builder, tmp_path, monkeypatch):
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 5)
    validation_builder.write(tmp_path)
    data, doc = load_report_json(tmp_path), page(tmp_path)
    total = len(data["issues"])
    rows = visible_rows(doc, "issue-table")
    assert len(rows) == 5 < total
    assert {row.get("data-severity") for row in rows} == {"error"}  # errors come first
    positions = [int(row.xpath("./td[1]/@data-sort-value")[0]) for row in rows]
    assert positions == sorted(positions)  # and keep file order
    [note] = texts(doc, '//*[@data-truncated="issues"]')
    assert f"5 of the {total} issues" in note and "issues.csv and report.json" in note
    assert texts(doc, '//*[@id="issue-count"]') == [f"Showing 5 of 5 issues listed on this page ({total} in all)"]
    for key, value in data["summary"].items():
        assert card(doc, "summary", key) == value
    assert sum(int(n) for n in doc.xpath('//table[@id="chart-field"]/tbody/tr/@data-total')) == total


def test_warnings_fill_the_table_after_the_errors(validation_builder, tmp_path, monkeypatch):
    errors, warnings = validation_builder.summary.errors, validation_builder.summary.warnings
    assert errors > 20 and warnings > 4
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", errors + 2)
    validation_builder.write(tmp_path)
    rows = visible_rows(page(tmp_path), "issue-table")
    assert len(rows) == errors + 2 < errors + warnings
    # a tenth of the rows is kept for warnings, the rest are errors
    assert [row.get("data-severity") for row in rows].count("warning") == (errors + 2) // 10


def test_a_page_full_of_errors_still_shows_some_warnings_and_says_how_many(validation_builder, tmp_path, monkeypatch):
    errors, warnings = validation_builder.summary.errors, validation_builder.summary.warnings
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 20)  # fewer than the errors alone
    validation_builder.write(tmp_path)
    doc = page(tmp_path)
    severities = [row.get("data-severity") for row in visible_rows(doc, "issue-table")]
    assert severities.count("warning") == 2 and severities.count("error") == 18
    options = texts(doc, '//select[@id="f-severity"]/option')
    assert options == [
        "All severities",
        f"Errors ({errors}; 18 on this page)",
        f"Warnings ({warnings}; 2 on this page)",
    ]


def test_sync_sections_render(make_sync_builder, tmp_path):
    builder = make_sync_builder()
    builder.write(tmp_path)
    data, doc = load_report_json(tmp_path), page(tmp_path)
    sync = data["sync"]
    for key, value in sync["actions"].items():
        assert card(doc, "actions", key) == value
    for key, value in sync["outcomes"].items():
        assert card(doc, "outcomes", key) == value
    assert card(doc, "actions", "create") and texts(doc, '//li[@data-count="create"]/span[@class="split"]') == [
        "1 failed"
    ]
    rows = visible_rows(doc, "record-table")
    assert [(r.get("data-action"), r.get("data-outcome")) for r in rows] == [
        (record["action"], record["outcome"]) for record in data["records"]
    ]
    updates = [row for row in rows if row.get("data-action") == "update"]
    assert updates and all(
        texts(row, './/ul[@class="changes"]/li')
        == [
            "last_name Register has Smith → , the extract has Smith-Jones",
            "study_mode Register has 01 → , the extract has blank",
        ]
        for row in updates
    )
    assert texts(doc, '//*[@data-request="total"]') == ["7 in all"]
    assert "Dry run" not in doc.text_content()
    invalid = [row for row in rows if row.get("data-action") == "invalid"]
    assert invalid and all(row.xpath('.//a[@data-filter="q"][text()="See its issues"]') for row in invalid)
    # A sync's other files are named where the page names report.json and issues.csv (review54 F10).
    [other] = doc.xpath('//dt[text()="Other files"]/following-sibling::dd[1]')
    assert "results.csv" in other.text_content() and "not_in_extract.csv" in other.text_content()


def test_a_trainee_withdrawn_or_deferred_with_its_create_or_update_counts_on_the_withdraw_or_defer_card(
    make_sync_builder, tmp_path
):
    """A new trainee withdrawn in the same run is a record whose action is `create`: the Withdraw card said 0 beside
    the summary line's "30 created, 30 withdrawn". The card counts it, and says it went with the creation."""
    builder = make_sync_builder()
    rows = builder.extra["records"]
    failed = next(r for r in rows if r["outcome"] == "failed")  # not done: not counted
    failed["changes"] = [{"field": "state", "register": None, "source": "withdrawn"}]
    done = [r for r in rows if r["outcome"] == "done"]
    assert len(done) >= 3
    for row in done[:2]:
        row.update(action="create", changes=[{"field": "state", "register": None, "source": "withdrawn"}])
    done[2].update(action="update", changes=[{"field": "state", "register": "trn_received", "source": "deferred"}])
    builder.write(tmp_path)
    doc, actions = page(tmp_path), builder.extra["sync"]["actions"]
    assert card(doc, "actions", "withdraw") == actions["withdraw"] + 2
    assert card(doc, "actions", "defer") == actions["defer"] + 1
    assert card(doc, "actions", "create") == actions["create"]  # each still counted once among the records' actions
    assert texts(doc, '//li[@data-count="withdraw"]/span[@class="split joined"]') == ["2 with their creation"]
    assert texts(doc, '//li[@data-count="defer"]/span[@class="split joined"]') == ["1 with its update"]


def test_request_counts_read_as_words_not_as_report_json_keys(make_sync_builder, tmp_path):
    """A data officer reads `1.25 per record, 3.5 seconds` (as the summary line says), not `per_trainee 1.25`."""
    builder = make_sync_builder()
    builder.extra["sync"]["requests"] = {
        "total": 1540,
        "by_route": {"POST /trainees": 1500, "GET /trainees": 40},
        "retries": 1,
        "throttled": 2,
        "per_trainee": 1.027,
        "seconds": 55.543,
        "per_second": 2.773,
    }
    builder.write(tmp_path)
    doc = page(tmp_path)
    shown = {key: texts(doc, f'//*[@data-request="{key}"]') for key in builder.extra["sync"]["requests"]}
    assert shown == {
        "total": ["1,540 in all"],
        "by_route": [],
        "retries": ["1 retried"],
        "throttled": ["2 throttled by Register (429)"],
        "per_trainee": ["1.027 per record"],
        "seconds": ["55.5 seconds"],  # rounded for people (review54 F10); report.json keeps 55.543
        "per_second": ["2.8 per second"],
    }
    assert "per_trainee" not in " ".join(doc.xpath('//section[@id="sync"]//p')[0].text_content().split())


@pytest.mark.parametrize(
    ("figures", "said"),
    [
        (
            {"per_trainee": 0.00025, "seconds": 0.012, "per_second": 583.333},
            {"per_trainee": ["0.00025 per record"], "seconds": ["0.012 seconds"], "per_second": ["583.3 per second"]},
        ),
        (
            {"per_trainee": 5e-05, "seconds": 0.0004, "per_second": 12_500.0},
            {
                "per_trainee": ["0.00005 per record"],
                "seconds": ["0.0004 seconds"],
                "per_second": ["12,500.0 per second"],
            },
        ),
    ],
    ids=["a first migration's dry run", "faster still"],
)
def test_small_request_figures_keep_their_significant_figures(make_sync_builder, tmp_path, figures, said):
    """review118 F2: a dry run of a 20,000-record first migration read "0.0 per record" for the requests it made, and a
    short run "0.0 seconds, 557.2 per second". report.json's figures are shown as they are, never as 5e-05; seconds
    and per second to one decimal, or to two significant figures when smaller."""
    builder = make_sync_builder()
    builder.extra["sync"]["requests"] = {"total": 5, "retries": 0, "throttled": 0, **figures}
    builder.write(tmp_path)
    doc = page(tmp_path)
    assert {key: texts(doc, f'//*[@data-request="{key}"]') for key in figures} == said


def test_a_long_route_may_wrap_on_a_narrow_screen(make_sync_builder, tmp_path):
    """`DELETE /trainees/{trainee_id}/placements/{placement_id}` has no space to wrap at: on a phone it ran off the
    page. Like field names, a route may break after a `/` or `_`, and still reads as written."""
    builder = make_sync_builder()
    route = "DELETE /trainees/{trainee_id}/placements/{placement_id}"
    builder.extra["sync"]["requests"] = {"total": 3, "by_route": {route: 1, "GET /trainees": 2}}
    builder.write(tmp_path)
    [code] = page(tmp_path).xpath(f'//*[@data-route="{route}"]/code')
    assert code.text_content() == route and len(code.xpath(".//wbr")) >= 4


def test_sync_keys_unknown_to_the_page_still_get_a_card(make_sync_builder, tmp_path):
    builder = make_sync_builder()
    builder.extra["sync"]["actions"]["reassign"] = 2
    builder.extra["sync"]["outcomes"]["deferred"] = 3
    builder.write(tmp_path)
    doc = page(tmp_path)
    assert card(doc, "actions", "reassign") == 2 and card(doc, "outcomes", "deferred") == 3


def test_dry_run_says_nothing_was_sent(make_sync_builder, tmp_path):
    make_sync_builder(dry_run=True).write(tmp_path)
    doc = page(tmp_path)
    assert "Dry run: nothing was sent to Register." in " ".join(doc.text_content().split())
    assert texts(doc, '//li[@data-count="create"]/span[@class="label"]') == ["To create"]
    assert "(dry run)" in doc.findtext(".//title")


@pytest.mark.parametrize(("dry_run", "interrupted"), [(False, False), (True, False), (False, True), (True, True)])
def test_sync_sentences_are_spaced(make_sync_builder, tmp_path, dry_run, interrupted):
    """The dry run's paragraph read "…what a real run would do.Requests to the API: …" (no space)."""
    builder = make_sync_builder(dry_run=dry_run)
    builder.extra["sync"]["interrupted"] = interrupted
    builder.write(tmp_path)
    [paragraph] = page(tmp_path).xpath('//section[@id="sync"]/p[1]')
    for code in paragraph.xpath(".//code"):  # the target URL and routes have dots of their own
        code.text = "X"
    text = " ".join(paragraph.text_content().split())
    assert "Requests to the API:" in text
    assert not re.search(r"[.:;,][A-Za-z]", text), text


def test_sync_records_are_truncated_failures_first(make_sync_builder, tmp_path, monkeypatch):
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 3)
    make_sync_builder().write(tmp_path)
    data, doc = load_report_json(tmp_path), page(tmp_path)
    rows = visible_rows(doc, "record-table")
    assert [row.get("data-outcome") for row in rows][:1] == ["failed"] and len(rows) == 3
    # The failed create, the conflict, then the first write: a write comes before an invalid record (review54 F2).
    assert {row.get("data-action") for row in rows} == {"create", "conflict", "update"}
    [note] = texts(doc, '//*[@data-truncated="records"]')
    assert f"3 of the {len(data['records'])} records" in note and "report.json" in note
    # The rows are shown in file order (the unchanged first, when they come first): "failures … first" alone read as
    # the order of the table, which a person looked for in vain.
    assert "records, in file order. They are chosen in this order: records that failed" in note
    assert "the writes (create, update, withdraw, defer); the invalid records, which keep a tenth of the rows" in note
    assert card(doc, "actions", "invalid") == data["sync"]["actions"]["invalid"]


def test_a_truncated_records_tables_filters_count_the_records_on_the_page_too(make_sync_builder, tmp_path, monkeypatch):
    """A 5,200-record dry run's page listed 4,720 creates; its Action filter said "create (4,920)", and its note named
    only report.json as holding every record, not results.csv, the spreadsheet a data officer opens."""
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 3)
    builder = make_sync_builder()
    builder.write(tmp_path)
    records, doc = builder.extra["records"], page(tmp_path)
    rows = visible_rows(doc, "record-table")
    assert len(rows) == 3 < len(records)

    def labels(key: str) -> list[str]:
        every, here = Counter(r[key] for r in records), Counter(row.get(f"data-{key}") for row in rows)
        return [
            f"{value} ({count}" + (f"; {here[value]} on this page" if here[value] != count else "") + ")"
            for value, count in sorted(every.items())
        ]

    assert texts(doc, '//select[@id="f-action"]/option')[1:] == labels("action")
    assert texts(doc, '//select[@id="f-outcome"]/option')[1:] == labels("outcome")  # done, failed, skipped: as named
    assert "invalid (5; 0 on this page)" in texts(doc, '//select[@id="f-action"]/option')
    [note] = texts(doc, '//*[@data-truncated="records"]')
    assert "results.csv and report.json, next to this file, hold every record." in note


def test_a_truncated_records_table_lists_a_record_with_a_warning_before_the_unchanged(
    make_sync_builder, tmp_path, monkeypatch
):
    """An unchanged record whose trainee Register has withdrawn (sync_state_differs) is the news of the night: it
    must not be cut from the page with the records that had nothing happen to them."""
    builder = make_sync_builder()
    records = builder.extra["records"]
    [first] = [row for row in records if row["action"] == "unchanged"]
    last = next(row for row in reversed(records) if row["action"] in ("update", "withdraw"))
    assert records.index(last) > records.index(first)
    last.update(action="unchanged", changes=[])
    last["warnings"] = ["trainee trn-0007 is withdrawn in Register, but this record has no withdrawal"]
    ranked = sum(row["action"] != "unchanged" for row in records)
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", ranked + 1)
    builder.write(tmp_path)
    rows = visible_rows(page(tmp_path), "record-table")
    [unchanged] = [row for row in rows if row.get("data-action") == "unchanged"]
    [warning] = unchanged.xpath(".//li[@data-warning]")
    assert " ".join(warning.text_content().split()) == f"Warning {last['warnings'][0]}"


def test_clean_extract_has_no_issue_table(tmp_path):
    builder, _ = check([str(Path(__file__).parent.parent / "fixtures/register_csv/five_trainees.csv")], "validate")
    doc = written_page(builder, tmp_path)
    assert doc.xpath('//*[@data-status="clean"]') and doc.xpath('//*[@data-status="no-issues"]')
    assert not doc.xpath('//table[@id="issue-table"] | //*[@id="charts"]')
    assert card(doc, "summary", "valid") == 5


def test_report_file_is_private(validation_builder, tmp_path):
    written = validation_builder.write(tmp_path / "out")
    assert stat.S_IMODE(written["html"].stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "value,expected",
    [
        ("degrees_attributes[0].grade", "degrees_<wbr>attributes[<wbr>0].<wbr>grade"),
        ("<b>_x", "&lt;b&gt;_<wbr>x"),
    ],
)
def test_breakable_escapes_before_adding_break_points(value, expected):
    assert str(html_report.breakable(value)) == expected


@pytest.mark.parametrize("kind", ["validate", "sync"])
def test_accessible_structure(kind, validation_builder, make_sync_builder, tmp_path):
    """One h1, no skipped heading levels, landmarks, captioned tables with scoped headers, labelled controls."""
    (validation_builder if kind == "validate" else make_sync_builder()).write(tmp_path)
    doc = page(tmp_path)
    assert doc.get("lang") == "en-GB"
    levels = [int(h.tag[1]) for h in doc.iter("h1", "h2", "h3", "h4", "h5", "h6")]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    assert len(doc.xpath("//header")) == len(doc.xpath("//main")) == len(doc.xpath("//footer")) == 1
    assert doc.xpath("//nav[@aria-label]") and doc.xpath('//a[@class="skip-link"][@href="#main"]')
    for table in doc.xpath("//table"):
        assert table.xpath("./caption") or table.get("aria-labelledby"), table.get("id")
        headers = table.xpath(".//th")
        assert headers and all(th.get("scope") in ("col", "row") for th in headers), table.get("id")
    for control in doc.xpath("//select | //input | //textarea"):
        assert doc.xpath(f'//label[@for="{control.get("id")}"]'), control.get("id")
    # A table's scroller is named for its table, not by the heading that names its section too (review181 F4).
    sections = [doc.get_element_by_id(s.get("aria-labelledby")).text_content() for s in doc.xpath("//section")]
    regions = [region.get("aria-label") for region in doc.xpath('//*[@role="region"]')]
    assert regions and all(region.get("tabindex") == "0" for region in doc.xpath('//*[@role="region"]'))
    assert all(regions) and len(set(sections + regions)) == len(sections + regions), (sections, regions)
    assert doc.xpath('//*[@role="status"]')  # filter results are announced


def test_long_date():
    assert html_report.long_date("2026-11-28") == "28 November 2026"
    assert html_report.long_date("not a date") == "not a date"
    months = " ".join(html_report.long_date(f"2027-{month:02d}-01").split()[1] for month in range(1, 13))
    assert months == "January February March April May June July August September October November December"
    assert html_report.long_date("2027-12-01") == "1 December 2027"


def one_record_report(tmp_path: Path, value: str, *, field: str = "sex") -> lxml.html.HtmlElement:
    from datetime import date

    from register_batch.model import API_VERSION, SourceRef, TraineeRecord
    from register_batch.reports import ReportBuilder

    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    record = TraineeRecord(
        source=SourceRef(input="one.csv", record=1, line=2),
        data={"provider_trainee_id": "SRS-1", "hesa_id": "2510000000001"},
    )
    record.issue("invalid_code", f"{field} has invalid reference data value of '{value}'", field=field, value=value)
    builder.add_record(record)
    builder.finish([])
    return written_page(builder, tmp_path)


def test_counts_of_one_read_as_one(tmp_path):
    doc = one_record_report(tmp_path, "7")
    assert doc.findtext(".//title").startswith("Validation report: 1 record, 1 error –")
    assert texts(doc, '//*[@data-status="errors"]/p[1]')[0].startswith("1 of 1 record failed validation.")
    assert texts(doc, '//*[@id="issue-count"]') == ["Showing 1 of 1 issue"]
    assert "1 error, 0 warnings" in texts(doc, '//table[@id="chart-field"]//td[@class="bar-cell"]')[0]


def test_a_bidi_override_in_a_value_is_named_not_obeyed(tmp_path):
    doc = one_record_report(tmp_path, "\u202e71")
    [value] = texts(doc, '//code[@class="value"]')
    assert value == "<U+202E>71"
    [message] = texts(doc, '//p[@class="message-text"]')
    assert "\u202e" not in message and message.endswith("'<U+202E>71'")


@pytest.mark.parametrize("control", ["\x00", "\t", "\x85"])
def test_a_control_character_in_a_value_is_named(tmp_path, control):
    """A browser shows a NUL as U+FFFD and a tab as a space: control_character's value hid what it was about."""
    doc = one_record_report(tmp_path, f"An{control}n", field="first_names")
    [value] = texts(doc, '//code[@class="value"]')
    assert value == f"An<U+{ord(control):04X}>n"


def test_a_very_long_value_is_cut_short_in_the_page_as_in_the_files(tmp_path):
    """review184 F2: issues.csv and report.json cut it too (to the same SHOWN_CHARS), so the page no longer says
    to see issues.csv for the rest. review189 F3: in the same words, in the value and in the message's quote."""
    doc = one_record_report(tmp_path, "x" * 5000, field="last_name")
    cut = "x" * reports.SHOWN_CHARS + "… (5,000 characters)"
    assert texts(doc, '//code[@class="value"]') == [cut]
    assert texts(doc, '//p[@class="message-text"]') == [f"last_name has invalid reference data value of '{cut}'"]
    [issue] = load_report_json(tmp_path)["issues"]
    assert issue["value"] == cut
    assert issue["message"] == f"last_name has invalid reference data value of '{cut}'"


def test_a_value_of_the_longest_length_shown_is_shown_whole(tmp_path):
    doc = one_record_report(tmp_path, "x" * reports.SHOWN_CHARS, field="last_name")
    assert texts(doc, '//code[@class="value"]') == ["x" * reports.SHOWN_CHARS]
    [message] = texts(doc, '//p[@class="message-text"]')
    assert message == f"last_name has invalid reference data value of '{'x' * reports.SHOWN_CHARS}'"


def test_the_pages_message_cut_keeps_a_quoted_values_own_cut_whole(tmp_path):
    """review189 F3: the page cut a message at 500 characters, through the value's quote, with its own marker
    ("(6,143 characters in all)"). The quote is now the files' cut, kept whole; 500 characters of the other words are
    shown, then the message is cut (not inside the quote)."""
    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    record = TraineeRecord(source=SourceRef(input="one.csv", record=1, line=2), data={"hesa_id": "2510000000001"})
    value = "y" * 3000
    words = " and then some more words" * 40
    record.issue("invalid_code", f"first: '{value}', again: '{value}'{words}", field="sex", value=value)
    builder.add_record(record)
    builder.finish([])
    [message] = texts(written_page(builder, tmp_path), '//p[@class="message-text"]')
    cut = "y" * reports.SHOWN_CHARS + "… (3,000 characters)"
    [issue] = load_report_json(tmp_path)["issues"]
    assert issue["message"] == f"first: '{cut}', again: '{cut}'{words}"
    assert message.startswith(f"first: '{cut}', again: '{cut}' and then some more words")
    assert message.endswith(f"… ({len(issue['message']):,} characters in all)")
    assert 500 <= len(message) - 2 * len(cut) <= 540


def test_a_message_past_500_characters_cuts_after_the_value_not_inside_it(tmp_path):
    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    record = TraineeRecord(source=SourceRef(input="one.csv", record=1, line=2), data={"hesa_id": "2510000000001"})
    value = "z" * 400  # whole (under SHOWN_CHARS), but past the 500 characters with the words before it
    record.issue("invalid_code", "w" * 300 + f" '{value}' " + "v" * 300, field="sex", value=value)
    builder.add_record(record)
    builder.finish([])
    [message] = texts(written_page(builder, tmp_path), '//p[@class="message-text"]')
    assert message.startswith("w" * 300 + f" '{value}' " + "v" * 190)
    assert "z…" not in message


def test_an_issue_whose_value_is_not_kept_is_not_called_blank_and_a_file_issue_is_the_whole_file(tmp_path):
    """possible_duplicate_trainee names last_name but keeps no value (the duplicate check holds digests): the page
    said "last_name, value blank" beside a trainee whose last name is there. A file's issue said "whole record"."""
    from datetime import date

    from register_batch.model import API_VERSION, Issue, Severity, SourceRef, TraineeRecord
    from register_batch.reports import ReportBuilder

    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    for number in (1, 2):
        record = TraineeRecord(
            source=SourceRef(input="one.csv", record=number, line=number + 1),
            data={"provider_trainee_id": f"SRS-{number}", "hesa_id": f"251000000000{number}"},
        )
        record.issue("required", "email can't be blank", field="email")
        builder.add_record(record)
    builder.add_file_issues(
        [Issue(input="one.csv", line=1, code="extra_columns", severity=Severity.WARNING, message="the header has 1")]
    )
    twin = Issue(
        input="one.csv",
        record=2,
        line=3,
        field="last_name",
        code="possible_duplicate_trainee",
        severity=Severity.WARNING,
        message="matches record 1 of one.csv by Register's duplicate rule",
    )
    builder.add_batch_issues([(1, twin)])
    builder.finish([])
    doc = written_page(builder, tmp_path)
    cells = sorted(" ".join(cell.text_content().split()) for cell in doc.xpath('//tr/td[@data-label="Field"]'))
    assert cells == ["emailvalue blank", "emailvalue blank", "last_name", "whole file"]  # the value line is a block


def test_registers_refusal_shows_the_records_value_and_never_calls_one_it_lacks_blank(tmp_path):
    """Register's refusal of a record (api_rejected) named trainee_start_date, and the page said "value blank" beside
    it, for a record whose extract gives 2026-09-03. The sync gives the record's value now; where it has none to give
    (a list such as placements_attributes, or a report of an earlier version) nothing is said of the value."""
    from datetime import date

    from register_batch.model import API_VERSION, Issue, Severity, SourceRef, TraineeRecord
    from register_batch.reports import ReportBuilder

    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    refusals = [
        ("trainee_start_date", "2026-09-03", "trainee_start_date must be in the past"),
        ("trainee_start_date", None, "trainee_start_date must be in the past"),
        ("placements_attributes", None, "placements_attributes is invalid"),
    ]
    for number, _refusal in enumerate(refusals, start=1):
        record = TraineeRecord(
            source=SourceRef(input="one.csv", record=number, line=number + 1),
            data={"provider_trainee_id": f"SRS-{number}", "hesa_id": f"251000000000{number}"},
        )
        builder.add_record(record)
    builder.add_batch_issues(
        (
            number - 1,
            Issue(
                input="one.csv",
                record=number,
                line=number + 1,
                field=field,
                value=value,
                code="api_rejected",
                severity=Severity.ERROR,
                message=message,
            ),
        )
        for number, (field, value, message) in enumerate(refusals, start=1)
    )
    builder.finish([])
    doc = written_page(builder, tmp_path)
    cells = [" ".join(cell.text_content().split()) for cell in doc.xpath('//tr/td[@data-label="Field"]')]
    assert cells == ["trainee_start_datevalue 2026-09-03", "trainee_start_date", "placements_attributes"]


def test_the_summary_never_calls_a_sync_with_a_blocked_record_fine():
    summary = {"records": 2, "valid": 2, "invalid": 0, "errors": 0, "warnings": 1}
    sync = {"dry_run": False, "actions": {"unchanged": 1, "blocked": 1}, "outcomes": {"done": 1, "skipped": 1}}
    status = html_report._status(summary, sync)
    assert (status.key, status.tone) == ("blocked", "bad")
    assert status.lines[0][0] == "1 record cannot be changed through the API."
    assert html_report._status(summary, None).key == "warnings"  # validate: a warning is only a warning


def summary_of(records: int, invalid: int = 0, errors: int = 0, warnings: int = 0) -> dict[str, int]:
    return {"records": records, "valid": records - invalid, "invalid": invalid, "errors": errors, "warnings": warnings}


@pytest.mark.parametrize(
    ("summary", "sync", "key", "tone", "lines"),
    [
        (summary_of(0), None, "empty", "bad", [("No records were read.", "")]),
        (
            summary_of(5, invalid=2, errors=3),
            None,
            "errors",
            "bad",
            [
                (
                    "2 of 5 records failed validation.",
                    "Register would refuse them. Correct the values listed under Issues in your student record "
                    "system and export again.",
                )
            ],
        ),
        (
            summary_of(5, invalid=1, errors=1),
            {"dry_run": False, "actions": {"invalid": 1, "create": 4}, "outcomes": {"done": 4, "skipped": 1}},
            "errors",
            "bad",
            [
                (
                    "1 of 5 records failed validation.",
                    "Register would refuse it. It was not sent. Correct the values listed under Issues in your "
                    "student record system and export again.",
                )
            ],
        ),
        (
            summary_of(5, invalid=1, errors=1),
            {"dry_run": True, "actions": {"invalid": 1, "create": 4}, "outcomes": {"planned": 4, "skipped": 1}},
            "errors",
            "bad",
            [
                (
                    "1 of 5 records failed validation.",
                    "Register would refuse it. Correct the values listed under Issues in your student record system "
                    "and export again.",
                )
            ],
        ),
        # an error of the file, no record's: not called clean
        (summary_of(5, errors=1), None, "errors", "bad", [("1 error.", "See Issues.")]),
        (
            summary_of(5, warnings=2),
            None,
            "warnings",
            "warn",
            [
                (
                    "All 5 records pass Register's rules.",
                    "2 warnings to look at: Register accepts these records, but check each one.",
                )
            ],
        ),
        (summary_of(1), None, "clean", "good", [("The record passes Register's rules.", "Nothing to fix.")]),
        (
            summary_of(3),
            {"interrupted": True, "actions": {"create": 3}, "outcomes": {"done": 3}},
            "interrupted",
            "bad",
            [
                (
                    "This sync stopped before it finished.",
                    "3 of 3 records done. Run the same sync again: it carries on where this run stopped and "
                    "creates no one twice.",
                )
            ],
        ),
        (
            summary_of(3),
            {"interrupted": True, "actions": {"create": 3}, "outcomes": {"pending": 3}},
            "interrupted",
            "bad",
            [
                (
                    "This sync stopped before it finished.",
                    "0 of 3 records done, 3 not reached. Run the same sync again: it carries on where this run "
                    "stopped and creates no one twice.",
                )
            ],
        ),
        # why it stopped (report.json's sync.stopped), and what to do first
        (
            summary_of(3),
            {"interrupted": True, "stopped": {"by": "signal", "message": "x"}, "outcomes": {"done": 1, "pending": 2}},
            "interrupted",
            "bad",
            [
                (
                    "This sync was stopped before it finished (Ctrl-C or a signal).",
                    "1 of 3 records done, 2 not reached. Run the same sync again: it carries on where this run "
                    "stopped and creates no one twice.",
                )
            ],
        ),
        (
            summary_of(3),
            {"interrupted": True, "stopped": {"by": "register", "message": "Register stopped answering (GET /x)"}},
            "interrupted",
            "bad",
            [
                (
                    "This sync stopped before it finished.",
                    "0 of 3 records done (Register stopped answering (GET /x)). Once Register answers again, run the "
                    "same sync again: it carries on where this run stopped and creates no one twice.",
                )
            ],
        ),
        (
            summary_of(3),
            {"interrupted": True, "stopped": {"by": "token", "message": "POST /trainees -> 401"}},
            "interrupted",
            "bad",
            [
                (
                    "This sync stopped before it finished: Register refused the API token part-way.",
                    "0 of 3 records done. Get a token Register accepts (a revoked or expired one is refused), then "
                    "run the same sync again: it carries on where this run stopped and creates no one twice.",
                )
            ],
        ),
        (
            summary_of(3),
            {"actions": {"create": 1, "conflict": 2}, "outcomes": {"done": 1, "skipped": 2}},
            "conflict",
            "bad",
            [
                (
                    "2 records could not be matched safely to Register's trainees.",
                    "Nothing was written for them; Issues names the trainees in Register.",
                )
            ],
        ),
        # news of Register's side, with no warning of the extract's: still a box to read, never "Nothing to fix"
        (
            summary_of(3),
            {
                "actions": {"unchanged": 3},
                "outcomes": {"skipped": 3},
                "warnings": {"sync_held": 1, "sync_state_differs": 2},
                "unanswered_elsewhere": 2,
            },
            "warnings",
            "warn",
            [
                (
                    "2 earlier writes never answered, for records not in this extract.",
                    "What Register holds for each is under Sync results: a create may have made a trainee nobody "
                    "expects.",
                ),
                (
                    "2 records: in training in the extract, withdrawn or deferred in Register.",
                    "The API cannot reinstate anyone, so nothing was sent: decide which is right (see Records).",
                ),
                (
                    "1 record: a withdrawal or deferral waits until Register accepts it, or until its own date.",
                    "Each run sends it then (a withdrawal from the ITT start date; one dated ahead on its day); "
                    "nothing to do.",
                ),
                ("All 3 records pass Register's rules.", ""),
            ],
        ),
        (
            summary_of(1, warnings=1),
            {"actions": {"unchanged": 1}, "outcomes": {"skipped": 1}, "unanswered_elsewhere": 1},
            "warnings",
            "warn",
            [
                (
                    "1 earlier write never answered, for a record not in this extract.",
                    "What Register holds for each is under Sync results: a create may have made a trainee nobody "
                    "expects.",
                ),
                (
                    "The record passes Register's rules.",
                    "1 warning to look at: Register accepts these records, but check each one.",
                ),
            ],
        ),
        (
            summary_of(4),
            {"actions": {"create": 4}, "outcomes": {"done": 2, "failed": 1, "unknown": 1}},
            "unknown",
            "bad",
            [
                html_report._PER_RECORD["unknown"][0].format("1 record"),
                html_report._PER_RECORD["failed"][0].format("1 record"),
            ],
        ),
    ],
    ids=[
        "empty",
        "invalid",
        "invalid-not-sent",
        "invalid-dry-run",
        "file-error",
        "warnings",
        "clean",
        "interrupted",
        "interrupted-none-done",
        "stopped-by-a-signal",
        "stopped-by-register",
        "stopped-by-the-token",
        "conflict",
        "register-news-only",
        "one-unanswered",
        "unknown-then-failed",
    ],
)
def test_the_summary_box_says_what_needs_doing_worst_first(summary, sync, key, tone, lines):
    """The box at the top is all some people read: its counts and its words (who must act, and whether anything
    was sent) must be those of the run, the worst problem first."""
    status = html_report._status(summary, sync)
    assert (status.key, status.tone) == (key, tone)
    if key == "unknown":
        assert [strong for strong, _text in status.lines] == lines
    else:
        assert status.lines == lines


SAMPLES = Path(__file__).parents[2] / "samples"


def summary_box(doc: lxml.html.HtmlElement) -> str:
    [box] = texts(doc, '//*[@data-status="errors"]/p[1]')
    return box


def test_the_summary_sends_another_providers_records_to_its_token_and_never_to_the_srs(tmp_path):
    """review114 F1: the records are right as they are; a data officer told to correct them may give a partner's
    records their own UKPRN, which files the partner's trainees under their token."""
    validate_files([SAMPLES / "extract.xml"], as_of=date(2026, 11, 28), ukprn="10011911", report_dir=tmp_path)
    assert summary_box(page(tmp_path)) == (
        "12 of 12 records failed validation. They are another provider's (other_provider_record): send them with "
        "that provider's own token (Rules and fixes says when a training partner's go with yours). Do not change a "
        "record's UKPRN to yours."
    )


def test_the_summary_of_several_providers_records_asks_for_the_ukprn(tmp_path):
    """review114 F1: every record of inputs that mix providers is an error without --ukprn, whatever its data."""
    mixed = tmp_path / "mixed.xml"  # record 1 a partner's
    mixed.write_text((SAMPLES / "extract.xml").read_text(encoding="utf-8").replace("10052198", "10011911", 1))
    validate_files([mixed], as_of=date(2026, 11, 28), report_dir=tmp_path / "out")
    assert summary_box(page(tmp_path / "out")) == (
        "12 of 12 records failed validation. They are from inputs that hold several providers' records "
        "(several_providers): give your provider's UKPRN with --ukprn, and send the other providers' records with "
        "their own provider's token. Do not change a record's UKPRN to yours."
    )


def test_the_summary_does_not_say_register_refuses_a_record_only_register_batchs_checks_hold_back(tmp_path):
    """review114 F1: Register takes an unknown institution code, recording 'Other UK institution' (the issue says so):
    the box must not say Register would refuse the record."""
    doc = records_report(tmp_path, [("degrees_attributes[0].institution", "error", "unknown_institution")])
    assert summary_box(doc) == (
        "1 of 1 record failed validation. Register would not refuse it, but register-batch's checks found data "
        "Register would drop or replace without telling you, or that would go wrong later. Correct the values listed "
        "under Issues in your student record system and export again."
    )


def test_the_summary_counts_the_records_register_refuses_apart_from_the_others(tmp_path):
    """review114 F1: each kind of invalid record is named with its own count; the UKPRN is not among the values to
    correct when a record is another provider's."""
    builder = records_builder(
        [
            ("sex", "error", "invalid_code"),
            ("sex", "error", "invalid_code"),
            ("degrees_attributes[0].grade", "error", "unknown_degree_grade"),
            ("ukprn", "error", "other_provider_record"),
            ("email", "warning"),
        ]
    )
    doc = written_page(builder, tmp_path)
    assert summary_box(doc) == (
        "4 of 5 records failed validation. Register would refuse 2 of them. In 1 of them, register-batch's checks "
        "found data Register would drop or replace without telling you, or that would go wrong later. Correct the "
        "values listed under Issues, other than the UKPRN, in your student record system and export again. 1 of "
        "them is another provider's (other_provider_record): send it with that provider's own token (Rules and "
        "fixes says when a training partner's go with yours). Do not change a record's UKPRN to yours."
    )


def test_the_inputs_table_says_which_collections_layout_read_the_records(tmp_path):
    """An old extract's records are read by its collection's tags (hesa-formats.md §5 item 8): the report says so."""
    fixtures = Path(__file__).parents[1] / "fixtures" / "hesa_samples"
    inputs = [str(fixtures / "itt_record_C21053.xml"), str(fixtures / "itt_record_C22053.xml")]
    validate_files(inputs, report_dir=tmp_path)
    assert [i["vintages"] for i in load_report_json(tmp_path)["inputs"]] == [{"C21053": 1}, {"C22053": 1}]
    formats = texts(page(tmp_path), '//table[@id="input-table"]//td[@data-label="Format"]')
    assert formats == ["hesa-xml 1 in the C21053 layout", "hesa-xml 1 in the C22053 layout"]


def test_the_settings_name_the_academic_cycles_the_records_are_in_and_the_exports_they_need(tmp_path):
    """`export --academic-cycle` lists one cycle: the export of the current one missed the trainees begun in an earlier
    one, and nothing on the page named the cycles (review134 F4). Each input's `cycles`, added up, in the settings."""
    builder = ReportBuilder(api_version="v2026.1", as_of=date(2026, 11, 28))
    builder.finish(
        [
            InputInfo(path="first.csv", format="register-csv", records=3, cycles={2026: 2}),
            InputInfo(path="second.csv", format="register-csv", records=4, cycles={2024: 1, 2026: 3}),
        ]
    )
    assert [info["cycles"] for info in builder.header()["inputs"]] == [{"2026": 2}, {"2024": 1, "2026": 3}]
    doc = written_page(builder, tmp_path / "reports")
    assert texts(doc, '//dd[@id="cycles"]//li') == ["2024 to 2025: 1 record", "2026 to 2027: 5 records"]
    [said] = texts(doc, '//dd[@id="cycles"]')
    assert said.endswith("give it each of these, --academic-cycle 2024, --academic-cycle 2026.")


def test_a_layout_later_collections_kept_is_named_with_or_later(tmp_path):
    """review106 F5: a C24053 extract read "5 in the C23053 layout", as if the SRS had exported last year's layout:
    report.json's `C23053` is the layout of C23053 and every later collection (dry-run.md), which the page says."""
    fixtures = Path(__file__).parents[1] / "fixtures" / "hesa_samples"
    c24053 = tmp_path / "itt_record_C24053.xml"
    c24053.write_text(
        (fixtures / "itt_record_C23053.xml")
        .read_text(encoding="utf-8")
        .replace("<F_RECID>16053</F_RECID>", "<F_RECID>24053</F_RECID>"),
        encoding="utf-8",
    )
    inputs = [str(fixtures / "itt_record_C23053.xml"), str(c24053), str(fixtures / "itt_record_C22053.xml")]
    validate_files(inputs, report_dir=tmp_path / "report")
    assert [i["vintages"] for i in load_report_json(tmp_path / "report")["inputs"]] == [
        {"C23053": 1},
        {"C23053": 1},
        {"C22053": 1},
    ]
    formats = texts(page(tmp_path / "report"), '//table[@id="input-table"]//td[@data-label="Format"]')
    assert formats == [
        "hesa-xml 1 in the C23053 (or later) layout",
        "hesa-xml 1 in the C23053 (or later) layout",
        "hesa-xml 1 in the C22053 layout",
    ]


def records_builder(issues: list[tuple[str, ...]]) -> ReportBuilder:
    """One record of one.csv for each (field, severity[, code]): an error (`required` unless a code is given) or a
    warning (`too_long` unless given) on the field."""
    from datetime import date

    from register_batch.model import API_VERSION, Severity, SourceRef, TraineeRecord

    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    for number, (field, severity, *given) in enumerate(issues, start=1):
        record = TraineeRecord(
            source=SourceRef(input="one.csv", record=number, line=number + 1),
            data={"provider_trainee_id": f"SRS-{number}", "hesa_id": f"2510000{number:06d}"},
        )
        if severity == "error":
            code = given[0] if given else "required"
            record.issue(code, f"{field} can't be blank", field=field)
        else:
            code = given[0] if given else "too_long"
            record.issue(code, f"{field} is too long", field=field, value="x", severity=Severity.WARNING)
        builder.add_record(record)
    builder.finish([])
    return builder


def records_report(tmp_path: Path, issues: list[tuple[str, ...]]) -> lxml.html.HtmlElement:
    """The page of `records_builder(issues)`."""
    builder = records_builder(issues)
    return written_page(builder, tmp_path)


def many_records_report(tmp_path: Path, errors: int, warnings: int) -> lxml.html.HtmlElement:
    """`errors` records with an error on email, then `warnings` records with a warning on last_name."""
    return records_report(tmp_path, [("email", "error")] * errors + [("last_name", "warning")] * warnings)


def test_a_page_that_cannot_hold_every_issue_is_filled_with_errors_beside_the_few_warnings(tmp_path, monkeypatch):
    """A tenth of the rows is kept for warnings only while there are that many, and only once every record with
    errors has a row: 30 records with an error each fill a 20-row page, and the page says which records it lists."""
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 20)
    doc = many_records_report(tmp_path, errors=30, warnings=1)
    severities = [row.get("data-severity") for row in visible_rows(doc, "issue-table")]
    assert (severities.count("error"), severities.count("warning")) == (20, 0)
    assert texts(doc, '//*[@id="issue-count"]') == ["Showing 20 of 20 issues listed on this page (31 in all)"]
    [note] = texts(doc, '//*[@data-truncated="issues"]')
    assert "20 of the 30 errors and not the warning, the errors first" in note
    assert "Only 20 of the 30 records with errors have a row here: none after record 20 of one.csv." in note


def test_a_truncated_pages_filters_say_how_many_of_each_field_and_rule_it_holds(tmp_path, monkeypatch):
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 20)
    doc = many_records_report(tmp_path, errors=15, warnings=10)
    assert texts(doc, '//select[@id="f-field"]/option') == [
        "All fields",
        "email (15)",
        "last_name (10; 5 on this page)",
    ]
    assert texts(doc, '//select[@id="f-code"]/option')[1:] == ["required (15)", "too_long (10; 5 on this page)"]


def chart_rows(doc: lxml.html.HtmlElement, chart: str) -> list[tuple[str, int, str]]:
    """(label, issues, "N errors, N warnings") of each bar, top to bottom."""
    return [
        (" ".join(row.xpath("./th")[0].text_content().split()), int(row.get("data-total")), *texts(row, "./td[1]"))
        for row in doc.xpath(f'//table[@id="{chart}"]/tbody/tr')
    ]


def test_the_charts_name_the_ten_fields_and_rules_with_most_issues_and_fold_the_rest_into_one_bar(tmp_path):
    """Field f01 has 12 issues, f02 11, ... f12 one; f01 to f05 have one error each, the rest are warnings."""
    from register_batch.validation import CATALOGUE

    codes = sorted(CATALOGUE)[:12]  # each field's issues are of a rule of their own, for the rule chart
    issues = []
    for rank in range(12):
        field, code = f"f{rank + 1:02d}", codes[rank]
        issues += [(field, "error", code)] * (rank < 5) + [(field, "warning", code)] * (12 - rank - (rank < 5))
    doc = records_report(tmp_path, issues)
    assert [label for label, _total, _split in chart_rows(doc, "chart-rule")] == [*codes[:10], "2 other rules"]
    assert chart_rows(doc, "chart-field") == [
        ("f01", 12, "1 error, 11 warnings"),
        ("f02", 11, "1 error, 10 warnings"),
        ("f03", 10, "1 error, 9 warnings"),
        ("f04", 9, "1 error, 8 warnings"),
        ("f05", 8, "1 error, 7 warnings"),
        ("f06", 7, "0 errors, 7 warnings"),
        ("f07", 6, "0 errors, 6 warnings"),
        ("f08", 5, "0 errors, 5 warnings"),
        ("f09", 4, "0 errors, 4 warnings"),
        ("f10", 3, "0 errors, 3 warnings"),
        ("2 other fields", 3, "0 errors, 3 warnings"),  # f11 and f12
    ]
    assert doc.xpath('//table[@id="chart-field"]/tbody/tr[last()]/th/a') == []  # "other" is no filter
    # Each bar is as long as its count, in % of the longest (f01's): its error part first, then its warnings.
    widths = [
        tuple(float((row.xpath(f'.//*[@class="bar-{kind}"]/@width') or ["0"])[0]) for kind in ("error", "warning"))
        for row in doc.xpath('//table[@id="chart-field"]/tbody/tr')
    ]
    assert widths[0] == pytest.approx((8.3, 91.7), abs=0.1) and widths[5] == pytest.approx((0, 58.3), abs=0.1)
    assert [round(sum(pair) * 12 / 100) for pair in widths[:-1]] == [
        total for _l, total, _s in chart_rows(doc, "chart-field")[:-1]
    ]
    assert widths[-1] == (0, 0)  # the "other" row, several fields in one, has no bar (review76 F10)
    assert doc.xpath('//table[@id="chart-field"]/tbody/tr[last()]//svg') == []


def test_a_long_tail_of_other_fields_does_not_make_the_named_bars_look_small(tmp_path):
    """review76 F10: with 32 other fields (76 issues) beside a top field of 29, the bars were scaled to the "other"
    row, the longest, so the fields a reader can click looked small beside a row that is not one field."""
    issues = [("f00", "error", "required")] * 5 + [(f"f{rank:02d}", "warning", "too_long") for rank in range(1, 40)]
    doc = records_report(tmp_path, issues)
    rows = doc.xpath('//table[@id="chart-field"]/tbody/tr')
    assert chart_rows(doc, "chart-field")[-1][:2] == ("30 other fields", 30)
    assert rows[0].xpath('.//*[@class="bar-error"]/@width') == ["100.0"]  # the longest named bar is full width
    assert rows[-1].xpath(".//svg") == []


@pytest.mark.parametrize("count", [10, 11])
def test_the_field_chart_names_every_field_when_at_most_one_would_be_folded(tmp_path, count):
    """A bar "1 other field" would hide a name for no gain in space. Fields with as many issues are listed by name."""
    doc = records_report(tmp_path, [(f"f{n:02d}", "error") for n in range(count, 0, -1)])
    assert [label for label, _total, _split in chart_rows(doc, "chart-field")] == [
        f"f{n:02d}" for n in range(1, count + 1)
    ]


def test_an_issue_row_names_its_file_and_keeps_the_whole_path_for_hovering(validation_builder, tmp_path):
    """The inputs are given as long paths: a row shows the file's name, with the path as its title."""
    validation_builder.write(tmp_path)
    rows = visible_rows(page(tmp_path), "issue-table")
    files = [row.xpath('.//span[@class="file"]')[0] for row in rows]
    assert {(texts(file, ".")[0], file.get("title")) for file in files} == {
        (Path(path).name, path) for path in VALIDATION_INPUTS
    }


def test_the_rules_table_counts_each_rules_errors_and_warnings(validation_builder, tmp_path):
    validation_builder.write(tmp_path)
    data, doc = load_report_json(tmp_path), page(tmp_path)
    found = Counter((issue["code"], issue["severity"]) for issue in data["issues"])
    rows = doc.xpath('//table[@id="rule-table"]/tbody/tr')
    shown = {
        row.get("data-code"): (texts(row, './td[@data-label="Errors"]'), texts(row, './td[@data-label="Warnings"]'))
        for row in rows
    }
    assert shown == {code: ([str(found[code, "error"])], [str(found[code, "warning"])]) for code, _ in found}
    assert {severity for _code, severity in found} == {"error", "warning"}


@pytest.mark.parametrize(
    ("issues", "order"),
    [
        ([("last_name", "warning"), ("email", "error")], ["required", "too_long"]),  # as many: by name
        ([("last_name", "warning"), ("email", "error"), ("last_name", "warning")], ["too_long", "required"]),
    ],
)
def test_the_rules_table_lists_the_rules_that_found_most_first(tmp_path, issues, order):
    doc = records_report(tmp_path, issues)
    assert doc.xpath('//table[@id="rule-table"]/tbody/tr/@data-code') == order


@pytest.mark.parametrize("kind", ["validate", "sync"])
def test_the_masthead_names_the_command_and_the_api_version(kind, validation_builder, make_sync_builder, tmp_path):
    from register_batch.model import API_VERSION

    (validation_builder if kind == "validate" else make_sync_builder()).write(tmp_path)
    assert texts(page(tmp_path), '//*[@class="masthead-sub"]') == [
        f"{kind} · Register trainee teachers API {API_VERSION}"
    ]


@pytest.mark.parametrize(
    ("command", "title"),
    [
        ("validate", "Validation report"),
        ("convert", "Conversion check"),
        ("sync", "Sync report"),
        ("audit", "Audit report"),
    ],
)
def test_the_heading_says_what_the_report_is_of(tmp_path, command, title):
    """A command the page has no title for (a newer one, a library user's) is named by itself."""
    from datetime import date

    from register_batch.model import API_VERSION
    from register_batch.reports import ReportBuilder

    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28), command=command)
    builder.finish([])
    doc = written_page(builder, tmp_path)
    assert texts(doc, "//h1") == [title] and doc.findtext(".//title").startswith(f"{title}: 0 records")


@pytest.mark.parametrize(
    ("dry_run", "actions"),
    [
        (False, ["Create", "Update", "Unchanged", "Withdraw", "Defer", "Conflict", "Blocked", "Invalid, not sent"]),
        (
            True,
            [
                "To create",
                "To update",
                "Unchanged",
                "To withdraw",
                "To defer",
                "Conflict",
                "Blocked",
                "Invalid, not sent",
            ],
        ),
    ],
)
def test_the_sync_cards_say_what_each_count_is(make_sync_builder, tmp_path, dry_run, actions):
    """A dry run's actions are what a real run would do: "To create", not "Create"."""
    make_sync_builder(dry_run=dry_run).write(tmp_path)
    doc = page(tmp_path)
    assert texts(doc, '//ul[@data-group="actions"]/li/span[@class="label"]') == actions
    assert texts(doc, '//ul[@data-group="outcomes"]/li/span[@class="label"]') == [
        "Nothing to send" if dry_run else "Done",  # a dry run's `done`: unchanged, as a real run gives it
        "Failed",
        "Unknown",
        "Skipped",
        "Planned",
        "Not reached (pending)",
    ]


def test_the_page_is_written_a_part_at_a_time_as_it_is_rendered():
    """A report of many issues never sits in memory whole: the page goes to its file in parts as it is made."""

    class Parts:
        def __init__(self) -> None:
            self.parts: list[str] = []

        def write(self, text: str) -> None:
            self.parts.append(text)

    out = Parts()
    builder = records_builder([("email", "error")] * 2000)
    try:
        html_report.write(out, builder)
    finally:
        builder.close()
    page_length = sum(map(len, out.parts))
    assert len(out.parts) > 2 and max(map(len, out.parts)) < page_length / 2
    assert lxml.html.fromstring("".join(out.parts)).xpath('//table[@id="issue-table"]/tbody/tr')


def test_a_card_splits_its_records_by_the_outcomes_they_have(make_sync_builder, tmp_path):
    """A record without an outcome (a library user's, the sync always gives one) is counted, not split as blank."""
    builder = make_sync_builder()
    updates = [row for row in builder.extra["records"] if row["action"] == "update"]
    assert [row["outcome"] for row in updates] == ["done", "done"]
    updates[0]["outcome"] = None
    builder.write(tmp_path)
    doc = page(tmp_path)
    assert card(doc, "actions", "update") == 2
    assert texts(doc, '//li[@data-count="update"]/span[@class="split"]') == ["1 done"]


def test_a_card_splits_its_records_in_the_order_of_the_outcome_cards_then_by_name(make_sync_builder, tmp_path):
    """Outcomes this page does not know yet (a newer sync's) come after the ones it does, by name."""
    builder = make_sync_builder()
    records = [row for row in builder.extra["records"] if row["action"] in ("update", "unchanged", "withdraw")]
    assert len(records) == 4
    for row, outcome in zip(records, ("zz_new", "pending", "aa_new", "unknown"), strict=True):
        row.update(action="update", outcome=outcome)
    builder.write(tmp_path)
    assert texts(page(tmp_path), '//li[@data-count="update"]/span[@class="split"]') == [
        "1 unknown, 1 not reached (pending), 1 aa_new, 1 zz_new"
    ]


def test_requests_by_route_are_listed_as_route_and_count(make_sync_builder, tmp_path):
    builder = make_sync_builder()
    builder.extra["sync"]["requests"] = {"total": 1540, "by_route": {"POST /trainees": 1500, "GET /trainees": 40}}
    builder.write(tmp_path)
    doc = page(tmp_path)
    assert texts(doc, "//*[@data-route]") == ["POST /trainees 1,500", "GET /trainees 40"]


@pytest.mark.parametrize("count", [1, 20, 21])
def test_the_trainees_register_holds_that_the_extract_lacks_are_counted_and_the_first_twenty_named(
    make_sync_builder, tmp_path, count
):
    builder = make_sync_builder()
    builder.extra["sync"]["not_in_extract"] = count
    builder.extra["not_in_extract"] = [
        {"trainee_id": f"trn-9{n:03d}", "hesa_id": f"25100000{n:05d}"} for n in range(count)
    ]
    builder.write(tmp_path)
    [notice] = texts(page(tmp_path), "//*[@data-not-in-extract]")
    named = ", ".join(f"trn-9{n:03d} (HUSID 25100000{n:05d})" for n in range(min(count, 20)))
    if count == 1:
        assert notice.startswith(
            f"1 trainee in Register is not in the extract (in the academic cycles it covers). "
            f"register-batch left it alone: {named}. "
        )
    else:
        more = ", …" if count > 20 else ""
        assert notice.startswith(
            f"{count} trainees in Register are not in the extract (in the academic cycles it "
            f"covers). register-batch left them alone: {named}{more}. "
        )


def test_a_trainee_register_holds_that_the_extract_lacks_is_named_by_its_srs_id_too(make_sync_builder, tmp_path):
    """The SRS is searched by SRS id: the notice named only Register's id and the HUSID (review54 F10)."""
    builder = make_sync_builder()
    builder.extra["sync"]["not_in_extract"] = 2
    builder.extra["not_in_extract"] = [
        {"trainee_id": "trn-1", "hesa_id": "2510000000001", "provider_trainee_id": "X1/1/26"},
        {"trainee_id": "trn-2", "hesa_id": None, "provider_trainee_id": "X2/1/26"},
    ]
    builder.write(tmp_path)
    [notice] = texts(page(tmp_path), "//*[@data-not-in-extract]")
    assert "left them alone: trn-1 (HUSID 2510000000001, SRS id X1/1/26), trn-2 (SRS id X2/1/26). " in notice


def test_the_records_filters_offer_each_action_and_outcome_the_records_have_with_its_count(make_sync_builder, tmp_path):
    builder = make_sync_builder()
    [failed] = [row for row in builder.extra["records"] if row["outcome"] == "failed"]
    failed["outcome"] = "pending"  # an interrupted run's record, as results.csv words it
    builder.write(tmp_path)
    doc = page(tmp_path)
    records = builder.extra["records"]
    assert texts(doc, '//select[@id="f-action"]/option') == ["All actions"] + [
        f"{action} ({count})" for action, count in sorted(Counter(row["action"] for row in records).items())
    ]
    assert texts(doc, '//select[@id="f-outcome"]/option') == [
        "All outcomes",
        "done (4)",
        "not reached (pending) (1)",
        "skipped (6)",
    ]


def test_a_sync_record_names_its_file_and_keeps_the_whole_path_for_hovering(make_sync_builder, tmp_path):
    builder = make_sync_builder()
    builder.write(tmp_path)
    rows = visible_rows(page(tmp_path), "record-table")
    files = [row.xpath('.//span[@class="file"]')[0] for row in rows]
    assert [(texts(file, ".")[0], file.get("title")) for file in files] == [
        (Path(row["input"]).name, row["input"]) for row in builder.extra["records"]
    ]


@pytest.mark.parametrize("interrupted", [False, True])
def test_the_sync_section_names_its_target_and_whether_the_run_was_interrupted(
    make_sync_builder, tmp_path, interrupted
):
    builder = make_sync_builder()
    builder.extra["sync"]["interrupted"] = interrupted
    builder.write(tmp_path)
    doc = page(tmp_path)
    [paragraph] = texts(doc, '//section[@id="sync"]/p[1]')
    assert paragraph.startswith("Target: http://127.0.0.1:8787/api/v2026.1 (embedded emulator). ")
    assert ("This run was interrupted: records marked “not reached” were not looked at." in paragraph) is interrupted
    assert ("(interrupted)" in doc.findtext(".//title")) is interrupted


def test_a_dry_runs_cards_are_not_split_by_outcome(make_sync_builder, tmp_path):
    """Every record of a dry run is planned: "1 planned" under each card would say nothing."""
    make_sync_builder(dry_run=True).write(tmp_path)
    doc = page(tmp_path)
    assert card(doc, "actions", "create") == 1 and not doc.xpath('//span[@class="split"]')


def test_a_sync_without_counts_of_some_kinds_shows_them_as_none(make_sync_builder, tmp_path):
    """A sync that gives no count of an action or outcome (none happened) or of trainees not in the extract."""
    builder = make_sync_builder()
    sync = builder.extra["sync"]
    sync["actions"] = {key: value for key, value in sync["actions"].items() if value}
    sync["outcomes"] = {key: value for key, value in sync["outcomes"].items() if value}
    assert "defer" not in sync["actions"] and "unknown" not in sync["outcomes"] and "not_in_extract" not in sync
    builder.write(tmp_path)
    doc = page(tmp_path)
    assert card(doc, "actions", "defer") == 0 and card(doc, "outcomes", "unknown") == 0
    assert not doc.xpath("//*[@data-not-in-extract]")


def test_a_records_table_too_long_for_the_page_keeps_the_records_most_in_need_of_a_look(
    make_sync_builder, tmp_path, monkeypatch
):
    """Failed, then unknown, conflicting, blocked, then changed records, then invalid ones (whose errors are under
    Issues: review54 F2); each kind in file order. Here the file lists them the other way round."""
    builder = make_sync_builder()
    template = builder.extra["records"][0]
    kinds = [
        ("unchanged", "done"),
        ("defer", "done"),
        ("withdraw", "done"),
        ("update", "done"),
        ("create", "done"),
        ("invalid", "skipped"),
        ("blocked", "skipped"),
        ("conflict", "skipped"),
        ("update", "unknown"),
        ("create", "failed"),
        ("update", "failed"),
    ]
    builder.extra["records"] = [
        {**template, "record": number, "line": number + 1, "action": action, "outcome": outcome, "errors": []}
        for number, (action, outcome) in enumerate(kinds, start=1)
    ]
    ranked = [9, 10, 8, 7, 6, 1, 2, 3, 4, 5, 0]  # places in the file (from 0), by need; the place breaks ties
    for limit in range(1, len(kinds)):
        monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", limit)
        builder.write(tmp_path / str(limit))
        rows = visible_rows(page(tmp_path / str(limit)), "record-table")
        assert [int(row.xpath("./td[1]/@data-sort-value")[0]) for row in rows] == sorted(ranked[:limit]), limit


def test_counts_in_the_thousands_read_with_separators(tmp_path):
    doc = records_report(tmp_path, [("email", "error")] * 1200)
    assert texts(doc, '//*[@id="issue-count"]') == ["Showing 1,200 of 1,200 issues"]


def test_each_issue_names_the_hesa_tag_its_field_was_read_from(tmp_path):
    """A data officer fixes the SRS, whose fields HESA's return named (F_SURNAME, F_SBJCA1, F_EXPECTEDENDDATE): the
    page named only Register's field (last_name, course_subject_1, itt_end_date), some far from the tag. Each issue
    of a HESA extract names the tags its field is read from, as the mapping in use has them; a Register CSV's
    columns are mostly Register's names already: only a column named otherwise is named."""
    fixtures = Path(__file__).parents[1] / "fixtures"
    extract = tmp_path / "extract.csv"  # a HESA-named CSV, its degree in numbered columns
    extract.write_text(
        "F_HUSID,F_OWNSTU,F_SURNAME,F_FNAMES,F_BIRTHDTE,F_SBJCA1,F_DEGTYPE_1,F_DEGSBJ1_1\n"
        "1401210131390,S1,,Ann,1990-01-01,G100,999,ZZZ\n",
        encoding="utf-8",
    )
    inputs = [
        str(fixtures / "hesa_samples" / "itt_record_C21053.xml"),
        str(extract),
        str(fixtures / "register_csv" / "five_trainees_with_three_errors.csv"),
    ]
    validate_files(inputs, report_dir=tmp_path / "out")
    doc = page(tmp_path / "out")
    named: dict[tuple[str, str], set[str]] = {}
    for row in visible_rows(doc, "issue-table"):
        where = " ".join(row.xpath('string(td[@data-label="Where"]/span[@class="file"])').split())
        field = row.xpath('string(td[@data-label="Field"]/code[@class="field"])')
        tags = row.xpath('td[@data-label="Field"]/span[@data-source]/code/text()')
        named.setdefault((where, field), set()).update(tags)
    assert named[("extract.csv", "last_name")] == {"F_SURNAME"}
    assert named[("extract.csv", "course_subject_1")] == {"F_SBJCA1"}
    assert named[("extract.csv", "degrees_attributes[0].subject")] == {"F_DEGSBJ1"}
    # C21053 records are read for the expected end date from F_EXPECTEDENDDATE, else F_ENDDATE; the layout had only
    # F_ENDDATE (F_EXPECTEDENDDATE came with C22053), the one named.
    assert named[("itt_record_C21053.xml", "itt_end_date")] == {"F_ENDDATE"}
    assert named[("itt_record_C21053.xml", "training_route")] == {"F_ENTRYRTE"}
    # A Register CSV's column is named where it is not the field's own name (review54 F3): `degree_grade`, not `sex`.
    register = {field: tags for (where, field), tags in named.items() if where.startswith("five_trainees")}
    assert register["degrees_attributes[0].grade"] == {"degree_grade"}
    assert not any(tags for field, tags in register.items() if "." not in field)


def _students(path: Path) -> str:
    """The Student elements of a HESA sample, as text."""
    text = path.read_text(encoding="utf-8")
    return text[text.index("<Student>") : text.rindex("</Student>") + len("</Student>")]


def test_an_issue_names_only_the_tags_of_the_layouts_its_input_was_read_with(tmp_path):
    """Beside a field, report.html named the tags of every layout the field can be read from: a C23053 (or C24053)
    extract without a start date was told `F_ITTSTARTDATE, F_ITTCOMDATE or F_COMDATE`, tags its collection does not
    have. An input whose records were all read with known layouts is told their tags only; one that mixes layouts
    is told those of each.

    The C22053 Student without a start date says its layout by its F_RECID, as a C22053 extract's does (the sample's
    is 16053, no collection): its NULL tags say nothing, as an SRS template's kept columns say nothing (review171
    F2), and without a start date nor F_RECID it would be read, and named, as a C23053 one."""
    samples = Path(__file__).parents[1] / "fixtures" / "hesa_samples"
    current = _students(samples / "itt_record_C23053.xml").replace(
        "<F_ITTSTARTDATE>2023-01-01</F_ITTSTARTDATE>", "<F_ITTSTARTDATE>NULL</F_ITTSTARTDATE>"
    )
    older = re.sub(
        r"<F_COMDATE>[^<]*</F_COMDATE>", "<F_COMDATE>NULL</F_COMDATE>", _students(samples / "itt_record_C22053.xml")
    ).replace("<F_RECID>16053</F_RECID>", "<F_RECID>22053</F_RECID>")
    assert "<F_ITTCOMDATE>NULL</F_ITTCOMDATE>" in older and "<F_ITTSTARTDATE>NULL" in current
    files = {"c23053.xml": [current], "c22053.xml": [older], "both.xml": [current, older]}
    for name, students in files.items():
        (tmp_path / name).write_text(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<ITTRecord>{"".join(students)}</ITTRecord>\n', encoding="utf-8"
        )
    validate_files([tmp_path / name for name in files], report_dir=tmp_path / "out")
    named: dict[str, list[tuple[str, ...]]] = {}
    for row in visible_rows(page(tmp_path / "out"), "issue-table"):
        if row.xpath('string(td[@data-label="Field"]/code[@class="field"])') == "itt_start_date":
            where = " ".join(row.xpath('string(td[@data-label="Where"]/span[@class="file"])').split())
            named.setdefault(where, []).append(
                tuple(row.xpath('td[@data-label="Field"]/span[@data-source]/code/text()'))
            )
    assert named["c23053.xml"] == [("F_ITTSTARTDATE",)]
    assert named["c22053.xml"] == [("F_ITTCOMDATE", "F_COMDATE")]
    assert named["both.xml"] == [("F_ITTSTARTDATE", "F_ITTCOMDATE", "F_COMDATE")] * 2


def test_the_tags_a_field_is_read_from_are_code_with_or_before_the_last():
    """As the page lists them after "from": commas between the tags, "or" before the last, each escaped."""
    from register_batch.reports.html_report import either_code

    assert either_code(()) == ""
    assert either_code(["F_SURNAME"]) == "<code>F_SURNAME</code>"
    assert either_code(("F_ITTCOMDATE", "F_COMDATE")) == "<code>F_ITTCOMDATE</code> or <code>F_COMDATE</code>"
    assert either_code(("F_A", "F_B", "F_<C>")) == "<code>F_A</code>, <code>F_B</code> or <code>F_&lt;C&gt;</code>"


def test_two_inputs_of_one_file_name_are_told_apart_in_the_rows(tmp_path):
    """review87 F1: each row named its input by file name alone, so the rows of a/extract.xml and b/extract.xml
    both said extract.xml (the full path only in a hover title). As much of the path as tells them apart is shown."""
    import shutil

    from click.testing import CliRunner

    from register_batch.cli import cli

    sample = Path(__file__).resolve().parents[2] / "samples" / "extract.xml"
    for folder in ("a", "b"):
        (tmp_path / "in" / folder).mkdir(parents=True)
        shutil.copy(sample, tmp_path / "in" / folder / "extract.xml")
    inputs = [str(tmp_path / "in" / folder / "extract.xml") for folder in ("a", "b")]
    result = CliRunner().invoke(
        cli, ["validate", *inputs, "--as-of", "2026-11-28", "--report-dir", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output  # the second copy's records are duplicates of the first's
    page = lxml.html.parse(str(tmp_path / "r" / "report.html"))
    shown = {span.text_content() for span in page.iterfind(".//table[@id='issue-table']//span[@class='file']")}
    assert shown == {"a/extract.xml", "b/extract.xml"}


def test_short_names_and_a_long_run_of_combining_marks():
    from register_batch.reports.html_report import short_names, shown

    assert short_names(["x/a/e.xml", "y/a/e.xml", "y/b/e.xml", "f.csv"]) == {
        "x/a/e.xml": "x/a/e.xml",
        "y/a/e.xml": "y/a/e.xml",
        "y/b/e.xml": "b/e.xml",
        "f.csv": "f.csv",
    }
    # review87 F3: 300 accents on one letter were drawn over the rows above; Vietnamese's two on a letter are kept.
    assert shown("a" + "\u0301" * 300) == "a" + "\u0301" * 4 + "<+296 combining marks>"
    assert shown("Nguye\u0302\u0303n") == "Nguye\u0302\u0303n"


# review106 F3: a value holding a bidi override, put raw into a sentence, reversed the rest of the paragraph.
RLO = "\u202e"


def isolated_ids(element: lxml.html.HtmlElement) -> list[str]:
    """The values of `element` in isolating `.id` elements (report.css: `unicode-bidi: isolate`), as shown."""
    return [node.text_content() for node in element.xpath('.//*[contains(concat(" ", @class, " "), " id ")]')]


def test_a_bidi_override_in_a_trainee_not_in_the_extract_is_named_and_isolated(make_sync_builder, tmp_path):
    """review106 F3: `SRS id \\u202e10/1/26-ABC).` in the notice showed the id as `CBA-62/1/01` and mirrored the
    sentence after it; a data officer would look for that id in the SRS."""
    builder = make_sync_builder()
    builder.extra["sync"]["not_in_extract"] = 1
    builder.extra["not_in_extract"] = [
        {"trainee_id": f"trn{RLO}9", "hesa_id": f"{RLO}2510000000001", "provider_trainee_id": f"{RLO}10/1/26-ABC"}
    ]
    builder.write(tmp_path)
    [notice] = page(tmp_path).xpath("//*[@data-not-in-extract]")
    assert RLO not in notice.text_content()
    assert isolated_ids(notice) == ["trn<U+202E>9", "<U+202E>2510000000001", "<U+202E>10/1/26-ABC"]
    assert "(HUSID <U+202E>2510000000001, SRS id <U+202E>10/1/26-ABC)." in " ".join(notice.text_content().split())
    # the files next to the page keep the value as it is
    assert load_report_json(tmp_path)["not_in_extract"][0]["provider_trainee_id"] == f"{RLO}10/1/26-ABC"


def test_a_bidi_override_in_an_earlier_write_never_answered_is_named_and_isolated(make_sync_builder, tmp_path):
    """review106 F3: the list of earlier writes never answered put its HUSID, SRS id and note (Register's trainee
    ids) into the sentence as they were."""
    builder = make_sync_builder()
    builder.extra["unanswered_elsewhere"] = [
        {
            "hesa_id": f"{RLO}2510000000001",
            "provider_trainee_id": f"{RLO}10/1/26-ABC",
            "operation": "withdraw",
            "status": "unknown",
            "trainee_id": f"trn{RLO}9",
            "updated_at": "2026-11-27T10:00:00+00:00",
            "run_id": 1,
            "settled": None,
            "note": f"the withdraw for trainee trn{RLO}9 may or may not have been carried out: check it in Register",
        }
    ]
    builder.write(tmp_path)
    [notice] = page(tmp_path).xpath("//*[@data-unanswered]")
    assert RLO not in notice.text_content()
    [item] = notice.xpath(".//li")
    assert isolated_ids(item) == ["<U+202E>2510000000001", "<U+202E>10/1/26-ABC"]
    assert "trainee trn<U+202E>9 may or may not" in item.text_content()
    [note] = item.xpath(".//bdi")  # the note as a whole is isolated too: it ends the item's sentence
    assert note.text_content().startswith("the withdraw for trainee")


def test_registers_trainee_id_and_message_are_named_wherever_the_page_shows_them(make_sync_builder, tmp_path):
    """review106 F3, every place a value from Register reaches the page: a record's Register id (isolated but not
    named) and the message of the run's stop, in the Sync results and in the summary box."""
    builder = make_sync_builder()
    [row] = [row for row in builder.extra["records"] if row["trainee_id"]][:1]
    row["trainee_id"] = f"trn{RLO}9"
    builder.extra["sync"]["interrupted"] = True
    builder.extra["sync"]["stopped"] = {"by": "register", "message": f"Register stopped answering ({RLO}oops)"}
    builder.write(tmp_path)
    doc = page(tmp_path)
    assert RLO not in doc.text_content()
    assert "trn<U+202E>9" in isolated_ids(doc.xpath('//table[@id="record-table"]')[0])
    [stopped] = doc.xpath("//*[@data-stopped]")
    assert stopped.tag == "bdi" and stopped.text_content() == "Register stopped answering (<U+202E>oops)"
    [box] = doc.xpath('//section[@id="summary"]/div[contains(@class, "status")]')
    assert "(Register stopped answering (<U+202E>oops))" in box.text_content()


@pytest.mark.parametrize("separator", ["\u2028", "\u2029"])
def test_a_line_or_paragraph_separator_in_a_value_is_named_not_shown_as_a_space(make_sync_builder, tmp_path, separator):
    """review106 F2: `Akh\\u2028tar` sent to Register read `Akhtar → Akh tar` in the Changes column: a browser draws
    the line separator as a space, so the reader could not tell a line break went to Register."""
    named = f"<U+{ord(separator):04X}>"
    doc = one_record_report(tmp_path / "validate", f"Akh{separator}tar", field="last_name")
    assert texts(doc, '//code[@class="value"]') == [f"Akh{named}tar"]
    builder = make_sync_builder()
    [row] = [row for row in builder.extra["records"] if row["action"] == "update"][:1]
    row["changes"] = [{"field": "last_name", "register": "Akhtar", "source": f"Akh{separator}tar"}]
    builder.write(tmp_path / "sync")
    changed = '//ul[@class="changes"]/li[contains(string(span[@class="from"]), "Akhtar")]'
    [change] = page(tmp_path / "sync").xpath(changed)
    assert change.xpath('string(.//span[@class="to"])').endswith(f"Akh{named}tar")


def test_a_dry_runs_summary_box_does_not_claim_to_be_the_first_to_list_earlier_writes():
    """review106 F4: a dry run, then the real run, each said "this report is the first to list them" of the same
    earlier writes: the dry run settles nothing, so the real run names them again. The dry run says so."""
    sync = {"actions": {"unchanged": 7}, "outcomes": {"planned": 7}, "warnings": {"sync_written_earlier": 7}}
    strong = html_report._SYNC_WARNINGS["sync_written_earlier"][0].format("7 records")
    real = html_report._status(summary_of(7), sync)
    assert real.lines[0] == (strong, "Register holds each once; this report is the first to list them (see Records).")
    dry = html_report._status(summary_of(7), {**sync, "dry_run": True})
    assert dry.lines[0] == (
        strong,
        "Register holds each once; a dry run settles nothing, so the next real run's report is the first to list "
        "them (see Records).",
    )


@pytest.mark.parametrize(
    ("sync", "plural", "singular"),
    [
        (
            {"actions": {"conflict": 1}, "outcomes": {"skipped": 1}},
            "Nothing was written for them; Issues names the trainees in Register.",
            "Nothing was written for it; Issues names the trainees in Register.",
        ),
        (
            {"actions": {"unchanged": 1}, "outcomes": {"done": 1}, "warnings": {"sync_written_earlier": 1}},
            "Register holds each once; this report is the first to list them (see Records).",
            "Register holds it once; this report is the first to list it (see Records).",
        ),
        (
            {"actions": {"unchanged": 1}, "outcomes": {"done": 1}, "warnings": {"sync_found_done": 1}},
            "Someone made each in Register's service after this run listed the trainee; this run did not write them.",
            "Someone made it in Register's service after this run listed the trainee; this run did not write it.",
        ),
    ],
    ids=["conflict", "written-earlier", "found-done"],
)
def test_the_summary_box_speaks_of_one_record_as_it(sync, plural, singular):
    """review106 F6: "1 record could not be matched safely to Register's trainees. Nothing was written for them": the
    words after the count did not change with it."""
    [(_strong, one)] = [line for line in html_report._status(summary_of(1), sync).lines if "rules" not in line[0]]
    assert one == singular
    two = {key: {k: 2 * v for k, v in counts.items()} for key, counts in sync.items()}
    [(_strong, many)] = [line for line in html_report._status(summary_of(2), two).lines if "rules" not in line[0]]
    assert many == plural


WRITTEN_EARLIER = "written to Register (create) by sync run 2, which ended before its report"


def written_earlier_after_creates(builder, creates: int, earlier: int) -> list[dict]:
    """The builder's records as a run after a kill has them: `creates` records created, then `earlier` unchanged ones
    an earlier run wrote and left no report of (sync_written_earlier), last in the file."""
    template = next(row for row in builder.extra["records"] if row["action"] == "create")
    rows = [
        {**template, "record": number, "line": number + 1, "action": "create", "outcome": "done", "errors": []}
        for number in range(1, creates + 1)
    ]
    rows += [
        {
            **template,
            "record": number,
            "line": number + 1,
            "action": "unchanged",
            "outcome": "done",
            "errors": [],
            "warnings": [WRITTEN_EARLIER],
        }
        for number in range(creates + 1, creates + earlier + 1)
    ]
    builder.add_batch_issues(  # each with its issue, as the sync adds them (sync/runner.py _add_sync_issues)
        (
            len(builder.extra["records"]) + row["record"],
            make_issue(
                input=row["input"],
                record=row["record"],
                line=row["line"],
                code="sync_written_earlier",
                severity=Severity.WARNING,
                message=WRITTEN_EARLIER,
            ),
        )
        for row in rows[creates:]
    )
    builder.extra["records"] = rows
    builder.extra["sync"].update(
        actions={"create": creates, "unchanged": earlier},
        outcomes={"done": creates + earlier},
        warnings={"sync_written_earlier": earlier},
    )
    return rows


def test_the_records_the_summary_box_sends_people_to_are_listed_before_the_writes(
    make_sync_builder, tmp_path, monkeypatch
):
    """review134 F6: after a kill, the summary said 1,025 records written by the killed run were listed "(see Records)",
    and the page, full of creates, listed none of them. They come before the writes."""
    builder = make_sync_builder()
    written_earlier_after_creates(builder, creates=8, earlier=2)
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 4)
    doc = written_page(builder, tmp_path)
    rows = visible_rows(doc, "record-table")
    assert [row.get("data-action") for row in rows] == ["create", "create", "unchanged", "unchanged"]
    [said] = [line for line in texts(doc, "//div[@data-status]/p") if "written by an earlier sync" in line]
    assert said.endswith("this report is the first to list them (see Records).")


def test_the_summary_box_says_where_the_records_it_names_are_when_the_page_cannot_list_them_all(
    make_sync_builder, tmp_path, monkeypatch
):
    """review134 F6: when even the records the summary names do not fit, it says how many Records lists, and where the
    rest are, rather than "(see Records)"."""
    builder = make_sync_builder()
    written_earlier_after_creates(builder, creates=3, earlier=5)
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 2)
    doc = written_page(builder, tmp_path)
    assert [row.get("data-action") for row in visible_rows(doc, "record-table")] == ["unchanged", "unchanged"]
    [said] = [line for line in texts(doc, "//div[@data-status]/p") if "written by an earlier sync" in line]
    assert said.endswith(
        "this report is the first to list them (Records lists 2 of the 5 records; issues.csv and report.json list them "
        "all, under the code sync_written_earlier)."
    )


def test_an_interrupted_runs_withdraw_and_defer_cards_count_the_plan_as_the_create_card_does(
    make_sync_builder, tmp_path
):
    """review134 F3: stopped part-way, the Create card counted every planned create (done and not reached), the
    Withdraw card only the withdrawals done: 67 of 539. Each counts the plan (report.json's `sync.joined`) and says
    how its records ended."""
    builder = make_sync_builder()
    builder.extra["sync"].update(
        interrupted=True,
        joined={
            "withdraw": {"create": {"done": 67, "pending": 472}},
            "defer": {"create": {"done": 49, "pending": 319}, "update": {"done": 2}},
        },
    )
    doc = written_page(builder, tmp_path)
    actions = builder.extra["sync"]["actions"]
    assert card(doc, "actions", "withdraw") == actions.get("withdraw", 0) + 539
    assert card(doc, "actions", "defer") == actions.get("defer", 0) + 370
    assert texts(doc, '//li[@data-count="withdraw"]/span[@class="split joined"]') == [
        "539 with their creation: 67 done, 472 not reached (pending)"
    ]
    assert texts(doc, '//li[@data-count="defer"]/span[@class="split joined"]') == [
        "368 with their creation: 49 done, 319 not reached (pending); 2 with their update"
    ]


def _contrast(one: str, other: str) -> float:
    """WCAG 2's contrast ratio of two #rrggbb colours (relative luminance)."""

    def luminance(colour: str) -> float:
        channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_warning_colour_has_the_contrast_the_stylesheet_promises():
    """review174 F4: report.css promises lines and bars of at least 3:1, and --warn (#f47738), the edge of a warning
    row, the Warnings card and the warn status box, was 2.78:1 on white. It is at least 3:1 on every background it
    edges (white, the even rows', the status box's, a hovered row's), and still not the error red."""
    css = (Path(html_report.__file__).parent / "templates" / "report.css").read_text(encoding="utf-8")
    colours = dict(re.findall(r"--([a-z]+): (#[0-9a-f]{6})", css))
    for background in ("#ffffff", "#fafafa", "#f3f2f1", "#f0f4f8"):
        assert _contrast(colours["warn"], background) >= 3, background
    assert colours["warn"] != colours["error"]
    assert colours["warn"] in css.split("*/", 1)[0]  # the ratios are given in the comment at the top, for this colour


def test_a_capped_pages_chart_names_no_link_to_rows_it_does_not_hold(validation_builder, tmp_path, monkeypatch):
    """review174 F2: past the row cap, a warning-only rule's bar still linked to the table, which then showed none of
    its issues ("None of the 5,000 issues on this page match"). Such a bar is no link, and says where its issues are;
    a bar with rows on the page is a link, as before."""
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 3)
    doc = written_page(validation_builder, tmp_path)
    rows = visible_rows(doc, "issue-table")
    held = {
        "field": Counter(row.get("data-field") for row in rows),
        "code": Counter(row.get("data-code") for row in rows),
    }
    off_page = 0
    for chart, key in (("chart-field", "field"), ("chart-rule", "code")):
        for bar in doc.xpath(f'//table[@id="{chart}"]/tbody/tr[@data-key!=""]'):
            links = bar.xpath(".//a[@data-filter]")
            if held[key][bar.get("data-key")]:
                assert [link.get("data-value") for link in links] == [bar.get("data-key")]
            else:
                off_page += 1
                assert links == [] and "none on this page: see issues.csv" in bar.text_content(), bar.get("data-key")
    assert off_page


def test_chart_links_say_without_the_script_only_where_they_go(validation_builder, tmp_path):
    """review174 F6: as written (the script not yet run) a chart name's title said "Show only these issues", which only
    the script does; without it the link goes to the whole table."""
    doc = written_page(validation_builder, tmp_path)
    titles = {link.get("title") for link in doc.xpath('//section[@id="charts"]//a[@data-filter]')}
    assert titles == {"Go to the Issues table"}


def test_the_action_filter_offers_each_withdrawal_and_deferral_the_cards_count(make_sync_builder, tmp_path):
    """review174 F5: the Withdraw card counted 3 trainees withdrawn with their creation (action create), and the Action
    filter offered only create and invalid. It offers withdraw and defer too, matching rows by their steps."""
    builder = make_sync_builder()
    rows = builder.extra["records"]
    done = [r for r in rows if r["outcome"] == "done"]
    for row in done[:2]:
        row.update(action="create", changes=[{"field": "state", "register": None, "source": "withdrawn"}])
    done[2].update(action="update", changes=[{"field": "state", "register": "trn_received", "source": "deferred"}])
    doc = written_page(builder, tmp_path)
    options = dict(
        zip(
            doc.xpath('//select[@id="f-action"]/option/@value'),
            texts(doc, '//select[@id="f-action"]/option'),
            strict=True,
        )
    )
    withdraw, defer = card(doc, "actions", "withdraw"), card(doc, "actions", "defer")
    plain = builder.extra["sync"]["actions"]
    assert options["withdraw"] == f"withdraw ({withdraw}, 2 with their creation)"
    assert options["defer"] == (
        f"defer ({defer}, all with its update)" if defer == 1 else f"defer ({defer}, 1 with its update)"
    )
    steps = [row.get("data-steps").split() for row in visible_rows(doc, "record-table")]
    assert sum("withdraw" in s for s in steps) == withdraw == plain["withdraw"] + 2
    assert sum("defer" in s for s in steps) == defer
    assert options["create"].startswith(f"create ({sum('create' in s for s in steps)}")


COURSE_ENDED = (
    "creates a trainee whose course ended on 2023-07-31 (itt_end_date), before the academic year before the as-of "
    "date's began: is the extract another academic year's? Register keeps the trainee in training until recommended "
    "or withdrawn"
)


def course_ended_after_creates(builder, creates: int, ended: int) -> None:
    """The builder's records as a dry run of a first load has them: `creates` records to create, the last `ended` of
    them of courses that had ended long before (sync_created_course_ended: a record warning each, and the run's)."""
    template = next(row for row in builder.extra["records"] if row["action"] == "create")
    rows = [
        {**template, "record": number, "line": number + 1, "action": "create", "outcome": "planned", "errors": []}
        for number in range(1, creates + 1)
    ]
    for row in rows[creates - ended :]:
        row["warnings"] = [COURSE_ENDED]
    builder.add_batch_issues(
        (
            len(builder.extra["records"]) + row["record"],
            make_issue(
                input=row["input"],
                record=row["record"],
                line=row["line"],
                code="sync_created_course_ended",
                severity=Severity.WARNING,
                message=COURSE_ENDED,
            ),
        )
        for row in rows[creates - ended :]
    )
    builder.extra["records"] = rows
    builder.extra["sync"].update(
        dry_run=True,
        actions={"create": creates},
        outcomes={"planned": creates},
        warnings={"sync_created_course_ended": ended},
        run_warnings=[
            {
                "code": "sync_created_course_ended",
                "count": ended,
                "message": f"{ended} trainees would be created whose course had ended before 2025-08-01 "
                "(itt_end_date): is the extract another academic year's? A real run sends them as the extract says: "
                "correct the SRS export first if it is the wrong year's",
            }
        ],
    )


def course_ended_line(doc) -> str:
    [said] = [line for line in texts(doc, "//div[@data-status]/p") if "whose course had ended" in line]
    return said


def test_a_capped_page_lists_the_records_a_run_warning_names_before_the_writes(
    make_sync_builder, tmp_path, monkeypatch
):
    """review223 F3: a 20,000-record dry run's summary box named 75 trainees "would be created whose course had ended",
    and its 5,000 Records rows held none of them (creates ranked first). They rank as the records the box sends people
    to, and the line says "(see Records)"."""
    builder = make_sync_builder()
    course_ended_after_creates(builder, creates=8, ended=2)
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 4)
    doc = written_page(builder, tmp_path)
    rows = visible_rows(doc, "record-table")
    assert [row.xpath('string(td[@data-label="Where"]//span[@class="sub"])') for row in rows][-2:] == [
        "record 7, line 8",
        "record 8, line 9",
    ]
    assert course_ended_line(doc).endswith("correct the SRS export first if it is the wrong year's (see Records).")


def test_a_run_warnings_line_says_where_its_records_are_when_the_page_lists_fewer(
    make_sync_builder, tmp_path, monkeypatch
):
    """review223 F3: when the page cannot list every record a run warning names, its line says how many Records lists,
    and that results.csv and issues.csv hold them all, rather than sending people to a table without them."""
    builder = make_sync_builder()
    course_ended_after_creates(builder, creates=8, ended=5)
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 2)
    doc = written_page(builder, tmp_path)
    assert course_ended_line(doc).endswith(
        "wrong year's (Records lists 2 of the 5: results.csv and issues.csv list them all, under the code "
        "sync_created_course_ended)."
    )


def test_the_charts_say_each_bars_errors_and_warnings_in_words_not_by_colour_alone(validation_builder, tmp_path):
    """review223 F4 (WCAG 1.4.1): how many of a bar's issues were errors and how many warnings was only in the bar's
    colours (and a visually hidden span for screen readers). The words are shown under the bar."""
    doc = written_page(validation_builder, tmp_path)
    for chart in ("chart-field", "chart-rule"):
        cells = doc.xpath(f'//table[@id="{chart}"]/tbody/tr/td[@class="bar-cell"]')
        assert cells and not doc.xpath(f'//table[@id="{chart}"]/tbody//*[contains(@class, "visually-hidden")]')
        for cell in cells:
            [split] = cell.xpath('span[@class="bar-split"]')
            errors, warnings = re.fullmatch(r"([\d,]+) errors?, ([\d,]+) warnings?", split.text_content()).groups()
            total = cell.getparent().get("data-total")
            assert int(errors.replace(",", "")) + int(warnings.replace(",", "")) == int(total)


def test_commands_in_tool_written_sentences_are_shown_as_code_not_between_backticks():
    """review223 (nit): the summary box and issue messages showed `register-batch reference pull` between literal
    graves, which some screen readers read out; Rules and fixes shows the same as code. Only our commands: a user's
    value with backticks in a message stays as it is."""
    said = html_report.commands_as_code(
        "run `register-batch reference pull` and `register-batch reference diff`; value 'a`b` <c>'"
    )
    assert str(said) == (
        "run <code>register-batch reference pull</code> and <code>register-batch reference diff</code>; value "
        "&#39;a`b` &lt;c&gt;&#39;"
    )
    assert str(html_report.commands_as_code("`<script>` and `register-batch x<y`")) == (
        "`&lt;script&gt;` and <code>register-batch x&lt;y</code>"
    )


def test_the_summary_boxs_commands_are_code(tmp_path, make_sync_builder):
    builder = make_sync_builder()
    builder.extra["sync"]["warnings"] = {"register_did_not_keep_code": 1}
    doc = written_page(builder, tmp_path)
    [line] = doc.xpath('//div[@data-status]/p[contains(string(.), "Register held otherwise")]')
    assert line.xpath("code/text()") == ["register-batch reference pull", "register-batch reference diff"]
    assert "`" not in line.text_content()


def test_a_dry_runs_estimate_groups_its_thousands():
    """review223 (nit): "about 12317 requests" beside "12,312" everywhere else on the page."""
    estimate = {"requests": 12317, "seconds": 130.0, "rate": "10000/1", "reads": 5, "writes": 12312}
    assert html_report._estimate(estimate)["words"].startswith("about 12,317 requests,")


def test_failures_for_a_code_registers_lists_dropped_come_first_and_the_others_are_counted_apart():
    """review223 F1: a run Register stopped answering part-way, 7 of whose 8 failed records were refused (or held
    back) for a code its lists no longer have: one line for those, with the summary line's words (report.json's
    sync.lists_changed), then the one caught by the outage, not all 8 as refused at Register."""
    changed = {
        "records": 7,
        "refused": 1,
        "not_sent": 6,
        "codes": ["nationality 'IT'"],
        "message": "1 refused by Register and 6 not sent after the same refusal, for nationality 'IT': Register's "
        "code lists have changed since those in use, bundled v2026.1: run `register-batch reference pull` and "
        "`register-batch reference diff`",
    }
    sync = {
        "actions": {"create": 8},
        "outcomes": {"failed": 8},
        "stopped": {"by": "register", "message": "Register stopped answering"},
        "lists_changed": changed,
    }
    status = html_report._status(summary_of(8), sync)
    assert status.key == "failed"
    assert status.lines[0] == (
        "7 records not written: Register no longer lists a code they give.",
        "1 refused by Register and 6 not sent after the same refusal, for nationality 'IT': Register's code lists "
        "have changed since those in use, bundled v2026.1: run `register-batch reference pull` and `register-batch "
        "reference diff`. Then give a code Register takes, in the SRS or a translation in your mapping file (each "
        "record's issue names its field), and run the same sync again.",
    )
    assert status.lines[1][0] == "1 other record not written to Register."
    # Every failure one of those: no line for others; a report without lists_changed (an older one) as before
    only = html_report._status(summary_of(7), {**sync, "outcomes": {"failed": 7}, "stopped": None})
    assert [strong for strong, _text in only.lines] == [status.lines[0][0]]
    older = html_report._status(summary_of(7), {"actions": {"create": 7}, "outcomes": {"failed": 7}})
    assert older.lines[0][0] == "7 records failed at Register."
