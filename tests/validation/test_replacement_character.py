"""replacement_character: U+FFFD where a letter was, as a wrong-encoding save or export leaves it (review150 F1).

An editor that reads a file with the wrong encoding (a Windows-1252 extract behind a UTF-8 byte order mark) and saves
it "as UTF-8" writes U+FFFD for each letter it could not read; so does an export that replaces what it cannot read.
The file then reads cleanly in every way, and without this rule Register would store `Jos\ufffd` for `José`
(design.md: bad input, wrong encoding). The garbled rules read such a value as nothing: Windows-1252 has no U+FFFD.
"""

from __future__ import annotations

import copy
import csv
import json
import re
from pathlib import Path

import pytest

from cli_runs import validate_issues
from emulated import AS_OF, sync_options
from emulated import SYNC_TESTS_TOKEN as TOKEN
from register_batch.emulator import start_emulator
from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.sync import sync_files
from register_batch.validation import CATALOGUE
from register_batch.validation.rules import single_byte_read_as_windows_1252, utf8_read_as_windows_1252
from trainee_extracts import trainee, write_extract
from valid_trainee import VALID, validated, with_changes, withdrawal_for_another_reason

FIXTURES = Path(__file__).parents[1] / "fixtures"
LOST = "\ufffd"


def message(field: str, value: str) -> str:
    return (
        f"{field} holds U+FFFD, the replacement character ({value!r}): the letter it stands for was lost when the file "
        "was saved or exported with the wrong encoding, and Register would store the value as it is"
    )


def found(data: dict, **bodies: dict) -> list[tuple[str | None, str | None, str, str, str]]:
    return [(i.field, i.value, i.code, i.severity.value, i.message) for i in validated(data, **bodies).issues]


@pytest.mark.parametrize("field", ["first_names", "middle_names", "last_name", "previous_last_name", "email"])
def test_a_value_holding_u_fffd_is_an_error_of_its_own(field):
    value = f"Jos{LOST}" if field != "email" else f"jos{LOST}@example.com"
    issues = [f for f in found(with_changes(**{field: value})) if f[2] == "replacement_character"]
    assert issues == [(field, value, "replacement_character", "error", message(field, value))]


def test_the_record_gets_that_error_and_no_other():
    assert found(with_changes(first_names=f"Jos{LOST}", last_name=f"G{LOST}mez")) == [
        ("first_names", f"Jos{LOST}", "replacement_character", "error", message("first_names", f"Jos{LOST}")),
        ("last_name", f"G{LOST}mez", "replacement_character", "error", message("last_name", f"G{LOST}mez")),
    ]


@pytest.mark.parametrize(
    "key,field",
    [("degrees_attributes", "non_uk_degree"), ("degrees_attributes", "subject"), ("placements_attributes", "name")],
)
def test_a_degrees_or_a_placements_value_is_named_with_its_item(key, field):
    data = copy.deepcopy(VALID)
    data[key][0][field] = f"Jos{LOST}"
    named = f"{key}[0].{field}"
    issues = [f for f in found(data) if f[2] == "replacement_character"]
    assert issues == [(named, f"Jos{LOST}", "replacement_character", "error", message(named, f"Jos{LOST}"))]


def test_the_second_placement_is_named_so():
    data = copy.deepcopy(VALID)
    data["placements_attributes"] = [
        {"urn": "900020", "name": "Placement 1"},
        {"urn": "100001", "name": f"Ysgol {LOST}"},
    ]
    assert [(f[0], f[2]) for f in found(data)] == [("placements_attributes[1].name", "replacement_character")]


def test_a_withdrawals_and_a_deferrals_free_text_is_checked_too():
    """The free text of the bodies, as the text rules check it (review77 F1), named as Register's trainee shows it."""
    withdrawal = withdrawal_for_another_reason(f"Moved to Gda{LOST}sk")
    assert [(f[0], f[2], f[3]) for f in found(copy.deepcopy(VALID), withdrawal=withdrawal)] == [
        ("withdrawal_another_reason", "replacement_character", "error")
    ]
    deferral = {"defer_date": "2026-02-01", "defer_reason": f"Caf{LOST} job"}
    assert [(f[0], f[2]) for f in found(copy.deepcopy(VALID), deferral=deferral)] == [
        ("defer_reason", "replacement_character")
    ]


@pytest.mark.parametrize(
    "value",
    [
        f"Jos{LOST}",
        f"JosÃ© M{LOST}ller",  # UTF-8 read as Windows-1252 as well: garbled_text's sign
        f"Zo‘ Ren{LOST}e",  # Mac Roman read as Windows-1252 as well
        f"Mu–oz {LOST}",
        f"Se\u00a0n {LOST}",  # possibly_garbled_text's MS-DOS á
        f"Jos‚ {LOST}",
    ],
)
def test_the_garbled_rules_leave_a_value_with_u_fffd_to_this_rule(value):
    """No reading of a value with U+FFFD gives back its letter, as Windows-1252 has no U+FFFD: the garbled rules read
    it as nothing, and the one issue says what to do (export the file again), not two issues of one value."""
    assert utf8_read_as_windows_1252(value) is None
    assert single_byte_read_as_windows_1252(value) == single_byte_read_as_windows_1252(value, weak=True) == []
    assert [(f[0], f[2]) for f in found(with_changes(last_name=value))] == [("last_name", "replacement_character")]


def test_a_garbled_value_beside_one_with_u_fffd_is_still_garbled_text():
    assert [(f[0], f[2]) for f in found(with_changes(first_names="JosÃ©", last_name=f"G{LOST}mez"))] == [
        ("first_names", "garbled_text"),
        ("last_name", "replacement_character"),
    ]


@pytest.mark.parametrize("value", ["José", "Zoë", "Łukasz", "Nguyễn", "\ufffe", "U+FFFD", "\\ufffd"])
def test_text_without_u_fffd_is_left_alone(value):
    assert "replacement_character" not in {f[2] for f in found(with_changes(last_name=value))}


def test_the_catalogue_says_what_to_do():
    rule = CATALOGUE["replacement_character"]
    assert (rule.severity.value, rule.api, rule.scope) == ("error", False, "trainee")
    assert "design.md (bad input: wrong encoding)" in rule.source and "Register does not check this" in rule.source
    assert "export the file again" in rule.fix and "as UTF-8" in rule.fix and "save it again" in rule.fix


def generated_xml(tmp_path: Path, count: int = 3) -> str:
    path = tmp_path / "generated.xml"
    generate(path, count=count, fmt="hesa-xml", seed=5, as_of=AS_OF)
    return path.read_text(encoding="utf-8")


def with_tag(text: str, tag: str, record: int, value: str) -> str:
    """`text` with the `record`-th (from 1) <tag>'s value set to `value`."""
    hits = list(re.finditer(f"<{tag}>([^<]*)</{tag}>", text))
    hit = hits[record - 1]
    return text[: hit.start(1)] + value + text[hit.end(1) :]


def issues_of(result) -> list[dict]:
    return json.loads(result.report_paths["json"].read_text(encoding="utf-8"))["issues"]


def test_validate_files_reports_u_fffd_in_a_hesa_xml_name(tmp_path):
    text = generated_xml(tmp_path)
    extract = tmp_path / "lost.xml"
    extract.write_text(with_tag(text, "F_FNAMES", 2, f"Jos{LOST}"), encoding="utf-8")
    result = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "r", jobs=1)
    assert result.exit_code == 1
    assert [
        (i["record"], i["field"], i["value"], i["code"], i["severity"], i["source"]) for i in issues_of(result)
    ] == [(2, "first_names", f"Jos{LOST}", "replacement_character", "error", "F_FNAMES")]
    assert issues_of(result)[0]["message"] == message("first_names", f"Jos{LOST}")


def test_an_extract_an_editor_saved_behind_a_byte_order_mark_is_reported(tmp_path):
    """review150 F1: a Windows-1252 extract behind a UTF-8 byte order mark is refused (the reader says not to mend it
    in an editor); an editor that trusts the mark and saves it "as UTF-8" writes U+FFFD for each accented letter, and
    that file validated clean. Each such value is now an error."""
    text = generated_xml(tmp_path).replace('encoding="UTF-8"', 'encoding="windows-1252"')
    text = with_tag(with_tag(text, "F_FNAMES", 2, "Renée"), "F_SURNAME", 3, "Gómez")
    damaged = b"\xef\xbb\xbf" + text.encode("cp1252")
    saved = damaged.decode("utf-8", "replace").encode("utf-8")  # what the editor wrote: the mark, then U+FFFD
    extract = tmp_path / "saved_by_an_editor.xml"
    extract.write_bytes(saved)
    result = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "r", jobs=1)
    assert result.exit_code == 1
    assert [(i["record"], i["field"], i["value"], i["code"]) for i in issues_of(result)] == [
        (2, "first_names", f"Ren{LOST}e", "replacement_character"),
        (3, "last_name", f"G{LOST}mez", "replacement_character"),
    ]


@pytest.mark.parametrize("fmt,column", [("hesa-csv", "F_FNAMES"), ("register-csv", "first_names")])
def test_validate_files_reports_u_fffd_in_a_csv(tmp_path, fmt, column):
    """A HESA-named CSV and Register's template alike: the rule is of the record, whatever file it was read from."""
    path = tmp_path / "generated.csv"
    generate(path, count=3, fmt=fmt, seed=5, as_of=AS_OF)
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    rows[2][rows[0].index(column)] = f"Jos{LOST}"  # the second record
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    result = validate_files([path], as_of=AS_OF, report_dir=tmp_path / "r", jobs=1)
    assert result.exit_code == 1
    assert [(i["record"], i["field"], i["value"], i["code"], i["severity"]) for i in issues_of(result)] == [
        (2, "first_names", f"Jos{LOST}", "replacement_character", "error")
    ]


def test_the_command_line_reports_u_fffd_in_a_register_csv(tmp_path):
    text = (FIXTURES / "register_csv" / "five_trainees.csv").read_text(encoding="utf-8")
    assert ",Spencer,Murphy," in text
    extract = tmp_path / "lost.csv"
    extract.write_text(text.replace(",Spencer,Murphy,", f",Sp{LOST}ncer,Murphy,"), encoding="utf-8")
    code, issues, output = validate_issues(extract, tmp_path / "r")
    assert code == 1, output
    assert [(i["record"], i["field"], i["value"], i["code"], i["severity"]) for i in issues] == [
        (1, "first_names", f"Sp{LOST}ncer", "replacement_character", "error")
    ]


def test_sync_does_not_send_the_record(tmp_path):
    """An error: the record is not sent, so Register never stores the lost letter; the others are created."""
    rows = [trainee(1), {**trainee(2), "last_name": f"Nowak-W{LOST}jcik"}, trainee(3)]
    source = write_extract(tmp_path / "in.csv", rows)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        result = sync_files([source], sync_options(emulator, tmp_path, TOKEN))
        held = emulator.snapshot()["trainees"]
    assert [(r.plan.action, r.outcome) for r in result.results] == [
        ("create", "done"),
        ("invalid", "skipped"),
        ("create", "done"),
    ]
    assert [(i.field, i.code) for i in result.results[1].issues] == [("last_name", "replacement_character")]
    assert held == 2
    assert result.exit_code == 1
