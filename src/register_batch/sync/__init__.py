"""Keep Register in sync with an extract: plan per record, write within the rate limit, ledger first."""

from register_batch.sync.runner import RecordResult, SyncOptions, SyncResult, sync_files

__all__ = ["RecordResult", "SyncOptions", "SyncResult", "sync_files"]
