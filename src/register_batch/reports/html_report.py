"""report.html: one self-contained page (inline CSS, JS and SVG; no network) for people to read."""

from __future__ import annotations

from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, select_autoescape

from register_batch.fs import private_writer

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder

_ENV = Environment(
    loader=PackageLoader("register_batch.reports", "templates"),
    autoescape=select_autoescape(["html", "j2"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def context(report: ReportBuilder) -> dict[str, Any]:
    from register_batch.reports import HTML_ISSUE_LIMIT
    from register_batch.validation import CATALOGUE

    issues = list(islice(report.issues(), HTML_ISSUE_LIMIT))
    total = report.summary.errors + report.summary.warnings
    rules = {
        code: {"source": entry.source, "fix": entry.fix, "name": entry.name}
        for code, entry in CATALOGUE.items()
        if code in report.by_code
    }
    return {
        "header": report.header(),
        "extra": report.extra,
        "command": report.command,
        "issues": issues,
        "shown": len(issues),
        "total": total,
        "by_code": report.by_code.most_common(),
        "by_field": report.by_field.most_common(),
        "rules": rules,
    }


def write(path: Path, report: ReportBuilder) -> Path:
    page = _ENV.get_template("report.html.j2").render(**context(report))
    with private_writer(path) as fh:
        fh.write(page)
    return path
