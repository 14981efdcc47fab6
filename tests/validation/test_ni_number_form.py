"""An NI number typed by hand is said when it is not in HMRC's form, never rewritten (review224 F4).

Register checks nothing of ni_number (register-api.md §3.3: 9 characters documented, not enforced) and stores what is
sent: `qq758230c` or `QQ 61 45 32 A` (HMRC's printed spacing) would be kept as typed. A warning names the form, and
the number as HMRC writes it where only spaces, hyphens or case differ; the value sent is the one in the file.
"""

from __future__ import annotations

import pytest

from valid_trainee import validated, with_changes

FORM = "(two letters, six digits and a letter A to D, such as QQ123456C): Register stores it as written"


@pytest.mark.parametrize(
    "value,said",
    [
        ("qq758230c", ", QQ758230C, without spaces and in capitals"),
        ("QQ 61 45 32 A", ", QQ614532A, without spaces and in capitals"),
        ("QQ-12-34-56-C", ", QQ123456C, without spaces and in capitals"),
        ("QQ123456", ""),  # no suffix letter: nothing to suggest
        ("QQ123456E", ""),
    ],
)
def test_an_ni_number_not_in_hmrcs_form_is_a_warning(value, said):
    record = validated(with_changes(ni_number=value))
    found = [(i.field, i.value, i.code, i.severity.value, i.message) for i in record.issues]
    message = f"ni_number '{value}' is not written as HMRC writes a National Insurance number{said} {FORM}"
    assert found == [("ni_number", value, "ni_number_form", "warning", message)]
    assert record.data["ni_number"] == value  # sent as written


@pytest.mark.parametrize("value", ["QQ123456C", "AB123456D", None])
def test_one_in_its_form_or_none_is_not(value):
    assert validated(with_changes(ni_number=value)).issues == []


@pytest.mark.parametrize("value", ["#N/A", '="QQ123456C"'])
def test_a_spreadsheet_error_or_formula_is_left_to_its_own_rule(value):
    codes = [i.code for i in validated(with_changes(ni_number=value)).issues]
    assert "ni_number_form" not in codes and codes
