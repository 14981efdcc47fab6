"""review151 F1 and F3: a route that is no route code while trainee_start_date has an error, and Windows-1252
punctuation in a file read as ISO-8859-1.

F1: R9 runs only `if: :valid_trainee_start_date?` (register-api.md §3.3 R9), so with a spreadsheet's 01/09/2026 as
the trainee start date a route of `3` (03 without its zero) got no word at all, and leading_zeros_lost, which follows
the route's error, none either; the only route-related errors were R10/R11's, whose advice ("use fund code 2") is
wrong for a trainee on a funded route. Register's answer (the emulator's, `api_only`) is unchanged.

F3: an XML file declaring ISO-8859-1 and holding Windows-1252 bytes (O’Brien with byte 0x92) is read, as XML says, with
the C1 control U+0092; the control_character error now says what that character is and what to do.
"""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from one_hesa_csv import hesa_csv, invalid_issues
from register_batch.cli import cli
from valid_trainee import validated, with_changes

AS_OF = "2026-11-28"
ROUTE_DEPENDENT = {"fund_code_not_valid", "funding_method_not_available"}


def unknown_route(value: str) -> str:
    return (
        f"training_route '{value}' is not a route code: Register checks the route only once trainee_start_date has no "
        "error, and then refuses this value in every cycle"
    )


def zeros(value: str, padded: str) -> str:
    return (
        f"training_route: '{value}' is not a code, but '{padded}' is: a spreadsheet may have dropped its leading zero "
        "(export the column as text, or correct the SRS)"
    )


def found(data: dict, **options) -> list[tuple[str | None, str, str, str]]:
    return [(i.field, i.code, i.severity.value, i.message) for i in validated(data, **options).issues]


# --- F1 ---------------------------------------------------------------------------------------------------------------


def test_a_route_without_its_zero_and_a_spreadsheet_start_date_is_named_and_the_funding_advice_waits():
    data = with_changes(training_route="3", trainee_start_date="01/09/2026", fund_code="7", funding_method="D")
    issues = found(data)
    route = [issue for issue in issues if issue[0] == "training_route"]
    assert route == [
        ("training_route", "unknown_training_route", "error", unknown_route("3")),
        ("training_route", "leading_zeros_lost", "warning", zeros("3", "03")),
    ]
    assert issues.index(route[0]) + 1 == issues.index(route[1])  # the hint right after the error it explains
    assert not {code for _f, code, _s, _m in issues} & ROUTE_DEPENDENT
    # Register's answer is unchanged: no route error yet, and R10/R11 as it gives them (the emulator's).
    api = [(field, code) for field, code, _s, _m in found(data, api_only=True)]
    assert api == [
        ("trainee_start_date", "invalid_date"),
        ("fund_code", "fund_code_not_valid"),
        ("funding_method", "funding_method_not_available"),
    ]


def test_a_value_that_is_no_route_at_all_is_named_and_listed_or_valid_routes_wait_for_the_date():
    issues = found(with_changes(training_route="XX", trainee_start_date="01/09/2026", fund_code="7"))
    assert [issue for issue in issues if issue[0] == "training_route"] == [
        ("training_route", "unknown_training_route", "error", unknown_route("XX"))
    ]
    assert not {code for _f, code, _s, _m in issues} & ROUTE_DEPENDENT
    # A route code, even one a cycle refuses (02 in every one, in R9's own time), says nothing until the date is mended.
    for route in ("03", "02", "12"):
        issues = found(with_changes(training_route=route, trainee_start_date="01/09/2026"))
        assert "unknown_training_route" not in {code for _f, code, _s, _m in issues}


def test_with_a_valid_start_date_the_funding_advice_waits_for_the_route_too():
    """Register's own route error (R9), with the hint after it; "use fund code 2" is not said beside it."""
    issues = found(with_changes(training_route="9", fund_code="7", funding_method="D"))
    codes = [(field, code) for field, code, _s, _m in issues]
    assert codes == [("training_route", "invalid_training_route"), ("training_route", "leading_zeros_lost")]
    api = {code for _f, code, _s, _m in found(with_changes(training_route="9", fund_code="7"), api_only=True)}
    assert "fund_code_not_valid" in api  # Register says it (R10: an InvalidValue is no funded route)


@pytest.mark.parametrize("start", [None, "01/09/2026"], ids=["start date valid", "start date from a spreadsheet"])
@pytest.mark.parametrize("route", ["9", "3", "XX"])
def test_the_degree_a_postgraduate_route_needs_waits_for_a_route_code_too(route, start):
    """R7a (register-api.md §3.3) turns on the route too: Register asks a route that is no code for a degree, as if
    postgraduate ("degrees_attributes must be entered if specifying a postgraduate training_route"), which is wrong for
    `9`, the undergraduate 09 without its zero. validate leaves it out while the route's own error names it, and says
    it once the route is a postgraduate code; Register's answer (the emulator's) keeps it."""
    changes = {"training_route": route, "degrees_attributes": None}
    if start:
        changes["trainee_start_date"] = start
    codes = {code for _f, code, _s, _m in found(with_changes(**changes))}
    assert {"invalid_training_route", "unknown_training_route"} & codes
    assert "degree_required" not in codes
    assert "degree_required" in {code for _f, code, _s, _m in found(with_changes(**changes), api_only=True)}
    mended = {code for _f, code, _s, _m in found(with_changes(**{**changes, "training_route": "03"}))}
    assert "degree_required" in mended


@pytest.mark.parametrize(("route", "padded"), [("3", "03"), ("9", "09"), ("XX", None)])
def test_validate_of_a_hesa_csv_saved_by_a_spreadsheet_names_the_route(tmp_path, route, padded):
    path = hesa_csv(tmp_path, F_ENTRYRTE=route, F_TRAINEESTARTDATE="01/09/2026")
    issues = invalid_issues(path, tmp_path / "r")
    expected = [("training_route", "unknown_training_route", unknown_route(route))]
    if padded:
        expected.append(("training_route", "leading_zeros_lost", zeros(route, padded)))
    assert [issue for issue in issues if issue[0] == "training_route"] == expected
    assert not {code for _f, code, _m in issues} & ROUTE_DEPENDENT
    assert ("trainee_start_date", "invalid_date", "trainee_start_date is invalid") in issues


# --- F3 ---------------------------------------------------------------------------------------------------------------


def read_as_latin1(field: str, code: str, sign: str, read: str) -> str:
    return (
        f"{field} contains {code}, which is {sign} in Windows-1252 ({read!r}): Windows-1252 text read as ISO-8859-1 "
        "(latin-1), and Register would store the control character. If the file is XML whose declaration says "
        "ISO-8859-1 or latin-1, make it say windows-1252; otherwise the text was converted so before register-batch "
        "read it: export it again from the SRS"
    )


def control_character(data: dict) -> list[tuple[str | None, str]]:
    return [(field, message) for field, code, _s, message in found(data) if code == "control_character"]


def test_windows_1252_punctuation_read_as_latin1_is_named_as_such():
    assert control_character(with_changes(last_name="O\x92Brien", first_names="Zo\x96\x80")) == [
        ("first_names", read_as_latin1("first_names", "U+0096", "–", "Zo–€")),
        ("last_name", read_as_latin1("last_name", "U+0092", "’", "O’Brien")),
    ]
    # A byte Windows-1252 leaves undefined (0x81), or another control beside it, is a control character still.
    assert control_character(with_changes(last_name="O\x81Brien")) == [
        ("last_name", "last_name contains a control character (U+0081): Register would store it as it is")
    ]
    assert control_character(with_changes(last_name="O\x92Brien\t")) == [
        ("last_name", "last_name contains a control character (U+0092): Register would store it as it is")
    ]


def test_utf8_punctuation_read_as_latin1_is_named_as_utf8_not_windows_1252():
    """’ in UTF-8 is E2 80 99: a UTF-8 file declared ISO-8859-1 reads it as `â` U+0080 U+0099, and the fix is to make
    the declaration say UTF-8, as garbled_text says; "make it say windows-1252" would leave `Oâ€™Brien` (review152 F1).
    """
    garbled = "O’Brien".encode().decode("latin-1")
    assert control_character(with_changes(last_name=garbled)) == [
        (
            "last_name",
            "last_name contains U+0080, part of UTF-8 text read as ISO-8859-1 (latin-1) ('O’Brien'), and Register "
            "would store the control character. If the file is XML whose declaration says ISO-8859-1 or latin-1, "
            "make it say UTF-8; otherwise the text was converted so before register-batch read it: export it again "
            "from the SRS",
        )
    ]


def test_validate_of_an_xml_file_declared_iso_8859_1_holding_windows_1252_bytes(tmp_path):
    clean = tmp_path / "clean.xml"
    args = ["generate", "--count", "1", "-o", str(clean), "--seed", "7", "--as-of", AS_OF]
    assert CliRunner().invoke(cli, args, catch_exceptions=False).exit_code == 0
    text = clean.read_text(encoding="utf-8")
    declaration = '<?xml version="1.0" encoding="UTF-8"?>'
    assert text.startswith(declaration) and text.count("<F_SURNAME>") == 1
    text = text.replace(declaration, '<?xml version="1.0" encoding="ISO-8859-1"?>')
    start = text.index("<F_SURNAME>") + len("<F_SURNAME>")
    text = text[:start] + "O’Brien" + text[text.index("</F_SURNAME>") :]
    path = tmp_path / "srs.xml"
    path.write_bytes(text.encode("cp1252"))
    assert b"<F_SURNAME>O\x92Brien</F_SURNAME>" in path.read_bytes()
    issues = invalid_issues(path, tmp_path / "r")
    assert issues == [("last_name", "control_character", read_as_latin1("last_name", "U+0092", "’", "O’Brien"))]
