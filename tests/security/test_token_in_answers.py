"""An answer that quotes the token back in a way other than as it was sent: JSON-escaped character by character, in a
redirect's Location, in the status line's reason phrase. The error's text, its messages and its body never hold it
(they go to the output, the ledger and the reports)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from register_batch.api import ApiError, RateLimiter, RegisterClient
from stub_http import serving

TOKEN = "sandbox_" + "0f1e2d3c4b5a6978" * 4


@contextmanager
def answering(status: int, reason: str, headers: dict[str, str], body: bytes) -> Iterator[str]:
    """A server on 127.0.0.1 giving every request this answer, reason phrase included."""
    with serving(lambda _handler, _seen: (status, headers, body, reason)) as url:
        yield url


ESCAPED = "".join(f"\\u{ord(c):04x}" for c in TOKEN)  # valid JSON for the token, and no byte of it as it is
ANSWERS = {
    "json-escaped": (400, "Bad Request", {"Content-Type": "application/json"}, f'{{"errors": ["{ESCAPED}"]}}'.encode()),
    "location": (307, "Temporary Redirect", {"Location": f"https://elsewhere.example/{TOKEN}/sign-in"}, b""),
    "reason phrase": (500, f"Bearer {TOKEN}", {"Content-Type": "application/json"}, b""),
}


@pytest.mark.parametrize("kind", list(ANSWERS))
@pytest.mark.parametrize("call", ["read", "write"])
def test_a_token_quoted_back_otherwise_is_masked_too(kind, call):
    status, reason, headers, body = ANSWERS[kind]
    with (
        answering(status, reason, headers, body) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), share_budget=False, attempts=1) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.info() if call == "read" else client.create_trainee({"first_names": "Ann"})
    failed = caught.value
    shown = [str(failed), repr(failed), *failed.messages, json.dumps(failed.body)]
    assert not [text for text in shown if TOKEN in text], shown
    assert "********" in str(failed)  # the message is still there, the token masked as Secret shows it
