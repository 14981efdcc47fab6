"""Running the command line as users do: `python -m register_batch` in a fresh process."""

from __future__ import annotations

import os
import subprocess
import sys
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
