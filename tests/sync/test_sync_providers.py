"""`sync` sends only the run's provider's records, and stops when Register shows the token is another's.

Against the project's emulator, which gives each token's provider its own UKPRN and lists it on every trainee
(`ukprn`, register-api.md §3.6), as Register does.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
import subprocess
from contextlib import closing
from datetime import date
from pathlib import Path

import httpx
import pytest
from hesa_extracts import hesa_trainee, write_hesa_csv

from cli_runs import sync_command
from emulated import SYNC_TESTS_TOKEN, create_answers_lost, sync_options
from register_batch.api import Unauthorized
from register_batch.commands.common import OPTIONS
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.generate import generate
from register_batch.sync import sync_files
from stub_http import Seen, fronting
from trainee_extracts import started_in, trainee, write_extract

OURS, THEIRS = "10052198", "10011911"
AS_OF = date(2026, 11, 28)  # the emulator's (conftest.py)


def mixed_extract(path, ukprns: list[str]):
    rows = []
    for n, ukprn in enumerate(ukprns, start=1):
        row = hesa_trainee(n, degrees=1, placements=1)
        row["F_UKPRN"] = ukprn
        rows.append(row)
    return write_hesa_csv(path, rows)


def test_only_the_run_providers_records_are_sent(our_register, tmp_path):
    source = mixed_extract(tmp_path / "mixed.csv", [OURS, THEIRS, OURS, THEIRS, OURS])
    result = our_register.sync(source, ukprn=OURS)
    assert our_register.writes() == {"POST /trainees": 3}
    assert sorted(t["hesa_id"] for t in our_register.trainees(2026)) == [f"{2601200000000 + n:013d}" for n in (1, 3, 5)]
    issues = [i for i in our_register.report()["issues"] if i["code"] == "other_provider_record"]
    assert [(i["record"], i["value"]) for i in issues] == [(2, THEIRS), (4, THEIRS)]
    assert result.exit_code == 1  # some records were held back


def test_without_ukprn_a_mixed_extract_sends_nothing(register, tmp_path):
    register.sync(mixed_extract(tmp_path / "mixed.csv", [OURS, THEIRS, OURS]))
    assert register.writes() == {}
    assert {i["code"] for i in register.report()["issues"]} == {"several_providers"}


def test_a_token_of_another_provider_is_refused_before_anything_is_written(register, tmp_path):
    """A vendor's job run with another client's token: once Register lists a trainee, its UKPRN is the token's."""
    # A first load of records that do not say whose they are (blank F_UKPRN): nothing to tell the token by.
    register.sync(mixed_extract(tmp_path / "first.csv", [""] * 3))
    token_ukprn = register.trainees(2026)[0]["ukprn"]
    assert token_ukprn != OURS  # the emulator's provider for this token has a UKPRN of its own
    changed = mixed_extract(tmp_path / "changed.csv", [OURS] * 4)
    with pytest.raises(ConfigError) as refused:
        register.sync(changed, ukprn=OURS)
    assert str(refused.value) == (
        f"the API token is provider {token_ukprn}'s (Register lists its trainees under that UKPRN), not {OURS}'s, "
        f"given with ukprn: nothing was written. Use {OURS}'s token, or correct ukprn."
    )
    assert register.writes() == {"POST /trainees": 3}
    # The runs table says why it stopped.
    with closing(sqlite3.connect(register.tmp_path / "state" / "ledger.sqlite3")) as db:
        status, summary = db.execute("SELECT status, summary FROM runs ORDER BY id DESC LIMIT 1").fetchone()
    assert status == "stopped" and json.loads(summary)["reason"] == f"ConfigError: {refused.value}"
    # With the token's own UKPRN the listing would agree, but no record of the extract is that provider's.
    with pytest.raises(ConfigError, match=f"no record of the inputs is provider {token_ukprn}'s"):
        register.sync(changed, ukprn=token_ukprn)
    assert register.writes() == {"POST /trainees": 3}


def test_a_token_that_sees_none_of_the_state_dirs_trainees_is_refused_before_its_first_create(tmp_path):
    """A nightly job whose token file was given another provider's token, whose account is empty: Register listed
    nobody and answered 404 for every trainee the ledger links (473 look-ups in review26's run), and the first create
    then put a trainee in that provider's account, where the API cannot delete it. Refused after three look-ups,
    nothing written, exit 2; the right token then carries on."""
    theirs, ours = "their-token", "our-token"
    with start_emulator(
        tokens=[theirs, ours], ukprns={theirs: THEIRS, ours: OURS}, rate_limit=None, as_of=AS_OF
    ) as emu:

        def sync(token, rows):
            options = sync_options(emu, tmp_path, token, timeout=5.0)
            return sync_files([str(write_extract(tmp_path / "in.csv", rows))], options)

        rows = [trainee(n) for n in range(1, 6)]
        assert sync(ours, rows).summary_line().startswith("5 records: 5 created")
        before = httpx.get(f"{emu.url}/__emulator__/stats").json()["requests"]["by_route"]
        with pytest.raises(ConfigError) as refused:
            sync(theirs, [*rows, trainee(6)])
        assert refused.value.exit_code == 2
        assert str(refused.value).startswith(
            "the API token cannot see the trainees this state dir's earlier syncs wrote: Register listed none in the "
            "extract's academic cycles, and answered 404 (not found, as for another provider's trainee) for each of "
            f"the 3 trainees the ledger links that were looked up. Either it is not the token of their provider (UKPRN "
            f"{OURS}): use that provider's token; or Register no longer holds those trainees at all"
        ), refused.value
        after = httpx.get(f"{emu.url}/__emulator__/stats").json()["requests"]["by_route"]
        assert after.get("POST /trainees", 0) == before.get("POST /trainees", 0)
        looked = after.get("GET /trainees/{trainee_id}", 0) - before.get("GET /trainees/{trainee_id}", 0)
        assert looked == 3 and _held(emu, theirs) == {}
        assert sync(ours, [*rows, trainee(6)]).summary_line().startswith("6 records: 1 created, 5 unchanged")


def _creates_failed_then_lost(emulator, token: str, faults: list[str]):
    """A client whose creates meet `faults` one each (e.g. a 500, then one carried out with its answer lost)."""
    from register_batch.api import RateLimiter, RegisterClient

    planned = iter(faults)

    class FailedThenLost(RegisterClient):
        def create_trainee(self, data):
            emulator.set_faults(next(planned, None))
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults(None)

    return FailedThenLost(emulator.url, token, limiter=RateLimiter(10_000, 1))


def _held(emulator, token: str) -> dict[str, str]:
    """HUSID -> trainee id of the trainees Register lists for `token` in 2026."""
    with httpx.Client(base_url=emulator.api_url, headers={"Authorization": f"Bearer {token}"}) as client:
        answer = client.get("/trainees", params={"academic_cycle": 2026})
    listed = answer.json()["data"] if answer.status_code == 200 else []
    return {t["hesa_id"]: t["trainee_id"] for t in listed}


@pytest.mark.parametrize("answer", ["received", "lost"])
@pytest.mark.parametrize("ukprn", [OURS, None], ids=["ukprn", "records-ukprn"])
def test_a_first_load_with_another_providers_token_stops_after_the_first_trainee_it_created(tmp_path, ukprn, answer):
    """A first load into an account with no trainee at all has nothing to tell the token's provider by before it
    writes; Register's answer to the first create does, or its look-up when that answer was lost. Before, a
    colleague's token whose account was empty took the whole cohort into that provider's account, where the API
    cannot delete it; with the first answer lost, the trainee found was adopted unchecked, the second one created
    there too, and the first record linked in the ledger to a trainee the right token never sees. Without --ukprn,
    the one UKPRN the records' F_UKPRN name is checked the same way. The next run, with the right token, creates
    that record too, in the right account."""
    theirs, ours = "their-token", "our-token"
    ukprns = {theirs: THEIRS, ours: OURS}
    with start_emulator(tokens=[theirs, ours], ukprns=ukprns, rate_limit=None, as_of=AS_OF) as emulator:

        def sync(token, client=None):
            options = sync_options(emulator, tmp_path, token, timeout=5.0, ukprn=ukprn)
            return sync_files([str(source)], options, client=client)

        source = mixed_extract(tmp_path / "ours.csv", [OURS] * 3)
        client = create_answers_lost(emulator, theirs, lambda: None) if answer == "lost" else None
        with pytest.raises(ConfigError) as refused:
            sync(theirs, client)
        if client is not None:
            client.close()
        [(husid, trainee_id)] = _held(emulator, theirs).items()
        assert husid == "2601200000001"
        message = str(refused.value)
        assert message.startswith(
            f"the API token is provider {THEIRS}'s (Register filed the first trainee this run created under that "
            f"UKPRN), "
        ), message
        assert (
            f"that trainee, {trainee_id} (line 2 of {source}), is in {THEIRS}'s account, and nothing else was written"
            in message.replace("That trainee", "that trainee")
        ), message
        assert message.endswith(" The next run creates that record too."), message

        done = sync(ours)
        assert done.exit_code == 0 and done.outcomes["done"] == 3, done.summary_line()
        assert sorted(_held(emulator, ours)) == ["2601200000001", "2601200000002", "2601200000003"]
        assert list(_held(emulator, theirs)) == [husid]


def test_without_ukprn_a_token_of_another_provider_than_the_records_is_refused(register, tmp_path):
    """No --ukprn, but every record says whose it is (F_UKPRN): once Register lists a trainee of the token under
    another UKPRN, nothing is written. Before, only --ukprn or a training partner's records were checked, so another
    client's token in a vendor's nightly job filed this provider's new trainees under that client."""
    register.sync(mixed_extract(tmp_path / "first.csv", [""] * 3))  # records of no one said: nothing to tell by
    token_ukprn = register.trainees(2026)[0]["ukprn"]
    assert token_ukprn != OURS
    for dry_run in (True, False):
        with pytest.raises(ConfigError) as refused:
            register.sync(mixed_extract(tmp_path / "more.csv", [OURS] * 4), dry_run=dry_run)
        assert str(refused.value) == (
            f"the API token is provider {token_ukprn}'s (Register lists its trainees under that UKPRN), but the "
            f"records are {OURS}'s (F_UKPRN): Register would file them under {token_ukprn}. Nothing was written. "
            f"Use {OURS}'s token, and give ukprn {OURS} in jobs, so that a first load is checked before its first "
            "create (rehearsing against the emulator: give it that UKPRN for the token)."
        )
    assert register.writes() == {"POST /trainees": 3}
    # Records that do not say whose they are (a blank F_UKPRN, as in Register's CSV) are not judged by it.
    blank = mixed_extract(tmp_path / "blank.csv", [""] * 4)
    assert register.sync(blank).exit_code == 0 and register.writes() == {"POST /trainees": 4}


def test_a_new_state_dir_for_a_register_that_holds_trainees_is_said(register, tmp_path, caplog):
    """A cron job started from another folder gets another default state dir, silently. A first load into an empty
    account, or a later run with its ledger, has nothing to say."""
    source = mixed_extract(tmp_path / "blank.csv", [""] * 2)

    def said(**extra) -> list[str]:
        caplog.clear()
        register.sync(source, **extra)
        return [r.getMessage() for r in caplog.records if "has no ledger" in r.getMessage()]

    with caplog.at_level(logging.WARNING, logger="register_batch.sync"):
        assert said() == [] and said() == []
        elsewhere = tmp_path / "another-folder"
        [line] = said(state_dir=elsewhere)
    assert line.startswith(f"{elsewhere} has no ledger, but Register already holds 2 trainees of the extract's")
    # Said to a library caller as it takes the setting: no command-line option, settings file or default folder of
    # the command line's, which it has none of (library.md; review157 F3).
    assert "If earlier syncs used another `state_dir`, use that one: " in line, line
    assert "--state-dir" not in line and "register-batch.toml" not in line and ".register-batch" not in line
    # What only the ledger remembers (review127 F1).
    assert line.endswith(
        "use that one: without its ledger, a trainee deleted in Register's service is created again, and a "
        "withdrawal DfE's support undid is sent again"
    )


def test_the_command_line_says_the_no_ledger_warning_by_its_option_settings_file_and_default(register, tmp_path):
    """The command line words the same warning by its own surface: its option, its settings file's key, and the
    default state dir it would have used (the target's folder under .register-batch, config.target_slug)."""
    source = mixed_extract(tmp_path / "blank.csv", [""] * 2)
    register.sync(source)
    env = {**os.environ, "REGISTER_API_TOKEN": SYNC_TESTS_TOKEN}
    args = sync_command(source, register.emulator.url, tmp_path / "elsewhere", tmp_path / "reports", AS_OF.isoformat())
    run = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    [line] = [line for line in run.stderr.splitlines() if "has no ledger" in line]
    port = register.emulator.url.rsplit(":", 1)[1].rstrip("/")
    default = Path(".register-batch") / f"127.0.0.1-{port}"
    assert (
        "If earlier syncs used another state dir (--state-dir, state_dir in register-batch.toml; by default "
        f"{default} in the folder the command runs in), use that one: "
    ) in line, line
    assert "`state_dir`" not in line


def test_a_state_dir_whose_first_run_never_listed_register_is_still_said_to_have_no_ledger(register, tmp_path, caplog):
    """review59 F11: a first run stopped before its listing (here a wrong token; Register unreachable alike) made the
    ledger file, and the run after it, listing 2 trainees Register held, said nothing of the state dir."""
    source = mixed_extract(tmp_path / "blank.csv", [""] * 2)
    register.sync(source)
    elsewhere = tmp_path / "another-folder"
    with pytest.raises(Unauthorized):
        register.sync(source, state_dir=elsewhere, token="not-a-token-of-this-service")
    assert (elsewhere / "ledger.sqlite3").exists()
    with caplog.at_level(logging.WARNING, logger="register_batch.sync"):
        register.sync(source, state_dir=elsewhere, dry_run=True)
        register.sync(source, state_dir=elsewhere)
    said = [r.getMessage() for r in caplog.records if "has no ledger" in r.getMessage()]
    # Said by the dry run and by the real run after it, which a dry run leaves the state dir new to (review229 F3).
    assert len(said) == 2, said
    assert all(line.startswith(f"{elsewhere} has no ledger, but Register already holds 2 trainees") for line in said)


def test_towards_the_sandbox_only_ukprn_checks_the_token(register, tmp_path, monkeypatch):
    """A sandbox token may be a test provider's, with another UKPRN than a real extract names: a migration lead's
    rehearsal would be refused on its second run, and a token mixed up there files no one where it matters."""
    from register_batch.api.client import TARGETS

    monkeypatch.setitem(TARGETS, "sandbox", register.emulator.url)
    register.sync(mixed_extract(tmp_path / "ours.csv", [OURS] * 3))
    assert register.sync(mixed_extract(tmp_path / "more.csv", [OURS] * 4)).exit_code == 0
    with pytest.raises(ConfigError, match="not 10052198's, given with ukprn:"):
        register.sync(mixed_extract(tmp_path / "more.csv", [OURS] * 4), ukprn=OURS)
    assert register.writes() == {"POST /trainees": 4}


def test_the_embedded_emulator_stands_in_for_the_records_provider_without_ukprn(tmp_path, monkeypatch):
    """Its provider's UKPRN is made up: a rehearsal without --ukprn must not be refused on its second run."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_URL", raising=False)
    args = ["sync", str(mixed_extract(tmp_path / "extract.csv", [OURS] * 2)), "--as-of", "2026-11-28"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0 and "2 records: 2 created" in first.output, first.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and "2 records: 2 unchanged" in again.output, again.output


def sync_twice_embedded(tmp_path, monkeypatch, ukprns: list[str], given: str) -> None:
    """`sync --ukprn given` of an extract of `ukprns` twice, against the embedded emulator (it stands in for `given`):
    every record created, then unchanged."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_URL", raising=False)
    source = mixed_extract(tmp_path / "extract.csv", ukprns)
    args = ["sync", str(source), "--ukprn", given, "--as-of", "2026-11-28"]
    first = CliRunner().invoke(cli, args)
    assert first.exit_code == 0 and f"{len(ukprns)} records: {len(ukprns)} created" in first.output, first.output
    again = CliRunner().invoke(cli, args)
    assert again.exit_code == 0 and f"{len(ukprns)} records: {len(ukprns)} unchanged" in again.output, again.output


def test_the_embedded_emulator_stands_in_for_the_provider_given(tmp_path, monkeypatch):
    """A rehearsal with --ukprn against the embedded emulator: its provider has that UKPRN, so reruns go ahead."""
    sync_twice_embedded(tmp_path, monkeypatch, [OURS] * 2, OURS)


def test_an_emulator_provider_can_be_given_its_ukprn(tmp_path):
    from register_batch.emulator import start_emulator

    db = tmp_path / "register.sqlite3"
    with start_emulator(db=db, tokens=["t1", "t2"], rate_limit=None) as emulator:
        fake = emulator.app.store.provider_ukprn(1)
    assert fake != OURS
    with start_emulator(db=db, tokens=["t1", "t2"], rate_limit=None, ukprns={"t1": OURS}) as emulator:
        assert emulator.app.store.provider_ukprn(1) == OURS  # the same provider, its UKPRN now the one given
    with pytest.raises(ValueError, match=f"UKPRN {OURS} is already another token's provider"):
        start_emulator(db=db, tokens=["t1", "t2"], rate_limit=None, ukprns={"t2": OURS})


def test_sync_reads_the_ukprn_as_validation_does(register, tmp_path):
    """A UKPRN given as a number or with spaces is the token's own: no false stop (validation accepted it too)."""
    from register_batch.sync import SyncOptions

    first = mixed_extract(tmp_path / "first.csv", [""])  # a record of no one said: the token's UKPRN, listed
    register.sync(first)
    token_ukprn = register.trainees(2026)[0]["ukprn"]
    source = mixed_extract(tmp_path / "token.csv", [token_ukprn] * 3)
    register.sync(source)
    for given in (int(token_ukprn), f" {token_ukprn} "):
        result = register.sync(source, ukprn=given)
        assert result.exit_code == 0 and result.report.summary.errors == 0
    assert register.writes() == {"POST /trainees": 3}  # one, then two more; the reruns send nothing
    with pytest.raises(ConfigError, match=r"ukprn '1005219' is not a UKPRN"):
        SyncOptions(target="http://127.0.0.1:1", token="t", state_dir=tmp_path, report_dir=tmp_path, ukprn="1005219")


def test_a_token_whose_trainees_are_in_other_cycles_is_refused_before_anything_is_written(register, tmp_path):
    """The extract's cycles (and those either side) list nobody, but Register holds the token's trainees in another
    recent cycle: a page of one of those shows the token's provider before anything is created."""
    from register_batch.generate import generate

    register.sync(mixed_extract(tmp_path / "theirs.csv", [""] * 2))  # the token's trainees: cycle 2026
    token_ukprn = register.trainees(2026)[0]["ukprn"]
    ours = tmp_path / "ours-2024.csv"
    generate(ours, count=3, fmt="hesa-csv", seed=21, academic_cycle=2024, as_of=AS_OF, ukprn=OURS)
    with pytest.raises(ConfigError, match=f"the API token is provider {token_ukprn}'s"):
        register.sync(ours, ukprn=OURS, dry_run=True)
    with pytest.raises(ConfigError, match=f"the API token is provider {token_ukprn}'s"):
        register.sync(ours, ukprn=OURS)
    assert register.writes() == {"POST /trainees": 2}


def test_the_token_check_names_the_settings_file_that_gave_the_ukprn(tmp_path):
    """A nightly job sets `ukprn` in register-batch.toml: the stop told the person on call to correct `--ukprn`,
    an option that is in neither the unit file nor the crontab."""
    import os

    from cli_runs import run_cli
    from register_batch.emulator import start_emulator

    with start_emulator(tokens=["theirs"], ukprns={"theirs": THEIRS}, rate_limit=None, as_of=AS_OF) as emulator:
        env = {**os.environ, "REGISTER_BATCH_RATE_DIR": "off"}
        for name in ("REGISTER_API_TOKEN", "REGISTER_API_TOKEN_FILE", "REGISTER_BATCH_UKPRN", "REGISTER_API_URL"):
            env.pop(name, None)
        (tmp_path / "token").write_text("theirs\n")
        (tmp_path / "token").chmod(0o600)
        settings = tmp_path / "register-batch.toml"
        settings.write_text(f'target = "{emulator.url}"\ntoken_file = "token"\nstate_dir = "state"\n')
        sync = ["sync", "--as-of", AS_OF.isoformat(), "--rate", "1000/1"]
        first = run_cli([*sync, str(mixed_extract(tmp_path / "theirs.csv", [THEIRS]))], tmp_path, env)
        assert first.returncode == 0, first.stderr
        settings.write_text(settings.read_text() + f'ukprn = "{OURS}"\n')
        refused = run_cli([*sync, str(mixed_extract(tmp_path / "ours.csv", [OURS]))], tmp_path, env)
    assert refused.returncode == 2
    assert _without_run(refused.stderr.splitlines()[-1]).endswith(
        f"not {OURS}'s, given with ukprn in register-batch.toml: nothing was written. Use {OURS}'s token, or "
        f"correct ukprn in register-batch.toml. For provider {OURS} (register-batch.toml)."  # review212 F5
    )


def _without_run(line: str) -> str:
    """An error line without the ledger's run and the time it ends with once the run's row exists (review208 F6)."""
    return re.sub(r" Ledger run \d+, [0-9T:.-]+Z\.$", "", line)


def test_the_command_line_says_which_option_gives_the_records_provider(tmp_path):
    """The stop for a token of another provider than the records' F_UKPRN names the settings as the command line
    takes them (the library says `ukprn`, as SyncOptions takes it)."""
    import os

    from cli_runs import run_cli
    from register_batch.emulator import start_emulator

    with start_emulator(tokens=["theirs"], ukprns={"theirs": THEIRS}, rate_limit=None, as_of=AS_OF) as emulator:
        env = {**os.environ, "REGISTER_BATCH_RATE_DIR": "off", "REGISTER_API_TOKEN": "theirs"}
        for name in ("REGISTER_API_TOKEN_FILE", "REGISTER_BATCH_UKPRN", "REGISTER_API_URL"):
            env.pop(name, None)
        sync = ["sync", "--target", emulator.url, "--state-dir", "state", "--as-of", AS_OF.isoformat()]
        first = run_cli([*sync, str(mixed_extract(tmp_path / "theirs.csv", [THEIRS]))], tmp_path, env)
        assert first.returncode == 0, first.stderr
        refused = run_cli([*sync, str(mixed_extract(tmp_path / "ours.csv", [OURS]))], tmp_path, env)
    assert refused.returncode == 2
    assert _without_run(refused.stderr.splitlines()[-1]).endswith(
        f"Nothing was written. Use {OURS}'s token, and give --ukprn {OURS} in jobs, so that a first load is checked "
        f"before its first create (rehearsing against `register-batch emulator`: start it with --ukprn {OURS})."
    )


def test_a_ukprn_setting_no_record_has_is_a_setup_mistake_that_sends_nothing(register, tmp_path):
    """A nightly job's `ukprn` mistyped, or another provider's extract dropped in its folder: every record would be
    held back as another provider's (exit 1, "records need attention"); it is the setting or the file that is
    wrong, so the run stops before anything starts (exit 2, "tell a person")."""
    source = mixed_extract(tmp_path / "theirs.csv", [THEIRS] * 3)
    with pytest.raises(ConfigError) as refused:
        register.sync(source, ukprn=OURS)
    assert str(refused.value) == (
        f"no record of the inputs is provider {OURS}'s, the UKPRN this run sends for: by F_UKPRN they are {THEIRS}'s. "
        "The ukprn setting or the inputs are wrong: nothing was sent"
    )
    assert refused.value.worded(OPTIONS) == str(refused.value).replace(  # as the command line says it
        "The ukprn setting or", "The ukprn setting (--ukprn, register-batch.toml or $REGISTER_BATCH_UKPRN) or"
    )
    assert register.writes() == {} and not (tmp_path / "state").exists()


def test_a_record_without_a_ukprn_among_other_providers_ones_is_sent_and_they_are_held_back(our_register, tmp_path):
    """A record whose provider cannot be told (no F_UKPRN) may be the run's: it is no setup mistake when the other
    records are all another provider's. It is sent, they are held back one by one (exit 1)."""
    source = mixed_extract(tmp_path / "mixed.csv", [THEIRS, "", THEIRS])
    result = our_register.sync(source, ukprn=OURS)
    assert our_register.writes() == {"POST /trainees": 1}
    assert [t["hesa_id"] for t in our_register.trainees(2026)] == [f"{2601200000000 + 2:013d}"]
    issues = [i for i in our_register.report()["issues"] if i["code"] == "other_provider_record"]
    assert [(i["record"], i["value"]) for i in issues] == [(1, THEIRS), (3, THEIRS)]
    assert result.exit_code == 1


def test_a_training_partners_run_under_its_own_ukprn_says_why_its_records_are_anothers(register, tmp_path):
    """The University of Bolton's 2026 extract under Bolton's own UKPRN: every F_UKPRN is Bolton's, so "by F_UKPRN
    they are Bath Spa's" alone contradicts the file; the stop says it is the training partner pairing."""
    bolton, bath_spa = "10006841", "10000571"
    source = mixed_extract(tmp_path / "bolton.csv", [bolton] * 2)
    with pytest.raises(ConfigError) as refused:
        register.sync(source, ukprn=bolton)
    assert str(refused.value) == (
        f"no record of the inputs is provider {bolton}'s, the UKPRN this run sends for: by F_UKPRN they are "
        f"{bath_spa}'s (F_UKPRN {bolton} is a training partner Register files under {bath_spa} for trainees starting "
        "in 2024 to 2025 or later). The ukprn setting or the inputs are wrong: nothing was sent"
    )
    assert register.writes() == {}


def test_a_training_partners_own_token_is_refused_for_the_records_filed_under_its_accredited_provider(tmp_path):
    """The University of Bolton's nightly job without --ukprn, with Bolton's own token: its 2026 records are Bath
    Spa's (hesa-formats.md §5 item 11), and were filed under Bolton with Bolton as their own training partner, the
    lead school (F_SDLEAD) dropped. Register lists the token's trainees under Bolton: the run stops, as it does
    with --ukprn."""
    import httpx

    from emulated import sync_options
    from register_batch.emulator import start_emulator
    from register_batch.sync import sync_files

    bolton, bath_spa, token = "10006841", "10000571", "bolton-token"
    with start_emulator(tokens=[token], ukprns={token: bolton}, rate_limit=None, as_of=AS_OF) as emulator:

        def sync(path):
            return sync_files([str(path)], sync_options(emulator, tmp_path, token, timeout=5.0))

        def posts() -> int:
            return httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]["POST /trainees"]

        sync(mixed_extract(tmp_path / "unsaid.csv", [""]))  # no F_UKPRN: not checked, and sent
        assert posts() == 1
        with pytest.raises(ConfigError) as refused:
            sync(mixed_extract(tmp_path / "bolton.csv", [bolton] * 3))
        assert str(refused.value) == (
            f"the API token is provider {bolton}'s (Register lists its trainees under that UKPRN), a training partner "
            f"Register files under {bath_spa} for trainees starting in 2024 to 2025 or later: 3 records of F_UKPRN "
            f"{bolton} are {bath_spa}'s, and would be filed under {bolton}. Nothing was written. Send them with "
            f"{bath_spa}'s token and ukprn {bath_spa}."
        )
        assert posts() == 1


def test_a_training_partners_own_token_refused_for_one_record_says_it_in_the_singular(tmp_path):
    """One record of the training partner's F_UKPRN: "1 record ... is", as people read it."""
    from emulated import sync_options
    from register_batch.emulator import start_emulator
    from register_batch.sync import sync_files

    bolton, bath_spa, token = "10006841", "10000571", "bolton-token"
    with start_emulator(tokens=[token], ukprns={token: bolton}, rate_limit=None, as_of=AS_OF) as emulator:
        options = sync_options(emulator, tmp_path, token, timeout=5.0)
        sync_files([str(mixed_extract(tmp_path / "unsaid.csv", [""]))], options)  # lists the token's provider
        with pytest.raises(ConfigError) as refused:
            sync_files([str(mixed_extract(tmp_path / "bolton.csv", [bolton]))], options)
    assert f": 1 record of F_UKPRN {bolton} is {bath_spa}'s, and would be filed under {bolton}." in str(refused.value)


def test_towards_the_sandbox_a_training_partners_own_token_is_still_refused_for_its_accredited_providers_records(
    tmp_path, monkeypatch
):
    """Towards the sandbox the records' F_UKPRN does not check the token (its test provider's UKPRN may be another),
    but a training partner's own token for records Register files under their accredited provider is still refused:
    nothing is written to the partner's account."""
    import httpx

    from emulated import sync_options
    from register_batch.api.client import TARGETS
    from register_batch.emulator import start_emulator
    from register_batch.sync import sync_files

    bolton, bath_spa, token = "10006841", "10000571", "bolton-token"
    with start_emulator(tokens=[token], ukprns={token: bolton}, rate_limit=None, as_of=AS_OF) as emulator:
        monkeypatch.setitem(TARGETS, "sandbox", emulator.url)
        options = sync_options(emulator, tmp_path, token, timeout=5.0)
        sync_files([str(mixed_extract(tmp_path / "unsaid.csv", [""]))], options)  # lists the token's provider
        with pytest.raises(ConfigError, match=f"a training partner Register files under {bath_spa}"):
            sync_files([str(mixed_extract(tmp_path / "bolton.csv", [bolton] * 2))], options)
        posts = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]["POST /trainees"]
    assert posts == 1


def test_a_training_partners_records_sync_under_its_accredited_provider(tmp_path, monkeypatch):
    """The University of Bolton's extract, sent with Bath Spa University's token (hesa-formats.md §5 item 11):
    created with Bolton as training partner, as Register's HESA import filed them, and unchanged on a rerun."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    bolton, bath_spa = "10006841", "10000571"
    sync_twice_embedded(tmp_path, monkeypatch, [bolton] * 2, bath_spa)
    exported = tmp_path / "held.jsonl"
    done = CliRunner().invoke(cli, ["export", "--academic-cycle", "2026", "--to", "jsonl", "--output", str(exported)])
    assert done.exit_code == 0, done.output
    held = [json.loads(line) for line in exported.read_text().splitlines()]
    assert [(t["ukprn"], t["training_partner_ukprn"]) for t in held] == [(bath_spa, bolton)] * 2


def test_without_ukprn_the_refusal_says_why_a_training_partners_records_are_anothers(register, tmp_path):
    """The University of Bolton's records are Bath Spa's from the 2024 cycle: with a third provider's token, "the
    records are 10000571's (F_UKPRN)" of records whose F_UKPRN is all 10006841 read as a contradiction. It says
    why, as the stop for a --ukprn no record has does."""
    bolton, bath_spa = "10006841", "10000571"
    register.sync(mixed_extract(tmp_path / "first.csv", [""] * 2))  # records of no one said: nothing to tell by
    token_ukprn = register.trainees(2026)[0]["ukprn"]
    with pytest.raises(ConfigError) as refused:
        register.sync(mixed_extract(tmp_path / "again.csv", [bolton] * 3))
    assert str(refused.value).startswith(
        f"the API token is provider {token_ukprn}'s (Register lists its trainees under that UKPRN), but the records "
        f"are {bath_spa}'s (F_UKPRN {bolton} is a training partner Register files under {bath_spa} for trainees "
        f"starting in 2024 to 2025 or later): Register would file them under {token_ukprn}. Nothing was written."
    )


def listings(seen: list[Seen]) -> list[tuple[int, int]]:
    """(academic_cycle, per_page) of each listing of trainees among the requests `seen`, in order."""
    return [
        (int(one.query["academic_cycle"][0]), int(one.query["per_page"][0]))
        for one in seen
        if one.method == "GET" and one.path.endswith("/trainees")
    ]


@pytest.mark.parametrize(
    ("theirs", "ours", "probed"),
    [(2027, 2024, [2027]), (2022, 2025, [2027, 2023, 2022])],
    ids=["next-cycle", "four-before"],
)
def test_the_token_is_looked_for_from_the_next_cycle_back_to_four_before_this_one(
    register, tmp_path, theirs, ours, probed
):
    """Before the first write, with nobody listed in the extract's cycles (nor those either side), a page of one of
    each other recent cycle (next cycle first, then this one and four before: 2027 back to 2022 as of 2026-11-28)
    until one shows the token's trainee: here the token's trainees are at either end of that range."""

    register.sync(write_extract(tmp_path / "theirs.csv", [started_in(theirs, trainee(1))]))  # one: a page of one
    token_ukprn = register.trainees(theirs)[0]["ukprn"]
    source = tmp_path / "ours.csv"
    generate(source, count=2, fmt="hesa-csv", seed=21, academic_cycle=ours, as_of=AS_OF, ukprn=OURS)
    refused = pytest.raises(ConfigError, match=f"the API token is provider {token_ukprn}'s")
    with fronting(register.emulator.url, lambda seen, forward: None) as front, refused:
        register.sync(source, ukprn=OURS, target=front.url, target_identity=register.emulator.url)
    listed = listings(front.seen)
    assert sorted(cycle for cycle, per_page in listed if per_page != 1) == [ours - 1, ours, ours + 1]
    assert [cycle for cycle, per_page in listed if per_page == 1] == probed
    assert register.writes() == {"POST /trainees": 1}


def test_a_first_load_looks_for_the_token_in_each_recent_cycle_not_listed_then_writes(our_register, tmp_path):
    """Nobody anywhere (a first load): one page of one for each recent cycle the run did not list, no further back
    than four cycles before this one, then the records are created."""

    source = tmp_path / "ours.csv"
    generate(source, count=2, fmt="hesa-csv", seed=21, academic_cycle=2026, as_of=AS_OF, ukprn=OURS)
    with fronting(our_register.emulator.url, lambda seen, forward: None) as front:
        result = our_register.sync(source, ukprn=OURS, target=front.url, target_identity=our_register.emulator.url)
    assert result.exit_code == 0 and our_register.writes() == {"POST /trainees": 2}
    assert [cycle for cycle, per_page in listings(front.seen) if per_page == 1] == [2024, 2023, 2022]


def test_the_look_for_the_token_passes_a_cycle_register_has_not_opened_and_stops_before_its_first(
    our_register, tmp_path
):
    """A cycle Register answers 422 for is one it has no row for: after this one (not opened yet), the look goes on
    to the cycles before; before this one (Register's first is later), there is nothing older to look in."""

    def opened_2024_to_2026(seen, forward):
        cycle = seen.query.get("academic_cycle", ["0"])[0]
        if seen.method == "GET" and seen.path.endswith("/trainees") and not 2024 <= int(cycle) <= 2026:
            body = f'{{"errors":{{"academic_cycle":["{cycle} is not a valid academic cycle year"]}}}}'.encode()
            return 422, {"Content-Type": "application/json"}, body
        return None

    source = tmp_path / "ours.csv"
    generate(source, count=2, fmt="hesa-csv", seed=21, academic_cycle=2025, as_of=AS_OF, ukprn=OURS)
    with fronting(our_register.emulator.url, opened_2024_to_2026) as front:
        result = our_register.sync(source, ukprn=OURS, target=front.url, target_identity=our_register.emulator.url)
    assert result.exit_code == 0 and our_register.writes() == {"POST /trainees": 2}
    assert [cycle for cycle, per_page in listings(front.seen) if per_page == 1] == [2027, 2023]


def test_the_look_for_the_token_stops_at_its_provider_and_is_not_made_when_there_is_nothing_to_tell(tmp_path):
    """With the token's own --ukprn: the look stops at the first cycle that shows the provider; it is not made when
    the run has no --ukprn (nothing to check the token against) or when the listings showed the provider already."""

    token = "our-token"
    with start_emulator(tokens=[token], ukprns={token: OURS}, rate_limit=None, as_of=AS_OF) as emulator:
        with fronting(emulator.url, lambda seen, forward: None) as front:

            def probes(path: Path, **extra) -> list[int]:
                before = len(front.seen)
                options = sync_options(emulator, tmp_path, token, target=front.url, timeout=5.0, **extra)
                assert sync_files([str(path)], options).exit_code == 0
                return [cycle for cycle, per_page in listings(front.seen[before:]) if per_page == 1]

            assert probes(write_extract(tmp_path / "2023.csv", [started_in(2023, trainee(1))])) == []
            ours, more = tmp_path / "ours.csv", tmp_path / "more.csv"
            generate(ours, count=2, fmt="hesa-csv", seed=21, academic_cycle=2026, as_of=AS_OF, ukprn=OURS)
            generate(more, count=2, fmt="hesa-csv", seed=22, academic_cycle=2026, as_of=AS_OF, ukprn=OURS)
            assert probes(ours, ukprn=OURS) == [2024, 2023]
            assert probes(more, ukprn=OURS) == []
        posts = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]["POST /trainees"]
    assert posts == 5


def test_a_run_with_nothing_to_write_does_not_look_for_the_token(register, tmp_path):
    """Every record of --ukprn's provider is invalid: nothing would be written, so there is nothing to guard, and no
    listing at all is made (none of the extract's cycles, none of the look's)."""
    row = hesa_trainee(1, degrees=1, placements=1)
    row["F_UKPRN"], row["F_BIRTHDTE"] = OURS, "not a date"
    source = write_hesa_csv(tmp_path / "invalid.csv", [row])
    with fronting(register.emulator.url, lambda seen, forward: None) as front:
        result = register.sync(source, ukprn=OURS, target=front.url, target_identity=register.emulator.url)
    assert result.actions == {"invalid": 1} and register.writes() == {}
    assert listings(front.seen) == []


def test_a_training_partners_own_token_whose_trainees_are_in_other_cycles_is_refused_too(tmp_path):
    """As above, but Bolton's token has trainees only in an earlier cycle: without --ukprn, its records filed under
    their accredited provider make the run look for the token in the other recent cycles, and it stops there."""
    bolton, bath_spa, token = "10006841", "10000571", "bolton-token"
    with start_emulator(tokens=[token], ukprns={token: bolton}, rate_limit=None, as_of=AS_OF) as emulator:
        options = sync_options(emulator, tmp_path, token, timeout=5.0)
        sync_files([str(write_extract(tmp_path / "2023.csv", [started_in(2023, trainee(1))]))], options)
        with pytest.raises(ConfigError, match=f"the API token is provider {bolton}'s .* {bath_spa}'s token"):
            sync_files([str(mixed_extract(tmp_path / "bolton.csv", [bolton] * 3))], options)
        posts = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]["POST /trainees"]
    assert posts == 1


def test_a_create_left_unanswered_before_the_first_answered_one_is_named_as_perhaps_in_the_other_account(tmp_path):
    """Record 1's create met a 500 and, sent again, was carried out with its answer lost: unknown, and the run went on.
    Record 2's answer then showed the other provider, and the stop said "nothing else was written" though record 1's
    trainee was in that account too. The next run, with the right token, creates all three there, once each."""
    theirs, ours = "their-token", "our-token"
    ukprns = {theirs: THEIRS, ours: OURS}
    with start_emulator(tokens=[theirs, ours], ukprns=ukprns, rate_limit=None, as_of=AS_OF) as emu:
        source = mixed_extract(tmp_path / "ours.csv", [OURS] * 3)
        client = _creates_failed_then_lost(emu, theirs, ["500:1.0", "lost-response:1.0"])
        with client, pytest.raises(ConfigError) as refused:
            sync_files([str(source)], sync_options(emu, tmp_path, theirs, timeout=5.0, ukprn=OURS), client=client)
        assert sorted(_held(emu, theirs)) == ["2601200000001", "2601200000002"]
        assert (
            f"(line 3 of {source}), is in {THEIRS}'s account (and perhaps the trainee of line 2 of {source}, whose "
            "create went unanswered), and nothing else was written" in str(refused.value)
        ), refused.value
        done = sync_files([str(source)], sync_options(emu, tmp_path, ours, timeout=5.0, ukprn=OURS))
        assert done.exit_code == 0 and sorted(_held(emu, ours)) == ["2601200000001", "2601200000002", "2601200000003"]


def test_creates_left_unanswered_before_the_first_answered_one_are_all_named_as_perhaps_in_the_other_account(tmp_path):
    """Two records' creates went unanswered (each a 500, then carried out with its answer lost) before record 3's
    answer showed the other provider: the stop names both, in the plural."""
    theirs = "their-token"
    with start_emulator(tokens=[theirs], ukprns={theirs: THEIRS}, rate_limit=None, as_of=AS_OF) as emu:
        source = mixed_extract(tmp_path / "ours.csv", [OURS] * 3)
        client = _creates_failed_then_lost(emu, theirs, ["500:1.0", "lost-response:1.0"] * 2)
        with client, pytest.raises(ConfigError) as refused:
            sync_files([str(source)], sync_options(emu, tmp_path, theirs, timeout=5.0, ukprn=OURS), client=client)
        assert sorted(_held(emu, theirs)) == ["2601200000001", "2601200000002", "2601200000003"]
    assert (
        f"(line 4 of {source}), is in {THEIRS}'s account (and perhaps the trainees of line 2 of {source}, "
        f"line 3 of {source}, whose creates went unanswered), and nothing else was written" in str(refused.value)
    ), refused.value


def _night(path: Path, numbers) -> Path:
    """Records of Register's CSV sort, which say no provider (no F_UKPRN, and no --ukprn given): the state dir's
    provider is all there is to tell a token by."""
    return write_hesa_csv(path, [{**hesa_trainee(n), "F_UKPRN": ""} for n in numbers])


def _their_account(emulator, tmp_path, their_token) -> None:
    """The other provider's account holds a trainee of 2026, synced from a state dir of their own, as a real
    provider's account does."""
    options = sync_options(emulator, tmp_path, their_token, state_dir=tmp_path / "their-state")
    sync_files([str(_night(tmp_path / "theirs.csv", [9]))], options)


def _ledger_provider(state_dir: Path) -> str | None:
    with closing(sqlite3.connect(state_dir / "ledger.sqlite3")) as db:
        row = db.execute("SELECT value FROM meta WHERE key = 'ukprn'").fetchone()
    return row[0] if row else None


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_state_dir_refuses_another_providers_token_that_its_listing_shows(tmp_path, dry_run):
    """Without --ukprn and with records that say no provider, a state dir used with another provider's token (two jobs'
    settings mixed up in a vendor's nightly run) would send the night's new trainees to that provider's account. Its
    ledger knows whose its trainees are: the listing shows the token is another's, and nothing is written."""
    theirs, ours = "their-token", "our-token"
    ukprns = {theirs: THEIRS, ours: OURS}
    with start_emulator(tokens=[theirs, ours], ukprns=ukprns, rate_limit=None, as_of=AS_OF) as emulator:
        _their_account(emulator, tmp_path, theirs)
        monday = sync_files([str(_night(tmp_path / "monday.csv", [1, 2]))], sync_options(emulator, tmp_path, ours))
        assert monday.exit_code == 0 and _ledger_provider(tmp_path / "state") == OURS
        tuesday = _night(tmp_path / "tuesday.csv", [3, 4])
        with pytest.raises(ConfigError) as refused:
            sync_files([str(tuesday)], sync_options(emulator, tmp_path, theirs, dry_run=dry_run))
        assert str(refused.value) == (
            f"the API token is provider {THEIRS}'s (Register lists its trainees under that UKPRN), not {OURS}'s, under "
            f"whom Register files the trainees of the state dir {tmp_path / 'state'}: nothing was written. Use "
            f"{OURS}'s token with this state dir, or another state_dir for {THEIRS}'s syncs."
        )
        assert list(_held(emulator, theirs)) == ["2601200000009"]
        assert _ledger_provider(tmp_path / "state") == OURS
        # With its own token the night goes ahead.
        again = sync_files([str(tuesday)], sync_options(emulator, tmp_path, ours))
        assert again.exit_code == 0 and again.outcomes["done"] == 2, again.summary_line()
        assert sorted(_held(emulator, ours)) == [f"{2601200000000 + n:013d}" for n in (1, 2, 3, 4)]


def test_a_state_dir_refuses_another_providers_token_at_the_first_create_when_nothing_is_listed(tmp_path):
    """An account with no trainee in the night's cycles (a new provider's) lists nothing to tell the token by, and no
    request is made for it: the first create's answer tells. One trainee is in their account, and the message names it;
    the next run, with the right token, creates that record in the right account."""
    theirs, ours = "their-token", "our-token"
    ukprns = {theirs: THEIRS, ours: OURS}
    with start_emulator(tokens=[theirs, ours], ukprns=ukprns, rate_limit=None, as_of=AS_OF) as emulator:
        sync_files([str(_night(tmp_path / "monday.csv", [1, 2]))], sync_options(emulator, tmp_path, ours))
        tuesday = _night(tmp_path / "tuesday.csv", [3, 4])
        with pytest.raises(ConfigError) as refused:
            sync_files([str(tuesday)], sync_options(emulator, tmp_path, theirs))
        [(husid, trainee_id)] = _held(emulator, theirs).items()
        assert husid == "2601200000003"
        assert str(refused.value) == (
            f"the API token is provider {THEIRS}'s (Register filed the first trainee this run created under that "
            f"UKPRN), not {OURS}'s, under whom Register files the trainees of the state dir {tmp_path / 'state'}: that "
            f"trainee, {trainee_id} (line 2 of {tuesday}), is in {THEIRS}'s account, and nothing else was written; "
            f"Register's API cannot delete a trainee: ask Register's support to remove it. Use {OURS}'s token with "
            f"this state dir, or another state_dir for {THEIRS}'s syncs. The next run creates that record too."
        )
        again = sync_files([str(tuesday)], sync_options(emulator, tmp_path, ours))
        assert again.exit_code == 0 and again.outcomes["done"] == 2, again.summary_line()
        assert sorted(_held(emulator, ours)) == [f"{2601200000000 + n:013d}" for n in (1, 2, 3, 4)]
        assert list(_held(emulator, theirs)) == [husid]


def test_a_new_state_dir_for_an_account_that_holds_trainees_is_bound_by_its_first_create(tmp_path):
    """A new state dir for a provider whose account already holds trainees (synced from another state dir): the
    first run binds it, and the next night's mixed-up token is refused by the listing, nothing written. Without
    `ukprn`, a first run that would only create, none of the account's trainees one of its records, is refused as
    another provider's token is (review212 F1): given with one record Register holds, it creates and binds."""
    theirs, ours = "their-token", "our-token"
    ukprns = {theirs: THEIRS, ours: OURS}
    with start_emulator(tokens=[theirs, ours], ukprns=ukprns, rate_limit=None, as_of=AS_OF) as emulator:
        _their_account(emulator, tmp_path, theirs)
        earlier = sync_options(emulator, tmp_path, ours, state_dir=tmp_path / "earlier-state")
        sync_files([str(_night(tmp_path / "earlier.csv", [8]))], earlier)
        with pytest.raises(ConfigError, match="none of them one of the records, and this run would create 1 record"):
            sync_files([str(_night(tmp_path / "monday.csv", [1]))], sync_options(emulator, tmp_path, ours))
        monday = sync_files([str(_night(tmp_path / "monday.csv", [1, 8]))], sync_options(emulator, tmp_path, ours))
        assert monday.actions == {"create": 1, "unchanged": 1} and _ledger_provider(tmp_path / "state") == OURS
        with pytest.raises(ConfigError, match=f"not {OURS}'s, under whom Register files the trainees of the state dir"):
            sync_files([str(_night(tmp_path / "tuesday.csv", [2]))], sync_options(emulator, tmp_path, theirs))
        assert list(_held(emulator, theirs)) == ["2601200000009"]


@pytest.mark.parametrize("first", ["matches only", "creates, --ukprn given"])
def test_a_new_state_dir_is_bound_by_its_first_run_into_an_account_that_holds_trainees(tmp_path, first):
    """A state dir's first run into an account that already held trainees (a state dir lost and made again, or a
    first run over trainees another state dir synced) left it bound to no provider when it matched them only, or
    created with --ukprn (the listing had shown the provider, so the create's answer was not looked at): the next
    night's mixed-up token was not refused, and sent that night's trainees to the other account (review127 F3). The
    listing's provider binds it, with no request more."""
    theirs, ours = "their-token", "our-token"
    ukprns = {theirs: THEIRS, ours: OURS}
    state = tmp_path / "state"
    with start_emulator(tokens=[theirs, ours], ukprns=ukprns, rate_limit=None, as_of=AS_OF) as emulator:
        _their_account(emulator, tmp_path, theirs)
        earlier = sync_options(emulator, tmp_path, ours, state_dir=tmp_path / "earlier-state")
        sync_files([str(_night(tmp_path / "earlier.csv", [1, 8]))], earlier)
        ukprn = {"ukprn": OURS} if first == "creates, --ukprn given" else {}
        numbers = [1, 8] if first == "matches only" else [2]  # all matched, or all created
        monday = sync_files(
            [str(_night(tmp_path / "monday.csv", numbers))], sync_options(emulator, tmp_path, ours, **ukprn)
        )
        # The listing; for the create, the cycles either side (§4's 409 compares cycles) and the create: no more.
        requests = 1 if first == "matches only" else 4
        assert monday.exit_code == 0 and monday.requests["total"] == requests, monday.summary_line()
        assert _ledger_provider(state) == OURS
        mixed_up = sync_options(emulator, tmp_path, theirs, **({"ukprn": THEIRS} if ukprn else {}))
        with pytest.raises(ConfigError, match=f"not {OURS}'s, under whom Register files the trainees of the state dir"):
            sync_files([str(_night(tmp_path / "tuesday.csv", [3]))], mixed_up)
        assert list(_held(emulator, theirs)) == ["2601200000009"]


def test_a_ledger_of_an_older_version_takes_its_provider_from_its_own_trainees_only(tmp_path):
    """A ledger made before it kept the provider has none: the first of its own trainees Register shows gives it. A
    run with another provider's token, which lists only that provider's trainees (none of the ledger's), gives it
    none: the ledger would otherwise be bound to the wrong provider, and refuse the right token ever after."""
    theirs, ours = "their-token", "our-token"
    ukprns = {theirs: THEIRS, ours: OURS}
    state = tmp_path / "state"
    with start_emulator(tokens=[theirs, ours], ukprns=ukprns, rate_limit=None, as_of=AS_OF) as emulator:
        _their_account(emulator, tmp_path, theirs)
        night = _night(tmp_path / "night.csv", [1, 2])
        sync_files([str(night)], sync_options(emulator, tmp_path, ours))
        with closing(sqlite3.connect(state / "ledger.sqlite3")) as db, db:
            db.execute("DELETE FROM meta WHERE key = 'ukprn'")  # as an older version left it
        # Their token: the ledger's trainees are not theirs to see (conflicts, nothing written), nor adopted.
        mixed_up = sync_files([str(night)], sync_options(emulator, tmp_path, theirs))
        assert mixed_up.actions == {"conflict": 2} and _ledger_provider(state) is None
        assert list(_held(emulator, theirs)) == ["2601200000009"]
        # Ours: unchanged, and the provider of the ledger's trainees listed is kept.
        assert sync_files([str(night)], sync_options(emulator, tmp_path, ours)).actions == {"unchanged": 2}
        assert _ledger_provider(state) == OURS
        with pytest.raises(ConfigError, match=f"not {OURS}'s, under whom Register files the trainees of the state dir"):
            sync_files([str(night)], sync_options(emulator, tmp_path, theirs))


def test_the_command_line_refuses_another_providers_token_for_a_state_dir_in_one_line(tmp_path, monkeypatch):
    """Exit 2, one line naming both UKPRNs, the state dir and the option to change; never the token."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    theirs, ours = "their-token-0123456789", "our-token"
    ukprns = {theirs: THEIRS, ours: OURS}
    with start_emulator(tokens=[theirs, ours], ukprns=ukprns, rate_limit=None, as_of=AS_OF) as emulator:
        _their_account(emulator, tmp_path, theirs)
        sync_files([str(_night(tmp_path / "monday.csv", [1]))], sync_options(emulator, tmp_path, ours))
        monkeypatch.setenv("REGISTER_API_TOKEN", theirs)
        monkeypatch.setenv("REGISTER_BATCH_RATE_DIR", "off")
        args = [
            "sync",
            str(_night(tmp_path / "tuesday.csv", [2])),
            *("--target", emulator.url, "--state-dir", str(tmp_path / "state"), "--as-of", AS_OF.isoformat()),
            *("--report-dir", str(tmp_path / "reports")),
        ]
        result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    [line] = result.stderr.strip().splitlines()
    assert theirs not in result.output
    # where the token came from (review183 F1)
    assert f"the API token from $REGISTER_API_TOKEN is provider {THEIRS}'s" in line and f"not {OURS}'s" in line, line
    assert line.startswith("register-batch: error: the API token from $REGISTER_API_TOKEN is provider"), line
    assert f"or another --state-dir for {THEIRS}'s syncs." in line, line


def test_a_ledger_of_an_older_version_that_adopts_its_provider_from_the_listing_makes_no_look_for_the_token(tmp_path):
    """The listing showed one of the ledger's own trainees under the token's provider: that is the check, made; the
    night's create goes ahead without a page of each other recent cycle asked for first."""
    token = "our-token"
    state = tmp_path / "state"
    with start_emulator(tokens=[token], ukprns={token: OURS}, rate_limit=None, as_of=AS_OF) as emulator:
        with fronting(emulator.url, lambda seen, forward: None) as front:
            options = sync_options(emulator, tmp_path, token, target=front.url, timeout=5.0)
            sync_files([str(_night(tmp_path / "monday.csv", [1]))], options)
            with closing(sqlite3.connect(state / "ledger.sqlite3")) as db, db:
                db.execute("DELETE FROM meta WHERE key = 'ukprn'")  # as an older version left it
            before = len(front.seen)
            tuesday = sync_files([str(_night(tmp_path / "tuesday.csv", [1, 3]))], options)
        assert tuesday.actions == {"unchanged": 1, "create": 1}, tuesday.summary_line()
        assert [per_page for _cycle, per_page in listings(front.seen[before:])].count(1) == 0  # no look
        assert _ledger_provider(state) == OURS


def test_a_bound_state_dir_whose_listing_shows_its_provider_makes_no_look_for_the_token(tmp_path):
    """The night's cycle lists only trainees of the state dir's provider that another state dir synced: their UKPRN
    is the one the state dir is bound to, which is the check, made; the night's create goes ahead without a page of
    each other recent cycle asked for first."""
    token = "our-token"
    with start_emulator(tokens=[token], ukprns={token: OURS}, rate_limit=None, as_of=AS_OF) as emulator:
        with fronting(emulator.url, lambda seen, forward: None) as front:
            options = sync_options(emulator, tmp_path, token, target=front.url, timeout=5.0)
            sync_files([str(write_extract(tmp_path / "monday.csv", [trainee(1)]))], options)
            assert _ledger_provider(tmp_path / "state") == OURS
            elsewhere = sync_options(emulator, tmp_path, token, state_dir=tmp_path / "elsewhere")
            sync_files([str(write_extract(tmp_path / "other.csv", [started_in(2023, trainee(8))]))], elsewhere)
            before = len(front.seen)
            night = write_extract(tmp_path / "tuesday.csv", [started_in(2023, trainee(2))])
            tuesday = sync_files([str(night)], options)
        assert tuesday.actions == {"create": 1}, tuesday.summary_line()
        assert [per_page for _cycle, per_page in listings(front.seen[before:])].count(1) == 0  # no look
