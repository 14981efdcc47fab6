"""Register failing every create while its reads still answer (review163 F1): the run stops after a few creates in a
row are left unknown, as it stops at the first update Register does not answer, instead of spending three requests
on each record of the extract (an hour for a first load of 2,000) to leave every one unknown. The stop leaves every
create it sent recorded, and the next run, with Register answering again, creates each trainee exactly once.

Over 127.0.0.1 against the emulator: its fault injection is switched on for each `POST /trainees` alone (the client
below), and the counts are the emulator's own (`GET /__emulator__/stats`) and the trainees it holds."""

from __future__ import annotations

import json
from collections import Counter
from contextlib import closing

import httpx
import pytest

from emulated import AS_OF, sync_options
from outages import creates_failing
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from register_batch.sync.ledger import Ledger
from register_batch.sync.runner import CREATES_UNANSWERED
from trainee_extracts import extract

TOKEN = "creates-unanswered-token"
RECORDS = 10


@pytest.fixture
def emulator():
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7) as running:
        yield running


def routes(emulator) -> Counter:
    return Counter(httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"])


def hesa_ids(emulator) -> Counter:
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return Counter(t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=1000))


def options(emulator, tmp_path, run: int):
    return sync_options(emulator, tmp_path, TOKEN, timeout=2.0, report_dir=tmp_path / f"reports-{run}")


def stopped_run(
    emulator, tmp_path, source, faults: list[str | None], run: int = 1
) -> tuple[Interrupted, dict, Counter]:
    """A sync with every create failing: how it stopped, its report.json, and the requests it made (by route)."""
    before = routes(emulator)
    with creates_failing(emulator, faults, TOKEN) as client, pytest.raises(Interrupted) as stopped:
        sync_files([str(source)], options(emulator, tmp_path, run), client=client)
    report = json.loads((tmp_path / f"reports-{run}" / "report.json").read_text())
    return stopped.value, report, routes(emulator) - before


def outcomes(report: dict) -> Counter:
    return Counter(r["outcome"] for r in report["records"])


@pytest.mark.parametrize("fault", ["500:1.0", "reset:1.0"])
def test_every_create_failing_stops_the_run_after_a_few_and_the_next_run_creates_each_once(emulator, tmp_path, fault):
    """Every create answered 500 (or its connection reset before Register carried it out): each record got a create,
    a look-up and a create sent again, and was left unknown; the run went through the whole extract before it ended
    with exit 3. It now stops after CREATES_UNANSWERED such records, as for an update Register does not answer."""
    source = extract(tmp_path / "in.csv", RECORDS)
    stopped, report, sent = stopped_run(emulator, tmp_path, source, [fault])

    assert stopped.exit_code == 3
    assert str(stopped).startswith("Register stopped answering (POST /trainees"), str(stopped)
    assert f"{CREATES_UNANSWERED} creates in a row" in str(stopped)
    assert report["sync"]["interrupted"] is True and report["sync"]["stopped"]["by"] == "register"
    assert outcomes(report) == Counter(unknown=CREATES_UNANSWERED, pending=RECORDS - CREATES_UNANSWERED)
    # Each record stopped for: its create, the look-up, the create sent again; and the listing before them.
    assert sent["POST /trainees"] == 2 * CREATES_UNANSWERED
    assert sent["GET /trainees"] <= CREATES_UNANSWERED + 3
    assert sum(sent.values()) <= 3 * CREATES_UNANSWERED + 3
    assert hesa_ids(emulator) == Counter()
    with closing(Ledger(tmp_path / "state", emulator.url)) as ledger:
        unknown = [e for e in ledger.all() if e.status == "unknown"]
        assert len(unknown) == CREATES_UNANSWERED and all(e.operation == "create" for e in unknown)
        # Both creates of each are noted unanswered: the next run looks in Register before it writes for the record.
        assert all(len(ledger.unanswered_creates(e.key, e.provider_trainee_id)) == 2 for e in unknown)

    again = sync_files([str(source)], options(emulator, tmp_path, 2))
    assert again.exit_code == 0, again.summary_line()
    held = hesa_ids(emulator)
    assert len(held) == RECORDS and set(held.values()) == {1}


def test_a_create_sent_again_carried_out_with_its_answer_lost_is_found_by_the_next_run_not_created_twice(
    emulator, tmp_path
):
    """Each record's create answered 500, the look-up found nothing, and the create sent again was carried out with
    its answer lost (the connection closed after Register wrote it): the record is unknown while Register holds its
    trainee. The run stops after CREATES_UNANSWERED of them; the next run finds those trainees and creates only the
    rest."""
    source = extract(tmp_path / "in.csv", RECORDS)
    stopped, report, sent = stopped_run(emulator, tmp_path, source, ["500:1.0", "lost-response:1.0"])

    assert stopped.exit_code == 3 and str(stopped).startswith("Register stopped answering (POST /trainees")
    assert outcomes(report) == Counter(unknown=CREATES_UNANSWERED, pending=RECORDS - CREATES_UNANSWERED)
    assert sent["POST /trainees"] == 2 * CREATES_UNANSWERED
    landed = hesa_ids(emulator)
    assert len(landed) == CREATES_UNANSWERED and set(landed.values()) == {1}

    before = routes(emulator)
    again = sync_files([str(source)], options(emulator, tmp_path, 2))
    assert again.exit_code == 0, again.summary_line()
    assert (routes(emulator) - before)["POST /trainees"] == RECORDS - CREATES_UNANSWERED
    held = hesa_ids(emulator)
    assert len(held) == RECORDS and set(held.values()) == {1}


def test_a_rerun_while_creates_still_fail_gets_past_the_records_left_unknown_before(emulator, tmp_path):
    """A rerun while Register still fails every create looks up and sends again the records the last run left
    unknown, and those do not count towards the stop: a few records Register fails on for what they hold (a 500 for
    a request of their shape, register-api.md §2.7) would otherwise stop every night's run at the same place. It
    stops after CREATES_UNANSWERED more; the run after that, with Register answering, creates each trainee once."""
    source = extract(tmp_path / "in.csv", RECORDS)
    stopped_run(emulator, tmp_path, source, ["500:1.0"])
    stopped, report, sent = stopped_run(emulator, tmp_path, source, ["500:1.0"], run=2)

    assert stopped.exit_code == 3 and str(stopped).startswith("Register stopped answering (POST /trainees")
    assert outcomes(report) == Counter(unknown=2 * CREATES_UNANSWERED, pending=RECORDS - 2 * CREATES_UNANSWERED)
    assert sent["POST /trainees"] == 2 * 2 * CREATES_UNANSWERED

    again = sync_files([str(source)], options(emulator, tmp_path, 3))
    assert again.exit_code == 0, again.summary_line()
    held = hesa_ids(emulator)
    assert len(held) == RECORDS and set(held.values()) == {1}


def test_one_record_whose_create_fails_does_not_stop_the_run(emulator, tmp_path):
    """A create Register fails for that record alone (answered 500 twice), between creates it answers: the record is
    left unknown and the run goes on to finish the rest (exit 3 for the one unknown), as before."""
    source = extract(tmp_path / "in.csv", RECORDS)
    faults = [None, None, "500:1.0", "500:1.0", *[None] * 20]  # the third record's create and its resend

    with creates_failing(emulator, faults, TOKEN) as client:
        result = sync_files([str(source)], options(emulator, tmp_path, 1), client=client)
    assert result.outcomes == Counter(done=RECORDS - 1, unknown=1), result.summary_line()
    assert len(hesa_ids(emulator)) == RECORDS - 1
