"""Sync of a HESA-named CSV whose header has room for fewer placements than Register holds (review29 F3): a row that
fills every placement column set cannot say that the trainee has no other placement, so what Register holds beyond
it is kept; a row with room to spare lists them all, and one it leaves out is deleted."""

from __future__ import annotations

import json
from collections import Counter

from hesa_extracts import DEGREE_TAGS, hesa_trainee, write_hesa_csv

from stub_http import fronting

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


def _refusing(path_end: str, message: str):
    """A stub in front of Register answering 422 (Register's shape B, §7.2) to every POST to a path ending so."""
    body = json.dumps({"errors": [{"error": "UnprocessableEntity", "message": message}]}).encode()

    def refused(seen, _forward):
        if seen.method == "POST" and seen.path.endswith(path_end):
            return 422, {"Content-Type": "application/json"}, body
        return None

    return refused


def test_a_refused_degree_or_placement_is_named_by_its_place_in_the_record(our_register, tmp_path):
    """review108 F4: Register's degree and placement messages name no degree (§2.10, §7.2), and the issue had no
    field: of a record's three degrees, nothing said which one was refused. It is named as validation names a
    degree's field, with the record's value."""
    register = our_register
    row = hesa_trainee(1, degrees=3, placements=2)
    row.update({f"{tag}_3": "" for tag in DEGREE_TAGS})
    extract = tmp_path / "nightly.csv"
    assert register.sync(write_hesa_csv(extract, [row])).exit_code == 0
    third = {"F_DEGTYPE_3": "083", "F_DEGSBJ1_3": "100300", "F_DEGCLSS_3": "01", "F_DEGEST_3": "0117"}
    night = {**row, **third, "F_DEGENDDT_3": "2022-06-30", "F_PLMNTSCH_3": "137471"}
    cases = [
        ("/degrees", "graduation_year must be in the past, for example 2014", "degrees_attributes[2].graduation_year"),
        ("/placements", "This placement could not be added", "placements_attributes[2]"),
    ]
    for path_end, said, field in cases:
        with fronting(register.emulator.url, _refusing(path_end, said)) as front:
            options = {"target": front.url, "target_identity": register.emulator.url}
            assert register.sync(write_hesa_csv(extract, [night]), **options).exit_code == 1
        [issue] = register.report()["issues"]
        assert (issue["code"], issue["field"]) == ("api_rejected", field)
        if path_end == "/degrees":
            assert issue["message"].startswith("degrees_attributes[2].graduation_year must be in the past")
            assert (issue["value"], issue["source"]) == ("2022-06-30", "F_DEGENDDT")
        else:
            assert issue["message"].startswith("placements_attributes[2]: This placement could not be added")
