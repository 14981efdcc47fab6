"""Comparing an extract with what Register holds (sync/compare.py), against the emulator over HTTP: an unchanged
extract converges to no writes, and the drift report names each difference."""

from __future__ import annotations

import csv
import json
from collections import Counter

import pytest
from hesa_extracts import hesa_trainee, write_hesa_csv

from trainee_extracts import trainee, write_extract

BRITISH = ("GB", "FK", "GG", "IM", "IO", "JE")  # hesa-formats.md §2.3.4: one entry, "british"


def test_nationalities_register_holds_as_british_converge(register, tmp_path):
    rows = [dict(trainee(n), nationality=code) for n, code in enumerate(BRITISH, start=1)]
    extract = write_extract(tmp_path / "in.csv", rows)
    assert register.sync(extract).actions == Counter(create=6)
    assert {t["nationality"] for t in register.trainees(2025)} == {"GB"}  # register-api.md §3.6: GB is echoed

    again = register.sync(extract)
    assert again.actions == Counter(unchanged=6) and again.exit_code == 0
    assert register.writes() == Counter({"POST /trainees": 6})


def test_a_changed_nationality_is_still_drift(register, tmp_path):
    register.sync(write_extract(tmp_path / "a.csv", [dict(trainee(1), nationality="JE")]))
    result = register.sync(write_extract(tmp_path / "b.csv", [dict(trainee(1), nationality="FR")]), dry_run=True)
    assert result.results[0].plan.changes == [{"field": "nationality", "register": "GB", "source": "FR"}]


@pytest.mark.parametrize("fmt", ["hesa-csv", "register-csv"])
def test_a_degree_value_blanked_in_the_extract_is_left_as_it_is(register, tmp_path, fmt):
    """A degree PUT writes only the keys it is sent (register-api.md §2.10): a blank could never clear a value, so
    it is not a difference, as for a trainee's own fields."""
    if fmt == "hesa-csv":
        row = hesa_trainee(1)
        first, blanked = write_hesa_csv(tmp_path / "a.csv", [row]), dict(row, F_DEGEST_1="NULL")
        later, cycle = write_hesa_csv(tmp_path / "b.csv", [blanked]), 2026
    else:
        first = write_extract(tmp_path / "a.csv", [trainee(1)])
        later, cycle = write_extract(tmp_path / "b.csv", [dict(trainee(1), awarding_institution="")]), 2025
    assert register.sync(first).exit_code == 0
    created = register.writes()

    runs = [register.sync(later) for _ in range(2)]
    assert [r.actions for r in runs] == [Counter(unchanged=1)] * 2
    assert register.writes() == created  # neither run wrote anything
    [held] = register.trainees(cycle)
    assert {d["institution"] for d in held["degrees"]} == {"0117"}


def test_degree_and_placement_drift_names_each_difference(register, tmp_path):
    row = hesa_trainee(1, degrees=2, placements=2)
    register.sync(write_hesa_csv(tmp_path / "a.csv", [row]))
    changed = dict(row, F_DEGCLSS_2="01", F_DEGEST_2="1166", F_PLMNTSCH_1="137999")  # placement 137011 replaced

    planned = register.sync(write_hesa_csv(tmp_path / "b.csv", [changed]), dry_run=True)
    [plan] = [r.plan for r in planned.results]
    assert plan.changes == [
        {"field": "degrees[1].grade", "register": "02", "source": "01"},
        {"field": "degrees[1].institution", "register": "0117", "source": "1166"},
        {"field": "placements[0]", "register": None, "source": "urn 137999"},
        {"field": "placements", "register": "urn 137011", "source": None},
    ]
    assert [s.kind for s in plan.steps] == ["update_degree", "add_placement", "delete_placement"]

    done = register.sync(write_hesa_csv(tmp_path / "b.csv", [changed]))
    assert done.actions == Counter(update=1) and done.exit_code == 0
    reports = tmp_path / f"reports-{register.runs}"
    [record] = json.loads((reports / "report.json").read_text())["records"]
    assert record["changes"] == plan.changes
    with (reports / "results.csv").open(newline="") as fh:
        [row_out] = list(csv.DictReader(fh))
    assert json.loads(row_out["changes"]) == plan.changes
    html = (reports / "report.html").read_text().replace("<wbr>", "")
    assert "degrees[1].institution" in html and "urn 137999" in html

    again = register.sync(write_hesa_csv(tmp_path / "b.csv", [changed]))
    assert again.actions == Counter(unchanged=1)
    [held] = register.trainees(2026)
    assert sorted((d["grade"], d["institution"]) for d in held["degrees"]) == [("01", "1166"), ("02", "0117")]
    assert sorted(p["urn"] for p in held["placements"]) == ["137012", "137999"]
