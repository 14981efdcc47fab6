"""The offline jobs as library functions: validate extracts, convert them to Register's formats."""

from __future__ import annotations

import contextlib
import json
import tempfile
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from register_batch.arguments import checked_flag, checked_folder, checked_jobs, checked_progress
from register_batch.carried import DuplicateGroups, ReadBack, lost_across_records
from register_batch.errors import ConfigError
from register_batch.fs import (
    StrPath,
    check_not_an_input,
    check_not_in_state_dir,
    check_output_ending,
    check_writable_file,
    leftover_temporaries,
    path_list,
    temporary_space,
)
from register_batch.mapping import load_mapping
from register_batch.model import API_VERSION, CLEARABLE_INITIATIVES, Issue, Severity, TraineeRecord, as_sent
from register_batch.progress import SILENT, Progress, Task
from register_batch.readers import check_format, input_paths
from register_batch.reference import load_reference
from register_batch.reports import ReportBuilder, check_report_dir
from register_batch.validation import Checker
from register_batch.validation.catalogue import describe
from register_batch.wording import counted
from register_batch.writers import JsonArrayWriter, JsonLinesWriter, RegisterCsvWriter

if TYPE_CHECKING:  # validation.parallel is imported where a run may fork (validate_files)
    from register_batch.validation.parallel import Ahead

CONVERT_TARGETS = ("jsonl", "json", "register-csv")

describe(
    "not_in_register_csv",
    scope="batch",
    fields=(
        "degrees_attributes",
        "placements_attributes",
        "withdrawal_date",
        "defer_date",
        "course_subject_2",
        "training_initiative",
    ),
    message="<n> other degree(s) / placement(s) left out: Register's CSV holds one degree (the highest) and three "
    "placements (likewise withdrawals and deferrals, which it has no columns for; and a course subject 2 or 3 the "
    "input has no column for is written blank, which a sync of the CSV takes for none; so too, said once per input, "
    "the training initiatives of records that have no column or tag for them)",
    source="hesa-formats.md §3.1 (one degree per row, three placement columns)",
    fix="Use `convert --to jsonl` or `sync` to keep every degree and placement; sync the input itself, or give it the "
    "course subject columns, to keep the subjects Register holds, and its initiative columns or tags (NULL for none) "
    "to keep the initiatives Register holds.",
    severity=Severity.WARNING,
)
describe(
    "error_not_in_output",
    scope="batch",
    fields=("*",),
    message="left out of the output: its error <code> (<field>) is on what <Register's CSV | a request body> has no "
    "place for (the record's provider, the input's layout, a misspelt tag; in Register's CSV a second degree, a field "
    "with no column), so the record written would look valid (<validate of the CSV would pass it, and a sync or "
    "Register's upload take it>); correct it in the input and convert again, or for another provider's record "
    "convert it with that provider's --ukprn and send it with that provider's token (for an empty record: its row "
    "would be blank, which validate, sync and Register's upload skip without a word; for a duplicate HUSID or SRS "
    "id whose every other record is left out: written alone it would look valid, under an id another trainee holds)",
    source="hesa-formats.md §3.1 (the template's 51 columns: no UKPRN, one degree, no withdrawal); §3.3 (a blank row "
    "is skipped); design.md (in-file duplicates: sync matches on the SRS id)",
    fix="Correct the record in the input (its own error says how) and convert again; `register-batch validate` on the "
    "input names every error. Another provider's record (several_providers, other_provider_record) is not corrected: "
    "convert once for each provider with its UKPRN (--ukprn, or `ukprn` in register-batch.toml or a library call), "
    "and send each provider's records with its own token.",
    severity=Severity.WARNING,
)


@dataclass
class ValidationResult:
    """What `validate_files` did: the counts (`report.summary`) and the report files written (`report_paths`, by
    kind: json, csv, html, junit); `exit_code` is what `register-batch validate` exits with for it."""

    report: ReportBuilder
    report_paths: dict[str, Path]

    @property
    def exit_code(self) -> int:
        return 1 if self.report.summary.errors else 0


def _checker(
    fmt: str,
    mapping_files: Iterable[StrPath],
    as_of: date | None,
    api_version: str,
    reference_path: StrPath | None,
    ukprn: str | None,
) -> Checker:
    return Checker(
        fmt=fmt,
        mapping=load_mapping(mapping_files),
        reference=load_reference(api_version, reference_path),
        as_of=as_of,
        ukprn=ukprn,
    )


@temporary_space()
def validate_files(
    inputs: Iterable[StrPath],
    *,
    fmt: str = "auto",
    mapping_files: Iterable[StrPath] = (),
    as_of: date | None = None,
    api_version: str = API_VERSION,
    report_dir: StrPath,
    junit: bool = False,
    reference_path: StrPath | None = None,
    progress: Progress = SILENT,
    jobs: int | None = None,
    ukprn: str | None = None,
) -> ValidationResult:
    """Read, map and validate every record; write report.json, issues.csv, report.html (and junit.xml).

    `jobs=2` shares the records with a second process (validation/parallel.py: same reports, less time on two
    cores) where one can be forked (not on Windows, nor in a multiprocessing.Pool's daemonic worker: one process
    there); the default decides by core count and input size. `ukprn` is the provider the records are sent for:
    other providers' records are errors (validation/providers.py).
    """
    from register_batch.validation.parallel import Ahead, can_fork, parallel_records, worth_parallel

    inputs = input_paths(inputs)
    check_format(fmt)
    reports = checked_folder("report_dir", report_dir)
    junit, jobs, progress = checked_flag("junit", junit), checked_jobs(jobs), checked_progress(progress)
    mapping_files = path_list(mapping_files, "mapping files")
    check_report_dir(reports, [*inputs, *mapping_files])  # now, not after every record has been checked
    # Closed on every way out (an input that turns out unusable, a spool refused): a long-running caller must not
    # collect open spools.
    with contextlib.ExitStack() as cleanup:
        checker = cleanup.enter_context(_checker(fmt, mapping_files, as_of, api_version, reference_path, ukprn))
        report = cleanup.enter_context(ReportBuilder.judging(checker, api_version=api_version))
        parallel = worth_parallel(inputs) if jobs is None else jobs >= 2 and can_fork()
        ahead = Ahead() if parallel else None
        records = parallel_records(checker, inputs, ahead) if parallel else checker.records(inputs)
        return _reported(checker, records, report, progress, reports, junit, ahead)


@temporary_space()
def validate_records(
    rows: Iterable[Mapping[str, str | None]],
    *,
    fmt: str = "register-csv",
    name: str = "<records>",
    mapping_files: Iterable[StrPath] = (),
    as_of: date | None = None,
    api_version: str = API_VERSION,
    report_dir: StrPath,
    junit: bool = False,
    reference_path: StrPath | None = None,
    progress: Progress = SILENT,
    ukprn: str | None = None,
) -> ValidationResult:
    """`validate_files` for records your own code holds, with no file: each row a mapping keyed by `fmt`'s CSV
    columns, its values taken as they are (`Checker.rows`). The same reports, each issue naming `name` and the row's
    number from 1 (no line); in one process."""
    reports = checked_folder("report_dir", report_dir)
    junit, progress = checked_flag("junit", junit), checked_progress(progress)
    mapping_files = path_list(mapping_files, "mapping files")
    check_report_dir(reports, mapping_files)
    with contextlib.ExitStack() as cleanup:
        checker = cleanup.enter_context(_checker("auto", mapping_files, as_of, api_version, reference_path, ukprn))
        records = checker.rows(rows, fmt=fmt, name=name)  # its arguments are checked here, before a row is read
        report = cleanup.enter_context(ReportBuilder.judging(checker, api_version=api_version))
        return _reported(checker, records, report, progress, reports, junit)


def _reported(
    checker: Checker,
    records: Iterable[TraineeRecord],
    report: ReportBuilder,
    progress: Progress,
    reports: Path,
    junit: bool,
    ahead: Ahead | None = None,
) -> ValidationResult:
    """Every record into the report, then the findings across records, then the report files: the end of
    validate_files and validate_records alike. `ahead`: a two-process run's records checked by its helper and not
    yet yielded, counted as done (parallel.Ahead)."""
    task = progress.task("Validating", unit="records")
    yielded = 0
    for record in records:
        report.add_record(record)
        if ahead is None:
            task.advance()
        else:
            yielded += 1
            counted = yielded + ahead.records
            if counted > task.done:
                task.advance(counted - task.done)
    task.close()
    # As sync's: a million issues take a minute or two to write, which said by nothing looked like a hang after the
    # last record (review184 F4). The step begins with the findings across records (duplicates), ticked by each
    # issue found: seconds for 100,000 duplicate issues, silent after the last record's count, and then the step's
    # first line held back an interval more (review189 F6).
    writing = progress.task(
        "Writing reports", total=ReportBuilder.file_count(junit=junit), unit="files", every=1, eta=False
    )
    report.add_batch_issues(_ticking(checker.batch_issues(), writing))
    report.finish(checker.finish_inputs())
    paths = report.write(reports, junit=junit, each_written=writing.advance, each_row=writing.tick)
    writing.close()
    return ValidationResult(report=report, report_paths=paths)


def _ticking(pairs: Iterable[tuple[int, Issue]], task: Task) -> Iterator[tuple[int, Issue]]:
    """`pairs`, `task` ticked (a plain line if one is due) as each is read."""
    for pair in pairs:
        task.tick()
        yield pair


def source_of(record: TraineeRecord) -> dict[str, Any]:
    return {"input": record.source.input, "record": record.source.record, "line": record.source.line}


def jsonl_item(record: TraineeRecord) -> dict[str, Any]:
    """One converted record: where it came from and the v2026.1 request body (plus withdraw/defer bodies)."""
    item: dict[str, Any] = {
        "source": source_of(record),
        "data": as_sent(record.data),
    }  # application_id as sync sends it
    if record.withdrawal:
        item["withdrawal"] = record.withdrawal
    if record.deferral:
        item["deferral"] = record.deferral
    return item


@dataclass
class ConvertResult:
    """What `convert_files` wrote: the output files, records written and skipped (invalid, with
    `skip_invalid`), `notes` on values the output format cannot hold (by batch index), `left_out`: the records left
    out (without `skip_invalid`) for an error the output would not show, one error_not_in_output note each (by batch
    index), and how many of those written have errors (`written_invalid`), the report files written (`report_paths`,
    by kind; none without a `report_dir`); `exit_code` is what `register-batch convert` exits with."""

    report: ReportBuilder
    outputs: list[Path]
    written: int
    skipped: int
    notes: list[tuple[int, Issue]] = field(default_factory=list)
    report_paths: dict[str, Path] = field(default_factory=dict)
    stale: list[Path] = field(default_factory=list)  # OUT-N.csv files after the last part (RegisterCsvWriter)
    leftovers: list[Path] = field(default_factory=list)  # temporary files of a killed run (leftover_temporaries)
    left_out: list[tuple[int, Issue]] = field(default_factory=list)
    written_invalid: int = 0

    @property
    def exit_code(self) -> int:
        return 1 if self.report.summary.errors else 0


@temporary_space()
def convert_files(
    inputs: Iterable[StrPath],
    *,
    to: str,
    output: StrPath,
    fmt: str = "auto",
    mapping_files: Iterable[StrPath] = (),
    as_of: date | None = None,
    api_version: str = API_VERSION,
    skip_invalid: bool = False,
    report_dir: StrPath | None = None,
    reference_path: StrPath | None = None,
    progress: Progress = SILENT,
    ukprn: str | None = None,
) -> ConvertResult:
    """Map every record to a v2026.1 request body and write them as JSON Lines, JSON or Register's CSV.

    Records are spooled first, so `skip_invalid` can also leave out records that only the batch-wide
    checks (duplicates) find invalid, and a file that turns out unusable half-way writes nothing. An `output` whose
    name says another format (`.xlsx`, `.xml` for `to="jsonl"`) is a ConfigError, and one inside a folder holding a
    state dir's files (a sync ledger) an UnwritableOutput, before anything is read. A `register-csv` with every record
    left out is not written (`outputs` is empty): Register's upload refuses a file of no trainee, and the earlier
    output is left as it was.

    A record with an error the output would not show (carried.ReadBack: another provider's record, a malformed
    Student, a misspelt withdrawal tag, for a Register CSV a second degree or an empty record too) is left out with or
    without `skip_invalid`, each with an error_not_in_output note (`left_out`): written, it would look valid, and
    validate of a Register CSV pass it and a sync take it (review233 F1). So is a record of a duplicate HUSID or SRS
    id whose every partner is left out (carried.DuplicateGroups: written alone, it would pass; review239 F1). A record
    whose errors the output shows is written, as before.
    """
    if to not in CONVERT_TARGETS:
        raise ConfigError.naming("{to} must be one of {choices}", choices=", ".join(CONVERT_TARGETS))
    output = checked_folder("output", output)
    check_output_ending(output, to)
    inputs = input_paths(inputs)
    if not inputs:
        # A job's pattern that matched no file (tonight's extract not there yet) replaced yesterday's output with an
        # empty one, a header-only CSV Register's upload refuses, and said it succeeded (review88 F1). A validate or a
        # sync of no inputs has nothing to do and says so; an output made of none is no output.
        raise ConfigError.naming(
            "{inputs} is empty: give at least one extract (a pattern that matched no file, or an extract that has "
            "not arrived yet?); the output is left as it was"
        )
    check_format(fmt)
    reports = checked_folder("report_dir", report_dir) if report_dir is not None else None
    skip_invalid, progress = checked_flag("skip_invalid", skip_invalid), checked_progress(progress)
    # As the command line's (which also refuses its own state dir): a register-csv named ledger.sqlite3 replaced the
    # sync ledger. No state dir is known here: any folder holding a state dir's files is refused.
    check_not_in_state_dir(output, None)
    check_writable_file(output)  # now, not after every record has been converted
    mapping_files = path_list(mapping_files, "mapping files")
    read = [*inputs, *mapping_files]  # what no output may replace
    check_not_an_input([output], read, parts=to == "register-csv")
    if reports:
        check_report_dir(reports, read, [output])
    # Closed on every way out (an input that turns out unusable, a spool refused): a long-running caller must not
    # collect open spools.
    with contextlib.ExitStack() as cleanup:
        checker = cleanup.enter_context(_checker(fmt, mapping_files, as_of, api_version, reference_path, ukprn))
        report = cleanup.enter_context(ReportBuilder.judging(checker, api_version=api_version, command="convert"))
        task = progress.task("Converting", unit="records")
        spool = cleanup.enter_context(tempfile.TemporaryFile(mode="w+", encoding="utf-8"))
        unsaid: dict[int, list[str]] = {}  # by spool index: subjects the CSV written would say the course has not
        initiatives: dict[int, tuple[str, list[str]]] = {}  # and the initiatives it would say the trainee has not
        lost: dict[int, list[Issue]] = {}  # and its errors the output would not show (ReadBack)
        blank: set[int] = set()  # and those of them whose Register CSV row would be blank
        rows = array("q")  # by spool index: the record's spreadsheet row where it differs from its line (-1: none)
        duplicates = DuplicateGroups()
        read_back = None if skip_invalid else cleanup.enter_context(ReadBack(to, checker))
        for index, record in enumerate(checker.records(inputs)):
            report.add_record(record)
            item = jsonl_item(record)
            spool.write(json.dumps(item, ensure_ascii=False) + "\n")
            rows.append(-1 if record.source.row is None else record.source.row)
            if read_back is not None and record.has_errors and (errors := read_back.lost(record, item)):
                lost[index] = errors
                if read_back.blank(item):
                    blank.add(index)
            if to == "register-csv" and (blanks := unsaid_blank_subjects(record)):
                unsaid[index] = blanks
            if to == "register-csv" and (blanks := unsaid_initiatives(record)):
                initiatives[index] = (record.source.input, blanks)
            task.advance()
        task.close()
        batch = checker.batch_issues()
        report.add_batch_issues(batch if skip_invalid else lost_across_records(batch, lost, duplicates))
        report.finish(checker.finish_inputs())
        alone = duplicates.alone(lost)  # each left the one record written of its HUSID or SRS id (review239 F1)
        lost.update(_alone_issues(spool, alone, rows))
        spool.seek(0)
        writer: Any
        if to == "register-csv":
            writer = RegisterCsvWriter(output)
        elif to == "jsonl":
            writer = JsonLinesWriter(output)
        else:
            writer = JsonArrayWriter(output)
        try:
            kept = (lambda index: not report.is_invalid(index)) if skip_invalid else (lambda index: index not in lost)
            written, skipped, notes = _write_bodies(
                spool,
                writer,
                report,
                to=to,
                skip_invalid=skip_invalid,
                unsaid=unsaid,
                initiatives=_initiatives_notes(initiatives, kept),
                lost=lost,
            )
            left_out = [
                (index, _left_out_note(to, errors, blank=index in blank, alone=index in alone))
                for index, errors in sorted(lost.items())
            ]
            report.add_batch_issues(sorted([*notes, *left_out], key=lambda pair: pair[0]))
            written_invalid = sum(
                1 for index in range(report.summary.records) if report.is_invalid(index) and kept(index)
            )
            if to == "register-csv" and not written:
                # Every record left out as invalid: Register's upload refuses a file with no trainee (hesa-formats.md
                # §3.2 item 7), so the earlier output is left as it was, as for no input (review124 F6).
                writer.abort()
                report_paths = report.write(reports) if reports else {}
                outputs = []
            else:
                # The output on disk first, so a disk that fills at its last write leaves no report saying it was
                # written; then the reports, before the output is put in place: a report folder that cannot be made
                # (a look at it cannot tell, as root on /sys) ends the run with exit 2 and no output, as the docs say.
                writer.finish()
                report_paths = report.write(reports) if reports else {}
                outputs = writer.close()
        except BaseException:
            writer.abort()  # leave no half-written output behind, nor its temporary file
            raise
    return ConvertResult(
        report=report,
        outputs=outputs,
        written=written,
        skipped=skipped,
        notes=notes,
        report_paths=report_paths,
        stale=writer.stale,
        leftovers=leftover_temporaries([*outputs, *writer.stale], parts=to == "register-csv"),
        left_out=left_out,
        written_invalid=written_invalid,
    )


# Each output's name in a note, and what a record whose error it does not show would have been taken for.
_WRITTEN_AS = {
    "register-csv": ("Register's CSV", "validate of the CSV would pass it, and a sync or Register's upload take it"),
    "jsonl": ("a request body", "Register's API would take it"),
    "json": ("a request body", "Register's API would take it"),
}
_ERRORS_NAMED = 3  # the errors a note names before "and N more"


def _alone_issues(spool: IO[str], alone: Mapping[int, tuple[str, str]], rows: array[int]) -> dict[int, list[Issue]]:
    """By spool index, the duplicate each record of `alone` (DuplicateGroups.alone: code and field) is left out
    for, placed as the record is (its source in the spool, its spreadsheet row in `rows`): the findings across
    records are spooled in the report, not kept. Reads the spool only when a record is alone, which is rare."""
    found: dict[int, list[Issue]] = {}
    if not alone:
        return found
    spool.seek(0)
    for index, line in enumerate(spool):
        if index not in alone:
            continue
        item = json.loads(line)
        source, data = item["source"], item["data"]
        code, field_name = alone[index]
        found[index] = [
            Issue(
                input=source["input"],
                record=source["record"],
                line=source["line"],
                row=None if rows[index] < 0 else rows[index],
                provider_trainee_id=data.get("provider_trainee_id"),
                hesa_id=data.get("hesa_id"),
                field=field_name,
                code=code,
                severity=Severity.ERROR,
                message=f"{field_name} is on more than one record, and every other of them is left out",
            )
        ]
    return found


def _left_out_note(to: str, errors: list[Issue], *, blank: bool, alone: bool) -> Issue:
    """The error_not_in_output note on a record left out for `errors`, the ones its output would not show (at least
    one); `blank`: its Register CSV row would have no value at all; `alone`: `errors` is a duplicate whose every
    other record is left out (DuplicateGroups.alone). Named by rule and field, as a note is printed and a value can
    be personal data."""
    first = errors[0]
    named = list(dict.fromkeys(f"{i.code} ({i.field})" if i.field else i.code for i in errors))
    said = ", ".join(named[:_ERRORS_NAMED])
    if len(named) > _ERRORS_NAMED:
        said += f" and {len(named) - _ERRORS_NAMED} more"
    its, are = (f"its errors {said}", "are") if len(named) > 1 else (f"its error {said}", "is")
    place, taken = _WRITTEN_AS[to]
    if blank:
        why = (
            f"its row would be blank (an empty record), which validate, sync and Register's upload skip without a "
            f"word: its errors ({said}) would not be seen"
        )
    elif alone:
        why = (
            f"{its} would not be seen, as every other record with its {first.field} is left out too: "
            f"written alone it would look valid ({taken}), under an id another trainee holds"
        )
    else:
        why = f"{its} {are} on what {place} has no place for, so the record written would look valid ({taken})"
    return Issue(
        input=first.input,
        record=first.record,
        line=first.line,
        row=first.row,
        provider_trainee_id=first.provider_trainee_id,
        hesa_id=first.hesa_id,
        code="error_not_in_output",
        severity=Severity.WARNING,
        message=f"left out of the output: {why}; {_left_out_advice({issue.code for issue in errors})}",
    )


def _left_out_advice(codes: set[str]) -> str:
    """What to do about a record left out for errors of `codes`: another provider's record is sent with that
    provider's token, not corrected (review239 F2); any other, corrected in the input."""
    if "several_providers" in codes:
        return (
            "the inputs hold several providers' records: convert them once for each provider, giving its UKPRN with "
            "--ukprn (`ukprn` in register-batch.toml or a library call; the other providers' records are then left "
            "out), and send each provider's records with its own token"
        )
    if "other_provider_record" in codes:
        return (
            "it is another provider's trainee: convert it with that provider's UKPRN as --ukprn, and send it with "
            "that provider's own token; do not change its UKPRN to yours (a training partner's record: see "
            "other_provider_record in the rules)"
        )
    return "correct it in the input and convert again"


def unsaid_blank_subjects(record: TraineeRecord) -> list[str]:
    """The course subjects a record's input says nothing of (TraineeRecord.partial_lists: no column for them, or a
    legacy subject translated), blank beside a given course_subject_1: Register's CSV has a column for each, so written
    blank they say the course has no such subject, and a sync of that CSV would clear the one Register holds, where a
    sync of the input leaves it (review44 F3, review47 F4)."""
    from register_batch.sync.compare import blank_subjects

    return [name for name in blank_subjects(record.data) if name in record.partial_lists]


def unsaid_initiatives(record: TraineeRecord) -> list[str]:
    """The training initiatives a record says nothing of (TraineeRecord.partial_lists: no column for them; in HESA XML
    no tag on the Student): Register's CSV has a column for each, so written blank they say the trainee has none, and
    a sync of that CSV would clear one Register holds, where a sync of the input leaves it (review202 F3; a Student
    without the tag says "none" there only of one the SRS gave when last synced, which convert cannot know)."""
    return [name for name in CLEARABLE_INITIATIVES if name in record.partial_lists]


def _initiatives_notes(
    initiatives: Mapping[int, tuple[str, list[str]]], written: Callable[[int], bool]
) -> dict[int, str]:
    """Spool index -> the note on the initiatives its input's records say nothing of (`initiatives`: by spool index,
    the input and `unsaid_initiatives`), once per input, on its first such record written (`written`: whether a
    record is). A note on each record would be the same words on every record of an SRS that exports none, and push
    every other note out of the few shown."""
    by_input: dict[str, list[int]] = {}
    for index in sorted(initiatives):
        if written(index):
            by_input.setdefault(initiatives[index][0], []).append(index)
    notes = {}
    for indexes in by_input.values():
        which = sorted({name for i in indexes for name in initiatives[i][1]}, key=CLEARABLE_INITIATIVES.index)
        more = f" (and in {counted(len(indexes) - 1, 'more record')} of this input)" if len(indexes) > 1 else ""
        notes[indexes[0]] = (
            f"{' and '.join(which)} written blank{more}: the input gives no column, or no tag on the Student, for "
            f"{'them' if len(which) > 1 else 'it'}. A sync of this CSV takes a blank for no initiative and clears one "
            "Register holds, where a sync of the input leaves it: give the initiatives in the CSV before it is synced "
            "or uploaded"
        )
    return notes


def _write_bodies(
    spool: IO[str],
    writer: Any,
    report: ReportBuilder,
    *,
    to: str,
    skip_invalid: bool,
    unsaid: Mapping[int, list[str]],
    initiatives: Mapping[int, str] | None = None,
    lost: Mapping[int, list[Issue]],
) -> tuple[int, int, list[tuple[int, Issue]]]:
    """Write the spooled records to `writer`, but those in `lost` (left out: their errors the output would not
    show); returns (written, skipped, notes on what the output cannot hold)."""
    written = skipped = 0
    notes: list[tuple[int, Issue]] = []
    for index, line in enumerate(spool):
        if skip_invalid and report.is_invalid(index):
            skipped += 1
            continue
        if index in lost:
            continue
        item = json.loads(line)
        payload = item["data"] if to == "register-csv" else item
        written_notes = writer.write(payload)
        if to == "register-csv":
            no_column = [name for name in ("withdrawal", "deferral") if item.get(name)]
            if no_column:
                them = "them" if len(no_column) > 1 else "it"
                written_notes.append(
                    f"the {' and '.join(no_column)} left out: Register's CSV template has no columns for "
                    f"{them} (sync sends {them}, and jsonl keeps {them})"
                )
            if blanks := unsaid.get(index):
                written_notes.append(
                    f"{' and '.join(blanks)} written blank: a sync of this CSV takes a blank beside course_subject_1 "
                    "for no such subject, and clears one Register holds, where a sync of the input leaves it (the "
                    "input has no column for it, or its course_subject_1 is a legacy code translated)"
                )
            if initiatives and (note := initiatives.get(index)):
                written_notes.append(note)
        source = item["source"]
        for note in written_notes:
            issue = Issue(
                input=source["input"],
                record=source["record"],
                line=source["line"],
                provider_trainee_id=item["data"].get("provider_trainee_id"),
                hesa_id=item["data"].get("hesa_id"),
                code="not_in_register_csv",
                severity=Severity.WARNING,
                message=note,
            )
            notes.append((index, issue))
        written += 1
    return written, skipped, notes
