"""The rule catalogue: every check register-batch makes, with its stable code, source and suggested fix.

Rules are small functions registered with `@rule(...)`. A rule looks at one record (or one degree,
placement, withdrawal or deferral of it) and returns None when it passes, or a list of findings
`(field, value, message)`. `api=True` marks rules the Register API itself enforces (the emulator runs only
those); the others catch what the API would silently drop or replace, or what would go wrong later.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from register_batch.model import Severity

Finding = tuple[str | None, Any, str]
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

    @property
    def name(self) -> str:
        return self.check.__name__ if self.check else self.code


CATALOGUE: dict[str, Rule] = {}


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
) -> Callable[[Callable[..., list[Finding] | None]], Callable[..., list[Finding] | None]]:
    """Register a check function under a stable issue code."""

    def register(check: Callable[..., list[Finding] | None]) -> Callable[..., list[Finding] | None]:
        _add(Rule(code, scope, fields, message, source, fix, severity, api, check))
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
) -> None:
    """Register an issue code raised outside the rule functions (mapping, batch and file checks)."""
    _add(Rule(code, scope, fields, message, source, fix, severity, api))


def _add(entry: Rule) -> None:
    if entry.scope not in SCOPES:
        raise ValueError(f"unknown rule scope {entry.scope!r}")
    if entry.code in CATALOGUE:
        raise ValueError(f"duplicate rule code {entry.code!r}")
    CATALOGUE[entry.code] = entry


def rules_for(scope: str) -> list[Rule]:
    return [r for r in CATALOGUE.values() if r.scope == scope and r.check is not None]
