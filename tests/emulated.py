"""Sync settings for a test talking to the project's emulator on 127.0.0.1: one place for the common ones."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from register_batch.api import RateLimiter, RegisterClient, Secret
from register_batch.model import API_VERSION
from register_batch.reference import ReferenceData, load_reference
from register_batch.sync import SyncOptions

AS_OF = date(2026, 11, 28)  # the day the fixtures and generated extracts are valid on
# The token of tests/sync/conftest.py's Register, imported from here: `from conftest import` finds whichever
# conftest.py is first on sys.path (tests/mapping's, run beside tests/sync alone).
SYNC_TESTS_TOKEN = "sync-tests-provider-token"
# A mapping file naming a user's own column names, read as Register's CSV only with it.
OWN_COLUMNS = """\
fields:
  register-csv:
    trainee:
      provider_trainee_id: student number
      first_names: given
      last_name: family
"""


def sync_options(emulator: Any, tmp_path: Path, token: str, **extra: Any) -> SyncOptions:
    """State in tmp_path/state, reports in tmp_path/reports, dates as of AS_OF, pacing out of the way."""
    settings: dict[str, Any] = {
        "target": emulator.url,
        "token": Secret(token),
        "state_dir": tmp_path / "state",
        "report_dir": tmp_path / "reports",
        "as_of": AS_OF,
        "rate": (10_000, 60.0),
        **extra,
    }
    return SyncOptions(**settings)


def create_answers_lost(emulator: Any, token: str, then: Callable[[], object]) -> RegisterClient:
    """A client whose creates Register carries out and whose answers are lost on the way back, each followed by
    `then()`: what happens while the create is out (the token revoked, a stop, a laptop suspended)."""

    class AnswerLost(RegisterClient):
        def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
            emulator.set_faults("lost-response:1.0")
            try:
                return super().create_trainee(data)
            finally:
                emulator.set_faults(None)
                then()

    return AnswerLost(emulator.url, token, limiter=RateLimiter(10_000, 1))


def lists_without(folder: Path, field: str, code: str) -> ReferenceData:
    """Register's lists as a `reference pull` saves them in `folder`, without `code` of `field` (a code Register no
    longer lists), loaded as `register-batch emulator --reference-data` loads them."""
    payload = copy.deepcopy(load_reference(API_VERSION).api_payload())
    payload[field]["entries"] = [e for e in payload[field]["entries"] if e["code"] != code]
    pulled = folder / "register-lists.json"
    pulled.write_text(json.dumps({"payload": payload}), encoding="utf-8")
    return load_reference(API_VERSION, pulled)
