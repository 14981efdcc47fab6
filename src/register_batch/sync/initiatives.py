"""A HESA XML Student without its F_INITIATIVES1/2 tag: "no initiative", or nothing said? (review202 F1, review205)

A blank training initiative is "none" where the record gives the field (hesa-formats.md §2.3.12; compare.
blank_initiatives): a CSV with the column, blank; a HESA XML Student with the tag, `NULL` (HESA's absent value,
§1.4) or empty. An input that never gives the field (an SRS that does not export initiatives) says nothing of them,
and Register keeps its. A HESA XML Student without the tag is either: some SRSs leave an empty tag out rather than
write `NULL`. The fix of review196 F1 asked the file's other Students (one with the tag made every Student without
it say "none"), so the same Student kept Register's initiative one night and cleared it the next, as other trainees
gained or lost theirs, and the clearing was then blamed on an edit in Register.

Here a Student without the tag says "none" only where both hold: (a) this state dir's ledger says the SRS gave the
initiative when it last synced the record (its field digests, or what an unanswered write sent since: compare.
initiatives_given), which the SRS has so removed; and (b) the file has the tag on at least one Student, so its
export does give initiatives. Without (a) (none given then, or the ledger cannot tell: a first sync, digests made
under another token's key, a ledger older than them) it says nothing and Register's stays, without a word. With (a)
and not (b) (a mapping file naming a tag no Student has, review205 F1; an XML export without initiative tags after a
CSV night, F2) it says nothing either, but the record is warned (initiative_kept_untagged), and the ledger keeps
what the SRS gave for the next night. The ledger is read once a run, before anything is written: the dry run plans
what the run does, and a record read back after its write is judged as it was planned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from register_batch.mapping.loader import MappingConfig
from register_batch.model import CLEARABLE_INITIATIVES, TraineeRecord
from register_batch.sync.compare import FieldKey, initiatives_given, unpack_digests
from register_batch.sync.ledger import Ledger
from register_batch.sync.plan import record_key

_NONE: frozenset[str] = frozenset()
INITIATIVE_KEPT = "initiative_kept_untagged"  # (a) without (b): Register's kept, and said (review205 F1/F2)


def initiative_tags(mapping: MappingConfig) -> dict[str, str]:
    """CLEARABLE_INITIATIVES -> the HESA tags the run's field map reads each from, as the warning names them."""
    fmap = mapping.fields.get("hesa")
    trainee = fmap.trainee if fmap is not None else {}
    return {name: " or ".join(trainee.get(name, ())) or name for name in CLEARABLE_INITIATIVES}


def given_when_synced(ledger: Ledger, key: FieldKey) -> dict[str, dict[str, str]]:
    """Record key -> the training initiatives the record gave a value of when this state dir last synced it in full,
    each with its digest, for the records that gave one, as far as the ledger can tell (Ledger.synced_digests, made
    under `key`). An initiative an unanswered write sent since (`fields_synced.sent`: a reply lost) counts as given
    too, as it may be in Register (review205 F4)."""
    found: dict[str, dict[str, str]] = {}
    for record, (text, sent) in ledger.synced_digests(key.id).items():
        if (then := unpack_digests(text, key)) is None:
            continue
        given = {name: then[name] for name in initiatives_given(then, key)}
        if sent is not None and (since := unpack_digests(sent, key)) is not None:
            given |= {name: since[name] for name in initiatives_given(since, key) if name not in given}
        if given:
            found[record] = given
    return found


def said_by_ledger(
    given: dict[str, dict[str, str]],
    widen: Callable[[TraineeRecord], None] | None,
    tagged: Mapping[str, frozenset[str]],
    tags: Mapping[str, str],
) -> Callable[[TraineeRecord], None]:
    """A RecordSpool's `widen` that, after `widen` (the Checker's), makes a Student's blank initiative without its tag
    (TraineeRecord.untagged) say "none" where the SRS gave one when the record was last synced (`given`:
    `given_when_synced`) and its file has the tag on some Student (`tagged`: RecordSpool.tagged):
    TraineeRecord.partial_lists no longer names it, so the drift, the PUT and the merged check take it as a CSV's
    blank cell under the column. Where no Student of the file has the tag, it stays unsaid, and
    TraineeRecord.kept_untagged names it (with `tags`, the tags read, for the warning)."""

    def widen_too(record: TraineeRecord) -> None:
        if widen is not None:
            widen(record)
        if not record.untagged or (then := given.get(record_key(record) or "")) is None:
            return
        if not (named := record.untagged & then.keys()):
            return
        shown = tagged.get(record.source.input, _NONE)
        if removed := named & shown:
            record.partial_lists = record.partial_lists - removed
        if kept := named - shown:
            record.kept_untagged = tuple((name, then[name], tags.get(name, name)) for name in sorted(kept))

    return widen_too
