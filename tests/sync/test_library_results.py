"""What a vendor's own code gets back from `sync_files` (docs/library.md): settings refused before anything is sent,
and a summary that reads sensibly whatever the run held."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from emulated import AS_OF, sync_options
from register_batch.errors import ConfigError
from register_batch.sync import SyncOptions, sync_files

SAMPLES = Path(__file__).parents[2] / "samples"


def requests_received(register) -> int:
    """Every request the emulator has answered so far (its own count)."""
    return sum(httpx.get(f"{register.emulator.url}/__emulator__/stats").json()["requests"]["by_route"].values())


@pytest.mark.parametrize("token", [None, "", "   "])
def test_a_sync_without_a_token_is_a_config_error_before_anything_is_read_or_sent(register, tmp_path, token):
    """`SyncOptions(token=None)` (a vendor's job whose secret store gave nothing) listed Register without a token and
    stopped with `Unauthorized` from the first request, after the whole extract was read and the state dir bound;
    with an extract of invalid records only, it went through as if nothing were wrong. The command line refuses it
    before the target is touched: so does the library now."""
    options = SyncOptions(register.emulator.url, token, tmp_path / "state", tmp_path / "reports", as_of=AS_OF)
    with pytest.raises(ConfigError) as refused:
        sync_files([SAMPLES / "extract.xml"], options)
    assert str(refused.value) == (
        f"no API token for {register.emulator.url}: give the API token as token (Register refuses every request "
        "without one); nothing was sent"
    )
    assert requests_received(register) == 0
    assert not (tmp_path / "state" / "ledger.sqlite3").exists()
    assert not (tmp_path / "reports" / "report.json").exists()


def test_a_sync_of_no_records_says_so_without_a_cost_per_record(register, tmp_path):
    """`sync_files([], options)` (a vendor's job with no changed records tonight) said "0 records: nothing to do. 0
    requests (0.0 per record).": a figure per record of no records."""
    done = sync_files([], sync_options(register.emulator, tmp_path, "sync-tests-provider-token"))
    assert done.summary_line() == "0 records: nothing to do. 0 requests."
    assert done.exit_code == 0
