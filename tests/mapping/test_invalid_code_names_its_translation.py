"""An invalid code a user's mapping file made names the line that made it (review161 F3).

`FT: 1` (unquoted) under `codes.study_mode.translate` made each full-time trainee's study mode `1`. validate said
"study_mode has invalid reference data value of '1'" and advised adding a translation in a --mapping file: the
extract has no `1`, and the file's own line made it. The error now says so after Register's own words."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from register_batch.jobs import validate_files

AS_OF = date(2026, 11, 28)
OURS = """\
codes:
  study_mode:
    source: ours
    translate:
      FT: 1
      PT: "31"
"""


def issues_of(tmp_path: Path, hesa_samples: Path, mapping: str) -> list[dict]:
    tmp_path.mkdir(exist_ok=True)
    sample = (hesa_samples / "itt_record_C23053.xml").read_text(encoding="utf-8")
    xml = tmp_path / "srs.xml"
    xml.write_text(sample.replace("<F_MODE>01</F_MODE>", "<F_MODE>FT</F_MODE>"), encoding="utf-8")
    ours = tmp_path / "ours.yaml"
    ours.write_text(mapping, encoding="utf-8")
    validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / "r", mapping_files=(ours,), jobs=1)
    return json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))["issues"]


def test_an_invalid_code_a_users_translation_made_names_its_file_and_line(tmp_path, hesa_samples):
    issues = issues_of(tmp_path, hesa_samples, OURS)
    [invalid] = [i for i in issues if i["code"] == "invalid_code"]
    assert (invalid["field"], invalid["value"]) == ("study_mode", "FT")
    assert invalid["message"] == (
        "study_mode has invalid reference data value of '1'. Valid values are '01', '02', '31', '63', '64'. "
        f"'1' is what {tmp_path / 'ours.yaml'}:5 translates 'FT' to: correct that translation"
    )


def test_a_translation_to_a_good_code_or_a_code_the_extract_has_wrong_says_no_more(tmp_path, hesa_samples):
    """FT translated to 01 is valid; an untranslated bad code keeps Register's words alone."""
    issues = issues_of(tmp_path, hesa_samples, OURS.replace("FT: 1", "FT: '01'"))
    assert not [i for i in issues if i["code"] == "invalid_code"]
    issues = issues_of(tmp_path / "plain", hesa_samples, OURS.replace("FT: 1", "XX: '01'"))
    [invalid] = [i for i in issues if i["code"] == "invalid_code"]
    assert invalid["message"] == (
        "study_mode has invalid reference data value of 'FT'. Valid values are '01', '02', '31', '63', '64'."
    )
