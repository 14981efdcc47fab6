"""The bundled index holds every code and id exactly as DfE's YAML writes it.

YAML 1.1 (PyYAML's and Psych's default) reads unquoted `NO` as false, `01` as 1 and `0.5` as a float. The sources
are read here with `yaml.BaseLoader`, which keeps every scalar as its text, so the comparison does not share the
build's loader.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from register_batch.reference import DATA_DIR, load_reference
from register_batch.reference import build as reference_build
from register_batch.reference.build import FIELD_FILES, build_index

VERSION = "v2026.1"


def _as_text(yaml_text: str) -> Any:
    return yaml.load(yaml_text, Loader=yaml.BaseLoader)


def _identity_text(value: Any) -> str:
    """An `id` as written: a scalar's text, a flow list (course_age_range's `[3, 11]`) as `[3, 11]`."""
    return f"[{', '.join(value)}]" if isinstance(value, list) else value


def _expected_field(shared_reference: Path, field: str) -> dict[str, dict[str, Any]]:
    source, locale = FIELD_FILES[field]
    doc = _as_text((shared_reference / "reference_data" / source).read_text(encoding="utf-8"))
    labels: dict[str, str] = {}
    if locale:
        locale_path = shared_reference / "reference" / f"config_locales_reference_data__{locale}"
        for block in _as_text(locale_path.read_text(encoding="utf-8"))["en"].values():
            labels.update(block or {})
    expected = {}
    for value in doc["data"]:
        for code in value.get("hesa_codes") or []:
            expected[code] = {
                "identity": _identity_text(value["id"]),
                "name": value.get("name") or value.get("display_name") or code,
                "display_name": labels.get(code, value.get("display_name")),
                "start_year": int(value["start_year"]) if value.get("start_year") else None,
                "end_year": int(value["end_year"]) if value.get("end_year") else None,
            }
    return expected


@pytest.mark.parametrize("field", sorted(FIELD_FILES))
def test_every_bundled_code_and_id_is_the_source_text(shared_reference, field):
    code_list = load_reference(VERSION).code_list(field)
    expected = _expected_field(shared_reference, field)
    assert [e["code"] for e in code_list.entries] == sorted(expected)
    for entry in code_list.entries:
        code = entry["code"]
        want = expected[code]
        assert isinstance(code, str)
        held = {
            "identity": code_list.identities[code],
            "name": code_list.names[code],
            "display_name": entry["display_name"],
            "start_year": entry["start_year"],
            "end_year": entry["end_year"],
        }
        assert held == want, (field, code)


def test_norwegian_is_NO_in_every_part_of_the_bundled_data():
    nationality = load_reference(VERSION).code_list("nationality")
    assert "NO" in nationality.codes
    assert nationality.identities["NO"] == "NO"
    assert nationality.names["NO"] == "norwegian"


def test_the_bundled_index_is_what_the_build_makes():
    """index.json is generated (`python -m register_batch.reference.build`); a YAML edit needs a rebuild."""
    with (DATA_DIR / VERSION / "index.json").open(encoding="utf-8") as fh:
        bundled = json.load(fh)
    assert bundled == json.loads(json.dumps(build_index(VERSION)))


LOOKALIKES = {
    # written unquoted in YAML: what YAML 1.1 would make of it
    "NO": "false",
    "YES": "true",
    "ON": "true",
    "OFF": "false",
    "Y": "true (YAML 1.1 spec)",
    "N": "false (YAML 1.1 spec)",
    "TRUE": "true",
    "01": "int 1",
    "007": "octal 7",
    "08": "int 8 (not octal)",
    "0x1F": "int 31",
    "1_000": "int 1000",
    "1:30": "sexagesimal 90",
    "1e3": "float 1000.0",
    "0.5": "float",
    ".inf": "float inf",
    "NULL": "null",
    "~": "null",
    "2026-08-22": "date",
}


def test_the_build_rewrites_the_shipped_index_byte_for_byte_when_no_list_changed(tmp_path, monkeypatch):
    """`python -m register_batch.reference.build` after a YAML edit: an unchanged list leaves no diff to review."""
    shutil.copytree(DATA_DIR / VERSION, tmp_path / VERSION)
    (tmp_path / VERSION / "index.json").unlink()
    monkeypatch.setattr(reference_build, "DATA_DIR", tmp_path)
    written = reference_build.write_index(VERSION)
    assert written == tmp_path / VERSION / "index.json"
    assert written.read_bytes() == (DATA_DIR / VERSION / "index.json").read_bytes()


def test_codes_and_ids_that_yaml_1_1_would_turn_into_other_types_stay_text(tmp_path, monkeypatch):
    """A copy of the bundled data whose nationality list has one entry per YAML 1.1 look-alike, all unquoted."""
    version_dir = tmp_path / VERSION
    shutil.copytree(DATA_DIR / VERSION, version_dir)
    lines = ["metadata:", "  name: nationality", "  display_name: Nationality", "data:"]
    for n, text in enumerate(LOOKALIKES):
        lines += [
            f"- id: {text}",
            f"  name: lookalike_{n}",
            f"  display_name: Look-alike {n}",
            "  start_year: 2022" if n == 0 else "  start_year:",
            "  hesa_codes:",
            f"    - {text}",
        ]
    lines += ["- id:", "  name: stateless", "  display_name: Stateless", "  hesa_codes:"]
    (version_dir / "nationality.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(reference_build, "DATA_DIR", tmp_path)

    index = build_index(VERSION)

    entries = index["payload"]["nationality"]["entries"]
    assert sorted(e["code"] for e in entries) == sorted(LOOKALIKES)
    assert index["identities"]["nationality"] == {text: text for text in LOOKALIKES}
    assert [e["start_year"] for e in entries if e["code"] == "NO"] == [2022]
    assert {e["start_year"] for e in entries if e["code"] != "NO"} == {None}
    # the real lists still come out as before: integers where the API has integers, ids as text
    assert index["identities"]["course_age_range"]["13914"] == "[5, 11]"
    assert index["identities"]["sex"]["11"] == "0"
    assert [e["start_year"] for e in index["payload"]["training_route"]["entries"] if e["code"] == "12"] == [2022]


@pytest.mark.parametrize(
    "entry,problem",
    [
        (["- id: {a: 1}", "  hesa_codes: [AA]"], "id {'a': '1'} is neither text nor a list"),
        (["- id: [1, [2]]", "  hesa_codes: [AA]"], "id ['1', ['2']] is neither text nor a list"),
        (["- id: x", "  start_year: 20x2", "  hesa_codes: [AA]"], "'20x2' is not a year"),
        (["- id: x", "  end_year: ２０２２", "  hesa_codes: [AA]"], "'２０２２' is not a year"),
        (["- id: x", "  end_year: [2022]", "  hesa_codes: [AA]"], "['2022'] is not a year"),
        (["- id: x", "  hesa_codes: AA"], "hesa_codes 'AA' is not a list of codes"),
        (["- id: x", "  hesa_codes: [AA, [BB]]"], "hesa_codes ['AA', ['BB']] is not a list"),
    ],
)
def test_a_code_list_entry_the_index_cannot_hold_stops_the_build_naming_the_file_and_entry(
    tmp_path, monkeypatch, entry, problem
):
    """A YAML file edited by hand (or a new one from DfE) whose id, year or codes are not text: the build stops,
    not an index with a mapping for an id or a year of 0."""
    version_dir = tmp_path / VERSION
    shutil.copytree(DATA_DIR / VERSION, version_dir)
    lines = ["metadata:", "  name: nationality", "data:", "- id: y", "  hesa_codes: [ZZ]", *entry]
    (version_dir / "nationality.yml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(reference_build, "DATA_DIR", tmp_path)
    with pytest.raises(ValueError) as raised:
        build_index(VERSION)
    assert str(raised.value).startswith(f"nationality.yml data[1]: {problem}")  # the second entry


def test_the_codes_of_a_field_without_a_list_are_refused_by_name():
    """`codes()` reads a list without `code_list()`'s call (the rules ask several times a record); a field with no list
    is still the ConfigError naming the fields that have one, not a KeyError from inside a rule."""
    from register_batch.errors import ConfigError

    reference = load_reference(VERSION)
    assert reference.codes("sex") == reference.code_list("sex").codes
    with pytest.raises(ConfigError, match=r"unknown reference data field 'sexx'; known fields: .*\bsex\b"):
        reference.codes("sexx")
