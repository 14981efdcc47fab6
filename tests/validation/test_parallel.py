"""Two-process validation gives exactly the serial results, even when the helper process stops part-way.

Two ways of sharing the work are covered: a single plain HESA XML file divided into chunks (each process
parses only its own), and several inputs shared record by record.
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import os
import re
import signal
import subprocess
import sys
import threading
import time
import types
from datetime import date
from pathlib import Path
from typing import NamedTuple

import pytest

from hangs import time_limit
from register_batch.errors import UnusableInput
from register_batch.generate import generate
from register_batch.jobs import ValidationResult, validate_files
from register_batch.readers import hesa_xml
from register_batch.readers.base import HashingReader
from register_batch.readers.hesa_xml import find_chunks
from register_batch.validation import parallel
from register_batch.validation.runner import Checker
from report_times import same_but_when
from trainee_extracts import copied_over, written_earlier
from xml_reads import long_title_extract

AS_OF = date(2026, 11, 28)


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus")
    xml = folder / "batch.xml"
    generate(
        xml,
        count=400,
        fmt="hesa-xml",
        vintage="mixed",
        defects=0.3,
        truth=folder / "t.json",
        seed=5,
        academic_cycle=2025,
        as_of=AS_OF,
    )
    csv = folder / "batch.csv"
    generate(
        csv,
        count=150,
        fmt="register-csv",
        defects=0.3,
        truth=folder / "u.json",
        seed=6,
        academic_cycle=2025,
        as_of=AS_OF,
    )
    again = folder / "batch-again.xml"  # the XML's records twice: every one has a duplicate across the processes
    again.write_bytes(xml.read_bytes())
    return [str(xml), str(csv), str(again)]


def reports_equal(left, right) -> bool:
    """The same reports, byte for byte, but for when each run happened (report_times)."""
    return same_but_when(left, right)


class Serial(NamedTuple):
    """A one-process validation: the truth a two-process run of the same inputs must equal, and its report folder."""

    result: ValidationResult
    reports: Path


def validated_serially(inputs: list[str], reports: Path) -> Serial:
    return Serial(validate_files(inputs, as_of=AS_OF, report_dir=reports, jobs=1), reports)


@pytest.fixture(scope="module")
def corpus_serial(corpus, tmp_path_factory) -> Serial:
    """The corpus validated in one process, once for the module: set up before any test's monkeypatching (a module's
    fixtures come before a test's), so what a test patches in the two-process path cannot reach it."""
    return validated_serially(corpus, tmp_path_factory.mktemp("corpus-serial"))


def test_two_processes_write_the_same_reports_as_one(corpus, corpus_serial, tmp_path):
    serial = corpus_serial.result
    two = validate_files(corpus, as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    assert serial.report.summary == two.report.summary
    assert serial.report.summary.errors > 0
    assert reports_equal(corpus_serial.reports, tmp_path / "two")
    xml, csv, again = json.loads((tmp_path / "two" / "report.json").read_text())["inputs"]
    # `mixed` rotates through the collections, C24053 read with C23053's layout (hesa-formats.md §5 item 8); a few
    # defects take away a tag that tells a layout. Register's CSV has none.
    assert set(xml["vintages"]) == {"C21053", "C22053", "C23053"} and sum(xml["vintages"].values()) == 400
    assert again["vintages"] == xml["vintages"] and "vintages" not in csv
    # the valid records by academic cycle (review134 F4), counted by the process that read each: every XML record is
    # on two records (the file twice), so invalid, in no cycle, by a finding across the processes
    assert "cycles" not in xml and "cycles" not in again and csv["cycles"] == {"2025": serial.report.summary.valid}


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts this process's descriptors in /proc/self/fd")
def test_two_process_runs_leave_no_pipe_open_for_the_garbage_collector(corpus, tmp_path):
    """A long-lived caller (an SRS's job server) validating one extract after another: each two-process run left the
    helper's two pipes open until the next garbage collection, for ever where it is switched off."""
    import gc

    def open_descriptors() -> set[str]:
        return set(os.listdir("/proc/self/fd"))

    gc.collect()
    gc.disable()
    try:
        before = open_descriptors()
        for run in range(3):
            validate_files(corpus[:2], as_of=AS_OF, report_dir=tmp_path / f"run{run}", jobs=2)
        left = open_descriptors() - before
    finally:
        gc.enable()
    assert left == set(), sorted(
        os.readlink(f"/proc/self/fd/{fd}") for fd in left if os.path.exists(f"/proc/self/fd/{fd}")
    )


@pytest.mark.parametrize("batches", [2, 14], ids=["in-the-xml", "in-the-csv"])
def test_a_helper_that_stops_part_way_changes_nothing(corpus, corpus_serial, tmp_path, monkeypatch, batches):
    # The helper takes every other record (200 of the first file's 400), 16 to a batch: it dies in the XML
    # after 2 batches, in the CSV after 14; both readers skip the helper's records until it stops.
    real = parallel._helper

    def stops_early(checker, paths, conn):
        conn_send = conn.send
        sent = []

        def send(batch):
            if batch is not None:
                sent.append(len(batch))
            if len(sent) > batches - 1:
                os._exit(3)  # as if killed
            conn_send(batch)

        conn.send = send
        real(checker, paths, conn)

    monkeypatch.setattr(parallel, "BATCH", 16)
    monkeypatch.setattr(parallel, "_helper", stops_early)
    helped = validate_files(corpus, as_of=AS_OF, report_dir=tmp_path / "helped", jobs=2)
    assert corpus_serial.result.report.summary == helped.report.summary
    assert reports_equal(corpus_serial.reports, tmp_path / "helped")


def checks_in_this_process(monkeypatch) -> list[int]:
    """Counts the records this process maps and validates itself (the forked helper counts in its own copy)."""
    checked: list[int] = []
    real = Checker.check

    def check(self, info, raw):
        checked.append(raw.source.record)
        return real(self, info, raw)

    monkeypatch.setattr(Checker, "check", check)
    return checked


def test_a_helper_that_runs_to_its_end_does_half_of_the_records(corpus, corpus_serial, tmp_path, monkeypatch):
    """Every other record of the batch (across inputs) is the helper's, and none of them is checked here again: the
    second core is used, not just started."""
    checked = checks_in_this_process(monkeypatch)
    validate_files(corpus, as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    assert corpus_serial.result.report.summary.records == 950
    assert len(checked) == 475
    assert reports_equal(corpus_serial.reports, tmp_path / "two")


@pytest.mark.parametrize("jobs,here", [(None, 950), (1, 950), (2, 475), (3, 475)])
def test_jobs_is_how_many_processes_check_the_records_two_at_most(corpus, tmp_path, monkeypatch, jobs, here):
    """`--jobs 1` keeps every record in this process, `--jobs 2` or more shares them with one helper; by default
    inputs as small as these stay in one process (test_inputs_large_together_use_two_cores_where_there_are_two)."""
    checked = checks_in_this_process(monkeypatch)
    validate_files(corpus, as_of=AS_OF, report_dir=tmp_path / "r", jobs=jobs)
    assert len(checked) == here


def as_reported(records) -> list[tuple]:
    """What a report can use of each record: where it is, its issues, and (for a record with issues) who it is."""
    return [
        (
            record.source,
            [(i.code, i.field, i.record, i.line) for i in record.issues],
            (record.data.get("provider_trainee_id"), record.data.get("hesa_id")) if record.issues else None,
            record.vintage,
        )
        for record in records
    ]


@pytest.mark.parametrize("shared", ["interleaved", "chunked"])
def test_parallel_records_are_the_serial_ones_record_by_record(corpus, long_extract, monkeypatch, shared):
    """`parallel_records` yields every record once, in input order, numbered as `Checker.records` numbers it, with
    its issues, and, where it has any, the trainee's identifiers (clean records are counted, not listed, in reports)."""
    inputs = corpus if shared == "interleaved" else [str(long_extract)]
    if shared == "chunked":
        monkeypatch.setattr(hesa_xml, "CHUNK_BYTES", 100_000)
        hold_the_parent_back(monkeypatch)
    with Checker(as_of=AS_OF) as checker:
        serial = as_reported(checker.records(inputs))
    with Checker(as_of=AS_OF) as checker:
        two = as_reported(parallel.parallel_records(checker, inputs))
    assert len(serial) == (950 if shared == "interleaved" else 1000)
    assert two == serial


def test_the_records_select_names_by_batch_index_are_the_ones_read_in_full():
    """`raw_records(select=...)` numbers records across the inputs, from 0 (the helper takes the odd ones): the
    readers read in full those it names, and give the others their place and no fields."""
    samples = os.path.join(os.path.dirname(__file__), "..", "..", "samples")
    paths = [os.path.join(samples, "extract.csv"), os.path.join(samples, "extract.xml")]
    with Checker(as_of=AS_OF) as checker:
        walk = checker.raw_records(paths, select=lambda index: index in (1, 13))
        read = [(raw.source.record, bool(raw.fields)) for _info, raw in walk]
    assert read == [(number, index in (1, 13)) for index, number in enumerate([*range(1, 13), *range(1, 13)])]


def test_small_inputs_stay_serial(corpus):
    assert not parallel.worth_parallel(corpus[:1])


def test_inputs_large_together_use_two_cores_where_there_are_two(tmp_path, monkeypatch):
    """The inputs' sizes add up (a folder of part files is as large as one file); one core, or a byte less than the
    threshold, stays serial. Only sizes, cores and threads are looked at (no other thread here, as in a CLI run)."""
    halves = [tmp_path / "a.xml", tmp_path / "b.xml"]
    for half in halves:
        with half.open("wb") as fh:
            fh.truncate(parallel.PARALLEL_MIN_BYTES // 2)
    short = tmp_path / "short.xml"
    with short.open("wb") as fh:
        fh.truncate(parallel.PARALLEL_MIN_BYTES - 1)
    monkeypatch.setattr(parallel, "threading", types.SimpleNamespace(active_count=lambda: 1))
    cores: set[int] = {0, 1}
    monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: cores)
    assert parallel.worth_parallel([str(h) for h in halves])
    assert parallel.worth_parallel([str(h) for h in halves] + [str(tmp_path / "gone.xml")])
    assert not parallel.worth_parallel([str(halves[0])])
    assert not parallel.worth_parallel([str(short)])
    cores = {0}
    assert not parallel.worth_parallel([str(h) for h in halves])


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="holds this process to one core (Linux)")
def test_a_process_held_to_one_core_stays_serial(tmp_path, monkeypatch):
    """`taskset -c 0 register-batch validate ...`, or a container given one CPU, has one core to use however many the
    machine has: the cores counted are the ones this process may run on (parallel mutants 295, 296)."""
    large = tmp_path / "large.xml"
    with large.open("wb") as fh:
        fh.truncate(parallel.PARALLEL_MIN_BYTES)  # only its size is looked at
    monkeypatch.setattr(parallel, "threading", types.SimpleNamespace(active_count=lambda: 1))
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, {min(allowed)})
        assert not parallel.worth_parallel([str(large)])
    finally:
        os.sched_setaffinity(0, allowed)
    if len(allowed) >= 2:
        assert parallel.worth_parallel([str(large)])


@pytest.mark.parametrize("cpu_count,two", [(2, True), (1, False), (None, False)])
def test_where_the_usable_cores_are_not_told_the_machines_count_decides(tmp_path, monkeypatch, cpu_count, two):
    """macOS has fork but no os.sched_getaffinity: there the machine's core count decides, and a count Python cannot
    tell (os.cpu_count() is None) is taken as one core (parallel mutants 159, 224, 298)."""
    large = tmp_path / "large.xml"
    with large.open("wb") as fh:
        fh.truncate(parallel.PARALLEL_MIN_BYTES)
    monkeypatch.setattr(parallel, "threading", types.SimpleNamespace(active_count=lambda: 1))
    monkeypatch.delattr(parallel.os, "sched_getaffinity")
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: cpu_count)
    assert parallel.worth_parallel([str(large)]) is two


# A single HESA XML file, divided into chunks.


@pytest.fixture(scope="module")
def long_extract(tmp_path_factory):
    """About 1,000 trainees with defects: over 65,535 lines, where libxml2 numbers lines its own way."""
    folder = tmp_path_factory.mktemp("long")
    xml = folder / "long.xml"
    generate(
        xml, count=1000, fmt="hesa-xml", defects=0.2, truth=folder / "t.json", seed=11, academic_cycle=2025, as_of=AS_OF
    )
    return xml


@pytest.fixture(scope="module")
def long_serial(long_extract, tmp_path_factory) -> Serial:
    """The long extract validated in one process, once for the module, before any test's monkeypatching."""
    return validated_serially([str(long_extract)], tmp_path_factory.mktemp("long-serial"))


def hold_the_parent_back(monkeypatch, seconds=1.0):
    """Delay the main process's first read, so that the helper checks most chunks (only it reads single chunks)."""
    real_read = hesa_xml._Leading.read
    waited = []

    def read(self, size=-1):
        if not waited:
            waited.append(time.sleep(seconds))
        return real_read(self, size)

    monkeypatch.setattr(hesa_xml._Leading, "read", read)


def serial_and_two(path, tmp_path):
    serial = validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "serial", jobs=1)
    two = validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    return serial, two


def two_processes(path, tmp_path) -> ValidationResult:
    """The two-process run of one input, its reports in tmp_path / "two" (the serial run is a module fixture)."""
    return validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)


def test_a_chunked_file_gives_the_serial_reports_line_numbers_included(
    long_extract, long_serial, small_chunks, tmp_path
):
    two = two_processes(long_extract, tmp_path)
    assert small_chunks and small_chunks[0] >= 20
    assert long_serial.result.report.summary == two.report.summary
    with open(long_serial.reports / "issues.csv", newline="", encoding="utf-8") as fh:
        lines = [int(row["line"]) for row in csv.DictReader(fh) if row["line"]]
    assert max(lines) > 65_535 and min(lines) < 65_535
    assert reports_equal(long_serial.reports, tmp_path / "two")


def test_issue_lines_are_the_lines_of_the_records_start_tags_past_65535_too(
    long_extract, long_serial, small_chunks, tmp_path
):
    """An issue about one degree names that degree's line instead, one of one as of several (a duplicate_degrees
    issue, its repeated degree's: review151 F5; review164 F2)."""
    two_processes(long_extract, tmp_path)
    lines = long_extract.read_text(encoding="utf-8").split("\n")
    starts = {number for number, text in enumerate(lines, start=1) if text.strip() == "<Student>"}
    degrees = {number for number, text in enumerate(lines, start=1) if text.strip() == "<PREVIOUSQUALIFICATION>"}
    for reports in (long_serial.reports, tmp_path / "two"):
        with open(reports / "issues.csv", newline="", encoding="utf-8") as fh:
            rows = [(row["code"], row["field"], int(row["line"])) for row in csv.DictReader(fh) if row["line"]]
        one = {(code, field) for code, field, _line in rows if field.startswith("degrees_attributes[")}
        one |= {(code, field) for code, field, _line in rows if code == "duplicate_degrees"}
        about_one = {line for code, field, line in rows if (code, field) in one}
        found = {line for code, field, line in rows if (code, field) not in one}  # degree_required: the Student's
        repeats = {line for code, _field, line in rows if code == "duplicate_degrees"}
        assert max(found) > 65_535 and found <= starts
        assert max(about_one) > 65_535 and about_one <= degrees
        assert repeats and repeats <= degrees


def test_crlf_and_one_line_layouts_chunk_exactly(long_extract, small_chunks, tmp_path):
    text = long_extract.read_bytes()
    crlf = tmp_path / "crlf.xml"
    crlf.write_bytes(text.replace(b"\n", b"\r\n"))
    one_line = tmp_path / "one_line.xml"
    one_line.write_bytes(b"".join(line.strip() for line in text.splitlines()))
    for path in (crlf, one_line):
        serial, two = serial_and_two(path, tmp_path / path.stem)
        assert serial.report.summary == two.report.summary
        assert reports_equal(tmp_path / path.stem / "serial", tmp_path / path.stem / "two")
    assert len(small_chunks) == 2


class Commented(NamedTuple):
    path: Path
    comment: range  # the bytes of the fake records inside it
    serial: Serial


@pytest.fixture(scope="module")
def commented_extract(long_extract, tmp_path_factory) -> Commented:
    """The long extract with a comment full of what look like record boundaries four fifths of the way in, and its
    one-process validation (once for the module, before any test's monkeypatching)."""
    text = long_extract.read_bytes()
    middle = text.index(b"<Student>", len(text) * 4 // 5)
    fake = b"</Student>\n    <Student><F_HUSID>9999999999999</F_HUSID></Student>\n    <Student>" * 4000
    folder = tmp_path_factory.mktemp("commented")
    commented = folder / "commented.xml"
    commented.write_bytes(text[:middle] + b"<!-- " + fake + b" -->\n    " + text[middle:])
    serial = validated_serially([str(commented)], folder / "serial")
    return Commented(commented, range(middle + 1, middle + len(fake)), serial)


@pytest.mark.parametrize("reader", ["parent", "helper"])
def test_boundaries_inside_a_comment_are_not_used(commented_extract, small_chunks, tmp_path, monkeypatch, reader):
    """A comment full of what look like record boundaries, across several chunk starts: records it holds are
    not records, whichever process meets them (the parent is held back so that the helper does)."""
    if reader == "helper":
        hold_the_parent_back(monkeypatch)
    commented, comment, serial = commented_extract
    chunks = find_chunks(str(commented), chunk_bytes=100_000)
    inside = [s for s in chunks.starts if s in comment]
    assert inside, "the test needs candidate boundaries inside the comment"
    two = two_processes(commented, tmp_path)
    assert small_chunks
    assert serial.result.report.summary == two.report.summary
    assert serial.result.report.summary.records == 1000
    assert reports_equal(serial.reports, tmp_path / "two")


def test_the_helpers_chunks_are_used_and_the_file_is_read_once(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch
):
    """A helper that checks its chunks to the end: its records are not checked here as well, and the file is not read
    again from its start (which a helper that stops makes this process do)."""
    checked = checks_in_this_process(monkeypatch)
    again = []
    real_rest = parallel._rest
    monkeypatch.setattr(parallel, "_rest", lambda *args: again.append(args) or real_rest(*args))
    hold_the_parent_back(monkeypatch)  # so that the helper claims chunks
    validate_files([str(long_extract)], as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    assert small_chunks
    assert not again
    assert 0 < len(checked) < long_serial.result.report.summary.records == 1000
    assert checked == list(range(1, len(checked) + 1))  # this process's records are the file's first ones
    assert reports_equal(long_serial.reports, tmp_path / "two")


def test_a_helper_that_stops_before_its_first_chunk_leaves_every_chunk_to_this_process(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch
):
    """The helper (forked, then gone before claiming a chunk) never claims one: this process claims each chunk in
    turn and reads the file to its end in one pass, not again from its start."""
    checked = checks_in_this_process(monkeypatch)
    monkeypatch.setattr(parallel, "newlines_before", lambda *args: os._exit(3))  # only the helper calls it
    again = []
    real_rest = parallel._rest
    monkeypatch.setattr(parallel, "_rest", lambda *args: again.append(args) or real_rest(*args))
    validate_files([str(long_extract)], as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    assert small_chunks
    assert not again
    assert checked == list(range(1, long_serial.result.report.summary.records + 1))
    assert reports_equal(long_serial.reports, tmp_path / "two")


@pytest.mark.parametrize("stop_after", [0, 1, 3])
def test_a_helper_that_stops_after_some_chunks_changes_nothing(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch, stop_after
):
    real_send = parallel._Outbox.send
    sent = []

    def send(self, message):
        if isinstance(message, tuple) and len(message) == 3:
            if len(sent) >= stop_after:
                os._exit(3)  # as if killed before reporting this chunk
            sent.append(message)
        real_send(self, message)

    monkeypatch.setattr(parallel._Outbox, "send", send)
    hold_the_parent_back(monkeypatch)  # so that the helper gets as far as being stopped
    two = two_processes(long_extract, tmp_path)
    assert small_chunks
    assert long_serial.result.report.summary == two.report.summary
    assert reports_equal(long_serial.reports, tmp_path / "two")


@pytest.mark.parametrize("helper", ["sends-it", "stops-before", "stuck-before"])
def test_a_chunked_files_hash_is_the_helpers_and_this_process_hashes_nothing(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch, helper
):
    """The input's sha256 (report.json's) of a chunked run is made by the helper once it has no chunk left, while
    this process merges its results: this process's reader hashes nothing, nor reads the helper's chunks again to
    hash them. A helper gone before sending it, or stuck, leaves it to this process (after DIGEST_WAIT)."""
    real_send = parallel._Outbox.send

    def send(self, message):
        if isinstance(message, str) and helper == "stops-before":
            os._exit(3)  # as if killed once its chunks were all reported
        if isinstance(message, str) and helper == "stuck-before":
            time.sleep(600)  # as if stopped (SIGSTOP): validate ends it on its way out
        real_send(self, message)

    monkeypatch.setattr(parallel, "DIGEST_WAIT", 0.5)

    monkeypatch.setattr(parallel._Outbox, "send", send)
    hashed = []
    real_read = HashingReader.read
    monkeypatch.setattr(HashingReader, "read", lambda self, size=-1: hashed.append(size) or real_read(self, size))
    hold_the_parent_back(monkeypatch)  # so that the helper claims chunks
    two = two_processes(long_extract, tmp_path)
    assert small_chunks
    assert hashed == []
    digest = hashlib.sha256(long_extract.read_bytes()).hexdigest()
    assert two.report.inputs[0].sha256 == long_serial.result.report.inputs[0].sha256 == digest
    assert reports_equal(long_serial.reports, tmp_path / "two")


@pytest.mark.parametrize("where", ["mid-chunk", "holding-the-lock"])
def test_a_helper_stopped_not_ended_is_taken_for_gone_and_changes_nothing(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch, where
):
    """review142 F1: a helper stopped (SIGSTOP, a debugger attached to it alone) in the middle of a chunk, or while it
    held the lock chunks are claimed under, kept validate waiting for ever. Once it has shown no sign of work for
    HELPER_SILENCE seconds, this process takes it for gone and checks its records itself: the serial reports."""
    parent = os.getpid()
    if where == "mid-chunk":
        real_check = Checker.check
        checked = []

        def check(self, info, raw):
            if os.getpid() != parent:
                checked.append(raw)
                if len(checked) == 30:  # past its first spooled batch of this chunk
                    os.kill(os.getpid(), signal.SIGSTOP)
            return real_check(self, info, raw)

        monkeypatch.setattr(Checker, "check", check)
        monkeypatch.setattr(parallel, "BATCH", 8)
    else:

        def helper(checker, path, chunks, claims, lock, conn):
            lock.acquire()
            os.kill(os.getpid(), signal.SIGSTOP)

        monkeypatch.setattr(parallel, "_chunk_helper", helper)
    monkeypatch.setattr(parallel, "HELPER_SILENCE", 1.0)
    monkeypatch.setattr(parallel, "SILENCE_STEP", 0.05)
    hold_the_parent_back(monkeypatch)  # so that the helper is stopped before this process needs it
    with time_limit(60):
        two = two_processes(long_extract, tmp_path)
    assert small_chunks
    assert long_serial.result.report.summary == two.report.summary
    assert reports_equal(long_serial.reports, tmp_path / "two")


def a_slow_helper(monkeypatch, *, each: float, silence: float, step: float, after=None) -> list:
    """A forked helper that takes `each` seconds over every record it checks and spools each (BATCH 1), and a parent
    that takes it for gone after `silence` seconds without a sign of work; `after(count)` runs in the helper after its
    count-th record. Returns the parent's readings of the input again (`_rest`), none while the helper is waited for."""
    parent = os.getpid()
    real_check = Checker.check
    checked = []

    def check(self, info, raw):
        if os.getpid() != parent:
            checked.append(raw)
            time.sleep(each)
            if after is not None:
                after(len(checked))
        return real_check(self, info, raw)

    monkeypatch.setattr(Checker, "check", check)
    monkeypatch.setattr(parallel, "BATCH", 1)
    monkeypatch.setattr(parallel, "HELPER_SILENCE", silence)
    monkeypatch.setattr(parallel, "SILENCE_STEP", step)
    again = []
    real_rest = parallel._rest
    monkeypatch.setattr(parallel, "_rest", lambda *args: again.append(args) or real_rest(*args))
    return again


def test_a_helper_that_shows_work_is_waited_for_however_long_a_chunk_takes(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch
):
    """A helper slower over a chunk than HELPER_SILENCE, but spooling batch after batch, is not taken for gone: its
    chunk is used, and no record is checked again here."""
    # a chunk of some 30 records takes 3 s; a batch of one is spooled every 0.1 s
    again = a_slow_helper(monkeypatch, each=0.1, silence=0.5, step=0.02)
    with time_limit(120):
        two = two_processes(long_extract, tmp_path)
    assert small_chunks
    assert again == []
    assert long_serial.result.report.summary == two.report.summary
    assert reports_equal(long_serial.reports, tmp_path / "two")


def test_a_stop_of_the_whole_run_is_not_the_helpers_silence(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch
):
    """review143 F2: the run stopped as a whole for longer than HELPER_SILENCE (Ctrl-Z then `fg`, a frozen container)
    while this process waited for the helper: once resumed, the helper was taken for gone at once, and its chunks were
    checked again here. Only the time this process itself spent waiting counts."""
    parent = os.getpid()

    def stop_both(count):
        if count == 15:  # both stopped for 2.5 s, then both go on
            subprocess.Popen(["sh", "-c", f"sleep 2.5; kill -CONT {parent} {os.getpid()}"])
            os.kill(parent, signal.SIGSTOP)
            os.kill(os.getpid(), signal.SIGSTOP)

    # a chunk of some 30 records takes 6 s: this process waits for it
    again = a_slow_helper(monkeypatch, each=0.2, silence=1.0, step=0.05, after=stop_both)
    with time_limit(120):
        two_processes(long_extract, tmp_path)
    assert small_chunks
    assert again == []
    assert reports_equal(long_serial.reports, tmp_path / "two")


def test_a_helper_that_stops_keeps_the_sources_the_parents_records_showed(
    long_extract, small_chunks, tmp_path, monkeypatch
):
    """Only the file's first record has the tag a user's map names: once the helper stops, the input is read again
    past the records already yielded, and what they showed must not be forgotten (no mapped_source_missing)."""
    text = long_extract.read_text(encoding="utf-8")
    first = text.index("<Student>") + len("<Student>")
    xml = tmp_path / "rare-tag.xml"
    xml.write_text(text[:first] + "<F_OURNIN>AB123456C</F_OURNIN>" + text[first:], encoding="utf-8")
    ours = tmp_path / "ours.yaml"
    ours.write_text("fields:\n  hesa:\n    trainee:\n      ni_number: F_OURNIN\n")
    real_send = parallel._Outbox.send

    def send(self, message):
        if isinstance(message, tuple) and len(message) == 3:
            os._exit(3)  # as if killed before reporting its first chunk
        real_send(self, message)

    monkeypatch.setattr(parallel._Outbox, "send", send)
    for jobs in (1, 2):
        validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / str(jobs), mapping_files=(ours,), jobs=jobs)
    assert small_chunks
    assert reports_equal(tmp_path / "1", tmp_path / "2")
    issues = json.loads((tmp_path / "2" / "report.json").read_text())["issues"]
    assert not [i for i in issues if i["code"] == "mapped_source_missing"]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda text: text[: len(text) * 3 // 4], id="truncated"),
        pytest.param(lambda text: text.replace(b"</F_FNAMES>", b"</F_FNAME>", 900)[: len(text)], id="bad-end-tag-late"),
        pytest.param(lambda text: text.replace(b"</F_FNAMES>", b"</F_FNAME>", 100), id="bad-end-tag-early"),
    ],
)
def test_a_damaged_file_fails_as_it_does_serially(long_extract, small_chunks, tmp_path, damage):
    text = long_extract.read_bytes()
    damaged = tmp_path / "damaged.xml"
    damaged.write_bytes(damage(text))
    failures = []
    for jobs in (1, 2):
        with pytest.raises(UnusableInput) as caught:
            validate_files([str(damaged)], as_of=AS_OF, report_dir=tmp_path / f"r{jobs}", jobs=jobs)
        failures.append(str(caught.value))
    assert failures[0] == failures[1]
    assert small_chunks


def test_a_student_of_2_mb_is_refused_as_it_is_serially_whichever_process_reads_it(tmp_path, small_chunks, monkeypatch):
    """review112 F5: a Student the one-process run refused as "more than 2 MB of XML without a complete <Student>" was
    validated by two, the helper's read of its chunk counting it from the chunk's start (tests/xml_reads.py)."""
    text, chunk = long_title_extract()
    path = tmp_path / "long-title.xml"
    path.write_bytes(text)
    assert find_chunks(str(path), chunk_bytes=100_000).starts == (chunk,)
    hold_the_parent_back(monkeypatch, 0.3)  # so that the helper reads the chunk of the long Student
    failures = []
    for jobs in (1, 2):
        with pytest.raises(UnusableInput) as caught:
            validate_files([str(path)], as_of=AS_OF, report_dir=tmp_path / f"r{jobs}", jobs=jobs)
        failures.append(str(caught.value))
    assert failures[0] == failures[1] and "record 3, line 4: the <Student> starting on line 4" in failures[0]
    assert "runs past 2 MB" in failures[0]
    assert small_chunks == [2]


@pytest.mark.parametrize(
    "lead",
    [
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- a comment -->\n<ITTRecord>\n',
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE ITTRecord>\n<ITTRecord>\n',
        b'<?xml version="1.0" encoding="Shift_JIS"?>\n<ITTRecord>\n',
        b'<?xml version="1.0"?>\n<ITTRecord>\n<Provider>\n',
    ],
    ids=["comment", "doctype", "multibyte-encoding", "nested"],
)
def test_only_plain_files_are_chunked(tmp_path, lead):
    record = b"<Student><F_HUSID>2601141661279</F_HUSID></Student>\n"
    path = tmp_path / "x.xml"
    path.write_bytes(lead + record * 20_000 + (b"</Provider>" if b"Provider" in lead else b"") + b"</ITTRecord>\n")
    assert find_chunks(str(path), chunk_bytes=100_000) is None
    apart = tmp_path / "apart.xml"  # no Student follows another closely: no boundary to cut at
    apart.write_bytes(b"<ITTRecord>" + record.replace(b"\n", b"<!-- next -->") * 20_000 + b"</ITTRecord>")
    assert find_chunks(str(apart), chunk_bytes=100_000) is None
    plain = tmp_path / "plain.xml"
    plain.write_bytes(b'<?xml version="1.0"?>\n<ITTRecord>\n' + record * 20_000 + b"</ITTRecord>\n")
    chunks = find_chunks(str(plain), chunk_bytes=100_000)
    assert chunks is not None and len(chunks) > 5
    assert all(plain.read_bytes()[s : s + 9] == b"<Student>" for s in chunks.starts)


@pytest.mark.parametrize("failing", ["spool", "fork"])
def test_no_helper_to_be_had_means_a_serial_run(
    long_extract, long_serial, corpus, corpus_serial, tmp_path, monkeypatch, failing
):
    """No room for the helper's spool, or a process limit: the run goes on in one process, same reports."""

    def refuse(*args, **kwargs):
        raise OSError(28 if failing == "spool" else 11, "refused")

    if failing == "spool":
        monkeypatch.setattr(parallel, "tempfile", types.SimpleNamespace(TemporaryFile=refuse))
    else:
        monkeypatch.setattr(multiprocessing.get_context("fork").Process, "start", refuse)
    for name, inputs, serial in (("one", [str(long_extract)], long_serial), ("several", corpus, corpus_serial)):
        two = validate_files(inputs, as_of=AS_OF, report_dir=tmp_path / name / "two", jobs=2)
        assert serial.result.report.summary == two.report.summary
        assert reports_equal(serial.reports, tmp_path / name / "two")


def test_a_boundary_split_across_reads_is_found(tmp_path):
    """The byte search reads 64 KB at a time; a boundary across two reads is found where it is."""
    filler = b"<Student><F_FNAMES>" + b"x" * (200_000 - 40) + b"</F_FNAMES>"
    for offset in (65_536 - 12, 65_536 - 5, 65_536 + 3):
        path = tmp_path / f"split-{offset}.xml"
        body = filler + b"</Student>" + b" " * 40 + b"<Student><F_HUSID>1</F_HUSID></Student>"
        path.write_bytes(b"<ITTRecord>" + body * 4 + b"</ITTRecord>")
        with path.open("rb") as fh:
            data = fh.read()
            start = data.index(b"</Student>") - offset
            found = hesa_xml._next_boundary(fh, start)
        assert found == data.index(b"<Student><F_HUSID>")


def test_a_spool_that_cannot_be_read_back_changes_nothing(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch
):
    real_read = parallel._Helped.read
    reads = []

    def read(self, start, size):
        reads.append(start)
        if len(reads) == 3:
            raise OSError(5, "Input/output error")
        return real_read(self, start, size)

    monkeypatch.setattr(parallel._Helped, "read", read)
    hold_the_parent_back(monkeypatch)
    two = two_processes(long_extract, tmp_path)
    assert len(reads) >= 3, "the test needs the helper to have spooled at least three batches"
    assert long_serial.result.report.summary == two.report.summary
    assert reports_equal(long_serial.reports, tmp_path / "two")


@pytest.mark.parametrize("kept", [1, 0], ids=["one-record-has-f-enddate", "none-has"])
def test_a_layouts_own_sources_seen_by_the_helper_count_as_by_the_parent(
    small_chunks, tmp_path, tmp_path_factory, monkeypatch, kept
):
    """A user's file maps itt_end_date to its own tag and keeps C21053's sources for it: in a C21053 file without
    the tag, the field is blank only if no record has F_ENDDATE. With it in the last record only (most likely the
    helper's chunk), two processes must find what one does; without it anywhere, both warn alike."""
    xml = tmp_path_factory.mktemp("c21053") / "c21053.xml"
    generate(xml, count=1000, fmt="hesa-xml", vintage="C21053", seed=12, academic_cycle=2025, as_of=AS_OF)
    text = xml.read_text(encoding="utf-8")
    last = text.rindex("<Student>")
    head = re.sub(r"\s*<F_ENDDATE>[^<]*</F_ENDDATE>", "", text[:last])
    tail = text[last:] if kept else re.sub(r"\s*<F_ENDDATE>[^<]*</F_ENDDATE>", "", text[last:])
    xml.write_text(head + tail, encoding="utf-8")
    ours = tmp_path / "ours.yaml"
    ours.write_text(
        "fields:\n  hesa:\n    trainee:\n      itt_end_date: F_OURENDDATE\n"
        "    vintages:\n      C21053:\n        trainee:\n          itt_end_date: [F_EXPECTEDENDDATE, F_ENDDATE]\n"
    )
    hold_the_parent_back(monkeypatch)
    for jobs in (1, 2):
        validate_files([str(xml)], as_of=AS_OF, report_dir=tmp_path / str(jobs), mapping_files=(ours,), jobs=jobs)
    assert small_chunks
    assert reports_equal(tmp_path / "1", tmp_path / "2")
    issues = json.loads((tmp_path / "2" / "report.json").read_text())["issues"]
    missing = [i["message"] for i in issues if i["code"] == "mapped_source_missing"]
    assert missing == (
        []
        if kept
        else [
            f"{ours}:4 maps fields.hesa.trainee.itt_end_date to F_OURENDDATE, which no "
            "record of this input has, nor F_EXPECTEDENDDATE or F_ENDDATE, which its C21053 records read instead: the "
            "field is blank in every record (a misspelt tag or column?)"
        ]
    )


def test_a_process_with_other_threads_is_not_forked_unasked(tmp_path):
    """fork copies only the calling thread: a lock another thread holds (logging's, a vendor's web server's, the
    emulator's) stays held in the helper for ever, and Python 3.12 warns of it. A large input validated while
    another thread ran was forked for all that."""
    large = tmp_path / "large.xml"
    with large.open("wb") as fh:
        fh.truncate(parallel.PARALLEL_MIN_BYTES)  # only its size is looked at
    running, stop = threading.Event(), threading.Event()
    other = threading.Thread(target=lambda: (running.set(), stop.wait()))
    other.start()
    try:
        running.wait()
        assert not parallel.worth_parallel([str(large)])
    finally:
        stop.set()
        other.join()


# A library caller showing progress on a terminal (a StringIO that says it is one): the inputs it validates count as
# large. It prints the threads each fork found running, and whether the bars were drawn.
SHOWING_BARS = """
import io, json, os, sys, threading
from datetime import date

from register_batch.jobs import validate_files
from register_batch.progress import Progress
from register_batch.validation import parallel


class Terminal(io.StringIO):
    def isatty(self):
        return True


parallel.PARALLEL_MIN_BYTES = 1
threads_at_fork = []
os.register_at_fork(before=lambda: threads_at_fork.append(sorted(t.name for t in threading.enumerate())))
terminal = Terminal()
with Progress(stream=terminal) as progress:
    validate_files(json.loads(sys.argv[1]), as_of=date(2026, 11, 28), report_dir=sys.argv[2], progress=progress)
print(json.dumps({"threads_at_fork": threads_at_fork, "drawn": "Validating" in terminal.getvalue()}))
"""


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@pytest.mark.skipif(not parallel.can_fork() or _cores() < 2, reason="two processes need fork and two cores")
def test_a_library_caller_showing_bars_has_the_second_core_and_forks_no_thread_of_them(corpus, corpus_serial, tmp_path):
    """rich's thread redrawing the bars counted among a process's other threads: a library caller showing progress
    never had a second process for a large input (the command line decides before its bars begin, and then forked
    with that thread running). The bars' own thread is not counted now, and it is paused while the helper is forked,
    so the fork finds the calling thread alone, as with no progress."""
    done = subprocess.run(
        [sys.executable, "-c", SHOWING_BARS, json.dumps(corpus), str(tmp_path / "shown")],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"threads_at_fork": [["MainThread"]], "drawn": True}
    assert reports_equal(corpus_serial.reports, tmp_path / "shown")


def _validated_in_a_pool_worker(inputs: list[str], report_dir: str) -> tuple[str, object]:
    try:
        return "done", validate_files(inputs, as_of=AS_OF, report_dir=report_dir, jobs=2).report.summary
    except Exception as exc:  # handed back as it is, not as the pool's own failure
        return "raised", repr(exc)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork on this platform")
def test_a_multiprocessing_pools_worker_validates_in_its_own_process(corpus, corpus_serial, tmp_path):
    """A multiprocessing.Pool's workers (Celery's too) are daemonic, and multiprocessing lets them start no child:
    asked for two processes, or given an input large enough for them, such a worker raised AssertionError."""
    with multiprocessing.get_context("fork").Pool(1) as pool:
        outcome = pool.apply(_validated_in_a_pool_worker, (corpus, str(tmp_path / "pooled")))
    assert outcome == ("done", corpus_serial.result.report.summary)
    assert reports_equal(corpus_serial.reports, tmp_path / "pooled")


def helpers(monkeypatch) -> list[tuple[int, multiprocessing.process.BaseProcess]]:
    """The helpers forked: each one's process id (its Process, closed once it has ended, no longer says it) and
    Process."""
    forked = []
    real = parallel._start

    def start(*args):
        helped = real(*args)
        if helped is not None:
            forked.append((helped.process.pid, helped.process))
        return helped

    monkeypatch.setattr(parallel, "_start", start)
    return forked


def gone(pid: int) -> bool:
    """Whether the child process `pid` has ended and been waited for (a zombie, or one still running, is left)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        return True
    return False


@pytest.mark.parametrize("shared", ["interleaved", "chunked", "chunked-helper-stuck"])
def test_no_helper_process_is_left_behind(
    corpus, corpus_serial, long_extract, long_serial, small_chunks, tmp_path, monkeypatch, shared
):
    """Once validate returns, its helper has ended and been waited for: also one still at work (here stuck before its
    first chunk) when this process has read the whole file itself."""
    inputs, serial = (corpus, corpus_serial) if shared == "interleaved" else ([str(long_extract)], long_serial)
    if shared == "chunked-helper-stuck":
        monkeypatch.setattr(parallel, "newlines_before", lambda *args: time.sleep(600))  # only the helper calls it
    forked = helpers(monkeypatch)
    two = validate_files(inputs, as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    assert serial.result.report.summary == two.report.summary
    assert reports_equal(serial.reports, tmp_path / "two")
    assert len(forked) == 1 and gone(forked[0][0])


def checks_in_either_process(monkeypatch, log) -> None:
    """Logs each record mapped and validated, by either process (the forked helper appends to the same file)."""
    real = Checker.check

    def check(self, info, raw):
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        try:
            os.write(fd, f"{os.getpid()} {raw.source.input} {raw.source.line}\n".encode())
        finally:
            os.close(fd)
        return real(self, info, raw)

    monkeypatch.setattr(Checker, "check", check)


@pytest.mark.parametrize("shared", ["interleaved", "chunked"])
def test_each_record_is_checked_once_by_one_of_the_two_processes(
    corpus, long_extract, small_chunks, tmp_path, monkeypatch, shared
):
    """The work is shared, not done twice: every record is mapped and validated by this process or by the helper,
    never by both, and each does some."""
    inputs = corpus if shared == "interleaved" else [str(long_extract)]
    if shared == "chunked":
        hold_the_parent_back(monkeypatch)  # so that the helper claims chunks
    log = tmp_path / "checked.txt"
    checks_in_either_process(monkeypatch, log)
    two = validate_files(inputs, as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    checked = [line.split(" ", 1) for line in log.read_text().splitlines()]
    assert sorted(record for _pid, record in checked) == sorted({record for _pid, record in checked})
    assert len(checked) == two.report.summary.records == (950 if shared == "interleaved" else 1000)
    assert len({pid for pid, _record in checked}) == 2


def test_a_chunk_of_more_records_than_a_spooled_batch_comes_back_whole(
    long_extract, long_serial, small_chunks, tmp_path, monkeypatch
):
    """A chunk of the default size holds over a thousand records, which the helper spools in batches: every record of
    every batch comes back, once. (Here the 100 KB chunks hold about 30 records, and a batch 8.)"""
    monkeypatch.setattr(parallel, "BATCH", 8)
    hold_the_parent_back(monkeypatch)  # so that the helper checks most chunks
    log = tmp_path / "checked.txt"
    checks_in_either_process(monkeypatch, log)
    two = two_processes(long_extract, tmp_path)
    helpers = {line.split(" ", 1)[0] for line in log.read_text().splitlines()} - {str(os.getpid())}
    assert len(helpers) == 1
    assert long_serial.result.report.summary == two.report.summary
    assert reports_equal(long_serial.reports, tmp_path / "two")


def test_the_helper_stops_by_itself_once_no_chunk_is_left(long_extract, small_chunks, tmp_path, monkeypatch):
    """When the two processes meet, the helper has checked its last chunk and ends by itself: it does not go on to
    the chunks this process checked, which would be a core kept busy for nothing until the run ends."""
    hold_the_parent_back(monkeypatch)  # so that the helper claims chunks
    log = tmp_path / "checked.txt"
    checks_in_either_process(monkeypatch, log)
    forked = helpers(monkeypatch)
    with Checker(as_of=AS_OF) as checker:
        records = parallel.parallel_records(checker, [str(long_extract)])
        assert len([next(records) for _ in range(1000)]) == 1000  # all of them, the helper not yet ended from here
        [(_pid, helper)] = forked
        helper.join(60)  # a bound only a helper that never stops reaches
        assert helper.exitcode == 0
        assert next(records, None) is None
    checked = log.read_text().splitlines()
    assert len(checked) == 1000 and len({line.split(" ", 1)[0] for line in checked}) == 2


def test_a_chunked_file_rewritten_while_it_is_read_is_refused(long_extract, small_chunks, tmp_path):
    """The next export copied over the file part-way: the parent's part is refused as changed, and was then read
    again whole from where it stood, giving the first records of one export and the rest of the other (review31 F4)."""
    old = long_extract.read_bytes()
    new = old.replace(b"<F_SURNAME>", b"<F_SURNAME>X", 1)
    first_name = new.index(b"<F_FNAMES>") + len(b"<F_FNAMES>")
    new = new[:first_name] + new[first_name + 1 :]  # the same size: one letter moved from a first name to a surname
    assert len(new) == len(old) and new != old
    path = written_earlier(tmp_path / "extract.xml", old)
    read = 0
    with Checker(as_of=AS_OF) as checker, pytest.raises(UnusableInput) as caught:
        for _record in parallel.parallel_records(checker, [str(path)]):
            read += 1
            if read == 100:
                copied_over(path, new)
    assert str(caught.value) == f"{path}: the file changed while it was being read; run again once it is complete"
    assert small_chunks


_FREEZE_PROBE: list[Path] = []  # where a forked process writes how many objects it was forked with frozen


def _probe_freeze() -> None:
    if _FREEZE_PROBE:
        import gc

        _FREEZE_PROBE[0].write_text(str(gc.get_freeze_count()))


os.register_at_fork(after_in_child=_probe_freeze)


def test_the_helper_is_forked_with_the_objects_frozen_and_the_caller_left_as_it_was(corpus, tmp_path):
    """review128 F1: the helper's garbage collections wrote to the headers of every object it was forked with, so
    page after page shared with the main process was copied, and the two processes' memory grew with the file
    (1.24x from 10k to 100k trainees; 1.10x frozen: benchmarks/RESULTS.md). The caller's own freeze is its own."""
    import gc

    seen = tmp_path / "frozen-in-helper"
    _FREEZE_PROBE[:] = [seen]
    try:
        validate_files(corpus[:2], as_of=AS_OF, report_dir=tmp_path / "one", jobs=2)
    finally:
        _FREEZE_PROBE.clear()
    assert int(seen.read_text()) > 1000
    assert gc.get_freeze_count() == 0
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        validate_files(corpus[:2], as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
        # Kept, not thawed (an unfreeze leaves none frozen): a few frozen objects the run let go of (a cache's entry
        # made by a test before, replaced) count no more, so not `>= frozen` (a CI run saw 255,013 of 256,214).
        assert gc.get_freeze_count() > frozen // 2
    finally:
        gc.unfreeze()


def test_a_chunked_runs_count_includes_the_records_its_helper_has_checked(long_extract, monkeypatch, tmp_path):
    """review184 F4: the helper checks the file's last chunks, which the parent merges last; counted only as they
    were yielded, the count showed about half the records for most of a two-process run, then jumped to all of them.
    The helper's records count as it checks them: while the parent (slowed here) still checks its own, the count is
    ahead of the records it has yielded, and it still ends on every record once."""
    import io

    from register_batch.progress import Progress

    parent = os.getpid()
    real_check = Checker.check

    def check(self, info, raw):
        if os.getpid() == parent:
            time.sleep(0.002)
        return real_check(self, info, raw)

    monkeypatch.setattr(Checker, "check", check)
    monkeypatch.setattr(hesa_xml, "CHUNK_BYTES", 100_000)
    monkeypatch.setattr(parallel, "POLL_EVERY", 32)
    stream = io.StringIO()
    with Progress(stream=stream, interval=0, force_terminal=False) as progress:
        validate_files([str(long_extract)], as_of=AS_OF, report_dir=tmp_path / "r", jobs=2, progress=progress)
    counts = [int(m.group(1)) for m in re.finditer(r"Validating: (\d+) records", stream.getvalue())]
    assert counts == sorted(set(counts)) and counts[-1] == 1000, counts
    # Each line is one record yielded; the first whose count is more than the records yielded so far
    ahead = next((yielded for yielded, count in enumerate(counts, start=1) if count > yielded), None)
    assert ahead is not None and ahead < 400, counts[:100]
