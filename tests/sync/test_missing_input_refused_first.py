"""review151 F6: `sync` with an input that is not there (a mistyped name) says so and nothing else: it starts no
embedded emulator, makes no state dir (a folder shaped for personal data, that security.md asks users to delete) and
prints no `Target:` line that reads as if a run began, whatever the target."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.emulator.server import start_emulator

TOKEN = "missing-input-token"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(tmp_path / "home"), REGISTER_BATCH_RATE_DIR="off")
    return env


def _left(tmp_path: Path) -> list[str]:
    """What the run left in its folder, besides what the test put there."""
    return sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.name not in {"home", "token"})


@pytest.mark.parametrize(
    "given,said",
    [
        ("nosuch.xml", "nosuch.xml: no such file"),
        ("extracts", "extracts: is a folder, not a file: give the extracts in it, e.g. extracts/*.xml"),
        # review153 F5: an empty file, and a zip with no extract in it, are said before anything starts too
        ("empty.xml", "empty.xml: the file is empty"),
        ("notes.zip", "notes.zip: the zip file holds no .xml or .csv extract (only 'readme.txt')"),
        # fix-carry's note: a zip of nothing (its end record alone), and any file of a kind no reader takes
        ("nothing.zip", "nothing.zip: an empty zip file: it holds no extract; zip the extract itself"),
        ("extract.pdf", "extract.pdf: a PDF document, not an extract: give the HESA XML or CSV file itself"),
    ],
)
def test_sync_with_no_target_and_no_such_input_starts_nothing_and_says_only_the_error(tmp_path, given, said):
    (tmp_path / "extracts").mkdir()
    (tmp_path / "empty.xml").touch()
    with zipfile.ZipFile(tmp_path / "notes.zip", "w") as notes:
        notes.writestr("readme.txt", "the extract is to follow")
    zipfile.ZipFile(tmp_path / "nothing.zip", "w").close()
    (tmp_path / "extract.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    done = run_cli(["sync", given, "--state-dir", "state/fresh"], tmp_path, _env(tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"register-batch: error: {said}\n")
    # no state/fresh/register/register.sqlite3, token, sync.lock
    assert _left(tmp_path) == ["empty.xml", "extract.pdf", "extracts", "notes.zip", "nothing.zip"]


def test_sync_to_a_real_target_says_the_missing_input_before_any_target_line(tmp_path):
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0o600)
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        args = ["sync", "present.xml", "nosuch.xml", "--target", emulator.url, "--token-file", str(token)]
        (tmp_path / "present.xml").write_text("<ITTRecord/>")
        done = run_cli([*args, "--state-dir", "state"], tmp_path, _env(tmp_path))
    assert (done.returncode, done.stdout, done.stderr) == (2, "", "register-batch: error: nosuch.xml: no such file\n")
    assert _left(tmp_path) == ["present.xml"]
