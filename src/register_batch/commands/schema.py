"""`register-batch schema report`: the JSON Schema of report.json, for programs that read the reports."""

from __future__ import annotations

import click

from register_batch.commands.common import CONTEXT, Commands, result_on_stdout


@click.group(cls=Commands, context_settings=CONTEXT)
def schema() -> None:
    """JSON Schemas of the files register-batch writes for other programs to read."""


@schema.command("report", context_settings=CONTEXT)
def schema_report() -> None:
    """Print the JSON Schema (draft 2020-12) of report.json, as validate, convert --report-dir and sync write it.

    Every key of this version's report.json is in it, with its type, and no other key is allowed: check the reports
    a job or an SRS reads with it (register-batch schema report > report.schema.json). The library gives it as
    register_batch.reports.report_schema().
    """
    result_on_stdout()
    from register_batch.reports import report_schema_text

    click.echo(report_schema_text(), nl=False)
