"""Fault injection for client tests: `500:0.05,reset:0.03,timeout:0.02,lost-response:0.05`.

One draw from a seeded `random.Random` per `/api` request that passed the rate limit decides its fate:

* `500`: answered `{"error":"Internal server error"}` without doing anything (Rails rolls the request back);
* `reset`: the connection is closed with a TCP RST before the request is carried out;
* `timeout`: the reply is held for the hold time (default 30 s, longer than a client's timeout), then the request
  is carried out and answered; a client that gave up meanwhile cannot know whether it was done. A test can end the
  hold early (`Emulator.carry_out_held()`); an emulator stopped meanwhile drops the request, never carrying it out;
* `lost-response`: a write that succeeded is committed, then the connection is closed without a reply. Drawn for a
  read or for a write that failed, it does nothing (the request is answered normally).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass

FAULT_KINDS = ("500", "reset", "timeout", "lost-response")
DEFAULT_HOLD_SECONDS = 30.0


@dataclass(frozen=True)
class FaultSpec:
    """Probabilities per fault kind, in the order given."""

    rates: tuple[tuple[str, float], ...] = ()

    def __bool__(self) -> bool:
        return any(rate > 0 for _kind, rate in self.rates)

    def __str__(self) -> str:
        return ",".join(f"{kind}:{rate:g}" for kind, rate in self.rates)


def parse_faults(text: str | None) -> FaultSpec:
    """Parse `KIND:PROBABILITY,...`; probabilities are 0..1 and add up to at most 1."""
    if text is None or not str(text).strip():
        return FaultSpec()
    rates: dict[str, float] = {}
    for part in str(text).split(","):
        kind, sep, rate_text = part.strip().partition(":")
        kind = kind.strip().lower()
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r} in {text!r}; known: {', '.join(FAULT_KINDS)}")
        try:
            rate = float(rate_text) if sep else 1.0
        except ValueError:
            raise ValueError(f"fault {part.strip()!r}: the probability must be a number from 0 to 1") from None
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault {part.strip()!r}: the probability must be from 0 to 1")
        if kind in rates:  # the later one silently won: a typo'd mix would test something else than meant
            raise ValueError(f"fault {kind!r} is given twice in {text!r}; give each kind once")
        rates[kind] = rate
    if sum(rates.values()) > 1.0 + 1e-9:
        raise ValueError(f"fault probabilities in {text!r} add up to more than 1")
    return FaultSpec(tuple(rates.items()))


class FaultInjector:
    """Decides, request by request, which fault (if any) to inject; reproducible with a seed."""

    def __init__(self, spec: FaultSpec | str | None = None, seed: int | None = None):
        self._lock = threading.Lock()
        self.configure(spec, seed)

    def configure(self, spec: FaultSpec | str | None, seed: int | None = None) -> None:
        """Replace the fault mix (and restart the random sequence)."""
        parsed = spec if isinstance(spec, FaultSpec) else parse_faults(spec)
        with self._lock:
            self.spec = parsed
            self.seed = seed
            self._random = random.Random(seed)

    def draw(self) -> str | None:
        """The fault for the next request, or None."""
        with self._lock:
            if not self.spec:
                return None
            point = self._random.random()
            edge = 0.0
            for kind, rate in self.spec.rates:
                edge += rate
                if point < edge:
                    return kind
            return None
