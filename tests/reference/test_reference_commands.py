"""`reference show|pull|diff` against the emulator; validation uses pulled lists when present."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from register_batch.api import RateLimiter, RegisterClient
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.errors import RegisterUnavailable
from register_batch.reference import PULLED_FILE, load_reference
from register_batch.reference.pull import pull_reference


def test_pull_needs_no_token_and_diff_shows_changes(tmp_path, monkeypatch):
    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    state = tmp_path / "state"
    with start_emulator(tokens=["t"], rate_limit=None) as emulator:
        pulled = CliRunner().invoke(cli, ["reference", "pull", "--target", emulator.url, "--state-dir", str(state)])
    assert pulled.exit_code == 0, pulled.output
    document = json.loads((state / PULLED_FILE).read_text())
    assert document["payload"]["sex"]["entries"][0]["code"] == "10"
    same = CliRunner().invoke(cli, ["reference", "diff", "--state-dir", str(state)])
    assert same.exit_code == 0 and "No differences." in same.output

    document["payload"]["sex"]["entries"].append({"code": "13", "display_name": "Non-binary"})
    document["payload"]["sex"]["entries"] = [e for e in document["payload"]["sex"]["entries"] if e["code"] != "96"]
    (state / PULLED_FILE).write_text(json.dumps(document))
    changed = CliRunner().invoke(cli, ["reference", "diff", "--state-dir", str(state)])
    assert changed.exit_code == 1
    assert "+ 13  Non-binary" in changed.output and "- 96  Information refused" in changed.output

    reference = load_reference("v2026.1", state / PULLED_FILE)
    assert "13" in reference.codes("sex") and "96" not in reference.codes("sex")
    assert reference.source.startswith("pulled")


def test_validation_uses_the_pulled_lists(tmp_path, register_csv_fixtures, monkeypatch):
    monkeypatch.chdir(tmp_path)
    state = tmp_path / ".register-batch" / "embedded-emulator"  # the default state dir when no target is set
    state.mkdir(parents=True)
    bundled = load_reference().api_payload()
    payload = json.loads(json.dumps(bundled))
    payload["sex"]["entries"] = [e for e in payload["sex"]["entries"] if e["code"] != "11"]
    (state / PULLED_FILE).write_text(json.dumps({"payload": payload}))
    result = CliRunner().invoke(
        cli,
        [
            "validate",
            str(register_csv_fixtures / "five_trainees.csv"),
            "--as-of",
            "2026-11-28",
            "--report-dir",
            str(tmp_path / "r"),
        ],
    )
    assert result.exit_code == 1  # the first trainee's sex 11 is no longer a valid code
    issues = json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
    assert [(i["record"], i["field"], i["code"]) for i in issues] == [(1, "sex", "invalid_code")]


def test_a_pull_from_a_register_that_does_not_answer_says_nothing_was_saved_and_what_to_do(tmp_path):
    """As sync and export do: one line that says nothing changed and to run again later (exit 1), not the bare
    transport error."""
    client = RegisterClient("http://127.0.0.1:9", None, limiter=RateLimiter(100, 1), attempts=1, timeout=1)
    with client, pytest.raises(RegisterUnavailable) as caught:
        pull_reference(client, tmp_path / "state")
    assert caught.value.exit_code == 1
    message = str(caught.value)
    assert "could not connect" in message and "nothing was saved" in message and "Run again later" in message
    assert not (tmp_path / "state" / PULLED_FILE).exists()


def test_a_pulled_file_pulled_again_is_read_again_in_the_same_process(tmp_path):
    """A vendor's long-running service pulls Register's lists weekly and validates nightly: the lists were cached by
    the file's name, so every night after the first was judged with the first week's lists."""
    bundled = load_reference().api_payload()
    pulled = tmp_path / PULLED_FILE
    pulled.write_text(json.dumps({"payload": bundled}))
    first = load_reference("v2026.1", pulled)
    assert "11" in first.codes("sex") and load_reference("v2026.1", pulled) is first  # read once while unchanged
    payload = json.loads(json.dumps(bundled))
    payload["sex"]["entries"] = [e for e in payload["sex"]["entries"] if e["code"] != "11"]
    pulled.write_text(json.dumps({"payload": payload}, indent=1))  # the next pull
    again = load_reference("v2026.1", pulled)
    assert "11" not in again.codes("sex") and again.sha256 != first.sha256
