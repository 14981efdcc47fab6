"""review187 F3: `fix_for()` and `CATALOGUE[code].fix`, offered to vendors to show their users, told only the command
line's way (`--mapping`, `--ukprn`). A fix that names a command-line option names the settings key or library
argument too, as the issue messages do (review182 F3), the command line's wording first."""

from __future__ import annotations

import re

import pytest

from register_batch.validation import fix_for
from register_batch.validation.catalogue import complete_catalogue

# Each option a fix may name, and what a library caller is told beside it.
SAID_ALSO = {
    "--mapping": "`mapping_files` in a library call",
    "--ukprn": "`ukprn` in register-batch.toml or a library call",
}


def outside_commands(text: str) -> str:
    """The fix without the commands it quotes (`register-batch mappings check --mapping FILE INPUT`): a command is
    the command line's own, and names its options as such."""
    return re.sub(r"`[^`]*`", "``", text)


@pytest.mark.parametrize("option", sorted(SAID_ALSO))
def test_a_fix_that_names_an_option_names_the_library_argument_after_it(option):
    naming = {code: rule.fix for code, rule in complete_catalogue().items() if option in outside_commands(rule.fix)}
    assert naming, option  # the check looks at something
    for code, fix in naming.items():
        assert SAID_ALSO[option] in fix, (code, fix)
        assert fix.index(option) < fix.index(SAID_ALSO[option]), (code, fix)


def test_fix_for_says_both_ways():
    assert fix_for("invalid_code") == (
        "Use a code from Register's list for the field (`register-batch reference show FIELD`, with FIELD as the "
        "report names it), or add a translation in a mapping file (--mapping, or `mapping_files` in a library call)."
    )
    several = fix_for("several_providers")
    assert several is not None and several.startswith(
        "Give the UKPRN of the provider whose token you use (--ukprn, or `ukprn` in register-batch.toml or a library "
        "call): "
    )
