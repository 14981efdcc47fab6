"""GET /trainees (§2.3, §10), withdraw/defer/recommend (§2.7-§2.9), TRN allocation, degrees and placements
sub-resources (§2.10, §2.11) and how updated_at moves (§10)."""

from __future__ import annotations

import os
import sqlite3
import time

import httpx
import pytest
from emulator_helpers import AS_OF, TOKEN_A, FakeClock, client_for, trainee_body

from register_batch.emulator import start_emulator
from register_batch.emulator.serialize import timestamp

NO_TRAINEES = {"errors": [{"error": "NotFound", "message": "No trainees found"}]}
WITHDRAWAL = {
    "withdrawal_date": "2026-10-01",
    "trigger": "provider",
    "future_interest": "no",
    "reasons": ["record_added_in_error"],
}


def _people(create, count: int, **overrides) -> list[str]:
    return [create(last_name=f"Person{n:02d}", **overrides)["trainee_id"] for n in range(count)]


def test_pagination_meta_and_empty_pages(api, create):
    created = _people(create, 5)
    first = api.get("/trainees", params={"per_page": 2})
    assert first.status_code == 200
    assert first.json()["meta"] == {"current_page": 1, "total_pages": 3, "total_count": 5, "per_page": 2}
    seen = [
        t["trainee_id"]
        for page in (1, 2, 3)
        for t in api.get("/trainees", params={"per_page": 2, "page": page}).json()["data"]
    ]
    assert sorted(seen) == sorted(created) and len(set(seen)) == 5
    beyond = api.get("/trainees", params={"per_page": 2, "page": 4})
    assert (beyond.status_code, beyond.json()) == (404, NO_TRAINEES)
    assert api.get("/trainees", params={"per_page": 0}).status_code == 404
    assert api.get("/trainees", params={"per_page": "many"}).status_code == 404
    assert api.get("/trainees", params={"per_page": -3}).json()["meta"]["per_page"] == 100
    assert api.get("/trainees", params={"per_page": -1}).json()["meta"] == {
        "current_page": 1,
        "total_pages": 1,
        "total_count": 5,
        "per_page": 100,
    }
    assert api.get("/trainees", params={"page": 0}).json()["meta"]["current_page"] == 1
    assert api.get("/trainees").json()["meta"]["per_page"] == 50
    assert api.get("/trainees?per_page=1&per_page=2").json()["meta"]["per_page"] == 2  # a repeated key: the last
    # Full objects, with degrees and placements.
    assert len(first.json()["data"][0]["degrees"]) == 1 and len(first.json()["data"][0]["placements"]) == 2


def test_listing_is_per_start_cycle(api, create):
    this_cycle = create(last_name="Now")["trainee_id"]
    last_cycle = create(last_name="Before", itt_start_date="2025-09-01", itt_end_date="2026-07-31")["trainee_id"]
    assert [t["trainee_id"] for t in api.get("/trainees").json()["data"]] == [this_cycle]  # current cycle by default
    assert [t["trainee_id"] for t in api.get("/trainees", params={"academic_cycle": 2025}).json()["data"]] == [
        last_cycle
    ]
    assert api.get("/trainees", params={"academic_cycle": 2024}).json() == NO_TRAINEES
    # The cycles that exist (`AcademicCycle.for_year`): in the emulator, 2000 to the one after the current one.
    next_cycle = create(last_name="Next", itt_start_date="2027-09-01", itt_end_date="2028-07-31")["trainee_id"]
    assert [t["trainee_id"] for t in api.get("/trainees", params={"academic_cycle": 2027}).json()["data"]] == [
        next_cycle
    ]
    assert api.get("/trainees", params={"academic_cycle": 2000}).json() == NO_TRAINEES
    for missing in (1999, 2028):
        response = api.get("/trainees", params={"academic_cycle": missing})
        assert response.status_code == 422
        assert response.json()["errors"] == {"academic_cycle": [f"{missing} is not a valid academic cycle year"]}


def test_listing_parameter_errors(api):
    response = api.get(
        "/trainees",
        params={"academic_cycle": "not-a-number", "since": "2023-13-01", "status": "invalid_state", "sort_order": "up"},
    )
    assert response.status_code == 422
    assert response.json() == {
        "message": "Validation failed: 4 errors prohibited this request being run",
        "errors": {
            "academic_cycle": ["not-a-number is not a valid academic cycle year"],
            "since": ["2023-13-01 is not a valid date"],
            "status": ["invalid_state is not a valid status"],
            "sort_order": ["is not included in the list"],
        },
    }
    one = api.get("/trainees", params={"status": "busy"}).json()
    assert one["message"] == "Validation failed: 1 error prohibited this request being run"


def test_blank_listing_parameters_are_as_if_absent(api, create):
    # A blank has_trn is ignored (§2.3), not "anything but true"; the other blank filters are not checked, so
    # they filter nothing (this trainee has its TRN at once and starts in the current cycle).
    trainee_id = create()["trainee_id"]
    for name in ("academic_cycle", "since", "status", "sort_order", "has_trn"):
        for blank in ("", " "):
            response = api.get("/trainees", params={name: blank})
            assert response.status_code == 200, (name, blank, response.text)
            assert [t["trainee_id"] for t in response.json()["data"]] == [trainee_id]


def test_listing_numbers_are_read_as_rubys_to_i_reads_them(api, create):
    """`AcademicCycle.for_year(value.to_i)` (§2.3): Ruby's `to_i` reads ASCII digits only, so a full-width year is
    0 (no such cycle) and a full-width per_page is 0 (no trainees)."""
    create()
    response = api.get("/trainees", params={"academic_cycle": "２０２６"})
    assert (response.status_code, response.json()["errors"]) == (
        422,
        {"academic_cycle": ["２０２６ is not a valid academic cycle year"]},
    )
    assert api.get("/trainees", params={"academic_cycle": " 2026"}).status_code == 200
    assert api.get("/trainees", params={"per_page": "５"}).json() == NO_TRAINEES


def test_since_is_inclusive_and_sort_order_asc(emulator, api, create):
    ids = _people(create, 3)
    updated = [api.get(f"/trainees/{i}").json()["updated_at"] for i in ids]
    time.sleep(0.005)
    api.put(f"/trainees/{ids[0]}", json={"data": {"first_names": "Changed"}})
    newest = api.get(f"/trainees/{ids[0]}").json()["updated_at"]
    assert newest > max(updated)
    ascending = api.get("/trainees", params={"sort_order": "asc"}).json()["data"]
    assert ascending[-1]["trainee_id"] == ids[0]
    assert [t["updated_at"] for t in ascending] == sorted(t["updated_at"] for t in ascending)
    descending = api.get("/trainees").json()["data"]
    assert descending[0]["trainee_id"] == ids[0]
    assert api.get("/trainees", params={"sort_order": "desc"}).json()["data"] == descending  # the default, said
    # `since` equal to a returned (millisecond) updated_at includes that record (§10).
    since = api.get("/trainees", params={"since": newest, "sort_order": "asc"}).json()["data"]
    assert [t["trainee_id"] for t in since] == [ids[0]]
    assert api.get("/trainees", params={"since": "2099-01-01"}).json() == NO_TRAINEES
    assert len(api.get("/trainees", params={"since": "2026-01-01"}).json()["data"]) == 3


def test_since_reads_an_offset_and_takes_a_time_without_one_as_utc():
    # §2.3: `DateTime.iso8601`, offset-less values are UTC; a space for the `T` is not ISO 8601.
    clock = FakeClock(1_792_058_400.0)  # 2026-10-15T10:00:00Z
    with (
        start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, clock=clock) as emulator,
        client_for(emulator) as client,
    ):
        trainee_id = client.post("/trainees", json=trainee_body()).json()["data"]["trainee_id"]
        assert client.get(f"/trainees/{trainee_id}").json()["updated_at"] == "2026-10-15T10:00:00.000Z"

        def listed(since: str) -> list[str]:
            response = client.get("/trainees", params={"since": since})
            return [t["trainee_id"] for t in response.json()["data"]] if response.status_code == 200 else []

        assert listed("2026-10-15T10:30:00+01:00") == [trainee_id]  # 09:30 UTC
        assert listed("2026-10-15T10:30:00Z") == listed("2026-10-15T10:30:00") == []
        assert listed("2026-10-15T09:30:00") == [trainee_id]
        assert listed("2026-10-15t09:30:00z") == [trainee_id]  # Ruby's pattern ignores case; --since takes a z
        for unread in ("2026-10-15X09:30:00", "2026-10-15T09", "2026-10-15T0930"):  # Python would read them
            refused = client.get("/trainees", params={"since": unread})
            assert refused.status_code == 422
            assert refused.json()["errors"] == {"since": [f"{unread} is not a valid date"]}
        spaced = client.get("/trainees", params={"since": "2026-10-15 09:30:00"})
        assert (spaced.status_code, spaced.json()["errors"]) == (
            422,
            {"since": ["2026-10-15 09:30:00 is not a valid date"]},
        )


def test_status_and_has_trn_filters():
    with start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, trn_delay=3600) as slow:
        client = httpx.Client(base_url=slow.api_url, headers={"Authorization": f"Bearer {TOKEN_A}"})
        started = client.post("/trainees", json=trainee_body(last_name="Started")).json()["data"]["trainee_id"]
        future = client.post(
            "/trainees", json=trainee_body(last_name="Future", itt_start_date="2027-01-05", itt_end_date="2027-12-31")
        ).json()["data"]["trainee_id"]

        def ids(**params) -> list[str]:
            response = client.get("/trainees", params=params)
            return sorted(t["trainee_id"] for t in response.json()["data"]) if response.status_code == 200 else []

        assert ids(status="in_training") == [started]
        assert ids(status="course_not_yet_started") == [future]
        assert ids(**{"status[]": ["in_training", "course_not_yet_started"]}) == sorted([started, future])
        assert ids(**{"status[]": ["bogus"]}) == []
        assert ids(status="deferred") == []
        assert ids(has_trn="true") == []
        assert ids(has_trn="false") == ids(has_trn="1") == sorted([started, future])  # anything but "true" (§2.3)
        client.post(f"/trainees/{started}/defer", json={"data": {"defer_date": "2026-10-01"}})
        assert ids(status="deferred") == [started]
        client.close()


def test_trn_arrives_later_and_moves_updated_at():
    clock_value = [1_790_000_000.0]
    with start_emulator(
        tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, trn_delay=10, clock=lambda: clock_value[0]
    ) as emulator:
        client = httpx.Client(base_url=emulator.api_url, headers={"Authorization": f"Bearer {TOKEN_A}"})
        created = client.post("/trainees", json=trainee_body()).json()["data"]
        slug = created["trainee_id"]
        clock_value[0] += 5
        assert client.get(f"/trainees/{slug}").json()["state"] == "submitted_for_trn"
        clock_value[0] += 6
        later = client.get(f"/trainees/{slug}").json()
        assert later["state"] == "trn_received" and later["trn"] and len(later["trn"]) == 7
        assert later["updated_at"] > created["updated_at"]
        assert later["updated_at"] == timestamp((1_790_000_000 + 10) * 1_000_000)  # when it arrived
        assert later["submitted_for_trn_at"] == created["submitted_for_trn_at"]
        client.close()


def test_withdraw(api, create):
    slug = create()["trainee_id"]
    invalid = api.post(
        f"/trainees/{slug}/withdraw", json={"data": {"trigger": "trainee", "reasons": ["mandatory_reasons"]}}
    )
    assert invalid.status_code == 422
    messages = [e["message"] for e in invalid.json()["errors"]]
    assert {e["error"] for e in invalid.json()["errors"]} == {"UnprocessableEntity"}
    assert "withdrawal_date Choose a withdrawal date" in messages
    assert "future_interest is not included in the list" in messages
    assert "reasons entered not valid for selected trigger eg unacceptable_behaviour for a trainee trigger" in messages
    early = api.post(
        f"/trainees/{slug}/withdraw",
        json={
            "data": {
                "withdrawal_date": "2026-08-01",
                "trigger": "provider",
                "future_interest": "no",
                "reasons": ["record_added_in_error"],
            }
        },
    )
    assert early.json()["errors"][0]["message"] == "withdrawal_date must be after itt_start_date"
    done = api.post(
        f"/trainees/{slug}/withdraw",
        json={
            "data": {
                "withdrawal_date": "2026-10-01",
                "trigger": "trainee",
                "future_interest": "yes",
                "reasons": ["trainee_chose_to_withdraw_another_reason"],
                "another_reason": "Moved abroad",
            }
        },
    )
    assert done.status_code == 200
    data = done.json()["data"]
    assert data["state"] == "withdrawn"
    assert (data["withdrawal_date"], data["withdrawal_trigger"], data["withdrawal_future_interest"]) == (
        "2026-10-01",
        "trainee",
        "yes",
    )
    assert data["withdrawal_reasons"] == ["trainee_chose_to_withdraw_another_reason"]
    assert data["withdrawal_another_reason"] == "Moved abroad"
    assert api.get("/trainees", params={"status": "withdrawn"}).json()["data"][0]["trainee_id"] == slug


def test_a_withdrawal_date_sent_with_a_time_is_kept_as_its_date(api, create):
    """`DateTime.iso8601` takes a date-time (§3.9); the withdrawal's date column keeps the date part (§2.7)."""
    slug = create()["trainee_id"]
    done = api.post(
        f"/trainees/{slug}/withdraw", json={"data": {**WITHDRAWAL, "withdrawal_date": "2026-10-01T09:30:00Z"}}
    )
    assert done.status_code == 200
    assert done.json()["data"]["withdrawal_date"] == "2026-10-01"


def test_a_withdrawal_date_with_an_offset_is_compared_with_the_start_by_its_instant(api, create):
    """§3.4, §3.9: `DateTime.iso8601(withdrawal_date) < itt_start_date` compares instants, the start day at 00:00
    UTC: 00:30+01:00 on the start day is before it (422), 23:30-01:00 on the day before is not; the date kept is
    the written one (§2.7)."""
    start = "2026-09-01"  # the trainee_body default
    early, late = _people(create, 2)
    refused = api.post(
        f"/trainees/{early}/withdraw",
        json={"data": {**WITHDRAWAL, "withdrawal_date": f"{start}T00:30:00+01:00"}},
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"] == "withdrawal_date must be after itt_start_date"
    done = api.post(
        f"/trainees/{late}/withdraw",
        json={"data": {**WITHDRAWAL, "withdrawal_date": "2026-08-31T23:30:00-01:00"}},
    )
    assert done.status_code == 200, done.text
    assert done.json()["data"]["withdrawal_date"] == "2026-08-31"


def test_a_withdrawal_date_in_another_form_is_judged_by_its_instant_and_a_time_alone_is_today(api, create):
    """review113 F3: Register reads withdrawal_date with DateTime.iso8601 (§3.4, §3.9), which reads a time alone
    (`2025` is 20:25) as today's, and compares the instant with the start day at 00:00 UTC whatever the form. The
    emulator refused `2025` ("Choose a valid withdrawal date"), refused 20260831T233000-0100 (2026-09-01T00:30Z, on
    the start day) and took 2026-08-31T24:00:00+01:00 (2026-08-31T23:00Z, before it). Ruby 3.1 gives each answer."""
    alone, basic, midnight = _people(create, 3)
    done = api.post(f"/trainees/{alone}/withdraw", json={"data": {**WITHDRAWAL, "withdrawal_date": "2025"}})
    assert done.status_code == 200, done.text
    assert done.json()["data"]["withdrawal_date"] == AS_OF.isoformat()  # the day it is sent
    done = api.post(
        f"/trainees/{basic}/withdraw", json={"data": {**WITHDRAWAL, "withdrawal_date": "20260831T233000-0100"}}
    )
    assert done.status_code == 200, done.text
    assert done.json()["data"]["withdrawal_date"] == "2026-08-31"
    refused = api.post(
        f"/trainees/{midnight}/withdraw", json={"data": {**WITHDRAWAL, "withdrawal_date": "2026-08-31T24:00:00+01:00"}}
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["message"] == "withdrawal_date must be after itt_start_date"


def test_a_withdrawal_reason_sent_twice_is_held_once(api, create):
    """§3.9: Register saves `WithdrawalReason.where(name: reasons)`, one row per distinct reason, and echoes those
    (review30 F3): the emulator kept and echoed the list as sent."""
    slug = create()["trainee_id"]
    reasons = ["did_not_make_progress", "record_added_in_error", "did_not_make_progress"]
    done = api.post(f"/trainees/{slug}/withdraw", json={"data": {**WITHDRAWAL, "reasons": reasons}})
    assert done.status_code == 200, done.text
    assert done.json()["data"]["withdrawal_reasons"] == ["did_not_make_progress", "record_added_in_error"]
    assert api.get(f"/trainees/{slug}").json()["withdrawal_reasons"] == [
        "did_not_make_progress",
        "record_added_in_error",
    ]


def test_withdraw_with_the_old_withdraw_date_is_a_500_that_withdraws_nothing(api, create):
    # §2.7 ⚠: permitted by the controller, unknown to WithdrawalAttributes (UnknownAttributeError).
    slug = create()["trainee_id"]
    body = {"data": {**WITHDRAWAL, "withdraw_date": "2026-10-01"}}
    response = api.post(f"/trainees/{slug}/withdraw", json=body)
    assert (response.status_code, response.json()) == (500, {"error": "Internal server error"})
    assert api.get(f"/trainees/{slug}").json()["state"] == "trn_received"


def test_withdraw_with_the_old_withdraw_date_is_a_state_error_where_withdrawing_is_not_allowed(api, create):
    """§2.7 step 1: Register checks `withdraw_allowed?` before it assigns the body's fields, so a trainee already
    withdrawn, or whose course starts later, gets 422 StateTransitionError for `withdraw_date` too, not the 500 of
    an allowed one (review30 F4)."""
    withdrawn = create()["trainee_id"]
    later = create(last_name="Later", itt_start_date="2027-01-05", itt_end_date="2027-12-31")["trainee_id"]
    assert api.post(f"/trainees/{withdrawn}/withdraw", json={"data": WITHDRAWAL}).status_code == 200
    body = {"data": {**WITHDRAWAL, "withdraw_date": "2026-10-01"}}
    for slug in (withdrawn, later):
        response = api.post(f"/trainees/{slug}/withdraw", json=body)
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["error"] == "StateTransitionError"


def test_withdrawal_reasons_not_sent_as_a_list_are_no_reasons(api, create):
    # Strong parameters permit `reasons: []` only (§2.7): a single string is dropped, not read letter by letter.
    slug = create()["trainee_id"]
    without_reasons = {k: v for k, v in WITHDRAWAL.items() if k != "reasons"}
    without = api.post(f"/trainees/{slug}/withdraw", json={"data": without_reasons})
    assert without.status_code == 422
    sent = api.post(
        f"/trainees/{slug}/withdraw", json={"data": {**without_reasons, "reasons": "record_added_in_error"}}
    )
    assert (sent.status_code, sent.json()) == (422, without.json())
    assert api.get(f"/trainees/{slug}").json()["state"] == "trn_received"


@pytest.mark.parametrize(
    ("reasons", "message"),
    [
        (
            ["", "record_added_in_error"],
            "reasons entered not valid for selected trigger eg unacceptable_behaviour for a trainee trigger",
        ),
        (
            [{"a": 1}, "record_added_in_error"],
            "reasons Choose one or more reasons why the trainee withdrew from the course",
        ),
    ],
)
def test_withdrawal_reasons_are_taken_as_rails_permits_them(api, create, reasons, message):
    """`reasons: []` permits an array only when every element is a scalar, and then as sent (§2.7): a blank
    reason is one not in the trigger's list (§3.9); a structured element drops the whole array, so no reasons."""
    slug = create()["trainee_id"]
    response = api.post(f"/trainees/{slug}/withdraw", json={"data": {**WITHDRAWAL, "reasons": reasons}})
    assert (response.status_code, response.json()) == (
        422,
        {"errors": [{"error": "UnprocessableEntity", "message": message}]},
    )
    assert api.get(f"/trainees/{slug}").json()["state"] == "trn_received"


def test_withdraw_on_the_day_the_course_starts(api, create):
    # §2.7: allowed when itt_start_date is not in the future, so on the day itself.
    slug = create(itt_start_date=AS_OF.isoformat(), itt_end_date="2027-07-31")["trainee_id"]
    body = {"data": {**WITHDRAWAL, "withdrawal_date": AS_OF.isoformat()}}
    response = api.post(f"/trainees/{slug}/withdraw", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["state"] == "withdrawn"


def test_withdraw_before_the_course_starts_is_a_state_error(api, create):
    slug = create(itt_start_date="2027-01-05", itt_end_date="2027-12-31")["trainee_id"]
    response = api.post(
        f"/trainees/{slug}/withdraw",
        json={
            "data": {
                "withdrawal_date": "2026-10-01",
                "trigger": "provider",
                "future_interest": "no",
                "reasons": ["record_added_in_error"],
            }
        },
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["error"] == "StateTransitionError"


def test_blank_withdrawal_and_deferral_values_are_as_if_not_sent(api, create):
    # A blank date is "not entered" (§3.4: blank → Choose a withdrawal date / can't be blank), not an invalid one.
    slug = create()["trainee_id"]
    withdrawal = api.post(f"/trainees/{slug}/withdraw", json={"data": {**WITHDRAWAL, "withdrawal_date": "  "}})
    assert withdrawal.json()["errors"] == [
        {"error": "UnprocessableEntity", "message": "withdrawal_date Choose a withdrawal date"}
    ]
    deferral = api.post(f"/trainees/{slug}/defer", json={"data": {"defer_date": " "}})
    assert deferral.json()["errors"] == [{"error": "UnprocessableEntity", "message": "defer_date can't be blank"}]
    assert api.get(f"/trainees/{slug}").json()["state"] == "trn_received"


def test_defer(api, create):
    slug = create()["trainee_id"]
    blank = api.post(f"/trainees/{slug}/defer", json={"data": {"defer_reason": "x" * 501}})
    assert [e["message"] for e in blank.json()["errors"]] == [
        "defer_date can't be blank",
        "defer_reason is too long (maximum is 500 characters)",
    ]
    bad = api.post(f"/trainees/{slug}/defer", json={"data": {"defer_date": "2026-02-30"}})
    assert bad.json()["errors"][0]["message"] == "defer_date is invalid"
    before = api.get(f"/trainees/{slug}").json()["updated_at"]
    done = api.post(f"/trainees/{slug}/defer", json={"data": {"defer_date": "2026-10-01", "defer_reason": "Illness"}})
    assert done.status_code == 200
    data = done.json()["data"]
    assert (data["state"], data["defer_date"], data["defer_reason"]) == ("deferred", "2026-10-01", "Illness")
    assert data["updated_at"] >= before
    # Deferring again: the body is valid, so the state machine refuses it, as an UnprocessableEntity (§2.8, §6).
    again = api.post(f"/trainees/{slug}/defer", json={"data": {"defer_date": "2026-10-02"}})
    message = "state is invalid must be one of [submitted_for_trn, trn_received]"
    assert (again.status_code, again.json()) == (
        422,
        {"errors": [{"error": "UnprocessableEntity", "message": message}]},
    )
    # A deferred trainee can still be updated (not a restricted state) and withdrawn.
    assert api.put(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}}).status_code == 200


def test_side_dates_in_other_iso_8601_forms_are_taken_and_kept_as_the_day(api, create):
    """§2.8, §2.9, §3.9: Register reads defer_date and qts_standards_met_date with Date.iso8601 and withdrawal_date with
    DateTime.iso8601, which take 20261001 and 2026-W40-4 too, and keeps the day (review78 F2)."""
    deferred = create()["trainee_id"]
    done = api.post(f"/trainees/{deferred}/defer", json={"data": {"defer_date": "2026-W40-4"}})
    assert (done.status_code, done.json()["data"]["defer_date"]) == (200, "2026-10-01")
    withdrawn = create(hesa_id="2610000000018", provider_trainee_id="OTHER-1", last_name="Other")["trainee_id"]
    done = api.post(f"/trainees/{withdrawn}/withdraw", json={"data": {**WITHDRAWAL, "withdrawal_date": "20261001"}})
    assert (done.status_code, done.json()["data"]["withdrawal_date"]) == (200, "2026-10-01")
    awarded = create(
        hesa_id="2610000000026",
        provider_trainee_id="OTHER-2",
        last_name="Third",
        placements_attributes=[{"urn": "123456", "name": "One"}, {"urn": "654321", "name": "Two"}],
    )["trainee_id"]
    done = api.post(f"/trainees/{awarded}/recommend-for-qts", json={"data": {"qts_standards_met_date": "20261010"}})
    assert (done.status_code, done.json()["data"]["outcome_date"]) == (202, "2026-10-10")


def test_recommend_for_award(api, create):
    slug = create(placements_attributes=[{"urn": "123456", "name": "One"}])["trainee_id"]
    assert api.get(f"/trainees/{slug}").json()["state"] == "trn_received"
    refused = api.post(
        f"/trainees/{slug}/update-qts-or-eyts-status", json={"data": {"qts_standards_met_date": "2030-01-01"}}
    )
    assert [e["message"] for e in refused.json()["errors"]] == [
        "qts_standards_met_date must not be in the future",
        "placements must be at least 2 for the provider_led_postgrad training route",
    ]
    blank = api.post(f"/trainees/{slug}/recommend-for-qts", json={"data": {"qts_standards_met_date": ""}})
    assert blank.json()["errors"][0]["message"] == (
        "qts_standards_met_date can't be blank. Enter a date the trainee met the QTS or EYTS requirements."
    )
    api.post(f"/trainees/{slug}/placements", json={"data": {"urn": "654321", "name": "Two"}})
    done = api.post(
        f"/trainees/{slug}/update-qts-or-eyts-status", json={"data": {"qts_standards_met_date": "2026-10-10"}}
    )
    assert done.status_code == 202
    data = done.json()["data"]
    assert (data["state"], data["outcome_date"]) == ("recommended_for_award", "2026-10-10")
    assert data["recommended_for_award_at"].endswith("Z") and "." not in data["recommended_for_award_at"]
    again = api.post(f"/trainees/{slug}/recommend-for-qts", json={"data": {"qts_standards_met_date": "2026-10-10"}})
    assert again.json()["errors"][-1]["message"] == "state must be selected as trn_received"
    assert api.put(f"/trainees/{slug}", json={"data": {"first_names": "A"}}).json()["errors"][0]["error"] == (
        "StateTransitionError"
    )


def test_the_award_hook_awards_a_recommended_trainee_as_dfe_does_outside_the_api(emulator, api, create):
    """review201: awarding is DfE's, not the API's; the hook stands in for it, so that a provider can rehearse the end
    of the training year. Only a trainee recommended for award is awarded; the API writes nothing to it after (§6)."""
    slug = create(placements_attributes=[{"urn": "123456", "name": "One"}, {"urn": "654321", "name": "Two"}])[
        "trainee_id"
    ]
    hook = f"{emulator.url}/__emulator__/trainees/{slug}/award"
    assert httpx.post(hook).status_code == 422  # holding a TRN: not recommended
    assert httpx.post(f"{emulator.url}/__emulator__/trainees/no-such-trainee/award").status_code == 404
    met = {"data": {"qts_standards_met_date": "2026-10-10"}}
    assert api.post(f"/trainees/{slug}/update-qts-or-eyts-status", json=met).status_code == 202
    awarded = httpx.post(hook)
    assert (awarded.status_code, awarded.json()) == (200, {"status": "awarded", "trainee_id": slug})
    shown = api.get(f"/trainees/{slug}").json()
    assert shown["state"] == "awarded" and shown["awarded_at"].endswith("Z")
    assert api.put(f"/trainees/{slug}", json={"data": {"first_names": "A"}}).json()["errors"][0]["error"] == (
        "StateTransitionError"
    )
    assert httpx.post(hook).status_code == 422  # awarded once


def test_timestamps_show_the_clocks_milliseconds_and_recommended_for_award_at_its_seconds():
    """§1.4: timestamps are UTC with milliseconds; `recommended_for_award_at` is `iso8601` without fractions."""
    clock = FakeClock(1_790_000_000.123456)  # 2026-09-21T14:13:20.123456Z
    with (
        start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, clock=clock) as emulator,
        client_for(emulator) as client,
    ):
        created = client.post("/trainees", json=trainee_body()).json()["data"]
        assert created["created_at"] == "2026-09-21T14:13:20.123Z"
        clock.advance(0.75)
        body = {"data": {"qts_standards_met_date": "2026-10-10"}}
        done = client.post(f"/trainees/{created['trainee_id']}/update-qts-or-eyts-status", json=body).json()["data"]
    assert done["recommended_for_award_at"] == "2026-09-21T14:13:20Z"
    assert done["updated_at"] == "2026-09-21T14:13:20.873Z"


def test_recommend_checks_the_date_the_degree_and_each_routes_placement_minimum(api, create):
    """§2.9: all errors together; the date is not before itt_start_date and not in the future, so either day itself
    is fine; a degree is needed on every non-undergraduate route; placements: iQTS 1, early years none."""
    slug = create()["trainee_id"]
    degree = api.get(f"/trainees/{slug}/degrees").json()["data"][0]["degree_id"]
    api.delete(f"/trainees/{slug}/degrees/{degree}")
    early = api.post(f"/trainees/{slug}/recommend-for-qts", json={"data": {"qts_standards_met_date": "2026-08-31"}})
    assert early.status_code == 422
    assert [e["message"] for e in early.json()["errors"]] == [
        "qts_standards_met_date must be after itt_start_date",
        "degree_id must be completed before qts_standards_met_date",
    ]
    invalid = api.post(f"/trainees/{slug}/recommend-for-qts", json={"data": {"qts_standards_met_date": "2026-02-30"}})
    assert invalid.json()["errors"][0]["message"] == "qts_standards_met_date is invalid"
    iqts = create(
        last_name="Roe", training_route="15", iqts_country="BO", placements_attributes=[{"urn": "123456", "name": "A"}]
    )["trainee_id"]
    today = api.post(
        f"/trainees/{iqts}/recommend-for-qts", json={"data": {"qts_standards_met_date": AS_OF.isoformat()}}
    )
    assert today.status_code == 202, today.text
    early_years = create(
        last_name="Poe",
        training_route="19",
        course_subject_1="100510",
        course_age_range="13920",
        training_initiative=...,
        funding_method="6",
        placements_attributes=...,
    )["trainee_id"]
    first_day = api.post(
        f"/trainees/{early_years}/recommend-for-qts", json={"data": {"qts_standards_met_date": "2026-09-01"}}
    )
    assert first_day.status_code == 202, first_day.text
    assert first_day.json()["data"]["outcome_date"] == "2026-09-01"
    # Assessment only needs no placements; an undergraduate route needs no degree.
    assessment = create(
        last_name="Moe",
        training_route="16",
        study_mode=...,
        placements_attributes=...,
        training_initiative=...,
        funding_method="6",
    )["trainee_id"]
    undergraduate = create(last_name="Low", training_route="11", degrees_attributes=...)["trainee_id"]
    for trainee in (assessment, undergraduate):
        done = api.post(
            f"/trainees/{trainee}/recommend-for-qts", json={"data": {"qts_standards_met_date": "2026-10-01"}}
        )
        assert done.status_code == 202, done.text


def test_recommend_needs_the_trn():
    with start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, trn_delay=3600) as slow:
        client = httpx.Client(base_url=slow.api_url, headers={"Authorization": f"Bearer {TOKEN_A}"})
        slug = client.post("/trainees", json=trainee_body()).json()["data"]["trainee_id"]
        response = client.post(
            f"/trainees/{slug}/recommend-for-qts", json={"data": {"qts_standards_met_date": "2026-10-10"}}
        )
        assert response.json()["errors"] == [
            {"error": "UnprocessableEntity", "message": "state must be selected as trn_received"}
        ]
        client.close()


def test_degrees_sub_resource(api, create):
    trainee = create()
    slug = trainee["trainee_id"]
    existing = trainee["degrees"][0]
    body = {
        "data": {"subject": "100425", "non_uk_degree": "083", "country": "GL", "grade": "02", "graduation_year": "2015"}
    }
    added = api.post(f"/trainees/{slug}/degrees", json=body)
    assert added.status_code == 201
    degree = added.json()["data"]
    assert degree == degree | {
        "uk_degree": None,
        "non_uk_degree": "083",
        "country": "GL",
        "institution": None,
        "graduation_year": 2015,
    }
    after_add = api.get(f"/trainees/{slug}").json()["updated_at"]
    assert after_add >= trainee["updated_at"]
    duplicate = api.post(f"/trainees/{slug}/degrees", json=body)
    assert duplicate.status_code == 409
    assert duplicate.json() == {
        "errors": [{"error": "Conflict", "message": "This is a duplicate degree"}],
        "data": [degree],
    }
    invalid = api.post(f"/trainees/{slug}/degrees", json={"data": {"uk_degree": "083", "graduation_year": "1900"}})
    assert [e["message"] for e in invalid.json()["errors"]] == [
        "subject must be entered if specifying a previous UK degree or non-UK degree",
        "grade must be entered if specifying a previous UK degree or non-UK degree",
        "graduation_year is invalid",
    ]
    listing = api.get(f"/trainees/{slug}/degrees").json()["data"]
    assert [d["degree_id"] for d in listing] == [existing["degree_id"], degree["degree_id"]]
    assert api.get(f"/trainees/{slug}/degrees/{degree['degree_id']}").json() == {"data": degree}
    # PUT writes only the keys sent; sending uk_degree rewrites uk_degree, non_uk_degree and country together.
    updated = api.put(
        f"/trainees/{slug}/degrees/{degree['degree_id']}", json={"data": {"uk_degree": "083", "institution": "0117"}}
    ).json()["data"]
    assert (updated["uk_degree"], updated["non_uk_degree"], updated["country"], updated["institution"]) == (
        "083",
        None,
        None,
        "0117",
    )
    clash = api.put(
        f"/trainees/{slug}/degrees/{degree['degree_id']}",
        json={"data": {"subject": "100485", "grade": "02", "graduation_year": "2012"}},
    )
    assert clash.status_code == 409  # now identical to the first degree
    deleted = api.delete(f"/trainees/{slug}/degrees/{degree['degree_id']}")
    assert deleted.status_code == 200
    assert deleted.json()["data"]["trainee_id"] == slug  # the parent trainee, not the degree
    assert [d["degree_id"] for d in deleted.json()["data"]["degrees"]] == [existing["degree_id"]]
    assert api.get(f"/trainees/{slug}/degrees/{degree['degree_id']}").status_code == 404


def test_a_degree_put_takes_the_locale_from_the_request_and_keeps_it_otherwise(api, create):
    """§2.10: a PUT writes only the keys sent; uk_degree or non_uk_degree rewrites locale_code, uk_degree,
    non_uk_degree and country together, the locale worked out from the request (§3.7: a non-UK country and no
    institution in it is a non-UK degree). The stored institution is not rewritten and does not make the degree
    a UK one again, nor does sending an institution alone."""
    trainee = create()
    slug, degree = trainee["trainee_id"], trainee["degrees"][0]["degree_id"]  # a UK degree from institution 0117
    path = f"/trainees/{slug}/degrees/{degree}"
    moved = api.put(path, json={"data": {"non_uk_degree": "083", "country": "FR"}})
    assert moved.status_code == 200, moved.text
    data = moved.json()["data"]
    assert (data["uk_degree"], data["non_uk_degree"], data["country"]) == (None, "083", "FR")
    kept = api.put(path, json={"data": {"institution": "0118"}})
    assert kept.status_code == 200, kept.text
    data = kept.json()["data"]
    assert (data["uk_degree"], data["non_uk_degree"], data["country"]) == (None, "083", "FR")
    assert api.get(path).json()["data"]["non_uk_degree"] == "083"
    # The trainee's PUT re-validates its degrees as stored: still a valid non-UK degree.
    assert api.put(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}}).status_code == 200
    back = api.put(path, json={"data": {"uk_degree": "083"}}).json()["data"]
    assert (back["uk_degree"], back["non_uk_degree"], back["country"], back["institution"]) == (
        "083",
        None,
        None,
        "0118",
    )


def test_a_degree_put_to_non_uk_clears_its_uk_degree_so_an_equal_non_uk_degree_is_a_duplicate(api, create):
    """§2.10: sending non_uk_degree rewrites uk_degree too (to blank when not sent), so the moved degree is the same
    as a non-UK degree posted with its values: 409 (§3.7 duplicate rule)."""
    slug = create()["trainee_id"]
    uk = {"subject": "100425", "uk_degree": "083", "grade": "02", "institution": "0117", "graduation_year": "2015"}
    degree = api.post(f"/trainees/{slug}/degrees", json={"data": uk}).json()["data"]["degree_id"]
    moved = api.put(f"/trainees/{slug}/degrees/{degree}", json={"data": {"non_uk_degree": "083", "country": "FR"}})
    assert moved.status_code == 200
    non_uk = {"subject": "100425", "non_uk_degree": "083", "grade": "02", "country": "FR", "graduation_year": "2015"}
    response = api.post(f"/trainees/{slug}/degrees", json={"data": non_uk})
    assert response.status_code == 409
    assert [d["degree_id"] for d in response.json()["data"]] == [degree]


def test_a_degree_stored_without_a_locale_keeps_the_one_its_stored_fields_give(tmp_path):
    """A --db written before degrees kept their locale_code: an institution sent alone does not make a stored
    non-UK degree a UK one (§2.10, §3.7), as for a degree stored with its locale."""
    db = tmp_path / "emulator.sqlite3"
    with start_emulator(tokens=(TOKEN_A,), db=db, rate_limit=None, as_of=AS_OF) as first, client_for(first) as client:
        slug = client.post("/trainees", json=trainee_body()).json()["data"]["trainee_id"]
        body = {"subject": "100425", "non_uk_degree": "083", "country": "FR", "graduation_year": "2015"}
        degree = client.post(f"/trainees/{slug}/degrees", json={"data": body}).json()["data"]["degree_id"]
    with sqlite3.connect(db) as connection:
        connection.execute("UPDATE degrees SET fields = json_remove(fields, '$.locale_code')")
    connection.close()
    with start_emulator(tokens=(TOKEN_A,), db=db, rate_limit=None, as_of=AS_OF) as second, client_for(second) as client:
        response = client.put(f"/trainees/{slug}/degrees/{degree}", json={"data": {"institution": "0118"}})
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["uk_degree"], data["non_uk_degree"], data["country"]) == (None, "083", "FR")


def test_a_degree_is_a_duplicate_after_registers_mapping(api, create):
    """§3.7: grade 09 is stored as 14, and a UK degree's country as null, before degrees are compared."""
    slug = create()["trainee_id"]
    existing = {
        "grade": "02",
        "subject": "100485",
        "institution": "0117",
        "uk_degree": "083",
        "graduation_year": "2012",
    }
    pass_grade = {"subject": "100425", "uk_degree": "083", "grade": "14", "graduation_year": "2015"}
    assert api.post(f"/trainees/{slug}/degrees", json={"data": pass_grade}).status_code == 201
    for body in ({**pass_grade, "grade": "09"}, {**existing, "country": "FR"}, {**existing, "country": "XF"}):
        response = api.post(f"/trainees/{slug}/degrees", json={"data": body})
        assert response.status_code == 409, body
        assert response.json()["errors"] == [{"error": "Conflict", "message": "This is a duplicate degree"}]


def test_a_blank_in_the_degree_sent_matches_any_held_value_but_not_the_other_way(api, create):
    """§3.7 "equal non-blank": Register compares only the values the sent degree (merged, for PUT) has, so a
    non-UK degree without its optional grade duplicates a held one with a grade; a graded one sent beside a
    gradeless held one does not."""
    slug = create()["trainee_id"]
    graded = {"subject": "100425", "non_uk_degree": "083", "country": "FR", "grade": "02", "graduation_year": "2015"}
    gradeless = {key: value for key, value in graded.items() if key != "grade"}
    held = api.post(f"/trainees/{slug}/degrees", json={"data": graded}).json()["data"]["degree_id"]
    response = api.post(f"/trainees/{slug}/degrees", json={"data": gradeless})
    assert response.status_code == 409, response.text
    assert [d["degree_id"] for d in response.json()["data"]] == [held]
    # A PUT blanking the grade of another degree of the same values merges to the gradeless one: 409 too.
    other = api.post(f"/trainees/{slug}/degrees", json={"data": {**graded, "grade": "03"}})
    assert other.status_code == 201, other.text
    path = f"/trainees/{slug}/degrees/{other.json()['data']['degree_id']}"
    assert api.put(path, json={"data": {"grade": ""}}).status_code == 409
    # The other way round: the held degree's blank grade does not match a grade sent.
    for body in ({**gradeless, "graduation_year": "2016"}, {**graded, "graduation_year": "2016"}):
        assert api.post(f"/trainees/{slug}/degrees", json={"data": body}).status_code == 201, body


def test_a_degree_with_an_unknown_institution_or_non_uk_grade_is_saved_without_an_error(api, create):
    """§3.7: an unknown institution becomes "Other UK institution" (shown as null) and a non-UK degree's unknown
    grade becomes blank, both silently: the client's warnings about them are not Register's errors."""
    slug = create()["trainee_id"]
    uk = {"subject": "100425", "uk_degree": "083", "grade": "02", "institution": "9999", "graduation_year": "2015"}
    non_uk = {"subject": "100425", "non_uk_degree": "083", "country": "GL", "grade": "77", "graduation_year": "2016"}
    for body, field in ((uk, "institution"), (non_uk, "grade")):
        response = api.post(f"/trainees/{slug}/degrees", json={"data": body})
        assert response.status_code == 201, response.json()
        assert response.json()["data"][field] is None


def test_a_degree_sent_with_an_institution_and_a_country_register_does_not_know_is_taken_without_it(api, create):
    """review94 F1: Register's mapper nulls the country of a degree sent with an institution before checking it
    (§2.10, §3.7), on the degree endpoints as on a trainee's create; the emulator refused GB there (422), so a record
    validate passes failed at its degree's update every night."""
    slug = create()["trainee_id"]
    uk = {"subject": "100425", "uk_degree": "083", "grade": "02", "institution": "0117", "graduation_year": "2015"}
    added = api.post(f"/trainees/{slug}/degrees", json={"data": {**uk, "country": "GB"}})
    assert added.status_code == 201, added.text
    assert added.json()["data"]["country"] is None
    path = f"/trainees/{slug}/degrees/{added.json()['data']['degree_id']}"
    for body in ({**uk, "grade": "03", "country": "GB"}, {"institution": "0117", "country": "England"}):
        changed = api.put(path, json={"data": body})
        assert changed.status_code == 200, changed.text
        assert changed.json()["data"]["country"] is None
    refused = api.post(f"/trainees/{slug}/degrees", json={"data": {**uk, "institution": None, "country": "GB"}})
    assert refused.status_code == 422  # no institution: GB is the country of a non-UK degree, and no code


def test_a_degree_put_that_changes_nothing_moves_no_updated_at():
    """§2.10: degree writes touch the trainee through `belongs_to :trainee, touch: true`, which Rails runs only when
    the save changed something; a PUT of the degree's own values changes neither `updated_at` (§10)."""
    clock = FakeClock(1_790_000_000.0)
    with (
        start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, clock=clock) as emulator,
        client_for(emulator) as client,
    ):
        slug = client.post("/trainees", json=trainee_body()).json()["data"]["trainee_id"]
        body = {"subject": "100425", "uk_degree": "083", "grade": "02", "institution": "0117"}
        degree = client.post(f"/trainees/{slug}/degrees", json={"data": {**body, "graduation_year": "2015"}})
        before = client.get(f"/trainees/{slug}").json()["updated_at"]
        path = f"/trainees/{slug}/degrees/{degree.json()['data']['degree_id']}"
        clock.advance(60)
        same = client.put(path, json={"data": {**body, "graduation_year": "2015"}})
        assert same.status_code == 200
        assert same.json()["data"]["updated_at"] == degree.json()["data"]["updated_at"]
        assert client.get(f"/trainees/{slug}").json()["updated_at"] == before
        changed = client.put(path, json={"data": {**body, "graduation_year": "2016"}}).json()["data"]
        assert changed["updated_at"] == timestamp(1_790_000_060 * 1_000_000)
        assert client.get(f"/trainees/{slug}").json()["updated_at"] == changed["updated_at"]


def test_a_degree_put_clears_a_blank_field_and_ignores_keys_it_does_not_permit(api, create):
    """§2.10: only the keys sent are written, a blank one as blank (a UK degree's institution then reads as Other
    UK institution, null, §3.7); keys outside the degree's fields are not permitted, so not written."""
    slug = create()["trainee_id"]
    body = {"subject": "100425", "uk_degree": "083", "grade": "02", "institution": "0117", "graduation_year": "2015"}
    degree = api.post(f"/trainees/{slug}/degrees", json={"data": body}).json()["data"]
    response = api.patch(
        f"/trainees/{slug}/degrees/{degree['degree_id']}", json={"data": {"institution": "", "colour": "blue"}}
    )
    assert response.status_code == 200
    updated = response.json()["data"]
    other_uk = "5070f34a-2887-e711-80d8-005056ac45bb"  # the id of "Other UK" (other_uk) in institution.yml
    assert (updated["institution"], updated["institution_uuid"]) == (None, other_uk)
    unchanged = ("subject", "uk_degree", "grade", "graduation_year", "created_at", "degree_id")
    assert {k: updated[k] for k in unchanged} == {k: degree[k] for k in unchanged} and "colour" not in updated


def test_placements_sub_resource_and_updated_at(api, create):
    trainee = create(placements_attributes=...)
    slug = trainee["trainee_id"]
    assert api.get(f"/trainees/{slug}/placements").json() == {"data": []}
    start = api.get(f"/trainees/{slug}").json()["updated_at"]
    time.sleep(0.005)
    first = api.post(
        f"/trainees/{slug}/placements", json={"data": {"urn": "987548", "name": "Western", "postcode": "ZX6 8FZ"}}
    )
    assert first.status_code == 201
    placement = first.json()["data"]
    assert placement == placement | {
        "urn": "987548",
        "name": "Western",
        "postcode": "ZX6 8FZ",
        "address": "URN 987548, ZX6 8FZ",
    }
    after_first = api.get(f"/trainees/{slug}").json()["updated_at"]
    assert after_first > start  # the first placement flips progress and saves the trainee
    time.sleep(0.005)
    second = api.post(f"/trainees/{slug}/placements", json={"data": {"urn": "900000", "name": "Abroad"}}).json()["data"]
    assert second["name"] == "Abroad" and second["address"] is None  # no magic label on the endpoint
    assert api.get(f"/trainees/{slug}").json()["updated_at"] == after_first  # later placements do not touch it
    # A URN not of 6 digits matches no school, so Register wants the name as well, and lists it first (§3.8, §7.2).
    assert api.post(f"/trainees/{slug}/placements", json={"data": {"urn": "12"}}).json()["errors"] == [
        {"error": "UnprocessableEntity", "message": "name can't be blank"},
        {"error": "UnprocessableEntity", "message": "urn is invalid"},
    ]
    assert api.post(f"/trainees/{slug}/placements", json={"data": {"urn": "12", "name": "X"}}).json()["errors"] == [
        {"error": "UnprocessableEntity", "message": "urn is invalid"}
    ]
    bad_postcode = api.post(f"/trainees/{slug}/placements", json={"data": {"name": "X", "postcode": "nope"}})
    assert bad_postcode.json()["errors"][0]["message"] == "postcode Enter a valid postcode (for example, BN1 1AA)"
    changed = api.patch(f"/trainees/{slug}/placements/{placement['placement_id']}", json={"data": {"name": "Eastern"}})
    assert changed.json()["data"]["name"] == "Eastern" and changed.json()["data"]["urn"] == "987548"
    deleted = api.delete(f"/trainees/{slug}/placements/{placement['placement_id']}")
    assert [p["placement_id"] for p in deleted.json()["data"]["placements"]] == [second["placement_id"]]
    assert api.get(f"/trainees/{slug}/placements/{placement['placement_id']}").json() == {
        "errors": [{"error": "NotFound", "message": "Placement(s) not found"}]
    }


def test_a_magic_urn_placement_without_a_name_is_refused_once(api, create):
    """§3.8: the placements endpoint gives magic URNs no label and they match no school, so the name is needed;
    the one message says so once (§2.11)."""
    slug = create()["trainee_id"]
    response = api.post(f"/trainees/{slug}/placements", json={"data": {"urn": "900000"}})
    assert (response.status_code, response.json()) == (
        422,
        {"errors": [{"error": "UnprocessableEntity", "message": "name can't be blank"}]},
    )
    # PlacementAttributes validates urn, name, postcode in that order.
    both = api.post(f"/trainees/{slug}/placements", json={"data": {"urn": "900000", "postcode": "nope"}})
    assert [e["message"] for e in both.json()["errors"]] == [
        "name can't be blank",
        "postcode Enter a valid postcode (for example, BN1 1AA)",
    ]


def test_a_placement_with_neither_urn_nor_postcode_has_no_address(api, create):
    """§3.8: `full_address` joins the URN and postcode it has; with neither it is null, not an empty string."""
    slug = create()["trainee_id"]
    placement = api.post(f"/trainees/{slug}/placements", json={"data": {"name": "Somewhere"}}).json()["data"]
    assert (placement["urn"], placement["postcode"], placement["address"]) == (None, None, None)


def test_a_placement_put_that_changes_nothing_keeps_its_updated_at():
    """A save that changes nothing leaves `updated_at` as it was (Rails; §2.11, §10): a PUT of the placement's own
    values does not move it, a change does."""
    clock = FakeClock(1_790_000_000.0)
    with (
        start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, clock=clock) as emulator,
        client_for(emulator) as client,
    ):
        slug = client.post("/trainees", json=trainee_body()).json()["data"]["trainee_id"]
        body = {"urn": "987548", "name": "Western", "postcode": "ZX6 8FZ"}
        placement = client.post(f"/trainees/{slug}/placements", json={"data": body}).json()["data"]
        path = f"/trainees/{slug}/placements/{placement['placement_id']}"
        clock.advance(60)
        same = client.put(path, json={"data": body})
        assert same.status_code == 200 and same.json()["data"] == placement
        changed = client.put(path, json={"data": {**body, "name": "Eastern"}}).json()["data"]
        assert changed["updated_at"] == timestamp(1_790_000_060 * 1_000_000)


@pytest.mark.parametrize("method", ["put", "patch"])
def test_put_and_patch_are_the_same_route(api, create, method):
    slug = create()["trainee_id"]
    response = getattr(api, method)(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}})
    assert response.status_code == 200 and response.json()["data"]["first_names"] == "Alice"


def test_start_emulator_takes_exactly_the_emulators_options_with_the_same_defaults():
    """start_emulator spells its options out (help() and a caller's type checker then show them), a copy of
    Emulator's: an option added to one and not the other, or a default changed in one, would go unnoticed."""
    import inspect

    from register_batch.emulator.server import Emulator, start_emulator

    def options(function) -> list[tuple[str, object]]:
        return [(p.name, p.default) for p in inspect.signature(function).parameters.values() if p.name != "self"]

    assert options(start_emulator) == options(Emulator.__init__)


@pytest.mark.parametrize(
    "refused",
    [{"faults": "nonsense:0.5"}, {"tokens": ["t1", "t2"], "ukprns": {"t1": "10000001", "t2": "10000001"}}],
    ids=["an unknown fault", "one UKPRN for two tokens"],
)
@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="reads this process's descriptors in /proc/self/fd")
def test_an_emulator_that_refuses_its_options_leaves_its_database_closed(tmp_path, refused):
    """A fault mix or UKPRNs start_emulator refuses once its store is open (ValueError): the database stayed open for
    as long as the caller kept the error, then was left to the garbage collector, as a port in use was not."""
    db = tmp_path / "register.sqlite3"
    with pytest.raises(ValueError) as caught:  # kept below: its traceback holds the emulator that was being made
        start_emulator(db=db, rate_limit=None, **refused)
    open_on = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            open_on.add(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed meanwhile
            pass
    assert str(db) not in open_on, caught.value


def test_a_trainee_deleted_in_registers_service_is_listed_no_more_and_no_duplicate_but_still_answers(
    emulator, api, create
):
    """Register's service deletes a trainee by discarding it: Trainees::Filter leaves it out of every listing (§2.3),
    the duplicate check takes only `kept` trainees (§4: "a deleted trainee" is no duplicate, 201), and
    GET /trainees/{trainee_id} finds it all the same (§2.4). Discarding saves it: updated_at moves."""
    kept, deleted = _people(create, 2)
    before = api.get(f"/trainees/{deleted}").json()
    time.sleep(0.005)
    assert emulator.discard_trainee(deleted) is True
    assert emulator.discard_trainee(deleted) is False  # deleted already
    assert emulator.discard_trainee("no-such-trainee") is False
    for params in ({}, {"status": "in_training"}, {"sort_order": "asc"}):
        assert [t["trainee_id"] for t in api.get("/trainees", params=params).json()["data"]] == [kept], params
    assert api.get("/trainees", params={"since": before["updated_at"]}).json() == NO_TRAINEES  # its change is not
    assert api.get("/trainees", params={"per_page": 5}).json()["meta"]["total_count"] == 1
    shown = api.get(f"/trainees/{deleted}")
    assert shown.status_code == 200 and shown.json()["trainee_id"] == deleted
    assert shown.json()["updated_at"] > before["updated_at"]
    assert "discarded_at" not in shown.json()  # not serialized (§3.6)
    again = api.post("/trainees", json=trainee_body(last_name="Person01"))  # the deleted one's person
    assert again.status_code == 201, again.text
    assert api.post("/trainees", json=trainee_body(last_name="Person00")).status_code == 409  # the kept one's


def test_a_database_from_before_trainees_could_be_deleted_keeps_every_trainee(tmp_path):
    """A --db written before the emulator had deletion gets the column, and every trainee in it stays listed."""
    db = tmp_path / "emulator.sqlite3"
    with start_emulator(tokens=(TOKEN_A,), db=db, rate_limit=None, as_of=AS_OF) as first, client_for(first) as client:
        slug = client.post("/trainees", json=trainee_body()).json()["data"]["trainee_id"]
    with sqlite3.connect(db) as connection:
        connection.execute("ALTER TABLE trainees DROP COLUMN discarded_at")
    connection.close()
    with start_emulator(tokens=(TOKEN_A,), db=db, rate_limit=None, as_of=AS_OF) as second, client_for(second) as client:
        assert [t["trainee_id"] for t in client.get("/trainees").json()["data"]] == [slug]
        assert second.discard_trainee(slug)
        assert client.get("/trainees").json() == NO_TRAINEES


PARAM_MISSING = {"errors": ["Param is missing or the value is empty or invalid: data"]}


def test_a_body_holding_no_key_the_route_permits_is_param_missing(api, create):
    """review85 F1: withdraw, recommend and the placement routes read their body with `params.expect(data: [...])`
    (register-api.md §1.4, §2.7), which permits first and then requires: a `data` of keys Register does not permit
    is 422 "Param is missing…", before any state or field check. The emulator took it as a request: field errors,
    a StateTransitionError for a trainee not yet started, and 200 for a placement update that changed nothing."""
    slug = create()["trainee_id"]
    later = create(first_names="Later", itt_start_date="2027-09-01", itt_end_date="2028-07-20")["trainee_id"]
    placement = api.post(f"/trainees/{slug}/placements", json={"data": {"urn": "100001", "name": "School"}})
    assert placement.status_code == 201, placement.text
    held = placement.json()["data"]
    sent = [
        ("post", f"/trainees/{slug}/withdraw", {"date": "2026-11-01", "reason": "moved"}),
        ("post", f"/trainees/{later}/withdraw", {"date": "2026-11-01"}),
        ("post", f"/trainees/{slug}/withdraw", {"reasons": [{"name": "moved"}]}),  # an array of objects: not permitted
        ("post", f"/trainees/{slug}/update-qts-or-eyts-status", {"met_date": "2026-11-01"}),
        ("post", f"/trainees/{slug}/placements", {"school_name": "X"}),
        ("put", f"/trainees/{slug}/placements/{held['placement_id']}", {"school_name": "X"}),
    ]
    for method, path, data in sent:
        answer = getattr(api, method)(path, json={"data": data})
        assert (answer.status_code, answer.json()) == (422, PARAM_MISSING), (path, data, answer.text)
    # One permitted key is enough to pass the check (an empty array of reasons too): the fields' own errors follow.
    reasons_only = api.post(f"/trainees/{slug}/withdraw", json={"data": {"reasons": [], "date": "x"}})
    assert reasons_only.status_code == 422 and reasons_only.json() != PARAM_MISSING
    assert "withdrawal_date Choose a withdrawal date" in [e["message"] for e in reasons_only.json()["errors"]]
