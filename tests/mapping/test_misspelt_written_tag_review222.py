"""review222 F2: an SRS's own XML tag read as HESA's (`<SURNAME>` is read as F_SURNAME: tags are matched ignoring case
and the F_ prefix) was named in messages as F_SURNAME, a name the extract does not hold. Messages name the tag as the
extract writes it, and say what it is read as."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli

AS_OF = "2026-11-28"


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout + result.stderr


def own_surname_tags(folder: Path) -> Path:
    """A C24053 extract whose SRS writes <SURNAME> for HESA's <F_SURNAME>."""
    xml = folder / "own.xml"
    code, out = run("generate", "--count", "3", "--seed", "5", "--as-of", AS_OF, "-o", str(xml))
    assert code == 0, out
    text = re.sub(r"<F_SURNAME>([^<]*)</F_SURNAME>", r"<SURNAME>\1</SURNAME>", xml.read_text(encoding="utf-8"))
    assert "<SURNAME>" in text and "F_SURNAME" not in text
    xml.write_text(text, encoding="utf-8")
    return xml


def test_a_misspelt_mapped_source_names_the_tag_as_the_extract_writes_it(tmp_path):
    xml = own_surname_tags(tmp_path)
    code, out = run("validate", str(xml), "--report-dir", str(tmp_path / "r0"), "--as-of", AS_OF)
    assert code == 0, out  # <SURNAME> is read as F_SURNAME
    typo = tmp_path / "m5.yaml"
    typo.write_text("fields:\n  hesa:\n    trainee:\n      last_name: SURNAM\n", encoding="utf-8")
    code, out = run("validate", str(xml), "--mapping", str(typo), "--report-dir", str(tmp_path / "r"), "--as-of", AS_OF)
    assert code == 1, out
    issues = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["issues"]
    [first, *_] = [i for i in issues if i["code"] == "mapped_source_misspelt"]
    assert first["value"] == "SURNAME"
    assert "but it has <SURNAME> (read as F_SURNAME), which nothing reads" in first["message"]
    assert "lists SURNAME under `fields: hesa: ignored:`" in first["message"]
    assert "(SURNAME for last_name)" in out and "F_SURNAME for last_name" not in out


def test_formats_md_says_xml_tags_are_matched_ignoring_case_and_the_f_prefix():
    doc = (Path(__file__).resolve().parents[2] / "docs" / "formats.md").read_text(encoding="utf-8")
    xml_section = doc.split("### HESA ITT XML", 1)[1].split("### HESA-named CSV", 1)[0]
    assert "**Tag names** are matched ignoring case and HESA's `F_` prefix" in xml_section
