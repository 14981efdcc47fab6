"""A state dir others can write to (a shared project folder, a folder under a sticky /tmp): another user puts a file
of theirs, a symbolic link or a hard link where the sync ledger or the embedded emulator's database goes (review61
F1). The ledger names every trainee (HUSID, SRS id), the emulator's database holds whole records: neither is written
into such a file, nor through such a link. The run stops before anything is sent (exit 2, one line naming the file),
and the file planted, or the one a link leads to, is left as it was.

Another user's file can be made only as root (`os.chown`): those tests skip otherwise."""

from __future__ import annotations

import os
import stat
import subprocess
from datetime import date
from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.emulator.store import Store
from register_batch.errors import ConfigError, UnwritableOutput
from register_batch.sync.ledger import Ledger
from trainee_extracts import extract

AS_OF = date(2026, 11, 28).isoformat()
OTHER_UID = 65534  # nobody
AS_ROOT = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="a file owned by another user can be made only as root (os.chown to uid 65534); run the tests as root",
)


def shared_folder(path: Path) -> Path:
    """A folder every user may write to, as another user would leave it."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o777)
    return path


def their_file(path: Path, *, owner: int | None = None) -> Path:
    """An empty file any user may read and write (0666), made by another user when `owner` is given."""
    path.write_bytes(b"")
    path.chmod(0o666)
    if owner is not None:
        os.chown(path, owner, -1)
    return path


def untouched(path: Path, owner: int | None = None) -> bool:
    """Whether a planted file is still empty, 0666 and (given `owner`) theirs."""
    status = path.stat()
    return (
        status.st_size == 0
        and stat.S_IMODE(status.st_mode) == 0o666
        and (owner is None or status.st_uid == owner)
        and path.read_bytes() == b""
    )


def embedded_sync(work: Path, state: Path) -> tuple[int, str]:
    """`register-batch sync` of three records to the embedded emulator in `state`: its exit code and stderr."""
    source = extract(work / "in.csv", 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(work / "home"), REGISTER_BATCH_RATE_DIR="off")
    done = run_cli(
        ["sync", str(source), "--state-dir", str(state), "--report-dir", str(work / "reports"), "--as-of", AS_OF],
        work,
        env,
    )
    return done.returncode, done.stderr


@pytest.mark.parametrize(
    "name", ["ledger.sqlite3", "ledger.sqlite3-wal", "ledger.sqlite3-shm", "ledger.sqlite3-journal"]
)
def test_a_symlink_at_the_ledger_or_its_companions_is_refused_and_what_it_leads_to_is_untouched(tmp_path, name):
    """A link to a file the other user can read: the ledger went through it (sqlite3 follows links), 0666 and full
    of HUSIDs. A -journal planted would be played back into the ledger by SQLite."""
    state = shared_folder(tmp_path / "state")
    target = their_file(tmp_path / "theirs.db")
    (state / name).symlink_to(target)
    with pytest.raises(ConfigError) as caught:
        Ledger(state, "http://127.0.0.1:1")
    said = str(caught.value)
    assert said.startswith(f"cannot use {state / name} for the sync ledger: it is a symbolic link"), said
    assert said.endswith("Use a state_dir of your own; nothing was sent") and "\n" not in said
    assert untouched(target)
    assert (state / name).is_symlink()  # left where it is: it is not register-batch's to remove


def test_a_sync_whose_ledger_is_a_symlink_stops_with_one_line_and_exit_2(tmp_path):
    state = shared_folder(tmp_path / "state")
    target = their_file(tmp_path / "theirs.db")
    (state / "ledger.sqlite3").symlink_to(target)
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2, stderr
    assert stderr.strip().splitlines()[-1] == (
        f"register-batch: error: cannot use {state / 'ledger.sqlite3'} for the sync ledger: it is a symbolic link, "
        "and register-batch writes personal data through none: in a folder other users can write to, one could lead "
        "it into a file of theirs. Use a --state-dir of your own; nothing was sent"
    )
    assert "Traceback" not in stderr and untouched(target)


@pytest.mark.parametrize("name", ["register.sqlite3", "register.sqlite3-wal"])
def test_a_symlink_at_the_embedded_emulators_database_is_refused_and_what_it_leads_to_is_untouched(tmp_path, name):
    """Its database holds whole trainee records: name, date of birth, email, NI number."""
    state = shared_folder(tmp_path / "state")
    target = their_file(tmp_path / "theirs.db")
    (shared_folder(state / "register") / name).symlink_to(target)
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(f"register-batch: error: cannot write {state / 'register' / name}: it is a symbolic link")
    assert last.endswith("Use a folder of your own for it (for a sync's embedded emulator, a state dir of your own)")
    assert "Traceback" not in stderr and untouched(target)
    assert not (state / "ledger.sqlite3").exists()  # stopped before the ledger, and before any request


def test_the_emulators_database_given_as_a_symlink_is_refused(tmp_path):
    """`register-batch emulator --db FILE` (Store): the same rule."""
    target = their_file(tmp_path / "theirs.db")
    link = shared_folder(tmp_path / "shared") / "emulator.sqlite3"
    link.symlink_to(target)
    with pytest.raises(UnwritableOutput, match="it is a symbolic link"):
        Store(link)
    assert untouched(target)


def test_a_hard_link_to_a_file_of_yours_at_the_ledger_is_refused_and_the_file_untouched(tmp_path):
    """Where the system lets others link to your files (macOS; Linux without fs.protected_hardlinks), a second name of
    a file of yours at the ledger's would have SQLite overwrite that file."""
    yours = tmp_path / "notes.txt"
    yours.write_text("your own notes\n")
    state = shared_folder(tmp_path / "state")
    os.link(yours, state / "ledger.sqlite3")
    with pytest.raises(ConfigError, match="it is not a file of its own: it has a second name") as caught:
        Ledger(state, "http://127.0.0.1:1")
    assert yours.read_text() == "your own notes\n"
    # A state dir copied with `cp -al` is the usual cause, in a folder of your own: another one is no answer.
    assert str(caught.value).endswith(
        "Copy the state_dir without links (`cp -a`, not `cp -al`), or remove the other name; nothing was sent"
    )


@AS_ROOT
def test_another_users_ledger_is_refused_and_left_empty(tmp_path):
    """The review's case: an empty 0666 `ledger.sqlite3` of another user's, in a state dir any user may write to.
    The sync filled it and left it 0666, theirs; nothing was said."""
    state = shared_folder(tmp_path / "state")
    planted = their_file(state / "ledger.sqlite3", owner=OTHER_UID)
    with pytest.raises(ConfigError) as caught:
        Ledger(state, "http://127.0.0.1:1")
    assert str(caught.value) == (
        f"cannot use {planted} for the sync ledger: it is another user's file (uid {OTHER_UID}), and that user could "
        "read and change what is written to it. Use a state_dir of your own; nothing was sent"
    )
    assert untouched(planted, OTHER_UID)
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2 and "it is another user's file" in stderr.strip().splitlines()[-1], stderr
    assert untouched(planted, OTHER_UID)


@AS_ROOT
@pytest.mark.parametrize("name", ["ledger.sqlite3-wal", "ledger.sqlite3-journal"])
def test_another_users_companion_of_the_ledger_is_refused(tmp_path, name):
    """SQLite opens a -wal it finds there as it is (and writes the ledger's pages into it), and plays a -journal back
    into the ledger."""
    state = shared_folder(tmp_path / "state")
    planted = their_file(state / name, owner=OTHER_UID)
    with pytest.raises(ConfigError, match=f"cannot use {planted} for the sync ledger: it is another user's file"):
        Ledger(state, "http://127.0.0.1:1")
    assert untouched(planted, OTHER_UID)


@AS_ROOT
def test_another_users_embedded_emulator_database_is_refused_and_left_empty(tmp_path):
    state = shared_folder(tmp_path / "state")
    planted = their_file(shared_folder(state / "register") / "register.sqlite3", owner=OTHER_UID)
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2, stderr
    assert f"cannot write {planted}: it is another user's file (uid {OTHER_UID})" in stderr.strip().splitlines()[-1]
    assert untouched(planted, OTHER_UID)


def test_a_ledger_of_your_own_left_readable_is_still_used_and_tightened(tmp_path):
    """Tightening a file of your own is fine: a ledger an older version made 0644 (or copied in) is used, 0600."""
    state = tmp_path / "state"
    Ledger(state, "http://127.0.0.1:1").close()
    (state / "ledger.sqlite3").chmod(0o644)
    Ledger(state, "http://127.0.0.1:1").close()
    assert stat.S_IMODE((state / "ledger.sqlite3").stat().st_mode) == 0o600


def test_a_folder_at_the_ledgers_name_is_refused_in_one_line(tmp_path):
    """sqlite3 could not open it: an internal error (exit 70) with a traceback."""
    state = tmp_path / "state"
    (state / "ledger.sqlite3").mkdir(parents=True)
    with pytest.raises(ConfigError, match="for the sync ledger: it is not a regular file"):
        Ledger(state, "http://127.0.0.1:1")


def test_a_state_dir_copied_as_hard_links_is_refused_with_advice_to_copy_it_without_links(tmp_path):
    """`cp -al` (or a snapshot tool's links) of a state dir of your own: a write would change the copy too, so it is
    refused, but "use a folder of your own" was no answer, as the folder is your own (review63 F3)."""
    state = tmp_path / "state"
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 0, stderr
    linked = tmp_path / "linked"
    subprocess.run(["cp", "-al", str(state), str(linked)], check=True)
    before = (state / "register" / "register.sqlite3").read_bytes()
    code, stderr = embedded_sync(tmp_path, linked)
    assert code == 2, stderr
    last = stderr.strip().splitlines()[-1]
    assert "it is not a file of its own: it has a second name (a hard link)" in last, last
    assert last.endswith(
        "Copy it without links (for a sync's embedded emulator, the whole state dir: `cp -a`, not `cp -al`), or "
        "remove its other name"
    ), last
    assert "of your own" not in last
    assert (state / "register" / "register.sqlite3").read_bytes() == before
    subprocess.run(["cp", "-a", str(state), str(tmp_path / "copied")], check=True)  # what it says to do works
    code, stderr = embedded_sync(tmp_path, tmp_path / "copied")
    assert code == 0, stderr


# The embedded emulator's token (review125 F1, F4): a token file planted by another user is a token they know, and
# the emulator (127.0.0.1, a port any local user can find) would serve every trainee to them.


@AS_ROOT
def test_another_users_embedded_emulator_token_is_refused_and_nothing_is_started(tmp_path):
    state = shared_folder(tmp_path / "state")
    planted = shared_folder(state / "register") / "token"
    planted.write_text(f"embedded_{'b' * 64}\n")
    os.chown(planted, OTHER_UID, -1)
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2, stderr
    assert f"cannot write {planted}: it is another user's file (uid {OTHER_UID})" in stderr.strip().splitlines()[-1]
    assert "Traceback" not in stderr and not (state / "register" / "register.sqlite3").exists()
    assert planted.stat().st_uid == OTHER_UID and planted.read_text() == f"embedded_{'b' * 64}\n"


def test_a_symlink_at_the_embedded_emulators_token_is_refused_and_what_it_leads_to_is_untouched(tmp_path):
    """Read through, the link's file was taken as the token, and chmod'ed (as root: any file, /etc/passwd)."""
    state = shared_folder(tmp_path / "state")
    target = tmp_path / "victim"
    target.write_text(f"embedded_{'c' * 64}\n")
    target.chmod(0o644)
    (shared_folder(state / "register") / "token").symlink_to(target)
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2, stderr
    assert (
        stderr.strip()
        .splitlines()[-1]
        .startswith(f"register-batch: error: cannot write {state / 'register' / 'token'}: it is a symbolic link")
    )
    assert stat.S_IMODE(target.stat().st_mode) == 0o644 and not (state / "register" / "register.sqlite3").exists()


@pytest.mark.parametrize("kind", ["dangling link", "folder", "named pipe"])
def test_a_link_to_nothing_a_folder_or_a_pipe_at_the_token_is_one_line_and_exit_2(tmp_path, kind):
    """Were exit 70 (FileNotFoundError, IsADirectoryError), and a pipe held the run up for good."""
    token = tmp_path / "state" / "register" / "token"
    token.parent.mkdir(parents=True)
    if kind == "dangling link":
        token.symlink_to(tmp_path / "nothing")
    elif kind == "folder":
        token.mkdir()
    else:
        os.mkfifo(token)
    code, stderr = embedded_sync(tmp_path, tmp_path / "state")
    assert code == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"register-batch: error: cannot write {token}: it is "), stderr


# Folders planted by another user (review125 F2): the state dir itself, the default `.register-batch/<target>` in a
# shared project folder, the embedded emulator's `register/`, or a symbolic link of theirs there. The ledger and the
# emulator's database made in a folder of theirs were "files of the folder's owner", accepted, and theirs to read.


def their_folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    os.chown(path, OTHER_UID, -1)
    return path


@AS_ROOT
def test_another_users_register_folder_in_a_shared_state_dir_is_refused(tmp_path):
    state = shared_folder(tmp_path / "state")
    planted = their_file(their_folder(state / "register") / "register.sqlite3", owner=OTHER_UID)
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"register-batch: error: cannot use {state} as the state dir (its register folder is another user's folder "
        f"(uid {OTHER_UID}) in {state}, a folder others may write to"
    )
    assert untouched(planted, OTHER_UID) and not (state / "ledger.sqlite3").exists()


@AS_ROOT
def test_another_users_state_dir_in_a_shared_folder_is_refused_before_its_ledger_is_made(tmp_path):
    state = their_folder(shared_folder(tmp_path / "shared") / "state")
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2, stderr
    assert f"it is another user's folder (uid {OTHER_UID}) in {state.parent}" in stderr.strip().splitlines()[-1]
    assert list(state.iterdir()) == []


@AS_ROOT
def test_another_users_symlink_at_register_is_refused_and_their_folder_untouched(tmp_path):
    state = shared_folder(tmp_path / "state")
    theirs = their_folder(shared_folder(tmp_path / "bdir"))
    planted = their_file(theirs / "register.sqlite3", owner=OTHER_UID)
    (state / "register").symlink_to(theirs)
    os.lchown(state / "register", OTHER_UID, -1)
    code, stderr = embedded_sync(tmp_path, state)
    assert code == 2, stderr
    last = stderr.strip().splitlines()[-1]
    assert last.startswith(
        f"register-batch: error: cannot use {state} as the state dir (its register folder is a symbolic link of "
        f"another user's (uid {OTHER_UID})"
    )
    assert untouched(planted, OTHER_UID) and sorted(p.name for p in theirs.iterdir()) == ["register.sqlite3"]


@AS_ROOT
def test_the_default_state_dir_planted_in_a_shared_project_folder_is_refused(tmp_path):
    """Run from a shared project folder without --state-dir: `.register-batch/embedded-emulator` made by another
    user first (its `.register-batch` theirs, and not writable by others: their folder above is the project's)."""
    project = shared_folder(tmp_path / "project")
    planted = their_folder(their_folder(project / ".register-batch") / "embedded-emulator")
    source = extract(project / "in.csv", 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(tmp_path / "home"), REGISTER_BATCH_RATE_DIR="off")
    done = run_cli(["sync", str(source), "--report-dir", str(tmp_path / "reports"), "--as-of", AS_OF], project, env)
    assert done.returncode == 2, done.stderr
    assert f"it is another user's folder (uid {OTHER_UID}) in {project}, a folder others may write to" in done.stderr
    assert list(planted.iterdir()) == []


@AS_ROOT
def test_another_users_symlink_given_as_the_state_dir_is_refused(tmp_path):
    theirs = their_folder(shared_folder(tmp_path / "theirs"))
    link = shared_folder(tmp_path / "shared") / "state"
    link.symlink_to(theirs)
    os.lchown(link, OTHER_UID, -1)
    code, stderr = embedded_sync(tmp_path, link)
    assert code == 2, stderr
    assert f"it is a symbolic link of another user's (uid {OTHER_UID})" in stderr.strip().splitlines()[-1]
    assert list(theirs.iterdir()) == []


def test_a_symlink_of_your_own_to_a_state_dir_of_yours_is_followed(tmp_path):
    """A state dir moved to another disk and linked back: yours, and used as before."""
    (tmp_path / "moved").mkdir(mode=0o700)
    (tmp_path / "state").symlink_to(tmp_path / "moved")
    code, stderr = embedded_sync(tmp_path, tmp_path / "state")
    assert code == 0, stderr
    assert (tmp_path / "moved" / "ledger.sqlite3").exists() and (tmp_path / "moved" / "register" / "token").exists()
