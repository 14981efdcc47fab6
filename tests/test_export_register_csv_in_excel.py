"""`export --to register-csv` says how to open the file in Excel, as `convert` does, with the same line (review168 F6).

The file is UTF-8 without a byte-order mark, as Register's template is. Excel opened by a double-click reads it as
Windows-1252: a data officer comparing what Register holds with what they typed sees `SiobhÃ¡n` for `Siobhán`, and
saving it back writes the garbling into the file. Data > From Text/CSV with UTF-8 reads it as written.
"""

from __future__ import annotations

from click.testing import CliRunner

from register_batch.cli import cli

EXCEL = "Data > From Text/CSV and choose UTF-8"


def test_export_and_convert_to_register_csv_say_how_to_open_it_in_excel_with_one_line(tmp_path, monkeypatch):
    from trainee_extracts import extract

    monkeypatch.chdir(tmp_path)
    source = extract(tmp_path / "in.csv", 3)
    assert CliRunner().invoke(cli, ["-q", "sync", str(source)]).exit_code == 0
    exported = CliRunner().invoke(cli, ["export", "--academic-cycle", "2025", "--to", "register-csv", "-o", "held.csv"])
    assert exported.exit_code == 0, exported.output
    [said] = [line for line in exported.output.splitlines() if EXCEL in line]
    assert said.startswith("To look at a Register CSV in Excel, use Data > From Text/CSV and choose UTF-8 (")
    converted = CliRunner().invoke(cli, ["convert", str(source), "--to", "register-csv", "-o", "up.csv"])
    assert converted.exit_code == 0, converted.output
    assert [line for line in converted.output.splitlines() if EXCEL in line] == [said]
    # not for a format Excel does not open as a table, nor with -q (a nightly job's log)
    json = CliRunner().invoke(cli, ["export", "--academic-cycle", "2025", "--to", "json", "-o", "held.json"])
    assert json.exit_code == 0 and EXCEL not in json.output
    quiet = CliRunner().invoke(cli, ["-q", "export", "--academic-cycle", "2025", "--to", "register-csv", "-o", "q.csv"])
    assert quiet.exit_code == 0 and EXCEL not in quiet.output
