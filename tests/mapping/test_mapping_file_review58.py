"""Mistakes in a mapping file that review58 found said badly or not at all: a code with spaces around it (F3), YAML
mistakes out of the `file:line:` form (F6), a size limit far past any mapping file (F7), and a `degree_type` block
with no word of the two fields it is sent as (F8)."""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.mapping import load_mapping
from register_batch.mapping.loader import MAPPING_FILE_LIMIT


def refused_in_one_line(tmp_path, content: str | bytes) -> tuple[str, str]:
    """Write `content` as a user's mapping file, run `mappings check` with it: (its path, the one line it prints),
    after checking that it exits 2."""
    user = tmp_path / "ours.yaml"
    if isinstance(content, bytes):
        user.write_bytes(content)
    else:
        user.write_text(content, encoding="utf-8")
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 2, result.output
    [line] = result.output.splitlines()
    return str(user), line.removeprefix("register-batch: error: ")


# F3 ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "key", "code"),
    [
        ("codes:\n  sex:\n    translate:\n      ' M': '11'\n      'F ': '10'\n", 4, "codes.sex.translate", " M"),
        ("codes:\n  sex:\n    translate:\n      M: '11'\n      'F ': '10'\n", 5, "codes.sex.translate", "F "),
        ("codes:\n  sex:\n    no_translation:\n      ' 9': unknown\n", 4, "codes.sex.no_translation", " 9"),
        (
            "codes:\n  training_route:\n    translate:\n      '02':\n"
            "        - {to: '11', when: {itt_qualification_aim: ['001', ' 002']}}\n        - '12'\n",
            5,
            "codes.training_route.translate.02[0].when.itt_qualification_aim",
            " 002",
        ),
    ],
)
def test_a_code_with_spaces_around_it_is_refused_at_its_line(tmp_path, text, line, key, code):
    """Values are read with the spaces around them trimmed, so `" M"` (copied from a spreadsheet's cell) could
    never match: it was loaded, counted and passed by `mappings check`, then never used, and the input's `M` was
    listed as uncovered with no word of the file's `" M"`."""
    user, said = refused_in_one_line(tmp_path, text)
    assert said == (
        f"{user}:{line}: {key}: {code!r} has spaces around it, so it could never match: values are read with the "
        f"spaces around them trimmed; write {code.strip()!r}"
    )


def test_a_code_without_spaces_around_it_still_loads(tmp_path):
    """Spaces inside a code are the code's own (`11-16` has none, a name may): only those around it are refused."""
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  course_age_range:\n    translate:\n      'age 11 to 16': '13915'\n")
    [*_bundled, mine] = load_mapping([user]).codes
    assert list(mine.translate) == ["age 11 to 16"]


# F6 ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ("codes:\n  sex:\n    translate:\n\t'M': '11'\n", 4, 1),
        ("codes:\n  sex:\n\ttranslate:\n      'M': '11'\n", 3, 1),
        ("codes:\n  sex:\n    translate:\n      \t'M': '11'\n", 4, 7),
    ],
)
def test_a_tab_is_named_as_what_makes_the_yaml_invalid_at_its_line(tmp_path, text, line, column):
    """YAML's own words, `found character that cannot start any token`, never said the character was a tab: the
    most common mistake in a hand-edited YAML file. And the place was `file: line N`, not `file:N:`."""
    user, said = refused_in_one_line(tmp_path, text)
    assert said == (
        f"{user}:{line}: not valid YAML (a tab at column {column}: YAML indents with spaces only; replace the tab "
        "with spaces)"
    )


def test_other_yaml_mistakes_are_said_at_file_colon_line(tmp_path):
    user, said = refused_in_one_line(tmp_path, "codes:\n  sex:\n    translate:\n      'M': '11\n      'F': '10'\n")
    assert said == f"{user}:5: not valid YAML (did not find expected key)"


def test_a_control_character_is_said_at_file_colon_line(tmp_path):
    user, said = refused_in_one_line(tmp_path, "# ours, café\ncodes:\n  sex:\n    translate:\n      M: '1\x0c1'\n")
    assert said.startswith(f"{user}:5: not valid YAML (character U+000C: ")


def test_a_key_written_twice_is_not_called_invalid_yaml(tmp_path):
    """It is valid YAML (plain YAML keeps the last one); the loader refuses it."""
    user, said = refused_in_one_line(tmp_path, "codes:\n  sex:\n    translate:\n      'M': '11'\n      'M': '10'\n")
    assert said == f"{user}:5: key 'M' is written twice in the same section (first at line 4); keep one"


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("codes:\n  sex:\n    translate:\n      'A': '11'\n      'B':\n", 5),  # nothing after it
        ("codes:\n  sex:\n    translate:\n      'M': &a [{to: '11'}]\n      'N': [*a, *a]\n", 5),  # a list of lists
    ],
)
def test_a_translation_that_is_no_code_is_said_at_its_own_line(tmp_path, text, line):
    """It was said at the block's line (`sex:`, line 2), not the translation's."""
    user, said = refused_in_one_line(tmp_path, text)
    code = "B" if "'B'" in text else "N"
    assert said == f"{user}:{line}: codes.sex: translation of '{code}' must be a code or {{to: code, note, when}}"


@pytest.mark.parametrize(
    ("encoding", "line", "byte", "value"),
    [("cp1252", 3, 34, 0xE9), ("utf-16", 1, 1, 0xFF)],  # Notepad's "ANSI" (an é in a note); its "Unicode" (a BOM)
)
def test_a_file_that_is_not_utf8_is_said_at_the_line_of_its_first_such_byte(tmp_path, encoding, line, byte, value):
    text = "codes:\n  sex:\n    source: SRS café codes\n    translate:\n      M: '11'\n"
    user, said = refused_in_one_line(tmp_path, text.encode(encoding))
    assert said == (
        f"{user}:{line}: not UTF-8 text (its byte {byte}, 0x{value:02X}, is not UTF-8); save the mapping file as UTF-8"
    )


@pytest.mark.parametrize("end", ["\r", "\r\n", "\n"], ids=["CR (old Mac)", "CR LF", "LF"])
def test_a_byte_that_is_not_utf8_is_said_at_its_line_whatever_the_line_ends(tmp_path, end):
    """review117 F9: with CR line ends the byte was named on line 1, while YAML's and the loader's other errors count
    a lone CR as a line end, as the CSV readers do."""
    text = end.join(["codes:", "  sex:", "    source: SRS café codes", "    translate:", "      M: '11'", ""])
    user, said = refused_in_one_line(tmp_path, text.encode("cp1252"))
    assert said.startswith(f"{user}:3: not UTF-8 text (its byte ")


# F7 ---------------------------------------------------------------------------------------------------------------


def full_subject_table(entries: int) -> str:
    """A JACS-to-HECoS table as a provider would write one: each code with its HECoS code and a note."""
    lines = ["codes:", "  degrees_attributes.subject:", "    source: JACS 3.0 to HECoS, our table of 2026-10"]
    lines.append("    translate:")
    lines += [
        f'      "{chr(65 + n % 26)}{n:04d}": {{to: "100425", note: "physics, JACS {chr(65 + n % 26)}{n:04d}, our '
        f'table row {n}"}}'
        for n in range(entries)
    ]
    return "\n".join(lines) + "\n"


def test_the_limit_holds_a_full_subject_table_many_times_over(tmp_path):
    """JACS has under two thousand principal subjects: a table of five thousand, with notes, loads."""
    user = tmp_path / "subjects.yaml"
    user.write_text(full_subject_table(5000))
    assert user.stat().st_size * 4 < MAPPING_FILE_LIMIT
    [*_bundled, mine] = load_mapping([user]).codes
    assert len(mine.translate) == 5000


def test_a_mapping_file_past_2_mb_is_refused_before_it_is_parsed(tmp_path):
    """The limit was 16 MB, and loading takes about 75 times a file's size in memory: a 16 MB file took 1.2 GB and
    18 s (review58 F7). 2 MB holds any real table, and takes under 200 MB."""
    assert MAPPING_FILE_LIMIT == 2 << 20
    user, said = refused_in_one_line(tmp_path, full_subject_table(40_000))
    assert said == f"{user}: cannot read mapping file (over 2 MB, more than a mapping file holds)"


# F8 ---------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("key", ["degrees_attributes.degree_type", "degree_type"])
def test_a_degree_type_block_names_the_two_fields_a_degree_type_is_sent_as(tmp_path, key):
    """`degree_type` is the field map's name; in `codes` a degree's type is uk_degree or non_uk_degree. The error
    gave `sex, course_subject_*, degrees_attributes.subject` as examples, none of them the fields to write."""
    user, said = refused_in_one_line(tmp_path, f"codes:\n  {key}:\n    translate:\n      BSC: '003'\n")
    assert re.match(rf"{re.escape(user)}:2: codes\.{re.escape(key)}: matches no Register API v2026\.1 field", said)
    assert said.endswith(
        "so it would translate nothing; a degree's type is sent as degrees_attributes.uk_degree or "
        "degrees_attributes.non_uk_degree, by its country: write a block for each (an anchor shares one table "
        "between them, as mappings/codes/legacy.yaml does; docs/mappings.md)"
    )


def test_the_two_blocks_it_names_load(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  degrees_attributes.uk_degree: &types\n    translate:\n      BSC: '003'\n"
        "  degrees_attributes.non_uk_degree: *types\n"
    )
    mine = load_mapping([user]).codes[-2:]
    assert [t.pattern for t in mine] == ["degrees_attributes.uk_degree", "degrees_attributes.non_uk_degree"]
