"""review153 F2: a HESA-named CSV row that lost a cell has another column's value in its F_OWNSTU column. It was
counted as that SRS id, so a valid record with the same (small) SRS id was `duplicate_provider_trainee_id` and held
back by sync. Now the row is invalid, with its row error alone, and the valid record is sent."""

from __future__ import annotations

import csv
from collections import Counter

from hesa_extracts import hesa_trainee


def test_a_row_that_lost_a_cell_is_not_sent_and_holds_no_valid_record_back(register, tmp_path):
    rows = []
    for n, allplace in ((1, "1"), (2, "2"), (3, "1")):
        trainee = hesa_trainee(n, degrees=1, placements=1)
        rows.append({"F_HUSID": trainee.pop("F_HUSID"), "F_OWNSTU": trainee.pop("F_OWNSTU"), "F_ALLPLACE": allplace})
        rows[-1].update(trainee)
    rows[0]["F_OWNSTU"] = "2"  # a valid trainee whose SRS id is 2
    header = list(rows[0])
    cells = [[row[column] for column in header] for row in rows]
    del cells[1][0]  # record 2 lost its F_HUSID cell: its F_OWNSTU column holds its F_ALLPLACE, 2
    extract = tmp_path / "srs.csv"
    with extract.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([header, *cells])

    done = register.sync(extract)
    assert done.actions == Counter(create=2, invalid=1)
    assert sorted(t["provider_trainee_id"] for t in register.trainees(2026)) == ["2", "S1003/1"]
    with (tmp_path / f"reports-{register.runs}" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        results = {row["record"]: row for row in csv.DictReader(fh)}
    assert (results["1"]["action"], results["1"]["provider_trainee_id"]) == ("create", "2")
    shifted = results["2"]
    assert shifted["action"] == "invalid"
    with (tmp_path / f"reports-{register.runs}" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert [(i["record"], i["code"]) for i in csv.DictReader(fh)] == [("2", "malformed_record")]


def test_a_synced_trainee_whose_row_lost_its_last_cell_is_held_as_its_own_not_listed_as_gone(register, tmp_path):
    """A row short of its last cell keeps its SRS id and HUSID, which come before the lost cell: the next run finds
    its trainee by them, holds the record (`invalid`, its trainee named) and does not list that trainee as in Register
    but not in the extract (review154 F1: with the ids blanked, it was listed so, and results.csv named no trainee)."""
    rows = []
    for n in (1, 2, 3):
        trainee = hesa_trainee(n, degrees=1, placements=1)
        rows.append({"F_HUSID": trainee.pop("F_HUSID"), "F_OWNSTU": trainee.pop("F_OWNSTU"), **trainee})
    header = list(rows[0])
    cells = [[row[column] for column in header] for row in rows]
    extract = tmp_path / "srs.csv"

    def write() -> None:
        with extract.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows([header, *cells])

    write()
    assert register.sync(extract).actions == Counter(create=3)
    del cells[2][-1]  # record 3 lost its last cell
    write()
    assert register.sync(extract).actions == Counter(unchanged=2, invalid=1)
    reports = tmp_path / f"reports-{register.runs}"
    with (reports / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        held = {row["record"]: row for row in csv.DictReader(fh)}["3"]
    assert (held["action"], held["provider_trainee_id"]) == ("invalid", rows[2]["F_OWNSTU"])
    assert held["trainee_id"]
    with (reports / "not_in_extract.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert list(csv.DictReader(fh)) == []
