"""open_inputs, the readers' one entry point: what it refuses before any file is read, and gzip files."""

from __future__ import annotations

import glob
import gzip
import os
import shlex
import struct
import zipfile
from datetime import date
from pathlib import Path

import pytest

from register_batch.errors import ConfigError, UnusableInput
from register_batch.generate import generate
from register_batch.mapping import load_mapping
from register_batch.readers import find_xml_chunks, open_inputs
from trainee_extracts import copied_over, written_earlier

ROWS = "F_HUSID,F_SURNAME,F_FNAMES\n0310261553101,George,Dave\n"


def test_an_unknown_format_is_refused_naming_the_formats(tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text(ROWS)
    with pytest.raises(ConfigError) as caught:
        list(open_inputs([str(path)], "csv", load_mapping()))
    assert str(caught.value) == "unknown input format 'csv'; use auto or one of hesa-xml, hesa-csv, register-csv"


@pytest.mark.parametrize("to", ["jsonl", "json"])
def test_converts_json_output_given_back_is_named_as_json_not_an_unknown_format(tmp_path, to):
    """A vendor fed `convert --to jsonl` output back to validate: "cannot tell the format ... (use fmt to say which)",
    though no format reads it. Say what it is and what to give instead."""
    from pathlib import Path

    from register_batch.jobs import convert_files

    samples = Path(__file__).resolve().parents[2] / "samples"
    bodies = tmp_path / f"bodies.{to}"
    convert_files([samples / "extract.xml"], to=to, output=bodies, as_of=date(2026, 11, 28))
    with pytest.raises(UnusableInput) as caught:
        list(open_inputs([str(bodies)], "auto", load_mapping()))
    assert str(caught.value) == (
        f"{bodies}: JSON, as convert and export write it, which register-batch does not read back: give the extract "
        "it was converted from, or an export to register-csv or hesa-xml"
    )


@pytest.mark.parametrize(
    "text,line",
    [
        ("fields:\n  hesa:\n    trainee: {}\n", 1),
        ("# ours\n\n---\ncodes:  # SRS codes\n  sex: {}\n", 4),
        ("%YAML 1.2\n---\ncodes:\n  sex: {}\n", 3),  # review121 F4: a directive, and flow style
        ("codes: {sex: {translate: {M: '11'}}}\n", 1),
        ("--- # ours\nfields: {hesa: {trainee: {}}}\n", 2),
    ],
)
@pytest.mark.parametrize("fmt", ["auto", "hesa-xml"])
def test_a_mapping_file_given_as_an_input_is_named_as_one(tmp_path, text, line, fmt):
    """review117 F6: `mappings check ours.yaml` (the mapping file as its INPUT) was "cannot tell the format ... (use
    fmt to say which)", and given `--format hesa-xml`, "no XML element found"."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(text)
    with pytest.raises(UnusableInput) as caught:
        [list(records) for _info, records in open_inputs([str(ours)], fmt, load_mapping())]
    assert (caught.value.problem, caught.value.line) == (
        "a mapping file (YAML), not an extract: give it with mapping_files",
        line,
    )


def test_a_mapping_file_given_to_mappings_check_as_its_input_says_to_give_it_with_mapping(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from register_batch.cli import cli

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ours.yaml").write_text("codes:\n  sex:\n    translate: {M: '11'}\n")
    result = CliRunner().invoke(cli, ["mappings", "check", "ours.yaml"])
    assert result.exit_code == 2
    assert result.output.splitlines()[-1] == (
        "register-batch: error: ours.yaml, line 1: a mapping file (YAML), not an extract: give it with --mapping FILE"
    )


@pytest.mark.parametrize("sample,fmt", [("register.csv", "register-csv"), ("extract.csv", "hesa-csv")])
def test_a_csv_given_as_hesa_xml_is_named_as_the_csv_it_is(sample, fmt):
    """review117 F6: "no XML element found (empty or not an XML file)", where an XML file given as a CSV is named."""
    path = Path(__file__).resolve().parents[2] / "samples" / sample
    with pytest.raises(UnusableInput) as caught:
        [list(records) for _info, records in open_inputs([str(path)], "hesa-xml", load_mapping())]
    assert (caught.value.problem, caught.value.line) == (
        f"the file is a CSV ({fmt}), not XML: give fmt {fmt}, or leave it out to have the format told from the file",
        1,
    )


def test_a_file_given_as_hesa_xml_with_no_element_and_no_header_is_still_not_xml(tmp_path):
    path = tmp_path / "notes.xml"
    path.write_text("just some notes\n")
    with pytest.raises(UnusableInput) as caught:
        [list(records) for _info, records in open_inputs([str(path)], "hesa-xml", load_mapping())]
    assert caught.value.problem == "no XML element found (empty or not an XML file)"


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


def test_a_folder_given_as_an_input_is_refused_saying_how_to_give_its_extracts(tmp_path):
    folder = tmp_path / "extracts"
    folder.mkdir()
    (folder / "a.xml").write_text("<ITTRecord/>")
    with pytest.raises(UnusableInput) as caught:
        list(open_inputs([str(folder)], "auto", load_mapping()))
    assert str(caught.value) == f"{folder}: is a folder, not a file: give the extracts in it, e.g. {folder}/*.xml"


def test_the_pattern_a_folder_input_is_answered_with_is_quoted_for_the_shell(tmp_path):
    """`e.g. My Extracts/*.xml`, typed as shown, gave the shell `My` and `Extracts/*.xml`."""
    folder = tmp_path / "My Extracts"
    folder.mkdir()
    (folder / "a.xml").write_text("<ITTRecord/>")
    with pytest.raises(UnusableInput) as caught:
        list(open_inputs([str(folder)], "auto", load_mapping()))
    assert str(caught.value).endswith(f"e.g. {shlex.quote(str(folder))}/*.xml")
    assert glob.glob(shlex.split(str(caught.value).split("e.g. ")[1])[0]) == [str(folder / "a.xml")]


def test_a_dash_for_standard_input_is_refused_saying_so_not_a_file_named_dash_read(tmp_path, monkeypatch):
    """`cat extract.xml | register-batch validate -` said `-: no such file`; and with a file named `-` in the folder,
    read it in silence instead of what was piped (review31 F6). `./-` names such a file."""
    monkeypatch.chdir(tmp_path)
    generate(tmp_path / "-", count=2, fmt="hesa-xml", seed=1, as_of=date(2026, 11, 28))
    with pytest.raises(UnusableInput) as caught:
        list(open_inputs(["-"], "auto", load_mapping()))
    assert str(caught.value) == (
        "-: standard input is not read (a pipe cannot be read twice): save the extract to a file and give its path "
        "(a file named - as ./-)"
    )
    assert sum(len(list(records)) for _info, records in open_inputs(["./-"], "auto", load_mapping())) == 2


def next_export(path: Path) -> bytes:
    """The extract as the SRS's next export could have it: the first and the last surname changed by a letter, so the
    file keeps its size, and a reader that mixed the two would not notice by it."""
    data = bytearray(path.read_bytes())
    for at in (data.index(b"<F_SURNAME>"), data.rindex(b"<F_SURNAME>")):
        letter = at + len(b"<F_SURNAME>")
        data[letter : letter + 1] = bytes(data[letter : letter + 1]).swapcase()
    return bytes(data)


@pytest.mark.parametrize("packed", ["plain", "gzip"])
def test_an_xml_extract_rewritten_while_it_is_read_is_refused(tmp_path, packed):
    """security.md promises it; only CSV was checked (its second pass hashes again). The next export copied over the
    XML being read gave records of both, and a report sha256 of neither file (review31 F4)."""
    plain = tmp_path / "big.xml"
    generate(plain, count=300, fmt="hesa-xml", seed=5, as_of=date(2026, 11, 28))
    old, new = plain.read_bytes(), next_export(plain)
    assert len(old) == len(new) and old != new
    if packed == "gzip":
        old, new = gzip.compress(old, mtime=0), gzip.compress(new, mtime=0)
    path = written_earlier(tmp_path / f"extract.{packed}", old)
    read = 0
    with pytest.raises(UnusableInput) as caught:
        for _info, records in open_inputs([str(path)], "auto", load_mapping()):
            for _record in records:
                read += 1
                if read == 100:
                    copied_over(path, new)
    assert str(caught.value) == f"{path}: the file changed while it was being read; run again once it is complete"
    assert read == 300
    # Read again once complete, it is used.
    assert sum(len(list(records)) for _info, records in open_inputs([str(path)], "auto", load_mapping())) == 300


def test_a_pattern_the_shell_matched_to_no_file_is_named_as_a_pattern(tmp_path):
    """A shell hands `extracts/*.xml` over as it is when nothing matches it (the SRS had not written its file)."""
    pattern = tmp_path / "*.xml"
    with pytest.raises(UnusableInput) as caught:
        list(open_inputs([str(pattern)], "auto", load_mapping()))
    assert str(caught.value) == f"{pattern}: no such file: no file matches this pattern"
    with pytest.raises(UnusableInput) as caught:
        list(open_inputs([str(tmp_path / "nightly.xml")], "auto", load_mapping()))
    assert str(caught.value) == f"{tmp_path / 'nightly.xml'}: no such file"


def read(path):
    return [(info, list(records)) for info, records in open_inputs([str(path)], "auto", load_mapping())]


def gzipped(path, data, level=9):
    path.write_bytes(gzip.compress(data, compresslevel=level))
    return path


@pytest.mark.parametrize("fmt", ["hesa-xml", "hesa-csv", "register-csv"])
def test_a_gzipped_extract_reads_as_the_plain_one(tmp_path, fmt):
    """Same records, lines, format and sha256 (of the extract, not of its compressed bytes): a nightly job can
    switch to gzip without its reports changing."""
    plain = tmp_path / "extract"
    generate(plain, count=40, fmt=fmt, seed=5, as_of=date(2026, 11, 28))
    [(plain_info, plain_rows)] = read(plain)
    [(info, rows)] = read(gzipped(tmp_path / "extract.gz", plain.read_bytes()))
    assert info.path.endswith("extract.gz") and info.format == plain_info.format == fmt
    assert info.records == plain_info.records == 40 and info.sha256 == plain_info.sha256
    assert [(r.source.line, r.fields, r.groups) for r in rows] == [
        (r.source.line, r.fields, r.groups) for r in plain_rows
    ]


def test_a_gzipped_hesa_xml_file_is_not_split_between_two_processes(tmp_path):
    """Chunks are byte offsets into the file itself, which a gzip file's are not, though one stored without
    compression (level 0) holds the extract's text, `<Student>` tags and all."""
    plain = tmp_path / "extract.xml"
    generate(plain, count=200, fmt="hesa-xml", seed=5, as_of=date(2026, 11, 28))
    assert find_xml_chunks(str(plain), "auto", load_mapping()) is not None
    packed = gzipped(tmp_path / "extract.xml.gz", plain.read_bytes(), level=0)
    assert b"<Student>" in packed.read_bytes()
    assert find_xml_chunks(str(packed), "auto", load_mapping()) is None
    assert find_xml_chunks(str(packed), "hesa-xml", load_mapping()) is None


def test_a_truncated_gzip_file_is_refused_as_damaged(tmp_path):
    plain = tmp_path / "extract.csv"
    generate(plain, count=40, fmt="register-csv", seed=5, as_of=date(2026, 11, 28))
    path = tmp_path / "extract.csv.gz"
    path.write_bytes(gzip.compress(plain.read_bytes())[:-100])
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: damaged compressed data (Compressed file ended before the end-of-stream marker was reached)"
    )


def test_a_gzip_file_that_expands_more_than_any_extract_is_refused(tmp_path):
    """The zip bomb's bound (100 times, past 256 KiB), counted as the bytes come: a gzip file declares no size."""
    path = gzipped(tmp_path / "bomb.xml.gz", b"<ITTRecord>" + b"<Student/>" * 1_000_000 + b"</ITTRecord>")  # 10 MB
    with pytest.raises(UnusableInput) as caught:
        read(path)
    size = path.stat().st_size
    assert str(caught.value) == (
        f"{path}: expands to more than {100 * size:,} bytes from {size:,}: no extract compresses like that (a gzip "
        "bomb?); if it is genuine, decompress it and give the file itself"
    )


def test_a_small_gzip_file_may_expand_to_256_kib(tmp_path):
    rows = "0310261553101,Lee,Ann\n" * 10_000  # 220 KB from under 1 KB: far more than 100 times
    path = gzipped(tmp_path / "small.csv.gz", f"F_HUSID,F_SURNAME,F_FNAMES\n{rows}".encode())
    assert 100 * path.stat().st_size < 220_000
    [(info, records)] = read(path)
    assert info.records == len(records) == 10_000


def zipped(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


SAMPLE = Path(__file__).resolve().parents[2] / "samples" / "extract.xml"


def declaring(data: bytes, *, members: int, directory: int | None = None, zip64: bool = False) -> bytes:
    """A zip (`data`, with no comment) whose end record says it holds `members` files in a central directory of
    `directory` bytes (as it is, if None): in the zip64 end record, the plain one's fields all saying "see there", if
    `zip64`. What it says, not what it holds: a directory that size would make the test file that size."""
    body, end = data[:-22], data[-22:]
    _sig, _disk, _start, _here, _total, size, offset, _comment = struct.unpack("<4s4H2LH", end)
    size = size if directory is None else directory
    if not zip64:
        return body + struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, members, members, size, offset, 0)
    record = struct.pack("<4sQ2H2L4Q", b"PK\x06\x06", 44, 45, 45, 0, 0, members, members, size, offset)
    locator = struct.pack("<4sLQL", b"PK\x06\x07", 0, len(body), 1)
    saying = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return body + record + locator + saying


@pytest.mark.parametrize(
    ("members", "directory", "zip64"),
    [(60_000, None, False), (1_500_000, None, True), (1, 8 << 20, False), (3, 200 << 20, True)],
    ids=["60,000 members", "1.5 million members (zip64)", "an 8 MiB directory", "a 200 MiB directory (zip64)"],
)
def test_a_zip_saying_it_holds_more_than_any_zip_of_extracts_is_refused_before_its_directory_is_read(
    tmp_path, monkeypatch, members, directory, zip64
):
    """review162 F2: zipfile reads the whole central directory into memory (some 650 bytes for each member) before
    the members can be counted: 1.5 million empty members (133 MB of zip) took 970 MB and 34 s before the zip was
    refused, and under a memory limit ended in "internal error" (exit 70). The end record says how many members
    and how long a directory there are: past MOST_MEMBERS or MOST_DIRECTORY, the zip is refused from that alone."""
    from register_batch.readers import MOST_DIRECTORY, MOST_MEMBERS, check_inputs_open

    path = tmp_path / "census.zip"
    one = zipped(path, {"extract.xml": SAMPLE.read_bytes()}).read_bytes()
    path.write_bytes(declaring(one, members=members, directory=directory, zip64=zip64))
    size = directory if directory is not None else struct.unpack("<L", one[-10:-6])[0]
    read_directories = []
    real = zipfile.ZipFile._RealGetContents
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lambda self: read_directories.append(1) or real(self))
    for reading in (lambda: read(path), lambda: check_inputs_open([str(path)])):
        with pytest.raises(UnusableInput) as caught:
            reading()
        assert str(caught.value) == (
            f"{path}: the zip file says it holds {members:,} file{'s' * (members > 1)} in a directory of {size:,} "
            f"bytes, more than register-batch reads (up to {MOST_MEMBERS:,} files and {MOST_DIRECTORY >> 20} MiB of "
            "directory; a zip of extracts holds a few): zip only the extracts, or give them on their own"
        )
    assert read_directories == []


def test_a_zip_of_more_members_than_are_read_is_refused_before_its_directory_is_read(tmp_path, monkeypatch):
    """A real zip, one more member than MOST_MEMBERS: refused from its end record, not after zipfile has read it."""
    from register_batch.readers import MOST_MEMBERS

    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("extract.xml", SAMPLE.read_bytes())
        for n in range(MOST_MEMBERS):
            archive.writestr(f"{n}", b"")
    read_directories = []
    real = zipfile.ZipFile._RealGetContents
    monkeypatch.setattr(zipfile.ZipFile, "_RealGetContents", lambda self: read_directories.append(1) or real(self))
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert str(caught.value).startswith(
        f"{path}: the zip file says it holds {MOST_MEMBERS + 1:,} files in a directory "
    )
    assert read_directories == []


def test_a_zip_holding_a_workbook_or_a_txt_csv_beside_its_extract_is_refused_naming_them(tmp_path):
    """review76 F1: only .xml and .csv members are read; a late starters' workbook or a CSV saved as .txt beside the
    extract was skipped, and the run said all 12 records were valid, its other trainees never read."""
    path = zipped(
        tmp_path / "census.zip",
        {"extract.xml": SAMPLE.read_bytes(), "late-starters.xlsx": b"PK\x03\x04", "more.txt": ROWS.encode()},
    )
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert str(caught.value) == (
        f"{path}: the zip file holds 2 files besides its extracts ('late-starters.xlsx', 'more.txt'): only the .xml "
        "and .csv files in a zip are read, and any trainees in the others would be left out; zip only the extracts "
        "(save a sheet as 'CSV UTF-8'), or give the files on their own"
    )


def test_a_zip_with_a_folders_litter_and_macos_forks_reads_its_extract(tmp_path):
    path = zipped(
        tmp_path / "census.zip",
        {
            "census/extract.xml": SAMPLE.read_bytes(),
            "census/.DS_Store": b"\x00\x00\x00\x01Bud1",
            "census/Thumbs.db": b"\xd0\xcf\x11\xe0",
            "__MACOSX/census/._extract.xml": b"\x00\x05\x16\x07",
        },
    )
    [(info, records)] = read(path)
    assert info.path == f"{path}:census/extract.xml" and info.records == len(records) == 12


def test_a_zip_from_windows_powershell_with_backslashed_names_reads_past_its_folder_and_litter(tmp_path):
    """review77 F2: Compress-Archive of Windows PowerShell 5.1 names members `census\\extract.xml`; its folder entry
    `census\\` and `census\\Thumbs.db` were refused as files beside the extract."""
    path = zipped(
        tmp_path / "census.zip",
        {"census\\": b"", "census\\extract.xml": SAMPLE.read_bytes(), "census\\Thumbs.db": b"\xd0\xcf\x11\xe0"},
    )
    [(info, records)] = read(path)
    assert info.path == f"{path}:census\\extract.xml" and len(records) == 12


def test_a_zip_with_an_office_lock_file_or_finders_icon_reads_its_extract(tmp_path):
    """review77 F3: LibreOffice's lock of a CSV open in Calc, and Finder's `Icon\\r` and `.localized`, are no
    extracts to refuse the zip over."""
    path = zipped(
        tmp_path / "census.zip",
        {
            "extract.xml": SAMPLE.read_bytes(),
            ".~lock.late-starters.csv#": b"Jo Bloggs,host,2026",
            "Icon\r": b"",
            ".localized": b"",
        },
    )
    [(_info, records)] = read(path)
    assert len(records) == 12


def test_a_zip_of_no_extract_names_the_files_it_holds(tmp_path):
    path = zipped(tmp_path / "census.zip", {"extract.txt": ROWS.encode()})
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert str(caught.value) == f"{path}: the zip file holds no .xml or .csv extract (only 'extract.txt')"


@pytest.mark.parametrize("kind", ["plain", "gzip", "zip"])
def test_check_inputs_open_opens_each_input_once(tmp_path, monkeypatch, kind):
    """It opened a plain file twice (its first byte, then its first four to tell a zip or gzip file) and a zip three
    times: once is enough to say all it says."""
    from register_batch.readers import check_inputs_open

    path = tmp_path / "extract.xml"
    if kind == "gzip":
        path = tmp_path / "extract.xml.gz"
        path.write_bytes(gzip.compress(SAMPLE.read_bytes()))
    elif kind == "zip":
        path = zipped(tmp_path / "census.zip", {"extract.xml": SAMPLE.read_bytes()})
    else:
        path.write_bytes(SAMPLE.read_bytes())
    opened: list[str] = []
    real_open = os.open

    def counted(file, *args, **kwargs):
        opened.append(os.fsdecode(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(os, "open", counted)
    assert check_inputs_open([str(path)]) == [str(path)]
    monkeypatch.undo()
    assert opened.count(str(path)) == 1, opened


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"", "the file is empty"),
        (None, "the zip file holds no .xml or .csv extract (only 'extract.txt')"),
        (b"PK\x03\x04 not a zip at all", "damaged zip file (File is not a zip file)"),
    ],
    ids=["empty", "a zip of no extract", "a damaged zip"],
)
def test_check_inputs_open_says_what_reading_would(tmp_path, content, said):
    from register_batch.readers import check_inputs_open

    path = tmp_path / "census.zip"
    if content is None:
        zipped(path, {"extract.txt": ROWS.encode()})
    else:
        path.write_bytes(content)
    with pytest.raises(UnusableInput) as caught:
        check_inputs_open([str(path)])
    assert str(caught.value) == f"{path}: {said}"
