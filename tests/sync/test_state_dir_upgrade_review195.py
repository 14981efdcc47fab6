"""review195 F1: builds before 2026-12-02 (53daaf91) named the default state dir of the service's URL after its host
(`.register-batch/www.register-trainee-teachers.service.gov.uk`); this one names it `production`. Upgraded, a job
with the default state dir started a new, empty ledger beside the old one, and a trainee deleted in Register's service
was created again. The default state dir with no ledger beside the old folder holding one now stops the run before
any request, with the one command that moves it.

Against the project's emulator on 127.0.0.1, standing in for the production service (TARGETS, as the reviewer did):
an older build named its folder `127.0.0.1-<port>`, as it named the service's `www.register-…`.

review199: the refusal names the old folder as the alternative `--state-dir` (any other gives a new, empty ledger),
gives its commands in backticks, as two when the new folder is there already (`&&` is not Windows PowerShell 5.1's);
and a URL written with its scheme's own port (`http://127.0.0.1:80`, once `127.0.0.1-80`) is covered too (F1).
"""

from __future__ import annotations

import logging
import re
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


def commands_in(line: str) -> list[list[str]]:
    """The commands a line gives, in backticks as the project's other errors give theirs, split as a shell would."""
    return [shlex.split(command) for command in re.findall(r"`([^`]*)`", line)]


def run_as_given(command: list[str]) -> None:
    """`mv OLD NEW` as the user runs it: NEW not there (the refusal's commands see to that)."""
    assert command[0] == "mv" and len(command) == 3 and not Path(command[2]).exists(), command
    Path(command[1]).rename(command[2])


def test_an_older_builds_ledger_beside_the_empty_default_stops_the_sync_before_any_request(register, upgraded):
    source, older = upgraded
    new = Path(".register-batch") / "production"
    before, writes = requests_made(register), register.writes()
    run = CliRunner().invoke(cli, sync_args(source, register.emulator.url))
    assert run.exit_code == 2, run.output
    line = f"register-batch: error: {older} holds the ledger of earlier syncs to {register.emulator.url} (the "
    line += f"default state dir of earlier versions): move it to {new} with `mv {older} {new}`, or give `--state-dir "
    line += f"{older}` to use it where it is"
    assert line in run.output.splitlines(), run.output
    assert requests_made(register) == before and register.writes() == writes == {"POST /trainees": 3}
    assert not new.exists()  # nothing made there: the command said is the one to run
    # The command it gives, run as given: the ledger is used, and the deleted trainee is not created again.
    [moved, _] = commands_in(line)
    run_as_given(moved)
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
    (new / "reference-data.json").write_text("{}")  # what a pull saved there
    run = CliRunner().invoke(cli, sync_args(source, register.emulator.url))
    assert run.exit_code == 2, run.output
    # Two commands said as two steps, one line: `a && b` is refused by Windows PowerShell 5.1 (review199).
    [line] = [line for line in run.output.splitlines() if line.startswith("register-batch: error: ")]
    assert line.endswith(
        f": move {new} (no ledger) aside with `mv {new} {new}.unused`, then move {older} to {new} with "
        f"`mv {older} {new}`; or give `--state-dir {older}` to use it where it is"
    ), line
    assert "&&" not in line and register.writes() == {"POST /trainees": 3}
    # Run in the order given, nothing is lost, and the next sync uses the ledger.
    [aside, moved, _] = commands_in(line)
    run_as_given(aside)
    run_as_given(moved)
    assert (Path(f"{new}.unused") / "reference-data.json").read_text() == "{}"
    again = CliRunner().invoke(cli, sync_args(source, register.emulator.url))
    assert "3 records: 2 unchanged; 1 conflict" in again.output, again.output
    assert register.writes() == {"POST /trainees": 3}


def test_a_state_dir_given_is_used_as_given_and_config_show_says_the_default_ones_problem(register, upgraded):
    """The refusal's other way is the old folder given as it is (review199 F3): any other, the new default folder
    among them, would be a new, empty ledger, and create the deleted trainee again."""
    source, older = upgraded
    shown = CliRunner().invoke(cli, ["config", "show"], env={"REGISTER_API_URL": register.emulator.url})
    assert f"Problem: state_dir: {older} holds the ledger of earlier syncs to " in shown.output, shown.output
    [_, option] = commands_in(shown.output)
    assert option == ["--state-dir", str(older)], shown.output
    given = CliRunner().invoke(cli, sync_args(source, register.emulator.url, *option))
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
        "by default .register-batch/production in the folder the command runs in; earlier versions named it "
        f"{older}, which holds a ledger), use that one: "
    ) in line, line


def test_ledger_forget_in_the_default_state_dir_is_told_of_the_older_builds_ledger(register, upgraded):
    """review207 F1: an erasure in the default state dir did not look beside it. With no ledger there yet it stops
    with the move, as sync does (exit 2); where a newer build has begun one there, it forgets there and warns that the
    older folder may hold them too, naming the --state-dir to run it with."""
    source, older = upgraded
    husid = register.trainees(2026)[0]["hesa_id"]
    forget = ["ledger", "forget", "--target", register.emulator.url, "--hesa-id", husid]
    run = CliRunner().invoke(cli, forget)
    assert run.exit_code == 2, run.output
    assert f"register-batch: error: {older} holds the ledger of earlier syncs to " in run.output, run.output
    # A build of 2-7 December began a ledger in the new folder (here: a sync given it).
    new = Path(".register-batch") / "production"
    assert register.sync(source, state_dir=Path.cwd() / new).exit_code == 0
    run = CliRunner().invoke(cli, forget)
    assert run.exit_code == 0, run.output
    assert (
        f"warning: {older} holds the ledger an earlier version kept for this target (it named the state dir "
        f"otherwise): they may be held there too: run this again with --state-dir {older}"
    ) in run.output.splitlines(), run.output


@pytest.mark.parametrize("command", [["sync", "extract.csv", "--as-of", "2026-11-28"], ["reference", "pull"]])
def test_a_url_written_with_its_schemes_own_port_is_covered_too(tmp_path, monkeypatch, command):
    """review199 F1: 03764c05 left a scheme's own port out of the folder's name the same day (`http://127.0.0.1:80`
    was `127.0.0.1-80`, now `127.0.0.1`): the ledger there stops the run before any request, as the service's does.
    No emulator: nothing may be asked of port 80 (before the fix the sync tried it, and could not connect)."""
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_BATCH_STATE_DIR", "REGISTER_API_TOKEN_FILE", "REGISTER_BATCH_UKPRN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    write_hesa_csv(tmp_path / "extract.csv", [hesa_trainee(1, degrees=1, placements=1)])
    older = Path(".register-batch") / "127.0.0.1-80"
    older.mkdir(parents=True)
    (older / "ledger.sqlite3").write_bytes(b"")  # only its being there is looked at
    run = CliRunner().invoke(cli, ["-q", *command, "--target", "http://127.0.0.1:80"])
    assert run.exit_code == 2, run.output
    new = Path(".register-batch") / "127.0.0.1"
    assert (
        f"register-batch: error: {older} holds the ledger of earlier syncs to http://127.0.0.1:80 (the default state "
        f"dir of earlier versions): move it to {new} with `mv {older} {new}`, or give `--state-dir {older}` to use it "
        "where it is"
    ) in run.output.splitlines(), run.output
    assert not new.exists()
