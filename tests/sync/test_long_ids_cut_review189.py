"""review189 F1: a sync's results.csv and report.json `records` wrote an over-long SRS id or HUSID whole, while its
issues.csv and report.json `issues` cut it (reports.shown_value): results.csv held cells past the 32,767 characters
Excel holds in one, and the two lists of one report.json named the record by different ids."""

from __future__ import annotations

import csv
import json

from hesa_extracts import hesa_trainee, write_hesa_csv

from register_batch.reports import SHOWN_CHARS, shown_value

EXCEL_CELL = 32_767


def test_a_syncs_records_cut_an_over_long_id_as_its_issues_do(register, tmp_path):
    srs_id, husid = "S" * 40_000, "7" * 40_001  # ids no record can have: too_long, hesa_id_length
    rows = [{**hesa_trainee(1), "F_OWNSTU": srs_id}, {**hesa_trainee(2), "F_HUSID": husid}, hesa_trainee(3)]
    extract = write_hesa_csv(tmp_path / "in.csv", rows)
    result = register.sync(extract)
    assert [(r.plan.action, r.outcome) for r in result.results] == [
        ("invalid", "skipped"),
        ("invalid", "skipped"),
        ("create", "done"),
    ]
    # The library's results keep the ids whole, as its issues do; the files cut them.
    assert result.results[0].plan.provider_trainee_id == srs_id and result.results[1].plan.hesa_id == husid
    report = register.report()
    cut_srs, cut_husid = shown_value(srs_id), shown_value(husid)
    assert cut_srs == "S" * SHOWN_CHARS + "… (40,000 characters)"
    records = report["records"]
    assert [records[0]["provider_trainee_id"], records[1]["hesa_id"]] == [cut_srs, cut_husid]
    assert records[2]["hesa_id"] == hesa_trainee(3)["F_HUSID"]
    for record in records[:2]:  # the issues of a record name it as its row does: joined by id, they still meet
        ids = {(i["provider_trainee_id"], i["hesa_id"]) for i in report["issues"] if i["record"] == record["record"]}
        assert ids == {(record["provider_trainee_id"], record["hesa_id"])}
    results_csv = register.tmp_path / f"reports-{register.runs}" / "results.csv"
    with results_csv.open(encoding="utf-8-sig", newline="") as fh:
        written = list(csv.DictReader(fh))
    assert [written[0]["provider_trainee_id"], written[1]["hesa_id"].lstrip("'")] == [cut_srs, cut_husid]
    assert max(len(cell) for row in written for cell in row.values() if cell) < 2000 < EXCEL_CELL
    assert results_csv.stat().st_size < extract.stat().st_size / 10
    assert len(json.dumps(report)) < extract.stat().st_size / 5
