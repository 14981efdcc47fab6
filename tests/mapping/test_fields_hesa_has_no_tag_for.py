"""A field no HESA tag holds (iqts_country): the fix a HESA extract's record is given says how to read it, and what
it says works (review114 F3: the fix asked for the country, and a data officer found no tag to fill)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from lxml import etree

from register_batch.jobs import validate_files
from register_batch.validation import CATALOGUE

SAMPLES = Path(__file__).parents[2] / "samples"


def iqts_student(path: Path, *, country: str | None = None) -> Path:
    """Record 71 of samples/defects.xml (route 15, iQTS), alone: its only error is its missing country; with
    `country`, a tag of the SRS's own holds it."""
    tree = etree.parse(SAMPLES / "defects.xml")
    root = tree.getroot()
    students = root.findall("Student")
    iqts = students[70]
    assert iqts.findtext("F_ENTRYRTE") == "15"
    for student in students:
        if student is not iqts:
            root.remove(student)
    if country is not None:
        etree.SubElement(iqts, "IQTS_COUNTRY").text = country
    tree.write(path, encoding="UTF-8", xml_declaration=True)
    return path


def test_an_iqts_record_of_a_hesa_extract_is_told_how_to_read_its_country(tmp_path):
    report = tmp_path / "report"
    result = validate_files([iqts_student(tmp_path / "iqts.xml")], as_of=date(2026, 11, 28), report_dir=report)
    issues = json.loads((report / "report.json").read_text(encoding="utf-8"))["issues"]
    assert [(i["field"], i["code"]) for i in issues if i["severity"] == "error"] == [
        ("iqts_country", "iqts_country_required")
    ]
    assert result.report.summary.invalid == 1
    fix = CATALOGUE["iqts_country_required"].fix
    assert "A HESA extract has no tag for it" in fix and "mappings.md" in fix
    # What the fix says to write, in a mapping file: the record then passes.
    assert "`fields: hesa: trainee: iqts_country:`" in fix
    mapping = tmp_path / "our-srs.yaml"
    mapping.write_text("fields:\n  hesa:\n    trainee:\n      iqts_country: IQTS_COUNTRY\n", encoding="utf-8")
    fixed = validate_files(
        [iqts_student(tmp_path / "iqts-with-country.xml", country="AE")],
        mapping_files=[mapping],
        as_of=date(2026, 11, 28),
        report_dir=tmp_path / "fixed",
    )
    assert fixed.report.summary.invalid == 0
