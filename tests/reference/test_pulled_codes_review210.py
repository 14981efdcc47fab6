"""Codes a pull brings that the bundled rule tables do not know (review210): the lists in use decide, or the rule
says it cannot tell and Register judges."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

from register_batch.derived import disability_disclosure, diversity_disclosure
from register_batch.jobs import validate_files
from register_batch.mapping import load_mapping
from register_batch.mapping.check import check_mappings
from register_batch.reference import PULLED_FILE, ReferenceData, load_reference
from register_batch.sync.compare import derived_drift
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
        assert message.startswith("nationality: nationality ZZ (not known) is not accepted by Register: leave it blank")
        assert "Register itself accepts" not in message
        assert message.endswith("; if Register lists it now, to send it, map it to itself in your mapping file")
