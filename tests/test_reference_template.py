"""`reference template` writes a blank copy of Register's bulk-add CSV template (review168 F4).

A data officer with no SRS starts from Register's CSV template and fills it in a spreadsheet. The docs named no way to
get one, and the only command that wrote the header (`convert --to register-csv`) needs an extract to read. The file
written is Register's own `v2026_1_bulk_create_trainee.csv`, byte for byte: the 51 v2026.1 columns in template order,
one line, UTF-8 without a byte-order mark, `\\n` at its end; owner-only, as every file register-batch writes.
"""

from __future__ import annotations

import stat

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.writers import register_template

AS_OF = "2026-11-28"


def template(output) -> str:
    result = CliRunner().invoke(cli, ["reference", "template", "-o", str(output)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_template_written_is_registers_own_file_byte_for_byte(tmp_path, shared_reference):
    registers = shared_reference / "csv_template" / "public_csv_v2026_1__bulk_create_trainee.csv"
    output = template(tmp_path / "blank.csv")
    assert (tmp_path / "blank.csv").read_bytes() == registers.read_bytes()
    assert output.splitlines()[0].startswith("Wrote Register's bulk-add CSV template (v2026.1, 51 columns, no ")
    assert str(tmp_path / "blank.csv") in output


def test_the_template_is_the_51_v2026_1_headers_in_template_order_owner_only(tmp_path):
    template(tmp_path / "blank.csv")
    written = tmp_path / "blank.csv"
    assert written.read_bytes() == (",".join(register_template()) + "\n").encode("ascii")
    assert len(register_template()) == 51
    assert stat.S_IMODE(written.stat().st_mode) == 0o600


def test_the_template_with_one_row_filled_in_is_read_by_validate(tmp_path):
    """One trainee typed under the header (the values of a generated clean record, in template order)."""
    blank = tmp_path / "blank.csv"
    template(blank)
    generated = tmp_path / "one.csv"
    args = ["generate", "--count", "1", "--format", "register-csv", "-o", str(generated), "--seed", "168"]
    assert CliRunner().invoke(cli, [*args, "--as-of", AS_OF], catch_exceptions=False).exit_code == 0
    row = generated.read_text(encoding="utf-8").splitlines()[1]
    with blank.open("a", encoding="utf-8") as fh:
        fh.write(row + "\n")
    result = CliRunner().invoke(
        cli, ["validate", str(blank), "--as-of", AS_OF, "--report-dir", str(tmp_path / "r")], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("1 record: 1 valid, 0 with errors")


def test_the_reference_group_lists_it_and_its_help_says_where_register_offers_the_file():
    listed = CliRunner().invoke(cli, ["reference", "--help"])
    assert "template" in listed.output
    shown = CliRunner().invoke(cli, ["reference", "template", "--help"])
    assert shown.exit_code == 0
    words = " ".join(shown.output.split())
    assert "v2026_1_bulk_create_trainee.csv" in words and "-o, --output" in words


def test_a_name_saying_another_format_is_refused_before_anything_is_written(tmp_path):
    result = CliRunner().invoke(cli, ["reference", "template", "-o", str(tmp_path / "blank.xml")])
    assert result.exit_code == 2
    assert "give a name ending in .csv" in result.output
    assert not (tmp_path / "blank.xml").exists()


def test_an_existing_file_is_kept_and_the_command_refused(tmp_path):
    """review172 F1: the template is where someone with no SRS keeps their trainees, and the docs' example name is the
    file they fill in. Written again to that name, the filled-in file was replaced by a header, exit 0."""
    filled = tmp_path / "trainees.csv"
    template(filled)
    kept = filled.read_bytes() + b"A1,,2601166907631,Ann,Lee\n"
    filled.write_bytes(kept)
    result = CliRunner().invoke(cli, ["reference", "template", "-o", str(filled)])
    assert result.exit_code == 2
    assert result.output.splitlines() == [
        f"register-batch: error: cannot write {filled}: a file of that name is there already (perhaps a template "
        "filled in): delete it or choose another name"
    ]
    assert filled.read_bytes() == kept
    assert sorted(path.name for path in tmp_path.iterdir()) == ["trainees.csv"]  # no temporary file left


def test_the_library_keeps_an_existing_file_too(tmp_path):
    from register_batch.errors import UnwritableOutput
    from register_batch.writers import write_register_template

    filled = tmp_path / "trainees.csv"
    filled.write_text("provider_trainee_id\nA1\n", encoding="utf-8")
    with pytest.raises(UnwritableOutput, match="delete it or choose another name"):
        write_register_template(filled)
    assert filled.read_text(encoding="utf-8") == "provider_trainee_id\nA1\n"


def test_a_workbook_name_is_refused_in_this_commands_words_not_with_an_option_it_lacks(tmp_path):
    """review172 F8: `-o t.xlsx` was told "--to register-csv writes CSV", and `reference template` has no --to."""
    result = CliRunner().invoke(cli, ["reference", "template", "-o", str(tmp_path / "t.xlsx")])
    assert result.exit_code == 2
    words = " ".join(result.output.split())
    assert "--to" not in words
    assert (
        f"'{tmp_path / 't.xlsx'}' ends in .xlsx, which says an Excel workbook, but the -o file is CSV: give a name "
        "ending in .csv (Excel and LibreOffice Calc open a .csv file)"
    ) in words
    assert not (tmp_path / "t.xlsx").exists()


@pytest.mark.parametrize("code", ["missing_columns", "untrimmed_header"])
def test_the_fixes_for_a_templates_header_name_the_command_that_writes_it(code):
    """review172 F5: they pointed to `convert --to register-csv`, which needs an extract to read and refuses the
    older template's file with the same line; `reference template` writes the header from nothing."""
    from register_batch.validation import CATALOGUE

    fix = CATALOGUE[code].fix
    assert "`register-batch reference template -o FILE` writes" in fix
    assert "convert" not in fix
