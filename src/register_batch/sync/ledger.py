"""The sync ledger: what this state dir knows about each source record's trainee in Register.

One SQLite file per state dir and target, which also remembers the provider (UKPRN) Register files its trainees
under. Before every write the record is marked `in_flight` and the mark is committed; the outcome is committed right
after. A crash (even SIGKILL) therefore leaves at most the writes it was making marked `in_flight`, and the next run
resolves them against Register instead of guessing. The ledger holds identifiers (`hesa_id`, `provider_trainee_id`,
`trainee_id`, the UKPRN), statuses and the server's error messages; never the API token (only a salted digest of
the one that sent creates while no provider was known: `note_creates_token`, read only while none is), and no other
personal data than digests of it: unsalted, of values that can be guessed, only while a create is unanswered
(`creates_matched`, `writes_unanswered`: docs/security.md), and the fields' as last synced (`fields_synced`), keyed
with a key derived from the token (compare.FieldKey).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
import sqlite3
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self
from urllib.parse import urlsplit

from register_batch import portable
from register_batch.api.limiter import host_file_name, open_shared, same_target
from register_batch.config import one_spelling
from register_batch.errors import ConfigError, Interrupted, UnwritableOutput
from register_batch.fs import (
    A_HARD_LINK,
    DIR_MODE,
    FILE_MODE,
    SQLITE_COMPANIONS,
    STATE_DIR_ENTRIES,
    StrPath,
    checks_well,
    file_of_its_own,
    make_private_dirs,
    private_database,
    private_dir,
    read_whole,
    same_database,
    unwritable,
)
from register_batch.reference import PULLED_FILE
from register_batch.wording import counted, printable

log = logging.getLogger(__name__)

LEDGER_FILE = "ledger.sqlite3"
# SQLite's companions of the ledger (fs.SQLITE_COMPANIONS): the write-ahead log, which holds its latest changes until
# they are folded into it, and that log's index.
LEDGER_WAL, LEDGER_SHM = f"{LEDGER_FILE}-wal", f"{LEDGER_FILE}-shm"
# The undo of a write to the ledger stopped part-way in SQLite's rollback-journal mode (Ledger._check_whole).
LEDGER_JOURNAL = f"{LEDGER_FILE}-journal"
# A new ledger while it is made (Ledger._make): given the ledger's name once its tables and target are committed.
NEW_LEDGER_FILE = f"{LEDGER_FILE}.new"
# What every SQLite database begins with: a ledger file shorter than this was cut short (review130 F3).
SQLITE_HEADER_BYTES = 100
LOCK_FILE = "sync.lock"
STATUSES = ("pending", "in_flight", "done", "failed", "unknown", "conflict", "blocked", "invalid")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    key TEXT PRIMARY KEY,
    hesa_id TEXT,
    provider_trainee_id TEXT,
    source TEXT,
    payload_hash TEXT,
    trainee_id TEXT,
    status TEXT NOT NULL,
    operation TEXT,
    http_status INTEGER,
    errors TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    run_id INTEGER,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_trainee ON records (trainee_id);
-- The academic cycle each record's last create was sent for: the next run looks there for one never answered
-- (Ledger.unsettled_creates). A table of its own, so that versions before it read `records` as they did.
CREATE TABLE IF NOT EXISTS creates_sent (key TEXT PRIMARY KEY, start_cycle INTEGER NOT NULL);
-- Each create Register carried out, with the run that sent it, until a report names it (Ledger.creates_unreported): the
-- record's entry moves on to its next write (a withdrawal after the create), so a run that ended before its report
-- left the create to no report. A table of its own, as creates_sent.
CREATE TABLE IF NOT EXISTS creates_unreported (key TEXT PRIMARY KEY, run_id INTEGER NOT NULL);
-- What Register's 409 compares of the record's last create as it was sent (plan.duplicate_check_key, a digest; NULL
-- when a second create is not refused at all): the run after an unanswered create sends another at once only if the
-- record's key still shares a digest with it, so that whichever create lands second is refused (every create still
-- out is compared so too: writes_unanswered). Dropped (NULL) once that create has settled: read no more, they would
-- give a holder of the trainees' names their dates of birth (review203 F1). (2026-12-03's ledgers have a
-- table creates_refused in its place, which is not read: their creates are waited for, as not known to be refused.)
CREATE TABLE IF NOT EXISTS creates_matched (key TEXT PRIMARY KEY, compared TEXT);
-- Each create or placement request sent, until Register answers it (a 2xx, or a refusal): one left unanswered (a
-- timeout, a lost reply, a run killed while it was out) may still be carried out for a while, and whatever the
-- record's entry in `records` says since (a later create refused, the trainee created by a resend and updated, the
-- placement gone from the extract and back), a later create, update or placement of the record must not let Register
-- carry out the same thing twice (Ledger.unanswered; review46 F1, F2, review47 F1, F2). `kind` is `create` (with what
-- Register's 409 compares of it, as creates_matched) or `add_placement` (with the trainee's id); `srs_id` finds it
-- again after the record's HUSID, and so its key, is corrected; `sent_at` is when the request went out, or when it
-- was last known unanswered. So too each degree added, corrected or deleted, placement deleted, update of a trainee,
-- withdrawal and deferral (`kind` the step's: add_degree, update_degree, delete_degree, delete_placement, update,
-- withdraw, defer; with the trainee's id, and a digest of what it sends in `compared`, the item's id for a DELETE):
-- a later run's different write of that kind could be overtaken by it (review52 F1, F3, F4, review115 F1).
CREATE TABLE IF NOT EXISTS writes_unanswered (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, key TEXT NOT NULL, srs_id TEXT, trainee_id TEXT,
    compared TEXT, sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS writes_unanswered_key ON writes_unanswered (key);
-- Each degree a run replaced (a UK degree made non-UK, or back: POST the new one, then DELETE this one), from before
-- the POST until the DELETE is answered: a run stopped in between leaves it to the next, which deletes it while the
-- record still has its replacement (`replacement`, a digest of it as Register stores it), though the record's format
-- cannot hold every degree (Register's CSV) and so deletes none it lacks (review52 F2).
CREATE TABLE IF NOT EXISTS degrees_replaced (
    trainee_id TEXT NOT NULL, degree_id TEXT NOT NULL, replacement TEXT NOT NULL, noted_at TEXT NOT NULL,
    PRIMARY KEY (trainee_id, degree_id)
);
-- Each write Register answered, by record and run, in the order sent (`kinds`, space-separated step kinds), until a
-- report names it (Ledger.writes_landed): the record's entry keeps its last write only, so a run that ended before
-- its report left the writes before it (an update, a degree deleted) to no report (review108 F1). A table of its
-- own, as creates_sent.
CREATE TABLE IF NOT EXISTS writes_landed (
    key TEXT NOT NULL, run_id INTEGER NOT NULL, kinds TEXT NOT NULL, PRIMARY KEY (key, run_id)
) WITHOUT ROWID;
-- Each trainee this sync withdrew, with the withdrawal's date (Register answered it): a trainee back in training
-- since (DfE's support reinstates; the API cannot) shows no withdrawal, and the record that still has that one would
-- withdraw the trainee again, which the API cannot undo (review108 F6; Ledger.withdrawals_made).
CREATE TABLE IF NOT EXISTS withdrawals_made (
    trainee_id TEXT PRIMARY KEY, withdrawal_date TEXT, run_id INTEGER
) WITHOUT ROWID;
-- What each record said of each field when it was last synced in full (a `done` entry: Register held the record as it
-- said), as short digests (compare.field_digests, keyed by a key derived from the API token: compare.FieldKey, whose id
-- begins the text; review194 F2), with the payload they are of and the trainee: a later update of a field whose digest
-- is as then mends a change made in Register's service since (sync_overwrites_register_edit; review185 F1). Written
-- when a record ends done with another payload or trainee than the one kept (a night's changed records: an unchanged
-- rerun writes none), and kept while the record's entry moves on to a failed or unanswered write, so that the next run
-- still knows what was last synced, and when (review185 F2): `synced_at`, the time the digests were noted, becomes the
-- done entry's `updated_at` as the entry leaves `done` (Ledger.record); while it is done, that is the time
-- (Ledger.synced). A table of its own, as creates_sent: a ledger of a version before it gains it empty, and the warning
-- falls back to the entry's payload_hash until a run notes the record. `digests` are compare.pack_digests' (~250 bytes,
-- the row ~350; review192 F5). `sent`: the digests of what the writes sent since then carried, while none has been
-- answered in full (compare.sent_digests; NULL again as the record ends done): Register may hold them without the reply
-- having come, and a field they changed is never named as Register's edit (review192 F1). A rowid table: records come
-- in the extract's order, not the key's.
CREATE TABLE IF NOT EXISTS fields_synced (
    key TEXT PRIMARY KEY, trainee_id TEXT, payload_hash TEXT NOT NULL, digests TEXT NOT NULL, synced_at TEXT NOT NULL,
    sent TEXT
);
-- The run that wrote each record's payload digest as it is now (Ledger.payload_writer, review230 F3): the entry's
-- run_id is its last writer, and a rerun that found the record unchanged stamps it again. Moved only when the digest
-- changes; a row whose digest is not the entry's (an older version wrote the record since) is not read.
CREATE TABLE IF NOT EXISTS payload_written (key TEXT PRIMARY KEY, payload_hash TEXT NOT NULL, run_id INTEGER);
-- What Register answered this state dir's last write of each coded field with, where it held the code sent otherwise
-- (null, or another code: its lists changed since the ones in use; review210 F1, F2), by record: `echoed` is the run's
-- compare.FieldKey id, `:`, and a JSON object of field -> [digest of the code sent, digest of what Register held,
-- digest of the code lists in use then (compare.lists_mark)] under that key (no personal data; `disabilities`: of the
-- codes sent and the disclosure Register derived). A later run compares the record as Register answered while the
-- record still gives that code, Register still holds that answer and the same lists are in use (compare.as_echoed):
-- no update every night, and no edit in Register's service named; after a pull the record is sent once more, and a
-- write whose answer keeps the code drops the field's note. A note of two digests (made before the lists were named)
-- counts as made under other lists. A table of its own, as creates_sent: a
-- ledger of a version before it gains it empty (each such record is sent once more, and noted then); a version before
-- it ignores it.
CREATE TABLE IF NOT EXISTS codes_echoed (key TEXT PRIMARY KEY, echoed TEXT NOT NULL, noted_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    dry_run INTEGER NOT NULL,
    status TEXT NOT NULL,
    summary TEXT,
    inputs TEXT
);
"""


# SQLite's (primary) result codes for a ledger its disk will not take: full or over quota (SQLITE_FULL, or an
# I/O error for a write refused with ENOSPC or EFBIG), read-only, or a journal that cannot be created.
_UNWRITABLE = frozenset({sqlite3.SQLITE_FULL, sqlite3.SQLITE_IOERR, sqlite3.SQLITE_READONLY, sqlite3.SQLITE_CANTOPEN})


# Another program holding the ledger (a database browser left open on it, a backup tool): a write waits this long.
BUSY_SECONDS = 30.0


HELD_ELSEWHERE = "another program has it open (a database browser, a backup?)"


def _code(exc: sqlite3.Error | OSError) -> int:
    return getattr(exc, "sqlite_errorcode", 0) & 0xFF  # the primary result code, without its extended part


def _unwritable(exc: sqlite3.Error) -> bool:
    return _code(exc) in _UNWRITABLE


def _stopped_part_way(exc: sqlite3.Error) -> bool:
    """A connection that can only read found a write to the database stopped part-way (a hot rollback journal), which
    it cannot undo (SQLITE_READONLY_ROLLBACK): not a read-only disk."""
    return getattr(exc, "sqlite_errorcode", 0) == sqlite3.SQLITE_READONLY_ROLLBACK


def _damaged(exc: sqlite3.Error) -> bool:
    """A ledger SQLite finds damaged (SQLITE_CORRUPT: a page overwritten, the file cut short) or not a database."""
    return _code(exc) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def _held_elsewhere(exc: sqlite3.Error | OSError) -> bool:
    return _code(exc) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _why_unwritable(exc: sqlite3.Error | OSError) -> str:
    if _held_elsewhere(exc):
        return f"{HELD_ELSEWHERE}: close that program"
    return "is its disk full or read-only? Free space there, or use another {state_dir}"


class LedgerUnwritable(Interrupted):
    """The ledger could not be written part-way through a sync (a full disk): stop, and resume once it can be."""

    def __init__(self, message: str, reason: sqlite3.Error):
        super().__init__(message)
        self.reason = reason


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _a_day_ago() -> str:
    return (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="milliseconds")


def _stop_of(summary: str | None) -> dict[str, Any]:
    """A stopped run's row summary (stop_run), or an interrupted one's that a second stop ended before its report: its
    reason, and whether it had sent a write; {} when unreadable."""
    try:
        found = json.loads(summary or "{}")
    except ValueError:
        return {}
    if not isinstance(found, dict):
        return {}
    reason, sent = found.get("reason"), found.get("sent")
    return {"reason": reason if isinstance(reason, str) else None, "sent": sent if isinstance(sent, bool) else None}


def _to_the_second(stamp: str | None) -> str | None:
    """A runs table time (`_now`'s, milliseconds) as reports give times: to the second, in UTC with its offset."""
    if stamp is None:
        return None
    try:
        return datetime.fromisoformat(stamp).astimezone(UTC).replace(microsecond=0).isoformat()
    except ValueError:
        return stamp


# Whether the record's last create may still be carried out: a create in flight or unknown, linked to no trainee (runner
# `_earlier_create_may_land`). Only their creates_matched digests are ever read again.
_CREATE_OUT = (
    "EXISTS (SELECT 1 FROM records WHERE records.key = creates_matched.key AND operation = 'create' "
    "AND COALESCE(trainee_id, '') = '' AND status IN ('in_flight', 'unknown'))"
)


def _add_sent_column(db: sqlite3.Connection) -> None:
    """`fields_synced.sent` (review192 F1) in a ledger whose table was made before it (this version's own, never
    released: CREATE TABLE IF NOT EXISTS leaves it as it was)."""
    if "sent" not in {row[1] for row in db.execute("PRAGMA table_info(fields_synced)")}:
        db.execute("ALTER TABLE fields_synced ADD COLUMN sent TEXT")


def _add_inputs_column(db: sqlite3.Connection) -> None:
    """`runs.inputs` (review208 F1) in a ledger whose runs table was made before it: every version reads and writes
    that table by named columns, so an older one keeps working with the column there (left NULL by its runs)."""
    if "inputs" not in {row[1] for row in db.execute("PRAGMA table_info(runs)")}:
        db.execute("ALTER TABLE runs ADD COLUMN inputs TEXT")


@dataclass(frozen=True)
class RunInputs:
    """What an earlier run of this state dir was given (`runs.inputs`): its inputs' SHA-256 digests (sorted: the same
    files in another order are the same input) and the academic cycles their records start in, with the run's id,
    start (`_now`'s, UTC), status and record count (its summary's actions; None for a run that ended before it).
    `known`: False for a run whose inputs were not recorded (a version before them made it): its digests and cycles
    are empty, not known to be none, and only its record count is read."""

    run_id: int
    started_at: str
    status: str
    digests: tuple[str, ...]
    cycles: frozenset[int]
    records: int | None
    known: bool = True
    # Whether the run got as far as listing Register and planning (`Ledger.run_listed`): one that stopped before (exit
    # 3, Register unreachable; a stop during the listing) saw none of its cycles' trainees (review230 F2). True for a
    # run of a version before this was noted.
    listed: bool = True


# A fields_synced row (f) older than its record's done entry (r): Synced.stale, and what synced_digests leaves out.
_STALE = "COALESCE(r.status = 'done' AND r.payload_hash IS NOT f.payload_hash, 0)"


@dataclass(frozen=True)
class Synced:
    """What a record said when this state dir last synced it in full (the `fields_synced` table): the trainee, the
    payload's digest, each field's (compare.pack_digests), and when (`_now`'s, UTC); `sent`: the digests of what
    unanswered writes sent since (compare.sent_digests), if any."""

    trainee_id: str | None
    payload_hash: str
    digests: str
    synced_at: str
    sent: str | None = None
    # Older than its done entry's payload: a build that kept no field digests wrote the record since (a rollback,
    # review195 F2), so they are not what was last written: set aside (_STALE).
    stale: bool = False


@dataclass(frozen=True)
class Entry:
    key: str
    hesa_id: str | None
    provider_trainee_id: str | None
    source: str | None
    payload_hash: str | None
    trainee_id: str | None
    status: str
    operation: str | None
    http_status: int | None
    errors: list[str]
    attempts: int
    run_id: int | None
    updated_at: str


_ENTRY_FIELDS = tuple(entry_field.name for entry_field in fields(Entry))  # the columns of `records`, in order
# What an Entry is read from, by name: a ledger of commit b04cf52a (2026-11-30, a half hour's development version) has
# a 14th column, `start_cycle`, that `SELECT *` gave as well (review130 F9). The schema grows by tables of their own
# (SCHEMA), never by a column of `records`, so that any version reads any other's ledger; naming the columns keeps
# that so for a column added after all.
_ENTRY_COLUMNS = ", ".join(_ENTRY_FIELDS)


class StateDirLocked(ConfigError):
    """Another sync holds this state dir."""


class _FileLock:
    """An exclusive lock on a file, held from `acquire` (or `with`) to `release`."""

    _fd: int | None = None  # the locked file's descriptor while held

    def acquire(self) -> Self:
        raise NotImplementedError

    def release(self) -> None:
        _unlock(self._fd)
        self._fd = None

    def __enter__(self) -> Self:
        return self.acquire()

    def __exit__(self, *exc: Any) -> None:
        self.release()


class StateDirLock(_FileLock):
    """One run at a time per state dir: an exclusive, non-blocking lock the OS releases even on SIGKILL
    (`portable.try_lock`: flock on POSIX, LockFileEx on Windows)."""

    def __init__(self, state_dir: StrPath, command: str = "sync"):
        self.command = command  # what holds it, for the message another run is given
        # The state dir, and any folder above it this creates, are owner-only from the start (it will hold
        # the ledger).
        try:
            self.path = private_dir(state_dir, own=STATE_DIR_ENTRIES) / LOCK_FILE
        except UnwritableOutput as exc:  # a file of that name, a read-only or missing parent, a name too long
            shown = state_dir if exc.shown == exc.path else exc.shown  # cut short: a name too long is 255 bytes or more
            raise ConfigError(f"cannot use {shown} as the state dir ({exc.problem})") from None

    def acquire(self) -> StateDirLock:
        try:
            fd, holder = _lock_exclusively(self.path)
        except OSError as exc:  # a read-only disk, a folder not ours
            raise ConfigError(
                f"cannot use {self.path.parent} as the state dir ({exc.strerror or exc}): nothing was sent"
            ) from None
        except _NoLocks as exc:  # ENOLCK, EOPNOTSUPP: a network share without lock support
            raise ConfigError(
                f"cannot lock {self.path} ({exc}): the state dir must be on a disk that supports file "
                "locks (a local disk; not every network share does): nothing was sent"
            ) from None
        if fd is None:
            who = f" ({holder})" if holder else ""
            raise StateDirLocked.naming(
                "the state dir {folder} is in use by another run{who}; wait for it to finish, or use a different "
                "{state_dir}",
                folder=self.path.parent,
                who=who,
            )
        _name_holder(fd, f"{self.command}, pid {os.getpid()} since {_now()}")
        self._fd = fd
        return self

    def holds(self, state_dir: StrPath) -> bool:
        """Whether this lock is taken, and on `state_dir` (however its name is written)."""
        try:
            return self._fd is not None and os.path.samefile(self.path.parent, state_dir)
        except OSError:  # no such folder: not the one locked
            return False


class ProviderBusy(ConfigError):
    """Another sync, from another state dir, is writing to the same service for the same provider."""


class ProviderLock(_FileLock):
    """One writing sync at a time per service and provider, among the processes that share a rate budget (the
    budget's folder, api/limiter.py: by default this user's, towards a real service).

    The state dir's lock keeps two runs off one ledger; this one keeps two state dirs (a cron job's and one
    started by hand elsewhere) from writing for one provider at once. Their plans would both see the same missing
    placement and both add it: Register has no duplicate check for placements (register-api.md §2.11), and
    two runs that both create a trainee lean on Register's 409 alone. The file is named after the service and a
    digest of the token, which it never holds.

    `folder` None, or one that cannot be used (a read-only or missing home folder, an unusable
    REGISTER_BATCH_RATE_DIR), takes the lock in `fallback` (`fallback_lock_folder`) instead, and says so in one line
    (beginning with `note`, the budget's own warning, when there is one): two syncs whose budget folder failed them
    both still see each other (review60 F1). A lock that cannot be taken anywhere is said once and the run goes on
    with its state dir's lock alone."""

    def __init__(
        self,
        folder: Path | None,
        target: str,
        token: str,
        state_dir: StrPath,
        *,
        accounts: bool = False,
        fallback: Path | None = None,
        note: str | None = None,
        config_file: str | None = None,
    ):
        self.accounts = accounts  # the folder is one user accounts share (limiter.open_shared)
        # The settings file the run read, named to another run refused the lock (from wherever that one started).
        self.config_file = None if config_file is None else os.path.abspath(config_file)
        host = host_file_name(urlsplit(target).hostname)
        # localhost and 127.0.0.1 are one target (same_target, review183 F4)
        keyed = same_target(target)
        digest = hashlib.sha256(f"register-batch provider lock\n{keyed}\n{token}".encode()).hexdigest()[:24]
        self.name = f"sync-{host}-{digest}.lock"
        self.path = Path(folder or fallback or ".") / self.name  # where it is (once taken) or was first looked for
        self.wanted = None if folder is None else self.path
        self.fallback = fallback
        self.note = note  # why the budget is not shared, said with where this lock went
        self.target = target
        self.state_dir = os.path.abspath(state_dir)

    def acquire(self) -> ProviderLock:
        tried: list[tuple[Path, str]] = []  # each place that failed, and why
        found = None if self.wanted is None else self._take(self.wanted, tried, accounts=self.accounts)
        if found is None and self.fallback is not None:
            self.path = self.fallback / self.name
            found = self._take(self.path, tried, own=True)
        if found is None:
            self._say_none(tried)
            return self
        fd, holder = found
        if self.path != self.wanted:
            self._say_fallback(tried)
        if fd is None:
            said, _, kept = holder.partition("\n")
            who = self._holder_named(said)
            raise ProviderBusy(
                f"another sync is writing to {self.target} for this token's provider{who}; wait for it to finish: "
                "two at once could add a placement twice (Register does not refuse duplicate placements)"
                f"{self._another_state_dirs(kept)}. Nothing was sent"
            )
        # The line another run's refusal shows, then the holder's state dir and settings file for it to tell by.
        kept = json.dumps({"state_dir": self.state_dir, "config_file": self.config_file})
        _name_holder(fd, f"sync, pid {os.getpid()} since {_now()}, state dir {self.state_dir}\n{kept}")
        self._fd = fd
        return self

    def _holder_named(self, said: str) -> str:
        """The refusal's words on who holds the lock: the line its holder wrote (`sync, pid 4242 since …`), and, in a
        folder other user accounts share (REGISTER_BATCH_RATE_DIR), the lock's file and the process the system says
        holds it with its account, when that is another's or no holder is named: any account sharing the folder can
        hold the lock for as long as it likes, or write a made-up holder line, and each of this provider's syncs then
        stops (review226 F3; docs/security.md, "Two runs at once")."""
        named = [said] if said else []
        found = _flock_holder(self.path) if self.accounts else None
        foreign = found is not None and found[1] is not None and found[1] != _this_uid()
        if self.accounts and (foreign or not said):  # a sync of this account's that named itself: as before
            unnamed = "" if said else ", which named no holder"
            if found is not None and foreign:
                named.append(f"held by a process of uid {found[1]}, pid {found[0]}{unnamed}")
            elif found is not None:
                named.append(f"held by pid {found[0]}{unnamed}")
            else:
                named.append("its holder named none")
            named.append(
                f"lock {self.path}, in a folder other user accounts share (REGISTER_BATCH_RATE_DIR): any of them can "
                "hold it"
            )
        return f" ({'; '.join(named)})" if named else ""

    def _another_state_dirs(self, kept: str) -> str:
        """The refusal's words on a holder with another state dir than this run's: the same provider's run from
        another folder, or, on a host of many providers, another provider's settings file whose token_file names this
        run's token, which made this provider's correct run fail for the night (review212 F3). Nothing for a holder
        of an older version, which wrote no state dir to tell by, or of this run's own state dir."""
        try:
            held = json.loads(kept) if kept else {}
        except ValueError:
            return ""
        state_dir = held.get("state_dir") if isinstance(held, dict) else None
        if not isinstance(state_dir, str) or state_dir == self.state_dir:
            return ""
        config_file = held.get("config_file")
        if isinstance(config_file, str) and config_file:
            named, check = f", settings file {config_file}", "check that settings file's token_file"
        else:
            named, check = "", "check which token it sends"
        return (
            f"; a run with another state dir ({state_dir}{named}) is using this run's token: unless it is this "
            f"provider's, {check}"
        )

    @staticmethod
    def _take(
        path: Path, tried: list[tuple[Path, str]], *, accounts: bool = False, own: bool = False
    ) -> tuple[int | None, str] | None:
        """`_lock_exclusively` in `path`'s folder, made as it is wanted (`_own_folder` with `own`), or None with why
        added to `tried`."""
        try:
            if own:
                _own_folder(path.parent)
            else:
                make_private_dirs(path.parent)
            return _lock_exclusively(path, accounts=accounts, own=own)
        except (OSError, UnwritableOutput, _NoLocks) as exc:
            tried.append((path, _why(exc)))
            return None

    def _say_none(self, tried: list[tuple[Path, str]]) -> None:
        """No folder could hold the lock: the budget's warning (if this lock was to say it) and that, each once."""
        if self.note:
            log.warning("%s", self.note)
        if not tried:  # no folder to try at all (no temporary folder)
            tried = [(Path(self.name), "no folder to keep it in")]
        places = " or ".join([*(f"{path} ({why})" for path, why in tried[:-1]), str(tried[-1][0])])
        log.warning(
            "cannot use %s to keep other syncs for this provider from writing at the same time (%s); this run relies "
            "on its state dir's lock alone",
            places,
            tried[-1][1],
        )

    def _say_fallback(self, tried: list[tuple[Path, str]]) -> None:
        """One line: the lock is in the fallback folder, and why (the budget's warning, or the folder that failed)."""
        where = self.path.parent
        if tried:
            log.warning(
                "cannot use %s to keep other syncs for this provider from writing at the same time (%s); that lock "
                "is in %s instead",
                *tried[0],
                where,
            )
        elif self.note:
            log.warning(
                "%s; the lock that keeps other syncs for this provider from writing at the same time is in %s instead",
                self.note,
                where,
            )
        else:
            log.warning(
                "the rate budget is not shared with other register-batch processes; the lock that keeps other syncs "
                "for this provider from writing at the same time is in %s instead",
                where,
            )


def fallback_lock_folder() -> Path | None:
    """`register-batch-<uid>` in the temporary folder (`tempfile.gettempdir()`: $TMPDIR, else /tmp): there for
    every user, whatever its home, for a provider lock whose budget folder cannot be used. Made owner-only, and
    used only while it is this user's folder (`_own_folder`): in /tmp another user could make it first. Runs that see
    different temporary folders (another TMPDIR, a systemd service's PrivateTmp) do not see each other's lock there.
    On Windows the temporary folder is the user's own already. None when there is no temporary folder to use."""
    user = os.geteuid() if hasattr(os, "geteuid") else "user"
    try:
        return Path(tempfile.gettempdir()) / f"register-batch-{user}"
    except FileNotFoundError:  # "No usable temporary directory found"
        return None


# Why the fallback folder is not used: each a clause after "cannot use NAME ... (".
FOLDER_A_LINK = "it is a symbolic link, where another user could have made it lead to a folder of theirs"
FOLDER_NOT_A_FOLDER = "it is not a folder"
FOLDER_NOT_YOURS = "it is another user's folder (uid {uid}), who could take this lock or remove it"


def _own_folder(folder: Path) -> None:
    """Make `folder` (owner-only) or check the one there: a real folder, this user's, owner-only (tightened if ours
    and wider). Anything else is refused (UnwritableOutput): in a folder every user may write to (/tmp), another could
    have made it, or a link of that name, to hold our lock or see it."""
    try:
        folder.mkdir(mode=DIR_MODE)
    except FileExistsError:
        pass
    except OSError as exc:
        raise unwritable(folder, exc) from None
    status = os.lstat(folder)
    if stat.S_ISLNK(status.st_mode):
        raise UnwritableOutput(folder, FOLDER_A_LINK)
    if not stat.S_ISDIR(status.st_mode):
        raise UnwritableOutput(folder, FOLDER_NOT_A_FOLDER)
    if portable.POSIX_PERMISSIONS:
        if status.st_uid != os.geteuid():
            raise UnwritableOutput(folder, FOLDER_NOT_YOURS.format(uid=status.st_uid))
        if stat.S_IMODE(status.st_mode) & 0o077:  # ours, made wider (by hand, or under another umask's chmod)
            os.chmod(folder, DIR_MODE)


def _why(exc: OSError | UnwritableOutput | Exception) -> str:
    """What went wrong with a lock's folder or file, as the warning names it."""
    if isinstance(exc, UnwritableOutput):
        return exc.problem
    return str(getattr(exc, "strerror", None) or exc)


class _NoLocks(Exception):
    """The file's disk does not support locks (a network share)."""


def _lock_exclusively(path: Path, *, accounts: bool = False, own: bool = False) -> tuple[int | None, str]:
    """Open `path` (owner-only, unless `accounts` share its folder: `open_shared`) and lock it without waiting, a
    lock the OS releases even on SIGKILL (`portable.try_lock`): the open descriptor, or None and what the holder
    wrote in it. With `own`, a file that is not this user's alone is refused (OSError: `fs.file_of_its_own`)."""
    fd = open_shared(path, accounts=accounts)
    if own:
        file_of_its_own(fd, path)  # closes it when refused
    if not accounts:
        with contextlib.suppress(OSError):  # an older lock file made with a wider mode: it names our pid
            portable.set_mode(fd, FILE_MODE)
    try:
        locked = portable.try_lock(fd)
    except OSError as exc:
        os.close(fd)
        raise _NoLocks(exc.strerror or str(exc)) from None
    if locked:
        return fd, ""
    holder = ""
    # On Windows the holder's lock keeps others from reading its first byte: no holder is named there.
    with contextlib.suppress(OSError, ValueError):
        holder = portable.read_at(fd, 4096, 0).decode().strip()  # a provider lock's holder names two paths
    os.close(fd)
    return None, holder


def _flock_holder(path: Path) -> tuple[int, int | None] | None:
    """The process holding the `flock` on `path`'s file, as Linux's /proc/locks lists it, with its account's uid (None
    when its /proc entry cannot be read); None where there is no /proc/locks, or no holder is listed. What the holder
    wrote in the file is its own word; this is the system's."""
    try:
        status = os.stat(path)
        wanted = f"{os.major(status.st_dev):02x}:{os.minor(status.st_dev):02x}:{status.st_ino}"
        # Bytes: a codec looked up by name may not be importable (a process that gave up root for another account).
        with open("/proc/locks", "rb") as listed:
            for line in listed.read().decode("latin-1").splitlines():
                # `1: FLOCK  ADVISORY  WRITE 4242 08:01:1234 0 EOF`; a process waiting for it has `->` after `1:`
                words = line.split()
                if "->" in words or "FLOCK" not in words or wanted not in words:
                    continue
                pid = int(words[words.index(wanted) - 1])
                if pid <= 0 or pid == os.getpid():
                    continue
                try:
                    uid: int | None = os.stat(f"/proc/{pid}").st_uid
                except OSError:
                    uid = None
                return pid, uid
    except (OSError, ValueError, AttributeError):  # no /proc (macOS, Windows: no os.major there either)
        return None
    return None


def _this_uid() -> int | None:
    return os.geteuid() if hasattr(os, "geteuid") else None


def _name_holder(fd: int, holder: str) -> None:
    """Who holds a lock is only for the message another run gives: a full disk must not stop the run here (blamed
    on the temporary folder, as an error without a file name), but at the ledger, which names it."""
    with contextlib.suppress(OSError):
        os.ftruncate(fd, 0)
        portable.write_at(fd, holder.encode(), 0)


def _unlock(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
            portable.unlock(fd)
        os.close(fd)


def _check_pulled_from(folder: Path, target: str) -> None:
    """Refuse (ConfigError) to bind a new ledger in `folder` to `target` when the folder holds lists `reference pull`
    saved from another target: the run validates by them, so another service's lists would judge this one's records,
    and the state dir stays the first target's (docs/configuration.md, State directories; review124 F3)."""
    from register_batch.reference.pull import pulled_lists, read_pulled
    from register_batch.sync.target import EMBEDDED_IDENTITY

    if pulled_lists(folder) is None:
        return
    document = read_pulled(folder)
    pulled_from = document.get("target_identity") or document.get("target")
    if not isinstance(pulled_from, str) or not pulled_from:
        return  # a bare payload (saved with curl, or by hand): from no target it names
    if "target_identity" not in document and target == EMBEDDED_IDENTITY:
        return  # an older version wrote the embedded emulator's URL of the moment, which cannot be told from another
    if one_spelling(pulled_from) != one_spelling(target):
        raise ConfigError.naming(
            "the state dir {folder} holds code lists pulled from {pulled_from}, not {target}: they would judge the "
            "records synced to {target}. Use a separate {state_dir} for each target, or delete {pulled} to use the "
            "bundled lists.",
            folder=folder,
            pulled_from=pulled_from,
            target=target,
            pulled=folder / PULLED_FILE,
        )


def _connect(path: Path) -> sqlite3.Connection:
    """SQLite's connection to the database at `path`, made owner-only or looked at first (`private_database`) and
    checked to be the file looked at (`same_database`): UnwritableOutput or OSError as they raise them."""
    key = private_database(path)
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_SECONDS)
    try:
        same_database(path, key)
    except BaseException:
        db.close()
        raise
    return db


def _let_go_of_unplaced(folder: Path) -> None:
    """Remove a new ledger a run killed while it made it left in `folder` (`Ledger._make`), and its companions: nothing
    was sent with it, as a run sends nothing before its ledger is in place; or, killed as it was put in place, it is
    a second name of the ledger. What cannot be removed (a folder, in a folder not ours) `_make` refuses."""
    for name in (NEW_LEDGER_FILE, *(f"{NEW_LEDGER_FILE}{companion}" for companion in SQLITE_COMPANIONS)):
        with contextlib.suppress(OSError):
            os.unlink(folder / name)


def _put_in_place(made: Path, path: Path) -> None:
    """Give the new ledger `made` the name `path`, never over a file there (one another program made meanwhile is
    kept, and `made` let go): a second name, then the first removed, both made lasting. A disk whose files have one
    name only (FAT, some network shares) is given a rename instead."""
    try:
        os.link(made, path)
    except FileExistsError:
        pass
    except OSError:  # EPERM, EOPNOTSUPP: no second names here
        os.rename(made, path)
    _folder_lasting(path.parent)
    with contextlib.suppress(FileNotFoundError):  # gone already: another run removed it (`_let_go_of_unplaced`)
        os.unlink(made)


def _folder_lasting(folder: Path) -> None:
    """Have the disk keep the names just given in `folder` (fsync of the folder), where a folder can be opened so."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _holds_changes(companion: str) -> bool:
    """Whether SQLite's companion file `companion` (a -wal, a -journal) is there and holds anything: a regular file (a
    link there is refused by whoever opens it: `private_database`)."""
    try:
        status = os.lstat(companion)
        return stat.S_ISREG(status.st_mode) and status.st_size > 0
    except (OSError, ValueError):
        return False


def _reads_without_wal(path: Path) -> bool:
    """Whether the database file `path`, which SQLite found damaged, reads well without the -wal beside it: that -wal
    then came with another database file (review130 F4). Opened `immutable`, which reads the file alone, writes and
    locks nothing."""
    try:
        return os.lstat(f"{path}-wal").st_size > 0 and checks_well(path, "immutable=1")
    except (OSError, ValueError, sqlite3.Error):
        return False


class Ledger:
    """Per-record sync state in `<state_dir>/ledger.sqlite3`, bound to one target."""

    def __init__(self, state_dir: Path, target: str):
        folder = private_dir(state_dir, own=STATE_DIR_ENTRIES)
        self.path = folder / LEDGER_FILE
        self.run_open = False  # a run started and not yet finished (stop_run)
        self.sending = False  # a write was marked in flight (`record`): requests may have gone out since
        self._depth = 0  # inside a commit (_one_commit, together)
        _let_go_of_unplaced(folder)  # before the ledger is looked at: it may be a second name of the ledger
        if not os.path.lexists(self.path):
            self._not_left_behind(folder)
            _check_pulled_from(folder, target)  # before it is made: a ledger left unbound would bind it to nothing
            self._make(folder / NEW_LEDGER_FILE, target)
        # Made owner-only, or ours tightened (one made by an older version, or copied in); a link or another user's
        # file at its name, or at a companion's, refused before SQLite opens it by name (review61 F1).
        try:
            self._db = _connect(self.path)
        except UnwritableOutput as exc:
            raise self._not_private(exc) from None
        except OSError as exc:  # a read-only disk, a folder not ours
            raise self._cannot_start(exc) from None
        try:
            size = os.stat(self.path).st_size
        except OSError as exc:
            self._db.close()
            raise self._cannot_start(exc) from None
        if size < SQLITE_HEADER_BYTES:
            # Cut short (a copy onto a full disk, `> ledger.sqlite3`, a crash before the disk had its pages): SQLite
            # would take an empty file as a new database, and the run then created again a trainee a person deleted
            # in Register's service (review130 F3). A new ledger is never one: it is made under another name.
            self._db.close()
            raise self._unreadable(
                "it is empty"
                if size == 0
                else f"it holds {size} byte{'' if size == 1 else 's'}, less than a database's header: cut short",
                empty=size == 0,
            )
        try:
            self._check_whole()
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
            _add_sent_column(self._db)
            _add_inputs_column(self._db)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'target'").fetchone()
            known: str | None = row[0] if row else None
        except sqlite3.DatabaseError as exc:  # damaged, or another file under the ledger's name
            self._db.close()
            if _unwritable(exc) or _held_elsewhere(exc):  # not damage: restoring a backup would not help
                raise self._cannot_start(exc) from None
            raise self._unreadable(str(exc), wal_not_its_own=_reads_without_wal(self.path)) from None
        # Bound now: a new ledger, or one bound before a service's URL became one spelling (`http://LOCALHOST:8787`).
        if known is None or (known != target and one_spelling(known) == one_spelling(target)):
            try:
                self._set_meta("target", target)
                if known is None:
                    self._set_meta("created_at", _now())
            except LedgerUnwritable as exc:
                self._db.close()
                raise self._cannot_start(exc.reason) from None
        elif known != target and self._sent_nothing() and not os.path.lexists(folder / PULLED_FILE):
            # A dry run binds a new ledger to its target, but writes no trainee id there: one forgotten --target
            # left the state dir refused for the target it was meant for (review114 F4); so did a first sync stopped
            # before it sent anything, by a mistyped target's host name not found, once the target was corrected as
            # the line said to (review238 F2). It starts afresh, unless lists pulled from its target are there, which
            # would judge the other target's records.
            try:
                self._bind_afresh(target)
            except LedgerUnwritable as exc:
                self._db.close()
                raise self._cannot_start(exc.reason) from None
            log.warning(
                "the state dir %s holds no trainee id (only runs that sent nothing used it, against %s): it is now "
                "bound to %s",
                folder,
                known,
                target,
            )
        elif known != target:
            self._db.close()
            raise ConfigError.naming(
                "the state dir {folder} belongs to target {known}, not {target}: its trainee ids mean nothing there. "
                "Use a separate {state_dir} for each target.",
                folder=folder,
                known=known,
                target=target,
            )
        self.target = target
        self.run_id: int | None = None
        self.run_dry = False  # whether the run started (start_run) is a dry run: run_before

    def _not_left_behind(self, folder: Path) -> None:
        """Refuse (ConfigError) to make a ledger where a deleted one's -wal or journal holding changes was left: SQLite
        would play it into the new ledger (a journal), or the new ledger was refused as a backup put back beside
        another ledger's -wal, though none was (review136 F4). Said before anything is made."""
        left = [name for name in (LEDGER_WAL, LEDGER_JOURNAL) if _holds_changes(str(folder / name))]
        if not left:
            return
        raise ConfigError.naming(
            "{folder}: {left} without {ledger}, the ledger it belongs to (deleted?): put the ledger back from "
            "a backup, first deleting the {companions} there (the deleted ledger's, which SQLite would play into it), "
            "or delete them to start a new ledger, which does not know what this state dir synced (a trainee deleted "
            "in Register's service is created again); nothing was sent",
            folder=folder,
            left=f"{' and '.join(left)} {'is' if len(left) == 1 else 'are'} there",
            ledger=LEDGER_FILE,
            companions=f"{LEDGER_WAL}, {LEDGER_SHM} and {LEDGER_JOURNAL}",
        )

    def _check_whole(self) -> None:
        """`read_whole` of the ledger, once SQLite has undone a write to it stopped part-way (review136 F1): a run
        killed in a transaction of a ledger in rollback-journal mode (as an earlier version switched its new ledger to
        WAL, or a ledger switched to that mode by hand) left the undo of its half-written pages in
        ledger.sqlite3-journal, which a connection that can only read cannot play back, and the ledger was refused on
        every run. The ledger's own connection plays it back at its first read, as SQLite does; never with a -wal that
        holds changes beside it: a ledger is in one journal mode at a time, so that -wal is another ledger's, which
        the ledger's connection would fold into this one when closed (review130 F4)."""
        try:
            read_whole(self.path, timeout=BUSY_SECONDS)
        except sqlite3.OperationalError as exc:
            if not _stopped_part_way(exc):
                raise
            if _holds_changes(f"{self.path}-wal"):
                self._db.close()  # before it reads: nothing folded in
                raise self._stopped_beside_a_wal() from None
            self._db.execute("PRAGMA schema_version")  # the first read: SQLite undoes the stopped write
            read_whole(self.path, timeout=BUSY_SECONDS)

    def _sent_nothing(self) -> bool:
        """Whether no run of the ledger can have sent a write, and it holds no record, so no trainee id of its target:
        no row in any table of records and writes (every table but `meta` and `runs`: a dry run writes none, nor does
        a run stopped before its first write), and every run a dry run, or a real one that stopped saying it had sent
        nothing (`stop_run`'s `"sent": false`; review238 F2). A real run that ended otherwise, or was killed (its row
        still `running` or `ended unexpectedly`), may have sent writes whose outcome is unknown: never."""
        tables = [
            name
            for (name,) in self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if name not in ("meta", "runs") and not name.startswith("sqlite_")
        ]
        if any(self._db.execute(f'SELECT EXISTS (SELECT 1 FROM "{name}")').fetchone()[0] for name in tables):
            return False
        return all(
            status in ("stopped", "interrupted") and _stop_of(summary).get("sent") is False
            for status, summary in self._db.execute("SELECT status, summary FROM runs WHERE dry_run = 0")
        )

    def _bind_afresh(self, target: str) -> None:
        """Bind a ledger of runs that sent nothing (`_sent_nothing`) to `target`, as a new one: its runs and what they
        noted (the listing, the provider) were of another target."""
        with self._one_commit():
            self._execute("DELETE FROM runs")
            self._execute("DELETE FROM meta")
            self._set_meta("target", target)
            self._set_meta("created_at", _now())

    def _make(self, made: Path, target: str) -> None:
        """Make a new ledger, bound to `target`, under the name `made` and give it the ledger's name once its tables
        and target are committed: a run killed while it makes one leaves no empty or half-made ledger.sqlite3, which
        could not be told from one cut short (review130 F3). What a killed run left at `made` the next one removes
        (`_let_go_of_unplaced`). Made in WAL mode from its first page, as the ledger is opened (review136 F1: one
        switched to it once named was switched through a ledger.sqlite3-journal, left hot by a run killed then), and its
        -wal folded into it before it is closed, so that the file holds all of it."""
        try:
            db = _connect(made)
            try:
                db.execute("PRAGMA journal_mode=WAL")
                db.execute("PRAGMA synchronous=FULL")
                db.executescript(SCHEMA)
                db.execute("BEGIN IMMEDIATE")
                db.executemany(
                    "INSERT INTO meta (key, value) VALUES (?, ?)", (("target", target), ("created_at", _now()))
                )
                db.execute("COMMIT")
                [(busy, *_)] = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
                if busy:  # cannot be: no other connection has the new file open
                    raise sqlite3.OperationalError(f"cannot fold {made}-wal into {made}")
            finally:
                db.close()
            for companion in SQLITE_COMPANIONS:  # the ones `private_database` made, left empty
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(f"{made}{companion}")
            _put_in_place(made, self.path)
        except UnwritableOutput as exc:  # a link or another user's file at the name `made`
            raise self._not_private(exc) from None
        except (OSError, sqlite3.Error) as exc:  # a full or read-only disk
            _let_go_of_unplaced(made.parent)
            if isinstance(exc, sqlite3.Error) and not (_unwritable(exc) or _held_elsewhere(exc)):
                raise
            raise self._cannot_start(exc) from None

    def _unreadable(self, problem: str, *, empty: bool = False, wal_not_its_own: bool = False) -> ConfigError:
        """The ledger is damaged (`_damaged`, or cut short: `empty`, or shorter than a database's header): found when
        it is opened, or part-way through a run (a page that went bad since), before a write went out or after. Exit
        2 either way: the same run again finds it damaged. A backup put back beside the damaged ledger's -wal has that
        -wal played into it by SQLite (a -wal says nothing of the file it belongs to), and is found damaged in turn
        (review130 F4): the advice says to delete it, and names it when the file reads well without it."""
        restore = (
            f"delete {LEDGER_WAL}, {LEDGER_SHM} and {LEDGER_JOURNAL} beside it and restore it from a backup (with the "
            f"backup's {LEDGER_WAL}, if it has one)"
        )
        if wal_not_its_own:
            return ConfigError.naming(
                "{ledger}: cannot be read as the sync ledger ({problem}) with the {wal} beside it, though it reads "
                "well without: that -wal is another ledger's (the damaged one this file replaced, put back from a "
                "backup?), which SQLite plays into it. Delete {wal} and {shm} beside it",
                ledger=self.path,
                problem=problem,
                wal=LEDGER_WAL,
                shm=LEDGER_SHM,
            )
        if not self.sending:
            return ConfigError.naming(
                "{ledger}: cannot be read as the sync ledger ({problem}); {restore}, or use another {state_dir}"
                + (
                    ". If the one sync that used this state dir was stopped as it began, delete it instead: an "
                    "earlier version left it empty then"
                    if empty
                    else ""
                ),
                ledger=self.path,
                problem=problem,
                restore=restore,
            )
        return ConfigError.naming(
            "{ledger}: cannot be read as the sync ledger ({problem}): the run stopped there, after it had sent "
            "requests, and no report was written. {restore}, or use another {state_dir}, then run the same sync "
            "again: it matches the records to the trainees Register holds",
            ledger=self.path,
            problem=problem,
            restore=restore[0].upper() + restore[1:],
        )

    def _stopped_beside_a_wal(self) -> ConfigError:
        """A write to the ledger stopped part-way in rollback-journal mode, with a -wal holding changes beside it
        (`_check_whole`): not the ledger's own, which SQLite would play into it once the write is undone."""
        return ConfigError.naming(
            "{ledger}: a write to it was stopped part-way, which SQLite undoes from the {journal} beside it, but a "
            "{wal} with changes is beside it too, which the ledger does not have then: that -wal is another "
            "ledger's, which SQLite plays into it. If this file was put back from a backup, delete {wal}, {shm} and "
            "{journal} beside it: none is its own; else delete {wal} and {shm} (not {journal}: it "
            "undoes the stopped write); nothing was sent",
            ledger=self.path,
            journal=LEDGER_JOURNAL,
            wal=LEDGER_WAL,
            shm=LEDGER_SHM,
        )

    def _cannot_start(self, exc: sqlite3.Error | OSError) -> ConfigError:
        problem = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
        return ConfigError.naming(
            "cannot write the sync ledger {ledger} ({problem}). Nothing was sent: " + _why_unwritable(exc),
            ledger=self.path,
            problem=problem,
        )

    def _not_private(self, exc: UnwritableOutput) -> ConfigError:
        """The ledger's name (or a companion's: its -wal, -shm, -journal) leads to a link, another user's file or one
        with a second name: the ledger is not written there (it names every trainee), and nothing is sent. A second
        name is made in a state dir of the user's own (one restored with `cp -al`, a snapshot tool's links): copying
        it without links is the answer there, not another state dir (review63 F3)."""
        advice = (
            "Copy the {state_dir} without links (`cp -a`, not `cp -al`), or remove the other name"
            if exc.problem == A_HARD_LINK
            else "Use a {state_dir} of your own"
        )
        return ConfigError.naming(
            "cannot use {file} for the sync ledger: {problem}. " + advice + "; nothing was sent",
            file=exc.shown,
            problem=exc.problem,
        )

    def _execute(
        self, sql: str, parameters: tuple[Any, ...] = (), *, many: Iterable[tuple[Any, ...]] | None = None
    ) -> sqlite3.Cursor:
        """One statement (once for each of `many`); a disk that will not take the ledger stops the run with one line,
        not a traceback. Each write was marked `in_flight` (and committed) before it was sent, so the next run
        resolves what was sent."""
        try:
            return self._db.execute(sql, parameters) if many is None else self._db.executemany(sql, many)
        except sqlite3.DatabaseError as exc:
            if _damaged(exc):  # a page gone bad since the ledger was opened: not a bug of the run's
                raise self._unreadable(str(exc)) from None
            if not isinstance(exc, sqlite3.OperationalError):
                raise
            if _held_elsewhere(exc):
                why, then = HELD_ELSEWHERE, "Close that program"
            elif _unwritable(exc):
                why, then = "is its disk full?", "Free space"
            else:
                raise
            raise LedgerUnwritable(
                f"cannot write the sync ledger {self.path} ({exc}): {why} The run stopped there and no report was "
                f"written. {then}, then run the same sync again: it resumes without sending anything twice",
                exc,
            ) from None

    def _meta(self, key: str) -> str | None:
        row = self._execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self._db.close()

    # --- the provider -----------------------------------------------------------------------------------

    def provider(self) -> str | None:
        """The UKPRN Register files this state dir's trainees under (`adopt_provider`), while it links any: a token
        that Register shows is another provider's would send its records to another account than theirs, and the
        ledger's links mean nothing there. None before a run has seen it (a ledger of an older version), or when no
        record is linked to a trainee (nothing there to keep apart: the next run's provider is adopted)."""
        ukprn = self._meta("ukprn")
        return ukprn if ukprn is not None and self.links_any() else None

    def adopt_provider(self, ukprn: str) -> None:
        """Remember the UKPRN Register filed one of this state dir's trainees under (a create's answer, a linked
        trainee listed). Committed at once: a run stopped later is still bound."""
        self._set_meta("ukprn", ukprn)

    def token_sent_creates(self, token: str) -> bool | None:
        """Whether `token` is the one this state dir's creates were last sent with while it was bound to no provider
        (`note_creates_token`); None when none was noted (no create sent so, or a ledger of an older version). Only a
        salted digest of the token is kept, never the token (docs/security.md)."""
        salt, kept = self._meta("token_salt"), self._meta("token_digest")
        try:
            return None if salt is None or kept is None else hmac.compare_digest(kept, _token_digest(salt, token))
        except ValueError:  # a salt that is not hex (the file edited by hand): as if none was noted
            return None

    def note_creates_token(self, token: str) -> None:
        """Note, before a create is sent from a state dir bound to no provider, which token sends it: HMAC-SHA256 of
        the token under a random salt kept beside it. Its trainee may land unanswered, in the account of a provider
        no one has seen yet; a later run with another token would not find it there and create it again in a second
        account (review166 F1), and is refused by this (`token_sent_creates`). Committed at once, before the create."""
        salt = secrets.token_hex(16)
        with self._one_commit():
            self._set_meta("token_salt", salt)
            self._set_meta("token_digest", _token_digest(salt, token))

    def creates_left_unknown(self) -> int:
        """How many records have a create that Register never answered and that no look-up has found yet: trainees
        that may be in the account of whichever provider the token that sent them is of."""
        row = self._execute(
            "SELECT COUNT(*) FROM (SELECT key FROM records WHERE status IN ('in_flight', 'unknown') "
            "AND operation = 'create' AND (trainee_id IS NULL OR trainee_id = '') "
            "UNION SELECT key FROM writes_unanswered WHERE kind = 'create')"
        ).fetchone()
        return int(row[0])

    def links_to(self, trainee_id: str) -> bool:
        """Whether a record of this ledger is linked to this trainee."""
        return self._execute("SELECT 1 FROM records WHERE trainee_id = ? LIMIT 1", (trainee_id,)).fetchone() is not None

    def links_any(self) -> bool:
        """Whether a record of this ledger is linked to a trainee."""
        row = self._execute("SELECT 1 FROM records WHERE trainee_id IS NOT NULL AND trainee_id != '' LIMIT 1")
        return row.fetchone() is not None

    # --- runs -----------------------------------------------------------------------------------------

    def never_listed(self) -> bool:
        """Whether no run has listed Register with this ledger yet: a state dir new to the provider's trainees. The
        file alone does not say so: a first run stopped before its listing (Register unreachable, a wrong token)
        made it, and the run after that then did not say it had no ledger (review59 F11). A ledger of an older
        version, which never noted a listing, has been used once it holds a record."""
        if self._meta("listed_at") is not None:
            return False
        return not self._execute("SELECT EXISTS (SELECT 1 FROM records)").fetchone()[0]

    def listed(self) -> None:
        """Note that a run listed Register with this ledger (`never_listed`)."""
        if self._meta("listed_at") is None:
            with self._one_commit():
                self._set_meta("listed_at", _now())

    def start_run(
        self,
        *,
        dry_run: bool,
        started: datetime | None = None,
        inputs: tuple[Iterable[str], Iterable[int]] | None = None,
    ) -> int:
        """Record a run as running, from `started` (now by default: sync gives its report's start, so that the
        report and what later runs say of this one name the same moment), with what it was given (`inputs`: its
        inputs' SHA-256 digests and their records' start cycles), which a later run given the same files again reads
        (`runs_given`: an old extract picked up again, review208 F1)."""
        given = None
        if inputs is not None:
            digests, cycles = inputs
            given = json.dumps({"sha256": sorted(set(digests)), "cycles": sorted(set(cycles)), "listed": False})
        moment = _now() if started is None else started.astimezone(UTC).isoformat(timespec="milliseconds")
        try:  # before anything is sent: a ledger that cannot be written stops the run from starting
            # Runs still "running" ended without a word (killed, a power cut): one run at a time holds the state
            # dir's lock, so none of them is running now. Said so, instead of running for ever in the runs table.
            self._execute("UPDATE runs SET status = 'ended unexpectedly' WHERE status = 'running'")
            # An older version's ledger kept every create's duplicate-check digests for good (review203 F1); and the
            # note of a create left unanswered keeps them until the record's next write, though they are read only
            # in the minutes after it was sent (runner `_unguarded_by`): a day on, they are dropped.
            self._execute(
                f"UPDATE creates_matched SET compared = NULL WHERE compared IS NOT NULL AND NOT {_CREATE_OUT}"
            )
            self._execute(
                "UPDATE writes_unanswered SET compared = NULL WHERE kind = 'create' AND compared IS NOT NULL "
                "AND sent_at < ?",
                (_a_day_ago(),),
            )
            cursor = self._execute(
                "INSERT INTO runs (started_at, dry_run, status, inputs) VALUES (?, ?, 'running', ?)",
                (moment, int(dry_run), given),
            )
        except LedgerUnwritable as exc:
            raise self._cannot_start(exc.reason) from None
        self.run_id = int(cursor.lastrowid or 0)
        self.run_dry = dry_run
        self.run_open = True
        return self.run_id

    def run_listed(self) -> None:
        """Note that this run (`start_run`) listed Register and planned its records (`RunInputs.listed`): from here
        on it counts as a night that saw its cycles' trainees. A run started without inputs is left as it is."""
        if self.run_id is None:
            return
        with self._one_commit():
            self._execute(
                "UPDATE runs SET inputs = json_set(inputs, '$.listed', json('true')) "
                "WHERE id = ? AND inputs IS NOT NULL",
                (self.run_id,),
            )

    def run_before(self) -> dict[str, Any] | None:
        """The run before this one (`start_run`), for its report to say which run this follows: id, when it started
        and ended (ISO 8601 in UTC, to the second; ended None for one killed), whether it was a dry run, and how it
        ended: `finished`, or `interrupted`, `unknown outcomes` (runner.run_status), `stopped` or `ended unexpectedly`
        (this run carries on from it). An older version's ledger holds the others only, read as they are (its run that
        left outcomes unknown is `finished`).

        For a real run, the last real run: a dry run sends nothing, so a real run carries on from none, and one in
        between (a preview during the day) hid the night before, whose exit 3 monitoring reads from this to tell two
        in a row (review173 F2, nightly-sync.md). A dry run's is the run just before it, of either kind."""
        real = "" if self.run_dry else " AND dry_run = 0"
        row = self._execute(
            f"SELECT id, started_at, finished_at, dry_run, status, summary FROM runs WHERE id < ?{real} "
            "ORDER BY id DESC LIMIT 1",
            (self.run_id if self.run_id is not None else 2**62,),
        ).fetchone()
        if row is None:
            return None
        # A `stopped` run's row holds its reason and `sent` (stop_run), and so does an `interrupted` one a second stop
        # ended before its report (interrupted_without_report); an interrupted run with a report holds its counts,
        # which give None for both.
        stop = _stop_of(row[5]) if row[4] in ("stopped", "interrupted") else {}
        return {
            "id": int(row[0]),
            "started": _to_the_second(row[1]),
            "ended": _to_the_second(row[2]),
            "dry_run": bool(row[3]),
            "status": str(row[4]),
            # Why a `stopped` run (or one a second stop ended before its report) stopped, and whether it had sent a
            # write by then (None: not known, an older version's row): a token refused at the first request did
            # nothing to carry on (review208 F6).
            "reason": stop.get("reason"),
            "sent": stop.get("sent"),
        }

    def runs_given(self) -> list[RunInputs]:
        """Every real run before this one, oldest first: what it was given, when, how it ended, and how many records
        it had. A run of a version before `runs.inputs` (or one whose inputs cannot be read) is there too, `known`
        False, for its record count: the first night after an upgrade compares with it. One read a run."""
        found = []
        for run_id, started_at, status, summary, given in self._execute(
            "SELECT id, started_at, status, summary, inputs FROM runs WHERE dry_run = 0 AND id < ? ORDER BY id",
            (self.run_id if self.run_id is not None else 2**62,),
        ):
            records = _records_of(summary)
            try:
                inputs = json.loads(given)
                digests = tuple(str(digest) for digest in inputs["sha256"])
                cycles = frozenset(int(cycle) for cycle in inputs["cycles"])
            except (ValueError, TypeError, KeyError):  # NULL (an older version's run), or written otherwise
                found.append(RunInputs(int(run_id), str(started_at), str(status), (), frozenset(), records, False))
                continue
            listed = inputs.get("listed", True) is not False
            found.append(RunInputs(int(run_id), str(started_at), str(status), digests, cycles, records, True, listed))
        return found

    def ended_without_report(self) -> dict[int, str]:
        """Runs that ended before their report was written: killed (start_run marks them `ended unexpectedly`),
        stopped by an error (`stop_run`: a report with no room on its disk, a bug), or stopped at once by a second
        Ctrl-C or SIGTERM (`interrupted_without_report`): run id -> when it started."""
        rows = self._execute(
            "SELECT id, started_at FROM runs WHERE status IN ('ended unexpectedly', 'stopped')"
        ).fetchall()
        return {int(row[0]): str(row[1]) for row in rows} | {
            run_id: started for run_id, (started, _why) in self.interrupted_without_report().items()
        }

    def interrupted_without_report(self) -> dict[int, tuple[str, str]]:
        """Runs a stop asked for ended before their report (`stop_run`'s `interrupted`: a second Ctrl-C or SIGTERM
        while the report was written): run id -> when it started, and why, in words. A run interrupted with its
        report has its counts as its summary, not a reason."""
        found = {}
        for run_id, started_at, summary in self._execute(
            "SELECT id, started_at, summary FROM runs WHERE status = 'interrupted'"
        ):
            if (reason := _stop_of(summary).get("reason")) is not None:
                found[int(run_id)] = (str(started_at), str(reason))
        return found

    def finish_run(self, status: str, summary: dict[str, Any]) -> None:
        self._execute(
            "UPDATE runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?",
            (_now(), status, json.dumps(summary, sort_keys=True), self.run_id),
        )
        self.run_open = False

    def stop_run(self, reason: str, *, status: str = "stopped") -> None:
        """End a run that stopped before its summary (a wrong token, a listing Register did not answer): the runs
        table says why instead of showing it running for ever. Never raises: the stop's own error is the news.
        `status`: `interrupted` for a stop asked for (a second Ctrl-C or SIGTERM, `interrupted_without_report`)."""
        if self.run_open:
            try:
                self.finish_run(status, {"reason": reason[:1000], "sent": self.sending})
            except (LedgerUnwritable, ConfigError, sqlite3.Error):  # ConfigError: a damaged ledger (`_unreadable`)
                pass

    # --- records ----------------------------------------------------------------------------------------

    def get(self, key: str) -> Entry | None:
        row = self._execute(f"SELECT {_ENTRY_COLUMNS} FROM records WHERE key = ?", (key,)).fetchone()
        return _entry(row) if row else None

    def all(self) -> list[Entry]:
        return [_entry(row) for row in self._execute(f"SELECT {_ENTRY_COLUMNS} FROM records ORDER BY key")]

    def links(self) -> dict[str, str]:
        """Record key -> the trainee the ledger links it to, for every record linked to one: all that planning reads
        of the ledger (a nightly run's ledger holds every trainee: its entries in full were 1 KB each)."""
        return dict(
            self._execute("SELECT key, trainee_id FROM records WHERE trainee_id IS NOT NULL AND trainee_id != ''")
        )

    def synced_payloads(self, key_id: str) -> dict[str, tuple[str, str | None]]:
        """Record key -> the payload digest and trainee its field digests are of (`fields_synced`), for every record
        that has them made under the key `key_id` names (compare.pack_digests): one read a run, so that a record
        settled unchanged, whose digests are kept already, writes nothing more than its entry, and its digests are
        worked out for none (`record`'s `synced`); those made under another token's key are made again."""
        prefix = f"{key_id}:"
        return {
            key: (payload, trainee)
            for key, payload, trainee in self._execute(
                "SELECT key, payload_hash, trainee_id FROM fields_synced WHERE substr(digests, 1, ?) = ?",
                (len(prefix), prefix),
            )
        }

    def synced_digests(self, key_id: str) -> dict[str, tuple[str, str | None]]:
        """Record key -> its field digests (`fields_synced.digests`: what it said when this state dir last synced it
        in full) and what unanswered writes sent since (`sent`, or None), for every record that has them made under
        the key `key_id` names, and not older than its done entry's payload (a build that kept none wrote the record
        since: review195 F2, as the edit warning sets them aside). One read a run, before anything is written
        (sync/initiatives.py)."""
        prefix = f"{key_id}:"
        return {
            key: (digests, sent)
            for key, digests, sent in self._execute(
                "SELECT f.key, f.digests, f.sent FROM fields_synced AS f LEFT JOIN records AS r ON r.key = f.key "
                f"WHERE substr(f.digests, 1, ?) = ? AND NOT {_STALE}",
                (len(prefix), prefix),
            )
        }

    def codes_echoed(self) -> dict[str, str]:
        """Record key -> what Register answered its last writes of coded fields with, where it held them otherwise
        (`codes_echoed`, compare.pack_echoed): one read a run, before planning."""
        return {str(key): str(echoed) for key, echoed in self._execute("SELECT key, echoed FROM codes_echoed")}

    def _note_echoed(self, key: str, echoed: tuple[str, dict[str, list[str] | None]]) -> None:
        """Merge a write's answer (`echoed`: the key's id and compare.echo_digests) into the record's `codes_echoed`
        row: a field Register did not keep is noted, one it kept is dropped, the others stay; notes made under another
        key are dropped (never compared again). No row once none is left."""
        key_id, found = echoed
        row = self._execute("SELECT echoed FROM codes_echoed WHERE key = ?", (key,)).fetchone()
        noted: Any = {}
        if row is not None:
            made_under, _colon, text = str(row[0]).partition(":")
            with contextlib.suppress(ValueError):
                noted = json.loads(text) if made_under == key_id else {}
            noted = noted if isinstance(noted, dict) else {}
        for name, digests in found.items():
            if digests is None:
                noted.pop(name, None)
            else:
                noted[name] = digests
        if not noted:
            self._execute("DELETE FROM codes_echoed WHERE key = ?", (key,))
            return
        self._execute(
            "INSERT INTO codes_echoed (key, echoed, noted_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "echoed = excluded.echoed, noted_at = excluded.noted_at",
            (key, f"{key_id}:{json.dumps(noted, sort_keys=True, separators=(',', ':'))}", _now()),
        )

    def payload_writer(self, entry: Entry) -> int | None:
        """The run that wrote the entry's payload digest (`payload_written`), not a later one that found the record
        unchanged and stamped the entry again (review230 F3); the entry's last writer where not known (a ledger of a
        version before this, or one that wrote the record since)."""
        row = self._execute(
            "SELECT run_id FROM payload_written WHERE key = ? AND payload_hash = ?", (entry.key, entry.payload_hash)
        ).fetchone()
        return entry.run_id if row is None or row[0] is None else int(row[0])

    def synced(self, key: str) -> Synced | None:
        """What the record said when this state dir last synced it in full, if it has (`fields_synced`), and when:
        its entry's time while it is done (each run that settles it moves it), else the time kept as it left done."""
        row = self._execute(
            "SELECT f.trainee_id, f.payload_hash, f.digests, CASE WHEN r.status = 'done' THEN r.updated_at "
            f"ELSE f.synced_at END, f.sent, {_STALE} FROM fields_synced AS f LEFT JOIN records AS r ON r.key = f.key "
            "WHERE f.key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        trainee_id, payload_hash, digests, synced_at, sent, stale = row
        return Synced(trainee_id, payload_hash, digests, synced_at, sent, bool(stale))

    def last_synced(self, trainee_ids: Iterable[str]) -> dict[str, str]:
        """Trainee id -> when this state dir's ledger last noted a record of the SRS's matched to it (the latest
        `updated_at` of an entry linking a record to it, and not a conflict: a record set aside is not matched), for
        the trainees of `trainee_ids` it has one for: a trainee Register holds that no record of the extract matched
        is one the SRS used to send, or one it never did (review180 F2)."""
        found: dict[str, str] = {}
        for trainee_id in trainee_ids:
            row = self._execute(
                "SELECT MAX(updated_at) FROM records WHERE trainee_id = ? AND status NOT IN ('conflict', 'invalid')",
                (trainee_id,),
            ).fetchone()
            if row and row[0]:
                found[trainee_id] = row[0]
        return found

    def entries_of_runs(self, run_ids: Iterable[int]) -> dict[str, Entry]:
        """Record key -> entry, for the records whose last change was made by one of these runs."""
        found: dict[str, Entry] = {}
        for run_id in run_ids:
            for row in self._execute(f"SELECT {_ENTRY_COLUMNS} FROM records WHERE run_id = ?", (run_id,)):
                entry = _entry(row)
                found[entry.key] = entry
        return found

    def writes_landed(self, run_ids: Iterable[int]) -> dict[str, dict[int, list[str]]]:
        """Record key -> run -> the writes Register answered, in the order sent, for these runs (those that ended
        before their report): the writes before a record's last, which its entry no longer says."""
        found: dict[str, dict[int, list[str]]] = {}
        for run_id in run_ids:
            for key, kinds in self._execute("SELECT key, kinds FROM writes_landed WHERE run_id = ?", (run_id,)):
                found.setdefault(str(key), {})[run_id] = str(kinds).split()
        return found

    def landed_reported(self, keys: Iterable[str]) -> None:
        """Forget the answered writes this run's report lists: its own, and the earlier runs' of the records it
        names (`keys`). Those of records it does not name wait for a report that does."""
        with self._one_commit():
            self._execute("DELETE FROM writes_landed WHERE run_id = ?", (self.run_id,))
            self._execute("DELETE FROM writes_landed WHERE key = ?", many=[(key,) for key in keys])

    def creates_unreported(self) -> dict[str, int]:
        """Record key -> run, for each create Register carried out that no report has counted as created (`created`,
        `keep_creates`): of a run that ended before its report, or whose report has the record failed or unknown."""
        return {str(key): int(run_id) for key, run_id in self._execute("SELECT key, run_id FROM creates_unreported")}

    def keep_creates(self, creates: Iterable[tuple[str, int]]) -> None:
        """Keep creates known only from their records' entries (an answer lost, or the mark not yet made) before a
        write replaces those entries: key, run."""
        with self._one_commit():
            self._execute("INSERT OR IGNORE INTO creates_unreported (key, run_id) VALUES (?, ?)", many=creates)

    def creates_reported(self, keys: Iterable[str]) -> None:
        """Forget the creates a report has counted or named."""
        with self._one_commit():
            self._execute("DELETE FROM creates_unreported WHERE key = ?", many=((key,) for key in keys))

    def record(
        self,
        key: str,
        status: str,
        *,
        hesa_id: str | None = None,
        provider_trainee_id: str | None = None,
        source: str | None = None,
        operation: str | None = None,
        trainee_id: str | None = None,
        payload_hash: str | None = None,
        http_status: int | None = None,
        errors: list[str] | None = None,
        attempt: bool = False,
        create_for_cycle: int | None = None,
        create_match: str | None = None,
        created: bool = False,
        landed: str | None = None,
        withdrew: tuple[str, str | None] | None = None,
        synced: str | None = None,
        sent: str | None = None,
        echoed: tuple[str, dict[str, list[str] | None]] | None = None,
    ) -> None:
        """Upsert one record's state and commit it (durable when this returns). `create_for_cycle`: the academic
        cycle of the create about to be sent, kept with the in-flight mark in the same commit (unsettled_creates), with
        `create_match`, what Register's 409 compares of it (create_sent_for). `created`: Register carried out this
        run's create of the record, kept in the same commit (creates_unreported). `landed`: the kind of the write
        Register has just answered, kept beside the run's others for the record (writes_landed). `withdrew`: the
        trainee and date of the withdrawal Register has just carried out (withdrawals_made). `synced`: the record is
        synced in full (status done), with these field digests (compare.pack_digests) of `payload_hash`
        (fields_synced); None where the ones kept are of it already (`synced_payloads`). Any other status keeps the
        time of the entry it replaces, if done, as the digests' (`_keep_synced_at`). `sent`: the digests of what the
        writes sent since the record was last synced in full may have left in Register (compare.sent_digests), kept
        with a write's in-flight mark; a done entry forgets them (review192 F1). `echoed`: what Register's answer to
        the write just made held of the coded fields it sent (`_note_echoed`), in the same commit as the write's
        outcome."""
        if status not in STATUSES:
            raise ValueError(f"unknown ledger status {status!r}")
        with self._one_commit():
            if echoed is not None:
                self._note_echoed(key, echoed)
            if withdrew is not None:
                self._execute(
                    "INSERT INTO withdrawals_made (trainee_id, withdrawal_date, run_id) VALUES (?, ?, ?) "
                    "ON CONFLICT (trainee_id) DO UPDATE SET withdrawal_date = excluded.withdrawal_date, "
                    "run_id = excluded.run_id",
                    (*withdrew, self.run_id),
                )
            if landed is not None:
                self._execute(
                    "INSERT INTO writes_landed (key, run_id, kinds) VALUES (?, ?, ?) "
                    "ON CONFLICT (key, run_id) DO UPDATE SET kinds = kinds || ' ' || excluded.kinds",
                    (key, self.run_id, landed),
                )
            if created:
                self._execute(
                    "INSERT INTO creates_unreported (key, run_id) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET run_id = excluded.run_id",
                    (key, self.run_id),
                )
            if create_for_cycle is not None:
                self._execute(
                    "INSERT INTO creates_sent (key, start_cycle) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET start_cycle = excluded.start_cycle",
                    (key, create_for_cycle),
                )
                self._execute(
                    "INSERT INTO creates_matched (key, compared) VALUES (?, ?) "
                    "ON CONFLICT (key) DO UPDATE SET compared = excluded.compared",
                    (key, create_match),
                )
            if synced is not None and payload_hash is not None:
                self._execute(
                    "INSERT INTO fields_synced (key, trainee_id, payload_hash, digests, synced_at, sent) "
                    "VALUES (?, ?, ?, ?, ?, NULL) ON CONFLICT (key) DO UPDATE SET trainee_id = excluded.trainee_id, "
                    "payload_hash = excluded.payload_hash, digests = excluded.digests, synced_at = excluded.synced_at, "
                    "sent = NULL",
                    (key, trainee_id, payload_hash, synced, _now()),
                )
            elif status == "done":  # Register holds the record as the extract says: what was sent is known now
                self._execute("UPDATE fields_synced SET sent = NULL WHERE key = ? AND sent IS NOT NULL", (key,))
            else:
                self._keep_synced_at(key)
            if sent is not None:
                self._execute("UPDATE fields_synced SET sent = ? WHERE key = ?", (sent, key))
            if payload_hash is not None:
                self._execute(
                    "INSERT INTO payload_written (key, payload_hash, run_id) VALUES (?, ?, ?) ON CONFLICT (key) DO "
                    "UPDATE SET payload_hash = excluded.payload_hash, run_id = excluded.run_id "
                    "WHERE payload_written.payload_hash IS NOT excluded.payload_hash",
                    (key, payload_hash, self.run_id),
                )
            self._execute(
                """
                INSERT INTO records (key, hesa_id, provider_trainee_id, source, payload_hash, trainee_id, status,
                                     operation, http_status, errors, attempts, run_id, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (key) DO UPDATE SET
                    hesa_id = COALESCE(excluded.hesa_id, hesa_id),
                    provider_trainee_id = COALESCE(excluded.provider_trainee_id, provider_trainee_id),
                    source = COALESCE(excluded.source, source),
                    payload_hash = COALESCE(excluded.payload_hash, payload_hash),
                    trainee_id = COALESCE(excluded.trainee_id, trainee_id),
                    status = excluded.status,
                    operation = excluded.operation,
                    http_status = excluded.http_status,
                    errors = excluded.errors,
                    attempts = attempts + excluded.attempts,
                    run_id = excluded.run_id,
                    updated_at = excluded.updated_at
                """,
                (
                    key,
                    hesa_id,
                    provider_trainee_id,
                    source,
                    payload_hash,
                    trainee_id,
                    status,
                    operation,
                    http_status,
                    json.dumps(errors or []),
                    1 if attempt else 0,
                    self.run_id,
                    _now(),
                ),
            )
            # What Register's 409 compares of the record's last create is read only while that create may still
            # land (runner `_earlier_create_out`, through `_earlier_create_may_land`): an entry that is no longer a
            # create in flight or unknown with no trainee. Kept after, its digests would give a holder of the
            # trainees' names their dates of birth and routes (review203 F1); a create sent again keeps its own.
            self._execute(
                f"UPDATE creates_matched SET compared = NULL WHERE key = ? AND compared IS NOT NULL "
                f"AND NOT {_CREATE_OUT}",
                (key,),
            )
        self.sending = self.sending or status == "in_flight"  # committed: a write goes out now

    def _keep_synced_at(self, key: str) -> None:
        """Before an entry that is done gives way to another status (a write marked in flight, failed, blocked): its
        time is that of the last sync in full, which `synced` says from here on (review185 F2). One statement, made
        only for those writes, never for a record settled done."""
        self._execute(
            "UPDATE fields_synced SET synced_at = (SELECT updated_at FROM records WHERE key = ?) "
            "WHERE key = ? AND EXISTS (SELECT 1 FROM records WHERE key = ? AND status = 'done')",
            (key, key, key),
        )

    @contextlib.contextmanager
    def _one_commit(self) -> Iterator[None]:
        """Statements committed together (one sync to disk), or not at all; inside `together`, with its others."""
        if self._depth:
            yield
            return
        self._execute("BEGIN IMMEDIATE")
        self._depth += 1
        try:
            yield
            self._execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise
        finally:
            self._depth -= 1

    together = _one_commit  # several records and the run's end in one commit: settled all, or none

    def unsettled_creates(self) -> dict[str, int]:
        """Record key -> the academic cycle of a create sent with no answer yet (a run killed or stopped while it
        was out, or a look-up that failed): Register may hold that trainee in that cycle. The next run lists it
        there too, as the record's start may have moved since by more than the year either side it looks in."""
        rows = self._execute(
            "SELECT records.key, creates_sent.start_cycle FROM records JOIN creates_sent USING (key) "
            "WHERE status IN ('in_flight', 'unknown') AND operation = 'create' "
            "AND (trainee_id IS NULL OR trainee_id = '')"
        )
        return {str(key): int(cycle) for key, cycle in rows}

    def create_sent_for(self, key: str) -> tuple[int, str | None] | None:
        """The start cycle of the record `key` when its last create was sent (`unsettled_creates`), and what
        Register's 409 compares of it (`create_match`; None when a second is not refused, or not known: a ledger of
        an older version), if one was sent."""
        row = self._execute(
            "SELECT start_cycle, compared FROM creates_sent LEFT JOIN creates_matched USING (key) WHERE key = ?", (key,)
        ).fetchone()
        return (int(row[0]), row[1]) if row else None

    def write_going_out(
        self,
        kind: str,
        key: str,
        *,
        srs_id: str | None = None,
        trainee_id: str | None = None,
        compared: str | None = None,
    ) -> int:
        """Note a create, placement, degree, update, withdrawal or deferral request of the record `key` about to be
        sent (committed before it is): its id, for `write_answered`. A day's old ones are let go."""
        with self._one_commit():
            self._execute("DELETE FROM writes_unanswered WHERE key = ? AND sent_at < ?", (key, _a_day_ago()))
            cursor = self._execute(
                "INSERT INTO writes_unanswered (kind, key, srs_id, trainee_id, compared, sent_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (kind, key, srs_id, trainee_id, compared, _now()),
            )
            return int(cursor.lastrowid or 0)

    def write_answered(self, sent: int) -> None:
        """Register answered the request `sent` (`write_going_out`): it can no longer be carried out later."""
        with self._one_commit():
            self._execute("DELETE FROM writes_unanswered WHERE id = ?", (sent,))

    def writes_settled(self, kind: str, trainee_id: str, compared: str) -> None:
        """Every request of `kind` to the trainee that sent `compared` (`write_going_out`) can change nothing now,
        whichever run sent it: a DELETE of a degree or placement Register no longer holds (review115 F1)."""
        with self._one_commit():
            self._execute(
                "DELETE FROM writes_unanswered WHERE kind = ? AND trainee_id = ? AND compared = ?",
                (kind, trainee_id, compared),
            )

    def write_unanswered(self, sent: int) -> None:
        """The request `sent` ended with no answer: its wait runs from now, not from before the client's own retries
        and rate-limit waits (review47 F3)."""
        with self._one_commit():
            self._execute("UPDATE writes_unanswered SET sent_at = ? WHERE id = ?", (_now(), sent))

    def has_unanswered(self) -> bool:
        """Whether any request noted while out may be (`write_going_out`): one noted unanswered (`writes_unanswered`),
        or a create a record's entry still has in flight or unknown (a ledger of an older version kept only that)."""
        row = self._execute(  # a note over a day old is past any wait: only the next write of its record drops it
            "SELECT EXISTS (SELECT 1 FROM writes_unanswered WHERE sent_at >= ?) OR EXISTS (SELECT 1 FROM records "
            "WHERE operation = 'create' AND status IN ('in_flight', 'unknown'))",
            (_a_day_ago(),),
        ).fetchone()
        return bool(row[0])

    def unanswered(
        self, kind: str, key: str, *, srs_id: str | None = None, trainee_id: str | None = None
    ) -> list[tuple[str | None, str]]:
        """The record's `kind` requests Register never answered, found by its key, its SRS id (a HUSID corrected since)
        or, but for creates, its trainee: (what its 409 compares, for a create; what it sent, as `compare.sent_digest`,
        for a degree, update, withdrawal or deferral; when it was sent)."""
        rows = self._execute(
            "SELECT compared, sent_at FROM writes_unanswered WHERE kind = ? AND (key = ? "
            "OR (srs_id IS NOT NULL AND srs_id = ?) OR (trainee_id IS NOT NULL AND trainee_id = ?)) ORDER BY id",
            (kind, key, srs_id, trainee_id),
        )
        return [(compared, str(sent_at)) for compared, sent_at in rows]

    def creates_unreported_by_trainee(self) -> dict[str, tuple[str, int]]:
        """trainee_id -> (ledger key, run) of each create in `creates_unreported` whose entry links its trainee: a
        record whose HUSID was corrected since has another key, and is found by the trainee it matched."""
        rows = self._execute(
            "SELECT r.trainee_id, c.key, c.run_id FROM creates_unreported c JOIN records r ON r.key = c.key "
            "WHERE r.trainee_id IS NOT NULL AND r.trainee_id != ''"
        )
        return {str(trainee_id): (str(key), int(run_id)) for trainee_id, key, run_id in rows}

    def unanswered_creates(self, key: str, srs_id: str | None) -> list[tuple[str, str | None, str]]:
        """The record's creates Register never answered, found by its key or its SRS id, with the key and SRS id each
        was sent under (a HUSID corrected since changes the key): (key, srs_id, when it was sent)."""
        rows = self._execute(
            "SELECT key, srs_id, sent_at FROM writes_unanswered WHERE kind = 'create' AND (key = ? "
            "OR (srs_id IS NOT NULL AND srs_id = ?)) ORDER BY id",
            (key, srs_id),
        )
        return [(str(k), None if s is None else str(s), str(sent_at)) for k, s, sent_at in rows]

    def replacing_degree(self, trainee_id: str, degree_id: str, replacement: str) -> None:
        """Note, before its replacement (digest `replacement`) is sent, that the trainee's degree `degree_id` is to be
        deleted after it (`degrees_replaced`)."""
        with self._one_commit():
            self._execute(
                "INSERT INTO degrees_replaced (trainee_id, degree_id, replacement, noted_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (trainee_id, degree_id) DO UPDATE SET replacement = excluded.replacement, "
                "noted_at = excluded.noted_at",
                (trainee_id, degree_id, replacement, _now()),
            )

    def degree_gone(self, trainee_id: str, degree_id: str) -> None:
        """Register answered the DELETE of a replaced degree (200, or its 404: gone already)."""
        with self._one_commit():
            self._execute(
                "DELETE FROM degrees_replaced WHERE trainee_id = ? AND degree_id = ?", (trainee_id, degree_id)
            )

    def degrees_replaced(self) -> dict[str, dict[str, str]]:
        """trainee_id -> {degree_id: digest of its replacement}, for each degree replaced and not yet deleted."""
        found: dict[str, dict[str, str]] = {}
        for trainee_id, degree_id, replacement in self._execute(
            "SELECT trainee_id, degree_id, replacement FROM degrees_replaced"
        ):
            found.setdefault(str(trainee_id), {})[str(degree_id)] = str(replacement)
        return found

    def withdrawals_made(self) -> dict[str, str]:
        """trainee_id -> the date of the withdrawal this sync made of the trainee (its last), for each it withdrew."""
        return {
            str(trainee_id): str(day)
            for trainee_id, day in self._execute("SELECT trainee_id, withdrawal_date FROM withdrawals_made")
            if day
        }

    def unresolved(self) -> list[Entry]:
        rows = self._execute(
            f"SELECT {_ENTRY_COLUMNS} FROM records WHERE status IN ('in_flight', 'unknown') ORDER BY key"
        )
        return [_entry(row) for row in rows]


def _records_of(summary: str | None) -> int | None:
    """A runs row's record count: its summary's actions added up (`finish_run`); None for a run that ended before it
    (a `stopped` run's summary is its reason)."""
    try:
        actions = json.loads(summary or "{}").get("actions")
        return sum(int(count) for count in actions.values()) if isinstance(actions, dict) else None
    except (ValueError, TypeError, AttributeError):
        return None


def _token_digest(salt: str, token: str) -> str:
    """HMAC-SHA256 of the API token under the ledger's salt (`Ledger.note_creates_token`): tells one token from
    another without keeping it. Salted, so that the same token gives another digest in each ledger (no ledger tells
    whether another's runs used the same token); a token is too long and random to be found by trying guesses."""
    return hmac.new(bytes.fromhex(salt), token.encode(), hashlib.sha256).hexdigest()


def _entry(row: tuple[Any, ...]) -> Entry:
    """A `records` row as an Entry, whose fields are its columns in their order (SCHEMA); `errors` is kept as JSON."""
    values = dict(zip(_ENTRY_FIELDS, row, strict=True))
    values["errors"] = json.loads(values["errors"] or "[]")
    return Entry(**values)


# --- forgetting records: erasure and retention (review194 F1, review200) --------------------------------------------

# The columns a table names a record by: its key (`hesa:<HUSID>`), its trainee in Register, its SRS id. Which tables
# have which is read from the ledger itself, not from SCHEMA: a ledger made by an older version keeps tables this one
# no longer makes (2026-12-03's `creates_refused`, 2026-12-04's `creates_out`; review200 F3), and forgetting must reach
# them too. A table that has none of them, and is not one of NAMES_NO_RECORD, is refused (`_record_tables`).
FORGET_COLUMNS = ("key", "trainee_id", "srs_id")
# Tables that name no record: `meta` (the target, the provider) and `runs` (counts; a stopped run's reason is scrubbed
# all the same: _scrub).
NAMES_NO_RECORD = ("meta", "runs")
# How long forget waits for another program's write lock on the ledger (a database browser, a backup tool) before it
# says so: a person is waiting, not a night's run.
FORGET_BUSY_SECONDS = 5.0


class ForgetRefused(ConfigError):
    """`forget_records` found records it must not forget yet (exit 2; nothing was forgotten): `refused`, each record's
    HUSID and why, with when it can be forgotten."""

    def __init__(self, message: str, refused: list[tuple[str, str]] | None = None):
        super().__init__(message)
        self.refused = refused or []


@dataclass(frozen=True)
class Forgotten:
    """What `forget_records` did (or, `dry_run`, would do): the HUSIDs of the records it forgot, the ids asked for
    that no record of the ledger has (nothing is held of them here), and what the ledger no longer knows of the
    trainees forgotten (`lost`: sentences, as sync will behave for them). `refused`, for a dry run only: the records
    that would refuse the whole run now (ForgetRefused's), each HUSID with why and when it can be forgotten."""

    ledger: Path
    hesa_ids: list[str]
    not_found: list[str]
    lost: list[str]
    dry_run: bool = False
    # False when another program held the ledger open, so that it could not be rebuilt and its -wal folded in:
    # ledger.sqlite3 itself keeps the forgotten rows' old pages until that program closes it.
    wiped: bool = True
    refused: list[tuple[str, str]] = field(default_factory=list)


def forget_records(
    state_dir: StrPath,
    *,
    hesa_ids: Iterable[str] = (),
    srs_ids: Iterable[str] = (),
    not_synced_since: str | None = None,
    dry_run: bool = False,
) -> Forgotten:
    """Delete every row of the ledger in `state_dir` about the records with these HUSIDs or SRS ids, or of the
    trainees no sync has noted since the day `not_synced_since` (YYYY-MM-DD, UTC; `_not_noted_since`): a data
    subject's erasure, or a finished cohort's retention. Register is never touched. A record linked to the same
    trainee as one asked for (its HUSID corrected since) is the same person, and is forgotten with it.

    Refused as a whole (ForgetRefused, nothing forgotten; a dry run lists them in `refused` instead) while any of them
    has a write Register may still carry out: a write in flight or whose outcome is unknown (until a sync settles it),
    or one noted unanswered in the last day (the wait sync gives one, `has_unanswered`): a record forgotten then could
    be created twice (its create landing after the next run found no trainee). Refused (StateDirLocked) while a sync
    holds the state dir, and (ConfigError) while another program holds the ledger's write lock or when the ledger
    cannot be written. The rows are deleted with SQLite's secure_delete, the file then vacuumed and its -wal emptied,
    so that the values are gone from the file's bytes too (not from backups or copies: docs/security.md, Erasure and
    retention)."""
    folder = Path(state_dir)
    path = folder / LEDGER_FILE
    if not os.path.lexists(path):
        raise ConfigError.naming(
            "no sync ledger in {folder} (no {ledger}): nothing to forget. Give the {state_dir} a sync used",
            folder=folder,
            ledger=LEDGER_FILE,
        )
    asked_hesa, asked_srs = sorted(set(hesa_ids)), sorted(set(srs_ids))
    with StateDirLock(folder, "ledger forget"):
        _writable(folder, path, dry_run=dry_run)
        ledger = Ledger(folder, _bound_target(path))
        try:
            ledger._db.execute(f"PRAGMA busy_timeout = {int(FORGET_BUSY_SECONDS * 1000)}")
            return _forget(ledger, asked_hesa, asked_srs, not_synced_since, dry_run=dry_run)
        except LedgerUnwritable as exc:
            raise _cannot_forget(path, exc.reason) from None
        finally:
            ledger.close()


def _writable(folder: Path, path: Path, *, dry_run: bool) -> None:
    """Refuse, in words of its own, a ledger this user cannot write (a read-only file, another user's, a read-only
    folder: SQLite writes its -wal beside it): sync's words (`Ledger._cannot_start`) talk of a full disk and another
    state dir, and another state dir has nothing to forget (review200 F7). A dry run writes nothing to it."""
    if dry_run:
        return
    for what, writable in ((path, os.access(path, os.W_OK)), (folder, os.access(folder, os.W_OK | os.X_OK))):
        if not writable:
            raise ConfigError(
                f"cannot forget anything in {printable(str(path))}: {printable(str(what))} is read-only to you (its "
                "permissions, or another user's): run this as the user that runs the sync, or make it writable. "
                "Nothing was forgotten"
            )


def _cannot_forget(path: Path, exc: sqlite3.Error) -> ConfigError:
    """The ledger could not be written while forgetting (`_execute`'s LedgerUnwritable): nothing was forgotten (one
    commit), in forget's words, not a sync's (review200 F7)."""
    if _held_elsewhere(exc):
        return ConfigError(
            f"cannot forget anything in {printable(str(path))} now ({exc}): another program is writing to it after "
            f"{FORGET_BUSY_SECONDS:g} s: a database browser or backup tool, or a sync or forget that did not take "
            "the state dir's lock (one of an older version, or of another machine over a network share). Let it "
            "finish or close it, then run this again. Nothing was forgotten"
        )
    return ConfigError(
        f"cannot forget anything in {printable(str(path))} ({exc}): is its disk full or read-only? Free space there "
        "or make it writable, then run this again. Nothing was forgotten"
    )


def _bound_target(path: Path) -> str:
    """The target the ledger at `path` is bound to, read before the ledger is opened as such (which checks it whole,
    and refuses a link or another user's file): forgetting needs no target, and is given none (a wrong one would be
    refused). Read-only: nothing is written to a file that is then refused."""
    try:
        with contextlib.closing(sqlite3.connect(f"{path.absolute().as_uri()}?mode=ro", uri=True)) as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'target'").fetchone()
        problem = "no target in its meta table"
    except sqlite3.Error as exc:
        row, problem = None, str(exc)
    if row is None or not row[0]:
        raise ConfigError.naming(
            "{ledger}: cannot be read as the sync ledger ({problem}); restore it from a backup, or give the "
            "{state_dir} a sync used: nothing was forgotten",
            ledger=path,
            problem=problem,
        )
    return str(row[0])


def record_tables(db: sqlite3.Connection) -> dict[str, tuple[str, ...]]:
    """Each table of the ledger `db` that names records, with the columns it names them by (FORGET_COLUMNS): every
    table it has, those of older versions included (review200 F3). ConfigError for a table that has none of them and
    is not one that names no record (NAMES_NO_RECORD): made by a later version, or by hand, it may hold a trainee
    forgetting would leave behind."""
    found: dict[str, tuple[str, ...]] = {}
    unknown: list[str] = []
    for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
        if table.startswith("sqlite_") or table in NAMES_NO_RECORD:
            continue
        columns = {str(row[1]) for row in db.execute(f'PRAGMA table_info("{table}")')}
        if named_by := tuple(column for column in FORGET_COLUMNS if column in columns):
            found[table] = named_by
        else:
            unknown.append(table)
    if unknown:
        raise ConfigError(
            f"the sync ledger has {'a table' if len(unknown) == 1 else 'tables'} this version does not know "
            f"({', '.join(map(printable, unknown))}), which may name trainees: forget them with the version of "
            "register-batch that made it. Nothing was forgotten"
        )
    return found


def _forget(
    ledger: Ledger, asked_hesa: list[str], asked_srs: list[str], since: str | None, *, dry_run: bool
) -> Forgotten:
    tables = record_tables(ledger._db)
    # The ids forgotten are kept in temporary tables joined against (not `IN (?, …)`: a cohort of thousands passes
    # SQLite's limit on a statement's variables, 32,766 or fewer in some builds; review200 F6), in memory: a temporary
    # file would put them on disk again.
    ledger._execute("PRAGMA temp_store = MEMORY")
    for column in FORGET_COLUMNS:
        ledger._execute(f"CREATE TEMP TABLE IF NOT EXISTS forget_{column} (value TEXT PRIMARY KEY) WITHOUT ROWID")
        ledger._execute(f"DELETE FROM temp.forget_{column}")
    keys, not_found = _asked_for(ledger, tables, asked_hesa, asked_srs)
    if since is not None:
        keys |= _not_noted_since(ledger, since)
    # The same trainee's other records (a HUSID corrected since): the same person. Until no more are found.
    trainees: set[str] = set()
    while True:
        _fill(ledger, "key", keys)
        trainees = _trainees_of(ledger)
        _fill(ledger, "trainee_id", trainees)
        more = _keys_where(ledger, "trainee_id IN (SELECT value FROM temp.forget_trainee_id)", ())
        if more <= keys:
            break
        keys |= more
    srs = {
        str(srs_id)
        for (srs_id,) in ledger._execute(
            "SELECT provider_trainee_id FROM records WHERE key IN (SELECT value FROM temp.forget_key) "
            "AND provider_trainee_id IS NOT NULL AND provider_trainee_id != ''"
        )
    } | set(asked_srs)
    _fill(ledger, "srs_id", srs)
    refused = _still_out(ledger)
    if refused and not dry_run:
        raise ForgetRefused(_refusal(refused), refused)
    lost = _what_is_lost(ledger) if keys else []
    hesa = sorted(key.removeprefix("hesa:") for key in keys)
    if dry_run or not keys:
        return Forgotten(ledger.path, hesa, not_found, lost, dry_run=dry_run, refused=refused)
    ledger._execute("PRAGMA secure_delete = ON")  # deleted rows' bytes overwritten with zeros, not left in free space
    with ledger._one_commit():
        for table, columns in tables.items():
            for column in columns:
                ledger._execute(f"DELETE FROM {table} WHERE {column} IN (SELECT value FROM temp.forget_{column})")
        _scrub(ledger, [*hesa, *keys, *srs, *trainees])
    for column in FORGET_COLUMNS:
        ledger._execute(f"DROP TABLE temp.forget_{column}")
    return Forgotten(ledger.path, hesa, not_found, lost, wiped=_wipe(ledger))


def _fill(ledger: Ledger, column: str, values: set[str]) -> None:
    """Hold `values` in the temporary table of the ids forgotten by `column` (`_forget`)."""
    ledger._execute(f"DELETE FROM temp.forget_{column}")
    ledger._execute(f"INSERT OR IGNORE INTO temp.forget_{column} (value) VALUES (?)", many=[(v,) for v in values if v])


def _keys_where(ledger: Ledger, where: str, parameters: tuple[Any, ...]) -> set[str]:
    return {str(key) for (key,) in ledger._execute(f"SELECT key FROM records WHERE {where}", parameters)}


def _asked_for(
    ledger: Ledger, tables: dict[str, tuple[str, ...]], asked_hesa: list[str], asked_srs: list[str]
) -> tuple[set[str], list[str]]:
    """The keys of the records with these HUSIDs (by key or by hesa_id) or SRS ids, those of a table's rows with no
    entry in `records` included (a create sent and never answered by a run killed before its entry, say), and the
    ids that none has. Each list is joined against as a whole, in a temporary table: thousands of ids looked up one
    by one each read the whole of `records` (review200 F6)."""
    found: dict[str, set[str]] = {}  # an id asked for -> its keys
    _fill(ledger, "key", {f"hesa:{husid}" for husid in asked_hesa})  # the keys asked for, by HUSID
    _fill(ledger, "srs_id", set(asked_srs))
    pairs = ledger._execute(
        "SELECT hesa_id, key FROM records WHERE hesa_id IN (SELECT substr(value, 6) FROM temp.forget_key)"
    ).fetchall()
    for table, columns in tables.items():
        if "key" in columns:
            pairs += [
                (str(key).removeprefix("hesa:"), key)
                for (key,) in ledger._execute(
                    f"SELECT DISTINCT key FROM {table} WHERE key IN (SELECT value FROM temp.forget_key)"
                )
            ]
    for husid, key in pairs:
        found.setdefault(str(husid), set()).add(str(key))
    srs_found: dict[str, set[str]] = {}
    srs_pairs = [
        *ledger._execute(
            "SELECT provider_trainee_id, key FROM records WHERE provider_trainee_id IN "
            "(SELECT value FROM temp.forget_srs_id)"
        )
    ]
    for table, columns in tables.items():
        if "key" in columns and "srs_id" in columns:
            srs_pairs += ledger._execute(
                f"SELECT srs_id, key FROM {table} WHERE srs_id IN (SELECT value FROM temp.forget_srs_id)"
            ).fetchall()
    for srs_id, key in srs_pairs:
        srs_found.setdefault(str(srs_id), set()).add(str(key))
    keys = {key for held in (*found.values(), *srs_found.values()) for key in held}
    not_found = [husid for husid in asked_hesa if husid not in found]
    not_found += [f"SRS id {srs_id}" for srs_id in asked_srs if srs_id not in srs_found]
    return keys, not_found


def _not_noted_since(ledger: Ledger, since: str) -> set[str]:
    """The keys of the records whose trainee no sync has noted since the day `since` (review200 F2): the record's
    entry is older (a sync notes each record it matched, wrote, found unchanged, or held back as a conflict or
    blocked; not one held back as invalid, whose entry keeps its time), and so is every other entry linked to the same
    Register trainee, or with the same SRS id (a HUSID corrected: the old key's entry stands still while the new one
    is synced every night). Keys of one trainee go together or not at all. The trainees and SRS ids noted since are
    gathered first, so that each old record is looked up, not compared with every recent one."""
    for kept in ("kept_trainee", "kept_srs"):
        ledger._execute(f"CREATE TEMP TABLE IF NOT EXISTS {kept} (value TEXT PRIMARY KEY) WITHOUT ROWID")
        ledger._execute(f"DELETE FROM temp.{kept}")
    ledger._execute(
        "INSERT OR IGNORE INTO temp.kept_trainee (value) SELECT trainee_id FROM records "
        "WHERE updated_at >= ? AND trainee_id != '' UNION SELECT f.trainee_id FROM records AS r "
        "JOIN fields_synced AS f ON f.key = r.key WHERE r.updated_at >= ? AND f.trainee_id != ''",
        (since, since),
    )
    ledger._execute(
        "INSERT OR IGNORE INTO temp.kept_srs (value) SELECT provider_trainee_id FROM records "
        "WHERE updated_at >= ? AND provider_trainee_id != ''",
        (since,),
    )
    return {
        str(key)
        for (key,) in ledger._execute(
            "SELECT r.key FROM records AS r LEFT JOIN fields_synced AS f ON f.key = r.key WHERE r.updated_at < ? "
            "AND COALESCE(r.trainee_id, '') NOT IN (SELECT value FROM temp.kept_trainee) "
            "AND COALESCE(f.trainee_id, '') NOT IN (SELECT value FROM temp.kept_trainee) "
            "AND COALESCE(r.provider_trainee_id, '') NOT IN (SELECT value FROM temp.kept_srs)",
            (since,),
        )
    }


def _trainees_of(ledger: Ledger) -> set[str]:
    rows = ledger._execute(
        "SELECT trainee_id FROM records WHERE key IN (SELECT value FROM temp.forget_key) UNION "
        "SELECT trainee_id FROM fields_synced WHERE key IN (SELECT value FROM temp.forget_key)"
    )
    return {str(trainee) for (trainee,) in rows if trainee}


def _still_out(ledger: Ledger) -> list[tuple[str, str]]:
    """HUSID and why, for each record being forgotten whose write Register may still carry out (`forget_records`),
    with what ends it: a sync, for a write in flight or whose outcome is unknown (it looks in Register); the time a
    day after a write was last known unanswered, for one noted so (a sync does not end that wait: Register may carry
    it out until then, whatever the sync found; review200 F5)."""
    why: dict[str, list[str]] = {}
    settle: set[str] = set()
    until: dict[str, str] = {}
    for key, operation, status, at in ledger._execute(
        "SELECT key, operation, status, updated_at FROM records WHERE key IN (SELECT value FROM temp.forget_key) "
        "AND status IN ('in_flight', 'unknown') ORDER BY key"
    ):
        what = "in flight" if status == "in_flight" else "outcome unknown"
        why.setdefault(str(key), []).append(f"{operation or 'a write'} {what} since {_to_the_second(at)}")
        settle.add(str(key))
    for key, kind, at in ledger._execute(
        "SELECT key, kind, sent_at FROM writes_unanswered WHERE sent_at >= ? AND ("
        "key IN (SELECT value FROM temp.forget_key) OR srs_id IN (SELECT value FROM temp.forget_srs_id) "
        "OR trainee_id IN (SELECT value FROM temp.forget_trainee_id)) ORDER BY id",
        (_a_day_ago(),),
    ):
        reasons = why.setdefault(str(key), [])
        if (said := f"{kind} sent at {_to_the_second(at)}, not answered") not in reasons:
            reasons.append(said)
        ends = (datetime.fromisoformat(str(at)) + timedelta(days=1)).astimezone(UTC).replace(microsecond=0)
        until[str(key)] = max(until.get(str(key), ""), ends.isoformat())
    refused = []
    for key in sorted(why):
        when = [
            *(["after a sync settles it"] if key in settle else []),
            *([f"from {until[key]}"] if key in until else []),
        ]
        refused.append((key.removeprefix("hesa:"), f"{'; '.join(why[key])}: can be forgotten {' and '.join(when)}"))
    return refused


def _refusal(refused: list[tuple[str, str]]) -> str:
    """ForgetRefused's message: each record and what ends its wait (`_still_out`)."""
    advice = []
    if any("after a sync" in why for _husid, why in refused):
        advice.append(
            "Run a sync of the same extract for those in flight or unknown (it looks in Register for what was sent)"
        )
    if any(" from " in why for _husid, why in refused):
        advice.append(
            "Register may carry out an unanswered write for a day after it was last known unanswered, whatever a sync "
            "found since: run this again from the time given"
        )
    return (
        "not forgotten, as Register may still carry out a write sync sent for "
        + "; ".join(f"HUSID {printable(husid)} ({why})" for husid, why in refused)
        + ": forgetting them now could create the trainee twice. "
        + ". ".join(advice)
        + " (--dry-run lists them beside what it would forget). Nothing was forgotten"
    )


def _count(ledger: Ledger, table: str, column: str) -> int:
    row = ledger._execute(
        f"SELECT COUNT(*) FROM {table} WHERE {column} IN (SELECT value FROM temp.forget_{column})"
    ).fetchone()
    return int(row[0])


def _what_is_lost(ledger: Ledger) -> list[str]:
    """What sync no longer knows of these records once forgotten, as it will behave for them (runner.py)."""
    lost = [
        "their link to Register's trainees: a sync of an extract that holds them again matches them through "
        "Register's listing (by HUSID and SRS id), looking in the record's start year and the years either side; "
        "one whose trainee was deleted in Register's service, or that the listing does not find (its start two or "
        "more academic years away from the extract's), is created again; and not_in_extract.csv no longer says when "
        "this state dir last synced the ones Register still holds"
    ]
    if _count(ledger, "fields_synced", "key"):
        lost.append(
            "what they said when last synced: until a sync notes them again, a change made to them in Register's "
            "service is put back without the sync_overwrites_register_edit warning"
        )
    if _count(ledger, "codes_echoed", "key"):
        lost.append(
            "what Register answered their codes it did not keep with (register_did_not_keep_code): each such record is "
            "sent once more, and noted again from Register's answer"
        )
    if withdrawn := _count(ledger, "withdrawals_made", "trainee_id"):
        lost.append(
            f"{counted(withdrawn, 'withdrawal')} this sync made: one DfE's support has undone is sent again while the "
            "extract still says withdrawn"
        )
    for trainee, degree in ledger._execute(
        "SELECT trainee_id, degree_id FROM degrees_replaced WHERE trainee_id IN "
        "(SELECT value FROM temp.forget_trainee_id)"
    ):
        lost.append(
            f"degree {degree} of trainee {trainee} in Register, replaced by a run that did not delete it: Register may "
            "hold both; delete that one in Register's service"
        )
    if _count(ledger, "creates_unreported", "key") or _count(ledger, "writes_landed", "key"):
        lost.append("writes of a run that ended before its report: no later report lists them")
    return lost


_WORD = re.compile(r"[0-9A-Za-z]+")


def _scrub(ledger: Ledger, names: list[str]) -> None:
    """Take these ids (HUSIDs, keys, SRS ids, Register's trainee ids) out of the free text the ledger keeps of other
    records and runs (a server's error message that names another trainee, a stopped run's reason), as whole words,
    in the JSON's strings only (a run's counts are numbers an SRS id could equal)."""
    held: list[tuple[str, str, str, Any, Any]] = []
    for table, column, row_key in (("records", "errors", "key"), ("runs", "summary", "id")):
        for key, text in ledger._execute(f"SELECT {row_key}, {column} FROM {table} WHERE {column} IS NOT NULL"):
            try:
                value = json.loads(text)
            except (TypeError, ValueError):  # not JSON (written by hand): as text
                value = str(text)
            held.append((table, column, row_key, key, value))
    # Only the names whose every word some text has: a cohort's thousands would make one regular expression too slow.
    words = {word for *_, value in held for word in _WORD.findall(json.dumps(value, ensure_ascii=False))}
    names = [name for name in set(names) if name and all(word in words for word in _WORD.findall(name))]
    if not names:
        return
    pattern = re.compile(
        r"(?<![0-9A-Za-z])(?:" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?![0-9A-Za-z])"
    )

    def scrubbed(value: Any) -> Any:
        if isinstance(value, str):
            return pattern.sub("(forgotten)", value)
        if isinstance(value, list):
            return [scrubbed(item) for item in value]
        if isinstance(value, dict):
            return {key: scrubbed(item) for key, item in value.items()}
        return value

    for table, column, row_key, key, value in held:
        if (cleaned := scrubbed(value)) != value:
            again = cleaned if isinstance(value, str) else json.dumps(cleaned, sort_keys=table == "runs")
            ledger._execute(f"UPDATE {table} SET {column} = ? WHERE {row_key} = ?", (again, key))


def _wipe(ledger: Ledger) -> bool:
    """Rebuild the ledger without the free pages the deleted rows were on (VACUUM), and fold its -wal, which still
    holds their pages as they were, into it and empty it: whether it could be (another program holding the ledger
    open keeps the old pages, in ledger.sqlite3 itself, until it closes it)."""
    try:
        ledger._execute("VACUUM")
        [(busy, *_)] = ledger._execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    except LedgerUnwritable as exc:
        log.warning("could not compact the sync ledger %s after forgetting (%s)", ledger.path, exc.reason)
        return False
    return not busy
