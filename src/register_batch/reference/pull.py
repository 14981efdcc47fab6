"""Fetch Register's live code lists (`GET /reference-data`, no token needed) and compare them with the bundled ones."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from register_batch.arguments import checked_client
from register_batch.errors import ConfigError
from register_batch.fs import (
    NAME_TOO_LONG,
    STATE_DIR_ENTRIES,
    StrPath,
    private_dir,
    read_at_most,
    shut_to_this_user,
    size_in_words,
    write_private_text,
)
from register_batch.reference import (
    PULLED_FILE,
    PULLED_FILE_LIMIT,
    ReferenceData,
    load_reference,
    payload_problem,
    pulled_file,
    pulled_payload,
)
from register_batch.wording import ESCAPE_UNENCODABLE, cut_short

_Found = TypeVar("_Found")

if TYPE_CHECKING:  # the API client (httpx) only when a pull is made: validate reads pulled lists, and sends nothing
    from register_batch.api import RegisterClient


def pull_reference(client: RegisterClient, state_dir: StrPath, *, target_identity: str | None = None) -> Path:
    """Save the target's reference data in the state dir; validation uses it from then on (`sync_files` with that
    `state_dir`, and the command line's validate, convert and sync with it in their settings).

    A state dir whose sync ledger is bound to another target is refused (ConfigError) before the request, as sync
    refuses it: its validation would judge that target's records by this one's lists. `target_identity` is what the
    ledger binds to, as SyncOptions' is (the embedded emulator's: `embedded-emulator`); by default the client's
    service."""
    from register_batch.api import UNAVAILABLE
    from register_batch.api.errors import first_request_failed

    checked_client(client)
    check_state_dir_target(state_dir, target_identity or client.root)
    try:
        payload = client.reference_data()
    except UNAVAILABLE as exc:
        raise first_request_failed(
            exc, "nothing was saved, and validation keeps using the lists it used before"
        ) from None
    problem = payload_problem(payload, tuple(load_reference(client.api_version).fields))
    if problem:
        raise ConfigError(
            f"{client.base}/reference-data did not answer with reference data ({problem}); nothing was saved"
        )
    document = {
        "api_version": client.api_version,
        "target": client.root,
        # What a sync's ledger binds to (the embedded emulator's identity, not its URL of the moment): a sync to
        # another target refuses a state dir holding these lists (sync/ledger.py, _check_pulled_from).
        "target_identity": target_identity or client.root,
        "pulled_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "payload": payload,
    }
    text = json.dumps(document, indent=1, ensure_ascii=False) + "\n"
    size = len(text.encode("utf-8", ESCAPE_UNENCODABLE))  # as write_private_text writes it
    if size > PULLED_FILE_LIMIT:  # saved, it would be refused by every run that reads it (read_at_most)
        raise ConfigError(
            f"{client.base}/reference-data answered with {size:,} bytes of reference data, more than the "
            f"{size_in_words(PULLED_FILE_LIMIT)} a pulled file may hold; nothing was saved"
        )
    path = private_dir(state_dir, own=STATE_DIR_ENTRIES) / PULLED_FILE
    write_private_text(path, text)
    return path


def check_state_dir_target(state_dir: StrPath, identity: str) -> None:
    """Refuse (ConfigError) a state dir whose sync ledger is bound to another target than `identity`, as sync refuses
    it. A state dir with no ledger is left as it is: a pull alone binds nothing, as it makes no trainee ids."""
    from register_batch.sync.ledger import LEDGER_FILE, Ledger

    ledger = Path(state_dir) / LEDGER_FILE
    if _looked_up(state_dir, ledger, ledger.exists):
        Ledger(Path(state_dir), identity).close()


def pulled_lists(state_dir: StrPath) -> Path | None:
    """The pulled reference file in `state_dir` (`reference pull`'s), None when there is none: the lists a run with
    that state dir validates by."""
    return _looked_up(state_dir, Path(state_dir) / PULLED_FILE, lambda: pulled_file(state_dir))


def _looked_up(state_dir: StrPath, path: Path, look: Callable[[], _Found]) -> _Found:
    """`look()` for `path` in `state_dir`, where a state dir inside another user's owner-only folder (a sudo run's),
    or named past what the file system takes, is a ConfigError (as the state dir's lock says it), not a bare OSError
    (review45 F1)."""
    try:
        return look()
    except PermissionError:
        raise ConfigError(f"cannot look in the state dir {state_dir}: {shut_to_this_user(path)}") from None
    except OSError as exc:
        if exc.errno != errno.ENAMETOOLONG:
            raise
        raise ConfigError(f"cannot use {cut_short(os.fspath(state_dir))} as the state dir ({NAME_TOO_LONG})") from None


def diff_reference(bundled: ReferenceData, pulled: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per field: codes only in the pulled lists, only in the bundled ones, labels that differ, and (`changed`) the
    withdrawal triggers, future_interest values and reasons' triggers that differ: validation judges by them too."""
    payload = pulled.get("payload", pulled)
    changes: dict[str, dict[str, Any]] = {}
    for field in sorted(set(bundled.fields) | set(payload)):
        ours = bundled.api_payload(field) if field in bundled.fields else {}
        given = payload.get(field) or {}
        mine = {e["code"]: e.get("display_name") for e in ours.get("entries", [])}
        theirs = {e["code"]: e.get("display_name") for e in given.get("entries", [])}
        added = sorted(set(theirs) - set(mine))
        removed = sorted(set(mine) - set(theirs))
        relabelled = sorted(c for c in set(mine) & set(theirs) if mine[c] != theirs[c])
        changed = _withdrawal_changes(ours, given) if field == "withdrawal_reasons" and ours and given else []
        if added or removed or relabelled or changed:
            changes[field] = {
                "added": [(c, theirs[c]) for c in added],
                "removed": [(c, mine[c]) for c in removed],
                "relabelled": [(c, mine[c], theirs[c]) for c in relabelled],
                "changed": changed,
            }
    return changes


def not_judged(bundled: ReferenceData, field: str, code: str) -> str | None:
    """What the bundled rule tables cannot tell of a code a pull added to list `field` (review210 F4), or None: a pull
    updates the codes, not funding.yml, the allocation subjects nor the internal names; validate warns of it
    (initiative_not_judged, funding_not_judged) and sends the record for Register to judge."""
    if not bundled.unjudged(field, code):
        return None
    return {
        "training_initiative": "which academic cycles it runs in (initiative_not_judged)",
        "course_subject": "its funding: no bundled allocation subject takes it (funding_not_judged)",
        "training_route": "its funding: the bundled funding tables do not name it (funding_not_judged)",
    }[field]


def _withdrawal_changes(mine: dict[str, Any], theirs: dict[str, Any]) -> list[tuple[str, list[str], list[str]]]:
    """The withdrawal `triggers` and `future_interest` (§2.2), and the triggers of each reason both lists have, that
    differ: (what, bundled, pulled)."""
    changed = [(key, mine.get(key, []), theirs.get(key, [])) for key in ("triggers", "future_interest")]

    def triggers(entries: list[dict[str, Any]]) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for entry in entries:
            found.setdefault(entry["code"], []).append(entry["trigger"])
        return {code: sorted(given) for code, given in found.items()}

    ours, given = triggers(mine["entries"]), triggers(theirs["entries"])
    changed += [(f"{code} trigger", ours[code], given[code]) for code in sorted(set(ours) & set(given))]
    return [(what, old, new) for what, old, new in changed if old != new]


def read_pulled(state_dir: StrPath) -> dict[str, Any]:
    """The pulled file's document: `target`, `pulled_at` and the `payload` it holds, checked as validation checks it."""
    path = Path(state_dir) / PULLED_FILE
    try:
        pulled_file(state_dir)  # a folder, a link to nothing: said as such, not as "Is a directory" or "none pulled"
        document = json.loads(read_at_most(path, PULLED_FILE_LIMIT, "a pulled reference file").decode("utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no pulled reference data in {state_dir}: run `register-batch reference pull` first"
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read pulled reference data ({exc.strerror or exc})") from None
    except (ValueError, RecursionError) as exc:  # RecursionError: JSON nested thousands deep
        raise ConfigError(f"{path}: not valid JSON ({exc})") from None
    pulled_payload(document, path)
    return document
