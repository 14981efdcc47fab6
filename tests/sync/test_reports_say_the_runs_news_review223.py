"""What the summary line (or the log) says of a whole sync run, report.json and report.html say too (review223): the
records Register refused for a code its lists no longer have, with those held back unsent after that refusal counted
apart (F1), and a state dir with no ledger for a Register that already holds trainees (F2). Against the emulator over
127.0.0.1."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import jsonschema
import lxml.html

from emulated import lists_without, sync_options
from register_batch.emulator import start_emulator
from register_batch.reports import report_schema
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract

TOKEN = "reports-say-the-news-token"
AS_OF = date(2026, 11, 28)


def _report(folder: Path) -> dict[str, Any]:
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, report_schema())
    return report


def _summary_box(folder: Path) -> list[lxml.html.HtmlElement]:
    return lxml.html.fromstring((folder / "report.html").read_bytes()).xpath("//div[@data-status]/p")


def _text(element: lxml.html.HtmlElement) -> str:
    return " ".join(element.text_content().split())


def test_records_refused_for_a_code_registers_lists_dropped_are_said_so_in_every_report(tmp_path: Path) -> None:
    """F1: the summary line said "3 failed (nationality 'IT': Register's code lists have changed …: run `reference
    pull` …)"; report.html's summary box said "3 records failed at Register. Register's messages are under Issues.",
    of records two of which were never sent, and report.json had no word of the lists."""
    rows = [{**trainee(n), "nationality": "IT"} for n in (4, 5, 7)] + [trainee(6)]
    lists = lists_without(tmp_path, "nationality", "IT")
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=lists) as emulator:
        extract = write_extract(tmp_path / "it.csv", rows)
        folder = tmp_path / "r"
        result = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=folder))
    message = (
        "1 refused by Register and 2 not sent after the same refusal, for nationality 'IT': Register's code lists "
        "have changed since those in use, bundled v2026.1: run `register-batch reference pull` and `register-batch "
        "reference diff`"
    )
    [first, *_rest] = _summary_box(folder)
    said = _text(first)
    assert said.startswith("3 records not written: Register no longer lists a code they give. 1 refused by Register")
    assert first.xpath("code/text()") == ["register-batch reference pull", "register-batch reference diff"]
    assert not any("failed at Register" in _text(line) for line in _summary_box(folder))
    changed = _report(folder)["sync"]["lists_changed"]
    assert changed == {
        "records": 3,
        "refused": 1,
        "not_sent": 2,
        "codes": ["nationality 'IT'"],
        "message": message,
    }
    # The summary line in the same words, counted apart likewise
    assert f"3 failed ({message})" in result.summary_line(), result.summary_line()


def test_a_state_dir_with_no_ledger_for_a_register_holding_trainees_is_said_in_the_reports(tmp_path: Path) -> None:
    """F2: "… has no ledger, but Register already holds N trainees …" was a log line only: report.json's
    sync.run_warnings was empty and report.html's summary box said nothing, for a real run and a dry run alike. Said
    once, in the log, on the command line: the summary line does not say it again."""
    extract = write_extract(tmp_path / "x.csv", [trainee(n) for n in (1, 2, 3)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:

        def synced(name: str, state: str, **extra: Any) -> Any:
            options = sync_options(
                emulator, tmp_path, TOKEN, report_dir=tmp_path / name, state_dir=tmp_path / state, **extra
            )
            return sync_files([str(extract)], options)

        synced("first", "state")  # an empty account: nothing to say
        assert _report(tmp_path / "first")["sync"]["run_warnings"] == []
        # A dry run says it as a real run does: each from a state dir of its own.
        for name, dry_run in (("dry", True), ("real", False)):
            result = synced(name, f"elsewhere-{name}", dry_run=dry_run)
            report = _report(tmp_path / name)
            [warning] = report["sync"]["run_warnings"]
            assert warning["code"] == "sync_state_dir_new" and warning["count"] == 3
            folder = tmp_path / f"elsewhere-{name}"
            assert warning["message"].startswith(
                f"The state dir {folder} has no ledger, but Register already holds 3 trainees of the "
                "extract's academic cycles. If earlier syncs used another state dir, use that one: without its ledger"
            ), warning["message"]
            assert report["sync"]["warnings"] == {"sync_state_dir_new": 3}
            [line] = [_text(p) for p in _summary_box(tmp_path / name) if "no ledger" in _text(p)]
            assert line.startswith(
                "A new state dir, for trainees Register already holds: expected on a provider's first sync only. "
                "The state dir "
            ), line
            assert "no ledger" not in result.summary_line()
        synced("again", "elsewhere-real")  # its ledger now: nothing to say
        assert _report(tmp_path / "again")["sync"]["run_warnings"] == []


def test_a_dry_run_leaves_the_state_dir_new_so_the_real_run_after_it_says_so_too(tmp_path: Path) -> None:
    """review229 F3: migration.md says to do a dry run first; that dry run noted the state dir listed, so the real run
    after it, whose reports are the ones kept, said nothing of a state dir new to a Register holding trainees."""
    extract = write_extract(tmp_path / "x.csv", [trainee(n) for n in (1, 2, 3)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:

        def warned(name: str, **extra: Any) -> list[str]:
            options = sync_options(
                emulator, tmp_path, TOKEN, report_dir=tmp_path / name, state_dir=tmp_path / "state", **extra
            )
            sync_files([str(extract)], options)
            return [warning["code"] for warning in _report(tmp_path / name)["sync"]["run_warnings"]]

        seed = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "seed", state_dir=tmp_path / "seed-st")
        sync_files([str(extract)], seed)  # Register holds the 3 trainees now, synced with another state dir
        assert warned("dry", dry_run=True) == ["sync_state_dir_new"]
        assert warned("real") == ["sync_state_dir_new"]
        assert warned("again") == []  # listed by a real run: its ledger now
