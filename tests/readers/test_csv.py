"""Reading Register's bulk-add CSV (its own spec fixtures) and HESA-named CSV."""

from __future__ import annotations

import codecs
import csv
import re
from datetime import date
from pathlib import Path

import pytest

from register_batch.commands.common import OPTIONS
from register_batch.errors import UnusableInput
from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.mapping import load_mapping
from register_batch.readers import open_inputs


def read(path, fmt="auto"):
    [(info, records)] = list(open_inputs([str(path)], fmt, load_mapping()))
    rows = list(records)
    return info, rows


def test_register_template_fixture(register_csv_fixtures):
    info, rows = read(register_csv_fixtures / "five_trainees.csv")
    assert info.format == "register-csv" and info.records == 5
    first = rows[0].fields
    assert first["hesa_id"] == "7572897115906"  # one leading apostrophe stripped
    assert first["date_of_birth"] == "1967-12-06"
    assert first["sex"] == "11" and first["itt_qualification_aim"] == "004"
    assert first["ni_number"] is None
    assert [r.source.line for r in rows] == [2, 3, 4, 5, 6]


def test_mixed_case_headers(register_csv_fixtures):
    info, rows = read(register_csv_fixtures / "five_trainees_with_mixed_case_headers.csv")
    assert info.records == 5 and rows[0].fields["last_name"] == "Murphy"


def test_blank_rows_are_skipped_and_not_counted(register_csv_fixtures):
    info, rows = read(register_csv_fixtures / "three_trainees_with_blank_rows.csv")
    assert info.records == 3 and [r.source.record for r in rows] == [1, 2, 3]


def test_windows_1252_rows_and_odd_line_ends(register_csv_fixtures):
    _info, rows = read(register_csv_fixtures / "mixed_rows_encoding.csv")
    names = " ".join(str(r.fields.get("first_names")) + " " + str(r.fields.get("last_name")) for r in rows)
    assert "é" in names


def test_error_report_columns_are_ignored(register_csv_fixtures):
    info, rows = read(register_csv_fixtures / "failed_with_failed.csv")
    assert info.records == len(rows) > 0
    assert "errors" not in rows[0].fields


def test_an_error_reports_protected_cells_read_back_as_the_values_register_holds(tmp_path, register_csv_fixtures):
    """Register's error report writes a value it protects with a leading apostrophe with its quotes doubled
    (AddTraineeCsvValueSanitiser, hesa-formats.md §3.5, §5 item 32): read back, the value is the one Register holds,
    not one with twice its quotes. Only the report does this: register-batch's own CSV doubles nothing."""
    text = (register_csv_fixtures / "failed_with_failed.csv").read_text()
    assert ",Bruen," in text
    report = tmp_path / "report.csv"
    # The stored previous_last_name -Bruen "Jr" (formula-like, so protected), as Register's CSV.generate writes it.
    report.write_text(text.replace(",Bruen,", ',"\'-Bruen """"Jr""""",', 1))
    _info, rows = read(report)
    assert rows[0].fields["previous_last_name"] == '-Bruen "Jr"'
    assert rows[0].fields["hesa_id"] == "7722480827494" and rows[0].fields["last_name"] == "Kub"

    template = (register_csv_fixtures / "five_trainees.csv").read_text()
    assert ",Heidenreich," in template
    plain = tmp_path / "plain.csv"  # the same cell in a file that is not Register's report: one apostrophe off only
    plain.write_text(template.replace(",Heidenreich,", ',"\'-Bruen """"Jr""""",', 1))
    _info, rows = read(plain)
    assert rows[0].fields["previous_last_name"] == '-Bruen ""Jr""'


def test_latin1_header_is_an_unknown_column(register_csv_fixtures):
    with pytest.raises(UnusableInput, match="unknown column header 'Ápplication ID'"):
        read(register_csv_fixtures / "mixed_headers_encoding.csv")


def test_missing_column_is_a_file_warning(register_csv_fixtures):
    info, _rows = read(register_csv_fixtures / "five_trainees_with_missing_column.csv")
    assert [(i.code, i.line, i.record) for i in info.issues] == [("missing_columns", 1, None)]
    [issue] = info.issues
    assert issue.message.startswith("the header lacks 2 of the template's columns (hesa_id, sex): they are read as")


def test_one_missing_column_is_it_not_they(register_csv_fixtures, tmp_path):
    rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    path = tmp_path / "no_iqts_country.csv"
    path.write_text("\n".join(line.rsplit(",", 1)[0] for line in rows) + "\n")  # the last column dropped
    info, _rows = read(path)
    [issue] = [i for i in info.issues if i.code == "missing_columns"]
    assert issue.message.startswith("the header lacks 1 of the template's columns (")
    assert "): it is read as blank, and Register's own CSV upload would reject this file" in issue.message


def _five_trainees_repeated(fixture: Path, target: Path, size: int) -> None:
    """Register's own five_trainees.csv with its rows repeated until the file is at least `size` bytes."""
    header, *rows = fixture.read_text().splitlines(keepends=True)
    body = "".join(rows)
    target.write_text(header + body * (-(-(size - len(header)) // len(body))))


def test_a_csv_of_more_than_4_mib_of_rows_is_read_whole(tmp_path, register_csv_fixtures):
    """4 MiB is the most one row may span (an unclosed quote runs on): each row counts from its own start, so a file
    of many rows, over 4 MiB in all, gives every one of them."""
    big = tmp_path / "big.csv"
    _five_trainees_repeated(register_csv_fixtures / "five_trainees.csv", big, (4 << 20) + 1)
    rows_written = len(big.read_text().splitlines()) - 1
    info, rows = read(big)
    assert info.records == len(rows) == rows_written
    assert rows[-1].source.line == rows_written + 1


def test_a_register_csv_over_1_mb_is_read_with_a_warning_that_registers_upload_refuses_it(
    tmp_path, register_csv_fixtures
):
    """Register refuses an upload over 1 MB before reading a row (hesa-formats.md §3.2 item 3), so `validate` must
    not pass such a file as clean."""
    big = tmp_path / "big.csv"
    _five_trainees_repeated(register_csv_fixtures / "five_trainees.csv", big, (1 << 20) + 1)
    info, rows = read(big)
    assert info.records == len(rows) > 5
    [issue] = info.issues
    assert (issue.code, issue.severity.value) == ("too_large_for_upload", "warning")
    assert f"{big.stat().st_size:,} bytes" in issue.message and "smaller than 1MB" in issue.message
    fits = tmp_path / "fits.csv"
    _five_trainees_repeated(register_csv_fixtures / "five_trainees.csv", fits, 900_000)
    assert read(fits)[0].issues == []


def test_a_register_csv_of_exactly_1_mib_fits_registers_upload_and_one_byte_more_does_not(
    tmp_path, register_csv_fixtures
):
    """Register refuses a file over `1.megabyte` (hesa-formats.md §3.2 item 3): 1,048,576 bytes still fit. Blank lines
    (skipped rows) make up the size exactly."""
    path = tmp_path / "exact.csv"
    _five_trainees_repeated(register_csv_fixtures / "five_trainees.csv", path, 1_040_000)
    text = path.read_text()
    path.write_text(text + "\n" * ((1 << 20) - len(text.encode())))
    assert path.stat().st_size == 1 << 20 and read(path)[0].issues == []
    path.write_text(path.read_text() + "\n")
    assert [issue.code for issue in read(path)[0].issues] == ["too_large_for_upload"]


def test_a_large_hesa_csv_gets_no_upload_warning(tmp_path):
    path = tmp_path / "hesa.csv"
    path.write_text("F_HUSID,F_SURNAME,F_FNAMES\n" + "0310261553101,George,Dave\n" * 40_000)
    assert read(path)[0].issues == []


def test_a_register_csv_header_ending_in_a_comma_is_read_with_a_warning(tmp_path, register_csv_fixtures):
    """Register's upload refuses any blank header, a trailing comma's included, as "structural issues"
    (hesa-formats.md §3.2 item 5); register-batch reads past it, but must say the upload would fail."""
    header, *rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines(keepends=True)
    path = tmp_path / "trailing.csv"
    path.write_text(header.rstrip("\n") + ",\n" + "".join(rows))
    info, rows = read(path)
    assert info.records == 5 and rows[0].fields["hesa_id"] == "7572897115906"
    [issue] = info.issues
    assert (issue.code, issue.severity.value, issue.line) == ("blank_header", "warning", 1)
    assert "column 52 has a blank header" in issue.message and "structural issues" in issue.message


def test_a_spreadsheets_blank_columns_after_the_header_are_read_past_with_one_warning(tmp_path, register_csv_fixtures):
    """A spreadsheet saves every column of its used range: columns once typed in and cleared come back as commas after
    the last header, on every row."""
    header, *rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    path = tmp_path / "excel.csv"
    path.write_text("\n".join(line + ",,," for line in (header, *rows)) + "\n")
    info, rows = read(path)
    assert info.records == 5 and all(not row.problems for row in rows)
    [issue] = info.issues
    assert (issue.code, issue.line) == ("blank_header", 1)
    assert "columns 52-54 have blank headers" in issue.message and "reads past them" in issue.message


def test_a_value_under_a_blank_header_is_its_rows_error_not_dropped(tmp_path, register_csv_fixtures):
    header, *rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    path = tmp_path / "stray.csv"
    path.write_text("\n".join([header + ",,", rows[0] + ",,Smith", *(row + ",," for row in rows[1:])]) + "\n")
    info, rows = read(path)
    assert info.records == 5
    assert rows[0].problems == [(None, "row has a value in column 53, which has no header (extra commas?)")]
    assert all(not row.problems for row in rows[1:])


@pytest.mark.parametrize("cell", ['""', '"  "', "NULL", "null", "'", "' "])
def test_no_value_under_a_blank_header_is_no_error(tmp_path, register_csv_fixtures, cell):
    """What the reader takes for no value under a named column (blank, quoted blank, a bare NULL as SRS exports
    write it, a lone apostrophe) is none under a blank one either: an SQL export's unnamed column of NULLs made
    every record an error, where before it was read past as the comma after the last name is."""
    header, *rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    path = tmp_path / "unnamed.csv"
    path.write_text("\n".join([header + ",", *(row + "," + cell for row in rows)]) + "\n")
    info, rows = read(path)
    assert info.records == 5 and [row.problems for row in rows] == [[]] * 5


def test_protected_text_under_a_blank_header_is_a_value(tmp_path, register_csv_fixtures):
    """In Register's CSV `'NULL` is the text NULL (a surname): a value, which nobody can place."""
    header, *rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    path = tmp_path / "unnamed.csv"
    path.write_text("\n".join([header + ",", rows[0] + ",'NULL", *(row + "," for row in rows[1:])]) + "\n")
    _info, rows = read(path)
    assert rows[0].problems == [(None, "row has a value in column 52, which has no header (extra commas?)")]
    assert all(not row.problems for row in rows[1:])


def test_no_value_under_a_blank_header_of_a_hesa_csv_is_no_error(tmp_path):
    path = tmp_path / "hesa.csv"
    path.write_text("F_HUSID,F_SURNAME,F_FNAMES,\n2601200000017,George,Dave,NULL\n2601200000025,Lee,Ann,'NULL\n")
    info, rows = read(path, "hesa-csv")
    assert info.records == 2 and [row.problems for row in rows] == [[], []]


def test_a_blank_header_before_the_last_named_column_is_refused(tmp_path, register_csv_fixtures):
    header, *rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    path = tmp_path / "hole.csv"
    path.write_text("\n".join([header.replace(",hesa_id,", ",,", 1), *rows]) + "\n")
    with pytest.raises(UnusableInput, match="column 3 has a blank header") as caught:
        read(path, "register-csv")
    assert caught.value.line == 1


@pytest.mark.parametrize(
    ("separator", "named", "origin"),
    [(";", "semicolons", "European language"), ("\t", "tabs", "Tab delimited")],
)
@pytest.mark.parametrize("fmt", ["auto", "register-csv"])
def test_a_csv_separated_by_semicolons_or_tabs_is_named_so(
    tmp_path, register_csv_fixtures, separator, named, origin, fmt
):
    """Read with commas, its header is one cell of every column name: say what it is, not 'cannot tell the format'
    or a 3,000-character 'unknown column header'."""
    lines = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    path = tmp_path / "locale.csv"
    path.write_text("\n".join(line.replace(",", separator) for line in lines) + "\n")
    with pytest.raises(UnusableInput) as caught:
        read(path, fmt)
    message = str(caught.value)
    assert f"the cells are separated by {named}, not commas" in message and origin in message
    assert "'CSV UTF-8 (Comma delimited)'" in message and caught.value.line == 1 and len(message) < 250


@pytest.mark.parametrize(
    ("header", "fmt", "said"),
    [
        ("hesa_id;first_names", "register-csv", "separated by semicolons"),
        ("F_HUSID\tF_FNAMES", "hesa-csv", "separated by tabs"),
        ("husid;FNAMES", "hesa-csv", "separated by semicolons"),  # names as the format reads them, any case or F_
        ("hesa_id;nickname", "register-csv", "unknown column header 'hesa_id;nickname'"),  # one part no column
        # commas already: a column name with semicolons in it (detect mutant 42)
        ("SRS ref; internal; not sent,F_HUSID,F_FNAMES", "hesa-csv", "unknown column header 'SRS ref; internal; not"),
    ],
)
def test_a_two_column_csv_separated_by_semicolons_or_tabs_is_named_so_when_its_format_is_given(
    tmp_path, header, fmt, said
):
    """Two labels split by one separator could be a column name with a semicolon in it; when both are columns of the
    format given, the file is a two-column extract a spreadsheet saved with semicolons or tabs. In a header that
    commas already split, a name with semicolons in it is only a name."""
    path = tmp_path / "two.csv"
    path.write_text(header + "\n" + "0310261553101;Ann\n")
    with pytest.raises(UnusableInput, match=said) as caught:
        read(path, fmt)
    assert caught.value.line == 1


@pytest.mark.parametrize(
    ("first_line", "fmt"),
    [
        ("F_HUSID,F_SURNAME,F_FNAMES," + ",".join(f"F_{'X' * 5000}{n}" for n in range(12)), "hesa-csv"),
        ("F_HUSID,F_SURNAME,F_FNAMES," + "F_" + "Y" * 5000 + ",F_" + "Y" * 5000, "auto"),
    ],
    ids=["long-unknown-columns", "long-duplicate-column"],
)
def test_a_very_long_column_name_is_cut_short_in_the_error_line(tmp_path, first_line, fmt):
    """The error quoted each unknown (or repeated) column whole, as long as the columns (tens of kilobytes); a one-line
    XML export read as CSV, whose first line is one 'column', gave an error line as long as the file (a megabyte: it
    is now named as XML, test_an_xml_file_given_as_a_csv_is_named_as_xml)."""
    path = tmp_path / "long.csv"
    path.write_text(first_line + "\n0310261553101,George,Dave\n")
    with pytest.raises(UnusableInput) as caught:
        read(path, fmt)
    message = str(caught.value)
    assert len(message) < 1200 and caught.value.line == 1, len(message)
    assert ("unknown column header" in message or "duplicate column header" in message) and "…" in message


def test_a_hesa_csv_separated_by_tabs_is_named_so(tmp_path):
    path = tmp_path / "hesa.tsv"
    path.write_text("F_HUSID\tF_SURNAME\tF_FNAMES\n0310261553101\tGeorge\tDave\n")
    with pytest.raises(UnusableInput, match="separated by tabs"):
        read(path)


def test_register_batch_columns_in_a_register_csv_are_read_with_a_warning(tmp_path, register_csv_fixtures):
    """middle_names, training_partner_ukprn and the withdrawal and deferral columns are register-batch's own: Register's
    upload refuses a header that is not exactly its template's (hesa-formats.md §3.2 item 6)."""
    header, *rows_text = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    path = tmp_path / "extended.csv"
    path.write_text("\n".join([header + ",middle_names,Withdrawal_Date", *(row + ",Jo," for row in rows_text)]) + "\n")
    info, rows = read(path)
    assert rows[0].fields["middle_names"] == "Jo"
    [issue] = info.issues
    assert (issue.code, issue.severity.value, issue.line) == ("extra_columns", "warning", 1)
    assert "'middle_names', 'Withdrawal_Date'" in issue.message and "extra columns" in issue.message
    assert "the header has 2 columns that" in issue.message and "register-batch reads them," in issue.message
    path.write_text("\n".join([header + ",middle_names", *(row + ",Jo" for row in rows_text)]) + "\n")
    [issue] = read(path)[0].issues
    assert "the header has 1 column that Register's template does not ('middle_names'): register-batch reads it," in (
        issue.message
    )


@pytest.mark.parametrize("ignored", ["'SRS notes'", "'application_id', 'SRS notes'"])
def test_a_column_a_mapping_file_ignores_in_a_register_csv_is_named_as_one_registers_upload_refuses(
    tmp_path, register_csv_fixtures, ignored
):
    """A column the user's mapping file lists under `ignored` (an SRS's notes) is read and dropped, but Register's own
    upload refuses the file for it as for any column its template lacks (§3.2 item 6): validate, the check before that
    upload, said nothing. Register's error report's own two columns, also ignored, still give no warning; nor does a
    template column a mapping ignores, which Register's upload takes (it was named as extra, and as missing)."""
    header, *rows_text = (register_csv_fixtures / "failed_with_failed.csv").read_text().splitlines()
    path = tmp_path / "notes.csv"
    path.write_text("\n".join([header + ",SRS notes", *(row + ",call back" for row in rows_text)]) + "\n")
    user = tmp_path / "ours.yaml"
    user.write_text(f"fields:\n  register-csv:\n    ignored: [{ignored}]\n")
    [(info, records)] = list(open_inputs([str(path)], "auto", load_mapping([user])))
    assert len(list(records)) == 5
    [issue] = info.issues
    assert (issue.code, issue.line) == ("extra_columns", 1)
    assert "the header has 1 column that Register's template does not ('SRS notes')" in issue.message


def test_a_register_csv_as_register_batch_writes_it_gets_no_header_warning(tmp_path, register_csv_fixtures):
    """Register's error report (its two extra columns are Register's own) and the template itself are uploadable."""
    assert read(register_csv_fixtures / "failed_with_failed.csv")[0].issues == []
    assert read(register_csv_fixtures / "five_trainees.csv")[0].issues == []


def test_spaces_around_register_csv_values_are_trimmed_with_a_warning(tmp_path, register_csv_fixtures):
    """Register's CSV import does not trim values, and looks codes up exactly (hesa-formats.md §3.3, §5 item 26): an
    SRS export padding `'11` to `'11 ` fails there. register-batch trims, so validate must say the upload would not."""
    text = (register_csv_fixtures / "five_trainees.csv").read_text()
    assert text.count(",'11,") >= 2 and text.count(",Spencer,") == 1
    path = tmp_path / "padded.csv"
    path.write_text(text.replace(",'11,", ",'11  ,").replace(",Spencer,", ", Spencer,"))
    info, rows = read(path)
    assert rows[0].fields["sex"] == "11" and rows[0].fields["first_names"] == "Spencer"
    [issue] = info.issues
    assert (issue.code, issue.severity.value) == ("untrimmed_values", "warning")
    padded = text.count(",'11,") + 1
    assert f"{padded} values have spaces around" in issue.message
    assert "line 2, first_names ' Spencer'" in issue.message and "Register's CSV upload does not" in issue.message
    assert read(register_csv_fixtures / "five_trainees.csv")[0].issues == []
    first = tmp_path / "first.csv"  # the row's first cell; spaces inside a name, or a blank cell of spaces, are fine
    first.write_text(
        text.replace("\n24/25-1,", "\n 24/25-1,", 1).replace(",Spencer,", ",Spencer Jo,").replace(",,", ", ,")
    )
    [issue] = read(first)[0].issues
    assert issue.message.startswith("1 value has spaces around (line 2, provider_trainee_id ' 24/25-1')")
    two = tmp_path / "two.csv"
    two.write_text(text.replace(",Spencer,", ",Spencer ,").replace(",Murphy,", ",Murphy ,"))
    [issue] = read(two)[0].issues
    assert issue.message.startswith(
        "2 values have spaces around (line 2, first_names 'Spencer '; line 2, last_name 'Murphy '):"
    )


def test_a_bare_null_in_a_register_csv_is_read_as_blank_with_the_uploads_warning(tmp_path, register_csv_fixtures):
    """review83 F1: SRS exports write NULL for no value, and register-batch reads it so; Register's CSV upload makes
    only a blank cell nil (hesa-formats.md §3.3, §5 item 31), so its NULL is an unknown ethnicity code, which fails
    the row and with it the file. validate said nothing of it. `'Null` is the text (a surname), as Register reads it;
    in a HESA-named CSV NULL is HESA's own no value (§1.4): no warning there."""
    text = (register_csv_fixtures / "five_trainees.csv").read_text()
    rows = list(csv.reader(text.splitlines()))
    header = rows[0]
    for row in rows[1:3]:
        row[header.index("ethnicity")] = "NULL"
        row[header.index("previous_last_name")] = " null "
    rows[3][header.index("last_name")] = "'Null"
    rows[3][header.index("ethnicity")] = "nuLL"  # any mix of cases, as register-batch reads it (review84 F6)
    path = tmp_path / "nulls.csv"
    with path.open("w", newline="") as out:
        csv.writer(out).writerows(rows)
    info, records = read(path)
    assert [records[0].fields["ethnicity"], records[0].fields["previous_last_name"]] == [None, None]
    assert records[2].fields["last_name"] == "Null"
    [issue] = [i for i in info.issues if i.code == "null_values"]
    assert issue.severity.value == "warning"
    assert issue.message == (
        "5 cells are NULL (first: line 2, previous_last_name): register-batch reads NULL as no value, but "
        "Register's CSV upload takes it as written, as an unknown code (failing the row, and with it the whole file) "
        "or the text NULL in a name"
    )
    assert [i.code for i in info.issues if i.code != "null_values"] == ["untrimmed_values"]  # " null " as well
    hesa = tmp_path / "hesa.csv"
    hesa.write_text("F_HUSID,F_SURNAME,F_ETHNIC\n2601847276218,Hughes,NULL\n")
    assert [i.code for i in read(hesa)[0].issues if i.code == "null_values"] == []


def test_only_validate_reports_what_registers_upload_would_refuse(tmp_path, register_csv_fixtures):
    """`validate` is the check before an upload; `convert` writes its own files, split to fit, and `sync` uses the
    API, where a big file or register-batch's own columns (withdrawals for sync) are no problem."""
    from datetime import date

    from register_batch.jobs import convert_files, validate_files

    # One file with all four: register-batch's own column, a comma after it (a blank header), a value with spaces
    # around, and over 1 MB.
    header, *rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    extended = [row + ",Jo," for row in rows]
    extended[0] = extended[0].replace(",Jo,", ", Jo,")
    path = tmp_path / "extended.csv"
    path.write_text("\n".join([header + ",middle_names,", *extended]) + "\n")
    _five_trainees_repeated(path, path, (1 << 20) + 1)
    upload_only = ["blank_header", "extra_columns", "too_large_for_upload", "untrimmed_values"]
    assert sorted(i.code for i in read(path)[0].issues) == upload_only
    as_of = date(2024, 11, 1)
    validated = validate_files([str(path)], as_of=as_of, report_dir=tmp_path / "v", jobs=1)
    assert all(f'"code": "{code}"' in validated.report_paths["json"].read_text() for code in upload_only)
    converted = convert_files([str(path)], to="jsonl", output=tmp_path / "out.jsonl", as_of=as_of)
    assert [converted.report.by_code[code] for code in upload_only] == [0, 0, 0, 0]
    assert converted.written > 5


def test_header_only_file_is_unusable(register_csv_fixtures):
    with pytest.raises(UnusableInput, match="no trainee rows"):
        read(register_csv_fixtures / "empty_file_with_headers.csv")


@pytest.mark.parametrize("content", [b"\xef\xbb\xbf", b"\x1a"], ids=["only a byte-order mark", "only Ctrl-Z"])
@pytest.mark.parametrize("fmt", ["register-csv", "hesa-csv"])
def test_a_file_of_no_line_given_as_a_csv_is_refused_as_empty(tmp_path, content, fmt):
    """Excel's "CSV UTF-8" of an empty sheet is its byte-order mark alone; a DOS copy of an empty file, its Ctrl-Z:
    bytes, but no line, so no header. Given with --format, the file is one clear refusal, not a crash."""
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    with pytest.raises(UnusableInput) as caught:
        read(path, fmt)
    assert str(caught.value) == f"{path}: the file is empty"


def test_utf8_bom_and_crlf(tmp_path, register_csv_fixtures):
    text = (register_csv_fixtures / "five_trainees.csv").read_text()
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
    info, rows = read(path)
    assert info.format == "register-csv" and rows[0].fields["provider_trainee_id"] == "24/25-1"


@pytest.mark.parametrize(
    "above,header,family,fmt",
    [
        ("sep=,", "hesa_id,first_names,last_name,sex", "register-csv", "auto"),
        ("sep=,", "hesa_id,first_names,last_name,sex", "register-csv", "register-csv"),
        ("Trainees for 2026", "F_HUSID,F_FNAMES,F_SURNAME,F_SEXID", "hesa-csv", "auto"),
        ("Trainees for 2026", "F_HUSID,F_FNAMES,F_SURNAME,F_SEXID", "hesa-csv", "hesa-csv"),
    ],
    ids=["Excel's sep= line", "Excel's sep= line, format given", "a title", "a title, format given"],
)
def test_a_line_above_the_header_is_named_with_the_header_found_below_it(tmp_path, above, header, family, fmt):
    """Excel's `sep=,` line, or a title, above the header: the advice was to give --format (the file's format could
    not be told) or to list 'sep=' under `ignored` in a mapping file (it was given), neither of which helps."""
    path = tmp_path / "above.csv"
    path.write_text(f"{above}\n{header}\n2201891202016,Ann,Lee,10\n")
    with pytest.raises(UnusableInput) as caught:
        read(path, fmt)
    assert caught.value.line == 1
    assert caught.value.problem == (
        f"line 1 ({above!r}) is not a header, but line 2 is one of {family}'s: a CSV's header must be its first line "
        "(delete the line above it)"
    )


@pytest.mark.parametrize("fmt", ["auto", "given"])
@pytest.mark.parametrize(
    "above",
    [("Report of trainees", ""), ("Report of trainees", "Run 2026-10-01"), ("Report of trainees,,,", ",,,")],
    ids=["a title and a blank line", "a title and a run date", "a title and a line of commas"],
)
@pytest.mark.parametrize(
    "header,family",
    [("hesa_id,first_names,last_name,sex", "register-csv"), ("F_HUSID,F_FNAMES,F_SURNAME,F_SEXID", "hesa-csv")],
)
def test_two_lines_above_the_header_are_named_with_the_header_found_below_them(tmp_path, fmt, above, header, family):
    """review117 F4: an SRS report's title and a blank line (or a run date) above the header: "cannot tell the
    format (use --format)", then, given it, "list it under `ignored`", which made the real header a record."""
    path = tmp_path / "above.csv"
    path.write_text("".join(f"{line}\n" for line in above) + f"{header}\n2201891202016,Ann,Lee,10\n")
    with pytest.raises(UnusableInput) as caught:
        read(path, family if fmt == "given" else fmt)
    assert caught.value.line == 1
    assert caught.value.problem == (
        f"line 1 ({above[0]!r}) is not a header, but line 3 is one of {family}'s: a CSV's header must be its first "
        "line (delete the 2 lines above it)"
    )


@pytest.mark.parametrize("fmt", ["auto", "given"])
@pytest.mark.parametrize(
    "above,said",
    [
        (
            ["2201891202016,Ann,Lee,10", "2201891202017,Bob,Ray,11"],
            "lines 1 and 2 are not a header (trainees' rows, by the look of them), but line 3 is one of "
            "register-csv's: a CSV's header must be its first line (move those rows below the header)",
        ),
        (
            ["Report of trainees", "2201891202017,Bob,Ray,11"],
            "line 2 is not a header (a trainee's row, by the look of it), but line 3 is one of register-csv's: a CSV's "
            "header must be its first line (move that row below the header, and delete the other lines above it)",
        ),
    ],
    ids=["two trainees' rows", "a title and a trainee's row"],
)
def test_trainees_rows_above_the_header_are_to_be_moved_not_deleted(tmp_path, fmt, above, said):
    """review121 F3: two trainees' rows above the header were "delete the 2 lines above it": two trainees dropped."""
    path = tmp_path / "above.csv"
    path.write_text("".join(f"{line}\n" for line in above) + "hesa_id,first_names,last_name,sex\n")
    with pytest.raises(UnusableInput) as caught:
        read(path, "register-csv" if fmt == "given" else fmt)
    assert caught.value.line == 1 and caught.value.problem == said


@pytest.mark.parametrize("fmt", ["auto", "register-csv"])
@pytest.mark.parametrize("separator,named", [(";", "semicolons"), ("\t", "tabs")])
def test_excels_sep_line_above_a_header_of_another_separator_is_named_with_both_fixes(tmp_path, fmt, separator, named):
    """`sep=;` above a header separated by semicolons: "cannot tell the format", or (format given) 'sep=;' called an
    unknown column to list under `ignored`."""
    path = tmp_path / "sep.csv"
    rows = ["hesa_id,first_names,last_name,sex", "2201891202016,Ann,Lee,10"]
    path.write_text(f"sep={separator}\n" + "".join(row.replace(",", separator) + "\n" for row in rows))
    with pytest.raises(UnusableInput) as caught:
        read(path, fmt)
    assert caught.value.line == 1
    assert caught.value.problem.startswith(
        f"line 1 ({'sep=' + separator!r}) is not a header, but line 2 is one of register-csv's: a CSV's header must be "
        f"its first line (delete the line above it); and the cells are separated by {named}, not commas ("
    )
    assert caught.value.problem.endswith("save it again as 'CSV UTF-8 (Comma delimited)'")


@pytest.mark.parametrize("one_line", [False, True], ids=["as HESA writes it", "on one line without a declaration"])
def test_an_xml_file_given_as_a_csv_is_named_as_xml(tmp_path, one_line):
    """`--format hesa-csv` given an XML extract: "unknown column header '<?xml version=...'" and advice to list it
    under `ignored` in a mapping file; an extract on one line gave its whole self as the column's name."""
    path = tmp_path / "extract.xml"
    generate(path, count=2, fmt="hesa-xml", seed=1, as_of=date(2026, 11, 28))
    if one_line:
        text = path.read_text()
        path.write_text(re.sub(r">\s+<", "><", text[text.index("<ITTRecord>") :]))
    for fmt in ("hesa-csv", "register-csv"):
        with pytest.raises(UnusableInput) as caught:
            read(path, fmt)
        assert caught.value.line == 1
        assert caught.value.worded(OPTIONS).endswith(
            f"the file is XML, not {fmt}: give --format hesa-xml, or leave it out to have the format told from the file"
        )


@pytest.mark.parametrize("made,given", [("register-csv", "hesa-csv"), ("hesa-csv", "register-csv")])
def test_a_csv_given_as_the_other_csv_format_is_named_as_that_format(tmp_path, made, given):
    """review76 F3: `--format hesa-csv` on Register's template listed its 51 columns as "unknown column headers" to
    correct or list under `ignored` in a mapping file; the XML case already said what the file is."""
    path = tmp_path / "extract.csv"
    generate(path, count=2, fmt=made, seed=1, as_of=date(2026, 11, 28))
    with pytest.raises(UnusableInput) as caught:
        read(path, given)
    assert caught.value.line == 1
    assert caught.value.worded(OPTIONS) == (
        f"{path}, line 1: the header is {made}'s, not {given}'s: give --format {made}, or leave it out to have the "
        "format told from the file"
    )


def test_a_header_of_mostly_unknown_columns_is_still_listed_as_unknown(tmp_path):
    path = tmp_path / "extract.csv"
    path.write_text("F_HUSID,F_SURNAME,Student Number,Start,Finish\n2601200000017,Lee,1,2,3\n")
    with pytest.raises(UnusableInput) as caught:
        read(path, "hesa-csv")
    assert "unknown column headers 'Student Number', 'Start', 'Finish' for hesa-csv" in str(caught.value)


@pytest.mark.parametrize("above", ["\r\n", "\n\n", ",,,,\n", " \n"], ids=["CRLF", "two LF", "commas", "a space"])
@pytest.mark.parametrize("fmt", ["auto", "hesa-csv"])
def test_a_blank_line_above_the_header_is_refused_saying_so(tmp_path, above, fmt):
    """Read as the header, it made every row after it a record of extra cells (the real header among them) under
    --format; without it, the line said only that the format could not be told."""
    path = tmp_path / "blank-first.csv"
    path.write_text(f"{above}F_HUSID,F_FNAMES,F_SURNAME,F_SEXID\n2201891202016,Ann,Lee,10\n", newline="")
    with pytest.raises(UnusableInput) as caught:
        read(path, fmt)
    assert (caught.value.line, caught.value.problem) == (
        1,
        "the first line is blank: a CSV's header must be its first line (delete the lines above it)",
    )


def test_duplicate_header(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text("hesa_id,first_names,last_name,hesa_id,sex\n1,a,b,1,11\n")
    with pytest.raises(UnusableInput, match="duplicate column header 'hesa_id' \\(columns 1 and 4\\)") as caught:
        read(path, "register-csv")
    assert caught.value.line == 1


@pytest.mark.parametrize(
    "header,row",
    [
        ("F_HUSID,F_FNAMES,F_SURNAME,F_SEXID", "2201891202016,Ann,Lee,10"),
        ("hesa_id,first_names,last_name,sex", "'2201891202016,Ann,Lee,'10"),
    ],
    ids=["hesa-csv", "register-csv"],
)
def test_a_header_repeated_part_way_down_two_joined_extracts_is_refused_at_its_line(tmp_path, header, row):
    """Two exports joined into one file (`cat a.csv b.csv`): the second header was read as a trainee, counted among
    the records with an error for each of its columns ('F_SEXID' is not a sex code...), and the rest sent."""
    path = tmp_path / "joined.csv"
    again = (header, f"\ufeff{header}", header.lower(), header.replace(",", ", "))  # a second BOM, as Excel saves it
    for second in again:
        path.write_bytes(f"\ufeff{header}\r\n{row}\r\n{second}\r\n{row.replace('Ann', 'Bea')}\r\n".encode())
        with pytest.raises(UnusableInput) as caught:
            read(path)
        assert caught.value.line == 3
        assert str(caught.value) == (
            f"{path}, line 3: the header again, as if two files were joined into one: give each extract as a file of "
            "its own (or delete the line)"
        )
    path.write_text(f"{header}\n{row}\n{header.replace(',', ',x')}\n")  # not the header: a row, with its errors
    info, rows = read(path)
    assert info.records == len(rows) == 2


@pytest.mark.parametrize(
    "second,message",
    [
        ("F_DEGCLSS_01", "'F_DEGCLSS_01' (columns 2 and 3; 'F_DEGCLSS_1' is the same field)"),
        ("F_DEGCLSS", "'F_DEGCLSS' (columns 2 and 3; 'F_DEGCLSS_1' is the same field)"),
    ],
)
def test_two_columns_for_one_field_of_a_degree_are_refused(tmp_path, second, message):
    # Read both, the later would silently replace the earlier: grade 02 would become 99.
    path = tmp_path / "hesa.csv"
    path.write_text(f"F_HUSID,F_DEGCLSS_1,{second},F_SURNAME\n0310261553101,02,99,Lee\n")
    with pytest.raises(UnusableInput, match=re.escape(f"duplicate column header {message}")):
        read(path, "hesa-csv")


def test_hesa_named_csv_with_and_without_prefix(tmp_path):
    path = tmp_path / "hesa.csv"
    path.write_text(
        "HUSID,F_SURNAME,fnames,F_PLMNTSCH_1,F_PLMNTSCH_2,F_DEGTYPE,DEGCLSS_2\n"
        "0310261553101,George,Dave,900000,100000,083,02\n"
    )
    info, [raw] = read(path)
    assert info.format == "hesa-csv"
    assert raw.fields["F_HUSID"] == "0310261553101" and raw.fields["F_FNAMES"] == "Dave"
    assert raw.fields["F_PLMNTSCH_2"] == "100000" and raw.fields["F_DEGCLSS_2"] == "02"  # a group column unprefixed


def test_a_header_of_labels_behind_apostrophes_is_told_by_its_labels(tmp_path):
    """A spreadsheet that kept each header cell as text ('F_HUSID) gives labels the reader takes one apostrophe off:
    the format is told from the labels as read, not left untold (detect mutant 193)."""
    path = tmp_path / "quoted.csv"
    path.write_text("'F_HUSID,'F_SURNAME,'F_FNAMES\n0310261553101,George,Dave\n")
    info, [raw] = read(path)
    assert info.format == "hesa-csv" and raw.fields["F_SURNAME"] == "George"


def test_a_hesa_named_csv_mostly_of_unprefixed_numbered_columns_is_recognised(tmp_path):
    """DEGTYPE_2 is F_DEGTYPE's second degree without its F_: a header mostly of such columns is a HESA-named CSV
    (detect mutant 211)."""
    columns = ["HUSID", "SURNAME", "FNAMES"] + [
        f"{tag}_{n}" for n in (1, 2) for tag in ("DEGTYPE", "DEGCLSS", "DEGEST")
    ]
    path = tmp_path / "degrees.csv"
    path.write_text(",".join(columns) + "\n" + ",".join(["0310261553101", "George", "Dave"] + [""] * 6) + "\n")
    info, [raw] = read(path)
    assert info.format == "hesa-csv" and raw.fields["F_SURNAME"] == "George"


def test_a_hesa_named_csv_mostly_of_numbered_and_withdrawal_columns_is_still_recognised(tmp_path):
    """A trainee with a fourth degree tonight must not make the whole file unreadable (exit 2 every night)."""
    groups = [f"F_{tag}_{n}" for n in range(1, 5) for tag in ("DEGTYPE", "DEGSBJ1", "DEGCLSS", "DEGEST", "DEGENDDT")]
    columns = ["F_HUSID", "F_SURNAME", "F_FNAMES", *groups, "WITHDRAWAL_DATE", "DEFER_DATE"]
    path = tmp_path / "wide.csv"
    path.write_text(",".join(columns) + "\n" + ",".join(["0310261553101", "George", "Dave"] + [""] * 22) + "\n")
    info, [raw] = read(path)
    assert info.format == "hesa-csv" and raw.fields["F_SURNAME"] == "George"


def test_cell_values_lose_spaces_one_apostrophe_and_null(tmp_path):
    path = tmp_path / "hesa.csv"
    path.write_text(
        "F_HUSID,F_SURNAME,F_FNAMES,F_SEXID,F_DOMICILE,F_NATION\n' 0310261553101 ,''Brien,' NULL ,null,,' \n"
    )
    _info, [raw] = read(path)
    assert raw.fields == {
        "F_HUSID": "0310261553101",  # apostrophe, then the spaces inside it
        "F_SURNAME": "'Brien",  # exactly one apostrophe is protective (hesa-formats.md §3.3)
        "F_FNAMES": None,
        "F_SEXID": None,
        "F_DOMICILE": None,
        "F_NATION": None,  # an apostrophe protecting nothing
    }


def test_in_registers_csv_an_apostrophe_keeps_null_as_the_text(tmp_path):
    """Register's CSV takes only a blank cell as no value (hesa-formats.md §5 item 31): `'Null` is the surname Null
    (export and convert write it so). A bare NULL is still blank, as SRS exports write it."""
    from register_batch.writers import register_template

    columns = list(register_template())
    values = dict.fromkeys(columns, "")
    values.update(last_name="'Null", first_names="NULL", previous_last_name="' null ")
    path = tmp_path / "register.csv"
    path.write_text(",".join(columns) + "\n" + ",".join(values[c] for c in columns) + "\n")
    info, [raw] = read(path)
    assert info.format == "register-csv"
    assert (raw.fields["last_name"], raw.fields["first_names"], raw.fields["previous_last_name"]) == (
        "Null",
        None,
        "null",
    )


def test_a_short_row_reads_its_missing_cells_as_absent(tmp_path):
    """In Register's CSV, as Register's upload reads it (hesa-formats.md §3.2 item 9); a HESA-named CSV's short row is
    the record's error besides (review151 F4: tests/readers/test_short_rows.py)."""
    path = tmp_path / "register.csv"
    path.write_text("hesa_id,last_name,first_names\n0310261553101,George\n")
    _info, [raw] = read(path, "register-csv")
    assert raw.fields == {"hesa_id": "0310261553101", "last_name": "George", "first_names": None}
    assert raw.problems == []
    path = tmp_path / "hesa.csv"
    path.write_text("F_HUSID,F_SURNAME,F_FNAMES\n0310261553101,George\n")
    _info, [raw] = read(path)
    assert raw.fields == {"F_HUSID": "0310261553101", "F_SURNAME": "George", "F_FNAMES": None}
    assert [said for _field, said in raw.problems] == [
        "row has 2 cells but the header has 3 columns (a missing cell moves every later value one column back, or the "
        "export leaves off a row's empty last cells: have it write every column)"
    ]


def split_rows(raws) -> list[tuple[int, bool]]:
    """(record, whether it is reported as half of a row a line break cut in two) per record."""
    return [(raw.source.record, any("cut one row in two" in text for _field, text in raw.problems)) for raw in raws]


def test_a_row_cut_in_two_by_a_line_break_in_an_unquoted_cell_is_an_error_on_both_halves(tmp_path):
    """Short rows are fine (Register takes them), so the first half passed as a record without its later cells (a
    placement, a degree) and sync created the trainee so; the second half was a junk record of its own."""
    path = tmp_path / "register.csv"
    header = "provider_trainee_id,first_names,last_name,placement_1_urn\n"
    path.write_text(header + "S1,Ann\nMarie,Smith,137470\nS2,Bob,Jones,101552\nS3,Cy\n")
    _info, raws = read(path, "register-csv")
    assert split_rows(raws) == [(1, True), (2, True), (3, False), (4, False)]  # S3 is a short row of its own
    [(_field, said)] = raws[0].problems
    assert said.startswith("lines 2 and 3 have 2 and 3 cells, the header's 4 columns and one more: a line break")
    assert raws[1].problems == raws[0].problems and raws[3].problems == []


def test_the_second_half_of_a_cut_row_is_not_paired_again_with_a_short_row_after_it(tmp_path):
    """A cut row's second half (3 cells) and the short row after it (2 cells) make the header's columns and one more
    too: the short row, a record of its own, was called the other half of the cut row's second half."""
    path = tmp_path / "register.csv"
    header = "provider_trainee_id,first_names,last_name,placement_1_urn\n"
    path.write_text(header + "S1,Ann\nMarie,Smith,137470\nS3,Cy\nS4,Di,Ng,101552\n")
    _info, raws = read(path, "register-csv")
    assert split_rows(raws) == [(1, True), (2, True), (3, False), (4, False)]
    assert len(raws[1].problems) == 1


@pytest.mark.parametrize(
    "rows",
    [
        "S1,Ann,Smith,Nige\nria\nS2,Bob,Jones,101552\n",
        "S1,Ann,Smith,Nige\r\nria\r\nS2,Bob,Jones,101552\r\n",
        "S1,Ann,Smith,Nige\rria\rS2,Bob,Jones,101552\r",
        "S1,Ann,Smith,Nige\nria\n\nS2,Bob,Jones,101552\n",  # a blank line after it: skipped, as ever
        "S1,Ann,Smith,\nNigeria\nS2,Bob,Jones,101552\n",  # the break before the cell's text
        "S0,Al,Li,1\nS1,Ann,Smith,Nige\nria\n",  # the file's last row
    ],
    ids=["LF", "CRLF", "CR", "blank line", "break first", "last row"],
)
def test_a_row_cut_in_two_in_its_last_column_is_an_error_on_both_halves_not_a_record_of_its_own(tmp_path, rows):
    """review104 F5: a break in the last column leaves its first half at full width, which was given at once; the
    second half (the rest of the last cell) was a record of its own, with a `required` error for every field, and
    nothing named the cause. The two halves make the header's columns and one more, as a break in any other column."""
    path = tmp_path / "register.csv"
    path.write_text("provider_trainee_id,first_names,last_name,placement_1_urn\n", newline="")
    with path.open("a", newline="") as fh:
        fh.write(rows)
    _info, raws = read(path, "register-csv")
    cut = [record for record, cut in split_rows(raws) if cut]
    first = 2 if rows.startswith("S0") else 1
    assert cut == [first, first + 1], split_rows(raws)
    assert len(raws) == 3
    [(_field, said)] = raws[first - 1].problems
    assert said.startswith(f"lines {first + 1} and {first + 2} have 4 and 1 cells, the header's 4 columns and one")
    assert raws[first].problems == raws[first - 1].problems


@pytest.mark.parametrize(
    "rows",
    [
        "S1,Ann\nS2,Bob\n",  # two short rows that do not make one
        "S1,Ann,Smith,137470\nS2,Bob,Jones\n",  # a full row, then a short one
        "S1,Ann\n\nS2,Bob,Jones,1\n",  # a short row, a blank line and a full row
        "S1,Ann\nS2,Bob,Jones,137470\nS3,Cy\n",  # a short row, a full row, then a short row
        "S1\nS2,Bob,Jones,137470\n",  # a row of one cell, then a full row
    ],
)
def test_short_rows_that_do_not_make_one_row_are_read_as_they_are(tmp_path, rows):
    path = tmp_path / "register.csv"
    path.write_text("provider_trainee_id,first_names,last_name,placement_1_urn\n" + rows)
    info, raws = read(path, "register-csv")
    assert not any(cut for _record, cut in split_rows(raws))
    assert [raw.source.record for raw in raws] == list(range(1, info.records + 1))  # every row, in order


@pytest.mark.parametrize(
    "rows", ["S1,Ann\nMarie,Smith,137470\n", "S1,Ann,Smith,13\n7470\n"], ids=["a middle column", "the last column"]
)
def test_a_cut_row_is_found_whichever_process_reads_each_half(tmp_path, rows):
    """Two processes read a large CSV's rows alternately (validation/parallel.py): each must find the cut in the
    half it reads, from the other half's cell count alone."""
    path = tmp_path / "register.csv"
    path.write_text("provider_trainee_id,first_names,last_name,placement_1_urn\n" + rows)
    halves = []
    for mine in (0, 1):
        [(info, records)] = list(open_inputs([str(path)], "register-csv", load_mapping()))
        info.select = lambda record, mine=mine: record % 2 == mine
        halves.append([raw for raw in records if raw.fields])
    assert [split_rows(half) for half in halves] == [[(2, True)], [(1, True)]]


@pytest.mark.parametrize(
    "rows",
    [
        "S1,Ann\nS2,Bo,Li,1\nS3,Cy,Lee,2\n",
        "S1,Ann\nS2,Bo,Li,1\nS3\nS4,Cy,Lee,2,\nS5,Di\n",  # a cut in the last column, a long row, a short one last
    ],
)
def test_every_process_gets_every_record_in_file_order_whichever_it_reads_in_full(tmp_path, rows):
    """Two processes read a CSV's rows alternately (validation/parallel.py) and pair each record with the other's
    results by its place in what the reader gives: a row held back to be seen with the next must not let a row after
    it out first, in either process; and each process finds the same records cut in two."""
    path = tmp_path / "register.csv"
    path.write_text("provider_trainee_id,first_names,last_name,placement_1_urn\n" + rows)
    _info, whole = read(path, "register-csv")
    for mine in (0, 1):
        [(info, records)] = list(open_inputs([str(path)], "register-csv", load_mapping()))
        info.select = lambda record, mine=mine: record % 2 == mine
        got = list(records)
        assert [raw.source.record for raw in got] == [raw.source.record for raw in whole], mine
        read_in_full = [raw for raw in got if raw.fields]
        assert split_rows(read_in_full) == [pair for pair in split_rows(whole) if pair[0] % 2 == mine], mine


HEADER = "F_HUSID,F_SURNAME,F_FNAMES\n"


@pytest.mark.parametrize(
    "content,line",
    [
        (HEADER.encode() + "0310261553101,Zoë,Ann\n".encode() + b"0310261553102,Nw\xe9su,Ann\n", 3),
        (codecs.BOM_UTF8 + HEADER.encode() + b"0310261553101,Nw\xe9su,Ann\n", 2),
        (HEADER.encode() + "0310261553101,Zoë,Nw".encode() + b"\xe9su\n", 2),  # both on one line
        (HEADER.encode() + "0310261553101,Mureșan,Ann\n".encode() + b"0310261553102,Nw\xe9su,Ann\n", 3),
        (HEADER.encode() + "0310261553101,Lee,£5\n".encode() + b"0310261553102,Nw\xe9su,Ann\n", 3),
        # Accents as combining marks (macOS writes names decomposed): not alone a sign of UTF-8, but two are.
        (HEADER.encode() + "0310261553101,Zoe\u0308,Rene\u0301e\n".encode() + b"0310261553102,Nw\xe9su,Ann\n", 3),
        (b"F_HUSID,F_SURNAME,F_FNAMES\r" + "0310261553101,Zoë,Ann\r".encode() + b"0310261553102,Nw\xe9su,Ann\r", 3),
    ],
    ids=[
        "UTF-8 then Latin-1",
        "BOM then Latin-1",
        "one line",
        "Romanian s-comma",
        "pound sign",
        "decomposed accents",
        "CR line ends",
    ],
)
def test_mixed_encodings_are_refused_at_the_line(tmp_path, content, line):
    path = tmp_path / "mixed.csv"
    path.write_bytes(content)
    with pytest.raises(UnusableInput, match="mixed encodings: the byte 0xE9 on this line is not UTF-8") as caught:
        read(path)
    assert caught.value.line == line


# Line ends as the reader counts them (CR LF, a lone CR and a lone LF each end one line): CR CR LF (a CRLF file sent
# again in FTP ASCII mode, as Register's fixture mixed_rows_encoding.csv), and a lone CR or a CR LF in a quoted cell;
# with the lines of the first and last rows. The two surnames are filled in.
LINE_ENDS = {
    "CR CR LF": (b"F_HUSID,F_SURNAME,F_FNAMES\r\r\n1,%s,Ann\r\r\n2,Li,Bo\r\r\n3,%s,Cy\r\r\n", (3, 7)),
    "LF, a CR in a quoted cell": (b'F_HUSID,F_SURNAME,F_FNAMES\n1,%s,Ann\n2,"Li\rJo",Bo\n3,%s,Cy\n', (2, 5)),
    "CR, a CR LF in a quoted cell": (b'F_HUSID,F_SURNAME,F_FNAMES\r1,%s,Ann\r2,"Li\r\nJo",Bo\r3,%s,Cy\r', (2, 5)),
}


@pytest.mark.parametrize("chunk", [1 << 20, *range(5, 40)])
@pytest.mark.parametrize("ends", list(LINE_ENDS), ids=list(LINE_ENDS))
def test_an_encoding_error_names_the_line_the_reader_gives_the_row(tmp_path, monkeypatch, ends, chunk):
    """review104 F3: the hashing pass counted LF line ends if the file had any, else CR: in a CR CR LF file the José
    row was "line 4" in the encoding error and line 7 in issues.csv. It counts as the reader does now, also where a
    chunk it reads ends between a CR and its LF."""
    monkeypatch.setattr("register_batch.readers.csv._CHUNK", chunk)
    text, (first, line) = LINE_ENDS[ends]
    path = tmp_path / "ends.csv"
    path.write_bytes(text % (b"Lee", b"Nwosu"))
    _info, raws = read(path)
    assert [raw.source.line for raw in raws][::2] == [first, line]
    path.write_bytes(text % (b"L\xe9e", "Nwésu".encode()))
    with pytest.raises(UnusableInput, match=r"mixed encodings: 'é' on this line is written as UTF-8") as caught:
        read(path)
    assert caught.value.line == line and f"(the byte 0xE9 on line {first})" in str(caught.value)
    path.write_bytes(text % ("Zoë".encode(), b"Nw\xe9su"))
    with pytest.raises(UnusableInput, match=r"mixed encodings: the byte 0xE9 on this line is not UTF-8") as caught:
        read(path)
    assert caught.value.line == line


def test_a_file_cut_part_way_through_a_utf8_character_is_refused(tmp_path):
    path = tmp_path / "cut.csv"
    path.write_bytes(HEADER.encode() + "0310261553101,Zoë,Ann\n0310261553102,Lee,".encode() + "é".encode()[:1])
    with pytest.raises(UnusableInput, match="part-way through a UTF-8 character"):
        read(path)


@pytest.mark.parametrize("order", ["before", "after"])
def test_windows_1252_that_happens_to_hold_a_utf8_pair_is_still_windows_1252(tmp_path, order):
    # É then a no-break space (C9 A0) is also valid UTF-8 (U+0260), but no sign of a UTF-8 file, before the first
    # byte that is not UTF-8 or after it.
    path = tmp_path / "cp1252.csv"
    rows = [b"0310261553101,REN\xc9\xa0SMITH,Ann\n", b"0310261553102,Zo\xe9,Ann\n"]
    path.write_bytes(HEADER.encode() + b"".join(rows if order == "before" else rows[::-1]))
    _info, rows_read = read(path)
    assert sorted(raw.fields["F_SURNAME"] for raw in rows_read) == ["REN\u00c9\u00a0SMITH", "Zo\u00e9"]


@pytest.mark.parametrize(
    "surname",
    [b"M\xc4KEL\xc4\x96SMITH", b"M\xc4KEL\xc4\xa0", b"KORHONEN\x96M\xc4KEL\xc4\x92S", b"M\xc4KEL\xc4\x85"],
    ids=["en dash", "no-break space", "curly apostrophe", "ellipsis"],
)
def test_a_windows_1252_capital_before_a_symbol_after_the_first_accent_stays_windows_1252(tmp_path, surname):
    """Ä then an en dash (C4 96) is also a UTF-8 letter (Ė), but the rest of the name is no UTF-8: the file was
    refused as mixed encodings (review22); only a cell that is UTF-8 throughout is a name pasted from UTF-8."""
    path = tmp_path / "cp1252.csv"
    path.write_bytes(HEADER.encode() + b"0310261553101,Zo\xe9,Ann\n0310261553102," + surname + b",Ann\n")
    _info, rows_read = read(path)
    assert [raw.fields["F_SURNAME"] for raw in rows_read] == ["Zo\u00e9", surname.decode("cp1252").strip()]


@pytest.mark.parametrize(
    "content,line,shown",
    [
        (HEADER.encode() + b"0310261553101,Zo\xeb,Ann\n" + "0310261553102,José,Ann\n".encode(), 3, "'é'"),
        (HEADER.encode() + b"0310261553101,Zo\xeb,Ann\n" + "0310261553102,Mureșan,Ann\n".encode(), 3, "'ș'"),
        (HEADER.encode() + b"0310261553101,Zo\xeb,Ann\n" + "0310261553102,Лена,Ann\n".encode(), 3, "'Л'"),
        (HEADER.encode() + b"0310261553101,Zo\xeb," + "José\n".encode(), 2, "'é'"),  # both on one line
        (b"F_HUSID,F_SURNAME,F_FNAMES\r0310261553101,Zo\xeb,Ann\r" + "0310261553102,José,Ann\r".encode(), 3, "'é'"),
    ],
    ids=["Latin-1 then UTF-8", "Romanian s-comma", "Cyrillic", "one line", "CR line ends"],
)
def test_windows_1252_then_utf8_is_refused_at_the_utf8_line(tmp_path, content, line, shown):
    """An Excel "CSV" (Windows-1252), then rows pasted in from a UTF-8 source: read as Windows-1252, José came out
    as JosÃ© and the file was valid. As the other way round, the file is refused, naming the line."""
    path = tmp_path / "mixed.csv"
    path.write_bytes(content)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == line
    assert f"mixed encodings: {shown} on this line is written as UTF-8, but the file is Windows-1252 before it" in str(
        caught.value
    )


def test_latin1_throughout_is_read_as_windows_1252(tmp_path):
    path = tmp_path / "latin.csv"
    path.write_bytes(HEADER.encode() + b"0310261553101,Nw\xe9su,Ann\n")
    _info, [raw] = read(path)
    assert raw.fields["F_SURNAME"] == "Nwésu"


def test_unknown_hesa_column(tmp_path):
    path = tmp_path / "hesa.csv"
    path.write_text("F_HUSID,F_SURNAME,F_FNAMES,F_FAVOURITE_COLOUR\n1,2,3,4\n")
    with pytest.raises(UnusableInput, match="F_FAVOURITE_COLOUR"):
        read(path)


def test_a_row_with_extra_cells_is_a_record_problem(tmp_path, register_csv_fixtures):
    text = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    text[1] += ",surplus"
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(text) + "\n")
    _info, rows = read(path)
    assert rows[0].problems and "cells but the header has 51 columns" in rows[0].problems[0][1]


def test_blank_cells_past_the_header_are_the_rows_problem_too(tmp_path, register_csv_fixtures):
    """review104 F1: blank cells past the header were read past, so a row whose last column is blank and that an
    unquoted comma moved one column on was read shifted without a word (`first_names` "Jr", `last_name` "Nwosu"),
    exit 0. A spreadsheet's cleared columns come with blank names in the header, so a row longer than the header is
    one whose cells do not line up, whatever its extra cells hold."""
    text = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    text[1] += ",,"
    text[2] += ",  ,"
    path = tmp_path / "wide.csv"
    path.write_text("\n".join(text) + "\n")
    info, rows = read(path)
    assert info.records == 5
    assert [row.problems for row in rows[:2]] == [
        [(None, "row has 53 cells but the header has 51 columns (extra commas?)")],
    ] * 2
    assert all(not row.problems for row in rows[2:])
    text[0] += ",,"  # the same commas on the header too: a spreadsheet's cleared columns, read past
    path.write_text("\n".join(text) + "\n")
    info, rows = read(path)
    assert info.records == 5 and all(not row.problems for row in rows)


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r", ""], ids=["LF", "CRLF", "CR", "no line end"])
def test_a_quote_left_open_in_the_last_row_is_refused(tmp_path, end):
    path = tmp_path / "quote.csv"
    between = end or "\n"  # the line ends before the last (CR: an old Mac's, throughout)
    rows = f'hesa_id,first_names,last_name{between}0310261553101,Dave,George{between}0310261553102,"Ann,Lee{end}'
    path.write_text(rows, newline="")
    with pytest.raises(UnusableInput, match="still open at the end of the file") as caught:
        read(path, "register-csv")
    assert caught.value.line == 3 and caught.value.record == 2 and caught.value.field == "first_names"


def test_a_last_row_without_a_line_end_is_read(tmp_path):
    path = tmp_path / "last.csv"
    path.write_text('hesa_id,first_names,last_name\n0310261553101,"Dave, Jr",George', newline="")
    _info, [raw] = read(path, "register-csv")
    assert raw.fields == {"hesa_id": "0310261553101", "first_names": "Dave, Jr", "last_name": "George"}


def test_a_whole_last_row_without_a_line_end_under_a_header_ending_in_commas_is_read(tmp_path):
    """A spreadsheet's blank columns after the last label, on the last row too, and no line end after it: the row has
    all the header's cells, so it is not cut short."""
    path = tmp_path / "last.csv"
    path.write_text("hesa_id,first_names,last_name,,\n0310261553101,Dave,George,,", newline="")
    _info, [raw] = read(path, "register-csv")
    assert raw.fields == {"hesa_id": "0310261553101", "first_names": "Dave", "last_name": "George"}
    assert not raw.problems


def test_a_file_that_ends_in_the_middle_of_a_row_is_refused(tmp_path, register_csv_fixtures):
    """An extract copied, or read, while the SRS was still writing it: its last row was read as a record with its
    later cells absent and its last cell cut (here an email), and synced so. A short row that ends its line is still
    read (above), and so is a whole last row without a line end."""
    path = tmp_path / "cut.csv"
    path.write_text("hesa_id,first_names,last_name,email\n0310261553101,Dave,George,dave@example.com\n0310261553102,A")
    with pytest.raises(UnusableInput, match=r"ends in the middle of a row \(2 of the header's 4 cells") as caught:
        read(path, "register-csv")
    assert (caught.value.record, caught.value.line) == (2, 3) and "run again once it is complete" in str(caught.value)
    whole = (register_csv_fixtures / "five_trainees.csv").read_bytes()
    cut = whole.rstrip(b"\r\n")
    cut = cut[: cut.rindex(b",") - 1]  # a few cells short of the last row's end
    path.write_bytes(cut)
    with pytest.raises(UnusableInput, match="ends in the middle of a row"):
        read(path)


def test_a_dos_end_of_file_mark_after_the_last_line_is_no_row(tmp_path, register_csv_fixtures):
    """Old DOS tools (`copy /a`, some SRS exports) end a text file with Ctrl-Z (0x1A): after the last line's end it
    marks the end of the file, not a row cut short. Anywhere else it is a character in a cell, as before."""
    whole = (register_csv_fixtures / "five_trainees.csv").read_bytes()
    path = tmp_path / "dos.csv"
    path.write_bytes(whole + b"\x1a")
    info, rows = read(path)
    assert info.records == 5 and [r.fields for r in rows] == [
        r.fields for r in read(register_csv_fixtures / "five_trainees.csv")[1]
    ]
    path.write_bytes(whole.rstrip(b"\r\n") + b"\x1a")  # no line end before it: a character of the last cell
    info, rows = read(path)
    assert info.records == 5 and "\x1a" in "".join(v or "" for v in rows[-1].fields.values())


@pytest.mark.parametrize(
    "header",
    [
        "name,age",
        "hesa_id,first_names,notes,age",
        "F_HUSID,F_SURNAME,notes,age",
        "F_HUSID,F_SURNAME,F_FNAMES,a,b,c,d,e",
        "provider_trainee_id,first_names,last_name,a,b,c,d,e",
    ],
    ids=["none", "two", "two HESA", "three HESA of eight", "three Register of eight"],
)
def test_undetectable_format(tmp_path, header):
    """Fewer than three of either format's columns (hesa_id and first_names alone could be anyone's), or fewer than
    half the header's, say nothing."""
    path = tmp_path / "x.csv"
    path.write_text(f"{header}\nbob,3,x,y,,,,\n")
    with pytest.raises(UnusableInput, match="cannot tell the format") as caught:
        read(path)
    assert caught.value.line == 1
    assert str(caught.value).endswith("(use fmt to say which)")  # as the library takes it
    assert caught.value.worded(OPTIONS).endswith("(use --format to say which)")  # as the command line does


@pytest.mark.parametrize("fmt", ["auto", "register-csv"])
def test_registers_older_title_case_template_is_named_with_what_to_do(tmp_path, register_csv_fixtures, fmt):
    """A vendor's job still writing the 2025 template ('Provider Trainee ID', ...; Register's v2026.1 upload refuses it)
    got "cannot tell the format ... use fmt", and with the format given, 46 unknown column names."""
    header = (register_csv_fixtures / "template_v2025_0.csv").read_text(encoding="utf-8").splitlines()[0]
    row = (register_csv_fixtures / "five_trainees.csv").read_text(encoding="utf-8").splitlines()[1]
    path = tmp_path / "upload.csv"
    path.write_text(f"{header}\n{row}\n", encoding="utf-8")
    with pytest.raises(UnusableInput) as caught:
        read(path, fmt)
    assert caught.value.line == 1
    assert str(caught.value) == (
        f"{path}, line 1: the header is Register's older bulk-add template (title-case names such as 'Provider "
        "Trainee ID', before v2026.0), which Register's v2026.1 upload refuses: rename the columns as in the v2026.1 "
        "template (provider_trainee_id, …; `register-batch reference template -o FILE` writes its header)"
    )


def test_older_template_columns_a_mapping_file_reads_are_not_named_as_the_older_template(tmp_path):
    """A mapping file that reads the older template's columns under their own names: one it left out is an unknown
    column like any other, not "the header is Register's older bulk-add template"."""
    mapping = tmp_path / "older.yaml"
    mapping.write_text(
        "fields:\n  register-csv:\n    trainee:\n      provider_trainee_id: provider trainee id\n"
        "      hesa_id: hesa id\n      last_name: last name\n      date_of_birth: date of birth\n"
    )
    path = tmp_path / "upload.csv"
    path.write_text(
        "Provider Trainee ID,HESA ID,First Names,Last Name,Date of Birth\nS1/1,2601200000017,Ann,Lee,1999-03-14\n"
    )
    with pytest.raises(UnusableInput) as caught:
        [(_info, records)] = list(open_inputs([str(path)], "register-csv", load_mapping([mapping])))
        list(records)
    assert str(caught.value).startswith(
        f"{path}, line 1: unknown column header 'First Names' (did you mean first_names?) for register-csv"
    )


def test_an_unknown_column_says_how_to_keep_it_out(tmp_path):
    """An SRS export with a column of its own ('SRS Notes') was refused with only the column's name: the migration
    lead had to find in docs/mappings.md that a mapping file's `ignored` list lets the file through."""
    extract = tmp_path / "srs.csv"
    extract.write_text("F_HUSID,F_OWNSTU,SRS Notes\n2601200000017,S1/1,called back\n")
    with pytest.raises(UnusableInput) as refused:
        read(extract, "hesa-csv")
    message = str(refused.value)
    assert "unknown column header 'SRS Notes' for hesa-csv" in message
    assert "`fields: hesa: ignored:`" in message and "docs/mappings.md" in message


@pytest.mark.parametrize(
    ("fmt", "header", "row", "family"),
    [
        ("hesa-csv", "F_HUSID,F_OWNSTU,NOTES", "2601200000017,S1/1,called back", "hesa"),
        ("register-csv", "hesa_id,first_names,last_name,NOTES", "2601200000017,Ann,Lee,called back", "register-csv"),
    ],
)
def test_an_unknown_column_names_the_mapping_family_to_list_it_under(tmp_path, fmt, header, row, family):
    """review156 F6: "list it under `ignored`" for hesa-csv led a user to `fields: hesa-csv: ignored: [NOTES]`, which
    a mapping file refuses ("unknown input family; use one of hesa, register-csv"): the advice names the family, and
    a mapping file that follows it lets the file through."""
    extract = tmp_path / "srs.csv"
    extract.write_text(f"{header}\n{row}\n")
    with pytest.raises(UnusableInput) as refused:
        read(extract, fmt)
    assert str(refused.value).endswith(
        f"unknown column header 'NOTES' for {fmt}: correct a misspelt name, or remove the column or list it under "
        f"`fields: {family}: ignored:` in a mapping file (docs/mappings.md)"
    )
    mapping = tmp_path / "ours.yaml"
    mapping.write_text(f"fields:\n  {family}:\n    ignored: [NOTES]\n")
    [(_info, records)] = list(open_inputs([str(extract)], fmt, load_mapping([mapping])))
    assert len(list(records)) == 1


def test_the_five_bytes_windows_1252_leaves_undefined_are_read_as_latin1(tmp_path):
    """hesa-formats.md §3.2: a Windows-1252 file may still hold 0x81, 0x8D, 0x8F, 0x90 or 0x9D (Excel writes what it
    was given); they are read as the Latin-1 characters, not a failure to decode the file."""
    path = tmp_path / "cp1252.csv"
    path.write_bytes(b"hesa_id,first_names,last_name\n0310261553101,Ren\xe9e,A\x81\x8d\x8f\x90\x9dB\n")
    _info, [raw] = read(path, "register-csv")
    assert raw.fields["first_names"] == "Renée" and raw.fields["last_name"] == "A\x81\x8d\x8f\x90\x9dB"


def test_a_cell_up_to_128_kib_is_read_and_a_longer_one_refused(tmp_path):
    """docs/security.md: a cell over 128 KiB is not trainee data. At the limit it is read as it is."""
    path = tmp_path / "cell.csv"
    path.write_text(f"hesa_id,first_names,last_name\n0310261553101,{'a' * (1 << 17)},George\n")
    _info, [raw] = read(path, "register-csv")
    assert len(raw.fields["first_names"]) == 1 << 17 and raw.fields["last_name"] == "George"
    path.write_text(f"hesa_id,first_names,last_name\n0310261553101,{'a' * ((1 << 17) + 1)},George\n")
    with pytest.raises(UnusableInput, match="field larger than field limit") as caught:
        read(path, "register-csv")
    assert caught.value.line == 2


@pytest.mark.parametrize("limit", [None, 1 << 24], ids=["csv module's limit", "a library caller's larger limit"])
@pytest.mark.parametrize("quoted", [True, False], ids=["quoted over many lines", "one line"])
def test_a_cell_over_128_kib_is_named_by_its_record_the_line_it_starts_on_and_its_column(tmp_path, limit, quoted):
    """A quoted cell over hundreds of lines was named by the line where reading stopped (line 133), with no record
    or column to find it by."""
    big = '"' + ("M" * 1000 + "\n") * 300 + '"' if quoted else "M" * 140_000
    path = tmp_path / "big.csv"
    path.write_text(f"hesa_id,first_names,last_name\n0310261553101,Ann,Lee\n0310261553102,{big},Kim\n")
    before = csv.field_size_limit(limit) if limit else None
    said = "runs over lines 3-" if quoted else "field larger than field limit"
    try:
        with pytest.raises(UnusableInput, match=said) as caught:
            read(path, "register-csv")
    finally:
        if before is not None:
            csv.field_size_limit(before)
    assert (caught.value.record, caught.value.line, caught.value.field) == (2, 3, "first_names")


@pytest.mark.parametrize("after", [10, 6000], ids=["near the end", "over 128 KiB before the end"])
def test_a_stray_quote_is_said_so_wherever_it_is_in_the_file(tmp_path, after):
    """review184 F1: a stray quote opening a cell with more than 128 KiB of file after it was "malformed CSV: field
    larger than field limit (131072)", the csv module's words; near the end of the file it was "a stray or unclosed
    quote". The same mistake is said the same way, at the record, line and field where the quote opened."""
    rows = [f"03102615{n:05d},Ann,Lee" for n in range(after + 5)]
    rows[2] = '0310261500002,"Ann,Lee'
    path = tmp_path / "stray.csv"
    path.write_text("hesa_id,first_names,last_name\n" + "\n".join(rows) + "\n")
    assert (path.stat().st_size > (1 << 17) + 1000) == (after > 10)  # a little over the cell limit after the quote
    with pytest.raises(UnusableInput) as caught:
        read(path, "register-csv")
    assert (caught.value.record, caught.value.line, caught.value.field) == (3, 4, "first_names")
    assert 'a stray or unclosed quote (") would merge rows into one and lose them; correct the quoting' in str(
        caught.value
    )
    assert "field limit" not in str(caught.value)


def test_a_cell_over_128_kib_past_the_headers_columns_is_named_by_its_column_number(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text(f'hesa_id,first_names,last_name\n0310261553101,Ann,Lee,"a,""b"",{"M" * 140_000}"\n')
    with pytest.raises(UnusableInput) as caught:
        read(path, "register-csv")
    assert (caught.value.record, caught.value.line, caught.value.field) == (1, 2, None)
    assert str(caught.value).endswith("malformed CSV: field larger than field limit (131072) (column 4)")


def test_a_library_callers_own_csv_field_limit_is_left_as_it_set_it(tmp_path):
    """csv.field_size_limit is one for the whole process: a caller that raised it to read big cells of its own keeps
    it after a read, and a read still refuses a cell over 128 KiB under the caller's larger limit."""
    path = tmp_path / "cell.csv"
    path.write_text(f"hesa_id,first_names,last_name\n0310261553101,{'a' * 132_000},George\n")
    before = csv.field_size_limit(1 << 24)
    try:
        with pytest.raises(UnusableInput, match="field larger than field limit"):
            read(path, "register-csv")
        assert csv.field_size_limit() == 1 << 24
        path.write_text("hesa_id,first_names,last_name\n0310261553101,Dave,George\n")
        _info, [raw] = read(path, "register-csv")
        assert raw.fields["last_name"] == "George" and csv.field_size_limit() == 1 << 24
    finally:
        csv.field_size_limit(before)


def test_a_header_cell_over_128_kib_is_refused_under_a_library_callers_larger_csv_field_limit(tmp_path):
    """The header's cells have the rows' limit whatever csv.field_size_limit a caller set: one over 128 KiB is an
    unreadable header on line 1, not a column of that name."""
    path = tmp_path / "header.csv"
    path.write_text(f"hesa_id,{'a' * 132_000}\n0310261553101,George\n")
    before = csv.field_size_limit(1 << 24)
    try:
        with pytest.raises(UnusableInput) as caught:
            read(path, "register-csv")
        assert str(caught.value) == f"{path}, line 1: unreadable CSV header: field larger than field limit (131072)"
    finally:
        csv.field_size_limit(before)


def test_reads_in_threads_leave_a_callers_csv_field_limit_as_it_set_it(tmp_path):
    """Set and put back around each row, the process-wide limit raced between two threads reading at once: one put
    back the other's 128 KiB as "the caller's", and the caller's own limit was lost for good. It is not touched."""
    import threading

    path = tmp_path / "many.csv"
    path.write_text("hesa_id,first_names,last_name\n" + "".join(f"03102615{n:05d},Ann,Lee\n" for n in range(3000)))
    before = csv.field_size_limit(10_000_000)
    try:
        counts: list[int] = []

        def read_all() -> None:
            for _ in range(4):
                _info, rows = read(path, "register-csv")
                counts.append(len(rows))

        threads = [threading.Thread(target=read_all) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert counts == [3000] * 16 and csv.field_size_limit() == 10_000_000
    finally:
        csv.field_size_limit(before)


def test_a_header_cell_over_128_kib_is_refused_as_an_unreadable_header(tmp_path, hesa_samples):
    """A one-line XML extract of many trainees, without an XML declaration, given with --format hesa-csv: its one line,
    a single cell (no commas) of more than 128 KiB, is the header. One clear line naming line 1, not a crash."""
    text = (hesa_samples / "itt_record_one_line.xml").read_text()
    text = text[text.index("<ITTRecord>") :]  # from the root: no XML declaration on a line of its own
    start, end = text.index("<Student>"), text.rindex("</Student>") + len("</Student>")
    student = text[start:end]
    assert "," not in text and "\n" not in text.strip()
    path = tmp_path / "one-line.csv"
    path.write_text(text[:start] + student * (140_000 // len(student)) + text[end:])
    with pytest.raises(UnusableInput) as caught:
        read(path, "hesa-csv")
    assert str(caught.value) == f"{path}, line 1: unreadable CSV header: field larger than field limit (131072)"


def test_a_line_up_to_1_mib_is_read_and_a_longer_one_refused(tmp_path):
    """docs/security.md: a line over 1 MiB is refused while the file is hashed. Under it, a row of many cells (each
    under the cell limit) is read, its cells past the header's an error of that row."""
    path = tmp_path / "line.csv"
    under = ",".join(["0310261553101", "Dave", "George", *["x" * 115_000] * 9])  # 1,035,000 bytes and a few
    path.write_text(f"hesa_id,first_names,last_name\n{under}\n")
    _info, [raw] = read(path, "register-csv")
    assert raw.fields["last_name"] == "George" and "row has 12 cells" in raw.problems[0][1]
    over = ",".join(["0310261553101", "Dave", "George", *["x" * 115_000] * 10])  # 1,150,000 bytes and a few
    path.write_text(f"hesa_id,first_names,last_name\n0310261553102,Ann,Lee\n{over}\n")
    with pytest.raises(
        UnusableInput, match=r"a line is longer than 1 MiB: not a CSV extract \(or its line ends are lost\)"
    ) as caught:
        read(path, "register-csv")
    assert caught.value.line == 3


@pytest.mark.parametrize("end", ["\r\r\n", "\r\n", "\r", "\n"])
def test_a_line_over_1_mib_is_refused_at_the_line_the_reader_counts(tmp_path, end):
    """review104 F3: with CR CR LF line ends the hashing pass counted the LFs only, and named line 4 for the reader's
    line 7 (a lone CR ends a line for the reader, as for Python's splitlines, VS Code and Notepad++)."""
    path = tmp_path / "long.csv"
    rows = ["hesa_id,first_names,last_name", "0310261553101,Ann,Lee", "0310261553102,Bo,Li", "x" * (1 << 20) + "y"]
    path.write_bytes((end.join(rows) + end).encode())
    with pytest.raises(UnusableInput, match=r"a line is longer than 1 MiB: not a CSV extract") as caught:
        read(path, "register-csv")
    assert caught.value.line == (7 if end == "\r\r\n" else 4)


def test_a_file_whose_line_ends_are_lost_is_refused_while_hashed(tmp_path):
    """Rows run together with no line end (saved with a line end the export does not write): over 1 MiB of one line,
    read in chunks none of which ends a line, is refused by the hashing pass, saying the line ends may be lost."""
    path = tmp_path / "lost.csv"
    path.write_text("hesa_id,first_names,last_name\n" + "0310261553101,Dave,George " * 120_000)  # 3.1 MB
    with pytest.raises(
        UnusableInput, match=r"a line is longer than 1 MiB: not a CSV extract \(or its line ends are lost\)"
    ) as caught:
        read(path, "register-csv")
    assert caught.value.line == 2


def test_a_row_spread_over_lines_up_to_4_mib_is_read_and_a_longer_one_refused(tmp_path):
    """docs/security.md: a row over 4 MiB (quoted cells with line breaks, each within the line and cell limits) is
    refused before it is held whole. Under it, such cells past the header's columns are only that row's error."""
    cell = '"' + ("y" * 99 + "\n") * 1_100 + '"'  # 110,000 characters over 1,100 lines
    path = tmp_path / "row.csv"
    path.write_text("hesa_id,first_names,last_name\n" + ",".join(["0310261553101", "Dave", "George", *[cell] * 36]))
    _info, [raw] = read(path, "register-csv")  # 3,960,000 characters
    assert raw.fields["last_name"] == "George" and "row has 39 cells" in raw.problems[0][1]
    row = ",".join(["0310261553101", "Dave", "George", *[cell] * 39])
    path.write_text("hesa_id,first_names,last_name\n" + row)
    with pytest.raises(UnusableInput, match="a row runs on past 4 MiB") as caught:  # 4,290,000 characters
        read(path, "register-csv")
    assert caught.value.line == 2 + row[: 4 << 20].count("\n")  # the line on which the row passes 4 MiB


def test_a_row_of_exactly_4_mib_is_read_and_one_character_more_is_refused(tmp_path):
    """docs/security.md refuses a row *over* 4 MiB, counted from its first character to its last line end."""
    cell = '"' + ("y" * 99 + "\n") * 1_100 + '"'
    before = ",".join(["0310261553101", "Dave", "George", *[cell] * 38]) + ","
    pad = (4 << 20) - len(before) - 1
    path = tmp_path / "row.csv"
    path.write_text("hesa_id,first_names,last_name\n" + before + "z" * pad + "\n")
    assert len(before + "z" * pad + "\n") == 4 << 20
    _info, [raw] = read(path, "register-csv")
    assert raw.fields["last_name"] == "George" and "row has 42 cells" in raw.problems[0][1]
    path.write_text("hesa_id,first_names,last_name\n" + before + "z" * (pad + 1) + "\n")
    with pytest.raises(UnusableInput, match="a row runs on past 4 MiB"):
        read(path, "register-csv")


def _past_first_mib(head: bytes, row: bytes) -> tuple[bytes, int]:
    """`head` (a header and rows), then plain rows to past the first MiB, then `row`; and `row`'s line."""
    filler = b"0310261553100,Lee,Ann\n"
    rows = -(-((1 << 20) - len(head)) // len(filler)) + 1
    content = head + filler * rows + row
    return content, content.count(b"\n")


def test_utf8_in_the_first_mib_and_windows_1252_after_it_are_mixed_encodings(tmp_path):
    """The encoding is decided over the whole file (hashed in chunks of 1 MiB): one accented name early in a UTF-8
    file is enough to refuse a Windows-1252 byte far after it, not to read the whole file as Windows-1252."""
    content, line = _past_first_mib(
        HEADER.encode() + "0310261553101,Zoë,Ann\n".encode(), b"0310261553102,Nw\xe9su,Ann\n"
    )
    path = tmp_path / "mixed.csv"
    path.write_bytes(content)
    with pytest.raises(UnusableInput, match="mixed encodings: the byte 0xE9 on this line is not UTF-8") as caught:
        read(path)
    assert caught.value.line == line


@pytest.mark.parametrize("split", [0, 1], ids=["in the next chunk", "across the chunks"])
def test_windows_1252_in_the_first_mib_and_utf8_after_it_are_mixed_encodings(tmp_path, split):
    """The file is judged whole, the other way round too: `Ã©` (UTF-8 for é) past the first MiB of a Windows-1252
    file, in the next chunk or with its first byte the last of the first chunk, is a name pasted in from UTF-8."""
    head = HEADER.encode() + b"0310261553101,Zo\xe9,Ann\n"
    if split:
        head += b"0310261553100,Lee,Ann\n" * (((1 << 20) - len(head)) // 22 - 1)
        name = b"J" * ((1 << 20) - 1 - len(head) - len(b"0310261553102,"))  # its C3 the last byte of the first MiB
        content = head + b"0310261553102," + name + b"\xc3\xa9,\xe9\n"
        assert content[(1 << 20) - 1 : (1 << 20) + 1] == b"\xc3\xa9"
        line = content.count(b"\n")
    else:
        content, line = _past_first_mib(head, b"0310261553102,Jos\xc3\xa9,\xe9\n")
    path = tmp_path / "mixed.csv"
    path.write_bytes(content)
    with pytest.raises(UnusableInput, match="mixed encodings: 'é' on this line is written as UTF-8") as caught:
        read(path)
    assert caught.value.line == line


def test_windows_1252_in_the_first_mib_stays_windows_1252_after_it(tmp_path):
    """What can only be Windows-1252 past the first MiB (JOÃO, an accented letter then a no-break space) is read as
    the rest of the file is."""
    content, _line = _past_first_mib(
        HEADER.encode() + b"0310261553101,Zo\xe9,Ann\n", b"0310261553102,JO\xc3O,REN\xc9\xa0\xe9\n"
    )
    path = tmp_path / "cp1252.csv"
    path.write_bytes(content)
    _info, rows = read(path)
    assert rows[0].fields["F_SURNAME"] == "Zoé" and rows[-1].fields["F_SURNAME"] == "JOÃO"
    assert rows[-1].fields["F_FNAMES"] == "RENÉ\u00a0é"


def test_a_byte_order_mark_part_way_down_a_csv_makes_its_records_id_an_error(tmp_path):
    """`cat a.csv b.csv` of a header-less second file that kept its byte-order mark: the mark was read into the next
    row's provider_trainee_id, sent so to Register (where that id would never match the trainee's), and the file
    found valid. It is that record's control_character error."""
    whole = tmp_path / "whole.csv"
    generate(whole, count=3, fmt="register-csv", seed=1, as_of=date(2026, 12, 2))
    header, *rows = whole.read_bytes().splitlines(keepends=True)
    joined = tmp_path / "joined.csv"
    joined.write_bytes(b"".join([header, rows[0], codecs.BOM_UTF8, *rows[1:]]))
    result = validate_files([joined], as_of=date(2026, 12, 2), report_dir=tmp_path / "report")
    assert result.exit_code == 1
    with (tmp_path / "report" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        found = [(row["record"], row["field"]) for row in csv.DictReader(fh) if row["code"] == "control_character"]
    assert found == [("2", "provider_trainee_id")]


@pytest.mark.parametrize("padded", [" Spencer", "' Spencer", "Spencer\t", "Spencer\u00a0"])
def test_a_space_after_the_apostrophe_a_tab_or_a_no_break_space_is_untrimmed(tmp_path, register_csv_fixtures, padded):
    """Each is kept by Register's CSV import (it strips one apostrophe, nothing else: hesa-formats.md §3.3), in a cell
    that is neither the row's first nor its last."""
    text = (register_csv_fixtures / "five_trainees.csv").read_text()
    assert text.count(",Spencer,") == 1
    path = tmp_path / "padded.csv"
    path.write_text(text.replace(",Spencer,", f",{padded},"))
    info, rows = read(path)
    assert rows[0].fields["first_names"] == "Spencer"
    [issue] = info.issues
    assert issue.code == "untrimmed_values"
    assert issue.message.startswith(f"1 value has spaces around (line 2, first_names {padded!r})")


@pytest.mark.parametrize("dropped", ["Validation results", "Errors"])
def test_an_error_report_with_one_of_its_two_columns_deleted_is_still_read_as_the_report(
    tmp_path, register_csv_fixtures, dropped
):
    """Either column only Register's error report has marks it (hesa-formats.md §3.5): a user who deleted the other
    still gets the values Register holds, its protected quotes undoubled."""
    text = (register_csv_fixtures / "failed_with_failed.csv").read_text()
    assert ",Bruen," in text
    rows = list(csv.reader(text.replace(",Bruen,", ',"\'-Bruen """"Jr""""",', 1).splitlines(keepends=True)))
    gone = rows[0].index(dropped)
    report = tmp_path / "report.csv"
    with report.open("w", newline="") as out:
        csv.writer(out).writerows([cell for index, cell in enumerate(row) if index != gone] for row in rows)
    _info, rows_read = read(report)
    assert rows_read[0].fields["previous_last_name"] == '-Bruen "Jr"'


def test_header_labels_lose_one_protecting_apostrophe_like_the_values(tmp_path):
    """A spreadsheet that protects every cell with a leading apostrophe protects the header's too: Register strips one
    from every cell (hesa-formats.md §3.3), and so does register-batch, from a label as from a value."""
    path = tmp_path / "protected.csv"
    path.write_text("'hesa_id,'first_names,' last_name\n'0310261553101,'Dave,'George\n")
    _info, [raw] = read(path, "register-csv")
    assert raw.fields == {"hesa_id": "0310261553101", "first_names": "Dave", "last_name": "George"}


def test_spaces_around_hesa_csv_values_are_trimmed_without_the_upload_warning(tmp_path):
    """untrimmed_values is about Register's CSV upload, which never sees a HESA-named CSV: its padded values are
    trimmed as HESA's are, and the file has no warning."""
    plain = tmp_path / "plain.csv"
    generate(plain, count=3, fmt="hesa-csv", seed=1, as_of=date(2026, 11, 28))
    header, *rows = list(csv.reader(plain.read_text(encoding="utf-8-sig").splitlines()))
    padded = tmp_path / "padded.csv"
    with padded.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *([f" {cell} " if cell else cell for cell in row] for row in rows)])
    assert " , " in padded.read_text()
    [plain_info, plain_rows], [info, padded_rows] = read(plain), read(padded)
    assert info.format == plain_info.format == "hesa-csv" and info.issues == plain_info.issues == []
    assert [raw.fields for raw in padded_rows] == [raw.fields for raw in plain_rows]


@pytest.mark.parametrize(
    "row,first",
    [
        (" 0310261553101,Dave,George", "hesa_id ' 0310261553101'"),  # the row's first cell
        ("0310261553101,Dave,George ", "last_name 'George '"),  # its last
        ("0310261553101, Dave", "first_names ' Dave'"),  # a short row's
        ("' 0310261553101,Dave,George", 'hesa_id "\' 0310261553101"'),  # the first, after its apostrophe
    ],
    ids=["first cell", "last cell", "short row", "first cell protected"],
)
def test_a_space_at_either_end_of_a_row_or_in_a_short_row_is_untrimmed(tmp_path, row, first):
    path = tmp_path / "edges.csv"
    path.write_text(f"hesa_id,first_names,last_name\n{row}\n")
    info, [raw] = read(path, "register-csv")
    assert raw.fields["first_names"] == "Dave"
    [issue] = [issue for issue in info.issues if issue.code == "untrimmed_values"]
    assert issue.message.startswith(f"1 value has spaces around (line 2, {first})")


@pytest.mark.parametrize("unknown,more", [(10, ""), (11, " and 1 more")])
def test_more_than_ten_unknown_columns_are_named_ten_and_counted(tmp_path, unknown, more):
    path = tmp_path / "srs.csv"
    path.write_text(
        "F_HUSID," + ",".join(f"SRS{n}" for n in range(1, unknown + 1)) + "\n2601200000017" + ",x" * unknown
    )
    with pytest.raises(UnusableInput) as refused:
        read(path, "hesa-csv")
    shown = ", ".join(f"'SRS{n}'" for n in range(1, 11))
    assert f"unknown column headers {shown}{more} for hesa-csv" in str(refused.value)


def test_a_windows_1252_file_ending_in_a_byte_that_starts_a_utf8_character_is_windows_1252(tmp_path):
    """Nothing before it says UTF-8, so the last byte is a letter (Ã), not a UTF-8 character cut short."""
    path = tmp_path / "cp1252.csv"
    path.write_bytes(HEADER.encode() + b"0310261553101,Lee,JO\xc3")
    _info, [raw] = read(path)
    assert raw.fields["F_FNAMES"] == "JOÃ"


def test_a_stray_quote_past_a_narrow_headers_columns_that_swallows_rows_is_refused(tmp_path):
    """A cell past the header's columns may hold a line break, but not a line of cells (two commas, in a file of three
    columns): the rows after the stray quote would be lost in it."""
    path = tmp_path / "narrow.csv"
    path.write_text(HEADER + '0310261553101,Lee,Ann,"see\n0310261553102,Kim,Bo\n0310261553103,Roe,Al"\n')
    with pytest.raises(UnusableInput, match="holds what look like whole rows") as caught:
        read(path)
    assert (caught.value.record, caught.value.line) == (1, 2)


def test_a_multi_line_cell_past_a_narrow_headers_columns_with_commas_on_its_first_line_is_its_rows_problem(tmp_path):
    """The first line of such a cell is the row's own (the rows a stray quote swallows are on the lines after it):
    commas there make no whole row, nor does one comma on a later line; the cell is only its row's error, the rows
    after it read."""
    path = tmp_path / "narrow.csv"
    path.write_text(HEADER + '0310261553101,Lee,Ann,"see: a, b, c\nand d, e"\n0310261553102,Kim,Bo\n')
    info, rows = read(path)
    assert info.records == 2 and "row has 4 cells but the header has 3 columns" in rows[0].problems[0][1]
    assert rows[1].fields["F_HUSID"] == "0310261553102" and not rows[1].problems


def test_a_later_line_of_a_cell_past_the_headers_columns_is_a_whole_row_only_with_half_its_commas(tmp_path):
    """In a file of six columns a line of two commas (a note: "a, b, c") is not a row a stray quote swallowed; one of
    three, half the header's columns, is."""
    header = "F_HUSID,F_SURNAME,F_FNAMES,F_BIRTHDTE,F_ETHNIC,F_DOMICILE\n"
    path = tmp_path / "six.csv"
    path.write_text(header + '0310261553101,Lee,Ann,2000-01-01,10,XF,"see\na, b, c"\n0310261553102,Kim,Bo,,,\n')
    info, rows = read(path)
    assert info.records == 2 and "row has 7 cells but the header has 6 columns" in rows[0].problems[0][1]
    path.write_text(header + '0310261553101,Lee,Ann,2000-01-01,10,XF,"see\na, b, c, d"\n0310261553102,Kim,Bo,,,\n')
    with pytest.raises(UnusableInput, match="holds what look like whole rows"):
        read(path)


def _read_ignoring(path, fmt, column, tmp_path):
    """The file read with a mapping file that lists `column` under `ignored` (an SRS's notes column)."""
    mapping = tmp_path / "notes.yaml"
    family = "hesa" if fmt == "hesa-csv" else fmt
    mapping.write_text(f"fields:\n  {family}:\n    ignored: [{column}]\n")
    [(info, records)] = list(open_inputs([str(path)], fmt, load_mapping([mapping])))
    return info, list(records)


@pytest.mark.parametrize(
    "fmt,header",
    [
        ("register-csv", "provider_trainee_id,notes,hesa_id,first_names,last_name"),
        ("hesa-csv", "F_OWNSTU,NOTES,F_HUSID,F_FNAMES,F_SURNAME"),
    ],
    ids=["register-csv", "hesa-csv"],
)
def test_a_stray_quote_closed_in_the_same_ignored_column_of_the_next_row_is_refused(tmp_path, fmt, header):
    """A quote opened in an ignored column early in the row (an SRS's notes, second) and closed in that column of the
    next row: the row it makes has the header's width, and its later line only the one comma of the next row's first
    cell. Read, it was one record of the first row's id and the second row's name and data, and the second trainee
    was lost."""
    stray = ['P1,"Called back,0310261553101,Ann,Lee', 'P2,ok",0310261553102,Bo,Kim', "P3,,0310261553103,Al,Roe"]
    path = tmp_path / "merged.csv"
    path.write_text("\n".join([header, *stray]) + "\n")
    notes = header.split(",")[1]
    with pytest.raises(UnusableInput) as caught:
        _read_ignoring(path, fmt, notes, tmp_path)
    assert (caught.value.record, caught.value.line) == (1, 2)
    said = f"a quoted cell runs over lines 2-3 in column 2 ({notes!r}) and holds what look like whole rows"
    assert said in str(caught.value)


@pytest.mark.parametrize(
    "note",
    ["Called back, no answer\nTry again, Tuesday", "Called back\nno answer, try again", "Left a message,\nnone back"],
)
def test_a_note_over_several_lines_with_commas_in_an_ignored_column_is_read(tmp_path, note):
    """A genuine note (a line break and a comma or two) is not a stray quote's merge: that would put the rest of the
    first row (a comma per column after the note) on its first line, and the next row's first cells on its last."""
    path = tmp_path / "notes.csv"
    path.write_text(
        "provider_trainee_id,notes,hesa_id,first_names,last_name\n"
        f'P1,"{note}",0310261553101,Ann,Lee\nP2,,0310261553102,Bo,Kim\n'
    )
    info, rows = _read_ignoring(path, "register-csv", "notes", tmp_path)
    assert info.records == 2 and [raw.fields["hesa_id"] for raw in rows] == ["0310261553101", "0310261553102"]
    assert not rows[0].problems and not rows[1].problems


def test_blank_columns_after_a_header_of_one_label_are_read_past(tmp_path):
    """A one-column extract saved from a spreadsheet: its first column is its last named one."""
    path = tmp_path / "ids.csv"
    path.write_text("F_HUSID,,\n0310261553101,,\n")
    info, [raw] = read(path, "hesa-csv")
    assert raw.fields == {"F_HUSID": "0310261553101"} and not raw.problems and info.records == 1


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_stray_quote_is_refused_whatever_the_line_ends(tmp_path, end):
    """A quote opening a cell swallows the rows after it, in a file with an old Mac's line ends (CR) as in any."""
    path = tmp_path / "stray.csv"
    rows = ["hesa_id,first_names,last_name", '0310261553101,"Dave,George', "0310261553102,Ann,Lee", '0310261553103,Al"']
    path.write_text(end.join(rows) + end, newline="")
    with pytest.raises(UnusableInput, match="a quoted cell runs over lines 2-4") as caught:
        read(path, "register-csv")
    assert (caught.value.record, caught.value.line, caught.value.field) == (1, 2, "first_names")


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_line_break_a_spreadsheet_put_in_a_name_is_that_records_value(tmp_path, end):
    """Alt+Enter in a cell of Excel: a quoted name over two lines, in a row of the header's width. No stray quote
    can make that row (it would take commas, or change the row's width), so one such cell no longer stops the
    whole file: the record is read, and validation's control_character makes it an error."""
    path = tmp_path / "alt-enter.csv"
    rows = ["hesa_id,first_names,last_name", f'0310261553101,"Anne{end}Marie",Lee', "0310261553102,Bo,Kim"]
    path.write_text(end.join(rows) + end, newline="")
    info, [first, second] = read(path, "register-csv")
    assert info.records == 2 and first.fields["first_names"] == f"Anne{end}Marie" and not first.problems
    assert [(raw.source.record, raw.source.line) for raw in (first, second)] == [(1, 2), (2, 4)]
    assert second.fields == {"hesa_id": "0310261553102", "first_names": "Bo", "last_name": "Kim"}


@pytest.mark.parametrize(
    "row",
    [
        '0310261553101,"Dave,{end}George",Lee',  # commas: the rest of a row, or the start of the next
        '0310261553101,Lee,"Ann{end}Bo"',  # the last cell: a quote open at the end of the file would end so too
        '0310261553101,"Ann{end}Bo"',  # not the header's width: the columns before a stray quote and the next row's
        '0310261553101,"Ann{end}Bo ""Jo""",Lee',  # a quote in it
    ],
    ids=["comma", "last cell", "width", "quote"],
)
def test_a_line_break_in_a_read_cell_that_a_stray_quote_could_have_made_is_still_refused(tmp_path, row):
    path = tmp_path / "stray.csv"
    path.write_text("hesa_id,first_names,last_name\n" + row.format(end="\n") + "\n0310261553102,Bo,Kim\n")
    with pytest.raises(UnusableInput, match="a quoted cell runs over lines 2-3") as caught:
        read(path, "register-csv")
    assert (caught.value.record, caught.value.line) == (1, 2)


@pytest.mark.parametrize("end", ["\r", "\r\n"], ids=["CR", "CRLF"])
def test_a_stray_quote_in_an_error_reports_errors_column_is_refused_with_cr_or_crlf_line_ends(
    tmp_path, register_csv_fixtures, end
):
    """Register's error report saved again with CR or CR LF line ends (its multi-line Errors cells too): a quote left
    open in the first row's Errors cell swallows the rows after it there as well."""
    lines = (register_csv_fixtures / "failed_with_failed.csv").read_text().splitlines(keepends=True)
    lines[1] = lines[1].rstrip("\n") + '"\n'  # the first row's Errors cell now opens a quote
    path = tmp_path / "report.csv"
    path.write_text("".join(lines).replace("\n", end), newline="")
    with pytest.raises(UnusableInput, match="holds what look like whole rows") as caught:
        read(path)
    assert (caught.value.record, caught.value.line) == (1, 2)


def test_a_hesa_named_csv_of_withdrawals_is_told_from_registers_csv(tmp_path):
    """Its withdrawal columns are Register CSV columns too (docs/formats.md), enough to look like one; its HESA
    columns count for more."""
    path = tmp_path / "withdrawals.csv"
    path.write_text(
        "F_HUSID,F_OWNSTU,WITHDRAWAL_DATE,WITHDRAWAL_REASONS,WITHDRAWAL_TRIGGER\n"
        "0310261553101,99157234/2/01,2025-01-31,financial_problems,trainee\n"
    )
    info, [raw] = read(path)
    assert info.format == "hesa-csv" and raw.fields["F_HUSID"] == "0310261553101"


@pytest.mark.parametrize(
    "header,fmt",
    [("hesa_id,first_names,last_name", "register-csv"), ("F_HUSID,F_SURNAME,F_FNAMES", "hesa-csv")],
)
def test_three_columns_are_enough_to_tell_the_format(tmp_path, header, fmt):
    path = tmp_path / "three.csv"
    path.write_text(f"{header}\n0310261553101,Dave,George\n")
    info, [raw] = read(path)
    assert info.format == fmt and len(raw.fields) == 3


@pytest.mark.parametrize("length", [60, 61])
def test_a_column_name_is_quoted_whole_up_to_60_characters_and_cut_after(tmp_path, length):
    name = "SRS_" + "N" * (length - 4)
    path = tmp_path / "srs.csv"
    path.write_text(f"F_HUSID,{name}\n2601200000017,x\n")
    with pytest.raises(UnusableInput) as refused:
        read(path, "hesa-csv")
    shown = name if length <= 60 else f"{name[:60]}…"
    assert f"unknown column header '{shown}' for hesa-csv" in str(refused.value)


def test_a_csv_of_over_1_mib_with_cr_line_ends_is_read(tmp_path):
    """An old Mac's line ends (CR alone) throughout a file hashed in more than one chunk: its lines are as short as
    any other file's."""
    path = tmp_path / "mac.csv"
    path.write_bytes(b"hesa_id,first_names,last_name\r" + b"0310261553101,Dave,George\r" * 50_000)  # 1.3 MB
    info, rows = read(path, "register-csv")
    assert info.records == len(rows) == 50_000 and rows[-1].source.line == 50_001


@pytest.mark.parametrize("end", ["\n", "\r\n", "\r"], ids=["LF", "CRLF", "CR"])
def test_a_line_of_exactly_1_mib_is_read_and_one_character_more_is_refused(tmp_path, end):
    """docs/security.md refuses a line *over* 1 MiB; its line end is not part of it. The parsing pass counted the line
    end too, and refused a line of exactly 1 MiB that the hashing pass had let through."""
    start = "0310261553101,Dave,George"
    cells = ["x" * 115_000] * 9
    pad = (1 << 20) - len(start) - sum(len(cell) + 1 for cell in cells) - 1
    exact = ",".join([start, *cells, "y" * pad])
    assert len(exact) == 1 << 20
    path = tmp_path / "exact.csv"
    path.write_bytes(f"hesa_id,first_names,last_name{end}{exact}{end}0310261553102,Ann,Lee{end}".encode())
    _info, [raw, after] = read(path, "register-csv")
    assert raw.fields["last_name"] == "George" and "row has 13 cells" in raw.problems[0][1]
    assert after.source.line == 3 and after.fields["last_name"] == "Lee" and not after.problems
    path.write_bytes(f"hesa_id,first_names,last_name{end}{exact}y{end}".encode())
    with pytest.raises(UnusableInput, match=r"a line is longer than 1 MiB: not a CSV extract \(or its line") as caught:
        read(path, "register-csv")
    assert caught.value.line == 2


def test_binary_content_is_named_so(tmp_path):
    """A photo or other binary file given by mistake: not XML, no header, NULs in its first bytes."""
    path = tmp_path / "scan.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert str(caught.value) == f"{path}: binary content: not a HESA XML or CSV extract"


@pytest.mark.parametrize("line_end", ["\n", "\r\n"])
def test_a_correctly_quoted_note_over_128_kib_is_not_called_a_stray_quote(tmp_path, line_end):
    """review189 F2: a note of 2,100 lines, correctly quoted, was "a stray or unclosed quote (") would merge rows into
    one and lose them; correct the quoting": the officer looked for a quote that was not there. Its lines hold no
    row's commas, so the message names a cell too long to read as the other likely cause."""
    note = '"' + "Called trainee about placement; agreed to call back.\n" * 2600 + '"'
    rows = [f"03102615{n:05d},Ann,Lee" for n in range(5)]
    rows[2] = f"0310261500002,{note},Lee"
    path = tmp_path / "note.csv"
    path.write_bytes(("hesa_id,first_names,last_name\n" + "\n".join(rows) + "\n").replace("\n", line_end).encode())
    with pytest.raises(UnusableInput) as caught:
        read(path, "register-csv")
    said = str(caught.value)
    assert (caught.value.record, caught.value.line, caught.value.field) == (3, 4, "first_names")
    assert "runs over lines 4-" in said and "past 128 KiB" in said
    assert "would merge rows" not in said
    assert 'a stray or unclosed quote ("), or a cell longer than register-batch reads' in said
