"""`register-batch ledger forget` as users run it (review194 F1): a fresh process, the embedded emulator's state dir."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.sync.ledger import LEDGER_FILE, StateDirLock
from trainee_extracts import trainee, write_extract

AS_OF = "2026-11-28"


@pytest.fixture
def synced(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Two trainees synced into the embedded emulator, state dir `st` in `tmp_path`: (folder, environment)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    write_extract(tmp_path / "extract.csv", [trainee(1), trainee(2)])
    first = run_cli(
        ["sync", "extract.csv", "--state-dir", "st", "--report-dir", "r1", "--as-of", AS_OF], cwd=tmp_path, env=env
    )
    assert first.returncode == 0, first.stderr
    return tmp_path, env


def _held(folder: Path) -> int:
    """How many trainees the embedded emulator holds (its own database)."""
    with sqlite3.connect(folder / "st" / "register" / "register.sqlite3") as db:
        count = db.execute("SELECT COUNT(*) FROM trainees").fetchone()[0]
    db.close()
    return int(count)


def test_forget_says_what_it_forgot_and_the_next_sync_creates_no_one_again(synced) -> None:
    folder, env = synced
    husid = trainee(1)["hesa_id"]
    done = run_cli(
        ["ledger", "forget", "--state-dir", "st", "--hesa-id", husid, "--hesa-id", "2599999999999"], cwd=folder, env=env
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        f"Forgot 1 record (HUSIDs {husid}) in st/{LEDGER_FILE}; 1 not in the ledger (2599999999999)"
    ]
    assert "sync_overwrites_register_edit" in done.stderr  # what is lost is said
    assert "Erasure and retention" in done.stderr
    with sqlite3.connect(folder / "st" / LEDGER_FILE) as db:
        assert db.execute("SELECT COUNT(*) FROM records WHERE hesa_id = ?", (husid,)).fetchone()[0] == 0
    db.close()

    held = _held(folder)
    again = run_cli(
        ["sync", "extract.csv", "--state-dir", "st", "--report-dir", "r2", "--as-of", AS_OF], cwd=folder, env=env
    )
    assert again.returncode == 0, again.stderr
    assert "2 records: 2 unchanged" in again.stdout
    assert _held(folder) == held == 2
    before = {r["hesa_id"]: r["trainee_id"] for r in json.loads((folder / "r1" / "report.json").read_text())["records"]}
    after = {r["hesa_id"]: r["trainee_id"] for r in json.loads((folder / "r2" / "report.json").read_text())["records"]}
    assert after == before


def test_a_dry_run_changes_nothing(synced) -> None:
    folder, env = synced
    ledger = (folder / "st" / LEDGER_FILE).read_bytes()
    done = run_cli(
        ["ledger", "forget", "--state-dir", "st", "--srs-id", trainee(2)["provider_trainee_id"], "--dry-run"],
        cwd=folder,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Would forget 1 record (HUSIDs {trainee(2)['hesa_id']})")
    assert "nothing was changed (--dry-run)" in done.stdout
    assert (folder / "st" / LEDGER_FILE).read_bytes() == ledger


def test_ids_from_a_file(synced) -> None:
    folder, env = synced
    (folder / "ids.txt").write_text(
        f"# erasure requests\n{trainee(1)['hesa_id']}\nsrs:{trainee(2)['provider_trainee_id']}\n\n"
    )
    done = run_cli(["ledger", "forget", "--state-dir", "st", "--ids-from", "ids.txt"], cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Forgot 2 records")


@pytest.mark.parametrize(
    ("args", "said"),
    [
        ([], "say whom to forget"),
        (["--not-synced-since", "2026-13-01"], "is not a date like"),
        (["--state-dir", "nowhere", "--hesa-id", "2510000000001"], "no sync ledger in nowhere"),
    ],
)
def test_unusable_arguments_exit_2_in_one_line(tmp_path: Path, args: list[str], said: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    done = run_cli(["ledger", "forget", *args], cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1 and said in done.stderr, done.stderr


def test_refused_while_a_sync_holds_the_state_dir(synced) -> None:
    folder, env = synced
    with StateDirLock(folder / "st"):
        done = run_cli(
            ["ledger", "forget", "--state-dir", "st", "--hesa-id", trainee(1)["hesa_id"]], cwd=folder, env=env
        )
    assert done.returncode == 2
    assert "in use by another run" in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr


def test_the_command_list_names_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    shown = run_cli(["--help"], cwd=tmp_path, env=env)
    assert any(line.split()[:1] == ["ledger"] for line in shown.stdout.splitlines()), shown.stdout
