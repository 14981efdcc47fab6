"""Start-up: `--version`, `--help` and every command's `--help` import neither pydantic nor the readers (lxml, yaml)
nor the API client (httpx). Each command pays for what the command line imports before it runs (benchmarks/
RESULTS.md), so what it imports is checked, in a fresh process, by the modules it holds: never by time."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from register_batch import cli

# Packages a command imports when it runs, never before: pydantic through model.py, lxml and yaml through the
# readers and mappings, httpx and stamina through the API client, jinja2 through report.html, rich through progress.
HEAVY = ("pydantic", "lxml", "yaml", "httpx", "stamina", "jinja2", "rich")
HEAVY_OWN = (
    "register_batch.model",
    "register_batch.readers",
    "register_batch.mapping",
    "register_batch.validation",
    "register_batch.jobs",
    "register_batch.api",
    "register_batch.sync",
    "register_batch.emulator",
    "register_batch.reports",
)

RUN_AND_LIST = """
import json, sys
listing, sys.argv = sys.argv[1], ["register-batch", *sys.argv[2:]]
from register_batch import cli
try:
    cli.main()
finally:
    with open(listing, "w") as fh:
        json.dump(sorted(sys.modules), fh)
"""


def modules_after(args: list[str], tmp_path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Run the command line with `args` in a fresh process; its result and the heavy modules it had imported."""
    listing = tmp_path / "modules.json"
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_LIST, str(listing), *args], capture_output=True, text=True, timeout=120
    )
    loaded = json.loads(listing.read_text())
    heavy = [
        name
        for name in loaded
        if name.split(".")[0] in HEAVY or any(name == own or name.startswith(f"{own}.") for own in HEAVY_OWN)
    ]
    return done, heavy


def test_version_imports_no_heavy_module(tmp_path):
    done, heavy = modules_after(["--version"], tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("register-batch, version "), done.stderr
    assert heavy == []


def test_help_imports_no_heavy_module(tmp_path):
    """The top-level help imports every command's module for its one-line summary: none of them imports more."""
    done, heavy = modules_after(["--help"], tmp_path)
    assert done.returncode == 0, done.stderr
    assert all(f"  {name} " in done.stdout for name in ("validate", "sync", "emulator", "reference")), done.stdout
    assert heavy == []


@pytest.mark.parametrize("command", cli.cli.list_commands(None))  # type: ignore[arg-type]  # the context is unused
def test_each_commands_help_imports_no_heavy_module(command, tmp_path):
    done, heavy = modules_after([command, "--help"], tmp_path)
    assert done.returncode == 0 and done.stdout.startswith(f"Usage: register-batch {command} "), done.stderr
    assert heavy == []


def test_the_documented_names_import_from_the_package_when_first_used():
    """`from register_batch import Issue` (docs/library.md) still works; the import of the package alone does not
    import pydantic, and the name is the model's own class."""
    script = (
        "import sys\n"
        "import register_batch\n"
        "print('pydantic' in sys.modules)\n"
        "from register_batch import Issue, Severity, SourceRef, Trainee, TraineeRecord\n"
        "from register_batch import model\n"
        "print('pydantic' in sys.modules, Issue is model.Issue, register_batch.TraineeRecord is model.TraineeRecord)\n"
        "print(sorted(set(register_batch.__all__) - set(dir(register_batch))))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines() == ["False", "True True True", "[]"], done.stderr


def test_a_name_the_package_does_not_have_is_an_attribute_error():
    import register_batch

    with pytest.raises(AttributeError, match="no attribute 'Isue'"):
        register_batch.Isue  # type: ignore[attr-defined]  # noqa: B018


def test_validate_of_a_small_file_imports_neither_multiprocessing_nor_the_sync_side(tmp_path):
    """A small input gets no helper process, so `validate` leaves multiprocessing (and socket, subprocess) alone, as
    it does the API client, the sync and the emulator; the readers and pydantic it does need."""
    sample = Path(__file__).parent / "fixtures" / "register_csv" / "five_trainees.csv"
    args = ["validate", str(sample), "--ukprn", "10052198", "--report-dir", str(tmp_path / "reports")]
    done, heavy = modules_after(args, tmp_path)
    assert done.returncode == 0 and done.stdout.startswith("5 records: 5 valid"), (done.stdout, done.stderr)
    assert {"pydantic", "register_batch.readers", "register_batch.model", "jinja2"} <= set(heavy)
    loaded = json.loads((tmp_path / "modules.json").read_text())
    unused = (
        "multiprocessing",
        "httpx",
        "stamina",
        "register_batch.api",
        "register_batch.sync",
        "register_batch.emulator",
    )
    assert [name for name in loaded if name.split(".")[0] in unused or name.startswith(unused)] == []
