"""`register-batch ledger forget`: erase records from the sync ledger (a data subject's erasure, a cohort's retention).

The library's `sync.ledger.forget_records` does the work; this reads the options and says what it did in one line.
"""

from __future__ import annotations

import csv
import io
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
from register_batch.config import Settings, host_named_ledger
from register_batch.errors import ConfigError
from register_batch.tokens import held_token
from register_batch.wording import counted, printable, shell_word

# HUSIDs named in the summary line; a cohort's thousands are counted, not listed.
NAMED_AT_MOST = 10
SRS_PREFIX = "srs:"  # an --ids-from line that is an SRS id (the others are HUSIDs)
# The columns an --ids-from CSV is read by, as the tool's own CSVs name them (not_in_extract.csv, results.csv).
HESA_COLUMN, SRS_COLUMN = "hesa_id", "provider_trainee_id"


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
@click.option(
    "--hesa-id",
    "hesa_ids",
    multiple=True,
    metavar="HUSID",
    help="A trainee's HUSID (digits; as a report's CSV writes it, '2500464679258, is taken too); repeat for several.",
)
@click.option("--srs-id", "srs_ids", multiple=True, metavar="ID", help="A trainee's SRS id; repeat for several.")
@click.option(
    "--ids-from",
    type=UserPath(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="A file of ids: a CSV whose header has a hesa_id column (a sync's not_in_extract.csv or results.csv: each "
    "row's hesa_id, else its provider_trainee_id as an SRS id), or else one HUSID a line (a line srs:ID is an SRS id; "
    "blank lines and # comments are skipped).",
)
@click.option(
    "--not-synced-since",
    metavar="YYYY-MM-DD",
    default=None,
    help="Also every trainee no sync has noted since this day (UTC): a finished cohort. A sync notes each record it "
    "matched, wrote, found unchanged, or held back as a conflict or blocked, not one held back as invalid; a trainee "
    "any of whose records (a HUSID corrected) was noted since is kept whole.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Say what would be forgotten, what is lost, and what would refuse it now; change nothing.",
)
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
    carried out (the line says when it can be forgotten). Report folders of earlier runs still name them: the security
    page of the documentation (Erasure and retention) says which, and how to erase those.

    Exits 0 when done (ids not in the ledger among others are named: nothing is held of them; a dry run that lists
    refusals too); 1 when ids were given and the ledger holds none of them, so nothing was (or, with --dry-run, would
    be) forgotten: a wrong --state-dir?; 2 for
    unusable options or ids, no ledger there, a state dir or ledger in use, a ledger you cannot write, or a refusal.

    \b
    Example:
      register-batch ledger forget --hesa-id 2500464679258
      register-batch ledger forget --ids-from reports/sync-20260801/not_in_extract.csv --dry-run
      register-batch ledger forget --not-synced-since 2025-08-01 --dry-run
    """
    result_on_stdout()
    from register_batch.sync.ledger import forget_records

    since = _day(not_synced_since)
    husids = [_husid(value, "--hesa-id") for value in hesa_ids]
    srs = [_srs_id(value, "--srs-id") for value in srs_ids]
    if ids_from is not None:
        more_husids, more_srs = _ids_in(ids_from)
        husids += more_husids
        srs += more_srs
    if not (husids or srs or since):
        raise ConfigError("ledger forget: say whom to forget: --hesa-id, --srs-id, --ids-from or --not-synced-since")
    settings = state.settings(target=target, state_dir=state_dir)
    settings.check("target", "state_dir")  # a ledger an older build kept beside an empty default: move it first
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
        line += f"; {len(done.not_found)} not in the ledger ({_listed(done.not_found)})"
    if done.refused:
        line += f"; refused now, for {counted(len(done.refused), 'record')} with a write Register may still carry out"
    if dry_run:
        line += "; nothing was changed (--dry-run)"
    echo(line)
    asked = len(set(husids)) + len(set(srs))
    none_found = bool(asked) and len(done.not_found) == asked and not done.hesa_ids
    if done.not_found:
        state.say(
            f"warning: {len(done.not_found)} of the {asked} ids given {'is' if len(done.not_found) == 1 else 'are'} "
            f"not in {printable(str(done.ledger))}, so nothing of {'it' if len(done.not_found) == 1 else 'them'} is "
            f"held there: if {'it was' if len(done.not_found) == 1 else 'they were'} synced, check that the "
            "--state-dir (or --target, or settings file) is the sync's, and the ids",
            err=True,
        )
    if (older := _older_ledger(settings)) is not None:
        state.say(
            f"warning: {printable(str(older))} holds the ledger an earlier version kept for this target (it named the "
            f"state dir otherwise): they may be held there too: run this again with --state-dir "
            f"{shell_word(str(older))}",
            err=True,
        )
    for husid, why in done.refused:
        state.say(f"note: would be refused: HUSID {printable(husid)}: {why}", err=True)
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
            f"note: another program has {printable(str(done.ledger))} open, so it could not be rebuilt: that file "
            "itself still holds the forgotten values, in its old pages, until the program closes it and a sync or "
            "this command opens the ledger again (which rewrites them)",
            err=True,
        )
    sys.exit(1 if none_found else 0)


def _listed(values: list[str]) -> str:
    shown = ", ".join(map(printable, values[:NAMED_AT_MOST]))
    return shown + (f", … and {len(values) - NAMED_AT_MOST} more" if len(values) > NAMED_AT_MOST else "")


def _older_ledger(settings: Settings) -> Path | None:
    """The ledger an older build kept under another name for the default state dir (config.host_named_ledger): a build
    of 2-7 December began a new ledger in the new folder, and the old one still names the trainees synced before
    (review207 F1)."""
    if settings.sources.get("state_dir") != "default":
        return None
    return host_named_ledger(settings.target, settings.state_dir)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ConfigError(f"--not-synced-since {value!r} is not a date like 2025-08-01") from None


def _unguarded(value: str) -> str:
    """An id as pasted or read from one of the tool's own CSVs: spaces and quotes around it off, and the one leading
    apostrophe the CSVs put before a HUSID or an SRS id a spreadsheet would change (csvsafe.as_text; Register strips
    exactly one too, hesa-formats.md §3.3), so that a HUSID copied from results.csv or not_in_extract.csv is the
    HUSID (review200 F1)."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":  # "…" or '…' around it, as pasted
        text = text[1:-1].strip()
    return text.removeprefix("'").strip()


# {length}: the token's; said after the line or row of the file of ids (`--ids-from env line 1`), as TOKEN_AS_ARGUMENT
TOKEN_IN_IDS = (
    "holds an API token ({length} characters; not shown): that file lists HUSIDs and SRS ids (the token file or an "
    "environment file given by mistake?); nothing forgotten"
)


def _no_token(value: str, where: str) -> None:
    """Refuse (exit 2) an id that holds an API token, never showing it: the token file or a `.env` given to --ids-from
    by mistake was quoted in the refusal, or listed as an SRS id not in the ledger (review226 F2), where every other
    reader of a user's file says only that it holds one."""
    if (length := held_token(value)) is not None:  # glued too: `REGISTER_API_TOKEN=sandbox_…` is one word
        raise ConfigError(f"{where} {TOKEN_IN_IDS.format(length=length)}")


def _husid(value: str, where: str) -> str:
    """A HUSID as given, as the ledger's key names it (`hesa:…`), or as a report's CSV writes it (`'…`): refused
    (exit 2) if it is then not digits, rather than reported not in the ledger."""
    _no_token(value, where)
    husid = _unguarded(value).removeprefix("hesa:")
    if not husid:
        raise ConfigError(f"{where}: an empty HUSID")
    if not (husid.isascii() and husid.isdigit()):
        raise ConfigError(f"{where}: {printable(value)!r} is not a HUSID (digits, as 2500464679258): nothing forgotten")
    return husid


def _srs_id(value: str, where: str) -> str:
    _no_token(value, where)
    srs_id = _unguarded(value)
    if not srs_id:
        raise ConfigError(f"{where}: an empty SRS id")
    return srs_id


def _ids_in(path: Path) -> tuple[list[str], list[str]]:
    """The HUSIDs and SRS ids an --ids-from file lists: a CSV whose header has a `hesa_id` column (the tool's own
    not_in_extract.csv, results.csv), each row's HUSID, or its SRS id where it has none; else one id a line (`srs:ID`
    for an SRS id)."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"--ids-from {printable(str(path))}: cannot be read ({exc})") from None
    where = f"--ids-from {printable(str(path))}"
    first = next((line for line in text.splitlines() if line.strip()), "")
    if HESA_COLUMN in next(csv.reader([first]), []):
        return _ids_in_csv(text, where)
    husids: list[str] = []
    srs: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        value = line.split("#", 1)[0].strip()
        if value.startswith(SRS_PREFIX):
            if value := value.removeprefix(SRS_PREFIX).strip():
                srs.append(_srs_id(value, f"{where} line {number}"))
        elif value:
            husids.append(_husid(value, f"{where} line {number}"))
    return husids, srs


def _ids_in_csv(text: str, where: str) -> tuple[list[str], list[str]]:
    husids: list[str] = []
    srs: list[str] = []
    try:
        for number, row in enumerate(csv.DictReader(io.StringIO(text)), start=2):
            if husid := _unguarded(row.get(HESA_COLUMN) or ""):
                husids.append(_husid(husid, f"{where} row {number}"))
            elif srs_id := _unguarded(row.get(SRS_COLUMN) or ""):
                srs.append(_srs_id(srs_id, f"{where} row {number}"))
    except csv.Error as exc:
        raise ConfigError(f"{where}: cannot be read as a CSV ({exc})") from None
    return husids, srs
