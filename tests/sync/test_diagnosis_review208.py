"""A support engineer diagnosing an odd nightly sync from its artefacts alone (review208): the options the run was
started with are in its report (F3); Register out of reach before anything was written is exit 3, the outage's code,
not 1, "fix your records" (F5); the log's lines name the ledger's run and the time, the next report says why a
stopped run stopped, and the report folder is named by the run's start (F6); a signal's stop names the signal (F8).
Against the project's emulator on 127.0.0.1."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner
from test_hosting_providers_review183 import AS_OF, TOKEN_B, WRONG, host

from cli_runs import run_cli
from register_batch.cli import cli
from register_batch.sync.ledger import Ledger
from report_schema import allowed_report

# The end of a line that names its ledger run: `Ledger run 2, 2026-12-07T17:35:27.522Z.`
RUN_SAID = r"Ledger run (\d+), (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\.$"


@pytest.fixture
def in_b(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_backoff) -> Path:
    """This process in provider-b's host folder, with no REGISTER_ setting of the test's own environment."""
    for name in [name for name in os.environ if name.startswith("REGISTER_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("REGISTER_BATCH_RATE_DIR", "off")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _aim(folder: Path, url: str) -> None:
    settings = folder / "provider-b.toml"
    text = settings.read_text()
    settings.write_text(re.sub(r'target = "[^"]*"', f'target = "{url}"', text))


def _sync(*extra: str):
    return CliRunner().invoke(
        cli, ["--config", "provider-b.toml", *extra[:1], "sync", "b.csv", "--as-of", AS_OF, *extra[1:]]
    )


def _free_port() -> int:
    with socket.socket() as taken:  # a port nothing listens on once it is let go
        taken.bind(("127.0.0.1", 0))
        return taken.getsockname()[1]


def _runs(folder: Path) -> list[tuple]:
    with sqlite3.connect(folder / "state" / "b" / "ledger.sqlite3") as db:
        return db.execute("SELECT id, started_at, status, summary FROM runs ORDER BY id").fetchall()


def _report_folders(folder: Path) -> list[Path]:
    return sorted(path for path in (folder / "reports" / "b").iterdir() if (path / "report.json").exists())


def test_register_out_of_reach_before_anything_was_written_is_exit_3_and_its_line_names_the_ledger_run(in_b):
    """review208 F5, F6: exit 1 told a scheduler "fix your records", and the newest report was the night before's;
    the line named no run, though the ledger has one (stopped), and no time."""
    host(in_b, f"http://127.0.0.1:{_free_port()}", TOKEN_B)
    done = _sync()
    line = done.stderr.splitlines()[-1]
    assert done.exit_code == 3, (done.exit_code, done.output)
    assert line.startswith("register-batch: error: Register was unavailable (GET /trainees: could not"), line
    assert "nothing was written. Run again later. For provider 10000002 (provider-b.toml). Ledger run 1, " in line
    found = re.search(RUN_SAID, line)
    assert found and found.group(1) == "1", line
    [(run_id, _started, status, summary)] = _runs(in_b)
    assert (run_id, status) == (1, "stopped") and '"sent": false' in summary


def test_the_next_report_says_why_the_run_before_stopped_and_that_it_sent_nothing(in_b, two_providers):
    """review208 F6: previous_run dropped the ledger's reason, and report.html told a run refused at its first request
    as one "this run does what it left undone"."""
    host(in_b, two_providers.url, WRONG)
    refused = _sync()
    assert refused.exit_code == 2, refused.output
    assert re.search(RUN_SAID, refused.stderr.splitlines()[-1]), refused.stderr  # a report-less night's row, named
    (in_b / "secrets" / "b").write_text(f"{TOKEN_B}\n")
    done = _sync()
    assert done.exit_code == 0, done.output
    [folder] = _report_folders(in_b)
    report = allowed_report(folder)
    previous = report["sync"]["previous_run"]
    assert (previous["id"], previous["status"], previous["sent"]) == (1, "stopped", False)
    assert previous["reason"].startswith("Unauthorized: ") and "401" in previous["reason"], previous
    page = (folder / "report.html").read_text(encoding="utf-8")
    said = previous["reason"].removeprefix("Unauthorized: ")[:12]  # the message, without Python's class (review217)
    assert f"and stopped before it sent anything ({said}" in page and "Unauthorized: " not in page
    assert "nothing of it to carry on" in page and "this run does what it left undone" not in page


def test_the_summary_line_names_the_ledger_run_and_the_report_folder_is_named_by_its_start(in_b, two_providers):
    """review208 F6: the log never named the run id, and the report folder's time was a second (or the extract's
    reading) off the ledger row's and report.json's start."""
    host(in_b, two_providers.url, TOKEN_B)
    done = _sync()
    assert done.exit_code == 0, done.output
    summary = done.stdout.splitlines()[-2]
    assert summary.startswith("3 records: 3 created.") and re.search(RUN_SAID, summary), summary
    assert "For provider 10000002 (provider-b.toml). Ledger run 1, " in summary
    [folder] = _report_folders(in_b)
    report = allowed_report(folder)
    [(_id, started_at, _status, _summary)] = _runs(in_b)
    started = report["run"]["started"]  # 2026-12-07T17:35:04+00:00
    assert started_at.startswith(started[:19]), (started_at, started)
    stamp = started[:19].replace("-", "").replace(":", "").replace("T", "-")
    assert folder.name == f"sync-{stamp}Z", (folder.name, started)


def test_the_options_the_run_was_started_with_are_in_its_report_and_at_v_in_its_log(tmp_path, two_providers):
    """review208 F3: a 429 or timeout night's --rate and --timeout, the token's source, the folders and the working
    directory were in no artefact."""
    in_b = tmp_path
    host(in_b, two_providers.url, TOKEN_B)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env |= {"HOME": str(tmp_path / "home"), "XDG_RUNTIME_DIR": "", "REGISTER_BATCH_RATE_DIR": "off"}
    command = ["--config", "provider-b.toml", "-v", "sync", "b.csv", "--as-of", AS_OF]
    done = run_cli([*command, "--rate", "50/30", "--timeout", "7", "--per-page", "100", "--format", "auto"], in_b, env)
    assert done.returncode == 0, done.stdout + done.stderr
    [folder] = _report_folders(in_b)
    report = allowed_report(folder)
    assert report["settings"] == {
        "rate": "50/30",
        "timeout": 7.0,
        "per_page": 100,
        "format": "auto",
        "token_source": "secrets/b (token_file in provider-b.toml)",
        "state_dir": "state/b",
        "report_dir": str(folder.relative_to(in_b)),
        "config_file": "provider-b.toml",
        "working_directory": str(in_b),
    }
    assert TOKEN_B not in (folder / "report.json").read_text(encoding="utf-8")
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "<code>--rate 50/30</code>" in page and "7 s for each answer" in page
    assert 'data-setting="token_source">API token from <span class="path">secrets/<wbr>b (token_<wbr>file in' in page
    said = [line for line in done.stderr.splitlines() if "INFO: Settings of ledger run 1: " in line]
    assert said, done.stderr
    assert (
        said and "rate 50/30, timeout 7 s, per page 100, format auto, token from secrets/b (token_file in " in said[0]
    )
    assert f"working directory {in_b}" in said[0] and TOKEN_B not in done.stdout + done.stderr


def test_a_run_stopped_by_sigterm_names_the_signal_in_its_report(in_b, two_providers, monkeypatch):
    """review208 F8: stopped.message said "Ctrl-C or a signal (SIGTERM, SIGHUP)" whichever came: a systemd stop, a
    dropped SSH session and a person's Ctrl-C call for different changes."""
    host(in_b, two_providers.url, TOKEN_B)
    original, sent = Ledger.record, []

    def record(self, key, status, **details):
        if status == "done" and not sent:
            sent.append(signal.SIGTERM)
            os.kill(os.getpid(), signal.SIGTERM)
        return original(self, key, status, **details)

    monkeypatch.setattr(Ledger, "record", record)
    done = _sync()
    assert done.exit_code == 3, done.output
    assert re.search(RUN_SAID, done.stderr.splitlines()[-1]), done.stderr
    [folder] = _report_folders(in_b)
    stopped = allowed_report(folder)["sync"]["stopped"]
    assert stopped["by"] == "signal" and stopped["signal"] == "SIGTERM", stopped
    assert stopped["message"].startswith("stopped by SIGTERM: a service stopped"), stopped
    page = (folder / "report.html").read_text(encoding="utf-8")
    assert "This sync was stopped before it finished, by SIGTERM: a service stopped" in page
