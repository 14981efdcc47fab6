"""Where a sync or export goes and with which token (sync/target.py): the token file, the environment and the
embedded emulator's own token."""

from __future__ import annotations

import logging
import shlex
import stat

import httpx
import pytest

from register_batch.api.client import RegisterClient
from register_batch.errors import ConfigError
from register_batch.portable import POSIX_PERMISSIONS
from register_batch.sync.target import embedded_token_in, load_token, open_target

TOKEN = "sandbox_" + "ab12" * 16


@pytest.mark.skipif(not POSIX_PERMISSIONS, reason="on Windows the folder's ACL decides who can read the file")
def test_a_token_file_others_can_read_is_used_with_a_warning_that_says_how_to_close_it(tmp_path, caplog):
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o600)
    with caplog.at_level(logging.WARNING, logger="register_batch.sync"):
        assert load_token(token_file, {}).reveal() == TOKEN
    assert caplog.records == []
    # A group-writable file was said to be readable by others: one who can write it can change the token it holds.
    for mode, able in ((0o640, "readable"), (0o604, "readable"), (0o620, "writable"), (0o666, "readable and writable")):
        token_file.chmod(mode)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="register_batch.sync"):
            assert load_token(token_file, {}).reveal() == TOKEN
        assert [r.getMessage() for r in caplog.records] == [
            f"{token_file} is {able} by other users; `chmod 600 {token_file}` keeps the API token private"
        ]


@pytest.mark.skipif(not POSIX_PERMISSIONS, reason="on Windows the folder's ACL decides who can read the file")
def test_the_chmod_the_warning_gives_is_quoted_for_the_shell_it_is_pasted_into(tmp_path, caplog):
    """`chmod 600 Register token.txt`, pasted, changed `Register` and `token.txt`, and left the token file open."""
    token_file = tmp_path / "Register token’s.txt"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="register_batch.sync"):
        load_token(token_file, {})
    [message] = [r.getMessage() for r in caplog.records]
    command = message.split("`")[1]
    assert shlex.split(command) == ["chmod", "600", str(token_file)]


def test_a_token_file_that_is_missing_or_empty_is_one_line_naming_it(tmp_path):
    missing = tmp_path / "no-such-token"
    with pytest.raises(ConfigError, match=f"^{missing}: cannot read the token file"):
        load_token(missing, {"REGISTER_API_TOKEN": TOKEN})  # named, so not replaced by the environment's
    empty = tmp_path / "empty"
    empty.write_text(" \n")
    with pytest.raises(ConfigError, match=f"^{empty}: the token file is empty$"):
        load_token(empty, {"REGISTER_API_TOKEN": TOKEN})


def test_the_embedded_emulators_token_is_made_once_owner_only_and_kept(tmp_path):
    token = embedded_token_in(tmp_path)
    assert token.startswith("embedded_") and len(token) == len("embedded_") + 64
    assert stat.S_IMODE((tmp_path / "token").stat().st_mode) == 0o600 or not POSIX_PERMISSIONS
    assert embedded_token_in(tmp_path) == token
    assert sorted(p.name for p in tmp_path.iterdir()) == ["token"]  # no candidate left behind


def test_the_embedded_emulator_does_not_answer_the_test_hooks_which_take_no_token(tmp_path):
    """review93 F1: another user of the machine wiped the embedded emulator's data (the owner-only state dir's) with
    `POST /__emulator__/reset` over 127.0.0.1, needing no token, while an export went on; `discard` deleted trainees."""
    with open_target(None, None, tmp_path / "state") as target:
        for method, path in [
            ("POST", "/__emulator__/reset"),
            ("GET", "/__emulator__/stats"),
            ("POST", "/__emulator__/trainees/abc/discard"),
        ]:
            answer = httpx.request(method, f"{target.url}{path}", timeout=5)
            assert answer.status_code == 404, (method, path)
        info = httpx.get(f"{target.url}/api/v2026.1/info", headers={"Authorization": f"Bearer {target.token.reveal()}"})
        assert info.status_code == 200  # the API itself as before


@pytest.mark.parametrize("text", ["\ufeffembedded_" + "0" * 64 + "\n", ""], ids=["saved again by an editor", "emptied"])
def test_a_damaged_embedded_token_is_refused_and_not_replaced(tmp_path, text):
    """Its trainees belong to that token: a new one would leave them out of every later sync and export."""
    (tmp_path / "token").write_text(text)
    with pytest.raises(ConfigError, match="is damaged"):
        embedded_token_in(tmp_path)
    assert (tmp_path / "token").read_text() == text


def test_a_named_target_without_a_token_is_refused_unless_none_is_needed(tmp_path):
    with pytest.raises(ConfigError, match="no API token for "), open_target("http://127.0.0.1:9", None, tmp_path):
        pass
    with open_target("http://127.0.0.1:9", None, tmp_path, token_required=False) as target:
        assert (target.url, target.token, target.embedded) == ("http://127.0.0.1:9", None, False)
    assert list(tmp_path.iterdir()) == []  # no embedded emulator was started for it


# Every character of RFC 6750's b64token (register-api.md §1.2): letters, digits, -._~+/ and = padding at the end.
ANY_FORM_TOKEN = "eyJhbGciOi.J9-eyJzdWIi_OiIx~MjM+0In0/abc=="


@pytest.mark.parametrize("given", ["Bearer sandbox_ab12cd34", "bearer  sandbox_ab12cd34 "])
def test_a_token_given_with_its_bearer_word_is_refused_saying_to_give_the_token_alone(given, tmp_path):
    """A whole header value pasted into the token file (or the variable): the line says what to drop, and neither
    surface repeats the token. Towards production too: the token's form is named for both services."""
    token_file = tmp_path / "token"
    token_file.write_text(given + "\n")
    token_file.chmod(0o600)
    for source, load in ((str(token_file), lambda: load_token(token_file, {})),
                         ("REGISTER_API_TOKEN", lambda: load_token(None, {"REGISTER_API_TOKEN": given}))):  # fmt: skip
        with pytest.raises(ConfigError) as refused:
            load()
        assert str(refused.value) == (
            f'{source}: the API token begins with "Bearer ": give the token alone (sandbox_ or production_ followed '
            'by 64 hex digits); register-batch sends "Bearer " itself'
        )
    with pytest.raises(ConfigError, match=r'^the API token begins with "Bearer "') as refused:
        RegisterClient("production", given)
    assert "ab12" not in str(refused.value)


def test_a_token_of_any_form_a_bearer_token_can_take_is_read_as_given(tmp_path):
    token_file = tmp_path / "token"
    token_file.write_text(ANY_FORM_TOKEN + "\n")
    token_file.chmod(0o600)
    assert load_token(token_file, {}).reveal() == ANY_FORM_TOKEN
    assert load_token(None, {"REGISTER_API_TOKEN": ANY_FORM_TOKEN}).reveal() == ANY_FORM_TOKEN


@pytest.mark.parametrize("token", ["sandbox_ab12 cd34", '"sandbox_ab12cd34"', "sandbox_ab12=cd34", "sandbox_ab12é"])
def test_a_token_no_bearer_header_can_carry_is_refused_naming_where_it_came_from_not_the_token(token):
    """A space, a quote, an = before the end (only padding ends a b64token) or a non-ASCII character."""
    with pytest.raises(ConfigError) as refused:
        load_token(None, {"REGISTER_API_TOKEN": token})
    assert str(refused.value).startswith("REGISTER_API_TOKEN: the API token holds characters a Bearer token cannot")
    assert "ab12" not in str(refused.value)


def test_an_embedded_rehearsal_without_ukprn_files_the_trainees_under_the_records_provider(tmp_path, monkeypatch):
    """docs/migration.md's rehearsal runs without --ukprn: the embedded emulator's provider had a made-up UKPRN, so
    an export of it said "listed under UKPRN 1…" and wrote that in every F_UKPRN, which migration.md reads as a
    token of another provider's (and syncing that export back with --ukprn refused every record)."""
    from pathlib import Path

    from click.testing import CliRunner

    from register_batch.cli import cli

    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    samples = Path(__file__).parents[2] / "samples"
    state, held = tmp_path / "state", tmp_path / "held.xml"
    runner = CliRunner()
    synced = runner.invoke(cli, ["sync", str(samples / "extract.xml"), "--state-dir", str(state)])
    assert synced.exit_code == 0, synced.output
    options = ["--state-dir", str(state), "--academic-cycle", "2026", "--to", "hesa-xml", "-o", str(held)]
    exported = runner.invoke(cli, ["export", *options])
    assert exported.exit_code == 0, exported.output
    assert "listed under UKPRN 10052198;" in exported.output  # the samples' F_UKPRN
    assert held.read_text().count("<F_UKPRN>10052198</F_UKPRN>") == 12
    again = runner.invoke(cli, ["sync", str(held), "--state-dir", str(state), "--ukprn", "10052198"])
    assert again.exit_code == 0, again.output
    assert "12 records: 12 unchanged" in again.output


def _sync_as_of(tmp_path, monkeypatch, *extra: str, token: str | None = None):
    """`register-batch sync` of a generated extract whose records are valid as of 28 November 2016 (and, ten years
    on, too old for Register's start-date window), synced with `--as-of 2016-11-28`."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_API_TOKEN", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    if token is not None:
        monkeypatch.setenv("REGISTER_API_TOKEN", token)
    runner = CliRunner()
    made = runner.invoke(cli, ["generate", "--count", "3", "-o", "old.xml", "--seed", "2", "--as-of", "2016-11-28"])
    assert made.exit_code == 0, made.output
    args = ["sync", "old.xml", "--as-of", "2016-11-28", "--state-dir", "state", "--report-dir", "reports", *extra]
    return runner.invoke(cli, args)


AS_OF_NOTE = "Register judges them as of today"


def test_an_embedded_sync_as_of_another_day_is_judged_by_the_emulator_as_of_that_day(tmp_path, monkeypatch):
    """review156 F3: the embedded emulator judged by today, so records `--as-of` passed (a trainee who started in
    2016) were sent and refused 422 "Cannot be more than 10 years in the past", every one (exit 1)."""
    import json

    synced = _sync_as_of(tmp_path, monkeypatch)
    assert synced.exit_code == 0, synced.output
    assert "3 records: 3 created." in synced.stdout
    assert AS_OF_NOTE not in synced.stderr  # the embedded emulator judges as the run does: nothing to warn of
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    assert report["sync"]["outcomes"] == {"done": 3}


def test_a_sync_to_register_as_of_another_day_warns_that_register_judges_as_of_today(tmp_path):
    """review156 F3: against a real Register a dry run said "would create" records Register refuses as of today,
    with no word that it judges dates by today, not by --as-of. Said in one line on stderr before anything is sent:
    here the target cannot be reached, and the warning comes first. Not said with today's date for --as-of."""
    import os
    from datetime import UTC, datetime

    from cli_runs import run_cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env["REGISTER_API_TOKEN"] = "sandbox_" + "ab12" * 16
    made = run_cli(["generate", "--count", "3", "-o", "old.xml", "--as-of", "2016-11-28"], cwd=tmp_path, env=env)
    assert made.returncode == 0, made.stderr
    today = datetime.now(UTC).date().isoformat()
    sync = ["sync", "old.xml", "--target", "https://register.invalid", "--dry-run", "--state-dir", "state"]
    synced = run_cli(["-q", *sync, "--as-of", "2016-11-28"], cwd=tmp_path, env=env)
    # Register out of reach before anything was written: a host name not found (2, review238), or 3 where this
    # machine's resolver cannot answer at all (no DNS: the look-up is retried as an outage)
    assert synced.returncode in (2, 3), synced.stderr
    [line] = [line for line in synced.stderr.splitlines() if AS_OF_NOTE in line]
    assert line.split(" WARNING: ", 1)[1] == (
        f"this run judges dates as of 2016-11-28, not today, but Register judges them as of today ({today}, UTC): "
        "records valid as of 2016-11-28 may be refused, and records held back here as invalid may be ones Register "
        "would take"
    )
    assert synced.stderr.index(AS_OF_NOTE) < synced.stderr.index("could not connect")
    today_run = run_cli([*sync, "--as-of", today], cwd=tmp_path, env=env)
    assert today_run.returncode == 1  # the records started ten years ago: invalid as of today, none sent
    assert AS_OF_NOTE not in today_run.stderr
