"""Fixtures for the report tests; the builders themselves are in report_builders.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from report_builders import SYNC_INPUTS, VALIDATION_INPUTS, check, hostile_record, sync_extra

from register_batch.reports import ReportBuilder


@pytest.fixture
def validation_builder() -> Iterator[ReportBuilder]:
    builder, _records = check(VALIDATION_INPUTS, "validate")
    yield builder
    builder.close()


@pytest.fixture
def make_sync_builder() -> Iterator[Callable[..., ReportBuilder]]:
    """A factory: sync_builder(dry_run=...) -> a ReportBuilder for a sync of clean and broken extracts."""
    made: list[ReportBuilder] = []

    def make(*, dry_run: bool = False) -> ReportBuilder:
        builder, records = check(SYNC_INPUTS, "sync", also=(hostile_record(11),))
        builder.extra = sync_extra(records, dry_run=dry_run)
        made.append(builder)
        return builder

    yield make
    for builder in made:
        builder.close()
