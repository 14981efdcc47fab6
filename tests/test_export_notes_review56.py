"""review56: what the export's notes and error line say is what validate and sync of the file, and the exit code, do.

F1: a required field holding the text `Null` makes validate and sync refuse the HESA XML Student, not only lose a value.
F2: a line break in a Register CSV cell is read as one cell and refused as control_character, not as broken quoting.
F3: an academic cycle Register does not know is a bad option (exit 2), and the line says no file was written.
"""

from __future__ import annotations

import csv
from datetime import date

import pytest
from click.testing import CliRunner

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.export import export_trainees
from register_batch.sync import sync_files
from register_batch.validation import Checker
from register_batch.writers import RegisterCsvWriter

AS_OF = date(2026, 11, 28)  # Register's current cycle is 2026: it knows 2027 (the next), not 2031
TOKEN = "review56-export-token"
LOST = "holds the text 'Null', which reads back as no value (HESA's NULL)"


@pytest.fixture
def synced(tmp_path):
    """(emulator, its first trainee) after a sync of 12 trainees of the 2025 cycle."""
    from trainee_extracts import extract

    source = extract(tmp_path / "in.csv", 12)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        assert sync_files([str(source)], sync_options(emulator, tmp_path, TOKEN)).exit_code == 0
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            first = next(iter(client.iter_trainees(academic_cycle=2025)))
        yield emulator, first


def read_back(path, hesa_id):
    """The record of `hesa_id` as validate and sync read it from an exported file."""
    with Checker(as_of=AS_OF) as checker:
        return {r.data["hesa_id"]: r for r in checker.records([str(path)])}[hesa_id]


def notes_of(result, trainee) -> list[str]:
    return [note.message for note in result.notes if note.trainee_id == trainee["trainee_id"]]


# --- F1 -------------------------------------------------------------------------------------------------------------


def test_a_required_field_holding_the_text_null_is_said_to_have_its_student_refused(synced, tmp_path):
    """first_names `NULL` and last_name `Null` read back from HESA XML as no value: validate and sync of the file refuse
    the Student (required). The note said only "will not see it", as of an optional field, whose blank is no drift
    (previous_last_name `Null`: that note stays)."""
    emulator, first = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        client.update_trainee(
            first["trainee_id"], {"first_names": "NULL", "last_name": "Null", "previous_last_name": "Null"}
        )
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    said = [note for note in notes_of(result, first) if "'Null'" in note]
    assert said == [
        f"first_names, last_name {LOST}: validate and sync of this file refuse the Student (required); the json and "
        "jsonl exports hold it",
        f"previous_last_name {LOST}: validate and sync of this file will not see it",
    ]
    back = read_back(out, first["hesa_id"])
    assert {(i.code, i.field) for i in back.issues if i.is_error} == {
        ("required", "first_names"),
        ("required", "last_name"),
    }
    checked = CliRunner().invoke(
        cli, ["validate", str(out), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "r")]
    )
    assert checked.exit_code == 1, checked.output


def test_an_optional_field_holding_the_text_null_is_only_not_seen(synced, tmp_path):
    """previous_last_name `Null` alone: the Student validates, and no note says it is refused."""
    emulator, first = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        client.update_trainee(first["trainee_id"], {"previous_last_name": "null"})
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    said = notes_of(result, first)
    assert f"previous_last_name {LOST}: validate and sync of this file will not see it" in said
    assert [note for note in said if "refuse" in note] == []
    assert not read_back(out, first["hesa_id"]).has_errors


# --- F2 -------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["Line\nBreak", "Carriage\rReturn", "Win\r\nLine"], ids=["LF", "CR", "CRLF"])
def test_a_line_break_in_a_register_csv_cell_is_noted_as_validate_reads_it(tmp_path, value):
    """The note said Register's upload "and register-batch" read such a cell as broken quoting: register-batch reads
    it as one cell, refuses the record for it (control_character, not malformed_record), and reads the next row as
    it is. The note says so, as docs/formats.md does."""
    from valid_trainee import VALID

    out = tmp_path / "out.csv"
    writer = RegisterCsvWriter(out)
    notes = writer.write(dict(VALID, last_name=value))
    writer.write(dict(VALID, hesa_id="0310261553102"))
    writer.close()
    assert notes == [
        "last_name holds a line break: written as one quoted cell, but validate and sync of this file refuse the "
        "record (control_character); correct the value at its source"
    ]
    with Checker(as_of=AS_OF) as checker:
        got = {r.data["hesa_id"]: r for r in checker.records([str(out)])}
    assert set(got) == {"0310261553101", "0310261553102"}
    assert {(i.code, i.field) for i in got["0310261553101"].issues if i.is_error} == {
        ("control_character", "last_name")
    }
    assert not got["0310261553102"].has_errors
    with out.open(encoding="utf-8", newline="") as fh:
        assert len(list(csv.reader(fh))) == 3  # the header and one row per trainee


# --- F3 -------------------------------------------------------------------------------------------------------------


def test_an_academic_cycle_register_does_not_know_is_a_bad_option_that_writes_nothing(tmp_path, monkeypatch):
    """Register answers 422 to GET /trainees for a cycle it has no record of (register-api.md §2.3). It was exit 1,
    "Register answered with an error", which a nightly wrapper reads as records to see to or Register unreachable,
    and the line did not say that the earlier file of that name was kept."""
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    kept = tmp_path / "keep.json"
    kept.write_text('["an earlier export"]\n')
    fresh = tmp_path / "fresh.json"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        over = CliRunner().invoke(
            cli, ["export", "--target", emulator.url, "--to", "json", "-o", str(kept), "--academic-cycle", "2031"]
        )
        new = CliRunner().invoke(
            cli, ["export", "--target", emulator.url, "--to", "json", "-o", str(fresh), "--academic-cycle", "2031"]
        )
        assert emulator.snapshot()["requests"]["total"] == 2  # Register's to say: one request each
    assert over.exit_code == 2, over.output
    last = over.output.strip().splitlines()[-1]
    assert last == (
        "register-batch: error: Register does not take --academic-cycle 2031 (GET /trainees -> 422: academic_cycle "
        f"2031 is not a valid academic cycle year): no file was written, and the earlier {kept} stays as it was. "
        "Give one it takes (without --academic-cycle, the academic cycle current today is exported)"
    )
    assert kept.read_text() == '["an earlier export"]\n'
    assert new.exit_code == 2, new.output
    assert "): no file was written. Give one it takes" in new.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]  # no temporary file either
    assert TOKEN not in over.output + new.output


def test_the_library_raises_the_refused_cycle_as_a_config_error(tmp_path):
    """export_trainees raises it as the bad setting it is, worded with the library's names (`academic_cycle`)."""
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client,
        pytest.raises(ConfigError) as caught,
    ):
        export_trainees(client, to="hesa-xml", output=tmp_path / "held.xml", academic_cycle=2031)
    assert caught.value.exit_code == 2
    assert str(caught.value).startswith("Register does not take academic_cycle 2031 (GET /trainees -> 422: ")
    assert list(tmp_path.iterdir()) == []


def test_a_422_for_a_parameter_the_user_did_not_give_stays_registers_error(tmp_path, monkeypatch):
    """A 422 naming only `sort_order`, which register-batch itself sends, is no option of the user's to correct: it
    stays "Register answered with an error" (exit 1), with no file written."""
    from stub_http import answering

    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    body = (
        b'{"message":"Validation failed: 1 error prohibited this request being run",'
        b'"errors":{"sort_order":["is not included in the list"]}}'
    )
    out = tmp_path / "held.json"
    with answering(422, body, {"Content-Type": "application/json; charset=utf-8"}) as url:
        result = CliRunner().invoke(
            cli, ["export", "--target", url, "--to", "json", "-o", str(out), "--academic-cycle", "2026"]
        )
    assert result.exit_code == 1, result.output
    assert "GET /trainees -> 422: sort_order is not included in the list" in result.output
    assert not out.exists()
