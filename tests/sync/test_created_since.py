"""Whether Register created a trainee since a moment (`_created_since`): after a create whose reply was lost, it tells
this run's trainee from one with the HUSID that was there before (the end-to-end runs are in test_sync_emulator.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from register_batch.sync.runner import _created_since

SENT = datetime(2026, 11, 28, 2, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("created_at", "since"),
    [
        ("2026-11-28T02:30:00.000Z", True),  # the moment itself
        ("2026-11-28T02:30:01+00:00", True),
        ("2026-11-28T02:29:59.999Z", False),
        ("2026-11-28T03:30:00+01:00", True),  # the same moment in another offset
        ("2026-11-28T02:45:00+01:00", False),  # 01:45 UTC, though its clock reads later
        ("2026-11-28T02:30:00", True),  # offset-less is UTC (register-api.md §2.3)
        ("2026-11-28T02:29:00", False),
    ],
)
def test_created_at_is_compared_as_a_moment_offset_less_values_in_utc(created_at, since):
    assert _created_since({"created_at": created_at}, SENT) is since


@pytest.mark.parametrize("created_at", [None, "", "yesterday", 20261128])
def test_a_trainee_without_a_readable_created_at_counts_as_created_since(created_at):
    """Of a create whose reply was lost, a trainee with its HUSID listed since is most likely that create's."""
    assert _created_since({"created_at": created_at}, SENT) is True
    assert _created_since({}, SENT - timedelta(days=1)) is True


def test_a_moment_in_another_offset_is_the_same_moment():
    assert _created_since({"created_at": "2026-11-28T02:30:00Z"}, SENT.astimezone(timezone(timedelta(hours=5))))
