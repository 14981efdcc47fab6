"""What the mapping tests share: a user's mapping file written as given, and the one line that refuses it."""

from __future__ import annotations

from collections.abc import Callable

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
