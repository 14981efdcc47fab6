"""Personal data at rest (issue 7): every file register-batch creates is owner-only (0600) and every folder it
creates is owner-only (0700), whatever the user's umask: reports, results, exports, convert and generate
outputs, the state dir, the ledger and its -wal/-shm, the lock, the embedded emulator's database and token,
pulled reference data, an emulator --db file, the shared rate-budget file.

Each command runs in a child process with umask 022 (the common default, which would leave files 0644),
in a folder holding only its inputs; afterwards every path the commands created is checked.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.emulator import start_emulator
from register_batch.emulator.store import Store
from register_batch.fs import private_dir, private_writer
from register_batch.sync.ledger import Ledger
from trainee_extracts import extract

AS_OF = date(2026, 11, 28)
TOKEN = "private-files-token-0001"


def _umask_022() -> None:
    os.umask(0o022)


def modes(root: Path, inputs: set[Path]) -> dict[str, str]:
    """Every path under root that is not an input, with its permission bits where they are wrong."""
    wrong = {}
    for path in sorted(root.rglob("*")):
        if path in inputs or path.is_symlink():
            continue
        mode = stat.S_IMODE(path.stat().st_mode)
        want = 0o700 if path.is_dir() else 0o600
        if mode != want:
            wrong[str(path.relative_to(root))] = oct(mode)
    return wrong


@pytest.mark.slow
def test_everything_the_commands_create_is_owner_only(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    source = extract(work / "in.csv", 6)
    big = extract(work / "big.csv", 400)
    token_file = work / "token"
    token_file.write_text(TOKEN)
    token_file.chmod(0o600)
    inputs = {source, big, token_file}
    rate_dir = work / "rate-budget"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(
        REGISTER_API_TOKEN=TOKEN, HOME=str(tmp_path / "home"), XDG_RUNTIME_DIR="", REGISTER_BATCH_RATE_DIR=str(rate_dir)
    )
    as_of = ["--as-of", AS_OF.isoformat()]
    created = []

    def run(args: list[str], codes: tuple[int, ...] = (0,), token: bool = True) -> None:
        # No token for the embedded emulator: one with no target is refused, as a user's is
        given = env if token else {k: v for k, v in env.items() if k != "REGISTER_API_TOKEN"}
        done = run_cli(args, work, given, umask=0o022)  # a typical umask: what we write must not rely on it
        assert done.returncode in codes, (args, done.stdout, done.stderr)
        created.append(args[0])

    run(["validate", str(source), *as_of, "--junit"])  # default report dir: register-batch-reports/validate-*/
    run(["validate", str(source), *as_of, "--report-dir", "deep/er/reports"])
    for fmt in ("jsonl", "json", "register-csv"):
        run(["convert", str(source), "--to", fmt, "-o", f"out/converted.{fmt}", "--report-dir", "convert-reports"])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        target = ["--target", emulator.url]
        run(["sync", str(source), *target, "--state-dir", "state/remote", *as_of])
        for fmt in ("register-csv", "hesa-xml", "json", "jsonl"):
            run(["export", *target, "--academic-cycle", "2025", "--to", fmt, "-o", f"exports/held.{fmt}"])
        run(["reference", "pull", *target, "--state-dir", "pulled"])
    run(["sync", str(source), "--state-dir", "state/embedded", *as_of], token=False)  # the embedded emulator
    run(["export", "--state-dir", "state/embedded", "--to", "jsonl", "-o", "embedded.jsonl"], token=False)
    run(
        [
            "generate",
            "--count",
            "3",
            "-o",
            "generated/extract.xml",
            "--seed",
            "1",
            "--defects",
            "0.5",
            "--truth",
            "generated/truth.json",
            *as_of,
        ]
    )
    # SQLite removes -wal and -shm files on a clean close: a sync killed mid-run leaves them, to be checked too.
    killed = subprocess.Popen(
        [sys.executable, "-m", "register_batch", "sync", str(big), "--state-dir", "state/killed", *as_of],
        cwd=work,
        env={k: v for k, v in env.items() if k != "REGISTER_API_TOKEN"},  # the embedded emulator
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=_umask_022,
    )
    leftovers = [
        work / "state" / "killed" / name
        for name in ("ledger.sqlite3-wal", "ledger.sqlite3-shm", "register/register.sqlite3-wal")
    ]
    deadline = time.monotonic() + 60
    while not all(p.exists() for p in leftovers) and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    assert all(p.exists() for p in leftovers), "the killed sync left no -wal files to check"
    emulator_db = work / "emulator" / "state.sqlite3"
    process = subprocess.Popen(
        [sys.executable, "-m", "register_batch", "emulator", "--port", "0", "--db", str(emulator_db), "--token", TOKEN],
        cwd=work,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_umask_022,
    )
    try:
        assert "listening on" in process.stdout.readline()
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=10)

    names = {p.name for p in work.rglob("*")}
    for expected in (
        "report.json", "issues.csv", "report.html", "junit.xml", "results.csv", "ledger.sqlite3", "ledger.sqlite3-shm",
        "sync.lock", "register.sqlite3", "token", "held.register-csv", "held.hesa-xml", "converted.jsonl",
        "extract.xml", "truth.json", "state.sqlite3", "embedded.jsonl",
    ):  # fmt: skip
        assert expected in names, f"{expected} was not created: the check would miss it"
    assert any(p.name.startswith("rate-") for p in rate_dir.iterdir()), "no shared rate-budget file"
    assert any(p.name.startswith("reference") or p.suffix == ".json" for p in (work / "pulled").iterdir())
    found = modes(work, inputs)
    # REGISTER_BATCH_RATE_DIR's budget and provider lock are every sharing account's (no personal data: security.md)
    shared = {f"{rate_dir.name}/{p.name}" for p in rate_dir.iterdir()}
    assert {path: mode for path, mode in found.items() if path not in shared} == {}
    assert {found.get(path) for path in shared} == {"0o666"}


def test_the_embedded_emulator_database_is_owner_only_even_if_it_existed(tmp_path):
    """Its SQLite file holds trainees; SQLite creates files 0644 under umask 022 unless told otherwise."""
    old = os.umask(0o022)
    try:
        path = tmp_path / "new" / "register.sqlite3"
        store = Store(path)
        with store.transaction():
            store._db.execute("INSERT INTO meta (key, value) VALUES ('x', 'y')")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        for extra in (f"{path}-wal", f"{path}-shm"):
            assert stat.S_IMODE(os.stat(extra).st_mode) == 0o600
        store.close()
        legacy = tmp_path / "legacy.sqlite3"
        legacy.touch(mode=0o644)
        legacy.chmod(0o644)
        Store(legacy).close()
        assert stat.S_IMODE(legacy.stat().st_mode) == 0o600
    finally:
        os.umask(old)


def test_a_ledger_whose_wal_file_cannot_be_tightened_opens_as_the_ledger_itself_would(tmp_path, monkeypatch):
    """A -wal or -shm the user may not chmod (another user's, left by a run as root) is left as it is, as the ledger
    file itself and the emulator's are: no internal error, and the ledger's connection not left open. (os.chmod is
    made to refuse: tests run as root, which may chmod any file.)"""
    chmod = os.chmod

    def refused(path, mode, **kwargs):
        if str(path).endswith(("-wal", "-shm")):
            raise PermissionError(1, "Operation not permitted", str(path))
        chmod(path, mode, **kwargs)

    monkeypatch.setattr(os, "chmod", refused)
    ledger = Ledger(tmp_path / "state", "http://127.0.0.1:1")
    try:
        assert ledger.target == "http://127.0.0.1:1" and ledger.never_listed()
    finally:
        ledger.close()


def test_ledger_and_report_folders_are_tightened_and_created_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        state = tmp_path / "a" / "b" / "state"
        Ledger(state, "http://127.0.0.1:1").close()
        for folder in (tmp_path / "a", tmp_path / "a" / "b", state):
            assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
        ledger = state / "ledger.sqlite3"
        ledger.chmod(0o644)  # made by an older version, or copied in
        Ledger(state, "http://127.0.0.1:1").close()
        assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
        shared = tmp_path / "shared"
        shared.mkdir(mode=0o755)
        shared.chmod(0o755)
        private_dir(shared)
        assert stat.S_IMODE(shared.stat().st_mode) == 0o700
        with private_writer(tmp_path / "x" / "y" / "out.csv") as fh:
            fh.write("a\n")
        assert stat.S_IMODE((tmp_path / "x").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "x" / "y" / "out.csv").stat().st_mode) == 0o600
    finally:
        os.umask(old)


@pytest.mark.skipif(os.name != "posix", reason="folder modes: POSIX only")
def test_a_report_or_state_folder_that_holds_other_files_or_is_sticky_keeps_its_mode(tmp_path, monkeypatch):
    """`--report-dir /tmp` run as root made /tmp root's alone (0700), and a shared project folder given as the report
    folder locked its group out of their own files. A folder is tightened only when it holds nothing but what
    register-batch keeps there; the reports and ledger written into any folder are owner-only all the same."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    monkeypatch.chdir(tmp_path)
    folders = {"sticky": 0o1777, "project": 0o2775, "reports": 0o755, "state": 0o755, "project-state": 0o775}
    for name, mode in folders.items():
        (tmp_path / name).mkdir()
        (tmp_path / name).chmod(mode)
    for theirs in ("project", "project-state"):
        (tmp_path / theirs / "notes.txt").write_text("the team's\n")
    sample = str(Path(__file__).parents[2] / "samples" / "extract.xml")
    for report_dir in ("sticky", "project", "reports"):
        result = CliRunner().invoke(cli, ["validate", sample, "--report-dir", report_dir])
        assert result.exit_code == 0, result.output
        assert stat.S_IMODE((tmp_path / report_dir / "report.json").stat().st_mode) == 0o600
    for state_dir in ("state", "project-state"):
        result = CliRunner().invoke(cli, ["sync", sample, "--dry-run", "--state-dir", state_dir, "--report-dir", "r"])
        assert result.exit_code == 0, result.output
    modes = {name: stat.S_IMODE((tmp_path / name).stat().st_mode) for name in folders}
    assert modes == {"sticky": 0o1777, "project": 0o2775, "reports": 0o700, "state": 0o700, "project-state": 0o775}
    # A killed run's temporary file of a report is the run's own: it keeps no report folder open (review33).
    (tmp_path / "reports").chmod(0o755)
    (tmp_path / "reports" / ".report.json.abcd1234.tmp").write_text("")
    assert CliRunner().invoke(cli, ["validate", sample, "--report-dir", "reports"]).exit_code == 0
    assert stat.S_IMODE((tmp_path / "reports").stat().st_mode) == 0o700


def test_an_existing_lock_file_and_embedded_token_are_tightened(tmp_path):
    from register_batch.sync.ledger import StateDirLock
    from register_batch.sync.target import embedded_token_in

    old = os.umask(0o022)
    try:
        lock_path = tmp_path / "sync.lock"
        lock_path.write_text("12345 2026-01-01\n")
        lock_path.chmod(0o644)  # left by an older version, or copied in: it will name this run's pid
        lock = StateDirLock(tmp_path)
        lock.acquire()
        try:
            assert stat.S_IMODE(lock_path.stat().st_mode) == 0o600
        finally:
            lock.release()
        token = tmp_path / "token"
        token.write_text("embedded_0123\n")
        token.chmod(0o644)
        assert embedded_token_in(tmp_path) == "embedded_0123"
        assert stat.S_IMODE(token.stat().st_mode) == 0o600
    finally:
        os.umask(old)
