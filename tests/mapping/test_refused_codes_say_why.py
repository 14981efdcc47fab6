"""A code Register refuses says why, and in Register's CSV what Register itself answers.

review58 F5: only AA and ZZ of the 12 nationality codes HESA lists and Register refuses (hesa-formats.md §2.3.4, §5
item 21; QO is translated) had a reason; XC ("Cyprus nos") got Register's bare list of example codes.

review57 F4: a row of Register's CSV with route 02 or 13 was told only the tool's reason (untranslatable_code), while
the row uploaded gets Register's own "training_route has invalid reference data value of '02'": the user matching the
two found nothing alike. The tool's reason now names Register's answer too, checked here against the emulator's.

review234 F1: a HESA extract's record had the tool's reason alone, though Register refuses it all the same; and both
were labelled register-batch's check. Register's own answer now comes first, in every format.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

import httpx
import pytest

from register_batch.emulator import Emulator, start_emulator
from register_batch.mapping import Mapper, load_mapping
from register_batch.mapping.apply import SEND_ANYWAY
from register_batch.model import SourceRef
from register_batch.readers.base import RawRecord
from valid_trainee import VALID

AS_OF = date(2026, 11, 28)
TOKEN = "refused-codes-token"
# hesa-formats.md §2.3.4: the nationality codes of HESA's list that Register rejects, bar QO (translated to XK).
REFUSED_NATIONALITIES = {
    "AA": "stateless",
    "AS": "American Samoa",
    "EH": "Western Sahara",
    "GS": "South Georgia",
    "MP": "Northern Mariana Islands",
    "QN": "Serbia and Montenegro",
    "XC": "Cyprus",
    "XL": "Channel Islands",
    "XM": "Czechoslovakia",
    "XN": "USSR",
    "XO": "Yugoslavia",
    "ZZ": "not known",
}


def mapped(fields: dict[str, Any], fmt: str):
    raw = RawRecord(source=SourceRef(input="x", record=1, line=2), fields=fields)
    return Mapper(load_mapping()).map(raw, fmt)


@pytest.mark.parametrize("code", sorted(REFUSED_NATIONALITIES))
def test_every_refused_hesa_nationality_says_what_it_is_and_that_register_refuses_it(code):
    [issue] = mapped({"F_NATION": code}, "hesa-xml").issues
    assert (issue.code, issue.severity.value, issue.field, issue.value) == (
        "untranslatable_code",
        "error",
        "nationality",
        code,
    )
    # Register's own answer first (review234 F1), then the tool's reason
    assert issue.message.startswith(
        f"nationality has invalid reference data value of '{code}'. Example values include "
    )
    assert f"... nationality: nationality {code} ({REFUSED_NATIONALITIES[code]}" in issue.message
    assert "is not accepted by Register: " in issue.message and issue.message.endswith(f"leave it blank{SEND_ANYWAY}")


@pytest.mark.parametrize("code,suggested", [("XC", "CY"), ("XL", "JE"), ("XM", "CZ"), ("QN", "RS")])
def test_a_refused_not_otherwise_specified_nationality_names_the_codes_register_takes_instead(code, suggested):
    [issue] = mapped({"F_NATION": code}, "hesa-xml").issues
    assert f"use {suggested} (" in issue.message


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as running:
        yield running


# A row of Register's CSV with a code the mapping cannot translate, the other fields as VALID's.
REFUSED_IN_REGISTERS_CSV = [
    ("training_route", "02"),
    ("training_route", "13"),
    ("nationality", "XC"),
    ("course_age_range", "99801"),
    ("itt_qualification_aim", "099"),
    ("training_initiative", "P"),
    ("course_subject_1", "101085"),
]
# The tags of a HESA extract the fields above are read from (mappings/fields/hesa.yaml).
HESA_COLUMNS = {
    "training_route": "F_ENTRYRTE",
    "nationality": "F_NATION",
    "course_age_range": "F_ITTPHSC",
    "itt_qualification_aim": "F_QLAIM",
    "training_initiative": "F_INITIATIVES1",
    "course_subject_1": "F_SBJCA1",
}


@pytest.mark.parametrize("fmt", ["register-csv", "hesa-xml"])
@pytest.mark.parametrize("field,code", REFUSED_IN_REGISTERS_CSV)
def test_a_refused_code_gives_registers_own_answer_as_register_gives_it(emulator, field, code, fmt):
    """review234 F1: Register's own words first, in every input format (a HESA extract's record was told the tool's
    reason alone), then the tool's; a Register CSV row is told that its upload fails."""
    [issue] = mapped({field: code} if fmt == "register-csv" else {HESA_COLUMNS[field]: code}, fmt).issues
    assert issue.code == "untranslatable_code"
    reason = load_mapping().translations_for(field).no_translation[code]  # the tool's own reason, kept
    answer, _, after = issue.message.partition(f" {field}: {reason}")
    upload = ". Register's CSV upload fails the row, and with it the whole file" if fmt == "register-csv" else ""
    assert after == upload + ("" if code == "02" else SEND_ANYWAY)  # 02 is in Register's list, refused by R9
    response = httpx.post(
        f"{emulator.api_url}/trainees",
        json={"data": {**VALID, field: code}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 422
    assert answer in response.json()["errors"], (answer, response.json()["errors"])


def test_a_register_csv_rows_refused_disability_says_register_drops_it_and_register_does(emulator):
    [issue] = mapped({"disability1": "08"}, "register-csv").issues
    assert issue.code == "untranslatable_code_register_takes"  # register-batch's check (review234 F1)
    assert issue.message.endswith(
        f". Register's own answer is none: its CSV upload takes the row and drops the code without a word{SEND_ANYWAY}"
    )
    response = httpx.post(
        f"{emulator.api_url}/trainees",
        json={"data": {**VALID, "disability1": "08"}},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert response.status_code == 201, response.text


def test_a_hesa_records_refused_code_gives_registers_answer_before_the_tools_reason():
    """review234 F1: a HESA extract's record is refused by Register as a Register CSV row is, in the same words."""
    [issue] = mapped({"F_ENTRYRTE": "02"}, "hesa-xml").issues
    assert issue.message == (
        "training_route has invalid reference data value of '02'. Example values include '03', '09', '10', '11', "
        "'12', '14', '15', '16', '17', '18'... training_route: training route 02 (School Direct fee-funded) is "
        "refused by Register v2026.1 for every trainee and has no replacement code"
    )
