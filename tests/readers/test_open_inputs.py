"""open_inputs, the readers' one entry point: what it refuses before any file is read."""

from __future__ import annotations

import os

import pytest

from register_batch.errors import ConfigError
from register_batch.mapping import load_mapping
from register_batch.readers import open_inputs

ROWS = "F_HUSID,F_SURNAME,F_FNAMES\n0310261553101,George,Dave\n"


def test_an_unknown_format_is_refused_naming_the_formats(tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text(ROWS)
    with pytest.raises(ConfigError) as caught:
        list(open_inputs([str(path)], "csv", load_mapping()))
    assert str(caught.value) == "unknown input format 'csv'; use auto or one of hesa-xml, hesa-csv, register-csv"


def test_a_file_given_twice_by_two_names_is_refused(tmp_path):
    """Each of its records would be a duplicate of itself; a second name (a hard link) is the same file."""
    path = tmp_path / "extract.csv"
    path.write_text(ROWS)
    other = tmp_path / "tonight.csv"
    os.link(path, other)
    with pytest.raises(ConfigError) as caught:
        list(open_inputs([str(path), str(other)], "auto", load_mapping()))
    assert str(caught.value) == (
        f"{other} is given twice (also as {path}): each of its records would be a duplicate of itself"
    )
