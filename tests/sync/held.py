"""A record and the trainee Register holds for it, in memory, for tests that plan without Register: the VALID trainee
(tests/valid_trainee.py) as an extract's record, and as Register lists it (register-api.md §3.6-§3.8)."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

from register_batch.model import SourceRef, TraineeRecord
from register_batch.sync.plan import Holdings, RecordPlan, plan_record
from valid_trainee import AS_OF, VALID


def record(*, withdrawal: dict | None = None, deferral: dict | None = None, **changes: Any) -> TraineeRecord:
    """VALID as a record of an extract, with `changes` (a None value leaves the field out)."""
    data = {key: value for key, value in {**copy.deepcopy(VALID), **changes}.items() if value is not None}
    return TraineeRecord(source=SourceRef("in.csv", 1, 2), data=data, withdrawal=withdrawal, deferral=deferral)


def listed(trainee_id: str = "t1", **changes: Any) -> dict[str, Any]:
    """VALID as Register lists it: trainee `trainee_id`, trn_received, with its degree and placement (and their
    ids), then `changes` (a None value leaves the key out)."""
    trainee = {key: value for key, value in copy.deepcopy(VALID).items() if not key.endswith("_attributes")}
    trainee |= {
        "trainee_id": trainee_id,
        "state": "trn_received",
        "degrees": [{**VALID["degrees_attributes"][0], "degree_id": f"{trainee_id}-d1"}],
        "placements": [{**VALID["placements_attributes"][0], "placement_id": f"{trainee_id}-p1"}],
    }
    return {key: value for key, value in {**trainee, **changes}.items() if value is not None}


def planned(source: TraineeRecord, *held: dict[str, Any], linked: str | None = None, as_of: date = AS_OF) -> RecordPlan:
    """The plan for `source` against Register holding `held` (and a ledger linking it to `linked`)."""
    return plan_record(source, linked, Holdings(held), invalid=False, as_of=as_of)
