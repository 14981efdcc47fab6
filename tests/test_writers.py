"""Output writers: Register's bulk-add CSV split into parts, and files that look like further parts."""

from __future__ import annotations

import csv
import errno
import io
import resource
import signal

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnwritableOutput
from register_batch.writers import (
    JsonArrayWriter,
    JsonLinesWriter,
    RegisterCsvWriter,
    register_csv_row,
    register_template,
)

ROW = {"first_names": "Ann", "last_name": "Lee", "hesa_id": "0310261553101"}


def write_parts(path, rows: int) -> RegisterCsvWriter:
    writer = RegisterCsvWriter(path, max_bytes=1)  # every row in a part of its own
    for _ in range(rows):
        writer.write(dict(ROW))
    writer.close()
    return writer


def test_parts_are_numbered_and_files_numbered_after_the_last_are_named_not_deleted(tmp_path):
    out = tmp_path / "out.csv"
    first = write_parts(out, 3)
    assert first.paths == [out, tmp_path / "out-2.csv", tmp_path / "out-3.csv"] and first.stale == []
    (tmp_path / "out-5.csv").write_text("not next in line")
    second = write_parts(out, 1)
    assert second.paths == [out]
    assert second.stale == [tmp_path / "out-2.csv", tmp_path / "out-3.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out-2.csv", "out-3.csv", "out-5.csv", "out.csv"]


def test_convert_names_a_file_that_would_be_uploaded_with_its_output(tmp_path, register_csv_fixtures):
    out = tmp_path / "batch.csv"
    other = tmp_path / "batch-2.csv"  # an earlier run's second part, or another output of that name
    other.write_text("another file\n")
    result = CliRunner().invoke(
        cli, ["convert", str(register_csv_fixtures / "five_trainees.csv"), "--to", "register-csv", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"note: {other} is also there, numbered as a further part of this output" in result.stderr  # not stdout
    assert other.read_text() == "another file\n" and out.is_file()


def test_an_abandoned_output_leaves_the_earlier_one_whole(tmp_path):
    out = tmp_path / "out.csv"
    earlier = write_parts(out, 3)
    before = {p.name: p.read_bytes() for p in earlier.paths}
    failing = RegisterCsvWriter(out, max_bytes=1)
    failing.write(dict(ROW, last_name="Ng"))
    failing.write(dict(ROW, last_name="Ng"))  # two parts written, then the run fails
    failing.abort()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary file left either


def test_a_disk_that_refuses_the_last_part_puts_no_part_in_place_and_leaves_the_earlier_output_whole(tmp_path):
    """The last part is still buffered when close() is called: a disk that refuses it then (here a file size limit,
    as a full disk would) makes close() fail, and neither it nor the parts written before it are put in place, nor
    left behind as temporary files."""
    out = tmp_path / "out.csv"
    before = {p.name: p.read_bytes() for p in write_parts(out, 3).paths}
    writer = RegisterCsvWriter(out, max_bytes=1)
    writer.write(dict(ROW, last_name="Ng"))
    writer.write(dict(ROW, last_name="Ng"))
    writer.write(dict(ROW, last_name="N" * 3000))  # more than the limit below, less than the buffer: not yet written
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    ignored = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (2000, hard))
    try:
        with pytest.raises(UnwritableOutput, match=r"out-3\.csv: File too large"):
            writer.close()
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, ignored)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


def test_a_disk_that_refuses_a_part_at_fsync_puts_no_part_in_place(tmp_path, monkeypatch):
    """A disk may take the writes and refuse at fsync (a full disk with delayed allocation, a network share): the
    first part was put in place before the second was synced, beside the earlier output's second part. Every part is
    now on disk before any is put in place."""
    import os

    out = tmp_path / "out.csv"
    before = {p.name: p.read_bytes() for p in write_parts(out, 2).paths}
    synced = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # the second part's
        synced.append(fd)
        if len(synced) == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    writer = RegisterCsvWriter(out, max_bytes=1)
    writer.write(dict(ROW, last_name="Ng"))
    writer.write(dict(ROW, last_name="Ng"))
    with pytest.raises(UnwritableOutput, match=r"No space left on device"):
        writer.close()
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no temporary file left either


def test_a_part_that_cannot_be_put_in_place_leaves_no_temporary_file_of_the_parts_after_it(tmp_path, monkeypatch):
    """Putting the parts in place, the first may still fail (its last sync): the parts after it were left behind as
    hidden temporary files."""
    import os

    out = tmp_path / "out.csv"
    writer = RegisterCsvWriter(out, max_bytes=1)
    writer.write(dict(ROW, last_name="Ng"))
    writer.write(dict(ROW, last_name="Ng"))
    real_replace = os.replace

    def replace(source, target) -> None:
        if str(target) == str(out):
            raise OSError(errno.EACCES, "Permission denied")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(UnwritableOutput, match=r"out\.csv: Permission denied"):
        writer.close()
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []


def test_what_the_template_cannot_hold_is_named_never_dropped_without_a_word():
    """A placement without a URN (Register holds some: name and postcode only) and a degree's other_grade have no
    column (hesa-formats.md §3.1): the URN placements fill the columns in order, and a note names what is left out."""
    template = register_template()
    data = {
        **ROW,
        "placements_attributes": [
            {"name": "Village school", "postcode": "AB1 2DE"},
            {"urn": "", "name": "Farm school", "postcode": "AB1 2DF"},
            {"urn": "100001", "name": "Placement 2"},
            {"urn": "100002", "name": "Placement 3"},
            {"urn": "100003", "name": "Placement 4"},
        ],
        "degrees_attributes": [{"uk_degree": "083", "grade": "12", "other_grade": "Merit", "graduation_year": "2020"}],
    }
    row, notes = register_csv_row(data, template)
    cells = dict(zip(template, row, strict=True))
    assert [cells[f"placement_{n}_urn"] for n in (1, 2, 3)] == ["100001", "100002", "100003"]
    assert cells["degree_grade"] == "'12"
    # One note of words the same for every trainee (notes are counted by kind), naming no school or grade (review82 F1)
    assert "2 placements without a URN left out: Register's CSV holds placements by URN only" in notes
    assert "the degree's other_grade left out: Register's CSV template has no column for it" in notes
    assert not [note for note in notes if "school" in note or "Merit" in note], notes


def test_a_blank_code_or_date_is_a_blank_cell_not_a_lone_apostrophe():
    """Code and date columns get Register's leading apostrophe only when they hold something: a blank one stays an
    empty cell, as Register's own CSVs leave it, not a cell holding just `'`."""
    template = register_template()
    row, _notes = register_csv_row(dict(ROW, sex="", itt_start_date=None, trainee_start_date="2026-09-01"), template)
    cells = dict(zip(template, row, strict=True))
    assert cells["sex"] == "" and cells["itt_start_date"] == ""
    assert cells["trainee_start_date"] == "'2026-09-01" and cells["hesa_id"] == "'0310261553101"


def test_of_degrees_of_one_level_the_most_recent_and_the_first_three_placements_are_written_the_rest_counted():
    """Register's CSV holds one degree and three placements (hesa-formats.md §3.1): of bachelor's degrees (one
    level) the degree written is the one graduated from last, wherever it is in the list and whatever form its year
    takes, and each note counts exactly what was left out; a trainee that fits has no note at all."""
    template = register_template()
    degrees = [
        {"uk_degree": "083", "subject": "100425", "grade": "02", "graduation_year": "2019", "institution": "0117"},
        {
            "uk_degree": "051",
            "subject": "100048",
            "grade": "01",
            "graduation_year": "2021-07-01",
            "institution": "0116",
        },
        {"uk_degree": "083", "subject": "100425", "grade": "02", "graduation_year": None, "institution": "0118"},
    ]
    placements = [{"urn": str(100000 + n), "name": f"School {n}"} for n in range(1, 6)]
    data = {**ROW, "trn": "1234567", "degrees_attributes": degrees, "placements_attributes": placements}
    row, notes = register_csv_row(data, template)
    cells = dict(zip(template, row, strict=True))
    assert [cells[c] for c in ("uk_degree", "degree_graduation_year", "awarding_institution")] == [
        "'051",
        "'2021-07-01",
        "'0116",
    ]
    assert [cells[f"placement_{n}_urn"] for n in (1, 2, 3)] == ["100001", "100002", "100003"]
    assert notes == [
        "2 other degrees left out: Register's CSV holds one degree per trainee, the highest",
        "2 placements left out: Register's CSV holds three",
        "no column for trn in Register's CSV template",
    ]
    fits = {**ROW, "degrees_attributes": [dict(degrees[0], other_grade="")], "placements_attributes": placements[:3]}
    assert register_csv_row(fits, template)[1] == []
    earlier_first = [dict(degrees[0], graduation_year="2015"), degrees[0]]  # the same decade: 2019 is the later
    later, _notes = register_csv_row({**ROW, "degrees_attributes": earlier_first}, template)
    assert dict(zip(template, later, strict=True))["degree_graduation_year"] == "'2019"
    mistyped = [dict(degrees[0], graduation_year="201O"), degrees[0]]  # a letter O: no year, so not the later one
    later, _notes = register_csv_row({**ROW, "degrees_attributes": mistyped}, template)
    assert dict(zip(template, later, strict=True))["degree_graduation_year"] == "'2019"
    two = {**ROW, "degrees_attributes": degrees[:2]}
    assert register_csv_row(two, template)[1] == [
        "1 other degree left out: Register's CSV holds one degree per trainee, the highest"
    ]


def test_the_degree_written_is_the_highest_qualification_then_the_most_recent_then_the_first_listed():
    """Register's guidance for its CSV's one degree: "Only the highest previous degree qualification should be
    submitted" (fields.yaml, uk_degree). Highest is the qualification level of the degree type (DfE reference data:
    bachelor's 6, master's 7, doctorate 8); the most recent one was written, so a master's was dropped for a later
    second bachelor's. Of one level the most recent, and of one year the first listed, is written."""
    template = register_template()

    def degree(kind: str, year: str, institution: str = "0117", *, uk: bool = True) -> dict[str, str]:
        place = {"institution": institution} if uk else {"country": "FR"}
        return (
            {"uk_degree" if uk else "non_uk_degree": kind, "subject": "100425", "grade": "02"}
            | place
            | {"graduation_year": year}
        )

    def written(*degrees: dict[str, str]) -> tuple[tuple[str, str, str], list[str]]:
        row, notes = register_csv_row({**ROW, "degrees_attributes": list(degrees)}, template)
        cells = dict(zip(template, row, strict=True))
        kind = cells["uk_degree"] or cells["non_uk_degree"]
        return (kind.lstrip("'"), cells["degree_graduation_year"].lstrip("'"), cells["awarding_institution"]), notes

    master, later_bachelor = degree("205", "2018"), degree("083", "2021")
    assert written(later_bachelor, master) == (
        ("205", "2018", "'0117"),
        ["1 other degree left out: Register's CSV holds one degree per trainee, the highest"],
    )
    assert written(degree("306", "2015"), degree("401", "2020"))[0][0] == "306"  # a doctorate over "higher degree"
    assert written(degree("401", "2020"), degree("213", "2016"))[0][0] == "401"  # both level 7: the more recent
    assert written(degree("400", "2012"), degree("999", "2022"))[0][0] == "400"  # "Not available": no level
    assert written(degree("205", "2019", uk=False), degree("083", "2020"))[0][0] == "205"  # non-UK types alike
    same = written(degree("083", "2019", "0117"), degree("051", "2019-07-01", "0116"))
    assert same[0] == ("083", "2019", "'0117")  # one level, one year: the first listed


def csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


@pytest.mark.parametrize("over", [0, 1], ids=["exactly 1 MB", "one byte over"])
def test_a_file_of_exactly_1_mb_is_one_part_and_one_byte_more_splits_with_every_trainee_once(tmp_path, over):
    """Register refuses a file over 1 MB (hesa-formats.md §3.2 item 3), not one of exactly 1,000,000 bytes: the
    writer fills a part up to that and no further, and each part read back is the template's header and rows,
    every trainee in exactly one of them."""
    template = register_template()
    header = csv_line(list(template))

    def row(n: int, name_length: int) -> dict[str, str]:
        return dict(ROW, hesa_id=f"{n:013d}", first_names="A" * name_length)

    def size(data: dict[str, str]) -> int:
        return len(csv_line(register_csv_row(data, template)[0]))

    rows = [row(n, 900) for n in range(1, 1000)]
    while len(header) + sum(map(size, rows)) > 1_000_000:
        rows.pop()
    room = 1_000_000 - len(header) - sum(map(size, rows))
    rows.append(row(len(rows) + 1, room - size(row(0, 0)) + over))
    assert len(header) + sum(map(size, rows)) == 1_000_000 + over

    out = tmp_path / "out.csv"
    writer = RegisterCsvWriter(out)
    for data in rows:
        writer.write(data)
    paths = writer.close()
    assert paths == ([out] if not over else [out, tmp_path / "out-2.csv"])
    assert all(path.stat().st_size <= 1_000_000 for path in paths)
    ids = []
    for path in paths:
        with path.open(encoding="utf-8", newline="") as fh:
            read = list(csv.reader(fh))
        assert tuple(read[0]) == template
        ids += [dict(zip(template, cells, strict=True))["hesa_id"] for cells in read[1:]]
    assert ids == [f"'{n:013d}" for n in range(1, len(rows) + 1)]


@pytest.mark.parametrize("writer_class", [RegisterCsvWriter, JsonLinesWriter, JsonArrayWriter])
@pytest.mark.parametrize("rows", [0, 2])
def test_an_output_abandoned_before_or_after_its_rows_leaves_no_file_while_its_writer_lives(
    tmp_path, writer_class, rows
):
    """An export whose first listing fails abandons its output before a row is written; one that fails later,
    after some. Either way nothing is left behind, not even a temporary file (while the writer is still held,
    as the failing export's traceback holds it), and abandoning raises nothing that would hide the failure."""
    writer = writer_class(tmp_path / "out.csv")
    for _ in range(rows):
        writer.write(dict(ROW))
    writer.abort()
    assert list(tmp_path.iterdir()) == []


# hesa-formats.md §3.1, "Apostrophe-prefixed in error report" (PREFIXED_HEADERS of Register's import_rows.rb): copied
# from the spec on purpose, not imported from writers.PREFIXED, so that a column missing there is caught here.
REGISTER_PREFIXED = {
    "hesa_id",
    "date_of_birth",
    "sex",
    "ethnicity",
    *(f"disability{n}" for n in range(1, 10)),
    "itt_aim",
    "training_route",
    "itt_qualification_aim",
    "course_subject_1",
    "course_subject_2",
    "course_subject_3",
    "study_mode",
    "itt_start_date",
    "itt_end_date",
    "course_age_range",
    "trainee_start_date",
    "pg_apprenticeship_start_date",
    "fund_code",
    "funding_method",
    "training_initiative",
    "additional_training_initiative",
    "uk_degree",
    "non_uk_degree",
    "degree_subject",
    "degree_grade",
    "degree_graduation_year",
    "awarding_institution",
}


def test_every_column_is_filled_from_its_field_and_code_and_date_columns_carry_registers_apostrophe(tmp_path):
    """A trainee with a value in every column reads back from the written file with each value under its own
    header, the degree's and placements' too, and exactly the columns Register's own CSVs prefix with `'` (codes and
    dates, which Excel would change) have it: names, email, URNs, course_year, degree_country and iqts_country not."""
    template = register_template()
    degree = {
        "uk_degree": "v-uk_degree",
        "non_uk_degree": "v-non_uk_degree",
        "subject": "v-degree_subject",
        "grade": "v-degree_grade",
        "graduation_year": "v-degree_graduation_year",
        "institution": "v-awarding_institution",
        "country": "v-degree_country",
    }
    placements = [{"urn": f"v-placement_{n}_urn", "name": f"School {n}"} for n in (1, 2, 3)]
    from_degree = {value.removeprefix("v-") for value in degree.values()}  # each value names its column
    data = {
        **{c: f"v-{c}" for c in template if not c.startswith("placement_") and c not in from_degree},
        "degrees_attributes": [degree],
        "placements_attributes": placements,
    }
    writer = RegisterCsvWriter(tmp_path / "out.csv")
    assert writer.write(data) == []
    writer.close()
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as fh:
        header, row = list(csv.reader(fh))
    assert tuple(header) == template
    cells = dict(zip(header, row, strict=True))
    assert {c: cell.removeprefix("'") for c, cell in cells.items()} == {c: f"v-{c}" for c in template}
    assert {c for c, cell in cells.items() if cell.startswith("'")} == REGISTER_PREFIXED


@pytest.mark.parametrize("value", ["Smith\nJones", "Smith\rJones", "Smith\r\nJones"], ids=["LF", "CR", "CRLF"])
def test_a_line_break_in_a_value_stays_in_its_cell_and_is_named_in_a_note(tmp_path, value):
    """A line break of any kind is written inside one quoted cell, so the file still reads back as one row per
    trainee with the value whole; a note says validate and sync of the file refuse the record (control_character,
    review56 F2)."""
    writer = RegisterCsvWriter(tmp_path / "out.csv")
    notes = writer.write(dict(ROW, last_name=value))
    writer.write(dict(ROW, hesa_id="0310261553102"))
    writer.close()
    assert notes == [
        "last_name holds a line break: written as one quoted cell, but validate and sync of this file refuse the "
        "record (control_character); correct the value at its source"
    ]
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as fh:
        header, first, second = csv.reader(fh)
    assert dict(zip(header, first, strict=True))["last_name"] == value
    assert dict(zip(header, second, strict=True))["hesa_id"] == "'0310261553102"


def test_a_json_lines_record_holding_a_line_separator_stays_one_line_for_every_reader(tmp_path):
    """A name with U+2028 (pasted from a web page or a Word document) was written raw: valid JSON, but Python's
    str.splitlines() and JavaScript's older line readers end a line there, and the record read as two broken ones."""
    import json

    names = ["Ann\u2028Marie", "Bo\u2029b", "Cy\x85d", "Dee"]
    writer = JsonLinesWriter(tmp_path / "held.jsonl")
    for name in names:
        writer.write({"first_names": name})
    writer.close()
    lines = (tmp_path / "held.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["first_names"] for line in lines] == names


def test_a_json_lines_record_keeps_its_letters_as_written_not_escaped(tmp_path):
    """The file is UTF-8: a name with accents reads as the name (and `grep` finds it), not as `\\u00eb` escapes."""
    writer = JsonLinesWriter(tmp_path / "held.jsonl")
    writer.write({"first_names": "Zoë", "last_name": "Ó Briain"})
    writer.close()
    assert (tmp_path / "held.jsonl").read_text(encoding="utf-8") == '{"first_names": "Zoë", "last_name": "Ó Briain"}\n'


# review88 F4: one starting with a letter or bracket too (Sep-26 is a day to Excel, (1234) is -1234); review124 F5: a
# month and year (12-2026 is shown, and saved, as Dec-26)
@pytest.mark.parametrize(
    "srs_id", ["00123", "1/2/26", "12345678901234", "SEP-2026", "Sep-26", "(1234)", ".5", "12-2026", "9/2026"]
)
def test_an_srs_id_a_spreadsheet_would_change_gets_the_apostrophe_and_reads_back_as_it_was(tmp_path, srs_id):
    """review40 F3: Register's CSV template written with `provider_trainee_id` 00123 bare: Excel saved it as 123 (1/2/26
    as a date), and the next sync planned an update of the SRS id. It gets the apostrophe Register strips, as a HUSID
    does; an id no spreadsheet changes is written as it is."""
    from register_batch.mapping import load_mapping
    from register_batch.readers import open_inputs

    template = register_template()
    row, _notes = register_csv_row(dict(ROW, provider_trainee_id=srs_id), template)
    cells = dict(zip(template, row, strict=True))
    assert cells["provider_trainee_id"] == "'" + srs_id
    assert (
        dict(zip(template, register_csv_row(dict(ROW, provider_trainee_id="SRS-1/26"), template)[0], strict=True))[
            "provider_trainee_id"
        ]
        == "SRS-1/26"
    )
    named = dict(ROW, first_names="May Lee", last_name="March")  # names a spreadsheet keeps as text stay bare
    cells = dict(zip(template, register_csv_row(named, template)[0], strict=True))
    assert (cells["first_names"], cells["last_name"]) == ("May Lee", "March")
    cells = dict(zip(template, row, strict=True))
    path = tmp_path / "held.csv"
    path.write_text(",".join(template) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    [[raw]] = [list(records) for _info, records in open_inputs([str(path)], "register-csv", load_mapping())]
    assert raw.fields["provider_trainee_id"] == srs_id


@pytest.mark.parametrize("surname", ["True", "TRUE", "true", "False", "fALSE"])
def test_a_name_that_is_a_spreadsheet_boolean_gets_the_apostrophe_and_reads_back_as_it_was(tmp_path, surname):
    """review233 F2: a surname `True` (or an SRS id `false`) was written bare: Excel and LibreOffice open it as the
    logical value and save it as TRUE, which validate took for a surname and a sync sent to Register. It gets the
    apostrophe Register strips, and reads back as written; a name that only begins so (`Truelove`) stays bare."""
    from register_batch.mapping import load_mapping
    from register_batch.readers import open_inputs

    template = register_template()
    row, _notes = register_csv_row(dict(ROW, last_name=surname, provider_trainee_id=surname.lower()), template)
    cells = dict(zip(template, row, strict=True))
    assert (cells["last_name"], cells["provider_trainee_id"]) == ("'" + surname, "'" + surname.lower())
    kept = dict(zip(template, register_csv_row(dict(ROW, last_name="Truelove"), template)[0], strict=True))
    assert kept["last_name"] == "Truelove"
    path = tmp_path / "held.csv"
    path.write_text(",".join(template) + "\n" + ",".join(row) + "\n", encoding="utf-8")
    [[raw]] = [list(records) for _info, records in open_inputs([str(path)], "register-csv", load_mapping())]
    assert (raw.fields["last_name"], raw.fields["provider_trainee_id"]) == (surname, surname.lower())
