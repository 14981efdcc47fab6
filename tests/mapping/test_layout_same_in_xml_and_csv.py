"""One record written as HESA XML and as a HESA-named CSV is read by the same layout, and sends the same body
(review171 F2): the layout is told by the tags with a value and F_RECID, in both formats (hesa-formats.md §5 item 8).

Before, XML counted a tag present even NULL and never read F_RECID, while CSV let F_RECID outweigh the tags: a stale
F_RECID beside a filled F_ITTSTARTDATE sent F_COMDATE's start date from the CSV, F_ITTSTARTDATE's from the XML, and
a record with only F_COMDATE filled was refused from the XML and valid from the CSV, with no warning either way.
Each pair below is the review's repro: the same tags written both ways, read by the real readers.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from register_batch.jobs import convert_files, validate_files

AS_OF = date(2026, 11, 28)

# The review's g.xml / g.csv record (a C24053 trainee, valid as of AS_OF), its tags of the Student itself.
TRAINEE = {
    "F_ITTKEY": "0012101313906",
    "F_UKPRN": "10023796",
    "F_RECID": "24053",
    "F_HUSID": "2601210131390",
    "F_OWNSTU": "40526408/1/26",
    "F_BIRTHDTE": "1996-12-26",
    "F_BURSLEV": "6",
    "F_DISABLE1": "95",
    "F_EXPECTEDENDDATE": "2027-08-14",
    "F_ENTRYRTE": "12",
    "F_ETHNIC": "160",
    "F_FNAMES": "Joanne Ngozi",
    "F_FUNDCODE": "2",
    "F_ITTAIM": "202",
    "F_ITTPHSC": "13916",
    "F_MODE": "01",
    "F_NATION": "GB",
    "F_NQTEMAIL": "joanneakhtar96@mail.example.com",
    "F_QLAIM": "031",
    "F_SEXID": "10",
    "F_SURNAME": "Akhtar",
    "F_YEARPRG": "1",
    "F_APPLYAPPLICATIONID": None,
    "F_ITTSTARTDATE": "2026-08-24",
    "F_TRAINEESTARTDATE": "2026-08-24",
    "F_SBJCA1": "100339",
}

# Its degree (a PGCE needs one): a PREVIOUSQUALIFICATION in XML, the numbered columns F_DEGTYPE_1 … in CSV.
DEGREE = {
    "F_DEGCLSS": "03",
    "F_DEGCTRY": "XF",
    "F_DEGENDDT": "2025-07-31",
    "F_DEGEST": "0070",
    "F_DEGSBJ1": "100339",
    "F_DEGTYPE": "083",
}

PAIRS = {
    # A C22053 template given C23053's tags but not its record id, F_COMDATE still filled.
    "stale_recid": {"F_RECID": "22053", "F_COMDATE": "2026-08-20"},
    # No start date yet in C23053's tags, no F_RECID, a legacy F_COMDATE filled.
    "null_start": {
        "F_RECID": None,
        "F_ITTSTARTDATE": None,
        "F_TRAINEESTARTDATE": None,
        "F_COMDATE": "2026-08-20",
    },
    # F_RECID 21053 beside C23053's start dates, in a template that kept C21053's F_TREFNO: C21053's end date
    # (F_ENDDATE) is no C23053 tag.
    "c21053_recid": {"F_RECID": "21053", "F_TREFNO": None, "F_EXPECTEDENDDATE": None, "F_ENDDATE": "2027-07-31"},
}
# A template whose F_RECID was kept current (review121 F2) but whose start date is C22053's; C23053's tags NULL.
CURRENT_RECID = {"F_ITTSTARTDATE": None, "F_TRAINEESTARTDATE": None, "F_ITTCOMDATE": "2026-09-01", "F_TREFNO": None}


def written(
    folder: Path, name: str, changes: dict[str, str | None], dropped: tuple[str, ...] = ()
) -> tuple[Path, Path]:
    """The record with `changes` as HESA XML (a NULL element for no value) and as a HESA-named CSV (NULL cells), and
    without the tags (columns) `dropped`."""
    fields = {tag: value for tag, value in {**TRAINEE, **changes}.items() if tag not in dropped}
    xml = folder / f"{name}.xml"
    tags = "".join(f"<{tag}>{'NULL' if value is None else value}</{tag}>" for tag, value in fields.items())
    degree = "".join(f"<{tag}>{value}</{tag}>" for tag, value in DEGREE.items())
    degrees = (
        f"<PREVIOUSQUALIFICATIONS><PREVIOUSQUALIFICATION>{degree}</PREVIOUSQUALIFICATION></PREVIOUSQUALIFICATIONS>"
    )
    xml.write_text(
        f'<?xml version="1.0" encoding="UTF-8"?>\n<ITTRecord><Student>{tags}{degrees}</Student></ITTRecord>\n'
    )
    csv = folder / f"{name}.csv"
    columns = {**fields, **{f"{tag}_1": value for tag, value in DEGREE.items()}}
    cells = ("NULL" if value is None else value for value in columns.values())
    csv.write_text(",".join(columns) + "\n" + ",".join(cells) + "\n")
    return xml, csv


def converted(path: Path, tmp_path: Path) -> tuple[dict, list[tuple[str | None, str, str]], list[str]]:
    """(the record's body, its issues as (field, code, severity), the messages of its layout_conflict warnings)."""
    out = tmp_path / f"{path.name}.jsonl"
    reports = tmp_path / f"{path.name}-reports"
    convert_files([path], to="jsonl", output=out, as_of=AS_OF, report_dir=reports)
    [item] = [json.loads(line) for line in out.read_text().splitlines()]
    issues = json.loads((reports / "report.json").read_text())["issues"]
    said = [i["message"] for i in issues if i["code"] == "layout_conflict"]
    return item["data"], [(i["field"], i["code"], i["severity"]) for i in issues], said


@pytest.mark.parametrize("name", sorted(PAIRS))
def test_the_same_record_as_xml_and_as_csv_sends_the_same_body_with_the_same_issues(name, tmp_path):
    xml, csv = written(tmp_path, name, PAIRS[name])
    from_xml, from_csv = converted(xml, tmp_path), converted(csv, tmp_path)
    assert from_xml == from_csv


def test_a_filled_start_date_outweighs_a_stale_f_recid_and_the_ignored_date_is_said(tmp_path):
    xml, csv = written(tmp_path, "stale_recid", PAIRS["stale_recid"])
    for path in (xml, csv):
        data, issues, [said] = converted(path, tmp_path)
        assert (data["itt_start_date"], data["trainee_start_date"]) == ("2026-08-24", "2026-08-24"), path.name
        assert issues == [("itt_start_date", "layout_conflict", "warning")]
        assert said == (
            "read by the C23053 layout, as it fills F_ITTSTARTDATE and F_TRAINEESTARTDATE, though F_RECID 22053 says "
            "the C22053 layout: F_COMDATE 2026-08-20 is not read as itt_start_date or trainee_start_date "
            "(itt_start_date is F_ITTSTARTDATE's 2026-08-24, trainee_start_date is F_TRAINEESTARTDATE's 2026-08-24)"
        )


def test_a_record_filling_only_an_older_start_date_is_read_by_that_layout_in_xml_too(tmp_path):
    """NULL C23053 tags say nothing: the XML was refused (itt_start_date required), the CSV sent F_COMDATE."""
    xml, csv = written(tmp_path, "null_start", PAIRS["null_start"])
    for path in (xml, csv):
        data, issues, said = converted(path, tmp_path)
        assert (data["itt_start_date"], data["trainee_start_date"]) == ("2026-08-20", "2026-08-20"), path.name
        assert issues == [] and said == []


def test_a_c21053_f_recid_beside_c23053_start_dates_reads_no_end_date_from_f_enddate_and_says_so(tmp_path):
    """The CSV sent F_ENDDATE as itt_end_date (F_RECID won); the XML refused the record without saying why."""
    xml, csv = written(tmp_path, "c21053_recid", PAIRS["c21053_recid"])
    for path in (xml, csv):
        data, issues, [said] = converted(path, tmp_path)
        assert "itt_end_date" not in data, path.name
        assert issues == [("itt_end_date", "layout_conflict", "warning"), ("itt_end_date", "required", "error")]
        assert said.endswith(
            "though F_RECID 21053 says the C21053 layout: F_ENDDATE 2027-07-31 is not read as itt_end_date "
            "(itt_end_date is blank (F_EXPECTEDENDDATE: no value))"
        )


def test_an_f_recid_newer_than_the_start_dates_filled_is_said(tmp_path):
    """Both formats read it by C23053's layout before (the tags were there, F_RECID said so): refused, without a
    start date, with no word of the F_ITTCOMDATE it has."""
    xml, csv = written(tmp_path, "current_recid", CURRENT_RECID)
    assert converted(xml, tmp_path) == converted(csv, tmp_path)
    for path in (xml, csv):
        data, issues, [said] = converted(path, tmp_path)
        assert data["itt_start_date"] == "2026-09-01", path.name
        assert issues == [(None, "layout_conflict", "warning")]
        assert said == (
            "read by the C22053 layout, as its start date is in F_ITTCOMDATE, not in F_ITTSTARTDATE or "
            "F_TRAINEESTARTDATE, though F_RECID 24053 says the C23053 layout"
        )


def reported(path: Path, tmp_path: Path) -> dict:
    """report.json of validating `path`."""
    reports = tmp_path / f"{path.name}-validated"
    validate_files([path], as_of=AS_OF, report_dir=reports)
    return json.loads((reports / "report.json").read_text())


def test_older_start_tags_holding_the_date_read_raise_no_warning(tmp_path):
    """review176 F3: a C23053 template that still fills F_ITTCOMDATE and F_COMDATE, with the date F_ITTSTARTDATE
    has, was warned about on every record, though nothing is read differently."""
    xml, csv = written(tmp_path, "same_dates", {"F_ITTCOMDATE": "2026-08-24", "F_COMDATE": "2026-08-24"})
    for path in (xml, csv):
        data, issues, said = converted(path, tmp_path)
        assert data["itt_start_date"] == "2026-08-24", path.name
        assert issues == [] and said == [], path.name


def test_only_an_older_start_tag_with_another_date_is_named(tmp_path):
    xml, csv = written(tmp_path, "one_differs", {"F_ITTCOMDATE": "2026-08-24", "F_COMDATE": "2026-08-20"})
    for path in (xml, csv):
        _data, _issues, [said] = converted(path, tmp_path)
        assert "F_ITTCOMDATE" not in said.split(":", 1)[1], said
        assert said.endswith(
            ": F_COMDATE 2026-08-20 is not read as itt_start_date or trainee_start_date (itt_start_date is "
            "F_ITTSTARTDATE's 2026-08-24, trainee_start_date is F_TRAINEESTARTDATE's 2026-08-24)"
        ), said


def test_a_stale_f_recid_is_said_even_where_its_layout_would_read_the_same_dates(tmp_path):
    """The file contradicts itself, and the layout decides more than dates (what F_RSNEND and F_MODE say)."""
    xml, csv = written(tmp_path, "stale_same", {"F_RECID": "22053", "F_COMDATE": "2026-08-24"})
    for path in (xml, csv):
        _data, issues, [said] = converted(path, tmp_path)
        assert issues == [(None, "layout_conflict", "warning")], path.name
        assert said == (
            "read by the C23053 layout, as it fills F_ITTSTARTDATE and F_TRAINEESTARTDATE, though F_RECID 22053 says "
            "the C22053 layout"
        )


def test_another_layouts_own_tag_filled_beside_the_layout_f_recid_names_raises_no_warning(tmp_path):
    """A C22053 record that also fills C21053's F_DISABLE: F_RECID and the dates agree, and nothing is unread."""
    changes = {"F_RECID": "22053", "F_ITTSTARTDATE": None, "F_TRAINEESTARTDATE": None, "F_ITTCOMDATE": "2026-08-24"}
    xml, csv = written(tmp_path, "disable", {**changes, "F_DISABLE": "95"})
    for path in (xml, csv):
        data, _issues, said = converted(path, tmp_path)
        assert data["itt_start_date"] == "2026-08-24", path.name
        assert said == [], path.name


def test_a_c22053_record_without_a_start_date_names_its_own_start_tags(tmp_path):
    """review176 F2: Register's sample C22053 record (F_RECID 16053) without a start date was read as C23053's, and
    its required error named F_ITTSTARTDATE, a tag a C22053 extract does not have."""
    changes = {"F_RECID": "16053", "F_ITTCOMDATE": None, "F_COMDATE": None}
    dropped = ("F_ITTSTARTDATE", "F_TRAINEESTARTDATE", "F_APPLYAPPLICATIONID")
    for recid in ("16053", None):
        xml, csv = written(tmp_path, f"c22_nostart_{recid}", {**changes, "F_RECID": recid}, dropped)
        for path in (xml, csv):
            report = reported(path, tmp_path)
            assert report["inputs"][0]["vintages"] == {"C22053": 1}, path.name
            [required] = [i for i in report["issues"] if i["code"] == "required" and i["field"] == "itt_start_date"]
            assert required["source"] == "F_ITTCOMDATE or F_COMDATE", path.name


def test_a_c23053_record_without_a_start_date_still_names_f_ittstartdate(tmp_path):
    """The presence of the older tags decides only where the newest's are absent: a template with both is C23053's."""
    changes = {"F_RECID": None, "F_ITTSTARTDATE": None, "F_TRAINEESTARTDATE": None, "F_COMDATE": None}
    xml, csv = written(tmp_path, "c23_nostart", changes)
    for path in (xml, csv):
        report = reported(path, tmp_path)
        assert report["inputs"][0].get("vintages") in (None, {"C23053": 1}), path.name
        [required] = [i for i in report["issues"] if i["code"] == "required" and i["field"] == "itt_start_date"]
        assert required["source"] == "F_ITTSTARTDATE", path.name
