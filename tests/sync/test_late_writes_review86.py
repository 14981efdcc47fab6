"""A write of a run that died before its answer, which Register carried out late: after the next run listed
Register, just before that run sent the same write again (review86). Register answers the resend 409 (a create) or
422 (a withdrawal or deferral already held), and the report must say the sync wrote it: it said a trainee Register
had (`unchanged`, no report ever naming the create), or a withdrawal "made in Register's service".

The run that dies is simulated as test_sync_chaos.py does: its client ends the process (a BaseException the sync
cannot report) at its write, before the request reaches Register, with the ledger as a SIGKILL leaves it. The request
reaches Register later all the same: just before the next run's request to the same route, as Register finishing a
slow request would.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from emulated import AS_OF, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.emulator.app import Request, token_digest
from register_batch.sync import sync_files
from register_batch.sync.ledger import Ledger
from trainee_extracts import WITHDRAWN, trainee, write_extract

TOKEN = "late-writes-provider-token-0001"


class _Died(BaseException):
    """The process ended there."""


def _client_dying_at(url: str, method: str, suffix: str, held: list[tuple[str, bytes]], nth: int = 1) -> RegisterClient:
    """A client whose process dies as it sends its `nth` `method` request to a path ending in `suffix`: the request
    (path, body) is kept in `held`, for Register to carry out later."""
    seen = []

    class Dying(RegisterClient):
        def _once(self, method_, path, route, body, params, auth, expect=None):
            if method_ == method and path.endswith(suffix) and not held:
                seen.append(path)
                if len(seen) == nth:
                    held.append((path, json.dumps(body).encode()))
                    raise _Died()
            return super()._once(method_, path, route, body, params, auth, expect)

    return Dying(url, TOKEN, limiter=RateLimiter(100_000, 1), timeout=5.0)


def _carried_out_late(emulator: Any, held: list[tuple[str, bytes]]) -> list[int]:
    """Register carries the held request out just before the next request to its path: the statuses of the two."""
    handle = emulator.app.handle
    statuses: list[int] = []

    def handled(request: Request, resolved: Any) -> Any:
        if held and request.method == "POST" and request.path.endswith(held[0][0].rsplit("/api/v2026.1", 1)[-1]):
            _path, body = held.pop()
            late = Request(method="POST", path=request.path, headers=request.headers, body=body)
            statuses.append(handle(late, resolved).status)
            response = handle(request, resolved)
            statuses.append(response.status)
            return response
        return handle(request, resolved)

    emulator.app.handle = handled
    return statuses


def _sync(emulator: Any, tmp_path: Path, extract: Path, client: RegisterClient | None = None) -> Any:
    options = sync_options(emulator, tmp_path, TOKEN, timeout=5.0, report_dir=tmp_path / "reports")
    try:
        return sync_files([str(extract)], options, client=client)
    except _Died:
        return None


def _died_creating_the_fifth(emulator: Any, tmp_path: Path, rows: list[dict[str, Any]]) -> tuple[Path, list]:
    """The first four trainees synced; then a run of all five that dies as its create of the fifth goes out: the
    extract, and that create (path, body) held."""
    assert _sync(emulator, tmp_path, write_extract(tmp_path / "four.csv", rows[:4])).exit_code == 0
    five = write_extract(tmp_path / "five.csv", rows)
    held: list[tuple[str, bytes]] = []
    assert _sync(emulator, tmp_path, five, _client_dying_at(emulator.url, "POST", "/trainees", held)) is None
    assert held  # the create was going out when the run died
    return five, held


def _late_create_of_the_fifth_changed(emulator: Any, tmp_path: Path, rows: list[dict[str, Any]], **changed: str):
    """The run that dies creating the fifth; then the next extract, the fifth's record changed (`changed`), whose run
    meets that create carried out late: (the extract, the statuses of the late create and of the run's resend)."""
    _five, held = _died_creating_the_fifth(emulator, tmp_path, rows)
    extract = write_extract(tmp_path / "changed.csv", [*rows[:4], {**rows[4], **changed}])
    return extract, _carried_out_late(emulator, held)


def test_a_create_carried_out_after_its_run_died_is_reported_as_created_by_the_next(tmp_path):
    """review86 F1: the next run's resend met it as 409 and reported the record `unchanged`, as a trainee Register
    had; no report ever named the create."""
    rows = [trainee(n) for n in range(1, 6)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=5) as emulator:
        five, held = _died_creating_the_fifth(emulator, tmp_path, rows)
        statuses = _carried_out_late(emulator, held)
        result = _sync(emulator, tmp_path, five)
        assert statuses == [201, 409]  # the late create, then this run's resend
        assert result.exit_code == 0
        [fifth] = [r for r in result.results if r.plan.hesa_id == rows[4]["hesa_id"]]
        assert (fifth.plan.action, fifth.outcome, fifth.created) == ("create", "done", True)
        assert "1 created" in result.summary_line()
        assert emulator.snapshot()["trainees"] == 5  # each once


@pytest.mark.parametrize("kind,path", [("withdraw", "/withdraw"), ("defer", "/defer")])
def test_a_withdrawal_or_deferral_carried_out_after_its_run_died_is_not_said_made_in_registers_service(
    tmp_path, kind, path
):
    """review86 F2: the next run's resend got 422 (held already), and its report said the withdrawal was made in
    Register's service after the run listed the trainee (sync_found_done): the sync's own run had sent it."""
    rows = [trainee(n) for n in range(1, 4)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=6) as emulator:
        assert _sync(emulator, tmp_path, write_extract(tmp_path / "first.csv", rows)).exit_code == 0
        changed = {"withdraw": WITHDRAWN, "defer": {"defer_date": "2026-02-01", "defer_reason": "health"}}[kind]
        left = write_extract(tmp_path / "left.csv", [{**rows[0], **changed}, *rows[1:]])
        held: list[tuple[str, bytes]] = []
        assert _sync(emulator, tmp_path, left, _client_dying_at(emulator.url, "POST", path, held)) is None
        assert held
        statuses = _carried_out_late(emulator, held)
        result = _sync(emulator, tmp_path, left)
        assert statuses == [200, 422]
        assert result.exit_code == 0
        [first] = [r for r in result.results if r.plan.hesa_id == rows[0]["hesa_id"]]
        assert (first.plan.action, first.outcome) == (kind, "done")
        assert [code for code, _message in first.warnings()] == []  # no sync_found_done
        again = _sync(emulator, tmp_path, left)
        assert {r.plan.action for r in again.results} == {"unchanged"}


def test_the_earlier_creates_note_is_kept_so_a_later_update_that_would_unguard_it_waits(tmp_path):
    """review89 F1: the 409 let go of the record's unanswered create notes, also of one still out; the next run then
    sent at once an update changing what Register's duplicate check compares (a surname), and the create still out
    made the trainee a second time. Only the report is told now: the update waits out the note."""
    rows = [trainee(n) for n in range(1, 6)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7) as emulator:
        five, held = _died_creating_the_fifth(emulator, tmp_path, rows)
        statuses = _carried_out_late(emulator, held)
        assert _sync(emulator, tmp_path, five).exit_code == 0 and statuses == [201, 409]
        renamed = write_extract(tmp_path / "renamed.csv", [*rows[:4], {**rows[4], "last_name": "Webster-Jones"}])
        later = _sync(emulator, tmp_path, renamed)
        [fifth] = [r for r in later.results if r.plan.hesa_id == rows[4]["hesa_id"]]
        assert fifth.outcome != "done" and "Register may still carry it out" in " ".join(fifth.errors)
        assert emulator.snapshot()["trainees"] == 5


def test_a_trainee_added_in_registers_service_meanwhile_is_not_claimed_as_the_syncs_create(tmp_path):
    """review89 F2: a killed run's create never reached Register; a colleague added the person in Register's service
    (no HUSID, no SRS id) before the next run's create, whose 409 named that trainee. It was reported as the sync's
    create ("1 created"), as created after the earlier create was sent. A create the sync sent carries the record's
    HUSID and SRS id: one without them is a trainee Register had."""
    rows = [trainee(n) for n in range(1, 6)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=8) as emulator:
        five, held = _died_creating_the_fifth(emulator, tmp_path, rows)
        handle, store = emulator.app.handle, emulator.app.store

        def by_hand(request: Request, resolved: Any) -> Any:
            if held and request.method == "POST" and request.path.endswith("/trainees"):
                _path, body = held.pop()  # never carried out; the person added by hand in its place
                made = handle(Request(method="POST", path=request.path, headers=request.headers, body=body), resolved)
                assert made.status == 201
                with store.transaction():
                    provider = store.provider_by_token_hash(token_digest(TOKEN))
                    trainee_row = store.trainee(provider["id"], json.loads(made.body)["data"]["trainee_id"])
                    trainee_row["fields"] = {
                        k: v for k, v in trainee_row["fields"].items() if k not in ("hesa_id", "provider_trainee_id")
                    }
                    store.save_trainee(trainee_row)
            return handle(request, resolved)

        emulator.app.handle = by_hand
        result = _sync(emulator, tmp_path, five)
        [fifth] = [r for r in result.results if r.plan.hesa_id == rows[4]["hesa_id"]]
        assert not fifth.created and fifth.plan.action != "create", (fifth.plan.action, fifth.outcome)
        assert "created" not in result.summary_line()


def test_a_create_carried_out_late_is_the_syncs_also_when_the_records_husid_was_corrected_in_between(tmp_path):
    """review89 F3 (review86 F1's variant): the SRS corrected the record's HUSID after the run that died. The late
    create holds the old one, so the resend's 409 named a trainee whose HUSID is not the record's: reported as a
    `conflict` (exit 1), advising to change the SRS's HUSID back. It is the sync's create: the HUSID is then corrected
    in Register by the record's update."""
    rows = [trainee(n) for n in range(1, 6)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=9) as emulator:
        corrected_husid = rows[4]["hesa_id"][:-3] + "999"
        corrected, statuses = _late_create_of_the_fifth_changed(emulator, tmp_path, rows, hesa_id=corrected_husid)
        result = _sync(emulator, tmp_path, corrected)
        assert statuses == [201, 409]
        assert result.exit_code == 0, result.summary_line()
        [fifth] = [r for r in result.results if r.plan.source.record == 5]
        assert (fifth.plan.action, fifth.outcome, fifth.created) == ("create", "done", True)
        assert "1 created" in result.summary_line() and "never answered" not in result.summary_line()
        held_now = RegisterClient(emulator.url, TOKEN).get_trainee(fifth.plan.trainee_id)
        assert held_now["hesa_id"] == corrected_husid
        assert emulator.snapshot()["trainees"] == 5
        again = _sync(emulator, tmp_path, corrected)
        assert {r.plan.action for r in again.results} == {"unchanged"}
        assert "never answered" not in again.summary_line(), again.summary_line()


def test_a_create_carried_out_late_is_the_syncs_also_when_the_records_srs_id_was_corrected_in_between(tmp_path):
    """review95 F1: as review89 F3, the SRS id corrected in place of the HUSID: the 409 named a trainee with the SRS
    id the earlier create sent, not the record's, and the record was reported as an update of a trainee Register
    had; no report ever named the create."""
    rows = [trainee(n) for n in range(1, 6)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=12) as emulator:
        corrected, statuses = _late_create_of_the_fifth_changed(
            emulator, tmp_path, rows, provider_trainee_id="99999999/1/26"
        )
        result = _sync(emulator, tmp_path, corrected)
        assert statuses == [201, 409]
        assert result.exit_code == 0, result.summary_line()
        [fifth] = [r for r in result.results if r.plan.source.record == 5]
        assert (fifth.plan.action, fifth.outcome, fifth.created) == ("create", "done", True)
        held_now = RegisterClient(emulator.url, TOKEN).get_trainee(fifth.plan.trainee_id)
        assert held_now["provider_trainee_id"] == "99999999/1/26"
        assert emulator.snapshot()["trainees"] == 5


def test_a_create_of_a_run_that_died_before_its_report_is_named_after_the_records_husid_was_corrected(
    tmp_path, open_ledger
):
    """review86 F3: a run created the fifth trainee (201) and died before its report; the SRS then corrected that
    record's HUSID. The next run matched the trainee by SRS id and sent the new HUSID, but looked the create up only by
    the record's new HUSID: no report ever said the sync created it (a create of the same run whose record kept its
    HUSID was named), and the ledger kept it unreported for good."""
    rows = [trainee(n) for n in range(1, 7)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=10) as emulator:
        assert _sync(emulator, tmp_path, write_extract(tmp_path / "four.csv", rows[:4])).exit_code == 0
        six = write_extract(tmp_path / "six.csv", rows)
        held: list[tuple[str, bytes]] = []  # the sixth's create, never carried out
        dying = _client_dying_at(emulator.url, "POST", "/trainees", held, nth=2)
        assert _sync(emulator, tmp_path, six, dying) is None and held
        assert emulator.snapshot()["trainees"] == 5  # the fifth was created before the run died
        corrected = [*rows[:4], {**rows[4], "hesa_id": rows[4]["hesa_id"][:-3] + "999"}, rows[5]]
        extract = write_extract(tmp_path / "corrected.csv", corrected)
        result = _sync(emulator, tmp_path, extract)
        assert result.exit_code == 0, result.summary_line()
        [fifth] = [r for r in result.results if r.plan.source.record == 5]
        assert fifth.plan.action == "update"
        named = dict(fifth.warnings()).get("sync_written_earlier") or ""
        assert "(create)" in named and "ended before its report" in named, fifth.warnings()
        again = _sync(emulator, tmp_path, extract)
        assert {r.plan.action for r in again.results} == {"unchanged"}
        assert not any(r.warnings() for r in again.results)  # said once
        assert open_ledger(tmp_path / "state", emulator.url).creates_unreported() == {}


def test_a_run_killed_as_it_notes_a_late_create_under_a_corrected_husid_leaves_it_to_the_next_report(
    tmp_path, monkeypatch
):
    """review94 F4: the earlier create's entry (the old HUSID's) was settled in one commit and the record's own entry
    marked created in the next: a run killed between the two left the create to no report. Both go in one commit."""
    rows = [trainee(n) for n in range(1, 6)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=11) as emulator:
        corrected_husid = rows[4]["hesa_id"][:-3] + "999"
        corrected, statuses = _late_create_of_the_fifth_changed(emulator, tmp_path, rows, hesa_id=corrected_husid)
        record = Ledger.record

        def dies_as_it_marks_the_create(self, key, status, **values):
            if values.get("created") and key == f"hesa:{corrected_husid}":
                raise _Died()
            return record(self, key, status, **values)

        monkeypatch.setattr(Ledger, "record", dies_as_it_marks_the_create)
        assert _sync(emulator, tmp_path, corrected) is None and statuses == [201, 409]
        monkeypatch.setattr(Ledger, "record", record)
        result = _sync(emulator, tmp_path, corrected)
        report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
        [fifth] = [r for r in result.results if r.plan.source.record == 5]
        named_on_the_record = "(create)" in (dict(fifth.warnings()).get("sync_written_earlier") or "")
        named_elsewhere = [
            row for row in report["unanswered_elsewhere"] if row["operation"] == "create" and row["settled"] == "done"
        ]
        assert named_on_the_record or [row["hesa_id"] for row in named_elsewhere] == [rows[4]["hesa_id"]], (
            fifth.warnings(),
            report["unanswered_elsewhere"],
        )
        assert emulator.snapshot()["trainees"] == 5


def test_a_late_create_listed_before_the_next_run_is_named_on_its_record_after_a_husid_correction(tmp_path):
    """review94 F2: Register carried out the killed run's create before the next run listed it, and the SRS had
    corrected the record's HUSID. The run matched the trainee by SRS id and sent the new HUSID, but named the create as
    "1 earlier write never answered, for a record not in the extract", about that very record."""
    import httpx

    rows = [trainee(n) for n in range(1, 6)]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=13) as emulator:
        _five, held = _died_creating_the_fifth(emulator, tmp_path, rows)
        path, body = held.pop()
        late = httpx.post(
            f"{emulator.url}{path}" if path.startswith("/api") else f"{emulator.api_url}{path}",
            content=body,
            headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        )
        assert late.status_code == 201
        corrected = write_extract(
            tmp_path / "corrected.csv", [*rows[:4], {**rows[4], "hesa_id": rows[4]["hesa_id"][:-3] + "999"}]
        )
        result = _sync(emulator, tmp_path, corrected)
        assert result.exit_code == 0, result.summary_line()
        assert "never answered" not in result.summary_line(), result.summary_line()
        [fifth] = [r for r in result.results if r.plan.source.record == 5]
        named = dict(fifth.warnings()).get("sync_written_earlier") or ""
        assert "(create)" in named, fifth.warnings()
        report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
        assert report["unanswered_elsewhere"] == []
        again = _sync(emulator, tmp_path, corrected)
        assert {r.plan.action for r in again.results} == {"unchanged"}
        assert not any(r.warnings() for r in again.results) and "never answered" not in again.summary_line()
        assert emulator.snapshot()["trainees"] == 5
