"""`mappings check`: target codes exist in Register's lists; uncovered input codes are listed."""

from __future__ import annotations

from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.mapping import load_mapping
from register_batch.mapping.check import check_mappings
from register_batch.reference import load_reference


def test_bundled_mappings_translate_only_to_real_codes():
    problems = check_mappings(load_mapping(), load_reference())
    assert [p for p in problems if p.severity == "error"] == []


def test_a_bad_target_code_is_reported_with_its_file(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    translate:\n      M: '1'\n      '11': '10'\n")
    problems = check_mappings(load_mapping([user]), load_reference())
    texts = [str(p) for p in problems]
    assert f"{user}: sex: 'M' translates to '1', which is not in Register's sex list" in texts
    assert any("'11' is itself a valid sex code" in t for t in texts)
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 1 and "error:" in result.output


def test_uncovered_codes_in_an_input(hesa_samples):
    result = CliRunner().invoke(cli, ["mappings", "check", str(hesa_samples / "itt_record_C21053.xml")])
    assert result.exit_code == 1
    assert "training_initiative: 'C' x1" in result.output and "known:" in result.output


def test_the_summary_counts_code_translations_not_blocks(tmp_path, monkeypatch):
    """`Checked N code translations` counts translated codes (a block of two codes is two), and says how many
    blocks they came in: the count used to be the number of blocks, far below the translations checked."""
    monkeypatch.chdir(tmp_path)  # no pulled lists here
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    translate:\n      M: '11'\n      F: '10'\n")
    bundled = load_mapping()
    translations = sum(len(block.translate) for block in bundled.codes)
    assert translations > len(bundled.codes)
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(user)])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        f"Checked {translations + 2} code translations in {len(bundled.codes) + 1} blocks (bundled mappings, {user}) "
        "against Register's code lists (bundled v2026.1)."
    )
