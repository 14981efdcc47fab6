"""register-batch: HESA ITT extracts to DfE's Register trainee teachers API, validated first.

Library first: `validate`, `convert` (and later `sync`, `export`) are plain functions; the command line in
`register_batch.cli` only parses options and calls them.
"""

from __future__ import annotations

__version__ = "0.1.0"

from register_batch.errors import ConfigError, RegisterBatchError, UnusableInput
from register_batch.model import Issue, Severity, SourceRef, Trainee, TraineeRecord

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
