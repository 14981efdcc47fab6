"""docs/rules.md is generated from the rule catalogue and must be current."""

from __future__ import annotations

from pathlib import Path

from register_batch.validation.docs import render


def test_docs_rules_md_is_current():
    committed = (Path(__file__).parents[2] / "docs" / "rules.md").read_text()
    assert committed == render(), "regenerate: python -m register_batch.validation.docs > docs/rules.md"


def test_every_rule_names_its_source_and_a_fix():
    from register_batch.validation import CATALOGUE

    for code, rule in CATALOGUE.items():
        assert rule.source and rule.fix and rule.message, code
