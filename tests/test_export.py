"""Export round trips: sync an extract to the emulator, export it in every format, validate and re-read it."""

from __future__ import annotations

import csv
import itertools
import json
import math
import stat
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from lxml import etree

from emulated import sync_options
from register_batch.api import RateLimiter, RegisterClient
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.export import DUPLICATE_NOTE, GRADUATION_NOTE, HesaXmlWriter, export_trainees
from register_batch.model import request_body
from register_batch.sync import sync_files
from register_batch.sync.compare import SCALAR_FIELDS, degree_key, disability_set, normal
from register_batch.validation import Checker
from register_batch.validation.facts import cycle_label, cycle_of
from register_batch.validation.nested import graduation_year

AS_OF = date(2026, 11, 28)
TOKEN = "export-test-token"


def noted_as(trainee: dict) -> str:
    """How an export's note names a trainee: by Register's trainee_id, never its HUSID (notes are printed, and a
    terminal or a job's log is not the owner-only place personal data goes, security.md)."""
    return f"trainee {trainee['trainee_id']}"


@pytest.fixture
def synced(tmp_path):
    from trainee_extracts import extract

    source = extract(tmp_path / "in.csv", 12)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        assert sync_files([str(source)], options).exit_code == 0
        yield emulator, source


@pytest.fixture
def synced_earlier(tmp_path):
    """(emulator, source) as a nightly export finds them: the 12 trainees last changed two hours before it (the
    emulator's clock is put back while they are synced), so nothing but what changes during the export is recent."""
    from trainee_extracts import extract

    offset = [-7200.0]
    source = extract(tmp_path / "in.csv", 12)
    with start_emulator(
        tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=lambda: time.time() + offset[0]
    ) as emulator:
        assert sync_files([str(source)], sync_options(emulator, tmp_path, TOKEN)).exit_code == 0
        offset[0] = 0.0
        yield emulator, source


# A start a year later (cycle 2026 for the fixtures' cycle-2025 trainees), as a sync sends a corrected one (§2.6).
NEXT_CYCLE = {"itt_start_date": "2026-09-01", "trainee_start_date": "2026-09-01", "itt_end_date": "2027-07-15"}

# A trainee's own withdrawal, as a sync sends it (register-api.md §3.9).
WITHDRAWN = {
    "withdrawal_date": "2026-01-15",
    "reasons": ["trainee_workload_issues"],
    "trigger": "trainee",
    "future_interest": "no",
}


def changing_midway(
    url: str,
    change: Callable[[], None],
    pages: list[list[dict]],
    sinces: list[str | None] | None = None,
    after: int = 1,
) -> RegisterClient:
    """A client whose listing runs `change` once, after the first page (or `after` pages: a sync writing while the
    export pages), and keeps each page it read in `pages` (and each listing's `since` in `sinces`)."""

    class ChangingMidway(RegisterClient):
        def list_trainees(self, **params):
            if len(pages) == after:
                change()
            if sinces is not None:
                sinces.append(params.get("since"))
            items, meta = super().list_trainees(**params)
            pages.append(items)
            return items, meta

    return ChangingMidway(url, TOKEN, limiter=RateLimiter(1000, 1))


def records(path, fmt="auto"):
    with Checker(fmt=fmt, as_of=AS_OF) as checker:
        return {r.data["hesa_id"]: r for r in checker.records([str(path)])}


def assert_same_trainees(sent: dict, back: dict) -> None:
    assert set(sent) == set(back)
    for hesa_id, record in sent.items():
        mine, theirs = record.data, back[hesa_id].data
        for field in SCALAR_FIELDS:
            if mine.get(field) is not None:
                assert normal(field, theirs.get(field), theirs) == normal(field, mine[field], mine), (hesa_id, field)
        assert disability_set(theirs) == disability_set(mine)
        assert sorted(map(degree_key, theirs.get("degrees_attributes") or [])) == sorted(
            map(degree_key, mine.get("degrees_attributes") or [])
        )
        assert sorted(p["urn"] for p in theirs.get("placements_attributes") or []) == sorted(
            p["urn"] for p in mine.get("placements_attributes") or []
        )


@pytest.mark.parametrize("to,suffix", [("register-csv", "csv"), ("hesa-xml", "xml")])
def test_exports_validate_clean_and_read_back_to_what_was_sent(synced, tmp_path, to, suffix):
    emulator, source = synced
    out = tmp_path / f"held.{suffix}"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        result = export_trainees(client, to=to, output=out, academic_cycle=2025)
    assert result.written == 12 and result.requests["total"] == 1
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    checked = CliRunner().invoke(
        cli, ["validate", str(out), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "r")]
    )
    assert checked.exit_code == 0, checked.output
    assert_same_trainees(records(source), records(out))


def test_register_csv_export_is_registers_template(synced, tmp_path):
    emulator, _source = synced
    out = tmp_path / "held.csv"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        export_trainees(client, to="register-csv", output=out, academic_cycle=2025)
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    header = raw.decode("utf-8").splitlines()[0]
    from register_batch.writers import register_template

    assert header.split(",") == list(register_template())


def test_hesa_xml_export_is_an_ittrecord_document(synced, tmp_path):
    """One Student per trainee, each saying its collection (F_RECID, hesa-formats.md §1.1); trainees the XML holds
    whole have no note but the one on F_DEGENDDT's day."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    assert {note.message for note in result.notes} == {GRADUATION_NOTE}
    root = etree.parse(str(out)).getroot()
    assert root.tag == "ITTRecord" and len(root.findall("Student")) == 12
    assert [s.findtext("F_RECID") for s in root] == ["24053"] * 12
    student = root.find("Student")
    assert student.findtext("F_HUSID") and student.find("PREVIOUSQUALIFICATIONS/PREVIOUSQUALIFICATION") is not None
    assert student.findtext("F_ITTSTARTDATE") == "2025-09-01"


def test_hesa_xml_export_closes_each_element_at_the_indent_it_opened_at(synced, tmp_path):
    """People read the XML export too (to compare it with the SRS's own): `</Student>` lines up with `<Student>`."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    opened: list[tuple[str, int]] = []
    for line in out.read_text(encoding="utf-8").splitlines()[1:]:
        indent, text = len(line) - len(line.lstrip()), line.strip()
        if text.startswith("</"):
            assert opened.pop() == (text[2:-1], indent), line
        elif not text.endswith("/>") and "</" not in text:
            opened.append((text[1:-1], indent))
    assert not opened


def test_hesa_xml_export_says_whose_trainees_they_are(synced, tmp_path):
    """F_UKPRN from the provider Register files the trainees under, so that a sync of the file with --ukprn checks
    its records (validation/providers.py) rather than passing them unchecked."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
        ukprn = next(client.iter_trainees(academic_cycle=2025))["ukprn"]
    assert {s.findtext("F_UKPRN") for s in etree.parse(str(out)).getroot()} == {ukprn}
    assert {r.ukprn for r in records(out).values()} == {ukprn}
    other = "10000001" if ukprn != "10000001" else "10000002"
    checker = Checker(as_of=AS_OF, ukprn=other)
    list(checker.records([str(out)]))
    assert {issue.code for _index, issue in checker.batch_issues()} == {"other_provider_record"}


def test_hesa_xml_writes_the_graduation_year_as_a_date_and_says_which_day(synced, tmp_path):
    """hesa-formats.md §1.4: F_DEGENDDT is YYYY-MM-DD, but Register holds only `graduation_year` (§3.7)."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        held = list(client.iter_trainees(academic_cycle=2025))
        years = {t["hesa_id"]: [d["graduation_year"] for d in t["degrees"]] for t in held}
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    written = {
        s.findtext("F_HUSID"): [q.findtext("F_DEGENDDT") for q in s.iterfind("PREVIOUSQUALIFICATIONS/*")]
        for s in etree.parse(str(out)).iter("Student")
    }
    assert written == {hesa_id: [f"{year}-01-01" for year in ys] for hesa_id, ys in years.items()}
    read_back = {h: [d["graduation_year"] for d in r.data["degrees_attributes"]] for h, r in records(out).items()}
    assert {h: [graduation_year(v) for v in values] for h, values in read_back.items()} == years
    [line] = [n for n in result.note_lines() if "F_DEGENDDT" in n]
    assert line.startswith(
        "F_DEGENDDT is written as 1 January of the graduation year: Register holds only the year (12 trainees, e.g."
    )


@pytest.mark.parametrize("to", ["json", "jsonl"])
def test_json_exports_are_the_apis_objects(synced, tmp_path, to):
    emulator, _source = synced
    out = tmp_path / f"held.{to}"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        export_trainees(client, to=to, output=out, academic_cycle=2025)
        listed = {t["trainee_id"]: t for t in client.iter_trainees(academic_cycle=2025)}
    text = out.read_text()
    items = json.loads(text) if to == "json" else [json.loads(line) for line in text.splitlines()]
    assert {t["trainee_id"]: t for t in items} == listed


def test_since_exports_only_recent_changes_once(synced, tmp_path):
    emulator, _source = synced
    out = tmp_path / "recent.jsonl"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        everyone = list(client.iter_trainees(academic_cycle=2025, sort_order="asc"))
        cutoff = everyone[-3]["updated_at"]
        export_trainees(client, to="jsonl", output=out, academic_cycle=2025, since=cutoff, per_page=1)
    ids = [json.loads(line)["trainee_id"] for line in out.read_text().splitlines()]
    assert len(ids) == len(set(ids)) >= 3
    assert set(ids) >= {t["trainee_id"] for t in everyone[-3:]}


def test_a_trainee_changed_during_the_export_makes_no_other_trainee_vanish(synced, tmp_path):
    emulator, _source = synced
    out = tmp_path / "moving.jsonl"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        everyone = {t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025)}
        pages: list[list[dict]] = []

        def change() -> None:  # after the first page: someone edits a trainee that page held
            client.update_trainee(pages[0][-1]["trainee_id"], {"email": "moved@example.org"})

        with changing_midway(emulator.url, change, pages) as changing:
            export_trainees(changing, to="jsonl", output=out, academic_cycle=2025, per_page=4)
    ids = [json.loads(line)["trainee_id"] for line in out.read_text().splitlines()]
    assert len(pages) >= 3 and len(ids) == len(set(ids))
    assert set(ids) == everyone


@pytest.mark.parametrize("per_page", [4, 11], ids=["pages of 4", "on the second of two pages"])
def test_a_trainee_changed_on_a_page_not_yet_read_is_exported_as_it_now_is(synced_earlier, tmp_path, per_page):
    """A change moves a trainee to the end of the listing (oldest change first; TRNs arrive at any time, §2.5): the
    pages still to come reach it there, and write it once, changed."""
    emulator, _source = synced_earlier
    out = tmp_path / "moving.jsonl"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        oldest_first = [t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025, sort_order="asc")]
        pages: list[list[dict]] = []

        def change() -> None:  # after the first page: someone edits the trainee the last page would hold
            client.update_trainee(oldest_first[-1], {"email": "moved@example.org"})

        with changing_midway(emulator.url, change, pages) as changing:
            result = export_trainees(changing, to="jsonl", output=out, academic_cycle=2025, per_page=per_page)
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    ids = [t["trainee_id"] for t in exported]
    assert len(oldest_first) == 12 and oldest_first[-1] not in [t["trainee_id"] for t in pages[0]]
    assert len(ids) == len(set(ids)) == result.written and set(ids) == set(oldest_first)
    assert [t["email"] for t in exported if t["trainee_id"] == oldest_first[-1]] == ["moved@example.org"]


@pytest.mark.parametrize("mover", [0, -1], ids=["the first of the page read", "the last of the page read"])
def test_a_trainee_moved_to_another_cycle_during_the_export_makes_no_other_one_vanish(synced_earlier, tmp_path, mover):
    """A sync corrects a start date to the next year after the export read its page: the trainee leaves the cycle's
    listing. Paged by offset, every later trainee moved a place forward, and the one moved onto the page already read
    was never written (11 of 12, exit 0, no note): it had not changed, so no listing of changes found it either. Each
    page from the last change read (§10), none is missed; the moved one is written as it was when read."""
    emulator, _source = synced_earlier
    out = tmp_path / "held.jsonl"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        cycle = {t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025)}
        pages: list[list[dict]] = []

        def change() -> None:  # after the first page: a trainee it held now starts a year later
            client.update_trainee(pages[0][mover]["trainee_id"], NEXT_CYCLE)

        with changing_midway(emulator.url, change, pages) as changing:
            result = export_trainees(changing, to="jsonl", output=out, academic_cycle=2025, per_page=4)
        still = {t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025)}
    ids = [json.loads(line)["trainee_id"] for line in out.read_text().splitlines()]
    assert len(cycle) == 12 and still == cycle - {pages[0][mover]["trainee_id"]}
    assert len(ids) == len(set(ids)) == result.written and set(ids) == cycle


@pytest.mark.parametrize(
    ("after", "which"),
    [(1, -1), (1, 0), (2, 0), (2, 5)],
    ids=["one not read yet, after page 1", "one read, after page 1", "one read, after page 2", "one read, page 2's"],
)
def test_trainees_changed_in_one_millisecond_are_each_exported_once_over_pages(tmp_path, after, which):
    """A page of trainees all changed in one millisecond (a bulk change in Register) gives no later time to list
    from. Paged on by offset from that time, a trainee read and then changed left the run of them, the rest moved a
    place forward and one was never written (11 of 12). The page is asked for again, longer, in one answer; the
    changed one is written once (as it was read, or as it now is when not read yet)."""
    from trainee_extracts import extract

    moment = [time.time() - 3600]
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=lambda: moment[0]) as emulator:
        loaded = sync_files([str(extract(tmp_path / "in.csv", 12))], sync_options(emulator, tmp_path, TOKEN))
        assert loaded.exit_code == 0
        moment[0] = time.time()
        out = tmp_path / "held.jsonl"
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            listed = list(client.iter_trainees(academic_cycle=2025, sort_order="asc"))
            pages: list[list[dict]] = []
            changed: list[str] = []

            def change() -> None:
                trainee_id = (
                    listed[which]["trainee_id"] if which < 0 else [t for p in pages for t in p][which]["trainee_id"]
                )
                changed.append(trainee_id)
                client.update_trainee(trainee_id, {"email": "moved@example.org"})

            with changing_midway(emulator.url, change, pages, after=after) as changing:
                result = export_trainees(changing, to="jsonl", output=out, academic_cycle=2025, per_page=4)
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert len({t["updated_at"] for t in listed}) == 1 and changed  # one moment for all 12
    assert sorted(t["trainee_id"] for t in exported) == sorted(t["trainee_id"] for t in listed)
    assert result.written == 12
    if which < 0:
        assert [t["email"] for t in exported if t["trainee_id"] == changed[0]] == ["moved@example.org"]


@pytest.mark.parametrize(
    "hours",
    [0, 1, -1 / 3],
    ids=["Register's clock", "a Date an hour from this machine's clock", "this machine's clock 20 minutes ahead"],
)
def test_a_change_register_stamped_before_a_page_already_read_is_still_exported(tmp_path, hours):
    """Register stamps `updated_at` before its transaction commits, so a change may show after a page holding later
    changes was read. Listed from exactly the last change read, a trainee changed so was never read (5 of 6, exit 0);
    each page starts a little earlier (§10: "since=<high-water mark minus a small overlap>"): 10 seconds before
    Register's time (its Date), or, when that Date is not taken for Register's (an hour from this machine's clock: a
    proxy's), 10 seconds before the last change read. This machine's clock 20 minutes ahead of Register's (review16)
    made the earliest time by its own clock (now - 15 minutes) the pages' start: later than Register's, no overlap."""
    from trainee_extracts import extract

    moment = {"now": time.time() + hours * 3600, "fixed": None}

    def clock() -> float:
        moment["now"] += 0.01
        return moment["fixed"] if moment["fixed"] is not None else moment["now"]

    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=clock) as emulator:
        loaded = sync_files([str(extract(tmp_path / "in.csv", 6))], sync_options(emulator, tmp_path, TOKEN))
        assert loaded.exit_code == 0
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            oldest_first = list(client.iter_trainees(academic_cycle=2025, sort_order="asc"))
            pages: list[list[dict]] = []

            def change() -> None:  # the fifth trainee, stamped between the first and the second: seen late
                between = datetime.fromisoformat(oldest_first[1]["updated_at"].replace("Z", "+00:00")).timestamp()
                moment["fixed"] = between - 0.005
                client.update_trainee(oldest_first[4]["trainee_id"], {"email": "late@example.org"})
                moment["fixed"] = None

            with changing_midway(emulator.url, change, pages) as changing:
                result = export_trainees(
                    changing, to="jsonl", output=tmp_path / "held.jsonl", academic_cycle=2025, per_page=2
                )
    exported = {t["trainee_id"] for t in map(json.loads, (tmp_path / "held.jsonl").read_text().splitlines())}
    assert exported == {t["trainee_id"] for t in oldest_first} and result.written == 6


def test_pages_of_trainees_changed_long_ago_within_seconds_of_each_other_stay_their_size(tmp_path):
    """A cohort loaded in a few seconds, listed an hour later (a nightly job): each page started 10 seconds before
    the last change read, and so grew by every trainee read so far (pages of 4, 8, 12, ...: 2,000 trainees at 2 a
    page were a million sent). Changes older than that by Register's clock (its answers' Date) have all shown, so
    the pages start at the last change read and hold one trainee more than asked for."""
    from trainee_extracts import extract

    ticks = itertools.count()
    clock = time.time() - 3600
    moment = [lambda: clock + next(ticks) / 1000]  # one millisecond apart, an hour ago
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=lambda: moment[0]()) as emulator:
        loaded = sync_files([str(extract(tmp_path / "in.csv", 24))], sync_options(emulator, tmp_path, TOKEN))
        assert loaded.exit_code == 0
        moment[0] = time.time
        sizes: list[int] = []

        class Sizes(RegisterClient):
            def list_trainees(self, **params):
                sizes.append(params["per_page"])
                return super().list_trainees(**params)

        with Sizes(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            result = export_trainees(
                client, to="jsonl", output=tmp_path / "held.jsonl", academic_cycle=2025, per_page=4
            )
    assert result.written == 24 and result.requests["total"] == 6
    assert sizes == [4, 5, 5, 5, 5, 5]


def test_more_recent_changes_than_the_longest_page_holds_are_listed_from_the_last_change_not_by_offset(
    tmp_path, monkeypatch
):
    """Trainees changed in the last seconds fill the longest page a listing asks for (here 8; 5,000 in use) with
    the ones it lists again: the listing went on by offset there, and a trainee read and then changed moved every
    later one a place forward (19 of 20). It lists from the last change itself instead."""
    import register_batch.api.client as client_module
    from trainee_extracts import extract

    monkeypatch.setattr(client_module, "TIE_PAGE_LIMIT", 8)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        loaded = sync_files([str(extract(tmp_path / "in.csv", 20))], sync_options(emulator, tmp_path, TOKEN))
        assert loaded.exit_code == 0
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            listed = {t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025)}
            pages: list[list[dict]] = []
            offsets: list[int] = []

            def change() -> None:  # a trainee already read changes: it moves to the end of the listing
                client.update_trainee(pages[0][0]["trainee_id"], {"email": "moved@example.org"})

            class Recording(RegisterClient):
                def list_trainees(self, **params):
                    offsets.append(params["page"])
                    if len(pages) == 4:
                        change()
                    items, meta = super().list_trainees(**params)
                    pages.append(items)
                    return items, meta

            with Recording(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as recording:
                result = export_trainees(
                    recording, to="jsonl", output=tmp_path / "held.jsonl", academic_cycle=2025, per_page=2
                )
    exported = [json.loads(line)["trainee_id"] for line in (tmp_path / "held.jsonl").read_text().splitlines()]
    assert sorted(exported) == sorted(listed) and result.written == 20
    assert set(offsets) == {1}  # never a page by offset
    assert result.requests["total"] <= math.ceil(20 / 2) + 2  # not the longest page again and again, full of repeats


@pytest.mark.parametrize("per_page", [1, 2, 3, 5, 12])
def test_a_listing_takes_one_request_per_page_of_new_trainees(tmp_path, per_page):
    """Each page from the last change read holds it again, so it asks for one trainee more: 12 trainees changed at
    different times take ceil(12 / per_page) requests, at the smallest --per-page too (Register allows 100 requests a
    minute, §1.3). Without the one more, --per-page 1 took 23."""
    from trainee_extracts import extract

    ticks = itertools.count()
    clock = time.time() - 3600
    with start_emulator(
        tokens=[TOKEN], rate_limit=None, as_of=AS_OF, clock=lambda: clock + next(ticks) / 100
    ) as emulator:
        loaded = sync_files([str(extract(tmp_path / "in.csv", 12))], sync_options(emulator, tmp_path, TOKEN))
        assert loaded.exit_code == 0
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            result = export_trainees(
                client, to="jsonl", output=tmp_path / "held.jsonl", academic_cycle=2025, per_page=per_page
            )
            assert len({t["updated_at"] for t in client.iter_trainees(academic_cycle=2025)}) == 12
    assert result.written == 12 and result.requests["total"] == math.ceil(12 / per_page)


@pytest.fixture
def in_training(synced_earlier):
    """(emulator, client, the ids of the cycle's trainees in training, oldest change first) for an export by status as
    in a nightly job: every trainee last changed hours before it."""
    emulator, _source = synced_earlier
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        yield (
            emulator,
            client,
            [
                t["trainee_id"]
                for t in client.iter_trainees(academic_cycle=2025, status="in_training", sort_order="asc")
            ],
        )


def test_a_trainee_leaving_the_status_during_the_export_makes_no_other_one_vanish(in_training, tmp_path):
    """`--status in_training`: a trainee withdrawn after its page was read leaves the listing. Paged by offset
    (register-api.md §2.3), the pages still to come shifted by one towards the front and the trainee moved onto a page
    already read was never written; each page from the last change read (§10), none is missed."""
    emulator, client, training = in_training
    out = tmp_path / "training.jsonl"
    pages: list[list[dict]] = []

    def change() -> None:  # after the first page: a sync withdraws a trainee that page held
        client.withdraw(pages[0][0]["trainee_id"], WITHDRAWN)

    with changing_midway(emulator.url, change, pages) as changing:
        result = export_trainees(
            changing, to="jsonl", output=out, academic_cycle=2025, status="in_training", per_page=4
        )
    ids = [json.loads(line)["trainee_id"] for line in out.read_text().splitlines()]
    assert len(training) == 12 and len(ids) == len(set(ids)) == result.written
    assert set(ids) == set(training)  # the withdrawn one was in training when its page was read


def test_a_status_export_with_one_trainee_leaving_and_one_changing_writes_each_once_in_its_pages(in_training, tmp_path):
    """`--status in_training` with a trainee withdrawn after its page was read and one edited before the pages reached
    it: each is written once, in the pages of the listing and no other (Register allows 100 requests a minute, §1.3):
    three listings, the last from the last change read holding the edited one."""
    emulator, client, training = in_training
    out = tmp_path / "training.jsonl"
    pages: list[list[dict]] = []

    def change() -> None:  # after the first page: one trainee it held withdrawn, the last one edited
        client.withdraw(pages[0][0]["trainee_id"], WITHDRAWN)
        client.update_trainee(training[-1], {"email": "moved@example.org"})

    with changing_midway(emulator.url, change, pages) as changing:
        result = export_trainees(
            changing, to="jsonl", output=out, academic_cycle=2025, status="in_training", per_page=4
        )
    ids = [json.loads(line)["trainee_id"] for line in out.read_text().splitlines()]
    assert (
        len(pages) == 3
    )  # 4; 5 from the 4th (it again); 5 from the 8th (it again, the withdrawn one gone, the edited)
    assert sorted(ids) == sorted(training) and result.written == 12


def test_a_trainee_changed_after_its_page_was_read_is_written_once(in_training, tmp_path):
    """`--status in_training`: a trainee edited after its page was read comes again at the end of the listing, a
    repeat that is not written twice; it costs the listing one more page at most."""
    emulator, client, training = in_training
    out = tmp_path / "training.jsonl"
    pages: list[list[dict]] = []

    def change() -> None:  # after the first page: someone edits a trainee that page held
        client.update_trainee(pages[0][0]["trainee_id"], {"email": "moved@example.org"})

    with changing_midway(emulator.url, change, pages) as changing:
        result = export_trainees(
            changing, to="jsonl", output=out, academic_cycle=2025, status="in_training", per_page=4
        )
    ids = [json.loads(line)["trainee_id"] for line in out.read_text().splitlines()]
    assert len(training) == 12 and sorted(ids) == sorted(training)
    assert result.requests["total"] <= 3 + 1


def test_a_log_says_when_the_rate_limit_holds_an_export_back(synced, tmp_path):
    """A national export pages through Register at 95 requests a minute: not on a terminal, each wait worth a line
    is one, or the job stood silent for most of a minute after each burst of pages."""
    import io
    import re

    from register_batch.progress import Progress

    emulator, _source = synced
    stream = io.StringIO()
    with (
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(2, 1.0, margin=0)) as client,
        Progress(stream=stream, interval=0.3, force_terminal=False) as progress,
    ):
        result = export_trainees(
            client, to="jsonl", output=tmp_path / "held.jsonl", academic_cycle=2025, per_page=2, progress=progress
        )
        assert client.limiter.on_wait is None  # told of waits only while exporting
    waits = [line for line in stream.getvalue().splitlines() if "waiting" in line]
    assert result.requests["total"] >= 4 and waits, stream.getvalue()
    for line in waits:
        assert re.fullmatch(
            r"\S+ Exporting: \d+ trainees \(.*\); waiting \d+ s for the rate limit \(2 requests per 1 s\)", line
        )
    # and a last line with the count written, after the last wait
    assert re.fullmatch(r"\S+ Exporting: 12 trainees \([^;]*\)", stream.getvalue().splitlines()[-1])


def test_notes_are_told_once_per_kind_with_how_many_trainees_they_concern(synced, tmp_path):
    emulator, _source = synced
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        for trainee in list(client.iter_trainees(academic_cycle=2025))[:3]:
            client.update_trainee(trainee["trainee_id"], {"middle_names": "Jo"})
        result = export_trainees(client, to="hesa-xml", output=tmp_path / "held.xml", academic_cycle=2025)
    assert result.requests["total"] == 1  # the export's own: one page, not the client's listing and updates before it
    middle_names = [n for n in result.notes if n.message == "no HESA tag for middle_names: left out of the XML"]
    assert len(middle_names) == 3
    lines = [line for line in result.note_lines() if "middle_names" in line]
    assert len(lines) == 1
    assert lines[0].startswith("no HESA tag for middle_names: left out of the XML (3 trainees, e.g. trainee ")


@pytest.mark.parametrize(
    ("kinds", "last"),
    [
        (20, "kind 20 (2 trainees, e.g. trainee 1)"),
        (21, "… and 1 more kind of note"),
        (23, "… and 3 more kinds of note"),
    ],
)
def test_at_most_twenty_kinds_of_note_are_told_then_how_many_more(kinds, last):
    """A national export's notes on the terminal: twenty kinds, each once, then how many kinds were left out."""
    from register_batch.export import ExportNote, ExportResult

    notes = [ExportNote(str(n), f"kind {k}") for k in range(1, kinds + 1) for n in (1, 2)]
    lines = ExportResult(outputs=[], written=2, requests={"total": 1}, notes=notes).note_lines()
    assert len(lines) == min(kinds, 20) + (kinds > 20)
    assert lines[0] == "kind 1 (2 trainees, e.g. trainee 1)" and lines[-1] == last


def test_a_kind_of_note_for_one_trainee_is_told_as_it_is():
    from register_batch.export import ExportNote, ExportResult

    notes = [ExportNote("7", "no HESA tag for middle_names: left out of the XML")]
    lines = ExportResult(outputs=[], written=1, requests={"total": 1}, notes=notes).note_lines()
    assert lines == ["trainee 7: no HESA tag for middle_names: left out of the XML"]


def test_an_empty_cycle_writes_a_valid_empty_file_and_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        for to, suffix in (("register-csv", "csv"), ("json", "json"), ("jsonl", "jsonl"), ("hesa-xml", "xml")):
            out = tmp_path / f"empty.{suffix}"
            result = CliRunner().invoke(
                cli, ["export", "--target", emulator.url, "--academic-cycle", "2019", "--to", to, "-o", str(out)]
            )
            assert result.exit_code == 0, result.output
            assert "No trainees matched" in result.output
            if to == "json":
                assert json.loads(out.read_text()) == []
            elif to == "jsonl":
                assert out.read_text() == ""
            elif to == "hesa-xml":
                assert etree.parse(str(out)).getroot().tag == "ITTRecord"
            else:
                assert len(out.read_text().splitlines()) == 1


# The cycle an export without --academic-cycle asks for and names: by today in UTC, as Register's current is by its
# date (review183 F5), whatever day the emulator judges dates as of.
CURRENT = cycle_label(cycle_of(datetime.now(UTC).date()))


@pytest.mark.parametrize(
    ("options", "said"),
    [
        (
            [],
            f"No trainees matched (the academic cycle current today (UTC), {CURRENT}; --academic-cycle YYYY for "
            "another): ",
        ),
        (["--academic-cycle", "2027"], "No trainees matched (academic cycle 2027 to 2028): "),
        (
            ["--academic-cycle", "2026", "--status", "withdrawn", "--since", "2026-11-01T00:00:00Z"],
            "No trainees matched (academic cycle 2026 to 2027, status withdrawn, changed since 2026-11-01T00:00:00Z): ",
        ),
        (
            ["--status", "withdrawn"],
            f"No trainees matched (the academic cycle current today (UTC), {CURRENT}, status withdrawn; "
            "--academic-cycle YYYY for another): ",
        ),
    ],
    ids=["current cycle", "a cycle", "filters", "a filter in the current cycle"],
)
def test_an_empty_export_says_which_trainees_it_asked_for(tmp_path, monkeypatch, options, said):
    """A cohort synced in July starts in the next cycle: an export without --academic-cycle then finds none of them,
    and "No trainees matched" alone read as if Register had lost them."""
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        out = tmp_path / "held.json"
        result = CliRunner().invoke(cli, ["export", "--target", emulator.url, *options, "--to", "json", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert f"{said}wrote an empty json file to {out} (1 request)." in result.output.splitlines()


def test_export_needs_a_token_for_a_real_target(tmp_path, monkeypatch):
    monkeypatch.delenv("REGISTER_API_TOKEN", raising=False)
    result = CliRunner().invoke(cli, ["export", "--target", "sandbox", "--to", "json", "-o", str(tmp_path / "x")])
    assert result.exit_code == 2 and "no API token" in result.output


def test_an_api_version_register_batch_does_not_speak_is_refused_before_any_request(tmp_path, monkeypatch):
    """Only v2026.1 is supported (docs/configuration.md); an old version would be sent to Register as it is."""
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        out = tmp_path / "old.json"
        result = CliRunner().invoke(
            cli, ["export", "--target", emulator.url, "--api-version", "v2025.0", "--to", "json", "-o", str(out)]
        )
        assert result.exit_code == 2 and "API version 'v2025.0' is not supported" in result.output
        assert emulator.snapshot()["requests"]["total"] == 0
        pulled = CliRunner().invoke(
            cli, ["reference", "pull", "--target", emulator.url, "--api-version", "v2025.0", "--state-dir", "s"]
        )
        assert pulled.exit_code == 2 and "is not supported" in pulled.output
        assert emulator.snapshot()["requests"]["total"] == 0
    assert not out.exists()


def test_a_register_that_answers_not_found_is_not_an_empty_cycle(tmp_path, monkeypatch):
    """404 `Not found` (an API version Register no longer serves, §1.1) is an error (exit 1, no file), not
    "No trainees matched" with an empty file (which is only for 404 `No trainees found`, §2.3)."""
    from stub_http import answering

    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    gone = b'{"errors":[{"error":"NotFound","message":"Not found"}]}'
    out = tmp_path / "held.json"
    with answering(404, gone, {"Content-Type": "application/json; charset=utf-8"}) as url:
        result = CliRunner().invoke(cli, ["export", "--target", url, "--to", "json", "-o", str(out)])
    assert result.exit_code == 1, result.output
    assert "No trainees matched" not in result.output and "does not serve the Register API" in result.output
    # What the user can do, not a setting with no other value to give (review138 F2).
    assert "the only version this register-batch speaks: check the target, or upgrade register-batch" in result.output
    assert "--api-version" not in result.output
    assert not out.exists()


def test_register_not_answering_is_one_line_saying_to_run_again_and_no_file(tmp_path, monkeypatch, no_backoff):
    from stub_http import answering

    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    out = tmp_path / "held.json"
    with answering(429, b"Retry later\n", {"Content-Type": "text/plain", "Retry-After": "0"}) as url:
        result = CliRunner().invoke(cli, ["-q", "export", "--target", url, "--to", "json", "-o", str(out)])
    assert result.exit_code == 3, result.output  # an outage, as sync's (review236 F1)
    assert "Register was unavailable" in result.output and "Run again later" in result.output
    assert not out.exists()


def test_a_machine_register_blocks_is_one_line_saying_register_refused_it_not_to_run_again(tmp_path, monkeypatch):
    """review103 F4: rack-attack's blocklist 403 (register-api.md §1.3) read "Register was unavailable ... Run again
    later.": a blocked IP address or User-Agent is no outage, and running again later meets the same 403."""
    from stub_http import answering

    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    out = tmp_path / "held.json"
    with answering(403, b"Forbidden\n", {"Content-Type": "text/plain"}) as url:
        result = CliRunner().invoke(cli, ["-q", "export", "--target", url, "--to", "json", "-o", str(out)])
    assert result.exit_code == 3, result.output  # as sync's: twice in a row, a person looks (review236 F1)
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("register-batch: error: Register refused (GET /trainees -> 403: Forbidden; Register ")
    assert line.endswith("; no file was written.") and "Run again later" not in line
    assert not out.exists()


@pytest.mark.parametrize(
    ("status", "body", "headers"),
    [
        (429, b"Retry later\n", {"Content-Type": "text/plain", "Retry-After": "0"}),
        (404, b'{"errors":[{"error":"NotFound","message":"Not found"}]}', {"Content-Type": "application/json"}),
    ],
    ids=["not answering", "not serving the API"],
)
def test_an_export_that_fails_leaves_nothing_in_the_output_folder_not_even_a_temporary_file(
    tmp_path, status, body, headers
):
    """A library caller that catches the error and goes on (a nightly job trying the next provider, the error kept to
    report at the end) finds the output's folder as it was: no output, and no hidden temporary file of it."""
    from register_batch.errors import RegisterBatchError
    from stub_http import answering

    folder = tmp_path / "exports"
    folder.mkdir()
    limiter = RateLimiter(1000, 1)
    with answering(status, body, headers) as url, RegisterClient(url, TOKEN, limiter=limiter, attempts=2) as client:
        with pytest.raises(RegisterBatchError) as caught:
            export_trainees(client, to="json", output=folder / "held.json")
        assert list(folder.iterdir()) == []  # while the caller still holds the error
    assert ("was unavailable" if status == 429 else "does not serve the Register API") in str(caught.value)


def test_values_register_holds_that_a_file_cannot_carry_as_they_are_are_noted(synced, tmp_path):
    """Register stores what it is sent: a vertical tab (which XML cannot hold) and a line break (which validate and
    sync of the CSV refuse: control_character). The export is written whole, says so, and stays one row per trainee."""
    emulator, _source = synced
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first, second = list(client.iter_trainees(academic_cycle=2025))[:2]
        client.update_trainee(first["trainee_id"], {"first_names": "Ann\x0bMarie", "last_name": "Vert\x0bical"})
        client.update_trainee(second["trainee_id"], {"last_name": "Smith\rQuux"})
        xml = export_trainees(client, to="hesa-xml", output=tmp_path / "held.xml", academic_cycle=2025)
        rows = export_trainees(client, to="register-csv", output=tmp_path / "held.csv", academic_cycle=2025)
    assert any("F_FNAMES, F_SURNAME holds a character XML cannot carry" in note.message for note in xml.notes)
    [student] = [
        s for s in etree.parse(str(tmp_path / "held.xml")).iter("Student") if "Marie" in s.findtext("F_FNAMES")
    ]
    assert student.findtext("F_FNAMES") == "Ann\\x0bMarie"
    assert any("last_name holds a line break" in note.message for note in rows.notes)
    with (tmp_path / "held.csv").open(newline="", encoding="utf-8") as fh:
        table = list(csv.reader(fh))
    assert len(table) == 1 + 12  # the header and one row per trainee
    assert [cell for row in table[1:] for cell in row if "Quux" in cell] == ["Smith\rQuux"]


def test_a_control_character_escaped_in_hesa_xml_is_refused_on_the_way_back(synced, tmp_path):
    """XML cannot carry U+000B, so the export writes the text `\\x0b` and says to correct the value in Register. Read
    back, that text is the escape, not a name: a sync of the export used to write it over Register's value (a PUT
    of `Ann\\x0bMarie`, after which no export said anything). It is refused like the character itself would be
    (control_character, as in a CSV export of the same value), and nothing is written."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        client.update_trainee(first["trainee_id"], {"first_names": "Ann\x0bMarie"})
        export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    back = records(out)[first["hesa_id"]]
    assert back.data["first_names"] == "Ann\\x0bMarie"
    assert [(i.field, i.code, i.severity.value) for i in back.issues] == [("first_names", "control_character", "error")]
    assert "U+000B" in back.issues[0].message

    def writes():
        return {k: n for k, n in emulator.snapshot()["requests"]["by_route"].items() if not k.startswith("GET")}

    before = writes()
    rerun = sync_files([str(out)], sync_options(emulator, tmp_path, TOKEN))
    assert rerun.actions == {"unchanged": 11, "invalid": 1}
    assert writes() == before
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        assert client.get_trainee(first["trainee_id"])["first_names"] == "Ann\x0bMarie"


@pytest.mark.parametrize("half", ["\\ud83d", "\\udce9"])
@pytest.mark.parametrize("to", ["register-csv", "json", "jsonl", "hesa-xml"])
def test_half_a_character_in_registers_answer_is_exported_escaped_and_refused_on_the_way_back(
    synced, tmp_path, to, half
):
    """A value Register gives with a JSON escape of half a character (`\\ud83d`, a lone surrogate): UTF-8 cannot hold
    it, and every export but HESA XML ended in an internal error (exit 70) part-way. It is written as that escape: a
    JSON export reads back as Register's own value; a CSV or XML export's is refused, as a control character is."""
    from stub_http import fronting

    emulator, _source = synced

    def half_a_character(seen, forward):
        status, headers, body = forward()
        return status, headers, body.replace(b'"first_names":"', b'"first_names":"' + half.encode(), 1)

    out = tmp_path / f"held.{to}"
    with (
        fronting(emulator.url, half_a_character) as front,
        RegisterClient(front.url, TOKEN, limiter=RateLimiter(1000, 1)) as client,
    ):
        exported = export_trainees(client, to=to, output=out, academic_cycle=2025)
    assert exported.written == 12
    if to == "register-csv":  # said before anyone uploads it, as a control character is
        assert [n.message.split(",")[0] for n in exported.notes] == ["first_names holds half a character"]
    if to in ("json", "jsonl"):
        text = out.read_text(encoding="utf-8")
        held = json.loads(text) if to == "json" else [json.loads(line) for line in text.splitlines()]
        held = held["data"] if isinstance(held, dict) else held
        assert sum(trainee["first_names"].startswith(json.loads('"' + half + '"')) for trainee in held) == 1
    else:
        back = [r for r in records(out).values() if r.data["first_names"].startswith(half)]
        assert [(i.field, i.code) for r in back for i in r.issues] == [("first_names", "control_character")]


def test_a_since_that_is_not_a_date_is_a_usage_error_before_any_request(tmp_path):
    result = CliRunner().invoke(
        cli,
        [
            "export",
            "--to",
            "json",
            "-o",
            str(tmp_path / "out.json"),
            "--since",
            "yesterday",
            "--state-dir",
            str(tmp_path),
        ],
    )
    assert result.exit_code == 2 and "'yesterday' is not an ISO 8601 date or time" in result.output
    for odd in ("2026-11-01T10", "2026-W44-1", "20261101"):  # Register (DateTime.iso8601) or Python would differ
        again = CliRunner().invoke(cli, ["export", "--to", "json", "-o", str(tmp_path / "o.json"), "--since", odd])
        assert again.exit_code == 2, odd
    assert not (tmp_path / "out.json").exists() and not (tmp_path / "register").exists()


def test_a_norwegian_trainee_round_trips_through_register_and_every_export(tmp_path):
    """Nationality `NO` is held, exported and read back as `NO`, so a second sync finds nothing to change."""
    from trainee_extracts import trainee, write_extract

    rows = [trainee(n) for n in range(1, 4)]
    rows[1]["nationality"] = "NO"
    source = write_extract(tmp_path / "in.csv", rows)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        options = sync_options(emulator, tmp_path, TOKEN)
        assert sync_files([str(source)], options).exit_code == 0
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            held = {t["hesa_id"]: t["nationality"] for t in client.iter_trainees(academic_cycle=2025)}
            for to, suffix in (("register-csv", "csv"), ("hesa-xml", "xml")):
                export_trainees(client, to=to, output=tmp_path / f"held.{suffix}", academic_cycle=2025)
        again = sync_files([str(source)], options)
        for suffix in ("csv", "xml"):
            read_back = records(tmp_path / f"held.{suffix}")
            assert read_back[rows[1]["hesa_id"]].data["nationality"] == "NO", suffix
            rerun = sync_files([str(tmp_path / f"held.{suffix}")], options)
            assert rerun.actions == {"unchanged": 3}, suffix
    assert held[rows[1]["hesa_id"]] == "NO"
    assert again.actions == {"unchanged": 3}
    assert b"False" not in (tmp_path / "held.csv").read_bytes() + (tmp_path / "held.xml").read_bytes()


def test_the_help_says_the_order_the_export_pages_in(synced, tmp_path):
    """`export --help` and the listing requests agree: oldest change first (sort_order=asc, §2.3)."""
    emulator, _source = synced
    orders: list[str | None] = []

    class Recording(RegisterClient):
        def list_trainees(self, **params):
            orders.append(params.get("sort_order"))
            return super().list_trainees(**params)

    with Recording(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        export_trainees(client, to="jsonl", output=tmp_path / "held.jsonl", academic_cycle=2025, per_page=5)
    assert orders and set(orders) == {"asc"}
    shown = " ".join(CliRunner().invoke(cli, ["export", "--help"]).output.split())
    assert "Pages through GET /trainees oldest change first" in shown
    assert "newest" not in shown


def test_a_trainee_changed_during_an_export_since_a_few_minutes_ago_is_still_exported(synced, tmp_path):
    """A `since` a few minutes ago: the first listing is from it, each later one from the last change read, never
    from before `since`; the trainee changed before the pages reached it is written as it now is."""
    emulator, _source = synced
    out = tmp_path / "recent.jsonl"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        oldest_first = [t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025, sort_order="asc")]
        since = (datetime.now(UTC) - timedelta(minutes=2)).isoformat(timespec="seconds")  # every trainee is newer
        pages: list[list[dict]] = []
        sinces: list[str | None] = []

        def change() -> None:  # after the first page: someone edits the trainee the last page would hold
            client.update_trainee(oldest_first[-1], {"email": "moved@example.org"})

        with changing_midway(emulator.url, change, pages, sinces=sinces) as changing:
            result = export_trainees(changing, to="jsonl", output=out, academic_cycle=2025, since=since, per_page=4)
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    ids = [t["trainee_id"] for t in exported]
    assert len(ids) == len(set(ids)) == result.written and set(ids) == set(oldest_first)
    assert [t["email"] for t in exported if t["trainee_id"] == oldest_first[-1]] == ["moved@example.org"]
    given = datetime.fromisoformat(since)
    assert sinces[0] == since and len(sinces) > 1
    assert all(datetime.fromisoformat(later.replace("Z", "+00:00")) > given for later in sinces[1:])


def withdraw_and_defer_two(client: RegisterClient) -> list[dict]:
    """The first three trainees of 2025 as Register lists them; the first withdrawn, the second deferred in Register."""
    first, second, third = list(client.iter_trainees(academic_cycle=2025))[:3]
    client.withdraw(first["trainee_id"], WITHDRAWN)
    client.defer(second["trainee_id"], {"defer_date": "2026-02-01", "defer_reason": "health"})
    return [first, second, third]


@pytest.mark.parametrize("to,suffix", [("register-csv", "csv")])
def test_a_withdrawal_or_deferral_the_format_cannot_hold_is_noted_for_each_trainee(synced, tmp_path, to, suffix):
    """Register's CSV template cannot say that a trainee withdrew or deferred (and its upload refuses extra columns):
    the row would read as a trainee in training, so the export says which trainees it concerns (the JSON exports
    hold the state; the HESA XML export writes a deferral's DEFER_* elements, see below)."""
    emulator, _source = synced
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first, second, third = withdraw_and_defer_two(client)
        result = export_trainees(client, to=to, output=tmp_path / f"held.{suffix}", academic_cycle=2025)
    noted = {n.whose: n.message for n in result.notes if "in Register: " in n.message}
    assert set(noted) == {noted_as(first), noted_as(second)}
    assert noted[noted_as(first)].startswith("withdrawn in Register: ")
    assert noted[noted_as(second)].startswith("deferred in Register: ")
    assert all("reads as a trainee in training" in text for text in noted.values())
    assert not [n for n in result.notes if n.trainee_id == third["trainee_id"] and "in Register" in n.message]


@pytest.mark.parametrize(
    ("state", "said"),
    [
        ("withdrawn", "withdrawn"),
        ("deferred", "deferred"),
        ("recommended_for_award", "recommended for award"),
        ("awarded", "awarded"),
        ("trn_received", None),
    ],
)
@pytest.mark.parametrize(
    ("to", "row"),
    [
        ("register-csv", "Register's CSV template has no column for it, so the row"),
        ("hesa-xml", "the HESA XML export has no tag for it, so the Student"),
        ("json", None),
    ],
)
def test_each_state_a_format_cannot_hold_is_named_in_its_note(state, said, to, row):
    """The words a note uses for each state past training, and what the format's row or Student then reads as. (A
    withdrawal or deferral without what it needs: one with it is written in HESA XML, see below and
    test_export_withdrawals.py.)"""
    from register_batch.export import state_note

    note = state_note({"trainee_id": "t1", "state": state}, to)
    only = f"; `--status {state}` exports only those" if state != "recommended_for_award" else ""
    kept = f"reads as a trainee in training (the json and jsonl exports hold the state and its dates{only})"
    if said is None or row is None:
        assert note is None
    elif to == "hesa-xml" and state in ("withdrawn", "deferred"):  # HESA XML has tags for these (review157 F2)
        lacking, noun = (
            ("date, reasons, trigger and future interest", "withdrawal")
            if state == "withdrawn"
            else ("date", "deferral")
        )
        assert note == (
            f"{said} in Register without the {lacking} a {noun} needs: the HESA XML export writes no {noun} for it, "
            f"so the Student {kept}"
        )
    else:
        assert note == f"{said} in Register: {row} {kept}"


def test_a_deferral_round_trips_through_hesa_xml_and_syncs_back_unchanged_without_a_warning(synced, tmp_path):
    """Every HESA record can say a deferral (a dormant F_MODE, or the DEFER_* elements the reader takes: formats.md,
    Withdrawals and deferrals), so a deferred trainee's Student that said none got sync_state_differs on every sync
    of the export. The export writes DEFER_DATE and DEFER_REASON: read back, the record says what Register holds, and
    the sync writes nothing and warns of nothing. So does a withdrawal Register holds whole, as WITHDRAWAL_*
    (test_export_withdrawals.py); one held without its reasons (an old one) stays a note."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first, second, third = withdraw_and_defer_two(client)
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    noted = [n.whose for n in result.notes if "reads as a trainee in training" in n.message]
    assert noted == []
    [student] = [s for s in etree.parse(str(out)).iter("Student") if s.findtext("F_HUSID") == second["hesa_id"]]
    assert (student.findtext("DEFER_DATE"), student.findtext("DEFER_REASON")) == ("2026-02-01", "health")
    back = records(out)
    assert back[second["hesa_id"]].deferral == {"defer_date": "2026-02-01", "defer_reason": "health"}
    assert back[first["hesa_id"]].deferral is None and back[third["hesa_id"]].deferral is None
    assert not [issue for record in back.values() for issue in record.issues]

    def writes():
        return {k: n for k, n in emulator.snapshot()["requests"]["by_route"].items() if not k.startswith("GET")}

    before = writes()
    rerun = sync_files([str(out)], sync_options(emulator, tmp_path, TOKEN))
    assert rerun.actions == {"unchanged": 12} and rerun.exit_code == 0
    assert [r.plan.state_note for r in rerun.results if r.plan.state_note] == []
    assert writes() == before


def test_a_trainee_withdrawn_after_a_deferral_is_exported_without_its_old_deferral(synced, tmp_path):
    """A deferred trainee withdrawn later (§6) keeps its defer_date: the withdrawal adds a trainee_withdrawals row and
    changes the state, nothing else (§2.7), and the emulator does the same. The export writes DEFER_* for a trainee
    Register holds as deferred only: read back, the withdrawn one would have said a deferral Register no longer holds
    it in (export mutant 59)."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        _first, second, _third = withdraw_and_defer_two(client)
        withdrawal = {"withdrawal_date": "2026-03-01", "reasons": ["trainee_workload_issues"], "trigger": "trainee"}
        client.withdraw(second["trainee_id"], {**withdrawal, "future_interest": "no"})
        held = client.get_trainee(second["trainee_id"])
        assert held["state"] == "withdrawn" and held["defer_date"] == "2026-02-01"  # kept (§2.7)
        export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    [student] = [s for s in etree.parse(str(out)).iter("Student") if s.findtext("F_HUSID") == second["hesa_id"]]
    assert student.find("DEFER_DATE") is None and student.find("DEFER_REASON") is None
    assert records(out)[second["hesa_id"]].deferral is None


def test_a_placement_without_a_urn_is_noted_not_written_in_hesa_xml_and_syncs_back_unchanged(synced, tmp_path):
    """F_PLMNTSCH is a URN; a placement Register holds by name and postcode only has no tag. The export says so
    instead of writing an empty `PLACEMENT`, and syncing the export back writes nothing (it used to delete it)."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        client.add_placement(first["trainee_id"], {"name": "St Mary's Nursery", "postcode": "SW1A 1AA"})
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    assert f"{noted_as(first)}: 1 placement without a URN left out: HESA's F_PLMNTSCH holds a URN only" in map(
        str, result.notes
    )
    [student] = [s for s in etree.parse(str(out)).iter("Student") if s.findtext("F_HUSID") == first["hesa_id"]]
    assert [p.findtext("F_PLMNTSCH") for p in student.iterfind("PLACEMENTS/PLACEMENT")] == [
        p["urn"] for p in first["placements"]
    ]

    def writes():
        return {k: n for k, n in emulator.snapshot()["requests"]["by_route"].items() if not k.startswith("GET")}

    before = writes()
    rerun = sync_files([str(out)], sync_options(emulator, tmp_path, TOKEN))
    assert rerun.actions == {"unchanged": 12}
    assert writes() == before


def first_without_degrees(client: RegisterClient) -> dict:
    """The first trainee of 2025 as Register lists it, its degrees then removed in Register."""
    first = next(iter(client.iter_trainees(academic_cycle=2025)))
    for degree in first["degrees"]:
        client.delete_degree(first["trainee_id"], degree["degree_id"])
    return first


def test_a_trainee_register_holds_without_a_degree_is_a_student_without_qualifications(synced, tmp_path):
    """A trainee whose degrees were all removed in Register is written like the others, with no
    PREVIOUSQUALIFICATIONS and no note on F_DEGENDDT, and reads back without a degree. Its route needs one, which the
    one note says (review40 F4: it had none, and the file then failed validate with no word from export)."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = first_without_degrees(client)
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    assert result.written == 12
    [note] = [str(n) for n in result.notes if n.trainee_id == first["trainee_id"]]
    assert note.endswith(
        ": validate and sync of this file refuse it: degree_required (degrees_attributes); `register-batch validate` "
        "on the file says why. Register holds it as its service or an earlier rule let it be"
    )
    [student] = [s for s in etree.parse(str(out)).iter("Student") if s.findtext("F_HUSID") == first["hesa_id"]]
    assert student.find("PREVIOUSQUALIFICATIONS/PREVIOUSQUALIFICATION") is None
    back = records(out)[first["hesa_id"]]
    assert not back.data.get("degrees_attributes")
    assert {i.code for i in back.issues if i.is_error} == {"degree_required"}  # as the note says


def held_by_hand(emulator, trainee_id: str, *, fields: dict | None = None, degree_twice: bool = False) -> None:
    """A trainee changed in Register's store, as its service or an earlier rule let it be: the emulator's API refuses
    a middle_names over 60 characters (§3.1), an iqts_country on a route that is not IQTS (§3.3 R8), and a degree
    equal to one held (409, §3.7)."""
    from register_batch.emulator.app import new_slug, token_digest

    store = emulator.app.store
    with store.transaction():
        provider = store.provider_by_token_hash(token_digest(TOKEN))
        assert provider is not None
        held = store.trainee(provider["id"], trainee_id)
        assert held is not None
        if fields is not None:
            held["fields"] = {**held["fields"], **fields}
            store.save_trainee(held)
        if degree_twice:
            [degree, *_others] = store.children("degrees", [held["id"]])[held["id"]]
            copy = {key: degree[key] for key in ("trainee_id", "created_at", "updated_at", "fields")}
            store.insert_child("degrees", {**copy, "slug": new_slug()})


@pytest.mark.parametrize("to,suffix", [("register-csv", "csv"), ("hesa-xml", "xml")])
def test_two_trainees_of_one_husid_and_srs_id_are_noted_as_refused_by_the_files_duplicate_checks(
    synced, tmp_path, to, suffix
):
    """review82 F3: Register can hold two trainees of one HUSID and SRS id starting in one year (a course changed
    within it, hesa-formats.md §1.5). The export wrote both with no note, and validate of the file refuses both as
    duplicates (the checks across a file, which the export's check of each trainee did not run)."""
    emulator, _source = synced
    out = tmp_path / f"held.{suffix}"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first, second, third = list(client.iter_trainees(academic_cycle=2025))[:3]
        same = {"hesa_id": first["hesa_id"], "provider_trainee_id": first["provider_trainee_id"]}
        held_by_hand(emulator, second["trainee_id"], fields=same)
        held_by_hand(emulator, third["trainee_id"], fields={"hesa_id": first["hesa_id"]})
        result = export_trainees(client, to=to, output=out, academic_cycle=2025)
    said = {note.trainee_id: note.message for note in result.notes if note.message.endswith(DUPLICATE_NOTE)}
    both = "duplicate_hesa_id (hesa_id), duplicate_provider_trainee_id (provider_trainee_id)"
    assert said == {
        first["trainee_id"]: f"validate and sync of this file refuse it: {both}; {DUPLICATE_NOTE}",
        second["trainee_id"]: f"validate and sync of this file refuse it: {both}; {DUPLICATE_NOTE}",
        third["trainee_id"]: f"validate and sync of this file refuse it: duplicate_hesa_id (hesa_id); {DUPLICATE_NOTE}",
    }
    checked = validated(out, tmp_path)
    assert checked.exit_code == 1, checked.output
    report = json.loads((tmp_path / f"r-{suffix}" / "report.json").read_text(encoding="utf-8"))
    refused = {(i["provider_trainee_id"], i["code"]) for i in report["issues"] if i["severity"] == "error"}
    assert refused == {
        (first["provider_trainee_id"], "duplicate_hesa_id"),
        (first["provider_trainee_id"], "duplicate_provider_trainee_id"),
        (third["provider_trainee_id"], "duplicate_hesa_id"),
    }
    assert len([line for line in result.note_lines() if DUPLICATE_NOTE in line]) == 2  # a kind of note each


def validated(out, tmp_path):
    """`register-batch validate` of an exported file, as a user runs it on one."""
    return CliRunner().invoke(
        cli, ["validate", str(out), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / f"r-{out.suffix[1:]}")]
    )


def refusals(result) -> list[str]:
    """The export's notes saying validate and sync of the file refuse a trainee (refused_note)."""
    return [str(note) for note in result.notes if note.message.startswith("validate and sync of this file refuse it: ")]


FORMULA_LEFT_OUT = (
    "deferred in Register, but its deferral's defer_reason starts with `=`, as a spreadsheet formula does, which "
    "validate refuses (spreadsheet_formula): the HESA XML export writes the deferral with its date only (DEFER_REASON "
    "NULL), so the Student reads back deferred without the reason"
)


def test_a_deferral_reason_validate_refuses_is_left_out_of_the_hesa_xml_with_a_note(synced, tmp_path):
    """review82 F2: the HESA XML writes a deferred trainee's DEFER_REASON, and a reason typed in Register starting
    with `=` made validate and sync of the file refuse the whole Student (spreadsheet_formula). A deferral needs only
    its date (register-api.md §3.10): the reason is left out (DEFER_REASON NULL), the note says why, and the file
    validates clean (test_export_withdrawals.py: the same for a line break, round trip and all)."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first, second = list(client.iter_trainees(academic_cycle=2025))[:2]
        client.defer(first["trainee_id"], {"defer_date": "2026-02-01", "defer_reason": "=family reasons, see SRS"})
        client.defer(second["trainee_id"], {"defer_date": "2026-02-01", "defer_reason": "family reasons"})
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    assert refusals(result) == []
    assert [n.message.split(" (the json")[0] for n in result.notes if n.message.startswith("deferred in")] == [
        FORMULA_LEFT_OUT
    ]
    assert [n.trainee_id for n in result.notes if n.message.startswith("deferred in")] == [first["trainee_id"]]
    students = {s.findtext("F_HUSID"): s for s in etree.parse(str(out)).iter("Student")}
    assert students[first["hesa_id"]].findtext("DEFER_REASON") == "NULL"
    assert students[first["hesa_id"]].findtext("DEFER_DATE") == "2026-02-01"
    assert students[second["hesa_id"]].findtext("DEFER_REASON") == "family reasons"
    checked = validated(out, tmp_path)
    assert checked.exit_code == 0, checked.output
    report = json.loads((tmp_path / "r-xml" / "report.json").read_text(encoding="utf-8"))
    assert [i for i in report["issues"] if i["severity"] == "error"] == []


@pytest.mark.parametrize("reason", [" =sum(1)", "\u00a0=x"], ids=["space", "no-break space"])
def test_a_deferral_reason_with_a_space_before_its_formula_is_left_out_too(synced, tmp_path, reason):
    """review84 F2: the readers trim a value (a no-break space too) before validate checks it, and the export's
    read-back check did not: a defer_reason ` =sum(1)` was not seen, and validate of the file refused the Student.
    Checked as it reads back, it is left out as a reason starting with `=` is."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        [first] = list(client.iter_trainees(academic_cycle=2025))[:1]
        client.defer(first["trainee_id"], {"defer_date": "2026-02-01", "defer_reason": reason})
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    assert [n.message.split(" (the json")[0] for n in result.notes if n.message.startswith("deferred in")] == [
        FORMULA_LEFT_OUT
    ]
    assert refusals(result) == []
    assert validated(out, tmp_path).exit_code == 0


@pytest.mark.parametrize("to,suffix", [("register-csv", "csv"), ("hesa-xml", "xml")])
@pytest.mark.parametrize("end", [" ", "\u00a0"], ids=["space", "no-break space"])
def test_two_srs_ids_differing_by_a_space_at_the_end_are_noted_as_the_files_duplicates(
    synced, tmp_path, to, suffix, end
):
    """review84 F2: `SRS-00012` and `SRS-00012 ` read back as one SRS id (the readers trim), which validate of the
    file refuses as duplicates in both rows; the export's duplicate check compared them untrimmed, and said nothing."""
    emulator, _source = synced
    out = tmp_path / f"held.{suffix}"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first, second = list(client.iter_trainees(academic_cycle=2025))[:2]
        held_by_hand(emulator, second["trainee_id"], fields={"provider_trainee_id": first["provider_trainee_id"] + end})
        result = export_trainees(client, to=to, output=out, academic_cycle=2025)
    said = {note.trainee_id for note in result.notes if note.message.endswith(DUPLICATE_NOTE)}
    assert said == {first["trainee_id"], second["trainee_id"]}
    assert validated(out, tmp_path).exit_code == 1


@pytest.mark.parametrize("to,suffix", [("register-csv", "csv"), ("hesa-xml", "xml")])
def test_a_value_the_file_has_no_place_for_is_not_said_to_be_refused(synced, tmp_path, to, suffix):
    """Register's CSV template has no middle_names column and C24053 no tag for it: a 70-character middle_names
    Register holds (over the 60 its rules allow now) is not in the file, which validate passes. The export said
    validate and sync of the file refuse the trainee (length): it checked the body Register holds, not the file."""
    emulator, _source = synced
    out = tmp_path / f"held.{suffix}"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        held_by_hand(emulator, first["trainee_id"], fields={"middle_names": "M" * 70})
        result = export_trainees(client, to=to, output=out, academic_cycle=2025)
    assert result.written == 12
    assert refusals(result) == []
    checked = validated(out, tmp_path)
    assert checked.exit_code == 0, checked.output


def test_a_duplicated_degree_is_said_to_be_refused_only_where_the_file_holds_both(synced, tmp_path):
    """A trainee Register holds with one degree twice: Register's CSV holds one degree, the highest, so its row
    validates (the export said it was refused: duplicate_degrees); HESA XML holds every degree, so its Student is
    refused, and the note says so, by code and field."""
    emulator, _source = synced
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        held_by_hand(emulator, first["trainee_id"], degree_twice=True)
        as_csv = export_trainees(client, to="register-csv", output=tmp_path / "held.csv", academic_cycle=2025)
        as_xml = export_trainees(client, to="hesa-xml", output=tmp_path / "held.xml", academic_cycle=2025)
    assert refusals(as_csv) == []
    checked = validated(tmp_path / "held.csv", tmp_path)
    assert checked.exit_code == 0, checked.output
    assert refusals(as_xml) == [
        f"{noted_as(first)}: validate and sync of this file refuse it: duplicate_degrees (degrees_attributes); "
        "`register-batch validate` on the file says why. Register holds it as its service or an earlier rule let it be"
    ]
    assert validated(tmp_path / "held.xml", tmp_path).exit_code == 1
    back = records(tmp_path / "held.xml")[first["hesa_id"]]
    assert {i.code for i in back.issues if i.is_error} == {"duplicate_degrees"}  # as the note says


@pytest.mark.parametrize("to,suffix,refused", [("register-csv", "csv", True), ("hesa-xml", "xml", False)])
def test_a_value_only_one_format_holds_is_said_to_be_refused_only_in_that_format(synced, tmp_path, to, suffix, refused):
    """Register's CSV template has an iqts_country column, C24053 no tag for it: an iqts_country Register holds for a
    trainee whose route is not IQTS is in the CSV row, which validate refuses (iqts_country_not_allowed), and the
    export says so; it is not in the Student, which validate passes, and the export says nothing."""
    emulator, _source = synced
    out = tmp_path / f"held.{suffix}"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        assert first["training_route"] != "iqts"
        held_by_hand(emulator, first["trainee_id"], fields={"iqts_country": "FR"})
        result = export_trainees(client, to=to, output=out, academic_cycle=2025)
    said = f"{noted_as(first)}: validate and sync of this file refuse it: iqts_country_not_allowed (iqts_country); "
    assert [note[: len(said)] for note in refusals(result)] == ([said] if refused else [])
    assert validated(out, tmp_path).exit_code == (1 if refused else 0)


def test_a_rule_refused_for_want_of_a_field_the_format_leaves_out_is_not_laid_at_registers_door(tmp_path):
    """review48 F7: an IQTS trainee just created through the API (valid) exported to HESA XML, which has no tag for
    iqts_country: its Student is refused (iqts_country_required), and the note said Register holds it "as its service
    or an earlier rule let it be". It says the file has no place for the field Register holds."""
    samples = Path(__file__).parents[1] / "samples"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, ukprns={TOKEN: "10052198"}) as emulator:
        assert sync_files([str(samples / "register.csv")], sync_options(emulator, tmp_path, TOKEN)).exit_code == 0
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            result = export_trainees(client, to="hesa-xml", output=tmp_path / "held.xml", academic_cycle=2026)
            [iqts] = [t for t in client.iter_trainees(academic_cycle=2026) if t.get("iqts_country")]
    assert refusals(result) == [
        f"{noted_as(iqts)}: validate and sync of this file refuse it: iqts_country_required (iqts_country), for want "
        "of iqts_country, which Register holds and this format has no place for (the json and jsonl exports hold it)"
    ]
    back = records(tmp_path / "held.xml")[iqts["hesa_id"]]
    assert {(i.code, i.field) for i in back.issues if i.is_error} == {("iqts_country_required", "iqts_country")}


@pytest.mark.parametrize(
    ("disabilities", "refused"),
    [
        ({"disability1": "00", "disability2": "95"}, None),
        ({"disability1": "08"}, "untranslatable_code_register_takes (disability1)"),
    ],
    ids=["00-read-as-95", "08-untranslatable"],
)
@pytest.mark.parametrize("to,suffix", [("register-csv", "csv"), ("hesa-xml", "xml")])
def test_a_legacy_code_register_holds_is_judged_as_validate_reads_it(
    synced, tmp_path, disabilities, refused, to, suffix
):
    """review44 F6: Register keeps any disability code another client sends (§3.1, §5.3), and validate reads the
    written file's legacy codes through the mapping (00 is 95; 08 has no translation). The note checked them
    untranslated: 00 was said to be refused (unknown_disability) where validate passed the file, and 08 by another
    code than validate's."""
    emulator, _source = synced
    out = tmp_path / f"held.{suffix}"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        keys = {f"disability{n}": "" for n in range(1, 10)} | disabilities
        client.update_trainee(first["trainee_id"], {**keys, "ethnicity": first["ethnicity"]})
        result = export_trainees(client, to=to, output=out, academic_cycle=2025)
    said = [note.split(": validate and sync of this file refuse it: ")[1].split(";")[0] for note in refusals(result)]
    assert said == ([refused] if refused else [])
    assert validated(out, tmp_path).exit_code == (1 if refused else 0)


@pytest.mark.parametrize("rows", [0, 1])
def test_an_abandoned_hesa_xml_output_leaves_no_file_while_its_writer_lives(tmp_path, rows):
    """An export that fails abandons its output: no file, not even a temporary one, is left (while the writer is
    still held, as the failing export's traceback holds it)."""
    writer = HesaXmlWriter(tmp_path / "held.xml")
    for _ in range(rows):
        writer.write({"trainee_id": "t-1", "first_names": "Ann", "last_name": "Lee"})
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_a_non_breaking_space_is_written_as_it_is_with_no_note(synced, tmp_path):
    """A no-break space (pasted from a document) is not printable to Python but is no control character: the XML
    carries it, it reads back as it is, and no note calls it a control character."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        client.update_trainee(first["trainee_id"], {"first_names": "Anne\u00a0Marie"})
        result = export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    assert {note.message for note in result.notes} == {GRADUATION_NOTE}
    assert records(out)[first["hesa_id"]].data["first_names"] == "Anne\u00a0Marie"


def test_a_non_uk_degree_keeps_its_type_through_hesa_xml(synced, tmp_path):
    """F_DEGTYPE holds a UK or a non-UK degree's type: a trainee whose degree was taken abroad reads back from the
    export with that degree's type, not with none."""
    from valid_trainee import NON_UK_DEGREE

    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = first_without_degrees(client)
        client.add_degree(first["trainee_id"], NON_UK_DEGREE)
        export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    [degree] = records(out)[first["hesa_id"]].data["degrees_attributes"]
    assert (degree.get("non_uk_degree"), degree.get("country")) == ("083", "FR")


def test_a_non_uk_degree_with_a_uk_type_too_keeps_its_own_type_through_hesa_xml(synced, tmp_path):
    """review113 F2: Register does not check a non-UK degree's uk_degree (§3.7) and gives back one that is a code. The
    one F_DEGTYPE was written from it, and the degree read back with that type as its non-UK one."""
    from valid_trainee import NON_UK_DEGREE

    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = first_without_degrees(client)
        added = client.add_degree(first["trainee_id"], {**NON_UK_DEGREE, "uk_degree": "051"})
        assert (added["uk_degree"], added["non_uk_degree"]) == ("051", "083")
        export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    [degree] = records(out)[first["hesa_id"]].data["degrees_attributes"]
    assert (degree.get("non_uk_degree"), degree.get("uk_degree"), degree.get("country")) == ("083", None, "FR")


def test_the_register_csv_export_writes_a_trainees_highest_degree_not_the_most_recent(synced, tmp_path):
    """Register's guidance for its CSV: "Only the highest previous degree qualification should be submitted". A
    trainee with a master's (2018) and a later bachelor's (2021) was exported with the bachelor's."""
    emulator, _source = synced
    out = tmp_path / "held.csv"
    common = {"subject": "100425", "grade": "02", "institution": "0117"}
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = first_without_degrees(client)
        client.add_degree(first["trainee_id"], {**common, "uk_degree": "205", "graduation_year": "2018"})
        client.add_degree(first["trainee_id"], {**common, "uk_degree": "083", "graduation_year": "2021"})
        result = export_trainees(client, to="register-csv", output=out, academic_cycle=2025)
    [degree] = records(out)[first["hesa_id"]].data["degrees_attributes"]
    assert (degree.get("uk_degree"), str(degree.get("graduation_year"))) == ("205", "2018")
    assert (
        f"{noted_as(first)}: 1 other degree left out: Register's CSV holds one degree per trainee, "
        "the highest" in map(str, result.notes)
    )


def test_placements_named_by_school_do_not_crowd_the_other_notes_out_of_the_printed_ones(synced, tmp_path):
    """review82 F1: the note on a placement without a URN named its school, so each school was a kind of note of its
    own; past the twenty kinds the command prints, the note that a degree was left out (which no file holds) was not
    printed at all. Now one kind for them all, and the degree's note is among the lines printed."""
    emulator, _source = synced
    common = {"subject": "100425", "grade": "02", "institution": "0117"}
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        listed = list(client.iter_trainees(academic_cycle=2025))
        for number, trainee in enumerate(listed[1:]):
            for school in ("Village", "Farm"):
                placement = {"name": f"{school} School {number}", "postcode": "BN1 1AA"}
                client.add_placement(trainee["trainee_id"], placement)
        first = first_without_degrees(client)
        client.add_degree(first["trainee_id"], {**common, "uk_degree": "205", "graduation_year": "2018"})
        client.add_degree(first["trainee_id"], {**common, "uk_degree": "083", "graduation_year": "2021"})
        result = export_trainees(client, to="register-csv", output=tmp_path / "held.csv", academic_cycle=2025)
    lines = result.note_lines()
    assert not [line for line in lines if "more kind" in line], lines
    [placements] = [line for line in lines if "without a URN" in line]
    assert placements.startswith(
        f"2 placements without a URN left out: Register's CSV holds placements by URN only ({len(listed) - 1} "
        "trainees, e.g. trainee "
    )
    assert [line for line in lines if "other degree" in line] == [
        f"{noted_as(first)}: 1 other degree left out: Register's CSV holds one degree per trainee, the highest"
    ]
    assert not [line for line in lines if "School" in line]


def test_a_surname_null_round_trips_through_registers_csv(synced, tmp_path):
    """In a CSV the cell is written `'Null` (Register strips the apostrophe), which the readers keep as the text."""
    emulator, _source = synced
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        client.update_trainee(first["trainee_id"], {"last_name": "Null"})
        result = export_trainees(client, to="register-csv", output=tmp_path / "held.csv", academic_cycle=2025)
    assert [n for n in result.notes if "'Null'" in n.message] == []
    back = records(tmp_path / "held.csv")[first["hesa_id"]]
    assert back.data["last_name"] == "Null" and not back.has_errors


@pytest.mark.parametrize("to,suffix", [("hesa-xml", "xml")])
def test_a_surname_that_reads_back_as_no_value_is_noted(synced, tmp_path, to, suffix):
    """`Null` is a surname, and HESA's text for no value (hesa-formats.md §1.4), which no XML element can say
    otherwise: the export says which trainee and field, and that validate and sync of the file refuse the Student,
    as last_name is required (review56 F1)."""
    emulator, _source = synced
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        client.update_trainee(first["trainee_id"], {"last_name": "Null"})
        result = export_trainees(client, to=to, output=tmp_path / f"held.{suffix}", academic_cycle=2025)
    assert [str(n) for n in result.notes if "'Null'" in n.message] == [
        f"{noted_as(first)}: last_name holds the text 'Null', which reads back as no value (HESA's NULL): "
        "validate and sync of this file refuse the Student (required); the json and jsonl exports hold it"
    ]
    assert records(tmp_path / f"held.{suffix}")[first["hesa_id"]].data.get("last_name") is None


@pytest.mark.parametrize(
    "to,suffix,place",
    [
        ("register-csv", "csv", "Register's CSV template has columns for disability1 to disability9 only"),
        ("hesa-xml", "xml", "the HESA XML has tags for disability1 to disability9 only (F_DISABLE1 to F_DISABLE9)"),
    ],
)
def test_disability_keys_past_nine_register_holds_are_noted_where_the_format_has_no_place_for_them(
    synced, tmp_path, to, suffix, place
):
    """Register keeps every `disabilityN` key it is sent and echoes it (register-api.md §5.3, §3.6); the CSV template
    and C24053 have nine places, so disability10 and on were left out of those exports with no word."""
    emulator, _source = synced
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first = next(iter(client.iter_trainees(academic_cycle=2025)))
        client.update_trainee(first["trainee_id"], {"disability11": "55", "disability10": "57"})
        result = export_trainees(client, to=to, output=tmp_path / f"held.{suffix}", academic_cycle=2025)
        export_trainees(client, to="json", output=tmp_path / "held.json", academic_cycle=2025)
    assert [str(n) for n in result.notes if "disability1" in n.message] == [
        f"{noted_as(first)}: disability10, disability11 left out: {place} (the json and jsonl exports hold them)"
    ]
    [held] = [t for t in json.loads((tmp_path / "held.json").read_text()) if t["trainee_id"] == first["trainee_id"]]
    assert (held["disability10"], held["disability11"]) == ("57", "55")


def test_a_disability_key_of_any_length_is_noted_in_number_order_and_cut_short():
    """Register keeps any `disabilityN` key: one of thousands of digits ended the export with an internal error
    (int() refuses over 4,300 digits), and was quoted whole (review22)."""
    from register_batch.export import disabilities_note

    huge = "disability" + "9" * 5000
    note = disabilities_note({huge: "57", "disability010": "58", "disability12": "55", "disability1": "51"}, "hesa-xml")
    assert note is not None and len(note) < 300
    named = note.partition(" left out")[0]
    assert named.startswith("disability010, disability12, disability999") and named.endswith("9")


def test_every_field_holding_the_text_null_is_named_in_one_note_by_what_it_costs():
    from register_batch.export import null_notes

    body = {"first_names": "Null", "last_name": " null ", "previous_last_name": "NULL", "middle_names": "Nullah"}
    assert null_notes(body, refused={"first_names", "last_name"}) == [
        "first_names, last_name holds the text 'Null', which reads back as no value (HESA's NULL): validate and sync "
        "of this file refuse the Student (required); the json and jsonl exports hold it",
        "previous_last_name holds the text 'Null', which reads back as no value (HESA's NULL): validate and sync "
        "of this file will not see it",
    ]
    assert null_notes({"last_name": "Nullah"}, refused=set()) == []


def test_a_line_break_or_tab_written_as_it_is_is_noted_in_every_format(synced, tmp_path):
    """XML carries a line break and a tab, and Register's CSV a tab, so the exports write them as they are; read
    back, validate and sync refuse such a value (control_character). The export says so, as formats.md promises,
    rather than leaving the reader to find records that fail on the way back."""
    emulator, _source = synced
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        first, second, third = list(client.iter_trainees(academic_cycle=2025))[:3]
        client.update_trainee(first["trainee_id"], {"first_names": "Ann\tMarie"})
        client.update_trainee(second["trainee_id"], {"first_names": "Jo\nAnn", "last_name": "Smith\nJones"})
        # A C1 character: Windows-1252's ’ read as Latin-1 somewhere upstream. Neither a line break nor a tab.
        client.update_trainee(third["trainee_id"], {"last_name": "O\x92Brien"})
        xml = export_trainees(client, to="hesa-xml", output=tmp_path / "held.xml", academic_cycle=2025)
        rows = export_trainees(client, to="register-csv", output=tmp_path / "held.csv", academic_cycle=2025)
    xml_notes = {n.whose: n.message for n in xml.notes if "control_character" in n.message}
    assert set(xml_notes) == {f"{noted_as(t)}" for t in (first, second, third)}
    said = "holds a line break, a tab or another control character: written as it is"
    assert xml_notes[noted_as(first)].startswith(f"F_FNAMES {said}")
    assert xml_notes[noted_as(second)].startswith(f"F_FNAMES, F_SURNAME {said}")  # one note, both
    assert xml_notes[noted_as(third)].startswith(f"F_SURNAME {said}")
    assert sorted(str(n) for n in rows.notes if "control_character" in n.message) == sorted(
        [
            *(
                f"{noted_as(t)}: {field} holds a tab or another control character: written as it is, but "
                "validate and sync of this file refuse the record (control_character); correct the value at its source"
                for t, field in ((first, "first_names"), (third, "last_name"))
            ),
            f"{noted_as(second)}: first_names, last_name holds a line break: written as one quoted cell, but validate "
            "and sync of this file refuse the record (control_character); correct the value at its source",
        ]
    )
    back = records(tmp_path / "held.xml")
    assert {i.code for i in back[first["hesa_id"]].issues} == {"control_character"}
    assert {i.code for i in back[second["hesa_id"]].issues} == {"control_character"}
    assert {i.code for i in back[third["hesa_id"]].issues} == {"control_character"}


def test_every_status_export_offers_exports_the_trainees_register_holds_in_it(synced, tmp_path, monkeypatch):
    """`--status` is offered by the command and checked again by the library (export.STATUSES): each status the
    command offers is one the library takes, and exports exactly the trainees Register lists in it."""
    from register_batch.commands.export import export as export_command
    from register_batch.export import STATUSES

    emulator, _source = synced
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        withdraw_and_defer_two(client)
    [offered] = [p.type.choices for p in export_command.params if p.name == "status"]
    assert sorted(offered) == sorted(STATUSES)  # and every status Register lists (§2.3) is offered
    for status in offered:
        out = tmp_path / f"{status}.jsonl"
        options = ["--academic-cycle", "2025", "--status", status, "--to", "jsonl", "-o", str(out)]
        result = CliRunner().invoke(cli, ["export", "--target", emulator.url, *options])
        assert result.exit_code == 0, (status, result.output)
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            held = {t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025, status=status)}
        assert {json.loads(line)["trainee_id"] for line in out.read_text().splitlines()} == held, status


@pytest.mark.parametrize(
    ("status", "since"),
    [(None, None), ("in_training", None), (None, "2020-01-01T00:00:00Z")],
    ids=["every trainee", "a status", "an old since"],
)
def test_a_paged_export_makes_no_listing_but_its_pages(synced_earlier, tmp_path, status, since):
    """Register allows 100 requests a minute (§1.3). 12 trainees at 5 a page: 5, then 4 more from the fifth's change
    (it comes again), then the last 3 from the ninth's, which Register says is the last page: three listings, as
    offset paging takes, and no listing of what changed meanwhile."""
    emulator, _source = synced_earlier
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        result = export_trainees(
            client,
            to="jsonl",
            output=tmp_path / "held.jsonl",
            academic_cycle=2025,
            status=status,
            since=since,
            per_page=5,
        )
    assert result.written == 12 and result.requests["total"] == 3


@pytest.mark.parametrize(
    ("options", "said"),
    [
        ({"to": "xlsx"}, "to must be one of register-csv, hesa-xml, json, jsonl"),
        (
            {"status": "graduated"},
            "status 'graduated' is not one of course_not_yet_started, in_training, deferred, awarded, withdrawn",
        ),
    ],
)
def test_a_format_or_status_export_does_not_know_is_refused_before_any_request_and_writes_nothing(
    tmp_path, options, said
):
    from register_batch.errors import ConfigError

    out = tmp_path / "held.jsonl"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        with (
            RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client,
            pytest.raises(ConfigError) as refused,
        ):
            export_trainees(client, **{"to": "jsonl", "output": out, **options})
        assert str(refused.value) == said
        assert emulator.snapshot()["requests"]["total"] == 0
    assert not out.exists()


def test_an_output_in_the_state_dir_is_refused_and_the_ledger_and_emulator_data_are_kept(tmp_path, monkeypatch):
    """`export -o .register-batch/sandbox/ledger.sqlite3` (or the embedded emulator's database) replaced the sync
    ledger with a CSV: the next sync refused it, and what the ledger knew of the trainees created was lost."""
    monkeypatch.chdir(tmp_path)
    first = CliRunner().invoke(cli, ["export", "--to", "json", "-o", "held.json", "--state-dir", "st"])
    assert first.exit_code == 0, first.output
    database = tmp_path / "st" / "register" / "register.sqlite3"
    kept = database.read_bytes()
    for output in (database, tmp_path / "st" / "held.csv", "st/../st/register/held.csv"):
        result = CliRunner().invoke(cli, ["export", "--to", "register-csv", "-o", str(output), "--state-dir", "st"])
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"register-batch: error: cannot write {output}: that is in the state dir st (the sync ledger, its lock and "
            "the embedded emulator's data), which it could replace: name a file outside it\n"
        )
    assert database.read_bytes() == kept and not (tmp_path / "st" / "held.csv").exists()


def test_an_output_in_another_targets_state_dir_is_refused_too(tmp_path, monkeypatch):
    """The default state dirs are siblings (`.register-batch/<target>`), and `--state-dir` may name any folder: an
    export to the embedded emulator overwrote the sandbox's ledger, which this run's state dir check did not cover."""
    monkeypatch.chdir(tmp_path)
    sandbox = tmp_path / ".register-batch" / "sandbox"
    sandbox.mkdir(parents=True)
    (sandbox / "ledger.sqlite3").write_bytes(b"SQLite format 3\x00")
    other = tmp_path / "state" / "try"
    (other / "register").mkdir(parents=True)
    (other / "register" / "register.sqlite3").write_bytes(b"SQLite format 3\x00")
    for output, found in ((sandbox / "ledger.sqlite3", sandbox), (other / "register" / "held.json", other)):
        result = CliRunner().invoke(cli, ["export", "--to", "json", "-o", str(output)])
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"register-batch: error: cannot write {output}: that is in the state dir {found} (the sync ledger, its "
            "lock and the embedded emulator's data), which it could replace: name a file outside it\n"
        )
    assert (sandbox / "ledger.sqlite3").read_bytes() == b"SQLite format 3\x00"
    assert not (other / "register" / "held.json").exists()


@pytest.mark.parametrize("spelling", ["Z", "-05:00", "naive"])
def test_a_since_export_over_pages_writes_only_what_changed_since_however_the_time_is_written(
    synced, tmp_path, spelling
):
    """`--since` in UTC, with another offset, or with none (UTC, as Register reads it, §2.3): an export of more than
    one page writes the trainees changed since then and no other, its later pages listed from changes after it."""
    emulator, _source = synced
    time.sleep(1.1)
    moment = datetime.now(UTC).replace(microsecond=0)
    since = {
        "Z": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "-05:00": moment.astimezone(timezone(timedelta(hours=-5))).isoformat(),
        "naive": moment.replace(tzinfo=None).isoformat(),
    }[spelling]
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        changed = [t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025)][:6]
        for trainee_id in changed:
            client.update_trainee(trainee_id, {"email": "changed@example.org"})
        result = export_trainees(
            client, to="jsonl", output=tmp_path / "recent.jsonl", academic_cycle=2025, since=since, per_page=5
        )
    ids = [json.loads(line)["trainee_id"] for line in (tmp_path / "recent.jsonl").read_text().splitlines()]
    assert sorted(ids) == sorted(changed) and result.written == 6


@pytest.mark.parametrize("since", [" 2026-11-01T10:00:00Z ", "yesterday", "2026-11-01T10", "2026-02-30"])
def test_a_library_since_register_batch_cannot_read_is_refused_before_any_request(synced, tmp_path, since):
    """A library caller's `since` that this module cannot read as Register does (spaces around it, which
    DateTime.iso8601 skips; an hour alone; a day that does not exist): refused as the command line's --since is,
    before any request, with an example of what is taken."""
    from register_batch.errors import ConfigError

    emulator, _source = synced
    before = emulator.snapshot()["requests"]["total"]
    with (
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client,
        pytest.raises(ConfigError) as refused,
    ):
        export_trainees(client, to="jsonl", output=tmp_path / "recent.jsonl", since=since, per_page=5)
    assert str(refused.value) == (
        f"since {since!r} is not an ISO 8601 date or time, e.g. 2026-11-01 or 2026-11-01T00:00:00Z"
    )
    assert emulator.snapshot()["requests"]["total"] == before and not (tmp_path / "recent.jsonl").exists()


def test_the_export_command_says_how_many_trainees_it_wrote_where_and_at_what_cost(synced, tmp_path, monkeypatch):
    """The line people read after an export: never "No trainees matched" for a cycle that has them, and the provider
    Register listed them under (a vendor's job run with another provider's token shows it there). The file is
    owner-only (it holds personal data) and nothing printed holds the token."""
    emulator, _source = synced
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    out = tmp_path / "held.jsonl"
    options = ["--academic-cycle", "2025", "--to", "jsonl", "-o", str(out)]
    result = CliRunner().invoke(cli, ["export", "--target", emulator.url, *options])
    assert result.exit_code == 0, result.output
    ukprn = json.loads(out.read_text().splitlines()[0])["ukprn"]  # the token's provider: a wrong token shows here
    assert (
        f"Exported 12 trainees to {out} (academic cycle 2025 to 2026, listed under UKPRN {ukprn}; 1 request)."
        in result.output.splitlines()
    )
    assert "No trainees matched" not in result.output and TOKEN not in result.output
    assert len(out.read_text().splitlines()) == 12 and stat.S_IMODE(out.stat().st_mode) == 0o600


def test_an_export_of_the_current_cycle_says_so_and_how_to_ask_for_another(tmp_path, monkeypatch):
    """A migrated cohort's second years started in an earlier cycle: an export without --academic-cycle leaves them
    out, and its line used to give the count alone, fewer trainees than were synced, with no word of why."""
    from trainee_extracts import started_in, trainee, write_extract

    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    source = write_extract(tmp_path / "in.csv", [started_in(2026, trainee(n)) for n in (1, 2)] + [trainee(3)])
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        assert sync_files([str(source)], sync_options(emulator, tmp_path, TOKEN)).exit_code == 0
        out = tmp_path / "held.jsonl"
        result = CliRunner().invoke(cli, ["export", "--target", emulator.url, "--to", "jsonl", "-o", str(out)])
    assert result.exit_code == 0, result.output
    ukprn = json.loads(out.read_text().splitlines()[0])["ukprn"]
    assert (
        f"Exported 2 trainees to {out} (the academic cycle current today (UTC), {CURRENT}, listed under UKPRN {ukprn}; "
        "--academic-cycle YYYY for another; 1 request)." in result.output.splitlines()
    )


def test_a_page_size_of_zero_is_a_usage_error_before_any_request(tmp_path, monkeypatch):
    """Register reads `per_page=0` as a limit of 0 and answers 404 "No trainees found" (register-api.md §2.3): an
    export would write an empty file for a cycle full of trainees. The smallest page size, 1, is taken."""
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        out = tmp_path / "held.json"
        options = ["--target", emulator.url, "--to", "json", "-o", str(out)]
        refused = CliRunner().invoke(cli, ["export", "--per-page", "0", *options])
        assert refused.exit_code == 2 and "--per-page" in refused.output
        assert emulator.snapshot()["requests"]["total"] == 0 and not out.exists()
        taken = CliRunner().invoke(cli, ["export", "--per-page", "1", *options])
        assert taken.exit_code == 0, taken.output


def test_an_export_from_a_register_slower_than_its_timeout_gives_up_after_its_tries_not_thirty_seconds_each(
    tmp_path, monkeypatch, no_backoff
):
    """`--timeout` was sync's only: an export waited 30 seconds for each of its six tries of a page that Register
    (or a proxy before it) held, over three minutes before it said so, and a slow line's large pages could not be
    given longer. Here each answer takes 1.5 s and the export allows 1 s: it stops with exit 3 and no file. (Without
    the backoff between tries: the time asserted is the tries' own; an export that ignored --timeout would succeed.)"""
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    out = tmp_path / "held.json"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, latency_ms=1500) as emulator:
        started = time.monotonic()
        result = CliRunner().invoke(
            cli, ["-q", "export", "--target", emulator.url, "--timeout", "1", "--to", "json", "-o", str(out)]
        )
        took = time.monotonic() - started
        tries = emulator.snapshot()["requests"]["by_route"]["GET /trainees"]
    assert result.exit_code == 3, result.output
    assert "Register was unavailable" in result.output and "no reply in time" in result.output
    assert tries == 6 and took < 30
    assert not out.exists()


def killed_part_way(output, to: str) -> None:
    """Leave what an export to `output` killed part-way (SIGKILL, the machine stopped) leaves: its writer's temporary
    file, written to and never put in place nor removed (no `finally` runs in a killed process)."""
    import subprocess
    import sys
    import textwrap

    code = textwrap.dedent(
        """
        import os, sys
        from register_batch.export import HesaXmlWriter
        from register_batch.writers import JsonLinesWriter, RegisterCsvWriter

        to, out = sys.argv[1], sys.argv[2]
        writers = {
            "hesa-xml": HesaXmlWriter,
            "jsonl": JsonLinesWriter,
            "register-csv": lambda path: RegisterCsvWriter(path, max_bytes=1),  # a part per row
        }
        writer = writers[to](out)
        for n in range(2):
            writer.write({"first_names": "Ann", "last_name": f"Part{n}"})
        for fh in (getattr(writer, "_fh", None), getattr(writer, "_current", None)):
            if fh is not None:
                fh.flush()
        os._exit(9)
        """
    )
    done = subprocess.run([sys.executable, "-c", code, to, str(output)], capture_output=True, text=True)
    assert done.returncode == 9, done.stderr


@pytest.mark.parametrize(
    ("to", "name"),
    [("jsonl", "held.jsonl"), ("hesa-xml", "held.xml"), ("register-csv", "held.csv"), ("register-csv", "held.txt")],
)
def test_a_temporary_file_an_export_killed_part_way_left_is_named_by_the_next_export_to_that_name(
    synced, tmp_path, monkeypatch, to, name
):
    """A killed export (SIGKILL, out of memory, the machine stopped) leaves its hidden temporary file, holding part
    of the trainees' personal data; every later export to that name went on without a word, so it stayed there for
    good. The next export names it (and each part's, for Register's CSV) and leaves it: a run writing the same output
    at that moment has one too."""
    emulator, _source = synced
    folder = tmp_path / "exports"
    folder.mkdir()
    killed_part_way(folder / name, to)
    left = sorted(p.name for p in folder.iterdir())
    assert left and all(n.startswith(".") and n.endswith(".tmp") for n in left)
    assert len(left) == (2 if to == "register-csv" else 1)  # Register's CSV: the part written, and the next one
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    result = CliRunner().invoke(
        cli,
        ["-q", "export", "--target", emulator.url, "--academic-cycle", "2025", "--to", to, "-o", str(folder / name)],
    )
    assert result.exit_code == 0, result.output
    said = [line for line in result.output.splitlines() if "stopped before it finished" in line]
    assert [line.split(" is part of")[0] for line in said] == [f"note: {folder / n}" for n in left]
    assert all("it holds personal data; delete it" in line for line in said)
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) == left  # named, never deleted


def test_an_export_beside_no_leftover_and_others_temporary_files_names_none(synced, tmp_path):
    """Only this output's own temporaries are named: another file's (held.json beside held.jsonl), or a file that
    only looks like one, is not."""
    emulator, _source = synced
    killed_part_way(tmp_path / "held.jsonl", "jsonl")
    (tmp_path / ".held.jsonl.notours.tmp").write_text("")
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        result = export_trainees(client, to="json", output=tmp_path / "held.json", academic_cycle=2025)
    assert result.leftovers == []


@pytest.mark.parametrize("given", ["option", "environment"])
def test_an_export_with_another_providers_token_stops_writing_nothing_when_the_ukprn_is_given(
    synced, tmp_path, monkeypatch, given
):
    """A vendor's nightly export for one provider, run with another provider's token (a token file mixed up), wrote
    that provider's trainees where this one's are kept, and exited 0: `ukprn` in the settings (or --ukprn) did not
    count for export, as it does for sync. Now a trainee Register lists under another UKPRN stops it (exit 2): no
    file, an earlier export to that name kept, and the message names both providers and where the UKPRN was given."""
    emulator, _source = synced
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    out = tmp_path / "held.jsonl"
    out.write_text("last night's\n")
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        listed = next(iter(client.iter_trainees(academic_cycle=2025)))["ukprn"]
    other = "10000001" if listed != "10000001" else "10000002"
    command = ["export", "--target", emulator.url, "--academic-cycle", "2025", "--to", "jsonl", "-o", str(out)]
    if given == "option":
        command += ["--ukprn", other]
    else:
        monkeypatch.setenv("REGISTER_BATCH_UKPRN", other)
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2, result.output
    source = "--ukprn" if given == "option" else "$REGISTER_BATCH_UKPRN"
    assert (
        f"the API token from $REGISTER_API_TOKEN is provider {listed}'s (Register lists its trainees under that "
        f"UKPRN), not {other}'s, given with {source}: nothing was written." in result.output
    )
    assert out.read_text() == "last night's\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".held")] == []
    monkeypatch.delenv("REGISTER_BATCH_UKPRN", raising=False)
    right = CliRunner().invoke(cli, [*command[: command.index(str(out)) + 1], "--ukprn", listed])
    assert right.exit_code == 0, right.output
    assert len(out.read_text().splitlines()) == 12


def test_an_export_from_the_embedded_emulator_with_a_ukprn_exports_as_that_provider(tmp_path, monkeypatch):
    """The embedded emulator stands in for the provider --ukprn names, as it does for sync: an export given one was
    refused as "the API token is provider ...'s ... Use 10000001's token", a token nobody can choose (found by
    review9)."""
    from trainee_extracts import extract

    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_API_TOKEN", "REGISTER_BATCH_UKPRN", "REGISTER_BATCH_STATE_DIR"):
        monkeypatch.delenv(name, raising=False)
    source = extract(tmp_path / "in.csv", 3)
    assert CliRunner().invoke(cli, ["-q", "sync", str(source)]).exit_code == 0
    command = ["export", "--academic-cycle", "2025", "--to", "json", "-o", "held.json", "--ukprn", "10000001"]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 0, result.output
    assert {trainee["ukprn"] for trainee in json.loads((tmp_path / "held.json").read_text())} == {"10000001"}


@pytest.mark.parametrize("held", [None, ""], ids=["without it", "empty"])
def test_an_export_with_the_ukprn_given_goes_on_when_the_listing_names_no_provider(synced, tmp_path, held):
    """A trainee listed without its UKPRN (a gateway trimming the answer) tells nothing of whose the token is: the
    export writes it, as sync's check lets it pass, not refusing the token as provider `None`'s."""
    from stub_http import fronting

    emulator, _source = synced

    def without_ukprn(seen, forward):
        if seen.method == "GET" and seen.path.endswith("/trainees"):
            status, headers, content = forward()
            answer = json.loads(content)
            answer["data"] = [{**trainee, "ukprn": held} for trainee in answer.get("data", [])]
            return status, headers, json.dumps(answer).encode()
        return None

    out = tmp_path / "held.jsonl"
    with (
        fronting(emulator.url, without_ukprn) as front,
        RegisterClient(front.url, TOKEN, limiter=RateLimiter(1000, 1)) as client,
    ):
        result = export_trainees(client, to="jsonl", output=out, academic_cycle=2025, ukprn="10000001")
    assert result.written == 12 and len(out.read_text().splitlines()) == 12


# What Register returns only for a trainee with a HESA detail row (register-api.md §3.6): "keys are absent (not null)
# for trainees without a HESA detail row (e.g. created in the UI and never updated via API)".
HESA_DETAIL_KEYS = (
    "itt_aim",
    "itt_qualification_aim",
    "course_year",
    "additional_training_initiative",
    "ni_number",
    "pg_apprenticeship_start_date",
    "previous_last_name",
    "fund_code",
)


def test_a_trainee_register_holds_without_a_hesa_detail_is_noted_when_its_exported_row_will_not_read_back(tmp_path):
    """docs/formats.md, export: "a dry run of an export against the service it came from plans nothing but
    `unchanged`, except where a format cannot hold what Register does, and then the export says so in a note for each
    trainee". A trainee Register got from Apply, or that a user added in its web service, and that no API client has
    updated has no HESA detail row: Register's answer has no itt_aim, course_year or fund_code (§3.6), all three
    required (§3.2). Its exported row is refused by validate (and by a sync of the file), with no note from the export
    naming it. The emulator makes every trainee through the API, so the test takes one of them back to how Register
    holds such a trainee (its HESA detail values gone, record_source `apply`)."""
    from register_batch.emulator.app import token_digest
    from register_batch.validation import Checker
    from trainee_extracts import extract

    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        assert (
            sync_files([str(extract(tmp_path / "in.csv", 3))], sync_options(emulator, tmp_path, TOKEN)).exit_code == 0
        )
        store = emulator.app.store
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
            [from_apply, *_others] = list(client.iter_trainees(academic_cycle=2025))
            with store.transaction():
                provider = store.provider_by_token_hash(token_digest(TOKEN))
                assert provider is not None
                held = store.trainee(provider["id"], from_apply["trainee_id"])
                assert held is not None
                held["fields"] = {k: v for k, v in held["fields"].items() if k not in HESA_DETAIL_KEYS}
                held["meta"] = {**held["meta"], "record_source": "apply"}
                store.save_trainee(held)
            out = tmp_path / "held.csv"
            result = export_trainees(client, to="register-csv", output=out, academic_cycle=2025)
            as_xml = export_trainees(client, to="hesa-xml", output=tmp_path / "held.xml", academic_cycle=2025)
            as_json = export_trainees(client, to="json", output=tmp_path / "held.json", academic_cycle=2025)
    assert result.written == 3
    with Checker(fmt="auto", as_of=AS_OF) as checker:
        refused = {r.data.get("hesa_id") for r in checker.records([str(out)]) if any(i.is_error for i in r.issues)}
    assert refused == {from_apply["hesa_id"]}  # the row does not read back
    for exported in (result, as_xml):
        its = [note.message for note in exported.notes if note.trainee_id == from_apply["trainee_id"]]
        assert "Register holds no itt_aim, course_year, fund_code for this trainee" in its[0]
        # the others have every field a request needs: no note for them
        assert [note.message for note in exported.notes if "Register holds no" in note.message] == its[:1]
    assert len(result.notes) == 1  # the CSV rows of the others are as Register holds them: nothing to note
    assert as_json.notes == []  # JSON holds what Register does: nothing to note


def test_a_kosovan_trainee_is_written_with_hesas_nationality_code_and_syncs_back_unchanged(synced, tmp_path):
    """review126 F1: Register's nationality XK (Kosovan) was written as F_NATION XK, which is no HESA nationality
    code (Kosovo is QO; XK is HESA's country code for the UK: hesa-formats.md §2.3.4), and validate of the export told
    the user the trainee was most likely British. HESA's QO reads back as Register's XK."""
    emulator, _source = synced
    out = tmp_path / "held.xml"
    with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client:
        [kosovan, *_] = client.list_trainees(academic_cycle=2025)[0]
        # The whole body, as an SRS sends it: a PUT without the diversity fields would have Register derive them anew
        client.update_trainee(kosovan["trainee_id"], {**request_body(kosovan), "nationality": "XK"})
        export_trainees(client, to="hesa-xml", output=out, academic_cycle=2025)
    [student] = [s for s in etree.parse(str(out)).iter("Student") if s.findtext("F_HUSID") == kosovan["hesa_id"]]
    assert student.findtext("F_NATION") == "QO"
    back = records(out)[kosovan["hesa_id"]]
    assert back.data["nationality"] == "XK"
    assert [(i.code, i.value) for i in back.issues] == [("legacy_code_translated", "QO")]
    rerun = sync_files([str(out)], sync_options(emulator, tmp_path, TOKEN))
    assert rerun.actions == {"unchanged": 12} and rerun.exit_code == 0


@pytest.mark.parametrize(("to", "ending"), [("json", "json"), ("jsonl", "jsonl"), ("register-csv", "csv")])
def test_the_library_refuses_an_api_version_register_batch_does_not_speak_whatever_the_format(tmp_path, to, ending):
    """As the command line does (review138 F3): for json and jsonl, `export_trainees` with a v2026.0 client sent
    `GET /api/v2026.0/trainees`, which a Register serving that version beside v2026.1 (its sandbox did, §1.1) answers
    with v2025.0-era fields; only register-csv and hesa-xml were refused, by their code lists."""
    from register_batch.errors import ConfigError

    out = tmp_path / f"held.{ending}"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF) as emulator:
        with (
            pytest.raises(ConfigError, match=r"^API version 'v2026\.0' is not supported; supported: v2026\.1$"),
            RegisterClient(emulator.url, TOKEN, api_version="v2026.0") as client,
        ):
            export_trainees(client, to=to, output=out)
        assert emulator.snapshot()["requests"]["total"] == 0
    assert not out.exists()
