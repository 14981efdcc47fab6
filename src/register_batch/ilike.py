"""PostgreSQL's ILIKE as Register's duplicate check runs it (register-api.md §4: `last_name ILIKE ?`, the submitted
last name being the pattern): `%` any letters, `_` any one letter, `\\` escapes the character after it. One reading,
shared by the emulator (which answers as Register) and sync's plan and runner (which foresee its 409), so that the
two cannot drift apart (review139 F1, F3)."""

from __future__ import annotations

from functools import lru_cache


class LikePatternError(ValueError):
    """PostgreSQL's "LIKE pattern must not end with escape character": a pattern ending in an unescaped backslash,
    when matching reaches that end with letters of the value left over (like_match.c since 8.4). Register does not
    catch it: its create is answered 500 (review139 F1)."""


# A pattern's pieces: a letter (lower case) to match, ANY_ONE (`_`) or ANY_LETTERS (`%`).
ANY_ONE, ANY_LETTERS = object(), object()
_Piece = str | object


@lru_cache(maxsize=4096)
def _pieces(pattern: str) -> tuple[tuple[_Piece, ...], bool]:
    """The pattern's pieces, and whether it ends in an escape with nothing after it."""
    pieces: list[_Piece] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            escaped = next(chars, None)
            if escaped is None:
                return tuple(pieces), True
            pieces.append(escaped.lower())
        elif char == "%":
            if not pieces or pieces[-1] is not ANY_LETTERS:  # `%%` is `%`
                pieces.append(ANY_LETTERS)
        elif char == "_":
            pieces.append(ANY_ONE)
        else:
            pieces.append(char.lower())
    return tuple(pieces), False


def _ends(pieces: tuple[_Piece, ...], value: str) -> set[int]:
    """Where in `value` a match of `pieces` from its start can end. One set of positions carried piece by piece, so
    the work is at most len(pattern) x len(value): a regular expression backtracked for hours over a name such as
    `%a%a%a...%b` (Register's PostgreSQL does not)."""
    folded = [char.lower() for char in value]  # letter by letter: a few letters' lower case is two (İ)
    ends = {0}
    for piece in pieces:
        if not ends:
            break
        if piece is ANY_LETTERS:
            ends = set(range(min(ends), len(value) + 1))
        elif piece is ANY_ONE:
            ends = {end + 1 for end in ends if end < len(value)}
        else:
            ends = {end + 1 for end in ends if end < len(value) and folded[end] == piece}
    return ends


def ilike(pattern: str, value: str | None) -> bool:
    """PostgreSQL `value ILIKE pattern` (§4: no trimming). Raises LikePatternError where PostgreSQL raises: the
    pattern ends in a lone backslash and what comes before it matches the start of the value with letters left over
    (`Lee\\` against `Lee\\`); against `Lee` or `Kim` it is no match, as in PostgreSQL."""
    if value is None:
        return False
    pieces, dangling = _pieces(pattern)
    ends = _ends(pieces, value)
    if dangling and any(end < len(value) for end in ends):
        raise LikePatternError("LIKE pattern must not end with escape character")
    return not dangling and len(value) in ends


def ends_in_escape(pattern: str) -> bool:
    """Whether the pattern ends in a lone backslash, escaping nothing: PostgreSQL may refuse it (LikePatternError)."""
    return _pieces(pattern)[1]


def has_wildcard(pattern: str) -> bool:
    """A `%` or `_` that ILIKE reads as a wildcard: one not escaped by a backslash (§4)."""
    return any(piece is ANY_LETTERS or piece is ANY_ONE for piece in _pieces(pattern)[0])


def matches_itself(name: str) -> bool:
    """Whether ILIKE with `name` as the pattern matches `name` itself: whether Register's 409 refuses the same create
    sent twice, as far as the last name goes. Not for a name with a backslash (`O\\'Neil` is a pattern for `O'Neil`),
    nor one ending in one (PostgreSQL raises, Register answers 500) (review139 F1)."""
    try:
        return ilike(name, name)
    except LikePatternError:
        return False
