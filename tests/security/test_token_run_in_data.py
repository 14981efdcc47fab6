"""A token that shares a run of twelve characters with Register's data (review63 F2): the masking of runs of the
token (review61 F3) is for what is shown (error messages, log lines), not for Register's data. Run over a listing's
trainees, it made one trainee's `hesa_id` read `********`: every sync then "updated" that trainee (a PUT each
night) and export wrote `********` for its HUSID.

Register's tokens are random, and such a match by chance is negligible (about 4e-9 a page of 5,000 trainees); the
tokens that do are made up: the emulator's and test ones, a gateway's that embeds an id. The emulator takes any."""

from __future__ import annotations

import csv
import json
from collections import Counter

import httpx
import pytest

from emulated import AS_OF, sync_options
from register_batch.api import ApiError, RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.export import export_trainees
from register_batch.sync import sync_files
from stub_http import answering
from trainee_extracts import trainee, write_extract

HUSID = trainee(1)["hesa_id"]
# 64 hex-like characters, 13 of them the first trainee's HUSID (every run of twelve of those is a run of the token).
TOKEN = ("5e" + HUSID + "0f1e2d3c4b5a6978" * 4)[:64]


def writes(url: str) -> Counter:
    """The write requests the emulator has received, by route."""
    routes = httpx.get(f"{url}/__emulator__/stats").json()["requests"]["by_route"]
    return Counter({route: n for route, n in routes.items() if not route.startswith("GET")})


def test_a_token_sharing_a_run_with_a_husid_changes_nothing_of_registers_data(tmp_path):
    assert len(TOKEN) == 64 and HUSID in TOKEN
    source = write_extract(tmp_path / "in.csv", [trainee(n) for n in (1, 2, 3)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, seed=7) as emulator:
        first = sync_files([str(source)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "r1"))
        assert first.actions == Counter(create=3), first.summary_line()
        after_first = writes(emulator.url)
        second = sync_files([str(source)], sync_options(emulator, tmp_path, TOKEN, report_dir=tmp_path / "r2"))
        assert second.actions == Counter(unchanged=3), second.summary_line()
        assert writes(emulator.url) == after_first  # no PUT for a HUSID read as ********
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client:
            listed = list(client.iter_trainees(academic_cycle=2025, per_page=100))
            export_trainees(client, to="register-csv", output=tmp_path / "out.csv", academic_cycle=2025)
    assert sorted(t["hesa_id"] for t in listed) == sorted(trainee(n)["hesa_id"] for n in (1, 2, 3))
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as fh:
        exported = list(csv.DictReader(fh))
    assert HUSID in {row["hesa_id"].lstrip("'") for row in exported}, [row["hesa_id"] for row in exported]
    assert not any("********" in value for row in exported for value in row.values() if value)


def answer(status: int, **fields: str) -> bytes:
    """A trainee as GET /trainees/{id} answers it (or, for an error, Register's errors), with `fields`."""
    if status >= 400:
        return json.dumps({"errors": [{"error": "Invalid", "message": fields["first_names"]}]}).encode()
    return json.dumps({"trainee_id": "abc123", "hesa_id": HUSID, "state": "trn_received", **fields}).encode()


def fetched(status: int, **fields: str) -> dict | ApiError:
    with (
        answering(status, answer(status, **fields), {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
    ):
        try:
            return client.get_trainee("abc123")
        except ApiError as exc:
            return exc


def test_a_successful_answers_data_keeps_a_run_of_the_token_and_loses_the_whole_token_in_any_case():
    """The data is Register's: a run of twelve (the HUSID) is kept. The whole token quoted back, as a debugging
    server or gateway would (upper-cased: a hex token's value in either case), is masked as before."""
    got = fetched(200, first_names=f"Ann {TOKEN.upper()}", last_name=f"x{TOKEN[2:20]}y")
    assert isinstance(got, dict)
    assert got["hesa_id"] == HUSID
    assert got["first_names"] == "Ann ********"
    assert got["last_name"] == f"x{TOKEN[2:20]}y"


@pytest.mark.parametrize("status", [400, 422, 500])
def test_an_errors_text_still_loses_a_run_of_the_token(status):
    """What is shown (an error's messages, its body) masks every run of twelve, cut short or in another case."""
    got = fetched(status, first_names=f"token {TOKEN[10:30].upper()} refused")
    assert isinstance(got, ApiError)
    assert "token ******** refused" in str(got)
    assert TOKEN[10:22].lower() not in str(got).lower() and TOKEN[10:22].lower() not in repr(got.body).lower()
