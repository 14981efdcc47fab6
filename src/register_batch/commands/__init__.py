"""Command-line commands imported on first use (see `register_batch.cli.LAZY_COMMANDS`)."""
