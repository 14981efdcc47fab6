"""After review226 F1: a token file, settings file or working folder named after an API token is shown masked
wherever its path is shown (`config.shown_path`): `config show`, the token file's warnings and errors, the
Target: and summary lines, report.json and report.html. review217 F3 masked it in token_source alone, two keys
before report.json gave the settings file's path in clear."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from test_hosting_providers_review183 import AS_OF, TOKEN_A, UKPRN_A

from cli_runs import run_cli
from register_batch.config import shown_path
from register_batch.tokens import MASK
from trainee_extracts import extract

SECRET = TOKEN_A[8:40]  # a run of the token no masked text holds


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": "", "REGISTER_BATCH_RATE_DIR": "off"}


def token_named_file(folder: Path, mode: int = 0o600) -> Path:
    """A token file named after its token, as `secrets/production_…` is kept."""
    folder.mkdir(exist_ok=True)
    path = folder / TOKEN_A
    path.write_text(f"{TOKEN_A}\n")
    path.chmod(mode)
    return path


def reports_text(folder: Path) -> str:
    """report.json and report.html as read, the HTML's break hints left out."""
    return "".join(
        re.sub(r"\u200b|&shy;|\xad|<wbr>", "", found.read_text(encoding="utf-8")) for found in folder.rglob("report.*")
    )


def test_shown_path_masks_a_token_shaped_word_of_a_path_that_is_there(tmp_path):
    """The file is there, so it is no token pasted in its name's place (pasted_token_file): it was shown whole."""
    path = token_named_file(tmp_path / "secrets")
    assert shown_path(path) == f"{tmp_path}/secrets/{MASK}"
    assert shown_path(tmp_path / TOKEN_A / "rb.toml") == f"{tmp_path}/{MASK}/rb.toml"
    assert shown_path(tmp_path / "secrets" / "production") == f"{tmp_path}/secrets/production"  # no token: as it is


def test_a_sync_in_a_token_named_folder_with_a_token_named_settings_and_token_file_never_shows_it(
    tmp_path, env, two_providers
):
    """The review's repro: the settings file named by REGISTER_BATCH_CONFIG (argv is checked) in a folder named
    after the token, run in that folder at -v, its token_file named after the token and readable by others (the
    warning is written before -vv's log mask is installed), the settings file writable by any user (warned too).
    Target: and summary lines, the warnings, the -v log,
    report.json's settings.config_file, provider.config_file and settings.working_directory, and report.html's
    "run in" showed it."""
    work = tmp_path / TOKEN_A
    work.mkdir()
    secret = token_named_file(tmp_path / "secrets", 0o644)
    (work / "rb.toml").write_text(
        f'target = "{two_providers.url}"\nukprn = "{UKPRN_A}"\ntoken_file = "{secret}"\nreport_dir = "{tmp_path}/rep"\n'
        f'state_dir = "{tmp_path}/state"\n'
    )
    (work / "rb.toml").chmod(0o666)  # warned of, naming it
    extract(work / "a.csv", 2, start=1)
    done = run_cli(
        ["-v", "sync", "a.csv", "--as-of", AS_OF], work, {**env, "REGISTER_BATCH_CONFIG": str(work / "rb.toml")}
    )
    assert done.returncode == 0, done.stdout + done.stderr
    shown = done.stdout + done.stderr + reports_text(tmp_path / "rep")
    assert SECRET not in shown, shown
    assert f"for provider {UKPRN_A} ({tmp_path}/{MASK}/rb.toml)" in done.stdout, done.stdout
    assert f"{tmp_path}/secrets/{MASK} is readable by other users" in done.stderr, done.stderr
    assert f"{tmp_path}/{MASK}/rb.toml is writable by any user" in done.stderr, done.stderr
    [found] = (tmp_path / "rep").rglob("report.json")
    report = json.loads(found.read_text(encoding="utf-8"))
    assert report["settings"]["config_file"] == report["provider"]["config_file"] == f"{tmp_path}/{MASK}/rb.toml"
    assert report["settings"]["working_directory"] == f"{tmp_path}/{MASK}"


def test_config_show_masks_a_token_named_token_file_and_settings_file(tmp_path, env):
    """`config show` says only whether the token is set: it named a token file named after its token in the
    token_file row and the token row's source, and a settings file so named in `Config file:` and every source."""
    secret = token_named_file(tmp_path / "secrets")
    folder = tmp_path / TOKEN_A
    folder.mkdir()
    (folder / "rb.toml").write_text('target = "sandbox"\nukprn = "10000001"\n')
    env = {**env, "REGISTER_API_TOKEN_FILE": str(secret), "REGISTER_BATCH_CONFIG": str(folder / "rb.toml")}
    for extra in ([], ["--json"]):
        done = run_cli(["config", "show", *extra], tmp_path, env)
        assert done.returncode == 0, done.stdout + done.stderr
        assert SECRET not in done.stdout + done.stderr, done.stdout
        assert f"{tmp_path}/secrets/{MASK}" in done.stdout and f"{tmp_path}/{MASK}/rb.toml" in done.stdout
    assert json.loads(done.stdout)["config_file"] == f"{tmp_path}/{MASK}/rb.toml"


def test_the_override_warning_and_the_token_files_errors_mask_its_token_named_path(tmp_path, env):
    """REGISTER_API_TOKEN_FILE overriding a settings file's token_file named after the token warned naming it; an empty
    token file so named, or a folder, was named in its error."""
    plain = tmp_path / "tok"
    plain.write_text(f"{TOKEN_A}\n")
    plain.chmod(0o600)
    secret = token_named_file(tmp_path / "secrets")
    (tmp_path / "rb.toml").write_text(f'token_file = "{secret}"\ntarget = "http://127.0.0.1:9"\nukprn = "{UKPRN_A}"\n')
    extract(tmp_path / "a.csv", 1, start=1)
    args = ["--config", "rb.toml", "sync", "a.csv", "--as-of", AS_OF, "--dry-run"]
    done = run_cli(args, tmp_path, {**env, "REGISTER_API_TOKEN_FILE": str(plain)})
    assert f"overrides token_file {tmp_path}/secrets/{MASK} in rb.toml" in done.stderr, done.stderr
    secret.write_text("")
    empty = run_cli(args, tmp_path, env)
    assert f"{tmp_path}/secrets/{MASK}: the token file is empty" in empty.stderr, empty.stderr
    secret.unlink()
    secret.mkdir()
    folder = run_cli(args, tmp_path, env)
    assert f"{tmp_path}/secrets/{MASK}: cannot read the token file" in folder.stderr, folder.stderr
    assert SECRET not in done.stdout + done.stderr + empty.stdout + empty.stderr + folder.stdout + folder.stderr
