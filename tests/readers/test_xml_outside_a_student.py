"""A trainee's tags, placements or degrees outside any `<Student>` of a HESA XML extract refuse the file (exit 2, one
line naming the file, line and element): never left out without a word (review53 F1; hesa-formats.md §1.2, §5 item 1).

The reader took every `<Student>` and freed everything else unread. A misspelt or renamed record element (`<Studnet>`,
`<Students>`, `<Trainee>`) lost its trainee from validate, convert and sync, and a `<PLACEMENTS>` group an SRS template
nested outside its Student sent the trainee without its placements: "12 valid", exit 0, in both cases.
"""

from __future__ import annotations

import os
import re
from datetime import date
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.jobs import validate_files
from register_batch.readers.hesa_xml import find_chunks
from xml_reads import line_of, read, read_in_parts

AS_OF = date(2026, 11, 28)
EXTRACT = Path(__file__).parents[2] / "samples" / "extract.xml"
TOKEN = "outside-a-student-token"


def renamed_first(spelling: str) -> str:
    """samples/extract.xml with its first Student's element spelt `spelling` (the review's typo.xml)."""
    text = EXTRACT.read_text(encoding="utf-8")
    return text.replace("<Student>", f"<{spelling}>", 1).replace("</Student>", f"</{spelling}>", 1)


def first_group_moved_out(group: str) -> tuple[str, int]:
    """samples/extract.xml with the first Student's `group` (PLACEMENTS, or its first PLACEMENT...) moved after its
    end tag, as an SRS template's nesting slip puts it (the review's strayplm.xml); and the line it is moved to."""
    text = EXTRACT.read_text(encoding="utf-8")
    end = text.index("</Student>") + len("</Student>\n")
    start = text.rindex("\n", 0, text.index(f"<{group}>", 0, end)) + 1
    stop = text.index(f"</{group}>", start) + len(f"</{group}>\n")
    assert stop < end
    moved = text[:start] + text[stop:end] + text[start:stop] + text[end:]
    return moved, moved.count("\n", 0, end - (stop - start)) + 1


def trainee_tags_message(path: Path, line: int, element: str, place: str = ", before the first record") -> str:
    """The refusal of a misnamed record; `place`: where it is among the records, as a parse error there says it."""
    return (
        f"register-batch: error: {path}, line {line}: a <{element}> element holds a trainee's tags (F_HUSID, F_OWNSTU "
        f"and 10 more) but is not <Student>{place}: its record would be left out; name it <Student>"
    )


GROUPS = {
    "PLACEMENTS": "placements",
    "PLACEMENT": "placement",
    "PREVIOUSQUALIFICATIONS": "degrees (previous qualifications)",
    "PREVIOUSQUALIFICATION": "degree (previous qualification)",
}


def group_message(path: Path, line: int, group: str, place: str = ", after record 1") -> str:
    """The refusal of a group outside any Student; `place`: where it is among the records."""
    return (
        f"register-batch: error: {path}, line {line}: a <{group}> element is outside any <Student>{place}: its "
        f"{GROUPS[group]} would be left out; put it in its trainee's <Student>"
    )


def refused_by(command: str, path: Path, tmp_path: Path):
    """`command` run on `path` as a user runs it: its result, and the files it wrote."""
    out = tmp_path / "out.jsonl"
    args = {
        "validate": ["validate", str(path), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "r")],
        "convert": ["convert", str(path), "--to", "jsonl", "-o", str(out), "--report-dir", str(tmp_path / "r")],
    }[command]
    result = CliRunner().invoke(cli, args)
    return result, [p for p in (tmp_path / "r" / "report.json", out) if p.exists()]


# -- a record element that is not <Student> ------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "convert"])
@pytest.mark.parametrize("spelling", ["Studnet", "Students", "Trainee"])
def test_a_misnamed_record_element_is_refused_naming_its_line(tmp_path, spelling, command):
    """`<Studnet>` for the first Student: "11 records: 11 valid", exit 0, the trainee missing from the report and the
    output (and, synced, never created)."""
    text = renamed_first(spelling)
    path = tmp_path / "typo.xml"
    path.write_text(text, encoding="utf-8")
    result, written = refused_by(command, path, tmp_path)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [trainee_tags_message(path, line_of(text, f"<{spelling}>"), spelling)]
    assert "Traceback" not in result.output and written == []


def test_a_misnamed_record_in_lower_case_with_lower_case_tags_is_refused(tmp_path):
    """A Student's tags are read in any case (docs/formats.md), so a trainee's are found in any case too."""
    text = EXTRACT.read_text(encoding="utf-8")
    end = text.index("</Student>") + len("</Student>")
    start = text.index("<Student>")
    first = re.sub(r"<(/?)(F_\w+)>", lambda m: f"<{m.group(1)}{m.group(2).lower()}>", text[start:end])
    path = tmp_path / "lower.xml"
    path.write_text(text[:start] + first.replace("Student>", "trainee>") + text[end:], encoding="utf-8")
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == 3
    assert caught.value.problem.startswith("a <trainee> element holds a trainee's tags (f_husid, f_ownstu and 10 more)")


@pytest.mark.parametrize("where", ["in-the-root", "in-a-provider-wrapper"])
def test_a_trainees_tags_loose_beside_the_records_are_refused_at_the_first_tags_line(tmp_path, where):
    """A Student that lost its start and end tags: its tags loose in <ITTRecord> (or in a <Provider> beside its
    Students) were freed unread."""
    text = EXTRACT.read_text(encoding="utf-8")
    if where == "in-a-provider-wrapper":
        text = text.replace("<ITTRecord>\n", "<ITTRecord>\n<Provider>\n", 1).replace(
            "</ITTRecord>", "</Provider>\n</ITTRecord>"
        )
    second = text.index("    <Student>", text.index("</Student>"))
    text = text[:second] + text[second:].replace("    <Student>\n", "", 1).replace("    </Student>\n", "", 1)
    path = tmp_path / "loose.xml"
    path.write_text(text, encoding="utf-8")
    holder = "Provider" if where == "in-a-provider-wrapper" else "ITTRecord"
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == line_of(text, "<F_ITTKEY>", 1) and caught.value.record is None
    assert caught.value.problem == (
        f"a <{holder}> element holds a trainee's tags (F_HUSID, F_OWNSTU and 10 more) outside any <Student>, after "
        "record 1: they would be left out; put them in their trainee's <Student>"
    )


def test_a_file_of_misnamed_records_alone_is_refused_for_them_not_as_having_no_records(tmp_path):
    """Every record a <Trainee>: "no <Student> records in the <ITTRecord> document", which did not say why."""
    text = EXTRACT.read_text(encoding="utf-8").replace("Student>", "Trainee>")
    path = tmp_path / "trainees.xml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == 3 and caught.value.problem.startswith("a <Trainee> element holds a trainee's tags")


# -- HESA's groups outside any Student ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["validate", "convert"])
@pytest.mark.parametrize("group", list(GROUPS))
def test_placements_or_degrees_outside_any_student_are_refused_naming_their_line(tmp_path, group, command):
    """The first trainee's PLACEMENTS after its </Student>: 12 valid, exit 0, and the trainee converted (and created)
    without its two placements. Degrees moved out the same way were caught only where a rule needs a degree."""
    text, line = first_group_moved_out(group)
    path = tmp_path / "stray.xml"
    path.write_text(text, encoding="utf-8")
    result, written = refused_by(command, path, tmp_path)
    assert result.exit_code == 2, result.output
    assert result.output.splitlines() == [group_message(path, line, group)]
    assert "Traceback" not in result.output and written == []


def test_the_reviews_stray_placements_are_refused_at_line_77(tmp_path):
    """The review's own construction (record 1's PLACEMENTS moved after its </Student>), run by subprocess."""
    from cli_runs import run_cli

    lines = EXTRACT.read_text(encoding="utf-8").split("\n")
    path = tmp_path / "strayplm.xml"
    path.write_text("\n".join(lines[:55] + lines[65:86] + lines[55:65] + lines[86:]), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    result = run_cli(["validate", str(path), "--report-dir", "r"], tmp_path, env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [group_message(path, 77, "PLACEMENTS")]


def test_an_empty_group_outside_any_student_loses_nothing_and_is_read(tmp_path):
    text = EXTRACT.read_text(encoding="utf-8")
    end = text.index("</Student>") + len("</Student>\n")
    path = tmp_path / "empty.xml"
    path.write_text(
        text[:end] + "    <PLACEMENTS/>\n    <PREVIOUSQUALIFICATIONS>\n    </PREVIOUSQUALIFICATIONS>\n" + text[end:]
    )
    [(info, _rows)] = read(path)
    assert info.records == 12


# -- sync sends nothing -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["misnamed-record", "stray-placements"])
def test_sync_of_a_file_with_content_outside_a_student_exits_2_and_sends_nothing(tmp_path, monkeypatch, damage):
    """Synced, the misnamed trainee was never created and the other created without its placements: "11 records:
    11 created", exit 0, no warning anywhere."""
    from register_batch.emulator import start_emulator

    path = tmp_path / "extract.xml"
    if damage == "misnamed-record":
        path.write_text(renamed_first("Studnet"), encoding="utf-8")
        expected = trainee_tags_message(path, 3, "Studnet")
    else:
        text, line = first_group_moved_out("PLACEMENTS")
        path.write_text(text, encoding="utf-8")
        expected = group_message(path, line, "PLACEMENTS")
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    with start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None, as_of=AS_OF, seed=7) as emulator:
        args = ["sync", str(path), "--target", emulator.url, "--as-of", AS_OF.isoformat()]
        args += ["--state-dir", str(tmp_path / "state"), "--report-dir", str(tmp_path / "r")]
        result = CliRunner().invoke(cli, args)
        routes = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [expected]
    assert result.stdout.splitlines() == [f"Target: {emulator.url}"]
    assert {route: n for route, n in routes.items() if not route.startswith("GET")} == {}


# -- what must still be read --------------------------------------------------------------------------------------


def line_offset(text: str, records: int) -> int:
    """The position just after the `records`-th </Student>."""
    position = 0
    for _ in range(records):
        position = text.index("</Student>", position) + len("</Student>")
    return position


def test_the_bundled_sample_and_provider_wrapped_files_read_every_record(tmp_path):
    """A <Provider> may hold its UKPRN, collection id and timestamps for all of its Students: no trainee's tags."""
    text = EXTRACT.read_text(encoding="utf-8")
    wrapper = "<Provider>\n<F_UKPRN>10052198</F_UKPRN>\n<F_RECID>22053</F_RECID>\n<F_STATUS>UPDATED</F_STATUS>\n"
    wrapped = text.replace("<ITTRecord>\n", f"<ITTRecord>\n{wrapper}", 1).replace(
        "</ITTRecord>", "</Provider>\n</ITTRecord>"
    )
    sixth = text.index("    <Student>", line_offset(text, 5))
    half = text[:sixth] + wrapper + text[sixth:].replace("</ITTRecord>", "</Provider>\n</ITTRecord>")
    expected = [(raw.fields, raw.groups) for raw in read(EXTRACT)[0][1]]
    assert len(expected) == 12
    for name, content in [("wrapped.xml", wrapped), ("half.xml", half)]:
        path = tmp_path / name
        path.write_text(content, encoding="utf-8")
        [(info, rows)] = read(path)
        assert info.records == 12 and [(raw.fields, raw.groups) for raw in rows] == expected, name


def test_every_reference_sample_is_still_read(shared_reference, hesa_samples):
    """HESA's own fixtures (every kept version, one-line and zipped) read as before: one Student each."""
    paths = sorted((shared_reference / "hesa_samples").iterdir()) + sorted(hesa_samples.iterdir())
    assert len(paths) >= 10
    for path in paths:
        [(info, rows)] = read(path)
        assert info.records == len(rows) == 1, path.name


# -- one process or two -------------------------------------------------------------------------------------------


def late_misnamed(text: str) -> tuple[str, int, int]:
    """A Student past nine tenths of `text` spelt <Studnet>, its line, and the records before it."""
    late = text.index("<Student>", len(text) * 9 // 10)
    damaged = text[:late] + text[late:].replace("Student>", "Studnet>", 2)
    return damaged, text.count("\n", 0, late) + 1, text.count("</Student>", 0, late)


def late_stray_placements(text: str) -> tuple[str, int, int]:
    """A Student past nine tenths of `text` with its PLACEMENTS moved after its end tag, their line, and the records
    before them (that Student's the last)."""
    late = text.index("<PLACEMENTS>", len(text) * 9 // 10)
    start = text.rindex("\n", 0, late) + 1
    stop = text.index("</PLACEMENTS>", start) + len("</PLACEMENTS>\n")
    end = text.index("</Student>", stop) + len("</Student>\n")
    moved = text[:start] + text[stop:end] + text[start:stop] + text[end:]
    return moved, moved.count("\n", 0, end - (stop - start)) + 1, text.count("</Student>", 0, end)


@pytest.mark.parametrize("damage", [late_misnamed, late_stray_placements], ids=["misnamed", "stray-placements"])
def test_a_chunked_file_is_refused_as_in_one_process(long_extract, small_chunks, tmp_path, damage):
    """Past line 65,535, in a chunk a reader of it alone numbers after padding: the same line and refusal, whether
    one process reads the file or two share it. A chunk's count of records is not the file's: a reader of one alone
    names no place among them, and the file is read again whole to name it (validation/parallel.py)."""
    text, line, before = damage(long_extract.read_text())
    path = tmp_path / "late.xml"
    path.write_text(text)
    assert line > 70_000 and before > 800
    with pytest.raises(UnusableInput) as whole:
        read(path)
    assert (whole.value.line, whole.value.record) == (line, None)
    assert f", after record {before}: " in whole.value.problem
    chunks = find_chunks(str(path), chunk_bytes=200_000)
    assert chunks is not None and len(chunks) >= 8
    with pytest.raises(UnusableInput) as alone:
        read_in_parts(path, chunks, 1)
    unplaced = whole.value.problem.replace(f", after record {before}: ", ": ")
    assert (alone.value.line, alone.value.problem, alone.value.record) == (line, unplaced, None)
    failures = []
    for jobs in (1, 2):
        with pytest.raises(UnusableInput) as caught:
            validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / f"r{jobs}", jobs=jobs)
        failures.append(str(caught.value))
    assert failures[0] == failures[1] == str(whole.value)
    assert small_chunks and small_chunks[0] >= 20
    assert not (tmp_path / "r2" / "report.json").exists()


def test_megabytes_of_misnamed_records_are_refused_for_them(long_extract, tmp_path):
    """More than 2 MB with no record the parse selects was "not a HESA ITT extract, or a damaged one", when those
    megabytes are the trainees, each a <Studnet>."""
    text = long_extract.read_text()
    cut = line_offset(text, 300)
    text = text[:cut] + text[cut:].replace("Student>", "Studnet>")
    path = tmp_path / "misnamed.xml"
    path.write_text(text)
    with pytest.raises(UnusableInput) as caught:
        read(path)
    assert caught.value.line == line_of(text, "<Studnet>")
    assert caught.value.problem.startswith("a <Studnet> element holds a trainee's tags")
    assert "but is not <Student>, after record 300: " in caught.value.problem
