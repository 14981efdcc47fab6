"""What docs/faq.md says sync does, checked against a real sync with the project's emulator."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.emulator import start_emulator
from register_batch.sync import sync_files
from trainee_extracts import trainee, without_columns, write_extract
from valid_trainee import VALID, validated

FAQ = Path(__file__).resolve().parents[2] / "docs" / "faq.md"
AS_OF = date(2026, 11, 28)
TOKEN = "faq-test-token"
INITIATIVES = ("training_initiative", "additional_training_initiative")


def section(title: str) -> str:
    text = FAQ.read_text(encoding="utf-8")
    start = text.index(f"### {title}\n")
    following = text.find("\n### ", start + 1)
    return " ".join(text[start : following if following > 0 else None].split())


def test_a_blank_initiative_ethnicity_or_disability_leaves_registers_values(tmp_path):
    """The emulator resets the initiative and the diversity disclosure on a PUT that lacks them, as Register does
    (register-api.md §2.6); sync's update carries Register's values back, so an update of another field keeps them:
    the initiative from an extract that does not give it (no column). One that gives it says "no initiative" by a
    blank, which the update removes (review196 F1)."""
    row = trainee(1) | {"training_initiative": "026", "ethnicity": "120", "disability1": "58"}
    blanked = row | {"training_initiative": "", "ethnicity": "", "disability1": "", "email": "moved@example.org"}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        assert sync_files([str(write_extract(tmp_path / "first.csv", [row]))], options).exit_code == 0
        second = without_columns(write_extract(tmp_path / "second.csv", [blanked]), *INITIATIVES)
        update = sync_files([str(second)], options)
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            [held] = client.iter_trainees(academic_cycle=2025)
        removed = sync_files([str(write_extract(tmp_path / "third.csv", [blanked]))], options)
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            [after] = client.iter_trainees(academic_cycle=2025)
    assert update.actions == {"update": 1}
    assert held["email"] == "moved@example.org"
    assert (held["training_initiative"], held["ethnicity"], held["disability1"]) == ("026", "120", "58")
    assert held["diversity_disclosure"] == "diversity_disclosed"
    assert removed.actions == {"update": 1}
    assert (after["training_initiative"], after["ethnicity"], after["disability1"]) == (None, "120", "58")

    said = section("A blank in my extract cleared a value in Register")
    assert "the update sends Register's current values back" in said
    assert '"training_initiative": "026"' in said
    assert "a CSV row (Register's template or HESA-named) whose header has the column, the cell empty" in said
    assert "Which other Students have an initiative plays no part" in said  # review202 F1, review205
    assert "HESA leaves an empty tag out" not in said  # HESA writes NULL (review202 F4)
    assert "the update removes the initiative Register holds" in said
    assert not re.search(r"Register (sets|marks) the trainee", said)  # the old answer: a reset that never happens


def test_the_errors_register_gives_for_codes_that_lost_their_zeros_are_quoted_as_register_words_them():
    """A degree grade Register does not know is read as blank (register-api.md §3.7): its error says the grade must be
    entered, not that its value is invalid, as the FAQ said (`degree_grade has invalid reference data value of '2'`)."""
    degree = VALID["degrees_attributes"][0] | {"grade": "2"}
    data = VALID | {"itt_qualification_aim": "4", "degrees_attributes": [degree]}
    said = section("A code lost its leading zeros: degree grade `2`, qualification aim `4`, institution `117`")
    messages = [issue.message for issue in validated(data, api_only=True).issues]
    assert len(messages) == 2
    for message in messages:
        assert message.partition("...")[0][:60] in said, message
    assert "invalid reference data value of '2'" not in said


def test_a_trainee_deleted_in_register_is_the_conflict_the_faq_quotes(tmp_path):
    """The FAQ quotes the conflict a record of a trainee deleted in Register's service gets: the run gives it."""
    quoted = re.search(r"`(trainee …, which [^`]+)`", section("A trainee deleted in Register is a conflict"))
    assert quoted is not None
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        source = [str(write_extract(tmp_path / "in.csv", [trainee(1)]))]
        [synced] = sync_files(source, options).results
        assert emulator.discard_trainee(synced.plan.trainee_id or "")
        result = sync_files(source, options)
    [deleted] = result.results
    assert (deleted.plan.action, result.exit_code) == ("conflict", 1)
    assert quoted.group(1).replace("…", synced.plan.trainee_id or "") in (deleted.plan.reason or "")
