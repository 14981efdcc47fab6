"""An update is checked as Register checks it: the trainee Register holds, with the PUT's fields written over it
(register-api.md §2.6 step 3), not the record alone. A record that passes validation can still make a merged trainee
Register refuses: a blank the record leaves keeps Register's value (its own trainee_start_date, the initiative
update_body sends back so a PUT does not reset it), and that value puts the trainee in another start cycle. Such an
update is held back with Register's words and the value Register holds, in a dry run too, rather than sent to fail
with a 422 every night (review78 F1). Against the emulator over 127.0.0.1."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.model import API_VERSION
from register_batch.reference import load_reference
from register_batch.sync import sync_files
from trainee_extracts import WITHDRAWN, trainee, without_columns, write_extract

TOKEN = "merged-update-provider-token"
AS_OF = date(2026, 12, 5)
INITS = ("training_initiative", "additional_training_initiative")


def _row(**values: str) -> dict[str, Any]:
    """Trainee 1 on a provider-led undergraduate course in English starting 2026-09-01 (fund code 2, no bursary)."""
    row = {
        **trainee(1),
        "training_route": "11",
        "itt_qualification_aim": "008",
        "course_subject_1": "100320",
        "itt_start_date": "2026-09-01",
        "itt_end_date": "2029-07-31",
        "trainee_start_date": "",
        "fund_code": "2",
        "funding_method": "6",
    }
    return {**row, **values}


def _synced(emulator: Any, tmp_path: Path, row: dict[str, Any], name: str, **options: Any) -> Any:
    extract = write_extract(tmp_path / f"{name}.csv", [row])
    settings = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name, as_of=AS_OF, **options)
    return sync_files([str(extract)], settings)


def _writes(emulator: Any) -> dict[str, int]:
    routes = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]
    return {route: n for route, n in routes.items() if not route.startswith("GET")}


def _held(emulator: Any) -> dict[str, Any]:
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
        [held] = [t for cycle in (2025, 2026) for t in client.iter_trainees(academic_cycle=cycle, per_page=100)]
        return held


def _refusals(result: Any) -> list[Any]:
    return [issue for r in result.results for issue in r.issues if issue.code == "sync_update_refused"]


def test_a_start_register_holds_of_its_own_puts_the_update_in_its_cycle(tmp_path: Path) -> None:
    """Register's trainee_start_date (2026-07-20, set in its service) stays under a blank, so Register judges the
    funding in 2025 to 2026, where the undergraduate bursary is not for English: held back, not sent."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        assert _synced(emulator, tmp_path, _row(trainee_start_date="2026-07-20"), "created").exit_code == 0
        writes = _writes(emulator)
        bursary = _row(fund_code="7", funding_method="B")
        for name, dry_run in (("dry", True), ("real", False)):
            result = _synced(emulator, tmp_path, bursary, name, dry_run=dry_run)
            assert [r.plan.action for r in result.results] == ["blocked"], result.summary_line()
            assert result.exit_code == 1
            [issue] = _refusals(result)
            assert issue.is_error
            assert "funding_method 'bursary' is not allowed" in issue.message
            assert "'2025 to 2026'" in issue.message
            assert "Register holds trainee_start_date 2026-07-20" in issue.message
            assert _writes(emulator) == writes  # no PUT, no degree or placement write either
        held = _held(emulator)
        assert (held["trainee_start_date"], held["funding_method"]) == ("2026-07-20", "6")
        # Given in the record, the start puts the trainee where the record says: the same change goes through.
        given = _synced(emulator, tmp_path, {**bursary, "trainee_start_date": "2026-09-01"}, "given")
        assert [(r.plan.action, r.outcome) for r in given.results] == [("update", "done")], given.summary_line()
        assert _refusals(given) == []


def test_an_initiative_register_holds_is_not_sent_into_a_cycle_without_it(tmp_path: Path) -> None:
    """The international relocation payment (036) of a July start: a corrected ITT start moves the defaulted start to
    1 September. From an extract without the training_initiative column (it says nothing of initiatives), the
    initiative is sent back so that the PUT does not reset it, and it is not one of 2026 to 2027: held back, with
    advice the extract can follow (review196 F1). With the column, its blank says "no initiative": the update leaves
    it out, Register resets it, and the corrected start is written."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        july = _row(itt_start_date="2026-07-28", training_initiative="036")
        assert _synced(emulator, tmp_path, july, "created").exit_code == 0
        writes = _writes(emulator)
        extract = without_columns(write_extract(tmp_path / "moved.csv", [_row(itt_start_date="2026-09-01")]), *INITS)
        settings = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "moved", as_of=AS_OF)
        moved = sync_files([str(extract)], settings)
        assert [(r.plan.action, r.outcome) for r in moved.results] == [("blocked", "skipped")], moved.summary_line()
        [issue] = _refusals(moved)
        assert "training_initiative" in issue.message and "not available" in issue.message
        assert "Register holds training_initiative 036" in issue.message
        # The advice is what a person can do: give a code, have the extract give the field, or change Register
        assert (
            "or, for none, have the extract give the field empty (the F_INITIATIVES1 tag as NULL, or the "
            "F_INITIATIVES1 or training_initiative column blank: a record without it says nothing of it, and Register "
            "keeps 036)" in issue.message
        )
        assert "or remove 036 in Register's service" in issue.message
        assert "a blank in the extract keeps it" not in issue.message
        assert _writes(emulator) == writes
        assert _held(emulator)["itt_start_date"] == "2026-07-28"
        said = _synced(emulator, tmp_path, _row(itt_start_date="2026-09-01"), "said")  # the column, left blank
        assert [(r.plan.action, r.outcome) for r in said.results] == [("update", "done")], said.summary_line()
        assert _refusals(said) == []
        assert (_held(emulator)["itt_start_date"], _held(emulator)["training_initiative"]) == ("2026-09-01", None)


def test_an_ordinary_correction_is_sent_as_before(tmp_path: Path) -> None:
    """The check costs no request and holds back nothing Register takes: a corrected surname is updated."""
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        assert _synced(emulator, tmp_path, _row(trainee_start_date="2026-07-20"), "created").exit_code == 0
        corrected = _synced(emulator, tmp_path, _row(trainee_start_date="2026-07-20", last_name="Hughes"), "fixed")
        assert [(r.plan.action, r.outcome) for r in corrected.results] == [("update", "done")]
        assert _held(emulator)["last_name"] == "Hughes"


def test_a_code_register_holds_from_lists_newer_than_the_bundled_ones_blocks_nothing(tmp_path: Path) -> None:
    """review79 F1: the merged trainee is judged with the code lists the run validates with (`reference pull`'s in the
    state dir, or SyncOptions.reference_path), not the bundled ones: an ethnicity Register added to its lists, which it
    holds and sync sends back beside a blank (so that the update does not reset the diversity disclosure), made every
    change to the trainee `sync_update_refused`, every night. The emulator is given Register's newer lists, as
    `register-batch emulator --reference-data` gives them (review210 F8)."""
    payload = copy.deepcopy(load_reference(API_VERSION).api_payload())
    added = {"code": "181", "display_name": "A background Register added", "end_year": None, "start_year": None}
    payload["ethnicity"]["entries"].append(added)
    pulled = tmp_path / "reference-data.json"
    pulled.write_text(json.dumps(payload), encoding="utf-8")
    newer = load_reference(API_VERSION, pulled)  # Register's lists, newer than the bundled ones
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=newer) as emulator:
        row = _row(trainee_start_date="2026-07-20", ethnicity="181")
        assert _synced(emulator, tmp_path, row, "created", reference_path=pulled).exit_code == 0
        renamed = {**row, "ethnicity": "", "last_name": "Hughes"}
        bundled = _synced(emulator, tmp_path, renamed, "bundled", dry_run=True)  # lists without 181: Register's refusal
        assert [r.plan.action for r in bundled.results] == ["blocked"]
        [issue] = _refusals(bundled)
        assert "Register holds ethnicity 181, which the record leaves blank" in issue.message
        result = _synced(emulator, tmp_path, renamed, "renamed", reference_path=pulled)
        assert [(r.plan.action, r.outcome) for r in result.results] == [("update", "done")], result.summary_line()
        assert (_held(emulator)["last_name"], _held(emulator)["ethnicity"]) == ("Hughes", "181")


def test_a_refused_update_holds_back_the_records_withdrawal_and_says_so(tmp_path: Path) -> None:
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        assert _synced(emulator, tmp_path, _row(trainee_start_date="2026-07-20"), "created").exit_code == 0
        writes = _writes(emulator)
        leaving = {**_row(fund_code="7", funding_method="B"), **WITHDRAWN, "withdrawal_date": "2026-11-02"}
        result = _synced(emulator, tmp_path, leaving, "leaving")
        [issue] = _refusals(result)
        assert issue.message.endswith("(nor is its withdrawal, until the update goes through)")
        assert _writes(emulator) == writes


def test_the_validator_cache_is_safe_for_syncs_in_several_threads(monkeypatch: Any) -> None:
    """review80 F3: syncs in worker threads of one process share merged.py's cache of validators; without its lock,
    one thread's eviction met another's (`dictionary changed size during iteration`) and the cache outgrew its four
    places. The validator is made cheap here: the race is the cache's."""
    import sys
    import threading
    from datetime import timedelta

    from register_batch.sync import merged

    monkeypatch.setattr(merged, "Validator", lambda *args, **kwargs: object())
    merged._registers_rules.cache_clear()
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        reference = object()
        for i in range(5000):
            try:
                merged._registers_rules(AS_OF + timedelta(days=(n * 7 + i) % 50), reference)  # type: ignore[arg-type]
            except BaseException as exc:  # any failure of the cache is the finding
                errors.append(exc)
                return

    try:
        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(interval)
    assert errors == []
    assert merged._registers_rules.cache_info().currsize <= 4
    merged._registers_rules.cache_clear()  # not the stand-in validators for the tests after
