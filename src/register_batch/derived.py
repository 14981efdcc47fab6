"""What Register derives from a trainee's fields rather than takes (register-api.md §5.2, §5.3): the course's
education phase and the disclosures. One place for the emulator, which answers with them, and the sync, which sees
them drift when another client's partial update left them derived from less than the trainee's fields (§2.6 ⚠)."""

from __future__ import annotations

from register_batch.reference import ReferenceData
from register_batch.validation.facts import EARLY_YEARS_ROUTES, PRIMARY_AGE_RANGES

NOT_PROVIDED_BACKGROUND = "Not provided"


def education_phase(route: str | None, age_range_code: str | None) -> str:
    """§5.2: early_years for early-years routes, primary for primary age ranges, else secondary."""
    if route in EARLY_YEARS_ROUTES:
        return "early_years"
    if age_range_code in PRIMARY_AGE_RANGES:
        return "primary"
    return "secondary"


# The disability codes that give no answer (§5.3: `98` prefer not to say, `99` not available, Register's "Not
# provided") and the one that says there is none (`95`). Every other code of the lists in use is a disability: a
# code a pull brought that the bundled lists lack is one too, where judged by the bundled internal names it was no
# answer, and the sync saw Register's "disclosed" as drift every night (review210 F3).
NOT_PROVIDED_DISABILITIES = frozenset({"98", "99"})
NO_KNOWN_DISABILITY = "95"


def disability_disclosure(reference: ReferenceData, disabilities: dict[str, str]) -> str:
    """§5.3: disability_not_provided / no_disability / disabled from the disability codes the lists in use hold (the
    others Register drops), by code."""
    codes = reference.codes("disability")
    mapped = [code for key, code in sorted(disabilities.items()) if code in codes]
    # Exactly one "Not provided": 98 with 99 is `disabled` (has_diversity_attributes.rb compares the list).
    if not mapped or (len(mapped) == 1 and mapped[0] in NOT_PROVIDED_DISABILITIES):
        return "disability_not_provided"
    if mapped == [NO_KNOWN_DISABILITY]:
        return "no_disability"
    return "disabled"


def diversity_disclosure(reference: ReferenceData, ethnicity: str | None, disabilities: dict[str, str]) -> str:
    """§5.3: disclosed when a disability answer (95 included) or a real ethnic background was given."""
    if disability_disclosure(reference, disabilities) != "disability_not_provided":
        return "diversity_disclosed"
    if (
        ethnicity is not None
        and ethnicity in reference.codes("ethnicity")
        and reference.name("ethnicity", ethnicity) != NOT_PROVIDED_BACKGROUND
    ):
        return "diversity_disclosed"
    return "diversity_not_disclosed"
