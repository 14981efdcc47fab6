"""Fixtures for the emulator suite: an in-process emulator on 127.0.0.1 (port 0), httpx clients, request bodies,
and the OpenAPI response schemas of tests/fixtures/openapi/v2026.1.yaml."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import yaml
from emulator_helpers import AS_OF, TOKEN_A, TOKEN_B, trainee_body
from openapi_schema_validator import OAS30Validator

from register_batch.emulator import Emulator, start_emulator


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    """Two providers, no rate limit, no faults, TRNs arriving at once, validation as of AS_OF."""
    with start_emulator(tokens=(TOKEN_A, TOKEN_B), rate_limit=None, as_of=AS_OF, fault_hold=0.6) as running:
        yield running


def _client(emulator: Emulator, token: str | None, **options: Any) -> httpx.Client:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return httpx.Client(base_url=emulator.api_url, headers=headers, timeout=options.pop("timeout", 5.0), **options)


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    """Provider A's client."""
    with _client(emulator, TOKEN_A) as client:
        yield client


@pytest.fixture
def api_b(emulator: Emulator) -> Iterator[httpx.Client]:
    """Provider B's client."""
    with _client(emulator, TOKEN_B) as client:
        yield client


@pytest.fixture
def anonymous(emulator: Emulator) -> Iterator[httpx.Client]:
    with _client(emulator, None) as client:
        yield client


@pytest.fixture
def make_client(emulator: Emulator):
    made: list[httpx.Client] = []

    def make(token: str | None = TOKEN_A, **options: Any) -> httpx.Client:
        client = _client(emulator, token, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def create(api: httpx.Client):
    """POST a trainee (overrides as keyword arguments) and return the 201 body's `data`."""

    def make(client: httpx.Client | None = None, **overrides: Any) -> dict[str, Any]:
        response = (client or api).post("/trainees", json=trainee_body(**overrides))
        assert response.status_code == 201, response.text
        return response.json()["data"]

    return make


class _NoTimestamps(yaml.SafeLoader):
    """The OpenAPI file has unquoted example values like 2023-13-01: keep them strings."""


_NoTimestamps.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _oas30(schema: Any) -> Any:
    """`type: 'null'` (an OpenAPI 3.1 form in this 3.0.3 file) as its 3.0 equivalent: only null."""
    if isinstance(schema, dict):
        if schema.get("type") == "null":
            rest = {k: _oas30(v) for k, v in schema.items() if k != "type"}
            return {**rest, "nullable": True, "enum": [None]}
        return {k: _oas30(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_oas30(v) for v in schema]
    return schema


class OpenApi:
    """Response schemas of the official v2026.1 OpenAPI file, checked with the OAS 3.0 validator."""

    def __init__(self, document: dict[str, Any]):
        self.document = document

    def responses(self) -> set[tuple[str, str, str]]:
        return {
            (method.upper(), path.removeprefix("/api/{api_version}"), status)
            for path, operations in self.document["paths"].items()
            for method, operation in operations.items()
            for status in operation["responses"]
        }

    def schema(self, method: str, template: str, status: int) -> dict[str, Any]:
        operation = self.document["paths"]["/api/{api_version}" + template][method.lower()]
        return _oas30(copy.deepcopy(operation["responses"][str(status)]["content"]["application/json"]["schema"]))

    def example(self, method: str, template: str, status: int) -> Any:
        operation = self.document["paths"]["/api/{api_version}" + template][method.lower()]
        return operation["responses"][str(status)]["content"]["application/json"].get("example")

    def errors(self, method: str, template: str, response: httpx.Response) -> list[str]:
        validator = OAS30Validator(self.schema(method, template, response.status_code))
        return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(response.json())]

    def check(self, method: str, template: str, response: httpx.Response) -> None:
        assert response.headers["content-type"].startswith("application/json")
        problems = self.errors(method, template, response)
        assert not problems, f"{method} {template} {response.status_code}: {problems}"


@pytest.fixture(scope="session")
def openapi(fixtures) -> OpenApi:
    with (fixtures / "openapi" / "v2026.1.yaml").open(encoding="utf-8") as fh:
        return OpenApi(yaml.load(fh, Loader=_NoTimestamps))
