"""A ledger with a write stopped part-way in SQLite's rollback-journal mode (a hot ledger.sqlite3-journal), a new
ledger made in WAL mode before it gets its name (review136 F1), and a deleted ledger's -wal or journal left behind
(F4)."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from emulated import AS_OF, sync_options
from register_batch.commands.common import OPTIONS
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.sync import sync_files
from register_batch.sync.ledger import LEDGER_FILE, NEW_LEDGER_FILE, Ledger
from trainee_extracts import trainee, write_extract

TOKEN = "ledger-stopped-part-way-token"


def _run_until_killed(script: str, target: Path) -> int:
    """`script` run in a Python of its own with `target` as its argument, as a process killed part-way leaves things
    (the scripts end in `os._exit(9)`); its exit status."""
    return subprocess.run([sys.executable, "-c", script, str(target)], check=False, timeout=60).returncode


def _ledger_of(folder: Path, records: int) -> Path:
    """A closed ledger in `folder` bound to `t`, linking `records` records to trainees."""
    ledger = Ledger(folder, "t")
    ledger.start_run(dry_run=False)
    with ledger.together():
        for n in range(records):
            ledger.record(f"hesa:{n}", "done", trainee_id=f"T{n:023d}")
    ledger.close()
    return folder / LEDGER_FILE


def _records_in_the_file_alone(path: Path) -> int:
    """The records the database file at `path` holds as it is, its journal and -wal not looked at."""
    db = sqlite3.connect(f"{path.absolute().as_uri()}?immutable=1", uri=True)
    try:
        return int(db.execute("SELECT count(*) FROM records").fetchone()[0])
    finally:
        db.close()


def _stopped_part_way(path: Path) -> None:
    """The ledger at `path` switched to SQLite's rollback-journal mode (as a one-file copy is made), then a writer
    killed in a transaction that deleted its records, after SQLite had written the deletion into the file: its
    ledger.sqlite3-journal is hot, the undo of pages the file now holds half-written."""
    db = sqlite3.connect(path, isolation_level=None)
    assert db.execute("PRAGMA journal_mode=DELETE").fetchall() == [("delete",)]
    db.close()
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA cache_size=1')\n"  # pages spill into the file before the commit
        "db.execute('BEGIN')\n"
        "db.execute('DELETE FROM records')\n"
        "db.execute('CREATE TABLE filler (x)')\n"
        "db.executemany('INSERT INTO filler VALUES (?)', ((os.urandom(500),) for _ in range(200)))\n"
        "os._exit(9)\n"
    )
    assert _run_until_killed(script, path) == 9
    assert os.path.getsize(f"{path}-journal") > 0
    assert _records_in_the_file_alone(path) == 0  # the file alone lost them: only the journal has them


def test_a_ledger_with_a_write_stopped_part_way_is_undone_and_opened(tmp_path, open_ledger):
    """A connection that can only read cannot undo the stopped write (SQLITE_READONLY_ROLLBACK): the damage check
    refused the ledger on every run as on a full or read-only disk, where "use another state dir" lost it (review136
    F1). The ledger's own connection undoes it first, as SQLite does: every record is there, the journal gone."""
    path = _ledger_of(tmp_path, records=500)
    _stopped_part_way(path)
    ledger = open_ledger(tmp_path, "t")
    assert len(ledger.all()) == 500
    assert not os.path.exists(f"{path}-journal")
    ledger.record("hesa:new", "done", trainee_id="N" * 24)
    assert len(ledger.all()) == 501


def test_a_sync_after_one_stopped_part_way_through_a_write_creates_no_trainee_again(tmp_path):
    """The run after the stopped write carries on: its records are the trainees they were, nothing sent."""
    extract = write_extract(tmp_path / "extract.csv", [trainee(n) for n in (1, 2, 3)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:

        def sync(name: str):
            return sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name))

        first = sync("first")
        assert [result.plan.action for result in first.results] == ["create"] * 3
        _stopped_part_way(tmp_path / "state" / LEDGER_FILE)
        writes = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]
        again = sync("again")
        assert [result.plan.action for result in again.results] == ["unchanged"] * 3
        after = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]
        assert after.get("POST", 0) == writes.get("POST", 0)


def _sha256(path: Path | str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def test_a_write_stopped_part_way_beside_another_ledgers_wal_is_refused_and_nothing_folded_in(tmp_path, open_ledger):
    """A ledger is in one journal mode at a time: a -wal with changes beside a hot journal is another ledger's. The
    write is not undone by a connection that would fold that -wal into the file when it closes (review130 F4); the
    line names the -wal, and once it is deleted the ledger opens whole."""
    path = _ledger_of(tmp_path / "state", records=500)
    _stopped_part_way(path)
    other = _ledger_of(tmp_path / "other", records=1)
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA journal_mode=WAL')\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.executemany(\"INSERT INTO records (key, status, updated_at) VALUES (?, 'done', 'x')\", "
        "((f'hesa:w{n}',) for n in range(300)))\n"
        "os._exit(9)\n"
    )
    _run_until_killed(script, other)
    Path(f"{path}-wal").write_bytes(Path(f"{other}-wal").read_bytes())
    before = {name: _sha256(f"{path}{name}") for name in ("", "-journal", "-wal")}
    with pytest.raises(ConfigError) as caught:
        Ledger(tmp_path / "state", "t")
    assert caught.value.worded(OPTIONS) == (
        f"{path}: a write to it was stopped part-way, which SQLite undoes from the ledger.sqlite3-journal beside it, "
        "but a ledger.sqlite3-wal with changes is beside it too, which the ledger does not have then: that -wal is "
        "another ledger's, which SQLite plays into it. If this file was put back from a backup, delete "
        "ledger.sqlite3-wal, ledger.sqlite3-shm and ledger.sqlite3-journal beside it: none is its own; "
        "else delete ledger.sqlite3-wal and ledger.sqlite3-shm (not ledger.sqlite3-journal: it undoes the stopped "
        "write); nothing was sent"
    )
    assert {name: _sha256(f"{path}{name}") for name in ("", "-journal", "-wal")} == before
    for companion in ("-wal", "-shm"):
        os.unlink(f"{path}{companion}")
    assert len(open_ledger(tmp_path / "state", "t").all()) == 500


def test_a_new_ledger_is_in_wal_mode_before_it_gets_its_name(tmp_path, open_ledger):
    """Made in rollback-journal mode, a new ledger was switched to WAL once named, through a ledger.sqlite3-journal: a
    first sync killed then left it hot (review136 F1). The new ledger's file says WAL (bytes 18 and 19 of SQLite's
    header, 2) and holds all of it, its -wal folded in, before it is given the ledger's name."""
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "def dying(*args, **kwargs):\n"
        "    os._exit(9)\n"
        "os.link = dying\n"
        "os.rename = dying\n"
        "from register_batch.sync.ledger import Ledger\n"
        "Ledger(Path(sys.argv[1]), 't')\n"
    )
    assert _run_until_killed(script, tmp_path) == 9
    assert sorted(path.name for path in tmp_path.iterdir() if path.name != "sync.lock") == [NEW_LEDGER_FILE]
    made = tmp_path / NEW_LEDGER_FILE
    assert made.read_bytes()[18:20] == b"\x02\x02"
    db = sqlite3.connect(f"{made.absolute().as_uri()}?immutable=1", uri=True)
    assert db.execute("SELECT value FROM meta WHERE key = 'target'").fetchall() == [("t",)]
    db.close()
    open_ledger(tmp_path, "t").close()
    assert not os.path.exists(tmp_path / f"{LEDGER_FILE}-journal")


def _with_changes_in_its_wal(path: Path) -> None:
    """The ledger at `path` with changes in its -wal, written by a process killed before they were folded in."""
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "db.execute(\"UPDATE records SET status = 'in_flight'\")\n"
        "os._exit(9)\n"
    )
    _run_until_killed(script, path)
    assert os.path.getsize(f"{path}-wal") > 0


@pytest.mark.parametrize("left", ["-wal", "-journal"])
def test_a_deleted_ledgers_wal_or_journal_left_behind_is_named_and_no_ledger_made(tmp_path, left, open_ledger):
    """`ledger.sqlite3` deleted, its -wal (or a hot journal) left: the run made a new ledger, and then refused its own
    new file as "a backup put back" beside another ledger's -wal (review136 F4); a journal would have been played
    into it. Now the line says the ledger is missing, before anything is made; with them deleted, a new one is."""
    path = _ledger_of(tmp_path, records=500)
    if left == "-wal":
        _with_changes_in_its_wal(path)
    else:
        _stopped_part_way(path)
    os.unlink(path)
    there = sorted(entry.name for entry in tmp_path.iterdir())
    with pytest.raises(ConfigError) as caught:
        Ledger(tmp_path, "t")
    assert caught.value.worded(OPTIONS) == (
        f"{tmp_path}: ledger.sqlite3{left} is there without ledger.sqlite3, the ledger it belongs to (deleted?): put "
        "the ledger back from a backup, first deleting the ledger.sqlite3-wal, ledger.sqlite3-shm and "
        "ledger.sqlite3-journal there (the deleted ledger's, which SQLite would play into it), or delete them to "
        "start a new ledger, which does not know what this state dir synced (a trainee deleted in Register's service "
        "is created again); nothing was sent"
    )
    assert sorted(entry.name for entry in tmp_path.iterdir()) == there
    for companion in ("-wal", "-shm", "-journal"):
        Path(f"{path}{companion}").unlink(missing_ok=True)
    assert open_ledger(tmp_path, "t").all() == []
