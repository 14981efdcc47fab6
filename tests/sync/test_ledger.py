"""The ledger: durable per-record state, bound to one target, one run at a time per state dir."""

from __future__ import annotations

import stat
import subprocess
import sys

import pytest

from register_batch.errors import ConfigError
from register_batch.sync.ledger import Ledger, StateDirLock, StateDirLocked


def test_records_survive_reopening_and_attempts_count(tmp_path):
    ledger = Ledger(tmp_path, "https://example.test")
    ledger.start_run(dry_run=False)
    ledger.record("hesa:1", "in_flight", hesa_id="1", operation="create", attempt=True)
    ledger.record("hesa:1", "done", trainee_id="T" * 24, operation="create", payload_hash="abc")
    ledger.close()
    again = Ledger(tmp_path, "https://example.test")
    entry = again.get("hesa:1")
    assert (entry.status, entry.trainee_id, entry.hesa_id, entry.attempts) == ("done", "T" * 24, "1", 1)
    assert again.unresolved() == []
    assert stat.S_IMODE((tmp_path / "ledger.sqlite3").stat().st_mode) == 0o600


def test_a_state_dir_belongs_to_one_target(tmp_path):
    Ledger(tmp_path, "https://sandbox.example").close()
    with pytest.raises(ConfigError, match=r"belongs to target https://sandbox\.example"):
        Ledger(tmp_path, "https://production.example")


def test_in_flight_marks_are_committed_before_the_process_dies(tmp_path):
    script = (
        "import os, sys; from register_batch.sync.ledger import Ledger; "
        f"l = Ledger(__import__('pathlib').Path({str(tmp_path)!r}), 't'); "
        "l.record('hesa:9', 'in_flight', operation='create'); os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    [entry] = Ledger(tmp_path, "t").unresolved()
    assert (entry.key, entry.status, entry.operation) == ("hesa:9", "in_flight", "create")


def test_second_run_on_a_state_dir_is_refused_with_a_clear_message(tmp_path):
    with StateDirLock(tmp_path), pytest.raises(StateDirLocked) as caught:
        StateDirLock(tmp_path).acquire()
    assert "another register-batch sync is using the state dir" in str(caught.value)
    assert "pid" in str(caught.value)
    StateDirLock(tmp_path).acquire().release()  # free again afterwards


def test_a_state_dir_that_cannot_be_made_is_a_configuration_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="as the state dir") as caught:
        StateDirLock(tmp_path / "file" / "state")
    assert str(caught.value).endswith(f"({tmp_path / 'file'} is a file, not a folder)")


def test_a_ledger_file_that_is_not_a_database_is_a_configuration_error(tmp_path):
    # A damaged or foreign ledger.sqlite3 (a disk error, a file copied over it) is a state dir problem: one line
    # and exit 2 (ConfigError), not an internal error.
    (tmp_path / "ledger.sqlite3").write_bytes(b"not a database, but forty bytes or more of something else\n")
    with pytest.raises(ConfigError, match=r"ledger\.sqlite3.*cannot be read as the sync ledger"):
        Ledger(tmp_path, "https://example.test")
