"""A sync with pulled lists holding codes the bundled rule tables do not know (review210 F3, F4), against an emulator
given Register's newer lists over 127.0.0.1: the record is sent for Register to judge, and converges."""

from __future__ import annotations

import copy
import json
from datetime import date
from pathlib import Path
from typing import Any

from emulated import sync_options
from register_batch.emulator import start_emulator
from register_batch.model import API_VERSION
from register_batch.reference import ReferenceData, _bundled_index
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract

TOKEN = "pulled-codes-provider-token"
AS_OF = date(2026, 11, 28)


def registers_lists(tmp_path: Path, change: str) -> tuple[ReferenceData, Path]:
    """Register's lists with a code added, as the emulator judges by them (its internal name and, for an
    initiative, the cycle it runs in, which `GET /reference-data` does not give), and the file a pull saves."""
    index = copy.deepcopy(_bundled_index(API_VERSION))
    payload = index["payload"]
    if change == "initiative":
        payload["training_initiative"]["entries"].append({"code": "037", "display_name": "Future teaching scholars"})
        index["names"]["training_initiative"]["037"] = "future_teaching_scholars"
        index["funding"]["training_initiatives"]["2025"].append("future_teaching_scholars")
    else:
        payload["disability"]["entries"].append({"code": "60", "display_name": "Neurodivergent condition"})
        index["names"]["disability"]["60"] = "neurodivergent"
        index["identities"]["disability"]["60"] = "60"
    pulled = tmp_path / "reference-data.json"
    document = {"target": "test", "pulled_at": "2026-11-27T03:00:00+00:00", "payload": payload}
    pulled.write_text(json.dumps(document), encoding="utf-8")
    return ReferenceData(index, source="Register's"), pulled


def synced(emulator: Any, tmp_path: Path, row: dict[str, Any], name: str, **options: Any) -> Any:
    extract = write_extract(tmp_path / f"{name}.csv", [row])
    settings = sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / name, as_of=AS_OF, **options)
    return sync_files([str(extract)], settings)


def test_a_pulled_initiative_is_sent_with_a_warning_and_register_takes_it(tmp_path):
    """F4: after `reference pull`, a trainee on an initiative Register added was refused as not available in its
    cycle (0 requests, exit 1), though Register answers 201 for it."""
    lists, pulled = registers_lists(tmp_path, "initiative")
    row = dict(trainee(1), training_initiative="037")
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        emulator.app.reference = lists
        result = synced(emulator, tmp_path, row, "pulled", reference_path=pulled)
        assert [(r.plan.action, r.outcome) for r in result.results] == [("create", "done")], result.summary_line()
        [(record,)] = [[i.code for i in r.issues] for r in result.results]
        assert record == "initiative_not_judged"
        assert result.exit_code == 0


def test_a_pulled_disability_code_converges_with_registers_disclosure(tmp_path):
    """F3: Register counts a disability it added as disclosed; the sync, judging by the bundled internal names,
    expected "not disclosed" and sent a PUT every night."""
    lists, pulled = registers_lists(tmp_path, "disability")
    row = dict(trainee(1), disability1="60", ethnicity="997")
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        emulator.app.reference = lists
        first = synced(emulator, tmp_path, row, "first", reference_path=pulled)
        assert [r.plan.action for r in first.results] == ["create"], first.summary_line()
        again = synced(emulator, tmp_path, row, "again", reference_path=pulled)
        assert [r.plan.action for r in again.results] == ["unchanged"], again.summary_line()
