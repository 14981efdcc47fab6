"""review194 F2: the ledger's field digests (`fields_synced`, for sync_overwrites_register_edit) are keyed with a key
derived from the API token, which the ledger never holds: unkeyed 32-bit digests of each field alone gave every
trainee's date of birth, sex, ethnicity and disabilities to whoever had the ledger, in a third of a second, and let
two providers' ledgers be joined on them. Against the emulator over 127.0.0.1. Digests made under another token's key
(a token rotated) are never compared with this one's: the record falls back to its whole payload's digest until it is
synced again, and is then named field by field."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import sqlite3
from contextlib import closing
from datetime import date, timedelta
from typing import Any

import httpx
from test_register_edits_review185 import _edit_warnings, _ledger
from test_register_edits_review192 import _answer_lost

from emulated import SYNC_TESTS_TOKEN, sync_options
from register_batch.api import RateLimiter, RegisterClient, Secret
from register_batch.sync import sync_files
from register_batch.sync.compare import FIELD_KEY_LABEL, FieldKey
from trainee_extracts import trainee, write_extract

ROTATED = "sync-tests-provider-token-rotated"


def _unkeyed(value: Any) -> str:
    """A field's digest as the ledger kept it before the fix: anyone can work it out for any value."""
    return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:8]


def _digests_kept(state: Any) -> list[str]:
    """Every digest the ledger's fields_synced keeps, and the key ids before them."""
    return [part for (text,) in state for part in re.split(r"[,/:]", text) if part]


def _patch(register: Any, token: str, row: dict[str, Any], body: dict[str, Any]) -> None:
    """Someone's change in Register's service (another client of its API, with the provider's token of the day)."""
    with RegisterClient(register.emulator.url, token, limiter=RateLimiter(10_000, 1)) as client:
        [held] = [t for t in client.iter_trainees(academic_cycle=2025) if t["hesa_id"] == row["hesa_id"]]
    response = httpx.patch(
        f"{register.emulator.api_url}/trainees/{held['trainee_id']}",
        json={"data": body},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text


def test_the_ledger_alone_does_not_reveal_a_date_of_birth(register, tmp_path):
    """The reviewer's brute force: every day of 1930-2010 digested as the ledger kept a date of birth finds none of
    the ledger's digests (before the fix: the trainee's date of birth, and so for every field with few values)."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    kept = set(_digests_kept(_ledger(register, "SELECT digests FROM fields_synced")))
    first = date(1930, 1, 1)
    tried = {_unkeyed((first + timedelta(days=n)).isoformat()) for n in range((date(2010, 12, 31) - first).days + 1)}
    assert _unkeyed(row["date_of_birth"]) in tried  # the span holds the trainee's date of birth
    assert not kept & tried, kept & tried
    assert not kept & {_unkeyed(code) for code in ("10", "11", "12", "96", "99")}  # nor a sex code


def test_two_tokens_ledgers_share_no_digest_of_the_same_trainee(register, tmp_path):
    """The same trainee synced by two providers (two tokens, two state dirs): no digest of one ledger is in the
    other's, so they cannot be joined on them (before the fix: every field's digest was the same in both)."""
    row = trainee(1)
    night = write_extract(tmp_path / "night-1.csv", [row])
    register.sync(night)
    register.emulator.add_token("another-providers-token")
    options = sync_options(
        register.emulator,
        tmp_path,
        "another-providers-token",
        state_dir=tmp_path / "other-state",
        report_dir=tmp_path / "other-reports",
        as_of=register.as_of,
    )
    sync_files([str(night)], options)
    mine = _digests_kept(_ledger(register, "SELECT digests FROM fields_synced"))
    with closing(sqlite3.connect(tmp_path / "other-state" / "ledger.sqlite3")) as db:
        theirs = _digests_kept(db.execute("SELECT digests FROM fields_synced").fetchall())
    assert len(mine) == len(theirs) > 20
    assert not set(mine) & set(theirs), set(mine) & set(theirs)


def test_a_rotated_token_falls_back_to_the_whole_record_and_then_names_field_by_field(register, tmp_path):
    """Synced under token A; a surname changed in Register's service; the provider's token rotated to B: the digests
    kept are A's key's, not compared with B's (each of them would differ, and the surname Register changed would not
    be named), so the record falls back to its whole payload's digest, unchanged: the surname is named. The run
    makes every record's digests again under B's key, the unchanged one's too. Back to A: once synced under A again,
    the next edit is named field by field (the surname, not the email the SRS changed)."""
    row, other = trainee(1), trainee(2)
    night = write_extract(tmp_path / "night-1.csv", [row, other])
    register.sync(night)
    ids_a = {text.split(":")[0] for (text,) in _ledger(register, "SELECT digests FROM fields_synced")}
    _patch(register, SYNC_TESTS_TOKEN, row, {"last_name": "Changed-In-Register"})

    register.emulator.rotate_token(SYNC_TESTS_TOKEN, ROTATED)
    result = register.sync(night, token=ROTATED)
    assert [r.plan.action for r in result.results] == ["update", "unchanged"]
    assert result.results[0].plan.edited == ("last_name",), result.results[0].plan.changes
    assert "back (last_name). To keep" in _edit_warnings(result)[row["hesa_id"]]
    ids_b = {text.split(":")[0] for (text,) in _ledger(register, "SELECT digests FROM fields_synced")}
    # Both records' digests made again under B's key, the unchanged one's too.
    assert ids_a == {FieldKey(Secret(SYNC_TESTS_TOKEN)).id} and ids_b == {FieldKey(Secret(ROTATED)).id} != ids_a

    register.emulator.rotate_token(ROTATED, SYNC_TESTS_TOKEN)
    assert [r.plan.action for r in register.sync(night).results] == ["unchanged", "unchanged"]
    assert {text.split(":")[0] for (text,) in _ledger(register, "SELECT digests FROM fields_synced")} == ids_a
    _patch(register, SYNC_TESTS_TOKEN, row, {"last_name": "Changed-Again"})
    changed = {**row, "email": "trainee1.new@example.com"}
    result = register.sync(write_extract(tmp_path / "night-3.csv", [changed, other]))
    assert {c["field"] for c in result.results[0].plan.changes} >= {"last_name", "email"}
    assert result.results[0].plan.edited == ("last_name",)
    ledger_bytes = (tmp_path / "state" / "ledger.sqlite3").read_bytes()
    assert SYNC_TESTS_TOKEN.encode() not in ledger_bytes and ROTATED.encode() not in ledger_bytes


def test_the_key_is_not_shown_by_its_repr():
    """The object holding the key derived from the token shows its id only: a repr of the key's bytes would be a
    derived secret in a log or an error reporter's frame locals."""
    key = FieldKey(Secret(SYNC_TESTS_TOKEN))
    derived = hmac.new(SYNC_TESTS_TOKEN.encode(), FIELD_KEY_LABEL, hashlib.sha256).digest()
    for shown in (repr(key), str(key), f"{key}", repr([key])):
        assert repr(derived)[2:12] not in shown and derived.hex()[:8] not in shown and SYNC_TESTS_TOKEN not in shown
        assert key.id in shown
    assert not hasattr(key, "__dict__")  # nothing but the key and its id, which vars() cannot list


def test_what_an_unanswered_write_sent_is_kept_under_the_key_too(register, tmp_path):
    """The `sent` digests (an update carried out, its reply lost) are keyed the same way, with the key's id: the new
    email's unkeyed digest is not among them (before the fix it was)."""
    row = trainee(1)
    register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    new_email = "trainee1.new@example.com"
    _answer_lost(register, tmp_path, [{**row, "email": new_email}])
    [(sent,)] = _ledger(register, "SELECT sent FROM fields_synced")
    assert _unkeyed(new_email) not in sent and _unkeyed(row["last_name"]) not in sent, sent
    assert sent.startswith(FieldKey(Secret(SYNC_TESTS_TOKEN)).id + ":"), sent
