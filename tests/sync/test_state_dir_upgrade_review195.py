"""review195 F1: builds before 2026-12-02 (53daaf91) named the default state dir of the service's URL after its host
(`.register-batch/www.register-trainee-teachers.service.gov.uk`); this one names it `production`. Upgraded, a job
with the default state dir started a new, empty ledger beside the old one, and a trainee deleted in Register's service
was created again. The default state dir with no ledger beside the old folder holding one now stops the run before
any request, with the one command that moves it.

Against the project's emulator on 127.0.0.1, standing in for the production service (TARGETS, as the reviewer did):
an older build named its folder `127.0.0.1-<port>`, as it named the service's `www.register-…`.
"""

from __future__ import annotations

import logging
import shlex
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hesa_extracts import hesa_trainee, write_hesa_csv

from register_batch.cli import cli
from register_batch.commands.common import OPTIONS
from register_batch.constants import TARGETS

TOKEN = "sync-tests-provider-token"  # tests/sync/conftest.py's


def requests_made(register) -> int:
    return httpx.get(f"{register.emulator.url}/__emulator__/stats").json()["requests"]["total"]


@pytest.fixture
def upgraded(register, tmp_path, monkeypatch):
    """Register as the production service, three trainees synced into the folder an older build named after the
    host, one of them since deleted in Register's service; the command line run from tmp_path."""
    monkeypatch.setitem(TARGETS, "production", register.emulator.url)
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_BATCH_STATE_DIR", "REGISTER_API_TOKEN_FILE", "REGISTER_BATCH_UKPRN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    source = write_hesa_csv(tmp_path / "extract.csv", [hesa_trainee(n, degrees=1, placements=1) for n in (1, 2, 3)])
    port = register.emulator.url.rstrip("/").rsplit(":", 1)[1]
    older = Path(".register-batch") / f"127.0.0.1-{port}"  # the pre-53daaf91 target_slug of the URL
    assert register.sync(source, state_dir=tmp_path / older).exit_code == 0
    [deleted, *_] = register.trainees(2026)
    assert register.emulator.discard_trainee(deleted["trainee_id"])  # as a person deletes one in Register's service
    return source, older


def sync_args(source: Path, url: str, *extra: str) -> list[str]:
    return ["-q", "sync", str(source), "--target", url, "--as-of", "2026-11-28", "--rate", "1000/1", *extra]


def test_an_older_builds_ledger_beside_the_empty_default_stops_the_sync_before_any_request(register, upgraded):
    source, older = upgraded
    new = Path(".register-batch") / "production"
    before, writes = requests_made(register), register.writes()
    run = CliRunner().invoke(cli, sync_args(source, register.emulator.url))
    assert run.exit_code == 2, run.output
    line = f"register-batch: error: {older} holds the ledger of earlier syncs to {register.emulator.url} (earlier "
    line += f"versions named the state dir after the host): move it to {new} (mv {older} {new}), or give --state-dir"
    assert line in run.output.splitlines(), run.output
    assert requests_made(register) == before and register.writes() == writes == {"POST /trainees": 3}
    assert not new.exists()  # nothing made there: the command said is the one to run
    # The command it gives, run as given: the ledger is used, and the deleted trainee is not created again.
    moved = shlex.split(line[line.index("(mv ") + 1 : line.index("), or")])
    Path(moved[1]).rename(moved[2])
    again = CliRunner().invoke(cli, sync_args(source, register.emulator.url))
    assert register.writes() == {"POST /trainees": 3}, again.output  # no create: the ledger links the deleted one
    assert "3 records: 2 unchanged; 1 conflict" in again.output, again.output
    assert len(register.trainees(2026)) == 2


def test_a_default_state_dir_made_since_is_moved_aside_first(register, upgraded):
    """A folder of the new name with no ledger (a `reference pull` by the upgraded build): `mv old new` would put the
    old folder inside it, where no run looks."""
    source, older = upgraded
    new = Path(".register-batch") / "production"
    new.mkdir()
    run = CliRunner().invoke(cli, sync_args(source, register.emulator.url))
    assert run.exit_code == 2, run.output
    assert f"(mv {new} {new}.unused && mv {older} {new}), or give --state-dir" in run.output, run.output
    assert register.writes() == {"POST /trainees": 3}


def test_a_state_dir_given_is_used_as_given_and_config_show_says_the_default_ones_problem(register, upgraded):
    source, older = upgraded
    shown = CliRunner().invoke(cli, ["config", "show"], env={"REGISTER_API_URL": register.emulator.url})
    assert f"Problem: state_dir: {older} holds the ledger of earlier syncs to " in shown.output, shown.output
    given = CliRunner().invoke(cli, sync_args(source, register.emulator.url, "--state-dir", str(older)))
    assert given.exit_code == 1 and "3 records: 2 unchanged; 1 conflict" in given.output, given.output
    assert register.writes() == {"POST /trainees": 3}


def test_reference_pull_into_the_default_state_dir_is_refused_too(register, upgraded):
    """Its lists saved into a new `production` folder would make `mv old new` put the old one inside it."""
    _, older = upgraded
    before = requests_made(register)
    run = CliRunner().invoke(cli, ["reference", "pull", "--target", register.emulator.url])
    assert run.exit_code == 2 and f"{older} holds the ledger of earlier syncs to " in run.output, run.output
    assert requests_made(register) == before and not (Path(".register-batch") / "production").exists()


def test_the_no_ledger_warning_names_the_older_builds_folder(register, upgraded, caplog):
    """A run given another state dir, with no ledger, is told where the ledger of the syncs before the upgrade is."""
    source, older = upgraded
    with caplog.at_level(logging.WARNING, logger="register_batch.sync"):
        run = CliRunner().invoke(cli, sync_args(source, register.emulator.url, "--state-dir", "elsewhere"))
    assert run.exit_code == 0, run.output
    # As the command line's handler words it (cli.py's _WordedForTheCommandLine; pytest's own handler is the one here).
    [line] = [r.msg.worded(OPTIONS) for r in caplog.records if "has no ledger" in r.getMessage()]
    assert (
        "by default .register-batch/production in the folder the command runs in; earlier versions named it after "
        f"the host, and {older} holds a ledger), use that one: "
    ) in line, line
