"""An API token pasted into a setting that is never that long (rate, ukprn, api_version: a slip between
REGISTER_API_TOKEN and REGISTER_BATCH_RATE, say) is never shown: not by `config show`, nor in the line that refuses it,
as a token pasted as the target or the token file's name is not."""

from __future__ import annotations

import re
import unicodedata

import pytest

from cli_runs import run_cli
from register_batch.emulator import start_emulator
from trainee_extracts import extract

TOKEN = "sandbox_" + "7c" * 32
SETTINGS = {"rate": "REGISTER_BATCH_RATE", "ukprn": "REGISTER_BATCH_UKPRN", "api_version": "REGISTER_BATCH_API_VERSION"}
NOT_SHOWN = f"({len(TOKEN)} characters that look like an API token: not shown)"


def as_read(text: str) -> str:
    """`text` as a person reads it: characters that show nothing, and their escapes (`\\t`, `\\u200b`), left out."""
    text = re.sub(r"\\[tnr]|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}", "", text)
    return "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))


def refused_unshown(command: list[str], tmp_path, env: dict[str, str]) -> None:
    """`command` is refused (exit 2), its last line standing for the token, which nothing shows."""
    refused = run_cli(command, tmp_path, env)
    assert refused.returncode == 2, refused.stderr
    assert TOKEN not in refused.stdout + refused.stderr
    assert NOT_SHOWN in refused.stderr.splitlines()[-1]


@pytest.mark.parametrize("key", list(SETTINGS))
def test_a_token_pasted_into_a_short_setting_is_never_shown(tmp_path, env, key):
    env[SETTINGS[key]] = TOKEN
    shown = run_cli(["config", "show"], tmp_path, env)
    assert shown.returncode == 0, shown.stderr
    assert TOKEN not in shown.stdout + shown.stderr
    [row] = [line for line in shown.stdout.splitlines() if line.strip().startswith(key)]
    assert NOT_SHOWN in row
    [problem] = [line for line in shown.stdout.splitlines() if line.startswith(f"Problem: {key}:")]
    assert NOT_SHOWN in problem and f"(set by ${SETTINGS[key]})" in problem
    # the ukprn is checked by validate (and sync); an export has no use for it
    source = str(extract(tmp_path / "in.csv", 1))
    command = ["validate", source] if key == "ukprn" else ["export", "--to", "json", "-o", str(tmp_path / "out.json")]
    refused_unshown(command, tmp_path, env)


@pytest.mark.parametrize(
    "command",
    [["reference", "show"], ["reference", "diff"], ["mappings", "check"], ["reference", "pull", "--target", "sandbox"]],
    ids=lambda command: " ".join(command[:2]),
)
def test_an_api_version_that_is_a_token_is_never_shown_by_the_commands_that_read_the_code_lists(tmp_path, env, command):
    """These commands check the API version where they load the code lists, not through the settings' check: the
    line refusing it quoted the value whole."""
    if command[1] == "diff":  # it compares pulled lists, which must be there for it to get as far as the version
        env["REGISTER_BATCH_STATE_DIR"] = str(tmp_path / "state")
        with start_emulator(tokens=["t"], rate_limit=None) as emulator:
            pull = ["reference", "pull", "--target", emulator.url, "--state-dir", str(tmp_path / "state")]
            pulled = run_cli(pull, tmp_path, env)
        assert pulled.returncode == 0, pulled.stderr
        command = [*command, "--state-dir", str(tmp_path / "state")]
    env[SETTINGS["api_version"]] = TOKEN
    refused_unshown(command, tmp_path, env)


@pytest.mark.parametrize(
    "pasted",
    [
        f"Bearer {TOKEN}",
        f"Authorization: Bearer {TOKEN}",
        f'"Bearer {TOKEN}"',
        f"REGISTER_API_TOKEN={TOKEN}",
        f"'{TOKEN}',",
        f"\u201c{TOKEN}\u201d",
        f"{TOKEN}.",
        f"${TOKEN}#",
        f"https://register.example Bearer {TOKEN}",
        f"export REGISTER_API_TOKEN={TOKEN} # https://example.org/docs",
        f"https://register.example/{TOKEN}",
        f"REGISTER_API_URL=https://register.example,REGISTER_API_TOKEN={TOKEN}",
        f"https://register.example/?token={TOKEN}",
        f"https://{TOKEN}@register.example",
        f"http://127.0.0.1:9/{TOKEN}@x",
        f"https://register.example/x-{TOKEN}",
        f"https://register.example Bearer-{TOKEN}",
        f"-{TOKEN}",
        f"{TOKEN}-x",
        f"https://register.example/{TOKEN}.json",
        f"https://{TOKEN}.example.com",
        f"https://register.example/{TOKEN[:30]}\u200b{TOKEN[30:]}",
        f"https://register.example/{TOKEN[:30]}\t{TOKEN[30:]}",
    ],
    ids=[
        "bearer",
        "header",
        "quoted, as an env file keeps it",
        "a shell line",
        "in quotes with a comma",
        "in Word's curly quotes",
        "ending a sentence",
        "in other punctuation",
        "beside a URL",
        "a shell line with a URL in its comment",
        "in a URL's path",
        "joined to a URL by a comma",
        "in a URL's query",
        "as a URL's user name",
        "in a URL's path before an @",
        "after a hyphen in a URL's path",
        "joined to Bearer by a hyphen",
        "after a hyphen",
        "before a hyphen",
        "before a dot in a URL's path",
        "as a URL's host's first label",
        "with a zero-width space inside",
        "with a tab inside",
    ],
)
def test_a_token_pasted_with_its_header_words_is_never_shown_either(tmp_path, env, pasted):
    """The header's value (`Bearer <token>`) or the whole header copied from a proxy log: the space kept the token from
    being taken for one, and every setting's line showed it whole."""
    for variable in SETTINGS.values():
        env[variable] = pasted
    env["REGISTER_API_URL"] = pasted
    shown = run_cli(["config", "show"], tmp_path, env)
    assert TOKEN not in as_read(shown.stdout + shown.stderr)
    refused = run_cli(["export", "--to", "json", "-o", str(tmp_path / "out.json")], tmp_path, env)
    assert refused.returncode == 2 and TOKEN not in as_read(refused.stdout + refused.stderr), refused.stderr
    assert not [path for path in tmp_path.rglob("*") if TOKEN in str(path)]  # no state folder named by it


@pytest.mark.parametrize(
    "target",
    [
        "https://gw.example.com/tenants/123e4567-e89b-12d3-a456-426614174000",
        "http://register-emulator-75f6d8c9b7-4xk2p:8080",
        "https://host.example/proxy/register-trainee-teachers-20261201123456",
        "https://gw.example.com/tenants/123e4567e89b12d3a456426614174000",
        "https://gw.example.com/register_trainee_teachers_20261201",
    ],
    ids=[
        "a UUID in the path",
        "a Kubernetes pod's host name",
        "a timestamp in the path",
        "a UUID without its hyphens in the path",
        "a dated name in the path",
    ],
)
def test_a_target_with_long_words_of_digits_is_shown_not_taken_for_a_token(tmp_path, env, target):
    """Long runs of letters and digits that are no token (hyphens part them, and Register's tokens have none; or they
    are shorter than any token): such targets were refused as "looks like an API token" once URLs were read for
    tokens."""
    env["REGISTER_API_URL"] = target
    shown = run_cli(["config", "show"], tmp_path, env)
    assert shown.returncode == 0 and target in shown.stdout and "Problem" not in shown.stdout, shown.stdout


@pytest.mark.parametrize("variable", ["REGISTER_BATCH_STATE_DIR", "REGISTER_BATCH_REPORT_DIR", "REGISTER_BATCH_CONFIG"])
def test_a_token_pasted_as_a_folder_or_the_settings_file_is_never_shown_nor_made_a_folder(tmp_path, env, variable):
    """`config show` printed the state or report folder as given, and a settings file it could not read by its
    name; a run made the folder, and its Target: and Report: lines showed it (found by review8 and review9). A token
    pasted as a folder is refused before anything is made; as the settings file's name, it is not shown."""
    env[variable] = TOKEN
    shown = run_cli(["config", "show"], tmp_path, env)
    assert TOKEN not in shown.stdout + shown.stderr
    if variable == "REGISTER_BATCH_CONFIG":
        assert NOT_SHOWN in shown.stderr
        return
    key = variable.removeprefix("REGISTER_BATCH_").lower()
    refusal = f"{key} (set by ${variable}) holds an API token ({len(TOKEN)} characters; not shown)"
    assert shown.returncode == 2 and refusal in shown.stderr
    source = str(extract(tmp_path / "in.csv", 1))
    for command in (["validate", source], ["export", "--to", "json", "-o", str(tmp_path / "out.json")]):
        refused = run_cli(command, tmp_path, env)
        assert refused.returncode == 2 and refusal in refused.stderr and TOKEN not in refused.stdout + refused.stderr
    assert not [path for path in tmp_path.rglob("*") if TOKEN in str(path)]


@pytest.mark.parametrize("command", ["validate", "sync", "convert"])
@pytest.mark.parametrize("option", ["--report-dir", "--state-dir"])
def test_a_token_pasted_as_a_folder_option_is_refused_before_the_folder_is_made(tmp_path, env, command, option):
    """--report-dir on the command line was taken as given: the folder was made, and the Report: line showed it
    (found by review10)."""
    if option == "--state-dir" and command != "sync":
        return  # only sync takes a state dir on its command line
    source = str(extract(tmp_path / "in.csv", 1))
    args = {"validate": ["validate", source], "sync": ["sync", source, "--dry-run"]}.get(command)
    args = args or ["convert", source, "--to", "json", "-o", str(tmp_path / "out.json")]
    refused = run_cli([*args, option, f"reports/{TOKEN}"], tmp_path, env)
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert f"holds an API token ({len(TOKEN)} characters; not shown)" in refused.stderr
    assert TOKEN not in refused.stdout + refused.stderr
    assert not [path for path in tmp_path.rglob("*") if TOKEN in str(path)]


def test_a_long_dated_folder_is_no_token_and_one_named_by_a_token_that_is_there_is_refused(tmp_path, env):
    """Only a token of Register's own shape is refused: a report folder named by its provider and time (long, and
    full of digits) was taken for one by every command, `config show` included. One named by a token that is there
    (an earlier version made it) is refused too: `config show` and the Report: line showed it (found by review11)."""
    dated = "reports/register_batch_reports_ukprn_10007799_20261201_1530"
    env["REGISTER_BATCH_REPORT_DIR"] = dated
    shown = run_cli(["config", "show"], tmp_path, env)
    assert shown.returncode == 0 and dated in shown.stdout, shown.stderr
    made = tmp_path / "volumes" / TOKEN
    made.mkdir(parents=True)
    env["REGISTER_BATCH_STATE_DIR"] = str(made)
    refused = run_cli(["config", "show"], tmp_path, env)
    assert refused.returncode == 2 and TOKEN not in refused.stdout + refused.stderr
    assert f"holds an API token ({len(TOKEN)} characters; not shown)" in refused.stderr
