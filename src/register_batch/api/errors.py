"""Typed errors for Register API answers (register-api.md §7), keeping the server's own messages.

No error text ever includes request headers, so the API token cannot leak through an exception.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from register_batch.errors import ConfigError, RegisterBatchError, RegisterUnavailable

if TYPE_CHECKING:
    from register_batch.sync.runner import SyncResult


class ApiError(RegisterBatchError):
    """An answer other than success. `messages` are the server's error texts."""

    exit_code = 1
    status: int | None = None

    def __init__(self, method: str, path: str, status: int | None, messages: list[str], body: Any = None):
        self.method = method
        self.path = path
        self.status = status
        self.messages = messages
        self.body = body
        shown = "; ".join(messages[:5]) + (f" (and {len(messages) - 5} more)" if len(messages) > 5 else "")
        super().__init__(f"{method} {path} -> {status}: {shown}" if status else f"{method} {path}: {shown}")


class BadRequest(ApiError):
    """400: the body was not valid JSON (§1.5)."""


class Unauthorized(ApiError):
    """401: the token was refused. A run stops at the first one (exit 2). Refused part-way through a sync (a token
    revoked or expired mid-run), its message goes on to say what the run did and where its report is, and `result`
    is the run's `SyncResult` up to then, as `Interrupted`'s is."""

    exit_code = 2
    result: SyncResult | None = None


class NotFound(ApiError):
    """404: not found, or another provider's trainee (§1.2)."""


class Conflict(ApiError):
    """409: Register already holds this trainee (or degree); `existing` are the matching records (§4)."""

    @property
    def existing(self) -> list[dict[str, Any]]:
        data = self.body.get("data") if isinstance(self.body, dict) else None
        return [d for d in data or [] if isinstance(d, dict)]


class Unprocessable(ApiError):
    """422: validation failed, or the trainee's state does not allow the action (§6)."""

    @property
    def state_transition(self) -> bool:
        errors = self.body.get("errors") if isinstance(self.body, dict) else None
        return isinstance(errors, list) and any(
            isinstance(e, dict) and e.get("error") == "StateTransitionError" for e in errors
        )


class RateLimited(ApiError):
    """429: the per-IP window is spent; `retry_after` seconds until it resets (§1.3)."""

    def __init__(self, method: str, path: str, retry_after: float):
        self.retry_after = retry_after
        super().__init__(method, path, 429, [f"Retry later (Retry-After {retry_after:g} s)"])


class Forbidden(ApiError):
    """403: Register's rack-attack blocklist refused this machine, by its IP address or User-Agent (§1.3), before the
    request reached the service: nothing was done, and every request from here will be refused the same way."""


class ServerError(ApiError):
    """5xx: the service failed. For a create the outcome is unknown. `retry_after`: the seconds a 502, 503 or 504
    asked the client to wait (its Retry-After, bounded), which it waited before its next request."""

    retry_after: float | None = None


class TransportError(ApiError):
    """No HTTP answer: connection refused, reset, timed out or the reply was lost.

    `sent` is False only when the request certainly never reached the server (connection refused or
    not established): only then may a create be retried blindly.
    """

    def __init__(self, method: str, path: str, problem: str, *, sent: bool, name_unknown: bool = False):
        self.sent = sent
        self.name_unknown = name_unknown  # the host's name was not found: a mistyped target, or no network/DNS
        super().__init__(method, path, None, [problem])


class ProxyRefused(TransportError):
    """The proxy the environment names (HTTPS_PROXY, ALL_PROXY) refused to open the tunnel to Register: its answer to
    CONNECT was not 2xx (or a SOCKS proxy's refusal). Nothing reached Register, so `sent` is False (design.md "Sync
    semantics": a connect error; review103 F5). `proxy_status` is the proxy's status (None for a SOCKS proxy's);
    `setting` says whether a setting must change (407 credentials, 403 policy: no retry mends it), not a proxy that
    could not reach Register (5xx), which is tried again as any connection not made."""

    def __init__(self, method: str, path: str, problem: str, *, proxy_status: int | None, setting: bool):
        self.proxy_status = proxy_status
        self.setting = setting
        super().__init__(method, path, problem, sent=False)


class TlsRefused(TransportError):
    """The https:// connection failed in its TLS handshake for a reason no retry mends (review125 F5): the server's
    certificate did not verify (a proxy that inspects TLS with a CA this machine does not hold, a self-signed
    certificate, another host's name), or the server did not answer TLS at all (https:// to a plain-HTTP port).
    Nothing was sent (no request, no token); a setting or the target is to change: exit 2, not an outage."""

    def __init__(self, method: str, path: str, problem: str):
        super().__init__(method, path, problem, sent=False)


# Register did not take the request, after every retry the client makes: a 5xx, no answer, still 429, or this machine
# blocked (403). Nothing is wrong with what was sent; a run stops (and resumes later) rather than blaming the record,
# or sending every other record to the same refusal.
UNAVAILABLE: tuple[type[ApiError], ...] = (ServerError, TransportError, RateLimited, Forbidden)


def first_request_failed(error: ApiError, nothing_done: str) -> RegisterBatchError:
    """The error ending a command whose first requests (sync's listing, an export, `reference pull`) met one of
    UNAVAILABLE, `nothing_done` saying what was left as it was. Only an outage says to run again later: a blocked
    machine (403, §1.3) meets the same refusal then, and is worded "Register refused (...)" as it is part-way through a
    sync (review103 F4); a proxy refusing for its settings (407, 403) is a setting to fix, exit 2 (review103 F5), as
    is a TLS handshake refused (review125 F5)."""
    if isinstance(error, Forbidden):
        return RegisterUnavailable(f"Register refused ({error}); {nothing_done}.")
    if isinstance(error, TlsRefused) or (isinstance(error, ProxyRefused) and error.setting):
        return ConfigError(f"{error}; {nothing_done}")
    if isinstance(error, ProxyRefused):
        return RegisterUnavailable(f"Register could not be reached ({error}); {nothing_done}. Run again later.")
    return RegisterUnavailable(f"Register was unavailable ({error}); {nothing_done}. Run again later.")


class OutcomeUnknown(ApiError):
    """A write whose result is unknown (timeout, reset, lost reply, 5xx): resolve it, never resend blindly. `cause` is
    the client's error for the write's last try where Register did not answer it (a ServerError: a 5xx, or an answer
    not Register's; a TransportError: no answer): a sync stops once creates in a row go so (review163 F1)."""

    cause: ServerError | TransportError | None = None

    @classmethod
    def of(cls, error: ServerError | TransportError) -> OutcomeUnknown:
        """The unknown outcome of a write `error` ended."""
        unknown = cls(error.method, error.path, error.status, error.messages, error.body)
        unknown.cause = error
        return unknown


class InsecureTarget(ConfigError):
    """A target that cannot be used: not a URL, sandbox or production, or one the token would travel to over plain
    HTTP on another machine."""


class ClientInUse(ConfigError):
    """A RegisterClient lent to a sync run (`sync_files(client=)`) given to a second run, or a request of another
    thread's, while that run is going on: a run's figures are the client's counts since it began, its stop is the
    client's, and a listing pages by the client's last answer, so whatever else it sent would be taken for the run's.
    Raised before anything is sent."""


def messages_of(body: Any) -> list[str]:
    """Flatten every error body shape of §7.1 to a list of messages."""
    if isinstance(body, str):
        return [body.strip()] if body.strip() else []
    if not isinstance(body, dict):
        return []
    found: list[str] = []
    if isinstance(body.get("error"), str):
        found.append(body["error"])
    errors = body.get("errors")
    if isinstance(errors, list):
        for item in errors:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict):
                found.append(str(item.get("message") or item.get("error") or item))
    elif isinstance(errors, dict):
        found.extend(_flatten(errors, ""))
    if not found and isinstance(body.get("message"), str):
        found.append(body["message"])
    return found


def _flatten(errors: dict[str, Any], prefix: str) -> list[str]:
    out: list[str] = []
    for key, value in errors.items():
        label = f"{prefix}{key}"
        if isinstance(value, dict):
            out.extend(_flatten(value, f"{label} "))
        elif isinstance(value, list):
            out.extend(f"{label} {v}" for v in value)
        else:
            out.append(f"{label} {value}")
    return out
