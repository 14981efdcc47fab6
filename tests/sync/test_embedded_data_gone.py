"""The embedded emulator's data deleted while its state dir's ledger stays (sync/target.py check_embedded_data).

security.md told users to delete `register` in the embedded emulator's state dir to wipe its data: every later sync
then reported each record as a `conflict` (exit 1), a trainee the ledger links that Register no longer returns, with
nothing saying that the ledger had to go too. An emulator started without --db and restarted is told as one line
(exit 2, "give a new --state-dir"); the embedded one now is too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli

EXTRACT = Path(__file__).parents[2] / "samples" / "extract.xml"


@pytest.fixture
def synced_once(tmp_path, monkeypatch) -> Path:
    """A folder where one sync of the sample extract went to the embedded emulator (default state dir)."""
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_TOKEN", "REGISTER_API_URL", "REGISTER_BATCH_STATE_DIR", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    first = CliRunner().invoke(cli, ["sync", str(EXTRACT)])
    assert first.exit_code == 0 and "12 created" in first.output, first.output
    return tmp_path / ".register-batch" / "embedded-emulator"


def _sync() -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["sync", str(EXTRACT)])
    return result.exit_code, " ".join(result.output.split())


def test_a_sync_after_the_embedded_emulators_data_was_deleted_stops_saying_to_delete_the_whole_state_dir(
    synced_once,
):
    shutil.rmtree(synced_once / "register")
    code, said = _sync()
    assert code == 2, said
    assert "12 conflict" not in said  # what the run said before: each record a conflict, exit 1
    assert (
        "the embedded emulator's data in .register-batch/embedded-emulator/register holds no trainee (deleted?), but "
        "the ledger in .register-batch/embedded-emulator still links records to its trainees" in said
    )
    assert "delete the whole state dir .register-batch/embedded-emulator (or give a new --state-dir)" in said
    assert "Target:" not in said  # refused before the run starts: nothing planned, no report but the first run's
    assert len(list(Path("register-batch-reports").iterdir())) == 1

    # What security.md now says to do works: the whole state dir deleted, the next sync starts afresh.
    shutil.rmtree(synced_once)
    code, said = _sync()
    assert code == 0 and "12 records: 12 created" in said, said


def test_a_state_dir_whose_emulator_data_was_made_again_empty_is_refused_too(synced_once):
    """An earlier version (or an export, which opens the embedded emulator too) made `register` again, empty: every
    sync after that one met 12 conflicts. The emulator holding no trainee while the ledger links some is the sign,
    whatever made it. The export is refused the same way: it wrote an empty file and exited 0 (review154 F2)."""
    shutil.rmtree(synced_once / "register")
    exported = CliRunner().invoke(cli, ["export", "--to", "json", "-o", "out.json"])
    said = " ".join(exported.output.split())
    assert exported.exit_code == 2, said
    assert "holds no trainee (deleted?)" in said and "an export would list none" in said, said
    assert "Nothing was sent" not in said  # as the damaged-database line says it to a sync only (review155 F1)
    assert not Path("out.json").exists()
    assert (synced_once / "register" / "register.sqlite3").exists()
    code, said = _sync()
    assert code == 2 and "holds no trainee (deleted?)" in said, said


def test_a_ledger_that_links_no_trainee_does_not_stop_a_sync_of_a_new_emulator(tmp_path, monkeypatch):
    """A state dir whose runs created nobody (every record invalid) has nothing to lose: the emulator's data made
    anew is no sign of anything."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_URL", raising=False)
    monkeypatch.delenv("REGISTER_BATCH_STATE_DIR", raising=False)
    invalid = tmp_path / "invalid.xml"
    invalid.write_text(EXTRACT.read_text(encoding="utf-8").replace("<F_BIRTHDTE>", "<F_BIRTHDTE>x"), encoding="utf-8")
    first = CliRunner().invoke(cli, ["sync", str(invalid)])
    assert first.exit_code == 1 and "12 invalid" in first.output, first.output
    shutil.rmtree(tmp_path / ".register-batch" / "embedded-emulator" / "register")
    code, said = _sync()
    assert code == 0 and "12 records: 12 created" in said, said
