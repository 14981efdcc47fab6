"""The command line, through click's CliRunner: exit codes, one-line errors, report files, help text."""

from __future__ import annotations

import csv
import json
import os
import stat
from datetime import UTC, datetime
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.validation.facts import cycle_label, cycle_of

AS_OF = "2026-11-28"


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_validate_clean_register_csv_exits_0(tmp_path, register_csv_fixtures):
    result = run(
        "validate",
        str(register_csv_fixtures / "five_trainees.csv"),
        "--as-of",
        AS_OF,
        "--report-dir",
        str(tmp_path / "r"),
    )
    assert result.exit_code == 0, result.output
    assert "5 records: 5 valid, 0 with errors" in result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert list(report) == [
        *("tool", "api_version", "as_of", "inputs", "summary", "mappings", "reference", "run", "issues")
    ]
    assert report["summary"] == {"records": 5, "valid": 5, "invalid": 0, "errors": 0, "warnings": 0}
    assert report["inputs"][0]["format"] == "register-csv" and report["inputs"][0]["records"] == 5
    for name in ("report.json", "issues.csv", "report.html"):
        assert stat.S_IMODE((tmp_path / "r" / name).stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o700


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_a_gzipped_extract_gets_the_plain_ones_report(tmp_path, jobs):
    """A nightly job that gzips its extract: same issues, records and lines, in one process or two."""
    import gzip

    plain = tmp_path / "extract.xml"
    made = run(
        "generate",
        "--count",
        "300",
        "--format",
        "hesa-xml",
        "-o",
        str(plain),
        "--seed",
        "8",
        "--as-of",
        AS_OF,
        "--defects",
        "0.1",
        "--truth",
        str(tmp_path / "truth.json"),
    )
    assert made.exit_code == 0, made.output
    packed = tmp_path / "extract.xml.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    reports = {}
    for path in (plain, packed):
        result = run(
            "validate", str(path), "--as-of", AS_OF, "--jobs", jobs, "--report-dir", str(tmp_path / f"r-{path.name}")
        )
        assert result.exit_code == 1, result.output
        reports[path.name] = json.loads((tmp_path / f"r-{path.name}" / "report.json").read_text())
    [given, gzipped] = reports.values()
    assert gzipped["summary"] == given["summary"] and gzipped["summary"]["invalid"] > 10
    assert [{**issue, "input": None} for issue in gzipped["issues"]] == [
        {**issue, "input": None} for issue in given["issues"]
    ]
    assert gzipped["inputs"][0]["sha256"] == given["inputs"][0]["sha256"]


def test_validate_with_errors_exits_1_and_reports_each_issue(tmp_path, hesa_samples):
    result = run(
        "validate",
        str(hesa_samples / "itt_record_C23053.xml"),
        "--as-of",
        AS_OF,
        "--report-dir",
        str(tmp_path),
        "--junit",
    )
    assert result.exit_code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    keys = {
        "input",
        "record",
        "line",
        "row",  # a CSV record's spreadsheet row where it differs from its line (review168 F2): null for XML
        "provider_trainee_id",
        "hesa_id",
        "field",
        "value",
        "code",
        "severity",
        "message",
        "source",  # the HESA tag or CSV column the field was read from (review54 F3), after design.md's keys
    }
    assert report["issues"] and all(set(i) == keys for i in report["issues"])
    route = next(i for i in report["issues"] if i["field"] == "training_route")
    assert (route["record"], route["line"], route["value"], route["severity"]) == (1, 3, "02", "error")
    assert route["source"] == "F_ENTRYRTE"
    with open(tmp_path / "issues.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(report["issues"])
    assert (tmp_path / "junit.xml").read_text().count("<failure") == 1


def test_a_utf8_extract_declared_windows_1252_gets_its_garbled_names_reported(tmp_path, hesa_samples):
    """lxml reads the file as its declaration says: each UTF-8 letter becomes two or three Windows-1252 ones, and
    would be sent so."""
    text = (hesa_samples / "itt_record_C23053.xml").read_text(encoding="utf-8")
    text = text.replace('encoding="UTF-8"', 'encoding="windows-1252"').replace(">Dave<", ">José<")
    extract = tmp_path / "declared_windows_1252.xml"
    extract.write_text(text, encoding="utf-8")
    result = run("validate", str(extract), "--as-of", AS_OF, "--report-dir", str(tmp_path / "report"))
    assert result.exit_code == 1
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    garbled = [
        (i["record"], i["line"], i["field"], i["value"]) for i in report["issues"] if i["code"] == "garbled_text"
    ]
    assert garbled == [(1, 3, "first_names", "JosÃ©")]


@pytest.mark.parametrize("written", ["19780813", "1978-W32-7"])
def test_validate_refuses_a_hesa_date_in_another_iso_8601_form(tmp_path, hesa_samples, written):
    """hesa-formats.md §1.4: every date tag is YYYY-MM-DD. Register reads the basic and week forms of 1978-08-13 as
    that day but returns another form, so validate refuses them under its own rule (review57 F2)."""
    original = (hesa_samples / "itt_record_C23053.xml").read_text(encoding="utf-8")
    assert "<F_BIRTHDTE>1978-08-13</F_BIRTHDTE>" in original
    extract = tmp_path / "extract.xml"
    extract.write_text(original.replace("1978-08-13", written), encoding="utf-8")
    result = run("validate", str(extract), "--as-of", AS_OF, "--report-dir", str(tmp_path / "r"))
    assert result.exit_code == 1
    issues = json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
    born = [(i["field"], i["value"], i["code"], i["message"]) for i in issues if i["field"] == "date_of_birth"]
    assert born == [
        (
            "date_of_birth",
            written,
            "date_not_yyyy_mm_dd",
            f"date_of_birth: write the date as YYYY-MM-DD (1978-08-13): Register reads '{written}' as that day but "
            "returns it as YYYY-MM-DD, so the value sent would show as changed on every sync",
        )
    ]


@pytest.mark.parametrize(
    "content,problem",
    [
        (None, "no such file"),
        (b"<ITTRecord><Student><F_HUSID>1</F_HU", "not well-formed XML"),
        (b"", "the file is empty"),
    ],
)
def test_unusable_input_exits_2_with_one_line(tmp_path, content, problem):
    path = tmp_path / "in.xml"
    if content is not None:
        path.write_bytes(content)
    result = CliRunner().invoke(cli, ["validate", str(path), "--report-dir", str(tmp_path / "r")])
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("register-batch: error: ") and problem in lines[0]
    assert "Traceback" not in result.output
    assert not (tmp_path / "r" / "report.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["validate", "{sample}", "--report-dir", "{file}/reports"],
        ["convert", "{sample}", "--to", "jsonl", "-o", "{file}/out.jsonl"],
        ["convert", "{sample}", "--to", "jsonl", "-o", "{tmp}/out.jsonl", "--report-dir", "{file}/reports"],
        ["sync", "{sample}", "--state-dir", "{tmp}/state", "--report-dir", "{file}/reports"],
    ],
    ids=["validate", "convert output", "convert reports", "sync"],
)
def test_a_report_or_output_that_cannot_be_written_exits_2_before_any_work(tmp_path, hesa_samples, args):
    (tmp_path / "file").write_text("not a folder")
    values = {
        "sample": str(hesa_samples / "itt_record_C23053.xml"),
        "file": str(tmp_path / "file"),
        "tmp": str(tmp_path),
    }
    result = CliRunner().invoke(cli, ["-q", *(a.format(**values) for a in args), "--as-of", AS_OF])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert lines[-1].startswith(f"register-batch: error: cannot write {tmp_path / 'file'}")
    assert lines[-1].endswith(f": {tmp_path / 'file'} is a file, not a folder")
    assert "Traceback" not in result.output
    assert not (tmp_path / "state" / "ledger.sqlite3").exists()  # sync: stopped before it had a ledger


@pytest.mark.parametrize(
    "args,option",
    [
        (["validate", "{sample}", "--report-dir", ""], "--report-dir"),
        (["convert", "{sample}", "--to", "jsonl", "-o", "{tmp}/out.jsonl", "--report-dir", " "], "--report-dir"),
        (["sync", "{sample}", "--state-dir", ""], "--state-dir"),
        (["sync", "{sample}", "--state-dir", "{tmp}/state", "--report-dir", ""], "--report-dir"),
        (["export", "--to", "json", "-o", "{tmp}/held.json", "--state-dir", ""], "--state-dir"),
        (["reference", "pull", "--state-dir", ""], "--state-dir"),
        (["reference", "diff", "--state-dir", ""], "--state-dir"),
    ],
    ids=["validate", "convert", "sync state", "sync reports", "export", "reference pull", "reference diff"],
)
def test_an_empty_folder_option_is_refused_not_taken_as_the_current_folder(tmp_path, monkeypatch, args, option):
    """`--state-dir "$STATE_DIR"` in a job script whose variable is unset: the ledger and lock went into the folder
    the job started in (a new ledger, beside the real one), and `--report-dir ""` wrote the reports there."""
    monkeypatch.chdir(tmp_path)
    sample = Path(__file__).parent.parent / "samples" / "extract.xml"
    result = CliRunner().invoke(cli, ["-q", *(a.format(sample=sample, tmp=tmp_path) for a in args)])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': it is empty: name a folder" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no ledger, lock, report or output


@pytest.mark.parametrize(
    "args,said",
    [
        (["--config", "", "validate", "{sample}"], "'--config': it is empty: name a file, or leave the option out"),
        (["validate", "{sample}", "--mapping", " "], "'--mapping': it is empty: name a file, or leave the option out"),
        (["sync", "{sample}", "--token-file", ""], "'--token-file': it is empty: name a file, or leave the option out"),
        (["export", "--to", "json", "-o", ""], "'-o' / '--output': it is empty: name a file"),
        (["convert", "{sample}", "--to", "jsonl", "-o", " "], "'-o' / '--output': it is empty: name a file"),
        (["generate", "-o", "{tmp}/g.xml", "--truth", ""], "'--truth': it is empty: name a file, or leave the option"),
    ],
    ids=["config", "mapping", "token file", "export output", "convert output", "generate truth"],
)
def test_an_empty_file_option_is_refused_as_empty_not_named_as_the_current_folder(tmp_path, monkeypatch, args, said):
    """`--config "$CONFIG"` with the variable unset was refused as `.: cannot read the config file (Is a directory)`,
    sending the reader to look at the current folder; an empty --token-file won over a REGISTER_API_TOKEN that was
    set, and an empty export -o started the embedded emulator first (review111 F8)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("REGISTER_API_TOKEN", "sandbox_" + "1a" * 32)
    sample = Path(__file__).parent.parent / "samples" / "extract.xml"
    result = CliRunner().invoke(cli, ["-q", *(a.format(sample=sample, tmp=tmp_path) for a in args)])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for {said}" in result.output
    assert "'.'" not in result.output and ".:" not in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no state dir, emulator data, report or output


@pytest.mark.parametrize(
    "args,option",
    [
        (["validate", "{sample}", "--report-dir", "reports\r"], "--report-dir"),
        (["sync", "{sample}", "--state-dir", "state\r"], "--state-dir"),
        (["sync", "{sample}", "--state-dir", "{tmp}/state", "--report-dir", "rep\torts"], "--report-dir"),
        (["convert", "{sample}", "--to", "jsonl", "-o", "out.jsonl\r"], "-o' / '--output"),
        (["export", "--to", "json", "-o", "{tmp}/held.json", "--state-dir", "state\r"], "--state-dir"),
    ],
    ids=["validate", "sync state", "sync reports", "convert output", "export"],
)
def test_a_folder_or_output_with_a_control_character_is_refused_not_made(tmp_path, monkeypatch, args, option):
    """A job script saved with Windows line ends gives its last argument a carriage return: the ledger went into a
    new folder `state\r` (beside the real one, which the next run from a fixed script used again) and an output was
    written to a file nobody could name."""
    monkeypatch.chdir(tmp_path)
    sample = Path(__file__).parent.parent / "samples" / "extract.xml"
    result = CliRunner().invoke(cli, ["-q", *(a.format(sample=sample, tmp=tmp_path) for a in args)])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '{option}': it holds a control character (" in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []  # no ledger, lock, report or output


@pytest.mark.parametrize("variable", ["REGISTER_BATCH_STATE_DIR", "REGISTER_BATCH_REPORT_DIR"])
def test_a_folder_setting_with_a_control_character_is_refused_naming_where_it_was_set(tmp_path, monkeypatch, variable):
    """An env file saved with Windows line ends (`EnvironmentFile=`, `docker --env-file`) ends each value with a
    carriage return."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, "folder\r")
    sample = Path(__file__).parent.parent / "samples" / "extract.xml"
    result = CliRunner().invoke(cli, ["-q", "sync", str(sample), "--dry-run"])
    assert result.exit_code == 2, result.output
    key = variable.removeprefix("REGISTER_BATCH_").lower()
    assert f"{key} (set by ${variable}) holds a control character ('\\r'" in result.output, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_convert_over_its_own_input_exits_2_and_leaves_the_extract(tmp_path, register_csv_fixtures):
    extract = tmp_path / "extract.csv"
    extract.write_bytes((register_csv_fixtures / "five_trainees.csv").read_bytes())
    result = CliRunner().invoke(cli, ["-q", "convert", str(extract), "--to", "register-csv", "-o", str(extract)])
    assert (result.exit_code, result.output.strip().splitlines()) == (
        2,
        [
            f"register-batch: error: cannot write {extract}: that is the input {extract}, which the output would "
            "replace: name another file"
        ],
    )
    assert extract.read_bytes() == (register_csv_fixtures / "five_trainees.csv").read_bytes()


@pytest.mark.parametrize("to,output", [("jsonl", "out.jsonl"), ("register-csv", "out.csv")])
def test_convert_whose_reports_cannot_be_written_exits_2_and_writes_no_output(tmp_path, hesa_samples, to, output):
    """Exit 2 means nothing was written (exit-codes.md): the output was put in place first, then the reports failed
    (a folder under a report's name here; a report folder on /sys as root, which no look beforehand tells)."""
    reports = tmp_path / "reports"
    (reports / "report.json").mkdir(parents=True)
    extract = str(hesa_samples / "itt_record_C23053.xml")
    result = CliRunner().invoke(
        cli, ["-q", "convert", extract, "--to", to, "-o", str(tmp_path / output), "--report-dir", str(reports)]
    )
    assert (result.exit_code, result.output) == (
        2,
        f"register-batch: error: cannot write {reports / 'report.json'}: a folder has that name\n",
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports"]


@pytest.mark.parametrize(
    ("args", "output", "said"),
    [
        (
            ["export", "--to", "register-csv"],
            "held.xlsx",
            "an Excel workbook, but --to register-csv writes CSV: give a name ending in .csv (Excel and LibreOffice "
            "Calc open a .csv file)",
        ),
        (["export", "--to", "hesa-xml"], "held.csv", "CSV, but --to hesa-xml writes XML"),
        (["convert", "in.xml", "--to", "jsonl"], "out.json", "JSON, but --to jsonl writes JSON Lines"),
        (["generate", "--count", "1", "--format", "hesa-xml"], "extract.ODS", "a spreadsheet, but --format hesa-xml"),
        (["export", "--to", "register-csv"], "held.xlsb", "an Excel workbook, but --to register-csv writes CSV"),
        (
            ["generate", "--count", "1", "--format", "hesa-csv"],
            "extract.tsv",
            "tab-separated text, but --format hesa-csv writes CSV",
        ),
        (["convert", "in.xml", "--to", "json"], "out.numbers", "a spreadsheet, but --to json writes JSON"),
        (
            ["generate", "--count", "1", "--format", "hesa-xml"],
            "extract.xml.gz",
            "a compressed file, but --format hesa-xml writes XML: give a name ending in .xml (register-batch writes "
            "it uncompressed; compress it once written)",
        ),
    ],
    ids=[
        "export-xlsx",
        "export-xml-as-csv",
        "convert-jsonl-as-json",
        "generate-ods",
        "export-xlsb",
        "generate-tsv",
        "convert-numbers",
        "generate-gz",
    ],
)
def test_an_output_named_for_another_format_exits_2_before_anything_is_read_or_sent(
    tmp_path, monkeypatch, args, output, said
):
    """review40 F6: `export --to register-csv -o held.xlsx` wrote CSV text under a workbook's name, which Excel then
    refused to open; `-o held.csv --to hesa-xml` an XML file every tool took for CSV."""
    monkeypatch.chdir(tmp_path)  # where the embedded emulator's state would go
    result = CliRunner().invoke(cli, [*args, "-o", str(tmp_path / output)])
    assert result.exit_code == 2, result.output
    assert f"'{tmp_path / output}' ends in {Path(output).suffix}, which says {said}" in result.output
    assert list(tmp_path.iterdir()) == []  # nothing written, not even the embedded emulator's state


def test_a_truth_file_named_for_another_format_exits_2_before_anything_is_written(tmp_path):
    """The truth file is JSON whatever it is named: `--truth truth.xml` beside `-o extract.xml` wrote JSON under a name
    every tool (and `validate` of the folder) takes for a HESA extract."""
    args = ["generate", "--count", "2", "--defects", "0.5", "-o", str(tmp_path / "extract.xml")]
    result = CliRunner().invoke(cli, [*args, "--truth", str(tmp_path / "truth.xml")])
    assert result.exit_code == 2, result.output
    assert "Invalid value for '--truth': " in result.output
    assert (
        f"'{tmp_path / 'truth.xml'}' ends in .xml, which says XML, but the --truth file is JSON: give a name ending in "
        ".json" in " ".join(result.output.split())
    )
    assert list(tmp_path.iterdir()) == []
    for fine in ("truth.json", "truth.txt", "truth"):  # an ending that says nothing is taken, as for -o
        result = CliRunner().invoke(cli, [*args, "--truth", str(tmp_path / fine)])
        assert result.exit_code == 0, result.output


def test_an_output_whose_name_says_its_format_or_nothing_is_written(tmp_path):
    for output in ("extract.XML", "extract.txt", "extract"):
        result = CliRunner().invoke(
            cli, ["generate", "--count", "1", "--format", "hesa-xml", "-o", str(tmp_path / output)]
        )
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(
        cli, ["convert", str(tmp_path / "extract"), "--to", "jsonl", "-o", str(tmp_path / "o.ndjson")]
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o.ndjson").stat().st_size > 0


def test_convert_into_the_state_dir_exits_2_and_leaves_the_ledger(tmp_path, monkeypatch):
    """As export's -o: a register-csv named ledger.sqlite3 in the state dir (its default or the one configured)
    replaced the sync ledger, and the next sync refused it."""
    monkeypatch.chdir(tmp_path)
    ledger = tmp_path / ".register-batch" / "embedded-emulator" / "ledger.sqlite3"  # the default state dir's
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b"SQLite format 3\x00")
    extract = Path(__file__).parent.parent / "samples" / "extract.csv"
    result = CliRunner().invoke(cli, ["-q", "convert", str(extract), "--to", "register-csv", "-o", str(ledger)])
    assert (result.exit_code, result.output.strip().splitlines()) == (
        2,
        [
            f"register-batch: error: cannot write {ledger}: that is in the state dir "
            f"{Path('.register-batch', 'embedded-emulator')} (the sync "
            "ledger, its lock and the embedded emulator's data), which it could replace: name a file outside it"
        ],
    )
    assert ledger.read_bytes() == b"SQLite format 3\x00"


@pytest.mark.parametrize("command", ["validate", "sync"])
def test_a_report_folder_holding_the_input_exits_2_before_anything_starts(tmp_path, command):
    extract = tmp_path / "issues.csv"
    sample = Path(__file__).parent.parent / "samples" / "extract.csv"
    extract.write_bytes(sample.read_bytes())
    state = ["--state-dir", str(tmp_path / "state")] if command == "sync" else []
    result = CliRunner().invoke(cli, ["-q", command, str(extract), "--report-dir", str(tmp_path), *state])
    assert (result.exit_code, result.output.strip().splitlines()) == (
        2,
        [
            f"register-batch: error: cannot write {extract}: that is the input {extract}, which the output would "
            "replace: give the reports another folder"
        ],
    )
    assert extract.read_bytes() == sample.read_bytes()
    assert not (tmp_path / "state").exists()  # sync: no embedded emulator started in it


def test_convert_jsonl_carries_source_and_body(tmp_path, hesa_samples):
    out = tmp_path / "out.jsonl"
    result = run(
        "convert", str(hesa_samples / "itt_record_C21053.xml"), "--to", "jsonl", "-o", str(out), "--as-of", AS_OF
    )
    assert result.exit_code == 1  # the sample has errors; the record is still written
    [item] = [json.loads(line) for line in out.read_text().splitlines()]
    assert item["source"] == {"input": str(hesa_samples / "itt_record_C21053.xml"), "record": 1, "line": 3}
    assert item["data"]["sex"] == "11" and item["data"]["hesa_id"] == "0310261553101"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_convert_register_csv_round_trips(tmp_path, register_csv_fixtures):
    source = register_csv_fixtures / "five_trainees_with_degree.csv"
    out = tmp_path / "out.csv"
    assert run("convert", str(source), "--to", "register-csv", "-o", str(out), "--as-of", AS_OF).exit_code in (0, 1)
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode().splitlines()[0].split(",")
    assert len(header) == 51 and header[-1] == "iqts_country"
    assert ",'" in raw.decode().splitlines()[1]  # codes and dates protected from Excel
    back = tmp_path / "back.jsonl"
    first = tmp_path / "first.jsonl"
    run("convert", str(source), "--to", "jsonl", "-o", str(first), "--as-of", AS_OF)
    run("convert", str(out), "--to", "jsonl", "-o", str(back), "--as-of", AS_OF)
    original = [json.loads(x)["data"] for x in first.read_text().splitlines()]
    again = [json.loads(x)["data"] for x in back.read_text().splitlines()]
    assert original == again


def test_convert_skip_invalid(tmp_path, register_csv_fixtures):
    out = tmp_path / "ok.jsonl"
    result = run(
        "convert",
        str(register_csv_fixtures / "five_trainees_with_three_errors.csv"),
        "--to",
        "jsonl",
        "-o",
        str(out),
        "--skip-invalid",
        "--as-of",
        AS_OF,
    )
    assert result.exit_code == 1
    assert "skipped as invalid" in result.output
    assert len(out.read_text().splitlines()) < 5


def test_convert_to_register_csv_says_a_failing_row_blocks_its_whole_file(tmp_path, register_csv_fixtures):
    """Register's upload is all or nothing (hesa-formats.md §3.4, §5 item 28): a CSV written with invalid rows adds
    no trainee at all, which `convert` must say, not only that some records have errors."""
    source = str(register_csv_fixtures / "five_trainees_with_three_errors.csv")
    args = ("convert", source, "--to", "register-csv", "-o", str(tmp_path / "up.csv"), "--as-of", AS_OF)
    written = run(*args)
    assert written.exit_code == 1
    assert "Register's upload adds none of a file's trainees while any of its rows fails" in written.output
    assert "--skip-invalid" in written.output
    skipped = run(*args, "--skip-invalid")
    assert "skipped as invalid" in skipped.output and "while any of its rows fails" not in skipped.output
    as_jsonl = run("convert", source, "--to", "jsonl", "-o", str(tmp_path / "out.jsonl"), "--as-of", AS_OF)
    assert "while any of its rows fails" not in as_jsonl.output


def _two_degree_trainees(path: Path, count: int) -> Path:
    """A HESA-named CSV of `count` trainees with two degrees each: Register's CSV keeps one, so each is a note. Its
    initiative columns are there, blank (none): an input without them has a note of its own (review202 F3)."""
    head = (
        "F_HUSID,F_OWNSTU,F_FNAMES,F_SURNAME,F_BIRTHDTE,F_SEXID,F_NATION,F_ITTAIM,F_ENTRYRTE,F_ITTSTARTDATE,"
        "F_INITIATIVES1,F_INITIATIVES2"
    )
    degrees = ",".join(f"F_DEGTYPE_{n},F_DEGSBJ1_{n},F_DEGCLSS_{n},F_DEGEST_{n},F_DEGENDDT_{n}" for n in (1, 2))
    rows = [
        f"{2601200000000 + n:013d},S{n}/1,Ann,Lee{n},1999-03-14,10,GB,202,12,2026-09-01,,,"
        f"083,100403,02,0117,2019-06-30,083,100425,03,0117,2021-06-30"
        for n in range(count)
    ]
    path.write_text("\n".join([f"{head},{degrees}", *rows]) + "\n", encoding="utf-8")
    return path


def test_convert_help_says_json_lines_items_carry_withdrawals_and_deferrals():
    """The help said each line is {"source", "data"}: a vendor's parser met "withdrawal" and "deferral" unannounced."""
    shown = " ".join(run("convert", "--help").output.split())
    assert '"withdrawal" or "deferral" (the request sync sends after it) when the record has one' in shown


def test_convert_of_one_record_says_record_not_records(tmp_path):
    """A one-trainee file (a vendor's test of one new starter) read "Wrote 1 records" and "1 of 1 records have
    errors"."""
    up = tmp_path / "up.csv"
    source = str(_two_degree_trainees(tmp_path / "one.csv", 1))
    one = run("-q", "convert", source, "--to", "register-csv", "-o", str(up))
    assert one.exit_code == 1 and one.stdout == f"Wrote 1 record to {up}\n"
    assert one.stderr.splitlines()[0] == (
        f"1 of 1 record has errors; run `register-batch validate {source}` for the report"
    )
    skipped = run("-q", "convert", source, "--to", "jsonl", "-o", str(up.with_suffix(".jsonl")), "--skip-invalid")
    assert skipped.stdout == f"Wrote 0 records to {up.with_suffix('.jsonl')}, 1 skipped as invalid\n"


def test_convert_says_how_many_notes_it_left_out_after_the_twentieth(tmp_path):
    """Past twenty notes the terminal shows a count and where the rest are: a list cut without a word reads as every
    record that lost a degree."""
    source = str(_two_degree_trainees(tmp_path / "two_degrees.csv", 23))
    args = ("convert", source, "--to", "register-csv", "-o", str(tmp_path / "up.csv"), "--as-of", AS_OF)
    plain = run(*args)
    notes = [line for line in plain.output.splitlines() if line.startswith("note: ")]
    assert len(notes) == 21 and all("other degree left out" in line for line in notes[:20])
    assert notes[20] == (
        "note: … and 3 more (--report-dir writes them all to the reports, as not_in_register_csv warnings)"
    )
    reported = run(*args, "--report-dir", str(tmp_path / "r"))
    assert "note: … and 3 more (the reports list them all, as not_in_register_csv warnings)" in reported.output
    issues = (tmp_path / "r" / "issues.csv").read_text(encoding="utf-8-sig")
    assert issues.count("not_in_register_csv") == 23
    exactly = run("convert", str(_two_degree_trainees(tmp_path / "twenty.csv", 20)), *args[2:])
    assert "more (" not in exactly.output
    assert sum(line.startswith("note: ") for line in exactly.output.splitlines()) == 20


def test_convert_with_errors_points_at_its_own_report_when_it_wrote_one(tmp_path):
    defects = str(Path(__file__).parents[1] / "samples" / "defects.xml")
    args = ("convert", defects, "--to", "jsonl", "-o", str(tmp_path / "out.jsonl"), "--as-of", "2026-11-28")
    with_report = run(*args, "--report-dir", str(tmp_path / "r"))
    assert with_report.exit_code == 1
    assert f"99 of 105 records have errors; see {tmp_path / 'r' / 'report.html'}" in with_report.output
    without = run(*args)
    # review233 F1: the input it means, not the output a user of the CSV would take it for
    assert (
        f"99 of 105 records have errors; run `register-batch validate {defects} --as-of 2026-11-28` for the report"
        in without.output
    )


def test_reference_show(tmp_path):
    result = run("reference", "show", "sex")
    assert result.exit_code == 0 and "10\tFemale" in result.output.splitlines()
    listing = run("reference", "show")
    assert listing.exit_code == 0
    assert listing.output.startswith(
        "Reference data (bundled v2026.1; Register's lists of 2026-08-22, DfE commit ce1126541):\n"
    )
    assert "  sex " in listing.output and "withdrawal_reasons" in listing.output and "degree_subject" in listing.output
    fields = [line.split()[0] for line in listing.output.splitlines()[1:]]
    assert len(fields) == len(set(fields)) == 19  # each list once, the withdrawal reasons too
    unknown = CliRunner().invoke(cli, ["reference", "show", "colour"])
    assert unknown.exit_code == 2
    assert "Invalid value for FIELD: unknown field 'colour'; known: country, course_age_range," in unknown.output
    reasons = run("reference", "show", "withdrawal_reasons").output.splitlines()
    assert "record_added_in_error\tThis training record was added in error  (provider)" in reasons


def test_reference_show_json_is_the_reference_data_payload_as_written(tmp_path):
    """--json prints GET /reference-data's payload (all fields, or one) and nothing else, its labels as written."""
    from register_batch.reference import load_reference

    whole = run("reference", "show", "--json")
    assert whole.exit_code == 0
    assert json.loads(whole.output) == load_reference().api_payload()
    country = run("reference", "show", "country", "--json")
    assert country.exit_code == 0
    assert json.loads(country.output) == load_reference().api_payload("country")
    assert '"display_name": "Åland Islands {Ahvenamaa}"' in country.output  # not \u00c5land
    assert '"display_name": "Åland Islands {Ahvenamaa}"' in whole.output


def _all_commands(group: click.Group, ctx: click.Context, prefix=()):
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _all_commands(command, ctx, (*prefix, name))


def test_every_command_and_option_has_help_text():
    ctx = click.Context(cli)
    commands = list(_all_commands(cli, ctx))
    assert {"validate", "convert"} <= {path[0] for path, _ in commands}
    for path, command in commands:
        assert command.help and len(command.help) > 20, f"{' '.join(path)} has no help text"
        for param in command.params:
            if isinstance(param, click.Option) and param.name not in ("help",):
                assert param.help, f"{' '.join(path)} option {param.opts} has no help text"
        result = CliRunner().invoke(cli, [*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output


def test_sync_and_export_help_give_the_real_defaults_of_their_folders_and_token():
    """The state dir defaults to one folder per target (not `.register-batch` itself), the token has four sources,
    and sync leaves alone what the extract lacks (its help used to say it makes Register hold `exactly` it)."""

    def help_of(command: str) -> str:
        result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0
        return " ".join(result.output.split())

    sync_help, export_help, validate_help = help_of("sync"), help_of("export"), help_of("validate")
    assert ".register-batch/<target>" in sync_help and "(default .register-batch;" not in sync_help
    # validate's said register-batch-reports/validate-<time> only, though report_dir in the settings moves it too
    for text in (sync_help, validate_help):
        assert "register-batch-reports, or in report_dir of the settings" in text
    assert "exactly" not in sync_help and "left alone" in sync_help
    assert ".register-batch/embedded-emulator" in export_help
    for text in (sync_help, export_help):
        assert "$REGISTER_API_TOKEN_FILE, $REGISTER_API_TOKEN, or token_file" in text


def test_sync_and_export_help_name_every_exit_code_as_the_readme_does():
    """review59 F3: sync's help gave exit 1 as records only and 3 as interrupted only (Register stopping part-way is 3,
    and since review208 F5 so is Register unreachable before any write), and export's help had no exit codes at
    all."""

    def help_of(command: str) -> str:
        result = CliRunner().invoke(cli, [command, "--help"], terminal_width=200)
        assert result.exit_code == 0
        return " ".join(result.output.split())

    sync_help, export_help = help_of("sync"), help_of("export")
    for said in (
        "Exits 0 when every record is in Register as the extract says",
        "1 when some records were invalid, in conflict, blocked or refused",
        "2 for usage, configuration, an unreadable extract",
        "3 when interrupted, when Register could not be reached or stopped answering (before anything was written "
        "too: the error line says so, and there is no report then), or when the outcome of a request stayed "
        "unknown (run the same command again to resume)",
    ):
        assert said in sync_help, said
    for said in (
        "Exits 0 when the file is written (an empty one too)",
        "1 when Register answered with an error no retry mends",
        "2 for usage, configuration (a target whose host name is not found among it), a missing or rejected token",
        "an --academic-cycle Register does not take",
        # the cycle asked for when none is given, refused by the target (review191 F4)
        "(or, without --academic-cycle, the cycle current today or on --as-of's day when the target does not take it)",
        "3 when interrupted, or when Register could not be reached, kept failing after retries or refused this "
        "machine (run it again later), as for sync",  # not 1, "records need attention" (review236 F1)
        "no file was written, and an earlier file of that name stays as it was",
    ):
        assert said in export_help, said


def junit_of(tmp_path: Path, five_trainees: Path, edits: dict[tuple[int, str], str]) -> str:
    """junit.xml of a validate of the five-trainee fixture with `edits` ((row, column) -> value) made to it."""
    with five_trainees.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    for (row, column), value in edits.items():
        rows[row][rows[0].index(column)] = value
    path = tmp_path / "edited.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows(rows)
    result = run("validate", str(path), "--as-of", AS_OF, "--report-dir", str(tmp_path / "r"), "--junit")
    assert result.exit_code == 1, result.output
    return (tmp_path / "r" / "junit.xml").read_text(encoding="utf-8")


def test_junit_carries_a_control_character_quoted_from_the_input(tmp_path, register_csv_fixtures):
    # XML 1.0 cannot hold U+000B: it is written as the escape \x0b, not a crash with no junit.xml.
    junit = junit_of(tmp_path, register_csv_fixtures / "five_trainees.csv", {(1, "sex"): "1\x0b0"})
    assert "sex contains a control character (U+000B)" in junit and "1\\x0b0" in junit
    assert "\x0b" not in junit


@pytest.mark.parametrize("twice", [False, True], ids=["once", "again-while-reported"])
def test_sigterm_while_a_file_is_read_ends_the_command_like_ctrl_c(tmp_path, twice):
    """systemd and `kill` send SIGTERM: one line and exit 3, never death by the signal (143 in a shell). systemd may
    send it again (or a person press Ctrl-C twice): one landing while the first's line is written ended the process
    with a traceback and exit 130 under click 8.1 (click 8.2 and later catch it themselves): the KeyboardInterrupt
    came out of click's `show()`, and nothing caught it."""
    import subprocess
    import sys
    from pathlib import Path

    sample = Path(__file__).parent / "fixtures" / "register_csv" / "five_trainees.csv"
    again = (
        "from register_batch.commands.common import Failure\n"
        "show = Failure.show\n"
        "def second(self, file=None):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    show(self, file)\n"
        "Failure.show = second\n"
    )
    script = (
        "import os, signal, sys\n"
        "from register_batch.validation.runner import Checker\n"
        "from register_batch import cli\n"
        "original = Checker.records\n"
        "def records(self, paths):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    yield from original(self, paths)\n"
        "Checker.records = records\n"
        f"{again if twice else ''}"
        "sys.argv = ['register-batch', 'validate', sys.argv[1], '--report-dir', sys.argv[2]]\n"
        "cli.main()\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(sample), str(tmp_path / "reports")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 3, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr
    if not twice:
        # validate keeps no state: a rerun starts over (only sync resumes, from its ledger)
        assert done.stderr.strip().splitlines() == [
            "register-batch: interrupted; run the same command again (it starts over)"
        ]


def run_patched(tmp_path, patch: str, args: list[str]):
    """`register-batch ARGS` in a fresh process (cwd tmp_path) after `patch`, Python run first in it."""
    import os
    import subprocess
    import sys

    script = (
        f"import os, signal, sys\n{patch}"
        "from register_batch import cli\nsys.argv = ['register-batch', *sys.argv[1:]]\ncli.main()\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return subprocess.run(
        [sys.executable, "-c", script, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )


def _hangup_while_reading(ignored: bool) -> str:
    """Python run before the command: the terminal hangs up (SIGHUP) as the records are read; `ignored` as under
    `nohup`."""
    return (
        ("signal.signal(signal.SIGHUP, signal.SIG_IGN)\n" if ignored else "")
        + "from register_batch.validation.runner import Checker\n"
        "original = Checker.records\n"
        "def records(self, paths):\n"
        "    os.kill(os.getpid(), signal.SIGHUP)\n"
        "    yield from original(self, paths)\n"
        "Checker.records = records\n"
    )


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGHUP", "SIGINT"])
def test_a_stop_while_python_tears_down_after_the_command_leaves_its_exit_code(
    tmp_path, register_csv_fixtures, signame
):
    """`systemctl stop`, `kill` or Ctrl-C in the last moment of a run, after its summary line, as Python frees the
    run's objects (a third of a second after a sync of 300 records): Python has given the signals back to their
    default action by then, so the process died by the signal (143 in a shell) instead of exiting with the command's
    code. The signal lands here as the objects of the script running the command are freed."""
    at_teardown = (
        "class AtTeardown:\n"
        f"    def __del__(self, kill=os.kill, pid=os.getpid(), signum=signal.{signame}):\n"
        "        kill(pid, signum)\n"
        "at_teardown = AtTeardown()\n"
    )
    args = ["validate", str(register_csv_fixtures / "five_trainees.csv"), "--as-of", AS_OF, "--report-dir", "r"]
    done = run_patched(tmp_path, at_teardown, args)
    assert done.returncode == 0, (done.returncode, done.stderr)
    assert done.stdout.startswith("5 records: 5 valid, 0 with errors"), done.stdout


def test_a_hang_up_ends_the_command_like_ctrl_c_and_nohup_lets_it_run_on(tmp_path, register_csv_fixtures):
    """An SSH session dropped sends SIGHUP: one line and exit 3, not death by the signal. Under `nohup` it is ignored,
    and stays so: the command runs to its end."""
    args = ["validate", str(register_csv_fixtures / "five_trainees.csv"), "--as-of", AS_OF, "--report-dir", "r"]
    hung_up = run_patched(tmp_path, _hangup_while_reading(ignored=False), args)
    assert hung_up.returncode == 3, (hung_up.returncode, hung_up.stderr)
    assert hung_up.stderr.splitlines() == ["register-batch: interrupted; run the same command again (it starts over)"]
    nohup = run_patched(tmp_path, _hangup_while_reading(ignored=True), args)
    assert nohup.returncode == 0, (nohup.returncode, nohup.stderr)
    assert nohup.stdout.startswith("5 records: 5 valid, 0 with errors")


def test_sigterm_while_a_sync_reads_its_extract_says_the_run_resumes(tmp_path, register_csv_fixtures):
    """A sync stopped before its run began says so as sync's stop: run again and it resumes (validate starts over)."""
    stop = (
        "from register_batch.validation.runner import Checker\n"
        "original = Checker.records\n"
        "def records(self, paths):\n"
        "    os.kill(os.getpid(), signal.SIGTERM)\n"
        "    yield from original(self, paths)\n"
        "Checker.records = records\n"
    )
    csv_file = str(register_csv_fixtures / "five_trainees.csv")
    done = run_patched(tmp_path, stop, ["-q", "sync", csv_file, "--state-dir", "state", "--dry-run"])
    assert done.returncode == 3, (done.returncode, done.stderr)
    assert done.stderr.strip().splitlines()[-1] == "register-batch: interrupted; run the same command again to resume"


def test_standard_output_with_no_room_left_is_said_once_however_often_it_is_written(capsys):
    """Standard output on a full disk that cannot be pointed at the null device (a stream with no file descriptor,
    as an application embedding the command line gives): later writes and flushes, of text or of the bytes beneath
    it (click writes those for what the stream's encoding cannot say), are dropped as well, without a word more."""
    import errno
    import io

    from register_batch.commands.common import GoneQuietly

    def no_room(*_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    class Full:
        write = flush = staticmethod(no_room)

        def __init__(self, buffer: Full | None = None):
            self.buffer = buffer

        def fileno(self) -> int:
            raise io.UnsupportedOperation("fileno")  # as io.StringIO's

    out = GoneQuietly(Full(Full()), "stdout")
    assert out.buffer.write(b"first\n") == 6  # the bytes beneath fail first: the whole stream is gone
    warning = "register-batch: warning: standard output could not be written (No space left on device); the rest"
    assert capsys.readouterr().err.startswith(warning)
    assert out.write("second\n") == 7 and out.write("third\n") == 6
    out.flush()
    assert out.buffer.write(b"fourth\n") == 7
    out.buffer.flush()
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("code", "name"),
    [("EPIPE", "stdout"), ("EIO", "stdout"), ("ENOSPC", "stderr")],
    ids=["stdout piped to a head that has read its line", "a hung-up terminal", "standard error on a full disk"],
)
def test_output_whose_reader_has_gone_is_dropped_without_a_word(capsys, code, name):
    """`| head` ending, or a dropped SSH session, is nothing to warn about; nor can standard error with no room
    left say so on itself."""
    import errno
    import io

    from register_batch.commands.common import GoneQuietly

    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(getattr(errno, code), code)

    out = GoneQuietly(Gone(), name)
    assert out.write("summary\n") == 8
    assert capsys.readouterr().err == ""


def test_output_whose_reader_has_gone_is_dropped_on_a_stream_with_no_descriptor(capsys):
    """An IDE's or a notebook's standard output may be an object with a write method and no fileno at all: its reader
    gone is dropped as any other's, not an AttributeError (exit 70) in its place."""
    import errno

    from register_batch.commands.common import GoneQuietly

    class Gone:
        def write(self, text: str) -> int:
            raise OSError(errno.EPIPE, "Broken pipe")

        def flush(self) -> None:
            pass

    out = GoneQuietly(Gone(), "stdout")
    assert out.write("summary\n") == 8
    assert out.write("more\n") == 5
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("code", ["ENOSPC", "EDQUOT", "EFBIG"])
def test_output_over_a_quota_or_size_limit_is_dropped_like_a_full_disk(capsys, code):
    """`>> sync.log` on a full disk, over the user's disk quota, or past the file size limit: the same for the run."""
    import errno
    import io

    from register_batch.commands.common import GoneQuietly

    class Full(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(getattr(errno, code), code)

    out = GoneQuietly(Full(), "stdout")
    assert out.write("summary\n") == 8
    assert f"standard output could not be written ({code}); the rest of it is dropped" in capsys.readouterr().err


def test_output_that_fails_for_another_reason_is_not_hidden():
    """Only a reader gone or no room left is dropped quietly: any other failure to write is the command's error (an
    internal error, exit 70), not output lost without a word."""
    import errno
    import io

    from register_batch.commands.common import GoneQuietly

    class Broken(io.StringIO):
        def write(self, text: str) -> int:
            raise OSError(errno.EINVAL, "Invalid argument")

    with pytest.raises(OSError, match="Invalid argument"):
        GoneQuietly(Broken(), "stdout").write("summary\n")


def test_a_flush_that_finds_no_room_says_so_once(capsys):
    import errno
    import io

    from register_batch.commands.common import GoneQuietly

    class Full(io.StringIO):
        def flush(self) -> None:
            raise OSError(errno.ENOSPC, "No space left on device")

    out = GoneQuietly(Full(), "stdout")
    out.flush()
    out.flush()
    assert capsys.readouterr().err.count("standard output could not be written (No space left on device)") == 1


@pytest.mark.parametrize("quiet", [False, True], ids=["plain", "-q"])
def test_quiet_runs_log_no_progress(capsys, quiet):
    from register_batch.commands.common import State

    with State(config=None, quiet=quiet).progress() as progress:
        progress.log("Exporting: 500 trainees (9.5/s)")
    assert ("Exporting: 500 trainees" in capsys.readouterr().err) is not quiet


def test_an_output_that_is_a_folder_is_refused_as_the_option_given(tmp_path, hesa_samples):
    (tmp_path / "out").mkdir()
    sample = str(hesa_samples / "itt_record_C23053.xml")
    result = CliRunner().invoke(cli, ["convert", sample, "--to", "jsonl", "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "Invalid value for '-o' / '--output'" in result.output and "is a directory" in result.output
    assert list((tmp_path / "out").iterdir()) == []


def test_a_token_file_that_is_a_folder_is_refused_as_the_option_given(tmp_path, hesa_samples):
    (tmp_path / "secrets").mkdir()
    sample = str(hesa_samples / "itt_record_C23053.xml")
    result = CliRunner().invoke(cli, ["sync", sample, "--token-file", str(tmp_path / "secrets"), "--dry-run"])
    assert result.exit_code == 2
    assert f"Invalid value for '--token-file': File '{tmp_path / 'secrets'}' is a directory." in result.output


def test_a_mapping_that_is_a_folder_is_refused_as_the_option_given(tmp_path, hesa_samples):
    (tmp_path / "mappings").mkdir()
    sample = str(hesa_samples / "itt_record_C23053.xml")
    result = CliRunner().invoke(cli, ["validate", sample, "--mapping", str(tmp_path / "mappings")])
    assert result.exit_code == 2
    assert "Invalid value for '--mapping'" in result.output and "is a directory" in result.output


def test_a_process_without_standard_output_still_runs(monkeypatch):
    """pythonw on Windows, or a service started without one, has no standard output (sys.stdout is None): guarding
    the streams leaves it so, and what the command says goes nowhere instead of failing."""
    import sys

    from register_batch.commands.common import guard_output

    monkeypatch.setattr(sys, "stdout", None)
    monkeypatch.setattr(sys, "stderr", sys.stderr)  # put back afterwards, unguarded
    guard_output()
    assert sys.stdout is None
    click.echo("Target: sandbox")


def test_output_written_and_flushed_reaches_its_reader_at_once():
    """Guarded standard output still passes a flush on: a nightly job's `| tee sync.log` shows each line as it is
    said, not when the run ends."""
    import os

    from register_batch.commands.common import GoneQuietly

    read_end, write_end = os.pipe()
    with open(write_end, "w") as stream, open(read_end, "rb", buffering=0) as reader:
        out = GoneQuietly(stream, "stdout")
        out.write("Target: sandbox\n")
        out.flush()
        os.set_blocking(read_end, False)
        assert reader.read(100) == b"Target: sandbox\n"


@pytest.mark.parametrize(
    ("raised", "named"),
    [
        ("RuntimeError('no such luck')", "RuntimeError: no such luck"),
        # A closed standard output is dropped quietly (GoneQuietly) and the command keeps its own exit code; any
        # other broken pipe was exit 0 with nothing said, which a nightly job would have read as success.
        ("BrokenPipeError(32, 'Broken pipe')", "BrokenPipeError: [Errno 32] Broken pipe"),
    ],
    ids=["runtime-error", "broken-pipe-not-stdout"],
)
def test_an_unexpected_error_is_one_line_and_exit_70_with_the_traceback_only_under_vv(
    tmp_path, register_csv_fixtures, raised, named
):
    """The last line of defence: an error the code did not foresee is named in one line (its type and message) with
    exit 70, the traceback shown only with -vv."""
    fail = (
        "from register_batch.validation.runner import Checker\n"
        "def records(self, paths):\n"
        f"    raise {raised}\n"
        "    yield\n"
        "Checker.records = records\n"
    )
    csv_file = str(register_csv_fixtures / "five_trainees.csv")
    done = run_patched(tmp_path, fail, ["validate", csv_file, "--report-dir", "r"])
    assert done.returncode == 70, (done.returncode, done.stderr)
    assert done.stderr.strip().splitlines() == [f"register-batch: internal error ({named}); rerun with -vv for details"]
    loud = run_patched(tmp_path, fail, ["-vv", "validate", csv_file, "--report-dir", "r"])
    assert loud.returncode == 70
    assert loud.stderr.startswith("Traceback (most recent call last)")
    assert loud.stderr.strip().splitlines()[-2:] == [named, done.stderr.strip()]


@pytest.mark.parametrize(
    "args",
    [
        ["sync", "{csv}", "--state-dir", "state", "--report-dir", "reports"],
        ["export", "--state-dir", "state", "--to", "json", "-o", "held.json"],
    ],
    ids=["sync", "export"],
)
def test_quiet_still_says_that_the_embedded_emulator_is_the_target(tmp_path, register_csv_fixtures, args):
    # design.md: with no target configured, sync and export say so on the first line. A nightly `-q` job whose
    # settings file was not found would otherwise sync into a local emulator, exit 0, and never say so.
    import os

    from cli_runs import run_cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    command = [a.format(csv=register_csv_fixtures / "five_trainees.csv") for a in args]
    result = run_cli(["-q", *command], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    first = (result.stderr or result.stdout).splitlines()[0]
    assert first.startswith("Target: embedded Register emulator at http://127.0.0.1:"), result.stderr
    assert "nothing leaves this machine" in first
    assert "Target:" not in result.stdout  # -q: stdout keeps the summary and Report: lines only


@pytest.mark.parametrize("command", ["validate", "sync"])
def test_quiet_still_says_where_the_report_went(tmp_path, register_csv_fixtures, command):
    """review156 F6: `register-batch -q validate` printed the summary but not the `Report:` line, so a quiet job's log
    did not say where the report went (a folder named for the time the run started). -q keeps that one line, after
    the summary, on standard output as without -q; its standard error stays empty."""
    import os

    from cli_runs import run_cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    source = str(register_csv_fixtures / "five_trainees.csv")
    args = [command, source, "--as-of", "2026-11-28", *(["--state-dir", "state"] if command == "sync" else [])]
    result = run_cli(["-q", *args], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    summary, report = result.stdout.splitlines()
    assert summary.startswith("5 records: ")
    [folder] = (tmp_path / "register-batch-reports").iterdir()
    assert report == f"Report: {Path('register-batch-reports', folder.name, 'report.html')}"
    if command == "validate":
        assert result.stderr == ""


def test_output_in_a_code_page_without_a_character_escapes_it_and_keeps_the_exit_code(tmp_path):
    """Windows writes redirected output in its ANSI code page (cp1252), a server may have a Latin-1 locale: a path
    or name it cannot hold ended the command as an internal error (exit 70), after its work was done."""
    import json
    import os
    import subprocess
    import sys

    def run_cli(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
        command = [sys.executable, "-m", "register_batch", *args]
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, encoding="cp1252", timeout=120)

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env["PYTHONIOENCODING"] = "cp1252"
    made = run_cli(["generate", "--count", "3", "-o", "gén 名.xml"], cwd=tmp_path, env=env)
    assert made.returncode == 0 and made.stdout.rstrip().endswith("to gén \\u540d.xml"), made.stdout + made.stderr
    checked = run_cli(["validate", "gén 名.xml", "--report-dir", "rép 名"], cwd=tmp_path, env=env)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.splitlines()[-1] == "Report: rép \\u540d/report.html", checked.stdout
    shown = run_cli(["config", "show", "--json"], cwd=tmp_path, env={**env, "REGISTER_BATCH_STATE_DIR": "st 名"})
    assert shown.returncode == 0 and json.loads(shown.stdout)["settings"]["state_dir"] == "st 名", shown.stdout


def test_help_in_a_wide_terminal_uses_it_up_to_100_columns(tmp_path):
    """Help wrapped at 80 columns (click's default) in a wide terminal is longer than it needs to be; past 100, lines
    get too long to read. (A process of its own: click's test runner fixes the width at 80.)"""
    import os

    from cli_runs import run_cli

    result = run_cli(["--help"], cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    first = result.stdout.split("\n\n")[1].splitlines()  # the description, wrapped to the width
    assert 80 < len(first[0]) <= 100 and first[0].startswith("  Validate HESA ITT extracts"), first
    assert max(len(line) for line in result.stdout.splitlines()) <= 100


@pytest.mark.parametrize("quiet", [False, True], ids=["plain", "-q"])
def test_a_targets_line_is_on_standard_output_and_quiet_leaves_it_out(tmp_path, monkeypatch, quiet):
    """A target that is not the embedded emulator (here one at a URL) is named on standard output, with the summary;
    `-q` leaves it out: standard output keeps only the summary line for scripts, and standard error stays empty."""
    from register_batch.emulator import start_emulator

    token = "quiet-target-token"
    monkeypatch.setenv("REGISTER_API_TOKEN", token)
    out = tmp_path / "held.json"
    with start_emulator(tokens=[token], rate_limit=None) as emulator:
        options = ["export", "--target", emulator.url, "--to", "json", "-o", str(out)]
        result = CliRunner().invoke(cli, ["-q", *options] if quiet else options)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    current = cycle_label(cycle_of(datetime.now(UTC).date()))  # today's cycle, asked for (review183 F5, review188 F4)
    assert (
        lines[-1] == f"No trainees matched (the academic cycle current today (UTC), {current}; --academic-cycle YYYY "
        f"for another): wrote an empty json file to {out} (1 request)."
    )
    assert [line for line in lines if line.startswith("Target: ")] == ([] if quiet else [f"Target: {emulator.url}"])
    assert result.stderr == ""


def test_the_help_says_what_each_shared_option_takes_and_does():
    result = CliRunner().invoke(cli, ["validate", "--help"])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "--format [auto|" in text
    assert "Input format; auto detects it from each file's content. [default: auto]" in text
    assert "--mapping FILE A mapping file (YAML) layered over the bundled ones; repeat for several." in text
    assert "--as-of YYYY-MM-DD Judge date rules as of this day instead of today (today in UTC, as Register" in text
    assert "--ukprn UKPRN The UKPRN of the provider whose records you check" in text  # no token: validate sends nothing
    assert "--api-version VERSION Register API version (default v2026.1)." in text


def test_without_quiet_the_embedded_emulator_target_is_said_on_standard_output(tmp_path, monkeypatch):
    """Like any target, the embedded emulator is named on standard output when the run is not quiet (with -q it is
    named on standard error: see above)."""
    import os

    from cli_runs import run_cli

    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    result = run_cli(["export", "--state-dir", "state", "--to", "json", "-o", "held.json"], cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Target: embedded Register emulator at http://127.0.0.1:"), result.stdout
    assert "Target:" not in result.stderr


@pytest.mark.parametrize(
    ("target", "rate", "noted"),
    [
        ("sandbox", "200/60", True),
        ("production", "2/1", True),
        ("sandbox", "95/60", False),
        ("sandbox", "100/60", False),
        ("sandbox", "101/60", True),
        ("http://127.0.0.1:9", "200/60", False),
    ],
)
def test_a_rate_over_registers_limit_is_noted_for_register_only(tmp_path, monkeypatch, target, rate, noted):
    """Register allows 100 requests a minute (§1.3): faster pacing only meets 429s. An emulator's limit is its own."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    sample = str(Path(__file__).parents[1] / "samples" / "extract.xml")
    result = run("sync", sample, "--target", target, "--rate", rate, "--state-dir", "state")
    assert result.exit_code == 2  # no token: nothing is sent either way
    assert ("is over Register's 100 requests a minute" in result.stderr) is noted, result.output  # a note: stderr
    if noted:
        count, seconds = rate.split("/")
        assert (
            f"note: rate {count}/{seconds} is over Register's 100 requests a minute: expect waits for its 429 answers "
            "(the default 95/60 leaves room for nothing else using Register from this machine)"
        ) in result.stderr.splitlines()


@pytest.mark.parametrize(("rate", "noted"), [("6000/60", True), ("95/60", False), ("100/60", False)])
def test_a_rate_over_the_embedded_emulators_limit_is_noted(tmp_path, monkeypatch, rate, noted):
    """review76 F6: the embedded emulator keeps Register's 100 a minute; a faster --rate met its 429s without a word."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    monkeypatch.delenv("REGISTER_API_URL", raising=False)
    sample = str(Path(__file__).parents[1] / "samples" / "extract.xml")
    result = run("sync", sample, "--rate", rate, "--state-dir", "state", "--dry-run", "--report-dir", "r")
    assert result.exit_code == 0, result.output
    assert ("over the embedded emulator's 100 requests a minute" in result.stderr) is noted, result.stderr
    if noted:
        assert (
            "note: rate 6000/60 is over the embedded emulator's 100 requests a minute (it keeps Register's limit): "
            "expect waits for its 429 answers; to rehearse faster, start `register-batch emulator --rate-limit 0` and "
            "give its URL with --target (docs/migration.md, step 4)"
        ) in result.stderr.splitlines()


def test_sync_refuses_a_file_given_twice_before_the_target_starts(tmp_path):
    sample = str(Path(__file__).parent.parent / "samples" / "extract.xml")
    result = run("sync", sample, sample, "--state-dir", str(tmp_path / "state"), "--as-of", AS_OF)
    assert result.exit_code == 2
    assert result.output.strip().endswith(
        "extract.xml is given twice: each of its records would be a duplicate of itself"
    )
    assert "Target:" not in result.output and not (tmp_path / "state").exists()


def test_junit_names_each_field_once(tmp_path, register_csv_fixtures):
    """A CI log reads `line 2: last_name can't be blank [required]`: Register's messages begin with the field, which
    junit.xml wrote before them as well (`last_name: last_name can't be blank`)."""
    edits = {(1, "last_name"): "", (2, "email"): "not-an-address"}
    junit = junit_of(tmp_path, register_csv_fixtures / "five_trainees.csv", edits)
    assert "line 2: last_name can't be blank [required]" in junit
    assert "last_name: last_name" not in junit and "email: email" not in junit
    assert "line 3: email Enter an email address" in junit


def test_runs_started_in_the_same_second_get_report_folders_of_their_own(tmp_path, monkeypatch):
    """configuration.md: a run in the same second gets `-2`, so no run replaces another's reports. The name is claimed
    when chosen: two cron jobs started together chose the same folder, both unmade yet, and wrote into one."""
    from datetime import datetime

    from register_batch.commands import common
    from register_batch.config import load_settings

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return cls(2026, 11, 28, 2, 30, 0)

    monkeypatch.setattr(common, "datetime", Frozen)
    monkeypatch.chdir(tmp_path)
    settings = load_settings()
    first = common._report_dir(settings, None, "sync")
    second = common._report_dir(settings, None, "sync")  # before the first run has written anything
    assert (first.name, second.name) == ("sync-20261128-023000Z", "sync-20261128-023000Z-2")
    assert first.is_dir() and second.is_dir()
    assert stat.S_IMODE(second.stat().st_mode) == 0o700


def test_a_run_refused_before_its_report_leaves_no_report_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("validate", "no-such-file.xml")
    assert result.exit_code == 2
    assert not (tmp_path / "register-batch-reports").exists()
    result = run("validate", str(Path(__file__).parents[1] / "samples" / "extract.xml"), "--as-of", AS_OF)
    assert result.exit_code == 0
    [folder] = (tmp_path / "register-batch-reports").iterdir()
    assert (folder / "report.json").is_file()
    assert folder.name.startswith("validate-")
    assert f"Report: {Path('register-batch-reports', folder.name, 'report.html')}" in result.output.splitlines()


def test_a_name_over_two_lines_in_a_csv_is_its_records_error_not_the_whole_files(tmp_path):
    """One cell a spreadsheet user broke with Alt+Enter used to refuse the whole extract (exit 2); now the other
    records are checked, and that one is an error naming its field and line."""
    extract = tmp_path / "upload.csv"
    run("generate", "--count", "4", "--format", "register-csv", "-o", str(extract), "--seed", "2", "--as-of", AS_OF)
    with extract.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    column = rows[0].index("first_names")
    rows[2][column] = "Anne\nMarie"
    with extract.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh, lineterminator="\r\n").writerows(rows)
    result = run("validate", str(extract), "--as-of", AS_OF, "--report-dir", str(tmp_path / "r"))
    assert result.exit_code == 1, result.output
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["summary"]["records"] == 4 and report["summary"]["invalid"] == 1
    [issue] = [issue for issue in report["issues"] if issue["severity"] == "error"]
    assert (issue["record"], issue["line"], issue["field"], issue["code"]) == (2, 3, "first_names", "control_character")
    assert issue["message"] == "first_names contains a line break: Register would store it as it is"


@pytest.mark.parametrize(
    "args, said",
    [
        (
            ["validate", "x.xml", "-q"],
            "-q is an option of register-batch itself: give it before the command (register-batch -q validate ...)",
        ),
        (["sync", "x.xml", "--quiet"], "(register-batch --quiet sync ...)"),
        (["validate", "x.xml", "-vv"], "-v is an option of register-batch itself"),
        (["convert", "x.xml", "--config", "settings.toml"], "(register-batch --config FILE convert ...)"),
        (["mappings", "check", "-v"], "(register-batch -v mappings ...)"),
    ],
)
def test_a_global_option_after_the_command_says_to_give_it_before(args, said):
    """Click takes -q, -v and --config only before the command; after it, they were refused with 'No such option'
    and no word of why, and people write options after the command."""
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert said in result.output and "No such option" not in result.output


def test_an_unknown_option_is_still_no_such_option():
    result = CliRunner().invoke(cli, ["validate", "x.xml", "--quite"])
    assert result.exit_code == 2 and "No such option" in result.output and "itself" not in result.output
    version = CliRunner().invoke(cli, ["validate", "x.xml", "-V"])  # not a setting of the run: refused as before
    assert version.exit_code == 2 and "No such option '-V'" in version.output


@pytest.mark.parametrize("command", ["validate", "convert", "sync"])
@pytest.mark.parametrize("given", ["2026-02-29", "28/11/2026", "tomorrow"])
def test_an_as_of_that_is_no_date_is_a_usage_error_naming_it_before_anything_is_read(tmp_path, command, given):
    """--as-of fixes the day the rules judge by: a day that does not exist, or one written another way, is refused
    with the form it takes, not read as some other day (commands/common.py _as_of)."""
    extra = ["--to", "jsonl", "-o", str(tmp_path / "out.jsonl")] if command == "convert" else []
    result = CliRunner().invoke(cli, [command, str(tmp_path / "absent.xml"), "--as-of", given, *extra])
    assert result.exit_code == 2
    assert f"Invalid value for '--as-of': '{given}' is not a date like 2026-11-28" in result.output
    assert not (tmp_path / "out.jsonl").exists()


def test_an_unknown_command_is_a_usage_error_naming_it():
    result = CliRunner().invoke(cli, ["synk", "x.xml"])
    assert result.exit_code == 2
    assert "No such command 'synk'" in result.output


def test_a_command_whose_module_is_not_installed_is_neither_listed_nor_run(monkeypatch):
    """The commands beyond validate and convert are imported on first use, and only those installed are offered."""
    from register_batch import cli as cli_module

    monkeypatch.setitem(cli_module.LAZY_COMMANDS, "absent", "register_batch.commands.absent")
    assert " absent " not in CliRunner().invoke(cli, ["--help"]).output
    result = CliRunner().invoke(cli, ["absent"])
    assert result.exit_code == 2
    assert "No such command 'absent'" in result.output


def _convert_args(command: str, tmp_path: Path) -> list[str]:
    """What `command` needs besides its input: convert an output, sync (a dry run against the embedded emulator) its
    folders, validate its report folder (else a new one in the folder the tests run from)."""
    if command == "sync":
        return ["--dry-run", "--state-dir", str(tmp_path / "state"), "--report-dir", str(tmp_path / "sync-report")]
    if command == "convert":
        return ["--to", "jsonl", "-o", str(tmp_path / "out.jsonl")]
    return ["--report-dir", str(tmp_path / "validate-report")]


@pytest.mark.parametrize("command", ["validate", "convert"])
def test_as_of_is_the_day_the_date_rules_judge_by(tmp_path, register_csv_fixtures, command):
    """Five trainees who started in 2024 are valid as of 2026-11-28; as of 2020 their dates are in the future."""
    source = str(register_csv_fixtures / "five_trainees.csv")
    then = run(command, source, "--as-of", "2020-01-01", *_convert_args(command, tmp_path))
    assert then.exit_code == 1, then.output
    now = run(command, source, "--as-of", AS_OF, *_convert_args(command, tmp_path))
    assert now.exit_code == 0, now.output


@pytest.mark.parametrize("command", ["validate", "convert", "sync"])
@pytest.mark.parametrize(
    ("option", "said"),
    [
        (
            ["--ukprn", "123"],
            "error: ukprn '123' is not a UKPRN (8 digits starting with 1, e.g. 10052198) (set by --ukprn)",
        ),
        (
            ["--api-version", "v2025.0"],
            "error: API version 'v2025.0' is not supported; supported: v2026.1 (set by --api-version)",
        ),
    ],
)
def test_a_bad_ukprn_or_api_version_is_refused_with_exit_2_before_anything_is_written(
    tmp_path, register_csv_fixtures, command, option, said
):
    source = str(register_csv_fixtures / "five_trainees.csv")
    result = CliRunner().invoke(
        cli, [command, source, *option, "--report-dir", str(tmp_path / "r"), *_convert_args(command, tmp_path)]
    )
    assert (result.exit_code, result.output.splitlines()) == (2, [f"register-batch: {said}"])
    assert list(tmp_path.iterdir()) == []  # no report, no output, no state dir (sync: no embedded emulator started)


@pytest.mark.parametrize("command", ["validate", "convert", "sync"])
def test_format_reads_every_input_as_that_format(tmp_path, register_csv_fixtures, command):
    source = str(register_csv_fixtures / "five_trainees.csv")
    result = CliRunner().invoke(cli, [command, source, "--format", "hesa-xml", *_convert_args(command, tmp_path)])
    assert result.exit_code == 2
    # Read as XML, not as the CSV it is, which the refusal names (review117 F6).
    assert result.output.splitlines()[-1] == (
        f"register-batch: error: {source}, line 1: the file is a CSV (register-csv), not XML: give --format "
        "register-csv, or leave it out to have the format told from the file"
    )


@pytest.mark.parametrize("command", ["validate", "convert", "sync"])
def test_ukprn_makes_another_providers_records_errors(tmp_path, command):
    """Records of another provider than --ukprn's are errors; a sync of only such records sends nothing (exit 2)."""
    extract = tmp_path / "ours.xml"
    made = run("generate", "--count", "2", "--seed", "1", "--ukprn", "10007713", "--as-of", AS_OF, "-o", str(extract))
    assert made.exit_code == 0, made.output
    args = [command, str(extract), "--as-of", AS_OF, "--report-dir", str(tmp_path / "r")]
    args += _convert_args(command, tmp_path)[:-2] if command != "convert" else _convert_args(command, tmp_path)
    assert run(*args, "--ukprn", "10007713").exit_code == 0
    other = run(*args, "--ukprn", "10052198")
    if command == "sync":
        assert other.exit_code == 2
        assert other.output.splitlines()[-1].startswith(
            "register-batch: error: no record of the inputs is provider 10052198's, the UKPRN this run sends for: "
            "by F_UKPRN they are 10007713's."
        )
        return
    assert other.exit_code == 1
    issues = json.loads((tmp_path / "r" / "report.json").read_text())["issues"]
    errors = [(i["record"], i["code"]) for i in issues if i["severity"] == "error"]
    assert errors == [(1, "other_provider_record"), (2, "other_provider_record")]
    if command == "convert":  # and both left out: no output holds a UKPRN (review233 F1)
        assert [(i["record"], i["code"]) for i in issues if i["severity"] == "warning"] == [
            (1, "error_not_in_output"),
            (2, "error_not_in_output"),
        ]


@pytest.mark.parametrize("command", ["validate", "convert", "sync"])
def test_a_mapping_given_translates_the_srs_codes(tmp_path, register_csv_fixtures, command):
    """The first trainee's sex is the SRS's own `M`: an error until a --mapping translates it."""
    with open(register_csv_fixtures / "five_trainees.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    rows[0]["sex"] = "M"
    source = tmp_path / "ours.csv"
    with open(source, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    mapping = tmp_path / "ours.yaml"
    mapping.write_text("codes:\n  sex:\n    source: our SRS\n    translate:\n      M: '11'\n")
    args = [command, str(source), "--as-of", AS_OF, *_convert_args(command, tmp_path)]
    assert run(*args).exit_code == 1
    mapped = run(*args, "--mapping", str(mapping))
    assert mapped.exit_code == 0, mapped.output


def test_convert_of_clean_records_says_only_what_it_wrote(tmp_path, register_csv_fixtures):
    out = tmp_path / "out.jsonl"
    result = run("convert", str(register_csv_fixtures / "five_trainees.csv"), "--to", "jsonl", "-o", str(out))
    assert result.exit_code == 0
    assert (result.stdout, result.stderr) == (f"Wrote 5 records to {out}\n", "")


def test_quiet_convert_still_says_on_standard_error_what_to_act_on(tmp_path, register_csv_fixtures):
    """-q leaves out progress, not the lines a nightly job's owner must act on: records with errors, an upload they
    block, records that lost something in Register's CSV."""
    source = str(register_csv_fixtures / "five_trainees_with_three_errors.csv")
    up = tmp_path / "up.csv"
    errors = run("-q", "convert", source, "--to", "register-csv", "-o", str(up), "--as-of", AS_OF)
    assert errors.exit_code == 1
    assert errors.stdout == f"Wrote 5 records to {up}\n"
    assert errors.stderr.splitlines() == [
        f"5 of 5 records have errors; run `register-batch validate {source} --as-of {AS_OF}` for the report",
        "Register's upload adds none of a file's trainees while any of its rows fails: correct those records, or "
        "leave them out with --skip-invalid",
    ]
    notes = run(
        "-q",
        "convert",
        str(_two_degree_trainees(tmp_path / "two.csv", 21)),
        "--to",
        "register-csv",
        "-o",
        str(up),
        "--as-of",
        AS_OF,
    )
    said = [line for line in notes.stderr.splitlines() if line.startswith("note: ")]  # after the errors' lines
    assert len(said) == 21 and notes.stdout == f"Wrote 21 records to {up}\n"
    assert (
        said[-1] == "note: … and 1 more (--report-dir writes them all to the reports, as not_in_register_csv warnings)"
    )


def test_a_sync_into_the_embedded_emulator_stands_in_for_the_records_provider(tmp_path):
    """The embedded emulator's provider is whoever the records are of: a rehearsal syncs, then finds them there."""
    extract = tmp_path / "ours.xml"
    made = run("generate", "--count", "2", "--seed", "1", "--ukprn", "10007713", "--as-of", AS_OF, "-o", str(extract))
    assert made.exit_code == 0, made.output
    args = ["sync", str(extract), "--as-of", AS_OF, "--state-dir", str(tmp_path / "state")]
    first = run(*args, "--report-dir", str(tmp_path / "first"))
    assert first.exit_code == 0, first.output
    again = run(*args, "--report-dir", str(tmp_path / "again"))
    assert again.exit_code == 0, again.output
    assert json.loads((tmp_path / "again" / "report.json").read_text())["sync"]["actions"] == {"unchanged": 2}


@pytest.mark.parametrize("command", [["sync", "in.csv"], ["export", "--to", "json", "-o", "out.json"]])
def test_every_command_that_talks_to_register_takes_a_timeout_of_1_to_600_seconds_30_by_default(tmp_path, command):
    """--timeout is one option shared by sync and export: its range and default are the same for both, and a wait
    shorter than a second (which Register's slower answers would never meet) is refused before anything runs."""
    (tmp_path / "in.csv").write_text("hesa_id\n1\n")
    shown = CliRunner().invoke(cli, [command[0], "--help"], terminal_width=200)
    option = " ".join(shown.output.split()).split("--timeout FLOAT RANGE ")[1].split("]")[0]
    assert option.endswith("[default: 30.0; 1<=x<=600"), option
    for seconds in ("0.5", "601"):
        refused = CliRunner().invoke(cli, [*command, "--timeout", seconds], env={"HOME": str(tmp_path)})
        assert refused.exit_code == 2 and "Invalid value for '--timeout'" in refused.output, refused.output


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["validate", "{source}", "--report-dir", "{long}/reports"], "{long}/reports"),
        (["convert", "{source}", "--to", "json", "-o", "{long}.json"], "{long}.json"),
        (["sync", "{source}", "--dry-run", "--state-dir", "{long}"], "{long}"),
    ],
    ids=["report folder", "output", "state dir"],
)
def test_a_name_too_long_for_the_file_system_is_shown_by_its_start_and_end(tmp_path, monkeypatch, args, named):
    """A name past 255 bytes fills the terminal: its first 40 characters and last 30 say which one it is."""
    monkeypatch.chdir(tmp_path)
    source = str(tmp_path / "in.csv")
    # a header reading tells the format by: sync refuses an extract it cannot before it makes its state dir
    Path(source).write_text("provider_trainee_id,first_names,last_name\n", encoding="utf-8")
    long = "first-part-" + "x" * 300 + "-last-part"
    result = CliRunner().invoke(cli, [a.format(source=source, long=long) for a in args])
    assert result.exit_code == 2, result.output
    name = named.format(long=long)
    [line] = result.output.splitlines()
    assert line.startswith("register-batch: error: cannot ") and f" {name[:40]}…{name[-30:]}" in line, line
    assert "longer than this file system takes" in line and long not in line


@pytest.mark.parametrize("options", [["-q"], ["-vv"]], ids=["-q", "-vv"])
def test_a_command_run_in_process_gives_the_logging_levels_back(hesa_samples, monkeypatch, options):
    """A program that runs commands in its own process (a scheduler's worker, a notebook) kept the levels of the first
    one: after one `-q` run, every later run's retries stayed unlogged; after one `-vv`, every request was logged, and
    the first run's standard error kept every later run's log."""
    import logging

    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # a program that set no logging up: pytest's own aside
    names = ["", "stamina", "httpx", "register_batch.api.retries"]
    before = {name: logging.getLogger(name or None).level for name in names}
    handlers = list(logging.getLogger().handlers)
    sample = str(hesa_samples / "itt_record_C23053.xml")
    result = CliRunner().invoke(cli, [*options, "validate", sample])
    assert result.exit_code in (0, 1), result.output
    assert {name: logging.getLogger(name or None).level for name in names} == before
    assert logging.getLogger().handlers == handlers


@pytest.mark.parametrize("flags", [("-q", "-vv"), ("-vv", "-q")], ids=["quiet-ends-first", "verbose-ends-first"])
def test_the_first_of_two_overlapping_commands_to_end_leaves_the_other_its_logging(
    hesa_samples, monkeypatch, tmp_path, flags
):
    """Two runs in one process (threads of a scheduler's worker): the one that ends first gives nothing back while the
    other still runs, which keeps its levels and its log on standard error; the last to end gives back all. (The
    second gave back the first one's levels: root, stamina and httpx stayed at DEBUG after a -vv run had ended.)"""
    import contextlib
    import logging

    monkeypatch.chdir(tmp_path)  # each run's report folder
    monkeypatch.setattr(logging.getLogger(), "handlers", [])  # a program that set no logging up: pytest's own aside
    names = ["", "stamina", "httpx", "register_batch.api.retries"]
    before = {name: logging.getLogger(name or None).level for name in names}
    sample = str(hesa_samples / "itt_record_C23053.xml")
    first = cli.make_context("register-batch", [flags[0], "validate", sample])
    second = cli.make_context("register-batch", [flags[1], "validate", sample])
    try:
        first.__enter__()
        with contextlib.suppress(SystemExit):  # validate ends with sys.exit(its exit code)
            cli.invoke(first)
        second.__enter__()
        with contextlib.suppress(SystemExit):
            cli.invoke(second)
        running = ({name: logging.getLogger(name or None).level for name in names}, list(logging.getLogger().handlers))
        assert running[1], "a run logs to standard error through a handler of its own"
        first.__exit__(None, None, None)  # the first run ends while the second still runs
        assert (
            {name: logging.getLogger(name or None).level for name in names},
            logging.getLogger().handlers,
        ) == running
        second.__exit__(None, None, None)
        assert {name: logging.getLogger(name or None).level for name in names} == before
        assert logging.getLogger().handlers == []
    finally:  # the later tests' logging as it was
        for name, level in before.items():
            logging.getLogger(name or None).setLevel(level)


@pytest.mark.parametrize(
    "option", ["--report-dir", "-o of convert", "-o of generate", "--truth", "--config", "--mapping"]
)
def test_a_literal_tilde_in_every_path_option_is_the_home_folder(tmp_path, monkeypatch, register_csv_fixtures, option):
    """`--report-dir '~/rv'` (quoted in a script, or from systemd's ExecStart=, which runs no shell) made a folder
    named `~` in the current folder, while `~` in the settings was the home folder (review31 F7)."""
    home, here = tmp_path / "home", tmp_path / "here"
    home.mkdir()
    here.mkdir()
    monkeypatch.chdir(here)
    source = str(register_csv_fixtures / "five_trainees.csv")
    (home / "rb.toml").write_text('rate = "7/60"\n')
    (home / "m.yaml").write_text("codes:\n  sex:\n    source: our SRS\n    translate:\n      M: '11'\n")
    args, made = {
        "--report-dir": (["validate", source, "--report-dir", "~/rv"], home / "rv" / "report.json"),
        "-o of convert": (["convert", source, "--to", "jsonl", "-o", "~/o.jsonl"], home / "o.jsonl"),
        "-o of generate": (["generate", "--count", "1", "-o", "~/g.xml"], home / "g.xml"),
        "--truth": (
            ["generate", "--count", "1", "-o", "g.xml", "--defects", "1", "--truth", "~/t.json"],
            home / "t.json",
        ),
        "--config": (["--config", "~/rb.toml", "config", "show"], None),
        "--mapping": (["validate", source, "--mapping", "~/m.yaml", "--report-dir", "rv"], here / "rv" / "report.json"),
    }[option]
    result = CliRunner().invoke(cli, args, env={"HOME": str(home), "USERPROFILE": str(home)})
    assert "~" not in [p.name for p in here.iterdir()]
    assert result.exit_code in (0, 1), result.output
    if made is not None:
        assert made.is_file()
    else:
        assert "7/60" in result.output
    if option == "--mapping":
        assert json.loads(made.read_text())["mappings"][-1]["path"] == str(home / "m.yaml")


@pytest.mark.skipif(os.name == "nt", reason="Windows has no HOME to leave empty")
def test_a_literal_tilde_with_no_home_known_is_refused_not_the_root_folder(tmp_path, monkeypatch):
    """`HOME=` makes Python's `~/x` the root's `/x`: reports of personal data there, or a folder `~` here."""
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["generate", "--count", "1", "-o", "~/g.xml"], env={"HOME": ""})
    assert result.exit_code == 2
    assert (
        "Invalid value for '-o' / '--output': ~/g.xml: ~ is the home folder, and none is known for this user (no "
        "$HOME, or an empty one): give the full path"
    ) in result.output
    assert list(tmp_path.iterdir()) == []


def test_log_lines_are_stamped_in_utc_whatever_tz_the_job_runs_under(monkeypatch):
    """review60 F3: a cron log under TZ=Pacific/Chatham mixed local log stamps with "after 16:33 UTC" hints: the
    log lines are stamped in UTC, marked Z, as the progress lines and the report folders' names are."""
    import logging
    import time

    from register_batch.cli import _OneLine

    monkeypatch.setenv("TZ", "Pacific/Chatham")
    time.tzset()
    try:
        record = logging.LogRecord("register_batch", logging.WARNING, __file__, 1, "a warning", None, None)
        record.created, record.msecs = 1796401448.25, 250.0  # 2026-12-04 16:24:08.25 UTC; 06:09 next day in Chatham
        line = _OneLine("%(asctime)s %(levelname)s: %(message)s").format(record)
        # ISO 8601 with its date, as the progress lines are stamped: one form in a cron log (review157 F4); with its
        # milliseconds, which that form lost, and which a nightly job's operator matches a server's log lines by
        assert line == "2026-12-04T16:24:08.250Z WARNING: a warning"
    finally:
        monkeypatch.undo()
        time.tzset()


@pytest.mark.parametrize(
    "command",
    [["reference", "show"], ["reference", "pull"], ["reference", "diff"], ["mappings", "check"]],
    ids=" ".join,
)
@pytest.mark.parametrize(
    ("given", "set_by"),
    [("option", "--api-version"), ("environment", "$REGISTER_BATCH_API_VERSION"), ("file", "register-batch.toml")],
)
def test_the_reference_and_mappings_commands_say_where_a_refused_api_version_was_set(
    tmp_path, monkeypatch, command, given, set_by
):
    """As validate, convert, sync and export do (review138 F1): a user with the value in the environment and a
    settings file does not guess which one was read. `reference diff` on a state dir with nothing pulled names the
    version, not `run reference pull first` (the pull would then be refused for it)."""
    monkeypatch.chdir(tmp_path)
    state = tmp_path / "state"
    args = [*command, *(["--state-dir", str(state)] if command[0] == "reference" and command[1] != "show" else [])]
    if given == "option":
        args += ["--api-version", "v2025.0"]
    elif given == "environment":
        monkeypatch.setenv("REGISTER_BATCH_API_VERSION", "v2025.0")
    else:
        (tmp_path / "register-batch.toml").write_text('api_version = "v2025.0"\n')
    result = CliRunner().invoke(cli, args)
    assert (result.exit_code, result.output.splitlines()) == (
        2,
        [f"register-batch: error: API version 'v2025.0' is not supported; supported: v2026.1 (set by {set_by})"],
    )
    assert not state.exists()  # nothing pulled, no embedded emulator started
