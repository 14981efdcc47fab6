"""Values a spreadsheet changed get a hint that says what to do, beside Register's own message (review53 F8).

hesa-formats.md §1.4 (a HUSID is 13 or 17 digits, kept as text) and §5 item 30 (dates are YYYY-MM-DD, never
DD/MM/YYYY or Excel serial numbers). Register's message for the error is kept word for word (register-api.md §3.3
R18, §3.4); the hint is an issue of our own (a warning), right after it, as leading_zeros_lost is for codes.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_runs import validate_issues
from register_batch.cli import cli
from register_batch.validation import CATALOGUE
from valid_trainee import VALID, validated, with_changes

FIXTURES = Path(__file__).parents[1] / "fixtures"
SCIENTIFIC = (
    "hesa_id is a number in scientific notation: a spreadsheet turned this HUSID into a number and its last digits "
    "are lost; export the HUSID column as text from the SRS"
)


# The same, for Register's CSV template (review172 F2).
TEMPLATE_SCIENTIFIC = (
    "hesa_id is a number in scientific notation: a spreadsheet turned this HUSID into a number and its last digits "
    "are lost; if an SRS or register-batch wrote the file, export the HUSID column as text from the SRS; if you fill "
    "it in a spreadsheet, format the code columns and hesa_id as Text (or type each value with a leading ') and the "
    "date columns as yyyy-mm-dd (only if each date shows the day written: a spreadsheet that read the dates in the "
    "other day/month order has swapped them, which this format keeps; import such a column as Text instead), correct "
    "the HUSID, then save as 'CSV UTF-8' and validate again"
)


# What a trainee date's hint adds where only one order reads its text: the column's other dates may be swapped, and
# correcting the text alone would hide that (review228 F2); test_possibly_swapped_date says which values get it.
BESIDE = (
    "; if a spreadsheet left it as text, the other YYYY-MM-DD dates in this file's date columns may have day and "
    "month swapped: import the date columns again from the SRS as Text rather than correcting only this value"
)


def issues(data: dict, **kwargs) -> list[tuple[str | None, str | None, str, str, str]]:
    record = validated(data, **kwargs)
    return [(i.field, i.value, i.code, i.severity.value, i.message) for i in record.issues]


@pytest.mark.parametrize(
    "husid",
    [
        "2.50095E+12",
        "2.51001E+16",
        "2,50095E+12",
        "2.5009512E+12",  # 13 characters, which Register's length rule (R18) takes
        "2.50095e12",
        "2.60121013139E+12",  # 17 characters (review171 F3): Excel's 12 significant digits, R18 takes it too
        # .NET's "E" format writes three exponent digits (review173 F1): 13 and 17 characters, which R18 takes
        "2.601210E+012",
        "2.6012101313E+012",
        "2.5E-12",  # a negative exponent: no HUSID either
    ],
)
def test_a_husid_in_scientific_notation_is_an_error_that_says_its_digits_are_lost(husid):
    """review171 F3: a warning let a 13- or 17-character one through to Register, whose only HUSID rule is the length:
    sync created the trainee under a HUSID the tool knew was corrupt, which a corrected file no longer matches."""
    found = [f for f in issues(with_changes(hesa_id=husid)) if f[0] == "hesa_id"]
    # Register's own error, word for word, whenever the length is not 13 or 17 (R18); then register-batch's own
    length = [("hesa_id", husid, "hesa_id_length", "error", "hesa_id must be 13 or 17 characters")]
    assert found == (length if len(husid) not in (13, 17) else []) + [
        ("hesa_id", husid, "hesa_id_scientific_notation", "error", SCIENTIFIC)
    ]
    assert not CATALOGUE["hesa_id_scientific_notation"].api  # register-batch's own error: Register would take it
    assert validated(with_changes(hesa_id=husid)).has_errors


def test_sync_sends_no_trainee_whose_husid_a_spreadsheet_wrote_in_scientific_notation(tmp_path, monkeypatch):
    """review171 F3: the bundled sample's HESA CSV with one HUSID as Excel writes it with 12 significant digits,
    2.60184727622E+12 (17 characters): validate exits 1 naming it, and sync (against the embedded emulator) creates
    every other trainee but not that one, where it created it under the corrupt HUSID before."""
    import csv

    sample = Path(__file__).parents[2] / "samples" / "extract.csv"
    rows = list(csv.reader(sample.open(encoding="utf-8-sig", newline="")))
    column = rows[0].index("F_HUSID")
    rows[1][column] = f"{int(rows[1][column]):.11E}"
    assert len(rows[1][column]) == 17
    damaged = tmp_path / "scientific.csv"
    with damaged.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    checked = runner.invoke(cli, ["validate", str(damaged), "--as-of", "2026-11-28", "--report-dir", "r"])
    assert checked.exit_code == 1, checked.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert [(i["record"], i["code"], i["severity"]) for i in report["issues"] if i["field"] == "hesa_id"] == [
        (1, "hesa_id_scientific_notation", "error")
    ]
    synced = runner.invoke(cli, ["sync", str(damaged), "--as-of", "2026-11-28"])
    assert synced.exit_code == 1, synced.output
    others = len(rows) - 2
    assert f"{others + 1} records: {others} created; 1 invalid." in synced.output


@pytest.mark.parametrize("husid", ["3.10262E+12xx", "O601140088164", "2601-40088164", "E+12"])
def test_other_characters_in_a_husid_are_still_named_where_they_are(husid):
    [message] = [m for _f, _v, code, _s, m in issues(with_changes(hesa_id=husid)) if code == "hesa_id_not_digits"]
    assert message.startswith("hesa_id should be 13 or 17 digits; this value has other characters (first: ")


def digit_groups(value: str, digits: str) -> tuple[str, str, str, str, str]:
    said = f"for {digits}" if len(digits) <= 15 else "its last digits may be lost: take the HUSID from the SRS"
    message = (
        f"hesa_id has a spreadsheet's thousands separators ({value!r} {said}): export the HUSID column as text "
        "from the SRS"
    )
    return ("hesa_id", value, "hesa_id_digit_groups", "error", message)


@pytest.mark.parametrize(
    "husid,digits",
    [
        ("2,601,847,276,218", "2601847276218"),  # Excel's "Use 1000 Separator": 17 characters, which R18 takes
        ("2.601.847.276.218", "2601847276218"),  # a German or Dutch locale
        ("2\u00a0601\u00a0847\u00a0276\u00a0218", "2601847276218"),  # a French one (a no-break space)
        ("2 601 847 276 218", "2601847276218"),
        ("2’601’847’276’218", "2601847276218"),  # a Swiss one
        ("310,261,553,101", "310261553101"),  # its leading zero lost as well: Register's length error beside it
        # 17 digits, of which a spreadsheet keeps 15 (review84 F8): 22 characters, and no HUSID to offer
        ("22,100,027,187,725,400", "22100027187725400"),
    ],
)
def test_a_husid_with_a_spreadsheets_thousands_separators_is_an_error_not_a_typing_slip(husid, digits):
    """review81 F1: 2,601,847,276,218 has 17 characters, which Register's only HUSID rule (R18) takes: it was a
    warning, and sync created the trainee with the separators in its HUSID."""
    found = [f for f in issues(with_changes(hesa_id=husid)) if f[0] == "hesa_id"]
    length = [("hesa_id", husid, "hesa_id_length", "error", "hesa_id must be 13 or 17 characters")]
    assert found == (length if len(husid) not in (13, 17) else []) + [digit_groups(husid, digits)]
    assert not CATALOGUE["hesa_id_digit_groups"].api  # register-batch's own error: Register would take the value


@pytest.mark.parametrize(
    ("husid", "said"),
    [
        ("123,456,789,012,345", "for 123456789012345"),  # 15 digits: all a spreadsheet keeps, so all kept
        ("1,234,567,890,123,456", "its last digits may be lost: take the HUSID from the SRS"),  # 16: the last is not
    ],
)
def test_a_grouped_husid_is_offered_as_its_digits_only_up_to_the_15_a_spreadsheet_keeps(husid, said):
    """A spreadsheet keeps 15 significant digits of a number (review84 F8): the message offers the digits of a
    grouped HUSID of 15, and of 16 says its last digits may be lost (review132 F5)."""
    [message] = [m for _f, _v, code, _s, m in issues(with_changes(hesa_id=husid)) if code == "hesa_id_digit_groups"]
    assert message == (
        f"hesa_id has a spreadsheet's thousands separators ({husid!r} {said}): export the HUSID column as text from "
        "the SRS"
    )


@pytest.mark.parametrize(
    "husid",
    [
        "2,601.847,276,218",  # separators of two kinds: no number format writes that
        "26018,472,762,18",  # groups that are not of three
        "2-601-847-276-218",  # a hyphen is no thousands separator
        "2,601,847",  # too few digits for a HUSID: a typing slip
    ],
)
def test_other_separated_husids_stay_a_typing_slips_warning(husid):
    codes = [f[2] for f in issues(with_changes(hesa_id=husid)) if f[0] == "hesa_id"]
    assert "hesa_id_digit_groups" not in codes and "hesa_id_not_digits" in codes


def test_sync_sends_none_of_an_extract_whose_husids_a_spreadsheet_grouped(tmp_path, monkeypatch):
    """The bundled sample's HESA CSV with every HUSID saved with thousands separators: validate exits 1 naming each,
    and sync (against the embedded emulator) sends nothing, where it created 11 trainees before."""
    import csv

    sample = Path(__file__).parents[2] / "samples" / "extract.csv"
    rows = list(csv.reader(sample.open(encoding="utf-8-sig", newline="")))
    column = rows[0].index("F_HUSID")
    for row in rows[1:]:
        row[column] = f"{int(row[column]):,}"
    grouped = tmp_path / "grouped.csv"
    with grouped.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    checked = runner.invoke(cli, ["validate", str(grouped), "--as-of", "2026-11-28", "--report-dir", "r"])
    assert checked.exit_code == 1, checked.output
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    grouped_ids = {i["record"] for i in report["issues"] if i["code"] == "hesa_id_digit_groups"}
    assert grouped_ids == set(range(1, len(rows)))
    synced = runner.invoke(cli, ["sync", str(grouped), "--as-of", "2026-11-28"])
    assert synced.exit_code == 1, synced.output
    # the one warning: the whole file's, that it looks saved again by a spreadsheet (review151 F9)
    assert f"{len(rows) - 1} records: {len(rows) - 1} invalid, 1 warning. 0 requests" in synced.output
    assert "grouped.csv: the file looks opened in a spreadsheet and saved again: " in synced.output


SERIAL = "looks like a spreadsheet's date serial number ({}): write the date as YYYY-MM-DD"
DAY_MONTH_YEAR = "looks like a spreadsheet's day/month/year date: write the date as YYYY-MM-DD{}"


@pytest.mark.parametrize(
    "field,value,hint",
    [
        ("date_of_birth", "03/04/1992", DAY_MONTH_YEAR.format(" (1992-04-03, or 1992-03-04 if the month comes first)")),
        ("date_of_birth", "13/08/1990", DAY_MONTH_YEAR.format(" (1990-08-13)")),
        # US order: only one day it can be, and named so (review156 F4)
        (
            "date_of_birth",
            "08/13/1990",
            "looks like a spreadsheet's month/day/year date: write the date as YYYY-MM-DD (1990-08-13)",
        ),
        ("date_of_birth", "3.4.1992", DAY_MONTH_YEAR.format(" (1992-04-03, or 1992-03-04 if the month comes first)")),
        ("date_of_birth", "03/04/92", DAY_MONTH_YEAR.format("")),  # which century is not for us to guess
        ("date_of_birth", "31/02/1992", DAY_MONTH_YEAR.format("")),  # no such day either way
    ],
)
def test_a_date_a_spreadsheet_wrote_gets_a_hint_after_registers_error(field, value, hint):
    found = issues(with_changes(**{field: value}))
    at = found.index((field, value, "invalid_date", "error", f"{field} is invalid"))
    said = f"{field}: '{value}' {hint}"
    assert found[at + 1][:4] == (field, value, "spreadsheet_date", "warning")
    assert found[at + 1][4] in (said, said + BESIDE)
    assert [f[2] for f in found].count("spreadsheet_date") == 1


@pytest.mark.parametrize(
    "field,value,hint,registers",
    [
        ("date_of_birth", "36086", SERIAL.format("1998-10-18 in Excel"), "date_of_birth_in_future"),
        ("itt_end_date", "46234", SERIAL.format("2026-07-31 in Excel"), "itt_end_date_too_far"),
    ],
)
def test_a_serial_number_register_reads_as_another_day_gets_our_rule_the_hint_and_registers_answer(
    field, value, hint, registers
):
    """Ruby's Date.iso8601 reads five digits as a year and a day of it (36086: 2036-03-26): Register answers for that
    day, and validate refuses the form (date_not_yyyy_mm_dd) with the spreadsheet hint after it (review57 F2)."""
    found = issues(with_changes(**{field: value}))
    assert [f[2] for f in found] == ["date_not_yyyy_mm_dd", "spreadsheet_date", registers]
    assert found[1] == (field, value, "spreadsheet_date", "warning", f"{field}: '{value}' {hint}")


@pytest.mark.parametrize("value", ["19900813", "1990-W33-1"])
def test_a_date_register_reads_in_another_iso_8601_form_gets_our_rule_alone(value):
    found = issues(with_changes(date_of_birth=value))
    assert [f[2] for f in found] == ["date_not_yyyy_mm_dd"]


@pytest.mark.parametrize("value", ["1990-02-30", "99999", "1234", "13 August 1990", "3/4"])
def test_a_date_no_spreadsheet_wrote_gets_registers_error_alone(value):
    found = issues(with_changes(date_of_birth=value))
    assert [f[2] for f in found] == ["invalid_date"]


def test_the_hint_follows_the_other_date_checks_too():
    found = issues(with_changes(pg_apprenticeship_start_date="45901"))
    assert [f[2:4] for f in found] == [("unchecked_date_invalid", "error"), ("spreadsheet_date", "warning")]
    assert found[1][4].endswith("(2025-09-01 in Excel): write the date as YYYY-MM-DD")
    withdrawal = {"withdrawal_date": "15/01/2026", "reasons": ["record_added_in_error"], "trigger": "provider"}
    found = issues(copy.deepcopy(VALID), withdrawal={**withdrawal, "future_interest": "no"})
    assert [f[2] for f in found] == ["withdrawal_date_invalid", "spreadsheet_date"]
    assert found[1][4] == (
        "withdrawal_date: '15/01/2026' looks like a spreadsheet's day/month/year date: write the date as YYYY-MM-DD "
        "(2026-01-15)"
    )


def test_registers_own_checks_give_no_hint():
    """The emulator runs only Register's rules (api_only): it answers as Register would, without our hint."""
    found = issues(with_changes(date_of_birth="36086", hesa_id="2.50095E+12"), api_only=True)
    assert [f[2] for f in found] == ["hesa_id_length", "date_of_birth_in_future"]
    assert not CATALOGUE["spreadsheet_date"].api


def test_validate_reports_the_hints_for_an_excel_damaged_csv(tmp_path):
    """Through `register-batch validate`: Register's errors and each hint right after its error, in report.json."""
    lines = (FIXTURES / "register_csv" / "five_trainees.csv").read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("24/25-1,,'7572897115906,Spencer,Murphy,Heidenreich,'1967-12-06,")
    lines[1] = lines[1].replace("'7572897115906", "7.5729E+12").replace("'1967-12-06", "24812")
    lines[2] = lines[2].replace("'1981-02-10", "10/02/1981")
    damaged = tmp_path / "excel.csv"
    damaged.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    code, issues, output = validate_issues(damaged, tmp_path / "r")
    assert code == 1, output
    found = [(i["record"], i["field"], i["code"], i["severity"], i["message"]) for i in issues]
    assert found == [
        (1, "hesa_id", "hesa_id_length", "error", "hesa_id must be 13 or 17 characters"),
        (1, "hesa_id", "hesa_id_scientific_notation", "error", TEMPLATE_SCIENTIFIC),  # a Register CSV (review172 F2)
        (1, "date_of_birth", "invalid_date", "error", "date_of_birth is invalid"),
        (
            1,
            "date_of_birth",
            "spreadsheet_date",
            "warning",
            "date_of_birth: '24812' looks like a spreadsheet's date serial number (1967-12-06 in Excel): write the "
            "date as YYYY-MM-DD",
        ),
        (2, "date_of_birth", "invalid_date", "error", "date_of_birth is invalid"),
        (
            2,
            "date_of_birth",
            "spreadsheet_date",
            "warning",
            "date_of_birth: '10/02/1981' looks like a spreadsheet's day/month/year date: write the date as "
            "YYYY-MM-DD (1981-02-10, or 1981-10-02 if the month comes first)",
        ),
    ]


# review172 F2: in Register's CSV template, which someone with no SRS fills in a spreadsheet, the hints that said to
# export a value again from the SRS say both ways (wording.where_to_correct): written again by the SRS or register-batch
# that wrote the file, or corrected in the spreadsheet, the HUSID column formatted as Text.
IN_THE_TEMPLATE = (
    "if an SRS or register-batch wrote the file, {srs}; if you fill it in a spreadsheet, format the code columns and "
    "hesa_id as Text (or type each value with a leading ') and the date columns as yyyy-mm-dd (only if each date shows "
    "the day written: a spreadsheet that read the dates in the other day/month order has swapped them, which this "
    "format keeps; import such a column as Text instead), correct {values}, then save as 'CSV UTF-8' and validate "
    "again"
)


def test_a_husid_in_scientific_notation_in_registers_template_is_told_the_spreadsheets_way_too():
    found = issues(with_changes(hesa_id="2.60117E+12"), fmt="register-csv")
    [message] = [m for _f, _v, code, _s, m in found if code == "hesa_id_scientific_notation"]
    said = "hesa_id is a number in scientific notation: a spreadsheet turned this HUSID into a number and its last "
    said += "digits are lost; "
    srs = "export the HUSID column as text from the SRS"
    assert message == TEMPLATE_SCIENTIFIC == said + IN_THE_TEMPLATE.format(srs=srs, values="the HUSID")
    # an extract's (HESA XML, a HESA-named CSV) keeps the SRS's way
    for fmt in ("hesa-xml", "hesa-csv"):
        found = issues(with_changes(hesa_id="2.60117E+12"), fmt=fmt)
        assert ("hesa_id", "2.60117E+12", "hesa_id_scientific_notation", "error", SCIENTIFIC) in found


@pytest.mark.parametrize(
    ("husid", "said"),
    [("2,601,847,276,218", "for 2601847276218"), ("22,100,027,187,725,400", "its last digits may be lost")],
)
def test_a_grouped_husid_in_registers_template_is_told_the_spreadsheets_way_too(husid, said):
    found = issues(with_changes(hesa_id=husid), fmt="register-csv")
    [message] = [m for _f, _v, code, _s, m in found if code == "hesa_id_digit_groups"]
    assert message == (
        f"hesa_id has a spreadsheet's thousands separators ({husid!r} {said}): "
        + IN_THE_TEMPLATE.format(srs="export the HUSID column as text from the SRS", values="the HUSID")
    )


def test_windows_1252_text_read_as_latin_1_in_registers_template_is_told_the_spreadsheets_way_too():
    found = issues(with_changes(last_name="O\x92Brien"), fmt="register-csv")
    [message] = [m for _f, _v, code, _s, m in found if code == "control_character"]
    assert message.endswith(
        "otherwise the text was converted so before register-batch read it: "
        + IN_THE_TEMPLATE.format(srs="export it again from the SRS", values="the value")
    )
