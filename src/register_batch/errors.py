"""Library exceptions. The CLI turns these into one clear line and an exit code (never a traceback)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

if TYPE_CHECKING:
    from register_batch.sync.runner import SyncResult


class RegisterBatchError(Exception):
    """Base class; `exit_code` is what the CLI exits with.

    A message that tells the caller which of their settings to change names it as the library takes it (`state_dir`,
    `ukprn`): `worded` says it the way another surface takes it (the command line: by its option).
    """

    exit_code = 2
    template: str | None = None  # the message, each setting it names as {setting} and each value as {value}
    values: Mapping[str, object] = {}  # the values `template` shows
    said: Mapping[str, str] = {}  # the library's wording of a setting or phrase of `template`, if not its name
    # The sync run the error ended, as the state dir's ledger numbers it (its `runs` row): set once the row exists,
    # so that the line a report-less night ends with names the row (review208 F6); None for any other error.
    run_id: int | None = None

    @classmethod
    def naming(cls, template: str, /, *, said: Mapping[str, str] | None = None, **values: object) -> Self:
        """An error whose message names settings: `{name}` in `template` is a value given here, or else the setting
        `name`, said as `said` words it (by default its name, as the library takes it: `state_dir`). The class must
        take its message as its one argument."""
        error = cls(template.format_map(_Said(values, said or {})))
        error.template, error.values, error.said = template, values, said or {}
        return error

    def worded(self, settings: Mapping[str, str]) -> str:
        """The message with each setting (or phrase) it names said as `settings` words it (by its command-line
        option, say), which may show the message's values (`{ukprn}`). A message that names no setting, as it is."""
        if self.template is None:
            return str(self)
        return self.template.format_map(_Said(self.values, {**self.said, **settings}))

    def marking(self, **phrases: str) -> Self:
        """This error, its message as it stands with the last `phrase` in it marked as naming the setting `name`
        (`marking(api_version="api_version")`): `worded` then says it as a surface does."""
        template = literal(str(self))
        for name, phrase in phrases.items():
            before, found, after = template.rpartition(literal(phrase))
            if found:
                template = f"{before}{{{name}}}{after}"
        self.template, self.values, self.said = template, {}, phrases
        return self

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled as its message and attributes, not by calling its class again: most of ours take more than the one
        message Exception's pickling passes back, so a worker pool (concurrent.futures, multiprocessing, Celery)
        could not hand a caller the error its job raised (a TypeError, or a broken pool, in its place)."""
        return (_unpickled, (type(self), self.args), self.__dict__)

    def followed_by(self, error: RegisterBatchError) -> Self:
        """This error, its message then `error`'s ("; " between), each still naming its settings as `worded` says."""
        if self.template is not None or error.template is not None:
            self.template = f"{self.template or literal(str(self))}; {error.template or literal(str(error))}"
            self.values, self.said = {**self.values, **error.values}, {**self.said, **error.said}
        self.args = (f"{self}; {error}",)
        return self


def literal(text: str) -> str:
    """`text` as part of a template: its braces its own, not places for a setting."""
    return text.replace("{", "{{").replace("}", "}}")


def _unpickled(cls: type[RegisterBatchError], args: tuple[Any, ...]) -> RegisterBatchError:
    """An error of `cls` with its message, its attributes set after (pickle's state): its `__init__` is not run."""
    return cls.__new__(cls, *args)


class Worded:
    """A log message that names settings, as RegisterBatchError's `naming` messages do: `str()` says each as the
    library takes it (`state_dir`), `worded` as another surface does (the command line: by its option). Logged as the
    record's message (`log.warning(Worded(...))`): a library caller's handler reads it as the library says it, and the
    command line's rewords it (cli.py, `_WordedForTheCommandLine`), as its error lines are (review157 F3)."""

    def __init__(self, template: str, /, *, said: Mapping[str, str] | None = None, **values: object):
        self.template, self.values, self.said = template, values, said or {}

    def __str__(self) -> str:
        return self.worded({})

    def worded(self, settings: Mapping[str, str]) -> str:
        return self.template.format_map(_Said(self.values, {**self.said, **settings}))


class _Said(dict[str, object]):
    """A message's template filled in: its values, then each setting as `settings` words it, else by its name."""

    def __init__(self, values: Mapping[str, object], settings: Mapping[str, str]):
        super().__init__(values)
        self.settings = settings

    def __missing__(self, key: str) -> object:
        said = self.settings.get(key)
        return key if said is None else said.format_map(self)


class UnusableInput(RegisterBatchError):
    """An input file that cannot be read as records at all (exit 2, nothing uploaded)."""

    def __init__(
        self,
        path: str,
        problem: str,
        *,
        line: int | None = None,
        record: int | None = None,
        field: str | None = None,
        row: int | None = None,
    ):
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.record = record
        self.field = field
        self.row = row  # a CSV record's spreadsheet row where it differs from `line` (SourceRef.row)
        where = [self.path]
        if record is not None:
            where.append(f"record {record}")
        if line is not None:
            where.append(f"line {line}" if row is None else f"row {row} (line {line})")
        if field:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {problem}")


class UnwritableOutput(RegisterBatchError):
    """A report, output file or state folder that cannot be written where asked (exit 2). `path` is the name whole;
    the message shows it as `shown` (by default whole): a name too long for the file system, cut short."""

    def __init__(self, path: str | os.PathLike[str], problem: str, *, shown: str | None = None):
        self.path = str(path)
        self.problem = problem
        self.shown = self.path if shown is None else shown
        super().__init__(f"cannot write {self.shown}: {problem}")


class UnreadableFile(UnwritableOutput):
    """A file register-batch made and reads back (the embedded emulator's token) that cannot be read (exit 2): looked
    at as the files it writes are, said as a read (review136 F3)."""

    def __init__(self, path: str | os.PathLike[str], problem: str, *, shown: str | None = None):
        super().__init__(path, problem, shown=shown)
        self.args = (f"cannot read {self.shown}: {problem}",)


class ConfigError(RegisterBatchError):
    """Bad configuration, mapping file, option value or environment (exit 2)."""


class MappingError(ConfigError):
    """A mapping file that cannot be used (exit 2): its `path` as given, and the `line` the mistake is on where known,
    for a caller that points its user at it (a provider's own field map, uploaded), as `UnusableInput` names its
    file's; the message says them too, as `path:line: what is wrong` (review182 F6)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None):
        super().__init__(message)
        self.path = path
        self.line = line


class Interrupted(RegisterBatchError):
    """A run stopped part-way; rerunning resumes it (exit 3). `result`: what a sync did up to then (its
    `SyncResult`, with each record's outcome), or None when it stopped before it had anything to say: a
    `sync_files(stop=)` set while the extract was read (nothing sent, no report), or the ledger itself unwritable
    (`LedgerUnwritable`); `by`: what stopped it, as report.json's `sync.stopped` says (`signal`, `register`,
    `token`, or `stop` for the caller's `sync_files(stop=)` event), or None for another reason (no room for the
    report). Only `sync_files` takes a `stop=`."""

    exit_code = 3

    def __init__(self, message: str, *, result: SyncResult | None = None, by: str | None = None):
        super().__init__(message)
        self.result = result
        self.by = by


class RegisterUnavailable(RegisterBatchError):
    """Register could not be reached, kept failing or refused this machine, before anything was written (exit 3, in
    every command: run it again later, as after the same outage part-way). Not records to fix, which exit 1 tells a
    scheduler: `export` and `reference pull` gave 1 while `sync` gave 3, for the same outage (review208 F5,
    review236 F1)."""

    exit_code = 3
