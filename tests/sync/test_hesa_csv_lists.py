"""Sync of a HESA-named CSV whose header has room for fewer placements than Register holds (review29 F3): a row that
fills every placement column set cannot say that the trainee has no other placement, so what Register holds beyond
it is kept; a row with room to spare lists them all, and one it leaves out is deleted."""

from __future__ import annotations

from collections import Counter

from hesa_extracts import hesa_trainee, write_hesa_csv

DELETE_PLACEMENT = "DELETE /trainees/{trainee_id}/placements/{placement_id}"


def one_placement_column(row: dict) -> dict:
    """The row with its first placement in a bare `F_PLMNTSCH` column, as the docs' example has it."""
    return {("F_PLMNTSCH" if column == "F_PLMNTSCH_1" else column): value for column, value in row.items()}


def test_a_placement_added_in_register_is_kept_by_a_one_placement_csv_and_deleted_by_a_roomier_one(register, tmp_path):
    mine = one_placement_column(hesa_trainee(1, degrees=1, placements=1))
    extract = write_hesa_csv(tmp_path / "srs.csv", [mine])
    assert register.sync(extract).actions == Counter(create=1)
    [trainee] = register.trainees(2026)
    assert [p["urn"] for p in trainee["placements"]] == [mine["F_PLMNTSCH"]]
    # The provider adds a second placement in Register's service (a recommendation needs two, §2.9).
    with register.client() as client:
        client.add_placement(trainee["trainee_id"], {"urn": "137999", "name": "Second school"})
    before = register.writes()

    nightly = register.sync(extract)  # the file has room for one placement: it cannot say there is no other
    assert nightly.actions == Counter(unchanged=1) and nightly.exit_code == 0
    assert register.writes() == before
    [trainee] = register.trainees(2026)
    assert sorted(p["urn"] for p in trainee["placements"]) == sorted([mine["F_PLMNTSCH"], "137999"])

    # Another trainee's two placements give the file a second placement column: the first row, with one of two
    # filled, lists all of its trainee's placements, and the one Register holds beyond it is deleted.
    other = one_placement_column(hesa_trainee(2, degrees=1, placements=2))  # F_PLMNTSCH and F_PLMNTSCH_2
    roomier = write_hesa_csv(tmp_path / "srs-2.csv", [mine, other])
    assert register.sync(roomier).actions == Counter(update=1, create=1)
    assert (register.writes() - before)[DELETE_PLACEMENT] == 1
    held = {t["hesa_id"]: t for t in register.trainees(2026)}
    assert [p["urn"] for p in held[mine["F_HUSID"]]["placements"]] == [mine["F_PLMNTSCH"]]
    assert len(held[other["F_HUSID"]]["placements"]) == 2
