"""A withdrawal or deferral Register refuses (422) because the trainee is already withdrawn or deferred: done only when
Register holds the one the record sends (a resend after a lost reply), never when someone else changed the trainee
after the run listed Register (review65 F1)."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import date

import httpx
import pytest

from emulated import sync_options
from register_batch.api import OutcomeUnknown, RateLimiter, RegisterClient, ServerError
from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from trainee_extracts import WITHDRAWN, extract, trainee, write_extract

AS_OF = date(2026, 11, 28)
TOKEN = "test-provider-token-0001"
DEFERRAL = {"defer_date": "2026-03-01", "defer_reason": "Illness"}
# Someone else's withdrawal in Register's service: another date, trigger and reason than the record's (WITHDRAWN).
OTHER_WITHDRAWAL = {
    "withdrawal_date": "2026-01-10",
    "reasons": ["stopped_responding_to_messages"],
    "trigger": "provider",
    "future_interest": "no",
}


@pytest.fixture
def emulator():
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7) as running:
        yield running


def _post_directly(emulator, trainee_id: str, route: str, body: dict) -> None:
    """Someone else's change in Register (as in its web service), not the run's."""
    response = httpx.post(
        f"{emulator.api_url}/trainees/{trainee_id}/{route}",
        json={"data": body},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 200, response.text


def _changed_first(emulator, route: str, body: dict, closed_at_end) -> RegisterClient:
    """A client whose withdrawal or deferral finds the trainee already changed by someone else (`route`, `body`)."""

    class ChangedMeanwhile(RegisterClient):
        changed = False

        def _change(self, trainee_id):
            if not self.changed:
                self.changed = True
                _post_directly(emulator, trainee_id, route, body)

        def withdraw(self, trainee_id, data):
            self._change(trainee_id)
            return super().withdraw(trainee_id, data)

        def defer(self, trainee_id, data):
            self._change(trainee_id)
            return super().defer(trainee_id, data)

    client = ChangedMeanwhile(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    return client


def _held(emulator) -> list[dict]:
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return list(client.iter_trainees(academic_cycle=2025, per_page=1000))


def _held_states(emulator) -> list[str]:
    return [t["state"] for t in _held(emulator)]


def _run(emulator, tmp_path, change: dict, client: RegisterClient):
    options = sync_options(emulator, tmp_path, TOKEN, timeout=2.0)
    sync_files([str(extract(tmp_path / "a.csv", 1))], options)  # the trainee, created
    source = write_extract(tmp_path / "b.csv", [{**trainee(1), **change}])
    return sync_files([str(source)], options, client=client)


def _blocked_with(result) -> str:
    """The one record's message, once it is seen blocked (exit 1)."""
    [only] = result.results
    assert only.outcome == "blocked" and result.exit_code == 1, result.summary_line()
    [message] = only.errors
    return message


def test_a_deferral_of_a_trainee_withdrawn_meanwhile_is_blocked_not_reported_deferred(
    emulator, tmp_path, closed_at_end
):
    client = _changed_first(emulator, "withdraw", OTHER_WITHDRAWAL, closed_at_end)
    result = _run(emulator, tmp_path, DEFERRAL, client)
    message = _blocked_with(result)
    assert "was withdrawn in Register after this run listed it, so it cannot be deferred" in message
    assert _held_states(emulator) == ["withdrawn"]


def test_a_withdrawal_held_otherwise_meanwhile_is_blocked_with_the_differences(emulator, tmp_path, closed_at_end):
    client = _changed_first(emulator, "withdraw", OTHER_WITHDRAWAL, closed_at_end)
    result = _run(emulator, tmp_path, WITHDRAWN, client)
    message = _blocked_with(result)
    assert "was withdrawn in Register after this run listed it, but not as this record says: " in message
    assert "withdrawal_date 2026-01-10 in Register, 2026-02-01 in the record" in message


def test_a_deferral_whose_answer_was_lost_while_someone_withdrew_the_trainee_is_blocked_not_done(
    emulator, tmp_path, closed_at_end
):
    """review71 M1: the look-up after a lost answer took any withdrawn trainee for a deferral carried out."""

    class LostWhileWithdrawn(RegisterClient):
        lost = False

        def defer(self, trainee_id, data):
            if not self.lost:  # someone withdraws the trainee; this deferral's answer never comes
                self.lost = True
                _post_directly(emulator, trainee_id, "withdraw", OTHER_WITHDRAWAL)
                raise OutcomeUnknown("POST", f"/trainees/{trainee_id}/defer", None, ["no answer"])
            return super().defer(trainee_id, data)

    client = LostWhileWithdrawn(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    result = _run(emulator, tmp_path, DEFERRAL, client)
    message = _blocked_with(result)
    assert "was withdrawn in Register after this run listed it, so it cannot be deferred" in message
    assert _held_states(emulator) == ["withdrawn"]
    # The next run sees the trainee as Register holds it: nothing to send, a warning, no write left unknown.
    again = sync_files([str(tmp_path / "b.csv")], sync_options(emulator, tmp_path, TOKEN, timeout=2.0))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=1), again.summary_line()
    assert "unknown" not in again.summary_line()


def test_a_deferral_refused_because_the_record_s_own_withdrawal_was_made_meanwhile_is_done(
    emulator, tmp_path, closed_at_end
):
    """review71 L1: a record with a deferral and a withdrawal, the withdrawal made in Register meanwhile as the record
    says: Register holds what the record ends in, as a plan made now would find. It was told to fill in the
    withdrawal it has."""
    same = {
        "withdrawal_date": WITHDRAWN["withdrawal_date"],
        "reasons": [WITHDRAWN["withdrawal_reasons"]],
        "trigger": WITHDRAWN["withdrawal_trigger"],
        "future_interest": WITHDRAWN["withdrawal_future_interest"],
    }
    client = _changed_first(emulator, "withdraw", same, closed_at_end)
    # Dated before the withdrawal, so that both are sent (review220 F1: one dated after it never is).
    result = _run(emulator, tmp_path, {**DEFERRAL, "defer_date": "2026-01-15", **WITHDRAWN}, client)
    assert result.exit_code == 0 and result.outcomes == Counter(done=1), result.summary_line()
    assert _held_states(emulator) == ["withdrawn"]
    # review72 L1: Register refused both: the run wrote neither, and does not say it withdrew or deferred anyone.
    [only] = result.results
    assert (only.landed, only.passed) == ([], ["defer", "withdraw"])
    line = result.summary_line()
    assert line.startswith("1 record: 1 found already done in Register; 1 warning (1 sync_found_done)."), line
    # review73 F6: its row said `defer,done` with both state changes, and nothing said they were not this run's.
    with result.report_paths["results"].open(encoding="utf-8-sig", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert (row["action"], row["outcome"], row["changes"]) == ("defer", "done", "")
    assert row["warnings"] == (
        "Register already held this record's withdrawal when this run sent its deferral and withdrawal, made in "
        "Register's service after the run listed the trainee: this run did not write them"
    )
    # Nothing left out in the ledger: the next run writes nothing and waits for nothing.
    again = sync_files([str(tmp_path / "b.csv")], sync_options(emulator, tmp_path, TOKEN, timeout=2.0))
    assert again.exit_code == 0 and again.actions == Counter(unchanged=1), again.summary_line()
    assert "unknown" not in again.summary_line()


def test_a_deferral_refused_because_the_trainee_was_withdrawn_otherwise_names_the_differences(
    emulator, tmp_path, closed_at_end
):
    client = _changed_first(emulator, "withdraw", OTHER_WITHDRAWAL, closed_at_end)
    result = _run(emulator, tmp_path, {**DEFERRAL, **WITHDRAWN}, client)
    message = _blocked_with(result)
    assert "was withdrawn in Register after this run listed it, but not as this record says: " in message
    assert "withdrawal_date 2026-01-10 in Register, 2026-02-01 in the record" in message


def _killed_as_its_deferral_went_out(emulator, tmp_path, closed_at_end) -> str:
    """A run that stopped as its deferral of the trainee went out (never carried out, its answer never came, nor the
    look-up's): the deferral is left unanswered in the ledger. Returns the trainee's id."""

    class DownAsTheDeferralGoesOut(RegisterClient):
        def defer(self, trainee_id, data):
            raise OutcomeUnknown("POST", f"/trainees/{trainee_id}/defer", None, ["no answer"])

        def get_trainee(self, trainee_id):
            raise ServerError("GET", f"/trainees/{trainee_id}", 503, ["down"])

    client = DownAsTheDeferralGoesOut(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1))
    closed_at_end(client)
    with pytest.raises(Interrupted, match="Register stopped answering"):
        _run(emulator, tmp_path, DEFERRAL, client)
    [trainee_id] = [t["trainee_id"] for t in _held(emulator)]
    return trainee_id


def test_an_earlier_runs_unanswered_deferral_is_not_said_to_have_gone_through_once_someone_withdrew_the_trainee(
    emulator, tmp_path, closed_at_end
):
    """review72 L2: a run killed as its deferral went out; before the next run, someone withdrew the trainee in
    Register's service. The next report said the deferral was written, from the withdrawn state alone."""

    trainee_id = _killed_as_its_deferral_went_out(emulator, tmp_path, closed_at_end)
    _post_directly(emulator, trainee_id, "withdraw", OTHER_WITHDRAWAL)
    again = sync_files([str(tmp_path / "b.csv")], sync_options(emulator, tmp_path, TOKEN, timeout=2.0))
    [only] = again.results
    named = dict(only.warnings()).get("sync_written_earlier") or ""
    assert not named.startswith("written to Register (defer)"), named
    assert named.startswith("may have been written to Register (defer) by sync run 2"), named
    assert named.endswith(
        "the request had no answer, and Register holds the trainee as withdrawn now, which does not tell"
    )


def test_an_earlier_runs_unanswered_deferral_is_not_said_to_have_gone_through_once_someone_deferred_it_otherwise(
    emulator, tmp_path, closed_at_end
):
    """review73 (under L2): as above, but someone deferred the trainee in Register's service, on another date than the
    record's: the report said the run's deferral was written and Register held the record as the extract says,
    beside the warning that Register's deferral is not as the record says."""

    trainee_id = _killed_as_its_deferral_went_out(emulator, tmp_path, closed_at_end)
    _post_directly(emulator, trainee_id, "defer", {"defer_date": "2026-02-15", "defer_reason": "Illness"})
    again = sync_files([str(tmp_path / "b.csv")], sync_options(emulator, tmp_path, TOKEN, timeout=2.0))
    [only] = again.results
    warned = dict(only.warnings())
    assert "sync_state_details_differ" in warned, warned
    named = warned.get("sync_written_earlier") or ""
    assert named.startswith("may have been written to Register (defer) by sync run 2"), named
    assert named.endswith(
        "the request had no answer, and Register holds the trainee as deferred now, which does not tell"
    )
