"""The library's arguments, checked where a caller gives them (review62 F5).

A caller without a type checker (settings from JSON, a Celery task's arguments) gets a ConfigError naming the
argument, before anything is read or written, rather than silent wrong behaviour ("no" taken as true) or a bare
TypeError or AttributeError from deep inside the run, outside the RegisterBatchError hierarchy library.md promises.
A refused value is said through `tokens.shown_value`: a token given in its place (settings from a row whose columns
shifted) is never shown (review225 F3).
"""

from __future__ import annotations

import math
import operator
import os
from pathlib import Path

from register_batch.constants import PER_PAGE_MOST
from register_batch.errors import ConfigError
from register_batch.progress import Progress
from register_batch.tokens import shown_value


def checked_flag(name: str, value: object) -> bool:
    """`value` as the bool it must be: `True`/`False`, or 0/1 as Python's own flags take them. A string is true in
    Python whatever it says, so `junit="no"` wrote junit.xml: refused, naming the argument."""
    if type(value) is int and value in (0, 1):
        return bool(value)
    if not isinstance(value, bool):
        raise ConfigError.naming(f"{{{name}}} must be True or False, not {{value}}", value=shown_value(value))
    return value


def checked_folder(name: str, value: object) -> Path:
    """`value` as the folder (or file) path it must be: a `str` or path object. None (an unset setting) or bytes
    ended in a TypeError that named nothing."""
    if isinstance(value, bytes) or not isinstance(value, str | os.PathLike):
        raise ConfigError.naming(
            f"{{{name}}} must be a path (a str or pathlib.Path), not {{value}}", value=type(value).__name__
        )
    return Path(value)


def checked_jobs(jobs: object) -> int | None:
    """`jobs` as `validate_files` takes it: None (decided by the input's size) or a whole number from 1. 0 and -1 ran
    as if 1 had been given, which hid a mistake (a count read as 0 from a setting)."""
    if jobs is None:
        return None
    if type(jobs) is not int or jobs < 1:
        raise ConfigError.naming(
            "{jobs} must be a whole number of processes from 1 (or None to decide by the input's size), not {value}",
            value=shown_value(jobs),
        )
    return jobs


def checked_progress(progress: object) -> Progress:
    """`progress` as a `register_batch.progress.Progress`: None ended in an AttributeError once the records were
    read. The default, nothing shown, is `register_batch.progress.SILENT`."""
    if not isinstance(progress, Progress):
        raise ConfigError.naming(
            "{progress} must be a register_batch.progress.Progress (leave it out to show nothing), not {value}",
            value=type(progress).__name__,
        )
    return progress


def checked_whole(name: str, value: object) -> int:
    """`value` as the whole number it must be (`True` and 2.5 are none; a numpy integer is one): a seed of 1.5 or
    a cycle of "2025" ended in a TypeError, or made a file no later run could make again."""
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise ConfigError.naming(f"{{{name}}} must be a whole number, not {{value}}", value=shown_value(value))
    return operator.index(value)


def checked_share(name: str, value: object) -> float:
    """`value` as a share of records, 0 to 1: "0.1" from a settings file ended in a TypeError."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ConfigError.naming(
            f"{{{name}}} is a share of records between 0 and 1, not {{value}}", value=shown_value(value)
        )
    return float(value)


def checked_timeout(timeout: object) -> None:
    """ConfigError unless `timeout` is a number of seconds above 0 a socket can wait: `True` (an int to Python) was
    a 1-second timeout, "30" from a settings file a TypeError, and 0 or NaN socket's ValueError or no request at all.
    `SyncOptions` and `RegisterClient` refuse it alike (review163 F4)."""
    if isinstance(timeout, bool) or not (isinstance(timeout, int | float) and 0 < timeout < math.inf):
        raise ConfigError.naming(
            "{timeout} must be a number of seconds above 0, not {value}", value=shown_value(timeout)
        )


def checked_per_page(per_page: object) -> None:
    """ConfigError unless `per_page` is a page size Register lists (§2.3): below 1 it lists nothing or a page of its
    own size, and above PER_PAGE_MOST it refuses; `True` is an int to Python, and no page size (review163 F4)."""
    if isinstance(per_page, bool) or not isinstance(per_page, int) or not 1 <= per_page <= PER_PAGE_MOST:
        raise ConfigError.naming(
            f"{{per_page}} must be a whole number from 1 to {PER_PAGE_MOST}, not {{value}}", value=shown_value(per_page)
        )


def checked_client(client: object) -> None:
    """ConfigError unless `client` is a `RegisterClient`: a URL or None in its place was an AttributeError deep in the
    run (review88 F3)."""
    from register_batch.api import RegisterClient

    if not isinstance(client, RegisterClient):
        raise ConfigError.naming(
            "{client} must be a register_batch.api.RegisterClient, not {value}", value=type(client).__name__
        )


def checked_target(target: object) -> None:
    """ConfigError unless `target` is text: None (a setting left unset) was an AttributeError at the first request,
    or when the client was made (review88 F3)."""
    if not isinstance(target, str):
        raise ConfigError.naming(
            "{target} must be 'sandbox', 'production' or a URL (text), not {value}", value=type(target).__name__
        )


def checked_kind(name: str, value: object, kind: type, made_by: str) -> None:
    """ConfigError unless `value` is None or a `kind` (`made_by` says where one comes from): another object ended in
    an AttributeError deep in the run."""
    if value is not None and not isinstance(value, kind):
        raise ConfigError.naming(
            f"{{{name}}} must be a {kind.__name__} (from {made_by}) or None, not {{value}}", value=type(value).__name__
        )
