"""review214: the held withdrawal or deferral of review211 F1 over the nights. F1: against Register, a run as of a
later day does not send what is dated up to it (Register applies it the day it is sent). F2: a deferral dated after
a withdrawal is never sent, and is not promised. F4: a withdrawal dated after the ITT start waits for its own date.
review220 F1: nor is it sent once both dates have passed (a first sync after both)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from held import listed, planned, record

from register_batch.sync.plan import Holdings, plan_record
from trainee_extracts import WITHDRAWN, trainee, write_extract

WITHDRAWAL = {
    "withdrawal_date": "2026-11-01",  # on or before the tests' as-of day, 2026-11-28: due
    "reasons": ["did_not_make_progress"],
    "trigger": "trainee",
    "future_interest": "no",
}


def _rows(report_dir) -> list[dict[str, str]]:
    with (report_dir / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


# --- F1 -----------------------------------------------------------------------------------------------------------


def test_against_register_a_run_as_of_a_later_day_holds_as_of_today(tmp_path):
    """Register's today is today in UTC whatever --as-of says: a withdrawal dated up to a later --as-of would be
    applied now. An emulator here (embedded, or on 127.0.0.1 with its own --as-of) applies it as of --as-of."""
    from register_batch.sync.runner import SyncOptions, register_day  # here: the fail-before run had none

    today = datetime.now(UTC).date()
    ahead, behind = today + timedelta(days=40), today - timedelta(days=40)
    real = {"token": None, "state_dir": tmp_path / "s", "report_dir": tmp_path / "r"}
    assert register_day(SyncOptions(target="https://register.invalid", as_of=ahead, **real)) == today
    assert register_day(SyncOptions(target="sandbox", as_of=ahead, **real)) == today
    assert register_day(SyncOptions(target="https://register.invalid", as_of=behind, **real)) == behind
    assert register_day(SyncOptions(target="http://127.0.0.1:8914", as_of=ahead, **real)) == ahead
    # What the run plans with that day: the withdrawal dated between today and --as-of is held, not sent.
    leaves = dict(WITHDRAWAL, withdrawal_date=(today + timedelta(days=10)).isoformat())
    source = record(withdrawal=leaves)  # its ITT start, 2025-09-01, has passed
    plan = plan_record(source, None, Holdings([listed()]), invalid=False, as_of=ahead, applied_on=today)
    assert (plan.action, plan.steps, [s.kind for s in plan.held]) == ("unchanged", [], ["withdraw"])
    assert f"sent by the first sync on or after {leaves['withdrawal_date']}" in (plan.reason or "")


def test_a_sync_to_register_as_of_a_later_day_says_withdrawals_and_deferrals_dated_ahead_still_wait(tmp_path):
    """The warning before anything is sent says what the run does with them (review214 F1); not said of an earlier
    day, when there is nothing to say."""
    import os

    from cli_runs import run_cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env["REGISTER_API_TOKEN"] = "sandbox_" + "ab12" * 16
    made = run_cli(["generate", "--count", "3", "-o", "in.xml"], cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    ahead = (datetime.now(UTC).date() + timedelta(days=40)).isoformat()
    sync = ["-q", "sync", "in.xml", "--target", "https://register.invalid", "--dry-run", "--state-dir", "state"]
    synced = run_cli([*sync, "--as-of", ahead], cwd=tmp_path, env=env)
    # Register out of reach before anything was written: a host name not found (2, review238), or 3 where this
    # machine's resolver cannot answer at all (no DNS: the look-up is retried as an outage)
    assert synced.returncode in (2, 3), synced.stderr
    [line] = [line for line in synced.stderr.splitlines() if f"this run judges dates as of {ahead}" in line]
    assert line.endswith(
        "; withdrawals and deferrals dated after today are still held until their day, as Register would apply them "
        "at once"
    )
    earlier = run_cli([*sync, "--as-of", "2026-01-05"], cwd=tmp_path, env=env)
    assert "this run judges dates as of 2026-01-05" in earlier.stderr and "still held" not in earlier.stderr


# --- F2 -----------------------------------------------------------------------------------------------------------


def test_a_deferral_dated_after_a_withdrawal_that_is_due_is_never_promised():
    both = planned(record(deferral={"defer_date": "2026-12-20"}, withdrawal=WITHDRAWAL), listed())
    assert (both.action, [s.kind for s in both.steps], [s.kind for s in both.held]) == (
        "withdraw",
        ["withdraw"],
        ["defer"],
    )
    assert both.reason == (
        "the deferral is dated 2026-12-20 (defer_date), but the withdrawal is dated 2026-11-01, before it, and "
        "Register cannot defer a withdrawn trainee: the withdrawal is sent (on or after its date) and the deferral "
        "never is"
    )
    # Both ahead, the withdrawal first: neither is promised wrongly.
    ahead = planned(
        record(deferral={"defer_date": "2027-01-20"}, withdrawal=dict(WITHDRAWAL, withdrawal_date="2027-01-05")),
        listed(),
    )
    assert [s.kind for s in ahead.held] == ["defer", "withdraw"] and ahead.action == "unchanged"
    assert "the deferral never is; and the withdrawal is dated 2027-01-05" in (ahead.reason or "")
    assert "on or after 2027-01-20" not in (ahead.reason or "")
    # A withdrawal dated on the deferral's day or after it: the deferral goes first, on its day.
    later = planned(
        record(deferral={"defer_date": "2026-12-20"}, withdrawal=dict(WITHDRAWAL, withdrawal_date="2026-12-20")),
        listed(),
    )
    assert "the deferral is held back" in (later.reason or "") and "never" not in (later.reason or "")


def test_over_the_nights_the_deferral_after_a_withdrawal_is_not_promised_and_not_sent(register, tmp_path):
    """Over the emulator (review214 record 4): created and withdrawn the first night, the deferral said never to go
    (validation's warning too), and on the deferral's day nothing is sent."""
    extract = write_extract(
        tmp_path / "in.csv",
        [{**trainee(1), **WITHDRAWN, "withdrawal_date": "2026-11-01", "defer_date": "2026-12-20"}],
    )
    first = register.sync(extract)
    assert first.actions == Counter(create=1) and first.exit_code == 0, first.summary_line()
    assert register.writes() == Counter({"POST /trainees": 1, "POST /trainees/{trainee_id}/withdraw": 1})
    [row] = _rows(tmp_path / f"reports-{register.runs}")
    assert "on or after 2026-12-20" not in row["warnings"], row["warnings"]
    assert "the deferral never is" in row["warnings"]
    [ahead] = [i["message"] for i in register.report()["issues"] if i["code"] == "defer_date_after_withdrawal"]
    assert "never the deferral" in ahead and "on or after 2026-12-20" not in ahead

    register.as_of = date(2026, 12, 20)
    before = register.writes()
    again = register.sync(extract)
    assert again.actions == Counter(unchanged=1) and register.writes() == before
    assert {t["state"] for t in register.trainees(2025)} == {"withdrawn"}


# --- review220 F1 ---------------------------------------------------------------------------------------------------


def test_a_deferral_dated_after_the_withdrawal_is_not_sent_once_both_dates_have_passed():
    source = record(deferral={"defer_date": "2026-11-10"}, withdrawal=WITHDRAWAL)  # both before 2026-11-28
    plan = planned(source, listed())
    assert (plan.action, [s.kind for s in plan.steps], [s.kind for s in plan.held]) == (
        "withdraw",
        ["withdraw"],
        ["defer"],
    )
    assert (plan.reason or "").endswith("the withdrawal is sent (on or after its date) and the deferral never is")
    # A deferral dated before the withdrawal still goes, first.
    earlier = planned(record(deferral={"defer_date": "2026-10-20"}, withdrawal=WITHDRAWAL), listed())
    assert ([s.kind for s in earlier.steps], earlier.held) == (["defer", "withdraw"], [])


@pytest.mark.parametrize("register", [date(2026, 12, 5)], indirect=True)
def test_a_first_sync_after_both_dates_withdraws_and_never_defers(register, tmp_path):
    """review220 F1 over the emulator: withdrawal 2026-11-20, deferral 2026-12-01, first synced on 2026-12-05 (a
    missed night, a late entry, a backlog): withdrawn only, and the dry run before it says the same."""
    extract = write_extract(
        tmp_path / "in.csv",
        [{**trainee(1), **WITHDRAWN, "withdrawal_date": "2026-11-20", "defer_date": "2026-12-01"}],
    )
    dry = register.sync(extract, dry_run=True)
    assert dry.actions == Counter(create=1) and dry.exit_code == 0, dry.summary_line()
    [row] = _rows(tmp_path / f"reports-{register.runs}")
    assert "the deferral never is" in row["warnings"] and "deferred" not in row["changes"], row
    [said] = [i["message"] for i in register.report()["issues"] if i["code"] == "defer_date_after_withdrawal"]
    assert said.startswith("defer_date: 2026-12-01: the record's withdrawal is dated 2026-11-20, before it")
    assert "never the deferral" in said
    assert register.writes() == Counter()

    first = register.sync(extract)
    assert first.actions == Counter(create=1) and first.exit_code == 0, first.summary_line()
    assert register.writes() == Counter({"POST /trainees": 1, "POST /trainees/{trainee_id}/withdraw": 1})
    [row] = _rows(tmp_path / f"reports-{register.runs}")
    assert "the deferral never is" in row["warnings"] and "deferred" not in row["changes"], row
    assert "sync_held" in [i["code"] for i in register.report()["issues"]]
    assert {t["state"] for t in register.trainees(2025)} == {"withdrawn"}


# --- F4 -----------------------------------------------------------------------------------------------------------


def test_a_withdrawal_dated_after_a_start_date_still_ahead_names_its_own_date():
    source = record(withdrawal=dict(WITHDRAWAL, withdrawal_date="2027-01-15"), itt_start_date="2027-01-05")
    plan = planned(source, listed(itt_start_date="2027-01-05"))
    assert [s.kind for s in plan.held] == ["withdraw"]
    assert (plan.reason or "").startswith("the withdrawal is dated 2027-01-15 (withdrawal_date)")
    assert "before the ITT start date" not in (plan.reason or "")
    on_the_start = planned(source, listed(itt_start_date="2027-01-05"), as_of=date(2027, 1, 5))
    assert "on or after 2027-01-15" in (on_the_start.reason or "")


# --- review220 F3 ---------------------------------------------------------------------------------------------------


def test_sync_help_says_where_a_withdrawal_or_deferral_dated_ahead_is_held_as_of_which_day():
    """The held day is today in UTC against Register, --as-of's against an emulator here (embedded or on this
    machine): the help said "held until its day all the same" beside the embedded emulator's --as-of."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    shown = CliRunner().invoke(cli, ["sync", "--help"], terminal_width=400, catch_exceptions=False)
    text = " ".join(shown.output.split())
    assert (
        "A withdrawal or deferral is held until its day: against Register (the sandbox or production) if dated after "
        "today in UTC, whatever this says; against the embedded emulator or an emulator on this machine (127.0.0.1, "
        "localhost) if dated after this day." in text
    )
    assert "docs/" not in text
