"""The excerpts of issues.csv and results.csv the pages show are rows the commands they follow really write.

tests/docs/test_documented_commands.py compares what a command prints; these excerpts are of files it writes,
which a data officer opens in a spreadsheet beside the page (migration.md showed HUSIDs without the `'` the real
file has).
"""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli

REPO = Path(__file__).resolve().parents[2]


def excerpt(page: str, header: str) -> list[str]:
    """The lines of the `text` block of docs/`page` that starts with `header`, header included."""
    text = (REPO / "docs" / page).read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```text\n(.*?)```", text, re.S) if b.startswith(header + "\n")]
    return block.splitlines()


def run_in(folder: Path, monkeypatch, *args: str) -> None:
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code in (0, 1), result.output


def test_migration_issues_csv_excerpt_is_what_validate_writes(tmp_path, monkeypatch):
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    run_in(tmp_path, monkeypatch, "validate", "samples/defects.xml", "--as-of", "2026-11-28", "--report-dir", "r")
    written = (tmp_path / "r" / "issues.csv").read_text(encoding="utf-8-sig").splitlines()
    shown = excerpt("migration.md", written[0])
    assert len(shown) > 1 and [line for line in shown if line not in written] == []


def test_migration_results_csv_excerpt_is_what_sync_writes(tmp_path, monkeypatch):
    """Every column but trainee_id, which Register (here the embedded emulator) makes up for each create."""
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    run_in(tmp_path, monkeypatch, "sync", "samples/extract.xml", "--state-dir", "state", "--report-dir", "r")

    def rows(lines: list[str]) -> list[dict[str, str]]:
        return [{**row, "trainee_id": "…"} for row in csv.DictReader(io.StringIO("\n".join(lines)))]

    written = rows((tmp_path / "r" / "results.csv").read_text(encoding="utf-8-sig").splitlines())
    shown = rows(
        excerpt(
            "migration.md",
            "input,record,line,provider_trainee_id,hesa_id,action,outcome,trainee_id"
            ",http_status,requests,errors,warnings,changes,row",
        )
    )
    assert shown and [row for row in shown if row not in written] == []


def test_nightly_sync_record_excerpt_is_what_report_json_holds(tmp_path, monkeypatch):
    """nightly-sync.md tells scripts to read report.json's records (values as read) rather than results.csv (made
    for Excel: HUSIDs behind a `'`, errors joined into one cell). Both hold the same keys, record for record."""
    (tmp_path / "incoming").mkdir()  # the page's extract: the SRS's, the sample standing for it
    shutil.copy(REPO / "samples" / "extract.xml", tmp_path / "incoming" / "extract.xml")
    run_in(tmp_path, monkeypatch, "sync", "incoming/extract.xml", "--state-dir", "state", "--report-dir", "r")
    records = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["records"]
    text = (REPO / "docs" / "nightly-sync.md").read_text(encoding="utf-8")
    [shown] = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S) if '"trainee_id"' in block]
    assert {**records[0], "trainee_id": "…"} == {**shown, "trainee_id": "…"}
    with (tmp_path / "r" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    # The same keys; `row` after `line` in report.json, as for issues, and last in results.csv (review176 F1).
    for record, row in zip(records, rows, strict=True):
        assert [key for key in record if key != "row"] == list(row)[:-1]
        assert list(row)[-1] == "row" and "row" in record
    assert rows[0]["hesa_id"] == "'" + records[0]["hesa_id"] and records[0]["hesa_id"].isdigit()


def test_dry_run_report_json_excerpt_is_what_validate_writes(tmp_path, monkeypatch):
    """dry-run.md's report.json for samples/defects.xml said 101 errors where validate counts 102 (the page's CI
    example, and the command's own summary line, said 102). Its run times and the SHA-256's tail are left out."""
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    run_in(tmp_path, monkeypatch, "validate", "samples/defects.xml", "--as-of", "2026-11-28", "--report-dir", "r")
    written = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    text = (REPO / "docs" / "dry-run.md").read_text(encoding="utf-8")
    [shown] = [json.loads(block) for block in re.findall(r"```json\n(.*?)```", text, re.S) if '"tool"' in block]
    assert list(shown) == list(written)
    for key in shown.keys() - {"inputs", "run", "issues"}:
        assert shown[key] == written[key], key
    [read] = written["inputs"]
    [said] = shown["inputs"]
    assert said["sha256"].endswith("…") and read["sha256"].startswith(said["sha256"][:-1])
    assert {**said, "sha256": read["sha256"]} == read
    assert list(shown["run"]) == list(written["run"])
    assert shown["issues"] and [issue for issue in shown["issues"] if issue not in written["issues"]] == []
