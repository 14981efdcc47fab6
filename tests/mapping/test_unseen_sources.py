"""A source a user's field map names that no record of an input has: the field was blank in every record, unsaid.

HESA XML ignores tags it does not know, so `F_ITTKYE` for `F_ITTKEY` read nothing; `validate`, `convert` and `sync`
now warn once per input (`mapped_source_missing`), in one process or two alike. `mappings check INPUT` says it too.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from register_batch.generate import generate
from register_batch.jobs import validate_files
from report_times import same_but_when

AS_OF = date(2026, 11, 28)
TYPO_MAP = """\
fields:
  hesa:
    trainee:
      provider_trainee_id: F_ITTKYE
      middle_names: [F_MIDNAME, F_SNAME16]
    degrees:
      fields:
        other_grade: F_DEGOTHER
  register-csv:
    trainee:
      middle_names: middle name
"""


@pytest.fixture(scope="module")
def typo_map(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "ours.yaml"
    path.write_text(TYPO_MAP)
    return path


def unseen(report_dir: Path) -> list[tuple[str, str, str]]:
    issues = json.loads((report_dir / "report.json").read_text())["issues"]
    return [(Path(i["input"]).name, i["field"], i["value"]) for i in issues if i["code"] == "mapped_source_missing"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_misspelt_tag_in_hesa_xml_is_named_once_per_input(typo_map, tmp_path, jobs):
    xml = tmp_path / "extract.xml"
    generate(xml, count=600, fmt="hesa-xml", seed=31, academic_cycle=2026, as_of=AS_OF)
    result = validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(typo_map,), jobs=jobs)
    # F_SNAME16 is there, so the list [F_MIDNAME, F_SNAME16] reads something; the other two read nothing.
    assert unseen(tmp_path / "r") == [
        ("extract.xml", "provider_trainee_id", "F_ITTKYE"),
        ("extract.xml", "other_grade", "F_DEGOTHER"),
    ]
    assert result.report.summary.warnings >= 2
    issue = next(i for i in json.loads((tmp_path / "r" / "report.json").read_text())["issues"])
    assert issue["message"] == (
        f"{typo_map}:4 maps fields.hesa.trainee.provider_trainee_id to F_ITTKYE, which no record of this input has: "
        "the field is blank in every record (a misspelt tag or column?)"
    )
    assert issue["severity"] == "warning" and issue["record"] is None


def test_a_list_of_tags_none_of_which_a_record_has_is_named_whole_at_the_files_first_line(tmp_path):
    """A field mapped to a list of tags, each misspelt: one warning, on the input's line 1 (no record's), naming the
    field and every tag of the list."""
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n    trainee:\n      middle_names: [F_MIDNAM, F_SNAME61]\n")
    xml = tmp_path / "extract.xml"
    generate(xml, count=5, fmt="hesa-xml", seed=38, academic_cycle=2026, as_of=AS_OF)
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(ours,), jobs=1)
    issues = json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
    [issue] = [i for i in issues if i["code"] == "mapped_source_missing"]
    assert (issue["line"], issue["record"], issue["field"], issue["value"]) == (
        1,
        None,
        "middle_names",
        "F_MIDNAM or F_SNAME61",
    )
    assert issue["message"] == (
        f"{ours}:4 maps fields.hesa.trainee.middle_names to F_MIDNAM or F_SNAME61, which no record of this input has: "
        "the field is blank in every record (a misspelt tag or column?)"
    )


def test_a_source_seen_in_one_record_only_is_not_named(typo_map, tmp_path):
    """The last record of the file is the only one with F_ITTKYE: the source is the extract's, just rarely filled."""
    xml = tmp_path / "extract.xml"
    generate(xml, count=40, fmt="hesa-xml", seed=32, academic_cycle=2026, as_of=AS_OF)
    text = xml.read_text(encoding="utf-8")
    last = text.rindex("<Student>") + len("<Student>")
    xml.write_text(text[:last] + "<F_ITTKYE>X1</F_ITTKYE>" + text[last:], encoding="utf-8")
    for jobs in (1, 2):
        validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / str(jobs), mapping_files=(typo_map,), jobs=jobs)
        assert unseen(tmp_path / str(jobs)) == [("extract.xml", "other_grade", "F_DEGOTHER")]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_column_a_csv_does_not_have_is_named_for_that_file(typo_map, tmp_path, jobs):
    register_csv = tmp_path / "register.csv"
    generate(register_csv, count=300, fmt="register-csv", seed=33, academic_cycle=2026, as_of=AS_OF)
    hesa_csv = tmp_path / "hesa.csv"
    generate(hesa_csv, count=300, fmt="hesa-csv", seed=34, academic_cycle=2026, as_of=AS_OF)
    inputs = [str(register_csv), str(hesa_csv)]
    validate_files(inputs, as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(typo_map,), jobs=jobs)
    assert unseen(tmp_path / "r") == [
        ("register.csv", "middle_names", "middle name"),
        ("hesa.csv", "provider_trainee_id", "F_ITTKYE"),
        ("hesa.csv", "other_grade", "F_DEGOTHER"),
    ]


def test_without_a_users_map_nothing_is_watched(tmp_path):
    xml = tmp_path / "extract.xml"
    generate(xml, count=20, fmt="hesa-xml", seed=35, academic_cycle=2026, as_of=AS_OF)
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r")
    assert unseen(tmp_path / "r") == []


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_source_a_later_file_maps_otherwise_is_not_named(tmp_path, jobs):
    """Field maps merge key by key, the later file winning: the earlier file's source is never read, and the field is
    not blank (it comes from the later file's), so neither validate nor `mappings check INPUT` names it."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    site, run = tmp_path / "site.yaml", tmp_path / "run.yaml"
    site.write_text("fields:\n  hesa:\n    trainee:\n      ni_number: F_OLDNIN\n      middle_names: F_MIDNAME\n")
    run.write_text("fields:\n  hesa:\n    trainee:\n      ni_number: F_NIN\n")
    xml = tmp_path / "extract.xml"
    generate(xml, count=30, fmt="hesa-xml", seed=36, academic_cycle=2026, as_of=AS_OF)
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(site, run), jobs=jobs)
    assert unseen(tmp_path / "r") == [("extract.xml", "middle_names", "F_MIDNAME")]
    result = CliRunner().invoke(cli, ["mappings", "check", str(xml), "--mapping", str(site), "--mapping", str(run)])
    assert "F_OLDNIN" not in result.output and "F_MIDNAME" in result.output


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_trainee_field_mapped_to_a_degrees_tag_is_named(tmp_path, jobs):
    """A trainee field is read from the Student's own tags, never from its degrees': mapped to a degree's tag
    (F_DEGEST), it is blank in every record although records have the tag. A degree field is read from the degrees
    (and from the Student's own tags only in a record without any)."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        "fields:\n  hesa:\n    trainee:\n      ni_number: F_DEGEST\n"
        "    degrees:\n      fields:\n        subject: F_DEGSBJ1\n"
    )
    xml = tmp_path / "extract.xml"
    generate(xml, count=40, fmt="hesa-xml", seed=37, academic_cycle=2026, as_of=AS_OF)
    assert "<F_DEGEST>" in xml.read_text(encoding="utf-8")
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(ours,), jobs=jobs)
    assert unseen(tmp_path / "r") == [("extract.xml", "ni_number", "F_DEGEST")]


# A user's own tag for itt_end_date, with C21053's sources for it kept (loader._own_sources_win): C21053 records
# read F_EXPECTEDENDDATE or F_ENDDATE, every other record F_OURENDDATE.
KEEP_MAP = """\
fields:
  hesa:
    trainee:
      itt_end_date: F_OURENDDATE
    vintages:
      C21053:
        trainee:
          itt_end_date: [F_EXPECTEDENDDATE, F_ENDDATE]
"""


@pytest.fixture(scope="module")
def keep_map(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("maps") / "keep.yaml"
    path.write_text(KEEP_MAP)
    return path


def messages(report_dir: Path) -> list[str]:
    issues = json.loads((report_dir / "report.json").read_text())["issues"]
    return [i["message"] for i in issues if i["code"] == "mapped_source_missing"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_layouts_own_sources_kept_by_the_users_file_are_read_instead(keep_map, tmp_path, jobs):
    """A C21053 extract without the user's tag has the field from C21053's F_ENDDATE: nothing is blank, so it is not
    named; a modern extract, whose records read only the user's tag, is."""
    old, new = tmp_path / "c21053.xml", tmp_path / "modern.xml"
    generate(old, count=40, fmt="hesa-xml", vintage="C21053", seed=38, academic_cycle=2026, as_of=AS_OF)
    generate(new, count=40, fmt="hesa-xml", seed=39, academic_cycle=2026, as_of=AS_OF)
    inputs = [str(old), str(new)]
    validate_files(inputs, as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(keep_map,), jobs=jobs)
    assert unseen(tmp_path / "r") == [("modern.xml", "itt_end_date", "F_OURENDDATE")]
    assert messages(tmp_path / "r") == [
        f"{keep_map}:4 maps fields.hesa.trainee.itt_end_date to F_OURENDDATE, which no record of this input has: "
        "the field is blank in every record (a misspelt tag or column?)"
    ]


def test_records_of_several_layouts_are_told_which_read_the_field_elsewhere(keep_map, tmp_path):
    """In a file of every layout the C21053 records have the field and the others do not: the warning says so, and
    two processes, each seeing some of each layout, say what one does."""
    xml = tmp_path / "mixed.xml"
    generate(xml, count=300, fmt="hesa-xml", vintage="mixed", seed=40, academic_cycle=2026, as_of=AS_OF)
    for jobs in (1, 2):
        validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / str(jobs), mapping_files=(keep_map,), jobs=jobs)
        assert messages(tmp_path / str(jobs)) == [
            f"{keep_map}:4 maps fields.hesa.trainee.itt_end_date to F_OURENDDATE, which no record of this input has: "
            "the field is blank in every record but its C21053 ones, which read it from F_EXPECTEDENDDATE or "
            "F_ENDDATE (a misspelt tag or column?)"
        ]
    assert same_but_when(tmp_path / "1", tmp_path / "2", ("report.json",))


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_layout_without_its_own_sources_either_is_named_with_them(keep_map, tmp_path, jobs):
    """C21053 records without F_ENDDATE (and F_EXPECTEDENDDATE) have the field from nowhere: it is blank in every
    record, and the warning names the sources they would have read too."""
    xml = tmp_path / "c21053.xml"
    generate(xml, count=40, fmt="hesa-xml", vintage="C21053", seed=41, academic_cycle=2026, as_of=AS_OF)
    text = xml.read_text(encoding="utf-8")
    xml.write_text(re.sub(r"\s*<F_ENDDATE>[^<]*</F_ENDDATE>", "", text), encoding="utf-8")
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(keep_map,), jobs=jobs)
    assert messages(tmp_path / "r") == [
        f"{keep_map}:4 maps fields.hesa.trainee.itt_end_date to F_OURENDDATE, which no record of this input has, nor "
        "F_EXPECTEDENDDATE or F_ENDDATE, which its C21053 records read instead: the field is blank in every record "
        "(a misspelt tag or column?)"
    ]


def test_a_users_source_that_wins_in_an_older_layout_is_named_there(tmp_path):
    """Without C21053's sources in the user's file, C21053 records read only the user's tag: without it, blank."""
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n    trainee:\n      itt_end_date: F_OURENDDATE\n")
    xml = tmp_path / "c21053.xml"
    generate(xml, count=40, fmt="hesa-xml", vintage="C21053", seed=42, academic_cycle=2026, as_of=AS_OF)
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(ours,), jobs=1)
    assert messages(tmp_path / "r") == [
        f"{ours}:4 maps fields.hesa.trainee.itt_end_date to F_OURENDDATE, which no record of this input has: "
        "the field is blank in every record (a misspelt tag or column?)"
    ]


def test_mappings_check_names_a_kept_layouts_field_only_where_it_is_blank(keep_map, tmp_path):
    from click.testing import CliRunner

    from register_batch.cli import cli

    old, new = tmp_path / "c21053.xml", tmp_path / "modern.xml"
    generate(old, count=20, fmt="hesa-xml", vintage="C21053", seed=43, academic_cycle=2026, as_of=AS_OF)
    generate(new, count=20, fmt="hesa-xml", seed=44, academic_cycle=2026, as_of=AS_OF)
    runner = CliRunner()
    assert "F_OURENDDATE" not in runner.invoke(cli, ["mappings", "check", str(old), "--mapping", str(keep_map)]).output
    result = runner.invoke(cli, ["mappings", "check", str(new), "--mapping", str(keep_map)])
    assert (
        f"error: {keep_map}:4: fields.hesa.trainee.itt_end_date: no record of the input has F_OURENDDATE, so the field "
        "is read as blank for every record; correct the name, or remove the entry"
    ) in result.output


def test_the_watch_stops_once_every_named_source_is_seen_whatever_else_it_noted(keep_map, tmp_path):
    """The watch looks at records only until every source the user's files name has shown: the bits it notes for a
    layout's own sources (a C21053 record read first) tell nothing more once the user's tag has shown, and must not
    keep it looking at every Student of the file."""
    from register_batch.mapping import load_mapping
    from register_batch.validation.runner import Checker

    xml = tmp_path / "c21053.xml"
    generate(xml, count=6, fmt="hesa-xml", vintage="C21053", seed=45, academic_cycle=2026, as_of=AS_OF)
    text = xml.read_text(encoding="utf-8")
    second = text.index("<Student>", text.index("<Student>") + 1) + len("<Student>")
    xml.write_text(text[:second] + "<F_OURENDDATE>2027-07-31</F_OURENDDATE>" + text[second:], encoding="utf-8")
    with Checker(mapping=load_mapping([keep_map]), as_of=AS_OF) as checker:
        watched = [bool(record.sources_seen) for record in checker.records([str(xml)])]
    assert watched[:2] == [True, True]  # the first shows C21053's F_ENDDATE, the second the user's tag
    assert checker.inputs[0].sources_known
    assert checker.finish_inputs()[0].issues == []


def test_an_input_not_read_to_its_end_is_not_judged(keep_map, tmp_path):
    """A caller that walks the first record only (a preview) and asks `finish_inputs()`: the user's tag, in the
    second Student, was not looked for yet, so nothing is said of the input; read whole, it is found."""
    from register_batch.mapping import load_mapping
    from register_batch.validation.runner import Checker

    xml = tmp_path / "extract.xml"
    generate(xml, count=3, fmt="hesa-xml", seed=46, academic_cycle=2026, as_of=AS_OF)
    text = xml.read_text(encoding="utf-8")
    second = text.index("<Student>", text.index("<Student>") + 1) + len("<Student>")
    xml.write_text(text[:second] + "<F_OURENDDATE>2027-07-31</F_OURENDDATE>" + text[second:], encoding="utf-8")
    with Checker(mapping=load_mapping([keep_map]), as_of=AS_OF) as checker:
        next(iter(checker.records([str(xml)])))
        assert [info.issues for info in checker.finish_inputs()] == [[]]
    with Checker(mapping=load_mapping([keep_map]), as_of=AS_OF) as checker:
        assert len(list(checker.records([str(xml)]))) == 3
        assert [info.issues for info in checker.finish_inputs()] == [[]]


def test_in_a_hesa_csv_a_groups_numbered_columns_count_for_its_fields_only(tmp_path):
    """A HESA-named CSV numbers its degrees' columns (F_DEGEST_1, F_DEGSBJ2_1): they give a degree field its value,
    but a trainee field mapped to F_DEGEST reads a column F_DEGEST, which the CSV does not have: that one is named."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    ours = tmp_path / "ours.yaml"
    ours.write_text(
        "fields:\n  hesa:\n    trainee:\n      ni_number: F_DEGEST\n"
        "    degrees:\n      fields:\n        subject: F_DEGSBJ2\n"
    )
    extract = Path(__file__).resolve().parents[2] / "samples" / "extract.csv"
    result = CliRunner().invoke(cli, ["mappings", "check", str(extract), "--mapping", str(ours)])
    assert [line for line in result.output.splitlines() if "no record of the input has" in line] == [
        f"error: {ours}:4: fields.hesa.trainee.ni_number: no record of the input has F_DEGEST, so the field is read as "
        "blank for every record; correct the name, or remove the entry"
    ]


def _degree_subject_from_f_degsbj2(tmp_path: Path) -> tuple[Path, str]:
    """A mapping file reading the degree subject from F_DEGSBJ2, and the sample extract without its degree elements
    (PREVIOUSQUALIFICATIONS): a Student then has the subject only as a tag of its own, if at all."""
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n    degrees:\n      fields:\n        subject: F_DEGSBJ2\n")
    text = (Path(__file__).resolve().parents[2] / "samples" / "extract.xml").read_text(encoding="utf-8")
    return ours, re.sub(r"\s*<PREVIOUSQUALIFICATIONS>.*?</PREVIOUSQUALIFICATIONS>", "", text, flags=re.S)


def test_in_hesa_xml_a_degree_tag_of_the_student_itself_counts_when_it_has_no_degrees(tmp_path):
    """Without degree elements the mapper reads a degree's fields from the Student's own tags (as from a CSV's
    columns), so a degree field mapped to one of them is read, and not named."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    ours, text = _degree_subject_from_f_degsbj2(tmp_path)
    flat = tmp_path / "flat.xml"
    flat.write_text(text.replace("<Student>", "<Student><F_DEGSBJ2>100425</F_DEGSBJ2>"), encoding="utf-8")
    result = CliRunner().invoke(cli, ["mappings", "check", str(flat), "--mapping", str(ours)])
    assert "F_DEGSBJ2" not in result.output, result.output
    flat.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(cli, ["mappings", "check", str(flat), "--mapping", str(ours)])
    assert f"{ours}:5: fields.hesa.degrees.fields.subject: no record of the input has F_DEGSBJ2" in result.output


def test_in_hesa_xml_a_numbered_degree_tag_of_the_student_itself_counts_as_the_mapper_reads_it(tmp_path):
    """The mapper reads F_DEGSBJ2_1, a Student's own tag, as its first degree's subject, as in a CSV; `mappings
    check` said that no record had F_DEGSBJ2 and that the field was blank in every record (and `validate` warned
    so), while every record's degree had it (found by the mutation run of mapping/apply.py)."""
    from click.testing import CliRunner

    from register_batch.cli import cli
    from register_batch.mapping import Mapper, load_mapping
    from register_batch.readers import open_inputs

    ours, text = _degree_subject_from_f_degsbj2(tmp_path)
    numbered = tmp_path / "numbered.xml"
    numbered.write_text(text.replace("<Student>", "<Student><F_DEGSBJ2_1>100425</F_DEGSBJ2_1>"), encoding="utf-8")
    config = load_mapping([ours])
    [(info, records)] = list(open_inputs([str(numbered)], "auto", config))
    assert {Mapper(config).map(raw, info.format).data["degrees_attributes"][0]["subject"] for raw in records} == {
        "100425"
    }
    result = CliRunner().invoke(cli, ["mappings", "check", str(numbered), "--mapping", str(ours)])
    assert "F_DEGSBJ2" not in result.output, result.output
    report = tmp_path / "r"
    validate_files([str(numbered)], as_of=AS_OF, report_dir=report, mapping_files=(ours,))
    assert unseen(report) == []


def test_every_source_a_record_has_counts_whichever_others_it_has_or_were_seen(tmp_path):
    """Two tags of a user's map: one Student with both, or every Student with one and a single Student with the other,
    shows both; neither is named as missing."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        "fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_OURKEY\n      middle_names: F_OURMID\n"
    )
    xml = tmp_path / "extract.xml"
    generate(xml, count=5, fmt="hesa-xml", seed=39, academic_cycle=2026, as_of=AS_OF)
    text = xml.read_text(encoding="utf-8")
    first = text.index("<Student>") + len("<Student>")
    last = text.rindex("<Student>") + len("<Student>")
    every, once = "<F_OURKEY>K1</F_OURKEY>", "<F_OURMID>Ann</F_OURMID>"
    cases = {
        "first-has-both": text[:first] + every + once + text[first:],
        "every-has-key": (text[:last] + once + text[last:]).replace("<Student>", "<Student>" + every),
        "every-has-mid": (text[:last] + every + text[last:]).replace("<Student>", "<Student>" + once),
    }
    for name, content in cases.items():
        xml.write_text(content, encoding="utf-8")
        validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / name, mapping_files=(ours,), jobs=1)
        assert unseen(tmp_path / name) == [], name
    xml.write_text(text, encoding="utf-8")
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "neither", mapping_files=(ours,), jobs=1)
    assert [value for _input, _field, value in unseen(tmp_path / "neither")] == ["F_OURKEY", "F_OURMID"]


def test_a_source_read_elsewhere_in_every_record_does_not_hide_a_misspelt_one_after_it(tmp_path):
    """C21053 records have itt_end_date from F_ENDDATE, so the user's F_OURENDDATE is not named; the misspelt tag the
    file maps after it still is."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        KEEP_MAP.replace(
            "      itt_end_date: F_OURENDDATE\n",
            "      itt_end_date: F_OURENDDATE\n      provider_trainee_id: F_ITTKYE\n",
        )
    )
    xml = tmp_path / "c21053.xml"
    generate(xml, count=5, fmt="hesa-xml", vintage="C21053", seed=42, academic_cycle=2026, as_of=AS_OF)
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(ours,), jobs=1)
    assert unseen(tmp_path / "r") == [("c21053.xml", "provider_trainee_id", "F_ITTKYE")]


def test_a_hesa_xml_tag_is_read_whatever_the_case_of_the_name_a_mapping_gives_it(tmp_path):
    """docs/mappings.md: the case of a source name does not matter. A mapping of `first_names: Forename` for an SRS's
    own `<Forename>` tag was upper-cased to FORENAME, which the XML reader (comparing tags exactly) never found: the
    field was blank in every record. A degree's own tag in mixed case is read the same way."""
    xml = tmp_path / "custom.xml"
    generate(xml, count=4, fmt="hesa-xml", seed=4, academic_cycle=2026, as_of=AS_OF)
    text = xml.read_text()
    assert text.count("<F_FNAMES>") == text.count("<F_DEGSBJ1>") == 4
    text = text.replace("F_FNAMES>", "Forename>").replace("F_DEGSBJ1>", "DegreeSubject>")
    xml.write_text(text)
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        "fields:\n  hesa:\n    trainee:\n      first_names: Forename\n"
        "    degrees:\n      fields:\n        subject: degreesubject\n"
    )
    result = validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(ours,))
    assert unseen(tmp_path / "r") == []
    assert result.exit_code == 0 and result.report.summary.valid == 4
