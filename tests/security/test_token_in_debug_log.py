"""A server or gateway that quotes the token back other than as it was sent (review61 F2, F3).

F2: with -vv, httpx logs each answer's status line and httpcore its headers as they came: a reason phrase or a
header quoting the Authorization header put the token on standard error, which is what people paste into tickets.
F3: an echo in another case (a hex token upper-cased is the same token) or cut short (half the secret) was not
masked, and went to standard error and the ledger. The rule: any run of twelve or more of the token's characters,
in any case, is masked wherever an answer is shown or kept."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.api import ApiError, RateLimiter, RegisterClient
from stub_http import Reasoned, Seen, serving
from trainee_extracts import extract

MASK = "********"  # as Secret shows a token
TOKEN = "sandbox_" + "c1203455130b8db217089990ac200335226171a833969bae0074aadb88d32492"
RUN = 12  # the shortest run of the token's characters that is masked


def fragments(text: str, token: str = TOKEN) -> list[str]:
    """Every run of RUN characters of `token` that `text` holds, in any case."""
    folded, token = text.lower(), token.lower()
    return [token[i : i + RUN] for i in range(len(token) - RUN + 1) if token[i : i + RUN] in folded]


@contextmanager
def echoing(status: int) -> Iterator[str]:
    """A server on 127.0.0.1 answering every request with `status`, quoting the Authorization header it was sent: in
    its reason phrase, upper-cased in a header, and in its JSON body cut short and upper-cased, as a gateway in
    debug mode might."""

    def echo(_handler: object, seen: Seen) -> Reasoned:
        header = seen.headers.get("Authorization", "")
        token = header.partition(" ")[2]
        body = json.dumps(
            {"errors": [{"message": f"Token {token[:40]}... is invalid; header was {header.upper()}"}]}
        ).encode()
        headers = {"X-Echo": header.upper(), "X-Token-Start": token[:20], "Content-Type": "application/json"}
        return status, headers, body, header

    with serving(echo) as url:
        yield url


def environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(tmp_path / "home"), REGISTER_BATCH_RATE_DIR="off", REGISTER_API_TOKEN=TOKEN)
    return env


@pytest.mark.parametrize("status", [500, 401])
def test_vv_shows_no_token_a_server_quotes_in_its_status_line_or_headers(tmp_path, status):
    source = extract(tmp_path / "in.csv", 3)
    with echoing(status) as url:
        done = run_cli(
            ["-vv", "sync", str(source), "--target", url, "--state-dir", "state", "--report-dir", "reports"],
            tmp_path,
            environment(tmp_path),
        )
    assert done.returncode in (2, 3), done.stderr[-3000:]  # a 500 at the first listing: 3 (review208 F5)
    assert "receive_response_headers.complete" in done.stderr and "HTTP Request: GET" in done.stderr  # -vv was on
    assert f'"HTTP/1.0 {status} Bearer {MASK}"' in done.stderr  # httpx's status line: the rest of it kept
    assert f"(b'X-Echo', b'BEARER {MASK}')" in done.stderr  # httpcore's headers
    assert not fragments(done.stdout + done.stderr)
    summary = sqlite3.connect(tmp_path / "state" / "ledger.sqlite3").execute("SELECT summary FROM runs").fetchall()
    assert summary and not fragments(json.dumps(summary))


def test_a_token_quoted_back_cut_short_or_upper_cased_is_masked_in_the_error(tmp_path):
    """The library's error: its text, its messages and its body (what goes to the ledger and the reports)."""
    with (
        echoing(401) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), share_budget=False, attempts=1) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.info()
    failed = caught.value
    assert failed.messages[0] == f"Token {MASK}... is invalid; header was BEARER {MASK}"
    assert not fragments(" ".join([str(failed), repr(failed), *failed.messages, json.dumps(failed.body)]))


@pytest.mark.parametrize(
    "text,masked",
    [
        (f"Bearer {TOKEN}", f"Bearer {MASK}"),
        (TOKEN.upper(), MASK),
        (f"token {TOKEN[:20]}...", f"token {MASK}..."),  # sandbox_ and 12 hex digits
        (f"ends {TOKEN[-12:]}.", f"ends {MASK}."),  # the last twelve
        (f"middle {TOKEN[30:42].upper()} here", f"middle {MASK} here"),
        (f"short {TOKEN[30:41]} kept", f"short {TOKEN[30:41]} kept"),  # eleven characters: too few to matter
        (" ".join(TOKEN[:30]) + "!", f"{MASK}!"),  # spread by spaces
        (f"{TOKEN}{TOKEN}", MASK),
        ("No trainees found in the sandbox environment", "No trainees found in the sandbox environment"),
    ],
)
def test_the_rule_masks_every_run_of_twelve_characters_in_any_case(text, masked):
    from register_batch.tokens import masked_token

    assert masked_token(text, TOKEN) == masked


def test_a_token_shorter_than_twelve_characters_is_not_looked_for():
    """A made-up test token of a few letters (the emulator takes any) would be found inside ordinary answers."""
    from register_batch.tokens import masked_token

    assert masked_token("No trainees found", "No trainees") == "No trainees found"
