"""lost_letter: a `?` where a name's letter was, as a save in a single-byte encoding leaves it (review156 F2).

Excel's "CSV (Comma delimited)" saves Windows-1252, which has no ł, ś, ş or ễ: each becomes `?` (`Małgorzata` is
`Ma?gorzata`), and so does an XML export declaring windows-1252. The file then reads cleanly, and without this rule
Register would store the `?`, or a sync would overwrite the name Register holds with it. No name is written with a `?`
touching its letters; in free text (a placement's name, a withdrawal's reason) only a `?` between two letters is, as
a question ends with one.
"""

from __future__ import annotations

import copy

import pytest

from cli_runs import validate_issues
from register_batch.validation import CATALOGUE
from register_batch.validation.facts import text_facts
from trainee_extracts import five_trainees_saved
from valid_trainee import VALID, validated, with_changes, withdrawal_for_another_reason


def message(field: str, value: str) -> str:
    return (
        f"{field}: '{value}' has '?' where a letter should be: a letter was lost when the file was saved in an "
        'encoding that cannot hold it (Excel\'s "CSV (Comma delimited)" saves Windows-1252), and Register would '
        "store the '?': save the file as UTF-8 (\"CSV UTF-8\") and validate it again"
    )


def found(data: dict, **bodies: dict) -> list[tuple[str | None, str | None, str, str, str]]:
    return [(i.field, i.value, i.code, i.severity.value, i.message) for i in validated(data, **bodies).issues]


@pytest.mark.parametrize("field", ["first_names", "middle_names", "last_name", "previous_last_name"])
@pytest.mark.parametrize(
    "value",
    [
        "Ma?gorzata",  # Małgorzata
        "Wi?niewski",  # Wiśniewski
        "?ukasz",  # Łukasz: the first letter
        "Ku?",  # Kuć: the last letter
        "Nguy?n",  # Nguyễn
        "??ng",  # Đặng: two letters
        "Ay?e Kaya",  # Ayşe
        "Anna-?ucja",
    ],
)
def test_a_question_mark_touching_a_names_letters_is_an_error(field, value):
    assert found(with_changes(**{field: value})) == [(field, value, "lost_letter", "error", message(field, value))]


@pytest.mark.parametrize("field", ["first_names", "last_name"])
@pytest.mark.parametrize(
    "value",
    [
        "???????",  # Γιώργος: a Greek name, every letter of it lost
        "???",  # Иван
        "????? ??????",  # Ολυμπία Παππά
        "????-???????",  # a Cyrillic double-barrelled name
        "?? ?",
        "Anna ?",  # Anna 王
        "Jones (?)",  # no name's, whatever put it there: Register would show it as the name
    ],
)
def test_a_name_whose_every_letter_was_lost_is_an_error(field, value):
    """review158 F4, review159 F1: a Greek, Cyrillic or CJK name in a Windows-1252 save is all `?`, with no letter for
    the `?` to touch: the worst of the loss, which validated clean, and a sync replaced Register's 芳 王 with `?` `?`.
    No person's name holds a `?` at all, so any is taken for a lost letter, even a `?` put in as a placeholder."""
    assert found(with_changes(**{field: value})) == [(field, value, "lost_letter", "error", message(field, value))]


def only_marks(field: str, value: str) -> str:
    return (
        f"{field}: '{value}' is no name, only '?': a placeholder put in where the name was not known, which Register "
        "would show as the name, or a name whose every letter was lost when the file was saved in an encoding that "
        'cannot hold it (a Chinese name of one or two characters in Excel\'s "CSV (Comma delimited)", Windows-1252): '
        'put the name in the SRS, or save the file as UTF-8 ("CSV UTF-8"), and validate it again'
    )


@pytest.mark.parametrize("field", ["first_names", "middle_names", "last_name", "previous_last_name"])
@pytest.mark.parametrize("value", ["?", "??", " ? "])  # 芳, 王芳, or a placeholder a person typed
def test_a_name_that_is_only_a_question_mark_or_two_is_not_said_to_have_lost_a_letter_only(field, value):
    """fix-carry2: `?` alone is as likely a placeholder a person typed as a Chinese name whose letter was lost: the
    advice to save the file as UTF-8 alone would leave the placeholder, so the message names both, with the same code
    and severity (the record is not sent: Register would show the `?` as the name)."""
    assert found(with_changes(**{field: value})) == [(field, value, "lost_letter", "error", only_marks(field, value))]


@pytest.mark.parametrize(
    "value",
    ["O'Brien", "Jos\u00e9", "Smith-Jones", "#NAME?"],  # spreadsheet_error's
)
def test_a_name_without_a_question_mark_or_a_spreadsheets_error_value_is_left_alone(value):
    assert "lost_letter" not in {f[2] for f in found(with_changes(last_name=value))}


def test_a_placements_name_is_named_with_its_item_and_needs_letters_on_both_sides():
    data = copy.deepcopy(VALID)
    data["placements_attributes"] = [
        {"urn": "900020", "name": "Ysgol Bro ?yr"},  # Ŵyr: not between two letters, as a free text's `?`
        {"urn": "900020", "name": "Szko?a Podstawowa"},  # Szkoła
    ]
    assert found(data) == [
        (
            "placements_attributes[1].name",
            "Szko?a Podstawowa",
            "lost_letter",
            "error",
            message("placements_attributes[1].name", "Szko?a Podstawowa"),
        )
    ]


def test_a_withdrawals_and_a_deferrals_free_text_is_checked_but_not_a_question():
    withdrawal = withdrawal_for_another_reason("Moved to Gda?sk")
    assert found(copy.deepcopy(VALID), withdrawal=withdrawal) == [
        ("withdrawal_another_reason", "Moved to Gda?sk", "lost_letter", "error", message(
            "withdrawal_another_reason", "Moved to Gda?sk"
        ))
    ]  # fmt: skip
    asked = {**withdrawal, "another_reason": "Will the trainee come back?"}
    assert found(copy.deepcopy(VALID), withdrawal=asked) == []
    deferral = {"defer_date": "2026-02-01", "defer_reason": "Why? Illness"}
    assert found(copy.deepcopy(VALID), deferral=deferral) == []


@pytest.mark.parametrize("field,value", [("email", "a?b@example.com"), ("provider_trainee_id", "A?B")])
def test_ids_and_email_are_left_to_their_own_rules(field, value):
    assert "lost_letter" not in {f[2] for f in found(with_changes(**{field: value}))}


def test_the_record_text_with_a_question_mark_is_not_plain():
    """The text rules' fast path (facts.text_facts): a record without `?` pays nothing more."""
    assert text_facts({**VALID, "last_name": "Ma?gorzata"})[1] is False
    assert text_facts(VALID)[1] is True


def test_registers_own_checks_do_not_give_it():
    assert found(with_changes(first_names="Ma?gorzata"), api_only=True) == []
    rule = CATALOGUE["lost_letter"]
    assert (rule.severity.value, rule.api) == ("error", False)
    assert "UTF-8" in rule.fix


def test_validate_refuses_a_name_excel_saved_as_windows_1252(tmp_path):
    """Through `register-batch validate`, as the reviewer found it: a Register CSV saved as Windows-1252."""
    damaged = five_trainees_saved(tmp_path / "excel.csv", {(1, "first_names"): "Małgorzata"}, "cp1252")
    code, issues, output = validate_issues(damaged, tmp_path / "r")
    assert code == 1, output  # an error: the record is not sent
    assert [(i["record"], i["field"], i["value"], i["code"]) for i in issues] == [
        (2, "first_names", "Ma?gorzata", "lost_letter")
    ]


@pytest.mark.parametrize(
    "text",
    [
        "See https://forms.example.ac.uk/view?id=123",
        "Case at http://cases.example.org/Case?ref=ab12 (closed)",
        "Form: www.example.ac.uk/withdraw?trainee=x",
        "Logged as forms.example.ac.uk/view?id=123",
    ],
)
def test_a_question_mark_in_a_link_in_free_text_is_left_alone(text):
    """review158 F5: a withdrawal's reason quoting a form's link (`view?id=123`) was a lost_letter error, and the
    withdrawal was held back. A query string's `?` is the commonest `?` between two letters in free text."""
    withdrawal = withdrawal_for_another_reason(text)
    assert found(copy.deepcopy(VALID), withdrawal=withdrawal) == []
    assert found(copy.deepcopy(VALID), deferral={"defer_date": "2026-02-01", "defer_reason": text}) == []
    damaged = f"Moved to Gda?sk. {text}"  # a lost letter beside the link is still one
    deferral = {"defer_date": "2026-02-01", "defer_reason": damaged}
    assert found(copy.deepcopy(VALID), deferral=deferral) == [
        ("defer_reason", damaged, "lost_letter", "error", message("defer_reason", damaged))
    ]
