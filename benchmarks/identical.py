"""Write every report `validate` and `convert` produce for a fixed sample corpus, to compare before/after a change.

    python benchmarks/identical.py OUT_DIR [--data DIR]
    diff -r BEFORE_DIR AFTER_DIR     # must print nothing

The corpus is generated with fixed seeds (defects in every format and layout) plus the bundled samples/,
and one run over several inputs at once (record numbering and duplicates across files).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
AS_OF = "2026-11-28"
CORPUS = (
    # name, format, count, seed, defects, vintage
    ("xml", "hesa-xml", 3000, 11, 0.15, None),
    ("mixed", "hesa-xml", 3000, 12, 0.15, "mixed"),
    ("c21", "hesa-xml", 2000, 15, 0.10, "C21053"),
    ("hcsv", "hesa-csv", 3000, 13, 0.15, None),
    ("rcsv", "register-csv", 3000, 14, 0.15, None),
)


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "register_batch", *args]


def corpus(data: Path) -> dict[str, Path]:
    data.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, fmt, count, seed, defects, vintage in CORPUS:
        path = data / f"identical-{name}.{'xml' if fmt == 'hesa-xml' else 'csv'}"
        if not path.exists():
            extra = ["--vintage", vintage] if vintage else []
            subprocess.run(
                [
                    *cli(
                        "-q", "generate", "--count", str(count), "--format", fmt, "-o", str(path), "--seed", str(seed)
                    ),
                    "--as-of",
                    AS_OF,
                    "--defects",
                    str(defects),
                    "--truth",
                    str(path) + ".truth.json",
                    *extra,
                ],
                check=True,
                stdout=subprocess.DEVNULL,
            )
        files[name] = path
    for sample in sorted((ROOT / "samples").iterdir()):
        if sample.suffix in (".xml", ".csv"):
            files[f"sample-{sample.stem}-{sample.suffix[1:]}"] = sample
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--data", type=Path, default=ROOT / "benchmarks" / "data")
    args = parser.parse_args()
    if args.out.exists():
        shutil.rmtree(args.out)
    files = corpus(args.data)
    runs = {name: [str(path.resolve())] for name, path in files.items()}
    # The XML's records twice (a copy: the same file twice is refused): duplicates across files, and same_content.
    again = args.data / "identical-xml-again.xml"
    if not again.exists() or again.read_bytes() != files["xml"].read_bytes():
        shutil.copyfile(files["xml"], again)
    runs["together"] = [runs["xml"][0], runs["rcsv"][0], str(again.resolve())]
    for name, inputs in runs.items():
        folder = args.out / name
        folder.mkdir(parents=True)
        validate = subprocess.run(
            cli("-q", "validate", *inputs, "--as-of", AS_OF, "--report-dir", "validate"),
            cwd=folder,
            capture_output=True,
            text=True,
        )
        convert = subprocess.run(
            [
                *cli("-q", "convert", *inputs, "--as-of", AS_OF, "--to", "jsonl", "-o", "convert.jsonl"),
                "--report-dir",
                "convert",
            ],
            cwd=folder,
            capture_output=True,
            text=True,
        )
        (folder / "exit.txt").write_text(
            f"validate {validate.returncode}\n{validate.stdout}{validate.stderr}"
            f"convert {convert.returncode}\n{convert.stdout}{convert.stderr}",
            encoding="utf-8",
        )
        print(f"{name}: validate exit {validate.returncode}, convert exit {convert.returncode}")


if __name__ == "__main__":
    main()
