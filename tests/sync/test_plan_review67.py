"""review67 F4, against the emulator over HTTP: a record held back as a conflict because another record of the extract
keeps the trainee it matched (sync/plan.py `one_record_per_trainee`, `_conflict`) lists no change in results.csv,
as nothing of it is sent."""

from __future__ import annotations

import csv
import json
from collections import Counter

from trainee_extracts import trainee, write_extract


def test_a_record_held_back_for_another_records_trainee_lists_no_change_it_did_not_send(register, tmp_path):
    """T is trainee(1)'s person; Register also holds Zed, their twin by Register's duplicate rule (§4) under another
    HUSID. A record of Zed keyed in with T's HUSID (and a deferral) matches T by it, beside T's own record, its HUSID
    corrected, which keeps T by the SRS id. Matched again without T, Zed's record is the duplicate rule's conflict, so
    it is held back: its changes listed the drift from T (T's name and email shown as Register's beside Zed's) and a
    deferral `trn_received -> deferred`, none of which was sent."""
    person = trainee(1)
    twin = person | {
        "first_names": "Zed",
        "email": "zed@example.com",
        "hesa_id": f"{int(person['hesa_id']) + 700:013d}",
        "provider_trainee_id": "SRS-00700",
    }
    assert register.sync(write_extract(tmp_path / "a.csv", [person, twin])).actions == Counter(create=2)
    writes = register.writes()

    mistaken = twin | {"hesa_id": person["hesa_id"], "provider_trainee_id": "SRS-00900", "defer_date": "2026-10-01"}
    corrected = person | {"hesa_id": f"{int(person['hesa_id']) + 500:013d}"}
    result = register.sync(write_extract(tmp_path / "b.csv", [mistaken, corrected]))
    held_back = result.results[0]
    assert (held_back.plan.action, held_back.outcome) == ("conflict", "skipped"), result.summary_line()
    assert held_back.plan.reason.startswith("another record of this extract is trainee ")
    assert held_back.plan.changes == []
    with (tmp_path / f"reports-{register.runs}" / "results.csv").open(encoding="utf-8", newline="") as fh:
        [row] = [r for r in csv.DictReader(fh) if r["action"] == "conflict"]
    assert json.loads(row["changes"] or "[]") == []
    assert "defer" not in " ".join(register.writes()) and register.writes()["POST /trainees"] == 2
    assert sum(register.writes().values()) - sum(writes.values()) <= 1  # T's record: its HUSID corrected, at most
