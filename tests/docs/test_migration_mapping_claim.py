"""docs/migration.md step 3: the record its mapping file mends is the one the page names.

The page said "Record 79's `M` is now translated": with the page's own our-srs.yaml, the record mended is 58, whose
`F` was the `sex` error of the issues.csv excerpt (79's error is its date of birth). The transcripts' counts are
checked by test_documented_commands.py; the sentence about them is checked here.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli

PAGE = Path(__file__).resolve().parents[2] / "docs" / "migration.md"
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def _issues(tmp_path: Path, name: str, *mapping: str) -> list[dict[str, str]]:
    """issues.csv of validate of defects.xml as the page runs it, by row."""
    report = tmp_path / name
    args = ["validate", str(SAMPLES / "defects.xml"), "--as-of", "2026-11-28", "--report-dir", str(report), *mapping]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1, result.output
    with open(report / "issues.csv", newline="", encoding="utf-8") as rows:
        return list(csv.DictReader(rows))


def test_the_record_the_page_says_its_mapping_mends_is_mended_by_it(tmp_path):
    text = PAGE.read_text(encoding="utf-8")
    yaml = re.search(r"```yaml file=our-srs\.yaml\n(.*?)```", text, re.S)
    claim = re.search(r"Record (\d+)'s `([^`]+)`[^.]*? is now translated", text)
    assert yaml and claim, "the page's mapping file or its sentence about the record it mends has moved"
    record, value = claim.groups()
    (tmp_path / "our-srs.yaml").write_text(yaml.group(1), encoding="utf-8")
    field = re.search(r"codes:\n  (\w+):", yaml.group(1))
    source = re.search(r"source: (.*)", yaml.group(1))
    code = re.search(rf'"{re.escape(value)}": {{to: "(\w+)"', yaml.group(1))
    assert field and source and code, f"the page's mapping file does not translate {value!r}"

    before = [row for row in _issues(tmp_path, "defects") if row["record"] == record]
    assert [(r["field"], r["value"], r["code"]) for r in before if r["severity"] == "error"] == [
        (field.group(1), value, "invalid_code")
    ], f"record {record}'s errors without the mapping file"
    excerpt = text.split("```text\ninput,record,")[1].split("```")[0]
    assert f"samples/defects.xml,{record}," in excerpt  # the error the sentence points back to

    after = _issues(tmp_path, "defects-2", "--mapping", str(tmp_path / "our-srs.yaml"))
    mine = [row for row in after if row["record"] == record]
    assert not [r for r in mine if r["severity"] == "error"], mine  # the record is valid now
    [translated] = [r for r in mine if r["field"] == field.group(1)]
    assert (translated["value"], translated["code"]) == (value, "legacy_code_translated")
    assert f"translated to '{code.group(1)}'" in translated["message"] and source.group(1) in translated["message"]
    assert f"is now translated to `{code.group(1)}`" in claim.string[claim.start() : claim.start() + 200]


def test_every_sync_after_step_3_passes_the_mapping_file_validate_passed_with():
    """review75 F1: the page's syncs named no mapping file, so the records step 3's file mends were `invalid`
    again in every sync, and a bundled translation the file overrides was sent instead of the user's."""
    text = PAGE.read_text(encoding="utf-8")
    after_step_3 = text.split("## 4. ")[1]
    commands = [line for line in after_step_3.splitlines() if line.startswith("$ ") and "register-batch sync " in line]
    assert len(commands) >= 6, commands  # steps 4 to 8 rehearse, dry-run, sync, resume and rerun
    assert [line for line in commands if "--mapping our-srs.yaml" not in line] == []
