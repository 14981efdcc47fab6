"""The emulator's state: providers, trainees, degrees, placements and withdrawals in SQLite.

One connection guarded by one lock: the emulator serves a handful of clients, and a single writer keeps every
request's reads and writes in one consistent transaction. Each trainee row holds the request-level values as
JSON plus the columns the listing, the duplicate rule and TRN allocation query on. Times are integer
microseconds since the epoch (Register keeps microseconds and shows milliseconds, register-api.md §10).
"""

from __future__ import annotations

import json
import re
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from register_batch.errors import ConfigError, UnwritableOutput
from register_batch.fs import A_HARD_LINK, make_private_dirs, private_database, read_whole, same_database

SCHEMA_VERSION = "1"
BUSY_SECONDS = 5.0  # how long to wait out another connection's lock: sqlite3.connect's own default
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS providers (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    ukprn TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS trainees (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    provider_id INTEGER NOT NULL REFERENCES providers(id),
    state TEXT NOT NULL,
    hesa_id TEXT,
    date_of_birth TEXT,
    last_name TEXT,
    training_route TEXT,
    itt_start_date TEXT,
    start_cycle INTEGER,
    trn TEXT UNIQUE,
    trn_due_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    fields TEXT NOT NULL,
    meta TEXT NOT NULL,
    discarded_at INTEGER
);
CREATE INDEX IF NOT EXISTS trainees_listing ON trainees (provider_id, start_cycle, updated_at);
CREATE INDEX IF NOT EXISTS trainees_duplicates ON trainees (provider_id, date_of_birth);
CREATE INDEX IF NOT EXISTS trainees_trn_due ON trainees (trn_due_at) WHERE trn IS NULL;
CREATE TABLE IF NOT EXISTS degrees (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    trainee_id INTEGER NOT NULL REFERENCES trainees(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS degrees_trainee ON degrees (trainee_id);
CREATE TABLE IF NOT EXISTS placements (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    slug TEXT NOT NULL UNIQUE,
    trainee_id INTEGER NOT NULL REFERENCES trainees(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS placements_trainee ON placements (trainee_id);
CREATE TABLE IF NOT EXISTS withdrawals (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    trainee_id INTEGER NOT NULL REFERENCES trainees(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    fields TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS withdrawals_trainee ON withdrawals (trainee_id);
"""

Row = dict[str, Any]
_TRAINEE_COLUMNS = (
    "id, slug, provider_id, state, trn, trn_due_at, created_at, updated_at, fields, meta, start_cycle, itt_start_date"
)


# What to do instead when the database's name, or a companion's, leads to a link or another user's file.
NOT_PRIVATE = "{problem}. Use a folder of your own for it (for a sync's embedded emulator, a state dir of your own)"
# A second name is made in a folder of the user's own (a state dir restored with `cp -al`, a snapshot tool's links):
# another folder is no answer there (review63 F3).
LINKED = (
    "{problem}. Copy it without links (for a sync's embedded emulator, the whole state dir: `cp -a`, not `cp -al`), "
    "or remove its other name"
)


def _not_private(exc: UnwritableOutput) -> UnwritableOutput:
    """The refusal of the database's name, or a companion's, with what to do about it."""
    advice = LINKED if exc.problem == A_HARD_LINK else NOT_PRIVATE
    return UnwritableOutput(exc.path, advice.format(problem=exc.problem))


def _private_file(path: Path) -> tuple[object, ...]:
    """Create the database and its WAL files owner-only (0600, in 0700 folders it creates), or tighten ours: it holds
    trainees' personal data. A symbolic link, another user's file or one with a second name at any of those names is
    refused (review61 F1), before SQLite opens the name; what `same_database` compares it with once SQLite has."""
    make_private_dirs(path.parent)
    try:
        return private_database(path)
    except UnwritableOutput as exc:
        raise _not_private(exc) from None
    except OSError as exc:  # the CLI would take a bare OSError for the address it could not listen on
        raise UnwritableOutput(exc.filename or path, exc.strerror or str(exc)) from None


# Columns written on every save (insert adds slug, provider_id and created_at).
TRAINEE_COLUMNS = (
    "state",
    "hesa_id",
    "date_of_birth",
    "last_name",
    "training_route",
    "itt_start_date",
    "start_cycle",
    "trn",
    "trn_due_at",
    "updated_at",
    "fields",
    "meta",
)
INSERT_TRAINEE = (
    f"INSERT INTO trainees (slug, provider_id, created_at, {', '.join(TRAINEE_COLUMNS)}) "
    f"VALUES (?, ?, ?{', ?' * len(TRAINEE_COLUMNS)})"
)
UPDATE_TRAINEE = f"UPDATE trainees SET {', '.join(f'{c} = ?' for c in TRAINEE_COLUMNS)} WHERE id = ?"


def _trainee_values(trainee: Row) -> tuple[Any, ...]:
    fields = trainee["fields"]
    return (
        trainee["state"],
        fields.get("hesa_id"),
        fields.get("date_of_birth"),
        fields.get("last_name"),
        fields.get("training_route"),
        fields.get("itt_start_date"),
        trainee.get("start_cycle"),
        trainee.get("trn"),
        trainee.get("trn_due_at"),
        trainee["updated_at"],
        _dump(fields),
        _dump(trainee["meta"]),
    )


def _dump(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _trainee(row: sqlite3.Row) -> Row:
    found = dict(row)
    found["fields"] = json.loads(found["fields"])
    found["meta"] = json.loads(found["meta"])
    return found


def _child(row: sqlite3.Row) -> Row:
    found = dict(row)
    found["fields"] = json.loads(found["fields"])
    return found


def _add_discarded_at(db: sqlite3.Connection) -> None:
    """A database kept (`--db`) from before trainees could be deleted gets the column, every trainee kept."""
    if not any(row["name"] == "discarded_at" for row in db.execute("PRAGMA table_info(trainees)")):
        db.execute("ALTER TABLE trainees ADD COLUMN discarded_at INTEGER")


_TABLES = frozenset(re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA))


class DamagedDatabase(ConfigError):
    """A --db file that is damaged, or not a database at all (exit 2). Its message suits `emulator --db`; the
    embedded emulator's caller says what to do with a state dir's instead (sync/target.py, review152 F2)."""

    def __init__(self, path: Path, reason: str):
        super().__init__(
            f"{path}: cannot be read as the emulator's database ({reason}); move it away to start with an empty one"
        )
        self.path, self.reason = path, reason  # pickled with them by RegisterBatchError.__reduce__


class UkprnTaken(ValueError):
    """A UKPRN given for a token that another token's provider already has: one token is one provider here."""


class Store:
    """SQLite-backed state; use `with store.transaction():` around every request's work."""

    def _not_anothers(self, db: sqlite3.Connection) -> None:
        """Refuse an SQLite file that holds another program's tables (a sync ledger, given as --db by a slip): the
        emulator added its own tables and rehearsal trainees to it, and exited 0 (review99 F1). A new, empty file,
        or one of the emulator's (an older one lacking a table since added), is taken."""
        # Not SQLite's own (sqlite_sequence, sqlite_stat1 after an ANALYZE: review100 F4).
        tables = {
            row[0]
            for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            if not str(row[0]).startswith("sqlite_")
        }
        if tables and (tables - _TABLES or "trainees" not in tables):
            db.close()
            others = ", ".join(sorted(tables - _TABLES)[:5]) or ", ".join(sorted(tables)[:5])
            raise ConfigError(
                f"{self.path}: an SQLite database, but not the emulator's (it holds the tables {others}): give the "
                "emulator a --db of its own (a new file is made)"
            )

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        key = _private_file(self.path) if self.path else None
        self._lock = threading.RLock()
        self._depth = 0
        self._db = sqlite3.connect(
            str(self.path) if self.path else ":memory:",
            check_same_thread=False,
            isolation_level=None,
            timeout=BUSY_SECONDS,
        )
        self._db.row_factory = sqlite3.Row
        if self.path is not None and key is not None:
            try:
                same_database(self.path, key)
            except UnwritableOutput as exc:
                self._db.close()
                raise _not_private(exc) from None
        try:
            if self.path:
                self._not_anothers(self._db)
                # Every page read once, as the sync ledger's are (review127 F2): opening reads only the first ones,
                # and a page of the trainees table gone bad was met at a sync's first listing, answered 500 and
                # retried, then "Register was unavailable" (exit 1). After the read above, which undoes a write
                # stopped part-way (a hot journal) that a connection that can only read could not.
                read_whole(self.path, timeout=BUSY_SECONDS)
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(SCHEMA)  # outside a transaction: executescript commits any open one first
            _add_discarded_at(self._db)
            # The first write reads the `meta` table's pages: a file whose schema reads but whose pages are damaged
            # (one replaced while its -wal/-shm were left behind) fails here, and is the same damaged database.
            with self.transaction():
                self._db.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?)", (SCHEMA_VERSION,)
                )
        except sqlite3.DatabaseError as exc:  # a damaged file, or not a database at all (a wrong --db)
            self._db.close()
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):  # not damaged: in use
                raise ConfigError(
                    f"{self.path}: in use by another process ({exc}): stop the emulator using it, or give another --db"
                ) from None
            raise DamagedDatabase(self.path or Path(":memory:"), str(exc)) from None

    @contextmanager
    def transaction(self) -> Iterator[Store]:
        """One atomic unit of work (re-entrant: nested uses join the outer transaction)."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield self
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # Reads take the lock too (it is re-entrant: inside a transaction they already hold it). A request's
    # authentication reads outside any transaction; unlocked, it could run on the connection while another thread
    # closed it (a stopping emulator waking the requests waiting out its latency), and sqlite3 then read freed
    # memory: a segfault (review144 F1).
    def _all(self, sql: str, params: tuple | list = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def _one(self, sql: str, params: tuple | list = ()) -> sqlite3.Row | None:
        with self._lock:
            return self._db.execute(sql, params).fetchone()

    def _count(self, sql: str, params: tuple | list = ()) -> int:
        """A `SELECT COUNT(*)`'s number: such a query always gives one row."""
        with self._lock:
            return int(self._db.execute(sql, params).fetchone()[0])

    # --- providers ----------------------------------------------------------------------------------------

    def provider_by_token_hash(self, token_hash: str) -> Row | None:
        row = self._one("SELECT id, ukprn FROM providers WHERE token_hash = ?", (token_hash,))
        return dict(row) if row else None

    def add_provider(self, token_hash: str, ukprn: str, *, fixed: bool = False) -> Row:
        """The provider a token belongs to, created on first sight (the same token keeps its UKPRN).

        `fixed`: the provider must have exactly this UKPRN (a rehearsal of the provider's own), even if it was
        created with another one; ValueError if another token's provider has it.
        """
        with self.transaction():
            found = self.provider_by_token_hash(token_hash)
            if fixed:
                other = self._one("SELECT id FROM providers WHERE ukprn = ?", (ukprn,))
                if other and (not found or other["id"] != found["id"]):
                    raise UkprnTaken(f"UKPRN {ukprn} is already another token's provider")
                if found and found["ukprn"] != ukprn:
                    self._db.execute("UPDATE providers SET ukprn = ? WHERE id = ?", (ukprn, found["id"]))
                    found = self.provider_by_token_hash(token_hash)
            if found:
                return found
            while self._one("SELECT 1 FROM providers WHERE ukprn = ?", (ukprn,)):
                ukprn = f"{(int(ukprn) + 1 - 10_000_000) % 10_000_000 + 10_000_000:08d}"
            self._db.execute("INSERT INTO providers (token_hash, ukprn) VALUES (?, ?)", (token_hash, ukprn))
            return self.provider_by_token_hash(token_hash) or {}

    def replace_token_hash(self, old: str, new: str) -> None:
        """A provider's token replaced by another (a token rotation): the provider, its UKPRN and trainees stay."""
        with self.transaction():
            self._db.execute("UPDATE providers SET token_hash = ? WHERE token_hash = ?", (new, old))

    def provider_ukprn(self, provider_id: int) -> str:
        row = self._one("SELECT ukprn FROM providers WHERE id = ?", (provider_id,))
        return row["ukprn"] if row else ""

    # --- trainees -----------------------------------------------------------------------------------------

    def insert_trainee(self, trainee: Row) -> None:
        """Store a new trainee and give it its `id`."""
        cursor = self._db.execute(
            INSERT_TRAINEE, (trainee["slug"], trainee["provider_id"], trainee["created_at"], *_trainee_values(trainee))
        )
        trainee["id"] = cursor.lastrowid

    def save_trainee(self, trainee: Row) -> None:
        self._db.execute(UPDATE_TRAINEE, (*_trainee_values(trainee), trainee["id"]))

    def touch_trainee(self, trainee_id: int, now: int) -> None:
        """`belongs_to :trainee, touch: true` (degrees) and progress saves: only `updated_at` moves."""
        self._db.execute("UPDATE trainees SET updated_at = ? WHERE id = ?", (now, trainee_id))

    def discard_trainee(self, slug: str, now: int) -> bool:
        """Delete a trainee as Register's service does (`discard`: a soft delete, which saves the trainee, so
        `updated_at` moves too). False when there is no such trainee, or it is deleted already."""
        cursor = self._db.execute(
            "UPDATE trainees SET discarded_at = ?, updated_at = ? WHERE slug = ? AND discarded_at IS NULL",
            (now, now, slug),
        )
        return cursor.rowcount == 1

    def trainee_by_slug(self, slug: str) -> Row | None:
        """A trainee of any provider (the test hooks', which answer without a token), not deleted."""
        row = self._one(f"SELECT {_TRAINEE_COLUMNS} FROM trainees WHERE slug = ? AND discarded_at IS NULL", (slug,))
        return _trainee(row) if row else None

    def trainee(self, provider_id: int, slug: str) -> Row | None:
        row = self._one(
            f"SELECT {_TRAINEE_COLUMNS} FROM trainees WHERE provider_id = ? AND slug = ?", (provider_id, slug)
        )
        return _trainee(row) if row else None

    def duplicate_candidates(self, provider_id: int, date_of_birth: str) -> list[Row]:
        """Same provider and date of birth (§4's first two conditions), not deleted (`kept`: a discarded trainee is no
        duplicate); the caller applies the rest."""
        rows = self._all(
            f"SELECT {_TRAINEE_COLUMNS} FROM trainees WHERE provider_id = ? AND date_of_birth = ? "
            "AND discarded_at IS NULL ORDER BY id",
            (provider_id, date_of_birth),
        )
        return [_trainee(r) for r in rows]

    def list_trainees(
        self,
        provider_id: int,
        *,
        start_cycle: int,
        since: int | None,
        where: str,
        params: list[Any],
        descending: bool,
        limit: int,
        offset: int,
    ) -> tuple[list[Row], int]:
        """One page of the provider's trainees of a start cycle, and the total count of the filtered set: no drafts
        and no deleted trainees (Trainees::Filter's `undiscarded`, §2.3)."""
        clauses = "provider_id = ? AND start_cycle = ? AND state != 'draft' AND discarded_at IS NULL"
        args: list[Any] = [provider_id, start_cycle]
        if since is not None:
            clauses += " AND updated_at >= ?"
            args.append(since)
        if where:
            clauses += f" AND ({where})"
            args.extend(params)
        total = self._count(f"SELECT COUNT(*) FROM trainees WHERE {clauses}", args)
        order = "DESC" if descending else "ASC"
        rows = self._all(
            f"SELECT {_TRAINEE_COLUMNS} FROM trainees WHERE {clauses} ORDER BY updated_at {order}, id DESC "
            "LIMIT ? OFFSET ?",
            [*args, limit, offset],
        )
        return [_trainee(r) for r in rows], total

    def due_trn_allocations(self, now: int) -> list[Row]:
        rows = self._all(
            f"SELECT {_TRAINEE_COLUMNS} FROM trainees WHERE trn IS NULL AND trn_due_at IS NOT NULL "
            "AND trn_due_at <= ? ORDER BY trn_due_at, id",
            (now,),
        )
        return [_trainee(r) for r in rows]

    def trn_taken(self, trn: str) -> bool:
        return self._one("SELECT 1 FROM trainees WHERE trn = ?", (trn,)) is not None

    def count_trainees(self) -> int:
        return self._count("SELECT COUNT(*) FROM trainees")

    # --- degrees and placements ---------------------------------------------------------------------------

    def children(self, table: str, trainee_ids: list[int]) -> dict[int, list[Row]]:
        """Degrees or placements of several trainees, oldest first (as Register's associations return them)."""
        found: dict[int, list[Row]] = {i: [] for i in trainee_ids}
        if not trainee_ids:
            return found
        marks = ",".join("?" * len(trainee_ids))
        for row in self._all(
            f"SELECT id, slug, trainee_id, created_at, updated_at, fields FROM {_table(table)} "
            f"WHERE trainee_id IN ({marks}) ORDER BY id",
            trainee_ids,
        ):
            found[row["trainee_id"]].append(_child(row))
        return found

    def child(self, table: str, trainee_id: int, slug: str) -> Row | None:
        row = self._one(
            f"SELECT id, slug, trainee_id, created_at, updated_at, fields FROM {_table(table)} "
            "WHERE trainee_id = ? AND slug = ?",
            (trainee_id, slug),
        )
        return _child(row) if row else None

    def insert_child(self, table: str, child: Row) -> None:
        """Store a new degree or placement and give it its `id`."""
        cursor = self._db.execute(
            f"INSERT INTO {_table(table)} (slug, trainee_id, created_at, updated_at, fields) VALUES (?, ?, ?, ?, ?)",
            (child["slug"], child["trainee_id"], child["created_at"], child["updated_at"], _dump(child["fields"])),
        )
        child["id"] = cursor.lastrowid

    def save_child(self, table: str, child: Row) -> None:
        self._db.execute(
            f"UPDATE {_table(table)} SET updated_at = ?, fields = ? WHERE id = ?",
            (child["updated_at"], _dump(child["fields"]), child["id"]),
        )

    def delete_child(self, table: str, child_id: int) -> None:
        self._db.execute(f"DELETE FROM {_table(table)} WHERE id = ?", (child_id,))

    def slug_taken(self, table: str, slug: str) -> bool:
        return self._one(f"SELECT 1 FROM {_table(table, trainees=True)} WHERE slug = ?", (slug,)) is not None

    # --- withdrawals --------------------------------------------------------------------------------------

    def insert_withdrawal(self, trainee_id: int, fields: Row, now: int) -> None:
        self._db.execute(
            "INSERT INTO withdrawals (trainee_id, created_at, fields) VALUES (?, ?, ?)",
            (trainee_id, now, _dump(fields)),
        )

    def latest_withdrawals(self, trainee_ids: list[int]) -> dict[int, Row]:
        found: dict[int, Row] = {}
        if not trainee_ids:
            return found
        marks = ",".join("?" * len(trainee_ids))
        for row in self._all(
            f"SELECT trainee_id, fields FROM withdrawals WHERE trainee_id IN ({marks}) ORDER BY id", trainee_ids
        ):
            found[row["trainee_id"]] = json.loads(row["fields"])
        return found

    # --- test hook ----------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget every trainee (all providers); providers and their tokens stay."""
        with self.transaction():
            for table in ("withdrawals", "placements", "degrees", "trainees"):
                self._db.execute(f"DELETE FROM {table}")


def _table(name: str, *, trainees: bool = False) -> str:
    if name not in ("degrees", "placements") and not (trainees and name == "trainees"):
        raise ValueError(f"not a child table: {name}")
    return name
