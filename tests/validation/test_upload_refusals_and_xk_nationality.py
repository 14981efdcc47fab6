"""What Register's own CSV upload does otherwise than register-batch, and nationality XK in a HESA extract.

Register's bulk-add upload runs each row through the API's mapper with no legacy translation (hesa-formats.md §3.3
"Same path as the API"), refuses a code not in its lists (§2.1), and one such row blocks the whole file (§3.4). Its
import parses the file again without `strip`, so a header name with spaces around resolves to no column (§3.3).
Nationality XK is Kosovan in Register's list, but HESA has no such nationality: XK is HESA's country code for the
UK (§2.3.4 pitfall, §5 item 21).
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

from register_batch.jobs import convert_files, validate_files
from register_batch.mapping import load_mapping
from register_batch.readers import open_inputs
from register_batch.validation import Checker

AS_OF = date(2026, 11, 28)
SAMPLES = Path(__file__).resolve().parents[2] / "samples"
LEGACY = {  # column: (legacy code, the current one register-batch translates it to)
    "sex": ("1", "11"),
    "ethnicity": ("10", "160"),
    "course_age_range": ("80", "13918"),
    "uk_degree": ("004", "003"),
}
UPLOAD_REFUSES = "Register's CSV upload does not translate codes"


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def _write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def _issues(report_dir: Path) -> list[dict]:
    return json.loads((report_dir / "report.json").read_text())["issues"]


def _register_csv_of_the_sample(tmp_path: Path) -> Path:
    """`convert samples/extract.xml --to register-csv`: the file a user would upload to Register's service."""
    out = tmp_path / "x.csv"
    convert_files([SAMPLES / "extract.xml"], to="register-csv", output=out, as_of=AS_OF)
    return out


def _with_legacy_codes(path: Path, out: Path) -> Path:
    """The file's header and first row, the row with the legacy codes of LEGACY in place of its current ones."""
    header, first, *_rest = _rows(path)
    for column, (legacy, _current) in LEGACY.items():
        first[header.index(column)] = legacy
    return _write(out, [header, first])


def test_a_register_csvs_legacy_disability_code_is_said_to_be_dropped_by_registers_upload(tmp_path):
    """review83 F2: Register's upload does not check disability codes, it drops one it does not know without a word
    (register-api.md §3.1, §5.3): '00' (C21053's no known disability) is not a refusal of the file, as the warning
    said, but a disability lost. The note says so."""
    header, first, *_rest = _rows(_register_csv_of_the_sample(tmp_path))
    first[header.index("disability1")] = "'00"
    legacy = _write(tmp_path / "disability.csv", [header, first])
    validate_files([legacy], as_of=AS_OF, report_dir=tmp_path / "r", jobs=1)
    [issue] = [i for i in _issues(tmp_path / "r") if i["code"] == "legacy_code_translated"]
    assert (issue["field"], issue["value"], issue["severity"]) == ("disability1", "00", "warning")
    assert issue["message"].endswith(
        "Register's CSV upload does not translate codes: it takes the row and drops '00' without a word: Register "
        "would record the disability as not provided (or only the row's other codes) instead of '95'. To upload the "
        "file, write '95' in it (as `register-batch convert --to register-csv` does); `sync` sends '95'"
    )
    assert "fails the row" not in issue["message"]


def test_a_register_csvs_legacy_code_is_valid_to_sync_but_said_to_fail_registers_upload(tmp_path):
    legacy = _with_legacy_codes(_register_csv_of_the_sample(tmp_path), tmp_path / "legacy.csv")
    validated = validate_files([legacy], as_of=AS_OF, report_dir=tmp_path / "r", jobs=1)
    # Still a warning each: sync sends the translated codes, which the API takes.
    assert validated.report.summary.as_dict() == {"records": 1, "valid": 1, "invalid": 0, "errors": 0, "warnings": 4}
    translated = [i for i in _issues(tmp_path / "r") if i["code"] == "legacy_code_translated"]
    assert [(i["value"], i["severity"]) for i in translated] == [(old, "warning") for old, _new in LEGACY.values()]
    for issue, (old, new) in zip(translated, LEGACY.values(), strict=True):
        assert UPLOAD_REFUSES in issue["message"], issue["message"]
        assert f"it takes '{old}' as written" in issue["message"]
        assert f"write '{new}' in it" in issue["message"] and f"`sync` sends '{new}'" in issue["message"]
    # What the note says to upload instead: convert's register-csv holds the current codes, and validates clean.
    again = convert_files([legacy], to="register-csv", output=tmp_path / "again.csv", as_of=AS_OF)
    header, row = _rows(again.outputs[0])
    assert {column: row[header.index(column)] for column in LEGACY} == {
        column: f"'{new}" for column, (_old, new) in LEGACY.items()
    }
    clean = validate_files(again.outputs, as_of=AS_OF, report_dir=tmp_path / "r2", jobs=1)
    assert clean.report.summary.warnings == 0
    # A HESA extract is never uploaded to Register's CSV page: its translations are the API's concern only.
    header, first, *rest = _rows(SAMPLES / "extract.csv")
    first[header.index("F_SEXID")] = "1"
    extract = _write(tmp_path / "extract.csv", [header, first, *rest])
    validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "r3", jobs=1)
    [issue] = [i for i in _issues(tmp_path / "r3") if i["code"] == "legacy_code_translated"]
    assert (
        issue["message"]
        == "sex: legacy code '1' translated to '11' (male); C21053 sex codes (mappings/codes/legacy.yaml)"
    )


def _read(path: Path):
    [(info, records)] = list(open_inputs([str(path)], "auto", load_mapping()))
    return info, list(records)


def test_a_register_csv_header_name_with_spaces_around_is_an_upload_note(tmp_path, register_csv_fixtures):
    header, *rows = (register_csv_fixtures / "five_trainees.csv").read_text().splitlines()
    assert ",hesa_id," in header
    spaced = tmp_path / "spaced.csv"
    spaced.write_text("\n".join([header.replace(",hesa_id,", ", hesa_id ,"), *rows]) + "\n")
    info, records = _read(spaced)
    assert records[0].fields["hesa_id"] == "7572897115906"  # register-batch reads the column all the same
    [note] = info.issues
    assert (note.code, note.severity.value, note.line) == ("untrimmed_header", "warning", 1)
    assert note.message == (
        "the header has 1 column name with spaces around (' hesa_id '): register-batch trims them, but Register's "
        "CSV import does not, so it would read no value from that column (every row lacking hesa_id)"
    )
    # `validate` is the check before an upload; `convert` and `sync` do not upload the file.
    validate_files([spaced], as_of=date(2024, 11, 1), report_dir=tmp_path / "v", jobs=1)
    assert [i["code"] for i in _issues(tmp_path / "v") if i["record"] is None] == ["untrimmed_header"]
    converted = convert_files([spaced], to="jsonl", output=tmp_path / "out.jsonl", as_of=date(2024, 11, 1))
    assert converted.report.by_code["untrimmed_header"] == 0 and converted.written == 5


def test_spaces_around_names_count_only_for_template_columns_register_would_read(tmp_path):
    """Register's error report's own columns are ignored by its upload however written, and a column that is not the
    template's is extra_columns' to report."""
    header, *rows = _rows(SAMPLES / "register.csv")
    header = [f" {name}\t" if name in ("email", "sex") else name for name in header]
    header += [" Validation results ", " middle_names "]
    path = _write(tmp_path / "two.csv", [header, *[[*row, "", ""] for row in rows]])
    info, _records = _read(path)
    assert sorted(i.code for i in info.issues) == ["extra_columns", "untrimmed_header"]
    [note] = [i for i in info.issues if i.code == "untrimmed_header"]
    assert note.message.startswith("the header has 2 column names with spaces around (' sex\\t', ' email\\t'): ")
    assert note.message.endswith("read no value from those columns (every row lacking sex, email)")
    assert _read(SAMPLES / "register.csv")[0].issues == []


def _nationality_findings(path: Path, fmt: str = "auto") -> list[tuple[int | None, str | None, str, str]]:
    checker = Checker(fmt=fmt, as_of=AS_OF)
    return [
        (issue.record, issue.value, issue.code, issue.severity.value)
        for record in checker.records([str(path)])
        for issue in record.issues
        if issue.field == "nationality"
    ]


def test_nationality_xk_in_a_hesa_xml_extract_is_a_warning_and_qo_is_not(tmp_path):
    text = (SAMPLES / "extract.xml").read_text(encoding="utf-8")
    assert text.count("<F_NATION>GB</F_NATION>") >= 2
    changed = text.replace("<F_NATION>GB</F_NATION>", "<F_NATION>XK</F_NATION>", 1)
    changed = changed.replace("<F_NATION>GB</F_NATION>", "<F_NATION>QO</F_NATION>", 1)
    extract = tmp_path / "extract.xml"
    extract.write_text(changed, encoding="utf-8")
    findings = _nationality_findings(extract)
    [xk] = [f for f in findings if f[2] == "nationality_uk_country_code"]
    assert xk[1:] == ("XK", "nationality_uk_country_code", "warning")
    # Kosovo as HESA writes it is translated to Register's XK, and that is no mistake.
    assert [f[1:] for f in findings if f[0] != xk[0]] == [("QO", "legacy_code_translated", "warning")]
    validated = validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "r", jobs=1)
    assert validated.report.summary.errors == 0  # Register accepts XK: a warning only
    [issue] = [i for i in _issues(tmp_path / "r") if i["code"] == "nationality_uk_country_code"]
    assert "XK is HESA's country code for the United Kingdom" in issue["message"]
    assert "Register would record the trainee as Kosovan" in issue["message"]


def test_nationality_xk_is_a_warning_in_a_hesa_csv_only_where_it_is_sent_as_xk(tmp_path):
    header, first, *rest = _rows(SAMPLES / "extract.csv")
    first[header.index("F_NATION")] = "XK"
    extract = _write(tmp_path / "extract.csv", [header, first, *rest])
    assert _nationality_findings(extract) == [(1, "XK", "nationality_uk_country_code", "warning")]
    # A user's mapping that translates the SRS's XK sends something else: nothing Kosovan to warn of.
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  nationality:\n    source: our SRS\n    translate:\n      XK: GB\n")
    checker = Checker(as_of=AS_OF, mapping=load_mapping([user]))
    record = next(iter(checker.records([str(extract)])))
    assert record.data["nationality"] == "GB"
    assert [(i.code, i.value) for i in record.issues if i.field == "nationality"] == [("legacy_code_translated", "XK")]
    # In Register's own CSV, XK is Register's code for Kosovan: no warning.
    header, first, *rest = _rows(SAMPLES / "register.csv")
    first[header.index("nationality")] = "XK"
    upload = _write(tmp_path / "register.csv", [header, first, *rest])
    assert _nationality_findings(upload) == []


def test_a_users_translation_to_nationality_xk_is_warned_of_as_xk_in_the_extract_is(tmp_path):
    """review126 F2: only the extract's own XK was warned of; a mapping file translating the SRS's code for British
    to XK (the country list's UK) sent the trainee as Kosovan with a plain `legacy_code_translated` note."""
    header, first, *rest = _rows(SAMPLES / "extract.csv")
    first[header.index("F_NATION")] = "UK"
    extract = _write(tmp_path / "extract.csv", [header, first, *rest])
    user = tmp_path / "ours.yaml"
    user.write_text("codes:\n  nationality:\n    source: our SRS\n    translate:\n      UK: XK\n")
    checker = Checker(as_of=AS_OF, mapping=load_mapping([user]))
    record = next(iter(checker.records([str(extract)])))
    assert record.data["nationality"] == "XK"
    [warning] = [i for i in record.issues if i.code == "nationality_uk_country_code"]
    assert (warning.value, warning.severity.value) == ("UK", "warning")
    assert warning.message.startswith("nationality 'UK' is translated to 'XK' by a mapping file: XK is Kosovan")
    assert warning.message.endswith("If 'UK' is your SRS's code for British, translate it to GB")
    # review131 F3: the same mapping file on Register's own CSV makes the same mistake (there only a written XK is
    # Register's code for Kosovan).
    header, first, *rest = _rows(SAMPLES / "register.csv")
    first[header.index("nationality")] = "UK"
    upload = _write(tmp_path / "register.csv", [header, first, *rest])
    record = next(iter(checker.records([str(upload)])))
    assert record.data["nationality"] == "XK"
    assert [(i.code, i.value) for i in record.issues if i.code == "nationality_uk_country_code"] == [
        ("nationality_uk_country_code", "UK")
    ]
