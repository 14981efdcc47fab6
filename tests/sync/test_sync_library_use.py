"""sync_files as an SRS vendor's own nightly job calls it: many runs in one long-lived process, errors caught."""

from __future__ import annotations

import errno
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from register_batch.api import InsecureTarget
from register_batch.errors import ConfigError, RegisterBatchError, UnusableInput
from register_batch.sync.ledger import StateDirLock, StateDirLocked

SAMPLES = Path(__file__).parents[2] / "samples"


def samples_token(register) -> str:
    """A token of the provider the sample extracts are of (their F_UKPRN), so that they can be synced twice."""
    register.emulator.add_token("samples-provider-token", "10052198")
    return "samples-provider-token"


def test_an_unusable_input_leaves_no_file_open(register, tmp_path, unclosed_files):
    cut_short = tmp_path / "cut-short.xml"
    cut_short.write_text('<?xml version="1.0"?><ITTRecord><Provider><Student>', encoding="utf-8")
    with pytest.raises(UnusableInput):
        register.sync_all([SAMPLES / "extract.xml", cut_short])
    assert unclosed_files() == []


def test_a_state_dir_in_use_leaves_no_file_open(register, tmp_path, unclosed_files):
    """Another sync holding the state dir: the refused run's report spool was left open."""
    held = StateDirLock(tmp_path / "state")
    errors: list[BaseException] = []

    def other_sync() -> None:  # the lock is per open file: another process's, or another thread's, run
        try:
            register.sync(SAMPLES / "extract.xml")
        except BaseException as exc:  # looked at below
            errors.append(exc)

    with held:
        thread = threading.Thread(target=other_sync)
        thread.start()
        thread.join()
    assert [type(e) for e in errors] == [StateDirLocked]
    errors.clear()
    assert unclosed_files() == []


def test_a_spool_refused_at_the_open_file_limit_leaves_none_of_the_runs_files_open(
    register, unclosed_files, temporary_files_limited
):
    """A vendor's job at its process's limit of open files: the duplicate finder's spool was made, the report's
    refused, and the first was left for the garbage collector."""
    temporary_files_limited(1)
    try:
        register.sync(SAMPLES / "extract.xml")
    except OSError as exc:
        assert exc.errno == errno.EMFILE
    else:
        pytest.fail("no temporary file was refused")
    assert unclosed_files() == []


@pytest.mark.parametrize("spelling", ["{url}/", "{url}/api/v2026.1"])
def test_the_state_dir_is_bound_to_the_service_not_to_how_its_url_was_written(register, spelling):
    """The command line binds the ledger to the resolved root; sync_files bound it to the string given, so a
    trailing slash (or the API's own URL) in the next night's settings stopped the job with "the state dir belongs
    to target ..."."""
    token = samples_token(register)
    assert register.sync(SAMPLES / "extract.xml", token=token).outcomes["done"] == 12
    again = register.sync(SAMPLES / "extract.xml", token=token, target=spelling.format(url=register.emulator.url))
    assert again.actions["unchanged"] == 12


def test_the_report_names_the_target_as_the_caller_labels_it_or_else_by_its_url(register, tmp_path):
    """report.json's `target` is what people know the service as (the command line's label for `sandbox`, an
    embedded emulator), or the URL the run was given when the caller gives no label."""
    from trainee_extracts import trainee, write_extract

    source = write_extract(tmp_path / "in.csv", [trainee(1)])
    register.sync(source)
    assert register.report()["sync"]["target"] == register.emulator.url
    register.sync(source, target_label="Register's sandbox (a rehearsal)")
    assert register.report()["sync"]["target"] == "Register's sandbox (a rehearsal)"


@pytest.mark.parametrize(
    ("target", "token", "refusal"),
    [
        ("http://register.example", "a-token", InsecureTarget),  # the token over plain http to another machine
        ("ftp://register.example", "a-token", InsecureTarget),
        ("https://register.example", "two words", ConfigError),  # not a Bearer token
    ],
)
def test_a_target_or_token_that_cannot_be_used_is_refused_before_the_state_dir_is_bound_to_it(
    our_register, tmp_path, unclosed_files, target, token, refusal
):
    """The refusal came after the ledger had recorded the target: once the setting was corrected, every run
    stopped with "the state dir belongs to target http://register.example" until someone deleted the state dir.
    (Register's provider for the token is the samples' own, 10052198, which a first load is checked against.)"""
    with pytest.raises(refusal):
        our_register.sync(SAMPLES / "extract.xml", target=target, token=token)
    assert not (tmp_path / "state" / "ledger.sqlite3").exists()
    assert unclosed_files() == []
    assert our_register.sync(SAMPLES / "extract.xml").outcomes["done"] == 12


QUIET_JOB = """
from datetime import date
from pathlib import Path
from register_batch.emulator import start_emulator
from register_batch.sync import SyncOptions, sync_files

with start_emulator(tokens=("quiet-token",), rate_limit=None, ukprns={"quiet-token": "10052198"}) as emulator:
    for state in ("first-state", "second-state"):  # the second has no ledger for what Register holds: a warning
        options = SyncOptions(emulator.url, "quiet-token", Path(state), Path("reports"), as_of=date(2026, 11, 28))
        sync_files([SAMPLE], options)
"""


def test_a_library_call_prints_nothing_where_logging_is_not_set_up(tmp_path):
    """docs/library.md: "Nothing is printed unless you pass a progress". A warning logged with no logging set up went
    to stderr through Python's last-resort handler (a cron job's mail, every night)."""
    job = f"SAMPLE = {str(SAMPLES / 'extract.xml')!r}\n" + QUIET_JOB
    done = subprocess.run([sys.executable, "-c", job], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "second-state" / "ledger.sqlite3").exists()
    assert done.stderr == "" and done.stdout == ""


def test_a_lock_the_caller_holds_lets_the_run_in_and_stays_held(register, tmp_path):
    """`held_lock`: the command line takes the state dir's lock before it starts the embedded emulator (whose data
    is in the state dir) and hands it on; the run must not try to take it a second time, nor let it go."""
    from emulated import sync_options
    from register_batch.sync import sync_files

    token = samples_token(register)
    options = sync_options(register.emulator, tmp_path, token, report_dir=tmp_path / "reports")
    with StateDirLock(tmp_path / "state") as held:
        result = sync_files([str(SAMPLES / "extract.xml")], options, held_lock=held)
        assert result.outcomes["done"] == 12
        assert held.holds(tmp_path / "state")
        with pytest.raises(StateDirLocked):  # still held: by this caller, until it lets go
            StateDirLock(tmp_path / "state").acquire()


def test_a_held_lock_on_another_state_dir_is_refused(register, tmp_path):
    from emulated import sync_options
    from register_batch.sync import sync_files

    options = sync_options(register.emulator, tmp_path, samples_token(register))
    with StateDirLock(tmp_path / "elsewhere") as other, pytest.raises(ConfigError, match="is not the lock of"):
        sync_files([str(SAMPLES / "extract.xml")], options, held_lock=other)
    assert not (tmp_path / "state" / "ledger.sqlite3").exists()


def test_a_finished_syncs_result_travels_from_a_worker_process_without_the_token(register):
    """A job queue runs sync_files in a worker and gets its result back pickled: the report builder held its closed
    spools (file objects) and could not be pickled, so the finished sync came back as a TypeError. The result comes
    with its records' outcomes and summary; the token stays behind."""
    import pickle

    from emulated import SYNC_TESTS_TOKEN as TOKEN

    token = samples_token(register)
    synced = register.sync(SAMPLES / "extract.xml", token=token)
    sent = pickle.dumps(synced)
    assert token.encode() not in sent and TOKEN.encode() not in sent
    back = pickle.loads(sent)
    assert back.summary_line() == synced.summary_line() and back.outcomes == synced.outcomes == {"done": 12}
    assert back.exit_code == synced.exit_code == 0 and back.report_paths == synced.report_paths
    with pytest.raises(RegisterBatchError, match=r"read them from the report\.json or issues\.csv"):
        next(back.report.issues())


def test_a_client_lent_to_many_runs_counts_each_runs_requests_only(register, tmp_path):
    """A long-lived job lends one RegisterClient to each night's run (`sync_files(..., client=)`): each result, its
    summary line and report.json counted every request the client had made since it was opened, so a night with
    one listing said `2 requests`, then `3`, ... and its cost per record grew every night."""
    import json

    from emulated import sync_options
    from register_batch.api import RegisterClient
    from register_batch.sync import sync_files

    token = samples_token(register)
    with RegisterClient(register.emulator.url, token) as client:
        nights = []
        for night in ("first", "second", "third"):
            options = sync_options(register.emulator, tmp_path, token, report_dir=tmp_path / night)
            nights.append(sync_files([SAMPLES / "extract.xml"], options, client=client))
        assert client.stats.total == sum(synced.requests["total"] for synced in nights)  # the client's own, all
    first, *unchanged = nights
    assert first.outcomes == {"done": 12} and first.requests["total"] > 1
    for synced in unchanged:
        assert synced.actions == {"unchanged": 12}
        assert synced.requests["total"] == 1 and synced.requests["by_route"] == {"GET /trainees": 1}
        assert synced.summary_line().endswith(" 1 request (0.0833 per record).")
        report = json.loads(synced.report_paths["json"].read_text(encoding="utf-8"))
        assert report["sync"]["requests"]["total"] == 1


def _sync_in_thread(run: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    """`run` in a thread of its own, started; its result or error in the list once joined."""
    outcome: list[Any] = []

    def target() -> None:
        try:
            outcome.append(run())
        except BaseException as exc:  # looked at by the test
            outcome.append(exc)

    thread = threading.Thread(target=target)
    thread.start()
    return thread, outcome


def _sending(client, thread: threading.Thread) -> None:
    """Wait until the run in `thread` has sent its first request through `client` (it reads the extract first)."""
    deadline = time.monotonic() + 30
    while client.stats.total == 0 and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert client.stats.total > 0 and thread.is_alive(), "the run ended before the test could lend its client again"


def test_a_client_lent_to_a_run_is_refused_to_a_second_run_at_the_same_time(register, tmp_path):
    """Two runs in two threads, one client lent to both: each run's figures are the client's counts since it began
    (`RequestStats.since`), and its stop is the client's: the runs counted each other's requests, and the one that
    ended first put back the client's stop while the other still ran. The second is refused before it sends, and
    the first counts its own requests only (as Register received them)."""
    from emulated import sync_options
    from register_batch.api import ClientInUse, RateLimiter, RegisterClient
    from register_batch.sync import sync_files

    token = samples_token(register)
    # Slow enough (5 requests a second) that the first run still sends while the second is started.
    with RegisterClient(register.emulator.url, token, limiter=RateLimiter(5, 1.0)) as client:
        first = sync_options(register.emulator, tmp_path / "first", token, report_dir=tmp_path / "first-reports")
        thread, outcome = _sync_in_thread(lambda: sync_files([SAMPLES / "extract.xml"], first, client=client))
        _sending(client, thread)
        second = sync_options(register.emulator, tmp_path / "second", token, report_dir=tmp_path / "second-reports")
        with pytest.raises(ClientInUse, match="in use by another sync run") as refused:
            sync_files([SAMPLES / "extract.xml"], second, client=client)
        thread.join()
    assert isinstance(refused.value, ConfigError) and refused.value.exit_code == 2
    assert "give each run its own RegisterClient" in str(refused.value)
    assert not (tmp_path / "second").exists()  # refused before its state dir was bound
    [synced] = outcome
    assert synced.outcomes == {"done": 12}
    received = httpx.get(f"{register.emulator.url}/__emulator__/stats").json()["requests"]
    assert synced.requests["total"] == received["total"] == client.stats.total


def test_another_threads_request_through_a_client_lent_to_a_run_is_refused_while_it_runs(register, tmp_path):
    """A request from another thread through the client a run holds would be counted as the run's (and its answer's
    Date taken for the run's listing's): refused, saying why; once the run is over the client is anyone's."""
    from emulated import sync_options
    from register_batch.api import ClientInUse, RateLimiter, RegisterClient
    from register_batch.sync import sync_files

    token = samples_token(register)
    with RegisterClient(register.emulator.url, token, limiter=RateLimiter(5, 1.0)) as client:
        options = sync_options(register.emulator, tmp_path, token, report_dir=tmp_path / "reports")
        thread, outcome = _sync_in_thread(lambda: sync_files([SAMPLES / "extract.xml"], options, client=client))
        _sending(client, thread)
        with pytest.raises(ClientInUse, match="lent to a sync run in another thread"):
            client.info()
        thread.join()
        [synced] = outcome
        received = httpx.get(f"{register.emulator.url}/__emulator__/stats").json()["requests"]["total"]
        assert synced.outcomes == {"done": 12} and synced.requests["total"] == received
        _thread, after = _sync_in_thread(client.info)  # the run over: any thread's again
        _thread.join()
    assert isinstance(after[0], dict), after
