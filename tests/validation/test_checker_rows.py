"""`Checker.rows`: records a caller's code holds, validated without a temporary file (review62 F3).

The rows are read by the CSV reader's own code (readers/csv.py `read_mappings`, `cell_fields`): each row gives the
RawRecord, and so the record, issues and batch issues, that the same row in a CSV file gives. Values are taken as they
are, trimmed: a CSV cell's conventions (one leading apostrophe off, a bare NULL for no value: hesa-formats.md §3.3,
§1.4) are the file's, so a name `'Ofa` is that name, and so is a surname `Null` in Register's CSV. In HESA's, NULL is
no value in rows as in a file (review63 F4): HESA writes it for every value left out, and has no text Null.
"""

from __future__ import annotations

import csv
import re
import sqlite3
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from register_batch.csvsafe import protect
from register_batch.errors import ConfigError, UnusableInput
from register_batch.generate import KINDS, generate
from register_batch.mapping import load_mapping
from register_batch.model import Issue, TraineeRecord
from register_batch.readers import InputInfo, csv_layout
from register_batch.readers.csv import read_mappings
from register_batch.validation import BatchIssuesUnavailable, Checker

AS_OF = date(2026, 11, 28)
FORMATS = ("register-csv", "hesa-csv")
NAMES = {"register-csv": ("first_names", "last_name"), "hesa-csv": ("F_FNAMES", "F_SURNAME")}
# What a CSV row cannot be as a mapping: more cells than the header has columns (csv.DictReader puts them under None).
NO_ROW_OF_ITS_OWN = {"malformed_record"}


def cell_value(cell: str | None, fmt: str) -> str | None:
    """What a CSV cell says, as hesa-formats.md has it (the test's own reading, not the reader's): spaces around and one
    leading apostrophe off (§3.3); blank, or a bare NULL, is no value (§1.4), and in a HESA-named CSV a protected one
    too (in Register's CSV it is the text Null, §5 item 31)."""
    if cell is None:
        return None
    value = cell.strip()
    protected = value.startswith("'")
    if protected:
        value = value[1:].strip()
    if not value or (value.lower() == "null" and not (protected and fmt == "register-csv")):
        return None
    return value


def csv_rows(path: Path, fmt: str) -> tuple[list[dict[str, str | None]], int]:
    """The file's rows as csv.DictReader reads them, each cell as the value it says; and how many cells that changed
    (protected codes, NULLs): the rows are the values, not the cells."""
    with path.open(encoding="utf-8-sig", newline="") as fh:
        cells = list(csv.DictReader(fh))
    rows = [{key: cell_value(cell, fmt) for key, cell in row.items()} for row in cells]
    changed = sum(row[key] != given[key] for row, given in zip(rows, cells, strict=True) for key in row)
    return rows, changed


def kinds_for_rows(fmt: str) -> list[str]:
    """Every defect kind of the format (those a run without --kinds leaves out too) but the rows no mapping can be."""
    return [name for name, kind in KINDS.items() if fmt in kind.formats and name not in NO_ROW_OF_ITS_OWN]


def generated(tmp_path: Path, fmt: str, count: int, **options: Any) -> Path:
    path = tmp_path / f"{fmt}.csv"
    generate(path, count=count, fmt=fmt, seed=62, as_of=AS_OF, **options)
    return path


def said(issue: Issue) -> tuple[Any, ...]:
    """What an issue says, but for where: a duplicate's message names the other record by its line in a file (`line 5
    of x.csv`: its number and one, under a header), by its number among rows, which have no lines (`record 4`)."""
    message = re.sub(r"\bline (\d+) of ", lambda m: f"record {int(m[1]) - 1} of ", issue.message)
    return (issue.record, issue.code, issue.field, issue.value, issue.severity.value, message)


def as_mapped(record: TraineeRecord) -> tuple[Any, ...]:
    return (
        record.data,
        record.withdrawal,
        record.deferral,
        record.vintage,
        record.partial_lists,
        record.ukprn,
        record.can_say,
    )


@pytest.mark.parametrize("fmt", FORMATS)
def test_rows_of_a_generated_csv_give_the_files_records_issues_and_batch_issues(tmp_path, fmt):
    leavers = {"withdrawn": 0.05, "deferred": 0.05} if fmt == "hesa-csv" else {}
    truth = tmp_path / "truth.json"
    path = generated(tmp_path, fmt, 700, defects=0.5, truth=truth, kinds=kinds_for_rows(fmt), **leavers)
    rows, changed = csv_rows(path, fmt)
    assert changed > 1000  # register-csv: its protected codes and dates; hesa-csv: its NULLs

    with Checker(fmt=fmt, as_of=AS_OF) as from_file:
        file_records = list(from_file.records([path]))
        file_batch = [(index, said(issue)) for index, issue in from_file.batch_issues()]
    with Checker(as_of=AS_OF) as from_rows:
        records = list(from_rows.rows(rows, fmt=fmt, name=str(path)))
        batch = [(index, said(issue)) for index, issue in from_rows.batch_issues()]
        [info] = from_rows.finish_inputs()

    assert [r.source.record for r in records] == [r.source.record for r in file_records] == list(range(1, 701))
    assert {r.source.line for r in records} == {None} and {r.source.input for r in records} == {str(path)}
    for mine, theirs in zip(records, file_records, strict=True):
        assert as_mapped(mine) == as_mapped(theirs)
        assert [said(issue) for issue in mine.issues] == [said(issue) for issue in theirs.issues]
    assert batch == file_batch
    # Enough found for a reading that differs anywhere to show: issues of many rules, and duplicates across records.
    codes = Counter(issue.code for record in records for issue in record.issues)
    assert sum(codes.values()) > 300 and len(codes) > 40
    assert {"duplicate_hesa_id", "duplicate_provider_trainee_id"} <= {entry[1][1] for entry in batch}
    assert (info.path, info.format, info.records, info.sha256) == (str(path), fmt, 700, "")
    if fmt == "hesa-csv":
        assert any(r.withdrawal for r in records) and any(r.deferral for r in records)


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_row_gives_the_raw_record_the_csv_reader_builds(tmp_path, fmt):
    path = generated(tmp_path, fmt, 300, defects=0.5, truth=tmp_path / "truth.json", kinds=kinds_for_rows(fmt))
    rows, _changed = csv_rows(path, fmt)
    with Checker(fmt=fmt) as checker:
        from_file = [(raw.source.record, raw.fields, raw.problems) for _info, raw in checker.raw_records([path])]
    info = InputInfo(path="srs", format=fmt)
    mine = [
        (raw.source.record, raw.fields, raw.problems)
        for raw in read_mappings(rows, info, csv_layout(fmt, load_mapping()))
    ]
    assert mine == from_file
    assert info.records == 300


def one_clean_row(tmp_path: Path, fmt: str) -> dict[str, str | None]:
    rows, _changed = csv_rows(generated(tmp_path, fmt, 1), fmt)
    return rows[0]


@pytest.mark.parametrize("fmt", FORMATS)
def test_values_are_taken_as_they_are_not_as_csv_cells(tmp_path, fmt):
    """A name 'Ofa is that name, and in Register's CSV a surname Null too (in HESA's, NULL is no value: the next
    tests); spaces around are trimmed, and blank is no value."""
    forenames, surname = NAMES[fmt]
    row = one_clean_row(tmp_path, fmt)
    null = "Null" if fmt == "register-csv" else "Nulla"  # a surname HESA can hold
    given = [
        {**row, surname: null, forenames: "'Ofa"},
        {**row, surname: f" {null.upper()} ", forenames: "  ''Ofa "},
        {**row, surname: "   ", forenames: ""},
    ]
    with Checker(as_of=AS_OF) as checker:
        first, second, third = checker.rows(given, fmt=fmt)
    assert (first.data["first_names"], first.data["last_name"]) == ("'Ofa", null)
    assert (second.data["first_names"], second.data["last_name"]) == ("''Ofa", null.upper())
    assert [issue.code for issue in first.issues + second.issues] == []
    assert "last_name" not in third.data and "first_names" not in third.data
    assert {(issue.code, issue.field) for issue in third.issues} >= {
        ("required", "first_names"),
        ("required", "last_name"),
    }
    # As cells, the same texts are read otherwise: one apostrophe comes off (and in Register's CSV a bare Null is no
    # value).
    unprotected = tmp_path / "cells.csv"
    with unprotected.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, list(row))
        writer.writeheader()
        writer.writerow(given[0])
    with Checker(fmt=fmt, as_of=AS_OF) as checker:
        [read] = checker.records([unprotected])
    cell_surname = None if fmt == "register-csv" else null
    assert (read.data.get("first_names"), read.data.get("last_name")) == ("Ofa", cell_surname)


def test_a_register_csv_written_with_protect_reads_back_as_the_rows(tmp_path):
    """A row's values written as Register's CSV cells with protect() give the same record from the file."""
    row = one_clean_row(tmp_path, "register-csv")
    given = [{**row, "last_name": "Null", "first_names": "'Ofa"}, {**row, "last_name": "=Lee", "middle_names": None}]
    written = tmp_path / "written.csv"
    with written.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(given[1]))
        writer.writerows([protect(r.get(key)) for key in given[1]] for r in given)
    with Checker(as_of=AS_OF) as from_rows, Checker(fmt="register-csv", as_of=AS_OF) as from_file:
        rows = [{key: r.get(key) for key in given[1]} for r in given]
        assert [as_mapped(r) for r in from_rows.rows(rows)] == [as_mapped(r) for r in from_file.records([written])]


def test_in_hesa_named_rows_null_is_no_value_as_in_a_hesa_named_csv(tmp_path):
    """In a HESA-named CSV NULL is no value, with an apostrophe or not, in any case (hesa-formats.md §1.4): no file
    can give a surname Null, and a row reads it as the file does (review63 F4). It was text in rows: every code and
    date a HESA export leaves out, NULL, was then an invalid value."""
    row = one_clean_row(tmp_path, "hesa-csv")
    nulls = {"F_SURNAME": "Null", "F_NIN": " null ", "F_DISABLE2": "NULL", "F_ITTPHSC": "NULL"}
    written = tmp_path / "written.csv"
    with written.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(row))
        writer.writerow([protect(value) for value in {**row, **nulls}.values()])
    with Checker(fmt="hesa-csv", as_of=AS_OF) as checker:
        [read] = checker.records([written])
    assert "last_name" not in read.data
    with Checker(as_of=AS_OF) as checker:
        [record] = checker.rows([{**row, **nulls}], fmt="hesa-csv")
    assert "last_name" not in record.data
    assert as_mapped(record) == as_mapped(read)
    assert [said(issue) for issue in record.issues] == [said(issue) for issue in read.issues]
    assert not [issue for issue in record.issues if "NULL" in (issue.message or "").upper()]


def test_in_register_csv_rows_null_stays_text(tmp_path):
    """Register's CSV can hold the text Null (a protected `'Null`, §5 item 31): a row's surname Null is that name."""
    row = one_clean_row(tmp_path, "register-csv")
    with Checker(as_of=AS_OF) as checker:
        [record] = checker.rows([{**row, "last_name": "NULL"}])
    assert record.data["last_name"] == "NULL"


@pytest.mark.parametrize(
    "fmt,header",
    [
        ("register-csv", ["provider_trainee_id", "hesa_idd"]),
        ("register-csv", ["provider_trainee_id", "hesa_id", "HESA_ID"]),
        ("hesa-csv", ["F_OWNSTU", "F_SURNAM"]),
    ],
)
def test_a_key_that_is_no_column_is_refused_as_a_csv_header_with_it_is(tmp_path, fmt, header):
    """The same refusal as the file's header (UnusableInput, its words), naming the row rather than line 1."""
    path = tmp_path / "extract.csv"
    path.write_text(",".join(header) + "\n" + ",".join("x" for _ in header) + "\n", encoding="utf-8")
    with Checker(fmt=fmt) as checker, pytest.raises(UnusableInput) as from_file:
        list(checker.records([path]))
    good = {header[0]: "1"}
    with Checker() as checker, pytest.raises(UnusableInput) as from_rows:
        list(checker.rows([good, dict.fromkeys(header, "x")], fmt=fmt, name="srs"))
    assert from_rows.value.problem == from_file.value.problem
    assert (from_rows.value.path, from_rows.value.record, from_rows.value.line) == ("srs", 2, None)
    assert str(from_rows.value).startswith("srs, record 2: ")


def _refusal(rows: Any, **options: Any) -> str:
    with Checker() as checker, pytest.raises(ConfigError) as refused:
        list(checker.rows(rows, name="srs", **options))
    return str(refused.value)


def test_a_value_that_is_not_text_is_a_config_error_naming_the_row_and_field_not_the_value():
    husid = {"provider_trainee_id": "A1", "hesa_id": 1234567890123}
    said = _refusal([{"provider_trainee_id": "A0"}, husid])
    assert said.startswith("srs, record 2, field hesa_id: a value of type int, ")
    assert "leading zeros" in said and "1234567890123" not in said
    said = _refusal([{"date_of_birth": date(1998, 10, 18)}])
    assert said.startswith("srs, record 1, field date_of_birth: a value of type date, ") and "1998" not in said
    assert "isoformat()" in said


def test_what_is_no_row_or_no_column_name_is_a_config_error_naming_the_row():
    assert _refusal([{"hesa_id": "1"}, ["hesa_id", "1"]]).startswith(
        "srs, record 2: a row is a mapping of column name to value (a dict), not of type list"
    )
    connection = sqlite3.connect(":memory:")
    connection.row_factory = sqlite3.Row
    [row] = connection.execute("SELECT '0500951347799' AS hesa_id").fetchall()
    assert "dict(row)" in _refusal([row])
    # csv.DictReader's cells beyond the header's columns, under None
    assert "csv.DictReader" in _refusal([{"hesa_id": "1", None: ["x"]}])
    assert _refusal([{"hesa_id": "1", 7: "x"}]).startswith("srs, record 1: a key of type int (7)")


def test_arguments_that_are_no_rows_are_refused_when_called():
    with Checker() as checker:
        for given, words in (
            ({"hesa_id": "1"}, "not one mapping given bare: put it in a list"),
            ("extract.csv", "to read a file, give its path to records()"),
            (Path("extract.csv"), "to read a file, give its path to records()"),
        ):
            with pytest.raises(ConfigError, match=words):
                checker.rows(given)  # type: ignore[arg-type]
        with pytest.raises(ConfigError, match="fmt 'hesa-xml' is no format rows are read as"):
            checker.rows([], fmt="hesa-xml")
        assert checker.inputs == []


def test_rows_and_files_are_one_batch(tmp_path):
    """Duplicates are found across a file and rows alike; batch_issues() waits for the rows' walk to end."""
    path = generated(tmp_path, "register-csv", 3)
    rows, _changed = csv_rows(path, "register-csv")
    with Checker(as_of=AS_OF) as checker:
        assert len(list(checker.records([path]))) == 3
        walk = checker.rows(rows[1:2], name="srs")
        next(walk)
        with pytest.raises(BatchIssuesUnavailable):
            checker.batch_issues()
        assert list(walk) == []
        found = [(index, issue) for index, issue in checker.batch_issues()]
    husids = [(index, issue.input, issue.record, issue.message) for index, issue in found if issue.field == "hesa_id"]
    said = f"hesa_id '{rows[1]['hesa_id']}' is on more than one record: line 3 of {path}, record 1 of srs"
    assert husids == [(1, str(path), 2, said), (3, "srs", 1, said)]


def test_every_rows_columns_are_looked_for_a_users_mapped_source(tmp_path):
    """A source a user's map names (`middle name`) that only a later row has is seen: a CSV's rows all have its
    header's columns, but rows may each have keys of their own. One that no row has is warned about, for `name`."""
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  register-csv:\n    trainee:\n      middle_names: middle name\n")
    row = one_clean_row(tmp_path, "register-csv")
    mapping = load_mapping([ours])
    with Checker(mapping=mapping, as_of=AS_OF) as checker:
        first, second = checker.rows([row, {**row, "middle name": "Ann"}], name="srs")
        [info] = checker.finish_inputs()
    assert second.data["middle_names"] == "Ann" and "middle_names" not in first.data
    assert [issue.code for issue in info.issues] == []
    with Checker(mapping=mapping, as_of=AS_OF) as checker:
        list(checker.rows([row, row], name="srs"))
        [info] = checker.finish_inputs()
    assert [(issue.code, issue.input, issue.value) for issue in info.issues] == [
        ("mapped_source_missing", "srs", "middle name")
    ]
