"""A library sync's reports name where its token came from as the command line's do: a token file named after its
token is masked in report.json and report.html (review225 F2)."""

from __future__ import annotations

from pathlib import Path

TOKEN_SHAPED = "sandbox_" + "0123456789abcdef" * 4  # the name of a secret store's file: not the run's token
SAMPLES = Path(__file__).parents[2] / "samples"


def test_a_token_file_named_after_its_token_is_masked_in_a_library_syncs_reports(register, tmp_path):
    synced = register.sync(
        SAMPLES / "extract.xml",
        dry_run=True,
        token_source=f"file /run/secrets/{TOKEN_SHAPED}",
        config_file=f"/etc/register-batch/{TOKEN_SHAPED}.toml",
    )
    report = register.report()
    assert report["settings"]["token_source"] == "file /run/secrets/********"
    assert report["settings"]["config_file"] == "/etc/register-batch/********.toml"
    for written in synced.report_paths.values():
        assert "0123456789abcdef0123" not in written.read_text(encoding="utf-8"), written.name
