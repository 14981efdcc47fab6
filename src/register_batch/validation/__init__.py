"""Validation against Register API v2026.1's own rules (register-api.md §3), before anything is sent."""

from register_batch.validation.catalogue import CATALOGUE, Rule
from register_batch.validation.runner import BatchIssuesUnavailable, Checker, Validator

__all__ = ["CATALOGUE", "BatchIssuesUnavailable", "Checker", "Rule", "Validator"]
