"""Fixtures shared by the readers' tests."""

from __future__ import annotations

from datetime import date

import pytest

from register_batch.generate import generate


@pytest.fixture(scope="session")
def long_extract(tmp_path_factory):
    """About 1,000 generated trainees (over 3 MB, over 65,535 lines), with defects: issues on many lines. Long enough
    to be read in chunks by two processes."""
    folder = tmp_path_factory.mktemp("long")
    path = folder / "long.xml"
    generate(path, count=1000, fmt="hesa-xml", defects=0.2, truth=folder / "t.json", seed=11, as_of=date(2026, 11, 28))
    return path
