"""Files register-batch writes: what a disk that will not take them does to a run."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cli_runs import as_nobody, files_limited_to, run_cli, sync_command
from emulated import AS_OF
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError, UnwritableOutput
from register_batch.fs import file_key, is_file, private_writer, temporary_space
from trainee_extracts import extract

TOKEN = "temporary-space-token"


@pytest.mark.parametrize("command", ["validate", "convert", "sync"])
def test_a_temporary_folder_without_room_gives_one_line_naming_it(command, tmp_path):
    """A full $TMPDIR (here: a file size limit, which fails a write as a full disk does) while records were spooled
    was an `internal error` (exit 70) naming no file."""
    source = extract(tmp_path / "in.csv", 300)
    spools = tmp_path / "tmp"
    spools.mkdir()
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "TMPDIR": str(spools)}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        args = {
            "validate": [sys.executable, "-m", "register_batch", "validate", str(source), "--report-dir", "reports"],
            "convert": [sys.executable, "-m", "register_batch", "convert", str(source), "--to", "jsonl", "-o", "out"],
            "sync": sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat()),
        }[command]
        done = subprocess.run(
            args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, preexec_fn=files_limited_to(8_000)
        )
        assert done.returncode == 2, done.stderr
        [line] = done.stderr.splitlines()
        assert line.startswith(f"register-batch: error: cannot write {spools}: File too large while spooling"), line
        assert line.endswith("free space there, or set TMPDIR to a folder with room")
        assert not (tmp_path / "reports").exists() and not (tmp_path / "out").exists()
        assert not os.listdir(spools)
        if command == "sync":
            routes = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]
            assert not [route for route in routes if not route.startswith("GET")]


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EACCES, "Permission denied"),  # not a want of space
        OSError(errno.EIO, "Input/output error"),
        OSError(errno.ENOSPC, "No space left on device", "state/ledger.sqlite"),  # a named file says so itself
    ],
    ids=["permission", "io", "named-file"],
)
def test_only_a_spool_without_room_is_blamed_on_the_temporary_folder(error):
    """The temporary folder is named, with "free space there", only for a full disk, quota or size limit on an
    anonymous spool: any other error, or one naming its file, reaches the user as it is, not as advice about TMPDIR."""
    with pytest.raises(OSError) as caught, temporary_space():
        raise error
    assert caught.value is error and not isinstance(caught.value, UnwritableOutput)


def test_an_error_of_the_work_inside_an_output_is_not_blamed_on_the_output(tmp_path):
    """Only the output's own writes are named as `cannot write <output>`: an error the code filling it meets elsewhere
    (an input it reads, say) reaches the user as that error, and the output is not put in place."""
    out = tmp_path / "out.csv"
    elsewhere = PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "extract.xml"))
    with pytest.raises(PermissionError) as caught, private_writer(out) as fh:
        fh.write("half a file\n")
        raise elsewhere
    assert caught.value is elsewhere
    assert os.listdir(tmp_path) == []


def test_a_convert_output_its_disk_will_not_take_is_named_and_left_behind_by_no_file(tmp_path):
    """The output's disk filling up was an `internal error` (exit 70), or, with the temporary folder named, blamed
    on $TMPDIR. The limit here lets the records' spool (as big as the jsonl output) be written, not the JSON array."""
    source = extract(tmp_path / "in.csv", 300)
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    convert = [sys.executable, "-m", "register_batch", "-q", "convert", str(source), "--to"]
    whole = subprocess.run([*convert, "jsonl", "-o", "whole.jsonl"], cwd=tmp_path, env=env, capture_output=True)
    assert whole.returncode == 0, whole.stderr
    spooled = (tmp_path / "whole.jsonl").stat().st_size
    out = tmp_path / "out" / "held.json"
    done = subprocess.run(
        [*convert, "json", "-o", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=files_limited_to(spooled + 100),
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [f"register-batch: error: cannot write {out}: File too large"]
    assert os.listdir(out.parent) == []  # no half-written output, no temporary file


@pytest.mark.parametrize("to", ["register-csv", "hesa-xml", "json", "jsonl"])
def test_an_export_its_disk_will_not_take_is_named_and_left_behind_by_no_file(to, tmp_path):
    """As above for `export` (which spools nothing): it was an `internal error` (exit 70) for json and jsonl, and the
    Register CSV writer left its temporary file to the garbage collector, which printed a traceback."""
    source = extract(tmp_path / "in.csv", 100)
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "TMPDIR": str(tmp_path)}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        synced = subprocess.run(
            sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat()),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert synced.returncode == 0, synced.stderr
        out = tmp_path / "out" / f"held.{to}"
        export = [sys.executable, "-m", "register_batch", "-q", "export", "--target", emulator.url, "--to", to]
        done = subprocess.run(
            [*export, "-o", str(out), "--state-dir", str(tmp_path / "state"), "--academic-cycle", "2025"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=files_limited_to(20_000),
        )
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if not line.startswith("note: ")]
    assert errors == [f"register-batch: error: cannot write {out}: File too large"], done.stderr
    assert os.listdir(out.parent) == []


def test_a_cache_folder_without_any_home_is_none(tmp_path, no_home):
    """No HOME and no home folder in the user database made Path.home() raise (RuntimeError): a report or a sync
    died on a cache it can do without."""
    from register_batch.fs import user_cache_dir

    assert user_cache_dir() is None
    assert user_cache_dir({"XDG_CACHE_HOME": str(tmp_path)}) == tmp_path / "register-batch"
    assert user_cache_dir({"XDG_CACHE_HOME": "relative/cache"}) is None  # ignored, as XDG says: and no home
    assert user_cache_dir({"HOME": str(tmp_path)}) == tmp_path / ".cache" / "register-batch"


def test_an_empty_home_is_no_home_for_a_cache_nor_for_a_rate_folder(tmp_path, monkeypatch, caplog):
    """`HOME=` made `~` the root folder (Python's expanduser): a report's template cache went to /.cache, and
    REGISTER_BATCH_RATE_DIR=~/rates made /rates, as root (review33)."""
    from register_batch.api.limiter import RATE_DIR_ENV, shared_budget_file
    from register_batch.fs import user_cache_dir

    monkeypatch.setenv("HOME", "")
    assert user_cache_dir({"HOME": ""}) is None
    assert shared_budget_file("register.example", loopback=False, environ={"HOME": ""}) is None
    assert shared_budget_file("register.example", loopback=False, environ={RATE_DIR_ENV: "~/rates"}) is None
    assert "~ is the home folder, and none is known" in caplog.text and "keeps its own budget" in caplog.text


def test_a_home_folder_that_is_not_there_is_not_made_for_a_cache(tmp_path):
    """A service run as root with HOME=/nonexistent (Debian's home for such accounts, which must never exist) made
    that folder, to keep report.html's compiled template in: a cache is no reason to make a home."""
    home = tmp_path / "nonexistent"
    env = {**os.environ, "HOME": str(home)}
    env.pop("XDG_CACHE_HOME", None)
    env.pop("REGISTER_BATCH_RATE_DIR", None)
    done = run_cli(["-q", "validate", str(extract(tmp_path / "in.csv", 2)), "--report-dir", "reports"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "reports" / "report.html").is_file()
    assert not home.exists()


@pytest.mark.parametrize("command", ["convert", "generate"])
def test_an_output_that_is_a_pipe_or_device_is_refused_and_left_as_it_is(command, tmp_path):
    """`convert -o /dev/null` (to see only the exit code) wrote the records beside the output and renamed them over
    it: run as root, /dev/null itself became a 0600 file of trainee records, for every program on the machine. A
    named pipe stands in for the device here, given as itself and through a symbolic link."""
    source = extract(tmp_path / "in.csv", 3)
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    link = tmp_path / "link"
    link.symlink_to(pipe)
    for out in (pipe, link):
        args = {
            "convert": ["convert", str(source), "--to", "jsonl", "-o", str(out)],
            "generate": ["generate", "--count", "2", "--seed", "1", "-o", str(out)],
        }[command]
        done = subprocess.run(
            [sys.executable, "-m", "register_batch", "-q", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [
            f"register-batch: error: cannot write {out}: not a regular file (a device, a pipe or a socket); "
            "give the name of a file to write"
        ]
    assert stat.S_ISFIFO(pipe.stat().st_mode) and link.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "link", "pipe"]  # no temporary file left


def test_convert_refuses_such_an_output_before_it_reads_anything(tmp_path):
    """Before, the output was looked at only once every record had been read and converted."""
    pipe = tmp_path / "pipe"
    os.mkfifo(pipe)
    cut = tmp_path / "cut.xml"
    cut.write_text("<ITTRecord><Student><F_HUSID>1")  # an input that would be refused if it were read
    done = subprocess.run(
        [sys.executable, "-m", "register_batch", "-q", "convert", str(cut), "--to", "jsonl", "-o", str(pipe)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "not a regular file" in done.stderr and "cut.xml" not in done.stderr


@pytest.mark.parametrize("command", ["convert", "generate"])
def test_an_output_that_is_standard_output_by_a_link_is_refused_and_the_link_left(command, tmp_path):
    """review109 F3: `-o /dev/stdout` with standard output redirected to a file passed as that file; the records went
    to a temporary file renamed over the link (as root, /dev/stdout itself became a 0600 file of records for every
    later program), standard output got only "Wrote ... to /dev/stdout", exit 0. A link of our own to
    /proc/self/fd/1 stands in for /dev/stdout here (the machine's is never given), beside /proc/self/fd/1 itself."""
    source = extract(tmp_path / "in.csv", 3)
    link = tmp_path / "stdout"
    link.symlink_to("/proc/self/fd/1")
    chained = tmp_path / "to-stdout"
    chained.symlink_to(link)
    for out in (link, chained, Path("/proc/self/fd/1")):
        args = {
            "convert": ["convert", str(source), "--to", "jsonl", "-o", str(out)],
            "generate": ["generate", "--count", "2", "--seed", "1", "-o", str(out)],
        }[command]
        captured = tmp_path / "captured.txt"
        with captured.open("w") as stdout:
            done = subprocess.run(
                [sys.executable, "-m", "register_batch", *args],
                cwd=tmp_path,
                stdout=stdout,
                stderr=subprocess.PIPE,
                text=True,
                timeout=60,
            )
        assert done.returncode == 2, done.stderr
        assert done.stderr.splitlines() == [
            f"register-batch: error: cannot write {out}: it is standard output, not a file: personal data is written "
            "only to a file, owner-only (a job's output goes to logs and mail); give a file's name"
        ]
        assert captured.read_text() == ""
    assert link.is_symlink() and os.readlink(link) == "/proc/self/fd/1" and chained.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["captured.txt", "in.csv", "stdout", "to-stdout"]


def test_an_output_that_is_a_link_to_a_file_is_refused_and_both_left_as_they_are(tmp_path):
    """review109 F3: the rename put the new file in place of the link, and the file it led to kept its old records:
    one named thing, two files. Refused instead, for every output (here generate's, and a report's file)."""
    real = tmp_path / "real.xml"
    real.write_text("old")
    link = tmp_path / "link.xml"
    link.symlink_to("real.xml")
    done = run_cli(["-q", "generate", "--count", "2", "--seed", "1", "-o", "link.xml"], tmp_path, dict(os.environ))
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        "register-batch: error: cannot write link.xml: it is a symbolic link (to real.xml): the file is put in place "
        "by a rename, which would replace the link, not write to what it leads to; give the name of the file itself, "
        "or another name"
    ]
    with pytest.raises(UnwritableOutput, match="it is a symbolic link"), private_writer(link) as fh:
        fh.write("new")
    assert link.is_symlink() and real.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.xml", "real.xml"]


@pytest.mark.parametrize(
    ("command", "option"),
    [("convert", "-o"), ("generate", "-o"), ("export", "-o"), ("generate", "--truth"), ("emulator", "--db")],
)
@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("out/", "'out/' ends in a path separator, so it names a folder"),
        ("-", "'-' would be a file named '-': personal data is written only to a file, owner-only, never to standard"),
    ],
)
def test_an_output_name_that_is_no_file_of_that_name_is_refused(command, option, name, problem, tmp_path, monkeypatch):
    """`-o out/` wrote a file named `out` (Path drops the separator): a later `ls out/` found no folder, and a script
    that went on to write `out/other.csv` failed there. `-o -`, meant as standard output, wrote a file named `-`.
    Refused before anything is read or sent."""
    monkeypatch.chdir(tmp_path)
    source = extract(tmp_path / "in.csv", 3)
    args = {
        "convert": ["convert", str(source), "--to", "jsonl"],
        "generate": ["generate", "--count", "2", "--seed", "1", "--defects", "0.5"],
        "export": ["export", "--to", "json"],
        "emulator": ["emulator", "--port", "0"],
    }[command]
    if option != "-o" and command == "generate":
        args += ["-o", "x.xml"]
    # A subprocess with a timeout: an emulator given a file to keep its state in would otherwise run until stopped.
    result = subprocess.run(
        [sys.executable, "-m", "register_batch", *args, option, name], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    named = f"'{option}' / '--output'" if option == "-o" else f"'{option}'"
    assert f"Error: Invalid value for {named}: {problem}" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_a_library_output_name_ending_in_a_separator_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with (
        pytest.raises(UnwritableOutput, match="cannot write out/: the name ends in a path separator"),
        private_writer("out/") as fh,
    ):
        fh.write("x")
    assert list(tmp_path.iterdir()) == []


def test_a_file_without_an_inode_number_is_known_by_its_real_path(tmp_path):
    """Some Windows filesystems give every file st_ino 0: read as an identity, every input would be "given twice"
    and every output "one of the inputs"."""
    one, other = tmp_path / "one.csv", tmp_path / "other.csv"
    one.write_text("a\n")
    other.write_text("b\n")
    (tmp_path / "link.csv").symlink_to(one)

    def numberless(path):
        fields = list(os.stat(path))
        fields[stat.ST_INO] = 0
        return os.stat_result(fields)

    names = ("one.csv", "other.csv", "link.csv")
    keys = {name: file_key(tmp_path / name, numberless(tmp_path / name)) for name in names}
    assert keys["one.csv"] != keys["other.csv"] and keys["one.csv"] == keys["link.csv"]
    assert file_key(one, os.stat(one)) == file_key(tmp_path / "link.csv", os.stat(tmp_path / "link.csv"))


def test_the_files_that_make_a_state_dir_are_the_ledgers_and_the_embedded_emulators():
    """fs cannot import the sync package (it is below it): the names it looks for must stay the ones written."""
    from register_batch.fs import STATE_FILES
    from register_batch.sync.ledger import LEDGER_FILE, LOCK_FILE
    from register_batch.sync.target import EMBEDDED_DB, EMBEDDED_DIR

    assert (LEDGER_FILE, LOCK_FILE, os.path.join(EMBEDDED_DIR, EMBEDDED_DB)) == STATE_FILES
    from register_batch.fs import STATE_DIR_ENTRIES
    from register_batch.reference import PULLED_FILE
    from register_batch.sync.ledger import NEW_LEDGER_FILE

    assert {LEDGER_FILE, LOCK_FILE, PULLED_FILE, EMBEDDED_DIR} <= STATE_DIR_ENTRIES
    # A ledger being made (review130 F3) and what a run killed then leaves are the state dir's own too.
    assert {NEW_LEDGER_FILE, f"{NEW_LEDGER_FILE}-journal", f"{NEW_LEDGER_FILE}-wal"} <= STATE_DIR_ENTRIES


@pytest.fixture
def read_only_folder(tmp_path):
    """A folder on a file system mounted read-only (a small tmpfs), as a remounted volume or systemd's
    ProtectSystem= gives a service; needs root and the mount command."""
    folder = tmp_path / "ro"
    folder.mkdir()
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("mounting a read-only file system needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode(errors='replace').strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=False)


def test_a_report_folder_on_a_read_only_file_system_is_named_so_not_as_a_permission(read_only_folder, tmp_path):
    """On a read-only file system the line said "no permission to write", and the operator paged at night tried
    chmod, which cannot help: it says the file system is read-only."""
    source = extract(tmp_path / "in.csv", 2)
    reports = read_only_folder / "reports"
    result = CliRunner().invoke(cli, ["validate", str(source), "--report-dir", str(reports)])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"register-batch: error: cannot write {reports}: {read_only_folder} is on a read-only file system\n"
    )


@pytest.fixture
def shut_out(tmp_path, monkeypatch):
    """(run, folder): `folder` is one this user may not enter, as another user's owner-only folder (a state dir or
    report folder a run with sudo made) is; `run(args)` runs the CLI in this process as that user, from the shared
    folder around it. For root, who may enter any folder, `run` sets the real and effective user to `nobody` for the
    call, its modules loaded first."""
    outside = tmp_path / "shared"  # the working folder of the run: open to all, as a shared one is
    outside.mkdir()
    os.chmod(tmp_path, 0o755)
    os.chmod(outside, 0o777)
    monkeypatch.chdir(outside)  # not the checkout's folder, which `nobody` may not read (CI clones into a 0700 one)
    folder = outside / "theirs"
    folder.mkdir(mode=0o700)
    root = hasattr(os, "geteuid") and os.geteuid() == 0
    if not root:
        os.chmod(folder, 0o000)

    def run(args: list[str], env: dict[str, str] | None = None):
        CliRunner().invoke(cli, args, env=env)  # every module it needs loaded, as this user
        if not root:
            return CliRunner().invoke(cli, args, env=env)
        for made in outside.rglob("*"):  # what the first call made outside `folder` is this user's own
            if folder not in made.parents and made != folder:
                os.chown(made, 65534, 65534, follow_symlinks=False)
        with as_nobody(tmp_path):
            return CliRunner().invoke(cli, args, env=env)

    try:
        yield run, folder
    finally:
        os.chmod(folder, 0o700)


@pytest.mark.parametrize("command", ["validate", "sync", "export", "validate's state dir", "convert's state dir"])
def test_a_folder_inside_one_this_user_may_not_enter_gives_one_line_not_an_internal_error(command, shut_out):
    """A migration lead ran a sync once with sudo, then as themself: the state dir (or report folder) is inside a
    folder root made owner-only. Looking for the nearest folder that exists raised PermissionError, and every command
    ended `internal error (PermissionError: ...)`, exit 70, which says to report a bug."""
    run, theirs = shut_out
    source = theirs.parent / "in.csv"
    extract(source, 1)
    os.chmod(source, 0o644)
    args = {
        "validate": ["validate", str(source), "--report-dir", str(theirs / "reports")],
        "sync": [
            "sync",
            str(source),
            "--dry-run",
            "--state-dir",
            str(theirs / "state"),
            "--report-dir",
            str(theirs.parent / "reports"),
        ],
        "export": [
            "export",
            "--to",
            "json",
            "-o",
            str(theirs.parent / "held.json"),
            "--state-dir",
            str(theirs / "state"),
        ],
        # the state dir's pulled code lists looked for (review9: exit 70 still)
        "validate's state dir": ["validate", str(source), "--report-dir", str(theirs.parent / "reports")],
        "convert's state dir": ["convert", str(source), "--to", "json", "-o", str(theirs.parent / "out.json")],
    }[command]
    result = run(args, env={"REGISTER_BATCH_STATE_DIR": str(theirs / "state")} if "state dir" in command else None)
    assert result.exit_code == 2, result.output
    assert "internal error" not in result.output and "Traceback" not in result.output
    [line] = result.output.splitlines()
    assert line.startswith("register-batch: error: cannot ") and f"{theirs} is not open to this user" in line, line


def test_a_folder_of_this_users_own_that_it_may_not_enter_says_how_to_open_it(shut_out):
    """Its own folder, left owner-only without the right to enter it (chmod 600): the line said it was another user's
    folder, made with sudo (found by review9)."""
    run, folder = shut_out
    source = folder.parent / "in.csv"
    extract(source, 1)
    os.chmod(source, 0o644)
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        os.chown(folder, 65534, 65534)  # the user `run` acts as
    os.chmod(folder, 0o600)
    result = run(["validate", str(source), "--report-dir", str(folder / "reports")])
    assert result.exit_code == 2, result.output
    assert result.output == (
        f"register-batch: error: cannot write {folder / 'reports'}: {folder} is not open to this user, its owner: "
        f"`chmod u+rwx {folder}` opens it\n"
    )


def test_the_folder_named_as_not_open_is_the_shut_one_not_a_folder_inside_it(shut_out):
    """The report folder asked for is two levels inside the owner-only folder: the line names the folder the user must
    ask its owner about (or avoid), not the ones inside it that they cannot even see."""
    run, theirs = shut_out
    source = theirs.parent / "in.csv"
    extract(source, 1)
    os.chmod(source, 0o644)
    result = run(["validate", str(source), "--report-dir", str(theirs / "nightly" / "2026" / "reports")])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert f": {theirs} is not open to this user:" in line, line


@pytest.mark.parametrize("inside", [True, False], ids=["folder-inside-the-link", "the-link-itself"])
def test_a_shut_folder_reached_through_a_link_is_named_where_the_link_leads(shut_out, inside):
    """The report folder is given through a link in an open folder (`~/reports` -> the shut one's `nightly`): the line
    named the link, which this user may enter the folder of and sees, not the shut folder it leads into (review35)."""
    run, theirs = shut_out
    source = theirs.parent / "in.csv"
    extract(source, 1)
    os.chmod(source, 0o644)
    link = theirs.parent / "reports-link"
    link.symlink_to(theirs / "nightly")
    result = run(["validate", str(source), "--report-dir", str(link / "2026" if inside else link)])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert f": {theirs} (where {link} leads) is not open to this user" in line, line  # not the open folder of the link


def _temporary_of(folder, name: str) -> str:
    """The name of a temporary file private_writer makes for `name` in `folder` (made here as it makes it)."""
    import tempfile

    fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=folder)
    os.close(fd)
    return os.path.basename(temp)


@pytest.mark.parametrize("output", ["held.csv", "HELD.CSV"])
def test_leftover_temporaries_are_an_outputs_own_and_its_parts_and_nothing_that_only_resembles_them(tmp_path, output):
    """What the next export names as a killed run's leftovers, telling the user to delete them: only files
    private_writer made for this output (or, for Register's CSV, any of its parts, `HELD-3.CSV` too), never another
    file that happens to look like one: a backup of one, a folder, a link, another name's."""
    from register_batch.fs import leftover_temporaries

    stem, suffix = output.split(".")
    ours = [_temporary_of(tmp_path, output), _temporary_of(tmp_path, f"{stem}-3.{suffix}")]
    not_ours = [
        f".{output}.abcdefg.tmp",  # seven random characters: mkstemp gives eight
        f".{output}.abcdefghi.tmp",
        f".{output}.ABCDEFGH.tmp",  # mkstemp's are lower case
        f".{output}.abcd.efg.tmp",
        f".{stem}-.{suffix}.abcdefgh.tmp",  # a part has a number
        f".{stem}-x.{suffix}.abcdefgh.tmp",
        f"{ours[0]}.bak",
        f"x{ours[0]}",
    ]
    for name in not_ours:
        (tmp_path / name).write_text("")
    (tmp_path / f".{output}.folder00.tmp").mkdir()
    (tmp_path / f".{output}.linkto00.tmp").symlink_to(tmp_path / ours[0])
    assert leftover_temporaries([tmp_path / output], parts=True) == sorted(tmp_path / name for name in ours)
    assert leftover_temporaries([tmp_path / output]) == [tmp_path / ours[0]]  # JSON and XML outputs have no parts


def test_leftover_temporaries_of_an_output_in_a_folder_that_is_not_there_are_none(tmp_path):
    """A library caller asking about an output whose folder was removed meanwhile: nothing to name, not an error."""
    from register_batch.fs import leftover_temporaries

    assert leftover_temporaries([tmp_path / "gone" / "held.json"]) == []


def test_a_current_folder_this_user_may_not_read_is_said_in_one_line(shut_out, monkeypatch):
    """A service run from a working folder its user may not read (another user's home): looking there for
    register-batch.toml raised PermissionError, an internal error (exit 70), for every command, `config show`
    included."""
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        pytest.skip("needs root, to make a folder this test's user may not enter its current folder")
    run, folder = shut_out
    monkeypatch.chdir(folder)
    for args in (["config", "show"], ["validate", "in.csv"]):
        result = run(args)
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"register-batch: error: cannot look for register-batch.toml in the current folder: {folder} is not open "
            "to this user: it is another user's folder, made by a run as that user or with sudo; use another folder, "
            "or have its owner give it to you; or give --config\n"
        )


def test_a_relative_folder_inside_a_current_folder_this_user_may_not_enter_names_the_current_folder(shut_out):
    """A service whose working folder it may not enter, run with --config as the refusal of that folder advises: the
    default state dir (relative) was said to be inside `.register-batch`, "another user's folder", which is not
    there; the shut folder is the current one (found by review11)."""
    if not (hasattr(os, "geteuid") and os.geteuid() == 0):
        pytest.skip("needs root, to make a folder this test's user may not enter its current folder")
    run, folder = shut_out
    source = folder.parent / "in.csv"
    extract(source, 1)
    os.chmod(source, 0o644)
    settings = folder.parent / "settings.toml"
    settings.write_text("[register-batch]\n")
    os.chmod(settings, 0o644)
    os.chdir(folder)
    result = run(["--config", str(settings), "validate", str(source), "--report-dir", "reports"])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert f"{folder} is not open to this user" in line and ".register-batch is" not in line, line


def test_a_symlink_loop_or_a_nul_in_a_path_is_nothing_there_not_an_internal_error(tmp_path, monkeypatch):
    """Path.is_file said False for both; the check written for Python 3.14 raised them (exit 70, for every command,
    as every command looks for register-batch.toml) (found by review11). A state dir holding a NUL is refused as one
    holding any control character."""
    monkeypatch.chdir(tmp_path)
    os.symlink("register-batch.toml", "register-batch.toml")
    shown = CliRunner().invoke(cli, ["config", "show"])
    assert shown.exit_code == 0, shown.output
    assert not is_file(tmp_path / "register-batch.toml") and not is_file(tmp_path / "st\0x")
    os.remove("register-batch.toml")
    (tmp_path / "register-batch.toml").write_text('[register-batch]\nstate_dir = "st\\u0000x"\n')
    extract(tmp_path / "in.csv", 1)
    checked = CliRunner().invoke(cli, ["validate", "in.csv", "--report-dir", "reports"])
    assert checked.exit_code == 2, checked.output
    assert checked.output == (
        "register-batch: error: state_dir (set by register-batch.toml) holds a control character "
        "('\\x00'); give the name without it\n"
    )


def test_the_shut_folder_is_named_where_path_exists_says_false_for_it_as_from_python_3_14(shut_out, monkeypatch):
    """Python 3.14's Path.exists and Path.is_file say False for a path inside a folder this user may not enter; the
    refusal then lost the folder ("no permission to write in ..."), here simulated (found by review11)."""
    monkeypatch.setattr(Path, "exists", lambda self, *, follow_symlinks=True: os.path.exists(self))
    monkeypatch.setattr(Path, "is_file", lambda self, *, follow_symlinks=True: os.path.isfile(self))
    run, theirs = shut_out
    source = theirs.parent / "in.csv"
    extract(source, 1)
    os.chmod(source, 0o644)
    result = run(["validate", str(source), "--report-dir", str(theirs / "reports")])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert f": {theirs} is not open to this user" in line, line


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{source}", "--report-dir", "{long}/reports"],
        ["convert", "{source}", "--to", "json", "-o", "{long}.json"],
        ["sync", "{source}", "--dry-run", "--state-dir", "{long}"],
    ],
    ids=["report folder", "output", "state dir"],
)
def test_a_name_longer_than_the_file_system_takes_is_one_line_exit_2(tmp_path, monkeypatch, args):
    """A folder, output or extract named past the file system's 255 bytes a name ended in an internal error (exit 70:
    "report a bug"), for the user to shorten (found by review12)."""
    monkeypatch.chdir(tmp_path)
    source = str(extract(tmp_path / "in.csv", 1))
    long = "x" * 300
    result = CliRunner().invoke(cli, [a.format(source=source, long=long) for a in args])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert line.startswith("register-batch: error: cannot ") and "longer than this file system takes" in line, line
    assert f" {'x' * 40}…{'x' * 20}" in line and len(line) < 300, line  # the name cut short
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def _library_call(kind: str, source: Path, long: str, url: str):
    """One library call naming a folder or file `long` (a name past the file system's 255 bytes) where it writes."""
    from register_batch.jobs import convert_files, validate_files
    from register_batch.sync import SyncOptions, sync_files

    def sync(state_dir: str, report_dir: str):
        return sync_files([source], SyncOptions(url, TOKEN, state_dir, report_dir, as_of=AS_OF, dry_run=True))

    return {
        "validate report_dir": lambda: validate_files([source], as_of=AS_OF, report_dir=f"{long}/reports"),
        "convert output": lambda: convert_files([source], to="jsonl", output=f"{long}.jsonl", as_of=AS_OF),
        "convert output's folder": lambda: convert_files([source], to="jsonl", output=f"{long}/b.jsonl", as_of=AS_OF),
        "sync report_dir": lambda: sync("state", long),
        "sync state_dir": lambda: sync(long, "reports"),
        "sync state_dir below a new folder": lambda: sync(f"new/{long}", "reports"),
    }[kind]


@pytest.mark.parametrize(
    "kind",
    [
        "validate report_dir",
        "convert output",
        "convert output's folder",
        "sync report_dir",
        "sync state_dir",
        "sync state_dir below a new folder",
    ],
)
def test_a_name_longer_than_the_file_system_takes_is_the_librarys_own_error(tmp_path, monkeypatch, kind):
    """A library caller naming a folder or output past the file system's 255 bytes a name got a bare OSError
    (ENAMETOOLONG), which only the command line's last line of defence put into words: an unusable output is an
    `UnwritableOutput` (a state dir a `ConfigError`), saying what to change, with the name cut short."""
    monkeypatch.chdir(tmp_path)
    source = extract(tmp_path / "in.csv", 1)
    long = "x" * 300
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        call = _library_call(kind, source, long, emulator.url)
        expected = ConfigError if "state_dir" in kind else UnwritableOutput
        with pytest.raises(expected) as caught:
            call()
    assert type(caught.value) is expected
    message = str(caught.value)
    assert "longer than this file system takes" in message and "give a shorter one" in message, message
    assert len(message) < 300 and "xxxx…xxxx" in message, message
    if expected is UnwritableOutput:
        assert long in caught.value.path  # the name whole, for a caller's own use
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


def test_an_output_name_its_temporary_file_makes_too_long_says_so(tmp_path):
    """An output named within 255 bytes, whose temporary file (`.NAME.xxxxxxxx.tmp`) is not: "File name too long"
    alone would leave the user looking at a name the file system takes."""
    target = tmp_path / ("y" * 250)
    with pytest.raises(UnwritableOutput) as caught, private_writer(target) as fh:
        fh.write("never")
    assert "longer than this file system takes" in caught.value.problem
    assert "temporary file it is written to first" in caught.value.problem
    assert not os.listdir(tmp_path)


def test_a_folder_named_as_the_settings_file_is_not_taken_for_it(tmp_path, monkeypatch):
    """`is_file` says a folder is no file: a folder called register-batch.toml in the current folder is no settings
    file, and the defaults are used."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").mkdir()
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Config file: (none: ./register-batch.toml not found)")


def test_a_names_control_characters_are_named_and_a_carriage_return_said_as_a_windows_line_end():
    """The refusal of a folder or output named with control characters says which, and where a carriage return comes
    from (a script or env file saved with Windows line ends), so that the file, not the name typed, is corrected."""
    from register_batch.fs import control_characters

    assert control_characters("reports\r") == (
        "holds a control character ('\\r': what a file saved with Windows line ends leaves at the end of a line); "
        "give the name without it"
    )
    assert (
        control_characters("re\x07ports\t") == "holds control characters ('\\x07', '\\t'); give the name without them"
    )
    assert control_characters("réports 2026") is None


@pytest.mark.skipif(os.name == "nt", reason="Windows does not remove a folder that is a process's current folder")
@pytest.mark.parametrize("command", ["generate", "convert", "export", "validate", "sync"])
def test_a_relative_output_in_a_current_folder_removed_is_one_line_not_an_internal_error(
    command, tmp_path, monkeypatch
):
    """A job left in a release folder a deploy removed: `os.getcwd()` raises FileNotFoundError, and generate, convert
    and export with a relative -o ended `internal error`, exit 70 (review31 F5)."""
    source = extract(tmp_path / "in.csv", 2)
    gone = tmp_path / "release"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    args = {
        "generate": ["generate", "--count", "2", "-o", "x.xml"],
        "convert": ["convert", str(source), "--to", "jsonl", "-o", "x.jsonl"],
        "export": ["export", "--to", "jsonl", "-o", "x.jsonl", "--state-dir", str(tmp_path / "state")],
        "validate": ["validate", str(source)],
        "sync": ["sync", str(source), "--dry-run", "--state-dir", str(tmp_path / "state")],
    }[command]
    result = CliRunner().invoke(cli, args, env={"REGISTER_BATCH_RATE_DIR": "off"})
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert line.startswith("register-batch: error: cannot write ") and line.endswith(
        "the current folder is no longer there (removed since the shell or job went to it): cd to a folder that is, "
        "or give an absolute path"
    ), line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.skipif(os.name == "nt", reason="a symbolic link on Windows needs a privilege tests do not have")
def test_a_chain_of_links_to_nothing_names_the_missing_end_and_a_loop_is_a_loop(tmp_path, monkeypatch):
    """A deploy's `reports -> current -> releases/1`, the release removed, was called "links in a loop" (review33)."""
    source = extract(tmp_path / "in.csv", 1)
    monkeypatch.chdir(tmp_path)
    os.symlink("rel1", "current")
    os.symlink("current", "reports")
    os.symlink("loop2", "loop1")
    os.symlink("loop1", "loop2")
    os.makedirs(os.path.join("deep", "x"))
    os.symlink(os.path.join("deep", "x"), "dirlink")
    os.symlink(os.path.join("..", "missing"), os.path.join("deep", "x", "hop"))
    os.symlink(os.path.join("dirlink", "hop"), "through")  # its `..` is deep/x's parent, as the system reads it
    (tmp_path / "afile").write_text("")
    os.symlink("afile" + os.sep, "tofile")  # a trailing slash, as tab completion leaves it
    os.symlink(os.path.join("afile", ".."), "past")  # `..` after a file: the folder it names exists
    missing = os.path.join(os.path.realpath(tmp_path), "deep", "missing")
    said = {}
    for folder in ("reports", "loop1", "through", "tofile", "past"):
        result = CliRunner().invoke(cli, ["validate", str(source), "--report-dir", folder])
        assert result.exit_code == 2, result.output
        said[folder] = result.output.strip()
    assert said == {
        "reports": "register-batch: error: cannot write reports: reports is a link to current, which leads to "
        f"{os.path.realpath(tmp_path)}{os.sep}rel1, which does not exist",
        "loop1": "register-batch: error: cannot write loop1: loop1 is a link to loop2, which leads to no folder (links "
        "in a loop)",
        "through": "register-batch: error: cannot write through: through is a link to "
        f"{os.path.join('dirlink', 'hop')}, which leads to {missing}, which does not exist",
        "tofile": f"register-batch: error: cannot write tofile: tofile is a link to afile{os.sep}, which leads to "
        f"{os.path.join(os.path.realpath(tmp_path), 'afile')}, which is a file, not a folder",
        "past": f"register-batch: error: cannot write past: past is a link to {os.path.join('afile', '..')}, which "
        f"leads through {os.path.join(os.path.realpath(tmp_path), 'afile')}, which is a file, not a folder",
    }


@pytest.mark.skipif(os.name == "nt", reason="a symbolic link on Windows needs a privilege tests do not have")
@pytest.mark.parametrize(
    "option, where",
    [("--report-dir", "made"), ("--report-dir", "below"), ("--state-dir", "made"), ("-o", "below")],
    ids=["report dir", "report dir below it", "state dir", "output below it"],
)
def test_a_folder_that_is_a_link_to_nothing_is_said_to_be_one_not_a_file(tmp_path, monkeypatch, option, where):
    """`ln -s nowhere-dir reports` (a folder not made yet, or removed since): `reports is a file, not a folder` sent
    people looking for a file (review31 F6)."""
    source = extract(tmp_path / "in.csv", 1)
    monkeypatch.chdir(tmp_path)
    os.symlink("nowhere-dir", "dangdir")
    named = "dangdir" if where == "made" else os.path.join("dangdir", "sub")
    args = {
        "--report-dir": ["validate", str(source), "--report-dir", named],
        "--state-dir": ["sync", str(source), "--dry-run", "--state-dir", named, "--report-dir", "reports"],
        "-o": ["convert", str(source), "--to", "jsonl", "-o", os.path.join(named, "x.jsonl")],
    }[option]
    result = CliRunner().invoke(cli, args, env={"REGISTER_BATCH_RATE_DIR": "off"})
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    assert line.startswith("register-batch: error: cannot ") and "not a folder" not in line, line
    assert "dangdir is a link to nowhere-dir, which does not exist" in line, line
    assert not (tmp_path / "nowhere-dir").exists()
