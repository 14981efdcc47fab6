"""review151 F5: `duplicate_degrees` keeps Register's message word for word (register-api.md §3.3 R7b; the emulator
answers with it), and says in its value which degrees are alike and the values Register compares them by."""

from __future__ import annotations

import copy
import csv
from datetime import date
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.generate import generate
from register_batch.jobs import validate_files
from valid_trainee import VALID, validated

DEGREE = VALID["degrees_attributes"][0]  # uk_degree 083, subject 100485, grade 02, graduation_year 2012
MESSAGE = "degrees_attributes contains duplicate degrees"
SAID = "subject 100485, graduation_year 2012, uk_degree 083, grade 02"  # R7b's fields in its order; no country: UK


def degrees_twice(extract: Path, fmt: str) -> Path:
    """A generated extract of six records, half of them with a degree given twice (the generator's own defect)."""
    generate(
        extract,
        count=6,
        fmt=fmt,
        seed=3,
        as_of=date(2026, 11, 28),
        defects=0.5,
        kinds=["duplicate_degrees"],
        truth=extract.with_name("truth.json"),
    )
    return extract


def duplicates(degrees: list[dict]) -> list[tuple[str | None, str | None, str]]:
    data = copy.deepcopy(VALID)
    data["degrees_attributes"] = degrees
    record = validated(data)
    return [(i.field, i.value, i.message) for i in record.issues if i.code == "duplicate_degrees"]


def test_the_value_names_the_two_degrees_alike_and_what_register_compares():
    assert duplicates([DEGREE, dict(DEGREE)]) == [("degrees_attributes", f"degrees 1 and 2: {SAID}", MESSAGE)]


def test_the_degrees_are_numbered_in_the_order_sent_and_an_unlike_one_is_not_named():
    other = dict(DEGREE, subject="100346")
    assert duplicates([other, DEGREE, dict(DEGREE)]) == [("degrees_attributes", f"degrees 2 and 3: {SAID}", MESSAGE)]
    assert duplicates([DEGREE, other, dict(DEGREE), dict(DEGREE)]) == [
        ("degrees_attributes", f"degrees 1, 3 and 4: {SAID}", MESSAGE)
    ]


def test_two_pairs_are_one_issue_naming_both_as_register_gives_one_message():
    other = dict(DEGREE, subject="100346")
    assert duplicates([DEGREE, other, dict(DEGREE), dict(other)]) == [
        (
            "degrees_attributes",
            f"degrees 1 and 3: {SAID}; degrees 2 and 4: {SAID.replace('100485', '100346')}",
            MESSAGE,
        )
    ]


def test_values_are_said_as_register_compares_them():
    """Grade 09 is stored as 14 (§3.7), a date as its year, an unknown code as blank: what makes them alike."""
    first = dict(DEGREE, grade="14", graduation_year="2012-07-31", subject="000000")
    second = dict(first, grade="09", graduation_year="2012-06-30")
    assert duplicates([first, second]) == [
        ("degrees_attributes", "degrees 1 and 2: graduation_year 2012, uk_degree 083, grade 14", MESSAGE)
    ]


def test_a_generated_extract_with_a_degree_twice_names_both_in_the_reports(tmp_path):
    as_of = date(2026, 11, 28)
    extract = tmp_path / "twice.xml"
    degrees_twice(extract, "hesa-xml")
    result = validate_files([extract], as_of=as_of, report_dir=tmp_path / "lib", jobs=1)
    cli_run = CliRunner().invoke(
        cli,
        ["validate", str(extract), "--as-of", as_of.isoformat(), "--report-dir", str(tmp_path / "cli")],
        catch_exceptions=False,
    )
    assert result.exit_code == cli_run.exit_code == 1, cli_run.output
    for report in ("lib", "cli"):
        with (tmp_path / report / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
            rows = [row for row in csv.DictReader(fh) if row["code"] == "duplicate_degrees"]
        assert [row["record"] for row in rows] == ["1", "3", "4"]  # the generator's truth (seed 3)
        assert {row["message"] for row in rows} == {MESSAGE}
        assert rows[0]["value"] == "degrees 1 and 2: subject 101361, graduation_year 2017, uk_degree 051, grade 03"
        assert (
            rows[1]["value"] == "degrees 1 and 2: subject 100332, graduation_year 2023, country AU, non_uk_degree 083"
        )


def _issue_rows(report_dir) -> list[dict[str, str]]:
    with (report_dir / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        return [row for row in csv.DictReader(fh) if row["code"] == "duplicate_degrees"]


def _second_degree_lines(text: str) -> dict[int, int]:
    """Per Student (1-based), the line of its second <PREVIOUSQUALIFICATION>, for Students with two or more."""
    found: dict[int, list[int]] = {}
    student = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if "<Student>" in line:
            student += 1
        if "<PREVIOUSQUALIFICATION>" in line:
            found.setdefault(student, []).append(number)
    return {record: lines[1] for record, lines in found.items() if len(lines) > 1}


def test_in_hesa_xml_the_issue_names_the_line_of_the_repeated_degree_in_one_process_or_two(tmp_path):
    """review151 F5: the record's line was given, its two PREVIOUSQUALIFICATIONs 70 and 85 lines below it. The line
    is the repeat's, the second of the two, the one to remove."""
    as_of = date(2026, 11, 28)
    extract = tmp_path / "twice.xml"
    degrees_twice(extract, "hesa-xml")
    expected = _second_degree_lines(extract.read_text())
    for jobs in (1, 2):
        validate_files([extract], as_of=as_of, report_dir=tmp_path / f"jobs{jobs}", jobs=jobs)
        rows = _issue_rows(tmp_path / f"jobs{jobs}")
        assert [(row["record"], row["line"]) for row in rows] == [
            (str(record), str(expected[record])) for record in (1, 3, 4)
        ], jobs


def _student_with_degrees(*degrees: str) -> str:
    """A valid Student of the project's sample (its one PREVIOUSQUALIFICATION replaced by `degrees`)."""
    from pathlib import Path

    sample = (Path(__file__).parents[1] / "fixtures" / "hesa_samples" / "itt_record_C23053.xml").read_text()
    start, end = sample.index("<Student>"), sample.index("</Student>") + len("</Student>")
    student = sample[start:end]
    first = student.index("<PREVIOUSQUALIFICATION>")
    last = student.rindex("</PREVIOUSQUALIFICATION>") + len("</PREVIOUSQUALIFICATION>")
    return student[:first] + "\n".join(degrees) + student[last:]


def test_a_dropped_all_null_degree_and_lines_past_65535_keep_each_degree_on_its_own_line(tmp_path):
    """An all-NULL PREVIOUSQUALIFICATION is no degree (hesa-formats.md §1.4): the lines stay with the degrees kept.
    libxml2 keeps a line in 16 bits: past 65,535 the line is worked out as the Student's is (_start_line)."""
    from pathlib import Path

    sample = (Path(__file__).parents[1] / "fixtures" / "hesa_samples" / "itt_record_C23053.xml").read_text()
    start = sample.index("<Student>")
    degree = sample[sample.index("<PREVIOUSQUALIFICATION>") : sample.index("</PREVIOUSQUALIFICATION>")]
    degree += "</PREVIOUSQUALIFICATION>"
    empty = "<PREVIOUSQUALIFICATION><F_DEGTYPE>NULL</F_DEGTYPE></PREVIOUSQUALIFICATION>"
    student = _student_with_degrees(empty, degree, degree)
    for padding in (0, 70_000):
        text = sample[:start] + "<!--" + "\n" * padding + "-->" + student + "\n</ITTRecord>\n"
        extract = tmp_path / f"padded{padding}.xml"
        extract.write_text(text)
        validate_files([extract], as_of=date(2026, 11, 28), report_dir=tmp_path / f"r{padding}", jobs=1)
        [row] = _issue_rows(tmp_path / f"r{padding}")
        lines = [n for n, line in enumerate(text.splitlines(), start=1) if "<PREVIOUSQUALIFICATION>" in line]
        assert row["line"] == str(lines[2]), (padding, lines)  # the third element, the second degree kept
        assert row["value"].startswith("degrees 1 and 2: ")


def test_a_hesa_csvs_degrees_are_on_the_records_line(tmp_path):
    """A CSV row holds its degrees in numbered columns on its own line: the record's line, as before."""
    as_of = date(2026, 11, 28)
    extract = tmp_path / "twice.csv"
    degrees_twice(extract, "hesa-csv")
    validate_files([extract], as_of=as_of, report_dir=tmp_path / "r", jobs=1)
    rows = _issue_rows(tmp_path / "r")
    assert rows and all(int(row["line"]) == int(row["record"]) + 1 for row in rows)
