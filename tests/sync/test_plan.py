"""What sync plans per record (sync/plan.py), against the emulator over HTTP: held-back withdrawals, formats that
cannot hold every degree or placement, and invalid records' trainees; and, in memory (tests/sync/held.py), which
trainee a record is and what is decided for it."""

from __future__ import annotations

import csv
import json
from collections import Counter
from datetime import date
from pathlib import Path

import lxml.html
import pytest
from held import AS_OF, listed, planned, record
from hesa_extracts import HESA_DEFERRAL, HESA_WITHDRAWAL, hesa_trainee, write_hesa_csv, write_hesa_xml

from register_batch.export import export_trainees
from register_batch.model import STATE_WORDS
from register_batch.sync.plan import (
    Holdings,
    a_later_create_is_refused,
    cycles_around_far_link,
    duplicate_check_key,
    far_link_beyond_reach,
    one_record_per_trainee,
    plan_record,
)
from register_batch.writers import register_template
from trainee_extracts import trainee, write_extract

WITHDRAWAL = {
    "withdrawal_date": "2027-12-01",
    "withdrawal_reasons": "record_added_in_error",
    "withdrawal_trigger": "provider",
    "withdrawal_future_interest": "no",
}


def next_year(row: dict) -> dict:
    """The trainee starting on 2027-09-01: after the tests' as-of day, so no withdrawal can be sent yet (§2.7)."""
    return {
        **row,
        "itt_start_date": "2027-09-01",
        "trainee_start_date": "2027-09-01",
        "itt_end_date": "2028-07-31",
    }


def test_a_new_trainee_whose_withdrawal_must_wait_is_still_created(register, tmp_path):
    extract = write_extract(tmp_path / "in.csv", [{**next_year(trainee(1)), **WITHDRAWAL}, next_year(trainee(2))])
    result = register.sync(extract)
    first = result.results[0]
    assert (first.plan.action, first.outcome) == ("create", "done") and result.exit_code == 0
    assert [step.kind for step in first.plan.held] == ["withdraw"]
    # A warning, not an error: the record went ahead (results.csv's `warnings` column, not `errors`).
    assert first.row()["errors"] == []
    # Dated after the ITT start, also ahead: it waits for the later of the two, its own date (review214 F4).
    assert "the withdrawal is dated 2027-12-01 (withdrawal_date)" in first.row()["warnings"][0]
    assert "1 sync_held" in result.summary_line()
    assert register.writes() == Counter({"POST /trainees": 2})
    assert {t["state"] for t in register.trainees(2027)} <= {"submitted_for_trn", "trn_received"}  # not withdrawn

    # A withdrawal after an ITT start in the future is dated after today too: validation says so (review211 F1).
    assert [(i["code"], i["severity"]) for i in register.report()["issues"]] == [
        ("withdrawal_date_in_future", "warning"),
        ("sync_held", "warning"),
    ]

    # Created, with nothing else to send: only the withdrawal waits for the ITT start date. Nobody has anything to
    # fix, so it is a warning with exit 0 (not a nightly exit 1 for months), and nothing is sent.
    again = register.sync(extract)
    assert again.actions == Counter(unchanged=2) and again.exit_code == 0
    issues = register.report()["issues"]
    assert [(i["code"], i["severity"]) for i in issues] == [
        ("withdrawal_date_in_future", "warning"),
        ("sync_held", "warning"),
    ]
    assert "held back until then" in issues[1]["message"]
    assert register.writes() == Counter({"POST /trainees": 2})


def test_an_update_is_sent_when_the_withdrawal_beside_it_must_wait(register, tmp_path):
    register.sync(write_extract(tmp_path / "a.csv", [next_year(trainee(1))]))
    changed = {**next_year(trainee(1)), "email": "changed@example.com", **WITHDRAWAL}
    result = register.sync(write_extract(tmp_path / "b.csv", [changed]))
    [only] = result.results
    assert (only.plan.action, only.outcome) == ("update", "done") and result.exit_code == 0
    assert only.plan.changes == [
        {"field": "email", "register": "trainee1@example.com", "source": "changed@example.com"}
    ]
    assert [step.kind for step in only.plan.held] == ["withdraw"]
    assert register.writes() == Counter({"POST /trainees": 1, "PUT /trainees/{trainee_id}": 1})
    [held] = register.trainees(2027)
    assert held["email"] == "changed@example.com" and held["state"] != "withdrawn"


def test_a_register_csv_export_synced_back_deletes_no_degree_or_placement(register, tmp_path):
    """Register's CSV holds one degree and three placement URNs per row (hesa-formats.md §3.1): the degrees and
    placements a row leaves out are not ones to delete. The one degree it has is still compared and updated."""
    register.sync(write_hesa_csv(tmp_path / "srs.csv", [hesa_trainee(1), hesa_trainee(2)]))
    exported = tmp_path / "held.csv"
    with register.client() as client:
        export_trainees(client, to="register-csv", output=exported, academic_cycle=2026)
    before = register.writes()

    again = register.sync(exported)
    assert again.actions == Counter(unchanged=2) and again.exit_code == 0
    assert register.writes() == before
    for held in register.trainees(2026):
        assert (len(held["degrees"]), len(held["placements"])) == (2, 4)

    with exported.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    # the export protects code cells with a leading apostrophe, as Register does (read back without it)
    first = next(row for row in rows if row["hesa_id"].lstrip("'") == hesa_trainee(1)["F_HUSID"])
    first["degree_grade"] = "01"  # the one degree the row has: the highest
    assert register.sync(write_extract(tmp_path / "corrected.csv", rows)).actions == Counter(update=1, unchanged=1)
    assert register.writes() - before == Counter({"PUT /trainees/{trainee_id}/degrees/{degree_id}": 1})

    # A HESA extract holds every degree and placement: one it leaves out is deleted.
    before = register.writes()
    fewer = [hesa_trainee(1, degrees=1, placements=3), hesa_trainee(2)]
    assert register.sync(write_hesa_csv(tmp_path / "fewer.csv", fewer)).actions == Counter(update=1, unchanged=1)
    assert register.writes() - before == Counter(
        {
            "DELETE /trainees/{trainee_id}/degrees/{degree_id}": 1,
            "DELETE /trainees/{trainee_id}/placements/{placement_id}": 1,
        }
    )


def test_an_invalid_records_trainee_is_not_reported_as_missing_from_the_extract(register, tmp_path):
    rows = [trainee(n) for n in range(1, 4)]
    register.sync(write_extract(tmp_path / "a.csv", rows))
    ids = {t["hesa_id"]: t["trainee_id"] for t in register.trainees(2025)}
    rows[1]["sex"] = "7"  # invalid: not sent, but its trainee is in the extract
    result = register.sync(write_extract(tmp_path / "b.csv", rows))
    assert result.actions == Counter(unchanged=2, invalid=1) and result.exit_code == 1
    report = register.report()
    assert (report["sync"]["not_in_extract"], report["not_in_extract"]) == (0, [])
    assert "not in the extract" not in result.summary_line()
    invalid = report["records"][1]
    assert (invalid["action"], invalid["trainee_id"]) == ("invalid", ids[rows[1]["hesa_id"]])
    assert register.writes() == Counter({"POST /trainees": 3})


def test_a_husid_typo_corrected_while_its_owner_arrives_keeps_two_people_apart(register, tmp_path):
    """Night 1: A is keyed in with B's HUSID. Night 2: A's HUSID is corrected and B arrives. The ledger links B's
    HUSID to A's trainee; following it would write B over A (and A over B the next night)."""
    a, b = hesa_trainee(1), hesa_trainee(2)
    b.update(F_FNAMES="Bola", F_BIRTHDTE="2000-01-02")
    register.sync(write_hesa_csv(tmp_path / "n1.csv", [dict(a, F_HUSID=b["F_HUSID"])]))
    [first] = register.trainees(2026)
    second = register.sync(write_hesa_csv(tmp_path / "n2.csv", [a, b]))
    assert sorted(second.actions.elements()) == ["create", "update"] and second.exit_code == 0
    held = {t["provider_trainee_id"]: t for t in register.trainees(2026)}
    assert held[a["F_OWNSTU"]]["trainee_id"] == first["trainee_id"]  # A keeps its trainee (and TRN)
    assert held[a["F_OWNSTU"]]["hesa_id"] == a["F_HUSID"] and held[a["F_OWNSTU"]]["first_names"] == a["F_FNAMES"]
    assert held[b["F_OWNSTU"]]["hesa_id"] == b["F_HUSID"] and held[b["F_OWNSTU"]]["first_names"] == "Bola"
    assert register.sync(write_hesa_csv(tmp_path / "n2.csv", [a, b])).actions == Counter(unchanged=2)


def test_a_new_students_record_with_another_trainees_husid_leaves_that_trainee_as_it_was(register, tmp_path):
    """A changes-only extract brings a new student whose HUSID was copied from a trainee synced before (not in this
    extract): a conflict naming that trainee and what differs, nothing written, exit 1."""
    held, newcomer = hesa_trainee(1), hesa_trainee(2)
    newcomer.update(F_HUSID=held["F_HUSID"], F_SURNAME="Akande", F_BIRTHDTE="2000-01-02")
    register.sync(write_hesa_csv(tmp_path / "monday.csv", [held]))
    [before] = register.trainees(2026)
    writes = register.writes()
    tuesday = register.sync(write_hesa_csv(tmp_path / "tuesday.csv", [newcomer]))
    assert tuesday.actions == Counter(conflict=1) and tuesday.exit_code == 1
    assert register.trainees(2026) == [before] and register.writes() == writes
    [row] = register.report()["records"]
    [reason] = row["errors"]
    assert row["trainee_id"] is None and f"is trainee {before['trainee_id']}'s in Register" in reason
    assert f"provider_trainee_id {newcomer['F_OWNSTU']} in the record, {held['F_OWNSTU']} in Register" in reason
    assert "another date_of_birth and last_name" in reason


def test_two_husids_swapped_and_fixed_are_not_moved_between_people(register, tmp_path):
    """Each trainee keeps its person: the fix is never applied by writing one person over the other."""
    c, d = hesa_trainee(3), hesa_trainee(4)
    d.update(F_FNAMES="Dami", F_BIRTHDTE="2001-05-06")
    register.sync(write_hesa_csv(tmp_path / "n1.csv", [dict(c, F_HUSID=d["F_HUSID"]), dict(d, F_HUSID=c["F_HUSID"])]))
    before = {t["trainee_id"]: (t["first_names"], t["date_of_birth"]) for t in register.trainees(2026)}
    register.sync(write_hesa_csv(tmp_path / "n2.csv", [c, d]))
    after = {t["trainee_id"]: (t["first_names"], t["date_of_birth"]) for t in register.trainees(2026)}
    assert after == before and len(after) == 2  # nobody became someone else
    # told as conflicts about these two trainees, which are then not "in Register but not in the extract"
    report = register.report()
    assert [r["action"] for r in report["records"]] == ["conflict", "conflict"] and report["not_in_extract"] == []


def withdrawn_deferred_and_training(register, tmp_path) -> list[dict]:
    """Three trainees in Register: the first withdrawn, the second deferred, the third in training."""
    rows = [hesa_trainee(n) for n in (1, 2, 3)]
    first = register.sync(
        write_hesa_csv(tmp_path / "first.csv", [{**rows[0], **HESA_WITHDRAWAL}, {**rows[1], **HESA_DEFERRAL}, rows[2]])
    )
    assert first.exit_code == 0
    states = {t["hesa_id"]: t["state"] for t in register.trainees(2026)}
    assert [states[row["F_HUSID"]] for row in rows] == ["withdrawn", "deferred", "trn_received"]
    return rows


BLANK_STATE_COLUMNS = {column: "" for column in {**HESA_WITHDRAWAL, **HESA_DEFERRAL}}


def test_a_deferral_or_withdrawal_sent_beside_a_create_or_an_update_shows_in_the_records_changes(register, tmp_path):
    """A record's action is its first write's (create, update): results.csv said `create` for a trainee created and
    then deferred, and `defer` for one deferred and then withdrawn, and nothing in the row said otherwise. Its
    `changes` name each state change sent, from the state Register had (none for a create)."""
    rows = [hesa_trainee(n) for n in (1, 2, 3)]
    result = register.sync(
        write_hesa_csv(
            tmp_path / "first.csv",
            [{**rows[0], **HESA_DEFERRAL}, rows[1], {**rows[2], **HESA_DEFERRAL, **HESA_WITHDRAWAL}],
        )
    )
    created_deferred, _plain, deferred_withdrawn = result.results
    assert created_deferred.plan.action == "create"
    assert created_deferred.row()["changes"] == [{"field": "state", "register": None, "source": "deferred"}]
    assert deferred_withdrawn.row()["changes"] == [
        {"field": "state", "register": None, "source": "deferred"},
        {"field": "state", "register": "deferred", "source": "withdrawn"},
    ]
    updated = {**rows[1], "F_NQTEMAIL": "changed@example.com", **HESA_DEFERRAL}
    again = register.sync(write_hesa_csv(tmp_path / "second.csv", [{**rows[0], **HESA_DEFERRAL}, updated, rows[2]]))
    [update] = [r for r in again.results if r.plan.action == "update"]
    assert [c["field"] for c in update.plan.changes][-1] == "state", update.plan.changes
    assert update.plan.changes[-1]["source"] == "deferred" and update.plan.changes[-1]["register"] in (
        "submitted_for_trn",
        "trn_received",
    )
    folder = tmp_path / f"reports-{register.runs}"
    with (folder / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        [row] = [r for r in csv.DictReader(fh) if r["action"] == "update"]
    assert '"field": "state"' in row["changes"] and '"source": "deferred"' in row["changes"], row["changes"]


def test_the_summary_line_counts_a_record_updated_or_deferred_and_then_withdrawn_or_deferred_once(register, tmp_path):
    """review133 F2: a record updated and then withdrawn or deferred, or deferred and then withdrawn, was counted
    under each write ("4 records: 2 updated, 2 withdrawn, 2 deferred, 1 unchanged", 7 of 4). It is said with its
    first write, as a withdrawal sent with a create is (review54 F7); report.json's `written` still counts each."""
    rows = [hesa_trainee(n) for n in (1, 2, 3, 4)]
    register.sync(write_hesa_csv(tmp_path / "first.csv", rows))
    later = [
        {**rows[0], "F_FNAMES": "Callum", **HESA_WITHDRAWAL},
        {**rows[1], "F_NQTEMAIL": "changed@example.com", **HESA_DEFERRAL},
        {**rows[2], **HESA_DEFERRAL, **HESA_WITHDRAWAL},
        rows[3],
    ]
    extract = write_hesa_csv(tmp_path / "second.csv", later)
    planned = register.sync(extract, dry_run=True)
    assert planned.summary_line().startswith(
        "4 records: would update 2 (then withdraw 1, defer 1), defer 1 (then withdraw 1), 1 unchanged. "
    ), planned.summary_line()
    done = register.sync(extract)
    assert done.exit_code == 0 and done.actions == Counter(update=2, defer=1, unchanged=1)
    assert done.summary_line().startswith(
        "4 records: 2 updated (1 then withdrawn, 1 then deferred), 1 deferred (1 then withdrawn), 1 unchanged. "
    ), done.summary_line()
    assert register.report()["sync"]["written"] == {"update": 2, "withdraw": 2, "defer": 2}


def test_the_withdraw_card_counts_a_withdrawal_sent_after_a_deferral_as_the_summary_line_does(register, tmp_path):
    """review137 F4: a record deferred and then withdrawn was left out of report.html's Withdraw card ("Withdraw 2"
    beside a summary line and report.json counting 3): `sync.joined` counted only the withdrawals beside a create or
    an update. It counts those beside a deferral too, and the card says "with its deferral"."""
    rows = [hesa_trainee(n) for n in (1, 2, 3, 4)]
    register.sync(write_hesa_csv(tmp_path / "first.csv", rows))
    later = [
        {**rows[0], "F_NQTEMAIL": "moved@example.com", **HESA_WITHDRAWAL},
        {**rows[1], "F_NQTEMAIL": "changed@example.com", **HESA_DEFERRAL},
        {**rows[2], **HESA_DEFERRAL, **HESA_WITHDRAWAL},
        rows[3],
    ]
    extract = write_hesa_csv(tmp_path / "second.csv", later)

    def cards() -> dict[str, str]:
        doc = lxml.html.fromstring((tmp_path / f"reports-{register.runs}" / "report.html").read_bytes())
        found = doc.xpath('//ul[@data-group="actions"]/li[@data-count="withdraw" or @data-count="defer"]')
        return {card.get("data-count"): " | ".join(" ".join(s.text_content().split()) for s in card) for card in found}

    register.sync(extract, dry_run=True)
    assert register.report()["sync"]["joined"] == {
        "defer": {"update": {"planned": 1}},
        "withdraw": {"defer": {"planned": 1}, "update": {"planned": 1}},
    }
    assert cards() == {
        "withdraw": "2 | To withdraw | 1 with its deferral; 1 with its update",
        "defer": "2 | To defer | 1 with its update",
    }
    done = register.sync(extract)
    assert done.summary_line().startswith("4 records: 2 updated (1 then withdrawn, 1 then deferred), 1 deferred (1 ")
    assert register.report()["sync"]["joined"] == {
        "defer": {"update": {"done": 1}},
        "withdraw": {"defer": {"done": 1}, "update": {"done": 1}},
    }
    assert cards() == {
        "withdraw": "2 | Withdraw | 1 with its deferral; 1 with its update",
        "defer": "2 | Defer | 1 done | 1 with its update",
    }


def test_a_withdrawal_or_deferral_in_register_that_the_record_does_not_show_is_reported(register, tmp_path):
    """The API cannot reinstate anyone (register-api.md §2, §6), so nothing is sent; but a record that shows a
    trainee in training whom Register has withdrawn or deferred is a difference someone must look at."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    writes = register.writes()
    in_training = write_hesa_csv(tmp_path / "in-training.csv", [{**row, **BLANK_STATE_COLUMNS} for row in rows])
    for dry_run in (True, False):
        result = register.sync(in_training, dry_run=dry_run)
        assert result.actions == Counter(unchanged=3) and result.exit_code == 0
        found = [(i["hesa_id"], i["code"], i["severity"]) for i in register.report()["issues"]]
        assert found == [
            (rows[0]["F_HUSID"], "sync_state_differs", "warning"),
            (rows[1]["F_HUSID"], "sync_state_differs", "warning"),
        ], dry_run
        withdrawn, deferred = (i["message"] for i in register.report()["issues"])
        assert "is withdrawn in Register, but this record has no withdrawal" in withdrawn
        assert "WITHDRAWAL_*" in withdrawn
        assert "is deferred in Register, but this record has no deferral" in deferred
        assert "the API cannot reinstate a trainee" in deferred and "a dormant F_MODE" in deferred
    assert register.writes() == writes


def test_the_warnings_show_in_the_summary_line_results_csv_and_the_records_table(register, tmp_path):
    """A nightly job reads the summary line and results.csv, not issues.csv: a warning only the sync could give
    (Register withdrew someone the SRS has in training) was in neither, nor in the page's records table."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    in_training = write_hesa_csv(tmp_path / "in-training.csv", [{**row, **BLANK_STATE_COLUMNS} for row in rows])
    result = register.sync(in_training)
    line = result.summary_line()
    assert line.startswith("3 records: 3 unchanged; ") and "warnings (2 sync_state_differs)." in line, line
    folder = tmp_path / f"reports-{register.runs}"
    with (folder / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        warnings = [(row["hesa_id"].lstrip("'"), row["errors"], row["warnings"]) for row in csv.DictReader(fh)]
    assert [(husid, errors) for husid, errors, _ in warnings] == [(row["F_HUSID"], "") for row in rows]
    assert "is withdrawn in Register" in warnings[0][2] and "is deferred in Register" in warnings[1][2]
    assert warnings[2][2] == ""
    page = lxml.html.parse(str(folder / "report.html")).getroot()
    shown = [" ".join(li.text_content().split()) for li in page.xpath('//table[@id="record-table"]//li[@data-warning]')]
    assert [text.split(" trainee ")[0] for text in shown] == ["Warning", "Warning"], shown
    assert "is withdrawn in Register" in shown[0] and "is deferred in Register" in shown[1]
    [status] = page.xpath('//*[@data-status="warnings"]')
    said = [" ".join(p.text_content().split()) for p in status.xpath("./p")]
    assert said[0].startswith("2 records: in training in the extract, withdrawn or deferred in Register."), said
    assert register.report()["sync"]["warnings"] == {"sync_state_differs": 2}


def test_only_a_file_that_can_say_so_is_looked_at(register, tmp_path):
    """HESA's layout has had no leaving since C23053 (its F_MODE still says a deferral) and Register's CSV template
    has neither column: a record of such a file that says nothing of a withdrawal says nothing about it, and a
    warning would come back every night whatever anyone did."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    register.sync(write_hesa_csv(tmp_path / "c23053.csv", rows))
    found = [(i["hesa_id"], i["code"]) for i in register.report()["issues"]]
    assert found == [(rows[1]["F_HUSID"], "sync_state_differs")]  # the deferral only: F_MODE 01 says in training

    # Up to C22053 F_RSNEND said a trainee left: such a record without it says the trainee did not.
    c22053 = {k: v for k, v in rows[0].items() if k not in ("F_ITTSTARTDATE",)}
    c22053.update(F_ITTCOMDATE="2026-09-01", F_COMDATE="2026-09-01")
    register.sync(write_hesa_csv(tmp_path / "c22053.csv", [c22053]))
    issues = register.report()["issues"]
    assert [i["code"] for i in issues if i["code"] == "sync_state_differs"] == ["sync_state_differs"], issues


def test_a_withdrawal_or_deferral_corrected_in_the_record_after_register_has_it_is_reported(register, tmp_path):
    """Register withdraws or defers a trainee once, and the API cannot change the withdrawal or deferral it holds
    (register-api.md §2.7, §2.8, §6): a record whose withdrawal date and reasons, or deferral date, are corrected
    afterwards is not sent again, but it is not "unchanged" either. Register holds another date than the extract,
    which someone must look at."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    writes = register.writes()
    later = {"WITHDRAWAL_DATE": "2026-11-02", "WITHDRAWAL_REASONS": "trainee_workload_issues"}
    corrected = [
        {**rows[0], **HESA_WITHDRAWAL, **later},
        {**rows[1], **HESA_DEFERRAL, "DEFER_DATE": "2026-11-03"},
        {**rows[2], **BLANK_STATE_COLUMNS},
    ]
    result = register.sync(write_hesa_csv(tmp_path / "corrected.csv", corrected))
    assert result.actions == Counter(unchanged=3) and result.exit_code == 0
    issues = register.report()["issues"]
    assert [(i["hesa_id"], i["code"], i["severity"]) for i in issues] == [
        (rows[0]["F_HUSID"], "sync_state_details_differ", "warning"),
        (rows[1]["F_HUSID"], "sync_state_details_differ", "warning"),
    ]
    withdrawn, deferred = (i["message"] for i in issues)
    assert "is withdrawn in Register, but not as this record says" in withdrawn
    assert "withdrawal_date 2026-11-01 in Register, 2026-11-02 in the record" in withdrawn
    assert "withdrawal_reasons did_not_make_progress in Register, trainee_workload_issues in the record" in withdrawn
    assert "trigger" not in withdrawn.split(": the API")[0]  # the same in both: not named
    assert "defer_date 2026-11-01 in Register, 2026-11-03 in the record" in deferred
    assert "(2 sync_state_details_differ)" in result.summary_line()
    assert register.writes() == writes  # nothing the API could take

    # As Register holds them: nothing to say.
    same = [{**rows[0], **HESA_WITHDRAWAL}, {**rows[1], **HESA_DEFERRAL}, {**rows[2], **BLANK_STATE_COLUMNS}]
    again = register.sync(write_hesa_csv(tmp_path / "same.csv", same))
    assert again.actions == Counter(unchanged=3) and register.report()["issues"] == []
    assert register.writes() == writes


def test_a_held_correction_of_a_withdrawn_trainee_still_says_what_else_registers_state_differs_in(register, tmp_path):
    """review67 F1: a withdrawn trainee whose record has other drift was blocked, and its withdrawal's corrected
    details went unsaid until that drift was mended; a trainee withdrawn in Register whose record has no withdrawal
    and other drift was blocked without the note that Register has it withdrawn. Both are said on every run. The
    drift is held since review206 F1 (sync_after_withdrawal, exit 0): each of those notes is its own warning."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    writes = register.writes()
    drifted = {"F_NQTEMAIL": "moved.on@example.com"}
    changed = [
        {**rows[0], **HESA_WITHDRAWAL, "WITHDRAWAL_DATE": "2026-11-02", **drifted},
        {**rows[1], **HESA_DEFERRAL},
        {**rows[2], **BLANK_STATE_COLUMNS},
    ]
    result = register.sync(write_hesa_csv(tmp_path / "changed.csv", changed))
    assert result.actions == Counter(held=1, unchanged=2) and result.exit_code == 0
    codes = [(i["hesa_id"], i["code"]) for i in register.report()["issues"]]
    assert codes == [(rows[0]["F_HUSID"], "sync_after_withdrawal"), (rows[0]["F_HUSID"], "sync_state_details_differ")]
    details = [i["message"] for i in register.report()["issues"] if i["code"] == "sync_state_details_differ"]
    assert "withdrawal_date 2026-11-01 in Register, 2026-11-02 in the record" in details[0]

    unsaid = [{**rows[0], **BLANK_STATE_COLUMNS, **drifted}, changed[1], changed[2]]
    result = register.sync(write_hesa_csv(tmp_path / "unsaid.csv", unsaid))
    assert result.actions == Counter(held=1, unchanged=2) and result.exit_code == 0
    codes = [(i["hesa_id"], i["code"]) for i in register.report()["issues"]]
    assert codes == [(rows[0]["F_HUSID"], "sync_after_withdrawal"), (rows[0]["F_HUSID"], "sync_state_differs")]
    assert register.writes() == writes  # nothing sent for a withdrawn trainee


def state_kept_back(register, tmp_path, rows: list[dict]) -> tuple[list[dict], tuple[str, str, str]]:
    """The three trainees' records as before (the first's withdrawal, the second's deferral) synced again: nothing is
    sent, and the one issue is returned (HUSID, code, message), with the records."""
    writes = register.writes()
    still = [{**rows[0], **HESA_WITHDRAWAL}, {**rows[1], **HESA_DEFERRAL}, {**rows[2], **BLANK_STATE_COLUMNS}]
    result = register.sync(write_hesa_csv(tmp_path / "still.csv", still))
    assert result.actions == Counter(unchanged=3) and result.exit_code == 0
    assert register.writes() == writes
    [(husid, code, message)] = [(i["hesa_id"], i["code"], i["message"]) for i in register.report()["issues"]]
    return still, (husid, code, message)


def reinstated_in_registers_web_service(register, trainee_id: str, day: str) -> None:
    """What Register's web service does to reinstate a deferred trainee (the API cannot, register-api.md §2.12): the
    trainee is back in training with a reinstate_date, and keeps its defer_date (app/forms/reinstatement_form.rb)."""
    store = register.emulator.store
    with store._lock:
        [(meta,)] = store._db.execute("SELECT meta FROM trainees WHERE slug = ?", (trainee_id,)).fetchall()
        meta = json.dumps({**json.loads(meta), "reinstate_date": day})
        store._db.execute("UPDATE trainees SET state = 'trn_received', meta = ? WHERE slug = ?", (meta, trainee_id))


def test_a_deferral_register_made_and_has_since_reinstated_is_not_sent_again(register, tmp_path):
    """A deferred trainee back in training is reinstated in Register's web service while the SRS still has the
    deferral (not cleared yet, or kept as history): the record's deferral is the one Register made and ended, and
    sending it again would defer the trainee back in training a second time. Nothing is sent, and the record says so;
    a deferral with another date is a new one, and is sent."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    deferred = next(t for t in register.trainees(2026) if t["hesa_id"] == rows[1]["F_HUSID"])
    reinstated_in_registers_web_service(register, deferred["trainee_id"], "2026-11-20")
    writes = register.writes()
    still, (husid, code, message) = state_kept_back(register, tmp_path, rows)
    assert (husid, code) == (rows[1]["F_HUSID"], "sync_state_details_differ")
    assert "deferred on 2026-11-01 and reinstated on 2026-11-20 in Register" in message
    assert "not sent again" in message
    assert {t["hesa_id"]: t["state"] for t in register.trainees(2026)}[rows[1]["F_HUSID"]] == "trn_received"

    again = [still[0], {**rows[1], **HESA_DEFERRAL, "DEFER_DATE": "2026-11-25"}, still[2]]
    assert register.sync(write_hesa_csv(tmp_path / "again.csv", again)).actions == Counter(defer=1, unchanged=2)
    assert register.writes() - writes == Counter({"POST /trainees/{trainee_id}/defer": 1})


@pytest.mark.parametrize("corrected", ["2026-10-28", "2026-11-03", "2026-11-20"])
def test_a_deferral_corrected_in_the_srs_is_not_sent_again_once_register_has_reinstated_the_trainee(
    register, tmp_path, corrected
):
    """review92 F1: the SRS corrected the deferral's date after Register got it; once the trainee was reinstated in
    Register's web service, the next sync deferred them again (`defer`, done, exit 0), with a defer_date before their
    reinstate_date, which the API cannot undo. A deferral dated on or before the reinstatement is the one that ended."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    deferred = next(t for t in register.trainees(2026) if t["hesa_id"] == rows[1]["F_HUSID"])
    reinstated_in_registers_web_service(register, deferred["trainee_id"], "2026-11-20")
    writes = register.writes()
    changed = [{**rows[0], **HESA_WITHDRAWAL}, {**rows[1], **HESA_DEFERRAL, "DEFER_DATE": corrected}, rows[2]]
    changed[2] = {**rows[2], **BLANK_STATE_COLUMNS}
    result = register.sync(write_hesa_csv(tmp_path / "corrected.csv", changed))
    assert result.actions == Counter(unchanged=3) and result.exit_code == 0
    assert register.writes() == writes
    [(code, message)] = [(i["code"], i["message"]) for i in register.report()["issues"]]
    assert code == "sync_state_details_differ"
    assert "deferred on 2026-11-01 and reinstated on 2026-11-20 in Register" in message
    assert f"that deferral (dated {corrected} here: not after the reinstatement): it is not sent again" in message
    assert {t["hesa_id"]: t["state"] for t in register.trainees(2026)}[rows[1]["F_HUSID"]] == "trn_received"


def withdrawal_undone_in_registers_web_service(register, trainee_id: str, *, still_shown: bool) -> None:
    """What DfE's support does to undo a withdrawal (the API cannot, register-api.md §2.12, §6): the trainee is back
    in training, and the withdrawal is discarded (§3.6 shows the latest kept one), or, where `still_shown`, kept."""
    store = register.emulator.store
    with store._lock:
        [(row_id,)] = store._db.execute("SELECT id FROM trainees WHERE slug = ?", (trainee_id,)).fetchall()
        if not still_shown:
            store._db.execute("DELETE FROM withdrawals WHERE trainee_id = ?", (row_id,))
        store._db.execute("UPDATE trainees SET state = 'trn_received' WHERE id = ?", (row_id,))


@pytest.mark.parametrize("still_shown", [False, True], ids=["discarded", "still shown"])
def test_a_withdrawal_register_made_and_has_since_undone_is_not_sent_again(register, tmp_path, still_shown):
    """review108 F6: DfE reinstated a trainee this sync withdrew while the SRS still had the withdrawal: the next night
    withdrew them a second time (exit 0, no word), which the API cannot undo. Nothing is sent, and the record says
    so, as for a deferral; a withdrawal dated after it is a new one, and is sent."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    withdrawn = next(t for t in register.trainees(2026) if t["hesa_id"] == rows[0]["F_HUSID"])
    withdrawal_undone_in_registers_web_service(register, withdrawn["trainee_id"], still_shown=still_shown)
    writes = register.writes()
    still, (husid, code, message) = state_kept_back(register, tmp_path, rows)
    assert (husid, code) == (rows[0]["F_HUSID"], "sync_state_details_differ")
    by_us = "" if still_shown else " by this sync"
    assert message.startswith(f"trainee {withdrawn['trainee_id']} was withdrawn on 2026-11-01{by_us} and is back in ")
    assert "it is not sent again (the API cannot undo a withdrawal)" in message
    assert {t["hesa_id"]: t["state"] for t in register.trainees(2026)}[rows[0]["F_HUSID"]] == "trn_received"

    again = [{**rows[0], **HESA_WITHDRAWAL, "WITHDRAWAL_DATE": "2026-11-25"}, *still[1:]]
    assert register.sync(write_hesa_csv(tmp_path / "again.csv", again)).actions == Counter(withdraw=1, unchanged=2)
    assert register.writes() - writes == Counter({"POST /trainees/{trainee_id}/withdraw": 1})


def state_warnings(register) -> list[tuple[str, str]]:
    """(HUSID, message) of the last sync's sync_state_differs warnings."""
    return [(i["hesa_id"], i["message"]) for i in register.report()["issues"] if i["code"] == "sync_state_differs"]


def test_in_hesa_xml_a_student_without_the_withdrawal_tags_can_say_so_when_its_file_has_them(register, tmp_path):
    """In HESA XML an absent element is no value (hesa-formats.md §1.4): an SRS writes WITHDRAWAL_* for the trainees
    it withdraws, not for the others. A file that has the tags can say a withdrawal for each of its Students, as a
    HESA-named CSV with the columns does for each row; one without them cannot."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    blank = {column: "" for column in HESA_WITHDRAWAL}
    for name, write in (("tags.csv", write_hesa_csv), ("tags.xml", write_hesa_xml)):
        register.sync(write(tmp_path / name, [rows[0], rows[1], {**rows[2], **blank}]))
        found = [husid for husid, _message in state_warnings(register)]
        assert found == [rows[0]["F_HUSID"], rows[1]["F_HUSID"]], name
    register.sync(write_hesa_xml(tmp_path / "no-tags.xml", rows))
    assert [husid for husid, _message in state_warnings(register)] == [rows[1]["F_HUSID"]]  # F_MODE says a deferral


def test_a_c23053_record_with_an_f_rsnend_column_can_say_a_leaving(register, tmp_path):
    """F_RSNEND says a leaving in any record that has it (legacy_withdrawal_not_sent), whatever its layout: a blank
    one says the trainee did not leave, and so does a HESA XML Student without the tag when others of its file have
    it (an SRS writes it for the trainees who left)."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    register.sync(write_hesa_csv(tmp_path / "rsnend.csv", [{**row, "F_RSNEND": ""} for row in rows]))
    assert [husid for husid, _message in state_warnings(register)] == [rows[0]["F_HUSID"], rows[1]["F_HUSID"]]
    register.sync(write_hesa_xml(tmp_path / "rsnend.xml", [rows[0], rows[1], {**rows[2], "F_RSNEND": "01"}]))
    assert [husid for husid, _message in state_warnings(register)] == [rows[0]["F_HUSID"], rows[1]["F_HUSID"]]


def test_a_users_own_withdrawal_and_deferral_columns_are_looked_at_and_named(register, tmp_path):
    """A user's mapping file that reads the withdrawal and deferral from other columns: a row with those columns can
    say so, and the warning names the columns that are read, not register-batch's, which are then not read."""
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        "fields:\n  register-csv:\n    withdrawal:\n      withdrawal_date: left_on\n      reasons: why_left\n"
        "      trigger: left_by\n      future_interest: may_return\n    deferral:\n      defer_date: paused_on\n"
    )
    said = {"left_on": "2026-11-01", "why_left": "record_added_in_error", "left_by": "provider", "may_return": "no"}
    columns = [*register_template(), *said, "paused_on"]

    def write(name: str, rows: list[dict]) -> Path:
        with (tmp_path / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=columns)
            writer.writeheader()
            writer.writerows({column: row.get(column, "") for column in columns} for row in rows)
        return tmp_path / name

    rows = [trainee(1), trainee(2)]
    first = register.sync(
        write("said.csv", [{**rows[0], **said}, {**rows[1], "paused_on": "2026-11-01"}]), mapping_files=[ours]
    )
    assert first.exit_code == 0
    assert sorted(t["state"] for t in register.trainees(2025)) == ["deferred", "withdrawn"]  # read from our columns
    register.sync(write("blank.csv", rows), mapping_files=[ours])
    withdrawal, deferral = (message for _husid, message in state_warnings(register))
    assert "left_on" in withdrawal and "why_left" in withdrawal and "withdrawal_*" not in withdrawal, withdrawal
    assert "paused_on" in deferral and "defer_date" not in deferral, deferral


def test_a_record_that_says_so_in_legacy_codes_is_not_reported(register, tmp_path):
    """F_RSNEND's leaving reason and a dormant F_MODE say what Register holds, without the data it needs to be sent
    (reported as legacy_*_not_sent): the record and Register agree."""
    rows = withdrawn_deferred_and_training(register, tmp_path)
    legacy = [{**rows[0], "F_RSNEND": "03", "F_ENDDATE": "2026-11-01"}, {**rows[1], "F_MODE": "63"}, rows[2]]
    result = register.sync(write_hesa_csv(tmp_path / "legacy.csv", [{**r, **BLANK_STATE_COLUMNS} for r in legacy]))
    codes = [i["code"] for i in register.report()["issues"]]
    assert "sync_state_differs" not in codes, codes
    assert {"legacy_withdrawal_not_sent", "legacy_deferral_not_sent"} <= set(codes)
    assert result.exit_code == 0


def test_registers_csv_says_so_only_in_register_batchs_own_columns(register, tmp_path):
    """Register's CSV template has no withdrawal or deferral column: its rows get no warning (an export of Register
    synced back neither). With register-batch's columns, left blank, the warning names them."""
    rows = [trainee(1), trainee(2)]
    withdrawn = {**rows[0], **WITHDRAWAL, "withdrawal_date": "2026-11-01"}
    first = register.sync(write_extract(tmp_path / "said.csv", [withdrawn, {**rows[1], "defer_date": "2026-11-01"}]))
    assert first.exit_code == 0 and first.actions == Counter(create=2)
    assert sorted(t["state"] for t in register.trainees(2025)) == ["deferred", "withdrawn"]

    result = register.sync(write_extract(tmp_path / "template.csv", rows))
    assert result.actions == Counter(unchanged=2) and result.exit_code == 0
    assert not [i for i in register.report()["issues"] if i["code"] == "sync_state_differs"]

    blank = {column: "" for column in (*WITHDRAWAL, "defer_date")}
    result = register.sync(write_extract(tmp_path / "columns.csv", [{**row, **blank} for row in rows]))
    assert result.actions == Counter(unchanged=2) and result.exit_code == 0
    issues = [i for i in register.report()["issues"] if i["code"] == "sync_state_differs"]
    assert [i["provider_trainee_id"] for i in issues] == ["SRS-00001", "SRS-00002"]
    withdrawal, deferral = (i["message"] for i in issues)
    assert "withdrawal_* columns" in withdrawal and "defer_* columns" in deferral


def test_a_new_course_instance_whose_withdrawal_must_wait_gives_both_warnings(register, tmp_path):
    """Created beside last year's instance of the same SRS id, with a withdrawal before its ITT start: the record
    went ahead, so both are warnings (`sync_other_instance`, `sync_held`), in results.csv's `warnings`, issues.csv and
    the summary line; the held withdrawal is not an error of a record that was created."""
    last_year = {
        **trainee(1),
        "hesa_id": "2610000000001",
        "itt_start_date": "2026-09-01",
        "trainee_start_date": "2026-09-01",
        "itt_end_date": "2027-07-31",
    }
    register.sync(write_extract(tmp_path / "a.csv", [last_year]))
    result = register.sync(write_extract(tmp_path / "b.csv", [{**next_year(trainee(1)), **WITHDRAWAL}]))
    [only] = result.results
    assert (only.plan.action, only.outcome) == ("create", "done") and result.exit_code == 0
    row = only.row()
    assert row["errors"] == []
    # And validation's warning of the withdrawal dated after today (review211 F1), by code and field.
    assert len(row["warnings"]) == 3 and "sent by the first sync on or after 2027-12-01" in row["warnings"][1]
    assert row["warnings"][2] == "withdrawal_date_in_future (withdrawal_date)"
    with (tmp_path / f"reports-{register.runs}" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        [written] = list(csv.DictReader(fh))
    assert written["warnings"] == "; ".join(row["warnings"])  # one cell, each warning whole
    codes = [(i["code"], i["severity"]) for i in register.report()["issues"]]
    assert codes == [
        ("withdrawal_date_in_future", "warning"),
        ("sync_other_instance", "warning"),
        ("sync_held", "warning"),
    ]
    assert "(1 sync_held, 1 sync_other_instance)" in result.summary_line()


OTHER_HUSID = "0310261553999"
SOMEONE_ELSE = {"first_names": "Zoe", "last_name": "Akande", "date_of_birth": "1994-02-03", "email": "zoe@example.com"}


def test_a_ledger_link_to_a_trainee_register_no_longer_returns_is_a_conflict_not_a_second_create():
    plan = planned(record(), listed("t2", **SOMEONE_ELSE, hesa_id=OTHER_HUSID, provider_trainee_id="X1"), linked="t1")
    assert (plan.action, plan.trainee_id, plan.steps) == ("conflict", "t1", [])
    assert plan.reason == (
        "the ledger links this record to trainee t1, which Register no longer returns for this token (created with "
        "another provider's token, or removed from Register for good? A trainee deleted in Register's service is "
        "still returned): check it in Register before syncing this record"
    )


def test_the_ledgers_link_is_followed_though_another_trainee_has_the_srs_id():
    """Ledger first (design.md, sync semantics): a second trainee with the SRS id (keyed in by hand) is no reason to
    stop syncing the record to the trainee it was created as."""
    plan = planned(record(), listed("t1"), listed("t2", **SOMEONE_ELSE, hesa_id=OTHER_HUSID), linked="t1")
    assert (plan.action, plan.trainee_id) == ("unchanged", "t1")
    assert planned(record(), listed("t1"), listed("t2", **SOMEONE_ELSE, hesa_id=OTHER_HUSID)).action == "conflict"


@pytest.mark.parametrize(
    ("linked_to", "holder"),
    [
        ({"hesa_id": OTHER_HUSID}, {"provider_trainee_id": "X2"}),  # its HUSID now another trainee's (a corrected typo)
        ({"provider_trainee_id": "X2"}, {"hesa_id": OTHER_HUSID}),  # its SRS id now another trainee's
    ],
)
def test_a_ledger_link_to_a_trainee_with_another_husid_or_srs_id_is_not_followed(linked_to, holder):
    """Following a stale link would write this record over another person: matched afresh, two trainees conflict."""
    plan = planned(record(), listed("t1", **linked_to), listed("t2", **SOMEONE_ELSE, **holder), linked="t1")
    assert (plan.action, plan.related) == ("conflict", ("t1", "t2"))


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [({}, {"hesa_id": None}), ({}, {"provider_trainee_id": None}), ({"provider_trainee_id": None}, {})],
)
def test_a_ledger_link_is_followed_when_the_trainee_or_the_record_leaves_an_id_blank(ours, theirs):
    """Only two ids both given and not equal disagree: a blank one says nothing."""
    assert planned(record(**ours), listed(**theirs), linked="t1").matched_by == "ledger"


ANOTHER_STUDENT = {**SOMEONE_ELSE, "provider_trainee_id": "X2"}  # a new student: their own SRS id, name, birth date


@pytest.mark.parametrize("linked", [None, "t1"])
def test_a_record_with_another_trainees_husid_is_a_conflict_not_an_update_of_that_trainee(linked):
    """A HUSID copied from another student in the SRS: only the HUSID is shared, and the SRS id, date of birth and
    last name all differ. Followed (by the HUSID, or the ledger's link, keyed by it), it wrote this record over them."""
    plan = planned(record(**ANOTHER_STUDENT), listed("t1"), linked=linked)
    assert (plan.action, plan.steps, plan.trainee_id, plan.related) == ("conflict", [], None, ("t1",))
    assert plan.reason == (
        "this record's hesa_id 0310261553101 is trainee t1's in Register, but nothing else says they are one person: "
        "provider_trainee_id X2 in the record, 99157234/2/01 in Register, and another date_of_birth and last_name. "
        "Updating would write this record over that trainee, so nothing was sent: if the hesa_id was copied from "
        "another student, correct it in the SRS; if the record is that trainee, correct their date of birth or last "
        "name in Register first"
    )
    assert "Akande" not in plan.reason and SOMEONE_ELSE["date_of_birth"] not in plan.reason  # the ledger keeps it


def test_a_record_with_another_trainees_srs_id_is_a_conflict_not_an_update_of_that_trainee():
    """The same with the SRS id copied, in the trainee's start year (another HUSID: not another course instance)."""
    plan = planned(record(**SOMEONE_ELSE, hesa_id=OTHER_HUSID), listed("t1"))
    assert (plan.action, plan.related) == ("conflict", ("t1",))
    assert plan.reason.startswith(
        "this record's provider_trainee_id 99157234/2/01 is trainee t1's in Register, but nothing else says they are "
        "one person: hesa_id 0310261553999 in the record, 0310261553101 in Register, and another date_of_birth and "
        "last_name."
    )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [({"provider_trainee_id": None}, {}), ({}, {"provider_trainee_id": None})],
)
def test_a_copied_husid_is_a_conflict_when_either_side_has_no_srs_id(ours, theirs):
    """A blank SRS id is not one that agrees: the HUSID alone is shared, and the person differs."""
    plan = planned(record(**SOMEONE_ELSE, **ours), listed("t1", **theirs))
    assert (plan.action, plan.related) == ("conflict", ("t1",))
    assert "provider_trainee_id" in plan.reason and "(none)" in plan.reason


@pytest.mark.parametrize(
    "changed",
    [
        {"last_name": "Okafor"},  # married
        {"date_of_birth": "1990-03-18"},  # a corrected date of birth
        {"provider_trainee_id": "NEW-0001"},  # re-keyed in an SRS migration
        {"last_name": "Okafor", "provider_trainee_id": "NEW-0001"},  # married, in the night of the migration
        {"date_of_birth": "1990-03-18", "provider_trainee_id": "NEW-0001"},  # corrected then too
        {"last_name": "Okafor", "date_of_birth": "1990-03-18"},  # both ids still agree
        {"hesa_id": OTHER_HUSID, "last_name": "Okafor"},  # a corrected HUSID, found by the SRS id, and married
        {"last_name": "Okafor", "date_of_birth": None},  # a blank date of birth is not another one
    ],
)
@pytest.mark.parametrize("linked", [None, "t1"])
def test_a_persons_own_changes_still_update_their_trainee(changed, linked):
    """Whatever one person's record legitimately changes in a night, something else still agrees with the trainee."""
    plan = planned(record(**changed), listed("t1"), linked=linked)
    assert (plan.action, plan.trainee_id) == ("update", "t1")


def test_a_record_with_another_trainees_husid_is_created_when_that_trainees_own_record_keeps_them():
    """The HUSID corrected in the night its own student arrives: the trainee is the other record's (found by its SRS
    id), and this one, nobody's in Register, is created."""
    a = record(hesa_id=OTHER_HUSID)  # t1's person, its HUSID corrected
    b = record(**ANOTHER_STUDENT)  # the HUSID's own student: t1 was keyed in with it
    assert settled([a, b], listed("t1")) == [("update", "t1"), ("create", None)]
    assert settled([b, a], listed("t1")) == [("create", None), ("update", "t1")]


def test_a_trainee_without_a_husid_with_the_records_srs_id_is_the_records_in_any_start_year():
    """Another course instance needs another HUSID to tell it: a trainee without one (keyed in on Register's
    service) is the record's, whatever its start year."""
    other_year = {"hesa_id": None, "itt_start_date": "2024-09-01", "trainee_start_date": "2024-09-01"}
    plan = planned(record(), listed(**other_year, itt_end_date="2025-07-31"))
    assert (plan.action, plan.trainee_id, plan.matched_by) == ("update", "t1", "provider_trainee_id")


def test_two_trainees_matching_the_ids_are_a_conflict_even_when_the_duplicate_rule_would_pick_one():
    plan = planned(
        record(),
        listed("t1", provider_trainee_id="X1"),  # the record's HUSID and person
        listed("t2", **SOMEONE_ELSE, hesa_id=OTHER_HUSID),  # the record's SRS id, another person
    )
    assert (plan.action, plan.related, plan.steps) == ("conflict", ("t1", "t2"), [])
    # Which identifier found which trainee, and what Register holds for the other: which one the SRS has wrong
    # (review54 F9).
    assert plan.reason == (
        "more than one trainee in Register matches this record's hesa_id/provider_trainee_id: trainee t1 by hesa_id "
        "(its provider_trainee_id in Register: X1); trainee t2 by provider_trainee_id (its hesa_id in Register: "
        f"{OTHER_HUSID})"
    )


BY_THE_RULE = {"hesa_id": None, "provider_trainee_id": "X1"}  # found by neither id: only §4's rule can find it


@pytest.mark.parametrize(
    "theirs",
    [
        {},
        {"last_name": "GEORGE"},  # ILIKE: case ignored
        {"first_names": " DA-VE Michael"},  # the first token, of letters only, case ignored
        {"first_names": "David", "email": " Dave.George@EXAMPLE.com "},  # another first name, the same email
        {"trainee_start_date": None},  # its cycle from its itt_start_date
    ],
)
def test_a_trainee_registers_duplicate_rule_would_match_is_adopted_not_created_twice(theirs):
    """A create would be refused with 409 (§4): the trainee is adopted and updated to the record's ids."""
    plan = planned(record(), listed("t1", **BY_THE_RULE, **{"email": "someone@example.com", **theirs}))
    assert (plan.action, plan.trainee_id) == ("update", "t1")
    assert {change["field"] for change in plan.changes} >= {"hesa_id", "provider_trainee_id"}


@pytest.mark.parametrize(
    "theirs",
    [
        {"date_of_birth": "1990-08-14"},
        {"last_name": "Georgeson"},
        {"training_route": "02"},
        {"first_names": "David"},  # and another email
        {"first_names": "David", "email": None},
        {"trainee_start_date": "2024-09-01"},  # Register's cycle: trainee_start_date first (§4)
        {"itt_start_date": "2024-09-01", "trainee_start_date": "2024-09-01"},
    ],
)
def test_a_trainee_registers_duplicate_rule_would_not_match_is_not_adopted(theirs):
    plan = planned(record(), listed("t1", **BY_THE_RULE, **{"email": "someone@example.com", **theirs}))
    assert (plan.action, plan.trainee_id) == ("create", None)


def test_the_records_own_start_cycle_for_the_duplicate_rule_is_its_itt_start_date():
    """§4: the submitted record's cycle is its itt_start_date's only, whatever its trainee_start_date."""
    assert planned(record(trainee_start_date="2026-10-01"), listed("t1", **BY_THE_RULE)).trainee_id == "t1"
    moved = {"itt_start_date": "2026-09-01", "itt_end_date": "2027-07-31"}
    assert planned(record(**moved, trainee_start_date="2025-09-01"), listed("t1", **BY_THE_RULE)).action == "create"


def test_matched_by_names_what_found_the_trainee_the_surest_first():
    """`RecordPlan.matched_by`, read by library users (SyncResult.results): the ledger, else the HUSID, else the SRS
    id, else Register's duplicate rule."""
    assert planned(record(), listed(), linked="t1").matched_by == "ledger"
    assert planned(record(), listed()).matched_by == "hesa_id"
    assert planned(record(), listed(provider_trainee_id="X1")).matched_by == "hesa_id"
    assert planned(record(), listed(hesa_id=None)).matched_by == "provider_trainee_id"
    assert planned(record(), listed(**BY_THE_RULE)).matched_by == "duplicate_rule"
    assert planned(record(), listed(**BY_THE_RULE, last_name="Other")).matched_by is None  # a create


def test_a_duplicate_rule_match_with_another_husid_is_a_conflict_not_a_create_register_would_refuse():
    plan = planned(record(), listed("t1", hesa_id=OTHER_HUSID, provider_trainee_id="X1"))
    assert (plan.action, plan.related, plan.trainee_id) == ("conflict", ("t1",), None)
    assert "duplicate rule matches trainee(s) t1 with another hesa_id" in plan.reason
    assert planned(record(), listed("t1", **BY_THE_RULE), listed("t2", **BY_THE_RULE)).action == "conflict"


LEAVING = {
    "withdrawal_date": "2026-10-01",
    "withdrawal_reasons": "record_added_in_error",
    "withdrawal_trigger": "provider",
    "withdrawal_future_interest": "no",
}
DEFERRAL = {"defer_date": "2026-10-01"}


@pytest.mark.parametrize(
    ("state", "action", "steps"),
    [
        ("submitted_for_trn", "withdraw", ["withdraw"]),
        ("trn_received", "withdraw", ["withdraw"]),
        ("deferred", "withdraw", ["withdraw"]),
        ("withdrawn", "unchanged", []),  # there already
        ("recommended_for_award", "blocked", []),  # §6: a state withdraw is not allowed from
        ("awarded", "blocked", []),
    ],
)
def test_a_withdrawal_is_sent_only_from_a_state_register_withdraws_from(state, action, steps):
    plan = planned(record(withdrawal=LEAVING), listed(state=state))
    assert (plan.action, [step.kind for step in plan.steps]) == (action, steps)
    assert [step.kind for step in plan.held] == (["withdraw"] if action == "blocked" else [])


@pytest.mark.parametrize(
    ("state", "action", "steps"),
    [
        ("submitted_for_trn", "defer", ["defer"]),
        ("trn_received", "defer", ["defer"]),
        ("deferred", "unchanged", []),  # there already
        ("withdrawn", "unchanged", []),  # past it
        ("recommended_for_award", "blocked", []),  # §2.8: defer only from submitted_for_trn or trn_received
        ("awarded", "blocked", []),
    ],
)
def test_a_deferral_is_sent_only_from_a_state_register_defers_from(state, action, steps):
    plan = planned(record(deferral=DEFERRAL), listed(state=state))
    assert (plan.action, [step.kind for step in plan.steps]) == (action, steps)


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        ("recommended_for_award", "a trainee who is recommended for award cannot be withdrawn through the API"),
        ("awarded", "a trainee who is awarded cannot be withdrawn through the API"),
    ],
)
def test_a_state_change_held_back_says_the_state_in_words(state, reason):
    """The reason read "a recommended_for_award trainee" and "a awarded trainee"."""
    assert planned(record(withdrawal=LEAVING), listed(state=state)).reason == reason


def test_a_deferral_of_a_trainee_register_has_withdrawn_is_not_sent_and_the_warning_says_so():
    """Register is past a deferral once it has withdrawn the trainee (§2.8): the record's deferral is not sent, and
    the warning that Register's withdrawal is not in the record names it, or it would go unmentioned."""
    source = record(deferral=DEFERRAL)
    source.can_say = {"withdrawal": "WITHDRAWAL_*", "deferral": "DEFER_*"}
    plan = planned(source, listed(state="withdrawn"))
    assert (plan.action, plan.steps, plan.held) == ("unchanged", [], [])
    assert plan.state_note.startswith(
        "trainee t1 is withdrawn in Register, but this record has no withdrawal (its deferral is not sent: a "
        "withdrawn trainee cannot be deferred): the API cannot reinstate a trainee."
    )
    source.deferral = None
    assert "deferral" not in planned(source, listed(state="withdrawn")).state_note


def test_a_deferral_register_holds_before_its_withdrawal_is_not_said_to_be_unsent():
    """review65 F4: the trainee was deferred as the record says, then withdrawn in Register: "(its deferral is not
    sent ...)" was said of a deferral Register holds."""
    source = record(deferral=DEFERRAL)
    source.can_say = {"withdrawal": "WITHDRAWAL_*", "deferral": "DEFER_*"}
    plan = planned(source, listed(state="withdrawn", defer_date=DEFERRAL["defer_date"]))
    assert plan.state_note.startswith("trainee t1 is withdrawn in Register, but this record has no withdrawal: ")
    other = planned(source, listed(state="withdrawn", defer_date="2026-09-01"))
    assert "(its deferral is not sent: a withdrawn trainee cannot be deferred)" in other.state_note


@pytest.mark.parametrize(
    ("changes", "said"),
    [
        ({"withdrawal": LEAVING}, "; nor can the record's withdrawal be sent"),
        ({"deferral": DEFERRAL}, "; nor can the record's deferral be sent"),
        ({"withdrawal": LEAVING, "deferral": DEFERRAL}, "; nor can the record's deferral and withdrawal be sent"),
    ],
)
def test_a_blocked_records_own_withdrawal_or_deferral_is_said_to_be_unsent_too(changes, said):
    """review65 F3: blocked by other drift, the record's withdrawal or deferral, which Register would refuse too,
    went unmentioned."""
    plan = planned(record(email="new@example.com", **changes), listed(state="awarded"))
    assert plan.action == "blocked"
    assert (
        plan.reason
        == f"the trainee is awarded in Register, and the API lets no one change a trainee who is awarded{said}"
    )


def test_a_record_blocked_by_its_trainees_state_names_the_state_in_words():
    """review133 F3: a recommended trainee's blocked record said "the trainee is recommended_for_award in Register",
    the API's code, where the rest of the sentence, and every other report, says the state in words."""
    plan = planned(record(email="new@example.com", deferral=DEFERRAL), listed(state="recommended_for_award"))
    assert plan.action == "blocked"
    assert plan.reason == (
        "the trainee is recommended for award in Register, and the API lets no one change a trainee who is "
        "recommended for award; nor can the record's deferral be sent"
    )
    held = planned(record(email="new@example.com"), listed(state="recommended_for_award"))
    assert "but the trainee is recommended for award in Register" in (held.after_award or "")


def test_a_deferral_then_a_withdrawal_are_sent_in_that_order_after_the_update():
    plan = planned(record(withdrawal=LEAVING, deferral=DEFERRAL, email="new@example.com"), listed())
    assert (plan.action, [step.kind for step in plan.steps]) == ("update", ["update", "defer", "withdraw"])
    assert plan.steps[1].body == DEFERRAL and plan.steps[2].body == LEAVING


def test_a_withdrawal_is_sent_on_the_itt_start_date_and_held_back_before_it():
    """§2.7: refused while the ITT start date is in the future; the start date itself is not (a withdrawal dated
    that day: one dated later waits for its own date, review211 F1)."""
    today = planned(record(withdrawal=dict(LEAVING, withdrawal_date="2025-09-01")), listed(), as_of=date(2025, 9, 1))
    assert (today.action, today.held) == ("withdraw", [])
    before = planned(record(withdrawal=LEAVING), listed(), as_of=date(2025, 8, 31))
    assert (before.action, before.steps, [step.kind for step in before.held]) == ("unchanged", [], ["withdraw"])
    assert before.reason.endswith("held back until then")


def test_a_withdrawal_held_back_beside_an_update_leaves_the_update_to_be_sent():
    plan = planned(record(withdrawal=LEAVING, email="new@example.com"), listed(), as_of=date(2025, 8, 31))
    assert (plan.action, [step.kind for step in plan.steps], [s.kind for s in plan.held]) == (
        "update",
        ["update"],
        ["withdraw"],
    )
    assert "the record's other changes are sent" in plan.reason


@pytest.mark.parametrize("state", ["recommended_for_award", "awarded"])
@pytest.mark.parametrize(
    ("changes", "differ"),
    [
        ({"last_name": "Morris-Smith"}, "last_name"),
        ({"itt_end_date": "2027-07-25"}, "itt_end_date"),
        ({"email": "new@example.com", "last_name": "Morris-Smith"}, "last_name, email"),
    ],
)
def test_a_correction_to_a_trainee_recommended_or_awarded_is_held_as_a_warning_and_nothing_is_sent(
    state, changes, differ
):
    """review201 F1: the SRS corrects a name or an end date after the recommendation or the award. Register's API takes
    no change of the trainee (§6), and nothing the data officer does clears it: held, with a warning that says what
    differs and what to do (sync_after_award), not blocked, which failed the nightly job every night."""
    plan = planned(record(**changes), listed(state=state))
    assert (plan.action, plan.steps, plan.held, plan.reason) == ("held", [], [], None)
    assert plan.after_award == (
        f"this record differs from trainee t1 in {differ}, but the trainee is {STATE_WORDS[state]} in Register, and "
        "Register's API takes no change of a trainee who is recommended for award or awarded: nothing is sent. Nothing "
        "to do through the API; if the award depends on it, ask DfE's Register support. It is sent if the trainee "
        "returns to a state the API can change"
    )
    assert planned(record(**changes), listed()).action == "update"  # in a state the API changes, it is sent


@pytest.mark.parametrize("state", ["recommended_for_award", "awarded"])
@pytest.mark.parametrize("changes", [{"withdrawal": LEAVING}, {"deferral": DEFERRAL}])
def test_a_withdrawal_or_deferral_beside_a_correction_of_a_trainee_recommended_or_awarded_stays_blocked(state, changes):
    """A state conflict the data officer must resolve (review201 F1): the SRS withdraws or defers a trainee Register
    has recommended or awarded. It stays blocked (exit 1), with or without other drift."""
    plan = planned(record(email="new@example.com", **changes), listed(state=state))
    assert (plan.action, plan.after_award) == ("blocked", None)


@pytest.mark.parametrize("state", ["withdrawn"])
def test_a_change_to_a_withdrawn_trainee_is_held_and_nothing_is_sent(state):
    """review206 F1: no one can make the API take it, nor would DfE reinstate a trainee who left for it."""
    plan = planned(record(email="new@example.com"), listed(state=state))
    assert (plan.action, plan.steps, plan.trainee_id, plan.after_code) == ("held", [], "t1", "sync_after_withdrawal")
    assert f"the trainee is {STATE_WORDS[state]} in Register" in (plan.after_award or "")
    assert planned(record(), listed(state=state)).action == "unchanged"  # nothing to change: nothing held


@pytest.mark.parametrize(("state", "told"), [("withdrawn", True), ("awarded", True), ("recommended_for_award", False)])
def test_a_finished_trainees_record_starting_over_30_days_apart_is_told_it_may_be_the_next_course(state, told):
    """One HUSID for a student's courses: a withdrawn or awarded trainee's record starting over 30 days from it may be
    the next course, which register-batch cannot tell apart (it is blocked, and says what to do). One recommended
    for award is not finished: its start moved, which a next course would not explain, and it is a correction held
    after the recommendation (sync_after_award, review201 F1). An awarded or withdrawn one 30 days apart or fewer is
    held too (review206 F1)."""
    plan = planned(record(itt_start_date="2025-11-20", email="new@example.com"), listed(state=state))
    assert plan.action == ("blocked" if told else "held")
    assert ("if the record is the student's next course" in (plan.reason or "")) is told, plan.reason
    near = planned(record(itt_start_date="2025-09-20", email="new@example.com"), listed(state=state))
    assert "next course" not in (near.reason or "") + (near.after_award or "")
    assert near.action == "held"


@pytest.mark.parametrize(("start", "told"), [("2025-10-01", False), ("2025-10-02", True)])
def test_a_finished_trainee_30_days_apart_is_the_same_course_and_31_days_apart_may_be_the_next(start, told):
    """hesa-formats.md §1.5: Register's HESA import takes a trainee whose ITT start is more than 30 days from the
    record's for another course (MIN_NUMBER_OF_DAYS_SUGGESTING_COURSE_CHANGE): 30 days is the same course, 31 may be
    the next (review132 F2). The trainee's ITT start is 2025-09-01."""
    plan = planned(record(itt_start_date=start, email="new@example.com"), listed(state="withdrawn"))
    assert plan.action == ("blocked" if told else "held")  # the same course's correction is held (review206 F1)
    assert ("if the record is the student's next course" in (plan.reason or "")) is told, plan.reason


def test_a_record_starting_31_days_after_a_withdrawn_course_updates_its_own_trainee_beside_it():
    """The student withdrew from t1 (ITT start 2025-09-01) and started t2 31 days later, under one HUSID: t1 is
    another course, so the record is t2's alone, not a conflict between two matching trainees (review132 F2)."""
    withdrawn = listed("t1", state="withdrawn")
    own = listed("t2", itt_start_date="2025-10-02", trainee_start_date="2025-10-02")
    plan = planned(record(itt_start_date="2025-10-02", trainee_start_date="2025-10-02"), withdrawn, own)
    assert (plan.action, plan.trainee_id) == ("unchanged", "t2"), plan.reason


def settled(records: list, *held: dict) -> list[tuple[str, str | None]]:
    """(action, trainee_id) of each record once no two records of the extract write to one trainee."""
    holdings = Holdings(held)
    plans = [plan_record(r, None, holdings, invalid=False, as_of=AS_OF) for r in records]
    return [(p.action, p.trainee_id) for p in one_record_per_trainee(plans, records, holdings, as_of=AS_OF)]


def test_two_records_claiming_one_trainee_leave_it_to_the_records_person_and_the_other_is_created():
    """B keyed in with A's HUSID: A keeps its trainee, in either order, and B is a trainee of its own."""
    a, b = record(), record(**SOMEONE_ELSE, provider_trainee_id="X2")
    assert settled([a, b], listed()) == [("unchanged", "t1"), ("create", None)]
    assert settled([b, a], listed()) == [("create", None), ("unchanged", "t1")]


def test_two_records_of_one_person_claiming_one_trainee_leave_it_to_the_one_with_its_srs_id():
    """The same date of birth and last name picks neither: the SRS id outlives a HUSID typo (§4 first, then ids)."""
    by_husid, by_srs_id = record(provider_trainee_id="X2"), record(hesa_id=OTHER_HUSID)
    assert settled([by_husid, by_srs_id], listed()) == [("create", None), ("update", "t1")]


def test_two_records_of_one_person_and_srs_id_claiming_one_trainee_leave_it_to_the_one_with_its_husid():
    assert settled([record(hesa_id=OTHER_HUSID), record()], listed()) == [("create", None), ("unchanged", "t1")]


def test_two_records_that_nothing_tells_apart_claiming_one_trainee_are_both_conflicts():
    assert settled([record(), record()], listed()) == [("conflict", "t1"), ("conflict", "t1")]


def test_blank_srs_ids_are_no_evidence_between_two_records_claiming_one_trainee():
    """The SRS id is optional (register-api.md §3.1): two records without one are not the same SRS id as a trainee
    without one. Register's duplicate rule finds the trainee for both, and nothing tells them apart."""
    twins = [record(provider_trainee_id=None, hesa_id=OTHER_HUSID), record(provider_trainee_id=None)]
    assert settled(twins, listed(hesa_id=None, provider_trainee_id=None)) == [("conflict", "t1"), ("conflict", "t1")]


def test_a_record_moved_off_a_claimed_trainee_takes_an_unclaimed_one_it_matches():
    """B, keyed in with A's HUSID, is B's trainee by Register's duplicate rule (§4): once A keeps t1, B is t2's."""
    a, b = record(), record(**SOMEONE_ELSE, provider_trainee_id="X2")
    b_held = listed("t2", **SOMEONE_ELSE, hesa_id=None, provider_trainee_id="X3")
    assert settled([a, b], listed(), b_held) == [("unchanged", "t1"), ("update", "t2")]


def test_a_record_moved_off_a_claimed_trainee_that_would_conflict_elsewhere_is_told_why_it_was_moved():
    """B, keyed in with A's HUSID, also looks like t2 (another HUSID) to Register's duplicate rule: not sent, and told
    that A is t1's, the cause to fix, rather than the duplicate rule's match."""
    holdings = Holdings([listed(), listed("t2", **SOMEONE_ELSE, hesa_id=OTHER_HUSID, provider_trainee_id="X3")])
    a, b = record(), record(**SOMEONE_ELSE, provider_trainee_id="X2")
    plans = [plan_record(r, None, holdings, invalid=False, as_of=AS_OF) for r in (a, b)]
    kept, moved = one_record_per_trainee(plans, [a, b], holdings, as_of=AS_OF)
    assert (kept.action, moved.action, moved.steps) == ("unchanged", "conflict", [])
    assert moved.reason.startswith("another record of this extract is trainee t1's")


def test_a_record_without_a_husid_is_never_sent_but_its_trainee_is_named():
    """No HUSID, no ledger key: nothing could keep it exactly once (design.md), so it is not sent."""
    plan = planned(record(hesa_id=None), listed(hesa_id=None))
    assert (plan.action, plan.steps, plan.trainee_id) == ("invalid", [], "t1")


@pytest.mark.parametrize(
    "held",
    [
        [],  # a new trainee
        [listed("t1", provider_trainee_id="X1"), listed("t2", **SOMEONE_ELSE, hesa_id=OTHER_HUSID)],  # a conflict
        [listed("t2", **SOMEONE_ELSE, hesa_id="0310261553999", provider_trainee_id="X2")],  # someone else
    ],
)
def test_an_invalid_record_that_is_no_one_in_register_names_no_trainee(held):
    plan = plan_record(record(), None, Holdings(held), invalid=True, as_of=AS_OF)
    assert (plan.action, plan.steps, plan.trainee_id) == ("invalid", [], None)
    # A conflict's trainees are the record's concern, as a valid record's are: not counted as not in the extract.
    assert plan.related == (("t1", "t2") if len(held) == 2 else ())


def test_an_invalid_record_without_an_itt_start_date_is_planned_and_matches_no_one_by_the_duplicate_rule():
    """§4 tests the submitted itt_start_date's cycle: without one, Register's rule could not match it."""
    plan = plan_record(record(itt_start_date=None), None, Holdings([listed(**BY_THE_RULE)]), invalid=True, as_of=AS_OF)
    assert (plan.action, plan.trainee_id) == ("invalid", None)


def test_an_invalid_record_without_an_email_is_still_named_by_the_duplicate_rule():
    plan = plan_record(record(email=None), None, Holdings([listed(**BY_THE_RULE)]), invalid=True, as_of=AS_OF)
    assert (plan.action, plan.trainee_id) == ("invalid", "t1")


@pytest.mark.parametrize(
    "lists", [("degrees_attributes",), ("placements_attributes",), ("degrees_attributes", "placements_attributes")]
)
def test_a_record_without_degrees_or_placements_removes_none_of_registers(lists):
    """A blank never clears a value in Register (compare.py): no degrees in the record is no degree to delete."""
    plan = planned(record(**dict.fromkeys(lists)), listed())
    assert (plan.action, plan.steps, plan.changes) == ("unchanged", [], [])


def test_a_trainee_only_one_record_claims_stays_that_records_whatever_its_details():
    """The ledger links the record to a trainee keyed in without ids, and the trainee's last name changed since:
    one record, one trainee, nothing to choose between."""
    holdings = Holdings([listed(hesa_id=None, provider_trainee_id=None)])
    married = record(last_name="Okafor")
    plan = plan_record(married, "t1", holdings, invalid=False, as_of=AS_OF)
    [kept] = one_record_per_trainee([plan], [married], holdings, as_of=AS_OF)
    assert (kept.action, kept.trainee_id) == ("update", "t1")


def test_an_invalid_record_naming_a_trainee_does_not_take_it_from_the_record_sent_to_it():
    """An invalid record is matched only to name its trainee: it writes nothing, so it claims nothing."""
    holdings = Holdings([listed()])
    sent, invalid = record(email="new@example.com"), record()
    plans = [
        plan_record(sent, None, holdings, invalid=False, as_of=AS_OF),
        plan_record(invalid, None, holdings, invalid=True, as_of=AS_OF),
    ]
    settled_plans = one_record_per_trainee(plans, [sent, invalid], holdings, as_of=AS_OF)
    assert [(p.action, p.trainee_id) for p in settled_plans] == [("update", "t1"), ("invalid", "t1")]


def test_a_trainee_listed_without_degrees_or_placements_gets_the_records_added():
    plan = planned(record(), listed(degrees=None, placements=None))
    assert (plan.action, [step.kind for step in plan.steps]) == ("update", ["add_degree", "add_placement"])


def test_a_run_with_nothing_written_says_what_went_wrong_not_that_there_was_nothing_to_do(register, tmp_path):
    """Its summary line read "1 record: nothing to do; 1 invalid", as if the record did not matter."""
    extract = write_extract(tmp_path / "in.csv", [{**trainee(1), "sex": "7"}])
    result = register.sync(extract)
    assert result.exit_code == 1
    assert result.summary_line().startswith("1 record: 1 invalid. "), result.summary_line()
    again = write_extract(tmp_path / "clean.csv", [trainee(2)])
    register.sync(again)
    assert register.sync(again).summary_line().startswith("1 record: 1 unchanged. ")


def test_a_copied_husids_record_matched_to_someone_else_again_stays_held_back_when_that_trainee_is_kept():
    """The HUSID's own student arrives while a trainee the duplicate rule matches (another HUSID) is also in Register:
    matched again without t1, the record is still a conflict, never sent, and says which record keeps t1."""
    a = record(hesa_id=OTHER_HUSID)  # t1's person, its HUSID corrected
    b = record(**ANOTHER_STUDENT)  # the HUSID's own student
    twin = listed("t2", **SOMEONE_ELSE, hesa_id="0310261553888", provider_trainee_id="X9")
    holdings = Holdings([listed("t1"), twin])
    plans = [plan_record(r, None, holdings, invalid=False, as_of=AS_OF) for r in (a, b)]
    kept, held_back = one_record_per_trainee(plans, [a, b], holdings, as_of=AS_OF)
    assert (kept.action, kept.trainee_id) == ("update", "t1")
    assert (held_back.action, held_back.steps, held_back.trainee_id) == ("conflict", [], None)
    assert held_back.reason.startswith("another record of this extract is trainee t1's")


def test_a_copied_husids_record_keeps_its_own_reason_when_no_record_of_the_extract_is_that_trainees():
    """Without a record of the extract that keeps t1, the record is not matched again: it stays the conflict that
    says the HUSID is t1's and the person is another (what to correct), not one about another record."""
    b = record(**ANOTHER_STUDENT)
    holdings = Holdings([listed("t1")])
    [plan] = one_record_per_trainee(
        [plan_record(b, None, holdings, invalid=False, as_of=AS_OF)], [b], holdings, as_of=AS_OF
    )
    assert (plan.action, plan.related) == ("conflict", ("t1",))
    assert plan.reason.startswith("this record's hesa_id 0310261553101 is trainee t1's in Register")


def test_a_copied_husids_record_updates_its_own_person_keyed_in_by_hand_when_another_record_keeps_that_trainee():
    """Matched again without t1, the record's person is found by the duplicate rule (a trainee keyed in on Register's
    service without a HUSID): that trainee is updated, not a second one created."""
    a = record(hesa_id=OTHER_HUSID)
    b = record(**ANOTHER_STUDENT)
    keyed_in = listed("t2", **SOMEONE_ELSE, hesa_id=None, provider_trainee_id=None)
    assert settled([a, b], listed("t1"), keyed_in) == [("update", "t1"), ("update", "t2")]


def test_a_record_the_duplicate_rule_holds_back_is_not_created_when_another_record_keeps_that_trainee():
    """Only a record held back as another person than a kept trainee is matched again: one held back because
    Register's duplicate rule matches that trainee under another HUSID (the same person, perhaps) stays held back."""
    a = record(hesa_id=OTHER_HUSID)
    same_person = record(hesa_id="0310261553777", provider_trainee_id="X3")
    assert settled([a, same_person], listed("t1")) == [("update", "t1"), ("conflict", None)]


def test_a_copied_husids_record_is_not_matched_again_past_a_trainee_whose_own_record_is_invalid():
    """t1's own record failing validation this night does not keep t1: the copied HUSID's record stays held back."""
    a, b = record(hesa_id=OTHER_HUSID), record(**ANOTHER_STUDENT)
    holdings = Holdings([listed("t1")])
    plans = [plan_record(r, None, holdings, invalid=r is a, as_of=AS_OF) for r in (a, b)]
    invalid, held_back = one_record_per_trainee(plans, [a, b], holdings, as_of=AS_OF)
    assert invalid.action == "invalid" and (held_back.action, held_back.related) == ("conflict", ("t1",))


def test_two_creates_are_refused_whichever_lands_second_when_the_first_name_or_the_email_still_match():
    """§4 matches a held trainee on date of birth, surname, route and start cycle, and then on the first name's token
    OR the email: a record corrected in one of those two still has its create refused beside the earlier one; corrected
    in both, or in the surname, it is not (helper-207 F2)."""
    row = {
        "itt_start_date": "2026-09-01",
        "date_of_birth": "2000-01-02",
        "last_name": "Smith",
        "training_route": "provider_led_postgrad",
        "first_names": "Mary-Jane Ann",
        "email": "mj@example.com",
    }
    sent = duplicate_check_key(row)
    assert sent is not None and "mary" not in sent  # digests, not the values

    def refused(**corrected: str) -> bool:
        return a_later_create_is_refused(sent, duplicate_check_key({**row, **corrected}))

    assert refused() and refused(first_names="MARYJANE") and refused(last_name="SMITH")
    assert refused(first_names="Jane") and refused(email=" MJ2@example.com")
    assert not refused(first_names="Jane", email="jane@example.com")
    assert not refused(last_name="Smyth") and not refused(date_of_birth="2000-01-03")
    assert not refused(training_route="school_direct_tuition_fee") and not refused(itt_start_date="2027-09-01")
    # A key kept by the version that made one digest of both is not trusted to match: its create is waited for.
    assert not a_later_create_is_refused("f" * 64, sent) and not a_later_create_is_refused(None, sent)


@pytest.mark.parametrize(
    ("record_start", "linked_start", "cycles", "beyond"),
    [
        ("2025-09-20", "2025-09-01", set(), False),  # within 30 days: the link is the record's, nothing listed
        # 413 days either side: from July 2024 to the link, and the cycle after (a deferral before the course began)
        ("2025-07-15", "2026-09-01", {2023, 2024, 2025, 2026, 2027}, False),
        ("2025-10-15", "2025-09-01", {2025, 2026}, False),  # 44 days: the record's own cycle, and the one after
        # five years off: two cycles either side, and a nearer course could start further off
        ("2025-10-15", "2020-09-01", {2023, 2024, 2025, 2026, 2027}, True),
        ("2022-09-01", "2026-09-01", {2020, 2021, 2022, 2023, 2024, 2025}, True),  # a year mistyped (review73 F1)
        ("2026-11-01", "2025-09-01", {2025, 2026, 2027}, False),  # never after next year's cycle (as of 2026-11-28)
        ("2026-11-01", "2023-09-01", {2023, 2024, 2025, 2026, 2027}, False),  # back from a three-year deferral
        # back from a two-year deferral of a July start (cycle 2023): five cycles, all listed (review74 R1)
        ("2026-09-01", "2024-07-20", {2023, 2024, 2025, 2026, 2027}, False),
        ("2026-09-01", "2022-09-01", {2024, 2025, 2026, 2027}, True),  # four years: six cycles, not all listed
        # two years and a day, across 1 August: a course strictly nearer starts from 1 August 2023, two cycles back
        ("2025-08-01", "2023-07-31", {2023, 2024, 2025, 2026, 2027}, False),
    ],
)
def test_the_cycles_listed_around_a_far_link_reach_as_far_as_a_nearer_course_could_start(
    record_start, linked_start, cycles, beyond
):
    """review72 H1: a course nearer the record than the trainee its link names starts within that many days of the
    record's start, and none after Register's last (next year's, §2.3); it is listed up to a cycle later, deferred
    before it began (review73 F7). A window of more than five cycles is listed two either side of the record's own,
    and the link is not followed (review73 F1, review74 R1)."""
    data = {"hesa_id": "2512345678901", "itt_start_date": record_start}
    linked = {"itt_start_date": linked_start}
    assert cycles_around_far_link(data, linked, as_of=AS_OF) == cycles
    assert far_link_beyond_reach(data, linked, as_of=AS_OF) is beyond
