"""A degree changed between UK and non-UK is replaced: the new one POSTed, then the old one DELETEd (compare.
degree_changes). From Register's CSV, which holds one degree and so never asks for any other to be deleted, a run that
stopped between the two left the old degree in Register for good, and every later run reported the record unchanged
(review52 F2). The ledger keeps the degree to delete until its DELETE is answered, and the next run deletes it.
Against the emulator over 127.0.0.1, with real sync runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from test_review13_gaps import TOKEN, _held

from emulated import AS_OF, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract

NON_UK = {"uk_degree": "", "non_uk_degree": "083", "awarding_institution": "", "degree_country": "FR"}


def _degrees(emulator: Any) -> list[tuple[str, str]]:
    """(uk_degree, non_uk_degree) of each degree the one trainee Register holds has ("" for none)."""
    [held] = _held(emulator)
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        degrees = client.list_degrees(held["trainee_id"])
    return sorted((d.get("uk_degree") or "", d.get("non_uk_degree") or "") for d in degrees)


def _replacements_noted(tmp_path: Path) -> int:
    [ledger] = (tmp_path / "state").rglob("ledger.sqlite3")
    with closing(sqlite3.connect(ledger)) as db:
        return int(db.execute("SELECT count(*) FROM degrees_replaced").fetchone()[0])


class _StoppedBeforeTheDelete(RegisterClient):
    """A run that ends (a kill, a power cut) once its replacement degree is in, before the old one's DELETE."""

    def delete_degree(self, trainee_id: str, degree_id: str) -> dict[str, Any]:
        raise RuntimeError("killed")


class _DeleteUnanswered(RegisterClient):
    """Register answers 500 to the DELETE, every try: the run stops there (exit 3), Register unavailable."""

    emulator: Any = None

    def delete_degree(self, trainee_id: str, degree_id: str) -> dict[str, Any]:
        self.emulator.set_faults("500:1.0")
        try:
            return super().delete_degree(trainee_id, degree_id)
        finally:
            self.emulator.set_faults(None)


@pytest.mark.parametrize("stopped", ["killed", "register_unavailable"])
def test_a_replacement_stopped_before_its_delete_is_finished_by_the_next_run(tmp_path: Path, stopped: str) -> None:
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        assert sync_files([str(write_extract(tmp_path / "a.csv", [row]))], options).exit_code == 0
        extract = [str(write_extract(tmp_path / "b.csv", [{**row, **NON_UK}]))]
        if stopped == "killed":
            with (
                _StoppedBeforeTheDelete(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
                pytest.raises(RuntimeError, match="killed"),
            ):
                sync_files(extract, options, client=client)
        else:
            with (
                _DeleteUnanswered(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2) as client,
                pytest.raises(Interrupted, match="Register stopped answering") as stopped_run,
            ):
                client.emulator = emulator
                sync_files(extract, options, client=client)
            assert stopped_run.value.result.exit_code == 3
        assert _degrees(emulator) == [("", "083"), ("083", "")]  # both: the old one's DELETE never went

        again = sync_files(extract, options)
        assert [(r.plan.action, r.outcome, r.http_status) for r in again.results] == [("update", "done", 200)]
        assert again.results[0].plan.changes == [
            {
                "field": "degrees",
                "register": "uk_degree 083, subject 100485, grade 02, graduation_year 2006, institution 0117",
                "source": None,
            }
        ]
        assert _degrees(emulator) == [("", "083")]
        assert _replacements_noted(tmp_path) == 0  # the DELETE answered, nothing is left to finish

        last = sync_files(extract, options)
        assert last.actions["unchanged"] == 1 and last.requests["by_route"].keys() == {"GET /trainees"}


def test_a_replacement_done_in_one_run_leaves_nothing_noted_and_sends_what_it_did(tmp_path: Path) -> None:
    """Without a stop, a replacement is a POST and a DELETE, as before; the ledger keeps nothing of it after."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        sync_files([str(write_extract(tmp_path / "a.csv", [row]))], options)
        replaced = sync_files([str(write_extract(tmp_path / "b.csv", [{**row, **NON_UK}]))], options)
        assert replaced.requests["by_route"] == {
            "GET /trainees": 1,
            "POST /trainees/{trainee_id}/degrees": 1,
            "DELETE /trainees/{trainee_id}/degrees/{degree_id}": 1,
        }
        assert _degrees(emulator) == [("", "083")] and _replacements_noted(tmp_path) == 0


def test_a_replacement_the_record_no_longer_has_is_not_finished(tmp_path: Path) -> None:
    """The record changed back before the next run: the degree kept for deletion is the one the record has again,
    and the replacement Register holds is no longer the record's. Nothing is deleted that the record says."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        sync_files([str(write_extract(tmp_path / "a.csv", [row]))], options)
        with (
            _StoppedBeforeTheDelete(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
            pytest.raises(RuntimeError, match="killed"),
        ):
            sync_files([str(write_extract(tmp_path / "b.csv", [{**row, **NON_UK}]))], options, client=client)
        back = sync_files([str(write_extract(tmp_path / "c.csv", [row]))], options)
        assert back.actions["unchanged"] == 1, back.summary_line()
        assert _degrees(emulator) == [("", "083"), ("083", "")]  # Register's CSV deletes no degree it lacks
