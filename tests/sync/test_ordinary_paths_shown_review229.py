"""After review229 F1: review226 F1 masked every word of a path that the loose "a token pasted in the wrong place"
test finds (48 characters or more with 8 digits), so a token file or working folder named
`provider_10012846_register_trainee_teachers_sync`, or a sha256-named folder, was shown as `********`: the warnings
and errors no longer said which file to fix, nor gave the `chmod` command. A path masks only a token of Register's
shape and the token in use."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from test_hosting_providers_review183 import AS_OF, TOKEN_A, UKPRN_A

from cli_runs import run_cli
from register_batch.config import shown_path
from register_batch.tokens import MASK, token_done, token_in_use
from trainee_extracts import extract

ORDINARY = "provider_10012846_register_trainee_teachers_sync"  # 48 characters, a UKPRN's 8 digits
SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return {**clean, "HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": "", "REGISTER_BATCH_RATE_DIR": "off"}


@pytest.mark.parametrize(
    "name",
    [
        f"{ORDINARY}/register-batch.toml",
        "hesa_extract_10012846_20261128_final_v2_backup_copy",
        "hesa_itt_2026_27_provider_10012846_nightly_sync_jobs",
        f"overlay2/{SHA256}/merged",
        f"jobs/run_{SHA256}",
    ],
)
def test_an_ordinary_name_with_digits_or_a_hash_is_shown_whole(tmp_path, name):
    """Each is there (a name that is no file may be a token pasted in its place: `pasted_token_file`)."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()
    assert shown_path(path) == str(path)


def test_a_token_of_registers_shape_or_the_one_in_use_is_still_masked(tmp_path):
    """review226 F1's case: a token file or folder named after the token; and a made-up token of another shape (the
    emulator takes any), named as it is in use or given."""
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / TOKEN_A).touch()
    assert shown_path(tmp_path / "secrets" / TOKEN_A) == f"{tmp_path}/secrets/{MASK}"
    assert shown_path(tmp_path / TOKEN_A / "rb.toml") == f"{tmp_path}/{MASK}/rb.toml"
    from register_batch.tokens import masked_path_words

    made_up = "our-test-token-20261128-for-the-emulator"
    assert masked_path_words(f"/srv/{made_up}/rb.toml", made_up) == f"/srv/{MASK}/rb.toml"
    token_in_use(made_up)
    try:
        assert shown_path(f"/srv/{made_up}") == f"/srv/{MASK}"
    finally:
        token_done(made_up)
    assert shown_path(f"/srv/{made_up}") == f"/srv/{made_up}"


def test_a_token_file_and_working_folder_of_ordinary_names_are_named_whole_with_the_chmod_command(
    tmp_path, env, two_providers
):
    """The review's repro: a token file readable by others and a working folder (its register-batch.toml writable by
    any user), both named `provider_10012846_register_trainee_teachers_sync`: the warnings named neither and gave no
    command, report.json's token_source and working_directory showed both as the same `…/********`."""
    secrets = tmp_path / "srv"
    secrets.mkdir()
    secret = secrets / ORDINARY
    secret.write_text(f"{TOKEN_A}\n")
    secret.chmod(0o640)
    work = tmp_path / ORDINARY
    work.mkdir()
    (work / "register-batch.toml").write_text(
        f'target = "{two_providers.url}"\nukprn = "{UKPRN_A}"\ntoken_file = "{secret}"\n'
        f'report_dir = "{tmp_path}/rep"\nstate_dir = "{tmp_path}/state"\n'
    )
    (work / "register-batch.toml").chmod(0o666)
    extract(work / "a.csv", 2, start=1)
    toml = work / "register-batch.toml"
    done = run_cli(["sync", "a.csv", "--as-of", AS_OF], work, {**env, "REGISTER_BATCH_CONFIG": str(toml)})
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{secret} is readable by other users; `chmod 600 {secret}` keeps" in done.stderr, done.stderr
    assert f"{toml} is writable by any user" in done.stderr and f"`chmod o-w {toml}`" in done.stderr, done.stderr
    assert MASK not in done.stdout + done.stderr
    [found] = (tmp_path / "rep").rglob("report.json")
    settings = json.loads(found.read_text(encoding="utf-8"))["settings"]
    assert settings["working_directory"] == str(work)
    assert settings["token_source"] == f"{secret} (token_file in {toml})"
    assert settings["config_file"] == str(toml)
    shown = run_cli(["config", "show"], work, {**env, "REGISTER_BATCH_CONFIG": str(toml)})
    assert f"Config file: {toml}" in shown.stdout and f"{secret}" in shown.stdout, shown.stdout
    assert MASK + "/" not in shown.stdout, shown.stdout


def test_a_library_sync_names_a_settings_file_of_an_ordinary_name_whole(tmp_path):
    """SyncOptions's token_source and config_file, which a service gives, are masked as the command line's are."""
    from register_batch.sync.runner import SyncOptions

    options = SyncOptions(
        target="http://127.0.0.1:9",
        token=TOKEN_A,
        state_dir=tmp_path / "st",
        report_dir=tmp_path / "rep",
        config_file=f"/srv/{ORDINARY}.toml",
        token_source=f"/srv/{TOKEN_A} (token_file in /srv/{ORDINARY}.toml)",
    )
    assert options.config_file == f"/srv/{ORDINARY}.toml"
    assert options.token_source == f"/srv/{MASK} (token_file in /srv/{ORDINARY}.toml)"


def test_the_working_folder_named_after_a_token_of_another_shape_is_masked_in_report_settings(tmp_path, monkeypatch):
    from register_batch.sync.runner import SyncOptions, run_settings

    made_up = "our-test-token-20261128-for-the-emulator"
    (tmp_path / made_up).mkdir()
    monkeypatch.chdir(tmp_path / made_up)
    options = SyncOptions(target="http://127.0.0.1:9", token=made_up, state_dir=Path("st"), report_dir=Path("rep"))
    assert run_settings(options)["working_directory"] == f"{tmp_path}/{MASK}"
