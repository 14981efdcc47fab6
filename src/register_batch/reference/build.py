"""Build `index.json` from the bundled YAML code lists.

The index is the `GET /reference-data` payload of register-api.md §2.2 plus the internal names the
validation messages need. Parsing the YAML at every start costs ~150 ms; reading the JSON ~4 ms.
Run `python -m register_batch.reference.build` after changing a YAML file.

The YAML is read with `textyaml.TextLoader`, which keeps every plain scalar as the text written: YAML 1.1 would read
nationality `id: NO` (Norwegian, unquoted in DfE's nationality.yml) as false, and `01` as 1.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from register_batch.textyaml import load_text_yaml

DATA_DIR = Path(__file__).parent / "data"

# API field name (GET /reference-data?field=...) -> YAML file and locale file (§2.2).
FIELD_FILES: dict[str, tuple[str, str | None]] = {
    "country": ("country.yml", "country.yml"),
    "course_age_range": ("course_age_range.yml", "course_age_range.yml"),
    "course_subject": ("course_subject.yml", "course_subjects.yml"),
    "degree_subject": ("degree_subject.yml", "degree_subject.yml"),
    "degree_grade": ("degree_grade.yml", "grade.yml"),
    "degree_type": ("degree_type.yml", "degree_type.yml"),
    "disability": ("disability.yml", "disabilities.yml"),
    "ethnicity": ("ethnicities.yml", "ethnicity.yml"),
    "fund_code": ("fund_code.yml", "fund_code.yml"),
    "funding_method": ("funding_method.yml", "funding_method.yml"),
    "institution": ("institution.yml", "institution.yml"),
    "itt_aim": ("itt_aim.yml", "itt_aim.yml"),
    "nationality": ("nationality.yml", None),
    "itt_qualification_aim": ("itt_qualification_aim.yml", "itt_qualification_aim.yml"),
    "sex": ("sex.yml", "sex.yml"),
    "study_mode": ("study_mode.yml", "study_mode.yml"),
    "training_route": ("training_route.yml", "training_route.yml"),
    "training_initiative": ("training_initiative.yml", "training_initiative.yml"),
}


def _identity(value: Any, where: str) -> str:
    """A value's `id` as written; course_age_range's `[min, max]` as `[3, 11]` (JSON, read by the emulator)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return f"[{', '.join(value)}]"
    raise ValueError(f"{where}: id {value!r} is neither text nor a list")


def _year(value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    raise ValueError(f"{where}: {value!r} is not a year")


def _codes(value: Any, where: str) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list) and all(isinstance(c, str) for c in value):
        return value
    raise ValueError(f"{where}: hesa_codes {value!r} is not a list of codes")


def _field_payload(version_dir: Path, field: str) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    source, locale = FIELD_FILES[field]
    doc = load_text_yaml(version_dir / source)
    labels: dict[str, str] = {}
    if locale:
        locale_doc = load_text_yaml(version_dir / "locales" / locale) or {}
        for block in (locale_doc.get("en") or {}).values():
            labels.update({str(k): str(v) for k, v in (block or {}).items()})
    metadata = {k: v for k, v in doc["metadata"].items() if k not in ("source", "change_log")}
    entries = []
    names: dict[str, str] = {}
    identities: dict[str, str] = {}
    for n, value in enumerate(doc["data"]):
        where = f"{source} data[{n}]"
        for code in _codes(value.get("hesa_codes"), where):
            entries.append(
                {
                    "code": code,
                    "display_name": labels.get(code, value.get("display_name")),
                    "start_year": _year(value.get("start_year"), where),
                    "end_year": _year(value.get("end_year"), where),
                }
            )
            names[code] = str(value.get("name") or value.get("display_name") or code)
            identities[code] = _identity(value.get("id"), where)
    entries.sort(key=lambda e: e["code"])
    return {"metadata": metadata, "entries": entries}, names, identities


def _withdrawal_payload(version_dir: Path) -> dict[str, Any]:
    doc = load_text_yaml(version_dir / "withdrawal_reasons.yml")
    shown = doc.get("display_names") or {}
    entries = []
    for trigger in doc["triggers"]:
        for code in doc[trigger]:
            entries.append(
                {
                    "code": code,
                    "display_name": shown.get(code, code.replace("_", " ").capitalize()),
                    "trigger": trigger,
                    "requires_another_reason": code.endswith("another_reason"),
                    "requires_safeguarding_concern_reasons": code == "safeguarding_concerns",
                }
            )
    return {
        "metadata": doc["metadata"],
        "triggers": list(doc["triggers"]),
        "future_interest": list(doc["future_interest"]),
        "entries": entries,
    }


def build_index(version: str = "v2026.1") -> dict[str, Any]:
    """Return the index document for one API version, built from its YAML files."""
    version_dir = DATA_DIR / version
    payload: dict[str, Any] = {}
    names: dict[str, dict[str, str]] = {}
    identities: dict[str, dict[str, str]] = {}
    for field in FIELD_FILES:
        payload[field], names[field], identities[field] = _field_payload(version_dir, field)
    payload["withdrawal_reasons"] = _withdrawal_payload(version_dir)
    with (version_dir / "allocation_subjects.json").open(encoding="utf-8") as fh:
        allocation = json.load(fh)
    return {
        "api_version": version,
        "payload": payload,
        "names": names,
        "identities": identities,
        "allocation_subjects": {
            subject: sorted({code for _name, codes in members for code in codes or []})
            for subject, members in allocation.items()
        },
        "funding": load_text_yaml(version_dir / "funding.yml"),
    }


def write_index(version: str = "v2026.1") -> Path:
    path = DATA_DIR / version / "index.json"
    path.write_text(json.dumps(build_index(version), sort_keys=True, separators=(",", ":")) + "\n")
    return path


if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    print(write_index())
