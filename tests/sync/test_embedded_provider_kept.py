"""The embedded emulator's provider keeps the UKPRN of the trainees it holds (sync/target.py _standing_in). It took
each run's UKPRN (--ukprn, else the records'), so a second provider's extract synced into the same state dir was
created beside the first's, and every trainee relabelled as the second's, exit 0: against Register the same run
stops (exit 2), the token's provider not the records'. Found by review48 F1."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from emulated import AS_OF
from register_batch.cli import cli
from register_batch.generate import generate

EXTRACT = Path(__file__).parents[2] / "samples" / "extract.xml"  # F_UKPRN 10052198


@pytest.fixture
def in_a_folder(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_TOKEN", "REGISTER_API_URL", "REGISTER_BATCH_STATE_DIR", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, " ".join(result.output.split())


def _held() -> dict:
    code, said = _run("export", "--to", "json", "-o", "held.json")
    assert code == 0, said
    return {"said": said}


REFUSED = (
    "the embedded emulator in .register-batch/embedded-emulator holds provider 10052198's trainees (12), not "
    "10099991's: Register keeps each provider's trainees apart, under its own token, and a run for 10099991 with "
    "10052198's token stops. Rehearse provider 10099991 in a state dir of its own (--state-dir another folder), or "
    "delete .register-batch/embedded-emulator to start afresh. Nothing was sent"
)


def test_another_providers_extract_is_refused_and_the_first_keeps_its_trainees(in_a_folder):
    assert _run("sync", str(EXTRACT))[0] == 0
    other = generate(in_a_folder / "other.xml", count=5, seed=1, as_of=AS_OF, ukprn="10099991").output
    code, said = _run("sync", str(other))
    assert code == 2 and REFUSED in said, said
    assert "created" not in said
    assert "listed under UKPRN 10052198" in _held()["said"]  # not relabelled
    assert "Exported 12 trainees" in _held()["said"]
    # --ukprn of another provider is refused the same way; the first provider's extract still syncs.
    code, said = _run("sync", "--ukprn", "10099991", str(EXTRACT))
    assert code == 2 and REFUSED in said, said
    code, said = _run("sync", str(EXTRACT))
    assert code == 0 and "12 unchanged" in said, said
    # In a state dir of its own, the other provider rehearses as before.
    code, said = _run("sync", "--state-dir", "other-state", str(other))
    assert code == 0 and "5 created" in said, said


def test_an_empty_embedded_emulator_takes_the_next_providers_ukprn(in_a_folder):
    """Holding no trainee, it stands in for whoever comes: a --ukprn mistyped on a run that created no one is no
    reason to refuse the next."""
    other = generate(in_a_folder / "other.xml", count=3, seed=1, as_of=AS_OF, ukprn="10099991").output
    code, said = _run("sync", "--dry-run", str(EXTRACT))
    assert code == 0, said
    code, said = _run("sync", str(other))
    assert code == 0 and "3 created" in said, said
