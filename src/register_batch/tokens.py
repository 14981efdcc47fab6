"""What an API token can be: shared by the client, which sends one, and the emulator, which accepts them.

A module of its own so that the emulator, which never sends a request, does not import the HTTP client."""

from __future__ import annotations

import re

BEARER_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 b64token: what a Bearer token can be (§1.2)


def is_bearer_token(value: str) -> bool:
    """Whether `value` can be sent as `Authorization: Bearer <value>` (a space, quote or line break cannot)."""
    return BEARER_TOKEN.fullmatch(value) is not None


def looks_like_token(value: str) -> bool:
    """Whether a value given as something else (a target) may be an API token pasted in the wrong place, and so must
    not be shown: a long run of a Bearer token's characters with no dot, so no host name (Register's tokens are
    `sandbox_` or the like and 64 hex digits)."""
    return len(value) >= 32 and "." not in value and is_bearer_token(value)


TOKEN_AS_TARGET = (  # {token_goes}: where a token goes, as the library says it (RegisterBatchError.naming)
    "the target looks like an API token ({length} characters; not shown): a token goes {token_goes}, and the target "
    "is sandbox, production or the service's URL"
)
