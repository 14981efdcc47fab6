"""The defect catalogue: one mistake per kind, and exactly the issues register-batch must report for it.

Each kind damages one clean draft and declares what validation will say: (field as the API names it,
issue code, severity), on this record and, for duplicates, on the record before. A kind is *pure*: its
`Profile` first shapes the clean record so the damage breaks nothing else (a bad funding method is put on
a record whose start cycle has a funding table; an invalid ITT start date goes on a record with no
cycle-dependent funding). The declarations are written from register-api.md and hesa-formats.md, not
from running the validator, so the truth file is an independent check of it.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from register_batch.generate.build import (
    DEFAULT_PROFILE,
    DISABILITIES,
    IQTS_COUNTRIES,
    PRIMARY_SPECIALISMS,
    PRIMARY_SUBJECT,
    SAFE_ROUTES,
    SECONDARY_SUBJECTS,
    Builder,
    Draft,
    Layout,
    Profile,
)
from register_batch.generate.layouts import LegacyEncoder
from register_batch.generate.names import MALE, SURNAMES
from register_batch.model import REQUIRED_FIELDS
from register_batch.validation.facts import (
    EARLY_YEARS_ROUTES,
    UNDERGRADUATE_ROUTES,
    cycle_of,
    parse_date,
    years_before,
)

FORMATS = ("hesa-xml", "hesa-csv", "register-csv")
HESA_FORMATS = frozenset({"hesa-xml", "hesa-csv"})
ALL_FORMATS = frozenset(FORMATS)
POSTGRADUATE_ROUTES = frozenset({"03", "10", "12", "15", "16", "17", "19", "20", "21"})
NOT_EARLY_YEARS = frozenset({"03", "09", "10", "11", "12", "14", "15", "16", "21"})
# What Register's duplicate rule compares (register-api.md §4): a copy of a record must keep these. The start cycle
# is the trainee start date's, else the ITT start date's: a trainee start moved ten years back is another cycle.
IDENTITY_FIELDS = frozenset(
    {"first_names", "last_name", "date_of_birth", "training_route", "itt_start_date", "trainee_start_date"}
)
JACS_CODES = ("G100", "F300", "C100", "Q300", "V100", "X100", "L700")

# Catalogue codes no input register-batch reads can trigger, and why (checked by the tests).
NOT_GENERATED = {
    "code_not_translated": "it is said only beside a user's mapping file, and generated files are read with the "
    "bundled mappings alone",
    "training_partner_ukprn_invalid": (
        "no HESA tag and no column of Register's CSV template holds training_partner_ukprn"
    ),
    "funding_not_judged": "only with pulled lists holding codes the bundled ones lack; generate has the bundled",
    "initiative_not_judged": "only with pulled lists holding codes the bundled ones lack; generate has the bundled",
    "placement_name_required": "placements in HESA files and Register's CSV are URNs; register-batch names each one",
    "placement_postcode_invalid": "no HESA tag and no column of Register's CSV template holds a placement postcode",
}


@dataclass(frozen=True)
class Expect:
    """One issue a defect must produce."""

    field: str | None
    code: str
    severity: str = "error"
    previous: bool = False  # on the record before this one (in-file duplicates)


@dataclass
class Previous:
    """What later records may copy from the record just written."""

    clean: Draft
    hesa_id: str | None
    provider_trainee_id: str | None
    kind: DefectKind | None
    leaving: bool = False  # withdrawn or deferred (--withdrawn, --deferred): no defect's issue is put on it


@dataclass
class Context:
    """What a defect can use: the run's settings, the builder, the record before (the record's layout is its
    draft's)."""

    builder: Builder
    encoder: LegacyEncoder
    fmt: str
    index: int = 0
    previous: Previous | None = None
    counters: dict[str, int] = field(default_factory=dict)

    @property
    def rng(self) -> random.Random:
        return self.builder.rng

    @property
    def as_of(self) -> date:
        return self.builder.as_of

    def count(self, name: str) -> int:
        """A per-run counter, for damaged values that must still differ from record to record."""
        value = self.counters.get(name, 0)
        self.counters[name] = value + 1
        return value


Apply = Callable[[Context, Draft], list[Expect]]
Profiles = Callable[[Context, Layout], list[Profile]]


@dataclass(frozen=True)
class DefectKind:
    """A kind of mistake: how to make it, on what record, and the issues it must produce."""

    name: str
    description: str
    codes: tuple[str, ...]
    apply: Apply
    profiles: Profiles
    formats: frozenset[str] = ALL_FORMATS
    layout_ok: Callable[[Layout], bool] = lambda layout: True
    touches: frozenset[str] = frozenset()
    needs_previous: Callable[[Context], bool] | None = None
    replaces_record: bool = False  # the record is a copy of the previous one (same_trainee_twice)
    clean_base: bool = True  # the record before the damage is valid (not so for iQTS in a HESA file)
    # In the mix a run makes without --kinds. A kind added since samples/defects.xml and the benchmarks' corpora were
    # made is not, so that the same seed still makes the same files; `--kinds NAME` makes it.
    default: bool = True

    def candidates(self, ctx: Context, layout: Layout) -> list[Profile]:
        """Profiles this kind can use for a record in `layout` (empty: not applicable)."""
        if ctx.fmt not in self.formats or not self.layout_ok(layout):
            return []
        return [p for p in self.profiles(ctx, layout) if ctx.builder.routes_for(layout, p)]

    def applicable(self, ctx: Context, layout: Layout) -> bool:
        if self.needs_previous is not None and not self.needs_previous(ctx):
            return False
        return bool(self.candidates(ctx, layout))


KINDS: dict[str, DefectKind] = {}


def _static(profile: Profile) -> Profiles:
    return lambda ctx, layout: [profile]


def defect(
    name: str,
    description: str,
    codes: tuple[str, ...],
    *,
    profile: Profile | Profiles = DEFAULT_PROFILE,
    formats: frozenset[str] = ALL_FORMATS,
    layout_ok: Callable[[Layout], bool] | None = None,
    touches: tuple[str, ...] = (),
    needs_previous: Callable[[Context], bool] | None = None,
    replaces_record: bool = False,
    clean_base: bool = True,
    default: bool = True,
) -> Callable[[Apply], Apply]:
    """Register a defect kind."""

    def register(apply: Apply) -> Apply:
        if name in KINDS:
            raise ValueError(f"duplicate defect kind {name!r}")
        KINDS[name] = DefectKind(
            name=name,
            description=description,
            codes=codes,
            apply=apply,
            profiles=profile if callable(profile) else _static(profile),
            formats=formats,
            layout_ok=layout_ok or (lambda layout: True),
            touches=frozenset(touches),
            needs_previous=needs_previous,
            replaces_record=replaces_record,
            clean_base=clean_base,
            default=default,
        )
        return apply

    return register


PLAIN = Profile(plain=True)
PLAIN_SAFE = Profile(plain=True, routes=SAFE_ROUTES)


def _separate_start(layout: Layout) -> bool:
    return layout.separate_trainee_start


def _bundled(profile: Profile) -> Profiles:
    """Only where Register's funding table for the start cycle is bundled (2025/26, 2026/27)."""
    return lambda ctx, layout: [profile] if ctx.builder.funding.bundled else []


def _plain_outside_default_cycle(profile: Profile) -> Profiles:
    """`profile`, made plain (no funding, no initiative) where the run's cycle is not the one Register judges a record
    without a start date by, now + 1 month's (§3.3): funding and initiatives would be judged in that cycle instead."""

    def profiles(ctx: Context, layout: Layout) -> list[Profile]:
        if cycle_of(ctx.as_of + timedelta(days=31)) == ctx.builder.cycle:
            return [profile]
        return [replace(profile, plain=True)]

    return profiles


def _dmy(value: str) -> str:
    """The date as a spreadsheet shows it (13/08/1998): not ISO 8601, so Register refuses it."""
    day = date.fromisoformat(value)
    return f"{day:%d/%m/%Y}"


def _bad_date(ctx: Context, value: str) -> str:
    return _dmy(value) if ctx.rng.random() < 0.7 else f"{value[:4]}-02-30"


def _bad_date_expects(field_name: str, value: str, code: str = "invalid_date") -> list[Expect]:
    """Register's error for a bad date, and for one as a spreadsheet shows it (13/08/1998) the hint beside it."""
    hint = [Expect(field_name, "spreadsheet_date", "warning")] if "/" in value else []
    return [Expect(field_name, code), *hint]


R11_CODES = ("funding_method_not_eligible", "funding_method_not_available")


def _r11_without_subject(draft: Draft) -> list[Expect]:
    """R11 beside a course_subject_1 left blank or not a code (review113 F5): Register's rule has no subject guard and
    finds no allocation subject for it (no fund code exception, no table row), so a bursary, scholarship or grant is
    refused, by its fund code 2 or by the table (fund code 7; the generator gives one only where it is bundled)."""
    if draft.data.get("funding_method") in (None, "6"):
        return []
    code = R11_CODES[0] if draft.data.get("fund_code") != "7" else R11_CODES[1]
    return [Expect("funding_method", code)]


# --- required fields (register-api.md §3.2) ------------------------------------------------------------


_REQUIRED_PROFILES = {
    "training_route": Profile(exclude=frozenset({"15", "16", "17"})),
    "itt_start_date": PLAIN_SAFE,
    "course_age_range": PLAIN,
    "fund_code": PLAIN,
    "funding_method": PLAIN,
}


def _missing(field_name: str) -> Apply:
    def apply(ctx: Context, draft: Draft) -> list[Expect]:
        data = draft.data
        data[field_name] = None
        if field_name == "itt_aim" and data["itt_qualification_aim"] is None:
            # R1: a blank itt_aim also needs a qualification aim; give one so only `required` fires.
            data["itt_qualification_aim"] = "008" if draft.route in UNDERGRADUATE_ROUTES else "020"
        if field_name == "itt_start_date":
            trainee_start = parse_date(data["trainee_start_date"])
            if not draft.layout.separate_trainee_start or (trainee_start and trainee_start > ctx.as_of):
                data["trainee_start_date"] = None  # C21053/C22053 read both from F_ITTCOMDATE
        if field_name == "course_subject_1":
            return [Expect(field_name, "required"), *_r11_without_subject(draft)]
        return [Expect(field_name, "required")]

    return apply


for _field in REQUIRED_FIELDS:
    defect(
        f"missing_{_field}",
        f"{_field} left blank (NULL / empty cell)",
        ("required", *(R11_CODES if _field == "course_subject_1" else ())),
        profile=_REQUIRED_PROFILES.get(_field, Profile()),
        touches=(_field,),
    )(_missing(_field))


# --- lengths, identifiers and formats (§3.1, §3.3 R18, hesa-formats.md §1.4) ---------------------------


@defect(
    "too_long_first_names", "every forename in first_names: over 60 characters", ("too_long",), touches=("first_names",)
)
def _long_first_names(ctx: Context, draft: Draft) -> list[Expect]:
    names = draft.data["first_names"].split()
    while len(" ".join(names)) <= 60:
        names.append(ctx.rng.choice(MALE if draft.data["sex"] == "11" else ("Anne", "Louise", "Victoria", "Rose")))
    draft.data["first_names"] = " ".join(names)
    return [Expect("first_names", "too_long")]


@defect("too_long_last_name", "a many-barrelled last_name over 60 characters", ("too_long",), touches=("last_name",))
def _long_last_name(ctx: Context, draft: Draft) -> list[Expect]:
    parts = [draft.data["last_name"]]
    while len("-".join(parts)) <= 60:
        parts.append(ctx.rng.choice([s for s in SURNAMES[:200] if " " not in s]))
    draft.data["last_name"] = "-".join(parts)
    return [Expect("last_name", "too_long")]


@defect(
    "too_long_provider_trainee_id",
    "an SRS composite key over 50 characters as provider_trainee_id",
    ("too_long",),
    touches=("provider_trainee_id",),
)
def _long_provider_id(ctx: Context, draft: Draft) -> list[Expect]:
    course = ctx.builder.course_code(draft.route or "", draft.data["course_subject_1"])
    draft.data["provider_trainee_id"] = (
        f"{draft.data['provider_trainee_id']}/{ctx.builder.provider.ukprn}/{course}/"
        f"{draft.data['itt_start_date'] or 'NOSTART'}/FT/ITT-QTS-ROUTE"
    )
    return [Expect("provider_trainee_id", "too_long")]


@defect(
    "too_long_application_id",
    "an application id longer than Apply's 7 digits",
    ("too_long",),
    layout_ok=lambda layout: layout.application_id,
    touches=("application_id",),
)
def _long_application_id(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["application_id"] = str(ctx.rng.randint(10_000_000, 999_999_999))
    return [Expect("application_id", "too_long")]


@defect(
    "application_id_not_integer",
    "an application id with letters in it (A1234)",
    ("application_id_not_integer",),
    layout_ok=lambda layout: layout.application_id,
    touches=("application_id",),
)
def _lettered_application_id(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["application_id"] = ctx.rng.choice(("A1234", "APP-567", "56789X", "5678 9"))
    return [Expect("application_id", "application_id_not_integer")]


@defect("too_long_email", "an email address over 255 characters", ("too_long",), touches=("email",))
def _long_email(ctx: Context, draft: Draft) -> list[Expect]:
    local, _, domain = draft.data["email"].partition("@")
    parts = [local]
    while len(".".join(parts)) < 250:
        parts.append(local.replace(".", "-"))
    draft.data["email"] = f"{'.'.join(parts)}@{domain}"
    return [Expect("email", "too_long")]


@defect(
    "husid_leading_zero_lost",
    "a HUSID whose leading zero a spreadsheet dropped (12 digits)",
    ("hesa_id_length",),
    touches=("hesa_id",),
)
def _husid_zero(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["hesa_id"] = str(int(draft.data["hesa_id"][1:13]))
    return [Expect("hesa_id", "hesa_id_length")]


@defect(
    "husid_scientific_notation",
    "a HUSID a spreadsheet turned into 3.10261E+12",
    ("hesa_id_length", "hesa_id_scientific_notation"),
    touches=("hesa_id",),
)
def _husid_scientific(ctx: Context, draft: Draft) -> list[Expect]:
    mantissa = str(100_000 + (ctx.count("scientific") * 7919) % 900_000)
    draft.data["hesa_id"] = f"{mantissa[0]}.{mantissa[1:]}E+12"
    return [Expect("hesa_id", "hesa_id_length"), Expect("hesa_id", "hesa_id_scientific_notation")]


@defect(
    "husid_letter_o",
    "a 13-character HUSID typed with the letter O for its leading zero",
    ("hesa_id_not_digits",),
    touches=("hesa_id",),
)
def _husid_letter(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["hesa_id"] = "O" + draft.data["hesa_id"][1:13]
    return [Expect("hesa_id", "hesa_id_not_digits", "warning")]


@defect(
    "husid_thousands_separators",
    "a 13-digit HUSID a spreadsheet wrote with thousands separators, 2,601,847,276,218: 17 characters, which "
    "Register's length rule takes; not in the default mix, so the benchmark corpora recorded before it came stay as "
    "they were",
    ("hesa_id_digit_groups",),
    touches=("hesa_id",),
    default=False,
)
def _husid_grouped(ctx: Context, draft: Draft) -> list[Expect]:
    digits = draft.data["hesa_id"][:13]
    separator = ctx.rng.choice((",", ".", "\u00a0"))
    draft.data["hesa_id"] = separator.join([digits[0], *(digits[i : i + 3] for i in range(1, 13, 3))])
    return [Expect("hesa_id", "hesa_id_digit_groups")]


@defect(
    "husid_rounded",
    "a 17-digit HUSID a spreadsheet kept 15 significant digits of, ending in 00 (review224 F2): 17 digits, which "
    "Register's length rule takes; not in the default mix, so the benchmark corpora recorded before it came stay as "
    "they were",
    ("hesa_id_digits_rounded",),
    touches=("hesa_id",),
    formats=frozenset({"hesa-csv", "register-csv"}),  # no spreadsheet writes HESA XML: not said there (review228 F7)
    default=False,
)
def _husid_rounded(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["hesa_id"] = draft.data["hesa_id"][:13] + f"{1 + ctx.count('rounded') % 99:02d}00"
    return [Expect("hesa_id", "hesa_id_digits_rounded", "warning")]


@defect(
    "ni_number_spaced",
    "an NI number typed as HMRC prints it, QQ 12 34 56 C (review224 F4); not in the default mix, so the benchmark "
    "corpora recorded before it came stay as they were",
    ("ni_number_form",),
    touches=("ni_number",),
    default=False,
)
def _ni_number_spaced(ctx: Context, draft: Draft) -> list[Expect]:
    digits = f"{(ctx.count('ni_number') * 7919) % 1_000_000:06d}"
    draft.data["ni_number"] = f"QQ {digits[:2]} {digits[2:4]} {digits[4:]} C"
    return [Expect("ni_number", "ni_number_form", "warning")]


@defect(
    "control_character",
    "a tab inside a first name, as pasted from a spreadsheet cell",
    ("control_character",),
    touches=("first_names",),
)
def _tab_in_name(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["first_names"] = draft.data["first_names"] + "\tAnn"
    return [Expect("first_names", "control_character")]


@defect(
    "spreadsheet_formula",
    'a surname in the formula form some SRS exports write so that Excel keeps a value as text, ="Hughes"; not in '
    "the default mix, so the benchmark corpora recorded before it came stay as they were",
    ("spreadsheet_formula",),
    touches=("last_name",),
    default=False,
)
def _formula_name(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["last_name"] = f'="{draft.data["last_name"]}"'
    return [Expect("last_name", "spreadsheet_formula")]


@defect(
    "spreadsheet_error_name",
    "a surname a workbook's failed lookup wrote as a spreadsheet's error value (#N/A, #NAME?, #REF!); not in the "
    "default mix, so the benchmark corpora recorded before it came stay as they were",
    ("spreadsheet_error",),
    touches=("last_name",),
    default=False,
)
def _error_value_name(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["last_name"] = ctx.rng.choice(("#N/A", "#NAME?", "#REF!"))
    return [Expect("last_name", "spreadsheet_error")]


@defect(
    "spreadsheet_error_date_of_birth",
    "a date of birth a workbook's failed lookup wrote as a spreadsheet's error value (#N/A, #VALUE!): Register's "
    "error, and a hint saying what the value is; not in the default mix, so the benchmark corpora recorded before it "
    "came stay as they were",
    ("invalid_date", "spreadsheet_error_hint"),
    touches=("date_of_birth",),
    default=False,
)
def _error_value_birth_date(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["date_of_birth"] = ctx.rng.choice(("#N/A", "#VALUE!"))
    return [Expect("date_of_birth", "invalid_date"), Expect("date_of_birth", "spreadsheet_error_hint", "warning")]


@defect(
    "last_name_wildcard",
    "a surname whose apostrophe an SRS wrote as an underscore (O_Hughes), which Register's duplicate check reads as "
    "a wildcard; a warning; not in the default mix, so the benchmark corpora recorded before it came stay as they were",
    ("last_name_wildcard",),
    touches=("last_name",),
    default=False,
)
def _wildcard_name(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["last_name"] = f"O_{draft.data['last_name']}"
    return [Expect("last_name", "last_name_wildcard", "warning")]


@defect(
    "last_name_backslash",
    "a surname whose apostrophe an SRS exported escaped (O\\'Hughes), which Register's duplicate check reads as an "
    "escape, so that the name does not match itself; a warning; not in the default mix, so the benchmark corpora "
    "recorded before it came stay as they were",
    ("last_name_backslash",),
    touches=("last_name",),
    default=False,
)
def _backslash_name(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["last_name"] = f"O\\'{draft.data['last_name']}"
    return [Expect("last_name", "last_name_backslash", "warning")]


@defect(
    "mac_roman_name",
    "an accented first name saved as Mac Roman and read as Windows-1252 (Zoë as Zo‘), as a CSV from Excel for Mac "
    "with Unix line ends leaves it; a warning, as a name written right may have the same sign (Sa‘id)",
    ("possibly_garbled_text",),
    touches=("first_names",),
    default=False,
)
def _mac_roman_name(ctx: Context, draft: Draft) -> list[Expect]:
    name = ctx.rng.choice(("Zoë", "Noël", "Zoë Ann", "Anaëlle"))
    draft.data["first_names"] = name.encode("mac_roman").decode("cp1252")
    return [Expect("first_names", "possibly_garbled_text", "warning")]


@defect(
    "garbled_name",
    "an accented first name written as UTF-8 and read as Windows-1252 (José as JosÃ©), as an XML declaration naming "
    "the wrong encoding leaves it",
    ("garbled_text",),
    touches=("first_names",),
)
def _garbled_name(ctx: Context, draft: Draft) -> list[Expect]:
    name = ctx.rng.choice(("José", "Zoë", "Renée", "Siân", "Chloé", "Siobhán"))
    draft.data["first_names"] = name.encode("utf-8").decode("cp1252")
    return [Expect("first_names", "garbled_text")]


@defect(
    "replacement_character_name",
    "an accented first name whose letter an editor replaced with U+FFFD, the replacement character (José as "
    "Jos\ufffd), as one that read a Windows-1252 file as UTF-8 and saved it leaves it; not in the default mix, so the "
    "benchmark corpora recorded before it came stay as they were",
    ("replacement_character",),
    touches=("first_names",),
    default=False,
)
def _replacement_character_name(ctx: Context, draft: Draft) -> list[Expect]:
    name = ctx.rng.choice(("José", "Zoë", "Renée", "Siân", "Chloé", "Siobhán"))
    draft.data["first_names"] = name.encode("cp1252").decode("utf-8", "replace")
    return [Expect("first_names", "replacement_character")]


@defect(
    "lost_letter_name",
    "a first name whose letter a Windows-1252 save wrote as ? (Małgorzata as Ma?gorzata), as Excel's \"CSV (Comma "
    'delimited)" leaves it; not in the default mix, so the benchmark corpora recorded before it came stay '
    "as they were",
    ("lost_letter",),
    touches=("first_names",),
    default=False,
)
def _lost_letter_name(ctx: Context, draft: Draft) -> list[Expect]:
    name = ctx.rng.choice(("Małgorzata", "Łukasz", "Ayşe", "Radosław", "Dorotă"))
    draft.data["first_names"] = name.encode("cp1252", "replace").decode("cp1252")
    return [Expect("first_names", "lost_letter")]


@defect(
    "invalid_email",
    "an email address without a domain, with a space, two @ or a domain starting with a hyphen",
    ("invalid_email",),
)
def _bad_email(ctx: Context, draft: Draft) -> list[Expect]:
    local, _, domain = draft.data["email"].partition("@")
    draft.data["email"] = ctx.rng.choice(
        (
            f"{local}@{domain.split('.')[0]}",
            f"{local.replace('.', ' ', 1) if '.' in local else local + ' x'}@{domain}",
            f"{local}@@{domain}",
            f"{local}.{domain}",
            f"{local}@-{domain}",  # not `{domain}.`: Register's check passes a host ending in one dot
        )
    )
    return [Expect("email", "invalid_email")]


@defect("course_year_not_integer", "course_year written as text (Year 1, 2025/26)", ("course_year_not_integer",))
def _course_year(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["course_year"] = ctx.rng.choice(("1.0", "Year 1", "2025/26", "one"))
    return [Expect("course_year", "course_year_not_integer")]


# --- code lists (§5) -------------------------------------------------------------------------------------

_INVALID_CODES: dict[str, tuple[tuple[str, ...], Profile]] = {
    "sex": (("M", "F", "7", "0"), Profile()),
    "nationality": (("gb", "UK", "EN", "British"), Profile()),
    "ethnicity": (("109", "WB", "A1"), Profile()),
    "itt_aim": (("203", "200", "2"), Profile()),
    "itt_qualification_aim": (("030", "PGCE", "22"), Profile()),
    "course_subject_1": (JACS_CODES, Profile(phase="secondary")),
    "course_subject_2": (JACS_CODES, Profile()),
    "course_subject_3": (JACS_CODES, Profile()),
    "study_mode": (("1", "FT", "10"), Profile()),
    "course_age_range": (("13910", "11-16", "1391"), Profile(plain=True, routes=NOT_EARLY_YEARS)),
    "fund_code": (("1", "Y", "07"), PLAIN),
    "funding_method": (("b", "A", "06"), PLAIN),
    "training_initiative": (("027", "NT", "26"), PLAIN),
    "additional_training_initiative": (("027", "NT", "26"), PLAIN),
}


# Those of the bad values that are a code with its leading zeros lost, as a spreadsheet writes it (hesa-formats.md
# §1.4): study mode 01, initiative 026. They are also said to have lost their zeros.
_ZEROS_LOST = {("study_mode", "1"), ("training_initiative", "26"), ("additional_training_initiative", "26")}
# Those that are a code in another letter case (nationality GB, funding method B): also said so (code_case).
_CASE_ONLY = {("nationality", "gb"), ("funding_method", "b")}


def _invalid_code(field_name: str, values: tuple[str, ...]) -> Apply:
    def apply(ctx: Context, draft: Draft) -> list[Expect]:
        value = draft.data[field_name] = ctx.rng.choice(values)
        funding = _r11_without_subject(draft) if field_name == "course_subject_1" else []
        if value in JACS_CODES:  # also said to be a JACS code (hesa-formats.md §5 item 22)
            return [Expect(field_name, "invalid_code"), Expect(field_name, "jacs_subject_code", "warning"), *funding]
        if (field_name, value) in _ZEROS_LOST:
            return [Expect(field_name, "invalid_code"), Expect(field_name, "leading_zeros_lost", "warning")]
        if (field_name, value) in _CASE_ONLY:
            return [Expect(field_name, "invalid_code"), Expect(field_name, "code_case", "warning")]
        return [Expect(field_name, "invalid_code")]

    return apply


def _invalid_code_issues(field_name: str, values: tuple[str, ...]) -> tuple[str, ...]:
    if field_name == "course_subject_1":
        return ("invalid_code", "jacs_subject_code", *R11_CODES)
    if values is JACS_CODES:
        return ("invalid_code", "jacs_subject_code")
    if any((field_name, value) in _ZEROS_LOST for value in values):
        return ("invalid_code", "leading_zeros_lost")
    if any((field_name, value) in _CASE_ONLY for value in values):
        return ("invalid_code", "code_case")
    return ("invalid_code",)


for _field, (_values, _profile) in _INVALID_CODES.items():
    defect(
        f"invalid_{_field}",
        f"{_field} not in Register's code list ({', '.join(_values)})",
        _invalid_code_issues(_field, _values),
        # An unknown funding method in a cycle without a bundled funding table is also a warning.
        profile=_bundled(_profile) if _field == "funding_method" else _profile,
        touches=(_field,),
    )(_invalid_code(_field, _values))


@defect("unknown_disability", "a disability code Register does not know (it would drop it)", ("unknown_disability",))
def _unknown_disability(ctx: Context, draft: Draft) -> list[Expect]:
    data = draft.data
    slot = 1 if draft.layout.single_disability else 1 + sum(data[f"disability{n}"] is not None for n in range(1, 10))
    data[f"disability{slot}"] = ctx.rng.choice(("52", "97", "50", "60"))
    return [Expect(f"disability{slot}", "unknown_disability")]


@defect(
    "duplicate_disabilities",
    "the same disability twice",
    ("duplicate_disabilities",),
    layout_ok=lambda layout: not layout.single_disability,
)
def _duplicate_disabilities(ctx: Context, draft: Draft) -> list[Expect]:
    data = draft.data
    for n in range(1, 10):
        data[f"disability{n}"] = None
    code = ctx.rng.choice(DISABILITIES)
    data["disability1"] = data["disability2"] = code  # a disability itself: 95, 98 and 99 may repeat (R14)
    return [Expect("disability2", "duplicate_disabilities")]


# --- dates (§3.4) ----------------------------------------------------------------------------------------


@defect(
    "invalid_date_of_birth",
    "date of birth as 13/08/1998 or 30 February",
    ("invalid_date", "spreadsheet_date"),
    touches=("date_of_birth",),
)
def _bad_birth_date(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["date_of_birth"] = _bad_date(ctx, draft.data["date_of_birth"])
    return _bad_date_expects("date_of_birth", draft.data["date_of_birth"])


@defect(
    "basic_form_date_of_birth",
    "date of birth in ISO 8601's basic form (19980813), which Register reads but returns as 1998-08-13",
    ("date_not_yyyy_mm_dd",),
    touches=("date_of_birth",),
    default=False,
)
def _basic_form_birth_date(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["date_of_birth"] = draft.data["date_of_birth"].replace("-", "")
    return [Expect("date_of_birth", "date_not_yyyy_mm_dd")]


@defect(
    "invalid_itt_start_date",
    "ITT start date as 01/09/2025 or 30 February",
    ("invalid_date", "spreadsheet_date"),
    profile=PLAIN_SAFE,
    touches=("itt_start_date", "trainee_start_date"),
)
def _bad_start_date(ctx: Context, draft: Draft) -> list[Expect]:
    data = draft.data
    data["itt_start_date"] = _bad_date(ctx, data["itt_start_date"])
    if not draft.layout.separate_trainee_start:
        # C21053/C22053 have one start date tag: both fields are read from it.
        data["trainee_start_date"] = data["itt_start_date"]
        return [
            *_bad_date_expects("itt_start_date", data["itt_start_date"]),
            *_bad_date_expects("trainee_start_date", data["trainee_start_date"]),
        ]
    expects = _bad_date_expects("itt_start_date", data["itt_start_date"])
    trainee_start = parse_date(data["trainee_start_date"])
    if trainee_start and trainee_start > ctx.as_of:
        data["trainee_start_date"] = None  # else "in the future and not the ITT start date" as well
        # Register sets a blank trainee_start_date to itt_start_date, so it is invalid too (§3.4; review109 F1). No
        # spreadsheet_date hint beside it: that is given beside itt_start_date, where the value is written.
        expects.append(Expect("trainee_start_date", "invalid_date"))
    return expects


@defect(
    "invalid_itt_end_date",
    "expected end date as 31/07/2027",
    ("invalid_date", "spreadsheet_date"),
    touches=("itt_end_date",),
)
def _bad_end_date(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["itt_end_date"] = _bad_date(ctx, draft.data["itt_end_date"])
    return _bad_date_expects("itt_end_date", draft.data["itt_end_date"])


@defect(
    "invalid_trainee_start_date",
    "trainee start date as 08/09/2025",
    ("invalid_date", "spreadsheet_date"),
    # Not a date: Register's start cycle is now + 1 month's, not the ITT start's (review113 F6).
    profile=_plain_outside_default_cycle(DEFAULT_PROFILE),
    layout_ok=_separate_start,
    touches=("trainee_start_date",),
)
def _bad_trainee_start(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["trainee_start_date"] = _bad_date(ctx, draft.data["trainee_start_date"])
    return _bad_date_expects("trainee_start_date", draft.data["trainee_start_date"])


@defect(
    "invalid_pg_apprenticeship_start_date",
    "postgraduate apprenticeship start date as 01/09/2025 (Register would not check it)",
    ("unchecked_date_invalid", "spreadsheet_date"),
)
def _bad_apprenticeship_date(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["pg_apprenticeship_start_date"] = _dmy(draft.data["itt_start_date"])
    return _bad_date_expects(
        "pg_apprenticeship_start_date", draft.data["pg_apprenticeship_start_date"], "unchecked_date_invalid"
    )


@defect(
    "date_of_birth_too_old",
    "a date of birth more than 100 years ago (a mistyped century)",
    ("date_of_birth_too_old",),
    touches=("date_of_birth",),
)
def _born_too_early(ctx: Context, draft: Draft) -> list[Expect]:
    born = date.fromisoformat(draft.data["date_of_birth"])
    draft.data["date_of_birth"] = date(
        ctx.as_of.year - 101 - ctx.rng.randint(0, 20), born.month, min(born.day, 28)
    ).isoformat()
    return [Expect("date_of_birth", "date_of_birth_too_old")]


@defect(
    "date_of_birth_in_future",
    "a date of birth after the as-of date",
    ("date_of_birth_in_future",),
    touches=("date_of_birth",),
)
def _born_in_future(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["date_of_birth"] = (ctx.as_of + timedelta(days=ctx.rng.randint(1, 400))).isoformat()
    return [Expect("date_of_birth", "date_of_birth_in_future")]


@defect(
    "date_of_birth_under_16",
    "a date of birth less than 16 years ago",
    ("date_of_birth_under_16",),
    touches=("date_of_birth",),
)
def _born_too_late(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["date_of_birth"] = years_before(ctx.as_of, ctx.rng.randint(5, 15)).isoformat()
    return [Expect("date_of_birth", "date_of_birth_under_16")]


@defect(
    "itt_start_date_too_far",
    "an ITT start date two years ahead (start.year > as-of year + 1)",
    ("itt_start_date_too_far",),
    profile=PLAIN_SAFE,
    touches=("itt_start_date", "trainee_start_date", "itt_end_date"),
)
def _start_too_far(ctx: Context, draft: Draft) -> list[Expect]:
    start = date(ctx.as_of.year + 2, 9, ctx.rng.randint(1, 28))
    draft.data["itt_start_date"] = draft.data["trainee_start_date"] = start.isoformat()
    draft.data["itt_end_date"] = date(start.year + 1, 7, ctx.rng.randint(1, 28)).isoformat()
    return [Expect("itt_start_date", "itt_start_date_too_far")]


@defect(
    "itt_end_date_too_far",
    "an expected end date more than 5 calendar years ahead",
    ("itt_end_date_too_far",),
    touches=("itt_end_date",),
)
def _end_too_far(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["itt_end_date"] = date(ctx.as_of.year + 6 + ctx.rng.randint(0, 2), 7, ctx.rng.randint(1, 28)).isoformat()
    return [Expect("itt_end_date", "itt_end_date_too_far")]


@defect(
    "itt_end_date_too_old",
    "a course that ended more than 10 years ago (no trainee start date: Register checks the ITT start date as one)",
    ("itt_end_date_too_old", "trainee_start_date_too_old"),
    profile=PLAIN_SAFE,
    layout_ok=_separate_start,
    touches=("itt_start_date", "trainee_start_date", "itt_end_date"),
)
def _end_too_old(ctx: Context, draft: Draft) -> list[Expect]:
    end = years_before(ctx.as_of, 10) - timedelta(days=ctx.rng.randint(1, 300))
    draft.data["itt_end_date"] = end.isoformat()
    draft.data["itt_start_date"] = (end - timedelta(days=ctx.rng.randint(300, 700))).isoformat()
    draft.data["trainee_start_date"] = None  # set to itt_start_date by Register, then too old too (§3.4)
    return [Expect("itt_end_date", "itt_end_date_too_old"), Expect("trainee_start_date", "trainee_start_date_too_old")]


@defect(
    "itt_end_date_before_start",
    "an expected end date on or before the ITT start date",
    ("itt_end_date_before_start",),
    touches=("itt_end_date",),
)
def _end_before_start(ctx: Context, draft: Draft) -> list[Expect]:
    start = date.fromisoformat(draft.data["itt_start_date"])
    # An end on or before 10.years.ago is itt_end_date_too_old, which Register reports first (§3.4; review109 F2): only
    # days that keep it later. 0 always does: the cycle starts after 10 years before the as-of date (core.py).
    oldest = years_before(ctx.as_of, 10)
    days = [d for d in (0, 1, 30, 92) if start - timedelta(days=d) > oldest]
    draft.data["itt_end_date"] = (start - timedelta(days=ctx.rng.choice(days))).isoformat()
    return [Expect("itt_end_date", "itt_end_date_before_start")]


@defect(
    "trainee_start_date_too_old",
    "a trainee start date more than 10 years ago",
    ("trainee_start_date_too_old",),
    profile=PLAIN_SAFE,
    layout_ok=_separate_start,
    touches=("trainee_start_date",),
)
def _trainee_start_too_old(ctx: Context, draft: Draft) -> list[Expect]:
    day = years_before(ctx.as_of, 10) - timedelta(days=ctx.rng.randint(1, 400))
    draft.data["trainee_start_date"] = day.isoformat()
    return [Expect("trainee_start_date", "trainee_start_date_too_old")]


@defect(
    "trainee_start_date_in_future",
    "a trainee start date in the future that is not the ITT start date",
    ("trainee_start_date_in_future",),
    profile=PLAIN_SAFE,
    layout_ok=_separate_start,
    touches=("trainee_start_date",),
)
def _trainee_start_in_future(ctx: Context, draft: Draft) -> list[Expect]:
    start = date.fromisoformat(draft.data["itt_start_date"])
    draft.data["trainee_start_date"] = (max(ctx.as_of, start) + timedelta(days=ctx.rng.randint(1, 60))).isoformat()
    return [Expect("trainee_start_date", "trainee_start_date_in_future")]


# --- cross-field rules (§3.3) ----------------------------------------------------------------------------


@defect(
    "qualification_aim_missing",
    "itt_aim 202 (status and award) without the qualification aim (R1)",
    ("qualification_aim_required",),
    touches=("itt_aim", "itt_qualification_aim"),
)
def _no_qualification_aim(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["itt_aim"] = "202"
    draft.data["itt_qualification_aim"] = None
    return [Expect("itt_qualification_aim", "qualification_aim_required")]


@defect(
    "primary_subject_not_first",
    "a primary course with its specialism before primary teaching (R2)",
    ("primary_subject_required",),
    profile=Profile(phase="primary", plain=True),
    touches=("course_subject_1", "course_subject_2"),
)
def _primary_second(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["course_subject_1"] = ctx.rng.choice(PRIMARY_SPECIALISMS)
    draft.data["course_subject_2"] = PRIMARY_SUBJECT
    draft.data["course_subject_3"] = None
    return [Expect("course_subject_1", "primary_subject_required")]


@defect(
    "early_years_wrong_subject",
    "an early-years route with primary teaching as course subject (R3)",
    ("early_years_subject_required",),
    profile=Profile(routes=EARLY_YEARS_ROUTES, plain=True),
    touches=("course_subject_1",),
)
def _early_years_subject(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["course_subject_1"] = PRIMARY_SUBJECT
    return [Expect("course_subject_1", "early_years_subject_required")]


@defect(
    "early_years_wrong_age_range",
    "an early-years route with a school age range (R4)",
    ("early_years_age_range_required",),
    profile=Profile(routes=EARLY_YEARS_ROUTES, plain=True),
    touches=("course_age_range",),
)
def _early_years_age(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["course_age_range"] = ctx.rng.choice(("13909", "13914", "13912"))
    return [Expect("course_age_range", "early_years_age_range_required")]


@defect(
    "early_years_age_range_on_other_route",
    "the 0-5 age range (13920) on a school route (R4)",
    ("age_range_reserved_for_early_years",),
    profile=Profile(routes=NOT_EARLY_YEARS),
    touches=("course_age_range",),
)
def _reserved_age(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["course_age_range"] = "13920"
    return [Expect("course_age_range", "age_range_reserved_for_early_years")]


@defect(
    "duplicate_course_subject_2",
    "course_subject_2 repeating course_subject_1 (R5)",
    ("duplicate_course_subject",),
    profile=Profile(routes=NOT_EARLY_YEARS),
    touches=("course_subject_2",),
)
def _repeat_subject_2(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["course_subject_2"] = draft.data["course_subject_1"]
    draft.data["course_subject_3"] = None
    return [Expect("course_subject_2", "duplicate_course_subject")]


@defect(
    "duplicate_course_subject_3",
    "course_subject_3 repeating course_subject_1 (R5)",
    ("duplicate_course_subject",),
    profile=Profile(routes=NOT_EARLY_YEARS),
    touches=("course_subject_3",),
)
def _repeat_subject_3(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["course_subject_3"] = draft.data["course_subject_1"]
    return [Expect("course_subject_3", "duplicate_course_subject")]


@defect(
    "study_mode_missing",
    "no study mode on a route other than assessment only (R6)",
    ("study_mode_required",),
    profile=Profile(exclude=frozenset({"16", "17"})),
    touches=("study_mode",),
)
def _no_study_mode(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["study_mode"] = None
    return [Expect("study_mode", "study_mode_required")]


@defect(
    "postgraduate_without_degree",
    "a postgraduate route with no previous degree (R7a)",
    ("degree_required",),
    profile=Profile(routes=POSTGRADUATE_ROUTES),
    touches=("degrees_attributes",),
)
def _no_degree(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["degrees_attributes"] = []
    draft.extras["_null_qualification"] = ctx.rng.random() < 0.5  # an all-NULL qualification is dropped
    return [Expect("degrees_attributes", "degree_required")]


@defect(
    "duplicate_degrees",
    "the same previous degree twice (R7b)",
    ("duplicate_degrees",),
    profile=Profile(routes=POSTGRADUATE_ROUTES),
    formats=HESA_FORMATS,
    touches=("degrees_attributes",),
)
def _twice_degree(ctx: Context, draft: Draft) -> list[Expect]:
    first = draft.degrees[0]
    draft.data["degrees_attributes"] = [first, dict(first)]
    return [Expect("degrees_attributes", "duplicate_degrees")]


@defect(
    "iqts_without_country",
    "an iQTS trainee (route 15) without iqts_country (R8; no HESA tag can hold it)",
    ("iqts_country_required",),
    profile=Profile(routes=frozenset({"15"}), any_route=True, plain=True),
    touches=("iqts_country",),
    clean_base=False,  # a HESA file cannot carry iqts_country at all
)
def _iqts_no_country(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["iqts_country"] = None
    return [Expect("iqts_country", "iqts_country_required")]


@defect(
    "iqts_country_on_other_route",
    "iqts_country on a route other than iQTS (R8)",
    ("iqts_country_not_allowed",),
    profile=Profile(exclude=frozenset({"15"})),
    formats=frozenset({"register-csv"}),
    touches=("iqts_country",),
)
def _iqts_elsewhere(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["iqts_country"] = ctx.rng.choice(IQTS_COUNTRIES)
    return [Expect("iqts_country", "iqts_country_not_allowed")]


@defect(
    "invalid_iqts_country",
    "an iQTS country that is not a country code (UK, England, Dubai)",
    ("invalid_iqts_country",),
    profile=Profile(routes=frozenset({"15"}), plain=True),
    formats=frozenset({"register-csv"}),
    touches=("iqts_country",),
)
def _iqts_bad_country(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["iqts_country"] = ctx.rng.choice(("UK", "England", "Dubai"))
    return [Expect("iqts_country", "invalid_iqts_country")]


@defect(
    "invalid_training_route",
    "a training route Register does not have (04, 3, 22) (R9)",
    ("invalid_training_route", "leading_zeros_lost"),
    profile=Profile(plain=True, exclude=frozenset({"15", "16", "17"})),
    # The degrees too: R7a (degree_required) waits for a route code in validate (rules.WAIT_FOR_A_ROUTE_CODE), so no
    # other defect may take them away on this record.
    touches=("training_route", "degrees_attributes"),
)
def _bad_route(ctx: Context, draft: Draft) -> list[Expect]:
    route = draft.data["training_route"] = ctx.rng.choice(("04", "3", "22", "1"))
    expected = [Expect("training_route", "invalid_training_route")]
    if route in ("3", "1"):  # 03 without its zero; 1 is the legacy 01 (provider-led, translated) without it
        expected.append(Expect("training_route", "leading_zeros_lost", "warning"))
    return expected


@defect(
    "route_and_start_date_from_a_spreadsheet",
    "a training route Register does not have (3 for 03, 04) and the trainee start date as 08/09/2025: R9 waits for the "
    "date, register-batch names the route (review151 F1)",
    ("unknown_training_route", "leading_zeros_lost", "invalid_date", "spreadsheet_date"),
    # Not plain where the cycle allows: fund code 7 on a route that is no code is not called unfunded (R10, R11 wait).
    profile=_plain_outside_default_cycle(Profile(exclude=frozenset({"15", "16", "17"}))),
    layout_ok=_separate_start,
    touches=("training_route", "trainee_start_date", "degrees_attributes"),
    default=False,
)
def _bad_route_and_start(ctx: Context, draft: Draft) -> list[Expect]:
    data = draft.data
    route = data["training_route"] = ctx.rng.choice(("04", "3", "22", "1"))
    data["trainee_start_date"] = _bad_date(ctx, data["trainee_start_date"])
    expected = _bad_date_expects("trainee_start_date", data["trainee_start_date"])
    expected.append(Expect("training_route", "unknown_training_route"))
    if route in ("3", "1"):  # as _bad_route (and R7a waits for a route code as there)
        expected.append(Expect("training_route", "leading_zeros_lost", "warning"))
    return expected


def _unfunded_routes(ctx: Context, layout: Layout) -> list[Profile]:
    funding = ctx.builder.funding
    if not funding.bundled:
        return []
    routes = frozenset(ctx.builder.route_pool(layout)) - funding.funded_routes
    return [Profile(routes=routes, plain=True)] if routes else []


@defect(
    "fund_code_7_without_funding",
    "fund code 7 (eligible) on a route with no funding in the start cycle (R10)",
    ("fund_code_not_valid",),
    profile=_unfunded_routes,
    touches=("fund_code",),
)
def _fund_code_unfunded(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["fund_code"] = "7"
    return [Expect("fund_code", "fund_code_not_valid")]


def _subjects_without_exception(ctx: Context, layout: Layout) -> list[Profile]:
    funding = ctx.builder.funding
    if not funding.bundled:
        return []
    return [
        Profile(phase="secondary", subject=subject, plain=True)
        for subject in SECONDARY_SUBJECTS
        if not funding.exception(subject)
    ]


@defect(
    "funding_method_needs_fund_code_7",
    "a bursary, scholarship or grant with fund code 2 (not eligible) (R11)",
    ("funding_method_not_eligible",),
    profile=_subjects_without_exception,
    touches=("fund_code", "funding_method"),
)
def _funding_not_eligible(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["fund_code"] = "2"
    draft.data["funding_method"] = ctx.rng.choice(("D", "4", "E"))
    return [Expect("funding_method", "funding_method_not_eligible")]


def _bursary_profiles(ctx: Context, layout: Layout, offered: bool) -> list[Profile]:
    """(route, subject) pairs where Register does (offered) or does not offer a bursary in the cycle."""
    funding = ctx.builder.funding
    if not funding.bundled:
        return []
    routes = [r for r in ctx.builder.route_pool(layout) if r in funding.funded_routes and r in NOT_EARLY_YEARS]
    found = []
    for route in routes:
        for subject in SECONDARY_SUBJECTS:
            if ("bursary" in funding.types_for(route, subject)) == offered:
                found.append(Profile(routes=frozenset({route}), phase="secondary", subject=subject, plain=True))
    return found


@defect(
    "funding_method_not_offered",
    "a bursary for a route and subject Register offers none for in the cycle (R11)",
    ("funding_method_not_available",),
    profile=lambda ctx, layout: _bursary_profiles(ctx, layout, offered=False),
    touches=("fund_code", "funding_method"),
)
def _funding_not_offered(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["fund_code"] = "7"
    draft.data["funding_method"] = "D"
    return [Expect("funding_method", "funding_method_not_available")]


@defect(
    "initiative_not_in_cycle",
    "a training initiative that does not run in the start cycle (R12)",
    ("initiative_not_available",),
    profile=PLAIN,
    touches=("training_initiative",),
)
def _initiative_out_of_cycle(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["training_initiative"] = ctx.rng.choice(ctx.builder.funding.unavailable_initiatives)
    return [Expect("training_initiative", "initiative_not_available")]


@defect(
    "additional_initiative_not_in_cycle",
    "an additional training initiative that does not run in the start cycle (R13)",
    ("additional_initiative_not_available",),
    profile=PLAIN,
    touches=("additional_training_initiative",),
)
def _additional_out_of_cycle(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["additional_training_initiative"] = ctx.rng.choice(ctx.builder.funding.unavailable_initiatives)
    return [Expect("additional_training_initiative", "additional_initiative_not_available")]


@defect(
    "veteran_bursary_with_initiative",
    "funding method C (veterans bursary) with a training initiative Register would overwrite (R19)",
    ("initiative_replaced_by_funding_method",),
    profile=lambda ctx, layout: _bursary_profiles(ctx, layout, offered=True),
    touches=("fund_code", "funding_method", "training_initiative"),
)
def _veteran_with_initiative(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["fund_code"], draft.data["funding_method"] = "7", "C"
    draft.data["training_initiative"] = ctx.rng.choice(ctx.builder.funding.initiatives or ("026",))
    return [Expect("training_initiative", "initiative_replaced_by_funding_method")]


def _unbundled_cycle(ctx: Context) -> int | None:
    """A start cycle with no bundled funding table in which a course can still be valid as of the date."""
    builder = ctx.builder
    if not builder.funding.bundled:
        return builder.cycle
    rules = builder.reference.funding.rules
    earliest = years_before(ctx.as_of, 10)
    for cycle in [*range(builder.cycle - 1, builder.cycle - 6, -1), *range(builder.cycle + 1, ctx.as_of.year + 2)]:
        if cycle not in rules and date(cycle, 9, 1) >= earliest and cycle <= ctx.as_of.year + 1:
            return cycle
    return None


@defect(
    "funding_table_not_bundled",
    "fund code 7 in a start cycle whose funding table register-batch does not bundle (a warning)",
    ("funding_rules_not_bundled",),
    profile=lambda ctx, layout: [PLAIN_SAFE] if _unbundled_cycle(ctx) is not None else [],
    touches=("fund_code", "itt_start_date", "trainee_start_date", "itt_end_date"),
)
def _unbundled_funding(ctx: Context, draft: Draft) -> list[Expect]:
    cycle = _unbundled_cycle(ctx)
    assert cycle is not None
    if cycle != ctx.builder.cycle:
        ctx.builder.start_cycle_dates(draft.data, cycle)
    draft.data["fund_code"] = "7"
    return [Expect("funding_method", "funding_rules_not_bundled", "warning")]


@defect(
    "training_partner_urn_malformed",
    "a training partner URN that is not 6 digits (R15)",
    ("training_partner_urn_invalid",),
    touches=("training_partner_urn",),
)
def _bad_partner(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["training_partner_urn"] = ctx.rng.choice(("13579", "1357924", "S13579", "URN 135792"))
    return [Expect("training_partner_urn", "training_partner_urn_invalid")]


@defect(
    "employing_school_urn_malformed",
    "an employing school URN that is not 6 digits (R17)",
    ("employing_school_urn_invalid",),
    touches=("employing_school_urn",),
)
def _bad_employer(ctx: Context, draft: Draft) -> list[Expect]:
    draft.data["employing_school_urn"] = ctx.rng.choice(("24680", "2468013", "E24680"))
    return [Expect("employing_school_urn", "employing_school_urn_invalid")]


# --- degrees (§3.7) and placements (§3.8) ----------------------------------------------------------------

DEGREE = "degrees_attributes[0]"
UK_DEGREE = Profile(routes=POSTGRADUATE_ROUTES, uk_degree=True)
NON_UK_DEGREE = Profile(routes=POSTGRADUATE_ROUTES, uk_degree=False)


def _degree_defect(
    name: str,
    description: str,
    code: str,
    field_name: str,
    profile: Profile,
    *,
    also: tuple[str, ...] = (),
    severity: str = "error",
) -> Callable[[Any], Apply]:
    """A defect in the record's one degree; `change` may return further issues it causes (codes in `also`)."""

    def wrap(change: Callable[[Context, dict[str, Any]], list[Expect] | None]) -> Apply:
        def apply(ctx: Context, draft: Draft) -> list[Expect]:
            del draft.degrees[1:]
            more = change(ctx, draft.degrees[0]) or []
            return [Expect(f"{DEGREE}.{field_name}", code, severity), *more]

        defect(name, description, (code, *also), profile=profile, touches=("degrees_attributes",))(apply)
        return apply

    return wrap


@_degree_defect(
    "degree_without_subject",
    "a degree with no subject, or a JACS one",
    "degree_subject_required",
    "subject",
    UK_DEGREE,
    also=("jacs_subject_code",),
)
def _no_subject(ctx: Context, degree: dict[str, Any]) -> list[Expect] | None:
    if ctx.rng.random() < 0.5:
        degree["subject"] = None
        return None
    degree["subject"] = ctx.rng.choice(JACS_CODES)
    return [Expect(f"{DEGREE}.subject", "jacs_subject_code", "warning")]


@_degree_defect(
    "degree_without_grade", "a UK degree with no class, or 2:1 as text", "degree_grade_required", "grade", UK_DEGREE
)
def _no_grade(ctx: Context, degree: dict[str, Any]) -> None:
    degree["grade"] = ctx.rng.choice((None, "2:1", "21"))


@_degree_defect(
    "degree_without_graduation_year",
    "a degree with no graduation date",
    "degree_graduation_year_required",
    "graduation_year",
    Profile(routes=POSTGRADUATE_ROUTES),
)
def _no_graduation_year(ctx: Context, degree: dict[str, Any]) -> None:
    degree["graduation_year"] = None


def _year_like(degree: dict[str, Any], year: int) -> str:
    """A graduation year in the shape the record already uses (YYYY or YYYY-MM-DD)."""
    current = str(degree.get("graduation_year") or "")
    return f"{year}{current[4:]}" if len(current) == 10 else str(year)


@defect(
    "degree_graduation_year_in_future",
    "a graduation year after next year (Register then also calls it invalid)",
    ("degree_graduation_year_in_future", "degree_graduation_year_invalid"),
    profile=Profile(routes=POSTGRADUATE_ROUTES),
    touches=("degrees_attributes",),
)
def _graduates_in_future(ctx: Context, draft: Draft) -> list[Expect]:
    del draft.degrees[1:]
    degree = draft.degrees[0]
    degree["graduation_year"] = _year_like(degree, ctx.as_of.year + ctx.rng.randint(2, 6))
    return [
        Expect(f"{DEGREE}.graduation_year", "degree_graduation_year_in_future"),
        Expect(f"{DEGREE}.graduation_year", "degree_graduation_year_invalid"),
    ]


@defect(
    "degree_graduation_year_academic",
    "a graduation year written as an academic year (2015/16): Register keeps its first year",
    ("degree_graduation_year_not_a_year",),
    profile=Profile(routes=POSTGRADUATE_ROUTES),
    formats=frozenset({"register-csv"}),  # a HESA file's F_DEGENDDT is a date
    touches=("degrees_attributes",),
)
def _academic_year(ctx: Context, draft: Draft) -> list[Expect]:
    del draft.degrees[1:]
    degree = draft.degrees[0]
    year = int(str(degree["graduation_year"])[:4])
    degree["graduation_year"] = f"{year}/{(year + 1) % 100:02d}"
    return [Expect(f"{DEGREE}.graduation_year", "degree_graduation_year_not_a_year", "warning")]


@_degree_defect(
    "degree_graduation_year_out_of_range",
    "a graduation year more than 60 years back (1915 for 2015)",
    "degree_graduation_year_invalid",
    "graduation_year",
    Profile(routes=POSTGRADUATE_ROUTES),
)
def _year_out_of_range(ctx: Context, degree: dict[str, Any]) -> None:
    degree["graduation_year"] = _year_like(degree, int(str(degree["graduation_year"])[:4]) - 100)


@_degree_defect(
    "non_uk_degree_unknown_grade",
    "a degree from abroad with a grade that is not a HESA code (Register would drop it)",
    "unknown_degree_grade",
    "grade",
    NON_UK_DEGREE,
)
def _bad_foreign_grade(ctx: Context, degree: dict[str, Any]) -> None:
    degree["grade"] = ctx.rng.choice(("2:1", "A", "110/110", "First"))


@_degree_defect(
    "uk_degree_without_type", "a UK degree without its degree type", "uk_degree_required", "uk_degree", UK_DEGREE
)
def _no_uk_type(ctx: Context, degree: dict[str, Any]) -> None:
    degree["uk_degree"] = None


@_degree_defect(
    "non_uk_degree_without_type",
    "a degree from abroad without its degree type",
    "non_uk_degree_required",
    "non_uk_degree",
    NON_UK_DEGREE,
)
def _no_non_uk_type(ctx: Context, degree: dict[str, Any]) -> None:
    degree["non_uk_degree"] = None


@_degree_defect(
    "invalid_uk_degree_type",
    "a UK degree type that is not a HESA code (BA, 4)",
    "invalid_degree_code",
    "uk_degree",
    UK_DEGREE,
    also=("leading_zeros_lost",),
)
def _bad_uk_type(ctx: Context, degree: dict[str, Any]) -> list[Expect] | None:
    degree["uk_degree"] = ctx.rng.choice(("BA", "BSC", "998", "4"))
    if degree["uk_degree"] == "4":  # the legacy honours code 004 (translated to 003) without its zeros
        return [Expect(f"{DEGREE}.uk_degree", "leading_zeros_lost", "warning")]
    return None


@_degree_defect(
    "invalid_non_uk_degree_type",
    "a non-UK degree type that is not a HESA code",
    "invalid_degree_code",
    "non_uk_degree",
    NON_UK_DEGREE,
)
def _bad_non_uk_type(ctx: Context, degree: dict[str, Any]) -> None:
    degree["non_uk_degree"] = ctx.rng.choice(("BSc", "Licence", "999X"))


@defect(
    "degree_type_in_other_column",
    "a degree type written as text (BA, Bachelor of Arts) in the other locale's column, which Register does not check "
    "(a UK degree's non_uk_degree, a non-UK degree's uk_degree): taken, and given back blank",
    ("degree_type_not_kept",),
    profile=Profile(routes=POSTGRADUATE_ROUTES),
    formats=frozenset({"register-csv"}),  # HESA has one type tag, F_DEGTYPE: the locale decides which field it fills
    touches=("degrees_attributes",),
    default=False,  # made only with --kinds: a seed's Register CSV corpus (docs/dry-run.md's) stays as it was
)
def _type_in_other_column(ctx: Context, draft: Draft) -> list[Expect]:
    del draft.degrees[1:]
    degree = draft.degrees[0]
    other = "non_uk_degree" if degree.get("uk_degree") is not None else "uk_degree"
    degree[other] = ctx.rng.choice(("BA", "BSc", "Bachelor of Arts", "Licence"))
    return [Expect(f"{DEGREE}.{other}", "degree_type_not_kept", "warning")]


@_degree_defect(
    "invalid_degree_country",
    "a UK degree's country written UK or GB (the codes are XF-XK): beside its institution, Register drops it",
    "degree_country_not_kept",
    "country",
    UK_DEGREE,
    severity="warning",
)
def _bad_country(ctx: Context, degree: dict[str, Any]) -> None:
    degree["country"] = ctx.rng.choice(("UK", "GB", "ENG"))


@_degree_defect(
    "degree_country_beside_institution",
    "a UK institution's degree given a country outside the UK (FR, IE): Register keeps no country for it",
    "degree_country_not_kept",
    "country",
    UK_DEGREE,
    severity="warning",
)
def _country_beside_institution(ctx: Context, degree: dict[str, Any]) -> None:
    degree["country"] = ctx.rng.choice(("FR", "IE", "DE", "US"))


@_degree_defect(
    "unknown_institution",
    "an awarding institution code Register does not list (0327, 0407)",
    "unknown_institution",
    "institution",
    UK_DEGREE,
)
def _unknown_institution(ctx: Context, degree: dict[str, Any]) -> None:
    degree["institution"] = ctx.rng.choice(("0327", "0407", "9999"))


@defect(
    "placement_urn_malformed",
    "a placement school URN that is not 6 digits",
    ("placement_urn_invalid",),
    profile=Profile(placement=True),
    touches=("placements_attributes",),
)
def _bad_placement(ctx: Context, draft: Draft) -> list[Expect]:
    draft.placements[0]["urn"] = ctx.rng.choice(("12345", "1234567", "URN123"))
    return [Expect("placements_attributes[0].urn", "placement_urn_invalid")]


# --- legacy codes and record structure (mappings/codes/legacy.yaml, hesa-formats.md §5) -----------------

_UNTRANSLATABLE: dict[str, tuple[tuple[str, ...], Profile]] = {
    "training_route": (("02", "13"), Profile(routes=frozenset({"03", "10", "12", "21"}), plain=True)),
    "disability1": (("08",), Profile()),
    "course_age_range": (("99801", "99803"), Profile(routes=NOT_EARLY_YEARS, plain=True)),
    "training_initiative": (("P", "Y", "C", "001", "019"), Profile()),
    "nationality": (("AA", "ZZ"), Profile()),
    "itt_qualification_aim": (("099", "216", "217", "218", "307"), Profile()),
    "course_subject_1": (("101085",), Profile(phase="primary")),
}


def _untranslatable(field_name: str, values: tuple[str, ...]) -> Apply:
    def apply(ctx: Context, draft: Draft) -> list[Expect]:
        data = draft.data
        choices = values
        if field_name == "course_age_range" and draft.layout.legacy_codes:
            choices = (*values, "31", "49")  # C21053 further education / other
        if field_name == "disability1":
            for n in range(2, 10):
                data[f"disability{n}"] = None
        if field_name == "itt_qualification_aim":
            data["itt_aim"] = "202"
        data[field_name] = ctx.rng.choice(choices)
        # Register refuses the record for the code, but drops an unknown disability, and with funding_method C sets
        # the veterans' initiative in the code's place (R19): the mapping's error says which (validation.answers).
        taken = field_name == "disability1" or (
            field_name == "training_initiative" and data.get("funding_method") == "C"
        )
        code = "untranslatable_code_register_takes" if taken else "untranslatable_code"
        if field_name == "course_subject_1":
            return [Expect(field_name, code), *_r11_without_subject(draft)]
        return [Expect(field_name, code)]

    return apply


for _field, (_values, _profile) in _UNTRANSLATABLE.items():
    defect(
        f"untranslatable_{_field}",
        f"a legacy {_field} code with no v2026.1 equivalent ({', '.join(_values)})",
        (
            *(("untranslatable_code_register_takes",) if _field in ("disability1", "training_initiative") else ()),
            *(() if _field == "disability1" else ("untranslatable_code",)),
            *(R11_CODES if _field == "course_subject_1" else ()),
        ),
        profile=_profile,
        touches=(_field,),
    )(_untranslatable(_field, _values))


@defect(
    "legacy_code_in_current_layout",
    "a C21053 sex or ethnicity code in a current-layout record (translated, with a warning)",
    ("legacy_code_translated",),
    layout_ok=lambda layout: not layout.legacy_codes,
    touches=("sex", "ethnicity"),
)
def _legacy_code(ctx: Context, draft: Draft) -> list[Expect]:
    data = draft.data
    field_name = ctx.rng.choice(("sex", "ethnicity"))
    expressible = ctx.encoder.legacy_values(field_name)
    if data[field_name] not in expressible:
        data[field_name] = "10" if field_name == "sex" else "160"
    data[field_name] = ctx.encoder.encode(data, field_name, data[field_name])
    return [Expect(field_name, "legacy_code_translated", "warning")]


@defect(
    "malformed_record",
    "XML: a tag given twice with different values; CSV: more cells than the header has columns",
    ("malformed_record",),
)
def _malformed(ctx: Context, draft: Draft) -> list[Expect]:
    if ctx.fmt == "hesa-xml":
        other = draft.extras["F_COURSEID"][::-1] + "X"
        draft.extra_tags.append(("F_COURSEID", other))
        return [Expect("F_COURSEID", "malformed_record")]
    draft.extra_cells.extend((draft.data["email"] or "note", "see previous row"))
    return [Expect(None, "malformed_record")]


# --- in-file duplicates (validation/duplicates.py) --------------------------------------------------------


def _previous_hesa_intact(ctx: Context) -> bool:
    # Not a leaver: the duplicate's issue is reported on the record before it too, whose truth must stay exactly what
    # the defect causes, as a defective record's does (it is never made a leaver, generate/core.py).
    prev = ctx.previous
    return (
        prev is not None
        and prev.hesa_id is not None
        and not prev.leaving
        and (prev.kind is None or "hesa_id" not in prev.kind.touches)
    )


def _previous_provider_intact(ctx: Context) -> bool:
    prev = ctx.previous
    return (
        prev is not None
        and prev.provider_trainee_id is not None
        and not prev.leaving
        and (prev.kind is None or "provider_trainee_id" not in prev.kind.touches)
    )


def _previous_person_intact(ctx: Context) -> bool:
    prev = ctx.previous
    return prev is not None and (
        prev.kind is None or (prev.kind.clean_base and not (prev.kind.touches & IDENTITY_FIELDS))
    )


@defect(
    "duplicate_hesa_id",
    "a second record with the HUSID of the record before it (reported on both)",
    ("duplicate_hesa_id",),
    touches=("hesa_id",),
    needs_previous=_previous_hesa_intact,
)
def _same_husid(ctx: Context, draft: Draft) -> list[Expect]:
    assert ctx.previous is not None
    draft.data["hesa_id"] = ctx.previous.hesa_id
    return [Expect("hesa_id", "duplicate_hesa_id"), Expect("hesa_id", "duplicate_hesa_id", previous=True)]


@defect(
    "duplicate_provider_trainee_id",
    "a second record with the SRS id of the record before it (reported on both)",
    ("duplicate_provider_trainee_id",),
    touches=("provider_trainee_id",),
    needs_previous=_previous_provider_intact,
)
def _same_provider_id(ctx: Context, draft: Draft) -> list[Expect]:
    assert ctx.previous is not None
    draft.data["provider_trainee_id"] = ctx.previous.provider_trainee_id
    return [
        Expect("provider_trainee_id", "duplicate_provider_trainee_id"),
        Expect("provider_trainee_id", "duplicate_provider_trainee_id", previous=True),
    ]


@defect(
    "same_trainee_twice",
    "the trainee of the record before, again under a new HUSID and SRS id (Register's 409 rule; a warning)",
    ("possible_duplicate_trainee",),
    needs_previous=_previous_person_intact,
    replaces_record=True,
)
def _same_trainee(ctx: Context, draft: Draft) -> list[Expect]:
    return [Expect("last_name", "possible_duplicate_trainee", "warning")]


def kinds_for(names: list[str] | tuple[str, ...] | None = None) -> list[DefectKind]:
    """The catalogue's default mix (`DefectKind.default`), or the named kinds of it (ValueError for an unknown name)."""
    if names is None:
        return [kind for kind in KINDS.values() if kind.default]
    unknown = [n for n in names if n not in KINDS]
    if unknown:
        raise ValueError(f"unknown defect kind(s): {', '.join(unknown)}")
    return [KINDS[n] for n in names]


__all__ = [
    "KINDS",
    "NOT_GENERATED",
    "Context",
    "DefectKind",
    "Expect",
    "Previous",
    "kinds_for",
]
