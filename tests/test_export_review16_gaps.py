"""Gaps found by review16 in export (and the listing it shares with sync), each shown against the emulator over HTTP
where the emulator can hold the case."""

from __future__ import annotations

import json
import time
from datetime import date, datetime

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.export import export_trainees
from register_batch.sync import sync_files

AS_OF = date(2026, 11, 28)
TOKEN = "review16-export-gaps-token"


def _changing_midway(url: str, change, pages: list[list[dict]]) -> RegisterClient:
    """A client whose listing runs `change` once, after its first page (another run writing while the export pages)."""

    class ChangingMidway(RegisterClient):
        def list_trainees(self, **params):
            if len(pages) == 1:
                change()
            items, meta = super().list_trainees(**params)
            pages.append(items)
            return items, meta

    return ChangingMidway(url, TOKEN, limiter=RateLimiter(1000, 1))


def test_a_change_stamped_before_a_page_is_still_exported_when_this_machines_clock_is_ahead_of_registers(tmp_path):
    """register-api.md §10: "since=<high-water mark minus a small overlap>"; api/client.py `_answered_at`: "a listing
    then overlaps more, never less". Register's clock (the emulator's, which also dates its answers) is 20 minutes
    behind this machine's: its Date is then taken for a proxy's, and "the earliest it can be by this machine's clock"
    (now - 15 min) is 5 minutes after Register's time. The fifth trainee is stamped between the first and second
    (Register stamps updated_at before its transaction commits) and shows only after page 1 was read: the same
    scenario as test_export.py's test_a_change_register_stamped_before_a_page_already_read_is_still_exported, which
    passes with Register's clock equal to this machine's or an hour ahead of it. Here the export writes 5 of 6."""
    from trainee_extracts import extract

    moment = {"now": time.time() - 20 * 60, "fixed": None}

    def clock() -> float:
        moment["now"] += 0.01
        return moment["fixed"] if moment["fixed"] is not None else moment["now"]

    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=clock) as emulator:
        loaded = sync_files([str(extract(tmp_path / "in.csv", 6))], sync_options(emulator, tmp_path, TOKEN))
        assert loaded.exit_code == 0
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            oldest_first = list(client.iter_trainees(academic_cycle=2025, sort_order="asc"))
            pages: list[list[dict]] = []

            def change() -> None:  # the fifth trainee, stamped between the first and the second: seen late
                between = datetime.fromisoformat(oldest_first[1]["updated_at"].replace("Z", "+00:00")).timestamp()
                moment["fixed"] = between - 0.005
                client.update_trainee(oldest_first[4]["trainee_id"], {"email": "late@example.org"})
                moment["fixed"] = None

            with _changing_midway(emulator.url, change, pages) as changing:
                result = export_trainees(
                    changing, to="jsonl", output=tmp_path / "held.jsonl", academic_cycle=2025, per_page=2
                )
    exported = {t["trainee_id"] for t in map(json.loads, (tmp_path / "held.jsonl").read_text().splitlines())}
    assert exported == {t["trainee_id"] for t in oldest_first}
    assert result.count == 6


# What Register returns only for a trainee with a HESA detail row (register-api.md §3.6): "keys are absent (not null)
# for trainees without a HESA detail row (e.g. created in the UI and never updated via API)".
HESA_DETAIL_KEYS = (
    "itt_aim",
    "itt_qualification_aim",
    "course_year",
    "additional_training_initiative",
    "ni_number",
    "pg_apprenticeship_start_date",
    "previous_last_name",
    "fund_code",
)


def test_a_trainee_register_holds_without_a_hesa_detail_is_noted_when_its_exported_row_will_not_read_back(tmp_path):
    """docs/formats.md, export: "a dry run of an export against the service it came from plans nothing but
    `unchanged`, except where a format cannot hold what Register does, and then the export says so in a note for each
    trainee". A trainee Register got from Apply, or that a user added in its web service, and that no API client has
    updated has no HESA detail row: Register's answer has no itt_aim, course_year or fund_code (§3.6), all three
    required (§3.2). Its exported row is refused by validate (and by a sync of the file), with no note from the export
    naming it. The emulator makes every trainee through the API, so the test takes one of them back to how Register
    holds such a trainee (its HESA detail values gone, record_source `apply`)."""
    from register_batch.emulator.app import token_digest
    from register_batch.validation import Checker
    from trainee_extracts import extract

    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        assert (
            sync_files([str(extract(tmp_path / "in.csv", 3))], sync_options(emulator, tmp_path, TOKEN)).exit_code == 0
        )
        store = emulator.app.store
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            [from_apply, *_others] = list(client.iter_trainees(academic_cycle=2025))
            with store.transaction():
                provider = store.provider_by_token_hash(token_digest(TOKEN))
                assert provider is not None
                held = store.trainee(provider["id"], from_apply["trainee_id"])
                assert held is not None
                held["fields"] = {k: v for k, v in held["fields"].items() if k not in HESA_DETAIL_KEYS}
                held["meta"] = {**held["meta"], "record_source": "apply"}
                store.save_trainee(held)
            out = tmp_path / "held.csv"
            result = export_trainees(client, to="register-csv", output=out, academic_cycle=2025)
            as_xml = export_trainees(client, to="hesa-xml", output=tmp_path / "held.xml", academic_cycle=2025)
    assert result.count == 3
    with Checker(fmt="auto", as_of=AS_OF) as checker:
        refused = {r.data.get("hesa_id") for r in checker.records([str(out)]) if any(i.is_error for i in r.issues)}
    assert refused == {from_apply["hesa_id"]}  # the row does not read back
    for exported in (result, as_xml):
        its = [note for note in exported.notes if note.startswith(f"trainee {from_apply['trainee_id']}: ")]
        assert "Register holds no itt_aim, course_year, fund_code for this trainee" in its[0]
