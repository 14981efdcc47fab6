"""A non-editable install works from any directory: mappings/ and samples/ travel inside the wheel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

REPO = Path(__file__).parent.parent


@pytest.mark.slow
def test_the_wheel_carries_its_data_and_validates_from_elsewhere(tmp_path):
    wheels = tmp_path / "wheels"
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(wheels), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stderr
    [wheel] = wheels.glob("register_batch-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "register_batch/_data/mappings/fields/hesa.yaml" in names
    assert "register_batch/_data/mappings/codes/legacy.yaml" in names
    assert "register_batch/_data/mappings/providers/training-partners.yaml" in names
    assert "register_batch/_data/samples/extract.xml" in names
    assert "register_batch/reference/data/v2026.1/index.json" in names
    assert "register_batch/reports/templates/report.html.j2" in names
    assert "register_batch/reports/report.schema.json" in names  # `register-batch schema report` prints it
    # review204 F4: the MIT terms go with every copy, and NOTICE says whose the bundled code lists are
    licences = sorted(name.split("/", 1)[1] for name in names if ".dist-info/licenses/" in name)
    assert licences == ["licenses/LICENSE", "licenses/NOTICE"], licences

    installed = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(installed)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(installed)}
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import register_batch, register_batch.resources as r, register_batch.reports as reports; "
            "print(register_batch.__file__); print(r.data_dir('mappings')); print(r.data_dir('samples')); "
            "print(reports.REPORT_SCHEMA)",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    module, mappings, samples, schema = probe.stdout.split()
    assert (
        module.startswith(str(installed)) and mappings.startswith(str(installed)) and samples.startswith(str(installed))
    )
    assert schema.startswith(str(installed))

    result = subprocess.run(
        [sys.executable, "-m", "register_batch", "validate", str(Path(samples) / "extract.xml"), "--report-dir", "r"],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((elsewhere / "r" / "report.json").read_text())
    assert report["summary"]["records"] == 12
    # The installed schema allows the installed package's report (a schema left out of the wheel was not found).
    Draft202012Validator(json.loads(Path(schema).read_text(encoding="utf-8"))).validate(report)


def test_a_data_folder_missing_from_the_installation_is_named():
    """An installation without its data (a wheel built without it, a folder deleted) is one line naming the folder,
    not a path to nothing that fails further on."""
    from register_batch.resources import data_dir

    with pytest.raises(FileNotFoundError) as missing:
        data_dir("lookups")
    assert str(missing.value) == "register-batch data folder 'lookups' is missing from this installation"


# What a working tree can hold beside the project's own files, at any depth: a developer's `python3 -m venv venv`
# (with other projects' src/, tests/, docs/ and README.md inside), a work folder holding a provider's extract, notes.
STRAY = (
    "venv/lib/python3.11/site-packages/colorama/tests/__init__.py",
    "venv/lib/python3.11/site-packages/mypy/typeshed/README.md",
    "venv/src/other_project/x.py",
    "exports/docs/real-provider-extract.csv",
    "notes/README.md",
    "work/samples/extract.xml",
    "old/mappings/codes/legacy.yaml",
    "old/CHANGELOG.md",
    "benchmarks/data/validate-100000.xml",
)
# The project's own files as the sdist takes them (one of each kind): what its tests need, its licence and notice.
OWN = (
    "src/register_batch/__init__.py",
    "mappings/codes/legacy.yaml",
    "samples/extract.xml",
    "tests/test_x.py",
    "docs/index.md",
    "benchmarks/run.py",
    "benchmarks/RESULTS.md",
    "README.md",
    "CHANGELOG.md",
    "LICENSE",
    "NOTICE",
)


def test_the_sdist_takes_the_projects_own_files_and_nothing_else_in_the_tree(tmp_path):
    """review204 F1: the sdist's include patterns were unanchored, so a `src`, `docs`, `samples` or `README.md` at any
    depth went in: a developer's venv/ (41 files) and exports/docs/real-provider-extract.csv, trainees' personal data.
    The tree here has no .gitignore, so only pyproject.toml's own patterns keep them out. F2: the benchmark scripts go
    in (the sdist's tests run them), their data does not. F4: LICENSE and NOTICE go in."""
    sdist = pytest.importorskip("hatchling.builders.sdist", reason="hatchling is not installed (the [test] extras)")
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "pyproject.toml").write_bytes((REPO / "pyproject.toml").read_bytes())
    for name in OWN + STRAY:
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        (tree / name).write_text(f"{name}\n", encoding="utf-8")
    [built] = sdist.SdistBuilder(str(tree)).build(directory=str(tmp_path / "dist"))
    with tarfile.open(built) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert names == {*OWN, "pyproject.toml", "PKG-INFO"}
