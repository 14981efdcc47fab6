"""A trainee's `<Student>` in another letter case is read as a record, or the file is refused naming its line: never
left out without a word (hesa-formats.md §5 item 1: take every Student), in one process or two.

The reader selected `Student` by name, case and all: `<student>` and `<STUDENT>` were skipped ("1 record: 1 valid",
exit 0, the other trainee gone), and a file of them alone "had no <Student> records". As a Student's own tags are read
in any case, `<student>` and `<STUDENT>` are now records; a Student in another mix of case (`<StudenT>`) is refused.
"""

from __future__ import annotations

import os
import re
import time
from datetime import date

import pytest

from register_batch.errors import UnusableInput
from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.readers import hesa_xml
from register_batch.readers.hesa_xml import find_chunks
from report_times import same_but_when
from xml_reads import line_of, read, read_in_parts

AS_OF = date(2026, 11, 28)
OTHER_CASE = "<StudenT> element is HESA's <Student> in another mix of letter case"


def sample_parts(hesa_samples) -> tuple[str, str, str]:
    """The C23053 sample as (what comes before its Student, the Student with its indent and line end, what follows)."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    start = text.index("    <Student>")
    end = text.index("</Student>") + len("</Student>\n")
    return text[:start], text[start:end], text[end:]


def another_trainee(student: str, spelling: str) -> str:
    """The sample's Student as another trainee (its own HUSID and student id), its element spelt `spelling`."""
    assert student.count("0310261553101") == 1 and student.count("99157234/2/01") == 1
    other = student.replace("0310261553101", "0310261553102").replace("99157234/2/01", "99157234/2/02")
    return other.replace("<Student>", f"<{spelling}>").replace("</Student>", f"</{spelling}>")


# -- <student> and <STUDENT> are records --------------------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["student", "STUDENT"])
@pytest.mark.parametrize("wrapped", [False, True], ids=["beside", "in-a-wrapper"])
def test_a_student_in_lower_or_upper_case_is_read_as_a_record(hesa_samples, tmp_path, spelling, wrapped):
    """`<Student>…</Student><Students><student>…</student></Students>` gave 1 record: the second trainee left out."""
    before, student, after = sample_parts(hesa_samples)
    second = another_trainee(student, spelling)
    if wrapped:
        second = f"    <Students>\n{second}    </Students>\n"
    text = before + student + second + after
    path = tmp_path / "two.xml"
    path.write_text(text)
    [(info, rows)] = read(path)
    assert info.records == 2 and [raw.source.record for raw in rows] == [1, 2]
    assert [raw.fields["F_HUSID"] for raw in rows] == ["0310261553101", "0310261553102"]
    assert rows[1].source.line == line_of(text, f"<{spelling}>")
    # Read as the Student itself is: every tag, the placement and the qualification, no problem
    first, other = rows
    assert {**other.fields, "F_HUSID": "", "F_OWNSTU": ""} == {**first.fields, "F_HUSID": "", "F_OWNSTU": ""}
    assert other.groups == first.groups and other.problems == first.problems == []


@pytest.mark.parametrize("spelling", ["student", "STUDENT"])
def test_a_file_of_lower_or_upper_case_students_alone_is_read(hesa_samples, tmp_path, spelling):
    """Every Student spelt another way: refused with "no <Student> records in the <ITTRecord> document", which did not
    say that there were records, in another case."""
    before, student, after = sample_parts(hesa_samples)
    second = another_trainee(student, "Student")
    plain = tmp_path / "plain.xml"
    plain.write_text(before + student + second + after)
    spelt = tmp_path / "spelt.xml"
    spelt.write_text(plain.read_text().replace("Student>", f"{spelling}>"))
    [(_info, expected)] = read(plain)
    [(info, rows)] = read(spelt)
    assert info.records == 2
    assert [(r.source.line, r.fields, r.groups, r.problems) for r in rows] == [
        (r.source.line, r.fields, r.groups, r.problems) for r in expected
    ]


def test_the_command_counts_the_trainee_in_lower_case(tmp_path):
    """The review's reproduction, on the command line: "1 record: 1 valid", exit 0, for a file of two trainees."""
    from cli_runs import run_cli

    path = tmp_path / "x.xml"
    generate(path, count=2, fmt="hesa-xml", defects=0, truth=tmp_path / "t.json", seed=3, as_of=AS_OF)
    text = path.read_text()
    second = text.index("    <Student>", text.index("</Student>"))
    end = text.index("</Student>", second) + len("</Student>")
    record = text[second:end].replace("<Student>", "<Students><student>").replace("</Student>", "</student></Students>")
    path.write_text(text[:second] + record + text[end:])
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    result = run_cli(["validate", str(path), "--as-of", AS_OF.isoformat(), "--report-dir", "r"], tmp_path, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("2 records: 2 valid"), result.stdout


# -- any other mix of case is refused, naming its line ------------------------------------------------------------


def _odd_between(before: str, student: str, after: str) -> tuple[str, int]:
    text = before + student + another_trainee(student, "StudenT") + student + after
    return text, line_of(text, "<StudenT>")


def _odd_in_a_wrapper(before: str, student: str, after: str) -> tuple[str, int]:
    odd = another_trainee(student, "StudenT")
    text = before + student + f"    <Students>\n{odd}    </Students>\n" + student + after
    return text, line_of(text, "<StudenT>")


def _odd_last(before: str, student: str, after: str) -> tuple[str, int]:
    text = before + student + another_trainee(student, "StudenT") + after
    return text, line_of(text, "<StudenT>")


def _odd_alone(before: str, student: str, after: str) -> tuple[str, int]:
    text = before + another_trainee(student, "StudenT") + after
    return text, line_of(text, "<StudenT>")


def _odd_around_a_student(before: str, student: str, after: str) -> tuple[str, int]:
    odd = another_trainee(student, "StudenT").replace("</StudenT>", student + "    </StudenT>")
    text = before + odd + student + after
    return text, line_of(text, "<StudenT>")


@pytest.mark.parametrize(
    ("build", "place"),
    [
        (_odd_between, ", after record 1"),
        (_odd_in_a_wrapper, ", after record 1"),
        (_odd_last, ", after record 1"),
        (_odd_alone, ""),  # no record to place it by
        (_odd_around_a_student, ""),  # it starts before the record it holds: how many before that is not told
    ],
    ids=["between-records", "in-a-wrapper", "after-the-last-record", "the-only-one", "around-a-record"],
)
def test_a_student_in_another_mix_of_case_is_refused_naming_its_line(hesa_samples, tmp_path, build, place):
    """Read by name, `<StudenT>` was skipped: its trainee left out without a word (alone: "no <Student> records").
    The refusal says which records it follows, as a parse error between records does."""
    text, line = build(*sample_parts(hesa_samples))
    path = tmp_path / "odd.xml"
    path.write_text(text)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == line and caught.value.record is None
    assert str(caught.value) == (
        f"{path}, line {line}: a <StudenT> element is HESA's <Student> in another mix of letter case{place}: "
        "register-batch reads <Student>, <student> and <STUDENT> as records, and would leave this one's out; name it "
        "<Student>"
    )


def respelt(text: str, spelling, records: range | None = None) -> str:
    """`text` with the Student elements numbered in `records` (all by default) spelt `spelling(number)`."""
    pieces = text.split("<Student>")
    out = [pieces[0]]
    for number, piece in enumerate(pieces[1:]):
        name = spelling(number) if records is None or number in records else "Student"
        out.append(f"<{name}>" + piece.replace("</Student>", f"</{name}>", 1))
    return "".join(out)


@pytest.mark.parametrize("first", [0, 300], ids=["from-the-start", "after-300-records"])
def test_megabytes_of_students_in_another_case_are_refused_as_such(long_extract, tmp_path, first):
    """More than 2 MB with no record the parse selects: refused as "not a HESA ITT extract, or a damaged one", when
    those megabytes are the trainees, spelt <StudenT>."""
    text = respelt(long_extract.read_text(), lambda _n: "StudenT", range(first, 1000))
    path = tmp_path / "odd.xml"
    path.write_text(text)
    with pytest.raises(UnusableInput, match=re.escape(OTHER_CASE)) as caught:
        read(path)
    assert caught.value.line == line_of(text, "<StudenT>") and caught.value.record is None
    place = ", after record 300:" if first else ", before the first record:"
    assert f"{OTHER_CASE}{place}" in caught.value.problem


# -- the cousins of a Student in another case: in a namespace, inside another Student -----------------------------


@pytest.mark.parametrize(
    ("start", "end"),
    [('<student xmlns="urn:srs">', "</student>"), ('<s:STUDENT xmlns:s="urn:srs">', "</s:STUDENT>")],
)
def test_a_lower_or_upper_case_student_in_a_namespace_is_refused(hesa_samples, tmp_path, start, end):
    """As a Student in a namespace is (its record would be read under another name): it was skipped, unlooked at."""
    before, student, after = sample_parts(hesa_samples)
    other = another_trainee(student, "Student").replace("<Student>", start).replace("</Student>", end)
    text = before + student + other + after
    path = tmp_path / "namespaced.xml"
    path.write_text(text)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == line_of(text, start) and caught.value.record is None
    assert f"a <{start.split()[0][1:]}> element is in an XML namespace (urn:srs), after record 1:" in str(caught.value)


@pytest.mark.parametrize("before", [0, 900], ids=["first", "late"])
def test_a_student_in_a_namespace_or_inside_another_names_the_record_it_is_in_or_follows(
    long_extract, tmp_path, before
):
    """Between records, a Student in a namespace follows record N (as a parse error there says); inside a Student,
    it is in the record read next, none read inside that one (it would have been refused as nested). A Student inside
    another is the record it was read as: the first inside the outer one."""
    text = long_extract.read_text()
    start = text.index("<Student>", text.index("</Student>") if before else 0)
    for _ in range(before - 1):
        start = text.index("<Student>", start + 1)
    assert text.count("</Student>", 0, start) == before
    inside = text.index("<F_FNAMES>", start)
    plain = "<Student><F_HUSID>2601200000017</F_HUSID></Student>"
    namespaced = plain.replace("<Student>", '<Student xmlns="urn:srs">')
    for cut, inserted, record in [
        (inside, namespaced, before + 1),
        (start, namespaced, None),
        (inside, plain, before + 1),
    ]:
        damaged = text[:cut] + inserted + text[cut:]
        path = tmp_path / "namespaced.xml"
        path.write_text(damaged)
        with pytest.raises(UnusableInput) as caught:
            read(path)
        assert (caught.value.line, caught.value.record) == (damaged.count("\n", 0, cut) + 1, record)
        if "xmlns" not in inserted:
            assert caught.value.problem.startswith("a <Student> inside another <Student> (the one starting on line ")
        elif record is not None:
            assert "in an XML namespace (urn:srs): " in caught.value.problem
        else:
            place = f", after record {before}" if before else ", before the first record"
            assert f"in an XML namespace (urn:srs){place}: " in caught.value.problem


def test_a_lower_case_student_inside_a_student_is_refused(hesa_samples, tmp_path):
    """As a Student inside another is: the inner one was read as a group of the outer's that no mapping knows."""
    before, student, after = sample_parts(hesa_samples)
    inner = "<student><F_HUSID>2601200000017</F_HUSID></student>"
    text = before + student.replace("<F_FNAMES>", inner + "<F_FNAMES>") + after
    path = tmp_path / "nested.xml"
    path.write_text(text)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == line_of(text, "<student>") and caught.value.record == 1
    assert f"a <student> inside another <Student> (the one starting on line {line_of(text, '<Student>')})" in str(
        caught.value
    )


# -- the chunked path (two processes) reads and refuses as one process does ---------------------------------------

SPELLINGS = ("Student", "student", "STUDENT")


@pytest.fixture(scope="module")
def mixed_extract(long_extract, tmp_path_factory):
    """The long extract with its Students spelt in turn <Student>, <student>, <STUDENT>."""
    path = tmp_path_factory.mktemp("mixed") / "mixed.xml"
    path.write_text(respelt(long_extract.read_text(), lambda n: SPELLINGS[n % 3]))
    return path


@pytest.mark.parametrize("first", [1, 4], ids=["chunks-read-alone", "shared"])
def test_chunks_cut_at_every_spelling_give_the_records_and_lines_of_the_whole(mixed_extract, first):
    [(info, rows)] = read(mixed_extract)
    assert info.records == 1000 and rows[-1].source.line > 65_535
    chunks = find_chunks(str(mixed_extract), chunk_bytes=200_000)
    assert chunks is not None and len(chunks) >= 8
    data = mixed_extract.read_bytes()
    assert {data[start + 1 : start + 8].decode() for start in chunks.starts} == set(SPELLINGS)
    assert [(r.source.line, r.fields, r.groups, r.problems) for r in read_in_parts(mixed_extract, chunks, first)] == [
        (r.source.line, r.fields, r.groups, r.problems) for r in rows
    ]


@pytest.mark.parametrize("reader", ["parent", "helper"])
def test_two_processes_give_the_one_process_reports_of_every_spelling(
    mixed_extract, small_chunks, tmp_path, monkeypatch, reader
):
    """Reports byte for byte those of one process, every record counted: before, both left out two thirds of them."""
    serial = validate_files([str(mixed_extract)], as_of=AS_OF, report_dir=tmp_path / "one", jobs=1)
    if reader == "helper":  # the parent's first read held back, so that the helper checks most chunks alone
        real_read = hesa_xml._Leading.read
        waited = []

        def read_late(self, size=-1):
            if not waited:
                waited.append(time.sleep(1.0))
            return real_read(self, size)

        monkeypatch.setattr(hesa_xml._Leading, "read", read_late)
    two = validate_files([str(mixed_extract)], as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    assert small_chunks and small_chunks[0] >= 20
    assert serial.report.summary.records == two.report.summary.records == 1000
    assert serial.report.summary.errors > 0 and serial.report.summary == two.report.summary
    assert same_but_when(tmp_path / "one", tmp_path / "two")


def test_a_student_in_another_case_late_in_a_chunked_file_is_refused_as_in_one_process(
    mixed_extract, small_chunks, tmp_path
):
    """Past line 65,535, in a chunk a reader of it alone numbers after padding: the same line, the same refusal."""
    text = mixed_extract.read_text()
    late = text.index("<student>", len(text) * 9 // 10)
    text = text[:late] + text[late:].replace("student>", "StudenT>", 2)
    path = tmp_path / "odd-late.xml"
    path.write_text(text)
    line = line_of(text, "<StudenT>")
    assert line > 70_000
    with pytest.raises(UnusableInput, match=re.escape(OTHER_CASE)) as whole:
        read(path)
    assert whole.value.line == line
    chunks = find_chunks(str(path), chunk_bytes=200_000)
    assert chunks is not None
    with pytest.raises(UnusableInput, match=re.escape(OTHER_CASE)) as alone:
        read_in_parts(path, chunks, 1)
    assert alone.value.line == line
    failures = []
    for jobs in (1, 2):
        with pytest.raises(UnusableInput) as caught:
            validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / f"r{jobs}", jobs=jobs)
        failures.append(str(caught.value))
    before = sum(text.count(f"</{spelling}>", 0, late) for spelling in SPELLINGS)
    assert failures[0] == failures[1] and f"line {line}: a {OTHER_CASE}, after record {before}: " in failures[0]
    assert small_chunks
