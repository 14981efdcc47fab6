"""review211 F6: Register keeps pg_apprenticeship_start_date in a date column (hesa-formats.md §3.4, inference), so
it answers the day as YYYY-MM-DD, or null where Rails' date cast finds none: never the text as sent."""

from __future__ import annotations

import pytest
from emulator_helpers import trainee_body


@pytest.mark.parametrize(
    ("sent", "kept"),
    [
        ("2025-09-01", "2025-09-01"),
        ("2025-09-01T00:00:00Z", "2025-09-01"),
        ("03/04/2025", "2025-04-03"),
        ("2025-02-30", None),
        ("next spring", None),
    ],
)
def test_a_pg_apprenticeship_start_date_is_kept_as_a_date_column_keeps_it(api, sent, kept):
    created = api.post("/trainees", json=trainee_body(pg_apprenticeship_start_date=sent))
    assert created.status_code == 201, created.text
    data = created.json()["data"]
    assert data["pg_apprenticeship_start_date"] == kept
    shown = api.get(f"/trainees/{data['trainee_id']}").json()
    assert shown["pg_apprenticeship_start_date"] == kept


def test_an_update_keeps_the_day_too(api):
    created = api.post("/trainees", json=trainee_body(pg_apprenticeship_start_date="2025-09-01")).json()["data"]
    updated = api.put(
        f"/trainees/{created['trainee_id']}", json={"data": {"pg_apprenticeship_start_date": "2025-10-01T09:00:00Z"}}
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["data"]["pg_apprenticeship_start_date"] == "2025-10-01"
