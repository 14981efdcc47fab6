"""fix-carry2: `sync` reads each mapping file once. The command line loaded them for its early look at the inputs and
`sync_files` loaded them again, so a mapping file given as a pipe (`--mapping <(...)`, which the loader takes) was
empty the second time: the run printed its Target: line, then refused the extract its mapping file names the columns
of ("cannot tell the format"). A library caller lends the mapping it loaded to `sync_files` the same way."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from emulated import OWN_COLUMNS, SYNC_TESTS_TOKEN, sync_options
from register_batch.errors import ConfigError
from register_batch.mapping import load_mapping
from register_batch.sync import sync_files

# The user's own column names: read as Register's CSV only with the mapping file that names them.
OWN_CSV = "Student Number,Given,Family,date_of_birth\r\nA1,Jade,Smith,2000-01-01\r\n"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(tmp_path / "home"), REGISTER_BATCH_RATE_DIR="off")
    return env


@pytest.mark.skipif(shutil.which("bash") is None, reason="process substitution is bash's")
def test_sync_reads_a_mapping_file_given_as_a_pipe_once(tmp_path):
    (tmp_path / "own.csv").write_text(OWN_CSV)
    (tmp_path / "own.yaml").write_text(OWN_COLUMNS)
    command = shlex.join([sys.executable, "-m", "register_batch", "sync", "own.csv", "--dry-run", "--state-dir", "s"])
    done = subprocess.run(
        ["bash", "-c", f"{command} --mapping <(cat own.yaml)"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "cannot tell the format" not in done.stderr, done.stderr
    assert done.stdout.startswith("Target: embedded Register emulator at "), (done.stdout, done.stderr)
    # read with the mapping: its record is invalid (too few columns), not refused unread; as with own.yaml itself
    assert "1 record: 1 invalid" in done.stdout, (done.stdout, done.stderr)
    assert done.returncode == 1, done.stderr


def test_sync_files_uses_the_mapping_it_is_lent(register, tmp_path):
    """The mapping a caller loaded is the one the run reads with: the file is not read again (here it is gone)."""
    own = tmp_path / "own.yaml"
    own.write_text(OWN_COLUMNS)
    (tmp_path / "own.csv").write_text(OWN_CSV)
    mapping = load_mapping([own])
    own.unlink()
    options = sync_options(register.emulator, tmp_path, SYNC_TESTS_TOKEN, mapping_files=[own], dry_run=True)
    result = sync_files([tmp_path / "own.csv"], options, mapping=mapping)
    assert (result.report.summary.records, result.report.summary.invalid) == (1, 1)
    assert [m["path"] for m in result.report.mappings] == [str(own)]


def test_sync_files_refuses_a_mapping_loaded_from_other_files_than_its_options_name(register, tmp_path):
    own = tmp_path / "own.yaml"
    own.write_text(OWN_COLUMNS)
    (tmp_path / "own.csv").write_text(OWN_CSV)
    options = sync_options(register.emulator, tmp_path, SYNC_TESTS_TOKEN, dry_run=True)
    with pytest.raises(ConfigError) as refused:
        sync_files([tmp_path / "own.csv"], options, mapping=load_mapping([own]))
    assert str(refused.value) == (
        f"mapping was loaded from {[str(own)]}, but mapping_files names []: give sync_files the mapping loaded from "
        "the options' mapping_files (load_mapping(options.mapping_files)), or none"
    )
    assert not (tmp_path / "reports").exists()


def test_sync_files_refuses_a_mapping_that_is_not_one(register, tmp_path):
    (tmp_path / "own.csv").write_text(OWN_CSV)
    options = sync_options(register.emulator, tmp_path, SYNC_TESTS_TOKEN, dry_run=True)
    with pytest.raises(ConfigError, match=r"^mapping must be a MappingConfig .* not dict$"):
        sync_files([tmp_path / "own.csv"], options, mapping={})  # type: ignore[arg-type]
