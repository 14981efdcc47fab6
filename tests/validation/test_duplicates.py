"""In-batch duplicates: same HUSID, same SRS id, and Register's duplicate rule (register-api.md §4)."""

from __future__ import annotations

import pytest

from register_batch.model import SourceRef, TraineeRecord
from register_batch.validation.duplicates import DuplicateFinder, first_name_token


def record(n: int, **data) -> TraineeRecord:
    base = {
        "date_of_birth": "1990-01-01",
        "last_name": "Lee",
        "itt_start_date": "2025-09-01",
        "training_route": "12",
        "hesa_id": f"{n:013d}",
        "provider_trainee_id": f"S{n}",
        "first_names": f"Name{n}",
        "email": f"{n}@x.uk",
    }
    base.update(data)
    return TraineeRecord(source=SourceRef(input="in.xml", record=n, line=n * 10), data=base)


def findings(records):
    finder = DuplicateFinder()
    for r in records:
        finder.add(r)
    try:
        return [(index, issue.code, issue.record, issue.message) for index, issue in finder.issues()]
    finally:
        finder.close()


def test_registers_rule_names_the_earliest_record_that_matches_by_first_name_or_email():
    found = findings(
        [
            record(1, first_names="Mary-Jane Ann", email="mj@x.uk"),
            record(2, first_names="Bob", email="b@x.uk"),
            record(3, first_names="maryjane", email="b@x.uk"),  # token matches 1, email matches 2: 1 is earlier
            record(4, last_name="LEE", first_names="Zed", email="MJ@x.uk "),  # case and spaces ignored
            record(5, training_route="11", first_names="Mary-Jane"),  # another route: not the same trainee
        ]
    )
    assert [(f[0], f[1], f[2]) for f in found] == [
        (2, "possible_duplicate_trainee", 3),
        (3, "possible_duplicate_trainee", 4),
    ]
    assert "matches line 10 of in.xml" in found[0][3] and "matches line 10 of in.xml" in found[1][3]


def test_same_husid_is_reported_on_every_record_of_the_group_in_batch_order():
    found = findings([record(1), record(2, hesa_id="0000000000001"), record(3), record(4, hesa_id="0000000000001")])
    husid = [(f[0], f[2]) for f in found if f[1] == "duplicate_hesa_id"]
    assert husid == [(0, 1), (1, 2), (3, 4)]
    assert "line 10 of in.xml, line 20 of in.xml, line 40 of in.xml" in found[0][3]


def test_large_groups_list_five_records_and_count_the_rest():
    found = findings([record(n, hesa_id="0000000000099") for n in range(1, 9)])
    first = next(f for f in found if f[1] == "duplicate_hesa_id")
    assert first[3].endswith(
        "line 10 of in.xml, line 20 of in.xml, line 30 of in.xml, line 40 of in.xml, line 50 of in.xml and 3 more"
    )


def test_first_name_token():
    assert first_name_token("  Mary-Jane Ann") == "maryjane"
    assert first_name_token("Zoë") == "zo"
    assert first_name_token(None) == ""


def test_records_added_after_a_look_up_are_kept_whole():
    # The spool's end is tracked, not asked for (tell() per record was a system call): a look-up that moves
    # the position must not make the next record overwrite an earlier one.
    finder = DuplicateFinder()
    try:
        finder.add(record(1, hesa_id="0000000000001"))
        finder.add(record(2, hesa_id="0000000000001"))
        finder.add(record(3, hesa_id="0000000000003", last_name="Ng"))  # never looked up below
        assert [index for index, issue in finder.issues() if issue.code == "duplicate_hesa_id"] == [0, 1]
        finder.add(record(4, hesa_id="0000000000003", last_name="Ng"))  # after look-ups of records 1 and 2
        found = [(index, issue) for index, issue in finder.issues() if issue.code == "duplicate_hesa_id"]
        assert [(index, issue.record) for index, issue in found] == [(0, 1), (1, 2), (2, 3), (3, 4)]
        assert "line 30 of in.xml, line 40 of in.xml" in found[2][1].message
    finally:
        finder.close()


def test_keys_sorted_a_slice_at_a_time_find_the_same_groups(monkeypatch):
    """Repeated keys are looked for one slice of the keys at a time (to bound memory at the end of a large batch):
    with slices of two keys, 40 records in four kinds of group give exactly what one sort of every key gives."""
    import register_batch.validation.duplicates as duplicates

    records = [record(n) for n in range(1, 41)]
    for n in range(0, 40, 5):  # eight HUSID groups of two, SRS id groups of three, Register's rule matches
        records[n].data["hesa_id"] = records[n + 1].data["hesa_id"] = f"{9000 + n:013d}"
        for k in (n, n + 2, n + 4):
            records[k].data["provider_trainee_id"] = f"T{n}"
        records[n + 3].data["first_names"] = records[n + 2].data["first_names"]
    whole = findings(records)
    monkeypatch.setattr(duplicates, "SLICE_KEYS", 2)
    assert len(duplicates._slices(duplicates.array("q", range(40)))) == 32
    assert findings(records) == whole
    assert {code for _index, code, _record, _message in whole} == {
        "duplicate_hesa_id",
        "duplicate_provider_trainee_id",
        "possible_duplicate_trainee",
    }


def _matched(records) -> list[int]:
    return [index for index, code, _record, _message in findings(records) if code == "possible_duplicate_trainee"]


def test_registers_rule_needs_the_same_date_of_birth_last_name_and_route():
    """§4: candidates share the exact date of birth and the last name (ILIKE: case aside), then the route."""
    assert _matched([record(1, first_names="Ann"), record(2, first_names="Ann", last_name="lee")]) == [1]
    assert _matched([record(1, first_names="Ann"), record(2, first_names="Ann", date_of_birth="1990-01-02")]) == []
    assert _matched([record(1, first_names="Ann"), record(2, first_names="Ann", last_name="Leigh")]) == []
    assert _matched([record(1, first_names="Ann"), record(2, first_names="Ann", training_route="11")]) == []


def test_registers_rule_compares_the_earlier_records_start_cycle_with_this_ones_itt_start_date():
    """§4: the trainee in Register is in the cycle of its trainee_start_date ‖ itt_start_date; the created record is
    matched by the cycle of its itt_start_date only."""
    earlier = record(1, first_names="Ann", itt_start_date="2025-09-01", trainee_start_date="2026-09-01")  # 2026
    assert _matched([earlier, record(2, first_names="Ann", itt_start_date="2026-09-01")]) == [1]
    assert _matched([earlier, record(2, first_names="Ann", itt_start_date="2025-09-01")]) == []
    later_start = record(2, first_names="Ann", itt_start_date="2026-09-01", trainee_start_date="2025-09-01")
    assert _matched([record(1, first_names="Ann", itt_start_date="2026-09-01"), later_start]) == [1]
    assert _matched([record(1, first_names="Ann"), record(2, first_names="Ann", itt_start_date="2026-08-01")]) == []


def test_registers_rule_needs_a_first_name_token_or_email_in_common():
    assert _matched([record(1, first_names="Ann"), record(2, first_names="Bea")]) == []
    assert _matched([record(1, first_names="Ann", email="a@x.uk"), record(2, first_names="Bea", email="a@x.uk")]) == [1]


def test_records_without_the_keys_are_never_matched():
    """A record with no date of birth, last name, route or valid itt_start_date has no candidate key (§4 needs all)."""
    for blank in ("date_of_birth", "last_name", "training_route"):
        assert _matched([record(1, first_names="Ann"), record(2, first_names="Ann", **{blank: None})]) == [], blank
    assert _matched([record(1, first_names="Ann"), record(2, first_names="Ann", itt_start_date="soon")]) == []


def test_records_without_husid_or_srs_id_are_not_duplicates_of_each_other():
    found = findings(
        [record(1, hesa_id=None, provider_trainee_id=None), record(2, hesa_id=None, provider_trainee_id=None)]
    )
    assert [code for _i, code, _r, _m in found if code != "possible_duplicate_trainee"] == []


def test_a_duplicate_srs_id_is_reported_with_its_value_and_records():
    found = findings([record(1, provider_trainee_id="S9"), record(2), record(3, provider_trainee_id="S9")])
    assert [f for f in found if f[1] == "duplicate_provider_trainee_id"] == [
        (
            0,
            "duplicate_provider_trainee_id",
            1,
            "provider_trainee_id 'S9' is on more than one record: line 10 of in.xml, line 30 of in.xml",
        ),
        (
            2,
            "duplicate_provider_trainee_id",
            3,
            "provider_trainee_id 'S9' is on more than one record: line 10 of in.xml, line 30 of in.xml",
        ),
    ]


def test_identifiers_with_line_breaks_or_separators_are_kept_whole():
    """The spool holds one line per record with \\x1f between fields: a value holding either is still reported."""
    odd = "S\x1f1\n2"
    found = findings([record(1, provider_trainee_id=odd), record(2, provider_trainee_id=odd)])
    assert [(i, code, r) for i, code, r, _m in found if code == "duplicate_provider_trainee_id"] == [
        (0, "duplicate_provider_trainee_id", 1),
        (1, "duplicate_provider_trainee_id", 2),
    ]


def test_two_records_without_a_date_of_birth_are_not_matched_with_each_other():
    """§4 matches on an exact date of birth: a record without one is a candidate of nothing, even of its like."""
    assert (
        _matched([record(1, first_names="Ann", date_of_birth=None), record(2, first_names="Ann", date_of_birth=None)])
        == []
    )


@pytest.mark.parametrize("odd", ["S1\n2", "S1\x1f2"], ids=["line break", "unit separator"])
def test_an_identifier_with_one_of_the_spools_separators_is_kept_whole(odd):
    found = findings([record(1, provider_trainee_id=odd), record(2, provider_trainee_id=odd)])
    assert [(i, r) for i, code, r, _m in found if code == "duplicate_provider_trainee_id"] == [(0, 1), (1, 2)]
    assert "provider_trainee_id 'S1 2' is on more than one record: line 10 of in.xml, line 20 of in.xml" in found[0][3]


def test_issues_name_the_records_input_line_and_identifiers():
    finder = DuplicateFinder()
    try:
        assert [finder.add(record(n, hesa_id="0000000000007")) for n in (1, 2, 3)] == [0, 1, 2]
        issue = next(issue for _index, issue in finder.issues())
        assert (issue.input, issue.record, issue.line, issue.provider_trainee_id, issue.hesa_id) == (
            "in.xml",
            1,
            10,
            "S1",
            "0000000000007",
        )
    finally:
        finder.close()


def test_a_record_without_a_record_number_or_line_is_still_reported():
    found = []
    finder = DuplicateFinder()
    try:
        for _ in (1, 2):
            finder.add(TraineeRecord(source=SourceRef(input="request"), data={"hesa_id": "0000000000001"}))
        found = [(index, issue.record, issue.line) for index, issue in finder.issues()]
    finally:
        finder.close()
    assert found == [(0, None, None), (1, None, None)]


def test_a_group_of_exactly_five_lists_them_all_without_a_count():
    found = findings([record(n, hesa_id="0000000000099") for n in range(1, 6)])
    first = next(f for f in found if f[1] == "duplicate_hesa_id")
    assert first[3].endswith(
        "line 10 of in.xml, line 20 of in.xml, line 30 of in.xml, line 40 of in.xml, line 50 of in.xml"
    )


def test_each_group_lists_its_own_records_and_counts_past_five():
    found = findings(
        [record(n, hesa_id="0000000000001") for n in (1, 2)] + [record(n, hesa_id="0000000000002") for n in range(3, 9)]
    )
    messages = {m for _i, code, _r, m in found if code == "duplicate_hesa_id"}
    assert messages == {
        "hesa_id '0000000000001' is on more than one record: line 10 of in.xml, line 20 of in.xml",
        "hesa_id '0000000000002' is on more than one record: line 30 of in.xml, line 40 of in.xml, line 50 of in.xml, "
        "line 60 of in.xml, line 70 of in.xml and 1 more",
    }


def spool_of(finder: DuplicateFinder) -> bytes:
    finder._spool.seek(0)
    return finder._spool.read()


@pytest.mark.parametrize(
    "name,odd",
    [
        ("in.xml", {}),
        ("in.xml", {"provider_trainee_id": "S1\n2"}),
        ("in.xml", {"hesa_id": "00000\x1f00001"}),
        ("in\x1f.xml", {}),
        ("in.xml", {"provider_trainee_id": "S\ud800é"}),
    ],
    ids=["plain", "line break", "unit separator", "separator in the input's name", "lone surrogate"],
)
@pytest.mark.parametrize("number", [7, None], ids=["numbered", "no number"])
def test_an_entry_made_in_another_process_is_kept_as_the_record_itself(name, odd, number):
    """A parallel run's helper sends each record's entry as `parts` (its spool line but for the record number, which
    the parent gives it): the finder keeps it byte for byte as it keeps the record checked here."""
    checked = TraineeRecord(source=SourceRef(input=name, record=number, line=70), data={**record(1).data, **odd})
    elsewhere = TraineeRecord(source=SourceRef(input=name, record=3, line=70), data=checked.data)
    here, there = DuplicateFinder(), DuplicateFinder()
    try:
        for _ in (1, 2):
            here.add(checked)
            there.add_parts(DuplicateFinder.parts(DuplicateFinder.entry(elsewhere)), number)
        assert spool_of(there) == spool_of(here)
        assert (there._hesa, there._provider, there._match, there._offsets) == (
            here._hesa,
            here._provider,
            here._match,
            here._offsets,
        )
        assert [(i, issue) for i, issue in there.issues()] == [(i, issue) for i, issue in here.issues()]
    finally:
        here.close()
        there.close()


def test_the_issues_of_one_record_repeated_are_put_in_order_in_memory_that_grows_with_the_records_alone():
    """review184 F3: the issues were put in batch order by sorting every issue's position, two Python ints and a list
    entry apiece: some 70 bytes an issue, 130 MB of a 2 GB repeated extract's peak. Many issues are put in order in
    an array a kind (8 bytes a record), in the same order: each record's, by kind."""
    import tracemalloc

    finder = DuplicateFinder()
    try:
        for n in range(1, 5001):
            finder.add(record(n, hesa_id="0000000000007", provider_trainee_id="S1", first_names="Ann"))
        codes = ["duplicate_hesa_id", "duplicate_provider_trainee_id", "possible_duplicate_trainee"]
        expected = iter([(0, codes[0]), (0, codes[1])] + [(i, code) for i in range(1, 5000) for code in codes])
        found = 0
        tracemalloc.start()
        try:
            for index, issue in finder.issues():  # compared as they come: nothing kept
                assert (index, issue.code) == next(expected)
                found += 1
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    finally:
        finder.close()
    assert found == 14_999 and next(expected, None) is None
    assert peak < 110 * found, peak / found  # about 160 bytes an issue before; some 85 now


def test_issues_put_in_order_by_kind_arrays_are_in_the_order_sorting_gives():
    """_in_record_order's two ways (a sort for a few issues, arrays a kind for many) give the sort's order."""
    import random
    from array import array

    from register_batch.validation.duplicates import _in_record_order

    rnd = random.Random(3)
    for _ in range(200):
        records = rnd.randrange(1, 200)
        index_of, kind_of, ref_of = array("q"), array("b"), array("q")
        for kind in (0, 1, 2):
            for index in rnd.sample(range(records), rnd.randrange(0, records + 1)):
                index_of.append(index)
                kind_of.append(kind)
                ref_of.append(rnd.randrange(0, 50))
        order = sorted(range(len(index_of)), key=index_of.__getitem__)
        expected = [(index_of[p], kind_of[p], ref_of[p]) for p in order]
        assert list(_in_record_order(index_of, kind_of, ref_of, records)) == expected


def test_a_duplicate_husids_fix_keeps_the_students_husid_across_instances():
    # review227 F3: a HUSID stays with the student across course instances (F_NUMHUS tells them apart); the fix told
    # the SRS to give a second instance a new one.
    from register_batch.validation.catalogue import fix_for

    fix = fix_for("duplicate_hesa_id") or ""
    assert "own 17-digit HUSID" not in fix and "keeps their HUSID across course instances" in fix
    assert fix.startswith("Keep one record per trainee") and "leave the old instance's row out" in fix
