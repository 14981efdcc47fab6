"""Every report says when its run started and ended: report.html and report.json gave only the date the rules were
judged as of, so a report printed, or written to a --report-dir (no dated folder name), could not say when it ran."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import lxml.html
import pytest
from lxml import etree
from report_builders import AS_OF, FIXTURES, RUN_TIME, VALIDATION_INPUTS, check, load_report_json

from register_batch.jobs import convert_files, validate_files

FIVE = str(FIXTURES / "register_csv" / "five_trainees_with_three_errors.csv")


def now() -> datetime:
    return datetime.now(UTC)


def moment(iso: str) -> datetime:
    """A time as report.json gives it: ISO 8601 in UTC with its offset, to the second."""
    when = datetime.fromisoformat(iso)
    assert iso.endswith("+00:00") and when.utcoffset() == timedelta(0) and when.microsecond == 0, iso
    return when


def run_times(folder: Path) -> list[tuple[str | None, str]]:
    """(datetime, words) of each <time> in report.html's sentence on the run."""
    [said] = lxml.html.fromstring((folder / "report.html").read_bytes()).xpath("//p[@class='run-times']")
    return [(t.get("datetime"), t.text_content()) for t in said.iter("time")]


@pytest.fixture
def zone() -> Iterator[None]:
    """Set the machine's time zone for a test (`zone_set("Asia/Kolkata")`), as TZ does for a run; put back after."""
    was = os.environ.get("TZ")
    yield
    if was is None:
        os.environ.pop("TZ", None)
    else:
        os.environ["TZ"] = was
    time.tzset()


def zone_set(name: str) -> None:
    os.environ["TZ"] = name
    time.tzset()


def test_report_json_says_when_the_run_started_and_ended_after_design_mds_keys(tmp_path):
    builder, _records = check([FIVE], "validate")
    builder.started, builder.ended = RUN_TIME, RUN_TIME + timedelta(seconds=72)
    with builder:
        builder.write(tmp_path)
    report = load_report_json(tmp_path)
    assert list(report) == [
        *("tool", "api_version", "as_of", "inputs", "summary"),  # design.md's, in its order, as before
        *("mappings", "reference", "run"),
        "issues",
    ]
    assert report["as_of"] == AS_OF.isoformat()
    assert report["run"] == {"started": "2026-12-02T03:18:28+00:00", "ended": "2026-12-02T03:19:40+00:00"}


def test_a_run_starts_when_its_builder_is_made_and_ends_when_its_reports_are_first_written(tmp_path):
    """Set once each: the same builder written again gives the same files (tests of the page's template cache)."""
    before = now().replace(microsecond=0)
    builder, _records = check([FIVE], "validate")
    made = now()
    time.sleep(1.05)  # the end a second on from the start at least
    with builder:
        builder.write(tmp_path / "first", junit=True)
        written = now()
        builder.write(tmp_path / "again", junit=True)
    report = load_report_json(tmp_path / "first")
    started, ended = moment(report["run"]["started"]), moment(report["run"]["ended"])
    assert before <= started <= made and made.replace(microsecond=0) < ended <= written
    for name in ("report.json", "report.html", "junit.xml", "issues.csv"):
        assert (tmp_path / "again" / name).read_bytes() == (tmp_path / "first" / name).read_bytes(), name
    suite = etree.parse(str(tmp_path / "first" / "junit.xml")).getroot()
    # JUnit's schema: the start with no zone (UTC here), and the seconds the run took.
    assert suite.get("timestamp") == started.replace(tzinfo=None).isoformat()
    assert suite.get("time") == str(int((ended - started).total_seconds()))


@pytest.mark.parametrize(
    ("name", "started", "ended"),
    [
        ("UTC", "2 December 2026 at 03:18 UTC", "2 December 2026 at 03:19 UTC"),
        (
            "Asia/Kolkata",
            "2 December 2026 at 03:18 UTC (08:48 local time, UTC+05:30)",
            "2 December 2026 at 03:19 UTC (08:49 local time, UTC+05:30)",
        ),
        (  # the day before, where the report was written
            "America/New_York",
            "2 December 2026 at 03:18 UTC (22:18 on 1 December 2026 local time, UTC-05:00)",
            "2 December 2026 at 03:19 UTC (22:19 on 1 December 2026 local time, UTC-05:00)",
        ),
    ],
)
def test_report_html_says_when_the_run_was_in_words_naming_the_zone(zone, tmp_path, name, started, ended):
    zone_set(name)
    builder, _records = check(VALIDATION_INPUTS, "validate")
    builder.started, builder.ended = RUN_TIME, RUN_TIME + timedelta(seconds=72)
    with builder:
        builder.write(tmp_path)
    iso = ("2026-12-02T03:18:28+00:00", "2026-12-02T03:19:40+00:00")
    assert run_times(tmp_path) == list(zip(iso, (started, ended), strict=True))
    doc = lxml.html.fromstring((tmp_path / "report.html").read_bytes())
    [said] = doc.xpath("//p[@class='run-times']")
    assert " ".join(said.text_content().split()) == f"This run started {started} and ended {ended}."
    [settings] = doc.xpath("//dl[@class='settings']/dt[.='Run']/following-sibling::dd[1]")
    assert [(t.get("datetime"), t.text_content()) for t in settings.iter("time")] == run_times(tmp_path)


def test_validate_and_convert_reports_say_when_they_ran(tmp_path):
    before = now().replace(microsecond=0)
    validate_files([FIVE], as_of=AS_OF, report_dir=tmp_path / "validate", junit=True)
    convert_files([FIVE], to="jsonl", output=tmp_path / "out.jsonl", as_of=AS_OF, report_dir=tmp_path / "convert")
    after = now()
    validated, converted = load_report_json(tmp_path / "validate"), load_report_json(tmp_path / "convert")
    for folder, report in ((tmp_path / "validate", validated), (tmp_path / "convert", converted)):
        started, ended = moment(report["run"]["started"]), moment(report["run"]["ended"])
        assert before <= started <= ended <= after
        assert [iso for iso, _words in run_times(folder)] == [report["run"]["started"], report["run"]["ended"]]
    assert moment(validated["run"]["ended"]) <= moment(converted["run"]["started"])
    suite = etree.parse(str(tmp_path / "validate" / "junit.xml")).getroot()
    assert suite.get("timestamp") == moment(validated["run"]["started"]).replace(tzinfo=None).isoformat()


@pytest.mark.parametrize(
    ("previous", "said"),
    [
        (None, ""),
        ({"status": "finished", "dry_run": False}, " The run before it, run 6, started {at} and finished."),
        (
            {"status": "interrupted", "dry_run": False},
            " The run before it, run 6, started {at} and was interrupted: this run carries on from it.",
        ),
        (  # stopped by an error, perhaps before it sent anything (a refused token): this run does what it did not
            {"status": "stopped", "dry_run": False},
            " The run before it, run 6, started {at} and stopped before it finished: this run does what it left "
            "undone.",
        ),
        (  # a dry run sent nothing: there is nothing to carry on
            {"status": "interrupted", "dry_run": True},
            " The run before it, run 6 (a dry run), started {at} and was interrupted.",
        ),
        (
            {"status": "ended unexpectedly", "dry_run": False, "ended": None},
            " The run before it, run 6, started {at} and ended unexpectedly, without its report: this run carries on "
            "from it.",
        ),
    ],
)
def test_a_sync_page_says_which_run_it_is_and_how_the_one_before_ended(
    zone, make_sync_builder, tmp_path, previous, said
):
    zone_set("UTC")
    builder = make_sync_builder()
    builder.started, builder.ended = RUN_TIME, RUN_TIME + timedelta(seconds=72)
    earlier = "2026-12-01T03:18:02+00:00"
    builder.extra["sync"] |= {
        "run_id": 7,
        "previous_run": None
        if previous is None
        else {"id": 6, "started": earlier, "ended": "2026-12-01T03:20:00+00:00", **previous},
    }
    builder.write(tmp_path)
    [sentence] = lxml.html.fromstring((tmp_path / "report.html").read_bytes()).xpath("//p[@class='run-times']")
    assert " ".join(sentence.text_content().split()) == (
        "Sync run 7 (as this state folder's ledger numbers them) started 2 December 2026 at 03:18 UTC and ended "
        "2 December 2026 at 03:19 UTC." + said.format(at="1 December 2026 at 03:18 UTC")
    )
    assert [t.get("datetime") for t in sentence.iter("time")][2:] == ([] if previous is None else [earlier])


def test_a_dry_runs_page_does_not_say_it_carries_on_from_the_run_before(zone, make_sync_builder, tmp_path):
    """A dry run sends nothing: after an interrupted run its page said "this run carries on from it" (review12)."""
    zone_set("UTC")
    builder = make_sync_builder()
    builder.extra["sync"] |= {
        "dry_run": True,
        "run_id": 7,
        "previous_run": {"id": 6, "started": "2026-12-01T03:18:02+00:00", "ended": None, "status": "interrupted"},
    }
    builder.write(tmp_path)
    [sentence] = lxml.html.fromstring((tmp_path / "report.html").read_bytes()).xpath("//p[@class='run-times']")
    assert " ".join(sentence.text_content().split()).endswith(
        "started 1 December 2026 at 03:18 UTC and was interrupted."
    )


def test_a_start_given_without_a_zone_is_taken_as_local_time(zone, tmp_path):
    """A library caller's `started=datetime.now()` ended write() in a TypeError comparing it with UTC (review12)."""
    zone_set("Asia/Kolkata")
    from register_batch.reports import ReportBuilder

    builder = ReportBuilder(api_version="v2026.1", as_of=AS_OF, started=datetime(2026, 12, 2, 8, 48, 28))
    builder.write(tmp_path)
    assert load_report_json(tmp_path)["run"]["started"] == "2026-12-02T03:18:28+00:00"


def test_an_end_given_without_a_zone_is_taken_as_local_time_too(zone, tmp_path):
    """`ReportBuilder(started=datetime.now(), ended=...)` from a library caller: junit.xml's time, the end less the
    start, was a TypeError for an end with no zone beside a start with one."""
    zone_set("Asia/Kolkata")
    from register_batch.reports import ReportBuilder

    builder = ReportBuilder(
        api_version="v2026.1",
        as_of=AS_OF,
        started=datetime(2026, 12, 2, 3, 18, 28, tzinfo=UTC),
        ended=datetime(2026, 12, 2, 8, 49, 40),
    )
    builder.write(tmp_path, junit=True)
    assert load_report_json(tmp_path)["run"]["ended"] == "2026-12-02T03:19:40+00:00"
    assert etree.parse(str(tmp_path / "junit.xml")).getroot().get("time") == "72"


def test_a_library_caller_may_give_the_runs_start_to_judging(tmp_path):
    """`ReportBuilder.judging(..., started=...)`: a job that began before its records were judged says so."""
    from register_batch.mapping import load_mapping
    from register_batch.reference import load_reference
    from register_batch.reports import ReportBuilder
    from register_batch.validation.runner import Checker

    checker = Checker(fmt="auto", mapping=load_mapping(), reference=load_reference("v2026.1"), as_of=AS_OF)
    with ReportBuilder.judging(checker, api_version="v2026.1", started=RUN_TIME) as builder:
        builder.write(tmp_path)
    assert load_report_json(tmp_path)["run"]["started"] == "2026-12-02T03:18:28+00:00"


def test_a_time_with_no_zone_or_not_a_time_is_shown_as_written_not_said_as_utc():
    """report.html's `moment` filter says a time in UTC only when the time says its zone."""
    from register_batch.reports.html_report import moment as said

    assert said("2026-12-02T03:18:28") == "2026-12-02T03:18:28"
    assert said("not a time") == "not a time"
