"""An SRS vendor writing mapping files from scratch (review209): a `when` that can never match is refused, not
left to send its fallback; a block naming a field exactly wins over a pattern of the same file; an invalid code
names the file to edit and the near miss."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import MappingError
from register_batch.jobs import validate_files

AS_OF = date(2026, 11, 28)


def issues_of(inputs: list[Path], mappings: list[Path], report_dir: Path) -> list[dict]:
    """validate's issues (report.json's) of the inputs with these mapping files."""
    validate_files([str(i) for i in inputs], as_of=AS_OF, report_dir=report_dir, mapping_files=mappings, jobs=1)
    return json.loads((report_dir / "report.json").read_text(encoding="utf-8"))["issues"]


DATED = """\
codes:
  training_route:
    source: AcmeSRS route codes, by cohort
    translate:
      "UGPL":
        - {to: "11", note: cohorts from 2026, when: {itt_start_date: [%s]}}
        - {to: "09", note: older cohorts}
"""


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ('"2026-*"', "'2026-*' is not a date as Register gets it (YYYY-MM-DD)"),
        ('">=2026-08-01"', "'>=2026-08-01' is not a date as Register gets it (YYYY-MM-DD)"),
        ('"01/09/2026"', "'01/09/2026' is not a date as Register gets it (YYYY-MM-DD)"),
        ('"2026-02-30"', "'2026-02-30' is not a date as Register gets it (YYYY-MM-DD)"),
    ],
)
def test_a_when_on_a_date_that_is_no_day_is_refused_with_its_line(refusal, written, said):
    """review209 F1: `when` is an exact match; a pattern, a comparison or a day/month/year date never matched, and
    every record got the fallback route, `mappings check` saying "No problems found"."""
    user, message = refusal(DATED % written)
    assert message == (
        f"{user}:6: codes.training_route.translate.UGPL[0].when.itt_start_date: {said}, so this test could never "
        "match: a `when` is an exact match on the trainee's value (after translation), with no ranges or patterns; "
        "list each date (2026-09-01), or put the translation in the SRS"
    )


def test_a_when_with_a_pattern_is_refused_and_one_on_an_exact_day_matches(refusal, tmp_path, c23053_made_valid):
    """Any field without a code list: a pattern is refused. An ISO day is accepted, and matches: the C23053 sample
    made valid starts on 2026-09-01."""
    user, message = refusal(DATED.replace("itt_start_date", "course_year") % '"2*"')
    assert message.startswith(
        f"{user}:6: codes.training_route.translate.UGPL[0].when.course_year: '2*' holds *, so this test could never "
        "match: a `when` is an exact match"
    )
    xml = c23053_made_valid("srs.xml", {"<F_ENTRYRTE>12<": "<F_ENTRYRTE>UGPL<"})
    ours = tmp_path / "dated.yaml"
    ours.write_text(DATED % '"2026-09-01"')
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(ours), str(xml)])
    assert result.exit_code == 0, result.output
    issues = issues_of([xml], [ours], tmp_path / "r")
    [translated] = [i for i in issues if i["code"] == "legacy_code_translated" and i["field"] == "training_route"]
    assert "translated to '11' (cohorts from 2026)" in translated["message"]


GOODWHEN = """\
codes:
  sex:
    source: AcmeSRS sex codes
    translate:
      "X":
        - {to: "12", when: {training_route: ["UGPL"]}}
        - {to: "99"}
  training_route:
    source: AcmeSRS route codes
    translate:
      "UGPL": "11"
"""


def test_a_when_testing_an_srs_code_refuses_check_and_validate_as_a_load_error(tmp_path, c23053_made_valid):
    """review209 F2: the `when` sees the route translated (`11`), never `UGPL`: `mappings check` warned and exited 0,
    validate and sync said nothing, and sex 99 was synced. Refused now, exit 2, with the code to test instead."""
    xml = c23053_made_valid("srs.xml", {"<F_ENTRYRTE>12<": "<F_ENTRYRTE>UGPL<", "<F_SEXID>11<": "<F_SEXID>X<"})
    ours = tmp_path / "ours.yaml"
    ours.write_text(GOODWHEN)
    said = (
        f"{ours}:6: codes.sex.translate.X[0].when.training_route: never matches 'UGPL': a `when` sees the record's "
        "other fields as Register gets them, and training_route 'UGPL' is always translated before this `when` is "
        f"looked at (to '11' by {ours}:11); test '11' instead"
    )
    for command in (
        ["mappings", "check", "--mapping", str(ours)],
        ["mappings", "check", "--mapping", str(ours), str(xml)],
        ["validate", str(xml), "--mapping", str(ours), "--report-dir", str(tmp_path / "r"), "--as-of", "2026-11-28"],
    ):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, result.output
        assert said in result.output
    with pytest.raises(MappingError) as refused:
        validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r2", mapping_files=(ours,), jobs=1)
    assert (refused.value.path, refused.value.line) == (str(ours), 6)
    # Testing the code it is translated to is accepted, and matches.
    ours.write_text(GOODWHEN.replace('["UGPL"]', '["11"]'))
    [sex] = [i for i in issues_of([xml], [ours], tmp_path / "r3") if i["field"] == "sex"]
    assert sex["message"].startswith("sex: legacy code 'X' translated to '12'; AcmeSRS sex codes")


VENDOR = """\
codes:
  sex:
    source: AcmeSRS sex codes
    translate:
      "M": "11"
      "F": "10"
  nationality:
    source: AcmeSRS nationality names
    translate:
      "Ivoirien, C\u00f4te": "CI"
  training_route:
    source: AcmeSRS route codes
    translate:
      "UGPL":
        - {to: "11", when: {study_mode: ["31"]}}
        - {to: "09", when: {study_mode: ["63"]}}
"""


def _findings(issues: list[dict], code: str) -> list[str]:
    return [i["message"] for i in issues if i["code"] == code]


def test_an_invalid_code_names_the_users_block_and_a_near_miss_of_its_keys(tmp_path, c23053_made_valid):
    """review209 F5: `f`, beside a block translating `F`, and a nationality written decomposed (NFD) beside the file's
    composed key, were said to be invalid with "add a translation in a mapping file": which file, and why the one
    there did not apply, was left to the vendor. A value the block lacks altogether names the block's line."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(VENDOR, encoding="utf-8")
    decomposed = "Ivoirien, Co\u0302te"
    one = c23053_made_valid("one.xml", {"<F_SEXID>11<": "<F_SEXID>f<", "<F_NATION>NZ<": f"<F_NATION>{decomposed}<"})
    two = c23053_made_valid("two.xml", {"<F_SEXID>11<": "<F_SEXID>Q<"})
    # A key with its leading zeros lost is leading_zeros_lost's to say (pad it), not "add it".
    zeros = tmp_path / "zeros.yaml"
    zeros.write_text("codes:\n  training_route:\n    translate:\n      '0071': '12'\n", encoding="utf-8")
    three = c23053_made_valid("three.xml", {"<F_ENTRYRTE>12<": "<F_ENTRYRTE>71<"})
    issues = issues_of([one, two, three], [ours, zeros], tmp_path / "r")
    assert [i["value"] for i in issues if i["code"] == "leading_zeros_lost"] == ["71"]
    assert _findings(issues, "code_not_translated") == [
        f"sex: 'f' is not translated, but 'F' is, by {ours}:6 (a translation's code matches as written: letter case "
        "included): add 'f' beside it, or correct the SRS",
        f"nationality: '{decomposed}' is not translated, but 'Ivoirien, C\u00f4te' is, by {ours}:10 (a translation's "
        "code matches as written: the same letters, but the input writes them decomposed (NFD) and the file composed "
        "(NFC)): write it in the file as the input does (its decomposed form), or correct the SRS",
        f"sex: 'Q' is not translated by the sex block of {ours}:2: add it under codes.sex.translate there, or correct "
        "the SRS",
    ]
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(ours), str(one)])
    assert (
        f"  sex: 'f' x1, first at record 1, line 3; 'f' is not translated, but 'F' is, by {ours}:6 (a translation's "
        "code matches as written: letter case included): add 'f' beside it, or correct the SRS"
    ) in result.output.splitlines()


def test_a_code_translated_only_under_conditions_the_record_does_not_meet_says_so(tmp_path, c23053_made_valid):
    """review209 F5: `UGPL` with only `when` alternatives, none met (the sample's study mode is 01): the route was
    said to be invalid as if no file translated it."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(VENDOR, encoding="utf-8")
    xml = c23053_made_valid("srs.xml", {"<F_ENTRYRTE>12<": "<F_ENTRYRTE>UGPL<"})
    issues = issues_of([xml], [ours], tmp_path / "r")
    assert _findings(issues, "translation_unmatched") == [
        f"training_route: {ours}:14 translates 'UGPL' only when study_mode is 31, or when study_mode is 63, and this "
        "record meets none of these, so it is left as written, which is not in Register's training_route list: add a "
        "last alternative without a `when` for the other records, or correct the fields it tests"
    ]
    assert not _findings(issues, "code_not_translated")
    # A met condition translates it, and says nothing more.
    met = c23053_made_valid("met.xml", {"<F_ENTRYRTE>12<": "<F_ENTRYRTE>UGPL<", "<F_MODE>01<": "<F_MODE>31<"})
    assert not _findings(issues_of([met], [ours], tmp_path / "r2"), "translation_unmatched")


def test_check_input_lists_the_codes_a_bundled_translation_changed(tmp_path, c23053_made_valid):
    """review209 F4: the bundled C21053 tables apply to records of every layout, so a C23053 record's sex `2` (the
    vendor's own code) was read as C21053's female, and `mappings check INPUT`, the vendor's to-do list, counted it
    as covered without a word. It lists them now, with the bundled block, for the vendor to confirm or override; they
    are no problem (exit 0)."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(VENDOR, encoding="utf-8")
    one = c23053_made_valid("one.xml", {"<F_SEXID>11<": "<F_SEXID>2<"})
    two = c23053_made_valid("two.xml", {"<F_SEXID>11<": "<F_SEXID>2<"})
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(ours), str(one), str(two)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert (
        "Codes in the input that a bundled translation changed (1 code, 2 occurrences): each is read as the legacy "
        "HESA code it names; if your SRS means something else by it, translate it in your mapping file:"
    ) in lines
    assert (
        f"  sex: '2' -> '10' x2, first at {one}, record 1, line 3 (the bundled mappings/codes/legacy.yaml sex "
        "(C21053 sex codes))"
    ) in lines
    # Translated by the vendor's own file: theirs, not listed.
    ours.write_text(VENDOR.replace('"F": "10"', '"2": "12"'), encoding="utf-8")
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(ours), str(one)])
    assert "bundled translation changed" not in result.output


def test_code_blocks_at_the_top_of_a_file_are_told_to_go_under_codes_from_the_first_in_file_order(refusal):
    """review209 F7: a bundled mappings/codes file copied as the docs advise has its blocks at the top: the error
    named the first key alphabetically (its line), and did not say what to do."""
    user, message = refusal("# copied\nsex:\n  translate:\n    M: '11'\nadditional_training_initiative: {}\n")
    assert message == (
        f"{user}:2: unknown top-level key(s) sex, additional_training_initiative; expected 'fields' and/or 'codes': a "
        "code block goes under `codes:`; indent them under a `codes:` line (the bundled mappings/codes files are the "
        "one exception, with their blocks at the top)"
    )
    user, message = refusal("field: {}\nsex: {}\n")
    assert message.endswith(
        "expected 'fields' and/or 'codes': a code block (sex) goes under `codes:`; indent it "
        "under a `codes:` line (the bundled mappings/codes files are the one exception, with their "
        "blocks at the top)"
    )


def test_a_nationality_name_for_kosovan_translated_to_xk_is_no_warning(tmp_path, c23053_made_valid):
    """review209 F8: `Kosovan: XK` is right (XK is Kosovan in Register's list), yet `mappings check` told the
    vendor to "translate British to GB", and validate warned on every Kosovan trainee; translating to QO, the way
    out the FAQ gives, is refused, as translations do not chain. Another code translated to XK is still warned of."""
    from register_batch.mapping import load_mapping
    from register_batch.mapping.check import check_mappings
    from register_batch.reference import load_reference

    ours = tmp_path / "ours.yaml"
    ours.write_text("codes:\n  nationality:\n    translate:\n      Kosovan: XK\n      kosovan: XK\n      UK: XK\n")
    warned = [str(p) for p in check_mappings(load_mapping([ours]), load_reference()) if p.severity == "warning"]
    assert [w.split(": ")[2] for w in warned] == [
        "'UK' translates to 'XK', which is Kosovan in Register's nationality "
        "list, though it is the country code for the United Kingdom, not "
        "otherwise specified (docs/faq.md)"
    ]
    kosovan = c23053_made_valid("kosovan.xml", {"<F_NATION>NZ<": "<F_NATION>Kosovan<"})
    british = c23053_made_valid("british.xml", {"<F_NATION>NZ<": "<F_NATION>UK<"})
    issues = issues_of([kosovan, british], [ours], tmp_path / "r")
    assert [i["input"] for i in issues if i["code"] == "nationality_uk_country_code"] == [str(british)]
