"""Small, valid Register bulk-add CSV extracts for the sync tests (varied names, one degree, placements)."""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from register_batch.writers import register_template

FIRST = ["Amira", "Ben", "Chloé", "Dafydd", "Eve", "Farid", "Grace", "Hamish", "Isla", "Jonah", "Kemi", "Liam"]
LAST = ["Okafor", "Smith", "O'Neill", "Jones", "Patel", "Nowak", "Evans", "Brown-Ali", "Taylor", "Wilson"]
EXTENSION = (
    "withdrawal_date",
    "withdrawal_reasons",
    "withdrawal_trigger",
    "withdrawal_future_interest",
    "defer_date",
    "defer_reason",
)

# A withdrawal the record's trainee may take (started, state submitted_for_trn): the columns as an extract holds them.
WITHDRAWN = {
    "withdrawal_date": "2026-02-01",
    "withdrawal_reasons": "did_not_make_progress",
    "withdrawal_trigger": "trainee",
    "withdrawal_future_interest": "no",
}


def trainee(n: int) -> dict[str, Any]:
    """The n-th trainee: provider-led postgraduate, 2025/26, valid as of 2026-11-28."""
    return {
        "provider_trainee_id": f"SRS-{n:05d}",
        "hesa_id": f"{2510000000000 + n:013d}",
        "first_names": FIRST[n % len(FIRST)],
        "last_name": f"{LAST[n % len(LAST)]}{n}",
        "date_of_birth": f"{1980 + n % 20}-0{1 + n % 9}-1{n % 10}",
        "sex": ["10", "11", "12"][n % 3],
        "email": f"trainee{n}@example.com",
        "nationality": "GB",
        "ethnicity": ["160", "120", "103", "997"][n % 4],
        "disability1": "95",
        "itt_aim": "202",
        "training_route": "12",
        "itt_qualification_aim": "020",
        "course_subject_1": ["100346", "100425", "100403", "100302"][n % 4],
        "study_mode": "01",
        "itt_start_date": "2025-09-01",
        "itt_end_date": "2026-07-31",
        "course_age_range": "13918",
        "course_year": "1",
        "trainee_start_date": "2025-09-01",
        "fund_code": "2",
        "funding_method": "6",
        "placement_1_urn": "900020",
        "placement_2_urn": f"{100000 + n}",
        "uk_degree": "083",
        "degree_subject": "100485",
        "degree_grade": ["01", "02", "03"][n % 3],
        "degree_graduation_year": str(2005 + n % 15),
        "awarding_institution": "0117",
    }


def started_in(year: int, row: dict[str, Any], **changes: Any) -> dict[str, Any]:
    """A trainee row moved to start on 1 September of `year` (trainee_start_date too), ending the next July: a
    deferral before the course began, or a mistyped year corrected."""
    dates = {
        "itt_start_date": f"{year}-09-01",
        "trainee_start_date": f"{year}-09-01",
        "itt_end_date": f"{year + 1}-07-31",
    }
    return {**row, **dates, **changes}


DEFERRED = {"defer_date": "2026-03-01", "defer_reason": "health"}


def restarted(row: dict[str, Any]) -> dict[str, Any]:
    """A deferred trainee back in the next cycle: same HUSID and SRS id, new start and end, no deferral (the
    academic-year rollover: review227, review230)."""
    return {
        **{k: v for k, v in row.items() if k not in DEFERRED},
        "itt_start_date": "2026-09-07",
        "trainee_start_date": "2026-09-07",
        "itt_end_date": "2027-07-09",
    }


def new_cohort() -> list[dict[str, Any]]:
    """Two trainees starting in the 2026 cycle."""
    return [started_in(2026, trainee(n)) for n in (11, 12)]


def write_extract(path: Path, rows: list[dict[str, Any]]) -> Path:
    """A Register CSV with the template columns (plus withdrawal/deferral columns when rows use them)."""
    columns = list(register_template())
    if any(any(k in row for k in EXTENSION) for row in rows):
        columns += list(EXTENSION)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        for row in rows:
            writer.writerow({k: row.get(k, "") for k in columns})
    return path


def without_columns(path: Path, *dropped: str) -> Path:
    """`path`, a CSV, rewritten without the columns `dropped` (an SRS export cut down to the columns it fills)."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    kept = [column for column in rows[0] if column not in dropped]
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=kept, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def extract(path: Path, count: int, start: int = 1, **changes: dict[int, dict[str, Any]]) -> Path:
    rows = [trainee(n) for n in range(start, start + count)]
    return write_extract(path, rows)


def written_earlier(path: Path, content: bytes) -> Path:
    """`path` holding `content`, as the SRS wrote it some time ago (a modification time long past, so that a rewrite
    now is seen whatever the file system's timestamp resolution)."""
    path.write_bytes(content)
    os.utime(path, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    return path


def copied_over(path: Path, content: bytes) -> None:
    """The next export copied over `path` as `cp` does: the same file, truncated and written again."""
    with open(path, "r+b") as fh:
        fh.truncate(0)
        fh.write(content)


FIVE_TRAINEES = Path(__file__).parent / "fixtures" / "register_csv" / "five_trainees.csv"


def five_trainees_saved(path: Path, edits: dict[tuple[int, str], str], encoding: str = "utf-8") -> Path:
    """tests/fixtures' five_trainees.csv with `edits` ({(row, column): value}, rows from 0), saved to `path` in
    `encoding` as a spreadsheet saves it: a letter the encoding cannot hold becomes `?`."""
    with FIVE_TRAINEES.open(encoding="utf-8-sig", newline="") as fh:
        header, *rows = list(csv.reader(fh))
    for (row, column), value in edits.items():
        rows[row][header.index(column)] = value
    with path.open("w", encoding=encoding, errors="replace", newline="") as fh:
        csv.writer(fh).writerows([header, *rows])
    return path
