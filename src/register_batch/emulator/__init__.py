"""A local Register API v2026.1: the project's HTTP test double and a rehearsal target for migrations.

    from register_batch.emulator import start_emulator

    with start_emulator(tokens=("my-test-token",)) as emulator:
        httpx.get(f"{emulator.api_url}/info", headers={"Authorization": "Bearer my-test-token"})

See docs/emulator.md for what it emulates faithfully and what it does not.
"""

from register_batch.emulator.app import RegisterApp, Request, Response, resolve
from register_batch.emulator.faults import FAULT_KINDS, FaultSpec, parse_faults
from register_batch.emulator.ratelimit import DEFAULT_RATE_LIMIT, parse_rate_limit
from register_batch.emulator.server import Emulator, PortInUse, start_emulator
from register_batch.emulator.store import Store

__all__ = [
    "DEFAULT_RATE_LIMIT",
    "FAULT_KINDS",
    "Emulator",
    "FaultSpec",
    "PortInUse",
    "RegisterApp",
    "Request",
    "Response",
    "Store",
    "parse_faults",
    "parse_rate_limit",
    "resolve",
    "start_emulator",
]
