"""Validate a large input on two cores, with exactly the serial results.

A single plain HESA XML file is divided into chunks at `Student` boundaries (`XmlChunks`). This process
reads the file from its start and claims chunk after chunk as it reaches them; a forked helper claims chunks
from the end backwards and checks each one on its own. Neither parses the whole file, and whichever core is
faster does more of it. Other inputs (several files, zips, CSV) are shared record by record instead: both
processes read everything (parsing is the cheap, C part) and each maps and validates every other record.

The helper sends back, for its records, only what the report needs: the issues and the duplicate finder's
entry, through a private spool file so it never waits for this process. The parent merges them in record
order, so numbering, line numbers, issue order, duplicate detection and every report are byte-for-byte those
of a serial run.

The helper only accelerates. If it stops for any reason (an unreadable record further on, a crash, a kill, a SIGSTOP
that leaves it showing no sign of work for HELPER_SILENCE seconds), or a chunk does not parse on its own, this
process reads the input again and does the remaining records itself, so errors are reported exactly as a serial run
reports them. The helper is forked, so it shares the parent's loaded reference data, mapping and the per-process
hash key the duplicate finder's digests use; where `fork` is not available the run is serial.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import pickle
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from register_batch.errors import UnusableInput
from register_batch.model import Issue, IssueTuple, SourceRef, TraineeRecord, issue_from_values, issue_values
from register_batch.progress import drawing_paused, drawing_threads
from register_batch.readers import (
    InputInfo,
    XmlChunks,
    XmlPart,
    check_unchanged,
    file_state,
    find_xml_chunks,
    newlines_before,
)
from register_batch.validation.duplicates import DuplicateFinder, Parts
from register_batch.validation.providers import ProviderCheck
from register_batch.validation.runner import Checker
from register_batch.wording import printable

if TYPE_CHECKING:  # multiprocessing is imported where a helper is forked (_fork_context), not for every run
    from multiprocessing.connection import Connection
    from multiprocessing.context import ForkContext
    from multiprocessing.process import BaseProcess

BATCH = 256
PARALLEL_MIN_BYTES = 8_000_000  # below this, starting a second process costs more than it saves
POLL_EVERY = 256  # records between the parent's looks at the helper's (small) messages
DIGEST_WAIT = 10.0  # seconds the parent waits at most for the helper's hash of a chunked file, once it has merged all
# Seconds the parent waits for a helper that shows no sign of work (no message, its spool not grown), or for the lock
# it claims chunks under, before it takes the helper for gone and checks the helper's records itself. The helper spools
# a batch every few milliseconds; one stopped, not ended (SIGSTOP, a debugger attached to it alone), would otherwise
# keep this process waiting for ever (review142 F1).
HELPER_SILENCE = 10.0
SILENCE_STEP = 0.5  # seconds between the parent's looks at the helper's spool while it waits

# (index: batch index, or record number within a chunk; line; issues; whether one is an error; the duplicate finder's
# entry, as DuplicateFinder.parts; vintage; provider key; sources seen; its dates that could be swapped, as
# TraineeRecord.swappable)
Result = tuple[int, int | None, list[IssueTuple], bool, Parts, str | None, str | None, int, tuple[tuple[str, str], ...]]


class Ahead:
    """How many records the helper has checked that the parent has not yet yielded: a progress counts them as done.
    A chunked run's helper checks the file's last chunks, which the parent yields last, in a burst: counted only as
    yielded, the count showed half the records done for most of the run, then jumped (review184 F4)."""

    def __init__(self) -> None:
        self.records = 0


def can_fork() -> bool:
    """Whether this Python can fork the helper: not on Windows, whose Python only spawns (which would start the
    helper without the parent's loaded reference data, mapping and hash key), nor in a daemonic process (a
    multiprocessing.Pool's worker, Celery's), which multiprocessing lets start no child (an AssertionError)."""
    import multiprocessing

    return "fork" in multiprocessing.get_all_start_methods() and not multiprocessing.current_process().daemon


def _fork_context() -> ForkContext:
    """multiprocessing's, imported here: a run with no helper (most of them: small inputs) does without it and what it
    imports (socket, subprocess), a few milliseconds of every `validate`'s start."""
    import multiprocessing

    return multiprocessing.get_context("fork")


def worth_parallel(paths: list[str] | tuple[str, ...]) -> bool:
    """Two processes when there are two cores to use, fork exists and the inputs are large.

    Not in a process running other threads (a caller's web server or worker pool, the emulator): fork copies the
    calling thread only, and a lock another one holds (logging's, a connection pool's) stays held in the helper for
    ever. `jobs=2` forks even then, as asked. A progress's threads drawing its bars are not counted: they are paused
    while the helper is forked (`_start`), so a library caller showing progress has the second core as the command
    line has.
    """
    size = 0
    for path in paths:
        with contextlib.suppress(OSError):
            size += Path(path).stat().st_size
    if size < PARALLEL_MIN_BYTES:  # asked first: then a small input's run never imports multiprocessing (can_fork)
        return False
    if not can_fork() or threading.active_count() - drawing_threads() > 1:
        return False
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux (macOS, Windows)
        cores = os.cpu_count() or 1
    return cores >= 2


def _result(index: int, record: TraineeRecord) -> Result:
    """What the parent needs of a record the helper checked, made as far as the helper can (it has time to spare at
    the end, while the parent merges its results one by one): the duplicate finder's spool line but for the record's
    number, which the parent gives it."""
    issues = [issue_values(i) for i in record.issues]
    parts = DuplicateFinder.parts(DuplicateFinder.entry(record))
    return (
        index,
        record.source.line,
        issues,
        record.has_errors,
        parts,
        record.vintage,
        ProviderCheck.key(record),
        record.sources_seen,
        record.swappable,
    )


class _Outbox:
    """The helper's end: each batch goes to a private, unlinked spool file and only its place down the pipe.

    A pipe holds 64 KB; written to directly, it would stop the helper until a parent busy with its own
    chunks reads it. The spool lets both run at full speed without results piling up in memory.
    """

    def __init__(self, conn: Connection, spool: int):
        self.conn = conn
        self.spool = spool
        self.position = 0

    def spool_batch(self, batch: list[Result]) -> tuple[int, int]:
        """Write a batch of results to the spool; returns its (offset, size)."""
        data = memoryview(pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL))
        start = self.position
        while data:
            written = os.pwrite(self.spool, data, self.position)
            data = data[written:]
            self.position += written
        return start, self.position - start

    def send(self, message: list[Result] | tuple[int, int, list[tuple[int, int]]] | str | int | None) -> None:
        """A batch of results (interleaved run), a finished chunk (chunk, records, batches), how many more records of
        a chunk it has checked (chunked run, for the progress: Ahead), the input's sha256 (chunked run, once no chunk
        is left), or None: no more."""
        self.conn.send(self.spool_batch(message) if isinstance(message, list) else message)

    def close(self) -> None:
        self.conn.close()


def _hang_up(conn: _Outbox) -> None:
    with contextlib.suppress(OSError):
        conn.send(None)
        conn.close()
    os._exit(0)


def _helper(checker: Checker, paths: list[str], conn: _Outbox) -> None:
    """The forked helper of an interleaved run: check every odd-numbered record and send back its results."""
    try:
        batch: list[Result] = []
        for index, (info, raw) in enumerate(checker.raw_records(paths, select=lambda i: i % 2 == 1)):
            if index % 2:
                batch.append(_result(index, checker.check(info, raw)))
                if len(batch) >= BATCH:
                    conn.send(batch)
                    batch = []
        if batch:
            conn.send(batch)
    except BaseException:  # the parent redoes whatever the helper did not send
        pass
    finally:
        _hang_up(conn)


def _chunk_helper(checker: Checker, path: str, chunks: XmlChunks, claims: Any, lock: Any, conn: _Outbox) -> None:
    """The forked helper of a chunked run: claim chunks from the last one back, check each and report it whole."""
    try:
        before = newlines_before(path, chunks)
        while True:
            with lock:
                if claims[1] < claims[0]:
                    break
                index = claims[1]
                claims[1] -= 1
            part = XmlPart(chunks, index, newlines_before=before[index])
            batch: list[Result] = []
            batches: list[tuple[int, int]] = []
            count = 0
            for count, (info, raw) in enumerate(checker.raw_records([path], part=part), start=1):
                batch.append(_result(count, checker.check(info, raw)))
                if len(batch) >= BATCH:
                    batches.append(conn.spool_batch(batch))
                    conn.send(len(batch))
                    batch = []
            if batch:
                batches.append(conn.spool_batch(batch))
                conn.send(len(batch))
            conn.send((index, count, batches))  # only a chunk that parsed to its end is reported
        # The input's hash, which this process has the time for while the parent merges what it sent: the parent's
        # reader does not hash (XmlPart.hashed), nor read the chunks it left to this process again to hash them.
        conn.send(_sha256_of(path))
    except BaseException:  # the parent redoes whatever the helper did not report
        pass
    finally:
        _hang_up(conn)


class _Silence:
    """How long this process has waited for the helper with nothing to show for it. Each wait counts for no more than
    the step it was meant to take: when the whole run was stopped (Ctrl-Z then `fg`, a frozen container), the helper
    was stopped with it, and that time is not its silence (review143 F2)."""

    def __init__(self) -> None:
        self.waited = 0.0

    def step(self, wait: Callable[[float], bool]) -> bool:
        """`wait(SILENCE_STEP)`, its time counted; what it returned (whether what was waited for came)."""
        start = time.monotonic()
        came = wait(SILENCE_STEP)
        self.waited += min(time.monotonic() - start, SILENCE_STEP)
        return came

    def heard(self) -> None:
        self.waited = 0.0

    def over(self) -> bool:
        return self.waited >= HELPER_SILENCE


class _Helped:
    """The parent's view of the helper's messages and spool."""

    def __init__(self, conn: Connection, process: BaseProcess, spool: IO[bytes]):
        self.conn = conn
        self.process = process
        self.spool = spool
        self.ahead = Ahead()  # a chunked run's records checked by the helper and not yet merged (its caller's)
        self.pending: dict[int, Result] = {}  # an interleaved run's results by batch index
        self.chunks: dict[int, tuple[int, list[tuple[int, int]]]] = {}  # a chunked run's finished chunks
        self.sha256: str | None = None  # a chunked run's input's, once the helper has no chunk left
        self.alive = True

    def _receive(self) -> None:
        """Wait for one message and file it; a helper that has hung up or died is no longer alive."""
        try:
            message = self.conn.recv()
            if isinstance(message, tuple) and len(message) == 2:
                message = self.read(*message)
        except (EOFError, OSError, pickle.UnpicklingError):
            message = None
        if message is None:
            self.alive = False
        elif isinstance(message, str):
            self.sha256 = message
        elif isinstance(message, int):
            self.ahead.records += message
        elif isinstance(message, list):
            for item in message:
                self.pending[item[0]] = item
        else:
            index, count, batches = message
            self.chunks[index] = (count, batches)

    def poll(self) -> None:
        """File the messages already sent, without waiting (the pipe must not fill up)."""
        with contextlib.suppress(OSError):
            while self.alive and self.conn.poll():
                self._receive()

    def read(self, start: int, size: int) -> list[Result]:
        data = os.pread(self.spool.fileno(), size, start)
        if len(data) != size:
            raise EOFError("the helper's spool is shorter than it said")
        return pickle.loads(data)

    def results(self, batches: list[tuple[int, int]]) -> _Spooled:
        """A finished chunk's results, read from the spool batch by batch."""
        return _Spooled(self, batches)

    def take(self, index: int) -> Result | None:
        """The helper's result for `index`, or None if the helper will not deliver it."""
        if index not in self.pending:
            self._wait(lambda: index in self.pending)
        return self.pending.pop(index, None)

    def chunk(self, index: int) -> tuple[int, list[tuple[int, int]]] | None:
        """(records, spooled batches) of a chunk the helper checked to its end, or None if it never will."""
        if index not in self.chunks:
            self._wait(lambda: index in self.chunks)
        return self.chunks.pop(index, None)

    def _wait(self, done: Callable[[], bool]) -> None:
        """File the helper's messages until `done()` or the helper is gone: it hung up, died, or showed no sign of
        work for HELPER_SILENCE seconds (no message, its spool not grown), when it is taken for gone."""
        silence = _Silence()
        spooled = self._spooled()
        while self.alive and not done():
            try:
                ready = silence.step(self.conn.poll)
            except OSError:
                ready = True  # _receive finds the same error and takes the helper for gone
            if ready:
                self._receive()
                silence.heard()
                continue
            now_spooled = self._spooled()
            if now_spooled != spooled:
                spooled = now_spooled
                silence.heard()
            elif silence.over():
                self.give_up()

    def give_up(self) -> None:
        """Take the helper for gone, and end it now: one that was only slow would use the other core for nothing."""
        self.alive = False
        with contextlib.suppress(OSError, ValueError):
            self.process.kill()

    def _spooled(self) -> int:
        """How much the helper has written to its spool: it grows by a batch while the helper checks a chunk."""
        try:
            return os.fstat(self.spool.fileno()).st_size
        except OSError:
            return -1

    def digest(self, timeout: float) -> str | None:
        """A chunked run's input's sha256, which the helper sends once it has no chunk left; None if it never will or
        has not within `timeout` seconds (a helper stopped, not ended, would keep this process waiting for ever)."""
        deadline = time.monotonic() + timeout
        with contextlib.suppress(OSError):
            while self.alive and self.sha256 is None:
                left = deadline - time.monotonic()
                if left <= 0 or not self.conn.poll(left):
                    break
                self._receive()
        return self.sha256

    def close(self) -> None:
        """End the helper and free what it used; again (a chunked run closes it early, then on its way out): nothing."""
        if self.spool.closed:
            return
        with contextlib.suppress(OSError):
            self.conn.close()
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        with contextlib.suppress(ValueError):  # still running 5 s after SIGKILL: its pipes go when it is collected
            self.process.close()  # its two pipes to the helper, now: not at the next garbage collection
        self.spool.close()


class _Spooled:
    """Iterates over spooled batches of results; a batch that cannot be read ends it with `failed` set."""

    def __init__(self, helped: _Helped, batches: list[tuple[int, int]]):
        self.helped = helped
        self.batches = batches
        self.failed = False

    def __iter__(self) -> Iterator[Result]:
        for start, size in self.batches:
            try:
                batch = self.helped.read(start, size)
            except (EOFError, OSError, pickle.UnpicklingError):
                self.failed = True  # what was read is good; the rest is read again from the input
                return
            yield from batch


def _start(target: Callable[..., None], *args: object) -> _Helped | None:
    """Fork the helper; None if it cannot be had (no room for its spool, a process limit): then run serially."""
    context = _fork_context()
    opened: list[Any] = []
    try:
        receive, send = context.Pipe(duplex=False)
        opened += [receive, send]
        spool = tempfile.TemporaryFile()  # owner-only and unlinked; closed by _Helped.close
        opened.append(spool)
        process = context.Process(target=target, args=(*args, _Outbox(send, spool.fileno())), daemon=True)
        with drawing_paused():  # no thread of a progress, nor a lock it holds, is copied into the helper
            # The objects made so far frozen for the fork: the helper's collections then leave their headers, and the
            # pages holding them, shared with this process. Unfrozen, each collection in the helper wrote to them, and
            # copied page after page: the two processes' memory grew with the file, by 1.24x from 10k to 100k
            # trainees against 1.10x frozen (benchmarks/tree_memory.py; review128 F1). A caller's own freeze is kept.
            thawed = gc.get_freeze_count() == 0
            gc.freeze()
            try:
                process.start()
            finally:
                if thawed:
                    gc.unfreeze()
    except OSError:
        for resource in opened:
            resource.close()
        return None
    send.close()
    return _Helped(receive, process, spool)


def parallel_records(
    checker: Checker, paths: list[str] | tuple[str, ...], ahead: Ahead | None = None
) -> Iterator[TraineeRecord]:
    """`checker.records(paths)`, with part of the records checked by a forked helper.

    Yields TraineeRecords in input order. Records the helper checked carry their source and issues (their
    `data` holds only the identifiers): enough for reports, not for conversion or upload. `ahead` counts, as the run
    goes, those the helper has checked and this generator not yet yielded (for a progress).
    """
    paths = [str(p) for p in paths]
    # Two processes read the inputs, each in its own time (a chunk, the rest read again after a helper stopped):
    # a file that changed between the first look and the last record would give records of two exports.
    before = [file_state(path) for path in paths]
    chunks = find_xml_chunks(paths[0], checker.fmt, checker.mapping) if len(paths) == 1 else None
    if chunks is not None:
        yield from _chunked_records(checker, paths[0], chunks, ahead or Ahead())
    else:
        yield from _interleaved_records(checker, paths)
    for path, state in zip(paths, before, strict=True):
        check_unchanged(path, state, printable(path))


def _interleaved_records(checker: Checker, paths: list[str]) -> Iterator[TraineeRecord]:
    helped = _start(_helper, checker, paths)
    if helped is None:
        yield from checker.records(paths)
        return
    taken: dict[int, Result] = {}

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
                checker.tally(record)
                yield record
            else:
                yield _merge(checker, info, raw.source, result)
    finally:
        helped.close()


def _chunked_records(checker: Checker, path: str, chunks: XmlChunks, ahead: Ahead) -> Iterator[TraineeRecord]:
    context = _fork_context()
    try:
        claims = context.RawArray("i", [1, len(chunks) - 1])  # the parent's next chunk, the helper's next chunk
        lock = context.Lock()
    except OSError:  # no shared memory (/dev/shm) here
        yield from checker.records([path])
        return

    helped = _start(_chunk_helper, checker, path, chunks, claims, lock)
    if helped is None:
        yield from checker.records([path])
        return
    helped.ahead = ahead

    def claim(index: int) -> bool:
        # A helper stopped while it holds the lock is gone: this process claims no more, and checks the rest itself.
        silence = _Silence()
        while not silence.step(lambda seconds: lock.acquire(timeout=seconds)):
            if silence.over():
                helped.give_up()
                return False
        try:
            if claims[0] != index or claims[0] > claims[1]:
                return False
            claims[0] += 1
            return True
        finally:
            lock.release()

    known = len(checker.inputs)
    done = 0  # records yielded so far
    try:
        try:
            for info, raw in checker.raw_records([path], part=XmlPart(chunks, 0, claim, hashed=False)):
                record = checker.check(info, raw)
                checker.tally(record)
                done += 1
                if done % POLL_EVERY == 0:
                    helped.poll()
                yield record
        except UnusableInput:  # a damaged file, or a boundary that is not one: read it whole below
            helped.close()
        else:
            for index in range(claims[0], len(chunks)):  # the helper's chunks, in file order
                finished = helped.chunk(index)
                if finished is None:
                    break
                results = helped.results(finished[1])
                for result in results:
                    number = done + 1
                    source = SourceRef(input=info.path, record=number, line=result[1])
                    ahead.records = max(0, ahead.records - 1)  # counted when the helper checked it
                    yield _merge(checker, info, source, result, record=number)
                    done = number
                if results.failed:
                    break
            else:
                info.records = done
                # The helper hashes the file once it has no chunk left, in about the time this process took to merge
                # its results. One that took no chunk may be stuck before its first (this process then read every
                # chunk): it is not waited for, nor is one that has not sent the hash in DIGEST_WAIT.
                digest = helped.digest(DIGEST_WAIT) if claims[0] < len(chunks) else None
                info.sha256 = digest or _sha256_of(path)
                return
        # The helper stopped, or a chunk did not parse on its own: read the input whole, skipping what was yielded.
        ahead.records = 0  # what it checked and sent is read again: counted as it is yielded
        before = checker.inputs[known:]
        del checker.inputs[known:]
        yield from _rest(checker, path, done, before[0] if before else None)
    finally:
        helped.close()


def _sha256_of(path: str) -> str:
    """The sha256 of the whole file, as the reader of a whole input gives it (`InputInfo.sha256`)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _rest(checker: Checker, path: str, skip: int, earlier: InputInfo | None) -> Iterator[TraineeRecord]:
    """The input read again from its start, its first `skip` records already yielded: what they told of the input
    (`earlier`: its layouts, the mapped sources they have) is kept, as the skipped records are not looked at."""
    for index, (info, raw) in enumerate(checker.raw_records([path], select=lambda i: i >= skip)):
        if index == 0 and earlier is not None:
            info.vintages.update(earlier.vintages)
            info.sources_seen = earlier.sources_seen
        if index < skip:
            continue
        record = checker.check(info, raw)
        checker.tally(record)
        yield record


def _merge(
    checker: Checker, info: InputInfo, source: SourceRef, result: Result, *, record: int | None = None
) -> TraineeRecord:
    """The helper's result for a record, as the parent's record `source`; `record` renumbers a chunk's record."""
    _index, _line, issues, invalid, parts, vintage, provider, sources_seen, swappable = result
    if vintage:
        info.vintages[vintage] = info.vintages.get(vintage, 0) + 1
    info.sources_seen |= sources_seen
    merged = _report_record(source, [issue_from_values(i, record) for i in issues], vintage)
    merged.swappable = swappable  # what the report's ResavedWatch reads of a record's dates (review224 F1)
    checker.tally_result(parts, source, provider, invalid=invalid)
    return merged


def _report_record(source: SourceRef, issues: list[Issue], vintage: str | None) -> TraineeRecord:
    data: dict[str, Any] = {}
    if issues:
        data = {"provider_trainee_id": issues[0].provider_trainee_id, "hesa_id": issues[0].hesa_id}
    return TraineeRecord(source=source, data=data, issues=issues, vintage=vintage)
