"""The library's type hints, as a vendor's type checker reads them: they say what the functions accept."""

from __future__ import annotations

import importlib
import os
import re
import subprocess
import sys
from importlib import metadata, resources
from pathlib import Path

import pytest

import register_batch
from register_batch.errors import ConfigError
from register_batch.sync import SyncOptions

# A vendor's nightly job, written as docs/library.md and README.md show it: paths as Path objects or strings, a
# generator of inputs, folders as strings. Every call here runs; the hints said most of them were errors.
VENDOR_JOB = """
from datetime import date
from pathlib import Path

from register_batch.api import RegisterClient
from register_batch.export import export_trainees
from register_batch.jobs import convert_files, validate_files
from register_batch.sync import SyncOptions, sync_files
from register_batch.validation import Checker

extracts: list[Path] = [Path("samples/extract.xml")]
validate_files(extracts, report_dir="reports")
validate_files((path for path in extracts), report_dir=Path("reports"), mapping_files=[Path("ours.yaml")])
validate_files(["extract.xml"], report_dir="reports")
convert_files(extracts, to="jsonl", output="bodies.jsonl", report_dir="reports")
with Checker(as_of=date(2026, 11, 28)) as checker:
    records = list(checker.records(extracts))
options = SyncOptions(
    target="sandbox", token="t", state_dir="state", report_dir="sync-reports", mapping_files=["ours.yaml"]
)
sync_files(extracts, options)
with RegisterClient("sandbox", "t") as client:
    export_trainees(client, to="jsonl", output="held.jsonl")
"""


# What a vendor's `mypy --strict` job reads back from the library: each value it keeps typed as what it is, never Any
# (--strict reports returning Any from a typed function), and the emulator's options as docs/emulator.md lists them.
STRICT_JOB = """
from collections import Counter
from datetime import date

from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.sync import SyncOptions, SyncResult, sync_files
from register_batch.sync.ledger import StateDirLock


def held_by_the_caller(options: SyncOptions) -> SyncResult:
    with StateDirLock("state") as lock:  # a str, as every path the library takes
        return sync_files(["extract.xml"], options, held_lock=lock)


def stopped_part_way(options: SyncOptions) -> SyncResult | None:
    try:
        sync_files(["extract.xml"], options)
    except Interrupted as stopped:
        return stopped.result
    return None


def done(result: SyncResult) -> Counter[str]:
    return result.outcomes


with start_emulator(tokens=("t",), rate_limit=None, ukprns={"t": "10052198"}, as_of=date(2026, 11, 28)) as emulator:
    stopped_part_way(SyncOptions(emulator.url, "t", "state", "reports"))
"""

# The run's figures a vendor reads (review182 F2): typed, not Any, so --strict takes them without a cast, and a
# misspelt key (`misspelt_figure`) is an error.
FIGURES_JOB = """
from typing import Literal

from register_batch.export import ExportResult
from register_batch.sync import SyncResult


def requests_sent(synced: SyncResult) -> int:
    return synced.requests["total"]


def per_record(synced: SyncResult) -> float:
    return synced.requests["per_trainee"]


def estimate_seconds(synced: SyncResult) -> float | None:
    return synced.estimate["seconds"] if synced.estimate is not None else None


def status(synced: SyncResult) -> Literal["finished", "interrupted", "unknown outcomes"]:
    return synced.status


def exported_total(exported: ExportResult) -> int:
    return exported.requests["total"] + sum(exported.requests["by_route"].values())


def misspelt_figure(synced: SyncResult) -> int:
    return len(synced.requests["by_rout"])
"""

# Where register_batch is imported from: a checkout's src/ (an editable install), or site-packages (a packager's run
# of the sdist's tests against the package installed from it: review204 F2). mypy finds an installed package by its
# py.typed, and refuses site-packages as MYPYPATH or a folder of it as a source tree.
PACKAGE = Path(register_batch.__file__).parent
FROM_SRC = PACKAGE.parent.name == "src"


def _library_page_walk() -> str:
    """docs/library.md's "Each record's result" walk-through, as written."""
    page = (Path(__file__).resolve().parent.parent / "docs" / "library.md").read_text(encoding="utf-8")
    blocks = re.findall(r"^```python\n(.*?)^```", page, flags=re.S | re.M)
    [walk] = [block for block in blocks if "RecordResult" in block]
    return walk


def _without(name: str) -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if key != name}


@pytest.fixture(scope="module")
def strictly_checked(tmp_path_factory) -> dict[str, list[str]]:
    """Each vendor's job below under `mypy --strict`, all in one run (each run reads the whole library first): its
    error lines, by job. VENDOR_JOB is among them: --strict only adds checks to a vendor's default ones, so a job it
    passes passes those too, and a second cold run of mypy (some 10 s) is saved."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e .[test] installs it)")
    folder = tmp_path_factory.mktemp("strict")
    jobs = {
        "strict_job": STRICT_JOB,
        "misspelt_job": STRICT_JOB.replace('ukprns={"t"', 'ukprn={"t"'),
        "walk_job": _library_page_walk(),
        "vendor_job": VENDOR_JOB,
        "figures_job": FIGURES_JOB,
    }
    for name, source in jobs.items():
        (folder / f"{name}.py").write_text(source, encoding="utf-8")
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(folder / "cache"),
            *(str(folder / f"{name}.py") for name in jobs),
        ],
        env={**os.environ, "MYPYPATH": str(PACKAGE.parent)} if FROM_SRC else _without("MYPYPATH"),
        capture_output=True,
        text=True,
        timeout=600,
        cwd=folder,
    )
    assert checked.returncode in (0, 1) and checked.stdout.strip(), checked.stdout[-3000:] + checked.stderr[-2000:]
    errors = [line for line in checked.stdout.splitlines() if ": error: " in line]
    return {name: [line for line in errors if line.startswith(f"{name}.py:")] for name in jobs}


def test_a_strict_vendors_job_reads_what_the_library_gives_back_typed(strictly_checked):
    """`Interrupted.result` was Any, `SyncResult.outcomes` a bare Counter, `start_emulator` took `**options: Any` and
    `StateDirLock` a Path only: a strict job had to cast, a misspelt emulator option type-checked, and a state dir
    given as a str (which the lock takes) did not."""
    assert strictly_checked["strict_job"] == []
    [misspelt] = strictly_checked["misspelt_job"]
    assert 'Unexpected keyword argument "ukprn"' in misspelt


def test_the_documented_walk_through_each_records_issues_type_checks_strictly(strictly_checked):
    """docs/library.md's "Each record's result", as written, under a vendor's `mypy --strict`: `RecordResult` was not
    exported from register_batch.sync (a function taking one could not be annotated without reaching into
    sync.runner, which --strict refuses as an implicit re-export), and had no `issues`."""
    assert strictly_checked["walk_job"] == []


def test_a_strict_vendors_job_reads_the_runs_figures_and_status_typed(strictly_checked):
    """review182 F2: `SyncResult.requests` and `ExportResult.requests` were `dict[str, Any]`, so --strict refused
    `return synced.requests["total"]` from a function returning int, and took a misspelt key without a word; the run's
    status and a dry run's estimate were only in `report.extra`."""
    [misspelt] = strictly_checked["figures_job"]
    assert 'has no key "by_rout"' in misspelt, misspelt


def _named(name: str) -> object:
    """What a dotted name in the docs is: a module of the package, or a name one of them holds (else it raises)."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError:
        module, _, attribute = name.rpartition(".")
        return getattr(importlib.import_module(module), attribute)


def test_the_packages_docstring_names_functions_that_exist():
    """`help(register_batch)` named `validate` and `convert`, which no module has: the functions are validate_files and
    convert_files (docs/library.md)."""
    assert register_batch.__doc__ is not None
    names = re.findall(r"`([\w.]+)`", register_batch.__doc__)
    assert "register_batch.jobs.validate_files" in names
    for name in names:
        _named(name if name.startswith("register_batch") else f"register_batch.{name}")  # or it raises


@pytest.mark.parametrize("dry_run", ["no", "false", "0", 2, None])
def test_a_dry_run_that_is_not_true_or_false_is_refused_naming_it(tmp_path, dry_run):
    """`SyncOptions(dry_run="no")` was taken: a string is true whatever it says, so the run was a dry run, until it
    failed with a bare ValueError ("invalid literal for int()") once the state dir's ledger was opened."""
    with pytest.raises(ConfigError) as refused:
        SyncOptions("sandbox", "t", tmp_path / "state", tmp_path / "reports", dry_run=dry_run)
    assert str(refused.value) == f"dry_run must be True or False, not {dry_run!r}"
    assert refused.value.worded({"dry_run": "--dry-run"}).startswith("--dry-run must be True or False")


@pytest.mark.parametrize(("given", "taken"), [(0, False), (1, True), (True, True)])
def test_a_dry_run_of_0_or_1_is_taken_as_python_flags_are(tmp_path, given, taken):
    """review45 F3: `dry_run=1` worked before the check came in, and is how many callers write a flag."""
    options = SyncOptions("sandbox", "t", tmp_path / "state", tmp_path / "reports", dry_run=given)
    assert options.dry_run is taken
    assert not (tmp_path / "state").exists()


def test_the_package_says_it_is_typed():
    """Without py.typed (PEP 561) a type checker ignores every hint of an installed register-batch."""
    assert resources.files("register_batch").joinpath("py.typed").is_file()


def test_a_vendors_job_written_as_the_documentation_shows_type_checks(strictly_checked):
    assert strictly_checked["vendor_job"] == []


# The third-party stubs `mypy src` needs (pyproject.toml's [test] extras): without them every yaml and lxml import
# is an error that says nothing about register-batch's own hints.
STUBS = ("types-PyYAML", "lxml-stubs")


def test_the_package_type_checks_with_no_errors(tmp_path):
    """`mypy src` as a developer runs it, with pyproject.toml's [tool.mypy] settings: a vendor's type checker reads
    these hints, so a wrong one is a bug of the library's. A cold run takes about 5 s on two cores."""
    pytest.importorskip("mypy", reason="mypy is not installed (pip install -e .[test] installs it)")
    for stub in STUBS:
        try:
            metadata.version(stub)
        except metadata.PackageNotFoundError:
            pytest.skip(f"{stub} is not installed (pip install -e .[test] installs it)")
    config = Path(__file__).resolve().parent.parent / "pyproject.toml"
    checked = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(config),
            "--cache-dir",
            str(tmp_path / "cache"),
            *([str(PACKAGE)] if FROM_SRC else ["-p", "register_batch"]),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=None if FROM_SRC else tmp_path,
    )
    assert checked.returncode == 0, checked.stdout[-5000:] + checked.stderr[-2000:]
    assert "Success: no issues found" in checked.stdout
