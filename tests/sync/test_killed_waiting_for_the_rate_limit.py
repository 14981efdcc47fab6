"""A run killed while a write waits for its turn in the rate budget (most of a rate-limited run's time is spent there)
left that write marked in flight though it was never sent: a rerun within 10 minutes held the record back as unknown
(exit 3), its report saying the run was stopped while writing (review137 F3). The write's turn is taken before its
in-flight mark (design.md: every write goes to the ledger before it is sent), so the mark is made only once nothing
stands between it and the request."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hesa_extracts import HESA_WITHDRAWAL, hesa_trainee, write_hesa_csv

from dying import Died
from emulated import SYNC_TESTS_TOKEN as TOKEN
from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.sync import sync_files

PUT = "PUT /trainees/{trainee_id}"


class _Clock:
    """The limiter's clock, moved on by its own sleeps: a wait of a minute takes none."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _killed_waiting_after_the_first_update(register, tmp_path: Path, extract: Path) -> None:
    """The process dies (a SIGKILL: no cleanup, no report) as a request waits for the budget once Register has had
    one update: as the second record's update waits for its turn."""

    def dies_once_an_update_went(seconds: float, throttled: bool) -> None:
        if register.writes()[PUT] > before[PUT]:
            raise Died()

    before = register.writes()
    clock = _Clock()
    limiter = RateLimiter(1, 60, clock=clock, sleep=clock.sleep, on_wait=dies_once_an_update_went)
    client = RegisterClient(register.emulator.url, TOKEN, limiter=limiter, timeout=5.0)
    options = sync_options(register.emulator, tmp_path, TOKEN, report_dir=tmp_path / "killed", as_of=register.as_of)
    with pytest.raises(Died):
        sync_files([str(extract)], options, client=client)
    assert register.writes() - before == Counter({PUT: 1})  # the second update was never sent


def test_a_write_killed_while_it_waits_for_the_rate_limit_is_sent_by_the_next_run(our_register, tmp_path, open_ledger):
    register = our_register
    blank = dict.fromkeys(HESA_WITHDRAWAL, "")
    rows = [{**hesa_trainee(n), **blank} for n in (1, 2, 3)]
    assert register.sync(write_hesa_csv(tmp_path / "first.csv", rows)).exit_code == 0
    changed = [{**row, "F_NQTEMAIL": f"moved{n}@example.com"} for n, row in enumerate(rows, 1)]
    _killed_waiting_after_the_first_update(register, tmp_path, write_hesa_csv(tmp_path / "changed.csv", changed))

    ledger = open_ledger(tmp_path / "state", register.emulator.url)
    statuses = {entry.hesa_id: entry.status for entry in ledger.all()}
    ledger.close()
    assert statuses[rows[1]["F_HUSID"]] != "in_flight"  # never sent: not marked as out

    # Changed again within the 10 minutes an unanswered write may still land in: sent, not held back as unknown.
    changed[1]["F_NQTEMAIL"] = "moved-again@example.com"
    before = register.writes()
    rerun = register.sync(write_hesa_csv(tmp_path / "again.csv", changed))
    assert rerun.exit_code == 0, rerun.summary_line()
    assert rerun.summary_line().startswith("3 records: 2 updated, 1 unchanged"), rerun.summary_line()
    assert register.writes() - before == Counter({PUT: 2})
    emails = {t["hesa_id"]: t["email"] for t in register.trainees(2026)}
    assert [emails[row["F_HUSID"]] for row in rows] == [
        "moved1@example.com",
        "moved-again@example.com",
        "moved3@example.com",
    ]
