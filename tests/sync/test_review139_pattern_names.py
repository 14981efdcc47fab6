"""Last names Register's duplicate check reads as a pattern (register-api.md §4: `last_name ILIKE ?`, the submitted
name the pattern), end to end against the emulator over HTTP (review139 F1, F3).

A backslash (an SRS's escaped apostrophe, `O\\'Neil`) is ILIKE's escape: the name is no match for itself, so Register's
409 does not stop the same create sent twice. A `%` or `_` is a wildcard: `O_Neil` is refused beside a held `O'Neil`.
"""

from __future__ import annotations

from pathlib import Path

from test_review13_gaps import HOLD, TOKEN, _first_create_faulted, _held

from emulated import AS_OF, sync_options
from register_batch.emulator import start_emulator
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract


def test_a_timed_out_create_of_a_name_with_a_backslash_is_not_sent_again(tmp_path: Path) -> None:
    """The create timed out and Register carried it out later (a held request): sent again at once, as for a name
    Register's 409 guards, it was a second trainee, as `O\\'Neil` does not fit itself (review139 F1). It is left
    unknown instead, saying why, and neither that run nor the next one, started at once, creates it again."""
    extract = write_extract(tmp_path / "extract.csv", [{**trainee(1), "last_name": "O\\'Neil"}])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        with _first_create_faulted(emulator, "timeout:1.0", timeout=1.0) as client:
            first = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, timeout=1.0), client=client)
        at_once = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "at-once"))
        assert emulator.carry_out_held() == 1  # the held create is carried out
        assert [t["last_name"] for t in _held(emulator)] == ["O\\'Neil"]  # one trainee, not two
        [record] = first.results
        assert record.outcome == "unknown" and "not sent again in this run" in record.errors[0], record.errors
        assert "its last name has a backslash" in record.errors[0]
        [record] = at_once.results
        assert (record.plan.action, record.outcome) == ("create", "unknown"), record.errors
        assert "an earlier run's create of this trainee" in record.errors[0]
        later = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "later"))
        [record] = later.results
        assert record.outcome == "done" and record.plan.action in ("update", "unchanged"), record.errors
        assert len(_held(emulator)) == 1


def _pair(tmp_path: Path) -> Path:
    """review139's pair.csv: O'Neil, and a trainee Register's duplicate check takes for them: O_Neil, of the same first
    name, date of birth, route and start, with another HUSID, SRS id and email."""
    other = {"hesa_id": "2510000009999", "provider_trainee_id": "SRS-99999", "email": "other@example.com"}
    return write_extract(
        tmp_path / "pair.csv", [{**trainee(1), "last_name": "O'Neil"}, {**trainee(1), "last_name": "O_Neil", **other}]
    )


def test_a_wildcard_name_beside_a_held_trainee_it_fits_is_held_back_without_a_request(tmp_path: Path) -> None:
    """Sync's own duplicate check matched last names for equality, so `O_Neil` beside a held `O'Neil` was planned a
    create, POSTed and refused with 409 every run, and a dry run said "would create" (review139 F3). It matches as
    Register does: a conflict, nothing sent, and a dry run says so."""
    extract = _pair(tmp_path)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        first = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN))
        assert [r.outcome for r in first.results] == ["done", "conflict"]
        dry = sync_files(
            [str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "dry", dry_run=True)
        )
        assert [r.plan.action for r in dry.results] == ["unchanged", "conflict"]
        again = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "again"))
        held = again.results[1]
        assert (held.plan.action, held.outcome, held.requests) == ("conflict", "skipped", 0)
        [trainee_id] = [t["trainee_id"] for t in _held(emulator)]
        assert f"Register's duplicate rule matches trainee(s) {trainee_id} with another hesa_id" in held.plan.reason


def test_a_name_ending_in_a_backslash_that_register_cannot_match_is_held_back_not_sent_every_night(
    tmp_path: Path,
) -> None:
    """`O\\` beside a held `O'Neil` of the same date of birth: PostgreSQL refuses the pattern there, and Register
    answers 500 to the create. It was sent, reported as no answer (exit 3, "run again after ..."), and sent again by
    every later run (review141 F4). It is held back without a request, saying why and what to correct."""
    other = {"hesa_id": "2510000009999", "provider_trainee_id": "SRS-99999", "email": "other@example.com"}
    held_first = write_extract(tmp_path / "first.csv", [{**trainee(1), "last_name": "O'Neil"}])
    extract = write_extract(
        tmp_path / "pair.csv", [{**trainee(1), "last_name": "O'Neil"}, {**trainee(1), "last_name": "O\\", **other}]
    )
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        sync_files([str(held_first)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "held"))
        first = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN))
        held = first.results[1]
        assert (held.plan.action, held.outcome, held.requests) == ("conflict", "skipped", 0), held.errors
        assert "Register answers 500 to its create" in held.plan.reason
        assert first.exit_code == 1
        assert [t["last_name"] for t in _held(emulator)] == ["O'Neil"]
