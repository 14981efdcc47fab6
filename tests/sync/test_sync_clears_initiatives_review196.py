"""A training initiative the SRS removed is cleared in Register (review196 F1). HESA's blank F_INITIATIVES1/2 is "no
initiative" (hesa-formats.md §2.3.12), and Register resets `training_initiative` on a PUT without it and clears
`additional_training_initiative` by "" (register-api.md §2.6, §3.1): where the input gives the field (its column; in
HESA XML its tag on the Student; no tag, where the SRS gave one when last synced: review202 F1), a blank is a
difference, reported in the dry run and written. An input that never gives them (an SRS that does not export
initiatives) says nothing, and Register keeps them. Against the emulator over 127.0.0.1, night after night."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import pytest
from hesa_extracts import hesa_trainee, write_hesa_csv, write_hesa_xml

from emulated import SYNC_TESTS_TOKEN
from register_batch.model import SourceRef
from trainee_extracts import trainee, write_extract

PUT = "PUT /trainees/{trainee_id}"
INITIATIVES = ("training_initiative", "additional_training_initiative")  # model.CLEARABLE_INITIATIVES
NOW_TEACH, PRIMARY_MATHS, RELOCATION = "026", "011", "036"  # 026, 011 in 2026 to 2027; 036 in 2025 to 2026 only


def _student(n: int, **tags: str) -> dict[str, Any]:
    return hesa_trainee(n, degrees=1, placements=1) | tags


def _hesa_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    """HESA-named CSV whose header has every column the rows have (a blank cell: the column, no value)."""
    return write_hesa_csv(path, rows)


def _initiatives(register: Any, cycle: int) -> dict[str, tuple[Any, Any]]:
    return {
        t["hesa_id"]: (t.get("training_initiative"), t.get("additional_training_initiative"))
        for t in register.trainees(cycle)
    }


@pytest.mark.parametrize("fmt", ["hesa-csv", "hesa-csv-bare", "hesa-xml"])
def test_an_initiative_the_srs_removed_is_drift_and_is_cleared_once(register, tmp_path, fmt):
    """Case 1 of the finding: F_INITIATIVES1 026 and F_INITIATIVES2 011, then both blank: `unchanged` every night, no
    issue, and Register kept Now Teach. Now the dry run names both, the sync clears both, and the next night is
    unchanged. In XML the blank Student has no tag, as some SRSs write it (HESA writes NULL): it gave them when last
    synced (review202 F1); another Student of the file has them."""
    given = _student(1, F_INITIATIVES1=NOW_TEACH, F_INITIATIVES2=PRIMARY_MATHS)
    other = _student(2, F_INITIATIVES1=NOW_TEACH, F_INITIATIVES2=PRIMARY_MATHS)
    blank = {k: v for k, v in given.items() if not k.startswith("F_INITIATIVES")}
    if fmt != "hesa-xml":
        blank |= {"F_INITIATIVES1": "", "F_INITIATIVES2": ""}  # the column, no value

    def extract(night: int, rows: list[dict[str, Any]]) -> Path:
        if fmt == "hesa-xml":
            return write_hesa_xml(tmp_path / f"night-{night}.xml", rows)
        if fmt == "hesa-csv-bare":  # HESA's names without the F_ prefix: INITIATIVES1, INITIATIVES2
            rows = [{k.removeprefix("F_") if k.startswith("F_INIT") else k: v for k, v in row.items()} for row in rows]
        return _hesa_csv(tmp_path / f"night-{night}.csv", rows)

    first = register.sync(extract(1, [given, other]))
    assert first.actions == Counter(create=2) and first.exit_code == 0, [r.errors for r in first.results]
    husid = given["F_HUSID"]
    assert _initiatives(register, 2026)[husid] == (NOW_TEACH, PRIMARY_MATHS)
    created = register.writes()

    removed = extract(2, [blank, other])
    planned = register.sync(removed, dry_run=True)
    [plan] = [r.plan for r in planned.results if r.plan.action != "unchanged"]
    assert plan.action == "update"
    assert plan.changes == [
        {"field": "training_initiative", "register": NOW_TEACH, "source": None},
        {"field": "additional_training_initiative", "register": PRIMARY_MATHS, "source": None},
    ]
    assert register.writes() == created

    done = register.sync(removed)
    assert done.actions == Counter(update=1, unchanged=1) and done.exit_code == 0, done.summary_line()
    assert register.writes() == created + Counter({PUT: 1})
    held = _initiatives(register, 2026)
    assert held[husid] in ((None, None), (None, ""))
    assert held[other["F_HUSID"]] == (NOW_TEACH, PRIMARY_MATHS)

    again = register.sync(extract(3, [blank, other]))
    assert again.actions == Counter(unchanged=2) and again.exit_code == 0
    assert register.writes() == created + Counter({PUT: 1})  # no second PUT


def test_a_start_moved_into_a_cycle_without_the_removed_initiative_goes_through(register, tmp_path):
    """Case 2 of the finding: a July start with the international relocation payment (2025 to 2026 only); the SRS
    corrects the start to 20 August and removes the initiative. The PUT sent the 036 back and Register refused it in
    2026 to 2027, so the record was blocked every night (`sync_update_refused`) with advice the extract could not
    follow. Now the PUT leaves it out (Register resets it) and the start correction is written."""
    july = _student(1, F_ITTSTARTDATE="2026-07-20", F_TRAINEESTARTDATE="2026-07-20", F_INITIATIVES1=RELOCATION)
    first = register.sync(_hesa_csv(tmp_path / "night-1.csv", [july]))
    assert first.actions == Counter(create=1) and first.exit_code == 0, [r.errors for r in first.results]
    assert _initiatives(register, 2025)[july["F_HUSID"]][0] == RELOCATION

    august = july | {"F_ITTSTARTDATE": "2026-08-20", "F_TRAINEESTARTDATE": "2026-08-20", "F_INITIATIVES1": ""}
    moved = register.sync(_hesa_csv(tmp_path / "night-2.csv", [august]))
    assert [(r.plan.action, r.outcome) for r in moved.results] == [("update", "done")], [
        (r.errors, r.warnings) for r in moved.results
    ]
    assert not [i for r in moved.results for i in r.issues if i.code == "sync_update_refused"]
    [held] = register.trainees(2026)
    assert (held["itt_start_date"], held["trainee_start_date"]) == ("2026-08-20", "2026-08-20")
    assert held["training_initiative"] is None


@pytest.mark.parametrize("fmt", ["hesa-csv", "hesa-xml"])
def test_an_srs_that_never_exports_initiatives_clears_none(register, tmp_path, fmt):
    """A HESA CSV without the F_INITIATIVES1/2 columns, or a HESA XML file no Student of which has the tags: the
    input says nothing of initiatives, so Register keeps the ones it holds (by an earlier extract with the columns,
    or, for the XML, set in its service: a Student without the tag that had none when last synced says nothing,
    review202 F1), night after night, and no update is sent for them."""
    given = _student(1, F_INITIATIVES1=NOW_TEACH, F_INITIATIVES2=PRIMARY_MATHS)
    silent = [{k: v for k, v in row.items() if not k.startswith("F_INITIATIVES")} for row in (given, _student(2))]
    if fmt == "hesa-csv":
        first = register.sync(_hesa_csv(tmp_path / "night-1.csv", [given]))
    else:
        first = register.sync(write_hesa_xml(tmp_path / "night-1.xml", silent[:1]))
        [held] = register.trainees(2026)
        response = httpx.patch(  # someone's change in Register's service (another client of its API)
            f"{register.emulator.api_url}/trainees/{held['trainee_id']}",
            json={
                "data": {
                    "training_initiative": NOW_TEACH,
                    "additional_training_initiative": PRIMARY_MATHS,
                    "ethnicity": held["ethnicity"],  # else a PATCH derives diversity_disclosure anew (§5.3)
                }
            },
            headers={"Authorization": f"Bearer {SYNC_TESTS_TOKEN}"},
        )
        assert response.status_code == 200, response.text
    assert first.actions == Counter(create=1), [r.errors for r in first.results]
    created = register.writes()
    write = _hesa_csv if fmt == "hesa-csv" else write_hesa_xml
    for night in (2, 3):
        extract = write(tmp_path / f"night-{night}.{fmt.split('-')[1]}", silent)
        planned = register.sync(extract, dry_run=True)
        assert [r.plan.changes for r in planned.results if r.plan.action == "update"] == []
        again = register.sync(extract)
        assert again.actions == Counter(unchanged=1, create=1) if night == 2 else Counter(unchanged=2)
    assert register.writes() == created + Counter({"POST /trainees": 1})  # trainee 2 only
    assert _initiatives(register, 2026)[given["F_HUSID"]] == (NOW_TEACH, PRIMARY_MATHS)


@pytest.mark.parametrize(
    ("fmt", "fields", "unsaid"),
    [
        ("register-csv", {"training_initiative": None, "additional_training_initiative": None}, set()),
        ("register-csv", {"training_initiative": None}, {"additional_training_initiative"}),
        ("register-csv", {}, set(INITIATIVES)),
        ("hesa-csv", {"F_INITIATIVES1": None, "F_INITIATIVES2": None}, set()),
        ("hesa-csv", {"F_SBJCA1": "100425"}, set(INITIATIVES)),
        ("hesa-xml", {"F_INITIATIVES1": NOW_TEACH}, {"additional_training_initiative"}),
        ("hesa-xml", {"F_SBJCA1": "100425"}, set(INITIATIVES)),  # unless the ledger says: TraineeRecord.untagged
    ],
    ids=["csv-both", "csv-first-only", "csv-neither", "hesa-csv-both", "hesa-csv-neither", "xml-one", "xml-none"],
)
def test_an_initiative_is_unsaid_where_the_record_has_no_column_or_tag_for_it(fmt, fields, unsaid):
    """TraineeRecord.partial_lists names a training initiative the record's input has no source of."""
    from register_batch.mapping.apply import Mapper
    from register_batch.mapping.loader import load_mapping
    from register_batch.model import CLEARABLE_INITIATIVES
    from register_batch.readers.base import RawRecord

    raw = RawRecord(source=SourceRef(input="extract", record=1, line=2), fields=fields)
    mapped = Mapper(load_mapping()).map(raw, fmt)
    assert CLEARABLE_INITIATIVES == INITIATIVES
    assert set(mapped.partial_lists) & set(INITIATIVES) == unsaid
    assert mapped.untagged == (unsaid if fmt == "hesa-xml" else set())  # a CSV without the column never says them


def test_a_blank_initiative_the_input_gives_is_reset_by_the_put_and_one_it_does_not_is_sent_back():
    """register-api.md §2.6, §3.1: a PUT without training_initiative resets it; additional_training_initiative is
    kept when left out and cleared by "" (null is dropped). So a said blank leaves the first out and sends "" for the
    second (only while Register holds one); an unsaid blank sends the first back and leaves the second alone."""
    from held import listed, record

    from register_batch.sync.compare import drift, landed_update_bodies, update_body

    theirs = listed(training_initiative=NOW_TEACH, additional_training_initiative=PRIMARY_MATHS)
    blank = record(training_initiative=None, additional_training_initiative=None).data
    said = update_body(blank, theirs)
    assert "training_initiative" not in said and said["additional_training_initiative"] == ""
    assert [(c["field"], c["register"], c["source"]) for c in drift(blank, theirs)] == [
        ("training_initiative", NOW_TEACH, None),
        ("additional_training_initiative", PRIMARY_MATHS, None),
    ]
    unsaid = frozenset(INITIATIVES)
    kept = update_body(blank, theirs, unsaid)
    assert kept["training_initiative"] == NOW_TEACH and "additional_training_initiative" not in kept
    assert drift(blank, theirs, unsaid) == []
    # Once cleared, nothing is sent for the second, and the PUT that cleared it is known as landed (review120 F1).
    cleared = listed()
    assert "additional_training_initiative" not in update_body(blank, cleared)
    assert said in landed_update_bodies(blank, cleared)


def test_an_initiative_set_in_registers_service_against_the_srss_none_is_put_back_and_said(register, tmp_path):
    """The SRS says "no initiative" (the column, blank) and Register's service sets one: the sync clears it, as the
    extract is the source of truth, and says so (sync_overwrites_register_edit names training_initiative), so the
    data officer can put it in the SRS if it is right. Coherent with review193 F1: one Register holds none of is not
    said to be an edit."""
    rows = [trainee(n) for n in (1, 2)]  # Register's CSV, its training_initiative column blank: no initiative
    night = write_extract(tmp_path / "night.csv", rows)
    assert register.sync(night).actions == Counter(create=2)
    held = {t["hesa_id"]: t for t in register.trainees(2025)}
    one, two = (row["hesa_id"] for row in rows)
    response = httpx.patch(  # someone's change in Register's service (another client of its API)
        f"{register.emulator.api_url}/trainees/{held[one]['trainee_id']}",
        json={"data": {"training_initiative": NOW_TEACH}},
        headers={"Authorization": f"Bearer {SYNC_TESTS_TOKEN}"},
    )
    assert response.status_code == 200, response.text
    dry = register.sync(night, dry_run=True)
    warned = {r.plan.hesa_id: m for r in dry.results for c, m in r.warnings() if c == "sync_overwrites_register_edit"}
    assert list(warned) == [one] and "back (training_initiative). To keep" in warned[one], warned
    done = register.sync(night)
    assert done.actions == Counter(update=1, unchanged=1), done.summary_line()
    now = {t["hesa_id"]: t for t in register.trainees(2025)}
    assert (now[one]["training_initiative"], now[two]["training_initiative"]) == (None, None)
