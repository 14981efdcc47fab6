"""The week after a migration, against the emulator over 127.0.0.1 (review180): a change made in Register's service
since this state dir last synced a trainee, whose record the SRS did not change, is put back by the sync, and the
report says so (sync_overwrites_register_edit, F1); the trainees in Register but not in the extract are told apart by
whether this state dir synced them before (not_in_extract's `last_synced`, F2); a dry run's report does not say that
records were created or updated (F5)."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import httpx

from emulated import SYNC_TESTS_TOKEN
from trainee_extracts import WITHDRAWN, trainee, write_extract

CODE = "sync_overwrites_register_edit"


def _in_register(register: Any, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """Someone's change in Register's service (another client of its API), not the sync's."""
    response = httpx.request(
        method,
        f"{register.emulator.api_url}{path}",
        json=None if body is None else {"data": body},
        headers={"Authorization": f"Bearer {SYNC_TESTS_TOKEN}"},
    )
    assert response.status_code in (200, 201, 204), response.text
    return response.json() if response.content else {}


def _by_husid(register: Any) -> dict[str, dict[str, Any]]:
    return {t["hesa_id"]: t for t in register.trainees(2025)}


def _edit_warnings(result: Any) -> dict[str, str]:
    """HUSID -> the message of its sync_overwrites_register_edit warning."""
    return {r.plan.hesa_id: message for r in result.results for code, message in r.warnings() if code == CODE}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_a_change_made_in_register_is_put_back_and_said(register, tmp_path):
    rows = [trainee(n) for n in range(1, 5)]
    first = register.sync(write_extract(tmp_path / "night-1.csv", rows))
    assert first.results and all(r.plan.action == "create" for r in first.results)
    assert _edit_warnings(first) == {}  # a first sync: nothing to tell
    held = _by_husid(register)
    one, two, three = (rows[n]["hesa_id"] for n in range(3))
    # Register's service: a surname corrected for trainee 1 and trainee 2; trainee 3 touched with its own email (no
    # value changes, but Register derives its diversity disclosure again from what the update sent).
    _in_register(register, "PATCH", f"/trainees/{held[one]['trainee_id']}", {"last_name": "Married-Name"})
    _in_register(register, "PATCH", f"/trainees/{held[two]['trainee_id']}", {"last_name": "Register-Side"})
    _in_register(register, "PATCH", f"/trainees/{held[three]['trainee_id']}", {"email": rows[2]["email"]})
    # The SRS changed trainee 2's email since (review180's Lucy Baker: surname changed in Register, email in the SRS):
    # the surname is still put back, and said; the email is the SRS's later word, not named (review185 F1).
    rows[1] = {**rows[1], "email": "new.address@example.com"}
    night_2 = write_extract(tmp_path / "night-2.csv", rows)

    dry = register.sync(night_2, dry_run=True)
    actions = {r.plan.hesa_id: r.plan.action for r in dry.results}
    assert actions == {one: "update", two: "update", three: "update", rows[3]["hesa_id"]: "unchanged"}
    warned = _edit_warnings(dry)
    assert list(warned) == [one, two], warned  # not 3 (derived fields alone)
    assert warned[one].startswith("Register's trainee was changed since this state dir last synced it (20"), warned
    assert " UTC), in what the extract has not changed since: this sync would put" in warned[one], warned
    assert "this sync would put the extract's values back (last_name)" in warned[one]
    assert warned[one].endswith("To keep Register's value, make the change in the SRS")
    assert warned[two] == warned[one]  # the surname alone: not the email, which the SRS changed
    assert f"2 warnings (2 {CODE})" in dry.summary_line(), dry.summary_line()
    report = register.report()
    issues = [i for i in report["issues"] if i["code"] == CODE]
    assert [(i["hesa_id"], i["field"], i["value"], i["severity"]) for i in issues] == [
        (one, "last_name", rows[0]["last_name"], "warning"),
        (two, "last_name", rows[1]["last_name"], "warning"),
    ]
    assert report["sync"]["warnings"] == {CODE: 2}
    results = {row["hesa_id"].lstrip("'"): row for row in _rows(tmp_path / "reports-2" / "results.csv")}
    assert results[one]["warnings"].startswith("Register's trainee was changed since"), results[one]
    assert "(last_name)" in results[two]["warnings"] and "email" not in results[two]["warnings"]
    assert "trainee was changed" not in results[three]["warnings"]
    html = (tmp_path / "reports-2" / "report.html").read_text()
    assert "service since this state dir&#39;s last sync, in fields the SRS has not changed" in html
    assert "A real run puts the extract&#39;s values back" in html

    real = register.sync(night_2)
    assert list(_edit_warnings(real)) == [one, two]
    assert "this sync puts the extract's values back (last_name)" in _edit_warnings(real)[one]
    assert "this sync puts the extract's values back (last_name)" in _edit_warnings(real)[two]
    assert f"2 warnings (2 {CODE})" in real.summary_line(), real.summary_line()
    now = _by_husid(register)
    assert now[one]["last_name"] == rows[0]["last_name"]  # put back
    assert now[two]["last_name"] == rows[1]["last_name"] and now[two]["email"] == "new.address@example.com"

    # Said once: the next night Register holds the extract as it says.
    again = register.sync(night_2)
    assert {r.plan.action for r in again.results} == {"unchanged"} and _edit_warnings(again) == {}


def test_a_placement_deleted_in_register_is_named_as_added_again(register, tmp_path):
    """A placement deleted in Register's service, which the record still has: added back, and said so in words (the
    field `placements[n]` alone read as if the SRS had a new one)."""
    rows = [trainee(1)]
    path = write_extract(tmp_path / "night.csv", rows)
    register.sync(path)
    held = _by_husid(register)[rows[0]["hesa_id"]]
    placement = next(p for p in held["placements"] if p.get("urn") == rows[0]["placement_2_urn"])
    _in_register(register, "DELETE", f"/trainees/{held['trainee_id']}/placements/{placement['placement_id']}")

    result = register.sync(path)
    [plan] = [r.plan for r in result.results]
    assert plan.action == "update"
    message = _edit_warnings(result)[rows[0]["hesa_id"]]
    assert "this sync puts the extract's values back (placements[" in message
    assert ": one removed in Register is added again)" in message
    back = _by_husid(register)[rows[0]["hesa_id"]]["placements"]
    assert any(p.get("urn") == rows[0]["placement_2_urn"] for p in back)
    [issue] = [i for i in register.report()["issues"] if i["code"] == CODE]
    assert issue["field"] is None  # not a field of the record's own


def test_not_a_first_sync_of_a_trainee_register_holds(register, tmp_path):
    """A trainee Register held before this state dir ever synced it: its record's update is no news of an edit."""
    row = trainee(1)
    path = write_extract(tmp_path / "night.csv", [row])
    register.sync(path)
    other = tmp_path / "other-state"
    _in_register(
        register, "PATCH", f"/trainees/{_by_husid(register)[row['hesa_id']]['trainee_id']}", {"last_name": "Elsewhere"}
    )
    result = register.sync(path, state_dir=other)
    assert [r.plan.action for r in result.results] == ["update"]
    assert _edit_warnings(result) == {}


def test_trainees_not_in_the_extract_say_whether_this_state_dir_synced_them(register, tmp_path):
    # Courses that have not ended: one whose had is not the SRS's loss (review201 F2)
    rows = [{**trainee(n), "itt_end_date": "2027-07-31"} for n in range(1, 4)]
    register.sync(write_extract(tmp_path / "night-1.csv", rows))
    # A trainee added in Register by another client (here another state dir's sync); the SRS stops sending trainee 3.
    added = trainee(9)
    # (given the token's UKPRN: a first run that only creates, into an account whose listed trainees are none of its
    # records, is otherwise refused as another provider's token would be: review212 F1)
    ukprn = register.trainees(2025)[0]["ukprn"]
    register.sync(write_extract(tmp_path / "elsewhere.csv", [added]), state_dir=tmp_path / "other-state", ukprn=ukprn)
    result = register.sync(write_extract(tmp_path / "night-2.csv", rows[:2]), dry_run=True)

    listed = _rows(tmp_path / "reports-3" / "not_in_extract.csv")
    with (tmp_path / "reports-3" / "not_in_extract.csv").open(encoding="utf-8-sig") as fh:
        header = fh.readline().strip().split(",")
    assert header == [
        "trainee_id",
        "hesa_id",
        "provider_trainee_id",
        "state",
        "trainee_start_date",
        "last_synced",
        "itt_end_date",
        "academic_cycle",
    ]
    by_husid = {row["hesa_id"].lstrip("'"): row["last_synced"].lstrip("'") for row in listed}
    assert set(by_husid) == {rows[2]["hesa_id"], added["hesa_id"]}
    assert by_husid[added["hesa_id"]] == ""
    assert by_husid[rows[2]["hesa_id"]].startswith("20") and len(by_husid[rows[2]["hesa_id"]]) == 10
    report = register.report()
    assert {t["hesa_id"]: t["last_synced"] for t in report["not_in_extract"]} == {
        rows[2]["hesa_id"]: by_husid[rows[2]["hesa_id"]],
        added["hesa_id"]: None,
    }
    line = result.summary_line()
    assert (
        "2 in Register but not in the extract (left alone; 1 synced before by this state dir, no longer sent by the "
        "SRS (2 records in this extract, 3 in the last run): check the SRS export)" in line  # a dry run
    ), line
    html = (tmp_path / "reports-3" / "report.html").read_text()
    assert 'data-synced-before="1"' in html
    assert "the SRS stopped sending it. Check your SRS export; withdraw the trainee there if they left." in html
    assert "The others this state dir never synced" in html


def test_a_dry_runs_blocked_paragraph_says_nothing_was_created_or_updated(register, tmp_path):
    rows = [trainee(1)]
    register.sync(write_extract(tmp_path / "night-1.csv", rows))
    held = _by_husid(register)[rows[0]["hesa_id"]]
    withdrawal = {
        "withdrawal_date": WITHDRAWN["withdrawal_date"],
        "reasons": [WITHDRAWN["withdrawal_reasons"]],
        "trigger": WITHDRAWN["withdrawal_trigger"],
        "future_interest": WITHDRAWN["withdrawal_future_interest"],
    }
    _in_register(register, "POST", f"/trainees/{held['trainee_id']}/withdraw", withdrawal)
    # A deferral Register cannot take: the record is blocked (a correction alone is held, review206 F1)
    changed = [{**rows[0], "email": "another@example.com", "defer_date": "2026-01-10", "defer_reason": "health"}]
    result = register.sync(write_extract(tmp_path / "night-2.csv", changed), dry_run=True)
    assert [r.plan.action for r in result.results] == ["blocked"]
    html = (tmp_path / "reports-2" / "report.html").read_text()
    assert "cannot be changed through the API." in html
    assert "was created" not in html and "was updated" not in html
    json.loads((tmp_path / "reports-2" / "report.json").read_text())  # written whole


def test_a_training_initiative_another_clients_update_cleared_is_not_said_to_be_an_edit(register, tmp_path):
    """A partial update from another client (the surname alone) makes Register clear the training initiative it was
    not sent, as a PUT does: the warning named it beside the surname, and told the data officer to "make the change
    in the SRS", clearing a funding-relevant initiative nobody changed (review193 F1). One set to another value in
    Register is named."""
    rows = [{**trainee(n), "training_initiative": "026"} for n in (1, 2)]
    night = write_extract(tmp_path / "night.csv", rows)
    register.sync(night)
    held = _by_husid(register)
    one, two = (row["hesa_id"] for row in rows)
    assert held[one]["training_initiative"] == "026"
    _in_register(register, "PUT", f"/trainees/{held[one]['trainee_id']}", {"last_name": "Married-Name"})
    _in_register(register, "PATCH", f"/trainees/{held[two]['trainee_id']}", {"training_initiative": "036"})
    assert _by_husid(register)[one]["training_initiative"] in (None, "")  # cleared by the update
    dry = register.sync(night, dry_run=True)
    warned = _edit_warnings(dry)
    assert "back (last_name). To keep" in warned[one], warned
    assert "back (training_initiative). To keep" in warned[two], warned
