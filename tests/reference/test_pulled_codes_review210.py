"""Codes a pull brings that the bundled rule tables do not know (review210): the lists in use decide, or the rule
says it cannot tell and Register judges."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from register_batch.derived import disability_disclosure, diversity_disclosure
from register_batch.reference import PULLED_FILE, ReferenceData, load_reference
from register_batch.sync.compare import derived_drift


def pulled_lists(folder: Path, added: dict[str, list[dict[str, Any]]]) -> ReferenceData:
    """The bundled lists with `added` entries per list, saved as a pull saves them, read as validation reads them."""
    payload = json.loads(json.dumps(load_reference().api_payload()))
    for field, entries in added.items():
        payload[field]["entries"] += entries
    document = {"target": "http://127.0.0.1:9", "pulled_at": "2026-12-01T03:00:00+00:00", "payload": payload}
    (folder / PULLED_FILE).write_text(json.dumps(document))
    return load_reference("v2026.1", folder / PULLED_FILE)


NEW_DISABILITY = {"disability": [{"code": "60", "display_name": "Neurodivergent condition"}]}


def test_a_pulled_disability_code_the_bundled_names_lack_is_disclosed(tmp_path):
    """F3: Register counts any disability of its list as disclosed; judged by the bundled internal names, a new code
    was no answer, and the sync sent a PUT every night for the disclosure Register had right."""
    reference = pulled_lists(tmp_path, NEW_DISABILITY)
    assert disability_disclosure(reference, {"disability1": "60"}) == "disabled"
    assert diversity_disclosure(reference, "997", {"disability1": "60"}) == "diversity_disclosed"
    body = {"disability1": "60", "ethnicity": "997"}
    register = {"diversity_disclosure": "diversity_disclosed"}
    assert derived_drift(body, register, body, reference) == []


@pytest.mark.parametrize(
    ("codes", "expected"),
    [
        ([], "disability_not_provided"),
        (["98"], "disability_not_provided"),
        (["99"], "disability_not_provided"),
        (["98", "99"], "disabled"),  # two "Not provided": not exactly one (has_diversity_attributes.rb)
        (["95"], "no_disability"),
        (["95", "58"], "disabled"),
        (["51"], "disabled"),
        (["60"], "disability_not_provided"),  # not in the bundled lists: Register drops it
    ],
)
def test_the_bundled_lists_disclosures_are_as_before(codes, expected):
    given = {f"disability{n}": code for n, code in enumerate(codes, 1)}
    assert disability_disclosure(load_reference(), given) == expected
