"""sync_files as an SRS vendor's own nightly job calls it: many runs in one long-lived process, errors caught."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from register_batch.errors import UnusableInput
from register_batch.sync.ledger import StateDirLock, StateDirLocked

SAMPLES = Path(__file__).parents[2] / "samples"


def test_an_unusable_input_leaves_no_file_open(register, tmp_path, unclosed_files):
    cut_short = tmp_path / "cut-short.xml"
    cut_short.write_text('<?xml version="1.0"?><ITTRecord><Provider><Student>', encoding="utf-8")
    with pytest.raises(UnusableInput):
        register.sync_all([SAMPLES / "extract.xml", cut_short])
    assert unclosed_files() == []


def test_a_state_dir_in_use_leaves_no_file_open(register, tmp_path, unclosed_files):
    """Another sync holding the state dir: the refused run's report spool was left open."""
    held = StateDirLock(tmp_path / "state")
    errors: list[BaseException] = []

    def other_sync() -> None:  # the lock is per open file: another process's, or another thread's, run
        try:
            register.sync(SAMPLES / "extract.xml")
        except BaseException as exc:  # looked at below
            errors.append(exc)

    with held:
        thread = threading.Thread(target=other_sync)
        thread.start()
        thread.join()
    assert [type(e) for e in errors] == [StateDirLocked]
    errors.clear()
    assert unclosed_files() == []
