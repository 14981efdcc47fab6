"""YAML where a plain scalar is the text written (textyaml.py): codes stay codes, and a key written twice in a mapping
file is refused naming its line."""

from __future__ import annotations

import io

import pytest
import yaml

from register_batch.textyaml import lines_of, load_text_yaml

WRITTEN = "NO: YES\n01: 0x1F\ntime: 1:30\nthousand: 1e3\nhalf: 0.5\ntilde: ~\nNULL: null\nempty:\nquoted: ''\n"


def test_every_plain_scalar_is_the_text_written_and_only_an_empty_one_is_null(tmp_path):
    """YAML 1.1 would read NO/YES as booleans, 01 and 0x1F as numbers, 1:30 as 90 and ~ or null as nothing."""
    path = tmp_path / "codes.yml"
    path.write_text(WRITTEN, encoding="utf-8")
    expected = {
        "NO": "YES",
        "01": "0x1F",
        "time": "1:30",
        "thousand": "1e3",
        "half": "0.5",
        "tilde": "~",
        "NULL": "null",
        "empty": None,
        "quoted": "",
    }
    assert load_text_yaml(path) == expected
    assert load_text_yaml(io.StringIO(WRITTEN), unique_keys=True) == expected


MERGED = "base: &base {a: '1', b: '2'}\nuse:\n  <<: *base\n  b: '3'\n"


@pytest.mark.parametrize("unique_keys", [False, True])
def test_a_merge_key_brings_in_a_block_whose_keys_may_be_overridden(unique_keys):
    doc = load_text_yaml(io.StringIO(MERGED), unique_keys=unique_keys)
    assert doc["use"] == {"a": "1", "b": "3"}


def test_a_key_written_twice_is_refused_with_both_lines_only_when_asked():
    text = "codes:\n  sex: '1'\n  sex: '2'\n"
    assert load_text_yaml(io.StringIO(text)) == {"codes": {"sex": "2"}}  # plain YAML: the last one
    with pytest.raises(yaml.constructor.ConstructorError) as caught:
        load_text_yaml(io.StringIO(text), unique_keys=True)
    assert caught.value.problem == "key 'sex' is written twice in the same section (first at line 2); keep one"
    assert caught.value.problem_mark.line + 1 == 3


def test_a_key_written_twice_after_a_merge_key_is_refused_too():
    text = "base: &base {a: '1'}\nuse:\n  <<: *base\n  c: '1'\n  c: '2'\n"
    with pytest.raises(yaml.constructor.ConstructorError, match=r"key 'c' is written twice .*first at line 4"):
        load_text_yaml(io.StringIO(text), unique_keys=True)


def test_a_list_as_a_key_is_a_yaml_error_not_a_crash():
    with pytest.raises(yaml.constructor.ConstructorError, match="unhashable key"):
        load_text_yaml(io.StringIO("? [a, b]\n: c\n"), unique_keys=True)


def test_a_section_may_merge_two_blocks_with_a_merge_key_each():
    text = "a: &a {x: '1'}\nb: &b {y: '2'}\nuse:\n  <<: *a\n  <<: *b\n"
    assert load_text_yaml(io.StringIO(text), unique_keys=True)["use"] == {"x": "1", "y": "2"}


PLACES = (
    "fields:\n  hesa:\n    trainee:\n      sex:\ncodes:\n  degrees_attributes.subject:\n    translate:\n      '1':\n"
    "        - '11'\n        - {to: '12'}\n"
)


@pytest.mark.parametrize(
    "keys,line",
    [
        ("fields", 1),
        ("fields.hesa.trainee.sex", 4),  # a key with no value: its own line, not the next
        ("codes.degrees_attributes.subject", 6),  # the longest key that fits, dot and all
        ("codes.degrees_attributes.subject.translate.1", 8),
        ("codes.degrees_attributes.subject.translate.1[1]", 10),
        ("codes.degrees_attributes.subject.translate.1[1].to", 10),
        ("codes.degrees_attributes.subject.translate.1[2]", None),  # past the end of the list
        ("fields.hesa.degrees", None),
        ("fields.hesa.trainee.sex.more", None),  # under a value that is not a mapping
    ],
)
def test_lines_of_finds_where_a_key_path_is_written(keys, line):
    assert lines_of(PLACES, [keys]) == [line]


def test_lines_of_text_that_is_not_yaml_is_none_for_each_path():
    assert lines_of("codes: [\n", ["codes", "fields"]) == [None, None]
    assert lines_of("codes: [\n", []) == []


def test_lines_of_an_index_into_a_value_that_is_not_a_list_is_none():
    """`[0]` after a scalar (a translation written as one code, not a list) leads through nothing written."""
    assert lines_of(PLACES, ["codes.degrees_attributes.subject.translate.1[0][0]", "fields.hesa[0]"]) == [None, None]
