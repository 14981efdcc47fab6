"""review195 F2: a build before `fields_synced` was kept (a rollback) writes a record in full and leaves that table as
it was; after the upgrade again, the record's field digests are of two syncs ago, not of what the ledger's done entry
says was last written. Compared with them, a value that build wrote from the SRS, and the SRS then changed back, was
named as changed in Register's service ("make the change in the SRS": the stale value back into the SRS). Such
digests are set aside for the whole record's payload digest, which is the entry's own. Against the emulator over
127.0.0.1."""

from __future__ import annotations

from test_register_edits_review185 import _edit_warnings, _ledger

from trainee_extracts import trainee, write_extract


def test_a_record_written_since_by_a_build_that_kept_no_field_digests_is_not_named(register, tmp_path):
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    [kept] = _ledger(register, "SELECT key, trainee_id, payload_hash, digests, synced_at, sent FROM fields_synced")
    # The rolled-back build writes the SRS's new surname: the entry is done with its payload; fields_synced, which that
    # build does not know, keeps night 1's row (set back here as that build leaves it).
    written = register.sync(write_extract(tmp_path / "night-2.csv", [{**row, "last_name": "Zedbuckley"}]))
    assert [(r.plan.action, r.outcome) for r in written.results] == [("update", "done")]
    _ledger(register, "DELETE FROM fields_synced")
    _ledger(register, "INSERT INTO fields_synced VALUES (?, ?, ?, ?, ?, ?)", kept)
    # Upgraded again: the SRS has put the surname back. Nobody changed Register's trainee.
    result = register.sync(write_extract(tmp_path / "night-3.csv", [row]))
    assert [(r.plan.action, r.outcome) for r in result.results] == [("update", "done")]
    assert _edit_warnings(result) == {}
