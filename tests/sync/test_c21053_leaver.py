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
        rows = [(r["record"], r["code"], r["field"], r["source"], r["message"]) for r in csv.DictReader(fh)]
    [leaving] = [r for r in rows if r[1] == "legacy_withdrawal_not_sent"]
    assert leaving[0] == "1" and leaving[3] == "F_RSNEND or F_ENDDATE", leaving  # not WITHDRAWAL_DATE (F4)
    assert "F_ENDDATE 2026-11-01 is read as the leaving date, not as the expected end date" in leaving[4]
    assert ("1", "required", "itt_end_date") in [r[:3] for r in rows]

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
