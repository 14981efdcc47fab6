"""review211 F1: a withdrawal or deferral dated after today. Register takes the date (register-api.md §3.4: no future
check) but withdraws or defers the trainee at once and tells TRS (§2.7, §2.8), and the API cannot reinstate (§2.12).
Sync holds it back, as it holds a withdrawal before the ITT start, sends the rest of the record, and sends it by the
first sync on or after its day, once."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date

from held import listed, planned, record

from trainee_extracts import WITHDRAWN, trainee, write_extract

LEAVES = {**WITHDRAWN, "withdrawal_date": "2026-12-15"}  # after the tests' as-of day, 2026-11-28
PAUSES = {"defer_date": "2026-12-20", "defer_reason": "Intermission agreed for next term"}
WITHDRAWAL = {
    "withdrawal_date": "2026-12-15",
    "reasons": ["did_not_make_progress"],
    "trigger": "trainee",
    "future_interest": "no",
}


def _rows(report_dir) -> list[dict[str, str]]:
    with (report_dir / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_withdrawal_dated_after_today_waits_for_its_day_and_is_then_sent():
    ahead = planned(record(withdrawal=WITHDRAWAL), listed(), as_of=date(2026, 11, 28))
    assert (ahead.action, ahead.steps, [s.kind for s in ahead.held]) == ("unchanged", [], ["withdraw"])
    assert ahead.reason == (
        "the withdrawal is dated 2026-12-15 (withdrawal_date), after today (2026-11-28 UTC), and Register would "
        "withdraw the trainee at once and tell TRS, which the API cannot undo: it is sent by the first sync on or "
        "after 2026-12-15: the withdrawal is held back until then"
    )
    on_the_day = planned(record(withdrawal=WITHDRAWAL), listed(), as_of=date(2026, 12, 15))
    assert (on_the_day.action, [s.kind for s in on_the_day.steps], on_the_day.held) == ("withdraw", ["withdraw"], [])


def test_a_deferral_dated_after_today_waits_and_the_update_beside_it_is_sent():
    plan = planned(
        record(deferral={"defer_date": "2026-12-20"}, email="new@example.com"), listed(), as_of=date(2026, 11, 28)
    )
    assert (plan.action, [s.kind for s in plan.steps], [s.kind for s in plan.held]) == ("update", ["update"], ["defer"])
    assert "the deferral is dated 2026-12-20 (defer_date), after today (2026-11-28 UTC)" in (plan.reason or "")
    assert (plan.reason or "").endswith("the deferral is held back; the record's other changes are sent")
    both = planned(
        record(deferral={"defer_date": "2026-12-20"}, withdrawal=WITHDRAWAL), listed(), as_of=date(2026, 11, 28)
    )
    assert [s.kind for s in both.held] == ["defer", "withdraw"]
    assert "dated 2026-12-20 (defer_date)" in (both.reason or "") and "dated 2026-12-15 (withdrawal_date)" in (
        both.reason or ""
    )


def test_a_future_withdrawal_and_deferral_are_held_then_sent_once_on_their_days(register, tmp_path):
    """Over the emulator: the two trainees are created at once, not withdrawn or deferred; validate's warning and
    sync_held say why and when; a later night (as_of moved on) sends each once, and no later run sends it again."""
    extract = write_extract(tmp_path / "in.csv", [{**trainee(1), **LEAVES}, {**trainee(2), **PAUSES}])
    first = register.sync(extract)
    assert first.actions == Counter(create=2) and first.exit_code == 0, first.summary_line()
    assert register.writes() == Counter({"POST /trainees": 2})
    assert {t["state"] for t in register.trainees(2025)} <= {"submitted_for_trn", "trn_received"}
    codes = sorted((i["code"], i["severity"]) for i in register.report()["issues"])
    assert codes == [
        ("defer_date_in_future", "warning"),
        ("sync_held", "warning"),
        ("sync_held", "warning"),
        ("withdrawal_date_in_future", "warning"),
    ]
    rows = _rows(tmp_path / f"reports-{register.runs}")
    assert [(r["action"], r["outcome"], r["errors"]) for r in rows] == [("create", "done", "")] * 2
    assert "sent by the first sync on or after 2026-12-15" in rows[0]["warnings"]
    assert "sent by the first sync on or after 2026-12-20" in rows[1]["warnings"]

    # A dry run on the withdrawal's day plans it; the deferral still waits.
    register.as_of = date(2026, 12, 15)
    dry = register.sync(extract, dry_run=True)
    assert dry.actions == Counter(withdraw=1, unchanged=1), dry.summary_line()
    assert register.writes() == Counter({"POST /trainees": 2})

    # The changed email goes beside the held deferral; the withdrawal goes on its day.
    changed = write_extract(
        tmp_path / "b.csv", [{**trainee(1), **LEAVES}, {**trainee(2), **PAUSES, "email": "new@example.com"}]
    )
    second = register.sync(changed)
    assert second.actions == Counter(withdraw=1, update=1) and second.exit_code == 0, second.summary_line()
    assert register.writes() == Counter(
        {"POST /trainees": 2, "POST /trainees/{trainee_id}/withdraw": 1, "PUT /trainees/{trainee_id}": 1}
    )

    register.as_of = date(2026, 12, 20)
    third = register.sync(changed)
    assert third.actions == Counter(defer=1, unchanged=1) and third.exit_code == 0, third.summary_line()
    states = {t["provider_trainee_id"]: t["state"] for t in register.trainees(2025)}
    assert states == {"SRS-00001": "withdrawn", "SRS-00002": "deferred"}

    register.as_of = date(2026, 12, 21)
    before = register.writes()
    last = register.sync(changed)
    assert last.actions == Counter(unchanged=2) and register.writes() == before
    assert "sync_held" not in [i["code"] for i in register.report()["issues"]]
