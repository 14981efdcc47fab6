"""Keep Register in sync with an extract: plan per record, write within the rate limit, ledger first."""

from register_batch.sync.runner import SyncOptions, SyncResult, sync_files

__all__ = ["SyncOptions", "SyncResult", "sync_files"]
