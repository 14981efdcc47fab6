"""What the mapping tests share: a user's mapping file written as given, and the one line that refuses it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from register_batch.errors import ConfigError
from register_batch.mapping import load_mapping


@pytest.fixture
def refusal(tmp_path) -> Callable[[str], tuple[str, str]]:
    """`refusal(text)`: write `text` as a user's mapping file, load it, and return (its path, the ConfigError's
    message); fails the test if the file is accepted."""

    def refuse(text: str) -> tuple[str, str]:
        user = tmp_path / "ours.yaml"
        user.write_text(text)
        with pytest.raises(ConfigError) as caught:
            load_mapping([user])
        return str(user), str(caught.value)

    return refuse


# The reference C23053 sample made valid as of 2026-11-28 (an end date to come, route 12, a start in 2026/27).
_C23053_MADE_VALID = {
    "<F_EXPECTEDENDDATE>2023-10-01<": "<F_EXPECTEDENDDATE>2027-07-31<",
    "<F_ENTRYRTE>02<": "<F_ENTRYRTE>12<",
    "<F_INITIATIVES1>009<": "<F_INITIATIVES1>NULL<",
    "<F_ITTPHSC>13909<": "<F_ITTPHSC>13918<",
    "<F_ITTSTARTDATE>2023-01-01<": "<F_ITTSTARTDATE>2026-09-01<",
    "<F_TRAINEESTARTDATE>2023-01-02<": "<F_TRAINEESTARTDATE>2026-09-01<",
}


@pytest.fixture
def c23053_made_valid(hesa_samples, tmp_path) -> Callable[..., Path]:
    """`c23053_made_valid(name, **changes)`: the C23053 sample made valid, with `changes` (written text -> text, each
    found once) on top, written to tmp_path / name."""

    def write(name: str, changes: dict[str, str] | None = None) -> Path:
        text = (hesa_samples / "itt_record_C23053.xml").read_text()
        for old, new in {**_C23053_MADE_VALID, **(changes or {})}.items():
            assert text.count(old) == 1, old
            text = text.replace(old, new)
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
