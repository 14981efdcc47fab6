"""review230: across the rollover, the right extract put back the night after last year's file was sent again is not
called an old file (F1); the run named as the one whose sync is put back is the one that wrote it, not a later
unchanged rerun (F3); and a first new-cycle night that Register did not answer is not taken for the night that listed
last year's trainees (F2)."""

from __future__ import annotations

import pytest

from register_batch.errors import RegisterUnavailable
from trainee_extracts import DEFERRED, new_cohort, restarted, trainee, write_extract


def _codes(register) -> list[str]:
    return [w["code"] for w in register.report()["sync"]["run_warnings"]]


def test_the_right_file_put_back_after_last_years_is_not_called_an_old_file(register, tmp_path):
    deferred = {**trainee(3), **DEFERRED}
    july = write_extract(tmp_path / "july.csv", [trainee(1), trainee(2), deferred])
    september = write_extract(tmp_path / "september.csv", [*new_cohort(), restarted(deferred)])
    register.sync(july)
    register.sync(september)  # the new cycle's file
    line = register.sync(july).summary_line()  # last year's file again: warned
    assert "is this an old file?" in line and "sync_extract_seen_before" in _codes(register), line

    line = register.sync(september).summary_line()  # the right file put back: quiet
    assert "1 updated" in line, line
    assert "byte for byte" not in line and "old file" not in line, line
    assert "sync_extract_seen_before" not in _codes(register)


def test_the_run_named_as_put_back_is_the_one_that_changed_the_record_not_a_later_rerun(register, tmp_path):
    deferred = {**trainee(3), **DEFERRED}
    july = write_extract(tmp_path / "july.csv", [trainee(1), trainee(2), deferred])
    september = write_extract(tmp_path / "september.csv", [*new_cohort(), restarted(deferred)])
    register.sync(july)
    register.sync(september)  # run 2 moves the restarted trainee to 2026
    register.sync(september)  # run 3: the same file, nothing changed
    line = register.sync(july).summary_line()
    assert "This run put this file's values back in 1 record run 2 had synced from the newer one" in line, line


def test_a_first_new_cycle_night_register_did_not_answer_leaves_the_listing_to_the_next(register, tmp_path, no_backoff):
    last_year = [trainee(1), {**trainee(2), **DEFERRED}, {**trainee(3), "itt_end_date": "2027-07-31"}]
    register.sync(write_extract(tmp_path / "august.csv", [*last_year, *new_cohort()]))  # both cycles
    september = write_extract(tmp_path / "september.csv", new_cohort())  # the new cycle only

    register.emulator.set_faults("500:1.0")  # Register down: nothing listed, nothing written
    with pytest.raises(RegisterUnavailable, match="nothing was written") as failed:
        register.sync(september)
    register.emulator.set_faults(None)
    assert failed.value.exit_code == 3

    result = register.sync(september)  # the first night that lists Register is the first without 2025/26
    line = result.summary_line()
    sync = register.report()["sync"]
    assert sync["cycles_lacked"] == [2025] and sync["not_in_extract"] == 3, line
    assert "sync_extract_lacks_synced" in _codes(register), line
    assert "it is of 2025 to 2026, which run 1 synced records of" in line, line
