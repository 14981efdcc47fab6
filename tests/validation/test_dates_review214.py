"""review214: defer_date_in_future beside a withdrawal dated before the deferral (F2), and the 22:00/23:00 hint by the
UK's offset on the day written (F5)."""

from __future__ import annotations

import copy

import pytest

from valid_trainee import VALID, validated

WITHDRAWAL = {
    "withdrawal_date": "2026-11-01",
    "reasons": ["did_not_make_progress"],
    "trigger": "trainee",
    "future_interest": "no",
}


@pytest.mark.parametrize("left", ["2026-11-01", "2027-01-05"])
def test_a_deferral_dated_after_the_withdrawal_is_said_never_to_be_sent(left):
    record = validated(
        copy.deepcopy(VALID), withdrawal=dict(WITHDRAWAL, withdrawal_date=left), deferral={"defer_date": "2027-01-20"}
    )
    [said] = [i.message for i in record.issues if i.code == "defer_date_after_withdrawal"]
    assert "defer_date_in_future" not in [i.code for i in record.issues]
    assert said == (
        f"defer_date: 2027-01-20 is after today (2026-11-28, UTC), and the record's withdrawal is dated {left}, before "
        "it: sync sends the withdrawal (on or after its date) and never the deferral, as Register cannot defer a "
        "withdrawn trainee"
    )


def test_a_deferral_dated_after_the_withdrawal_is_said_never_to_be_sent_once_both_have_passed():
    """review220 F1: whatever the day, not only while the deferral is ahead."""
    record = validated(copy.deepcopy(VALID), withdrawal=WITHDRAWAL, deferral={"defer_date": "2026-11-10"})
    [said] = [i.message for i in record.issues if i.code == "defer_date_after_withdrawal"]
    assert said == (
        "defer_date: 2026-11-10: the record's withdrawal is dated 2026-11-01, before it: sync sends the withdrawal (on "
        "or after its date) and never the deferral, as Register cannot defer a withdrawn trainee"
    )
    # Dated before the withdrawal, and past: nothing to say.
    before = validated(copy.deepcopy(VALID), withdrawal=WITHDRAWAL, deferral={"defer_date": "2026-10-20"})
    assert {"defer_date_in_future", "defer_date_after_withdrawal"}.isdisjoint(i.code for i in before.issues)


def test_a_deferral_dated_before_the_withdrawal_is_still_sent_on_its_day():
    record = validated(
        copy.deepcopy(VALID),
        withdrawal=dict(WITHDRAWAL, withdrawal_date="2027-01-20"),
        deferral={"defer_date": "2027-01-05"},
    )
    [said] = [i.message for i in record.issues if i.code == "defer_date_in_future"]
    assert said.endswith("sends it by the first sync on or after 2027-01-05")


@pytest.mark.parametrize(
    ("written", "whose"),
    [
        ("1998-01-15 23:00:00", "00:00 in central European time is 23:00 UTC; UK midnight that day is 00:00 UTC"),
        ("1998-07-15 23:00:00", "00:00 in UK summer time is 23:00 UTC"),
        ("1998-07-15 22:00", "00:00 in central European summer time is 22:00 UTC"),
        ("1998-01-15 11:00 PM", "00:00 in central European time is 23:00 UTC; UK midnight that day is 00:00 UTC"),
    ],
)
def test_the_midnight_hint_names_the_zone_whose_midnight_it_is_on_that_day(written, whose):
    record = validated({**copy.deepcopy(VALID), "date_of_birth": written})
    [hint] = [i.message for i in record.issues if i.code == "spreadsheet_date"]
    assert f"may be a local midnight converted to UTC ({whose}), whose date is the next day" in hint, hint
    if written.startswith("1998-01"):
        assert "UK summer time" not in hint
