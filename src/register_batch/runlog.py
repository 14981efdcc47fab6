"""Which sync run a library log record is of, on the record itself (review225 F4).

A service that syncs many providers in one process, in threads or one after another, routes each provider's log lines
to that provider's log. A retry warning, a throttled wait or a stop named no provider: only the thread's name told
them apart. Each record the library's own loggers write while `sync_files` runs carries `register_batch_run`, a dict
of the run's `state_dir`, `ukprn`, `target` and ledger `run_id` (None until the ledger has started the run).

A filter on each of the library's loggers, set when this module is imported (as the stamina filter of api/client.py
is): it sees only the records those loggers write themselves, never a caller's, and changes nothing else. The run is
a context variable: the sync's requests run in the caller's thread, so two threads' runs are each their own.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

RUN_ATTRIBUTE = "register_batch_run"  # the LogRecord attribute, as library.md names it

# The loggers a sync writes through (runner and target, the ledger, the client and its limiter, its retries, the
# reports): tests/sync/test_run_on_log_records_review225.py checks that every record of a sync's is of one of them.
RUN_LOGGERS = (
    "register_batch.sync",
    "register_batch.sync.ledger",
    "register_batch.api",
    "register_batch.api.retries",
    "register_batch.reports",
)


class _HasRunId(Protocol):
    @property
    def run_id(self) -> int | None: ...


@dataclass
class LoggedRun:
    """The run a sync is: its `ledger` is set once opened, whose `run_id` is then said."""

    state_dir: str
    ukprn: str | None
    target: str
    ledger: _HasRunId | None = None

    def fields(self) -> dict[str, object]:
        run_id = self.ledger.run_id if self.ledger is not None else None
        return {"state_dir": self.state_dir, "ukprn": self.ukprn, "target": self.target, "run_id": run_id}


_CURRENT: ContextVar[LoggedRun | None] = ContextVar("register_batch_run", default=None)


class RunOnRecord(logging.Filter):
    """Puts the current run's fields on each record (a copy: a later run_id does not change an earlier record)."""

    def filter(self, record: logging.LogRecord) -> bool:
        run = _CURRENT.get()
        if run is not None and not hasattr(record, RUN_ATTRIBUTE):
            setattr(record, RUN_ATTRIBUTE, run.fields())
        return True


_FILTER = RunOnRecord()
for _name in RUN_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


@contextlib.contextmanager
def logged_run(state_dir: str, ukprn: str | None, target: str) -> Iterator[LoggedRun]:
    """The run whose fields each record of the library's carries until the `with` ends."""
    run = LoggedRun(state_dir, ukprn, target)
    reset = _CURRENT.set(run)
    try:
        yield run
    finally:
        _CURRENT.reset(reset)
