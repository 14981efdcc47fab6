"""The drift a dry run shows in report.html, for changes made in Register itself: a real sync of the sample extract
to the emulator over HTTP, trainees changed there through the API as another user of Register would, then a dry run
of the same extract."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import lxml.html
from report_builders import AS_OF

from register_batch.emulator import start_emulator
from register_batch.sync import SyncOptions, sync_files

SAMPLE = Path(__file__).parent.parent.parent / "samples" / "extract.xml"
TOKEN = "drift-report-token"


def _changed_in_register(api: httpx.Client) -> dict[str, str]:
    """Add a degree, remove a placement and change the disabilities of three trainees; their ids by change."""
    held = api.get("/trainees", params={"per_page": 100}).json()["data"]
    with_placements = [t for t in held if len(t["placements"]) >= 2 and t["disability1"]]
    added, removed, disabled = with_placements[0], with_placements[1], with_placements[2]
    degree = {"uk_degree": "083", "subject": "100425", "grade": "02", "graduation_year": "2015", "institution": "0117"}
    assert api.post(f"/trainees/{added['trainee_id']}/degrees", json={"data": degree}).status_code == 201
    placement = removed["placements"][-1]["placement_id"]
    assert api.delete(f"/trainees/{removed['trainee_id']}/placements/{placement}").status_code == 200
    keep = ("first_names", "last_name", "date_of_birth", "sex", "training_route", "itt_start_date", "ethnicity")
    body: dict[str, Any] = {key: disabled[key] for key in keep} | {"disability1": "58", "disability2": "55"}
    assert api.put(f"/trainees/{disabled['trainee_id']}", json={"data": body}).status_code == 200
    ids = (added["trainee_id"], removed["trainee_id"], disabled["trainee_id"])
    return dict(zip(("degree added", "placement removed", "disabled"), ids, strict=True))


def _drift(folder: Path) -> dict[str, list[str]]:
    """Each record row's changes as a person reads them on the page (what is visible, screen-reader words aside)."""
    doc = lxml.html.fromstring((folder / "report.html").read_bytes())
    for hidden in doc.xpath('//*[contains(@class, "visually-hidden")]'):
        hidden.drop_tree()
    drift = {}
    for row in doc.xpath('//table[@id="record-table"]/tbody/tr'):
        [trainee] = row.xpath('.//td[@data-label="Trainee"]//span[@class="sub"][starts-with(., "Register")]/span')
        changes = row.xpath('.//ul[@class="changes"]/li')
        drift[trainee.text_content()] = [" ".join(li.text_content().split()) for li in changes]
    return drift


def test_drift_of_degrees_placements_and_disabilities_reads_as_the_plan_means_it(tmp_path):
    """A degree or placement one side lacks is "none" on that side, not "blank" (a blank in the extract is never
    drift: dry-run.md), and disabilities are codes, not a Python list."""
    with start_emulator(tokens=(TOKEN,), rate_limit=None, ukprns={TOKEN: "10052198"}, as_of=AS_OF) as emulator:
        options = SyncOptions(
            target=emulator.url, token=TOKEN, state_dir=tmp_path / "state", report_dir=tmp_path / "first", as_of=AS_OF
        )
        assert sync_files([SAMPLE], options).exit_code == 0
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=emulator.api_url, headers=headers) as api:
            changed = _changed_in_register(api)
        sync_files([SAMPLE], replace(options, dry_run=True, report_dir=tmp_path / "dry"))
    results = {row["trainee_id"]: row for row in json.loads((tmp_path / "dry" / "report.json").read_text())["records"]}
    drift = _drift(tmp_path / "dry")

    [degree] = results[changed["degree added"]]["changes"]
    assert degree["field"] == "degrees" and degree["source"] is None
    assert drift[changed["degree added"]] == [f"degrees {degree['register']} → none"]
    [placement] = results[changed["placement removed"]]["changes"]
    assert placement["field"].startswith("placements[") and placement["register"] is None
    assert drift[changed["placement removed"]] == [f"{placement['field']} none → {placement['source']}"]
    assert "disabilities 55, 58 → 95" in drift[changed["disabled"]]
    # The extract did not change since the first sync: each is a change made in Register, which the sync would undo
    # (review180 F1), said with the fields it puts back.
    said = {
        trainee_id: [w for w in results[trainee_id]["warnings"] if w.startswith("Register's trainee was changed")]
        for trainee_id in changed.values()
    }
    assert "(degrees: one added in Register is removed)" in said[changed["degree added"]][0]
    assert f"({placement['field']}: one removed in Register is added again)" in said[changed["placement removed"]][0]
    assert "would put the extract's values back (disabilities" in said[changed["disabled"]][0]
