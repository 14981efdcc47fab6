"""Output writers: Register's bulk-add CSV split into parts, and what an earlier output leaves behind."""

from __future__ import annotations

from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.writers import RegisterCsvWriter

ROW = {"first_names": "Ann", "last_name": "Lee", "hesa_id": "0310261553101"}


def write_parts(path, rows: int) -> RegisterCsvWriter:
    writer = RegisterCsvWriter(path, max_bytes=1)  # every row in a part of its own
    for _ in range(rows):
        writer.write(dict(ROW))
    writer.close()
    return writer


def test_parts_are_numbered_and_stale_parts_of_a_longer_output_are_deleted(tmp_path):
    out = tmp_path / "out.csv"
    first = write_parts(out, 3)
    assert first.paths == [out, tmp_path / "out-2.csv", tmp_path / "out-3.csv"] and first.removed == []
    (tmp_path / "out-5.csv").write_text("not next in line: not ours to delete")
    second = write_parts(out, 1)
    assert second.paths == [out]
    assert second.removed == [tmp_path / "out-2.csv", tmp_path / "out-3.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out-5.csv", "out.csv"]


def test_convert_says_which_stale_parts_it_deleted(tmp_path, register_csv_fixtures):
    out = tmp_path / "out.csv"
    (tmp_path / "out-2.csv").write_text("an earlier run's second part\n")
    result = CliRunner().invoke(
        cli, ["convert", str(register_csv_fixtures / "five_trainees.csv"), "--to", "register-csv", "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert f"removed {tmp_path / 'out-2.csv'}: a part of an earlier, longer output in the same place" in result.output
    assert not (tmp_path / "out-2.csv").exists() and out.is_file()
