"""`Checker`'s arguments as a vendor's code gives them: a format, mapping or reference of the wrong kind is a
ConfigError naming it when the checker is made, not an AttributeError (or a late ConfigError) at the first record."""

from __future__ import annotations

from pathlib import Path

import pytest

from register_batch.errors import ConfigError, RegisterBatchError
from register_batch.mapping import load_mapping
from register_batch.reference import load_reference
from register_batch.validation.runner import Checker

SAMPLE = Path(__file__).parent.parent.parent / "samples" / "extract.xml"


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"fmt": 5}, "unknown input format 5"),
        ({"fmt": "xml"}, "unknown input format 'xml'"),
        ({"mapping": "mappings/"}, "mapping must be a MappingConfig"),
        ({"mapping": {}}, "mapping must be a MappingConfig"),
        ({"reference": "v2026.1"}, "reference must be a ReferenceData"),
        ({"reference": 3}, "reference must be a ReferenceData"),
    ],
)
def test_an_argument_of_the_wrong_kind_is_refused_when_the_checker_is_made(given, named):
    with pytest.raises(ConfigError, match=named) as refused:
        Checker(**given)
    assert isinstance(refused.value, RegisterBatchError)


def test_the_objects_the_library_makes_are_taken():
    with Checker(fmt="hesa-xml", mapping=load_mapping(), reference=load_reference()) as checker:
        assert sum(1 for _ in checker.records([SAMPLE])) == 12
