"""Each record the library logs during a sync names the run (`register_batch_run`): a service syncing several providers
in threads routes each record to its provider's log by it, not by the thread's name (review225 F4)."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from emulated import SYNC_TESTS_TOKEN, sync_options
from register_batch.runlog import RUN_ATTRIBUTE, RUN_LOGGERS
from register_batch.sync import sync_files

SAMPLES = Path(__file__).parents[2] / "samples"


class Kept(logging.Handler):
    """Every record of the library's, as a service's own handler on the `register_batch` logger sees it."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _kept(level: int = logging.DEBUG):
    logger = logging.getLogger("register_batch")
    handler, before = Kept(), logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler, lambda: (logger.removeHandler(handler), logger.setLevel(before))


def test_each_record_of_a_sync_names_its_state_dir_ukprn_target_and_ledger_run(our_register, tmp_path):
    handler, done = _kept()
    try:
        options = sync_options(our_register.emulator, tmp_path / "a", SYNC_TESTS_TOKEN, ukprn="10052198")
        synced = sync_files([SAMPLES / "extract.xml"], options)
    finally:
        done()
    ours = [r for r in handler.records if r.thread == threading.get_ident() and r.name in RUN_LOGGERS]
    assert {r.name for r in ours} >= {"register_batch.sync", "register_batch.api"}
    # Every record a sync writes in its thread is of a logger that names the run (a new logger would not).
    assert [r.name for r in handler.records if r.thread == threading.get_ident() and r not in ours] == []
    run = {"state_dir": str(tmp_path / "a" / "state"), "ukprn": "10052198", "target": our_register.emulator.url}
    assert [r.getMessage() for r in ours if getattr(r, RUN_ATTRIBUTE, None) is None] == []
    assert all(getattr(r, RUN_ATTRIBUTE).items() >= run.items() for r in ours)
    settings = next(r for r in ours if r.getMessage().startswith("Settings of ledger run"))
    after = ours[ours.index(settings) :]
    assert {getattr(r, RUN_ATTRIBUTE)["run_id"] for r in after} == {synced.run_id}


def test_two_threads_syncs_records_each_name_their_own_run(register, tmp_path):
    handler, done = _kept()
    threads = {}
    try:
        for name in ("a", "b"):
            options = sync_options(register.emulator, tmp_path / name, SYNC_TESTS_TOKEN, dry_run=True)
            threads[name] = threading.Thread(
                target=sync_files, args=([SAMPLES / "extract.xml"], options), name=f"sync-{name}"
            )
        for thread in threads.values():
            thread.start()
        for thread in threads.values():
            thread.join()
        logging.getLogger("register_batch.sync").warning("not in a run")  # outside a run: names none
    finally:
        done()
    for name, thread in threads.items():
        # By the thread's name: an ended thread's id may be a later one's (the emulator's own, answering).
        said = {getattr(r, RUN_ATTRIBUTE)["state_dir"] for r in handler.records if r.threadName == thread.name}
        assert said == {str(tmp_path / name / "state")}
    assert handler.records[-1].getMessage() == "not in a run" and not hasattr(handler.records[-1], RUN_ATTRIBUTE)
