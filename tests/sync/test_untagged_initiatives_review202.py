"""A HESA XML Student without its F_INITIATIVES1/2 tag (review202 F1). HESA writes NULL for no value, but some SRSs
leave an empty tag out: there the blank said "none" when another Student of the night's file had the tag, and "not
said" when none had, so one trainee's outcome hung on the others'. Now each record answers for itself: without the
tag, its blank says "none" of an initiative the SRS gave when this state dir last synced the record in full (the
ledger's field digests), which the SRS has so removed; of any other (none given then, or digests the ledger cannot
read) it says nothing, and Register keeps its. Against the emulator over 127.0.0.1, night after night, with the four
cases of the finding, the first sync from a state dir, and a rotated token."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from hesa_extracts import hesa_trainee, write_hesa_xml

from emulated import SYNC_TESTS_TOKEN

PUT = "PUT /trainees/{trainee_id}"
NOW_TEACH, PRIMARY_MATHS, RELOCATION = "026", "011", "036"  # 026, 011 in 2026 to 2027; 036 in 2025 to 2026 only
EDIT = "sync_overwrites_register_edit"


def _student(n: int, **tags: str) -> dict[str, Any]:
    """A Student of an SRS that leaves an empty initiative tag out: only the tags given."""
    return hesa_trainee(n, degrees=1, placements=1) | tags


def _untagged(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if not k.startswith("F_INITIATIVES")}


def _initiatives(register: Any, cycle: int) -> dict[str, tuple[Any, Any]]:
    """HUSID -> (training_initiative, additional_training_initiative), "" for none read as None."""
    return {
        t["hesa_id"]: (t.get("training_initiative") or None, t.get("additional_training_initiative") or None)
        for t in register.trainees(cycle)
    }


def _set_in_registers_service(register: Any, cycle: int, husid: str, **values: str) -> None:
    """Someone's change in Register's service (another client of its API); the ethnicity sent as held, or the PATCH
    derives diversity_disclosure anew (§5.3)."""
    [held] = [t for t in register.trainees(cycle) if t["hesa_id"] == husid]
    response = httpx.patch(
        f"{register.emulator.api_url}/trainees/{held['trainee_id']}",
        json={"data": {**values, "ethnicity": held["ethnicity"]}},
        headers={"Authorization": f"Bearer {SYNC_TESTS_TOKEN}"},
    )
    assert response.status_code == 200, response.text


def _edit_warnings(result: Any) -> list[str]:
    return [message for r in result.results for code, message in r.warnings() if code == EDIT]


def _said_of_initiatives(result: Any) -> list[str]:
    """Whatever the run says of a training initiative: a change, an issue or a warning."""
    said = [str(c) for r in result.results for c in r.plan.changes if "initiative" in str(c["field"])]
    said += [i.message for r in result.results for i in r.issues if "initiative" in i.message]
    said += [m for r in result.results for _code, m in r.warnings() if "initiative" in m]
    return said


def test_an_initiative_the_srs_removed_is_cleared_though_no_student_has_the_tag(register, tmp_path):
    """Case 1 of the finding: the SRS gave 026 and 011 for one trainee; then it removed them, and its export left the
    tags out (of that Student: the file's other Student has them, so the export gives initiatives; with no Student
    having them, review205 keeps Register's and warns). The removal was kept, `unchanged`, without a word. Now the
    ledger says the SRS gave them when the record was last synced: the dry run names both, the run clears both (as
    its dry run planned), with no warning blaming Register, and the next night is unchanged."""
    given = _student(1, F_INITIATIVES1=NOW_TEACH, F_INITIATIVES2=PRIMARY_MATHS)
    # The export gives initiatives: another Student has both tags (review205: without the tag on any Student of the
    # file, the ledger's word alone keeps Register's and warns: test_untagged_initiatives_review205.py).
    other = _student(2, F_INITIATIVES1=NOW_TEACH, F_INITIATIVES2=PRIMARY_MATHS)
    first = register.sync(write_hesa_xml(tmp_path / "night-1.xml", [given, other]))
    assert first.actions == Counter(create=2) and first.exit_code == 0, [r.errors for r in first.results]
    husid = given["F_HUSID"]
    assert _initiatives(register, 2026)[husid] == (NOW_TEACH, PRIMARY_MATHS)
    created = register.writes()

    removed = write_hesa_xml(tmp_path / "night-2.xml", [_untagged(given), other])
    planned = register.sync(removed, dry_run=True)
    cleared = [
        {"field": "training_initiative", "register": NOW_TEACH, "source": None},
        {"field": "additional_training_initiative", "register": PRIMARY_MATHS, "source": None},
    ]
    assert [(r.plan.hesa_id, r.plan.action, r.plan.changes) for r in planned.results] == [
        (husid, "update", cleared),
        (other["F_HUSID"], "unchanged", []),
    ]
    assert _edit_warnings(planned) == []
    assert register.writes() == created

    done = register.sync(removed)
    assert [(r.plan.action, r.plan.changes) for r in done.results] == [
        (r.plan.action, r.plan.changes) for r in planned.results
    ]
    assert done.exit_code == 0 and _edit_warnings(done) == [], done.summary_line()
    assert register.writes() == created + Counter({PUT: 1})
    assert _initiatives(register, 2026)[husid] == (None, None)

    again = register.sync(write_hesa_xml(tmp_path / "night-3.xml", [_untagged(given), other]))
    assert again.actions == Counter(unchanged=2) and again.exit_code == 0
    assert register.writes() == created + Counter({PUT: 1})


def test_a_start_moved_into_a_cycle_without_the_removed_initiative_goes_through(register, tmp_path):
    """Case 2 of the finding: a July start with the international relocation payment (2025 to 2026 only), beside a
    Student without initiative tags; the SRS corrects the start to 20 August and drops the 036, leaving the tag out.
    No Student of the file had the tag, so the PUT sent the 036 back, Register refused it in 2026 to 2027, and the
    start correction was blocked every night (`sync_update_refused`) with advice the SRS's export could not follow.
    Now the record's own last sync says the SRS gave 036: the PUT leaves it out (Register resets it), and the start
    correction is written."""
    july = _student(1, F_ITTSTARTDATE="2026-07-20", F_TRAINEESTARTDATE="2026-07-20", F_INITIATIVES1=RELOCATION)
    other = _student(2, F_INITIATIVES1=NOW_TEACH)  # the export gives the tag (review205)
    first = register.sync(write_hesa_xml(tmp_path / "night-1.xml", [july, other]))
    assert first.actions == Counter(create=2) and first.exit_code == 0, [r.errors for r in first.results]
    assert _initiatives(register, 2025)[july["F_HUSID"]][0] == RELOCATION

    august = _untagged(july) | {"F_ITTSTARTDATE": "2026-08-20", "F_TRAINEESTARTDATE": "2026-08-20"}
    moved = register.sync(write_hesa_xml(tmp_path / "night-2.xml", [august, other]))
    assert [(r.plan.action, r.outcome) for r in moved.results] == [("update", "done"), ("unchanged", "done")], [
        (r.errors, r.warnings()) for r in moved.results
    ]
    assert not [i for r in moved.results for i in r.issues if i.code == "sync_update_refused"]
    assert _edit_warnings(moved) == []
    [held] = [t for t in register.trainees(2026) if t["hesa_id"] == july["F_HUSID"]]
    assert (held["itt_start_date"], held["trainee_start_date"]) == ("2026-08-20", "2026-08-20")
    assert held["training_initiative"] is None


def test_a_removal_is_not_cleared_on_a_later_night_and_blamed_on_register(register, tmp_path):
    """Case 3 of the finding: the removal kept on the night it happened (no Student had the tag) was cleared on a
    later night, when another trainee gained an initiative in the SRS, with a warning that Register's trainee had
    been changed since the last sync: nobody had changed it (this sync wrote the 026 at create). Now the removal is
    cleared the night it happens, and the later night changes only the trainee who gained one, with no warning."""
    given = _student(1, F_INITIATIVES1=NOW_TEACH)
    other = _student(2)
    third = _student(3, F_INITIATIVES1=NOW_TEACH)  # the export gives the tag (review205)
    night_1 = write_hesa_xml(tmp_path / "night-1.xml", [given, other, third])
    assert register.sync(night_1).actions == Counter(create=3)
    removed = register.sync(write_hesa_xml(tmp_path / "night-2.xml", [_untagged(given), other, third]))
    assert _edit_warnings(removed) == [], removed.summary_line()

    gained = write_hesa_xml(
        tmp_path / "night-3.xml", [_untagged(given), other | {"F_INITIATIVES1": PRIMARY_MATHS}, third]
    )
    for dry_run in (True, False):
        result = register.sync(gained, dry_run=dry_run)
        assert [(r.plan.hesa_id, r.plan.action, r.plan.changes) for r in result.results] == [
            (given["F_HUSID"], "unchanged", []),
            (other["F_HUSID"], "update", [{"field": "training_initiative", "register": None, "source": "011"}]),
            (third["F_HUSID"], "unchanged", []),
        ], result.summary_line()
        assert _edit_warnings(result) == []
    held = _initiatives(register, 2026)
    assert (held[given["F_HUSID"]], held[other["F_HUSID"]]) == ((None, None), (PRIMARY_MATHS, None))


def test_one_trainee_gaining_an_initiative_clears_no_other_trainees(register, tmp_path):
    """Case 4 of the finding, which is also "no tag, and the ledger never saw one": five trainees whose initiatives
    were set in Register's service, never given by the SRS. A file with no tag keeps them; then the SRS records 011
    for one other trainee (the tag on 1 Student of 6), and every one of the five was cleared, each warned as an edit
    in Register put back. Now only the trainee who gained it is updated, and the five keep theirs."""
    rows = [_student(n) for n in range(1, 7)]
    assert register.sync(write_hesa_xml(tmp_path / "night-1.xml", rows)).actions == Counter(create=6)
    five = [row["F_HUSID"] for row in rows[:5]]
    for n, husid in enumerate(five):
        extra = {"additional_training_initiative": PRIMARY_MATHS} if n < 2 else {}
        _set_in_registers_service(register, 2026, husid, training_initiative=NOW_TEACH, **extra)
    before = _initiatives(register, 2026)
    assert register.sync(write_hesa_xml(tmp_path / "night-2.xml", rows)).actions == Counter(unchanged=6)
    writes = register.writes()

    one = write_hesa_xml(tmp_path / "night-3.xml", [*rows[:5], rows[5] | {"F_INITIATIVES1": PRIMARY_MATHS}])
    for dry_run in (True, False):
        result = register.sync(one, dry_run=dry_run)
        assert result.actions == Counter(unchanged=5, update=1), result.summary_line()
        [update] = [r.plan for r in result.results if r.plan.action == "update"]
        assert update.hesa_id == rows[5]["F_HUSID"]
        assert update.changes == [{"field": "training_initiative", "register": None, "source": PRIMARY_MATHS}]
        assert _edit_warnings(result) == []
    assert register.writes() == writes + Counter({PUT: 1})
    after = _initiatives(register, 2026)
    assert {husid: after[husid] for husid in five} == {husid: before[husid] for husid in five}
    assert [after[husid][0] for husid in five] == [NOW_TEACH] * 5


def test_a_first_sync_from_a_state_dir_keeps_an_initiative_a_student_has_no_tag_for(register, tmp_path):
    """No tag, and the ledger cannot tell: a state dir that has never synced the record (a new machine, a first
    sync of trainees another state dir created). Register holds the SRS's 026 from the other state dir; tonight's
    Student has no tag and another Student of the file has one. Nothing is said of the first trainee's initiative,
    and Register keeps it."""
    given = _student(1, F_INITIATIVES1=NOW_TEACH)
    other = _student(2)
    assert register.sync(write_hesa_xml(tmp_path / "night-1.xml", [given, other])).actions == Counter(create=2)
    night = write_hesa_xml(tmp_path / "night-2.xml", [_untagged(given), other | {"F_INITIATIVES1": PRIMARY_MATHS}])
    for dry_run in (True, False):
        result = register.sync(night, dry_run=dry_run, state_dir=tmp_path / "new-state")
        assert [(r.plan.hesa_id, r.plan.action) for r in result.results] == [
            (given["F_HUSID"], "unchanged"),
            (other["F_HUSID"], "update"),
        ], result.summary_line()
        gained = {"field": "training_initiative", "register": None, "source": PRIMARY_MATHS}
        assert _said_of_initiatives(result) == [str(gained)]  # the other trainee's only
    assert _initiatives(register, 2026)[given["F_HUSID"]] == (NOW_TEACH, None)


def test_a_rotated_token_keeps_the_initiative_and_says_nothing_of_it(register, tmp_path):
    """The SRS gave 026 when the record was synced under token A; the provider's token is rotated to B, and the
    digests the ledger keeps are A's key's, which B's run cannot read (review194 F2). Tonight the Student has no tag
    (another Student of the file has one): the ledger cannot tell whether the SRS removed the 026, so the record says
    nothing of it. Register keeps it, and no change, issue or warning names it: not in the dry run, the run, or the
    night after (whose digests are B's, made from a record that gave none)."""
    rotated = "token-rotated-review202"
    given = _student(1, F_INITIATIVES1=NOW_TEACH)
    other = _student(2, F_INITIATIVES1=PRIMARY_MATHS)
    assert register.sync(write_hesa_xml(tmp_path / "night-1.xml", [given, other])).actions == Counter(create=2)
    writes = register.writes()
    register.emulator.rotate_token(SYNC_TESTS_TOKEN, rotated)

    night = write_hesa_xml(tmp_path / "night-2.xml", [_untagged(given), other])
    for dry_run in (True, False, False):
        result = register.sync(night, dry_run=dry_run, token=rotated)
        assert result.actions == Counter(unchanged=2) and result.exit_code == 0, result.summary_line()
        assert _said_of_initiatives(result) == []
        assert "initiative" not in str(register.report()["issues"])
    assert register.writes() == writes
    register.emulator.rotate_token(rotated, SYNC_TESTS_TOKEN)
    assert _initiatives(register, 2026)[given["F_HUSID"]] == (NOW_TEACH, None)


def test_a_students_tags_and_not_its_files_decide_what_it_says():
    """The mapping: a Student with the tag (a code, or NULL) gives the field; one without it does not, and is named
    `untagged` (which the ledger may make "none" in a sync), whatever the file's other Students have. A CSV without
    the column never gives it, and is not `untagged`. The spool keeps `untagged` for records read back."""
    from register_batch.mapping.apply import Mapper
    from register_batch.mapping.loader import load_mapping
    from register_batch.model import SourceRef
    from register_batch.readers.base import RawRecord
    from register_batch.sync.records import RecordSpool

    mapper = Mapper(load_mapping())

    def mapped(fmt: str, fields: dict[str, Any]) -> Any:
        return mapper.map(RawRecord(source=SourceRef(input="x", record=1, line=2), fields=fields), fmt)

    both = {"training_initiative", "additional_training_initiative"}
    assert mapped("hesa-xml", {"F_INITIATIVES1": None, "F_INITIATIVES2": None}).untagged == set()
    assert mapped("hesa-xml", {"F_INITIATIVES1": NOW_TEACH}).untagged == {"additional_training_initiative"}
    assert mapped("hesa-xml", {"F_SURNAME": "Okafor"}).untagged == both
    assert mapped("hesa-csv", {"F_SURNAME": "Okafor"}).untagged == set()
    spool = RecordSpool()
    try:
        spool.append(mapped("hesa-xml", {"F_SURNAME": "Okafor", "F_INITIATIVES1": None}))
        spool.append(mapped("hesa-xml", {"F_SURNAME": "Okafor"}))
        assert [record.untagged for record in spool] == [{"additional_training_initiative"}, both]
    finally:
        spool.close()
