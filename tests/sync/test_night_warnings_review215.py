"""review215: the night warnings of review208 said only what is so, against the project's emulator on 127.0.0.1. An
old extract is named only when its run puts back what a later run synced from another extract (F1, F6), worded by
what happened, never with its file's name capitalised (F4); an extract that lost a whole academic cycle counts that
cycle's trainees still in training (F2); the messages say what to do (F5, F7) and the first night after an upgrade
compares with the old build's last run (F8)."""

from __future__ import annotations

import os
import sqlite3
import threading

import lxml.html
import pytest

from emulated import SYNC_TESTS_TOKEN as TOKEN
from emulated import sync_options
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from register_batch.sync.ledger import LEDGER_FILE
from trainee_extracts import started_in, trainee, write_extract


def _box(register) -> str:
    page = lxml.html.fromstring((register.tmp_path / f"reports-{register.runs}" / "report.html").read_bytes())
    [box] = page.xpath('//section[@id="summary"]/div[contains(@class, "status")]')
    return " ".join(box.text_content().split())


def _codes(register) -> list[str]:
    return [w["code"] for w in register.report()["sync"]["run_warnings"]]


def _current(n: int, **changes) -> dict:
    """A trainee of 2026/27, in training as of 2026-11-28 (course ends July 2027)."""
    return started_in(2026, trainee(n), **changes)


def test_two_cohorts_of_one_cycle_synced_in_turn_are_quiet(register, tmp_path):
    # Two SRS exports of 2026/27 (two campuses) synced in turn from one state dir, unchanged: nothing is put back.
    x = write_extract(tmp_path / "x.csv", [_current(n) for n in (1, 2, 3)])
    y = write_extract(tmp_path / "y.csv", [_current(n) for n in (4, 5, 6)])
    for path in (x, y, x, y):
        line = register.sync(path).summary_line()
        assert "byte for byte" not in line, line
        assert "sync_extract_seen_before" not in _codes(register)


def test_a_later_run_stopped_before_it_wrote_is_not_a_newer_extract(register, tmp_path, monkeypatch):
    rows = [_current(n) for n in (1, 2, 3)]
    old = write_extract(tmp_path / "a.csv", rows)
    register.sync(old)
    new = write_extract(tmp_path / "b.csv", [{**rows[0], "last_name": "Changed"}, *rows[1:]])
    # The wrong file started, then Ctrl-C once the state dir is locked (its lock's holder line written): the run has
    # its row in the ledger, with its inputs, and stops before it lists Register, nothing sent.
    stop, ftruncate = threading.Event(), os.ftruncate

    def stop_once_locked(fd: int, length: int) -> None:
        ftruncate(fd, length)
        stop.set()

    monkeypatch.setattr(os, "ftruncate", stop_once_locked)
    with pytest.raises(Interrupted):
        sync_files([str(new)], sync_options(register.emulator, tmp_path, TOKEN, as_of=register.as_of), stop=stop)
    monkeypatch.undo()
    with sqlite3.connect(tmp_path / "state" / LEDGER_FILE) as db:
        assert db.execute("SELECT status, inputs IS NOT NULL FROM runs WHERE id = 2").fetchone() == ("interrupted", 1)
    line = register.sync(old).summary_line()
    assert line.startswith("3 records: 3 unchanged."), line
    assert "byte for byte" not in line and register.report()["sync"]["run_warnings"] == []


def test_one_of_two_files_alone_then_both_again_is_not_an_old_extract(register, tmp_path):
    a = write_extract(tmp_path / "a.csv", [_current(n) for n in (1, 2)])
    b = write_extract(tmp_path / "b.csv", [_current(n) for n in (3, 4)])
    register.sync_all([a, b])
    register.sync(a)  # b not written in time that night
    line = register.sync_all([a, b]).summary_line()
    assert "byte for byte" not in line, line
    assert "sync_extract_seen_before" not in _codes(register)


def test_an_old_extract_names_what_it_put_back_and_its_path_as_given(register, tmp_path):
    rows = [_current(n) for n in (1, 2, 3)]
    (tmp_path / "incoming").mkdir()
    old = write_extract(tmp_path / "incoming" / "old.csv", rows)
    register.sync(old)
    register.sync(write_extract(tmp_path / "new.csv", [{**rows[0], "last_name": "Corrected"}, *rows[1:]]))
    line = register.sync(old).summary_line()
    assert "1 updated, 2 unchanged." in line, line
    # never capitalised: Incoming/old.csv is another path
    assert f" The extract {tmp_path}/incoming/old.csv is byte for byte the extract run 1 synced on" in line, line
    assert "This run put this file's values back in 1 record run 2 had synced from the newer one" in line, line
    [said] = register.report()["sync"]["run_warnings"]
    assert said["message"].startswith("The extract ") and "Corrected" not in said["message"]
    assert "This extract was synced before, and a newer one since. The extract " in _box(register)


def test_a_dry_run_of_an_old_extract_says_what_a_real_run_would_put_back(register, tmp_path):
    rows = [_current(n) for n in (1, 2)]
    old = write_extract(tmp_path / "old.csv", rows)
    register.sync(old)
    register.sync(write_extract(tmp_path / "new.csv", [rows[0], {**rows[1], "email": "new@example.com"}]))
    register.sync(old, dry_run=True)
    [said] = register.report()["sync"]["run_warnings"]
    assert "A real run now would put this file's values back in 1 record run 2 had synced" in said["message"]


def test_a_run_stopped_after_its_writes_counts_as_the_newer_run(register, tmp_path):
    rows = [_current(n) for n in (1, 2, 3)]
    old = write_extract(tmp_path / "a.csv", rows)
    register.sync(old)
    (tmp_path / "reports-2" / "report.json").mkdir(parents=True)  # the report cannot be written: run `stopped`
    with pytest.raises(Exception, match=r"report\.json"):
        register.sync(write_extract(tmp_path / "b.csv", [{**rows[0], "last_name": "Corrected"}, *rows[1:]]))
    with sqlite3.connect(tmp_path / "state" / LEDGER_FILE) as db:
        assert db.execute("SELECT status FROM runs WHERE id = 2").fetchone() == ("stopped",)
    line = register.sync(old).summary_line()
    assert line.startswith("3 records: 1 updated, 2 unchanged;") and "is this an old file?" in line, line
    assert _codes(register) == ["sync_extract_seen_before"]


def test_an_extract_that_lost_a_cycle_counts_that_cycles_trainees_in_training(register, tmp_path):
    this_year = write_extract(tmp_path / "x.csv", [_current(n) for n in (1, 2)])
    # 2025/26 trainees on a two-year course: in training until July 2027
    last_year = write_extract(tmp_path / "c.csv", [{**trainee(n), "itt_end_date": "2027-07-31"} for n in (3, 4, 5)])
    register.sync_all([this_year, last_year])
    line = register.sync(this_year).summary_line()  # the 2025/26 part dropped from the export
    [said] = register.report()["sync"]["run_warnings"]
    assert (said["code"], said["count"], said["of_cycles_lacked"], said["records"], said["last_run_records"]) == (
        "sync_extract_lacks_synced",
        3,
        3,
        2,
        5,
    )
    said_of = "all of them are of 2025 to 2026, which run 1 synced records of and tonight's extract has none of"
    assert said_of in line, line
    assert "register-batch export --academic-cycle 2025 lists them after" in line, line
    # listed in not_in_extract too that night, with their cycle (review227 F2), and said once in the line
    assert {t["academic_cycle"] for t in register.report()["not_in_extract"]} == {2025}
    assert "no longer sent by the SRS" not in line, line
    assert register.report()["sync"]["warnings"] == {"sync_extract_lacks_synced": 3}
    words = _box(register)
    assert "Nothing to fix" not in words and "3 trainees this state dir synced before not in tonight's" in words


def test_a_dry_run_of_a_cut_extract_does_not_say_tonight(register, tmp_path):
    rows = [_current(n) for n in range(1, 6)]
    register.sync(write_extract(tmp_path / "whole.csv", rows))
    line = register.sync(write_extract(tmp_path / "cut.csv", rows[:2]), dry_run=True).summary_line()
    assert "(2 records in this extract, 5 in the last run)" in line, line
    [said] = register.report()["sync"]["run_warnings"]
    assert "are not in this extract (2 records in it, 5 in the last run, run 1)" in said["message"], said


def test_the_first_night_after_an_upgrade_compares_with_the_old_builds_last_run(register, tmp_path):
    rows = [_current(n) for n in range(1, 6)]
    register.sync(write_extract(tmp_path / "whole.csv", rows))
    with sqlite3.connect(tmp_path / "state" / LEDGER_FILE) as db:  # as the build before runs.inputs left it
        db.execute("ALTER TABLE runs DROP COLUMN inputs")
    line = register.sync(write_extract(tmp_path / "cut.csv", rows[:2])).summary_line()
    assert "(2 records tonight, 5 in the last run)" in line, line
    assert register.report()["sync"]["run_warnings"][0]["last_run_records"] == 5


def test_trainees_created_from_another_years_extract_say_what_to_do(register, tmp_path):
    register.sync(write_extract(tmp_path / "old_year.csv", [started_in(2023, trainee(n)) for n in (1, 2)]))
    [said] = register.report()["sync"]["run_warnings"]
    assert "Sent as the extract says (sync refuses no record for its dates)" in said["message"], said
    assert "ask Register's support to delete these 2 trainees (results.csv lists them" in said["message"], said
    assert "Register's API cannot delete a trainee" in said["message"]
