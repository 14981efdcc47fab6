"""review208: the nights that look fine say what is odd about them, from their artefacts alone (the summary line,
report.json's sync.warnings and sync.run_warnings, report.html's summary box), against the project's emulator on
127.0.0.1: an old extract picked up again after a newer one was synced (F1), another academic year's trainees created
whose course ended long ago (F2), and an extract that lacks trainees this state dir synced before (F4)."""

from __future__ import annotations

import sqlite3

import lxml.html

from register_batch.sync.ledger import LEDGER_FILE
from trainee_extracts import started_in, trainee, write_extract


def _box(register) -> tuple[str, str]:
    """report.html's summary box of the last sync: its data-status and its words."""
    page = lxml.html.fromstring((register.tmp_path / f"reports-{register.runs}" / "report.html").read_bytes())
    [box] = page.xpath('//section[@id="summary"]/div[contains(@class, "status")]')
    return box.get("data-status"), " ".join(box.text_content().split())


def test_an_old_extract_given_again_after_a_newer_one_is_named_in_every_artefact(register, tmp_path):
    rows = [trainee(n) for n in range(1, 5)]
    old = write_extract(tmp_path / "old.csv", rows)
    kept = old.read_bytes()
    register.sync(old)
    corrected = [{**rows[0], "last_name": rows[0]["last_name"] + "-Smith"}, *rows[1:]]
    register.sync(write_extract(tmp_path / "new.csv", corrected))
    before = register.writes()

    (tmp_path / "incoming.csv").write_bytes(kept)  # last week's file, copied back under another name
    again = register.sync(tmp_path / "incoming.csv")
    line = again.summary_line()
    assert "1 updated, 3 unchanged." in line, line  # still sent: a warning, not a refusal
    assert "incoming.csv is byte for byte the extract run 1 synced on " in line, line
    assert "run 2 synced a different one since" in line and "is this an old file?" in line, line
    assert sum((register.writes() - before).values()) == 1  # the one update, as without the warning
    sync = register.report()["sync"]
    assert sync["warnings"] == {"sync_extract_seen_before": 1}
    assert [w["code"] for w in sync["run_warnings"]] == ["sync_extract_seen_before"]
    status, words = _box(register)
    assert status == "warnings" and "This extract was synced before, and a newer one since." in words, words
    assert "Nothing to fix" not in words

    # The same file the night after is a rerun of the last: nothing goes back, nothing is said.
    register.sync(tmp_path / "incoming.csv")
    assert register.report()["sync"]["run_warnings"] == [] and "byte for byte" not in _box(register)[1]


def test_two_extracts_of_other_cycles_synced_in_turn_are_not_taken_for_an_old_one(register, tmp_path):
    this_year = write_extract(tmp_path / "a.csv", [trainee(1), trainee(2)])
    next_year = write_extract(tmp_path / "b.csv", [started_in(2026, trainee(3))])
    for path in (this_year, next_year, this_year, next_year):
        result = register.sync(path)
        assert "byte for byte" not in result.summary_line()
        assert register.report()["sync"]["run_warnings"] == []


def test_a_ledger_whose_runs_table_has_no_inputs_column_is_upgraded_and_keeps_working(register, tmp_path):
    rows = [trainee(1), trainee(2)]
    old = write_extract(tmp_path / "old.csv", rows)
    register.sync(old)
    ledger = tmp_path / "state" / LEDGER_FILE
    with sqlite3.connect(ledger) as db:  # as a version before review208 left it
        db.execute("ALTER TABLE runs DROP COLUMN inputs")
    register.sync(write_extract(tmp_path / "new.csv", [{**rows[0], "email": "new@example.com"}, rows[1]]))
    with sqlite3.connect(ledger) as db:
        inputs = [row[0] for row in db.execute("SELECT inputs FROM runs ORDER BY id")]
    assert inputs[0] is None and '"sha256"' in inputs[1]
    # Run 1's input was not recorded: its file again is not known to be old, and the run goes ahead as ever.
    assert register.sync(old).summary_line().startswith("2 records: 1 updated, 1 unchanged.")
    assert register.report()["sync"]["run_warnings"] == []


def test_trainees_created_whose_course_ended_before_last_academic_year_are_named(register, tmp_path):
    # As of 2026-11-28: a course of 2023/24 ended in July 2024; trainee(4)'s of 2025/26 (July 2026) is a late record.
    rows = [started_in(2023, trainee(n)) for n in range(1, 4)] + [trainee(4)]
    result = register.sync(write_extract(tmp_path / "old_year.csv", rows))
    line = result.summary_line()
    assert line.startswith("4 records: 4 created; 3 warnings (3 sync_created_course_ended). 3 trainees"), line
    assert "3 trainees created whose course had ended before 2025-08-01 (itt_end_date)" in line, line
    assert "is the extract another academic year's?" in line
    report = register.report()
    assert report["sync"]["warnings"] == {"sync_created_course_ended": 3}
    [said] = report["sync"]["run_warnings"]
    assert said["code"] == "sync_created_course_ended" and said["count"] == 3
    # none of the extract's records is of 2026/27, the as-of date's academic cycle
    assert "no record of the extract starts in 2026 to 2027" in said["message"]
    warned = [record["warnings"] for record in report["records"]]
    assert all("course ended on 2024-07-31" in " ".join(w) for w in warned[:3]) and warned[3] == []
    status, words = _box(register)
    assert status == "warnings" and "3 trainees created whose course had ended before last academic year." in words, (
        words
    )


def test_a_dry_run_of_another_years_extract_says_they_would_be_created(register, tmp_path):
    rows = [started_in(2023, trainee(1)), trainee(2)]
    register.sync(write_extract(tmp_path / "old_year.csv", rows), dry_run=True)
    [said] = register.report()["sync"]["run_warnings"]
    assert said["message"].startswith("1 trainee would be created whose course had ended before 2025-08-01")
    # 2023/24 and 2025/26: none of 2026/27, the as-of date's academic cycle
    assert "no record of the extract starts in 2026 to 2027" in said["message"]
    assert "1 trainee would be created whose course had ended before last academic year." in _box(register)[1]


def test_an_extract_lacking_trainees_synced_before_is_not_nothing_to_fix(register, tmp_path):
    # Of 2026/27 (in training until July 2027): trainees no longer sent, not courses that ended.
    rows = [started_in(2026, trainee(n)) for n in range(1, 6)]
    register.sync(write_extract(tmp_path / "whole.csv", rows))
    result = register.sync(write_extract(tmp_path / "cut.csv", rows[:2]))  # cut at a row's end: it looks whole
    line = result.summary_line()
    assert "3 synced before by this state dir, no longer sent by the SRS (2 records tonight, 5 in the last run)" in line
    sync = register.report()["sync"]
    assert sync["warnings"] == {"sync_extract_lacks_synced": 3}
    [said] = sync["run_warnings"]
    assert (said["code"], said["count"], said["records"], said["last_run_records"]) == (
        "sync_extract_lacks_synced",
        3,
        2,
        5,
    )
    status, words = _box(register)
    assert status == "warnings" and "Nothing to fix" not in words, words
    assert "3 trainees this state dir synced before not in tonight's extract." in words
    assert "(2 records tonight, 5 in the last run, run 1)" in words, words
