"""PostgreSQL's ILIKE as Register's duplicate check runs it (register-api.md §4: `last_name ILIKE ?`, the submitted
last name being the pattern): `%` any letters, `_` any one letter, `\\` escapes the character after it. One reading,
shared by the emulator (which answers as Register) and sync's plan and runner (which foresee its 409), so that the
two cannot drift apart (review139 F1, F3)."""

from __future__ import annotations

import re
from functools import lru_cache


class LikePatternError(ValueError):
    """PostgreSQL's "LIKE pattern must not end with escape character": a pattern ending in an unescaped backslash,
    when matching reaches that end with letters of the value left over (like_match.c since 8.4). Register does not
    catch it: its create is answered 500 (review139 F1)."""


def _parts(pattern: str) -> tuple[list[str], bool]:
    """The pattern as regular-expression pieces, and whether it ends in an escape with nothing after it."""
    parts: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                return parts, True
            parts.append(re.escape(escaped))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return parts, False


@lru_cache(maxsize=4096)
def _compiled(pattern: str) -> tuple[re.Pattern[str], bool]:
    parts, dangling = _parts(pattern)
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL), dangling


def ilike(pattern: str, value: str | None) -> bool:
    """PostgreSQL `value ILIKE pattern` (§4: no trimming). Raises LikePatternError where PostgreSQL raises: the
    pattern ends in a lone backslash and what comes before it matches the start of the value with letters left over
    (`Lee\\` against `Lee\\`); against `Lee` or `Kim` it is no match, as in PostgreSQL."""
    if value is None:
        return False
    regex, dangling = _compiled(pattern)
    if not dangling:
        return regex.fullmatch(value) is not None
    if any(regex.fullmatch(value, 0, end) for end in range(len(value))):
        raise LikePatternError("LIKE pattern must not end with escape character")
    return False


def has_wildcard(pattern: str) -> bool:
    """A `%` or `_` that ILIKE reads as a wildcard: one not escaped by a backslash (§4)."""
    return any(part in (".*", ".") for part in _parts(pattern)[0])


def matches_itself(name: str) -> bool:
    """Whether ILIKE with `name` as the pattern matches `name` itself: whether Register's 409 refuses the same create
    sent twice, as far as the last name goes. Not for a name with a backslash (`O\\'Neil` is a pattern for `O'Neil`),
    nor one ending in one (PostgreSQL raises, Register answers 500) (review139 F1)."""
    try:
        return ilike(name, name)
    except LikePatternError:
        return False
