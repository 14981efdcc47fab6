"""An API token pasted on the command line where something else goes (an input file, -o, --since, --jobs) is refused
before anything runs, and never shown: click's own errors repeated the value ("'sandbox_...' is not a valid integer
range"), an extract's "no such file" named it, and `export -o <token>` wrote a file of that name."""

from __future__ import annotations

import hashlib
import os
import shutil

import pytest
from click.testing import CliRunner

from cli_runs import run_cli
from register_batch.cli import cli
from trainee_extracts import extract

TOKEN = "sandbox_" + "5e" * 32
HOLDS = f"holds an API token ({len(TOKEN)} characters; not shown)"


@pytest.fixture
def in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    return tmp_path


def refused(args: list[str]):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert TOKEN not in result.output
    return result


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["validate", "in.csv", "--jobs", TOKEN], "the argument after --jobs"),
        (["export", "--to", "json", "-o", "out.json", "--since", TOKEN], "the argument after --since"),
        (["export", "--to", "json", "-o", "out.json", f"--since={TOKEN}"], "--since's value"),
        (["export", "--to", "json", "-o", TOKEN], "the argument after -o"),
        (["export", "--to", "json", f"-o{TOKEN}"], "-o's value"),  # found by review12: a file of that name was made
        (["export", "--to", "json", "-o", f"exports/{TOKEN}.json"], "the argument after -o"),
        (["validate", "in.csv", TOKEN], "an argument"),
        (["validate", "--jobs=2", "in.csv", "--", TOKEN], "an argument"),
        (["sync", "in.csv", f"Bearer {TOKEN}"], "an argument"),
        (["sync", "in.csv", "--dry-run", TOKEN], "the argument after --dry-run"),  # a flag: "--dry-run holds" misled
        (["validate", "in.csv", "--mapping", f"{TOKEN[:20]}\u200b{TOKEN[20:]}"], "the argument after --mapping"),
        (["--config", TOKEN, "validate", "in.csv"], "the argument after --config"),
    ],
)
def test_a_token_given_as_another_argument_is_refused_unshown_before_anything_runs(in_tmp, args, named):
    extract(in_tmp / "in.csv", 1)
    result = refused(args)
    assert result.output.strip().splitlines()[-1].startswith(f"Error: {named} {HOLDS}: give the token in ")
    assert sorted(path.name for path in in_tmp.iterdir()) == ["in.csv"]  # no state, report or output made


def test_a_file_named_by_a_token_that_is_there_is_refused_too_and_one_named_by_a_hash_is_read(in_tmp):
    """A file made by an earlier version (`export -o <token>` wrote one) would be named on every line; a vendor's
    extract named by its SHA-256 is no token."""
    digest = hashlib.sha256(b"extract").hexdigest()
    hashed = (f"run_{digest}.csv", f"sandbox{digest}.csv", f"test_{digest}.csv", f"nightly_test_{digest}.csv")
    for name in (f"{TOKEN}.csv", *hashed):
        shutil.copy(extract(in_tmp / "in.csv", 2), in_tmp / name)
    assert f"an argument {HOLDS}" in refused(["validate", f"{TOKEN}.csv"]).output
    for name in hashed:
        result = CliRunner().invoke(cli, ["validate", name, "--report-dir", f"reports/run_{digest}"])
        assert result.exit_code == 0, result.output


def test_the_emulators_tokens_and_a_token_files_name_keep_their_own_handling(in_tmp):
    """`emulator --token` takes tokens on purpose; a token given as --token-file's name gets its own refusal, which
    says to give the name of a file holding it."""
    extract(in_tmp / "in.csv", 1)
    result = refused(["sync", "in.csv", "--dry-run", "--target", "sandbox", "--token-file", TOKEN])
    assert "the token file's name looks like an API token" in result.output
    emulator = refused(["emulator", "--token", TOKEN, "--rate-limit", "fast"])
    assert "--rate-limit" in emulator.output and HOLDS not in emulator.output  # the token was taken


def test_the_shell_completing_a_word_on_a_line_holding_a_token_gets_no_traceback(in_tmp, monkeypatch):
    """click's completion makes the context outside its error handling: a refusal there was a traceback (review12)."""
    monkeypatch.setenv("_REGISTER_BATCH_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", f"register-batch validate {TOKEN} --")
    monkeypatch.setenv("COMP_CWORD", "3")
    result = CliRunner().invoke(cli, [], prog_name="register-batch", complete_var="_REGISTER_BATCH_COMPLETE")
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and TOKEN not in result.output


def test_a_sync_given_the_token_as_an_input_says_so_in_one_line_and_starts_nothing(tmp_path):
    """The slip as typed in a shell: `register-batch sync extract.xml $TOKEN`. Before, the embedded emulator was
    started (its Target: line shown) and the token named as a file not found."""
    extract(tmp_path / "in.csv", 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")} | {"HOME": str(tmp_path / "home")}
    result = run_cli(["sync", "in.csv", TOKEN], tmp_path, env)
    assert result.returncode == 2 and TOKEN not in result.stdout + result.stderr
    assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"an argument {HOLDS}" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "in.csv", "--dry-run", f"--token-file{TOKEN}"],
        ["emulator", f"--token{TOKEN}"],
        ["validate", "in.csv", f"--{TOKEN}"],
    ],
    ids=["token-file", "emulator-token", "dashes"],
)
def test_a_token_glued_to_an_options_name_is_refused_unshown(in_tmp, args):
    """`--token-file$TOKEN`, the space left out: click took it for an option's name and said "No such option
    '--token-filesandbox_...'", the token whole (found by mutation testing)."""
    extract(in_tmp / "in.csv", 1)
    result = refused(args)
    assert result.output.strip().splitlines()[-1].startswith(f"Error: an option's name {HOLDS}: give the token in ")


def test_a_token_given_to_target_gets_the_targets_own_refusal(in_tmp):
    """--target has words of its own for a token given in its place (where a token goes, what a target is)."""
    extract(in_tmp / "in.csv", 1)
    for args in (["--target", TOKEN], [f"--target={TOKEN}"]):
        result = refused(["sync", "in.csv", "--dry-run", *args])
        assert "the target looks like an API token (72 characters; not shown)" in result.output, result.output
        assert HOLDS not in result.output


def test_a_settings_line_pasted_as_an_argument_is_refused_as_an_argument(in_tmp):
    """`sync extract.xml REGISTER_API_TOKEN=$TOKEN` (a line of an env file pasted after the command): an argument, not
    an option's value."""
    extract(in_tmp / "in.csv", 1)
    result = refused(["sync", "in.csv", f"REGISTER_API_TOKEN={TOKEN}"])
    assert result.output.strip().splitlines()[-1].startswith(f"Error: an argument {HOLDS}: ")


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "in.csv", "--jobs=2", TOKEN],  # --jobs has its value: the token is an input
        ["export", "--to", "json", "-o", "-", TOKEN],  # `-` is standard output, no option
    ],
    ids=["after-an-option-with-its-value", "after-a-dash"],
)
def test_a_token_after_an_option_given_its_value_or_after_a_dash_is_said_as_an_argument(in_tmp, args):
    """Not "the argument after --jobs=2": that option took its value, and the token is an argument of its own."""
    extract(in_tmp / "in.csv", 1)
    result = refused(args)
    assert result.output.strip().splitlines()[-1].startswith(f"Error: an argument {HOLDS}: "), result.output
