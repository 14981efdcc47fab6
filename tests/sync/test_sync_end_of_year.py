"""The end of the training year with a nightly sync (review201): trainees recommended for award or awarded in
Register's service, the SRS's corrections after that, and the job's exit code. Against the emulator over 127.0.0.1,
its award hook standing in for DfE's award."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import httpx
import pytest

from emulated import AS_OF, sync_options
from register_batch.emulator import start_emulator
from register_batch.sync import SyncOptions, sync_files
from register_batch.validation.catalogue import fix_for
from report_schema import allowed_report
from stub_http import fronting
from trainee_extracts import WITHDRAWN, trainee, write_extract

TOKEN = "end-of-year-provider-token"
MET = {"data": {"qts_standards_met_date": "2026-07-01"}}


@pytest.fixture
def emulator():
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7) as running:
        yield running


def options(emulator, tmp_path: Path) -> SyncOptions:
    return sync_options(emulator, tmp_path, TOKEN, timeout=2.0)


def api(emulator) -> httpx.Client:
    return httpx.Client(base_url=emulator.api_url, headers={"Authorization": f"Bearer {TOKEN}"})


def requests_by_route(emulator) -> Counter:
    return Counter(httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"])


def synced_three(emulator, tmp_path: Path) -> dict[str, str]:
    """Three trainees synced; HUSID -> trainee id."""
    first = sync_files(
        [str(write_extract(tmp_path / "n0.csv", [trainee(n) for n in (1, 2, 3)]))], options(emulator, tmp_path)
    )
    assert first.exit_code == 0, first.summary_line()
    return {t["hesa_id"]: t["trainee_id"] for t in listed(emulator)}


def recommend(emulator, trainee_id: str, *, award: bool = False) -> None:
    with api(emulator) as client:
        assert client.post(f"/trainees/{trainee_id}/update-qts-or-eyts-status", json=MET).status_code == 202
    if award:
        assert httpx.post(f"{emulator.url}/__emulator__/trainees/{trainee_id}/award").status_code == 200


def listed(emulator) -> list[dict]:
    with api(emulator) as client:
        return client.get("/trainees", params={"academic_cycle": 2025}).json()["data"]


def rows(tmp_path: Path) -> list[dict[str, str]]:
    with (tmp_path / "reports" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_corrections_after_recommendation_or_award_are_held_as_warnings_and_the_job_does_not_fail(emulator, tmp_path):
    """review201 F1: the SRS corrects a surname of a trainee recommended for award, and the degree grade and end date
    of one awarded. Nothing the data officer does can make the API take them: each is `held` with a
    sync_after_award warning, nothing is sent, and the job exits 0, night after night (it exited 1, `blocked`)."""
    ids = synced_three(emulator, tmp_path)
    recommend(emulator, ids[trainee(1)["hesa_id"]])
    recommend(emulator, ids[trainee(2)["hesa_id"]], award=True)
    corrected = [
        {**trainee(1), "last_name": "Morris-Smith"},
        {
            **trainee(2),
            "degree_grade": "05" if trainee(2)["degree_grade"] != "05" else "01",
            "itt_end_date": "2026-07-25",
        },
        trainee(3),
    ]
    source = write_extract(tmp_path / "n10.csv", corrected)
    before = requests_by_route(emulator)
    for _night in range(2):
        result = sync_files([str(source)], options(emulator, tmp_path))
        line = result.summary_line()
        assert result.exit_code == 0, line
        assert result.actions == Counter(held=2, unchanged=1), line
        assert (
            "1 unchanged, 2 held (recommended, awarded or withdrawn in Register); 2 warnings (2 sync_after_award)"
            in line
        )
        report = allowed_report(tmp_path / "reports")  # the schema knows the action
        assert [(i["code"], i["severity"]) for i in report["issues"]] == [("sync_after_award", "warning")] * 2
        held = [row for row in rows(tmp_path) if row["action"] == "held"]
        assert [(row["outcome"], row["errors"], row["requests"]) for row in held] == [("skipped", "", "0")] * 2
        assert "differs from trainee" in held[0]["warnings"] and "last_name" in held[0]["warnings"]
        assert "itt_end_date" in held[1]["warnings"] and "degrees[0].grade" in held[1]["warnings"]
        assert (
            "takes no change of a trainee who is recommended for award or awarded" in held[1]["warnings"]
            and "ask DfE's Register support" in held[1]["warnings"]
        )
    with (tmp_path / "reports" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        fixes = {(row["code"], row["fix"]) for row in csv.DictReader(fh)}
    assert fixes == {("sync_after_award", fix_for("sync_after_award"))} and "DfE's Register support" in str(fixes)
    sent = requests_by_route(emulator) - before
    assert set(sent) == {"GET /trainees"}, sent  # nothing written, nothing tried


@pytest.mark.parametrize("award", [True, False])
def test_the_srs_withdrawing_a_trainee_register_has_recommended_or_awarded_still_fails_the_job(
    emulator, tmp_path, award
):
    """review201 F1: a state conflict the data officer must resolve (with DfE support) stays `blocked`, exit 1, with
    or without a correction beside it."""
    ids = synced_three(emulator, tmp_path)
    recommend(emulator, ids[trainee(1)["hesa_id"]], award=award)
    leaving = [{**trainee(1), **WITHDRAWN, "last_name": "Morris-Smith"}, trainee(2), trainee(3)]
    result = sync_files([str(write_extract(tmp_path / "w.csv", leaving))], options(emulator, tmp_path))
    assert result.exit_code == 1 and result.actions == Counter(blocked=1, unchanged=2), result.summary_line()
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert [i["code"] for i in report["issues"]] == ["sync_blocked"]


def test_a_correction_held_after_the_recommendation_is_sent_once_the_trainee_can_be_changed_again(emulator, tmp_path):
    """review201 F1, night n4: a held change is not marked synced. Register lists the trainee recommended on the first
    night (a front rewrites the listing), and holding a TRN again on the next: the surname correction is sent then,
    and not called a change made in Register's service (sync_overwrites_register_edit)."""
    synced_three(emulator, tmp_path)
    source = write_extract(tmp_path / "n2.csv", [{**trainee(1), "last_name": "Morris-Smith"}, trainee(2), trainee(3)])

    def recommended(seen, forward):
        if seen.method == "GET" and seen.path.split("?")[0].endswith("/trainees"):
            status, headers, content = forward()
            listing = json.loads(content)
            for listed in listing["data"]:
                if listed["hesa_id"] == trainee(1)["hesa_id"]:
                    listed["state"] = "recommended_for_award"
            return status, headers, json.dumps(listing).encode()
        return None

    with fronting(emulator.url, recommended) as front:
        night = sync_files(
            [str(source)], sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        )
    assert night.exit_code == 0 and night.actions == Counter(held=1, unchanged=2), night.summary_line()
    back = sync_files([str(source)], options(emulator, tmp_path))
    assert back.exit_code == 0 and back.actions == Counter(update=1, unchanged=2), back.summary_line()
    report = json.loads((tmp_path / "reports" / "report.json").read_text())
    assert report["issues"] == [], report["issues"]
    names = {t["hesa_id"]: t["last_name"] for t in listed(emulator)}
    assert names[trainee(1)["hesa_id"]] == "Morris-Smith"


def test_trainees_the_next_extract_leaves_out_are_told_apart_by_whether_their_course_ended(emulator, tmp_path):
    """review201 F2: at the next cycle's extract, finished trainees were each called one the SRS no longer sends
    ("check the SRS export"), every night, burying the one an export lost. Only a current one is: a trainee Register
    holds as recommended, awarded or withdrawn is finished, and one whose course ended by --as-of and is not
    recommended is to be recommended or withdrawn in Register's service. not_in_extract.csv gives itt_end_date."""
    current = {**trainee(1), "itt_end_date": "2027-07-31"}
    rows = [current, trainee(2), trainee(3), trainee(4), {**trainee(5), "itt_end_date": "2027-07-31"}]
    sync_files([str(write_extract(tmp_path / "year.csv", rows))], options(emulator, tmp_path))
    ids = {t["hesa_id"]: t["trainee_id"] for t in listed(emulator)}
    recommend(emulator, ids[trainee(3)["hesa_id"]])
    recommend(emulator, ids[trainee(4)["hesa_id"]], award=True)
    result = sync_files([str(write_extract(tmp_path / "next.csv", rows[4:]))], options(emulator, tmp_path))
    line = result.summary_line()
    assert result.exit_code == 0, line
    assert (
        "4 in Register but not in the extract (left alone; 1 synced before by this state dir, no longer sent by the "
        "SRS (1 record tonight, 5 in the last run): check the SRS export; 2 finished (awarded, recommended or "
        "withdrawn); 1 whose course ended by 2026-11-28 and who are not recommended: recommend or withdraw the "
        "trainee in Register's service)" in line
    ), line
    report = allowed_report(tmp_path / "reports")
    assert report["sync"]["not_in_extract_synced"] == {
        "not_sent": 1,
        "finished": 2,
        "course_ended": 1,
        "deferred": 0,
        "as_of": "2026-11-28",
    }
    ends = {t["hesa_id"]: t["itt_end_date"] for t in report["not_in_extract"]}
    assert ends == {r["hesa_id"]: r["itt_end_date"] for r in rows[:4]}
    with (tmp_path / "reports" / "not_in_extract.csv").open(encoding="utf-8-sig", newline="") as fh:
        found = list(csv.DictReader(fh))
    assert list(found[0])[-3:] == ["last_synced", "itt_end_date", "academic_cycle"]  # new columns last
    assert {r["hesa_id"].lstrip("'"): r["itt_end_date"].removeprefix("'") for r in found} == ends
    html = (tmp_path / "reports" / "report.html").read_text()
    assert 'data-not-sent="1"' in html and 'data-finished="2"' in html and 'data-course-ended="1"' in html
    assert (
        "whose course ended by 2026-11-28</strong> and who is not recommended: recommend or withdraw the trainee"
        in html
    )
    named = html.index(ids[trainee(1)["hesa_id"]])  # the one the export may have lost is named first
    assert all(named < html.index(ids[trainee(n)["hesa_id"]]) for n in (2, 3, 4))


def withdrawn_one(emulator, tmp_path: Path) -> str:
    """Trainee 1 withdrawn through the sync (the SRS and Register then hold the same withdrawal); its trainee id."""
    first = sync_files(
        [str(write_extract(tmp_path / "w0.csv", [{**trainee(1), **WITHDRAWN}, trainee(2)]))],
        options(emulator, tmp_path),
    )
    assert first.exit_code == 0 and first.actions == Counter(create=2), first.summary_line()
    (withdrawn,) = [t for t in listed(emulator) if t["hesa_id"] == trainee(1)["hesa_id"]]
    assert withdrawn["state"] == "withdrawn"
    return withdrawn["trainee_id"]


def test_a_correction_to_a_withdrawn_trainee_whose_withdrawal_the_record_shares_is_held_not_blocked(emulator, tmp_path):
    """review206 F1: the SRS sets a withdrawn trainee's end date to the withdrawal date and corrects the surname; the
    withdrawal is Register's. The API takes no change of a withdrawn trainee, and DfE does not reinstate a trainee who
    left for an end date: `held` with a sync_after_withdrawal warning and exit 0, night after night (it was `blocked`,
    exit 1). The summary line and the card name the withdrawn too."""
    trainee_id = withdrawn_one(emulator, tmp_path)
    corrected = {**trainee(1), **WITHDRAWN, "itt_end_date": WITHDRAWN["withdrawal_date"], "last_name": "Okafor-Jones"}
    source = write_extract(tmp_path / "w1.csv", [corrected, trainee(2)])
    before = requests_by_route(emulator)
    for _night in range(2):
        result = sync_files([str(source)], options(emulator, tmp_path))
        line = result.summary_line()
        assert result.exit_code == 0 and result.actions == Counter(held=1, unchanged=1), line
        assert "1 held (recommended, awarded or withdrawn in Register); 1 warning (1 sync_after_withdrawal)" in line
        report = allowed_report(tmp_path / "reports")
        assert [(i["code"], i["severity"]) for i in report["issues"]] == [("sync_after_withdrawal", "warning")]
        (held,) = [row for row in rows(tmp_path) if row["action"] == "held"]
        assert (held["trainee_id"], held["outcome"], held["errors"], held["requests"]) == (
            trainee_id,
            "skipped",
            "",
            "0",
        )
        assert "withdrawn in Register" in held["warnings"] and "last_name, itt_end_date" in held["warnings"]
        html = (tmp_path / "reports" / "report.html").read_text()
        assert "Held (recommended, awarded or withdrawn)" in html and "a trainee withdrawn in Register" in html
    with (tmp_path / "reports" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        fixes = {(row["code"], row["fix"]) for row in csv.DictReader(fh)}
    assert fixes == {("sync_after_withdrawal", fix_for("sync_after_withdrawal"))}
    assert set(requests_by_route(emulator) - before) == {"GET /trainees"}  # nothing written, nothing tried


def test_a_correction_to_a_withdrawn_trainee_whose_withdrawal_details_differ_is_held_with_that_warning(
    emulator, tmp_path
):
    """review206 F1: the record's withdrawal date differs from Register's too. That difference has its own warning
    (sync_state_details_differ), exit 0 without a correction; a correction beside it, which no one can send, does not
    make the night fail."""
    withdrawn_one(emulator, tmp_path)
    changed = {**trainee(1), **WITHDRAWN, "withdrawal_date": "2026-02-03", "last_name": "Okafor-Jones"}
    result = sync_files([str(write_extract(tmp_path / "w2.csv", [changed, trainee(2)]))], options(emulator, tmp_path))
    assert result.exit_code == 0 and result.actions == Counter(held=1, unchanged=1), result.summary_line()
    report = allowed_report(tmp_path / "reports")
    assert sorted(i["code"] for i in report["issues"]) == ["sync_after_withdrawal", "sync_state_details_differ"]


def test_a_withdrawn_trainee_whose_record_has_a_deferral_register_does_not_hold_stays_blocked(emulator, tmp_path):
    """review206 F1: what the officer settles stays `blocked`, exit 1: a deferral in the record that Register, which
    withdrew the trainee without it, cannot take; the reason names it."""
    withdrawn_one(emulator, tmp_path)
    deferred = {
        **trainee(1),
        **WITHDRAWN,
        "defer_date": "2026-01-10",
        "defer_reason": "health",
        "last_name": "Okafor-J",
    }
    result = sync_files([str(write_extract(tmp_path / "w3.csv", [deferred, trainee(2)]))], options(emulator, tmp_path))
    assert result.exit_code == 1 and result.actions == Counter(blocked=1, unchanged=1), result.summary_line()
    (blocked,) = [row for row in rows(tmp_path) if row["action"] == "blocked"]
    assert "withdrawn in Register" in blocked["errors"] and "nor can the record's deferral be sent" in blocked["errors"]


def test_a_correction_to_a_trainee_reinstated_then_recommended_whose_record_keeps_the_deferral_is_held(
    emulator, tmp_path
):
    """review206 F2: the record keeps a deferral Register made and ended (the trainee reinstated, then recommended),
    and corrects the surname. That deferral is nothing to send: `held`, exit 0, and the note to clear the record's
    deferral is kept (it was `blocked`, exit 1, "nor can the record's deferral be sent", and the note was lost)."""
    deferral = {"defer_date": "2026-10-01", "defer_reason": "health"}
    first = sync_files(
        [str(write_extract(tmp_path / "d0.csv", [{**trainee(1), **deferral}, trainee(2)]))], options(emulator, tmp_path)
    )
    assert first.exit_code == 0, first.summary_line()
    assert {t["hesa_id"]: t["state"] for t in listed(emulator)}[trainee(1)["hesa_id"]] == "deferred"

    def reinstated_then_recommended(seen, forward):
        if seen.method == "GET" and seen.path.split("?")[0].endswith("/trainees"):
            status, headers, content = forward()
            listing = json.loads(content)
            for listed_one in listing["data"]:
                if listed_one["hesa_id"] == trainee(1)["hesa_id"]:
                    listed_one.update(state="recommended_for_award", reinstate_date="2026-11-20")
            return status, headers, json.dumps(listing).encode()
        return None

    source = write_extract(tmp_path / "d1.csv", [{**trainee(1), **deferral, "last_name": "Okafor-Jones"}, trainee(2)])
    with fronting(emulator.url, reinstated_then_recommended) as front:
        night = sync_files(
            [str(source)], sync_options(front, tmp_path, TOKEN, timeout=2.0, target_identity=emulator.url)
        )
    assert night.exit_code == 0 and night.actions == Counter(held=1, unchanged=1), night.summary_line()
    (held,) = [row for row in rows(tmp_path) if row["action"] == "held"]
    assert held["errors"] == "" and "last_name" in held["warnings"]
    assert "reinstated on 2026-11-20" in held["warnings"] and "clear the record's deferral" in held["warnings"]
    report = allowed_report(tmp_path / "reports")
    assert sorted(i["code"] for i in report["issues"]) == ["sync_after_award", "sync_state_details_differ"]


def test_a_deferred_trainee_left_out_after_the_course_end_is_not_told_to_be_recommended(emulator, tmp_path):
    """review206 F4: Register recommends no deferred trainee (422 "state must be selected as trn_received"), so one
    whose course ended by --as-of is counted apart (`deferred`: reinstate when back, or withdraw), not with those to
    recommend or withdraw. F5: not_in_extract.csv writes itt_end_date as text, as its other dates."""
    rows = [{**trainee(1), "defer_date": "2026-02-01", "defer_reason": "health"}, trainee(2), trainee(3)]
    sync_files([str(write_extract(tmp_path / "year.csv", rows))], options(emulator, tmp_path))
    ids = {t["hesa_id"]: t["trainee_id"] for t in listed(emulator)}
    assert {t["hesa_id"]: t["state"] for t in listed(emulator)}[trainee(1)["hesa_id"]] == "deferred"
    with api(emulator) as client:  # as Register answers
        refused = client.post(f"/trainees/{ids[trainee(1)['hesa_id']]}/update-qts-or-eyts-status", json=MET)
    assert refused.status_code == 422
    result = sync_files([str(write_extract(tmp_path / "next.csv", rows[2:]))], options(emulator, tmp_path))
    line = result.summary_line()
    assert result.exit_code == 0, line
    assert (
        "1 whose course ended by 2026-11-28 and who are not recommended: recommend or withdraw the trainee in "
        "Register's service; 1 deferred whose course ended by 2026-11-28: reinstate the trainee in Register's service "
        "when back in training, or withdraw the trainee)" in line
    ), line
    report = allowed_report(tmp_path / "reports")
    assert report["sync"]["not_in_extract_synced"] == {
        "not_sent": 0,
        "finished": 0,
        "course_ended": 1,
        "deferred": 1,
        "as_of": "2026-11-28",
    }
    html = (tmp_path / "reports" / "report.html").read_text()
    assert 'data-course-ended="1"' in html and 'data-deferred="1"' in html
    assert "Register recommends no deferred trainee. Reinstate the trainee in Register's service" in html
    with (tmp_path / "reports" / "not_in_extract.csv").open(encoding="utf-8-sig", newline="") as fh:
        found = list(csv.DictReader(fh))
    assert [r["itt_end_date"] for r in found] == ["'" + r["itt_end_date"] for r in rows[:2]]
    assert all(r["trainee_start_date"].startswith("'") for r in found)  # as the other dates
