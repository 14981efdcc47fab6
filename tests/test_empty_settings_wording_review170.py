"""An empty setting is refused in one line that says what to give instead, worded by where the empty value came from
and by the command it was given to (review170 F1-F3): `REGISTER_API_URL=` was told to fall back to
$REGISTER_API_URL, validate's and convert's empty --ukprn spoke of a token neither takes, and convert's empty
--report-dir of a default folder it does not have (without the option it writes no reports)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli

SAMPLE = str(Path(__file__).parent.parent / "samples" / "extract.xml")


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_BATCH_UKPRN", "REGISTER_BATCH_CONFIG", "REGISTER_BATCH_REPORT_DIR"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def error_line(args: list[str]) -> str:
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    return result.output.splitlines()[-1]


@pytest.mark.parametrize(
    "command", [["sync", SAMPLE], ["export", "--to", "json", "-o", "out.json"], ["reference", "pull"]]
)
def test_an_empty_register_api_url_is_told_to_unset_it_not_to_fall_back_to_itself(folder, monkeypatch, command):
    monkeypatch.setenv("REGISTER_API_URL", "")
    assert error_line(command) == (
        "register-batch: error: target is empty: name the service (sandbox, production or its URL), or unset "
        "$REGISTER_API_URL for the settings file's target, or else the embedded emulator (set by $REGISTER_API_URL)"
    )
    assert sorted(p.name for p in folder.iterdir()) == []


def test_an_empty_target_option_is_told_to_leave_it_out_for_the_variable_then_the_settings_file(folder):
    assert error_line(["sync", SAMPLE, "--target", ""]) == (
        "register-batch: error: target is empty: name the service (sandbox, production or its URL), or leave the "
        "option out for the one set elsewhere ($REGISTER_API_URL, then the settings file), or else the embedded "
        "emulator (set by --target)"
    )


@pytest.mark.parametrize(
    "command,provider",
    [
        (["validate", SAMPLE], "the provider whose records you check"),
        (["convert", SAMPLE, "--to", "jsonl", "-o", "out.jsonl"], "the provider the converted records are for"),
        (["sync", SAMPLE], "the provider the token sends for"),
        (["export", "--to", "json", "-o", "out.json"], "the provider the token is for"),
    ],
    ids=["validate", "convert", "sync", "export"],
)
def test_an_empty_ukprn_is_worded_for_the_command_it_was_given_to(folder, command, provider):
    """The provider as the command's own --ukprn help says it: validate and convert take no token."""
    assert error_line([*command, "--ukprn", ""]) == (
        f"register-batch: error: ukprn is empty: give the UKPRN of {provider} (8 digits starting with 1), or leave "
        "the option out for the one set elsewhere ($REGISTER_BATCH_UKPRN, then the settings file) (set by --ukprn)"
    )
    help_text = " ".join(CliRunner().invoke(cli, [command[0], "--help"]).output.split())
    assert f"--ukprn UKPRN The UKPRN of {provider} (or `ukprn` in" in help_text


def test_an_empty_report_dir_of_convert_says_leaving_it_out_writes_no_reports(folder):
    line = error_line(["convert", SAMPLE, "--to", "json", "-o", "y.json", "--report-dir", ""])
    assert line == (
        "Error: Invalid value for '--report-dir': it is empty: name a folder, or leave the option out to write no "
        "reports"
    )
    assert sorted(p.name for p in folder.iterdir()) == []


@pytest.mark.parametrize("command", [["validate", SAMPLE], ["sync", SAMPLE]])
def test_an_empty_report_dir_of_validate_or_sync_still_names_the_default(folder, command):
    assert error_line([*command, "--report-dir", " "]) == (
        "Error: Invalid value for '--report-dir': it is empty: name a folder, or leave the option out for the default"
    )


@pytest.mark.parametrize("written", ['""', '"  "'])
@pytest.mark.parametrize(
    "command,provider",
    [
        (["validate", SAMPLE], "the provider whose records you check"),
        (["sync", SAMPLE, "--target", "sandbox"], "the provider the token sends for"),
    ],
    ids=["validate", "sync"],
)
def test_an_empty_ukprn_in_the_settings_file_is_refused_as_an_empty_option_is(folder, command, provider, written):
    """review173: `ukprn = ""` (a template's variable left undefined) was taken as no UKPRN, which switched off the
    check that holds back another provider's records without a word, while `--ukprn ""` is refused."""
    (folder / "register-batch.toml").write_text(f"ukprn = {written}\n", encoding="utf-8")
    assert error_line(command) == (
        f"register-batch: error: ukprn is empty: give the UKPRN of {provider} (8 digits starting with 1), or leave "
        "the line out of the settings file for no ukprn (set by register-batch.toml)"
    )
    assert sorted(p.name for p in folder.iterdir()) == ["register-batch.toml"]
