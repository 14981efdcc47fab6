"""Two-process validation gives exactly the serial results, even when the helper process stops part-way."""

from __future__ import annotations

import filecmp
import os
from datetime import date

import pytest

from register_batch.generate import generate
from register_batch.jobs import validate_files
from register_batch.validation import parallel

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
    return [str(xml), str(csv), str(xml)]  # the XML twice: every record has a duplicate across the processes


def reports_equal(left, right) -> bool:
    names = ["report.json", "issues.csv", "report.html"]
    match, _mismatch, _errors = filecmp.cmpfiles(left, right, names, shallow=False)
    return match == names


def test_two_processes_write_the_same_reports_as_one(corpus, tmp_path):
    serial = validate_files(corpus, as_of=AS_OF, report_dir=tmp_path / "serial", jobs=1)
    two = validate_files(corpus, as_of=AS_OF, report_dir=tmp_path / "two", jobs=2)
    assert serial.report.summary == two.report.summary
    assert serial.report.summary.errors > 0
    assert reports_equal(tmp_path / "serial", tmp_path / "two")


def test_a_helper_that_stops_part_way_changes_nothing(corpus, tmp_path, monkeypatch):
    real = parallel._helper

    def stops_early(checker, paths, conn):
        conn_send = conn.send
        sent = []

        def send(batch):
            if batch is not None:
                sent.append(len(batch))
            if len(sent) > 1:
                os._exit(3)  # as if killed after two batches
            conn_send(batch)

        conn.send = send
        real(checker, paths, conn)

    monkeypatch.setattr(parallel, "BATCH", 16)
    monkeypatch.setattr(parallel, "_helper", stops_early)
    serial = validate_files(corpus, as_of=AS_OF, report_dir=tmp_path / "serial", jobs=1)
    helped = validate_files(corpus, as_of=AS_OF, report_dir=tmp_path / "helped", jobs=2)
    assert serial.report.summary == helped.report.summary
    assert reports_equal(tmp_path / "serial", tmp_path / "helped")


def test_small_inputs_stay_serial(corpus):
    assert not parallel.worth_parallel(corpus[:1])
