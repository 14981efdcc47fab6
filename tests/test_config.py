"""Settings precedence: command line > environment > register-batch.toml > defaults; the token stays hidden."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.config import UKPRN_OF, load_settings, parse_rate
from register_batch.errors import ConfigError


def test_precedence(tmp_path):
    config = tmp_path / "register-batch.toml"
    config.write_text('target = "sandbox"\nrate = "50/60"\nstate_dir = "from-file"\nmappings = ["ours.yaml"]\n')
    settings = load_settings({"rate": "10/1"}, environ={"REGISTER_BATCH_STATE_DIR": "from-env"}, config_file=config)
    assert settings.target == "sandbox" and settings.sources["target"] == str(config)
    assert settings.rate == "10/1" and settings.sources["rate"] == "command line"
    assert settings.state_dir == Path("from-env") and settings.sources["state_dir"] == "$REGISTER_BATCH_STATE_DIR"
    assert settings.mappings == [tmp_path / "ours.yaml"]  # relative to the config file


@pytest.mark.parametrize(
    "spelt",
    [
        "https://sandbox.register-trainee-teachers.service.gov.uk",
        "https://sandbox.register-trainee-teachers.service.gov.uk/",
        "https://sandbox.register-trainee-teachers.service.gov.uk/api/v2026.1",
        "https://Sandbox.Register-Trainee-Teachers.Service.Gov.UK",
        "HTTPS://sandbox.register-trainee-teachers.service.gov.uk:443/",
    ],
)
def test_the_service_spelt_as_its_url_keeps_the_state_dir_of_its_name(spelt):
    """A nightly job moving from `--target sandbox` to the URL in REGISTER_API_URL (both the same service, which the
    ledger is bound to) was given a fresh state dir: an empty ledger, every trainee found again with a warning."""
    from register_batch.api import resolve_target

    assert resolve_target(spelt) == resolve_target("sandbox")
    assert load_settings({"target": spelt}, environ={}).state_dir == Path(".register-batch/sandbox")
    assert load_settings(environ={"REGISTER_API_URL": spelt}).state_dir == Path(".register-batch/sandbox")
    production = re.sub(r"sandbox\.", "www.", spelt, flags=re.IGNORECASE)
    assert load_settings({"target": production}, environ={}).state_dir == Path(".register-batch/production")


def test_default_state_dirs_are_per_target_and_config_paths_are_relative_to_the_file(tmp_path):
    from register_batch.config import token_file_to_use

    assert load_settings(environ={}).state_dir == Path(".register-batch/embedded-emulator")
    assert load_settings({"target": "sandbox"}, environ={}).state_dir == Path(".register-batch/sandbox")
    assert load_settings({"target": "http://127.0.0.1:8787"}, environ={}).state_dir == Path(
        ".register-batch/127.0.0.1-8787"
    )
    assert load_settings({"target": "http://[::1]:8787"}, environ={}).state_dir == Path(
        ".register-batch/__1-8787"  # no colon in a folder's name (Windows refuses one)
    )
    assert load_settings({"target": "http://example.test:80a"}, environ={}).state_dir == Path(
        ".register-batch/target"  # no URL (refused where it is checked), so no host to name it by
    )
    assert load_settings({"target": "http://:8787"}, environ={}).state_dir == Path(".register-batch/target-8787")
    for spelt in ("https://Register.Example:443", "https://register.example/", "http://register.example:80"):
        # one service, however its URL is written: one ledger
        assert load_settings({"target": spelt}, environ={}).state_dir == Path(".register-batch/register.example")
    config = tmp_path / "conf" / "register-batch.toml"
    config.parent.mkdir()
    config.write_text('token_file = "token"\nreport_dir = "reports"\nmappings = ["a.yaml"]\n')
    settings = load_settings({"mappings": ["b.yaml"]}, environ={}, config_file=config)
    assert settings.token_file == config.parent / "token"
    assert settings.report_dir == config.parent / "reports"
    assert settings.mappings == [config.parent / "a.yaml", Path("b.yaml")]  # --mapping adds to the file's
    assert token_file_to_use(settings, {}) == config.parent / "token"
    assert token_file_to_use(settings, {"REGISTER_API_TOKEN": "x"}) is None  # environment beats the file


@pytest.mark.parametrize(
    "text", ['token = "secret"\n', 'api_token = "secret"\n', '[register-batch]\napi_token = "secret"\n']
)
def test_the_token_may_not_live_in_the_config_file(tmp_path, text):
    config = tmp_path / "register-batch.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match="do not put the API token in the config file"):
        load_settings(config_file=config)


@pytest.mark.parametrize("text", ["x/60", "0/60", "0", "10/0", "2/nan", "2/inf", "2/-inf", "", "/60"])
def test_bad_rates(text):
    with pytest.raises(ConfigError):
        parse_rate(text)


def test_a_rate_of_one_request_is_allowed():
    assert parse_rate("1/60") == (1, 60.0) and parse_rate("95/0.5") == (95, 0.5)


def test_config_show_masks_the_token(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_TOKEN", "sandbox_0123456789abcdef")
    (tmp_path / "register-batch.toml").write_text('target = "https://example.test"\n')
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0
    shown = json.loads(result.output)
    assert shown["settings"]["target"] == "https://example.test"
    assert shown["sources"]["token"] == "$REGISTER_API_TOKEN"
    assert "0123456789abcdef" not in result.output


def test_config_show_masks_a_password_in_the_target_and_names_problems(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").write_text('target = "https://user:SEKRET1@example.test"\nrate = "95/0"\n')
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and "SEKRET1" not in result.output and "user:" not in result.output
        assert "https://****@example.test" in result.output
    problems = json.loads(result.output)["problems"]
    assert problems["rate"].endswith("(set by register-batch.toml)") and "95/0" in problems["rate"]
    assert "user name or password" in problems["target"]


def test_config_show_names_a_token_with_no_target_as_sync_refuses_it(tmp_path, monkeypatch):
    """review148 F2: sync and export refuse a token with no target; `config show`, the command to find out why a
    command refuses its settings, showed none (exit 0 and no problem)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_TOKEN", "sandbox_0123456789abcdef")
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0 and "0123456789abcdef" not in result.output
    said = json.loads(result.output)["problems"]["token"]
    assert said.startswith("a token for Register is set ($REGISTER_API_TOKEN), but no target is set"), said
    assert said.endswith("unset REGISTER_API_TOKEN to use the embedded emulator"), said
    refused = CliRunner().invoke(cli, ["-q", "export", "--to", "jsonl", "-o", "held.jsonl"])
    assert refused.exit_code == 2 and refused.stderr.splitlines()[-1] == f"register-batch: error: {said}"
    monkeypatch.setenv("REGISTER_API_URL", "https://register.example")
    assert "token" not in json.loads(CliRunner().invoke(cli, ["config", "show", "--json"]).output)["problems"]


def test_the_token_check_reads_the_environment_the_settings_were_loaded_from(tmp_path, monkeypatch):
    """review149 F3: Settings.problems looked at os.environ for a token, not at the environment given to
    load_settings: a caller's `environ={}` was told of a token only its shell had."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_TOKEN", "sandbox_0123456789abcdef")
    assert "token" not in load_settings(environ={}).problems()
    assert "token" in load_settings(environ={"REGISTER_API_TOKEN": "x"}).problems()
    assert "token" not in load_settings(environ={"REGISTER_API_TOKEN": " "}).problems()


PASTED_TOKEN = "sandbox_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


def test_a_token_pasted_as_the_target_is_never_shown_nor_a_folder_name(tmp_path, monkeypatch):
    """A token pasted into REGISTER_API_URL (or `target`, `--target`) in place of REGISTER_API_TOKEN was echoed by
    `config show`, by every command's refusal, and named the default state dir's folder."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_URL", PASTED_TOKEN)
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and "0123456789abcdef" not in result.output
        assert "72 characters that look like an API token: not shown" in result.output
    assert ".register-batch/target" in CliRunner().invoke(cli, ["config", "show"]).output
    monkeypatch.delenv("REGISTER_API_URL")
    for command in (["sync", "in.xml"], ["export", "--to", "json", "-o", "out.json"]):
        (tmp_path / "in.xml").write_text("<ITTRecord/>")
        result = CliRunner().invoke(cli, [*command, "--target", PASTED_TOKEN])
        assert result.exit_code == 2
        assert "0123456789abcdef" not in result.output
        assert (
            "the target looks like an API token (72 characters; not shown): a token goes in REGISTER_API_TOKEN or a "
            "--token-file, and the target is sandbox, production or the service's URL"
        ) in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.xml"]
    from register_batch.api import InsecureTarget, RegisterClient

    with pytest.raises(InsecureTarget) as caught:  # a library caller gives the token as an argument
        RegisterClient(PASTED_TOKEN, None)
    assert str(caught.value) == (
        "the target looks like an API token (72 characters; not shown): a token goes in the token argument, and the "
        "target is sandbox, production or the service's URL"
    )


def test_a_token_pasted_as_the_token_files_name_is_never_shown(tmp_path, monkeypatch):
    """A token pasted where the token file's name goes (--token-file, REGISTER_API_TOKEN_FILE, token_file) was echoed
    whole by sync's and export's refusal, "cannot read the token file", and twice by `config show`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    (tmp_path / "in.xml").write_text("<ITTRecord/>")
    refusal = (
        "the token file's name looks like an API token (72 characters; not shown), and no file of that name is "
        "there: give the name of a file holding the token, or the token in REGISTER_API_TOKEN"
    )
    for command in (["sync", "in.xml"], ["export", "--to", "json", "-o", "out.json"]):
        result = CliRunner().invoke(cli, [*command, "--target", "http://127.0.0.1:9", "--token-file", PASTED_TOKEN])
        assert result.exit_code == 2 and "0123456789abcdef" not in result.output
        assert refusal in result.output
    monkeypatch.setenv("REGISTER_API_TOKEN_FILE", PASTED_TOKEN)
    for args in (["config", "show"], ["config", "show", "--json"]):
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0 and "0123456789abcdef" not in result.output
        assert "72 characters that look like an API token: not shown" in result.output
    monkeypatch.delenv("REGISTER_API_TOKEN_FILE")
    (tmp_path / "register-batch.toml").write_text(f'[register-batch]\ntoken_file = "{PASTED_TOKEN}"\n')
    result = CliRunner().invoke(cli, ["export", "--to", "json", "-o", "out.json", "--target", "http://127.0.0.1:9"])
    assert result.exit_code == 2 and "0123456789abcdef" not in result.output and refusal in result.output
    assert "0123456789abcdef" not in CliRunner().invoke(cli, ["config", "show"]).output
    # A file of that name that is there is read, and named with its token-shaped name masked (review226 F1).
    (tmp_path / PASTED_TOKEN).write_text(PASTED_TOKEN)
    result = CliRunner().invoke(cli, ["config", "show"])
    assert "0123456789abcdef" not in result.output and "******** (set)" in result.output
    assert "(********)" in result.output, result.output
    for named in (
        "register_trainee_teachers_api_token",  # a long name without a token's digits: named, as missing
        "/run/secrets/register_api_token_production_20261201",  # a dated secret never mounted, shorter than a token
    ):
        result = CliRunner().invoke(cli, ["sync", "in.xml", "--target", "http://127.0.0.1:9", "--token-file", named])
        assert result.exit_code == 2 and f"{named}: cannot read the token file" in result.output


@pytest.mark.parametrize(
    "target,shown",
    [
        (PASTED_TOKEN[:48], False),  # as short as a pasted token is taken to be: not shown
        (PASTED_TOKEN[:47], True),  # shorter than any token
        ("123e4567e89b12d3a456426614174000", True),  # a UUID without its hyphens: shown
        ("register_api_token_production_20261201", True),  # a dated name: shown
        ("register-staging-server-eu-west", True),  # 31 characters: a host's name, shown
        ("register-trainee-teachers-staging.example.org", True),  # longer, but a dot says it is a host name
        ("register-trainee-teachers-emulator:8080", True),  # no dot, but no token's digits: a host and its port
        ("register-api-1234567890.eu-west-2.elb.amazonaws.com", True),  # a load balancer's: digits, but dots
        ("register-trainee-teachers-1234567", True),  # 33 characters with 7 digits: fewer than any token has
        ("register-sandbox-123e4567-e89b-12d3-a456-426614174000", True),  # 53, but hyphens part a UUID's words
        ("registertraineeteachers20261201.uksouth.cloudapp.azure.com", True),  # 58 with 8 digits, but dots part it
        ("sandbox_" + "ab" * 16 + "12345678", False),  # 8 digits: as few as a token is taken to have
        (PASTED_TOKEN[:64] + ".", False),  # a sentence's full stop after it: a token still, not a host name
    ],
)
def test_a_target_is_named_in_its_refusal_unless_it_may_be_a_pasted_token(tmp_path, monkeypatch, target, shown):
    """A host name without its https:// is refused naming it, so that the user sees what to put right; a value that
    may be a token is not repeated, in the refusal, `config show` or the state dir's folder name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.xml").write_text("<ITTRecord/>")
    result = CliRunner().invoke(cli, ["sync", "in.xml", "--target", target])
    assert result.exit_code == 2
    assert (f"target '{target}' is not sandbox, production or an http(s) URL" in result.output) is shown
    assert (f"the target looks like an API token ({len(target)} characters; not shown)" in result.output) is not shown
    monkeypatch.setenv("REGISTER_API_URL", target)
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert (target in result.output) is shown
    assert json.loads(result.output)["settings"]["state_dir"] == str(
        Path(".register-batch", target.replace(":", "-") if shown else "target")
    )


@pytest.mark.parametrize(
    "target,why",
    [
        ("https://register.example x", "holds a space, tab, line break or other control character"),
        ("https://register.example\x00", "holds a space, tab, line break or other control character"),
        ("https://register.example\x7f", "holds a space, tab, line break or other control character"),
        ("https://sandbox..register-trainee-teachers.service.gov.uk", "a part of its host name between dots is empty"),
        ("https://.register.example", "a part of its host name between dots is empty"),
        ("https://" + "x" * 64 + ".example", "a part of its host name between dots is empty or longer than 63"),
        ("https://sandbox.register-trainee-teachers.service.gov.uk\u200b", "its host name holds a character no host"),
        ("https://\u2603.example", "its host name holds a character no host"),
        ("https://xn--.example", "its host name holds a character no host"),
    ],
    ids=[
        "a space in it",
        "a NUL in it",
        "a DEL in it",
        "two dots",
        "a dot first",
        "a 64-character label",
        "a zero-width space ending it",
        "a snowman in its host",
        "an empty punycode label",
    ],
)
def test_a_target_no_request_could_go_to_is_refused_in_one_line(tmp_path, monkeypatch, target, why):
    """Each was taken, then failed at the first request: an internal error (exit 70) at the name's lookup, or a
    connection error retried until Register was said to be unavailable (exit 1), for a typo."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.xml").write_text("<ITTRecord/>")
    for command in (["sync", "in.xml"], ["export", "--to", "json", "-o", "out.json"]):
        result = CliRunner().invoke(cli, [*command, "--target", target], env={"REGISTER_API_TOKEN": "made-up-token-1"})
        assert result.exit_code == 2, result.output
        [line] = result.output.splitlines()
        assert line.startswith("register-batch: error: target ") and why in line, line
    assert not (tmp_path / ".register-batch").exists() and not (tmp_path / "out.json").exists()


def test_a_target_ending_in_a_line_break_is_taken_without_it(tmp_path, monkeypatch):
    """A docker --env-file with CRLF line ends gives REGISTER_API_URL=https://...\\r: an internal error (exit 70) at
    the first request. Taken as the URL without it, as the token and the UKPRN are; a library caller giving one is
    refused in one line."""
    from register_batch.api import InsecureTarget, RegisterClient

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_URL", "https://register.example\r")
    shown = json.loads(CliRunner().invoke(cli, ["config", "show", "--json"]).output)
    assert shown["settings"]["target"] == "https://register.example" and not shown["problems"]
    with pytest.raises(InsecureTarget, match=r"^target 'https://register.example\\r' holds a space, tab, line break"):
        RegisterClient("https://register.example\r", "made-up-token-1")


@pytest.mark.parametrize(
    "given", [" https://register.example", "https://register.example \t", "\thttps://register.example"]
)
def test_a_target_pasted_with_spaces_or_a_tab_around_it_is_taken_without_them(tmp_path, monkeypatch, given):
    """A URL copied from a document or a table cell, with the blank around it: taken as the URL, as the token and the
    UKPRN are, not refused for a space no one sees."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_URL", given)
    shown = json.loads(CliRunner().invoke(cli, ["config", "show", "--json"]).output)
    assert shown["settings"]["target"] == "https://register.example" and not shown["problems"]


@pytest.mark.parametrize(
    "env,named",
    [({"REGISTER_BATCH_RATE": "fast"}, "$REGISTER_BATCH_RATE"), ({"REGISTER_API_URL": "sandbx"}, "$REGISTER_API_URL")],
)
def test_a_bad_setting_is_refused_before_anything_runs_naming_where_it_was_set(tmp_path, monkeypatch, env, named):
    monkeypatch.chdir(tmp_path)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    for command in (["sync", "in.xml"], ["export", "--to", "json", "-o", "out.json"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, result.output
        assert f"(set by {named})" in result.output


def test_validate_checking_its_ukprn_does_not_load_the_http_client(tmp_path):
    """`validate --ukprn` checks the setting only: the check of `target` and its import of httpx (about 9 MB and
    0.15 s at every start) are for the commands that talk to Register."""
    import subprocess
    import sys

    sample = Path(__file__).parent / "fixtures" / "register_csv" / "five_trainees.csv"
    script = (
        "import sys\n"
        "from register_batch import cli\n"
        "sys.argv = ['register-batch', 'validate', sys.argv[1], '--ukprn', '10052198', '--report-dir', sys.argv[2]]\n"
        "try:\n"
        "    cli.main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m == 'httpx' or m.startswith('register_batch.api')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(sample), str(tmp_path / "reports")], capture_output=True, text=True
    )
    assert done.stdout.strip().splitlines()[-1] == "[]", (done.stdout, done.stderr)


def test_a_setting_is_refused_only_by_the_commands_that_use_it():
    settings = load_settings({"target": "nowhere", "ukprn": "10052198"}, environ={})
    assert set(settings.problems()) == {"target"}  # `config` shows every problem
    settings.check("ukprn", "rate")  # validate's and convert's settings are fine
    with pytest.raises(ConfigError, match="nowhere"):
        settings.check("target")


def test_a_config_file_that_is_not_utf8_is_refused_naming_the_file(tmp_path):
    """A register-batch.toml saved as Windows-1252 (an é in a path) was an `internal error` (exit 70)."""
    config = tmp_path / "register-batch.toml"
    config.write_bytes('report_dir = "rapports/café"\n'.encode("cp1252"))
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=config)
    assert str(caught.value) == f"{config}: not UTF-8 text; save the config file as UTF-8"


@pytest.mark.parametrize("value", ["[" * 600 + "]" * 600, "{a = " * 600 + "1" + "}" * 600], ids=["arrays", "tables"])
def test_a_config_file_nested_past_pythons_recursion_limit_is_refused_naming_the_file(tmp_path, value):
    """tomllib parses nested arrays and inline tables recursively: a few hundred levels were an `internal error`
    (RecursionError, exit 70) on every command, `config show` included."""
    config = tmp_path / "register-batch.toml"
    config.write_text(f"mappings = {value}\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(config_file=config)
    assert str(caught.value) == f"{config}: not valid TOML (arrays or tables nested too deeply)"
    result = CliRunner().invoke(cli, ["--config", str(config), "config", "show"])
    assert result.exit_code == 2 and "nested too deeply" in result.stderr and "Traceback" not in result.output


def test_a_config_file_saved_as_utf8_with_a_byte_order_mark_is_read(tmp_path):
    """Notepad's "UTF-8 with BOM" is UTF-8: refused as "not valid TOML (Invalid statement (at line 1, column 1))", it
    pointed at nothing anyone can see in the file. A mapping file with one is read already (YAML allows it)."""
    config = tmp_path / "register-batch.toml"
    config.write_bytes(b"\xef\xbb\xbf" + 'report_dir = "rapports/caf\xc3\xa9"\n'.encode("latin-1"))
    assert load_settings(config_file=config).report_dir == tmp_path / "rapports" / "café"


@pytest.mark.parametrize(
    "line,message",
    [
        ("target = 5", 'target must be text in quotes (target = "..."), not a number (5)'),
        ("target = true", 'target must be text in quotes (target = "..."), not true or false (true)'),
        ("state_dir = 5.5", 'state_dir must be text in quotes (state_dir = "..."), not a number (5.5)'),
        ("state_dir = []", 'state_dir must be text in quotes (state_dir = "..."), not an empty list'),
        ('report_dir = {a = "b"}', 'report_dir must be text in quotes (report_dir = "..."), not a table'),
        (
            "report_dir = 2026-11-30",
            'report_dir must be text in quotes (report_dir = "..."), not a date or time (2026-11-30)',
        ),
        (
            'token_file = ["token"]',
            'token_file must be text in quotes (token_file = "..."), not a list holding something else',
        ),
        (
            "mappings = 5",
            'mappings must be a file name or a list of them, in quotes (mappings = ["ours.yaml"]), not a number (5)',
        ),
        (
            'mappings = ["ours.yaml", 1]',
            "mappings must be a file name or a list of them, in quotes "
            '(mappings = ["ours.yaml"]), not a list holding something else',
        ),
        # Empty (a template's variable left undefined): the ledger, or the reports, went into this file's folder.
        (
            'state_dir = ""',
            'state_dir is empty: name a folder (state_dir = "..."), or leave the line out for the default',
        ),
        (
            'report_dir = " "',
            'report_dir is empty: name a folder (report_dir = "..."), or leave the line out for the default',
        ),
        # A nightly job's undefined variable: it synced into the embedded emulator, exit 0 (config show showed it)
        (
            'target = ""',
            'target is empty: name the service (target = "sandbox", "production" or its URL), or leave the line out '
            "for the embedded emulator",
        ),
        (
            'targt = "sandbox"',
            "unknown setting(s) targt; known: api_version, mappings, rate, report_dir, require_ukprn, state_dir, "
            "target, token_file, ukprn",
        ),
    ],
)
def test_a_setting_of_the_wrong_type_or_name_is_refused_naming_the_file_and_key(tmp_path, monkeypatch, line, message):
    """`state_dir = 5` (quotes left out) was an `internal error (TypeError: ...)`, exit 70, from every command. The
    message says what was found, so that the user sees what to change."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").write_text(line + "\n")
    for command in (["config", "show"], ["mappings", "check"], ["reference", "show"]):
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 2, result.output
        assert result.output == f"register-batch: error: register-batch.toml: {message}\n"


def test_a_number_where_text_is_usual_is_still_read_for_rate_ukprn_and_api_version(tmp_path):
    config = tmp_path / "register-batch.toml"
    config.write_text("ukprn = 10052198\nrate = 95\napi_version = 2026\n")
    settings = load_settings(environ={}, config_file=config)
    assert settings.ukprn == "10052198"
    assert set(settings.problems()) == {"api_version"}  # shown by `config show`, refused where used
    assert parse_rate(settings.rate) == (95, 60.0)  # 95 a minute, as `emulator --rate-limit 95` (review156 F6)


@pytest.mark.parametrize(
    "text",
    [
        'target = "sandbox"\n[register-batch]\nrate = "45/60"\n',
        'state_dir = "s"\nowner = "data team"\n[register-batch]\nrate = "45/60"\n[other-tool]\nx = 1\n',
    ],
)
def test_settings_outside_the_register_batch_table_are_refused_not_ignored(tmp_path, text):
    """With a `[register-batch]` table, a `target` above it was read by no one: the run went to the embedded
    emulator without a word about the line the user wrote."""
    config = tmp_path / "register-batch.toml"
    config.write_text(text)
    with pytest.raises(ConfigError, match=r"outside the \[register-batch\] table"):
        load_settings(environ={}, config_file=config)


@pytest.mark.parametrize(
    "text",
    [
        '# our SRS jobs\n[register-batch]\ntarget = "sandbox"\n\n[srs-export]\nfolder = "out"\n',
        'owner = "data team"\n[register-batch]\ntarget = "sandbox"\n[tool.other]\nrate = 5\n',
    ],
)
def test_another_tools_tables_and_keys_beside_the_register_batch_table_are_left_alone(tmp_path, text):
    """What a `[register-batch]` table is for: a settings file shared with other jobs. Only register-batch's own
    settings outside it are refused (they would be read by no one); earlier versions read such files."""
    config = tmp_path / "register-batch.toml"
    config.write_text(text)
    settings = load_settings(environ={}, config_file=config)
    assert settings.target == "sandbox" and settings.rate == "95/60"


def test_a_register_batch_key_that_is_not_a_table_is_refused(tmp_path):
    config = tmp_path / "register-batch.toml"
    config.write_text('"register-batch" = 5\n')
    with pytest.raises(ConfigError, match=r"\[register-batch\] must be a table"):
        load_settings(environ={}, config_file=config)


def test_config_show_names_an_api_version_every_command_would_refuse(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_BATCH_API_VERSION", "v2025.0")
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0
    assert (
        "Problem: api_version: API version 'v2025.0' is not supported; supported: v2026.1 "
        "(set by $REGISTER_BATCH_API_VERSION)" in result.output
    )


def test_config_show_names_the_environment_variable_of_a_token_it_cannot_use(tmp_path, monkeypatch):
    """A token pasted with its quotes into REGISTER_API_TOKEN: the value said `REGISTER_API_TOKEN: ...`, the source
    column `(none)`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_TOKEN", '"sandbox_0123456789abcdef"')
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0 and "0123456789abcdef" not in result.output
    shown = json.loads(result.output)
    assert shown["settings"]["token"].startswith("(unreadable: REGISTER_API_TOKEN: the API token holds characters")
    assert shown["sources"]["token"] == "$REGISTER_API_TOKEN"


@pytest.mark.parametrize(
    "key,variable",
    [
        ("target", "REGISTER_API_URL"),
        ("rate", "REGISTER_BATCH_RATE"),
        ("state_dir", "REGISTER_BATCH_STATE_DIR"),
        ("report_dir", "REGISTER_BATCH_REPORT_DIR"),
        ("api_version", "REGISTER_BATCH_API_VERSION"),
        ("token_file", "REGISTER_API_TOKEN_FILE"),
        ("ukprn", "REGISTER_BATCH_UKPRN"),
    ],
)
def test_each_setting_is_its_option_else_its_environment_variable_else_the_files(tmp_path, key, variable):
    config = tmp_path / "register-batch.toml"
    config.write_text(f'{key} = "from-file"\n')
    from_file = tmp_path / "from-file" if key.endswith(("_dir", "_file")) else "from-file"  # relative to the file
    for options, environ, value, source in [
        ({}, {}, from_file, str(config)),
        ({}, {variable: "from-env"}, "from-env", f"${variable}"),
        ({key: "from-option"}, {variable: "from-env"}, "from-option", "command line"),
    ]:
        settings = load_settings(options, environ=environ, config_file=config)
        assert (str(getattr(settings, key)), settings.sources[key]) == (str(value), source)


def test_a_token_file_named_on_the_command_line_or_in_the_environment_beats_register_api_token(tmp_path):
    """Only the config file's token_file gives way to $REGISTER_API_TOKEN (environment before file)."""
    from register_batch.config import token_file_to_use

    config = tmp_path / "register-batch.toml"
    config.write_text('target = "sandbox"\n')
    environ = {"REGISTER_API_TOKEN": "sandbox_0123", "REGISTER_API_TOKEN_FILE": "env-token"}
    assert token_file_to_use(load_settings(environ=environ, config_file=config), environ) == Path("env-token")
    settings = load_settings({"token_file": "my-token"}, environ=environ, config_file=config)
    assert token_file_to_use(settings, environ) == Path("my-token")


def test_config_show_takes_register_api_token_before_the_config_files_token_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").write_text('token_file = "no-such-token"\n')
    monkeypatch.setenv("REGISTER_API_TOKEN", "sandbox_0123456789abcdef")
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0 and "0123456789abcdef" not in result.output
    shown = json.loads(result.output)
    assert (shown["settings"]["token"], shown["sources"]["token"]) == ("******** (set)", "$REGISTER_API_TOKEN")


def test_one_mapping_file_in_the_config_file_may_be_given_without_a_list(tmp_path):
    config = tmp_path / "register-batch.toml"
    config.write_text('mappings = "ours.yaml"\n')
    assert load_settings(environ={}, config_file=config).mappings == [tmp_path / "ours.yaml"]
    config.write_text('mappings = ""\n')  # none
    assert load_settings(environ={}, config_file=config).mappings == []


@pytest.mark.parametrize(
    "target,shown",
    [
        ("https://user@example.test/", "https://****@example.test/"),  # a user name alone is masked too
        ("https://:SEKRET1@example.test", "https://****@example.test"),
        ("https//user:SEKRET1@example.test", "****@example.test"),  # a colon left out: not a URL, but masked
        ("https://user:SEKRET1@[::1", "****@[::1"),  # not a URL at all
        ("https://user:SEK@RET1@example.test", "https://****@example.test"),  # an @ in the password
    ],
)
def test_config_show_masks_whatever_precedes_an_at_in_the_target(tmp_path, monkeypatch, target, shown):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_URL", target)
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0 and "SEKRET1" not in result.output
    assert "user@" not in result.output and "user:" not in result.output
    assert json.loads(result.output)["settings"]["target"] == shown


def test_a_bad_option_is_refused_naming_the_option(tmp_path, monkeypatch):
    """What a person looks for in a cron line or a unit file: `--rate`, not `command line`."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_BATCH_RATE", "95/60")
    (tmp_path / "in.xml").write_text("<ITTRecord/>")
    result = CliRunner().invoke(cli, ["sync", "in.xml", "--rate", "fast"])
    assert result.exit_code == 2
    assert "rate 'fast' is not N/SECONDS, e.g. 95/60 (set by --rate)" in result.output


def _no_settings_in_the_environment(monkeypatch):
    from register_batch.config import ENVIRONMENT

    for variable in (*ENVIRONMENT.values(), "REGISTER_API_TOKEN", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(variable, raising=False)


def test_config_show_with_nothing_set_shows_each_default_and_no_token(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _no_settings_in_the_environment(monkeypatch)
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0
    shown = [
        ("target", "embedded emulator"),
        ("rate", "95/60"),
        ("state_dir", str(Path(".register-batch", "embedded-emulator"))),
        ("report_dir", "register-batch-reports"),
        ("api_version", "v2026.1"),
        ("token_file", "(none)"),
        ("mappings", "(none)"),
        ("ukprn", "(none)"),
        ("require_ukprn", "false"),
    ]
    assert result.output.splitlines() == [
        "Config file: (none: ./register-batch.toml not found)",
        *(f"  {key:13} {value:40} (default)" for key, value in shown),
        f"  {'token':13} {'(not set)':40} (none)",
    ]
    as_json = json.loads(CliRunner().invoke(cli, ["config", "show", "--json"]).output)
    assert as_json["settings"]["token"] == "(not set)" and as_json["sources"]["token"] == "none"
    assert as_json["config_file"] is None and as_json["problems"] == {}


def test_config_show_lists_the_mapping_files_in_the_order_they_apply(tmp_path, monkeypatch):
    """They were printed as a Python list, `['a.yaml', 'b.yaml']`."""
    monkeypatch.chdir(tmp_path)
    _no_settings_in_the_environment(monkeypatch)
    (tmp_path / "register-batch.toml").write_text('[register-batch]\nmappings = ["a.yaml", "b.yaml"]\n')
    result = CliRunner().invoke(cli, ["config", "show"])
    [row] = [line for line in result.output.splitlines() if line.startswith("  mappings")]
    assert row == f"  {'mappings':13} {'a.yaml, b.yaml':40} (register-batch.toml)"


def test_config_show_says_a_token_files_token_is_set_and_names_the_file_not_the_token(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _no_settings_in_the_environment(monkeypatch)
    token_file = tmp_path / "token"
    token_file.write_text("sandbox_0123456789abcdef\n")
    token_file.chmod(0o600)
    (tmp_path / "register-batch.toml").write_text('rate = "50/60"\n')
    monkeypatch.setenv("REGISTER_API_TOKEN_FILE", str(token_file))
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0 and "0123456789abcdef" not in result.output
    lines = result.output.splitlines()
    assert lines[0] == "Config file: register-batch.toml"
    assert f"  {'rate':13} {'50/60':40} (register-batch.toml)" in lines
    assert f"  {'token':13} {'******** (set)':40} ({token_file})" in lines
    assert f"  {'token_file':13} {token_file!s:40} ($REGISTER_API_TOKEN_FILE)" in lines
    as_json = json.loads(CliRunner().invoke(cli, ["config", "show", "--json"]).output)
    assert as_json["config_file"] == "register-batch.toml"
    assert (as_json["settings"]["token"], as_json["sources"]["token"]) == ("******** (set)", str(token_file))
    token_file.write_text("sandbox_0123456789abcdef again\n")  # a token no header can carry: shown as unreadable
    as_json = json.loads(CliRunner().invoke(cli, ["config", "show", "--json"]).output)
    assert as_json["settings"]["token"].startswith(f"(unreadable: {token_file}: the API token holds characters")
    assert "0123456789abcdef" not in json.dumps(as_json)


def test_mapping_options_add_to_the_config_files_mappings_and_the_source_says_both(tmp_path):
    config = tmp_path / "register-batch.toml"
    config.write_text('mappings = ["a.yaml"]\n')
    settings = load_settings({"mappings": ["b.yaml"]}, environ={}, config_file=config)
    assert settings.mappings == [tmp_path / "a.yaml", Path("b.yaml")]
    assert settings.sources["mappings"] == f"{config} + command line"
    config.write_text('rate = "50/60"\n')
    settings = load_settings({"mappings": ["b.yaml"]}, environ={}, config_file=config)
    assert (settings.mappings, settings.sources["mappings"]) == ([Path("b.yaml")], "command line")


def test_a_bad_ukprn_is_refused_where_it_is_checked_naming_where_it_was_set(tmp_path):
    settings = load_settings(environ={"REGISTER_BATCH_UKPRN": "1005219"}, config_file=None)
    assert settings.problems("ukprn")["ukprn"].endswith("(set by $REGISTER_BATCH_UKPRN)")
    with pytest.raises(ConfigError, match="1005219"):
        settings.check("ukprn")


def test_register_batch_config_names_the_config_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = tmp_path / "elsewhere" / "jobs.toml"
    config.parent.mkdir()
    config.write_text('rate = "50/60"\n')
    (tmp_path / "register-batch.toml").write_text('rate = "10/60"\n')  # not read: the variable names another
    settings = load_settings(environ={"REGISTER_BATCH_CONFIG": str(config)})
    assert (settings.config_file, settings.rate, settings.sources["rate"]) == (config, "50/60", str(config))
    assert load_settings(environ={"REGISTER_BATCH_CONFIG": ""}).rate == "10/60"  # empty: ./register-batch.toml


def test_a_config_file_that_cannot_be_read_is_one_line_naming_it_and_why(tmp_path):
    missing = tmp_path / "no-such.toml"
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, config_file=missing)
    assert str(caught.value) == f"{missing}: cannot read the config file (No such file or directory)"
    result = CliRunner().invoke(cli, ["--config", str(missing), "config", "show"])
    assert result.exit_code == 2 and result.stderr == f"register-batch: error: {caught.value}\n"


def test_a_settings_file_named_with_config_that_has_gone_stops_a_sync_before_the_embedded_emulator(
    tmp_path, monkeypatch
):
    """nightly-sync.md's cron line and unit name the settings file with --config, so that a job whose file went
    missing stops with exit 2, instead of finding no target and syncing into the embedded emulator with exit 0."""
    here = tmp_path / "job"
    here.mkdir()
    monkeypatch.chdir(here)
    missing = tmp_path / "register-batch.toml"
    extract = Path(__file__).parent.parent / "samples" / "extract.xml"
    result = CliRunner().invoke(cli, ["--config", str(missing), "sync", str(extract)])
    assert (result.exit_code, result.output) == (
        2,
        f"register-batch: error: {missing}: cannot read the config file (No such file or directory)\n",
    )
    assert list(here.iterdir()) == []  # no state dir, no embedded emulator's data, no report


def test_an_empty_ukprn_in_the_config_file_is_refused_not_taken_as_no_ukprn(tmp_path):
    """review173: it switched off the check that holds back another provider's records, as `--ukprn ""` would."""
    config = tmp_path / "register-batch.toml"
    config.write_text('ukprn = ""\n')
    settings = load_settings(environ={}, config_file=config)
    assert settings.ukprn == "" and list(settings.problems()) == ["ukprn"]
    assert load_settings({"ukprn": "10052198"}, environ={}, config_file=config).problems() == {}  # --ukprn wins


def test_a_config_file_that_is_not_toml_is_one_line_naming_it(tmp_path):
    config = tmp_path / "register-batch.toml"
    config.write_text("target = sandbox\n")  # quotes left out
    with pytest.raises(ConfigError) as caught:
        load_settings(environ={}, config_file=config)
    assert str(caught.value).startswith(f"{config}: not valid TOML (") and "line 1" in str(caught.value)


def test_a_missing_token_file_whose_name_has_spaces_is_named_unless_one_word_of_it_is_a_token(tmp_path):
    """Digits are counted in the word that looks like a token: a name of several words whose digits add up (a UKPRN
    beside a long word) is a file's name, shown as any other."""
    from register_batch.tokens import pasted_token_file

    named = tmp_path / "10052198 register_api_token_for_the_sandbox_provider"
    assert pasted_token_file(named) is None
    pasted = tmp_path / ("Bearer sandbox_" + "7c" * 32)
    assert pasted_token_file(pasted) == len(pasted.name)


@pytest.mark.parametrize("given", ["--target", "REGISTER_API_URL"])
def test_an_empty_target_on_the_command_line_or_in_the_environment_is_refused(tmp_path, monkeypatch, given):
    """`--target "$TARGET"` or `REGISTER_API_URL=$TARGET` with the variable unset: a nightly job synced into the
    embedded emulator and exited 0, as `target = ""` in the settings file did. Refused naming where it was set;
    commands that need no target (validate) are not held up by it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in.xml").write_text("<ITTRecord/>")
    options = []
    if given == "--target":
        options = ["--target", ""]
    else:
        monkeypatch.setenv("REGISTER_API_URL", "")
    for command in (["sync", "in.xml"], ["export", "--to", "json", "-o", "out.json"], ["reference", "pull"]):
        result = CliRunner().invoke(cli, [*command, *options])
        assert result.exit_code == 2, result.output
        assert result.output.startswith("register-batch: error: target is empty: name the service"), result.output
        assert f"(set by {'--target' if options else '$REGISTER_API_URL'})" in result.output
    assert not (tmp_path / ".register-batch").exists() and not (tmp_path / "out.json").exists()
    if not options:
        shown = CliRunner().invoke(cli, ["config", "show"])
        assert (
            f"  target        {'(empty)':40} ($REGISTER_API_URL)\n" in shown.output
            and "Problem: target" in shown.output
        )


@pytest.mark.parametrize("blank", ["", "  "])
def test_an_empty_ukprn_option_is_refused_not_taken_over_the_ukprn_set_elsewhere(tmp_path, monkeypatch, blank):
    """`--ukprn "$UKPRN"` with the variable unset switched off the settings file's (or $REGISTER_BATCH_UKPRN's)
    `ukprn`, the guard that holds back another provider's records: `validate` said "12 valid" of records the
    settings' provider does not own, and a sync wrote one into the wrong account (review111 F2). Refused in one line,
    as an empty --target is, before anything is read or started."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_BATCH_UKPRN", raising=False)
    (tmp_path / "register-batch.toml").write_text('ukprn = "10000001"\n')
    sample = str(Path(__file__).parent.parent / "samples" / "extract.xml")
    for command in (
        ["validate", sample, "--report-dir", "reports"],
        ["convert", sample, "--to", "jsonl", "-o", "out.jsonl"],
        ["sync", sample, "--state-dir", "state", "--report-dir", "reports"],
        ["export", "--to", "json", "-o", "out.json", "--state-dir", "state"],
    ):
        result = CliRunner().invoke(cli, [*command, "--ukprn", blank])
        assert result.exit_code == 2, result.output
        assert result.output.splitlines() == [
            f"register-batch: error: ukprn is empty: give the UKPRN of {UKPRN_OF[command[0]]} (8 digits "
            "starting with 1), or leave the option out for the one set elsewhere ($REGISTER_BATCH_UKPRN, then the "
            "settings file) (set by --ukprn)"
        ], command
    assert sorted(p.name for p in tmp_path.iterdir()) == ["register-batch.toml"]  # no report, output or state dir
    # Left out, the settings file's applies: the sample's records are another provider's.
    result = CliRunner().invoke(cli, ["-q", "validate", sample, "--report-dir", "reports"])
    assert result.exit_code == 1 and "other_provider_record" in (tmp_path / "reports" / "issues.csv").read_text()


@pytest.mark.parametrize(
    "key,variable",
    [
        ("state_dir", "REGISTER_BATCH_STATE_DIR"),
        ("report_dir", "REGISTER_BATCH_REPORT_DIR"),
        ("ukprn", "REGISTER_BATCH_UKPRN"),
        ("rate", "REGISTER_BATCH_RATE"),
        ("api_version", "REGISTER_BATCH_API_VERSION"),
        ("token_file", "REGISTER_API_TOKEN_FILE"),
    ],
)
def test_a_blank_environment_variable_counts_as_not_set(tmp_path, key, variable):
    """REGISTER_BATCH_STATE_DIR="  " was a folder named by two spaces, where the ledger and the embedded emulator's
    data went unseen; REGISTER_BATCH_UKPRN=" " switched off the settings file's `ukprn` (review111 F6, F2). A blank
    variable is none given, as an empty one is: the settings file's value applies."""
    config = tmp_path / "register-batch.toml"
    value = "10052198" if key == "ukprn" else "7/60" if key == "rate" else "v2026.1" if key == "api_version" else "x"
    config.write_text(f'{key} = "{value}"\n')
    for blank in ("", "  ", "\t", "\r\n"):
        settings = load_settings(environ={variable: blank}, config_file=config)
        assert settings.sources[key] == str(config), repr(blank)
        shown = tmp_path / value if key.endswith(("_dir", "_file")) else value
        assert str(getattr(settings, key)) == str(shown) and settings.problems("ukprn") == {}


def test_a_blank_register_batch_config_counts_as_not_set(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").write_text('rate = "7/60"\n')
    settings = load_settings(environ={"REGISTER_BATCH_CONFIG": "  "})
    assert settings.config_file == Path("register-batch.toml") and settings.rate == "7/60"


_NOT_ROOT = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0, reason="giving a file to another user needs root (CI runs as root)"
)


@_NOT_ROOT
def test_a_settings_file_in_the_current_folder_that_another_user_owns_is_not_read(tmp_path, monkeypatch):
    """In a shared folder, another user's register-batch.toml chose the service the token was sent to: its target
    took this user's token elsewhere, unasked. Named with --config, it is read."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_TOKEN", "sandbox_0123456789abcdef")
    planted = tmp_path / "register-batch.toml"
    planted.write_text('target = "https://collector.example.test"\n')
    os.chown(planted, 54321, 54321)
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 2
    [line] = result.output.splitlines()
    assert line == (
        "register-batch: error: register-batch.toml in the current folder belongs to another user (uid 54321): not "
        "read, as its settings could send your API token to another service; give --config register-batch.toml to "
        "read it"
    )
    named = CliRunner().invoke(cli, ["--config", "register-batch.toml", "config", "show", "--json"])
    assert named.exit_code == 0 and json.loads(named.output)["settings"]["target"] == "https://collector.example.test"


@_NOT_ROOT
def test_a_settings_file_root_owns_in_the_current_folder_is_read(tmp_path, monkeypatch):
    """One put in place by the machine's administrator (configuration management) is trusted, as root's files are."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").write_text('target = "sandbox"\n')
    os.chown(tmp_path / "register-batch.toml", 0, 0)
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["settings"]["target"] == "sandbox"


def _settings_any_user_may_change(folder: Path, monkeypatch) -> Path:
    """./register-batch.toml in `folder` (made the current one), naming the sandbox, writable by any user."""
    monkeypatch.chdir(folder)
    settings = folder / "register-batch.toml"
    settings.write_text('target = "sandbox"\n')
    settings.chmod(0o666)
    return settings


@pytest.mark.skipif(not hasattr(os, "getuid"), reason="Windows files have no mode bits for others")
def test_a_settings_file_any_user_may_change_is_read_with_a_warning_naming_the_fix(tmp_path, monkeypatch, caplog):
    """Any user could point such a file's target at their own server and have the token sent there."""
    settings = _settings_any_user_may_change(tmp_path, monkeypatch)
    with caplog.at_level("WARNING", logger="register_batch"):
        assert load_settings({}, environ={}).target == "sandbox"
    assert caplog.messages == [
        "register-batch.toml is writable by any user, who could send your API token to another service; "
        "`chmod o-w register-batch.toml` keeps it yours"
    ]
    caplog.clear()
    settings.chmod(0o664)  # group-writable: a team's own folder (and many Linux users' default umask)
    with caplog.at_level("WARNING", logger="register_batch"):
        load_settings({}, environ={})
    assert caplog.messages == []


@_NOT_ROOT
def test_a_settings_file_of_the_user_who_ran_sudo_is_read(tmp_path, monkeypatch):
    """`sudo register-batch ...` in one's own folder: root reads the file of the user who ran sudo (SUDO_UID), as
    git does; another user's is still refused."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").write_text('target = "sandbox"\n')
    os.chown(tmp_path / "register-batch.toml", 54321, 54321)
    monkeypatch.setenv("SUDO_UID", "54321")
    result = CliRunner().invoke(cli, ["config", "show", "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["settings"]["target"] == "sandbox"
    monkeypatch.setenv("SUDO_UID", "54322")
    assert CliRunner().invoke(cli, ["config", "show"]).exit_code == 2


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero or /dev/null")
def test_a_device_named_as_the_config_file_is_read_as_it_is_without_a_writable_warning(caplog):
    """/dev/null (no settings) and /dev/zero are writable by any user but are not files anyone could plant settings in:
    no warning; /dev/zero is read to the config file's limit and refused in one line."""
    with caplog.at_level("WARNING", logger="register_batch"):
        assert load_settings({}, config_file=Path("/dev/null"), environ={}).target is None  # the embedded emulator
        with pytest.raises(ConfigError) as refused:
            load_settings({}, config_file=Path("/dev/zero"), environ={})
    assert caplog.messages == []
    assert str(refused.value) == "/dev/zero: cannot read the config file (over 1 MB, more than a config file holds)"


def test_without_posix_permissions_a_settings_file_is_read_whoever_seems_to_own_it(tmp_path, monkeypatch, caplog):
    """On Windows every file's st_uid is 0 and its mode 0o666 to Python, whoever may write to it: neither says anything
    there, so a settings file is read without a warning (portable.POSIX_PERMISSIONS false)."""
    monkeypatch.setattr("register_batch.portable.POSIX_PERMISSIONS", False)
    _settings_any_user_may_change(tmp_path, monkeypatch)
    with caplog.at_level("WARNING", logger="register_batch"):
        assert load_settings({}, environ={}).target == "sandbox"
    assert caplog.messages == []


@_NOT_ROOT
def test_sudo_uid_trusts_the_file_of_the_user_who_ran_sudo_only_for_root(tmp_path, monkeypatch):
    """SUDO_UID says who ran sudo to become root; a process of another user that inherited it (`sudo -u other`) still
    refuses a third user's settings file found in the current folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").write_text('target = "sandbox"\n')
    os.chown(tmp_path / "register-batch.toml", 54321, 54321)
    monkeypatch.setenv("SUDO_UID", "54321")
    monkeypatch.setattr(os, "geteuid", lambda: 54322)  # this process runs as user 54322, not root
    with pytest.raises(ConfigError, match="belongs to another user"):
        load_settings({}, environ={})


@_NOT_ROOT
def test_a_settings_file_root_owns_is_read_by_another_user_too(tmp_path, monkeypatch):
    """The administrator's file (root's) in the current folder is trusted by every user, not only by root."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "register-batch.toml").write_text('target = "sandbox"\n')
    os.chown(tmp_path / "register-batch.toml", 0, 0)
    monkeypatch.delenv("SUDO_UID", raising=False)
    monkeypatch.setattr(os, "geteuid", lambda: 54322)  # this process runs as user 54322, not root
    assert load_settings({}, environ={}).target == "sandbox"


def _write_settings(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "register-batch.toml").write_text(text)
    return folder / "register-batch.toml"


def test_config_show_names_a_mapping_file_the_settings_name_that_cannot_be_read(tmp_path, monkeypatch):
    """review156 F5: configuration.md calls `config show` the command to find out why a command refuses the settings,
    but a `mappings` entry naming a missing file was shown as any other, with no Problem: line."""
    monkeypatch.chdir(tmp_path)
    _write_settings(tmp_path, 'mappings = ["a.yaml", "folder"]\n')
    (tmp_path / "folder").mkdir()
    result = CliRunner().invoke(cli, ["config", "show"])
    assert result.exit_code == 0, result.output
    assert (
        "Problem: mappings: a.yaml: cannot read mapping file (No such file or directory) (set by register-batch.toml)"
        in result.output.splitlines()
    )
    shown = json.loads(CliRunner().invoke(cli, ["config", "show", "--json"]).output)
    assert shown["problems"]["mappings"].endswith("(set by register-batch.toml)")
    # Once it is there, the folder given as a mapping file is the problem.
    (tmp_path / "a.yaml").write_text("codes: {}\n")
    result = CliRunner().invoke(cli, ["config", "show"])
    assert "Problem: mappings: folder: cannot read mapping file (Is a directory) (set by register-batch.toml)" in (
        result.output.splitlines()
    )
    (tmp_path / "folder").rmdir()
    (tmp_path / "folder").write_text("codes: {}\n")
    assert "Problem:" not in CliRunner().invoke(cli, ["config", "show"]).output


@pytest.mark.parametrize("command", [["validate", "x.csv"], ["sync", "x.csv"], ["mappings", "check"]])
def test_a_missing_mapping_file_is_refused_naming_where_it_was_set(tmp_path, monkeypatch, command):
    """review156 F5: `a.yaml: cannot read mapping file` when the user gave no --mapping: unlike the other settings'
    refusals, it did not say the settings file named it, nor, with --config, which one."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "x.csv").write_text("trn\n")
    _write_settings(tmp_path, 'mappings = ["a.yaml"]\n')
    refused = CliRunner().invoke(cli, command)
    assert refused.exit_code == 2, refused.output
    assert refused.stderr == (
        "register-batch: error: a.yaml: cannot read mapping file (No such file or directory) "
        "(set by register-batch.toml)\n"
    )
    other = _write_settings(tmp_path / "sub", 'mappings = ["b.yaml"]\n')
    refused = CliRunner().invoke(cli, ["--config", str(other), *command])
    assert refused.exit_code == 2, refused.output
    assert refused.stderr == (
        f"register-batch: error: {other.parent / 'b.yaml'}: cannot read mapping file (No such file or directory) "
        f"(set by {other})\n"
    )
    (tmp_path / "a.yaml").write_text("codes: {}\n")
    refused = CliRunner().invoke(cli, [*command, "--mapping", "c.yaml"])
    assert refused.exit_code == 2, refused.output
    assert refused.stderr == (
        "register-batch: error: c.yaml: cannot read mapping file (No such file or directory) (set by --mapping)\n"
    )


def test_a_rate_given_as_a_bare_number_is_that_many_a_minute_as_the_emulators_rate_limit_is(tmp_path, monkeypatch):
    """review156 F6: `emulator --rate-limit 100` is 100 a minute, but `sync --rate 95`, `rate = 95` and
    REGISTER_BATCH_RATE=95 were refused ("is not N/SECONDS"): one form for both, N alone being N per 60 seconds."""
    from register_batch.emulator import parse_rate_limit

    assert parse_rate("95") == (95, 60.0) == parse_rate_limit("95")
    assert parse_rate(" 6000 ") == (6000, 60.0) and parse_rate("95/") == (95, 60.0) == parse_rate_limit("95/")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_BATCH_RATE", "45")
    shown = CliRunner().invoke(cli, ["config", "show"])
    assert "Problem:" not in shown.output and "  rate          45 " in shown.output
    samples = Path(__file__).parents[1] / "samples"
    args = ["sync", str(samples / "extract.xml"), "--dry-run", "--rate", "95", "--as-of", "2026-11-28"]
    synced = CliRunner().invoke(cli, args)
    assert synced.exit_code == 0, synced.output
    assert "12 records: would create 12" in synced.output
