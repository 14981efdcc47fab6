"""report.html as a person uses it in headless Chromium: searching a truncated page, and printing (review54 F1, F5)."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from chromium_cdp import Browser, open_report, type_into, wait_until
from test_truncated_pages import AS_OF, generated, rows_of, run

import register_batch.reports as reports

pytestmark = pytest.mark.browser


SHOWN = "[...document.querySelectorAll('#issue-table tbody tr:not([hidden])')]"


def test_a_search_on_a_truncated_page_finds_each_record_with_errors_or_says_where_the_rest_are(
    browser, tmp_path, monkeypatch
):
    """Typed into Search, the HUSID of a record with errors near the end of a truncated page's extract gave "No
    issues match these filters": its errors were not on the page, and nothing said where they were."""
    extract = generated(tmp_path, 60, 1.0, 5405, "--vintage", "C21053")
    run("validate", str(extract), "--as-of", AS_OF, "--jobs", "1", "--report-dir", str(tmp_path / "whole"))
    issues = rows_of(tmp_path / "whole" / "issues.csv")
    erring = sorted({int(row["record"]) for row in issues if row["severity"] == "error"})
    monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", len(erring) + 5)
    run("validate", str(extract), "--as-of", AS_OF, "--jobs", "1", "--report-dir", str(tmp_path / "cut"))
    open_report(browser, tmp_path / "cut", (1280, 900))
    for record in erring[-3:]:  # the last records with errors: past any cap that keeps errors in file order
        [husid] = {row["hesa_id"].lstrip("'") for row in issues if row["record"] == str(record)}
        type_into(browser, "f-q", husid)
        wait_until(browser, f"{SHOWN}.every(tr => tr.textContent.includes({json.dumps(husid)})) && {SHOWN}.length > 0")
        assert "error" in browser.js(f"{SHOWN}.map(tr => tr.dataset.severity)"), record
        assert browser.js("document.getElementById('issue-empty').hidden")
    type_into(browser, "f-q", "no such trainee anywhere")
    wait_until(browser, "!document.getElementById('issue-empty').hidden")
    empty = browser.js("document.getElementById('issue-empty').innerText")
    assert f"issues.csv holds all {len(issues)}: search there." in empty
    assert browser.page_errors() == []


def printed_sheets(browser: Browser, folder: Path, height: float) -> list[str]:
    """The text of each sheet of report.html printed to PDF, A4's width and `height` inches high (pdftotext)."""
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("no pdftotext (Debian's poppler-utils) to read the printed pages")
    data = browser.call("Page.printToPDF", paperWidth=8.27, paperHeight=height, marginTop=0.4, marginBottom=0.4)
    pdf = folder / "report.pdf"
    pdf.write_bytes(base64.b64decode(data["data"]))
    text = subprocess.run([pdftotext, "-layout", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return text.split("\f")


HEADER = re.compile(r"Where\s+Trainee\s+Field and value\s+Rule\s+Message and")
ROW = re.compile(r"record \d+,")


def test_a_printed_issue_table_never_ends_a_sheet_with_its_header_row_alone(browser, tmp_path):
    """Printed, page 2 of a 300-record report ended with the Issues table's header row, its first row pushed to the
    next sheet. Whatever the sheet's height, the header row is printed above a row of the table."""
    extract = generated(tmp_path, 40, 0.2, 5404, "--vintage", "C21053")
    run("validate", str(extract), "--as-of", AS_OF, "--jobs", "1", "--report-dir", str(tmp_path / "r"))
    open_report(browser, tmp_path / "r", (1280, 900))
    alone = {}
    for height in [tenths / 10 for tenths in range(50, 121, 5)]:  # A5 landscape to US legal
        sheets = printed_sheets(browser, tmp_path / "r", height)
        assert sum(bool(HEADER.search(sheet)) for sheet in sheets) >= 2, height  # the header on each sheet of it
        ended = [
            n for n, sheet in enumerate(sheets, 1) if (m := HEADER.search(sheet)) and not ROW.search(sheet[m.end() :])
        ]
        if ended:
            alone[height] = ended
    assert alone == {}
