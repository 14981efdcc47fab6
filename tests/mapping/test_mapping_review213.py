"""A `when` judged by the mappings, not by the lists a run happens to use (review213 F1, F2); funding a route never
has (F3); advice that can be followed (F4, F6, F7); the translation warning's line from loading (F5)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import MappingError
from register_batch.jobs import validate_files
from register_batch.mapping import load_mapping
from register_batch.mapping.check import check_mappings
from register_batch.reference import PULLED_FILE, ReferenceData, load_reference
from trainee_extracts import trainee, write_extract

AS_OF = date(2026, 11, 28)


def pulled_lists(
    folder: Path, added: dict[str, list[str]] | None = None, retired: dict[str, str] | None = None
) -> ReferenceData:
    """The bundled lists with codes added and retired, saved as a pull saves them, read as validation reads them."""
    payload = json.loads(json.dumps(load_reference().api_payload()))
    for field, codes in (added or {}).items():
        payload[field]["entries"] += [{"code": code, "display_name": f"New {code}"} for code in codes]
    for field, code in (retired or {}).items():
        payload[field]["entries"] = [entry for entry in payload[field]["entries"] if entry["code"] != code]
    document = {"target": "http://127.0.0.1:9", "pulled_at": "2026-12-01T03:00:00+00:00", "payload": payload}
    (folder / PULLED_FILE).write_text(json.dumps(document))
    return load_reference("v2026.1", folder / PULLED_FILE)


def issues_of(
    tmp_path: Path, rows: list[dict[str, Any]], mappings: list[Path] = (), reference_path: Path | None = None
) -> list[dict[str, Any]]:
    """report.json's issues of validating `rows` as a Register CSV (the bundled lists when no `reference_path`)."""
    extract = write_extract(tmp_path / "in.csv", rows)
    reports = tmp_path / "reports"
    validate_files(
        [extract], as_of=AS_OF, report_dir=reports, mapping_files=mappings, reference_path=reference_path, jobs=1
    )
    return json.loads((reports / "report.json").read_text(encoding="utf-8"))["issues"]


def _said(issues: list[dict[str, Any]], code: str) -> list[str]:
    return [issue["message"] for issue in issues if issue["code"] == code]


EU = """\
codes:
  fund_code:
    source: AcmeSRS fund codes
    translate:
      "EU":
        - {to: "7", when: {nationality: ["FR", "DE", "IT", "ES"]}}
        - {to: "2"}
"""


def test_a_pull_that_retires_one_value_of_a_when_stops_nothing(tmp_path):
    """F1: a pull retiring qualification aim 028 (in the bundled route-01 `when`) or nationality IT (in a user's
    `when` beside FR, DE and ES) made every command exit 2, a nightly sync included, with "never used". The other
    values still match: validate runs, and `mappings check` warns of the retired value only."""
    ours = tmp_path / "eu.yaml"
    ours.write_text(EU)
    for retired in ({"itt_qualification_aim": "028"}, {"nationality": "IT"}):
        reference = pulled_lists(tmp_path, retired=retired)
        rows = [dict(trainee(1), nationality="FR", fund_code="EU")]
        issues = issues_of(tmp_path, rows, [ours], tmp_path / PULLED_FILE)
        [translated] = [i for i in issues if i["code"] == "legacy_code_translated" and i["field"] == "fund_code"]
        assert translated["message"].startswith("fund_code: legacy code 'EU' translated to '7'")
        problems = check_mappings(load_mapping([ours]), reference)
        assert not [p for p in problems if p.severity == "error" and p.origin != "mappings/codes/legacy.yaml"]
        warned = [p.message for p in problems if p.origin == str(ours)]
        if "nationality" in retired:
            assert warned == [
                "'EU': `when` tests nationality for 'IT', which the nationality list pulled at "
                "2026-12-01T03:00:00+00:00 no longer holds: a record with it fails as an invalid code, so that value "
                "matches no record sent"
            ]
        else:
            assert warned == []  # the bundled route-01 `when` is no user's to change: not warned of either


NEW_ROUTE_WHEN = """\
codes:
  funding_method:
    source: AcmeSRS funding
    translate:
      "SCH":
        - {to: "E", when: {training_route: ["22"]}}
        - {to: "6"}
"""


def test_a_when_on_a_code_only_the_pulled_lists_hold_is_judged_alike_with_either_lists(tmp_path):
    """F2: a `when` testing route 22, which only the pulled lists hold, ran where the pulled lists were in use and
    stopped (exit 2) where the bundled ones were: another folder, the library's validate_files, a CI `mappings
    check`. It runs with both; with the bundled lists `mappings check` warns, naming the lists and `reference pull`."""
    ours = tmp_path / "when.yaml"
    ours.write_text(NEW_ROUTE_WHEN)
    pulled = pulled_lists(tmp_path, added={"training_route": ["22"]})
    rows = [dict(trainee(1), funding_method="SCH")]
    for reference_path in (None, tmp_path / PULLED_FILE):
        issues = issues_of(tmp_path, rows, [ours], reference_path)
        assert _said(issues, "legacy_code_translated")[0].startswith("funding_method: legacy code 'SCH' translated")
    assert [p.message for p in check_mappings(load_mapping([ours]), pulled) if p.origin == str(ours)] == []
    [warned] = [p for p in check_mappings(load_mapping([ours]), load_reference()) if p.origin == str(ours)]
    assert (warned.severity, warned.line) == ("warning", 5)
    assert warned.message == (
        "'SCH': `when` tests training_route for '22', which is not in the bundled training_route list (Register's "
        "lists of 2026-08-22, DfE commit ce1126541): a record with it fails as an invalid code, so that value matches "
        "no record sent; if Register lists it now, run `register-batch reference pull`, else test the Register code"
    )
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(ours)])
    assert result.exit_code == 0, result.output


PARTLY = """\
codes:
  sex:
    source: AcmeSRS sex codes
    translate:
      "X":
        - {to: "12", when: {training_route: ["UGPL", "%s"]}}
        - {to: "99"}
  training_route:
    source: AcmeSRS route codes
    translate:
      "UGPL": "11"
      "PGSD": "03"
"""


def test_a_when_is_refused_for_a_value_translated_before_it(tmp_path):
    """F1: a `when` whose values are all translated first is refused (an error in the user's file, naming the first
    such value, what translates it and the codes to test); one beside a live value too since review218 F2."""
    ours = tmp_path / "partly.yaml"
    ours.write_text(PARTLY % "PGSD")
    with pytest.raises(MappingError) as refused:
        validate_files(
            [write_extract(tmp_path / "in.csv", [trainee(1)])], report_dir=tmp_path / "r", mapping_files=[ours]
        )
    assert str(refused.value) == (
        f"{ours}:6: codes.sex.translate.X[0].when.training_route: never matches 'PGSD': a `when` sees the record's "
        "other fields as Register gets them, and training_route 'PGSD' is always translated before this `when` is "
        f"looked at (to '03' by {ours}:12); test '03' instead"
    )


def test_a_new_subject_on_a_route_never_funded_so_keeps_its_error(tmp_path):
    """F3: a bursary on school_direct_salaried (grants only in 2025/26), or a grant on provider_led_postgrad, is
    refused whatever allocation subject a pulled new subject has; only where the route has such funding for some
    subject does the subject decide, and funding_not_judged leave it to Register."""
    rows = [
        dict(trainee(1), course_subject_1="101999", training_route="03", fund_code="7", funding_method="B"),
        dict(trainee(2), course_subject_1="101999", fund_code="7", funding_method="E"),
        dict(trainee(3), course_subject_1="101999", fund_code="7", funding_method="B"),
        dict(trainee(4), course_subject_1="101999", training_route="03", fund_code="7", funding_method="E"),
    ]
    pulled_lists(tmp_path, added={"course_subject": ["101999"]})
    found = issues_of(tmp_path, rows, reference_path=tmp_path / PULLED_FILE)
    assert [(i["record"], i["code"]) for i in found if "fund" in i["code"]] == [
        (1, "funding_method_not_available"),
        (2, "funding_method_not_available"),
        (3, "funding_not_judged"),
        (4, "funding_not_judged"),
    ]


def test_the_translation_warning_names_the_line_found_on_loading(tmp_path):
    """F5: the warning read the mapping file again for each code (a named pipe hung validate and sync); the lines are
    found when the file is loaded, and the file is not read again."""
    ours = tmp_path / "sex.yaml"
    ours.write_text('codes:\n  sex:\n    source: AcmeSRS\n    translate:\n      "M": "11"\n      "F": "10"\n')
    config = load_mapping([ours])
    ours.unlink()
    sex = config.translations_for("sex")
    assert sex is not None
    assert (sex.place_of("M"), sex.place_of("F"), sex.place_of("1")) == (
        f"{ours}:5",
        f"{ours}:6",
        "mappings/codes/legacy.yaml",
    )


ROUTES = """\
codes:
  training_route:
    source: AcmeSRS route codes
    translate:
      "PGSD": "03"
  funding_method:
    source: AcmeSRS funding
    translate:
      "T1": "7"
  sex:
    source: AcmeSRS sex codes
    translate:
      "F": "10"
"""


def test_no_block_hint_where_the_value_is_a_register_code_with_lost_zeros_or_in_another_case(tmp_path):
    """F6: `3` (for 03) and `d` (for D) got "add it under codes.X.translate" beside leading_zeros_lost and code_case:
    a translation `"3": "03"` would hide a spreadsheet that drops zeros in every column. A code the block lacks still
    gets it, and `mappings check INPUT` gives it too (F7)."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(ROUTES)
    rows = [
        dict(trainee(1), training_route="3"),
        dict(trainee(2), fund_code="7", funding_method="d"),
        dict(trainee(3), sex="M"),
    ]
    issues = issues_of(tmp_path, rows, [ours])
    assert [i["record"] for i in issues if i["code"] in ("leading_zeros_lost", "code_case")] == [1, 2]
    assert _said(issues, "code_not_translated") == [
        f"sex: 'M' is not translated by the sex block of {ours}:10: add it under codes.sex.translate there, or "
        "correct the SRS"
    ]
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(ours), str(tmp_path / "in.csv")])
    lines = result.output.splitlines()
    assert (
        f"  sex: 'M' x1, first at record 3, line 4; 'M' is not translated by the sex block of {ours}:10: add it under "
        "codes.sex.translate there, or correct the SRS"
    ) in lines, result.output
    assert [line for line in lines if "'d' x1" in line] == [
        "  funding_method: 'd' x1, first at record 2, line 3; 'd' is not a code, but 'D' is (Register's codes are "
        "case-sensitive)"
    ], result.output
