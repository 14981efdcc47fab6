"""Register's code lists change in the middle of a year, and register-batch judges records by older ones (the bundled
lists, or an older pull): review210. Register then keeps a code it no longer lists otherwise than it was sent, without
an error: a degree institution becomes "Other UK institution" (echoed as null, register-api.md §3.7), a disability is
dropped (§5.3), a nationality it files under another's entry is echoed as that one's code (§3.6). The sync says so at
once (register_did_not_keep_code), and later nights neither send the same update again nor blame an edit made in
Register's service (sync_overwrites_register_edit). Against the emulator over 127.0.0.1, given the changed lists as
`register-batch emulator --reference-data` gives them (F8)."""

from __future__ import annotations

import copy
import json
import sqlite3
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from emulated import lists_without, sync_options
from register_batch.emulator import start_emulator
from register_batch.model import API_VERSION
from register_batch.reference import ReferenceData, _bundled_index, load_reference
from register_batch.sync import sync_files
from register_batch.sync.runner import stale_codes
from trainee_extracts import trainee, write_extract

TOKEN = "reference-changed-provider-token"
AS_OF = date(2026, 11, 28)
NOT_KEPT = "register_did_not_keep_code"
EDIT = "sync_overwrites_register_edit"


def _retired(tmp_path: Path, institution: str = "0117") -> ReferenceData:
    """Register's lists as a `reference pull` saves them, without degree institution `institution`, loaded as
    `register-batch emulator --reference-data` loads them."""
    return lists_without(tmp_path, "institution", institution)


def _aliased() -> ReferenceData:
    """Register's lists with a new nationality code `XL` filed under "british", so echoed as `GB` (as JE, GG and IM
    are, §3.6): a pull cannot teach register-batch that (GET /reference-data does not say which entry a code is of)."""
    index = copy.deepcopy(_bundled_index(API_VERSION))
    index["payload"]["nationality"]["entries"].append(
        {"code": "XL", "display_name": "Channel Islander", "start_year": None, "end_year": None}
    )
    index["payload"]["nationality"]["entries"].sort(key=lambda e: e["code"])
    index["names"]["nationality"]["XL"] = "british"
    index["identities"]["nationality"]["XL"] = "GB"
    return ReferenceData(index, source="test")


def _synced(emulator: Any, tmp_path: Path, row: dict[str, Any], name: str, **options: Any) -> Any:
    extract = write_extract(tmp_path / f"{name}.csv", [row])
    settings = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name, as_of=AS_OF, **options)
    return sync_files([str(extract)], settings)


def _warnings(result: Any, code: str) -> list[str]:
    return [message for r in result.results for found, message in r.warnings() if found == code]


def _writes(emulator: Any) -> dict[str, int]:
    routes = httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"]
    return {route: n for route, n in routes.items() if not route.startswith("GET")}


def _outcomes(result: Any) -> list[tuple[str, str]]:
    return [(r.plan.action, r.outcome) for r in result.results]


def test_an_institution_register_no_longer_lists_is_said_at_once_and_not_sent_every_night(tmp_path: Path) -> None:
    """review210 F1: the create was a clean success while Register stored the degree as Other UK institution; every
    night after, an update sent the institution again, with a warning that blamed an edit in Register's service. An
    edit made in Register's service since is still one."""
    row = trainee(1)  # awarding_institution 0117, which Register's lists no longer have
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=_retired(tmp_path)) as emulator:
        created = _synced(emulator, tmp_path, row, "night1")
        assert _outcomes(created) == [("create", "done")], created.summary_line()
        [said] = _warnings(created, NOT_KEPT)
        assert said.startswith(
            "Register did not keep degree institution '0117' (it holds Other UK institution): its code lists may"
        )
        assert "(bundled v2026.1): run `register-batch reference pull` and `register-batch reference diff`" in said
        issues = [i for r in created.results for i in r.issues if i.code == NOT_KEPT]
        assert [(i.severity.value, i.field, i.value) for i in issues] == [
            ("warning", "degrees_attributes[0].institution", "0117")
        ]
        writes = _writes(emulator)
        for night in ("night2", "night3"):
            again = _synced(emulator, tmp_path, row, night)
            assert _outcomes(again) == [("unchanged", "done")], again.summary_line()
            assert _writes(emulator) == writes  # no update, no degree write: one listing, as any unchanged night
            assert _warnings(again, EDIT) == []
            [kept] = _warnings(again, NOT_KEPT)  # visible each night, not silent
            assert kept.startswith(
                "Register did not keep degree institution '0117' (it holds Other UK institution), as it answered this "
                "state dir's write of it: not sent again while the record and Register stay so: its code lists may"
            ), kept
        # The note holds only while Register holds what it answered: an institution set in Register's service since
        # is a difference, sent back and named as Register's edit, as before.
        with httpx.Client(base_url=emulator.api_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            [held] = client.get("/trainees", params={"academic_cycle": 2025}).json()["data"]
            [degree] = held["degrees"]
            path = f"/trainees/{held['trainee_id']}/degrees/{degree['degree_id']}"
            assert client.put(path, json={"data": {"institution": "0119"}}).status_code == 200
        edited = _synced(emulator, tmp_path, row, "edited", dry_run=True)
        assert _outcomes(edited) == [("update", "planned")], edited.summary_line()
        assert [c["field"] for c in edited.results[0].plan.changes] == ["degrees[0].institution"]
        assert _warnings(edited, NOT_KEPT) == []
        assert len(_warnings(edited, EDIT)) == 1
        # The SRS corrects the institution to one Register lists: sent, and the note goes.
        moved = _synced(emulator, tmp_path, {**row, "awarding_institution": "0118"}, "corrected")
        assert _outcomes(moved) == [("update", "done")], moved.summary_line()
        assert _warnings(moved, NOT_KEPT) == []
        assert _outcomes(_synced(emulator, tmp_path, {**row, "awarding_institution": "0118"}, "after")) == [
            ("unchanged", "done")
        ]


def test_a_disability_register_dropped_is_said_at_once_and_each_night(tmp_path: Path) -> None:
    """review210 F1: a disability code Register no longer lists is dropped (its disclosure "not provided"), echoed as
    sent: the loss never showed at all."""
    row = {**trainee(2), "disability1": "51", "ethnicity": "997"}  # Register's diversity: not disclosed (no drift)
    index = copy.deepcopy(_bundled_index(API_VERSION))  # Register's lists without 51, whatever the bundled names say
    entries = index["payload"]["disability"]["entries"]
    index["payload"]["disability"]["entries"] = [e for e in entries if e["code"] != "51"]
    index["names"]["disability"].pop("51")
    index["identities"]["disability"].pop("51")
    lists = ReferenceData(index, source="test")
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=lists) as emulator:
        created = _synced(emulator, tmp_path, row, "night1")
        assert _outcomes(created) == [("create", "done")], created.summary_line()
        [said] = _warnings(created, NOT_KEPT)
        assert said.startswith("Register did not keep disability '51' (it holds the codes but no disability"), said
        issues = [(i.field, i.value) for r in created.results for i in r.issues if i.code == NOT_KEPT]
        assert issues == [("disability1", "51")]
        writes = _writes(emulator)
        again = _synced(emulator, tmp_path, row, "night2")
        assert _outcomes(again) == [("unchanged", "done")], again.summary_line()
        assert _writes(emulator) == writes
        assert len(_warnings(again, NOT_KEPT)) == 1


def test_a_code_register_files_under_another_entry_is_not_updated_every_night(tmp_path: Path) -> None:
    """review210 F2: nationality XL, echoed as GB, was updated every night (even after a pull) with a warning that
    blamed an edit in Register's service."""
    row = {**trainee(3), "nationality": "XL"}
    pulled = tmp_path / "state-lists.json"  # the user's pull: XL listed, but not which entry it is of
    payload = copy.deepcopy(load_reference(API_VERSION).api_payload())
    payload["nationality"]["entries"].append({"code": "XL", "display_name": "Channel Islander"})
    pulled.write_text(json.dumps({"payload": payload}), encoding="utf-8")
    mapping = tmp_path / "xl.yaml"
    # The bundled legacy.yaml refuses XL (no_translation; review210 F6, not this test's): the user's file lets it be.
    mapping.write_text('codes:\n  nationality:\n    translate:\n      "XL": {to: "XL"}\n', encoding="utf-8")
    options = {"reference_path": pulled, "mapping_files": [mapping]}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=_aliased()) as emulator:
        created = _synced(emulator, tmp_path, row, "night1", **options)
        assert _outcomes(created) == [("create", "done")], [r.errors for r in created.results]
        [said] = _warnings(created, NOT_KEPT)
        # Both codes listed: nothing to pull (review216 F4); said once, on the night of the write.
        assert said.startswith(
            f"Register files nationality 'XL' as 'GB' (both codes of the lists in use, pulled {pulled}: it keeps the "
            "one under the other's entry): there is nothing to pull"
        ), said
        assert "send 'GB'" in said and "reference pull" not in said
        issues = [(i.field, i.value) for r in created.results for i in r.issues if i.code == NOT_KEPT]
        assert issues == [("nationality", "XL")]
        writes = _writes(emulator)
        for night in ("night2", "night3"):
            again = _synced(emulator, tmp_path, row, night, **options)
            assert _outcomes(again) == [("unchanged", "done")], again.summary_line()
            assert _writes(emulator) == writes
            assert _warnings(again, EDIT) == []
            assert _warnings(again, NOT_KEPT) == []  # said once: no warning every night for good
        # Another field corrected: its update is sent, and the note stays (the next night sends nothing).
        renamed = {**row, "last_name": "Renamed"}
        corrected = _synced(emulator, tmp_path, renamed, "renamed", **options)
        assert _outcomes(corrected) == [("update", "done")], corrected.summary_line()
        assert [c["field"] for c in corrected.results[0].plan.changes] == ["last_name"]
        assert _outcomes(_synced(emulator, tmp_path, renamed, "after", **options)) == [("unchanged", "done")]


def test_a_ledger_without_the_table_gains_it_and_the_record_is_sent_once_more(tmp_path: Path) -> None:
    """A ledger of a version before `codes_echoed` (dropped here, as an older build's has none): opened, it gains the
    table empty; the record's drift is sent once more, its answer noted then, and the next night sends nothing."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=_retired(tmp_path)) as emulator:
        assert _synced(emulator, tmp_path, row, "night1").exit_code == 0
        [ledger] = (tmp_path / "state").rglob("ledger.sqlite3")
        with sqlite3.connect(ledger) as db:
            assert db.execute("SELECT COUNT(*) FROM codes_echoed").fetchone() == (1,)
            assert "0117" not in db.execute("SELECT echoed FROM codes_echoed").fetchone()[0]  # digests, not codes
            db.execute("DROP TABLE codes_echoed")
        older = _synced(emulator, tmp_path, row, "night2")
        assert _outcomes(older) == [("update", "done")], older.summary_line()
        assert len(_warnings(older, NOT_KEPT)) == 1
        assert _warnings(older, EDIT) == []  # Register's answer shows the difference was its own, not a person's
        assert _outcomes(_synced(emulator, tmp_path, row, "night3")) == [("unchanged", "done")]


def test_a_code_register_refuses_that_the_lists_in_use_accept_names_the_stale_lists(tmp_path: Path) -> None:
    """review210 F5: Register's 422 for a code it no longer lists said only "correct the record"; the record passed
    validation with it, so the fix is the lists: pull them and look at the difference. Said on the record's issue
    and once in the summary line. The next records with the same code are not sent to the same refusal: held back,
    reported failed, their ledger entries as they were (the next run sends them, or, after a pull, refuses them)."""
    rows = [{**trainee(n), "nationality": "IT"} for n in (4, 5, 7)] + [trainee(6)]
    lists = lists_without(tmp_path, "nationality", "IT")
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=lists) as emulator:
        extract = write_extract(tmp_path / "it.csv", rows)
        result = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "r"))
        assert _outcomes(result) == [("create", "failed")] * 3 + [("create", "done")]
        assert _writes(emulator) == {"POST /trainees": 2}  # the first IT record's, refused, and the last's
        [issue] = [i for i in result.results[0].issues if i.code == "api_rejected"]
        assert issue.message.startswith("nationality has invalid reference data value of 'IT'"), issue.message
        assert (
            "(nationality 'IT' is in the code lists in use, bundled v2026.1: Register's lists have changed since "
            "them. Run `register-batch reference pull` and `register-batch reference diff`" in issue.message
        ), issue.message
        for held in result.results[1:3]:
            [issue] = [i for i in held.issues if i.code == "api_rejected"]
            assert issue.message.startswith(
                "not sent: Register refused nationality 'IT' (for SRS id SRS-00004) earlier in this run, as not in its "
                "code lists, which the lists in use (bundled v2026.1) still have"
            ), issue.message
            assert held.requests == 0
        assert (
            "3 failed (1 refused by Register and 2 not sent after the same refusal, for nationality 'IT': Register's "
            "code lists have changed since those in use, bundled v2026.1: run `register-batch reference pull` and "
            "`register-batch reference diff`)" in result.summary_line()
        ), result.summary_line()
        # Their ledger entries are as before (none: never sent), so the next run sends them again, to the same
        # refusal once, as nothing was lost.
        again = sync_files([str(extract)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "r2"))
        assert _outcomes(again) == [("create", "failed")] * 3 + [("unchanged", "done")]
        assert _writes(emulator) == {"POST /trainees": 3}
    # A code the lists in use do not have either (the record is wrong, not the lists) keeps Register's words alone;
    # a degree's, as `_placed` names it, is told by its list too.
    bundled = load_reference(API_VERSION)
    wrong = ["nationality has invalid reference data value of 'QQ'. Example values include 'AD'"]
    assert stale_codes(wrong, bundled) == (wrong, ())
    degree = ["degrees_attributes[0].country has invalid reference data value of 'FR'. Example values include 'AD'"]
    said, found = stale_codes(degree, bundled)
    assert found == ("degrees_attributes[0].country 'FR'",) and "Register's lists have changed since them" in said[0]


def _client(emulator: Any) -> httpx.Client:
    return httpx.Client(base_url=emulator.api_url, headers={"Authorization": f"Bearer {TOKEN}"})


def test_an_institution_set_in_registers_service_is_named_when_a_real_run_puts_the_code_back(tmp_path: Path) -> None:
    """A data officer who sees "Other UK institution" in Register puts the right institution in by hand: the real run
    that puts the record's code back (which Register again holds as Other UK institution) names the edit it undid
    (sync_overwrites_register_edit), as the dry run does, besides register_did_not_keep_code. Only Register's own
    answer held before the write (Other UK institution both times) is not a person's edit."""
    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=_retired(tmp_path)) as emulator:
        assert _outcomes(_synced(emulator, tmp_path, row, "night1")) == [("create", "done")]
        with _client(emulator) as client:
            [held] = client.get("/trainees", params={"academic_cycle": 2025}).json()["data"]
            [degree] = held["degrees"]
            path = f"/trainees/{held['trainee_id']}/degrees/{degree['degree_id']}"
            assert client.put(path, json={"data": {"institution": "0119"}}).status_code == 200
        real = _synced(emulator, tmp_path, row, "edited")
        assert _outcomes(real) == [("update", "done")], real.summary_line()
        [edit] = _warnings(real, EDIT)
        assert "puts the extract's values back (degrees[0].institution" in edit, edit
        assert len(_warnings(real, NOT_KEPT)) == 1


def test_a_nationality_set_in_registers_service_is_named_when_a_real_run_puts_an_aliased_code_back(
    tmp_path: Path,
) -> None:
    """As for an institution: nationality XL (filed by Register as GB) set to FR in Register's service is named when
    the run sends XL back, though Register's answer again holds GB."""
    row = {**trainee(3), "nationality": "XL"}
    pulled = tmp_path / "state-lists.json"
    payload = copy.deepcopy(load_reference(API_VERSION).api_payload())
    payload["nationality"]["entries"].append({"code": "XL", "display_name": "Channel Islander"})
    pulled.write_text(json.dumps({"payload": payload}), encoding="utf-8")
    mapping = tmp_path / "xl.yaml"
    mapping.write_text('codes:\n  nationality:\n    translate:\n      "XL": {to: "XL"}\n', encoding="utf-8")
    options = {"reference_path": pulled, "mapping_files": [mapping]}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=_aliased()) as emulator:
        assert _outcomes(_synced(emulator, tmp_path, row, "night1", **options)) == [("create", "done")]
        with _client(emulator) as client:
            [held] = client.get("/trainees", params={"academic_cycle": 2025}).json()["data"]
            path = f"/trainees/{held['trainee_id']}"
            assert client.put(path, json={"data": {"nationality": "FR"}}).status_code == 200
        real = _synced(emulator, tmp_path, row, "edited", **options)
        assert _outcomes(real) == [("update", "done")], real.summary_line()
        [edit] = _warnings(real, EDIT)
        assert "(nationality" in edit, edit


def test_a_sync_report_with_each_warning_code_a_sync_gives_is_valid_by_the_published_schema(tmp_path: Path) -> None:
    """report.json's sync.warnings holds every warning code a sync gives (the catalogue's batch warnings, and the run's
    own): the published schema takes each, or a vendor's job checking reports with it rejects the very nights on
    which Register lost data (register_did_not_keep_code)."""
    import jsonschema

    from register_batch.reports import report_schema
    from register_batch.sync.runner import RUN_ONLY_WARNINGS
    from register_batch.validation.catalogue import CATALOGUE

    row = trainee(1)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=_retired(tmp_path)) as emulator:
        created = _synced(emulator, tmp_path, row, "night1")
        assert len(_warnings(created, NOT_KEPT)) == 1
    report = json.loads((tmp_path / "night1" / "report.json").read_text(encoding="utf-8"))
    schema = report_schema()
    jsonschema.validate(report, schema)  # the night's own report, with register_did_not_keep_code
    # Every batch warning of the catalogue but validate's and export's own (record issues, never in sync.warnings): a
    # code added to the sync's is caught here, not in a vendor's pipeline.
    import register_batch.jobs  # noqa: F401  (describes convert's own: the same catalogue whatever ran first)

    others = {"possible_duplicate_trainee", "not_in_register_csv", "error_not_in_output"}
    codes = [
        code
        for code, rule in CATALOGUE.items()
        if rule.scope == "batch" and rule.severity.value == "warning" and code not in others
    ]
    assert NOT_KEPT in codes and EDIT in codes
    for code in [*codes, *RUN_ONLY_WARNINGS]:
        jsonschema.validate({**report, "sync": {**report["sync"], "warnings": {code: 1}}}, schema)


def test_a_disability_warning_is_not_said_once_the_writes_answer_shows_register_kept_it(tmp_path: Path) -> None:
    """A disability Register dropped while it did not list it: once it lists it again, an update sending the record
    (a surname corrected) has an answer that holds the disability; the warning planning made from the listing before
    is not reported of a trainee Register has just mended."""
    row = {**trainee(2), "disability1": "51", "ethnicity": "997"}
    index = copy.deepcopy(_bundled_index(API_VERSION))
    entries = index["payload"]["disability"]["entries"]
    index["payload"]["disability"]["entries"] = [e for e in entries if e["code"] != "51"]
    index["names"]["disability"].pop("51")
    index["identities"]["disability"].pop("51")
    db = tmp_path / "register.sqlite3"
    with start_emulator(
        db=db, tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=ReferenceData(index, source="test")
    ) as emu:
        assert len(_warnings(_synced(emu, tmp_path, row, "night1"), NOT_KEPT)) == 1
        port = int(emu.url.rsplit(":", 1)[1].split("/")[0])
    renamed = {**row, "last_name": "Renamed"}
    # The same Register (database and address), listing 51 again.
    with start_emulator(port=port, db=db, tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        mended = _synced(emulator, tmp_path, renamed, "night2")
        assert _outcomes(mended) == [("update", "done")], mended.summary_line()
        assert _warnings(mended, NOT_KEPT) == []
        with _client(emulator) as client:
            [held] = client.get("/trainees", params={"academic_cycle": 2025}).json()["data"]
        assert held["disability_disclosure"] == "disabled"


def _pull(path: Path, when: str, payload: dict[str, Any] | None = None) -> Path:
    """A `reference pull` file as one made at `when` saves it: each pull is another file (its time differs)."""
    lists = payload or load_reference(API_VERSION).api_payload()
    path.write_text(json.dumps({"payload": lists, "pulled_at": when}), encoding="utf-8")
    return path


def test_a_dropped_disability_is_sent_once_more_after_a_pull_and_register_keeping_it_ends_the_warning(
    tmp_path: Path,
) -> None:
    """A disability Register dropped while it did not list it was never sent again, even once Register listed it
    again: the warning's advice (pull the lists) led nowhere. After a pull (other lists in use than those the drop was
    answered under) the record is sent once more; Register's answer keeps it, and the warning goes. With an ethnicity
    given too, where no derived drift sends the record."""
    rows = [{**trainee(2), "disability1": "51", "ethnicity": "997"}, {**trainee(8), "disability1": "51"}]
    index = copy.deepcopy(_bundled_index(API_VERSION))
    entries = index["payload"]["disability"]["entries"]
    index["payload"]["disability"]["entries"] = [e for e in entries if e["code"] != "51"]
    index["names"]["disability"].pop("51")
    index["identities"]["disability"].pop("51")
    lists = ReferenceData(index, source="test")
    db = tmp_path / "register.sqlite3"

    def synced(emulator: Any, name: str, **options: Any) -> Any:
        extract = write_extract(tmp_path / f"{name}.csv", rows)
        settings = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name, as_of=AS_OF, **options)
        return sync_files([str(extract)], settings)

    with start_emulator(db=db, tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=lists) as emu:
        assert len(_warnings(synced(emu, "night1"), NOT_KEPT)) == 2
        quiet = synced(emu, "night2")
        assert _outcomes(quiet) == [("unchanged", "done")] * 2, quiet.summary_line()
        port = int(emu.url.rsplit(":", 1)[1].split("/")[0])
    with start_emulator(port=port, db=db, tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:  # 51 again
        pulled = _pull(tmp_path / "pulled.json", "2026-11-29T02:00:00+00:00")
        dry = synced(emulator, "dry", reference_path=pulled, dry_run=True)
        assert _outcomes(dry) == [("update", "planned")] * 2, dry.summary_line()
        assert all(message.startswith("Sent once more: ") for message in _warnings(dry, NOT_KEPT))
        assert _warnings(dry, EDIT) == []
        # No made-up change of the disclosure Register derives (review219 F3): the disabilities, sent once more.
        resent = {"field": "disabilities", "register": "not kept", "source": "sent once more"}
        assert not any(c["field"] == "disability_disclosure" for r in dry.results for c in r.plan.changes)
        assert dry.results[1].plan.changes == [resent]  # (the first: the diversity disclosure it derives otherwise)
        mended = synced(emulator, "pulled", reference_path=pulled)
        assert _outcomes(mended) == [("update", "done")] * 2, mended.summary_line()
        assert _warnings(mended, NOT_KEPT) == [] and _warnings(mended, EDIT) == []
        with _client(emulator) as client:
            held = client.get("/trainees", params={"academic_cycle": 2025}).json()["data"]
        assert [t["disability_disclosure"] for t in held] == ["disabled", "disabled"]
        after = synced(emulator, "after", reference_path=pulled)
        assert _outcomes(after) == [("unchanged", "done")] * 2, after.summary_line()
        assert _warnings(after, NOT_KEPT) == []


def test_a_code_filed_under_another_entry_is_sent_once_more_after_each_pull(tmp_path: Path) -> None:
    """The note of XL filed as GB made the record in sync for good: were Register to give XL its own entry, nothing
    would ever send it again. A pull of other lists sends it once more, with no edit named; Register's answer (GB
    still) notes it again, said once, and the next night is quiet. A pull of the same lists (the file differs only in
    `pulled_at`) sends nothing: the note is of the lists, not of the file (review219 F2)."""
    row = {**trainee(3), "nationality": "XL"}
    payload = copy.deepcopy(load_reference(API_VERSION).api_payload())
    payload["nationality"]["entries"].append({"code": "XL", "display_name": "Channel Islander"})
    first = _pull(tmp_path / "state-lists.json", "2026-11-27T02:00:00+00:00", payload)
    mapping = tmp_path / "xl.yaml"
    mapping.write_text('codes:\n  nationality:\n    translate:\n      "XL": {to: "XL"}\n', encoding="utf-8")
    options: dict[str, Any] = {"reference_path": first, "mapping_files": [mapping]}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=_aliased()) as emulator:
        assert _outcomes(_synced(emulator, tmp_path, row, "night1", **options)) == [("create", "done")]
        assert _outcomes(_synced(emulator, tmp_path, row, "night2", **options)) == [("unchanged", "done")]
        _pull(first, "2026-11-28T02:00:00+00:00", payload)  # the same lists, pulled again
        before = _writes(emulator)
        same = _synced(emulator, tmp_path, row, "same", **options)
        assert _outcomes(same) == [("unchanged", "done")], same.summary_line()
        assert _warnings(same, NOT_KEPT) == [] and _writes(emulator) == before
        payload["nationality"]["entries"].append({"code": "XM", "display_name": "Another"})
        _pull(first, "2026-11-29T02:00:00+00:00", payload)  # other lists
        again = _synced(emulator, tmp_path, row, "pulled", **options)
        assert _outcomes(again) == [("update", "done")], again.summary_line()
        assert [c["field"] for c in again.results[0].plan.changes] == ["nationality"]
        assert _warnings(again, EDIT) == []
        [said] = _warnings(again, NOT_KEPT)
        assert said.startswith("Register files nationality 'XL' as 'GB'"), said
        quiet = _synced(emulator, tmp_path, row, "after", **options)
        assert _outcomes(quiet) == [("unchanged", "done")], quiet.summary_line()
        assert _warnings(quiet, NOT_KEPT) == []


def test_a_trainee_no_one_may_change_is_not_sent_once_more_after_a_pull() -> None:
    """A pull ends a note's hold, so that the record is sent once more; but a trainee recommended for award, awarded
    or withdrawn cannot be changed (§6): its send would be held every night (sync_after_award), never answered to
    note it again. Its notes hold whatever the lists, and a disability Register dropped makes no send either."""
    from held import listed, record

    from register_batch.api import Secret
    from register_batch.sync.compare import EchoedCodes, FieldKey
    from register_batch.sync.plan import Holdings, plan_record

    key = FieldKey(Secret(TOKEN))
    source = record(nationality="XL", disability1="51")
    for state in ("recommended_for_award", "awarded", "withdrawn"):
        held = listed(state=state, nationality="GB", disability1="51", disability_disclosure="disability_not_provided")
        first = plan_record(source, None, Holdings([held]), invalid=False, as_of=AS_OF)
        assert first.key is not None
        old = key.short("bundled, before a pull")
        noted = {first.key: {"nationality": [key.short("XL"), key.short("GB"), old]}}
        holdings = Holdings([held], echoed=EchoedCodes(key, noted))
        plan = plan_record(source, None, holdings, invalid=False, as_of=AS_OF)
        # Not held (sync_after_award every night), nor said to be sent once more: nothing can be sent.
        assert (plan.action, plan.changes, plan.after_award) == ("unchanged", [], None), (state, plan.after_award)
        assert not any(message.startswith("Sent once more") for message in plan.not_kept), plan.not_kept


def test_one_degrees_note_does_not_hide_an_edit_of_another_degree_after_a_pull(tmp_path: Path) -> None:
    """review219 F1: degree A's note (0117 held as Other UK institution) was matched to the drift of degree B by the
    field alone (`institution`): after a pull, when A is sent once more, a person's setting of B to Other UK
    institution was taken for Register's answer and put back without sync_overwrites_register_edit, in the dry run
    and in the real run. Each degree's note and answer speak for that degree only."""
    from hesa_extracts import hesa_trainee, write_hesa_csv

    row = {**hesa_trainee(1, degrees=2, placements=1), "F_DEGEST_2": "0118"}  # A: 0117, not listed; B: 0118

    def synced(emulator: Any, name: str, **options: Any) -> Any:
        extract = write_hesa_csv(tmp_path / f"{name}.csv", [row])
        settings = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name, as_of=AS_OF, **options)
        return sync_files([str(extract)], settings)

    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, reference=_retired(tmp_path)) as emulator:
        created = synced(emulator, "night1")
        assert _outcomes(created) == [("create", "done")], created.summary_line()
        assert len(_warnings(created, NOT_KEPT)) == 1
        with _client(emulator) as client:
            [held] = client.get("/trainees", params={"academic_cycle": 2026}).json()["data"]
            [b] = [d for d in held["degrees"] if d["institution"] == "0118"]
            path = f"/trainees/{held['trainee_id']}/degrees/{b['degree_id']}"
            assert client.put(path, json={"data": {"institution": None}}).status_code == 200  # "Other UK institution"
        pulled = _pull(tmp_path / "pulled.json", "2026-11-29T02:00:00+00:00")  # other lists than the bundled ones
        dry = synced(emulator, "dry", reference_path=pulled, dry_run=True)
        assert _outcomes(dry) == [("update", "planned")], dry.summary_line()
        [edit] = _warnings(dry, EDIT)
        assert "(degrees[1].institution)" in edit, edit
        real = synced(emulator, "real", reference_path=pulled)
        assert _outcomes(real) == [("update", "done")], real.summary_line()
        [edit] = _warnings(real, EDIT)
        assert "(degrees[1].institution)" in edit, edit
