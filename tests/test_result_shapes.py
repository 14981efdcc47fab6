"""The library's results are alike where they mean the same (docs/library.md, "What each function returns"): every
result has the `exit_code` its command exits with, the report files are `report_paths` wherever reports are written,
the requests a dict with `total` wherever requests are made, what was written `written`, and an export's notes say
whose they are and what apart, without parsing. They pickle whole, for a worker pool."""

from __future__ import annotations

import pickle
from datetime import date

import pytest

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.export import GRADUATION_NOTE, ExportNote, ExportResult, export_trainees
from register_batch.generate import generate
from register_batch.jobs import convert_files, validate_files
from register_batch.sync import sync_files

AS_OF = date(2026, 11, 28)
TOKEN = "result-shapes-token"
# What every request count holds: the client's stats for the run (RequestStats.as_dict).
REQUEST_KEYS = {"total", "by_route", "by_status", "retries", "throttled"}


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """One of each result, from the same 12 trainees: validated, converted, synced to the emulator, exported back
    (as HESA XML: every trainee has a note on F_DEGENDDT's day), and a generated extract."""
    from trainee_extracts import extract

    folder = tmp_path_factory.mktemp("shapes")
    source = str(extract(folder / "in.csv", 12))
    made = {
        "validate": validate_files([source], as_of=AS_OF, report_dir=folder / "validated"),
        "convert": convert_files(
            [source], to="jsonl", output=folder / "bodies.jsonl", as_of=AS_OF, report_dir=folder / "converted"
        ),
        "generate": generate(folder / "test.xml", count=5, seed=1, as_of=AS_OF),
    }
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        made["sync"] = sync_files([source], sync_options(emulator, folder, TOKEN))
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            made["export"] = export_trainees(client, to="hesa-xml", output=folder / "held.xml", academic_cycle=2025)
            made["listed"] = [t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025)]
    return made


@pytest.mark.parametrize(
    ("job", "code"), [("validate", 0), ("convert", 0), ("sync", 0), ("export", 0), ("generate", 0)]
)
def test_every_result_has_the_exit_code_of_its_command(results, job, code):
    assert results[job].exit_code == code


@pytest.mark.parametrize("job", ["validate", "convert", "sync"])
def test_every_result_that_writes_reports_names_them_report_paths(results, job):
    result = results[job]
    assert not hasattr(result, "paths")
    assert {"json", "csv", "html"} <= set(result.report_paths)
    assert all(path.is_file() for path in result.report_paths.values())


@pytest.mark.parametrize("job", ["sync", "export"])
def test_every_result_that_makes_requests_counts_them_in_a_dict(results, job):
    requests = results[job].requests
    assert isinstance(requests, dict) and set(requests) >= REQUEST_KEYS
    assert requests["total"] == sum(requests["by_route"].values()) == sum(requests["by_status"].values()) > 0


def test_an_exports_requests_are_its_own_by_route(results):
    """One page of 12 trainees: the export's one listing, not the sync's requests before it on the same emulator."""
    assert results["export"].requests["by_route"] == {"GET /trainees": 1}


@pytest.mark.parametrize("job", ["convert", "export"])
def test_what_was_written_is_counted_as_written(results, job):
    result = results[job]
    assert result.written == 12 and not hasattr(result, "count")


def test_an_exports_notes_say_whose_and_what_apart(results):
    exported, listed = results["export"], results["listed"]
    assert exported.notes and all(isinstance(note, ExportNote) for note in exported.notes)
    assert sorted(note.trainee_id for note in exported.notes) == sorted(listed)
    assert {note.message for note in exported.notes} == {GRADUATION_NOTE}
    note = exported.notes[0]
    assert str(note) == f"trainee {note.trainee_id}: {GRADUATION_NOTE}"  # as the command line prints one
    with pytest.raises(AttributeError):
        note.message = "changed"  # type: ignore[misc]


def test_note_lines_group_by_message_whatever_the_trainee_id_holds():
    """The printed form was split again at its first ": ": an id holding one put its notes in a kind of their own."""
    notes = [ExportNote("a: b", "no HESA tag for middle_names"), ExportNote("c", "no HESA tag for middle_names")]
    lines = ExportResult(outputs=[], written=2, requests={"total": 1}, notes=notes).note_lines()
    assert lines == ["no HESA tag for middle_names (2 trainees, e.g. trainee a: b)"]


def test_a_note_without_a_trainee_is_its_message():
    notes = [ExportNote(None, "said once"), ExportNote(None, "said twice"), ExportNote("7", "said twice")]
    assert [str(note) for note in notes] == ["said once", "said twice", "trainee 7: said twice"]
    lines = ExportResult(outputs=[], written=2, requests={"total": 1}, notes=notes).note_lines()
    assert lines == ["said once", "said twice (2 trainees, e.g. trainee 7)"]


@pytest.mark.parametrize("job", ["validate", "convert", "sync", "export", "generate"])
def test_every_result_pickles_whole(results, job):
    result = results[job]
    back = pickle.loads(pickle.dumps(result))
    assert type(back) is type(result) and back.exit_code == result.exit_code
    for name in ("report_paths", "requests", "written", "notes", "outputs"):
        assert getattr(back, name, None) == getattr(result, name, None), name
    if job in ("export", "generate"):  # plain data: equal whole
        assert back == result
