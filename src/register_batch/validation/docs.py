"""Render docs/rules.md from the rule catalogue (a test checks the committed file is current).

Run `python -m register_batch.validation.docs > docs/rules.md` after adding or changing a rule.
"""

from __future__ import annotations

import register_batch.jobs
import register_batch.sync.runner  # noqa: F401  (these modules register the conversion and upload codes)
from register_batch.validation import CATALOGUE

SCOPE_TITLES = {
    "trainee": "Trainee fields and cross-field rules",
    "degree": "Degrees (`degrees_attributes[i]`)",
    "placement": "Placements (`placements_attributes[i]`)",
    "withdrawal": "Withdrawals (`withdrawal_*` columns)",
    "deferral": "Deferrals (`defer_*` columns)",
    "mapping": "Mapping of legacy codes and record structure",
    "batch": "Across the batch, conversion and upload",
    "file": "Whole files",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render() -> str:
    lines = [
        "# Validation rules",
        "",
        "Every issue register-batch reports has one of these stable codes. *API* says whether Register's API",
        "itself enforces the rule (the emulator runs only those); the others catch what Register would silently",
        "drop or replace, or what would go wrong later. Messages use the API's own wording where it has one;",
        "`<...>` marks the parts filled in. The *Source* column cites the project's research notes",
        "(`register-api.md` on Register's API, by section; `hesa-formats.md` on the HESA formats; `design.md`;",
        "`glossary.md`), which are not shipped with register-batch (they were written from Register's public",
        "source, `DFE-Digital/register-trainee-teachers` on GitHub): each row's message and fix stand on their own.",
        "",
        "Not checked here, because they need Register's database: whether a `training_partner_urn`,",
        "`training_partner_ukprn` or `employing_school_urn` belongs to a known partner or school (R15-R17;",
        "only their form is checked), the form-level submission checks of R20, and funding tables for start",
        "cycles other than 2025/26 to 2027/28 (a warning says so; Register has no funding rules for 2027/28, so",
        "fund code 7 and every bursary, scholarship and grant are refused there, as Register refuses them).",
        "",
        "This file is generated from the rule catalogue: `python -m register_batch.validation.docs > docs/rules.md`.",
        "",
    ]
    for scope, title in SCOPE_TITLES.items():
        entries = [r for r in CATALOGUE.values() if r.scope == scope]
        if any(r.check is None for r in entries):
            # Codes described from several modules: their import order varies, so sort them.
            entries.sort(key=lambda r: r.code)
        if not entries:
            continue
        lines += [
            f"## {title}",
            "",
            "| Code | Field(s) | Severity | API | Message | Source | Suggested fix |",
            "|---|---|---|---|---|---|---|",
        ]
        for r in entries:
            fields = ", ".join(f"`{f}`" for f in r.fields) or "-"
            lines.append(
                f"| `{r.code}` | {_cell(fields)} | {r.severity.value} | {'yes' if r.api else 'no'} | "
                f"{_cell(r.message)} | {_cell(r.source)} | {_cell(r.fix_in_full())} |"
            )
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
