"""A run killed part-way through a record: every write of it Register answered is named by the next report, not only
the record's last (review108 F1). The ledger's entry keeps a record's last write; the writes before it (an update, a
degree deleted) were left to no report, though a report is the audit trail a migration lead reads after a crash."""

from __future__ import annotations

from collections import Counter

import pytest
from hesa_extracts import HESA_WITHDRAWAL, hesa_trainee, write_hesa_csv

from dying import Died, dying_client
from emulated import SYNC_TESTS_TOKEN as TOKEN
from emulated import sync_options
from register_batch.sync import sync_files

DEGREE = ("F_DEGTYPE", "F_DEGSBJ1", "F_DEGCLSS", "F_DEGEST", "F_DEGENDDT")


def _corrected_and_withdrawn(row: dict) -> dict:
    """The SRS corrects the email, drops the second degree and withdraws the trainee: [update, delete_degree,
    withdraw]."""
    changed = {**row, "F_NQTEMAIL": "corrected@example.com", **HESA_WITHDRAWAL}
    changed.update({f"{tag}_2": "" for tag in DEGREE})
    return changed


def _killed_at_write(register, tmp_path, rows: list[dict], write: int) -> None:
    options = sync_options(
        register.emulator, tmp_path, TOKEN, report_dir=tmp_path / "killed", timeout=5.0, as_of=register.as_of
    )
    with pytest.raises(Died):
        sync_files(
            [str(write_hesa_csv(tmp_path / "nightly.csv", rows))],
            options,
            client=dying_client(register.emulator.url, TOKEN, write),
        )


def _first_loaded(register, tmp_path, count: int) -> list[dict]:
    blank = dict.fromkeys(HESA_WITHDRAWAL, "")
    rows = [{**hesa_trainee(n, degrees=2, placements=2), **blank} for n in range(1, count + 1)]
    assert register.sync(write_hesa_csv(tmp_path / "nightly.csv", rows)).exit_code == 0
    return rows


def test_the_writes_before_the_one_in_flight_are_named(our_register, tmp_path):
    """Killed as the withdrawal went out: the update and the degree deleted before it were named by no report (the
    rerun said "1 withdrawn"), and the ledger kept them unreported for good."""
    register = our_register
    [row] = _first_loaded(register, tmp_path, 1)
    _killed_at_write(register, tmp_path, [_corrected_and_withdrawn(row)], 3)
    assert register.writes() - Counter({"POST /trainees": 1}) == Counter(
        {"PUT /trainees/{trainee_id}": 1, "DELETE /trainees/{trainee_id}/degrees/{degree_id}": 1}
    )
    rerun = register.sync(tmp_path / "nightly.csv")
    assert rerun.exit_code == 0 and rerun.summary_line().startswith("1 record: 1 withdrawn; 1 warning")
    [(code, message)] = [(i["code"], i["message"]) for i in register.report()["issues"] if i["record"] == 1]
    assert code == "sync_written_earlier"
    assert message.startswith("written to Register (update, then delete_degree) by the sync started "), message
    again = register.sync(tmp_path / "nightly.csv")  # said once: the report named them
    assert again.summary_line().startswith("1 record: 1 unchanged.") and register.report()["issues"] == []


def test_a_record_the_killed_run_finished_is_named_with_all_its_writes(our_register, tmp_path):
    """Killed at the next record's first write: the first record's warning named its withdrawal only."""
    register = our_register
    first, second = _first_loaded(register, tmp_path, 2)
    _killed_at_write(
        register, tmp_path, [_corrected_and_withdrawn(first), {**second, "F_NQTEMAIL": "b@example.com"}], 4
    )
    register.sync(tmp_path / "nightly.csv")
    [message] = [i["message"] for i in register.report()["issues"] if i["record"] == 1]
    assert message.startswith("written to Register (update, then delete_degree, then withdraw) by the sync started ")
    assert message.endswith("Register holds the record as the extract says; this is the first report to list it")
