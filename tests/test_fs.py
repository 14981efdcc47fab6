"""Files register-batch writes: what a disk that will not take them does to a run."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx
import pytest

from cli_runs import files_limited_to, sync_command
from emulated import AS_OF
from register_batch.emulator import start_emulator
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
