"""Several providers hosted on one machine, after review188: a path holding braces is said as it is, and every line
a run ends with (interrupted, Register stopped answering, could not connect) names whom the run was for."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_hosting_providers_review183 import AS_OF, TOKEN_A, TOKEN_B, UKPRN_A, WRONG, host

from cli_runs import run_cli
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.sync.ledger import Ledger
from register_batch.validation.facts import cycle_label, cycle_of
from stub_http import fronting
from trainee_extracts import started_in, trainee, write_extract

FOR_B = "For provider 10000002 (provider-b.toml)."


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": ""}


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (
            WRONG,
            "Register refused the API token from secrets/{ukprn} (--token-file), sent for provider 10000002 "
            "(provider-b.toml): give an active token of this service in secrets/{ukprn} (",
        ),
        (TOKEN_A, "error: the API token from secrets/{ukprn} (--token-file) is provider 10000001's ("),
    ],
)
def test_a_token_file_whose_name_holds_braces_is_named_as_it_is(tmp_path, env, two_providers, token, said):
    """`secrets/{ukprn}` (a host's template left unrendered) was said as `secrets/--ukprn`, a file that is not there:
    each value of the run's wording was read as a template in its turn (review188 F1)."""
    host(tmp_path, two_providers.url, TOKEN_B)
    braced = tmp_path / "secrets" / "{ukprn}"
    braced.write_text(f"{token}\n")
    braced.chmod(0o600)
    command = ["--config", "provider-b.toml", "sync", "b.csv", "--as-of", AS_OF, "--token-file", "secrets/{ukprn}"]
    done = run_cli(command, tmp_path, env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert said in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and token not in done.stdout + done.stderr


def test_a_settings_file_whose_name_holds_a_brace_is_named_as_it_is(tmp_path, env, two_providers):
    """`prov{b.toml` with a refused token: a traceback and exit 1 (the outage playbook) in place of the 401's line
    and exit 2 (review188 F1)."""
    host(tmp_path, two_providers.url, WRONG)
    (tmp_path / "provider-b.toml").rename(tmp_path / "prov{b.toml")
    done = run_cli(["--config", "prov{b.toml", "sync", "b.csv", "--as-of", AS_OF], tmp_path, env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert (
        "Register refused the API token from secrets/b (token_file in prov{b.toml), sent for provider 10000002 "
        "(prov{b.toml): give an active token of this service in secrets/b (" in done.stderr
    ), done.stderr


@pytest.fixture
def in_b(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_backoff) -> Path:
    """This process in provider-b's host folder, with no REGISTER_ setting of the test's own environment."""
    for name in [name for name in os.environ if name.startswith("REGISTER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("REGISTER_BATCH_RATE_DIR", "off")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _sync_b_to(folder: Path, url: str) -> tuple[int, str]:
    """provider-b.toml's sync, its target `url`, run by the command line in this process: its exit code and its last
    line on standard error."""
    settings = folder / "provider-b.toml"
    settings.write_text(settings.read_text().replace("http://127.0.0.1:9", url))
    done = CliRunner().invoke(cli, ["--config", "provider-b.toml", "sync", "b.csv", "--as-of", AS_OF])
    assert done.stderr, (done.exit_code, done.output, done.exception)
    line = done.stderr.splitlines()[-1]
    # Each of these ends the ledger's run 1, and says it, with the time, after whom it was for (review208 F6).
    named = re.sub(r" Ledger run 1, \d{4}-\d\d-\d\dT[\d:.]+Z\.$", "", line)
    assert named != line, line
    return done.exit_code, named


def test_a_run_stopped_by_a_signal_says_whose_it_was(in_b, two_providers, monkeypatch):
    """SIGTERM stops every provider's run of a host at once, and their lines interleave in the shared log: the
    interrupted line, this run's summary line, named no provider (review188 F2)."""
    host(in_b, "http://127.0.0.1:9", TOKEN_B)
    original, sent = Ledger.record, []

    def record(self, key, status, **details):
        if status == "done" and not sent:
            sent.append(signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, key, status, **details)

    monkeypatch.setattr(Ledger, "record", record)
    code, line = _sync_b_to(in_b, two_providers.url)
    assert code == 3 and line.startswith("register-batch: interrupted; 3 records: 1 created; 2 not reached."), line
    assert line.endswith(f"). {FOR_B}"), line


def test_a_run_register_stopped_answering_says_whose_it_was(in_b, two_providers):
    host(in_b, "http://127.0.0.1:9", TOKEN_B)
    creates: list[int] = []

    def down_after_a_create(seen, _forward):
        if creates:
            return 503, {"Content-Type": "text/plain"}, b"Service Unavailable\n"
        if seen.method == "POST" and seen.path.endswith("/trainees"):
            creates.append(1)
        return None

    with fronting(two_providers.url, down_after_a_create) as front:
        code, line = _sync_b_to(in_b, front.url)
    assert code == 3, line
    assert line.startswith("register-batch: error: Register stopped answering (GET /trainees -> 503"), line
    assert "; interrupted; 3 records: 1 created; 1 unknown, 1 not reached." in line, line
    assert line.endswith(f"). {FOR_B}"), line


def test_a_run_that_could_not_connect_says_whose_it_was(in_b):
    host(in_b, "http://127.0.0.1:9", TOKEN_B)
    with socket.socket() as taken:  # a port nothing listens on once it is let go
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
    code, line = _sync_b_to(in_b, f"http://127.0.0.1:{port}")
    # Exit 3, as the same outage part-way: run again, nothing to fix in the records (review208 F5).
    assert code == 3 and line.startswith("register-batch: error: Register was unavailable (GET /trainees: could not"), (
        line
    )
    assert line.endswith(f"nothing was written. Run again later. {FOR_B}"), line


@pytest.fixture
def cohorts(tmp_path, env):
    """An emulator whose today is 1 August of next cycle, holding A's trainees of this cycle (by today's date in UTC),
    the next and the one after: each export below asks for one of them, and no two ways of picking agree."""
    this = cycle_of(datetime.now(UTC).date())
    as_of = date(this + 1, 8, 1)
    rows = [started_in(year, trainee(n)) for n, year in enumerate((this, this + 1, this + 2), start=1)]
    write_extract(tmp_path / "three.csv", rows)
    with start_emulator(tokens=[TOKEN_A], ukprns={TOKEN_A: UKPRN_A}, rate_limit=None, as_of=as_of) as running:
        with_token = {**env, "REGISTER_API_TOKEN": TOKEN_A}
        command = ["sync", "three.csv", "--target", running.url, "--ukprn", UKPRN_A, "--as-of", as_of.isoformat()]
        synced = run_cli(command, tmp_path, with_token)
        assert synced.returncode == 0 and "3 created" in synced.stdout, synced.stdout + synced.stderr
        yield running.url, with_token, this


def _exported(tmp_path: Path, with_token: dict[str, str], url: str, *extra: str) -> tuple[str, list[str]]:
    """`export --to json` from `url`: its summary line, and the start years of the trainees it wrote."""
    done = run_cli(["-q", "export", "--to", "json", "-o", "held.json", "--target", url, *extra], tmp_path, with_token)
    assert done.returncode == 0, done.stdout + done.stderr
    held = json.loads((tmp_path / "held.json").read_text(encoding="utf-8"))
    return done.stdout.splitlines()[0], [trainee["itt_start_date"][:4] for trainee in held]


def test_export_asks_for_the_cycle_its_line_names(tmp_path, cohorts):
    """Without --academic-cycle or --as-of, export sent no cycle, and said "Register's current academic cycle" with
    the cycle of this machine's today: an emulator started with --as-of picked its own, and the file held next
    cycle's trainees under this cycle's name (review188 F4). It asks for the cycle it names."""
    url, with_token, this = cohorts
    line, years = _exported(tmp_path, with_token, url)
    assert years == [str(this)], (line, years)
    assert f"(the academic cycle current today (UTC), {cycle_label(this)}, listed under UKPRN {UKPRN_A};" in line


def test_export_as_of_asks_for_that_days_cycle(tmp_path, cohorts):
    """--as-of's day's cycle is asked for: an export that left it out (the target's own current, or today's) wrote
    another cohort, and the line named the one asked for (review188 F8)."""
    url, with_token, this = cohorts
    later = date(this + 2, 8, 1).isoformat()
    line, years = _exported(tmp_path, with_token, url, "--as-of", later)
    assert years == [str(this + 2)], (line, years)
    assert f"(the academic cycle current on {later}, {cycle_label(this + 2)}, listed under" in line


def test_an_exported_token_file_that_overrides_token_file_is_said(tmp_path, env, two_providers):
    """An exported REGISTER_API_TOKEN_FILE wins over every settings file's token_file, as REGISTER_API_TOKEN does, but
    only the latter was warned of: the docs promise the warning for both (review188 F5)."""
    host(tmp_path, two_providers.url, TOKEN_B)
    (tmp_path / "wrong").write_text(f"{WRONG}\n")
    (tmp_path / "wrong").chmod(0o600)
    done = run_cli(
        ["--config", "provider-b.toml", "sync", "b.csv", "--as-of", AS_OF],
        tmp_path,
        {**env, "REGISTER_API_TOKEN_FILE": "wrong"},
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        "WARNING: REGISTER_API_TOKEN_FILE overrides token_file secrets/b in provider-b.toml: the token sent is the "
        "environment's (unset REGISTER_API_TOKEN_FILE to send the file's)" in done.stderr
    ), done.stderr
    assert (
        "Register refused the API token from wrong ($REGISTER_API_TOKEN_FILE, overriding token_file secrets/b in "
        "provider-b.toml), sent for provider 10000002 (provider-b.toml): give an active token of this service in "
        "wrong, or unset REGISTER_API_TOKEN_FILE to send the one of token_file secrets/b in provider-b.toml ("
        in done.stderr
    ), done.stderr
    assert WRONG not in done.stdout + done.stderr and TOKEN_B not in done.stdout + done.stderr


def test_an_export_whose_cycle_the_target_does_not_know_says_it_asked_for_todays(tmp_path, env):
    """A target whose own today is in an earlier cycle (an emulator started with --as-of) does not know today's: the
    refusal names the cycle asked for and why, not an --academic-cycle the user never gave (review188 F4). Before,
    the export wrote that target's own cohort under today's cycle's name."""
    this = cycle_of(datetime.now(UTC).date())
    with start_emulator(tokens=[TOKEN_A], rate_limit=None, as_of=date(this - 1, 1, 1)) as running:
        done = run_cli(
            ["export", "--to", "json", "-o", "held.json", "--target", running.url],
            tmp_path,
            {**env, "REGISTER_API_TOKEN": TOKEN_A},
        )
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"error: the target does not take the academic cycle current today (UTC), {cycle_label(this)} (GET /trainees "
        f"-> 422: academic_cycle {this} is not a valid academic cycle year): no file was written. Give the cycle to "
        "export with --academic-cycle YYYY" in done.stderr
    ), done.stderr
    assert "another cycle" not in done.stderr and "--as-of" not in done.stderr, done.stderr
    assert not (tmp_path / "held.json").exists()
