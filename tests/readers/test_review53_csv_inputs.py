"""A data officer's bad CSV inputs (review53 F2-F6), through `register-batch validate` as they ran it: the exit code,
the one error line, and what the report says. Each file is made in the test from the samples."""

from __future__ import annotations

import gzip
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.mapping import load_mapping
from register_batch.readers import open_inputs

SAMPLES = Path(__file__).parents[2] / "samples"
AS_OF = "2026-11-28"


def validate(path: Path, *options: str):
    """`register-batch validate PATH`: its exit code, its output lines, and report.json (None when none was written)."""
    reports = path.parent / f"reports-{path.stem}"
    result = CliRunner().invoke(
        cli, ["validate", str(path), "--as-of", AS_OF, "--report-dir", str(reports), *options], catch_exceptions=False
    )
    report = reports / "report.json"
    return result.exit_code, result.output.splitlines(), json.loads(report.read_text()) if report.exists() else None


def sample_lines(name: str) -> list[str]:
    return (SAMPLES / name).read_text(encoding="utf-8").splitlines()


def read_whole_but_for_lost_letters(code: int, report: dict, encoding: str) -> bool:
    """Every record read; the only errors of a Windows-1252 save are the sample's two Wiśniewskis, whose ś it cannot
    hold and writes as `?` (lost_letter, review156 F2); a UTF-8 file has none."""
    errors = sorted((i["record"], i["value"], i["code"]) for i in report["issues"] if i["severity"] == "error")
    lost = [(7, "Wi?niewski", "lost_letter"), (11, "Wi?niewski", "lost_letter")] if encoding == "cp1252" else []
    return (code, report["summary"]["records"], errors) == (1 if lost else 0, 12, lost)


def data_cells(line: str) -> list[str]:
    """The values of a trainee's row that would show it was quoted: each of three characters or more."""
    return [cell.lstrip("'") for cell in line.split(",") if len(cell.lstrip("'")) >= 3]


def assert_no_cell_shown(output: list[str], row: str, path: Path) -> None:
    """The file's own name is taken out first: pytest's numbered folder (pytest-202) holds short cells like "202"."""
    text = "\n".join(output).replace(str(path), "FILE")
    shown = [cell for cell in data_cells(row) if cell in text]
    assert not shown, shown


# F2: a trainee's row read as a header is not copied into the error line.


@pytest.mark.parametrize(
    ("sample", "fmt", "cells"),
    [("extract.csv", "hesa-csv", 91), ("register.csv", "register-csv", 51)],
)
def test_a_csv_without_its_header_row_is_named_so_and_no_cell_of_its_first_row_is_shown(tmp_path, sample, fmt, cells):
    """The header row left out, the format given (as "cannot tell the format" advised): the first trainee's HUSID,
    SRS id and date of birth were listed as "unknown column headers" on stderr (a Register CSV: "column 6 has a blank
    header")."""
    lines = sample_lines(sample)
    path = tmp_path / "nohdr.csv"
    path.write_text("\n".join(lines[1:]) + "\n")
    code, output, report = validate(path, "--format", fmt)
    assert code == 2 and report is None
    assert output == [
        f"register-batch: error: {path}, line 1: names none of {fmt}'s columns ({cells} cells; it looks like a "
        "trainee's row): is the header row missing?"
    ]
    assert_no_cell_shown(output, lines[1], path)
    code, output, _report = validate(path)  # the format told from the file
    assert code == 2
    assert output == [
        f"register-batch: error: {path}, line 1: cannot tell the format: this looks like a trainee's row ({cells} "
        "cells), not a header: is the header row missing?"
    ]


@pytest.mark.parametrize(
    ("sample", "fmt", "cells"),
    [("register.csv", "register-csv", 51), ("extract.csv", "hesa-csv", 91)],
)
@pytest.mark.parametrize("given", [False, True], ids=["told from the file", "format given"])
def test_a_trainees_row_above_the_header_is_not_shown(tmp_path, sample, fmt, cells, given):
    """A row pasted above the header: its SRS id, HUSID and the start of a first name were quoted."""
    lines = sample_lines(sample)
    path = tmp_path / "above.csv"
    path.write_text("\n".join([lines[3], lines[0], *lines[1:3], *lines[4:]]) + "\n")
    code, output, report = validate(path, *(["--format", fmt] if given else []))
    assert code == 2 and report is None
    assert output == [
        f"register-batch: error: {path}, line 1: line 1 is not a header (it looks like a trainee's row, {cells} "
        f"cells), but line 2 is one of {fmt}'s: a CSV's header must be its first line (move that row below the header)"
    ]
    assert_no_cell_shown(output, lines[3], path)


def test_a_line_above_the_header_with_what_may_be_data_is_not_quoted(tmp_path):
    """A line that is no trainee's row is quoted (test_csv.py: a title, `sep=,`), but not one with a date or a long
    number in it."""
    path = tmp_path / "title.csv"
    path.write_text("Trainees of 2601847276218\n" + "\n".join(sample_lines("register.csv")) + "\n")
    code, output, _report = validate(path)
    assert code == 2
    assert output == [
        f"register-batch: error: {path}, line 1: line 1 is not a header (not shown: it may hold a trainee's data), "
        "but line 2 is one of register-csv's: a CSV's header must be its first line (delete the line above it)"
    ]


def test_an_unknown_column_that_looks_like_a_value_is_told_by_its_number(tmp_path):
    """A header with a trainee's value in it: the column names are quoted, the value is not."""
    path = tmp_path / "srs.csv"
    path.write_text("F_HUSID,F_FNAMES,SRS Notes,2601847276218,1998-09-28\n2601200000017,Ann,x,y,z\n")
    code, output, _report = validate(path, "--format", "hesa-csv")
    assert code == 2
    assert output == [
        f"register-batch: error: {path}, line 1: unknown column header 'SRS Notes', and columns 4, 5 of the header "
        "hold what look like values, not column names (not shown) for hesa-csv: correct a misspelt name, or remove "
        "the column or list it under `fields: hesa: ignored:` in a mapping file (docs/mappings.md)"
    ]


# F3: a Mac Roman CSV is refused, not read as Windows-1252.


def test_a_mac_roman_csv_with_cr_line_ends_is_refused_on_the_line_of_its_first_such_byte(tmp_path):
    """Excel for Mac's 'CSV (Macintosh)': "Zoë" was read as "Zo‘" and sent to Register, exit 0."""
    text = "\n".join(sample_lines("register.csv")).replace("Abena", "Zoë Renée", 1)
    path = tmp_path / "mac.csv"
    path.write_bytes(text.replace("\n", "\r").encode("mac_roman", "replace"))  # as the review made it
    code, output, report = validate(path)
    assert code == 2 and report is None
    assert output == [
        f"register-batch: error: {path}, line 2: Mac Roman text, as Excel for Mac's 'CSV (Macintosh)' saves it (old "
        "Mac line ends, CR alone): read as Windows-1252 its accented letters would be garbled (the byte 0x91 on this "
        "line is 'ë' in Mac Roman, '‘' in Windows-1252); save it as 'CSV UTF-8' and give that file"
    ]


@pytest.mark.parametrize(
    ("encoding", "end"),
    [("cp1252", "\r\n"), ("cp1252", "\n"), ("utf-8", "\r")],
    ids=["cp1252 CRLF", "cp1252 LF", "UTF-8 CR"],
)
def test_windows_1252_with_windows_line_ends_and_utf8_with_cr_line_ends_are_still_read(tmp_path, encoding, end):
    text = "\n".join(sample_lines("register.csv")).replace("Abena", "Zoë Renée", 1)
    path = tmp_path / "fine.csv"
    path.write_bytes(text.replace("\n", end).encode(encoding, "replace") + end.encode())
    code, _output, report = validate(path)
    assert read_whole_but_for_lost_letters(code, report, encoding)


# F5: a line break or a Unicode space at a cell's edge is an untrimmed value.


def test_a_line_break_or_a_unicode_space_at_a_cells_edge_is_an_untrimmed_value(tmp_path):
    """A quoted email ending in a line break, an em space before a first name and Word's manual line break (a vertical
    tab) after a surname were trimmed without a word."""
    lines = sample_lines("register.csv")
    email = lines[2].split(",")[9]
    lines[2] = lines[2].replace(email, f'"{email}\n"', 1)
    lines[3] = lines[3].replace("Jade", "\u2003Jade", 1).replace(",Gallagher,", ",Gallagher\x0b,", 1)
    path = tmp_path / "edges.csv"
    path.write_text("\n".join(lines) + "\n")
    code, _output, report = validate(path)
    assert code == 0
    [issue] = [issue for issue in report["issues"] if issue["code"] == "untrimmed_values"]
    cut = f"{email[:10]}…{email[-9:]}\n"  # review168 F8: a long value by its ends, where the spaces are
    assert issue["message"].startswith(
        # (record 3 is row 4 of a spreadsheet: the email's line break before it: review168 F2)
        f"3 values have spaces around (line 3, email {cut!r}; row 4 (line 5), first_names '\\u2003Jade'; row 4 "
        "(line 5), last_name 'Gallagher\\x0b'): "
    )


# F4: a quote Register's upload cannot read is an upload warning.


@pytest.mark.parametrize(
    ("cell", "warned"),
    [('La"ura', True), ('"La"ura"', True), ('"La"ura', True), ('"La""ura"', False), ('"Laura"', False)],
    ids=["in an unquoted cell", "inside a quoted cell", "after a quoted cell", "doubled in quotes", "quoted"],
)
def test_a_stray_quote_in_a_register_csv_is_an_upload_warning(tmp_path, cell, warned):
    """Register's upload (Ruby's strict CSV) refuses the whole file; Python's csv module reads the quote as a letter."""
    lines = sample_lines("register.csv")
    lines[2] = lines[2].replace(",Laura,", f",{cell},", 1)
    path = tmp_path / "quote.csv"
    path.write_text("\n".join(lines) + "\n")
    code, _output, report = validate(path)
    assert code == 0
    found = [issue for issue in report["issues"] if issue["code"] == "stray_quote"]
    if not warned:
        assert not found
        return
    [issue] = found
    assert issue["severity"] == "warning" and issue["record"] is None
    # review117 F3: a cell that opens with a quote is read without it and the one closing it (`"La"ura` as Laura).
    read = (
        "reads it as part of the value"
        if not cell.startswith('"')
        else 'drops the quote it opens with and the one closing it ("Bud" Kim is read as Bud Kim)'
    )
    assert issue["message"] == (
        "1 cell has a double quote (\") where Register's CSV upload allows none (first: line 3, first_names): "
        f'register-batch {read}, but Register refuses the whole file ("The selected file must '
        'be a CSV"); remove the quote, or put the whole cell in double quotes with each quote in it doubled ("")'
    )


def test_stray_quotes_of_both_kinds_are_each_said_as_read(tmp_path):
    """review117 F3: `"Bud" Kim` was said to be read with its quotes ("as part of the value") and sent as Bud Kim."""
    lines = sample_lines("register.csv")
    lines[1] = lines[1].replace(",Brown,", ',"Bud" Brown,', 1)
    lines[2] = lines[2].replace(",Laura,", ',La"ura,', 1)
    path = tmp_path / "quotes.csv"
    path.write_text("\n".join(lines) + "\n")
    code, _output, report = validate(path)
    assert code == 0
    [issue] = [issue for issue in report["issues"] if issue["code"] == "stray_quote"]
    assert issue["message"].startswith(
        "2 cells have a double quote (\") where Register's CSV upload allows none (first: line 2, last_name): "
        "register-batch reads a quote inside a cell as part of the value, and drops the quote a cell opens with and "
        'the one closing it ("Bud" Kim is read as Bud Kim), but Register refuses'
    )


# F6: what the line names.


@pytest.mark.parametrize("fmt", ["auto", "register-csv", "hesa-xml"])
@pytest.mark.parametrize("encoding", ["utf-32", "utf-32-be"], ids=["with BOM", "without BOM"])
def test_utf32_is_named_utf32(tmp_path, encoding, fmt):
    """Its byte-order mark starts as UTF-16's does: it was called "UTF-16 text (Excel's 'Unicode Text')"."""
    path = tmp_path / "wide.csv"
    path.write_bytes(((SAMPLES / "register.csv").read_text(encoding="utf-8")).encode(encoding))
    code, output, _report = validate(path, "--format", fmt)
    assert code == 2
    assert output == [f"register-batch: error: {path}: UTF-32 text: save it again as 'CSV UTF-8' (or the XML as UTF-8)"]


def test_an_empty_zip_file_is_named_so(tmp_path):
    path = tmp_path / "empty.zip"
    zipfile.ZipFile(path, "w").close()
    code, output, _report = validate(path)
    assert code == 2
    assert output == [f"register-batch: error: {path}: an empty zip file: it holds no extract; zip the extract itself"]


def test_a_zip_of_a_gzipped_extract_says_a_compressed_member_is_not_read(tmp_path):
    path = tmp_path / "extract.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("extract.xml.gz", gzip.compress((SAMPLES / "extract.xml").read_bytes()))
        archive.writestr("__MACOSX/._extract.xml.gz", b"\x00\x05\x16\x07")
    code, output, _report = validate(path)
    assert code == 2
    assert output == [
        f"register-batch: error: {path}: the zip file holds no .xml or .csv extract: 'extract.xml.gz' in it is "
        "compressed itself, and a compressed file inside a zip is not read; zip the extract itself, or give the "
        "compressed file on its own"
    ]


def test_a_csv_rewritten_as_xml_after_its_format_was_told_is_said_to_have_changed(tmp_path):
    """The file rewritten in place between format detection and reading (rarely caught by a run, so here in two
    steps): "the file is XML, not register-csv: give --format hesa-xml" was the wrong advice."""
    path = tmp_path / "extract.csv"
    path.write_bytes((SAMPLES / "register.csv").read_bytes())
    [(info, records)] = list(open_inputs([str(path)], "auto", load_mapping()))
    assert info.format == "register-csv"
    path.write_bytes((SAMPLES / "extract.xml").read_bytes())
    with pytest.raises(UnusableInput) as caught:
        list(records)
    assert caught.value.problem == "the file changed while it was being read; run again once it is complete"


def test_a_zip_of_an_extract_and_a_gzipped_one_is_refused_not_read_in_part(tmp_path):
    """The gzipped member beside a plain one was read past without a word: its trainees left out of the run, exit 0."""
    path = tmp_path / "extracts.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("extract.xml", (SAMPLES / "extract.xml").read_bytes())
        archive.writestr("more.xml.gz", gzip.compress((SAMPLES / "extract.xml").read_bytes()))
    code, output, _report = validate(path)
    assert code == 2
    assert output == [
        f"register-batch: error: {path}: the zip file holds 1 extract: 'more.xml.gz' in it is compressed itself, and "
        "a compressed file inside a zip is not read; zip the extract itself, or give the compressed file on its own"
    ]


@pytest.mark.parametrize(
    "names",
    [
        ("Zoë Renée", "Müller"),
        ("Élodie", "Ñúñez"),
        ("José", "O’Brien-Þórsdóttir"),
        ("Chloë", "D’Arcy O’Neill"),
    ],
    ids=[
        "small letters",
        "capitals first",
        "a curly apostrophe among letters",
        "two apostrophes between capitals",
    ],
)
def test_a_windows_1252_csv_with_cr_line_ends_is_read_as_windows_1252(tmp_path, names):
    """review55 F4: any file not UTF-8 with CR line ends was refused as Mac Roman, as FileMaker or LibreOffice's
    'Macintosh' line ends can write Windows-1252. Its letters are 0xC0-0xFF, which Mac Roman reads as symbols or
    capitals, so it is read as before."""
    first, surname = names
    text = "\n".join(sample_lines("register.csv")).replace("Abena", first, 1).replace("Brown", surname, 1)
    path = tmp_path / "cp1252_cr.csv"
    path.write_bytes(text.replace("\n", "\r").encode("cp1252", "replace"))
    code, _output, report = validate(path)
    assert read_whole_but_for_lost_letters(code, report, "cp1252")


def test_a_windows_1252_csv_with_cr_line_ends_and_an_apostrophe_between_capitals_is_read(tmp_path):
    """review117 F5: O’Brien's apostrophe (0x92) after a capital counted for Mac Roman, where it is 'í' (OíBrien), and
    outweighed Zoë's ë on the next row: the file was refused as Mac Roman. Between a letter and a capital it is
    Windows-1252's apostrophe (O’Neill, D’Arcy), as no name has a small í before a capital."""
    text = "\n".join(sample_lines("register.csv")[:4]).replace("Brown", "O’Brien", 1).replace("Laura", "Zoë", 1)
    path = tmp_path / "cp1252_cr_apostrophe.csv"
    path.write_bytes(text.replace("\n", "\r").encode("cp1252"))
    code, output, report = validate(path)
    assert code == 0 and report["summary"]["records"] == 3, output


def ctitle_of_first_row(title: str) -> str:
    """The HESA sample's first three trainees (all in ASCII), the first one's course title (F_CTITLE, a column that
    is not read) `title`."""
    lines = sample_lines("extract.csv")[:4]
    header, row = lines[0].split(","), lines[1].split(",")
    row[header.index("F_CTITLE")] = title
    return "\n".join([lines[0], ",".join(row), *lines[2:]])


@pytest.mark.parametrize("sign", ["£", "©", "±", "µ", "¢"])
def test_a_windows_1252_csv_with_cr_line_ends_whose_only_signs_read_the_same_in_mac_roman_is_read(tmp_path, sign):
    """review104 F4: no byte of the file read otherwise in Mac Roman than in Windows-1252, and a tie of evidence
    (none at all) counted as Mac Roman: refused, its message naming the byte 0xA3 as '£' in Mac Roman, '£' in
    Windows-1252. Every reading gives the same text, so the file is read."""
    path = tmp_path / "cp1252_pound_cr.csv"
    path.write_bytes(ctitle_of_first_row(f"PGCE Primary (fee {sign}9250)").replace("\n", "\r").encode("cp1252"))
    code, output, report = validate(path)
    assert code == 0 and report["summary"]["records"] == 3, output


def test_a_mac_roman_csv_is_refused_naming_a_byte_that_reads_otherwise_not_one_that_reads_the_same(tmp_path):
    """review104 F4: the message named the file's first byte that is not UTF-8, which may be one that reads the same
    in both (here '£' on line 2), and so contradicted itself; it names the first that does not, on its own line."""
    text = ctitle_of_first_row("PGCE Primary (fee £9250)").replace(",Natalie,", ",Zoë,", 1)
    assert "Zoë" in text.split("\n")[2]
    path = tmp_path / "mac_pound.csv"
    path.write_bytes(text.replace("\n", "\r").encode("mac_roman"))
    code, output, report = validate(path)
    assert code == 2 and report is None
    assert output == [
        f"register-batch: error: {path}, line 3: Mac Roman text, as Excel for Mac's 'CSV (Macintosh)' saves it (old "
        "Mac line ends, CR alone): read as Windows-1252 its accented letters would be garbled (the byte 0x91 on this "
        "line is 'ë' in Mac Roman, '‘' in Windows-1252); save it as 'CSV UTF-8' and give that file"
    ]


def test_a_mac_roman_csv_whose_letters_come_after_capitals_is_still_refused(tmp_path):
    """Mac Roman's accented capitals and small letters both read as letters in it, and as marks in Windows-1252."""
    text = "\n".join(sample_lines("register.csv")).replace("Abena", "Ömer Çelik", 1)
    path = tmp_path / "mac_capitals.csv"
    path.write_bytes(text.replace("\n", "\r").encode("mac_roman", "replace"))
    code, output, report = validate(path)
    assert code == 2 and report is None and "Mac Roman text" in output[0]
