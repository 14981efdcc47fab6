"""A report is a set of files (report.json, issues.csv, report.html, junit.xml): put in place together or not at all."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from report_builders import RUN_TIME

from cli_runs import files_limited_to, run_cli
from trainee_extracts import extract, trainee, write_extract


def test_a_report_the_disk_cannot_hold_whole_leaves_the_previous_one_whole(tmp_path):
    """A full disk half-way through the reports left the new report.json and issues.csv beside the previous run's
    report.html in a reused --report-dir, so the page people open disagreed with the files next to it."""
    validate = [sys.executable, "-m", "register_batch", "-q", "validate", "--report-dir", "reports", "--junit"]
    first = subprocess.run([*validate, str(extract(tmp_path / "good.csv", 5))], cwd=tmp_path, capture_output=True)
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in (tmp_path / "reports").iterdir()}
    assert sorted(before) == ["issues.csv", "junit.xml", "report.html", "report.json"]

    rows = [trainee(n) for n in range(1, 6)]
    rows[0]["sex"] = "M"  # one issue: this run's report.json and issues.csv differ from the first run's
    second_input = write_extract(tmp_path / "bad.csv", rows)
    largest_but_the_page = max(len(data) for name, data in before.items() if name != "report.html")
    limit = largest_but_the_page + 4_000  # room for each file of the new report but its page (about 24 KB)
    assert limit < len(before["report.html"])
    done = subprocess.run(
        [*validate, str(second_input)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "TMPDIR": str(tmp_path)},
        preexec_fn=files_limited_to(limit),
    )
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert "report.html" in line and "File too large" in line, line
    after = {p.name: p.read_bytes() for p in (tmp_path / "reports").iterdir()}
    assert after == before  # not one file of the new report in place, no temporary file left


def test_a_sync_reports_records_made_as_they_are_read_give_the_same_files_as_a_list_of_them(
    make_sync_builder, tmp_path, monkeypatch
):
    """`sync` gives its records to the reports as `Rows`, made as each report reads them, rather than a list of a
    row per record; report.json (written by pieces then) and report.html must not change by a byte for it. The
    page's table is cut to fewer records than there are, and then to none, so that the choice of rows is compared
    too."""
    from register_batch import reports
    from register_batch.reports import Rows

    for limit in (reports.HTML_ISSUE_LIMIT, 7, 0):
        monkeypatch.setattr(reports, "HTML_ISSUE_LIMIT", limit)
        written = {}
        for kind in ("list", "rows"):
            builder = make_sync_builder()
            builder.started = builder.ended = RUN_TIME  # two builders, made a moment apart: the same run's times
            listed = builder.extra["records"]
            assert len(listed) > 7
            if kind == "rows":
                copies = [dict(row) for row in listed]
                builder.extra["records"] = Rows(range(len(copies)), copies.__getitem__)
            builder.write(tmp_path / f"{kind}-{limit}")
            written[kind] = {p.name: p.read_bytes() for p in (tmp_path / f"{kind}-{limit}").iterdir()}
        assert written["rows"] == written["list"], limit
        assert set(written["rows"]) == {"report.json", "issues.csv", "report.html"}


def test_report_json_writes_rows_in_batches_as_json_dumps_lays_out_the_whole_list():
    """report.json's head with a `Rows` value is written a batch of rows at a time: the same text as json.dumps of
    the whole head, whatever the number of rows (none, one, a batch and one more)."""
    import json

    from register_batch.reports import Rows
    from register_batch.reports.json_report import ROWS_AT_ONCE, head_text

    rows = [{"n": n, "é": ["a\nb", {"c": None, "d": []}], "e": {}} for n in range(2 * ROWS_AT_ONCE + 1)]
    for count in (0, 1, ROWS_AT_ONCE - 1, ROWS_AT_ONCE, ROWS_AT_ONCE + 1, len(rows)):
        head = {"sync": {"dry_run": True, "actions": {}}, "records": rows[:count], "not_in_extract": []}
        streamed = "".join(head_text({**head, "records": Rows(rows[:count], dict)}))
        assert streamed == json.dumps(head, ensure_ascii=False, indent=1)[:-2], count


def test_a_disk_that_fails_to_sync_the_report_names_a_file_of_it_and_leaves_the_previous_one_whole(
    tmp_path, monkeypatch
):
    """A full disk or quota can show only when the files are synced to disk (NFS, a quota counted on commit), after
    every write was taken: that too is one line naming a file of the report, not a traceback, and no file of the new
    report is put in place."""
    import errno
    from datetime import date

    import pytest

    from register_batch.errors import UnwritableOutput
    from register_batch.model import API_VERSION
    from register_batch.reports import ReportBuilder

    def report(folder):
        builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
        builder.finish([])
        try:
            return builder.write(folder)
        finally:
            builder.close()

    folder = tmp_path / "reports"
    report(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}

    def full(fd):
        raise OSError(errno.EDQUOT, "Disk quota exceeded")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(UnwritableOutput) as caught:
        report(folder)
    assert caught.value.problem == "Disk quota exceeded"
    assert os.path.dirname(caught.value.path) == str(folder) and os.path.basename(caught.value.path) in before
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before


def test_rows_read_as_the_list_they_stand_for():
    """`Rows(items, row)` is `[row(item) for item in items]` to whoever reads it: by position, by slice, in turn."""
    from register_batch.reports import Rows

    items = ["a", "b", "c", "d"]
    listed = [{"item": item, "place": place} for place, item in enumerate(items)]
    rows = Rows(range(len(items)), listed.__getitem__)
    assert len(rows) == 4 and list(rows) == listed
    assert rows[0] == listed[0] and rows[-1] == listed[-1]
    assert rows[1:3] == listed[1:3] and rows[::-2] == listed[::-2]


def test_report_json_makes_its_rows_a_batch_at_a_time_never_all_of_them_first():
    """A sync's records are made as report.json reads them, a batch at a time: by the time the first batch is
    written, no more rows than that one batch have been made (a large sync never has every row in memory)."""
    from register_batch.reports import Rows
    from register_batch.reports.json_report import ROWS_AT_ONCE, head_text

    made = []

    def row(n: int) -> dict[str, int]:
        made.append(n)
        return {"n": n}

    for piece in head_text({"records": Rows(range(5_000), row)}):
        if piece.startswith("["):  # the first batch of rows
            break
    assert made == list(range(ROWS_AT_ONCE)) and 0 < ROWS_AT_ONCE < 5_000


def test_a_report_still_collecting_issues_is_not_pickled_without_them(tmp_path):
    """Its issues are in its spools until it is closed: pickled then, the copy would have lost them unsaid."""
    import pickle
    from datetime import date

    import pytest

    from register_batch.reports import ReportBuilder

    builder = ReportBuilder(api_version="v2026.1", as_of=date(2026, 11, 28))
    with pytest.raises(TypeError, match="still collecting issues"):
        pickle.dumps(builder)
    builder.write(tmp_path / "reports")
    builder.close()
    assert pickle.loads(pickle.dumps(builder)).summary == builder.summary


def test_issues_added_after_the_spools_were_read_part_way_are_all_reported(tmp_path):
    """sync reads the issues (`errors_named`, for results.csv) before a caller may add more: a read stopped part-way
    left a spool's position where its read-ahead stopped, mid-file once the spool is larger than one read, where the
    next issue was written over the ones after it."""
    import csv
    from datetime import date

    from register_batch.model import API_VERSION, Issue, Severity, SourceRef, TraineeRecord
    from register_batch.reports import ReportBuilder

    def issue(number: int, code: str) -> Issue:
        return Issue(
            code=code,
            field="sex",
            value="7",
            severity=Severity.ERROR,
            message=f"{code} of {number}",
            input="in.csv",
            record=number,
            line=number + 1,
        )

    records = 600  # a spool of some 150 KB: more than one read-ahead of 8 KB
    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    for number in range(1, records + 1):
        record = TraineeRecord(source=SourceRef(input="in.csv", record=number, line=number + 1), data={})
        record.issue("invalid_code", f"invalid_code of {number}", field="sex", value="7", severity=Severity.ERROR)
        builder.add_record(record)
    half = records // 2
    builder.add_batch_issues([(n - 1, issue(n, "early")) for n in range(1, half + 1)])
    read = builder.issues()
    assert next(read)["message"] == "invalid_code of 1"  # read part-way, then given up
    read.close()
    builder.add_batch_issues([(n - 1, issue(n, "late")) for n in range(half + 1, records + 1)])
    named = builder.errors_named()
    assert len(named) == records
    assert named[0] == ["invalid_code (sex)", "early (sex)"] and named[records - 1] == [
        "invalid_code (sex)",
        "late (sex)",
    ]
    builder.finish([])
    paths = builder.write(tmp_path / "r")
    builder.close()
    with paths["csv"].open(newline="", encoding="utf-8-sig") as fh:
        messages = [row["message"] for row in csv.DictReader(fh)]
    assert sorted(messages) == sorted(
        [f"invalid_code of {n}" for n in range(1, records + 1)]
        + [f"{'early' if n <= half else 'late'} of {n}" for n in range(1, records + 1)]
    )


def test_a_reused_report_folder_keeps_no_file_of_an_earlier_run_beside_this_ones(tmp_path):
    """A validate without --junit after one with it, or after a sync, left the earlier junit.xml, results.csv and
    not_in_extract.csv beside the new report.html: a CI job read the old junit.xml as this run's verdict."""
    source = extract(tmp_path / "good.csv", 3)
    env = {**os.environ, "HOME": str(tmp_path)}
    synced = run_cli(["-q", "sync", str(source), "--state-dir", "state", "--report-dir", "reports"], tmp_path, env)
    assert synced.returncode == 0, synced.stderr
    assert {"results.csv", "not_in_extract.csv"} <= {p.name for p in (tmp_path / "reports").iterdir()}

    validated = run_cli(["-q", "validate", str(source), "--report-dir", "reports", "--junit"], tmp_path, env)
    assert validated.returncode == 0, validated.stderr
    assert sorted(p.name for p in (tmp_path / "reports").iterdir()) == [
        "issues.csv",
        "junit.xml",
        "report.html",
        "report.json",
    ]

    # A CI job's own junit.xml where the earlier run's was (a shared build folder): not a run's report, so kept.
    pytest_junit = '<?xml version="1.0"?>\n<testsuites name="pytest tests"/>\n'
    (tmp_path / "reports" / "junit.xml").write_text(pytest_junit, encoding="utf-8")
    again = run_cli(["-q", "validate", str(source), "--report-dir", "reports"], tmp_path, env)
    assert again.returncode == 0 and again.stderr == "", again.stderr
    assert (tmp_path / "reports" / "junit.xml").read_text(encoding="utf-8") == pytest_junit
    # Nor a junit.xml merged from ours and another's (it begins as no run's does).
    merged = '<?xml version="1.0"?>\n<testsuites>\n<testsuite name="register-batch validate"/>\n</testsuites>\n'
    (tmp_path / "reports" / "junit.xml").write_text(merged, encoding="utf-8")
    kept = run_cli(["-q", "validate", str(source), "--report-dir", "reports"], tmp_path, env)
    assert kept.returncode == 0 and (tmp_path / "reports" / "junit.xml").read_text(encoding="utf-8") == merged
    # Files written on Windows (report.json, junit.xml with CR LF line ends) are a run's there too.
    junit_run = run_cli(["-q", "validate", str(source), "--report-dir", "win", "--junit"], tmp_path, env)
    assert junit_run.returncode == 0, junit_run.stderr
    for name in ("report.json", "junit.xml"):
        path = tmp_path / "win" / name
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))
    assert run_cli(["-q", "validate", str(source), "--report-dir", "win"], tmp_path, env).returncode == 0
    assert not (tmp_path / "win" / "junit.xml").exists()
    # Nor is a pipe of that name looked into: it would never answer.
    os.mkfifo(tmp_path / "reports" / "results.csv")
    piped = run_cli(["-q", "validate", str(source), "--report-dir", "reports"], tmp_path, env, timeout=60)
    assert piped.returncode == 0 and (tmp_path / "reports" / "results.csv").exists(), piped.stderr

    # Nor is anything removed from a folder whose report.json is another tool's (eslint's, in a build folder).
    build = tmp_path / "build"
    build.mkdir()
    theirs = {"report.json": '{"tool": "eslint"}', "junit.xml": pytest_junit, "results.csv": "a,b\n1,2\n"}
    for name, text in theirs.items():
        (build / name).write_text(text, encoding="utf-8")
    into_build = run_cli(["-q", "validate", str(source), "--report-dir", "build"], tmp_path, env)
    assert into_build.returncode == 0, into_build.stderr
    assert [(build / name).read_text(encoding="utf-8") for name in ("junit.xml", "results.csv")] == [
        pytest_junit,
        "a,b\n1,2\n",
    ]

    user = tmp_path / "mine"
    user.mkdir()
    (user / "junit.xml").write_text("a file of the user's, in a folder no run wrote reports in", encoding="utf-8")
    into_a_new_folder = run_cli(["-q", "validate", str(source), "--report-dir", "mine"], tmp_path, env)
    assert into_a_new_folder.returncode == 0, into_a_new_folder.stderr
    assert (user / "junit.xml").read_text(encoding="utf-8").startswith("a file of the user's")


def _builder_of(issues_by_record):
    """A ReportBuilder that was given one record per list of (code, field, value, message), in order."""
    from datetime import date

    from register_batch.model import API_VERSION
    from register_batch.reports import ReportBuilder

    builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
    _add_records(builder, issues_by_record)
    return builder


def _add_records(builder, issues_by_record, first=1):
    from register_batch.model import Severity, SourceRef, TraineeRecord

    for number, issues in enumerate(issues_by_record, start=first):
        record = TraineeRecord(
            source=SourceRef(input="in.csv", record=number, line=number + 1),
            data={"provider_trainee_id": f"P{number}", "hesa_id": f"{number:013d}"},
        )
        for code, field, value, message in issues:
            record.issue(code, message, field=field, value=value, severity=Severity.WARNING)
        builder.add_record(record)


def test_issues_read_back_from_the_spool_as_they_were_added_over_many_chunks(tmp_path):
    """The spool is written a chunk of issues at a time (a long value makes a chunk end sooner): every issue reads
    back, in order, with its values as they were (a lone half of a character, from a JSON escape, among them)."""
    from register_batch.reports import SPOOL_CHUNK, SPOOL_CHUNK_CHARS

    long_value = "x" * (SPOOL_CHUNK_CHARS // 3)
    issues = [
        [("legacy_code_translated", "sex", str(n % 7), f"sex: legacy code {n % 7}")] * (n % 4)
        + ([("too_long", "last_name", long_value, "last_name is too long")] if n % 200 == 0 else [])
        + ([("control_character", "first_names", "Ann\udce9\x1b", "a control character")] if n % 97 == 0 else [])
        for n in range(1, 3 * SPOOL_CHUNK)
    ]
    builder = _builder_of(issues)
    expected = [
        (number, code, field, value, message)
        for number, record in enumerate(issues, start=1)
        for code, field, value, message in record
    ]
    assert len(expected) > 3 * SPOOL_CHUNK
    for _ in range(2):  # each report reads them all again
        rows = list(builder.issues())
        assert [(r["record"], r["code"], r["field"], r["value"], r["message"]) for r in rows] == expected
        assert {(r["input"], r["line"] - r["record"], r["severity"]) for r in rows} == {("in.csv", 1, "warning")}
        assert [r["provider_trainee_id"] for r in rows] == [f"P{number}" for number, *_ in expected]
    builder.close()


def test_an_issue_of_a_str_subclass_reads_back_as_plain_text_the_page_escapes(tmp_path):
    """An Issue made without validation (a library caller's Issue.model_construct) may hold a str subclass the
    spool's marshal does not take: it reads back as the JSON spool read it, plain text, which report.html escapes
    (a Markup value read back as Markup would go into the page as HTML)."""
    from markupsafe import Markup

    from register_batch.model import Issue, Severity

    builder = _builder_of([[("too_long", "first_names", "Ann", "first_names is too long")]])
    made = Issue.model_construct(
        input="in.csv",
        record=2,
        line=3,
        field="last_name",
        value=Markup("<b>bold</b>"),
        code="too_long",
        severity=Severity.ERROR,
        message="last_name is too long",
    )
    builder.add_batch_issues([(1, made)])
    builder.finish([])
    rows = list(builder.issues())
    assert [type(row["value"]) for row in rows] == [str, str]
    assert rows[1]["value"] == "<b>bold</b>"
    paths = builder.write(tmp_path / "r")
    builder.close()
    page = paths["html"].read_text(encoding="utf-8")
    assert "&lt;b&gt;bold&lt;/b&gt;" in page and "<b>bold</b>" not in page


def test_an_issue_holding_a_number_is_spooled_and_reported_as_before(tmp_path):
    """An Issue made without validation (a library caller's Issue.model_construct) may hold a number for its value or
    provider_trainee_id: the JSON spool took it and every report showed it; IssueSpool.add measures each value's
    length to end a chunk, and len() of a number raises TypeError before any report is written."""
    import json

    from register_batch.model import Issue, Severity

    builder = _builder_of([[("too_long", "first_names", "Ann", "first_names is too long")]])
    made = Issue.model_construct(
        input="in.csv",
        record=2,
        line=3,
        provider_trainee_id=12,
        field="graduation_year",
        value=2031,
        code="out_of_range",
        severity=Severity.ERROR,
        message="graduation_year is out of range",
    )
    builder.add_batch_issues([(1, made)])
    builder.finish([])
    paths = builder.write(tmp_path / "r")
    builder.close()
    rows = json.loads(paths["json"].read_text(encoding="utf-8"))["issues"]
    assert (rows[1]["value"], rows[1]["provider_trainee_id"]) == (2031, 12)
    assert ",2031," in paths["csv"].read_text(encoding="utf-8-sig")


def test_two_halves_of_a_character_in_a_value_read_back_as_the_character_as_they_did(tmp_path):
    """A value holding both halves of a character, each a lone surrogate (two escapes of Register's answer, one after
    the other), read back from the JSON spool as the character: so it still does, in every report."""
    builder = _builder_of([[("invalid_code", "sex", "\ud83d\ude00", "sex: \ud83d\ude00 is not a code")]])
    builder.finish([])
    [row] = list(builder.issues())
    assert row["value"] == "\U0001f600" and row["message"] == "sex: \U0001f600 is not a code"
    paths = builder.write(tmp_path / "r")
    builder.close()
    assert '"value": "\U0001f600"' in paths["json"].read_text(encoding="utf-8")


def test_issues_added_while_a_read_of_them_is_left_part_way_are_written_after_the_others(tmp_path):
    """A read of the issues left part-way, and not closed, leaves the spool where it stopped: the issues added then
    were written there, over those after it."""
    from register_batch.reports import SPOOL_CHUNK

    issue = ("invalid_code", "sex", "7", "sex is not a code")
    records = 2 * SPOOL_CHUNK
    builder = _builder_of([[issue] * 2] * records)
    read = builder.issues()
    assert next(read)["record"] == 1  # and left so
    _add_records(builder, [[issue] * 2] * records, first=records + 1)
    rows = list(builder.issues())
    assert [row["record"] for row in rows] == [n for n in range(1, 2 * records + 1) for _ in range(2)]
    builder.close()


def test_errors_named_of_a_closed_or_pickled_builder_says_where_the_rows_are_as_issues_does():
    """issues() of a closed builder, or one pickled back from a worker, raises RegisterBatchError naming report.json;
    errors_named() (public, sync's) reads the same spools and raises a bare ValueError ("seek of closed file") or
    TypeError ("'_Closed' object is not iterable")."""
    import pickle

    from register_batch.errors import RegisterBatchError

    builder = _builder_of([[("too_long", "first_names", "Ann", "first_names is too long")]])
    builder.finish([])
    builder.close()
    with pytest.raises(RegisterBatchError):
        list(builder.issues())
    for closed in (builder, pickle.loads(pickle.dumps(builder))):
        with pytest.raises(RegisterBatchError):
            closed.errors_named()


def test_an_issue_holding_a_tuple_reads_back_as_the_json_spool_read_it(tmp_path):
    """An Issue made without validation may hold a tuple for its value (a library caller's model_construct): the JSON
    spool read it back as a list, so issues.csv said ['a', 'b']; marshal keeps it a tuple and issues.csv (and
    report.html) now say ('a', 'b'): not the bytes of before, against the claim that every report is unchanged."""
    from register_batch.model import Issue, Severity

    builder = _builder_of([])
    made = Issue.model_construct(
        input="in.csv",
        record=0,
        line=2,
        field="first_names",
        value=("a", "b"),
        code="too_long",
        severity=Severity.ERROR,
        message="first_names is too long",
    )
    builder.add_batch_issues([(0, made)])
    builder.finish([])
    [row] = list(builder.issues())
    paths = builder.write(tmp_path / "r")
    builder.close()
    assert row["value"] == ["a", "b"]
    assert "['a', 'b']" in paths["csv"].read_text(encoding="utf-8-sig")


def test_a_record_added_after_the_builder_closed_is_refused_at_once_not_lost():
    """The spool is closed with the run: a library caller's late record raises (as a write to the closed JSON spool
    did), rather than waiting in memory for a chunk that is never written or read."""
    builder = _builder_of([[("too_long", "first_names", "Ann", "first_names is too long")]])
    builder.finish([])
    builder.close()
    with pytest.raises(ValueError, match="closed when the run ended"):
        _add_records(builder, [[("too_long", "last_name", "Bee", "last_name is too long")]], first=2)


def test_a_files_own_issues_come_first_in_the_rows_then_each_records():
    """An issue of the input file itself (not of a record) is reported before the records' issues, as issues()
    promises: every row, file-level first."""
    from register_batch.model import Severity, make_issue

    builder = _builder_of([[("too_long", "first_names", "Ann", "first_names is too long")]])
    builder.add_file_issues(
        [make_issue(input="in.csv", code="unknown_column", severity=Severity.WARNING, message="column x is not read")]
    )
    builder.finish([])
    rows = [(row["input"], row["record"], row["code"]) for row in builder.issues()]
    builder.close()
    assert rows == [("in.csv", None, "unknown_column"), ("in.csv", 1, "too_long")]


COUNT_THE_FILES = """
import sys
from datetime import date
from register_batch.errors import UnwritableOutput
from register_batch.model import API_VERSION
from register_batch.reports import ReportBuilder

builder = ReportBuilder(api_version=API_VERSION, as_of=date(2026, 11, 28))
builder.finish([])
counted = []
more = {"big": ("big.csv", lambda fh: fh.write("x" * (int(sys.argv[2]) + 10)))}
try:
    builder.write(sys.argv[1], more=more, each_written=lambda: counted.append(len(counted) + 1))
except UnwritableOutput as exc:
    print(counted, exc)
"""


def test_a_file_the_disk_refuses_is_not_counted_as_written(tmp_path):
    """review145 F2: a sync's "Writing reports" counted a file as written once it was filled, while its last part was
    still in the buffer: the bar stood at 5/5, then the full disk was said. Each file is flushed before it is counted.
    Here the disk takes no file over 1 MiB, and the last file is 10 bytes over it: only its last part is refused."""
    limit = 1 << 20
    done = subprocess.run(
        [sys.executable, "-c", COUNT_THE_FILES, str(tmp_path / "reports"), str(limit)],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=files_limited_to(limit),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("[1, 2, 3] cannot write ") and "big.csv" in done.stdout, done.stdout
    assert not (tmp_path / "reports").exists() or not list((tmp_path / "reports").iterdir())
