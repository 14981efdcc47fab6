"""A HESA XML Student without its initiative tag says "none" only where the ledger says the SRS gave one when last
synced AND the file has the tag on at least one Student (review205). A mapping file naming a tag no Student has (F1),
or an XML export without initiative tags after a CSV night (F2), cleared every initiative the SRS gave, silently:
now Register's is kept and each record is warned (initiative_kept_untagged), in the dry run as in the run, night
after night. An initiative an unanswered write sent counts as given (F4). Against the emulator over 127.0.0.1."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from hesa_extracts import hesa_trainee, write_hesa_csv, write_hesa_xml
from test_register_edits_review185 import _UpdateAnswerLost

from emulated import SYNC_TESTS_TOKEN, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from report_schema import allowed_report

PUT = "PUT /trainees/{trainee_id}"
NOW_TEACH, PRIMARY_MATHS = "026", "011"  # both in 2026 to 2027
KEPT = "initiative_kept_untagged"


def _student(n: int, **tags: str) -> dict[str, Any]:
    """A Student of an SRS that leaves an empty initiative tag out: only the tags given."""
    return hesa_trainee(n, degrees=1, placements=1) | tags


def _untagged(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("F_INITIATIVES")}


def _initiatives(register: Any) -> dict[str, tuple[Any, Any]]:
    return {
        t["hesa_id"]: (t.get("training_initiative") or None, t.get("additional_training_initiative") or None)
        for t in register.trainees(2026)
    }


def _kept(result: Any) -> dict[str, list[str]]:
    """HUSID -> its initiative_kept_untagged warnings."""
    found: dict[str, list[str]] = {}
    for r in result.results:
        for code, message in r.warnings():
            if code == KEPT:
                found.setdefault(r.plan.hesa_id, []).append(message)
    return found


def _initiative_changes(result: Any) -> list[Any]:
    return [c for r in result.results for c in r.plan.changes if "initiative" in str(c["field"])]


def test_a_mapping_file_naming_a_tag_no_student_has_keeps_the_srss_initiatives_and_says_so(register, tmp_path):
    """F1: the SRS writes F_INITIATIVES1; a mapping file reads training_initiative from X_FUNDINIT, which no Student
    has (a typo, a renamed tag). Every initiative the SRS gave was cleared. Now each is kept, with a warning naming
    the tag, in the dry run and the run, and the warning comes back the next night."""
    given = _student(1, F_INITIATIVES1=NOW_TEACH)
    other = _student(2, F_INITIATIVES1=PRIMARY_MATHS)
    night = write_hesa_xml(tmp_path / "night.xml", [given, other])
    assert register.sync(night).actions == Counter(create=2)
    writes = register.writes()
    mapping = tmp_path / "map.yaml"
    mapping.write_text("fields:\n  hesa:\n    trainee:\n      training_initiative: X_FUNDINIT\n")

    for dry_run in (True, False, False):
        result = register.sync(night, mapping_files=[mapping], dry_run=dry_run)
        assert result.actions == Counter(unchanged=2), result.summary_line()
        assert _initiative_changes(result) == []
        kept = _kept(result)
        assert sorted(kept) == sorted([given["F_HUSID"], other["F_HUSID"]]), result.summary_line()
        assert kept[given["F_HUSID"]] == [
            "the ledger says the SRS gave a training_initiative when this state dir last synced the record; this file "
            f"carries no X_FUNDINIT for any Student, so Register's {NOW_TEACH} is kept. If the SRS removed it, give "
            "the tag as NULL"
        ]
        assert f"2 {KEPT}" in result.summary_line(), result.summary_line()
    assert register.writes() == writes
    held = _initiatives(register)
    assert (held[given["F_HUSID"]], held[other["F_HUSID"]]) == ((NOW_TEACH, None), (PRIMARY_MATHS, None))


def test_an_xml_export_without_initiative_tags_after_a_csv_night_keeps_them_and_says_so(register, tmp_path):
    """F2: a HESA CSV night gives 011 and 026; the next nights the same trainees come as HESA XML from an export that
    writes no initiative tag at all. Both were cleared silently (and put back on the next CSV night). Now both are
    kept and warned, each XML night (the ledger keeps the SRS's last word), with no flip-flop; once the export writes
    the tag, NULL (the SRS removed it) clears it."""
    one = _student(1, F_INITIATIVES1=PRIMARY_MATHS)
    two = _student(2, F_INITIATIVES1=NOW_TEACH)
    assert register.sync(write_hesa_csv(tmp_path / "night-1.csv", [one, two])).actions == Counter(create=2)
    writes = register.writes()

    xml = write_hesa_xml(tmp_path / "night-2.xml", [_untagged(one), _untagged(two)])
    for dry_run in (True, False, False):
        result = register.sync(xml, dry_run=dry_run)
        assert result.actions == Counter(unchanged=2), result.summary_line()
        assert _initiative_changes(result) == []
        assert sorted(_kept(result)) == sorted([one["F_HUSID"], two["F_HUSID"]]), result.summary_line()
        assert "F_INITIATIVES1 for any Student, so Register's 011 is kept" in _kept(result)[one["F_HUSID"]][0]
        html = (tmp_path / f"reports-{register.runs}" / "report.html").read_text()
        assert "<strong>2 records: a training initiative the SRS gave last time kept in Register" in html
        # report.json's sync.warnings counts it by its code, which the schema allows (it allowed sync_* only).
        report = allowed_report(tmp_path / f"reports-{register.runs}")
        assert report["sync"]["warnings"]["initiative_kept_untagged"] == 2
    assert register.writes() == writes
    held = _initiatives(register)
    assert (held[one["F_HUSID"]][0], held[two["F_HUSID"]][0]) == (PRIMARY_MATHS, NOW_TEACH)

    # The export now writes the tag: NULL where the SRS removed the initiative, the code where it did not.
    removed = write_hesa_xml(tmp_path / "night-3.xml", [_untagged(one) | {"F_INITIATIVES1": "NULL"}, two])
    result = register.sync(removed)
    assert result.actions == Counter(update=1, unchanged=1), result.summary_line()
    assert _kept(result) == {}
    held = _initiatives(register)
    assert (held[one["F_HUSID"]][0], held[two["F_HUSID"]][0]) == (None, NOW_TEACH)


def test_an_initiative_an_unanswered_write_sent_counts_as_given(register, tmp_path):
    """F4: the SRS adds 026; the update carrying it lands but its reply is lost, so the ledger's digests still say
    "none" and only `fields_synced.sent` has the 026. The SRS then removes it, leaving the tag out (another Student
    has the tag): the 026 this tool wrote was kept for good. Now what was sent counts as given: it is cleared."""
    other = _student(2, F_INITIATIVES1=PRIMARY_MATHS)
    bare = _student(1)
    assert register.sync(write_hesa_xml(tmp_path / "night-1.xml", [bare, other])).actions == Counter(create=2)

    added = write_hesa_xml(tmp_path / "night-2.xml", [bare | {"F_INITIATIVES1": NOW_TEACH}, other])
    client = _UpdateAnswerLost(register.emulator.url, SYNC_TESTS_TOKEN, limiter=RateLimiter(10_000, 1), attempts=1)
    client.emulator = register.emulator
    options = sync_options(register.emulator, tmp_path, SYNC_TESTS_TOKEN, report_dir=tmp_path / "lost", timeout=5.0)
    with client, pytest.raises(Interrupted):
        sync_files([str(added)], options, client=client)
    assert _initiatives(register)[bare["F_HUSID"]] == (NOW_TEACH, None)  # carried out
    minutes_pass(tmp_path, 30)  # past the wait for an unanswered write

    removed = write_hesa_xml(tmp_path / "night-3.xml", [bare, other])
    for dry_run in (True, False):
        result = register.sync(removed, dry_run=dry_run)
        assert [(r.plan.hesa_id, r.plan.action) for r in result.results] == [
            (bare["F_HUSID"], "update"),
            (other["F_HUSID"], "unchanged"),
        ], result.summary_line()
        assert _initiative_changes(result) == [{"field": "training_initiative", "register": NOW_TEACH, "source": None}]
    assert _initiatives(register)[bare["F_HUSID"]] == (None, None)
