"""What `unanswered_elsewhere` makes of an earlier run's unanswered write whose record the extract no longer has: a
withdrawal or deferral is settled by its trainee's state (the end-to-end runs are in test_sync_report_outcomes.py)."""

from __future__ import annotations

import pytest

from register_batch.sync.ledger import Entry
from register_batch.sync.plan import Holdings
from register_batch.sync.runner import unanswered_elsewhere


def entry(operation: str, trainee_id: str | None = None) -> Entry:
    """The ledger's entry of an earlier run's write that got no answer (`unknown`)."""
    return Entry(
        key="hesa:2510000000001",
        hesa_id="2510000000001",
        provider_trainee_id="SRS-00001",
        source="in.csv",
        payload_hash=None,
        trainee_id=trainee_id,
        status="unknown",
        operation=operation,
        http_status=None,
        errors=[],
        attempts=1,
        run_id=3,
        updated_at="2026-11-29T02:30:00.000+00:00",
    )


def unanswered(operation: str, state: str | None) -> dict:
    [row] = unanswered_elsewhere([entry(operation, "T1")], {}, {2025}, [Holdings([])], {"T1": state})
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


def listed(*trainee_ids: str) -> Holdings:
    return Holdings([{"trainee_id": trainee_id, "hesa_id": "2510000000001"} for trainee_id in trainee_ids])


def test_a_create_whose_husid_register_holds_twice_is_named_for_a_person_to_tell_and_not_settled():
    [row] = unanswered_elsewhere([entry("create")], {"hesa:2510000000001": 2025}, {2025}, [listed("B", "A")])
    assert (row["settled"], row["trainee_id"]) == (None, None)
    assert row["note"] == "Register holds trainees A, B with this HUSID: check which one is this person"


def test_a_create_found_in_one_listing_of_several_is_settled_once_whichever_listing_has_it():
    [row] = unanswered_elsewhere([entry("create")], {"hesa:2510000000001": 2027}, {2025, 2027}, [listed(), listed("A")])
    assert (row["settled"], row["trainee_id"]) == ("done", "A")


def test_a_create_not_listed_where_it_was_sent_is_not_carried_out_and_one_sent_to_a_cycle_not_listed_is_not_settled():
    sent = {"hesa:2510000000001": 2027}
    [row] = unanswered_elsewhere([entry("create")], sent, {2025, 2027}, [listed()])
    assert row["settled"] == "failed"
    assert "in academic cycle 2027, which the create was sent for: it was not carried out" in row["note"]
    [row] = unanswered_elsewhere([entry("create")], sent, {2025}, [listed()])
    assert row["settled"] is None
    assert row["note"].startswith("no trainee with this HUSID in the academic cycles this run listed")
