"""docs/troubleshooting.md lists the error lines a sync prints, as printed, for a support engineer pasting one into a
search (review208 F7): each line it lists is one the program can print (its wording is in the source's messages, `…`
standing for what changes), and the lines the reviewer could not find in the docs are there, verbatim."""

from __future__ import annotations

import ast
import os
import re
from functools import cache
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PAGE = REPO / "docs" / "troubleshooting.md"
SOURCE = REPO / "src" / "register_batch"
# Where a value goes into a message: a setting or value a template names (errors.naming), a log call's %s.
PLACEHOLDER = re.compile(r"\{[a-z_]+\}|%[sdr]")
# What a line holds that is not the program's words: a request and Register's status (`GET /trainees -> 403:
# Forbidden`), and the operating system's words for an error (`No space left on device`).
NOT_OURS = re.compile(
    "|".join(
        [
            r"(?:GET|POST|PUT|PATCH|DELETE) /\S*(?: -> \d{3}(?:: [A-Z][A-Za-z ]*)?)?",
            r"SIG[A-Z]+",  # a signal's name
            *sorted({re.escape(os.strerror(code)) for code in range(1, 134)}, key=len, reverse=True),
        ]
    )
)


def _first_column_lines(section: str) -> list[str]:
    """The code spans of the first column of the section's first table: each line as printed, `…` for what changes."""
    text = PAGE.read_text(encoding="utf-8").split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in text.splitlines() if line.startswith("| `")]
    return [" … ".join(re.findall(r"`([^`]+)`", row.split(" | ")[0])) for row in rows]


@cache
def _templates() -> list[list[str]]:
    """Every string of the package's source as its constant parts, split where a value goes in (an f-string's
    `{...}`, a template's `{name}`)."""
    found: list[list[str]] = []
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append(PLACEHOLDER.split(node.value))
            elif isinstance(node, ast.JoinedStr):
                parts = [""]
                for value in node.values:
                    if isinstance(value, ast.Constant) and isinstance(value.value, str):
                        pieces = PLACEHOLDER.split(value.value)
                        parts[-1] += pieces[0]
                        parts += pieces[1:]
                    else:
                        parts.append("")
                found.append(parts)
    return found


@cache
def _constants() -> tuple[str, ...]:
    return tuple(part for parts in _templates() for part in parts if len(part) >= 4)


def _suffix(text: str) -> str:
    """A pattern for any ending of `text` (the empty one too)."""
    pattern = ""
    for char in text:
        pattern = f"(?:{pattern}{re.escape(char)})?" if pattern else f"(?:{re.escape(char)})?"
    return pattern


def _prefix(text: str) -> str:
    """A pattern for any beginning of `text` (the empty one too)."""
    pattern = ""
    for char in reversed(text):
        pattern = f"(?:{re.escape(char)}{pattern})?"
    return pattern


def _explained(piece: str) -> bool:
    """Whether `piece` is part of a message the source can print: inside one string, or one string's constant
    parts with values between them, where at least half of it is the source's words (the template's, or a value
    that is another string of the source, as "stopped answering" in "Register {what} ({error})"): at least 8 characters
    the template's own, and three quarters the source's words, a request (`GET /trainees -> 503`) or the operating
    system's."""
    if any(piece in constant for constant in _constants()) or not _not_ours(piece):
        return True
    for parts in _templates():
        # A template with words of its own in the piece (not one of values only: "%s: %s" explains anything).
        if len(parts) < 2 or not any(len(w) >= 4 and w in piece for w in (p.strip(" .;:,()") for p in parts)):
            continue
        # The template's parts, a value (None) between each two, and before and after it (the message it goes in).
        elements: list[str | None] = [None]
        for part in parts:
            elements += [part, None]
        for first in range(len(elements)):
            for last in range(first + 1, len(elements)):
                pattern = "".join(
                    "(.*?)"
                    if element is None
                    else _suffix(element)
                    if place == first
                    else _prefix(element)
                    if place == last
                    else re.escape(element)
                    for place, element in enumerate(elements[first : last + 1], start=first)
                )
                found = re.fullmatch(pattern, piece, flags=re.DOTALL)
                if found is None:
                    continue
                values = [value for value in found.groups() if value]
                own = len(piece) - sum(len(value) for value in values)
                unexplained = sum(len(_not_ours(v)) for v in values if not _a_constant(v.strip()))
                if own >= 8 and unexplained * 4 <= len(piece):
                    return True
    return False


def _a_constant(value: str) -> bool:
    """Whether `value` is words of the source's (a value one message puts into another: "stopped answering")."""
    return len(value) >= 6 and any(value in constant for constant in _constants())


def _not_ours(value: str) -> str:
    """`value` without what is not the program's words (NOT_OURS), nor spaces and punctuation."""
    return re.sub(r"[\s;:,.()]", "", NOT_OURS.sub("", value))


def _pieces(line: str) -> list[str]:
    """The parts of a documented line the program prints as they are: between the `…`, without the program's own
    `register-batch: ` and `error: ` in front; short ones (a bracket, a semicolon) say nothing."""
    line = re.sub(r"^(?:register-batch: (?:error: )?|WARNING: )", "", line.strip())
    pieces = [re.sub(r"^WARNING: ", "", piece.strip(" :;,.")) for piece in line.split("…")]
    return [piece for piece in pieces if len(piece) >= 8]


@pytest.mark.parametrize("section", ["Error lines"])
def test_every_error_line_the_page_lists_is_one_the_program_prints(section):
    lines = _first_column_lines(section)
    assert len(lines) >= 20, lines
    unknown = [(line, piece) for line in lines for piece in _pieces(line) if not _explained(piece)]
    assert unknown == [], unknown


def test_a_line_the_program_does_not_print_is_not_taken_for_one():
    """The check above can fail: wording the source does not have is caught."""
    assert not _explained("Register was unreachable at the time (")
    assert not _explained("the extract belongs to another provider entirely")
    assert not _explained("the state dir is locked by someone else")
    assert not _explained("Register was down (")
    assert not _explained("cannot open the mapping file (")
    assert not _explained("the state dir state is in use by another job")
    assert not _explained("no record of the inputs belongs to provider")
    assert _explained("Register was unavailable (")
    assert _explained("Register stopped answering (")


def test_the_lines_a_support_engineer_could_not_find_are_there_verbatim():
    """review208 F7: these lines had no verbatim hit in docs/, only prose about them."""
    page = PAGE.read_text(encoding="utf-8")
    for line in (
        "no record of the inputs is provider 10052198's, the UKPRN this run sends for",
        "The sync went through but has no report",
        "cannot read mapping file",
        "Register was unavailable (GET /trainees: could not connect (Connection refused)); nothing was written.",
    ):
        assert line in page, line


def test_the_page_is_linked_from_the_readme_the_index_and_the_exit_codes():
    for page in ("README.md", "docs/index.md", "docs/exit-codes.md", "docs/nightly-sync.md"):
        assert "troubleshooting.md" in (REPO / page).read_text(encoding="utf-8"), page
