"""review222 F3: migration.md's rehearsal syncs into the embedded emulator of its own --state-dir; an export without it
read the default state dir's embedded emulator, empty, and wrote an empty file (exit 0) without a word about the other.
The empty export's line says where the emulator it read keeps its data, and names the state dirs near it that hold an
embedded emulator's data, with the --state-dir to give."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli
from trainee_extracts import trainee, write_extract


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def test_an_empty_export_names_the_rehearsals_state_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    extract = write_extract(tmp_path / "extract.csv", [trainee(1), trainee(2)])
    code, out = run("sync", str(extract), "--state-dir", "state/rehearsal", "--as-of", "2026-11-28")
    assert code == 0, out
    code, out = run("export", "--to", "json", "-o", "x.json", "--academic-cycle", "2025")
    assert code == 0, out
    [line] = [line for line in out.splitlines() if line.startswith("No trainees matched")]
    assert line.endswith(
        "(1 request). The embedded emulator's data is in .register-batch/embedded-emulator/register; "
        "state/rehearsal holds an embedded emulator's data too, as a sync given --state-dir leaves it: give export "
        "the same --state-dir to export it (--state-dir state/rehearsal)."
    ), line
    # With it, the rehearsal's trainees
    code, out = run(
        "export", "--to", "json", "-o", "y.json", "--academic-cycle", "2025", "--state-dir", "state/rehearsal"
    )
    assert code == 0 and "Exported 2 trainees" in out, out


def test_an_empty_export_with_no_other_embedded_data_says_where_its_data_is(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    code, out = run("export", "--to", "json", "-o", "x.json", "--academic-cycle", "2025")
    assert code == 0, out
    [line] = [line for line in out.splitlines() if line.startswith("No trainees matched")]
    assert line.endswith("The embedded emulator's data is in .register-batch/embedded-emulator/register."), line


def test_the_look_nearby_is_bounded_and_skips_the_state_dir_read(tmp_path):
    from register_batch.sync.target import NEARBY_FOLDERS, embedded_data_nearby

    used = tmp_path / ".register-batch" / "embedded-emulator"
    for folder in (used, tmp_path / "state" / "rehearsal", tmp_path / "deep" / "er" / "still"):
        (folder / "register").mkdir(parents=True)
        (folder / "register" / "register.sqlite3").write_bytes(b"")
        (folder / "ledger.sqlite3").write_bytes(b"")
    many = tmp_path / "many"
    for n in range(NEARBY_FOLDERS + 5):
        (many / f"d{n:03}").mkdir(parents=True)
    (many / f"d{NEARBY_FOLDERS + 2:03}" / "register").mkdir()
    (many / f"d{NEARBY_FOLDERS + 2:03}" / "register" / "register.sqlite3").write_bytes(b"")
    (many / f"d{NEARBY_FOLDERS + 2:03}" / "ledger.sqlite3").write_bytes(b"")
    (tmp_path / "exported" / "register").mkdir(parents=True)  # an export's: no ledger
    (tmp_path / "exported" / "register" / "register.sqlite3").write_bytes(b"")
    assert embedded_data_nearby(tmp_path, used) == [tmp_path / "state" / "rehearsal"]
    assert embedded_data_nearby(Path(tmp_path / "nowhere"), used) == []
