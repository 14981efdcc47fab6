"""`register-batch generate`: determinism, realism of the records, the defect catalogue's coverage, the CLI."""

from __future__ import annotations

import csv
import io
import itertools
import json
import os
import random
import re
import shlex
import stat
import tracemalloc
import unicodedata
from collections import Counter
from datetime import date
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from lxml import etree

from register_batch import __version__
from register_batch.cli import cli
from register_batch.errors import ConfigError, UnwritableOutput
from register_batch.generate import KINDS, NOT_GENERATED, generate
from register_batch.generate.build import (
    DISABILITIES,
    MOST_RECORDS,
    Builder,
    Permutation,
    PersonAllocator,
    layout_for,
)
from register_batch.generate.layouts import (
    LEGACY_FIELDS,
    TAG_ORDER,
    HesaCsvWriter,
    HesaXmlWriter,
    LegacyEncoder,
    RegisterCsvFileWriter,
)
from register_batch.model import TRAINEE_FIELDS
from register_batch.progress import Progress
from register_batch.reference import load_reference
from register_batch.validation import CATALOGUE, Checker

AS_OF = date(2026, 11, 28)
FORMATS = (("hesa-xml", "mixed", "xml"), ("hesa-csv", "C22053", "csv"), ("register-csv", None, "csv"))


def students(path):
    return etree.parse(str(path)).getroot().findall("Student")


def qualifications_of(records):
    return [q for record in records for q in record.findall("PREVIOUSQUALIFICATIONS/PREVIOUSQUALIFICATION")]


@pytest.mark.parametrize("fmt,vintage,ext", FORMATS)
def test_same_seed_gives_the_same_bytes_and_another_seed_other_data(tmp_path, fmt, vintage, ext):
    def make(name, seed):
        folder = tmp_path / name
        out, truth = folder / f"extract.{ext}", folder / "truth.json"
        generate(out, count=150, fmt=fmt, vintage=vintage, seed=seed, as_of=AS_OF, defects=0.3, truth=truth)
        return out.read_bytes(), truth.read_bytes()

    first, again, other = make("a", 42), make("b", 42), make("c", 43)
    assert first == again
    assert first[0] != other[0] and first[1] != other[1]


def test_without_a_seed_the_one_drawn_is_told_and_makes_the_same_file_again(tmp_path):
    out, truth = tmp_path / "drawn.xml", tmp_path / "drawn.json"
    drawn = generate(out, count=5, as_of=AS_OF, truth=truth)
    document = json.loads(truth.read_text(encoding="utf-8"))
    assert isinstance(drawn.seed, int) and document["seed"] == drawn.seed
    assert (document["kinds"], document["issues"], document["summary"]["issues"]) == ([], [], 0)  # no defects asked
    again = generate(tmp_path / "again.xml", count=5, seed=drawn.seed, as_of=AS_OF)  # no truth file, no defects
    assert (tmp_path / "again.xml").read_bytes() == out.read_bytes()
    assert (again.seed, again.truth, again.defective, again.issues, again.by_kind) == (drawn.seed, None, 0, 0, {})
    assert generate(tmp_path / "other.xml", count=1, as_of=AS_OF).seed != drawn.seed  # 1 in 2**32 to be the same


def test_progress_counts_every_record_written_to_the_last(tmp_path, monkeypatch):
    clock = itertools.count(0, 3)  # a plain line at most every 5 "seconds": one on the way, then the last
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: float(next(clock)))
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        generate(tmp_path / "x.xml", count=2500, seed=1, as_of=AS_OF, progress=progress)
    said = [line.split(" ", 1)[1].split(" (")[0] for line in stream.getvalue().splitlines()]  # after the clock time
    assert len(said) >= 2 and said[-1] == "Generating: 2500/2500 records"
    assert all(re.fullmatch(r"Generating: \d{1,4}/2500 records", line) for line in said[:-1])


def test_permutation_is_a_bijection():
    for n in (1, 2, 7, 1000, 4097):
        permutation = Permutation(n, key=99)
        assert sorted(permutation(i) for i in range(n)) == list(range(n))


def test_records_look_like_a_real_extract(tmp_path):
    out = tmp_path / "x.xml"
    generate(out, count=2000, vintage="C24053", seed=3, as_of=AS_OF)
    records = students(out)
    assert len(records) == 2000

    def values(tag):
        return [s.findtext(tag) for s in records]

    husids = values("F_HUSID")
    assert len(set(husids)) == 2000 and all(h.isdigit() and len(h) in (13, 17) for h in husids)
    assert any(h.startswith("0") for h in husids) and any(len(h) == 17 for h in husids)
    assert len(set(values("F_OWNSTU"))) == 2000
    assert all(re.fullmatch(r"\d{8}/\d/26", v) for v in values("F_OWNSTU"))
    surnames = values("F_SURNAME")
    forenames = values("F_FNAMES")
    assert any("-" in s for s in surnames) and any("'" in s for s in surnames)
    assert any(re.search(r"[^\x00-\x7f]", n) for n in surnames + forenames)
    for first, last, email in zip(forenames, surnames, values("F_NQTEMAIL"), strict=True):
        local = email.split("@")[0]
        if last.isascii():  # addresses carry the surname (without spaces, hyphens and apostrophes)
            assert re.sub(r"[^a-z]", "", last.lower()) in local, (first, last, email)
        else:
            assert unicodedata.normalize("NFKD", last)[0].lower() in local
    ages = [2026 - int(v[:4]) for v in values("F_BIRTHDTE")]
    assert min(ages) >= 20 and max(ages) <= 56
    routes = Counter(values("F_ENTRYRTE"))
    assert {"03", "10", "11", "12", "14", "16", "17", "18", "19", "20", "21"} <= set(routes)
    assert "15" not in routes  # iQTS needs iqts_country, which no HESA tag holds
    for record in records:
        route = record.findtext("F_ENTRYRTE")
        degrees = record.findall("PREVIOUSQUALIFICATIONS/PREVIOUSQUALIFICATION")
        if route in ("17", "18", "19", "20"):
            assert (record.findtext("F_SBJCA1"), record.findtext("F_ITTPHSC")) == ("100510", "13920")
        if route in ("03", "10", "12", "16", "17", "19", "20", "21"):
            assert degrees and degrees[0].findtext("F_DEGSBJ1") != "NULL"
        if record.findtext("F_ITTPHSC") in ("13909", "13911", "13912", "13913", "13914", "13915"):
            assert record.findtext("F_SBJCA1") == "100511"
        start = record.findtext("F_ITTSTARTDATE")
        assert start[:4] == "2026" and start[5:7] in ("08", "09", "10")
        for placement in record.findall("PLACEMENTS/PLACEMENT"):
            assert re.fullmatch(r"\d{6}", placement.findtext("F_PLMNTSCH"))
            assert 40 <= int(placement.findtext("F_PLMNTDYS")) <= 100
    qualifications = qualifications_of(records)
    countries = {q.findtext("F_DEGCTRY") for q in qualifications}
    assert {"XF", "NULL", "IN"} <= countries  # a UK degree's country is a UK nation or none, as in real extracts
    # The HESA-only tags of a qualification, as a real extract has them (no reader needs them).
    assert {q.findtext("F_DEGLENGTH") for q in qualifications} == {"1", "3", "4"}
    assert {q.findtext("F_FIRSTDEG") for q in qualifications} == {"01", "02"}
    assert {q.findtext("F_BURSFLAG") for q in qualifications} == {"01", "NULL"}
    assert any(re.fullmatch(r"\d{4}-09-\d\d", q.findtext("F_DEGSTDT")) for q in qualifications)
    assert Counter(values("F_BURSLEV"))["6"] < 2000  # some real bursaries, scholarships and grants
    assert not any((r.text or "").strip() or any((child.tail or "").strip() for child in r) for r in records)
    tags = [child.tag for child in records[0]]
    assert tags == list(TAG_ORDER["C24053"][: len(tags)]) or tags.index("PLACEMENTS") < tags.index("F_SBJCA1")
    assert tags != sorted(tags) and tags[-1] == "F_COMMIT_TIMESTAMP"
    assert "<F_NIN>NULL</F_NIN>" in out.read_text(encoding="utf-8")


def test_each_vintage_has_its_own_tags_and_codes(tmp_path):
    out = tmp_path / "mixed.xml"
    generate(out, count=40, vintage="mixed", seed=8, as_of=AS_OF)
    by_vintage = {}
    for record in students(out):
        by_vintage.setdefault(record.findtext("F_RECID"), []).append(record)
    assert set(by_vintage) == {"21053", "22053", "23053", "24053"}
    old = by_vintage["21053"]
    assert all(r.find("F_DISABLE") is not None and r.find("F_DISABLE1") is None for r in old)
    assert all(r.find(t) is not None for r in old for t in ("F_TREFNO", "F_SPLENGTH", "F_UNITLGTH", "F_ENDDATE"))
    assert all(r.findtext("F_SEXID") in ("1", "2", "3") for r in old)
    assert all(r.findtext("F_ITTPHSC") is None or len(r.findtext("F_ITTPHSC")) == 2 for r in old)
    assert any(r.findtext("F_DISABLE") == "00" for r in old)
    assert any(r.findtext("F_ENTRYRTE") == "01" for r in old)
    c22 = by_vintage["22053"]
    assert all(r.find("F_ITTCOMDATE") is not None and r.find("F_ITTSTARTDATE") is None for r in c22)
    assert all(r.findtext("F_TRN") == "NULL" and r.findtext("F_RSNEND") == "NULL" for r in c22)
    assert all(r.findtext("F_ENDDATE") == "NULL" and r.find("F_DISABLE9") is not None for r in c22)
    for current in ("23053", "24053"):
        records = by_vintage[current]
        assert all(r.find("F_APPLYAPPLICATIONID") is not None and r.find("F_COMDATE") is None for r in records)


def test_old_layouts_give_the_start_date_as_f_ittcomdate_or_as_f_comdate_alone(tmp_path):
    # As Register's own C21053/C22053 fixtures do (F_ITTCOMDATE NULL, F_COMDATE the date), and as later ones do.
    out = tmp_path / "old.xml"
    generate(out, count=80, vintage="mixed", seed=8, as_of=AS_OF)
    old = [s for s in students(out) if s.findtext("F_RECID") in ("21053", "22053")]
    comdate_only = [s for s in old if s.findtext("F_ITTCOMDATE") == "NULL"]
    assert comdate_only and len(comdate_only) < len(old)
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\d", s.findtext("F_COMDATE")) for s in comdate_only)


def test_hesa_csv_columns_are_the_tags_with_numbered_groups(tmp_path):
    out = tmp_path / "x.csv"
    generate(out, count=5, fmt="hesa-csv", vintage="C23053", seed=1, as_of=AS_OF)
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header[0] == "F_ITTKEY" and "F_PLMNTSCH_3" in header and "F_DEGTYPE_2" in header
    assert "PLACEMENTS" not in header and "F_DEGTYPE" not in header
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))[1:]
    assert len(rows) == 5 and all(len(row) == len(header) and "" not in row for row in rows)  # NULL, never blank
    assert all("NULL" in {row[header.index(tag)] for row in rows} for tag in ("F_TITLE", "F_PLMNTSCH_3", "F_DEGTYPE_2"))


def test_register_csv_is_the_template(tmp_path):
    from register_batch.writers import register_template

    out = tmp_path / "r.csv"
    generate(out, count=30, fmt="register-csv", seed=2, as_of=AS_OF)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert tuple(lines[0].split(",")) == register_template() and len(lines) == 31
    assert all(len(line.split(",")) >= 51 for line in lines[1:])


def test_memory_stays_flat_as_the_count_grows(tmp_path):
    def peak(count: int) -> int:
        tracemalloc.start()
        generate(
            tmp_path / "m.xml",
            count=count,
            vintage="mixed",
            seed=4,
            as_of=AS_OF,
            defects=0.5,
            truth=tmp_path / "m.json",
        )
        _current, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    small, large = peak(300), peak(3000)
    assert large - small < 1_000_000, (small, large)


def test_every_rule_an_input_can_trigger_has_a_defect_kind():
    claimed = {code for kind in KINDS.values() for code in kind.codes}
    rule_codes = {code for code, rule in CATALOGUE.items() if rule.scope in ("trainee", "degree", "placement")}
    assert rule_codes - set(NOT_GENERATED) <= claimed
    assert set(NOT_GENERATED) <= set(CATALOGUE) and not set(NOT_GENERATED) & claimed
    assert {"untranslatable_code", "legacy_code_translated", "malformed_record"} <= claimed
    assert {"duplicate_hesa_id", "duplicate_provider_trainee_id", "possible_duplicate_trainee"} <= claimed
    assert claimed <= set(CATALOGUE)


def test_truth_file_describes_the_run(tmp_path):
    out, truth = tmp_path / "x.xml", tmp_path / "t.json"
    result = generate(out, count=120, vintage="C23053", seed=6, as_of=AS_OF, defects=0.25, truth=truth)
    document = json.loads(truth.read_text(encoding="utf-8"))
    assert {k: v for k, v in document.items() if k not in ("kinds", "issues", "summary")} == {
        "generator": {"name": "register-batch generate", "version": __version__},
        "output": "x.xml",
        "seed": 6,
        "count": 120,
        "format": "hesa-xml",
        "vintage": "C23053",
        "as_of": "2026-11-28",
        "academic_cycle": 2026,
        "defect_rate": 0.25,
    }
    assert set(result.by_kind) <= set(document["kinds"]) <= set(KINDS)
    records = [i["record"] for i in document["issues"]]
    assert records == sorted(records) and all(1 <= r <= 120 for r in records)
    assert {i["severity"] for i in document["issues"]} <= {"error", "warning"}
    assert all(i["kind"] in KINDS for i in document["issues"])
    assert len({i["record"] for i in document["issues"] if i["kind"] != "duplicate_hesa_id"}) <= result.defective
    assert document["summary"]["issues"] == len(document["issues"]) == result.issues


@pytest.mark.parametrize(
    "options,message",
    [
        ({"fmt": "hesa-csv", "vintage": "mixed"}, "one layout per file"),
        ({"fmt": "register-csv", "vintage": "C24053"}, "Register's CSV has one layout"),
        ({"fmt": "register-csv", "ukprn": "10000001"}, "Register's CSV has no UKPRN column"),  # was left out unsaid
        ({"defects": 0.2}, "defects needs a truth file"),
        (
            {"academic_cycle": 2028},
            "academic cycle 2028 starts more than a year after the as-of date 2026-11-28: Register refuses ITT start "
            "dates more than one year in the future",
        ),
        (
            {"academic_cycle": 2015},
            "academic cycle 2015 started 10 years or more before the as-of date 2026-11-28: Register refuses trainee "
            "start dates that old",
        ),
        ({"as_of": date(2000, 1, 1)}, "academic cycle 1999 (the cycle of the as-of date 2000-01-01) is outside"),
        ({"academic_cycle": 2016, "as_of": date(2026, 8, 1)}, "10 years or more before"),  # to the day (§3.4)
        ({"count": 0}, "count must be between 1 and 4,500,000"),
        ({"count": 4_500_001}, "count must be between 1 and 4,500,000"),  # more than are different people (F5)
        ({"fmt": "xml"}, "fmt must be one of hesa-xml, hesa-csv, register-csv"),
        ({"vintage": "C25053"}, "vintage must be one of C24053, C23053, C22053, C21053, mixed"),
        (  # given, not the as-of date's: the message said it was the as-of date's
            {"academic_cycle": 2101, "as_of": date(2101, 1, 1)},
            "academic_cycle 2101 is outside 2000-2100, the cycles generate makes",
        ),
        ({"academic_cycle": 1800}, "academic_cycle 1800 is outside 2000-2100, the cycles generate makes"),
        ({"defects": 1.5}, "defects is a share of records between 0 and 1"),  # not a percentage
        ({"defects": -0.1}, "defects is a share of records between 0 and 1"),
        (  # Register's CSV holds one degree: no record of it can carry this defect
            {"fmt": "register-csv", "defects": 0.5, "truth": "t.json", "kinds": ["duplicate_degrees"]},
            "none of the requested defect kinds fits this format",
        ),
        # A library caller's slips (vendor walk): one kind as a string was "unknown defect kind(s): m, i, s, s, ...",
        # kinds without defects made a clean file unsaid (the command line refuses it), and a count that is not a
        # whole number was a TypeError or, for True, one record.
        (
            {"defects": 0.5, "truth": "t.json", "kinds": "missing_sex"},
            'kinds must be a list of defect kinds, e.g. ["missing_sex"], not a single string',
        ),
        ({"kinds": ["missing_sex"]}, "kinds chooses which defects defects injects: give defects too"),
        ({"count": 2.5}, "count must be a whole number, not 2.5"),
        ({"count": True}, "count must be a whole number, not True"),
        ({"withdrawn": 1.5}, "withdrawn is a share of records between 0 and 1, not 1.5"),
        ({"deferred": True}, "deferred is a share of records between 0 and 1, not True"),
        ({"withdrawn": 0.6, "deferred": 0.5}, "withdrawn and deferred together are more than every record"),
        ({"fmt": "register-csv", "deferred": 0.1}, "Register's CSV template has no withdrawal or deferral columns"),
        # Values of the wrong type, as settings read from JSON give them: each was a TypeError or AttributeError from
        # deep inside generate, and a seed of 1.5 or "x" made a file the truth file's seed could not make again.
        ({"defects": "0.1", "truth": "t.json"}, "defects is a share of records between 0 and 1, not '0.1'"),
        ({"seed": "x"}, "seed must be a whole number, not 'x'"),
        ({"seed": 1.5}, "seed must be a whole number, not 1.5"),
        ({"academic_cycle": "2025"}, "academic_cycle must be a whole number, not '2025'"),
        ({"reference": "v2026.1"}, "reference must be a ReferenceData"),
        ({"progress": None}, "progress must be a register_batch.progress.Progress"),
        ({"kinds": [5], "defects": 0.5, "truth": "t.json"}, "kinds must be a list of defect kinds' names (strings)"),
        (  # review109 F6: "none of the requested defect kinds fits this format, layout and academic cycle"
            {"kinds": [], "defects": 0.5, "truth": "t.json"},
            "kinds is empty: name at least one defect kind, or leave it out for the default mix",
        ),
        ({"kinds": ()}, "kinds is empty: name at least one defect kind"),
    ],
)
def test_options_that_cannot_work_are_refused(tmp_path, options, message):
    arguments = {"count": 5, "seed": 1, "as_of": AS_OF, **options}
    if "truth" in options:
        arguments["truth"] = tmp_path / options["truth"]
    with pytest.raises(ConfigError, match=re.escape(message)) as caught:
        generate(tmp_path / "x", **arguments)
    assert "--" not in str(caught.value)  # a library caller's arguments, not the command line's options


@pytest.mark.parametrize("cycle", [2000, 2100])
def test_the_first_and_last_cycles_generate_makes_are_made(tmp_path, cycle):
    result = generate(tmp_path / "x.xml", count=3, seed=1, academic_cycle=cycle, as_of=date(cycle, 11, 1))
    assert result.academic_cycle == cycle and len(students(tmp_path / "x.xml")) == 3


def test_a_cycle_that_started_a_day_less_than_10_years_before_the_as_of_date_is_made(tmp_path):
    result = generate(tmp_path / "x.xml", count=3, seed=1, academic_cycle=2016, as_of=date(2026, 7, 31))
    assert result.academic_cycle == 2016 and len(students(tmp_path / "x.xml")) == 3


def test_the_largest_count_is_taken(tmp_path):
    # Taken, not refused: generate goes on to its output, here a folder, before it would make a record.
    with pytest.raises(UnwritableOutput, match="a folder has that name"):
        generate(tmp_path, count=MOST_RECORDS, seed=1, as_of=AS_OF)
    assert run("generate", "--count", str(MOST_RECORDS + 1), "-o", str(tmp_path / "x.xml")).exit_code == 2
    assert not (tmp_path / "x.xml").exists()


def test_the_person_allocator_never_repeats_a_pair_and_says_when_it_has_none_left():
    """review109 F5: a band's draws past its size started its permutation again, so from about 1.54 million records
    (the 21-25 band's 646,404 pairs at 42% of draws) trainees repeated an earlier one's surname and date of birth,
    some also its route and first name: Register's 409. Tried at a small capacity: two bands of one year of birth and
    three surnames, one of them drawn nine times in ten."""
    allocator = PersonAllocator(seed=1, cycle=2026, age_bands=((21, 21, 0.9), (23, 23, 0.1)), surnames=3)
    assert allocator.capacity == (365 + 365) * 3
    rng = random.Random(5)
    pairs = [allocator.next(rng) for _ in range(allocator.capacity)]
    assert len(set(pairs)) == allocator.capacity
    youngest = {born for _surname, born in pairs if born.year in (2004, 2005)}
    assert len(youngest) == 365 and {surname for surname, _born in pairs} == {0, 1, 2}
    with pytest.raises(ValueError, match="all 2,190 pairs of surname and date of birth are used"):
        allocator.next(rng)


def test_every_cycle_has_a_person_for_each_of_the_most_records():
    for cycle in range(2000, 2101):
        assert PersonAllocator(seed=1, cycle=cycle).capacity >= MOST_RECORDS, cycle
    command = cli.get_command(click.Context(cli), "generate")
    [count] = [p for p in command.params if p.name == "count"]
    assert (count.type.min, count.type.max) == (1, MOST_RECORDS)  # the command line's, written out for --help


def test_a_postgraduate_without_a_degree_comes_as_no_qualification_or_as_one_all_null(tmp_path):
    # Both as real extracts show it; the readers drop an all-NULL qualification, which a trainee's degree never is.
    out = tmp_path / "x.xml"
    generate(
        out,
        count=40,
        seed=2,
        as_of=AS_OF,
        defects=0.5,
        truth=tmp_path / "t.json",
        kinds=["postgraduate_without_degree"],
    )
    qualifications = [s.findall("PREVIOUSQUALIFICATIONS/PREVIOUSQUALIFICATION") for s in students(out)]
    all_null = [q for q in qualifications if any(all(tag.text == "NULL" for tag in one) for one in q)]
    assert all_null and all(len(q) == 1 for q in all_null)
    assert any(not q for q in qualifications)


def test_with_only_a_defect_that_repeats_the_record_before_a_record_it_cannot_follow_is_written_clean(tmp_path):
    # The first record has none before it, and a repeat is not repeated again: every other record is one.
    out, truth = tmp_path / "x.xml", tmp_path / "t.json"
    result = generate(out, count=6, seed=3, as_of=AS_OF, defects=1.0, truth=truth, kinds=["duplicate_hesa_id"])
    husids = [s.findtext("F_HUSID") for s in students(out)]
    assert husids[0::2] == husids[1::2] and len(set(husids)) == 3
    assert result.by_kind == {"duplicate_hesa_id": 3}
    document = json.loads(truth.read_text(encoding="utf-8"))
    assert [i["record"] for i in document["issues"]] == [1, 2, 3, 4, 5, 6]


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_help_documents_every_option():
    result = run("generate", "--help")
    assert result.exit_code == 0
    for option in (
        "--count",
        "--format",
        "--output",
        "--defects",
        "--truth",
        "--seed",
        "--academic-cycle",
        "--vintage",
        "--as-of",
        "--kinds",
        "--list-defects",
    ):
        assert option in result.output


def test_cli_generates_private_files_that_validate(tmp_path):
    out, truth = tmp_path / "extract.xml", tmp_path / "truth.json"
    result = run(
        "generate",
        "--count",
        "60",
        "--format",
        "hesa-xml",
        "-o",
        str(out),
        "--defects",
        "0.2",
        "--truth",
        str(truth),
        "--seed",
        "9",
        "--as-of",
        "2026-11-28",
        "--vintage",
        "C22053",
    )
    assert result.exit_code == 0, result.output
    assert "Wrote 60 records" in result.output and "seed 9" in result.output
    for path in (out, truth):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    report_dir = tmp_path / "r"
    checked = run("validate", str(out), "--as-of", "2026-11-28", "--report-dir", str(report_dir))
    assert checked.exit_code == 1  # the defects are found
    reported = {
        (i["record"], i["field"], i["code"]) for i in json.loads((report_dir / "report.json").read_text())["issues"]
    }
    expected = {(i["record"], i["field"], i["code"]) for i in json.loads(truth.read_text())["issues"]}
    assert expected <= reported


def test_cli_clean_register_csv_validates_with_exit_0(tmp_path):
    out = tmp_path / "upload.csv"
    assert (
        run("generate", "--count", "40", "--format", "register-csv", "-o", str(out), "--as-of", "2026-11-28").exit_code
        == 0
    )
    assert run("validate", str(out), "--as-of", "2026-11-28", "--report-dir", str(tmp_path / "r")).exit_code == 0


def test_cli_refuses_bad_options_with_exit_2(tmp_path):
    out = str(tmp_path / "x.xml")
    without_truth = run("generate", "--count", "5", "-o", out, "--defects", "0.5")
    assert without_truth.exit_code == 2 and without_truth.output == (
        "register-batch: error: --defects needs --truth FILE: the truth file says which issues each defect causes\n"
    )
    mixed = run("generate", "--count", "5", "-o", str(tmp_path / "x.csv"), "--format", "hesa-csv", "--vintage", "mixed")
    assert mixed.exit_code == 2 and "error: --vintage mixed needs hesa-xml" in mixed.output
    unknown_kind = run("generate", "--count", "5", "-o", out, "--kinds", "no_such_kind")
    assert unknown_kind.exit_code == 2 and "no_such_kind" in unknown_kind.output
    over_one = run("generate", "--count", "5", "-o", out, "--defects", "1.5")
    assert over_one.exit_code == 2 and "--defects" in over_one.output and "1.5" in over_one.output
    without_rate = run("generate", "--count", "5", "-o", out, "--kinds", "invalid_email")  # would inject nothing
    assert without_rate.exit_code == 2 and "give --defects RATE too" in without_rate.output


def test_cli_refuses_a_truth_file_that_is_the_output(tmp_path, monkeypatch):
    """`-o t.xml --truth t.xml` (or `./t.xml`) wrote both to one file and said so: the extract replaced the truth
    file, and the run ended 0 with one of the two files lost."""
    monkeypatch.chdir(tmp_path)  # a name whose ending says nothing: t.xml is refused as --truth for its ending
    (tmp_path / "t.txt").write_text("kept\n")
    for truth in ("t.txt", "./t.txt", str(tmp_path / "t.txt")):
        result = run("generate", "--count", "5", "-o", "t.txt", "--defects", "0.5", "--truth", truth, "--seed", "1")
        assert result.exit_code == 2, result.output
        assert result.output == (
            f"register-batch: error: --truth {Path(truth)} is the output file (-o t.txt): give the truth file a "
            "name of its own\n"
        )
    assert (tmp_path / "t.txt").read_text() == "kept\n"


@pytest.mark.parametrize("written", ["-o", "--truth"])
def test_cli_refuses_to_write_into_a_state_dir_and_leaves_its_ledger(tmp_path, written):
    """As export's and convert's -o: `generate -o ledger.sqlite3` (or --truth) in a folder holding a sync ledger
    replaced it, and the next sync refused the state dir."""
    ledger = tmp_path / ".register-batch" / "sandbox" / "ledger.sqlite3"
    ledger.parent.mkdir(parents=True)
    ledger.write_bytes(b"SQLite format 3\x00")
    files = {"-o": tmp_path / "x.xml", "--truth": tmp_path / "t.json"} | {written: ledger}
    result = run(
        "generate", "--count", "5", "--defects", "0.5", "--seed", "1", *[str(v) for o in files.items() for v in o]
    )
    assert (result.exit_code, result.output) == (
        2,
        f"register-batch: error: cannot write {ledger}: that is in the state dir {ledger.parent} (the sync ledger, "
        "its lock and the embedded emulator's data), which it could replace: name a file outside it\n",
    )
    assert ledger.read_bytes() == b"SQLite format 3\x00"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".register-batch"]  # nothing written, the other file neither


def test_cli_counts_one_record_in_the_singular(tmp_path):
    out, truth = tmp_path / "x.xml", tmp_path / "t.json"
    result = run("generate", "--count", "1", "-o", str(out), "--defects", "1", "--truth", str(truth), "--seed", "1")
    assert result.exit_code == 0, result.output
    assert "Wrote 1 record (hesa-xml" in result.output
    assert "1 record with a defect; 1 expected issue listed in" in result.output


def test_cli_says_what_it_wrote_with_the_options_it_was_given(tmp_path):
    """The cycle, layout, day, seed and format given reach the generator, and its lines say them back."""
    out, truth = tmp_path / "x.csv", tmp_path / "t.json"
    args = ["generate", "--count", "3", "--seed", "5", "--academic-cycle", "2023", "--as-of", "2025-01-15"]
    args += ["--format", "hesa-csv", "--vintage", "C23053", "-o", str(out), "--defects", "0.5", "--truth", str(truth)]
    result = run(*args)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        f"Wrote 3 records (hesa-csv, layout C23053, academic cycle 2023 to 2024, valid as of 2025-01-15, seed 5) to "
        f"{out}",
        f"2 records with a defect; {len(json.loads(truth.read_text())['issues'])} expected issues listed in {truth}",
    ]
    assert out.read_text(encoding="utf-8").splitlines()[0].startswith("F_")  # HESA-named columns
    first = out.read_bytes()
    quiet = run("-q", *args)
    assert quiet.stdout == result.stdout.splitlines()[0] + "\n"  # -q: only the line saying what was written
    assert out.read_bytes() == first  # the same seed and options give the same bytes
    upload = tmp_path / "upload.csv"
    plain = run(
        "generate",
        "--count",
        "2",
        "--seed",
        "5",
        "--as-of",
        "2026-11-28",
        "--format",
        "register-csv",
        "-o",
        str(upload),
    )
    assert plain.stdout == (  # Register's CSV has no HESA layout; no truth file, no line about one
        f"Wrote 2 records (register-csv, academic cycle 2026 to 2027, valid as of 2026-11-28, seed 5) to {upload}\n"
    )


def test_cli_kinds_restricts_the_defects(tmp_path):
    out, truth = tmp_path / "x.xml", tmp_path / "t.json"
    result = run(
        "generate", "--count", "30", "-o", str(out), "--defects", "1", "--truth", str(truth), "--seed", "1",
        "--as-of", "2026-11-28", "--kinds", "invalid_email,missing_sex",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert {i["kind"] for i in json.loads(truth.read_text())["issues"]} == {"invalid_email", "missing_sex"}


def test_cli_lists_the_defect_kinds():
    result = run("generate", "--list-defects")
    assert result.exit_code == 0
    assert all(name in result.output for name in KINDS)
    assert all(code in result.output for code in NOT_GENERATED)
    lines = result.output.splitlines()
    assert lines[len(KINDS) : len(KINDS) + 2] == ["", "Rule codes no generated file can trigger:"]
    shown = {line.split()[0]: line for line in lines[: len(KINDS)]}
    assert list(shown) == list(KINDS)  # one line per kind: its name, the codes it causes, what it does
    assert shown["duplicate_degrees"].endswith("(R7b)  [hesa-csv, hesa-xml only]")  # formats it cannot be made in
    assert shown["missing_first_names"].split()[1] == "required"
    assert shown["missing_first_names"].endswith(" first_names left blank (NULL / empty cell)")  # made in every format
    assert lines[-1].startswith("  placement_postcode_invalid: no HESA tag")


@pytest.mark.parametrize(
    ("kinds", "said"), [("invalid_email, nope,also", "nope, also"), (" , ", "(none given)")], ids=["unknown", "none"]
)
def test_cli_names_the_defect_kinds_it_does_not_know(tmp_path, kinds, said):
    out, truth = str(tmp_path / "x.xml"), str(tmp_path / "t.json")
    result = run("generate", "--count", "2", "-o", out, "--defects", "0.5", "--truth", truth, "--kinds", kinds)
    assert result.exit_code == 2
    assert f"Invalid value for '--kinds': unknown defect kind(s) {said}; see --list-defects" in result.output


def test_surnames_are_distinct_ignoring_case():
    """The person allocator's (surname, date of birth) pairs are unique only if no surname repeats."""
    from register_batch.generate.names import SURNAMES

    assert "" not in SURNAMES
    assert len({name.lower() for name in SURNAMES}) == len(SURNAMES)


def test_generated_addresses_are_at_reserved_example_domains_only(tmp_path):
    """review109 F4: mail.example.co.uk and student.example.ac.uk are names under Nominet's and Jisc's registries that
    someone can hold and receive mail at; made-up trainees synced to a sandbox or used in CI must reach no mailbox.
    Only example.com/.net/.org and the .example top-level domain are reserved (RFC 2606, RFC 6761), in lower case,
    and each address passes Register's email rule (register-api.md §3.1)."""
    from register_batch.validation.rules import email_is_valid

    out = tmp_path / "x.csv"
    generate(out, count=2000, fmt="register-csv", seed=3, as_of=AS_OF)
    with out.open(encoding="utf-8", newline="") as fh:
        emails = [row["email"] for row in csv.DictReader(fh)]
    domains = Counter(email.rpartition("@")[2] for email in emails)
    assert len(domains) == 5 and min(domains.values()) > 300  # each in use
    reserved = re.compile(r"(?:[a-z0-9-]+\.)*(?:example\.(?:com|net|org)|[a-z0-9-]+\.example)")
    assert all(reserved.fullmatch(domain) for domain in domains), domains
    assert all(email_is_valid(email) for email in emails)


REPOSITORY = Path(__file__).resolve().parents[1]


def _sample_commands() -> list[list[str]]:
    """The `register-batch generate` commands samples/README.md says made the samples (continuation lines joined)."""
    text = (REPOSITORY / "samples" / "README.md").read_text(encoding="utf-8")
    block = text.split("## How they were made", 1)[1].split("```sh\n", 1)[1].split("```", 1)[0]
    return [shlex.split(line) for line in block.replace("\\\n", " ").splitlines() if line.strip()]


@pytest.mark.parametrize("command", _sample_commands(), ids=lambda c: c[c.index("-o") + 1])
def test_the_samples_are_what_their_readme_commands_make(tmp_path, command):
    """samples/README.md promises the same bytes from the same commands: a changed generator must come with
    regenerated samples (and the docs that quote them), or the samples stop showing what the tool does now."""
    from cli_runs import run_cli

    assert command[:2] == ["register-batch", "generate"], command
    (tmp_path / "samples").mkdir()  # the commands run from a root of their own, with the README's relative paths
    done = run_cli(command[1:], cwd=tmp_path, env=dict(os.environ))
    assert done.returncode == 0, done.stderr
    made = [command[i + 1] for i, arg in enumerate(command) if arg in ("-o", "--truth")]
    assert made
    for name in made:
        assert (tmp_path / name).read_bytes() == (REPOSITORY / name).read_bytes(), f"{name} differs from its command's"


def test_an_as_of_outside_the_cycles_generate_makes_names_the_options_to_change(tmp_path):
    """The library names its settings (as_of, academic_cycle); the command line says them as the options to give."""
    result = CliRunner().invoke(
        cli, ["generate", "--count", "1", "--as-of", "1999-01-01", "-o", str(tmp_path / "x.xml")]
    )
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "register-batch: error: academic cycle 1998 (the cycle of the as-of date 1999-01-01) is outside 2000-2100, "
        "the cycles generate makes: give a later --as-of or an --academic-cycle"
    )
    assert not (tmp_path / "x.xml").exists()


def test_a_vintage_for_registers_csv_is_refused_naming_the_option(tmp_path):
    out = tmp_path / "x.csv"
    args = ["generate", "--count", "1", "--format", "register-csv", "--vintage", "C24053", "-o", str(out)]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    assert result.output.strip().splitlines()[-1] == (
        "register-batch: error: --vintage applies to hesa-xml and hesa-csv; Register's CSV has one layout"
    )
    assert not out.exists()


@pytest.mark.parametrize("markup", ["&", "<", ">", "&<>"])  # each alone too: any one of them must be escaped
def test_markup_in_a_value_is_escaped_in_hesa_xml_and_reads_back_as_it_was(markup):
    # No name generate draws has &, < or >; a file with one must still be XML its readers take, values and all.
    builder = Builder(seed=5, cycle=2026, as_of=AS_OF, reference=load_reference(), rng=random.Random(5))
    draft = builder.build(0, layout_for("hesa-xml", "C24053"))
    assert draft.degrees and draft.placements
    draft.data["first_names"] = f"Ann {markup} Jo"
    draft.data["last_name"] = "Smith"
    draft.degrees[0]["subject"] = f"100425 {markup} 1"
    draft.placements[0]["urn"] = f"{markup}100000"
    draft.extra_tags.append(("F_SURNAME", f"Jones {markup} Co"))  # a tag given twice, as malformed_record does
    buffer = io.StringIO()
    writer = HesaXmlWriter(buffer, LegacyEncoder())
    writer.write(draft)
    writer.close()
    (student,) = etree.fromstring(buffer.getvalue().encode("utf-8")).findall("Student")
    assert student.findtext("F_FNAMES") == f"Ann {markup} Jo"
    assert [s.text for s in student.findall("F_SURNAME")] == ["Smith", f"Jones {markup} Co"]
    assert student.findtext("PREVIOUSQUALIFICATIONS/PREVIOUSQUALIFICATION/F_DEGSBJ1") == f"100425 {markup} 1"
    assert student.findtext("PLACEMENTS/PLACEMENT/F_PLMNTSCH") == f"{markup}100000"
    assert [child.tag for child in student][-2:] == ["F_SURNAME", "F_COMMIT_TIMESTAMP"]  # the repeat just before
    assert not (student.text or "").strip() and not any((child.tail or "").strip() for child in student)


def test_a_hesa_csv_takes_records_of_its_own_layout_only():
    # One header row, so one layout: a record of another would sit under columns that are not its tags.
    builder = Builder(seed=5, cycle=2026, as_of=AS_OF, reference=load_reference(), rng=random.Random(5))
    writer = HesaCsvWriter(io.StringIO(), layout_for("hesa-csv", "C23053"), LegacyEncoder())
    writer.write(builder.build(0, layout_for("hesa-csv", "C23053")))
    with pytest.raises(ValueError, match="a HESA CSV holds one collection layout"):
        writer.write(builder.build(1, layout_for("hesa-csv", "C21053")))


@pytest.mark.parametrize(
    "fmt,vintage",
    [
        ("hesa-xml", "C24053"),
        ("hesa-xml", "C23053"),
        ("hesa-xml", "C22053"),
        ("hesa-xml", "C21053"),
        ("hesa-csv", "C24053"),
        ("hesa-csv", "C22053"),
        ("hesa-csv", "C21053"),
        ("register-csv", "register-csv"),
    ],
)
def test_each_layout_reads_back_as_the_records_it_was_written_from(tmp_path, fmt, vintage):
    # Every field, degree and placement URN; C21053's old code lists are found by inverting the mapping's
    # translations (conditions and all: route 11/12 by aim), so each one it uses is read back with a warning.
    builder = Builder(seed=9, cycle=2026, as_of=AS_OF, reference=load_reference(), rng=random.Random(9))
    layout = layout_for(fmt, vintage)
    drafts = [builder.build(index, layout) for index in range(150)]
    if not layout.single_disability:  # all nine, which the builder seldom draws
        drafts[0].data.update({f"disability{n}": code for n, code in enumerate(DISABILITIES, 1)})
    out = tmp_path / ("x.xml" if fmt == "hesa-xml" else "x.csv")
    encoder = LegacyEncoder()
    with out.open("w", encoding="utf-8", newline="") as fh:
        if fmt == "hesa-xml":
            writer: HesaXmlWriter | HesaCsvWriter | RegisterCsvFileWriter = HesaXmlWriter(fh, encoder)
        else:
            writer = HesaCsvWriter(fh, layout, encoder) if fmt == "hesa-csv" else RegisterCsvFileWriter(fh)
        for draft in drafts:
            writer.write(draft)
        writer.close()
    with Checker(fmt=fmt, as_of=AS_OF) as checker:
        records = list(checker.records([str(out)]))
    assert len(records) == len(drafts)
    translated: Counter[str] = Counter()
    for draft, record in zip(drafts, records, strict=True):
        number = record.source.record
        assert {f: record.data.get(f) for f in TRAINEE_FIELDS} == {f: draft.data[f] for f in TRAINEE_FIELDS}, number
        degrees = [{k: v for k, v in d.items() if not k.startswith("_") and v is not None} for d in draft.degrees]
        assert record.data.get("degrees_attributes", []) == degrees, number
        urns = [p["urn"] for p in record.data.get("placements_attributes", [])]
        assert urns == [p["urn"] for p in draft.placements if p["urn"] is not None], number
        warned = {issue.field for issue in record.issues if issue.code == "legacy_code_translated"}
        for field in LEGACY_FIELDS:
            expressible = layout.legacy_codes and draft.data[field] in encoder.legacy_values(field)
            assert (field in warned) == expressible, (number, field)
            translated[field] += field in warned
    if layout.legacy_codes:
        assert translated["training_route"] and {"11", "12"} <= {d.data["training_route"] for d in drafts}


@pytest.mark.parametrize(
    "route,aim,written",
    [
        ("11", "008", "01"),  # 01 reads back as 11 with an undergraduate aim ...
        ("12", "020", "01"),  # ... and as 12 with any other
        ("12", "008", "12"),  # 01 would read back as 11: left as it is
        ("11", "020", "11"),  # 01 would read back as 12
    ],
)
def test_a_c21053_route_is_written_as_01_only_where_01_reads_back_as_it(route, aim, written):
    encoder = LegacyEncoder()
    assert encoder.encode({"training_route": route, "itt_qualification_aim": aim}, "training_route", route) == written


def day_of(timestamp: str) -> str:
    """F_COMMIT_TIMESTAMP's day as F_STATUS_TIMESTAMP writes it (dd/mm/yyyy)."""
    return f"{timestamp[8:10]}/{timestamp[5:7]}/{timestamp[:4]}"


def leaving_of(student) -> dict[str, str]:
    return {e.tag: e.text for e in student if e.tag.startswith(("WITHDRAWAL_", "DEFER_"))}


def test_leavers_change_only_the_records_that_leave_and_validate_clean(tmp_path):
    """--withdrawn and --deferred give a share of records WITHDRAWAL_* or DEFER_* tags, on a day between the start
    and the as-of date, with the commit timestamp no earlier; every other record keeps its bytes, and the file
    validates with the warnings it had without them (a vendor tests leavers in a nightly sync)."""
    plain, leaving = tmp_path / "plain.xml", tmp_path / "leaving.xml"
    generate(plain, count=400, seed=5, as_of=AS_OF, vintage="mixed")
    made = generate(leaving, count=400, seed=5, as_of=AS_OF, vintage="mixed", withdrawn=0.15, deferred=0.1)
    before, after = students(plain), students(leaving)
    tagged = [leaving_of(s) for s in after]
    withdrawn = [t for t in tagged if "WITHDRAWAL_DATE" in t]
    deferred = [t for t in tagged if "DEFER_DATE" in t]
    assert (made.withdrawn, made.deferred) == (len(withdrawn), len(deferred))
    assert (
        30 <= len(withdrawn) <= 90
        and 20 <= len(deferred) <= 65
        and not any("WITHDRAWAL_DATE" in t and "DEFER_DATE" in t for t in tagged)
    )
    for old, new, tags in zip(before, after, tagged, strict=True):
        if not tags:
            assert etree.tostring(old) == etree.tostring(new)
            continue
        day = tags.get("WITHDRAWAL_DATE") or tags["DEFER_DATE"]
        starts = [new.findtext(t) for t in ("F_ITTSTARTDATE", "F_TRAINEESTARTDATE", "F_ITTCOMDATE", "F_COMDATE")]
        assert max(s for s in starts if s and s != "NULL") <= day <= AS_OF.isoformat()
        # saved by the SRS no earlier than the day it left: a commit already as late is kept, an earlier one moved
        was, committed = old.findtext("F_COMMIT_TIMESTAMP"), new.findtext("F_COMMIT_TIMESTAMP")
        assert committed == (was if was[:10] >= day else f"{day} {was[11:]}")
        assert new.findtext("F_STATUS_TIMESTAMP") == f"{day_of(committed)} {committed[11:]}"  # the same time
    reasons = Counter(r for t in withdrawn for r in t["WITHDRAWAL_REASONS"].split(";"))
    assert len(reasons) > 5 and {t["WITHDRAWAL_TRIGGER"] for t in withdrawn} == {"provider", "trainee"}
    # Register takes one reason or several, and a deferral with or without its optional reason: a sync meets each
    assert {len(t["WITHDRAWAL_REASONS"].split(";")) for t in withdrawn} == {1, 2}
    assert {"DEFER_REASON" in t for t in deferred} == {True, False}
    for t in withdrawn:  # a reason's details come with the reasons that need them (§3.9), and only with those
        given = t["WITHDRAWAL_REASONS"].split(";")
        assert ("WITHDRAWAL_ANOTHER_REASON" in t) == any("another_reason" in r for r in given)
        assert ("WITHDRAWAL_SAFEGUARDING_CONCERN_REASONS" in t) == ("safeguarding_concerns" in given)
    reports = {}
    for path in (plain, leaving):
        folder = tmp_path / path.stem
        result = run("validate", str(path), "--as-of", AS_OF.isoformat(), "--report-dir", str(folder))
        assert result.exit_code == 0, result.output
        reports[path.stem] = Counter(i["code"] for i in json.loads((folder / "report.json").read_text())["issues"])
    assert reports["leaving"] == reports["plain"]


def test_hesa_csv_leavers_are_columns_after_the_layouts_own(tmp_path):
    out = tmp_path / "leaving.csv"
    made = generate(out, count=60, fmt="hesa-csv", seed=8, as_of=AS_OF, withdrawn=0.3)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    header = list(rows[0])
    assert header[-6:] == [
        "WITHDRAWAL_DATE",
        "WITHDRAWAL_REASONS",
        "WITHDRAWAL_TRIGGER",
        "WITHDRAWAL_FUTURE_INTEREST",
        "WITHDRAWAL_ANOTHER_REASON",
        "WITHDRAWAL_SAFEGUARDING_CONCERN_REASONS",
    ]
    assert "DEFER_DATE" not in header  # none asked for
    assert sum(r["WITHDRAWAL_DATE"] != "NULL" for r in rows) == made.withdrawn > 0
    assert run("validate", str(out), "--as-of", AS_OF.isoformat(), "--report-dir", str(tmp_path / "r")).exit_code == 0
    made = generate(out, count=60, fmt="hesa-csv", seed=8, as_of=AS_OF, deferred=0.3)
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert list(rows[0])[-2:] == ["DEFER_DATE", "DEFER_REASON"] and "WITHDRAWAL_DATE" not in rows[0]
    assert sum(r["DEFER_DATE"] != "NULL" for r in rows) == made.deferred > 0
    assert any(r["DEFER_REASON"] != "NULL" for r in rows)


@pytest.mark.parametrize("seed", [3, 5])
def test_defective_records_never_leave_so_the_truth_stays_exact(tmp_path, seed):
    """Nor does the record before a duplicate, which the duplicate's issue is reported on too (seed 5 made record 53
    a leaver with a duplicate_hesa_id)."""
    out, truth = tmp_path / "x.xml", tmp_path / "truth.json"
    made = generate(out, count=120, seed=seed, as_of=AS_OF, defects=0.5, truth=truth, withdrawn=0.5, deferred=0.5)
    header = json.loads(truth.read_text())
    assert (header["withdrawn_rate"], header["deferred_rate"]) == (0.5, 0.5)
    defective = {i["record"] for i in header["issues"]}
    leavers = {n for n, s in enumerate(students(out), 1) if leaving_of(s)}
    assert leavers and not leavers & defective and made.withdrawn + made.deferred == len(leavers)


def test_a_trainee_not_yet_started_never_leaves(tmp_path):
    """Register refuses a withdrawal before the ITT start date (§2.7): a cycle starting after the as-of date has
    no leavers, and says so in its counts."""
    made = generate(tmp_path / "x.xml", count=30, seed=2, as_of=date(2026, 5, 1), academic_cycle=2026, withdrawn=1.0)
    assert made.withdrawn == 0 and not any(leaving_of(s) for s in students(tmp_path / "x.xml"))


def test_a_trainee_starting_on_the_as_of_date_leaves_that_very_day(tmp_path):
    """Register takes a withdrawal or a deferral on the day the training starts (§2.7): a record starting on the as-of
    date may leave, on that day and never on one past the as-of date."""
    start = date(2026, 9, 1)  # the cycle's first day, when most of its records start
    out = tmp_path / "x.xml"
    made = generate(out, count=60, seed=1, as_of=start, academic_cycle=2026, withdrawn=0.5, deferred=0.5)
    left = []  # (the day each leaver started, the later of its start dates; the day it left)
    for student in students(out):
        if tags := leaving_of(student):
            starts = [student.findtext(t) for t in ("F_ITTSTARTDATE", "F_TRAINEESTARTDATE")]
            day = tags.get("WITHDRAWAL_DATE") or tags["DEFER_DATE"]
            left.append((max(s for s in starts if s and s != "NULL"), day))
    assert made.withdrawn and made.deferred and len(left) == made.withdrawn + made.deferred
    assert all(started <= day <= start.isoformat() for started, day in left)
    assert {day for started, day in left if started == start.isoformat()} == {start.isoformat()}


def test_generated_leavers_are_withdrawn_and_deferred_by_a_sync(tmp_path):
    """The tags are what Register's withdraw and defer endpoints take: a sync against the emulator creates every
    record, withdraws and defers exactly the leavers, and a rerun sends nothing."""
    from register_batch.emulator import start_emulator
    from register_batch.sync import SyncOptions, sync_files

    out = tmp_path / "leavers.xml"
    made = generate(out, count=30, seed=4, as_of=AS_OF, vintage="mixed", withdrawn=0.3, deferred=0.2, ukprn="10000001")
    assert made.withdrawn and made.deferred
    with start_emulator(tokens=["t"], ukprns={"t": "10000001"}, rate_limit=None, as_of=AS_OF) as emulator:
        settings = {"target": emulator.url, "token": "t", "as_of": AS_OF, "rate": (10_000, 60.0)}
        first = sync_files([str(out)], SyncOptions(state_dir=tmp_path / "s", report_dir=tmp_path / "r1", **settings))
        again = sync_files([str(out)], SyncOptions(state_dir=tmp_path / "s", report_dir=tmp_path / "r2", **settings))
    assert first.exit_code == 0
    steps = Counter(step.kind for result in first.results for step in result.plan.steps)
    assert steps == Counter(create=30, withdraw=made.withdrawn, defer=made.deferred)
    assert first.outcomes == Counter(done=30)
    codes = {i["code"] for i in json.loads((tmp_path / "r1" / "report.json").read_text())["issues"]}
    assert codes == {"legacy_code_translated"}  # the C21053 records': none held back, none refused
    assert again.actions == Counter(unchanged=30)


def test_cli_says_how_many_left_and_refuses_leavers_in_registers_csv(tmp_path):
    out = str(tmp_path / "x.xml")
    made = run("generate", "--count", "50", "-o", out, "--seed", "1", "--as-of", "2026-11-28", "--withdrawn", "0.2")
    assert made.exit_code == 0, made.output
    withdrawn = sum(1 for s in students(out) if leaving_of(s))
    assert made.output.splitlines()[-1] == f"{withdrawn} withdrawn, 0 deferred (WITHDRAWAL_* and DEFER_* tags)"
    hesa_csv = str(tmp_path / "h.csv")  # review114 F5: its leavers are in columns, not tags
    made = run(
        "generate",
        "--count",
        "50",
        "-o",
        hesa_csv,
        "--format",
        "hesa-csv",
        "--seed",
        "1",
        "--as-of",
        "2026-11-28",
        "--withdrawn",
        "0.2",
    )
    assert made.exit_code == 0, made.output
    assert made.output.splitlines()[-1].endswith(" withdrawn, 0 deferred (WITHDRAWAL_* and DEFER_* columns)")
    csv_out = str(tmp_path / "x.csv")
    refused = run("generate", "--count", "5", "-o", csv_out, "--format", "register-csv", "--deferred", "0.1")
    assert refused.exit_code == 2 and refused.output == (
        "register-batch: error: --withdrawn and --deferred apply to hesa-xml and hesa-csv: Register's CSV template "
        "has no withdrawal or deferral columns\n"
    )
    assert not Path(csv_out).exists()
    future = run(
        "generate", "--count", "5", "-o", out, "--as-of", "2026-05-01", "--academic-cycle", "2026", "--withdrawn", "1"
    )
    assert future.exit_code == 0 and future.output.splitlines()[-1] == (
        "0 withdrawn, 0 deferred: only trainees who have started by the as-of date (2026-05-01) leave, and none had"
    )
