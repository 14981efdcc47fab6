"""A mapping file's `no_translation` of a code Register itself accepts (review117 F1).

Such a code makes every record with it an `untranslatable_code` error in `validate`, but `mappings check` said nothing
of the entry, left the code off its to-do list for an input ("Every code in the input is in Register's lists or
translated by a mapping", exit 0), and a row of Register's CSV was told that Register's own upload refuses the code
(register-api.md §5.1-§5.3 describe that answer for a code not in its lists).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.emulator import Emulator, start_emulator
from register_batch.mapping import Mapper, load_mapping
from register_batch.mapping.check import check_mappings
from register_batch.model import SourceRef
from register_batch.readers.base import RawRecord
from register_batch.reference import load_reference
from valid_trainee import VALID

REPO = Path(__file__).resolve().parents[2]
AS_OF = date(2026, 11, 28)
TOKEN = "accepted-but-refused-token"
# samples/extract.xml: one trainee of sex 11, eight with disability 95 (no known disability); both Register's codes.
POLICY = (
    "codes:\n"
    "  sex:\n"
    "    source: our policy\n"
    "    no_translation:\n"
    '      "11": "sex 11: ask the trainee"\n'
    "  disability*:\n"
    "    no_translation:\n"
    '      "95": "disability 95: ask the trainee"\n'
)


@pytest.fixture
def policy(tmp_path, monkeypatch) -> Path:
    monkeypatch.chdir(tmp_path)
    user = tmp_path / "policy.yaml"
    user.write_text(POLICY)
    return user


def test_refusing_a_code_register_accepts_is_a_warning_of_the_check(policy):
    warnings = [str(p) for p in check_mappings(load_mapping([policy]), load_reference()) if p.severity == "warning"]
    assert warnings == [
        f"{policy}:5: sex: '11' is itself a valid sex code; listing it under no_translation makes every record with "
        "it an error",
        f"{policy}:8: disability*: '95' is itself a valid disability code; listing it under no_translation makes "
        "every record with it an error",
    ]


def test_a_code_register_accepts_but_a_mapping_refuses_is_on_the_to_do_list_as_validate_fails_it(policy, tmp_path):
    extract = str(REPO / "samples" / "extract.xml")
    result = CliRunner().invoke(cli, ["mappings", "check", "--mapping", str(policy), extract])
    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert "Every code in the input is in Register's lists or translated by a mapping." not in lines
    assert "  sex: '11' x1, first at record 7, line 491  (known: sex 11: ask the trainee)" in lines
    assert "  disability1: '95' x8, first at record 3, line 158  (known: disability 95: ask the trainee)" in lines
    assert "No problems found." not in lines
    checked = CliRunner().invoke(
        cli, ["validate", extract, "--mapping", str(policy), "--report-dir", str(tmp_path / "rep")]
    )
    assert checked.exit_code == 1, checked.output


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as running:
        yield running


@pytest.mark.parametrize("field,code", [("sex", "11"), ("disability1", "95")])
def test_a_register_csv_row_is_not_told_register_refuses_a_code_it_accepts(policy, emulator, field, code):
    raw = RawRecord(source=SourceRef(input="x", record=1, line=2), fields={field: code})
    [issue] = Mapper(load_mapping([policy])).map(raw, "register-csv").issues
    assert issue.code == "untranslatable_code_register_takes"  # register-batch's check, not Register's (review234 F1)
    assert "Register's own answer" not in issue.message
    list_name = "sex" if field == "sex" else "disability"
    assert issue.message.endswith(
        f"ask the trainee. Register itself accepts '{code}' (a code of its {list_name} list): its CSV upload takes "
        "the row as written"
    )
    response = httpx.post(
        f"{emulator.api_url}/trainees",
        json={"data": {**VALID, field: code}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 201, response.text
