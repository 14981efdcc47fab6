"""The rule catalogue: every check register-batch makes, with its stable code, source and suggested fix.

Rules are small functions registered with `@rule(...)`. A rule looks at one record (or one degree,
placement, withdrawal or deferral of it) and returns None when it passes, or a list of findings
`(field, value, message)`. `api=True` marks rules the Register API itself enforces (the emulator runs only
those); the others catch what the API would silently drop or replace, or what would go wrong later.

A *follow-up* rule (`follows=` the codes of other rules) explains what those rules found: it is not run on every
record, only on each issue they report, and its findings go right after that issue (Validator.check). So it costs
nothing on a record they pass.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from register_batch.model import Severity

# The degree or placement of the record a trainee rule's finding is about: ("degrees_attributes", 1), its index.
Item = tuple[str, int]
# What a rule found: the field, its value and the message; a trainee rule's finding about one of the record's degrees
# or placements may say which (Item), and its issue then names that one's line where the input gives it (review155
# F3: the runner knew where one rule's finding pointed, by the rule's code).
Finding = tuple[str | None, Any, str] | tuple[str | None, Any, str, Item]
SCOPES = ("trainee", "degree", "placement", "withdrawal", "deferral", "mapping", "batch", "file")


@dataclass(frozen=True)
class Rule:
    code: str
    scope: str
    fields: tuple[str, ...]
    message: str
    source: str
    fix: str
    severity: Severity
    api: bool
    check: Callable[..., list[Finding] | None] | None = None
    follows: frozenset[str] = frozenset()  # a follow-up rule: the codes whose issues it is given
    # Whether the rule can find anything with the lists a Validator uses (None: always): a rule about codes only a
    # pull brings is left out of the per-record calls with any other lists, and costs a clean record nothing.
    only_with: Callable[[Any], bool] | None = None
    # Sentences of the fix about one of the rule's fields only, added to `fix` on that field's issues alone: one text
    # per code told a blank sex about a C21053 leaver's end date (review222 F1). {field: sentence}
    fix_by_field: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def fix_on(self, name: str | None) -> str:
        """The fix for this rule's issue about the field `name`: the general one, with the field's own sentence if
        it has one."""
        own = self.fix_by_field.get(name) if name is not None and self.fix_by_field else None
        return f"{self.fix} {own}" if own else self.fix

    def fix_in_full(self) -> str:
        """The fix for a table of one row per rule (report.html's *Rules and fixes*, docs/rules.md): the general
        fix, then each sentence about one field only, introduced by that field's name, so that a reader about a
        blank sex is not told of a leaver's end date as if it were theirs (review222 F1)."""
        if not self.fix_by_field:
            return self.fix
        said: dict[str, list[str]] = {}
        for name, sentence in self.fix_by_field.items():  # one sentence of several fields is said once
            said.setdefault(sentence, []).append(f"`{name}`")
        return " ".join([self.fix, *(f"For {' or '.join(names)}: {sentence}" for sentence, names in said.items())])


CATALOGUE: dict[str, Rule] = {}


# Where a fix says to translate or map something, for each caller: the command line's option first, then a library
# call's argument, which a vendor's user is shown the fix with (`fix_for`) and has no --mapping (review187 F3).
def in_a_mapping_file(also: str = "") -> str:
    """ "in a mapping file (--mapping, or `mapping_files` in a library call)", with `also` said in the brackets."""
    return f"in a mapping file (--mapping, or `mapping_files` in a library call{'; ' + also if also else ''})"


def complete_catalogue() -> dict[str, Rule]:
    """CATALOGUE with every code in it: conversion's (jobs.py) and a sync's (`api_rejected`, the `sync_…` codes,
    sync/runner.py and sync/compare.py) are added as those modules are imported, so a process that only shows issues a
    worker pickled (a vendor's web process) found them missing (review182 F8). `register_batch.validation.CATALOGUE`
    is this."""
    import register_batch.jobs
    import register_batch.sync.runner  # noqa: F401  (these modules register the conversion and upload codes)

    return CATALOGUE


def fix_for(code: str, field: str | None = None) -> str | None:
    """What to do about an issue of `code` (`Issue.code`) about `field` (`Issue.field`): issues.csv's `fix` column;
    without a field, the rule's general fix (report.html's *Rules and fixes* adds each field's own sentence, named).
    None for a code that is no rule's."""
    found = complete_catalogue().get(code)
    return found.fix_on(field) if found is not None else None


def rule(
    code: str,
    *,
    scope: str = "trainee",
    fields: tuple[str, ...],
    message: str,
    source: str,
    fix: str,
    severity: Severity = Severity.ERROR,
    api: bool = True,
    follows: tuple[str, ...] = (),
    only_with: Callable[[Any], bool] | None = None,
    fix_by_field: dict[str, str] | None = None,
) -> Callable[[Callable[..., list[Finding] | None]], Callable[..., list[Finding] | None]]:
    """Register a check function under a stable issue code.

    With `follows`, a follow-up rule: `check(issue, facts, translation)` is called with each issue of those codes
    a record gets (and the mapping's `Mapper.translation`, or None), instead of with every record. With `only_with`,
    a rule run only by a Validator whose ReferenceData it is true of. `fix_by_field`: sentences of the fix that are
    about one field only (Rule.fix_by_field).
    """

    def register(check: Callable[..., list[Finding] | None]) -> Callable[..., list[Finding] | None]:
        _add(
            Rule(
                code,
                scope,
                fields,
                message,
                source,
                fix,
                severity,
                api,
                check,
                frozenset(follows),
                only_with,
                _own_fields(fields, fix_by_field),
            )
        )
        return check

    return register


def describe(
    code: str,
    *,
    scope: str,
    fields: tuple[str, ...],
    message: str,
    source: str,
    fix: str,
    severity: Severity = Severity.ERROR,
    api: bool = False,
    fix_by_field: dict[str, str] | None = None,
) -> None:
    """Register an issue code raised outside the rule functions (mapping, batch and file checks)."""
    _add(Rule(code, scope, fields, message, source, fix, severity, api, fix_by_field=_own_fields(fields, fix_by_field)))


def _own_fields(fields: tuple[str, ...], fix_by_field: dict[str, str] | None) -> dict[str, str]:
    """`fix_by_field`, checked to be about the rule's own fields (a misspelt one would never be shown)."""
    if not fix_by_field:
        return {}
    if stray := set(fix_by_field) - set(fields):
        raise ValueError(f"fix_by_field names fields the rule has not: {sorted(stray)}")
    return dict(fix_by_field)


def _add(entry: Rule) -> None:
    if entry.scope not in SCOPES:
        raise ValueError(f"unknown rule scope {entry.scope!r}")
    if entry.code in CATALOGUE:
        raise ValueError(f"duplicate rule code {entry.code!r}")
    CATALOGUE[entry.code] = entry


# A rule's checks of another scope's bodies, under its one code: a rule about every text value (control characters,
# spreadsheet formulas) looks at a withdrawal's and a deferral's text too (review77 F1). {scope: [(code, check)]}
_ALSO: dict[str, list[tuple[str, Callable[..., list[Finding] | None]]]] = {scope: [] for scope in SCOPES}


def also_checks(
    code: str, scope: str
) -> Callable[[Callable[..., list[Finding] | None]], Callable[..., list[Finding] | None]]:
    """Register `check(body, facts)` as rule `code`'s check of the `scope`'s bodies (the rule is defined first)."""

    def register(check: Callable[..., list[Finding] | None]) -> Callable[..., list[Finding] | None]:
        if code not in CATALOGUE or scope not in _ALSO:
            raise ValueError(f"no rule {code!r} to check {scope!r} bodies for")
        _ALSO[scope].append((code, check))
        return check

    return register


def rules_for(scope: str) -> list[Rule]:
    """The rules run on every record (or body) of the scope."""
    own = [r for r in CATALOGUE.values() if r.scope == scope and r.check is not None and not r.follows]
    return own + [dataclasses.replace(CATALOGUE[code], scope=scope, check=check) for code, check in _ALSO[scope]]


def follow_ups() -> list[Rule]:
    """The follow-up rules, each run on the issues of the codes it follows."""
    return [r for r in CATALOGUE.values() if r.follows]
