"""Several providers hosted on one machine, after review191: an export refused a cycle says only what is known, a
REGISTER_API_TOKEN_FILE naming the settings file's own token_file overrides nothing, and the provider named at the
end of a line is named once, on exit 1 and 3 lines only."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from test_hosting_providers_review183 import AS_OF, TOKEN_B, UKPRN_B, WRONG, host

from cli_runs import run_cli
from register_batch.emulator import start_emulator
from register_batch.validation.facts import cycle_label, cycle_of

FOR_B = "For provider 10000002 (provider-b.toml)."


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": "", "REGISTER_BATCH_RATE_DIR": "off"}


def test_an_export_as_of_a_day_whose_cycle_the_target_does_not_take_names_the_option(tmp_path, env):
    """With --as-of, the cycle asked for is the user's choice: the refusal blamed the target's clock ("so its own today
    is in another cycle") and said "today" for --as-of's day in one mutation no test caught; the option to change was
    not named (review191 F1, F3). Its end says whose run it was, as every error line of a run with settings does
    (review212 F5)."""
    this = cycle_of(datetime.now(UTC).date())
    later = date(this + 5, 8, 1)
    with start_emulator(
        tokens=[TOKEN_B], ukprns={TOKEN_B: UKPRN_B}, rate_limit=None, as_of=date(this - 1, 1, 1)
    ) as running:
        host(tmp_path, running.url, TOKEN_B)
        (tmp_path / "held.json").write_text("[]\n")
        done = run_cli(
            ["--config", "provider-b.toml", "export", "--to", "json", "-o", "held.json", "--as-of", str(later)],
            tmp_path,
            env,
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines()[-1] == (
        f"register-batch: error: the target does not take the academic cycle current on {later} (--as-of), "
        f"{cycle_label(this + 5)} (GET /trainees -> 422: academic_cycle {this + 5} is not a valid academic cycle "
        "year): no file was written, and the earlier held.json stays as it was. Give the cycle to export with "
        f"--academic-cycle YYYY, or another --as-of. {FOR_B}"
    ), done.stderr
    assert (tmp_path / "held.json").read_text() == "[]\n"


@pytest.mark.parametrize("named_as", ["absolute", "dotted", "symlink"])
def test_a_token_file_variable_naming_the_settings_files_own_token_file_overrides_nothing(
    tmp_path, env, two_providers, named_as
):
    """A service's environment naming the token file its settings file names too: a WARNING of an override on every
    run (what cron mails and log alerts key on), and a refused token's advice to unset the variable to send... the
    same file (review191 F2)."""
    host(tmp_path, two_providers.url, WRONG)
    given = {
        "absolute": str(tmp_path / "secrets" / "b"),
        "dotted": "./secrets/../secrets/b",
        "symlink": "secrets/link",
    }[named_as]
    (tmp_path / "secrets" / "link").symlink_to("b")
    done = run_cli(
        ["--config", "provider-b.toml", "sync", "b.csv", "--as-of", AS_OF],
        tmp_path,
        {**env, "REGISTER_API_TOKEN_FILE": given},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "WARNING" not in done.stderr and "overrid" not in done.stderr, done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("register-batch: error:")]
    assert "($REGISTER_API_TOKEN_FILE), sent for provider 10000002 (provider-b.toml): give an active token" in error
    assert "unset" not in error, error
    assert WRONG not in done.stdout + done.stderr


def test_a_refused_token_line_names_its_provider_once_and_is_not_suffixed(tmp_path, env, two_providers):
    """Exit 2 is the user's to fix, and its line says whom for where it needs to: the "For provider ..." of exit 1 and
    3 lines, added to it, doubled it (review191 F3)."""
    host(tmp_path, two_providers.url, WRONG)
    done = run_cli(["--config", "provider-b.toml", "sync", "b.csv", "--as-of", AS_OF], tmp_path, env)
    assert done.returncode == 2, done.stdout + done.stderr
    line = done.stderr.splitlines()[-1]
    assert line.startswith("register-batch: error: GET /trainees -> 401"), line
    assert line.lower().count("for provider 10000002") == 1, line
    assert not line.endswith(FOR_B), line


def test_an_export_stopped_by_a_signal_says_whose_it_was(tmp_path, env, two_providers):
    """SIGTERM (systemd stopping every provider's run at once) as an export lists the trainees: its line, the
    KeyboardInterrupt path's, names the provider as a sync's does (review188 F2), which no test saw (review191 F3)."""
    host(tmp_path, two_providers.url, TOKEN_B)
    patch = (
        "import os, signal, sys\n"
        "from register_batch.api.client import RegisterClient\n"
        "original = RegisterClient.iter_trainees\n"
        "def iter_trainees(self, *args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    yield from original(self, *args, **kwargs)\n"
        "RegisterClient.iter_trainees = iter_trainees\n"
        "from register_batch import cli\n"
        "sys.argv = ['register-batch', *sys.argv[1:]]\n"
        "cli.main()\n"
    )
    args = ["--config", "provider-b.toml", "export", "--to", "json", "-o", "held.json", "--as-of", AS_OF]
    done = subprocess.run(
        [sys.executable, "-c", patch, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, (done.returncode, done.stdout, done.stderr)
    assert done.stderr.splitlines()[-1] == (
        f"register-batch: interrupted; run the same command again (it starts over). {FOR_B}"
    ), done.stderr
    assert not (tmp_path / "held.json").exists()


def test_a_ukprn_no_record_has_names_the_settings_file_it_was_read_from(tmp_path, env):
    """A host's provider-b.toml with a mistyped ukprn: the refusal sent the operator to register-batch.toml, a file
    that is not there, as where the setting was given (review193 F3)."""
    sample = Path(__file__).resolve().parents[2] / "samples" / "extract.xml"
    (tmp_path / "provider-b.toml").write_text(f'ukprn = "{UKPRN_B}"\nstate_dir = "state/b"\nreport_dir = "reports/b"\n')
    done = run_cli(["--config", "provider-b.toml", "sync", "--dry-run", str(sample)], tmp_path, env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "The ukprn setting (--ukprn, provider-b.toml or $REGISTER_BATCH_UKPRN) or the inputs" in done.stderr, (
        done.stderr
    )
