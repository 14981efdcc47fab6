"""`register-batch export`: what Register holds, as Register CSV, HESA XML, JSON or JSON Lines."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from register_batch.commands.common import (
    CONTEXT,
    FolderPath,
    HelpCommand,
    OutcomeHeld,
    OutputFile,
    State,
    api_version_option,
    as_of_option_saying,
    check_output_ending,
    echo,
    pass_state,
    say_opening_in_excel,
    timeout_option,
)
from register_batch.commands.sync import target_options
from register_batch.config import UKPRN_OF, parse_rate, token_file_to_use
from register_batch.constants import EXPORT_FORMATS, PER_PAGE_MOST, TRAINEE_STATUSES
from register_batch.errors import ConfigError
from register_batch.wording import counted, printable, shell_word

if TYPE_CHECKING:
    from register_batch.export import ExportResult


def _since(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    """Checked here, not by Register: a typo would cost a request (and exit 1) instead of a usage error."""
    from register_batch.export import SINCE_EXAMPLE, readable_since

    if value is None or readable_since(value):
        return value
    raise click.BadParameter(f"{value!r} is not an ISO 8601 date or time, {SINCE_EXAMPLE}")


@click.command(cls=HelpCommand, context_settings=CONTEXT)
@target_options
@click.option(
    "--academic-cycle",
    type=click.IntRange(2000, 2100),
    default=None,
    metavar="YYYY",
    help="Start year of the cycle to export (2025 = 2025/26; default the cycle current today, in UTC).",
)
@click.option(
    "--status",
    type=click.Choice(TRAINEE_STATUSES),
    default=None,
    help="Only trainees in this status.",
)
@click.option(
    "--since",
    default=None,
    callback=_since,
    metavar="ISO-TIME",
    help="Only trainees changed at or after this time (e.g. 2026-11-01T00:00:00Z; UTC when it gives no offset).",
)
@click.option(
    "--to",
    "to",
    type=click.Choice(EXPORT_FORMATS),
    required=True,
    help="register-csv: Register's bulk-add template; hesa-xml: an ITTRecord document; json/jsonl: "
    "the API's trainee objects.",
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    required=True,
    help="Output file (owner-only: it holds personal data).",
)
@click.option(
    "--state-dir",
    type=FolderPath(),
    default=None,
    help="Where the embedded emulator keeps its data, used only when no target is set (default: state_dir in the "
    "settings, else .register-batch/embedded-emulator).",
)
@click.option(
    "--rate",
    default=None,
    metavar="N/SECONDS",
    help="Client-side pacing: at most N requests in any SECONDS; N alone is N a minute (default 95/60).",
)
@click.option(
    "--per-page",
    type=click.IntRange(1, PER_PAGE_MOST),
    default=500,
    show_default=True,
    help="Trainees per listing request.",
)
@timeout_option(" (a page of --per-page 5000 is some 15 MB: on a slow line, give a smaller page or a longer timeout)")
@click.option(
    "--ukprn",
    default=None,
    metavar="UKPRN",
    help=f"The UKPRN of {UKPRN_OF['export']} (or `ukprn` in register-batch.toml): the export stops, writing "
    "nothing, if Register lists the token's trainees under another UKPRN.",
)
@api_version_option
@as_of_option_saying(
    "The day taken as today: without --academic-cycle, the cycle current on it is exported, and the embedded emulator "
    "judges dates as of it, as a sync's --as-of has it do (default: today in UTC, as Register counts days)."
)
@pass_state
def export(
    state: State,
    target: str | None,
    token_file: Path | None,
    academic_cycle: int | None,
    status: str | None,
    since: str | None,
    to: str,
    output: Path,
    state_dir: Path | None,
    rate: str | None,
    per_page: int,
    timeout: float,
    ukprn: str | None,
    api_version: str | None,
    as_of: date | None,
) -> None:
    """Write what Register holds for a cycle, for reconciliation or to load back into the SRS.

    Pages through GET /trainees oldest change first, each page from the last change read, without repeats:
    a trainee that changes or leaves the listing during the export cannot make another one be skipped, and one
    changed before it was reached is written as it now is. An empty cycle writes a valid empty file and says so.

    Exits 0 when the file is written (an empty one too); 1 when Register answered with an error no retry mends; 2
    for usage, configuration (a target whose host name is not found among it), a missing or rejected token, another
    provider's token (with --ukprn), an --academic-cycle Register does not take (or, without --academic-cycle, the
    cycle current today or on --as-of's day when the target does not take it), or an output that cannot be written;
    3 when interrupted, or when Register could not be reached, kept failing after retries or refused this machine
    (run it again later), as for sync. When it exits other than 0, no file was written, and an earlier file of that
    name stays as it was.
    """
    from register_batch.api import RateLimiter, RegisterClient
    from register_batch.export import export_trainees
    from register_batch.fs import check_not_in_state_dir
    from register_batch.sync.target import load_token, open_target
    from register_batch.validation.facts import as_of_or_today, cycle_of

    check_output_ending(output, to)
    # The cycle "current" is, named in the summary line: Register's is by the date (1 August to 31 July), and around 1
    # August a count alone reads as trainees lost (review183 F5). It is asked for by its year, that of --as-of's day
    # or of today in UTC: the line then says what was asked, not what a target left to pick its own "current" was
    # assumed to pick (an emulator started with --as-of picks by its day, review188 F4).
    current = cycle_of(as_of_or_today(as_of)) if academic_cycle is None else None
    asked_cycle = academic_cycle or current
    settings = state.settings(
        target=target, state_dir=state_dir, rate=rate, api_version=api_version, token_file=token_file, ukprn=ukprn
    )
    settings.check("rate", "target", "ukprn", "api_version", "token", command="export")
    state.running_for(settings)  # whom for, and where its token came from: said by its lines and errors
    limit, period = parse_rate(settings.rate)
    state.say_rate(settings.target, (limit, period))
    check_not_in_state_dir(output, settings.state_dir)
    token = load_token(token_file_to_use(settings))
    held = OutcomeHeld()
    try:
        with open_target(
            settings.target, token, settings.state_dir, ukprn=settings.ukprn, command="export", as_of=as_of
        ) as where:
            state.say_target(where)
            with (
                RegisterClient(
                    where.url,
                    where.token,
                    limiter=RateLimiter(limit, period),
                    api_version=settings.api_version,
                    timeout=timeout,
                ) as client,
                state.progress() as progress,
            ):
                try:
                    result = export_trainees(
                        client,
                        to=to,
                        output=output,
                        academic_cycle=asked_cycle,
                        status=status,
                        since=since,
                        per_page=per_page,
                        progress=progress,
                        ukprn=settings.ukprn,
                        ukprn_source=settings.given_with("ukprn"),
                    )
                except ConfigError as exc:
                    if academic_cycle is None and "academic_cycle_value" in exc.values:
                        raise _not_taken(exc, output, as_of) from None
                    raise
                finally:
                    # The file is written (or the export refused): a signal while the client closes, the embedded
                    # emulator stops and the summary is printed changes nothing (review119 F4).
                    held.hold()
        _say_exported(
            state,
            result,
            to=to,
            academic_cycle=academic_cycle,
            current=current,
            as_of=as_of,
            status=status,
            since=since,
            embedded=_embedded_said(settings.state_dir, settings.sources.get("state_dir") == "default")
            if result.empty and where.embedded
            else "",
        )
    finally:
        held.release()
    sys.exit(result.exit_code)


def _day_said(as_of: date | None) -> str:
    """The day whose current cycle an export without --academic-cycle asks for, as its lines say it."""
    return "today (UTC)" if as_of is None else f"on {as_of}"


def _not_taken(refused: ConfigError, output: Path, as_of: date | None) -> ConfigError:
    """The target's 422 to the cycle asked for when none was given (the cycle current today, or on --as-of's day):
    said as that, not as an --academic-cycle the user never gave (review188 F4). Only what is known is said: the
    target does not take that cycle. Why is not known (an emulator started with an earlier --as-of, a Register with no
    such cycle yet), and with --as-of the cycle was the user's choice, not the target's clock (review191 F1)."""
    from register_batch.validation.facts import cycle_label

    year = int(str(refused.values["academic_cycle_value"]))
    day = _day_said(as_of) + ("" if as_of is None else " ({as_of})")
    other_day = "" if as_of is None else ", or another {as_of}"
    kept = ", and the earlier {output} stays as it was" if output.exists() else ""
    return ConfigError.naming(
        f"the target does not take the academic cycle current {day}, {cycle_label(year)} (GET /trainees -> 422: "
        f"{{answer}}): no file was written{kept}. Give the cycle to export with {{academic_cycle}} YYYY{other_day}",
        answer=refused.values.get("answer", ""),
        output=output,
    )


def _embedded_said(state_dir: Path, default: bool) -> str:
    """What an empty export of the embedded emulator adds: where its data is, and the state dirs near it whose embedded
    emulator has data, with the --state-dir to export one (review222 F3: an export after a rehearsal synced with
    --state-dir read the default state dir's, empty, and wrote an empty file, exit 0). Near: one or two folders below
    the folder the default state dir (.register-batch/embedded-emulator) is in, or below this folder."""
    from register_batch.sync.target import EMBEDDED_DIR, embedded_data_nearby

    root = Path(state_dir).parent.parent if default else Path()
    said = f" The embedded emulator's data is in {printable(str(Path(state_dir) / EMBEDDED_DIR))}"
    nearby = embedded_data_nearby(root, Path(state_dir))
    if not nearby:
        return said + "."
    named = [shell_word(str(folder)) for folder in nearby[:3]]
    more = f" (and {counted(len(nearby) - 3, 'other')})" if len(nearby) > 3 else ""
    one = len(nearby) == 1
    return (
        f"{said}; {', '.join(named)}{more} {'holds' if one else 'hold'} an embedded emulator's data too, as a sync "
        f"given --state-dir leaves it: give export the same --state-dir to export {'it' if one else 'one'} "
        f"(--state-dir {named[0]})."
    )


def _say_exported(
    state: State,
    result: ExportResult,
    *,
    to: str,
    academic_cycle: int | None,
    current: int | None,
    as_of: date | None,
    status: str | None,
    since: str | None,
    embedded: str = "",
) -> None:
    """The export's summary line, then its notes. `current`: the cycle exported when none was given, by the day taken
    as today (`as_of`, else today in UTC). `embedded`: what an empty export of the embedded emulator adds
    (_embedded_said)."""
    from register_batch.validation.facts import cycle_label

    files = ", ".join(str(p) for p in result.outputs)
    cost = counted(result.requests["total"], "request")
    # Which trainees were asked for: a cohort synced in July starts in the next cycle, not Register's current one, and
    # a cohort's second years started in an earlier one, so a count alone reads as trainees lost.
    asked = ", ".join(
        [
            f"academic cycle {academic_cycle} to {academic_cycle + 1}"
            if academic_cycle
            else f"the academic cycle current {_day_said(as_of)}, {cycle_label(current or 0)}",
            *([f"status {status}"] if status else []),
            *([f"changed since {since}"] if since else []),
            # Whose trainees they are, as Register says: a job run with another provider's token shows it here.
            *([f"listed under UKPRN {', '.join(result.providers)}"] if result.providers else []),
        ]
    )
    if not academic_cycle:  # after the filters, or they read as part of the hint
        asked += "; --academic-cycle YYYY for another"
    if result.empty:
        echo(state.for_whom(f"No trainees matched ({asked}): wrote an empty {to} file to {files} ({cost}).{embedded}"))
    else:
        echo(state.for_whom(f"Exported {counted(result.written, 'trainee')} to {files} ({asked}; {cost})."))
        say_opening_in_excel(state, to)
    for line in result.note_lines():
        state.say(f"note: {line}", err=True)
    state.say_stale_parts(result.stale)
    state.say_leftovers(result.leftovers, "export")
