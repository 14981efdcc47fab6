"""A HESA record's layout (collection) is told by the start-date columns (tags) that have a value, then by F_RECID, then
by the older layouts' own columns with a value, else it is the newest layout; not by columns the header has, empty
(hesa-formats.md §5 item 8: "from the tags present (and F_RECID)"; review117 F7, review121 F5, review131 F1), and
the same in HESA XML (review171 F2: tests/mapping/test_layout_same_in_xml_and_csv.py).

Every row of a CSV has every column of its header: an SRS export template that kept a C21053 column (F_TREFNO, NULL in
every row) made each C22053 record C21053, and a blank F_EXPECTEDENDDATE was filled from F_ENDDATE, the leaving date.
Register's own fixtures have F_RECID 16053 in every layout.
"""

from __future__ import annotations

import pytest

from register_batch.mapping import Mapper, load_mapping
from register_batch.model import SourceRef
from register_batch.readers.base import RawRecord

# A C22053 leaver as an SRS writes it, with an older collection's column (F_TREFNO) left in its template, empty.
C22053_LEAVER = {
    "F_RECID": "22053",
    "F_TREFNO": None,
    "F_ITTCOMDATE": "2026-09-01",
    "F_EXPECTEDENDDATE": None,
    "F_ENDDATE": "2026-11-20",
    "F_RSNEND": "03",
}


def mapped(fields, fmt="hesa-csv"):
    raw = RawRecord(source=SourceRef(input="x", record=1, line=2), fields=fields)
    return Mapper(load_mapping()).map(raw, fmt)


def test_an_empty_older_column_does_not_make_a_c22053_row_c21053_and_its_leaving_date_is_no_end_date():
    record = mapped(C22053_LEAVER)
    assert record.vintage == "C22053"
    assert "itt_end_date" not in record.data
    assert record.data["itt_start_date"] == "2026-09-01"


def test_without_f_recid_the_columns_with_a_value_tell_the_layout():
    record = mapped({**C22053_LEAVER, "F_RECID": None})
    assert record.vintage == "C22053"
    assert "itt_end_date" not in record.data


@pytest.mark.parametrize(
    "recid,layout",
    [("21053", "C21053"), ("22053", "C22053"), ("23053", "C23053"), ("24053", "C23053")],
)
def test_f_recid_names_the_layout_of_its_collection(recid, layout):
    """C24053 has C23053's layout (hesa-formats.md §1.6)."""
    record = mapped({"F_RECID": recid, "F_TREFNO": None, "F_DISABLE1": None, "F_ITTSTARTDATE": None})
    assert record.vintage == layout


def test_f_recid_wins_over_the_columns_when_they_disagree():
    """The SRS says which older collection the row is of; a value in another collection's column is not read by it,
    and a warning says so (review171 F2)."""
    record = mapped({**C22053_LEAVER, "F_TREFNO": "12345"})
    assert record.vintage == "C22053" and "itt_end_date" not in record.data
    assert [issue.code for issue in record.issues if issue.code == "layout_conflict"] == ["layout_conflict"]


def test_a_c21053_row_by_its_f_recid_reads_its_end_date_from_f_enddate():
    record = mapped({"F_RECID": "21053", "F_DISABLE": None, "F_COMDATE": "2021-09-01", "F_ENDDATE": "2022-07-31"})
    assert record.vintage == "C21053" and record.data["itt_end_date"] == "2022-07-31"


@pytest.mark.parametrize("recid", ["ABC", "16053", "00053"])
def test_an_f_recid_that_names_no_collection_leaves_it_to_the_columns(recid):
    """review121 F1: 16053, the value Register's own samples carry whatever their layout (hesa-formats.md §1.1), read
    as C21053 made a C22053 leaver's leaving date its end date, and every C23053 row's start date blank."""
    record = mapped({**C22053_LEAVER, "F_RECID": recid})
    assert record.vintage == "C22053" and "itt_end_date" not in record.data
    c23053 = {"F_RECID": recid, "F_TREFNO": None, "F_ITTSTARTDATE": "2026-09-01", "F_TRAINEESTARTDATE": None}
    assert mapped(c23053).data["itt_start_date"] == "2026-09-01"


@pytest.mark.parametrize("recid", ["23053", "24053", "25053"])
def test_an_f_recid_newer_than_the_headers_columns_leaves_it_to_the_columns(recid):
    """review121 F2: a template kept from C22053 (no C23053 column) whose F_RECID is kept current was read by the
    C23053 layout, and every row's start date was blank (F_ITTSTARTDATE, a column the file lacks)."""
    row = {"F_RECID": recid, "F_DISABLE1": None, "F_ITTCOMDATE": "2026-09-01", "F_EXPECTEDENDDATE": "2027-07-01"}
    record = mapped(row)
    assert record.vintage == "C22053" and record.data["itt_start_date"] == "2026-09-01"


def test_without_f_recid_a_row_of_a_header_with_the_newest_layouts_columns_is_of_that_layout():
    """review121 F5: a C23053 row whose C23053 columns are all NULL (no start dates yet) was read as C22053 for a
    value under F_DISABLE1: its error named F_ITTCOMDATE and F_COMDATE, columns the file lacks, and the report counted
    a C22053 record. Values choose only between the older layouts, whose columns C23053 templates keep (review117 F7);
    nor is a start date the C23053 layout removed taken from an older column the template kept."""
    row = {"F_RECID": None, "F_ITTSTARTDATE": None, "F_TRAINEESTARTDATE": None, "F_APPLYAPPLICATIONID": None}
    record = mapped({**row, "F_DISABLE1": "58", "F_EXPECTEDENDDATE": "2027-07-01"})
    assert record.vintage == "C23053" and "itt_start_date" not in record.data
    record = mapped({**row, "F_DISABLE1": "58", "F_ENDDATE": "2026-11-20", "F_RSNEND": "03", "F_COMDATE": None})
    assert record.vintage == "C23053" and "itt_start_date" not in record.data  # a C23053 leaver without start dates


@pytest.mark.parametrize("older", ["F_COMDATE", "F_ITTCOMDATE"])
def test_without_f_recid_a_row_filling_an_older_start_date_column_and_none_of_the_newest_is_of_the_older(older):
    """review131 F1: an SRS template extended with C23053's columns, or a file mixing collections (docs/formats.md:
    the values in the row decide), had every older row read as C23053, each refused `itt_start_date can't be blank`."""
    row = {"F_RECID": None, "F_ITTSTARTDATE": None, "F_TRAINEESTARTDATE": None, "F_APPLYAPPLICATIONID": None}
    record = mapped({**row, "F_TREFNO": None, "F_DISABLE1": "58", older: "2026-09-01", "F_EXPECTEDENDDATE": None})
    assert record.vintage == "C22053" and record.data["itt_start_date"] == "2026-09-01"
    assert "itt_end_date" not in record.data  # nor is C21053's F_ENDDATE read as the end date (review117 F7)
    record = mapped({**row, "F_TREFNO": "X1", older: "2026-09-01", "F_ENDDATE": "2027-07-01"})
    assert record.vintage == "C21053" and record.data["itt_end_date"] == "2027-07-01"
    record = mapped({**row, "F_ITTSTARTDATE": "2026-09-02", older: "2026-09-01"})
    assert record.vintage == "C23053" and record.data["itt_start_date"] == "2026-09-02"


@pytest.mark.parametrize("recid", ["16053", "22053", None])
def test_hesa_xml_tells_the_layout_as_the_csv_does(recid):
    """review171 F2: XML counted <F_TREFNO>NULL</F_TREFNO> as a C21053 tag and never read F_RECID, so this C22053
    leaver was read as C21053 there (its leaving date taken for its end date, then refused) and as C22053 from a CSV."""
    xml = mapped({**C22053_LEAVER, "F_RECID": recid}, "hesa-xml")
    csv = mapped({**C22053_LEAVER, "F_RECID": recid})
    assert xml.vintage == csv.vintage == "C22053"
    assert xml.data == csv.data and "itt_end_date" not in xml.data
