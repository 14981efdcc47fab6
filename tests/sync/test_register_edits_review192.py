"""review192: the warning that a sync puts back a change made in Register's service (sync_overwrites_register_edit),
against the emulator over 127.0.0.1. A write that went out unanswered (its reply lost) may have been carried out:
a field it sent is never named as Register's edit, however the SRS changes it back (F1). The digests are compact
(F5). Guards the mutations review192 found surviving (F4): the records of a ledger of an older version gain their
digests on the first run that settles them unchanged; a blank trainee start date stands for the ITT start."""

from __future__ import annotations

from typing import Any

import pytest
from test_register_edits_review185 import (
    _edit_warnings,
    _held,
    _in_register,
    _ledger,
    _surname_in_register,
    _UpdateRefused,
)

from emulated import SYNC_TESTS_TOKEN, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter, Secret
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from register_batch.sync.compare import (
    UNKNOWN_DIGEST,
    FieldKey,
    field_digests,
    pack_digests,
    sent_digests,
    unpack_digests,
)
from trainee_extracts import trainee, write_extract


class _UpdateAnswerLost(_UpdateRefused):
    """Register carries out the trainee's update and its reply is lost on the way back: the night stops there."""

    faults = "lost-response:1.0"


def _answer_lost(register: Any, tmp_path: Any, rows: list[dict[str, Any]]) -> None:
    """A night whose update is carried out by Register, its reply lost: the run stops, the record failed."""
    client = _UpdateAnswerLost(register.emulator.url, SYNC_TESTS_TOKEN, limiter=RateLimiter(10_000, 1), attempts=1)
    client.emulator = register.emulator
    options = sync_options(register.emulator, tmp_path, SYNC_TESTS_TOKEN, report_dir=tmp_path / "lost", timeout=5.0)
    with client, pytest.raises(Interrupted):
        sync_files([str(write_extract(tmp_path / "lost.csv", rows))], options, client=client)


def test_a_value_an_unanswered_write_sent_is_not_named_when_the_srs_takes_it_back(register, tmp_path):
    """review192 F1: the SRS changes the email, the update carrying it is carried out without its reply, and the SRS
    then puts the email back: sending it back is not a Register edit undone (this tool wrote it). A surname changed
    in Register's service meanwhile still is. The next done entry forgets what was sent."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    _answer_lost(register, tmp_path, [{**row, "email": "trainee1.new@example.com"}])
    assert _held(register, row)["email"] == "trainee1.new@example.com"  # carried out
    _surname_in_register(register, row, "Changed-In-Register")
    minutes_pass(register.tmp_path / "state", 11)  # past the wait for the unanswered write

    result = register.sync(write_extract(tmp_path / "night-2.csv", [row]))
    [plan] = [r.plan for r in result.results]
    assert {c["field"] for c in plan.changes} >= {"email", "last_name"} and result.results[0].outcome == "done"
    assert plan.edited == ("last_name",), plan.edited
    assert "back (last_name). To keep" in _edit_warnings(result)[row["hesa_id"]]
    assert _ledger(register, "SELECT sent FROM fields_synced") == [(None,)]


def test_only_the_reverted_field_is_not_named(register, tmp_path):
    """review192 F1, the revert alone: the email the lost-reply write sent, taken back by the SRS, is not named
    (before the fix: "changed in Register's service … (email)")."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    _answer_lost(register, tmp_path, [{**row, "email": "trainee1.new@example.com"}])
    minutes_pass(register.tmp_path / "state", 11)
    result = register.sync(write_extract(tmp_path / "night-2.csv", [row]))
    assert [c["field"] for c in result.results[0].plan.changes] == ["email"]
    assert _edit_warnings(result) == {}
    assert _held(register, row)["email"] == row["email"]


def test_digests_are_compact(register, tmp_path):
    """review192 F5: a record's row in fields_synced is well under 400 bytes (the JSON object of field names was
    ~870)."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    [(size,)] = _ledger(
        register,
        "SELECT length(key) + length(trainee_id) + length(payload_hash) + length(digests) + length(synced_at) "
        "FROM fields_synced",
    )
    assert size < 400, size


def test_an_older_ledgers_unchanged_records_gain_digests_and_are_named_field_by_field(register, tmp_path):
    """review192 F4 (M3): a ledger of a version before `fields_synced`, its records unchanged tonight: the run that
    settles them unchanged notes their digests, so that the next night names field by field (review180's Lucy Baker:
    the surname Register changed, not the email the SRS changed)."""
    row = trainee(1)
    night = write_extract(tmp_path / "night-1.csv", [row])
    register.sync(night)
    _ledger(register, "DROP TABLE fields_synced")
    assert [r.plan.action for r in register.sync(night).results] == ["unchanged"]
    assert len(_ledger(register, "SELECT key FROM fields_synced")) == 1
    _surname_in_register(register, row, "Baker-Reg")
    result = register.sync(write_extract(tmp_path / "night-2.csv", [{**row, "email": "lucy.new@example.com"}]))
    assert result.results[0].plan.edited == ("last_name",)
    assert "back (last_name). To keep" in _edit_warnings(result)[row["hesa_id"]]


def test_a_blank_trainee_start_stands_for_the_itt_start(register, tmp_path):
    """review192 F4 (M1): the record gives no trainee start date (Register takes the ITT start's); the SRS moves the
    ITT start: the trainee start Register then holds is the SRS's change, not named as Register's."""
    row = {**trainee(1), "trainee_start_date": ""}
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    moved = {**row, "itt_start_date": "2025-09-08"}
    result = register.sync(write_extract(tmp_path / "night-2.csv", [moved]))
    assert result.results[0].plan.action == "update"
    assert _edit_warnings(result) == {}


def test_a_disability_changed_in_register_is_named_though_the_srs_reordered_them(register, tmp_path):
    """review192 F4 (M8): the disabilities are a set: the SRS listing the same two in another order has not changed
    them, so Register's change of them is named."""
    row = {**trainee(1), "disability1": "51", "disability2": "53"}
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    _in_register(
        register, "PATCH", f"/trainees/{_held(register, row)['trainee_id']}", {"disability1": "58", "disability2": "53"}
    )
    reordered = {**row, "disability1": "53", "disability2": "51"}
    result = register.sync(write_extract(tmp_path / "night-2.csv", [reordered]))
    assert result.results[0].plan.action == "update"
    assert "disabilities" in (result.results[0].plan.edited or ()), result.results[0].plan.changes


def test_two_unanswered_writes_that_sent_a_field_otherwise_leave_it_unknown():
    """review192 F1: Register may hold either write's value, so a field the two sent differently is named by no
    record (compare.sent_digests), one they sent alike stays; packed and read back as the ledger keeps them."""
    key = FieldKey(Secret(SYNC_TESTS_TOKEN))
    first = field_digests({**trainee(1), "email": "one@example.com"}, key)
    second = field_digests({**trainee(1), "email": "two@example.com"}, key)
    packed = pack_digests(sent_digests(first, second), key)
    merged = unpack_digests(packed, key)
    assert merged is not None
    assert merged["email"] == UNKNOWN_DIGEST and merged["last_name"] == second["last_name"]
    assert merged["placements"] == second["placements"] and merged == {**second, "email": UNKNOWN_DIGEST}
    assert unpack_digests('{"email":"abc"}', key) is None  # this session's JSON: not read (the whole record's rule)
    assert unpack_digests(packed, FieldKey(Secret("another-token"))) is None  # another key's (review194 F2)
    assert unpack_digests(packed.partition(":")[2], key) is None  # review192's, unkeyed


def test_report_html_says_may_for_a_record_left_unfinished(register, tmp_path):
    """review192 F2: a surname changed in Register's service, the update putting it back carried out with its reply
    lost: the row says Register "may hold" the values, and so does report.html's summary box, whose bold words claim
    only what is known (the fields named are those the SRS has not changed)."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    _surname_in_register(register, row, "Changed-In-Register")
    _answer_lost(register, tmp_path, [row])
    html = (tmp_path / "lost" / "report.html").read_text()
    assert "since this state dir&#39;s last sync, in fields the SRS has not changed." in html
    assert "and not in the SRS" not in html
    assert "for a record it did not finish, sent them (Register may hold them now)" in html


def test_a_record_settled_unchanged_forgets_what_was_sent(register, tmp_path):
    """review192 F1: an update that went out and was not carried out (500) leaves what it sent kept; the next night
    finds Register holding the record as the extract says (the SRS took the email back) and settles it done, which
    forgets it, so that a later change of the email in Register's service is named again."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    client = _UpdateRefused(register.emulator.url, SYNC_TESTS_TOKEN, limiter=RateLimiter(10_000, 1), attempts=1)
    client.emulator = register.emulator
    options = sync_options(register.emulator, tmp_path, SYNC_TESTS_TOKEN, report_dir=tmp_path / "500", timeout=5.0)
    with client, pytest.raises(Interrupted):
        sync_files(
            [str(write_extract(tmp_path / "500.csv", [{**row, "email": "new@example.com"}]))], options, client=client
        )
    assert _held(register, row)["email"] == row["email"]  # nothing carried out
    assert _ledger(register, "SELECT sent IS NOT NULL FROM fields_synced") == [(1,)]
    minutes_pass(register.tmp_path / "state", 11)
    night = write_extract(tmp_path / "night-2.csv", [row])
    assert [r.plan.action for r in register.sync(night).results] == ["unchanged"]
    assert _ledger(register, "SELECT sent FROM fields_synced") == [(None,)]
    _in_register(register, "PATCH", f"/trainees/{_held(register, row)['trainee_id']}", {"email": "reg@example.com"})
    assert "back (email). To keep" in _edit_warnings(register.sync(night))[row["hesa_id"]]


def test_a_second_placement_at_the_same_school_added_by_the_srs_is_not_named(register, tmp_path):
    """review192 F4 (M2): the SRS adds a second placement at a school the record had already: the record has it
    twice now and had it once, so Register lacking the second is the SRS's change, not named."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    again = {**row, "placement_3_urn": row["placement_2_urn"]}
    result = register.sync(write_extract(tmp_path / "night-2.csv", [again]))
    assert [c["field"] for c in result.results[0].plan.changes] == ["placements[2]"], result.results[0].plan.changes
    assert _edit_warnings(result) == {}
