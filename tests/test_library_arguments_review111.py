"""The library's arguments that review111 found unchecked: `SyncOptions.embedded` (F5), `export_trainees`' `ukprn`
(F4) and `RegisterClient`'s token (F7). Each is a ConfigError naming the argument, as library.md promises, before
anything is read, written or sent."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.sync import SyncOptions, sync_files

AS_OF = date(2026, 11, 28)
SAMPLES = Path(__file__).parent.parent / "samples"
TOKEN = "review111-provider-token"


# --- F5: SyncOptions.embedded is a flag, and only for a target on this machine ------------------------------------


@pytest.mark.parametrize("embedded", ["false", "no", "True", 2, None])
def test_embedded_that_is_not_true_or_false_is_refused_naming_it(tmp_path, embedded):
    """`embedded="false"` (from a JSON or environment setting) was true: the checks that the token is another
    provider's were off, and a sync created twelve trainees in the wrong provider's account."""
    with pytest.raises(ConfigError) as refused:
        SyncOptions("http://127.0.0.1:9", TOKEN, tmp_path / "state", tmp_path / "reports", embedded=embedded)
    assert str(refused.value) == f"embedded must be True or False, not {embedded!r}"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


@pytest.mark.parametrize("target", ["sandbox", "production", "https://register.example"])
def test_embedded_is_refused_for_a_target_not_on_this_machine(tmp_path, target):
    """A true `embedded` turns off the provider checks, which towards a real service keep trainees out of another
    provider's account: it is the embedded emulator's, on 127.0.0.1."""
    with pytest.raises(ConfigError, match=r"^embedded is True only for the embedded emulator, on this machine"):
        SyncOptions(target, TOKEN, tmp_path / "state", tmp_path / "reports", embedded=True)
    for flag in (True, 1, False, 0):
        made = SyncOptions("http://127.0.0.1:9", TOKEN, tmp_path / "state", tmp_path / "reports", embedded=flag)
        assert made.embedded is bool(flag)
    assert SyncOptions(target, TOKEN, tmp_path / "state", tmp_path / "reports", embedded=0).embedded is False


def test_embedded_given_as_text_stops_a_sync_before_it_writes_into_another_providers_account(tmp_path):
    """review111 F5's run: the emulator's token is provider 10000001's, the sample's records are 10052198's."""
    with start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10000001"}, rate_limit=None, as_of=AS_OF) as emulator:
        with pytest.raises(ConfigError, match="embedded must be True or False"):
            options = SyncOptions(
                emulator.url, TOKEN, tmp_path / "state", tmp_path / "reports", as_of=AS_OF, embedded="false"
            )
            sync_files([SAMPLES / "extract.xml"], options)
        assert emulator.snapshot()["requests"]["total"] == 0


# --- F4: export_trainees reads its ukprn as validation and SyncOptions do -------------------------------------------


@pytest.fixture
def provider_10052198(tmp_path):
    """An emulator whose token is provider 10052198's, holding one trainee it created (synced from an extract)."""
    from emulated import sync_options
    from trainee_extracts import extract

    with start_emulator(tokens=[TOKEN], ukprns={TOKEN: "10052198"}, rate_limit=None, as_of=AS_OF) as emulator:
        synced = sync_files([extract(tmp_path / "in.csv", 1)], sync_options(emulator, tmp_path, TOKEN))
        assert synced.exit_code == 0
        yield emulator


@pytest.mark.parametrize("ukprn", [10052198, " 10052198 ", "10052198\n", "", None])
def test_export_takes_its_ukprn_as_validation_reads_it(provider_10052198, tmp_path, ukprn):
    """The right provider's UKPRN given as a number, or with spaces around it, was compared as given: the export of
    the token's own trainees was refused, saying "the API token is provider 10052198's ..., not 10052198's"."""
    from register_batch.api import RegisterClient
    from register_batch.export import export_trainees

    with RegisterClient(provider_10052198.url, TOKEN) as client:
        result = export_trainees(client, to="json", output=tmp_path / "held.json", academic_cycle=2025, ukprn=ukprn)
    assert result.written == 1


@pytest.mark.parametrize("ukprn", ["x", "123", "20052198", True, 1.5])
def test_export_refuses_a_ukprn_that_is_not_one_before_any_request(provider_10052198, tmp_path, ukprn):
    """A ukprn of "x" was sent for, then refused as "the API token is provider 10052198's ..., not x's ... Use x's
    token"; the command line refuses it before anything is sent ("ukprn 'x' is not a UKPRN"), as SyncOptions does."""
    from register_batch.api import RegisterClient
    from register_batch.export import export_trainees

    with RegisterClient(provider_10052198.url, TOKEN) as client:
        with pytest.raises(ConfigError, match=r"^ukprn .* is not a UKPRN \(8 digits starting with 1"):
            export_trainees(client, to="json", output=tmp_path / "held.json", academic_cycle=2025, ukprn=ukprn)
        assert client.stats.total == 0
    assert not (tmp_path / "held.json").exists()


# --- F7: RegisterClient refuses a token that is not text, as SyncOptions does -------------------------------------

SECRET = "sandbox_" + "9f" * 32


def _locals_showing(exc: BaseException, needle: str) -> list[str]:
    """The frame locals (of this package's frames) in `exc`'s traceback whose repr shows `needle`."""
    found = []
    tb = exc.__traceback__
    while tb is not None:
        if "register_batch" in tb.tb_frame.f_code.co_filename:
            found += [name for name, value in tb.tb_frame.f_locals.items() if needle in repr(value)]
        tb = tb.tb_next
    return found


@pytest.mark.parametrize(
    ("token", "said"),
    [
        (SECRET.encode(), "token must be a str, not bytes: give token.decode() (it is not shown)"),
        (5, "token must be a str, not int (it is not shown)"),
        (["x"], "token must be a str, not list (it is not shown)"),
    ],
)
def test_a_client_given_a_token_that_is_not_text_refuses_it_naming_it(token, said):
    """`RegisterClient(url, b"sandbox_...")` was a TypeError from a regex, `RegisterClient(url, 5)` an AttributeError:
    neither a RegisterBatchError, as library.md promises (SyncOptions refused them so)."""
    from register_batch.api import RegisterClient, Secret

    for given in (token, Secret(token)) if isinstance(token, bytes) else (token,):  # type: ignore[arg-type]
        with pytest.raises(ConfigError) as refused:
            RegisterClient("http://127.0.0.1:9", given)  # type: ignore[arg-type]
        assert str(refused.value) == said
        assert _locals_showing(refused.value, SECRET[8:40]) == []


def test_sync_options_given_bytes_does_not_hold_them_in_the_refusals_frame(tmp_path):
    with pytest.raises(ConfigError) as refused:
        SyncOptions("sandbox", SECRET.encode(), tmp_path / "state", tmp_path / "reports")  # type: ignore[arg-type]
    assert str(refused.value).startswith("token must be a str, not bytes")
    assert _locals_showing(refused.value, SECRET[8:40]) == []
