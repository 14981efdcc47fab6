"""`register-batch ledger forget`: erase records from the sync ledger (a data subject's erasure, a cohort's retention).

The library's `sync.ledger.forget_records` does the work; this reads the options and says what it did in one line.
"""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from register_batch.commands.common import (
    CONTEXT,
    Commands,
    FolderPath,
    State,
    UserPath,
    echo,
    pass_state,
    result_on_stdout,
)
from register_batch.errors import ConfigError
from register_batch.wording import counted, printable

# HUSIDs named in the summary line; a cohort's thousands are counted, not listed.
NAMED_AT_MOST = 10
SRS_PREFIX = "srs:"  # an --ids-from line that is an SRS id (the others are HUSIDs)


@click.group(cls=Commands, context_settings=CONTEXT)
def ledger() -> None:
    """The sync ledger (what a state dir knows of each trainee it synced): forget trainees (erasure, retention)."""


@ledger.command("forget", context_settings=CONTEXT)
@click.option(
    "--state-dir",
    type=FolderPath(),
    default=None,
    help="The state dir whose ledger to forget them in (default: state_dir in the settings, else "
    ".register-batch/<target>, as sync uses).",
)
@click.option(
    "--target",
    default=None,
    metavar="URL|sandbox|production",
    help="Only to find the default state dir, as sync does (else $REGISTER_API_URL or register-batch.toml); nothing "
    "is sent to it, nor to Register at all.",
)
@click.option("--hesa-id", "hesa_ids", multiple=True, metavar="HUSID", help="A trainee's HUSID; repeat for several.")
@click.option("--srs-id", "srs_ids", multiple=True, metavar="ID", help="A trainee's SRS id; repeat for several.")
@click.option(
    "--ids-from",
    type=UserPath(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="A text file of one HUSID a line (a line srs:ID is an SRS id; blank lines and # comments are skipped).",
)
@click.option(
    "--not-synced-since",
    metavar="YYYY-MM-DD",
    default=None,
    help="Also every record no sync has synced or seen in an extract since this day (UTC): a finished cohort.",
)
@click.option("--dry-run", is_flag=True, help="Say what would be forgotten, and what is lost; change nothing.")
@pass_state
def forget(
    state: State,
    state_dir: Path | None,
    target: str | None,
    hesa_ids: tuple[str, ...],
    srs_ids: tuple[str, ...],
    ids_from: Path | None,
    not_synced_since: str | None,
    dry_run: bool,
) -> None:
    """Delete every row the sync ledger holds about these trainees; Register is not touched.

    A trainee forgotten and later in an extract again is matched through Register's listing, not created twice. Refused
    (nothing forgotten) while a sync holds the state dir, or while a write a sync sent for one of them may still be
    carried out (run a sync first). Report folders of earlier runs still name them: the security page of the
    documentation (Erasure and retention) says which, and how to erase those.

    Exits 0 when done, ids not in the ledger included (the summary line names them: nothing is held of them); 2 for
    unusable options, no ledger there, a state dir in use, or a refusal.

    \b
    Example:
      register-batch ledger forget --hesa-id 2500464679258
      register-batch ledger forget --not-synced-since 2025-08-01 --dry-run
    """
    result_on_stdout()
    from register_batch.sync.ledger import forget_records

    since = _day(not_synced_since)
    husids, srs = [_husid(value) for value in hesa_ids], list(srs_ids)
    if ids_from is not None:
        more_husids, more_srs = _ids_in(ids_from)
        husids += more_husids
        srs += more_srs
    if not (husids or srs or since):
        raise ConfigError("ledger forget: say whom to forget: --hesa-id, --srs-id, --ids-from or --not-synced-since")
    settings = state.settings(target=target, state_dir=state_dir)
    settings.check("target")
    done = forget_records(
        settings.state_dir,
        hesa_ids=husids,
        srs_ids=srs,
        not_synced_since=since.isoformat() if since else None,
        dry_run=dry_run,
    )
    verb = "Would forget" if dry_run else "Forgot"
    named = ", ".join(printable(husid) for husid in done.hesa_ids[:NAMED_AT_MOST])
    if len(done.hesa_ids) > NAMED_AT_MOST:
        named += f", … and {len(done.hesa_ids) - NAMED_AT_MOST} more"
    line = f"{verb} {counted(len(done.hesa_ids), 'record')}" + (f" (HUSIDs {named})" if named else "")
    line += f" in {printable(str(done.ledger))}"
    if done.not_found:
        line += f"; {len(done.not_found)} not in the ledger ({', '.join(map(printable, done.not_found))})"
    if dry_run:
        line += "; nothing was changed (--dry-run)"
    echo(line)
    for lost in done.lost:
        state.say(f"note: {'would lose' if dry_run else 'lost'}: {lost}", err=True)
    if done.hesa_ids:
        state.say(
            "note: Register, and earlier runs' report folders, still hold them: the security page of the "
            "documentation (Erasure and retention) says which files, and how to erase them",
            err=True,
        )
    if not done.wiped:
        state.say(
            f"note: another program has {printable(str(done.ledger))} open: its -wal may hold the forgotten rows until "
            "that program closes it and a run (or this command again) empties it",
            err=True,
        )
    sys.exit(0)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--not-synced-since {value!r} is not a date like 2025-08-01") from None


def _husid(value: str) -> str:
    """A HUSID as given, or as the ledger's key (`hesa:…`) or a report names it."""
    husid = value.strip().removeprefix("hesa:")
    if not husid:
        raise ConfigError("--hesa-id: an empty HUSID")
    return husid


def _ids_in(path: Path) -> tuple[list[str], list[str]]:
    """The HUSIDs and SRS ids an --ids-from file lists (one a line; `srs:ID` for an SRS id)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--ids-from {printable(str(path))}: cannot be read ({exc})") from None
    husids: list[str] = []
    srs: list[str] = []
    for line in text.splitlines():
        value = line.split("#", 1)[0].strip()
        if value.startswith(SRS_PREFIX):
            if value := value.removeprefix(SRS_PREFIX).strip():
                srs.append(value)
        elif value:
            husids.append(value.removeprefix("hesa:"))
    return husids, srs
