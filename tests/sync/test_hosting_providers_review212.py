"""Several providers hosted on one machine, after review212: a settings file without `ukprn` whose token_file names
another provider's token is stopped before it creates the whole extract in that provider's account; settings the
environment overrides are said; every error line of a run with settings says whose run it was."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from test_hosting_providers_review183 import AS_OF, TOKEN_A, TOKEN_B, UKPRN_A, UKPRN_B

from cli_runs import run_cli
from trainee_extracts import extract


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": "", "REGISTER_BATCH_RATE_DIR": "off"}


def settings(tmp_path: Path, name: str, url: str, token: str, *, ukprn: str | None = None, state: str = "b") -> str:
    """A provider's settings file as a vendor keeps forty of them, `ukprn` left out unless given."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    secret = secrets / name
    secret.write_text(f"{token}\n")
    secret.chmod(0o600)
    lines = [f'target = "{url}"', f'token_file = "secrets/{name}"', f'state_dir = "state/{state}"']
    lines += [f'report_dir = "reports/{state}"'] + ([f'ukprn = "{ukprn}"'] if ukprn else [])
    (tmp_path / f"{name}.toml").write_text("\n".join(lines) + "\n")
    return f"{name}.toml"


def sync(tmp_path: Path, env: dict[str, str], config: str, source: str, *extra: str):
    return run_cli(["--config", config, "sync", source, "--as-of", AS_OF, *extra], tmp_path, env)


def a_loaded(tmp_path: Path, env: dict[str, str], url: str, count: int = 3) -> None:
    """Provider A's own nightly run has put its trainees in A's account."""
    extract(tmp_path / "a.csv", count, start=100)
    done = sync(tmp_path, env, settings(tmp_path, "provider-a", url, TOKEN_A, ukprn=UKPRN_A, state="a"), "a.csv")
    assert done.returncode == 0, done.stdout + done.stderr


def test_another_providers_token_without_ukprn_creates_nothing_in_its_account(tmp_path, env, two_providers):
    """B's settings file without its ukprn line, its token_file holding A's token, and a Register CSV (no UKPRN in
    it): every record was created in A's account, exit 0 (review212 F1). Now refused before the first write, naming
    the UKPRN Register lists the token's trainees under and how to go on; a second run is refused as the first."""
    a_loaded(tmp_path, env, two_providers.url)
    extract(tmp_path / "b.csv", 4, start=1)
    config = settings(tmp_path, "provider-b", two_providers.url, TOKEN_A)
    for _night in (1, 2):
        done = sync(tmp_path, env, config, "b.csv")
        assert done.returncode == 2, done.stdout + done.stderr
        [error] = [line for line in done.stderr.splitlines() if line.startswith("register-batch: error:")]
        assert error.startswith(
            "register-batch: error: the API token from secrets/provider-b (token_file in provider-b.toml) is provider "
            f"{UKPRN_A}'s (Register lists its trainees under that UKPRN): Register holds 3 trainees of the extract's "
            "academic cycles in its account, none of them one of the records, and this run would create 4 records "
            "there."
        ), error
        assert "Nothing was written. Set the ukprn setting (--ukprn, provider-b.toml or $REGISTER_BATCH_UKPRN)" in error
        assert f"({UKPRN_A} if they are yours)" in error, error
        assert two_providers.snapshot()["trainees"] == 3  # A's own, no more
    assert TOKEN_A not in done.stdout + done.stderr


def test_the_listed_ukprn_given_lets_the_same_run_through(tmp_path, env, two_providers):
    """The way on the refusal names: the records are the token's provider's after all (new trainees), and
    `--ukprn` of the listed UKPRN creates them."""
    a_loaded(tmp_path, env, two_providers.url)
    extract(tmp_path / "b.csv", 2, start=1)
    config = settings(tmp_path, "provider-b", two_providers.url, TOKEN_A)
    done = sync(tmp_path, env, config, "b.csv", "--ukprn", UKPRN_A)
    assert done.returncode == 0, done.stdout + done.stderr
    assert two_providers.snapshot()["trainees"] == 5


@pytest.mark.parametrize("case", ["moved state dir", "empty account", "some records match"])
def test_a_providers_own_runs_without_ukprn_go_on(tmp_path, env, two_providers, case):
    """What the refusal must not stop: a provider moving to a new state dir (its trainees matched, none created
    twice), a first load into an empty account, an extract of which some records are already there."""
    if case != "empty account":
        a_loaded(tmp_path, env, two_providers.url)
    count, start = {"moved state dir": (3, 100), "empty account": (3, 1), "some records match": (5, 101)}[case]
    extract(tmp_path / "new.csv", count, start=start)
    config = settings(tmp_path, "provider-a2", two_providers.url, TOKEN_A, state="a2")
    done = sync(tmp_path, env, config, "new.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    expected = {"moved state dir": 3, "empty account": 3, "some records match": 6}[case]
    assert two_providers.snapshot()["trainees"] == expected


def test_a_run_without_ukprn_names_the_ukprn_its_tokens_trainees_are_listed_under(tmp_path, env, two_providers):
    """A summary line "for the settings of provider-b.toml" named no provider: a run with no `ukprn` says whom
    Register lists the token's trainees under (review212 F1)."""
    a_loaded(tmp_path, env, two_providers.url)
    extract(tmp_path / "more.csv", 4, start=100)
    done = sync(tmp_path, env, settings(tmp_path, "provider-x", two_providers.url, TOKEN_A, state="x"), "more.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    [summary] = [line for line in done.stdout.splitlines() if line.startswith("4 records:")]
    assert re.search(
        rf" For the settings of provider-x\.toml, a token Register lists under {UKPRN_A}\. Ledger run \d+, \S+Z\.$",
        summary,
    ), summary


FOR_B = f"For provider {UKPRN_B} (provider-b.toml)."


@pytest.mark.parametrize("case", ["bad extract", "no token file", "state dir in use"])
def test_exit_2_lines_of_a_run_with_settings_say_whose_run_it_was(tmp_path, env, case):
    """A bad extract, an unreadable token file, a state dir in use: with -q (no Target: line), the one line of a run
    in a shared log named no provider, where exit 1 and 3 lines do (review212 F5)."""
    config = settings(tmp_path, "provider-b", "http://127.0.0.1:9", TOKEN_B, ukprn=UKPRN_B)
    extract(tmp_path / "b.csv", 1)
    source = "b.csv"
    if case == "bad extract":
        (tmp_path / "bad.xml").write_text("<garbage/>\n")
        source = "bad.xml"
    elif case == "no token file":
        (tmp_path / "secrets" / "provider-b").unlink()
    if case == "state dir in use":
        from register_batch.sync.ledger import StateDirLock

        with StateDirLock(tmp_path / "state" / "b"):
            done = run_cli(["-q", "--config", config, "sync", source, "--as-of", AS_OF], tmp_path, env)
    else:
        done = run_cli(["-q", "--config", config, "sync", source, "--as-of", AS_OF], tmp_path, env)
    assert done.returncode == 2, done.stdout + done.stderr
    line = done.stderr.splitlines()[-1]
    assert line.startswith("register-batch: error: "), line
    assert line.endswith(FOR_B), line
    assert line.count("provider 10000002") == 1, line


def test_settings_the_environment_overrides_are_said(tmp_path, env, two_providers):
    """REGISTER_BATCH_REPORT_DIR, _STATE_DIR, _UKPRN and REGISTER_API_URL left exported override every provider's
    settings file without a word, where the token's variables warn (review212 F4); one naming what the file names
    overrides nothing, and is not warned of."""
    config = settings(tmp_path, "provider-b", two_providers.url, TOKEN_B, ukprn=UKPRN_B)
    extract(tmp_path / "b.csv", 1)
    same = {
        "REGISTER_BATCH_REPORT_DIR": str(tmp_path / "reports" / "b"),
        "REGISTER_BATCH_STATE_DIR": "./state/b",
        "REGISTER_BATCH_UKPRN": UKPRN_B,
        "REGISTER_API_URL": two_providers.url + "/",
    }
    done = sync(tmp_path, {**env, **same}, config, "b.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "overrides" not in done.stderr, done.stderr
    other = {"REGISTER_BATCH_REPORT_DIR": "reports/shared", "REGISTER_BATCH_STATE_DIR": "state/shared"}
    done = sync(tmp_path, {**env, **other, "REGISTER_BATCH_UKPRN": UKPRN_A}, config, "b.csv", "--dry-run")
    assert done.returncode == 2, done.stdout + done.stderr  # B's records held back as not A's
    warned = [line.split(" WARNING: ", 1)[1] for line in done.stderr.splitlines() if " WARNING: " in line]
    for line in (
        "REGISTER_BATCH_STATE_DIR overrides state_dir state/b in provider-b.toml: this run's is state/shared (unset "
        "REGISTER_BATCH_STATE_DIR for the settings file's)",
        "REGISTER_BATCH_REPORT_DIR overrides report_dir reports/b in provider-b.toml: this run's is reports/shared "
        "(unset REGISTER_BATCH_REPORT_DIR for the settings file's)",
        f"REGISTER_BATCH_UKPRN overrides ukprn {UKPRN_B} in provider-b.toml: this run's is {UKPRN_A} (unset "
        "REGISTER_BATCH_UKPRN for the settings file's)",
    ):
        assert line in warned, done.stderr
    done = sync(tmp_path, {**env, "REGISTER_API_URL": "http://127.0.0.1:9"}, config, "b.csv")
    assert done.returncode == 2, done.stdout + done.stderr  # the state dir is the file's target's
    assert (
        f"REGISTER_API_URL overrides target {two_providers.url} in provider-b.toml: this run's is http://127.0.0.1:9 "
        "(unset REGISTER_API_URL for the settings file's)" in done.stderr
    ), done.stderr


def test_a_state_dir_bound_to_another_provider_says_where_it_was_set(tmp_path, env, two_providers):
    """REGISTER_BATCH_STATE_DIR exported from A's rehearsal: B's run was refused by the ledger's UKPRN binding, told
    to use "another --state-dir" while B's settings file gives one (review212 F4). The refusal names the variable
    and the settings file's state_dir it overrode."""
    a_loaded(tmp_path, env, two_providers.url)
    config = settings(tmp_path, "provider-b", two_providers.url, TOKEN_B, ukprn=UKPRN_B)
    extract(tmp_path / "b.csv", 1)
    assert sync(tmp_path, env, config, "b.csv").returncode == 0
    done = sync(tmp_path, {**env, "REGISTER_BATCH_STATE_DIR": "state/a"}, config, "b.csv")
    assert done.returncode == 2, done.stdout + done.stderr
    assert (
        f"not {UKPRN_A}'s, under whom Register files the trainees of the state dir state/a (set by "
        "$REGISTER_BATCH_STATE_DIR, overriding state_dir state/b in provider-b.toml): nothing was written"
    ) in done.stderr, done.stderr


def test_a_provider_lock_held_from_another_state_dir_names_that_runs_settings_file(tmp_path, env, two_providers):
    """Provider X's settings file naming B's token, its run under way: B's own run was refused the provider lock,
    its line saying nothing of the real cause, another settings file holding B's token (review212 F3). The lock now
    keeps the holder's settings file, and the refusal names it and its state dir."""
    from register_batch.sync.ledger import ProviderLock

    config = settings(tmp_path, "provider-b", two_providers.url, TOKEN_B, ukprn=UKPRN_B)
    extract(tmp_path / "b.csv", 1)
    rates = tmp_path / "rates"
    shared = {**env, "REGISTER_BATCH_RATE_DIR": str(rates)}
    assert sync(tmp_path, shared, config, "b.csv").returncode == 0  # its lock file is there: its name, the holder's
    [lock_file] = rates.glob("sync-*.lock")
    other = tmp_path / "state" / "x"
    other_settings = str(tmp_path / "provider-x.toml")
    with ProviderLock(rates, two_providers.url, TOKEN_B, other, config_file=other_settings) as held:
        assert held.path == lock_file
        done = sync(tmp_path, shared, config, "b.csv")
        same = ProviderLock(rates, two_providers.url, TOKEN_B, tmp_path / "state" / "b")
        with pytest.raises(Exception, match="check that settings file") as ours:
            same.acquire()
    assert done.returncode == 2, done.stdout + done.stderr
    line = done.stderr.splitlines()[-1]
    assert (
        f"; a run with another state dir ({other}, settings file {other_settings}) is using this run's token: unless "
        "it is this provider's, check that settings file's token_file. Nothing was sent" in line
    ), line
    assert line.endswith(FOR_B) and TOKEN_B not in line, line
    with ProviderLock(rates, two_providers.url, TOKEN_B, tmp_path / "state" / "b"):
        refused = sync(tmp_path, shared, config, "b.csv")  # (its own state dir's lock is free: a lock of this test)
    assert refused.returncode == 2 and "another state dir" not in refused.stderr, refused.stderr
    assert "settings file" in str(ours.value)


def test_require_ukprn_refuses_a_run_without_one(tmp_path, env, two_providers):
    """A vendor's way to make `ukprn` required on a host of many providers (review212 F1): `require_ukprn = true` in
    a settings file, or $REGISTER_BATCH_REQUIRE_UKPRN; a run without a UKPRN is refused before anything is sent, one
    with it (from the environment, beside a common settings file) goes on."""
    config = settings(tmp_path, "common", two_providers.url, TOKEN_B, state="b")
    extract(tmp_path / "b.csv", 1)
    required = tmp_path / "required.toml"
    required.write_text((tmp_path / config).read_text() + "require_ukprn = true\n")
    for name, extra in (("required.toml", {}), (config, {"REGISTER_BATCH_REQUIRE_UKPRN": "yes"})):
        done = sync(tmp_path, {**env, **extra}, name, "b.csv")
        assert done.returncode == 2, done.stdout + done.stderr
        source = "required.toml" if name == "required.toml" else "$REGISTER_BATCH_REQUIRE_UKPRN"
        assert done.stderr.splitlines()[-1] == (
            f"register-batch: error: ukprn is required (require_ukprn set by {source}) and none is set: give the "
            "UKPRN of the provider the token sends for with --ukprn, $REGISTER_BATCH_UKPRN or ukprn in the settings "
            "file"
        ), done.stderr
        assert two_providers.snapshot()["trainees"] == 0
    done = sync(tmp_path, {**env, "REGISTER_BATCH_UKPRN": UKPRN_B}, "required.toml", "b.csv")
    assert done.returncode == 0, done.stdout + done.stderr
    done = sync(tmp_path, {**env, "REGISTER_BATCH_REQUIRE_UKPRN": "sure"}, config, "b.csv")
    assert done.returncode == 2 and "$REGISTER_BATCH_REQUIRE_UKPRN must be true or false (1 or 0), not 'sure'" in (
        done.stderr
    ), done.stderr
    (tmp_path / "bad.toml").write_text('require_ukprn = "yes"\n')
    done = run_cli(["--config", "bad.toml", "config", "show"], tmp_path, env)
    assert done.returncode == 2 and "require_ukprn must be true or false (require_ukprn = true)" in done.stderr
    assert 'not text in quotes ("yes")' in done.stderr, done.stderr  # not "a date or time" (review221 F4)
