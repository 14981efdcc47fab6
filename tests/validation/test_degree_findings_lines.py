"""Every finding about one degree names that degree's line where the input gives it (a HESA XML Student's
PREVIOUSQUALIFICATION, TraineeRecord.degree_lines): a degree rule's, a trainee rule's naming `degrees_attributes[i]`
(control_character, ...), the follow-up beside one (leading_zeros_lost) and the mapping's translation of a degree's
code. A data officer sent to the Student's first line of a Student of several degrees looked in the wrong place."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from register_batch.jobs import validate_files

SAMPLE = Path(__file__).parents[1] / "fixtures" / "hesa_samples" / "itt_record_C23053.xml"
AS_OF = date(2026, 11, 28)


def _three_degrees() -> str:
    """The project's sample Student with three degrees: the second with a grade whose leading zero was lost and a
    control character (U+0085) in its institution, the third with a legacy degree type the mapping translates."""
    sample = SAMPLE.read_text(encoding="utf-8")
    start = sample.index("<PREVIOUSQUALIFICATION>")
    end = sample.index("</PREVIOUSQUALIFICATION>") + len("</PREVIOUSQUALIFICATION>")
    first = sample[start:end]
    second = (
        first.replace("<F_DEGCLSS>01</F_DEGCLSS>", "<F_DEGCLSS>2</F_DEGCLSS>")
        .replace("<F_DEGEST>0001</F_DEGEST>", "<F_DEGEST>00&#x85;01</F_DEGEST>")
        .replace("100251", "100100")
    )
    third = first.replace("<F_DEGTYPE>205</F_DEGTYPE>", "<F_DEGTYPE>004</F_DEGTYPE>").replace("100251", "100300")
    indent = "\n            "
    return sample[:start] + first + indent + second + indent + third + sample[end:]


def _lines_of(text: str, tag: str) -> list[int]:
    return [number for number, line in enumerate(text.splitlines(), start=1) if line.strip() == tag]


def test_findings_about_the_second_degree_name_its_previousqualifications_line(tmp_path):
    text = _three_degrees()
    extract = tmp_path / "three_degrees.xml"
    extract.write_text(text, encoding="utf-8")
    [student] = _lines_of(text, "<Student>")
    first, second, third = _lines_of(text, "<PREVIOUSQUALIFICATION>")
    assert student < first < second < third

    validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "r", jobs=1)
    with (tmp_path / "r" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [(row["field"], row["code"], row["line"]) for row in csv.DictReader(fh)]
    issues = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["issues"]
    from_json = [(issue["field"], issue["code"], str(issue["line"])) for issue in issues]
    assert rows == from_json

    for field, code in (
        ("degrees_attributes[1].institution", "control_character"),  # a trainee rule over all the text
        ("degrees_attributes[1].institution", "unknown_institution"),  # a degree rule
        ("degrees_attributes[1].grade", "degree_grade_required"),
        ("degrees_attributes[1].grade", "leading_zeros_lost"),  # the follow-up beside it
    ):
        assert (field, code, str(second)) in rows, (field, code, rows)
    assert ("degrees_attributes[2].uk_degree", "legacy_code_translated", str(third)) in rows, rows
    # The record's own findings keep the Student's line.
    assert ("training_route", "untranslatable_code", str(student)) in rows, rows
    degree_rows = [row for row in rows if row[0] and row[0].startswith("degrees_attributes[")]
    assert all(line != str(student) for _field, _code, line in degree_rows), degree_rows


def test_a_student_of_one_degree_names_its_previousqualifications_line_too(tmp_path):
    """Most Students have one degree: an issue about it names its PREVIOUSQUALIFICATION as for one of several, as
    docs/dry-run.md and report.schema.json say of `line` (review164 F2: record 2 of samples/defects.xml named its
    Student's line, some 75 lines above the degree)."""
    defects = Path(__file__).parents[2] / "samples" / "defects.xml"
    text = defects.read_text(encoding="utf-8")
    students = _lines_of(text, "<Student>")
    degrees = _lines_of(text, "<PREVIOUSQUALIFICATION>")
    second = students[1]
    [degree] = [line for line in degrees if second < line < students[2]]

    validate_files([defects], as_of=AS_OF, report_dir=tmp_path / "r", jobs=1)
    with (tmp_path / "r" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = [(row["record"], row["field"], row["code"], row["line"]) for row in csv.DictReader(fh)]
    assert ("2", "degrees_attributes[0].graduation_year", "degree_graduation_year_invalid", str(degree)) in rows, [
        row for row in rows if row[0] == "2"
    ]
    # Every degree issue of every Student names a PREVIOUSQUALIFICATION's line, never a Student's.
    degree_rows = [row for row in rows if row[1].startswith("degrees_attributes[")]
    assert degree_rows
    assert all(int(line) in degrees for *_rest, line in degree_rows), degree_rows
