"""`application_id` goes to Register as a JSON integer (review171 F4).

register-api.md §3.1 and the v2026.1 OpenAPI request say integer, and Register keeps it in an integer column
(`application_choice_id`, echoed as an integer). It was sent as the text the extract holds ("56789"), which Rails
casts today, but which is not the documented request. A record with errors never gets here, and one that gets here
has an all-digit `application_id` (`application_id_not_integer`); its length (≤ 7) is checked on the text as given,
which is never shorter than the integer's digits, so a record validate passes is not refused for length by Register
either way. What is compared, planned and noted in the ledger is the record as read, text: a trainee synced by a
version that sent the text is not changed by the next run (the echo is an integer either way, compare.normal).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.cli import cli
from register_batch.export import export_trainees
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract

TOKEN = "sync-tests-provider-token"
_TRAINEE_WRITE = re.compile(r"/trainees(/[^/]+)?$")  # POST /trainees, PUT /trainees/{id}: not degrees, not withdraw


class Recording(httpx.BaseTransport):
    """The real HTTP transport to the emulator, keeping each trainee body the client sends (the JSON as sent)."""

    def __init__(self) -> None:
        self.http = httpx.HTTPTransport()
        self.bodies: list[tuple[str, dict[str, Any]]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method in ("POST", "PUT") and _TRAINEE_WRITE.search(request.url.path):
            self.bodies.append((request.method, json.loads(request.read())["data"]))
        return self.http.handle_request(request)

    def close(self) -> None:
        self.http.close()


def _extract(path: Path, ids: dict[int, str]) -> Path:
    return write_extract(path, [{**trainee(n), "application_id": ids.get(n, "")} for n in (1, 2, 3)])


def _sync(register, tmp_path: Path, extract: Path, transport: Recording):
    client = RegisterClient(register.emulator.url, TOKEN, limiter=RateLimiter(10_000, 1), transport=transport)
    with client:
        register.runs += 1
        options = sync_options(register.emulator, tmp_path, TOKEN, report_dir=tmp_path / f"reports-{register.runs}")
        return sync_files([str(extract)], options, client=client)


def test_sync_sends_application_id_as_an_integer_and_a_rerun_sends_nothing(register, tmp_path):
    extract = _extract(tmp_path / "extract.csv", {1: "56789", 2: "0056789"})
    sent = Recording()
    result = _sync(register, tmp_path, extract, sent)
    assert result.actions["create"] == 3, result.summary_line()
    ids = {body["provider_trainee_id"]: body.get("application_id", "absent") for _method, body in sent.bodies}
    assert ids == {"SRS-00001": 56789, "SRS-00002": 56789, "SRS-00003": "absent"}
    held = {t["provider_trainee_id"]: t["application_id"] for t in register.trainees(2025)}
    assert held == {"SRS-00001": 56789, "SRS-00002": 56789, "SRS-00003": None}
    writes = register.writes()
    again = Recording()
    result = _sync(register, tmp_path, extract, again)
    assert again.bodies == [] and register.writes() == writes
    assert result.actions["unchanged"] == 3, result.summary_line()
    # export's json is Register's trainee object: the integer it holds, as sync sent it
    with register.client() as client:
        export_trainees(client, to="json", output=tmp_path / "held.json", academic_cycle=2025)
    exported = json.loads((tmp_path / "held.json").read_text(encoding="utf-8"))
    exported.sort(key=lambda t: t["provider_trainee_id"])
    assert [t["application_id"] for t in exported] == [56789, 56789, None]


def test_a_trainee_synced_with_the_text_form_is_unchanged_after_the_upgrade(register, tmp_path, monkeypatch):
    """The nightly run right after upgrading writes nothing for an unchanged extract: the ledger and Register hold what
    a version that sent "56789" left, and nothing the new version plans or notes differs from it. A changed id is then
    sent once, as an integer."""
    from register_batch.api import client as client_module

    extract = _extract(tmp_path / "extract.csv", {1: "56789", 2: "0056789"})
    before = Recording()
    with monkeypatch.context() as old_version:  # the version before: the body's text as the extract holds it
        old_version.setattr(client_module, "as_sent", lambda data: data)
        result = _sync(register, tmp_path, extract, before)
    assert result.actions["create"] == 3, result.summary_line()
    assert sorted(body.get("application_id", "") for _method, body in before.bodies) == ["", "0056789", "56789"]
    writes = register.writes()
    after = Recording()
    result = _sync(register, tmp_path, extract, after)
    assert after.bodies == [] and register.writes() == writes, after.bodies
    assert result.actions["unchanged"] == 3, result.summary_line()
    changed = _extract(tmp_path / "extract.csv", {1: "56790", 2: "0056789"})
    result = _sync(register, tmp_path, changed, after)
    assert [(method, body["provider_trainee_id"], body["application_id"]) for method, body in after.bodies] == [
        ("PUT", "SRS-00001", 56790)
    ]
    result = _sync(register, tmp_path, changed, after)
    assert len(after.bodies) == 1 and result.actions["unchanged"] == 3, result.summary_line()


@pytest.mark.parametrize("to", ["jsonl", "json"])
def test_convert_writes_application_id_as_sync_sends_it(tmp_path, to):
    """convert's json and jsonl hold the request body: an integer, as sync sends it. One that is not a whole number
    (application_id_not_integer, an error) is written as it was read, for the report to name."""
    extract = _extract(tmp_path / "extract.csv", {1: "56789", 2: "0056789", 3: "A1234"})
    output = tmp_path / f"bodies.{to}"
    result = CliRunner().invoke(
        cli,
        [
            "convert",
            str(extract),
            "--to",
            to,
            "-o",
            str(output),
            "--as-of",
            "2026-11-28",
            "--report-dir",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 1, result.output  # A1234's error
    text = output.read_text(encoding="utf-8")
    items = [json.loads(line) for line in text.splitlines()] if to == "jsonl" else json.loads(text)
    assert [item["data"]["application_id"] for item in items] == [56789, 56789, "A1234"]
