"""The command line: parse options, call the library, turn its errors into one line and an exit code.

Exit codes: 0 success (warnings allowed); 1 records failed validation or upload; 2 usage, configuration or
unreadable input; 3 interrupted or partial run (rerun resumes). Commands other than the offline ones live
in `register_batch.commands.<name>` and are imported only when used, so `validate` starts fast.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from register_batch import __version__
from register_batch.commands.common import (
    CONTEXT,
    OPTIONS,
    Commands,
    FolderPath,
    OutcomeHeld,
    OutputFile,
    State,
    UserPath,
    _reference_path,
    _report_dir,
    api_version_option,
    as_of_option,
    check_output_ending,
    convert_ukprn_option,
    echo,
    format_option,
    guard_output,
    mapping_option,
    pass_state,
    result_lost,
    result_on_stdout,
    say_causes,
    say_opening_in_excel,
    validate_ukprn_option,
)
from register_batch.errors import ConfigError, Worded
from register_batch.progress import utc_stamp
from register_batch.tokens import TokenMask
from register_batch.wording import ESCAPE_UNENCODABLE, counted, path_named, printable, shell_word

if TYPE_CHECKING:
    from collections.abc import Sequence

    from register_batch.config import Settings
    from register_batch.reference import ReferenceData

# convert's notes on what Register's CSV cannot hold shown on the terminal; the reports hold them all.
NOTES_SHOWN = 20

# Which state dir `reference pull` saves in and `reference diff` reads (_pull_settings), as their --state-dir help says.
LISTS_FOLDER = (
    "Default: the settings' state_dir when --target is the settings' target (or not given); otherwise, or with no "
    "state_dir set, .register-batch/<target>."
)

# Commands imported on first use: name -> module holding a click command of that name.
LAZY_COMMANDS = {
    "sync": "register_batch.commands.sync",
    "export": "register_batch.commands.export",
    "emulator": "register_batch.commands.emulator",
    "generate": "register_batch.commands.generate",
    "mappings": "register_batch.commands.mappings",
    "config": "register_batch.commands.config",
    "schema": "register_batch.commands.schema",
    "ledger": "register_batch.commands.ledger",
}


class LazyCommands(Commands):
    """The top-level group: built-in commands plus the lazily imported ones that are installed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        lazy = [name for name, module in LAZY_COMMANDS.items() if importlib.util.find_spec(module)]
        return sorted({*super().list_commands(ctx), *lazy})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None or name not in LAZY_COMMANDS:
            return command
        if importlib.util.find_spec(LAZY_COMMANDS[name]) is None:
            return None
        return getattr(importlib.import_module(LAZY_COMMANDS[name]), name.replace("-", "_"))


class _OneLine(logging.Formatter):
    """A log line with its message's control characters escaped, as every line the commands print (a name from an
    extract could hold ESC, or a line break forging a line in a nightly job's log); a traceback (-vv) keeps its
    lines. Stamped in UTC, marked Z, as the progress lines, the "run again after" hints and the report folders are:
    one clock in a cron log, whatever TZ the job runs under (review60 F3); in the progress lines' ISO 8601 form, with
    the date, not `2026-12-07 04:43:00,142Z` beside `04:43:06Z` (review157 F4), and the milliseconds that form first
    lost (progress.utc_stamp)."""

    def converter(self, seconds: float | None) -> time.struct_time:
        return time.gmtime(seconds)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return super().formatTime(record, datefmt) if datefmt else utc_stamp(record.created)

    def formatMessage(self, record: logging.LogRecord) -> str:
        return printable(super().formatMessage(record))


class _WordedForTheCommandLine(logging.Filter):
    """A log message that names settings (errors.Worded) said as the command line takes them (OPTIONS: its option,
    settings file and default), as its error lines are; the library says them as it takes them (review157 F3)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, Worded):
            record.msg, record.args = record.msg.worded(OPTIONS), None
        return True


def _say_version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    """`--version`: the tool's, the API version it speaks and how old its bundled code lists are (review210 F7);
    the lists' date read only when asked, not by every command's start-up."""
    if not value or ctx.resilient_parsing:
        return
    from register_batch.reference import SUPPORTED_VERSIONS, bundled_snapshot

    api = SUPPORTED_VERSIONS[-1]
    click.echo(
        f"register-batch, version {__version__} (Register API {api}; bundled code lists: {bundled_snapshot(api)})"
    )
    ctx.exit()


@click.group(cls=LazyCommands, context_settings=CONTEXT)
@click.option(
    "-V",
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_say_version,
    help="Show the version and exit.",
)
@click.option(
    "--config",
    type=UserPath(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Settings file (default: $REGISTER_BATCH_CONFIG, else ./register-batch.toml if present).",
)
@click.option("-v", "--verbose", count=True, help="More detail in the log (-vv for debugging).")
@click.option(
    "-q",
    "--quiet",
    is_flag=True,
    help="Only errors, warnings to act on, the summary line and where the report went (no progress, no retries).",
)
@click.pass_context
def cli(ctx: click.Context, config: Path | None, verbose: int, quiet: bool) -> None:
    """Validate HESA ITT extracts against DfE's Register trainee teachers API, convert them, and upload.

    \b
    Three jobs, one tool:
      register-batch validate extract.xml
          what Register would reject, and why (nothing is sent)
      register-batch sync extract.xml
          migrate or nightly-sync trainees into Register
      register-batch export --to register-csv -o held.csv
          what Register holds

    Run `register-batch COMMAND --help` for each command's options.
    """
    _give_logging_back(ctx)
    level = logging.WARNING if not verbose else logging.INFO if verbose == 1 else logging.DEBUG
    # The logger's name (which module spoke) is for debugging; a data officer reading the log needs time and words.
    where = " %(name)s" if verbose > 1 else ""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLine(f"%(asctime)s %(levelname)s{where}: %(message)s"))
    handler.addFilter(_WordedForTheCommandLine())  # first: the words TokenMask then looks at are the ones written
    # -vv shows httpx's status lines and httpcore's headers as a server sent them: one quoting the token back (a
    # gateway echoing the Authorization header) is masked there, as in every other line (review61 F2).
    # And a proxy's credentials, which httpx sends it base64'd and a proxy's 407 may quote back (review226 F5): while
    # a client goes through that proxy (review229 F2).
    handler.addFilter(TokenMask())
    logging.basicConfig(level=level, handlers=[handler])
    # stamina logs each scheduled retry without its reason; the client logs its own, with the reason. httpx logs
    # each request once more, with its full URL: only for debugging.
    logging.getLogger("stamina").setLevel(logging.DEBUG if verbose > 1 else logging.ERROR)
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose > 1 else logging.WARNING)
    if quiet and not verbose:  # retries the run rides out; what it cannot ride out ends in an error line
        logging.getLogger("register_batch.api.retries").setLevel(logging.ERROR)
    ctx.obj = State(config, quiet)


_LOGGERS_SET = ("", "stamina", "httpx", "register_batch.api.retries")
# The logging as it was before the first of the commands running in this process began (threads of a scheduler's
# worker may run several at once): the last of them to end gives it back, whichever order they end in.
_LOGGING_LOCK = threading.Lock()
_logging_users = 0
_logging_before: tuple[dict[str, int], list[logging.Handler]] = ({}, [])


def _give_logging_back(ctx: click.Context) -> None:
    """A program that runs commands in its own process (a scheduler's worker, a notebook) gets its logging back as it
    was when the commands end: the levels `-q`/`-v` set, and the handler writing to this run's standard error."""
    global _logging_users, _logging_before
    with _LOGGING_LOCK:
        if _logging_users == 0:
            levels = {name: logging.getLogger(name or None).level for name in _LOGGERS_SET}
            _logging_before = (levels, list(logging.getLogger().handlers))
        _logging_users += 1

    def give_back() -> None:
        global _logging_users
        with _LOGGING_LOCK:
            _logging_users -= 1
            if _logging_users:
                return
            levels, handlers = _logging_before
            for name, level in levels.items():
                logging.getLogger(name or None).setLevel(level)
            root = logging.getLogger()
            for handler in [handler for handler in root.handlers if handler not in handlers]:
                root.removeHandler(handler)

    ctx.call_on_close(give_back)


@cli.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@format_option
@mapping_option
@api_version_option
@as_of_option
@click.option(
    "--report-dir",
    type=FolderPath(),
    help="Where to write the reports (default: a new validate-<time> folder in register-batch-reports, or in "
    "report_dir of the settings).",
)
@click.option("--junit", is_flag=True, help="Also write junit.xml for CI systems.")
@validate_ukprn_option
@click.option(
    "--jobs",
    type=click.IntRange(1, 2),
    default=None,
    help="Processes to check records with (default: 2 for large inputs on a machine with two cores; always 1 on "
    "Windows, which cannot fork).",
)
@pass_state
def validate(
    state: State,
    inputs: tuple[str, ...],
    fmt: str,
    mappings: tuple[Path, ...],
    api_version: str | None,
    as_of: date | None,
    report_dir: Path | None,
    junit: bool,
    jobs: int | None,
    ukprn: str | None,
) -> None:
    """Check every record against Register's own rules, without sending anything.

    Reads HESA ITT XML (also zipped or gzipped), HESA-named CSV and Register's bulk-add CSV. Writes report.json,
    issues.csv and report.html (owner-only: they hold personal data). Exits 0 when no record has an
    error (warnings allowed), 1 when some do, 2 when an input cannot be read at all.
    """
    from register_batch.jobs import validate_files
    from register_batch.validation.parallel import worth_parallel

    settings = state.settings(mappings=list(mappings), api_version=api_version, ukprn=ukprn)
    settings.check("ukprn", "api_version", "mappings", command="validate")
    folder = _report_dir(settings, report_dir, "validate")
    if jobs is None:  # the library's choice, made before the bars start (their drawing thread is not counted anyway)
        jobs = 2 if worth_parallel(list(inputs)) else 1
    with state.progress() as progress:
        result = validate_files(
            inputs,
            fmt=fmt,
            mapping_files=tuple(settings.mappings),
            as_of=as_of,
            api_version=settings.api_version,
            report_dir=folder,
            junit=junit,
            reference_path=_reference_path(settings),
            progress=progress,
            jobs=jobs,
            ukprn=settings.ukprn,
        )
    summary = result.report.summary
    echo(
        f"{counted(summary.records, 'record')}: {summary.valid} valid, {summary.invalid} with errors "
        f"({counted(summary.errors, 'error')}, {counted(summary.warnings, 'warning')})"
    )
    say_causes(result.report)
    state.say_report(result.report_paths)
    sys.exit(result.exit_code)


def _validate_command(
    inputs: Sequence[str],
    fmt: str,
    mappings: Sequence[Path],
    api_version: str | None,
    ukprn: str | None,
    as_of: date | None,
) -> str:
    """The validate command that gives the report on `inputs` convert judged them by: with the options given that
    change what validate finds (a user's field map, the UKPRN, the day, the format), each as one shell word to paste
    (review239 F4: without --mapping, validate refused the input's columns). The settings file's are validate's too."""
    words = ["register-batch", "validate", *(shell_word(name) for name in inputs)]
    if fmt != "auto":
        words += ["--format", fmt]
    for mapping in mappings:
        words += ["--mapping", shell_word(str(mapping))]
    if api_version is not None:
        words += ["--api-version", shell_word(api_version)]
    if ukprn is not None:
        words += ["--ukprn", shell_word(ukprn)]
    if as_of is not None:
        words += ["--as-of", as_of.isoformat()]
    return " ".join(words)


@cli.command(context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@click.option(
    "--to",
    "to",
    type=click.Choice(["jsonl", "json", "register-csv"]),
    required=True,
    help="jsonl/json: v2026.1 request bodies; register-csv: Register's bulk-add CSV template.",
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    required=True,
    help="Output file (register-csv files over 1 MB continue in OUT-2.csv, ...).",
)
@format_option
@mapping_option
@api_version_option
@as_of_option
@click.option("--skip-invalid", is_flag=True, help="Leave out records that have errors (they are still reported).")
@convert_ukprn_option
@click.option(
    "--report-dir", type=FolderPath(left_out="to write no reports"), help="Also write the validation reports here."
)
@pass_state
def convert(
    state: State,
    inputs: tuple[str, ...],
    to: str,
    output: Path,
    fmt: str,
    mappings: tuple[Path, ...],
    api_version: str | None,
    as_of: date | None,
    skip_invalid: bool,
    report_dir: Path | None,
    ukprn: str | None,
) -> None:
    """Map records to Register API v2026.1 request bodies, or to Register's bulk-add CSV.

    JSON Lines holds one {"source": ..., "data": ...} per record, with "withdrawal" or "deferral" (the
    request sync sends after it) when the record has one; Register's CSV has no columns for those. Every
    record is written unless --skip-invalid, but one whose error the output has no place for (another
    provider's record, a malformed Student, a misspelt withdrawal tag; in Register's CSV also a second
    degree, a field with no column, an empty record): written, it would look valid, so it is left out and
    named. The exit code is 1 when any record has errors, so a script can tell.
    """
    from register_batch.fs import check_not_in_state_dir
    from register_batch.jobs import convert_files

    check_output_ending(output, to)
    settings = state.settings(mappings=list(mappings), api_version=api_version, ukprn=ukprn)
    settings.check("ukprn", "api_version", "mappings", command="convert")
    check_not_in_state_dir(output, settings.state_dir)  # as export's: it could replace the sync ledger
    with state.progress() as progress:
        result = convert_files(
            inputs,
            to=to,
            output=output,
            fmt=fmt,
            mapping_files=tuple(settings.mappings),
            as_of=as_of,
            api_version=settings.api_version,
            skip_invalid=skip_invalid,
            report_dir=report_dir,
            reference_path=_reference_path(settings),
            progress=progress,
            ukprn=settings.ukprn,
        )
    summary = result.report.summary
    files = ", ".join(str(p) for p in result.outputs)
    skipped = f", {result.skipped} skipped as invalid" if result.skipped else ""
    if result.left_out:
        skipped += f", {len(result.left_out)} left out as the output would not show their errors (named below)"
    if result.outputs:
        echo(f"Wrote {counted(result.written, 'record')} to {files}{skipped}")
        say_opening_in_excel(state, to)
    else:  # every record invalid: a register-csv of none, which Register's upload refuses, is not written
        echo(f"Wrote no record{skipped}: {output} is left as it was")
    if summary.errors:
        state.say(
            f"{summary.invalid} of {counted(summary.records, 'record')} {'has' if summary.invalid == 1 else 'have'} "
            "errors; "
            + (
                f"see {result.report_paths.get('html', result.report_paths.get('json'))}"
                if result.report_paths
                else f"run `{_validate_command(inputs, fmt, mappings, api_version, ukprn, as_of)}` for the report"
            ),
            err=True,
        )
        if to == "register-csv" and result.written_invalid:
            # Register's upload is all or nothing (hesa-formats.md §3.4, §5 item 28): one failing row loses its file.
            state.say(
                "Register's upload adds none of a file's trainees while any of its rows fails: correct those records, "
                "or leave them out with --skip-invalid",
                err=True,
            )
    say_causes(result.report, err=True)
    for _index, note in result.left_out[:NOTES_SHOWN]:
        line = f", line {note.line}" if note.line else ""
        state.say(f"note: {note.input} record {note.record}{line}: {note.message}", err=True)
    if len(result.left_out) > NOTES_SHOWN:
        where = "the reports list them all" if result.report_paths else "--report-dir writes them all to the reports"
        more = len(result.left_out) - NOTES_SHOWN
        state.say(f"note: … and {more} more left out ({where}, as error_not_in_output warnings)", err=True)
    for _index, note in result.notes[:NOTES_SHOWN]:
        state.say(f"note: {note.input} record {note.record}: {note.message}", err=True)
    if len(result.notes) > NOTES_SHOWN:
        # A cut list must say so: a user reading twenty notes would take them for every record that lost something.
        where = "the reports list them all" if result.report_paths else "--report-dir writes them all to the reports"
        more = len(result.notes) - NOTES_SHOWN
        state.say(f"note: … and {more} more ({where}, as not_in_register_csv warnings)", err=True)
    state.say_stale_parts(result.stale)
    state.say_leftovers(result.leftovers, "convert")
    sys.exit(result.exit_code)


@cli.group(cls=Commands, context_settings=CONTEXT)
def reference() -> None:
    """Register's reference data (code lists): show them, pull the live ones, compare; a blank CSV template."""


@reference.command("show", context_settings=CONTEXT)
@click.argument("field", required=False)
@api_version_option
@click.option("--json", "as_json", is_flag=True, help="Print the GET /reference-data payload as JSON.")
@pass_state
def reference_show(state: State, field: str | None, api_version: str | None, as_json: bool) -> None:
    """List the fields, or one field's codes and labels (the lists validation uses).

    FIELD is a list's name, or a field as the reports name it: course_subject_1 lists course_subject,
    degrees_attributes[0].grade lists degree_grade.
    """
    result_on_stdout()
    from register_batch.reference import list_of_field, load_reference

    settings = state.settings(api_version=api_version)
    settings.check("api_version")  # said with where it was set, as every command says it (review138 F1)
    ref = load_reference(settings.api_version, _reference_path(settings))
    if field is None:
        if as_json:
            _echo_json(ref.api_payload())
            return
        echo(f"Reference data ({ref.source}; {_lists_age(ref)}):")  # one line: a script reads the lists after it
        for name in ref.fields:
            count = len(ref.api_payload(name)["entries"])
            echo(f"  {name:32} {count:5} codes")
        return
    if field not in ref.fields:
        # A field as the reports name it: the list it is checked against (review151 F7).
        if (listed := list_of_field(field)) not in ref.fields:
            raise click.BadParameter(f"unknown field {field!r}; known: {', '.join(ref.fields)}", param_hint="FIELD")
        field = listed
    payload = ref.api_payload(field)
    if as_json:
        _echo_json(payload)
        return
    for entry in payload["entries"]:
        extra = f"  ({entry['trigger']})" if "trigger" in entry else ""
        echo(f"{entry['code']}\t{entry.get('display_name') or ''}{extra}")  # a pulled code may have no label


def _lists_age(ref: ReferenceData) -> str:
    """How old the lists `reference show` shows are (review210 F7): the bundled lists' date and DfE commit, and a
    pulled file's time; a pull replaces the codes and labels, not the bundled rule tables."""
    from register_batch.reference import bundled_snapshot

    snapshot = bundled_snapshot(ref.api_version)
    if not ref.pulled:
        return str(snapshot)
    when = f"pulled at {ref.pulled_at}" if ref.pulled_at else "pulled at a time the file does not say"
    return f"{when}; the rule tables are the bundled ones, {snapshot}"


@reference.command("template", context_settings=CONTEXT)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    required=True,
    help="File to write (a .csv, not there already: a file of that name may be one filled in; owner-only, mode "
    "0600, as every file register-batch writes).",
)
def reference_template(output: Path) -> None:
    """Write a blank copy of Register's bulk-add CSV template (v2026.1): the 51 column names, no trainees.

    It is the file Register's "bulk add trainees" page offers as v2026_1_bulk_create_trainee.csv, byte for byte. Fill
    in one row per trainee (in a spreadsheet: code columns formatted as Text, date columns as yyyy-mm-dd, saved as
    "CSV UTF-8"), then check it with `register-batch validate`.

    \b
    Example:
      register-batch reference template -o trainees.csv
    """
    from register_batch.fs import check_not_in_state_dir
    from register_batch.writers import TEMPLATE_VERSION, register_template, write_register_template

    check_output_ending(output, "register-csv", "output", chosen=False)  # this command has no --to (review172 F8)
    check_not_in_state_dir(output, None)  # as generate's: any folder holding a ledger is refused
    written = write_register_template(output)
    echo(
        f"Wrote Register's bulk-add CSV template ({TEMPLATE_VERSION}, {len(register_template())} columns, no trainees) "
        f"to {printable(str(written))}: fill in one row per trainee, then run `register-batch validate` on it"
    )


def _none_pulled(settings: Settings, *, given: bool, target_given: bool = False) -> ConfigError:
    """`reference diff` with nothing pulled in the state dir it reads: where `reference pull` puts other targets' lists,
    and the default state dirs that hold some. A user who had just pulled with --target was told to pull first, as
    the pull went to that target's own state dir (_pull_settings). With its own --target (`target_given`), the folder
    is that target's, as the pull's: the target is not repeated (a token pasted as one would be shown)."""
    from register_batch.config import DEFAULT_STATE_DIR, target_slug
    from register_batch.reference import PULLED_FILE

    folder = path_named(str(settings.state_dir))  # the sentence's; the command's is shell_word's (review186 F6)
    if given:
        return ConfigError(
            f"no pulled reference data in {folder}: run `register-batch reference pull --state-dir "
            f"{shell_word(str(settings.state_dir))}` first "
            "(with the --target to pull from)"
        )
    if target_given:
        return ConfigError(
            f"no pulled reference data in {folder}, the state dir of the target given with --target: run "
            "`register-batch reference pull` with the same --target first"
        )
    if settings.sources["state_dir"] != "default":
        whose = "your settings give"
    else:  # the target is not named: a token pasted as REGISTER_API_URL would be shown
        whose = "of the target your settings give" if settings.target else "of the embedded emulator (no target is set)"
    example = f"{DEFAULT_STATE_DIR}/{target_slug('http://127.0.0.1:8787')}"
    here = Path(settings.state_dir).absolute()
    others = sorted(
        str(found.parent)
        for found in _pulled_in(Path(DEFAULT_STATE_DIR), PULLED_FILE)
        if found.parent.absolute() != here
    )
    if others:
        then = (
            f"Pulled lists are in {', '.join(map(path_named, others))}: `register-batch reference diff --state-dir "
            f"{shell_word(others[0])}` "
            f"compares {'them' if len(others) == 1 else 'the first'}"
        )
    else:
        then = f"No state dir in {DEFAULT_STATE_DIR} holds any: run `register-batch reference pull` first"
    return ConfigError(
        f"no pulled reference data in {folder}, the state dir {whose}. `register-batch reference pull --target "
        f"TARGET` saves into that target's own state dir, {DEFAULT_STATE_DIR}/<target> (for a URL, named for its "
        f"host and port: {example}), unless given --state-dir: give this command that folder with --state-dir, or the "
        f"pull's --target. {then}"
    )


def _pulled_in(folder: Path, name: str) -> list[Path]:
    """The pulled files in the state dirs under `folder` (the default ones, one per target), none when it cannot be
    read."""
    try:
        return [child / name for child in folder.iterdir() if (child / name).is_file()]
    except OSError:
        return []


def _echo_json(payload: object) -> None:
    """JSON on standard output, as written (accents and all), half a character from a pulled list as its escape
    (`\\udce9`, read back as it was) rather than a crash writing it."""
    import json

    text = json.dumps(payload, indent=1, ensure_ascii=False)
    try:
        text.encode(getattr(sys.stdout, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):  # an output's code page lacks a character: JSON's own escapes
        text = json.dumps(payload, indent=1)
    click.echo(text.encode("utf-8", ESCAPE_UNENCODABLE).decode("utf-8"))


def main() -> None:
    """Console entry point. SIGTERM (systemd, `kill`) and SIGHUP (the terminal gone: an SSH session dropped) end a
    command as Ctrl-C does: its temporary files removed, one line, exit 3; a sync installs its own handlers while it
    writes (sync/runner.py StopSignals). Output to a closed pipe, a hung-up terminal or a full disk is dropped
    (GoneQuietly), so the exit code stays the command's. A SIGHUP ignored (`nohup`) stays ignored."""
    guard_output()
    if _asks_for_help(sys.argv[1:]):
        result_on_stdout()  # the help or version is what the command is run for: lost to a full disk, it is exit 2
    for name in ("SIGTERM", "SIGHUP"):  # Windows has no SIGHUP
        signum = getattr(signal, name, None)
        if signum is not None and signal.getsignal(signum) is signal.SIG_DFL:
            signal.signal(signum, _interrupt)
    try:
        cli(prog_name="register-batch")
    except SystemExit as done:
        if done.code in (None, 0, 1) and result_lost():
            sys.stderr.write(
                "register-batch: error: standard output could not be written (no room left on the device): what "
                "it shows is incomplete\n"
            )
            sys.exit(2)
        raise
    except KeyboardInterrupt:  # a second stop while the first's line was written (click before 8.2 lets it out)
        sys.exit(3)
    finally:
        # The command is over, its exit code set. Python gives the stop signals back to their default action before
        # it frees the run's objects (a third of a second after a large sync): one landing then ended the process by
        # the signal (143 in a shell). An ignored signal it leaves ignored.
        for name in ("SIGINT", "SIGTERM", "SIGHUP"):
            if (signum := getattr(signal, name, None)) is not None:
                signal.signal(signum, signal.SIG_IGN)
        # CPython notes a KeyboardInterrupt raised inside any exec() of a string (dataclasses build methods so while
        # modules are imported) as unhandled, even once caught, and `python -m register_batch` reads that note as it
        # exits: a stop at start-up ended by SIGINT (-2) after its "interrupted" line instead of exit 3. An exec()
        # of a string clears it (pythonrun.c, run_eval_code_obj). The `register-batch` script never reads it.
        exec("None")


def _asks_for_help(args: list[str]) -> bool:
    """Whether the command line asks for help or the version (`--help`, `-h`, `--version`, `-V`, before any `--`),
    which click writes and exits 0 after, even when standard output could not take it."""
    asked = args[: args.index("--")] if "--" in args else args
    return any(arg in ("--help", "--version") or _short_flags_ask_for_help(arg) for arg in asked)


def _short_flags_ask_for_help(arg: str) -> bool:
    """Whether `arg` is short flags, bundled as click takes them, among them -h or -V (`-V`, `-qV`, `-vh`; review119
    F2). Only -q and -v go before them: after -o the rest is its value (`-oh.xml`)."""
    if not arg.startswith("-") or arg.startswith("--"):
        return False
    for letter in arg[1:]:
        if letter in "hV":
            return True
        if letter not in "qv":
            return False
    return False


def _interrupt(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


@reference.command("pull", context_settings=CONTEXT)
@click.option(
    "--target",
    default=None,
    metavar="URL|sandbox|production",
    help="Service to fetch from (else $REGISTER_API_URL or register-batch.toml; with none, the embedded emulator).",
)
@click.option(
    "--state-dir",
    type=FolderPath(),
    default=None,
    help=f"Where to keep the pulled lists. {LISTS_FOLDER}",
)
@api_version_option
@pass_state
def reference_pull(state: State, target: str | None, state_dir: Path | None, api_version: str | None) -> None:
    """Fetch GET /reference-data from the target (no token needed) into its state dir; validation then uses those
    lists when the settings name that target.

    Exits 0 when saved; 1 when Register answered with an error no retry mends; 2 for bad settings (a target whose
    host name is not found among them) or an answer that is not Register's code lists; 3 when interrupted, or when
    Register could not be reached, kept failing after retries or refused this machine (run it again later), as for
    sync. Nothing is saved unless it exits 0: validation keeps the lists it used before.
    """
    from register_batch.api import RateLimiter, RegisterClient
    from register_batch.config import parse_rate
    from register_batch.reference.pull import pull_reference
    from register_batch.sync.target import open_target

    configured = state.settings(api_version=api_version)  # the settings' own, which the other commands read
    settings = _pull_settings(state, configured, target, state_dir, api_version)
    # A default state dir beside an older build's (review195 F1): the lists saved there would leave the ledger behind.
    settings.check("rate", "target", "api_version", "state_dir")
    # The run's rate, as sync and export use it: beside a sync sharing the budget (api/limiter.py), a limiter of its
    # own shorter window would count only its last second's sends and could take the minute past Register's 100.
    limit, period = parse_rate(settings.rate)
    opened = open_target(settings.target, None, settings.state_dir, token_required=False, command="reference pull")
    held = OutcomeHeld()  # review119 F4
    try:
        with opened as where:
            state.say_target(where)
            with RegisterClient(
                where.url, None, limiter=RateLimiter(limit, period), api_version=settings.api_version
            ) as client:
                try:
                    # A state dir whose ledger is another target's is refused before the request (its lists would
                    # judge that target's records); the embedded emulator's ledger is bound to its identity, not
                    # its URL.
                    path = pull_reference(client, settings.state_dir, target_identity=where.identity)
                finally:
                    held.hold()  # saved (or refused): a signal while the target is let go changes nothing (F4)
        _say_pulled(state, configured, settings, path)
    finally:
        held.release()


def _say_pulled(state: State, configured: Settings, settings: Settings, path: Path) -> None:
    """Where `reference pull` saved, and what reads it from there."""
    # The commands without --target or --state-dir (show, validate, convert) look in the settings' state dir; diff
    # given the same --target looks where this pull saved.
    elsewhere = configured.state_dir
    if elsewhere == settings.state_dir:
        echo(f"Saved Register's reference data to {path}; `register-batch reference diff` compares it.")
        return
    echo(
        f"Saved Register's reference data to {path}; `register-batch reference diff --state-dir "
        f"{shell_word(str(settings.state_dir))}` compares it."
    )
    # A state_dir set in the settings is sync's too, whatever its --target; a default one is the target's own.
    sync_too = (
        f", and so does sync, with --target too, unless given --state-dir {shell_word(str(settings.state_dir))}"
        if configured.sources["state_dir"] != "default"
        else ""
    )
    state.say(
        f"note: validate, convert, mappings check and reference show read pulled lists from {elsewhere}, the state "
        f"dir your settings give{sync_too}: for them to use these, set the same target (or state_dir) in "
        "register-batch.toml or the environment",
        err=True,
    )


def _pull_settings(
    state: State, configured: Settings, target: str | None, state_dir: Path | None, api_version: str | None
) -> Settings:
    """The settings a pull uses (`configured`: the settings' own), and a diff, so that `reference diff --target T`
    looks where `reference pull --target T` saved (LISTS_FOLDER): `--target` naming another target than the
    settings' (without `--state-dir`) saves into that target's own state dir, not the settings' state_dir, where
    validation of the settings' target would then judge codes by another service's lists."""
    from register_batch.config import DEFAULT_STATE_DIR, target_slug

    if target is None and state_dir is None:
        return configured
    settings = state.settings(target=target, state_dir=state_dir, api_version=api_version)
    if target is None or state_dir is not None or configured.sources["state_dir"] == "default":
        return settings  # the default state dir is already the target's own
    if target_slug(configured.target) == target_slug(settings.target):
        return settings
    own = Path(DEFAULT_STATE_DIR) / target_slug(settings.target)
    return state.settings(target=target, state_dir=own, api_version=api_version)


@reference.command("diff", context_settings=CONTEXT)
@click.option(
    "--target",
    default=None,
    metavar="URL|sandbox|production",
    help="The target whose pulled lists to compare, as given to `reference pull --target` (else $REGISTER_API_URL "
    "or register-batch.toml); nothing is sent to it.",
)
@click.option(
    "--state-dir",
    type=FolderPath(),
    default=None,
    help=f"Where the pulled lists are. {LISTS_FOLDER}",
)
@api_version_option
@pass_state
def reference_diff(state: State, target: str | None, state_dir: Path | None, api_version: str | None) -> None:
    """Show what changed between the pulled lists and the ones bundled with register-batch (exit 1 if any)."""
    result_on_stdout()
    from register_batch.reference import load_reference
    from register_batch.reference.pull import diff_reference, not_judged, pulled_lists, read_pulled

    configured = state.settings(api_version=api_version)
    settings = _pull_settings(state, configured, target, state_dir, api_version)
    # A target the pull would refuse names no folder it saved in; a version it would refuse is said before "run
    # reference pull first", which the pull would then refuse for it (review138 F1).
    settings.check(*(["target"] if target is not None else []), "api_version")
    if pulled_lists(settings.state_dir) is None:
        raise _none_pulled(settings, given=state_dir is not None, target_given=target is not None)
    pulled = read_pulled(settings.state_dir)
    bundled = load_reference(settings.api_version)
    changes = diff_reference(bundled, pulled)
    where, when = pulled.get("target") or "an unknown target", pulled.get("pulled_at") or "an unknown time"
    echo(f"Pulled from {where} at {when}, compared with the bundled lists:")
    if not changes:
        echo("No differences.")
        return
    unjudged = 0
    for field, change in changes.items():
        echo(f"{field}:")
        for code, label in change["added"]:
            what = not_judged(bundled, field, code)
            unjudged += what is not None
            echo(f"  + {code}  {label}" + (f"  [the bundled rules cannot tell {what}]" if what else ""))
        for code, label in change["removed"]:
            echo(f"  - {code}  {label}")
        for code, old, new in change["relabelled"]:
            echo(f"  ~ {code}  {old!r} -> {new!r}")
        for what, old, new in change["changed"]:
            echo(f"  ~ {what}  {', '.join(old) or 'none'} -> {', '.join(new) or 'none'}")
    if unjudged:  # review210 F4: a pull updates the codes, not the bundled rule tables
        echo(
            f"{unjudged} added code(s) the bundled rules cannot judge: validate warns of each in a record, which is "
            "sent for Register to judge (a pull updates the codes and their labels, not the bundled funding and "
            "initiative tables)"
        )
    sys.exit(1)
