"""An HTTP client for the Register API v2026.1 (register-api.md §1-§2, §10).

Every request goes through one rate limiter, has a timeout, verifies TLS, and is counted per route. The token
goes only to https:// hosts, or to this machine over plain http:// (the emulator) and then never through a
proxy from the environment; redirects are not followed. Towards a real service the rate budget is shared
with every other register-batch process of this user sending to the same host (api/limiter.py).
Retries follow what is safe: GET, PUT, PATCH and DELETE are retried on 429, 5xx and network errors with
backoff; a POST is retried only when it surely was not processed (429, or no connection made). Any other
failure of a POST raises `OutcomeUnknown` so the caller resolves it instead of resending blindly. A request whose
whole answer has not come by its deadline (`deadline`) has timed out, however steadily its bytes came.
"""

from __future__ import annotations

import contextlib
import email.utils
import ipaddress
import itertools
import json
import logging
import math
import os
import re
import socket
import ssl
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from typing import Any, TypedDict, cast
from urllib.parse import urlsplit

import httpcore
import httpx
import stamina

from register_batch.api.errors import (
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
    body_copy,
    messages_of,
)
from register_batch.api.limiter import (
    LONGEST_PAUSE,
    LONGEST_UNAVAILABLE_PAUSE,
    REGISTER_WINDOW,
    THROTTLED,
    RateLimiter,
    rate_dir_given,
    shared_budget_file,
)
from register_batch.arguments import checked_per_page, checked_target, checked_timeout
from register_batch.config import one_spelling, without_api_path
from register_batch.constants import PER_PAGE_MOST, TARGETS
from register_batch.errors import ConfigError
from register_batch.model import API_VERSION, as_sent
from register_batch.proxy_credentials import proxy_credentials
from register_batch.tokens import (
    MASKED_FROM,
    TOKEN_AS_TARGET,
    bad_token,
    credentials_done,
    credentials_in_use,
    is_bearer_token,
    looks_like_token,
    masked_token,
    quotes_token,
    shown_value,
    token_done,
    token_in_use,
    without_query,
)
from register_batch.wording import printable

log = logging.getLogger("register_batch.api")
# stamina logs each retry it schedules (a bare "stamina.retry_scheduled", the reason left out) at WARNING. The client
# logs each of its retries itself, with its reason (or a progress shows the wait), so where logging is set up
# stamina's record of the same retry said each twice, and where it is not, Python's last-resort handler wrote it to
# stderr, the one thing this library printed unasked. That record is dropped (`_RetriesSaidOnce`), while the retries
# of a caller's own use of stamina are logged as before: the "stamina" logger's handlers, level and propagation stay
# the caller's. stamina's hooks are process-wide, with no setting for one call.
_retrying = threading.local()  # `depth`: the client's own retries under way in this thread


class _RetriesSaidOnce(logging.Filter):
    """Drop stamina's record of a retry the client schedules (stamina logs it in the thread that retries, before it
    waits): the client has said it already."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (getattr(_retrying, "depth", 0) and record.msg == "stamina.retry_scheduled")


logging.getLogger("stamina").addFilter(_RetriesSaidOnce())
# Each retry and throttled wait, with its reason: a transient that the run rides out, so `-q` leaves it out.
retries_log = logging.getLogger("register_batch.api.retries")

USER_AGENT = "register-batch"
# A request through a client once closed (a caller's, given to sync_files or export_trainees).
CLOSED = (
    "this RegisterClient is closed (its close() was called, or its `with` block has ended): give an open one; "
    "nothing was sent"
)
# The longest answer read: Register's longest, a listing page of 5000 trainees (--per-page's most) of a few KB each,
# is some 15 MB. Past it, an answer is a gzip bomb or a body that never ends, and is read no further.
ANSWER_LIMIT = 64 << 20
NO_TRAINEES = "No trainees found"  # the 404 of an empty listing page (§2.3), and only it
TOKEN_REFUSED = (
    "Register refused the API token: give an active token of this service (sandbox and production tokens differ; a "
    "revoked or expired one is refused)"
)
BLOCKED_MACHINE = "Register refused this machine (its IP address or User-Agent is blocked)"
BLOCKED = f"{BLOCKED_MACHINE}, so nothing was done: ask DfE's Register support why"
# A version Register does not serve falls to its catch-all, which still asks for a token (401 without one, else 404 `Not
# found`, §1.1, §8.4): Register's own reference data needs none in v2026.1 (§2.2), so a 401 to it, or a listing's
# 404 `Not found`, is another service, or a Register that no longer serves the one version register-batch speaks.
# Said as what the user can do: api_version takes no other value (review138 F2).
NOT_SERVED = (
    "does not serve the Register API {version}, the only version this register-batch speaks: check the target, or "
    "upgrade register-batch"
)
NO_TOKEN_NEEDED = "sent without a token, as Register needs none for it: the target is not Register, or " + NOT_SERVED
# A request's deadline, unless set: this many timeouts. A timeout bounds each wait for a byte (httpx's), so a server
# sending one just inside it could hold a request for hours. Register's longest answer, a listing page of 5000
# trainees (some 15 MB), takes seconds on a good line; with a short --timeout and a slow line, use a smaller
# --per-page.
DEADLINE_TIMEOUTS = 5
# The backoff between two tries of a request (stamina's): WAIT_INITIAL seconds, doubled each try, up to WAIT_MAX.
WAIT_INITIAL = 0.2
WAIT_MAX = 10.0


class Secret:
    """A token that never shows itself in reprs, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __bool__(self) -> bool:
        return bool(self._value)


def wrapped_token(token: object) -> Secret | None:
    """The token as a `Secret`, so that no repr shows it; a `ConfigError` (never showing it) for one that is not text:
    bytes read from a secrets store or a file opened "rb" ended in a TypeError from a regex (SyncOptions, review62 F5),
    an int in an AttributeError (RegisterClient, review111 F7). The token is let go before the refusal is raised: this
    frame's locals would carry it to an error reporter that records them (review111 F3)."""
    kind = _kind_of(token)
    if kind is type(None):
        return None
    if kind is not str:
        del token
        if kind is bytes:
            raise ConfigError.naming("{token} must be a str, not bytes: give token.decode() (it is not shown)")
        raise ConfigError.naming("{token} must be a str, not {value} (it is not shown)", value=kind.__name__)
    return token if isinstance(token, Secret) else Secret(cast(str, token))


def _kind_of(token: object) -> type:
    """The type of the token itself, wrapped or not (`Secret(b"...")` holds bytes)."""
    return type(token.reveal() if isinstance(token, Secret) else token)


class _BearerAuth(httpx.Auth):
    """The token in a request's Authorization header, put there by httpx as the request goes out: no frame of the
    client's holds it revealed, so that an error raised from one (a refusal, a server or transport error) does not
    carry it in its frame locals to an error reporter that records them (Sentry's default, traceback's
    `capture_locals`, pytest -l: review111 F3)."""

    def __init__(self, token: Secret):
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request

    def __repr__(self) -> str:
        return f"_BearerAuth({self._token!r})"


_JSON_ESCAPE = re.compile(rb"\\u([0-9a-fA-F]{4})")
_SHORT_ESCAPE = re.compile(rb"\\[bfnrt]")  # JSON's escapes of control characters other than \uXXXX
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# What is not a token's own (tokens.NOT_A_TOKENS) raw in UTF-8: spaces, control characters, any non-ASCII byte.
_NOT_A_TOKENS_BYTES = bytes([*range(0x21), *range(0x7F, 0x100)])


def _quotes(content: bytes, secret: Secret, *, whole: bool = False) -> bool:
    """Whether an answer's bytes hold what `tokens.masked_token` masks (the token, or a run of twelve or more of its
    characters, in any case; with `whole`, the whole token only): as it is, or JSON-escaped (a `/` may be written
    `\\/`, and any character `\\uXXXX`), or spread by characters no token holds, raw or escaped. Only then is the
    answer's JSON searched through (`_masked`): a server that escapes every non-ASCII character would otherwise have
    every page copied."""
    # A token's characters are printable ASCII (a Bearer token's, tokens.py): any other character, raw or escaped, is
    # dropped, as what may sit between them unseen. Measured on a listing page of 5,000 trainees (14 MB, read by
    # json.loads in 73 ms), with a random 64-character token: 20 ms for the whole token (a success's look), 77 ms for
    # runs of it (an error's; review63 F2). Milliseconds a run, beside its requests' seconds. The token is revealed
    # here only, in a frame that returns (review111 F3).
    token = secret.reveal()
    content = content.translate(None, _NOT_A_TOKENS_BYTES)
    if quotes_token(content.decode("ascii"), token, reduced=True, whole=whole):
        return True
    if b"\\" not in content:
        return False
    unescaped = _JSON_ESCAPE.sub(_escaped_byte, content.replace(b"\\/", b"/"))
    # a line break or tab, `\\n` `\\t`, between its characters
    return quotes_token(_SHORT_ESCAPE.sub(b"", unescaped).decode("ascii"), token, reduced=True, whole=whole)


def _escaped_byte(escape: re.Match[bytes]) -> bytes:
    code = int(escape[1], 16)
    return bytes([code]) if 0x21 <= code <= 0x7E else b""


def _masked(value: Any, token: Secret, *, whole: bool = False) -> Any:
    """`value` (an answer's JSON, or its text) with the token masked in every text in it (`tokens.masked_token`:
    the token, or a run of twelve or more of its characters, in any case; with `whole`, the whole token only), as
    Secret shows it. Revealed only as each text is masked: a RecursionError from deep in an answer holds no frame
    with it in clear (review111 F3)."""
    if isinstance(value, str):
        return masked_token(value, token.reveal(), whole=whole)
    if isinstance(value, list):
        return [_masked(item, token, whole=whole) for item in value]
    if isinstance(value, dict):
        return {_masked(key, token, whole=whole): _masked(item, token, whole=whole) for key, item in value.items()}
    return value


def _redirect_target(location: str | None) -> str | None:
    """Where a redirect points, as it may be shown: scheme, host and path, without a query or a user name."""
    if not location:
        return None
    try:
        parts = urlsplit(location)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    shown = f"{parts.scheme}://{host}{port}{parts.path}" if host else parts.path
    return shown[:200] or None


_BLANK_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def resolve_target(target: str) -> str:
    """`sandbox`, `production` or a URL -> the service root URL (no trailing slash)."""
    checked_target(target)
    root = TARGETS.get(target, target).rstrip("/")
    # Never echo what sits before an @, URL or not (`https//user:password@host`, a colon left out): a credential; nor
    # a query, which may hold a token (`?token=...`). Those are refused for what they are; a token anywhere else is
    # not shown at all (here, or in the root once taken: `http://host/<token>@x` has no user name).
    shown = without_query(f"****@{target.rsplit('@', 1)[1]}" if "@" in target else target)
    if looks_like_token(shown):
        raise _token_as_target(target)
    if _BLANK_OR_CONTROL.search(target):  # a CRLF env file's `\r`: an internal error at the first request
        raise InsecureTarget(
            f"target {shown!r} holds a space, tab, line break or other control character: give the service's URL alone"
        )
    try:
        parts = urlsplit(root)
        parts.port  # noqa: B018 - a port that is not a number, or out of range, raises here and not at the request
    except ValueError as exc:
        # urlsplit's reason quotes what it took for the port: in `https://user:pass/word@host` that is `pass`.
        why = "" if "@" in target else f" ({exc})"
        raise InsecureTarget(f"target {shown!r} is not a URL register-batch can use{why}") from None
    if parts.username is not None or parts.password is not None:
        raise InsecureTarget.naming(
            "the target URL holds a user name or password; give the API token{token_given}, never in the URL",
            said={"token_given": " separately"},
        )
    if "?" in root or "#" in root:  # an empty one too (`https://host/?`): it would be the root all the same
        # Never the service's: requests would go to `...?x=1/api/...`. Not shown, it may be a token (`?token=...`).
        raise InsecureTarget.naming(
            "the target URL holds a query (?...) or a fragment (#...), not shown: give the service's URL alone, and "
            "the API token{token_given}",
            said={"token_given": " separately"},
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InsecureTarget(f"target {shown!r} is not sandbox, production or an http(s) URL")
    try:
        parts.hostname.encode("idna")  # as the name is looked up: the lookup's error was an internal one
    except UnicodeError:
        raise InsecureTarget(
            f"target {shown!r} is not a URL register-batch can use (a part of its host name between dots is empty or "
            "longer than 63 characters)"
        ) from None
    try:
        httpx.URL(root).host  # noqa: B018 - as httpx reads it (IDNA 2008): a zero-width space pasted with it is none
    except (httpx.InvalidURL, ValueError):  # the idna package's IDNAError is a ValueError
        raise InsecureTarget(
            f"target {shown!r} is not a URL register-batch can use (its host name holds a character no host name can, "
            "or an invisible one pasted with it?)"
        ) from None
    if looks_like_token(root):  # an @ in the path, which is no user name's end (`http://host/<token>@x`)
        raise _token_as_target(target)
    root, version = without_api_path(root)
    if version is not None and version.lower() != API_VERSION:  # /api/V2026.1 worked before (review141 F2)
        # Dropped without a word, the run spoke v2026.1 to a user who believed it spoke the URL's (review138 F4).
        raise InsecureTarget(
            f"target {shown!r} names Register API {version}; register-batch speaks {API_VERSION} only: give the "
            f"service's address without /api/{version}"
        )
    return one_spelling(root)


def _token_as_target(target: str) -> InsecureTarget:
    return InsecureTarget.naming(TOKEN_AS_TARGET, said={"token_goes": "in the token argument"}, length=len(target))


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class RequestCounts(TypedDict):
    """The requests a run or an export sent (`SyncResult.requests`, `ExportResult.requests`; report.json's
    sync.requests), typed for a caller's type checker, which reads a key misspelt or a figure's type (review182 F2):
    `by_route` by route template (`{"GET /trainees": 3}`), `by_status` by status code or failure (`"200"`,
    `"timeout"`)."""

    total: int
    by_route: dict[str, int]
    by_status: dict[str, int]
    retries: int
    throttled: int


@dataclass
class RequestStats:
    """Requests sent, by route template and status: the request economy of a run."""

    total: int = 0
    by_route: Counter = field(default_factory=Counter)
    by_status: Counter = field(default_factory=Counter)
    retries: int = 0
    throttled: int = 0
    seconds_waiting: float = 0.0
    # The time its answered requests took, each from its sending to its answer read (the -v log's "in N ms"): what a
    # dry run's estimate of its real run takes a request to cost (sync/runner.py `real_run_estimate`).
    seconds_answering: float = 0.0
    answered: int = 0

    def as_dict(self) -> RequestCounts:
        return {
            "total": self.total,
            "by_route": dict(sorted(self.by_route.items())),
            "by_status": dict(sorted(self.by_status.items())),
            "retries": self.retries,
            "throttled": self.throttled,
        }

    def since(self, earlier: RequestStats) -> RequestStats:
        """The requests counted after `earlier` (a copy of these counts taken then): one run's, of a client lent to
        many."""
        return RequestStats(
            total=self.total - earlier.total,
            by_route=self.by_route - earlier.by_route,
            by_status=self.by_status - earlier.by_status,
            retries=self.retries - earlier.retries,
            throttled=self.throttled - earlier.throttled,
            seconds_waiting=self.seconds_waiting - earlier.seconds_waiting,
            seconds_answering=self.seconds_answering - earlier.seconds_answering,
            answered=self.answered - earlier.answered,
        )

    def copy(self) -> RequestStats:
        return replace(self, by_route=Counter(self.by_route), by_status=Counter(self.by_status))


def check_sendable(root: str, token: Secret | None) -> None:
    """Refuse a token no request can carry to `root` (a `resolve_target` root): one a Bearer header cannot hold
    (register-api.md §1.2), or any bound for plain http:// to another machine. RegisterClient refuses it when made, and
    SyncOptions alike: refused by `sync_files` only, options a service made when it started failed each nightly job
    (review225 F1)."""
    if not token:
        return
    if not is_bearer_token(token.reveal()):
        raise ConfigError(bad_token(token.reveal()))  # never repeats it; httpx would, in the whole header
    parts = urlsplit(root)
    if parts.scheme != "https" and not is_loopback(parts.hostname):
        raise InsecureTarget(f"refusing to send the API token over plain http:// to {parts.hostname}; use https://")


class RegisterClient:
    """One provider's view of one Register service."""

    def __init__(
        self,
        target: str,
        token: Secret | str | None,
        *,
        limiter: RateLimiter | None = None,
        api_version: str = API_VERSION,
        timeout: float = 30.0,
        deadline: float | None = None,
        attempts: int = 6,
        retry_timeout: float | None = 600.0,
        transport: httpx.BaseTransport | None = None,
        share_budget: bool = True,
    ):
        # Wrapped first (a token that is not text is a ConfigError, review111 F7), and the argument let go, refused or
        # not: an error raised here or below (InsecureTarget, a bad timeout) would otherwise carry the token in this
        # frame's locals to an error reporter that records them (review111 F3).
        try:
            self.token = wrapped_token(token)
        finally:
            del token
        self.root = resolve_target(target)
        from register_batch.reference import check_api_version

        # As the command line and sync_files refuse it: a client of another version sent export_trainees's json and
        # jsonl listings to `/api/<version>/...`, for answers register-batch was never written for (review138 F3).
        check_api_version(api_version)
        checked_timeout(timeout)
        if deadline is None:
            deadline = DEADLINE_TIMEOUTS * timeout
        if isinstance(deadline, bool) or not (isinstance(deadline, int | float) and 0 < deadline < math.inf):
            raise ConfigError(f"deadline must be a number of seconds above 0, not {shown_value(deadline)}")
        # How long a request may take, from its first byte sent to its answer's last read (`_Deadline`).
        self.deadline = float(deadline)
        self._deadline = _Deadline()
        parts = urlsplit(self.root)
        self.host = parts.hostname
        check_sendable(self.root, self.token)
        self.api_version = api_version
        self.base = f"{self.root}/api/{api_version}"
        self.limiter = limiter or RateLimiter(95, 60)
        if share_budget and self.limiter.shared_file is None:
            budget = shared_budget_file(self.host or "", loopback=is_loopback(self.host))
            if budget is not None:
                self.limiter.share(budget, accounts=rate_dir_given())
        self.attempts = attempts
        self.retry_timeout = retry_timeout
        # True once the caller has been asked to stop (a sync's Ctrl-C or SIGTERM): a failed request is then not
        # tried again, so that a stop takes one request timeout at most, not a series of retries.
        self.stopping: Callable[[], bool] = lambda: False
        self.stats = RequestStats()
        self._run = threading.Lock()  # held by the sync run this client is lent to (`lent_to_a_run`)
        self._run_thread: int | None = None  # that run's thread
        self.last_status: int | None = None
        self._last_answer: tuple[str | None, timedelta] | None = None  # its Date header and how long it took
        self._http = _http_client(
            timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
            verify=True,
            follow_redirects=False,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            # Proxy settings (HTTP_PROXY, ALL_PROXY) would send a plain-http request, token and all, to the
            # proxy host: only a TLS target may go through one (its CONNECT tunnel keeps the token encrypted).
            trust_env=parts.scheme == "https",
        )
        if self.token:  # masked in every log line a command writes, httpx's and httpcore's too (tokens.TokenMask)
            token_in_use(self.token.reveal())
        # And the credentials of the proxy the target goes through, if it does (NO_PROXY, a plain-http target): those
        # of a proxy not used were masked out of every line for nothing (review229 F2).
        self._through_proxy = _proxied(self._http, self.root)
        self._proxy_credentials = proxy_credentials() if self._through_proxy else ()
        credentials_in_use(self._proxy_credentials)
        if not _keep_deadlines(self._http, self._deadline) and transport is None:
            # httpx's insides are not where this version of register-batch looks for them (a newer httpx): said, so
            # that the lost protection is known (a server sending a byte at a time holds a request for longer).
            log.warning(
                "httpx %s: each request's deadline cannot be kept (only --timeout between the parts of an answer)",
                httpx.__version__,
            )

    @property
    def _longest_asked(self) -> float:
        """The longest a 502, 503 or 504's Retry-After is waited for: LONGEST_UNAVAILABLE_PAUSE, and never past the
        time this client retries a request for (`retry_timeout`), which the wait counts towards."""
        if self.retry_timeout is None:
            return LONGEST_UNAVAILABLE_PAUSE
        return min(LONGEST_UNAVAILABLE_PAUSE, self.retry_timeout)

    def close(self) -> None:
        if not self._http.is_closed:
            if self.token:
                token_done(self.token.reveal())
            credentials_done(self._proxy_credentials)
        self._http.close()

    def __enter__(self) -> RegisterClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """True once `close()` has been called (or the client's `with` block has ended): it sends nothing more."""
        return self._http.is_closed

    def _check_open(self) -> None:
        """Refuse a request through a closed client as the caller's mistake it is, not httpx's bare RuntimeError."""
        if self.closed:
            raise ConfigError(CLOSED)

    def _check_fits(self, target: str, api_version: str) -> None:
        """Refuse this client for a run whose ledger and report are bound to another service or API version than the
        one it sends to: the run would write to one service and record the writes as another's (a ledger that then
        fits neither, a report naming the wrong one)."""
        wanted = resolve_target(target)
        if wanted != self.root:
            raise ConfigError.naming(
                "the RegisterClient given sends to {client_root}, not to {wanted} (the {target} this run's state dir "
                "and report are bound to): give a client of that target, or the target of the client; no record was "
                "read and nothing was sent",
                client_root=self.root,
                wanted=wanted,
            )
        if api_version != self.api_version:
            raise ConfigError.naming(
                "the RegisterClient given sends to API {client_version}, not {wanted} (this run's {api_version}): "
                "give a client of that version, or the version of the client; no record was read and nothing was sent",
                client_version=self.api_version,
                wanted=api_version,
            )

    @contextlib.contextmanager
    def lent_to_a_run(self, target: str | None = None, api_version: str | None = None) -> Iterator[None]:
        """This client as one sync run's, in this thread, until the run ends. A run's figures are the client's counts
        since it began (`RequestStats.since`), its stop is the client's `stopping`, and a listing pages by the
        client's last answer (`last_date`): a second run, or another thread's request, through it meanwhile would be
        taken for this run's. Either is refused (`ClientInUse`) before it sends anything. So is a closed client, and
        one of another service or API version than the run's `target` and `api_version` (ConfigError)."""
        self._check_open()
        if target is not None:
            self._check_fits(target, api_version or self.api_version)
        if not self._run.acquire(blocking=False):
            raise ClientInUse(
                "this RegisterClient is in use by another sync run at the same time (its request counts, its stop "
                "and its listing's pages would be mixed up with this run's): give each run its own RegisterClient; "
                "nothing was sent"
            )
        self._run_thread = threading.get_ident()
        try:
            yield
        finally:
            self._run_thread = None
            self._run.release()

    def _check_not_lent_elsewhere(self) -> None:
        """Refuse a request of a thread other than that of the sync run this client is lent to, while it runs."""
        holder = self._run_thread
        if holder is not None and holder != threading.get_ident():
            raise ClientInUse(
                "this RegisterClient is lent to a sync run in another thread, which would count this request as its "
                "own: use another RegisterClient for it, or wait until the run is over; nothing was sent"
            )

    # --- transport ------------------------------------------------------------------------------------

    def _once(
        self,
        method: str,
        path: str,
        route: str,
        body: Any,
        params: dict[str, Any] | None,
        auth: bool,
        expect: Expected | None = None,
    ) -> Any:
        """One request, and its answer read: Register's JSON for a success, else the error it means (RateLimited,
        a ServerError for an answer that is not Register's, `_refusal`'s for the rest). No local here holds the token
        revealed: every error of a request is raised from this frame or the ones it calls (review111 F3)."""
        headers = {}
        bearer = _BearerAuth(self.token) if auth and self.token else None
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = self._send(method, path, route, body, params, headers, bearer)
        status = response.status_code
        # Register's window, not this run's --rate period (review103 F2); a date against the answer's own Date (F3).
        # A 502, 503 or 504 saying when to come back is waited for as a 429 is (review163 F2): the whole client waits,
        # and a retry goes after it (`_call`); a POST's is not retried, but the look-up after it waits as well.
        said = response.headers
        asked = _wait_asked(status, said.get("Retry-After"), said.get("Date"), self.limiter.now(), self._longest_asked)
        if asked is not None:
            self.limiter.pause(asked, THROTTLED if status == 429 else _UNAVAILABLE_WAIT.format(status=status))
        if status == 429:
            self.stats.throttled += 1
            assert asked is not None  # a 429's wait is always known (Register's window)
            raise RateLimited(method, path, asked)
        parsed = _parsed(response.content)
        token = self.token if self.token and len(self.token.reveal()) >= MASKED_FROM else None
        # A success's data is Register's, and is used (compared, exported): only the whole token is masked in it. A
        # run of twelve matched a HUSID of a made-up token's, which then read ******** (review63 F2). Runs of it are
        # masked in what is shown: an error's messages and body (here and `_refusal`), log lines (TokenMask).
        whole = 200 <= status < 300
        if token is not None and (isinstance(parsed, str) or _quotes(response.content, token, whole=whole)):
            # A gateway or a server in debug mode quoting the Authorization header back: its messages go to the
            # output, the ledger and the reports, and the token must not go with them.
            try:
                parsed = _masked(parsed, token, whole=whole)
            except RecursionError:  # JSON nested deeper than masking it can go (a few hundred levels): not Register's
                raise ServerError(
                    method, path, status, ["the answer was nested too deep (not Register's answer?)"]
                ) from None
        if whole:  # a success
            if parsed is not None and not isinstance(parsed, dict):
                # Register answers JSON objects: an HTML page with 200 is a proxy or sign-in portal in the way,
                # and whether a write got past it is unknown (a POST becomes OutcomeUnknown, a GET is retried).
                raise ServerError(
                    method, path, status, ["the answer was not Register's JSON (a proxy or sign-in page in the way?)"]
                )
            data = (parsed or {}).get("data")
            if expect is not None and not expect.fits(data):
                # A success without what it always carries (§2): not Register's answer (a gateway's own JSON), or a
                # broken one. For a write, whether it happened is unknown: resolved, never taken as done (a create
                # whose id is no id went into the ledger, linking the record to no trainee of Register's). A PUT or
                # DELETE is sent again; a POST's outcome is unknown, and the sync looks in Register.
                what = "`data`" if data is None else expect.what
                raise ServerError(method, path, status, [f"the answer had no {what} in it (not Register's answer?)"])
            return parsed
        refused = _refusal(
            method, path, response, parsed, token_sent=bearer is not None, mask=token, api_version=self.api_version
        )
        # The answer is not kept in this frame's locals: its repr shows the reason phrase, which a gateway echoing
        # the Authorization header fills with the token (review125 F3).
        del response
        if isinstance(refused, ServerError):
            refused.retry_after = asked
        raise refused

    def _send(
        self,
        method: str,
        path: str,
        route: str,
        body: Any,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        bearer: _BearerAuth | None = None,
    ) -> httpx.Response:
        """One request on the wire, once the rate limit allows it, counted; a failure to get any answer is a
        TransportError saying whether the request may have been sent (`sent`). `bearer` puts the token in it."""
        self._check_open()
        self._check_not_lent_elsewhere()
        waited = self.limiter.waited
        self.limiter.acquire(self.stopping)
        self.stats.seconds_waiting += self.limiter.waited - waited
        self.stats.total += 1
        self.stats.by_route[route] += 1
        started = time.monotonic()
        self._deadline.until = started + self.deadline
        try:
            request = self._http.build_request(method, self.base + path, json=body, params=params, headers=headers)
            streamed = self._http.send(request, stream=True, auth=bearer)
            try:
                content, broken = _body(streamed)
            finally:
                streamed.close()
        except httpx.ProxyError as exc:
            # The proxy refused the tunnel (or a SOCKS proxy its handshake) before a byte of the request was sent: a
            # connection not made, never a lost reply (review103 F5).
            refused = _proxy_refused(method, path, exc, self.host)
            self.stats.by_status[f"proxy-{refused.proxy_status or 'refused'}"] += 1
            raise refused from None
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            self.stats.by_status["no-connection"] += 1
            tls = _tls_refused(exc, urlsplit(self.root).netloc)
            if tls is not None:
                raise TlsRefused(method, path, tls) from None
            # A name not found is the target's, or through a proxy the proxy's: the target's is looked up there. A
            # setting to fix only while the host has never answered this client: once it has, the name was found, and
            # its look-up failing now is the network's, ridden out as an outage (review238 F1).
            proxy = (_proxy_setting(urlsplit(self.root).scheme) or "") if self._through_proxy else None
            why, name_unknown = _not_connected(exc, self.host, proxy, answered=self.last_status is not None)
            raise TransportError(
                method, path, f"could not connect ({why})", sent=False, name_unknown=name_unknown
            ) from None
        except httpx.TimeoutException as exc:
            self.stats.by_status["timeout"] += 1
            # Past the deadline, a timeout whatever the last wait was: the answer came too slowly to be whole.
            why = (
                f"none whole in {self.deadline:g} s" if time.monotonic() >= self._deadline.until else type(exc).__name__
            )
            raise TransportError(method, path, f"no reply in time ({why})", sent=True) from None
        except httpx.TransportError as exc:
            self.stats.by_status["no-reply"] += 1
            raise TransportError(method, path, f"connection lost ({type(exc).__name__})", sent=True) from None
        finally:
            self._deadline.until = None
        self.stats.by_status[str(streamed.status_code)] += 1
        self.last_status = streamed.status_code
        try:
            elapsed = streamed.elapsed  # set once the answer is closed
        except RuntimeError:
            elapsed = timedelta(0)
        self._last_answer = (streamed.headers.get("Date"), elapsed)  # read as a time by a listing only (last_date)
        took = time.monotonic() - started
        self.stats.seconds_answering += took
        self.stats.answered += 1
        log.info("%s -> %s in %.0f ms", route, streamed.status_code, took * 1000)
        if broken is not None:  # an answer, though not one Register gives: a read is retried, a write unknown
            raise ServerError(method, path, streamed.status_code, [broken])
        # The answer as read: its body is decompressed already.
        plain = [(name, value) for name, value in streamed.headers.multi_items() if name.lower() != "content-encoding"]
        response = httpx.Response(
            streamed.status_code, headers=plain, content=content, request=request, extensions=streamed.extensions
        )
        response.elapsed = elapsed
        return response

    def _call(
        self,
        method: str,
        path: str,
        route: str,
        *,
        body: Any = None,
        params: dict[str, Any] | None = None,
        auth: bool = True,
        expect: Expected | None = None,
    ) -> Any:
        """One request with the retries that are safe for it. `expect`: what the answer's `data` must be (Expected)."""
        idempotent = method != "POST"

        def retry_hook(exc: BaseException) -> bool | float:
            if self.stopping():
                return False
            asked = exc.retry_after if isinstance(exc, RateLimited) else None
            if idempotent and isinstance(exc, ServerError):  # a POST's 5xx is never retried: its outcome is unknown
                asked = exc.retry_after
            if asked is not None:
                # A 429, or a 502, 503 or 504 saying when to come back (review163 F2): the limiter itself waits until
                # then (`_once` paused it); a Retry-After shorter than the backoff any other retry takes (a gateway's
                # 0, a time gone by) had every try sent at once.
                least = min(WAIT_MAX, WAIT_INITIAL * 2 ** (attempts - 1))
                limiter_waits = asked >= least
                # Not for the last attempt (its error is raised), nor where what shows the limiter's waits says it.
                if attempts < self.attempts and not (limiter_waits and self.limiter.tells_waits):
                    if isinstance(exc, RateLimited):
                        retries_log.warning(
                            "%s: throttled by Register (429 Retry later); waiting for its next window (Retry-After "
                            "%g s)",
                            route,
                            asked,
                        )
                    else:
                        retries_log.warning("%s; waiting %g s as its Retry-After asks, then retrying", exc, asked)
                return 0.0 if limiter_waits else least
            if isinstance(exc, TransportError) and exc.name_unknown and attempts >= 2:
                # Looked up twice, by a client the host has never answered (`_send` says so only then): a mistyped
                # host, or no network, that waiting longer does not mend. Once it has answered, a name not found is a
                # resolver's blip (Wi-Fi reconnecting), ridden out as any failure to connect is.
                return False
            if isinstance(exc, TlsRefused):
                return False  # a certificate that does not verify, or no TLS: the same however often it is asked
            if isinstance(exc, ProxyRefused) and exc.setting:
                return False  # the proxy's credentials or policy: the same refusal however often it is asked
            if isinstance(exc, TransportError) and not exc.sent:
                retrying(exc)
                return True  # no connection was made: nothing can have been processed
            if idempotent and isinstance(exc, (ServerError, TransportError)):
                retrying(exc)
                return True
            return False

        def retrying(exc: BaseException) -> None:
            """Said for a retry that will be made: after the last attempt the error goes to the caller instead."""
            if attempts < self.attempts:
                retries_log.warning("%s; retrying", exc)  # the error names the request

        attempts = 0
        _retrying.depth = getattr(_retrying, "depth", 0) + 1
        try:
            for attempt in stamina.retry_context(
                on=retry_hook,
                attempts=self.attempts,
                timeout=self.retry_timeout,
                wait_initial=WAIT_INITIAL,
                wait_max=WAIT_MAX,
            ):
                with attempt:
                    attempts += 1
                    return self._once(method, path, route, body, params, auth, expect)
        except TransportError as exc:
            if idempotent or not exc.sent:
                raise
            raise OutcomeUnknown.of(exc) from None
        except ServerError as exc:
            if idempotent:
                raise
            raise OutcomeUnknown.of(exc) from None
        finally:
            _retrying.depth -= 1
            self.stats.retries += max(0, attempts - 1)
        raise AssertionError("unreachable")  # pragma: no cover

    # --- endpoints (§2.0 catalogue) ---------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        return self._call("GET", "/info", "GET /info")

    def reference_data(self, field_name: str | None = None) -> dict[str, Any]:
        params = {"field": field_name} if field_name else None
        return self._call("GET", "/reference-data", "GET /reference-data", params=params, auth=False)

    def list_trainees(self, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One page of `GET /trainees`; an empty page (404 "No trainees found") is an empty list.

        Any other 404 is not an empty listing: `Not found` is what Register answers for an API version it does not
        serve, or with its API switched off (§1.1, §1.5), and an export or sync must not take that for "no one".
        """
        query = {k: v for k, v in params.items() if v is not None}
        try:
            body = self._call("GET", "/trainees", "GET /trainees", params=query, expect=LISTED)
        except NotFound as exc:
            if exc.messages == [NO_TRAINEES]:
                return [], {"total_pages": 0, "total_count": 0}
            raise NotFound(
                exc.method,
                exc.path,
                exc.status,
                [f"{'; '.join(exc.messages)}: {self.root} {NOT_SERVED.format(version=self.api_version)}"],
                exc.body,
            ) from None
        items = body["data"]
        if not all(_is_trainee(item) for item in items):
            raise ServerError("GET", "/trainees", 200, ["the listing held something other than trainees"])
        if not all(item.get("trainee_id") for item in items):
            # Register lists every trainee with its id (§3.6), by which a listing's repeats are known: without one,
            # every trainee after the first was dropped as a repeat of it, missing from a drift report or an export.
            raise ServerError(
                "GET", "/trainees", 200, ["the listing held a trainee without its trainee_id (not Register's answer?)"]
            )
        meta = dict(body["meta"]) if isinstance(body.get("meta"), dict) else {}
        page, total_pages = query.get("page", 1), meta_count(meta.get("total_pages"))
        if not items and total_pages is not None and isinstance(page, int) and page <= total_pages:
            # A page its own count puts within the listing (a proxy's `"data": []`): taken as the end, the trainees
            # after it were missing from an export, and a sync planned them as creates.
            raise ServerError(
                "GET", "/trainees", 200, [f"page {page} of {total_pages} listed no trainee (not Register's answer?)"]
            )
        return items, meta

    def iter_trainees(
        self,
        *,
        academic_cycle: int | str | None = None,
        per_page: int = 500,
        since: str | None = None,
        status: str | None = None,
        sort_order: str | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Every trainee of a listing, page by page, without repeats (by trainee_id).

        In ascending order (`sort_order="asc"`), each page after the first is the listing `since` the last change
        read, or LISTING_OVERLAP before Register's time when that change is more recent (register-api.md §10: a
        change Register stamps before it commits it may show after later ones), as much longer as the trainees read
        since then, which come again (`since` is inclusive): not the next page by offset (`_Pages`). A trainee that
        leaves the listing while it is read (its start moved to another cycle, withdrawn out of a `status`, deleted)
        or changes then moves no other one past the reader, as it would with offsets (§2.3: LIMIT/OFFSET over the
        filtered set). One changed after it was read comes again at the end and is dropped as a repeat (the version
        read first is kept). A page that brings nothing later than the last change read (trainees changed in one
        millisecond by a bulk change in Register: times are sent to the millisecond, §1.4) is asked for again twice
        as long, in one answer, up to TIE_PAGE_LIMIT, and only past that by offset. A page that is not oldest first
        (a proxy dropping `sort_order`) is followed by offset, as are pages in the other order.

        Raises `ConfigError` for a `per_page` below 1 (Register would list nothing, or a page of its own size) or
        above PER_PAGE_MOST.
        """
        checked_per_page(per_page)
        seen: set[str | None] = set()  # trainee_id as an item gives it (Register's always have one)
        pages = _Pages(per_page, since)
        while True:
            items, meta = self.list_trainees(
                academic_cycle=academic_cycle,
                per_page=pages.size,
                page=pages.page,
                since=pages.since,
                status=status,
                sort_order=sort_order,
            )
            answered_at = self.last_date  # this answer's, before any request a caller makes between trainees
            times = _oldest_first(items) if sort_order == "asc" else None
            for index, item in enumerate(items):
                trainee_id = item.get("trainee_id")
                if trainee_id in seen:
                    continue
                seen.add(trainee_id)
                if times is not None:
                    pages.recent.append(times[index])
                yield item
            total_pages = meta_count(meta.get("total_pages"))
            # Without a page count (no meta: not Register's answer as such), a full page may have more after it.
            last = pages.page >= total_pages if total_pages is not None else len(items) < pages.size
            if not items or last:
                return
            pages.turn(times, answered_at)

    @property
    def last_date(self) -> datetime | None:
        """Register's time when it took the last request (`_answered_at`); None before any."""
        return _answered_at(*self._last_answer) if self._last_answer is not None else None

    @property
    def last_said_date(self) -> datetime | None:
        """Register's time as the last answer's Date said it (to the second), however far from this machine's
        clock; None before any answer or without a readable one. Where a moment must be no later by Register's clock
        than by this machine's (sync's look-up after a lost reply), the earlier of the two is taken."""
        if self._last_answer is None:
            return None
        return _said_date(self._last_answer[0])

    def get_trainee(self, trainee_id: str) -> dict[str, Any]:
        """The trainee object, which Register sends without a `data` wrapper (the tech docs show one, §2.4 ⚠)."""
        path = f"/trainees/{trainee_id}"
        body = self._call("GET", path, "GET /trainees/{trainee_id}") or {}
        if "trainee_id" not in body and isinstance(body.get("data"), dict):
            body = body["data"]
        if not body.get("trainee_id") or not _is_trainee(body):
            # An empty 200 (a proxy, a broken answer) is no trainee: taken as one, a sync would report the trainee
            # its ledger links to as deleted in Register. Not Register's answer, as `_call` says of other bodies.
            status = self.last_status or 200
            raise ServerError("GET", path, status, ["the answer had no trainee in it (not Register's answer?)"])
        return body

    def create_trainee(self, data: dict[str, Any]) -> dict[str, Any]:
        return self._call("POST", "/trainees", "POST /trainees", body={"data": as_sent(data)}, expect=TRAINEE)["data"]

    def update_trainee(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
        route = "PUT /trainees/{trainee_id}"
        written = trainee_written(trainee_id)
        body = {"data": as_sent(data)}
        return self._call("PUT", f"/trainees/{trainee_id}", route, body=body, expect=written)["data"]

    def withdraw(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
        route = "POST /trainees/{trainee_id}/withdraw"
        written = trainee_written(trainee_id)
        return self._call("POST", f"/trainees/{trainee_id}/withdraw", route, body={"data": data}, expect=written)[
            "data"
        ]

    def defer(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
        route = "POST /trainees/{trainee_id}/defer"
        written = trainee_written(trainee_id)
        return self._call("POST", f"/trainees/{trainee_id}/defer", route, body={"data": data}, expect=written)["data"]

    def list_degrees(self, trainee_id: str) -> list[dict[str, Any]]:
        route = "GET /trainees/{trainee_id}/degrees"
        return list(self._call("GET", f"/trainees/{trainee_id}/degrees", route, expect=LISTED)["data"])

    def add_degree(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
        route = "POST /trainees/{trainee_id}/degrees"
        added = item_written("degree")
        return self._call("POST", f"/trainees/{trainee_id}/degrees", route, body={"data": data}, expect=added)["data"]

    def update_degree(self, trainee_id: str, degree_id: str, data: dict[str, Any]) -> dict[str, Any]:
        route = "PUT /trainees/{trainee_id}/degrees/{degree_id}"
        path = f"/trainees/{trainee_id}/degrees/{degree_id}"
        written = item_written("degree", degree_id)
        return self._call("PUT", path, route, body={"data": data}, expect=written)["data"]

    def delete_degree(self, trainee_id: str, degree_id: str) -> dict[str, Any]:
        route = "DELETE /trainees/{trainee_id}/degrees/{degree_id}"
        path = f"/trainees/{trainee_id}/degrees/{degree_id}"
        return self._call("DELETE", path, route, expect=trainee_written(trainee_id))["data"]

    def list_placements(self, trainee_id: str) -> list[dict[str, Any]]:
        route = "GET /trainees/{trainee_id}/placements"
        return list(self._call("GET", f"/trainees/{trainee_id}/placements", route, expect=LISTED)["data"])

    def add_placement(self, trainee_id: str, data: dict[str, Any]) -> dict[str, Any]:
        route = "POST /trainees/{trainee_id}/placements"
        added = item_written("placement")
        return self._call("POST", f"/trainees/{trainee_id}/placements", route, body={"data": data}, expect=added)[
            "data"
        ]

    def delete_placement(self, trainee_id: str, placement_id: str) -> dict[str, Any]:
        route = "DELETE /trainees/{trainee_id}/placements/{placement_id}"
        path = f"/trainees/{trainee_id}/placements/{placement_id}"
        return self._call("DELETE", path, route, expect=trainee_written(trainee_id))["data"]


class _Deadline(threading.local):
    """When the request this thread is sending must have its whole answer by (time.monotonic()), or None between
    requests. Each wait on the network is cut to the time left: past it, the wait is a timeout as httpx's own are."""

    until: float | None = None

    def left(self, timeout: float | None, expired: type[Exception]) -> float | None:
        """`timeout` (seconds of one wait, None for none), no longer than the time left before the deadline."""
        if self.until is None:
            return timeout
        left = self.until - time.monotonic()
        if left <= 0:
            raise expired("the request's deadline has passed")
        return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read, write and TLS handshake waits no longer than its request's deadline allows."""

    def __init__(self, stream: httpcore.NetworkStream, deadline: _Deadline):
        self._stream = stream
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._stream.read(max_bytes, self._deadline.left(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, self._deadline.left(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self, ssl_context: Any, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        secured = self._stream.start_tls(
            ssl_context, server_hostname, self._deadline.left(timeout, httpcore.ConnectTimeout)
        )
        return _DeadlineStream(secured, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's connections, each a `_DeadlineStream`."""

    def __init__(self, backend: httpcore.NetworkBackend, deadline: _Deadline):
        self._backend = backend
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Any = None,
    ) -> httpcore.NetworkStream:
        timeout = self._deadline.left(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, timeout, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Any = None
    ) -> httpcore.NetworkStream:
        timeout = self._deadline.left(timeout, httpcore.ConnectTimeout)
        return _DeadlineStream(self._backend.connect_unix_socket(path, timeout, socket_options), self._deadline)

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)


def _proxied(http: httpx.Client, url: str) -> bool:
    """Whether `http` sends requests to `url` through a proxy of the environment's: a transport of its own for `url`'s
    scheme and host, as httpx chooses it (NO_PROXY heeded). True when httpx's insides are not where this version
    looks (masked more, never less)."""
    try:
        return http._transport_for_url(httpx.URL(url)) is not http._transport
    except AttributeError:
        return True


def _keep_deadlines(http: httpx.Client, deadline: _Deadline) -> bool:
    """Have every connection of `http` keep to `deadline`: the direct one and each proxy's (httpx gives no setting for
    it, so each transport's httpcore pool gets a backend of ours); whether the direct one does. A transport given by
    the caller (a test's httpx.MockTransport) has no network to wait on."""
    direct = getattr(http, "_transport", None)
    for transport in (direct, *getattr(http, "_mounts", {}).values()):
        pool: Any = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend, deadline)
    return isinstance(getattr(getattr(direct, "_pool", None), "_network_backend", None), _DeadlineBackend)


PROXY_UNUSABLE = (
    "a proxy set in the environment (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY, or their lower-case forms; not shown) "
    "cannot be used: {why}; correct it, or unset it to connect directly"
)


def _http_client(**settings: Any) -> httpx.Client:
    """httpx's client, whose proxies and CA certificates come from the environment towards an https:// service
    (`trust_env`): one it cannot use is a setting to fix (exit 2), not an internal error; a proxy's URL is never shown
    (it may hold a user name and password)."""
    try:
        return httpx.Client(**settings)
    except ImportError:  # socks5:// without the socksio package
        why = "a SOCKS proxy needs the socksio package (pip install 'httpx[socks]'), or give an http:// proxy"
    except (ValueError, httpx.InvalidURL):  # InvalidURL is no ValueError; a ValueError quotes the URL
        why = "not an http://, https:// or socks5:// URL with a host and a port"
    except OSError as exc:  # ssl.SSLError among them: SSL_CERT_FILE or SSL_CERT_DIR
        named = os.environ.get("SSL_CERT_FILE") or os.environ.get("SSL_CERT_DIR") or ""
        raise ConfigError(
            f"the CA certificates that SSL_CERT_FILE or SSL_CERT_DIR name ({printable(named)}) cannot be used "
            f"({exc.strerror or type(exc).__name__}): correct the setting or unset it"
        ) from None
    raise ConfigError(PROXY_UNUSABLE.format(why=why)) from None


# A trainee's fields that a sync reads to match and compare records (sync/plan.py, runner.py): text or null in every
# answer of Register's (register-api.md §3.6); and those that hold lists.
TRAINEE_TEXT = (
    "trainee_id",
    "hesa_id",
    "provider_trainee_id",
    "first_names",
    "last_name",
    "date_of_birth",
    "email",
    "state",
    "training_route",
    "ukprn",
    "created_at",
    "updated_at",
    "defer_date",
    "reinstate_date",
)
TRAINEE_LISTS = ("degrees", "placements")


def _parsed(content: bytes) -> Any:
    """An answer's JSON (None for no body); its text without control characters when it is not JSON, which is not
    Register's answer; "" for bytes that are not UTF-8, which are never quoted (`_messages`).

    UTF-8 only, as JSON over a network is (RFC 8259 §8.1; a byte-order mark let through): read as UTF-16 or UTF-32
    (which json.loads takes from bytes), a token quoted in it is not in the bytes `_quotes` searches; and UTF-16 text
    read as UTF-8 holds a token with a NUL between its characters, which the mask would not find and a terminal shows
    whole."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return ""
    try:
        return json.loads(text) if text else None
    except (ValueError, RecursionError):  # not JSON, or nested thousands deep: not Register's answer
        return _CONTROL_CHARACTERS.sub("", text)


def _is_trainee(item: Any) -> bool:
    """Whether a listed or fetched trainee has Register's shape where a sync reads it: another (a list as trainee_id,
    a number as hesa_id) is not Register's answer, and took the sync's matching down as an internal error."""
    return (
        isinstance(item, dict)
        and all(isinstance(item.get(key), str | None) for key in TRAINEE_TEXT)
        and all(isinstance(item.get(key), list | None) for key in TRAINEE_LISTS)
    )


@dataclass(frozen=True)
class Expected:
    """What a successful answer's `data` must be to be Register's (`_call`'s expect, §2): a list or an object; one
    holding an id (`key`) as text, the one written (`value`) when the request names it; a trainee of Register's shape
    where a sync reads it (`trainee`). `what` names it in the message refusing another."""

    what: str
    kind: type = dict
    key: str | None = None
    value: str | None = None
    trainee: bool = False

    def fits(self, data: Any) -> bool:
        if not isinstance(data, self.kind) or (self.trainee and not _is_trainee(data)):
            return False
        if self.key is None:
            return True
        found = cast(dict, data).get(self.key)
        return isinstance(found, str) and bool(found.strip()) and self.value in (None, found)


LISTED = Expected("`data`", list)
TRAINEE = Expected("trainee", key="trainee_id", trainee=True)  # a create's: the trainee, with the id the ledger keeps


def trainee_written(trainee_id: str) -> Expected:
    """What an update, withdrawal or deferral answers (§2.6-§2.8), and a degree's or placement's deletion (§2.10,
    §2.11): the trainee written."""
    return Expected(f"trainee {trainee_id}", key="trainee_id", value=trainee_id, trainee=True)


def item_written(item: str, item_id: str | None = None) -> Expected:
    """What a degree's or placement's addition (`item_id` None) or update answers (§2.10, §2.11): the item."""
    return Expected(item if item_id is None else f"{item} {item_id}", key=f"{item}_id", value=item_id)


def _body(response: httpx.Response) -> tuple[bytes, str | None]:
    """A streamed answer's body, decompressed, read up to ANSWER_LIMIT; with why it is no answer of Register's, if it
    is not. Read whole, a gzip bomb or a body that never ends took this machine's memory (a MemoryError, exit 70)."""
    codings = [c.strip(" \t") for c in response.headers.get("Content-Encoding", "").lower().split(",")]
    if len([coding for coding in codings if coding not in ("", "identity")]) > 1:
        # httpx undoes every compression of a chunk in one go, before its size can be checked: gzip of gzip holds a
        # gigabyte in two kilobytes. Register compresses once, if at all.
        return b"", "the answer was compressed more than once (not Register's answer?)"
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > ANSWER_LIMIT:
                return b"", f"the answer was longer than {ANSWER_LIMIT >> 20} MiB (not Register's answer?)"
            chunks.append(chunk)
    except httpx.DecodingError:  # not an httpx.TransportError: it went past `_send`, an internal error
        encoding = response.headers.get("Content-Encoding", "")
        named = f"{encoding}: " if re.fullmatch(r"[A-Za-z0-9, -]{1,40}", encoding) else ""
        return b"", f"the answer could not be decompressed ({named}not Register's answer?)"
    return b"".join(chunks), None


def _refusal(
    method: str,
    path: str,
    response: httpx.Response,
    parsed: Any,
    *,
    token_sent: bool,
    mask: Secret | None = None,
    api_version: str,
) -> ApiError:
    """The error for an answer that is neither a success nor a 429: its class by status, Register's messages, and
    what to do where the answer itself does not say (a refused token, a redirect not followed). `mask`, the token,
    is masked in them: a status line's reason phrase or a redirect's Location may quote it as a body does."""
    status = response.status_code
    error = {400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 409: Conflict, 422: Unprocessable}.get(
        status, ServerError if status >= 500 else ApiError
    )
    messages = _messages(response, parsed)
    if status == 401:  # a request Register answers without a token (GET /reference-data) had no token to refuse
        messages.append(TOKEN_REFUSED if token_sent else NO_TOKEN_NEEDED.format(version=api_version))
    if status == 403:
        messages.append(BLOCKED)
    if 300 <= status < 400 and (moved := _redirect_target(response.headers.get("Location"))):
        messages = [
            f"the answer was a redirect to {moved}, which register-batch does not follow (the token goes only to "
            "the target you set): check the target (a moved address, or http:// for https://?)"
        ]
    if mask is not None:
        messages = _masked(messages, mask)
    failed = error(method, path, status, messages, parsed)
    if TOKEN_REFUSED in messages:
        # Where to give the token: a library caller gives it to the client; the command line names where this run's
        # came from and whom the run was for (State.running_for, review183 F1).
        failed.marking(refused_token="the API token", active_token="an active token of this service")
    elif BLOCKED in messages:
        failed.marking(refused_machine=BLOCKED_MACHINE)  # the command line says whose run it was
    return failed


def _messages(response: httpx.Response, parsed: Any) -> list[str]:
    """The error texts of a refusal. A body that is not JSON is kept only when it is one short line of text (such as
    rack-attack's `Forbidden`, §1.3); a page from a proxy or gateway is named, never quoted (one line, no markup).
    JSON with no text where any service puts one is copied after the status phrase, short and on one line
    (`body_copy`, review163 F3)."""
    if not isinstance(parsed, str):
        if found := messages_of(parsed):
            return found
        if not (copy := body_copy(parsed)):
            return [response.reason_phrase]
        return [f"{response.reason_phrase}: {copy}" if response.reason_phrase else copy]
    text = parsed.strip()
    if text and len(text) <= 200 and "\n" not in text and "<" not in text:
        return [text]
    if not text:
        return [response.reason_phrase]
    kind = "an HTML page" if text.startswith("<") or "html" in response.headers.get("Content-Type", "") else "text"
    return [f"{response.reason_phrase or 'error'}: {kind} instead of Register's JSON (a proxy or gateway answered?)"]


# The longest page a listing asks for to get past trainees changed in one millisecond (RegisterClient.iter_trainees).
TIE_PAGE_LIMIT = PER_PAGE_MOST
# How far this machine's clock may be from Register's: a listing `since` a moment of ours starts this much before it
# (sync's look-up after a create whose reply was lost), and a Date further off than this is not Register's.
CLOCK_SKEW = timedelta(minutes=15)
# How long before the last change read a listing's next page starts (§10: "since=<high-water mark minus a small
# overlap>"): Register stamps `updated_at` before its transaction commits, so a change may show after later ones.
LISTING_OVERLAP = timedelta(seconds=10)


class _Pages:
    """Where a listing's next page starts (`RegisterClient.iter_trainees`): `since` the last change read, or up to
    LISTING_OVERLAP before Register's clock when that change is more recent, as much longer as the trainees it lists
    again; longer still when a page brought nothing later; by offset when the pages are not oldest first."""

    def __init__(self, per_page: int, since: str | None):
        self.per_page = per_page
        self.page, self.size, self.since, self.given = 1, per_page, since, since
        self.start = listed_at(since) if since is not None else None  # the caller's: never listed from before it
        self.mark = self.start  # the last change read
        self.begin = self.start  # where the page asked for now starts
        self.recent: deque[datetime] = deque()  # when each trainee read lately last changed, in the order read

    def turn(self, times: list[datetime] | None, answered_at: datetime | None) -> None:
        """Move on after a page: `times` are its trainees' `updated_at` (None unless it came oldest first),
        `answered_at` Register's time when it took the request (None when not known)."""
        if times is None:
            self.page += 1
        elif self.mark is None or times[-1] > self.mark:
            self.mark = times[-1]
            # A change Register stamped up to LISTING_OVERLAP before it took the request may not have shown yet; one
            # stamped earlier has. Old changes (a nightly listing) are listed from the last one read: no page grows.
            # A time before the last change read is not Register's clock (a proxy's Date, none): overlap all the same.
            if answered_at is None or answered_at < self.mark - timedelta(seconds=1):
                answered_at = self.mark
            self._from(min(self.mark, answered_at - LISTING_OVERLAP))
        elif self.page == 1 and self.size < TIE_PAGE_LIMIT:
            self.size = min(self.size * 2, TIE_PAGE_LIMIT)
        elif self.begin is not None and self.begin < self.mark:
            self._from(self.mark)  # the longest page held only the overlap's trainees: from the last change itself
        else:
            self.page += 1  # more trainees changed in one millisecond than the longest page holds

    def _from(self, begin: datetime) -> None:
        assert self.mark is not None
        if self.start is not None:
            begin = max(begin, self.start)
        while self.recent and self.recent[0] < begin:
            self.recent.popleft()
        again = len(self.recent)  # the trainees read that the page lists again
        longest = max(TIE_PAGE_LIMIT, self.per_page + 1)
        if begin < self.mark and again >= longest:
            # The overlap alone fills the longest page: from the last change itself, the overlap's trainees kept in
            # `recent` so that the next page does so too while they are that many.
            begin = self.mark
            again = next((n for n, moment in enumerate(reversed(self.recent)) if moment < begin), again)
        # The caller's own `since` as given: a time written finer than microseconds is not moved by being read.
        self.begin, self.since, self.page = begin, self.given if begin == self.start else begin.isoformat(), 1
        self.size = min(self.per_page + again, longest)


def _said_date(date: str | None) -> datetime | None:
    """A Date header's time (RFC 9110), as UTC; None when there is none or it cannot be read."""
    try:
        moment = email.utils.parsedate_to_datetime(date) if date else None
    except (TypeError, ValueError, IndexError):
        return None
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def _answered_at(date: str | None, elapsed: timedelta) -> datetime:
    """Register's time when it took a request: its answer's Date header (RFC 9110: to the second) less the time the
    answer took. Without one, the earliest it can be by this machine's clock. With one further than CLOCK_SKEW from
    this machine's clock, one of the two is wrong (a proxy's Date, or this machine's clock): the earlier of the Date
    and that earliest, so a listing overlaps more, never less (this machine's clock 20 minutes ahead of Register's
    made its pages overlap not at all, and a change committed during the listing was missed)."""
    now = datetime.now(UTC)
    moment = _said_date(date)
    if moment is None:
        moment = now - CLOCK_SKEW
    elif abs(moment - now) > CLOCK_SKEW:
        moment = min(moment, now - CLOCK_SKEW)
    return moment - elapsed


def _oldest_first(items: list[dict[str, Any]]) -> list[datetime] | None:
    """When each trainee of a page listed oldest change first last changed (`updated_at`); None when a time is
    missing or the page is not in that order (not Register's answer to sort_order=asc, §2.3): listing `since` its
    last time would then pass over trainees."""
    times = [listed_at(item.get("updated_at")) for item in items]
    if any(moment is None for moment in times):
        return None
    ordered = cast("list[datetime]", times)
    if any(later < earlier for earlier, later in itertools.pairwise(ordered)):
        return None
    return ordered


def listed_at(value: Any) -> datetime | None:
    """A listing's `since` or a trainee's `updated_at` as an aware time (UTC when it has no offset, as Register reads
    it, §2.3), or None when it is not an ISO 8601 time."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def meta_count(value: Any) -> int | None:
    """A whole number from an answer's `meta`, or None when it is missing or not a number."""
    try:
        return int(value) if value is not None and not isinstance(value, bool) else None
    except (TypeError, ValueError):
        return None


def _not_connected(
    exc: httpx.TransportError, host: str | None, proxy: str | None, *, answered: bool
) -> tuple[str, bool]:
    """Why no connection was made, as the operating system said it (`Connection refused`, `Name or service not
    known`), and whether a host name not found is a setting to fix: "could not connect (ConnectError)" left a mistyped
    host and a service that is down looking alike. The name not found is the target's (`host`), or through a proxy
    the proxy's (`proxy`: the setting that names it, whose URL is not shown, or "" for one no setting names; the proxy
    looks up the target's), and what to check is said of that one (review238 F3). Once the host has `answered` this
    client, the name was found: no setting is wrong, and the look-up is the network's to mend, an outage (review238
    F1)."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, OSError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, socket.gaierror) and cause.errno != socket.EAI_AGAIN:
        if proxy is None:
            which, check = host or "of the target", "the target's host name"
        else:
            which = f"of the proxy {proxy} names (not shown)" if proxy else "of the proxy"
            check = proxy or "the proxy's address"
        if answered:
            return f"host name {which} not found: {cause.strerror}, though it was found before in this run", False
        return f"host name {which} not found: {cause.strerror}; check {check}, or this machine's network", True
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror, False
    return type(exc).__name__, False


# OpenSSL's reasons for a handshake with a server that does not speak TLS (https:// to a plain-HTTP port).
_NOT_TLS = frozenset({"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "UNKNOWN_PROTOCOL", "PACKET_LENGTH_TOO_LONG"})
_CERT_EXPIRED = 10  # X509_V_ERR_CERT_HAS_EXPIRED: Register's own certificate run out, theirs to renew (run again later)


def _tls_refused(exc: httpx.TransportError, where: str) -> str | None:
    """Why the TLS handshake failed, with what to do, when no retry mends it (review125 F5): the certificate did not
    verify, or the server (`where`: its host and port) does not speak TLS; None for anything else (a connection not
    made, retried)."""
    cause: BaseException | None = exc
    while cause is not None and not isinstance(cause, ssl.SSLError):
        cause = cause.__cause__ or cause.__context__
    if isinstance(cause, ssl.SSLCertVerificationError) and cause.verify_code != _CERT_EXPIRED:
        return (
            f"the certificate of {where} did not verify ({cause.verify_message or cause.reason}): "
            "behind a proxy or firewall that inspects TLS, name its CA certificate with SSL_CERT_FILE (or a folder of "
            "them with SSL_CERT_DIR); otherwise check the target's address"
        )
    if isinstance(cause, ssl.SSLError) and cause.reason in _NOT_TLS:
        return (
            f"{where} did not answer TLS ({cause.reason}): for a server on plain HTTP (a local "
            "emulator), give its http:// address; otherwise check the target's port"
        )
    return None


def _proxy_setting(scheme: str) -> str | None:
    """The environment setting that names the proxy a `scheme` URL is reached through, as httpx reads them (lower case
    first, then ALL_PROXY): named in an error line in place of the proxy's URL, which may hold a password. None when
    none is set (a proxy the caller's own httpx client was given)."""
    names = (f"{scheme}_proxy", f"{scheme.upper()}_PROXY", "all_proxy", "ALL_PROXY")  # urllib's getproxies' order
    return next((name for name in names if os.environ.get(name, "").strip()), None)


_CONNECT_REFUSED = re.compile(r"(\d{3}) ?(.*)", re.DOTALL)  # httpcore's ProxyError for a CONNECT: "407 <reason>"
# A SOCKS proxy's refusal as httpcore words it ("Invalid username/password", "Proxy Server could not connect: 5.")
_SOCKS_REFUSED = re.compile(r"[A-Za-z0-9 .,:/_-]{1,120}")


def _proxy_refused(method: str, path: str, exc: httpx.ProxyError, host: str | None) -> ProxyRefused:
    """A proxy's refusal of the tunnel to Register: which setting names the proxy (never its URL, which may hold a
    user name and password), its status with the reason phrase HTTP gives it (the proxy's own is not shown: it could
    quote anything), and what to do."""
    named = _proxy_setting("https") or "HTTPS_PROXY"  # a tunnel (CONNECT) is to an https:// target
    proxy = f"the proxy {named} names (not shown)"
    said = str(exc).strip()
    found = _CONNECT_REFUSED.fullmatch(said)
    if found is None:
        why = f": {said}" if _SOCKS_REFUSED.fullmatch(said) else ""
        return ProxyRefused(
            method,
            path,
            f"{proxy} refused the connection to {host}{why}; correct {named}, or unset it to connect directly",
            proxy_status=None,
            setting=True,
        )
    status = int(found[1])
    try:
        shown = f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        shown = str(status)
    if status == 407:
        todo = (
            f"it asks for a user name and password: give them in {named}'s URL (http://user:password@host:port), "
            f"or correct those given, or unset {named} to connect directly"
        )
    elif status >= 500:
        todo = "it could not reach Register, or is failing"
    else:
        todo = f"ask its administrators to allow {host}, or correct {named}, or unset it to connect directly"
    return ProxyRefused(
        method,
        path,
        f"{proxy} refused the connection to {host}: {shown}; {todo}",
        proxy_status=status,
        setting=status < 500,
    )


def _wait_asked(status: int, value: str | None, date: str | None, now: float, longest: float) -> float | None:
    """The seconds an answer asks the client to wait before its next request, from its Retry-After (`value`), read one
    way for a 429 and a 5xx: a 429's always (`_retry_after`); a 502's, 503's or 504's only when it gives a readable
    one (RFC 9110 §10.2.3: a gateway or service down for a while), at most `longest`; else None, and a retry backs off
    as usual (review163 F2)."""
    if status == 429:
        return _retry_after(value, date, now)
    if status in (502, 503, 504):
        seconds = _said_seconds(value, date, now)
        return None if seconds is None else min(longest, max(0.0, seconds))
    return None


def _said_seconds(value: str | None, date: str | None, now: float) -> float | None:
    """A Retry-After's seconds (a number, or an HTTP date read against the answer's own `date`, `_retry_after`);
    None when there is none, or none readable."""
    seconds = math.nan
    if value:
        try:
            seconds = float(value)
        except ValueError:
            with contextlib.suppress(TypeError, ValueError, IndexError, OverflowError):
                moment = email.utils.parsedate_to_datetime(value)
                # GMT, as every HTTP-date is, when it names no zone (the asctime form, `-0000`): not local time.
                said = _said_date(date)
                since = said.timestamp() if said is not None else now
                seconds = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp() - since
    return None if math.isnan(seconds) else seconds


# What the wait after a 502, 503 or 504's Retry-After is for, as a progress line names it.
_UNAVAILABLE_WAIT = "the time Register asked for (it answered {status}, Retry-After)"


def _retry_after(value: str | None, date: str | None = None, now: float | None = None) -> float:
    """Seconds from a Retry-After header (integer seconds as rack-attack sends; an HTTP date is rare), at most
    Register's window (§1.3: 1-60 s): a gateway's hour-long (or `inf`) answer must not stall a run unseen.

    An HTTP date is read against the answer's own Date (`date`) when it has a readable one: the wait the server meant,
    whatever this machine's clock says (review103 F3: 2 minutes ahead, every retry went at once into the throttled
    window). Without a readable header (a proxy's 429), what rack-attack would have said: the rest of Register's
    epoch-aligned 60-s window (§1.3), not a fixed second that would spend every retry inside the same window, nor the
    end of the run's own --rate period (review103 F2: 5/3 gave up after six 429s within one window).
    """
    now = time.time() if now is None else now
    seconds = _said_seconds(value, date, now)
    if seconds is None:  # none given, or none readable
        seconds = REGISTER_WINDOW - (now % REGISTER_WINDOW)
    return min(LONGEST_PAUSE, max(0.0, seconds))


def ceil_pages(count: int, per_page: int) -> int:
    return math.ceil(count / per_page) if per_page else 0
