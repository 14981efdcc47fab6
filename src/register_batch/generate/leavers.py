"""Withdrawals and deferrals for generated records, in register-batch's own WITHDRAWAL_* and DEFER_* columns (the
tags the HESA field map reads them from).

A vendor testing a nightly sync needs trainees who leave as well as trainees who join. The values are what the
withdraw and defer endpoints accept (register-api.md §2.7, §2.8, §3.9): a trainee leaves only once the ITT start date
has passed (Register refuses a withdrawal before it), on a day between that start and the as-of date, with reasons
valid for the trigger and the details some reasons need. Drawn from a random stream of their own, so a file made
without them has the bytes it always had.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from register_batch.generate.build import Draft, hash_key
from register_batch.mapping.loader import FieldMap
from register_batch.reference import ReferenceData

DEFER_REASONS = (
    "Caring responsibilities this term",
    "Health reasons; returning next academic year",
    "Financial circumstances",
)


class Leavers:
    """Decides, record by record, who is withdrawn or deferred, and writes the tags saying so."""

    def __init__(
        self, *, seed: int, as_of: date, reference: ReferenceData, fields: FieldMap, withdrawn: float, deferred: float
    ):
        self.rng = random.Random(hash_key(seed, "leavers"))
        self.as_of = as_of
        self.withdrawn = withdrawn
        self.deferred = deferred
        self.reference = reference
        # The tags the HESA field map reads each field from (mappings/fields/hesa.yaml), in its order.
        self.tags = {field: sources[0] for field, sources in (*fields.withdrawal.items(), *fields.deferral.items())}
        wanted = (fields.withdrawal if withdrawn else {}) | (fields.deferral if deferred else {})
        self.columns = tuple(sources[0] for sources in wanted.values())
        self.counts = {"withdrawn": 0, "deferred": 0}

    def __bool__(self) -> bool:
        return bool(self.columns)

    def mark(self, draft: Draft) -> None:
        """Give a clean record a withdrawal or a deferral, at the shares asked for, when it has started by as-of."""
        draw = self.rng.random()  # one draw per record, so who leaves does not depend on who has started
        started = self._started(draft)
        if started is None:
            return
        if draw < self.withdrawn:
            leaving = self._withdrawal(started)
            self.counts["withdrawn"] += 1
        elif draw < self.withdrawn + self.deferred:
            leaving = self._deferral(started)
            self.counts["deferred"] += 1
        else:
            return
        draft.leaving = {self.tags[field]: value for field, value in leaving.items()}
        _committed_by(draft, leaving.get("withdrawal_date") or leaving["defer_date"])

    def _started(self, draft: Draft) -> date | None:
        """The day the trainee started (the later of the ITT and trainee start dates), if on or before as-of."""
        days = [
            date.fromisoformat(draft.data[f]) for f in ("itt_start_date", "trainee_start_date") if draft.data.get(f)
        ]
        if not days or max(days) > self.as_of:
            return None
        return max(days)

    def _day(self, started: date) -> str:
        return (started + timedelta(days=self.rng.randint(0, (self.as_of - started).days))).isoformat()

    def _withdrawal(self, started: date) -> dict[str, str]:
        rng, reference = self.rng, self.reference
        trigger = rng.choice(reference.withdrawal_triggers)
        reasons = rng.sample(reference.withdrawal_reasons[trigger], 1 if rng.random() < 0.8 else 2)
        withdrawal = {
            "withdrawal_date": self._day(started),
            "reasons": ";".join(reasons),
            "trigger": trigger,
            "future_interest": rng.choice(reference.withdrawal_future_interest),
        }
        if any("another_reason" in r for r in reasons):  # §3.9: these reasons need their text
            withdrawal["another_reason"] = "Moved away from the area"
        if "safeguarding_concerns" in reasons:
            withdrawal["safeguarding_concern_reasons"] = "Concerns recorded by the provider (synthetic)"
        return withdrawal

    def _deferral(self, started: date) -> dict[str, str]:
        deferral = {"defer_date": self._day(started)}
        if self.rng.random() < 0.7:  # defer_reason is optional (§2.8)
            deferral["defer_reason"] = self.rng.choice(DEFER_REASONS)
        return deferral


def _committed_by(draft: Draft, day: str) -> None:
    """The SRS saved the record when the trainee left: its commit timestamps are no earlier than that day."""
    committed = draft.extras.get("F_COMMIT_TIMESTAMP")
    if committed is None or committed[:10] >= day:
        return
    stamp = committed[11:]
    draft.extras["F_COMMIT_TIMESTAMP"] = f"{day} {stamp}"
    draft.extras["F_STATUS_TIMESTAMP"] = f"{day[8:10]}/{day[5:7]}/{day[:4]} {stamp}"
