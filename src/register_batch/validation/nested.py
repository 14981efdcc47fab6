"""Rules for the nested and side bodies: degrees (§3.7), placements (§3.8), withdrawal (§3.9), deferral (§3.10).

Degree and placement findings name the child field; the runner prefixes `degrees_attributes[i].` or
`placements_attributes[i].`. Messages are what the API returns for nested attributes (§7.1): degree messages
carry no prefix, placement messages start with `placements_attributes`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from functools import lru_cache
from typing import Any

from register_batch.mapping.apply import UK_COUNTRIES
from register_batch.model import Severity
from register_batch.validation.catalogue import Finding, also_checks, rule
from register_batch.validation.facts import Facts, parse_date, register_date, ruby_to_i
from register_batch.validation.ruby_date import ruby_datetime_instant, ruby_datetime_iso8601, ruby_time_alone_day
from register_batch.validation.rules import (
    _sorted_codes,
    graduation_years,
    inclusion_message,
    is_graduation_serial,
    not_yyyy_mm_dd,
)

DEGREE_IDENTITY = ("subject", "graduation_year", "country", "uk_degree", "non_uk_degree", "grade")
# §3.7: Register's degree mapper stores grade 09 as 14 (Pass) and institution 0133 as 0149.
GRADE_REWRITES = {"09": "14"}
INSTITUTION_REWRITES = {"0133": "0149"}
ENTERED = "must be entered if specifying a previous UK degree or non-UK degree"
UK_LOCALE, NON_UK_LOCALE = "uk", "non_uk"  # Degree#locale_code


def is_uk_degree(degree: dict[str, Any]) -> bool:
    """Locale rule (§3.7): UK if country is blank or a UK code, or an institution is given.

    A degree Register has stored keeps its `locale_code` (the emulator's rows carry it): only a write of uk_degree
    or non_uk_degree works it out again (§2.10), so a later institution alone does not make it a UK degree.
    """
    locale = degree.get("locale_code")
    if locale is not None:
        return locale == UK_LOCALE
    country = degree.get("country")
    return country is None or country in UK_COUNTRIES or degree.get("institution") is not None


def graduation_year(value: Any) -> int | None:
    """The year Register reads, None when blank. Its mapper turns a `YYYY-MM-DD` date into its year; its validator
    and its integer column read any other value with Ruby's `to_i` (§3.4; degrees/graduation_year_validator.rb): the
    leading digits, so `2012.0` (pandas' year column with a blank in it) and `2012/13` are 2012, and `June 2012` 0."""
    if value is None:
        return None
    if type(value) is str and len(value) <= _REMEMBERED_YEAR:  # a file's value: the usual case
        return _year_remembered(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float):
        return int(value) if math.isfinite(value) else 0
    return _year_read(str(value))


# A file's degrees share a few dozen graduation years, and four rules read each degree's: a text is read once. Bounded
# in number and in length (a value of megabytes is read, not kept).
_REMEMBERED_YEAR = 64


@lru_cache(maxsize=4096)
def _year_remembered(text: str) -> int | None:
    return _year_read(text)


def _year_read(text: str) -> int | None:
    """graduation_year of a text: None when blank, else Ruby's `to_i` of it."""
    if not text.strip():
        return None
    return ruby_to_i(text)


# --- degrees ---------------------------------------------------------------------------------------------


@rule(
    "degree_subject_required",
    scope="degree",
    fields=("subject",),
    message=f"subject {ENTERED}",
    source="register-api.md §3.7 (an unknown code becomes blank)",
    fix="Give the degree subject as a HECoS code from `register-batch reference show degree_subject`. Register says "
    "'must be entered' beside a value too (a JACS code such as F300, a subject's name): a value Register does not "
    "know is read as blank. Replace it with its HECoS code.",
)
def degree_has_a_known_subject(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    subject = degree.get("subject")
    if subject is not None and subject in facts.reference.codes("degree_subject"):
        return None
    return [("subject", subject, f"subject {ENTERED}")]


@rule(
    "degree_grade_required",
    scope="degree",
    fields=("grade",),
    message=f"grade {ENTERED}",
    source="register-api.md §3.7 (required for UK degrees; an unknown code becomes blank)",
    fix="Give the degree class as a code from `register-batch reference show degree_grade` (01-14, 98, 99; a 2:1 "
    "is 02). Register says 'must be entered' beside a value too (21, 2:1, First): a value Register does not know "
    "is read as blank. Replace it with its code.",
)
def uk_degree_has_a_known_grade(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    grade = degree.get("grade")
    if not is_uk_degree(degree) or (grade is not None and grade in facts.reference.codes("degree_grade")):
        return None
    return [("grade", grade, f"grade {ENTERED}")]


@rule(
    "unknown_degree_grade",
    scope="degree",
    fields=("grade",),
    message="grade: '<value>' is not a Register degree grade; Register would drop it without telling you",
    source="register-api.md §3.7 (an unknown grade becomes blank; a non-UK degree needs none, so no error)",
    fix="Use a code from `register-batch reference show degree_grade`, or leave it blank.",
    api=False,
)
def non_uk_degree_grade_is_known(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    grade = degree.get("grade")
    if grade is None or is_uk_degree(degree) or grade in facts.reference.codes("degree_grade"):
        return None
    return [
        ("grade", grade, f"grade: '{grade}' is not a Register degree grade; Register would drop it without telling you")
    ]


@rule(
    "degree_graduation_year_required",
    scope="degree",
    fields=("graduation_year",),
    message=f"graduation_year {ENTERED}",
    source="register-api.md §3.4, §3.7",
    fix="Give the year the degree was awarded (YYYY).",
)
def degree_has_a_graduation_year(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if graduation_year(degree.get("graduation_year")) is not None:  # blank text is none (Rails' presence)
        return None
    return [("graduation_year", None, f"graduation_year {ENTERED}")]


@rule(
    "degree_graduation_year_in_future",
    scope="degree",
    fields=("graduation_year",),
    message="graduation_year must be in the past, for example 2014",
    source="register-api.md §3.4 (year > now.year + 1; degrees/graduation_year_validator.rb)",
    fix="Check the graduation year.",
)
def graduation_year_is_not_after_next_year(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Not said of a spreadsheet's date serial number (45839), which is no year "in the future" but a date, though
    Register says both: its degree_graduation_year_invalid is, with spreadsheet_date's hint of the year it stands for
    (review224 F3), and the record is refused all the same. A serial only of a date Register could take as a
    graduation: 20255 is a typo of 2025, "in the future" as Register says (review228 F4)."""
    value = degree.get("graduation_year")
    year = graduation_year(value)
    if year is None or year <= facts.as_of.year + 1:
        return None
    if type(value) is str and is_graduation_serial(value, facts.as_of):
        return None
    return [("graduation_year", degree["graduation_year"], "graduation_year must be in the past, for example 2014")]


@rule(
    "degree_graduation_year_invalid",
    scope="degree",
    fields=("graduation_year",),
    message="graduation_year is invalid",
    source="register-api.md §3.4 (outside [now.year + 1 - 60, now.year + 1]; Degree::MAX_GRAD_YEARS = 60)",
    fix="Give a four-digit year within the last 60 years (HESA's F_DEGENDDT: the date as YYYY-MM-DD; spreadsheets "
    "turn it into 30/06/2012).",
)
def graduation_year_is_within_60_years(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    year = graduation_year(degree.get("graduation_year"))
    first, latest = graduation_years(facts.as_of)
    if year is None or first <= year <= latest:
        return None
    return [("graduation_year", degree["graduation_year"], "graduation_year is invalid")]


# An academic year (2016/17, 2016-17, 2016/2017): Register keeps its first year (Ruby's to_i).
_ACADEMIC_YEAR = re.compile(r"([0-9]{4}) ?[/-] ?([0-9]{2}|[0-9]{4})")


@rule(
    "degree_graduation_year_not_a_year",
    scope="degree",
    fields=("graduation_year",),
    message="graduation_year: '<value>' is not a year (YYYY) or a date (YYYY-MM-DD): Register keeps <year>, the "
    "number it starts with[; as an academic year, a 2016/17 graduate graduated in 2017]",
    source="register-api.md §3.4 (YYYY, an integer, or YYYY-MM-DD converted to its year; any other value is read "
    "with Ruby's to_i: degrees/graduation_year_validator.rb)",
    fix="Give the year the degree was awarded, as YYYY (or the award date as YYYY-MM-DD). For an academic year such "
    "as 2016/17, that is usually its second year (2017): Register would keep the first.",
    severity=Severity.WARNING,
    api=False,
)
def graduation_year_is_a_year(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Register takes 2016/17, 2016-13-01 or 2016.0 and keeps 2016 without a word (review211 F4): a column that holds
    something other than a year, and for an academic year a graduate of its second year kept a year early. Said only
    where Register keeps a year it takes (a year it refuses is degree_graduation_year_invalid's)."""
    value = degree.get("graduation_year")
    if type(value) is not str or (len(value) == 4 and value.isdigit()):
        return None  # the usual case: a year, or a number (JSON)
    if ((text := value.strip()).isdigit() and len(text) == 4) or parse_date(text) is not None:
        return None  # a year with spaces around it (Register's to_i reads past them), or a date
    year = graduation_year(value)
    first, latest = graduation_years(facts.as_of)
    if year is None or not first <= year <= latest:
        return None
    message = f"graduation_year: '{value}' is not a year (YYYY) or a date (YYYY-MM-DD): Register keeps {year}"
    academic = _ACADEMIC_YEAR.fullmatch(text)
    second = int(academic.group(2)[-2:]) if academic else None
    if second is not None and second == (year + 1) % 100:
        message += (
            f", its first year; as an academic year, a {text} graduate graduated in {year + 1}: give the "
            "year the degree was awarded"
        )
    else:
        message += ", the number it starts with: give the year the degree was awarded, as YYYY"
    return [("graduation_year", value, message)]


@rule(
    "uk_degree_required",
    scope="degree",
    fields=("uk_degree",),
    message="uk_degree must be entered if specifying a previous UK degree",
    source="register-api.md §3.7",
    fix="A UK degree (no country, a UK country or an institution) needs its degree type in uk_degree.",
)
def uk_degree_has_a_type(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if not is_uk_degree(degree) or degree.get("uk_degree") is not None:
        return None
    return [("uk_degree", None, "uk_degree must be entered if specifying a previous UK degree")]


@rule(
    "non_uk_degree_required",
    scope="degree",
    fields=("non_uk_degree",),
    message="non_uk_degree must be entered if specifying a previous non-UK degree",
    source="register-api.md §3.7",
    fix="A degree from outside the UK needs its degree type in non_uk_degree.",
)
def non_uk_degree_has_a_type(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    if is_uk_degree(degree) or degree.get("non_uk_degree") is not None:
        return None
    return [("non_uk_degree", None, "non_uk_degree must be entered if specifying a previous non-UK degree")]


@rule(
    "invalid_degree_code",
    scope="degree",
    fields=("uk_degree", "non_uk_degree", "country"),
    message="<field> has invalid reference data value of '<value>'. Example values include …",
    source="register-api.md §3.7 (degree_type.yml, country.yml)",
    fix="Use a code from `register-batch reference show degree_type` (or `country`). A UK degree's country is XF "
    "England, XG Northern Ireland, XH Scotland, XI Wales or XK (UK, not otherwise specified), not GB, or blank.",
)
def degree_codes_are_known(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Not the country of a degree Register takes for a UK one by its institution: its mapper drops that country
    before checking it (§3.7), so an unknown one (GB) is never refused; degree_country_not_kept says it is not kept
    (review91 F2). Nor the type of the other locale: Register checks uk_degree on a UK degree only and non_uk_degree
    on a non-UK one only (§3.7, degree_attributes.rb `if: -> { locale_code == ... }`); degree_type_not_kept says an
    unknown one there is not kept (review113 F2)."""
    found: list[Finding] | None = None
    reference = facts.reference
    for field, list_name in (_own_type_field(degree), ("country", "country")):
        value = degree.get(field)
        if field == "country" and _country_dropped(degree):
            continue
        if value is not None and value not in reference.codes(list_name):
            found = found or []
            found.append((field, value, inclusion_message(field, value, _sorted_codes(reference, list_name))))
    return found


def _own_type_field(degree: dict[str, Any]) -> tuple[str, str]:
    """The degree type field Register checks on this degree (§3.7), with its code list."""
    return ("uk_degree" if is_uk_degree(degree) else "non_uk_degree"), "degree_type"


def _other_type_field(degree: dict[str, Any]) -> str:
    """The degree type field of the other locale, which Register neither checks nor needs on this degree (§3.7)."""
    return "non_uk_degree" if is_uk_degree(degree) else "uk_degree"


def _country_dropped(degree: dict[str, Any]) -> bool:
    """Register's mapper nulls the country of a degree with an institution, which it takes for a UK degree
    (`uk_country_or_uk_institution_present?`, §3.7), before the degree is checked; not of one Register holds, whose
    locale was decided when it was written."""
    return degree.get("institution") is not None and degree.get("locale_code") is None


@rule(
    "unknown_institution",
    scope="degree",
    fields=("institution",),
    message="institution: '<value>' is not a Register institution code; Register would record "
    "'Other UK institution' without telling you",
    source="register-api.md §3.7 (degree_attributes.rb#find_institution), hesa-formats.md §2.3.16",
    fix="Use a code from `register-batch reference show institution`, or leave it blank.",
    api=False,
)
def degree_institution_is_known(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = degree.get("institution")
    if value is None or value in facts.reference.codes("institution"):
        return None
    return [
        (
            "institution",
            value,
            f"institution: '{value}' is not a Register institution code; Register would record "
            "'Other UK institution' without telling you",
        )
    ]


@rule(
    "degree_country_not_kept",
    scope="degree",
    fields=("country",),
    message="country: '<value>' is not kept: the degree has an awarding institution (<code>), so Register takes it "
    "for a UK degree and keeps no country",
    source="register-api.md §3.7 (institution present ⇒ UK degree, country stored null); hesa-formats.md §5 item 12",
    fix="If the degree is from outside the UK, leave its awarding institution (F_DEGEST) blank: it is then sent as a "
    "non-UK degree with its country. If it is a UK degree, give a UK country (XF, XG, XH, XI, XK) or none.",
    severity=Severity.WARNING,
    api=False,
)
def degree_country_is_kept(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A country outside the UK beside an institution code: Register's locale rule makes the degree a UK one and
    drops the country without a word (review64 F4, review68 F1, review70 F1); a code it does not know (GB) too,
    before checking it (review91 F2)."""
    country, institution = degree.get("country"), degree.get("institution")
    if country is None or country in UK_COUNTRIES or not _country_dropped(degree):
        return None
    return [
        (
            "country",
            country,
            f"country: '{country}' is not kept: the degree has an awarding institution ({institution}), so Register "
            "takes it for a UK degree and keeps no country",
        )
    ]


@rule(
    "degree_type_not_kept",
    scope="degree",
    fields=("uk_degree", "non_uk_degree"),
    message="<field>: '<value>' is not kept: it is not a degree type code, and on a <UK | non-UK> degree Register "
    "checks only <uk_degree | non_uk_degree>, so it takes the trainee and gives <field> back blank",
    source="register-api.md §3.7 (uk_degree checked on UK degrees only, non_uk_degree on non-UK degrees only; "
    "codes re-derived in the response), §5.1",
    fix="Leave it blank: a UK degree's type goes in uk_degree, a non-UK degree's (a country outside the UK and no "
    "institution) in non_uk_degree. If the type was put in the wrong column, move it there.",
    severity=Severity.WARNING,
    api=False,
)
def degree_type_is_kept(degree: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A value in the other locale's type field that is not a degree type code (review113 F2): Register's mapper
    wraps it as an InvalidValue, which no check looks at on this degree, stores its text and re-derives no code from
    it (the response's is null). One that is a code Register keeps and gives back: nothing to say."""
    field = _other_type_field(degree)
    value = degree.get(field)
    if value is None or value in facts.reference.codes("degree_type"):
        return None
    uk = is_uk_degree(degree)
    own, kind = ("uk_degree", "UK") if uk else ("non_uk_degree", "non-UK")
    return [
        (
            field,
            value,
            f"{field}: '{value}' is not kept: it is not a degree type code, and on a {kind} degree Register checks "
            f"only {own}, so it takes the trainee and gives {field} back blank",
        )
    ]


def degree_identity(degree: dict[str, Any], facts: Facts) -> tuple[Any, ...] | None:
    """What R7b compares: values after Register's mapping (§3.7: grade 09 is 14, a UK degree's country is
    null), unknown codes counting as blank."""
    reference = facts.reference
    uk = is_uk_degree(degree)
    lists = {
        "subject": "degree_subject",
        "country": "country",
        "uk_degree": "degree_type",
        "non_uk_degree": "degree_type",
        "grade": "degree_grade",
    }
    values = []
    for field in DEGREE_IDENTITY:
        value = degree.get(field)
        if field == "graduation_year":
            value = graduation_year(value) or None
        elif (field == "country" and uk) or (value is not None and value not in reference.codes(lists[field])):
            value = None  # a UK degree's country is stored as null; an unknown code as blank
        elif field == "grade" and value is not None:
            value = GRADE_REWRITES.get(value, value)
        values.append(value)
    return tuple(values) if any(v is not None for v in values) else None


@rule(
    "duplicate_degrees",
    fields=("degrees_attributes",),
    message="degrees_attributes contains duplicate degrees",
    source="register-api.md §3.3 R7b (trainee_attributes.rb#duplicate_degrees?)",
    fix="Send each degree once. The issue's value says which degrees are alike and the values Register compares "
    "(degrees 1 and 2: subject 100505, graduation_year 2021, uk_degree 083, grade 02): remove the repeat (in HESA "
    "XML the issue's line is its PREVIOUSQUALIFICATION's), or correct the degree that was copied by mistake.",
)
def degrees_are_distinct(data: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Register's message, word for word (the emulator answers with it); which degrees are alike is the value
    (review151 F5: a record with several degrees had nothing to say which to remove)."""
    degrees = data.get("degrees_attributes") or ()
    if len(degrees) < 2:
        return None
    if not (repeated := _repeated_degrees(degrees, facts)):
        return None
    said = "; ".join(_alike_degrees(identity, numbers) for identity, numbers in repeated)
    # About the first degree alike to one before it: the repeat to remove, whose line the issue names where the input
    # gives one (a HESA XML Student's PREVIOUSQUALIFICATION, review151 F5).
    first_repeat = min(numbers[1] for _identity, numbers in repeated) - 1
    return [
        (
            "degrees_attributes",
            said,
            "degrees_attributes contains duplicate degrees",
            ("degrees_attributes", first_repeat),
        )
    ]


def _repeated_degrees(degrees: Sequence[dict[str, Any]], facts: Facts) -> list[tuple[tuple[Any, ...], list[int]]]:
    """Each R7b identity two or more of `degrees` share, with their numbers (1-based, in the order sent)."""
    alike: dict[tuple[Any, ...], list[int]] = {}
    for number, degree in enumerate(degrees, start=1):
        identity = degree_identity(degree, facts)
        if identity is not None:
            alike.setdefault(identity, []).append(number)
    return [(identity, numbers) for identity, numbers in alike.items() if len(numbers) > 1]


def _alike_degrees(identity: tuple[Any, ...], numbers: list[int]) -> str:
    """`degrees 1 and 2: subject 100505, graduation_year 2021, uk_degree 083, grade 02`: the degrees (1-based, in the
    order sent) and the values R7b compares, as Register compares them (a year, grade 09 as 14), blank ones left
    out."""
    which = ", ".join(map(str, numbers[:-1])) + f" and {numbers[-1]}"
    values = ", ".join(f"{field} {value}" for field, value in zip(DEGREE_IDENTITY, identity, strict=True) if value)
    return f"degrees {which}: {values}"


# --- placements -------------------------------------------------------------------------------------------

_URN = re.compile(r"[0-9]{6}")  # used with fullmatch: Ruby's \A...\z (a trailing newline is not allowed)
# UK postcode shape as Register's PostcodeValidator accepts it (uk_postcode gem's full-postcode form).
_POSTCODE = re.compile(
    r"^(GIR ?0AA|[A-PR-UWYZ]([0-9]{1,2}|[A-HK-Y][0-9]{1,2}|[0-9][A-HJKSTUW]|[A-HK-Y][0-9][ABEHMNPRVWXY]) ?"
    r"[0-9][ABD-HJLNP-UW-Z]{2})$",
    re.IGNORECASE,
)


def is_uk_postcode(text: str) -> bool:
    """Whether Register's PostcodeValidator takes `text` as a placement's postcode (register-api.md §3.8)."""
    return _POSTCODE.match(text.strip()) is not None


@rule(
    "placement_name_required",
    scope="placement",
    fields=("name",),
    message="placements_attributes name can't be blank",
    source="register-api.md §3.8 (name required when no school matched; a URN not of 6 digits matches none)",
    fix="Give the placement school's 6-digit URN, or its name when it has none.",
)
def placement_has_a_name_or_urn(placement: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Register looks a well-formed URN up in its schools, which register-batch cannot (docs/rules.md), so such a
    URN is taken to match one; a malformed one matches none, and Register asks for the name as well. Run before
    the URN's own rule, as Register lists name before urn (§7.2)."""
    urn = placement.get("urn")
    if placement.get("name") is not None or (urn is not None and _URN.fullmatch(urn)):
        return None
    return [("name", None, "placements_attributes name can't be blank")]


@rule(
    "placement_urn_invalid",
    scope="placement",
    fields=("urn",),
    message="placements_attributes urn is invalid",
    source="register-api.md §3.8 (/\\A[0-9]{6}\\z/)",
    fix="A placement URN is 6 digits (900000-900030 when there is none).",
)
def placement_urn_has_6_digits(placement: dict[str, Any], facts: Facts) -> list[Finding] | None:
    urn = placement.get("urn")
    if urn is None or _URN.fullmatch(urn):
        return None
    return [("urn", urn, "placements_attributes urn is invalid")]


@rule(
    "placement_postcode_invalid",
    scope="placement",
    fields=("postcode",),
    message="placements_attributes postcode Enter a valid postcode (for example, BN1 1AA)",
    source="register-api.md §3.8 (postcode_validator.rb; PlacementAttributes drops the postcode on create, §2.5)",
    fix="Give a full UK postcode such as BN1 1AA, or leave it blank. Until then Register holds the placement without "
    "it: Register drops the postcodes of a new trainee's placements before checking them, and sync adds a placement "
    "to a trainee Register holds already without it, as Register would refuse it there with this message. The "
    "placement's URN and name are kept either way.",
    severity=Severity.WARNING,
)
def placement_postcode_is_a_uk_postcode(placement: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A warning, not an error: Register's mapper keeps only a nested placement's URN and name when the trainee is
    created (§3.8), so it never refuses a new trainee for it (review91 F1); `POST …/placements` checks it (§2.11,
    §3.8), so sync adds a placement to a trainee Register holds without such a postcode (sync/compare.py
    `_as_created`, review133 F1), and the emulator's placement endpoint runs the rule as an error (`_side_errors`)."""
    postcode = placement.get("postcode")
    if postcode is None or is_uk_postcode(postcode):
        return None
    return [("postcode", postcode, "placements_attributes postcode Enter a valid postcode (for example, BN1 1AA)")]


# --- withdrawal (§3.9) -------------------------------------------------------------------------------------


def withdrawal_day(text: str) -> date | None:
    """The day of a withdrawal_date, which Register reads with `DateTime.iso8601` (§3.4): `YYYY-MM-DD`, alone or
    followed by a T and a time of at least hh:mm (seconds, a fraction and an offset optional); anything else after
    the date (`2026-01-15T`, `2026-01-15Tmorning`, an hour of 25) makes no date."""
    day = parse_date(text[:10])
    if day is None or len(text) == 10:
        return day
    if not re.match(r"T[0-9]{2}:[0-9]{2}", text[10:]):
        return None
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return None
    return day


@rule(
    "withdrawal_date_invalid",
    scope="withdrawal",
    fields=("withdrawal_date",),
    message="withdrawal_date Choose a withdrawal date / Choose a valid withdrawal date / must be after itt_start_date",
    source="register-api.md §3.4, §3.9 (withdrawal_attributes.rb)",
    fix="Give the withdrawal date as YYYY-MM-DD, on or after the ITT start date.",
)
def withdrawal_date_is_valid(withdrawal: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = withdrawal.get("withdrawal_date")
    if value is None:
        return [("withdrawal_date", None, "withdrawal_date Choose a withdrawal date")]
    moment = withdrawal_instant(str(value), facts.as_of)
    if moment is None:
        return [("withdrawal_date", value, "withdrawal_date Choose a valid withdrawal date")]
    before = facts.itt_start is not None and moment < datetime.combine(facts.itt_start, time(), UTC)
    if before:
        return [("withdrawal_date", value, "withdrawal_date must be after itt_start_date")]
    return None


@rule(
    "withdrawal_date_is_a_time",
    scope="withdrawal",
    fields=("withdrawal_date",),
    message="withdrawal_date: '<value>' is a time, not a date: Register reads it as that time today and records the "
    "withdrawal on the day it is sent",
    source="register-api.md §3.4, §3.9 (withdrawal_date read with DateTime.iso8601, which reads a time alone as "
    "today's: Ruby 3.1)",
    fix="Give the withdrawal date as YYYY-MM-DD. A year alone (2025) or four digits are read as a time (20:25).",
    api=False,
)
def withdrawal_date_is_not_a_time(withdrawal: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A time alone (`2025`, `10:30`, `103000Z`) is a DateTime to Register, completed with the day of the request
    (review113 F3): it takes the withdrawal, dated that day, where the record meant some other date."""
    value = withdrawal.get("withdrawal_date")
    if value is None or ruby_time_alone_day(str(value), facts.as_of) is None:
        return None
    return [
        (
            "withdrawal_date",
            value,
            f"withdrawal_date: '{value}' is a time, not a date: Register reads it as that time today and records the "
            "withdrawal on the day it is sent",
        )
    ]


def _dated_ahead(field: str, value: Any, day: date, as_of: date) -> Finding:
    """The finding of a withdrawal or deferral dated after today (withdrawal_date_in_future, defer_date_in_future)."""
    verb, noun = ("withdraw", "withdrawal") if field == "withdrawal_date" else ("defer", "deferral")
    return (
        field,
        value,
        f"{field}: {day.isoformat()} is after today ({as_of.isoformat()}, UTC): Register would {verb} the trainee at "
        f"once and tell TRS, and the API cannot undo it; sync holds the {noun} back and sends it by the first sync on "
        f"or after {day.isoformat()}",
    )


_AHEAD_FIX = (
    "Nothing to do if the date is the one planned (a leaving date given ahead, an agreed intermission): sync sends "
    "the record's other changes now and the {noun} on its day, and keeps the record's warning (sync_held) until "
    "then. If the date is a mistake, correct it in the SRS: once sent, only DfE's Register support can undo it."
)


@rule(
    "withdrawal_date_in_future",
    scope="withdrawal",
    fields=("withdrawal_date",),
    message="withdrawal_date: <YYYY-MM-DD> is after today (<today>, UTC): Register would withdraw the trainee at once "
    "and tell TRS, and the API cannot undo it; sync holds the withdrawal back and sends it by the first sync on or "
    "after <YYYY-MM-DD>",
    source="register-api.md §3.4 (no future check on withdrawal_date), §2.7 step 3 (the trainee is withdrawn at once "
    "and TRS is told), §2.12 (no reinstate endpoint)",
    fix=_AHEAD_FIX.format(noun="withdrawal"),
    severity=Severity.WARNING,
    api=False,
)
def withdrawal_date_is_not_after_today(withdrawal: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Register takes a withdrawal dated ahead and withdraws the trainee the day it is sent (review211 F1): an SRS
    that records a leaving date in advance would withdraw the trainee, and report it to TRS, months early."""
    value = withdrawal.get("withdrawal_date")
    day = parse_date(value)  # another form is date_not_yyyy_mm_dd's error: never sent
    if day is None or day <= facts.as_of:
        return None
    return [_dated_ahead("withdrawal_date", value, day, facts.as_of)]


def withdrawal_kept_day(text: str, today: date) -> date | None:
    """The day Register keeps of a withdrawal_date in another form than YYYY-MM-DD: `withdrawal_side_day`'s, or for
    a time alone the day it is sent (`today`; the next day for 24:00)."""
    return withdrawal_side_day(text, today) or ruby_time_alone_day(text, today)


def withdrawal_side_day(text: str, today: date) -> date | None:
    """The day of a withdrawal_date written in another ISO 8601 form than `withdrawal_day` reads (20260915, 2026-258,
    20260915T100000Z), read as Register reads it with DateTime.iso8601 (§3.9, ruby_date.py): a time it refuses gives
    no day (20260915250000: an hour of 25, the T being optional in the basic form), and 24:00 is the next day
    (review80 F1, F2). A defer_date is Date.iso8601's (§2.8), which reads the day past any time: `register_date`."""
    return ruby_datetime_iso8601(text, today)


def _side_dates(field: str, day_of: Any, side: Any) -> Any:
    """date_not_yyyy_mm_dd's check of a withdrawal's or deferral's date: one Register reads (`side`) that is not
    written YYYY-MM-DD, as the rule says of a trainee's dates."""

    def check(body: dict[str, Any], facts: Facts) -> list[Finding] | None:
        value = body.get(field)
        if not isinstance(value, str) or day_of(value) is not None:
            return None
        day = side(value, facts.as_of)
        return None if day is None else [not_yyyy_mm_dd(field, value, day)]

    return check


# A withdrawal_date with a time (2026-09-30T23:00:00Z) is not YYYY-MM-DD either, as a defer_date's is not (review211
# F2): Register keeps the day of the value's own offset, which for an SRS that keeps local midnight in UTC is the day
# before the one meant.
also_checks("date_not_yyyy_mm_dd", "withdrawal")(_side_dates("withdrawal_date", parse_date, withdrawal_side_day))
also_checks("date_not_yyyy_mm_dd", "deferral")(_side_dates("defer_date", parse_date, register_date))


def withdrawal_instant(text: str, today: date) -> datetime | None:
    """Register's `DateTime.iso8601(withdrawal_date)` as an instant in UTC, which it compares with `itt_start_date`
    (§3.4, §3.9): Ruby compares a DateTime with a Date by instant, the Date at 00:00 UTC, so a time with an offset
    counts as the instant it names (`2026-08-25T00:30:00+01:00` is before a start on the 25th,
    `2026-08-24T23:30:00-01:00` is not); a time without an offset is UTC. YYYY-MM-DD forms (`withdrawal_day`) read
    as Python reads them; another ISO 8601 form (20260915, 2026-258) or a time alone (2025 is 20:25 today) as Ruby
    does (`ruby_datetime_instant`: review78 F2, review113 F3): 20250831T233000-0100 is 2025-09-01T00:30Z. None
    where Register refuses it."""
    if withdrawal_day(text) is None:
        return ruby_datetime_instant(text, today)
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


@rule(
    "withdrawal_trigger_invalid",
    scope="withdrawal",
    fields=("withdrawal_trigger",),
    message="trigger is not included in the list",
    source="register-api.md §3.9",
    fix="withdrawal_trigger is provider or trainee.",
)
def withdrawal_trigger_is_provider_or_trainee(withdrawal: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = withdrawal.get("trigger")
    if value in facts.reference.withdrawal_triggers:
        return None
    return [("withdrawal_trigger", value, "trigger is not included in the list")]


@rule(
    "withdrawal_future_interest_invalid",
    scope="withdrawal",
    fields=("withdrawal_future_interest",),
    message="future_interest is not included in the list",
    source="register-api.md §3.9",
    fix="withdrawal_future_interest is yes, no or unknown.",
)
def withdrawal_future_interest_is_yes_no_or_unknown(withdrawal: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = withdrawal.get("future_interest")
    if value in facts.reference.withdrawal_future_interest:
        return None
    return [("withdrawal_future_interest", value, "future_interest is not included in the list")]


@rule(
    "withdrawal_reasons_invalid",
    scope="withdrawal",
    fields=("withdrawal_reasons",),
    message="reasons Choose one or more reasons why the trainee withdrew from the course / reasons entered not "
    "valid for selected trigger eg unacceptable_behaviour for a trainee trigger",
    source="register-api.md §3.9 (config/initializers/withdrawal_reasons.rb)",
    fix="Give one or more reason codes valid for the trigger (`register-batch reference show withdrawal_reasons` "
    "names each one's trigger): another reason is `had_to_withdraw_trainee_another_reason` for a provider trigger "
    "and `trainee_chose_to_withdraw_another_reason` for a trainee one. Register's example is out of date: "
    "unacceptable_behaviour is a reason for either trigger.",
)
def withdrawal_reasons_fit_the_trigger(withdrawal: dict[str, Any], facts: Facts) -> list[Finding] | None:
    reasons = withdrawal.get("reasons") or []
    if not reasons:
        return [
            ("withdrawal_reasons", None, "reasons Choose one or more reasons why the trainee withdrew from the course")
        ]
    trigger = withdrawal.get("trigger")
    allowed = facts.reference.withdrawal_reasons.get("provider" if trigger == "provider" else "trainee", ())
    bad = [r for r in reasons if r not in allowed]
    if not bad:
        return None
    return [
        (
            "withdrawal_reasons",
            ";".join(bad),
            "reasons entered not valid for selected trigger eg unacceptable_behaviour for a trainee trigger",
        )
    ]


@rule(
    "withdrawal_details_required",
    scope="withdrawal",
    fields=("withdrawal_another_reason", "withdrawal_safeguarding_concern_reasons"),
    message="another_reason Enter another reason / safeguarding_concern_reasons Enter the concerns",
    source="register-api.md §3.9",
    fix="Describe the other reason, or the safeguarding concerns, when those reasons are chosen.",
)
def withdrawal_reasons_have_their_details(withdrawal: dict[str, Any], facts: Facts) -> list[Finding] | None:
    reasons = withdrawal.get("reasons") or []
    found: list[Finding] | None = None
    if any("another_reason" in r for r in reasons) and not withdrawal.get("another_reason"):
        found = [("withdrawal_another_reason", None, "another_reason Enter another reason")]
    if "safeguarding_concerns" in reasons and not withdrawal.get("safeguarding_concern_reasons"):
        found = (found or []) + [
            ("withdrawal_safeguarding_concern_reasons", None, "safeguarding_concern_reasons Enter the concerns")
        ]
    return found


# --- deferral (§3.10) --------------------------------------------------------------------------------------


@rule(
    "defer_date_invalid",
    scope="deferral",
    fields=("defer_date",),
    message="defer_date can't be blank / defer_date is invalid",
    source="register-api.md §2.8, §3.10 (deferral_validator.rb)",
    fix="Give the deferral date as YYYY-MM-DD.",
)
def defer_date_is_an_iso_date(deferral: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = deferral.get("defer_date")
    if value is None:
        return [("defer_date", None, "defer_date can't be blank")]
    # Another form Date.iso8601 reads (20260915, 2026-09-15T10:00:00Z) is date_not_yyyy_mm_dd's (review78 F2).
    if parse_date(value) is None and register_date(str(value), facts.as_of) is None:
        return [("defer_date", value, "defer_date is invalid")]
    return None


@rule(
    "defer_reason_too_long",
    scope="deferral",
    fields=("defer_reason",),
    message="defer_reason is too long (maximum is 500 characters)",
    source="register-api.md §2.8 (DeferralForm::MAX_DEFER_REASON_LENGTH)",
    fix="Shorten the reason to 500 characters.",
)
def defer_reason_fits_500_characters(deferral: dict[str, Any], facts: Facts) -> list[Finding] | None:
    value = deferral.get("defer_reason")
    if value is None or len(value) <= 500:
        return None
    return [("defer_reason", value, "defer_reason is too long (maximum is 500 characters)")]


@rule(
    "defer_date_in_future",
    scope="deferral",
    fields=("defer_date",),
    message="defer_date: <YYYY-MM-DD> is after today (<today>, UTC): Register would defer the trainee at once and "
    "tell TRS, and the API cannot undo it; sync holds the deferral back and sends it by the first sync on or after "
    "<YYYY-MM-DD>",
    source="register-api.md §3.4 and §3.10 (no check of defer_date but its form), §2.8 (the trainee is deferred at "
    "once and TRS is told), §2.12 (no reinstate endpoint)",
    fix=_AHEAD_FIX.format(noun="deferral"),
    severity=Severity.WARNING,
    api=False,
)
def defer_date_is_not_after_today(deferral: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """Register takes a deferral dated ahead and defers the trainee the day it is sent (review211 F1): an agreed
    intermission next term would take the trainee out of training, in Register and at TRS, now. A deferral dated
    after the record's withdrawal is never sent: defer_date_after_withdrawal's."""
    value = deferral.get("defer_date")
    day = parse_date(value)  # another form is date_not_yyyy_mm_dd's error: never sent
    if day is None or day <= facts.as_of or _after_the_withdrawal(day, facts):
        return None
    return [_dated_ahead("defer_date", value, day, facts.as_of)]


def _after_the_withdrawal(day: date, facts: Facts) -> bool:
    left = facts.withdrawal_on
    return left is not None and left < day


@rule(
    "defer_date_after_withdrawal",
    scope="deferral",
    fields=("defer_date",),
    message="defer_date: <YYYY-MM-DD> is after today (<today>, UTC), and the record's withdrawal is dated "
    "<YYYY-MM-DD>, before it: sync sends the withdrawal (on or after its date) and never the deferral, as Register "
    "cannot defer a withdrawn trainee / defer_date: <YYYY-MM-DD>: the record's withdrawal is dated <YYYY-MM-DD>, "
    "before it: (the same)",
    source="register-api.md §2.7 (withdraw), §2.8 (only a trainee submitted for a TRN or with one can be deferred: "
    "not a withdrawn one)",
    fix="Correct the SRS: a trainee cannot be deferred after withdrawing. If the trainee left, remove the deferral "
    "(or date it before the withdrawal, if they were deferred first); if they were deferred and have not left, "
    "remove the withdrawal. Until then sync sends the withdrawal alone, on or after its date.",
    severity=Severity.WARNING,
    api=False,
)
def defer_date_is_not_after_the_withdrawal(deferral: dict[str, Any], facts: Facts) -> list[Finding] | None:
    """A deferral dated after the record's withdrawal is never sent, whether its date is ahead or both have passed
    (review214 F2, review220 F1: sync sends the withdrawal alone). Under its own code, not defer_date_in_future's:
    that one's fix, "nothing to do if the date is the one planned", and its name, misled for it (review222 F1)."""
    if facts.withdrawal_on is None:  # the usual case: a deferral alone
        return None
    value = deferral.get("defer_date")
    day = parse_date(value)  # another form is date_not_yyyy_mm_dd's error: never sent
    if day is None or not _after_the_withdrawal(day, facts):
        return None
    ahead = f" is after today ({facts.as_of.isoformat()}, UTC), and" if day > facts.as_of else ":"
    return [
        (
            "defer_date",
            value,
            f"defer_date: {day.isoformat()}{ahead} the record's withdrawal is dated {facts.withdrawal_on.isoformat()}, "
            "before it: sync sends the withdrawal (on or after its date) and never the deferral, as Register cannot "
            "defer a withdrawn trainee",
        )
    ]
