"""Shared test fixtures.

Tests read the public reference material only through `shared_reference`, which skips with a reason when
the research folder is absent (as on a fresh CI machine); everything else a test needs is in
tests/fixtures/ (copies, see tests/fixtures/SOURCES.txt) or generated.
"""

from __future__ import annotations

from pathlib import Path

import pytest

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parent.parent
SHARED_REFERENCE = REPO.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """The research folder ../shared/reference/ (skips when this checkout does not have it)."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"{SHARED_REFERENCE} is not present (only the research checkout has it)")
    return SHARED_REFERENCE


@pytest.fixture(scope="session")
def fixtures() -> Path:
    return FIXTURES


@pytest.fixture(scope="session")
def hesa_samples() -> Path:
    return FIXTURES / "hesa_samples"


@pytest.fixture(scope="session")
def register_csv_fixtures() -> Path:
    return FIXTURES / "register_csv"
