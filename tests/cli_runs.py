"""Running the command line as users do: `python -m register_batch` in a fresh process."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path


def run_cli(
    args: list[str], cwd: Path, env: dict[str, str], *, timeout: float = 120, umask: int | None = None
) -> subprocess.CompletedProcess:
    """The command's exit code and output (text); `umask` sets the child's, as a user's shell would."""
    return subprocess.run(
        [sys.executable, "-m", "register_batch", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        preexec_fn=None if umask is None else lambda: os.umask(umask),
    )


def run_cli_to_full_disk(
    args: list[str], cwd: Path, env: dict[str, str], *, timeout: float = 60
) -> subprocess.CompletedProcess:
    """`python -m register_batch ARGS > /dev/full`: every write to standard output is ENOSPC (the output's disk is
    full); standard error captured as text."""
    with open("/dev/full", "w") as full:
        return subprocess.run(
            [sys.executable, "-m", "register_batch", *args],
            env=env,
            cwd=cwd,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=timeout,
        )


def files_limited_to(size: int):
    """A `preexec_fn` for a child whose files cannot grow past `size` bytes: its writes then fail as on a full disk
    (EFBIG, like ENOSPC), instead of the default SIGXFSZ killing it. Works for any user, root included."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


def sync_command(source: Path, target: str, state_dir: Path, report_dir: Path, as_of: str, *extra: str) -> list[str]:
    """`register-batch -q sync` of one extract to `target`, fast-paced (the emulator's limit is off in such tests)."""
    return [
        sys.executable,
        "-m",
        "register_batch",
        "-q",
        "sync",
        str(source),
        "--target",
        target,
        "--state-dir",
        str(state_dir),
        "--report-dir",
        str(report_dir),
        "--as-of",
        as_of,
        "--rate",
        "1000/1",
        *extra,
    ]


@contextlib.contextmanager
def as_nobody(below: Path) -> Iterator[None]:
    """This process as the user `nobody` until the block ends (root only), with pytest's own folders on the way to
    `below` opened for it (they are root's alone). The real user too, which os.access checks: root is kept as the
    saved one, to come back to."""
    parents = [p for p in below.parents if p != p.parent]
    modes = {p: stat.S_IMODE(p.stat().st_mode) for p in parents}
    for p in parents:
        os.chmod(p, modes[p] | 0o111)
    try:
        os.setresuid(65534, 65534, 0)
        try:
            yield
        finally:
            os.setresuid(0, 0, 0)
    finally:
        for p, mode in modes.items():
            os.chmod(p, mode)


def validate_issues(extract: Path, reports: Path) -> tuple[int, list[dict], str]:
    """`register-batch validate EXTRACT --as-of 2026-11-28 --report-dir REPORTS`, in this process (CliRunner): its
    exit code, report.json's issues and its output."""
    from click.testing import CliRunner  # the tests that run the command line in a process of its own need no click

    from register_batch.cli import cli

    args = ["validate", str(extract), "--as-of", "2026-11-28", "--report-dir", str(reports)]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    report = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    return result.exit_code, report["issues"], result.output
