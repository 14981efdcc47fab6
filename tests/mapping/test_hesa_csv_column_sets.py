"""A HESA-named CSV holds as many degrees and placements as its header has column sets (review29 F3): a row that
fills them all cannot say the trainee has no other one, so its list is partial (TraineeRecord.partial_lists) and
`sync` deletes nothing Register holds beyond it; a row with room to spare lists them all."""

from __future__ import annotations

import csv
from pathlib import Path

from register_batch.mapping import Mapper, load_mapping
from register_batch.model import TraineeRecord
from register_batch.readers import open_inputs

DEGREES = "degrees_attributes"
PLACEMENTS = "placements_attributes"


def read(path: Path) -> list[TraineeRecord]:
    """The records of an extract as `validate` and `sync` map them: read by the real readers, format detected."""
    config = load_mapping()
    mapper = Mapper(config)
    [(info, records)] = list(open_inputs([str(path)], "auto", config))
    return [mapper.map(raw, info.format) for raw in records]


def write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def trainee_columns(n: int) -> dict[str, str]:
    """The n-th trainee's own columns, without degrees or placements (with a column for each course subject and
    initiative, so that partial_lists names the lists only: a header without one has it named too)."""
    return {
        "F_HUSID": f"{2601200000000 + n:013d}",
        "F_OWNSTU": f"S{1000 + n}/1",
        "F_SURNAME": f"Okafor{n}",
        "F_SBJCA1": "100425",
        "F_SBJCA2": "",
        "F_SBJCA3": "",
        "F_INITIATIVES1": "",
        "F_INITIATIVES2": "",
    }


def hesa_trainee(n: int, *, degrees: int, placements: int) -> dict[str, str]:
    """The n-th trainee with `degrees` degrees and `placements` placements, in numbered columns."""
    row = trainee_columns(n)
    for k in range(1, degrees + 1):
        row |= {f"F_DEGTYPE_{k}": "083", f"F_DEGSBJ1_{k}": "100403", f"F_DEGENDDT_{k}": f"{2016 + k}-06-30"}
    for k in range(1, placements + 1):
        row[f"F_PLMNTSCH_{k}"] = f"{137000 + 10 * n + k}"
    return row


def test_a_header_of_bare_columns_has_room_for_one_degree_and_one_placement(tmp_path):
    """The docs' own example's shape: `F_PLMNTSCH` and `F_DEGTYPE` … without a number are the first (and only) set."""
    own = trainee_columns(1)
    degree = {
        "F_DEGTYPE": "083",
        "F_DEGSBJ1": "100403",
        "F_DEGCLSS": "02",
        "F_DEGEST": "0117",
        "F_DEGENDDT": "2021-06-30",
    }
    header = [*own, *degree, "F_PLMNTSCH"]
    full = [*own.values(), *degree.values(), "137470"]
    no_placement = [*trainee_columns(2).values(), *degree.values(), "NULL"]
    first, second = read(write(tmp_path / "bare.csv", header, [full, no_placement]))
    assert (len(first.data[DEGREES]), len(first.data[PLACEMENTS])) == (1, 1)
    assert first.partial_lists == {DEGREES, PLACEMENTS}
    assert PLACEMENTS not in second.data and second.partial_lists == {DEGREES}
    # The same trainee in HESA XML: a Student has as many PREVIOUSQUALIFICATION and PLACEMENT elements as the
    # trainee has, with no cap, so its lists are whole however short.
    xml = tmp_path / "one.xml"
    xml.write_text(
        "<ITTRecord><Student><F_HUSID>2601200000001</F_HUSID><F_OWNSTU>S1001/1</F_OWNSTU>"
        "<PREVIOUSQUALIFICATIONS><PREVIOUSQUALIFICATION><F_DEGTYPE>083</F_DEGTYPE><F_DEGSBJ1>100403</F_DEGSBJ1>"
        "</PREVIOUSQUALIFICATION></PREVIOUSQUALIFICATIONS>"
        "<PLACEMENTS><PLACEMENT><F_PLMNTSCH>137470</F_PLMNTSCH></PLACEMENT></PLACEMENTS></Student></ITTRecord>"
    )
    [record] = read(xml)
    assert (len(record.data[DEGREES]), len(record.data[PLACEMENTS])) == (1, 1)
    # (No Student of the file has an F_INITIATIVES tag: it says nothing of initiatives, review196 F1.)
    assert record.partial_lists == {"training_initiative", "additional_training_initiative"}


def test_a_numbered_header_has_as_many_sets_as_its_numbers(tmp_path):
    """Two degree sets and three placement sets: a list that fills them is partial, one with room to spare is the
    whole list (sync may delete what Register holds beyond it)."""
    rows = [
        hesa_trainee(1, degrees=2, placements=3),  # both full
        hesa_trainee(2, degrees=1, placements=2),  # room for one more of each
        hesa_trainee(3, degrees=2, placements=1),  # degrees full, placements not
    ]
    header = list(dict.fromkeys(column for row in rows for column in row))
    records = read(write(tmp_path / "numbered.csv", header, [[row.get(c, "") for c in header] for row in rows]))
    assert [(len(r.data[DEGREES]), len(r.data[PLACEMENTS])) for r in records] == [(2, 3), (1, 2), (2, 1)]
    assert [r.partial_lists for r in records] == [{DEGREES, PLACEMENTS}, frozenset(), {DEGREES}]


def test_a_bare_column_and_numbered_ones_are_one_list(tmp_path):
    """`F_PLMNTSCH` is the first placement and `F_PLMNTSCH_2` the second: two sets; a row filling only the
    second (its first blank) has room to spare."""
    own = trainee_columns(1)
    header = [*own, "F_PLMNTSCH", "F_PLMNTSCH_2"]
    rows = [[*own.values(), "137470", "137471"], [*trainee_columns(2).values(), "", "137472"]]
    both, one = read(write(tmp_path / "mixed.csv", header, rows))
    assert both.data[PLACEMENTS] == [{"urn": "137470", "name": "Placement 1"}, {"urn": "137471", "name": "Placement 2"}]
    assert both.partial_lists == {PLACEMENTS}
    assert len(one.data[PLACEMENTS]) == 1 and one.partial_lists == frozenset()
