"""A degree added, an update, a withdrawal or a deferral that a run sent and never had answered (a run killed while it
was out) may still be carried out for a while, as a create or placement may (runner.UNANSWERED_CREATE_WAIT): the next
run, sending a different write of that kind for the trainee, was overtaken by it. A corrected degree was held beside
the old one for good, an update was put back, a withdrawal landed after the corrected deferral (review52 F1, F3, F4).
The ledger notes each such request until Register answers it (`writes_unanswered`), and a run holds the record back
while a different write of that kind may be overtaken; the same request sent again is not held back. A request found
carried out by the look-up after a lost reply is answered (review52 F5). Against the emulator over 127.0.0.1, which
holds a timed-out request until the test carries it out (`carry_out_held`), with real sync runs."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from hesa_extracts import DEGREE_TAGS, hesa_trainee, write_hesa_csv
from test_review13_gaps import TOKEN, _held

from emulated import AS_OF, sync_options
from ledger_clock import minutes_pass
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync import SyncOptions, SyncResult, sync_files
from trainee_extracts import WITHDRAWN, trainee, write_extract

DEFERRED = {"defer_date": "2026-03-01", "defer_reason": "Illness"}
HOLD = 60.0  # longer than any test: a timed-out request stays held until the test carries it out


def _killed_while_out(emulator: Any, method: str, extract: Path, options: SyncOptions) -> None:
    """A sync of `extract` killed while its `method` request (a RegisterClient method) is out: Register holds the
    request until the test carries it out (`emulator.carry_out_held()`)."""

    def held_then_killed(self: RegisterClient, *args: Any) -> Any:
        emulator.set_faults("timeout:1.0")
        try:
            getattr(RegisterClient, method)(self, *args)
        except Exception:
            pass
        finally:
            emulator.set_faults(None)
        raise RuntimeError("killed")

    killed = type("KilledWhileOut", (RegisterClient,), {method: held_then_killed})
    with (
        killed(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=1.0, attempts=1) as client,
        pytest.raises(RuntimeError, match="killed"),
    ):
        sync_files([str(extract)], options, client=client)


def _sync(extract: Path, options: SyncOptions, name: str, **changed: Any) -> SyncResult:
    return sync_files(
        [str(extract)], dataclasses.replace(options, report_dir=options.report_dir.parent / name, **changed)
    )


@contextlib.contextmanager
def _synced_after_one_out(
    tmp_path: Path, row: dict[str, str], method: str, out: dict[str, str], then: dict[str, str], *, landed: bool = False
) -> Iterator[tuple[Any, SyncResult]]:
    """The HESA trainee `row` synced; a sync of `out` killed while its `method` request is out (carried out before
    the next sync when `landed`, else still held during it); then a sync of `then`: the emulator, still running, and
    that last sync's result."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        assert sync_files([str(write_hesa_csv(tmp_path / "first.csv", [row]))], options).exit_code == 0
        _killed_while_out(emulator, method, write_hesa_csv(tmp_path / "out.csv", [out]), options)
        if landed:
            assert emulator.carry_out_held() == 1  # the request still out is carried out
        yield emulator, _sync(write_hesa_csv(tmp_path / "then.csv", [then]), options, "again")


def _writes(result: SyncResult) -> dict[str, int]:
    return {route: n for route, n in result.requests["by_route"].items() if not route.startswith("GET")}


def _unanswered(tmp_path: Path) -> list[str]:
    [ledger] = (tmp_path / "state").rglob("ledger.sqlite3")
    with closing(sqlite3.connect(ledger)) as db:
        return [kind for (kind,) in db.execute("SELECT kind FROM writes_unanswered ORDER BY id")]


def _trainee(emulator: Any) -> dict[str, Any]:
    [held] = _held(emulator)
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return client.get_trainee(held["trainee_id"])


def _degrees(emulator: Any) -> list[tuple[str, str]]:
    [held] = _held(emulator)
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return sorted((d["subject"], d["grade"]) for d in client.list_degrees(held["trainee_id"]))


def _synced(emulator: Any, tmp_path: Path, row: dict[str, Any]) -> SyncOptions:
    options = sync_options(emulator, tmp_path, TOKEN)
    assert sync_files([str(write_extract(tmp_path / "first.csv", [row]))], options).exit_code == 0
    return options


def _held_back_then_sent(emulator: Any, corrected: Path, options: SyncOptions, tmp_path: Path, why: str) -> SyncResult:
    """The next run holds the record back (unknown, exit 3, nothing written, its error starting with `why`); once
    the held request is carried out and the wait is over, the run after it sends the record's update."""
    again = _sync(corrected, options, "again")
    assert [r.outcome for r in again.results] == ["unknown"] and again.exit_code == 3, again.summary_line()
    assert again.results[0].errors[0].startswith(why), again.results[0].errors
    assert _writes(again) == {}
    assert emulator.carry_out_held() == 1  # the held request is carried out
    minutes_pass(tmp_path / "state", 11)
    after = _sync(corrected, options, "after")
    assert [(r.plan.action, r.outcome) for r in after.results] == [("update", "done")], after.summary_line()
    return after


def test_a_corrected_degree_waits_for_the_degree_an_earlier_run_left_unanswered(tmp_path: Path) -> None:
    """F1, from Register's CSV (which deletes no degree it lacks): the corrected degree was added at once, and the
    earlier request then landed too; Register held the degree as first sent beside it, for good."""
    row = trainee(1)
    added = {**row, "degree_subject": "100425", "degree_grade": "01"}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        _killed_while_out(emulator, "add_degree", write_extract(tmp_path / "b1.csv", [added]), options)
        corrected = write_extract(tmp_path / "b2.csv", [{**added, "degree_grade": "03"}])
        dry = _sync(corrected, options, "dry", dry_run=True)
        [foreseen] = [i.message for r in dry.results for i in r.issues if i.code == "sync_would_wait"]
        assert "a request adding a degree to trainee" in foreseen, foreseen

        after = _held_back_then_sent(emulator, corrected, options, tmp_path, "a request adding a degree to trainee ")
        assert _writes(after) == {"PUT /trainees/{trainee_id}/degrees/{degree_id}": 1}
        assert _degrees(emulator) == [("100425", "03"), ("100485", "02")]


def test_a_degree_change_is_not_held_back_by_an_unanswered_degree_register_now_holds(tmp_path: Path) -> None:
    """review55 F2: the earlier run's degree POST was carried out (Register lists the degree), so it cannot land again
    (§2.10: its 409); the next run's correction of that degree was still held back for 10 minutes, exit 3."""
    row = trainee(1)
    added = {**row, "degree_subject": "100425", "degree_grade": "01"}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        _killed_while_out(emulator, "add_degree", write_extract(tmp_path / "b1.csv", [added]), options)
        assert emulator.carry_out_held() == 1  # the held degree is carried out
        assert _degrees(emulator) == [("100425", "01"), ("100485", "02")]
        corrected = write_extract(tmp_path / "b2.csv", [{**added, "degree_grade": "03"}])
        dry = _sync(corrected, options, "dry", dry_run=True)
        assert not [i for r in dry.results for i in r.issues if i.code == "sync_would_wait"]
        again = _sync(corrected, options, "again")
        assert [(r.plan.action, r.outcome) for r in again.results] == [("update", "done")], again.summary_line()
        assert again.exit_code == 0
        assert _writes(again) == {"PUT /trainees/{trainee_id}/degrees/{degree_id}": 1}
        assert _degrees(emulator) == [("100425", "03"), ("100485", "02")]


def test_a_degree_sent_again_as_it_was_is_not_held_back(tmp_path: Path) -> None:
    """Register's 409 refuses whichever of the two lands second (§2.10): the resend goes at once, as before."""
    row = trainee(1)
    added = write_extract(tmp_path / "b.csv", [{**row, "degree_subject": "100425", "degree_grade": "01"}])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        _killed_while_out(emulator, "add_degree", added, options)
        again = _sync(added, options, "again")
        assert [r.outcome for r in again.results] == ["done"], again.summary_line()
        assert emulator.carry_out_held() == 1  # the held degree lands: refused as a duplicate
        assert _degrees(emulator) == [("100425", "01"), ("100485", "02")]


def test_an_update_waits_for_the_update_an_earlier_run_left_unanswered(tmp_path: Path) -> None:
    """F3: the next run's update was done, then the earlier one landed and put its email back."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        _killed_while_out(
            emulator,
            "update_trainee",
            write_extract(tmp_path / "c5.csv", [{**row, "email": "x5@example.com"}]),
            options,
        )
        corrected = write_extract(tmp_path / "c6.csv", [{**row, "email": "y6@example.com"}])
        _held_back_then_sent(emulator, corrected, options, tmp_path, "an update of trainee ")
        assert _trainee(emulator)["email"] == "y6@example.com"


def test_an_update_left_unanswered_is_not_said_to_be_held_as_the_extract_says(tmp_path: Path) -> None:
    """F3's variant: the extract went back to what Register holds, so nothing is sent; the earlier update, still to
    land, was named as written, and Register said to hold the record as the extract says."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        _killed_while_out(
            emulator,
            "update_trainee",
            write_extract(tmp_path / "c5.csv", [{**row, "email": "x5@example.com"}]),
            options,
        )
        again = _sync(write_extract(tmp_path / "c6.csv", [row]), options, "again")
        assert again.actions["unchanged"] == 1, again.summary_line()
        [said] = [message for code, message in again.results[0].warnings() if code == "sync_written_earlier"]
        assert said.startswith("may have been written to Register (update) by the sync started "), said
        assert "Register holds the record as the extract says" not in said, said
        assert emulator.carry_out_held() == 1


def test_a_deferral_waits_for_the_withdrawal_an_earlier_run_left_unanswered(tmp_path: Path) -> None:
    """F4: the SRS corrected a withdrawal to a deferral. The next run deferred the trainee and reported done, and the
    withdrawal, landing after, withdrew it for good. It is now held back, and said to be, until the wait is over."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        _killed_while_out(emulator, "withdraw", write_extract(tmp_path / "c1.csv", [{**row, **WITHDRAWN}]), options)
        deferred = write_extract(tmp_path / "c2.csv", [{**row, **DEFERRED}])
        dry = _sync(deferred, options, "dry", dry_run=True)
        assert [r.would_wait for r in dry.results] == [True], dry.summary_line()

        again = _sync(deferred, options, "again")
        assert [r.outcome for r in again.results] == ["unknown"] and again.exit_code == 3, again.summary_line()
        [why] = again.results[0].errors
        assert why.startswith("a request withdrawing trainee "), why
        assert "after this record's deferral or in its place (a withdrawal cannot be undone through the API)" in why
        assert _writes(again) == {}
        assert emulator.carry_out_held() == 1  # the held withdrawal is carried out: nothing can stop it now
        assert _trainee(emulator)["state"] == "withdrawn"


def test_a_withdrawal_sent_again_as_it_was_is_not_held_back(tmp_path: Path) -> None:
    """Register refuses a second withdrawal (§2.7): the resend goes at once, and whichever lands second is refused."""
    row = trainee(1)
    withdrawn = write_extract(tmp_path / "c1.csv", [{**row, **WITHDRAWN}])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        _killed_while_out(emulator, "withdraw", withdrawn, options)
        again = _sync(withdrawn, options, "again")
        assert [(r.plan.action, r.outcome) for r in again.results] == [("withdraw", "done")], again.summary_line()
        assert emulator.carry_out_held() == 1
        assert _trainee(emulator)["state"] == "withdrawn"


def _answer_lost(emulator: Any, method: str) -> RegisterClient:
    """A client whose `method` request Register carries out, and whose answer is lost on the way back."""

    def lost(self: RegisterClient, *args: Any) -> Any:
        emulator.set_faults("lost-response:1.0")
        try:
            return getattr(RegisterClient, method)(self, *args)
        finally:
            emulator.set_faults(None)

    return type("AnswerLost", (RegisterClient,), {method: lost})(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))


@pytest.mark.parametrize(
    ("method", "first", "then"),
    [
        ("add_placement", {"placement_3_urn": "123456"}, {"placement_3_urn": "123457"}),
        (
            "add_degree",
            {"degree_subject": "100425", "degree_grade": "01"},
            {"degree_subject": "100425", "degree_grade": "03"},
        ),
    ],
    ids=["placement", "degree"],
)
def test_a_write_found_after_its_answer_was_lost_is_not_waited_for(
    tmp_path: Path, method: str, first: dict[str, str], then: dict[str, str]
) -> None:
    """F5: the look-up after the lost answer found the placement, and the record was done; yet the request stayed
    noted as unanswered, and the next run held the trainee's next placement back for 10 minutes (exit 3)."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        options = _synced(emulator, tmp_path, row)
        with _answer_lost(emulator, method) as client:
            found = sync_files([str(write_extract(tmp_path / "e3.csv", [{**row, **first}]))], options, client=client)
        assert [r.outcome for r in found.results] == ["done"], found.summary_line()
        assert _unanswered(tmp_path) == []
        more = _sync(write_extract(tmp_path / "e4.csv", [{**row, **then}]), options, "more")
        assert [r.outcome for r in more.results] == ["done"] and more.exit_code == 0, more.summary_line()


def test_an_ordinary_run_leaves_no_write_noted_and_sends_what_it_did(tmp_path: Path) -> None:
    """Every write answered: nothing is left noted, and the requests are those sent before the notes were kept."""
    row = trainee(1)
    changed = {**row, "email": "new@example.com", "degree_subject": "100425", "placement_3_urn": "123456", **WITHDRAWN}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:
        options = _synced(emulator, tmp_path, row)
        result = _sync(write_extract(tmp_path / "b.csv", [changed]), options, "b")
        assert [(r.plan.action, r.outcome) for r in result.results] == [("update", "done")], result.summary_line()
        assert result.requests["by_route"] == {
            "GET /trainees": 1,
            "PUT /trainees/{trainee_id}": 1,
            "POST /trainees/{trainee_id}/degrees": 1,
            "POST /trainees/{trainee_id}/placements": 1,
            "POST /trainees/{trainee_id}/withdraw": 1,
        }
        assert _unanswered(tmp_path) == []


def test_a_corrected_degree_waits_for_the_degree_correction_an_earlier_run_left_unanswered(tmp_path: Path) -> None:
    """review115 F1: a degree's PUT (a class corrected in place, §2.10) was not noted while out. The next run's PUT of
    the class corrected again was answered, then the earlier PUT landed: Register held the first correction, and the
    run had said exit 0. It is now held back, as an added degree is, until the wait is over."""
    row = trainee(1)  # its degree's class is 02
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        first = write_extract(tmp_path / "d1.csv", [{**row, "degree_grade": "01"}])
        _killed_while_out(emulator, "update_degree", first, options)
        assert _unanswered(tmp_path) == ["update_degree"]
        corrected = write_extract(tmp_path / "d2.csv", [{**row, "degree_grade": "03"}])
        dry = _sync(corrected, options, "dry", dry_run=True)
        [foreseen] = [i.message for r in dry.results for i in r.issues if i.code == "sync_would_wait"]
        assert "a correction of a degree of trainee" in foreseen, foreseen

        after = _held_back_then_sent(emulator, corrected, options, tmp_path, "a correction of a degree of trainee ")
        assert _writes(after) == {"PUT /trainees/{trainee_id}/degrees/{degree_id}": 1}
        assert _degrees(emulator) == [("100485", "03")]


def test_a_degree_correction_sent_again_as_it_was_is_not_held_back(tmp_path: Path) -> None:
    """The same PUT sent again writes what the first writes, whichever lands last (§2.10): sent at once."""
    row = trainee(1)
    corrected = write_extract(tmp_path / "d1.csv", [{**row, "degree_grade": "01"}])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        _killed_while_out(emulator, "update_degree", corrected, options)
        again = _sync(corrected, options, "again")
        assert [(r.plan.action, r.outcome) for r in again.results] == [("update", "done")], again.summary_line()
        assert again.exit_code == 0
        assert emulator.carry_out_held() == 1
        assert _degrees(emulator) == [("100485", "01")]


def test_a_placement_delete_left_unanswered_is_noted_and_settled_when_sent_again(tmp_path: Path) -> None:
    """review115 F1: a DELETE was not noted while out, so no later run could know it might still land. Noted now; the
    same DELETE sent again, answered, leaves nothing out (the placement is gone: the first can change nothing). From a
    HESA extract, which holds every placement (a Register CSV deletes none it lacks)."""
    row = hesa_trainee(1, placements=2)
    removed = write_hesa_csv(tmp_path / "p1.csv", [{**row, "F_PLMNTSCH_2": ""}])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        assert sync_files([str(write_hesa_csv(tmp_path / "p0.csv", [row]))], options).exit_code == 0
        _killed_while_out(emulator, "delete_placement", removed, options)
        assert _unanswered(tmp_path) == ["delete_placement"]
        again = _sync(removed, options, "again")
        assert [(r.plan.action, r.outcome) for r in again.results] == [("update", "done")], again.summary_line()
        assert _writes(again) == {"DELETE /trainees/{trainee_id}/placements/{placement_id}": 1}
        assert _unanswered(tmp_path) == []
        assert emulator.carry_out_held() == 1


def _put_back_while_out(
    emulator: Any, tmp_path: Path, method: str, rows: tuple[dict[str, Any], dict[str, Any]], why: str
) -> SyncResult:
    """review115 F3: a sync of `rows[1]` killed while its `method` request is out, then the SRS puts the record back
    as `rows[0]`, synced before, and the next run starts at once. It sends nothing (Register still holds the record
    as the extract says) and was done, exit 0; the earlier request then landed. Now: unknown, exit 3, said so (`why`);
    once the request landed and the wait is over, the run after it puts Register right. Returns that run."""
    first, changed = rows
    write = write_hesa_csv if "F_HUSID" in first else write_extract
    options = sync_options(emulator, tmp_path, TOKEN)
    assert sync_files([str(write(tmp_path / "first.csv", [first]))], options).exit_code == 0
    _killed_while_out(emulator, method, write(tmp_path / "changed.csv", [changed]), options)
    back = write(tmp_path / "back.csv", [first])
    dry = _sync(back, options, "dry", dry_run=True)
    assert [why in (r.plan.waits or "") for r in dry.results] == [True], [r.plan.waits for r in dry.results]
    again = _sync(back, options, "again")
    assert [(r.plan.action, r.outcome) for r in again.results] == [("unchanged", "unknown")], again.summary_line()
    assert again.exit_code == 3 and again.results[0].errors[0].startswith(why), again.results[0].errors
    assert again.summary_line().startswith("1 record: 1 unknown (run the same sync again after "), again.summary_line()
    assert dry.summary_line().startswith("1 record: 1 would wait until "), dry.summary_line()
    assert _writes(again) == {}
    assert emulator.carry_out_held() == 1  # the held request is carried out
    minutes_pass(tmp_path / "state", 11)
    after = _sync(back, options, "after")
    assert [(r.plan.action, r.outcome) for r in after.results] == [("update", "done")], after.summary_line()
    assert after.exit_code == 0
    return after


def test_a_record_put_back_while_its_update_is_out_is_left_unknown(tmp_path: Path) -> None:
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        changed = {**row, "email": "x5@example.com"}
        _put_back_while_out(emulator, tmp_path, "update_trainee", (row, changed), "an update of trainee ")
        assert _trainee(emulator)["email"] == row["email"]


def test_a_degree_put_back_while_its_correction_is_out_is_left_unknown(tmp_path: Path) -> None:
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        changed = {**row, "degree_grade": "01"}
        why = "a correction of a degree of trainee "
        after = _put_back_while_out(emulator, tmp_path, "update_degree", (row, changed), why)
        assert _writes(after) == {"PUT /trainees/{trainee_id}/degrees/{degree_id}": 1}
        assert _degrees(emulator) == [("100485", "02")]


def test_a_placement_put_back_while_its_delete_is_out_is_left_unknown(tmp_path: Path) -> None:
    """The review's DELETE case: the late DELETE removed the placement the extract has again, after an exit-0 run."""
    row = hesa_trainee(1, placements=2)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        changed = {**row, "F_PLMNTSCH_2": ""}
        why = "a request deleting a placement of trainee "
        after = _put_back_while_out(emulator, tmp_path, "delete_placement", (row, changed), why)
        assert _writes(after) == {"POST /trainees/{trainee_id}/placements": 1}


@pytest.mark.parametrize(
    ("method", "changes"),
    [
        ("update_trainee", {"email": "x5@example.com"}),
        ("update_degree", {"degree_grade": "01"}),
        # review120 F1: the update the record would send now leaves out the nationality Register holds since (a PUT
        # naming one replaces every one, compare.update_body), so it was not the update out, which sent it: held.
        ("update_trainee", {"nationality": "FR"}),
    ],
    ids=["update", "degree", "nationality"],
)
def test_a_write_that_landed_before_the_rerun_does_not_hold_it(
    tmp_path: Path, method: str, changes: dict[str, str]
) -> None:
    """The killed run's request was carried out before the next run, and the extract is as it sent it: landing again
    (another copy still out) writes what Register holds, so the record is done, exit 0, not held for the wait."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        changed = write_extract(tmp_path / "changed.csv", [{**row, **changes}])
        _killed_while_out(emulator, method, changed, options)
        assert emulator.carry_out_held() == 1  # carried out
        again = _sync(changed, options, "again")
        assert [(r.plan.action, r.outcome) for r in again.results] == [("unchanged", "done")], again.summary_line()
        assert again.exit_code == 0
        assert _writes(again) == {}


def _elsewhere(result: SyncResult) -> list[dict[str, Any]]:
    """report.json's `unanswered_elsewhere` of a run: the writes it names for records the extract lacks."""
    return json.loads(result.report_paths["json"].read_text())["unanswered_elsewhere"]


def test_an_unanswered_update_of_a_record_whose_husid_was_corrected_since_is_the_records(tmp_path: Path) -> None:
    """review115 F2: the update went unanswered (a run killed while it was out), then the SRS corrected the record's
    HUSID. The record is matched by its SRS id to the same trainee, yet every run after named the update as "never
    answered, for a record not in the extract", for good. It is the record's: held back while it may still land (by
    the trainee), then named on the record and settled once the record is done."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        options = _synced(emulator, tmp_path, row)
        first = write_extract(tmp_path / "u1.csv", [{**row, "last_name": "Firstfix"}])
        _killed_while_out(emulator, "update_trainee", first, options)
        corrected = write_extract(
            tmp_path / "u2.csv", [{**row, "last_name": "Secondfix", "hesa_id": f"{int(row['hesa_id']) + 83}"}]
        )
        held = _sync(corrected, options, "held")
        assert [(r.plan.action, r.outcome) for r in held.results] == [("update", "unknown")], held.summary_line()
        assert _elsewhere(held) == [] and "never answered" not in held.summary_line()
        assert emulator.carry_out_held() == 1  # the held update lands
        minutes_pass(tmp_path / "state", 11)
        after = _sync(corrected, options, "after")
        assert [(r.plan.action, r.outcome) for r in after.results] == [("update", "done")], after.summary_line()
        assert _elsewhere(after) == [] and "never answered" not in after.summary_line()
        assert after.exit_code == 0
        again = _sync(corrected, options, "again")
        assert [(r.plan.action, r.outcome) for r in again.results] == [("unchanged", "done")], again.summary_line()
        assert _elsewhere(again) == [] and again.exit_code == 0
        assert again.results[0].warnings() == []
        assert _trainee(emulator)["last_name"] == "Secondfix"


@pytest.mark.parametrize("landed", [True, False], ids=["landed", "still-out"])
def test_a_placement_added_is_not_held_by_a_delete_that_cannot_remove_it(tmp_path: Path, landed: bool) -> None:
    """review120 F2: an unanswered DELETE of a placement held every placement the trainee's record added for 10
    minutes (exit 3), though Register no longer listed the placement it deletes (it landed: it can change nothing), or
    the placement it deletes is at another school than the one added (a DELETE goes by id, §2.11)."""
    row = hesa_trainee(1, placements=2)
    removed = {**row, "F_PLMNTSCH_2": ""}
    with _synced_after_one_out(
        tmp_path, row, "delete_placement", removed, {**removed, "F_PLMNTSCH_3": "100000"}, landed=landed
    ) as (emulator, again):
        assert [(r.plan.action, r.outcome) for r in again.results] == [("update", "done")], again.summary_line()
        assert again.exit_code == 0
        deleted = {} if landed else {"DELETE /trainees/{trainee_id}/placements/{placement_id}": 1}
        assert _writes(again) == {"POST /trainees/{trainee_id}/placements": 1, **deleted}
        assert emulator.carry_out_held() == (0 if landed else 1)
        [held] = _held(emulator)
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            urns = sorted(p["urn"] for p in client.list_placements(held["trainee_id"]))
        assert urns == ["100000", row["F_PLMNTSCH_1"]]


@pytest.mark.parametrize("landed", [True, False], ids=["landed", "still-out"])
def test_a_degree_corrected_is_not_held_by_a_delete_of_another_degree(tmp_path: Path, landed: bool) -> None:
    """review120 F2: an unanswered DELETE of a degree held a correction of the trainee's other degree for 10 minutes
    (exit 3), though it deletes that other degree by its id (§2.10), or has already been carried out."""
    row = hesa_trainee(1, degrees=2)
    removed = {**row, **{f"{tag}_2": "" for tag in DEGREE_TAGS}}
    with _synced_after_one_out(
        tmp_path, row, "delete_degree", removed, {**removed, "F_DEGCLSS_1": "03"}, landed=landed
    ) as (emulator, again):
        assert [(r.plan.action, r.outcome) for r in again.results] == [("update", "done")], again.summary_line()
        assert again.exit_code == 0
        deleted = {} if landed else {"DELETE /trainees/{trainee_id}/degrees/{degree_id}": 1}
        assert _writes(again) == {"PUT /trainees/{trainee_id}/degrees/{degree_id}": 1, **deleted}
        assert emulator.carry_out_held() == (0 if landed else 1)
        assert _degrees(emulator) == [(row["F_DEGSBJ1_1"], "03")]


@pytest.mark.parametrize("landed", [True, False], ids=["landed", "still-out"])
def test_a_degree_corrected_is_not_held_by_a_correction_of_another_degree_as_the_record_has_it(
    tmp_path: Path, landed: bool
) -> None:
    """review120 F3: an unanswered PUT of the trainee's first degree, which sent that degree as the record still has
    it, held a correction of its second degree for 10 minutes (exit 3): landing (again) it writes what the record
    says, and it cannot undo the other degree's correction (§2.10: a degree's PUT writes the degree it is sent to)."""
    row = hesa_trainee(1, degrees=2)
    first = {**row, "F_DEGCLSS_1": "03"}
    with _synced_after_one_out(
        tmp_path, row, "update_degree", first, {**first, "F_DEGCLSS_2": "05"}, landed=landed
    ) as (emulator, again):
        assert [(r.plan.action, r.outcome) for r in again.results] == [("update", "done")], again.summary_line()
        assert again.exit_code == 0
        assert _writes(again) == {"PUT /trainees/{trainee_id}/degrees/{degree_id}": 1 if landed else 2}
        assert emulator.carry_out_held() == (0 if landed else 1)
        assert _degrees(emulator) == sorted([(row["F_DEGSBJ1_1"], "03"), (row["F_DEGSBJ1_2"], "05")])


def test_a_placement_added_at_the_school_of_one_whose_delete_is_out_is_held_back(tmp_path: Path) -> None:
    """Guard for review120 F2: the DELETE still out removes the placement Register lists at the school of the one this
    record adds (a second spell there, §2.11: no duplicate check); landing after the add, it would leave one spell
    where the record has two. Held back, as before."""
    row = hesa_trainee(1, placements=2)
    removed = {**row, "F_PLMNTSCH_2": ""}
    with _synced_after_one_out(
        tmp_path, row, "delete_placement", removed, {**row, "F_PLMNTSCH_3": row["F_PLMNTSCH_2"]}
    ) as (emulator, again):
        assert [r.outcome for r in again.results] == ["unknown"] and again.exit_code == 3, again.summary_line()
        assert again.results[0].errors[0].startswith("a request deleting a placement of trainee ")
        assert _writes(again) == {}
        assert emulator.carry_out_held() == 1


def test_a_degree_corrected_is_held_back_by_a_delete_of_that_degree_still_out(tmp_path: Path) -> None:
    """Guard for review120 F2: the DELETE still out removes the very degree the record, which has it back, now
    corrects (§2.10: a DELETE by its id); landing after the PUT, it would leave the trainee without it. Held back."""
    row = hesa_trainee(1, degrees=2)
    removed = {**row, **{f"{tag}_2": "" for tag in DEGREE_TAGS}}
    back = {**row, "F_DEGCLSS_2": "05"}
    with _synced_after_one_out(tmp_path, row, "delete_degree", removed, back) as (emulator, again):
        assert [r.outcome for r in again.results] == ["unknown"] and again.exit_code == 3, again.summary_line()
        assert again.results[0].errors[0].startswith("a request deleting a degree of trainee ")
        assert _writes(again) == {}
        assert emulator.carry_out_held() == 1
