"""A state dir bound to no provider whose creates went unanswered refuses another token (review166 F1).

A first load (a Register CSV with no F_UKPRN, no --ukprn) whose every create went unanswered leaves the state dir
bound to no provider, though some of those trainees landed. A next run with another provider's token found none of
them under that token and created every record in its account too, which Register's API cannot undo. The ledger
now keeps a salted digest of the token that sent those creates, never the token.

Over 127.0.0.1 against the emulator, with two tokens of two providers and its fault injection on each create."""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections import Counter
from contextlib import closing
from typing import Any

import httpx
import pytest

from cli_runs import sync_command
from emulated import AS_OF, sync_options
from outages import creates_failing
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError, Interrupted
from register_batch.sync import sync_files
from register_batch.sync.runner import CREATES_UNANSWERED
from trainee_extracts import extract

OURS, THEIRS = "10052198", "10011911"
TOKEN_A, TOKEN_B = "creates-token-kept-ours", "creates-token-kept-theirs"
RECORDS = 6
# Each record's create answered 500, the look-up finding nothing, and the create sent again carried out with its
# answer lost: the run stops after CREATES_UNANSWERED records, whose trainees are in A's account, all left unknown.
FAULTS = ["500:1.0", "lost-response:1.0"]


@pytest.fixture
def emulator():
    ukprns = {TOKEN_A: OURS, TOKEN_B: THEIRS}
    with start_emulator(tokens=[TOKEN_A, TOKEN_B], ukprns=ukprns, rate_limit=None, as_of=AS_OF, seed=7) as running:
        yield running


def creates_sent(emulator) -> int:
    return httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"].get("POST /trainees", 0)


def held(emulator, token: str) -> Counter:
    with RegisterClient(emulator.url, token, limiter=RateLimiter(10_000, 1)) as client:
        return Counter(t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=1000))


def first_load_unanswered(emulator, tmp_path) -> Any:
    """Run 1, with A's token: every create unanswered, stopped after CREATES_UNANSWERED records."""

    source = extract(tmp_path / "in.csv", RECORDS)
    options = sync_options(emulator, tmp_path, TOKEN_A, timeout=2.0, report_dir=tmp_path / "reports-1")
    client = creates_failing(emulator, FAULTS, TOKEN_A)
    with client, pytest.raises(Interrupted):
        sync_files([str(source)], options, client=client)
    assert len(held(emulator, TOKEN_A)) == CREATES_UNANSWERED
    return source


def sync(emulator, tmp_path, source, token: str, run: int, **extra: Any):
    options = sync_options(emulator, tmp_path, token, report_dir=tmp_path / f"reports-{run}", **extra)
    return sync_files([str(source)], options)


def test_another_token_is_refused_while_the_creates_it_did_not_send_are_unknown(emulator, tmp_path):
    source = first_load_unanswered(emulator, tmp_path)
    before = creates_sent(emulator)

    with pytest.raises(ConfigError) as refused:
        sync(emulator, tmp_path, source, TOKEN_B, 2)
    message = str(refused.value)
    assert message.startswith(
        f"the API token is not the one the state dir {tmp_path / 'state'} sent its last creates with, "
        f"{CREATES_UNANSWERED} of which went unanswered: their trainees may be in that token's provider's account"
    ), message
    assert message.endswith("if the earlier run's token was this state dir's provider's, use that; nothing was written")
    assert "\n" not in message
    assert creates_sent(emulator) == before
    assert held(emulator, TOKEN_B) == Counter()

    # The token the earlier run used finishes it: each trainee once, in its account alone.
    done = sync(emulator, tmp_path, source, TOKEN_A, 3)
    assert done.exit_code == 0, done.summary_line()
    landed = held(emulator, TOKEN_A)
    assert len(landed) == RECORDS and set(landed.values()) == {1}
    assert held(emulator, TOKEN_B) == Counter()


def test_the_same_token_goes_on_and_the_ledger_keeps_a_salted_digest_of_it_never_the_token(emulator, tmp_path):
    source = first_load_unanswered(emulator, tmp_path)
    ledger = tmp_path / "state" / "ledger.sqlite3"
    with closing(sqlite3.connect(ledger)) as db:
        kept = dict(db.execute("SELECT key, value FROM meta WHERE key IN ('token_salt', 'token_digest')").fetchall())
    assert len(kept) == 2 and len(bytes.fromhex(kept["token_salt"])) == 16 and len(kept["token_digest"]) == 64
    for name in [ledger, *ledger.parent.glob("ledger.sqlite3-*")]:
        assert TOKEN_A.encode() not in name.read_bytes()

    done = sync(emulator, tmp_path, source, TOKEN_A, 2)
    assert done.exit_code == 0, done.summary_line()
    landed = held(emulator, TOKEN_A)
    assert len(landed) == RECORDS and set(landed.values()) == {1}


def test_with_ukprn_another_token_is_checked_as_before(emulator, tmp_path):
    """--ukprn lets the token be checked against it: B's first create's answer shows B's provider, and the run stops
    there as the provider checks say (test_sync_providers), not before its first create."""
    source = first_load_unanswered(emulator, tmp_path)

    with pytest.raises(ConfigError) as refused:
        sync(emulator, tmp_path, source, TOKEN_B, 2, ukprn=OURS)
    assert str(refused.value).startswith(f"the API token is provider {THEIRS}'s (Register filed the first trainee")
    assert len(held(emulator, TOKEN_B)) == 1

    # The refusal after it did not make B's token the state dir's: without --ukprn, B is still refused.
    with pytest.raises(ConfigError, match="is not the one the state dir"):
        sync(emulator, tmp_path, source, TOKEN_B, 3)


def test_the_command_line_refuses_it_in_one_line_with_exit_2(emulator, tmp_path):
    source = first_load_unanswered(emulator, tmp_path)
    command = sync_command(source, emulator.url, tmp_path / "state", tmp_path / "reports-2", AS_OF.isoformat())
    env = {**os.environ, "REGISTER_API_TOKEN": TOKEN_B}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=120, check=False)
    assert done.returncode == 2, done.stderr
    [line] = done.stderr.splitlines()
    assert "is not the one the state dir" in line and "Give --ukprn" in line, line


def test_a_mistyped_ukprn_with_the_right_token_does_not_let_another_token_through(emulator, tmp_path):
    """review167 F1: the provider checks' refusal of the right token given with a mistyped --ukprn forgot the
    token's digest, and a next run with another provider's token created the whole cohort in its account too."""
    source = first_load_unanswered(emulator, tmp_path)

    with pytest.raises(ConfigError, match=f"the API token is provider {OURS}'s"):
        sync(emulator, tmp_path, source, TOKEN_A, 2, ukprn=THEIRS)
    with pytest.raises(ConfigError, match="is not the one the state dir"):
        sync(emulator, tmp_path, source, TOKEN_B, 3)
    assert held(emulator, TOKEN_B) == Counter()

    done = sync(emulator, tmp_path, source, TOKEN_A, 4)
    assert done.exit_code == 0, done.summary_line()
    landed = held(emulator, TOKEN_A)
    assert len(landed) == RECORDS and set(landed.values()) == {1}
