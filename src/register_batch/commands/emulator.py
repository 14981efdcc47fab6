"""`register-batch emulator`: run the local Register API in the foreground until Ctrl-C."""

from __future__ import annotations

import math
import signal
import sys
import threading
import time
from datetime import date
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from register_batch.commands.common import (
    CONTEXT,
    Failure,
    HelpCommand,
    OutputFile,
    State,
    as_of_option,
    echo,
    pass_state,
)
from register_batch.wording import printable

if TYPE_CHECKING:  # the emulator's modules are imported when the command runs, not by every CLI start
    from register_batch.emulator.faults import FaultSpec


def _rate_limit(_ctx: click.Context, _param: click.Parameter, value: str) -> tuple[int, float] | None:
    from register_batch.emulator.ratelimit import parse_rate_limit

    try:
        return parse_rate_limit(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _faults(_ctx: click.Context, _param: click.Parameter, value: str | None) -> FaultSpec:
    from register_batch.emulator.faults import parse_faults

    try:
        return parse_faults(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _finite(_ctx: click.Context, param: click.Parameter, value: float) -> float:
    """A duration: FloatRange lets `inf` and `nan` through, and an `inf` wait fails every request with a traceback."""
    if not math.isfinite(value):
        unit = "milliseconds" if param.name == "latency_ms" else "seconds"
        raise click.BadParameter(f"{value:g} is not a finite number of {unit}")
    return value


def _say_draining(in_flight: int) -> None:
    """On the first Ctrl-C, while the stop waits for the requests in flight (up to DRAIN_SECONDS): what it waits for
    and how not to, so that the person who pressed it does not take the wait for a hang (with -q too; on stderr, as
    the line said if they are dropped). Not on SIGTERM or SIGHUP: a supervisor's or a closed terminal's, no one to
    press Ctrl-C again."""
    from register_batch.emulator.server import DRAIN_SECONDS

    them = "them" if in_flight != 1 else "it"
    echo(
        f"Stopping: finishing {in_flight} request{'s' * (in_flight != 1)} in flight (up to {DRAIN_SECONDS:g} s); "
        f"press Ctrl-C again to drop {them}.",
        err=True,
    )


@click.command(cls=HelpCommand, context_settings=CONTEXT)
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on. Loopback by default; any other address is reachable by others (warned).",
)
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535), help="0 picks a free port.")
@click.option(
    "--db",
    type=OutputFile(),
    default=None,
    help="SQLite file that keeps the state across restarts (default: in memory).",
)
@click.option(
    "--token",
    "tokens",
    multiple=True,
    metavar="TOKEN",
    help="Accept this API token; each token is its own provider. Repeat for several. Default: one generated token.",
)
@click.option(
    "--ukprn",
    "ukprns",
    multiple=True,
    metavar="UKPRN",
    help="The UKPRN of the first --token's provider; repeat for the next tokens' (default: a stable fake one each).",
)
@click.option(
    "--rate-limit",
    default="100/60",
    show_default=True,
    callback=_rate_limit,
    metavar="N/SECONDS",
    help="Requests per client IP per fixed, epoch-aligned window of SECONDS, as Register's; N alone is N a minute, "
    "and 0 switches it off.",
)
@click.option(
    "--faults",
    default=None,
    callback=_faults,
    metavar="SPEC",
    help="Inject faults into /api replies, as KIND:PROBABILITY,... (one draw per request): 500 and reset (the "
    "request not carried out), timeout (carried out after --fault-hold seconds), lost-response (a write carried "
    'out, its reply lost). E.g. "500:0.05,reset:0.03,timeout:0.02,lost-response:0.05".',
)
@click.option("--seed", type=int, default=None, help="Seed for the fault draws (reproducible runs).")
@click.option(
    "--latency-ms",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    callback=_finite,
    help="Added to each reply.",
)
@click.option(
    "--fault-hold",
    type=click.FloatRange(min=0),
    callback=_finite,
    default=30.0,
    show_default=True,
    metavar="SECONDS",
    help="How long a `timeout` fault holds the reply.",
)
@click.option(
    "--trn-delay",
    type=click.FloatRange(min=0),
    callback=_finite,
    default=0.0,
    show_default=True,
    metavar="SECONDS",
    help="How long after submission a trainee's TRN arrives (state trn_received).",
)
@click.option(
    "--reference-data",
    "reference_data",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="FILE",
    help="Serve and judge with these code lists instead of the bundled ones: a file as `register-batch reference "
    "pull` saves it (reference-data.json in a state dir), edited to rehearse a change Register makes to its lists.",
)
@click.option(
    "--test-hooks/--no-test-hooks",
    "test_hooks",
    default=None,
    help="Answer the /__emulator__ test hooks, which take no token (default: on at a loopback --host, off at any "
    "other, where anyone who can reach the port could reset or change its trainees).",
)
@as_of_option
@pass_state
def emulator(
    state: State,
    host: str,
    port: int,
    db: Path | None,
    tokens: tuple[str, ...],
    ukprns: tuple[str, ...],
    rate_limit: tuple[int, float] | None,
    faults: FaultSpec,
    seed: int | None,
    latency_ms: float,
    fault_hold: float,
    trn_delay: float,
    reference_data: Path | None,
    test_hooks: bool | None,
    as_of: date | None,
) -> None:
    """Run a local Register API v2026.1 (the emulator) for rehearsals and tests; stop it with Ctrl-C.

    It answers like Register: the same routes, validation messages, 409 duplicates, state rules, pagination
    and rate limit, with each --token its own provider. Nothing leaves this machine. It knows no schools or
    training partners (any well-formed URN or UKPRN is taken), makes up TRNs (--trn-delay), and has one token
    per provider, so a token rotation cannot be rehearsed on it.

    To rehearse a sync against it, give its address and token as for Register, your provider's UKPRN to both, and
    the sync a state dir of its own:

    \b
      register-batch emulator --token TOKEN --ukprn UKPRN --db rehearsal.sqlite3
      REGISTER_API_TOKEN=TOKEN register-batch sync FILE \\
          --target http://127.0.0.1:8787 --ukprn UKPRN \\
          --state-dir state/emulator

    Without --db it forgets every trainee when it stops, and a later sync with that state dir is refused (with
    fewer than three trainees synced, each record is a conflict instead): keep its trainees with --db (and the same
    --token each time), or give the sync a new --state-dir. (sync and export with
    no target run an emulator of their own, which keeps its data in their state dir.)

    With --reference-data it serves the code lists of that file (a `reference pull` file, edited: a code removed,
    added or relabelled) in place of the bundled ones, so that a change Register makes to its lists in the middle
    of a year can be rehearsed.

    Test hooks, with no token: GET /__emulator__/stats (request counts), POST /__emulator__/reset (forget every
    trainee), POST /__emulator__/trainees/ID/discard (delete a trainee as Register's service does), POST
    /__emulator__/trainees/ID/award (award a trainee recommended for award, as DfE does: the end of the year). Off
    when it listens beyond loopback (--host 0.0.0.0) unless --test-hooks is given; --no-test-hooks turns them off
    anywhere.
    """
    from register_batch.emulator.server import Emulator, PortInUse, is_loopback
    from register_batch.emulator.store import UkprnTaken
    from register_batch.validation.providers import checked_ukprn

    if not host.strip():  # an unset variable in a script, most likely: it would listen on every address
        raise Failure(
            "error: --host is empty: give the address to listen on (the default is 127.0.0.1, this machine only)", 2
        )
    if len(ukprns) > len(tokens):
        raise click.UsageError("each --ukprn is the UKPRN of a --token's provider: give the tokens too")
    reference = None
    if reference_data is not None:
        from register_batch.errors import ConfigError
        from register_batch.model import API_VERSION
        from register_batch.reference import PULLED_ADVICE, load_reference

        try:
            reference = load_reference(API_VERSION, reference_data)
        except ConfigError as exc:  # not there, unreadable, or not reference data: one line, exit 2
            # The file is the user's own choice, not a state dir's: give another, or serve the bundled lists.
            said = str(exc).replace(
                PULLED_ADVICE,
                "give a file `register-batch reference pull` saved, or leave --reference-data out to serve the "
                "bundled lists",
            )
            raise Failure(f"error: --reference-data: {said}", 2) from None
    try:
        server = Emulator(
            host=host,
            port=port,
            db=db,
            tokens=tokens,
            ukprns=dict(zip(tokens, (checked_ukprn(u) for u in ukprns), strict=False)),
            rate_limit=rate_limit,
            faults=faults,
            seed=seed,
            latency_ms=latency_ms,
            fault_hold=fault_hold,
            trn_delay=trn_delay,
            as_of=as_of,
            reference=reference,
            allow_remote=True,  # warned below, by the address it listens on
        )
    except UkprnTaken as exc:  # a --ukprn the database (or this command) already gives another token's provider
        where = ["given to an earlier --token"] if len(tokens) > 1 else []
        if db:
            where.append(f"held in {printable(str(db))} for a token of an earlier run")
        raise click.UsageError(
            f"{exc} ({' or '.join(where)}): the emulator has one token per provider, so a token rotation cannot be "
            "rehearsed with it. Give that provider's token, or another --ukprn" + (" or --db" if db else "")
        ) from None
    except ValueError as exc:  # a token that cannot be one, and the like
        raise click.UsageError(str(exc)) from None
    except PortInUse as exc:  # said as the line below says another address problem, by the command's options
        raise Failure(f"error: {exc.worded({'port': '--port', 'free_port': '--port 0'})}", 2) from None
    except OSError as exc:
        # The address is taken or not this machine's: a usage or configuration problem (exit 2), worded as every
        # other command's error line (review59 F10: it began "Error:", missed by a filter on "register-batch: error:").
        raise Failure(f"error: cannot listen on {host}:{port}: {exc.strerror or exc}", 2) from None
    # Asking for it by --host is explicit enough; say loudly what it means, with the port `0` picked. Told by the
    # address bound, which the host resolved to (`127.1` is 127.0.0.1: review162).
    # The test hooks take no token: beyond loopback, anyone who can reach the port could reset the --db (often a
    # copy of real trainees) or discard and award trainees. Off there unless asked for (review226 F4); decided by the
    # address bound, as the warning is, before it serves.
    loopback = is_loopback(server.host)
    server.hooks = loopback if test_hooks is None else test_hooks
    if not loopback:
        hooks = (
            ", and its /__emulator__ test hooks with no token at all (reset, discard, award: --no-test-hooks turns "
            "them off)."
            if server.hooks
            else ". Its /__emulator__ test hooks, which need no token, are off (--test-hooks turns them on)."
        )
        echo(
            f"WARNING: --host {host} is not a loopback address: anyone who can reach this machine on port "
            f"{server.port} can use the emulator and its tokens{hooks}",
            err=True,
        )
    if server.generated_tokens:
        accepted = "token: " + ", ".join(server.generated_tokens)
    else:
        accepted = f"{len(tokens)} token{'s' if len(tokens) != 1 else ''} given with --token"
    limit = f"{rate_limit[0]}/{rate_limit[1]:g}s" if rate_limit else "off"
    # A flag, not a threading.Event: the handler runs in the main thread between two of its bytecodes, and may land
    # while that thread holds the Event's lock (inside `wait`), which `set` would then wait for for ever.
    stopping = False
    interrupted = False  # the first stop signal was a Ctrl-C: someone at the terminal waits for it to stop

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping, interrupted
        if not stopping:
            stopping = True
            interrupted = signum == signal.SIGINT
        elif signum != getattr(signal, "SIGHUP", None):  # as a sync's: a second hang-up is no one's impatience
            # The stop waits up to DRAIN_SECONDS for the requests in flight (a client stalled in its body): cut short.
            server.drop_in_flight()

    # Handle the stop signals before saying where it listens: a supervisor (or a person at the terminal) may stop it
    # as soon as it reads that line, and a Ctrl-C then was the command's "interrupted", exit 3. One ignored stays so.
    previous = {
        signum: signal.signal(signum, on_signal)
        for signum in (signal.SIGTERM, signal.SIGINT, getattr(signal, "SIGHUP", None))  # Windows has no SIGHUP
        if signum is not None and signal.getsignal(signum) is not signal.SIG_IGN
    }
    # Serving before the line, not in the `try` (a `server.stop()` before it serves returns at once all the same).
    threading.Thread(target=server.serve_forever, name="emulator", daemon=True).start()
    try:
        echo(f"Register API emulator listening on {server.api_url} ({accepted}; rate limit {limit})")
        if reference is not None:
            state.say(f"Serving the code lists of {printable(str(reference_data))}, not the bundled ones")
        if faults:
            state.say(f"Injecting faults: {faults}" + (f" (seed {seed})" if seed is not None else ""))
        sys.stdout.flush()
        while not stopping:
            time.sleep(0.1)  # a signal's handler runs at once; the sleep then ends within 0.1 s
        # Stopped, and said so, before the handlers go back: a second Ctrl-C or SIGTERM while the server stops is not
        # the commands' "interrupted", exit 3, without "Emulator stopped." (review122 F2), but when it cuts short the
        # wait (up to DRAIN_SECONDS) for requests in flight, which are dropped unanswered. After it, the command line
        # ignores them (cli.main) as it exits. Requests dropped are said, and exit 3, whether a second signal cut the
        # wait short or the wait ran out: a client's stalled upload was otherwise dropped without a word (review159 F3).
        dropped = server.stop(draining=_say_draining if interrupted else None)
        if dropped:
            raise Failure(
                f"interrupted: the emulator stopped without answering {dropped} request{'s' if dropped != 1 else ''} "
                "in flight",
                3,
            )
        state.say("Emulator stopped.")
    finally:
        server.stop()  # (once: a second call returns once the first is over)
        for signum, handler in previous.items():
            signal.signal(signum, handler)
