"""`generate()`: stream a synthetic extract (and its truth file) to disk, one record at a time."""

from __future__ import annotations

import dataclasses
import json
import random
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any

from register_batch import __version__
from register_batch.arguments import checked_folder, checked_kind, checked_progress, checked_share, checked_whole
from register_batch.errors import ConfigError
from register_batch.fs import check_not_in_state_dir, check_output_ending, private_writer
from register_batch.generate.build import DEFAULT_PROFILE, MOST_RECORDS, Builder, Draft, Layout, layout_for
from register_batch.generate.defects import FORMATS, Context, DefectKind, Expect, Previous, kinds_for
from register_batch.generate.layouts import (
    VINTAGES,
    HesaCsvWriter,
    HesaXmlWriter,
    LegacyEncoder,
    RegisterCsvFileWriter,
    Writer,
)
from register_batch.generate.leavers import Leavers
from register_batch.mapping import load_mapping
from register_batch.progress import SILENT, Progress
from register_batch.reference import ReferenceData, load_reference
from register_batch.validation.facts import as_of_or_today, cycle_of, years_before
from register_batch.validation.providers import checked_ukprn

VINTAGE_CHOICES = (*VINTAGES, "mixed")
MIXED_ROTATION = ("C21053", "C22053", "C23053", "C24053")
PROGRESS_STEP = 1000


@dataclass
class GenerateResult:
    """What `generate` wrote: the extract (`output`) and truth file, the settings it used (`count`, `seed`, `fmt`,
    `vintage`, `academic_cycle`, `as_of`), and what it injected; `exit_code` is what `register-batch generate` exits
    with for it."""

    output: Path
    truth: Path | None
    count: int
    seed: int
    fmt: str
    vintage: str | None
    academic_cycle: int
    as_of: date
    defective: int = 0
    issues: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)
    withdrawn: int = 0
    deferred: int = 0

    @property
    def exit_code(self) -> int:
        """0: a file written is the command's success (the defects asked for are its purpose, not errors); what stops
        it is raised instead (RegisterBatchError's exit_code)."""
        return 0


class Deck:
    """Deals defect kinds in seeded, shuffled rounds, so each kind turns up once per round.

    A kind that does not fit the current record (its layout, or the record before) stays in the deck
    for a later record; a plain random choice would leave rare kinds out of small corpora.
    """

    def __init__(self, kinds: list[DefectKind], rng: random.Random):
        self.kinds = kinds
        self.rng = rng
        self.cards: list[DefectKind] = []

    def _refill(self) -> None:
        fresh = list(self.kinds)
        self.rng.shuffle(fresh)
        self.cards.extend(fresh)
        if len(self.cards) > 4 * len(self.kinds):  # kinds that never fit this run's records
            del self.cards[: len(self.cards) - 4 * len(self.kinds)]

    def draw(self, fits: Callable[[DefectKind], Layout | None]) -> tuple[DefectKind, Layout] | None:
        """The first kind in the deck that fits this record, and the layout to write it in."""
        for _attempt in range(2):
            for position, kind in enumerate(self.cards):
                layout = fits(kind)
                if layout is not None:
                    return self.cards.pop(position), layout
            self._refill()
        return None


class TruthWriter:
    """The truth file, streamed: settings first, then every expected issue in record order, then a summary."""

    def __init__(self, fh: IO[str], header: dict[str, Any]):
        self.fh = fh
        self.count = 0
        head = json.dumps(header, ensure_ascii=False, indent=1)
        fh.write(head[:-2] + ',\n "issues": [')

    def add(self, entries: list[dict[str, Any]]) -> None:
        for entry in entries:
            self.fh.write(("\n  " if not self.count else ",\n  ") + json.dumps(entry, ensure_ascii=False))
            self.count += 1

    def close(self, defective: int, by_kind: dict[str, int]) -> None:
        summary = {"defective_records": defective, "issues": self.count, "by_kind": dict(sorted(by_kind.items()))}
        self.fh.write(("\n ]" if self.count else "]") + ',\n "summary": ' + json.dumps(summary) + "\n}\n")


def _check_leavers(fmt: str, withdrawn: float, deferred: float) -> None:
    """The shares of withdrawn and deferred records: each a share, together at most every record, and only in a
    format with WITHDRAWAL_* and DEFER_* columns."""
    for name, share in (("withdrawn", withdrawn), ("deferred", deferred)):
        checked_share(name, share)
    if withdrawn + deferred > 1.0:
        raise ConfigError.naming("{withdrawn} and {deferred} together are more than every record")
    if (withdrawn or deferred) and fmt == "register-csv":
        raise ConfigError.naming(
            "{withdrawn} and {deferred} apply to hesa-xml and hesa-csv: Register's CSV template has no withdrawal or "
            "deferral columns"
        )


def _checked_choices(count: int, kinds: Sequence[str] | None, defects: float) -> tuple[int, Sequence[str] | None]:
    """A library caller's count and kinds as generate takes them, or ConfigError: a string of one kind would be read
    letter by letter, kinds without defects would make a clean file unsaid, and a count of 2.5 or True is no count
    (the command line's options cannot be any of these)."""
    count = checked_whole("count", count)
    if isinstance(kinds, str):
        raise ConfigError.naming(
            '{kinds} must be a list of defect kinds, e.g. ["{example}"], not a single string', example=kinds
        )
    if kinds is not None and not all(isinstance(kind, str) for kind in kinds):
        raise ConfigError.naming("{kinds} must be a list of defect kinds' names (strings)")
    if kinds is not None and not kinds:  # was blamed on the format, layout and cycle (review109 F6)
        raise ConfigError.naming("{kinds} is empty: name at least one defect kind, or leave it out for the default mix")
    if kinds and not defects:
        raise ConfigError.naming("{kinds} chooses which defects {defects} injects: give {defects} too")
    return count, kinds


def _check_outputs(fmt: str, output: Path, truth: Path | None) -> None:
    """Refuse, as the command line does, an output named for another format (`extract.ods`), and an output or truth
    file in a state dir: generate has none of its own, so any folder holding a sync ledger is refused, which the file
    would replace (`-o state/ledger.sqlite3`)."""
    check_output_ending(output, fmt, "fmt")
    if truth is not None:
        check_output_ending(truth, "json", "truth", chosen=False)
    for written in (output, truth):
        if written is not None:
            check_not_in_state_dir(written, None)


def _check_options(
    count: int,
    fmt: str,
    vintage: str | None,
    defects: float,
    truth: Path | None,
    cycle: int,
    as_of: date,
    output: Path,
    ukprn: str | None,
    given_cycle: bool,
) -> str | None:
    if fmt not in FORMATS:
        raise ConfigError.naming("{fmt} must be one of {choices}", choices=", ".join(FORMATS))
    if not 1 <= count <= MOST_RECORDS:  # each a person of their own to Register's duplicate rule (review109 F5)
        raise ConfigError.naming("{count} must be between 1 and {most:,}", most=MOST_RECORDS)
    if fmt == "register-csv":
        if vintage is not None:
            raise ConfigError.naming("{vintage} applies to hesa-xml and hesa-csv; Register's CSV has one layout")
        if ukprn:  # it was left out unsaid; an empty one is none given, as everywhere else
            raise ConfigError.naming(
                "{ukprn} applies to hesa-xml and hesa-csv (F_UKPRN); Register's CSV has no UKPRN column: the token "
                "that uploads it says whose trainees they are"
            )
    else:
        vintage = vintage or "C24053"
        if vintage not in VINTAGE_CHOICES:
            raise ConfigError.naming("{vintage} must be one of {choices}", choices=", ".join(VINTAGE_CHOICES))
        if vintage == "mixed" and fmt == "hesa-csv":
            raise ConfigError.naming("{vintage} mixed needs hesa-xml: a CSV has one header row, so one layout per file")
    if defects > 0 and truth is None:
        raise ConfigError.naming(
            "{defects} needs {truth_file}: the truth file says which issues each defect causes",
            said={"truth_file": "a truth file"},
        )
    if truth is not None and truth.resolve() == output.resolve():  # one would replace the other, unsaid
        raise ConfigError.naming(
            "{truth} {truth_path} is the output file ({output} {output_path}): give the truth file a name of its own",
            truth_path=truth,
            output_path=output,
        )
    if not 2000 <= cycle <= 2100 and given_cycle:  # a library caller's: the command line's --academic-cycle is bounded
        raise ConfigError.naming(
            "{academic_cycle} {cycle} is outside 2000-2100, the cycles generate makes", cycle=cycle
        )
    if not 2000 <= cycle <= 2100:  # --academic-cycle's own range; an --as-of alone could fall outside it
        raise ConfigError.naming(
            "academic cycle {cycle} (the cycle of the as-of date {day}) is outside 2000-2100, the cycles generate "
            "makes: give a later {as_of} or an {academic_cycle}",
            cycle=cycle,
            day=as_of,
        )
    if cycle > as_of.year + 1:
        raise ConfigError(
            f"academic cycle {cycle} starts more than a year after the as-of date {as_of}: Register refuses "
            "ITT start dates more than one year in the future"
        )
    if date(cycle, 8, 1) <= years_before(as_of, 10):  # 10 years ago to the day is already too old (§3.4)
        raise ConfigError(
            f"academic cycle {cycle} started 10 years or more before the as-of date {as_of}: Register "
            "refuses trainee start dates that old"
        )
    return vintage


def _writer(fmt: str, fh: IO[str], layout: Layout, encoder: LegacyEncoder, leavers: Leavers) -> Writer:
    if fmt == "hesa-xml":
        return HesaXmlWriter(fh, encoder)
    if fmt == "hesa-csv":
        return HesaCsvWriter(fh, layout, encoder, leavers.columns)
    return RegisterCsvFileWriter(fh)


def run_kinds(ctx: Context, layouts: list[Layout], names: Sequence[str] | None) -> list[DefectKind]:
    """The defect kinds this run can make: those that fit at least one of its layouts and its cycle."""
    try:
        kinds = kinds_for(list(names) if names is not None else None)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    return [k for k in kinds if any(k.candidates(ctx, layout) for layout in layouts)]


def generate(
    output: str | Path,
    *,
    count: int,
    fmt: str = "hesa-xml",
    vintage: str | None = None,
    defects: float = 0.0,
    truth: str | Path | None = None,
    seed: int | None = None,
    academic_cycle: int | None = None,
    as_of: date | None = None,
    kinds: Sequence[str] | None = None,
    reference: ReferenceData | None = None,
    progress: Progress = SILENT,
    ukprn: str | None = None,
    withdrawn: float = 0.0,
    deferred: float = 0.0,
) -> GenerateResult:
    """Write `count` synthetic trainees to `output`; with `defects`, a share of them broken, listed in `truth`.

    Records are valid as of `as_of` (default today) for the academic cycle starting in `academic_cycle`
    (default: the cycle of `as_of`). The same arguments and seed always give the same bytes. Files are
    written owner-only (they look like personal data) and atomically. `ukprn` is the provider's (F_UKPRN; default
    drawn from the seed), so that several files can be one provider's. `withdrawn` and `deferred` are shares of the
    records without a defect, among those started by `as_of`, that leave (hesa-xml and hesa-csv: WITHDRAWAL_* and
    DEFER_* tags). An `output` whose name says another format than `fmt` is a ConfigError, and an output or truth
    file inside a folder holding a state dir's files (a sync ledger) an UnwritableOutput, before anything is written.
    """
    defects = checked_share("defects", defects)
    count, kinds = _checked_choices(count, kinds, defects)
    output = checked_folder("output", output)
    truth = None if truth is None else checked_folder("truth", truth)
    seed = None if seed is None else checked_whole("seed", seed)
    academic_cycle = None if academic_cycle is None else checked_whole("academic_cycle", academic_cycle)
    checked_kind("reference", reference, ReferenceData, "register_batch.reference.load_reference()")
    progress = checked_progress(progress)
    _check_leavers(fmt, withdrawn, deferred)
    as_of = as_of_or_today(as_of)
    cycle = academic_cycle if academic_cycle is not None else cycle_of(as_of)
    truth_path = Path(truth) if truth is not None else None
    vintage = _check_options(
        count, fmt, vintage, defects, truth_path, cycle, as_of, Path(output), ukprn, academic_cycle is not None
    )
    _check_outputs(fmt, Path(output), truth_path)
    if seed is None:
        seed = random.SystemRandom().randrange(2**32)
    reference = reference or load_reference()
    rng = random.Random(seed)
    builder = Builder(seed=seed, cycle=cycle, as_of=as_of, reference=reference, rng=rng)
    # After the draw, so the rest of the file is what the seed alone gives. An empty one is none given (checked_ukprn
    # says None), as everywhere else: the drawn UKPRN stays, rather than a file with no UKPRN at all.
    if (given := checked_ukprn(ukprn)) is not None:
        builder.provider = dataclasses.replace(builder.provider, ukprn=given)
    mapping = load_mapping()
    encoder = LegacyEncoder(mapping)
    leavers = Leavers(
        seed=seed,
        as_of=as_of,
        reference=reference,
        fields=mapping.fields["hesa"],
        withdrawn=withdrawn,
        deferred=deferred,
    )
    if fmt == "register-csv":
        layouts = [layout_for(fmt, "register-csv")]
    elif vintage == "mixed":
        layouts = [layout_for(fmt, v) for v in MIXED_ROTATION]
    else:
        layouts = [layout_for(fmt, vintage or "C24053")]
    ctx = Context(builder=builder, encoder=encoder, fmt=fmt)
    chosen = run_kinds(ctx, layouts, kinds) if defects > 0 else []
    if defects > 0 and not chosen:
        raise ConfigError("none of the requested defect kinds fits this format, layout and academic cycle")
    deck = Deck(chosen, rng)
    result = GenerateResult(
        output=Path(output),
        truth=truth_path,
        count=count,
        seed=seed,
        fmt=fmt,
        vintage=vintage,
        academic_cycle=cycle,
        as_of=as_of,
    )
    header = {
        "generator": {"name": "register-batch generate", "version": __version__},
        "output": Path(output).name,
        "seed": seed,
        "count": count,
        "format": fmt,
        "vintage": vintage,
        "as_of": as_of.isoformat(),
        "academic_cycle": cycle,
        "defect_rate": defects,
        "kinds": [k.name for k in chosen],
    }
    if leavers:  # only then, so a truth file made without them keeps its bytes
        header.update(withdrawn_rate=withdrawn, deferred_rate=deferred)
    by_kind: Counter[str] = Counter()
    task = progress.task("Generating", total=count, unit="records")
    with ExitStack() as stack:
        fh = stack.enter_context(private_writer(output, newline=""))
        truth_writer = None
        if truth_path is not None:
            truth_writer = TruthWriter(stack.enter_context(private_writer(truth_path)), header)
        writer = _writer(fmt, fh, layouts[0], encoder, leavers)
        previous: Previous | None = None
        pending: list[dict[str, Any]] = []
        for index in range(count):
            # Mixed layouts rotate; a defective record takes the next layout its defect fits.
            preference = [layouts[(index + step) % len(layouts)] for step in range(len(layouts))]
            layout = preference[0]
            ctx.index, ctx.previous = index, previous
            kind = None
            if defects > 0 and rng.random() < defects:

                def fits(
                    candidate: DefectKind, preference: list[Layout] = preference, previous: Previous | None = previous
                ) -> Layout | None:
                    if candidate.replaces_record:
                        fitting = previous is not None and candidate.applicable(ctx, previous.clean.layout)
                        return previous.clean.layout if fitting and previous is not None else None
                    return next((lay for lay in preference if candidate.applicable(ctx, lay)), None)

                drawn = deck.draw(fits)
                if drawn is not None:
                    kind, layout = drawn
            draft, clean, expects = _record(ctx, builder, kind, index, layout)
            if leavers and kind is None:  # a defect's truth stays exactly what it causes
                leavers.mark(draft)
            writer.write(draft)
            number = index + 1
            current: list[dict[str, Any]] = []
            for expect in expects:
                entry = _entry(number - 1 if expect.previous else number, expect, kind)
                (pending if expect.previous else current).append(entry)
            if truth_writer is not None:
                truth_writer.add(pending)
            pending = current
            if kind is not None:
                by_kind[kind.name] += 1
            previous = Previous(
                clean=clean,
                hesa_id=draft.data.get("hesa_id"),
                provider_trainee_id=draft.data.get("provider_trainee_id"),
                kind=kind,
                leaving=bool(draft.leaving),
            )
            if number % PROGRESS_STEP == 0:
                task.advance(PROGRESS_STEP)
        writer.close()
        if truth_writer is not None:
            truth_writer.add(pending)
            truth_writer.close(sum(by_kind.values()), by_kind)
            result.issues = truth_writer.count
    task.advance(count % PROGRESS_STEP)
    task.close()
    result.defective = sum(by_kind.values())
    result.by_kind = dict(by_kind)
    result.withdrawn, result.deferred = leavers.counts["withdrawn"], leavers.counts["deferred"]
    return result


def _record(
    ctx: Context, builder: Builder, kind: DefectKind | None, index: int, layout: Layout
) -> tuple[Draft, Draft, list[Expect]]:
    """(the draft to write, its clean form, the issues its defect must cause)."""
    if kind is None:
        clean = builder.build(index, layout, DEFAULT_PROFILE)
        return clean, clean, []
    if kind.replaces_record:
        assert ctx.previous is not None
        clean = builder.same_person(ctx.previous.clean, index)
        return clean, clean, kind.apply(ctx, clean)
    profile = ctx.rng.choice(kind.candidates(ctx, layout))
    clean = builder.build(index, layout, profile)
    draft = clean.copy()
    return draft, clean, kind.apply(ctx, draft)


def _entry(record: int, expect: Expect, kind: DefectKind | None) -> dict[str, Any]:
    return {
        "record": record,
        "field": expect.field,
        "code": expect.code,
        "severity": expect.severity,
        "kind": kind.name if kind else None,
    }
