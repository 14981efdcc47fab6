"""Reading real HESA ITT XML: every vintage, the one-line file, the zip, and what must be refused."""

from __future__ import annotations

import functools
import json
import os
import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.generate import generate
from register_batch.mapping import load_mapping
from register_batch.readers import XmlChunks, XmlPart, newlines_before, open_inputs
from register_batch.readers.hesa_xml import find_chunks
from xml_reads import long_title_extract, read_in_parts, record_on_line


@functools.cache
def bundled_mapping():
    """The bundled mapping, loaded once: the cut-short test reads a thousand files."""
    return load_mapping()


def read(path, fmt="auto"):
    out = []
    for info, records in open_inputs([str(path)], fmt, bundled_mapping()):
        rows = list(records)
        out.append((info, rows))
    return out


def c23053_edited(hesa_samples, edits: dict[str, str]) -> str:
    """The C23053 sample's text with each `old` (found exactly once) replaced by its `new`."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    for old, new in edits.items():
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


@pytest.mark.parametrize(
    "name", ["itt_record_C21053.xml", "itt_record_C22053.xml", "itt_record_C23053.xml", "itt_record_one_line.xml"]
)
def test_each_sample_gives_one_student_with_its_tags(hesa_samples, name):
    [(info, [raw])] = read(hesa_samples / name)
    assert info.format == "hesa-xml" and info.records == 1 and len(info.sha256) == 64
    assert raw.fields["F_HUSID"] == "0310261553101"  # leading zero kept
    assert raw.fields["F_OWNSTU"] == "99157234/2/01"
    assert raw.fields["F_NIN"] is None  # NULL means no value
    assert raw.groups["PLACEMENT"] == [{"F_PLMNTSCH": "900000", "F_PLMNTDYS": "160"}]
    assert len(raw.groups["PREVIOUSQUALIFICATION"]) == 1
    assert raw.source.record == 1 and raw.source.line >= 2


def test_null_in_any_case_empty_and_absent_are_no_value_at_every_level(hesa_samples, tmp_path):
    """hesa-formats.md §1.4 and §5 items 3-4, on the C23053 sample: `NULL`, `Null`, `null`, an empty element and a
    missing one are all no value, in the Student and inside PLACEMENT and PREVIOUSQUALIFICATION; a placement or
    qualification left with no value is dropped, and one child reads like several."""
    from register_batch.mapping import Mapper

    edits = {
        "<F_NIN>NULL</F_NIN>": "<F_NIN>null</F_NIN>",
        "<F_PSURNAME>Geoorge</F_PSURNAME>": "<F_PSURNAME></F_PSURNAME>",
        "<F_SBJCA2>NULL</F_SBJCA2>": "<F_SBJCA2>Null</F_SBJCA2>",
        "<F_DEGCLSS>01</F_DEGCLSS>": "<F_DEGCLSS>Null</F_DEGCLSS>",
        "<F_DEGCTRY>XF</F_DEGCTRY>": "<F_DEGCTRY>nULL</F_DEGCTRY>",
        "<F_DEGEST>0001</F_DEGEST>": "<F_DEGEST/>",
        "</PLACEMENT>": "</PLACEMENT><PLACEMENT><F_PLMNTSCH>Null</F_PLMNTSCH><F_PLMNTDYS/></PLACEMENT>"
        "<PLACEMENT><F_PLMNTSCH> 100000 </F_PLMNTSCH></PLACEMENT>",
        "</PREVIOUSQUALIFICATION>": "</PREVIOUSQUALIFICATION><PREVIOUSQUALIFICATION><F_DEGTYPE>null</F_DEGTYPE>"
        "<F_DEGSBJ1/><F_DEGEST>NULL</F_DEGEST><F_DEGCLSS></F_DEGCLSS></PREVIOUSQUALIFICATION>",
    }
    text = c23053_edited(hesa_samples, edits)
    text = "".join(line for line in text.splitlines(keepends=True) if "<F_INITIATIVES1>" not in line)  # absent
    doc = tmp_path / "nulls.xml"
    doc.write_text(text)
    [(info, [raw])] = read(doc)
    data = Mapper(load_mapping()).map(raw, info.format).data
    for field in ("ni_number", "previous_last_name", "course_subject_2", "training_initiative"):
        assert field not in data, field
    assert data["degrees_attributes"] == [
        {"uk_degree": "205", "subject": "100251", "graduation_year": "2005-07-01"}  # country blank: a UK degree
    ]
    assert data["placements_attributes"] == [
        {"urn": "900000", "name": "Placement 1"},
        {"urn": "100000", "name": "Placement 2"},
    ]


def test_a_tag_given_empty_is_a_tag_the_record_has(hesa_samples, tmp_path):
    """An empty element, written `<F_X/>`, `<F_X></F_X>` or with only spaces, is no value, as NULL is, but the record
    has the tag: a C23053 extract whose C23053-only tags are all left empty is still read by the C23053 layout."""
    from register_batch.mapping import Mapper

    text = c23053_edited(
        hesa_samples,
        {
            "<F_APPLYAPPLICATIONID>56789</F_APPLYAPPLICATIONID>": "<F_APPLYAPPLICATIONID/>",
            "<F_ITTSTARTDATE>2023-01-01</F_ITTSTARTDATE>": "<F_ITTSTARTDATE></F_ITTSTARTDATE>",
            "<F_TRAINEESTARTDATE>2023-01-02</F_TRAINEESTARTDATE>": "<F_TRAINEESTARTDATE>  </F_TRAINEESTARTDATE>",
        },
    )
    path = tmp_path / "empty-tags.xml"
    path.write_text(text)
    [(info, [raw])] = read(path)
    for tag in ("F_APPLYAPPLICATIONID", "F_ITTSTARTDATE", "F_TRAINEESTARTDATE"):
        assert tag in raw.fields and raw.fields[tag] is None, tag
    assert Mapper(load_mapping()).map(raw, info.format).vintage == "C23053"


@pytest.mark.parametrize(
    "name,vintage,start,trainee_start,end",
    [
        ("itt_record_C21053.xml", "C21053", "2016-09-27", "2016-09-27", None),  # F_COMDATE; F_ENDDATE is NULL
        ("itt_record_one_line.xml", "C21053", "2016-09-27", "2016-09-27", None),
        ("itt_record_C22053.xml", "C22053", "2016-09-27", "2016-09-27", "2017-10-01"),  # F_ITTCOMDATE NULL: F_COMDATE
        ("itt_record_zipped.zip", "C22053", "2022-09-27", "2022-09-27", "2023-10-01"),
        ("itt_record_C23053.xml", "C23053", "2023-01-01", "2023-01-02", "2023-10-01"),
    ],
)
def test_each_sample_is_read_by_its_layout_from_the_right_tags(hesa_samples, name, vintage, start, trainee_start, end):
    """hesa-formats.md §5 items 8-10 on every real sample: the layout from the tags present (F_RECID is 16053 in all
    of them, so it tells nothing), the dates by layout, last_name from F_SURNAME (never F_PSURNAME), study_mode from
    F_MODE (never F_CRMODE, 1 in every sample) and course_year from F_YEARPRG."""
    from register_batch.mapping import Mapper

    [(info, [raw])] = read(hesa_samples / name)
    assert raw.fields["F_RECID"] == "16053" and raw.fields["F_CRMODE"] == "1"
    record = Mapper(load_mapping()).map(raw, info.format)
    data = record.data
    assert record.vintage == vintage
    assert (data["itt_start_date"], data["trainee_start_date"], data.get("itt_end_date")) == (start, trainee_start, end)
    assert (data["last_name"], data["previous_last_name"]) == ("George", "Geoorge")
    assert (data["study_mode"], data["course_year"]) == ("01", "0")


def test_zip_skips_the_macos_resource_fork(hesa_samples):
    with zipfile.ZipFile(hesa_samples / "itt_record_zipped.zip") as archive:
        assert any(n.startswith("__MACOSX/") for n in archive.namelist())
    [(info, [raw])] = read(hesa_samples / "itt_record_zipped.zip")
    assert info.path.endswith("itt_record_zipped.zip:itt_record.xml")
    assert raw.fields["F_SURNAME"] == "George"


def test_students_anywhere_in_any_tag_order(tmp_path):
    doc = tmp_path / "x.xml"
    doc.write_text(
        "<?xml version='1.0'?><ITTRecord><Batch><Student><F_SURNAME>A</F_SURNAME><F_HUSID>1</F_HUSID></Student>"
        "</Batch><Student><F_HUSID>2</F_HUSID><F_FNAMES>Nash</F_FNAMES>"
        "<PLACEMENTS><PLACEMENT><F_PLMNTSCH>1</F_PLMNTSCH></PLACEMENT>"
        "<PLACEMENT><F_PLMNTSCH>2</F_PLMNTSCH><F_PLMNTDYS> </F_PLMNTDYS></PLACEMENT></PLACEMENTS>"
        "<F_SURNAME>Null</F_SURNAME></Student>"
        "</ITTRecord>"
    )
    [(_info, rows)] = read(doc)
    assert [r.fields["F_HUSID"] for r in rows] == ["1", "2"]
    # A four-letter value is not NULL; PLACEMENTS is a group's container, not a field.
    assert rows[1].fields == {"F_HUSID": "2", "F_FNAMES": "Nash", "F_SURNAME": None}
    # Only spaces, in a group as at the top, is no value.
    assert rows[1].groups["PLACEMENT"] == [{"F_PLMNTSCH": "1"}, {"F_PLMNTSCH": "2", "F_PLMNTDYS": None}]


def test_comments_and_processing_instructions_are_no_tags_of_a_record(hesa_samples, tmp_path):
    """An SRS may annotate its export: a comment or processing instruction inside a Student, a PLACEMENT or between
    Students is no field, no group and no problem of any record; the record reads as it does without them."""
    [(_info, [plain])] = read(hesa_samples / "itt_record_C23053.xml")
    text = c23053_edited(
        hesa_samples,
        {
            "<Student>": "<!-- exported by the SRS --><Student><!-- trainee 1 --><?srs checked?>",
            "<F_PLMNTSCH>": "<?srs school?><!-- URN --><F_PLMNTSCH>",
            "</Student>": "<!-- end --></Student><?srs next?>",
        },
    )
    path = tmp_path / "annotated.xml"
    path.write_text(text)
    [(info, [raw])] = read(path)
    assert info.records == 1
    assert (raw.fields, raw.groups, raw.problems) == (plain.fields, plain.groups, [])


def test_a_tag_split_over_two_lines_is_read(tmp_path):
    doc = tmp_path / "split.xml"
    doc.write_text(
        "<ITTRecord><Student><F_SPLENGTH>3</F_SPLENGTH\n        ><F_SURNAME>X</F_SURNAME></Student></ITTRecord>"
    )
    [(_info, [raw])] = read(doc)
    assert raw.fields == {"F_SPLENGTH": "3", "F_SURNAME": "X"}


UNUSABLE = [
    ("empty.xml", b"", "no XML element found"),
    ("truncated.xml", b"<ITTRecord><Student><F_HUSID>1</F_HUSID></Student><Student><F_HU", "not well-formed XML"),
    ("root.xml", b"<Trainees><Student/></Trainees>", "root element is <Trainees>"),
    ("none.xml", b"<ITTRecord></ITTRecord>", "no <Student> records"),
    (
        "bomb.xml",
        b'<?xml version="1.0"?><!DOCTYPE ITTRecord [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        b"<ITTRecord><Student><F_FNAMES>&b;</F_FNAMES></Student></ITTRecord>",
        "declares entities",
    ),
    (
        "external.xml",
        b'<?xml version="1.0"?><!DOCTYPE ITTRecord SYSTEM "http://example.com/x.dtd"><ITTRecord><Student/></ITTRecord>',
        "external DTD",
    ),
    ("notxml.xml", b"<<<>>> hello", "not well-formed XML"),
]


@pytest.mark.parametrize("name,content,problem", UNUSABLE, ids=[u[0] for u in UNUSABLE])
def test_unusable_xml_is_refused_with_one_clear_line(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(UnusableInput) as caught:
        read(path, "hesa-xml")
    message = str(caught.value)
    assert message.startswith(str(path)) and problem in message and "\n" not in message


def test_a_windows_1252_name_in_a_utf8_extract_is_refused_at_its_line_saying_save_it_as_utf8(hesa_samples, tmp_path):
    path = tmp_path / "windows_1252_name.xml"
    path.write_bytes((hesa_samples / "itt_record_C23053.xml").read_bytes().replace(b">Dave<", b">Jos\xe9<"))
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == 31
    assert str(caught.value).endswith(
        "the file is not UTF-8, as its XML declaration says (saved as Windows-1252?); save it as UTF-8"
    )


@pytest.mark.parametrize(
    ("declared", "letter"),
    [("windows-1252", "\u00c1"), ("US-ASCII", "\u00e9"), ("windows-1250", "\u00c1")],
    ids=["windows-1252", "us-ascii", "windows-1250"],
)
def test_a_utf8_extract_declared_another_encoding_is_refused_at_the_line_of_a_byte_that_encoding_lacks(
    tmp_path, declared, letter
):
    """`Á` in UTF-8 is C3 81, and Windows-1252 defines no 0x81; `é` (C3 A9) is no US-ASCII. libxml2 converts ahead of
    what it parses, so the line it names was hundreds before the byte's ("at or after line 1" for a byte on line 24):
    the reader names the line of the first byte the encoding lacks, which it found as it passed the file on."""
    generated = tmp_path / "generated.xml"
    generate(generated, count=60, fmt="hesa-xml", seed=5, as_of=date(2026, 11, 1))
    text = generated.read_text(encoding="utf-8").replace("UTF-8", declared, 1)
    lines = [line.encode("ascii", "replace") for line in text.split("\n")]  # its own names' accents left out
    late = max(k for k, line in enumerate(lines) if b"<F_FNAMES>" in line)
    lines[late] = lines[late].replace(b"<F_FNAMES>", f"<F_FNAMES>{letter}".encode())
    path = tmp_path / "declared.xml"
    path.write_bytes(b"\n".join(lines))
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == late + 1 > 1000
    assert caught.value.record == record_on_line(text, late + 1) > 1
    assert str(caught.value) == (
        f"{path}, record {caught.value.record}, line {late + 1}: not well-formed XML: a byte that is not {declared!r}, "
        "the encoding the XML "
        'declaration names: if the file was saved as UTF-8, make the declaration say encoding="UTF-8"'
    )


@pytest.mark.parametrize("declared", ["ISO-8859-1", "ISO_8859-1", "iso_8859-15"])
def test_an_extract_declared_in_a_registered_spelling_of_latin1_is_read(tmp_path, declared):
    """review112's note: `ISO_8859-1` (IANA's name, which libxml2 and Python read) was refused as an encoding
    register-batch does not read, though `ISO-8859-1` was read."""
    generated = tmp_path / "generated.xml"
    generate(generated, count=3, fmt="hesa-xml", seed=5, as_of=date(2026, 11, 1))
    text = generated.read_text(encoding="utf-8").replace("UTF-8", declared, 1)
    path = tmp_path / "declared.xml"
    path.write_bytes(text.replace("<F_FNAMES>", "<F_FNAMES>\u00c9", 1).encode("latin-1", "replace"))
    [(_info, records)] = read(path)
    assert len(records) == 3
    assert records[0].fields["F_FNAMES"].startswith("\u00c9")


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["no-bom", "bom"])
@pytest.mark.parametrize("declared", ["utf-16", "UTF-16", "UTF-32", "UTF-16LE"])
def test_a_utf8_extract_declared_utf16_is_told_to_make_its_declaration_say_utf8(tmp_path, bom, declared):
    """review112 F4: .NET's XmlSerializer writing through a StringWriter declares utf-16 in a file saved as UTF-8; the
    refusal said "save it as UTF-8", which it is. Refused still (libxml2 cannot read it either), with the way out."""
    path = tmp_path / "declared.xml"
    path.write_bytes(
        bom
        + f'<?xml version="1.0" encoding="{declared}"?>\n'.encode()
        + "<ITTRecord><Student><F_SURNAME>Zoë</F_SURNAME></Student></ITTRecord>\n".encode()
    )
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: the XML declares encoding {declared!r}, but the file is UTF-8: make its declaration say "
        'encoding="UTF-8"'
    )
    path.write_bytes(path.read_bytes().replace("ë".encode(), b"\xeb"))  # Windows-1252, as a hand-edited file may be
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: the XML declares encoding {declared!r}, but the file is not {declared}: save it as UTF-8 and make "
        'its declaration say encoding="UTF-8"'
    )


def test_a_byte_us_ascii_lacks_early_in_a_file_is_named_on_its_line_from_the_command(tmp_path):
    """The review's case: a UTF-8 letter on line 24 under `encoding="US-ASCII"` was "at or after line 1"."""
    from cli_runs import run_cli

    text = (Path(__file__).parents[2] / "samples" / "extract.xml").read_text(encoding="utf-8")
    lines = text.replace('encoding="UTF-8"', 'encoding="US-ASCII"', 1).split("\n")
    first = next(k for k, line in enumerate(lines) if not line.isascii())
    path = tmp_path / "ascii.xml"
    path.write_text("\n".join(lines), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    result = run_cli(["validate", str(path), "--report-dir", "r"], tmp_path, env)
    assert result.returncode == 2 and result.stdout == ""
    record = record_on_line(text, first + 1)
    assert result.stderr.splitlines() == [
        f"register-batch: error: {path}, record {record}, line {first + 1}: not well-formed XML: a byte that is not "
        "'US-ASCII', the "
        'encoding the XML declaration names: if the file was saved as UTF-8, make the declaration say encoding="UTF-8"'
    ]


def test_truncated_xml_names_the_line(tmp_path):
    path = tmp_path / "cut.xml"
    path.write_text("<ITTRecord>\n<Student>\n<F_HUSID>1</F_HUSID>\n</Student>\n<Student>\n<F_HU")
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line is not None and caught.value.line >= 5


def test_an_extract_with_old_mac_line_ends_names_each_records_own_line(tmp_path):
    """Line ends of CR alone (an old Mac's): libxml2 counts LF only, so every record, and every error, was at line 1.
    Their values are as with LF line ends, and a file of them is read in one part (find_chunks counts LF too)."""
    lf = tmp_path / "lf.xml"
    generate(count=3, fmt="hesa-xml", output=lf, seed=1, as_of=date(2026, 11, 28))
    cr = tmp_path / "cr.xml"
    cr.write_bytes(lf.read_bytes().replace(b"\n", b"\r"))
    [(_info, lf_rows)], [(_info, cr_rows)] = read(lf), read(cr)
    assert [raw.source.line for raw in cr_rows] == [raw.source.line for raw in lf_rows] == [3, 76, 153]
    assert [(raw.fields, raw.groups) for raw in cr_rows] == [(raw.fields, raw.groups) for raw in lf_rows]
    assert find_chunks(str(cr), chunk_bytes=1000) is None and find_chunks(str(lf), chunk_bytes=1000) is not None
    refusals = []
    for path in (lf, cr):
        path.write_bytes(path.read_bytes().replace(b"</Student>", b"</Student", 1))
        with pytest.raises(UnusableInput) as caught:
            read(path)
        refusals.append(caught.value.line)
    assert refusals[0] == refusals[1] > 70


def test_a_cr_lf_pair_split_between_two_reads_of_an_old_mac_file_is_one_line_end(tmp_path):
    """In a file of CR line ends, a CR LF pair (rows pasted in from elsewhere) is one line end, as XML reads it, also
    when its CR ends one read of the parser's (32 KiB each, from the file's start) and its LF starts the next."""
    lf = tmp_path / "lf.xml"
    generate(count=400, fmt="hesa-xml", output=lf, seed=1, as_of=date(2026, 11, 28))
    data = lf.read_bytes().replace(b"\n", b"\r")
    at = (1 << 20) + (1 << 15) - 1  # the last byte of a read, past the first MiB (which has CRs only)
    assert len(data) > at + 1000
    before = data.rindex(b"\r", 0, at)
    data = data[:before] + b" " * (at - before) + b"\r\n" + data[before + 1 :]
    assert data[at : at + 2] == b"\r\n" and b"\n" not in data[: 1 << 20]
    cr = tmp_path / "cr.xml"
    cr.write_bytes(data)
    lf.write_bytes(data.replace(b"\r\n", b"\n").replace(b"\r", b"\n"))
    [(_info, lf_rows)], [(_info, cr_rows)] = read(lf), read(cr)
    assert len(cr_rows) == 400
    assert [(raw.source.line, raw.fields) for raw in cr_rows] == [(raw.source.line, raw.fields) for raw in lf_rows]


def test_an_old_mac_file_whose_first_64_kb_are_one_line_is_not_read_in_chunks(tmp_path):
    """review112 F3: whether a file ends its lines with CR alone was told from its first 64 KB for dividing it into
    chunks, from its first MB for reading it: a file whose first records were written on one line (no line end in 64
    KB) and the rest with CR line ends was divided, and a chunk read alone numbered each of its records line 1 where
    the whole read counted CRs. Told from the same first bytes, such a file is read whole, its CR line ends counted."""
    students = [f"<Student><F_HUSID>{n:013d}</F_HUSID><F_CTITLE>{'x' * 80}</F_CTITLE></Student>" for n in range(2000)]
    text = "<ITTRecord>" + "".join(students[:700]) + "\r".join(["", *students[700:], "</ITTRecord>\r"])
    assert text.index("\r") > 1 << 16
    path = tmp_path / "one-line-then-cr.xml"
    path.write_bytes(text.encode())
    [(_info, rows)] = read(path)
    assert [raw.source.line for raw in rows] == [1] * 700 + list(range(2, 1302))
    assert find_chunks(str(path), chunk_bytes=20_000) is None


def test_a_chunk_read_counts_lf_line_ends_only_as_the_whole_read_of_its_file_does(tmp_path):
    """review112 F3: a part read told CR line ends from its own first bytes (the lead alone, or the first chunk), not
    the file's: a file with CRs alone in its first chunk and LFs after was numbered otherwise in parts. The whole
    file's read counts LFs only in it (its first MB has LFs), and so does every part."""
    students = [f"<Student><F_HUSID>{n:013d}</F_HUSID></Student>" for n in range(3000)]
    text = "<ITTRecord>\r" + "\r".join(students[:100]) + "\n" + "\n".join(students[100:]) + "\n</ITTRecord>\n"
    path = tmp_path / "cr-then-lf.xml"
    path.write_bytes(text.encode())
    [(_info, rows)] = read(path)
    assert [raw.source.line for raw in rows] == [1] * 100 + list(range(2, 2902))
    chunks = find_chunks(str(path), chunk_bytes=2_000)
    assert chunks is not None and chunks.starts[0] < text.index("\n")  # the first chunk has CRs only
    for first in (1, 3, len(chunks)):
        assert [raw.source.line for raw in read_in_parts(path, chunks, first)] == [raw.source.line for raw in rows]


def test_an_extract_still_being_written_is_called_cut_short_wherever_it_ends(tmp_path):
    """A nightly sync that starts while the SRS still writes its extract: cut inside a start tag, libxml2 says
    "Couldn't find end of Start Tag F_DI", which did not tell the person on call that the file was incomplete."""
    whole = tmp_path / "whole.xml"
    generate(count=3, fmt="hesa-xml", output=whole, seed=1, as_of=date(2026, 11, 28))
    data = whole.read_bytes()
    start = data.index(b"<Student>")
    for size in range(start, len(data) - 1, 7):  # every few bytes, in tags, in text, between lines
        cut = tmp_path / "cut.xml"
        cut.write_bytes(data[:size])
        with pytest.raises(UnusableInput) as caught:
            read(cut)
        assert "cut short, or still being written" in str(caught.value), (size, str(caught.value))
    broken = tmp_path / "broken.xml"  # an error in the middle of a complete file is not a cut
    broken.write_bytes(data[:start] + b"<Student><F_DI x</F_DI></Student>\n" + data[start:])
    with pytest.raises(UnusableInput) as caught:
        read(broken)
    assert "not well-formed XML" in str(caught.value) and "cut short" not in str(caught.value)


@pytest.mark.parametrize("entity", ["&eacute;", "&nbsp;", "&bogus;"])
def test_an_html_entity_in_a_value_names_its_own_line_and_entity(tmp_path, entity):
    """An SRS that HTML-escapes names writes `Ren&eacute;e`: XML defines no such entity. libxml2 reports it, then a
    second error at line 1 ("Start tag expected, '<' not found"), and the refusal gave that one: the wrong line and a
    message that points at the start of the file, not at the name."""
    whole = tmp_path / "whole.xml"
    generate(count=3, fmt="hesa-xml", output=whole, seed=1, as_of=date(2026, 11, 28))
    lines = whole.read_text().splitlines(keepends=True)
    number = max(n for n, line in enumerate(lines, start=1) if "<F_FNAMES>" in line)
    lines[number - 1] = lines[number - 1].replace("<F_FNAMES>", f"<F_FNAMES>Ren{entity}", 1)
    named = tmp_path / "named.xml"
    named.write_text("".join(lines))
    with pytest.raises(UnusableInput) as caught:
        read(named)
    assert caught.value.line == number, str(caught.value)
    assert f"'{entity[1:-1]}' not defined" in str(caught.value) and "\n" not in str(caught.value)


def test_damaged_zip(tmp_path):
    path = tmp_path / "bad.zip"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 40)
    with pytest.raises(UnusableInput, match="zip"):
        read(path)


def test_a_zip_with_two_members_of_one_name_is_refused(tmp_path):
    # zipfile opens a member by name and finds the last of that name: the first member's records would be lost.
    path = tmp_path / "twice.zip"
    one = "<ITTRecord><Student><F_HUSID>{}</F_HUSID></Student></ITTRecord>"
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(path, "w") as archive:
        archive.writestr("extract.xml", one.format("0310261553101"))
        archive.writestr("extract.xml", one.format("0310261553102"))
    with pytest.raises(UnusableInput, match=r"more than one member named 'extract\.xml'"):
        read(path)


def test_a_tag_given_twice_keeps_its_first_value_and_is_a_record_problem(tmp_path):
    doc = tmp_path / "twice.xml"
    doc.write_text(
        "<ITTRecord><Student><F_HUSID>0310261553101</F_HUSID><F_SURNAME>Lee</F_SURNAME><F_SURNAME>Ng</F_SURNAME>"
        "<F_SURNAME>Ong</F_SURNAME>"  # a third value: still one problem
        "<F_SEXID>11</F_SEXID><F_SEXID>11</F_SEXID>"  # the same value twice: harmless
        "<PREVIOUSQUALIFICATIONS><PREVIOUSQUALIFICATION><F_DEGCLSS>01</F_DEGCLSS></PREVIOUSQUALIFICATION>"
        "<PREVIOUSQUALIFICATION><F_DEGCLSS>02</F_DEGCLSS><F_DEGCLSS>99</F_DEGCLSS><F_DEGSBJ1>100425</F_DEGSBJ1>"
        "</PREVIOUSQUALIFICATION></PREVIOUSQUALIFICATIONS></Student></ITTRecord>"
    )
    [(_info, [raw])] = read(doc)
    assert raw.fields["F_SURNAME"] == "Lee" and raw.fields["F_SEXID"] == "11"
    assert raw.groups["PREVIOUSQUALIFICATION"] == [{"F_DEGCLSS": "01"}, {"F_DEGCLSS": "02", "F_DEGSBJ1": "100425"}]
    assert raw.problems == [
        ("F_SURNAME", "<F_SURNAME> appears more than once in <Student> with different values"),
        ("F_DEGCLSS", "<F_DEGCLSS> appears more than once in <PREVIOUSQUALIFICATION> 2 with different values"),
    ]


@pytest.mark.parametrize(
    "edits,repeated",
    [
        ({"<F_SURNAME>George</F_SURNAME>": "<F_SURNAME>George</F_SURNAME><F_SURNAME>Jones</F_SURNAME>"}, ["F_SURNAME"]),
        (
            {
                "<F_FNAMES>Dave</F_FNAMES>": "<F_FNAMES>Dave</F_FNAMES><F_FNAMES>David</F_FNAMES>",
                "<F_SURNAME>George</F_SURNAME>": "<F_SURNAME>George</F_SURNAME><F_SURNAME>Jones</F_SURNAME>",
            },
            ["F_FNAMES", "F_SURNAME"],
        ),
    ],
    ids=["one-tag", "two-tags"],
)
def test_tags_given_twice_in_a_record_with_groups_keep_their_first_values(hesa_samples, tmp_path, edits, repeated):
    """The C23053 sample, whose Student holds two groups (PLACEMENTS and PREVIOUSQUALIFICATIONS), with one or two of
    its tags given a second time: each repeat is found as in a record without groups, and the first value read."""
    path = tmp_path / "given-twice.xml"
    path.write_text(c23053_edited(hesa_samples, edits))
    [(_info, [raw])] = read(path)
    assert (raw.fields["F_FNAMES"], raw.fields["F_SURNAME"]) == ("Dave", "George")
    assert raw.problems == [
        (tag, f"<{tag}> appears more than once in <Student> with different values") for tag in repeated
    ]


_GROUPS_TWO_LEVELS_IN = (
    "where HESA's layout has a group's tags one level further in (<PLACEMENTS><PLACEMENT><F_PLMNTSCH>…, "
    "<PREVIOUSQUALIFICATIONS><PREVIOUSQUALIFICATION><F_DEGTYPE>…): their values are not read; put each group's tags "
    "in an element of its own"
)


def test_placements_without_their_placement_element_are_a_record_problem(hesa_samples, tmp_path):
    """<PLACEMENTS><F_PLMNTSCH>…</F_PLMNTSCH></PLACEMENTS>, no <PLACEMENT> around the tags: the record was read with
    no placement at all, and valid."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    text = re.sub(r"<PLACEMENTS>\s*<PLACEMENT>", "<PLACEMENTS>", text)
    text = re.sub(r"</PLACEMENT>\s*</PLACEMENTS>", "</PLACEMENTS>", text)
    path = tmp_path / "placements-without-placement.xml"
    path.write_text(text)
    [(_info, [raw])] = read(path)
    assert "PLACEMENTS" not in raw.groups and "F_PLMNTSCH" not in raw.groups
    assert raw.problems == [
        (
            "PLACEMENTS",
            f"<PLACEMENTS> holds tags with values (<F_PLMNTSCH> and 1 more) {_GROUPS_TWO_LEVELS_IN}",
        )
    ]


def test_a_previous_qualification_without_previousqualifications_around_it_is_a_record_problem(hesa_samples, tmp_path):
    """A <PREVIOUSQUALIFICATION> directly in <Student>: the degree was left out without a word."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    text = re.sub(r"<PREVIOUSQUALIFICATIONS>\s*", "", text)
    text = re.sub(r"\s*</PREVIOUSQUALIFICATIONS>", "", text)
    path = tmp_path / "bare-qualification.xml"
    path.write_text(text)
    [(_info, [raw])] = read(path)
    assert raw.groups["PLACEMENT"] and "PREVIOUSQUALIFICATION" not in raw.groups
    [(field, message)] = raw.problems
    assert field == "PREVIOUSQUALIFICATION"
    assert message.startswith("<PREVIOUSQUALIFICATION> holds tags with values (<") and _GROUPS_TWO_LEVELS_IN in message


_AFTER_WHOSE = (
    ": register-batch reads HESA's tags in the <Student> itself, and a degree's or placement's in "
    "<PREVIOUSQUALIFICATIONS><PREVIOUSQUALIFICATION> or <PLACEMENTS><PLACEMENT>, so its value is not read; move it "
    "there"
)
_MOVE_IT_THERE = f", an element of the SRS's own{_AFTER_WHOSE}"


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        (
            "<F_DISABLE1>95</F_DISABLE1>",
            "<DISABILITIES><F_DISABLE1>51</F_DISABLE1></DISABILITIES>",
            [("F_DISABLE1", f"<F_DISABLE1> is in <DISABILITIES>{_MOVE_IT_THERE}")],
        ),
        (
            "<F_DISABLE1>95</F_DISABLE1>",
            "<DISABILITIES><DISABILITY><F_DISABLE>51</F_DISABLE></DISABILITY>"
            "<DISABILITY><F_DISABLE>57</F_DISABLE></DISABILITY></DISABILITIES>",
            [  # C21053's one disability tag, in a group of the SRS's own
                (
                    "F_DISABLE",
                    "<F_DISABLE> is in <DISABILITY>, a group the field map does not read: register-batch reads "
                    "HESA's tags in the <Student> itself, and a degree's in <PREVIOUSQUALIFICATION> groups and a "
                    "placement's in <PLACEMENT> groups (as the field map names them: `degrees.group`, "
                    "`placements.group`), so its value is not read; move it there",
                )
            ],
        ),
        (
            "<F_SBJCA2>NULL</F_SBJCA2>",
            "<CourseSubjects><f_sbjca2>100403</f_sbjca2></CourseSubjects>",
            [("F_SBJCA2", f"<f_sbjca2> is in <CourseSubjects>{_MOVE_IT_THERE}")],
        ),
        (
            "<F_DISABLE2>NULL</F_DISABLE2>",
            "<DISABILITIES><DISABLE2>58</DISABLE2></DISABILITIES>",
            [("F_DISABLE2", f"<DISABLE2> is in <DISABILITIES>{_MOVE_IT_THERE}")],
        ),
    ],
    ids=["tags in a wrapper", "a group of its own", "lower case", "without F_"],
)
def test_hesa_tags_in_an_srs_element_of_its_own_are_a_record_error(hesa_samples, tmp_path, old, new, said):
    """review96 F2: HESA's tags one element further in than HESA puts them were left out without a word: a new
    trainee's disabilities sent as none, a second course subject Register holds cleared by sync. An error where the
    mapping reads the tag (or numbers it: F_DISABLE as F_DISABLE1-9); a tag without its F_ too (review98 F2)."""
    path = tmp_path / "wrapped.xml"
    path.write_text(c23053_edited(hesa_samples, {old: new}))
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--as-of", "2026-11-28", "--report-dir", str(tmp_path / "r")]
    )
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert [(i["field"], i["message"]) for i in report["issues"] if i["code"] == "malformed_record"] == said


def test_the_srs_groups_a_mapping_file_names_are_read_and_no_problem(hesa_samples, tmp_path, monkeypatch):
    """review100 F2: a mapping file may name the SRS's own degree and placement groups (`degrees.group`,
    `placements.group`); their tags, read, were called not read (7 false malformed_record errors)."""
    monkeypatch.chdir(tmp_path)
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    for old, new in (("PREVIOUSQUALIFICATION", "DEGREE"), ("PLACEMENT", "SCHOOL")):
        text = text.replace(f"<{old}S>", f"<{new}S>").replace(f"</{old}S>", f"</{new}S>")
        text = text.replace(f"<{old}>", f"<{new}>").replace(f"</{old}>", f"</{new}>")
    (tmp_path / "groups.xml").write_text(text)
    (tmp_path / "grp.yaml").write_text(
        "fields:\n  hesa:\n    degrees:\n      group: DEGREE\n    placements:\n      group: SCHOOL\n"
    )
    result = CliRunner().invoke(
        cli,
        ["validate", "groups.xml", "--mapping", "grp.yaml", "--as-of", "2026-11-28", "--report-dir", "r"],
    )
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert [i["field"] for i in report["issues"] if i["code"] == "malformed_record"] == [], result.output


@pytest.mark.parametrize("kind", ["WITHDRAWAL", "DEFERRAL"])
def test_a_withdrawal_or_deferral_in_an_srs_element_of_its_own_is_a_record_error(hesa_samples, tmp_path, kind):
    """review100 F5: WITHDRAWAL_* and DEFER_* tags are read in the Student only; in an SRS's <WITHDRAWAL> they were
    left out without a word (the trainee not withdrawn)."""
    tags = (
        "<WITHDRAWAL_DATE>2026-01-15</WITHDRAWAL_DATE><WITHDRAWAL_TRIGGER>trainee</WITHDRAWAL_TRIGGER>"
        if kind == "WITHDRAWAL"
        else "<DEFER_DATE>2026-01-15</DEFER_DATE>"
    )
    path = tmp_path / "state.xml"
    path.write_text(c23053_edited(hesa_samples, {"<F_SBJCA2>NULL</F_SBJCA2>": f"<{kind}>{tags}</{kind}>"}))
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--as-of", "2026-11-28", "--report-dir", str(tmp_path / "r")]
    )
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    found = [i["field"] for i in report["issues"] if i["code"] == "malformed_record"]
    assert found and all(field.startswith(("WITHDRAWAL_", "DEFER_")) for field in found), result.output


def test_an_srs_element_repeating_a_tag_the_student_gives_is_no_problem(hesa_samples, tmp_path):
    """review98 F3: an SRS's <AUDIT><F_HUSID> beside the Student's own loses nothing: it was an error."""
    path = tmp_path / "audit.xml"
    path.write_text(c23053_edited(hesa_samples, {"<F_SBJCA2>NULL</F_SBJCA2>": "<AUDIT><F_HUSID>x</F_HUSID></AUDIT>"}))
    [(_info, [raw])] = read(path)
    assert raw.problems == [] and raw.marked == ()


def test_an_srs_element_of_its_own_without_hesa_tags_is_left_alone(hesa_samples, tmp_path):
    """An SRS's own group of its own tags is ignored, as any tag register-batch does not know is."""
    path = tmp_path / "own.xml"
    path.write_text(c23053_edited(hesa_samples, {"<F_SBJCA2>NULL</F_SBJCA2>": "<SRSNOTES><NOTE>x</NOTE></SRSNOTES>"}))
    [(_info, [raw])] = read(path)
    assert raw.problems == [] and raw.marked == ()


def test_an_empty_placement_and_empty_tags_in_placements_are_no_problem(hesa_samples, tmp_path):
    """Nothing is lost where no tag has a value: an empty <PLACEMENT/> (what export writes for a placement Register
    holds with no URN) is a group of its own as before."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    empty = "<PLACEMENTS><PLACEMENT/><F_PLMNTSCH/></PLACEMENTS>"
    text = re.sub(r"<PLACEMENTS>.*?</PLACEMENTS>", empty, text, flags=re.S)
    path = tmp_path / "empty.xml"
    path.write_text(text)
    [(_info, [raw])] = read(path)
    assert raw.groups["PLACEMENT"] == [{}] and not raw.problems


def test_an_srs_wrapper_of_its_own_tags_and_null_in_placements_are_no_problem(hesa_samples, tmp_path):
    """Only HESA's own groups lose a value so: an SRS's <CONTACT><F_TELEPHONE>… is a tag register-batch does not know,
    ignored as docs/formats.md says (review22: the record was made an error), and a NULL is no value to lose."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    wrapped = "<CONTACT><F_TELEPHONE>0123 456789</F_TELEPHONE></CONTACT><PLACEMENTS><F_PLMNTSCH>NULL</F_PLMNTSCH>"
    text = re.sub(r"<PLACEMENTS>.*?</PLACEMENTS>", wrapped + "</PLACEMENTS>", text, flags=re.S)
    path = tmp_path / "own-wrapper.xml"
    path.write_text(text)
    [(_info, [raw])] = read(path)
    assert not raw.problems and raw.fields["F_SURNAME"]


def test_tags_of_another_case_are_read_upper_case_and_two_differing_only_in_case_are_a_problem(hesa_samples, tmp_path):
    """A mapping's source names are upper case whatever case it gives them, so the reader gives tags so: an SRS's
    `<Forename>` is FORENAME, a placement's `<f_plmntdys>` F_PLMNTDYS. `<F_SURNAME>` and `<f_surname>` with different
    values are one tag given twice: the first value is read, and the record has the problem."""
    text = c23053_edited(
        hesa_samples,
        {
            "<F_SURNAME>George</F_SURNAME>": "<F_SURNAME>George</F_SURNAME><f_surname>Jones</f_surname>"
            "<Forename>Dave</Forename>",
        },
    )
    text = re.sub(r"<(/?)F_PLMNTDYS>", r"<\1f_plmntdys>", text)
    path = tmp_path / "cases.xml"
    path.write_text(text)
    [(_info, [raw])] = read(path)
    assert raw.fields["F_SURNAME"] == "George" and raw.fields["FORENAME"] == "Dave" and "f_surname" not in raw.fields
    assert all(tag == tag.upper() for tag in raw.fields)
    assert [set(row) for row in raw.groups["PLACEMENT"]] == [{"F_PLMNTSCH", "F_PLMNTDYS"}]
    assert raw.problems == [
        (
            "F_SURNAME",
            "<F_SURNAME> and <f_surname> in <Student> are one tag to register-batch (case aside), with different "
            "values",
        )
    ]


def test_groups_and_their_containers_of_another_case_are_read_as_hesas(hesa_samples, tmp_path):
    """review29 F5: an SRS's <Placements><Placement> and <PreviousQualifications><previousQualification> are HESA's
    groups, as a Student's <Forename> is FORENAME: the record keeps its placement and degree (they were dropped
    without a word, and a postgraduate record was then refused for a degree it has)."""
    from register_batch.mapping import Mapper

    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    for tag, written in (
        ("PLACEMENTS", "Placements"),
        ("PLACEMENT", "Placement"),
        ("PREVIOUSQUALIFICATIONS", "PreviousQualifications"),
        ("PREVIOUSQUALIFICATION", "previousQualification"),
    ):
        text = re.sub(rf"<(/?){tag}>", rf"<\1{written}>", text)
    path = tmp_path / "group-cases.xml"
    path.write_text(text)
    [(info, [raw])] = read(path)
    assert not raw.problems
    assert raw.groups["PLACEMENT"] == [{"F_PLMNTSCH": "900000", "F_PLMNTDYS": "160"}]
    data = Mapper(load_mapping()).map(raw, info.format).data
    assert data["placements_attributes"] == [{"urn": "900000", "name": "Placement 1"}]
    assert data["degrees_attributes"] == [
        {"subject": "100251", "institution": "0001", "grade": "01", "graduation_year": "2005-07-01", "uk_degree": "205"}
    ]


def test_a_users_mapping_naming_a_group_in_another_case_still_reads_it(hesa_samples, tmp_path):
    """A mapping file's group names the elements as the reader hands them over, upper case (as its tag names are):
    `group: Placement` reads an SRS's <Placement> elements, now read as PLACEMENT."""
    from register_batch.mapping import Mapper

    text = re.sub(r"<(/?)PLACEMENT>", r"<\1Placement>", (hesa_samples / "itt_record_C23053.xml").read_text())
    path = tmp_path / "placement.xml"
    path.write_text(text)
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    placements:\n      group: Placement\n")
    [(info, [raw])] = read(path)
    data = Mapper(load_mapping([user])).map(raw, info.format).data
    assert data["placements_attributes"] == [{"urn": "900000", "name": "Placement 1"}]


@pytest.mark.parametrize(
    "edit,problem",
    [
        (
            ("PLACEMENT", "PLACEMNT"),
            (
                "PLACEMNT",
                "<PLACEMNT> in <PLACEMENTS> is not HESA's <PLACEMENT>: its tags (<F_PLMNTSCH> and 1 more) are "
                "not read; name it <PLACEMENT>",
            ),
        ),
        (
            ("PLACEMENT", "PREVIOUSQUALIFICATION"),  # the other group's item: was read as a degree without a word
            (
                "PREVIOUSQUALIFICATION",
                "<PREVIOUSQUALIFICATION> in <PLACEMENTS> is not HESA's <PLACEMENT>: its tags (<F_PLMNTSCH> and 1 "
                "more) are not read; put it in <PREVIOUSQUALIFICATIONS>",
            ),
        ),
        (
            ("PLACEMENT", "PreviousQualification"),  # in another case: was read as a degree, said not read (review33)
            (
                "PreviousQualification",
                "<PreviousQualification> in <PLACEMENTS> is not HESA's <PLACEMENT>: its tags (<F_PLMNTSCH> and 1 "
                "more) are not read; put it in <PREVIOUSQUALIFICATIONS>",
            ),
        ),
        (
            ("PLACEMENT", "PREVIOUSQUALIFICATION/"),  # an empty one: an internal error (review41)
            (
                "PREVIOUSQUALIFICATION",
                "<PREVIOUSQUALIFICATION> in <PLACEMENTS> is not HESA's <PLACEMENT>: it holds no tags; put it in "
                "<PREVIOUSQUALIFICATIONS>",
            ),
        ),
        (
            ("PREVIOUSQUALIFICATION", "Qualification"),
            (
                "Qualification",
                "<Qualification> in <PREVIOUSQUALIFICATIONS> is not HESA's <PREVIOUSQUALIFICATION>: its "
                "tags (<F_BURSFLAG> and ",
            ),
        ),
    ],
)
def test_an_element_in_a_hesa_group_container_that_is_not_its_group_is_a_record_problem(
    hesa_samples, tmp_path, edit, problem
):
    """review29 F5: a misspelt <PLACEMNT> in HESA's <PLACEMENTS> left the placement out without a word (validate:
    valid): the record has a problem naming the element, as a group written without one of its elements has."""
    old, new = edit
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    text = re.sub(rf"(<{old}>.*?</{old}>)", r"\1\1", text, flags=re.S)  # two of them: one problem
    if new.endswith("/"):  # an empty element in its place
        new = new.rstrip("/")
        text = re.sub(rf"<{old}>.*?</{old}>", f"<{new}/>", text, flags=re.S)
    text = re.sub(rf"<(/?){old}>", rf"<\1{new}>", text)
    path = tmp_path / "misspelt-group.xml"
    path.write_text(text)
    [(_info, [raw])] = read(path)
    [(field, message)] = raw.problems
    assert field == problem[0] and message.startswith(problem[1])
    [(_info, [unedited])] = read(hesa_samples / "itt_record_C23053.xml")
    assert raw.groups.get(new.upper()) == unedited.groups.get(new.upper()), raw.groups  # its tags not read


def test_thousands_of_repeated_tags_cost_work_in_proportion_to_them(tmp_path):
    # A record (within the 2 MB a Student may take) of k tags each given twice with different values: the reader
    # used to scan the record's tags once per repeated tag, k**2 steps (8,000 such tags took 10 s). Counted
    # here as lines executed in the reader's module, which must double, not quadruple, when k doubles.
    import sys

    from register_batch.readers import hesa_xml

    def lines_run(k):
        doc = tmp_path / f"repeats{k}.xml"
        tags = "".join(f"<X_{j}>a</X_{j}><X_{j}>b</X_{j}>" for j in range(k))
        doc.write_text(f"<ITTRecord><Student><F_HUSID>0310261553101</F_HUSID>{tags}</Student></ITTRecord>")
        count = 0

        def tracer(frame, event, _arg):
            nonlocal count
            if frame.f_code.co_filename != hesa_xml.__file__:
                return None
            if event == "line":
                count += 1
            return tracer

        previous = sys.gettrace()  # coverage's, when the tests are measured: put back, not switched off
        sys.settrace(tracer)
        try:
            [(_info, [raw])] = read(doc)
        finally:
            sys.settrace(previous)
        assert len(raw.problems) == k and raw.fields["X_0"] == "a" and raw.fields[f"X_{k - 1}"] == "a"
        return count

    small, large = lines_run(400), lines_run(800)
    assert large < 2.5 * small, (small, large)


def test_record_lines_are_their_start_tags_lines_past_65535(tmp_path):
    # libxml2 stores an element's line only up to 65,535; past that it answers with its first child's.
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<ITTRecord>"]
    for n in range(6000):
        if n % 5 == 4:
            lines.append(f"<Student><F_HUSID>{n:013d}</F_HUSID>")  # the first child on the start tag's line
        else:
            lines.append("  <Student>" + "\n" * (n % 3))  # blank lines after some start tags
            lines.append(f"    <F_HUSID>{n:013d}</F_HUSID>")
        lines.extend(f"    <F_X{k}>v</F_X{k}>" for k in range(10))
        lines.append("  </Student>")
    lines.append("</ITTRecord>")
    text = "\n".join(lines) + "\n"
    path = tmp_path / "long.xml"
    path.write_text(text)
    starts = [number for number, line in enumerate(text.split("\n"), start=1) if "<Student>" in line]
    [(_info, rows)] = read(path)
    assert starts[-1] > 70_000
    assert [raw.source.line for raw in rows] == starts


def test_a_zip_bomb_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "bomb.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:  # 1 MB of empty records from 2 KB
        archive.writestr("extract.xml", b"<ITTRecord>" + b"<Student/>" * 100_000 + b"</ITTRecord>")
    with pytest.raises(UnusableInput, match=r"expands 5\d\d times .* \(a zip bomb\?\)") as caught:
        read(path)
    assert caught.value.path == f"{path}:extract.xml"


def test_a_zipped_extract_of_realistic_size_is_read(tmp_path):
    # Generated records are more alike than real ones, so they deflate harder: about 20x at level 9.
    extract = tmp_path / "extract.xml"
    generate(extract, count=300, fmt="hesa-xml", seed=4, academic_cycle=2025, as_of=date(2026, 11, 28))
    path = tmp_path / "real.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.write(extract, "extract.xml")
    [member] = zipfile.ZipFile(path).infolist()
    assert member.file_size > 256 << 10 and member.file_size > 10 * member.compress_size
    [(info, rows)] = read(path)
    assert info.records == len(rows) == 300


def test_a_zip_of_many_members_reads_its_directory_once_not_once_per_member(tmp_path, monkeypatch):
    # Each opening of a ZipFile reads its whole central directory: opening one per member (twice each, to detect
    # the format and to read) made a zip of n members cost n**2 (5,000 one-record members: 185 s). It was read twice
    # still, to list the members and to read them (review162 F2): now once.
    path = tmp_path / "many.zip"
    one = "<ITTRecord><Student><F_HUSID>{:013d}</F_HUSID></Student></ITTRecord>"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for n in range(200):
            archive.writestr(f"m{n:03d}.xml", one.format(n))
    directory_reads = 0
    real = zipfile.ZipFile._RealGetContents

    def counting(self):
        nonlocal directory_reads
        directory_reads += 1
        return real(self)

    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", counting)
    found = read(path)
    assert [info.path for info, _rows in found] == [f"{path}:m{n:03d}.xml" for n in range(200)]
    assert [rows[0].fields["F_HUSID"] for _info, rows in found] == [f"{n:013d}" for n in range(200)]
    assert directory_reads == 1, directory_reads


def test_a_schema_instance_declaration_on_the_root_is_read_as_usual(hesa_samples, tmp_path):
    """xmlns:xsi (an export checked against an XSD) names no element: only a namespace on the root itself, or a
    default one, is refused (test_hostile_inputs.py)."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    assert text.count("<ITTRecord>") == 1
    declared = '<ITTRecord xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="x.xsd">'
    path = tmp_path / "xsi.xml"
    path.write_text(text.replace("<ITTRecord>", declared))
    [(_info, [raw])] = read(path)
    assert raw.fields["F_HUSID"] == "0310261553101"


@pytest.mark.parametrize("declared", ['xmlns=""', "xmlns = ''"])
def test_an_empty_default_namespace_on_the_root_is_no_namespace(hesa_samples, tmp_path, declared):
    """`xmlns=""` undeclares the default namespace (XML Namespaces §6.2): the root and its Students are in none, and
    lxml names them as usual. It is no reason to refuse the file as "in an XML namespace"."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    path = tmp_path / "empty-namespace.xml"
    path.write_text(text.replace("<ITTRecord>", f"<ITTRecord {declared}>"))
    [(_info, [raw])] = read(path)
    assert raw.fields["F_HUSID"] == "0310261553101"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (
            b'<?xml version="1.0" encoding="utf-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml">'
            b"<head><title>Sign in to your account</title></head><body/></html>\n",
            "the root element is <html>, not <ITTRecord>: not a HESA ITT extract",
        ),
        (
            b'<x:Trainees xmlns:x="urn:srs"><x:Student/></x:Trainees>',
            "the root element is <x:Trainees>, not <ITTRecord>: not a HESA ITT extract",
        ),
        (
            b'\xef\xbb\xbf<?xml version="1.0"?>\n<?mso-application progid="Excel.Sheet"?>\n'
            b'<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet"><Worksheet/></Workbook>\n',
            "an Excel XML Spreadsheet 2003, not an extract: save the sheet as 'CSV UTF-8' and give that file",
        ),
        (
            b'<ss:Workbook xmlns:ss="urn:schemas-microsoft-com:office:spreadsheet"><ss:Worksheet/></ss:Workbook>',
            "an Excel XML Spreadsheet 2003, not an extract: save the sheet as 'CSV UTF-8' and give that file",
        ),
    ],
    ids=["xhtml-page", "prefixed-root", "excel-2003", "excel-2003-prefixed"],
)
def test_a_root_in_a_namespace_that_is_not_ittrecord_is_not_an_extract(tmp_path, content, said):
    """review104 F2: a sign-in page saved as the extract (XHTML has a default namespace) or Excel's "XML Spreadsheet
    2003" was told to "export it without namespaces", as if it were an extract with that one fault; stripped of the
    namespace, the next run said what was true from the start. Only an ITTRecord in a namespace is told that."""
    path = tmp_path / "extract.csv"
    path.write_bytes(content)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert str(caught.value) == f"{path}: {said}"


@pytest.mark.parametrize(
    ("start", "end"),
    [('<Student xmlns="urn:srs">', "</Student>"), ('<s:Student xmlns:s="urn:srs">', "</s:Student>")],
)
def test_a_student_in_a_namespace_is_refused_not_left_out(tmp_path, start, end):
    """lxml names a Student in a namespace {urn:srs}Student: read by its plain tag alone, it was skipped without a
    word (3 Students in the file, "2 records"). Only a namespace on the root was refused."""
    one = "<Student><F_HUSID>{:013d}</F_HUSID></Student>\n"
    students = [one.format(n) for n in range(3)]
    students[1] = students[1].replace("<Student>", start).replace("</Student>", end)
    path = tmp_path / "namespaced-student.xml"
    path.write_text("<ITTRecord>\n" + "".join(students) + "</ITTRecord>\n")
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == 3
    assert "is in an XML namespace (urn:srs)" in str(caught.value) and str(caught.value).startswith(str(path))
    assert f"a <{start.split()[0][1:]}> element" in str(caught.value)  # <Student>, or with its prefix <s:Student>


@pytest.mark.parametrize(
    "tag", ["F_NIN", "F_PLMNTSCH", "PLACEMENT"], ids=["a-field", "a-placements-field", "a-placement"]
)
def test_a_tag_in_a_namespace_is_a_record_problem_not_a_value_left_out(hesa_samples, tmp_path, tag):
    """lxml names a tag in a namespace {urn:srs}F_NIN, which no field map reads: the record was read without its
    value and without a word, as if the file had none (a blank NI number, a placement gone)."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    assert text.count(f"<{tag}>") == 1
    text = text.replace(f"<{tag}>", f'<s:{tag} xmlns:s="urn:srs">').replace(f"</{tag}>", f"</s:{tag}>")
    path = tmp_path / "namespaced-tag.xml"
    path.write_text(text)
    [(_info, [raw])] = read(path)
    assert raw.problems == [
        (
            tag,
            f"<{tag}> is in an XML namespace (urn:srs): HESA ITT extracts use none, and its value would not be read; "
            "export it without namespaces",
        )
    ]


@pytest.mark.parametrize("name", ["itt_record_C23053.xml", "itt_record_one_line.xml"])
def test_a_tag_whose_namespace_prefix_is_declared_nowhere_is_refused_naming_its_line(hesa_samples, tmp_path, name):
    """`<s:F_NIN>` with no `xmlns:s`: libxml2 reads the document to its end and reports the prefix as an error, not a
    fatal one; the refusal names that error and its line, not some other. On a one-line extract with no line end
    after it the error is on the file's last line, and the file is whole: it is not called cut short."""
    text = (hesa_samples / name).read_text().rstrip("\n")
    assert text.count("<F_NIN>NULL</F_NIN>") == 1
    text = text.replace("<F_NIN>NULL</F_NIN>", "<s:F_NIN>NULL</s:F_NIN>")
    path = tmp_path / "undeclared-prefix.xml"
    path.write_text(text)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    line = text[: text.index("<s:F_NIN>")].count("\n") + 1
    assert caught.value.line == line
    reason = f"Namespace prefix s on F_NIN is not defined, line {line}, column \\d+"  # one line, nothing after it
    where = f"{re.escape(str(path))}, record 1, line {line}"  # the sample's one Student, on a line of its own or not
    assert re.fullmatch(f"{where}: not well-formed XML: {reason}", str(caught.value))


def test_a_student_whose_namespace_prefix_is_declared_nowhere_is_refused_in_one_line(tmp_path):
    """`<s:Student>` with no `xmlns:s`, which libxml2 names `s:Student` (no namespace): the reader stopped with an
    internal error (exit 70, "Invalid tag name 's:Student'"), not a line naming the file and what is wrong in it."""
    one = "<Student><F_HUSID>{:013d}</F_HUSID></Student>\n"
    students = [one.format(n) for n in range(3)]
    students[1] = students[1].replace("Student>", "s:Student>")
    path = tmp_path / "undeclared-student-prefix.xml"
    path.write_text("<ITTRecord>\n" + "".join(students) + "</ITTRecord>\n")
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == 3 and str(caught.value).startswith(str(path))
    # Not a record the reader reads: the error is after the first one
    assert "not well-formed XML after record 1: Namespace prefix s on Student is not defined" in str(caught.value)


@pytest.mark.parametrize("inner_at", ["<F_FNAMES>", "<F_PLMNTSCH>"], ids=["among-its-tags", "inside-a-placement"])
def test_a_student_inside_another_is_refused_naming_both_lines(hesa_samples, tmp_path, inner_at):
    """The inner Student was read as a record, then every tag of the outer one before it was freed: the outer record
    came out with `required` errors for fields the file has (or, with only optional tags before it, without them)."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    inner = "<Student><F_HUSID>2601200000017</F_HUSID></Student>"
    assert text.count(inner_at) == 1
    path = tmp_path / "nested.xml"
    path.write_text(text.replace(inner_at, inner + inner_at))
    inner_line = text[: text.index(inner_at)].count("\n") + 1
    with pytest.raises(UnusableInput) as caught:
        read(path)
    outer_line = text[: text.index("<Student>")].count("\n") + 1
    assert caught.value.line == inner_line
    assert f"a <Student> inside another <Student> (the one starting on line {outer_line})" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "<" + "R" * 100_000 + "><Student/></" + "R" * 100_000 + ">",
        "<s:" + "R" * 100_000 + ' xmlns:s="urn:x"><Student/></s:' + "R" * 100_000 + ">",
        '<?xml version="1.0" encoding="' + "x" * 100_000 + '"?><ITTRecord><Student/></ITTRecord>',
    ],
    ids=["root", "namespaced-root", "encoding"],
)
def test_a_very_long_name_in_the_prolog_is_cut_short_in_the_error_line(tmp_path, text):
    """The root's name and the declared encoding were quoted whole: a 100,000-character line of error."""
    path = tmp_path / "long-name.xml"
    path.write_text(text)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert len(str(caught.value)) < 400 and "…" in str(caught.value), len(str(caught.value))


def test_record_lines_are_their_start_tags_lines_either_side_of_65535(tmp_path):
    """At the line libxml2 stops storing (65,535) and either side of it, a Student with a line break after its start
    tag is numbered by that tag's line, not its first child's."""
    lines = ["<?xml version='1.0' encoding='UTF-8'?>", "<ITTRecord>"]
    lines += ["<!-- padding -->"] * (65_532 - len(lines))
    lines.append("<Student>")  # line 65,533
    lines += [f"<F_HUSID>{n:013d}</F_HUSID></Student><Student>" for n in range(5)]  # the next on each line
    lines += ["<F_HUSID>0000000000005</F_HUSID></Student>", "</ITTRecord>"]
    path = tmp_path / "edge.xml"
    path.write_text("\n".join(lines) + "\n")
    [(_info, rows)] = read(path)
    assert [raw.source.line for raw in rows] == list(range(65_533, 65_539))
    assert [raw.fields["F_HUSID"] for raw in rows] == [f"{n:013d}" for n in range(6)]


def _past_65535(students: list[str]) -> str:
    """An extract of a Student, 70,000 blank lines, then `students`: past the line libxml2 stops storing (65,535) for
    an element, in the whole file and in a chunk read alone (numbered after padding, then shifted); 70 KB of short
    lines. (A file is divided into chunks only if a Student starts in its first 64 KB.)"""
    return "<ITTRecord>\n" + _FULL.format(n=0) + "\n" * 70_000 + "\n".join(students) + "\n</ITTRecord>\n"


_FULL = "<Student><F_HUSID>{n:013d}</F_HUSID></Student>"
_CHILDLESS = ["<Student/>", "<Student></Student>", '<Student status="x"/>']


def test_a_childless_student_past_65535_has_no_line_rather_than_a_wrong_one_in_every_reading(tmp_path):
    """review112 F1: a Student with no child past line 65,535 was numbered with the line of what followed it (the next
    Student's, or </ITTRecord>'s) or 65,535, whichever the parser's read had reached, so `--jobs 2` numbered it
    otherwise than `--jobs 1`; a chunk read alone added its shift to 65,535, a line that is nobody's (332,545). libxml2
    keeps no line for it: it has none, in every reading. A Student with a child or a line break in it keeps its own."""
    students = []
    for n in range(120):  # each childless kind after a full Student, so that a chunk may start with it
        students.append(_FULL.format(n=n))
        students.append(_CHILDLESS[n % 3] if n % 4 else "<Student>\n</Student>")
    text = _past_65535(students)
    path = tmp_path / "childless.xml"
    path.write_text(text)
    expected = [
        None if line.strip() in _CHILDLESS else number
        for number, line in enumerate(text.split("\n"), start=1)
        if line.startswith("<Student")
    ]
    assert expected.count(None) == 90 and expected[0] == 2 and min(n for n in expected[1:] if n) > 70_000
    [(_info, rows)] = read(path)
    assert [raw.source.line for raw in rows] == expected
    chunks = find_chunks(str(path), chunk_bytes=2_000)
    assert chunks is not None and len(chunks) > 30  # most chunks one Student then a childless one, read alone
    assert [raw.source.line for raw in read_in_parts(path, chunks, 1)] == expected


def test_a_childless_student_before_65535_keeps_its_line(tmp_path):
    """The Students below the line libxml2 stops storing, and at it, are numbered as before: only a line libxml2 did
    not keep is given as none."""
    lines = ["<ITTRecord>", *[""] * 65_530, *_CHILDLESS, _FULL.format(n=1), *_CHILDLESS, "</ITTRecord>"]
    path = tmp_path / "edge.xml"
    path.write_text("\n".join(lines) + "\n")
    [(_info, rows)] = read(path)
    assert [raw.source.line for raw in rows] == [65_532, 65_533, 65_534, 65_535, None, None, None]


@pytest.mark.parametrize(
    ("outer", "inner_line"),
    [("<Student>\n<Student>", 1), ("<Student><Student>", 0), ("<Student><PLACEMENTS><PLACEMENT><Student>", 0)],
    ids=["a-line-after", "on-its-line", "in-its-placement"],
)
def test_a_student_inside_another_past_65535_names_the_outer_ones_line(tmp_path, outer, inner_line):
    """review112 F2: "(the one starting on line N)" named the inner Student's line, or 65,535, for an outer one past
    line 65,535: the inner one, cleared when it was read, was the outer's first child, whose line libxml2 gave."""
    inner = "<F_HUSID>0000000000002</F_HUSID></Student>"
    ends = "</PLACEMENT></PLACEMENTS></Student>" if "PLACEMENT" in outer else "</Student>"
    students = [_FULL.format(n=1), outer + inner + "<F_HUSID>0000000000001</F_HUSID>" + ends, _FULL.format(n=3)]
    text = _past_65535(students)
    path = tmp_path / "nested.xml"
    path.write_text(text)
    outer_line = text.count("\n", 0, text.index(outer)) + 1
    with pytest.raises(UnusableInput, match="inside another") as caught:
        read(path)
    assert caught.value.line == outer_line + inner_line
    assert f"(the one starting on line {outer_line})" in str(caught.value)


def test_a_student_in_a_namespace_past_65535_is_refused_naming_its_own_line(tmp_path):
    """review112 F2: its refusal named the line of its first child (the one after it)."""
    text = _past_65535([_FULL.format(n=1), '<h:Student xmlns:h="urn:h">\n<F_HUSID>2</F_HUSID>\n</h:Student>'])
    path = tmp_path / "namespaced.xml"
    path.write_text(text)
    with pytest.raises(UnusableInput, match="is in an XML namespace") as caught:
        read(path)
    assert caught.value.line == text.count("\n", 0, text.index("<h:Student")) + 1 > 70_000


def test_a_byte_order_mark_with_no_xml_declaration_is_read(tmp_path):
    path = tmp_path / "bom.xml"
    path.write_bytes(b"\xef\xbb\xbf<ITTRecord><Student><F_HUSID>0310261553101</F_HUSID></Student></ITTRecord>")
    [(_info, [raw])] = read(path)
    assert raw.fields == {"F_HUSID": "0310261553101"}


def test_a_doctype_that_declares_nothing_is_read(tmp_path):
    """Only a DTD's entities and external references are refused: a bare `<!DOCTYPE ITTRecord>` names the root, and
    what follows the DTD is not read as part of it."""
    path = tmp_path / "doctype.xml"
    path.write_text(
        "<?xml version='1.0'?>\n<!DOCTYPE ITTRecord>\n<ITTRecord><Student><F_HUSID>1</F_HUSID></Student>"
        "<!-- from the SRS's PUBLIC SYSTEM export: words in a comment after the DTD --></ITTRecord>"
    )
    [(_info, [raw])] = read(path)
    assert raw.fields == {"F_HUSID": "1"} and raw.source.line == 3


def test_more_than_1_mb_before_any_element_is_refused_as_a_long_prolog(tmp_path):
    path = tmp_path / "blank.xml"
    path.write_bytes(b" " * (1 << 20) + b"not XML")
    with pytest.raises(UnusableInput, match="the XML prolog is longer than 1 MB; refusing to parse it"):
        read(path, "hesa-xml")


def test_a_mismatched_tag_on_the_one_line_of_a_one_line_extract_is_named_not_called_a_cut(tmp_path):
    """A one-line extract's error is on its last line, but the file did not end there: the parser's own reason."""
    path = tmp_path / "one_line.xml"
    path.write_text("<ITTRecord><Student><F_HUSID>1</F_SURNAME></Student></ITTRecord>")
    with pytest.raises(UnusableInput, match="Opening and ending tag mismatch: F_HUSID line 1 and F_SURNAME") as caught:
        read(path)
    assert caught.value.line == 1 and "truncated" not in str(caught.value)


ROOT_AFTER_DTD = b"]><ITTRecord><Student><F_HUSID>0310261553101</F_HUSID><F_FNAMES>&x;</F_FNAMES></Student></ITTRecord>"
DECLARES = "the XML declares entities in a DTD; refusing to expand them"


@pytest.mark.parametrize(
    "prolog,reason",
    [
        (b'<!ELEMENT Student ANY><!ENTITY x "y">' + ROOT_AFTER_DTD, DECLARES),  # a declaration's own `>` inside
        (b'<!-- ] > --><!ENTITY x "y">' + ROOT_AFTER_DTD, DECLARES),  # `]>` in a comment
        (b'<!ATTLIST Student a CDATA "] >"><!ENTITY x "y">' + ROOT_AFTER_DTD, DECLARES),  # in a literal in "
        (b"<!ATTLIST Student a CDATA '] >'><!ENTITY x 'y'>" + ROOT_AFTER_DTD, DECLARES),  # in one in '
        (b'<!ATTLIST Student a CDATA ""><!ATTLIST Student b CDATA "] >"><!ENTITY x "y">' + ROOT_AFTER_DTD, DECLARES),
        (b'<?pi ] > ?><!ENTITY x "y">' + ROOT_AFTER_DTD, DECLARES),  # in a processing instruction
        (b'<!ENTITY x "y">', "the XML prolog is truncated"),  # no end at all: a DTD left open
        (b'<!ENTITY x "y', "the XML prolog is truncated"),  # and its literal too
    ],
    ids=[
        "declaration",
        "comment",
        "double quotes",
        "single quotes",
        "after an empty literal",
        "processing instruction",
        "open",
        "open literal",
    ],
)
def test_entities_are_found_in_a_dtd_however_its_end_is_disguised(tmp_path, prolog, reason):
    """The prolog check reads a DTD as the parser does (HESA extracts declare none, hesa-formats.md §1.2): a `]>` inside
    a comment, literal or processing instruction does not end it, so no entity declared after one is missed; a DTD
    that never ends is refused as it is."""
    path = tmp_path / "dtd.xml"
    path.write_bytes(b"<!DOCTYPE ITTRecord [" + prolog)
    with pytest.raises(UnusableInput, match=reason):
        read(path, "hesa-xml")


@pytest.fixture(scope="module")
def long_xml(tmp_path_factory):
    """About 1,000 generated trainees: over 65,535 lines, where libxml2 numbers lines its own way."""
    folder = tmp_path_factory.mktemp("long")
    path = folder / "long.xml"
    generate(path, count=1000, fmt="hesa-xml", defects=0.2, truth=folder / "t.json", seed=11, as_of=date(2025, 11, 1))
    return path


def _read_in_parts(path, chunks, first):
    """`path` read as a parallel validation reads it: chunks 0 to `first` - 1 by the reader from the file's start
    (it claims each as it reaches it), every later chunk by a reader of that chunk alone."""
    parts = []
    before = newlines_before(str(path), chunks)
    for index in [0, *range(first, len(chunks))]:
        [(info, records)] = list(open_inputs([str(path)], "hesa-xml", load_mapping()))
        info.part = (
            XmlPart(chunks, 0, lambda chunk: chunk < first)
            if index == 0
            else XmlPart(chunks, index, None, before[index])
        )
        parts.append((info, list(records)))
    return parts


@pytest.mark.parametrize(
    "first", [1, 4, None], ids=["helper-reads-all-but-one", "shared", "reader-from-the-start-reads-all"]
)
def test_a_file_read_in_chunks_gives_the_records_and_lines_of_the_whole(long_xml, first):
    """Each chunk parses on its own, and its records keep the lines they have in the whole file, past 65,535 too
    (where a chunk read alone is numbered after padding, then shifted); the first reader still hashes the whole
    file."""
    [(whole, rows)] = read(long_xml)
    chunks = find_chunks(str(long_xml), chunk_bytes=200_000)
    assert chunks is not None and len(chunks) >= 8 and rows[-1].source.line > 70_000
    parts = _read_in_parts(long_xml, chunks, len(chunks) if first is None else first)
    read_in_parts = [raw for _info, records in parts for raw in records]
    assert [(raw.source.line, raw.fields, raw.groups, raw.problems) for raw in read_in_parts] == [
        (raw.source.line, raw.fields, raw.groups, raw.problems) for raw in rows
    ]
    assert parts[0][0].sha256 == whole.sha256


@pytest.mark.parametrize("first", [1, None], ids=["last-chunk-read-alone", "reader-from-the-start-reads-all"])
def test_dos_end_of_file_mark_after_the_document_ends_the_file(long_xml, tmp_path, first):
    """`copy /a` and old DOS-era exports add Ctrl-Z after the last byte: libxml2 called it "Extra content at the end
    of the document". It is the file's end, as in a CSV, whoever reads the last chunk; the hash is still of every
    byte."""
    [(whole, rows)] = read(long_xml)
    marked = tmp_path / "marked.xml"
    marked.write_bytes(long_xml.read_bytes() + b"\r\n\x1a")
    [(info, marked_rows)] = read(marked)
    assert [(raw.source.line, raw.fields) for raw in marked_rows] == [(raw.source.line, raw.fields) for raw in rows]
    assert info.records == whole.records and info.sha256 != whole.sha256
    chunks = find_chunks(str(marked), chunk_bytes=200_000)
    assert chunks is not None
    parts = _read_in_parts(marked, chunks, len(chunks) if first is None else first)
    assert [raw.fields for _info, records in parts for raw in records] == [raw.fields for raw in rows]
    assert parts[0][0].sha256 == info.sha256


def test_a_refusal_in_a_chunk_read_alone_names_its_line_in_the_whole_file(tmp_path):
    """A Student inside another, past line 70,000 of a file read in parts: the reader of that chunk alone numbers its
    lines after padding, then shifts them; its refusal names the line the whole file's reading names."""
    lines = ["<ITTRecord>", *(f"<Student><F_HUSID>{n:013d}</F_HUSID></Student>" for n in range(90_000)), "</ITTRecord>"]
    lines[-10] = lines[-10].replace("</Student>", "<Student><F_HUSID>2601200000017</F_HUSID></Student></Student>")
    path = tmp_path / "nested-late.xml"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(UnusableInput, match="inside another") as whole:
        read(path)
    assert whole.value.line == len(lines) - 9
    chunks = find_chunks(str(path), chunk_bytes=1 << 20)
    assert chunks is not None and len(chunks) >= 4
    with pytest.raises(UnusableInput, match="inside another") as in_parts:
        _read_in_parts(path, chunks, 1)
    assert in_parts.value.line == whole.value.line


def test_a_file_the_whole_read_refuses_for_a_2mb_student_is_refused_by_every_chunk_read_too(tmp_path):
    """review112 F5: a Student's 2 MB limit ("runs past 2 MB") counts the bytes given to the parser since the
    read that ended the last record. The parser reads 32 KiB at a time, from the file's start in a whole read, from the
    chunk's start in a chunk read alone: the same Student counted 2 MB + 32 KiB in one and 2 MB in the other, so
    `--jobs 1` refused the file and `--jobs 2` validated it. A chunk read now refuses whatever a whole read might (the
    file is then read whole, whose verdict stands)."""
    text, chunk = long_title_extract()
    path = tmp_path / "long-title.xml"
    path.write_bytes(text)
    with pytest.raises(UnusableInput, match=r"record 3, line 4: the <Student> starting on line 4 runs past 2 MB"):
        read(path)
    chunks = XmlChunks(len(b"<ITTRecord>\n"), 1, (chunk,))
    for part in (XmlPart(chunks, 1, None, newlines_before(str(path), chunks)[1]), XmlPart(chunks, 0, lambda i: True)):
        [(info, records)] = list(open_inputs([str(path)], "hesa-xml", bundled_mapping()))
        info.part = part
        with pytest.raises(UnusableInput, match="runs past 2 MB"):
            list(records)


def test_a_ctrl_z_inside_the_document_is_still_refused_where_it_is(tmp_path):
    path = tmp_path / "inside.xml"
    path.write_bytes(b"<ITTRecord>\n<Student><F_HUSID>1</F_HUSID></Student>\x1a\n<Student/>\n</ITTRecord>\n")
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == 2 and "invalid Char value 26" in str(caught.value)


def test_a_ctrl_z_inside_the_document_is_refused_where_it_is_wherever_a_read_of_the_file_ends(tmp_path):
    """The parser reads the file 32 KiB at a time, and a Ctrl-Z that ends one read is looked past, as it may be the DOS
    end-of-file mark: when more follows, it is inside the document, refused on its own line like any other, the
    bytes after it still read (not dropped, leaving the file looking cut short)."""
    lead = b"<ITTRecord>\n<Student><F_HUSID>0310261553101</F_HUSID></Student>\n<!--"
    rest = b"-->\x1a\n<Student><F_HUSID>0310261553102</F_HUSID></Student>\n</ITTRecord>\n"
    for offset in range((32 << 10) - 4, (32 << 10) + 4):  # the Ctrl-Z at, and either side of, the first read's end
        path = tmp_path / "inside.xml"
        path.write_bytes(lead + b" " * (offset - len(lead) - 3) + rest)
        assert path.read_bytes().index(b"\x1a") == offset
        with pytest.raises(UnusableInput) as caught:
            read(path)
        assert caught.value.line == 3 and "invalid Char value 26" in str(caught.value), (offset, str(caught.value))


_MARKUP = (
    "has XML elements inside its value (<{inner}>): HESA ITT values are plain text, and this one cannot be read as "
    "the extract means it; export it without markup"
)


@pytest.mark.parametrize(
    ("old", "new", "field", "inner", "read_as"),
    [
        # lxml's text of an element is the text before its first child: "Hay", the rest dropped
        ("<F_SURNAME>George</F_SURNAME>", "<F_SURNAME>Hay<i>ward</i></F_SURNAME>", "F_SURNAME", "i", "Hayward"),
        # no text before the child: read as a container, the value was absent
        ("<F_FNAMES>Dave</F_FNAMES>", "<F_FNAMES><b>Dave</b></F_FNAMES>", "F_FNAMES", "b", "Dave"),
        ("<F_SURNAME>George</F_SURNAME>", "<F_SURNAME><i>Hay</i>ward</F_SURNAME>", "F_SURNAME", "i", "Hayward"),
    ],
)
def test_a_value_with_markup_in_it_is_a_record_problem_not_cut_at_its_first_element(
    hesa_samples, tmp_path, old, new, field, inner, read_as
):
    """review64 F2: `<F_SURNAME>Hay<i>ward</i></F_SURNAME>` was read as "Hay", and sent, with no issue."""
    path = tmp_path / "markup.xml"
    path.write_text(c23053_edited(hesa_samples, {old: new}))
    [(_info, [raw])] = read(path)
    assert raw.marked == ((field, f"<{field}> {_MARKUP.format(inner=inner)}"),) and not raw.problems
    assert raw.fields[field] == read_as  # what the report shows beside the problem
    assert raw.groups["PLACEMENT"] == [{"F_PLMNTSCH": "900000", "F_PLMNTDYS": "160"}]


def test_a_group_value_with_markup_in_it_is_a_record_problem(hesa_samples, tmp_path):
    path = tmp_path / "markup-in-a-degree.xml"
    edits = {"<F_DEGSBJ1>100251</F_DEGSBJ1>": "<F_DEGSBJ1>100<u>251</u></F_DEGSBJ1>"}
    path.write_text(c23053_edited(hesa_samples, edits))
    [(_info, [raw])] = read(path)
    assert raw.marked == (("F_DEGSBJ1", f"<F_DEGSBJ1> {_MARKUP.format(inner='u')}"),)


def test_text_before_a_groups_first_item_keeps_the_group_and_is_a_record_problem(hesa_samples, tmp_path):
    """review64 F2: `<PLACEMENTS>x<PLACEMENT>…` was read as a value "x" of PLACEMENTS, every placement dropped."""
    path = tmp_path / "text-in-placements.xml"
    path.write_text(c23053_edited(hesa_samples, {"<PLACEMENTS>": "<PLACEMENTS>x"}))
    [(_info, [raw])] = read(path)
    assert raw.groups["PLACEMENT"] == [{"F_PLMNTSCH": "900000", "F_PLMNTDYS": "160"}]
    assert "PLACEMENTS" not in raw.fields
    assert raw.problems == [
        (
            "PLACEMENTS",
            "<PLACEMENTS> has text of its own ('x') beside its <PLACEMENT>: HESA's groups hold only their "
            "items; remove the text",
        )
    ]


def test_markup_in_a_tag_register_batch_does_not_read_is_no_problem(hesa_samples, tmp_path):
    """review71 M3: a tag no mapping reads is ignored, whatever it holds (an SRS's note with markup, a wrapper of its
    own named F_...), as before the markup check."""
    from register_batch.jobs import validate_files

    path = tmp_path / "own-markup.xml"
    own = "<SRSNOTES>a <b>b</b></SRSNOTES><F_SRSWRAP><X>1</X></F_SRSWRAP><F_SURNAME>George</F_SURNAME>"
    path.write_text(c23053_edited(hesa_samples, {"<F_SURNAME>George</F_SURNAME>": own}))
    result = validate_files([path], as_of=date(2023, 1, 10), report_dir=tmp_path / "reports")
    issues = json.loads(result.report_paths["json"].read_text(encoding="utf-8"))["issues"]
    assert [i for i in issues if i["code"] == "malformed_record"] == []


def test_markup_in_a_value_makes_the_record_an_error_in_validate(hesa_samples, tmp_path):
    from register_batch.jobs import validate_files

    path = tmp_path / "markup.xml"
    path.write_text(
        c23053_edited(hesa_samples, {"<F_SURNAME>George</F_SURNAME>": "<F_SURNAME>Hay<i>ward</i></F_SURNAME>"})
    )
    result = validate_files([path], as_of=date(2023, 1, 10), report_dir=tmp_path / "reports")
    issues = json.loads(result.report_paths["json"].read_text(encoding="utf-8"))["issues"]
    [issue] = [i for i in issues if i["code"] == "malformed_record"]
    assert (issue["severity"], issue["field"]) == ("error", "F_SURNAME")
    assert issue["message"].startswith("<F_SURNAME> has XML elements inside its value (<i>)")
    assert result.exit_code == 1
