"""report.html in a real browser (headless Chromium): rendered counts, filters, sorting, phone layout.

Screenshots go to build/ (git-ignored) for CI to keep: report-1280.png and report-phone.png for the
validation report, report-sync-1280.png for a sync report.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from chromium_cdp import Browser, open_report, type_into, wait_until
from report_builders import HOSTILE_ID, HOSTILE_VALUE, SYNC_INPUTS, check, load_report_json, sync_extra

import register_batch.reports as reports
from register_batch.model import SourceRef, TraineeRecord

pytestmark = pytest.mark.browser

BUILD = Path(__file__).resolve().parents[2] / "build"
DESKTOP = (1280, 900)
PHONE = (390, 844)


def visible(browser: Browser, table: str) -> int:
    return browser.js(f"document.querySelectorAll('#{table} tbody tr:not([hidden])').length")


def shown_count(browser: Browser, status: str) -> int:
    return int(browser.js(f"document.querySelector('#{status} [data-shown]').textContent").replace(",", ""))


def choose(browser: Browser, select: str, value: str) -> None:
    """Pick an option as a user does: the select's value changes and a change event fires."""
    browser.js(
        f"(() => {{ const s = document.getElementById({json.dumps(select)}); s.value = {json.dumps(value)};"
        " if (s.value !== " + json.dumps(value) + ") throw new Error('no such option: ' + s.value);"
        " s.dispatchEvent(new Event('change', {bubbles: true})); })()"
    )


def card_values(browser: Browser, group: str) -> dict[str, int]:
    found = browser.js(
        f"Object.fromEntries([...document.querySelectorAll('ul[data-group={group}] li')]"
        ".map(li => [li.dataset.count, li.querySelector('.value').innerText]))"
    )
    return {key: int(value.replace(",", "")) for key, value in found.items()}


def overflowing(browser: Browser) -> list[str]:
    """Elements sticking out of the viewport sideways, except inside a table's own scroller (.table-wrap)."""
    return browser.js(
        """(() => {
          const width = document.documentElement.clientWidth, out = [];
          if (document.documentElement.scrollWidth > width) out.push('page scrolls sideways: ' +
            document.documentElement.scrollWidth + ' > ' + width);
          for (const el of document.body.querySelectorAll('*')) {
            if (el.closest('.table-wrap, .visually-hidden, .skip-link')) continue;
            const box = el.getBoundingClientRect();
            if (box.width && (box.right > width + 0.5 || box.left < -0.5))
              out.push(el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' +
                Math.round(box.left) + '..' + Math.round(box.right));
          }
          for (const wrap of document.querySelectorAll('.table-wrap')) {
            const box = wrap.getBoundingClientRect();
            if (box.right > width + 0.5) out.push('table scroller itself is wider than the page');
          }
          return out;
        })()"""
    )


CONTRAST = """(() => {
  const rgba = (css) => {
    const parts = css.match(/rgba?\\(([^)]+)\\)/)[1].split(/[ ,\\/]+/).filter(Boolean).map(Number.parseFloat);
    return [parts[0], parts[1], parts[2], parts.length > 3 ? parts[3] : 1];
  };
  const luminance = ([r, g, b]) => {
    const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const colour = rgba(getComputedStyle(e).backgroundColor);
      if (colour[3] > 0) return colour;
    }
    return [255, 255, 255, 1];
  };
  const failures = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.visually-hidden, [hidden], .skip-link') || !el.getClientRects().length) continue;
    if (![...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    const a = luminance(rgba(style.color)), b = luminance(background(el));
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    const size = Number.parseFloat(style.fontSize), bold = Number.parseInt(style.fontWeight, 10) >= 700;
    const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
    const text = el.textContent.trim().slice(0, 30);
    if (ratio < needed) failures.push(`${el.tagName}.${el.className} "${text}" ${ratio.toFixed(2)}`);
  }
  return failures;
})()"""


def expected(issues: list[dict[str, Any]], **criteria: str) -> int:
    return sum(all((issue[key] or "(file)") == value for key, value in criteria.items()) for issue in issues)


def test_validation_report_in_chromium(browser, validation_builder, tmp_path):
    validation_builder.write(tmp_path)
    data = load_report_json(tmp_path)
    issues, summary = data["issues"], data["summary"]
    total = len(issues)
    open_report(browser, tmp_path, DESKTOP)

    assert card_values(browser, "summary") == summary
    assert visible(browser, "issue-table") == shown_count(browser, "issue-count") == total
    assert browser.js("document.getElementById('issue-empty').hidden")
    assert browser.js(CONTRAST) == []  # WCAG AA: 4.5:1, or 3:1 for large text

    # The keyboard: the first Tab shows the skip link, with a visible focus indicator.
    browser.press_tab()
    focused = "document.activeElement"
    assert browser.js(f"{focused}.className") == "skip-link"
    assert browser.js(f"{focused}.getBoundingClientRect().left") >= 0
    assert browser.js(f"getComputedStyle({focused}).outlineStyle") == "solid"
    browser.js(f"{focused}.blur()")

    # Each filter alone, every option, against report.json.
    for select, key in (("f-severity", "severity"), ("f-field", "field"), ("f-code", "code"), ("f-input", "input")):
        values = Counter((issue[key] or "(file)") for issue in issues)
        assert len(values) > 1, key
        for value, count in values.items():
            choose(browser, select, value)
            assert visible(browser, "issue-table") == shown_count(browser, "issue-count") == count, (key, value)
        choose(browser, select, "")
    assert visible(browser, "issue-table") == total

    # Filters combine.
    choose(browser, "f-severity", "error")
    choose(browser, "f-field", "course_subject_1")
    assert visible(browser, "issue-table") == expected(issues, severity="error", field="course_subject_1") > 0
    browser.js("document.querySelector('form[data-table=issue-table] [data-clear]').click()")
    assert visible(browser, "issue-table") == total

    # Free text, typed: a HUSID finds that trainee's issues; nonsense finds none and says so.
    husid = "1996761576407"
    type_into(browser, "f-q", husid)
    want = sum(husid in json.dumps(issue) for issue in issues)
    wait_until(browser, f"document.querySelectorAll('#issue-table tbody tr:not([hidden])').length === {want}")
    assert 0 < want < total and shown_count(browser, "issue-count") == want
    type_into(browser, "f-q", "no such thing anywhere")
    wait_until(browser, "!document.getElementById('issue-empty').hidden")
    assert visible(browser, "issue-table") == 0
    browser.js("document.querySelector('#issue-empty button').click()")
    assert visible(browser, "issue-table") == total

    # A bar's name in a chart lists that rule's or field's issues.
    for chart, select, key, value in (
        ("chart-rule", "f-code", "code", "invalid_code"),
        ("chart-field", "f-field", "field", "course_subject_1"),
    ):
        browser.js(f"document.querySelector('#{chart} a[data-value={value}]').click()")
        assert browser.js(f"document.getElementById('{select}').value") == value
        assert visible(browser, "issue-table") == data_count(issues, key, value) > 0
        browser.js("document.querySelector('form[data-table=issue-table] [data-clear]').click()")

    # Sorting by rule puts errors first, then warnings first; Where restores file order.
    first = "document.querySelector('#issue-table tbody tr').dataset.severity"
    browser.js("document.querySelectorAll('#issue-table thead th')[3].querySelector('button').click()")
    assert browser.js(first) == "error"
    assert browser.js("document.querySelectorAll('#issue-table thead th')[3].getAttribute('aria-sort')") == "ascending"
    browser.js("document.querySelectorAll('#issue-table thead th')[3].querySelector('button').click()")
    assert browser.js(first) == "warning"
    browser.js("document.querySelectorAll('#issue-table thead th')[0].querySelector('button').click()")
    order = browser.js(
        "[...document.querySelectorAll('#issue-table tbody tr td:first-child')].map(td => +td.dataset.sortValue)"
    )
    assert order == sorted(order) and len(order) == total

    assert browser.page_errors() == []
    assert set(browser.requested_urls()) == {(tmp_path / "report.html").resolve().as_uri()}
    browser.screenshot(BUILD / "report-1280.png")

    # Phone: nothing sticks out sideways, the rows become readable cards, filters still work.
    open_report(browser, tmp_path, PHONE, mobile=True)
    assert browser.js("innerWidth") == PHONE[0]
    assert overflowing(browser) == []
    # The header row is a "Sort by" row of its buttons (review181 F1); the rules table's, with nothing to sort, hidden.
    assert browser.js("getComputedStyle(document.querySelector('#issue-table thead')).position") == "static"
    assert browser.js("getComputedStyle(document.querySelector('#rule-table thead')).position") == "absolute"
    assert browser.js("document.querySelector('#issue-table tbody tr').getBoundingClientRect().width") <= PHONE[0]
    choose(browser, "f-severity", "warning")
    assert visible(browser, "issue-table") == summary["warnings"]
    choose(browser, "f-severity", "")
    assert browser.page_errors() == []
    browser.screenshot(BUILD / "report-phone.png")

    # Without JavaScript the page is static but complete: every row shown, no dead filter controls.
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.open((tmp_path / "report.html").resolve().as_uri())
        assert browser.js("document.documentElement.className") == "no-js"
        assert visible(browser, "issue-table") == total
        assert browser.js("getComputedStyle(document.querySelector('form.filters')).display") == "none"
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", value=False)


def test_search_finds_an_id_pasted_from_the_csvs(browser, make_sync_builder, tmp_path):
    """issues.csv and results.csv write a HUSID as '7572897115906 (a spreadsheet would show 7.5729E+12); pasted from
    there into the page's search, it found nothing."""
    make_sync_builder().write(tmp_path)
    data = load_report_json(tmp_path)
    open_report(browser, tmp_path, DESKTOP)
    husid = next(issue["hesa_id"] for issue in data["issues"] if issue["hesa_id"])
    pasted = "'" + husid
    assert pasted in (tmp_path / "issues.csv").read_text(encoding="utf-8-sig")
    issues = sum(issue["hesa_id"] == husid for issue in data["issues"])
    type_into(browser, "f-q", pasted)
    wait_until(browser, f"document.querySelectorAll('#issue-table tbody tr:not([hidden])').length === {issues}")
    assert issues > 0 and shown_count(browser, "issue-count") == issues
    records = sum(record["hesa_id"] == husid for record in data["records"])
    type_into(browser, "f-record-q", pasted + " ")
    wait_until(browser, f"document.querySelectorAll('#record-table tbody tr:not([hidden])').length === {records}")
    assert records > 0 and shown_count(browser, "record-count") == records
    type_into(browser, "f-q", "'no-such-id")
    wait_until(browser, "!document.getElementById('issue-empty').hidden")


# HUSIDs a row shows otherwise than they are (review142 F2): bidi and isolate controls, line breaks, C0 controls,
# a stack of combining marks, and one longer than the 60 characters a Trainee cell shows.
ODD_IDS = (
    "\u202eevil\u202c\u2066iso",
    "nl\nsecond\r\nthird",
    "ctl\x01\x02\x7f\x1b[31m",
    "\U0001f600e" + "\u0301" * 7,
    "L" * 59 + "ong-id-" + "9" * 20,
)


def test_see_its_issues_lists_the_issues_of_a_record_whose_id_the_page_shows_otherwise(browser, tmp_path):
    """The Records table's "See its issues" searched the Issues table for the raw id, which a row shows with its
    invisible characters named (`<U+202E>`), its marks cut, or cut short, and which a search box drops line breaks
    from: for such a record it listed none. It searches for the id as the rows show it."""
    odd = []
    for number, husid in enumerate(ODD_IDS, start=40):
        record = TraineeRecord(
            source=SourceRef(input="odd.csv", record=number, line=number + 1), data={"hesa_id": husid}
        )
        record.issue("required", "first_names is required", field="first_names")
        odd.append(record)
    builder, records = check(SYNC_INPUTS, "sync", also=tuple(odd))
    builder.extra = sync_extra([*records, *odd], dry_run=False)
    try:
        builder.write(tmp_path)
    finally:
        builder.close()
    issues = load_report_json(tmp_path)["issues"]
    open_report(browser, tmp_path, DESKTOP)
    links = browser.js("document.querySelectorAll('#record-table a[data-filter=q]').length")
    found = []
    for index in range(links):
        browser.js(f"document.querySelectorAll('#record-table a[data-filter=q]')[{index}].click()")
        found.append(visible(browser, "issue-table"))
    # The odd records are the table's last; each has one issue, and no other row names its id.
    assert found[-len(ODD_IDS) :] == [sum(issue["hesa_id"] == husid for issue in issues) for husid in ODD_IDS]
    assert found[-len(ODD_IDS) :] == [1] * len(ODD_IDS) and all(found), found


def data_count(issues: list[dict[str, Any]], key: str, value: str) -> int:
    return sum(issue[key] == value for issue in issues)


def test_sync_report_in_chromium(browser, make_sync_builder, tmp_path):
    make_sync_builder().write(tmp_path)
    data = load_report_json(tmp_path)
    records = data["records"]
    open_report(browser, tmp_path, DESKTOP)

    assert card_values(browser, "summary") == data["summary"]
    assert card_values(browser, "actions") == data["sync"]["actions"]
    assert card_values(browser, "outcomes") == data["sync"]["outcomes"]
    assert visible(browser, "record-table") == shown_count(browser, "record-count") == len(records)
    for select, key in (("f-action", "action"), ("f-outcome", "outcome")):
        for value, count in Counter(record[key] for record in records).items():
            choose(browser, select, value)
            assert visible(browser, "record-table") == shown_count(browser, "record-count") == count, (key, value)
        choose(browser, select, "")

    # Drift for updates is on screen, field by field.
    choose(browser, "f-action", "update")
    drift = browser.js("document.querySelector('#record-table tbody tr:not([hidden]) .changes').innerText")
    assert "last_name" in drift and "Smith-Jones" in drift and "study_mode" in drift
    choose(browser, "f-action", "")

    # An invalid record links to its issues.
    choose(browser, "f-action", "invalid")
    browser.js("document.querySelector('#record-table tbody tr:not([hidden]) a[data-filter=q]').click()")
    husid = browser.js("document.getElementById('f-q').value")
    assert visible(browser, "issue-table") == sum(husid in json.dumps(issue) for issue in data["issues"]) > 0

    browser.js("document.querySelector('form[data-table=issue-table] [data-clear]').click()")
    browser.js("document.querySelector('form[data-table=record-table] [data-clear]').click()")

    # Values crafted to break out of the markup are shown as text and run nothing.
    assert browser.js("typeof window.__pwned") == "undefined"
    text = browser.js("document.body.innerText")
    assert HOSTILE_VALUE in text and HOSTILE_ID in text
    assert browser.page_errors() == []  # a blocked injected script would show up here as a CSP error
    assert set(browser.requested_urls()) == {(tmp_path / "report.html").resolve().as_uri()}
    browser.js("window.scrollTo(0, 0)")
    browser.screenshot(BUILD / "report-sync-1280.png")

    assert browser.js(CONTRAST) == []

    open_report(browser, tmp_path, PHONE, mobile=True)
    assert overflowing(browser) == []


def test_printed_report_cuts_no_issue_or_card_across_pages(browser, validation_builder, tmp_path):
    """Printed for a meeting, a page break fell in the middle of an issue, the summary or a count card, leaving
    half of it on each sheet."""
    validation_builder.write(tmp_path)
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        open_report(browser, tmp_path, (718, 1000))
        kept = browser.js(
            "[...document.querySelectorAll('#issue-table tbody tr, #rule-table tbody tr, .card, .status')]"
            ".map(e => getComputedStyle(e).breakInside)"
        )
        assert kept and set(kept) == {"avoid"}
        assert browser.js("getComputedStyle(document.querySelector('#issues-h')).breakAfter") == "avoid"
        assert browser.js("getComputedStyle(document.querySelector('form.filters')).display") == "none"
        assert overflowing(browser) == []
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")


def test_printed_report_keeps_the_issue_table_in_columns(browser, validation_builder, tmp_path):
    """A data officer printed a 300-record extract's report for a meeting: each issue came out as a phone's card,
    its five cells stacked with labels, two or three to an A4 sheet (67 sheets for 178 issues). On paper the table
    keeps its columns and its header row (repeated on each sheet), and a sheet holds several issues."""
    validation_builder.write(tmp_path)
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        open_report(browser, tmp_path, (718, 1000))  # A4 portrait's printable width at 96 dpi
        assert browser.js("getComputedStyle(document.querySelector('#issue-table thead')).display") == (
            "table-header-group"
        )
        assert set(
            browser.js(
                "[...document.querySelectorAll('#issue-table tbody tr')].map(tr => getComputedStyle(tr).display)"
            )
        ) == {"table-row"}
        heights = sorted(
            browser.js(
                "[...document.querySelectorAll('#issue-table tbody tr')].map(tr => tr.getBoundingClientRect().height)"
            )
        )
        assert heights[len(heights) // 2] < 1000 / 5, heights  # the median issue: five or more to a sheet
        assert overflowing(browser) == []
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")


PRINTED_HEADINGS = """[...document.querySelectorAll('#issue-table thead th, #record-table thead th')].map(th => [
  th.dataset.heading || th.textContent.trim(), getComputedStyle(th, '::before').content,
  th.querySelector('button') ? getComputedStyle(th.querySelector('button')).display : null])"""


def printed_pages(browser: Browser, folder: Path) -> list[str]:
    """report.html printed to PDF on A5 sheets, landscape (many of them), as the text of each sheet (pdftotext)."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("no pdftotext (Debian's poppler-utils) to read the printed pages")
    open_report(browser, folder, DESKTOP)
    pdf = folder / "report.pdf"
    data = browser.call("Page.printToPDF", paperWidth=8.27, paperHeight=5.83, marginTop=0.4, marginBottom=0.4)["data"]
    pdf.write_bytes(base64.b64decode(data))
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


def test_printed_tables_have_their_headings_on_every_sheet(browser, validation_builder, make_sync_builder, tmp_path):
    """Printed, the Issues and Records tables' header rows were blank on every sheet after the first: the script
    moves a sortable heading's text into a button, and Chromium leaves buttons out of the header row it repeats."""
    validation_builder.write(tmp_path / "validate")
    pages = printed_pages(browser, tmp_path / "validate")
    listing = [page for page in pages if re.search(r"record \d+,\s+line \d+", page)]
    assert len(listing) >= 3, "the issues should take several sheets"
    for page in listing:
        assert re.search(r"Where\s+Trainee\s+Field and value\s+Rule\s+Message and suggested fix", page), page[:300]

    make_sync_builder().write(tmp_path / "sync")
    pages = printed_pages(browser, tmp_path / "sync")
    records = re.compile(r"Where\s+Trainee\s+Action\s+Outcome\s+HTTP\s*Errors and")
    issues = re.compile(r"Where\s+Trainee\s+Field and value\s+Rule\s+Message and")
    listing = [page for page in pages if re.search(r"record \d+,\s+line \d+", page)]
    assert sum(bool(records.search(page)) for page in listing) >= 2, "the records should take several sheets"
    for page in listing:
        assert records.search(page) or issues.search(page), page[:300]


def test_printed_headings_are_text_not_buttons(browser, make_sync_builder, tmp_path):
    """As above, without reading a PDF: under print, a sortable heading shows its text, not its button."""
    make_sync_builder().write(tmp_path)
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        open_report(browser, tmp_path, (718, 1000))
        headings = browser.js(PRINTED_HEADINGS)
        assert len(headings) == 12
        for label, before, button in headings:
            if button is not None:  # a sortable heading: the script made it a button
                assert (before, button) == (json.dumps(label), "none"), label
            else:
                assert before == "none", label
        assert sum(button is not None for _label, _before, button in headings) == 10
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")
    open_report(browser, tmp_path, DESKTOP)  # on screen, the buttons, and no copy of the text
    assert {(before, button) for _label, before, button in browser.js(PRINTED_HEADINGS)} == {
        ("none", "inline-block"),
        ("none", None),
    }


def test_printed_rules_table_gives_the_fix_room(browser, validation_builder, tmp_path):
    """Printed, the Rules and fixes table squeezed 'Suggested fix' to a few words a line (its counts kept their
    screen widths, a third of an A4 sheet), and the Warnings heading broke in the middle of the word."""
    validation_builder.write(tmp_path)
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        open_report(browser, tmp_path, (718, 1000))  # A4 portrait's printable width at 96 dpi
        widths = browser.js(
            "[...document.querySelectorAll('#rule-table thead th')].map(th => th.getBoundingClientRect().width)"
        )
        assert widths[4] / sum(widths) >= 0.3, widths
        lines = browser.js(
            "[...document.querySelectorAll('#rule-table thead th')].map(th => {"
            " const r = document.createRange(); r.selectNodeContents(th);"
            " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; })"
        )
        assert lines == [1, 1, 1, 1, 1], lines
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")


def test_without_javascript_the_page_offers_no_filtering_it_cannot_do(browser, make_sync_builder, tmp_path):
    """With scripts off (a locked-down browser, a mail client's preview) a chart name or a record's "See its issues"
    only jumps to the whole Issues table: the page said "Select a name to list its issues" all the same."""
    make_sync_builder().write(tmp_path)
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.viewport(*DESKTOP)
        browser.open((tmp_path / "report.html").resolve().as_uri())
        assert browser.js("document.documentElement.className") == "no-js"
        text = browser.js("document.body.innerText")
        assert "list its issues" not in text and "See its issues" not in text
        assert "Issues counted by the field" in text  # the rest of the sentence stays
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", value=False)
    open_report(browser, tmp_path, DESKTOP)  # with scripts, both are offered
    text = browser.js("document.body.innerText")
    assert "Select a name to list its issues" in text and "See its issues" in text


def test_sort_arrows_are_not_read_and_the_chart_key_keeps_its_colours(browser, validation_builder, tmp_path):
    """review87 F4: a screen reader read each sortable heading as "Where, up down arrow"; aria-sort says the order.
    review87 F2: the key's swatches were CSS backgrounds, which forced colours (and printing) drop, while the bars
    keep theirs: a key of two empty boxes."""
    validation_builder.write(tmp_path)
    open_report(browser, tmp_path, DESKTOP)
    nodes = browser.call("Accessibility.getFullAXTree")["nodes"]
    buttons = [n.get("name", {}).get("value", "") for n in nodes if n.get("role", {}).get("value") == "button"]
    assert "Where" in buttons and "Trainee" in buttons, buttons
    assert not [name for name in buttons if any(arrow in name for arrow in "↕▲▼")], buttons
    colours = "[...document.querySelectorAll('.key')].map(k => getComputedStyle(k).backgroundColor)"
    on_screen = browser.js(colours)
    browser.call("Emulation.setEmulatedMedia", features=[{"name": "forced-colors", "value": "active"}])
    try:
        assert browser.js("matchMedia('(forced-colors: active)').matches")
        assert browser.js(colours) == on_screen and len(set(on_screen)) == 2, on_screen
    finally:
        browser.call("Emulation.setEmulatedMedia", features=[])


# Register takes an SRS id of up to 50 characters (register-api.md, provider_trainee_id); the review's was 29.
LONG_IDS = ("PGCE-SEC-2026/27-000123456/01", "SCITT" + "X" * 45)
IDS_IN_THEIR_CELLS = """[...document.querySelectorAll('#issue-table tbody .id, #record-table tbody .id')].map(id => {
  const cell = id.closest('td').getBoundingClientRect(), box = id.getBoundingClientRect();
  return [id.textContent, Math.round(box.right - cell.right), Math.round(box.left - cell.left)]; })"""


def test_a_printed_long_srs_id_stays_in_its_column(browser, make_sync_builder, tmp_path):
    """review106 F1: printed, `PGCE-SEC-2026/27-000123456/01` was drawn over the next column (the field name, and in
    the Records table its action tag over the id's tail, which read as another id): print kept an id on one line,
    sized for Register's 24-character ids. On paper as on screen, a long id wraps inside its cell."""
    builder = make_sync_builder()
    rows = builder.extra["records"]
    for row, long_id in zip(rows, LONG_IDS, strict=False):
        row["provider_trainee_id"] = long_id
    rows[0]["trainee_id"] = "2bd3b4c1d2e3f4a5b6c7d8e9"  # Register's own ids are 24 characters: kept whole
    long_issue = TraineeRecord(
        source=SourceRef(input="long.csv", record=1, line=2),
        data={"provider_trainee_id": LONG_IDS[1], "hesa_id": "2510000000001"},
    )
    long_issue.issue("invalid_code", "sex has invalid reference data value of '7'", field="sex", value="7")
    builder.add_record(long_issue)
    builder.write(tmp_path)
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        open_report(browser, tmp_path, (718, 1000))  # A4 portrait's printable width at 96 dpi
        placed = browser.js(IDS_IN_THEIR_CELLS)
        assert {text for text, _right, _left in placed} >= {*LONG_IDS, "2bd3b4c1d2e3f4a5b6c7d8e9"}
        assert [(text, right) for text, right, _left in placed if right > 0] == []
        lines = browser.js(
            "[...document.querySelectorAll('#record-table tbody .sub .id')].map(id => [id.textContent,"
            " id.getClientRects().length])"
        )
        assert [text for text, count in lines if count != 1] == [], lines  # Register's ids and HUSIDs whole
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")


# Each tag past its cell's right edge, by its text, in px: (text, px).
TAGS_PAST_THEIR_CELLS = """[...document.querySelectorAll('#record-table tbody td .tag, #issue-table tbody td .tag')]
  .filter(tag => tag.getClientRects().length)
  .map(tag => { const cell = tag.closest('td'), edge = cell.getBoundingClientRect().right;
    return [tag.textContent,
      Math.round(tag.getBoundingClientRect().right - edge + parseFloat(getComputedStyle(cell).paddingRight))]; })
  .filter(([_text, past]) => past > 0)"""
HEADINGS_PAST_THEIR_CELLS = """[...document.querySelectorAll('#record-table thead th')]
  .filter(th => th.scrollWidth > th.clientWidth).map(th => th.textContent)"""
# Each tag on more lines than it has words: a word broken in two ("uncha/nged").
TAGS_WITH_A_WORD_BROKEN = """[...document.querySelectorAll('#record-table tbody td .tag')].filter(tag => {
  const range = document.createRange(); range.selectNodeContents(tag);
  const lines = new Set([...range.getClientRects()].map(box => Math.round(box.top))).size;
  return lines > tag.textContent.trim().split(/\\s+/).length; }).map(tag => tag.textContent)"""


def every_outcome_label(builder, *, dry_run: bool) -> None:
    """Rows whose tags are the page's longest: a conflict, a record blocked by its state, one not reached, unchanged
    (a dry run's: unchanged, with nothing to send; a conflict)."""
    rows = builder.extra["records"]
    sent = [row for row in rows if row["outcome"] in ("done", "planned")]
    if dry_run:
        labels = [("unchanged", "done", None), ("conflict", "planned", None)]
    else:
        labels = [("create", "conflict", 409), ("update", "blocked", 422), ("create", "pending", None)]
        labels.append(("unchanged", "done", None))
    assert len(sent) >= len(labels)
    for row, (action, outcome, status) in zip(sent, labels, strict=False):
        row.update(action=action, outcome=outcome, http_status=status, warnings=["a warning beside the tag"])
    sync = builder.extra["sync"]
    sync["actions"] = dict(Counter(row["action"] for row in rows))
    sync["outcomes"] = dict(Counter(row["outcome"] for row in rows))


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_records_tags_stay_in_their_cells_on_every_screen_and_printed(browser, make_sync_builder, tmp_path, dry_run):
    """review174 F1: a tag never wrapped, and the Records table's columns are fixed: "conflict, not written" was drawn
    over its HTTP status 409 ("conflict, not w409ten"), "not reached (pending)" over its warning, a dry run's
    "unchanged" over "nothing to send". A tag wraps inside its cell, at every width the page is laid out for, and on
    paper."""
    builder = make_sync_builder(dry_run=dry_run)
    every_outcome_label(builder, dry_run=dry_run)
    builder.write(tmp_path)
    labels = {"nothing to send"} if dry_run else {"conflict, not written", "not reached (pending)", "unchanged"}
    for width in (800, 1024, 1440):
        open_report(browser, tmp_path, (width, 900))
        shown = set(browser.js("[...document.querySelectorAll('#record-table td .tag')].map(t => t.textContent)"))
        assert labels <= shown, shown
        assert browser.js(TAGS_PAST_THEIR_CELLS) == [], width
        assert browser.js(TAGS_WITH_A_WORD_BROKEN) == [], width
        # the narrower columns beside them keep their headings in their cells too
        assert browser.js(HEADINGS_PAST_THEIR_CELLS) == [], width
        if width == 1024 and not dry_run:
            browser.screenshot(BUILD / "report-sync-1024-tags.png")
    browser.call("Emulation.setEmulatedMedia", media="print")
    try:
        open_report(browser, tmp_path, (718, 1000))  # A4 portrait's printable width at 96 dpi
        assert browser.js(TAGS_PAST_THEIR_CELLS) == []
        assert browser.js(TAGS_WITH_A_WORD_BROKEN) == []
    finally:
        browser.call("Emulation.setEmulatedMedia", media="")


def test_the_action_filter_lists_the_withdrawals_the_withdraw_card_counts(browser, make_sync_builder, tmp_path):
    """review174 F5: the Withdraw card said 3 (withdrawn with their creation: action create), and the Action filter
    offered no withdraw; only a search for "withdraw" found them. The filter offers it, and lists those records."""
    builder = make_sync_builder()
    rows = builder.extra["records"]
    done = [row for row in rows if row["outcome"] == "done" and row["action"] in ("create", "update")]
    for row in done[:2]:
        row.update(action="create", changes=[{"field": "state", "register": None, "source": "withdrawn"}])
    builder.write(tmp_path)
    open_report(browser, tmp_path, DESKTOP)
    withdraw = card_values(browser, "actions")["withdraw"]
    assert withdraw == builder.extra["sync"]["actions"]["withdraw"] + 2
    choose(browser, "f-action", "withdraw")
    assert visible(browser, "record-table") == shown_count(browser, "record-count") == withdraw
    choose(browser, "f-action", "create")  # the two are creates too
    creates = sum(row["action"] == "create" for row in rows)
    assert visible(browser, "record-table") == shown_count(browser, "record-count") == creates


def test_a_capped_pages_filters_show_each_option_whole(browser, validation_builder, tmp_path, monkeypatch):
    """review174 F2: a closed select was at most 17rem wide, so a capped page's "spreadsheet_date (368; 0 on this page)"
    read "spreadsheet_date (368; 0 on", cut before the number that says the table holds none. Each option fits."""
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", 3)
    validation_builder.write(tmp_path)
    for width in (1024, 1440):
        open_report(browser, tmp_path, (width, 900))
        cut = browser.js(
            """[...document.querySelectorAll('#issues select')].flatMap(s => {
              const c = document.createElement('canvas').getContext('2d'); c.font = getComputedStyle(s).font;
              // the select's own text box: its width less its padding, border and the arrow (about 1.5em)
              const style = getComputedStyle(s);
              const room = s.clientWidth - parseFloat(style.paddingLeft) - 1.5 * parseFloat(style.fontSize);
              return [...s.options].filter(o => c.measureText(o.textContent).width > room).map(o => o.textContent);
            })"""
        )
        assert cut == [], (width, cut)
        assert browser.js(
            "[...document.querySelectorAll('#f-code option')].some(o => o.textContent.includes('0 on this page'))"
        )


CHART_TITLES = "[...document.querySelectorAll('#charts a[data-filter]')].map(a => a.title)"


def test_without_javascript_a_chart_link_says_only_where_it_goes(browser, validation_builder, tmp_path):
    """review174 F6: with scripts off, each chart name was a link titled "Show only these issues" that went to the
    whole, unfiltered Issues table. Without the script it says it goes to the table; the script makes it filter, and
    then says so."""
    validation_builder.write(tmp_path)
    browser.call("Emulation.setScriptExecutionDisabled", value=True)
    try:
        browser.viewport(*DESKTOP)
        browser.open((tmp_path / "report.html").resolve().as_uri())
        titles = browser.js(CHART_TITLES)
        assert titles and set(titles) == {"Go to the Issues table"}, titles
    finally:
        browser.call("Emulation.setScriptExecutionDisabled", value=False)
    open_report(browser, tmp_path, DESKTOP)
    assert set(browser.js(CHART_TITLES)) == {"Show only these issues"}
    browser.js("document.querySelector('#charts a[data-filter=code]').click()")
    code = browser.js("document.querySelector('#charts a[data-filter=code]').dataset.value")
    assert browser.js("document.getElementById('f-code').value") == code
