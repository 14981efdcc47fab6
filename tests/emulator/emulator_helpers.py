"""Shared helpers of the emulator suite (a module of its own, so that tests can import it)."""

from __future__ import annotations

import threading
from datetime import date
from typing import Any

import httpx

# Validation "now" for the suite: cycle 2026 (1 Aug 2026 - 31 Jul 2027), so the tests do not age.
AS_OF = date(2026, 10, 15)
TOKEN_A = "provider-a-test-token"
TOKEN_B = "provider-b-test-token"


def trainee_body(**overrides: Any) -> dict[str, Any]:
    """A valid provider-led postgraduate (route 12) trainee with one degree and two placements, as a POST body."""
    data: dict[str, Any] = {
        "first_names": "John",
        "middle_names": "Ryan",
        "last_name": "Doe",
        "previous_last_name": "Smith",
        "date_of_birth": "1990-01-01",
        "sex": "11",
        "email": "john.doe@example.com",
        "nationality": "GB",
        "ethnicity": "120",
        "disability1": "58",
        "disability2": "57",
        "training_route": "12",
        "itt_start_date": "2026-09-01",
        "itt_end_date": "2027-07-31",
        "course_subject_1": "100425",
        "study_mode": "01",
        "itt_aim": "202",
        "itt_qualification_aim": "001",
        "course_year": "1",
        "course_age_range": "13918",
        "fund_code": "2",
        "funding_method": "6",
        "hesa_id": "0310261553101",
        "ni_number": "QQ123456C",
        "pg_apprenticeship_start_date": "2026-09-01",
        "training_initiative": "026",
        "additional_training_initiative": "011",
        "provider_trainee_id": "99157234/2/01",
        "degrees_attributes": [
            {"grade": "02", "subject": "100485", "institution": "0117", "uk_degree": "083", "graduation_year": "2012"}
        ],
        "placements_attributes": [
            {"urn": "900020", "name": "Placement", "postcode": "BN1 1AA"},
            {"urn": "123456", "name": "Hill Top School"},
        ],
    }
    data.update(overrides)
    return {"data": {k: v for k, v in data.items() if v is not ...}}


class FakeClock:
    """A settable epoch clock for deterministic windows and timestamps."""

    def __init__(self, now: float):
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self._lock:
            self.now += seconds


def client_for(emulator: Any, token: str = TOKEN_A, **options: Any) -> httpx.Client:
    """An httpx client for one provider of an emulator."""
    return httpx.Client(base_url=emulator.api_url, headers={"Authorization": f"Bearer {token}"}, **options)
