"""Records with nothing to send are recorded done in the ledger a batch at a time, not with a commit (a sync to disk)
each: the rerun of an unchanged 20k cohort spent 45 s of its minute on 18,107 commits, and wrote no progress line
for that minute (review134 F9). A run killed with such records not yet committed loses nothing that matters: the
next run neither creates a trainee twice nor misses a change."""

from __future__ import annotations

import io
import sqlite3
from collections import Counter
from pathlib import Path

import pytest
from hesa_extracts import HESA_WITHDRAWAL, hesa_trainee, write_hesa_csv

from dying import Died
from emulated import SYNC_TESTS_TOKEN as TOKEN
from emulated import sync_options
from register_batch.progress import Progress
from register_batch.sync import sync_files

WRITES_OF_A_CREATE = Counter({"POST /trainees": 1})


def _loaded(register, tmp_path: Path, count: int) -> list[dict]:
    blank = dict.fromkeys(HESA_WITHDRAWAL, "")
    rows = [{**hesa_trainee(n), **blank} for n in range(1, count + 1)]
    assert register.sync(write_hesa_csv(tmp_path / "nightly.csv", rows)).exit_code == 0
    return rows


def _commits_counted(monkeypatch) -> list[str]:
    """The COMMITs every ledger connection opened from now on sends to SQLite (its own trace of what it runs)."""
    statements: list[str] = []
    connect = sqlite3.connect

    def traced(*args, **kwargs):
        connection = connect(*args, **kwargs)
        connection.set_trace_callback(statements.append)
        return connection

    monkeypatch.setattr("register_batch.sync.ledger.sqlite3.connect", traced)
    return statements


def test_an_unchanged_rerun_commits_its_records_together_not_one_by_one(our_register, tmp_path, monkeypatch):
    register = our_register
    _loaded(register, tmp_path, 40)
    statements = _commits_counted(monkeypatch)
    rerun = register.sync(tmp_path / "nightly.csv")
    assert rerun.summary_line().startswith("40 records: 40 unchanged.")
    commits = sum(statement.strip().upper() == "COMMIT" for statement in statements)
    assert commits < 20, commits  # 41 when each record had one of its own


def test_the_records_with_nothing_to_send_are_counted_in_the_progress(our_register, tmp_path):
    """nightly-sync.md §6: a plain progress line every 5 seconds of a long step; the step after the listing of an
    unchanged cohort sent nothing, so "Writing to Register" had nothing to count and no line was written."""
    register = our_register
    _loaded(register, tmp_path, 5)
    stream = io.StringIO()
    options = sync_options(register.emulator, tmp_path, TOKEN, report_dir=tmp_path / "again", as_of=register.as_of)
    with Progress(stream=stream, interval=0, force_terminal=False) as progress:
        sync_files([str(tmp_path / "nightly.csv")], options, progress=progress)
    assert "Recording unchanged records: 5/5 records" in stream.getvalue()


def test_the_unchanged_records_passed_over_between_writes_say_no_time_left_of_their_own(our_register, tmp_path):
    """review137 F2: their own average (most of them passed over in a rate-limit wait) gave "about 149 s left" beside
    the writes' "about 26 s left": they go at the writes' pace, and the writes' line says how long is left."""
    register = our_register
    rows = _loaded(register, tmp_path, 6)
    rows[1] = {**rows[1], "F_NQTEMAIL": "corrected@example.com"}
    stream = io.StringIO()
    options = sync_options(register.emulator, tmp_path, TOKEN, report_dir=tmp_path / "again", as_of=register.as_of)
    with Progress(stream=stream, interval=0, force_terminal=False) as progress:
        sync_files([str(write_hesa_csv(tmp_path / "nightly.csv", rows))], options, progress=progress)
    passed = [line for line in stream.getvalue().splitlines() if "Recording unchanged records: " in line]
    assert passed and any("/5 records" in line and "5/5" not in line for line in passed), passed
    assert not any("left" in line for line in passed), passed


class _DiesAt(io.StringIO):
    """A progress stream whose process dies (SIGKILL: no commit, no report) as it is given the `at`-th line that
    counts the records with nothing to send: part-way through them, with some not yet committed."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def write(self, text: str) -> int:
        if "Recording unchanged records" in text:
            self.at -= 1
            if self.at == 0:
                raise Died()
        return super().write(text)


def _killed_passing_unchanged(register, tmp_path: Path, rows: list[dict], at: int) -> None:
    options = sync_options(register.emulator, tmp_path, TOKEN, report_dir=tmp_path / "killed", as_of=register.as_of)
    with pytest.raises(Died), Progress(stream=_DiesAt(at), interval=0, force_terminal=False) as progress:
        sync_files([str(write_hesa_csv(tmp_path / "nightly.csv", rows))], options, progress=progress)


@pytest.mark.parametrize("changed", [None, 3], ids=["nothing-changed", "a-write-before-the-kill"])
def test_a_run_killed_with_unchanged_records_uncommitted_leaves_nothing_twice_or_missed(
    our_register, tmp_path, open_ledger, changed
):
    """Killed after passing 7 of 10 records, the settles since the last commit lost: those records' entries stay as
    the run before left them, as a kill just after that commit would have left them. The earlier ones were
    committed before the changed record's write went out; the next run sends nothing twice and misses nothing."""
    register = our_register
    rows = _loaded(register, tmp_path, 10)
    if changed is not None:
        rows[changed] = {**rows[changed], "F_NQTEMAIL": "corrected@example.com"}
    before = register.writes()
    _killed_passing_unchanged(register, tmp_path, rows, at=8)
    sent = register.writes() - before
    assert sent == (Counter() if changed is None else Counter({"PUT /trainees/{trainee_id}": 1}))

    ledger = open_ledger(tmp_path / "state", register.emulator.url)
    runs = {entry.hesa_id: entry.run_id for entry in ledger.all()}
    ledger.close()
    first_run = runs[rows[-1]["F_HUSID"]]  # never reached: the first load's
    if changed is not None:  # committed with the write's in-flight mark, before it went out
        assert {runs[row["F_HUSID"]] for row in rows[: changed + 1]} == {first_run + 1}
    rerun = register.sync(tmp_path / "nightly.csv")
    assert rerun.exit_code == 0
    assert register.writes() - before == sent  # nothing sent again, nothing created twice
    assert len(register.trainees(2026)) == 10
    assert register.report()["summary"]["records"] == 10
    again = register.sync(tmp_path / "nightly.csv")
    assert again.summary_line().startswith("10 records: 10 unchanged."), again.summary_line()
    assert register.writes() - before == sent
