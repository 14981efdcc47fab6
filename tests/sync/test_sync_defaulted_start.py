"""A record that leaves `trainee_start_date` blank starts on its ITT start date: Register sets it so on create (§3.4,
"blank -> set to itt_start_date"). A PUT merges into the stored record (§2.6), so an `itt_start_date` corrected alone
left the old start in Register: the trainee stayed in the old start cycle across 1 August, and a start in the future
was refused ("trainee_start_date must be in the past": a future start must be the ITT start). Found by review49.
Against the emulator over 127.0.0.1."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract

TOKEN = "defaulted-start-provider-token"


def _held(emulator: Any) -> list[dict[str, Any]]:
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return [t for cycle in (2025, 2026, 2027) for t in client.iter_trainees(academic_cycle=cycle, per_page=100)]


def _synced(emulator: Any, tmp_path: Path, row: dict[str, Any], name: str, as_of: date) -> Any:
    extract = write_extract(tmp_path / f"{name}.csv", [row])
    options = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name, as_of=as_of)
    return sync_files([str(extract)], options)


def _row(itt_start: str, start: str = "") -> dict[str, Any]:
    return {**trainee(1), "itt_start_date": itt_start, "itt_end_date": "2027-07-31", "trainee_start_date": start}


def test_a_corrected_itt_start_moves_a_defaulted_start_across_1_august(tmp_path: Path) -> None:
    as_of = date(2026, 10, 15)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=as_of) as emulator:
        assert _synced(emulator, tmp_path, _row("2026-07-28"), "created", as_of).exit_code == 0
        [held] = _held(emulator)
        assert held["trainee_start_date"] == "2026-07-28"  # Register's default: the ITT start
        corrected = _synced(emulator, tmp_path, _row("2026-08-03"), "corrected", as_of)
        assert [(r.plan.action, r.outcome) for r in corrected.results] == [("update", "done")], corrected.summary_line()
        assert {c["field"]: c["source"] for c in corrected.results[0].plan.changes} == {
            "itt_start_date": "2026-08-03",
            "trainee_start_date": "2026-08-03",
        }
        [held] = _held(emulator)
        assert (held["itt_start_date"], held["trainee_start_date"]) == ("2026-08-03", "2026-08-03")
        again = _synced(emulator, tmp_path, _row("2026-08-03"), "again", as_of)
        assert [r.plan.action for r in again.results] == ["unchanged"]


def test_a_corrected_itt_start_in_the_future_is_taken(tmp_path: Path) -> None:
    as_of = date(2026, 8, 20)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=as_of) as emulator:
        assert _synced(emulator, tmp_path, _row("2026-09-02"), "created", as_of).exit_code == 0
        corrected = _synced(emulator, tmp_path, _row("2026-09-09"), "corrected", as_of)
        assert [(r.plan.action, r.outcome) for r in corrected.results] == [("update", "done")], [
            r.errors for r in corrected.results
        ]
        [held] = _held(emulator)
        assert (held["itt_start_date"], held["trainee_start_date"]) == ("2026-09-09", "2026-09-09")


def test_a_start_register_holds_of_its_own_is_left_by_a_blank(tmp_path: Path) -> None:
    """Register's start is not the ITT start (set in its service, or by an earlier extract): a blank does not say to
    change it."""
    as_of = date(2026, 11, 28)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=as_of) as emulator:
        assert _synced(emulator, tmp_path, _row("2026-09-01", "2026-09-14"), "created", as_of).exit_code == 0
        corrected = _synced(emulator, tmp_path, _row("2026-09-03"), "corrected", as_of)
        assert [c["field"] for r in corrected.results for c in r.plan.changes] == ["itt_start_date"]
        assert corrected.exit_code == 0, corrected.summary_line()
        [held] = _held(emulator)
        assert (held["itt_start_date"], held["trainee_start_date"]) == ("2026-09-03", "2026-09-14")
