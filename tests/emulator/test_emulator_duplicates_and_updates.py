"""Duplicate detection (§4), provider isolation (§1.2), PUT/PATCH merge semantics (§2.6) and state rules (§6)."""

from __future__ import annotations

import pytest
from emulator_helpers import AS_OF, TOKEN_A, FakeClock, client_for, trainee_body

from register_batch.emulator import start_emulator
from register_batch.model import SourceRef, TraineeRecord
from register_batch.validation.duplicates import DuplicateFinder

CONFLICT = [{"error": "Conflict", "message": "This trainee is already in Register"}]
STATE_ERROR = {
    "errors": [
        {
            "error": "StateTransitionError",
            "message": "It\u2019s not possible to perform this action while the trainee is in its current state",
        }
    ]
}
WITHDRAWAL = {
    "data": {
        "reasons": ["record_added_in_error"],
        "withdrawal_date": "2026-10-01",
        "trigger": "provider",
        "future_interest": "unknown",
    }
}


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"last_name": "DOE"},  # ILIKE: case-insensitive
        {"first_names": " john Paul", "email": "other@example.com"},  # first-name token "john"
        {"first_names": "Jonathan", "email": "John.Doe@Example.com"},  # e-mail match, case-insensitive
        {"first_names": "JOHN Ryan", "email": "other@example.com"},  # token "john"
        {"itt_start_date": "2027-06-01", "itt_end_date": "2028-07-31"},  # same cycle (2026/27)
        {"last_name": "D_e"},  # `_` is a wildcard in ILIKE
        {"last_name": "d%"},  # so is `%`, for any run of characters
    ],
)
def test_duplicates_are_refused_with_the_existing_trainee(api, create, changes):
    existing = create()
    response = api.post("/trainees", json=trainee_body(**changes))
    assert response.status_code == 409, response.text
    body = response.json()
    assert body["errors"] == CONFLICT
    assert [t["trainee_id"] for t in body["data"]] == [existing["trainee_id"]]
    assert body["data"][0]["last_name"] == "Doe"
    assert len(api.get("/trainees").json()["data"]) == 1


@pytest.mark.parametrize(
    "changes",
    [
        {"first_names": "Jane", "email": "jane@example.com"},  # neither first-name token nor e-mail
        {"first_names": "John-Paul", "email": "jp@example.com"},  # token "johnpaul" is not "john"
        {"date_of_birth": "1990-01-02"},
        {"last_name": "Doey"},
        {"training_route": "03"},  # another route
        {"itt_start_date": "2027-09-01", "itt_end_date": "2028-07-31"},  # another start cycle (2027/28)
    ],
)
def test_near_misses_are_not_duplicates(api, create, changes):
    create()
    response = api.post("/trainees", json=trainee_body(**changes))
    assert response.status_code == 201, response.text


def test_a_backslash_makes_the_next_ilike_wildcard_literal(api, create):
    """§4: `last_name ILIKE ?` with PostgreSQL's default escape character, the backslash."""
    existing = create(last_name="D_e", email="first@example.com")
    literal = api.post("/trainees", json=trainee_body(last_name="D\\_e"))
    assert literal.status_code == 409, literal.text
    assert [t["trainee_id"] for t in literal.json()["data"]] == [existing["trainee_id"]]
    create(last_name="Dxe", first_names="Jane", email="jane@example.com")
    # `D\_e` is not `Dxe`: its underscore is a literal one.
    assert api.post("/trainees", json=trainee_body(last_name="D\\_e", first_names="Jane")).status_code == 201


def test_a_name_with_a_backslash_is_no_duplicate_of_itself(api, create):
    """§4: `O\\'Neil` as a pattern is `O'Neil`, so the same create sent twice is two trainees (review139 F1); and it
    is refused beside an `O'Neil` held."""
    create(last_name="O\\'Neil")
    assert api.post("/trainees", json=trainee_body(last_name="O\\'Neil")).status_code == 201
    assert len(api.get("/trainees").json()["data"]) == 2
    create(last_name="O'Neil", date_of_birth="1990-01-02")
    assert api.post("/trainees", json=trainee_body(last_name="O\\'Neil", date_of_birth="1990-01-02")).status_code == 409


def test_a_name_ending_in_a_backslash_is_a_500_when_matching_reaches_its_end(api, create):
    """PostgreSQL raises "LIKE pattern must not end with escape character" when matching reaches a lone trailing
    backslash with letters left over (like_match.c): Register's create is then a 500, and creates no one
    (review139 F1). Against a name the rest of the pattern does not begin, it is no match."""
    create(last_name="Lee\\")
    response = api.post("/trainees", json=trainee_body(last_name="Lee\\"))
    assert response.status_code == 500, response.text
    assert len(api.get("/trainees").json()["data"]) == 1
    other = api.post("/trainees", json=trainee_body(last_name="Kim\\", first_names="Jane", email="jane@example.com"))
    assert other.status_code == 201, other.text


def test_the_submitted_cycle_comes_from_itt_start_date_only(api, create):
    """§4: the existing trainee's cycle uses trainee_start_date, the submitted one itt_start_date only."""
    create(itt_start_date="2026-07-01", trainee_start_date="2026-09-01", itt_end_date="2027-07-31")
    # Same itt_start_date (cycle 2025) but the existing trainee starts in 2026: not a duplicate.
    again = api.post("/trainees", json=trainee_body(itt_start_date="2026-07-01", itt_end_date="2027-07-31"))
    assert again.status_code == 201
    # itt_start_date in 2026/27 matches the first trainee's start cycle: duplicate of it.
    third = api.post("/trainees", json=trainee_body(itt_start_date="2026-09-01", trainee_start_date="2026-07-01"))
    assert third.status_code == 409


# (first record, second record): overrides of trainee_body() for each.
AGREEMENT = {
    "same": ({}, {}),
    "last name case": ({}, {"last_name": "DOE"}),
    "first-name token": ({}, {"first_names": " john Paul", "email": "other@example.com"}),
    "e-mail": ({}, {"first_names": "Jonathan", "email": "John.Doe@Example.com"}),
    "neither": ({}, {"first_names": "Jane", "email": "jane@example.com"}),
    "another cycle": ({}, {"itt_start_date": "2027-09-01", "itt_end_date": "2028-07-31"}),
    "another route": ({}, {"training_route": "03"}),
    "earlier starts in a later cycle": (
        {"itt_start_date": "2026-07-01", "trainee_start_date": "2026-09-01", "itt_end_date": "2027-07-31"},
        {"itt_start_date": "2026-07-01", "itt_end_date": "2027-07-31"},
    ),
    "later's itt_start_date in the earlier's start cycle": (
        {"itt_start_date": "2026-07-01", "trainee_start_date": "2026-09-01", "itt_end_date": "2027-07-31"},
        {"itt_start_date": "2026-09-01", "trainee_start_date": "2026-07-01"},
    ),
    "names without letters a-z": ({"first_names": "李"}, {"first_names": "王", "email": "wang@example.com"}),
}


@pytest.mark.parametrize(("first", "second"), AGREEMENT.values(), ids=AGREEMENT.keys())
def test_the_batch_duplicate_check_warns_exactly_where_register_answers_409(api, first, second):
    """validate's possible_duplicate_trainee warning is Register's §4 rule: the emulator's 409 is the judge."""
    bodies = [trainee_body(**first), trainee_body(**second)]
    statuses = [api.post("/trainees", json=body).status_code for body in bodies]
    assert statuses[0] == 201 and statuses[1] in (201, 409)
    finder = DuplicateFinder()
    try:
        for n, body in enumerate(bodies, start=1):
            finder.add(TraineeRecord(source=SourceRef(input="in.csv", record=n, line=n + 1), data=body["data"]))
        warned = [index for index, issue in finder.issues() if issue.code == "possible_duplicate_trainee"]
    finally:
        finder.close()
    assert warned == ([1] if statuses[1] == 409 else [])


def test_invalid_records_get_422_never_409(api, create):
    create()
    response = api.post("/trainees", json=trainee_body(sex="7"))
    assert response.status_code == 422


def test_withdrawn_trainees_still_count_as_duplicates(api, create):
    existing = create()
    assert api.post(f"/trainees/{existing['trainee_id']}/withdraw", json=WITHDRAWAL).status_code == 200
    assert api.post("/trainees", json=trainee_body()).status_code == 409


def test_enhanced_errors_on_a_duplicate_gives_500(api, create):
    create()
    response = api.post("/trainees", json=trainee_body(), headers={"Enhanced-Errors": "true"})
    assert (response.status_code, response.json()) == (500, {"error": "Internal server error"})


def test_providers_are_isolated(api, api_b, create):
    mine = create()
    slug = mine["trainee_id"]
    # The other provider may create the same person (duplicates are per provider) ...
    theirs = api_b.post("/trainees", json=trainee_body())
    assert theirs.status_code == 201
    assert theirs.json()["data"]["ukprn"] != mine["ukprn"]
    # ... and cannot see or touch provider A's trainee.
    not_found = {"errors": [{"error": "NotFound", "message": "Trainee(s) not found"}]}
    for response in (
        api_b.get(f"/trainees/{slug}"),
        api_b.put(f"/trainees/{slug}", json={"data": {"first_names": "Mallory"}}),
        api_b.post(f"/trainees/{slug}/withdraw", json=WITHDRAWAL),
        api_b.get(f"/trainees/{slug}/degrees"),
        api_b.post(f"/trainees/{slug}/placements", json={"data": {"urn": "123456", "name": "X"}}),
    ):
        assert (response.status_code, response.json()) == (404, not_found)
    listing = api_b.get("/trainees").json()["data"]
    assert [t["trainee_id"] for t in listing] == [theirs.json()["data"]["trainee_id"]]
    assert api.get(f"/trainees/{slug}").json()["first_names"] == "John"


def test_put_merges_and_revalidates_the_whole_record(api, create):
    slug = create()["trainee_id"]
    response = api.put(f"/trainees/{slug}", json={"data": {"first_names": "Alice", "trn": "9999999"}})
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["first_names"] == "Alice" and data["last_name"] == "Doe"
    assert data["record_source"] == "api"
    assert data["trn"] is None or data["trn"] != "9999999"
    # The merged record is validated: an invalid combination with stored values is refused.
    refused = api.put(f"/trainees/{slug}", json={"data": {"course_age_range": "13914"}})
    assert refused.json() == {
        "message": "Validation failed: 1 error prohibited this trainee from being saved",
        "errors": ["course_subject_1 is invalid. It should be `100511` for the course_age_range provided"],
    }
    long = api.patch(f"/trainees/{slug}", json={"data": {"first_names": "x" * 61}})
    assert long.json()["errors"] == ["first_names is too long (maximum is 60 characters)"]
    assert api.get(f"/trainees/{slug}").json()["first_names"] == "Alice"


def test_put_null_keeps_empty_string_clears(api, create):
    slug = create(course_subject_2="100403", course_subject_3="100366")["trainee_id"]
    data = api.put(
        f"/trainees/{slug}",
        json={
            "data": {"middle_names": None, "previous_last_name": "", "course_subject_2": None, "course_subject_3": ""}
        },
    ).json()["data"]
    assert data["middle_names"] == "Ryan"
    assert data["previous_last_name"] is None
    assert data["course_subject_2"] is None and data["course_subject_3"] is None
    data = api.put(f"/trainees/{slug}", json={"data": {"course_subject_2": "100403"}}).json()["data"]
    assert (data["course_subject_2"], data["course_subject_3"]) == ("100403", None)
    # §2.6: either course subject is cleared by null as by "" (ALLOWED_NIL_PARAMS).
    other = create(last_name="Roe", course_subject_2="100403", course_subject_3="100366")["trainee_id"]
    data = api.put(f"/trainees/{other}", json={"data": {"course_subject_3": None}}).json()["data"]
    assert (data["course_subject_2"], data["course_subject_3"]) == ("100403", None)


def test_put_merges_disabilities_by_key_and_ignores_nested_degrees(api, create):
    trainee = create()
    slug = trainee["trainee_id"]
    data = api.put(
        f"/trainees/{slug}",
        json={
            "data": {
                "disability2": "",
                "disability3": "55",
                "degrees_attributes": [
                    {"subject": "100425", "uk_degree": "083", "grade": "01", "graduation_year": "2010"}
                ],
            }
        },
    ).json()["data"]
    # A key sent as "" is held as "" (the mapper's `hesa_disabilities` keeps it) and so echoed, not dropped.
    assert (data.get("disability1"), data.get("disability2"), data.get("disability3")) == ("58", "", "55")
    assert [d["degree_id"] for d in data["degrees"]] == [d["degree_id"] for d in trainee["degrees"]]


def test_disability_keys_past_nine_are_held_and_echoed_but_map_to_no_disability_on_create(api, create):
    """§5.3: `hesa_disabilities` holds every submitted key matching `/\\Adisability\\d+\\z/` (strong params permit
    them: `HesaMapper::Attributes.disability_attributes`) and GET echoes them; the disability set (and so
    disability_disclosure) comes from disability1-9 only. A PUT merges them by key, as it does the first nine."""
    trainee = create(disability1="95", disability2=..., disability10="57")
    assert (trainee["disability1"], trainee["disability10"], "disability2" in trainee) == ("95", "57", False)
    assert trainee["disability_disclosure"] == "no_disability"  # 57 (deaf) in disability10 is no disability
    slug = trainee["trainee_id"]
    data = api.put(f"/trainees/{slug}", json={"data": {"disability11": "55", "disability10": ""}}).json()["data"]
    assert (data["disability1"], data["disability11"], data["disability10"]) == ("95", "55", "")
    assert api.get(f"/trainees/{slug}").json()["disability11"] == "55"


def test_a_disability_key_sent_blank_is_held_and_echoed_blank(api, create):
    """§5.3: `hesa_disabilities` is every submitted disability key with its value as sent, "" included
    (`params.select`), on create as on update; GET echoes the stored hash."""
    trainee = create(disability2="", disability10="")
    assert (trainee["disability1"], trainee["disability2"], trainee["disability10"]) == ("58", "", "")
    assert trainee["disability_disclosure"] == "disabled"
    fetched = api.get(f"/trainees/{trainee['trainee_id']}").json()
    assert (fetched["disability1"], fetched["disability2"], fetched["disability10"]) == ("58", "", "")


def test_a_disability_key_sent_null_is_held_and_echoed_null(api, create):
    """Strong params permit a null (NilClass is a permitted scalar), and the mapper's `.compact` drops the nulls of
    its own keys, not those inside `hesa_disabilities`: a disability key sent as null is held and echoed as null. On
    update it replaces the stored code (`merge`) and, being a disability key, has the disclosure worked out again."""
    trainee = create(disability2=None)
    assert ("disability2" in trainee, trainee["disability2"], trainee["disability_disclosure"]) == (
        True,
        None,
        "disabled",
    )
    slug = trainee["trainee_id"]
    data = api.put(f"/trainees/{slug}", json={"data": {"disability1": None}}).json()["data"]
    assert (data["disability1"], data["disability2"], data["disability_disclosure"]) == (
        None,
        None,
        "disability_not_provided",
    )
    assert api.get(f"/trainees/{slug}").json()["disability1"] is None


def test_a_put_with_disability_keys_discloses_from_them_alone(api, create):
    """The mapper works disability_disclosure (and diversity_disclosure) out of the request's disability1-9 and
    keeps it only when the request has a disability key (`except(:disability_disclosure, ...)` otherwise): the
    stored keys merged in do not count, and a PUT without one leaves the stored disclosure as it is."""
    slug = create()["trainee_id"]  # disability1 58, disability2 57: disabled
    data = api.put(f"/trainees/{slug}", json={"data": {"disability2": ""}}).json()["data"]
    assert (data["disability1"], data["disability2"]) == ("58", "")
    assert (data["disability_disclosure"], data["diversity_disclosure"]) == (
        "disability_not_provided",
        "diversity_not_disclosed",
    )
    data = api.put(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}}).json()["data"]
    assert data["disability_disclosure"] == "disability_not_provided"  # kept: no disability key was sent
    data = api.put(f"/trainees/{slug}", json={"data": {"disability3": "95", "disability10": "55"}}).json()["data"]
    assert (data["disability_disclosure"], data["diversity_disclosure"]) == ("no_disability", "diversity_disclosed")
    data = api.put(f"/trainees/{slug}", json={"data": {"disability11": "56"}}).json()["data"]
    assert data["disability_disclosure"] == "disability_not_provided"  # only disability1-9 are mapped
    assert api.get(f"/trainees/{slug}").json()["disability_disclosure"] == "disability_not_provided"


def test_a_put_refuses_a_disability_repeated_under_any_key(api, create):
    """`params_with_updated_disabilities` maps every merged key, disability10 and past included, into the set that
    R14 (`validates :trainee_disabilities_attributes, uniqueness: true`) checks on every PUT; a key held as "" maps to
    no disability."""
    refused = {
        "message": "Validation failed: 1 error prohibited this trainee from being saved",
        "errors": ["disabilities contain duplicate values"],
    }
    slug = create()["trainee_id"]  # disability1 58, disability2 57
    response = api.put(f"/trainees/{slug}", json={"data": {"disability10": "57"}})
    assert (response.status_code, response.json()) == (422, refused)
    assert "disability10" not in api.get(f"/trainees/{slug}").json()
    response = api.put(f"/trainees/{slug}", json={"data": {"disability2": "", "disability10": "57"}})
    assert response.status_code == 200, response.text
    # Create maps disability1-9 only, so it takes a repeat past the ninth key; every PUT after it is refused.
    held = create(last_name="Roe", disability10="58")["trainee_id"]
    response = api.put(f"/trainees/{held}", json={"data": {"first_names": "Alice"}})
    assert (response.status_code, response.json()) == (422, refused)
    # In its place among the others: after the presence checks, before the training partner's (declared after it).
    several = {"first_names": "", "disability11": "95", "training_partner_urn": "12AB"}
    assert api.put(f"/trainees/{held}", json={"data": several}).json()["errors"] == [
        "first_names can't be blank",
        "disabilities contain duplicate values",
        "training_partner_urn is invalid. The URN '12AB' does not match any known training partners",
    ]


def test_put_resets_derived_fields_that_are_not_sent(api, create):
    """Code reading of §2.6 ⚠: training_initiative, course_education_phase and diversity_disclosure are
    recomputed from the request alone, so a partial PUT resets them."""
    slug = create(course_age_range="13914", course_subject_1="100511")["trainee_id"]
    before = api.get(f"/trainees/{slug}").json()
    assert (before["training_initiative"], before["course_education_phase"]) == ("026", "primary")
    assert before["diversity_disclosure"] == "diversity_disclosed"
    after = api.put(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}}).json()["data"]
    assert after["training_initiative"] is None
    assert after["course_education_phase"] == "secondary"
    assert after["diversity_disclosure"] == "diversity_not_disclosed"
    assert after["course_age_range"] == "13914"
    full = api.put(
        f"/trainees/{slug}",
        json={"data": {"training_initiative": "026", "course_age_range": "13914", "ethnicity": "120"}},
    ).json()["data"]
    assert (full["training_initiative"], full["course_education_phase"]) == ("026", "primary")
    assert full["diversity_disclosure"] == "diversity_disclosed"


def test_put_only_moves_updated_at_when_something_changed(api, create):
    slug = create()["trainee_id"]
    first = api.get(f"/trainees/{slug}").json()["updated_at"]
    same = {"training_initiative": "026", "ethnicity": "120", "training_route": "12", "course_age_range": "13918"}
    assert api.put(f"/trainees/{slug}", json={"data": same}).json()["data"]["updated_at"] == first
    changed = api.put(f"/trainees/{slug}", json={"data": {**same, "first_names": "Alice"}}).json()["data"]
    assert changed["updated_at"] > first


def test_a_put_that_changes_only_derived_values_moves_updated_at():
    """§2.6 ⚠: the mapper recomputes course_education_phase from the request alone, so a PUT of unchanged fields
    without the age range turns a primary course secondary: the trainee changed, and its updated_at moves (§10)."""
    clock = FakeClock(1_792_058_400.0)  # 2026-10-15T10:00:00Z
    with (
        start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, clock=clock) as emulator,
        client_for(emulator) as client,
    ):
        body = trainee_body(course_age_range="13914", course_subject_1="100511")
        slug = client.post("/trainees", json=body).json()["data"]["trainee_id"]
        clock.advance(60)
        same = {"training_initiative": "026", "ethnicity": "120"}
        data = client.put(f"/trainees/{slug}", json={"data": same}).json()["data"]
        assert (data["course_education_phase"], data["course_age_range"]) == ("secondary", "13914")
        assert data["updated_at"] == "2026-10-15T10:01:00.000Z"


def test_a_put_of_read_only_and_unknown_keys_changes_nothing():
    """§1.4: read-only keys such as trn and state, and unknown ones, are dropped: such a PUT leaves the trainee,
    and so its updated_at, as it was."""
    clock = FakeClock(1_792_058_400.0)  # 2026-10-15T10:00:00Z
    with (
        start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, clock=clock, trn_delay=3600) as emulator,
        client_for(emulator) as client,
    ):
        slug = client.post("/trainees", json=trainee_body()).json()["data"]["trainee_id"]
        clock.advance(60)
        same = {"training_initiative": "026", "ethnicity": "120", "training_route": "12", "course_age_range": "13918"}
        same |= {"disability1": "58", "disability2": "57"}
        body = {**same, "trn": "1234567", "state": "awarded", "favourite_colour": "blue"}
        data = client.put(f"/trainees/{slug}", json={"data": body}).json()["data"]
        assert (data["trn"], data["state"]) == (None, "submitted_for_trn")
        assert data["updated_at"] == "2026-10-15T10:00:00.000Z"
        assert "favourite_colour" not in data


def test_a_partner_urn_wins_over_a_ukprn_whenever_its_key_is_sent(api, create):
    # §3.1: training_partner_urn takes precedence over the UKPRN whenever its key is present, even blank; the UKPRN
    # is used only when the URN key is absent. §2.6: omitting both leaves the link alone.
    assert create(training_partner_ukprn="10000001")["training_partner_ukprn"] == "10000001"
    blank_urn = create(last_name="Roe", training_partner_ukprn="10000001", training_partner_urn="")
    assert (blank_urn["training_partner_ukprn"], blank_urn["training_partner_urn"]) == (None, None)
    slug = create(last_name="Poe", training_partner_ukprn="10000001")["trainee_id"]
    kept = api.put(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}}).json()["data"]
    assert kept["training_partner_ukprn"] == "10000001"
    by_urn = api.put(f"/trainees/{slug}", json={"data": {"training_partner_urn": "654321"}}).json()["data"]
    assert (by_urn["training_partner_ukprn"], by_urn["training_partner_urn"]) == (None, "654321")
    by_ukprn = api.put(f"/trainees/{slug}", json={"data": {"training_partner_ukprn": "10000002"}}).json()["data"]
    assert (by_ukprn["training_partner_ukprn"], by_ukprn["training_partner_urn"]) == ("10000002", None)
    urn_slug = create(last_name="Doe-Smith", training_partner_urn="654321")["trainee_id"]
    kept = api.put(f"/trainees/{urn_slug}", json={"data": {"first_names": "Alice"}}).json()["data"]
    assert kept["training_partner_urn"] == "654321"


def test_a_put_keeps_the_iqts_country_while_the_route_stays_iqts(api, create):
    # §2.6: only a change of route away from iQTS clears iqts_country; one sent for another route is refused (R8).
    slug = create(training_route="15", iqts_country="BO")["trainee_id"]
    data = api.put(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}}).json()["data"]
    assert (data["training_route"], data["iqts_country"]) == ("15", "BO")
    other = create(last_name="Roe")["trainee_id"]
    refused = api.put(f"/trainees/{other}", json={"data": {"iqts_country": "BO"}})
    assert (refused.status_code, refused.json()["errors"]) == (422, ["iqts_country must be blank"])


def test_a_route_changed_away_from_iqts_clears_the_country_sent_beside_it(api, create):
    """review105 F2: §2.6, Register clears iqts_country when the route changes away from iQTS, before it validates,
    whatever the request sends: the emulator refused the PUT (R8, "must be blank") when the country was sent too."""
    slug = create(training_route="15", iqts_country="FR")["trainee_id"]
    answer = api.put(f"/trainees/{slug}", json={"data": {"training_route": "12", "iqts_country": "FR"}})
    assert answer.status_code == 200, answer.text
    assert answer.json()["data"]["iqts_country"] is None
    assert api.get(f"/trainees/{slug}").json()["iqts_country"] is None


@pytest.mark.parametrize(
    ("initiative", "register_says"),
    [
        (
            "999",
            "training_initiative has invalid reference data value of '999'. Valid values are '009', '011', '025', "
            "'026', '036'.",
        ),
        (
            "036",
            "training_initiative 'international_relocation_payment' is not available in academic cycle '2026 to 2027'",
        ),
    ],
)
def test_an_initiative_a_put_sends_without_funding_method_c_is_checked_as_sent(api, create, initiative, register_says):
    """review105 F1: R19's override is the mapper's, for a request that sends funding method C (§2.6, §3.3 R19);
    an initiative a PUT sends without it is checked as sent (§5.2, R12), beside the stored C. The emulator checked
    the merged record as a create, skipped the code and stored it (200)."""
    veteran = {"funding_method": "C", "fund_code": "7", "training_route": "11", "course_subject_1": "100403"}
    slug = create(**veteran)["trainee_id"]
    answer = api.put(f"/trainees/{slug}", json={"data": {"training_initiative": initiative}})
    assert (answer.status_code, answer.json()["errors"]) == (422, [register_says])
    assert api.get(f"/trainees/{slug}").json()["training_initiative"] != initiative


def test_a_put_clearing_trainee_start_date_sets_it_back_to_itt_start_date(api, create):
    # §3.4: a blank trainee_start_date is set to itt_start_date, on update as on create.
    slug = create(trainee_start_date="2026-09-10")["trainee_id"]
    assert api.get(f"/trainees/{slug}").json()["trainee_start_date"] == "2026-09-10"
    data = api.put(f"/trainees/{slug}", json={"data": {"trainee_start_date": ""}}).json()["data"]
    assert data["trainee_start_date"] == data["itt_start_date"] == "2026-09-01"


def test_a_put_with_funding_method_c_drops_the_initiative_sent_beside_it(api, create):
    # R19 (§2.6 ⚠): funding_method C makes the mapper set the veterans initiative, whatever initiative is sent.
    veteran = {"funding_method": "C", "fund_code": "7", "training_route": "11", "course_subject_1": "100403"}
    slug = create(**veteran)["trainee_id"]
    data = api.put(f"/trainees/{slug}", json={"data": {**veteran, "training_initiative": "026"}}).json()["data"]
    assert (data["funding_method"], data["training_initiative"]) == ("C", None)


def test_a_veteran_changes_when_a_put_leaves_out_funding_method_c():
    """§2.6 ⚠ / R19: a PUT without funding_method C turns the veterans initiative into no_initiative, a change that
    moves updated_at; one that sends C again changes nothing."""
    clock = FakeClock(1_792_058_400.0)  # 2026-10-15T10:00:00Z
    with (
        start_emulator(tokens=(TOKEN_A,), rate_limit=None, as_of=AS_OF, clock=clock) as emulator,
        client_for(emulator) as client,
    ):
        veteran = {"funding_method": "C", "fund_code": "7", "training_route": "11", "course_subject_1": "100403"}
        slug = client.post("/trainees", json=trainee_body(**veteran)).json()["data"]["trainee_id"]
        same = {**veteran, "ethnicity": "120", "course_age_range": "13918"}
        clock.advance(60)
        again = client.put(f"/trainees/{slug}", json={"data": same}).json()["data"]
        assert again["updated_at"] == "2026-10-15T10:00:00.000Z"
        without = {k: v for k, v in same.items() if k != "funding_method"}
        changed = client.put(f"/trainees/{slug}", json={"data": without}).json()["data"]
        assert (changed["training_initiative"], changed["updated_at"]) == (None, "2026-10-15T10:01:00.000Z")


def test_a_put_clearing_both_start_dates_is_refused_for_the_missing_itt_start_date(api, create):
    # §3.2: itt_start_date is required, so a PUT that clears it (and trainee_start_date with it) is a 422.
    slug = create()["trainee_id"]
    response = api.put(f"/trainees/{slug}", json={"data": {"itt_start_date": "", "trainee_start_date": ""}})
    assert response.status_code == 422
    assert "itt_start_date can't be blank" in response.json()["errors"]


def test_a_put_blanking_the_email_gets_both_of_registers_messages_as_a_create_does(api, create):
    """§2.6: the mapper keeps `"email": ""` (`.compact` drops nil only) and `from_trainee` assigns it, so the merged
    record fails presence and EmailFormatValidator (which skips only nil), as a POST with a blank email does."""
    slug = create()["trainee_id"]
    for blank in ("", "   "):
        response = api.put(f"/trainees/{slug}", json={"data": {"email": blank}})
        assert response.status_code == 422, response.text
        assert response.json() == {
            "message": "Validation failed: 2 errors prohibited this trainee from being saved",
            "errors": [
                "email can't be blank",
                "email Enter an email address in the correct format, like name@example.com",
            ],
        }
    assert api.get(f"/trainees/{slug}").json()["email"] == "john.doe@example.com"


def test_route_change_away_from_iqts_drops_the_country(api, create):
    slug = create(training_route="15", iqts_country="BO")["trainee_id"]
    assert api.get(f"/trainees/{slug}").json()["iqts_country"] == "BO"
    data = api.put(f"/trainees/{slug}", json={"data": {"training_route": "12"}}).json()["data"]
    assert data["iqts_country"] is None


def test_a_put_clearing_nationality_or_ethnicity_shows_them_as_not_given(api, create):
    """A blank nationality is no nationality (null, §3.6); a blank ethnicity is "Not provided" (997), which
    discloses nothing (§5.3: nor do the disabilities when none is sent beside it)."""
    slug = create()["trainee_id"]
    assert api.put(f"/trainees/{slug}", json={"data": {"nationality": ""}}).json()["data"]["nationality"] is None
    data = api.put(f"/trainees/{slug}", json={"data": {"ethnicity": ""}}).json()["data"]
    assert (data["ethnicity"], data["ethnic_background"], data["diversity_disclosure"]) == (
        "997",
        "Not provided",
        "diversity_not_disclosed",
    )


def test_withdrawn_trainees_are_read_only(api, create):
    slug = create()["trainee_id"]
    assert api.post(f"/trainees/{slug}/withdraw", json=WITHDRAWAL).status_code == 200
    degree = api.get(f"/trainees/{slug}/degrees").json()["data"][0]["degree_id"]
    placement = api.get(f"/trainees/{slug}/placements").json()["data"][0]["placement_id"]
    for response in (
        api.put(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}}),
        api.patch(f"/trainees/{slug}", json={"data": {"first_names": "Alice"}}),
        api.post(f"/trainees/{slug}/degrees", json={"data": {"subject": "100425"}}),
        api.put(f"/trainees/{slug}/degrees/{degree}", json={"data": {"grade": "01"}}),
        api.delete(f"/trainees/{slug}/degrees/{degree}"),
        api.post(f"/trainees/{slug}/placements", json={"data": {"urn": "123456", "name": "X"}}),
        api.delete(f"/trainees/{slug}/placements/{placement}"),
        api.post(f"/trainees/{slug}/withdraw", json=WITHDRAWAL),
    ):
        assert (response.status_code, response.json()) == (422, STATE_ERROR)
    defer = api.post(f"/trainees/{slug}/defer", json={"data": {"defer_date": "2026-10-02"}})
    assert defer.json() == {
        "errors": [
            {
                "error": "UnprocessableEntity",
                "message": "state is invalid must be one of [submitted_for_trn, trn_received]",
            }
        ]
    }
    assert api.get(f"/trainees/{slug}").json()["first_names"] == "John"


@pytest.mark.parametrize("codes", [("98", "99"), ("95", "95")], ids=["98+99", "95+95"])
def test_no_known_disability_and_not_provided_may_repeat_and_are_then_disclosed_as_disabled(api, create, codes):
    """R14 compares Disability records, which 95, 98 and 99 have none of (has_diversity_attributes.rb `.compact`):
    Register takes such a pair, refused here before. Its disclosure is not_provided or no_disability only when the
    codes are exactly ["Not provided"] or ["No known disability"], so a pair is `disabled`."""
    trainee = create(disability1=codes[0], disability2=codes[1])
    assert (trainee["disability1"], trainee["disability2"]) == codes
    assert trainee["disability_disclosure"] == "disabled"
    updated = api.put(f"/trainees/{trainee['trainee_id']}", json={"data": {"disability3": codes[0]}})
    assert updated.status_code == 200, updated.text
