"""register-batch: HESA ITT extracts to DfE's Register trainee teachers API, validated first.

Library first: each command is a plain function (docs/library.md), `register_batch.jobs.validate_files`,
`register_batch.jobs.convert_files`, `register_batch.sync.sync_files`, `register_batch.export.export_trainees` and
`register_batch.generate.generate`; the command line in `register_batch.cli` only parses options and calls them.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from register_batch.errors import ConfigError, RegisterBatchError, UnusableInput

if TYPE_CHECKING:
    from register_batch.model import Issue, Severity, SourceRef, Trainee, TraineeRecord

__version__ = "0.1.0"

# A library prints nothing of its own accord: without this, a warning logged where the caller has set up no logging
# goes to stderr through Python's last-resort handler. The command line sets logging up (cli.py); so may a caller.
logging.getLogger("register_batch").addHandler(logging.NullHandler())

# The model's names are imported on first use (PEP 562): every command imports this package, and model.py imports
# pydantic, which `register-batch --help` and `--version` have no use for (about 0.1 s). A type checker reads the
# imports above instead: hidden from it, `__getattr__` would make every misspelt name of the package pass as Any.
_FROM_MODEL = frozenset({"Issue", "Severity", "SourceRef", "Trainee", "TraineeRecord"})

if not TYPE_CHECKING:

    def __getattr__(name: str) -> Any:
        if name in _FROM_MODEL:
            from register_batch import model

            value = getattr(model, name)
            globals()[name] = value  # found directly from now on
            return value
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_FROM_MODEL})


__all__ = [
    "ConfigError",
    "Issue",
    "RegisterBatchError",
    "Severity",
    "SourceRef",
    "Trainee",
    "TraineeRecord",
    "UnusableInput",
    "__version__",
]
