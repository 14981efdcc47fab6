"""Every response the official v2026.1 OpenAPI file documents, produced by the emulator over HTTP and validated
against that response's schema (OAS 3.0 validator); statuses and error texts checked against its examples."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from emulator_helpers import trainee_body

T = "/trainees/{trainee_id}"


class World:
    """A provider with trainees in the states the scenarios need."""

    def __init__(self, api: httpx.Client, anonymous: httpx.Client, create: Callable[..., dict]):
        self.api = api
        self.anonymous = anonymous
        self.create = create
        self._count = 0

    def trainee(self, **overrides) -> dict:
        """A trainee whose placements were added through the placements endpoint.

        The OpenAPI schemas were captured from Register's request specs, whose placements all had a postcode and
        an address; nested placements lose their postcode on create (§3.8), so these use the endpoint.
        """
        self._count += 1
        overrides.setdefault("last_name", f"Doe{chr(64 + self._count)}")
        overrides.setdefault("email", f"john{self._count}@example.com")
        overrides.setdefault("placements_attributes", ...)
        trainee = self.create(**overrides)
        for urn, name, postcode in (("123456", "Hill Top School", "BN1 1AA"), ("654321", "Vale School", "ZX6 8FZ")):
            added = self.api.post(
                f"/trainees/{trainee['trainee_id']}/placements",
                json={"data": {"urn": urn, "name": name, "postcode": postcode}},
            )
            assert added.status_code == 201, added.text
        return trainee

    def with_trn(self, **overrides) -> str:
        """A trainee whose TRN has arrived (the emulator's default TRN delay is 0)."""
        slug = self.trainee(**overrides)["trainee_id"]
        assert self.api.get(f"/trainees/{slug}").json()["state"] == "trn_received"
        return slug

    def withdrawn(self) -> str:
        slug = self.with_trn()
        response = self.api.post(f"/trainees/{slug}/withdraw", json=WITHDRAWAL)
        assert response.status_code == 200, response.text
        return slug


WITHDRAWAL = {
    "data": {
        "reasons": ["safeguarding_concerns"],
        "withdrawal_date": "2026-10-01",
        "trigger": "provider",
        "future_interest": "no",
        "safeguarding_concern_reasons": "Some safeguarding reasons",
    }
}
DEGREE = {
    "data": {
        "grade": "02",
        "subject": "100425",
        "institution": "1166",
        "uk_degree": "014",
        "graduation_year": "2015-01-01",
    }
}
NON_UK_DEGREE = {
    "data": {"subject": "100425", "non_uk_degree": "083", "country": "GL", "grade": "02", "graduation_year": "2015"}
}
PLACEMENT = {"data": {"urn": "987548", "name": "Western Washington University", "postcode": "ZX6 8FZ"}}
MISSING = "/trainees/AAAAAAAAAAAAAAAAAAAAAAAA"


def _first_degree(w: World, slug: str) -> str:
    return w.api.get(f"/trainees/{slug}/degrees").json()["data"][0]["degree_id"]


def _first_placement(w: World, slug: str) -> str:
    return w.api.get(f"/trainees/{slug}/placements").json()["data"][0]["placement_id"]


def _recommend(path: str) -> Callable[[World], httpx.Response]:
    def run(w: World) -> httpx.Response:
        slug = w.with_trn()
        return w.api.post(f"/trainees/{slug}/{path}", json={"data": {"qts_standards_met_date": "2026-10-10"}})

    return run


SCENARIOS: dict[tuple[str, str, str], Callable[[World], httpx.Response]] = {
    ("GET", "/info", "200"): lambda w: w.api.get("/info"),
    ("GET", "/reference-data", "200"): lambda w: w.anonymous.get("/reference-data", params={"field": "sex"}),
    ("GET", "/reference-data", "404"): lambda w: w.anonymous.get("/reference-data", params={"field": "bogus"}),
    ("GET", "/trainees", "200"): lambda w: (w.trainee(), w.trainee(), w.api.get("/trainees", params={"per_page": 5}))[
        -1
    ],
    ("GET", "/trainees", "422"): lambda w: w.api.get("/trainees", params={"status": "invalid_state"}),
    ("POST", "/trainees", "201"): lambda w: w.api.post("/trainees", json=trainee_body()),
    ("POST", "/trainees", "409"): lambda w: (
        w.trainee(last_name="Twice"),
        w.api.post("/trainees", json=trainee_body(last_name="Twice")),
    )[1],
    ("POST", "/trainees", "422"): lambda w: w.api.post(
        "/trainees", json=trainee_body(funding_method="4", fund_code="7", course_subject_1="100497")
    ),
    ("GET", T, "200"): lambda w: w.api.get(f"/trainees/{w.trainee()['trainee_id']}"),
    ("GET", T, "404"): lambda w: w.api.get(MISSING),
    ("PUT", T, "200"): lambda w: w.api.put(
        f"/trainees/{w.trainee()['trainee_id']}",
        json={"data": {"first_names": "Alice", "degrees_attributes": [{"subject": "100425"}]}},
    ),
    ("PUT", T, "401"): lambda w: w.anonymous.put(f"/trainees/{w.trainee()['trainee_id']}", json={"data": {"a": 1}}),
    ("PUT", T, "404"): lambda w: w.api.put(MISSING, json={"data": {"first_names": "Alice"}}),
    ("PUT", T, "422"): lambda w: w.api.put(
        f"/trainees/{w.trainee()['trainee_id']}",
        json={"data": {"funding_method": "D", "fund_code": "2", "course_subject_1": "100346"}},
        headers={"Enhanced-Errors": "true"},
    ),
    ("POST", T + "/defer", "200"): lambda w: w.api.post(
        f"/trainees/{w.with_trn()}/defer", json={"data": {"defer_date": "2026-10-01"}}
    ),
    ("POST", T + "/defer", "404"): lambda w: w.api.post(
        f"{MISSING}/defer", json={"data": {"defer_date": "2026-10-01"}}
    ),
    ("POST", T + "/defer", "422"): lambda w: w.api.post(
        f"/trainees/{w.with_trn()}/defer", json={"data": {"defer_reason": "x"}}
    ),
    ("GET", T + "/degrees", "200"): lambda w: w.api.get(f"/trainees/{w.trainee()['trainee_id']}/degrees"),
    ("POST", T + "/degrees", "201"): lambda w: w.api.post(
        f"/trainees/{w.trainee()['trainee_id']}/degrees", json=NON_UK_DEGREE
    ),
    ("POST", T + "/degrees", "404"): lambda w: w.api.post(f"{MISSING}/degrees", json=DEGREE),
    ("POST", T + "/degrees", "409"): lambda w: (
        lambda slug: (
            w.api.post(f"/trainees/{slug}/degrees", json=DEGREE),
            w.api.post(f"/trainees/{slug}/degrees", json=DEGREE),
        )[1]
    )(w.trainee()["trainee_id"]),
    ("POST", T + "/degrees", "422"): lambda w: w.api.post(
        f"/trainees/{w.trainee()['trainee_id']}/degrees",
        json={"data": {"graduation_year": "3000", "country": "France", "non_uk_degree": "Bachelor of Arts"}},
    ),
    ("GET", T + "/degrees/{degree_id}", "200"): lambda w: (
        lambda slug: w.api.get(f"/trainees/{slug}/degrees/{_first_degree(w, slug)}")
    )(w.trainee()["trainee_id"]),
    ("GET", T + "/degrees/{degree_id}", "404"): lambda w: w.api.get(
        f"/trainees/{w.trainee()['trainee_id']}/degrees/nope"
    ),
    ("PUT", T + "/degrees/{degree_id}", "200"): lambda w: (
        lambda slug: w.api.put(
            f"/trainees/{slug}/degrees/{_first_degree(w, slug)}",
            json={
                "data": {
                    "subject": "100425",
                    "uk_degree": "083",
                    "grade": "02",
                    "institution": "0117",
                    "graduation_year": "2015-01-01",
                    "country": "XF",
                }
            },
        )
    )(w.trainee()["trainee_id"]),
    ("PUT", T + "/degrees/{degree_id}", "404"): lambda w: w.api.put(f"{MISSING}/degrees/nope", json=DEGREE),
    ("PUT", T + "/degrees/{degree_id}", "422"): lambda w: (
        lambda slug: w.api.put(f"/trainees/{slug}/degrees/{_first_degree(w, slug)}", json={"data": {}})
    )(w.trainee()["trainee_id"]),
    ("DELETE", T + "/degrees/{degree_id}", "200"): lambda w: (
        lambda slug: w.api.delete(f"/trainees/{slug}/degrees/{_first_degree(w, slug)}")
    )(w.trainee()["trainee_id"]),
    ("DELETE", T + "/degrees/{degree_id}", "404"): lambda w: w.api.delete(
        f"/trainees/{w.trainee()['trainee_id']}/degrees/nope"
    ),
    ("DELETE", T + "/degrees/{degree_id}", "422"): lambda w: (
        lambda slug: w.api.delete(f"/trainees/{slug}/degrees/{_first_degree(w, slug)}")
    )(w.withdrawn()),
    ("GET", T + "/placements", "200"): lambda w: w.api.get(f"/trainees/{w.trainee()['trainee_id']}/placements"),
    ("POST", T + "/placements", "201"): lambda w: w.api.post(
        f"/trainees/{w.trainee()['trainee_id']}/placements", json=PLACEMENT
    ),
    ("POST", T + "/placements", "404"): lambda w: w.api.post(f"{MISSING}/placements", json=PLACEMENT),
    ("POST", T + "/placements", "422"): lambda w: w.api.post(
        f"/trainees/{w.trainee()['trainee_id']}/placements", json={"data": {"postcode": "BN1 1AA"}}
    ),
    ("GET", T + "/placements/{placement_id}", "200"): lambda w: (
        lambda slug: w.api.get(f"/trainees/{slug}/placements/{_first_placement(w, slug)}")
    )(w.trainee()["trainee_id"]),
    ("GET", T + "/placements/{placement_id}", "404"): lambda w: w.api.get(
        f"/trainees/{w.trainee()['trainee_id']}/placements/nope"
    ),
    ("PUT", T + "/placements/{placement_id}", "200"): lambda w: (
        lambda slug: w.api.put(
            f"/trainees/{slug}/placements/{_first_placement(w, slug)}",
            json={"data": {"urn": "714649", "name": "Walker Institute", "postcode": "ZC4V 4UJ"}},
        )
    )(w.trainee()["trainee_id"]),
    ("PUT", T + "/placements/{placement_id}", "404"): lambda w: w.api.put(f"{MISSING}/placements/nope", json=PLACEMENT),
    ("PUT", T + "/placements/{placement_id}", "422"): lambda w: (
        lambda slug: w.api.put(
            f"/trainees/{slug}/placements/{_first_placement(w, slug)}", json={"data": {"urn": "900010", "name": ""}}
        )
    )(w.trainee()["trainee_id"]),
    ("DELETE", T + "/placements/{placement_id}", "200"): lambda w: (
        lambda slug: w.api.delete(f"/trainees/{slug}/placements/{_first_placement(w, slug)}")
    )(w.trainee()["trainee_id"]),
    ("DELETE", T + "/placements/{placement_id}", "404"): lambda w: w.api.delete(
        f"/trainees/{w.trainee()['trainee_id']}/placements/nope"
    ),
    ("DELETE", T + "/placements/{placement_id}", "422"): lambda w: (
        lambda slug: w.api.delete(f"/trainees/{slug}/placements/{_first_placement(w, slug)}")
    )(w.withdrawn()),
    ("POST", T + "/recommend-for-qts", "202"): _recommend("recommend-for-qts"),
    ("POST", T + "/recommend-for-qts", "404"): lambda w: w.api.post(
        f"{MISSING}/recommend-for-qts", json={"data": {"qts_standards_met_date": "2026-10-10"}}
    ),
    ("POST", T + "/recommend-for-qts", "422"): lambda w: (
        lambda slug: (
            w.api.delete(f"/trainees/{slug}/degrees/{_first_degree(w, slug)}"),
            w.api.post(f"/trainees/{slug}/recommend-for-qts", json={"data": {"qts_standards_met_date": "2026-10-10"}}),
        )[1]
    )(w.with_trn()),
    ("POST", T + "/update-qts-or-eyts-status", "202"): _recommend("update-qts-or-eyts-status"),
    ("POST", T + "/withdraw", "200"): lambda w: w.api.post(f"/trainees/{w.with_trn()}/withdraw", json=WITHDRAWAL),
    ("POST", T + "/withdraw", "401"): lambda w: w.anonymous.post(f"/trainees/{w.with_trn()}/withdraw", json=WITHDRAWAL),
    ("POST", T + "/withdraw", "404"): lambda w: w.api.post(f"{MISSING}/withdraw", json=WITHDRAWAL),
    ("POST", T + "/withdraw", "422"): lambda w: w.api.post(f"/trainees/{w.withdrawn()}/withdraw", json=WITHDRAWAL),
}


def test_every_documented_response_has_a_scenario(openapi):
    assert set(SCENARIOS) == openapi.responses()


@pytest.mark.parametrize("key", sorted(SCENARIOS), ids=lambda k: " ".join(k))
def test_response_matches_the_openapi_schema(key, api, anonymous, create, openapi):
    method, template, status = key
    response = SCENARIOS[key](World(api, anonymous, create))
    assert response.status_code == int(status), response.text
    openapi.check(method, template, response)
    example = openapi.example(method, template, int(status))
    body = response.json()
    # Error bodies carry the same kind of error as the example (NotFound, Conflict, StateTransitionError, ...).
    if isinstance(example, dict) and isinstance(example.get("errors"), list) and isinstance(example["errors"][0], dict):
        assert body["errors"][0]["error"] == example["errors"][0]["error"]
    if isinstance(example, dict) and "error" in example:
        assert body == example


def test_the_example_messages_that_do_not_depend_on_data_are_identical(api, anonymous, create, openapi):
    world = World(api, anonymous, create)
    for key in [
        ("GET", "/reference-data", "404"),
        ("GET", T, "404"),
        ("PUT", T, "404"),
        ("POST", T + "/defer", "404"),
        ("DELETE", T + "/degrees/{degree_id}", "422"),
        ("DELETE", T + "/placements/{placement_id}", "422"),
        ("POST", T + "/withdraw", "422"),
        ("PUT", T + "/degrees/{degree_id}", "422"),
        ("GET", T + "/placements/{placement_id}", "404"),
        ("GET", T + "/degrees/{degree_id}", "404"),
        ("PUT", T + "/placements/{placement_id}", "422"),
        ("POST", T + "/placements", "404"),
        ("POST", "/trainees", "422"),
        ("PUT", T, "422"),
        ("POST", T + "/defer", "422"),
        ("POST", T + "/recommend-for-qts", "422"),
    ]:
        method, template, status = key
        assert SCENARIOS[key](world).json() == openapi.example(method, template, int(status)), key
