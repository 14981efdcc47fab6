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


def test_misspelt_optional_tags_with_values_are_warnings_naming_the_tag_and_the_one_it_is_near(tmp_path):
    xml = edited(
        generated(tmp_path / "typo.xml"),
        ("<F_NATION>GB</F_NATION>", "<F_NATON>GB</F_NATON>"),
        ("<F_PSURNAME>NULL</F_PSURNAME>", "<F_PSURNAM>Smith</F_PSURNAM>"),
        ("<F_SDLEAD>NULL</F_SDLEAD>", "<F_SDLAED>116319</F_SDLAED>"),
    )
    code, out = validate(xml, tmp_path / "r")
    assert code == 0, out  # warnings (review173 F3): the records are sent without those values
    assert (  # beside the summary line
        f"{xml}: 3 records have tags that are not HESA's but a few letters from a tag they lack (F_PSURNAM for "
        "previous_last_name, F_NATON for nationality, F_SDLAED for training_partner_urn): their values are not sent "
        "until the extract spells them as register-batch reads them, or a mapping file lists them under `ignored:` "
        "(misspelt_tag, a warning)"
    ) in out
    found = issues(tmp_path / "r", "misspelt_tag")
    assert sorted({(i["field"], i["value"]) for i in found}) == [
        ("nationality", "F_NATON"),
        ("previous_last_name", "F_PSURNAM"),
        ("training_partner_urn", "F_SDLAED"),
    ]
    assert len(found) == 8 and {i["record"] for i in found} == {1, 2, 3}  # the third's F_SDLEAD had a value
    assert {i["severity"] for i in found} == {"warning"}
    [nation] = [i for i in found if i["record"] == 1 and i["field"] == "nationality"]
    assert nation["message"] == (
        "<F_NATON> is not a HESA tag; did you mean <F_NATION>, which this record lacks? Nothing reads <F_NATON>, so "
        "its value is not sent (nationality is blank) until the extract spells it <F_NATION> (or a mapping file lists "
        "F_NATON under `fields: hesa: ignored:` if it is a tag of the SRS's own)"
    )
    assert nation["line"] == 3  # the Student's


def test_mappings_check_of_the_extract_asks_did_you_mean(tmp_path):
    xml = edited(generated(tmp_path / "typo.xml"), ("<F_NATION>GB</F_NATION>", "<F_NATON>GB</F_NATON>"))
    code, out, _err = run("mappings", "check", str(xml))
    assert code == 1, out  # a value the extract holds is not sent: the check fails, as for a source no record has
    assert "No problems found" not in out
    [said] = [line for line in out.splitlines() if "F_NATON" in line]
    assert said.startswith(f"warning: {xml}, record 1, line 3: misspelt_tag: <F_NATON> is not a HESA tag; did you ")
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


def without_empty_elements(path: Path) -> Path:
    """The extract as an SRS that leaves an empty element out writes it (formats.md: a missing element is no value)."""
    import re

    text = re.sub(r"\n\s*<(\w+)>NULL</\1>", "", path.read_text(encoding="utf-8"))
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize(
    "old,new",
    [
        # A tag of the SRS's own that holds the whole of a HESA tag the record leaves out (review173 F3)
        ("<F_NATION>GB</F_NATION>", "<F_NATION>GB</F_NATION><F_SDEMPLOYER>Acme Academy Trust</F_SDEMPLOYER>"),
        ("<F_NATION>GB</F_NATION>", "<F_NATION>GB</F_NATION><F_SDLEADURN>116319</F_SDLEADURN>"),
        ("<F_NATION>GB</F_NATION>", "<F_NATION>GB</F_NATION><F_NINO>QQ123456C</F_NINO>"),
        # Two letters shorter than F_INITIATIVES1, which the record leaves out
        ("<F_NATION>GB</F_NATION>", "<F_NATION>GB</F_NATION><F_INITIATIVE>Teach First</F_INITIATIVE>"),
        # The stem of F_SBJCA1, which the record has: no misspelling of the F_SBJCA2 it leaves out
        ("<F_SBJCA1>100511</F_SBJCA1>", "<F_SBJCA1>100511</F_SBJCA1><F_SBJCA>Mathematics</F_SBJCA>"),
    ],
)
def test_a_tag_of_the_srss_own_that_extends_a_hesa_tag_left_out_is_no_misspelling(tmp_path, old, new):
    """review173 F3: an SRS that leaves empty elements out and writes tags of its own beside HESA's had every such
    record refused after the upgrade that brought misspelt_tag."""
    xml = edited(without_empty_elements(generated(tmp_path / "own.xml")), (old, new), count=1)
    code, out = validate(xml, tmp_path / "r")
    assert issues(tmp_path / "r", "misspelt_tag") == [], out
    assert code == 0, out


def test_a_misspelt_tag_is_a_warning_and_the_record_is_sent_without_its_value(tmp_path):
    """review173 F3: <F_PREFNAME> (a preferred name) in a record that leaves out an empty F_PSURNAME is a few letters
    from it: a warning that says the value is not sent, and the record is valid (at the upgrade it was refused)."""
    xml = edited(
        without_empty_elements(generated(tmp_path / "pref.xml", count=1)),
        ("<F_NATION>GB</F_NATION>", "<F_NATION>GB</F_NATION><F_PREFNAME>Bella</F_PREFNAME>"),
    )
    code, out = validate(xml, tmp_path / "r")
    assert code == 0, out
    assert "1 record: 1 valid, 0 with errors" in out
    [found] = issues(tmp_path / "r", "misspelt_tag")
    assert (found["severity"], found["field"], found["value"]) == ("warning", "previous_last_name", "F_PREFNAME")
    assert found["message"] == (
        "<F_PREFNAME> is not a HESA tag; did you mean <F_PSURNAME>, which this record lacks? Nothing reads "
        "<F_PREFNAME>, so its value is not sent (previous_last_name is blank) until the extract spells it <F_PSURNAME> "
        "(or a mapping file lists F_PREFNAME under `fields: hesa: ignored:` if it is a tag of the SRS's own)"
    )


def test_a_misspelt_required_tag_still_stops_the_record_by_the_required_fields_error(tmp_path):
    """The warning does not let a record through without a required field: its own error says the field is missing."""
    xml = edited(generated(tmp_path / "req.xml", count=1), ("F_BIRTHDTE>", "F_BIRTHDT>"))
    code, out = validate(xml, tmp_path / "r")
    assert code == 1, out
    [found] = issues(tmp_path / "r", "misspelt_tag")
    assert (found["severity"], found["field"], found["value"]) == ("warning", "date_of_birth", "F_BIRTHDT")
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert [i for i in report["issues"] if i["field"] == found["field"] and i["severity"] == "error"], report["issues"]


def leavers(path: Path, option: str) -> Path:
    code, out, _err = run(
        "generate", "--count", "4", "--ukprn", "10052198", "--seed", "5", "--as-of", AS_OF, option, "1",
        "-o", str(path),
    )  # fmt: skip
    assert code == 0, out
    return path


def test_register_batchs_own_tags_are_not_called_hesas_and_their_misspelling_stops_the_record(tmp_path):
    """DEFER_DATE is a tag of register-batch's own (formats.md), not HESA's: <F_DEFERDATE> is not 'a HESA tag'. And an
    error, misspelt_state_tag (review177 F1): with the deferral's tags misspelt the record reads as a trainee in
    training, and nothing else would say so."""
    xml = edited(
        leavers(tmp_path / "d.xml", "--deferred"),
        ("<DEFER_DATE>", "<F_DEFERDATE>"),
        ("</DEFER_DATE>", "</F_DEFERDATE>"),
    )
    code, out = validate(xml, tmp_path / "r")
    assert code == 1, out
    found = issues(tmp_path / "r", "misspelt_state_tag")
    assert len(found) == 4 and not issues(tmp_path / "r", "misspelt_tag"), found
    assert all(
        i["severity"] == "error"
        and i["message"].startswith(
            "<F_DEFERDATE> is not a tag register-batch reads; did you mean <DEFER_DATE>, which this record lacks?"
        )
        for i in found
    ), found


@pytest.mark.parametrize(
    ("option", "old", "new"),
    [
        # one letter dropped in every withdrawal tag: the record read as a trainee in training (exit 0 before)
        ("--withdrawn", "WITHDRAWAL_", "WITHDRAWL_"),
        # two letters dropped: no SRS has a WITHDRAW_DATE of its own holding a date (no warning before)
        ("--withdrawn", "WITHDRAWAL_", "WITHDRAW_"),
        # a deferral of a date only (and its reason), the date's tag without its underscore
        ("--deferred", "DEFER_DATE>", "DEFERDATE>"),
    ],
)
def test_a_misspelt_withdrawal_or_deferral_date_tag_is_an_error_and_nothing_is_sent(tmp_path, option, old, new):
    xml = edited(leavers(tmp_path / "l.xml", option), (f"<{old}", f"<{new}"), (f"</{old}", f"</{new}"))
    code, out = validate(xml, tmp_path / "r")
    assert code == 1, out
    assert "4 records: 0 valid, 4 with errors" in out
    assert "misspelt_state_tag" in out  # said beside the summary line
    found = issues(tmp_path / "r", "misspelt_state_tag")
    assert len(found) == 4 and {i["severity"] for i in found} == {"error"}
    assert {i["field"] for i in found} == ({"withdrawal_date"} if option == "--withdrawn" else {"defer_date"}), found
    code, out, _err = run("sync", str(xml), "--as-of", AS_OF, "--ukprn", "10052198", "--state-dir", str(tmp_path / "s"))
    assert code == 1 and "4 invalid" in out and "created" not in out, out


@pytest.mark.parametrize(
    ("option", "tag"),
    [
        # review178 F1: tags of an SRS's own near an optional withdrawal or deferral tag, beside a right date, or
        # holding no date beside a trainee in training, are no lost withdrawal or deferral
        ("--withdrawn", "<WITHDRAWAL_OTHER_REASON>moved abroad</WITHDRAWAL_OTHER_REASON>"),
        ("--deferred", "<DEFER_SEASON>autumn</DEFER_SEASON>"),
        ("", "<DEFER_STATE>N</DEFER_STATE>"),
        ("", "<DEFER_ENDDATE>2026-10-01</DEFER_ENDDATE>"),  # three letters off: misspelt_tag's warning
        ("", "<ENTER_DATE>2026-05-01</ENTER_DATE>"),
        # a date of the SRS's own, a letter or two from DEFER_DATE, that every trainee in training may hold
        ("", "<OFFER_DATE>2026-05-01</OFFER_DATE>"),
        ("", "<REFER_DATE>2026-05-01</REFER_DATE>"),
    ],
)
def test_an_srss_own_tag_near_a_withdrawal_or_deferral_tag_stops_no_record(tmp_path, option, tag):
    path = leavers(tmp_path / "l.xml", option) if option else generated(tmp_path / "l.xml", count=4)
    xml = edited(path, ("<F_NATION>", f"{tag}<F_NATION>"))
    code, out = validate(xml, tmp_path / "r")
    assert not issues(tmp_path / "r", "misspelt_state_tag"), out
    assert code == 0, out


def test_mappings_check_says_a_misspelt_withdrawal_tag_as_the_error_it_is(tmp_path):
    """`mappings check INPUT` names each misspelt tag by its own code and severity: a withdrawal's, an error."""
    xml = edited(
        leavers(tmp_path / "w.xml", "--withdrawn"),
        ("<WITHDRAWAL_DATE", "<WITHDRAWL_DATE"),
        ("</WITHDRAWAL_DATE", "</WITHDRAWL_DATE"),
    )
    code, out, _err = run("mappings", "check", str(xml))
    assert code == 1, out
    [line] = [line for line in out.splitlines() if "WITHDRAWL_DATE" in line]
    assert (
        line.startswith("error: ")
        and ": misspelt_state_tag: <WITHDRAWL_DATE> is not a tag register-batch reads" in line
    )
    assert line.endswith("(4 records)"), line


@pytest.mark.parametrize("tag", ["DEFERRAL_DATE", "DEFERRED_DATE"])
def test_a_deferral_date_three_letters_off_is_a_warning_not_silence(tmp_path, tag):
    """review179 F2: a deferral of a date only under DEFERRAL_DATE was dropped without a word; three letters off, as an
    SRS's DEFER_ENDDATE is too, it is misspelt_tag's warning, not an error that would hold such records back."""
    xml = edited(
        leavers(tmp_path / "d.xml", "--deferred"), ("<DEFER_DATE>", f"<{tag}>"), ("</DEFER_DATE>", f"</{tag}>")
    )
    _code, out = validate(xml, tmp_path / "r")
    assert not issues(tmp_path / "r", "misspelt_state_tag"), out
    found = issues(tmp_path / "r", "misspelt_tag")
    assert len(found) == 4 and {(i["severity"], i["field"], i["value"]) for i in found} == {
        ("warning", "defer_date", tag)
    }


def test_mappings_check_lists_so_many_misspelt_tags_and_uncovered_codes_and_counts_the_rest(tmp_path, monkeypatch):
    """review184 F6: an extract whose records each misspell a tag their own way, or hold a code of their own, had a
    line for every one (20,000 on a terminal or in a CI log). So many are listed, those in most records, and a line
    says how many more, and where each is."""
    import re

    from register_batch.commands import mappings

    monkeypatch.setattr(mappings, "LISTED", 3)
    xml = generated(tmp_path / "many.xml", count=6)
    text = xml.read_text(encoding="utf-8")
    letters = iter("ABCDEF")
    text = re.sub(r"<F_NATION>GB</F_NATION>", lambda m: f"<F_NAT{(c := next(letters))}ON>GB</F_NAT{c}ON>", text)
    codes = iter(range(1, 7))
    text = re.sub(r"<F_SEXID>\d+</F_SEXID>", lambda m: f"<F_SEXID>Q{next(codes)}</F_SEXID>", text)
    xml.write_text(text.replace("<F_SEXID>Q1<", "<F_SEXID>Q2<"), encoding="utf-8")  # Q2 twice: the most records
    code, out, _err = run("mappings", "check", str(xml))
    assert code == 1, out
    lines = out.splitlines()
    assert len([line for line in lines if "misspelt_tag: <F_NAT" in line]) == 3, out
    # Each misspelt tag in one record: the three listed are the first found, not "those found most often" (review189 F7)
    assert "  … and 3 more misspelt tags: `register-batch validate` names every one, in its issues.csv" in out
    listed = [line.split(" x")[0].strip() for line in lines if line.startswith("  sex: ")]
    assert listed == ["sex: 'Q2'", "sex: 'Q3'", "sex: 'Q4'"], out
    assert "  … and 2 more codes (those found most often are listed)" in out


def test_mappings_check_counts_one_more_in_the_singular_and_claims_no_order_among_ties(tmp_path, monkeypatch):
    """review189 F7: "… and 1 more codes (those found most often are listed)", with every code found once: the list
    was the first by field and code, not the most found."""
    import re

    from register_batch.commands import mappings

    monkeypatch.setattr(mappings, "LISTED", 3)
    xml = generated(tmp_path / "four.xml", count=4)
    text = xml.read_text(encoding="utf-8")
    letters = iter("ABCD")
    text = re.sub(r"<F_NATION>GB</F_NATION>", lambda m: f"<F_NAT{(c := next(letters))}ON>GB</F_NAT{c}ON>", text)
    codes = iter(range(1, 5))
    xml.write_text(re.sub(r"<F_SEXID>\d+</F_SEXID>", lambda m: f"<F_SEXID>Q{next(codes)}</F_SEXID>", text), "utf-8")
    code, out, _err = run("mappings", "check", str(xml))
    assert code == 1, out
    assert "  … and 1 more misspelt tag: `register-batch validate` names every one, in its issues.csv" in out
    assert "  … and 1 more code: `register-batch validate` names every one, in its issues.csv" in out
    assert "most often" not in out
