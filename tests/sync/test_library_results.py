"""What a vendor's own code gets back from `sync_files` (docs/library.md): each record's issues on its result, settings
refused before anything is sent, and a summary that reads sensibly whatever the run held."""

from __future__ import annotations

import csv
import json
import pickle
from pathlib import Path

import httpx
import pytest

from emulated import AS_OF, sync_options
from emulated import SYNC_TESTS_TOKEN as TOKEN
from register_batch import Issue, Severity
from register_batch.errors import ConfigError
from register_batch.reports import issue_row
from register_batch.sync import SyncOptions, sync_files
from stub_http import fronting
from trainee_extracts import WITHDRAWN, trainee, write_extract

SAMPLES = Path(__file__).parents[2] / "samples"


def requests_received(register) -> int:
    """Every request the emulator has answered so far (its own count)."""
    return sum(httpx.get(f"{register.emulator.url}/__emulator__/stats").json()["requests"]["by_route"].values())


@pytest.mark.parametrize("token", [None, "", "   "])
def test_a_sync_without_a_token_is_a_config_error_before_anything_is_read_or_sent(register, tmp_path, token):
    """`SyncOptions(token=None)` (a vendor's job whose secret store gave nothing) listed Register without a token and
    stopped with `Unauthorized` from the first request, after the whole extract was read and the state dir bound;
    with an extract of invalid records only, it went through as if nothing were wrong. The command line refuses it
    before the target is touched: so does the library now."""
    options = SyncOptions(register.emulator.url, token, tmp_path / "state", tmp_path / "reports", as_of=AS_OF)
    with pytest.raises(ConfigError) as refused:
        sync_files([SAMPLES / "extract.xml"], options)
    assert str(refused.value) == (
        f"no API token for {register.emulator.url}: give one as SyncOptions(token=...) (Register refuses every "
        "request without one); nothing was sent"
    )
    assert requests_received(register) == 0
    assert not (tmp_path / "state" / "ledger.sqlite3").exists()
    assert not (tmp_path / "reports" / "report.json").exists()


def test_a_sync_of_no_records_says_so_without_a_cost_per_record(register, tmp_path):
    """`sync_files([], options)` (a vendor's job with no changed records tonight) said "0 records: nothing to do. 0
    requests (0.0 per record).": a figure per record of no records."""
    done = sync_files([], sync_options(register.emulator, tmp_path, "sync-tests-provider-token"))
    assert done.summary_line() == "0 records: nothing to do. 0 requests."
    assert done.exit_code == 0


def refusing_creates_of(hesa_id: str, error: str = "email is invalid"):
    """A stub in front of Register that answers 422 (`error`) to the create of the trainee with `hesa_id`, as Register
    does to a record its own rules refuse (§7), and passes every other request on."""
    refusal = json.dumps({"message": "Validation failed", "errors": [error]}).encode()

    def refused(seen, _forward):
        if seen.method == "POST" and seen.path.endswith("/trainees") and f'"{hesa_id}"'.encode() in seen.body:
            return 422, {"Content-Type": "application/json"}, refusal
        return None

    return refused


def test_each_records_result_carries_its_issues_as_the_reports_list_them(register, tmp_path):
    """A vendor learning why record X failed joined results.csv with issues.csv, or read report.json: `SyncResult`
    held only each record's messages. Each result now has its Issue objects (code, field, value, severity, message):
    its validation's, those found across records (a duplicate), and the sync's own (Register's refusal)."""
    refused, invalid, created, first, again = trainee(1), {**trainee(2), "sex": "7"}, trainee(3), trainee(4), trainee(4)
    again["provider_trainee_id"] = "SRS-99999"  # the same HUSID twice: a duplicate, found across records
    source = write_extract(tmp_path / "in.csv", [refused, invalid, created, first, again])
    with fronting(register.emulator.url, refusing_creates_of(refused["hesa_id"])) as front:
        options = sync_options(front, tmp_path, TOKEN, target_identity=register.emulator.url)
        result = sync_files([source], options)
    assert [(r.plan.action, r.outcome) for r in result.results] == [
        ("create", "failed"),
        ("invalid", "skipped"),
        ("create", "done"),
        ("invalid", "skipped"),
        ("invalid", "skipped"),
    ]
    by_record = [[(i.code, i.severity, i.field) for i in r.issues] for r in result.results]
    assert by_record[0] == [("api_rejected", Severity.ERROR, "email")]
    assert ("invalid_code", Severity.ERROR, "sex") in by_record[1]
    assert by_record[2] == []
    assert by_record[3] == [("duplicate_hesa_id", Severity.ERROR, "hesa_id")]
    assert by_record[4] == [*by_record[3], ("possible_duplicate_trainee", Severity.WARNING, "last_name")]
    assert "email is invalid" in result.results[0].issues[0].message
    for each in result.results:
        assert all(isinstance(issue, Issue) for issue in each.issues)
        assert {(i.input, i.record) for i in each.issues} <= {(each.plan.source.input, each.plan.source.record)}
    # The reports are views of these very issues: record by record, in the same order, nothing else.
    report = json.loads(result.report_paths["json"].read_text(encoding="utf-8"))
    rows = [row for row in report["issues"] if row["record"] is not None]
    assert [issue_row(i) for r in result.results for i in r.issues] == [{**row, "source": None} for row in rows]
    # The reports add the column each field was read from (review54 F3): a Register CSV's, named as the fields here.
    assert all(row["source"] == row["field"] for row in rows)
    # Handed back whole by a worker pool, as the rest of the result is.
    assert pickle.loads(pickle.dumps(result)).results[0].issues == result.results[0].issues


def test_registers_refusal_names_the_value_the_record_sent_for_the_field(register, tmp_path):
    """Register refused a create: "trainee_start_date must be in the past". Its issue (api_rejected) had no value, and
    report.html said "value blank" beside it, for a record whose extract gives the date: an officer was sent to fill
    in a field that is filled. The issue now has the record's value of the field Register names, as a validation
    issue has, in every report."""
    refused = trainee(1)
    source = write_extract(tmp_path / "in.csv", [refused, trainee(2)])
    refusal = refusing_creates_of(refused["hesa_id"], "trainee_start_date must be in the past")
    with fronting(register.emulator.url, refusal) as front:
        result = sync_files([source], sync_options(front, tmp_path, TOKEN, target_identity=register.emulator.url))
    [issue] = result.results[0].issues
    assert (issue.code, issue.field, issue.value) == ("api_rejected", "trainee_start_date", "2025-09-01")
    report = json.loads(result.report_paths["json"].read_text(encoding="utf-8"))
    assert [(i["field"], i["value"]) for i in report["issues"]] == [("trainee_start_date", "2025-09-01")]
    issues_csv = (result.report_paths["json"].parent / "issues.csv").read_text(encoding="utf-8-sig")
    assert ",trainee_start_date,'2025-09-01,api_rejected," in issues_csv
    page = (result.report_paths["json"].parent / "report.html").read_text(encoding="utf-8")
    assert "value blank" not in page and '<code class="value">2025-09-01</code>' in page


@pytest.mark.parametrize(
    "answer",
    [
        {"errors": "last_name is too long"},
        {"type": "about:blank", "title": "Unprocessable Entity", "status": 422, "detail": "last_name is too long"},
        {"error": {"code": "InvalidInput", "message": "last_name is too long"}},
    ],
    ids=["errors as one text", "problem+json", "a nested error"],
)
def test_a_refusal_in_another_services_shape_keeps_its_text_in_the_issue_and_the_reports(register, tmp_path, answer):
    """A 422 whose body was not in one of §7.1's shapes (a gateway's, a framework's) left the issue, issues.csv and
    report.json saying only "Unprocessable Entity", while the fix column tells the person to correct the record as
    Register's message says (review163 F3)."""
    refused = trainee(1)
    source = write_extract(tmp_path / "in.csv", [refused, trainee(2)])
    body = json.dumps(answer).encode()

    def refusal(seen, _forward):
        if (
            seen.method == "POST"
            and seen.path.endswith("/trainees")
            and f'"{refused["hesa_id"]}"'.encode() in seen.body
        ):
            return 422, {"Content-Type": "application/json"}, body
        return None

    with fronting(register.emulator.url, refusal) as front:
        result = sync_files([source], sync_options(front, tmp_path, TOKEN, target_identity=register.emulator.url))
    [issue] = result.results[0].issues
    assert (issue.code, issue.field) == ("api_rejected", "last_name")
    assert "last_name is too long" in issue.message and "Unprocessable Entity" not in issue.message
    issues_csv = (result.report_paths["json"].parent / "issues.csv").read_text(encoding="utf-8-sig")
    assert "last_name is too long" in issues_csv
    report = json.loads(result.report_paths["json"].read_text(encoding="utf-8"))
    assert ["last_name is too long" in i["message"] for i in report["issues"]] == [True]


def test_a_caller_that_reads_the_reports_keeps_no_issues_in_memory_and_the_reports_are_the_same(register, tmp_path):
    """`keep_issues=False` (what the command line asks): each record's issues stayed in memory for its result, about
    50 MB more at the peak of a dry run of 20,000 C21053 records (90,000 legacy-code warnings), for a caller that
    reads the reports. None is kept; the reports list every one as before."""
    duplicate = {**trainee(4), "provider_trainee_id": "SRS-99999"}
    rows = [{**trainee(2), "sex": "7"}, trainee(3), trainee(4), duplicate]
    source = write_extract(tmp_path / "in.csv", rows)
    kept, dropped = (
        sync_files(
            [source],
            sync_options(register.emulator, tmp_path / name, TOKEN, dry_run=True, keep_issues=keep),
        )
        for name, keep in (("kept", True), ("dropped", False))
    )
    assert [r.issues for r in dropped.results] == [()] * 4 and any(r.issues for r in kept.results)
    reported = [json.loads(run.report_paths["json"].read_text(encoding="utf-8"))["issues"] for run in (kept, dropped)]
    assert reported[0] == reported[1] and len(reported[0]) >= 3


def test_a_withdrawal_a_refused_write_kept_back_is_not_in_the_records_changes(register, tmp_path):
    """review108 F2: results.csv's `changes` lists each withdrawal sent (docs/dry-run.md). Register refused the update
    before it, so the withdrawal was never sent, yet the failed record listed it, as for a trainee withdrawn."""
    extract = tmp_path / "in.csv"
    assert sync_files([write_extract(extract, [trainee(1)])], sync_options(register.emulator, tmp_path, TOKEN))
    corrected = {**trainee(1), "email": "corrected@example.com", **WITHDRAWN}
    refusal = json.dumps({"message": "Validation failed", "errors": ["email is invalid"]}).encode()

    def refusing_updates(seen, _forward):
        return (422, {"Content-Type": "application/json"}, refusal) if seen.method == "PUT" else None

    with fronting(register.emulator.url, refusing_updates) as front:
        options = sync_options(front, tmp_path, TOKEN, target_identity=register.emulator.url)
        synced = sync_files([write_extract(extract, [corrected])], options)
    [result] = synced.results
    assert [step.kind for step in result.plan.steps] == ["update", "withdraw"] and result.outcome == "failed"
    assert register.writes()["POST /trainees/{trainee_id}/withdraw"] == 0
    with (synced.report_paths["json"].parent / "results.csv").open(encoding="utf-8-sig") as fh:
        [row] = csv.DictReader(fh)
    assert [change["field"] for change in json.loads(row["changes"])] == ["email"]
