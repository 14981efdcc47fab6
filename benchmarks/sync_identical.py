"""Write every report `sync` produces for fixed extracts and a fixed emulator, to compare before/after a change.

    python benchmarks/sync_identical.py OUT_DIR [--data DIR]
    diff -r BEFORE_DIR AFTER_DIR     # must print nothing

benchmarks/identical.py does this for `validate` and `convert`. Here each scenario is a series of syncs (dry runs
and real runs) against an emulator started in this process, whose trainee ids and TRNs are drawn from a seeded
generator, so that two runs of the same code give the same ids. The emulator's own code is the one this process
imports: give both trees the same emulator (it is not what is compared). What a run's duration changes (the
request timings in report.json and report.html) is written as `<seconds>`, and the emulator's port as `<port>`.

Scenarios: every corpus of identical.py and the bundled samples as a dry run; with --samples, each file of that
folder (HESA XML, zipped) as a dry run, a first load and a rerun; one file with defects loaded, synced again
unchanged, then with changes (emails, last names) as a dry run, for real and again; the same records in several
files at once; and a first load against an emulator that loses replies and fails requests (a seeded fault mix).
"""

from __future__ import annotations

import argparse
import random
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import identical  # noqa: E402  (benchmarks/identical.py: its corpus)

AS_OF = identical.AS_OF
TOKEN = "identical-sync-token-0001"
UKPRN = "10007799"  # the provider of the files synced together
TIMINGS = re.compile(r'("(?:seconds|per_second)": )[0-9.e+-]+')
PORT = re.compile(r"127\.0\.0\.1:\d+")
HTML_TIMINGS = re.compile(r"[0-9][0-9,.]* (s|seconds|requests a second|per second)\b")


@contextmanager
def emulator(ukprn: str | None, seed: int, faults: str | None = None) -> Iterator[Any]:
    """An emulator whose ids come from `seed` (trainee, degree and placement ids; TRNs), rate limit off."""
    from datetime import date

    from register_batch.emulator import app, start_emulator

    rng = random.Random(seed)
    saved = app.secrets
    app.secrets = SimpleNamespace(choice=rng.choice, randbelow=rng.randrange, token_hex=saved.token_hex)
    options: dict[str, Any] = {"ukprns": {TOKEN: ukprn}} if ukprn else {}
    try:
        with start_emulator(
            tokens=[TOKEN], rate_limit=None, as_of=date.fromisoformat(AS_OF), faults=faults, seed=seed, **options
        ) as running:
            yield running
    finally:
        app.secrets = saved


def provider_of(path: Path) -> str | None:
    """The F_UKPRN a HESA XML file (or the first member of a zip of one) names first: the emulator's provider's."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            content = archive.read(archive.namelist()[0])
    elif path.suffix == ".xml":
        content = path.read_bytes()
    else:
        return None
    found = re.search(rb"<F_UKPRN>(\d{8})</F_UKPRN>", content[: 1 << 16])
    return found.group(1).decode() if found else None


def one_provider(data: Path, seed: int) -> Path:
    """An extract of provider UKPRN's with 10% defects (two seeds: two files of one provider)."""
    path = data / f"identical-sync-{seed}.xml"
    if not path.exists():
        cmd = [sys.executable, "-m", "register_batch", "-q", "generate", "--count", "1500", "-o", str(path)]
        cmd += ["--seed", str(seed), "--ukprn", UKPRN, "--as-of", AS_OF, "--defects", "0.1"]
        subprocess.run([*cmd, "--truth", f"{path}.truth.json"], check=True, stdout=subprocess.DEVNULL)
    return path.resolve()


def changed(source: Path, target: Path) -> None:
    """A copy with changes a night brings: every 10th email, every 17th last name, a withdrawal for the 23rd."""
    student = 0
    with source.open(encoding="utf-8") as fin, target.open("w", encoding="utf-8") as fout:
        for line in fin:
            student += line.count("<Student>")
            if student % 10 == 0:
                line = re.sub(r"<F_NQTEMAIL>[^<]*<", f"<F_NQTEMAIL>changed.{student}@example.org<", line)
            if student % 17 == 0:
                line = re.sub(r"<F_SURNAME>[^<]*<", f"<F_SURNAME>Renamed{student}<", line)
            fout.write(line)


def sync(folder: Path, name: str, inputs: list[Path], url: str, *extra: str) -> None:
    """One `register-batch sync`, its reports kept in folder/name with the timings blanked."""
    token = folder / "token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    token.chmod(0o600)
    cmd = [sys.executable, "-m", "register_batch", "-q", "sync", *map(str, inputs), "--target", url]
    cmd += ["--token-file", "token", "--state-dir", "state", "--report-dir", name, "--as-of", AS_OF]
    cmd += ["--rate", "1000000/1", *extra]
    done = subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=3600)
    (folder / name).mkdir(exist_ok=True)
    (folder / name / "exit.txt").write_text(f"{done.returncode}\n{done.stdout}{done.stderr}", encoding="utf-8")
    for path in (folder / name).iterdir():
        text = PORT.sub("127.0.0.1:<port>", path.read_text(encoding="utf-8"))
        if path.name == "report.json":
            text = TIMINGS.sub(r"\1<seconds>", text)
        elif path.name == "report.html":
            text = HTML_TIMINGS.sub(r"<seconds> \1", text)
        path.write_text(text, encoding="utf-8")
    print(f"  {folder.name}/{name}: exit {done.returncode} {done.stdout.strip()}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--samples", type=Path, help="a folder of HESA ITT files (XML, zipped XML) to sync as well")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    files = {name: path.resolve() for name, path in identical.corpus(args.data).items()}

    print("dry runs of the identical.py corpus", flush=True)
    for name, path in files.items():
        folder = args.out / f"dry-{name}"
        folder.mkdir(parents=True)
        with emulator(provider_of(path), 1) as em:
            sync(folder, "dry", [path], em.url, "--dry-run")

    if args.samples:
        print(f"{args.samples}: dry run, first load, rerun", flush=True)
        for path in sorted(args.samples.resolve().iterdir()):
            folder = args.out / f"sample-{path.stem}"
            folder.mkdir(parents=True)
            with emulator(provider_of(path), 2) as em:
                sync(folder, "dry", [path], em.url, "--dry-run")
                sync(folder, "load", [path], em.url)
                sync(folder, "rerun", [path], em.url)

    print("a night's changes", flush=True)
    folder = args.out / "nightly"
    folder.mkdir(parents=True)
    night = args.data / "identical-sync-changed.xml"  # beside the extracts: reports name it by its path
    changed(files["xml"], night)
    with emulator(provider_of(files["xml"]), 3) as em:
        sync(folder, "load", [files["xml"]], em.url)
        sync(folder, "rerun", [files["xml"]], em.url)
        sync(folder, "changed-dry", [night], em.url, "--dry-run")
        sync(folder, "changed", [night], em.url)
        sync(folder, "changed-rerun", [night], em.url)
        sync(folder, "back-dry", [files["xml"]], em.url, "--dry-run")

    print("several inputs of one provider at once", flush=True)
    folder = args.out / "together"
    folder.mkdir(parents=True)
    first, second = (one_provider(args.data, seed) for seed in (21, 22))
    again = args.data / "identical-sync-21-again.xml"
    if not again.exists() or again.read_bytes() != first.read_bytes():
        shutil.copyfile(first, again)
    with emulator(UKPRN, 4) as em:
        sync(folder, "dry", [first, second, again], em.url, "--dry-run")
        sync(folder, "load", [first, second], em.url)
        changed(second, args.data / "identical-sync-22-changed.xml")
        sync(folder, "again", [first, args.data / "identical-sync-22-changed.xml"], em.url, "--ukprn", UKPRN)

    print("faults: lost replies, 500s and resets", flush=True)
    folder = args.out / "faults"
    folder.mkdir(parents=True)
    with emulator(provider_of(files["mixed"]), 5, faults="500:0.02,reset:0.02,lost-response:0.04") as em:
        sync(folder, "load", [files["mixed"]], em.url)
        em.set_faults(None)
        sync(folder, "rerun", [files["mixed"]], em.url)
    for ledger in args.out.glob("*/state"):  # its times differ from run to run; what it says is in the reports
        shutil.rmtree(ledger)


if __name__ == "__main__":
    main()
