"""Build one synthetic trainee at a time, consistent with Register API v2026.1's rules for a start cycle.

A `Draft` holds the trainee as API v2026.1 values (`data`, the same keys validation sees after mapping) plus
the non-API HESA tags (`extras`). Writers in `layouts` turn it into a HESA XML/CSV record of a collection
layout or a row of Register's CSV. Everything random comes from one seeded `random.Random`, so a seed
gives the same bytes; identifiers come from keyed permutations of the record number, so they are unique
without remembering earlier records (memory stays flat at any count).
"""

from __future__ import annotations

import random
import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import accumulate
from typing import Any

from register_batch.generate.names import SURNAMES, email_for, first_names_for
from register_batch.model import TRAINEE_FIELDS
from register_batch.reference import ReferenceData
from register_batch.validation.facts import EARLY_YEARS_ROUTES, UNDERGRADUATE_ROUTES, years_before


class Weights:
    """Keys drawn in proportion to their weights; cumulative sums computed once (this is the hot path)."""

    __slots__ = ("cumulative", "keys", "total")

    def __init__(self, weights: dict[Any, float]):
        self.keys = tuple(weights)
        self.cumulative = tuple(accumulate(weights.values()))
        self.total = self.cumulative[-1] if self.cumulative else 0.0

    def __bool__(self) -> bool:
        return bool(self.keys)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.keys)

    def __contains__(self, key: object) -> bool:
        return key in self.keys

    def draw(self, rng: random.Random) -> Any:
        return self.keys[bisect_right(self.cumulative, rng.random() * self.total)]


def pick(rng: random.Random, weights: Weights | dict[Any, float]) -> Any:
    """One key of `weights`, drawn in proportion to its weight."""
    if not isinstance(weights, Weights):
        weights = Weights(weights)
    return weights.draw(rng)


def randint(rng: random.Random, low: int, high: int) -> int:
    """`rng.randint` without its argument checks (a third of the time spent on a record)."""
    return low + int(rng.random() * (high - low + 1))


def choice(rng: random.Random, options: Sequence[Any]) -> Any:
    """`rng.choice`, likewise."""
    return options[int(rng.random() * len(options))]


MAX_COUNT = 10_000_000  # unique 7-digit HUSID serials
# The most records a file holds: each a person of their own, a (surname, date of birth) pair no other record has
# (PersonAllocator, whose four age bands hold 4,525,182 pairs in the fewest, cycle 2000's; review109 F5).
MOST_RECORDS = 4_500_000
PRIMARY_SUBJECT = "100511"
EARLY_YEARS_SUBJECT = "100510"

# The route mix of a cohort. iQTS (15) is only written to Register's CSV: it needs iqts_country, which no HESA
# tag holds (a HESA record on route 15 always fails R8; the iqts_without_country defect makes exactly that).
ROUTE_WEIGHTS = {
    "12": 38,
    "03": 8,
    "10": 8,
    "11": 7,
    "09": 2,
    "14": 4,
    "16": 5,
    "17": 2,
    "18": 2,
    "19": 5,
    "20": 4,
    "21": 5,
    "15": 3,
}
# C21053 predates routes 14-21; its provider-led routes were 01 (see layouts.LegacyEncoder).
C21053_ROUTES = ("03", "09", "10", "11", "12")
# Routes with no cycle-specific rules of their own: what date and funding defects build on.
SAFE_ROUTES = frozenset({"03", "09", "10", "11", "14", "21"})

PRIMARY_AGE_RANGES = Weights({"13914": 60, "13912": 15, "13915": 10, "13909": 7, "13913": 5, "13911": 3})
SECONDARY_AGE_RANGES = Weights({"13918": 55, "13919": 35, "13916": 5, "13917": 5})
# course subject -> (weight, degree subjects a trainee of that subject plausibly holds)
SECONDARY_SUBJECTS: dict[str, tuple[int, tuple[str, ...]]] = {
    "100403": (12, ("100403", "100406", "100425", "100184", "100450")),
    "100320": (10, ("100320", "100302", "100337", "100443")),
    "100346": (6, ("100346", "100356", "100270")),
    "100417": (4, ("100417", "101038")),
    "100425": (4, ("100425", "101060", "100414", "100184")),
    "100366": (4, ("100366", "100403")),
    "100302": (5, ("100302", "100300")),
    "100409": (5, ("100409",)),
    "100321": (3, ("100321", "100323", "100332")),
    "100332": (3, ("100332", "100321")),
    "100323": (1, ("100323", "100321")),
    "100339": (3, ("100339", "100337")),
    "100433": (5, ("100433", "100095", "100098")),
    "101361": (3, ("101361", "100062")),
    "100642": (2, ("100642",)),
    "100069": (2, ("100069", "100071")),
    "100048": (2, ("100048", "100050", "100184")),
    "100497": (2, ("100497",)),
    "100079": (2, ("100079", "100450")),
    "100450": (1, ("100450",)),
    "100390": (2, ("100346", "100417", "100425")),
    "101420": (1, ("100300",)),
}
SECONDARY_WEIGHTS = Weights({s: w for s, (w, _d) in SECONDARY_SUBJECTS.items()})
SECOND_SUBJECTS = {"100425": "100417", "100417": "100425", "100403": "100366", "100321": "100332", "100332": "100321"}
PRIMARY_SPECIALISMS = ("100403", "100320", "100433", "100390", "100321")
PRIMARY_DEGREES = ("100459", "100456", "100497", "100320", "100302", "100505", "100433", "100403", "100346", "100069")
EARLY_YEARS_DEGREES = ("100456", "100459", "100497", "100505")
UK_DEGREE_TYPES = Weights({"051": 40, "083": 40, "065": 4, "071": 3, "002": 3, "400": 3, "080": 2, "067": 2})
MASTERS_TYPES = ("200", "205", "208")
NON_UK_DEGREE_TYPES = Weights({"402": 50, "051": 20, "083": 20, "205": 10})
GRADES = Weights({"02": 48, "03": 22, "01": 20, "05": 3, "14": 3, "10": 2, "04": 2})
NON_UK_COUNTRIES = ("IN", "NG", "PK", "US", "PL", "ES", "FR", "IT", "GR", "RO", "ZA", "AU", "IE", "CN", "GH", "JM")
UK_DEGREE_COUNTRIES = Weights({"XF": 60, None: 30, "XH": 4, "XI": 3, "XG": 3})
SEXES = Weights({"10": 68, "11": 29, "12": 1, "96": 1, "99": 1})
ETHNICITIES = Weights(
    {
        "160": 60,
        "179": 8,
        "103": 4,
        "104": 4,
        "120": 3,
        "166": 2,
        "100": 2,
        "121": 2,
        "997": 2,
        "998": 2,
        "101": 1.5,
        "119": 1.5,
        "139": 1,
        "140": 1,
        "141": 1,
        "142": 1,
        "159": 1,
        "180": 1,
        "899": 1,
        "163": 0.5,
        "999": 0.5,
        "168": 0.3,
    }
)
NATIONALITIES = Weights(
    {
        "GB": 78,
        "IE": 2,
        "IN": 2,
        "NG": 2,
        "PL": 2,
        None: 2,
        "PK": 1,
        "RO": 1,
        "ES": 1,
        "IT": 1,
        "FR": 1,
        "PT": 1,
        "US": 1,
        "CN": 1,
        "DE": 0.5,
        "GR": 0.5,
        "ZA": 0.5,
        "GH": 0.5,
        "JM": 0.5,
        "AU": 0.5,
        "ZW": 0.5,
        "BG": 0.5,
        "LT": 0.5,
    }
)
UNDERGRADUATE_AIM_WEIGHTS = Weights({"008": 40, "002": 30, "004": 20, "001": 4, "007": 3, "003": 3})
POSTGRADUATE_AIM_WEIGHTS = Weights({"020": 75, "031": 10, "021": 8, "032": 7})
FULL_TIME_MODES = Weights({"01": 96, "02": 3, "63": 1})
START_MONTHS = Weights({8: 5, 9: 80, 10: 15})
PLACEMENT_COUNTS = Weights({1: 20, 2: 60, 3: 20})
DISABILITIES = ("51", "53", "54", "55", "56", "57", "58", "59", "96")
IQTS_COUNTRIES = ("IN", "AE", "ES", "NG", "ZA", "CN", "MY", "TH", "EG", "QA", "SA", "KE")
MAGIC_URNS = ("900000", "900010", "900020", "900030")
# Age bands at the start of the cycle: (youngest, oldest, share of trainees).
AGE_BANDS = ((21, 25, 0.42), (26, 30, 0.25), (31, 40, 0.22), (41, 55, 0.11))


class Permutation:
    """A keyed pseudo-random bijection of range(n): an alternating Feistel network with cycle walking.

    Gives every record its own HUSID, SRS id and (surname, date of birth) pair without remembering
    which were used: record numbers are distinct, so their images are.
    """

    def __init__(self, n: int, key: int):
        self.n = max(1, n)
        bits = max(2, (self.n - 1).bit_length())
        self.low_bits = bits // 2
        self.high_mask = (1 << (bits - self.low_bits)) - 1
        self.low_mask = (1 << self.low_bits) - 1
        keys = random.Random(key)
        self.keys = tuple(keys.getrandbits(64) for _ in range(4))

    def __call__(self, value: int) -> int:
        low_bits, high_mask, low_mask, keys = self.low_bits, self.high_mask, self.low_mask, self.keys
        while True:
            high, low = value >> low_bits, value & low_mask
            for number, key in enumerate(keys):
                # Each step changes one half by a function of the other: invertible, so a bijection.
                if number % 2:
                    mixed = ((high ^ key) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
                    low ^= ((mixed ^ (mixed >> 29)) >> 11) & low_mask
                else:
                    mixed = ((low ^ key) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
                    high ^= ((mixed ^ (mixed >> 29)) >> 11) & high_mask
            value = (high << low_bits) | low
            if value < self.n:
                return value


@dataclass(frozen=True)
class Layout:
    """How a record is written: a HESA collection's tag set, or Register's CSV template."""

    name: str  # C24053, C23053, C22053, C21053, or register-csv
    fmt: str
    separate_trainee_start: bool  # trainee_start_date has its own tag/column
    application_id: bool
    single_disability: bool  # C21053: one F_DISABLE
    legacy_codes: bool  # C21053 code lists (translated by mappings/codes/legacy.yaml)

    @property
    def hesa(self) -> bool:
        return self.fmt != "register-csv"


def layout_for(fmt: str, vintage: str) -> Layout:
    if fmt == "register-csv":
        return Layout("register-csv", fmt, True, True, False, False)
    current = vintage in ("C23053", "C24053")
    return Layout(vintage, fmt, current, current, vintage == "C21053", vintage == "C21053")


@dataclass(frozen=True)
class Profile:
    """What a defect needs the clean record under it to look like (see defects.DefectKind)."""

    routes: frozenset[str] | None = None  # allowed routes (None: the layout's usual mix)
    exclude: frozenset[str] = frozenset()
    any_route: bool = False  # allow routes outside the layout's usual mix (iQTS in a HESA file)
    plain: bool = False  # fund code 2, funding method 6, no initiatives: nothing cycle-dependent
    phase: str | None = None  # primary / secondary
    subject: str | None = None  # course_subject_1
    uk_degree: bool | None = None  # first degree from the UK (True) or abroad (False)
    placement: bool = False  # at least one placement


DEFAULT_PROFILE = Profile()


@dataclass(slots=True)
class Draft:
    """One trainee as API v2026.1 values (`data`), non-API HESA tags (`extras`) and deliberate damage."""

    layout: Layout
    data: dict[str, Any]
    extras: dict[str, Any]
    extra_tags: list[tuple[str, str]] = field(default_factory=list)  # XML: a tag repeated (malformed)
    extra_cells: list[str] = field(default_factory=list)  # CSV: cells beyond the header (malformed)
    leaving: dict[str, str] = field(default_factory=dict)  # WITHDRAWAL_* or DEFER_* tags (generate/leavers.py)

    def copy(self) -> Draft:
        data = dict(self.data)
        data["degrees_attributes"] = [dict(d) for d in self.data["degrees_attributes"]]
        data["placements_attributes"] = [dict(p) for p in self.data["placements_attributes"]]
        return Draft(self.layout, data, dict(self.extras), list(self.extra_tags), list(self.extra_cells))

    @property
    def route(self) -> str | None:
        return self.data.get("training_route")

    @property
    def degrees(self) -> list[dict[str, Any]]:
        return self.data["degrees_attributes"]

    @property
    def placements(self) -> list[dict[str, Any]]:
        return self.data["placements_attributes"]


class FundingView:
    """Register's funding and initiative tables for one start cycle (register-api.md §3.5)."""

    def __init__(self, reference: ReferenceData, cycle: int):
        funding = reference.funding
        self.cycle = cycle
        self.funding = funding
        self.bundled = cycle in funding.rules
        self.rules = funding.rules.get(cycle, [])
        self.route_names = funding.training_routes
        funded = {route for _type, route, _subjects in self.rules}
        self.funded_routes = frozenset(code for code, name in self.route_names.items() if name in funded)
        names = reference.code_list("training_initiative").names
        available = funding.initiatives.get(cycle, frozenset())
        self.initiatives = tuple(sorted(code for code, name in names.items() if name in available))
        self.unavailable_initiatives = tuple(sorted(code for code, name in names.items() if name not in available))
        self._types: dict[tuple[str, str], list[str]] = {}

    def types_for(self, route: str, subject: str | None) -> list[str]:
        """Funding types (bursary, scholarship, grant) Register offers for a route and subject."""
        if subject is None or not self.bundled:
            return []
        key = (route, subject)
        found = self._types.get(key)
        if found is None:
            found = self._types[key] = self._types_for(route, subject)
        return found

    def _types_for(self, route: str, subject: str) -> list[str]:
        route_name = self.route_names.get(route)
        allocation = self.funding.allocation_subjects_of(subject)
        found = []
        for kind, rule_route, subjects in self.rules:
            if rule_route == route_name and allocation & subjects and kind not in found:
                found.append(kind)
        return found

    def exception(self, subject: str) -> bool:
        """FundCodeException: some subjects may claim funding with fund code 2 in 2025 and 2026."""
        funding = self.funding
        return self.cycle in funding.exception_cycles and bool(
            funding.allocation_subjects_of(subject) & funding.exception_subjects
        )


class PersonAllocator:
    """Surname and date of birth, never the same pair twice in a file.

    Register flags two trainees with the same date of birth, surname, route, start cycle and first name or
    email as possible duplicates (register-api.md §4); a clean corpus must not contain such pairs by
    accident. Each age band keeps a counter and a keyed permutation of (surname, day) pairs; a band whose pairs are
    all used passes its draws to the next band that has some left (review109 F5: it started again from its first
    pair, so above about 1.5 million records every later one repeated an earlier trainee's pair). `capacity` pairs
    in all (MOST_RECORDS or more with the real bands and surnames), then ValueError.
    """

    def __init__(
        self,
        seed: int,
        cycle: int,
        age_bands: Sequence[tuple[int, int, float]] = AGE_BANDS,
        surnames: int = len(SURNAMES),
    ):
        reference_day = date(cycle, 8, 1)
        self.surnames = surnames
        # Per age band: [earliest birth date, days, share, Permutation, draws so far] (a list: `next` counts in it).
        self.bands: list[list[Any]] = []
        for number, (youngest, oldest, share) in enumerate(age_bands):
            latest = years_before(reference_day, youngest)
            earliest = years_before(reference_day, oldest + 1) + timedelta(days=1)
            days = (latest - earliest).days + 1
            size = days * surnames
            self.bands.append([earliest, days, share, Permutation(size, hash_key(seed, "person", number)), 0])
        self.shares = Weights({number: band[2] for number, band in enumerate(self.bands)})
        self.capacity = sum(band[1] * surnames for band in self.bands)

    def next(self, rng: random.Random) -> tuple[int, date]:
        """(surname index, date of birth)."""
        drawn = self.shares.draw(rng)
        for step in range(len(self.bands)):
            band = self.bands[(drawn + step) % len(self.bands)]
            earliest, days, _share, permutation, used = band
            if used < days * self.surnames:
                break
        else:
            raise ValueError(f"all {self.capacity:,} pairs of surname and date of birth are used")
        band[4] = used + 1
        value = permutation(used)
        return value % self.surnames, earliest + timedelta(days=value // self.surnames)


def hash_key(seed: int, *parts: Any) -> int:
    """A stable 64-bit key for one use of the seed (string seeding of Random is stable across runs)."""
    return random.Random(":".join(str(p) for p in (seed, *parts))).getrandbits(64)


@dataclass
class Provider:
    """The provider whose extract this is: one UKPRN, one HESA institution id, one course catalogue."""

    ukprn: str
    institution: str
    courses: dict[str, str] = field(default_factory=dict)


class Builder:
    """Makes clean drafts for one run: start cycle, as-of date, reference data, seeded randomness."""

    def __init__(self, *, seed: int, cycle: int, as_of: date, reference: ReferenceData, rng: random.Random):
        self.seed = seed
        self.cycle = cycle
        self.as_of = as_of
        self.reference = reference
        self.rng = rng
        self.funding = FundingView(reference, cycle)
        self.persons = PersonAllocator(seed, cycle)
        self.husids = Permutation(MAX_COUNT, hash_key(seed, "husid"))
        self.students = Permutation(90_000_000, hash_key(seed, "ownstu"))
        institutions = reference.code_list("institution")
        self.universities = tuple(
            e["code"] for e in institutions.entries if "University" in (e.get("display_name") or "")
        )
        self.provider = Provider(ukprn=f"100{randint(rng, 0, 99999):05d}", institution=choice(rng, self.universities))
        degree_subjects = reference.codes("degree_subject")
        for _subject, (_weight, degrees) in SECONDARY_SUBJECTS.items():
            missing = [d for d in degrees if d not in degree_subjects]
            if missing:  # pragma: no cover - guards the curated lists against a reference update
                raise ValueError(f"degree subjects {missing} are not in Register's list")
        self.valid_routes = frozenset(reference.codes("training_route")) - {"02"} - ({"12"} if cycle < 2022 else set())
        self.latest_end_year = as_of.year + 5
        self._routes: dict[tuple[Layout, Profile], Weights] = {}
        self._titles: dict[tuple[str, str | None, str | None], str] = {}

    # --- pools ---------------------------------------------------------------------------------------------

    def route_pool(self, layout: Layout) -> dict[str, float]:
        if layout.legacy_codes:
            pool = {r: ROUTE_WEIGHTS[r] for r in C21053_ROUTES}
        else:
            pool = dict(ROUTE_WEIGHTS)
            if layout.hesa:
                pool.pop("15")
        return {r: w for r, w in pool.items() if r in self.valid_routes}

    def routes_for(self, layout: Layout, profile: Profile) -> Weights:
        """The routes a record of `layout` shaped by `profile` may take, weighted (cached: profiles repeat)."""
        key = (layout, profile)
        found = self._routes.get(key)
        if found is None:
            found = self._routes[key] = Weights(self._routes_for(layout, profile))
        return found

    def _routes_for(self, layout: Layout, profile: Profile) -> dict[str, float]:
        pool = self.route_pool(layout)
        if profile.any_route and profile.routes is not None:
            pool = {r: ROUTE_WEIGHTS[r] for r in profile.routes if r in self.valid_routes}
        elif profile.routes is not None:
            pool = {r: w for r, w in pool.items() if r in profile.routes}
        pool = {r: w for r, w in pool.items() if r not in profile.exclude}
        if profile.phase is not None or profile.subject is not None:
            pool = {r: w for r, w in pool.items() if r not in EARLY_YEARS_ROUTES}
        return pool

    # --- the record ------------------------------------------------------------------------------------------

    def identity(self, index: int, data: dict[str, Any], extras: dict[str, Any]) -> None:
        """HUSID, SRS id and ITT key for record `index` (0-based): unique within the file."""
        rng = self.rng
        serial = self.husids(index)
        entry = self.cycle - (0 if rng.random() < 0.6 else choice(rng, (1, 2, 3, 4, 8, 12, 16, 18, 20, 22, 25)))
        husid = f"{entry % 100:02d}{self.provider.institution}{serial:07d}"
        numhus = "01"
        if rng.random() < 0.03:
            instance = randint(rng, 0, 9999)
            # Not ending in 00, which a spreadsheet's rounding leaves (hesa_id_digits_rounded): a clean record is clean.
            husid += f"{instance + (instance % 100 == 0):04d}"
            numhus = "02"
        data["hesa_id"] = husid
        student = self.students(index) + 10_000_000
        data["provider_trainee_id"] = f"{student}/{int(numhus)}/{self.cycle % 100:02d}"
        extras["F_ITTKEY"] = f"0{self.provider.institution}{serial:07d}{randint(rng, 0, 9)}"
        extras["F_NUMHUS"] = numhus

    def build(self, index: int, layout: Layout, profile: Profile = DEFAULT_PROFILE) -> Draft:
        """A clean trainee for record `index`, shaped by `profile`."""
        rng = self.rng
        data: dict[str, Any] = dict.fromkeys(TRAINEE_FIELDS)
        extras: dict[str, Any] = {}
        self.identity(index, data, extras)
        routes = self.routes_for(layout, profile)
        if not routes:
            raise ValueError(f"no route fits {profile} in layout {layout.name}")
        route = pick(rng, routes)
        data["training_route"] = route
        start = self._dates(data, layout, route)
        self._person(data, layout, start)
        self._course(data, layout, route, profile)
        self._degrees(data, layout, route, profile, start)
        self._placements(data, route, profile)
        self._funding(data, route, profile)
        if layout.hesa:
            self._extras(data, extras, layout, route, start)
        return Draft(layout, data, extras)

    def _person(self, data: dict[str, Any], layout: Layout, start: date) -> None:
        rng = self.rng
        surname, born = self.persons.next(rng)
        sex = pick(rng, SEXES)
        if layout.legacy_codes and sex not in ("10", "11", "12"):
            sex = "10"
        last = SURNAMES[surname]
        if rng.random() < 0.06:
            other = choice(rng, SURNAMES)
            if " " not in other and other != last:
                last = f"{last}-{other}"
        first = first_names_for(rng, sex)
        data["first_names"] = first
        data["last_name"] = last
        data["sex"] = sex
        data["date_of_birth"] = born.isoformat()
        data["email"] = email_for(rng, first, last, born.year)
        age = start.year - born.year
        if sex == "10" and age >= 28 and rng.random() < 0.15:
            data["previous_last_name"] = choice(rng, SURNAMES)
        if rng.random() < 0.35:
            data["ni_number"] = f"QQ{randint(rng, 0, 999999):06d}{choice(rng, 'ABCD')}"
        data["nationality"] = pick(rng, NATIONALITIES)
        ethnicity = pick(rng, ETHNICITIES)
        if layout.legacy_codes and ethnicity in ("166", "168", "179", "999"):
            ethnicity = "160"  # C21053 had no code for these
        data["ethnicity"] = None if rng.random() < 0.02 else ethnicity
        roll = rng.random()
        if roll < 0.05:
            disabilities: list[str] = []
        elif roll < 0.83:
            disabilities = ["95"]
        elif roll < 0.95 or layout.single_disability:
            disabilities = [choice(rng, DISABILITIES)]
        else:
            disabilities = rng.sample(DISABILITIES, 2 if roll < 0.99 else 3)
        for number, code in enumerate(disabilities, start=1):
            data[f"disability{number}"] = code
        if layout.application_id and rng.random() < 0.55:
            data["application_id"] = str(randint(rng, 10_000, 9_999_999))

    def _dates(self, data: dict[str, Any], layout: Layout, route: str) -> date:
        rng = self.rng
        month = pick(rng, START_MONTHS)
        start = date(
            self.cycle, month, randint(rng, 1, 28) if month != 9 else choice(rng, (1, 1, 1, 2, 3, 4, 5, 8, 15))
        )
        data["itt_start_date"] = start.isoformat()
        trainee_start = start
        if layout.separate_trainee_start and rng.random() < 0.15:
            later = start + timedelta(days=randint(rng, 1, 21))
            if later <= self.as_of:
                trainee_start = later
        data["trainee_start_date"] = trainee_start.isoformat()
        part_time = rng.random() < 0.12 and route not in ("03", "10", "14", "20", "21")
        if route in ("11", "18"):
            years = 3
        elif route == "14":
            years = 4
        elif route == "21" or part_time:
            years = 2
        else:
            years = 1
        years = max(1, min(years, self.latest_end_year - self.cycle))
        end = date(self.cycle + years, choice(rng, (6, 7, 7, 7, 8)), randint(rng, 1, 28))
        data["itt_end_date"] = end.isoformat()
        if route in ("16", "17"):
            data["study_mode"] = None if rng.random() < 0.7 else choice(rng, ("01", "31"))
        elif part_time:
            data["study_mode"] = "31" if rng.random() < 0.95 else "64"
        else:
            data["study_mode"] = pick(rng, FULL_TIME_MODES)
        if layout.hesa and data["study_mode"] in ("63", "64"):
            # A dormant F_MODE meant "deferred" to the old HESA import and is reported (legacy_deferral_not_sent):
            # a clean HESA record is an active one. The draw above stays, so a seed gives the same trainees.
            data["study_mode"] = "01" if data["study_mode"] == "63" else "31"
        if route == "10" and rng.random() < 0.7:
            data["pg_apprenticeship_start_date"] = (start + timedelta(days=randint(rng, 0, 14))).isoformat()
        data["course_year"] = "1"
        return start

    def _course(self, data: dict[str, Any], layout: Layout, route: str, profile: Profile) -> None:
        rng = self.rng
        if route in EARLY_YEARS_ROUTES:
            data["course_subject_1"] = EARLY_YEARS_SUBJECT
            data["course_age_range"] = "13920"
        else:
            phase = profile.phase
            if phase is None:
                if profile.subject is not None:
                    phase = "primary" if profile.subject == PRIMARY_SUBJECT else "secondary"
                elif route == "09":
                    phase = "secondary"
                else:
                    phase = "primary" if rng.random() < (0.6 if route in ("11", "14") else 0.35) else "secondary"
            if phase == "primary":
                data["course_subject_1"] = PRIMARY_SUBJECT
                data["course_age_range"] = pick(rng, PRIMARY_AGE_RANGES)
                if rng.random() < 0.3:
                    data["course_subject_2"] = choice(rng, PRIMARY_SPECIALISMS)
            else:
                subject = profile.subject or pick(rng, SECONDARY_WEIGHTS)
                data["course_subject_1"] = subject
                data["course_age_range"] = pick(rng, SECONDARY_AGE_RANGES)
                if subject in SECOND_SUBJECTS and rng.random() < 0.15:
                    data["course_subject_2"] = SECOND_SUBJECTS[subject]
        if route in UNDERGRADUATE_ROUTES:
            data["itt_aim"] = "202"
            data["itt_qualification_aim"] = pick(rng, UNDERGRADUATE_AIM_WEIGHTS)
        elif route in ("16", "17", "20"):
            data["itt_aim"] = "201"
        elif route == "21":
            data["itt_aim"] = "202"
            data["itt_qualification_aim"] = choice(rng, ("021", "032"))
        else:
            qts_only = {"12": 0.15, "03": 0.6, "10": 0.7, "19": 0.6, "15": 0.4}.get(route, 0.3)
            if rng.random() < qts_only:
                data["itt_aim"] = "201"
            else:
                data["itt_aim"] = "202"
                data["itt_qualification_aim"] = pick(rng, POSTGRADUATE_AIM_WEIGHTS)
        if route == "15":
            data["iqts_country"] = choice(rng, IQTS_COUNTRIES) if not layout.hesa else None
        if route in ("03", "10", "14", "20", "21") and rng.random() < 0.9:
            data["employing_school_urn"] = self.urn()
        if route in ("03", "10", "12", "20") and rng.random() < {"03": 0.8, "10": 0.5, "12": 0.25, "20": 0.3}[route]:
            data["training_partner_urn"] = self.urn() if rng.random() < 0.95 else "900020"

    def urn(self) -> str:
        """A school URN: England's run from 100000 to about 150000."""
        return str(randint(self.rng, 100_000, 149_999))

    def _degrees(self, data: dict[str, Any], layout: Layout, route: str, profile: Profile, start: date) -> None:
        rng = self.rng
        degrees: list[dict[str, Any]] = []
        data["degrees_attributes"] = degrees
        if route in UNDERGRADUATE_ROUTES:
            return
        born = date.fromisoformat(data["date_of_birth"])
        # Most graduate at 21-23; career changers years before they train.
        earliest = max(born.year + 21, self.as_of.year + 1 - 60)
        latest = start.year
        if rng.random() < 0.6:
            year = min(latest, earliest + randint(rng, 0, 2))
        else:
            year = randint(rng, earliest, max(earliest, latest))
        subject = data["course_subject_1"]
        if subject == PRIMARY_SUBJECT:
            pool: tuple[str, ...] = PRIMARY_DEGREES
        elif subject == EARLY_YEARS_SUBJECT:
            pool = EARLY_YEARS_DEGREES
        else:
            pool = SECONDARY_SUBJECTS.get(subject, (0, PRIMARY_DEGREES))[1]
        uk = profile.uk_degree if profile.uk_degree is not None else rng.random() < 0.88
        degrees.append(self.degree(layout, uk, choice(rng, pool), year))
        if layout.hesa and uk and rng.random() < 0.1 and year + 1 <= start.year:
            masters = self.degree(
                layout, True, degrees[0]["subject"], randint(rng, year + 1, min(start.year, year + 3))
            )
            masters["uk_degree"] = choice(rng, MASTERS_TYPES)
            masters["grade"] = choice(rng, ("12", "13", "14"))
            masters["_length"] = "1"
            masters["_firstdeg"] = "02"
            degrees.append(masters)

    def degree(self, layout: Layout, uk: bool, subject: str, year: int) -> dict[str, Any]:
        """One previous degree as Register's degree body, plus the HESA-only tags (keys starting `_`)."""
        rng = self.rng
        length = 4 if rng.random() < 0.15 else 3
        if layout.hesa:
            graduated = f"{year}-{choice(rng, ('06-30', '07-01', '07-15', '07-31'))}"
        else:
            graduated = str(year) if rng.random() < 0.8 else f"{year}-07-01"
        degree: dict[str, Any] = {"subject": subject, "graduation_year": graduated}
        if uk:
            degree["uk_degree"] = pick(rng, UK_DEGREE_TYPES)
            degree["grade"] = pick(rng, GRADES)
            degree["institution"] = choice(rng, self.universities)
            degree["_country"] = pick(rng, UK_DEGREE_COUNTRIES)
        else:
            degree["non_uk_degree"] = pick(rng, NON_UK_DEGREE_TYPES)
            degree["country"] = choice(rng, NON_UK_COUNTRIES)
        degree["_length"] = str(length)
        degree["_start"] = f"{year - length}-09-{randint(rng, 1, 28):02d}" if rng.random() < 0.7 else None
        degree["_firstdeg"] = "01"
        degree["_bursflag"] = "01" if rng.random() < 0.2 else None
        return degree

    def _placements(self, data: dict[str, Any], route: str, profile: Profile) -> None:
        rng = self.rng
        # Assessment-only trainees are mostly assessed where they already work: no placement recorded.
        count = (1 if rng.random() < 0.3 else 0) if route in ("16", "17") else pick(rng, PLACEMENT_COUNTS)
        if profile.placement:
            count = max(count, 1)
        placements: list[dict[str, str]] = []
        seen: set[str] = set()
        while len(placements) < count:
            urn = self.urn() if rng.random() < 0.9 else choice(rng, MAGIC_URNS)
            if urn in seen:
                continue
            seen.add(urn)
            placements.append({"urn": urn, "_days": str(rng.randrange(40, 105, 5))})
        data["placements_attributes"] = placements

    def _funding(self, data: dict[str, Any], route: str, profile: Profile) -> None:
        rng = self.rng
        data["fund_code"], data["funding_method"] = "2", "6"
        if profile.plain or not self.funding.bundled:
            self._initiatives(data, profile)
            return
        subject = data["course_subject_1"]
        types = self.funding.types_for(route, subject)
        roll = rng.random()
        if types and roll < 0.45:
            kind = rng.choices(types, weights=[{"bursary": 6, "scholarship": 2, "grant": 5}[t] for t in types])[0]
            undergraduate = route in UNDERGRADUATE_ROUTES
            method = {"bursary": "B" if undergraduate else "D", "scholarship": "4", "grant": "E"}[kind]
            if kind == "bursary" and undergraduate and rng.random() < 0.1:
                method = "C"  # veterans teaching undergraduate bursary
            data["fund_code"], data["funding_method"] = "7", method
        elif route in self.funding.funded_routes and roll < 0.75:
            data["fund_code"] = "7"
        elif types and self.funding.exception(subject) and rng.random() < 0.3:
            kind = types[0]
            data["funding_method"] = {"bursary": "D", "scholarship": "4", "grant": "E"}[kind]
        self._initiatives(data, profile)

    def _initiatives(self, data: dict[str, Any], profile: Profile) -> None:
        rng = self.rng
        available = self.funding.initiatives
        if profile.plain or not available or data["funding_method"] == "C":
            return
        born = date.fromisoformat(data["date_of_birth"])
        candidates = []
        if "026" in available and self.cycle - born.year >= 30 and rng.random() < 0.12:
            candidates.append("026")
        if "011" in available and data["course_subject_2"] == "100403" and rng.random() < 0.5:
            candidates.append("011")
        if "036" in available and data["nationality"] not in (None, "GB", "IE") and rng.random() < 0.4:
            candidates.append("036")
        if "009" in available and data["course_subject_1"] in ("100403", "100425") and rng.random() < 0.05:
            candidates.append("009")
        if candidates:
            data["training_initiative"] = candidates[0]
            if len(candidates) > 1:
                data["additional_training_initiative"] = candidates[1]

    def _extras(self, data: dict[str, Any], extras: dict[str, Any], layout: Layout, route: str, start: date) -> None:
        """The HESA tags Register never read: plausible values, as a real extract carries them."""
        rng = self.rng
        extras["F_UKPRN"] = self.provider.ukprn
        extras["F_RECID"] = layout.name[1:] if layout.hesa else None
        extras["F_STATUS"] = "UPDATED" if rng.random() < 0.8 else "INSERTED"
        committed = start + timedelta(days=randint(rng, 20, 120))
        if committed > self.as_of:  # not yet started, or recently: entered before the as-of date
            committed = self.as_of - timedelta(days=randint(rng, 0, 30))
        stamp = f"{randint(rng, 0, 23):02d}:{randint(rng, 0, 59):02d}:{randint(rng, 0, 59):02d}"
        extras["F_STATUS_TIMESTAMP"] = f"{committed.day:02d}/{committed.month:02d}/{committed.year} {stamp}"
        extras["F_COMMIT_TIMESTAMP"] = f"{committed.isoformat()} {stamp}"
        extras["F_ALLPLACE"] = choice(rng, ("1", "1", "2"))
        extras["F_COURSEID"] = self.course_code(route, data["course_subject_1"])
        extras["F_CRMODE"] = "2" if data["study_mode"] in ("31", "64") else "1"
        extras["F_CTITLE"] = self.course_title(route, data)
        extras["F_DOMICILE"] = "XF" if rng.random() < 0.95 else choice(rng, ("XH", "XI", "XG"))
        extras["F_NATIOND1"] = "O" if rng.random() < 0.1 else None
        extras["F_SERLEAVE"] = choice(rng, ("01", "02", "02", "09"))
        extras["F_TTCID"] = "1" if rng.random() < 0.9 else "2"
        extras["F_ULN"] = f"{randint(rng, 1_000_000_000, 9_999_999_999)}" if rng.random() < 0.2 else None
        extras["F_YEARSTU"] = "1"
        if layout.legacy_codes:
            extras["F_SPLENGTH"] = str(max(1, date.fromisoformat(data["itt_end_date"]).year - start.year))
            extras["F_UNITLGTH"] = "1"
            extras["_comdate_only"] = rng.random() < 0.3
        elif layout.name == "C22053":
            extras["_comdate_only"] = rng.random() < 0.2

    def course_code(self, route: str, subject: str | None) -> str:
        key = f"{route}:{subject}"
        code = self.provider.courses.get(key)
        if code is None:
            alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
            code = "".join(choice(self.rng, alphabet) for _ in range(4))
            self.provider.courses[key] = code
        return code

    def course_title(self, route: str, data: dict[str, Any]) -> str:
        """F_CTITLE as providers word it (PGCE Secondary Mathematics (11-16)); a few hundred distinct titles."""
        key = (route, data["course_subject_1"], data["course_age_range"])
        title = self._titles.get(key)
        if title is None:
            title = self._titles[key] = self._course_title(route, data)
        return title

    def _course_title(self, route: str, data: dict[str, Any]) -> str:
        subject = data["course_subject_1"]
        name = self.reference.name("course_subject", subject) if subject else "Teaching"
        name = name[:1].upper() + name[1:]
        bounds = self.reference.code_list("course_age_range").identities.get(data["course_age_range"] or "", "")
        ages = "({})".format("-".join(re.findall(r"\d+", bounds))) if bounds else ""
        if route in EARLY_YEARS_ROUTES:
            return {"17": "Early Years Assessment Only", "18": "BA (Hons) Early Childhood Studies with EYTS"}.get(
                route, "Early Years ITT (Graduate Entry)"
            )
        if route == "16":
            return "Assessment Only Route to QTS"
        if route in ("11", "14"):
            return f"BA (Hons) {'Primary Education' if subject == PRIMARY_SUBJECT else name} with QTS"
        prefix = {"10": "Postgraduate Teaching Apprenticeship", "21": "Teach First", "15": "iQTS"}.get(route, "PGCE")
        phase = "Primary" if subject == PRIMARY_SUBJECT else f"Secondary {name}"
        return f"{prefix} {phase} {ages}".strip()

    def same_person(self, draft: Draft, index: int) -> Draft:
        """The same trainee again under new identifiers (what Register's duplicate check catches)."""
        twin = draft.copy()
        twin.data["application_id"] = None
        self.identity(index, twin.data, twin.extras)
        return twin

    def start_cycle_dates(self, data: dict[str, Any], cycle: int) -> None:
        """Move a trainee's start (and end) into another academic cycle, keeping the date rules."""
        rng = self.rng
        start = date(cycle, 9, randint(rng, 1, 20))
        data["itt_start_date"] = data["trainee_start_date"] = start.isoformat()
        data["itt_end_date"] = date(cycle + 1, 7, randint(rng, 1, 28)).isoformat()


__all__ = ["Builder", "Draft", "FundingView", "Layout", "Permutation", "Profile", "Weights", "layout_for"]
