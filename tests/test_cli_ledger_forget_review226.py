"""After review226 F2: `ledger forget --ids-from FILE` given the token file, an environment file or a CSV holding an
API token quoted it in its refusal (stderr), or listed it as an SRS id not in the ledger (stdout); now refused, the
token not shown, as every other reader of a user's file refuses one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from register_batch.cli import cli

TOKEN = "sandbox_" + "0df48794ae2c9f55" * 4  # Register's shape


@pytest.mark.parametrize(
    ("name", "text", "where"),
    [
        ("tok", f"{TOKEN}\n", "line 1"),  # the token file itself
        ("env1", f"# production\nREGISTER_API_TOKEN={TOKEN}\n", "line 2"),  # an environment file
        ("ids2", f"2501234567890\nsrs:{TOKEN}\n", "line 2"),  # taken as an SRS id, then listed as not in the ledger
        ("ids.csv", f"hesa_id\n{TOKEN}\n", "row 2"),
        ("srs.csv", f"provider_trainee_id,hesa_id\n{TOKEN},\n", "row 2"),
    ],
)
def test_an_ids_from_file_holding_a_token_is_refused_without_showing_it(tmp_path, monkeypatch, name, text, where):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    result = CliRunner().invoke(cli, ["ledger", "forget", "--state-dir", "st", "--ids-from", name, "--dry-run"])
    assert result.exit_code == 2, result.output
    assert f"--ids-from {name} {where} holds an API token (72 characters; not shown)" in result.output, result.output
    assert TOKEN[8:20] not in result.output


def test_ids_that_are_no_token_are_still_read(tmp_path, monkeypatch):
    """A long SRS id with a hyphen (a UUID's parts are words of their own) and a HUSID are ids, not tokens: read, and
    the run goes on to the ledger (none in this state dir: the ids are read first)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ids").write_text("2501234567890\nsrs:0f8fad5b-d9cb-469f-a165-70867728950e\n")
    result = CliRunner().invoke(cli, ["ledger", "forget", "--state-dir", "st", "--ids-from", "ids", "--dry-run"])
    assert "holds an API token" not in result.output, result.output
    assert "no sync ledger in st" in result.output, result.output
