"""Fixtures the security tests share."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """The environment of a command run as a user would run it: none of the caller's REGISTER_* settings, a home of
    the test's own, and no shared rate budget. A test file that needs more defines its own `env`."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    environ.update(HOME=str(tmp_path / "home"), REGISTER_BATCH_RATE_DIR="off")
    return environ
