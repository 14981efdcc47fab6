"""Which of a record's errors the output `convert` writes still shows (review233 F1).

Most errors are on a value the output holds: validate of a written Register CSV finds them again, and Register's
upload refuses the row. Some are on what the output has no place for: the record's provider (Register's CSV has no
UKPRN column, a request body none either), how the input was laid out (a disability inside an SRS element of its own,
a placement without its <PLACEMENT>, a tag given twice: `malformed_record`), a withdrawal tag misspelt (never read),
a second degree or a middle name the row has no column for, an empty record (an all-blank row, which validate, sync
and Register's upload skip). Written, such a record looks clean: validate of the CSV passes it and a sync creates it,
another provider's trainee too. `convert_files` leaves each such record out and names it, and then each record of a
duplicate HUSID or SRS id whose every partner is left out (DuplicateGroups), for the same reason.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from register_batch.mapping import load_mapping
from register_batch.model import Issue, TraineeRecord
from register_batch.readers import InputInfo, csv_layout
from register_batch.readers.csv import read_mappings
from register_batch.validation import Checker
from register_batch.writers import cell_as_read, register_csv_row, register_template

# Findings across records that validate of the output makes again from what it holds: both records of a duplicate
# are written with the HUSID and SRS id they share. Any other (another provider's record: several_providers,
# other_provider_record) is on the record's UKPRN, which no output of convert holds.
CARRIED_BATCH_CODES = frozenset({"duplicate_hesa_id", "duplicate_provider_trainee_id"})

# Errors on how the input is laid out, which no output of convert has (see error_key).
LAYOUT_CODES = frozenset({"malformed_record"})

_INDEX = re.compile(r"\[\d+\]")


def error_key(issue: Issue) -> str:
    """What an error is about, as the output's own check of it would say: its field, without the degree's or
    placement's place in the list (the row's one degree is the highest, wherever it was); its rule when it names no
    field, or for a record the input laid out wrongly (malformed_record, whose field is the input's own tag or
    column, and whose values may be another field's: no output has the input's layout). A rule's code may differ
    between the input's reading and the output's (an untranslatable_code read back as invalid_code): the field is
    what must be found again."""
    if not issue.field or issue.code in LAYOUT_CODES:
        return issue.code
    return _INDEX.sub("", issue.field)


class ReadBack:
    """A record's errors that its written output does not show again: for `register-csv` the row read back as
    validate of the file reads it (the written cells, one protecting apostrophe taken off, through the CSV reader,
    the bundled mapping and every rule); for `jsonl` and `json`, the request body (and withdrawal or deferral
    body) checked as validate checks a record's values (Validator.check_body, its legacy codes read as a file's
    are). Close it (or use it as a context manager) to free the read-back checker's temporary file."""

    def __init__(self, to: str, checker: Checker):
        self._checker = checker
        self._rows: Checker | None = None
        if to == "register-csv":
            # The bundled mapping, not the user's: the file written is Register's template, as its upload reads it
            # (a user's field map for Register CSVs may name other columns, and a template column none).
            mapping = load_mapping()
            self._rows = Checker(fmt="register-csv", mapping=mapping, reference=checker.reference, as_of=checker.as_of)
            self._info = InputInfo(path="<written row>", format="register-csv")
            self._layout = csv_layout("register-csv", mapping)
            self._template = register_template()

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()

    def __enter__(self) -> ReadBack:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def lost(self, record: TraineeRecord, item: dict[str, Any]) -> list[Issue]:
        """The errors of `record` (written as `item`, jsonl_item's) that its output does not show: all of them for a
        row that reads as no record (every cell blank), none for a record without errors."""
        errors = [issue for issue in record.issues if issue.is_error]
        if not errors:
            return []
        found = self._found(item)
        if found is None:
            return errors
        keys = {error_key(issue) for issue in found if issue.is_error}
        return [issue for issue in errors if error_key(issue) not in keys]

    def blank(self, item: dict[str, Any]) -> bool:
        """Whether `item` is written as a Register CSV row of no value, which the CSV reader (and Register's upload)
        skip as no record."""
        return self._rows is not None and _blank_row(self._row(item))

    def _row(self, item: dict[str, Any]) -> list[str]:
        return register_csv_row(item["data"], self._template)[0]

    def _found(self, item: dict[str, Any]) -> list[Issue] | None:
        data = item["data"]
        if self._rows is None:
            checker = self._checker  # legacy codes read as validate reads them (export's read_back_issues)
            return checker.validator.check_body(
                data, checker.mapper, withdrawal=item.get("withdrawal"), deferral=item.get("deferral")
            )
        row = self._row(item)
        if _blank_row(row):
            return None  # the CSV reader, and Register's upload, skip it
        values = {column: (cell_as_read(cell) or None) for column, cell in zip(self._template, row, strict=True)}
        [raw] = read_mappings([values], self._info, self._layout)
        return self._rows.check(self._info, raw).issues


def lost_across_records(
    pairs: Iterable[tuple[int, Issue]], lost: dict[int, list[Issue]], duplicates: DuplicateGroups
) -> Iterator[tuple[int, Issue]]:
    """`pairs` (Checker.batch_issues) as they are, each error the output does not show (not CARRIED_BATCH_CODES)
    added to `lost` under its record's batch index, and each duplicate to `duplicates` (which of them the output
    shows is known only once every record left out is: DuplicateGroups.alone)."""
    for index, issue in pairs:
        if issue.is_error:
            if issue.code in CARRIED_BATCH_CODES:
                duplicates.add(index, issue)
            else:
                lost.setdefault(index, []).append(issue)
        yield index, issue


class DuplicateGroups:
    """The records sharing a HUSID or an SRS id (duplicate_hesa_id, duplicate_provider_trainee_id), kept to tell
    which duplicates the output still shows. validate of the output finds a duplicate only while at least two records
    of its group are written: one whose partners are all left out for errors of their own is written alone, passes,
    and a sync creates it under the id another trainee holds (review239 F1).

    Kept small (the findings across records of one record repeated a million times are two million duplicates): a
    group's records as an array of batch indexes, and each record's group of each kind in an array; not the issues,
    which the report spools."""

    def __init__(self) -> None:
        self._groups: dict[tuple[str, str | None], int] = {}  # (code, value) -> group number
        self._members: list[array[int]] = []  # by group number: its records' batch indexes
        self._kinds: list[tuple[str, str]] = []  # by group number: its rule's code and field
        self._group_of: dict[str, array[int]] = {}  # by code: each batch index's group number (-1: none)

    def add(self, index: int, issue: Issue) -> None:
        """Count `issue`, a duplicate found on the record of batch index `index`, in its group."""
        key = (issue.code, issue.value)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = len(self._members)
            self._members.append(array("q"))
            self._kinds.append((issue.code, issue.field or ""))
        self._members[group].append(index)
        group_of = self._group_of.setdefault(issue.code, array("q"))
        if len(group_of) <= index:
            group_of.extend(array("q", [-1]) * (index + 1 - len(group_of)))
        group_of[index] = group

    def alone(self, left_out: Collection[int]) -> dict[int, tuple[str, str]]:
        """The records also to leave out (batch index -> the duplicate's code and field) when those of `left_out` are:
        each that is the one record of a duplicate group still written (its partners left out), until none is. A
        record left out this way can leave a partner of its other id's group alone in turn: a fixed point."""
        alone: dict[int, tuple[str, str]] = {}

        def gone(index: int) -> bool:
            return index in left_out or index in alone

        written = [sum(1 for index in members if not gone(index)) for members in self._members]
        waiting = [group for group, count in enumerate(written) if count == 1]
        while waiting:
            group = waiting.pop()
            if written[group] != 1:
                continue  # its last record went with another group
            [index] = [index for index in self._members[group] if not gone(index)]
            alone[index] = self._kinds[group]
            for group_of in self._group_of.values():
                other = group_of[index] if index < len(group_of) else -1
                if other >= 0:
                    written[other] -= 1
                    if written[other] == 1:
                        waiting.append(other)
        return alone


def _blank_row(row: list[str]) -> bool:
    """A Register CSV row of no value: the CSV reader, and Register's upload, skip it as no record."""
    return not any(cell.strip() for cell in row)
