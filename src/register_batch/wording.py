"""Counts in the words of the messages people read: "1 record", "2 records"."""

from __future__ import annotations


def counted(count: int, noun: str) -> str:
    """`count noun`, the noun plural unless the count is one (nouns here take a plain -s)."""
    return f"{count} {noun}{'' if count == 1 else 's'}"
