"""`python -m register_batch`, as tests and some schedulers run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

FIXTURE = Path(__file__).parent / "fixtures" / "register_csv" / "five_trainees.csv"


def test_a_sigterm_caught_inside_an_exec_of_a_string_still_exits_3(tmp_path):
    """dataclasses build their methods with exec() of a string while modules are imported: a SIGTERM landing there
    was caught and reported ("interrupted", exit 3), yet `python -m` ended the process by SIGINT (-2), since CPython
    had noted the KeyboardInterrupt as unhandled. Here the signal lands in such an exec on purpose."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "sitecustomize.py").write_text(
        "from register_batch.validation.runner import Checker\n"
        "original = Checker.records\n"
        "def records(self, paths):\n"
        "    exec('import os, signal\\nos.kill(os.getpid(), signal.SIGTERM)\\nfor _ in range(1000): pass')\n"
        "    yield from original(self, paths)\n"
        "Checker.records = records\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), *sys.path])}
    done = subprocess.run(
        [sys.executable, "-m", "register_batch", "validate", str(FIXTURE), "--report-dir", str(tmp_path / "r")],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 3, (done.returncode, done.stderr)
    assert done.stderr.strip().splitlines() == [
        "register-batch: interrupted; run the same command again (it starts over)"
    ]


def test_its_usage_and_help_name_the_command_as_users_type_it():
    """The help a scheduler's log shows names `register-batch`, not `python -m register_batch`."""
    done = subprocess.run(
        [sys.executable, "-m", "register_batch", "validate"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == "Usage: register-batch validate [OPTIONS] INPUT..."
