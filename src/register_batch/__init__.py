"""register-batch: HESA ITT extracts to DfE's Register trainee teachers API, validated first.

Library first: `validate`, `convert` (and later `sync`, `export`) are plain functions; the command line in
`register_batch.cli` only parses options and calls them.
"""

from __future__ import annotations

import logging

from register_batch.errors import ConfigError, RegisterBatchError, UnusableInput
from register_batch.model import Issue, Severity, SourceRef, Trainee, TraineeRecord

__version__ = "0.1.0"

# A library prints nothing of its own accord: without this, a warning logged where the caller has set up no logging
# goes to stderr through Python's last-resort handler. The command line sets logging up (cli.py); so may a caller.
logging.getLogger("register_batch").addHandler(logging.NullHandler())

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
