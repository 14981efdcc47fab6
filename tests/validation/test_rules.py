"""One test per rule: a valid trainee with exactly one defect gets exactly that issue, on that field.

Messages are checked against the Register API's own wording (register-api.md §3, §7.2).
"""

from __future__ import annotations

import copy
import re

import pytest

from register_batch.mapping.apply import SEND_ANYWAY
from register_batch.model import SourceRef
from register_batch.validation import CATALOGUE
from register_batch.validation.catalogue import describe
from register_batch.validation.rules import inclusion_message
from valid_trainee import AS_OF, VALID, validated, with_changes, withdrawal_for_another_reason


def check(data: dict, *, withdrawal: dict | None = None, deferral: dict | None = None) -> list[tuple[str, str, str]]:
    record = validated(data, withdrawal=withdrawal, deferral=deferral)
    return [(i.field, i.code, i.message) for i in record.issues]


def started_in(year: int, **changes) -> dict:
    """VALID starting on 1 September of `year` (trainee_start_date too) and ending the next July, with `changes`."""
    dates = {
        "itt_start_date": f"{year}-09-01",
        "trainee_start_date": f"{year}-09-01",
        "itt_end_date": f"{year + 1}-07-31",
    }
    return with_changes(**{**dates, **changes})


def degree(**changes) -> dict:
    data = copy.deepcopy(VALID)
    for key, value in changes.items():
        if value is None:
            data["degrees_attributes"][0].pop(key, None)
        else:
            data["degrees_attributes"][0][key] = value
    return data


def test_the_valid_trainee_has_no_issues():
    assert check(copy.deepcopy(VALID)) == []


CASES = [
    # (id, data, expected field, expected code, expected message)
    ("first_names blank", with_changes(first_names=None), "first_names", "required", "first_names can't be blank"),
    ("email blank", with_changes(email=None), "email", "required", "email can't be blank"),
    ("course_year blank", with_changes(course_year=None), "course_year", "required", "course_year can't be blank"),
    (
        "last_name too long",
        with_changes(last_name="x" * 61),
        "last_name",
        "too_long",
        "last_name is too long (maximum is 60 characters)",
    ),
    (
        "provider id too long",
        with_changes(provider_trainee_id="9" * 51),
        "provider_trainee_id",
        "too_long",
        "provider_trainee_id is too long (maximum is 50 characters)",
    ),
    (
        "application_id too long",
        with_changes(application_id="12345678"),
        "application_id",
        "too_long",
        "application_id is too long (maximum is 7 characters)",
    ),
    (
        "hesa_id 12 digits",
        with_changes(hesa_id="310261553101"),
        "hesa_id",
        "hesa_id_length",
        "hesa_id must be 13 or 17 characters",
    ),
    (
        "bad email",
        with_changes(email="dave.george@example"),
        "email",
        "invalid_email",
        "email Enter an email address in the correct format, like name@example.com",
    ),
    (
        "application_id with a letter (review68 F2: Register keeps an integer)",
        with_changes(application_id="A1234"),
        "application_id",
        "application_id_not_integer",
        "application_id is not a whole number: Register keeps Apply's application choice id as a number",
    ),
    (
        "course_year text",
        with_changes(course_year="first"),
        "course_year",
        "course_year_not_integer",
        "course_year is not a valid course year",
    ),
    (
        "sex 7",
        with_changes(sex="7"),
        "sex",
        "invalid_code",
        "sex has invalid reference data value of '7'. Valid values are '10', '11', '12', '96', '99'.",
    ),
    (
        "funding_method X",
        with_changes(funding_method="X"),
        "funding_method",
        "invalid_code",
        "funding_method has invalid reference data value of 'X'. Valid values are '4', '6', '7', '8', '9', 'B', "
        "'C', 'D', 'E'.",
    ),
    (
        "nationality AA",
        with_changes(nationality="ZX"),
        "nationality",
        "invalid_code",
        "nationality has invalid reference data value of 'ZX'. Example values include 'AD', 'AE', 'AF', 'AG', "
        "'AI', 'AL', 'AM', 'AO', 'AR', 'AT'...",
    ),
    (
        "unknown disability",
        with_changes(disability2="08"),
        "disability2",
        "unknown_disability",
        "disability2: '08' is not a Register disability code; Register would drop it without telling you",
    ),
    (
        "a disability twice",
        with_changes(disability1="57", disability2="57"),
        "disability2",
        "duplicate_disabilities",
        "disabilities contain duplicate values",
    ),
    (
        "dob not a date",  # 13/08/1990 gets a spreadsheet_date hint as well: test_spreadsheet_values.py
        with_changes(date_of_birth="13 August 1990"),
        "date_of_birth",
        "invalid_date",
        "date_of_birth is invalid",
    ),
    (
        "dob over 100 years",
        with_changes(date_of_birth="1920-01-01"),
        "date_of_birth",
        "date_of_birth_too_old",
        "date_of_birth is invalid",
    ),
    (
        "dob in future",
        with_changes(date_of_birth="2027-01-01"),
        "date_of_birth",
        "date_of_birth_in_future",
        "date_of_birth must be in the past",
    ),
    (
        "dob under 16",
        with_changes(date_of_birth="2012-01-01"),
        "date_of_birth",
        "date_of_birth_under_16",
        "date_of_birth cannot be less than 16 years ago",
    ),
    (
        "pg apprenticeship date",
        with_changes(pg_apprenticeship_start_date="2025-13-01"),
        "pg_apprenticeship_start_date",
        "unchecked_date_invalid",
        "pg_apprenticeship_start_date is invalid",
    ),
    (
        "itt_end before start",
        with_changes(itt_end_date="2025-08-01"),
        "itt_end_date",
        "itt_end_date_before_start",
        "itt_end_date must be after itt_start_date",
    ),
    (
        "itt_end too far",
        with_changes(itt_end_date="2032-07-31"),
        "itt_end_date",
        "itt_end_date_too_far",
        "itt_end_date must be within the next 5 years",
    ),
    (
        "trainee start in future",
        with_changes(trainee_start_date="2026-12-15"),
        "trainee_start_date",
        "trainee_start_date_in_future",
        "trainee_start_date must be in the past",
    ),
    (
        "R1 no qualification aim",
        with_changes(itt_qualification_aim=None),
        "itt_qualification_aim",
        "qualification_aim_required",
        "itt_qualification_aim must be entered if 202 selected for itt_aim",
    ),
    (
        "R2 primary subject",
        with_changes(course_age_range="13914"),
        "course_subject_1",
        "primary_subject_required",
        "course_subject_1 is invalid. It should be `100511` for the course_age_range provided",
    ),
    (
        "R4 13920 on a non-EY route",
        with_changes(course_age_range="13920"),
        "course_age_range",
        "age_range_reserved_for_early_years",
        "course_age_range is invalid. It can only be used for early years training routes",
    ),
    (
        "R5 subject 2 repeats",
        with_changes(course_subject_2="100346"),
        "course_subject_2",
        "duplicate_course_subject",
        "course_subject_2 might contain duplicate values",
    ),
    ("R6 study mode", with_changes(study_mode=None), "study_mode", "study_mode_required", "study_mode can't be blank"),
    (
        "R7a postgrad without degree",
        with_changes(degrees_attributes=None),
        "degrees_attributes",
        "degree_required",
        "degrees_attributes must be entered if specifying a postgraduate training_route",
    ),
    (
        "R8 iqts_country on another route",
        with_changes(iqts_country="BO"),
        "iqts_country",
        "iqts_country_not_allowed",
        "iqts_country must be blank",
    ),
    (
        "R8 iQTS without country",
        with_changes(training_route="15"),
        "iqts_country",
        "iqts_country_required",
        "iqts_country can't be blank",
    ),
    (
        "R8 iQTS bad country",
        with_changes(training_route="15", iqts_country="QQ"),
        "iqts_country",
        "invalid_iqts_country",
        "iqts_country has invalid reference data value of 'QQ'. Example values include 'AD', 'AE', 'AF', 'AG', 'AI', "
        "'AL', 'AM', 'AO', 'AR', 'AS'...",
    ),  # register-api.md §3.3 R8 ends the list with 'AS'
    (
        "R9 route 12 before 2022",
        with_changes(itt_start_date="2021-09-01", trainee_start_date="2021-09-01", itt_end_date="2022-07-31"),
        "training_route",
        "invalid_training_route",
        # The example list is every year's, 12 included (`hesa_codes`, no year; §3.3 R9; review105 F3).
        "training_route has invalid reference data value of '12'. Example values include '03', '09', '10', '11', "
        "'12', '14', '15', '16', '17', '18'...",
    ),
    (
        "R10 fund code 7 on an unfunded route",
        with_changes(training_route="16", fund_code="7", study_mode=None),
        "fund_code",
        "fund_code_not_valid",
        "fund_code is not valid for this trainee",
    ),
    (
        "R11 bursary without eligibility",
        with_changes(funding_method="D"),
        "funding_method",
        "funding_method_not_eligible",
        "funding_method 'bursary' is not allowed when fund_code is '2' and course_subject_1 is 'biology'",
    ),
    (
        "R11 no bursary for psychology",
        with_changes(fund_code="7", funding_method="D", course_subject_1="100497"),
        "funding_method",
        "funding_method_not_available",
        "funding_method 'bursary' is not allowed when training_route is 'provider_led_postgrad' and course_subject_1 "
        "is 'psychology' in academic cycle '2025 to 2026'",
    ),
    (
        "R12 initiative not in cycle",
        with_changes(training_initiative="025"),
        "training_initiative",
        "initiative_not_available",
        "training_initiative 'transition_to_teach' is not available in academic cycle '2025 to 2026'",
    ),
    (
        "R13 additional initiative",
        with_changes(additional_training_initiative="009"),
        "additional_training_initiative",
        "additional_initiative_not_available",
        "additional_training_initiative 'maths_physics_chairs_programme_researchers_in_schools' is not available in "
        "academic cycle '2025 to 2026'",
    ),
    (
        "R19 initiative replaced",
        with_changes(
            training_initiative="026",
            funding_method="C",
            training_route="11",
            fund_code="7",
            course_subject_1="100403",
            degrees_attributes=None,
        ),
        "training_initiative",
        "initiative_replaced_by_funding_method",
        "training_initiative '026' would be replaced by the veterans teaching undergraduate bursary because "
        "funding_method is C",
    ),
    (
        "R15 partner URN form",
        with_changes(training_partner_urn="12345"),
        "training_partner_urn",
        "training_partner_urn_invalid",
        "training_partner_urn is invalid. The URN '12345' does not match any known training partners",
    ),
    (
        "R17 school URN form",
        with_changes(employing_school_urn="ABC123"),
        "employing_school_urn",
        "employing_school_urn_invalid",
        "employing_school_id is invalid. The URN 'ABC123' does not match any known schools",
    ),
    (
        "degree subject unknown",
        degree(subject="000000"),
        "degrees_attributes[0].subject",
        "degree_subject_required",
        "subject must be entered if specifying a previous UK degree or non-UK degree",
    ),
    (
        "degree grade missing",
        degree(grade=None),
        "degrees_attributes[0].grade",
        "degree_grade_required",
        "grade must be entered if specifying a previous UK degree or non-UK degree",
    ),
    (
        "degree year missing",
        degree(graduation_year=None),
        "degrees_attributes[0].graduation_year",
        "degree_graduation_year_required",
        "graduation_year must be entered if specifying a previous UK degree or non-UK degree",
    ),
    (
        "degree year too old",
        degree(graduation_year="1950"),
        "degrees_attributes[0].graduation_year",
        "degree_graduation_year_invalid",
        "graduation_year is invalid",
    ),
    (
        "UK degree without type",
        degree(uk_degree=None),
        "degrees_attributes[0].uk_degree",
        "uk_degree_required",
        "uk_degree must be entered if specifying a previous UK degree",
    ),
    (
        "non-UK degree without type",
        degree(uk_degree=None, institution=None, country="FR"),
        "degrees_attributes[0].non_uk_degree",
        "non_uk_degree_required",
        "non_uk_degree must be entered if specifying a previous non-UK degree",
    ),
    (
        "degree type unknown",
        degree(uk_degree="004"),
        "degrees_attributes[0].uk_degree",
        "invalid_degree_code",
        "uk_degree has invalid reference data value of '004'. Example values include '001', '002', '003', '005', "
        "'007', '009', '010', '012', '013', '014'...",
    ),
    (
        "unknown institution",
        degree(institution="0327"),
        "degrees_attributes[0].institution",
        "unknown_institution",
        "institution: '0327' is not a Register institution code; Register would record 'Other UK institution' "
        "without telling you",
    ),
    (
        "a UK institution's degree with a country outside the UK (review64 F4: Register keeps no country for it)",
        degree(institution="0117", country="FR"),
        "degrees_attributes[0].country",
        "degree_country_not_kept",
        "country: 'FR' is not kept: the degree has an awarding institution (0117), so Register takes it for a UK "
        "degree and keeps no country",
    ),
    (
        "a UK degree with a non-UK type that is not a code (review113 F2: Register does not check it there)",
        degree(non_uk_degree="Bachelor of Arts"),
        "degrees_attributes[0].non_uk_degree",
        "degree_type_not_kept",
        "non_uk_degree: 'Bachelor of Arts' is not kept: it is not a degree type code, and on a UK degree Register "
        "checks only uk_degree, so it takes the trainee and gives non_uk_degree back blank",
    ),
    (
        "non-UK degree with an unknown grade",
        degree(uk_degree=None, institution=None, country="FR", non_uk_degree="083", grade="77"),
        "degrees_attributes[0].grade",
        "unknown_degree_grade",
        "grade: '77' is not a Register degree grade; Register would drop it without telling you",
    ),
    (
        "placement URN",
        with_changes(placements_attributes=[{"urn": "12345", "name": "Placement 1"}]),
        "placements_attributes[0].urn",
        "placement_urn_invalid",
        "placements_attributes urn is invalid",
    ),
    (
        "placement without name or URN",
        with_changes(placements_attributes=[{"postcode": "BN1 1AA"}]),
        "placements_attributes[0].name",
        "placement_name_required",
        "placements_attributes name can't be blank",
    ),
    (
        "placement postcode",
        with_changes(placements_attributes=[{"urn": "900020", "name": "P", "postcode": "XYZ"}]),
        "placements_attributes[0].postcode",
        "placement_postcode_invalid",
        "placements_attributes postcode Enter a valid postcode (for example, BN1 1AA)",
    ),
    (
        "last name with an underscore (an SRS's apostrophe)",
        with_changes(last_name="O_Neil"),
        "last_name",
        "last_name_wildcard",
        "last_name 'O_Neil' has '%' or '_', which Register's duplicate check reads as a wildcard (any letters, any one "
        "letter): Register would refuse this trainee with 409 (already in Register) if it holds a trainee of the same "
        "date of birth, route and start cycle, and first name or email, whose last name fits it (one this file "
        "creates first, too)",
    ),
    (
        "last name with a backslash (an SRS's escaped apostrophe)",
        with_changes(last_name="O\\'Neil"),
        "last_name",
        "last_name_backslash",
        "last_name 'O\\'Neil' has '\\', which Register's duplicate check reads as an escape (the next letter as "
        "written, the backslash dropped): the name does not fit itself there, so Register would not refuse this "
        "trainee's create sent a second time, and would refuse it with 409 (already in Register) if it holds a "
        "trainee of the same date of birth, route and start cycle, and first name or email, whose last name is the "
        "one read so (O'Neil for O\\'Neil)",
    ),
]


@pytest.mark.parametrize(
    "name,warned", [("O\\_Neil", False), ("A\\_B\\%", False), ("O\\\\_Neil", True), ("Lee%", True)]
)
def test_a_last_name_whose_percent_or_underscore_is_escaped_is_no_wildcard(name, warned):
    """§4: ILIKE's escape character is the backslash, so `O\\_Neil` matches only `O_Neil` (as the emulator has it),
    and is said as a backslash, not a wildcard (review139 F1); an escaped backslash escapes nothing after it."""
    codes = [code for _field, code, _message in check(with_changes(last_name=name))]
    assert codes == (["last_name_wildcard"] if warned else []) + ["last_name_backslash"] * ("\\" in name)


@pytest.mark.parametrize("name,ending", [("Lee\\", True), ("Lee\\\\", False), ("Lee\\\\\\", True), ("O\\'Neil", False)])
def test_a_last_name_ending_in_a_lone_backslash_is_said_to_fail_registers_check(name, ending):
    """PostgreSQL raises on a LIKE pattern ending in its escape character: Register answers 500 (review139 F1). An
    escaped backslash at the end (`Lee\\\\`) is a letter."""
    [(_field, code, message)] = check(with_changes(last_name=name))
    assert code == "last_name_backslash"
    assert ("Register answers 500" in message) is ending


@pytest.mark.parametrize("case_id,data,field,code,message", CASES, ids=[c[0] for c in CASES])
def test_each_defect_gives_exactly_its_issue(case_id, data, field, code, message):
    assert check(data) == [(field, code, message)]


def test_each_required_field_left_out_is_reported_with_no_value_quoted():
    """issues.csv's value column is empty for a field the record does not have: there is no value to show."""
    data = with_changes(first_names=None)
    del data["sex"]
    assert [(i.field, i.code, i.value) for i in validated(data).issues] == [
        ("first_names", "required", None),
        ("sex", "required", None),
    ]


def test_early_years_rules():
    early = with_changes(training_route="19", course_subject_1="100346", course_age_range="13918")
    found = {(f, c) for f, c, _m in check(early)}
    assert found == {
        ("course_subject_1", "early_years_subject_required"),
        ("course_age_range", "early_years_age_range_required"),
    }
    assert check(with_changes(training_route="19", course_subject_1="100510", course_age_range="13920")) == []


def test_assessment_only_needs_no_study_mode():
    assert check(with_changes(training_route="16", study_mode=None)) == []


@pytest.mark.parametrize(
    "codes", [("98", "99"), ("98", "98"), ("95", "95"), ("95", "57", "95")], ids=["98+99", "98+98", "95+95", "95+57+95"]
)
def test_not_provided_and_no_known_disability_are_no_disabilities_to_repeat(codes):
    """Register's R14 checks the trainee's Disability records, and "No known disability" (95) and "Not provided" (98,
    99) have none (Diversities::SEED_DISABILITIES; has_diversity_attributes.rb drops them with `.compact`): it takes
    these pairs, which validate refused, keeping the trainee out of Register."""
    changes = {f"disability{n}": code for n, code in enumerate(codes, start=1)}
    assert check(with_changes(**changes)) == []


def test_duplicate_degrees():
    twice = with_changes(degrees_attributes=[VALID["degrees_attributes"][0], dict(VALID["degrees_attributes"][0])])
    assert check(twice) == [
        ("degrees_attributes", "duplicate_degrees", "degrees_attributes contains duplicate degrees")
    ]


@pytest.mark.parametrize(
    "second",
    [
        {"grade": "09"},  # 09 is stored as 14 (Pass): the same degree (§3.7)
        {"country": "FR"},  # an institution makes it a UK degree, whose country is stored as null (§3.7)
        {"country": "XF"},  # England: a UK code, also stored as null
    ],
    ids=["grade 09 and 14", "UK degree with a foreign country", "UK degree with a UK country"],
)
def test_duplicate_degrees_are_compared_after_registers_mapping(second):
    first = dict(VALID["degrees_attributes"][0], grade="14")
    twice = with_changes(degrees_attributes=[first, {**first, **second}])
    assert ("degrees_attributes", "duplicate_degrees") in {(f, c) for f, c, _m in check(twice)}


def test_degrees_differing_after_registers_mapping_are_not_duplicates():
    first = dict(VALID["degrees_attributes"][0], grade="14")
    other = {**first, "grade": "13"}
    assert "duplicate_degrees" not in {c for _f, c, _m in check(with_changes(degrees_attributes=[first, other]))}


def test_a_placement_urn_with_a_trailing_newline_is_invalid():
    # Register's /\A[0-9]{6}\z/ (§3.8); Python's `$` would let "123456\n" through.
    data = with_changes(placements_attributes=[{"urn": "123456\n", "name": "P"}, {"urn": "900020", "name": "Q"}])
    found = check(data)
    assert ("placements_attributes[0].urn", "placement_urn_invalid", "placements_attributes urn is invalid") in found


@pytest.mark.parametrize("char", "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
@pytest.mark.parametrize("field", ["first_names", "last_name", "provider_trainee_id"])
def test_a_bidirectional_override_or_isolate_in_a_name_or_id_is_an_error(field, char):
    """review162 F6: `Brown\u202eZ` and `\u202e54988372/1/26` passed and were sent. Where Register shows the value, an
    override reverses the text after it, and the id as typed does not find the trainee."""
    value = f"{VALID[field]}{char}Z" if field != "provider_trainee_id" else f"{char}{VALID[field]}"
    found = [f for f in check(with_changes(**{field: value})) if f[1] == "control_character"]
    assert found == [
        (
            field,
            "control_character",
            f"{field} contains a bidirectional override or isolate (U+{ord(char):04X}), which reorders the text "
            "shown after it: Register would store it as it is",
        )
    ]


@pytest.mark.parametrize(
    "changes,field,message",
    [
        ({"first_names": "Anna\n  Maria"}, "first_names", "first_names contains a line break"),
        ({"last_name": "Lee\x00"}, "last_name", "last_name contains a control character (U+0000)"),
        ({"email": "a@b.uk\x0b"}, "email", "email contains a control character (U+000B)"),
        (
            {"placements_attributes": [{"urn": "900020", "name": "Hill\tTop"}]},
            "placements_attributes[0].name",
            "placements_attributes[0].name contains a control character (U+0009)",
        ),
    ],
    ids=["line break", "NUL", "vertical tab", "tab in a placement"],
)
def test_a_control_character_in_a_value_is_an_error(changes, field, message):
    found = [f for f in check(with_changes(**changes)) if f[1] == "control_character"]
    assert found == [(field, "control_character", f"{message}: Register would store it as it is")]


@pytest.mark.parametrize(
    "changes,field,message",
    [
        (
            {"hesa_id": '="2601200000017"'},
            "hesa_id",
            "hesa_id: '=\"2601200000017\"' starts with '=', as a spreadsheet formula does (Excel's =\"…\" form of "
            "'2601200000017')",
        ),
        ({"last_name": "=Hughes"}, "last_name", "last_name: '=Hughes' starts with '=', as a spreadsheet formula does"),
        (
            {"degrees_attributes": [{**with_changes()["degrees_attributes"][0], "grade": '="02"'}]},
            "degrees_attributes[0].grade",
            "degrees_attributes[0].grade: '=\"02\"' starts with '=', as a spreadsheet formula does (Excel's =\"…\" "
            "form of '02')",
        ),
    ],
    ids=["Excel's text form of a HUSID", "a surname", "a degree's grade"],
)
def test_a_value_starting_with_an_equals_sign_is_a_spreadsheet_formula_and_an_error(changes, field, message):
    """review76 F5: Excel's `="…"` keeps a code's leading zero on screen and is written to a CSV as the formula; the
    HUSID was called a typing mistake, and `=Hughes` passed, to be stored so by Register (hesa-formats.md §3.3)."""
    found = [f for f in check(with_changes(**changes)) if f[1] == "spreadsheet_formula"]
    assert found == [(field, "spreadsheet_formula", f"{message}: the file holds the formula, not the value it shows")]


def test_a_withdrawals_and_a_deferrals_free_text_is_checked_for_formulas_and_control_characters():
    """review77 F1: the two text rules looked at the record and its degrees and placements only, so a formula or a BEL
    in another_reason or defer_reason validated clean and was sent to Register, which stores text as it is."""
    withdrawal = withdrawal_for_another_reason('=HYPERLINK("http://evil.example","Moved")')
    found = check(copy.deepcopy(VALID), withdrawal=withdrawal)
    assert [(f, c) for f, c, _m in found] == [("withdrawal_another_reason", "spreadsheet_formula")]
    assert found[0][2].startswith("withdrawal_another_reason: '=HYPERLINK(")
    found = check(copy.deepcopy(VALID), withdrawal=dict(withdrawal, another_reason="Moved\x07 away"))
    assert found == [
        (
            "withdrawal_another_reason",
            "control_character",
            "withdrawal_another_reason contains a control character (U+0007): Register would store it as it is",
        )
    ]
    found = check(copy.deepcopy(VALID), deferral={"defer_date": "2026-02-01", "defer_reason": "=1+1"})
    assert [(f, c) for f, c, _m in found] == [("defer_reason", "spreadsheet_formula")]


def test_a_formula_husid_is_not_also_called_a_typing_mistake():
    """review77 F4: `hesa_id_not_digits` said "other characters (first: '=')", whose fix is a typing mistake."""
    codes = {c for f, c, _m in check(with_changes(hesa_id='="2601200000017"')) if f == "hesa_id"}
    assert codes == {"spreadsheet_formula", "hesa_id_length"}


def test_an_equals_sign_inside_a_value_is_no_formula():
    assert [f for f in check(with_changes(last_name="Hughes=Jones")) if f[1] == "spreadsheet_formula"] == []


def test_an_escape_of_the_hesa_xml_export_is_a_control_character_and_the_catalogue_says_so():
    """Read back, the export's `\\x0b` is the character it stands for: an error, whose fix is in Register (the value
    came from there), not in a value to write on one line. docs/rules.md, made from the catalogue, says both."""
    found = [f for f in check(with_changes(last_name="Lee\\x0b")) if f[1] == "control_character"]
    assert [(field, message.partition(":")[0]) for field, _code, message in found] == [
        (
            "last_name",
            "last_name contains a control character (U+000B) written as '\\x0b', as the HESA XML export writes one "
            "XML cannot carry",
        )
    ]
    rule = CATALOGUE["control_character"]
    assert "written as" in rule.message and "HESA XML export" in rule.fix


@pytest.mark.parametrize(
    "changes,field,said",
    [
        ({"first_names": "JosÃ©"}, "first_names", "José"),
        ({"last_name": "Oâ€™Brien"}, "last_name", "O’Brien"),
        ({"last_name": "WiÅ›niewski"}, "last_name", "Wiśniewski"),
        ({"first_names": "Å\x81ukasz"}, "first_names", "Łukasz"),  # 0x81, undefined in Windows-1252, read as Latin-1
        (
            {"placements_attributes": [{"urn": "900020", "name": "Ysgol Gynradd GymrÃ¦g"}]},
            "placements_attributes[0].name",
            "Ysgol Gynradd Gymræg",
        ),
    ],
    ids=["é", "curly quote", "ś", "Ł", "in a placement"],
)
def test_utf8_text_read_as_windows_1252_is_garbled_text(changes, field, said):
    [issue] = [i for i in validated(with_changes(**changes)).issues if i.code == "garbled_text"]
    assert (issue.field, issue.severity.value) == (field, "error")
    assert issue.message == (
        f"{field} reads as UTF-8 text read as Windows-1252 ({issue.value!r} for {said!r}): Register would store it "
        "garbled"
    )


@pytest.mark.parametrize(
    "name",
    # Ñ Ò Ó Ô Õ Ö are C3 91-96: garbled, Ã then a curly quote or dash (review28 found them let through); Vietnamese ư
    # and ơ, Azerbaijani ə, beyond Latin Extended-A
    ["MUÑOZ", "LÓPEZ", "SCHRÖDER", "Ó BRIAIN", "Trương", "HƯƠNG", "Nguyễn Thị Thu Hương", "Məmmədov", "MÜLLER"],
)
def test_garbled_names_of_many_languages_are_garbled_text(name):
    garbled = name.encode("utf-8").decode("cp1252")
    [issue] = [i for i in validated(with_changes(last_name=garbled)).issues if i.code == "garbled_text"]
    assert issue.message.endswith(f"({garbled!r} for {name!r}): Register would store it garbled")


@pytest.mark.parametrize(
    "name",
    [
        *("José", "João", "Zoë", "Łukasz", "Erdős", "Nguyễn", "Şükrü Öztürk", "Ã"),
        # An accented letter then a dash, a curly quote or a no-break space makes a UTF-8 pair by chance: KOÇ–YILMAZ
        # would say KOǖYILMAZ, HEIKKILÄ–NIEMI HEIKKILĖNIEMI (review27 found these refused)
        *("RENÉ–SMITH", "MÄKELÄ–SMITH", "NOËL ’T HART", "KOÇ–YILMAZ", "GENÇ–ARSLAN", "HEIKKILÄ–NIEMI"),
        *("KOÇ\u00a0YILMAZ", "ANDRÈ–ROSSI", "ÅSA—LUND", "DÍAZ“ÑOÑO”", "HEIKKILÄ\u00adNIEMI", "CONCEIÇÃO–SILVA"),
        # a three-byte character by chance, of an accented letter and two punctuation marks; no letter at all
        *("José\u00a0\u00a0Smith", "Chloé\u00a0–Smith", "Î€"),
    ],
)
def test_genuine_accented_names_are_not_garbled_text(name):
    assert "garbled_text" not in {c for _f, c, _m in check(with_changes(last_name=name))}


def test_itt_end_date_within_last_10_years():
    old = with_changes(itt_start_date="2015-09-01", itt_end_date="2016-07-31", trainee_start_date=None)
    codes = {c for _f, c, _m in check(old)}
    assert "itt_end_date_too_old" in codes


def test_itt_start_date_more_than_a_year_ahead():
    ahead = with_changes(itt_start_date="2028-09-01", itt_end_date="2029-07-31", trainee_start_date=None)
    assert (
        "itt_start_date",
        "itt_start_date_too_far",
        "itt_start_date must not be more than one year in the future",
    ) in check(ahead)


def test_trainee_start_date_too_old():
    old = with_changes(trainee_start_date="2016-09-01")
    assert (
        "trainee_start_date",
        "trainee_start_date_too_old",
        "trainee_start_date Cannot be more than 10 years in the past",
    ) in check(old)


def test_a_blank_trainee_start_date_is_the_itt_start_date_to_the_10_year_rule():
    """register-api.md §3.4: Register sets a blank trainee_start_date to itt_start_date, then checks it. Such a
    record passed here and was refused by Register (422) when synced."""
    old = with_changes(itt_start_date="2016-09-01", itt_end_date="2017-07-31", trainee_start_date=None)
    record = validated(old)
    [found] = [i for i in record.issues if i.code == "trainee_start_date_too_old"]
    assert (found.field, found.value, found.message) == (
        "trainee_start_date",
        "2016-09-01",
        "trainee_start_date Cannot be more than 10 years in the past",
    )
    recent = with_changes(itt_start_date="2017-09-01", itt_end_date="2018-07-31", trainee_start_date=None)
    assert "trainee_start_date_too_old" not in {c for _f, c, _m in check(recent)}


def test_graduation_year_in_future_gives_both_api_messages():
    found = check(degree(graduation_year="2030"))
    assert [c for _f, c, _m in found] == ["degree_graduation_year_in_future", "degree_graduation_year_invalid"]


def test_funding_with_eligible_fund_code_and_funded_subject_is_valid():
    # 2025/26: provider-led postgrad bursary for biology (26,000 band), scholarship for physics.
    assert check(with_changes(fund_code="7", funding_method="D")) == []
    assert check(with_changes(fund_code="7", funding_method="4", course_subject_1="100425")) == []


def test_fund_code_exception_subjects_in_2025_and_2026():
    # FundCodeException: physics and languages may claim funding with fund code 2 in 2025 and 2026.
    assert check(with_changes(fund_code="2", funding_method="D", course_subject_1="100425")) == []


def test_funding_rules_of_unbundled_cycles_are_a_warning_not_a_guess():
    data = with_changes(
        itt_start_date="2024-09-01",
        trainee_start_date="2024-09-01",
        itt_end_date="2025-07-31",
        fund_code="7",
        funding_method="D",
    )
    assert [(f, c) for f, c, _m in check(data)] == [("funding_method", "funding_rules_not_bundled")]


@pytest.mark.parametrize("year", [2024, 2027])
def test_funding_without_an_eligible_fund_code_is_refused_in_every_cycle(year):
    """R11's :not_eligible_fund_code branch needs no funding table (§3.5.2): a bursary with fund code 2 for a
    subject outside FundCodeException is refused in a cycle whose table is not bundled too."""
    data = started_in(year, fund_code="2", funding_method="D")
    assert [(f, c, m) for f, c, m in check(data)] == [
        (
            "funding_method",
            "funding_method_not_eligible",
            "funding_method 'bursary' is not allowed when fund_code is '2' and course_subject_1 is 'biology'",
        )
    ]


def test_withdrawal_rules():
    good = {
        "withdrawal_date": "2026-01-15",
        "reasons": ["did_not_make_progress"],
        "trigger": "trainee",
        "future_interest": "no",
    }
    assert check(copy.deepcopy(VALID), withdrawal=good) == []
    bad = {
        "withdrawal_date": "2025-01-15",
        "reasons": ["record_added_in_error"],
        "trigger": "trainee",
        "future_interest": "maybe",
    }
    assert {(f, c) for f, c, _m in check(copy.deepcopy(VALID), withdrawal=bad)} == {
        ("withdrawal_date", "withdrawal_date_invalid"),
        ("withdrawal_reasons", "withdrawal_reasons_invalid"),
        ("withdrawal_future_interest", "withdrawal_future_interest_invalid"),
    }
    for odd in ("2026-01-15\n", "20260115"):  # a date is YYYY-MM-DD (hesa-formats.md §1.4), optionally a time
        # DateTime.iso8601 reads both as the day (§3.9): ours to refuse, not Register's (review78 F2)
        found = {(f, c) for f, c, _m in check(copy.deepcopy(VALID), withdrawal=dict(good, withdrawal_date=odd))}
        assert ("withdrawal_date", "date_not_yyyy_mm_dd") in found, repr(odd)
        assert ("withdrawal_date", "withdrawal_date_invalid") not in found, repr(odd)
    found = check(copy.deepcopy(VALID), withdrawal=dict(good, withdrawal_date="2026-01-15 9am"))
    assert ("withdrawal_date", "withdrawal_date_invalid") in {(f, c) for f, c, _m in found}
    # A time after the date is not YYYY-MM-DD either, as for a defer_date (review211 F2).
    assert check(copy.deepcopy(VALID), withdrawal=dict(good, withdrawal_date="2026-01-15T09:00:00Z")) == [
        (
            "withdrawal_date",
            "date_not_yyyy_mm_dd",
            "withdrawal_date: write the date as YYYY-MM-DD: '2026-01-15T09:00:00Z' is a date and a time, 2026-01-15 "
            "in UTC and in UK time, which Register would read as 2026-01-15. Export the date alone, not converted to "
            "UTC",
        )
    ]
    other = dict(good, trigger="provider", reasons=["had_to_withdraw_trainee_another_reason"])
    assert check(copy.deepcopy(VALID), withdrawal=other) == [
        ("withdrawal_another_reason", "withdrawal_details_required", "another_reason Enter another reason")
    ]


# The same days in the other ISO 8601 forms: basic, week date, ordinal (1990-08-13 is 1990-W33-1 and day 225;
# 2025-09-01 is 2025-W36-1; 2026-07-31 is 2026-W31-5), and an ISO date-time.
OTHER_ISO_FORMS = [
    ("date_of_birth", "19900813"),
    ("date_of_birth", "1990-W33-1"),
    ("date_of_birth", "1990W331"),
    ("date_of_birth", "1990-225"),
    ("date_of_birth", "1990-08-13T00:00:00"),
    ("itt_start_date", "20250901"),
    ("itt_start_date", "2025-W36-1"),
    ("itt_end_date", "20260731"),
    ("itt_end_date", "2026-W31-5"),
    ("trainee_start_date", "20250901"),
    ("trainee_start_date", "2025-W36"),
]


@pytest.mark.parametrize("field,value", OTHER_ISO_FORMS)
def test_dates_in_other_iso_8601_forms_are_refused(field, value):
    """hesa-formats.md §1.4 and §5 item 30: dates are `YYYY-MM-DD`. A form Ruby's Date.iso8601 reads is our own rule
    (date_not_yyyy_mm_dd: Register takes it and returns another form); one it does not is Register's (review57 F2)."""
    found = check(with_changes(**{field: value}))
    expected = "invalid_date" if value == "2025-W36" else "date_not_yyyy_mm_dd"
    assert field in {f for f, code, _m in found if code == expected}, found
    assert {code for _f, code, _m in found} <= {expected, "trainee_start_date_invalid"}, found


@pytest.mark.parametrize("value,day", [("20250901", "2026-09-01"), ("2025-W36-1", "2026-08-31")])
def test_unchecked_dates_in_other_iso_8601_forms_are_invalid_and_deferral_dates_asked_as_yyyy_mm_dd(value, day):
    """pg_apprenticeship_start_date is invalid in another form; defer_date is read with Date.iso8601 (§2.8), which
    takes it: our own rule asks for YYYY-MM-DD, not Register's "is invalid" (review78 F2)."""
    assert check(with_changes(pg_apprenticeship_start_date=value)) == [
        ("pg_apprenticeship_start_date", "unchecked_date_invalid", "pg_apprenticeship_start_date is invalid")
    ]
    deferred = value.replace("2025", "2026")
    assert check(copy.deepcopy(VALID), deferral={"defer_date": deferred}) == [
        (
            "defer_date",
            "date_not_yyyy_mm_dd",
            f"defer_date: write the date as YYYY-MM-DD ({day}): Register reads '{deferred}' as that day but returns "
            "it as YYYY-MM-DD, so the value sent would show as changed on every sync",
        )
    ]


def test_deferral_rules():
    assert check(copy.deepcopy(VALID), deferral={"defer_date": "2026-02-01"}) == []
    assert check(copy.deepcopy(VALID), deferral={"defer_date": "01/02/2026"}) == [
        ("defer_date", "defer_date_invalid", "defer_date is invalid"),
        (
            "defer_date",
            "spreadsheet_date",
            "defer_date: '01/02/2026' looks like a spreadsheet's day/month/year date: write the date as YYYY-MM-DD "
            "(2026-02-01, or 2026-01-02 if the month comes first)",
        ),
    ]
    assert check(copy.deepcopy(VALID), deferral={"defer_date": "2026-02-01", "defer_reason": "x" * 501}) == [
        ("defer_reason", "defer_reason_too_long", "defer_reason is too long (maximum is 500 characters)")
    ]


def test_full_blank_body_gives_the_apis_required_messages():
    # register-api.md §3.2: {"data":{"email":"Doe"}} returns these messages (emulator-relevant: api rules only).
    record = validated({"email": "Doe"}, source=SourceRef(input="request"), api_only=True)
    messages = {i.message for i in record.issues}
    expected = {
        "first_names can't be blank",
        "last_name can't be blank",
        "date_of_birth can't be blank",
        "sex can't be blank",
        "training_route can't be blank",
        "itt_start_date can't be blank",
        "itt_end_date can't be blank",
        "course_subject_1 can't be blank",
        "study_mode can't be blank",
        "hesa_id can't be blank",
        "email Enter an email address in the correct format, like name@example.com",
        "itt_aim can't be blank",
        "itt_qualification_aim must be entered if 202 selected for itt_aim",
        "course_year can't be blank",
        "course_age_range can't be blank",
        "fund_code can't be blank",
        "funding_method can't be blank",
    }
    assert messages == expected


def test_a_jacs_subject_code_is_named_as_such_beside_registers_own_error(hesa_samples, tmp_path):
    """hesa-formats.md §2.3.5 and §5 item 22: Register takes HECoS codes only, and a JACS code (a letter and three
    digits, as in pre-HECoS HESA data) needs a JACS to HECoS table. Register's own messages ("invalid reference data
    value", and for a degree "subject must be entered") do not say so; a warning beside each does. On the C23053
    sample, read as a file."""
    from register_batch.validation import Checker

    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    for old, new in (("<F_SBJCA1>100346<", "<F_SBJCA1>X100<"), ("<F_DEGSBJ1>100251<", "<F_DEGSBJ1>C800<")):
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = tmp_path / "jacs.xml"
    path.write_text(text)
    with Checker(as_of=AS_OF) as checker:
        [record] = checker.records([str(path)])
    found = {(i.field, i.code, i.severity.value) for i in record.issues}
    assert ("course_subject_1", "invalid_code", "error") in found
    assert ("degrees_attributes[0].subject", "degree_subject_required", "error") in found
    jacs = [i for i in record.issues if i.code == "jacs_subject_code"]
    assert [(i.field, i.value, i.severity.value) for i in jacs] == [
        ("course_subject_1", "X100", "warning"),
        ("degrees_attributes[0].subject", "C800", "warning"),
    ]
    assert "looks like a JACS subject code" in jacs[0].message and "HECoS" in jacs[0].message
    # The setting said for a library caller too, who has no --mapping (review182 F3).
    assert jacs[0].message.endswith("in a mapping file (--mapping, or `mapping_files` in a library call)")
    # A HECoS code, and a code that is neither, get no such warning.
    assert "jacs_subject_code" not in {c for _f, c, _m in check(with_changes(course_subject_1="X1000"))}
    assert "jacs_subject_code" not in {c for _f, c, _m in check(copy.deepcopy(VALID))}


def test_a_rule_names_a_translated_code_as_the_extract_has_it(hesa_samples, tmp_path):
    """dry-run.md: an issue's value is, for a translated code, the code as the extract has it, the one to look for in
    the SRS. The C21053 sample's age range 71 is translated to 13909, which an early years route refuses: the rule's
    error names 71, as the translation's warning does, while its message is Register's about the code sent."""
    from register_batch.validation import Checker

    text = (hesa_samples / "itt_record_C21053.xml").read_text()
    assert text.count("<F_ENTRYRTE>02<") == 1 and text.count("<F_ITTPHSC>71<") == 1
    path = tmp_path / "early_years.xml"
    path.write_text(text.replace("<F_ENTRYRTE>02<", "<F_ENTRYRTE>19<"))
    with Checker(as_of=AS_OF) as checker:
        [record] = checker.records([str(path)])
    assert [(i.code, i.value) for i in record.issues if i.field == "course_age_range"] == [
        ("legacy_code_translated", "71"),
        ("early_years_age_range_required", "71"),
    ]
    assert record.data["course_age_range"] == "13909"


def test_a_degree_rule_names_a_code_a_mapping_file_translated_as_the_extract_has_it(hesa_samples, tmp_path):
    """The same for a degree's code: a mapping file's translation of the SRS's grade 2:1 to 21, which Register does
    not know, gives Register's error with the value 2:1."""
    from register_batch.mapping import load_mapping
    from register_batch.validation import Checker

    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    assert text.count("<F_DEGCLSS>01<") == 1
    path = tmp_path / "grade.xml"
    path.write_text(text.replace("<F_DEGCLSS>01<", "<F_DEGCLSS>2:1<"))
    ours = tmp_path / "ours.yaml"
    ours.write_text('codes:\n  degrees_attributes.grade:\n    translate:\n      "2:1": {to: "21"}\n')
    with Checker(as_of=AS_OF, mapping=load_mapping([ours])) as checker:
        [record] = checker.records([str(path)])
    assert [(i.code, i.value) for i in record.issues if i.field == "degrees_attributes[0].grade"] == [
        ("legacy_code_translated", "2:1"),
        ("degree_grade_required", "2:1"),
    ]


def test_a_degree_field_the_mapping_reported_gets_no_rule_issue_too(hesa_samples, tmp_path):
    """A degree's code a mapping file lists as untranslatable is one error, the mapping's, which says why; the rules
    do not report the same field again (as for the trainee's own fields). It gives Register's own answer first: a
    subject Register does not know is read as blank (register-api.md §3.7; review234 F1)."""
    from register_batch.mapping import load_mapping
    from register_batch.validation import Checker

    text = (hesa_samples / "itt_record_C23053.xml").read_text().replace("<F_DEGSBJ1>100251<", "<F_DEGSBJ1>C800<")
    path = tmp_path / "jacs.xml"
    path.write_text(text)
    ours = tmp_path / "ours.yaml"
    ours.write_text("codes:\n  degrees_attributes.subject:\n    no_translation:\n      C800: JACS, not HECoS\n")
    with Checker(as_of=AS_OF, mapping=load_mapping([ours])) as checker:
        [record] = checker.records([str(path)])
    assert [(i.code, i.value, i.message) for i in record.issues if i.field == "degrees_attributes[0].subject"] == [
        (
            "untranslatable_code",
            "C800",
            "subject must be entered if specifying a previous UK degree or non-UK degree. "
            "degrees_attributes[0].subject: JACS, not HECoS",
        )
    ]


def _c23053_record(hesa_samples, tmp_path, **tags: str):
    """The C23053 sample with each F_<tag> given the value in `tags` (the sample has each tag once), checked with the
    bundled mapping as of AS_OF."""
    from register_batch.validation import Checker

    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    for tag, value in tags.items():
        old = re.search(f"<F_{tag}>[^<]*</F_{tag}>", text)
        assert old is not None and text.count(f"<F_{tag}>") == 1, tag
        text = text.replace(old.group(), f"<F_{tag}>{value}</F_{tag}>")
    path = tmp_path / "legacy.xml"
    path.write_text(text)
    with Checker(as_of=AS_OF) as checker:
        [record] = checker.records([str(path)])
    return record


def _on(record, field: str) -> list[tuple[str, str]]:
    return [(i.code, i.value) for i in record.issues if i.field == field]


def test_an_untranslatable_subject_on_an_early_years_route_gets_r3_too(hesa_samples, tmp_path):
    """101085 on early-years route 19 (with its age range 13920): the mapping's error says the code was removed, and
    R3 says what this record's route requires of course_subject_1 (100510, §3.3), which 100511 would fail too."""
    record = _c23053_record(hesa_samples, tmp_path, ENTRYRTE="19", SBJCA1="101085", ITTPHSC="13920")
    assert _on(record, "course_subject_1") == [
        ("untranslatable_code", "101085"),
        ("early_years_subject_required", "101085"),
    ]


def test_an_untranslatable_age_range_on_an_early_years_route_gets_r4_too(hesa_samples, tmp_path):
    """HESA age range 99801 on route 19: the mapping's error says only that Register refuses it; R4 names the range the
    route requires (13920, §3.3)."""
    record = _c23053_record(hesa_samples, tmp_path, ENTRYRTE="19", SBJCA1="100510", ITTPHSC="99801")
    assert _on(record, "course_age_range") == [
        ("untranslatable_code", "99801"),
        ("early_years_age_range_required", "99801"),
    ]


def test_an_untranslatable_subject_given_twice_is_a_duplicate_too(hesa_samples, tmp_path):
    """101085 as course_subject_1 and 2: each is told to use 100511, which would repeat it, so R5 reports too."""
    record = _c23053_record(hesa_samples, tmp_path, ENTRYRTE="12", SBJCA1="101085", SBJCA2="101085", ITTPHSC="13914")
    assert _on(record, "course_subject_2") == [
        ("untranslatable_code", "101085"),
        ("duplicate_course_subject", "101085"),
    ]


def test_an_untranslatable_subject_on_a_primary_age_range_is_one_error(hesa_samples, tmp_path):
    """101085 on a primary age range and a route that is not early years: the mapping's error already says to use
    100511, which is R2's demand, and the rules about the value alone (invalid_code) would repeat it: one error."""
    record = _c23053_record(hesa_samples, tmp_path, ENTRYRTE="12", SBJCA1="101085", ITTPHSC="13914")
    assert _on(record, "course_subject_1") == [("untranslatable_code", "101085")]


def test_a_users_untranslatable_subject_on_a_primary_age_range_gets_r2_too(hesa_samples, tmp_path):
    """review44 F5: a user's untranslatable JACS code, whose reason says to put the course's own HECoS subject: on a
    primary age range R2 says which one this record requires (100511), or a subject chosen from the reason alone
    fails the next run. (The bundled 101085's reason names 100511 already: one error, as above.)"""
    from register_batch.mapping import load_mapping
    from register_batch.validation import Checker

    ours = tmp_path / "subjects.yaml"
    ours.write_text(
        "codes:\n  course_subject_*:\n    source: JACS codes still in our SRS\n    no_translation:\n"
        '      "X100": "JACS X100 names no subject: put the course\'s own HECoS subject in the SRS"\n'
    )
    text = (hesa_samples / "itt_record_C23053.xml").read_text()
    for tag, value in {"ENTRYRTE": "12", "SBJCA1": "X100", "ITTPHSC": "13914"}.items():
        text = re.sub(f"<F_{tag}>[^<]*</F_{tag}>", f"<F_{tag}>{value}</F_{tag}>", text)
    path = tmp_path / "jacs.xml"
    path.write_text(text)
    with Checker(as_of=AS_OF, mapping=load_mapping([ours])) as checker:
        [record] = checker.records([str(path)])
    assert _on(record, "course_subject_1") == [("untranslatable_code", "X100"), ("primary_subject_required", "X100")]


def test_the_advice_for_101085_names_the_early_years_subject_too(hesa_samples, tmp_path):
    """hesa-formats.md §2.3.5, register-api.md §3.3 R2/R3: 101085's replacement is 100511, but 100510 on an
    early-years route (17-20), whichever subject field it is in."""
    record = _c23053_record(hesa_samples, tmp_path, ENTRYRTE="12", SBJCA1="100511", SBJCA3="101085", ITTPHSC="13914")
    [message] = [i.message for i in record.issues if i.code == "untranslatable_code"]
    assert message == (
        "course_subject_3 has invalid reference data value of '101085'. Example values include '100048', '100050', "
        "'100061', '100068', '100069', '100071', '100078', '100079', '100091', '100092'... "
        "course_subject_3: course subject 101085 (specialist teaching primary with mathematics) was removed: "
        "use 100511 (primary teaching), or 100510 (early years teaching) on an early-years training route (17-20)"
        f"{SEND_ANYWAY}"
    )


def test_without_an_as_of_date_records_are_judged_as_of_today():
    """A library caller that gives no as_of (Validator or Checker) has its date rules judged as of the day it runs (in
    UTC, as Register counts days, §1.4)."""
    from datetime import UTC, datetime

    from register_batch.reference import load_reference
    from register_batch.validation import Checker, Validator

    before = datetime.now(UTC).date()
    with Checker() as checker:
        judged = [Validator(load_reference()).as_of, checker.as_of]
    assert all(before <= day <= datetime.now(UTC).date() for day in judged), judged


def test_every_rule_function_is_exercised_by_this_module():
    exercised = {c[3] for c in CASES} | {
        "early_years_subject_required",
        "early_years_age_range_required",
        "duplicate_degrees",
        "itt_end_date_too_old",
        "itt_start_date_too_far",
        "trainee_start_date_too_old",
        "degree_graduation_year_in_future",
        "funding_rules_not_bundled",
        "withdrawal_date_invalid",
        "withdrawal_reasons_invalid",
        "withdrawal_future_interest_invalid",
        "withdrawal_details_required",
        "defer_date_invalid",
        "defer_reason_too_long",
        "withdrawal_trigger_invalid",
        "hesa_id_not_digits",
        "hesa_id_digit_groups",  # test_spreadsheet_values.py
        "hesa_id_scientific_notation",  # test_spreadsheet_values.py
        "training_partner_ukprn_invalid",
        "control_character",
        "spreadsheet_formula",
        "garbled_text",
        "jacs_subject_code",
        "leading_zeros_lost",  # test_leading_zeros.py
        "code_case",  # test_code_case_and_a_misread_start_cycle.py
        "spreadsheet_date",  # test_spreadsheet_values.py
        "date_not_yyyy_mm_dd",  # test_dates_as_register_reads_them.py
        "possibly_garbled_text",  # test_text_from_other_code_pages.py
        "replacement_character",  # test_replacement_character.py
        "spreadsheet_error",  # test_spreadsheet_error_values.py
        "spreadsheet_error_hint",  # test_spreadsheet_error_values.py
        "lost_letter",  # test_lost_letter.py
        "withdrawal_date_is_a_time",  # test_nested.py
        "withdrawal_date_in_future",  # test_dates_review211.py
        "defer_date_in_future",  # test_dates_review211.py
        "defer_date_after_withdrawal",  # test_dates_review214.py
        "degree_graduation_year_not_a_year",  # test_dates_review211.py
        "unknown_training_route",  # test_route_not_a_code_and_windows_1252_read_as_latin1.py
        "code_not_translated",  # tests/mapping/test_vendor_mapping_review209.py
        "funding_not_judged",  # tests/reference/test_pulled_codes_review210.py
        "initiative_not_judged",  # tests/reference/test_pulled_codes_review210.py
        "hesa_id_digits_rounded",  # test_rounded_husid_and_graduation_year_dates.py
        "ni_number_form",  # test_ni_number_form.py
    }
    with_checks = {code for code, entry in CATALOGUE.items() if entry.check is not None}
    assert with_checks - exercised == set()


def test_withdrawal_trigger_and_ukprn_and_husid_digits():
    found = check(
        copy.deepcopy(VALID),
        withdrawal={"withdrawal_date": "2026-01-15", "reasons": ["x"], "trigger": "me", "future_interest": "no"},
    )
    assert ("withdrawal_trigger", "withdrawal_trigger_invalid", "trigger is not included in the list") in found
    assert check(with_changes(training_partner_ukprn="1234")) == [
        (
            "training_partner_ukprn",
            "training_partner_ukprn_invalid",
            "training_partner_ukprn is invalid. The UKPRN '1234' does not match any known training partners",
        )
    ]
    assert check(with_changes(hesa_id="3.10262E+12xx")) == [
        (
            "hesa_id",
            "hesa_id_not_digits",
            "hesa_id should be 13 or 17 digits; this value has other characters (first: '.' at position 2)",
        )
    ]


@pytest.mark.parametrize(
    ("hesa_id", "named"),
    [
        ("O601140088164", "'O' at position 1"),  # a letter O typed for a zero: it looks like a digit in the report
        ("2601 40088164", "' ' at position 5"),
        ("2601\u200b40088164", "'\\u200b' (U+200B) at position 5"),  # a zero-width space does not show at all
    ],
)
def test_a_husid_with_a_character_that_is_no_digit_names_the_character_and_where_it_is(hesa_id, named):
    """A data officer looking at `O601140088164` next to "this value has other characters" cannot see which. (The
    zero-width space is a control_character error of its own too.)"""
    [(field, code, message)] = [
        found for found in check(with_changes(hesa_id=hesa_id)) if found[1] != "control_character"
    ]
    assert (field, code) == ("hesa_id", "hesa_id_not_digits")
    assert message == f"hesa_id should be 13 or 17 digits; this value has other characters (first: {named})"


def test_the_route_is_not_judged_while_the_start_date_is_invalid():
    """R9 runs only `if: :valid_trainee_start_date?` (§3.3): Register says nothing of route 02 then."""
    found = check(with_changes(training_route="02", itt_start_date="2025-13-01", trainee_start_date=None))
    assert "invalid_training_route" not in {c for _f, c, _m in found}
    assert "invalid_date" in {c for _f, c, _m in found} or any(f == "itt_start_date" for f, _c, _m in found)
    assert "invalid_training_route" in {c for _f, c, _m in check(with_changes(training_route="02"))}


def test_with_funding_method_c_the_sent_initiative_is_not_looked_up():
    """R19: funding method C sets the veterans' initiative whatever was sent (§3.3), so '999' is not an error."""
    found = check(with_changes(funding_method="C", fund_code="7", training_initiative="999"))
    assert [c for f, c, _m in found if f == "training_initiative"] == ["initiative_replaced_by_funding_method"]
    found = check(with_changes(training_initiative="999"))
    assert [c for f, c, _m in found if f == "training_initiative"] == ["invalid_code"]


@pytest.mark.parametrize(
    "changes,field,code,message",
    [
        ({"course_year": "１"}, "course_year", "course_year_not_integer", "course_year is not a valid course year"),
        ({"course_year": "١"}, "course_year", "course_year_not_integer", "course_year is not a valid course year"),
        (
            {"application_id": "５６７８９"},
            "application_id",
            "application_id_not_integer",
            "application_id is not a whole number: Register keeps Apply's application choice id as a number",
        ),
        (
            {"training_partner_urn": "１２３４５６"},
            "training_partner_urn",
            "training_partner_urn_invalid",
            "training_partner_urn is invalid. The URN '１２３４５６' does not match any known training partners",
        ),
        (
            {"training_partner_ukprn": "1２３４５６７８"},
            "training_partner_ukprn",
            "training_partner_ukprn_invalid",
            "training_partner_ukprn is invalid. The UKPRN '1２３４５６７８' does not match any known training partners",
        ),
        (
            {"employing_school_urn": "12345²"},
            "employing_school_urn",
            "employing_school_urn_invalid",
            "employing_school_id is invalid. The URN '12345²' does not match any known schools",
        ),
        (
            {"hesa_id": "０３１０２６１５５３１０１"},
            "hesa_id",
            "hesa_id_not_digits",
            "hesa_id should be 13 or 17 digits; this value has other characters (first: '０' (U+FF10) at position 1)",
        ),
    ],
    ids=[
        "full-width course year",
        "Arabic-Indic course year",
        "full-width application id",
        "full-width URN",
        "full-width UKPRN",
        "superscript",
        "HUSID",
    ],
)
def test_only_ascii_digits_count_as_digits(changes, field, code, message):
    """Ruby's `\\d` (numericality only_integer, §3.1) is [0-9]; Python's `\\d` and `isdigit()` take any script's
    digits, so '１' passed as a course year that Register refuses, and no partner or school has a full-width URN."""
    assert check(with_changes(**changes)) == [(field, code, message)]


def test_the_fix_for_an_invalid_code_names_a_command_that_knows_each_field_by_the_reports_name():
    """The fix says `register-batch reference show FIELD`, with FIELD as the report names it: for a field whose list is
    named otherwise (course_subject_2 is in course_subject), `reference show` takes the report's name too (review151
    F7), so the fix need not name the list."""
    from register_batch.reference import TRAINEE_CODE_FIELDS, list_of_field, load_reference

    lists = load_reference().fields
    rule = CATALOGUE["invalid_code"]
    assert "`register-batch reference show FIELD`" in rule.fix
    for field in rule.fields:
        named = TRAINEE_CODE_FIELDS[field]
        assert named in lists
        assert list_of_field(field) == named, field


def test_a_graduation_year_in_other_digits_is_invalid():
    """§3.4: not `YYYY` in [0-9] is 0 for Register (Ruby's `to_i` reads ASCII digits only), so `is invalid`."""
    assert check(degree(graduation_year="２０１２")) == [
        ("degrees_attributes[0].graduation_year", "degree_graduation_year_invalid", "graduation_year is invalid")
    ]


def test_a_hesa_degree_end_date_a_spreadsheet_rewrote_is_invalid_and_its_fix_says_to_write_the_date():
    """HESA's F_DEGENDDT is a date that Register keeps the year of: one a spreadsheet wrote as 30/06/2012 is a year
    Register reads as 0. The fix asked for a four-digit year alone, which no HESA date tag holds; spreadsheet_date's
    hint gives the year and the date (review224 F3)."""
    label = "degrees_attributes[0].graduation_year"
    assert check(degree(graduation_year="30/06/2012")) == [
        (label, "degree_graduation_year_invalid", "graduation_year is invalid"),
        (
            label,
            "spreadsheet_date",
            f"{label}: '30/06/2012' looks like a spreadsheet's day/month/year date: write the year, 2012, or the date "
            "as YYYY-MM-DD (2012-06-30)",
        ),
    ]
    fix = CATALOGUE["degree_graduation_year_invalid"].fix
    assert "F_DEGENDDT" in fix and "YYYY-MM-DD" in fix


@pytest.mark.parametrize(
    "field,boundary,day_after,code,message,changes",
    [
        ("date_of_birth", "1926-11-28", "1926-11-29", "date_of_birth_too_old", "date_of_birth is invalid", {}),
        (
            "itt_end_date",
            "2016-11-28",
            "2016-11-29",
            "itt_end_date_too_old",
            "itt_end_date must be within the last 10 years",
            {"itt_start_date": "2016-09-01", "trainee_start_date": None},
        ),
        (
            "trainee_start_date",
            "2016-11-28",
            "2016-11-29",
            "trainee_start_date_too_old",
            "trainee_start_date Cannot be more than 10 years in the past",
            {},
        ),
    ],
    ids=["date of birth 100 years ago", "itt_end_date 10 years ago", "trainee_start_date 10 years ago"],
)
def test_the_day_exactly_n_years_ago_is_already_too_old(field, boundary, day_after, code, message, changes):
    """§3.4 compares a date with `100.years.ago` / `10.years.ago`: a time of day (Rails' Duration#ago), which a date
    is compared with as its midnight, so the day exactly N years before today is before it (AS_OF is 2026-11-28)."""
    assert (field, code, message) in check(with_changes(**changes, **{field: boundary}))
    assert code not in {c for _f, c, _m in check(with_changes(**changes, **{field: day_after}))}


def test_the_day_exactly_16_years_ago_is_old_enough():
    """§3.4 `> 16.years.ago`: the birthday's midnight is not after the time 16 years ago, the next day's is."""
    assert check(with_changes(date_of_birth="2010-11-28")) == []
    assert check(with_changes(date_of_birth="2010-11-29")) == [
        ("date_of_birth", "date_of_birth_under_16", "date_of_birth cannot be less than 16 years ago")
    ]


@pytest.mark.parametrize(
    "email",
    [
        "dave..george@example.com",  # two dots in a row
        "dave@localhost",  # a domain without a dot
        "dave@-example.com",  # a label starting with a hyphen
        "dave@" + "x" * 64 + ".com",  # a label longer than 63 characters
        "dave@" + ".".join(["x" * 50] * 5) + ".com",  # a domain longer than 253 characters
        "dave@example.c0m",  # a top-level domain with a digit
        "dave@bücher.example",  # a letter outside ASCII: Register's port has no IDNA step (Notify's has)
        "dave@my--school.example",  # two hyphens in a label (only xn-- may): Register's PART_REGEX
        " dave@example.com",  # Register does not strip the address (Notify does)
        "@example.com",  # no name before the @
        "dave@example.c",  # a top-level domain of one letter
        "dave@example.com1",  # a digit after the top-level domain
        "dave@example.2com",  # a digit before it
        "dave@example.com extra",  # text after the address
        "dave@example.com@example.org",  # a second @
        "dave@\u0131bm.example",  # a dotless i: Python's case folding takes it for i, Ruby's does not
        "dave@example.xn-abc",  # a top-level domain in ASCII form starts xn-- (a label may start xn-)
        "dave@example.COM",  # TLD_REGEX has no /i (PART_REGEX has): the top-level domain is lower case (review113 F1)
        "Dave.George+itt@Example.CO.UK",
        "dave@example.xn--P1AI",
        "dave@school.\u212a\u212a",  # the Kelvin sign is k only to /i, which TLD_REGEX does not have
    ],
    ids=[
        "double dot",
        "no dot in domain",
        "hyphen first",
        "long label",
        "long domain",
        "digit in TLD",
        "not ascii",
        "double hyphen",
        "space before",
        "no name",
        "one-letter TLD",
        "digit after TLD",
        "digit before TLD",
        "text after",
        "two @",
        "dotless i",
        "xn- TLD",
        "capital TLD",
        "capitals in every part",
        "capital xn-- TLD",
        "kelvin TLD",
    ],
)
def test_email_addresses_registers_check_refuses_are_invalid(email):
    """§3.1: Register's EmailFormatValidator, a Ruby port of GOV.UK Notify's check; each breaks one of its tests."""
    assert ("email", "invalid_email", EMAIL) in check(with_changes(email=email))


EMAIL = "email Enter an email address in the correct format, like name@example.com"


def test_an_email_over_320_characters_is_invalid_as_well_as_too_long():
    """Notify refuses an address over 320 characters whatever its shape; Register gives both messages (§3.1, §7.2)."""
    found = check(with_changes(email="d" * 309 + "@example.com"))  # 321 characters
    assert {c for _f, c, _m in found} == {"too_long", "invalid_email"}
    assert {c for _f, c, _m in check(with_changes(email="d" * 308 + "@example.com"))} == {"too_long"}


def test_a_domain_of_253_characters_is_the_longest_notify_takes():
    """Notify: a hostname over 253 characters is refused (`d@` and 254 characters are also over §3.1's 255)."""

    def hostname(length: int) -> str:
        return ".".join(["a" * 63, "b" * 63, "c" * 63, "d" * (length - 3 * 64 - 4)]) + ".com"

    assert len(hostname(253)) == 253
    assert check(with_changes(email="d@" + hostname(253))) == []
    assert {c for _f, c, _m in check(with_changes(email="d@" + hostname(254)))} == {"too_long", "invalid_email"}


@pytest.mark.parametrize(
    "email",
    [
        "Dave.George+itt@Example.CO.uk",
        "DAVE@EXAMPLE.com",
        "dave@XN--BCHER-KVA.example",
        "dave@xn--bcher-kva.example",
        "dave@my-school.example",
        "dave@b.com.",
        "o'neil@example.com",
        "mary-jane@example.com",
        "first_last@example.com",
        "a/b@example.com",
        "a`b@example.com",
        "dave@school1.example.com",
        "dave@a-2b.example.com",
        "dave@example.xn--p1ai",  # a top-level domain in its ASCII form (.рф)
        "dave@example.xn--a-b-c",
    ],
)
def test_email_addresses_registers_check_accepts_are_valid(email):
    """Upper case anywhere but the top-level domain (PART_REGEX has /i, TLD_REGEX has not), a host already in its
    ASCII form, one hyphen, one dot at the end (Ruby's split drops the empty label after it), the marks a name may
    hold (' - _ / `), and digits in a label."""
    assert check(with_changes(email=email)) == []


@pytest.mark.parametrize(
    "email",
    ["dave@example.com\n", "dave@example.com\nother@example.com", "\ndave@example.com"],
    ids=["line break after", "two lines", "line break before"],
)
def test_an_email_with_a_line_break_is_not_what_registers_format_check_refuses(email):
    """Register's EMAIL_REGEX is /^...$/ in Ruby, where ^ and $ match at each line's start and end: `match?` is true
    when one line of the value is an address, and the hostname is that line's (Ruby 3.1 checked: all three pass
    EmailFormatValidator, and Register stores the value as sent). The control_character rule refuses these values
    locally, as it should; invalid_email says Register refuses them, and the emulator (api rules only) answers 422
    where Register answers 201."""
    assert ("email", "invalid_email", EMAIL) not in check(with_changes(email=email))


def test_an_email_whose_host_starts_on_the_next_line_is_what_registers_format_check_accepts():
    """In EMAIL_REGEX /^[...]+@([^.@][^@\\s]+)$/ the first character of the host is [^.@], which in Ruby also matches a
    line break: "dave@\\nexample.com" matches with the hostname "\\nexample.com", whose first part passes PART_REGEX
    (/^...$/ matches its second line) and whose TLD is "com". email_is_valid reads it so too (re.MULTILINE, search),
    where it once matched each line alone and said Register refuses it (control_character is the local rule that
    refuses the value)."""
    assert ("email", "invalid_email", EMAIL) not in check(with_changes(email="dave@\nexample.com"))


@pytest.mark.parametrize("email", ["dave@\u017fchool.example", "dave@\u212a\u212a.example"], ids=["long s", "kelvin"])
def test_an_email_with_a_letter_rubys_case_folding_reads_as_ascii_is_valid(email):
    """rules.py's comment says "Letters are ASCII only, as Ruby's [a-z] with /i"; Ruby 3.1 says otherwise:
    `/^[a-z]+$/i.match?("\u017fchool")` and `/^[a-z]+$/i.match?("\u212a\u212a")` are true, and
    EmailFormatValidator passes both addresses, whose folded letters are in a label PART_REGEX (/i) checks, not in the
    top-level domain (TLD_REGEX has no /i: see the refused "kelvin TLD")."""
    assert check(with_changes(email=email)) == []


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("dave@\u017f" + "a" * 62 + ".example", True),
        ("dave@\u212a" + "a" * 62 + ".example", True),
        ("dave@example.\u212a" + "a" * 62, False),
    ],
    ids=["long s in a label", "kelvin in a label", "kelvin in the top-level domain"],
)
def test_a_letter_rubys_case_folding_reads_as_ascii_counts_as_one_in_a_63_character_label(email, valid):
    """Ruby 3.1 passes the first two: the long s and the Kelvin sign are one character each of the 63 a label may
    have. It refuses the third, whose top-level domain TLD_REGEX (no /i) matches as sent (review113 F1)."""
    assert (check(with_changes(email=email)) == []) is valid


@pytest.mark.parametrize(
    ("email", "refused"),
    [
        ("old@example.com \nnew@example.com", False),
        ("old@example.com\t\nnew@example.com", False),
        ("old@example.com\v\nnew@example.com", False),
        ("old@example.com\f\nnew@example.com", False),
        ("old@example.com\r\nnew@example.com", False),
        ("old@example.com@x.com\nnew@example.com", False),
        ("old@x\nnew@example.com", False),
        ("old@example.com\u00a0\nnew@example.com", True),
    ],
    ids=["space", "tab", "vertical tab", "form feed", "CRLF", "second @", "one-letter host", "no-break space"],
)
def test_registers_format_check_reads_the_first_line_its_pattern_matches(email, refused):
    """EMAIL_REGEX's host ([^@\\s]{2,} to the line's end) cannot hold Ruby's white space or an @, so a first line
    ending in one of them does not match and the hostname checked is the next line's; a no-break space is not Ruby's
    white space, the first line matches with it in its host, and that host is refused (Ruby 3.1 gives each answer
    here). Each value is also refused locally by control_character."""
    assert (("email", "invalid_email", EMAIL) in check(with_changes(email=email))) is refused


@pytest.mark.parametrize("blank", ["", "   "], ids=["empty", "spaces"])
def test_a_blank_email_in_a_request_body_gets_both_of_registers_messages(blank):
    """TraineeAttributes: `validates :email, presence: true` and `EmailFormatValidator.new(record).validate`, which
    returns only for nil. The mapper keeps "" (`.compact` drops nil only). So Register's 422 for `"email": ""` lists
    `email can't be blank` and the format message; the emulator (check_body) lists the first only (before this
    release: the second only)."""
    from register_batch.reference import load_reference
    from register_batch.validation.runner import Validator

    body = {**copy.deepcopy(VALID), "email": blank}
    found = [i.message for i in Validator(load_reference(), AS_OF).check_body(body) if i.is_error]
    assert sorted(found) == sorted(["email can't be blank", EMAIL])


@pytest.mark.parametrize("field", ["course_subject_2", "course_subject_3"])
def test_a_jacs_code_in_any_course_subject_is_named(field):
    """hesa-formats.md §2.3.5: every course subject is a HECoS code; a JACS code in the second or third gets the
    same warning as in the first."""
    jacs = [(f, c) for f, c, _m in check(with_changes(**{field: "F300"})) if c == "jacs_subject_code"]
    assert jacs == [(field, "jacs_subject_code")]


# register-api.md §3.2, "Always": written out here rather than taken from the code, so a field the code forgets fails.
ALWAYS_REQUIRED = [
    "first_names",
    "last_name",
    "date_of_birth",
    "sex",
    "training_route",
    "itt_start_date",
    "itt_end_date",
    "hesa_id",
    "course_subject_1",
    "email",
    "itt_aim",
    "course_year",
    "course_age_range",
    "fund_code",
    "funding_method",
]


@pytest.mark.parametrize("field", ALWAYS_REQUIRED)
def test_each_always_required_field_left_out_gives_only_its_blank_message(field):
    """§3.2: `<field> can't be blank`, and no other rule trips over the missing value (R9 over a blank route)."""
    assert check(with_changes(**{field: None})) == [(field, "required", f"{field} can't be blank")]


@pytest.mark.parametrize(
    "field,limit,filler",
    [
        ("first_names", 60, "x"),
        ("middle_names", 60, "x"),
        ("last_name", 60, "x"),
        ("provider_trainee_id", 50, "9"),
        ("application_id", 7, "1"),
        ("email", 255, "d"),
    ],
)
def test_text_fields_take_their_maximum_length_and_not_one_more(field, limit, filler):
    """§3.1's code-enforced lengths: exactly the maximum is accepted, one character more is `too long`."""

    def value(length: int) -> str:
        return filler * (length - len("@example.com")) + "@example.com" if field == "email" else filler * length

    assert check(with_changes(**{field: value(limit)})) == []
    assert check(with_changes(**{field: value(limit + 1)})) == [
        (field, "too_long", f"{field} is too long (maximum is {limit} characters)")
    ]


def test_a_code_list_of_exactly_ten_codes_is_shown_as_examples():
    """§5.1: all valid values are listed when there are fewer than 10 (MAX_VALID_VALUES_DISPLAYED); with 10 the
    message gives them as examples."""
    nine, ten = [f"0{n}" for n in range(1, 10)], [f"{n:02}" for n in range(1, 11)]
    assert inclusion_message("f", "x", nine).startswith("f has invalid reference data value of 'x'. Valid values are ")
    assert inclusion_message("f", "x", ten) == (
        "f has invalid reference data value of 'x'. Example values include "
        "'01', '02', '03', '04', '05', '06', '07', '08', '09', '10'..."
    )


def test_repeated_course_subjects_are_allowed_on_early_years_routes():
    """R5 runs only when the route is not early years (§3.3)."""
    early = with_changes(training_route="19", course_subject_1="100510", course_age_range="13920")
    assert check({**early, "course_subject_2": "100510", "course_subject_3": "100510"}) == []


@pytest.mark.parametrize("repeats", ["course_subject_1", "course_subject_2"])
def test_course_subject_3_repeating_subject_1_or_2_is_a_duplicate(repeats):
    """R5: subject 3 ∈ {1, 2} (§3.3)."""
    data = with_changes(course_subject_2="100425")
    data["course_subject_3"] = data[repeats]
    assert check(data) == [
        ("course_subject_3", "duplicate_course_subject", "course_subject_3 might contain duplicate values")
    ]


def test_a_bursary_without_eligibility_gets_only_the_fund_code_message_even_for_an_unfunded_subject():
    """§3.5.2: with fund code 2 (and no FundCodeException) R11 stops at :not_eligible_fund_code; it does not also
    look the route and subject up in the table (psychology has no bursary in 2025/26)."""
    assert check(with_changes(fund_code="2", funding_method="D", course_subject_1="100497")) == [
        (
            "funding_method",
            "funding_method_not_eligible",
            "funding_method 'bursary' is not allowed when fund_code is '2' and course_subject_1 is 'psychology'",
        )
    ]


def test_a_trainee_start_date_given_but_not_a_date_puts_the_start_cycle_at_now_plus_a_month():
    """review113 F6: AcademicCyclable#start_date is `trainee_start_date || itt_start_date` on the values as sent, then
    Date.iso8601 or nil (§3.3): a trainee_start_date given but unreadable is no date, and R10-R13 judge the cycle of
    now + 1 month (2026/27 as of 2026-11-28), not itt_start_date's (2025/26, where 036 runs), as Register (the
    emulator, api_only) does. validate leaves that finding out until the date is mended (review168 F7: a cycle the
    user never typed; rules.WAIT_FOR_THE_START_DATE). A blank one is itt_start_date (§3.4)."""
    data = started_in(2025, trainee_start_date="2025-09-31", training_initiative="036")
    assert check(data) == [("trainee_start_date", "invalid_date", "trainee_start_date is invalid")]
    register = validated(data, api_only=True).issues
    assert [(i.field, i.code, i.message) for i in register] == [
        ("trainee_start_date", "invalid_date", "trainee_start_date is invalid"),
        (
            "training_initiative",
            "initiative_not_available",
            "training_initiative 'international_relocation_payment' is not available in academic cycle '2026 to 2027'",
        ),
    ]
    assert check(started_in(2025, trainee_start_date=None, training_initiative="036")) == []


@pytest.mark.parametrize(
    "code,year,available",
    [("026", 2025, True), ("036", 2025, True), ("011", 2026, True), ("036", 2026, False), ("025", 2025, False)],
    ids=["now_teach 2025", "relocation 2025", "primary maths 2026", "relocation 2026", "transition 2025"],
)
def test_initiatives_are_available_in_the_cycles_of_the_table(code, year, available):
    """§3.5.5: the initiatives each start cycle offers, for R12 and R13 alike."""
    for field, rule_code in (
        ("training_initiative", "initiative_not_available"),
        ("additional_training_initiative", "additional_initiative_not_available"),
    ):
        codes = [c for f, c, _m in check(started_in(year, **{field: code})) if f == field]
        assert codes == ([] if available else [rule_code]), (field, code, year)


def test_with_funding_method_c_an_initiative_of_another_cycle_is_not_judged_by_r12():
    """R19 replaces the sent initiative (§3.3), so R12 judges the veterans' bursary, not transition_to_teach."""
    found = check(with_changes(funding_method="C", fund_code="7", training_initiative="025"))
    assert [c for f, c, _m in found if f == "training_initiative"] == ["initiative_replaced_by_funding_method"]


def test_with_funding_method_c_r12_judges_the_veterans_initiative_in_the_start_cycle():
    """R19 sets the veterans' bursary, then R12 checks it (§3.3): Register lists it from 2020/21 (its
    training_initiatives.rb of each cycle, funding.yml), and a cycle with no list (2019/20) has none."""
    message = "training_initiative 'veterans_teaching_undergraduate_bursary' is not available in academic cycle '{}'"
    for year, expected in ((2019, [message.format("2019 to 2020")]), (2020, []), (2023, []), (2024, []), (2026, [])):
        found = check(started_in(year, funding_method="C", fund_code="7", training_initiative=None))
        assert [m for f, c, m in found if c == "initiative_not_available"] == expected, year


def test_a_training_partner_urn_makes_the_ukprn_unused():
    """§3.1: the URN takes precedence over the UKPRN whenever its key is present, so a bad UKPRN is not looked at."""
    assert check(with_changes(training_partner_urn="900020", training_partner_ukprn="1234")) == []


def test_a_control_character_in_a_degree_is_an_error():
    found = [(f, c) for f, c, _m in check(degree(subject="100485\t")) if c == "control_character"]
    assert found == [("degrees_attributes[0].subject", "control_character")]


def test_a_valid_pg_apprenticeship_start_date_is_accepted():
    assert check(with_changes(pg_apprenticeship_start_date="2025-09-01")) == []


def test_itt_aim_201_needs_no_qualification_aim():
    """R1 asks for itt_qualification_aim only when itt_aim is 202 or blank (§3.3)."""
    assert check(with_changes(itt_aim="201", itt_qualification_aim=None)) == []


def test_primary_teaching_first_fits_a_primary_age_range():
    """R2 passes when course_subject_1 is primary teaching (100511), whichever primary range (§3.3)."""
    for age_range in ("13909", "13911", "13912", "13913", "13914", "13915"):
        assert check(with_changes(course_age_range=age_range, course_subject_1="100511")) == [], age_range


def test_r2_does_not_apply_on_early_years_routes():
    """R2 runs only if `require_subject?` (route not early years, §3.3): a primary range there is R4's error alone."""
    found = check(with_changes(training_route="19", course_subject_1="100510", course_age_range="13914"))
    assert [(f, c) for f, c, _m in found] == [("course_age_range", "early_years_age_range_required")]


@pytest.mark.parametrize(
    "changes,blank",
    [
        ({"course_age_range": "13914", "course_subject_1": None}, "course_subject_1"),  # R2 passes on a blank subject
        ({"training_route": "19", "course_age_range": "13920", "course_subject_1": None}, "course_subject_1"),  # R3
        ({"training_route": "19", "course_subject_1": "100510", "course_age_range": None}, "course_age_range"),  # R4
        ({"course_age_range": "13920", "training_route": None}, "training_route"),  # R4 skipped without a route
        ({"fund_code": "7", "funding_method": "D", "training_route": None}, "training_route"),  # R10, R11
    ],
    ids=["R2 blank subject", "R3 blank subject", "R4 blank age range", "R4 blank route", "R10 R11 blank route"],
)
def test_cross_field_rules_skip_a_blank_value_they_depend_on(changes, blank):
    """§3.3: R2 passes when course_subject_1 is blank, R3 needs `course_subject_one.present?`, R4 is skipped when the
    age range or route is blank, R10 and R11 return valid when training_route is nil: only the blank is reported."""
    assert check(with_changes(**changes)) == [(blank, "required", f"{blank} can't be blank")]


def test_13920_with_an_unknown_route_is_only_the_routes_error():
    """R4 is skipped when the route is invalid (§3.3)."""
    found = check(with_changes(course_age_range="13920", training_route="99"))
    assert [(f, c) for f, c, _m in found] == [("training_route", "invalid_training_route")]


def test_three_different_course_subjects_are_not_duplicates():
    assert check(with_changes(course_subject_2="100425", course_subject_3="100417")) == []


def test_an_iqts_trainee_with_a_country_code_is_valid():
    """R8: route 15 with a country from country.yml (§3.3)."""
    assert check(with_changes(training_route="15", iqts_country="BO")) == []


def test_an_unknown_iqts_country_on_another_route_is_only_told_to_be_blank():
    """R8's inclusion check applies when iQTS; otherwise the country must simply be absent (§3.3)."""
    assert check(with_changes(iqts_country="QQ")) == [
        ("iqts_country", "iqts_country_not_allowed", "iqts_country must be blank")
    ]


def test_fund_code_7_needs_a_known_age_range():
    """R10: valid iff the route has funding in the cycle **and** course_age_range is a known code (§3.3)."""
    found = check(with_changes(fund_code="7", funding_method="D", course_age_range="13999"))
    assert [(f, c) for f, c, _m in found] == [
        ("course_age_range", "invalid_code"),
        ("fund_code", "fund_code_not_valid"),
    ]


def test_a_fund_code_exception_subject_is_still_looked_up_in_the_funding_table():
    """§3.5.2: FundCodeException only lets fund code 2 past :not_eligible_fund_code; the route and subject must still
    have that funding type (physics has no grant on provider_led_postgrad in 2025/26)."""
    assert check(with_changes(fund_code="2", funding_method="E", course_subject_1="100425")) == [
        (
            "funding_method",
            "funding_method_not_available",
            "funding_method 'grant' is not allowed when training_route is 'provider_led_postgrad' and course_subject_1 "
            "is 'physics' in academic cycle '2025 to 2026'",
        )
    ]


@pytest.mark.parametrize("year", [2024, 2027])
def test_the_fund_code_exception_holds_only_in_2025_and_2026(year):
    """§3.5.2: fund_code_exception? needs a start cycle of 2025 or 2026; in other cycles physics with fund code 2 is
    refused like any subject."""
    data = started_in(year, fund_code="2", funding_method="D", course_subject_1="100425")
    assert [(f, c) for f, c, _m in check(data)] == [("funding_method", "funding_method_not_eligible")]


@pytest.mark.parametrize(
    ("subject", "said", "subject_error"),
    [(None, "", "required"), ("999999", "999999", "invalid_code")],
    ids=["blank", "unknown"],
)
@pytest.mark.parametrize(
    ("fund_code", "code", "message"),
    [
        ("2", "funding_method_not_eligible", "funding_method 'bursary' is not allowed when fund_code is '2' and "),
        (
            "7",
            "funding_method_not_available",
            "funding_method 'bursary' is not allowed when training_route is 'provider_led_postgrad' and ",
        ),
    ],
    ids=["fund code 2", "fund code 7"],
)
def test_r11_runs_beside_a_blank_or_unknown_course_subject_as_registers_rule_does(
    subject, said, subject_error, fund_code, code, message
):
    """review113 F5: Rules::FundingMethod has no subject guard (§3.5.2): with no subject, or one the mapper leaves
    as an InvalidValue (its text in the message), it names it and finds no allocation subject (no exception, no
    table row). R11 was skipped, so the emulator's 422 listed one message fewer than Register's."""
    found = check(with_changes(course_subject_1=subject, fund_code=fund_code, funding_method="7"))
    cycle = " in academic cycle '2025 to 2026'" if fund_code == "7" else ""
    assert [(f, c, m) for f, c, m in found if f == "funding_method"] == [
        ("funding_method", code, f"{message}course_subject_1 is '{said}'{cycle}")
    ]
    assert ("course_subject_1", subject_error) in {(f, c) for f, c, _m in found}


def test_the_veterans_bursary_without_a_sent_initiative_is_valid():
    """R19 only warns when an initiative was sent that Register would replace (§3.3)."""
    data = with_changes(
        funding_method="C", training_route="11", fund_code="7", course_subject_1="100403", degrees_attributes=None
    )
    assert check(data) == []


@pytest.mark.parametrize(
    "changes",
    [{"training_partner_urn": "123456"}, {"training_partner_ukprn": "12345678"}, {"employing_school_urn": "654321"}],
    ids=["partner URN", "partner UKPRN", "school URN"],
)
def test_urns_and_ukprns_of_the_right_form_are_accepted(changes):
    """R15-R17: a 6-digit URN or an 8-digit UKPRN is left to Register to look up."""
    assert check(with_changes(**changes)) == []


def test_a_magic_urn_is_no_ukprn():
    """The magic values 900000-900030 stand in for a URN (R15, R17); R16 knows none for a UKPRN, so a UKPRN of
    900020 matches no partner (§3.1, §3.3) and is not of the 8-digit form."""
    assert check(with_changes(training_partner_ukprn="900020")) == [
        (
            "training_partner_ukprn",
            "training_partner_ukprn_invalid",
            "training_partner_ukprn is invalid. The UKPRN '900020' does not match any known training partners",
        )
    ]
    assert check(with_changes(training_partner_urn="900020")) == []
    assert check(with_changes(employing_school_urn="900030")) == []


def test_a_date_of_birth_of_today_is_not_in_the_future_but_is_under_16():
    """§3.4: `> today` is the future, so today itself is only `> 16.years.ago` (AS_OF is 2026-11-28)."""
    assert check(with_changes(date_of_birth="2026-11-28")) == [
        ("date_of_birth", "date_of_birth_under_16", "date_of_birth cannot be less than 16 years ago")
    ]
    assert check(with_changes(date_of_birth="2026-11-29"))[0][:2] == ("date_of_birth", "date_of_birth_in_future")


def test_itt_end_date_in_the_fifth_year_from_now_is_within_5_years():
    """§3.4: `end.year > now.year + 1 + 4` is too far: 2031 is the last year allowed in 2026."""
    assert check(with_changes(itt_end_date="2031-12-31")) == []
    assert [c for _f, c, _m in check(with_changes(itt_end_date="2032-01-01"))] == ["itt_end_date_too_far"]


def test_r9_judges_the_route_by_itt_start_date_when_trainee_start_date_is_blank_and_not_when_it_is_invalid():
    """R9 runs `if: :valid_trainee_start_date?`, a blank trainee_start_date being itt_start_date (§3.3, §3.4)."""
    found = check(with_changes(training_route="02", trainee_start_date=None))
    assert "invalid_training_route" in {c for _f, c, _m in found}
    found = check(with_changes(training_route="02", trainee_start_date="2025-13-01"))
    assert "invalid_training_route" not in {c for _f, c, _m in found}


def test_a_funding_type_the_table_has_only_for_other_subjects_is_not_available():
    """§3.5.2-§3.5.3: the funding type must match too: 2025/26 has a bursary for biology but no scholarship."""
    assert [c for _f, c, _m in check(with_changes(fund_code="7", funding_method="4"))] == [
        "funding_method_not_available"
    ]


def test_a_control_character_in_a_record_without_degrees_or_placements():
    data = with_changes(first_names="Ann\tMarie", degrees_attributes=None, placements_attributes=None)
    assert ("first_names", "control_character") in {(f, c) for f, c, _m in check(data)}


@pytest.mark.parametrize("length,valid", [(12, False), (13, True), (14, False), (16, False), (17, True), (18, False)])
def test_a_husid_has_13_or_17_characters(length, valid):
    """R18: `hesa_id.length.in?([13, 17])` (§3.3)."""
    found = check(with_changes(hesa_id="1" * length))
    assert found == ([] if valid else [("hesa_id", "hesa_id_length", "hesa_id must be 13 or 17 characters")])


def test_early_years_rules_give_registers_messages():
    """R3 and R4's :early_years_invalid, worded as §3.3 quotes them."""
    found = check(with_changes(training_route="19", course_subject_1="100346", course_age_range="13918"))
    assert sorted(found) == [
        (
            "course_age_range",
            "early_years_age_range_required",
            "course_age_range is invalid. It should be `13920` for the training_route provided",
        ),
        (
            "course_subject_1",
            "early_years_subject_required",
            "course_subject_1 is invalid. It should be `100510` for the training_route provided",
        ),
    ]


def test_an_escape_of_the_hesa_xml_export_in_a_degree_is_a_control_character():
    found = [(f, c) for f, c, _m in check(degree(subject="100485\\x0b")) if c == "control_character"]
    assert found == [("degrees_attributes[0].subject", "control_character")]


def test_an_issue_code_is_registered_once_and_in_a_scope_that_is_checked():
    """An issue code in a report names one check: registering a code again, or in a scope nothing checks, is
    refused (when the module that does it is imported), and the catalogue keeps what it had."""
    before = dict(CATALOGUE)
    with pytest.raises(ValueError, match=r"^duplicate rule code 'required'$"):
        describe("required", scope="batch", fields=(), message="m", source="s", fix="f")
    with pytest.raises(ValueError, match=r"^unknown rule scope 'record'$"):
        describe("not_yet_a_code", scope="record", fields=(), message="m", source="s", fix="f")
    assert dict(CATALOGUE) == before


@pytest.mark.parametrize(
    "mangle",
    [
        lambda line: line.replace("@", "\n@", 1),  # an unquoted line break in the email: the row cut in two
        lambda line: line.replace(",", ",,", 3),  # extra commas: every later value under the next column's name
        # One comma in a cell, the row's last cell blank: only a blank cell lands past the header (review104 F1).
        lambda line: line.replace("@", ",@", 1),
        # A line break in the last column (iqts_country): its first half is the header's width (review104 F5).
        lambda line: line.removesuffix("\r") + "Cote\r\nd'Ivoire\r",
    ],
    ids=["a row cut in two", "extra commas", "a comma in a row ending in a blank cell", "a row cut in its last cell"],
)
def test_a_row_whose_cells_do_not_line_up_gets_its_one_error_not_the_rules_on_shifted_values(tmp_path, mangle):
    """A row cut in two by a line break in an unquoted cell gave 35 errors beside its 2 (`date_of_birth` holding an
    email, codes that were other columns' values): the rules judged values under other fields' names. Such a record
    gets the reader's error (malformed_record, which names no field) and nothing else; the records around it are
    judged as ever."""
    from register_batch.validation import Checker
    from trainee_extracts import trainee, write_extract

    path = write_extract(tmp_path / "in.csv", [trainee(1), trainee(2), trainee(3)])
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = mangle(lines[2])
    path.write_text("\n".join(lines), encoding="utf-8")
    with Checker(as_of=AS_OF) as checker:
        records = list(checker.records([str(path)]))
    codes = [[issue.code for issue in record.issues if issue.severity == "error"] for record in records]
    assert codes[0] == codes[-1] == []
    assert codes[1:-1] and all(found == ["malformed_record"] for found in codes[1:-1]), codes


def test_a_degree_country_is_said_not_kept_only_when_it_is_a_country_outside_the_uk():
    """A UK country is dropped as Register drops it (no word needed); an unknown code beside an institution is dropped
    too, before Register checks it; without an institution the degree is a non-UK one, its country kept (and an
    unknown one invalid_degree_code's)."""
    for changes in ({"country": "XF"}, {"country": "XK"}, {"country": None}, {"institution": None, "country": "FR"}):
        codes = {c for _f, c, _m in check(degree(**changes))}
        assert "degree_country_not_kept" not in codes, changes
    codes = [c for f, c, _m in check(degree(institution="0117", country="UK")) if f.endswith(".country")]
    assert codes == ["degree_country_not_kept"]  # dropped before it is checked (review91 F2)
    codes = [c for f, c, _m in check(degree(institution=None, country="UK")) if f.endswith(".country")]
    assert codes == ["invalid_degree_code"]


@pytest.mark.parametrize(
    ("codes", "sent"),
    [
        (("95", "95"), ("95", None)),
        (("98", "99"), ("98", None)),
        (("57", "95", "95"), ("57", "95", None)),
        (("95", "98"), ("95", "98")),  # two meanings: Register's disabled, as the record says nothing clear
    ],
    ids=["95+95", "98+99", "57+95+95", "95+98"],
)
def test_a_repeated_no_known_disability_or_not_provided_is_sent_once(tmp_path, codes, sent):
    """review107 F1: Register gives `no_disability` only to exactly one 95 (§5.3), so 95 twice, which no rule named
    (R14 does not count it), made the trainee disabled, and drift against Register's single 95 sent it so. The
    repeat is sent blank, with a warning that says why."""
    from register_batch.validation import Checker
    from trainee_extracts import trainee, write_extract

    row = {**trainee(1), **{f"disability{n}": code for n, code in enumerate(codes, start=1)}}
    with Checker(as_of=AS_OF) as checker:
        [record] = list(checker.records([str(write_extract(tmp_path / "in.csv", [row]))]))
    assert tuple(record.data.get(f"disability{n}") for n in range(1, len(codes) + 1)) == sent
    said = [(i.code, i.field, i.value, i.severity.value) for i in record.issues]
    repeats = [n for n, value in enumerate(sent, start=1) if value is None]
    assert said == [("disability_sent_once", f"disability{n}", codes[n - 1], "warning") for n in repeats]
    if repeats:
        assert record.issues[0].message.startswith(f"disability{repeats[0]}: '{codes[repeats[0] - 1]}' (")
