"""Where a sync or export goes: a named service, a URL, or the embedded emulator; and the API token.

The token comes from `REGISTER_API_TOKEN` or a token file, never from a plain command-line option, and is
wrapped in `Secret` at once so it cannot appear in reprs, logs or exception texts.
"""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from register_batch.api import Secret, resolve_target
from register_batch.config import shown_path
from register_batch.errors import ConfigError
from register_batch.fs import private_dir, read_at_most, read_private_file, write_private_text
from register_batch.portable import POSIX_PERMISSIONS
from register_batch.sync.ledger import LEDGER_FILE, Ledger, StateDirLock
from register_batch.tokens import TOKEN_AS_TOKEN_FILE, bad_token, is_bearer_token, pasted_token_file
from register_batch.wording import printable, shell_word

log = logging.getLogger("register_batch.sync")

EMBEDDED_DIR = "register"  # the embedded emulator's data, inside the state dir
EMBEDDED_DB = "register.sqlite3"  # its database, in EMBEDDED_DIR
EMBEDDED_IDENTITY = "embedded-emulator"  # what its state dir's ledger is bound to


@dataclass
class Target:
    url: str  # service root
    token: Secret | None
    label: str  # what the first line of output says
    identity: str  # what the ledger binds its trainee ids to (stable across runs)
    embedded: bool = False
    # The embedded emulator's data is in the state dir: its run holds the state dir's lock (open_target).
    lock: StateDirLock | None = None
    # The embedded emulator's provider takes this UKPRN (a run without --ukprn: the records' own), as an export of it
    # later lists: it stands in for whoever the records are of. None for Register.
    stand_in: Callable[[str], object] | None = None


# Folders looked in, at each of the two levels below the folder embedded_data_nearby starts from: it is asked only
# after an empty export, and must stay cheap in a folder with many (a home folder).
NEARBY_FOLDERS = 64


def embedded_data_nearby(root: Path, used: Path) -> list[Path]:
    """The state dirs one or two folders below `root` that a sync to the embedded emulator used (a ledger beside
    EMBEDDED_DIR/EMBEDDED_DB: an export alone leaves no ledger), but `used`: an export without a target reads the
    default state dir's embedded emulator, not the one a rehearsal synced into with --state-dir (review222 F3: an
    empty file, exit 0). At most NEARBY_FOLDERS folders a level, in name order; symbolic links are not followed."""
    try:
        skip = used.resolve()
    except OSError:
        skip = used
    found: list[Path] = []
    level = [root]
    for _depth in range(2):
        below: list[Path] = []
        for folder in level:
            try:
                with os.scandir(folder) as entries:
                    names = sorted(
                        e.name for e in entries if e.name != EMBEDDED_DIR and e.is_dir(follow_symlinks=False)
                    )
            except OSError:
                continue
            below += [folder / name for name in names[:NEARBY_FOLDERS]]
        for folder in below:
            if (folder / LEDGER_FILE).is_file() and (folder / EMBEDDED_DIR / EMBEDDED_DB).is_file():
                if folder.resolve() == skip:
                    continue
                found.append(folder)
        level = [folder for folder in below if folder not in found][:NEARBY_FOLDERS]
    return found


TOKEN_FILE_LIMIT = 64 << 10  # a token is one line (Register's are 64 characters)


def load_token(token_file: Path | None, environ: Mapping[str, str] | None = None) -> Secret | None:
    """The API token from a token file (preferred) or `REGISTER_API_TOKEN`."""
    environ = os.environ if environ is None else environ
    if token_file is not None:
        path = Path(token_file)
        # A file or folder named after its token is shown masked, in these lines too: they are written before -vv's
        # log mask is installed, to a cron job's mail or a service's log (review226 F1).
        shown = shown_path(path)
        try:
            mode = path.stat().st_mode
            # utf-8-sig: a byte-order mark, as some Windows editors save, is not part of the token
            text = read_at_most(path, TOKEN_FILE_LIMIT, "a token file").decode("utf-8-sig").strip()
        except OSError as exc:
            if (length := pasted_token_file(path)) is not None:
                raise ConfigError(TOKEN_AS_TOKEN_FILE.format(length=length)) from None
            raise ConfigError(f"{shown}: cannot read the token file ({exc.strerror or exc})") from None
        except UnicodeDecodeError:  # its message quotes a byte of the token
            raise ConfigError(
                f"{shown}: the token file is not text (UTF-8); it should hold the API token on one line"
            ) from None
        if not text:
            raise ConfigError(f"{shown}: the token file is empty")
        if POSIX_PERMISSIONS and mode & (stat.S_IRWXG | stat.S_IRWXO):  # on Windows the folder's ACL decides
            # Written by others is as bad as read: one could put another token in its place.
            # The command is pasted as it is: a name with a space would chmod two other files; a masked one is no
            # command to paste, and is said as the file.
            chmod = f"`chmod 600 {shell_word(str(path))}`" if shown == str(path) else "`chmod 600` on it"
            log.warning("%s is %s by other users; %s keeps the API token private", shown, _open_to(mode), chmod)
        return _checked(text.splitlines()[0].strip(), shown or "the token file")
    value = environ.get("REGISTER_API_TOKEN", "").strip()
    return _checked(value, "REGISTER_API_TOKEN") if value else None


_OTHERS = (
    ("readable", stat.S_IRGRP | stat.S_IROTH),
    ("writable", stat.S_IWGRP | stat.S_IWOTH),
    ("executable", stat.S_IXGRP | stat.S_IXOTH),
)


def _open_to(mode: int) -> str:
    """What others may do with a file of `mode`, in words: `readable and writable`."""
    return " and ".join(word for word, bits in _OTHERS if mode & bits)


def _checked(value: str, source: str) -> Secret:
    """A token fit for an HTTP header; the message never repeats it (not even part of it)."""
    if not is_bearer_token(value):
        raise ConfigError(f"{source}: {bad_token(value)}")
    return Secret(value)


_TOKEN_FILE_LIMIT = 4096  # a token is one line of 73 characters: more is a damaged file, read no further


def embedded_token_in(folder: Path) -> str:
    """The embedded emulator's token in `folder`, made on first use. Two first runs at once must agree on it (the
    emulator's provider is the token's): each writes a candidate and links it into place, which never replaces
    a token already there, so the first one linked is the token for good."""
    token_path = folder / "token"
    # Read back only as a file of this user's own (never through a link, never a pipe, a folder or another user's
    # file): one planted there would be a token its planter knows (review125 F1, F4).
    held = read_private_file(token_path, _TOKEN_FILE_LIMIT)
    if held is None:
        candidate = write_private_text(folder / f".token.{os.getpid()}", f"embedded_{secrets.token_hex(32)}\n")
        try:
            os.link(candidate, token_path)
        except FileExistsError:
            pass
        finally:
            candidate.unlink(missing_ok=True)
        held = read_private_file(token_path, _TOKEN_FILE_LIMIT) or b""
    token = held.decode("utf-8", errors="replace").strip()
    if not is_bearer_token(token):  # saved again by an editor (a byte order mark), or emptied: the emulator refuses it
        raise ConfigError(
            f"the embedded emulator's token file {token_path} is damaged (not one line of embedded_ and 64 hex "
            "digits): put back the one it held, as its trainees belong to that token: nothing was sent"
        )
    return token


_NOTHING_SENT = ". Nothing was sent"  # said to a refused sync; an export or a reference pull sends nothing anyway


def check_embedded_data(state_dir: Path, held: int, command: str = "sync") -> None:
    """Refuse (ConfigError, exit 2) a sync whose embedded emulator holds no trainee (`held`: its database deleted, or
    made again empty) while the state dir's ledger still links records to trainees: each record would be a conflict
    on every run (a trainee the ledger links that Register no longer returns), where an emulator started without
    --db and restarted is told as one line (the runner's links-unseen check, which the embedded emulator skips). An
    export (`command`) would write an empty file and exit 0 (review154 F2): refused the same way."""
    if held or not (state_dir / LEDGER_FILE).exists():
        return
    ledger = Ledger(state_dir, EMBEDDED_IDENTITY)  # bound to another target: refused as the run would refuse it
    try:
        linked = ledger.links_any()
    finally:
        ledger.close()
    if linked:
        raise ConfigError.naming(
            "the embedded emulator's data in {data} holds no trainee (deleted?), but the ledger in {folder} still "
            "links records to its trainees: {then}. The embedded emulator "
            "never sent them anywhere: to start afresh, delete the whole state dir {folder} (or give a new "
            "{state_dir}); to keep those trainees, put the folder {data} back from a backup, token and all{sent}",
            data=printable(str(state_dir / EMBEDDED_DIR)),
            folder=printable(str(state_dir)),
            then="every record would be a conflict, on every run" if command == "sync" else "an export would list none",
            sent=_NOTHING_SENT if command == "sync" else "",  # an export sends nothing anyway (review155 F1)
        )


def _standing_in(emulator: Any, token: str, state_dir: Path) -> Callable[[str], object]:
    """How the embedded emulator's provider takes the UKPRN of the provider it stands in for (`--ukprn`, else the one
    the records name): while it holds no trainee, or only under its own made-up UKPRN. Once it holds a provider's
    trainees it stays that provider, as a token stays its provider's in Register, and another provider's run is
    refused (ConfigError, exit 2, nothing sent): relabelled, it filed a second provider's records beside the first's
    and called them all the second's, where against Register the same run stops (review48 F1)."""
    from register_batch.emulator.app import token_digest, ukprn_for

    digest = token_digest(token)

    def stand_in(ukprn: str) -> object:
        app = emulator.app
        with app.store.transaction():
            provider = app.store.provider_by_token_hash(digest)
            holds = app.store.count_trainees()
        if provider is None or not holds or provider["ukprn"] in (ukprn, ukprn_for(digest)):
            return app.add_token(token, ukprn)
        raise ConfigError.naming(
            "the embedded emulator in {folder} holds provider {held}'s trainees ({count}), not {ukprn}'s: Register "
            "keeps each provider's trainees apart, under its own token, and a run for {ukprn} with {held}'s token "
            "stops. Rehearse provider {ukprn} in a state dir of its own ({state_dir} another "
            "folder), or delete {folder} to start afresh. Nothing was sent",
            folder=printable(str(state_dir)),
            held=provider["ukprn"],
            count=holds,
            ukprn=ukprn,
        )

    return stand_in


@contextmanager
def open_target(
    target: str | None,
    token: Secret | None,
    state_dir: Path,
    *,
    token_required: bool = True,
    ukprn: str | None = None,
    command: str = "sync",
    as_of: date | None = None,
) -> Iterator[Target]:
    """Yield the target to talk to; with none configured, run the embedded emulator for the duration.

    `ukprn` (the run's `--ukprn`) is the embedded emulator's provider's UKPRN: it stands in for your provider.
    `command` names the run in the state dir's lock, for the message another run is given. `as_of` (the run's
    `--as-of`) is the day the embedded emulator judges dates as of, as the run does: judged by today, it refused
    records the run had passed (a start date ten years before today, review156 F3).
    """
    if target:
        root = resolve_target(target)
        if token is None and token_required:
            raise ConfigError(
                f"no API token for {root}: set REGISTER_API_TOKEN or pass --token-file FILE (a file holding the "
                "token, readable only by you)"
            )
        yield Target(url=root, token=token, label=root, identity=root)
        return
    from register_batch.emulator import start_emulator
    from register_batch.emulator.store import DamagedDatabase

    # One run at a time on the emulator's data too: a second sync (the first stopped with Ctrl-Z, say) is told the
    # state dir is in use before it opens the first one's database, where it met "database is locked" (exit 70).
    with StateDirLock(Path(state_dir), command) as lock:
        folder = private_dir(Path(state_dir) / EMBEDDED_DIR)
        embedded_token = embedded_token_in(folder)
        # No test hooks: they take no token, and the data is this user's state dir's (review93 F1).
        try:
            emulator = start_emulator(db=folder / EMBEDDED_DB, tokens=[embedded_token], hooks=False, as_of=as_of)
        except DamagedDatabase as exc:
            # "Move it away" (emulator --db's advice) leads here to check_embedded_data's refusal while the ledger
            # links records to its trainees: say the two ways out at once (review152 F2).
            raise ConfigError.naming(
                "{db}: the embedded emulator's database is damaged ({reason}). The embedded emulator never sent its "
                "trainees anywhere: to start afresh, delete the whole state dir {folder} (or give a new {state_dir}); "
                "to keep them, put the folder {data} back from a backup, token and all{sent}",
                db=printable(str(exc.path)),
                reason=exc.reason,
                data=printable(str(folder)),
                folder=printable(str(state_dir)),
                sent=_NOTHING_SENT if command == "sync" else "",  # export and reference pull send nothing
            ) from None
        try:
            stand_in = _standing_in(emulator, embedded_token, Path(state_dir))
            if ukprn:
                stand_in(ukprn)
            if command in ("sync", "export"):
                check_embedded_data(Path(state_dir), emulator.snapshot()["trainees"], command)
            yield Target(
                url=emulator.url,
                token=Secret(embedded_token),
                label=(
                    f"embedded Register emulator at {emulator.url} (nothing leaves this machine; its data is in "
                    f"{printable(str(folder))})"
                ),
                identity=EMBEDDED_IDENTITY,
                embedded=True,
                lock=lock,
                stand_in=stand_in,
            )
        finally:
            emulator.stop()
