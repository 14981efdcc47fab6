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


def disability_disclosure(reference: ReferenceData, disabilities: dict[str, str]) -> str:
    """§5.3: disability_not_provided / no_disability / disabled from the mapped disability codes."""
    names = reference.code_list("disability").names
    mapped = [names[code] for key, code in sorted(disabilities.items()) if code in names]
    if not mapped or mapped == ["not_provided"]:  # exactly: 98 with 99 is `disabled` (has_diversity_attributes.rb)
        return "disability_not_provided"
    if mapped == ["no_known_disability"]:
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
