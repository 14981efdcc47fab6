"""Mapping raw records to API bodies: field maps, vintages, legacy code translations, user mapping files."""

from __future__ import annotations

import pytest

from register_batch.mapping import Mapper, load_mapping
from register_batch.model import SourceRef
from register_batch.readers.base import RawRecord
from register_batch.reference import load_reference
from register_batch.validation import Validator
from xml_reads import bundled_mapping, read


def mapped(fields, groups=None, fmt="hesa-xml", config=None):
    raw = RawRecord(source=SourceRef(input="x.xml", record=1, line=2), fields=fields, groups=groups or {})
    return Mapper(config or load_mapping()).map(raw, fmt)


def test_c21053_codes_are_translated_with_warnings():
    record = mapped(
        {
            "F_SEXID": "1",
            "F_ETHNIC": "80",
            "F_DISABLE": "00",
            "F_ITTPHSC": "71",
            "F_INITIATIVES1": "M",
            "F_NATION": "QO",
            "F_ENDDATE": "2026-07-31",
        }
    )
    assert record.vintage == "C21053"
    data = record.data
    assert (data["sex"], data["ethnicity"], data["disability1"], data["course_age_range"]) == (
        "11",
        "899",
        "95",
        "13909",
    )
    assert data["training_initiative"] == "009" and data["nationality"] == "XK"
    assert data["itt_end_date"] == "2026-07-31"  # C21053: F_ENDDATE was the end date
    warnings = [(i.field, i.value, i.code) for i in record.issues]
    assert ("sex", "1", "legacy_code_translated") in warnings and len(warnings) == 6
    assert all(i.severity.value == "warning" for i in record.issues)


def test_c22053_end_date_is_not_taken_from_f_enddate():
    record = mapped({"F_DISABLE1": "95", "F_ENDDATE": "2023-01-01", "F_ITTCOMDATE": "2022-09-01"})
    assert record.vintage == "C22053"
    assert "itt_end_date" not in record.data
    assert record.data["itt_start_date"] == record.data["trainee_start_date"] == "2022-09-01"


def test_route_01_depends_on_qualification_aim():
    assert mapped({"F_ENTRYRTE": "01", "F_QLAIM": "008"}).data["training_route"] == "11"
    assert mapped({"F_ENTRYRTE": "01", "F_QLAIM": "020"}).data["training_route"] == "12"


def test_untranslatable_codes_are_errors_that_say_why():
    """Both errors: the disability one register-batch's (Register drops it), the route one Register's (review234 F1)."""
    record = mapped({"F_DISABLE1": "08", "F_ENTRYRTE": "02"})
    assert [(i.field, i.code, i.severity.value) for i in record.issues] == [
        ("disability1", "untranslatable_code_register_takes", "error"),
        ("training_route", "untranslatable_code", "error"),
    ]
    assert "multiple disabilities" in record.issues[0].message
    assert record.reported == {"disability1", "training_route"}


def test_degree_type_split_by_locale_and_honours_codes():
    groups = {
        "PREVIOUSQUALIFICATION": [
            {"F_DEGTYPE": "004", "F_DEGCTRY": "XF", "F_DEGEST": "0001", "F_DEGSBJ1": "100251", "F_DEGENDDT": "2005"},
            {"F_DEGTYPE": "083", "F_DEGCTRY": "FR", "F_DEGSBJ1": "100251"},
            {"F_DEGTYPE": None, "F_DEGCTRY": None},  # all NULL: dropped
        ]
    }
    record = mapped({}, groups)
    uk, abroad = record.data["degrees_attributes"]
    assert uk == {"uk_degree": "003", "institution": "0001", "subject": "100251", "graduation_year": "2005"}
    assert abroad == {"non_uk_degree": "083", "country": "FR", "subject": "100251"}
    assert [i.field for i in record.issues] == ["degrees_attributes[0].uk_degree"]


def test_placements_get_names_like_registers_csv_import():
    record = mapped({}, {"PLACEMENT": [{"F_PLMNTSCH": "900000"}, {"F_PLMNTSCH": "123456"}]})
    assert record.data["placements_attributes"] == [
        {"urn": "900000", "name": "Placement 1"},
        {"urn": "123456", "name": "Placement 2"},
    ]


def test_flat_csv_groups_are_numbered_columns():
    record = mapped(
        {"F_PLMNTSCH_1": "900000", "F_PLMNTSCH_2": "123456", "F_DEGTYPE": "083", "F_DEGSBJ1": "100251"}, fmt="hesa-csv"
    )
    assert [p["urn"] for p in record.data["placements_attributes"]] == ["900000", "123456"]
    assert record.data["degrees_attributes"] == [{"uk_degree": "083", "subject": "100251"}]


def test_register_csv_columns_and_withdrawal_extension():
    record = mapped(
        {
            "hesa_id": "1",
            "degree_subject": "100251",
            "uk_degree": "083",
            "placement_2_urn": "900010",
            "withdrawal_reasons": "did_not_make_progress; trainee_workload_issues",
            "withdrawal_date": "2026-01-01",
        },
        fmt="register-csv",
    )
    assert record.data["degrees_attributes"] == [{"uk_degree": "083", "subject": "100251"}]
    assert record.data["placements_attributes"] == [{"urn": "900010", "name": "Placement 1"}]
    assert record.withdrawal == {
        "withdrawal_date": "2026-01-01",
        "reasons": ["did_not_make_progress", "trainee_workload_issues"],
    }


@pytest.mark.parametrize("fmt", ["register-csv", "hesa-csv"])
def test_a_withdrawal_reason_given_twice_is_one_reason(fmt):
    """§3.9: Register stores a withdrawal's distinct reasons (`WithdrawalReason.where(name: reasons)`), so a reason
    repeated in the record is one, in the order first written: sent twice, Register held it once and every sync
    warned that its reasons differed from the record's (review30 F3)."""
    column = "withdrawal_reasons" if fmt == "register-csv" else "WITHDRAWAL_REASONS"
    date_column = "withdrawal_date" if fmt == "register-csv" else "WITHDRAWAL_DATE"
    written = "did_not_make_progress;trainee_workload_issues; did_not_make_progress|trainee_workload_issues"
    record = mapped({column: written, date_column: "2026-01-01"}, fmt=fmt)
    assert record.withdrawal is not None
    assert record.withdrawal["reasons"] == ["did_not_make_progress", "trainee_workload_issues"]


def test_user_mapping_file_layers_over_the_bundled_one(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text(
        "fields:\n  hesa:\n    trainee:\n      provider_trainee_id: F_ITTKEY\n"
        "codes:\n  course_subject_1:\n    source: our SRS subject codes\n    translate:\n      X100: '100511'\n"
    )
    config = load_mapping([user])
    record = mapped({"F_ITTKEY": "K1", "F_OWNSTU": "O1", "F_SBJCA1": "X100"}, config=config)
    assert record.data["provider_trainee_id"] == "K1" and record.data["course_subject_1"] == "100511"
    assert "our SRS subject codes" in record.issues[0].message


def test_a_users_source_for_a_field_is_read_in_older_layouts_too(tmp_path):
    """C21053 records read itt_end_date from F_EXPECTEDENDDATE or F_ENDDATE (the bundled layout); a user's file that
    reads it from its own tag is read in those records as in every other, unless it names C21053's sources too."""
    c21053 = {"F_DISABLE": "00", "F_ENDDATE": "2026-07-31", "F_OURENDDATE": "2026-06-30"}
    assert mapped(c21053).data["itt_end_date"] == "2026-07-31"
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    trainee:\n      itt_end_date: F_OURENDDATE\n")
    record = mapped(c21053, config=load_mapping([user]))
    assert (record.vintage, record.data["itt_end_date"]) == ("C21053", "2026-06-30")
    assert (
        mapped({"F_DISABLE1": "95", "F_OURENDDATE": "2026-06-30"}, config=load_mapping([user])).data["itt_end_date"]
        == "2026-06-30"
    )
    both = tmp_path / "both.yaml"
    both.write_text(
        "fields:\n  hesa:\n    trainee:\n      itt_end_date: F_OURENDDATE\n"
        "    vintages:\n      C21053:\n        trainee:\n          itt_end_date: F_ENDDATE\n"
    )
    assert mapped(c21053, config=load_mapping([both])).data["itt_end_date"] == "2026-07-31"
    assert mapped(c21053, config=load_mapping()).data["itt_end_date"] == "2026-07-31"  # the bundled map unchanged


@pytest.mark.parametrize(
    "text,problem",
    [
        ("fields:\n  hesa:\n    trainee:\n      favourite_colour: F_X\n", "not a Register API v2026.1 field"),
        ("colours: {}\n", "unknown top-level key"),
        ("fields:\n  excel: {}\n", "unknown input family"),
        ("codes:\n  sex:\n    translate:\n      '1': {note: x}\n", "must be a code"),
        ("[1, 2", "not valid YAML"),
    ],
)
def test_bad_mapping_files_name_the_file_and_problem(refusal, text, problem):
    user, message = refusal(text)
    assert user in message and problem in message


def test_a_users_translations_add_to_the_bundled_ones_code_by_code(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    source: our SRS\n    translate:\n      M: '11'\n      '2': '12'\n")
    config = load_mapping([user])
    assert mapped({"F_SEXID": "1"}, config=config).data["sex"] == "11"  # bundled, kept
    assert mapped({"F_SEXID": "M"}, config=config).data["sex"] == "11"  # the user's own
    assert mapped({"F_SEXID": "2"}, config=config).data["sex"] == "12"  # the user's wins for that code


def test_source_names_in_field_maps_are_case_insensitive(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text(
        "fields:\n  hesa:\n    trainee:\n      provider_trainee_id: ittkey\n"
        "  register-csv:\n    trainee:\n      provider_trainee_id: Student_Number\n"
    )
    config = load_mapping([user])
    assert mapped({"F_ITTKEY": "K1"}, config=config).data["provider_trainee_id"] == "K1"
    assert mapped({"student_number": "S1"}, fmt="register-csv", config=config).data["provider_trainee_id"] == "S1"


def test_extra_columns_can_be_ignored_without_losing_the_bundled_list(tmp_path, register_csv_fixtures):
    """Register's error report (its `Validation results` and `Errors` columns, ignored by the bundled list) with a
    column of the SRS's own: a user's `ignored` adds to the bundled list, so both are read and dropped."""
    from register_batch.readers import open_inputs

    source = (register_csv_fixtures / "failed_with_failed.csv").read_text().splitlines()
    source = [source[0] + ",SRS notes"] + [line + ",call back" for line in source[1:]]
    path = tmp_path / "extra.csv"
    path.write_text("\n".join(source) + "\n")
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  register-csv:\n    ignored: ['SRS notes']\n")
    [(info, records)] = list(open_inputs([str(path)], "auto", load_mapping([user])))
    rows = list(records)
    assert info.format == "register-csv" and len(rows) == 5
    assert not {"srs notes", "validation results", "errors"} & set(rows[0].fields)


def test_a_list_of_sources_in_a_users_file_replaces_the_bundled_list(tmp_path):
    """`itt_start_date: [F_OURSTART]` is read from F_OURSTART, not after the bundled tags as one more of them."""
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    trainee:\n      itt_start_date: [F_OURSTART, F_COMDATE]\n")
    config = load_mapping([user])
    record = mapped({"F_ITTSTARTDATE": "2026-09-01", "F_OURSTART": "2026-09-07"}, config=config)
    assert record.data["itt_start_date"] == "2026-09-07"
    assert "itt_start_date" not in mapped({"F_ITTSTARTDATE": "2026-09-01"}, config=config).data


def test_a_users_register_csv_map_without_placements_keeps_the_placement_columns(tmp_path):
    """Only a file that maps placement fields replaces the URN columns: one that maps a trainee field keeps them."""
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  register-csv:\n    trainee:\n      provider_trainee_id: student number\n")
    record = mapped({"placement_1_urn": "136000"}, fmt="register-csv", config=load_mapping([user]))
    assert record.data["placements_attributes"] == [{"urn": "136000", "name": "Placement 1"}]


def test_a_legacy_leaving_reason_is_reported_not_guessed():
    record = mapped({"F_RSNEND": "03", "F_ENDDATE": "2023-01-31", "F_DISABLE1": "95"})
    [issue] = record.issues
    assert (issue.code, issue.severity.value, issue.field, issue.value) == (
        "legacy_withdrawal_not_sent",
        "warning",
        "withdrawal_date",
        "03",
    )
    assert "transferred to another provider" in issue.message and "2023-01-31" in issue.message
    assert record.withdrawal is None
    assert mapped({"F_RSNEND": "01", "F_ENDDATE": "2023-01-31"}).issues == []  # left with an award


@pytest.mark.parametrize("code", ["02", "04", "07"])
def test_every_leaving_reason_but_an_award_is_reported(code):
    """hesa-formats.md §5 item 25: only 01 and 98 are not withdrawals; any other F_RSNEND says the trainee left."""
    record = mapped({"F_RSNEND": code, "F_ENDDATE": "2023-01-31", "F_DISABLE1": "95"})
    [issue] = record.issues
    assert (issue.code, issue.severity.value, issue.field, issue.value) == (
        "legacy_withdrawal_not_sent",
        "warning",
        "withdrawal_date",
        code,
    )
    assert issue.message.startswith(
        f"F_RSNEND '{code}' (a reason for ending other than an award) with F_ENDDATE 2023-01-31 says the trainee left"
    )
    assert mapped({"F_RSNEND": "98", "F_ENDDATE": "2023-01-31"}).issues == []  # award not yet known


def test_a_c21053_leavers_end_date_is_their_leaving_date_not_their_expected_end_date():
    """hesa-formats.md §1.3: C21053's F_ENDDATE is the expected end date, and for a trainee who left the leaving date.
    A leaver's is not read as itt_end_date (sync sent it over the end date Register held: review161 F2), and the
    warning says so; a trainee who left with an award (01), or a leaver's own F_EXPECTEDENDDATE, keeps the end date."""
    c21053 = {"F_DISABLE": "00", "F_COMDATE": "2026-09-01", "F_ENDDATE": "2026-12-01"}
    left = mapped({**c21053, "F_RSNEND": "03"})
    assert left.vintage == "C21053" and "itt_end_date" not in left.data
    [issue] = [i for i in left.issues if i.code == "legacy_withdrawal_not_sent"]
    assert issue.message.endswith(
        "F_ENDDATE 2026-12-01 is read as the leaving date, not as the expected end date, so itt_end_date is blank: "
        "give the expected end date in F_EXPECTEDENDDATE"
    ), issue.message
    assert mapped({**c21053, "F_RSNEND": "01"}).data["itt_end_date"] == "2026-12-01"  # an award: the end date
    own = mapped({**c21053, "F_RSNEND": "03", "F_EXPECTEDENDDATE": "2027-07-24"})
    assert own.data["itt_end_date"] == "2027-07-24"
    [said] = [i.message for i in own.issues if i.code == "legacy_withdrawal_not_sent"]
    assert "leaving date" not in said  # nothing was left out


C21053_WITHDRAWAL = {
    "WITHDRAWAL_DATE": "2026-12-01",
    "WITHDRAWAL_REASONS": "trainee_workload_issues",
    "WITHDRAWAL_TRIGGER": "trainee",
    "WITHDRAWAL_FUTURE_INTEREST": "no",
}


def test_a_c21053_leaver_withdrawn_is_told_their_leaving_date_is_sent_as_their_end_date():
    """review164 F1: a leaver whose withdrawal columns are filled in keeps F_ENDDATE (the leaving date) as itt_end_date,
    as a required field its withdrawal cannot be sent without, but is now told that Register's expected end date
    becomes the leaving date, and how to keep it: F_EXPECTEDENDDATE, which a C21053 Student may have."""
    c21053 = {"F_DISABLE": "00", "F_COMDATE": "2026-09-01", "F_ENDDATE": "2026-12-01", **C21053_WITHDRAWAL}
    left = mapped({**c21053, "F_RSNEND": "03"})
    assert left.vintage == "C21053" and left.data["itt_end_date"] == "2026-12-01"
    [issue] = [i for i in left.issues if i.code == "leaving_date_sent_as_end_date"]
    assert (issue.field, issue.value, issue.severity.value) == ("itt_end_date", "2026-12-01", "warning")
    assert issue.message == (
        "F_RSNEND '03' (transferred to another provider) says the trainee left, so F_ENDDATE 2026-12-01 is the date "
        "they left, and with no F_EXPECTEDENDDATE it is read as itt_end_date too: Register's expected end date for "
        "the course becomes 2026-12-01. Give the expected end date in F_EXPECTEDENDDATE to keep it"
    ), issue.message
    assert not [i for i in left.issues if i.code == "legacy_withdrawal_not_sent"]  # it is a withdrawal
    own = mapped({**c21053, "F_RSNEND": "03", "F_EXPECTEDENDDATE": "2027-07-24"})
    assert own.vintage == "C21053" and own.data["itt_end_date"] == "2027-07-24"  # its own tag: no layout change
    assert [i.code for i in own.issues] == ["legacy_code_translated"]
    assert [i.code for i in mapped({**c21053, "F_RSNEND": "01"}).issues] == ["legacy_code_translated"]  # award
    assert [i.code for i in mapped({**c21053, "F_RSNEND": None}).issues] == ["legacy_code_translated"]


def test_a_c21053_leavers_missing_end_date_names_the_leaving_date_and_the_tag_to_add():
    """review164 F3: the required itt_end_date error of a leaver without withdrawal columns showed F_ENDDATE blank and
    said "Fill in the field", while F_ENDDATE holds the leaving date; it now shows that date and names
    F_EXPECTEDENDDATE, once (the rule's own plain error is not added beside it)."""
    left = mapped({"F_DISABLE": "00", "F_COMDATE": "2026-09-01", "F_ENDDATE": "2026-11-01", "F_RSNEND": "03"})
    Validator(load_reference()).check(left)
    [required] = [i for i in left.issues if i.field == "itt_end_date"]
    assert (required.code, required.value, required.severity.value) == ("required", "2026-11-01", "error")
    assert required.message == (
        "itt_end_date can't be blank: F_ENDDATE 2026-11-01 is the date the trainee left (F_RSNEND '03'), not the "
        "expected end date of their course: give that in F_EXPECTEDENDDATE"
    ), required.message


PREVIOUSLY = {"63": "full-time", "64": "part-time"}


@pytest.mark.parametrize("mode", ["63", "64"])
def test_a_dormant_study_mode_is_reported_not_sent_as_a_deferral(mode):
    """hesa-formats.md §1.5, §2.3.8, §5 item 25: the legacy import deferred F_MODE 63/64; the API does not."""
    record = mapped({"F_MODE": mode, "F_ITTSTARTDATE": "2025-09-01"})
    [issue] = record.issues
    assert (issue.code, issue.severity.value, issue.field, issue.value) == (
        "legacy_deferral_not_sent",
        "warning",
        "study_mode",
        mode,
    )
    assert issue.message.startswith(
        f"study_mode '{mode}' (dormant, previously {PREVIOUSLY[mode]}) made the old HESA import defer the trainee, "
        "but Register stores it as a study mode only"
    )
    assert record.data["study_mode"] == mode and record.deferral is None
    deferred = mapped({"F_MODE": mode, "DEFER_DATE": "2025-11-01"}, fmt="hesa-csv")
    assert deferred.deferral == {"defer_date": "2025-11-01"} and deferred.issues == []
    assert mapped({"F_MODE": "01"}).issues == []
    assert mapped({"study_mode": mode}, fmt="register-csv").issues == []  # no legacy import behind Register's CSV


def test_codes_in_a_users_file_stay_as_written_even_unquoted(tmp_path):
    """YAML 1.1 reads NO as false and 01 as 1; in a mapping file every code is text."""
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  nationality:\n    source: our SRS\n    translate:\n      NOR: NO\n"
        "  sex:\n    source: our SRS\n    translate:\n      01: 10\n      ON: 11\n"
    )
    config = load_mapping([user])
    record = mapped({"F_NATION": "NOR", "F_SEXID": "01"}, config=config)
    assert record.data["nationality"] == "NO" and record.data["sex"] == "10"
    assert mapped({"F_SEXID": "ON"}, config=config).data["sex"] == "11"


def test_a_users_file_may_reuse_blocks_and_leave_sections_and_values_empty(tmp_path):
    """Codes are read as text, but the rest of YAML still works: merge keys (as the bundled file uses), an empty
    section, an empty value for no note."""
    user = tmp_path / "ours.yaml"
    user.write_text(
        "fields:\n  hesa:\n    trainee:\n"
        "codes:\n"
        "  sex: &ours\n    source: our SRS\n    translate:\n      M: {to: '11', note: }\n"
        "  training_route:\n    <<: *ours\n    translate:\n      '02': '12'\n"
    )
    config = load_mapping([user])
    record = mapped({"F_SEXID": "M", "F_ENTRYRTE": "02"}, config=config)
    assert record.data["sex"] == "11" and record.data["training_route"] == "12"


@pytest.mark.parametrize("country", ["XF", "XG", "XH", "XI", "XK"])
def test_a_degree_from_any_uk_country_is_a_uk_degree_without_its_country(country):
    """§5 item 12: England, Wales, Scotland, Northern Ireland and 'UK, not otherwise specified' are all the UK, with
    or without an institution; Register stores a UK degree's country as null (§3.7), so it is not sent."""
    record = mapped({}, {"PREVIOUSQUALIFICATION": [{"F_DEGTYPE": "083", "F_DEGCTRY": country, "F_DEGSBJ1": "100251"}]})
    assert record.data["degrees_attributes"] == [{"uk_degree": "083", "subject": "100251"}]


def test_a_degree_from_abroad_is_a_non_uk_degree_with_its_country_unless_an_institution_is_given():
    abroad = {"F_DEGTYPE": "083", "F_DEGCTRY": "FR", "F_DEGSBJ1": "100251"}
    record = mapped({}, {"PREVIOUSQUALIFICATION": [abroad, {**abroad, "F_DEGEST": "0001"}]})
    assert record.data["degrees_attributes"] == [
        {"non_uk_degree": "083", "country": "FR", "subject": "100251"},
        {"uk_degree": "083", "country": "FR", "subject": "100251", "institution": "0001"},
    ]


HESA_WITHDRAWAL = "its WITHDRAWAL_* columns or tags or F_RSNEND (up to C22053)"
HESA_DEFERRAL = "its DEFER_* columns or tags or a dormant F_MODE"


@pytest.mark.parametrize(
    "fields,fmt,can_say",
    [
        # Since C23053 a HESA record says a leaving only in the WITHDRAWAL_* columns (or an F_RSNEND it still has).
        ({"F_ITTSTARTDATE": "2025-09-01"}, "hesa-xml", {"deferral": HESA_DEFERRAL}),
        ({"F_ITTSTARTDATE": "2025-09-01", "F_RSNEND": "01"}, "hesa-xml", {"withdrawal": HESA_WITHDRAWAL}),
        ({"F_DISABLE": "00"}, "hesa-xml", {"withdrawal": HESA_WITHDRAWAL}),  # C21053 could say it in F_RSNEND
        ({"F_ITTCOMDATE": "2022-09-01"}, "hesa-xml", {"withdrawal": HESA_WITHDRAWAL}),  # so could C22053
        ({"WITHDRAWAL_DATE": "2026-01-01"}, "hesa-csv", {"withdrawal": HESA_WITHDRAWAL}),
        ({"sex": "11"}, "register-csv", {}),  # Register's template has no withdrawal or deferral column
        ({"withdrawal_date": "2026-01-01"}, "register-csv", {"withdrawal": "its withdrawal_* columns"}),
        ({"defer_date": "2026-01-01"}, "register-csv", {"deferral": "its defer_* columns"}),
    ],
)
def test_a_record_says_where_its_withdrawal_or_deferral_would_be(fields, fmt, can_say):
    """TraineeRecord.can_say: what `sync` tells someone to fill in for a trainee Register has withdrawn or deferred
    whom the record does not show so; only what the record's layout has a place for."""
    expected = {"deferral": HESA_DEFERRAL, **can_say} if fmt != "register-csv" else can_say
    assert mapped(fields, fmt=fmt).can_say == expected


def test_withdrawal_columns_of_a_users_own_are_named_one_by_one(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  register-csv:\n    withdrawal:\n      withdrawal_date: left on\n")
    record = mapped({"left on": "2026-01-01"}, fmt="register-csv", config=load_mapping([user]))
    assert record.withdrawal == {"withdrawal_date": "2026-01-01"}
    assert record.can_say == {
        "withdrawal": "its left on, withdrawal_reasons, withdrawal_trigger, withdrawal_future_interest, "
        "withdrawal_another_reason, withdrawal_safeguarding_concern_reasons columns"
    }


def test_a_record_without_degrees_or_placements_sends_no_empty_lists():
    record = mapped({"F_SEXID": "11"}, {"PREVIOUSQUALIFICATION": [{"F_DEGTYPE": None}], "PLACEMENT": [{}]})
    assert record.data == {"sex": "11"}


def test_the_states_a_files_records_have_the_columns_for_are_gathered_for_the_whole_file():
    """A Student without the WITHDRAWAL_* tags can still say a withdrawal when others of its file have them
    (Checker.widen_can_say): Mapper.map adds what each record has the columns or tags of to `shown`."""
    mapper = Mapper(load_mapping())

    def raw(fields):
        return RawRecord(source=SourceRef(input="x", record=1, line=2), fields=fields, groups={})

    shown: set[str] = set()
    mapper.map(raw({"F_SEXID": "11"}), "hesa-xml", shown)
    assert shown == set()
    mapper.map(raw({"WITHDRAWAL_DATE": None}), "hesa-xml", shown)
    assert shown == {"withdrawal"}
    mapper.map(raw({"DEFER_DATE": "2026-01-01"}), "hesa-xml", shown)
    assert shown == {"withdrawal", "deferral"}
    csv_shown: set[str] = set()
    mapper.map(raw({"withdrawal_date": "2026-01-01"}), "register-csv", csv_shown)
    assert csv_shown == {"withdrawal"}
    assert mapper.can_say("register-csv", csv_shown) == {"withdrawal": "its withdrawal_* columns"}
    assert mapper.can_say("register-csv", set()) == {}
    assert mapper.can_say("hesa-csv", shown) == {"withdrawal": HESA_WITHDRAWAL, "deferral": HESA_DEFERRAL}


def test_a_record_of_registers_csv_holds_part_of_its_degrees_and_placements_only():
    """Register's CSV has one degree per row and three placement URN columns: `sync` must not delete the degrees and
    placements Register holds beyond them (TraineeRecord.partial_lists). A HESA record lists them all."""
    subjects = {"course_subject_2": None, "course_subject_3": None}  # columns for them: partial_lists names them not
    initiatives = {"training_initiative": None, "additional_training_initiative": None}  # so too (review196 F1)
    assert mapped({"uk_degree": "083", **subjects, **initiatives}, fmt="register-csv").partial_lists == {
        "degrees_attributes",
        "placements_attributes",
    }
    hesa = {"F_SEXID": "11", "F_SBJCA2": None, "F_SBJCA3": None, "F_INITIATIVES1": None, "F_INITIATIVES2": None}
    assert mapped(hesa, fmt="hesa-csv").partial_lists == frozenset()


def test_a_records_provider_is_its_ukprn_and_one_that_is_not_a_ukprn_is_held_back():
    """hesa-formats.md §5 item 11: whose record it is decides the token it goes under; never a guess."""
    record = mapped({"F_UKPRN": "10000001"})
    assert (record.ukprn, record.issues) == ("10000001", [])
    assert mapped({"F_SEXID": "11"}).ukprn is None
    spreadsheet = mapped({"F_UKPRN": "1.0000001E7"})
    [issue] = spreadsheet.issues
    assert spreadsheet.ukprn is None
    assert (issue.code, issue.field, issue.value, issue.severity.value) == (
        "invalid_ukprn",
        "ukprn",
        "1.0000001E7",
        "error",
    )
    assert issue.message.startswith("F_UKPRN '1.0000001E7' is not a UKPRN (8 digits starting with 1)")


def test_the_ukprns_remembered_as_well_formed_are_bounded_and_change_no_record(monkeypatch):
    """A file's values are its own to choose: the set the mapper keeps of UKPRNs it found well-formed stops growing at
    its bound, and past it a record's UKPRN is still read, or held back, as before."""
    from register_batch.mapping import apply

    monkeypatch.setattr(apply, "_UKPRNS_SEEN", set())
    monkeypatch.setattr(apply, "_UKPRNS_KEPT", 2)
    assert [mapped({"F_UKPRN": f"1000000{n}"}).ukprn for n in range(4)] == [f"1000000{n}" for n in range(4)]
    assert sorted(apply._UKPRNS_SEEN) == ["10000000", "10000001"]
    assert mapped({"F_UKPRN": "10000001"}).ukprn == "10000001"  # remembered
    held = mapped({"F_UKPRN": "1000000x"})
    assert held.ukprn is None and [i.code for i in held.issues] == ["invalid_ukprn"]
    assert sorted(apply._UKPRNS_SEEN) == ["10000000", "10000001"]


def test_a_legacy_leaving_reason_is_not_reported_when_the_withdrawal_columns_say_the_withdrawal():
    withdrawn = mapped({"WITHDRAWAL_DATE": "2026-01-31", "F_RSNEND": "03"}, fmt="hesa-csv")
    assert withdrawn.withdrawal == {"withdrawal_date": "2026-01-31"} and withdrawn.issues == []
    blank = mapped({"WITHDRAWAL_DATE": None, "WITHDRAWAL_REASONS": None, "F_RSNEND": "03"}, fmt="hesa-csv")
    assert blank.withdrawal is None  # blank withdrawal columns are no withdrawal: the legacy reason is still said
    assert [i.code for i in blank.issues] == ["legacy_withdrawal_not_sent"]


def test_a_csvs_unnumbered_group_column_is_the_groups_first_row():
    record = mapped({"F_PLMNTSCH": "900000", "F_PLMNTSCH_2": "123456"}, fmt="hesa-csv")
    assert record.data["placements_attributes"] == [
        {"urn": "900000", "name": "Placement 1"},
        {"urn": "123456", "name": "Placement 2"},
    ]


def test_of_a_users_list_of_ukprn_sources_the_first_a_record_has_is_its_provider(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    provider:\n      ukprn: [F_OURUKPRN, F_UKPRN]\n")
    config = load_mapping([user])
    assert mapped({"F_OURUKPRN": "10000002", "F_UKPRN": "10000001"}, config=config).ukprn == "10000002"
    assert mapped({"F_OURUKPRN": None, "F_UKPRN": "10000001"}, config=config).ukprn == "10000001"
    held = mapped({"F_OURUKPRN": "x", "F_UKPRN": "10000001"}, config=config)
    assert held.ukprn is None and [i.code for i in held.issues] == ["invalid_ukprn"]


def test_a_degree_without_a_type_keeps_its_country():
    """Which kind of degree it is cannot be told without F_DEGTYPE: nothing is dropped, validation says what is
    missing."""
    record = mapped({}, {"PREVIOUSQUALIFICATION": [{"F_DEGCTRY": "XF", "F_DEGSBJ1": "100251"}]})
    assert record.data["degrees_attributes"] == [{"country": "XF", "subject": "100251"}]


def test_a_legacy_leaving_reason_without_an_end_date_is_reported_without_one():
    [issue] = mapped({"F_RSNEND": "05", "F_DISABLE1": "95"}).issues
    assert issue.message.startswith("F_RSNEND '05' (death) says the trainee left, but Register")


def test_a_record_with_tags_of_two_layouts_is_of_the_first_the_field_map_lists():
    """C21053 records also carry F_ITTCOMDATE, one of C22053's tags: listed first, C21053 wins, and F_ENDDATE is
    read as its end date."""
    record = mapped({"F_DISABLE": "00", "F_ITTCOMDATE": "2021-09-01", "F_ENDDATE": "2022-07-31"})
    assert (record.vintage, record.data["itt_end_date"]) == ("C21053", "2022-07-31")


def test_of_a_users_list_of_withdrawal_sources_the_first_with_a_value_is_read(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    withdrawal:\n      withdrawal_date: [LEFT_ON, WITHDRAWAL_DATE]\n")
    config = load_mapping([user])
    both = {"LEFT_ON": "2026-01-31", "WITHDRAWAL_DATE": "2026-02-28"}
    assert mapped(both, fmt="hesa-csv", config=config).withdrawal == {"withdrawal_date": "2026-01-31"}
    second = {"LEFT_ON": None, "WITHDRAWAL_DATE": "2026-02-28"}
    record = mapped(second, fmt="hesa-csv", config=config)
    assert record.withdrawal == {"withdrawal_date": "2026-02-28"}
    assert record.can_say is not None and record.can_say["withdrawal"] == (
        "its LEFT_ON, WITHDRAWAL_REASONS, WITHDRAWAL_TRIGGER, WITHDRAWAL_FUTURE_INTEREST, WITHDRAWAL_ANOTHER_REASON, "
        "WITHDRAWAL_SAFEGUARDING_CONCERN_REASONS columns or tags or F_RSNEND (up to C22053)"
    )


def test_of_a_users_list_of_degree_sources_the_first_with_a_value_is_read(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    degrees:\n      fields:\n        subject: [F_DEGSBJ2, F_DEGSBJ1]\n")
    config = load_mapping([user])
    rows = [{"F_DEGSBJ2": "100425", "F_DEGSBJ1": "100251"}, {"F_DEGSBJ2": None, "F_DEGSBJ1": "100251"}]
    record = mapped({}, {"PREVIOUSQUALIFICATION": rows}, config=config)
    assert record.data["degrees_attributes"] == [{"subject": "100425"}, {"subject": "100251"}]


def test_a_translated_code_is_reported_with_its_note_and_source(tmp_path):
    [issue] = mapped({"F_SEXID": "1", "F_ITTSTARTDATE": "2025-09-01"}).issues
    assert (
        issue.message == "sex: legacy code '1' translated to '11' (male); C21053 sex codes (mappings/codes/legacy.yaml)"
    )
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  sex:\n    source: our SRS\n    translate:\n      M: '11'\n")
    [issue] = mapped({"F_SEXID": "M", "F_ITTSTARTDATE": "2025-09-01"}, config=load_mapping([user])).issues
    assert issue.message == f"sex: legacy code 'M' translated to '11'; our SRS ({user}:5)"


def test_of_a_users_list_of_placement_sources_the_first_with_a_value_is_read(tmp_path):
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    placements:\n      fields:\n        urn: [F_OURSCHOOL, F_PLMNTSCH]\n")
    rows = [{"F_OURSCHOOL": "136000", "F_PLMNTSCH": "900000"}, {"F_OURSCHOOL": None, "F_PLMNTSCH": "123456"}]
    record = mapped({}, {"PLACEMENT": rows}, config=load_mapping([user]))
    assert [p["urn"] for p in record.data["placements_attributes"]] == ["136000", "123456"]


def test_a_long_running_caller_loading_a_mapping_per_job_does_not_keep_every_one():
    """A service that loads the mapping for each upload it checks: each config's field tables were remembered, and
    kept alive, for the life of the process (the memory itself is the test's to see only through the cache)."""
    from register_batch.mapping import apply

    for _job in range(100):  # four tables each
        record = mapped({"F_PLMNTSCH_1": "900000", "F_DEGTYPE": "083"}, fmt="hesa-csv", config=load_mapping())
        assert record.data["placements_attributes"] == [{"urn": "900000", "name": "Placement 1"}]
    assert 0 < len(apply._SOURCE_NAMES) <= 256


def test_an_empty_section_of_a_users_field_map_leaves_the_sections_after_it_read(tmp_path):
    """`deferral:` with nothing under it changes nothing (docs/mappings.md), and the `trainee` section after it is
    merged as written."""
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    deferral:\n    trainee:\n      provider_trainee_id: F_ITTKEY\n")
    config = load_mapping([user])
    assert mapped({"F_ITTKEY": "K1", "F_OWNSTU": "S1"}, config=config).data["provider_trainee_id"] == "K1"
    assert config.fields["hesa"].deferral == load_mapping().fields["hesa"].deferral


def test_a_translated_code_names_the_source_of_the_file_its_translation_came_from(tmp_path):
    """A user's sex block adds M: M's warning names the user's `source` and file, and the bundled C21053 code 1
    still names the bundled one (docs/mappings.md, Layering). review209 F6: the file is named too, so a block that
    copies the bundled `source:` is not taken for the bundled one; without a `source:`, the file:line alone."""
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n  sex:\n    source: C21053 sex codes\n    translate:\n      M: '11'\n  nationality:\n"
        "    translate:\n      British: GB\n"
    )
    config = load_mapping([user])
    [ours] = mapped({"F_SEXID": "M"}, config=config).issues
    [bundled] = [i for i in mapped({"F_SEXID": "1"}, config=config).issues if i.field == "sex"]
    assert ours.message.endswith(f"; C21053 sex codes ({user}:5)")
    assert bundled.message.endswith("; C21053 sex codes (mappings/codes/legacy.yaml)")
    [unsourced] = [i for i in mapped({"F_NATION": "British"}, config=config).issues if i.field == "nationality"]
    assert unsourced.message == f"nationality: legacy code 'British' translated to 'GB'; {user}:8"


def test_a_users_block_keeps_the_bundled_codes_it_does_not_name_and_wins_for_those_it_does(tmp_path):
    """Code by code: a training_route block that translates 02 keeps the bundled `13` untranslatable, and one that
    lists the bundled `01` as untranslatable no longer translates it."""
    translates, refuses = tmp_path / "translates.yaml", tmp_path / "refuses.yaml"
    translates.write_text("codes:\n  training_route:\n    translate:\n      '02': '12'\n")
    refuses.write_text("codes:\n  training_route:\n    no_translation:\n      '01': decide by hand\n")
    [issue] = mapped({"F_ENTRYRTE": "13"}, config=load_mapping([translates])).issues
    assert (issue.code, issue.field, issue.value) == ("untranslatable_code", "training_route", "13")
    route = load_mapping([refuses]).translations_for("training_route")
    assert "01" not in route.translate and route.no_translation["01"] == "decide by hand"


def test_of_a_list_of_trainee_sources_the_first_with_a_value_is_read(tmp_path):
    """docs/mappings.md: with a list, the first source that has a value wins; a later one is read only when the
    earlier ones are blank (a C22053 record's F_ITTCOMDATE before its F_COMDATE, hesa-formats.md §5 item 9)."""
    both = mapped({"F_ITTCOMDATE": "2022-09-05", "F_COMDATE": "2022-09-01"})
    assert both.data["itt_start_date"] == both.data["trainee_start_date"] == "2022-09-05"
    assert mapped({"F_ITTCOMDATE": None, "F_COMDATE": "2022-09-01"}).data["itt_start_date"] == "2022-09-01"
    user = tmp_path / "ours.yaml"
    user.write_text("fields:\n  hesa:\n    trainee:\n      provider_trainee_id: [F_ITTKEY, F_OWNSTU]\n")
    config = load_mapping([user])
    assert mapped({"F_ITTKEY": "K1", "F_OWNSTU": "O1"}, config=config).data["provider_trainee_id"] == "K1"
    assert mapped({"F_ITTKEY": None, "F_OWNSTU": "O1"}, config=config).data["provider_trainee_id"] == "O1"


def test_withdrawal_reasons_split_on_semicolons_or_bars_without_blank_ones():
    """A cell of reasons written `a; b;` or `a||b` is the reasons a and b: a trailing or doubled separator sends
    no empty reason to Register."""
    for cell in ("did_not_make_progress; trainee_workload_issues;", "did_not_make_progress||trainee_workload_issues"):
        record = mapped({"withdrawal_date": "2026-01-01", "withdrawal_reasons": cell}, fmt="register-csv")
        assert record.withdrawal == {
            "withdrawal_date": "2026-01-01",
            "reasons": ["did_not_make_progress", "trainee_workload_issues"],
        }


def test_a_qualification_of_nulls_is_dropped_and_the_ones_after_it_are_read():
    """hesa-formats.md §1.4: an all-NULL PREVIOUSQUALIFICATION is no degree, wherever it comes in the list."""
    rows = [
        {"F_DEGTYPE": "083", "F_DEGSBJ1": "100251"},
        {"F_DEGTYPE": None, "F_DEGSBJ1": None},
        {"F_DEGTYPE": "083", "F_DEGSBJ1": "100425"},
    ]
    record = mapped({}, {"PREVIOUSQUALIFICATION": rows})
    assert record.data["degrees_attributes"] == [
        {"uk_degree": "083", "subject": "100251"},
        {"uk_degree": "083", "subject": "100425"},
    ]


def test_a_csvs_unnumbered_group_column_is_read_with_the_columns_numbered_1():
    """F_DEGTYPE beside F_DEGSBJ1_1 is one degree's type and subject, not two degrees."""
    record = mapped(
        {"F_DEGTYPE": "083", "F_DEGSBJ1_1": "100251", "F_DEGTYPE_2": "051", "F_DEGSBJ1_2": "100425"}, fmt="hesa-csv"
    )
    assert [(d["subject"], d.get("uk_degree")) for d in record.data["degrees_attributes"]] == [
        ("100251", "083"),
        ("100425", "051"),
    ]


def test_a_code_mapped_to_itself_is_left_as_it_is_without_a_translated_warning(tmp_path):
    """mappings.md's way to undo a bundled translation (`"2": "2"`): the code is checked against Register's list as
    any untranslated code; each record also had the warning "legacy code '2' translated to '2'"."""
    user = tmp_path / "undo.yaml"
    user.write_text('codes:\n  sex:\n    source: s\n    translate:\n      "2": "2"\n')
    record = mapped({"F_SEXID": "2", "F_DISABLE1": "95"}, config=load_mapping([user]))
    assert record.data["sex"] == "2"
    assert [i for i in record.issues if i.field == "sex"] == []


def test_names_and_email_in_decomposed_unicode_are_read_composed_as_register_holds_them():
    """review40 F2: an SRS that stores "Brontë" decomposed (e + U+0308) gave drift on a name that looks the same every
    night, and 60 letters with accents counted as more than Register's 60 characters (§3.1)."""
    import unicodedata

    accented = "Zoë-Brontë Ångström" * 3  # 57 letters composed, 63 code points decomposed
    decomposed = unicodedata.normalize("NFD", accented)
    assert len(accented) <= 60 < len(decomposed)
    record = mapped({"F_FNAMES": decomposed, "F_SURNAME": decomposed, "F_OWNSTU": unicodedata.normalize("NFD", "Ï1")})
    assert (record.data["first_names"], record.data["last_name"]) == (accented, accented)
    assert record.data["provider_trainee_id"] == unicodedata.normalize("NFD", "Ï1")  # an id is matched as sent


def test_a_when_sees_the_fields_it_tests_translated_whatever_their_order_in_the_field_map(tmp_path):
    """review97 F1: a `when` saw a field translated or not by where it came in the field map: a route's `when` on
    study_mode 01 met the SRS's own FT (translated after the route), and the fallback route was sent; the bundled
    route 01's `when` on the aim met an SRS's own aim the same way. It sees them as Register gets them."""
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n"
        "  study_mode:\n    translate: {FT: '01', PT: '31'}\n"
        "  itt_qualification_aim:\n    translate: {BA QTS: '001'}\n"
        "  training_route:\n    translate:\n      PL Postgrad:\n"
        "        - {to: '12', when: {study_mode: ['01', '31']}}\n        - {to: '03'}\n",
        encoding="utf-8",
    )
    config = load_mapping([user])
    record = mapped({"F_ENTRYRTE": "PL Postgrad", "F_MODE": "FT"}, config=config)
    assert (record.data["training_route"], record.data["study_mode"]) == ("12", "01")
    assert mapped({"F_ENTRYRTE": "PL Postgrad", "F_MODE": "63"}, config=config).data["training_route"] == "03"
    assert mapped({"F_ENTRYRTE": "01", "F_QLAIM": "BA QTS"}, config=config).data["training_route"] == "11"


def test_a_value_of_an_srs_group_of_numbered_tags_is_a_problem_naming_them():
    """review96 F2: <SUBJECTS><SUBJECT><F_SBJCA>: the mapping reads F_SBJCA1-3, not F_SBJCA, so the reader's problem
    (RawRecord.marked) is the record's, saying which tags to write; an SRS's own tag the mapping does not read
    (F_TELEPHONE) is not."""
    marked = (("F_SBJCA", "<F_SBJCA> is in <SUBJECTS>"), ("F_TELEPHONE", "<F_TELEPHONE> is in <CONTACT>"))
    raw = RawRecord(source=SourceRef(input="x.xml", record=1, line=2), fields={"F_HUSID": "1"}, marked=marked)
    record = Mapper(load_mapping()).map(raw, "hesa-xml")
    assert [(i.field, i.message) for i in record.issues if i.code == "malformed_record"] == [
        ("F_SBJCA", "<F_SBJCA> is in <SUBJECTS>, as the Student's own <F_SBJCA1>, <F_SBJCA2>, …")
    ]


def test_a_when_testing_a_field_with_a_when_of_its_own_sees_it_translated(tmp_path):
    """review100 F1: the translations with a `when` ran in the field map's order, so the bundled route 01's `when` on
    the aim met the SRS's own aim, itself translated by a `when` (BAQ: 001 for full-time trainees), and sent 12."""
    user = tmp_path / "ours.yaml"
    user.write_text(
        "codes:\n"
        "  study_mode:\n    translate: {FT: '01'}\n"
        "  itt_qualification_aim:\n    translate:\n      BAQ:\n"
        "        - {to: '001', when: {study_mode: ['01']}}\n        - {to: '020'}\n",
        encoding="utf-8",
    )
    record = mapped({"F_ENTRYRTE": "01", "F_QLAIM": "BAQ", "F_MODE": "FT"}, config=load_mapping([user]))
    assert (record.data["itt_qualification_aim"], record.data["training_route"]) == ("001", "11")


@pytest.mark.parametrize("fmt", ["register-csv", "hesa-csv"])
def test_a_row_whose_cells_do_not_line_up_gets_no_translation_or_legacy_notes_for_its_shifted_values(fmt):
    """review117 F8: a row cut in two by a line break (the reader's problem names no field) was told its route was a
    legacy code translated to 12: the '01' under training_route was its study mode, shifted. Such a record gets the
    reader's error only; the rules, too, judge it once its cells line up (docs/formats.md "Refused CSV files")."""
    said = "lines 5 and 6 have 6 and 46 cells, the header's 51 columns and one more: ..."
    fields = (
        {"training_route": "01", "sex": "1", "study_mode": "63"}
        if fmt == "register-csv"
        else {"F_ENTRYRTE": "01", "F_SEXID": "1", "F_MODE": "63", "F_RSNEND": "03", "F_ENDDATE": "2026-11-20"}
    )
    raw = RawRecord(source=SourceRef(input="x.csv", record=5, line=6), fields=fields, problems=[(None, said)])
    record = Mapper(load_mapping()).map(raw, fmt)
    assert [(issue.code, issue.field, issue.message) for issue in record.issues] == [("malformed_record", None, said)]


def test_a_row_whose_cells_do_not_line_up_still_has_its_degrees_in_the_apis_shape():
    """review121 F6: such a row's degree kept the reader's `degree_type`, no field of the API, which `convert` wrote
    into its request body (and its CSV lost the degree type). Its codes stay as read (they may be shifted), but the
    degree is said as the UK or non-UK one it reads as."""
    said = "row has 53 cells but the header has 51 columns (extra commas?)"
    fields = {"F_DEGTYPE": "051", "F_DEGCTRY": "XF", "F_DEGSBJ1": "100300"}
    raw = RawRecord(source=SourceRef(input="x.csv", record=5, line=6), fields=fields, problems=[(None, said)])
    record = Mapper(load_mapping()).map(raw, "hesa-csv")
    assert record.data["degrees_attributes"] == [{"uk_degree": "051", "subject": "100300"}]


def test_mappings_check_lists_no_code_of_a_row_whose_cells_do_not_line_up(tmp_path, monkeypatch):
    """Its shifted values (a date under course_subject_1, a study mode under training_route) were on the to-do list."""
    from click.testing import CliRunner

    from register_batch.cli import cli
    from trainee_extracts import trainee, write_extract

    path = write_extract(tmp_path / "in.csv", [trainee(1), trainee(2)])
    before = CliRunner().invoke(cli, ["mappings", "check", str(path)])
    lines = path.read_text(encoding="utf-8").split("\n")
    lines[2] = lines[2].replace("@", "\n@", 1)  # an unquoted line break in the email: the row cut in two
    path.write_text("\n".join(lines), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    after = CliRunner().invoke(cli, ["mappings", "check", str(path)])
    assert (after.exit_code, after.output) == (before.exit_code, before.output)


# Every tag the bundled HESA field map reads for a C23053 Student, a value each, and the API field it feeds with the
# value sent (hesa-formats.md §1.3, register-api.md §3.1): written out here, not read from mappings/fields/hesa.yaml,
# so a line lost from the map fails this test (review132 F3: F_INITIATIVES2 could go unread and no test failed).
EVERY_C23053_TAG = {
    "F_HUSID": ("hesa_id", "2612345678901"),
    "F_OWNSTU": ("provider_trainee_id", "SRS/1"),
    "F_APPLYAPPLICATIONID": ("application_id", "12345"),
    "F_FNAMES": ("first_names", "Ada"),
    "F_SURNAME": ("last_name", "Lovelace"),
    "F_PSURNAME": ("previous_last_name", "Byron"),
    "F_BIRTHDTE": ("date_of_birth", "2000-01-02"),
    "F_NIN": ("ni_number", "AB123456C"),
    "F_SEXID": ("sex", "12"),
    "F_NQTEMAIL": ("email", "ada@example.com"),
    "F_NATION": ("nationality", "FR"),
    "F_ETHNIC": ("ethnicity", "120"),
    "F_DISABLE1": ("disability1", "51"),
    "F_DISABLE2": ("disability2", "53"),
    "F_DISABLE3": ("disability3", "54"),
    "F_DISABLE4": ("disability4", "55"),
    "F_DISABLE5": ("disability5", "56"),
    "F_DISABLE6": ("disability6", "57"),
    "F_DISABLE7": ("disability7", "58"),
    "F_DISABLE8": ("disability8", "59"),
    "F_DISABLE9": ("disability9", "96"),
    "F_ITTAIM": ("itt_aim", "202"),
    "F_ENTRYRTE": ("training_route", "12"),
    "F_QLAIM": ("itt_qualification_aim", "020"),
    "F_SBJCA1": ("course_subject_1", "100403"),
    "F_SBJCA2": ("course_subject_2", "100425"),
    "F_SBJCA3": ("course_subject_3", "100485"),
    "F_MODE": ("study_mode", "01"),
    "F_ITTSTARTDATE": ("itt_start_date", "2026-09-01"),
    "F_TRAINEESTARTDATE": ("trainee_start_date", "2026-09-02"),
    "F_EXPECTEDENDDATE": ("itt_end_date", "2027-07-15"),
    "F_ITTPHSC": ("course_age_range", "13918"),
    "F_YEARPRG": ("course_year", "1"),
    "F_SDLEAD": ("training_partner_urn", "137001"),
    "F_SDEMPLOY": ("employing_school_urn", "137002"),
    "F_PGAPPSTDT": ("pg_apprenticeship_start_date", "2026-09-03"),
    "F_FUNDCODE": ("fund_code", "7"),
    "F_BURSLEV": ("funding_method", "D"),
    "F_INITIATIVES1": ("training_initiative", "009"),
    "F_INITIATIVES2": ("additional_training_initiative", "026"),
}
EVERY_DEGREE_TAG = {
    "F_DEGTYPE": ("uk_degree", "083"),  # §5 item 12: a UK type, so uk_degree
    "F_DEGSBJ1": ("subject", "100403"),
    "F_DEGEST": ("institution", "0117"),
    "F_DEGCLSS": ("grade", "02"),
    "F_DEGCTRY": ("country", "FR"),
    "F_DEGENDDT": ("graduation_year", "2020-06-30"),
}


def test_a_student_with_every_mapped_tag_gives_every_api_field_its_value(tmp_path):
    """A HESA XML Student with each tag of the bundled field map given a value of its own, read and mapped as an
    extract is: every API field holds its tag's value, degree and placement fields too, and the provider's UKPRN is
    read (review132 F3)."""
    tags = {tag: value for tag, (_, value) in EVERY_C23053_TAG.items()} | {"F_UKPRN": "10052198"}
    degree = "".join(f"<{tag}>{value}</{tag}>" for tag, (_, value) in EVERY_DEGREE_TAG.items())
    student = (
        "".join(f"<{tag}>{value}</{tag}>" for tag, value in tags.items())
        + f"<PREVIOUSQUALIFICATIONS><PREVIOUSQUALIFICATION>{degree}</PREVIOUSQUALIFICATION></PREVIOUSQUALIFICATIONS>"
        + "<PLACEMENTS><PLACEMENT><F_PLMNTSCH>137003</F_PLMNTSCH></PLACEMENT></PLACEMENTS>"
    )
    extract = tmp_path / "every-tag.xml"
    extract.write_text(f"<ITTRecord><Student>{student}</Student></ITTRecord>", encoding="utf-8")
    [(_, [raw])] = read(extract)
    record = Mapper(bundled_mapping()).map(raw, "hesa-xml")
    assert (record.vintage, record.issues, record.ukprn) == ("C23053", [], "10052198")
    assert record.data == {
        **dict(EVERY_C23053_TAG.values()),
        "degrees_attributes": [dict(EVERY_DEGREE_TAG.values())],
        "placements_attributes": [{"urn": "137003", "name": "Placement 1"}],
    }


def test_a_hesa_csv_rows_withdrawal_and_deferral_columns_are_each_read():
    """The explicit withdrawal and deferral columns of a hesa-csv row (mappings/fields/hesa.yaml), each to its key of
    the request Register takes (register-api.md §2.7, §2.8; review132 F3)."""
    columns = {
        "WITHDRAWAL_DATE": "2026-10-01",
        "WITHDRAWAL_REASONS": "a;b",
        "WITHDRAWAL_TRIGGER": "provider",
        "WITHDRAWAL_FUTURE_INTEREST": "yes",
        "WITHDRAWAL_ANOTHER_REASON": "moved away",
        "WITHDRAWAL_SAFEGUARDING_CONCERN_REASONS": "none known",
        "DEFER_DATE": "2026-10-02",
        "DEFER_REASON": "illness",
    }
    record = mapped({"F_HUSID": "2612345678901", "F_ITTSTARTDATE": "2026-09-01", **columns}, fmt="hesa-csv")
    assert record.withdrawal == {
        "withdrawal_date": "2026-10-01",
        "reasons": ["a", "b"],
        "trigger": "provider",
        "future_interest": "yes",
        "another_reason": "moved away",
        "safeguarding_concern_reasons": "none known",
    }
    assert record.deferral == {"defer_date": "2026-10-02", "defer_reason": "illness"}
