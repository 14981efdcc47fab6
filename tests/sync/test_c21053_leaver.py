"""A C21053 leaver (review161 F2, F4): the oldest layout's F_ENDDATE is the expected end date, and for a trainee who
left (F_RSNEND other than 01 or 98) the leaving date (hesa-formats.md §1.3). Validated, and synced to the emulator on
127.0.0.1, from HESA XML Students of that layout."""

from __future__ import annotations

import csv
from typing import Any

import lxml.html
from hesa_extracts import hesa_trainee, write_hesa_xml

from emulated import AS_OF
from register_batch.jobs import validate_files


def c21053(n: int, **tags: str) -> dict[str, Any]:
    """The n-th trainee as a C21053 Student: single F_DISABLE, F_TREFNO, start in F_COMDATE, end in F_ENDDATE."""
    row = hesa_trainee(n)
    for tag in ("F_ITTSTARTDATE", "F_EXPECTEDENDDATE", "F_DISABLE1"):
        del row[tag]
    return {
        **row,
        "F_DISABLE": "00",
        "F_TREFNO": "",
        "F_COMDATE": "2026-09-01",
        "F_ENDDATE": "2027-07-24",
        "F_RSNEND": "",
        **tags,
    }


LEFT = {"F_RSNEND": "03", "F_ENDDATE": "2026-11-01"}  # "transferred on 1 November"


def test_a_c21053_leavers_leaving_date_is_not_sent_as_their_end_date(register, tmp_path):
    """Sync sent F_ENDDATE 2026-11-01 as itt_end_date over the 2027-07-24 Register held, the trainee still in
    training there; the record now leaves it blank, is not sent, and says why."""
    register.sync(write_hesa_xml(tmp_path / "first.xml", [c21053(1), c21053(2)]))
    held = {t["hesa_id"]: t["itt_end_date"] for t in register.trainees(2026)}
    assert sorted(held.values()) == ["2027-07-24", "2027-07-24"]

    left = write_hesa_xml(tmp_path / "left.xml", [c21053(1, **LEFT), c21053(2)])
    validated = validate_files([left], as_of=AS_OF, report_dir=tmp_path / "validated")
    assert validated.exit_code == 1  # itt_end_date can't be blank: Register needs one, and the record has none
    with (tmp_path / "validated" / "issues.csv").open(newline="", encoding="utf-8") as fh:
        rows = [
            (r["record"], r["code"], r["field"], r["source"], r["message"], r["value"], r["fix"])
            for r in csv.DictReader(fh)
        ]
    [leaving] = [r for r in rows if r[1] == "legacy_withdrawal_not_sent"]
    assert leaving[0] == "1" and leaving[3] == "F_RSNEND or F_ENDDATE", leaving  # not WITHDRAWAL_DATE (F4)
    assert "F_ENDDATE 2026-11-01 is read as the leaving date, not as the expected end date" in leaving[4]
    [required] = [r for r in rows if r[1:3] == ("required", "itt_end_date")]
    assert required[0] == "1" and required[3] == "F_ENDDATE", required
    # review164 F3: not "F_ENDDATE blank, fill in the field": the date it holds (as issues.csv writes text), the tag
    assert required[5] == "'2026-11-01" and "give that in F_EXPECTEDENDDATE" in required[4], required
    assert "C21053 leaver" in required[6] and "F_EXPECTEDENDDATE" in required[6], required

    result = register.sync(left)
    assert result.actions["update"] == 0, [r.plan.changes for r in result.results]
    assert {t["hesa_id"]: t["itt_end_date"] for t in register.trainees(2026)} == held  # not overwritten
    assert {t["state"] for t in register.trainees(2026)} == {"trn_received"}
    page = lxml.html.parse(str(tmp_path / f"reports-{register.runs}" / "report.html"))
    said = {" ".join(span.text_content().split()) for span in page.xpath("//span[@data-source]")}
    assert "from F_RSNEND or F_ENDDATE" in said and "from WITHDRAWAL_DATE" not in said, said


def test_a_new_c21053_leaver_is_not_created_with_their_leaving_date_as_end_date(register, tmp_path):
    """A new trainee needs an itt_end_date (register-api.md §3.2): a leaver's record without one is refused as its
    own error, not created with a made-up end date (the leaving date, as before)."""
    result = register.sync(write_hesa_xml(tmp_path / "new.xml", [c21053(3, **LEFT)]))
    assert result.actions["invalid"] == 1 and result.exit_code == 1
    assert register.trainees(2026) == []
    codes = {(i["code"], i["field"]) for i in register.report()["issues"]}
    assert {("required", "itt_end_date"), ("legacy_withdrawal_not_sent", "withdrawal_date")} <= codes


WITHDRAWN = {
    "WITHDRAWAL_DATE": "2026-11-01",
    "WITHDRAWAL_REASONS": "trainee_workload_issues",
    "WITHDRAWAL_TRIGGER": "trainee",
    "WITHDRAWAL_FUTURE_INTEREST": "no",
}


def test_a_withdrawn_c21053_leaver_is_told_their_end_date_becomes_the_leaving_date(register, tmp_path):
    """review164 F1: a leaver with its withdrawal columns filled in is withdrawn, and its F_ENDDATE (the leaving date)
    is still sent as itt_end_date, a field the record cannot be sent without; a warning now says so. With
    F_EXPECTEDENDDATE added to the C21053 Student (still read as C21053) the end date Register held is kept."""
    register.sync(write_hesa_xml(tmp_path / "first.xml", [c21053(1), c21053(2)]))
    left = [c21053(1, **LEFT, **WITHDRAWN), c21053(2, **LEFT, **WITHDRAWN, F_EXPECTEDENDDATE="2027-07-24")]
    result = register.sync(write_hesa_xml(tmp_path / "left.xml", left))
    assert result.exit_code == 0 and result.actions["update"] == 1 and result.actions["withdraw"] == 1
    after = {t["hesa_id"]: (t["itt_end_date"], t["state"]) for t in register.trainees(2026)}
    assert after == {"2601200000001": ("2026-11-01", "withdrawn"), "2601200000002": ("2027-07-24", "withdrawn")}
    said = [
        (i["record"], i["field"], i["value"], i["source"])
        for i in register.report()["issues"]
        if i["code"] == "leaving_date_sent_as_end_date"
    ]
    assert said == [(1, "itt_end_date", "2026-11-01", "F_ENDDATE")], said
