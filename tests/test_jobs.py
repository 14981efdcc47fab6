"""The offline jobs as a library caller uses them: arguments checked up front, results readable afterwards."""

from __future__ import annotations

import csv
import dataclasses
import errno
import itertools
import json
from datetime import date, datetime
from pathlib import Path

import pytest

from register_batch.errors import ConfigError, RegisterBatchError, UnusableInput, UnwritableOutput
from register_batch.jobs import convert_files, validate_files
from register_batch.reports import REPORT_FILES
from register_batch.sync import SyncOptions
from register_batch.validation import Checker

SAMPLES = Path(__file__).parent.parent / "samples"
# The bundled lists' snapshot (SOURCES.txt), which report.json names (review210 F7).
BUNDLED_LISTS = {"date": "2026-08-22", "commit": "ce1126541c2107c9fbfce47b18c794b0973aaac1"}
AS_OF = date(2026, 11, 28)


@pytest.mark.parametrize("given", [str(SAMPLES / "extract.csv"), SAMPLES / "extract.csv"])
def test_one_path_given_bare_is_a_config_error_not_read_letter_by_letter(tmp_path, given):
    """`validate_files("extract.csv")` read the string as paths "e", "x", ... (or "/": "is a directory")."""
    with pytest.raises(ConfigError, match="list of paths"):
        validate_files(given, as_of=AS_OF, report_dir=tmp_path / "reports")
    with pytest.raises(ConfigError, match="list of paths"):
        convert_files(given, to="jsonl", output=tmp_path / "out.jsonl", as_of=AS_OF)
    with pytest.raises(ConfigError, match="list of paths"), Checker(as_of=AS_OF) as checker:
        list(checker.records(given))
    assert not (tmp_path / "reports").exists() and not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("to", ["jsonl", "json", "register-csv"])
@pytest.mark.parametrize("named", ["itself", "another name"])
def test_convert_refuses_to_write_over_its_own_input(tmp_path, to, named):
    """`convert extract.xml -o extract.xml` replaced the extract with its conversion (the output is put in place by
    a rename): the provider's only copy of an extract was gone. Refused before any record is read. (The extract's
    name has no ending: `extract.xml` is refused first as a name that says XML, for each of these formats.)"""
    extract = tmp_path / "extract"
    extract.write_bytes((SAMPLES / "extract.xml").read_bytes())
    output = extract if named == "itself" else tmp_path / "sub" / ".." / "extract"
    (tmp_path / "sub").mkdir()
    with pytest.raises(UnwritableOutput, match=r"that is the input .*extract, which the output would replace"):
        convert_files([extract], to=to, output=output, as_of=AS_OF)
    assert extract.read_bytes() == (SAMPLES / "extract.xml").read_bytes()


def test_a_mapping_file_is_an_input_no_output_or_report_may_replace(tmp_path):
    ours = tmp_path / "ours.yaml"
    ours.write_text("version: 1\n", encoding="utf-8")
    sample = SAMPLES / "extract.xml"
    with pytest.raises(UnwritableOutput, match=r"that is the input .*ours\.yaml, which the output would replace"):
        convert_files([sample], to="jsonl", output=ours, mapping_files=[ours], as_of=AS_OF)
    kept = tmp_path / "report.json"
    kept.write_text("version: 1\n", encoding="utf-8")
    with pytest.raises(UnwritableOutput, match=r"input .*report\.json, .*: give the reports another folder"):
        validate_files([sample], mapping_files=[kept], as_of=AS_OF, report_dir=tmp_path)
    assert ours.read_text(encoding="utf-8") == kept.read_text(encoding="utf-8") == "version: 1\n"


def test_convert_to_register_csv_refuses_an_output_that_would_go_on_in_an_input(tmp_path):
    """A Register CSV too long for one file goes on in OUT-2.csv, OUT-3.csv, ...: an input of such a name would be
    replaced by a part. JSON is one file, so the same names are fine there (named with no ending, which says no
    format)."""
    extract = tmp_path / "held-12.csv"
    extract.write_bytes((SAMPLES / "extract.csv").read_bytes())
    with pytest.raises(UnwritableOutput, match=r"goes on in held-12\.csv, which is the input .*held-12\.csv"):
        convert_files([extract], to="register-csv", output=tmp_path / "held.csv", as_of=AS_OF)
    assert not (tmp_path / "held.csv").exists()
    for harmless in ("held-1.csv", "held-02.csv", "held-2.tsv"):  # no part is named so
        extract = extract.rename(tmp_path / harmless)
        convert_files([extract], to="register-csv", output=tmp_path / "held.csv", as_of=AS_OF)
    extract = extract.rename(tmp_path / "held-2")
    with pytest.raises(UnwritableOutput, match=r"goes on in held-2, which is the input .*held-2"):
        convert_files([extract], to="register-csv", output=tmp_path / "held", as_of=AS_OF)
    convert_files([extract], to="jsonl", output=tmp_path / "held", as_of=AS_OF)


@pytest.mark.parametrize("job", ["validate", "convert"])
def test_a_report_folder_holding_an_input_under_a_reports_name_is_refused(tmp_path, job):
    """An input kept as reports/issues.csv was replaced by the issues of its own check."""
    (tmp_path / "reports").mkdir()
    extract = tmp_path / "reports" / "issues.csv"
    extract.write_bytes((SAMPLES / "extract.csv").read_bytes())
    with pytest.raises(UnwritableOutput, match=r"is the input .*issues\.csv, .*: give the reports another folder"):
        if job == "validate":
            validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "reports")
        else:
            convert_files([extract], to="jsonl", output=tmp_path / "out.jsonl", report_dir=tmp_path / "reports")
    assert extract.read_bytes() == (SAMPLES / "extract.csv").read_bytes()
    assert not (tmp_path / "out.jsonl").exists()
    validate_files([extract], as_of=AS_OF, report_dir=tmp_path / "elsewhere", junit=True)
    assert {path.name for path in (tmp_path / "elsewhere").iterdir()} <= set(REPORT_FILES)


@pytest.mark.parametrize(
    ("to", "output", "report_dir"),
    [
        ("json", "reports/report.json", "reports"),  # the report replaced the bodies it said it wrote
        ("register-csv", "reports/results.csv", "reports"),  # removed as an earlier sync's results
        ("register-csv", "new/issues.csv", "new"),  # a folder not made yet
        ("jsonl", "reports/sub/../report.html", "reports"),  # by another name, through a folder not made yet
    ],
)
def test_a_convert_output_under_a_reports_name_in_the_report_folder_is_refused(tmp_path, to, output, report_dir):
    """`convert -o reports/report.json --report-dir reports` said "Wrote 12 records to reports/report.json" and
    left the report there instead of them."""
    (tmp_path / "reports").mkdir()
    with pytest.raises(UnwritableOutput, match=r"the run's \w+\.\w+ is written in that folder: name another file"):
        convert_files([SAMPLES / "extract.xml"], to=to, output=tmp_path / output, report_dir=tmp_path / report_dir)
    assert not (tmp_path / report_dir / Path(output).name).exists()
    elsewhere = convert_files([SAMPLES / "extract.xml"], to=to, output=tmp_path / output, report_dir=tmp_path / "r")
    assert elsewhere.written == 12 and (tmp_path / output).exists()


@pytest.mark.parametrize(
    ("output", "report_dir"),
    [
        ("rd", "rd"),  # the report folder itself
        ("o3", "o3/reports"),  # a folder it is in, neither made yet
        ("o4", "o4/sub/../reports"),  # by another name
    ],
)
def test_a_convert_output_named_as_the_report_folder_or_one_it_is_in_is_refused_before_any_work(
    tmp_path, output, report_dir
):
    """review124 F2: `convert -o rd --report-dir rd` wrote the reports into the folder rd, then failed "cannot write
    rd: Is a directory", naming a folder the run itself had made a moment before."""
    with pytest.raises(UnwritableOutput, match=r"it is the report folder, or a folder it is in: name another file"):
        convert_files([SAMPLES / "extract.xml"], to="jsonl", output=tmp_path / output, report_dir=tmp_path / report_dir)
    assert not (tmp_path / output).exists()  # nothing written, no folder made
    elsewhere = convert_files(
        [SAMPLES / "extract.xml"], to="jsonl", output=tmp_path / output, report_dir=tmp_path / "r"
    )
    assert elsewhere.written == 12 and (tmp_path / output).is_file()


def test_a_file_given_twice_is_a_config_error_not_every_record_a_duplicate(tmp_path):
    """`sync *.xml extract.xml` read one file twice: each record came back a duplicate of itself, two errors each."""
    sample = str(SAMPLES / "extract.xml")
    with pytest.raises(ConfigError, match=r"extract\.xml is given twice: each of its records would be a duplicate"):
        validate_files([sample, sample], as_of=AS_OF, report_dir=tmp_path / "reports")
    (tmp_path / "link.xml").symlink_to(sample)
    with (
        pytest.raises(ConfigError, match=r"link\.xml is given twice \(also as .*extract\.xml\)") as caught,
        Checker(as_of=AS_OF) as checker,
    ):
        list(checker.records([sample, tmp_path / "link.xml"]))
    assert "Traceback" not in str(caught.value)
    assert not (tmp_path / "reports").exists()
    copy = tmp_path / "copy.xml"  # another file with the same records is not this mistake: duplicates say so
    copy.write_bytes(Path(sample).read_bytes())
    result = validate_files([sample, str(copy)], as_of=AS_OF, report_dir=tmp_path / "reports")
    assert result.report.summary.records == 24


def test_a_copy_of_an_input_beside_it_is_named_once_as_the_cause_of_its_duplicates(tmp_path):
    """`validate extract.xml "extract (1).xml"`: every record of the copy is a duplicate; one line says why."""
    import json

    sample = SAMPLES / "extract.xml"
    copy = tmp_path / "extract (1).xml"
    copy.write_bytes(sample.read_bytes())
    validate_files([str(sample), str(copy)], as_of=AS_OF, report_dir=tmp_path / "reports")
    report = json.loads((tmp_path / "reports" / "report.json").read_text(encoding="utf-8"))
    [same] = [issue for issue in report["issues"] if issue["code"] == "same_content"]
    assert same["input"] == str(copy) and same["record"] is None and same["severity"] == "warning"
    digest = report["inputs"][0]["sha256"]
    assert same["message"] == (
        f"{copy} has the same content as {sample} (SHA-256 {digest[:12]}…): each of its records is there too, and "
        "is reported a duplicate of itself"
    )
    assert {i["code"] for i in report["issues"] if i["input"] == str(copy) and i["record"]} >= {"duplicate_hesa_id"}


def test_finish_inputs_names_a_copy_once_however_often_it_is_asked(tmp_path):
    """`Checker.finish_inputs()` gives each input its warnings once it has been read to its end: asked part-way (the
    copy not read yet), at the end, and again, the copy is named once."""
    copy = tmp_path / "copy.xml"
    copy.write_bytes((SAMPLES / "extract.xml").read_bytes())
    with Checker(as_of=AS_OF) as checker:
        walk = checker.records([str(SAMPLES / "extract.xml"), str(copy)])
        assert [record.source.input for record in itertools.islice(walk, 13)][-1] == str(copy)
        assert [info.issues for info in checker.finish_inputs()] == [[], []]
        assert len(list(walk)) == 11
        checker.finish_inputs()
        again = checker.finish_inputs()
    assert [[issue.code for issue in info.issues] for info in again] == [[], ["same_content"]]


def test_an_unknown_format_is_a_config_error_naming_the_formats(tmp_path):
    """It was an UnusableInput naming the format as if it were a file ("xml: unknown format")."""
    with pytest.raises(ConfigError, match="hesa-xml, hesa-csv, register-csv") as caught:
        validate_files([str(SAMPLES / "extract.xml")], fmt="xml", as_of=AS_OF, report_dir=tmp_path / "reports")
    assert "'xml'" in str(caught.value)


def test_the_issues_of_a_finished_run_are_a_clear_error_pointing_at_the_report_files(tmp_path):
    """The run's spool is closed when validate_files returns: `report.issues()` raised a bare ValueError."""
    result = validate_files([str(SAMPLES / "defects.xml")], as_of=AS_OF, report_dir=tmp_path / "reports")
    assert result.report.summary.errors > 0
    with pytest.raises(RegisterBatchError, match=r"report\.json") as caught:
        next(result.report.issues())
    assert not isinstance(caught.value, ValueError)


def run_job(job: str, inputs: list[str], tmp_path: Path) -> None:
    """`validate` (in one process) or `convert` the inputs, with their reports or output in tmp_path."""
    if job == "validate":
        validate_files(inputs, as_of=AS_OF, report_dir=tmp_path / "reports", jobs=1)
    else:
        convert_files(inputs, to="jsonl", output=tmp_path / "out.jsonl", as_of=AS_OF)


@pytest.mark.parametrize("job", ["validate", "convert"])
def test_an_unusable_input_leaves_no_file_open(tmp_path, unclosed_files, job):
    """A nightly job that meets an extract still being written, night after night in one process: the run's spools
    (the duplicate finder's, the report's) were left for the garbage collector, one file handle per night."""
    cut_short = tmp_path / "cut-short.xml"
    cut_short.write_text('<?xml version="1.0"?><ITTRecord><Provider><Student>', encoding="utf-8")
    inputs = [str(SAMPLES / "extract.xml"), str(cut_short)]
    try:
        run_job(job, inputs, tmp_path)
    except UnusableInput as exc:
        assert "cut-short.xml" in str(exc)
    else:
        pytest.fail("the cut-short extract was read")
    assert unclosed_files() == []


@pytest.mark.parametrize(("job", "made"), [("validate", 1), ("convert", 1), ("convert", 2)])
def test_a_spool_refused_at_the_open_file_limit_leaves_none_of_the_runs_files_open(
    tmp_path, unclosed_files, temporary_files_limited, job, made
):
    """A long-running caller at its limit of open files: the duplicate finder's spool was made, then the report's
    (or convert's spool of records) refused, and the spools made before it were left for the garbage collector."""
    inputs = [str(SAMPLES / "extract.xml")]
    temporary_files_limited(made)
    try:
        run_job(job, inputs, tmp_path)
    except OSError as exc:
        assert exc.errno == errno.EMFILE
    else:
        pytest.fail("no temporary file was refused")
    assert unclosed_files() == []


def test_a_checker_used_as_a_context_manager_closes_its_spool_when_left_early(unclosed_files):
    """Walking the first records only (a preview) and never asking for the batch-wide issues left the duplicate
    finder's temporary file open."""
    with Checker(as_of=AS_OF) as checker:
        first = next(iter(checker.records([str(SAMPLES / "extract.xml")])))
    assert first.source.record == 1
    del checker
    assert unclosed_files() == []


def test_a_checker_whose_batch_issues_are_read_to_the_end_leaves_no_file_open(tmp_path, unclosed_files):
    """A library caller that walks every record and reads the batch-wide issues to their end, without a with-block:
    the duplicate finder's temporary file is freed then, not left for the garbage collector."""
    checker = Checker(as_of=AS_OF)
    copy = tmp_path / "copy.xml"  # the extract twice: every record has a duplicate
    copy.write_bytes((SAMPLES / "extract.xml").read_bytes())
    paths = [str(SAMPLES / "extract.xml"), str(copy)]
    assert len(list(checker.records(paths))) == 24
    assert "duplicate_hesa_id" in {issue.code for _index, issue in checker.batch_issues()}
    del checker
    assert unclosed_files() == []


@pytest.mark.parametrize("given", ["ours.yaml", Path("ours.yaml")])
def test_one_mapping_file_given_bare_is_a_config_error(tmp_path, given):
    """`mapping_files=Path("ours.yaml")` ended in a bare TypeError from inside the package, and the string was read
    letter by letter ("o: cannot read mapping file")."""
    with pytest.raises(ConfigError, match="list of paths"):
        validate_files([str(SAMPLES / "extract.xml")], mapping_files=given, as_of=AS_OF, report_dir=tmp_path / "r")
    with pytest.raises(ConfigError, match="list of paths"):
        SyncOptions("sandbox", None, state_dir=tmp_path / "s", report_dir=tmp_path / "r", mapping_files=given)


@pytest.mark.parametrize("as_of", ["2026-11-28", 20261128])
def test_an_as_of_that_is_not_a_date_is_a_config_error(tmp_path, as_of):
    """A library caller's `as_of="2026-11-28"` ended in "AttributeError: 'str' object has no attribute 'year'" from
    inside a rule; generate's in one about 'month'."""
    from register_batch.generate import generate

    source = [str(SAMPLES / "extract.xml")]
    for call in (
        lambda: validate_files(source, as_of=as_of, report_dir=tmp_path / "r"),
        lambda: convert_files(source, to="jsonl", output=tmp_path / "b.jsonl", as_of=as_of),
        lambda: list(Checker(as_of=as_of).records(source)),
        lambda: SyncOptions("sandbox", None, state_dir=tmp_path / "s", report_dir=tmp_path / "r", as_of=as_of),
        lambda: generate(tmp_path / "g.xml", count=2, as_of=as_of),
    ):
        with pytest.raises(ConfigError) as caught:
            call()
        assert str(caught.value) == f"as_of must be a date, such as datetime.date(2026, 11, 28), not {as_of!r}"
    assert not (tmp_path / "b.jsonl").exists() and not (tmp_path / "g.xml").exists()


def test_an_as_of_given_as_a_datetime_is_its_date(tmp_path):
    """`as_of=datetime.now()` type-checks (a datetime is a date), and ended in "TypeError: can't compare
    datetime.datetime to datetime.date" from inside a rule."""
    from register_batch.generate import generate

    source = [str(SAMPLES / "defects.xml")]
    afternoon = datetime(2026, 11, 28, 14, 30)
    assert (
        validate_files(source, as_of=afternoon, report_dir=tmp_path / "by-time").report.summary
        == validate_files(source, as_of=AS_OF, report_dir=tmp_path / "by-date").report.summary
    )
    with Checker(as_of=afternoon) as checker:
        assert checker.as_of == AS_OF and all(record.issues is not None for record in checker.records(source))
    options = SyncOptions("sandbox", None, state_dir=tmp_path / "s", report_dir=tmp_path / "r", as_of=afternoon)
    assert options.as_of == AS_OF and type(options.as_of) is date
    assert generate(tmp_path / "g.xml", count=2, seed=1, as_of=afternoon).as_of == AS_OF


@pytest.mark.parametrize("rate", [(0, 60.0), (5, 0), (5, -1.0), (5, float("inf")), (5, float("nan")), "95/60", (95,)])
def test_a_sync_rate_that_allows_no_request_is_a_config_error(tmp_path, rate):
    """`SyncOptions(rate=(0, 60))` ended in a bare ValueError from the rate limiter, once the extract was read."""
    with pytest.raises(ConfigError, match=r"must allow at least 1 request in a positive number of seconds"):
        SyncOptions("sandbox", None, state_dir=tmp_path / "s", report_dir=tmp_path / "r", rate=rate)


def test_the_reports_record_the_mapping_files_and_code_lists_the_records_were_judged_with(tmp_path):
    """A migration lead's audit trail: which translations a run applied, by content, not only by name."""
    import hashlib
    import json

    import lxml.html

    mapping = tmp_path / "our-srs.yaml"
    mapping.write_text('codes:\n  sex:\n    source: our SRS\n    translate:\n      M: "11"\n', encoding="utf-8")
    sample = [str(SAMPLES / "extract.xml")]
    validate_files(sample, as_of=AS_OF, report_dir=tmp_path / "mapped", mapping_files=[mapping])
    convert_files(sample, to="jsonl", output=tmp_path / "out.jsonl", as_of=AS_OF, report_dir=tmp_path / "plain")
    mapped = json.loads((tmp_path / "mapped" / "report.json").read_text(encoding="utf-8"))
    digest = hashlib.sha256(mapping.read_bytes()).hexdigest()
    assert mapped["mappings"] == [{"path": str(mapping), "sha256": digest}]
    bundled = {"source": "bundled v2026.1", "sha256": None, "pulled_at": None, "bundled": BUNDLED_LISTS}
    assert mapped["reference"] == bundled
    plain = json.loads((tmp_path / "plain" / "report.json").read_text(encoding="utf-8"))
    assert plain["mappings"] == [] and plain["reference"] == bundled

    def settings(folder: str) -> dict[str, str]:
        page = lxml.html.parse(str(tmp_path / folder / "report.html")).getroot()
        return {
            " ".join(dt.text_content().split()): " ".join(dt.getnext().text_content().split())
            for dt in page.get_element_by_id("about").iter("dt")
        }

    assert settings("mapped")["Mapping files"] == f"{mapping} {digest} over the bundled ones"
    assert settings("mapped")["Code lists"] == "bundled v2026.1; Register's lists of 2026-08-22 (DfE commit ce1126541)"
    assert settings("plain")["Mapping files"] == "the bundled ones only"


def test_a_pulled_reference_file_that_never_ends_is_refused(tmp_path):
    """A library caller's `reference_path` (the command line's is the state dir's pulled file) was read whole into
    memory: a device that never ends, or the extract given in its place, grew the process until it was killed. Run in
    a child with 1 GB of address space, so that reading on would fail at once, not take the machine's memory."""
    import resource
    import subprocess
    import sys

    script = (
        "import sys\n"
        "from datetime import date\n"
        "from register_batch.errors import ConfigError\n"
        "from register_batch.jobs import validate_files\n"
        "try:\n"
        f"    validate_files([{str(SAMPLES / 'extract.xml')!r}], as_of=date(2026, 11, 28),\n"
        f"                   report_dir={str(tmp_path / 'r')!r}, reference_path='/dev/zero')\n"
        "except ConfigError as error:\n"
        "    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30)),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("/dev/zero: cannot read pulled reference data (over 64 MB, more than a "), done.stdout
    assert not (tmp_path / "r").exists()


def test_the_reports_record_pulled_code_lists_by_content(tmp_path):
    """`reference pull` saves Register's lists in the state dir; a later pull may change them under the same name."""
    import hashlib
    import json
    import shutil

    from register_batch.reference import DATA_DIR

    pulled = tmp_path / "reference-data.json"
    shutil.copyfile(DATA_DIR / "v2026.1" / "index.json", pulled)
    validate_files([str(SAMPLES / "extract.xml")], as_of=AS_OF, report_dir=tmp_path / "r", reference_path=pulled)
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert report["reference"] == {
        "source": f"pulled {pulled}",
        "sha256": hashlib.sha256(pulled.read_bytes()).hexdigest(),
        "pulled_at": None,  # a file that does not say when
        "bundled": BUNDLED_LISTS,
    }


WITHDRAWAL = {
    "withdrawal_date": "2026-10-01",
    "withdrawal_reasons": "record_added_in_error",
    "withdrawal_trigger": "provider",
    "withdrawal_future_interest": "no",
}


def leaving_extract(tmp_path: Path) -> Path:
    """Three trainees: one staying, one withdrawn, one deferred."""
    from trainee_extracts import trainee, write_extract

    rows = [trainee(1), {**trainee(2), **WITHDRAWAL}, {**trainee(3), "defer_date": "2026-10-01"}]
    return write_extract(tmp_path / "leaving.csv", rows)


@pytest.mark.parametrize("to", ["jsonl", "json"])
def test_convert_to_json_keeps_each_records_source_and_its_withdrawal_or_deferral(tmp_path, to):
    import json

    source = leaving_extract(tmp_path)
    result = convert_files([str(source)], to=to, output=tmp_path / f"out.{to}", as_of=AS_OF)
    assert (result.written, result.skipped, result.notes, result.exit_code) == (3, 0, [], 0)
    text = (tmp_path / f"out.{to}").read_text(encoding="utf-8")
    items = [json.loads(line) for line in text.splitlines()] if to == "jsonl" else json.loads(text)
    assert [item["source"] for item in items] == [{"input": str(source), "record": n, "line": n + 1} for n in (1, 2, 3)]
    assert [item["data"]["provider_trainee_id"] for item in items] == ["SRS-00001", "SRS-00002", "SRS-00003"]
    assert [sorted(item) for item in items] == [
        ["data", "source"],
        ["data", "source", "withdrawal"],
        ["data", "deferral", "source"],
    ]
    assert items[1]["withdrawal"] == {
        "withdrawal_date": "2026-10-01",
        "reasons": ["record_added_in_error"],
        "trigger": "provider",
        "future_interest": "no",
    }
    assert items[2]["deferral"] == {"defer_date": "2026-10-01"}


def test_convert_to_register_csv_says_which_records_withdrawal_or_deferral_it_leaves_out(tmp_path):
    source = leaving_extract(tmp_path)
    result = convert_files(
        [str(source)], to="register-csv", output=tmp_path / "out.csv", as_of=AS_OF, report_dir=tmp_path / "r"
    )
    assert (result.written, result.skipped, result.exit_code) == (3, 0, 0)
    report = json.loads((tmp_path / "r" / "report.json").read_text(encoding="utf-8"))
    assert [(i["code"], i["record"]) for i in report["issues"] if i["code"] == "not_in_register_csv"] == [
        ("not_in_register_csv", 2),
        ("not_in_register_csv", 3),
    ]
    with (tmp_path / "out.csv").open(encoding="utf-8", newline="") as fh:  # Register's CSV template, one row each
        assert [row["provider_trainee_id"] for row in csv.DictReader(fh)] == ["SRS-00001", "SRS-00002", "SRS-00003"]
    assert [
        (index, n.code, n.severity.value, n.input, n.record, n.line, n.provider_trainee_id, n.hesa_id)
        for index, n in result.notes
    ] == [
        (1, "not_in_register_csv", "warning", str(source), 2, 3, "SRS-00002", "2510000000002"),
        (2, "not_in_register_csv", "warning", str(source), 3, 4, "SRS-00003", "2510000000003"),
    ]
    assert [n.message.split(":")[0] for _, n in result.notes] == [
        "the withdrawal left out",
        "the deferral left out",
    ]
    assert result.notes[0][1].message == (  # one withdrawal: "it", not "them" (vendor walk)
        "the withdrawal left out: Register's CSV template has no columns for it (sync sends it, and jsonl keeps it)"
    )


def test_convert_to_register_csv_says_which_subjects_it_writes_blank_for_want_of_a_column(tmp_path):
    """review44 F3: an input with no course_subject_2/3 columns says nothing of them (a sync of it leaves Register's);
    Register's CSV has a column for each, so written blank they say the course has none, which a sync of the CSV
    clears. The note says so, for the records with a subject 1; an input with the columns gets none."""
    from trainee_extracts import trainee, without_columns, write_extract

    cut = without_columns(
        write_extract(tmp_path / "cut.csv", [trainee(1), {**trainee(2), "course_subject_1": ""}]),
        "course_subject_2",
        "course_subject_3",
    )
    result = convert_files([str(cut)], to="register-csv", output=tmp_path / "out.csv", as_of=AS_OF)
    assert [(index, note.code, note.field, note.message) for index, note in result.notes] == [
        (
            0,
            "not_in_register_csv",
            None,
            "course_subject_2 and course_subject_3 written blank: a sync of this CSV takes a blank beside "
            "course_subject_1 for no such subject, and clears one Register holds, where a sync of the input leaves it "
            "(the input has no column for it, or its course_subject_1 is a legacy code translated)",
        )
    ]
    whole = write_extract(tmp_path / "whole.csv", [trainee(1)])
    assert convert_files([str(whole)], to="register-csv", output=tmp_path / "whole-out.csv", as_of=AS_OF).notes == []


def test_convert_to_register_csv_says_once_per_input_which_initiatives_it_writes_blank_for_want_of_a_tag(tmp_path):
    """review202 F3: Students without the F_INITIATIVES1/2 tags say nothing of them (a sync of the input leaves
    Register's, unless the SRS gave one when last synced); Register's CSV has a column for each, so written blank
    they say the trainee has none, which a sync of the CSV clears. The note says so once for the input, on its first
    such record, with how many more; Students with the tags (NULL included) get none, nor does an input with them."""
    import re

    text = (SAMPLES / "extract.xml").read_text(encoding="utf-8")
    students = text.split("<Student>")
    assert len(students) == 13
    # Every Student without F_INITIATIVES2; the 3rd, 5th and 6th without F_INITIATIVES1 too.
    students = [re.sub(r"\s*<F_INITIATIVES2>[^<]*</F_INITIATIVES2>", "", s) for s in students]
    for n in (3, 5, 6):
        students[n] = re.sub(r"\s*<F_INITIATIVES1>[^<]*</F_INITIATIVES1>", "", students[n])
    cut = tmp_path / "cut.xml"
    cut.write_text("<Student>".join(students), encoding="utf-8")
    whole = str(SAMPLES / "extract.xml")
    result = convert_files([whole, str(cut)], to="register-csv", output=tmp_path / "out.csv", as_of=AS_OF)
    said = [(index, note.input, note.record) for index, note in result.notes if "initiative" in note.message]
    assert said == [(12, str(cut), 1)], result.notes
    [message] = [note.message for _index, note in result.notes if "initiative" in note.message]
    assert message == (
        "training_initiative and additional_training_initiative written blank (and in 11 more records of this "
        "input): the input gives no column, or no tag on the Student, for them. A sync of this CSV takes a blank for "
        "no initiative and clears one Register holds, where a sync of the input leaves it: give the initiatives in "
        "the CSV before it is synced or uploaded"
    )
    alone = convert_files([whole], to="register-csv", output=tmp_path / "whole.csv", as_of=AS_OF)
    assert not [note for _index, note in alone.notes if "initiative" in note.message]


def test_validate_writes_junit_xml_only_when_asked_and_exits_1_on_errors(tmp_path):
    clean = validate_files([str(SAMPLES / "extract.xml")], as_of=AS_OF, report_dir=tmp_path / "clean")
    assert (clean.exit_code, sorted(clean.report_paths)) == (0, ["csv", "html", "json"])
    assert sorted(p.name for p in (tmp_path / "clean").iterdir()) == ["issues.csv", "report.html", "report.json"]
    defects = validate_files([str(SAMPLES / "defects.xml")], as_of=AS_OF, report_dir=tmp_path / "d", junit=True)
    assert defects.report.summary.errors > 0
    assert (defects.exit_code, sorted(defects.report_paths)) == (1, ["csv", "html", "json", "junit"])


def test_convert_writes_every_record_unless_told_to_skip_the_invalid_ones(tmp_path):
    defects = [str(SAMPLES / "defects.xml")]
    every = convert_files(defects, to="jsonl", output=tmp_path / "every.jsonl", as_of=AS_OF)
    summary = every.report.summary
    validated = validate_files(defects, as_of=AS_OF, report_dir=tmp_path / "r").report.summary  # duplicates too
    # but one record, a Student with a tag outside its group, which its request body would not show (review233 F1)
    assert [(note.record, note.code) for _index, note in every.left_out] == [(52, "error_not_in_output")]
    assert summary == dataclasses.replace(validated, warnings=validated.warnings + 1)
    assert (every.exit_code, every.written, every.skipped) == (1, summary.records - 1, 0)
    valid = convert_files(defects, to="jsonl", output=tmp_path / "valid.jsonl", as_of=AS_OF, skip_invalid=True)
    assert (valid.exit_code, valid.written, valid.skipped) == (1, summary.valid, summary.invalid)
    assert len((tmp_path / "valid.jsonl").read_text(encoding="utf-8").splitlines()) == summary.valid


def test_convert_refuses_an_unknown_format_or_unwritable_report_folder_before_writing(tmp_path):
    from register_batch.errors import UnwritableOutput

    sample = [str(SAMPLES / "extract.xml")]
    with pytest.raises(ConfigError, match=r"^to must be one of jsonl, json, register-csv$"):
        convert_files(sample, to="xml", output=tmp_path / "out.xml", as_of=AS_OF)
    (tmp_path / "a-file").write_text("")
    with pytest.raises(UnwritableOutput, match="a-file is a file, not a folder"):
        convert_files(sample, to="jsonl", output=tmp_path / "out.jsonl", as_of=AS_OF, report_dir=tmp_path / "a-file/r")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]


def test_what_only_registers_web_upload_would_refuse_is_validates_news_not_converts(tmp_path):
    """`convert` writes files that fit the upload, so a value with spaces around it in its input is no news there."""
    from trainee_extracts import trainee, write_extract

    source = [str(write_extract(tmp_path / "spaced.csv", [{**trainee(1), "first_names": " Ann "}]))]
    validate_files(source, as_of=AS_OF, report_dir=tmp_path / "v")
    convert_files(source, to="jsonl", output=tmp_path / "out.jsonl", as_of=AS_OF, report_dir=tmp_path / "c")
    codes = {
        command: [i["code"] for i in json.loads((tmp_path / command / "report.json").read_text("utf-8"))["issues"]]
        for command in ("v", "c")
    }
    assert codes == {"v": ["untrimmed_values"], "c": []}


def test_convert_failing_part_way_through_its_output_leaves_the_earlier_output_whole_and_no_temporary_file(
    tmp_path, monkeypatch
):
    """A disk that fills while convert writes (here, at its third record, as the output's file names its failure):
    the error reaches the caller, the output of the run before is as it was, and no temporary file is left beside it
    (jobs mutants 178, 179)."""
    from register_batch import jobs
    from register_batch.errors import UnwritableOutput
    from register_batch.writers import JsonLinesWriter

    made: list[JsonLinesWriter] = []  # held, as a long-running caller's objects may be: no collector tidies up

    class FillingDisk(JsonLinesWriter):
        def __init__(self, path):
            super().__init__(path)
            made.append(self)

        def write(self, item):
            if self.rows == 2:
                raise UnwritableOutput(self.path, "No space left on device")  # as fs._OutputText says it
            return super().write(item)

    out = tmp_path / "out" / "converted.jsonl"
    out.parent.mkdir()
    out.write_text("the run before\n")
    monkeypatch.setattr(jobs, "JsonLinesWriter", FillingDisk)
    with pytest.raises(UnwritableOutput, match=r"converted\.jsonl.*No space left"):
        convert_files([SAMPLES / "extract.csv"], to="jsonl", output=out, as_of=AS_OF)
    assert out.read_text() == "the run before\n"
    assert [p.name for p in out.parent.iterdir()] == ["converted.jsonl"] and len(made) == 1


@pytest.mark.parametrize("to", ["jsonl", "json", "register-csv"])
def test_a_disk_that_refuses_converts_output_at_its_last_write_leaves_no_report_saying_it_was_written(
    tmp_path, monkeypatch, to
):
    """The reports were written (and put in place) before the output's last buffer went to disk: a disk that filled
    then left report.json saying every record was converted, and no output. The output is now on disk first."""
    import os

    real_fsync = os.fsync

    def fsync(fd: int) -> None:  # a full disk refusing the output's temporary file, and nothing else
        if ".converted." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    out = tmp_path / "out" / {"register-csv": "converted.csv", "json": "converted.json", "jsonl": "converted.jsonl"}[to]
    with pytest.raises(UnwritableOutput, match=r"converted\.(csv|jsonl?): .*No space left"):
        convert_files([SAMPLES / "extract.xml"], to=to, output=out, as_of=AS_OF, report_dir=tmp_path / "reports")
    assert not (tmp_path / "reports").exists() or not any((tmp_path / "reports").iterdir())
    assert not out.parent.exists() or not any(out.parent.iterdir())  # no output, nor its temporary file


def test_a_worker_pool_hands_the_caller_the_unusable_input_its_job_raised(tmp_path):
    """An SRS's job queue runs validate_files in worker processes: the error comes back pickled. Ours took more than
    the one message Exception's pickling passes back, so the caller got a TypeError (or a broken pool) in its place,
    not the file, line and problem."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    bad = tmp_path / "truncated.xml"
    bad.write_text('<?xml version="1.0" encoding="UTF-8"?>\n<ITTRecord>\n<Provider>\n<F_UKPRN>10000000</F_UKPRN>\n')
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        job = pool.submit(validate_files, [str(bad)], report_dir=str(tmp_path / "reports"), jobs=1)
        with pytest.raises(UnusableInput) as caught:
            job.result(timeout=120)
    assert caught.value.path == str(bad) and caught.value.line is not None
    assert str(caught.value).startswith(f"{bad}, ") and caught.value.exit_code == 2


def test_a_worker_pool_hands_the_caller_validate_files_result(tmp_path):
    """The result comes back pickled: the report builder held its (closed) spools and could not be."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    extract = SAMPLES / "defects.xml"
    with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool:
        result = pool.submit(validate_files, [str(extract)], report_dir=str(tmp_path / "r"), as_of=AS_OF).result(120)
    here = validate_files([extract], report_dir=tmp_path / "here", as_of=AS_OF)
    assert result.report.summary == here.report.summary and result.report.summary.errors > 0
    assert result.exit_code == here.exit_code == 1
    assert sorted(result.report_paths) == ["csv", "html", "json"] and result.report_paths["json"].read_bytes()


def test_convert_names_the_temporary_files_a_killed_convert_to_that_name_left_and_leaves_them(tmp_path):
    """A convert killed part-way leaves its hidden temporary files (personal data); export named them, convert, with
    the same writer, said nothing (found by review11). Each part's of Register's CSV is named too, whatever the
    suffix."""
    import os
    import tempfile

    from click.testing import CliRunner

    from register_batch.cli import cli

    left = []
    for name in ("held.txt", "held-2.txt", "other.txt"):
        fd, temporary = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=tmp_path)
        os.close(fd)
        left.append(Path(temporary))
    result = convert_files([str(SAMPLES / "extract.xml")], to="register-csv", output=tmp_path / "held.txt", as_of=AS_OF)
    assert result.leftovers == sorted(left[:2]) and all(path.exists() for path in left)
    said = CliRunner().invoke(
        cli, ["convert", str(SAMPLES / "extract.xml"), "--to", "register-csv", "-o", str(tmp_path / "held.txt")]
    )
    notes = [line for line in said.output.splitlines() if "stopped before it finished" in line]
    assert [line.split(" is part of a convert to this name")[0] for line in notes] == [
        f"note: {path}" for path in sorted(left[:2])
    ]


def test_a_register_csv_with_every_record_skipped_as_invalid_leaves_the_earlier_output_as_it_was(tmp_path):
    """review124 F6: `--skip-invalid` skipping every record replaced the earlier output with a header-only CSV, which
    Register's upload refuses ("The selected file must contain at least one trainee"); an input of no records leaves
    it as it was, and so does this. JSON Lines of none is still written (empty), as it is a valid nothing."""
    from click.testing import CliRunner

    from register_batch.cli import cli

    extract = tmp_path / "bad.csv"
    with (SAMPLES / "register.csv").open(newline="", encoding="utf-8-sig") as fh:
        header, *rows = list(csv.reader(fh))[:3]
    for row in rows:
        row[header.index("date_of_birth")] = "1990-02-31"  # no such day: an error
    with extract.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([header, *rows])
    earlier = tmp_path / "upload.csv"
    earlier.write_text("earlier\n")
    result = convert_files(
        [extract], to="register-csv", output=earlier, skip_invalid=True, report_dir=tmp_path / "r", as_of=AS_OF
    )
    assert (result.written, result.skipped, result.outputs, result.exit_code) == (0, 2, [], 1)
    assert earlier.read_text() == "earlier\n"
    assert (tmp_path / "r" / "report.json").is_file()  # the reports say why
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("upload")] == ["upload.csv"]  # no temporary
    said = CliRunner().invoke(
        cli, ["convert", str(extract), "--to", "register-csv", "-o", str(earlier), "--skip-invalid"]
    )
    assert said.exit_code == 1, said.output
    assert f"Wrote no record, 2 skipped as invalid: {earlier} is left as it was\n" in said.output
    assert earlier.read_text() == "earlier\n"
    jsonl = convert_files([extract], to="jsonl", output=tmp_path / "out.jsonl", skip_invalid=True)
    assert jsonl.written == 0 and (tmp_path / "out.jsonl").read_text() == ""
