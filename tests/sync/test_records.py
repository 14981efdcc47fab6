"""What a sync keeps of each record while it plans (sync/records.py): the record on disk, read back as it was, and the
plan without the record."""

from __future__ import annotations

import dataclasses
from contextlib import closing
from datetime import date
from pathlib import Path

import pytest
from hesa_extracts import hesa_trainee, write_hesa_csv, write_hesa_xml

from register_batch.generate import generate
from register_batch.mapping import load_mapping
from register_batch.model import SourceRef, TraineeRecord
from register_batch.reference import load_reference
from register_batch.sync.plan import KEPT_ISSUES, Holdings, RecordPlan, plan_record
from register_batch.sync.records import NO_CYCLE, RecordSpool
from register_batch.validation import Checker
from trainee_extracts import trainee, write_extract

AS_OF = date(2026, 11, 28)
WITHDRAWAL = {
    "withdrawal_date": "2026-10-01",
    "withdrawal_reasons": "record_added_in_error",
    "withdrawal_trigger": "provider",
    "withdrawal_future_interest": "no",
}
SAMPLES = Path(__file__).resolve().parents[2] / "samples"


@pytest.fixture
def spool():
    """An empty RecordSpool, its temporary file closed when the test ends."""
    with closing(RecordSpool()) as spool:
        yield spool


def checked(paths: list[Path]) -> tuple[Checker, list[TraineeRecord]]:
    with Checker(mapping=load_mapping(()), reference=load_reference("v2026.1"), as_of=AS_OF) as checker:
        records = list(checker.records([str(path) for path in paths]))
    return checker, records


def inputs(tmp_path: Path) -> list[list[Path]]:
    """Every input family and HESA layout, with defects (withdrawals, deferrals, legacy codes among them)."""
    made = []
    for name, fmt, vintage in (
        ("mixed.xml", "hesa-xml", "mixed"),
        ("c21.xml", "hesa-xml", "C21053"),
        ("hesa.csv", "hesa-csv", "C22053"),
        ("register.csv", "register-csv", None),
    ):
        path = tmp_path / name
        generate(
            path, count=300, fmt=fmt, vintage=vintage, seed=7, as_of=AS_OF, defects=0.2, truth=path.with_suffix(".t")
        )
        made.append([path])
    leaving = tmp_path / "leaving.csv"  # withdrawals and deferrals, which the generator does not write
    rows = [trainee(1), {**trainee(2), **WITHDRAWAL}, {**trainee(3), "defer_date": "2026-10-01"}]
    write_extract(leaving, rows)
    legacy = tmp_path / "legacy.csv"  # a leaving said in legacy codes only (legacy_*_not_sent: sync reads them)
    write_hesa_csv(
        legacy, [{**hesa_trainee(1), "F_RSNEND": "03", "F_ENDDATE": "2026-11-01"}, {**hesa_trainee(2), "F_MODE": "63"}]
    )
    return [*made, [leaving], [legacy], [SAMPLES / "extract.xml", SAMPLES / "defects.xml", SAMPLES / "register.csv"]]


def test_a_spooled_record_reads_back_as_it_was_but_for_the_issues_sync_does_not_read(tmp_path):
    seen = set()
    for paths in inputs(tmp_path):
        checker, records = checked(paths)
        spool = RecordSpool()
        for record in records:
            spool.append(record)
        checker.widen_can_say(records)
        spool.widen = checker.widener()
        assert len(spool) == len(records) > 0
        for index in (*range(len(records)), 0, len(records) - 1):  # in order, then back to the start
            record, again = records[index], spool[index]
            assert again.source is record.source
            assert list(again.data.items()) == list(record.data.items())  # the keys' order too: the request body's
            for name in ("withdrawal", "deferral", "reported", "vintage", "partial_lists", "ukprn", "sources_seen"):
                assert getattr(again, name) == getattr(record, name), name
            assert again.can_say == record.can_say
            assert again.issues == [issue for issue in record.issues if issue.code in KEPT_ISSUES]
            assert spool.hesa_ids[index] == record.data.get("hesa_id")
            assert spool.provider_trainee_ids[index] == record.data.get("provider_trainee_id")
            seen.update(name for name in ("withdrawal", "deferral", "issues") if getattr(again, name))
        spool.close()
    assert seen == {"withdrawal", "deferral", "issues"}  # each was read back somewhere


def test_a_student_without_its_files_withdrawal_tags_can_say_a_withdrawal_once_every_record_is_read(tmp_path):
    """In HESA XML an absent tag is no value (hesa-formats.md §1.4): a Student without the WITHDRAWAL_* tags that
    another Student of its file has says it has no withdrawal, once every record is read (Checker.widen_can_say, or
    widener() for records read back). A file without those tags, and a Register CSV, say no more than before."""
    withdrawn = {
        "WITHDRAWAL_DATE": "2026-10-01",
        "WITHDRAWAL_REASONS": "record_added_in_error",
        "WITHDRAWAL_TRIGGER": "provider",
        "WITHDRAWAL_FUTURE_INTEREST": "no",
    }
    some = write_hesa_xml(tmp_path / "some.xml", [hesa_trainee(1), {**hesa_trainee(2), **withdrawn}, hesa_trainee(3)])
    none = write_hesa_xml(tmp_path / "none.xml", [hesa_trainee(4)])
    register_csv = tmp_path / "register.csv"
    write_extract(register_csv, [trainee(5)])
    checker, records = checked([some, none, register_csv])
    before = [record.can_say for record in records]
    deferral = {"deferral": "its DEFER_* columns or tags or a dormant F_MODE"}
    withdrawal = {"withdrawal": "its WITHDRAWAL_* columns or tags or F_RSNEND (up to C22053)"}
    assert before == [deferral, {**withdrawal, **deferral}, deferral, deferral, before[4]]
    assert "withdrawal" not in (before[4] or {})
    widen = checker.widener()
    one_at_a_time = [dataclasses.replace(record) for record in records]
    for record in one_at_a_time:
        widen(record)
    checker.widen_can_say(records)
    expected = [{**withdrawal, **deferral}] * 3 + [deferral, before[4]]
    assert [record.can_say for record in records] == [record.can_say for record in one_at_a_time] == expected


def test_a_record_the_mapping_would_not_make_is_spooled_whole(spool):
    """A body with a value other than text (a library caller's record) is kept as it is, not in the packed form."""
    odd = TraineeRecord(
        source=SourceRef("lib", 1, None),
        data={"hesa_id": "2510000000001", "course_year": 1, "degrees_attributes": [{"graduation_year": 2020}]},
    )
    usual = TraineeRecord(source=SourceRef("lib", 2, None), data={"hesa_id": "2510000000002", "sex": "10"})
    others = [
        {"hesa_id": "2510000000003", "degrees_attributes": ({"subject": "100485"},)},  # a tuple, not a list
        {"hesa_id": "2510000000004", "degrees_attributes": "100485"},  # text where a list goes
        {"hesa_id": "2510000000005", "degrees_attributes": [{"subject": "1"}], "placements_attributes": [["x"]]},
        {"hesa_id": "2510000000006", "degrees_attributes": [{"subject": "1"}], "disabilities": ["57"]},
        {"degrees_attributes": [], "hesa_id": "2510000000007", "placements_attributes": [{"urn": "100001"}]},
    ]
    spool.append(odd)
    spool.append(usual)
    for n, data in enumerate(others, start=3):
        spool.append(TraineeRecord(source=SourceRef("lib", n, None), data=data))
    assert [spool[i].data for i in range(len(spool))] == [odd.data, usual.data, *others]
    assert [type(v) for v in spool[2].data.values()] == [str, tuple]
    assert list(spool[6].data) == ["degrees_attributes", "hesa_id", "placements_attributes"]
    assert list(spool.cycles) == [NO_CYCLE] * 7


def test_a_plan_holds_no_record_and_a_create_no_copy_of_its_body(tmp_path):
    """A sync plans every record before it writes: a plan that kept its record (and a create step its body) held
    the whole extract twice over, 10 KB a record."""
    _checker, [record] = checked([write_extract(tmp_path / "in.csv", [trainee(1)])])
    plan = plan_record(record, None, Holdings([]), invalid=False, as_of=AS_OF)
    assert plan.action == "create" and [(step.kind, step.body) for step in plan.steps] == [("create", None)]
    assert "record" not in {f.name for f in dataclasses.fields(RecordPlan)}
    assert not hasattr(plan, "__dict__")  # slots: nothing else can be hung on it
    assert (plan.source, plan.hesa_id, plan.key) == (record.source, "2510000000001", "hesa:2510000000001")


def test_a_spool_reads_back_by_negative_index_and_slice_as_a_list_would(spool):
    records = [
        TraineeRecord(source=SourceRef("lib", n, None), data={"hesa_id": f"25100000000{n:02d}"}) for n in range(3)
    ]
    for record in records:
        spool.append(record)
    assert [spool[i].data for i in (-1, -3)] == [records[-1].data, records[-3].data]
    assert [r.data for r in spool[1:]] == [r.data for r in records[1:]]
    for outside in (3, -4):
        with pytest.raises(IndexError):
            spool[outside]


def test_a_spool_keeps_each_records_start_cycle_for_the_listing(spool):
    """The cycles Register is listed for (register-api.md §2.3): trainee_start_date's, else itt_start_date's."""
    for n, dates in enumerate(
        [{"itt_start_date": "2025-09-01"}, {"itt_start_date": "2025-09-01", "trainee_start_date": "2026-08-01"}, {}]
    ):
        spool.append(TraineeRecord(source=SourceRef("lib", n, None), data={"hesa_id": f"25100000000{n:02d}", **dates}))
    assert list(spool.cycles) == [2025, 2026, NO_CYCLE]


def test_a_record_with_a_value_marshal_does_not_take_is_spooled_and_read_back_as_it_was(spool):
    """No reader makes one, but a library caller's record may hold a date or a Decimal: such a record is kept in
    pickle's form instead of marshal's, between two of the usual kind (records.py mutants 78, 111, 112, 180)."""
    from decimal import Decimal

    given = [
        {"hesa_id": "2510000000001", "sex": "10"},
        {"hesa_id": "2510000000002", "itt_start_date": date(2025, 9, 1), "course_year": Decimal("1")},
        {"hesa_id": "2510000000003", "sex": "11"},
    ]
    for n, data in enumerate(given, start=1):
        spool.append(TraineeRecord(source=SourceRef("lib", n, None), data=data))
    assert [record.data for record in spool] == given
    assert type(spool[1].data["itt_start_date"]) is date and spool[1].data["course_year"] == Decimal("1")
