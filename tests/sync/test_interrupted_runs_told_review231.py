"""review231: what an interrupted migration's records say of it.

F1: with `--report-dir`, the interrupted run's line says "Run the same sync again to resume (report: …)", and that
rerun replaced the very report that listed the trainees the interrupted run created (the resume counts them
`unchanged`): none left on disk said which run created them. The resume now moves such a report aside, and says where.

F2: a second SIGTERM while the report was written was kept in the ledger as `stopped`, reason "_Stop: " (a class
name), and the next report took the run for an error stop, its writes for a kill's. It is now `interrupted`, with
the reason in words, which previous_run and each record's sync_written_earlier say.

Real processes and real signals; the emulator on 127.0.0.1, behind a server that holds the first create (never a
sleep), so that the first signal lands while a write is out however loaded the machine."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import threading
from collections import Counter
from pathlib import Path

import pytest

from cli_runs import sync_command
from emulated import AS_OF, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.reports import ReportBuilder
from register_batch.sync import sync_files
from stub_http import Answer, HoldFirstCreate, Seen, fronting
from trainee_extracts import trainee, write_extract

TOKEN = "interrupted-runs-told-review231"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def held(url: str) -> Counter:
    """How many trainees Register holds under each HUSID."""
    with RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        return Counter(t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=1000))


def report_json(folder: Path) -> dict:
    return json.loads((folder / "report.json").read_text(encoding="utf-8"))


def test_the_resume_into_the_same_report_dir_keeps_the_interrupted_runs_report_and_says_where(tmp_path):
    """The interrupted run's report (its create done, the rest not reached) is moved into reports/run-1-interrupted
    by the resume, which names it in report.json, report.html and its summary line. A finished run's report is
    replaced, as docs/configuration.md says: the next run into the folder moves nothing more."""
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 7)])
    reports = tmp_path / "reports"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(REGISTER_API_TOKEN=TOKEN, REGISTER_BATCH_RATE_DIR="off", HOME=str(tmp_path / "home"))
    gate = HoldFirstCreate()
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, gate) as front,
    ):
        command = sync_command(source, front.url, tmp_path / "state", reports, AS_OF.isoformat())
        process = subprocess.Popen(
            command, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        try:
            assert gate.sent.wait(120), "the sync sent no create"
            process.send_signal(signal.SIGTERM)  # while the first create is out
            gate.release.set()
            _out, err = process.communicate(timeout=120)
        finally:
            gate.release.set()
            if process.poll() is None:
                process.kill()
                process.wait()
        assert process.returncode == 3, err
        assert "Run the same sync again to resume" in err, err
        interrupted = report_json(reports)
        assert interrupted["sync"]["status"] == "interrupted" and interrupted["sync"]["earlier_report"] is None
        [created] = [r["hesa_id"] for r in interrupted["records"] if r["outcome"] == "done"]

        again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)  # the same command
        assert again.returncode == 0, again.stderr
        kept = reports / "run-1-interrupted"
        assert report_json(kept) == interrupted  # whole, and as it was
        assert sorted(path.name for path in kept.iterdir()) == [
            "issues.csv",
            "not_in_extract.csv",
            "report.html",
            "report.json",
            "results.csv",
        ]
        assert created in (kept / "results.csv").read_text(encoding="utf-8-sig")
        resumed = report_json(reports)
        assert resumed["sync"]["earlier_report"] == {"run_id": 1, "status": "interrupted", "moved_to": str(kept)}
        # the one the interrupted run created is `unchanged` here: the kept report is where it is said created
        assert [r["action"] for r in resumed["records"] if r["hesa_id"] == created] == ["unchanged"]
        assert f"Run 1's report (interrupted) was in the report folder: moved to {kept}, not replaced." in (
            again.stdout + again.stderr
        )
        html = (reports / "report.html").read_text(encoding="utf-8")
        assert (
            'The report of run 1 (interrupted), which this folder held, is kept in <a href="run-1-interrupted/' in html
        )

        third = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)  # after a finished run
        assert third.returncode == 0, third.stderr
        assert report_json(reports)["sync"]["earlier_report"] is None
        assert sorted(path.name for path in reports.iterdir() if path.is_dir()) == ["run-1-interrupted"]
        assert sorted(held(emulator.url).values()) == [1] * 6


class SigtermAtFirstCreate:
    """A `fronting` answer that sends this process SIGTERM as the first create arrives, then passes it on: the run's
    first stop signal, with a write out."""

    def __init__(self) -> None:
        self.sent = threading.Event()

    def __call__(self, seen: Seen, forward) -> Answer | None:
        if seen.method == "POST" and not self.sent.is_set():
            self.sent.set()
            os.kill(os.getpid(), signal.SIGTERM)
        return None


@pytest.fixture
def sigterm_again_as_the_report_is_written(monkeypatch):
    """A second SIGTERM (a real one, to this process) as the run begins writing its report: it stops at once."""
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signal handlers are installed on the main thread only")
    original = ReportBuilder.write
    sent: list[bool] = []

    def write(self, *args, **kwargs):
        if not sent:
            sent.append(True)
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, *args, **kwargs)

    monkeypatch.setattr(ReportBuilder, "write", write)
    previous = signal.getsignal(signal.SIGTERM)
    yield sent
    monkeypatch.undo()
    signal.signal(signal.SIGTERM, previous)


def test_a_second_sigterm_is_kept_as_interrupted_in_words_and_the_next_report_says_so(
    tmp_path, sigterm_again_as_the_report_is_written
):
    """A SIGTERM with the first create out, then another as the report is written: no report, and the ledger's run
    was `stopped`, reason "_Stop: "; the next report called it an error stop, its create a kill's."""
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in range(1, 7)])
    gate = SigtermAtFirstCreate()
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator,
        fronting(emulator.url, gate) as front,
    ):
        with pytest.raises(KeyboardInterrupt):
            sync_files([source], sync_options(front, tmp_path, TOKEN))
        assert gate.sent.is_set() and sigterm_again_as_the_report_is_written == [True]
        assert not (tmp_path / "reports" / "report.json").exists()  # stopped at once: no report
        with contextlib.closing(sqlite3.connect(tmp_path / "state" / "ledger.sqlite3")) as db:
            [(status, summary)] = db.execute("SELECT status, summary FROM runs").fetchall()
        why = "stopped at once by a second SIGTERM while its report was written"
        assert (status, json.loads(summary)) == ("interrupted", {"reason": why, "sent": True})
        [created] = held(emulator.url)

        result = sync_files([source], sync_options(front, tmp_path, TOKEN))  # the SIGTERMs were once only
    assert result.exit_code == 0
    data = report_json(tmp_path / "reports")
    previous = data["sync"]["previous_run"]
    assert (previous["status"], previous["reason"], previous["sent"]) == ("interrupted", why, True)
    [earlier] = [r for r in data["records"] if r["hesa_id"] == created]
    assert earlier["action"] == "unchanged"
    [message] = [i["message"] for i in data["issues"] if i["code"] == "sync_written_earlier"]
    assert (
        f"UTC (run 1), which ended before its report ({why}): Register holds the record as the extract says" in message
    )
    html = (tmp_path / "reports" / "report.html").read_text(encoding="utf-8")
    assert f"was interrupted part-way, without a report ({why}): this run names the writes it made" in html
