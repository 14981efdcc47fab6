"""An API token pasted where a name goes, and shown in full (review61 F4, F5, F6): as a key or a table's name in the
settings file (a token on a line of its own, a copied `sandbox_... = ""` line), as a `mappings` file in it, or as
REGISTER_BATCH_RATE_DIR (which made a folder named after the token, shown to every account that may list the shared
folder above it). Each is refused without showing it, as a token pasted as the state or report folder is."""

from __future__ import annotations

from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.emulator import start_emulator
from trainee_extracts import extract

TOKEN = "sandbox_" + "5e" * 32
HEX = TOKEN.partition("_")[2]


def shows_it(*texts: str) -> bool:
    return any(HEX[:24] in text.lower() for text in texts)


@pytest.mark.parametrize(
    "settings",
    [
        f"{TOKEN} = 1\n",  # a token on a line of its own, made a key
        f'"{TOKEN}" = ""\n',
        f"[{TOKEN}]\na = 1\n",  # a table named after it
        f'[register-batch]\nrate = "95/60"\n[register-batch.{TOKEN}]\na = 1\n',
    ],
    ids=["key", "quoted key", "table", "table in register-batch"],
)
def test_a_token_pasted_as_a_key_in_the_settings_file_is_named_without_showing_it(tmp_path, env, settings):
    config = tmp_path / "settings.toml"
    config.write_text(settings)
    for command in (["config", "show"], ["validate", str(extract(tmp_path / "in.csv", 1))]):
        done = run_cli(["--config", str(config), *command], tmp_path, env)
        assert done.returncode == 2, done.stderr
        assert (
            done.stderr.strip()
            .splitlines()[-1]
            .startswith(
                f"register-batch: error: {config}: unknown setting(s) ({len(TOKEN)} characters that look like an API "
                "token: not shown); known: "
            )
        )
        assert not shows_it(done.stdout, done.stderr)


def test_an_unknown_setting_that_is_no_token_is_still_named(tmp_path, env):
    config = tmp_path / "settings.toml"
    config.write_text('stat_dir = "state"\n')
    done = run_cli(["--config", str(config), "config", "show"], tmp_path, env)
    assert done.returncode == 2 and f"{config}: unknown setting(s) stat_dir; known: " in done.stderr


@pytest.mark.parametrize("mappings", [f'["{TOKEN}"]', f'"maps/{TOKEN}.yaml"'])
def test_a_token_pasted_as_a_mapping_file_in_the_settings_file_is_refused_unshown(tmp_path, env, mappings):
    """`--mapping TOKEN` was refused without showing it; the settings file's `mappings` were shown by `config show`
    and named by every command's `cannot read mapping file`."""
    config = tmp_path / "settings.toml"
    config.write_text(f"mappings = {mappings}\n")
    for command in (["config", "show"], ["validate", str(extract(tmp_path / "in.csv", 1))]):
        done = run_cli(["--config", str(config), *command], tmp_path, env)
        assert done.returncode == 2, done.stderr
        assert done.stderr.strip().splitlines()[-1] == (
            f"register-batch: error: mappings (set by {config}) holds an API token ({len(TOKEN)} characters; not "
            "shown): name a file there, and give the token in REGISTER_API_TOKEN or a --token-file"
        )
        assert not shows_it(done.stdout, done.stderr)


@pytest.mark.parametrize("rate_dir", [TOKEN, f"budgets/{TOKEN}"])
def test_a_token_pasted_as_the_rate_dir_is_refused_and_no_folder_is_made_of_it(tmp_path, env, rate_dir):
    """REGISTER_BATCH_RATE_DIR=$TOKEN made `./sandbox_...` (0700, but its name listed by anyone who may list the
    folder above) and the run went on; the state and report dir variables were refused so."""
    work = tmp_path / "work"
    work.mkdir()
    env.update(REGISTER_BATCH_RATE_DIR=rate_dir, REGISTER_API_TOKEN=TOKEN)
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        for command in (
            ["sync", str(extract(tmp_path / "in.csv", 2)), "--target", emulator.url, "--dry-run"],
            ["export", "--target", emulator.url, "--to", "json", "-o", "held.json"],
        ):
            done = run_cli(command, work, env)
            assert done.returncode == 2, done.stderr
            assert done.stderr.strip().splitlines()[-1] == (
                f"register-batch: error: REGISTER_BATCH_RATE_DIR holds an API token ({len(TOKEN)} characters; not "
                "shown): name a folder there, and give the token in REGISTER_API_TOKEN or a --token-file"
            )
            assert not shows_it(done.stdout, done.stderr)
        assert emulator.snapshot()["requests"]["total"] == 0
    assert not [p for p in Path(work).rglob("*") if HEX[:24] in p.name.lower()]


@pytest.mark.parametrize("cache", [TOKEN, f"caches/{TOKEN}"])
def test_a_token_pasted_as_the_template_cache_is_refused_before_anything_is_read_and_no_folder_is_made_of_it(
    tmp_path, env, cache
):
    """REGISTER_BATCH_TEMPLATE_CACHE=$TOKEN made `./sandbox_...` (its name listed by anyone who may list the folder
    above) for report.html's compiled template, and the run said nothing (review111 F1): refused as
    REGISTER_BATCH_RATE_DIR is, by every command that writes report.html, before a record is read or sent."""
    work = tmp_path / "work"
    work.mkdir()
    source = extract(tmp_path / "in.csv", 2)
    env.update(REGISTER_BATCH_TEMPLATE_CACHE=cache, REGISTER_API_TOKEN=TOKEN)
    refusal = (
        f"register-batch: error: REGISTER_BATCH_TEMPLATE_CACHE holds an API token ({len(TOKEN)} characters; not "
        "shown): name a folder there, and give the token in REGISTER_API_TOKEN or a --token-file"
    )
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        for command in (
            ["validate", str(source), "--report-dir", "validated"],
            ["convert", str(source), "--to", "jsonl", "-o", "out.jsonl", "--report-dir", "converted"],
            ["sync", str(source), "--target", emulator.url, "--state-dir", "state", "--report-dir", "synced"],
        ):
            done = run_cli(command, work, env)
            assert done.returncode == 2, done.stderr
            assert done.stderr.strip().splitlines()[-1] == refusal
            assert not shows_it(done.stdout, done.stderr)
        assert emulator.snapshot()["requests"]["total"] == 0
    assert not [p for p in Path(work).rglob("*") if HEX[:24] in p.name.lower()]
    assert not [p for p in Path(work).rglob("*") if p.is_file()]  # no report, output or ledger


def test_a_token_pasted_as_the_template_cache_is_refused_for_a_library_caller_too(tmp_path, monkeypatch):
    from register_batch.errors import ConfigError
    from register_batch.jobs import validate_files

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_BATCH_TEMPLATE_CACHE", TOKEN)
    with pytest.raises(ConfigError) as refused:
        validate_files([extract(tmp_path / "in.csv", 1)], report_dir=tmp_path / "reports")
    assert str(refused.value).startswith(f"REGISTER_BATCH_TEMPLATE_CACHE holds an API token ({len(TOKEN)} characters")
    assert not shows_it(str(refused.value)) and not (tmp_path / TOKEN).exists()
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())


@pytest.mark.parametrize("given", [TOKEN, f"mappings/{TOKEN}.yaml"])
def test_a_token_given_as_a_mapping_file_by_a_library_caller_is_refused_unshown(given):
    """`load_mapping` said "<the token>: cannot read mapping file", where the settings' and --mapping's refuse it."""
    from register_batch.errors import ConfigError
    from register_batch.mapping import load_mapping

    with pytest.raises(ConfigError) as refused:
        load_mapping([given])
    assert f"holds an API token ({len(TOKEN)} characters; not shown)" in str(refused.value)
    assert not shows_it(str(refused.value))
