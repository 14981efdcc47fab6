"""Keep Register in sync with an extract: plan per record, write within the rate limit, ledger first."""

from register_batch.api.client import RequestCounts
from register_batch.sync.runner import (
    RealRunEstimate,
    RecordResult,
    RunStatus,
    SyncOptions,
    SyncRequestCounts,
    SyncResult,
    sync_files,
)

__all__ = [
    "RealRunEstimate",
    "RecordResult",
    "RequestCounts",
    "RunStatus",
    "SyncOptions",
    "SyncRequestCounts",
    "SyncResult",
    "sync_files",
]
