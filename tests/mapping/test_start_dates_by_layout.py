"""Start dates by collection (hesa-formats.md §5 item 9): C23053 and later read F_ITTSTARTDATE and F_TRAINEESTARTDATE
only; C22053 (and C21053) read F_ITTCOMDATE, or F_COMDATE where it is absent, for both (review58 F4).

The fallback applied to every layout: a C23053 record whose F_ITTSTARTDATE was NULL, from an SRS still writing the
F_COMDATE that C23053 removed, was valid and sent with F_COMDATE as its ITT start date, without a word.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from register_batch.jobs import validate_files
from register_batch.mapping import Mapper, load_mapping
from register_batch.model import SourceRef
from register_batch.readers.base import RawRecord

AS_OF = date(2026, 11, 28)


def mapped(fields, config=None):
    raw = RawRecord(source=SourceRef(input="x.xml", record=1, line=2), fields=fields)
    return Mapper(config or load_mapping()).map(raw, "hesa-xml")


def start_dates(record) -> tuple[str | None, str | None]:
    return record.data.get("itt_start_date"), record.data.get("trainee_start_date")


def test_a_c23053_record_takes_no_start_date_from_a_removed_tag():
    record = mapped(
        {
            "F_ITTSTARTDATE": None,
            "F_TRAINEESTARTDATE": "2026-09-01",
            "F_COMDATE": "2026-10-15",
            "F_ITTCOMDATE": "2026-10-16",
        }
    )
    assert record.vintage == "C23053"
    assert start_dates(record) == (None, "2026-09-01")


@pytest.mark.parametrize(
    "layout_tag,layout", [("F_DISABLE1", "C22053"), ("F_DISABLE", "C21053")], ids=["C22053", "C21053"]
)
def test_older_records_take_both_start_dates_from_ittcomdate_else_comdate(layout_tag, layout):
    both = mapped({layout_tag: "95", "F_ITTCOMDATE": "2022-09-01", "F_COMDATE": "2022-08-01"})
    assert (both.vintage, start_dates(both)) == (layout, ("2022-09-01", "2022-09-01"))
    comdate = mapped({layout_tag: "95", "F_ITTCOMDATE": None, "F_COMDATE": "2022-08-01"})
    assert (comdate.vintage, start_dates(comdate)) == (layout, ("2022-08-01", "2022-08-01"))


def test_a_users_source_for_the_start_date_is_read_in_older_records_too(tmp_path):
    """A user's own tag for a field wins in every layout (loader._own_sources_win), now that the older layouts name
    their own sources for the start dates."""
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    trainee:\n      itt_start_date: F_OURSTART\n")
    config = load_mapping([user])
    record = mapped({"F_DISABLE1": "95", "F_ITTCOMDATE": "2022-09-01", "F_OURSTART": "2022-09-05"}, config)
    assert (record.vintage, start_dates(record)) == ("C22053", ("2022-09-05", "2022-09-01"))


def test_validate_of_the_reviews_c23053_record_with_only_comdate_says_the_start_date_is_blank(
    c23053_made_valid, tmp_path
):
    """The review's c23com.xml: the C23053 sample made valid, F_ITTSTARTDATE NULL, F_COMDATE 2026-10-15. Before: valid,
    and sent with an ITT start date of 2026-10-15. Its F_TRAINEESTARTDATE makes it C23053, and a warning says that
    F_COMDATE is not read (review171 F2)."""
    xml = c23053_made_valid(
        "c23com.xml",
        {"<F_ITTSTARTDATE>2023-01-01<": "<F_COMDATE>2026-10-15</F_COMDATE><F_ITTSTARTDATE>NULL<"},
    )
    validate_files([xml], as_of=AS_OF, report_dir=tmp_path / "r")
    issues = json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
    assert [(i["field"], i["code"], i["severity"]) for i in issues] == [
        ("itt_start_date", "layout_conflict", "warning"),
        ("itt_start_date", "required", "error"),
    ]
    assert issues[0]["message"] == (
        "read by the C23053 layout, as it fills F_TRAINEESTARTDATE, though it fills F_COMDATE too, the C22053 layout's "
        "start date: F_COMDATE 2026-10-15 is not read as itt_start_date or trainee_start_date (itt_start_date is blank "
        "(F_ITTSTARTDATE: no value), trainee_start_date is F_TRAINEESTARTDATE's 2026-09-01)"
    )
