"""Codes a pull brings that the bundled rule tables do not know (review210): the lists in use decide, or the rule
says it cannot tell and Register judges."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from register_batch import __version__
from register_batch.cli import cli
from register_batch.derived import disability_disclosure, diversity_disclosure
from register_batch.jobs import validate_files
from register_batch.mapping import load_mapping
from register_batch.mapping.check import check_mappings
from register_batch.reference import PULLED_FILE, ReferenceData, load_reference
from register_batch.sync.compare import derived_drift
from report_schema import allowed_report
from trainee_extracts import trainee, write_extract


def pulled_lists(folder: Path, added: dict[str, list[dict[str, Any]]]) -> ReferenceData:
    """The bundled lists with `added` entries per list, saved as a pull saves them, read as validation reads them."""
    payload = json.loads(json.dumps(load_reference().api_payload()))
    for field, entries in added.items():
        payload[field]["entries"] += entries
    document = {"target": "http://127.0.0.1:9", "pulled_at": "2026-12-01T03:00:00+00:00", "payload": payload}
    (folder / PULLED_FILE).write_text(json.dumps(document))
    return load_reference("v2026.1", folder / PULLED_FILE)


NEW_DISABILITY = {"disability": [{"code": "60", "display_name": "Neurodivergent condition"}]}


def test_a_pulled_disability_code_the_bundled_names_lack_is_disclosed(tmp_path):
    """F3: Register counts any disability of its list as disclosed; judged by the bundled internal names, a new code
    was no answer, and the sync sent a PUT every night for the disclosure Register had right."""
    reference = pulled_lists(tmp_path, NEW_DISABILITY)
    assert disability_disclosure(reference, {"disability1": "60"}) == "disabled"
    assert diversity_disclosure(reference, "997", {"disability1": "60"}) == "diversity_disclosed"
    body = {"disability1": "60", "ethnicity": "997"}
    register = {"diversity_disclosure": "diversity_disclosed"}
    assert derived_drift(body, register, body, reference) == []
    # The bundled lists' disclosures are as before: a code they lack is dropped, as Register drops it.
    bundled = load_reference()
    for codes, expected in [
        ([], "disability_not_provided"),
        (["98"], "disability_not_provided"),
        (["99"], "disability_not_provided"),
        (["98", "99"], "disabled"),  # two "Not provided", not exactly one (has_diversity_attributes.rb)
        (["95"], "no_disability"),
        (["95", "58"], "disabled"),
        (["60"], "disability_not_provided"),
    ]:
        given = {f"disability{n}": code for n, code in enumerate(codes, 1)}
        assert disability_disclosure(bundled, given) == expected, codes


AS_OF = date(2026, 11, 28)


def issues_of(tmp_path: Path, rows: list[dict[str, Any]], reference_path: Path | None) -> list[tuple[Any, ...]]:
    """Each issue of validating `rows` as a Register CSV with the lists of `reference_path` (None: the bundled)."""
    extract = write_extract(tmp_path / "in.csv", rows)
    reports = tmp_path / "reports"
    validate_files([extract], as_of=AS_OF, report_dir=reports, reference_path=reference_path, jobs=1)
    report = json.loads((reports / "report.json").read_text(encoding="utf-8"))
    return [(i["record"], i["code"], i["field"], i["value"], i["severity"], i["message"]) for i in report["issues"]]


def test_a_code_legacy_yaml_refuses_that_the_pulled_lists_hold_is_sent_with_a_warning(tmp_path):
    """F6: after a pull holding nationality ZZ, the bundled note "not accepted by Register: leave it blank" is out of
    date; the error said that and "Register itself accepts 'ZZ'" at once, and held the record back."""
    reference = pulled_lists(tmp_path, {"nationality": [{"code": "ZZ", "display_name": "Not known"}]})
    warnings = [p.message for p in check_mappings(load_mapping([]), reference) if p.severity == "warning"]
    assert warnings == [
        "'ZZ' is itself a valid nationality code; records with it are sent as written, with a "
        "no_translation_now_listed warning"
    ]
    rows = [dict(trainee(1), nationality="ZZ"), dict(trainee(2), training_route="02")]
    issues = issues_of(tmp_path, rows, tmp_path / PULLED_FILE)
    # Route 02, which legacy.yaml refuses and both lists hold (R9 refuses it), is no code Register listed since.
    assert ("untranslatable_code", "training_route") in {(code, field) for record, code, field, *_ in issues[1:]}
    assert issues[:1] == [
        (
            1,
            "no_translation_now_listed",
            "nationality",
            "ZZ",
            "warning",
            "nationality: 'ZZ' is sent as written: the pulled lists in use hold it, so the bundled note refusing it "
            '("nationality ZZ (not known) is not accepted by Register: leave it blank") is out of date. Register '
            "will judge it",
        )
    ]


def test_a_code_legacy_yaml_refuses_that_the_lists_in_use_lack_says_how_to_send_it_all_the_same(tmp_path):
    """F6: with the bundled lists the record is held back, as before, and the error ends with the way to send it
    should Register list it since; a pulled list that lacks the code too gives the same."""
    row = dict(trainee(1), nationality="ZZ")
    pulled_lists(tmp_path, {})
    for reference_path in (None, tmp_path / PULLED_FILE):
        ((record, code, field, value, severity, message),) = issues_of(tmp_path, [row], reference_path)
        assert (record, code, field, value, severity) == (1, "untranslatable_code", "nationality", "ZZ", "error")
        # Register's own answer first (review234 F1), then the bundled note
        assert message.startswith("nationality has invalid reference data value of 'ZZ'. Example values include 'AD'")
        assert "nationality: nationality ZZ (not known) is not accepted by Register: leave it blank" in message
        assert "Register itself accepts" not in message
        assert message.endswith(
            "; if Register lists it now, run `register-batch reference pull`: a code the pulled lists hold is sent"
        )  # review213 F4: not "map it to itself", which gives invalid_code while the lists lack it


NEW_INITIATIVE = {"training_initiative": [{"code": "037", "display_name": "Future teaching scholars"}]}
NEW_SUBJECT = {"course_subject": [{"code": "101999", "display_name": "Quantum studies"}]}
NEW_ROUTE = {"training_route": [{"code": "22", "display_name": "Teaching apprenticeship (postgrad, new)"}]}
SNAPSHOT = "Register's lists of 2026-08-22, DfE commit ce1126541"


def test_a_pulled_initiative_the_bundled_tables_do_not_know_is_a_warning_and_the_record_is_sent(tmp_path):
    """F4: a new initiative, pulled, was refused as not available in the cycle, judged by the bundled internal names
    and cycles, which know nothing of it; with the bundled lists it is no code, as before."""
    rows = [dict(trainee(1), training_initiative="037"), dict(trainee(2), additional_training_initiative="037")]
    pulled_lists(tmp_path, NEW_INITIATIVE)
    assert issues_of(tmp_path, rows, tmp_path / PULLED_FILE) == [
        (
            n,
            "initiative_not_judged",
            field,
            "037",
            "warning",
            f"register-batch cannot tell which academic cycles {field} '037' (Future teaching scholars) runs in: the "
            f"pulled lists in use hold it, and the bundled initiative table ({SNAPSHOT}) does not know it; Register "
            "will judge it",
        )
        for n, field in ((1, "training_initiative"), (2, "additional_training_initiative"))
    ]
    bundled = issues_of(tmp_path, rows, None)
    assert [(n, code, severity) for n, code, _f, _v, severity, _m in bundled] == [
        (1, "invalid_code", "error"),
        (2, "invalid_code", "error"),
    ]


def test_pulled_funding_the_bundled_tables_do_not_know_is_a_warning_and_the_record_is_sent(tmp_path):
    """F4: a bursary for a new subject, or fund code 7 on a new route: no bundled allocation subject or route name
    to look up, so funding_method_not_available and fund_code_not_valid refused them."""
    rows = [
        dict(trainee(1), course_subject_1="101999", fund_code="7", funding_method="B"),
        dict(trainee(2), training_route="22", fund_code="7"),
        # Physics in 2025/26 is a FundCodeException subject: its bursary needs no fund code 7 (§3.5.2)
        dict(trainee(3), course_subject_1="100425", training_route="22", funding_method="B"),
    ]
    pulled_lists(tmp_path, {**NEW_SUBJECT, **NEW_ROUTE})
    found = issues_of(tmp_path, rows, tmp_path / PULLED_FILE)
    assert [(n, code, field, value, severity) for n, code, field, value, severity, _m in found] == [
        (1, "funding_not_judged", "funding_method", "B", "warning"),
        (2, "funding_not_judged", "fund_code", "7", "warning"),
        (3, "funding_not_judged", "funding_method", "B", "warning"),
    ]
    assert [message for *_, message in found] == [
        "register-batch cannot tell whether funding_method 'bursary' is available for training_route '12' and "
        "course_subject_1 '101999' in academic cycle '2025 to 2026': the pulled lists in use hold course_subject_1 "
        f"'101999', which the bundled funding tables ({SNAPSHOT}) do not know; Register will judge it",
        "register-batch cannot tell whether fund_code '7' is available for training_route '22' and course_subject_1 "
        f"'100403' in academic cycle '2025 to 2026': the pulled lists in use hold training_route '22', which the "
        f"bundled funding tables ({SNAPSHOT}) do not know; Register will judge it",
        "register-batch cannot tell whether funding_method 'bursary' is available for training_route '22' and "
        "course_subject_1 '100425' in academic cycle '2025 to 2026': the pulled lists in use hold training_route "
        f"'22', which the bundled funding tables ({SNAPSHOT}) do not know; Register will judge it",
    ]
    # A subject the bundled tables know keeps its error after a pull: Physics has no grant on this route.
    known = issues_of(tmp_path, [dict(trainee(1), fund_code="7", funding_method="E")], tmp_path / PULLED_FILE)
    assert [code for _n, code, *_ in known] == ["funding_method_not_available"]


def test_diff_says_which_added_codes_the_bundled_rules_cannot_judge(tmp_path):
    """F4: the diff listed a new initiative as any other code; validate then refused every record with it."""
    pulled_lists(tmp_path, {**NEW_INITIATIVE, **NEW_SUBJECT, **NEW_ROUTE, **NEW_DISABILITY})
    result = CliRunner().invoke(cli, ["reference", "diff", "--state-dir", str(tmp_path)])
    assert result.exit_code == 1, result.output
    assert result.output.splitlines()[1:] == [
        "course_subject:",
        "  + 101999  Quantum studies  [the bundled rules cannot tell its funding: no bundled allocation subject takes "
        "it (funding_not_judged)]",
        "disability:",
        "  + 60  Neurodivergent condition",
        "training_initiative:",
        "  + 037  Future teaching scholars  [the bundled rules cannot tell which academic cycles it runs in "
        "(initiative_not_judged)]",
        "training_route:",
        "  + 22  Teaching apprenticeship (postgrad, new)  [the bundled rules cannot tell its funding: the bundled "
        "funding tables do not name it (funding_not_judged)]",
        "3 added code(s) the bundled rules cannot judge: validate warns of each in a record, which is sent for "
        "Register to judge (a pull updates the codes and their labels, not the bundled funding and initiative "
        "tables)",
    ]


def test_report_show_and_version_say_how_old_the_lists_are(tmp_path):
    """F7: report.json said `bundled v2026.1` or the pulled file's name and sha256, `reference show` the same and
    `--version` the tool's version alone: none said how old the lists a run was judged with were."""
    pulled_lists(tmp_path, {})
    reports = tmp_path / "reports"
    validate_files(
        [write_extract(tmp_path / "in.csv", [trainee(1)])],
        as_of=AS_OF,
        report_dir=reports,
        jobs=1,
        reference_path=tmp_path / PULLED_FILE,
    )
    report = allowed_report(reports)
    assert {key: report["reference"][key] for key in ("pulled_at", "bundled")} == {
        "pulled_at": "2026-12-01T03:00:00+00:00",
        "bundled": {"date": "2026-08-22", "commit": "ce1126541c2107c9fbfce47b18c794b0973aaac1"},
    }
    shown = CliRunner().invoke(cli, ["reference", "show"], env={"REGISTER_BATCH_STATE_DIR": str(tmp_path)})
    assert shown.output.splitlines()[0] == (
        f"Reference data (pulled {tmp_path / PULLED_FILE}; pulled at 2026-12-01T03:00:00+00:00; the rule tables are "
        f"the bundled ones, {SNAPSHOT}):"
    )
    shown = CliRunner().invoke(cli, ["reference", "show"], env={"REGISTER_BATCH_STATE_DIR": str(tmp_path / "none")})
    assert shown.output.splitlines()[0] == f"Reference data (bundled v2026.1; {SNAPSHOT}):"
    version = CliRunner().invoke(cli, ["--version"])
    assert (
        version.output
        == f"register-batch, version {__version__} (Register API v2026.1; bundled code lists: {SNAPSHOT})\n"
    )
