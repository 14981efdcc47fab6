"""PostgreSQL's ILIKE as Register's duplicate check runs it (register-api.md §4), shared by the emulator and sync."""

from __future__ import annotations

import pytest

from register_batch.ilike import LikePatternError, has_wildcard, ilike, matches_itself


@pytest.mark.parametrize(
    "pattern,value,matched",
    [
        ("O_Neil", "O'Neil", True),  # `_` any one letter
        ("o%", "O'Neil", True),  # `%` any letters; case ignored
        ("O\\'Neil", "O'Neil", True),  # `\` escapes the next letter: the pattern is O'Neil
        ("O\\'Neil", "O\\'Neil", False),  # so the name is no match for itself (review139 F1)
        ("O\\_Neil", "O'Neil", False),  # an escaped `_` is a letter
        ("A\\\\B", "A\\B", True),  # an escaped backslash is one
        ("Lee\\", "Lee", False),  # a trailing lone `\` not reached: no match, no error
        ("Lee\\", "Kim\\", False),
        ("ÉL_NA", "élina", True),  # case ignored beyond ASCII
        ("%%", "", True),
        ("%a" * 40 + "%b", "a" * 300, False),  # a regular expression backtracked for hours over this
        ("%a" * 40 + "%b", "a" * 300 + "b", True),
    ],
)
def test_ilike_reads_the_pattern_as_postgresql_does(pattern, value, matched):
    assert ilike(pattern, value) is matched


@pytest.mark.parametrize("pattern,value", [("Lee\\", "Lee\\"), ("Lee\\", "Leex"), ("%\\", "a")])
def test_a_trailing_lone_backslash_reached_with_letters_left_is_postgresqls_error(pattern, value):
    """ "LIKE pattern must not end with escape character" (like_match.c): Register answers 500."""
    with pytest.raises(LikePatternError):
        ilike(pattern, value)


@pytest.mark.parametrize(
    "name,wildcard,itself",
    [("Smith", False, True), ("O_Neil", True, True), ("O\\_Neil", False, False), ("O\\\\_Neil", True, False)],
)
def test_wildcards_and_names_that_match_themselves(name, wildcard, itself):
    assert (has_wildcard(name), matches_itself(name)) == (wildcard, itself)
