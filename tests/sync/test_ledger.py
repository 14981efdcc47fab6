"""The ledger: durable per-record state, bound to one target, one run at a time per state dir."""

from __future__ import annotations

import errno
import json
import logging
import os
import sqlite3
import stat
import subprocess
import sys
import threading
from collections import Counter
from datetime import UTC, datetime

import httpx
import pytest

from cli_runs import files_limited_to, sync_command
from emulated import AS_OF
from register_batch.api import RateLimiter, RegisterClient
from register_batch.commands.common import OPTIONS
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.sync.ledger import (
    LEDGER_FILE,
    Ledger,
    LedgerUnwritable,
    ProviderBusy,
    ProviderLock,
    StateDirLock,
    StateDirLocked,
)
from trainee_extracts import extract


def test_records_survive_reopening_and_attempts_count(tmp_path, open_ledger):
    ledger = Ledger(tmp_path, "https://example.test")
    ledger.start_run(dry_run=False)
    ledger.record("hesa:1", "in_flight", hesa_id="1", operation="create", attempt=True)
    ledger.record("hesa:1", "done", trainee_id="T" * 24, operation="create", payload_hash="abc")
    ledger.close()
    again = open_ledger(tmp_path, "https://example.test")
    entry = again.get("hesa:1")
    assert (entry.status, entry.trainee_id, entry.hesa_id, entry.attempts) == ("done", "T" * 24, "1", 1)
    assert again.unresolved() == []
    assert stat.S_IMODE((tmp_path / "ledger.sqlite3").stat().st_mode) == 0o600


def test_a_new_ledger_is_owner_only_from_the_start(tmp_path):
    """It holds trainee ids and Register's messages: not readable by others for the run that made it, either."""
    ledger = Ledger(tmp_path, "https://example.test")
    assert stat.S_IMODE((tmp_path / "ledger.sqlite3").stat().st_mode) == 0o600
    ledger.close()


def test_what_the_ledger_knows_of_a_record_is_kept_by_a_later_mark_that_does_not_say_it(tmp_path, open_ledger):
    """A later mark (a conflict, an unknown outcome) that names no trainee, HUSID, SRS id, source or payload does not
    forget the ones the ledger knew: the record stays linked to its trainee."""
    ledger = open_ledger(tmp_path, "t")
    ledger.record(
        "hesa:1",
        "done",
        hesa_id="1",
        provider_trainee_id="SRS1",
        source="extract.xml#1",
        operation="create",
        trainee_id="T" * 24,
        payload_hash="abc",
    )
    ledger.record("hesa:1", "conflict", errors=["more than one trainee in Register matches this record"])
    entry = open_ledger(tmp_path, "t").get("hesa:1")
    assert (entry.hesa_id, entry.provider_trainee_id, entry.source, entry.trainee_id, entry.payload_hash) == (
        "1",
        "SRS1",
        "extract.xml#1",
        "T" * 24,
        "abc",
    )
    assert entry.status == "conflict" and ledger.links() == {"hesa:1": "T" * 24}


def test_a_later_mark_replaces_the_last_write_its_status_and_its_messages(tmp_path, open_ledger):
    """The entry says what was sent last: a withdrawal sent after the create is the write the next run looks up."""
    ledger = open_ledger(tmp_path, "t")
    first = ledger.start_run(dry_run=False)
    ledger.record("hesa:1", "failed", operation="create", http_status=422, errors=["sex is not included in the list"])
    ledger.finish_run("finished", {})
    second = ledger.start_run(dry_run=False)
    ledger.record("hesa:1", "in_flight", operation="withdraw", trainee_id="T" * 24)
    [entry] = open_ledger(tmp_path, "t").unresolved()
    assert (entry.operation, entry.status, entry.http_status, entry.errors) == ("withdraw", "in_flight", None, [])
    assert entry.run_id == second != first and ledger.entries_of_runs([first]) == {}


def test_a_ledgers_wal_and_shm_left_readable_by_others_are_tightened_when_it_is_opened(tmp_path, open_ledger):
    """Left by a crash and copied in with a wider mode: they hold the ledger's latest changes (docs/security.md)."""
    crashed = open_ledger(tmp_path, "t")
    crashed.record("hesa:1", "in_flight", operation="create")
    for extra in ("ledger.sqlite3-wal", "ledger.sqlite3-shm"):
        (tmp_path / extra).chmod(0o644)
    open_ledger(tmp_path, "t")
    for extra in ("ledger.sqlite3-wal", "ledger.sqlite3-shm"):
        assert stat.S_IMODE((tmp_path / extra).stat().st_mode) == 0o600


def test_the_servers_messages_survive_reopening(tmp_path, open_ledger):
    ledger = Ledger(tmp_path, "t")
    ledger.record("hesa:1", "failed", operation="create", http_status=422, errors=["sex is not included in the list"])
    ledger.record("hesa:2", "done", operation="create", trainee_id="T" * 24)
    ledger.close()
    again = open_ledger(tmp_path, "t")
    assert (again.get("hesa:1").http_status, again.get("hesa:1").errors) == (422, ["sex is not included in the list"])
    assert again.get("hesa:2").errors == []


@pytest.mark.parametrize("status", ["in_flight", "done", "failed", "unknown", "conflict", "blocked"])
def test_every_status_a_sync_records_survives_reopening(tmp_path, status, open_ledger):
    open_ledger(tmp_path, "t").record("hesa:1", status, operation="create")
    assert open_ledger(tmp_path, "t").get("hesa:1").status == status


def test_the_provider_of_a_ledgers_trainees_survives_reopening_while_it_links_any(tmp_path, open_ledger):
    """Ledger.provider: the UKPRN adopted, once a record is linked to a trainee; with none linked, none (a run that
    linked no one, as with its records all invalid, binds nothing: the next run's provider is taken)."""
    ledger = open_ledger(tmp_path, "t")
    assert ledger.provider() is None
    ledger.adopt_provider("10052198")
    assert ledger.provider() is None and not ledger.links_to("t1")
    ledger.record("hesa:1", "in_flight", operation="create", trainee_id="")  # a create out: no trainee yet
    assert ledger.provider() is None
    ledger.record("hesa:1", "done", trainee_id="t1")
    assert ledger.links_to("t1") and not ledger.links_to("t2")
    ledger.close()
    assert open_ledger(tmp_path, "t").provider() == "10052198"


def test_a_record_the_ledger_never_saw_has_no_entry(tmp_path, open_ledger):
    ledger = open_ledger(tmp_path, "t")
    ledger.record("hesa:1", "done", trainee_id="T" * 24)
    assert ledger.get("hesa:2") is None


def test_an_unknown_status_is_refused_and_nothing_is_recorded(tmp_path, open_ledger):
    ledger = open_ledger(tmp_path, "t")
    with pytest.raises(ValueError, match="unknown ledger status 'sent'"):
        ledger.record("hesa:1", "sent", operation="create")
    assert ledger.get("hesa:1") is None


def test_the_run_id_start_run_gives_is_the_one_its_records_carry(tmp_path, open_ledger):
    ledger = open_ledger(tmp_path, "t")
    ledger.start_run(dry_run=False)
    ledger.record("hesa:1", "done", trainee_id="T" * 24)
    ledger.finish_run("finished", {})
    second = ledger.start_run(dry_run=False)
    ledger.record("hesa:2", "done", trainee_id="U" * 24)
    assert list(ledger.entries_of_runs([second])) == ["hesa:2"]
    assert ledger.get("hesa:2").run_id == second


def test_an_unanswered_create_keeps_its_cycle_until_register_answers_it(tmp_path, open_ledger):
    """The next run lists the cycle of a create left unanswered (killed, or a look-up that failed), and only that."""
    ledger = open_ledger(tmp_path, "t")
    ledger.start_run(dry_run=False)
    ledger.record("hesa:1", "in_flight", operation="create", create_for_cycle=2025)
    ledger.record("hesa:2", "in_flight", operation="create", create_for_cycle=2026)
    ledger.record("hesa:2", "unknown", operation="create")
    ledger.record("hesa:3", "in_flight", operation="update", trainee_id="T" * 24)
    ledger.record("hesa:4", "in_flight", operation="create")  # its start date unknown: no cycle to look in
    assert ledger.unsettled_creates() == {"hesa:1": 2025, "hesa:2": 2026}
    ledger.record("hesa:1", "done", operation="create", trainee_id="U" * 24)  # answered: Register said who
    ledger.record("hesa:2", "failed", operation="create", http_status=422)  # refused: nobody was created
    assert ledger.unsettled_creates() == {}


def test_a_create_sent_again_for_another_cycle_is_looked_for_in_the_latest(tmp_path, open_ledger):
    """A create left unanswered, sent again by a later run after the record's start moved a year: the next run looks
    in the cycle of the create last sent."""
    ledger = open_ledger(tmp_path, "t")
    ledger.record("hesa:1", "in_flight", operation="create", create_for_cycle=2025)
    ledger.record("hesa:1", "unknown", operation="create")
    ledger.record("hesa:1", "in_flight", operation="create", create_for_cycle=2026)
    assert open_ledger(tmp_path, "t").unsettled_creates() == {"hesa:1": 2026}


@pytest.mark.parametrize("named,unsettled", [("T" * 24, {}), ("", {"hesa:1": 2025})], ids=["a trainee", "an empty id"])
def test_a_create_whose_trainee_register_named_has_no_cycle_left_to_look_in(tmp_path, named, unsettled, open_ledger):
    """A 409 named the trainee (the run was killed before its next step): the next run knows who it is. An empty
    trainee_id names nobody, as in links()."""
    ledger = open_ledger(tmp_path, "t")
    ledger.record("hesa:1", "in_flight", operation="create", create_for_cycle=2025)
    ledger.record("hesa:1", "in_flight", operation="create", trainee_id=named, http_status=409)
    assert ledger.unsettled_creates() == unsettled
    assert [entry.key for entry in ledger.unresolved()] == ["hesa:1"]  # still looked at


def test_writes_sent_and_not_settled_are_unresolved_in_key_order(tmp_path, open_ledger):
    """In flight (killed while out) or unknown (a lost reply whose look-up failed): the next run looks both up, and
    names them in the same order every time."""
    ledger = open_ledger(tmp_path, "t")
    for key, status in [("hesa:4", "unknown"), ("hesa:3", "done"), ("hesa:2", "in_flight"), ("hesa:1", "failed")]:
        ledger.record(key, status, operation="create")
    assert [entry.key for entry in ledger.unresolved()] == ["hesa:2", "hesa:4"]
    assert [entry.key for entry in ledger.all()] == ["hesa:1", "hesa:2", "hesa:3", "hesa:4"]


def test_an_entry_is_dated_by_its_last_mark(tmp_path, open_ledger):
    ledger = open_ledger(tmp_path, "t")
    ledger.record("hesa:1", "in_flight", operation="create")
    ledger._db.execute("UPDATE records SET updated_at = '2026-01-01T00:00:00.000+00:00'")  # a mark made long ago
    ledger.record("hesa:1", "unknown", operation="create")
    updated = datetime.fromisoformat(open_ledger(tmp_path, "t").get("hesa:1").updated_at)
    assert updated > datetime(2026, 1, 1, tzinfo=UTC)


def test_a_ledger_made_before_creates_kept_their_cycle_is_used_as_it_was(tmp_path, open_ledger):
    """A ledger made before `creates_sent` (2026-11-30) opens and reads as it was; the records table is unchanged,
    so an older version reads a ledger this one wrote as well."""
    import sqlite3

    from register_batch.sync import ledger as ledger_module

    before = ledger_module.SCHEMA.split("-- The academic cycle", 1)[0]
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        db.executescript(before)
        db.execute("INSERT INTO meta VALUES ('target', 't')")
        db.execute(
            "INSERT INTO records (key, hesa_id, status, operation, updated_at) "
            "VALUES ('hesa:1', '1', 'in_flight', 'create', '2026-11-01T00:00:00Z')"
        )
    db.close()
    ledger = open_ledger(tmp_path, "t")
    [entry] = ledger.unresolved()
    assert (entry.key, entry.status, entry.operation) == ("hesa:1", "in_flight", "create")
    assert ledger.unsettled_creates() == {}  # sent by the version before: its cycle is not known


def written_with(folder, target: str) -> None:
    """A ledger of `folder` bound to `target` by a sync that could write (not a dry run only)."""
    ledger = Ledger(folder, target)
    ledger.start_run(dry_run=False)
    ledger.close()


def test_a_state_dir_belongs_to_one_target(tmp_path):
    written_with(tmp_path, "https://sandbox.example")
    with pytest.raises(ConfigError, match=r"belongs to target https://sandbox\.example") as caught:
        Ledger(tmp_path, "https://production.example")
    assert str(caught.value).endswith("Use a separate state_dir for each target.")  # as the library takes it
    assert caught.value.worded(OPTIONS).endswith("Use a separate --state-dir for each target.")


def test_a_state_dir_only_dry_runs_used_is_bound_afresh_to_the_next_target(tmp_path, caplog):
    """review114 F4: a dry run binds a new state dir to its target, but writes no trainee id there: one dry run with
    --target forgotten (the embedded emulator) left the state dir meant for production refused for it, told to use
    another state dir than the one the docs' commands name. It is bound afresh, and a warning says so."""
    tried = Ledger(tmp_path, "embedded-emulator")
    for _ in range(2):
        tried.start_run(dry_run=True)
        tried.listed()
        tried.adopt_provider("10052198")
        tried.finish_run("finished", {})
    tried.close()
    with caplog.at_level(logging.WARNING, logger="register_batch.sync.ledger"):
        ledger = Ledger(tmp_path, "https://production.example")
    try:
        assert ledger.target == "https://production.example"
        assert ledger.never_listed() and ledger.run_before() is None  # as new: those runs were of another target
        assert [r.getMessage() for r in caplog.records] == [
            f"the state dir {tmp_path} holds no trainee id (only runs that sent nothing used it, against "
            "embedded-emulator): it is now bound to https://production.example"
        ]
        ledger.start_run(dry_run=False)
        ledger.record("hesa:1", "done", trainee_id="t1")
    finally:
        ledger.close()
    with pytest.raises(ConfigError, match=r"belongs to target https://production\.example"):
        Ledger(tmp_path, "embedded-emulator")  # its trainee ids are production's now


def test_a_state_dir_whose_real_runs_stopped_before_sending_anything_is_bound_afresh(tmp_path, caplog):
    """review238 F2: a first sync to a mistyped target (its host name not found, exit 2 "check the target's host
    name") bound the state dir to it; with the target corrected, the next run was refused ("belongs to target
    https://register.invalid"), though the runs sent nothing and left no record. Taken as one only dry runs used."""
    mistyped = Ledger(tmp_path, "https://register.invalid")
    for dry_run in (False, True, False):
        mistyped.start_run(dry_run=dry_run)
        mistyped.stop_run("ConfigError: GET /trainees: could not connect (host name register.invalid not found: …)")
    mistyped.close()
    with caplog.at_level(logging.WARNING, logger="register_batch.sync.ledger"):
        ledger = Ledger(tmp_path, "https://production.example")
    try:
        assert ledger.target == "https://production.example" and ledger.run_before() is None
        assert [r.getMessage() for r in caplog.records] == [
            f"the state dir {tmp_path} holds no trainee id (only runs that sent nothing used it, against "
            "https://register.invalid): it is now bound to https://production.example"
        ]
    finally:
        ledger.close()


def _stopped_having_sent(ledger: Ledger) -> None:
    """A real run that marked a create in flight and stopped (`"sent": true`), its record then gone from every table
    of records (as `ledger forget` leaves one): that the run sent something is enough to keep the ledger."""
    ledger.record("hesa:1", "in_flight", operation="create", create_for_cycle=2025)
    ledger.stop_run("Interrupted: Register stopped answering")
    tables = [n for (n,) in ledger._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    for name in tables:
        if name not in ("meta", "runs") and not name.startswith("sqlite_"):
            ledger._db.execute(f'DELETE FROM "{name}"')
    ledger._db.commit()


@pytest.mark.parametrize(
    "held",
    [
        "record",
        "real run",
        "pulled lists",
        "stopped holding a record",
        "stopped having sent",
        "finished real run",
        "ended unexpectedly",
        "create in flight",
    ],
)
def test_a_state_dir_that_holds_anything_of_its_target_stays_its_targets(tmp_path, held):
    """review114 F4, review238 F2: only a ledger whose runs sent nothing and that holds no record is bound afresh:
    one with a record (a create in flight among them), a real run that could have written (left running, ended
    unexpectedly, finished, or stopped after it sent something), or lists pulled from its target beside it (which
    would judge the other target's records) is refused as before."""
    ledger = Ledger(tmp_path, "https://sandbox.example")
    ledger.start_run(dry_run=held in ("record", "pulled lists"))
    if held == "record":
        ledger.record("hesa:1", "invalid")
    elif held == "stopped holding a record":
        ledger.record("hesa:1", "invalid")
        ledger.stop_run("ConfigError: the token's trainees are listed under another UKPRN")
    elif held == "stopped having sent":
        _stopped_having_sent(ledger)
    elif held == "finished real run":
        ledger.finish_run("finished", {"actions": {}, "outcomes": {}, "written": 0})
    elif held == "ended unexpectedly":
        ledger.close()
        ledger = Ledger(tmp_path, "https://sandbox.example")
        ledger.start_run(dry_run=False)  # the run before: killed, so not known to have sent nothing
        ledger.stop_run("ConfigError: the token was refused")
    elif held == "create in flight":
        ledger.record("hesa:1", "in_flight", operation="create", create_for_cycle=2025)
        ledger.sending = False  # as if no write had been marked: the record alone keeps the ledger
        ledger.stop_run("Interrupted")
    ledger.close()
    if held == "pulled lists":
        (tmp_path / "reference-data.json").write_text("{}", encoding="utf-8")
    before = (tmp_path / LEDGER_FILE).read_bytes()
    with pytest.raises(ConfigError, match=r"belongs to target https://sandbox\.example"):
        Ledger(tmp_path, "https://production.example")
    assert (tmp_path / LEDGER_FILE).read_bytes() == before


def test_a_state_dir_bound_to_another_spelling_of_its_service_is_that_services(tmp_path):
    """A ledger bound before a service's URL became one spelling (`http://LOCALHOST:8787`, `https://host:443`) refused
    every later sync of the same service ("belongs to target ..."), its history and creates in flight set aside; now
    it takes the one spelling (found by review12)."""
    for bound, spelt in (
        ("http://LOCALHOST:8787", "http://localhost:8787"),
        ("https://Host.example:443", "https://host.example"),
    ):
        folder = tmp_path / spelt.replace(":", "_").replace("/", "_")
        folder.mkdir()
        written_with(folder, bound)
        again = Ledger(folder, spelt)
        again.close()
        assert Ledger(folder, spelt).target == spelt  # bound to the one spelling from now on
        with pytest.raises(ConfigError, match="belongs to target"):
            Ledger(folder, "http://localhost:8788")


def test_in_flight_marks_are_committed_before_the_process_dies(tmp_path, open_ledger):
    script = (
        "import os, sys; from register_batch.sync.ledger import Ledger; "
        f"l = Ledger(__import__('pathlib').Path({str(tmp_path)!r}), 't'); "
        "l.record('hesa:9', 'in_flight', operation='create'); os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    [entry] = open_ledger(tmp_path, "t").unresolved()
    assert (entry.key, entry.status, entry.operation) == ("hesa:9", "in_flight", "create")


def test_a_run_that_died_is_marked_so_by_the_next_one(tmp_path, open_ledger):
    """A killed sync's run row said "running" for ever; under the state dir's lock no other run can be running."""
    script = (
        "import pathlib, os; from register_batch.sync.ledger import Ledger; "
        f"l = Ledger(pathlib.Path({str(tmp_path)!r}), 't'); l.start_run(dry_run=False); os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", script], check=False)
    ledger = open_ledger(tmp_path, "t")
    ledger.start_run(dry_run=True)
    ledger.finish_run("finished", {})
    rows = ledger._db.execute("SELECT id, status FROM runs ORDER BY id").fetchall()
    assert [tuple(row) for row in rows] == [(1, "ended unexpectedly"), (2, "finished")]


def test_runs_killed_or_stopped_before_their_report_are_named_by_the_next_run(tmp_path, open_ledger):
    """The next run names the writes no report listed: those of a run killed (still `running`) or stopped by an
    error (`stop_run`); not those of a run that finished, nor a stop asked for when no run was open."""
    ledger = Ledger(tmp_path, "t")
    finished = ledger.start_run(dry_run=False)
    ledger.finish_run("finished", {})
    ledger.stop_run("not open: nothing to stop")
    stopped = ledger.start_run(dry_run=False)
    ledger.stop_run("ServerError: GET /trainees -> 503: Service Unavailable")
    killed = ledger.start_run(dry_run=False)
    ledger.close()
    ledger = open_ledger(tmp_path, "t")
    current = ledger.start_run(dry_run=False)
    died = ledger.ended_without_report()
    assert sorted(died) == [stopped, killed] and current not in died
    assert all(datetime.fromisoformat(started) < datetime.now(UTC) for started in died.values())  # when each began
    rows = ledger._db.execute("SELECT id, status, summary FROM runs ORDER BY id").fetchall()
    assert [tuple(row) for row in rows] == [
        (finished, "finished", "{}"),
        (stopped, "stopped", '{"reason": "ServerError: GET /trainees -> 503: Service Unavailable", "sent": false}'),
        (killed, "ended unexpectedly", None),
        (current, "running", None),
    ]


def test_a_closed_ledger_is_one_file(tmp_path):
    """docs/security.md: the -wal and -shm files beside the ledger exist while a sync runs (and after a crash); a run
    that ends folds them back into the ledger."""
    ledger = Ledger(tmp_path, "t")
    ledger.record("hesa:1", "done", trainee_id="T" * 24)
    assert (tmp_path / "ledger.sqlite3-wal").exists()
    ledger.close()
    assert sorted(path.name for path in tmp_path.iterdir() if path.name.startswith("ledger")) == ["ledger.sqlite3"]


def test_a_stop_before_any_run_started_changes_nothing(tmp_path, open_ledger):
    """A sync refused before its run began (a wrong target, a token refused) stops with its own error, not the
    ledger's, and leaves no run behind."""
    ledger = open_ledger(tmp_path, "t")
    ledger.stop_run("Unauthorized: the API token was refused")
    assert ledger._db.execute("SELECT * FROM runs").fetchall() == [] and ledger.ended_without_report() == {}


def test_a_stops_reason_is_kept_to_its_first_1000_characters(tmp_path, open_ledger):
    """An error's text can be a whole answer from Register (an HTML page): the runs table keeps its beginning."""
    ledger = open_ledger(tmp_path, "t")
    ledger.start_run(dry_run=False)
    ledger.stop_run("ServerError: " + "<html>" * 1000)
    [summary] = ledger._db.execute("SELECT summary FROM runs").fetchone()
    assert json.loads(summary) == {"reason": ("ServerError: " + "<html>" * 1000)[:1000], "sent": False}


def test_links_are_the_records_linked_to_a_trainee(tmp_path, open_ledger):
    ledger = open_ledger(tmp_path, "t")
    ledger.record("hesa:1", "done", trainee_id="T" * 24)
    ledger.record("hesa:2", "in_flight", operation="create")
    ledger.record("hesa:3", "failed", trainee_id="")
    assert ledger.links() == {"hesa:1": "T" * 24}


def test_a_state_dir_lock_holds_its_own_state_dir_however_it_is_named(tmp_path):
    (tmp_path / "other").mkdir()
    lock = StateDirLock(tmp_path / "state").acquire()
    assert lock.holds(tmp_path / "state") and lock.holds(f"{tmp_path}/other/../state/")
    assert not lock.holds(tmp_path / "other") and not lock.holds(tmp_path / "missing")
    lock.release()
    assert not lock.holds(tmp_path / "state")


def test_a_ledger_left_half_made_by_a_killed_sync_is_finished_by_the_next_run(tmp_path, open_ledger):
    # A sync of an earlier version killed while it created its ledger (after its first page, before the tables are
    # committed) left a WAL database without tables; the next run must carry on, not refuse. (One killed before its
    # first page left an empty file, which cannot be told from a ledger cut short: test_ledger_cut_short.py.)
    script = (
        "import os, sqlite3, sys; p = sys.argv[1]; os.close(os.open(p, os.O_RDWR | os.O_CREAT, 0o600)); "
        "db = sqlite3.connect(p); db.execute('PRAGMA journal_mode=WAL'); os._exit(9)"
    )
    subprocess.run([sys.executable, "-c", script, str(tmp_path / "ledger.sqlite3")], check=False)
    ledger = Ledger(tmp_path, "https://example.test")
    assert ledger.all() == [] and ledger.target == "https://example.test"
    ledger.start_run(dry_run=False)
    ledger.record("hesa:1", "in_flight", hesa_id="1", operation="create", attempt=True)
    ledger.close()
    assert [e.status for e in open_ledger(tmp_path, "https://example.test").unresolved()] == ["in_flight"]


def test_second_run_on_a_state_dir_is_refused_with_a_clear_message(tmp_path):
    with StateDirLock(tmp_path), pytest.raises(StateDirLocked) as caught:
        StateDirLock(tmp_path).acquire()
    assert "is in use by another run" in str(caught.value)
    assert "pid" in str(caught.value)
    StateDirLock(tmp_path).acquire().release()  # free again afterwards


def test_a_state_dir_in_use_is_said_as_the_library_takes_it_and_the_command_line_as_its_option(tmp_path):
    """A vendor's job calling sync_files was told to use "a different --state-dir", an option it has no use for."""
    with StateDirLock(tmp_path), pytest.raises(StateDirLocked) as caught:
        StateDirLock(tmp_path).acquire()
    said = str(caught.value)
    assert said.startswith(f"the state dir {tmp_path} is in use by another run (sync, pid {os.getpid()} since ")
    assert said.endswith("); wait for it to finish, or use a different state_dir") and "--" not in said
    assert caught.value.worded(OPTIONS) == said.replace("different state_dir", "different --state-dir")
    assert caught.value.worded({}) == said  # a surface with no words of its own: the library's


def test_a_state_dir_that_cannot_be_made_is_a_configuration_error(tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(ConfigError, match="as the state dir") as caught:
        StateDirLock(tmp_path / "file" / "state")
    assert str(caught.value).endswith(f"({tmp_path / 'file'} is a file, not a folder)")


def test_a_state_dir_on_a_read_only_disk_is_a_configuration_error(tmp_path, monkeypatch):
    """A state dir that exists on a read-only disk (a remounted volume, ProtectSystem= in a unit) was an
    `internal error` (exit 70) from tightening its mode, and then from opening the lock file."""
    StateDirLock(tmp_path / "state").acquire().release()  # made on an earlier night

    def read_only(path, *args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))

    monkeypatch.setattr(os, "chmod", read_only)
    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(ConfigError) as caught:
        StateDirLock(tmp_path / "state").acquire()
    assert str(caught.value) == (
        f"cannot use {tmp_path / 'state'} as the state dir (Read-only file system): nothing was sent"
    )


@pytest.mark.parametrize("error", [errno.ENOLCK, errno.EOPNOTSUPP, errno.EIO])
def test_a_state_dir_whose_disk_cannot_lock_is_a_configuration_error(tmp_path, monkeypatch, error):
    """A network share without lock support (NFS without its lock service, some SMB mounts) answers flock with
    ENOLCK or EOPNOTSUPP: that was an `internal error` (exit 70) with a traceback, and the lock file left open."""
    import fcntl

    def cannot(fd, operation):
        raise OSError(error, os.strerror(error))

    monkeypatch.setattr(fcntl, "flock", cannot)
    with pytest.raises(ConfigError) as caught:
        StateDirLock(tmp_path / "state").acquire()
    assert str(caught.value) == (
        f"cannot lock {tmp_path / 'state' / 'sync.lock'} ({os.strerror(error)}): the state dir must be on a disk that "
        "supports file locks (a local disk; not every network share does): nothing was sent"
    )
    lock_file = str(tmp_path / "state" / "sync.lock")
    assert lock_file not in open_files(), "the lock file's descriptor was left open"


def open_files() -> list[str]:
    """What this process's descriptors are open on (Linux's /proc)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            found.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # closed meanwhile (the listing's own descriptor)
            pass
    return found


def test_a_full_disk_under_the_lock_does_not_stop_the_run_at_the_lock(tmp_path, monkeypatch):
    """Writing who holds the lock on a full disk raised an OSError without a file name, which the run then
    blamed on the temporary folder ("cannot write /tmp ... while spooling records"): the ledger is the one that
    names the full disk."""

    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)
    lock = StateDirLock(tmp_path).acquire()
    monkeypatch.undo()
    with pytest.raises(StateDirLocked) as caught:  # still held
        StateDirLock(tmp_path).acquire()
    lock.release()
    assert str(caught.value).startswith(f"the state dir {tmp_path} is in use by another run; wait")  # nobody named


def test_a_provider_lock_whose_holder_could_not_be_named_still_refuses_a_second_writer(tmp_path, monkeypatch):
    def full(*args):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "pwrite", full)
    lock = ProviderLock(tmp_path, "https://register.example", "provider-lock-token-0002", tmp_path / "a").acquire()
    monkeypatch.undo()
    with pytest.raises(ProviderBusy) as caught:
        ProviderLock(tmp_path, "https://register.example", "provider-lock-token-0002", tmp_path / "b").acquire()
    lock.release()
    assert str(caught.value).startswith(
        "another sync is writing to https://register.example for this token's provider; wait"
    )


def test_a_ledger_file_that_is_not_a_database_is_a_configuration_error(tmp_path):
    # A damaged or foreign ledger.sqlite3 (a disk error, a file copied over it) is a state dir problem: one line
    # and exit 2 (ConfigError), not an internal error.
    (tmp_path / "ledger.sqlite3").write_bytes(b"not a database, but forty bytes or more of something else\n")
    with pytest.raises(ConfigError, match=r"ledger\.sqlite3.*cannot be read as the sync ledger") as caught:
        Ledger(tmp_path, "https://example.test")
    restore = (
        "; delete ledger.sqlite3-wal, ledger.sqlite3-shm and ledger.sqlite3-journal beside it "
        "and restore it from a backup (with the backup's "
        "ledger.sqlite3-wal, if it has one), or use another "
    )
    assert str(caught.value).endswith(f"{restore}state_dir")
    assert caught.value.worded(OPTIONS).endswith(f"{restore}--state-dir")


def _zero_page(database, table):
    """Overwrite with zeros the first page of `table` in the SQLite file `database` (a disk error, a bad block)."""
    with sqlite3.connect(database) as db:
        [(page,)] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = ?", (table,)).fetchall()
        [(size,)] = db.execute("PRAGMA page_size").fetchall()
    db.close()
    with open(database, "r+b") as file:
        file.seek((page - 1) * size)
        file.write(bytes(size))


def test_a_ledger_damaged_past_its_first_pages_stops_the_sync_in_one_line_before_any_request(tmp_path):
    """A page of the records table overwritten (review127 F2): the damage was met part-way through the run, after the
    listing, as `internal error (DatabaseError: database disk image is malformed)` and exit 70; only damage in the
    pages that opening the ledger read (its header, the schema, `meta`) was the documented line and exit 2."""
    token = "ledger-damaged-token"
    source = extract(tmp_path / "in.csv", 40)
    env = {**os.environ, "REGISTER_API_TOKEN": token, "REGISTER_BATCH_RATE_DIR": "off"}
    with start_emulator(tokens=[token], rate_limit=None, as_of=AS_OF) as emulator:
        command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert first.returncode == 0, first.stderr
        ledger = tmp_path / "state" / LEDGER_FILE
        _zero_page(ledger, "records")
        stats = f"{emulator.url}/__emulator__/stats"
        before = httpx.get(stats).json()["requests"]["total"]
        damaged = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert httpx.get(stats).json()["requests"]["total"] == before  # refused before Register is asked anything
    assert damaged.returncode == 2, damaged.stderr
    assert damaged.stderr.splitlines() == [
        f"register-batch: error: {ledger}: cannot be read as the sync ledger (database disk image is malformed); "
        "delete ledger.sqlite3-wal, ledger.sqlite3-shm and ledger.sqlite3-journal beside it "
        "and restore it from a backup (with the backup's "
        "ledger.sqlite3-wal, if it has one), or use another --state-dir"
    ]


def test_a_ledger_page_gone_bad_part_way_through_a_run_is_the_ledgers_line_not_an_internal_error(tmp_path):
    """Damage the opening check did not see (a page gone bad while the run goes on) stops the run with the ledger's
    line (exit 2: the same run again is refused at the opening check), saying so when writes had gone out by then;
    a run stopped by it is not stopped again by the ledger's note of the stop (review127 F2)."""
    said = {}
    for sent in (False, True):
        ledger = Ledger(tmp_path / str(sent), "t")
        ledger.start_run(dry_run=False)
        with ledger.together():
            for n in range(200):
                ledger.record(f"hesa:{n}", "done", trainee_id=f"T{n:023d}", errors=["refused " * 20])
        if sent:
            ledger.record("hesa:7", "in_flight", operation="update", attempt=True)  # its request goes out now
        ledger._db.execute("PRAGMA cache_size = 0")  # each page read from the file again, as a long run's are
        ledger._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        _zero_page(tmp_path / str(sent) / LEDGER_FILE, "records")
        with pytest.raises(ConfigError) as caught:
            ledger.links()
        said[sent] = caught.value.worded(OPTIONS).replace(str(tmp_path / str(sent)), "STATE")
        ledger.stop_run("ConfigError: damaged")  # never raises
        ledger.close()
    assert said == {
        False: "STATE/ledger.sqlite3: cannot be read as the sync ledger (database disk image is malformed); delete "
        "ledger.sqlite3-wal, ledger.sqlite3-shm and ledger.sqlite3-journal beside it "
        "and restore it from a backup (with the backup's "
        "ledger.sqlite3-wal, if it has one), or use another --state-dir",
        True: "STATE/ledger.sqlite3: cannot be read as the sync ledger (database disk image is malformed): the run "
        "stopped there, after it had sent requests, and no report was written. Delete ledger.sqlite3-wal, "
        "ledger.sqlite3-shm and ledger.sqlite3-journal beside it "
        "and restore it from a backup (with the backup's ledger.sqlite3-wal, if it has "
        "one), or use another --state-dir, then run the same sync again: it matches the records to the trainees "
        "Register holds",
    }


def test_a_ledger_the_disk_will_not_take_stops_the_sync_with_one_line_and_the_next_run_resumes(tmp_path):
    """A full disk under the state dir, part-way through a sync, was an `internal error` (exit 70); before the first
    write it said the ledger was damaged and to restore a backup."""
    token = "ledger-disk-full-token"
    source = extract(tmp_path / "in.csv", 60)
    env = {**os.environ, "REGISTER_API_TOKEN": token, "REGISTER_BATCH_RATE_DIR": "off"}
    with start_emulator(tokens=[token], rate_limit=None, as_of=AS_OF) as emulator:
        command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports", AS_OF.isoformat())
        ledger = tmp_path / "state" / "ledger.sqlite3"
        # Too small for even a new ledger: refused before anything is sent, not called damaged. (Few records: the
        # limit is on every file, and the run's records are spooled to a temporary file first, 1 KB each.)
        few = extract(tmp_path / "few.csv", 8)
        cramped = subprocess.run(
            sync_command(few, emulator.url, tmp_path / "cramped", tmp_path / "reports", AS_OF.isoformat()),
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            preexec_fn=files_limited_to(20_000),
        )
        assert cramped.returncode == 2, cramped.stderr
        [line] = cramped.stderr.splitlines()
        assert line.startswith(f"register-batch: error: cannot write the sync ledger {tmp_path / 'cramped'}")
        assert "Nothing was sent" in line and "backup" not in line
        # The disk fills up part-way: stop at once with one line; what was sent is resolved by the next run.
        # (200 KB: the ledger's write-ahead log reaches it after a create or two; at 100 KB, since 2026-11-30's
        # creates_sent table, at 120 KB, since 2026-12-03's creates_refused, and at 140 KB, since 2026-12-04's
        # writes_unanswered (and 160 KB), at 180 KB, since 2026-12-04's note of the first listing, and at 200 KB,
        # since 2026-12-06's writes_landed and withdrawals_made, before the first.)
        full = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=120, preexec_fn=files_limited_to(240_000)
        )
        assert full.returncode == 3, full.stderr
        [line] = full.stderr.splitlines()
        assert line.startswith(f"register-batch: error: cannot write the sync ledger {ledger}")
        assert "run the same sync again" in line and "Traceback" not in full.stderr
        with RegisterClient(emulator.url, token, limiter=RateLimiter(10_000, 1)) as client:
            sent = list(client.iter_trainees(academic_cycle=2025, per_page=1000))
        assert 0 < len(sent) < 60
        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0, again.stderr
        with RegisterClient(emulator.url, token, limiter=RateLimiter(10_000, 1)) as client:
            held = Counter(t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=1000))
        assert len(held) == 60 and set(held.values()) == {1}


def test_a_ledger_sqlite_calls_full_stops_the_run_and_keeps_what_was_recorded(tmp_path, open_ledger):
    """SQLite says SQLITE_FULL for a disk out of space; its own page limit gives the same answer, without filling a
    disk (the test above meets the file size limit, which SQLite reports as an I/O error instead)."""
    ledger = Ledger(tmp_path, "t")
    ledger._db.execute("PRAGMA max_page_count = 1")  # no lower than the pages it has: full from the next few on
    recorded = []
    with pytest.raises(LedgerUnwritable, match=r"\(database or disk is full\): is its disk full\? The run stopped"):
        for n in range(1000):
            ledger.record(f"hesa:{n}", "failed", errors=["refused " * 60])
            recorded.append(f"hesa:{n}")
    ledger.close()
    assert recorded and [e.key for e in open_ledger(tmp_path, "t").all()] == sorted(recorded)


def test_a_provider_lock_refuses_a_second_writer_for_the_same_service_and_token(tmp_path):
    """Two state dirs (a cron job's, one started by hand elsewhere) writing for one provider at once would both add
    a missing placement. The second is refused, told which state dir and process writes; another provider, or
    another service, is not held up."""
    folder = tmp_path / "budget"
    token = "provider-lock-token-0001"
    with ProviderLock(folder, "https://register.example", token, tmp_path / "cron-state"):
        with pytest.raises(ProviderBusy) as caught:
            ProviderLock(folder, "https://register.example", token, tmp_path / "by-hand").acquire()
        ProviderLock(folder, "https://register.example", "another-providers-token", tmp_path / "b").acquire().release()
        ProviderLock(folder, "https://sandbox.example", token, tmp_path / "c").acquire().release()
        lock_files = sorted(folder.glob("sync-*.lock"))
        assert len(lock_files) == 3  # one per service and token
        for lock_file in lock_files:
            assert token not in lock_file.read_text() and token not in lock_file.name
            assert lock_file.stat().st_mode & 0o777 == 0o600
    message = str(caught.value)
    assert message.startswith("another sync is writing to https://register.example for this token's provider (sync, ")
    assert f"state dir {tmp_path / 'cron-state'})" in message and message.endswith("Nothing was sent")
    assert token not in message
    ProviderLock(folder, "https://register.example", token, tmp_path / "by-hand").acquire().release()  # released


def test_a_provider_lock_without_a_usable_folder_is_said_and_the_run_goes_on(tmp_path, caplog):
    """Like the rate budget it sits beside: a folder that cannot be made leaves the run with its state dir's lock."""
    (tmp_path / "a-file").write_text("")
    lock = ProviderLock(tmp_path / "a-file" / "budget", "https://register.example", "token-0001", tmp_path / "s")
    with caplog.at_level(logging.WARNING), lock:
        pass
    assert f"({tmp_path / 'a-file'} is a file, not a folder); this run relies on its state dir's lock alone" in (
        caplog.text
    )
    assert "token-0001" not in caplog.text


@pytest.mark.parametrize(
    "call,error", [("open", errno.EACCES), ("flock", errno.ENOLCK)], ids=["a file it may not open", "no locks"]
)
def test_a_provider_lock_that_cannot_be_taken_names_the_reason_and_is_still_released(
    tmp_path, monkeypatch, caplog, call, error
):
    import fcntl

    def refused(*args, **kwargs):
        raise OSError(error, os.strerror(error))

    lock = ProviderLock(tmp_path / "budget", "https://register.example", "token-0001", tmp_path / "s")
    monkeypatch.setattr(os if call == "open" else fcntl, call, refused)
    with caplog.at_level(logging.WARNING):
        taken = lock.acquire()
    monkeypatch.undo()
    taken.release()
    assert f"({os.strerror(error)}); this run relies on its state dir's lock alone" in caplog.text


def test_a_ledger_error_that_is_not_its_disk_is_not_blamed_on_a_full_disk(tmp_path, open_ledger):
    """A table dropped by hand while a run had the ledger open: SQLite's own error, not "is its disk full?"."""
    ledger = open_ledger(tmp_path, "t")
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        db.execute("DROP TABLE creates_sent")
    db.close()
    with pytest.raises(sqlite3.OperationalError, match="no such table: creates_sent"):
        ledger.record("hesa:1", "in_flight", operation="create", create_for_cycle=2025)
    assert ledger.get("hesa:1") is None  # the in-flight mark and its cycle: both or neither
    ledger.record("hesa:2", "done", operation="update", trainee_id="T" * 24)  # the failed write was rolled back
    assert open_ledger(tmp_path, "t").links() == {"hesa:2": "T" * 24}


def test_a_stop_the_ledger_cannot_record_raises_nothing(tmp_path, monkeypatch, open_ledger):
    """stop_run is called on the way out of a run that failed: the failure is the news, not the ledger's own (held
    by another program, or SQLite's own error)."""
    from register_batch.sync import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 0.1)
    held, dropped = open_ledger(tmp_path / "held", "t"), open_ledger(tmp_path / "dropped", "t")
    for ledger in (held, dropped):
        ledger.start_run(dry_run=False)
    backup = sqlite3.connect(tmp_path / "held" / "ledger.sqlite3", isolation_level=None)
    backup.execute("BEGIN IMMEDIATE")
    backup.execute("INSERT INTO meta VALUES ('backup', 'running')")
    held.stop_run("ServerError: GET /trainees -> 503: Service Unavailable")
    backup.execute("ROLLBACK")
    backup.close()
    dropped._db.execute("DROP TABLE runs")
    dropped.stop_run("ServerError: GET /trainees -> 503: Service Unavailable")
    assert held.run_open and dropped.run_open  # neither stop could be recorded


def test_a_ledger_whose_target_cannot_be_written_stops_the_run_before_it_starts(tmp_path, monkeypatch):
    """Left half made by a killed sync (its tables, no target yet), and held by a backup tool when the next run opens
    it: the target cannot be written, so nothing is sent, said in one line; the ledger is not opened half bound."""
    from register_batch.sync import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 0.1)
    with sqlite3.connect(tmp_path / "ledger.sqlite3") as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(ledger_module.SCHEMA)
    db.close()
    backup = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    backup.execute("BEGIN IMMEDIATE")
    backup.execute("INSERT INTO meta VALUES ('backup', 'running')")
    with pytest.raises(ConfigError) as refused:
        Ledger(tmp_path, "t")
    backup.execute("ROLLBACK")
    backup.close()
    assert str(refused.value).endswith(
        "(database is locked). Nothing was sent: another program has it open (a database browser, a backup?): close "
        "that program"
    )


def test_a_write_waits_for_another_program_that_holds_the_ledger_for_a_moment(tmp_path, open_ledger):
    """A backup tool that holds ledger.sqlite3 for a moment delays the next write; it does not stop the run."""
    ledger = open_ledger(tmp_path, "t")
    ledger.record("hesa:1", "done", trainee_id="T" * 24)
    backup = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None, check_same_thread=False)
    backup.execute("BEGIN IMMEDIATE")
    backup.execute("UPDATE meta SET value = value WHERE key = 'target'")
    letting_go = threading.Timer(0.5, backup.execute, ("ROLLBACK",))
    letting_go.start()
    try:
        ledger.record("hesa:2", "in_flight", operation="create")
    finally:
        letting_go.join()
        backup.close()
    assert [e.key for e in open_ledger(tmp_path, "t").unresolved()] == ["hesa:2"]


def test_a_ledger_another_program_holds_is_named_as_such_not_as_a_full_disk_or_damage(
    tmp_path, monkeypatch, open_ledger
):
    """A data officer's database browser left open on ledger.sqlite3, in the middle of a write: the next write waits
    (BUSY_SECONDS), then stops the run with one line that says what to close; at the start of a run, nothing was
    sent. Not "is its disk full?", nor "restore it from a backup", which would be the wrong thing to do."""
    from register_batch.sync import ledger as ledger_module

    monkeypatch.setattr(ledger_module, "BUSY_SECONDS", 0.1)
    ledger = open_ledger(tmp_path, "t")
    ledger.record("hesa:1", "done", trainee_id="T" * 24)
    browser = sqlite3.connect(tmp_path / "ledger.sqlite3", isolation_level=None)
    browser.execute("BEGIN IMMEDIATE")
    browser.execute("UPDATE meta SET value = value WHERE key = 'target'")
    with pytest.raises(LedgerUnwritable) as stopped:
        ledger.record("hesa:2", "in_flight", operation="create")
    assert str(stopped.value).endswith(
        "(database is locked): another program has it open (a database browser, a backup?) The run stopped there "
        "and no report was written. Close that program, then run the same sync again: it resumes without "
        "sending anything twice"
    )
    with pytest.raises(ConfigError) as refused:
        open_ledger(tmp_path, "t").start_run(dry_run=False)
    assert str(refused.value).endswith(
        "(database is locked). Nothing was sent: another program has it open (a database browser, a backup?): close "
        "that program"
    )
    browser.execute("ROLLBACK")
    browser.close()
    ledger.record("hesa:2", "in_flight", operation="create")
    assert [e.key for e in open_ledger(tmp_path, "t").all()] == ["hesa:1", "hesa:2"]


def test_what_a_report_settles_is_kept_with_the_runs_end_or_not_at_all(tmp_path, open_ledger):
    """A run ended by a kill (or a full disk) while it settled what its report named (`together`) keeps none of it,
    nor its end: the run is one without a report, whose writes the next report names, and its kept creates with them
    (a create forgotten with the run still open would be named by no report)."""
    ledger = open_ledger(tmp_path, "t")
    first = ledger.start_run(dry_run=False)
    ledger.record("hesa:1", "done", operation="create", trainee_id="T" * 24, created=True)
    ledger.record("hesa:2", "done", operation="create", trainee_id="U" * 24, created=True)
    ledger.finish_run("finished", {})
    second = ledger.start_run(dry_run=False)
    with pytest.raises(RuntimeError, match="killed"), ledger.together():
        ledger.record("hesa:1", "done", trainee_id="T" * 24)
        ledger.creates_reported(["hesa:1", "hesa:2"])
        ledger.finish_run("finished", {})
        raise RuntimeError("killed")
    ledger.close()
    again = open_ledger(tmp_path, "t")
    assert again.creates_unreported() == {"hesa:1": first, "hesa:2": first}
    assert (again.get("hesa:1").run_id, again.get("hesa:1").operation) == (first, "create")
    again.start_run(dry_run=False)
    assert list(again.ended_without_report()) == [second]


def test_the_run_before_is_said_in_utc_to_the_second_its_end_none_for_one_killed(tmp_path, open_ledger):
    """What a sync's report says of the run before it (report.json's sync.previous_run): a run killed has no end (it
    was an internal error reading the end no run wrote), and its start, given in another zone with milliseconds, is
    said as reports give times."""
    from datetime import timedelta, timezone

    ledger = open_ledger(tmp_path, "t")
    ledger.start_run(
        dry_run=True, started=datetime(2026, 12, 1, 8, 48, 2, 678000, tzinfo=timezone(timedelta(hours=5.5)))
    )
    assert ledger.run_before() is None  # the state dir's first run follows none
    ledger.close()  # killed: never finished
    again = open_ledger(tmp_path, "t")
    again.start_run(dry_run=True)  # a dry run's run before is the one just before it, of either kind
    assert again.run_before() == {
        "id": 1,
        "started": "2026-12-01T03:18:02+00:00",
        "ended": None,
        "dry_run": True,
        "status": "ended unexpectedly",
        "reason": None,  # a stopped run's only
        "sent": None,
    }
    again.finish_run("finished", {})
    again.start_run(dry_run=False)
    assert again.run_before() is None  # a real run's is the last real run (review173 F2): none yet
    again.finish_run("finished", {})
    again.start_run(dry_run=False)
    previous = again.run_before()
    assert (previous["id"], previous["dry_run"], previous["status"]) == (3, False, "finished")
    ended = datetime.fromisoformat(previous["ended"])
    assert previous["ended"].endswith("+00:00") and ended.microsecond == 0 and ended.utcoffset() == timedelta(0)


def test_a_ledger_rebound_to_one_spelling_of_its_service_keeps_when_it_was_made(tmp_path):
    """The ledger's meta says when it was made, for whoever looks into a state dir: taking the service's one spelling
    (`http://LOCALHOST:8787`) binds the ledger again, and must not make it look new."""

    def made(folder):
        with sqlite3.connect(folder / "ledger.sqlite3") as db:
            [(when,)] = db.execute("SELECT value FROM meta WHERE key = 'created_at'").fetchall()
        db.close()
        return when

    Ledger(tmp_path, "http://LOCALHOST:8787").close()
    first = made(tmp_path)
    assert datetime.fromisoformat(first) <= datetime.now(UTC)
    rebound = Ledger(tmp_path, "http://localhost:8787")
    rebound.close()
    assert rebound.target == "http://localhost:8787" and made(tmp_path) == first


def test_a_request_unanswered_over_a_day_ago_is_no_longer_out(tmp_path):
    """has_unanswered (a dry run reads back its records only while some create or placement may be out): a note of a
    request sent over a day ago is past any wait, though only its record's next write drops it (review51 F4)."""
    from ledger_clock import minutes_pass

    ledger = Ledger(tmp_path, "https://example.test")
    try:
        assert not ledger.has_unanswered()
        ledger.write_going_out("add_placement", "hesa:2510000000001", srs_id="SRS-1", trainee_id="t-1")
        assert ledger.has_unanswered()
    finally:
        ledger.close()
    minutes_pass(tmp_path, 25 * 60)
    ledger = Ledger(tmp_path, "https://example.test")
    try:
        assert not ledger.has_unanswered()
    finally:
        ledger.close()
