"""The mapper's own rules see a record's codes as a mapping file translates them (review58 F1).

A degree's UK / non-UK split (hesa-formats.md §5 item 12) and the dropping of a UK degree's country ran on the values
as read, and the translations after them: an SRS's own country code that a user's file translates to XF (England)
still made a `non_uk_degree`, sent with its country, which Register refuses ("uk_degree must be entered"), with
`mappings check` saying nothing was wrong. The dormant study mode warning (§5 item 25) read the study mode before
translation too. The translation warnings still name the field as the record holds it, and the code as written.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from register_batch.jobs import validate_files
from register_batch.mapping import Mapper, load_mapping
from register_batch.model import SourceRef
from register_batch.readers.base import RawRecord

AS_OF = date(2026, 11, 28)
COUNTRIES = """\
codes:
  degrees_attributes.country:
    source: our SRS country codes
    translate:
      "ENG": {to: "XF", note: England}
      "FRA": {to: "FR", note: France}
"""
MODES = """\
codes:
  study_mode:
    source: our SRS study modes
    translate:
      "D": {to: "63", note: dormant}
      "63": {to: "01", note: our 63 is full-time}
"""


@pytest.fixture
def mapping(tmp_path):
    def write(text: str) -> Path:
        path = tmp_path / "ours.yaml"
        path.write_text(text)
        return path

    return write


def mapped(fields, groups=None, config=None):
    raw = RawRecord(source=SourceRef(input="x.xml", record=1, line=2), fields=fields, groups=groups or {})
    return Mapper(config or load_mapping()).map(raw, "hesa-xml")


def degree(**tags):
    return {"PREVIOUSQUALIFICATION": [{"F_DEGSBJ1": "100251", "F_DEGENDDT": "2005-07-01", **tags}]}


def test_a_country_translated_to_a_uk_code_makes_a_uk_degree_without_its_country(mapping):
    record = mapped({}, degree(F_DEGTYPE="205", F_DEGCTRY="ENG"), load_mapping([mapping(COUNTRIES)]))
    assert record.data["degrees_attributes"] == [
        {"uk_degree": "205", "subject": "100251", "graduation_year": "2005-07-01"}
    ]
    [issue] = record.issues
    assert (issue.code, issue.field, issue.value) == (
        "legacy_code_translated",
        "degrees_attributes[0].country",
        "ENG",
    )
    assert issue.message.startswith("degrees_attributes[0].country: legacy code 'ENG' translated to 'XF' (England)")


def test_a_translated_country_and_the_bundled_degree_type_translation_both_apply(mapping):
    """The degree type is translated as the field it is sent as, after the split: the bundled honours codes still
    apply (004 is 003), on a UK or a non-UK degree, and each warning names its own field."""
    config = load_mapping([mapping(COUNTRIES)])
    record = mapped({}, {"PREVIOUSQUALIFICATION": [{"F_DEGTYPE": "004", "F_DEGCTRY": "ENG"}]}, config)
    assert record.data["degrees_attributes"] == [{"uk_degree": "003"}]
    assert [(i.field, i.value) for i in record.issues] == [
        ("degrees_attributes[0].country", "ENG"),
        ("degrees_attributes[0].uk_degree", "004"),
    ]
    abroad = mapped({}, {"PREVIOUSQUALIFICATION": [{"F_DEGTYPE": "006", "F_DEGCTRY": "FRA"}]}, config)
    assert abroad.data["degrees_attributes"] == [{"non_uk_degree": "005", "country": "FR"}]
    assert [(i.field, i.value) for i in abroad.issues] == [
        ("degrees_attributes[0].country", "FRA"),
        ("degrees_attributes[0].non_uk_degree", "006"),
    ]


def test_a_register_csv_degrees_country_translated_to_a_uk_code_is_not_sent(mapping):
    """Register's CSV names the degree type itself; a UK degree's country is dropped (register-api.md §3.7) once
    translated too."""
    config = load_mapping([mapping(COUNTRIES)])
    raw = RawRecord(
        source=SourceRef(input="x.csv", record=1, line=2),
        fields={"uk_degree": "083", "degree_country": "ENG", "degree_subject": "100251"},
    )
    record = Mapper(config).map(raw, "register-csv")
    assert record.data["degrees_attributes"] == [{"uk_degree": "083", "subject": "100251"}]


def test_a_study_mode_translated_to_a_dormant_one_is_reported_and_one_translated_away_is_not(mapping):
    config = load_mapping([mapping(MODES)])
    dormant = mapped({"F_MODE": "D", "F_ITTSTARTDATE": "2025-09-01"}, config=config)
    assert dormant.data["study_mode"] == "63"
    # Both name the code as the extract has it, the value to look for in the SRS.
    assert [(i.code, i.field, i.value) for i in dormant.issues] == [
        ("legacy_code_translated", "study_mode", "D"),
        ("legacy_deferral_not_sent", "study_mode", "D"),
    ]
    assert dormant.issues[1].message.startswith(
        "study_mode 'D' (translated to '63') (dormant, previously full-time) made the old HESA import defer the trainee"
    )
    full_time = mapped({"F_MODE": "63", "F_ITTSTARTDATE": "2025-09-01"}, config=config)
    assert full_time.data["study_mode"] == "01"
    assert [i.code for i in full_time.issues] == ["legacy_code_translated"]


def test_validate_of_the_reviews_extract_sends_a_uk_degree(c23053_made_valid, mapping, tmp_path):
    """The review's ctry.xml: the C23053 sample made valid, its degree from `ENG` with no institution, and the
    user's file translating ENG to XF. Before: uk_degree_required, an error."""
    xml = c23053_made_valid("ctry.xml", {"<F_DEGCTRY>XF<": "<F_DEGCTRY>ENG<", "<F_DEGEST>0001<": "<F_DEGEST>NULL<"})
    result = validate_files([xml], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=[mapping(COUNTRIES)])
    issues = json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
    assert [(i["field"], i["value"], i["code"]) for i in issues] == [
        ("degrees_attributes[0].country", "ENG", "legacy_code_translated")
    ]
    assert result.report.summary.errors == 0
