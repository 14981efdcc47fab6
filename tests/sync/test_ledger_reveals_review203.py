"""review203: what the ledger still gives away, and a write sent under another token's key. Against the emulator
over 127.0.0.1.

F1: the digests of what Register's 409 compares of a create (plan.duplicate_check_key: unkeyed SHA-256 over the start
cycle, date of birth, surname, route and first name) were kept in `creates_matched` for every create ever sent: given
a trainee's name, the date of birth was found by trying every day. They are read only while that create may still
land, and are dropped once it has settled (and from an older version's ledger on its next run).

F2: a write sent under token B while the ledger's field digests are under A's key kept no `sent` digests, so with A
back, the value that write left in Register was named as Register's edit. It keeps every field unknown instead."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from test_register_edits_review185 import _edit_warnings, _held, _ledger, _UpdateRefused

from emulated import SYNC_TESTS_TOKEN, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from register_batch.sync.plan import duplicate_check_key
from trainee_extracts import trainee, write_extract

ROTATED = "sync-tests-provider-token-rotated"


def _every_digest_kept(register: Any) -> set[str]:
    """Every SHA-256 hex digest anywhere in the ledger (each table's every text)."""
    found: set[str] = set()
    tables = [name for (name,) in _ledger(register, "SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        for row in _ledger(register, f"SELECT * FROM {table}"):
            found |= {match for cell in row if isinstance(cell, str) for match in re.findall(r"[0-9a-f]{64}", cell)}
    return found


def _dates_of_birth_tried(held: dict[str, Any]) -> dict[str, str]:
    """The reviewer's brute force, given the trainee's name (and its start and route, of a handful each): each day of
    1930-2010 as the date of birth in what Register's 409 compares, digest -> day."""
    first = date(1930, 1, 1)
    tried: dict[str, str] = {}
    for n in range((date(2010, 12, 31) - first).days + 1):
        day = (first + timedelta(days=n)).isoformat()
        for digest in (duplicate_check_key({**held, "date_of_birth": day}) or "").split():
            tried[digest] = day
    return tried


def test_a_settled_create_leaves_no_digest_that_gives_the_date_of_birth(register, tmp_path):
    """The trainee created (answered): trying every date of birth with the trainee's name finds nothing in the ledger
    (before the fix: creates_matched gave the date of birth)."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    held = _held(register, row)
    tried = _dates_of_birth_tried(held)
    assert duplicate_check_key(held) and set(duplicate_check_key(held).split()) <= set(tried)  # the span holds it
    found = {tried[digest] for digest in _every_digest_kept(register) if digest in tried}
    assert not found, found
    assert _ledger(register, "SELECT compared FROM creates_matched") == [(None,)]
    assert _ledger(register, "SELECT start_cycle FROM creates_sent") == [(2025,)]  # kept, as before


def test_an_older_ledgers_digests_of_settled_creates_are_dropped_on_its_next_run(register, tmp_path):
    """A ledger an older version left, with the digests of creates long settled: the next run (a dry run too) drops
    them, and leaves those of a create that may still land; so too the note of a create left unanswered, a day on."""
    rows = [trainee(1), trainee(2)]
    night = write_extract(tmp_path / "night-1.csv", rows)
    register.sync(night)
    kept = {row["hesa_id"]: duplicate_check_key(_held(register, row)) for row in rows}
    for key, hesa_id in _ledger(register, "SELECT key, hesa_id FROM records"):
        _ledger(register, "UPDATE creates_matched SET compared = ? WHERE key = ?", (kept[hesa_id], key))
    # The second record's create out (in flight, no trainee): its digests are still read by the next run.
    _ledger(
        register,
        "UPDATE records SET status = 'in_flight', operation = 'create', trainee_id = '' WHERE hesa_id = ?",
        (rows[1]["hesa_id"],),
    )
    # And the notes of creates left unanswered: one sent two days ago, past any wait, and one a minute ago.
    for hesa_id, sent_at in ((rows[0]["hesa_id"], _ago(days=2)), (rows[1]["hesa_id"], _ago(minutes=1))):
        _ledger(
            register,
            "INSERT INTO writes_unanswered (kind, key, compared, sent_at) "
            "SELECT 'create', key, ?, ? FROM records WHERE hesa_id = ?",
            (kept[hesa_id], sent_at, hesa_id),
        )
    register.sync(night, dry_run=True)
    assert dict(
        _ledger(register, "SELECT hesa_id, compared FROM records JOIN creates_matched USING (key) ORDER BY hesa_id")
    ) == {rows[0]["hesa_id"]: None, rows[1]["hesa_id"]: kept[rows[1]["hesa_id"]]}
    assert dict(
        _ledger(register, "SELECT hesa_id, compared FROM records JOIN writes_unanswered USING (key) ORDER BY hesa_id")
    ) == {rows[0]["hesa_id"]: None, rows[1]["hesa_id"]: kept[rows[1]["hesa_id"]]}


def _ago(**since: int) -> str:
    """A time in the ledger's form (UTC, milliseconds), `since` before now."""
    return (datetime.now(UTC) - timedelta(**since)).isoformat(timespec="milliseconds")


class _UpdateAnswerLost(_UpdateRefused):
    """Register carries out the trainee's update and its reply is lost on the way back: the night stops there."""

    faults = "lost-response:1.0"


def test_a_write_sent_under_another_tokens_key_is_not_named_with_the_first_token_back(register, tmp_path):
    """F2: synced under token A; rotated to B; the SRS changes the email, and the update carrying it is carried out
    with its reply lost (the ledger's digests still A's); back to A, the SRS takes the email back: sending it back is
    not a Register edit undone, this tool wrote it (before the fix: named as Register's, sync_overwrites_register_edit).
    """
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    register.emulator.rotate_token(SYNC_TESTS_TOKEN, ROTATED)
    client = _UpdateAnswerLost(register.emulator.url, ROTATED, limiter=RateLimiter(10_000, 1), attempts=1)
    client.emulator = register.emulator
    options = sync_options(register.emulator, tmp_path, ROTATED, report_dir=tmp_path / "lost", timeout=5.0)
    changed = write_extract(tmp_path / "lost.csv", [{**row, "email": "trainee1.new@example.com"}])
    with client, pytest.raises(Interrupted):
        sync_files([str(changed)], options, client=client)
    [(sent,)] = _ledger(register, "SELECT sent FROM fields_synced")
    assert sent is not None

    register.emulator.rotate_token(ROTATED, SYNC_TESTS_TOKEN)
    assert _held(register, row)["email"] == "trainee1.new@example.com"  # carried out
    minutes_pass(register.tmp_path / "state", 11)  # past the wait for the unanswered write
    result = register.sync(write_extract(tmp_path / "night-2.csv", [row]))
    assert [c["field"] for c in result.results[0].plan.changes] == ["email"]
    assert result.results[0].outcome == "done"
    assert _edit_warnings(result) == {}, _edit_warnings(result)
