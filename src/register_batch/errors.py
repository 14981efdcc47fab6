"""Library exceptions. The CLI turns these into one clear line and an exit code (never a traceback)."""

from __future__ import annotations

import os
from typing import Any


class RegisterBatchError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 2


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
    ):
        self.path = str(path)
        self.problem = problem
        self.line = line
        self.record = record
        self.field = field
        where = [self.path]
        if record is not None:
            where.append(f"record {record}")
        if line is not None:
            where.append(f"line {line}")
        if field:
            where.append(f"field {field}")
        super().__init__(f"{', '.join(where)}: {problem}")


class UnwritableOutput(RegisterBatchError):
    """A report, output file or state folder that cannot be written where asked (exit 2)."""

    def __init__(self, path: str | os.PathLike[str], problem: str):
        self.path = str(path)
        self.problem = problem
        super().__init__(f"cannot write {self.path}: {problem}")


class ConfigError(RegisterBatchError):
    """Bad configuration, mapping file, option value or environment (exit 2)."""


class Interrupted(RegisterBatchError):
    """A run stopped part-way; rerunning resumes it (exit 3). `result`: what a sync did up to then (its
    `SyncResult`, with each record's outcome)."""

    exit_code = 3

    def __init__(self, message: str, *, result: Any = None):
        super().__init__(message)
        self.result = result


class RegisterUnavailable(RegisterBatchError):
    """Register could not be reached, or kept failing, before anything was written (exit 1: tell a person)."""

    exit_code = 1
