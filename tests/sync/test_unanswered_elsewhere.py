"""What `unanswered_elsewhere` makes of an earlier run's unanswered write whose record the extract no longer has: a
withdrawal or deferral is settled by its trainee's state (the end-to-end runs are in test_sync_report_outcomes.py)."""

from __future__ import annotations

import pytest

from register_batch.sync.ledger import Entry
from register_batch.sync.plan import Holdings
from register_batch.sync.runner import unanswered_elsewhere


def unanswered(operation: str, state: str | None) -> dict:
    entry = Entry(
        key="hesa:2510000000001",
        hesa_id="2510000000001",
        provider_trainee_id="SRS-00001",
        source="in.csv",
        payload_hash=None,
        trainee_id="T1",
        status="unknown",
        operation=operation,
        http_status=None,
        errors=[],
        attempts=1,
        run_id=3,
        updated_at="2026-11-29T02:30:00.000+00:00",
    )
    [row] = unanswered_elsewhere([entry], {}, {2025}, [Holdings([])], {"T1": state})
    return row


@pytest.mark.parametrize(
    ("operation", "state", "settled", "note"),
    [
        ("withdraw", "withdrawn", "done", "Register holds trainee T1 as withdrawn: the withdraw went through"),
        ("defer", "deferred", "done", "Register holds trainee T1 as deferred: the defer went through"),
        (
            "defer",
            "withdrawn",
            "done",
            "Register holds trainee T1 as withdrawn, which a defer would not change: nothing to do",
        ),
        (
            "withdraw",
            "deferred",
            "failed",
            "Register holds trainee T1 as deferred: the withdraw was not carried out (or was undone in Register since)",
        ),
        ("withdraw", None, "failed", "Register no longer holds trainee T1 (404): nothing is left to withdraw"),
    ],
)
def test_a_withdrawal_or_deferral_is_settled_by_the_state_register_holds_its_trainee_in(
    operation, state, settled, note
):
    row = unanswered(operation, state)
    assert (row["settled"], row["note"], row["trainee_id"]) == (settled, note, "T1")


def test_an_update_is_named_until_its_record_is_back_whatever_the_state():
    row = unanswered("update", "in_training")
    assert row["settled"] is None
    assert row["note"] == "the update for trainee T1 may or may not have been carried out: check it in Register"
