"""A dry run says what a real run started now would cost (review161 F6): its own requests are a few listing pages,
while the number a migration lead plans around is the real run's. Run through the command line against the embedded
emulator (over 127.0.0.1), each dry run followed by the real run it estimates, whose own count is the check."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from report_schema import allowed_report
from trainee_extracts import WITHDRAWN, trainee, write_extract

AS_OF = "2026-11-28"
DEFERRED = {"defer_date": "2026-02-01", "defer_reason": "health"}
UKPRN = "10052198"
# The terminal line's estimate, then whom the run was for: "A real run now: about 13 requests, about 8 s at 95/60. For
# provider 10052198." Anchored on the line's end, as a vendor's script may be (review188 F3), which names the ledger's
# run and the time (review208 F6).
SAID = re.compile(
    r"A real run now: about (\d+) requests?, (?:about \d+ s|under 1 s) at 95/60\. For provider 10052198\."
    r" Ledger run \d+, [0-9T:.-]+Z\.$"
)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_API_TOKEN", "REGISTER_BATCH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def _sync(extract: Path, reports: str, *extra: str) -> tuple[str, dict]:
    """`register-batch sync` of `extract` to the embedded emulator (state/) for provider UKPRN, at the default rate:
    its summary line and report.json's `sync`."""
    args = ["sync", str(extract), "--state-dir", "state", "--report-dir", reports, "--as-of", AS_OF, *extra]
    args += ["--ukprn", UKPRN]  # as a provider's run is: the line then ends with whom it was for (review188 F3)
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if re.match(r"\d+ records?: ", line)]
    return line, allowed_report(Path(reports))["sync"]


def _estimated_then_run(extract: Path, name: str) -> tuple[str, dict, dict]:
    """A dry run of `extract`, then the real run: the dry run's line, its `sync.estimate`, and the real run's
    `sync.requests`."""
    line, planned = _sync(extract, f"{name}-plan", "--dry-run")
    _line, done = _sync(extract, name)
    return line, planned["estimate"], done["requests"]


def test_a_dry_run_says_the_requests_and_time_of_the_real_run_after_it(folder):
    """A first load (creates, one withdrawn and one deferred with its creation), then a rerun with changes of each
    kind the plan counts a request for: an update, a degree corrected, a placement added, a withdrawal, a
    deferral. The estimate's requests are the real run's, exactly, where Register answers each write
    as planned (the emulator does)."""
    rows = [trainee(n) for n in range(1, 9)]
    rows[0].update(WITHDRAWN)
    rows[1].update(DEFERRED)
    first = write_extract(folder / "first.csv", rows)
    line, estimate, real = _estimated_then_run(first, "first")
    said = SAID.search(line)
    assert said, line
    assert int(said[1]) == estimate["requests"] == real["total"]
    # 8 creates and their withdrawal and deferral; the rest (listings, look-ups) read as the dry run read them.
    assert estimate["writes"] == 10 and estimate["reads"] == real["by_route"]["GET /trainees"]
    # Fewer than a window's requests go at once, as fast as Register answers: not at 60.25 / 95 s each.
    assert estimate["rate"] == "95/60" and estimate["seconds"] < real["total"] * 60.25 / 95 / 4
    # report.html's Sync results say it as the line does.
    page = (folder / "first-plan" / "report.html").read_text(encoding="utf-8")
    shown = re.search(
        r'<strong data-estimate="(\d+)">A real run now: (about \d+ requests, (?:about|under) \d+ s at 95/60)</strong>',
        page,
    )
    assert shown and int(shown[1]) == real["total"] and f"A real run now: {shown[2]}." in line

    changed = [dict(row) for row in rows]
    changed[2]["email"] = "new.address@example.com"
    changed[3]["degree_grade"] = "05" if changed[3]["degree_grade"] != "05" else "01"
    changed[4]["placement_2_urn"] = "100999"
    changed[5].update(WITHDRAWN)
    changed[6].update(DEFERRED)
    again = write_extract(folder / "again.csv", changed)
    line, estimate, real = _estimated_then_run(again, "again")
    said = SAID.search(line)
    assert said, line
    assert int(said[1]) == estimate["requests"] == real["total"]
    writes = {route: count for route, count in real["by_route"].items() if not route.startswith("GET ")}
    assert estimate["writes"] == sum(writes.values()) == 5, writes

    # Nothing left to send: the listing alone.
    line, estimate, real = _estimated_then_run(again, "unchanged")
    assert estimate["writes"] == 0 and estimate["requests"] == real["total"] >= 1
    assert SAID.search(line), line


def test_a_real_run_has_no_estimate(folder):
    """A real run's report.json has `estimate` null: its requests are counted, not estimated."""
    line, done = _sync(write_extract(folder / "one.csv", [trainee(1)]), "real")
    assert done["estimate"] is None and "A real run now" not in line


def test_report_html_says_the_estimate_as_a_sentence_of_its_own(folder):
    """report.html's text reads "By route: GET /trainees 1. A real run now: ...": the template's line break after
    the route list was trimmed, and the two ran together, "1.A real run now" (review164 F5)."""
    from lxml import html

    _sync(write_extract(folder / "one.csv", [trainee(1)]), "plan", "--dry-run")
    page = html.parse(str(folder / "plan" / "report.html")).getroot()
    [paragraph] = page.xpath('//section[@id="sync"]/p[.//strong[@data-estimate]]')
    text = " ".join(paragraph.text_content().split())
    assert re.search(r"By route: GET /trainees \d+\. A real run now: about \d+ requests?, ", text), text


def test_a_run_of_fewer_than_a_windows_requests_is_estimated_at_its_answers_pace(folder):
    """The rate limit lets a window's requests (95 at 95/60) go at once: a run of fewer takes as long as Register
    takes to answer them. The estimate gave each its share of the rate, 0.63 s: "about 21 s" for a run that took 1 s
    (review164 F4). Now it is no longer than the real run after it took, whole, give or take a second."""
    rows = [trainee(n) for n in range(1, 31)]
    extract = write_extract(folder / "thirty.csv", rows)
    line, planned = _sync(extract, "plan", "--dry-run")
    _line, done = _sync(extract, "real")
    estimate, real = planned["estimate"], done["requests"]
    assert estimate["requests"] == real["total"] > 30
    assert estimate["seconds"] <= real["seconds"] + 1.0, (estimate, real["seconds"], line)
    assert SAID.search(line), line
