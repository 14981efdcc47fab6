"""A state dir holding lists pulled from one target, and no ledger yet, is that target's (review124 F3).

docs/configuration.md: "A state directory you name belongs to the first target it was used with ... Using it with
another target is refused, by `reference pull` too (its lists would be used to validate the records synced to the
first)". A sync to target B took a state dir holding only lists pulled from target A: it validated B's records by A's
lists (all 300 invalid, with A's sex list empty) without a word, and bound the state dir to B.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from emulated import AS_OF
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.reference import PULLED_FILE, load_reference
from register_batch.sync.ledger import LEDGER_FILE, Ledger

EXTRACT = Path(__file__).parents[2] / "samples" / "extract.xml"


def _pulled(folder: Path, **document: str) -> None:
    """A pulled file in `folder` saying where it came from as `document` does."""
    folder.mkdir(exist_ok=True)
    (folder / PULLED_FILE).write_text(json.dumps({**document, "payload": {"sex": load_reference().api_payload("sex")}}))


@pytest.mark.parametrize("dry_run", [False, True])
def test_a_sync_to_another_target_than_the_state_dirs_pulled_lists_came_from_is_refused(tmp_path, monkeypatch, dry_run):
    monkeypatch.setenv("REGISTER_API_TOKEN", "t")
    state = tmp_path / "state"
    with (
        start_emulator(tokens=["t"], rate_limit=None) as a,
        start_emulator(tokens=["t"], ukprns={"t": "10052198"}, rate_limit=None, as_of=AS_OF) as b,
    ):
        pulled = CliRunner().invoke(cli, ["reference", "pull", "--target", a.url, "--state-dir", str(state)])
        assert pulled.exit_code == 0, pulled.output
        sync = ["sync", str(EXTRACT), "--target", b.url, "--state-dir", str(state), "--as-of", AS_OF.isoformat()]
        result = CliRunner().invoke(cli, [*sync, "--report-dir", str(tmp_path / "r"), *(["--dry-run"] * dry_run)])
        assert result.exit_code == 2, result.output
        assert (
            f"register-batch: error: the state dir {state} holds code lists pulled from {a.url}, not {b.url}: they "
            f"would judge the records synced to {b.url}. Use a separate --state-dir for each target, or delete "
            f"{state / PULLED_FILE} to use the bundled lists.\n"
        ) in result.output
        assert not (state / LEDGER_FILE).exists()  # not bound to B
        assert b.snapshot()["trainees"] == 0  # nothing sent
        # B's own lists may replace A's (nothing of A's is in the state dir but its lists): the dir is B's then.
        again = CliRunner().invoke(cli, ["reference", "pull", "--target", b.url, "--state-dir", str(state)])
        assert again.exit_code == 0, again.output
        synced = CliRunner().invoke(cli, [*sync, "--report-dir", str(tmp_path / "r2")])
    assert synced.exit_code == 0, synced.output


@pytest.mark.parametrize(
    "document,target",
    [
        ({"target": "https://a.example", "target_identity": "https://a.example"}, "https://A.example:443"),
        ({"target": "http://127.0.0.1:41234", "target_identity": "embedded-emulator"}, "embedded-emulator"),
        # An older version saved the embedded emulator's URL of the moment, not what its ledger binds to.
        ({"target": "http://127.0.0.1:41234"}, "embedded-emulator"),
        ({}, "https://b.example"),  # a bare payload names no target
    ],
)
def test_a_new_ledger_is_bound_beside_lists_pulled_from_its_own_target(tmp_path, document, target):
    _pulled(tmp_path, **document)
    Ledger(tmp_path, target).close()


@pytest.mark.parametrize(
    "document",
    [
        {"target": "http://127.0.0.1:41234", "target_identity": "embedded-emulator"},
        {"target": "https://a.example"},  # saved by an older version
    ],
)
def test_a_new_ledger_is_not_bound_beside_lists_pulled_from_another_target(tmp_path, document):
    _pulled(tmp_path, **document)
    with pytest.raises(ConfigError, match=r"holds code lists pulled from (embedded-emulator|https://a\.example), not"):
        Ledger(tmp_path, "https://b.example")
    assert not (tmp_path / LEDGER_FILE).exists()


def test_lists_pulled_from_the_embedded_emulator_say_what_its_ledger_binds_to(tmp_path, monkeypatch):
    """The embedded emulator's URL changes every run: the pulled file names the identity its ledger binds to, so
    that a sync to it later takes the state dir."""
    for name in ("REGISTER_API_URL", "REGISTER_BATCH_STATE_DIR", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    pulled = CliRunner().invoke(cli, ["reference", "pull", "--state-dir", str(tmp_path)])
    assert pulled.exit_code == 0, pulled.output
    assert json.loads((tmp_path / PULLED_FILE).read_text())["target_identity"] == "embedded-emulator"
    with pytest.raises(ConfigError, match=r"holds code lists pulled from embedded-emulator, not https://b\.example"):
        Ledger(tmp_path, "https://b.example")
    Ledger(tmp_path, "embedded-emulator").close()
