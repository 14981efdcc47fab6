"""Validation against Register API v2026.1's own rules (register-api.md §3), before anything is sent."""

from typing import TYPE_CHECKING

from register_batch.validation.catalogue import Rule, complete_catalogue, fix_for
from register_batch.validation.runner import BatchIssuesUnavailable, Checker, Validator

if TYPE_CHECKING:
    from register_batch.validation.catalogue import CATALOGUE

__all__ = ["CATALOGUE", "BatchIssuesUnavailable", "Checker", "Rule", "Validator", "fix_for"]


def __getattr__(name: str) -> object:
    """`CATALOGUE`, every module's codes in it (`complete_catalogue`), whichever modules the caller imported: a sync's
    codes were missing until register_batch.sync was imported (review182 F8)."""
    if name == "CATALOGUE":
        return complete_catalogue()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
