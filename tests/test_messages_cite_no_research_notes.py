"""No message cites register-api.md, the project's research note on Register's API, which users do not have
(review161 F5: `mappings check` ended an error with "(register-api.md §3.3 R9)"). Code comments, docstrings and a rule's
`source` (docs/rules.md's Source column, which says what the notes are) may cite it; a string the code says to users
may not: it says what to do, or points to docs/rules.md or `register-batch reference show`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "register_batch"
# docs/rules.md's preamble: it says what the Source column's register-api.md is, and that users do not have it.
EXPLAINS_THE_NOTES = {"validation/docs.py"}


def _said_to_users(path: Path, note: str = "register-api.md") -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and body:
            first = body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                skipped.add(id(first.value))  # a docstring
        if isinstance(node, ast.keyword) and node.arg == "source":  # a catalogue entry's provenance
            skipped.update(id(sub) for sub in ast.walk(node.value))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and note in node.value
        and id(node) not in skipped
    ]


@pytest.mark.parametrize("note", ["register-api.md", "hesa-formats.md"])
def test_no_message_cites_the_api_research_note(note):
    """hesa-formats.md too: `required`'s fix, in every issues.csv row of a blank field, sent users to it (review222
    F1)."""
    found = [
        f"{path.relative_to(SRC)}:{line}: {text!r}"
        for path in sorted(SRC.rglob("*.py"))
        if path.relative_to(SRC).as_posix() not in EXPLAINS_THE_NOTES
        for line, text in _said_to_users(path, note)
    ]
    assert found == []
