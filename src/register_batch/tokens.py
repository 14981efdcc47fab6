"""What an API token can be: shared by the client, which sends one, and the emulator, which accepts them.

A module of its own so that the emulator, which never sends a request, does not import the HTTP client."""

from __future__ import annotations

import re

BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token: what a Bearer token can be (§1.2)


def is_bearer_token(value: str) -> bool:
    """Whether `value` can be sent as `Authorization: Bearer <value>` (a space, quote or line break cannot)."""
    return BEARER_TOKEN.fullmatch(value) is not None
