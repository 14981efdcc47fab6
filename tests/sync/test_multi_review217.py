"""After review217: a provider's own first run of new trainees, without `ukprn`, into an account that already holds
others of the cycle (F1): its dry run plans and warns, its real run is refused naming that cause; a token file named
after its token is not shown in the report or the log (F3); the run before's reason in report.html without Python's
class name (F5); nightly-sync.md's script words exit 1 and 3 as exit-codes.md does (F2)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from test_hosting_providers_review183 import AS_OF, TOKEN_A, UKPRN_A, WRONG
from test_hosting_providers_review212 import a_loaded, settings, sync

from cli_runs import run_cli
from trainee_extracts import extract

DOCS = Path(__file__).resolve().parents[2] / "docs"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": "", "REGISTER_BATCH_RATE_DIR": "off"}


def report_of(tmp_path: Path, state: str) -> dict:
    [found] = sorted((tmp_path / "reports" / state).glob("**/report.json"))[-1:]
    return json.loads(found.read_text(encoding="utf-8"))


def test_a_providers_new_intake_dry_run_plans_and_warns_its_real_run_is_refused_naming_why(
    tmp_path, env, two_providers
):
    """A's own token, a fresh state dir, no ukprn, trainees Register does not hold yet in an account holding A's
    earlier intake: the dry run was refused too (exit 2, no report), and the refusal named a cause that does not
    trigger it ("their SRS ids changed") and not this one (review217 F1)."""
    a_loaded(tmp_path, env, two_providers.url)
    extract(tmp_path / "january.csv", 2, start=1)
    config = settings(tmp_path, "provider-a2", two_providers.url, TOKEN_A, state="a2")
    dry = sync(tmp_path, env, config, "january.csv", "--dry-run")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    [warning] = [w for w in report_of(tmp_path, "a2")["sync"]["run_warnings"] if w["code"] == "sync_account_unmatched"]
    assert warning["count"] == 2
    assert "A real run stops here, before its first write (exit 2)." in warning["message"]
    assert "trainees Register does not hold yet" in warning["message"]
    assert "A real run stops here" in dry.stdout
    assert two_providers.snapshot()["trainees"] == 3
    real = sync(tmp_path, env, config, "january.csv")
    assert real.returncode == 2, real.stdout + real.stderr
    [error] = [line for line in real.stderr.splitlines() if line.startswith("register-batch: error:")]
    assert (
        "trainees Register does not hold yet look like, in an account that already holds others of these cycles (an "
        "earlier intake, trainees entered by hand)" in error
    ), error
    assert f"({UKPRN_A} if they are yours)" in error and "SRS ids changed" not in error, error
    assert "Nothing was written." in error and "Nothing was sent" not in error, error
    assert two_providers.snapshot()["trainees"] == 3
    # F5: the next run's report says why the run before stopped, without Python's class name
    done = sync(tmp_path, env, config, "january.csv", "--ukprn", UKPRN_A)
    assert done.returncode == 0, done.stdout + done.stderr
    [html] = sorted((tmp_path / "reports" / "a2").glob("*/report.html"))[-1:]
    text = re.sub(r"<[^>]+>|\u200b|&shy;|\xad", "", html.read_text(encoding="utf-8"))
    assert "stopped before it sent anything (the API token" in text, text
    assert "ConfigError" not in text


def test_a_token_file_named_after_its_token_is_not_shown(tmp_path, env, two_providers):
    """`--token-file secrets/sandbox_a1a1…`: the file's name is the token, and report.json's settings.token_source,
    report.html and the -v log showed it (review217 F3); a refused token's 401 line too."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for token in (TOKEN_A, WRONG):
        (secrets / token).write_text(f"{token}\n")
        (secrets / token).chmod(0o600)
    extract(tmp_path / "a.csv", 2, start=1)
    common = ["a.csv", "--as-of", AS_OF, "--target", two_providers.url, "--ukprn", UKPRN_A, "--report-dir", "reports/t"]
    done = run_cli(["-v", "sync", *common, "--token-file", f"secrets/{TOKEN_A}"], tmp_path, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert report_of(tmp_path, "t")["settings"]["token_source"] == "secrets/******** (--token-file)"
    shown = done.stdout + done.stderr
    for html in (tmp_path / "reports").rglob("report.*"):
        shown += re.sub(r"\u200b|&shy;|\xad|<wbr>", "", html.read_text(encoding="utf-8"))
    assert "token from secrets/******** (--token-file)" in done.stderr, done.stderr
    assert TOKEN_A[8:40] not in shown
    refused = run_cli(["sync", *common, "--state-dir", "st2", "--token-file", f"secrets/{WRONG}"], tmp_path, env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "Register refused the API token from secrets/******** (--token-file)" in refused.stderr, refused.stderr
    assert WRONG[8:40] not in refused.stdout + refused.stderr


def test_nightly_sync_script_words_exit_1_and_3_as_exit_codes_md():
    """sync-all.sh said exit 1 was "or Register was unreachable", exit 3 only "interrupted" (review217 F2): an
    outage at the start is exit 3 since review208 F5."""
    text = (DOCS / "nightly-sync.md").read_text(encoding="utf-8")
    script = text[text.index("```sh file=sync-all.sh") :]
    script = script[: script.index("\n```\n")]
    assert "unreachable" not in script
    assert script.count("interrupted or Register out of reach") == 2


def test_troubleshooting_lists_the_proxys_refusals_and_tls_lines_and_both_403_forms():
    """review217 F4: a proxy's 407 (a password rotated) and 403 (exit 2), and https:// to a plain-HTTP port, had no
    row; Register's 403 with an HTML page (`403: Forbidden: an HTML page …`) did not start as the row said."""
    rows = [
        line.split(" | ")[0]
        for line in (DOCS / "troubleshooting.md").read_text(encoding="utf-8").splitlines()
        if line.startswith("| `")
    ]
    for printed in (
        "register-batch: error: GET /trainees: the proxy HTTPS_PROXY names (not shown) refused the connection to "
        "register.example.invalid: 407 Proxy Authentication Required; it asks for a user name and password",
        "register-batch: error: GET /trainees: the proxy HTTPS_PROXY names (not shown) refused the connection to "
        "register.example.invalid: 403 Forbidden; ask its administrators to allow register.example.invalid",
        "register-batch: error: GET /trainees: localhost:18901 did not answer TLS (WRONG_VERSION_NUMBER): for a server",
        "register-batch: error: Register refused (GET /trainees -> 403: Forbidden: an HTML page instead of Register's",
        "register-batch: error: Register refused (GET /trainees -> 403: Forbidden; Register refused this machine",
    ):
        pieces = [[p.strip() for span in re.findall(r"`([^`]+)`", row) for p in span.split("…")] for row in rows]
        assert any(printed.startswith(row[0]) and all(p in printed for p in row) for row in pieces), printed
