"""Time passing for a sync's ledger: its writes' times moved back, as if that long had passed since they were made
(runner.UNANSWERED_CREATE_WAIT: a create that went unanswered is waited for before it is sent again)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path


def minutes_pass(under: Path, minutes: int) -> None:
    """Move the times of the writes in the one ledger under `under` back by `minutes`."""
    [ledger] = under.rglob("ledger.sqlite3")
    with closing(sqlite3.connect(ledger)) as db, db:
        for key, updated_at in db.execute("SELECT key, updated_at FROM records").fetchall():
            earlier = datetime.fromisoformat(updated_at) - timedelta(minutes=minutes)
            db.execute("UPDATE records SET updated_at = ? WHERE key = ?", (earlier.isoformat(), key))
        # The creates and placements Register never answered, with when each was sent (Ledger.unanswered).
        for row_id, sent_at in db.execute("SELECT id, sent_at FROM writes_unanswered").fetchall():
            earlier = datetime.fromisoformat(sent_at) - timedelta(minutes=minutes)
            db.execute("UPDATE writes_unanswered SET sent_at = ? WHERE id = ?", (earlier.isoformat(), row_id))
