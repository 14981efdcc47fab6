"""A state dir or report folder another user could have planted, looked at on its whole way (review130): a symbolic
link of theirs at any folder of the path (`.register-batch` in a shared project folder, F8) is refused, as a link or
folder of root's, or of a user in folders no one else may write to, is not (F1); a folder a run makes on a mount
that shows it as another user's is used, on that run and the next (F6); the messages keep the ledger (F2) and name
the report folder as the option given, before a sync sends anything (F5); a link at a file is left to whoever opens
the file (F10). The embedded emulator's token made read-only is read (F7).

Files of another user can be made only as root (`os.chown`), and a child acting as another user started only by
root (`as_user`): those tests skip otherwise. Such a child works in a folder under /tmp others may enter (the test's
own tmp_path is root's alone)."""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.errors import ConfigError, UnwritableOutput
from register_batch.fs import STATE_DIR_ENTRIES, check_not_planted, private_dir, read_private_file
from register_batch.sync.ledger import Ledger
from trainee_extracts import extract

AS_OF = date(2026, 11, 28).isoformat()
NOBODY = 65534
USER = 1000  # a user who is not root, the one who runs the command in the runs as another user
AS_ROOT = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="files of another user can be made, and runs as another user started, only as root; run the tests as root",
)
pytestmark = AS_ROOT


@pytest.fixture
def open_folder() -> Iterator[Path]:
    """A folder of root's under /tmp (0755) that any user may enter, for the runs as another user."""
    folder = Path(tempfile.mkdtemp(prefix="rb-review130-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def owned(path: Path, uid: int, mode: int = 0o755) -> Path:
    """`path` made a folder of `uid`'s with `mode` (a link: only its owner)."""
    if not path.is_symlink():
        path.mkdir(parents=True, exist_ok=True)
        path.chmod(mode)
    os.lchown(path, uid, -1)
    return path


def planted_file(path: Path, uid: int) -> Path:
    """An empty file any user may read and write, of `uid`'s."""
    path.write_bytes(b"")
    path.chmod(0o666)
    os.chown(path, uid, -1)
    return path


def cli(args: list[str], cwd: Path, home: Path) -> tuple[int, str]:
    """`register-batch ARGS` in `cwd`, without the caller's settings: exit code and stderr."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(home), REGISTER_BATCH_RATE_DIR="off")
    done = run_cli(args, cwd, env)
    return done.returncode, " ".join(done.stderr.split())


def as_user(work: Callable[[], object], user: int = USER) -> str:
    """What `work()` returns (or raises), called in a child process acting as `user`. Forked, not started afresh:
    the interpreter here lives in a folder only root may enter; the modules it needs are loaded already."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover (the child)
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(user)
            os.setuid(user)
            text = repr(work())
        except BaseException as exc:
            text = f"raised {type(exc).__name__}: {exc}"
        os.write(write, text.encode())
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        said = fh.read().decode()
    os.waitpid(pid, 0)
    return said


# F8: `.register-batch` planted as a link, in a shared project folder, to a folder of the planter's in a place no one
# else may write to (their home): the link check looked at the last name only, the folder check from the link's end.


def test_the_default_state_dir_through_another_users_link_in_a_shared_project_folder_is_refused(tmp_path):
    project = owned(tmp_path / "project", 0, 0o777)
    theirs = owned(tmp_path / "mallory" / "rb", NOBODY, 0o777)  # in tmp_path: root's, 0700
    register = owned(theirs / "embedded-emulator" / "register", NOBODY, 0o777)
    owned(theirs / "embedded-emulator", NOBODY, 0o777)
    database = planted_file(register / "register.sqlite3", NOBODY)
    link = project / ".register-batch"
    link.symlink_to(theirs)
    owned(link, NOBODY)
    source = extract(project / "in.csv", 3)
    args = ["sync", str(source), "--report-dir", str(tmp_path / "reports"), "--as-of", AS_OF]
    code, said = cli(args, project, tmp_path / "home")
    assert code == 2, said
    assert said.startswith(
        f"register-batch: error: cannot use .register-batch/embedded-emulator as the state dir ({link}, on its way, is "
        f"a symbolic link of another user's (uid {NOBODY}) in {project}, a folder others may write to, so they could "
        "have made it to lead what is written there into a folder of theirs: remove the link, or give a state dir of "
        "your own)"
    ), said
    assert database.read_bytes() == b"" and sorted(p.name for p in register.iterdir()) == ["register.sqlite3"]


def test_a_report_folder_through_another_users_link_is_refused_before_anything_is_written(tmp_path):
    shared = owned(tmp_path / "shared", 0, 0o1777)
    theirs = owned(tmp_path / "theirs", NOBODY, 0o777)
    (shared / "reports").symlink_to(theirs)
    owned(shared / "reports", NOBODY)
    with pytest.raises(UnwritableOutput, match=r"reports, on its way, is a symbolic link of another user's"):
        check_not_planted(shared / "reports" / "validate", reports=True)


# F1: a link of root's, or of the folder's owner in folders no one else may write to, is no plant.


def test_a_state_dir_given_as_a_link_root_made_to_a_folder_of_the_users_is_used_by_that_user(open_folder):
    """The admin moved the service's state dir to another disk and linked it back, as root, in root's folder. The
    service's user runs the sync (a process of that user's: the ledger it makes is its own)."""
    state = owned(open_folder / "data" / "rb-state", USER, 0o700)
    (open_folder / "srv").mkdir(mode=0o755)
    (open_folder / "srv" / "state").symlink_to(state)

    def run() -> str:
        assert private_dir(open_folder / "srv" / "state") == open_folder / "srv" / "state"
        Ledger(open_folder / "srv" / "state", "http://127.0.0.1:1").close()
        return "used"

    assert as_user(run) == repr("used")
    assert (state / "ledger.sqlite3").exists() and (state / "ledger.sqlite3").stat().st_uid == USER


def test_root_given_a_users_own_link_to_their_state_dir_in_their_folders_uses_it(tmp_path):
    """Root's job (or root in a container) on a data officer's tree: a `current` link of theirs to a dated state
    folder of theirs, every folder theirs and open to no one else. The folder it leads to was accepted; so is the
    link."""
    states = owned(tmp_path / "home1000" / "states", USER)
    owned(tmp_path / "home1000", USER)
    dated = owned(states / "2026-12-06", USER, 0o700)
    (states / "current").symlink_to("2026-12-06")
    owned(states / "current", USER)
    assert private_dir(states / "current") == states / "current"
    Ledger(states / "current", "http://127.0.0.1:1").close()
    assert (dated / "ledger.sqlite3").exists()


def test_a_state_dir_of_yours_reached_through_your_link_into_a_colleagues_folder_is_used(tmp_path):
    """`~/work` -> a colleague's folder in the team's folder, the state dir in it yours: the folders on the way are
    not refused for being another user's, whether typed or reached through a link of yours (as before)."""
    team = owned(tmp_path / "team", 0, 0o2777)
    colleagues = owned(team / "colleague", NOBODY, 0o777)
    (tmp_path / "work").symlink_to(colleagues)
    owned(colleagues / "state", 0, 0o700)
    assert private_dir(tmp_path / "work" / "state") == tmp_path / "work" / "state"
    check_not_planted(team / "colleague" / "state")


# F2: the refusal of a state dir holding a ledger says how to keep it, not "remove it".


def test_another_users_state_dir_with_a_ledger_in_a_team_folder_is_refused_with_advice_that_keeps_the_ledger(
    tmp_path,
):
    team = owned(tmp_path / "team", 0, 0o2770)
    state = owned(team / "state", USER, 0o700)
    planted_file(state / "ledger.sqlite3", USER)
    with pytest.raises(UnwritableOutput) as refused:
        check_not_planted(state)
    problem = refused.value.problem
    assert problem.startswith(f"it is another user's folder (uid {USER}) in {team}, a folder others may write to"), (
        problem
    )
    assert f"the state dir holds a sync ledger ({state / 'ledger.sqlite3'}), which is to be kept" in problem
    assert f"if you trust uid {USER}, who made it, take it over (as root: `chown -R 0 {state}`)" in problem
    assert "remove it" not in problem


def test_another_users_link_to_a_state_dir_with_a_ledger_is_refused_with_advice_that_keeps_the_ledger(tmp_path):
    shared = owned(tmp_path / "shared", 0, 0o777)
    theirs = owned(tmp_path / "theirs", NOBODY, 0o700)
    planted_file(theirs / "ledger.sqlite3", NOBODY)
    (shared / "state").symlink_to(theirs)
    owned(shared / "state", NOBODY)
    with pytest.raises(UnwritableOutput) as refused:
        check_not_planted(shared / "state")
    assert "remove the link" not in refused.value.problem
    assert f"take it over (as root: `chown -h 0 {shared / 'state'}`) or run as that user" in refused.value.problem
    assert "chown -R" not in refused.value.problem  # the folder stays theirs, for their own runs (review136 F2)
    os.lchown(shared / "state", 0, -1)  # as the advice says
    check_not_planted(shared / "state")
    assert theirs.stat().st_uid == NOBODY


def test_another_users_link_on_the_way_into_their_home_is_to_be_taken_over_alone_not_the_home(tmp_path):
    """Their link in a shared folder to their home, the state dir below it: the advice told root to `chown -R` the
    link's whole target, the home (`.ssh` included), which also was not needed (review136 F2). `chown -h` of the
    link alone: the way is then root's link into their folders, which are not judged, and the state dir is used."""
    shared = owned(tmp_path / "shared", 0, 0o1777)
    home = owned(tmp_path / "home1000", USER, 0o755)
    owned(home / ".ssh", USER, 0o700)
    state = owned(home / "rb" / "state", USER, 0o700)
    owned(home / "rb", USER)
    planted_file(state / "ledger.sqlite3", USER)
    (shared / "home").symlink_to(home)
    owned(shared / "home", USER)
    given = shared / "home" / "rb" / "state"
    with pytest.raises(UnwritableOutput) as refused:
        check_not_planted(given)
    problem = refused.value.problem
    assert problem.startswith(f"{shared / 'home'}, on its way, is a symbolic link of another user's (uid {USER})")
    assert f"take it over (as root: `chown -h 0 {shared / 'home'}`) or run as that user" in problem, problem
    assert "chown -R" not in problem and str(home) not in problem
    os.lchown(shared / "home", 0, -1)  # as the advice says
    check_not_planted(given)
    assert [path.stat().st_uid for path in (home, home / ".ssh", state)] == [USER] * 3


# F5: a report folder is looked at before a sync sends anything, and named as one.


def test_a_sync_whose_report_folder_is_another_users_in_a_shared_folder_sends_nothing(tmp_path):
    shared = owned(tmp_path / "shared", 0, 0o1777)
    reports = owned(shared / "reports", NOBODY, 0o700)
    source = extract(tmp_path / "in.csv", 3)
    state = tmp_path / "state"
    args = ["sync", str(source), "--state-dir", str(state), "--report-dir", str(reports), "--as-of", AS_OF]
    code, said = cli(args, tmp_path, tmp_path / "home")
    assert code == 2, said
    assert said == (
        f"register-batch: error: cannot write {reports}: it is another user's folder (uid {NOBODY}) in {shared}, a "
        "folder others may write to, so they could have made it to change or remove the reports written there: "
        "remove it, or give another --report-dir"
    )
    assert not state.exists()  # no ledger, no embedded emulator: nothing was sent


def test_validate_names_the_report_folder_it_refuses(tmp_path):
    team = owned(tmp_path / "team", 0, 0o2770)
    reports = owned(team / "reports", USER, 0o2770)
    source = extract(tmp_path / "in.csv", 3)
    code, said = cli(["validate", str(source), "--report-dir", str(reports)], tmp_path, tmp_path / "home")
    assert code == 2, said
    assert said.endswith(
        "so they could have made it to change or remove the reports written there: remove it, or "
        "give another --report-dir"
    ), said
    assert "state dir" not in said


# F6: a mount that shows this user's new folders as another user's (NFS root_squash) under a folder others may write
# to. Acted here by a user (USER) that believes itself another (`os.geteuid` saying 4242): its own new folders are
# then "another user's", as on such a mount.


def test_a_state_dir_a_run_makes_on_a_mount_showing_it_as_another_users_is_used_then_and_next_time(open_folder):
    share = owned(open_folder / "share", NOBODY, 0o1777)  # the export's folder, a user's, open to all

    def two_runs() -> list[str]:
        os.geteuid = lambda: 4242  # in the child only
        return [os.fspath(private_dir(share / "state", own=STATE_DIR_ENTRIES)) for _run in range(2)]

    assert as_user(two_runs) == repr([str(share / "state")] * 2)
    assert (share / "state").stat().st_uid == USER
    assert [p.name for p in share.iterdir()] == ["state"]  # the look at new files' owner leaves nothing behind


def test_another_users_folder_in_a_shared_folder_is_still_refused_where_new_files_show_as_yours(tmp_path):
    shared = owned(tmp_path / "shared", 0, 0o777)
    owned(shared / "state", NOBODY, 0o777)
    with pytest.raises(UnwritableOutput, match=f"it is another user's folder \\(uid {NOBODY}\\) in {shared}"):
        check_not_planted(shared / "state")
    assert [p.name for p in shared.iterdir()] == ["state"]


# F10: a link at a file's name is refused by whoever opens the file, in its words.


def test_another_users_link_at_the_ledger_is_refused_as_the_ledger_not_as_a_folder(tmp_path):
    state = owned(tmp_path / "state", 0, 0o777)
    (state / "ledger.sqlite3").symlink_to(planted_file(tmp_path / "theirs.db", NOBODY))
    owned(state / "ledger.sqlite3", NOBODY)
    with pytest.raises(ConfigError, match="for the sync ledger: it is a symbolic link") as refused:
        Ledger(state, "http://127.0.0.1:1")
    assert "folder" not in str(refused.value).split(":")[1]


def test_another_users_link_at_a_report_is_left_to_the_report_writer(tmp_path):
    reports = owned(tmp_path / "reports", 0, 0o700)
    (reports / "report.json").symlink_to(tmp_path / "elsewhere.json")
    owned(reports / "report.json", NOBODY)
    assert private_dir(reports, own=("report.json",), reports=True) == reports


# F7: the embedded emulator's token is only read: opened read-only, a token its owner made read-only is read.


def test_a_token_made_read_only_by_its_owner_is_read_and_another_users_not_open_to_them_is_one_line(open_folder):
    register = owned(open_folder / "register", USER, 0o700)
    token = register / "token"
    token.write_text("embedded_x\n")
    os.chown(token, USER, -1)
    token.chmod(0o400)
    assert as_user(lambda: read_private_file(token, 4096)) == repr(b"embedded_x\n")
    assert stat.S_IMODE(token.stat().st_mode) == 0o400
    os.chown(token, NOBODY, -1)
    token.chmod(0o600)
    assert as_user(lambda: read_private_file(token, 4096)) == (
        f"raised UnreadableFile: cannot read {token}: it is another user's file (uid {NOBODY}), not open to this user"
    )


def test_a_token_its_owner_cannot_read_is_one_line_about_reading_that_says_how_to_read_it_again(open_folder):
    """`chmod 000` on the user's own token: "cannot write …/token: Permission denied", which sent them to the wrong
    fix, and no fix (review136 F3). A line about reading it, and how to give its owner read permission back."""
    register = owned(open_folder / "register", USER, 0o700)
    token = register / "token"
    token.write_text("embedded_x\n")
    os.chown(token, USER, -1)
    token.chmod(0o000)
    assert as_user(lambda: read_private_file(token, 4096)) == (
        f"raised UnreadableFile: cannot read {token}: it is your file, but its mode does not let you read it: give it "
        f"back its owner's read permission (`chmod 600 {token}`)"
    )
    token.chmod(0o600)
    assert as_user(lambda: read_private_file(token, 4096)) == repr(b"embedded_x\n")
