"""A HESA tag misspelt in an XML extract (review171 F1).

A vendor's hand-written serialiser wrote <F_NATON>, <F_PSURNAM>, <F_SDLAED>: HESA XML ignores tags register-batch does
not know, so each value was dropped without a word (validate exit 0, `mappings check` "No problems found"), while the
same misspelling as a HESA-named CSV's header stops the run. The near-miss look that finds a user's misspelt source
(mapped_source_misspelt) now looks at the bundled field map's sources too: a record that lacks a HESA tag the map reads
but holds, with a value, a tag nobody knows a few letters from it gets an error (`misspelt_tag`), naming both. Real
XML files, made by `generate` and edited as the SRS got them wrong.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli

AS_OF = "2026-11-28"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def generated(path: Path, count: int = 3, seed: int = 5) -> Path:
    code, out, _err = run(
        "generate", "--count", str(count), "--ukprn", "10052198", "--seed", str(seed), "--as-of", AS_OF, "-o", str(path)
    )
    assert code == 0, out
    return path


def edited(path: Path, *pairs: tuple[str, str], count: int = -1) -> Path:
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, count)
    path.write_text(text, encoding="utf-8")
    return path


def issues(report_dir: Path, code: str) -> list[dict]:
    return [i for i in json.loads((report_dir / "report.json").read_text())["issues"] if i["code"] == code]


def validate(path: Path, report_dir: Path, *extra: str) -> tuple[int, str]:
    code, out, err = run("validate", str(path), "--as-of", AS_OF, "--report-dir", str(report_dir), *extra)
    return code, out + err


def test_misspelt_optional_tags_with_values_are_errors_naming_the_tag_and_the_one_it_is_near(tmp_path):
    xml = edited(
        generated(tmp_path / "typo.xml"),
        ("<F_NATION>GB</F_NATION>", "<F_NATON>GB</F_NATON>"),
        ("<F_PSURNAME>NULL</F_PSURNAME>", "<F_PSURNAM>Smith</F_PSURNAM>"),
        ("<F_SDLEAD>NULL</F_SDLEAD>", "<F_SDLAED>116319</F_SDLAED>"),
    )
    code, out = validate(xml, tmp_path / "r")
    assert code == 1, out
    assert (  # beside the summary line
        f"{xml}: 3 records have tags that are not HESA's but a few letters from a HESA tag they lack (F_PSURNAM for "
        "previous_last_name, F_NATON for nationality, F_SDLAED for training_partner_urn): their fields are blank, and "
        "they are invalid, until the extract spells them as HESA does (misspelt_tag)"
    ) in out
    found = issues(tmp_path / "r", "misspelt_tag")
    assert sorted({(i["field"], i["value"]) for i in found}) == [
        ("nationality", "F_NATON"),
        ("previous_last_name", "F_PSURNAM"),
        ("training_partner_urn", "F_SDLAED"),
    ]
    assert len(found) == 8 and {i["record"] for i in found} == {1, 2, 3}  # the third's F_SDLEAD had a value
    assert {i["severity"] for i in found} == {"error"}
    [nation] = [i for i in found if i["record"] == 1 and i["field"] == "nationality"]
    assert nation["message"] == (
        "<F_NATON> is not a HESA tag; did you mean <F_NATION>, which this record lacks? Nothing reads <F_NATON>, so "
        "nationality is blank until the extract spells it <F_NATION> (or a mapping file lists F_NATON under "
        "`fields: hesa: ignored:` if it is a tag of the SRS's own)"
    )
    assert nation["line"] == 3  # the Student's


def test_mappings_check_of_the_extract_asks_did_you_mean(tmp_path):
    xml = edited(generated(tmp_path / "typo.xml"), ("<F_NATION>GB</F_NATION>", "<F_NATON>GB</F_NATON>"))
    code, out, _err = run("mappings", "check", str(xml))
    assert code == 1, out
    assert "No problems found" not in out
    [said] = [line for line in out.splitlines() if "F_NATON" in line]
    assert said.startswith(f"error: {xml}, record 1, line 3: misspelt_tag: <F_NATON> is not a HESA tag; did you mean ")
    assert "did you mean <F_NATION>" in said and said.endswith("(3 records)")


def test_a_misspelt_tag_in_a_degree_is_said_at_the_degrees_line(tmp_path):
    xml = edited(
        generated(tmp_path / "deg.xml"), ("<F_DEGSBJ1>100069</F_DEGSBJ1>", "<F_DEGSBJ>100069</F_DEGSBJ>"), count=1
    )
    code, out = validate(xml, tmp_path / "r")
    assert code == 1, out
    [found] = issues(tmp_path / "r", "misspelt_tag")
    assert (found["record"], found["field"], found["value"], found["line"]) == (
        1,
        "degrees_attributes.subject",
        "F_DEGSBJ",
        71,  # its PREVIOUSQUALIFICATION's line
    )
    assert "did you mean <F_DEGSBJ1>, which this <PREVIOUSQUALIFICATION> lacks?" in found["message"]


def test_ignored_is_the_way_out_for_a_tag_of_the_srss_own(tmp_path):
    xml = edited(generated(tmp_path / "own.xml"), ("<F_PSURNAME>NULL</F_PSURNAME>", "<F_PSURNAM>Smith</F_PSURNAM>"))
    (tmp_path / "ours.yaml").write_text("fields:\n  hesa:\n    ignored: [F_PSURNAM]\n")
    code, out = validate(xml, tmp_path / "r", "--mapping", str(tmp_path / "ours.yaml"))
    assert code == 0, out
    assert issues(tmp_path / "r", "misspelt_tag") == []
    code, out, _err = run("mappings", "check", "--mapping", str(tmp_path / "ours.yaml"), str(xml))
    assert code == 0 and "No problems found." in out, out


@pytest.mark.parametrize(
    "old,new",
    [
        # A tag HESA knows is spelt right, though it is near one the record lacks (F_DEGSTDT beside no F_DEGEST)
        ("<F_DEGEST>0080</F_DEGEST>", ""),
        # No value: nothing is lost
        ("<F_NATION>GB</F_NATION>", "<F_NATON>NULL</F_NATON>"),
        # A further number of a numbered tag (HESA has nine disabilities) is no misspelling of another number
        ("<F_DISABLE2>NULL</F_DISABLE2>", "<F_DISABLE10>58</F_DISABLE10>"),
        # The record has the tag: another like it is the SRS's own
        ("<F_NATIOND1>NULL</F_NATIOND1>", "<F_NATIONX>GB</F_NATIONX>"),
        # Far from every tag the record lacks
        ("<F_SDLEAD>NULL</F_SDLEAD>", "<CAMPUS>North</CAMPUS>"),
    ],
)
def test_no_misspelling(tmp_path, old, new):
    xml = edited(generated(tmp_path / "ok.xml"), (old, new), count=1)
    _code, out = validate(xml, tmp_path / "r")
    assert issues(tmp_path / "r", "misspelt_tag") == [], out


@pytest.mark.parametrize("name", ["itt_record_C21053.xml", "itt_record_C22053.xml", "itt_record_C23053.xml"])
def test_hesas_own_samples_of_every_layout_have_no_misspelt_tag(tmp_path, name):
    sample = Path(__file__).parents[1] / "fixtures" / "hesa_samples" / name
    validate(sample, tmp_path / "r")
    assert issues(tmp_path / "r", "misspelt_tag") == []


def test_a_hesa_named_csv_still_refuses_the_misspelt_header(tmp_path):
    code, out, _err = run(
        "generate", "--count", "2", "--ukprn", "10052198", "--seed", "5", "--as-of", AS_OF, "--format", "hesa-csv",
        "-o", str(tmp_path / "g.csv"),
    )  # fmt: skip
    assert code == 0, out
    csv = edited(tmp_path / "g.csv", ("F_NATION,", "F_NATON,"), count=1)
    code, said = validate(csv, tmp_path / "r")
    assert code == 2 and "unknown column header 'F_NATON'" in said
