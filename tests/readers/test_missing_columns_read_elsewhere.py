"""missing_columns of Register's CSV: a template column whose field a mapping file reads from another column is
missing all the same (Register's upload refuses the file), but its field is not read as blank (review58 F9)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from register_batch.mapping import load_mapping
from register_batch.mapping.apply import Mapper
from register_batch.readers import csv_layout
from register_batch.readers.base import InputInfo
from register_batch.readers.csv import read_csv


def student_number_csv(fixtures: Path, folder: Path, *, drop: str | None = None) -> Path:
    """Register's five_trainees.csv with its first column called `Student Number` (docs/mappings.md Example 4),
    and the column `drop` left out."""
    header, *rows = [line.split(",") for line in (fixtures / "five_trainees.csv").read_text().splitlines()]
    header[0] = "Student Number"
    keep = [n for n, name in enumerate(header) if name != drop]
    path = folder / "reg.csv"
    path.write_text("".join(",".join(row[n] for n in keep) + "\n" for row in [header, *rows]))
    return path


def missing_columns(path: Path, user_files: list[Path], *, told: bool = True) -> tuple[str, list[dict]]:
    """The missing_columns warning reading `path` with the field maps of `user_files`, told (or not) which columns
    they read; and the records as mapped."""
    config = load_mapping(user_files)
    layout = csv_layout("register-csv", config)
    layout = dataclasses.replace(layout, read=frozenset(config.fields["register-csv"].source_names()) if told else None)
    info = InputInfo(path=str(path), format="register-csv")
    with path.open("rb") as fh:
        records = [Mapper(config).map(raw, "register-csv").data for raw in read_csv(fh, info, layout, "utf-8")]
    [issue] = [i for i in info.issues if i.code == "missing_columns"]
    return issue.message, records


def mapping(folder: Path) -> Path:
    user = folder / "srs.yaml"
    user.write_text("fields:\n  register-csv:\n    trainee:\n      provider_trainee_id: student number\n")
    return user


def test_a_template_column_read_from_another_column_is_not_said_to_be_read_as_blank(register_csv_fixtures, tmp_path):
    path = student_number_csv(register_csv_fixtures, tmp_path)
    message, records = missing_columns(path, [mapping(tmp_path)])
    assert message == (
        "the header lacks 1 of the template's columns (provider_trainee_id): a mapping file reads its field from "
        "another column, and Register's own CSV upload would reject this file"
    )
    assert all(record["provider_trainee_id"] for record in records)  # read from Student Number, as said


def test_of_two_missing_columns_the_one_read_as_blank_is_named(register_csv_fixtures, tmp_path):
    path = student_number_csv(register_csv_fixtures, tmp_path, drop="hesa_id")
    message, records = missing_columns(path, [mapping(tmp_path)])
    assert message == (
        "the header lacks 2 of the template's columns (provider_trainee_id, hesa_id): hesa_id is read as blank, a "
        "mapping file reads the field of provider_trainee_id from another column, and Register's own CSV upload "
        "would reject this file"
    )
    assert not any(record.get("hesa_id") for record in records)


def test_a_missing_column_no_mapping_reads_elsewhere_is_read_as_blank_as_before(register_csv_fixtures, tmp_path):
    """Without a mapping file, and where the layout is not told what the field maps read, the words are unchanged."""
    path = student_number_csv(register_csv_fixtures, tmp_path, drop="hesa_id")
    path.write_text(path.read_text().replace("Student Number", "provider_trainee_id", 1))
    for told in (True, False):
        message, _records = missing_columns(path, [], told=told)
        assert message == (
            "the header lacks 1 of the template's columns (hesa_id): it is read as blank, and Register's own CSV "
            "upload would reject this file"
        )
