"""`register-batch sync`: upload an extract and keep Register in step with it."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import click

from register_batch.commands.common import (
    CONTEXT,
    FolderPath,
    HelpCommand,
    OutcomeHeld,
    State,
    UserPath,
    _report_dir,
    api_version_option,
    as_of_option_saying,
    echo,
    format_option,
    mapping_option,
    pass_state,
    say_causes,
    timeout_option,
    ukprn_option,
)
from register_batch.config import parse_rate, shown_path, token_file_to_use, token_source
from register_batch.constants import PER_PAGE_MOST

_Command = TypeVar("_Command", bound=Callable[..., Any])


def target_options(func: _Command) -> _Command:
    """--target and --token-file, shared by sync and export."""
    func = click.option(
        "--token-file",
        type=UserPath(dir_okay=False, path_type=Path),
        default=None,
        help="File holding the API token (else $REGISTER_API_TOKEN_FILE, $REGISTER_API_TOKEN, or token_file in "
        "register-batch.toml). The token is never a plain option.",
    )(func)
    return click.option(
        "--target",
        default=None,
        metavar="URL|sandbox|production",
        help="Register service to use (else $REGISTER_API_URL or register-batch.toml; with none, the "
        "embedded emulator, and nothing leaves this machine; a token with no target is refused).",
    )(func)


@click.command(cls=HelpCommand, context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...")
@target_options
@click.option(
    "--dry-run", is_flag=True, help="Plan only: report what would change in Register, field by field; no writes."
)
@click.option(
    "--state-dir",
    type=FolderPath(),
    default=None,
    help="Ledger, lock and pulled reference data (default: state_dir in the settings, else .register-batch/<target>, "
    "e.g. .register-batch/sandbox; one per target).",
)
@click.option(
    "--report-dir",
    type=FolderPath(),
    help="Where to write report.json, issues.csv, results.csv, not_in_extract.csv and report.html (default: a new "
    "sync-<time> folder in "
    "register-batch-reports, or in report_dir of the settings).",
)
@click.option(
    "--rate",
    default=None,
    metavar="N/SECONDS",
    help="Client-side pacing: at most N requests in any SECONDS; N alone is N a minute (default 95/60, under "
    "Register's 100/60).",
)
@click.option(
    "--per-page",
    type=click.IntRange(1, PER_PAGE_MOST),
    default=500,
    show_default=True,
    help="Trainees per listing request.",
)
@timeout_option()
@format_option
@mapping_option
@api_version_option
@as_of_option_saying(
    "Judge date rules as of this day instead of today (today in UTC), as the embedded emulator then does too. "
    "Register judges dates as of today whatever this says: records valid as of another day may be refused there "
    "(the run warns). A withdrawal or deferral is held until its day: against Register (the sandbox or "
    "production) if dated after today in UTC, whatever this says; against the embedded emulator or an emulator on "
    "this machine (127.0.0.1, localhost) if dated after this day."
)
@ukprn_option
@pass_state
def sync(
    state: State,
    inputs: tuple[str, ...],
    target: str | None,
    token_file: Path | None,
    dry_run: bool,
    state_dir: Path | None,
    report_dir: Path | None,
    rate: str | None,
    per_page: int,
    timeout: float,
    fmt: str,
    mappings: tuple[Path, ...],
    api_version: str | None,
    as_of: date | None,
    ukprn: str | None,
) -> None:
    """Make Register hold the valid trainees of the extract as it says: create, update, withdraw, defer.

    Safe to rerun: unchanged trainees cost no request, and a run that was interrupted (even killed)
    resumes from its ledger without creating anyone twice. Invalid records are reported and not sent;
    trainees Register holds that the extract lacks are left alone (never deleted or withdrawn).

    Exits 0 when every record is in Register as the extract says, warnings allowed (a dry run: when none would be
    invalid, in conflict or blocked); 1 when some records were invalid, in conflict, blocked or refused (the report
    says which); 2 for usage, configuration, an unreadable extract, a state dir in use, or a missing, rejected or
    another provider's token; 3 when interrupted, when Register could not be reached or stopped answering (before
    anything was written too: the error line says so, and there is no report then), or when the outcome of a
    request stayed unknown (run the same command again to resume).
    """
    from register_batch.mapping import load_mapping
    from register_batch.readers import check_inputs_open, input_paths
    from register_batch.reports import check_report_dir, run_clock
    from register_batch.sync import SyncOptions, SyncResult, sync_files
    from register_batch.sync.target import load_token, open_target

    input_paths(inputs)  # a file given twice is refused before a target starts

    settings = state.settings(
        target=target,
        state_dir=state_dir,
        rate=rate,
        mappings=list(mappings),
        api_version=api_version,
        token_file=token_file,
        ukprn=ukprn,
    )
    # A bad setting is refused before anything starts (the embedded emulator, in the state dir), naming its source.
    # ... and a default state dir with no ledger beside the one an older build kept (review195 F1), before any request.
    settings.check("rate", "target", "ukprn", "api_version", "mappings", "token", "state_dir")
    state.running_for(settings)  # whom for, and where its token came from: said by its lines and errors
    limits = parse_rate(settings.rate)
    state.say_rate(settings.target, limits)
    token = load_token(token_file_to_use(settings))
    # The run's start, as its report and ledger row say it: its report folder is named by it too (review208 F6).
    started = run_clock()
    folder = _report_dir(settings, report_dir, "sync", at=started)
    check_report_dir(folder, [*inputs, *settings.mappings])  # as sync_files does, before the embedded emulator starts
    # An input that is not there (a mistyped name), a folder or not to be read is refused, once the settings are known
    # good, before a target starts: no embedded emulator, no state dir, no Target: line (review151 F6); so is one
    # whose format reading could not tell, as the mappings it reads with would say (review160 F1).
    # The mapping files are read here, once: the run is lent what was read (a pipe, `--mapping <(...)`, is empty the
    # second time).
    mapping = load_mapping(settings.mappings)
    check_inputs_open(inputs, fmt, mapping)
    result: SyncResult | None = None
    summary = ""  # the summary line while it is being written
    held = OutcomeHeld()
    try:
        with open_target(settings.target, token, settings.state_dir, ukprn=settings.ukprn, as_of=as_of) as where:
            state.say_target(where)
            options = SyncOptions(
                target=where.url,
                token=where.token,
                state_dir=settings.state_dir,
                report_dir=folder,
                dry_run=dry_run,
                as_of=as_of,
                rate=limits,
                per_page=per_page,
                timeout=timeout,
                fmt=fmt,
                mapping_files=tuple(settings.mappings),
                api_version=settings.api_version,
                target_label=where.label,
                target_identity=where.identity,
                ukprn=settings.ukprn,
                ukprn_source=settings.given_with("ukprn"),
                config_file=shown_path(settings.config_file),
                token_source=token_source(settings) or ("the embedded emulator's own" if where.embedded else None),
                started=started,
                embedded=where.embedded,
                stand_in=where.stand_in,
                keep_issues=False,  # the reports are what people read: no copy of every issue held in memory
            )
            with state.progress() as progress:
                try:
                    # The command owns its process: its Ctrl-C, SIGTERM and SIGHUP finish the request in flight.
                    result = sync_files(
                        inputs, options, progress=progress, held_lock=where.lock, mapping=mapping, handle_signals=True
                    )
                finally:
                    # The outcome is decided (a result, or the Interrupted that carries one): a signal while the
                    # embedded emulator stops and the summary is printed changes nothing (review119 F4).
                    held.hold()
        if not settings.ukprn:
            state.token_listed_under(result.report.extra.get("provider", {}).get("listed_ukprn"))
        summary = state.with_run(state.for_whom(result.summary_line()), result.run_id)
        echo(summary)
        summary = ""  # written
        say_causes(result.report)
        state.say_report(result.report_paths)
    except KeyboardInterrupt:
        if result is None:
            raise
        # A stop (SIGTERM from systemd, say) once the run has returned: its reports are written and its ledger's run
        # closed, so it was not interrupted, and it exits with its own code rather than 3. A write the signal cut
        # short is dropped by Python's buffer: the summary is written again (a second stop gives it up).
        if summary:
            with contextlib.suppress(KeyboardInterrupt):
                echo(summary)
    finally:
        held.release()
    sys.exit(result.exit_code)
