"""review234 F1: a code a mapping refuses (legacy.yaml's no_translation) that Register refuses too is Register's rule.

Register answers a record with course subject 101085 (HESA's, not in Register v2026.1's list) with 422 "course_subject_1
has invalid reference data value of '101085'. Example values include ..." (register-api.md §5.1-§5.2), whatever file
the record came from. The report labelled the mapping's error "register-batch's check", its summary said "Register would
not refuse it", and a HESA extract's message did not quote Register's words at all. A disability code Register does not
list it drops without a word (§5.3): that one stays register-batch's check.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.generate import generate
from register_batch.jobs import validate_files

AS_OF = date(2026, 12, 7)
REGISTERS_WORDS = (
    "course_subject_1 has invalid reference data value of '101085'. Example values include '100048', '100050', "
    "'100061', '100068', '100069', '100071', '100078', '100079', '100091', '100092'..."
)
REASON = "course_subject_1: course subject 101085 (specialist teaching primary with mathematics) was removed"


def one_record(tmp_path: Path, fmt: str, **values: str) -> Path:
    """A valid record (generate's seed 1: a primary trainee) in `fmt`, with the fields in `values` changed."""
    path = tmp_path / f"one.{'xml' if fmt == 'hesa-xml' else 'csv'}"
    generate(path, count=1, fmt=fmt, seed=1, as_of=AS_OF)
    text = path.read_text(encoding="utf-8")
    for field, value in values.items():
        if fmt == "hesa-xml":
            tag = {"course_subject_1": "F_SBJCA1", "disability1": "F_DISABLE1"}[field]
            text, found = re.subn(f"<{tag}>[^<]*</{tag}>", f"<{tag}>{value}</{tag}>", text)
        else:
            rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
            found = len(rows)
            rows[0][field] = f"'{value}"  # as generate writes codes (Register's upload strips one ')
            out = io.StringIO()
            writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
            writer.writeheader()
            writer.writerows(rows)
            text = out.getvalue()
        assert found == 1, (field, fmt)
    path.write_text(text, encoding="utf-8")
    return path


def validated(tmp_path: Path, path: Path) -> tuple[lxml.html.HtmlElement, list[dict]]:
    report_dir = tmp_path / "report"
    validate_files([path], as_of=AS_OF, report_dir=report_dir)
    page = lxml.html.fromstring((report_dir / "report.html").read_bytes())
    issues = json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["issues"]
    return page, issues


def summary_box(page: lxml.html.HtmlElement) -> str:
    [box] = page.xpath('//*[@data-status="errors"]/p[1]')
    return " ".join(box.text_content().split())


def checked_by(page: lxml.html.HtmlElement, code: str) -> list[str]:
    """Who decides, as each issue row of the code and the code's row of the rules table say it."""
    rows = page.xpath(f'//table[@id="issue-table"]//tr[@data-code="{code}"]')
    said = [" ".join(s.text_content().split()) for row in rows for s in row.xpath('.//span[@class="sub source"]')]
    [rule] = page.xpath(f'//table[@id="rule-table"]/tbody/tr[@data-code="{code}"]/td[@data-label="Source"]')
    return [*said, rule.text.strip()]


@pytest.mark.parametrize("fmt", ["hesa-xml", "register-csv"])
def test_a_subject_register_does_not_list_is_registers_own_rule_in_registers_words(tmp_path, fmt):
    page, issues = validated(tmp_path, one_record(tmp_path, fmt, course_subject_1="101085"))
    assert summary_box(page).startswith("1 of 1 record failed validation. Register would refuse it.")
    assert "Register would not refuse" not in summary_box(page)
    assert checked_by(page, "untranslatable_code") == ["Register's own rule", "Register's own rule"]
    [issue] = [i for i in issues if i["field"] == "course_subject_1"]
    assert issue["code"] == "untranslatable_code"
    assert issue["message"].startswith(f"{REGISTERS_WORDS} {REASON}")  # Register's words, then the tool's reason


@pytest.mark.parametrize("fmt", ["hesa-xml", "register-csv"])
def test_a_disability_register_does_not_list_stays_register_batchs_check(tmp_path, fmt):
    """Register takes the record and drops the code (register-api.md §5.3): the record is held back, but Register would
    not refuse it."""
    page, issues = validated(tmp_path, one_record(tmp_path, fmt, disability1="08"))
    assert [(i["field"], i["code"]) for i in issues if i["severity"] == "error"] == [
        ("disability1", "untranslatable_code_register_takes")
    ]
    assert summary_box(page).startswith(
        "1 of 1 record failed validation. Register would not refuse it, but register-batch's checks found data"
    )
    assert checked_by(page, "untranslatable_code_register_takes") == [
        "register-batch's check",
        "register-batch's check",
    ]


@pytest.mark.parametrize("changes", [{"course_subject_1": "101085"}, {"disability1": "08"}], ids=["101085", "08"])
@pytest.mark.parametrize("fmt", ["hesa-xml", "register-csv"])
def test_a_sync_sends_neither_as_before(tmp_path, fmt, changes):
    """Register's own rule or register-batch's check, the record is held back: never sent (dry-run.md)."""
    path = one_record(tmp_path, fmt, **changes)
    args = ["sync", str(path), "--state-dir", str(tmp_path / "state"), "--report-dir", str(tmp_path / "sync")]
    result = CliRunner().invoke(cli, [*args, "--as-of", AS_OF.isoformat()], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    assert "1 record: 1 invalid. 0 requests" in result.output
    [row] = csv.DictReader(io.StringIO((tmp_path / "sync" / "results.csv").read_text(encoding="utf-8-sig")))
    [(field, _value)] = changes.items()
    assert (row["action"], row["outcome"], row["requests"]) == ("invalid", "skipped", "0")
    assert row["errors"].startswith("the record failed validation and was not sent: untranslatable_code")
    assert f"({field})" in row["errors"]
