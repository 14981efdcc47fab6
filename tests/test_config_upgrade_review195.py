"""review195 F1: `config show` names the folder a build before 2026-12-02 used by default for the service's URL (its
host), when it holds the ledger and the default state dir (now `production`, `sandbox`) holds none; review199 F1: and
for any URL written with its scheme's own port (`https://register.example:443` was `register.example-443`, now
`register.example`). Real folders; nothing is sent (config show asks no service)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli

SERVICE = {
    "production": "https://www.register-trainee-teachers.service.gov.uk",
    "sandbox": "https://sandbox.register-trainee-teachers.service.gov.uk",
}


@pytest.mark.parametrize(
    ("target", "older"),
    [
        (SERVICE["production"], "www.register-trainee-teachers.service.gov.uk"),
        (f"{SERVICE['sandbox']}/api/v2026.1/", "sandbox.register-trainee-teachers.service.gov.uk"),
        ("www.register-trainee-teachers.service.gov.uk", None),  # no scheme: its host, by this build too
        ("https://WWW.Register-Trainee-Teachers.service.gov.uk:443", f"{SERVICE['production'][8:].lower()}-443"),
        ("production", None),  # named alike by every build
        ("https://register.example", None),  # another service: its host then and now
        # review199 F1: a scheme's own port written out was part of the name until 03764c05 (2026-12-02 03:17).
        ("https://register.example:443", "register.example-443"),
        ("https://Register.Example:0443/", "register.example-443"),
        ("register.example:443", "register.example-443"),  # no scheme: https, then and now
        ("http://127.0.0.1:80", "127.0.0.1-80"),
        ("HTTP://127.0.0.1:80/api/v2026.1", "127.0.0.1-80"),
        ("http://[::1]:80", "__1-80"),
        ("http://127.0.0.1:8787", None),  # another port: in the name then and now
        ("127.0.0.1:80", None),  # https on port 80: not its own port, so named alike
        ("http://127.0.0.1:443", None),
        ("https://register.example:99999", None),  # no port at all: refused where it is checked, named alike
        (None, None),
    ],
)
def test_the_folder_an_older_build_named_after_the_host(target, older):
    from register_batch.config import host_slug

    assert host_slug(target) == older


def target_slug_before_12_02(target: str | None) -> str:
    """target_slug as builds before 2026-12-02 had it (`git show 53daaf91^:src/register_batch/config.py`), verbatim
    but for its imports: 53daaf91 then named the service's URL `production`, and 03764c05 left a default port out."""
    from urllib.parse import urlsplit

    from register_batch.tokens import looks_like_token

    if not target:
        return "embedded-emulator"
    if target in ("sandbox", "production"):
        return target
    if looks_like_token(target):  # a token pasted as the target: never a folder's name
        return "target"
    try:
        parts = urlsplit(target if "://" in target else f"https://{target}")
        port = parts.port
    except ValueError:  # not a URL (a port that is not a number): refused where it is checked (Settings.problems)
        return "target"
    host = (parts.hostname or "target").replace(":", "_")
    return f"{host}-{port}" if port else host


SPELLINGS = [
    f"{scheme}{host}{port}{path}"
    for scheme in ("https://", "http://", "HTTPS://", "")
    for host in (
        "www.register-trainee-teachers.service.gov.uk",
        "Sandbox.Register-Trainee-Teachers.service.gov.uk",
        "register.example",
        "127.0.0.1",
        "localhost",
        "[::1]",
    )
    for port in ("", ":443", ":0443", ":80", ":8787")
    for path in ("", "/", "/api/v2026.1/")
] + ["sandbox", "production", "", "production_" + "0123456789abcdef" * 4]  # the last a token pasted as one


def test_the_older_name_is_the_older_rule_wherever_this_build_names_it_otherwise():
    """Every spelling whose folder the older rule named otherwise is found, and only those (review199 F1: the table
    above hardcoded what was expected; this asks the older code itself)."""
    from register_batch.config import host_slug, target_slug

    wrong = {}
    for target in SPELLINGS:
        older = target_slug_before_12_02(target)
        if host_slug(target) != (expected := older if older != target_slug(target) else None):
            wrong[target] = (host_slug(target), expected)
    assert not wrong
    # Not a vacuous comparison: Register's own two hosts (x 3 paths) spelt out, with or without :443, and with :80
    # over http (9 ways); four others with :443 or :0443 (https, HTTPS, no scheme) or :80 over http (7 ways).
    assert sum(host_slug(target) is not None for target in SPELLINGS) == 9 * 2 * 3 + 7 * 4 * 3


def show(tmp_path: Path, monkeypatch, target: str, *extra: str) -> str:
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_BATCH_STATE_DIR", "REGISTER_API_TOKEN", "REGISTER_API_TOKEN_FILE", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGISTER_API_URL", target)
    run = CliRunner().invoke(cli, ["config", "show", *extra])
    assert run.exit_code == 0, run.output
    return run.output


def old_ledger(folder: Path) -> None:
    folder.mkdir(parents=True)
    sqlite3.connect(folder / "ledger.sqlite3").close()


@pytest.mark.parametrize("name", ["production", "sandbox"])
def test_config_show_says_the_older_folder_holds_the_ledger(tmp_path, monkeypatch, name):
    host = SERVICE[name].removeprefix("https://")
    (tmp_path / ".register-batch" / host).mkdir(parents=True)
    assert "Problem" not in show(tmp_path, monkeypatch, SERVICE[name])  # a folder of that name with no ledger
    (tmp_path / ".register-batch" / host).rmdir()
    old_ledger(tmp_path / ".register-batch" / host)
    said = show(tmp_path, monkeypatch, SERVICE[name])
    assert (
        f"Problem: state_dir: .register-batch/{host} holds the ledger of earlier syncs to {SERVICE[name]} (the default "
        f"state dir of earlier versions): move it to .register-batch/{name} with "
        f"`mv .register-batch/{host} .register-batch/{name}`, or give `--state-dir .register-batch/{host}` to use it "
        "where it is"
    ) in said.splitlines(), said
    # Once moved, or with a ledger of its own, or a state dir given: nothing to say.
    (tmp_path / ".register-batch" / host).rename(tmp_path / ".register-batch" / name)
    assert "Problem" not in show(tmp_path, monkeypatch, SERVICE[name])
    old_ledger(tmp_path / ".register-batch" / host)
    assert "Problem" not in show(tmp_path, monkeypatch, SERVICE[name])
    (tmp_path / ".register-batch" / name / "ledger.sqlite3").unlink()
    monkeypatch.setenv("REGISTER_BATCH_STATE_DIR", str(tmp_path / "given"))
    assert "Problem" not in CliRunner().invoke(cli, ["config", "show"]).output


@pytest.mark.parametrize(
    ("target", "older", "new"),
    [
        ("https://register.example:443", "register.example-443", "register.example"),
        ("http://127.0.0.1:80", "127.0.0.1-80", "127.0.0.1"),
    ],
)
def test_config_show_names_the_older_folder_of_a_url_written_with_its_own_port(
    tmp_path, monkeypatch, target, older, new
):
    """review199 F1: 03764c05 moved these too, and the docs said another URL's folder is where it always was."""
    old_ledger(tmp_path / ".register-batch" / older)
    said = show(tmp_path, monkeypatch, target)
    assert (
        f"Problem: state_dir: .register-batch/{older} holds the ledger of earlier syncs to {target} (the default "
        f"state dir of earlier versions): move it to .register-batch/{new} with "
        f"`mv .register-batch/{older} .register-batch/{new}`, or give `--state-dir .register-batch/{older}` to use it "
        "where it is"
    ) in said.splitlines(), said
    assert "Problem" not in show(tmp_path, monkeypatch, target.replace(":443", ":8443").replace(":80", ":8080"))
