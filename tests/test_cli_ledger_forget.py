"""`register-batch ledger forget` as users run it (review194 F1): a fresh process, the embedded emulator's state dir."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import UTC, datetime
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


def test_ids_from_the_tools_own_not_in_extract_csv_forget_who_left(synced) -> None:
    """not_in_extract.csv (and results.csv) write a HUSID with the apostrophe that keeps a spreadsheet from changing
    it ('2510000000001): given as --ids-from, the file is read by its hesa_id column and the apostrophe taken off,
    so the trainee who left is forgotten, not reported "not in the ledger" with exit 0 (review200 F1)."""
    folder, env = synced
    write_extract(folder / "fewer.csv", [trainee(2)])
    left = run_cli(
        ["sync", "fewer.csv", "--state-dir", "st", "--report-dir", "r2", "--as-of", AS_OF], cwd=folder, env=env
    )
    assert left.returncode == 0, left.stderr
    husid = trainee(1)["hesa_id"]
    assert f"'{husid}" in (folder / "r2" / "not_in_extract.csv").read_text(encoding="utf-8-sig")

    done = run_cli(
        ["ledger", "forget", "--state-dir", "st", "--ids-from", "r2/not_in_extract.csv"], cwd=folder, env=env
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [f"Forgot 1 record (HUSIDs {husid}) in st/{LEDGER_FILE}"]
    with sqlite3.connect(folder / "st" / LEDGER_FILE) as db:
        assert db.execute("SELECT COUNT(*) FROM records WHERE hesa_id = ?", (husid,)).fetchone()[0] == 0
    db.close()


def test_a_husid_pasted_from_results_csv_is_the_husid(synced) -> None:
    folder, env = synced
    husid = trainee(2)["hesa_id"]
    assert f"'{husid}" in (folder / "r1" / "results.csv").read_text(encoding="utf-8-sig")
    done = run_cli(["ledger", "forget", "--state-dir", "st", "--hesa-id", f"'{husid}"], cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Forgot 1 record (HUSIDs {husid})")


def test_a_husid_that_is_not_digits_is_refused(synced) -> None:
    folder, env = synced
    done = run_cli(["ledger", "forget", "--state-dir", "st", "--hesa-id", "25100O0000001"], cwd=folder, env=env)
    assert done.returncode == 2
    assert "is not a HUSID" in done.stderr and len(done.stderr.splitlines()) == 1, done.stderr


def test_ids_the_ledger_holds_none_of_exit_1_and_are_said_on_stderr(synced) -> None:
    """Every id given unknown to the ledger (a wrong --state-dir, ids of another format): exit 1, so that a
    scheduled erasure notices; one of two unknown: exit 0, and a warning names how many (review200 F1)."""
    folder, env = synced
    none = run_cli(["ledger", "forget", "--state-dir", "st", "--hesa-id", "2599999999999"], cwd=folder, env=env)
    assert none.returncode == 1, none.stderr
    assert "1 not in the ledger (2599999999999)" in none.stdout
    assert "warning: 1 of the 1 ids given is not in" in none.stderr
    some = run_cli(
        ["ledger", "forget", "--state-dir", "st", "--hesa-id", "2599999999999", "--hesa-id", trainee(1)["hesa_id"]],
        cwd=folder,
        env=env,
    )
    assert some.returncode == 0, some.stderr
    assert "warning: 1 of the 2 ids given is not in" in some.stderr


def test_a_dry_run_lists_what_would_be_refused_and_exits_0(synced) -> None:
    """A write Register may still carry out refuses a forget (exit 2); the dry run shows it beside what it would
    forget, with when it can be forgotten, and exits 0 (review200 F5)."""
    folder, env = synced
    husid = trainee(1)["hesa_id"]
    with sqlite3.connect(folder / "st" / LEDGER_FILE) as db:
        db.execute(
            "INSERT INTO writes_unanswered (kind, key, sent_at) VALUES ('create', ?, ?)",
            (f"hesa:{husid}", datetime.now(UTC).isoformat(timespec="milliseconds")),
        )
    db.close()
    refused = run_cli(["ledger", "forget", "--state-dir", "st", "--hesa-id", husid], cwd=folder, env=env)
    assert refused.returncode == 2 and "can be forgotten from" in refused.stderr, refused.stderr
    would = run_cli(["ledger", "forget", "--state-dir", "st", "--hesa-id", husid, "--dry-run"], cwd=folder, env=env)
    assert would.returncode == 0, would.stderr
    assert would.stdout.startswith(f"Would forget 1 record (HUSIDs {husid})")
    assert "refused now, for 1 record" in would.stdout
    assert f"note: would be refused: HUSID {husid}: create sent at" in would.stderr


def test_help_says_what_not_synced_since_counts_as_synced(tmp_path: Path) -> None:
    """A record held back as invalid is not noted by a sync, so --not-synced-since counts its trainee as not synced:
    the help says so (review200 F2)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    shown = run_cli(["ledger", "forget", "--help"], cwd=tmp_path, env=env)
    flat = " ".join(shown.stdout.split())
    assert "not one held back as invalid" in flat and "is kept whole" in flat, shown.stdout
