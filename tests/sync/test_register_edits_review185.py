"""review185: the warning that a sync puts back a change made in Register's service (sync_overwrites_register_edit),
against the emulator over 127.0.0.1. Named field by field, from what the ledger keeps of each field last synced
(F1): a field the SRS changed since is its later word, one it did not is Register's edit, even in a record the SRS
changed otherwise. Kept through a failed night, dated by the last successful sync (F2). Each guard has a test that
fails without it (F5): the same trainee, the ledger of an older version (no field digests: the whole record's), and
`last_synced`'s latest day of a matched entry."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from typing import Any

import pytest
from hesa_extracts import DEGREE_TAGS, hesa_trainee, write_hesa_csv
from test_register_edits_review180 import _in_register

from emulated import SYNC_TESTS_TOKEN, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from stub_http import fronting
from trainee_extracts import trainee, write_extract

CODE = "sync_overwrites_register_edit"


def _held(register: Any, row: dict[str, Any]) -> dict[str, Any]:
    return next(t for t in register.trainees(2025) if t["hesa_id"] == row["hesa_id"])


def _surname_in_register(register: Any, row: dict[str, Any], surname: str) -> None:
    _in_register(register, "PATCH", f"/trainees/{_held(register, row)['trainee_id']}", {"last_name": surname})


def _edit_warnings(result: Any) -> dict[str, str]:
    """HUSID -> the message of its sync_overwrites_register_edit warning."""
    return {r.plan.hesa_id: message for r in result.results for code, message in r.warnings() if code == CODE}


def _ledger(register: Any, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """A statement on the state dir's ledger between runs (committed)."""
    with closing(sqlite3.connect(register.tmp_path / "state" / "ledger.sqlite3")) as db, db:
        return db.execute(sql, parameters).fetchall()


def test_only_the_fields_the_srs_did_not_change_are_named(register, tmp_path):
    """review180's Lucy Baker and more: Register corrected the surname and the first names; the SRS changed the email
    and the first names too (its later word): only the surname is named, the record's update sending all three."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    trainee_id = _held(register, row)["trainee_id"]
    _in_register(register, "PATCH", f"/trainees/{trainee_id}", {"last_name": "Baker-Reg", "first_names": "Lucie"})
    changed = {**row, "email": "lucy.new@example.com", "first_names": "Lucy-Ann"}
    result = register.sync(write_extract(tmp_path / "night-2.csv", [changed]))
    [plan] = [r.plan for r in result.results]
    assert {c["field"] for c in plan.changes} >= {"last_name", "first_names", "email"}
    message = _edit_warnings(result)[row["hesa_id"]]
    assert "this sync puts the extract's values back (last_name). To keep" in message, message
    assert plan.edited == ("last_name",)
    held = _held(register, row)
    assert (held["last_name"], held["first_names"], held["email"]) == (row["last_name"], "Lucy-Ann", changed["email"])


def test_a_placement_removed_in_register_is_named_and_one_the_srs_added_is_not(register, tmp_path):
    """Per item, as the comparison matches them: placement 2 deleted in Register's service is added back (named);
    the SRS's new third placement is added too (not named)."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    held = _held(register, row)
    placement = next(p for p in held["placements"] if p.get("urn") == row["placement_2_urn"])
    _in_register(register, "DELETE", f"/trainees/{held['trainee_id']}/placements/{placement['placement_id']}")
    result = register.sync(write_extract(tmp_path / "night-2.csv", [{**row, "placement_3_urn": "100206"}]))
    [plan] = [r.plan for r in result.results]
    assert {c["field"] for c in plan.changes} == {"placements[1]", "placements[2]"}
    assert plan.edited == ("placements[1]",)
    assert (
        "back (placements[1]: one removed in Register is added again). To keep"
        in _edit_warnings(result)[row["hesa_id"]]
    )


def test_a_degree_added_in_register_is_named_and_one_the_srs_dropped_is_not(register, tmp_path):
    """A format that holds every degree (HESA-named CSV): trainee 1's SRS dropped its second degree (deleted from
    Register, its word: not named); trainee 2 had a degree added in Register's service (deleted, named), its record
    changed otherwise by the SRS (the email)."""
    rows = [hesa_trainee(1, degrees=2, placements=2), hesa_trainee(2, degrees=1, placements=2)]
    register.sync(write_hesa_csv(tmp_path / "night-1.csv", rows))
    held = {t["hesa_id"]: t for t in register.trainees(2026)}
    with register.client() as client:
        client.add_degree(
            held[rows[1]["F_HUSID"]]["trainee_id"],
            {"uk_degree": "083", "subject": "100300", "grade": "01", "graduation_year": 2015, "institution": "0117"},
        )
    dropped = {**rows[0], **{f"{tag}_2": "" for tag in DEGREE_TAGS}}  # the file keeps room for a second degree
    night_2 = [{**dropped, "F_NQTEMAIL": "one.new@example.com"}, {**rows[1], "F_NQTEMAIL": "two.new@example.com"}]
    result = register.sync(write_hesa_csv(tmp_path / "night-2.csv", night_2))
    assert [r.plan.action for r in result.results] == ["update", "update"]
    deleted = [[c["field"] for c in r.plan.changes if c["field"] == "degrees"] for r in result.results]
    assert deleted == [["degrees"], ["degrees"]]  # each trainee's degree beyond the record's is deleted
    warned = _edit_warnings(result)
    assert list(warned) == [rows[1]["F_HUSID"]], warned
    assert "back (degrees: one added in Register is removed). To keep" in warned[rows[1]["F_HUSID"]]


class _UpdateRefused(RegisterClient):
    """Register answers 500 to the trainee's update, every try, and carries nothing out: the night stops there
    (`faults`: the emulator's, for the update alone)."""

    emulator: Any = None
    faults = "500:1.0"

    def update_trainee(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
        self.emulator.set_faults(self.faults)
        try:
            return super().update_trainee(trainee_id, data)
        finally:
            self.emulator.set_faults(None)


def test_a_failed_night_keeps_what_was_last_synced_and_its_date(register, tmp_path):
    """review185 F2: the night after a failed update (Register's 500), the edit is still named, and dated by the last
    successful sync (here moved back to 2026-11-20), not by the failed night's entry."""
    row = trainee(1)
    night = write_extract(tmp_path / "night.csv", [row])
    register.sync(night)
    # The night's done entry, as if that sync had been on 2026-11-20 (while done, its time is the digests').
    _ledger(register, "UPDATE records SET updated_at = '2026-11-20T23:30:00.000+00:00'")
    _surname_in_register(register, row, "Changed-In-Register")
    client = _UpdateRefused(register.emulator.url, SYNC_TESTS_TOKEN, limiter=RateLimiter(10_000, 1), attempts=1)
    client.emulator = register.emulator
    options = sync_options(register.emulator, tmp_path, SYNC_TESTS_TOKEN, report_dir=tmp_path / "failed", timeout=5.0)
    with client, pytest.raises(Interrupted):
        sync_files([str(night)], options, client=client)
    [(status, updated_at)] = _ledger(register, "SELECT status, updated_at FROM records")
    assert status != "done" and not updated_at.startswith("2026-11-20"), status
    assert _held(register, row)["last_name"] == "Changed-In-Register"  # nothing carried out

    again = register.sync(night)
    message = _edit_warnings(again)[row["hesa_id"]]
    assert message.startswith("Register's trainee was changed since this state dir last synced it (2026-11-20 UTC)")
    assert "back (last_name)" in message
    assert _held(register, row)["last_name"] == row["last_name"]
    [(synced_at,)] = _ledger(register, "SELECT synced_at FROM fields_synced")
    assert not synced_at.startswith("2026-11-20")  # the successful sync's day now


class _UpdateAnswerLost(RegisterClient):
    """Register carries out the trainee's update and its reply is lost on the way back: the night stops there."""

    emulator: Any = None

    def update_trainee(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
        self.emulator.set_faults("lost-response:1.0")
        try:
            return super().update_trainee(trainee_id, data)
        finally:
            self.emulator.set_faults(None)


def test_an_update_whose_answer_was_lost_says_it_may_have_put_the_edit_back(register, tmp_path):
    """review185 F2's lost reply: the update was carried out, and the next night finds Register holding the extract's
    values (unchanged: it cannot tell), so the failed night's report is the one to say so, as "may"."""
    row = trainee(1)
    night = write_extract(tmp_path / "night.csv", [row])
    register.sync(night)
    _surname_in_register(register, row, "Changed-In-Register")
    client = _UpdateAnswerLost(register.emulator.url, SYNC_TESTS_TOKEN, limiter=RateLimiter(10_000, 1), attempts=1)
    client.emulator = register.emulator
    options = sync_options(register.emulator, tmp_path, SYNC_TESTS_TOKEN, report_dir=tmp_path / "lost", timeout=5.0)
    with client, pytest.raises(Interrupted) as stopped:
        sync_files([str(night)], options, client=client)
    [result] = stopped.value.result.results
    assert result.outcome == "failed"
    message = _edit_warnings(stopped.value.result)[row["hesa_id"]]
    assert "this sync sent the extract's values back (last_name) and did not finish: Register may hold them" in message
    assert _held(register, row)["last_name"] == row["last_name"]  # it did
    assert f"1 warning (1 {CODE})" in stopped.value.result.summary_line()
    again = register.sync(night)
    assert [r.plan.action for r in again.results] == ["unchanged"] and _edit_warnings(again) == {}


def test_a_refused_update_says_nothing_of_putting_back(register, tmp_path):
    """A write Register refused (422) carried nothing out: the failed row does not say it may have put the edit
    back; the next night, which sends it again, does."""
    row = trainee(1)
    night = write_extract(tmp_path / "night.csv", [row])
    register.sync(night)
    _surname_in_register(register, row, "Changed-In-Register")
    body = json.dumps({"errors": [{"error": "UnprocessableEntity", "message": "last_name is invalid"}]}).encode()

    def refused_update(seen: Any, _forward: Any) -> Any:
        if seen.method == "PUT" and seen.path.startswith("/api/"):
            return 422, {"Content-Type": "application/json"}, body
        return None

    with fronting(register.emulator.url, refused_update) as front:
        refused = register.sync(night, target=front.url, target_identity=register.emulator.url)
    assert [(r.outcome, r.http_status) for r in refused.results] == [("failed", 422)]
    assert _edit_warnings(refused) == {}
    again = register.sync(night)
    assert "back (last_name)" in _edit_warnings(again)[row["hesa_id"]]


def test_not_said_for_another_trainee_than_the_one_synced_then(register, tmp_path):
    """What the ledger keeps is of the trainee synced then: a record now synced to another (here the kept trainee
    made another's) says nothing of that one's values, even unchanged in the SRS."""
    row = trainee(1)
    night = write_extract(tmp_path / "night.csv", [row])
    register.sync(night)
    _ledger(register, "UPDATE fields_synced SET trainee_id = 'another-trainee'")
    _surname_in_register(register, row, "Changed-In-Register")
    result = register.sync(night)
    assert [r.plan.action for r in result.results] == ["update"]
    assert _edit_warnings(result) == {}


def test_a_ledger_of_an_older_version_gains_the_table_and_falls_back_to_the_whole_record(register, tmp_path):
    """A ledger without `fields_synced` (a version before it): opened, it gains the table; until a run notes a
    record, only a record whose whole payload is as last synced names its fields (the rule before review185); the
    run then keeps its fields, and the next night names field by field."""
    rows = [trainee(1), trainee(2), trainee(3)]
    register.sync(write_extract(tmp_path / "night-1.csv", rows))
    _ledger(register, "DROP TABLE fields_synced")
    # Trainee 3's last write failed (its payload_hash is still the last done one's, but not its date): not said.
    _ledger(register, "UPDATE records SET status = 'failed' WHERE key = ?", (f"hesa:{rows[2]['hesa_id']}",))
    for row in rows:
        _surname_in_register(register, row, f"Reg-{row['last_name']}")
    night_2 = [rows[0], {**rows[1], "email": "srs.changed@example.com"}, rows[2]]
    result = register.sync(write_extract(tmp_path / "night-2.csv", night_2))
    assert [r.plan.action for r in result.results] == ["update"] * 3
    assert list(_edit_warnings(result)) == [rows[0]["hesa_id"]]  # the record the SRS changed: not known field by field
    assert len(_ledger(register, "SELECT key FROM fields_synced")) == 3

    _surname_in_register(register, rows[1], "Reg-Again")
    night_3 = [rows[0], {**night_2[1], "email": "srs.changed.again@example.com"}, rows[2]]
    third = register.sync(write_extract(tmp_path / "night-3.csv", night_3))
    assert list(_edit_warnings(third)) == [rows[1]["hesa_id"]]
    assert "back (last_name)" in _edit_warnings(third)[rows[1]["hesa_id"]]


def test_an_unchanged_rerun_writes_no_digests(register, tmp_path):
    """A record settled unchanged whose digests are of its payload and trainee writes nothing of them (not worked
    out again: an unchanged rerun costs what it did); its entry's time, moved by the settle, is their date."""
    row = trainee(1)
    night = write_extract(tmp_path / "night.csv", [row])
    register.sync(night)
    # A mark in place of the digests, after the id of the key they were made under (the run's: review194 F2).
    kept = (
        "UPDATE fields_synced SET synced_at = '2026-11-20T10:00:00.000+00:00', digests = substr(digests, 1, 9) || 'x'"
    )
    _ledger(register, kept)
    [(marked,)] = _ledger(register, "SELECT digests FROM fields_synced")
    _ledger(register, "UPDATE records SET updated_at = '2026-11-20T10:00:00.000+00:00'")
    result = register.sync(night)
    assert [r.plan.action for r in result.results] == ["unchanged"]
    assert marked.endswith(":x") and _ledger(register, "SELECT digests, synced_at FROM fields_synced") == [
        (marked, "2026-11-20T10:00:00.000+00:00")
    ]
    [(status, updated_at)] = _ledger(register, "SELECT status, updated_at FROM records")
    assert status == "done" and not updated_at.startswith("2026-11-20")


def test_last_synced_is_the_latest_day_of_an_entry_matched_to_the_trainee(register, tmp_path):
    """not_in_extract's `last_synced` (review180 F2): the latest `updated_at` of the entries linking a record to the
    trainee (here one of 2026-11-20 and one older, under an earlier HUSID), not a conflict's or an invalid record's
    (set aside, not matched), however late."""
    rows = [trainee(1), trainee(2)]
    register.sync(write_extract(tmp_path / "night-1.csv", rows))
    gone = _held(register, rows[1])["trainee_id"]
    _ledger(register, "UPDATE records SET updated_at = '2026-11-20T12:00:00.000+00:00' WHERE trainee_id = ?", (gone,))
    for key, status, day in (
        ("hesa:2510000009998", "done", "2026-10-01"),
        ("hesa:2510000009997", "conflict", "2026-11-26"),
        ("hesa:2510000009996", "invalid", "2026-11-27"),
    ):
        _ledger(
            register,
            "INSERT INTO records (key, trainee_id, status, attempts, updated_at) VALUES (?, ?, ?, 0, ?)",
            (key, gone, status, f"{day}T12:00:00.000+00:00"),
        )
    register.sync(write_extract(tmp_path / "night-2.csv", rows[:1]), dry_run=True)
    assert {t["trainee_id"]: t["last_synced"] for t in register.report()["not_in_extract"]} == {gone: "2026-11-20"}


def test_the_date_is_the_last_settle_not_when_the_digests_were_noted(register, tmp_path):
    """Digests noted on 2026-11-20 and the record settled unchanged since (tonight's rerun writes none of them): a
    change made in Register after that rerun is dated by it, the last sync of the trainee."""
    row = trainee(1)
    night = write_extract(tmp_path / "night.csv", [row])
    register.sync(night)
    _ledger(register, "UPDATE fields_synced SET synced_at = '2026-11-20T10:00:00.000+00:00'")
    _ledger(register, "UPDATE records SET updated_at = '2026-11-20T10:00:00.000+00:00'")
    assert [r.plan.action for r in register.sync(night).results] == ["unchanged"]
    [(settled,)] = _ledger(register, "SELECT updated_at FROM records")
    _surname_in_register(register, row, "Changed-In-Register")
    message = _edit_warnings(register.sync(night))[row["hesa_id"]]
    assert f"last synced it ({settled[:10]} UTC)" in message and "2026-11-20" not in message, message
