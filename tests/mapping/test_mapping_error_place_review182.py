"""A mapping file's refusal carries its file and line as attributes, not only in its message (review182 F6): a
vendor that lets providers upload their own field maps points at the line without parsing the message."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from register_batch.errors import ConfigError, MappingError
from register_batch.mapping import load_mapping


def refusal(tmp_path: Path, text: str) -> MappingError:
    path = tmp_path / "ours.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_mapping([path])
    assert isinstance(refused.value, MappingError), repr(refused.value)
    return refused.value


def test_a_file_that_is_not_yaml_names_its_path_and_line(tmp_path):
    error = refusal(tmp_path, "fields:\n  hesa:\n    trainee:\n      sex: [SEXID, SEX\n      email: EMAIL\n")
    assert (error.path, error.line) == (str(tmp_path / "ours.yaml"), 5)
    assert str(error).startswith(f"{tmp_path / 'ours.yaml'}:5: not valid YAML (")


def test_an_unknown_key_names_its_path_and_line(tmp_path):
    error = refusal(tmp_path, "# ours\nfields:\n  hesa:\n    no_such_field: X\n")
    assert (error.path, error.line) == (str(tmp_path / "ours.yaml"), 4)
    assert str(error).startswith(f"{tmp_path / 'ours.yaml'}:4: fields.hesa: unknown key 'no_such_field'")
    again = pickle.loads(pickle.dumps(error))  # a worker pool hands it back whole
    assert (type(again), again.path, again.line, str(again)) == (MappingError, error.path, 4, str(error))


def test_a_file_that_cannot_be_read_names_its_path_and_no_line(tmp_path):
    path = tmp_path / "missing.yaml"
    with pytest.raises(MappingError) as refused:
        load_mapping([path])
    assert (refused.value.path, refused.value.line) == (str(path), None)
    assert str(refused.value).startswith(f"{path}: cannot read mapping file")
