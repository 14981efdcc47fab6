"""Fetch Register's live code lists (`GET /reference-data`, no token needed) and compare them with the bundled ones."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from register_batch.api import UNAVAILABLE, RegisterClient, TransportError
from register_batch.errors import ConfigError, RegisterUnavailable
from register_batch.fs import STATE_DIR_ENTRIES, private_dir, read_at_most, size_in_words, write_private_text
from register_batch.reference import (
    PULLED_FILE,
    PULLED_FILE_LIMIT,
    ReferenceData,
    load_reference,
    payload_problem,
    pulled_file,
    pulled_payload,
)
from register_batch.wording import ESCAPE_UNENCODABLE


def pull_reference(client: RegisterClient, state_dir: Path) -> Path:
    """Save the target's reference data in the state dir; validation uses it from then on."""
    try:
        payload = client.reference_data()
    except UNAVAILABLE as exc:
        # A host name not found is not Register unavailable: running again later will not mend it.
        if isinstance(exc, TransportError) and exc.name_unknown:
            raise RegisterUnavailable(
                f"{client.root} could not be reached ({exc}); nothing was saved, and validation keeps using the "
                "lists it used before"
            ) from None
        raise RegisterUnavailable(
            f"Register was unavailable ({exc}); nothing was saved, and validation keeps using the lists it used "
            "before. Run again later."
        ) from None
    problem = payload_problem(payload, tuple(load_reference(client.api_version).fields))
    if problem:
        raise ConfigError(
            f"{client.base}/reference-data did not answer with reference data ({problem}); nothing was saved"
        )
    document = {
        "api_version": client.api_version,
        "target": client.root,
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


def diff_reference(bundled: ReferenceData, pulled: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Per field: codes only in the pulled lists, only in the bundled ones, and labels that differ."""
    payload = pulled.get("payload", pulled)
    changes: dict[str, dict[str, Any]] = {}
    for field in sorted(set(bundled.fields) | set(payload)):
        mine = (
            {e["code"]: e.get("display_name") for e in bundled.api_payload(field)["entries"]}
            if field in bundled.fields
            else {}
        )
        theirs = {e["code"]: e.get("display_name") for e in (payload.get(field) or {}).get("entries", [])}
        added = sorted(set(theirs) - set(mine))
        removed = sorted(set(mine) - set(theirs))
        relabelled = sorted(c for c in set(mine) & set(theirs) if mine[c] != theirs[c])
        if added or removed or relabelled:
            changes[field] = {
                "added": [(c, theirs[c]) for c in added],
                "removed": [(c, mine[c]) for c in removed],
                "relabelled": [(c, mine[c], theirs[c]) for c in relabelled],
            }
    return changes


def read_pulled(state_dir: Path) -> dict[str, Any]:
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
