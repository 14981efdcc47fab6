"""review227: a nightly sync across the academic-year rollover, against the project's emulator on 127.0.0.1. Last
year's file sent again after the new cycle's is named when it moves a restarted trainee back (F1), whatever cycles
the newer extract had, with every later run it puts back named and counted; and the first night the extract lacks
last year's cycle tells that cycle's trainees apart (finished, course ended, deferred) and lists them in
not_in_extract, from the listing the run makes anyway (F2)."""

from __future__ import annotations

import csv
from collections import Counter

import httpx
import lxml.html

from emulated import SYNC_TESTS_TOKEN
from report_schema import allowed_report
from trainee_extracts import DEFERRED, WITHDRAWN, new_cohort, restarted, started_in, trainee, write_extract

MET = {"data": {"qts_standards_met_date": "2026-07-01"}}


def _codes(register) -> list[str]:
    return [w["code"] for w in register.report()["sync"]["run_warnings"]]


def test_last_years_file_again_after_a_new_cycle_only_extract_names_the_restart_it_moves_back(register, tmp_path):
    deferred = {**trainee(3), **DEFERRED}
    july = write_extract(tmp_path / "july.csv", [trainee(1), trainee(2), deferred])
    register.sync(july)
    register.sync(write_extract(tmp_path / "september.csv", [*new_cohort(), restarted(deferred)]))
    [moved] = [t for t in register.trainees(2026) if t["hesa_id"] == deferred["hesa_id"]]
    assert moved["itt_start_date"] == "2026-09-07"

    line = register.sync(july).summary_line()  # last July's file, byte for byte, picked up again
    assert "1 updated, 2 unchanged." in line, line
    assert "is byte for byte the extract run 1 synced on " in line and "run 2 synced a different one since" in line
    assert "This run put this file's values back in 1 record run 2 had synced from the newer one" in line, line
    assert "sync_extract_seen_before" in _codes(register)


def test_a_file_put_back_over_two_later_runs_counts_and_names_both(register, tmp_path):
    deferred = {**trainee(3), **DEFERRED}
    rows = [trainee(1), trainee(2), deferred]
    july = write_extract(tmp_path / "july.csv", rows)
    register.sync(july)
    # August: both cycles, with the SRS's corrections of two of last year's trainees
    corrected = [{**trainee(1), "last_name": "Corrected"}, {**trainee(2), "first_names": "Corrected"}, deferred]
    register.sync(write_extract(tmp_path / "august.csv", [*corrected, *new_cohort()]))
    # September: the new cycle only, the deferred trainee restarting
    register.sync(write_extract(tmp_path / "september.csv", [*new_cohort(), restarted(deferred)]))

    line = register.sync(july).summary_line()
    assert line.startswith("3 records: 3 updated;"), line
    assert "byte for byte the extract run 1 synced on " in line, line
    assert "runs 2 and 3 synced different ones since, the last on " in line, line
    assert "This run put this file's values back in 3 records runs 2 and 3 had synced from the newer ones" in line


def test_two_cycles_extracts_synced_in_turn_stay_quiet_though_each_changed_since(register, tmp_path):
    # One export a cycle, synced in turn from one state dir; the new cycle's changed twice since last year's was
    # synced: no record is in both, so last year's again puts nothing back of theirs.
    this_year = write_extract(tmp_path / "a.csv", [trainee(1), trainee(2)])
    register.sync(this_year)
    next_year = [started_in(2026, trainee(n)) for n in (3, 4)]
    register.sync(write_extract(tmp_path / "b1.csv", next_year))
    register.sync(write_extract(tmp_path / "b2.csv", [{**next_year[0], "last_name": "Corrected"}, next_year[1]]))
    line = register.sync(this_year).summary_line()
    assert "byte for byte" not in line, line
    assert "sync_extract_seen_before" not in _codes(register)


def _recommend(register, hesa_id: str, *, award: bool = False) -> None:
    [found] = [t for t in register.trainees(2025) if t["hesa_id"] == hesa_id]
    headers = {"Authorization": f"Bearer {SYNC_TESTS_TOKEN}"}
    with httpx.Client(base_url=register.emulator.api_url, headers=headers) as client:
        posted = client.post(f"/trainees/{found['trainee_id']}/update-qts-or-eyts-status", json=MET)
        assert posted.status_code == 202, posted.text
    if award:
        url = f"{register.emulator.url}/__emulator__/trainees/{found['trainee_id']}/award"
        assert httpx.post(url).status_code == 200


def _listings(register) -> int:
    """The listing requests Register has answered so far (GET /trainees, each page)."""
    routes = httpx.get(f"{register.emulator.url}/__emulator__/stats").json()["requests"]["by_route"]
    return sum(n for route, n in routes.items() if route.startswith("GET") and route.rstrip("/").endswith("trainees"))


def test_the_first_new_cycle_only_night_tells_last_years_trainees_apart_and_lists_them(register, tmp_path):
    last_year = {
        "recommended": trainee(1),
        "awarded": trainee(2),
        "withdrawn": {**trainee(3), **WITHDRAWN},
        "to_recommend": trainee(4),
        "deferred": {**trainee(5), **DEFERRED},
        "part_time": {**trainee(6), "itt_end_date": "2027-07-31"},
    }
    register.sync(write_extract(tmp_path / "july.csv", list(last_year.values())))
    _recommend(register, last_year["recommended"]["hesa_id"])
    _recommend(register, last_year["awarded"]["hesa_id"], award=True)
    register.sync(write_extract(tmp_path / "august.csv", [*last_year.values(), *new_cohort()]))  # both cycles
    listed = _listings(register)

    result = register.sync(write_extract(tmp_path / "september.csv", new_cohort()))  # the new cycle only
    line = result.summary_line()
    assert result.exit_code == 0, line
    # One listing of each cycle (a page each), as before: the triage reads the listing the run makes anyway.
    assert _listings(register) - listed == 2
    assert (
        "6 in Register but not in the extract (left alone; 3 finished (awarded, recommended or withdrawn); 1 whose "
        "course ended by 2026-11-28 and who are not recommended: recommend or withdraw the trainee in Register's "
        "service; 1 deferred whose course ended by 2026-11-28: reinstate the trainee in Register's service when back "
        "in training, or withdraw the trainee)." in line
    ), line
    assert "1 trainee this state dir synced before is not in tonight's extract" in line, line
    assert "it is of 2025 to 2026, which run 2 synced records of and tonight's extract has none of" in line, line
    report = allowed_report(tmp_path / "reports-3")
    sync = report["sync"]
    assert sync["not_in_extract"] == 6 and sync["cycles_lacked"] == [2025]
    assert sync["not_in_extract_synced"] == {
        "not_sent": 1,
        "finished": 3,
        "course_ended": 1,
        "deferred": 1,
        "as_of": "2026-11-28",
    }
    [lacks] = [w for w in sync["run_warnings"] if w["code"] == "sync_extract_lacks_synced"]
    assert (lacks["count"], lacks["of_cycles_lacked"]) == (1, 1)
    assert {t["hesa_id"]: t["academic_cycle"] for t in report["not_in_extract"]} == {
        row["hesa_id"]: 2025 for row in last_year.values()
    }
    with (tmp_path / "reports-3" / "not_in_extract.csv").open(encoding="utf-8-sig", newline="") as fh:
        found = list(csv.DictReader(fh))
    assert Counter(r["academic_cycle"] for r in found) == {"2025": 6}
    page = lxml.html.fromstring((tmp_path / "reports-3" / "report.html").read_bytes())
    [notice] = page.xpath("//div[@data-not-in-extract]")
    words = " ".join(notice.text_content().split())
    assert "in the academic cycles it covers, and in 2025 to 2026, which the last run's extract had" in words, words
    assert notice.xpath('.//li[@data-course-ended="1"]') and notice.xpath('.//li[@data-deferred="1"]')

    # The night after, the last run had no record of 2025/26 either: that cycle is not listed again.
    register.sync(write_extract(tmp_path / "september.csv", new_cohort()))
    again = register.report()["sync"]
    assert again["not_in_extract"] == 0 and again["cycles_lacked"] == []
