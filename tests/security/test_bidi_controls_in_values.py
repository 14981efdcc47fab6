"""Bidirectional overrides and isolates in an extract's names and ids (review162 F6): `validate` passed them and
`sync` sent them, where Register shows the value with the text after an override reversed, and a search for the id as
typed does not find it. Each record holding one is refused (control_character), from a CSV and from HESA XML alike."""

from __future__ import annotations

import csv
from pathlib import Path

from cli_runs import run_cli

SAMPLES = Path(__file__).parents[2] / "samples"


def refused(source: Path, tmp_path: Path, env: dict[str, str]) -> set[tuple[str, str]]:
    """(record, field) of each control_character error `validate` finds in `source`; it exits 1."""
    reports = tmp_path / f"reports-{source.stem}"
    done = run_cli(["validate", str(source), "--report-dir", str(reports)], tmp_path, env)
    assert done.returncode == 1, done.stdout + done.stderr
    with (reports / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        return {(row["record"], row["field"]) for row in csv.DictReader(fh) if row["code"] == "control_character"}


def test_overrides_and_isolates_in_a_csvs_names_and_ids_are_refused(tmp_path, env):
    with (SAMPLES / "register.csv").open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:  # the review's file: appended to names, before the id
        row["first_names"] += "\u202e\u2066X"
        row["last_name"] += "\u202eZ"
        row["provider_trainee_id"] = "\u2067" + row["provider_trainee_id"]
    source = tmp_path / "bidi.csv"
    with source.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    found = refused(source, tmp_path, env)
    assert found == {
        (str(n), field)
        for n in range(1, len(rows) + 1)
        for field in ("first_names", "last_name", "provider_trainee_id")
    }


def test_an_override_in_a_hesa_xml_srs_id_is_refused(tmp_path, env):
    text = (SAMPLES / "extract.xml").read_text(encoding="utf-8")
    source = tmp_path / "bidi.xml"
    source.write_text(text.replace("<F_OWNSTU>31207801/1/26</F_OWNSTU>", "<F_OWNSTU>31207801/1/26\u202e</F_OWNSTU>"))
    assert refused(source, tmp_path, env) == {("1", "provider_trainee_id")}
