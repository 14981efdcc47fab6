"""A course subject the SRS no longer gives is cleared in Register (helper-208 F1): beside a course_subject_1, a blank
course_subject_2/3 means "no such subject", as HESA XML and Register's CSV carry all three slots and Register's API
clears them by "" or null (register-api.md §2.6, ALLOWED_NIL_PARAMS). Every other blank still leaves Register's value.
In memory (tests/sync/held.py) for drift and the PUT body, and over HTTP against the emulator for three nights."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from held import listed, record
from hesa_extracts import hesa_trainee, write_hesa_xml

from register_batch.sync.compare import drift, update_body
from trainee_extracts import WITHDRAWN, trainee, without_columns, write_extract

PHYSICS, MATHEMATICS, CHEMISTRY = "100425", "100403", "100417"  # secondary subjects, valid for route 12 (11-16)
PUT = "PUT /trainees/{trainee_id}"


def _changes(ours: dict[str, Any], theirs: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [(c["field"], c["register"], c["source"]) for c in drift(record(**ours).data, listed(**theirs))]


def test_a_blank_subject_2_beside_subject_1_is_drift_when_register_holds_one():
    ours = {"course_subject_1": PHYSICS, "course_subject_2": None}
    theirs = {"course_subject_1": PHYSICS, "course_subject_2": MATHEMATICS}
    assert _changes(ours, theirs) == [("course_subject_2", MATHEMATICS, None)]
    ours3 = {"course_subject_1": PHYSICS, "course_subject_2": MATHEMATICS, "course_subject_3": None}
    assert _changes(ours3, {**theirs, "course_subject_3": CHEMISTRY}) == [("course_subject_3", CHEMISTRY, None)]


def test_a_blank_subject_register_does_not_hold_either_is_no_drift():
    assert _changes({"course_subject_1": PHYSICS}, {"course_subject_1": PHYSICS}) == []
    assert "course_subject_2" not in update_body(
        record(course_subject_1=PHYSICS).data, listed(course_subject_1=PHYSICS)
    )


def test_without_subject_1_a_blank_subject_2_says_nothing_and_changes_nothing():
    theirs = listed(course_subject_1=PHYSICS, course_subject_2=MATHEMATICS)
    ours = record(course_subject_1=None, course_subject_2=None).data
    assert drift(ours, theirs) == []
    assert "course_subject_2" not in update_body(ours, theirs)


def test_subjects_are_compared_slot_by_slot():
    """Subject 3 given beside a blank subject 2 (R5 allows it): slot 2 is cleared, slot 3 written."""
    ours = {"course_subject_1": PHYSICS, "course_subject_2": None, "course_subject_3": MATHEMATICS}
    theirs = {"course_subject_1": PHYSICS, "course_subject_2": MATHEMATICS}
    assert _changes(ours, theirs) == [("course_subject_2", MATHEMATICS, None), ("course_subject_3", None, MATHEMATICS)]
    body = update_body(record(**ours).data, listed(**theirs))
    assert (body["course_subject_2"], body["course_subject_3"]) == ("", MATHEMATICS)


def test_a_put_clears_a_subject_register_holds_and_the_extract_leaves_blank():
    """register-api.md §2.6: "" (or null) clears course_subject_2/3; one Register does not hold is not sent."""
    theirs = listed(course_subject_1=PHYSICS, course_subject_2=MATHEMATICS)
    body = update_body(record(course_subject_1=PHYSICS, course_subject_2=None).data, theirs)
    assert body["course_subject_2"] == "" and "course_subject_3" not in body
    assert "course_subject_2" not in update_body(record(course_subject_1=PHYSICS).data)  # nothing listed to clear


def test_every_other_blank_still_leaves_registers_value():
    theirs = listed(
        course_subject_1=PHYSICS,
        previous_last_name="Jones",
        application_id=123,
        pg_apprenticeship_start_date="2025-09-01",
    )
    ours = record(course_subject_1=PHYSICS, previous_last_name=None, application_id=None, email="new@example.com").data
    assert [c["field"] for c in drift(ours, theirs)] == ["email"]
    body = update_body(ours, theirs)
    assert not {"previous_last_name", "application_id", "pg_apprenticeship_start_date"} & set(body)


def _register_csv(tmp_path, night: int, **subjects: str):
    return write_extract(tmp_path / f"night-{night}.csv", [dict(trainee(1), course_subject_1=PHYSICS, **subjects)])


def _hesa_xml(tmp_path, night: int, **subjects: str):
    row = hesa_trainee(1, degrees=1, placements=1) | {"F_SBJCA1": PHYSICS}
    if subjects.get("course_subject_2"):
        row["F_SBJCA2"] = subjects["course_subject_2"]  # else no tag: no value (hesa-formats.md §1.4)
    return write_hesa_xml(tmp_path / f"night-{night}.xml", [row])


@pytest.mark.parametrize(
    ("write", "cycle"), [(_register_csv, 2025), (_hesa_xml, 2026)], ids=["register-csv", "hesa-xml"]
)
def test_a_second_subject_the_course_dropped_is_cleared_once_and_converges(register, tmp_path, write, cycle):
    first = register.sync(write(tmp_path, 1, course_subject_2=MATHEMATICS))
    assert first.actions == Counter(create=1) and first.exit_code == 0
    [held] = register.trainees(cycle)
    assert (held["course_subject_1"], held["course_subject_2"]) == (PHYSICS, MATHEMATICS)
    created = register.writes()

    dropped = write(tmp_path, 2, course_subject_2="")
    planned = register.sync(dropped, dry_run=True)  # the drift report names it, and nothing is written
    [plan] = [r.plan for r in planned.results]
    assert plan.action == "update"
    assert plan.changes == [{"field": "course_subject_2", "register": MATHEMATICS, "source": None}]
    assert register.writes() == created

    done = register.sync(dropped)
    assert done.actions == Counter(update=1) and done.exit_code == 0
    assert register.writes() == created + Counter({PUT: 1})
    with register.client() as client:
        now = client.get_trainee(held["trainee_id"])
    assert (now["course_subject_1"], now["course_subject_2"], now["course_subject_3"]) == (PHYSICS, None, None)

    again = register.sync(write(tmp_path, 3, course_subject_2=""))
    assert again.actions == Counter(unchanged=1) and again.exit_code == 0
    assert register.writes() == created + Counter({PUT: 1})  # no second PUT


def _register_csv_without_columns(tmp_path, night: int, *dropped: str):
    """Register's CSV whose header lacks `dropped` (an SRS export cut down to the columns it fills)."""
    path = write_extract(tmp_path / f"night-{night}.csv", [dict(trainee(1), course_subject_1=PHYSICS)])
    return without_columns(path, *dropped)


def test_a_subject_the_csv_has_no_column_for_is_not_cleared(register, tmp_path):
    """A header without course_subject_2/3 says nothing of them (read as blank, with a missing_columns warning):
    Register's second subject stays, and no update is sent for it, night after night."""
    first = register.sync(_register_csv(tmp_path, 1, course_subject_2=MATHEMATICS))
    assert first.actions == Counter(create=1)
    created = register.writes()
    cut = _register_csv_without_columns(tmp_path, 2, "course_subject_2", "course_subject_3")
    again = register.sync(cut)
    assert again.actions == Counter(unchanged=1) and again.exit_code == 0
    assert register.writes() == created
    [held] = register.trainees(2025)
    assert (held["course_subject_1"], held["course_subject_2"]) == (PHYSICS, MATHEMATICS)


@pytest.mark.parametrize(
    ("fmt", "fields", "unsaid"),
    [
        ("register-csv", {"course_subject_1": PHYSICS, "course_subject_2": None, "course_subject_3": None}, set()),
        ("register-csv", {"course_subject_1": PHYSICS, "course_subject_3": None}, {"course_subject_2"}),
        ("register-csv", {"course_subject_1": PHYSICS}, {"course_subject_2", "course_subject_3"}),
        ("hesa-xml", {"F_SBJCA1": PHYSICS}, set()),  # an absent tag is no value (hesa-formats.md §1.4)
        ("hesa-csv", {"F_SBJCA1": PHYSICS, "F_SBJCA2": None}, {"course_subject_3"}),
    ],
    ids=["csv-every-column", "csv-without-subject-2", "csv-without-both", "xml-no-tags", "hesa-csv-without-3"],
)
def test_a_subject_slot_is_unsaid_where_the_input_has_no_place_for_it(fmt, fields, unsaid):
    """TraineeRecord.partial_lists names a clearable subject the record's input has no column for; XML has a place
    for every subject, given or not."""
    from register_batch.mapping.apply import Mapper
    from register_batch.mapping.loader import load_mapping
    from register_batch.model import CLEARABLE_SUBJECTS, SourceRef
    from register_batch.readers.base import RawRecord

    raw = RawRecord(source=SourceRef(input="extract", record=1, line=2), fields=fields)
    mapped = Mapper(load_mapping()).map(raw, fmt)
    assert set(mapped.partial_lists) & set(CLEARABLE_SUBJECTS) == unsaid


@pytest.mark.parametrize(("fmt", "unsaid"), [("hesa-xml", {"course_subject_2"}), ("hesa-csv", set())])
def test_a_subject_a_users_mapping_reads_from_a_tag_of_its_own_is_unsaid_in_xml(tmp_path, fmt, unsaid):
    """review44 F2: a mapping file reading course_subject_2 from SECOND_SUBJECT, which no Student has (misspelt, or the
    SRS's column name): an absent tag of the user's says nothing, where an absent F_SBJCA2 is HESA's no value. A CSV
    whose header has the column says it, blank or not."""
    from register_batch.mapping.apply import Mapper
    from register_batch.mapping.loader import load_mapping
    from register_batch.model import CLEARABLE_SUBJECTS, SourceRef
    from register_batch.readers.base import RawRecord

    mapping = tmp_path / "subjects.yaml"
    mapping.write_text("fields:\n  hesa:\n    trainee:\n      course_subject_2: SECOND_SUBJECT\n", encoding="utf-8")
    fields = (
        {"F_SBJCA1": PHYSICS} if fmt == "hesa-xml" else {"F_SBJCA1": PHYSICS, "SECOND_SUBJECT": None, "F_SBJCA3": None}
    )
    raw = RawRecord(source=SourceRef(input="extract", record=1, line=2), fields=fields)
    mapped = Mapper(load_mapping([mapping])).map(raw, fmt)
    assert set(mapped.partial_lists) & set(CLEARABLE_SUBJECTS) == unsaid


def test_a_withdrawn_trainee_keeps_its_subject_and_is_not_blocked_for_a_blank(register, tmp_path):
    """review44 F4: Register lets no one change a withdrawn trainee (§6); a blank subject 2 beside subject 1 made an
    update, so the record was blocked (exit 1) every night. Such a trainee's blank subjects say nothing, as before."""
    row = {**trainee(1), "course_subject_1": PHYSICS, "course_subject_2": MATHEMATICS, **WITHDRAWN}
    first = register.sync(write_extract(tmp_path / "night-1.csv", [row]))
    assert first.actions == Counter(create=1) and first.exit_code == 0, first.actions  # and withdrawn
    for night in (2, 3):
        again = register.sync(write_extract(tmp_path / f"night-{night}.csv", [{**row, "course_subject_2": ""}]))
        assert again.actions == Counter(unchanged=1) and again.exit_code == 0, again.actions
    [held] = register.trainees(2025)
    assert (held["state"], held["course_subject_2"]) == ("withdrawn", MATHEMATICS)


def test_a_subject_a_users_vintage_reads_from_a_tag_of_its_own_is_unsaid_in_xml(tmp_path):
    """review46 F3: the same mapping as above written under `vintages` (a collection's own fields, docs/mappings.md)
    was not taken for the user's: a Student without its tag cleared Register's subject 2."""
    from register_batch.mapping.apply import Mapper
    from register_batch.mapping.loader import load_mapping
    from register_batch.model import CLEARABLE_SUBJECTS, SourceRef
    from register_batch.readers.base import RawRecord

    mapping = tmp_path / "subjects.yaml"
    mapping.write_text(
        "fields:\n  hesa:\n    vintages:\n      C23053:\n        trainee:\n"
        "          course_subject_2: SECOND_SUBJECT\n",
        encoding="utf-8",
    )
    fields = {"F_SBJCA1": PHYSICS, "F_ITTSTARTDATE": "2026-09-01"}  # a C23053+ Student
    raw = RawRecord(source=SourceRef(input="extract", record=1, line=2), fields=fields)
    mapped = Mapper(load_mapping([mapping])).map(raw, "hesa-xml")
    assert mapped.vintage == "C23053"
    assert set(mapped.partial_lists) & set(CLEARABLE_SUBJECTS) == {"course_subject_2"}


def test_a_subject_1_translated_from_a_legacy_code_clears_no_specialism_register_holds(register, tmp_path):
    """review46 F4: a legacy subject can name a specialism Register holds as subject 2 (101085: primary with
    mathematics, held as 100511 and 100403); translated by the user's mapping to 100511, with subject 2 left blank in
    the SRS, it cleared the mathematics. A record whose subject was translated says nothing of subjects 2 and 3."""
    primary = {**trainee(1), "course_age_range": "13914", "course_subject_1": "100511"}
    first = register.sync(write_extract(tmp_path / "night-1.csv", [{**primary, "course_subject_2": MATHEMATICS}]))
    assert first.actions == Counter(create=1), [r.errors for r in first.results]
    mapping = tmp_path / "ours.yaml"
    mapping.write_text(
        "codes:\n  course_subject_1:\n    source: our SRS\n    translate:\n      '101085': {to: '100511'}\n",
        encoding="utf-8",
    )
    legacy = write_extract(tmp_path / "night-2.csv", [{**primary, "course_subject_1": "101085"}])
    second = register.sync(legacy, mapping_files=[mapping])
    assert second.actions == Counter(unchanged=1), [r.plan.changes for r in second.results]
    [held] = register.trainees(2025)
    assert (held["course_subject_1"], held["course_subject_2"]) == ("100511", MATHEMATICS)
