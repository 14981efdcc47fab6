"""`forget_records`: a trainee erased from the sync ledger (a data subject's erasure request, a finished cohort's
retention; review194 F1), against the emulator over 127.0.0.1. Every table, and the file's bytes, lose the trainee;
the next sync matches the trainee through Register's listing instead of creating it again; a write that may still
land, or a sync holding the state dir, refuses it."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from test_review13_gaps import HOLD, TOKEN, _held, _killed_with_its_create_out

from emulated import AS_OF
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.sync import ledger as ledger_module
from register_batch.sync.ledger import (
    LEDGER_FILE,
    NAMES_NO_RECORD,
    ForgetRefused,
    Ledger,
    StateDirLock,
    StateDirLocked,
    forget_records,
    record_tables,
)
from trainee_extracts import WITHDRAWN, trainee, write_extract


def _every_value(path: Path) -> list[tuple[str, str, str]]:
    """(table, column, value as text) of every cell of every table of the SQLite file at `path`."""
    with sqlite3.connect(path) as db:
        tables = [name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        found = []
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                found += [(table, column, str(value)) for column, value in zip(columns, row, strict=True)]
    db.close()
    return found


def _naming(path: Path, *values: str) -> list[tuple[str, str, str]]:
    return [cell for cell in _every_value(path) if any(value in cell[2] for value in values)]


def _file_bytes(state: Path) -> bytes:
    """The ledger's bytes as on disk: the file and its -wal (the -shm holds only page numbers)."""
    return b"".join(p.read_bytes() for p in (state / LEDGER_FILE, state / f"{LEDGER_FILE}-wal") if p.exists())


def test_every_table_and_the_file_bytes_lose_the_forgotten_trainee(register, tmp_path: Path) -> None:
    """Three trainees synced, the second withdrawn by the sync: forgetting the second leaves no row, no cell and no
    byte of the ledger holding its HUSID, SRS id, ledger key or Register trainee id; the others are kept whole."""
    rows = [trainee(1), {**trainee(2), **WITHDRAWN}, trainee(3)]
    extract = write_extract(tmp_path / "extract.csv", rows)
    first = register.sync(extract)
    assert [r.outcome for r in first.results] == ["done"] * 3, [r.errors for r in first.results]
    state = tmp_path / "state"
    husid, srs_id = rows[1]["hesa_id"], rows[1]["provider_trainee_id"]
    trainee_id = first.results[1].plan.trainee_id
    names = (husid, srs_id, trainee_id)
    before = {table for table, _column, _value in _naming(state / LEDGER_FILE, *names)}
    assert {"records", "fields_synced", "withdrawals_made"} <= before  # the test sees the trainee where it is
    assert husid.encode() in _file_bytes(state)
    kept_before = _naming(state / LEDGER_FILE, rows[0]["hesa_id"], rows[2]["hesa_id"])

    done = forget_records(state, hesa_ids=[husid])

    assert done.hesa_ids == [husid] and done.not_found == [] and done.wiped
    assert any("withdrawal" in line for line in done.lost)  # withdrawals_made held one: said lost
    assert _naming(state / LEDGER_FILE, *names) == []
    assert husid.encode() not in _file_bytes(state)
    assert trainee_id.encode() not in _file_bytes(state)
    assert srs_id.encode() not in _file_bytes(state)
    assert _naming(state / LEDGER_FILE, rows[0]["hesa_id"], rows[2]["hesa_id"]) == kept_before


def test_every_table_of_the_ledger_is_forgotten_in_or_names_no_record(tmp_path: Path) -> None:
    """Each table of a new ledger names its records by a key, trainee or SRS id column forget_records deletes by, or
    is one that names no record; a table with none of those (a later version's, one made by hand) is refused."""
    ledger = Ledger(tmp_path / "state", "http://127.0.0.1:1")
    ledger.close()
    with sqlite3.connect(tmp_path / "state" / LEDGER_FILE) as db:
        tables = {
            name
            for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not name.startswith("sqlite_")
        }
        assert set(record_tables(db)) | set(NAMES_NO_RECORD) == tables
        db.execute("CREATE TABLE notes (husid TEXT)")
        with pytest.raises(ConfigError, match=r"a table this version does not know \(notes\)"):
            record_tables(db)
    db.close()


# The tables of the 2026-12-03 and 2026-12-04 builds' ledgers this version no longer makes (git cdf1a09b, 1af62b8a).
OLD_TABLES = """
CREATE TABLE IF NOT EXISTS creates_refused (key TEXT PRIMARY KEY, refused INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS creates_out (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, compared TEXT, sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS creates_out_key ON creates_out (key);
"""


def test_an_older_ledgers_tables_lose_the_forgotten_trainee_too(register, tmp_path: Path) -> None:
    """A ledger made by the 3-4 December builds, upgraded by a sync since, keeps their creates_refused and
    creates_out rows (the latter with the digest of what Register's 409 compares): forgetting the trainee deletes
    them too, and their bytes; the other trainee's rows stay (review200 F3)."""
    rows = [trainee(1), trainee(2)]
    register.sync(write_extract(tmp_path / "extract.csv", rows))
    state = tmp_path / "state"
    digest = "5b9cce2a" * 8
    with sqlite3.connect(state / LEDGER_FILE) as db:
        db.executescript(OLD_TABLES)
        for row in rows:
            key = f"hesa:{row['hesa_id']}"
            db.execute("INSERT INTO creates_refused (key, refused) VALUES (?, 1)", (key,))
            db.execute(
                "INSERT INTO creates_out (key, compared, sent_at) VALUES (?, ?, '2026-12-04T10:00:00.000+00:00')",
                (key, digest + row["hesa_id"]),
            )
    db.close()

    forget_records(state, hesa_ids=[rows[0]["hesa_id"]])

    assert _naming(state / LEDGER_FILE, rows[0]["hesa_id"]) == []
    assert (digest + rows[0]["hesa_id"]).encode() not in _file_bytes(state)
    assert {table for table, _c, _v in _naming(state / LEDGER_FILE, rows[1]["hesa_id"])} >= {
        "creates_refused",
        "creates_out",
    }


def test_a_forgotten_trainee_is_matched_through_the_listing_not_created_again(register, tmp_path: Path) -> None:
    """Forget a trainee, sync the same extract again: Register received no second create; the record is linked to
    the same trainee and reported unchanged; the ledger holds it again."""
    rows = [trainee(1), trainee(2)]
    extract = write_extract(tmp_path / "extract.csv", rows)
    first = register.sync(extract)
    creates = register.writes()["POST /trainees"]
    assert creates == 2
    forget_records(tmp_path / "state", srs_ids=[rows[0]["provider_trainee_id"]])

    again = register.sync(extract)

    assert register.writes()["POST /trainees"] == creates
    assert [(r.plan.trainee_id, r.outcome) for r in again.results] == [
        (r.plan.trainee_id, "done") for r in first.results
    ]
    record = register.report()["records"][0]
    assert (record["hesa_id"], record["action"], record["trainee_id"]) == (
        rows[0]["hesa_id"],
        "unchanged",
        first.results[0].plan.trainee_id,
    )
    assert len([t for t in register.trainees(2025) if t["hesa_id"] == rows[0]["hesa_id"]]) == 1


def test_a_record_whose_create_may_still_land_is_refused(tmp_path: Path) -> None:
    """A sync killed with its create out (Register holds it, carries it out later): forgetting the record then could
    create the trainee twice. Refused, naming it; nothing forgotten."""
    row = trainee(1)
    extract = write_extract(tmp_path / "extract.csv", [row])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=1, fault_hold=HOLD) as emulator:
        _killed_with_its_create_out(emulator, extract, tmp_path)
        state = tmp_path / "state"
        held = _every_value(state / LEDGER_FILE)
        with pytest.raises(
            ForgetRefused,
            match=rf"HUSID {row['hesa_id']} \(create .*can be forgotten after a sync settles it and from "
            r".*Run a sync of the same extract",
        ) as refused:
            forget_records(state, hesa_ids=[row["hesa_id"]])
        assert [husid for husid, _why in refused.value.refused] == [row["hesa_id"]]
        assert _every_value(state / LEDGER_FILE) == held
        emulator.carry_out_held()
        assert len(_held(emulator)) == 1


def test_refused_while_a_sync_holds_the_state_dir(register, tmp_path: Path) -> None:
    extract = write_extract(tmp_path / "extract.csv", [trainee(1)])
    register.sync(extract)
    state = tmp_path / "state"
    with StateDirLock(state), pytest.raises(StateDirLocked, match="in use by another run"):
        forget_records(state, hesa_ids=[trainee(1)["hesa_id"]])
    assert _naming(state / LEDGER_FILE, trainee(1)["hesa_id"])


def test_not_synced_since_forgets_a_finished_cohort_and_keeps_the_current_one(register, tmp_path: Path) -> None:
    """Trainees 1 and 2 were last in an extract a year ago (their entries' times put back: a test cannot wait a
    year), trainee 3 is in tonight's: --not-synced-since forgets the first two only."""
    rows = [trainee(1), trainee(2), trainee(3)]
    register.sync(write_extract(tmp_path / "extract.csv", rows))
    state = tmp_path / "state"
    with sqlite3.connect(state / LEDGER_FILE) as db:
        db.execute(
            "UPDATE records SET updated_at = '2025-07-31T23:00:00.000+00:00' WHERE hesa_id IN (?, ?)",
            (rows[0]["hesa_id"], rows[1]["hesa_id"]),
        )
    db.close()

    would = forget_records(state, not_synced_since="2025-08-01", dry_run=True)
    assert would.dry_run and would.hesa_ids == sorted([rows[0]["hesa_id"], rows[1]["hesa_id"]])
    assert _naming(state / LEDGER_FILE, rows[0]["hesa_id"])  # a dry run changes nothing

    done = forget_records(state, not_synced_since="2025-08-01", hesa_ids=["2599999999999"])

    assert done.hesa_ids == would.hesa_ids and done.not_found == ["2599999999999"]
    assert _naming(state / LEDGER_FILE, rows[0]["hesa_id"], rows[1]["hesa_id"]) == []
    assert _naming(state / LEDGER_FILE, rows[2]["hesa_id"])


def test_no_ledger_in_the_state_dir_is_said_and_none_is_made(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="no sync ledger in"):
        forget_records(tmp_path / "nowhere", hesa_ids=["2510000000001"])
    assert not (tmp_path / "nowhere").exists()


def test_other_records_error_messages_lose_the_forgotten_ids_and_keep_the_rest(register, tmp_path: Path) -> None:
    """Register's error message kept for another record can name the trainee forgotten (a duplicate's HUSID): the
    ids are taken out of it, as whole words (a longer id that contains one is left alone); the record stays."""
    rows = [trainee(1), trainee(2)]
    register.sync(write_extract(tmp_path / "extract.csv", rows))
    state = tmp_path / "state"
    husid, other = rows[0]["hesa_id"], rows[1]["hesa_id"]
    message = f'["duplicate of HUSID {husid} (not {husid}9)"]'
    # An SRS id that is a number, as some SRSs' are: a run's counts that equal it are numbers, not names.
    summary = '{"outcomes": {"done": 2}, "reason": "stopped at SRS id 2"}'
    with sqlite3.connect(state / LEDGER_FILE) as db:
        db.execute("UPDATE records SET errors = ? WHERE hesa_id = ?", (message, other))
        db.execute("UPDATE records SET provider_trainee_id = '2' WHERE hesa_id = ?", (husid,))
        db.execute("UPDATE runs SET summary = ?", (summary,))
    db.close()

    forget_records(state, hesa_ids=[husid])

    with sqlite3.connect(state / LEDGER_FILE) as db:
        [(errors,)] = db.execute("SELECT errors FROM records WHERE hesa_id = ?", (other,)).fetchall()
        summaries = {text for (text,) in db.execute("SELECT summary FROM runs")}
    db.close()
    assert errors == f'["duplicate of HUSID (forgotten) (not {husid}9)"]'
    assert summaries == {'{"outcomes": {"done": 2}, "reason": "stopped at SRS id (forgotten)"}'}


def _put_back(state: Path, where: str, parameters: tuple[str, ...], day: str = "2025-06-01") -> None:
    """Entries' times (and their field digests') put back to `day`: a test cannot wait months."""
    with sqlite3.connect(state / LEDGER_FILE) as db:
        stamp = f"{day}T10:00:00.000+00:00"
        db.execute(f"UPDATE records SET updated_at = ? WHERE {where}", (stamp, *parameters))
        db.execute(
            f"UPDATE fields_synced SET synced_at = ? WHERE key IN (SELECT key FROM records WHERE {where})",
            (stamp, *parameters),
        )
    db.close()


def test_not_synced_since_keeps_a_trainee_whose_corrected_husid_was_synced_since(register, tmp_path: Path) -> None:
    """A HUSID corrected last year: the old key's entry stands still, the new key is synced every night, both linked
    to the one trainee. --not-synced-since forgets neither (the trainee is current); a trainee wholly older is
    forgotten (review200 F2)."""
    rows = [trainee(1), trainee(2)]
    register.sync(write_extract(tmp_path / "a.csv", rows))
    corrected = {**rows[0], "hesa_id": "2510000000091"}
    register.sync(write_extract(tmp_path / "b.csv", [corrected, rows[1]]))
    state = tmp_path / "state"
    with sqlite3.connect(state / LEDGER_FILE) as db:
        linked = dict(db.execute("SELECT key, trainee_id FROM records"))
    db.close()
    assert linked[f"hesa:{rows[0]['hesa_id']}"] == linked["hesa:2510000000091"]  # one trainee, two keys
    _put_back(state, "hesa_id = ?", (rows[0]["hesa_id"],))
    _put_back(state, "hesa_id = ?", (rows[1]["hesa_id"],))

    done = forget_records(state, not_synced_since="2026-08-01")

    assert done.hesa_ids == [rows[1]["hesa_id"]]
    assert _naming(state / LEDGER_FILE, rows[0]["hesa_id"]) and _naming(state / LEDGER_FILE, "2510000000091")


def test_the_forgotten_trainees_register_id_leaves_other_records_messages(register, tmp_path: Path) -> None:
    """Another record's conflict names the forgotten trainee by Register's trainee id: that id is taken out too, as
    its HUSID is (review200 F4)."""
    rows = [trainee(1), trainee(2)]
    first = register.sync(write_extract(tmp_path / "extract.csv", rows))
    state = tmp_path / "state"
    trainee_id = first.results[0].plan.trainee_id
    # A letter outside ASCII against the HUSID (as a message's own text could put one): still a whole word.
    message = f'["more than one trainee matches: trainee {trainee_id} by provider_trainee_id (é{rows[0]["hesa_id"]})"]'
    with sqlite3.connect(state / LEDGER_FILE) as db:
        db.execute("UPDATE records SET errors = ? WHERE hesa_id = ?", (message, rows[1]["hesa_id"]))
    db.close()

    forget_records(state, hesa_ids=[rows[0]["hesa_id"]])

    assert _naming(state / LEDGER_FILE, trainee_id) == [] and _naming(state / LEDGER_FILE, rows[0]["hesa_id"]) == []
    assert trainee_id.encode() not in _file_bytes(state)


def test_a_lost_create_reply_says_when_it_can_be_forgotten_and_a_dry_run_lists_it(register, tmp_path: Path) -> None:
    """Creates whose replies were lost, found by the sync and linked: a sync does not end the day Register may still
    carry out the create, so the refusal says when it ends, not to run a sync; a dry run lists it beside what it
    would forget, and raises nothing (review200 F5)."""
    rows = [trainee(1), trainee(2)]
    extract = write_extract(tmp_path / "extract.csv", rows)
    register.emulator.set_faults("lost-response:1.0")
    try:
        register.sync(extract)
    finally:
        register.emulator.set_faults(None)
    again = register.sync(extract)
    assert [r.outcome for r in again.results] == ["done", "done"], [r.errors for r in again.results]
    state = tmp_path / "state"
    held = _every_value(state / LEDGER_FILE)

    with pytest.raises(ForgetRefused, match=r"can be forgotten from 20\d\d-\d\d-\d\dT") as refused:
        forget_records(state, hesa_ids=[rows[0]["hesa_id"]])
    assert "after a sync" not in str(refused.value) and "Run a sync" not in str(refused.value)
    would = forget_records(state, hesa_ids=[rows[0]["hesa_id"]], dry_run=True)

    assert would.hesa_ids == [rows[0]["hesa_id"]]
    assert [husid for husid, _why in would.refused] == [rows[0]["hesa_id"]]
    assert _every_value(state / LEDGER_FILE) == held


@pytest.mark.parametrize("by", ["not_synced_since", "hesa_ids"])
def test_a_cohort_past_sqlites_variable_limit_is_forgotten(register, tmp_path: Path, monkeypatch, by: str) -> None:
    """SQLite's limit on a statement's variables is 32,766 in its own default build, less in older ones: a cohort
    bigger than it was an internal error (exit 70). Here the limit is lowered to 100 on the ledger's connection, and
    300 records are forgotten (review200 F6)."""
    register.sync(write_extract(tmp_path / "extract.csv", [trainee(1)]))
    state = tmp_path / "state"
    with sqlite3.connect(state / LEDGER_FILE) as db:
        db.executemany(
            "INSERT INTO records (key, hesa_id, provider_trainee_id, trainee_id, status, updated_at) "
            "VALUES (?, ?, ?, ?, 'done', '2024-10-01T10:00:00.000+00:00')",
            [(f"hesa:24{n:011d}", f"24{n:011d}", f"OLD{n}", f"old{n:020d}") for n in range(300)],
        )
    db.close()
    connect = ledger_module._connect

    def limited(path: Path) -> sqlite3.Connection:
        db = connect(path)
        db.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 100)
        return db

    monkeypatch.setattr(ledger_module, "_connect", limited)

    if by == "hesa_ids":
        done = forget_records(state, hesa_ids=[f"24{n:011d}" for n in range(300)])
    else:
        done = forget_records(state, not_synced_since="2025-08-01")

    assert len(done.hesa_ids) == 300 and done.not_found == []
    assert _naming(state / LEDGER_FILE, "OLD1") == [] and _naming(state / LEDGER_FILE, trainee(1)["hesa_id"])


def test_a_ledger_another_program_writes_to_is_refused_in_forgets_words(register, tmp_path: Path) -> None:
    """Another program holding the ledger's write lock: forget waits a few seconds, not sync's 30, then says another
    program is writing to it and that nothing was forgotten, with no talk of a run or a report; exit 2, as the
    documentation says (review200 F7)."""
    register.sync(write_extract(tmp_path / "extract.csv", [trainee(1)]))
    state = tmp_path / "state"
    holder = sqlite3.connect(state / LEDGER_FILE, isolation_level=None)
    try:
        holder.execute("BEGIN EXCLUSIVE")
        started = time.monotonic()
        with pytest.raises(ConfigError, match="another program is writing to it") as refused:
            forget_records(state, hesa_ids=[trainee(1)["hesa_id"]])
        assert time.monotonic() - started < 15
    finally:
        holder.rollback()
        holder.close()
    assert "Nothing was forgotten" in str(refused.value)
    assert "report" not in str(refused.value) and "The run" not in str(refused.value)
    assert _naming(state / LEDGER_FILE, trainee(1)["hesa_id"])
