"""review195 F1: `config show` names the folder a build before 2026-12-02 used by default for the service's URL (its
host), when it holds the ledger and the default state dir (now `production`, `sandbox`) holds none. Real folders;
nothing is sent (config show asks no service)."""

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
        (None, None),
    ],
)
def test_the_folder_an_older_build_named_after_the_host(target, older):
    from register_batch.config import host_slug

    assert host_slug(target) == older


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
        f"Problem: state_dir: .register-batch/{host} holds the ledger of earlier syncs to {SERVICE[name]} (earlier "
        f"versions named the state dir after the host): move it to .register-batch/{name} "
        f"(mv .register-batch/{host} .register-batch/{name}), or give --state-dir"
    ) in said.splitlines(), said
    # Once moved, or with a ledger of its own, or a state dir given: nothing to say.
    (tmp_path / ".register-batch" / host).rename(tmp_path / ".register-batch" / name)
    assert "Problem" not in show(tmp_path, monkeypatch, SERVICE[name])
    old_ledger(tmp_path / ".register-batch" / host)
    assert "Problem" not in show(tmp_path, monkeypatch, SERVICE[name])
    (tmp_path / ".register-batch" / name / "ledger.sqlite3").unlink()
    monkeypatch.setenv("REGISTER_BATCH_STATE_DIR", str(tmp_path / "given"))
    assert "Problem" not in CliRunner().invoke(cli, ["config", "show"]).output
