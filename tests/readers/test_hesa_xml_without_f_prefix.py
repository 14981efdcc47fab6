"""HESA XML whose Student tags are HESA's names without the F_ prefix (`<HUSID>`, `<SURNAME>`) is read as HESA's tags,
as a HESA-named CSV's `HUSID` column is (review58 F2).

The XML reader only upper-cased tags: every field of such a file was blank ("17 errors", every field "can't be
blank"), `mappings check` said "No problems found", and a mapping file naming `HUSID` could not reach the tag either
(the loader reads a bare HESA name as its F_ form). One rule now names a tag and a CSV column alike.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.errors import UnusableInput
from register_batch.jobs import validate_files
from xml_reads import read

AS_OF = date(2026, 11, 28)
EXTRACT = Path(__file__).parents[2] / "samples" / "extract.xml"


def without_prefix(text: str) -> str:
    """The review's nof.xml: every F_ tag written without its F_ (in the Student and in its groups)."""
    return re.sub(r"<(/?)F_", r"<\1", text)


def written(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_sample_without_the_prefix_is_read_as_the_sample(hesa_samples, tmp_path):
    sample = hesa_samples / "itt_record_C23053.xml"
    [(_info, [hesa])] = read(sample)
    [(_info, [bare])] = read(written(tmp_path, "nof.xml", without_prefix(sample.read_text())))
    assert bare.fields == hesa.fields and bare.groups == hesa.groups
    assert bare.fields["F_HUSID"] == "0310261553101" and bare.problems == []


def test_bare_names_in_any_case_and_numbered_group_tags_are_read_as_the_csv_reads_them(tmp_path):
    """`husid`, `Surname`: upper case and the F_ (as `Forename` is FORENAME); `DEGTYPE_1`, a flat degree's tag, is
    F_DEGTYPE_1, the mapper's first degree; WITHDRAWAL_DATE, a name register-batch knows as it is, keeps it; a tag no
    HESA name (an SRS's own) is only upper-cased."""
    text = (
        "<ITTRecord><Student><husid>1234567890123</husid><Surname>Smith</Surname><Forename>Ann</Forename>"
        "<DEGTYPE_1>083</DEGTYPE_1><withdrawal_date>2026-01-01</withdrawal_date></Student></ITTRecord>"
    )
    [(_info, [raw])] = read(written(tmp_path, "mixed.xml", text))
    assert raw.fields == {
        "F_HUSID": "1234567890123",
        "F_SURNAME": "Smith",
        "FORENAME": "Ann",
        "F_DEGTYPE_1": "083",
        "WITHDRAWAL_DATE": "2026-01-01",
    }


def test_a_tag_given_with_and_without_the_prefix_is_one_tag_and_different_values_are_a_problem(tmp_path):
    """<HUSID> and <F_HUSID> are one tag, as <f_surname> and <F_SURNAME> are: the first value is kept, and two
    different values are the record's problem, neither taken without a word."""
    text = (
        "<ITTRecord><Student><F_HUSID>1234567890123</F_HUSID><HUSID>9999999999999</HUSID>"
        "<SURNAME>Smith</SURNAME><F_SURNAME>Smith</F_SURNAME></Student></ITTRecord>"
    )
    [(_info, [raw])] = read(written(tmp_path, "both.xml", text))
    assert raw.fields == {"F_HUSID": "1234567890123", "F_SURNAME": "Smith"}
    assert raw.problems == [
        (
            "F_HUSID",
            "<F_HUSID> and <HUSID> in <Student> are one tag to register-batch (HESA's F_ prefix and case aside), "
            "with different values",
        )
    ]


def test_validate_of_an_extract_without_the_prefix_finds_what_it_finds_in_the_sample(hesa_samples, tmp_path):
    sample = hesa_samples / "itt_record_C23053.xml"
    bare = written(tmp_path, "nof.xml", without_prefix(sample.read_text()))

    def found(path: Path, report: str) -> list[tuple[str, str, str]]:
        validate_files([path], as_of=AS_OF, report_dir=tmp_path / report)
        issues = json.loads((tmp_path / report / "report.json").read_text())["issues"]
        return [(i["field"], i["value"], i["code"]) for i in issues]

    seen = found(bare, "bare")
    assert seen == found(sample, "sample")
    assert ("training_route", "02", "untranslatable_code") in seen and len(seen) < 5  # not 17 "can't be blank"


def test_a_mapping_file_naming_the_bare_tag_reads_it(tmp_path):
    """The review's bare2.yaml: `hesa_id: HUSID` is read from <HUSID> (it named F_HUSID, which no record had)."""
    bare = written(tmp_path, "nof.xml", without_prefix(EXTRACT.read_text(encoding="utf-8")))
    mapping = written(
        tmp_path,
        "bare.yaml",
        "fields:\n  hesa:\n    trainee:\n      hesa_id: HUSID\n      last_name: surname\n"
        "      first_names: [FNAMES, Forename]\n",
    )
    result = CliRunner().invoke(cli, ["mappings", "check", str(bare), "--mapping", str(mapping)])
    assert result.exit_code == 0, result.output
    assert "no record of the input has" not in result.output


def test_a_misnamed_record_with_bare_tags_is_refused_as_one_with_hesas_tags_is(tmp_path):
    """A trainee's tags outside any Student refuse the file (review53 F1): written without F_ too."""
    text = without_prefix(EXTRACT.read_text(encoding="utf-8")).replace("<Student>", "<Studnet>", 1)
    text = text.replace("</Student>", "</Studnet>", 1)
    with pytest.raises(UnusableInput) as caught:
        read(written(tmp_path, "typo.xml", text))
    assert caught.value.problem.startswith("a <Studnet> element holds a trainee's tags (HUSID, OWNSTU and ")
