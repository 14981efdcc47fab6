"""Half of a UTF-16 surrogate pair in a JSON body (`"\\ud800"`): valid JSON, but no character (review61 F7). The
emulator took it in and failed the trainee's save (UTF-8 cannot hold it): a 500 with a traceback on its standard
error for each such request. Register's parser refuses it as it does a body that is not JSON: 400 (§1.5)."""

from __future__ import annotations

import json
import logging

import pytest
from emulator_helpers import trainee_body


def posted(api, raw: str):
    return api.post("/trainees", content=raw.encode("ascii"), headers={"Content-Type": "application/json"})


@pytest.mark.parametrize(
    "where",
    ["first_names", "a key", "a degree's subject", "a low half"],
)
def test_a_lone_surrogate_in_a_body_is_a_400_as_an_unparseable_body_is(api, emulator, caplog, where):
    body = trainee_body(first_names="AQQQB")
    raw = json.dumps(body)
    if where == "first_names":
        raw = raw.replace("AQQQB", "A\\ud800B")
    elif where == "a key":
        raw = raw.replace('"first_names"', '"first\\ud800names"')
    elif where == "a degree's subject":
        raw = raw.replace('"100485"', '"100485\\udbff"')
    else:
        raw = raw.replace("AQQQB", "A\\udc00")
    with caplog.at_level(logging.DEBUG, logger="register_batch.emulator"):
        response = posted(api, raw)
    assert response.status_code == 400, response.text
    [error] = response.json()["errors"]
    assert error.startswith("Incomplete surrogate pair at '\\u") and error.endswith("': not a character")
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert emulator.snapshot()["trainees"] == 0


def test_a_whole_surrogate_pair_is_a_character_and_is_taken(api):
    """An escaped emoji (two halves together) is one character, which UTF-8 holds."""
    raw = json.dumps(trainee_body(first_names="AQQQB")).replace("AQQQB", "Ann \\ud83d\\ude00")
    response = posted(api, raw)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["first_names"] == "Ann \U0001f600"
