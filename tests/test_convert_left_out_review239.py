"""review239: what convert leaves out (review233 F1), looked at again.

F1: a duplicate HUSID or SRS id was always taken as shown by the output, as both records are written. When one
record of the pair was left out for an error of its own, the other was written alone: validate of the CSV passed it,
and a sync created it under the id another trainee holds. A duplicate is shown only while two records of its group
are written; a record left alone is left out too, and so on until none is."""

from __future__ import annotations

import csv
import dataclasses
import re
import shlex
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.generate import generate
from register_batch.jobs import ConvertResult, convert_files, validate_files

SAMPLES = Path(__file__).parent.parent / "samples"
AS_OF = date(2026, 11, 28)
OURS = "10052198"
HUSID, SRS_ID = "2501899113692", "25495812/1/26"


def _base() -> str:
    text = (SAMPLES / "extract.xml").read_text(encoding="utf-8")
    return re.findall(r"<Student>.*?</Student>", text, re.S)[3]


def _person(student: str, n: int, *, husid: str | None = None, srs_id: str | None = None) -> str:
    """`student` as another trainee (their own name, email, HUSID and SRS id), but for the `husid` or `srs_id` given."""
    assert HUSID in student and SRS_ID in student
    return (
        student.replace(HUSID, husid or f"250189911{n}000")
        .replace(SRS_ID, srs_id or f"S{n}")
        .replace("abena.cooper", f"trainee{n}")
        .replace("Abena", f"Name{'abcdefgh'[n]}")
    )


def _malformed(student: str) -> str:
    return student.replace("<F_SURNAME>Cooper</F_SURNAME>", "<F_SURNAME>Cooper</F_SURNAME><F_SURNAME>Smith</F_SURNAME>")


def _extract(path: Path, students: list[str]) -> Path:
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<ITTRecord>\n' + "\n".join(students) + "\n</ITTRecord>\n",
        encoding="utf-8",
    )
    return path


def _round_trip(extract: Path, tmp_path: Path, to: str = "register-csv") -> tuple[set[int], set[int], set[int], int]:
    """(records left out, records the input's validate refuses, written records the CSV's validate refuses, by their
    record number in the input, and written_invalid)."""
    out = tmp_path / "out.csv"
    result = convert_files([str(extract)], to=to, output=out, as_of=AS_OF)
    left_out = {note.record for _index, note in result.left_out}
    report = validate_files([str(extract)], as_of=AS_OF, report_dir=tmp_path / "xml").report
    invalid = {index + 1 for index in range(report.summary.records) if report.is_invalid(index)}
    written = [n for n in range(1, report.summary.records + 1) if n not in left_out]
    assert result.written == len(written)
    if not written:
        return left_out, invalid, set(), result.written_invalid
    csv = validate_files([str(out)], as_of=AS_OF, report_dir=tmp_path / "csv").report
    assert csv.summary.records == len(written)
    csv_invalid = {written[index] for index in range(csv.summary.records) if csv.is_invalid(index)}
    return left_out, invalid, csv_invalid, result.written_invalid


def _left_alone_pair(path: Path) -> Path:
    """The review's repro: record 1 malformed, record 2 another trainee with record 1's SRS id; record 3 clean."""
    base = _base()
    return _extract(
        path, [_malformed(_person(base, 1, srs_id="SHARED")), _person(base, 2, srs_id="SHARED"), _person(base, 3)]
    )


def test_a_record_whose_duplicate_partner_is_left_out_is_left_out_too(tmp_path):
    """The review's repro: record 1 malformed, record 2 another trainee with record 1's SRS id; record 3 clean."""
    extract = _left_alone_pair(tmp_path / "dup.xml")
    out = tmp_path / "dup.csv"
    result = convert_files([str(extract)], to="register-csv", output=out, as_of=AS_OF)
    said = {note.record: note.message for _index, note in result.left_out}
    assert sorted(said) == [1, 2]
    assert "malformed_record" in said[1]
    assert "its error duplicate_provider_trainee_id (provider_trainee_id) would not be seen" in said[2]
    assert "every other record with its provider_trainee_id is left out" in said[2]
    assert (result.written, result.written_invalid) == (1, 0)
    assert "SHARED" not in out.read_text(encoding="utf-8")
    left_out, invalid, csv_invalid, _ = _round_trip(extract, tmp_path)
    assert (left_out, invalid, csv_invalid) == ({1, 2}, {1, 2}, set())


def test_the_upload_line_is_said_only_when_a_written_row_fails(tmp_path):
    base = _base()
    extract = _extract(
        tmp_path / "dup.xml",
        [_malformed(_person(base, 1, husid="2501899119999")), _person(base, 2, husid="2501899119999")],
    )
    args = ["convert", str(extract), "--to", "register-csv", "-o", str(tmp_path / "o.csv"), "--as-of", "2026-11-28"]
    run = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert run.exit_code == 1
    assert "Register's upload adds none" not in run.stderr
    assert "record 2, line" in run.stderr and "duplicate_hesa_id (hesa_id) would not be seen" in run.stderr
    # Both records of a pair written: each row fails the CSV's own duplicate check, and that is said
    pair = _extract(tmp_path / "pair.xml", [_person(base, 1, srs_id="SHARED"), _person(base, 2, srs_id="SHARED")])
    both = CliRunner().invoke(cli, [args[0], str(pair), *args[2:]], catch_exceptions=False)
    assert both.exit_code == 1 and "Wrote 2 records" in both.stdout
    assert "Register's upload adds none" in both.stderr


def test_leaving_out_a_record_alone_can_leave_its_other_ids_partner_alone_in_turn(tmp_path):
    """Record 1 malformed shares its HUSID with record 2, which shares its SRS id with record 3: 2 is left alone by 1,
    and 3 by 2. Record 4 shares a HUSID with 5, both written: their duplicate is shown."""
    base = _base()
    extract = _extract(
        tmp_path / "chain.xml",
        [
            _malformed(_person(base, 1, husid="2501899117777")),
            _person(base, 2, husid="2501899117777", srs_id="CHAIN"),
            _person(base, 3, srs_id="CHAIN"),
            _person(base, 4, husid="2501899118888"),
            _person(base, 5, husid="2501899118888"),
            _person(base, 6),
        ],
    )
    left_out, invalid, csv_invalid, written_invalid = _round_trip(extract, tmp_path)
    assert left_out == {1, 2, 3}
    assert csv_invalid == invalid - left_out == {4, 5}
    assert written_invalid == 2


@pytest.mark.parametrize("seed", [2, 4])
def test_a_generated_round_trip_of_malformed_records_and_duplicates_loses_no_error(tmp_path, seed):
    """What the review asks for: every record the input's validate refuses is left out or refused again by the CSV's,
    no written record is refused that was not, and written_invalid counts the rows refused."""
    extract = tmp_path / "g.xml"
    generate(
        extract,
        count=300,
        defects=0.4,
        truth=tmp_path / "g.truth.json",
        seed=seed,
        as_of=AS_OF,
        kinds=["malformed_record", "duplicate_provider_trainee_id", "duplicate_hesa_id"],
    )
    left_out, invalid, csv_invalid, written_invalid = _round_trip(extract, tmp_path)
    assert left_out and left_out <= invalid
    assert csv_invalid == invalid - left_out
    assert written_invalid == len(csv_invalid)


def test_jsonl_leaves_a_duplicate_alone_out_as_well(tmp_path):
    extract = _left_alone_pair(tmp_path / "dup.xml")
    out = tmp_path / "o.jsonl"
    result = convert_files([str(extract)], to="jsonl", output=out, as_of=AS_OF, ukprn=OURS)
    assert [note.record for _index, note in result.left_out] == [1, 2]
    assert "SHARED" not in out.read_text(encoding="utf-8")


def _two_providers(path: Path) -> Path:
    """samples/extract.xml with its second Student another provider's."""
    text = (SAMPLES / "extract.xml").read_text(encoding="utf-8")
    second = text.index("<Student>", text.index("<Student>") + 1)
    at = text.index(f"<F_UKPRN>{OURS}</F_UKPRN>", second)
    path.write_text(text[:at] + "<F_UKPRN>10000952</F_UKPRN>" + text[at + len(OURS) + 19 :], encoding="utf-8")
    return path


def test_another_providers_record_left_out_says_what_to_do_not_to_correct_it(tmp_path):
    """F2: the only advice on screen was "correct it in the input"; what helps is --ukprn, and another provider's
    record is sent with that provider's token."""
    extract = _two_providers(tmp_path / "two.xml")
    out = tmp_path / "two.csv"
    several = convert_files([str(extract)], to="register-csv", output=out, as_of=AS_OF)
    assert several.written == 0 and several.left_out
    for _index, note in several.left_out:
        assert "several_providers (ukprn)" in note.message
        assert "convert them once for each provider, giving its UKPRN with --ukprn" in note.message
        assert "send each provider's records with its own token" in note.message
        assert "correct it in the input" not in note.message
    other = convert_files([str(extract)], to="register-csv", output=out, as_of=AS_OF, ukprn=OURS)
    [(_index, note)] = other.left_out
    assert note.record == 2 and "other_provider_record (ukprn)" in note.message
    assert "send it with that provider's own token" in note.message
    assert "correct it in the input" not in note.message
    # Any other record left out is still to be corrected
    malformed = _extract(tmp_path / "m.xml", [_malformed(_base())])
    [(_index, note)] = convert_files([str(malformed)], to="jsonl", output=tmp_path / "m.jsonl", as_of=AS_OF).left_out
    assert note.message.endswith("correct it in the input and convert again")


def test_the_validate_command_convert_suggests_judges_the_input_as_convert_did(tmp_path):
    """F4: the hint named the inputs alone: copied, it refused a user's column (no --mapping: exit 2), or judged
    another provider's records and another day."""
    source = tmp_path / "h.csv"
    generate(source, count=3, fmt="hesa-csv", seed=1, as_of=AS_OF, ukprn=OURS)
    rows = list(csv.reader(source.open(encoding="utf-8-sig", newline="")))
    rows[0].append("MIDNAME")
    rows[1][rows[0].index("F_SURNAME")] = ""  # one record with an error, so the hint is given
    for row in rows[1:]:
        row.append("Ann")
    extract = tmp_path / "with a middle name.csv"
    with extract.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    mapping = tmp_path / "my map.yaml"
    mapping.write_text("fields:\n  hesa:\n    trainee:\n      middle_names: MIDNAME\n", encoding="utf-8")
    args = ["convert", str(extract), "--to", "jsonl", "-o", str(tmp_path / "o.jsonl"), "--format", "hesa-csv"]
    args += ["--mapping", str(mapping), "--ukprn", OURS, "--as-of", "2026-11-28"]
    run = CliRunner().invoke(cli, args, catch_exceptions=False)
    [hint] = [line for line in run.stderr.splitlines() if "for the report" in line]
    assert hint.startswith("1 of 3 records has errors; run `")
    command = shlex.split(hint.split("`")[1])
    assert command == [
        "register-batch",
        "validate",
        str(extract),
        "--format",
        "hesa-csv",
        "--mapping",
        str(mapping),
        "--ukprn",
        OURS,
        "--as-of",
        "2026-11-28",
    ]
    validated = CliRunner().invoke(cli, [*command[1:], "--report-dir", str(tmp_path / "r")], catch_exceptions=False)
    assert validated.exit_code == 1
    assert validated.stdout.startswith("3 records: 2 valid, 1 with errors")


def test_the_library_page_names_every_field_of_a_convert_result():
    """F5: library.md listed neither `left_out` nor `written_invalid`, and said a register-csv goes unwritten only
    when `skip_invalid` left every record out; a vendor counting rows without it met fewer than it read."""
    page = (SAMPLES.parent / "docs" / "library.md").read_text(encoding="utf-8")
    section = page[page.index("## What each function returns") : page.index("## Each record's result")]
    returns = " ".join(section.split())
    assert all(f"`{field.name}`" in returns for field in dataclasses.fields(ConvertResult))
    assert "`convert_files` leaves out, with or without `skip_invalid`" in returns
