"""Locate the data shipped with the package: `mappings/` and `samples/`.

In a wheel they live in `register_batch/_data/`; in a source checkout (or an editable install) they are
the top-level folders of the repository.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Path of a shipped data folder (`mappings` or `samples`)."""
    packaged = _PACKAGE / "_data" / name
    if packaged.is_dir():
        return packaged
    checkout = _PACKAGE.parent.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"register-batch data folder {name!r} is missing from this installation")
