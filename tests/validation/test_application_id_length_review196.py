"""review196 F2: an application_id's length is measured as Register gets it. From a HESA input a whole number goes out
as a JSON integer (model.as_sent), so `00012345` is sent as 12345 (5 characters), which Register takes: validate
refused it as too long. In Register's CSV template Register reads the cell as text (hesa-formats.md §3.3), leading
zeros and all, so there `00012345` is still too long; and `convert --to register-csv` writes the digits sent."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from one_hesa_csv import AS_OF, hesa_csv
from register_batch.cli import cli
from valid_trainee import validated, with_changes

TOO_LONG = ("application_id", "too_long", "application_id is too long (maximum is 7 characters)")


def _issues(value: str, fmt: str | None) -> list[tuple[str | None, str, str]]:
    record = validated(with_changes(application_id=value), fmt=fmt)
    return [(i.field, i.code, i.message) for i in record.issues if i.field == "application_id"]


@pytest.mark.parametrize("fmt", ["hesa-xml", "hesa-csv"])
def test_a_zero_padded_application_id_from_a_hesa_input_is_measured_as_the_integer_sent(fmt):
    assert _issues("00012345", fmt) == []
    assert _issues("0001234567", fmt) == []  # 1234567: seven digits, Register's maximum
    assert _issues("00012345678", fmt) == [TOO_LONG]  # 12345678: eight
    assert _issues("12345678", fmt) == [TOO_LONG]


@pytest.mark.parametrize("fmt", ["register-csv", None])
def test_registers_csv_and_a_request_body_are_measured_as_text(fmt):
    """Register's upload reads the CSV cell as text; a request body's value is measured as it comes (the emulator)."""
    assert _issues("00012345", fmt) == [TOO_LONG]
    assert _issues("0012345", fmt) == []


def test_validate_and_convert_of_a_hesa_csv_agree_with_what_register_gets(tmp_path: Path) -> None:
    """The finding's file: validate passed nothing, convert sent 12345. Now validate passes it, the JSON has the
    integer, and Register's CSV written from it holds 12345, which Register's upload takes (7 characters at most)."""
    path = hesa_csv(tmp_path, F_APPLYAPPLICATIONID="00012345")
    runner = CliRunner()
    checked = runner.invoke(cli, ["validate", str(path), "--as-of", AS_OF, "--report-dir", str(tmp_path / "v")])
    assert checked.exit_code == 0, checked.output
    jsonl = tmp_path / "out.jsonl"
    args = ["convert", str(path), "--to", "jsonl", "-o", str(jsonl), "--as-of", AS_OF]
    assert runner.invoke(cli, args).exit_code == 0
    [line] = jsonl.read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["data"]["application_id"] == 12345
    written = tmp_path / "out.csv"
    args = ["convert", str(path), "--to", "register-csv", "-o", str(written), "--as-of", AS_OF]
    assert runner.invoke(cli, args).exit_code == 0
    with written.open(encoding="utf-8-sig", newline="") as fh:
        [row] = list(csv.DictReader(fh))
    assert row["application_id"].lstrip("'") == "12345"
    again = runner.invoke(cli, ["validate", str(written), "--as-of", AS_OF, "--report-dir", str(tmp_path / "w")])
    assert again.exit_code == 0, again.output
