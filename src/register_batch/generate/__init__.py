"""Synthetic HESA ITT extracts and Register CSVs, optionally with known defects and a truth file.

For users testing their own pipelines, and for register-batch's own recall and false-positive tests and
benchmarks. `generate()` streams records to disk one at a time (flat memory at any count); clean records
validate with no errors as of the chosen date (records in the C21053 layout carry the legacy-code warnings
that layout implies); each defective record carries exactly one defect from `KINDS`, and the truth file
lists every issue that defect must cause.
"""

from register_batch.generate.build import Draft, Layout, Profile
from register_batch.generate.core import VINTAGE_CHOICES, GenerateResult, generate
from register_batch.generate.defects import FORMATS, KINDS, NOT_GENERATED, DefectKind, Expect, kinds_for

__all__ = [
    "FORMATS",
    "KINDS",
    "NOT_GENERATED",
    "VINTAGE_CHOICES",
    "DefectKind",
    "Draft",
    "Expect",
    "GenerateResult",
    "Layout",
    "Profile",
    "generate",
    "kinds_for",
]
