"""A `when` value no record holds when the `when` is looked at is refused, whatever translates it first: a
translation with a `when` of its own and a fallback too (review218 F1), and beside values that can match (F2)."""

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
from register_batch.reference import load_reference
from trainee_extracts import trainee, write_extract

AS_OF = date(2026, 11, 28)


def _validate(tmp_path: Path, rows: list[dict[str, Any]], mapping: Path) -> list[dict[str, Any]]:
    """report.json's issues of validating `rows` as a Register CSV with `mapping`."""
    extract = write_extract(tmp_path / "in.csv", rows)
    validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=[mapping], jobs=1)
    return json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["issues"]


def _refused(tmp_path: Path, mapping: Path) -> str:
    """The refusal, as validate raises it and `mappings check` prints it (exit 2)."""
    with pytest.raises(MappingError) as refused:
        _validate(tmp_path, [trainee(1)], mapping)
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(mapping)])
    assert result.exit_code == 2, result.output
    assert str(refused.value) in result.output
    return str(refused.value)


FUND = """\
codes:
  fund_code:
    source: AcmeSRS fee status
    translate:
      "EU":
        - {to: "7", note: eligible, when: {training_route: ["01"]}}
        - {to: "2", note: not eligible}
"""


def test_a_when_on_a_code_the_bundled_files_translate_by_a_when_is_refused(tmp_path):
    """F1 repro 1: legacy.yaml translates route 01 to 11 or 12 by itt_qualification_aim, so no record has route 01
    when the fund code's `when` looks, and fund code 2 (not eligible) was sent with "No problems found"."""
    ours = tmp_path / "fund.yaml"
    ours.write_text(FUND)
    assert _refused(tmp_path, ours) == (
        f"{ours}:6: codes.fund_code.translate.EU[0].when.training_route: never matches '01': a `when` sees the "
        "record's other fields as Register gets them, and training_route '01' is always translated before this `when` "
        "is looked at (to '11' or '12' by mappings/codes/legacy.yaml); test '11' or '12' instead"
    )


ROUTE_BY_MODE = """\
codes:
  sex:
    source: AcmeSRS sex codes
    translate:
      "X":
        - {to: "12", when: {training_route: [%s]}}
        - {to: "99"}
  training_route:
    source: AcmeSRS route codes
    translate:
      "UGPL":
        - {to: "11", when: {study_mode: ["01"]}}
        - {to: "09"}
"""


def test_a_when_on_a_code_translated_by_a_when_with_a_fallback_is_refused(tmp_path):
    """F1 repro 2 (goodwhen.yaml with UGPL translated by a `when` of its own and a fallback): UGPL is 11 or 09 by
    then, and sex 99 was sent for the 12 the user wrote."""
    ours = tmp_path / "nc.yaml"
    ours.write_text(ROUTE_BY_MODE % '"UGPL"')
    assert _refused(tmp_path, ours) == (
        f"{ours}:6: codes.sex.translate.X[0].when.training_route: never matches 'UGPL': a `when` sees the record's "
        "other fields as Register gets them, and training_route 'UGPL' is always translated before this `when` is "
        f"looked at (to '11' or '09' by {ours}:11); test '11' or '09' instead"
    )


def test_one_dead_value_beside_live_ones_is_refused_naming_it(tmp_path):
    """F2: a record with UGPL got the fallback, and only `mappings check` warned, exit 0; dead from the mappings
    alone, so refused alike everywhere, naming the value, what translates it and the values still live."""
    ours = tmp_path / "partial.yaml"
    ours.write_text(ROUTE_BY_MODE % '"UGPL", "11"')
    assert _refused(tmp_path, ours) == (
        f"{ours}:6: codes.sex.translate.X[0].when.training_route: never matches 'UGPL' (the other values, '11', still "
        "match): a `when` sees the record's other fields as Register gets them, and training_route 'UGPL' is always "
        f"translated before this `when` is looked at (to '11' or '09' by {ours}:11); test '11' or '09' instead"
    )
    ours.write_text(ROUTE_BY_MODE % '"11", "09"')
    issues = _validate(tmp_path, [dict(trainee(1), sex="X", training_route="UGPL", study_mode="01")], ours)
    said = sorted(i["message"].split(";")[0] for i in issues if i["code"] == "legacy_code_translated")
    assert said == ["sex: legacy code 'X' translated to '12'", "training_route: legacy code 'UGPL' translated to '11'"]


CYCLE = """\
codes:
  sex:
    source: AcmeSRS sex codes
    translate:
      "X":
        - {to: "12", when: {training_route: ["%s"]}}
        - {to: "99"}
  training_route:
    source: AcmeSRS route codes
    translate:
      "UGPL":
        - {to: "11", when: {sex: ["%s"]}}
        - {to: "09"}
"""


def test_two_whens_testing_each_others_srs_codes_are_refused(tmp_path):
    """F1 repro 3 (cycle.yaml): the `when` the field map reads second sees the other field translated, so it never
    matches (route 09 was sent for UGPL), and which one that is the user cannot see."""
    ours = tmp_path / "cycle.yaml"
    ours.write_text(CYCLE % ("UGPL", "X"))
    assert _refused(tmp_path, ours) == (
        f"{ours}:6: codes.sex.translate.X[0].when.training_route: never matches 'UGPL': a `when` sees the record's "
        "other fields as Register gets them, and training_route 'UGPL' is always translated before this `when` is "
        f"looked at (to '11' or '09' by {ours}:11); training_route's own `when` for 'UGPL' tests this field back, and "
        "of two `when`s that test each other one sees the other translated, whichever the field map reads first; "
        "test '11' or '09' instead"
    )


def test_two_whens_testing_each_others_register_codes_work_in_either_order(tmp_path):
    """The mutual case that is sound: each tests a code a record can hold as written (Register's), so neither
    depends on which is translated first."""
    ours = tmp_path / "mutual.yaml"
    ours.write_text(CYCLE % ("11", "12"))
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(ours)])
    assert result.exit_code == 0, result.output
    rows = [dict(trainee(1), sex="X", training_route="11"), dict(trainee(2), sex="12", training_route="UGPL")]
    issues = _validate(tmp_path, rows, ours)
    said = sorted(i["message"].split(";")[0] for i in issues if i["code"] == "legacy_code_translated")
    assert said == ["sex: legacy code 'X' translated to '12'", "training_route: legacy code 'UGPL' translated to '11'"]


ANCHORED = """\
codes:
  sex:
    source: AcmeSRS sex codes
    translate:
      "M": "11"
      "X": &alts
        - {to: "12", when: {training_route: ["UGPL"]}}
        - {to: "99"}
      "Y": *alts
  training_route:
    source: AcmeSRS route codes
    translate:
      "UGPL": "11"
"""


def test_an_anchors_own_when_keeps_its_line_and_key_form(tmp_path):
    """F5: the alias's path claimed the aliased node, so the anchor's `when` had no line and a key form (`X.when`)
    not as the file writes it."""
    ours = tmp_path / "anchor.yaml"
    ours.write_text(ANCHORED)
    assert _refused(tmp_path, ours).startswith(
        f"{ours}:7: codes.sex.translate.X[0].when.training_route: never matches 'UGPL': "
    )


def test_a_when_on_a_code_translated_only_by_whens_is_warned_of(tmp_path):
    """F1 (nc2.yaml): UGPL translated by a `when` with no fallback is kept where that `when` does not match, so it is
    not refused, but the record then fails on its route: `mappings check` says so, with the code to test."""
    ours = tmp_path / "nc2.yaml"
    ours.write_text(ROUTE_BY_MODE.replace('        - {to: "09"}\n', "") % '"UGPL"')
    [warned] = [p for p in check_mappings(load_mapping([ours]), load_reference()) if p.origin == str(ours)]
    assert (warned.severity, warned.message) == (
        "warning",
        "'X': `when` tests training_route for 'UGPL', which `when`s of its own translate to '11' before this `when` "
        f"is looked at (by {ours}:11): it is kept only where none of them matches, and a record with it then fails as "
        "an invalid code, so that value matches no record sent; test '11'",
    )
