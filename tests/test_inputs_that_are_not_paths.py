"""Records a caller's code holds, given where the library takes paths (a dict, a file object, None): a ConfigError
that says what was given and where library.md shows how such records go in, not a bare TypeError outside the
library's errors (review62 F3). The record's values are never shown: they are personal data."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from register_batch.errors import ConfigError
from register_batch.jobs import convert_files, validate_files
from register_batch.sync import SyncOptions, sync_files
from register_batch.validation import Checker

SAMPLES = Path(__file__).parent.parent / "samples"
AS_OF = date(2026, 11, 28)
RECORD = {"provider_trainee_id": "54988372/1/26", "hesa_id": "0500951347799", "first_names": "Zoe"}
POINTER = 'records your code holds go in as a file, see docs/library.md "Records built in code"'


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ([RECORD], "dict (item 1)"),
        ([SAMPLES / "extract.xml", io.StringIO("a,b\n")], "StringIO (item 2)"),
        ([None], "None (item 1)"),
        ([b"samples/extract.xml"], "bytes (item 1)"),
        ((r for r in [RECORD]), "dict (item 1)"),
    ],
)
def test_validate_files_given_something_other_than_paths_says_what_and_where_to_look(tmp_path, given, named):
    with pytest.raises(ConfigError) as refused:
        validate_files(given, as_of=AS_OF, report_dir=tmp_path / "reports")
    assert str(refused.value) == f"inputs must be paths (a str or pathlib.Path), not {named}: {POINTER}"
    assert "Zoe" not in str(refused.value) and "0500951347799" not in str(refused.value)
    assert not (tmp_path / "reports").exists()


def test_a_checker_and_convert_files_given_records_say_the_same(tmp_path):
    with Checker(as_of=AS_OF) as checker, pytest.raises(ConfigError, match=r"not dict \(item 1\)"):
        list(checker.records([RECORD]))
    with pytest.raises(ConfigError, match=r"not dict \(item 1\)"):
        convert_files([RECORD], to="jsonl", output=tmp_path / "bodies.jsonl")
    with pytest.raises(ConfigError, match=r"^mapping files must be paths .*, not dict \(item 1\)"):
        validate_files([SAMPLES / "extract.xml"], mapping_files=[RECORD], report_dir=tmp_path / "r")


def test_sync_files_given_records_sends_nothing_and_makes_no_state_dir(tmp_path):
    options = SyncOptions("http://127.0.0.1:9", "t", tmp_path / "state", tmp_path / "reports", as_of=AS_OF)
    with pytest.raises(ConfigError, match=r"not dict \(item 1\)"):
        sync_files([RECORD], options)
    assert not (tmp_path / "state").exists()
