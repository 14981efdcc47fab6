"""A DELETE of a degree or placement answered 404: its own "not found" is a DELETE sent again after a lost reply once
the first was carried out, and the step is done, with the 200 a DELETE answers; a "Trainee(s) not found" is a trainee
Register no longer holds, and the step fails (review52 F6: both were taken as done, and the record showed 404).
Against the emulator over 127.0.0.1, with real sync runs of HESA extracts (which hold every degree and placement)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hesa_extracts import DEGREE_TAGS, hesa_trainee, write_hesa_csv

from emulated import AS_OF, SYNC_TESTS_TOKEN, sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync import sync_files


def test_a_placement_delete_whose_answer_was_lost_is_done_with_a_200(tmp_path: Path) -> None:
    with start_emulator(tokens=[SYNC_TESTS_TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:

        class AnswerLost(RegisterClient):
            def delete_placement(self, trainee_id: str, placement_id: str) -> dict[str, Any]:
                emulator.set_faults("lost-response:1.0")  # carried out; its resend gets 404
                try:
                    return super().delete_placement(trainee_id, placement_id)
                finally:
                    emulator.set_faults(None)

        options = sync_options(emulator, tmp_path, SYNC_TESTS_TOKEN)
        sync_files([str(write_hesa_csv(tmp_path / "a.csv", [hesa_trainee(1, placements=2)]))], options)  # room for 2
        fewer = write_hesa_csv(tmp_path / "b.csv", [{**hesa_trainee(1, placements=2), "F_PLMNTSCH_2": ""}])
        with AnswerLost(emulator.url, SYNC_TESTS_TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            result = sync_files([str(fewer)], options, client=client)
        assert result.requests["by_route"]["DELETE /trainees/{trainee_id}/placements/{placement_id}"] == 2
        assert [(r.outcome, r.http_status) for r in result.results] == [("done", 200)], result.summary_line()
        assert sync_files([str(fewer)], options).actions["unchanged"] == 1


def test_a_degree_delete_of_a_trainee_register_no_longer_holds_fails(tmp_path: Path) -> None:
    """The trainee went from Register (removed by DfE's support) after the run listed it: the DELETE's 404 names the
    trainee, not the degree, and nothing was deleted."""
    with start_emulator(tokens=[SYNC_TESTS_TOKEN], rate_limit=None, as_of=AS_OF, seed=1) as emulator:

        class TraineeGone(RegisterClient):
            def delete_degree(self, trainee_id: str, degree_id: str) -> dict[str, Any]:
                emulator.reset()  # Register holds no trainee any more
                return super().delete_degree(trainee_id, degree_id)

        options = sync_options(emulator, tmp_path, SYNC_TESTS_TOKEN)
        sync_files([str(write_hesa_csv(tmp_path / "a.csv", [hesa_trainee(1, degrees=2)]))], options)
        dropped = {f"{tag}_2": "" for tag in DEGREE_TAGS}  # the header has room for both: the list is complete
        fewer = write_hesa_csv(tmp_path / "b.csv", [{**hesa_trainee(1, degrees=2), **dropped}])
        with TraineeGone(emulator.url, SYNC_TESTS_TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            result = sync_files([str(fewer)], options, client=client)
        [record] = result.results
        assert (record.outcome, record.http_status, record.errors) == ("failed", 404, ["Trainee(s) not found"])
        assert result.exit_code == 1
