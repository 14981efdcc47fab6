"""`register-batch generate`: synthetic extracts with known defects and a truth file (the work is in generate/)."""

from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from register_batch.commands.common import (
    CONTEXT,
    HelpCommand,
    OutputFile,
    State,
    _as_of,
    check_output_ending,
    echo,
    pass_state,
    result_on_stdout,
)
from register_batch.wording import counted


def _list_defects(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    from register_batch.generate import KINDS, NOT_GENERATED

    result_on_stdout()  # `generate --list-defects > kinds.txt` on a full disk is exit 2, not 0 (review37 F3)
    for kind in KINDS.values():
        formats = "" if len(kind.formats) == 3 else f"  [{', '.join(sorted(kind.formats))} only]"
        named = "" if kind.default else "  [only with --kinds]"
        echo(f"{kind.name:40} {', '.join(kind.codes):45} {kind.description}{formats}{named}")
    echo("")
    echo("Rule codes no generated file can trigger:")
    for code, reason in NOT_GENERATED.items():
        echo(f"  {code}: {reason}")
    ctx.exit(0)


def _kinds(_ctx: click.Context, _param: click.Parameter, value: str | None) -> tuple[str, ...] | None:
    if value is None:
        return None
    from register_batch.generate import KINDS

    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in KINDS]
    if unknown or not names:
        raise click.BadParameter(f"unknown defect kind(s) {', '.join(unknown) or '(none given)'}; see --list-defects")
    return names


@click.command(cls=HelpCommand, context_settings=CONTEXT)
@click.option(  # generate.build.MOST_RECORDS, not imported for --help
    "--count",
    type=click.IntRange(1, 4_500_000),
    required=True,
    metavar="N",
    help="Number of trainee records (at most 4,500,000, each a different person to Register's duplicate check).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["hesa-xml", "hesa-csv", "register-csv"]),
    default="hesa-xml",
    show_default=True,
    help="HESA ITT XML, HESA-named CSV (columns named like the XML tags), or Register's bulk-add CSV template.",
)
@click.option(
    "-o",
    "--output",
    type=OutputFile(),
    required=True,
    help="File to write (owner-only, mode 0600: it looks like personal data).",
)
@click.option(
    "--defects",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    show_default=True,
    metavar="RATE",
    help="Share of records (0-1) that get exactly one injected defect; needs --truth.",
)
@click.option(
    "--withdrawn",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    metavar="SHARE",
    help="Share of records (0-1) withdrawn, in WITHDRAWAL_* tags or columns (hesa-xml and hesa-csv): of those "
    "without a defect whose ITT start date has passed by --as-of.",
)
@click.option(
    "--deferred",
    type=click.FloatRange(0.0, 1.0),
    default=0.0,
    metavar="SHARE",
    help="Share of records (0-1) deferred, in DEFER_* tags or columns, chosen as for --withdrawn.",
)
@click.option(
    "--truth",
    type=OutputFile(),
    help="JSON file listing every issue the defects must cause (record, field, code, severity, kind).",
)
@click.option(
    "--ukprn",
    metavar="UKPRN",
    help="The provider's UKPRN for F_UKPRN (default: drawn from the seed); give one to make several files one "
    "provider's.",
)
@click.option("--seed", type=int, help="Random seed: the same seed and options give the same bytes (default: random).")
@click.option(
    "--academic-cycle",
    type=click.IntRange(2000, 2100),
    metavar="YYYY",
    help="Start year of the trainees' academic cycle, 2026 = 2026/27 (default: the cycle of --as-of).",
)
@click.option(
    "--vintage",
    type=click.Choice(["C24053", "C23053", "C22053", "C21053", "mixed"]),
    help="HESA collection layout: its tags and code lists (default C24053); mixed rotates through all four "
    "(hesa-xml only). C21053 records use the legacy codes register-batch translates with warnings.",
)
@click.option(
    "--as-of",
    callback=_as_of,
    metavar="YYYY-MM-DD",
    help="Make every clean record valid as of this day (default: today); validate with the same --as-of.",
)
@click.option(
    "--kinds",
    callback=_kinds,
    metavar="KIND,...",
    help="Inject only these defect kinds (comma-separated; see --list-defects).",
)
@click.option(
    "--list-defects",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_list_defects,
    help="List the defect kinds, the issue codes each causes, and exit.",
)
@pass_state
def generate(
    state: State,
    count: int,
    fmt: str,
    output: Path,
    defects: float,
    withdrawn: float,
    deferred: float,
    truth: Path | None,
    ukprn: str | None,
    seed: int | None,
    academic_cycle: int | None,
    vintage: str | None,
    as_of: date | None,
    kinds: tuple[str, ...] | None,
) -> None:
    """Write a synthetic extract of realistic trainees, optionally with known defects and a truth file.

    Clean records pass `register-batch validate --as-of` the same day with no errors (C21053 records carry
    the legacy-code warnings that layout implies). With --defects, that share of records gets exactly one
    defect each, and --truth lists every issue each defect must produce, so a run of `validate` can be
    scored for recall and false positives.

    \b
    Examples:
      register-batch generate --count 500 --format hesa-xml -o extract.xml \\
          --seed 1
      register-batch generate --count 2000 --format register-csv -o upload.csv \\
          --defects 0.1 --truth upload.truth.json --as-of 2026-11-28
      register-batch generate --count 500 -o leavers.xml \\
          --withdrawn 0.05 --deferred 0.02
    """
    from register_batch.fs import check_not_in_state_dir
    from register_batch.generate import generate as generate_extract

    if kinds and not defects:
        raise click.UsageError("--kinds chooses which defects --defects injects: give --defects RATE too")
    check_output_ending(output, fmt, "fmt")
    if truth is not None:  # a JSON file, whatever it is named: truth.xml would pass for an extract
        check_output_ending(truth, "json", "truth", chosen=False, option="'--truth'")
    for written in (output, truth):  # generate reads no settings: any folder holding a ledger is refused
        if written is not None:
            check_not_in_state_dir(written, None)
    with state.progress() as progress:
        result = generate_extract(
            output,
            count=count,
            fmt=fmt,
            vintage=vintage,
            defects=defects,
            truth=truth,
            seed=seed,
            academic_cycle=academic_cycle,
            as_of=as_of,
            kinds=kinds,
            progress=progress,
            ukprn=ukprn,
            withdrawn=withdrawn,
            deferred=deferred,
        )
    layout = f", layout {result.vintage}" if result.vintage else ""
    echo(
        f"Wrote {counted(result.count, 'record')} ({result.fmt}{layout}, academic cycle {result.academic_cycle} to "
        f"{result.academic_cycle + 1}, valid as of {result.as_of}, seed {result.seed}) to {result.output}"
    )
    if withdrawn or deferred:
        left = f"{result.withdrawn} withdrawn, {result.deferred} deferred"
        if result.withdrawn + result.deferred:
            held = "columns" if result.fmt == "hesa-csv" else "tags"  # a HESA-named CSV has columns (review114 F5)
            state.say(f"{left} (WITHDRAWAL_* and DEFER_* {held})")
        else:  # a cycle that starts after the as-of date: nobody can leave yet, as Register allows
            state.say(f"{left}: only trainees who have started by the as-of date ({result.as_of}) leave, and none had")
    if result.truth is not None:
        state.say(
            f"{counted(result.defective, 'record')} with a defect; {counted(result.issues, 'expected issue')} listed "
            f"in {result.truth}"
        )
    sys.exit(result.exit_code)
