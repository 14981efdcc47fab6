"""The library's arguments as a service gives them (review62 F1, F5): `SyncOptions` cannot be changed in place (a
token rotated so showed in its repr, and a value changed so skipped its checks), and a value of the wrong type or
range is a ConfigError naming the argument, before anything is read, written or sent."""

from __future__ import annotations

import dataclasses
import io
from datetime import date
from pathlib import Path

import pytest

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient, Secret
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.export import export_trainees
from register_batch.jobs import convert_files, validate_files
from register_batch.sync import SyncOptions, sync_files
from register_batch.sync.ledger import StateDirLock

SAMPLES = Path(__file__).parent.parent / "samples"
AS_OF = date(2026, 11, 28)
TOKEN = "arguments-review62-token"
SECRET = "tokA-SECRET-aaaa"


def options(tmp_path: Path, **extra: object) -> SyncOptions:
    return SyncOptions("sandbox", SECRET, tmp_path / "state", tmp_path / "reports", as_of=AS_OF, **extra)  # type: ignore[arg-type]


# --- F1: SyncOptions is frozen; dataclasses.replace checks again ---------------------------------------------------


@pytest.mark.parametrize(("name", "value"), [("token", "rotated-SECRET-1"), ("dry_run", "no"), ("rate", (0, 60))])
def test_a_field_of_sync_options_cannot_be_assigned_in_place(tmp_path, name, value):
    """`options.token = "..."` put the raw token in `repr(options)` (a service's logs, an error reporter's locals);
    `options.dry_run = "no"` failed with a ValueError once the state dir's ledger was opened."""
    made = options(tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(made, name, value)
    assert "SECRET" not in repr(made)
    assert not (tmp_path / "state").exists()


def test_a_token_rotated_with_replace_is_wrapped_and_kept_out_of_the_repr(tmp_path):
    rotated = dataclasses.replace(options(tmp_path), token="rotated-SECRET-1")
    assert isinstance(rotated.token, Secret) and rotated.token.reveal() == "rotated-SECRET-1"
    assert "SECRET" not in repr(rotated)
    assert rotated.state_dir == tmp_path / "state"  # the rest as it was


@pytest.mark.parametrize(
    ("change", "named"),
    [({"dry_run": "no"}, "dry_run must be True or False"), ({"rate": (0, 60)}, "rate (0, 60) must allow")],
)
def test_a_field_changed_with_replace_is_checked_again(tmp_path, change, named):
    with pytest.raises(ConfigError, match=named.replace("(", r"\(").replace(")", r"\)")):
        dataclasses.replace(options(tmp_path), **change)


# --- F5: wrong types and values are ConfigErrors naming the argument ------------------------------------------------


@pytest.mark.parametrize("keep_issues", ["no", "yes", 2, None])
def test_keep_issues_that_is_not_true_or_false_is_refused_naming_it(tmp_path, keep_issues):
    """`keep_issues="no"` was taken as true: every issue kept."""
    with pytest.raises(ConfigError) as refused:
        options(tmp_path, keep_issues=keep_issues)
    assert str(refused.value) == f"keep_issues must be True or False, not {keep_issues!r}"


@pytest.mark.parametrize("token", [SECRET.encode(), Secret(SECRET.encode()), 12345678])  # type: ignore[arg-type]
def test_a_token_that_is_not_text_is_refused_without_showing_it(tmp_path, token):
    """A token read as bytes (a secrets store, a file opened "rb") was a TypeError from a regex, after the extract."""
    with pytest.raises(ConfigError) as refused:
        SyncOptions("sandbox", token, tmp_path / "state", tmp_path / "reports")
    assert str(refused.value).startswith("token must be a str")
    assert "SECRET" not in str(refused.value) and "12345678" not in str(refused.value)
    if isinstance(token, bytes):
        assert "token.decode()" in str(refused.value)


@pytest.mark.parametrize("name", ["state_dir", "report_dir"])
@pytest.mark.parametrize("value", [None, b"state"])
def test_a_folder_of_sync_options_that_is_not_a_path_is_refused_naming_it(tmp_path, name, value):
    folders = {"state_dir": tmp_path / "state", "report_dir": tmp_path / "reports", name: value}
    with pytest.raises(ConfigError) as refused:
        SyncOptions("sandbox", SECRET, **folders)  # type: ignore[arg-type]
    assert str(refused.value) == f"{name} must be a path (a str or pathlib.Path), not {type(value).__name__}"


def test_sync_files_given_a_dict_for_its_options_is_refused_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"^options must be a register_batch\.sync\.SyncOptions, not dict$"):
        sync_files([SAMPLES / "extract.xml"], {"target": "sandbox"})  # type: ignore[arg-type]


def test_sync_files_given_no_progress_is_refused_before_anything_is_read(tmp_path):
    with pytest.raises(ConfigError, match=r"^progress must be a register_batch\.progress\.Progress"):
        sync_files([SAMPLES / "extract.xml"], options(tmp_path), progress=None)  # type: ignore[arg-type]
    assert not (tmp_path / "reports").exists()


def test_a_held_lock_of_another_state_dir_is_a_config_error_and_nothing_is_sent(tmp_path):
    """It was a bare ValueError."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, ukprns={TOKEN: "10052198"}, as_of=AS_OF) as emulator:
        with StateDirLock(tmp_path / "elsewhere") as lock, pytest.raises(ConfigError) as refused:
            sync_files([SAMPLES / "extract.xml"], sync_options(emulator, tmp_path, TOKEN), held_lock=lock)
        assert emulator.snapshot()["requests"]["total"] == 0
    assert str(refused.value).startswith("held_lock is not the lock of the state dir ")


@pytest.mark.parametrize("junit", ["no", "yes", 2, None])
def test_validate_files_junit_that_is_not_true_or_false_is_refused(tmp_path, junit):
    """`junit="no"` wrote junit.xml."""
    with pytest.raises(ConfigError) as refused:
        validate_files([SAMPLES / "extract.xml"], as_of=AS_OF, report_dir=tmp_path / "reports", junit=junit)
    assert str(refused.value) == f"junit must be True or False, not {junit!r}"
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("jobs", [0, -1, True, "2", 1.5])
def test_validate_files_jobs_below_1_or_not_a_whole_number_is_refused(tmp_path, jobs):
    """`jobs=0` and `jobs=-1` ran in one process, as if 1 had been given."""
    with pytest.raises(ConfigError) as refused:
        validate_files([SAMPLES / "extract.xml"], as_of=AS_OF, report_dir=tmp_path / "reports", jobs=jobs)
    assert str(refused.value).startswith("jobs must be a whole number of processes from 1")
    assert str(refused.value).endswith(f"not {jobs!r}")


def test_validate_files_jobs_1_and_none_are_taken(tmp_path):
    for jobs in (1, None):
        done = validate_files([SAMPLES / "extract.xml"], as_of=AS_OF, report_dir=tmp_path / f"r{jobs}", jobs=jobs)
        assert done.report.summary.records == 12


def test_validate_files_with_no_report_dir_or_progress_is_refused_naming_it(tmp_path):
    with pytest.raises(ConfigError, match=r"^report_dir must be a path \(a str or pathlib\.Path\), not NoneType$"):
        validate_files([SAMPLES / "extract.xml"], report_dir=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^progress must be a register_batch\.progress\.Progress"):
        validate_files([SAMPLES / "extract.xml"], report_dir=tmp_path / "r", progress=None)  # type: ignore[arg-type]
    assert not (tmp_path / "r").exists()


def test_convert_files_with_no_output_or_a_skip_invalid_of_text_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"^output must be a path \(a str or pathlib\.Path\), not NoneType$"):
        convert_files([SAMPLES / "extract.xml"], to="jsonl", output=None)  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match=r"^skip_invalid must be True or False, not 'no'$"):
        convert_files(
            [SAMPLES / "extract.xml"],
            to="jsonl",
            output=tmp_path / "b.jsonl",
            skip_invalid="no",  # type: ignore[arg-type]
        )
    assert not (tmp_path / "b.jsonl").exists()


@pytest.mark.parametrize("output", [None, io.StringIO()])
def test_export_trainees_with_an_output_that_is_not_a_path_is_refused_before_any_request(output):
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
    ):
        with pytest.raises(ConfigError, match=r"^output must be a path \(a str or pathlib\.Path\)"):
            export_trainees(client, to="jsonl", output=output)  # type: ignore[arg-type]
        assert client.stats.total == 0


def test_a_convert_of_no_inputs_is_refused_and_leaves_the_earlier_output(tmp_path):
    """review88 F1: a job's glob that matched nothing (tonight's extract not there yet) was a success with 0 records,
    and convert_files replaced yesterday's upload file with a header-only one, which Register's upload refuses. (A
    validate or sync of no inputs has nothing to do, and says so: test_library_results.py.)"""
    sample = Path(__file__).resolve().parents[1] / "samples" / "extract.xml"
    upload = tmp_path / "upload.csv"
    convert_files([sample], to="register-csv", output=upload, as_of=date(2026, 11, 28))
    before = upload.read_bytes()
    empty = sorted((tmp_path / "incoming").glob("*.xml"))
    with pytest.raises(ConfigError, match=r"^inputs is empty: give at least one extract"):
        convert_files(empty, to="register-csv", output=upload, as_of=date(2026, 11, 28), report_dir=tmp_path / "r")
    assert upload.read_bytes() == before  # yesterday's file kept
    assert not (tmp_path / "r").exists()
