"""review119: the command line's surface: option combinations, exit codes of what is printed, signals at its edges."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_runs import run_cli_to_full_disk
from register_batch.cli import cli

AS_OF = "2026-11-28"
SAMPLE = str(Path(__file__).parents[1] / "samples" / "extract.xml")


@pytest.fixture
def no_settings(tmp_path, monkeypatch):
    """A folder without register-batch.toml (and, as for every test, no REGISTER_* variables: conftest.py): no target
    is set."""
    monkeypatch.chdir(tmp_path)
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
        "register-batch: error: --token-file names a token for Register, but no target is set (--target "
        "sandbox|production|URL, $REGISTER_API_URL or target in the settings file), and with none sync and export use "
        "the embedded emulator, which takes no token: set the target, or leave out --token-file"
    ), result.stderr
    assert "Target:" not in result.output
    assert not (no_settings / "state").exists() and not (no_settings / "held.csv").exists()
    assert not (no_settings / "reports").exists()


@pytest.mark.parametrize("command", ["sync", "export"])
@pytest.mark.parametrize(
    ("given", "said", "leave_out"),
    [
        ("environment", "$REGISTER_API_TOKEN", "unset REGISTER_API_TOKEN"),
        ("environment file", "$REGISTER_API_TOKEN_FILE", "unset REGISTER_API_TOKEN_FILE"),
        ("settings file", "token_file in register-batch.toml", "remove token_file from register-batch.toml"),
    ],
)
def test_a_token_set_elsewhere_without_a_target_is_refused_not_taken_to_the_embedded_emulator(
    no_settings, monkeypatch, command, given, said, leave_out
):
    """As a --token-file is (review119 F3): a nightly job whose environment lost REGISTER_API_URL but kept its token
    (or whose settings file names a token_file and no target) went to the embedded emulator and exited 0 every
    night, nothing reaching Register. It is refused, exit 2, naming where the token was set."""
    token = no_settings / "token"
    token.write_text("secret\n")
    token.chmod(0o600)
    if given == "environment":
        monkeypatch.setenv("REGISTER_API_TOKEN", "secret")
    elif given == "environment file":
        monkeypatch.setenv("REGISTER_API_TOKEN_FILE", str(token))
    else:
        (no_settings / "register-batch.toml").write_text('token_file = "token"\n')
    args = {
        "sync": ["sync", SAMPLE, "--state-dir", "state", "--report-dir", "reports", "--as-of", AS_OF],
        "export": ["export", "--state-dir", "state", "--to", "register-csv", "-o", "held.csv"],
    }[command]
    result = CliRunner().invoke(cli, ["-q", *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines()[-1] == (
        f"register-batch: error: a token for Register is set ({said}), but no target is set (--target "
        "sandbox|production|URL, $REGISTER_API_URL or target in the settings file), and with none sync and export use "
        f"the embedded emulator, which takes no token: set the target, or {leave_out} to use the embedded emulator"
    ), result.stderr
    assert "secret" not in result.output
    assert "Target:" not in result.output
    assert not (no_settings / "state").exists() and not (no_settings / "held.csv").exists()
    assert not (no_settings / "reports").exists()


def test_an_empty_token_variable_leaves_the_embedded_emulator_to_a_sync(no_settings, monkeypatch):
    """A REGISTER_API_TOKEN set empty (or blank) is no token: the embedded emulator still takes the run."""
    monkeypatch.setenv("REGISTER_API_TOKEN", " ")
    args = ["-q", "sync", SAMPLE, "--dry-run", "--state-dir", "state", "--report-dir", "reports", "--as-of", AS_OF]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "would create 12" in result.output


# A command run with a stop signal landing as the embedded emulator begins to stop: after the library call has
# returned (the sync's report written, the export's file in place, the reference data saved), while the command lets
# go of its target. The signal is sent from inside Emulator.stop, so it lands there however loaded the machine.
SIGNALLED_IN_STOP = """
import os, signal, sys
from register_batch.emulator import server

signal.signal(signal.SIGINT, signal.default_int_handler)  # as a shell leaves it, whatever runs the test
signum = getattr(signal, sys.argv.pop(1))
stop = server.Emulator.stop


def signalled_stop(self):
    os.kill(os.getpid(), signum)
    return stop(self)


server.Emulator.stop = signalled_stop
from register_batch.cli import main

sys.argv[0] = "register-batch"
main()
"""


def _signalled_in_stop(tmp_path: Path, signum: str, *args: str):
    import os
    import subprocess
    import sys

    driver = tmp_path / "signalled_in_stop.py"
    driver.write_text(SIGNALLED_IN_STOP)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(tmp_path / "home"), REGISTER_BATCH_RATE_DIR="off")
    command = [sys.executable, str(driver), signum, *args]
    return subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_a_stop_signal_as_the_embedded_emulator_stops_leaves_a_finished_syncs_summary_and_exit_code(tmp_path, signum):
    """review119 F4: the sync had finished (report written, ledger closed); a Ctrl-C while the embedded emulator
    shut down dropped its summary and report lines (exit 0 with nothing said), or made it exit 3 "interrupted"."""
    done = _signalled_in_stop(
        tmp_path, signum, "sync", SAMPLE, "--state-dir", "state", "--report-dir", "report", "--as-of", AS_OF
    )
    assert done.returncode == 0, done.stderr
    assert "interrupted" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2].startswith("12 records: 12 created"), done.stdout
    assert lines[-1] == "Report: report/report.html", done.stdout


def test_a_stop_signal_as_the_embedded_emulator_stops_leaves_a_written_export_at_exit_0(tmp_path):
    """review119 F4: export exited 3 "interrupted" with its file written (its help: other than 0, no file written)."""
    import os

    from cli_runs import run_cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    synced = run_cli(["-q", "sync", SAMPLE, "--state-dir", "state", "--as-of", AS_OF], tmp_path, env)
    assert synced.returncode == 0, synced.stderr
    done = _signalled_in_stop(
        tmp_path, "SIGINT", "export", "--state-dir", "state", "--to", "json", "-o", "held.json", "--academic-cycle",
        "2026",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "interrupted" not in done.stderr, done.stderr
    assert done.stdout.splitlines()[-1].startswith("Exported 12 trainees to held.json"), done.stdout
    assert (tmp_path / "held.json").is_file()


def test_a_stop_signal_as_the_embedded_emulator_stops_leaves_a_saved_reference_pull_at_exit_0(tmp_path):
    """review119 F4: `reference pull` of the embedded emulator exited 3 with the reference data saved."""
    done = _signalled_in_stop(tmp_path, "SIGINT", "reference", "pull", "--state-dir", "state")
    assert done.returncode == 0, done.stderr
    assert "interrupted" not in done.stderr, done.stderr
    assert done.stdout.splitlines()[-1].startswith("Saved Register's reference data to state"), done.stdout


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full (a device every write to is ENOSPC)")
def test_an_h_in_a_short_options_value_is_not_taken_for_help(tmp_path):
    """review119 F2: `-oh.xml` is -o's value, not -o and -h: generate's summary, news of a file written, lost to a
    full disk keeps its exit code 0 (what it is run for is the file), as without the h."""
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    done = run_cli_to_full_disk(["-q", "generate", "--count", "2", "--seed", "1", "-oh.xml"], tmp_path, env)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "h.xml").is_file()


# The console script's start, with a stop signal landing while the command line's modules are imported (click, as
# the first of them): an import hook sends it, so it lands there however fast or loaded the machine. The script is
# the one pip writes for the entry point pyproject.toml names.
SIGNALLED_AT_IMPORT = """
import importlib.abc, os, re, signal, sys, tomllib

signal.signal(signal.SIGINT, signal.default_int_handler)  # as a shell leaves them, whatever runs the test
signal.signal(signal.SIGTERM, signal.SIG_DFL)
signum = getattr(signal, sys.argv.pop(1))


class SignalledAtImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "click":
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signum)
        return None


sys.meta_path.insert(0, SignalledAtImport())
with open(os.environ["PYPROJECT"], "rb") as pyproject:
    module, _, function = tomllib.load(pyproject)["project"]["scripts"]["register-batch"].partition(":")
main = getattr(__import__(module, fromlist=[function]), function)
sys.argv[0] = re.sub(r"(-script\\.pyw|\\.exe)?$", "", sys.argv[0])
sys.exit(main())
"""


@pytest.mark.parametrize("signum", ["SIGINT", "SIGTERM"])
def test_a_stop_signal_while_the_command_line_is_imported_exits_3_in_one_line(tmp_path, signum):
    """review119 F6: the console script imported the whole command line (click, logging, its own modules: some 40
    ms, more on a loaded host) before its entry point could catch a Ctrl-C or handle SIGTERM: a traceback and death by
    SIGINT, or by SIGTERM (143 in a shell) with nothing said, where exit-codes.md promises exit 3 and one line."""
    import os
    import subprocess
    import sys

    driver = tmp_path / "register-batch"
    driver.write_text(SIGNALLED_AT_IMPORT)
    command = [sys.executable, str(driver), signum, "validate", SAMPLE, "--report-dir", "r", "--as-of", AS_OF]
    env = {**os.environ, "PYPROJECT": str(Path(__file__).parents[1] / "pyproject.toml")}
    done = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (
        3,
        "register-batch: interrupted; run the same command again (it starts over)\n",
    )
    assert not (tmp_path / "r").exists()


def test_every_place_a_token_was_given_with_no_target_is_named_at_once(no_settings, monkeypatch):
    """review150 F2: the refusal named only the token that won (--token-file over $REGISTER_API_TOKEN,
    $REGISTER_API_TOKEN_FILE over the settings file's token_file), so its advice followed met a second refusal."""
    token = no_settings / "token"
    token.write_text("secret\n")
    token.chmod(0o600)
    monkeypatch.setenv("REGISTER_API_TOKEN", "secret")
    monkeypatch.setenv("REGISTER_API_TOKEN_FILE", str(token))
    (no_settings / "register-batch.toml").write_text('token_file = "token"\n')
    args = ["-q", "sync", SAMPLE, "--dry-run", "--state-dir", "state", "--as-of", AS_OF, "--token-file", str(token)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2 and "secret" not in result.output
    said = result.stderr.splitlines()[-1]
    assert "is set (--token-file and $REGISTER_API_TOKEN and $REGISTER_API_TOKEN_FILE and token_file in " in said
    assert said.endswith(
        "set the target, or leave out --token-file and unset REGISTER_API_TOKEN and unset REGISTER_API_TOKEN_FILE and "
        "remove token_file from register-batch.toml to use the embedded emulator"
    ), said
