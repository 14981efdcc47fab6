"""A sync as the process around it goes: the terminal gone (an SSH session dropped), its output pipe closed
(`| head`, a `| tee` that died), Ctrl-Z and `fg`. The reports, the ledger and the exit code stay right.

Real processes, real signals, the emulator on 127.0.0.1; a reply is held open by a server in front of it (never a
sleep), so that a signal lands while a write is out however loaded the machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import resource
import select
import signal
import sqlite3
import subprocess
import sys
import termios
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from cli_runs import run_cli_to_full_disk, sync_command
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from stub_http import HoldFirstCreate, fronting
from trainee_extracts import trainee, write_extract

AS_OF = date(2026, 11, 28)
TOKEN = "process-events-token-0001"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "REGISTER_API_TOKEN": TOKEN, "REGISTER_BATCH_RATE_DIR": "off", "HOME": str(tmp_path / "home")}


@pytest.fixture
def embedded_env(env) -> dict[str, str]:
    """For the embedded emulator: no token (one with no target is refused, as a user's is)."""
    return {k: v for k, v in env.items() if k != "REGISTER_API_TOKEN"}


def held(emulator) -> Counter:
    """How many trainees Register holds under each HUSID."""
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return Counter(t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=1000))


def runs_in_ledger(state: Path) -> list[str]:
    with contextlib.closing(sqlite3.connect(state / "ledger.sqlite3")) as db:
        return [row[0] for row in db.execute("SELECT status FROM runs ORDER BY id")]


def _on_a_terminal() -> None:
    """In the child: the pty on fd 0 becomes its controlling terminal (it leads a session of its own, as a login
    shell does), so that closing the pty's other end hangs it up: SIGHUP, then EIO on every write to it."""
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # As a login shell leaves them, whatever this test runs under (a background job ignores SIGINT, nohup SIGHUP,
    # and the sync keeps a signal ignored that it was started ignoring).
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


@pytest.mark.parametrize("quiet", [True, False], ids=["quiet", "progress-bars"])
def test_the_terminal_gone_mid_write_stops_like_sigterm_with_reports_and_exit_3(tmp_path, env, quiet):
    """An SSH session dropping mid-migration hangs up the terminal: the sync died of the SIGHUP at once, like a
    SIGKILL: no report, the run left `running` in the ledger, the create in flight marked in flight. Now it stops
    as on SIGTERM: the request in flight finishes, the reports are written, exit 3; what it then writes to the
    terminal that is gone (EIO) is lost, not a traceback or another exit code."""
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 9)])
    gate = HoldFirstCreate()

    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, gate) as front,
    ):
        command = sync_command(source, front.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        if not quiet:
            command.remove("-q")
        master, slave = os.openpty()
        process = subprocess.Popen(
            command,
            env=env,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
            preexec_fn=_on_a_terminal,
        )
        os.close(slave)
        try:
            _read_until(master, gate.sent)
            os.close(master)  # the terminal is gone while the create is out
            gate.release.set()
            process.wait(60)
        finally:
            gate.release.set()
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 3
        data = json.loads((tmp_path / "reports" / "report.json").read_text())
        assert data["sync"]["interrupted"] is True and data["sync"]["stopped"]["by"] == "signal"
        assert Counter(r["outcome"] for r in data["records"]) == Counter(done=1, pending=7)
        assert held(emulator) == Counter({data["records"][0]["hesa_id"]: 1})
        assert runs_in_ledger(tmp_path / "state") == ["interrupted"]
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert again.returncode == 0, again.stderr
        assert sorted(held(emulator).values()) == [1] * 8


def _read_until(terminal: int, event: threading.Event) -> None:
    """Read what the child writes to its terminal, as a terminal would, until `event` (a full one would block it)."""
    deadline = time.monotonic() + 60
    while not event.is_set():
        assert time.monotonic() < deadline, "the sync sent no create"
        if select.select([terminal], [], [], 0.05)[0]:
            with contextlib.suppress(OSError):
                os.read(terminal, 65536)


def _closed_pipe() -> int:
    """The write end of a pipe whose reader has gone (`| head` that has read its line): every write is EPIPE."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    return write_end


def _sync_and_validate_one_invalid(tmp_path: Path, *, verbose: bool = False) -> list[tuple[list[str], str]]:
    """(command, report folder) of a sync and a validate of four records, one of them invalid: each exits 1."""
    rows = [trainee(n) for n in range(1, 5)]
    rows[1]["sex"] = "7"  # invalid: exit 1
    source = write_extract(tmp_path / "in.csv", rows)
    sync = [
        sys.executable, "-m", "register_batch", "sync", str(source), "--state-dir", str(tmp_path / "state"),
        "--report-dir", str(tmp_path / "sync-report"), "--as-of", AS_OF.isoformat(),
    ]  # fmt: skip
    validate = [
        sys.executable, "-m", "register_batch", *(["-v"] if verbose else []), "validate", str(source),
        "--report-dir", str(tmp_path / "validate-report"), "--as-of", AS_OF.isoformat(),
    ]  # fmt: skip
    return [(sync, "sync-report"), (validate, "validate-report")]


@pytest.mark.parametrize("closed", ["stdout", "stderr", "both", "both-ascii"])
def test_output_to_a_closed_pipe_keeps_the_commands_exit_code(tmp_path, embedded_env, closed):
    """`register-batch sync x.csv | head -1`: head has gone by the time the summary is written. The EPIPE ended
    the command with exit 0, as if every record had gone through, though one was invalid (exit 1): a nightly job
    behind `| logger` or `| tee` whose reader died was told all was well. validate did the same. With an ASCII
    locale's encoding (`PYTHONIOENCODING=ascii`) click writes to the bytes beneath the text stream: the same."""
    env = embedded_env
    if closed.endswith("-ascii"):
        closed, env = closed.removesuffix("-ascii"), {**env, "PYTHONIOENCODING": "ascii"}
    for command, folder in _sync_and_validate_one_invalid(tmp_path, verbose=True):
        pipe = _closed_pipe()
        try:
            done = subprocess.run(
                command,
                env=env,
                stdout=pipe if closed in ("stdout", "both") else subprocess.PIPE,
                stderr=pipe if closed in ("stderr", "both") else subprocess.PIPE,
                text=True,
                timeout=120,
            )
        finally:
            os.close(pipe)
        assert done.returncode == 1, (folder, done.stderr)
        assert "Traceback" not in (done.stderr or "") and "Exception ignored" not in (done.stderr or "")
        assert (tmp_path / folder / "report.json").is_file()
    assert json.loads((tmp_path / "sync-report" / "report.json").read_text())["sync"]["outcomes"] == {
        "done": 3,
        "skipped": 1,
    }


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device every write to is ENOSPC)")
def test_standard_output_on_a_full_disk_keeps_the_commands_exit_code_and_says_so(tmp_path, embedded_env):
    """`register-batch sync x.csv >> sync.log` with the log's disk full: every write to stdout is ENOSPC. It was an
    internal error (exit 70) after the records were sent; now the output is dropped, standard error says so once,
    and the command ends with its own code and its reports."""
    for command, folder in _sync_and_validate_one_invalid(tmp_path):
        with open("/dev/full", "w") as full:
            done = subprocess.run(
                command, env=embedded_env, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120
            )
        assert done.returncode == 1, (folder, done.stderr)
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr
        assert done.stderr.count("standard output could not be written (No space left on device)") == 1
        assert (tmp_path / folder / "report.json").is_file()
    assert json.loads((tmp_path / "sync-report" / "report.json").read_text())["sync"]["outcomes"] == {
        "done": 3,
        "skipped": 1,
    }


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (a device every write to is ENOSPC)")
@pytest.mark.parametrize(
    "command",
    [
        ["config", "show", "--json"],
        ["config", "show"],
        ["reference", "show", "--json"],
        ["mappings", "check"],
        ["generate", "--list-defects"],
        ["schema", "report"],  # `register-batch schema report > report.schema.json`
        ["--help"],
        ["--version"],
        ["sync", "--help"],
        ["reference", "-h"],
        # review119 F2: the short version flag, and help or version among bundled short flags, as click takes them
        ["-V"],
        ["-qV"],
        ["-qh"],
        ["-vh"],
        ["validate", "-h"],
    ],
    ids=" ".join,
)
def test_a_listing_on_a_full_disk_is_an_error_not_half_a_listing_with_exit_0(tmp_path, env, command):
    """review37 F3: `register-batch config show --json > settings.json` with the disk full exited 0, leaving a script
    an empty or half-written file it took for the settings. Where standard output is what the command is run for,
    its loss is one error line and exit 2 (a sync's summary, news of reports written elsewhere, keeps its code)."""
    done = run_cli_to_full_disk(command, tmp_path, env)
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "register-batch: error: standard output could not be written (no room left on the device): what it shows is "
        "incomplete\n"
    )


def _blocked_writing_stdout(pid: int) -> bool:
    """Whether process `pid` is in write(2) to its fd 1 (x86-64 and arm64 Linux: /proc/PID/syscall)."""
    try:
        fields = Path(f"/proc/{pid}/syscall").read_text().split()
    except OSError:
        return False
    return len(fields) > 1 and fields[0] in ("1", "64") and int(fields[1], 16) == 1


@pytest.mark.skipif(not Path("/proc/self/syscall").exists(), reason="needs Linux's /proc/PID/syscall")
def test_a_sigterm_after_the_run_has_finished_keeps_its_exit_code(tmp_path, embedded_env):
    """systemd stopping a nightly job whose sync has finished (reports written, the ledger's run closed) while it
    prints its summary: the run is not interrupted, so exit 0, not 3. The summary's write is held by a pipe that is
    full (nobody reads it yet), which proves the run had returned when the signal came."""
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 4)])
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    with contextlib.suppress(BlockingIOError):
        while True:
            os.write(write_end, b"x" * 4096)
    os.set_blocking(write_end, True)
    command = [  # -q: the summary is the first thing written to stdout (the target's line goes to stderr), then Report:
        sys.executable, "-m", "register_batch", "-q", "sync", str(source), "--state-dir", str(tmp_path / "state"),
        "--report-dir", str(tmp_path / "report"), "--as-of", AS_OF.isoformat(),
    ]  # fmt: skip
    child = subprocess.Popen(command, env=embedded_env, stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    drained = bytearray()
    try:
        deadline = time.monotonic() + 120
        while not _blocked_writing_stdout(child.pid):
            assert child.poll() is None, child.stderr.read() if child.stderr else ""
            assert time.monotonic() < deadline, "the sync never wrote its summary"
            time.sleep(0.02)
        assert runs_in_ledger(tmp_path / "state") == ["finished"]
        child.send_signal(signal.SIGTERM)

        def drain() -> None:
            while chunk := os.read(read_end, 65536):
                drained.extend(chunk)

        reader = threading.Thread(target=drain)
        reader.start()
        _out, errors = child.communicate(timeout=60)
        reader.join(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
        os.close(read_end)
    assert child.returncode == 0, errors
    assert "interrupted" not in errors and "Traceback" not in errors
    report = tmp_path / "report" / "report.html"
    # held, then written; and where the report went, which -q says too (review156 F6)
    # ... the summary naming the ledger's run and the time (review208 F6)
    summary = rb"3 records: 3 created\. 6 requests \(2\.0 per record\)\. Ledger run 1, [0-9T:.-]+Z\.\n"
    assert re.search(summary + b"Report: " + re.escape(str(report).encode()) + rb"\n$", bytes(drained)), drained[-300:]
    assert json.loads((tmp_path / "report" / "report.json").read_text())["sync"]["outcomes"] == {"done": 3}


def _killed_past(size: int):
    """A `preexec_fn` for a child killed by SIGXFSZ as a file of its grows past `size` bytes: a kill at one exact
    point, where a SIGKILL from outside could only be hoped to land (see `_with_sigxfsz`)."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def _with_sigxfsz(command: list[str]) -> list[str]:
    """`python -m register_batch ...` with SIGXFSZ's default action (death) back: Python ignores it at start-up."""
    assert command[1:3] == ["-m", "register_batch"]
    launcher = (
        "import signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_DFL); "
        "sys.argv = ['register-batch', *sys.argv[1:]]; from register_batch.cli import main; main()"
    )
    return [command[0], "-c", launcher, *command[3:]]


def test_a_run_killed_while_its_report_is_written_has_its_writes_listed_by_the_next_report(tmp_path, env):
    """The ledger marked the run finished before its report was written: killed in between (an out-of-memory kill
    while report.html was made), it left no report, and the next run, finding a finished run, did not say what it
    had written (`sync_written_earlier`), so no report ever listed those creates. 300 invalid records make the
    report far bigger than the ledger, so the file size limit kills the run as it writes its report."""
    rows = [trainee(n) for n in range(1, 303)]
    for row in rows[2:]:
        row["date_of_birth"] = "not a date"
    source = write_extract(tmp_path / "in.csv", rows)
    env = {**env, "TMPDIR": str(tmp_path)}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        killed = subprocess.run(
            _with_sigxfsz(command), env=env, capture_output=True, timeout=120, preexec_fn=_killed_past(400_000)
        )
        assert killed.returncode == -signal.SIGXFSZ, killed.stderr
        assert not (tmp_path / "reports" / "report.json").exists() and len(held(emulator)) == 2
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 1, again.stderr  # the invalid records
    data = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert data["sync"]["warnings"] == {"sync_written_earlier": 2}, data["sync"]["warnings"]
    assert runs_in_ledger(tmp_path / "state") == ["ended unexpectedly", "finished"]


_EMBEDDING_HOST = r"""
#include <Python.h>
#include <signal.h>
#include <stdio.h>
static volatile sig_atomic_t host_saw = 0;
static void host_handler(int sig) { (void)sig; host_saw = 1; }
int main(int argc, char **argv) {
    (void)argc;
    signal(SIGTERM, host_handler);  /* the host's own, set before Python starts (as uWSGI's are) */
    Py_Initialize();
    FILE *script = fopen(argv[1], "r");
    int failed = PyRun_SimpleFile(script, argv[1]);
    fclose(script);
    Py_Finalize();
    raise(SIGTERM);  /* the host's handler must still be the one that answers */
    printf("host handler answered: %s\n", host_saw ? "yes" : "no");
    return failed;
}
"""

_EMBEDDED_JOB = """
import signal
from datetime import date
from register_batch.emulator import start_emulator
from register_batch.sync import SyncOptions, sync_files

assert signal.getsignal(signal.SIGTERM) is None  # not Python's: the host's
state, reports, source = {state!r}, {reports!r}, {source!r}
with start_emulator(tokens=("embedded-token",), rate_limit=None) as emulator:
    options = SyncOptions(emulator.url, "embedded-token", state, reports, as_of=date(2026, 11, 28))
    print(sync_files([source], options).summary_line())
"""


def _embedding_host(tmp_path: Path) -> Path:
    """A program that embeds Python, as uWSGI or a vendor's own C host does, built here (skipped without a C
    compiler or Python's headers and shared library)."""
    import shutil
    import sysconfig

    compiler = shutil.which("cc") or shutil.which("gcc")
    include, libdir = sysconfig.get_paths()["include"], sysconfig.get_config_var("LIBDIR")
    library = f"python{sysconfig.get_config_var('LDVERSION')}"
    if not (compiler and (Path(include) / "Python.h").exists() and sysconfig.get_config_var("Py_ENABLE_SHARED")):
        pytest.skip("no C compiler, Python.h or shared libpython to build an embedding host with")
    (tmp_path / "host.c").write_text(_EMBEDDING_HOST, encoding="utf-8")
    host = tmp_path / "host"
    flags = [f"-I{include}", f"-L{libdir}", f"-l{library}", f"-Wl,-rpath,{libdir}", "-o", str(host)]
    built = subprocess.run([compiler, str(tmp_path / "host.c"), *flags], capture_output=True, text=True)
    if built.returncode != 0:
        pytest.skip(f"cannot build an embedding host: {built.stderr[-500:]}")
    return host


def test_a_sync_in_a_program_embedding_python_keeps_the_hosts_own_signal_handler(tmp_path):
    """A vendor's job in a program that embeds Python (uWSGI, a C host) whose SIGTERM handler is its own: Python
    sees it as None, and putting it back after the run (signal.signal(SIGTERM, None)) raised TypeError, so a sync
    that had finished came back as a TypeError, its result lost, and the host's handler was gone for good."""
    host = _embedding_host(tmp_path)
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 4)])
    job = tmp_path / "job.py"
    job.write_text(
        _EMBEDDED_JOB.format(state=str(tmp_path / "state"), reports=str(tmp_path / "reports"), source=str(source)),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    done = subprocess.run([str(host), str(job)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr, done.stderr[-2000:]
    summary = "3 records: 3 created. 6 requests (2.0 per record)."
    assert done.stdout.splitlines() == [summary, "host handler answered: yes"]
