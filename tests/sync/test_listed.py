"""Register's trainees as a sync holds them while it plans (sync/listed.py): reduced to the keys planning reads, read
as the dicts they were made from."""

from __future__ import annotations

import pytest

from register_batch.sync.listed import ListedTrainee, NotKept
from register_batch.sync.plan import Holdings

LISTED = {
    "trainee_id": "abc123",
    "hesa_id": "2510000000001",
    "first_names": "Ben",
    "last_name": "Smith",
    "middle_names": None,
    "sex": "11",
    "state": "trn_received",
    "course_year": 1,
    "trn": "1234567",
    "ethnic_group": "white_ethnic_group",
    "created_at": "2026-09-01T10:00:00.000Z",
    "degrees": [
        {"uk_degree": "083", "subject": "100485", "graduation_year": 2006, "degree_id": "d1", "subject_uuid": "u"},
    ],
    "placements": [{"urn": "100001", "name": "A school", "postcode": "AB1 2CD", "placement_id": "p1"}],
}


def test_a_listed_trainee_reads_as_its_dict_for_every_key_planning_reads():
    listed = ListedTrainee(LISTED)
    for key in ListedTrainee.KEYS:
        assert listed.get(key) == LISTED.get(key) or key in ("degrees", "placements")
        assert listed.get(key, "default") == LISTED.get(key, "default") or key in ("degrees", "placements")
        assert (key in listed) == (key in LISTED)
    assert listed["middle_names"] is None and listed.get("middle_names", "x") is None  # given as null: null
    with pytest.raises(KeyError):
        listed["email"]  # absent, as from the dict
    [degree] = listed["degrees"]
    assert dict(degree) == {"uk_degree": "083", "subject": "100485", "graduation_year": 2006, "degree_id": "d1"}
    [placement] = listed["placements"]
    assert dict(placement) == {"urn": "100001", "name": "A school", "placement_id": "p1"}
    assert ListedTrainee.of(listed) is listed and ListedTrainee(listed) == listed


def test_reading_a_key_a_listed_trainee_does_not_keep_fails_rather_than_giving_none():
    listed = ListedTrainee(LISTED)
    for key in ("trn", "ethnic_group", "created_at"):
        with pytest.raises(NotKept):
            listed.get(key)
    with pytest.raises(NotKept):
        listed["degrees"][0].get("subject_uuid")
    with pytest.raises(NotKept):
        _ = "trn" in listed  # not "absent", as the dict would have said


@pytest.mark.parametrize("odd", [None, "damaged", ["damaged"], [{"urn": "100001"}, "damaged"]])
def test_degrees_or_placements_that_are_not_a_list_of_objects_are_kept_as_they_came(odd):
    """Null, or damage: kept as Register sent it (compare.py reads a null as none), never a crash while listing."""
    listed = ListedTrainee({**LISTED, "degrees": odd, "placements": odd})
    assert (listed["degrees"], listed["placements"]) == (odd, odd)


def test_holdings_keep_listed_trainees_reduced_and_indexed_as_before():
    holdings = Holdings([LISTED, {**LISTED, "trainee_id": "def456", "hesa_id": None, "provider_trainee_id": "S1"}])
    assert all(isinstance(trainee, ListedTrainee) for trainee in holdings.by_id.values())
    assert [t["trainee_id"] for t in holdings.by_hesa["2510000000001"]] == ["abc123"]
    assert [t["trainee_id"] for t in holdings.by_provider_id["S1"]] == ["def456"]
    assert [t["trainee_id"] for t in holdings.by_birth[("", "smith")]] == ["abc123", "def456"]
    holdings.add({**LISTED, "hesa_id": "2510000000009"})  # listed again, with another HUSID
    assert holdings.by_hesa["2510000000001"] == () and len(holdings.by_hesa["2510000000009"]) == 1
    assert len(holdings) == 2
