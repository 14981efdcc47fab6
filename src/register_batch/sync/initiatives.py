"""A HESA XML Student without its F_INITIATIVES1/2 tag: "no initiative", or nothing said? (review202 F1)

A blank training initiative is "none" where the record gives the field (hesa-formats.md §2.3.12; compare.
blank_initiatives): a CSV with the column, blank; a HESA XML Student with the tag, `NULL` (HESA's absent value,
§1.4) or empty. An input that never gives the field (an SRS that does not export initiatives) says nothing of them,
and Register keeps its. A HESA XML Student without the tag is either: some SRSs leave an empty tag out rather than
write `NULL`. The fix of review196 F1 asked the file's other Students (one with the tag made every Student without
it say "none"), so the same Student kept Register's initiative one night and cleared it the next, as other trainees
gained or lost theirs, and the clearing was then blamed on an edit in Register.

Here the record answers for itself, from this state dir's ledger: a Student without the tag says "none" of an
initiative the SRS gave when this state dir last synced the record in full (its field digests, compare.
initiatives_given), which the SRS has so removed; of any other (it gave none then, or the ledger cannot tell: a
first sync, digests made under another token's key, a ledger older than them) it says nothing, and Register's stays.
The ledger is read once a run, before anything is written: the dry run plans what the run does, and a record read
back after its write is judged as it was planned.
"""

from __future__ import annotations

from collections.abc import Callable

from register_batch.model import TraineeRecord
from register_batch.sync.compare import FieldKey, initiatives_given, unpack_digests
from register_batch.sync.ledger import Ledger
from register_batch.sync.plan import record_key

_NONE: frozenset[str] = frozenset()


def given_when_synced(ledger: Ledger, key: FieldKey) -> dict[str, frozenset[str]]:
    """Record key -> the training initiatives the record gave a value of when this state dir last synced it in full,
    for the records that gave one, as far as the ledger can tell (Ledger.synced_digests, made under `key`)."""
    found: dict[str, frozenset[str]] = {}
    for record, text in ledger.synced_digests(key.id).items():
        if (then := unpack_digests(text, key)) is not None and (given := initiatives_given(then, key)):
            found[record] = given
    return found


def said_by_ledger(
    given: dict[str, frozenset[str]], widen: Callable[[TraineeRecord], None] | None
) -> Callable[[TraineeRecord], None]:
    """A RecordSpool's `widen` that, after `widen` (the Checker's), makes a Student's blank initiative without its tag
    (TraineeRecord.untagged) say "none" where the SRS gave one when the record was last synced (`given`:
    `given_when_synced`): TraineeRecord.partial_lists no longer names it, so the drift, the PUT and the merged check
    take it as a CSV's blank cell under the column."""

    def widen_too(record: TraineeRecord) -> None:
        if widen is not None:
            widen(record)
        if record.untagged and (removed := record.untagged & given.get(record_key(record) or "", _NONE)):
            record.partial_lists = record.partial_lists - removed

    return widen_too
