"""Fixtures for the report tests; the builders themselves are in report_builders.py."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from chromium_cdp import Browser, find_chromium
from report_builders import SYNC_INPUTS, VALIDATION_INPUTS, check, hostile_record, sync_extra

from register_batch.reports import ReportBuilder, html_report


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for the browser tests of a module, or the test skipped where there is none."""
    binary = find_chromium()
    if binary is None:
        pytest.skip("no Chromium binary (install Debian's `chromium` package, as .ci/run does, or set $CHROMIUM)")
    chromium = Browser(binary)
    try:
        yield chromium
    finally:
        chromium.close()


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh XDG_CACHE_HOME, and the page's Jinja environment as a new process finds it (nothing compiled)."""
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    env = html_report._ENV
    kept = env.bytecode_cache
    env.bytecode_cache = None
    env.cache.clear()
    yield home
    env.bytecode_cache = kept
    env.cache.clear()
