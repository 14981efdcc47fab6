"""A state dir on a file system that maps file owners (review63 F1): NFS with root_squash or a failed NFSv4 id mapping
shows every file as `nobody`, a CIFS mount with `uid=` as that user, a FUSE mount as whoever it says. The owner check
of review61 F1 refused there even the ledger and the embedded emulator's database a run had just made (exit 2, "it is
another user's file"), and every state dir an earlier version had made there.

The rule (fs.py): a file this open made is accepted whatever owner it shows; a file found is accepted when it is this
user's or the owner's of the folder holding it. Another user's file planted in a folder they do not own is still
refused (tests/security/test_state_files_of_others.py has the rest of those).

The mount is simulated with `bindfs --force-user=nobody`, as root (a FUSE mount needs it here); those tests skip
otherwise. The others act as another user by `os.geteuid` saying so: the file system then shows this user's files as
another's, as such a mount does."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.emulator.store import Store
from register_batch.errors import ConfigError
from register_batch.fs import private_database
from register_batch.sync.ledger import Ledger

EXTRACT = Path(__file__).parents[2] / "samples" / "extract.xml"
AS_OF = date(2026, 3, 1).isoformat()
NOBODY = 65534
AS_ROOT_WITH_BINDFS = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0 or shutil.which("bindfs") is None or not Path("/dev/fuse").exists(),
    reason="simulating a mount that maps owners needs bindfs, /dev/fuse and root (run the tests as root with bindfs "
    "installed: apt-get install bindfs)",
)
AS_ROOT = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="a file owned by another user can be made only as root (os.chown to uid 65534); run the tests as root",
)
POSIX = pytest.mark.skipif(not hasattr(os, "geteuid"), reason="Windows has no uid: its folders' ACLs decide")


@pytest.fixture
def mapped(tmp_path) -> Path:
    """A folder every file and folder of which shows as `nobody`'s (uid 65534): `bindfs --force-user=nobody`."""
    backing, mount = tmp_path / "backing", tmp_path / "share"
    backing.mkdir()
    mount.mkdir()
    done = subprocess.run(
        ["bindfs", "--force-user=nobody", "--force-group=nogroup", str(backing), str(mount)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if done.returncode != 0:
        pytest.skip(f"bindfs could not mount here (no FUSE in this container?): {done.stderr.strip()}")
    try:
        assert os.path.ismount(mount) and mount.stat().st_uid == NOBODY
        yield mount
    finally:
        for how in (["-u"], ["-u", "-z"]):  # lazily if still busy: never a mount left in the test's folder
            if subprocess.run(["fusermount", *how, str(mount)], capture_output=True, timeout=30).returncode == 0:
                break


def cli_run(args: list[str]) -> tuple[int, str]:
    result = CliRunner().invoke(cli, args)
    return result.exit_code, " ".join(result.output.split())


@pytest.fixture
def no_settings(monkeypatch, tmp_path):
    for name in ("REGISTER_API_TOKEN", "REGISTER_API_URL", "REGISTER_BATCH_STATE_DIR", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGISTER_BATCH_RATE_DIR", "off")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))


@AS_ROOT_WITH_BINDFS
def test_a_sync_to_the_embedded_emulator_in_a_state_dir_on_a_mount_showing_every_file_as_nobodys_works(
    mapped, tmp_path, no_settings
):
    """The review's run: exit 2, "cannot write .../register/register.sqlite3: it is another user's file (uid 65534)",
    for the database that very run had made."""
    state = mapped / "state"
    code, said = cli_run(
        ["sync", str(EXTRACT), "--state-dir", str(state), "--report-dir", str(tmp_path / "r1"), "--as-of", AS_OF]
    )
    assert code == 0 and "12 records: 12 created" in said, said
    assert (state / "ledger.sqlite3").stat().st_uid == NOBODY  # as the mount shows it
    assert (state / "register" / "register.sqlite3").stat().st_uid == NOBODY
    # The files found there on the next runs: nobody's, in a folder that is nobody's too (made by this user).
    code, said = cli_run(
        ["sync", str(EXTRACT), "--state-dir", str(state), "--report-dir", str(tmp_path / "r2"), "--as-of", AS_OF]
    )
    assert code == 0 and "12 records: 12 unchanged" in said, said
    code, said = cli_run(["export", "--state-dir", str(state), "--to", "register-csv", "-o", str(tmp_path / "out.csv")])
    assert code == 0 and "Exported 12 trainees" in said, said


@AS_ROOT_WITH_BINDFS
def test_the_emulators_own_database_on_such_a_mount_is_used(mapped):
    """`register-batch emulator --db FILE` there: made, then opened again."""
    Store(mapped / "emulator.sqlite3").close()
    Store(mapped / "emulator.sqlite3").close()


@AS_ROOT_WITH_BINDFS
def test_a_file_planted_by_another_user_in_a_root_owned_shared_folder_is_still_refused(mapped, tmp_path):
    """The rule accepts the folder owner's files, not anyone's: a shared folder of this user's (root's), others may
    write to, with nobody's ledger planted in it. Beside it, on the mount, the same run works."""
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    planted = shared / "ledger.sqlite3"
    planted.write_bytes(b"")
    planted.chmod(0o666)
    os.chown(planted, NOBODY, -1)
    with pytest.raises(ConfigError, match=f"it is another user's file \\(uid {NOBODY}\\)"):
        Ledger(shared, "http://127.0.0.1:1")
    assert planted.read_bytes() == b"" and planted.stat().st_uid == NOBODY
    Ledger(mapped / "state", "http://127.0.0.1:1").close()


@AS_ROOT
def test_a_file_of_the_folders_owner_is_accepted_and_another_users_in_it_refused(tmp_path):
    """Without a mount: a folder of nobody's holding nobody's database is theirs to give (a folder's owner could
    replace its files anyway); a file of nobody's in root's folder is not."""
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "db.sqlite3").write_bytes(b"")
    os.chown(theirs / "db.sqlite3", NOBODY, -1)
    os.chown(theirs, NOBODY, -1)
    private_database(theirs / "db.sqlite3")
    os.chown(theirs, 0, -1)
    with pytest.raises(Exception, match="it is another user's file"):
        private_database(theirs / "db.sqlite3")


@POSIX
def test_a_ledger_this_run_makes_is_used_whoever_the_file_system_says_owns_it(tmp_path, monkeypatch):
    """What such a mount does, seen from this process: its own new files are another user's. Made here (O_EXCL),
    the ledger is used; found there on the next run, it is the folder's owner's, and used too."""
    real = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: real + 4242)
    Ledger(tmp_path / "state", "http://127.0.0.1:1").close()
    Ledger(tmp_path / "state", "http://127.0.0.1:1").close()
    Store(tmp_path / "emulator.sqlite3").close()
    Store(tmp_path / "emulator.sqlite3").close()


@AS_ROOT_WITH_BINDFS
def test_a_state_dir_made_by_root_in_an_export_folder_open_to_all_under_root_squash_works_then_and_next_time(
    tmp_path, no_settings
):
    """NFS with root_squash (review130 F6): root may write only into an export folder `nobody` may write to, here
    a user's folder opened to all (1777), and what root makes there is shown as `nobody`'s. The state dir a sync
    made there was refused at once ("another user's folder ... in a folder others may write to"), and on every later
    run. Simulated by `bindfs --map=0/65534`: root's files shown as nobody's, the user's as theirs."""
    backing, mount = tmp_path / "backing", tmp_path / "export"
    (backing / "share").mkdir(parents=True)
    mount.mkdir()
    os.chown(backing / "share", 1000, 1000)
    (backing / "share").chmod(0o1777)
    done = subprocess.run(
        ["bindfs", "--map=0/65534:@0/@65534", str(backing), str(mount)], capture_output=True, text=True, timeout=30
    )
    if done.returncode != 0:
        pytest.skip(f"bindfs could not mount here (no FUSE in this container?): {done.stderr.strip()}")
    try:
        state = mount / "share" / "state"
        for run in ("r1", "r2"):
            code, said = cli_run(
                ["sync", str(EXTRACT), "--state-dir", str(state), "--report-dir", str(tmp_path / run), "--as-of", AS_OF]
            )
            assert code == 0 and "12 records: 12 " in said, said
        assert state.stat().st_uid == NOBODY and (mount / "share").stat().st_uid == 1000
        assert sorted(p.name for p in (mount / "share").iterdir()) == ["state"]
    finally:
        for how in (["-u"], ["-u", "-z"]):
            if subprocess.run(["fusermount", *how, str(mount)], capture_output=True, timeout=30).returncode == 0:
                break
