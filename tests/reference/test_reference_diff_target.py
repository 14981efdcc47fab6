"""`reference diff --target T` looks where `reference pull --target T` saved (review59 F8).

`reference diff` had no --target: after `reference pull --target URL`, which saves into URL's own state dir, the user
had to copy the folder's name from the pull's line into `--state-dir`. Both now pick the folder by one rule
(cli._pull_settings).
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.reference import PULLED_FILE


@pytest.fixture
def fresh_folder(tmp_path, monkeypatch):
    """A folder with no settings file, and none of the settings' environment variables."""
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_BATCH_STATE_DIR", "REGISTER_BATCH_CONFIG", "REGISTER_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_diff_given_the_pulls_target_finds_the_pulled_lists_without_a_state_dir(fresh_folder):
    with start_emulator(tokens=["t"], rate_limit=None) as emulator:
        pulled = CliRunner().invoke(cli, ["reference", "pull", "--target", emulator.url])
        assert pulled.exit_code == 0, pulled.output
        assert (fresh_folder / f".register-batch/127.0.0.1-{emulator.port}" / PULLED_FILE).is_file()
        compared = CliRunner().invoke(cli, ["reference", "diff", "--target", emulator.url])
    assert compared.exit_code == 0, compared.output
    assert compared.output == (
        f"Pulled from {emulator.url} at {compared.output.split(' at ')[1].split(',')[0]}, compared with the bundled "
        "lists:\nNo differences.\n"
    )


def test_diff_given_another_target_than_the_settings_looks_where_the_pull_saved_not_in_their_state_dir(
    fresh_folder,
):
    """Settings naming a target and its state_dir: a pull with another --target saves in that target's own folder,
    and a diff with the same --target reads that folder, not the settings' state_dir."""
    (fresh_folder / "register-batch.toml").write_text('target = "sandbox"\nstate_dir = "state/sandbox"\n')
    with start_emulator(tokens=["t"], rate_limit=None) as emulator:
        pulled = CliRunner().invoke(cli, ["reference", "pull", "--target", emulator.url])
        assert pulled.exit_code == 0, pulled.output
        compared = CliRunner().invoke(cli, ["reference", "diff", "--target", emulator.url])
    assert not (fresh_folder / "state" / "sandbox" / PULLED_FILE).exists()
    assert compared.exit_code == 0, compared.output
    assert compared.output.startswith(f"Pulled from {emulator.url} at ") and "No differences." in compared.output


def test_diff_given_a_target_with_nothing_pulled_names_its_folder_and_how_to_pull(fresh_folder):
    diff = CliRunner().invoke(cli, ["reference", "diff", "--target", "http://127.0.0.1:8791"])
    assert diff.exit_code == 2
    assert diff.output == (
        "register-batch: error: no pulled reference data in .register-batch/127.0.0.1-8791, the state dir of the "
        "target given with --target: run `register-batch reference pull` with the same --target first\n"
    )


def test_diff_refuses_a_target_the_pull_would_refuse(fresh_folder):
    diff = CliRunner().invoke(cli, ["reference", "diff", "--target", "127.0.0.1:87x"])
    assert diff.exit_code == 2
    assert diff.output.startswith("register-batch: error: target '127.0.0.1:87x' is not sandbox, production or an")


def test_pull_and_diff_help_say_the_same_default_folder_plainly():
    def help_of(command: str) -> str:
        """The help without its white space: click breaks a long word at a hyphen (`.register-` `batch`)."""
        result = CliRunner().invoke(cli, ["reference", command, "--help"], terminal_width=200)
        assert result.exit_code == 0, result.output
        return "".join(result.output.split())

    rule = (
        "Default: the settings' state_dir when --target is the settings' target (or not given); otherwise, or with "
        "no state_dir set, .register-batch/<target>."
    )
    assert "".join(f"Where to keep the pulled lists. {rule}".split()) in help_of("pull")
    diff = help_of("diff")
    assert "".join(f"Where the pulled lists are. {rule}".split()) in diff and "--targetURL|sandbox|production" in diff
