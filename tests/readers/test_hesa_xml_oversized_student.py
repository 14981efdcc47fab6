"""A Student over the 2 MB the reader holds of one record is refused as that record, not as a file that is no extract
(review232 F1); a bad byte or control character in a value names the element it is in (review232 F2). Each refusal is
one line, exit 2, naming the record and the line."""

from __future__ import annotations

import re
from datetime import date

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.generate import generate
from xml_reads import line_of, read

NOTE = "<F_NOTE>" + "x " * 1_200_000 + "</F_NOTE>"  # 2.4 MB: an SRS's own note, or an encoded attachment


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> str:
    """Five generated C24053 trainees, as review232 made them."""
    path = tmp_path_factory.mktemp("oversized") / "base.xml"
    generate(path, count=5, fmt="hesa-xml", vintage="C24053", academic_cycle=2026, seed=3, as_of=date(2026, 11, 28))
    return path.read_text(encoding="utf-8")


def at_surname(text: str, record: int, inserted: str, into: int = 0) -> str:
    """`text` with `inserted` before record `record`'s <F_SURNAME> (`into` characters into the tag's value)."""
    start = line_index(text, "<F_SURNAME>", record - 1) + (len("<F_SURNAME>") + into if into else 0)
    return text[:start] + inserted + text[start:]


def line_index(text: str, needle: str, occurrence: int) -> int:
    position = -1
    for _ in range(occurrence + 1):
        position = text.index(needle, position + 1)
    return position


def refused(tmp_path, text: str, name: str = "big.xml") -> UnusableInput:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnusableInput) as caught:
        read(path)
    return caught.value


@pytest.mark.parametrize("record", [1, 2, 5])
def test_a_student_holding_a_note_of_2_4_mb_is_refused_as_that_record_with_its_line_and_element(
    tmp_path, extract, record
):
    """Record 1 was said to be "before the first record", record 2 "after record 1", both "not a HESA ITT extract",
    with no line: a reader looked between records and found nothing wrong there."""
    text = at_surname(extract, record, NOTE)
    error = refused(tmp_path, text)
    start = line_of(text, "<Student>", record - 1)
    assert (error.record, error.line) == (record, start)
    problem = error.problem
    assert problem.startswith(f"the <Student> starting on line {start} runs past 2 MB"), problem
    # the record and line find it; its HUSID is not printed (a printed line names no values: docs/formats.md)
    assert re.findall(r"<F_HUSID>(\d+)</F_HUSID>", text)[record - 1] not in problem
    assert f"its <F_NOTE> on line {line_of(text, '<F_NOTE>')} holds at least " in problem
    assert "not a HESA ITT extract" not in problem and "before the first record" not in problem


def test_a_value_of_11_mb_is_named_as_the_element_it_is(tmp_path, extract):
    text = at_surname(extract, 2, "x" * 11_000_000, into=2)
    error = refused(tmp_path, text)
    assert (error.record, error.line) == (2, line_of(text, "<Student>", 1))
    assert f"its <F_SURNAME> on line {line_of(text, 'xxxx')} holds at least 2.0 MB of text" in error.problem


def test_a_student_of_many_small_elements_is_named_by_their_number(tmp_path, extract):
    text = at_surname(extract, 2, "<F_X>1</F_X>" * 300_000)
    error = refused(tmp_path, text)
    assert (error.record, error.line) == (2, line_of(text, "<Student>", 1))
    assert re.search(r"\(it holds at least [\d,]{7} elements\)", error.problem), error.problem


def test_megabytes_between_records_are_still_refused_as_no_record_in_sight(tmp_path, extract):
    """No Student is open: the words for bytes that are no record stay (a guard: not a Student wrongly blamed)."""
    end = line_index(extract, "</Student>", 1) + len("</Student>")
    text = extract[:end] + "<Junk>" + "<J/>" * 700_000 + "</Junk>" + extract[end:]
    error = refused(tmp_path, text)
    assert error.record is None and "without a complete <Student> (after record 2)" in error.problem


def test_the_refusal_is_one_line_and_exit_2(tmp_path, extract):
    path = tmp_path / "fat.xml"
    path.write_text(at_surname(extract, 2, NOTE), encoding="utf-8")
    result = CliRunner().invoke(cli, ["validate", str(path), "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    [line] = result.output.strip().splitlines()
    assert f"fat.xml, record 2, line {line_of(path.read_text(), '<Student>', 1)}: the <Student> starting" in line


@pytest.mark.parametrize(
    "bad",
    [b"\x00", b"\x0b", b"&#11;", b"\xe9", b"&eacute;"],
    ids=["nul", "vertical-tab", "char-ref-11", "not-utf8", "undeclared-entity"],
)
@pytest.mark.parametrize("record", [1, 2])
def test_a_bad_byte_in_a_value_names_its_element(tmp_path, extract, bad, record):
    """review232 F2: the record, line and column were named, not the tag: the field an export wrote badly."""
    data = at_surname(extract, record, "\0", into=3).encode("utf-8").replace(b"\0", bad)
    path = tmp_path / "bad.xml"
    path.write_bytes(data)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    error = caught.value
    assert (error.record, error.line) == (record, line_of(extract, "<F_SURNAME>", record - 1))
    assert error.problem.startswith("not well-formed XML in <F_SURNAME>: "), error.problem


def test_a_bad_byte_between_elements_names_none(tmp_path, extract):
    """Not in a value: the element before it is closed, and is not named (a guard against naming the wrong one)."""
    path = tmp_path / "bad.xml"
    path.write_bytes(at_surname(extract, 1, "\0").encode("utf-8"))
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.record == 1 and caught.value.problem.startswith("not well-formed XML: "), caught.value.problem
