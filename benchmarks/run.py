"""register-batch benchmarks: validate speed and memory against the parse floor, a peer side by side, request economy.

    python benchmarks/run.py            # the full run recorded in benchmarks/RESULTS.md (about 20 minutes)
    python benchmarks/run.py --quick    # small sizes, fewer repeats: a smoke run (about a minute)
    python benchmarks/run.py --only validate --sizes 50000 --repeats 7

Data is generated with `register-batch generate` (fixed seeds, as of 2026-11-28) into benchmarks/data/ (git-ignored)
and reused by later runs. Every timing is the wall time of a fresh process (start-up included); peak RSS is the
command's largest process's `ru_maxrss` (os.wait4 in a small launcher, benchmarks/spawn.py); validate's whole-command
memory is the peak PSS of its process tree, its forked helper's too, sampled every 10 ms in untimed runs of their own
(benchmarks/tree_memory.py). Each figure is the median of
--repeats runs, with min and max. Results go to benchmarks/results/latest.json and, as Markdown tables, to
benchmarks/results/latest.md (quick.json and quick.md for --quick).

1. validate: `register-batch validate FILE.xml --report-dir D` on HESA XML of 1k-100k trainees, clean and with
   5% defects, each run paired with the floor (benchmarks/floor.py: a bare lxml iterparse pass over the same file).
2. peer: the same records as Register's bulk-add CSV, validated by register-batch, by `frictionless validate
   --schema` (a Table Schema with the same per-field checks, benchmarks/peer.py) and by a naive pandas +
   pydantic row loop; time, errors found, and how many of the generator's known errors each finds.
3. sync: request economy against the in-process emulator (first load, rerun, 10% changed), and throughput
   against a short rate limit (40 requests per 2 s, client --rate 40/2): fraction of the limit used, 429s.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import peer  # noqa: E402  (benchmarks/peer.py)
from spawn import Launched, launch  # noqa: E402  (benchmarks/spawn.py)
from tree_memory import measure as tree_memory  # noqa: E402  (benchmarks/tree_memory.py)

AS_OF = "2026-11-28"
SEED = 2026
DEFECTS = 0.05  # share of records with one injected defect in the "defects" corpus
TOKEN = "benchmark-provider-token-0001"
PER_PAGE = 500  # sync's default listing page size


# --- running things ------------------------------------------------------------------------------------------


# What `register-batch validate` imports, whatever the records: the command line, the library and the reports.
VALIDATE_MODULES = (
    "cli",
    "jobs",
    "validation.parallel",
    "reports.json_report",
    "reports.csv_report",
    "reports.html_report",
)
VALIDATE_IMPORTS = "import " + ", ".join(f"register_batch.{name}" for name in VALIDATE_MODULES)


def register_batch() -> list[str]:
    """The installed console script, as a user runs it (else `python -m register_batch`)."""
    script = Path(sys.executable).with_name("register-batch")
    return [str(script)] if script.exists() else [sys.executable, "-m", "register_batch"]


def tool(name: str) -> str:
    script = Path(sys.executable).with_name(name)
    return str(script) if script.exists() else name


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values), "n": len(values)}


GENERATOR = ROOT / "src" / "register_batch" / "generate"


def generator_fingerprint() -> str:
    """What the cached extracts were made by: the generator's source. A file made by another (a defect kind added
    since, as in session 55) is not the data this commit's generator makes, nor what RESULTS.md's figures say."""
    digest = hashlib.sha256()
    for source in sorted(GENERATOR.rglob("*.py")):
        digest.update(source.relative_to(GENERATOR).as_posix().encode() + b"\0" + source.read_bytes())
    return digest.hexdigest()[:16]


def generate(data: Path, count: int, fmt: str, defects: float, seed: int = SEED) -> Path:
    """A generated extract (cached by its parameters and the generator's source), with its truth file when it has
    defects."""
    suffix = "xml" if fmt == "hesa-xml" else "csv"
    path = data / f"{fmt}-{count}-d{int(defects * 100)}-s{seed}.{suffix}"
    stamp = path.with_name(path.name + ".made-by")
    made_by = generator_fingerprint()
    if path.exists() and stamp.exists() and stamp.read_text(encoding="utf-8") == made_by:
        return path
    data.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    cmd = [*register_batch(), "-q", "generate", "--count", str(count), "--format", fmt, "-o", str(partial)]
    cmd += ["--seed", str(seed), "--as-of", AS_OF]
    if defects:
        cmd += ["--defects", str(defects), "--truth", str(path) + ".truth.json"]
    print(f"  generating {path.name} ...", flush=True)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    partial.rename(path)
    stamp.write_text(made_by, encoding="utf-8")
    return path


def provider_of(source: Path) -> str:
    """The F_UKPRN of a generated HESA XML file (one provider's), given to the emulator's provider: sync checks the
    token against the UKPRN its records name once Register lists a trainee, as it would against Register."""
    with source.open("rb") as fh:
        found = re.search(rb"<F_UKPRN>(\d{8})</F_UKPRN>", fh.read(1 << 16))
    if found is None:
        raise SystemExit(f"{source}: no F_UKPRN in its first 64 KB")
    return found.group(1).decode()


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    import lxml.etree

    versions = {"lxml": ".".join(map(str, lxml.etree.LXML_VERSION[:3]))}
    for name in ("pydantic", "frictionless", "pandas"):
        with contextlib.suppress(Exception):
            from importlib.metadata import version

            versions[name] = version(name)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
    # Changes not committed are not the commit's figures (review66 F10): the run record says so.
    changed = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT, capture_output=True, text=True
    )
    dirty = "+uncommitted changes" if changed.stdout.strip() else ""
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "os": platform.platform(),
        "versions": versions,
        "commit": commit.stdout.strip() + dirty,
        "generator": generator_fingerprint(),
        "load_average_at_start": os.getloadavg(),
    }


# --- 1. validate against the floor ---------------------------------------------------------------------------


def bench_validate(data: Path, sizes: list[int], repeats: int) -> dict[str, Any]:
    results = []
    for corpus, defects in (("clean", 0.0), ("defects 5%", DEFECTS)):
        for size in sizes:
            path = generate(data, size, "hesa-xml", defects)
            floor_cmd = [sys.executable, str(HERE / "floor.py"), str(path)]
            launch(floor_cmd)  # warm the page cache; not counted
            floors, walls, rss, floor_rss, cpus, floor_cpus = [], [], [], [], [], []
            summary_line = ""
            for _ in range(repeats):
                floor = launch(floor_cmd)
                assert floor.returncode == 0 and int(floor.stdout) == size, floor.stderr
                with tempfile.TemporaryDirectory() as reports:
                    cmd = [*register_batch(), "validate", str(path), "--as-of", AS_OF, "--report-dir", reports]
                    validate = launch(cmd)
                assert validate.returncode in (0, 1), validate.stderr
                summary_line = validate.stdout.splitlines()[0]
                floors.append(floor.wall)
                walls.append(validate.wall)
                rss.append(validate.rss_mb)
                floor_rss.append(floor.rss_mb)
                cpus.append(validate.cpu)  # with the helper a large input forks: the cores used, not only the wall
                floor_cpus.append(floor.cpu)
            # The whole command's memory, validate's forked helper's too (review128 F1): the PSS of its process tree,
            # sampled every 10 ms, in runs of their own, so that the sampling does not touch the timings above.
            tree_pss = []
            for _ in range(repeats):
                with tempfile.TemporaryDirectory() as reports:
                    cmd = [*register_batch(), "validate", str(path), "--as-of", AS_OF, "--report-dir", reports]
                    sampled = tree_memory(cmd, 0.01)
                assert sampled["code"] in (0, 1), sampled
                tree_pss.append(float(sampled["peak_tree_pss_mb"]))
            entry = {
                "corpus": corpus,
                "records": size,
                "file_mb": path.stat().st_size / 1e6,
                "floor_s": summary(floors),
                "validate_s": summary(walls),
                "ratio": statistics.median(walls) / statistics.median(floors),
                "pair_ratios": summary([w / f for w, f in zip(walls, floors, strict=True)]),
                "records_per_s": size / statistics.median(walls),
                "validate_cpu_s": summary(cpus),
                "floor_cpu_s": summary(floor_cpus),
                "rss_mb": summary(rss),
                "floor_rss_mb": summary(floor_rss),
                "tree_pss_mb": summary(tree_pss),
                "output": summary_line,
            }
            results.append(entry)
            print(
                f"  validate {corpus:10} {size:>7}: {entry['validate_s']['median']:.2f} s "
                f"(floor {entry['floor_s']['median']:.2f} s, x{entry['ratio']:.2f}), "
                f"{entry['rss_mb']['median']:.0f} MB largest process, {entry['tree_pss_mb']['median']:.0f} MB whole "
                f"command  [{summary_line}]",
                flush=True,
            )
    growth, tree_growth = {}, {}
    for corpus in ("clean", "defects 5%"):
        by_size = {e["records"]: e for e in results if e["corpus"] == corpus}
        if 10_000 in by_size and 100_000 in by_size:
            growth[corpus] = by_size[100_000]["rss_mb"]["median"] / by_size[10_000]["rss_mb"]["median"]
            tree_growth[corpus] = by_size[100_000]["tree_pss_mb"]["median"] / by_size[10_000]["tree_pss_mb"]["median"]
    return {"runs": results, "rss_100k_over_10k": growth, "tree_pss_100k_over_10k": tree_growth}


# --- 2. peers side by side -----------------------------------------------------------------------------------


def _truth_errors(path: Path) -> set[tuple[int, str]]:
    truth = json.loads(Path(str(path) + ".truth.json").read_text(encoding="utf-8"))
    return {(i["record"], i["field"]) for i in truth["issues"] if i["severity"] == "error" and i.get("record")}


def bench_peer(data: Path, sizes: list[int], repeats: int) -> dict[str, Any]:
    results = []
    for size in sizes:
        source = generate(data, size, "register-csv", DEFECTS)
        plain = peer.plain_csv(source, source.with_name(source.stem + ".plain.csv"))
        with plain.open(encoding="utf-8") as fh:
            header = fh.readline().strip().split(",")
        schema_path = plain.with_name(plain.stem + ".schema.json")
        schema_path.write_text(json.dumps(peer.table_schema(header), indent=1), encoding="utf-8")
        truth = _truth_errors(source)
        with tempfile.TemporaryDirectory() as work:
            reports = Path(work) / "reports"
            commands = {
                "register-batch": [
                    *register_batch(),
                    "validate",
                    str(plain),
                    "--format",
                    "register-csv",
                    "--as-of",
                    AS_OF,
                    "--report-dir",
                    str(reports),
                ],
                # Relative paths: frictionless refuses absolute ones ("not safe") unless --trusted.
                "frictionless": [
                    tool("frictionless"),
                    "validate",
                    plain.name,
                    "--schema",
                    schema_path.name,
                    "--json",
                    "--limit-errors",
                    "100000000",
                ],
                "pandas+pydantic": [sys.executable, str(HERE / "peer.py"), "pandas", str(plain), str(schema_path)],
            }
            # What no validator of this file avoids, for judging the 10x target: reading it (a bare csv.reader
            # pass in a fresh process) and register-batch's own start-up: the modules validate imports (`--version`
            # measured them until it stopped importing most of them: benchmarks/startup.py).
            baselines = {
                "csv floor": [sys.executable, str(HERE / "floor.py"), str(plain)],
                "start-up": [sys.executable, "-c", VALIDATE_IMPORTS],
            }
            times: dict[str, list[float]] = {name: [] for name in [*commands, *baselines]}
            cpus: dict[str, list[float]] = {name: [] for name in commands}
            last: dict[str, Launched] = {}
            for _ in range(repeats):
                for name, cmd in commands.items():
                    done = launch(cmd, cwd=plain.parent)
                    assert done.returncode in (0, 1), f"{name}: {done.stderr[-2000:]}"
                    times[name].append(done.wall)
                    cpus[name].append(done.cpu)  # register-batch forks a helper for inputs over 8 MB
                    last[name] = done
                for name, cmd in baselines.items():
                    done = launch(cmd)
                    assert done.returncode == 0, f"{name}: {done.stderr[-2000:]}"
                    if name == "csv floor":
                        assert int(done.stdout) == size, done.stdout
                    times[name].append(done.wall)
            ours = json.loads((reports / "report.json").read_text(encoding="utf-8"))
        ours_errors = [i for i in ours["issues"] if i["severity"] == "error"]
        ours_found = {(i["record"], i["field"]) for i in ours_errors}
        frictionless_errors = json.loads(last["frictionless"].stdout)["tasks"][0]["errors"]
        assert not [e for e in frictionless_errors if e["type"] in ("resource-error", "scheme-error")], (
            frictionless_errors
        )
        frictionless_found = {
            # A row error (fieldName "") is the truth's record-level one (field null): review128 F3
            (e["rowNumber"] - 1, peer.COLUMN_FIELDS.get(e.get("fieldName", ""), e.get("fieldName") or None))
            for e in frictionless_errors
            if e.get("rowNumber")
        }
        pandas_result = json.loads(last["pandas+pydantic"].stdout)
        counts = {
            "register-batch": len(ours_errors),
            "frictionless": len(frictionless_errors),
            "pandas+pydantic": pandas_result["errors"],
        }
        recall = {
            "register-batch": len(truth & ours_found) / len(truth) if truth else 1.0,
            "frictionless": len(truth & frictionless_found) / len(truth) if truth else 1.0,
        }
        by_field: dict[str, dict[str, int]] = {}
        for i in ours_errors:
            by_field.setdefault(i["field"] or "(record)", {}).setdefault("register-batch", 0)
            by_field[i["field"] or "(record)"]["register-batch"] += 1
        for e in frictionless_errors:
            name = peer.COLUMN_FIELDS.get(e.get("fieldName", ""), e.get("fieldName", "")) or "(row)"
            by_field.setdefault(name, {}).setdefault("frictionless", 0)
            by_field[name]["frictionless"] += 1
        budget = statistics.median(times["frictionless"]) / 10
        entry = {
            "records": size,
            "defects": DEFECTS,
            "truth_errors": len(truth),
            "time_s": {name: summary(values) for name, values in times.items() if name in commands},
            "cpu_s": {name: summary(values) for name, values in cpus.items()},
            "baselines_s": {name: summary(times[name]) for name in baselines},
            "ten_x_budget_s": budget,
            "ten_x_budget_left_s": budget
            - statistics.median(times["csv floor"])
            - statistics.median(times["start-up"]),
            "errors": counts,
            "truth_recall": recall,
            "speedup_vs_frictionless": statistics.median(times["frictionless"])
            / statistics.median(times["register-batch"]),
            "speedup_vs_pandas": statistics.median(times["pandas+pydantic"])
            / statistics.median(times["register-batch"]),
            "fields_where_frictionless_finds_more": {
                f: c for f, c in by_field.items() if c.get("frictionless", 0) > c.get("register-batch", 0)
            },
        }
        results.append(entry)
        print(
            f"  peer {size:>7}: "
            + ", ".join(f"{n} {entry['time_s'][n]['median']:.2f} s / {counts[n]} errors" for n in commands)
            + f"; csv floor {entry['baselines_s']['csv floor']['median']:.2f} s,"
            f" start-up {entry['baselines_s']['start-up']['median']:.2f} s",
            flush=True,
        )
    return {"runs": results}


# --- 3. sync: request economy and throughput -----------------------------------------------------------------


def _changed_copy(source: Path, target: Path, every: int) -> int:
    """Copy a HESA XML extract with the email of every `every`-th Student changed; returns how many changed."""
    student = 0
    changed = 0
    email = re.compile(r"<F_NQTEMAIL>[^<]*</F_NQTEMAIL>")
    with source.open(encoding="utf-8") as fin, target.open("w", encoding="utf-8") as fout:
        for line in fin:
            if "<Student>" in line:
                student += 1
            if student % every == 0 and "<F_NQTEMAIL>" in line:
                line, n = email.subn(f"<F_NQTEMAIL>changed.{student}@example.org</F_NQTEMAIL>", line)
                changed += n
            fout.write(line)
    return changed


def _sync(path: Path, url: str, work: Path, rate: str) -> Launched:
    token_file = work / "token"
    token_file.write_text(TOKEN, encoding="utf-8")
    cmd = [*register_batch(), "-q", "sync", str(path), "--target", url, "--token-file", str(token_file)]
    cmd += ["--state-dir", str(work / "state"), "--report-dir", str(work / "reports"), "--as-of", AS_OF]
    cmd += ["--rate", rate, "--per-page", str(PER_PAGE)]
    done = launch(cmd)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


def _requests(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    routes = {
        k: v - before["requests"]["by_route"].get(k, 0)
        for k, v in after["requests"]["by_route"].items()
        if v - before["requests"]["by_route"].get(k, 0)
    }
    statuses = {
        k: v - before["requests"]["by_status"].get(k, 0)
        for k, v in after["requests"]["by_status"].items()
        if v - before["requests"]["by_status"].get(k, 0)
    }
    writes = sum(n for route, n in routes.items() if not route.startswith("GET"))
    return {"by_route": routes, "by_status": statuses, "total": sum(routes.values()), "writes": writes}


def economy_checks(phases: dict[str, dict[str, Any]], size: int, changed: int) -> dict[str, bool]:
    """The issue's request targets, from the requests the emulator counted in each phase (`_requests`)."""
    allowance = math.ceil(size / PER_PAGE) + 2
    first, rerun, change = phases["first load"], phases["rerun"], phases["10% changed"]
    creates = first["by_route"].get("POST /trainees", 0)
    return {
        "first load: 1 POST per trainee": creates == size,
        # Every request but the creates counts as "other", writes too (review69 F3: a PUT or degree POST on a first
        # load passed when only GETs were counted).
        "first load: other requests <= ceil(N/per_page)+2": first["total"] - creates <= allowance,
        "rerun: <= ceil(N/per_page)+2 requests": rerun["total"] <= allowance,
        "rerun: no writes": rerun["writes"] == 0,
        "10% changed: writes == changed": change["writes"] == changed,
        "10% changed: every write a PUT /trainees/{trainee_id}": change["by_route"].get("PUT /trainees/{trainee_id}", 0)
        == change["writes"],
        # Counted requests are not done writes: a create answered 409 or 422 is a POST too (review66 F11). A listing of
        # a start year with no trainee yet is answered 404 "No trainees found" (register-api.md §2.1): the only
        # refusal allowed, and only of a GET.
        "first load: every create answered 201": _answered(first, "201") == creates,
        "no request refused but empty listings (404)": all(_refused_but_empty_listings(p) for p in phases.values()),
    }


def _answered(phase: dict[str, Any], status: str) -> int:
    return int(phase.get("by_status", {}).get(status, 0))


def _refused_but_empty_listings(phase: dict[str, Any]) -> bool:
    statuses = phase.get("by_status", {})
    gets = sum(n for route, n in phase["by_route"].items() if route.startswith("GET"))
    others = [s for s in statuses if not str(s).startswith("2") and str(s) != "404"]
    return not others and _answered(phase, "404") <= gets


def bench_sync(data: Path, size: int, throughput_size: int, repeats: int) -> dict[str, Any]:
    from datetime import date

    from register_batch.emulator import start_emulator

    as_of = date.fromisoformat(AS_OF)
    source = generate(data, size, "hesa-xml", 0.0)
    allowance = math.ceil(size / PER_PAGE) + 2
    phases = {}
    ukprns = {TOKEN: provider_of(source)}
    with (
        tempfile.TemporaryDirectory() as work_dir,
        start_emulator(tokens=[TOKEN], ukprns=ukprns, rate_limit=None, as_of=as_of) as em,
    ):
        work = Path(work_dir)
        changed_path = work / "changed.xml"
        changed = _changed_copy(source, changed_path, 10)
        for phase, path in (("first load", source), ("rerun", source), ("10% changed", changed_path)):
            before = em.snapshot()
            done = _sync(path, em.url, work, "100000/60")
            phases[phase] = {**_requests(before, em.snapshot()), "wall_s": done.wall, "output": done.stdout.strip()}
            print(f"  sync {phase:12}: {phases[phase]['by_route']}", flush=True)
    economy = {
        "trainees": size,
        "per_page": PER_PAGE,
        "allowance_other": allowance,
        "changed": changed,
        "phases": phases,
        "per_trainee": {name: p["total"] / size for name, p in phases.items()},
        "checks": economy_checks(phases, size, changed),
    }

    limit, period = 40, 2.0
    runs = []
    for attempt in range(repeats):
        # A different seed per repeat: each run creates new trainees against a fresh emulator.
        source = generate(data, throughput_size, "hesa-xml", 0.0, seed=SEED + 1 + attempt)
        with (
            tempfile.TemporaryDirectory() as work_dir,
            start_emulator(
                tokens=[TOKEN], ukprns={TOKEN: provider_of(source)}, rate_limit=(limit, period), as_of=as_of
            ) as em,
        ):
            arrivals: list[float] = []
            counted = em.limiter.hit

            def hit(key: str, counted: Any = counted, arrivals: list[float] = arrivals) -> int | None:
                arrivals.append(time.time())  # when the server counts the request against the limit
                return counted(key)

            em.limiter.hit = hit
            before = em.snapshot()
            done = _sync(source, em.url, Path(work_dir), f"{limit}/{period:g}")
            requests = _requests(before, em.snapshot())
        windows: dict[int, int] = {}
        for t in arrivals:
            windows[math.floor(t / period)] = windows.get(math.floor(t / period), 0) + 1
        full = [windows.get(w, 0) for w in range(min(windows) + 1, max(windows))]  # drop the partial ends
        # The rate over the run, from the first arrival to the last one a whole number of allowances after it
        # (review69 F1: leaving out the first burst but keeping the last, partial one measured N mod limit).
        whole = (len(arrivals) - 1) // limit * limit
        span = arrivals[whole] - arrivals[0]
        runs.append(
            {
                "requests": len(arrivals),
                "full_windows": len(full),
                "fraction_of_limit": statistics.mean(full) / limit if full else float("nan"),
                "sustained_rate_fraction": whole / span / (limit / period) if span > 0 else float("nan"),
                "429": requests["by_status"].get("429", 0),
                "wall_s": done.wall,
            }
        )
        print(
            f"  throughput run {attempt + 1}: {len(arrivals)} requests, {runs[-1]['fraction_of_limit']:.3f} of "
            f"{limit}/{period:g} s per full window, 429s: {runs[-1]['429']}",
            flush=True,
        )
    fractions = [r["fraction_of_limit"] for r in runs]
    throughput = {
        "limit": f"{limit}/{period:g}s (emulator) with client --rate {limit}/{period:g}",
        "trainees": throughput_size,
        "runs": runs,
        "fraction_of_limit": summary(fractions),
        "sustained_rate_fraction": summary([r["sustained_rate_fraction"] for r in runs]),
        "429_total": sum(r["429"] for r in runs),
    }
    return {"economy": economy, "throughput": throughput}


# --- report --------------------------------------------------------------------------------------------------


def _mmm(s: dict[str, float], fmt: str = "{:.2f}") -> str:
    return f"{fmt.format(s['median'])} ({fmt.format(s['min'])}–{fmt.format(s['max'])})"


def markdown(results: dict[str, Any]) -> str:
    m = results["machine"]
    lines = [
        f"Run: {m['date']}, commit {m['commit']}; {m['cpu']}, {m['cores']} cores, {m['memory']} RAM; "
        f"Python {m['python']}; {m['os']}; " + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + ".",
        f"Options: {results['options']}. Load average at start: "
        + ", ".join(f"{x:.2f}" for x in m["load_average_at_start"])
        + ".",
        "",
    ]
    if "validate" in results:
        v = results["validate"]
        lines += [
            "### Validate HESA XML against the floor",
            "",
            "Seconds: median (min–max). Ratio = median validate / median floor; pairs = median of per-run ratios. CPU "
            "s: user + system time of validate (its forked helper's too, on inputs over 8 MB) and of the floor, "
            "medians. Peak RSS: the largest process's `ru_maxrss` (validate's main process), from the timed runs. "
            "Whole command: the peak of the PSS summed over validate's process tree (its forked helper's too; shared "
            "pages counted once), sampled every 10 ms (benchmarks/tree_memory.py) in as many runs of their own, "
            "not timed.",
            "",
            "| corpus | trainees | MB | floor s | validate s | ratio | pairs | CPU s validate / floor | records/s "
            "| peak RSS MB | whole command PSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for e in v["runs"]:
            lines.append(
                f"| {e['corpus']} | {e['records']:,} | {e['file_mb']:.0f} | {_mmm(e['floor_s'])} | "
                f"{_mmm(e['validate_s'])} | {e['ratio']:.2f} | {e['pair_ratios']['median']:.2f} | "
                f"{e['validate_cpu_s']['median']:.2f} / {e['floor_cpu_s']['median']:.2f} | "
                f"{e['records_per_s']:,.0f} | {_mmm(e['rss_mb'], '{:.0f}')} | {_mmm(e['tree_pss_mb'], '{:.1f}')} |"
            )
        for corpus, growth in v["rss_100k_over_10k"].items():
            lines.append(f"\nPeak RSS 100k / 10k ({corpus}): {growth:.3f} (the largest process)")
        for corpus, growth in v.get("tree_pss_100k_over_10k", {}).items():
            lines.append(f"\nWhole command PSS 100k / 10k ({corpus}): {growth:.3f}")
        lines.append("")
    if "peer" in results:
        lines += [
            "### Peers on the same records (Register bulk-add CSV, 5% defects)",
            "",
            "| trainees | tool | s | CPU s | errors | known errors found | register-batch faster by |",
            "|---:|---|---:|---:|---:|---:|---:|",
        ]
        for e in results["peer"]["runs"]:
            for name, t in e["time_s"].items():
                recall = e["truth_recall"].get(name)
                found = f"{recall:.1%} of {e['truth_errors']}" if recall is not None else "n/a (no row numbers)"
                speed = {
                    "frictionless": f"x{e['speedup_vs_frictionless']:.2f}",
                    "pandas+pydantic": f"x{e['speedup_vs_pandas']:.2f}",
                }.get(name, "")
                cpu = e.get("cpu_s", {}).get(name)
                cpu_text = f"{cpu['median']:.2f}" if cpu else "n/a"
                lines.append(
                    f"| {e['records']:,} | {name} | {_mmm(t)} | {cpu_text} | {e['errors'][name]:,} | {found} "
                    f"| {speed} |"
                )
        lines.append("")
        for e in results["peer"]["runs"]:
            b = e.get("baselines_s")
            if not b:
                continue
            lines.append(
                f"- {e['records']:,} rows: 10x faster than frictionless means the whole command in "
                f"{e['ten_x_budget_s']:.2f} s. A bare `csv.reader` pass over the file in a fresh process takes "
                f"{_mmm(b['csv floor'])} s and register-batch's start-up (validate's imports) "
                f"{_mmm(b['start-up'])} s, which leaves {e['ten_x_budget_left_s']:.2f} s for mapping, the rules, "
                f"duplicates and reports of {e['records']:,} records."
            )
        lines.append("")
    if "sync" in results:
        s = results["sync"]
        eco = s["economy"]
        lines += [
            f"### Request economy ({eco['trainees']:,} trainees, per_page {eco['per_page']}, "
            f"allowance ceil(N/per_page)+2 = {eco['allowance_other']})",
            "",
            "| phase | requests | per trainee | writes | by route |",
            "|---|---:|---:|---:|---|",
        ]
        for name, p in eco["phases"].items():
            routes = ", ".join(f"{k}: {v}" for k, v in p["by_route"].items())
            lines.append(f"| {name} | {p['total']} | {p['total'] / eco['trainees']:.4f} | {p['writes']} | {routes} |")
        lines.append("")
        lines += [f"- {check}: {'pass' if ok else 'FAIL'}" for check, ok in eco["checks"].items()]
        t = s["throughput"]
        lines += [
            "",
            f"Throughput, {t['limit']}, {t['trainees']} new trainees per run: fraction of the limit used per full "
            f"server window {_mmm(t['fraction_of_limit'], '{:.3f}')}; rate over the run (first arrival to the last "
            f"a whole number of allowances later) {_mmm(t['sustained_rate_fraction'], '{:.3f}')}; "
            f"429s: {t['429_total']}.",
            "",
        ]
    return "\n".join(lines)


def compile_package() -> str:
    """Byte-compile register_batch where it is installed, as `pip install` does, so that runs measure the tool
    as users run it.

    pip never compiles an editable install (a developer's), and with PYTHONDONTWRITEBYTECODE=1 (set on this
    machine) Python would then compile every module of the package again on every run: 0.1-0.2 s of start-up
    that an installed copy does not pay. Returns what was done, for the record.
    """
    import compileall

    import register_batch as package

    folder = Path(package.__file__).parent
    compiled = compileall.compile_dir(str(folder), quiet=1)
    return f"bytecode of {folder.name}/ compiled first, as pip install does ({'ok' if compiled else 'failed'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes, fewer repeats (a smoke run)")
    parser.add_argument("--only", choices=["validate", "peer", "sync"], action="append", help="run only these parts")
    parser.add_argument("--sizes", type=int, nargs="+", help="validate sizes (default 1k 10k 50k 100k)")
    parser.add_argument("--peer-sizes", type=int, nargs="+", help="peer sizes (default 10k 50k)")
    parser.add_argument("--repeats", type=int, help="runs per measurement (default 5, quick 2)")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where generated extracts are kept")
    parser.add_argument("--out", type=Path, default=HERE / "results", help="where latest.* (quick.*) go")
    args = parser.parse_args()
    quick = args.quick
    repeats = args.repeats or (2 if quick else 5)
    sizes = args.sizes or ([1000, 5000] if quick else [1000, 10_000, 50_000, 100_000])
    peer_sizes = args.peer_sizes or ([1000] if quick else [10_000, 50_000])
    parts = args.only or ["validate", "peer", "sync"]
    results: dict[str, Any] = {
        "machine": machine(),
        "options": f"parts {', '.join(parts)}, repeats {repeats}"
        + (f", sizes {sizes}" if "validate" in parts else "")
        + (f", peer sizes {peer_sizes}" if "peer" in parts else "")
        + f", seed {SEED}, as of {AS_OF}"
        + (", quick" if quick else "")
        + f"; {compile_package()}",
    }
    if shutil.which(tool("frictionless")) is None and "peer" in parts:
        sys.exit("frictionless is not installed: pip install -e '.[bench]'")
    if "validate" in parts:
        print("validate vs floor", flush=True)
        results["validate"] = bench_validate(args.data, sizes, repeats)
    if "peer" in parts:
        print("peers", flush=True)
        results["peer"] = bench_peer(args.data, peer_sizes, repeats)
    if "sync" in parts:
        print("sync", flush=True)
        results["sync"] = bench_sync(args.data, 100 if quick else 1000, 100 if quick else 240, 1 if quick else repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    name = "quick" if quick else "latest"  # a smoke run does not replace the samples of a recorded one (review69 F7)
    (args.out / f"{name}.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    text = markdown(results)
    (args.out / f"{name}.md").write_text(text + "\n", encoding="utf-8")
    print()
    print(text)


if __name__ == "__main__":
    main()
