"""review153 F2: a HESA-named CSV row that lost a cell has another column's value in its F_OWNSTU column. It was
counted as that SRS id, so a valid record with the same (small) SRS id was `duplicate_provider_trainee_id` and held
back by sync, and the row's results named it by the moved SRS id and HUSID. Now the row is invalid and named by its
record and line alone, and the valid record is sent."""

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
    assert (shifted["action"], shifted["provider_trainee_id"], shifted["hesa_id"]) == ("invalid", "", "")
    with (tmp_path / f"reports-{register.runs}" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        assert [(i["record"], i["code"], i["provider_trainee_id"]) for i in csv.DictReader(fh)] == [
            ("2", "malformed_record", "")
        ]
