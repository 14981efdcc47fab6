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


@pytest.mark.parametrize(
    ("disabilities", "ethnicity", "disability_disclosure", "diversity_disclosure"),
    [
        ({"disability1": "95"}, "998", "no_disability", "diversity_disclosed"),  # 95 alone; 95 counts as disclosed
        ({"disability1": "95", "disability2": "58"}, "998", "disabled", "diversity_disclosed"),
        ({"disability1": "98"}, "998", "disability_not_provided", "diversity_not_disclosed"),
        ({"disability1": "98"}, "166", "disability_not_provided", "diversity_disclosed"),
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
