"""A create or placement Register never answered may still be carried out for a while (runner.UNANSWERED_CREATE_WAIT):
the ledger keeps each such request (`writes_unanswered`) until Register answers it, found again by the record's SRS id
when its HUSID, and so its ledger key, is corrected, and whatever the record's entry says since (review47 F1, F2).
Against the emulator over 127.0.0.1, which holds a timed-out request until the test carries it out
(`carry_out_held`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from test_review13_gaps import (
    HOLD,
    TOKEN,
    _create_left_unanswered,
    _held,
    _killed_with_its_create_out,
    _resent_then_corrected,
)

from emulated import AS_OF, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract

CORRECTED_HUSID = f"{2510000000000 + 51:013d}"


def _of_srs_id(emulator: Any, srs_id: str) -> list[dict[str, Any]]:
    return [t for t in _held(emulator) if t.get("provider_trainee_id") == srs_id]


def test_a_create_still_out_is_waited_for_after_the_husid_and_surname_are_corrected(tmp_path: Path) -> None:
    """A run killed with its create out; the HUSID and the surname corrected at once: the record's ledger key changed,
    and the create was sent at once; the first, landing late, matched nothing Register's 409 compares."""
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _killed_with_its_create_out(emulator, extract, tmp_path)
        write_extract(extract, [{**row, "hesa_id": CORRECTED_HUSID, "last_name": "Corrected"}])
        again = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "again"))
        assert [r.outcome for r in again.results] == ["unknown"], [r.errors for r in again.results]
        assert emulator.carry_out_held() == 1  # the held create is carried out
        assert len(_of_srs_id(emulator, row["provider_trainee_id"])) == 1


def test_an_update_is_waited_for_after_the_husid_and_surname_are_corrected(tmp_path: Path) -> None:
    """review46 F2's case (a create timed out and was sent again: 201), with the HUSID corrected beside the surname:
    the update is under another ledger key, and was sent at once."""
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _resent_then_corrected(emulator, extract, tmp_path, row, hesa_id=CORRECTED_HUSID, last_name="Corrected")
        again = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "again"))
        assert [r.outcome for r in again.results] == ["unknown"], [r.errors for r in again.results]
        assert emulator.carry_out_held() == 1  # the held create is carried out, or refused as the trainee's duplicate
        assert len(_of_srs_id(emulator, row["provider_trainee_id"])) == 1


def _placement_left_out(emulator: Any, tmp_path: Path, row: dict[str, Any]) -> Any:
    """The trainee of `row` synced, then a run whose placement 123456 Register holds past the client's timeout (and
    carries out later): the run ends unknown. The options the runs share."""
    options = sync_options(emulator, tmp_path, TOKEN, timeout=0.5)
    assert sync_files([str(write_extract(tmp_path / "a.csv", [row]))], options).exit_code == 0

    class SlowPlacement(RegisterClient):
        def add_placement(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
            emulator.set_faults("timeout:1.0")
            try:
                return super().add_placement(trainee_id, data)
            finally:
                emulator.set_faults(None)

    with SlowPlacement(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=0.5) as client:
        placed = {**row, "placement_3_urn": "123456"}
        first = sync_files([str(write_extract(tmp_path / "b.csv", [placed]))], options, client=client)
    assert first.exit_code == 3, first.summary_line()
    return options


def _held_urns(emulator: Any) -> list[str]:
    [held] = _held(emulator)
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return sorted(p["urn"] for p in client.list_placements(held["trainee_id"]))


def test_a_placement_still_out_is_waited_for_after_the_husid_is_corrected(tmp_path: Path) -> None:
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, fault_hold=HOLD) as emulator:
        options = _placement_left_out(emulator, tmp_path, row)
        corrected = {**row, "placement_3_urn": "123456", "hesa_id": CORRECTED_HUSID}
        again = sync_files([str(write_extract(tmp_path / "c.csv", [corrected]))], options)
        assert [r.outcome for r in again.results] == ["unknown"], [r.errors for r in again.results]
        assert emulator.carry_out_held() == 1  # the held placement is carried out
        assert _held_urns(emulator).count("123456") == 1


def test_a_placement_still_out_is_waited_for_after_it_left_the_extract_and_came_back(tmp_path: Path) -> None:
    """The run without the placement found the record unchanged and its entry said done: the run after, with the
    placement back, added it again, and the first request then landed too."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, fault_hold=HOLD) as emulator:
        options = _placement_left_out(emulator, tmp_path, row)
        sync_files([str(write_extract(tmp_path / "c.csv", [row]))], options)
        back = sync_files([str(write_extract(tmp_path / "d.csv", [{**row, "placement_3_urn": "123456"}]))], options)
        assert [r.outcome for r in back.results] == ["unknown"], [r.errors for r in back.results]
        assert emulator.carry_out_held() == 1  # the held placement is carried out
        assert _held_urns(emulator).count("123456") == 1


def test_the_wait_runs_from_when_the_create_was_last_known_unanswered(tmp_path: Path) -> None:
    """review47 F3: the ledger noted the create before the client's own waits (a 429's Retry-After, its retries), so
    the wait after it could end before 10 minutes had passed since Register last got it. The note's time is set
    again when the create ends with no answer."""
    import sqlite3
    from contextlib import closing
    from datetime import UTC, datetime

    from test_review13_gaps import _july_itt_start

    extract = write_extract(tmp_path / "extract.csv", [_july_itt_start(1)])  # its create is not sent again in-run

    class OneThrottle:
        """Register's rate limit, answering 429 (Retry-After 2 s) to the first request only."""

        left = 1

        def hit(self, key: str) -> int | None:
            if OneThrottle.left:
                OneThrottle.left -= 1
                return 2
            return None

    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=2.0) as emulator:

        class Throttled(RegisterClient):
            def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
                emulator.limiter = OneThrottle()
                emulator.set_faults("timeout:1.0")  # the retry is held past the client's timeout
                try:
                    return super().create_trainee(data)
                finally:
                    emulator.set_faults(None)
                    emulator.limiter = None

        began = datetime.now(UTC)
        with Throttled(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=1.0) as client:
            first = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, timeout=1.0), client=client)
        assert [r.outcome for r in first.results] == ["unknown"]
        [ledger] = (tmp_path / "state").rglob("ledger.sqlite3")
        with closing(sqlite3.connect(ledger)) as db:
            [(sent_at,)] = db.execute("SELECT sent_at FROM writes_unanswered").fetchall()
        assert (datetime.fromisoformat(sent_at) - began).total_seconds() >= 2.0  # after the 429's wait, not before


def test_the_log_of_a_write_looked_up_names_no_husid(tmp_path: Path, caplog: Any) -> None:
    """`register-batch -v` prints the INFO log: the look-up after an unanswered create named the record by its ledger
    key, `hesa:<HUSID>` (review51 F3). Personal data goes to the owner-only reports only."""
    import logging

    from test_review13_gaps import _july_itt_start

    row = _july_itt_start(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with (
        caplog.at_level(logging.INFO, logger="register_batch"),
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator,
    ):
        _create_left_unanswered(emulator, extract, tmp_path)
        assert emulator.carry_out_held() == 1  # the held create lands before the emulator stops
    said = [record.getMessage() for record in caplog.records]
    assert any(line.startswith("resolving an unknown create outcome for record 1 of ") for line in said), said
    assert not [line for line in said if row["hesa_id"] in line], said
