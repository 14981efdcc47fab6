"""Typed errors for Register API answers (register-api.md §7), keeping the server's own messages.

No error text ever includes request headers, so the API token cannot leak through an exception.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from register_batch.errors import ConfigError, RegisterBatchError, RegisterUnavailable, literal
from register_batch.wording import printable

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
        # The host's name was not found, and it never answered: a mistyped target or proxy, or no network/DNS.
        self.name_unknown = name_unknown
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
    UNAVAILABLE, `nothing_done` saying what was left as it was: RegisterUnavailable, exit 3 in every command
    (review236 F1). Only an outage says to run again later: a blocked machine (403, §1.3) meets the same refusal then,
    and is worded "Register refused (...)" as it is part-way through a sync (review103 F4). A proxy refusing for its
    settings (407, 403) is a setting to fix, exit 2 (review103 F5), as is a TLS handshake refused (review125 F5), and a
    host name not found (the client looks it up twice, as waiting does not mend it: a mistyped target or proxy, or
    this machine's DNS; a resolver's temporary failure is retried as an outage, as is a name not found once the host
    has answered: `name_unknown` is not set then, review238 F1)."""
    if isinstance(error, Forbidden):
        # Its template kept: the command line says whose run the machine was refused in (review183 F1).
        refused = RegisterUnavailable(f"Register refused ({error}); {nothing_done}.")
        if error.template is not None:
            refused.template = f"Register refused ({error.template}); {literal(nothing_done)}."
            refused.said = error.said
        return refused
    if (
        isinstance(error, TlsRefused)
        or (isinstance(error, ProxyRefused) and error.setting)
        or (isinstance(error, TransportError) and error.name_unknown)
    ):
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


# The longest copy of an error body none of whose texts `messages_of` reads (`body_copy`): enough to see what it says,
# one line in a report or on a terminal.
BODY_COPY_MOST = 200
# Where a text is in a shape other services answer with (review163 F3): RFC 9457 problem+json's `detail` (what went
# wrong with this request) before its `title` (the kind of problem, often the status phrase); JSON:API's error objects
# hold the same two; a gateway's (Azure's, Google's) nested `error` object holds a `message`.
_TEXT_KEYS = ("message", "detail", "title")


def messages_of(body: Any) -> list[str]:
    """Flatten every error body shape of §7.1 to a list of messages, and the texts of shapes Register does not answer
    with but a gateway or framework in front of it may (review163 F3): `errors` as one text or holding lists of
    texts, problem+json's `detail` or `title`, an `error` object's `message`. None found: [] (`body_copy`)."""
    if isinstance(body, str):
        return [body.strip()] if body.strip() else []
    if not isinstance(body, dict):
        return []
    found: list[str] = []
    error = body.get("error")
    if isinstance(error, str):
        found.append(error)
    elif isinstance(error, dict) and (text := _text_in(error)):
        found.append(text)
    errors = body.get("errors")
    if isinstance(errors, str) and errors.strip():
        found.append(errors)
    elif isinstance(errors, list):
        for item in errors:
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, dict):
                found.append(str(_text_in(item) or item.get("message") or item.get("error") or item))
            elif isinstance(item, list) and (words := _texts_within(item)):
                found.append(" ".join(words))  # ["last_name", "is too long"]
    elif isinstance(errors, dict):
        found.extend(_flatten(errors, ""))
    if not found and (text := _text_in(body)):
        found.append(text)
    return found


def _text_in(item: dict[str, Any]) -> str | None:
    """The first of an error object's `message`, `detail` or `title` that is a text with something in it."""
    for key in _TEXT_KEYS:
        value = item.get(key)
        if isinstance(value, str) and value.strip():
            return value
    return None


def _texts_within(items: list[Any]) -> list[str]:
    """The texts in a list and the lists within it, in order; a few levels only (no error list of anyone's goes
    deeper), so that an answer nested hundreds deep is not walked."""
    texts: list[str] = []
    for item in items:
        if isinstance(item, str) and item.strip():
            texts.append(item.strip())
        elif isinstance(item, list):
            texts.extend(text for inner in item if isinstance(inner, str) and (text := inner.strip()))
    return texts


def body_copy(body: Any) -> str | None:
    """A JSON error body none of whose texts `messages_of` reads, as one short line: a gateway's or framework's own
    shape, which says more than the status phrase alone (review163 F3). Compact JSON, cut to BODY_COPY_MOST
    characters, with every control character, line separator or direction override written as its escape
    (`printable`): it goes to a terminal, a log line, issues.csv and the ledger. The token was masked in the body
    before it is cut (`RegisterClient._call`), so no part of it is left at the cut. None for no body, or an empty
    one."""
    if body is None or body == "" or (isinstance(body, dict | list) and not body):
        return None
    try:
        text = printable(json.dumps(body, ensure_ascii=False))
    except (ValueError, RecursionError):  # nested deeper than it can be written: not worth a copy
        return None
    return text if len(text) <= BODY_COPY_MOST else f"{text[: BODY_COPY_MOST - 1]}…"


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
