"""Text as people and files receive it: counts in words ("1 record"), characters XML cannot hold."""

from __future__ import annotations

import re

# What XML 1.0 cannot hold at all: C0 controls other than tab and line ends, surrogates, U+FFFE and U+FFFF.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Line breaks, tabs and other control characters (C0, DEL, C1): the control_character rule refuses a value holding
# one (Register would store it as it is), so the writers note each they write.
CONTROL_CHARACTER = re.compile("[\x00-\x1f\x7f-\x9f]")


# A file name's bytes that are not UTF-8 (a Latin-1 name), as Python reads them (surrogateescape): lone surrogates,
# which no UTF-8 report can hold.
_UNDECODED = re.compile("[\udc80-\udcff]")


def undecoded_escaped(name: str) -> str:
    """A file or folder name as a UTF-8 report can hold it: each of its bytes that is not UTF-8 written `\\xNN`."""
    return _UNDECODED.sub(lambda m: f"\\x{ord(m.group()) & 0xFF:02x}", name)


def counted(count: int | None, noun: str, *, grouped: bool = False) -> str:
    """`count noun`, the noun plural unless the count is one (nouns here take a plain -s); `grouped` writes
    thousands separators (`1,234 records`), as report.html does."""
    count = count or 0
    number = f"{count:,}" if grouped else str(count)
    return f"{number} {noun}{'' if count == 1 else 's'}"


def xml_safe(text: str) -> str:
    """Text as XML can carry it: a character it cannot (a NUL quoted from an input) written as an escape."""
    return _NOT_XML.sub(
        lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100 else f"\\u{ord(m.group()):04x}", text
    )


def has_xml_unsafe(text: str) -> bool:
    return _NOT_XML.search(text) is not None
