"""A sync's report.json (real, dry run, stopped, with refusals, conflicts and lost answers) is one the published
schema allows (register_batch.reports.report_schema): the keys a sync adds (sync, records, not_in_extract,
unanswered_elsewhere) and every shape they take. Against the project's emulator on 127.0.0.1."""

from __future__ import annotations

import json
import os
import threading

import pytest

from emulated import SYNC_TESTS_TOKEN as TOKEN
from emulated import create_answers_lost, sync_options
from register_batch.errors import Interrupted
from register_batch.sync import sync_files
from report_schema import allowed_report
from stub_http import fronting
from trainee_extracts import WITHDRAWN, trainee, write_extract


def test_a_first_load_its_rerun_and_a_dry_run_of_changes_write_reports_the_schema_allows(register, tmp_path):
    rows = [trainee(1), trainee(2), trainee(3), {**trainee(4), **WITHDRAWN}, {**trainee(5), "sex": "7"}]
    register.sync(write_extract(tmp_path / "first.csv", rows))
    first = allowed_report(tmp_path / "reports-1")
    assert first["sync"]["actions"] == {"create": 4, "invalid": 1} and first["sync"]["previous_run"] is None
    assert first["sync"]["joined"] == {"withdraw": {"create": {"done": 1}}}  # created, then withdrawn
    assert [c["field"] for c in first["records"][3]["changes"]] == ["state"]

    register.sync(write_extract(tmp_path / "first.csv", rows))
    rerun = allowed_report(tmp_path / "reports-2")
    assert rerun["sync"]["actions"] == {"unchanged": 4, "invalid": 1}
    assert rerun["sync"]["previous_run"]["status"] == "finished"

    changed = [{**rows[0], "email": "amira.new@example.com"}, rows[2], rows[3]]  # trainee 2 left the extract
    register.sync(write_extract(tmp_path / "changed.csv", changed), dry_run=True)
    planned = allowed_report(tmp_path / "reports-3")
    assert planned["sync"]["dry_run"] and planned["sync"]["outcomes"] == {"planned": 1, "done": 2}
    assert planned["records"][0]["changes"][0]["field"] == "email"
    assert [t["hesa_id"] for t in planned["not_in_extract"]] == [trainee(2)["hesa_id"]]


def _refusing_the_create_of(hesa_id: str):
    """In front of Register: a 422 to the create of the trainee with `hesa_id`, as Register's own rules give."""

    def refused(seen, _forward):
        if seen.method == "POST" and seen.path.endswith("/trainees") and f'"{hesa_id}"'.encode() in seen.body:
            return 422, {"Content-Type": "application/json"}, b'{"message": "Validation failed", "errors": ["x"]}'
        return None

    return refused


def test_refused_and_conflicting_records_write_reports_the_schema_allows(register, tmp_path):
    # Register refuses the first (api_rejected), and takes the third for the second's twin: a 409, a conflict.
    twin = {**trainee(2), "hesa_id": "2519999999999", "provider_trainee_id": "SRS-99999"}
    rows = [trainee(1), trainee(2), twin]
    with fronting(register.emulator.url, _refusing_the_create_of(trainee(1)["hesa_id"])) as front:
        options = sync_options(
            front, tmp_path, TOKEN, report_dir=tmp_path / "refused", target_identity=register.emulator.url
        )
        sync_files([str(write_extract(tmp_path / "a.csv", rows))], options)
    refused = allowed_report(tmp_path / "refused")
    assert [(r["outcome"], r["http_status"]) for r in refused["records"]] == [
        ("failed", 422),
        ("done", 201),
        ("conflict", 409),
    ]
    assert {i["code"] for i in refused["issues"]} >= {"api_rejected", "sync_conflict"}


def test_stopped_runs_and_the_run_after_them_write_reports_the_schema_allows(register, tmp_path, monkeypatch):
    rows = [trainee(n) for n in range(1, 4)]
    before_listing = threading.Event()
    ftruncate = os.ftruncate

    def stop_once_locked(fd: int, length: int) -> None:
        ftruncate(fd, length)
        # The extract read and the state dir locked (its lock's holder line written): stopped before it had listed
        # Register, nothing planned. A stop set before the run stops it while it reads, with no report (review182 F7).
        before_listing.set()

    monkeypatch.setattr(os, "ftruncate", stop_once_locked)
    options = sync_options(register.emulator, tmp_path, TOKEN, report_dir=tmp_path / "unplanned")
    with pytest.raises(Interrupted):
        sync_files([str(write_extract(tmp_path / "a.csv", rows))], options, stop=before_listing)
    monkeypatch.undo()
    unplanned = allowed_report(tmp_path / "unplanned")
    assert unplanned["sync"]["actions"] == {"unplanned": 3} and unplanned["sync"]["stopped"]["by"] == "stop"

    # Stopped as the answer to its first create is lost: that record unknown, the others not reached.
    stop = threading.Event()
    client = create_answers_lost(register.emulator, TOKEN, stop.set)
    options = sync_options(register.emulator, tmp_path, TOKEN, report_dir=tmp_path / "part-way")
    with client, pytest.raises(Interrupted):
        sync_files([str(write_extract(tmp_path / "part-way.csv", rows))], options, client=client, stop=stop)
    part_way = allowed_report(tmp_path / "part-way")
    assert part_way["sync"]["interrupted"] and part_way["sync"]["stopped"]["by"] == "stop"
    assert [r["outcome"] for r in part_way["records"]] == ["unknown", "pending", "pending"]

    # The run after it, of an extract without the first record: its create, never answered, is looked up elsewhere.
    after = sync_options(register.emulator, tmp_path, TOKEN, report_dir=tmp_path / "after")
    sync_files([str(write_extract(tmp_path / "after.csv", rows[1:]))], after)
    resumed = allowed_report(tmp_path / "after")
    assert resumed["sync"]["previous_run"]["status"] == "interrupted" and not resumed["sync"]["interrupted"]
    assert [(w["hesa_id"], w["operation"], w["settled"]) for w in resumed["unanswered_elsewhere"]] == [
        (trainee(1)["hesa_id"], "create", "done")
    ]


def _listing_with_odd_values(seen, forward):
    """In front of Register: its listing with values of another shape than its API documents (review148 F4)."""
    if seen.method != "GET" or "/trainees" not in seen.path:
        return None
    status, headers, body = forward()
    listing = json.loads(body)
    for held in listing.get("data", []):
        held["sex"] = [int(held["sex"])] if held.get("sex") else held.get("sex")
        if held.get("trainee_start_date"):
            held["trainee_start_date"] = int(held["trainee_start_date"].replace("-", ""))
    return status, headers, json.dumps(listing).encode()


def test_values_register_sent_in_another_shape_are_written_as_sent_and_the_schema_allows_them(register, tmp_path):
    """review148 F4: report.json writes Register's values as it sent them (drift's `register`, not_in_extract's
    columns); a listing holding a list or a number where its API documents a string made a report the schema
    refused."""
    rows = [trainee(1), trainee(2)]
    register.sync(write_extract(tmp_path / "first.csv", rows))
    with fronting(register.emulator.url, _listing_with_odd_values) as front:
        options = sync_options(
            front, tmp_path, TOKEN, report_dir=tmp_path / "odd", target_identity=register.emulator.url, dry_run=True
        )
        sync_files([str(write_extract(tmp_path / "second.csv", rows[:1]))], options)
    report = allowed_report(tmp_path / "odd")
    assert {"field": "sex", "register": [int(trainee(1)["sex"])], "source": trainee(1)["sex"]} in report["records"][0][
        "changes"
    ]
    assert isinstance(report["not_in_extract"][0]["trainee_start_date"], int)


def test_a_library_runs_settings_are_in_its_report_and_the_schema_wants_them(register, tmp_path):
    """review208 F3: report.json's `settings`, the options a run was started with: a library caller's too, with the
    token's source it gave (none here: null), never the token; the schema refuses a sync's report without them."""
    from report_schema import schema_errors

    options = sync_options(register.emulator, tmp_path, TOKEN, timeout=12.5, per_page=50, report_dir=tmp_path / "lib")
    sync_files([str(write_extract(tmp_path / "a.csv", [trainee(1)]))], options)
    report = allowed_report(tmp_path / "lib")
    assert report["settings"] == {
        "rate": "10000/60",
        "timeout": 12.5,
        "per_page": 50,
        "format": "auto",
        "token_source": None,
        "state_dir": str(tmp_path / "state"),
        "report_dir": str(tmp_path / "lib"),
        "config_file": None,
        "working_directory": os.getcwd(),
    }
    assert TOKEN not in (tmp_path / "lib" / "report.json").read_text(encoding="utf-8")
    del report["settings"]
    assert schema_errors(report) == ["(top): 'settings' is a dependency of 'sync'"]
