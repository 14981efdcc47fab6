"""A source a user's field map misspells, beside the tag the record has that nothing reads (review161 F1).

An SRS writes its leaving data in tags of its own (LEAVE_DATE, LEAVE_REASONS, ...); the provider's field map misspelt
them LEAVING_*. HESA XML ignores tags it does not know, so every leaver's withdrawal was blank: sync created each one
in training and exited 0, and the only trace was a warning per source about the whole file, on no summary. A source
no record has is no mistake by itself (a nightly extract may have no leaver this month); a record that lacks it but
holds a tag nothing reads that differs from it by a few letters is. That record is given an error
(`mapped_source_misspelt`) naming the map's line, the source and the tag, and is not sent; the terminal and
report.html's summary box say it, and the sources no record has, beside the summary line. Against the embedded
emulator over 127.0.0.1, as a user runs it.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import lxml.html
import pytest
from click.testing import CliRunner
from lxml import etree

from register_batch.cli import cli
from register_batch.jobs import validate_files

AS_OF = "2026-11-28"
LEAVE_TYPO = """\
fields:
  hesa:
    withdrawal:
      withdrawal_date: LEAVING_DATE
      reasons: LEAVING_REASONS
      trigger: LEAVING_TRIGGER
      future_interest: LEAVING_FUTURE_INTEREST
      another_reason: LEAVING_ANOTHER_REASON
      safeguarding_concern_reasons: LEAVING_SAFEGUARDING_CONCERN_REASONS
"""


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def generated(path: Path, count: int, seed: int, *extra: str) -> Path:
    code, out, _err = run(
        "generate", "--count", str(count), "--ukprn", "10052198", "--seed", str(seed), "--as-of", AS_OF, "-o",
        str(path), *extra,
    )  # fmt: skip
    assert code == 0, out
    return path


def srs_leavers(folder: Path) -> tuple[Path, list[str]]:
    """An SRS's extract writing its leavers' withdrawals in LEAVE_* tags, and those leavers' HUSIDs."""
    xml = generated(folder / "lv.xml", 12, 11, "--withdrawn", "0.3")
    text = xml.read_text(encoding="utf-8").replace("WITHDRAWAL_", "LEAVE_")
    xml.write_text(text, encoding="utf-8")
    tree = etree.parse(str(xml))
    leavers = [s.findtext("F_HUSID") for s in tree.iter("Student") if s.find("LEAVE_DATE") is not None]
    assert len(leavers) == 3
    return xml, leavers


def status_box(page: str) -> str:
    [box] = lxml.html.fromstring(page).find_class("status")
    return " ".join(box.text_content().split())


def issues(report_dir: Path, code: str) -> list[dict]:
    return [i for i in json.loads((report_dir / "report.json").read_text())["issues"] if i["code"] == code]


def test_sync_sends_no_leaver_whose_withdrawal_tags_the_field_map_misspells(tmp_path):
    xml, leavers = srs_leavers(tmp_path)
    (tmp_path / "ours.yaml").write_text(LEAVE_TYPO)
    state, reports = tmp_path / "state", tmp_path / "r"
    code, out, err = run(
        "sync", str(xml), "--mapping", str(tmp_path / "ours.yaml"), "--state-dir", str(state), "--rate", "1000/1",
        "--report-dir", str(reports), "--as-of", AS_OF,
    )  # fmt: skip
    assert code == 1, out + err
    lines = [line for line in out.splitlines() if not line.startswith("Target: embedded")]
    assert lines[0].startswith("12 records: 9 created; 3 invalid"), out
    # beside the summary line: the misspelt tags, and the sources no record has
    assert lines[1] == (
        f"{xml}: 3 records have tags nothing reads that look like misspellings of sources the field map names "
        "(LEAVE_DATE for withdrawal_date, LEAVE_REASONS for withdrawal_reasons, LEAVE_TRIGGER for withdrawal_trigger, "
        "LEAVE_FUTURE_INTEREST for withdrawal_future_interest and 1 more): their fields are blank, and they are "
        "invalid, until the mapping file names them as the extract does (mapped_source_misspelt)"
    )
    assert lines[2].startswith(f"{xml}: no record has LEAVING_DATE (for withdrawal_date), LEAVING_REASONS (for ")
    assert "blank in every record" in lines[2] and "mapped_source_missing" in lines[2]
    said = issues(reports, "mapped_source_misspelt")
    assert {i["hesa_id"] for i in said} == set(leavers)
    first = next(i for i in said if i["field"] == "withdrawal_date")
    assert first["severity"] == "error" and first["value"] == "LEAVE_DATE"
    assert first["message"] == (
        f"{tmp_path / 'ours.yaml'}:4 reads withdrawal_date from LEAVING_DATE, which this record lacks, but it has "
        "LEAVE_DATE, which nothing reads: a misspelt tag? The field is blank until the mapping file names it as the "
        "extract does (or lists LEAVE_DATE under `fields: hesa: ignored:` if it holds something else)"
    )
    assert "mapped_source_misspelt" in status_box((reports / "report.html").read_text(encoding="utf-8"))
    assert "LEAVE_DATE for withdrawal_date" in status_box((reports / "report.html").read_text(encoding="utf-8"))
    # Register holds no leaver in training: they were not sent
    code, out, err = run("export", "--state-dir", str(state), "--to", "json", "-o", str(tmp_path / "held.json"))
    assert code == 0, out + err
    held = json.loads((tmp_path / "held.json").read_text())
    assert len(held) == 9
    assert not {t["hesa_id"] for t in held} & set(leavers)
    assert {t["state"] for t in held} == {"trn_received"}


def test_the_map_spelt_right_withdraws_them_and_says_nothing_of_misspellings(tmp_path):
    xml, _leavers = srs_leavers(tmp_path)
    (tmp_path / "ours.yaml").write_text(LEAVE_TYPO.replace("LEAVING_", "LEAVE_"))
    code, out, err = run(
        "sync", str(xml), "--mapping", str(tmp_path / "ours.yaml"), "--state-dir", str(tmp_path / "state"),
        "--dry-run", "--report-dir", str(tmp_path / "r"), "--as-of", AS_OF,
    )  # fmt: skip
    assert code == 0, out + err
    assert "12 records: would create 12 (then withdraw 3)" in out
    assert "mapped_source_misspelt" not in out and not issues(tmp_path / "r", "mapped_source_misspelt")


def test_an_extract_with_no_leaver_is_valid_and_the_sources_no_record_has_are_said_beside_the_summary(tmp_path):
    """No record has a LEAVE_* tag: nothing is misspelt in sight, and every record is valid. That no record has the
    map's sources is said on the terminal and in the summary box, not only among the issues."""
    xml = generated(tmp_path / "none.xml", 8, 12)
    (tmp_path / "ours.yaml").write_text(LEAVE_TYPO)
    reports = tmp_path / "r"
    code, out, err = run(
        "validate", str(xml), "--mapping", str(tmp_path / "ours.yaml"), "--report-dir", str(reports), "--as-of", AS_OF
    )
    assert code == 0, out + err
    lines = out.splitlines()
    assert lines[0] == "8 records: 8 valid, 0 with errors (0 errors, 6 warnings)"
    assert lines[1] == (
        f"{xml}: no record has LEAVING_DATE (for withdrawal_date), LEAVING_REASONS (for reasons), LEAVING_TRIGGER "
        "(for trigger), LEAVING_FUTURE_INTEREST (for future_interest) and 2 more, which the field map reads: those "
        "fields are blank in every record (a misspelt tag or column, or none in this extract? mapped_source_missing)"
    )
    assert not issues(reports, "mapped_source_misspelt")
    assert lines[1].split(": ", 1)[1] in status_box((reports / "report.html").read_text(encoding="utf-8"))


def test_a_misspelt_srs_id_tag_makes_every_record_invalid_in_validate_and_convert(tmp_path):
    """`provider_trainee_id: F_ITTKY` (for F_ITTKEY): every trainee would go to Register without the SRS id sync
    matches by. F_ITTKEY, a HESA tag, is read by nothing once the map reads the field from F_ITTKY."""
    xml = generated(tmp_path / "x.xml", 6, 13)
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_ITTKY\n")
    code, out, err = run(
        "validate", str(xml), "--mapping", str(ours), "--report-dir", str(tmp_path / "r"), "--as-of", AS_OF
    )
    assert code == 1, out + err
    assert out.splitlines()[0].startswith("6 records: 0 valid, 6 with errors"), out
    said = issues(tmp_path / "r", "mapped_source_misspelt")
    assert [(i["field"], i["value"]) for i in said] == [("provider_trainee_id", "F_ITTKEY")] * 6
    assert said[0]["message"].startswith(
        f"{ours}:4 reads provider_trainee_id from F_ITTKY, which this record lacks, but it has F_ITTKEY"
    )
    code, out, err = run("convert", str(xml), "--mapping", str(ours), "--to", "json", "-o", str(tmp_path / "c.json"))
    assert code == 1, out + err
    assert "6 records have tags nothing reads that look like misspellings" in err
    assert "(F_ITTKEY for provider_trainee_id)" in err


def test_a_tag_listed_as_ignored_or_unlike_the_source_is_no_misspelling(tmp_path):
    """A tag the map lists under `ignored` holds something else; LEAVE_DATE is nothing like a source DEFER_WHEN."""
    xml, _leavers = srs_leavers(tmp_path)
    (tmp_path / "ours.yaml").write_text(
        "fields:\n  hesa:\n    withdrawal:\n      withdrawal_date: LEAVING_DATE\n    ignored: [LEAVE_DATE]\n"
        "    deferral:\n      defer_date: DEFER_WHEN\n"
    )
    code, out, err = run(
        "validate", str(xml), "--mapping", str(tmp_path / "ours.yaml"), "--report-dir", str(tmp_path / "r"),
        "--as-of", AS_OF,
    )  # fmt: skip
    assert not issues(tmp_path / "r", "mapped_source_misspelt"), out
    assert code == 0, out + err


def test_mappings_check_without_an_extract_warns_of_a_source_a_few_letters_from_a_hesa_tag(tmp_path):
    """migration.md's first check has no extract: F_ITTKY (for F_ITTKEY) said "No problems found". A source a few
    letters from a HESA tag is warned of; an SRS's own tags (LEAVING_*) cannot be judged without an extract, and
    are not, not even one sharing a long part with a HESA tag (LEAVING_SAFEGUARDING_CONCERN_REASONS)."""
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_ITTKY\n      sex: sexid\n")
    code, out, err = run("mappings", "check", "--mapping", str(ours))
    assert code == 0, out + err
    assert out.splitlines()[1:] == [
        f"warning: {ours}:4: fields.hesa.trainee.provider_trainee_id: F_ITTKY is not a HESA tag; did you mean "
        "F_ITTKEY? (a tag of your SRS's own is not checked here: `register-batch mappings check --mapping FILE "
        "INPUT` looks for every source in an extract)"
    ]  # `sexid` is F_SEXID, a HESA tag, as a field map reads it
    (tmp_path / "leave.yaml").write_text(LEAVE_TYPO)
    code, out, err = run("mappings", "check", "--mapping", str(tmp_path / "leave.yaml"))
    assert code == 0, out + err
    assert out.splitlines()[1:] == ["No problems found."]


def test_a_hesa_named_csv_column_nothing_reads_beside_a_misspelt_source_is_said_as_a_column(tmp_path):
    """A CSV refuses a column it does not know, but F_ITTKEY is a HESA column it knows: once the map reads the SRS id
    from F_ITTKY, nothing reads it, and each row lost its SRS id without a word."""
    csv_file = generated(tmp_path / "x.csv", 4, 14, "--format", "hesa-csv")
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_ITTKY\n")
    code, out, err = run(
        "validate", str(csv_file), "--mapping", str(ours), "--report-dir", str(tmp_path / "r"), "--as-of", AS_OF
    )
    assert code == 1, out + err
    assert out.splitlines()[1] == (
        f"{csv_file}: 4 records have columns nothing reads that look like misspellings of sources the field map "
        "names (F_ITTKEY for provider_trainee_id): their fields are blank, and they are invalid, until the mapping "
        "file names them as the extract does (mapped_source_misspelt)"
    )
    said = issues(tmp_path / "r", "mapped_source_misspelt")
    assert len(said) == 4 and "which nothing reads: a misspelt column?" in said[0]["message"]


@pytest.mark.parametrize("jobs", [1, 2])
def test_in_one_process_or_two_each_leaver_is_said_once_and_the_summary_counts_them(tmp_path, jobs):
    """A second process maps half the records: their errors, and the summary line's count, are the same."""
    xml = generated(tmp_path / "lv.xml", 400, 15, "--withdrawn", "0.1")
    xml.write_text(xml.read_text(encoding="utf-8").replace("WITHDRAWAL_", "LEAVE_"), encoding="utf-8")
    leavers = xml.read_text(encoding="utf-8").count("<LEAVE_DATE>")
    (tmp_path / "ours.yaml").write_text(LEAVE_TYPO)
    result = validate_files(
        [str(xml)], as_of=date.fromisoformat(AS_OF), report_dir=tmp_path / "r",
        mapping_files=(tmp_path / "ours.yaml",), jobs=jobs,
    )  # fmt: skip
    said = issues(tmp_path / "r", "mapped_source_misspelt")
    assert len({i["record"] for i in said if i["field"] == "withdrawal_date"}) == leavers > 20
    [(name, line)] = [cause for cause in result.report.causes() if "misspellings" in cause[1]]
    assert name == str(xml) and line.startswith(f"{leavers} records have tags nothing reads")


def test_a_degrees_numbered_column_is_read_and_no_misspelling(tmp_path):
    """A HESA-named CSV numbers its degrees' columns (F_DEGEST_1): the degree map reads them, so F_DEGEST_1 is no
    column "nothing reads", and no misspelling of a trainee field's F_DEGEST (the record was refused for it)."""
    csv_file = generated(tmp_path / "x.csv", 4, 14, "--format", "hesa-csv")
    assert "F_DEGEST_1" in csv_file.read_text(encoding="utf-8").splitlines()[0]
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n    trainee:\n      ni_number: F_DEGEST\n")
    code, out, err = run(
        "validate", str(csv_file), "--mapping", str(ours), "--report-dir", str(tmp_path / "r"), "--as-of", AS_OF
    )
    assert not issues(tmp_path / "r", "mapped_source_misspelt"), out
    assert code == 0, out + err


def test_mappings_check_of_an_extract_asks_did_you_mean_the_tag_nothing_reads_beside_a_source_no_record_has(
    tmp_path,
):
    """`mappings check --mapping FILE INPUT` named each LEAVING_* source no record has, and left the lead to find that
    the extract writes LEAVE_*: each line now asks after the tag of the input that nothing reads and is a near miss of
    the source (as validate's mapped_source_misspelt finds it). A source with none keeps the line as it was."""
    xml, _leavers = srs_leavers(tmp_path)
    ours = tmp_path / "ours.yaml"
    ours.write_text(LEAVE_TYPO)
    code, out, err = run("mappings", "check", "--mapping", str(ours), str(xml))
    assert code == 1, out + err
    said = {line.split(": ")[2]: line for line in out.splitlines() if line.startswith("error: ")}
    blank = "so the field is read as blank for every record"
    assert said["fields.hesa.withdrawal.withdrawal_date"] == (
        f"error: {ours}:4: fields.hesa.withdrawal.withdrawal_date: no record of the input has LEAVING_DATE, {blank}; "
        "did you mean LEAVE_DATE? Correct the name, or remove the entry"
    )
    assert said["fields.hesa.withdrawal.safeguarding_concern_reasons"].endswith(
        f"has LEAVING_SAFEGUARDING_CONCERN_REASONS, {blank}; did you mean LEAVE_SAFEGUARDING_CONCERN_REASONS? "
        "Correct the name, or remove the entry"
    )
    assert said["fields.hesa.withdrawal.another_reason"] == (
        f"error: {ours}:8: fields.hesa.withdrawal.another_reason: no record of the input has LEAVING_ANOTHER_REASON, "
        f"{blank}; correct the name, or remove the entry"
    )
