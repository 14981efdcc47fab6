"""export_trainees' own argument checks mask a token-shaped value as every other library check does, and refuse an
academic_cycle that is no whole number before it goes into a request's query string (review228 F6)."""

from __future__ import annotations

import pickle

import pytest

from register_batch.api import RegisterClient
from register_batch.errors import ConfigError
from register_batch.export import export_trainees, iter_register_trainees

TOKEN = "sandbox_" + "0123456789abcdef" * 4  # Register's shape: 72 characters
NOWHERE = "http://127.0.0.1:9"  # nothing listens: nothing may be sent


@pytest.mark.parametrize("argument", ["since", "status", "academic_cycle"])
def test_a_token_given_as_a_filter_is_refused_unshown(tmp_path, argument):
    output = tmp_path / "out.jsonl"
    with pytest.raises(ConfigError) as refused:
        export_trainees(RegisterClient(NOWHERE, None), to="jsonl", output=output, **{argument: TOKEN})
    error = refused.value
    assert argument in str(error)
    assert "sandbox_" not in str(error) + repr(error.args) + repr(pickle.loads(pickle.dumps(error)).args)
    assert not output.exists()


def test_iter_register_trainees_masks_its_status_and_checks_its_cycle():
    client = RegisterClient(NOWHERE, None)
    with pytest.raises(ConfigError) as refused:
        iter_register_trainees(client, status=TOKEN)
    assert "sandbox_" not in str(refused.value)
    with pytest.raises(ConfigError, match="academic_cycle"):
        iter_register_trainees(client, academic_cycle="2026")
