"""Arguments of the wrong kind from untyped code (settings read as None, a client's URL in place of the client) are
a ConfigError naming the argument, as library.md promises, not a TypeError or AttributeError from deep inside
(review88 F3). Nothing is read, written or sent first."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from register_batch.api import RegisterClient
from register_batch.errors import ConfigError
from register_batch.export import export_trainees
from register_batch.jobs import convert_files, validate_files, validate_records
from register_batch.reference.pull import pull_reference
from register_batch.sync import SyncOptions, sync_files
from register_batch.validation import Checker

AS_OF = date(2026, 11, 28)
NOT_A_CLIENT = re.escape("client must be a register_batch.api.RegisterClient")


def _options(tmp_path: Path, target: object = "sandbox") -> SyncOptions:
    return SyncOptions(target, "tok-SECRET", tmp_path / "state", tmp_path / "reports", as_of=AS_OF)  # type: ignore[arg-type]


@pytest.mark.parametrize("inputs", [None, 5])
def test_inputs_that_are_no_list_at_all_are_named(tmp_path, inputs):
    for call in (
        lambda: convert_files(inputs, to="jsonl", output=tmp_path / "o.jsonl"),  # type: ignore[arg-type]
        lambda: validate_files(inputs, report_dir=tmp_path / "r"),  # type: ignore[arg-type]
        lambda: sync_files(inputs, _options(tmp_path)),  # type: ignore[arg-type]
    ):
        with pytest.raises(ConfigError, match="inputs must be a list of paths"):
            call()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("rows", [None, 5])
def test_rows_that_are_no_iterable_are_named(tmp_path, rows):
    with pytest.raises(ConfigError, match="rows are an iterable of mappings"):
        validate_records(rows, report_dir=tmp_path / "r")  # type: ignore[arg-type]
    with Checker(as_of=AS_OF) as checker, pytest.raises(ConfigError, match="rows are an iterable of mappings"):
        checker.rows(rows)  # type: ignore[arg-type]
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("client", ["http://127.0.0.1:9", None])
def test_a_client_that_is_not_a_register_client_is_named(tmp_path, client):
    with pytest.raises(ConfigError, match=NOT_A_CLIENT):
        export_trainees(client, to="jsonl", output=tmp_path / "held.jsonl")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=NOT_A_CLIENT):
        pull_reference(client, tmp_path / "state")  # type: ignore[arg-type]
    if client is not None:  # None is sync_files' default: a client made from the options
        with pytest.raises(ConfigError, match=NOT_A_CLIENT):
            sync_files([str(tmp_path / "x.csv")], _options(tmp_path), client=client)  # type: ignore[arg-type]
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", [None, 5])
def test_a_target_that_is_not_text_is_named_when_the_options_or_client_are_made(tmp_path, target):
    with pytest.raises(ConfigError, match="target must be 'sandbox', 'production' or a URL"):
        _options(tmp_path, target)
    with pytest.raises(ConfigError, match="target must be 'sandbox', 'production' or a URL"):
        RegisterClient(target, "tok-SECRET")  # type: ignore[arg-type]
