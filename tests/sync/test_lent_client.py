"""A caller's RegisterClient given to sync_files (`client=`) that cannot be the run's: one of another service or API
version than the options' target (which the ledger and report are bound to), or one closed already. Each is refused
as a ConfigError before any record is read or anything is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.export import export_trainees
from register_batch.sync import sync_files

SAMPLES = Path(__file__).parents[2] / "samples"
TOKEN = "lent-client-token"


def _register():
    return start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None)


def _client(url: str, **extra) -> RegisterClient:
    return RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), share_budget=False, **extra)


def _requests(emulator) -> int:
    return emulator.snapshot()["requests"]["total"]


def test_a_client_of_another_service_than_the_target_is_refused_before_anything_is_sent(tmp_path):
    """The client's service got the trainees, while the ledger and the report named the options' target: the next run
    to that target found 12 conflicts, and one to the client's service was refused its state dir."""
    with _register() as ours, _register() as other, _client(ours.url) as client:
        options = sync_options(other, tmp_path, TOKEN)
        with pytest.raises(ConfigError) as refused:
            sync_files([str(SAMPLES / "extract.xml")], options, client=client)
        assert f"sends to {ours.url}, not to {other.url} (the target " in str(refused.value)
        assert refused.value.worded({"target": "--target"}).count("--target") == 1
        assert "nothing was sent" in str(refused.value)
        assert _requests(ours) == _requests(other) == 0
        assert not (tmp_path / "reports" / "report.json").exists()
        # The state dir was not bound to either: a run to the client's own service goes on in it.
        result = sync_files([str(SAMPLES / "extract.xml")], sync_options(ours, tmp_path, TOKEN), client=client)
        assert result.outcomes["done"] == 12 and ours.snapshot()["trainees"] == 12


def test_a_client_of_the_same_service_written_otherwise_is_the_runs(tmp_path):
    """The service is compared, not how its URL is written: a trailing slash is the same Register."""
    with _register() as register, _client(register.url + "/") as client:
        result = sync_files([str(SAMPLES / "extract.xml")], sync_options(register, tmp_path, TOKEN), client=client)
        assert result.outcomes["done"] == 12


def test_a_client_of_another_api_version_is_refused(tmp_path):
    """Refused when the client is made, as the command line refuses it (review138 F3): no run is started with it."""
    with _register() as register:
        with pytest.raises(ConfigError, match=r"^API version 'v2025\.0' is not supported; supported: v2026\.1$"):
            _client(register.url, api_version="v2025.0")
        assert _requests(register) == 0
        assert not (tmp_path / "reports").exists()


def test_a_closed_client_is_a_config_error_before_the_extract_is_read(tmp_path):
    """httpx's bare RuntimeError ("the client has been closed") came once the whole extract was read: no
    RegisterBatchError for a worker to catch. An input that cannot be read shows which comes first."""
    unreadable = tmp_path / "extract.xml"
    unreadable.write_bytes(b"\x00\x01 not an extract")
    with _register() as register:
        client = _client(register.url)
        client.close()
        with pytest.raises(ConfigError, match=r"this RegisterClient is closed .*nothing was sent"):
            sync_files([str(unreadable)], sync_options(register, tmp_path, TOKEN), client=client)
        with pytest.raises(ConfigError, match=r"this RegisterClient is closed"):
            export_trainees(client, to="jsonl", output=tmp_path / "held.jsonl")
        assert not (tmp_path / "held.jsonl").exists()
        assert _requests(register) == 0
