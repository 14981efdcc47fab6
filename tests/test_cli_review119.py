"""review119: the command line's surface: option combinations, exit codes of what is printed, signals at its edges."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli

AS_OF = "2026-11-28"
SAMPLE = str(Path(__file__).parents[1] / "samples" / "extract.xml")


@pytest.fixture
def no_settings(tmp_path, monkeypatch):
    """A folder without register-batch.toml and no REGISTER_* variables: no target is set."""
    import os

    monkeypatch.chdir(tmp_path)
    for name in [name for name in os.environ if name.startswith("REGISTER_")]:
        monkeypatch.delenv(name)
    return tmp_path


@pytest.mark.parametrize(
    "args",
    [
        ["sync", SAMPLE, "--state-dir", "state", "--report-dir", "reports", "--as-of", AS_OF],
        ["export", "--state-dir", "state", "--to", "register-csv", "-o", "held.csv"],
    ],
    ids=["sync", "export"],
)
def test_a_token_file_given_without_a_target_is_refused_not_taken_to_the_embedded_emulator(no_settings, args):
    """review119 F3: a token named on the command line means a Register is meant; with no target set (a missing
    environment file, say) the run went to the embedded emulator, "created" the trainees or wrote an empty export,
    and exited 0. It is refused, exit 2, before the emulator starts."""
    token = no_settings / "token"
    token.write_text("secret\n")
    token.chmod(0o600)
    result = CliRunner().invoke(cli, ["-q", *args, "--token-file", str(token)])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1] == (
        "register-batch: error: --token-file names a token for Register, but no target is set (--target, "
        "$REGISTER_API_URL or target in the settings file); the embedded emulator takes none: give the target, or "
        "leave out --token-file"
    ), result.stderr
    assert "Target:" not in result.output
    assert not (no_settings / "state").exists() and not (no_settings / "held.csv").exists()
    assert not (no_settings / "reports").exists()
