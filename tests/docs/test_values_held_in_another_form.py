"""docs/formats.md, "Values Register holds in another form": each value the page lists comes back so (review168 F6).

A data officer who fills Register's CSV template by hand checks a round trip (sync, then `export --to register-csv`)
cell by cell, and sees "prefer not to say" (998) come back as 997 and a "not applicable" URN vanish, with no word of
why. The page lists those values; this test syncs each into the emulator, exports, and checks the page's claims
against what comes back, and that the page names each.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.export import export_trainees
from register_batch.sync import sync_files
from trainee_extracts import trainee, write_extract

FORMATS = Path(__file__).resolve().parents[2] / "docs" / "formats.md"
TOKEN = "review168-round-trip-token"

# (trainee number, column, value typed, value exported without Register's leading ', as the page gives them)
HELD_SO = [
    (1, "ethnicity", "998", "997"),
    (2, "ethnicity", "999", "997"),
    (3, "training_partner_urn", "900020", ""),
    (4, "employing_school_urn", "900010", ""),
    (5, "degree_graduation_year", "2016-07-01", "2016"),
    (6, "degree_grade", "09", "14"),
    (7, "awarding_institution", "0133", "0149"),
    (8, "nationality", "JE", "GB"),
]

# review172 F7: what a template filled in by hand most often leaves blank. (trainee number, the cells typed, the cells
# exported, the words of the page that say so)
LEFT_BLANK = [
    (9, {"ethnicity": ""}, {"ethnicity": "997"}, "`ethnicity` left blank"),
    (
        10,
        {"placement_1_urn": "", "placement_2_urn": "100010"},
        {"placement_1_urn": "100010", "placement_2_urn": ""},
        "a blank `placement_1_urn` beside a `placement_2_urn`",
    ),
]


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory) -> dict[str, dict[str, str]]:
    """The exported rows by hesa_id, each cell without Register's leading '."""
    folder = tmp_path_factory.mktemp("review168")
    rows = [trainee(n) for n in range(1, len(HELD_SO) + len(LEFT_BLANK) + 1)]
    for number, column, typed, _back in HELD_SO:
        rows[number - 1][column] = typed
    for number, typed, _back, _words in LEFT_BLANK:
        rows[number - 1].update(typed)
    source = write_extract(folder / "typed.csv", rows)
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        result = sync_files([str(source)], sync_options(emulator, folder, TOKEN))
        assert result.exit_code == 0, result.summary_line()
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            export_trainees(client, to="register-csv", output=folder / "held.csv", academic_cycle=2025)
    with (folder / "held.csv").open(encoding="utf-8", newline="") as fh:
        return {
            row["hesa_id"].removeprefix("'"): {k: v.removeprefix("'") for k, v in row.items()}
            for row in csv.DictReader(fh)
        }


@pytest.mark.parametrize(("number", "column", "typed", "back"), HELD_SO, ids=[f"{c}-{t}" for _n, c, t, _b in HELD_SO])
def test_the_value_comes_back_as_the_page_says_and_the_page_names_it(round_trip, number, column, typed, back):
    assert round_trip[trainee(number)["hesa_id"]][column] == back
    section = FORMATS.read_text(encoding="utf-8").split("#### Values Register holds in another form")[1]
    section = section.split("\n#")[0]
    assert f"`{column}`" in section
    assert f"`{typed}`" in section and (f"`{back}`" in section or (back == "" and "comes back as none" in section))


def section() -> str:
    return FORMATS.read_text(encoding="utf-8").split("#### Values Register holds in another form")[1].split("\n#")[0]


@pytest.mark.parametrize(("number", "typed", "back", "words"), LEFT_BLANK, ids=["ethnicity", "placements"])
def test_a_cell_left_blank_comes_back_as_the_page_says_and_the_page_names_it(round_trip, number, typed, back, words):
    exported = round_trip[trainee(number)["hesa_id"]]
    assert {column: exported[column] for column in back} == back
    assert words in " ".join(section().split())
