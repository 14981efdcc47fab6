"""Gaps found by review14 in this session's sync changes, each shown end to end against the emulator over HTTP, and
each failing on the code before its fix."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path
from typing import Any

import pytest

from emulated import AS_OF, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.sync import sync_files
from trainee_extracts import started_in, trainee, write_extract

TOKEN = "review14-gaps-provider-token"
OTHER_TOKEN = "review14-gaps-another-provider"
HOLD = 60.0  # fault_hold: longer than any test, so a timed-out request stays held until the test carries it out
OURS, THEIRS = "10052198", "10099999"
NEXT_CYCLE = {"trainee_start_date": "2026-09-01", "itt_start_date": "2026-09-01", "itt_end_date": "2027-07-31"}
BACK = {"trainee_start_date": "2025-09-01", "itt_start_date": "2025-09-01", "itt_end_date": "2026-07-31"}


def _client(emulator: Any, token: str = TOKEN) -> RegisterClient:
    return RegisterClient(emulator.url, token, limiter=RateLimiter(10_000, 1))


def _held(emulator: Any, token: str = TOKEN) -> list[dict[str, Any]]:
    with _client(emulator, token) as client:
        return [
            t for cycle in (2023, 2024, 2025, 2026) for t in client.iter_trainees(academic_cycle=cycle, per_page=1000)
        ]


def test_a_trainee_without_srs_ids_whose_birth_date_and_surname_changed_is_held_back_in_words_that_fit(
    tmp_path: Path,
) -> None:
    """With no SRS id on either side, the HUSID is all there is to tell by: a date of birth corrected on the night of
    a marriage looks as a copied HUSID does, and is held back (the safe side). The reason said the missing SRS ids
    differed ("provider_trainee_id (none) in the record, (none) in Register"), found by review14."""
    row = {**trainee(1), "provider_trainee_id": ""}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        first = write_extract(tmp_path / "first.csv", [row])
        sync_files([str(first)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "first"))
        married = {**row, "last_name": "Married", "date_of_birth": "1981-03-12"}  # and a birth date corrected
        later = write_extract(tmp_path / "later.csv", [married])
        result = sync_files([str(later)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "later"))
        [record] = result.results
        assert record.plan.action == "conflict"
        assert "no provider_trainee_id in the record or in Register, and another date_of_birth and last_name" in (
            record.plan.reason or ""
        )
        assert "(none)" not in (record.plan.reason or "")


def test_a_trainee_moved_into_the_cycle_after_its_listing_is_not_taken_for_deleted_with_this_clock_ahead(
    tmp_path: Path,
) -> None:
    rows = [trainee(1), trainee(2)]
    extract = write_extract(tmp_path / "extract.csv", rows)
    behind = 20 * 60.0  # Register's clock 20 minutes behind this machine's
    with start_emulator(
        tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, clock=lambda: time.time() - behind
    ) as emulator:
        first = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "first"))
        moved = first.results[1].plan.trainee_id
        assert moved
        with _client(emulator) as hand:  # in Register's service: the start moved to next year...
            hand.update_trainee(moved, NEXT_CYCLE)

        class MovedBack(RegisterClient):
            done = False

            def list_trainees(self, **params: Any) -> Any:
                answer = super().list_trainees(**params)
                if not MovedBack.done and params.get("academic_cycle") == 2025:
                    MovedBack.done = True
                    with _client(emulator) as hand:  # ...and back, just after the run listed the cycle
                        hand.update_trainee(moved, BACK)
                return answer

        with MovedBack(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            again = sync_files(
                [str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "again"), client=client
            )
        plan = again.results[1].plan
        assert plan.action != "conflict", plan.reason


def test_a_state_dirs_provider_is_checked_before_the_first_create(tmp_path: Path) -> None:
    ukprns = {TOKEN: OURS, OTHER_TOKEN: THEIRS}
    with start_emulator(tokens=[TOKEN, OTHER_TOKEN], ukprns=ukprns, rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        theirs = started_in(2023, trainee(9))  # the other provider's only trainee, two cycles back
        their_extract = write_extract(tmp_path / "theirs.csv", [theirs])
        their_options = sync_options(
            emulator, tmp_path, OTHER_TOKEN, state_dir=tmp_path / "their-state", report_dir=tmp_path / "theirs"
        )
        sync_files([str(their_extract)], their_options)
        monday = write_extract(tmp_path / "monday.csv", [trainee(n) for n in (1, 2)])
        sync_files([str(monday)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "monday"))
        tuesday = write_extract(tmp_path / "tuesday.csv", [trainee(n) for n in (4, 5)])
        with pytest.raises(ConfigError):  # the token mixed up in the job's settings
            sync_files([str(tuesday)], sync_options(emulator, tmp_path, OTHER_TOKEN, report_dir=tmp_path / "tuesday"))
        assert [t["hesa_id"] for t in _held(emulator, OTHER_TOKEN)] == [theirs["hesa_id"]]


def test_an_older_ledger_is_not_bound_to_the_provider_of_a_mixed_up_tokens_create(tmp_path: Path) -> None:
    ukprns = {TOKEN: OURS, OTHER_TOKEN: THEIRS}
    with start_emulator(tokens=[TOKEN, OTHER_TOKEN], ukprns=ukprns, rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        monday = write_extract(tmp_path / "monday.csv", [trainee(n) for n in (1, 2, 3)])
        sync_files([str(monday)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "monday"))
        [ledger] = list((tmp_path / "state").rglob("ledger.sqlite3"))
        with sqlite3.connect(ledger) as db:  # as the ledger of the version before this one left it
            db.execute("DELETE FROM meta WHERE key = 'ukprn'")
        tuesday = write_extract(tmp_path / "tuesday.csv", [trainee(n) for n in (1, 2, 3, 4)])
        # A token that sees none of the three linked trainees is refused before it writes (review26; it created
        # trainee 4 in THEIRS's account before).
        with pytest.raises(ConfigError, match="the API token cannot see the trainees this state dir's earlier syncs"):
            sync_files([str(tuesday)], sync_options(emulator, tmp_path, OTHER_TOKEN, report_dir=tmp_path / "mixed-up"))
        # The state dir's three links are OURS's trainees: the right token goes on.
        result = sync_files([str(tuesday)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "right"))
        assert result.results[0].plan.action == "unchanged"


def test_a_create_left_unknown_says_which_way_its_start_differs(tmp_path: Path) -> None:
    row = {**trainee(1), "itt_start_date": "2025-09-01", "trainee_start_date": "2025-07-14"}  # begun in cycle 2024
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:

        class Faulted(RegisterClient):
            creates = 0

            def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
                Faulted.creates += 1
                if Faulted.creates == 1:
                    emulator.set_faults("timeout:1.0")
                try:
                    return super().create_trainee(data)
                finally:
                    emulator.set_faults(None)

        with Faulted(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=1.0) as client:
            result = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, timeout=1.0), client=client)
        [record] = result.results
        assert record.outcome == "unknown"
        assert "later academic cycle" not in record.errors[0]
        assert emulator.carry_out_held() == 1  # the held create is carried out before the emulator stops


def test_the_listing_that_tells_a_deleted_trainee_stops_once_it_is_found(tmp_path: Path) -> None:
    """A linked trainee whose start moved to a cycle the run does not list is looked for in a listing of that cycle
    since its own change, oldest first: it is on the first page. The listing was read to its end all the same (with
    per_page 2 and eight trainees changed since, four pages where one does), found by review14."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        mine = trainee(1)
        first = write_extract(tmp_path / "first.csv", [mine])
        sync_files([str(first)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "first"))
        [held] = _held(emulator)
        with _client(emulator) as client:  # moved to next year's cycle by hand in Register
            client.update_trainee(held["trainee_id"], dict(NEXT_CYCLE))
        others = write_extract(tmp_path / "others.csv", [{**trainee(n), **NEXT_CYCLE} for n in range(2, 9)])
        # changed after it; from another state dir, the token checked by its UKPRN: a first run that would only create
        # into an account whose listed trainees are none of its records is otherwise refused (review212 F1)
        sync_files([str(others)], sync_options(emulator, tmp_path / "elsewhere", TOKEN, ukprn=held["ukprn"]))
        before = emulator.snapshot()["requests"]["by_route"].get("GET /trainees", 0)
        again = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "again", per_page=2)
        result = sync_files([str(first)], again)
        [record] = result.results
        assert record.plan.action == "update" and record.plan.trainee_id == held["trainee_id"]
        listings = emulator.snapshot()["requests"]["by_route"]["GET /trainees"] - before
        # This year's cycle (nobody left in it), then one page of next year's since the change. The link being a year
        # from the record, the cycles around the record are listed too, for another of the student's courses nearer
        # it (review72 H1): last year's (nobody), next year's, whole (four pages of two), and the year after, where a
        # course deferred before it began is listed (review73 F7; nobody).
        assert listings == 2 + 1 + 5
