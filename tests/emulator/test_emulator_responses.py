"""What a trainee, its degrees and placements look like in responses (register-api.md §3.6-§3.8, §5.2, §5.3)."""

from __future__ import annotations

import pytest


def test_an_early_years_trainee_is_an_eyts_course_of_the_early_years_phase(api, create):
    # §3.6: early-years routes → course_qualification EYTS; §5.2: course_education_phase early_years whatever the
    # age range; the early-years postgraduate route is still postgrad.
    data = create(
        training_route="19",
        course_subject_1="100510",
        course_age_range="13920",
        training_initiative=...,
        funding_method="6",
    )
    assert (data["course_qualification"], data["course_education_phase"], data["course_level"]) == (
        "EYTS",
        "early_years",
        "postgrad",
    )
    assert (data["course_min_age"], data["course_max_age"]) == (0, 5)
    # §2.6 ⚠: a PUT recomputes the phase from the route and age range it sends, secondary when it sends neither.
    path = f"/trainees/{data['trainee_id']}"
    assert api.put(path, json={"data": {"training_route": "19"}}).json()["data"]["course_education_phase"] == (
        "early_years"
    )
    assert api.put(path, json={"data": {"first_names": "Alice"}}).json()["data"]["course_education_phase"] == (
        "secondary"
    )


@pytest.mark.parametrize(
    ("disabilities", "ethnicity", "disability_disclosure", "diversity_disclosure"),
    [
        ({"disability1": "95"}, "998", "no_disability", "diversity_disclosed"),  # 95 alone; 95 counts as disclosed
        ({"disability1": "95", "disability2": "58"}, "998", "disabled", "diversity_disclosed"),
        ({"disability1": "98"}, "998", "disability_not_provided", "diversity_not_disclosed"),
        ({"disability1": "98"}, "166", "disability_not_provided", "diversity_disclosed"),
        ({"disability9": "55"}, "998", "disabled", "diversity_disclosed"),  # disability1…9 (§5.3)
    ],
)
def test_disability_and_diversity_disclosure(
    create, disabilities, ethnicity, disability_disclosure, diversity_disclosure
):
    # §5.3: `95` alone is no_disability; any disability answer but "not provided" discloses diversity, whatever the
    # ethnicity; 998 comes back as 997 (§3.6).
    data = create(**{"disability1": ..., "disability2": ..., "ethnicity": ethnicity, **disabilities})
    assert (data["disability_disclosure"], data["diversity_disclosure"]) == (
        disability_disclosure,
        diversity_disclosure,
    )
    assert data["ethnicity"] == ("997" if ethnicity == "998" else ethnicity)
    assert {k: v for k, v in data.items() if k.startswith("disability") and k != "disability_disclosure"} == (
        disabilities
    )


def test_a_uk_degree_comes_back_with_the_uuids_of_its_codes(create):
    # §3.6's example degree: the same codes, the same UUIDs (§3.7: codes re-derived, UUIDs from the code lists).
    degree = create()["degrees"][0]
    assert degree == degree | {
        "uk_degree": "083",
        "non_uk_degree": None,
        "subject": "100485",
        "institution": "0117",
        "grade": "02",
        "country": None,
        "other_grade": None,
        "institution_uuid": "1271f34a-2887-e711-80d8-005056ac45bb",
        "uk_degree_uuid": "1b6a5652-c197-e711-80d8-005056ac45bb",
        "subject_uuid": "e78170f0-5dce-e911-a985-000d3ab79618",
        "grade_uuid": "e2fe18d4-8655-47cf-ab1a-8c3e0b0f078f",
    }


def test_a_non_uk_degree_has_no_institution_or_uk_degree_uuid(create):
    # §3.7: a non-UK country and no institution make a non-UK degree; it has no institution, so no
    # "Other UK institution" either, and its degree type is non_uk_degree with no uk_degree_uuid.
    degree = {"subject": "100485", "non_uk_degree": "083", "country": "FR", "grade": "02", "graduation_year": "2012"}
    data = create(degrees_attributes=[degree])["degrees"][0]
    assert data == data | {
        "uk_degree": None,
        "non_uk_degree": "083",
        "country": "FR",
        "institution": None,
        "institution_uuid": None,
        "uk_degree_uuid": None,
        "subject_uuid": "e78170f0-5dce-e911-a985-000d3ab79618",
    }


def test_a_degree_in_a_uk_country_is_a_uk_degree_stored_without_its_country(create):
    # §3.7: a UK country code (XF England ... XK UK n.o.s.) makes a UK degree, whose stored country is null.
    degree = {"subject": "100485", "uk_degree": "083", "country": "XF", "grade": "02", "graduation_year": "2012"}
    data = create(degrees_attributes=[degree])["degrees"][0]
    assert data == data | {"uk_degree": "083", "non_uk_degree": None, "country": None}
    assert data["uk_degree_uuid"] == "1b6a5652-c197-e711-80d8-005056ac45bb"


def test_a_uk_degree_without_a_known_institution_is_at_other_uk_institution(create):
    # §3.7: a missing or unknown institution on a UK degree silently becomes "Other UK institution", serialized
    # back as institution null with that institution's UUID.
    plain = {"subject": "100485", "uk_degree": "083", "grade": "02", "graduation_year": "2012"}
    missing, unknown = create(degrees_attributes=[plain, {**plain, "subject": "100425", "institution": "9999"}])[
        "degrees"
    ]
    assert missing["institution"] is unknown["institution"] is None
    assert missing["institution_uuid"] == unknown["institution_uuid"] is not None
    assert missing["institution_uuid"] != create(last_name="Roe")["degrees"][0]["institution_uuid"]


def test_school_and_partner_urns_come_back_as_sent_and_magic_ones_as_null(create):
    # §3.1/§5.2: a magic URN (900000-900030) means "not applicable", which §3.6 serializes as null.
    linked = create(employing_school_urn="123456", training_partner_urn="654321")
    assert (linked["employing_school_urn"], linked["training_partner_urn"]) == ("123456", "654321")
    magic = create(last_name="Roe", employing_school_urn="900010", training_partner_urn="900030")
    assert (magic["employing_school_urn"], magic["training_partner_urn"]) == (None, None)


def _hesa_ethnic_group(code: int) -> str:
    """HESA's ethnicity code ranges: 1xx Asian to 119, Black to 139, Mixed to 159, White to 179, then other."""
    for top, group in ((119, "asian"), (139, "black"), (159, "mixed"), (179, "white"), (899, "other")):
        if code <= top:
            return f"{group}_ethnic_group"
    return "not_provided_ethnic_group"


def test_every_ethnicity_comes_back_in_its_ethnic_group(api, create):
    # §3.6: ethnic_group is the internal group of the code sent; 998/999 ("Not provided") come back as 997.
    codes = [e["code"] for e in api.get("/reference-data", params={"field": "ethnicity"}).json()["entries"]]
    assert len(codes) > 20
    for n, code in enumerate(codes):
        data = create(last_name=f"Person{n:02d}", ethnicity=code)
        group = _hesa_ethnic_group(int(code))
        assert (data["ethnicity"], data["ethnic_group"]) == (code if int(code) < 997 else "997", group), code
        assert (data["ethnic_background"] == "Not provided") is (group == "not_provided_ethnic_group"), code


def test_an_age_range_code_a_later_code_list_lacks_has_no_ages_rather_than_failing_every_listing():
    """An emulator's --db, and the embedded one's state dir, outlive the bundled code list a stored code was checked
    against: an age range that list no longer has is shown without ages."""
    from register_batch.emulator.serialize import age_range
    from register_batch.reference import load_reference

    reference = load_reference()
    assert age_range(reference, "13918") == (11, 16)
    assert age_range(reference, "13910") == (None, None)  # no such code in v2026.1's list (§2.3.6)
    assert age_range(reference, None) == (None, None)
