"""A HESA tag a user's field map names is spelt right: a record without it has no value there (review165 F1).

A user's map names a HESA tag for a field, usually with a fallback of the SRS's own (`institution: [F_DEGEST,
DEGREE_INSTITUTION]`), or as a copy of the bundled map. An SRS that leaves an empty element out (a missing element
means "no value", as NULL does: docs/formats.md) writes a non-UK degree with no F_DEGEST but with its start date,
F_DEGSTDT, which nothing reads and which is a few letters from F_DEGEST. mapped_source_misspelt took it for a
misspelling, made the record invalid, and sync did not send it; `mappings check` rightly said nothing, as it warns
only of a source that is no HESA tag. A source that is a HESA tag is not looked at for misspellings; one that is not
(F_ITTKY, LEAVING_DATE: test_misspelt_sources.py) still is, F_ITTKEY, a HESA tag nothing reads, being its near miss.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli

AS_OF = "2026-11-28"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def without_empty_elements(folder: Path) -> Path:
    """A C24053 extract as an SRS writes it when it leaves an empty element out instead of writing NULL, and one
    placement without its school's URN."""
    xml = folder / "s60.xml"
    code, out, _err = run("generate", "--count", "60", "--seed", "5", "--as-of", AS_OF, "-o", str(xml))
    assert code == 0, out
    text = "".join(line for line in xml.read_text(encoding="utf-8").splitlines(True) if ">NULL</" not in line)
    text = re.sub(r"<F_PLMNTSCH>[^<]*</F_PLMNTSCH>", "", text, count=1)
    xml.write_text(text, encoding="utf-8")
    return xml


def misspelt(report_dir: Path) -> list[dict]:
    found = json.loads((report_dir / "report.json").read_text())["issues"]
    return [i for i in found if i["code"] == "mapped_source_misspelt"]


@pytest.mark.parametrize(
    ("overlay", "near"),
    [
        ("    degrees:\n      fields:\n        institution: [F_DEGEST, DEGREE_INSTITUTION]\n", "<F_DEGSTDT>"),
        ("    placements:\n      fields:\n        urn: [F_PLMNTSCH, SCHOOL_URN]\n", "<F_PLMNTDYS>"),
        ("    trainee:\n      study_mode: [F_MODE, MODE_OF_STUDY]\n", "<F_CRMODE>"),
    ],
    ids=["non-UK degree, no F_DEGEST", "placement, no F_PLMNTSCH", "no F_MODE"],
)
def test_a_record_without_a_hesa_tag_the_map_names_is_valid_beside_a_hesa_tag_nothing_reads(tmp_path, overlay, near):
    xml = without_empty_elements(tmp_path)
    assert near in xml.read_text(encoding="utf-8")
    code, bare, err = run("validate", str(xml), "--report-dir", str(tmp_path / "r0"), "--as-of", AS_OF)
    assert code == 0 and bare.startswith("60 records: 60 valid, 0 with errors"), bare + err
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n" + overlay)
    code, out, err = run(
        "validate", str(xml), "--mapping", str(ours), "--report-dir", str(tmp_path / "r"), "--as-of", AS_OF
    )
    assert not misspelt(tmp_path / "r"), out
    assert code == 0 and out.startswith("60 records: 60 valid, 0 with errors"), out + err
    assert "mapped_source_misspelt" not in out + err


def test_a_copy_of_the_bundled_map_takes_no_hesa_tag_for_a_misspelling_of_another(tmp_path):
    """The bundled map's sources are all HESA's (or the WITHDRAWAL_/DEFER_ tags it defines): a copy of it as a user's
    file names nothing misspelt in an extract that leaves its empty elements out."""
    xml = without_empty_elements(tmp_path)
    bundled = Path(__file__).parents[2] / "mappings" / "fields" / "hesa.yaml"
    trainee = "".join(
        line
        for line in bundled.read_text(encoding="utf-8").split("\ntrainee:\n", 1)[1].split("\n\n", 1)[0].splitlines(True)
    )
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        "fields:\n  hesa:\n    trainee:\n"
        + "".join(f"    {line}" for line in trainee.splitlines(True))
        + "\n    degrees:\n      fields:\n        institution: F_DEGEST\n"
        + "    placements:\n      fields:\n        urn: F_PLMNTSCH\n"
    )
    code, out, err = run(
        "validate", str(xml), "--mapping", str(ours), "--report-dir", str(tmp_path / "r"), "--as-of", AS_OF
    )
    assert not misspelt(tmp_path / "r"), out
    assert code == 0, out + err
