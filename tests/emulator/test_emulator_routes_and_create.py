"""Authentication, versions, reference data, and POST /trainees (register-api.md §1, §2.1, §2.2, §2.5, §7)."""

from __future__ import annotations

import logging
import re

import httpx
import pytest
from emulator_helpers import TOKEN_A, trainee_body

from register_batch.emulator import app as app_module
from register_batch.emulator.app import enhanced_errors
from register_batch.reference import load_reference

MISSING_DATA = {"errors": ["Param is missing or the value is empty or invalid: data"]}


def test_info_needs_a_token_and_accepts_bearer_or_raw(emulator, anonymous, make_client):
    assert anonymous.get("/info").status_code == 401
    assert anonymous.get("/info").json() == {"error": "Unauthorized"}
    assert make_client("not-a-known-token").get("/info").status_code == 401
    raw = httpx.get(f"{emulator.api_url}/info", headers={"Authorization": TOKEN_A})
    assert raw.status_code == 200
    assert raw.json() == {"status": "ok", "version": {"requested": "v2026.1", "latest": "v2026.1"}}
    assert make_client().get("/info").json()["status"] == "ok"


def test_reference_data_needs_no_token_and_is_the_bundled_payload(anonymous):
    reference = load_reference()
    full = anonymous.get("/reference-data")
    assert full.status_code == 200
    assert full.json() == reference.api_payload()
    assert set(full.json()) == {*reference.fields}
    sex = anonymous.get("/reference-data", params={"field": "sex"}).json()
    assert sex["metadata"] == {"name": "sex", "display_name": "Sex", "description": ""}
    assert [e["code"] for e in sex["entries"]] == ["10", "11", "12", "96", "99"]
    # A parameter given twice is read as Rails reads it: the last one (§2.2).
    assert anonymous.get("/reference-data", params=[("field", "bogus"), ("field", "sex")]).json() == sex
    withdrawal = anonymous.get("/reference-data", params={"field": "withdrawal_reasons"}).json()
    assert withdrawal["triggers"] == ["provider", "trainee"]
    missing = anonymous.get("/reference-data", params={"field": "bogus"})
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"error": "NotFound", "message": "Reference data field 'bogus' not found"}]}


def test_unsupported_versions_and_unknown_paths(emulator, anonymous, api):
    # An unsupported but well-formed version falls to the catch-all: authentication first, then 404 (§1.1).
    assert httpx.get(f"{emulator.url}/api/v2025.0/trainees").status_code == 401
    old = httpx.get(f"{emulator.url}/api/v2025.0/trainees", headers={"Authorization": f"Bearer {TOKEN_A}"})
    assert old.status_code == 404
    assert old.json() == {"errors": [{"error": "NotFound", "message": "Not found"}]}
    assert api.get("/foo").json() == {"errors": [{"error": "NotFound", "message": "Not found"}]}
    assert api.delete("/trainees/abc").status_code == 404  # there is no DELETE /trainees/{id}
    assert anonymous.get("/foo").status_code == 401
    outside = httpx.get(f"{emulator.url}/api/foo")
    assert (outside.status_code, outside.json()) == (404, {"error": "Resource not found"})


def test_the_bare_api_and_version_paths(emulator):
    # Outside /api/{version} routing: Rails' routing error, no authentication (§1.5); the bare version path is
    # inside it, so the catch-all: 401, then 404 "Not found" (§1.1).
    for path in ("/api", "/api/", "/api-docs/v2026.1/openapi"):
        outside = httpx.get(f"{emulator.url}{path}")
        assert (outside.status_code, outside.json()) == (404, {"error": "Resource not found"}), path
    assert httpx.get(emulator.api_url).status_code == 401
    for url in (emulator.api_url, f"{emulator.api_url}/"):
        bare = httpx.get(url, headers={"Authorization": f"Bearer {TOKEN_A}"})
        assert (bare.status_code, bare.json()) == (404, {"errors": [{"error": "NotFound", "message": "Not found"}]})


def test_head_is_answered_by_the_get_route_without_a_body(api, anonymous, create):
    # Rails routes HEAD to the GET routes (§1.1): the GET's status and headers, no body.
    trainee_id = create()["trainee_id"]
    for path in ("/info", f"/trainees/{trainee_id}"):
        response = api.head(path)
        assert (response.status_code, response.content) == (200, b""), path
        assert response.headers["content-type"] == "application/json; charset=utf-8"
    assert anonymous.head("/info").status_code == 401
    assert api.head("/trainees/not-a-trainee").status_code == 404
    assert api.head(f"/trainees/{trainee_id}/withdraw").status_code == 404  # a POST route has no HEAD


def test_create_returns_the_full_trainee(api):
    response = api.post("/trainees", json=trainee_body())
    assert response.status_code == 201
    assert response.headers["content-type"] == "application/json; charset=utf-8"
    data = response.json()["data"]
    assert re.fullmatch(r"[1-9A-HJ-NP-Za-km-z]{24}", data["trainee_id"])
    assert data["state"] == "submitted_for_trn"
    assert data["record_source"] == "api"
    assert data["trn"] is None
    assert data["course_year"] == 1 and data["application_id"] is None
    assert (data["course_min_age"], data["course_max_age"], data["course_education_phase"]) == (11, 16, "secondary")
    assert (data["course_level"], data["course_qualification"]) == ("postgrad", "QTS")
    assert (data["ethnicity"], data["ethnic_group"], data["ethnic_background"]) == (
        "120",
        "black_ethnic_group",
        "African",
    )
    assert (data["diversity_disclosure"], data["disability_disclosure"]) == ("diversity_disclosed", "disabled")
    assert (data["disability1"], data["disability2"]) == ("58", "57")
    assert data["training_initiative"] == "026" and data["fund_code"] == "2"
    assert data["trainee_start_date"] == data["itt_start_date"] == data["course_itt_start_date"] == "2026-09-01"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data["created_at"])
    assert data["created_at"] == data["updated_at"] == data["submitted_for_trn_at"]
    assert len(data["ukprn"]) == 8
    degree = data["degrees"][0]
    assert degree["uk_degree"] == "083" and degree["graduation_year"] == 2012 and degree["country"] is None
    assert degree["grade_uuid"] == "e2fe18d4-8655-47cf-ab1a-8c3e0b0f078f"
    assert len(degree["degree_id"]) == 24
    magic, school = data["placements"]
    # Nested placements lose their postcode and magic URNs get their label (§3.8).
    assert magic == magic | {"urn": "900020", "name": "Establishment does not have a URN", "postcode": None}
    assert magic["address"] is None
    assert school["name"] == "Hill Top School" and school["address"] == "URN 123456"


def test_an_undergraduate_trainee_is_created_without_degrees_or_placements(api):
    # Degrees are required for postgraduate routes only (§3.3 R7a); placements are never required on create (§2.5).
    body = trainee_body(training_route="11", degrees_attributes=..., placements_attributes=...)
    response = api.post("/trainees", json=body)
    assert response.status_code == 201, response.text
    data = response.json()["data"]
    assert (data["training_route"], data["degrees"], data["placements"]) == ("11", [], [])
    assert data["course_level"] == "undergrad"  # an undergraduate route's course (§3.6)


def test_a_slug_or_trn_already_taken_is_drawn_again(api, create, monkeypatch):
    """Slugs (`SecureRandom.base58`) and TRNs are random but unique (§2.5, §6): a draw that is already some
    trainee's is drawn again, not stored twice."""
    first = create()
    first = api.get(f"/trainees/{first['trainee_id']}").json()  # its TRN has arrived
    slugs, draws = iter([first["trainee_id"]]), iter([int(first["trn"]) - 1_000_000])
    fresh_slug, fresh_draw = app_module.new_slug, app_module.secrets.randbelow
    monkeypatch.setattr(app_module, "new_slug", lambda: next(slugs, None) or fresh_slug())
    monkeypatch.setattr(app_module.secrets, "randbelow", lambda n: next(draws, None) or fresh_draw(n))
    second = api.get(f"/trainees/{create(last_name='Roe')['trainee_id']}").json()
    assert second["trainee_id"] != first["trainee_id"] and second["trn"] not in (None, first["trn"])
    assert api.get(f"/trainees/{first['trainee_id']}").json()["first_names"] == first["first_names"]


def test_create_defaults_and_mapper_rewrites(api):
    body = trainee_body(
        ethnicity=...,
        disability1=...,
        disability2=...,
        nationality="JE",
        funding_method="C",
        fund_code="7",
        training_route="11",
        course_subject_1="100403",
        training_initiative="026",
        trn="1234567",
        unknown_key="dropped",
        application_id=6916785,
        degrees_attributes=[
            {"grade": "09", "subject": "100485", "institution": "0133", "uk_degree": "083", "graduation_year": 2012}
        ],
    )
    data = api.post("/trainees", json=body).json()["data"]
    assert (data["ethnicity"], data["ethnic_group"], data["ethnic_background"]) == (
        "997",
        "not_provided_ethnic_group",
        "Not provided",
    )
    assert (data["diversity_disclosure"], data["disability_disclosure"]) == (
        "diversity_not_disclosed",
        "disability_not_provided",
    )
    assert "disability1" not in data
    assert data["nationality"] == "GB"  # JE is one of british's codes; serialized with its first code
    assert data["training_initiative"] is None  # funding_method C forces the veteran initiative (R19), shown null
    assert data["trn"] is None and "unknown_key" not in data
    assert data["application_id"] == 6916785
    assert (data["degrees"][0]["grade"], data["degrees"][0]["institution"]) == ("14", "0149")


@pytest.mark.parametrize("sent", [56789, "56789", "0056789"])
def test_an_application_id_is_taken_as_text_or_as_an_integer_and_held_as_the_integer(api, sent):
    """Rails' strong params permit either and the attribute keeps an integer (register-api.md §3.1): sync sends the
    integer the v2026.1 request documents, and a version before it sent the text (review171 F4)."""
    data = api.post("/trainees", json=trainee_body(application_id=sent)).json()["data"]
    assert data["application_id"] == 56789


@pytest.mark.parametrize("sent", [12345678, "12345678"])
def test_an_application_id_of_eight_digits_is_too_long_sent_either_way(api, sent):
    answer = api.post("/trainees", json=trainee_body(application_id=sent))
    assert answer.status_code == 422, answer.text
    assert "application_id is too long (maximum is 7 characters)" in answer.json()["errors"]


def test_a_new_trainees_placement_postcode_and_an_institutions_degree_country_are_dropped_before_they_are_checked(api):
    """review91: Register's mapper keeps only a nested placement's URN and name (§3.8), and nulls the country of a
    degree with an institution (§3.7), before the trainee is validated: a postcode or country it would refuse
    elsewhere does not stop the create. The emulator answered 422 to both."""
    body = trainee_body(
        placements_attributes=[{"urn": "900020", "name": "Placement", "postcode": "NOT A POSTCODE"}],
        degrees_attributes=[
            {
                "grade": "02",
                "subject": "100485",
                "institution": "0117",
                "uk_degree": "083",
                "graduation_year": "2012",
                "country": "GB",
            }
        ],
    )
    created = api.post("/trainees", json=body)
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert [p["postcode"] for p in data["placements"]] == [None]
    assert [d["country"] for d in data["degrees"]] == [None]
    non_uk = trainee_body(
        hesa_id="0310261553102",
        provider_trainee_id="99157234/2/02",
        last_name="Other",
        degrees_attributes=[{"subject": "100485", "non_uk_degree": "083", "graduation_year": "2012", "country": "GB"}],
    )
    refused = api.post("/trainees", json=non_uk)  # no institution: a non-UK degree, whose country is kept and checked
    assert refused.status_code == 422 and "country has invalid reference data value of 'GB'" in refused.text


def test_the_other_locales_degree_type_is_not_checked_and_comes_back_as_register_stores_it(api):
    """review113 F2: Register checks uk_degree on a UK degree only, non_uk_degree on a non-UK one only (§3.7). Its
    mapper stores the other too (the type's name for a code, the text of any other value) and its serializer
    re-derives a code from each: a code comes back, any other value as null. The emulator refused the creates whose
    other type is not a code (422) and gave back null for one that is."""
    uk = {"subject": "100485", "institution": "0117", "uk_degree": "083", "grade": "02", "graduation_year": "2012"}
    non_uk = {"subject": "100485", "country": "FR", "non_uk_degree": "083", "graduation_year": "2012"}
    cases = [
        (dict(uk, non_uk_degree="Bachelor of Arts"), ("083", None)),
        (dict(uk, non_uk_degree="051"), ("083", "051")),
        (dict(non_uk, uk_degree="BA"), (None, "083")),
        (dict(non_uk, uk_degree="051"), ("051", "083")),
    ]
    for n, (degree, types) in enumerate(cases):
        body = trainee_body(
            hesa_id=f"031026155310{n}",
            provider_trainee_id=f"99157234/2/0{n}",
            last_name=f"Doe{n}",
            degrees_attributes=[degree],
        )
        created = api.post("/trainees", json=body)
        assert created.status_code == 201, (degree, created.text)
        [held] = created.json()["data"]["degrees"]
        assert (held["uk_degree"], held["non_uk_degree"]) == types, degree
        assert (held["uk_degree_uuid"] is not None) is ("institution" in degree), degree  # the mapper's: UK only
        trainee_id = created.json()["data"]["trainee_id"]
        [fetched] = api.get(f"/trainees/{trainee_id}/degrees").json()["data"]
        assert (fetched["uk_degree"], fetched["non_uk_degree"]) == types, degree


@pytest.mark.parametrize("code", ["NO", "GB"])
def test_a_nationality_comes_back_as_the_code_sent(api, code):
    """Norwegian is `NO`, which YAML 1.1 reads as false when nationality.yml leaves it unquoted."""
    created = api.post("/trainees", json=trainee_body(nationality=code, hesa_id="0310261553102"))
    assert created.status_code == 201, created.text
    assert created.json()["data"]["nationality"] == code
    fetched = api.get(f"/trainees/{created.json()['data']['trainee_id']}")
    assert fetched.json()["nationality"] == code


def test_validation_failure_bodies(api):
    blank = api.post("/trainees", json={"data": {"email": "Doe"}})
    assert blank.status_code == 422
    body = blank.json()
    assert body["message"] == "Validation failed: 17 errors prohibited this trainee from being saved"
    assert sorted(body["errors"]) == sorted(
        [
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
        ]
    )
    one = api.post("/trainees", json=trainee_body(first_names="x" * 61))
    assert one.json() == {
        "message": "Validation failed: 1 error prohibited this trainee from being saved",
        "errors": ["first_names is too long (maximum is 60 characters)"],
    }
    assert api.get("/trainees").status_code == 404  # nothing was created


def test_a_blank_trainee_start_date_is_checked_as_the_itt_start_date(api):
    """register-api.md §3.4: a blank trainee_start_date is set to itt_start_date before the 10-year check, so a
    create starting over 10 years ago is refused with or without one (it was stored, as Register would not)."""
    old = {"itt_start_date": "2016-09-01", "itt_end_date": "2017-07-31", "training_route": "03"}
    without = api.post("/trainees", json=trainee_body(**old))
    given = api.post("/trainees", json=trainee_body(**old, trainee_start_date="2016-09-01"))
    assert (without.status_code, given.status_code) == (422, 422)
    assert "trainee_start_date Cannot be more than 10 years in the past" in without.json()["errors"]
    assert without.json() == given.json()


def test_a_number_where_register_stores_the_raw_code_fails_inclusion(api):
    response = api.post("/trainees", json=trainee_body(itt_aim=202))
    assert response.status_code == 422
    assert response.json()["errors"] == [
        "itt_aim has invalid reference data value of '202'. Valid values are '201', '202'."
    ]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("itt_qualification_aim", 1),
        ("fund_code", 2),
        ("funding_method", 6),
        ("course_age_range", 13918),
        ("additional_training_initiative", 11),
    ],
)
def test_every_raw_code_field_refuses_a_json_number(api, field, value):
    # §5.1: itt_aim, itt_qualification_aim, fund_code, funding_method, course_age_range and
    # additional_training_initiative are stored raw and compared with the string code list.
    response = api.post("/trainees", json=trainee_body(**{field: value}))
    assert response.status_code == 422
    assert any(
        e.startswith(f"{field} has invalid reference data value of '{value}'") for e in response.json()["errors"]
    )


def test_a_mapped_code_sent_as_a_json_number_or_boolean_is_looked_up_as_its_to_s(api):
    # §5.1: find_by_hesa_code looks up `code.to_s`, so 11 is "11" and true is "true" (Ruby's spelling).
    number = api.post("/trainees", json=trainee_body(sex=11))
    assert number.status_code == 201, number.text
    assert number.json()["data"]["sex"] == "11"
    degree = {"subject": 100485, "uk_degree": "083", "grade": "02", "graduation_year": 2012}
    nested = api.post("/trainees", json=trainee_body(last_name="Poe", degrees_attributes=[degree]))
    assert nested.status_code == 201, nested.text
    assert nested.json()["data"]["degrees"][0] == nested.json()["data"]["degrees"][0] | {
        "subject": "100485",
        "graduation_year": 2012,
    }
    for value in (True, False):
        boolean = api.post("/trainees", json=trainee_body(last_name="Roe", sex=value))
        assert boolean.json()["errors"] == [
            f"sex has invalid reference data value of '{str(value).lower()}'. Valid values are '10', '11', '12', '96', "
            "'99'."
        ]


def test_a_field_sent_an_object_or_a_list_is_as_if_not_sent(api):
    # Strong parameters permit scalars only (§3.1): a structured value is filtered out, so the field is missing.
    for value in ({"name": "John"}, ["John"]):
        response = api.post("/trainees", json=trainee_body(first_names=value))
        assert response.json()["errors"] == ["first_names can't be blank"]


def test_nested_attributes_may_come_in_rails_indexed_hash_form(api):
    # `permit(degrees_attributes: [...])` takes an array of objects or Rails' {"0": {...}, "1": {...}} form (§2.5).
    body = trainee_body()
    degrees, placements = body["data"]["degrees_attributes"], body["data"]["placements_attributes"]
    body["data"]["degrees_attributes"] = {"0": degrees[0]}
    body["data"]["placements_attributes"] = {str(n): p for n, p in enumerate(placements)}
    data = api.post("/trainees", json=body).json()["data"]
    assert [d["subject"] for d in data["degrees"]] == [degrees[0]["subject"]]
    assert [p["urn"] for p in data["placements"]] == [p["urn"] for p in placements]


def test_a_parent_used_as_a_list_and_an_object_is_a_500_the_emulator_means(api, caplog):
    """§7.1 ⚠: Register's EnhancedErrorsSerializer raises on such errors, so 500. The emulator answers it on purpose:
    an emulator bug would be a 500 too, but one it logs as an emulator error."""
    both = [{"subject": "100485", "uk_degree": "083", "graduation_year": "2012"}] * 2  # a list and a child message
    headers = {"Enhanced-Errors": "true"}
    with caplog.at_level(logging.ERROR, logger="register_batch.emulator"):
        response = api.post("/trainees", json=trainee_body(degrees_attributes=both), headers=headers)
    assert (response.status_code, response.json()) == (500, {"error": "Internal server error"})
    assert [r.getMessage() for r in caplog.records if r.name.startswith("register_batch.emulator")] == []


@pytest.mark.parametrize(
    "messages",
    [
        ["degrees_attributes contains duplicate degrees", "grade must be entered"],  # a list, then an object
        ["grade must be entered", "degrees_attributes contains duplicate degrees"],  # an object, then a list
    ],
)
def test_the_enhanced_errors_transformation_raises_where_registers_does_either_way_round(messages):
    """§7.1 ⚠: a parent used both as a list and as an object fails Register's serializer (so 500), in either order."""
    with pytest.raises(TypeError):
        enhanced_errors(messages)


def test_enhanced_errors(api):
    headers = {"Enhanced-Errors": "true"}
    response = api.post("/trainees", json=trainee_body(training_route="12", degrees_attributes=[]), headers=headers)
    assert response.json() == {
        "message": "Validation failed: 1 error prohibited this trainee from being saved",
        "errors": {"degrees_attributes": ["must be entered if specifying a postgraduate training_route"]},
    }
    nested = api.post(
        "/trainees",
        json=trainee_body(
            email="bad",
            degrees_attributes=[{"subject": "100485", "uk_degree": "083", "grade": "02", "graduation_year": "1900"}],
            placements_attributes=[{"urn": "12"}],
        ),
        headers=headers,
    )
    assert nested.status_code == 422
    assert nested.json()["errors"] == {
        "email": ["Enter an email address in the correct format, like name@example.com"],
        "degrees_attributes": {"graduation_year": ["is invalid"]},
        "placements_attributes": {"name": ["can't be blank"], "urn": ["is invalid"]},  # no school matched (§3.8)
    }
    # Register's serializer fails on a parent used both as a list and an object (§7.1 ⚠): 500.
    both = [{"subject": "100485", "uk_degree": "083", "graduation_year": "2012"}] * 2
    mixed = api.post("/trainees", json=trainee_body(degrees_attributes=both), headers=headers)
    assert (mixed.status_code, mixed.json()) == (500, {"error": "Internal server error"})
    standard = api.post("/trainees", json=trainee_body(degrees_attributes=both))
    assert standard.json()["errors"] == [
        "degrees_attributes contains duplicate degrees",
        "grade must be entered if specifying a previous UK degree or non-UK degree",
        "grade must be entered if specifying a previous UK degree or non-UK degree",
    ]


@pytest.mark.parametrize(
    "content,content_type,status,expected",
    [
        (b'{"data": {"first_names": ', "application/json", 400, None),
        (b"[1, 2]", "application/json", 422, MISSING_DATA),
        (
            b'{"data": {}}',
            "application/json",
            422,
            MISSING_DATA,
        ),
        (
            b'{"data": "x"}',
            "application/json",
            422,
            MISSING_DATA,
        ),
        (
            b'{"other": {"a": 1}}',
            "application/json",
            422,
            MISSING_DATA,
        ),
        (
            b'{"data": {"first_names": "A"}}',
            "text/plain",
            422,
            MISSING_DATA,
        ),
        (b"", "application/json", 422, MISSING_DATA),
        # Nested deeper than the parser goes: Ruby's parser refuses it (a ParserError, so 400), not a 500 (§1.5).
        (b'{"data": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json", 400, None),
    ],
)
def test_malformed_bodies(api, content, content_type, status, expected):
    response = api.post("/trainees", content=content, headers={"Content-Type": content_type})
    assert response.status_code == status
    if expected is None:
        errors = response.json()["errors"]
        assert len(errors) == 1 and errors[0][0].isupper()
    else:
        assert response.json() == expected
