"""validate with docs/mappings.md Example 4's mapping (`provider_trainee_id: student number`): the template's
provider_trainee_id column is missing, but its field is read from `Student Number`, not as blank (review58 F9)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from register_batch.cli import cli


def test_validate_does_not_call_a_column_read_from_another_one_blank(register_csv_fixtures, tmp_path: Path):
    text = (register_csv_fixtures / "five_trainees.csv").read_text()
    assert text.startswith("provider_trainee_id,")
    extract = tmp_path / "reg.csv"
    extract.write_text("Student Number," + text.removeprefix("provider_trainee_id,"))
    user = tmp_path / "srs.yaml"
    user.write_text("fields:\n  register-csv:\n    trainee:\n      provider_trainee_id: student number\n")
    args = ["validate", str(extract), "--mapping", str(user), "--as-of", "2026-11-28", "--report-dir", str(tmp_path)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code in (0, 1), result.output
    issues = json.loads((tmp_path / "report.json").read_text())["issues"]
    [message] = [i["message"] for i in issues if i["code"] == "missing_columns"]
    assert message == (
        "the header lacks 1 of the template's columns (provider_trainee_id): a mapping file reads its field from "
        "another column, and Register's own CSV upload would reject this file"
    )
