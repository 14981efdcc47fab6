"""`reference template` writes a blank copy of Register's bulk-add CSV template (review168 F4).

A data officer with no SRS starts from Register's CSV template and fills it in a spreadsheet. The docs named no way to
get one, and the only command that wrote the header (`convert --to register-csv`) needs an extract to read. The file
written is Register's own `v2026_1_bulk_create_trainee.csv`, byte for byte: the 51 v2026.1 columns in template order,
one line, UTF-8 without a byte-order mark, `\\n` at its end; owner-only, as every file register-batch writes.
"""

from __future__ import annotations

import stat

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
