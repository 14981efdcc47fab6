"""Boundaries and branches of the nested rules (validation/nested.py) that test_rules.py's one-defect cases leave
open: each assertion is one a wrong rule would break (found by mutation testing). Contract: register-api.md §3.4 and
§3.7-§3.10."""

from __future__ import annotations

import copy

import pytest

from valid_trainee import NON_UK_DEGREE, VALID, validated

DEGREE = VALID["degrees_attributes"][0]  # a UK degree: an institution, no country
GOOD_WITHDRAWAL = {
    "withdrawal_date": "2026-01-15",
    "reasons": ["did_not_make_progress"],
    "trigger": "trainee",
    "future_interest": "no",
}


def check(
    degrees: list[dict] | None = None,
    *,
    withdrawal: dict | None = None,
    deferral: dict | None = None,
    placements: list[dict] | None = None,
) -> list[tuple[str, str]]:
    data = copy.deepcopy(VALID)
    if degrees is not None:
        data["degrees_attributes"] = degrees
    if placements is not None:
        data["placements_attributes"] = placements
    record = validated(data, withdrawal=withdrawal, deferral=deferral)
    return [(i.field, i.code) for i in record.issues]


@pytest.mark.parametrize(
    "year,codes",
    [
        ("1967", []),  # now.year + 1 - 60
        ("1966", ["degree_graduation_year_invalid"]),
        ("2027", []),  # now.year + 1
        ("2028", ["degree_graduation_year_in_future", "degree_graduation_year_invalid"]),
        ("2027-06-30", []),  # YYYY-MM-DD is taken as its year
        ("2028-06-30", ["degree_graduation_year_in_future", "degree_graduation_year_invalid"]),
        ("twelve", ["degree_graduation_year_invalid"]),  # not a year: 0 for Register
    ],
)
def test_graduation_year_window(year, codes):
    """§3.4: `> now.year + 1` is in the future (and also invalid); valid years are [now.year + 1 - 60, now.year + 1]
    (AS_OF's year is 2026)."""
    found = check([dict(DEGREE, graduation_year=year)])
    assert [c for _f, c in found] == codes


@pytest.mark.parametrize("country", ["XF", "XG", "XH", "XI", "XK"])
def test_a_degree_from_a_uk_country_is_a_uk_degree(country):
    """§3.7: a UK country code makes a UK degree, which needs uk_degree and a grade, not non_uk_degree."""
    degree = {"subject": "100485", "graduation_year": "2012", "country": country}
    assert check([degree]) == [
        ("degrees_attributes[0].grade", "degree_grade_required"),
        ("degrees_attributes[0].uk_degree", "uk_degree_required"),
    ]


def test_a_foreign_degree_needs_no_grade_nor_uk_degree():
    """§3.7: a non-UK degree (a foreign country and no institution) needs non_uk_degree only."""
    assert check([NON_UK_DEGREE]) == []
    assert check([dict(NON_UK_DEGREE, grade=None)]) == []
    assert check([dict(NON_UK_DEGREE, grade="02", institution="0117")]) == [
        ("degrees_attributes[0].uk_degree", "uk_degree_required"),
        ("degrees_attributes[0].country", "degree_country_not_kept"),
    ]  # an institution makes it a UK degree, whose country Register does not keep


def test_a_stored_degree_keeps_its_locale():
    """§2.10: a degree Register holds keeps its locale_code until uk_degree or non_uk_degree is written again."""
    stored_non_uk = dict(NON_UK_DEGREE, institution="0117", locale_code="non_uk")
    assert check([stored_non_uk]) == []
    stored_uk = dict(DEGREE, country="FR", locale_code="uk")
    assert check([stored_uk]) == []


def test_a_known_grade_on_a_foreign_degree_is_fine_and_an_unknown_one_is_named():
    assert check([dict(NON_UK_DEGREE, grade="14")]) == []
    assert check([dict(NON_UK_DEGREE, grade="77")]) == [("degrees_attributes[0].grade", "unknown_degree_grade")]


@pytest.mark.parametrize(
    "field,value,code",
    [("grade", "21", "degree_grade_required"), ("subject", "Mathematics", "degree_subject_required")],
)
def test_an_unknown_code_is_reported_as_missing_beside_it_and_the_fix_says_why(field, value, code):
    """§3.7: Register blanks a grade or subject it does not know and then says it "must be entered" (its own words,
    kept); the report shows the value beside them, so the fix says that such a value is read as blank."""
    from register_batch.validation import CATALOGUE

    record = validated(dict(VALID, degrees_attributes=[dict(DEGREE, **{field: value})]))
    assert [(i.code, i.value, i.message) for i in record.issues] == [
        (code, value, f"{field} must be entered if specifying a previous UK degree or non-UK degree")
    ]
    assert "a value Register does not know is read as blank" in CATALOGUE[code].fix


@pytest.mark.parametrize(
    "field,value",
    [("non_uk_degree", "004"), ("country", "QQ")],
)
def test_unknown_codes_of_a_foreign_degree_are_invalid(field, value):
    """§3.7: non_uk_degree is a degree_type.yml code and country a country.yml code."""
    assert check([dict(NON_UK_DEGREE, **{field: value})]) == [(f"degrees_attributes[0].{field}", "invalid_degree_code")]


@pytest.mark.parametrize(
    ("degree", "field", "value"),
    [
        (dict(DEGREE, non_uk_degree="Bachelor of Arts"), "non_uk_degree", "Bachelor of Arts"),
        (dict(NON_UK_DEGREE, uk_degree="BA"), "uk_degree", "BA"),
    ],
    ids=["UK degree", "non-UK degree"],
)
def test_the_other_locales_type_is_not_checked_as_register_does_and_an_unknown_one_is_said_not_kept(
    degree, field, value
):
    """review113 F2: Register checks uk_degree on a UK degree only and non_uk_degree on a non-UK one only (§3.7,
    degree_attributes.rb `if: -> { locale_code == ... }`): a stray value that is not a code was an invalid_degree_code
    error (Register's message, saying Register refuses the trainee, which it takes). It is a warning of the tool's own:
    Register gives that field back blank."""
    record = validated(dict(VALID, degrees_attributes=[degree]))
    assert [(i.code, i.severity.value, i.field, i.value) for i in record.issues] == [
        ("degree_type_not_kept", "warning", f"degrees_attributes[0].{field}", value)
    ]
    record = validated(dict(VALID, degrees_attributes=[degree]), api_only=True)  # the emulator's rules
    assert record.issues == []


@pytest.mark.parametrize(
    "degree",
    [dict(DEGREE, non_uk_degree="051"), dict(NON_UK_DEGREE, uk_degree="051")],
    ids=["UK degree", "non-UK degree"],
)
def test_the_other_locales_type_that_is_a_code_is_kept_and_nothing_is_said(degree):
    """Register's mapper stores the other locale's type by its name and gives its code back (§3.7): nothing lost."""
    assert check([degree]) == []


def test_the_locales_own_type_is_still_refused_when_it_is_not_a_code_beside_a_stray_one():
    """Only the other locale's type goes unchecked: the degree's own is Register's inclusion error as ever."""
    assert check([dict(DEGREE, uk_degree="BA", non_uk_degree="BA")]) == [
        ("degrees_attributes[0].uk_degree", "invalid_degree_code"),
        ("degrees_attributes[0].non_uk_degree", "degree_type_not_kept"),
    ]


def test_gb_as_a_degree_country_is_invalid_and_the_fix_names_the_uk_countries():
    """§3.7: a degree's country is a country.yml code, where the UK is XF-XI or XK; GB, the UK in nationality.yml,
    is not one (Register's own message, kept), so the fix names the codes to use."""
    from register_batch.validation import CATALOGUE

    record = validated(dict(VALID, degrees_attributes=[dict(NON_UK_DEGREE, country="GB")]))
    [issue] = record.issues
    assert (issue.code, issue.field, issue.value) == ("invalid_degree_code", "degrees_attributes[0].country", "GB")
    fix = CATALOGUE[issue.code].fix
    assert "XF England" in fix and "XK" in fix and "not GB" in fix


@pytest.mark.parametrize("country", ["GB", "England"])
def test_an_unknown_country_beside_an_institution_is_not_kept_rather_than_invalid(country):
    """review91 F2: Register's mapper takes a degree with an institution for a UK degree and nulls its country before
    checking it (§3.7), so GB there is never refused: it was an invalid_degree_code error, and the record not sent.
    It is not kept, as a known country outside the UK is not."""
    record = validated(dict(VALID, degrees_attributes=[dict(DEGREE, country=country)]))
    assert [(i.code, i.severity.value, i.value) for i in record.issues] == [
        ("degree_country_not_kept", "warning", country)
    ]
    record = validated(dict(VALID, degrees_attributes=[dict(NON_UK_DEGREE, country=country)]))
    assert [i.code for i in record.issues] == ["invalid_degree_code"]  # no institution: a non-UK degree, kept


def test_a_second_degree_differing_in_one_identity_field_is_not_a_duplicate():
    """R7b compares all of subject, graduation_year, country, uk_degree, non_uk_degree and grade (§3.3)."""
    for field, value in (("subject", "100346"), ("graduation_year", "2013"), ("uk_degree", "001"), ("grade", "03")):
        assert check([DEGREE, dict(DEGREE, **{field: value})]) == [], field
    assert check([NON_UK_DEGREE, dict(NON_UK_DEGREE, country="DE")]) == []
    assert check([NON_UK_DEGREE, dict(NON_UK_DEGREE, non_uk_degree="001")]) == []


def test_three_degrees_with_the_last_two_alike_are_duplicates():
    other = dict(DEGREE, subject="100346")
    assert check([DEGREE, other, dict(other)]) == [("degrees_attributes", "duplicate_degrees")]


def test_withdrawal_on_the_itt_start_date_is_valid_and_the_day_before_is_not():
    """§3.4: withdrawal_date must not be before itt_start_date (VALID starts 2025-09-01)."""
    assert check(withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date="2025-09-01")) == []
    assert check(withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date="2025-08-31")) == [
        ("withdrawal_date", "withdrawal_date_invalid")
    ]


def test_a_withdrawal_needs_a_date_and_reasons():
    """§3.9: withdrawal_date and a non-empty reasons array are required."""
    found = check(withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=None, reasons=[]))
    assert found == [
        ("withdrawal_date", "withdrawal_date_invalid"),
        ("withdrawal_reasons", "withdrawal_reasons_invalid"),
    ]


@pytest.mark.parametrize(
    "trigger,reason,valid",
    [
        ("provider", "record_added_in_error", True),
        ("trainee", "record_added_in_error", False),
        ("provider", "trainee_workload_issues", False),
        ("trainee", "trainee_workload_issues", True),
    ],
)
def test_withdrawal_reasons_are_those_of_the_trigger(trigger, reason, valid):
    """§3.9: provider → PROVIDER_REASONS, anything else → TRAINEE_REASONS."""
    found = check(withdrawal=dict(GOOD_WITHDRAWAL, trigger=trigger, reasons=[reason]))
    assert found == ([] if valid else [("withdrawal_reasons", "withdrawal_reasons_invalid")])


def test_a_reason_of_the_other_trigger_gets_registers_example_and_a_fix_that_says_it_is_out_of_date():
    """§3.9: Register's message names unacceptable_behaviour as its example of a reason not valid for a trainee
    trigger, but that reason is in both lists (its own words, kept): the fix says so, and which reason is each
    trigger's other reason, the usual slip."""
    from register_batch.validation import CATALOGUE

    assert check(withdrawal=dict(GOOD_WITHDRAWAL, reasons=["unacceptable_behaviour"])) == []
    wrong = dict(GOOD_WITHDRAWAL, reasons=["had_to_withdraw_trainee_another_reason"], another_reason="Moved")
    record = validated(copy.deepcopy(VALID), withdrawal=wrong)
    [issue] = record.issues
    assert issue.code == "withdrawal_reasons_invalid"
    assert "eg unacceptable_behaviour for a trainee trigger" in issue.message
    fix = CATALOGUE[issue.code].fix
    assert "unacceptable_behaviour is a reason for either trigger" in fix
    assert "had_to_withdraw_trainee_another_reason" in fix and "trainee_chose_to_withdraw_another_reason" in fix


@pytest.mark.parametrize("future_interest", ["yes", "no", "unknown"])
def test_every_future_interest_of_the_list_is_accepted(future_interest):
    assert check(withdrawal=dict(GOOD_WITHDRAWAL, future_interest=future_interest)) == []


def test_safeguarding_concerns_need_their_description():
    """§3.9: safeguarding_concern_reasons is required when reasons include safeguarding_concerns."""
    concern = dict(GOOD_WITHDRAWAL, trigger="provider", reasons=["safeguarding_concerns"])
    assert check(withdrawal=concern) == [("withdrawal_safeguarding_concern_reasons", "withdrawal_details_required")]
    assert check(withdrawal=dict(concern, safeguarding_concern_reasons="Told the school")) == []
    another = dict(GOOD_WITHDRAWAL, reasons=["trainee_chose_to_withdraw_another_reason"], another_reason="Moved")
    assert check(withdrawal=another) == []


def test_defer_reason_takes_500_characters_and_not_501():
    """§2.8: defer_reason ≤ 500 (DeferralForm::MAX_DEFER_REASON_LENGTH); defer_date is required."""
    assert check(deferral={"defer_date": "2026-02-01", "defer_reason": "x" * 500}) == []
    assert check(deferral={"defer_date": "2026-02-01", "defer_reason": "x" * 501}) == [
        ("defer_reason", "defer_reason_too_long")
    ]
    assert check(deferral={"defer_reason": "x"}) == [("defer_date", "defer_date_invalid")]


def test_a_placement_with_a_urn_and_no_name_is_valid_and_a_good_postcode_passes():
    """§3.8: a name is required only when no school matched (a URN is given); a UK postcode is accepted."""
    assert check(placements=[{"urn": "123456"}]) == []
    assert check(placements=[{"name": "Hill Top", "postcode": "BN1 1AA"}]) == []


def test_a_placement_whose_urn_is_not_6_digits_needs_a_name_too():
    """§3.8: the name is required when no school matched, and a URN that is not 6 digits matches none: Register gives
    both messages, name first (§7.2). A well-formed URN is taken to match a school, which only Register can look up."""
    assert check(placements=[{"urn": "12345"}]) == [
        ("placements_attributes[0].name", "placement_name_required"),
        ("placements_attributes[0].urn", "placement_urn_invalid"),
    ]
    assert check(placements=[{"urn": "12345", "name": "Hill Top"}]) == [
        ("placements_attributes[0].urn", "placement_urn_invalid")
    ]
    assert check(placements=[{"urn": "900020"}]) == []


def test_unknown_codes_count_as_blank_when_degrees_are_compared():
    """R7b compares values after mapping, where an unknown code is blank (§3.3): two degrees differing only in an
    unknown subject code are the same degree to Register."""
    first, second = dict(DEGREE, subject="000000"), dict(DEGREE, subject="000001")
    assert ("degrees_attributes", "duplicate_degrees") in check([first, second])


def test_degrees_with_nothing_register_keeps_are_not_duplicates():
    """R7b needs identical non-blank values (§3.3): degrees whose every compared value is blank or unknown (a year
    that is no year is 0, so blank) are not duplicates of each other."""
    blank = {"subject": "000000", "graduation_year": "soon", "institution": "0117"}
    assert "duplicate_degrees" not in {c for _f, c in check([blank, dict(blank)])}


def test_a_graduation_year_after_next_year_gives_registers_message():
    record = validated({**copy.deepcopy(VALID), "degrees_attributes": [dict(DEGREE, graduation_year="2028")]})
    assert [i.message for i in record.issues] == [
        "graduation_year must be in the past, for example 2014",
        "graduation_year is invalid",
    ]


def test_a_future_interest_outside_the_list_gives_registers_message():
    """§3.9: `future_interest is not included in the list`."""
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, future_interest="maybe"))
    assert [(i.field, i.message) for i in record.issues] == [
        ("withdrawal_future_interest", "future_interest is not included in the list")
    ]


def test_a_missing_withdrawal_date_or_defer_date_is_called_blank_not_invalid():
    """§3.4, §2.8: a blank date has its own message ("Choose a withdrawal date", "can't be blank")."""
    record = validated(
        copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=None), deferral={"defer_reason": "x"}
    )
    assert [(i.field, i.message) for i in record.issues] == [
        ("withdrawal_date", "withdrawal_date Choose a withdrawal date"),
        ("defer_date", "defer_date can't be blank"),
    ]


def test_a_degree_with_nothing_compared_does_not_hide_a_later_duplicate():
    """R7b (§3.3): a degree whose compared values are all blank is passed over, and the degrees after it are still
    compared."""
    blank = {"subject": "000000", "graduation_year": "soon", "institution": "0117"}
    assert ("degrees_attributes", "duplicate_degrees") in check([blank, DEGREE, dict(DEGREE)])


@pytest.mark.parametrize(
    "change,message",
    [
        ({"withdrawal_date": "15 January 2026"}, "withdrawal_date Choose a valid withdrawal date"),
        ({"withdrawal_date": "2025-08-31"}, "withdrawal_date must be after itt_start_date"),
        ({"reasons": []}, "reasons Choose one or more reasons why the trainee withdrew from the course"),
        (
            {"trigger": "provider", "reasons": ["safeguarding_concerns"]},
            "safeguarding_concern_reasons Enter the concerns",
        ),
    ],
)
def test_a_withdrawal_fault_gives_registers_message(change, message):
    """§3.4, §3.9: each fault of a withdrawal is reported in Register's own words."""
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, **change))
    assert [i.message for i in record.issues] == [message]


@pytest.mark.parametrize("written", ["20260115", "2026-015", "2026-W03-4"])
def test_a_withdrawal_date_register_reads_in_another_form_is_asked_as_yyyy_mm_dd(written):
    """§3.9: DateTime.iso8601 reads 20260115 as a day, so Register's "Choose a valid withdrawal date" is not its answer:
    the record's own rule asks for YYYY-MM-DD, naming the day (review78 F2). One it cannot read still gets Register's
    words."""
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    assert [(i.code, i.field, i.is_error) for i in record.issues] == [("date_not_yyyy_mm_dd", "withdrawal_date", True)]
    assert "write the date as YYYY-MM-DD (2026-01-15)" in record.issues[0].message
    early = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date="20250831"))
    assert [i.message for i in early.issues if i.code == "withdrawal_date_invalid"] == [
        "withdrawal_date must be after itt_start_date"
    ]


@pytest.mark.parametrize(
    "scope,field,written",
    [
        ("deferral", "defer_date", "2026-09-15T10:00:00Z"),
        ("deferral", "defer_date", "20260915"),
        ("withdrawal", "withdrawal_date", "20260915T100000Z"),
        ("withdrawal", "withdrawal_date", "2026-258T10:00Z"),
    ],
)
def test_a_side_date_with_a_time_register_reads_is_asked_as_yyyy_mm_dd(scope, field, written):
    """§2.8, §3.9: Date.iso8601 and DateTime.iso8601 read these as 2026-09-15 (review79 F3): not Register's "is
    invalid" or "Choose a valid withdrawal date", but the record's own rule, naming the day."""
    body = {"defer_date": written} if scope == "deferral" else dict(GOOD_WITHDRAWAL, withdrawal_date=written)
    record = validated(copy.deepcopy(VALID), **{scope: body})
    assert [(i.code, i.field) for i in record.issues] == [("date_not_yyyy_mm_dd", field)]
    assert "2026-09-15" in record.issues[0].message  # a time with a zone: no one day offered (review211 F3)


@pytest.mark.parametrize("written", ["20260915250000", "202609152500", "20260915106000"])
def test_a_basic_date_time_datetime_refuses_is_refused_in_registers_words(written):
    """review80 F1: DateTime.iso8601 reads a basic time after a basic date without its T (`t?`) and refuses an hour of
    25 or a minute of 60: Register's "Choose a valid withdrawal date", not date_not_yyyy_mm_dd's "Register reads it as
    that day"."""
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    assert [(i.code, i.field) for i in record.issues] == [("withdrawal_date_invalid", "withdrawal_date")]


@pytest.mark.parametrize(
    "written,day",
    [
        ("2026-09-15T24:00", "2026-09-16"),  # 24:00:00 is the next day
        ("2026-09-15T10:00:60", "2026-09-15"),  # a second of 60 beside a calendar date is 59
        ("2026-258T10:00:99", "2026-09-15"),  # any second past 59 beside another form is 59
        ("--0915T100000", "2026-09-15"),  # a reduced basic date with a basic time
    ],
)
def test_a_withdrawal_time_datetime_takes_is_asked_as_yyyy_mm_dd(written, day):
    """review80 F2: DateTime.iso8601 (dt_new_by_frags, c_valid_time_p) takes these, so they are the record's own rule's
    (date_not_yyyy_mm_dd, naming the day Register reads), not "Choose a valid withdrawal date"."""
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    assert [(i.code, i.field) for i in record.issues] == [("date_not_yyyy_mm_dd", "withdrawal_date")]
    assert f"({day})" in record.issues[0].message


def test_reasons_not_of_the_trigger_are_shown_together_as_they_are_written():
    """§3.9: the issue shows every reason the trigger does not allow, separated by `;` as the withdrawal_reasons
    column is written, and not the reasons that are allowed."""
    reasons = ["record_added_in_error", "did_not_make_progress", "mandatory_reasons"]
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, reasons=reasons))
    assert [(i.code, i.value) for i in record.issues] == [
        ("withdrawal_reasons_invalid", "record_added_in_error;mandatory_reasons")
    ]


@pytest.mark.parametrize(
    "written,valid",
    [
        ("2026-01-15T09:30", True),
        ("2026-01-15T09:30:00.5+01:00", True),
        ("2026-01-15T", False),
        ("2026-01-15Tmorning", False),
        ("2026-01-15T09", False),
        ("2026-01-15T25:00", False),
        ("2026-01-15T09:30 and more", False),
    ],
)
def test_after_a_withdrawal_date_comes_a_time_or_nothing(written, valid):
    """§3.4: Register reads withdrawal_date with `DateTime.iso8601`: the date, alone or then a T and a time of at
    least hh:mm; a date followed by anything else is not a valid withdrawal date. One Register reads is not
    YYYY-MM-DD, which is the record's own rule, as for a defer_date (review211 F2)."""
    found = check(withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    assert found == (
        [("withdrawal_date", "date_not_yyyy_mm_dd")] if valid else [("withdrawal_date", "withdrawal_date_invalid")]
    )


@pytest.mark.parametrize(
    "written,valid",
    [
        ("2025-09-01T00:30:00+01:00", False),  # 2025-08-31 23:30 UTC: before the start (review30 F1)
        ("2025-08-31T23:30:00-01:00", True),  # 2025-09-01 00:30 UTC: on the start day
        ("2025-09-01T00:00:00+00:00", True),
        ("2025-08-31T23:59:59", False),  # no offset: UTC, as DateTime.iso8601 reads it
        ("2025-09-01T00:00", True),
        ("2025-08-31T23:59:59.5-00:01", True),
    ],
)
def test_a_withdrawal_date_with_a_time_is_judged_by_its_instant(written, valid):
    """§3.4, §3.9: Register compares `DateTime.iso8601(withdrawal_date)` with itt_start_date (VALID: 2025-09-01),
    and Ruby compares a DateTime with a Date by instant, the Date at 00:00 UTC, not by the written day. Each is also
    not YYYY-MM-DD (review211 F2)."""
    found = check(withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    assert ("withdrawal_date", "date_not_yyyy_mm_dd") in found
    refused = [f for f in found if f[1] != "date_not_yyyy_mm_dd"]
    assert refused == ([] if valid else [("withdrawal_date", "withdrawal_date_invalid")])


@pytest.mark.parametrize(
    "written,before,day",
    [
        ("20250831T233000-0100", False, "2025-08-31"),  # 2025-09-01T00:30Z: on the start day
        ("20250901T003000+0100", True, "2025-09-01"),  # 2025-08-31T23:30Z
        ("2025-08-31T24:00:00+01:00", True, "2025-09-01"),  # 2025-08-31T23:00Z
    ],
)
def test_a_withdrawal_date_in_another_form_is_judged_by_its_instant(written, before, day):
    """review113 F3: Register compares `DateTime.iso8601(withdrawal_date)` with itt_start_date (VALID: 2025-09-01) by
    instant whatever the form (Ruby 3.1: false, true, true); the day in the value's own offset was compared. The
    day date_not_yyyy_mm_dd names is the one Register keeps (its own offset's)."""
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    found = [(i.code, i.message) for i in record.issues]
    assert [m for c, m in found if c == "withdrawal_date_invalid"] == (
        ["withdrawal_date must be after itt_start_date"] if before else []
    )
    [said] = [m for c, m in found if c == "date_not_yyyy_mm_dd"]
    # A time with a zone that is not midnight names the UTC and UK days beside Register's (review211 F3).
    plain = (
        f"withdrawal_date: write the date as YYYY-MM-DD ({day}): Register reads '{written}' as that day but returns it "
        "as YYYY-MM-DD, so the value sent would show as changed on every sync"
    )
    assert said == plain or f"in UK time, which Register would read as {day}" in said


@pytest.mark.parametrize("written", ["2025", "2059", "10:30", "1030", "103000Z", "10:30:00+01:00", " 0000 ", "2400"])
def test_a_withdrawal_date_that_is_a_time_alone_is_the_tools_own_error_not_registers(written):
    """review113 F3: DateTime.iso8601 reads a time alone as today's (Ruby 3.1: `2025` is 20:25 today, 2400 tomorrow's
    midnight), so Register takes the withdrawal, dated the day it is sent: not its "Choose a valid withdrawal date"
    but the record's own error; the emulator's rules take it, or refuse it as before a start still to come."""
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    assert [(i.code, i.field, i.is_error) for i in record.issues] == [
        ("withdrawal_date_is_a_time", "withdrawal_date", True)
    ]
    api = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written), api_only=True)
    assert api.issues == []
    later_start = dict(VALID, itt_start_date="2026-12-01", trainee_start_date="2026-12-01", itt_end_date="2027-07-31")
    api = validated(later_start, withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written), api_only=True)
    assert [i.message for i in api.issues if i.code == "withdrawal_date_invalid"] == [
        "withdrawal_date must be after itt_start_date"
    ]


@pytest.mark.parametrize("written", ["10:30Z", "10:30+01:00", "1030Z", "T10:30", "2460", "10:61", "24:00:01"])
def test_a_time_datetime_refuses_keeps_registers_message(written):
    """Ruby 3.1: a zone only after the seconds, no T before a time alone, and the time's own limits: Date::Error."""
    record = validated(copy.deepcopy(VALID), withdrawal=dict(GOOD_WITHDRAWAL, withdrawal_date=written))
    assert [(i.code, i.message) for i in record.issues] == [
        ("withdrawal_date_invalid", "withdrawal_date Choose a valid withdrawal date")
    ]


REQUIRED_YEAR = (
    "degrees_attributes[0].graduation_year",
    "degree_graduation_year_required",
    None,
    "graduation_year must be entered if specifying a previous UK degree or non-UK degree",
)


@pytest.mark.parametrize(
    ("year", "found"),
    [
        ("left out", [REQUIRED_YEAR]),
        (None, [REQUIRED_YEAR]),
        ("  ", [REQUIRED_YEAR]),  # Rails' presence: text of spaces is no value
        (2012, []),  # a library caller's number
        (2012.0, []),  # pandas' year column with a blank in it
        (
            float("inf"),
            [
                (
                    "degrees_attributes[0].graduation_year",
                    "degree_graduation_year_invalid",
                    "inf",
                    "graduation_year is invalid",
                )
            ],
        ),
        (  # its number, not the text "1e+20" (whose to_i is 1)
            1e20,
            [
                (
                    "degrees_attributes[0].graduation_year",
                    "degree_graduation_year_in_future",
                    "1e+20",
                    "graduation_year must be in the past, for example 2014",
                ),
                (
                    "degrees_attributes[0].graduation_year",
                    "degree_graduation_year_invalid",
                    "1e+20",
                    "graduation_year is invalid",
                ),
            ],
        ),
    ],
    ids=["left out", "null", "spaces", "integer", "float", "infinite", "float of 21 digits"],
)
def test_a_graduation_year_is_required_and_read_as_the_number_it_is(year, found):
    """§3.4: a degree needs a graduation year; a number (a library caller's, or pandas' float) is read as that year,
    and a float that is no number is no year (0 to Register), not an internal error."""
    degree = dict(DEGREE)
    if year == "left out":
        del degree["graduation_year"]
    else:
        degree["graduation_year"] = year
    data = copy.deepcopy(VALID)
    data["degrees_attributes"] = [degree]
    assert [(i.field, i.code, i.value, i.message) for i in validated(data).issues] == found


def test_a_placement_postcode_that_is_not_a_uk_one_is_a_warning_as_a_new_trainee_is_created_without_it():
    """review91 F1: Register drops a nested placement's postcode before it validates a new trainee (§3.8), so a bad
    one never refuses the create: it was an error, and the record was not sent. It is a warning (`POST …/placements`,
    a placement added later, does refuse it)."""
    record = validated(dict(VALID, placements_attributes=[{"urn": "900020", "name": "P", "postcode": "ZZ99"}]))
    assert [(i.code, i.severity.value) for i in record.issues] == [("placement_postcode_invalid", "warning")]
