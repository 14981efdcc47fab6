"""Start-up time of `register-batch`: what every command pays before it does anything.

    python benchmarks/startup.py                  # 7 fresh processes per command
    python benchmarks/startup.py --repeats 11
    python benchmarks/startup.py --trees /tmp/before/src src    # two trees' runs taken in turn: before and after

Each figure is the wall time, and the CPU time (user + system), of a fresh `python -m register_batch ...` process:
the median, min and max of the repeats, taken in turn (command by command, tree by tree) so that a slow spell of
the machine touches every figure alike. The commands: `--version`, `--help`, and `validate` of HESA XML files of
10 and 1,000 records (generated with `register-batch generate`, seed 2026, as of 2026-11-28, into a temporary
folder; `--sizes` for others). The package's bytecode is compiled first, as `pip install` does, and each command
runs once unmeasured (report.html's template then comes from the cache, as a user's second run finds it). The
package measured is the one `python -m register_batch` imports, or each of `--trees` (folders holding
`register_batch`, put on PYTHONPATH; a tree outside a checkout needs the repository's `mappings/` beside it).
Where the imports' time goes: `python -X importtime -m register_batch --version`.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from spawn import launch  # this folder's: one way to time a fresh process

AS_OF = "2026-11-28"


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "register_batch", *args]


def measure(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """One fresh process's wall time and its own CPU time (spawn.py's `launch`); it must exit 0."""
    done = launch(cmd, cwd=cwd, env=env)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} exited {done.returncode}: {done.stderr.strip()}")
    return done.wall, done.cpu


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} [{min(values):.3f}-{max(values):.3f}]"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=7, help="fresh processes per command (default 7)")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 1000], help="records in each validated file")
    parser.add_argument("--trees", type=Path, nargs="+", help="folders holding register_batch to measure in turn")
    args = parser.parse_args()
    if args.trees:
        envs = {str(tree): {**os.environ, "PYTHONPATH": str(tree.resolve())} for tree in args.trees}
    else:
        import register_batch as package

        envs = {str(Path(package.__file__).parent.parent): dict(os.environ)}
    for env in envs.values():
        where = subprocess.run(
            [sys.executable, "-c", "import register_batch; print(register_batch.__file__)"],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        compileall.compile_dir(str(Path(where.stdout.strip()).parent), quiet=1)
    first = next(iter(envs.values()))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        commands = {"--version": cli("--version"), "--help": cli("--help")}
        for size in args.sizes:
            name = f"r{size}.xml"
            generate = cli("generate", "--count", str(size), "-o", name, "--seed", "2026", "--as-of", AS_OF)
            subprocess.run(generate, cwd=work, env=first, check=True, stdout=subprocess.DEVNULL)
            commands[f"validate {size}"] = cli("validate", name, "--as-of", AS_OF, "--report-dir", f"reports{size}")
        for env in envs.values():
            for cmd in commands.values():
                measure(cmd, work, env)
        samples: dict[tuple[str, str], list[tuple[float, float]]] = {(t, n): [] for t in envs for n in commands}
        for _ in range(args.repeats):
            for name, cmd in commands.items():
                for tree, env in envs.items():
                    samples[tree, name].append(measure(cmd, work, env))
    for tree in envs:
        print(f"{tree}: {args.repeats} fresh processes each, seconds as median [min-max]")
        for name in commands:
            runs = samples[tree, name]
            walls, cpus = [wall for wall, _cpu in runs], [cpu for _wall, cpu in runs]
            print(f"  {name:14} wall {spread(walls)}   cpu {spread(cpus)}")


if __name__ == "__main__":
    main()
