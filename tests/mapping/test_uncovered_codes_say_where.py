"""`mappings check INPUT`: each uncovered code says where it is first found, and gives validate's leading-zero hint
(review58 F10). The list gave `study_mode: '1' x1` alone: finding the record took a run of `validate`."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli

REPO = Path(__file__).resolve().parents[2]


def uncovered_lines(folder: Path, monkeypatch, *inputs: str) -> dict[str, str]:
    """`mappings check INPUT...` run in `folder`: its lines listing uncovered codes, by `field: 'code'`."""
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(cli, ["mappings", "check", *inputs], catch_exceptions=False)
    assert result.exit_code == 1, result.output
    listed = result.output.split(" covers (", 1)[1].splitlines()[1:]
    return {line.split(" x", 1)[0].strip(): line for line in listed if line.startswith("  ")}


def test_each_code_says_its_first_record_and_line_and_the_hint_validate_gives(tmp_path, monkeypatch):
    """The same record, line and words as validate's `leading_zeros_lost` for each code it is given for, the field's
    name left out (the line starts with it); no hint where validate gives none."""
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    listed = uncovered_lines(tmp_path, monkeypatch, "samples/defects.xml")
    runner = CliRunner()
    result = runner.invoke(cli, ["validate", "samples/defects.xml", "--as-of", "2026-11-28", "--report-dir", "r"])
    assert result.exit_code == 1, result.output
    with (tmp_path / "r" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        hints = [row for row in csv.DictReader(fh) if row["code"] == "leading_zeros_lost"]
    assert sorted(row["field"] for row in hints) == ["degrees_attributes[0].uk_degree", "training_route"]
    for row in hints:
        field, value = row["field"], row["value"]
        said = row["message"].removeprefix(f"{field}: ")
        listed_as = re.sub(r"\[\d+\]", "", field)  # the list names a degree field without its degree's index
        assert listed[f"{listed_as}: '{value}'"] == (
            f"  {listed_as}: '{value}' x1, first at record {row['record']}, line {row['line']}; {said}"
        )
    assert listed["sex: 'M'"] == "  sex: 'M' x1, first at record 104, line 8936"
    assert listed["course_age_range: '99801'"] == (
        "  course_age_range: '99801' x1, first at record 84, line 7235  (known: HESA age range 99801 (FE/HE) is not "
        "accepted by Register)"
    )


def test_a_degree_field_gets_the_hint_too_and_several_inputs_name_theirs(tmp_path, monkeypatch, hesa_samples):
    """A degree type whose leading zeros a spreadsheet dropped (`4`, the legacy `004`) is hinted as validate hints
    it; given two inputs, each code says which one it is first found in."""
    sample = (hesa_samples / "itt_record_C23053.xml").read_text(encoding="utf-8")
    (tmp_path / "a.xml").write_text(sample.replace("<F_MODE>01</F_MODE>", "<F_MODE>1</F_MODE>"), encoding="utf-8")
    (tmp_path / "b.xml").write_text(sample.replace("<F_DEGTYPE>205<", "<F_DEGTYPE>4<"), encoding="utf-8")
    listed = uncovered_lines(tmp_path, monkeypatch, "a.xml", "b.xml")
    student = 1 + sample[: sample.index("<Student>")].count("\n")  # a record's line: where its Student starts
    assert listed["study_mode: '1'"].startswith(f"  study_mode: '1' x1, first at a.xml, record 1, line {student}; ")
    degree = listed["degrees_attributes.uk_degree: '4'"]
    assert re.fullmatch(
        r"  degrees_attributes\.uk_degree: '4' x1, first at b\.xml, record 1, line \d+; '4' is not a code, but '004' "
        r"is, a legacy code translated on reading \(legacy honours degree types\): a spreadsheet may have dropped its "
        r"leading zeros \(export the column as text, or correct the SRS\)",
        degree,
    ), degree


def test_a_code_a_mapping_translates_to_no_code_is_listed_as_the_input_has_it_without_a_spreadsheet_hint(
    tmp_path, monkeypatch
):
    """review161 F3: `FT: 1` (unquoted) in a user's file made FT the study mode `1`, listed as "in the input", which
    has no `1`, with the hint that a spreadsheet dropped its leading zero; `M: {to: "13"}` listed sex `13`. The list
    names the input's code, and what the mapping (whose error is said above it) made of it."""
    shutil.copytree(REPO / "samples", tmp_path / "samples")
    text = (tmp_path / "samples" / "extract.xml").read_text(encoding="utf-8")
    text = re.sub(r"<F_MODE>[^<]*</F_MODE>", "<F_MODE>FT</F_MODE>", text)
    text = re.sub(r"<F_SEXID>[^<]*</F_SEXID>", "<F_SEXID>M</F_SEXID>", text)
    (tmp_path / "srs.xml").write_text(text, encoding="utf-8")
    (tmp_path / "ours.yaml").write_text(
        "codes:\n  study_mode:\n    source: ours\n    translate:\n      FT: 1\n"
        '  sex:\n    source: ours\n    translate:\n      "M": {to: "13", note: male}\n'
    )
    students = text.count("<Student>")
    listed = uncovered_lines(tmp_path, monkeypatch, "srs.xml", "--mapping", "ours.yaml")
    assert sorted(listed) == ["sex: 'M'", "study_mode: 'FT'"]
    assert listed["study_mode: 'FT'"] == (
        f"  study_mode: 'FT' x{students}, first at record 1, line 3; a mapping translates it to '1', which Register "
        "does not take (see the error above)"
    )
    assert listed["sex: 'M'"].endswith(
        "; a mapping translates it to '13', which Register does not take (see the error above)"
    )
    assert "spreadsheet" not in "".join(listed.values())
