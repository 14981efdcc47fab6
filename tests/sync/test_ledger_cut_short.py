"""A ledger cut short, one put back from a backup beside the damaged one's -wal, one made by a run killed while it made
it, and one of a development version with a column more (review130 F3, F4, F9)."""

from __future__ import annotations

import os
import shutil
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
from register_batch.sync.ledger import LEDGER_FILE, NEW_LEDGER_FILE, SCHEMA, Ledger
from trainee_extracts import trainee, write_extract

TOKEN = "ledger-cut-short-token"
RESTORE = (
    "delete ledger.sqlite3-wal, ledger.sqlite3-shm and ledger.sqlite3-journal beside it "
    "and restore it from a backup (with the backup's "
    "ledger.sqlite3-wal, if it has one), or use another --state-dir"
)


def _ledger_of(folder: Path, records: int = 3) -> Path:
    """A closed ledger in `folder` bound to `t`, linking `records` records to trainees."""
    ledger = Ledger(folder, "t")
    ledger.start_run(dry_run=False)
    for n in range(records):
        ledger.record(f"hesa:{n}", "done", trainee_id=f"T{n:023d}")
    ledger.close()
    return folder / LEDGER_FILE


@pytest.mark.parametrize("size", [0, 1, 99], ids=["empty", "one byte", "all but the header's last byte"])
def test_a_ledger_cut_short_of_a_databases_header_is_refused_as_damaged_and_left_as_it_is(tmp_path, size):
    """SQLite takes a file of 0 or 1 byte as an empty database: the run took the ledger for a new one, and created
    again a trainee a person deleted in Register's service (review130 F3). Shorter than SQLite's 100-byte header, a
    ledger was cut short (a copy onto a full disk, `> ledger.sqlite3`): the damaged ledger's line, and the file is not
    written (SQLite would have given it a first page)."""
    path = _ledger_of(tmp_path)
    os.truncate(path, size)
    with pytest.raises(ConfigError) as caught:
        Ledger(tmp_path, "t")
    held = "1 byte" if size == 1 else f"{size} bytes"  # not "1 bytes" (review136 F5)
    problem = "it is empty" if size == 0 else f"it holds {held}, less than a database's header: cut short"
    also = (
        ". If the one sync that used this state dir was stopped as it began, delete it instead: an earlier version "
        "left it empty then"
        if size == 0
        else ""
    )
    assert caught.value.worded(OPTIONS) == (f"{path}: cannot be read as the sync ledger ({problem}); {RESTORE}{also}")
    assert path.stat().st_size == size


def test_a_sync_whose_ledger_was_emptied_sends_nothing_and_does_not_create_a_deleted_trainee_again(tmp_path):
    """The reviewer's case (review130 F3): a trainee deleted in Register's service is a conflict while the ledger
    links it; with the ledger emptied, the run created it again (exit 0) and warned the state dir "has no ledger".
    Now it is refused before anything is sent, and restoring the ledger brings the conflict back."""
    extract = write_extract(tmp_path / "extract.csv", [trainee(n) for n in (1, 2, 3)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:

        def sync(name: str):
            return sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name))

        first = sync("first")
        deleted = first.results[1].plan.trainee_id
        assert deleted and emulator.discard_trainee(deleted)  # as Register's service deletes a trainee
        ledger = tmp_path / "state" / LEDGER_FILE
        shutil.copy(ledger, tmp_path / "backup.sqlite3")
        os.truncate(ledger, 0)
        stats = f"{emulator.url}/__emulator__/stats"
        before = httpx.get(stats).json()["requests"]["total"]
        with pytest.raises(ConfigError, match=r"cannot be read as the sync ledger \(it is empty\)"):
            sync("emptied")
        assert httpx.get(stats).json()["requests"]["total"] == before  # the deleted trainee is not created again
        shutil.copy(tmp_path / "backup.sqlite3", ledger)
        restored = sync("restored")
        assert [(r.plan.action, r.plan.trainee_id) for r in restored.results if r.plan.action != "unchanged"] == [
            ("conflict", deleted)
        ]


# Where a run is killed while it makes a new ledger: at SQLite's first open of the new file (made empty), just before
# it is given the ledger's name, and between its second name and the first's removal.
KILLED_AT = {
    "opened": "import sqlite3; sqlite3.connect = dying",
    "named": "os.link = dying",
    "renamed": "real_link = os.link\nos.link = lambda *args: (real_link(*args), dying())",
}


@pytest.mark.parametrize("point", list(KILLED_AT))
def test_a_sync_killed_while_it_makes_its_ledger_leaves_the_next_run_a_new_one_to_make(tmp_path, point, open_ledger):
    """A run killed as it made the ledger left an empty ledger.sqlite3 (SQLite writes nothing before the first
    statement), which cannot be told from one cut short and is now refused (review130 F3): the new ledger is made under
    another name and given the ledger's once whole, so a run killed at any point leaves none, or a whole one; the
    next run carries on and tidies up."""
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "def dying(*args, **kwargs):\n"
        "    os._exit(9)\n" + KILLED_AT[point] + "\n"
        "from register_batch.sync.ledger import Ledger\n"
        "Ledger(Path(sys.argv[1]), 't')\n"
    )
    killed = subprocess.run([sys.executable, "-c", script, str(tmp_path)], check=False, timeout=60)
    assert killed.returncode == 9
    assert os.path.lexists(tmp_path / NEW_LEDGER_FILE)
    assert not (tmp_path / LEDGER_FILE).exists() or point == "renamed"
    ledger = open_ledger(tmp_path, "t")
    assert ledger.target == "t" and ledger.all() == []
    ledger.record("hesa:1", "done", trainee_id="T" * 24)
    assert sorted(path.name for path in tmp_path.iterdir() if NEW_LEDGER_FILE in path.name) == []
    assert (tmp_path / LEDGER_FILE).stat().st_nlink == 1


def test_a_new_ledger_is_bound_to_its_target_when_it_gets_its_name(tmp_path, open_ledger):
    """Made whole, then named: the ledger file holds its tables and target before any run uses it."""
    open_ledger(tmp_path, "https://example.test").close()
    with sqlite3.connect(tmp_path / LEDGER_FILE) as db:
        assert db.execute("SELECT value FROM meta WHERE key = 'target'").fetchall() == [("https://example.test",)]
    db.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["ledger.sqlite3"]


def _killed_with_changes_in_its_wal(path: Path) -> None:
    """Changes written to the -wal of the ledger at `path` by a process killed before they were folded in."""
    script = (
        "import os, sqlite3, sys\n"
        "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "db.execute('PRAGMA wal_autocheckpoint=0')\n"
        "for n in range(300):\n"
        "    db.execute(\"INSERT INTO records (key, status, updated_at) VALUES (?, 'done', 'x')\", (f'hesa:w{n}',))\n"
        "db.execute(\"UPDATE records SET status = 'in_flight'\")\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=False, timeout=60)


def test_a_backup_put_back_beside_the_damaged_ledgers_wal_is_told_to_lose_that_wal(tmp_path, open_ledger):
    """SQLite plays a -wal into whatever file has the ledger's name (a -wal says nothing of the file it belongs to):
    the backup put back as the message said was refused as damaged in turn, and its "use another state dir" lost the
    ledger (review130 F4). The refusal names the -wal, whose removal the advice now says; the backup then opens."""
    path = _ledger_of(tmp_path / "state", records=20)
    shutil.copy(path, tmp_path / "backup.sqlite3")
    ledger = open_ledger(tmp_path / "state", "t")
    with ledger.together():
        for n in range(2000):  # the ledger grows past the backup, folded in when it is closed
            ledger.record(f"hesa:g{n}", "done", trainee_id=f"G{n:023d}")
    ledger.close()
    _killed_with_changes_in_its_wal(path)
    assert os.path.getsize(f"{path}-wal") > 0
    shutil.copy(tmp_path / "backup.sqlite3", path)  # "restore it from a backup", the -wal left there
    with pytest.raises(ConfigError) as caught:
        Ledger(tmp_path / "state", "t")
    assert caught.value.worded(OPTIONS).startswith(f"{path}: cannot be read as the sync ledger (")
    assert caught.value.worded(OPTIONS).endswith(
        ") with the ledger.sqlite3-wal beside it, though it reads well without: that -wal is another ledger's (the "
        "damaged one this file replaced, put back from a backup?), which SQLite plays into it. Delete "
        "ledger.sqlite3-wal and ledger.sqlite3-shm beside it"
    )
    for companion in ("-wal", "-shm"):
        os.unlink(f"{path}{companion}")
    restored = open_ledger(tmp_path / "state", "t")
    assert len(restored.all()) == 20 and restored.unresolved() == []


def test_a_ledger_with_a_column_more_in_its_records_is_read(tmp_path, open_ledger):
    """Commit b04cf52a (2026-11-30, a development version for half an hour) added `records.start_cycle`; its ledgers
    open, but every read of `records` was `internal error (ValueError: zip() argument 2 is longer than argument 1)`
    (review130 F9). The schema grows by tables of their own, never by a column of `records`: its 13 are read by
    name, and a column more is left alone."""
    with sqlite3.connect(tmp_path / LEDGER_FILE) as db:
        db.executescript(SCHEMA)
        db.execute("ALTER TABLE records ADD COLUMN start_cycle INTEGER")
        db.execute("INSERT INTO meta VALUES ('target', 't')")
        db.execute(
            "INSERT INTO records (key, hesa_id, status, operation, run_id, updated_at, start_cycle) "
            "VALUES ('hesa:1', '1', 'in_flight', 'create', 1, '2026-11-30T01:40:00Z', 2026)"
        )
    db.close()
    ledger = open_ledger(tmp_path, "t")
    [entry] = ledger.all()
    assert (entry.key, entry.status, entry.operation) == ("hesa:1", "in_flight", "create")
    assert ledger.get("hesa:1") == entry and ledger.unresolved() == [entry]
    assert ledger.entries_of_runs([1]) == {"hesa:1": entry}
    ledger.record("hesa:1", "done", trainee_id="T" * 24)
    assert ledger.get("hesa:1").trainee_id == "T" * 24
