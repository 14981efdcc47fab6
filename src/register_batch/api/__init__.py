"""The Register API: an httpx client with pacing, safe retries and typed errors."""

from register_batch.api.client import TARGETS, RegisterClient, RequestCounts, RequestStats, Secret, resolve_target
from register_batch.api.errors import (
    UNAVAILABLE,
    ApiError,
    BadRequest,
    ClientInUse,
    Conflict,
    Forbidden,
    InsecureTarget,
    NotFound,
    OutcomeUnknown,
    ProxyRefused,
    RateLimited,
    ServerError,
    TlsRefused,
    TransportError,
    Unauthorized,
    Unprocessable,
)
from register_batch.api.limiter import RateLimiter, StoppedWaiting

__all__ = [
    "TARGETS",
    "UNAVAILABLE",
    "ApiError",
    "BadRequest",
    "ClientInUse",
    "Conflict",
    "Forbidden",
    "InsecureTarget",
    "NotFound",
    "OutcomeUnknown",
    "ProxyRefused",
    "RateLimited",
    "RateLimiter",
    "RegisterClient",
    "RequestCounts",
    "RequestStats",
    "Secret",
    "ServerError",
    "StoppedWaiting",
    "TlsRefused",
    "TransportError",
    "Unauthorized",
    "Unprocessable",
    "resolve_target",
]
