"""Peak memory and time of `register-batch sync` per record: dry runs and real runs against an emulator.

    python benchmarks/sync_memory.py                       # 10k and 40k trainees (about 15 minutes)
    python benchmarks/sync_memory.py --sizes 1000 5000     # a quick look
    python benchmarks/sync_memory.py --only dry            # the dry run against the embedded emulator only

Every figure is one fresh `register-batch sync` process: wall time, its own CPU time (user + system) and its own
peak RSS (`ru_maxrss` from os.wait4 in a small launcher, benchmarks/spawn.py), as benchmarks/run.py measures validate.
Per size it measures:

- `dry run`: `sync --dry-run` against the embedded emulator (no --target), which holds no one yet: every record
  is planned as a create. The emulator runs inside the measured process, as it does for a user.
- `first load`: a real run against `register-batch emulator` in a process of its own (rate limit off, so that the
  sync is not paced; `--rate` raised to match), creating every trainee.
- `rerun`: the same extract again: Register lists every trainee, nothing changes, nothing is written.
- `10% changed, dry run` and `10% changed`: a copy of the extract with every tenth trainee's email changed.
- `5% leave`: the same extract generated with `--withdrawn 0.03 --deferred 0.02` (every other record's bytes as in
  the first; the same emails changed), so exactly one withdraw or defer request per leaver and nothing else.

The slope between two sizes (MB per 1,000 records) is what a run costs per record; the intercept is start-up,
imports and the reports' fixed part. Extracts are generated with `register-batch generate` (seed 2026, as of
2026-11-28) into benchmarks/data/ and reused. The package measured is the one `python -m register_batch` imports
(set PYTHONPATH to measure another tree).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from spawn import launch  # noqa: E402  (benchmarks/spawn.py)

AS_OF = "2026-11-28"
SEED = 2026
TOKEN = "benchmark-provider-token-0001"
RATE = "1000000/1"  # the emulator's rate limit is off: do not pace


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "register_batch", *args]


@dataclass
class Measured:
    scenario: str
    records: int
    wall_s: float
    cpu_s: float
    rss_mb: float
    code: int
    summary: str


def measure(cmd: list[str], cwd: Path, timeout: float = 3600) -> tuple[float, float, float, int, str, str]:
    """One fresh process: wall time, its own CPU time and peak RSS (benchmarks/spawn.py). Killed after `timeout`
    seconds."""
    done = launch(cmd, cwd=cwd, timeout=timeout)
    return done.wall, done.cpu, done.rss_mb, done.returncode, done.stdout, done.stderr


LEAVERS = ("--withdrawn", "0.03", "--deferred", "0.02")


def generate(data: Path, count: int, *leavers: str) -> Path:
    """benchmarks/run.py's clean corpus of `count` trainees (the same file, when it exists already); with `leavers`
    (LEAVERS), the same corpus with some of them withdrawn or deferred."""
    path = data / f"hesa-xml-{count}-d0-s{SEED}{'-leavers' if leavers else ''}.xml"
    if not path.exists():
        data.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        cmd = cli("-q", "generate", "--count", str(count), "-o", str(partial), "--seed", str(SEED), "--as-of", AS_OF)
        cmd += leavers
        print(f"  generating {path.name} ...", flush=True)
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        partial.rename(path)
    return path


def changed_copy(source: Path, target: Path, every: int = 10) -> int:
    """A copy of a HESA XML extract with the email of every `every`-th Student changed; how many changed."""
    student = changed = 0
    email = re.compile(r"<F_NQTEMAIL>[^<]*</F_NQTEMAIL>")
    with source.open(encoding="utf-8") as fin, target.open("w", encoding="utf-8") as fout:
        for line in fin:
            student += line.count("<Student>")
            if student % every == 0 and "<F_NQTEMAIL>" in line:
                line, n = email.subn(f"<F_NQTEMAIL>changed.{student}@example.org</F_NQTEMAIL>", line)
                changed += n
            fout.write(line)
    return changed


def provider_of(source: Path) -> str:
    with source.open("rb") as fh:
        found = re.search(rb"<F_UKPRN>(\d{8})</F_UKPRN>", fh.read(1 << 16))
    if found is None:
        raise SystemExit(f"{source}: no F_UKPRN in its first 64 KB")
    return found.group(1).decode()


class Emulator:
    """`register-batch emulator` in a process of its own, rate limit off, stopped on exit."""

    def __init__(self, work: Path, ukprn: str):
        cmd = cli("emulator", "--port", "0", "--token", TOKEN, "--ukprn", ukprn, "--rate-limit", "0")
        cmd += ["--as-of", AS_OF, "--db", str(work / "register.sqlite3")]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if found is None:
            self.stop()
            raise SystemExit(f"the emulator did not start: {line}")
        self.url = found.group(1)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=30)

    def __enter__(self) -> Emulator:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def sync(
    name: str, source: Path, records: int, work: Path, keep: Path | None, *extra: str, url: str | None = None
) -> Measured:
    state = work / ("state-embedded" if url is None else "state")
    reports = (keep or work) / f"{records}-{name.replace(' ', '-').replace('%', 'pc').replace(',', '')}"
    cmd = cli("-q", "sync", str(source), "--state-dir", str(state), "--report-dir", str(reports), "--as-of", AS_OF)
    if url is not None:
        token = work / "token"
        token.write_text(TOKEN + "\n", encoding="utf-8")
        token.chmod(0o600)
        cmd += ["--target", url, "--token-file", str(token), "--rate", RATE]
    wall, cpu, rss, code, out, err = measure([*cmd, *extra], work)
    if code not in (0, 1):
        raise SystemExit(f"{name}: exit {code}\n{out}\n{err}")
    summary = out.strip().splitlines()[0]  # not -q's `Report:` line after it
    result = Measured(name, records, round(wall, 2), round(cpu, 2), round(rss, 1), code, summary)
    print(f"  {records:>7,} {name:22} {wall:7.2f} s  cpu {cpu:7.2f} s  {rss:7.1f} MB  | {summary}", flush=True)
    return result


def machine() -> str:
    cpu = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {os.cpu_count()} cores; Python {platform.python_version()}; {platform.platform()}"


def slopes(results: list[Measured]) -> list[str]:
    lines = []
    for scenario in dict.fromkeys(r.scenario for r in results):
        runs = sorted((r for r in results if r.scenario == scenario), key=lambda r: r.records)
        if len(runs) < 2:
            continue
        low, high = runs[0], runs[-1]
        per = (high.rss_mb - low.rss_mb) / (high.records - low.records) * 1000
        cpu = (high.cpu_s - low.cpu_s) / (high.records - low.records) * 1e6
        lines.append(
            f"- {scenario}: {per:.1f} MB per 1,000 records ({per:.2f} KB a record), CPU {cpu:.0f} µs a record "
            f"({low.records:,} to {high.records:,})"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 40_000])
    parser.add_argument("--only", choices=["dry", "real"], help="only the embedded dry run, or only the real runs")
    parser.add_argument("--data", type=Path, default=HERE / "data", help="where generated extracts are kept")
    parser.add_argument("--keep", type=Path, help="keep each run's reports in this folder")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args()
    results: list[Measured] = []
    print(machine(), flush=True)
    for size in args.sizes:
        source = generate(args.data, size)
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            if args.only != "real":
                results.append(sync("dry run", source, size, work, args.keep, "--dry-run"))
            if args.only == "dry":
                continue
            changed, leaving = work / "changed.xml", work / "leaving.xml"
            changed_copy(source, changed)
            changed_copy(generate(args.data, size, *LEAVERS), leaving)
            with Emulator(work, provider_of(source)) as emulator:
                for name, path, extra in (
                    ("first load", source, ()),
                    ("rerun", source, ()),
                    ("10% changed, dry run", changed, ("--dry-run",)),
                    ("10% changed", changed, ()),
                    ("5% leave", leaving, ()),
                ):
                    results.append(sync(name, path, size, work, args.keep, *extra, url=emulator.url))
    print()
    print("| scenario | records | wall s | CPU s | peak RSS MB |")
    print("|---|---:|---:|---:|---:|")
    for r in results:
        print(f"| {r.scenario} | {r.records:,} | {r.wall_s:.2f} | {r.cpu_s:.2f} | {r.rss_mb:.0f} |")
    print()
    print("\n".join(slopes(results)))
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine(), "runs": [asdict(r) for r in results]}, indent=1), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
