"""A HESA XML file refused as not well-formed names the record the error is in, or the one it follows, counted from
the file: the project's bar of one line naming the file, record, line and field. The count of records read lags: lxml
raises before it hands over the records it had parsed in its buffer (a tag mismatch in record 3 came with a count of
0), so the count comes from a second look at the file, up to the error's line, on the error's path only."""

from __future__ import annotations

import gzip
import io
import zipfile
from datetime import date

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.readers.hesa_xml import RECORD_TAGS, _doctype_end
from register_batch.readers.xml_places import place_and_element_of
from xml_reads import line_of, read

CUT = "truncated XML (the file ends before the document does)"


def student(number: int, tag: str = "Student") -> str:
    return (
        f"  <{tag}>\n    <F_HUSID>{number:013d}</F_HUSID>\n    <F_SURNAME>Surname{number}</F_SURNAME>\n"
        f"    <F_FNAMES>Jo</F_FNAMES>\n  </{tag}>\n"
    )


def extract(count: int = 200, tag: str = "Student") -> str:
    """Small records, a buffer's worth of which lxml parses before it hands any over (32 KiB: some 300 of them)."""
    return (
        "<?xml version='1.0' encoding='UTF-8'?>\n<ITTRecord>\n"
        + "".join(student(n, tag) for n in range(1, count + 1))
        + "</ITTRecord>\n"
    )


def mismatched(text: str, number: int) -> str:
    """`text` with record `number`'s surname closed by the wrong end tag."""
    good = f"<F_SURNAME>Surname{number}</F_SURNAME>"
    assert text.count(good) == 1
    return text.replace(good, f"<F_SURNAME>Surname{number}</F_SURNAM>")


def refusal(tmp_path, text: str | bytes, name: str = "bad.xml") -> UnusableInput:
    path = tmp_path / name
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    return caught.value


@pytest.mark.parametrize("number", [1, 3, 150])
def test_an_error_inside_a_record_names_that_record(tmp_path, number):
    """Record 3 is the old count's case: all three are in lxml's first buffer, none handed over when it raised."""
    text = mismatched(extract(), number)
    error = refusal(tmp_path, text)
    line = line_of(text, "</F_SURNAM>")
    assert (error.record, error.line) == (number, line)
    assert str(error).startswith(f"{tmp_path / 'bad.xml'}, record {number}, line {line}: not well-formed XML: Opening")


def test_an_error_at_a_records_end_tag_is_in_that_record(tmp_path):
    """libxml2 names the line of `</Student>` when a tag in the record is never closed: that end tag is the record's."""
    text = extract().replace("<F_FNAMES>Jo</F_FNAMES>", "<F_FNAMES>Jo", 3)
    error = refusal(tmp_path, text)
    assert error.record == 1 and error.line == line_of(text, "</Student>")


def test_an_error_between_records_is_said_to_be_after_the_one_before(tmp_path):
    text = extract().replace(student(5), student(5) + "  <Note x>\n")
    error = refusal(tmp_path, text)
    assert error.record is None and error.line == line_of(text, "<Note x>")
    assert "not well-formed XML after record 5: Specification mandates value for attribute x" in str(error)


@pytest.mark.parametrize(
    "before",
    ["  <Provider\n", '  <Provider name="Leeds>\n', "</ITTRecord>\n"],
    ids=["wrapper-without-its-end", "quote-never-closed", "content-after-the-root"],
)
@pytest.mark.parametrize("indent", ["  ", ""], ids=["indented", "at-column-1"])
def test_a_fault_before_a_record_found_at_its_start_tag_is_not_blamed_on_it(tmp_path, before, indent):
    """review147 F1: libxml2 finds a fault in what comes before a record at the `<` of the record's start tag, on a
    line of that record alone; record 4 was named though nothing is wrong in it. Only the line is named. (The root's
    end before record 4: two extracts joined.) review149 F1: so too with the start tag at column 1, where the byte
    before the column is the line end before the line."""
    text = extract(6).replace(student(4), before + student(4)).replace("\n  <", "\n" + indent + "<")
    if before == "</ITTRecord>\n":
        text = text[: text.rindex("</ITTRecord>")]
    error = refusal(tmp_path, text)
    line = line_of(text, f"{indent}<Student>\n    <F_HUSID>0000000000004")
    assert error.record is None and error.line == line, str(error)
    assert "record 4" not in str(error) and "not well-formed XML: " in str(error)


def test_an_error_before_the_first_record_says_so(tmp_path):
    text = extract().replace("<ITTRecord>\n", "<ITTRecord>\n<Note x>\n")
    error = refusal(tmp_path, text)
    assert error.record is None and "not well-formed XML before the first record: " in str(error)


@pytest.mark.parametrize("tail", ["", "\n", "  "], ids=["at-its-end-tag", "a-line-after", "spaces-after"])
def test_a_file_cut_after_its_last_complete_record_is_refused_after_it(tmp_path, tail):
    text = extract()
    cut = text[: text.index(student(120)) + len(student(120)) - 1] + tail
    error = refusal(tmp_path, cut)
    assert error.record is None and f"not well-formed XML after record 120: {CUT}" in str(error)


def test_a_file_cut_in_a_record_is_refused_in_it(tmp_path):
    text = extract()
    cut = text[: text.index(student(120)) + 40]
    error = refusal(tmp_path, cut)
    assert error.record == 120 and f"not well-formed XML: {CUT}" in str(error)


def test_a_record_in_a_comment_or_cdata_is_not_counted(tmp_path):
    """`<Student>` in a comment, a CDATA section or a processing instruction is no record, to the parse nor the count;
    nor is a Student in a mix of case the reader does not read (<StudentS>, <Students>)."""
    text = extract()
    text = text.replace(student(2), student(2) + "  <!-- <Student> was here, <Student/> too -->\n")
    text = text.replace("<F_FNAMES>Jo</F_FNAMES>", "<F_FNAMES><![CDATA[<Student>]]></F_FNAMES>", 3)
    text = text.replace(student(3), student(3) + "  <?srs <Student> ?>\n  <Students/>\n")
    error = refusal(tmp_path, mismatched(text, 4))
    assert error.record == 4


def test_records_in_any_case_the_reader_reads_and_in_wrappers_are_counted(tmp_path):
    students = [student(n, tag) for n, tag in enumerate(["Student", "student", "STUDENT", "Student"], 1)]
    text = (
        "<ITTRecord>\n<Provider>\n<F_UKPRN>10000001</F_UKPRN>\n"
        + "".join(students[:2])
        + "</Provider>\n<Provider>\n<F_UKPRN>10000001</F_UKPRN>\n"
        + "".join(students[2:])
        + "</Provider>\n</ITTRecord>\n"
    )
    assert refusal(tmp_path, mismatched(text, 3)).record == 3
    assert refusal(tmp_path, text.replace(students[1], students[1] + "<Note x>\n")).problem.startswith(
        "not well-formed XML after record 2: "
    )


def test_a_one_line_extract_is_placed_by_the_errors_column(tmp_path):
    """A file of one line (an SRS that writes no line ends) has every record on the error's line: libxml2's column,
    where it stopped, tells which one."""
    one = "".join(line.strip() for line in extract().splitlines())
    error = refusal(tmp_path, mismatched(one, 3))
    assert (error.record, error.line) == (3, 1)
    between = refusal(tmp_path, one.replace(student(7).replace("\n", "").replace("  ", ""), "<Note x/>"))
    assert between.record is None


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_a_one_line_extracts_column_is_counted_after_its_byte_order_mark(tmp_path, bom):
    """libxml2 counts no column for a byte order mark: `&;` right after record 5's end tag is after it."""
    one = "".join(line.strip() for line in extract().splitlines())
    fifth = student(5).replace("\n", "").replace("  ", "")
    error = refusal(tmp_path, bom + one.replace(fifth, fifth + "&;").encode())
    assert error.record is None and error.problem.startswith("not well-formed XML after record 5: ")


def test_where_the_column_cannot_tell_records_apart_none_is_named(tmp_path):
    """A record's unclosed tag is found at its `</Student>`: libxml2 stands just past it, at the next `<Student>` on
    the same line. Either record could be meant from the column alone; neither is named, not a wrong one."""
    one = "".join(line.strip() for line in extract().splitlines())
    error = refusal(tmp_path, one.replace("<F_FNAMES>Jo</F_FNAMES>", "<F_FNAMES>Jo", 3))
    assert error.record is None and error.line == 1
    assert error.problem.startswith("not well-formed XML: Opening and ending tag mismatch")


def test_a_record_inside_another_names_no_record(tmp_path):
    """The reader refuses a Student inside another, whose numbers would not be those of the file's records."""
    text = extract().replace(student(2), student(2).replace("</Student>", student(99)[2:] + "</Student>"))
    error = refusal(tmp_path, mismatched(text, 3))
    assert error.record is None and error.problem.startswith("not well-formed XML: ")


def test_old_mac_line_ends_are_counted_as_the_parse_counts_them(tmp_path):
    text = mismatched(extract(), 3)
    error = refusal(tmp_path, text.replace("\n", "\r").encode())
    assert (error.record, error.line) == (3, line_of(text, "</F_SURNAM>"))


def test_a_latin1_extract_with_accents_is_counted_by_its_bytes(tmp_path):
    text = extract().replace("<F_FNAMES>Jo</F_FNAMES>", "<F_FNAMES>Zoë Renée</F_FNAMES>")
    text = mismatched(text.replace("encoding='UTF-8'", "encoding='ISO-8859-1'"), 3)
    error = refusal(tmp_path, text.encode("latin-1"))
    assert (error.record, error.line) == (3, line_of(text, "</F_SURNAM>"))


@pytest.mark.parametrize("container", ["zip", "gzip"])
def test_a_zipped_or_gzipped_extract_names_the_record_as_the_file_itself_does(tmp_path, container):
    """The file is read again from its start to count: a zip member, or a gzip file inflated again."""
    text = mismatched(extract(), 3)
    path = tmp_path / f"bad.xml.{'zip' if container == 'zip' else 'gz'}"
    if container == "zip":
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("bad.xml", text)
    else:
        path.write_bytes(gzip.compress(text.encode()))
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert (caught.value.record, caught.value.line) == (3, line_of(text, "</F_SURNAM>"))


def test_the_command_line_names_the_record_in_its_one_line(tmp_path):
    for name, text, where in [
        ("record.xml", mismatched(extract(), 3), "record 3, line {line}: not well-formed XML: Opening"),
        ("cut.xml", extract()[: -len("</ITTRecord>\n")], f"line {{line}}: not well-formed XML after record 200: {CUT}"),
    ]:
        path = tmp_path / name
        path.write_text(text)
        result = CliRunner().invoke(cli, ["validate", str(path), "--report-dir", str(tmp_path / "r")])
        assert result.exit_code == 2
        [said] = result.output.strip().splitlines()
        line = line_of(text, "</F_SURNAM>") if "record" in name else text.count("\n") + 1
        assert said.startswith(f"register-batch: error: {path}, {where.format(line=line)}"), said


def test_a_file_read_in_chunks_names_the_record_as_one_process_does(tmp_path, small_chunks):
    """Read in chunks by two processes (chunks of 100 KB here: conftest's small_chunks), an error has the file read
    whole again, whose message is the one-process run's."""
    generated = tmp_path / "generated.xml"
    generate(generated, count=300, fmt="hesa-xml", seed=5, as_of=date(2026, 11, 1))
    text = generated.read_text(encoding="utf-8")
    late = text.index("</F_SURNAME>", len(text) * 5 // 6)
    damaged = text[:late] + "</F_SURNAM>" + text[late + len("</F_SURNAME>") :]
    path = tmp_path / "large.xml"
    path.write_text(damaged, encoding="utf-8")
    said = []
    for jobs in (1, 2):
        with pytest.raises(UnusableInput) as caught:
            validate_files([str(path)], as_of=date(2026, 11, 28), report_dir=tmp_path / f"r{jobs}", jobs=jobs)
        said.append(str(caught.value))
    assert small_chunks and small_chunks[0] >= 2
    record = damaged[:late].count("<Student>")
    assert said[0] == said[1] and said[0].startswith(f"{path}, record {record}, line {line_of(damaged, '</F_SURNAM>')}")
    assert 240 < record < 300


def one_line(text: str) -> str:
    return "".join(line.strip() for line in text.splitlines())


def accented(text: str) -> str:
    """Every record's first names with accents (characters of two bytes in UTF-8, of one in Latin-1)."""
    return text.replace("<F_FNAMES>Jo</F_FNAMES>", "<F_FNAMES>Zoë Renée</F_FNAMES>").replace(
        "<F_SURNAME>Surname1<", "<F_SURNAME>Ó Briain<"
    )


@pytest.mark.parametrize("number", [1, 3, 150])
@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
def test_a_one_line_utf8_extract_with_accents_is_placed_by_its_column_in_characters(tmp_path, number, bom):
    """review147 F3: libxml2 counts a UTF-8 line's columns in characters (2.14: `é` is one column, two bytes). Followed
    so, the column names the record; counted in bytes, it would not (it ran none past a byte over 0x7F)."""
    text = one_line(accented(mismatched(extract(), number)))
    error = refusal(tmp_path, bom + text.encode())
    assert (error.record, error.line) == (number, 1), str(error)
    fifth = one_line(accented(student(5)))
    after = refusal(tmp_path, bom + one_line(accented(extract())).replace(fifth, fifth + "&;").encode())
    assert after.record is None and after.problem.startswith("not well-formed XML after record 5: "), str(after)


@pytest.mark.parametrize(
    ("declared", "codec", "bom"),
    [("ISO-8859-1", "latin-1", b""), ("windows-1252", "cp1252", b""), ("ISO-8859-1", "utf-8", b"\xef\xbb\xbf")],
    ids=["latin-1", "windows-1252", "utf-8-under-a-latin-1-declaration-with-a-bom"],
)
def test_a_one_line_single_byte_extract_is_placed_by_its_column(tmp_path, declared, codec, bom):
    """In the single-byte encodings a character is a byte: the column is one. (A UTF-8 byte order mark has libxml2 read
    the file as UTF-8 whatever the declaration says: its column is then in UTF-8's characters.)"""
    text = accented(extract()).replace("encoding='UTF-8'", f"encoding='{declared}'")
    if codec != "latin-1":
        text = text.replace("Renée", "Renée €")  # 3 bytes in UTF-8, one in Windows-1252 (0x80)
    error = refusal(tmp_path, bom + one_line(mismatched(text, 150)).encode(codec))
    assert (error.record, error.line) == (150, 1), str(error)


@pytest.mark.parametrize(("declared", "codec"), [("UTF-8", "utf-8"), ("ISO-8859-1", "latin-1")])
def test_an_end_tag_named_past_ascii_before_the_column_leaves_the_record_unnamed(tmp_path, declared, codec):
    """review149 F2: libxml2 counts the name of an end tag in bytes (of UTF-8) and the rest in characters, so each
    `</F_NOTÉ>` before the error moved the column a byte on: record 3 was named for an error in record 2."""
    text = extract(4).replace("encoding='UTF-8'", f"encoding='{declared}'")
    text = text.replace("<F_FNAMES>Jo</F_FNAMES>", "<F_FNAMES>Jo</F_FNAMES><F_NOTÉ>x</F_NOTÉ>")
    text = one_line(text).replace("<F_SURNAME>Surname2</F_SURNAME>", "<F_SURNAME>Surname2&;</F_SURNAME>")
    error = refusal(tmp_path, text.encode(codec))
    assert error.record is None and error.line == 1, str(error)
    assert "record 3" not in str(error)


def test_a_byte_not_utf8_in_a_one_line_extract_with_accents_names_its_record(tmp_path):
    """libxml2 stops at a byte that is not UTF-8; the accents before it are characters of its column."""
    text = one_line(accented(extract())).encode()
    bad = text.index(b"Ren\xc3\xa9e", text.index(b"Surname3<"))
    error = refusal(tmp_path, text[:bad] + b"Ren\xe9e" + text[bad + len("Renée".encode()) :])  # Latin-1's `é`
    assert (error.record, error.line) == (3, 1), str(error)
    assert "the file is not UTF-8" in error.problem


def test_invalid_utf8_before_the_column_leaves_the_place_unknown():
    """A byte that is not UTF-8 before the column (which libxml2 would have stopped at first) leaves its count of
    characters unknown: no place, not a guess."""
    line = b"<ITTRecord><Student><F_X>\xe9</F_X></Student><Student><F_X>ab</F_Y></Student></ITTRecord>"
    column = len(line[: line.index(b"</F_Y>")].decode("latin-1")) + 1
    good = line.replace(b"\xe9", b"\xc3\xa9")
    for data, place in [(line, None), (good, (True, 2))]:
        found, _element = place_and_element_of(io.BytesIO(data).read, _doctype_end, RECORD_TAGS, line=1, column=column)
        assert found == place


@pytest.mark.parametrize("split", [0, 1, 2, 3])
def test_a_long_one_line_extract_with_characters_across_a_read_is_placed_by_its_column(tmp_path, split):
    """Over 1 MiB and 65,535 columns on one line, with a character of 4 bytes cut `split` bytes into it by the pass's
    1 MiB read, and two-byte ones before: the column still names record 3, past the boundary."""
    head = "<?xml version='1.0' encoding='UTF-8'?><ITTRecord>"
    records = [one_line(student(n)) for n in (1, 2, 3)]
    first = records[0].replace("<F_FNAMES>Jo", "<F_FNAMES>" + "é" * 300_000)
    pad = (1 << 20) - split - len((head + first + records[1].removesuffix("</Student>") + "<F_X>").encode())
    second = records[1].replace("</Student>", "<F_X>" + "z" * pad + "\U0001f600é</F_X></Student>")
    text = head + first + second + records[2] + "</ITTRecord>"
    assert text.encode()[(1 << 20) - split] == 0xF0
    error = refusal(tmp_path, mismatched(text, 3).encode())
    assert (error.record, error.line) == (3, 1), str(error)


def test_a_windows_1252_file_behind_a_utf8_byte_order_mark_is_told_what_is_wrong(tmp_path):
    """review149 F4: libxml2 reads a file that starts with a UTF-8 byte order mark as UTF-8, whatever its declaration
    says. A Windows-1252 file saved with one was told its byte was not Windows-1252 and to declare UTF-8, which could
    not help; its line and record are libxml2's, as a UTF-8 file's are."""
    text = extract(5).replace("encoding='UTF-8'", "encoding='windows-1252'").replace("Surname3<", "Renée<")
    error = refusal(tmp_path, b"\xef\xbb\xbf" + text.encode("cp1252"))
    assert (error.record, error.line) == (3, line_of(text, "Renée")), str(error)
    assert error.problem.endswith(
        "the file starts with a UTF-8 byte order mark, so it is read as UTF-8 whatever its XML declaration "
        "('windows-1252') says, and it is not UTF-8: remove the byte order mark (the file's first three bytes) so that "
        "its declaration is followed, or export it again from your SRS as UTF-8 (do not mend it in an editor and save "
        "it again: one that trusts the mark replaces each accented letter with U+FFFD, the replacement character, and "
        "the letters cannot be got back from the saved file)"
    ), error.problem


def test_a_byte_a_single_byte_encoding_lacks_in_a_one_line_extract_names_no_record(tmp_path):
    """review150 F4: for a byte the declared single-byte encoding lacks (0x81 in Windows-1252), libxml2's column is
    where it was converting ahead, not where the byte is: followed, it named "before the first record" for a byte in
    record 150. Only the line is named."""
    text = one_line(accented(extract())).replace("encoding='UTF-8'", "encoding='windows-1252'").encode("cp1252")
    at = text.index(b"Surname150<")
    error = refusal(tmp_path, text[:at] + b"Sur\x81name150" + text[at + len(b"Surname150") :])
    assert error.record is None and error.line == 1, str(error)
    assert "before the first record" not in str(error) and "after record" not in str(error)
