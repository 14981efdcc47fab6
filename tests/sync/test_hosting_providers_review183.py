"""Several providers hosted on one machine (review183): each run's lines, errors and reports say whom it was for, and
a refused token's error says where that token came from, never the token."""

from __future__ import annotations

import csv
import json
import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.validation.facts import cycle_label, cycle_of
from report_schema import allowed_report
from stub_http import answering
from trainee_extracts import extract, started_in, trainee, write_extract

AS_OF = "2026-11-28"
TOKEN_A = "sandbox_" + "a1" * 32  # Register's shape: masked wherever a run of it shows
TOKEN_B = "sandbox_" + "b2" * 32
WRONG = "sandbox_" + "c3" * 32
UKPRN_A, UKPRN_B = "10000001", "10000002"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": ""}


def host(tmp_path: Path, url: str, token_b: str) -> None:
    """provider-b.toml as a host keeps it: its own token file, state dir and report dir."""
    (tmp_path / "secrets").mkdir()
    secret = tmp_path / "secrets" / "b"
    secret.write_text(f"{token_b}\n")
    secret.chmod(0o600)
    (tmp_path / "provider-b.toml").write_text(
        f'target = "{url}"\nukprn = "{UKPRN_B}"\nstate_dir = "state/b"\nreport_dir = "reports/b"\n'
        'token_file = "secrets/b"\n'
    )
    extract(tmp_path / "b.csv", 3)


def sync_b(tmp_path: Path, env: dict[str, str]):
    return run_cli(["--config", "provider-b.toml", "sync", "b.csv", "--as-of", AS_OF], tmp_path, env)


def test_a_refused_token_file_is_named_with_the_provider_and_settings_file(tmp_path, env, two_providers):
    """The 401 of a wrong token in provider-b.toml's token_file names that file and the provider the run was for; it
    told the user to give the token with REGISTER_API_TOKEN or --token-file, neither of which the run used."""
    host(tmp_path, two_providers.url, WRONG)
    done = sync_b(tmp_path, env)
    assert done.returncode == 2, done.stdout + done.stderr
    [error] = [line for line in done.stderr.splitlines() if line.startswith("register-batch: error:")]
    assert (
        "Register refused the API token from secrets/b (token_file in provider-b.toml), sent for provider 10000002 "
        "(provider-b.toml): give an active token of this service in secrets/b (" in error
    ), error
    assert "REGISTER_API_TOKEN" not in error and "--token-file" not in error
    assert WRONG not in done.stdout + done.stderr and WRONG[8:20] not in done.stdout + done.stderr


def test_a_refused_token_from_the_environment_is_said_to_be_the_environments(tmp_path, env, two_providers):
    """With no token_file, the token of REGISTER_API_TOKEN: the 401 says so, and where to put a good one."""
    extract(tmp_path / "b.csv", 3)
    command = ["sync", "b.csv", "--as-of", AS_OF, "--target", two_providers.url, "--ukprn", UKPRN_B]
    done = run_cli(command, tmp_path, {**env, "REGISTER_API_TOKEN": WRONG})
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        "Register refused the API token from $REGISTER_API_TOKEN, sent for provider 10000002: give an active token of "
        "this service in $REGISTER_API_TOKEN (" in done.stderr
    ), done.stderr
    assert WRONG not in done.stdout + done.stderr


def test_an_exported_token_that_overrides_token_file_is_said(tmp_path, env, two_providers):
    """secrets/b holds B's token, but an exported REGISTER_API_TOKEN (A's) wins over every settings file's token_file:
    the run warns at its start, and the UKPRN check's refusal names the variable, not secrets/b, which the operator
    checked and found right (review183 F1, reproduction 2)."""
    host(tmp_path, two_providers.url, TOKEN_B)
    extract(tmp_path / "a.csv", 1, start=10)  # A's account holds a trainee, as a provider's does
    a_run = [
        "sync",
        "a.csv",
        "--as-of",
        AS_OF,
        "--target",
        two_providers.url,
        "--ukprn",
        UKPRN_A,
        "--state-dir",
        "state/a",
    ]
    assert run_cli(a_run, tmp_path, {**env, "REGISTER_API_TOKEN": TOKEN_A}).returncode == 0
    done = sync_b(tmp_path, {**env, "REGISTER_API_TOKEN": TOKEN_A})
    assert done.returncode == 2, done.stdout + done.stderr
    assert "REGISTER_API_TOKEN overrides token_file secrets/b in provider-b.toml" in done.stderr, done.stderr
    assert (
        "error: the API token from $REGISTER_API_TOKEN (overriding token_file secrets/b in provider-b.toml) is "
        "provider 10000001's (Register lists its trainees under that UKPRN), not 10000002's, given with ukprn in "
        "provider-b.toml: nothing was written." in done.stderr
    ), done.stderr
    for token in (TOKEN_A, TOKEN_B):
        assert token not in done.stdout + done.stderr and token[8:20] not in done.stdout + done.stderr
    assert two_providers.snapshot()["trainees"] == 1  # A's own


def test_every_line_and_report_of_a_run_names_its_provider_and_settings_file(tmp_path, env, two_providers):
    """Three providers' cron runs into one log each said `Target: <the same URL>`, and nothing in their reports said
    whose trainees they held (review183 F2): the Target: and summary lines, report.json (`provider`) and report.html's
    title and header say it; results.csv keeps its columns."""
    host(tmp_path, two_providers.url, TOKEN_B)
    done = sync_b(tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"Target: {two_providers.url} for provider 10000002 (provider-b.toml)"
    assert lines[1].startswith("3 records: 3 created.") and re.search(
        r" For provider 10000002 \(provider-b\.toml\)\. Ledger run 1, [0-9T:.-]+Z\.$", lines[1]
    ), lines[1]
    [folder] = (tmp_path / "reports" / "b").iterdir()
    report = allowed_report(folder)
    assert report["provider"] == {"ukprn": UKPRN_B, "listed_ukprn": UKPRN_B, "config_file": "provider-b.toml"}
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<title>Sync report for UKPRN 10000002: 3 records" in page
    assert (
        '<p class="provider">For provider <strong data-ukprn>10000002</strong>, settings file '
        "<code data-config-file>provider-b.toml</code>.</p>" in page
    )
    with (folder / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
        columns = next(csv.reader(fh))
    assert not {"ukprn", "provider", "config_file"} & set(columns)
    assert TOKEN_B not in done.stdout + done.stderr + json.dumps(report) + page


def test_export_names_the_cycle_it_exported_and_takes_as_of(tmp_path, env):
    """Without --academic-cycle, export said only "Register's current academic cycle": around 1 August that is not
    the cycle a rehearsal's trainees are in, and an empty file read as everyone lost (review183 F5). It names the
    cycle, and --as-of has the embedded emulator (and the cycle asked for) take that day as today, as a sync's does."""
    rows = [started_in(2027, trainee(n)) for n in (1, 2)]
    write_extract(tmp_path / "next.csv", rows)
    synced = run_cli(["-q", "sync", "next.csv", "--as-of", "2027-08-01"], tmp_path, env)
    assert synced.returncode == 0, synced.stdout + synced.stderr
    today = cycle_label(cycle_of(datetime.now(UTC).date()))
    default = run_cli(["export", "--to", "json", "-o", "held.json"], tmp_path, env)
    assert default.returncode == 0, default.stdout + default.stderr
    assert f"No trainees matched (the academic cycle current today (UTC), {today}; --academic-cycle" in default.stdout
    dated = run_cli(["export", "--to", "json", "-o", "held.json", "--as-of", "2027-08-01"], tmp_path, env)
    assert dated.returncode == 0, dated.stdout + dated.stderr
    assert "Exported 2 trainees to held.json (the academic cycle current on 2027-08-01, 2027 to 2028, " in dated.stdout
    assert len(json.loads((tmp_path / "held.json").read_text(encoding="utf-8"))) == 2


def test_a_machine_refused_names_the_run_it_was_refused_in(tmp_path, env):
    """Register's 403 (rack-attack's block of an IP address, register-api.md §1.3) is not the token's fault: the line
    says so as before, and whose run it was, as a host's shared log needs (review183 F1)."""
    host(tmp_path, "http://127.0.0.1:9", TOKEN_B)
    with answering(403, b"Forbidden\n", {"Content-Type": "text/plain"}) as url:
        settings = (tmp_path / "provider-b.toml").read_text().replace("http://127.0.0.1:9", url)
        (tmp_path / "provider-b.toml").write_text(settings)
        done = sync_b(tmp_path, env)
    assert done.returncode == 3, done.stdout + done.stderr  # as part-way; twice in a row, a person looks (review208)
    assert (
        "Register refused this machine (its IP address or User-Agent is blocked) in the run for provider 10000002 "
        "(provider-b.toml), so nothing was done" in done.stderr
    ), done.stderr
    # Named once: exit 1's "For provider ..." is not added to a line that says it already (review191 F3).
    line = done.stderr.splitlines()[-1]
    assert line.startswith("register-batch: error: Register refused"), line
    assert line.lower().count("for provider 10000002") == 1, line
    assert TOKEN_B not in done.stdout + done.stderr
