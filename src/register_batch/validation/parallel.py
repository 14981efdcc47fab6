"""Validate a large input on two cores, with exactly the serial results.

Both processes read the whole input (parsing is the cheap, C part); each maps and validates every other
record, which is where the Python time goes. The helper process sends back, for its records, only what the
report needs: the issues and the duplicate finder's entry. The parent merges them in record order, so
numbering, issue order, duplicate detection and every report are byte-for-byte those of a serial run.

The helper only accelerates: if it stops for any reason (an unreadable record further on, a crash, a kill),
the parent does the remaining records itself. It is forked, so it shares the parent's loaded reference data,
mapping and the per-process hash key the duplicate finder's digests use; where `fork` is not available the
run is serial.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from register_batch.model import Issue, SourceRef, TraineeRecord, make_issue
from register_batch.validation.duplicates import DuplicateFinder
from register_batch.validation.runner import Checker

BATCH = 256
PARALLEL_MIN_BYTES = 8_000_000  # below this, starting a second process costs more than it saves

IssueTuple = tuple[str, int | None, int | None, str | None, str | None, str | None, str | None, str, str, str]


def worth_parallel(paths: list[str] | tuple[str, ...]) -> bool:
    """Two processes when there are two cores to use, fork exists and the inputs are large."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cores = os.cpu_count() or 1
    if cores < 2:
        return False
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            size += Path(path).stat().st_size
    return size >= PARALLEL_MIN_BYTES


def _as_tuple(issue: Issue) -> IssueTuple:
    return (
        issue.input,
        issue.record,
        issue.line,
        issue.provider_trainee_id,
        issue.hesa_id,
        issue.field,
        issue.value,
        issue.code,
        issue.severity.value,
        issue.message,
    )


def _from_tuple(values: IssueTuple) -> Issue:
    from register_batch.model import Severity

    (input_, record, line, provider_id, hesa_id, field, value, code, severity, message) = values
    return make_issue(
        input=input_,
        record=record,
        line=line,
        provider_trainee_id=provider_id,
        hesa_id=hesa_id,
        field=field,
        value=value,
        code=code,
        severity=Severity(severity),
        message=message,
    )


def _helper(checker: Checker, paths: list[str], conn: Connection) -> None:
    """The forked helper: check every odd-numbered record and send back its issues and duplicate entry."""
    try:
        batch: list[tuple[int, list[IssueTuple], tuple]] = []
        for index, (info, raw) in enumerate(checker.raw_records(paths, select=lambda i: i % 2 == 1)):
            if index % 2 == 0:
                continue
            record = checker.check(info, raw)
            batch.append((index, [_as_tuple(i) for i in record.issues], DuplicateFinder.entry(record), record.vintage))
            if len(batch) >= BATCH:
                conn.send(batch)
                batch = []
        if batch:
            conn.send(batch)
    except BaseException:  # the parent redoes whatever the helper did not send
        pass
    finally:
        with contextlib.suppress(OSError):
            conn.send(None)
            conn.close()
        os._exit(0)


class _Helped:
    """The parent's view of the helper's stream of results."""

    def __init__(self, conn: Connection, process: multiprocessing.Process):
        self.conn = conn
        self.process = process
        self.pending: dict[int, tuple] = {}
        self.alive = True

    def take(self, index: int) -> tuple | None:
        """The helper's result for `index`, or None if the helper will not deliver it."""
        while self.alive and index not in self.pending:
            try:
                batch = self.conn.recv()
            except (EOFError, OSError):
                batch = None
            if batch is None:
                self.alive = False
                break
            for item in batch:
                self.pending[item[0]] = item
        return self.pending.pop(index, None)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)


def parallel_records(checker: Checker, paths: list[str] | tuple[str, ...]) -> Iterator[TraineeRecord]:
    """`checker.records(paths)`, with every other record checked by a forked helper.

    Yields TraineeRecords in input order. Records the helper checked carry their source and issues (their
    `data` holds only the identifiers): enough for reports, not for conversion or upload.
    """
    paths = [str(p) for p in paths]
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    process = context.Process(target=_helper, args=(checker, paths, send), daemon=True)
    process.start()
    send.close()
    helped = _Helped(receive, process)
    duplicates = checker.duplicates
    taken: dict[int, tuple] = {}

    def read_in_full(index: int) -> bool:
        """Called by the reader before it extracts a record: skip the helper's records it has delivered."""
        if index % 2 == 0:
            return True
        result = helped.take(index)
        if result is None:
            return True  # the helper stopped: this process reads and checks the record itself
        taken[index] = result
        return False

    try:
        for index, (info, raw) in enumerate(checker.raw_records(paths, select=read_in_full)):
            result = (taken.pop(index, None) or helped.take(index)) if index % 2 else None
            if result is None:
                record = checker.check(info, raw)
                duplicates.add(record)
                yield record
                continue
            _index, issues, entry, vintage = result
            if vintage:
                info.vintages[vintage] = info.vintages.get(vintage, 0) + 1
            duplicates.add_entry(entry)
            yield _report_record(raw.source, [_from_tuple(i) for i in issues], vintage)
    finally:
        helped.close()


def _report_record(source: SourceRef, issues: list[Issue], vintage: str | None) -> TraineeRecord:
    data: dict[str, Any] = {}
    if issues:
        data = {"provider_trainee_id": issues[0].provider_trainee_id, "hesa_id": issues[0].hesa_id}
    return TraineeRecord(source=source, data=data, issues=issues, vintage=vintage)
