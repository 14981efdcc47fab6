"""A sync's report says when it ran and which run of its ledger it is: a report printed, or written to a --report-dir
(no dated folder name), said neither, and the report of a resumed sync did not say which run it carried on from."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import lxml.html
import pytest

from emulated import SYNC_TESTS_TOKEN as TOKEN
from emulated import sync_options
from register_batch.api import Unauthorized
from register_batch.sync import sync_files
from stub_http import fronting
from trainee_extracts import trainee, write_extract


def moment(iso: str) -> datetime:
    """A time report.json gives: ISO 8601 in UTC with its offset, to the second."""
    when = datetime.fromisoformat(iso)
    assert when.utcoffset() == timedelta(0) and iso.endswith("+00:00") and when.microsecond == 0, iso
    return when


def run_sentence(folder) -> tuple[str, list[str]]:
    """The page's sentence on the run, as read, and the moments of its <time> elements."""
    [said] = lxml.html.fromstring((folder / "report.html").read_bytes()).xpath("//p[@class='run-times']")
    return said.text_content(), [t.get("datetime") for t in said.iter("time")]


def test_a_stopped_sync_and_the_one_that_resumes_it_say_when_they_ran_and_which_run_each_is(register, tmp_path):
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 9)])
    revoked = [True]
    creates: list[int] = []

    def revoked_after_three_creates(seen, _forward):
        if revoked[0] and seen.method == "POST" and seen.path.endswith("/trainees"):
            creates.append(1)
            if len(creates) > 3:
                return 401, {"Content-Type": "application/json"}, b'{"error":"Unauthorized"}'
        return None

    with fronting(register.emulator.url, revoked_after_three_creates) as front:
        before = datetime.now(UTC).replace(microsecond=0)
        with pytest.raises(Unauthorized):
            sync_files([source], sync_options(front, tmp_path / "first", TOKEN, state_dir=tmp_path / "state"))
        after = datetime.now(UTC)
        first = json.loads((tmp_path / "first" / "reports" / "report.json").read_text(encoding="utf-8"))
        assert first["sync"]["interrupted"] and first["sync"]["outcomes"] == {"done": 3, "pending": 5}
        started, ended = moment(first["run"]["started"]), moment(first["run"]["ended"])
        assert before <= started <= ended <= after
        assert first["sync"]["run_id"] == 1 and first["sync"]["previous_run"] is None
        said, times = run_sentence(tmp_path / "first" / "reports")
        assert said.startswith("Sync run 1 (as this state folder's ledger numbers them) started ")
        assert "The run before it" not in said and times == [first["run"]["started"], first["run"]["ended"]]

        revoked[0] = False  # the token works again: the same command, run again, carries on
        done = sync_files([source], sync_options(front, tmp_path / "second", TOKEN, state_dir=tmp_path / "state"))
    assert done.exit_code == 0
    second = json.loads((tmp_path / "second" / "reports" / "report.json").read_text(encoding="utf-8"))
    assert second["sync"]["outcomes"] == {"done": 8}
    assert ended <= moment(second["run"]["started"]) <= moment(second["run"]["ended"])
    assert second["sync"]["run_id"] == 2
    # The run before, as the ledger has it: started when its report says it did.
    previous = second["sync"]["previous_run"]
    assert previous == {
        "id": 1,
        "started": first["run"]["started"],
        "ended": previous["ended"],
        "dry_run": False,
        "status": "interrupted",
        "reason": None,  # a stopped run's only (review208 F6)
        "sent": None,
    }
    assert started <= moment(previous["ended"]) <= moment(second["run"]["started"])
    said, times = run_sentence(tmp_path / "second" / "reports")
    assert said.startswith("Sync run 2 (as this state folder's ledger numbers them) started ")
    assert said.endswith(" and was interrupted: this run carries on from it."), said
    assert ", run 1, started " in said
    assert times == [second["run"]["started"], second["run"]["ended"], first["run"]["started"]]
