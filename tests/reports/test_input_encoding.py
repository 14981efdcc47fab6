"""The encoding each CSV was read in: report.json's `inputs`, report.html's "Inputs and settings" (review156 F2).

A CSV saved by Excel's "CSV (Comma delimited)" is Windows-1252, which has no ł or ş: the officer who finds
`Ma?gorzata` (lost_letter) needs to see that the file was read so, to save it again as "CSV UTF-8". The reader
works it out for the whole file before it reads a row (docs/formats.md, Encodings and line ends); an XML file is
read as its declaration says, and its report stays as it was (no key).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pytest

from register_batch.jobs import validate_files
from report_schema import allowed_report

FIXTURES = Path(__file__).parents[1] / "fixtures"
SAMPLES = Path(__file__).parents[2] / "samples"
AS_OF = "2026-11-28"


def five_trainees(path: Path, first_name: str, *, encoding: str) -> Path:
    with (FIXTURES / "register_csv" / "five_trainees.csv").open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    rows[1][header.index("first_names")] = first_name
    with path.open("w", encoding=encoding, errors="replace", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path


@pytest.mark.parametrize(
    "first_name,encoding,said",
    [
        ("Renée", "cp1252", "Windows-1252"),
        # every letter beyond ASCII lost (Ma?gorzata): nothing tells Windows-1252 from UTF-8; lost_letter names the ?
        ("Małgorzata", "cp1252", "ASCII"),
        ("Małgorzata", "utf-8", "UTF-8"),
        ("Małgorzata", "utf-8-sig", "UTF-8 with a byte order mark"),
        ("Malgorzata", "utf-8", "ASCII"),
    ],
)
def test_report_json_and_html_say_the_encoding_a_csv_was_read_in(tmp_path, first_name, encoding, said):
    path = five_trainees(tmp_path / "in.csv", first_name, encoding=encoding)
    validate_files([str(path)], as_of=date.fromisoformat(AS_OF), report_dir=tmp_path / "r")
    report = allowed_report(tmp_path / "r")  # the schema names the key
    [shown] = report["inputs"]
    assert shown["encoding"] == said
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert f'<span class="encoding">read as {said}</span>' in html


def test_an_xml_inputs_report_has_no_encoding(tmp_path):
    validate_files([str(SAMPLES / "extract.xml")], as_of=date.fromisoformat(AS_OF), report_dir=tmp_path / "r")
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert "encoding" not in report["inputs"][0]
    assert 'class="encoding"' not in (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
