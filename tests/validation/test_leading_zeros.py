"""leading_zeros_lost: a code a spreadsheet wrote as a number (`02` as `2`) is named as such, beside Register's error.

hesa-formats.md §1.4 ("Codes are zero-padded strings ... Dropping leading zeros breaks matching") and §5 item 29
(Excel strips them unless the cell is text). Register's own message is kept exactly; the warning follows it.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from register_batch.mapping import Mapper, load_mapping
from register_batch.validation import CATALOGUE, Checker, Validator
from valid_trainee import AS_OF, NON_UK_DEGREE, VALID, validated

FIXTURES = Path(__file__).parents[1] / "fixtures"


def issues(data: dict, *, api_only: bool = False, translation=None) -> list[tuple[str, str | None, str, str, str]]:
    record = validated(data, api_only=api_only, translation=translation)
    return [(i.field, i.value, i.code, i.severity.value, i.message) for i in record.issues]


def changed(degree: dict | None = None, **changes) -> dict:
    data = copy.deepcopy(VALID)
    data.update(changes)
    if degree is not None:
        data["degrees_attributes"] = [degree]
    return data


def warning(field: str, value: str, padded: str) -> tuple[str, str, str, str, str]:
    zeros = "zero" if len(padded) - len(value) == 1 else "zeros"
    return (
        field,
        value,
        "leading_zeros_lost",
        "warning",
        f"{field}: '{value}' is not a code, but '{padded}' is: a spreadsheet may have dropped its leading {zeros} "
        "(export the column as text, or correct the SRS)",
    )


@pytest.mark.parametrize(
    "data,field,value,padded,error",
    [
        (changed(itt_qualification_aim="4"), "itt_qualification_aim", "4", "004", "invalid_code"),
        (changed(study_mode="1"), "study_mode", "1", "01", "invalid_code"),
        (changed(training_initiative="26"), "training_initiative", "26", "026", "invalid_code"),
        (changed(additional_training_initiative="9"), "additional_training_initiative", "9", "009", "invalid_code"),
        (changed(training_route="3"), "training_route", "3", "03", "invalid_training_route"),
        (
            changed({**VALID["degrees_attributes"][0], "grade": "2"}),
            "degrees_attributes[0].grade",
            "2",
            "02",
            "degree_grade_required",
        ),
        (
            changed({**VALID["degrees_attributes"][0], "institution": "117"}),
            "degrees_attributes[0].institution",
            "117",
            "0117",
            "unknown_institution",
        ),
        (
            changed({**VALID["degrees_attributes"][0], "institution": "1"}),
            "degrees_attributes[0].institution",
            "1",
            "0001",
            "unknown_institution",
        ),
        (
            changed({**VALID["degrees_attributes"][0], "uk_degree": "83"}),
            "degrees_attributes[0].uk_degree",
            "83",
            "083",
            "invalid_degree_code",
        ),
        (changed({**NON_UK_DEGREE, "grade": "9"}), "degrees_attributes[0].grade", "9", "09", "unknown_degree_grade"),
        (
            changed({**NON_UK_DEGREE, "non_uk_degree": "51"}),
            "degrees_attributes[0].non_uk_degree",
            "51",
            "051",
            "invalid_degree_code",
        ),
    ],
)
def test_a_code_without_its_leading_zeros_is_named_beside_registers_error(
    monkeypatch, data, field, value, padded, error
):
    found = issues(data)
    [at] = [n for n, issue in enumerate(found) if issue[2] == error]
    assert found[at][:4] == (field, value, error, "error")
    assert found[at + 1] == warning(field, value, padded)  # right beside it
    assert [issue for issue in found if issue[2] == "leading_zeros_lost"] == [warning(field, value, padded)]
    # Every other issue is untouched (Register's own wording): the same as without the follow-up rules.
    monkeypatch.setattr(Validator, "_follow_up", lambda *args: None)
    assert [issue for issue in found if issue[2] != "leading_zeros_lost"] == issues(data)


@pytest.mark.parametrize(
    "changes",
    [
        {},  # every code valid: nothing said, whatever its zeros
        {"training_route": "2"},  # 02 is listed but refused (R9): padding gives no code Register takes
        {"itt_qualification_aim": "22"},  # 022 is no qualification aim either
        {"sex": "0"},  # sex codes have no leading zero
        {"study_mode": "001"},  # longer than the codes: nothing to pad
        {"study_mode": "٠١"},  # Arabic-Indic digits are no ASCII digits
        {"study_mode": " 1"},
        {"itt_qualification_aim": "PGCE"},
        {"fund_code": "07"},
    ],
)
def test_no_warning_where_padding_gives_no_valid_code(changes):
    assert "leading_zeros_lost" not in {issue[2] for issue in issues(changed(**changes))}


def test_the_emulator_never_says_it():
    assert "leading_zeros_lost" not in {issue[2] for issue in issues(changed(study_mode="1"), api_only=True)}
    rule = CATALOGUE["leading_zeros_lost"]
    assert rule.severity.value == "warning" and not rule.api
    # It follows every issue that says a value is not in its code list, and only codes that exist.
    assert rule.follows <= set(CATALOGUE)
    assert {"invalid_code", "unknown_disability", "degree_grade_required", "unknown_institution"} <= rule.follows


def test_a_legacy_code_without_its_leading_zeros_is_named_with_the_mappings_own_codes():
    """F_DISABLE `00` (no known disability, C21053) read as `0`: no Register code pads from it, but the mapping's
    legacy code does, and the warning says so (the value is not translated: nothing is guessed)."""
    translation = Mapper(load_mapping()).translation
    found = issues(changed(disability1="0"), translation=translation)
    assert [issue[2:4] for issue in found] == [("unknown_disability", "error"), ("leading_zeros_lost", "warning")]
    assert found[1][:2] == ("disability1", "0")
    assert found[1][4] == (
        "disability1: '0' is not a code, but '00' is, a legacy code translated on reading (C21053 single F_DISABLE "
        "codes): a spreadsheet may have dropped its leading zero (export the column as text, or correct the SRS)"
    )
    degree = {**VALID["degrees_attributes"][0], "uk_degree": "4"}  # legacy honours 004, read as 003
    found = issues(changed(degree), translation=translation)
    assert [issue[2] for issue in found] == ["invalid_degree_code", "leading_zeros_lost"]
    assert "'4' is not a code, but '004' is, a legacy code translated on reading" in found[1][4]
    # Without the mapping's codes (a bare Validator) there is nothing to say.
    assert "leading_zeros_lost" not in {issue[2] for issue in issues(changed(disability1="0"))}


def test_a_legacy_code_with_no_current_one_is_named_with_its_reason_when_its_zeros_are_lost():
    """F_DISABLE `08` (multiple disabilities, C21053) read as `8`: `08` has no v2026.1 code either, so the hint
    gives the mapping's reason, which is what the user must act on."""
    translation = Mapper(load_mapping()).translation
    found = issues(changed(disability1="8"), translation=translation)
    assert [issue[2:4] for issue in found] == [("unknown_disability", "error"), ("leading_zeros_lost", "warning")]
    assert found[1][4] == (
        "disability1: '8' may be '08' with its leading zero dropped by a spreadsheet: C21053 code 08 (multiple "
        "disabilities) has no v2026.1 equivalent: list each disability in disability1-9"
    )


def test_register_csv_saved_by_a_spreadsheet(tmp_path):
    """Register's own bulk-add fixture, as Excel writes it back: the protective apostrophes gone, and with them the
    zeros of 004 (qualification aim), 02 (study mode), 05 (degree grade) and 0309 (institution)."""
    source = FIXTURES / "register_csv" / "five_trainees_with_degree.csv"
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    first = lines[1]
    assert ",'004,'100069,,,'02," in first and ",'05,'2010-08-01,'0309," in first
    mangled = first.replace("'004", "4").replace("'02,", "2,").replace("'05,", "5,").replace("'0309", "309")
    path = tmp_path / "saved.csv"
    path.write_text(lines[0] + mangled, encoding="utf-8")
    with Checker(fmt="register-csv", as_of=AS_OF) as checker:
        [record] = checker.records([str(path)])
    zeros = [(i.field, i.value) for i in record.issues if i.code == "leading_zeros_lost"]
    assert zeros == [
        ("itt_qualification_aim", "4"),
        ("study_mode", "2"),
        ("degrees_attributes[0].grade", "5"),
        ("degrees_attributes[0].institution", "309"),
    ]
    codes = [i.code for i in record.issues]
    for error in ("invalid_code", "degree_grade_required", "unknown_institution"):
        assert codes[codes.index(error) + 1] == "leading_zeros_lost"


def test_hesa_xml_with_f_disable_and_degree_class_stripped(hesa_samples, tmp_path):
    """The C21053 sample (F_DISABLE 00, F_DEGCLSS 01, F_DEGEST 0001) with the zeros gone, read as a file."""
    text = (hesa_samples / "itt_record_C21053.xml").read_text()
    for old, new in (
        ("<F_DISABLE>00<", "<F_DISABLE>0<"),
        ("<F_DEGCLSS>01<", "<F_DEGCLSS>1<"),
        ("<F_DEGEST>0001<", "<F_DEGEST>1<"),
    ):
        assert text.count(old) == 1
        text = text.replace(old, new)
    path = tmp_path / "stripped.xml"
    path.write_text(text)
    with Checker(as_of=AS_OF) as checker:
        [record] = checker.records([str(path)])
    zeros = {i.field: i.message for i in record.issues if i.code == "leading_zeros_lost"}
    assert set(zeros) == {"disability1", "degrees_attributes[0].grade", "degrees_attributes[0].institution"}
    assert "but '00' is, a legacy code translated on reading" in zeros["disability1"]
    assert "but '01' is:" in zeros["degrees_attributes[0].grade"]
    assert "but '0001' is:" in zeros["degrees_attributes[0].institution"]
    # The untouched sample says nothing of the kind.
    with Checker(as_of=AS_OF) as checker:
        [record] = checker.records([str(hesa_samples / "itt_record_C21053.xml")])
    assert "leading_zeros_lost" not in {i.code for i in record.issues}
