"""Comparing an extract with what Register holds (sync/compare.py), against the emulator over HTTP: an unchanged
extract converges to no writes, and the drift report names each difference; and, in memory (tests/sync/held.py), each
value Register echoes otherwise than sent (register-api.md §3.6, §3.7), and what a PUT carries (§2.6)."""

from __future__ import annotations

import csv
import json
import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest
from held import listed, record
from hesa_extracts import hesa_trainee, write_hesa_csv

from register_batch.model import ALL_CLEARABLE_INITIATIVES
from register_batch.reference import DISABILITY_FIELDS
from register_batch.sync.compare import (
    NestedChanges,
    create_body,
    degree_changes,
    drift,
    placement_changes,
    update_body,
)
from trainee_extracts import trainee, write_extract
from valid_trainee import NON_UK_DEGREE

BRITISH = ("GB", "FK", "GG", "IM", "IO", "JE")  # hesa-formats.md §2.3.4: one entry, "british"
# Blank columns of a ninth degree and placement: the header has a set of each to spare, so a row lists every degree
# and placement of its trainee (one that filled every set could leave some out, and would delete none, review29 F3).
ROOM_TO_SPARE = {"F_DEGTYPE_9": "", "F_PLMNTSCH_9": ""}


def test_nationalities_register_holds_as_british_converge(register, tmp_path):
    rows = [dict(trainee(n), nationality=code) for n, code in enumerate(BRITISH, start=1)]
    extract = write_extract(tmp_path / "in.csv", rows)
    assert register.sync(extract).actions == Counter(create=6)
    assert {t["nationality"] for t in register.trainees(2025)} == {"GB"}  # register-api.md §3.6: GB is echoed

    again = register.sync(extract)
    assert again.actions == Counter(unchanged=6) and again.exit_code == 0
    assert register.writes() == Counter({"POST /trainees": 6})


def test_a_lead_partner_changed_by_its_ukprn_alone_is_sent_and_then_converges(register, tmp_path):
    """register-api.md §3.1: with no training_partner_urn key Register uses training_partner_ukprn, so a lead partner
    the SRS changed by its UKPRN is sent as an update, once (review132 F1: a UKPRN change was never compared in a
    test, and a sync skipping it would have left Register holding the old partner)."""

    def written(name: str, row: dict) -> Path:  # the template has no training_partner_ukprn column: one of its own
        with (tmp_path / name).open("w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, fieldnames=[*row])
            writer.writeheader()
            writer.writerow(row)
        return tmp_path / name

    row = dict(trainee(1), training_partner_ukprn="10000001")
    assert register.sync(written("a.csv", row)).actions == Counter(create=1)
    moved = written("b.csv", dict(row, training_partner_ukprn="10000002"))
    done = register.sync(moved)
    assert done.actions == Counter(update=1) and done.exit_code == 0, done.summary_line()
    assert done.results[0].plan.changes == [
        {"field": "training_partner_ukprn", "register": "10000001", "source": "10000002"}
    ]
    assert [t["training_partner_ukprn"] for t in register.trainees(2025)] == ["10000002"]
    assert register.sync(moved).actions == Counter(unchanged=1)


def test_a_course_year_written_with_a_sign_converges(register, tmp_path):
    """Register takes `+1` as a whole number (register-api.md §3.1) and echoes it as the integer 1 (§3.6)."""
    extract = write_extract(tmp_path / "in.csv", [dict(trainee(1), course_year="+1")])
    assert register.sync(extract).actions == Counter(create=1)
    again = register.sync(extract)
    assert again.actions == Counter(unchanged=1) and again.exit_code == 0
    assert register.writes() == Counter({"POST /trainees": 1})


def test_a_name_register_holds_decomposed_is_not_drift_from_the_same_name_composed():
    """review107 F2: another client sent `Zoë` decomposed (e + U+0308); every input is read composed (NFC), so an
    export read back, or the SRS's own record, showed a change between two identical-looking names and sent an
    update every night. A name that differs otherwise is still drift."""
    mine = dict(trainee(1), first_names="Zo\u00eb", last_name="Bront\u00eb")
    held = dict(mine, first_names="Zoe\u0308", last_name="Bronte\u0308")
    assert drift(mine, held) == []
    assert drift(dict(mine, first_names="Zoe"), held) == [
        {"field": "first_names", "register": "Zoe\u0308", "source": "Zoe"}
    ]


def test_what_another_clients_partial_update_derived_otherwise_is_mended_once(register, tmp_path):
    """review92 F2: another client's PUT of the first names alone makes Register derive the course's phase from no
    route and age range (secondary) and the diversity disclosure from no ethnicity or disability (not disclosed),
    register-api.md §2.6 ⚠. No field of the record differed, so the sync never sent the PUT that derives them again:
    a primary course stayed secondary. Mended by the record's PUT, once: the next night has nothing to send."""
    primary = dict(trainee(1), course_age_range="13911", course_subject_1="100511")
    extract = write_extract(tmp_path / "in.csv", [primary, trainee(2)])
    assert register.sync(extract).actions == Counter(create=2)
    [held] = [t for t in register.trainees(2025) if t["hesa_id"] == primary["hesa_id"]]
    assert (held["course_education_phase"], held["diversity_disclosure"]) == ("primary", "diversity_disclosed")
    with register.client() as client:
        client.update_trainee(held["trainee_id"], {"first_names": primary["first_names"]})
    [held] = [t for t in register.trainees(2025) if t["hesa_id"] == primary["hesa_id"]]
    assert (held["course_education_phase"], held["diversity_disclosure"]) == ("secondary", "diversity_not_disclosed")
    mended = register.sync(extract)
    assert mended.actions == Counter(update=1, unchanged=1) and mended.exit_code == 0
    assert mended.results[0].plan.changes == [
        {"field": "course_education_phase", "register": "secondary", "source": "primary"},
        {"field": "diversity_disclosure", "register": "diversity_not_disclosed", "source": "diversity_disclosed"},
    ]
    [held] = [t for t in register.trainees(2025) if t["hesa_id"] == primary["hesa_id"]]
    assert (held["course_education_phase"], held["diversity_disclosure"]) == ("primary", "diversity_disclosed")
    assert register.sync(extract).actions == Counter(unchanged=2)


def test_a_field_changed_beside_a_blank_ethnicity_is_updated_and_named(register, tmp_path):
    """A blank ethnicity is no difference, and the fields after it in Register's order are still compared."""
    register.sync(write_extract(tmp_path / "a.csv", [trainee(1), trainee(2)]))
    rows = [dict(trainee(1), ethnicity="", course_year="2"), dict(trainee(2), ethnicity="")]
    result = register.sync(write_extract(tmp_path / "b.csv", rows))
    assert [r.plan.action for r in result.results] == ["update", "unchanged"] and result.exit_code == 0
    assert result.results[0].plan.changes == [{"field": "course_year", "register": 1, "source": "2"}]
    assert [(t["course_year"], t["ethnicity"]) for t in register.trainees(2025)] == [(2, "120"), (1, "103")]


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
    row = {**hesa_trainee(1, degrees=2, placements=2), **ROOM_TO_SPARE}
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
    with (tmp_path / f"reports-{register.runs}" / "results.csv").open(newline="") as fh:
        [unchanged] = list(csv.DictReader(fh))
    assert unchanged["changes"] == ""  # a blank cell for a record with nothing to change, not "[]"
    [held] = register.trainees(2026)
    assert sorted((d["grade"], d["institution"]) for d in held["degrees"]) == [("01", "1166"), ("02", "0117")]
    assert sorted(p["urn"] for p in held["placements"]) == ["137012", "137999"]


def _degree(row: dict, k: int, grade: str, institution: str, *, country: str = "") -> None:
    """Degree k of a HESA row: a BA (083) in 100425 ending 2018, UK unless a country is given."""
    row.update(
        {
            f"F_DEGTYPE_{k}": "083",
            f"F_DEGSBJ1_{k}": "100425",
            f"F_DEGCLSS_{k}": grade,
            f"F_DEGEST_{k}": institution,
            f"F_DEGENDDT_{k}": "2018-06-30",
            f"F_DEGCTRY_{k}": country,
        }
    )


def _held_degrees(register) -> list[tuple]:
    [held] = register.trainees(2026)
    with register.client() as client:
        return sorted((d["grade"], d["institution"], d["country"]) for d in client.list_degrees(held["trainee_id"]))


def test_two_like_degrees_reordered_and_corrected_pair_by_what_they_share(register, tmp_path):
    """Paired by order, the first correction would PUT a degree into a copy of its sibling: 409 every night."""
    first = hesa_trainee(1, degrees=0, placements=1)
    _degree(first, 1, "01", "0117")
    _degree(first, 2, "02", "0117")
    register.sync(write_hesa_csv(tmp_path / "a.csv", [first]))
    later = hesa_trainee(1, degrees=0, placements=1)
    _degree(later, 1, "02", "0116")  # the same two degrees, the other way round, each at another institution
    _degree(later, 2, "01", "0116")
    before = register.writes()
    result = register.sync(write_hesa_csv(tmp_path / "b.csv", [later]))
    assert result.exit_code == 0 and result.outcomes == Counter(done=1)
    assert register.writes() - before == Counter({"PUT /trainees/{trainee_id}/degrees/{degree_id}": 2})
    assert sorted(c["field"] for c in result.results[0].plan.changes) == [
        "degrees[0].institution",
        "degrees[1].institution",
    ]  # only what changed: no grade swapped on paper
    assert _held_degrees(register) == [("01", "0116", None), ("02", "0116", None)]
    assert register.sync(write_hesa_csv(tmp_path / "b.csv", [later])).actions == Counter(unchanged=1)


def test_a_degree_with_the_other_locales_type_is_created_and_left_alone_after(register, tmp_path):
    """review113 F2: Register takes a degree whose other locale's type (which it does not check, §3.7) is not a code,
    and gives that type back null; or is a code, which it gives back. validate held the first back (Register's error
    message, but not Register's answer); once sent, each must converge, not be written again every night."""
    non_uk = {"uk_degree": "BA", "non_uk_degree": "083", "awarding_institution": "", "degree_country": "FR"}
    rows = [
        dict(trainee(1), non_uk_degree="Bachelor of Arts"),  # a UK degree: an institution
        dict(trainee(2), **non_uk),
        dict(trainee(3), non_uk_degree="051"),
    ]
    first = register.sync(write_extract(tmp_path / "a.csv", rows))
    assert first.exit_code == 0 and first.actions == Counter(create=3), first.actions
    created = register.writes()
    runs = [register.sync(write_extract(tmp_path / "a.csv", rows)) for _ in range(2)]
    assert [r.actions for r in runs] == [Counter(unchanged=3)] * 2
    assert register.writes() == created
    held = {
        t["provider_trainee_id"]: [(d["uk_degree"], d["non_uk_degree"], d["country"]) for d in t["degrees"]]
        for t in register.trainees(2025)
    }
    assert held == {
        "SRS-00001": [("083", None, None)],
        "SRS-00002": [(None, "083", "FR")],
        "SRS-00003": [("083", "051", None)],
    }


def test_a_degree_corrected_from_uk_to_non_uk_is_replaced_and_converges(register, tmp_path):
    """A PUT never clears the institution (§2.10), and a non-UK degree may not have one (§3.7)."""
    first = hesa_trainee(1, degrees=0, placements=1)
    _degree(first, 1, "02", "0117")
    register.sync(write_hesa_csv(tmp_path / "a.csv", [first]))
    later = hesa_trainee(1, degrees=0, placements=1)
    _degree(later, 1, "02", "", country="FR")
    result = register.sync(write_hesa_csv(tmp_path / "b.csv", [later]))
    assert result.exit_code == 0 and result.outcomes == Counter(done=1)
    assert _held_degrees(register) == [("02", None, "FR")]
    assert register.sync(write_hesa_csv(tmp_path / "b.csv", [later])).actions == Counter(unchanged=1)


def test_a_degree_added_beside_a_correction_is_really_added_before_done(register, tmp_path):
    """The added degree duplicates the held one until that one's grade is corrected: corrections go first, and a
    409 on an add counts as done only if Register holds that very degree."""
    first = hesa_trainee(1, degrees=0, placements=1)
    _degree(first, 1, "02", "0117")
    register.sync(write_hesa_csv(tmp_path / "a.csv", [first]))
    later = hesa_trainee(1, degrees=0, placements=1)
    _degree(later, 1, "01", "0117")  # grade corrected
    _degree(later, 2, "02", "0116")  # and a second degree
    result = register.sync(write_hesa_csv(tmp_path / "b.csv", [later]))
    assert result.exit_code == 0 and result.outcomes == Counter(done=1)
    assert _held_degrees(register) == [("01", "0117", None), ("02", "0116", None)]
    assert register.sync(write_hesa_csv(tmp_path / "b.csv", [later])).actions == Counter(unchanged=1)


def test_a_correction_pairs_with_the_held_degree_it_cannot_make_a_duplicate_of(register, tmp_path):
    """Register holds two degrees of one subject and year; the extract now has one, agreeing with the first on its
    institution and the second on its grade. Paired with the first, its PUT made a copy of the second (409, §3.7),
    every run: it is the second's institution that is corrected, and the first is removed."""
    first = hesa_trainee(1, degrees=0, placements=1)
    _degree(first, 1, "02", "0119")
    _degree(first, 2, "01", "0117")
    register.sync(write_hesa_csv(tmp_path / "a.csv", [first]))
    later = {**hesa_trainee(1, degrees=0, placements=1), **ROOM_TO_SPARE}
    _degree(later, 1, "01", "0119")
    before = register.writes()
    result = register.sync(write_hesa_csv(tmp_path / "b.csv", [later]))
    assert result.exit_code == 0 and result.outcomes == Counter(done=1)
    assert register.writes() - before == Counter(
        {"PUT /trainees/{trainee_id}/degrees/{degree_id}": 1, "DELETE /trainees/{trainee_id}/degrees/{degree_id}": 1}
    )
    assert _held_degrees(register) == [("01", "0119", None)]
    assert register.sync(write_hesa_csv(tmp_path / "b.csv", [later])).actions == Counter(unchanged=1)


def test_a_route_corrected_to_a_postgraduate_one_with_its_degree_is_updated(register, tmp_path):
    """Register checks a trainee's PUT against the degrees it holds (§2.6; R7a, §3.3): the PUT went first and was
    refused, "degrees_attributes must be entered if specifying a postgraduate training_route", every run, though the
    degree was in the extract. The degree is added first."""
    undergraduate = {**hesa_trainee(1, degrees=0, placements=1), "F_ENTRYRTE": "11"}
    assert register.sync(write_hesa_csv(tmp_path / "a.csv", [undergraduate])).actions == Counter(create=1)
    postgraduate = hesa_trainee(1, degrees=1, placements=1)
    result = register.sync(write_hesa_csv(tmp_path / "b.csv", [postgraduate]))
    assert result.exit_code == 0 and result.outcomes == Counter(done=1)
    assert [s.kind for s in result.results[0].plan.steps] == ["add_degree", "update"]
    [held] = register.trainees(2026)
    assert held["training_route"] == "12" and len(held["degrees"]) == 1
    assert register.sync(write_hesa_csv(tmp_path / "b.csv", [postgraduate])).actions == Counter(unchanged=1)


def test_a_postgraduate_trainee_register_holds_without_a_degree_gets_it_before_its_update(register, tmp_path):
    """Its only degree deleted in Register: any PUT of the trainee is refused (R7a, against the degrees Register holds)
    until the degree is back, so the degree goes first whatever the update changes (review33)."""
    first = hesa_trainee(1, degrees=1, placements=1)
    register.sync(write_hesa_csv(tmp_path / "a.csv", [first]))
    [held] = register.trainees(2026)
    with register.client() as client:
        for degree in client.list_degrees(held["trainee_id"]):
            client.delete_degree(held["trainee_id"], degree["degree_id"])
    renamed = {**first, "F_FNAMES": "Amarachi"}
    result = register.sync(write_hesa_csv(tmp_path / "b.csv", [renamed]))
    assert result.exit_code == 0 and result.outcomes == Counter(done=1), result.summary_line()
    assert [s.kind for s in result.results[0].plan.steps] == ["add_degree", "update"]
    assert register.sync(write_hesa_csv(tmp_path / "b.csv", [renamed])).actions == Counter(unchanged=1)


def test_a_placement_without_a_urn_that_no_hesa_tag_can_hold_is_never_deleted(register, tmp_path):
    """A placement Register holds by name and postcode only (a school with no URN, added in Register's service)
    cannot be in a HESA extract, which holds placements by F_PLMNTSCH alone: its absence from the extract is not
    the SRS saying to remove it. A nightly sync must not delete it, and a changed URN placement still is."""
    row = {**hesa_trainee(1, degrees=1, placements=2), **ROOM_TO_SPARE}
    register.sync(write_hesa_csv(tmp_path / "a.csv", [row]))
    [held] = register.trainees(2026)
    with register.client() as client:
        client.add_placement(held["trainee_id"], {"name": "St Mary's Nursery", "postcode": "SW1A 1AA"})
    created = register.writes()

    again = register.sync(write_hesa_csv(tmp_path / "a.csv", [row]), dry_run=True)
    assert again.actions == Counter(unchanged=1) and again.results[0].plan.changes == []
    register.sync(write_hesa_csv(tmp_path / "a.csv", [row]))
    assert register.writes() == created

    changed = dict(row, F_PLMNTSCH_1="137999")
    planned = register.sync(write_hesa_csv(tmp_path / "b.csv", [changed]), dry_run=True)
    assert planned.results[0].plan.changes == [
        {"field": "placements[0]", "register": None, "source": "urn 137999"},
        {"field": "placements", "register": "urn 137011", "source": None},
    ]


NONE_OF_THEM = {field: None for field in DISABILITY_FIELDS}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({"course_year": "01"}, {"course_year": 1}),  # §3.6: integers
        ({"application_id": "0123"}, {"application_id": 123}),
        ({"ethnicity": "998"}, {"ethnicity": "997"}),  # §3.6: 998 and 999 come back as 997
        ({"ethnicity": "999"}, {"ethnicity": "997"}),
        ({"ethnicity": None}, {"ethnicity": "120"}),  # a blank never clears Register's value
        ({"employing_school_urn": "900020"}, {"employing_school_urn": None}),  # a magic URN: null
        ({"training_partner_urn": "900030"}, {"training_partner_urn": None}),
        ({"trainee_start_date": "2025-09-01"}, {"trainee_start_date": None}),  # defaulted to itt_start_date
        ({"funding_method": "C", "training_initiative": "009"}, {"funding_method": "C"}),  # R19: echoed null
        ({"nationality": "JE"}, {"nationality": "GB"}),  # hesa-formats.md §2.3.4
        ({"email": None}, {"email": "old@example.com"}),
        ({"disability1": "58", "disability2": "57"}, {"disability1": "57", "disability2": "58"}),  # a set
        ({"disability1": None}, {"disability1": "57"}),
        # §3.1: Register does not use the UKPRN beside a training_partner_urn key
        (
            {"training_partner_urn": "137001", "training_partner_ukprn": "10000001"},
            {"training_partner_urn": "137001", "training_partner_ukprn": "10000002"},
        ),
    ],
)
def test_a_value_register_echoes_otherwise_than_sent_is_no_drift(ours, theirs):
    assert drift(record(**ours).data, listed(**theirs)) == []


@pytest.mark.parametrize(
    ("ours", "theirs", "change"),
    [
        ({"course_year": "2"}, {"course_year": 1}, ("course_year", 1, "2")),
        ({"application_id": "124"}, {"application_id": 123}, ("application_id", 123, "124")),
        ({"application_id": "124"}, {"application_id": None}, ("application_id", None, "124")),
        ({"ethnicity": "120"}, {"ethnicity": "997"}, ("ethnicity", "997", "120")),
        ({"ethnicity": "998"}, {"ethnicity": "120"}, ("ethnicity", "120", "998")),
        ({"employing_school_urn": "137001"}, {"employing_school_urn": None}, ("employing_school_urn", None, "137001")),
        (
            {"trainee_start_date": "2025-10-01"},
            {"trainee_start_date": None},
            ("trainee_start_date", None, "2025-10-01"),
        ),
        ({"training_initiative": "009"}, {}, ("training_initiative", None, "009")),
        ({"funding_method": "C", "sex": "10"}, {"funding_method": "C"}, ("sex", "11", "10")),  # R19: initiative only
        ({"nationality": "FR"}, {"nationality": "GB"}, ("nationality", "GB", "FR")),
        ({"disability1": "58"}, {"disability1": "57"}, ("disabilities", ["57"], ["58"])),
        # §3.1: with no training_partner_urn key Register uses the UKPRN: a changed lead partner is sent (review132 F1)
        (
            {"training_partner_ukprn": "10000001"},
            {"training_partner_ukprn": "10000002"},
            ("training_partner_ukprn", "10000002", "10000001"),
        ),
    ],
)
def test_a_value_that_differs_is_drift_naming_the_field_and_both_values(ours, theirs, change):
    found = drift(record(**ours).data, listed(**theirs))
    assert [(c["field"], c["register"], c["source"]) for c in found] == [change]


def test_a_put_carries_the_managed_fields_register_would_reset_when_the_extract_leaves_them_blank():
    """§2.6: a PUT without training_initiative sets no_initiative, and diversity is derived from the ethnicity and
    disability keys it is sent: Register's own values are sent back, so a blank changes nothing. (The initiative only
    where the input does not give it, `unsaid`: else its blank says none, review196 F1.)"""
    theirs = listed(training_initiative="009", ethnicity="120", disability1="57", disability2="58")
    blank = record(training_initiative=None, ethnicity=None, disability1=None).data
    body = update_body(blank, theirs, ALL_CLEARABLE_INITIATIVES)
    assert (body["training_initiative"], body["ethnicity"]) == ("009", "120")
    assert {field: body[field] for field in DISABILITY_FIELDS} == {
        **dict.fromkeys(DISABILITY_FIELDS, ""),
        **{
            "disability1": "57",
            "disability2": "58",
        },
    }
    assert "degrees_attributes" not in body and body["email"] == "dave.george@example.com"
    alone = update_body(record(training_initiative=None, ethnicity=None, disability1=None).data)  # nothing to keep
    assert not {"training_initiative", "ethnicity", *DISABILITY_FIELDS} & set(alone) and alone["email"] == body["email"]


def test_a_put_sends_all_nine_disability_keys_so_that_the_extracts_set_replaces_registers():
    """§2.6: disability keys are merged by key; only all nine (unused ones "") replace the set."""
    theirs = listed(training_initiative="025", ethnicity="120", disability1="57", disability2="58")
    body = update_body(record(training_initiative="009").data, theirs)
    assert {field: body[field] for field in DISABILITY_FIELDS} == {
        **dict.fromkeys(DISABILITY_FIELDS, ""),
        "disability1": "95",
    }
    assert (body["training_initiative"], body["ethnicity"]) == ("009", "899")  # the extract's own, not Register's
    bare = update_body(record(ethnicity=None, disability1=None).data, listed(ethnicity=None, **NONE_OF_THEM))
    assert not {"ethnicity", "training_initiative", *DISABILITY_FIELDS} & set(bare)


def test_a_put_leaves_out_a_nationality_register_holds_already_and_sends_one_that_differs():
    """A PUT naming a nationality replaces every nationality the trainee has in Register (update_trainee_service.rb:
    `nationalities.destroy_all`; review21): a nightly update of an email took away a second nationality given in
    Register's service. GET echoes the first; one the extract agrees with is not sent again."""
    theirs = listed(nationality="GB")
    assert "nationality" not in update_body(record(nationality="GB", email="new@example.com").data, theirs)
    assert update_body(record(nationality="FR").data, theirs)["nationality"] == "FR"  # a change is sent
    assert update_body(record(nationality="GB").data, listed(nationality=None))["nationality"] == "GB"
    assert update_body(record(nationality="GB").data)["nationality"] == "GB"  # nothing listed to compare with


UK_DEGREE = {"uk_degree": "083", "subject": "100485", "grade": "02", "graduation_year": "2012", "institution": "0117"}


def stored(degree_id: str = "d1", **changes) -> dict:
    """UK_DEGREE as Register lists it (§3.7): its id, the year an integer, a UK degree's country null."""
    return {**UK_DEGREE, "graduation_year": 2012, "country": None, "degree_id": degree_id, **changes}


def writes(found: NestedChanges) -> tuple[list, list, list]:
    """(bodies added, ids updated, ids deleted)."""
    return found.add, [item_id for item_id, _body in found.update], found.delete


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({"grade": "09"}, {"grade": "14"}),  # §3.7: 09 is stored as 14
        ({"institution": "0133"}, {"institution": "0149"}),  # and 0133 as 0149
        ({"graduation_year": "2012-06-30"}, {}),  # a year, as an integer
        ({"country": "XF"}, {}),  # a UK degree's country is null
        ({"grade": None, "institution": None}, {}),  # a blank is no difference (§2.10)
    ],
)
def test_a_degree_as_register_stores_it_is_no_change(ours, theirs):
    found = degree_changes([{**UK_DEGREE, **ours}], [stored(**theirs)])
    assert (writes(found), found.changes) == (([], [], []), [])


def test_a_corrected_degree_is_one_put_naming_the_corrected_value():
    corrected = {**UK_DEGREE, "grade": "01"}
    found = degree_changes([corrected], [stored()])
    assert writes(found) == ([], ["d1"], []) and found.update[0][1] == corrected
    assert found.changes == [{"field": "degrees[0].grade", "register": "02", "source": "01"}]


def test_another_degree_is_added_and_registers_deleted_only_when_the_source_holds_every_degree():
    other = {**UK_DEGREE, "subject": "100425"}
    found = degree_changes([other], [stored()])
    assert writes(found) == ([other], [], ["d1"])
    assert found.changes == [
        {"field": "degrees[0]", "register": None, "source": _describe_uk_degree(subject="100425")},
        {"field": "degrees", "register": _describe_uk_degree(), "source": None},
    ]
    assert writes(degree_changes([other], [stored()], complete=False)) == ([other], [], [])
    assert writes(degree_changes([other], [stored(degree_id=None)])) == ([other], [], [])  # nothing to name it by


def _describe_uk_degree(subject: str = "100485") -> str:
    """UK_DEGREE (of `subject`) as the drift report names a degree added or deleted."""
    return f"uk_degree 083, subject {subject}, grade 02, graduation_year 2012, institution 0117"


def test_two_degrees_added_at_once_are_both_added_and_named():
    first, second = {**UK_DEGREE, "subject": "100425"}, {**UK_DEGREE, "subject": "100403"}
    found = degree_changes([UK_DEGREE, first, second], [stored()])
    assert writes(found) == ([first, second], [], [])
    assert [c["field"] for c in found.changes] == ["degrees[1]", "degrees[2]"]


def test_a_corrected_degree_pairs_with_the_registers_degree_it_agrees_with_most():
    """Of two held degrees of its subject and year, the one that needs the fewest values changed is corrected."""
    found = degree_changes([{**UK_DEGREE, "institution": "0116"}], [stored("d1"), stored("d2", grade="03")])
    assert writes(found) == ([], ["d1"], ["d2"])
    assert [c["field"] for c in found.changes] == ["degrees[0].institution", "degrees"]


def test_a_degree_held_twice_in_the_source_is_not_added_into_registers_409():
    """The copy differs only in its institution, which Register's duplicate rule does not compare (§3.7): its degree
    endpoint refuses it (validate refuses such a record too, R7b, §3.3). It was planned as an addition."""
    found = degree_changes([UK_DEGREE, {**UK_DEGREE, "institution": "0116"}], [stored()])
    assert writes(found) == ([], [], [])
    assert found.covered == [(1, "degree d1")]


def test_a_degree_repeating_one_added_before_it_or_corrected_is_not_added():
    """What a degree to add is checked against is what the trainee holds when it is sent: Register's degrees as
    corrected (the PUTs go first), and those added before it. A degree repeating one deleted after it is added."""
    gradeless = {**NON_UK_DEGREE, "grade": None}
    found = degree_changes([NON_UK_DEGREE, gradeless], [])
    assert writes(found) == ([NON_UK_DEGREE], [], []) and found.covered == [(1, "degrees_attributes[0]")]
    # Register's d1 moves to Germany (same subject and year: a correction); the gradeless copy of it, which d1 as
    # Register holds it now does not cover, is not added either.
    corrected, copy = {**NON_UK_DEGREE, "country": "DE"}, {**gradeless, "country": "DE"}
    found = degree_changes([corrected, copy], [stored_non_uk("d1")])
    assert writes(found) == ([], ["d1"], []) and found.covered == [(1, "degree d1")]


def test_a_degree_corrected_from_uk_to_non_uk_is_replaced():
    """§2.10: a PUT never clears the institution, and a non-UK degree may not have one (§3.7)."""
    found = degree_changes([NON_UK_DEGREE], [stored()])
    assert writes(found) == ([NON_UK_DEGREE], [], ["d1"])


def test_a_degree_replaced_for_its_type_is_named_with_both_sides_and_the_next_correction_is_still_a_put():
    """The drift names the replaced degree as Register holds it and as the extract has it; the degree after it, with
    a corrected grade, is still corrected in place, not deleted with nothing added in its stead."""
    corrected = {**UK_DEGREE, "subject": "100425", "grade": "01"}
    found = degree_changes([NON_UK_DEGREE, corrected], [stored("d1"), stored("d2", subject="100425")])
    assert writes(found) == ([NON_UK_DEGREE], ["d2"], ["d1"])
    non_uk = "non_uk_degree 083, subject 100485, grade 02, graduation_year 2012, country FR"
    assert found.changes == [
        {"field": "degrees[0]", "register": _describe_uk_degree(), "source": non_uk},
        {"field": "degrees[1].grade", "register": "02", "source": "01"},
    ]


def stored_non_uk(degree_id: str = "d1", **changes) -> dict:
    """NON_UK_DEGREE as Register lists it (§3.7): its id, the year an integer, no institution."""
    return {**NON_UK_DEGREE, "graduation_year": 2012, "institution": None, "degree_id": degree_id, **changes}


def test_a_non_uk_degrees_corrected_country_is_one_put():
    """§3.7: only a UK degree's country is stored as null; a non-UK degree's country is compared like any value."""
    found = degree_changes([{**NON_UK_DEGREE, "country": "DE"}], [stored_non_uk()])
    assert writes(found) == ([], ["d1"], [])
    assert found.changes == [{"field": "degrees[0].country", "register": "FR", "source": "DE"}]


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        ({**NON_UK_DEGREE, "uk_degree": "BA"}, stored_non_uk()),
        ({**UK_DEGREE, "non_uk_degree": "Bachelor of Arts"}, stored()),
        ({**NON_UK_DEGREE, "uk_degree": "051"}, stored_non_uk(uk_degree="051")),
    ],
    ids=["non-UK degree, not a code", "UK degree, not a code", "non-UK degree, a code"],
)
def test_the_other_locales_type_as_register_gives_it_back_is_no_change(ours, theirs):
    """review113 F2: Register does not check the other locale's type (§3.7) and gives back null for a value that is not
    a code, which the source's value then was, every night: a UK<->non-UK replacement (POST + DELETE) each run."""
    found = degree_changes([ours], [theirs])
    assert (writes(found), found.changes) == (([], [], []), [])


def test_a_corrected_graduation_year_replaces_the_degree():
    """Subject and year identify a degree to correct: another year is another degree, added, and Register's deleted."""
    found = degree_changes([{**UK_DEGREE, "graduation_year": "2013"}], [stored()])
    assert writes(found) == ([{**UK_DEGREE, "graduation_year": "2013"}], [], ["d1"])


def test_a_degree_given_only_an_institution_is_a_uk_degree_replacing_a_non_uk_one():
    """A source degree with neither type but an institution is a UK one (only UK degrees have institutions, §3.7):
    a PUT could not make Register's non-UK degree a UK one, so it is replaced."""
    uk_by_institution = {"subject": "100485", "grade": "02", "graduation_year": "2012", "institution": "0117"}
    found = degree_changes([uk_by_institution], [stored_non_uk()])
    assert writes(found) == ([uk_by_institution], [], ["d1"])


def test_a_correction_names_only_the_values_that_differ_not_the_blank_ones():
    """A blank in the extract leaves Register's value as it is (§2.10), so it is no change to report."""
    found = degree_changes([{**UK_DEGREE, "grade": "01", "institution": None}], [stored()])
    assert writes(found) == ([], ["d1"], [])
    assert [c["field"] for c in found.changes] == ["degrees[0].grade"]


def urns(*values: str) -> list[dict]:
    return [{"urn": value} for value in values]


def test_placements_are_compared_by_urn_and_registers_extra_deleted_only_from_a_complete_source():
    held = [{"urn": "137001", "name": "A", "placement_id": "p1"}, {"urn": "137002", "name": "B", "placement_id": "p2"}]
    found = placement_changes(urns("137001", "137003"), held)
    assert writes(found) == ([{"urn": "137003"}], [], ["p2"])
    assert found.changes == [
        {"field": "placements[1]", "register": None, "source": "urn 137003"},
        {"field": "placements", "register": "urn 137002", "source": None},
    ]
    assert writes(placement_changes(urns("137001", "137003"), held, complete=False)) == ([{"urn": "137003"}], [], [])
    assert writes(placement_changes(urns("137001", "137001"), held[:1])) == ([{"urn": "137001"}], [], [])
    assert writes(placement_changes(urns("137001"), [*held[:1], {"urn": "137009"}])) == ([], [], [])  # no id


def test_a_create_omits_the_keys_the_record_leaves_out_rather_than_sending_null():
    """§2.5: optional keys are left out of a create, not sent as null; degrees and placements go nested."""
    data = record().data
    data |= {"training_initiative": None, "degrees_attributes": [{**data["degrees_attributes"][0], "grade": None}]}
    body = create_body(data)
    assert "training_initiative" not in body and body["email"] == data["email"]
    [degree] = body["degrees_attributes"]
    assert "grade" not in degree and degree["subject"] == data["degrees_attributes"][0]["subject"]
    assert body["placements_attributes"] == data["placements_attributes"]


def test_a_create_sends_every_field_a_degree_and_a_placement_give():
    """§2.5, §3.7, §3.8: a create's nested degree and placement carry every field the record gives, a placement's
    name and postcode too (a school with no URN is named and located by them; review132 F4)."""
    placement = {"urn": None, "name": "Oak School", "postcode": "BS1 4DJ"}
    data = record(placements_attributes=[placement]).data
    body = create_body(data)
    assert body["degrees_attributes"] == data["degrees_attributes"]
    assert body["placements_attributes"] == [{"name": "Oak School", "postcode": "BS1 4DJ"}]
    assert {k: v for k, v in body.items() if not k.endswith("_attributes")} == {
        k: v for k, v in data.items() if not k.endswith("_attributes")
    }


def test_two_placements_at_one_school_are_both_added():
    """Two placements of one trainee at the same school (two terms there) are two placements: Register has no
    duplicate check for them (§2.11), and neither is lost or sent twice."""
    assert writes(placement_changes(urns("137001", "137001"), [])) == ([{"urn": "137001"}, {"urn": "137001"}], [], [])
    held = [{"urn": "137001", "name": "A", "placement_id": "p1"}]
    assert writes(placement_changes(urns("137001", "137001", "137001"), held)) == (urns("137001", "137001"), [], [])


def test_a_placement_repeating_a_urn_register_holds_is_added_as_the_occurrence_register_lacks():
    """review116 F2: Register holds the school's first placement; the extract's third is a second spell there. The
    first occurrence was added (its name, "Placement 1") and named placements[0]: a create holds the third's."""
    source = [
        {"urn": "116510", "name": "Placement 1"},
        {"urn": "136576", "name": "Placement 2"},
        {"urn": "116510", "name": "Placement 3"},
    ]
    held = [{**source[0], "placement_id": "p1"}, {**source[1], "placement_id": "p2"}]
    found = placement_changes(source, held)
    assert writes(found) == ([source[2]], [], [])
    assert found.changes == [{"field": "placements[2]", "register": None, "source": "urn 116510"}]


def test_a_placement_without_a_urn_is_deleted_only_by_a_source_that_holds_such_placements():
    held = [{"urn": None, "name": "St Mary's Nursery", "placement_id": "p1"}]
    assert writes(placement_changes(urns("137001"), held)) == ([{"urn": "137001"}], [], [])
    named = [{"name": "Forest School", "postcode": "SW1A 1AA"}]
    found = placement_changes(named, held)
    assert writes(found) == (named, [], ["p1"])
    assert found.changes == [  # named in the drift by their names, as Register's own are
        {"field": "placements[0]", "register": None, "source": "name Forest School"},
        {"field": "placements", "register": "name St Mary's Nursery", "source": None},
    ]
    assert writes(placement_changes([{"name": "St Mary's Nursery"}], held)) == ([], [], [])


def _fingerprints(register) -> dict[str, str]:
    """The ledger's fingerprint of what each record last asked Register to hold, by the record's key."""
    with closing(sqlite3.connect(register.tmp_path / "state" / "ledger.sqlite3")) as db:
        return dict(db.execute("SELECT key, payload_hash FROM records"))


def test_the_ledger_fingerprints_what_a_record_asks_for_not_how_its_file_orders_columns(register, tmp_path):
    """The ledger keeps a fingerprint of what each record asked Register to hold (docs/configuration.md: "what was
    sent last"), to see there whether it changed: the same record gives the same one in another column order, and
    a changed value another one."""
    rows = [trainee(1), trainee(2)]
    register.sync(write_extract(tmp_path / "a.csv", rows))
    first = _fingerprints(register)
    assert len(first) == 2 and all(first.values())

    with (tmp_path / "a.csv").open(newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    with (tmp_path / "reversed.csv").open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([row[::-1] for row in table])
    assert register.sync(tmp_path / "reversed.csv").actions == Counter(unchanged=2)
    assert _fingerprints(register) == first

    rows[0]["email"] = "changed@example.com"
    assert register.sync(write_extract(tmp_path / "b.csv", rows)).actions == Counter(update=1, unchanged=1)
    changed = _fingerprints(register)
    assert len(changed) == 2 and [changed[key] == first[key] for key in sorted(first)].count(True) == 1
    assert all(changed.values())


def test_a_placement_with_a_magic_urn_added_to_a_trainee_register_holds_is_added_under_its_label(register, tmp_path):
    """A placement outside England (URN 900000) added to a trainee Register holds already goes to the placements
    endpoint, which gives magic URNs no label and matches them to no school, so it needs a name (register-api.md
    §3.8: 422 "name can't be blank"). It is sent with the label a create gives it (§3.8: the mapper replaces the
    name), not the `Placement N` every mapped placement gets (hesa-formats.md §5), which Register then showed for it
    alone; the next run finds it held."""
    row = hesa_trainee(1, placements=1)
    register.sync(write_hesa_csv(tmp_path / "a.csv", [row]))
    added = dict(row, F_PLMNTSCH_2="900000")
    done = register.sync(write_hesa_csv(tmp_path / "b.csv", [added]))
    assert done.actions == Counter(update=1) and done.exit_code == 0, [r.row() for r in done.results]
    [held] = register.trainees(2026)
    assert ("900000", "Placement outside England and Wales") in [(p["urn"], p["name"]) for p in held["placements"]]
    again = register.sync(write_hesa_csv(tmp_path / "b.csv", [added]))
    assert again.actions == Counter(unchanged=1)


@pytest.mark.parametrize("added", [False, True], ids=["register-holds-the-graded-one", "both-added-in-one-run"])
def test_a_degree_giving_nothing_another_lacks_is_not_sent_into_a_409_every_night(register, tmp_path, added):
    """review108 F5: the extract lists a non-UK degree twice, once without its (optional) grade. Register's degree
    endpoint refuses a degree whose every value given is another's of the trainee (§3.7 "Duplicate rule": blanks
    sent match anything), so the gradeless one was POSTed into a 409 every night, the record failed each time. It is
    not sent: the record is done, with a warning saying why."""
    first = hesa_trainee(1, degrees=0, placements=1)
    graded, gradeless = 1 + added, 2 + added
    if added:
        _degree(first, 1, "01", "0117")  # another degree (UK) Register holds; the two non-UK ones come later
    else:
        _degree(first, 1, "02", "", country="FR")
    register.sync(write_hesa_csv(tmp_path / "a.csv", [first]))
    later = dict(first)
    _degree(later, graded, "02", "", country="FR")
    _degree(later, gradeless, "", "", country="FR")
    before = register.writes()
    runs = [register.sync(write_hesa_csv(tmp_path / "b.csv", [later])) for _ in range(2)]
    added_degrees = Counter({"POST /trainees/{trainee_id}/degrees": 1}) if added else Counter()
    assert register.writes() - before == added_degrees
    for result in runs:
        assert result.exit_code == 0 and result.outcomes == Counter(done=1), result.summary_line()
        [only] = result.results
        [warning] = [i for i in only.issues if i.code == "sync_degree_covered"]
        assert warning.field == f"degrees_attributes[{gradeless - 1}]"
        assert "duplicate degree" in warning.message and "not sent" in warning.message
    assert [r.actions for r in runs] == [Counter(update=1) if added else Counter(unchanged=1), Counter(unchanged=1)]
    held = sorted((d["grade"] or "", d["country"] or "") for d in register.trainees(2026)[0]["degrees"])
    assert held == ([("01", ""), ("02", "FR")] if added else [("02", "FR")])
    assert "1 sync_degree_covered" in runs[-1].summary_line()
    html = (tmp_path / f"reports-{register.runs}" / "report.html").read_text()
    assert "1 degree: not sent, as Register refuses a degree whose every value given is another" in html


def test_a_placement_added_with_a_postcode_register_refuses_is_added_without_it(register, tmp_path):
    """review133 F1: a placement added to a trainee Register holds goes to `POST …/placements`, which checks the
    postcode (register-api.md §2.11, §3.8) where a create drops it (§2.5), so validate only warns of it
    (placement_postcode_invalid). It was sent as it was after the trainee's PUT: refused (422), the record half
    written, and refused again every night. It is sent without the postcode, as a create leaves it, the record's
    warning says so, and a valid postcode is still sent; the next run finds nothing to do."""
    mapping = tmp_path / "postcodes.yaml"
    mapping.write_text(
        "fields:\n  hesa:\n    placements:\n      fields:\n        urn: F_PLMNTSCH\n        postcode: F_PLMNTPC\n"
    )
    row = hesa_trainee(1, placements=1)
    register.sync(write_hesa_csv(tmp_path / "a.csv", [row]), mapping_files=[mapping])
    changed = dict(row, F_FNAMES="Callum", F_PLMNTSCH_2="654321", F_PLMNTPC_2="NOT A PC")
    changed |= {"F_PLMNTSCH_3": "654322", "F_PLMNTPC_3": "BN1 1AA"}
    extract = write_hesa_csv(tmp_path / "b.csv", [changed])
    before = register.writes()
    done = register.sync(extract, mapping_files=[mapping])
    assert done.exit_code == 0 and done.actions == Counter(update=1), [r.row() for r in done.results]
    assert register.writes() - before == Counter(
        {"PUT /trainees/{trainee_id}": 1, "POST /trainees/{trainee_id}/placements": 2}
    )
    [only] = done.results
    assert [(i.code, i.field) for i in only.issues if i.code == "placement_postcode_invalid"] == [
        ("placement_postcode_invalid", "placements_attributes[1].postcode")
    ]
    assert "placement_postcode_invalid (placements_attributes[1].postcode)" in only.row()["warnings"]
    [held] = register.trainees(2026)
    assert held["first_names"] == "Callum"
    placed = {p["urn"]: p["postcode"] for p in held["placements"]}
    assert placed["654321"] is None and placed["654322"] == "BN1 1AA"
    again = register.sync(extract, mapping_files=[mapping])
    assert again.exit_code == 0 and again.actions == Counter(unchanged=1)
