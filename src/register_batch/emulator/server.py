"""The emulator's transport: a threaded HTTP/1.1 server with keep-alive, the rate limit, latency, fault injection
at the socket level, and the `/__emulator__` test hooks.

`start_emulator()` runs it on a background thread (tests, `sync`'s embedded default); the `register-batch
emulator` command runs the same thing in the foreground.
"""

from __future__ import annotations

import email.utils
import errno
import io
import ipaddress
import json
import logging
import re
import socket
import struct
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from register_batch.errors import ConfigError
from register_batch.model import API_VERSION
from register_batch.reference import ReferenceData
from register_batch.tokens import is_bearer_token, masked_token, masked_token_words

from .app import UNAUTHORIZED, RegisterApp, Request, Response, json_body, new_token, resolve
from .faults import DEFAULT_HOLD_SECONDS, FaultInjector, FaultSpec
from .ratelimit import DEFAULT_RATE_LIMIT, FixedWindowLimiter
from .store import Store

log = logging.getLogger("register_batch.emulator")
# The longest request body read (review162 F3: it was 64 MiB, held in memory for each connection). Register's longest
# request is a create (register-api.md §3.1: a trainee of 34 fields and 9 disabilities with its degrees and
# placements nested), a few KB; 20 degrees and 20 placements of the longest names are under 16 KB. The test hooks
# take no body. A longer one is refused as soon as it is declared, before it is read.
MAX_BODY = 1 << 20
# Requests read and answered at once (review162 F3: a request's headers, up to http.server's 100 lines of 64 KiB, and
# its body were held for every connection, however many). A connection waiting for its next request, or for its
# first, holds none (review166 F2: idle keep-alive clients held one each, and stalled every other request for up to
# IDLE_TIMEOUT). A request whose first byte comes while all are taken waits for one, on its connection's own thread.
MAX_REQUESTS = 64
# How long the body of a request refused unread is read and thrown away before its connection closes (_discard_body).
LINGER_SECONDS = 2.0
IDLE_TIMEOUT = 120.0  # seconds a keep-alive connection may sit idle
# How long `stop()` waits for the requests in flight to be carried out and answered before it closes the store under
# them. A request takes milliseconds; this bounds a client that sent its headers and then stalls in its body.
DRAIN_SECONDS = 5.0
_DISCARD = re.compile(r"/__emulator__/trainees/([^/]+)/discard")  # a trainee deleted in Register's service
_AWARD = re.compile(r"/__emulator__/trainees/([^/]+)/award")  # a recommended trainee awarded by DfE (outside the API)


class Stats:
    """Request counts for `GET /__emulator__/stats`: by route template and by status sent, plus faults."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.total = 0
            self.by_route: Counter[str] = Counter()
            self.by_status: Counter[str] = Counter()
            self.faults: Counter[str] = Counter()

    def request(self, route: str) -> None:
        with self._lock:
            self.total += 1
            self.by_route[route] += 1

    def status(self, status: int) -> None:
        with self._lock:
            self.by_status[str(status)] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self.faults[kind] += 1

    def snapshot(self, trainees: int) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": {
                    "total": self.total,
                    "by_route": dict(sorted(self.by_route.items())),
                    "by_status": dict(sorted(self.by_status.items())),
                    "faults": dict(sorted(self.faults.items())),
                },
                "trainees": trainees,
            }


def is_loopback(host: str) -> bool:
    """Whether `host` is `localhost` or an address of loopback only, told by the address it resolves to: `127.1`,
    `0x7f000001` and `::ffff:127.0.0.1` are 127.0.0.1 written other ways, and were taken for remote ones (review162).
    A numeric host only (AI_NUMERICHOST: no lookup); a name other than localhost is not taken on trust."""
    if host == "localhost":
        return True
    try:
        found = socket.getaddrinfo(host.strip("[]"), None, type=socket.SOCK_STREAM, flags=socket.AI_NUMERICHOST)
    except (OSError, UnicodeError, ValueError):  # a name, or no address at all ("", a NUL)
        return False
    return bool(found) and all(_loopback_address(str(info[4][0])) for info in found)


def _loopback_address(address: str) -> bool:
    """Whether `address` (as getaddrinfo gives it: an IPv6 one may end in `%scope`) is loopback, IPv4-mapped too."""
    ip = ipaddress.ip_address(address.partition("%")[0])
    mapped = ip.ipv4_mapped if isinstance(ip, ipaddress.IPv6Address) else None
    return (mapped or ip).is_loopback


class _Hold:
    """A request held under the `timeout` fault: `ended` early by `carry_out_held()`; `outcome` once it is over."""

    __slots__ = ("ended", "outcome")

    def __init__(self) -> None:
        self.ended = False
        # "carried out", "failed" (its handling raised: a 500), or "dropped" (the emulator stopped while holding it)
        self.outcome: str | None = None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # The listen backlog. socketserver's default of 5 let a burst of more new connections than that (several syncs,
    # a client pool opening at once) fill the queue before the serving thread took them: the next one's SYN was
    # dropped and its connect took the kernel's 1 s retransmit. http.server's own is 5 too; most servers take 128.
    request_queue_size = 128
    emulator: Emulator

    def server_bind(self) -> None:
        # No reverse DNS lookup of the host name (HTTPServer.server_bind does one, which can be slow).
        if hasattr(socket, "SO_EXCLUSIVEADDRUSE"):  # Windows, where SO_REUSEADDR would share a port in use
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)
        else:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.bind(self.server_address)
        self.server_address = self.socket.getsockname()[:2]
        self.server_name, self.server_port = str(self.server_address[0]), int(self.server_address[1])

    def server_activate(self) -> None:
        super().server_activate()
        self.slots = threading.BoundedSemaphore(MAX_REQUESTS)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone mid-request (a sync killed, a connection reset or timed out) is the client's business:
        logged for debugging, not printed as a traceback on the console as if the emulator had failed."""
        failure = sys.exc_info()[1]
        if isinstance(failure, (ConnectionError, TimeoutError)):
            log.debug("client %s went away: %s", client_address, failure)
            return
        log.error("error while serving %s", client_address, exc_info=True)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "register-batch-emulator"
    timeout = IDLE_TIMEOUT
    server: _Server

    def version_string(self) -> str:
        """The Server header: the emulator's name alone (http.server adds a space and Python's version)."""
        return self.server_version

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes: without this, Nagle + delayed ACK cost ~40 ms per reply.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._in_flight = False
        self.server.emulator._connection_opened(self.connection)

    def handle_one_request(self) -> None:
        """Wait for the request's first byte holding no slot, then read and answer it holding one of MAX_REQUESTS."""
        if not self._request_arrived() or not self._slot_taken():
            self.close_connection = True
            return
        try:
            super().handle_one_request()
        finally:
            self.server.slots.release()
            if self._in_flight:
                self._in_flight = False
                self.server.emulator._request_ended(self.connection)

    def _request_arrived(self) -> bool:
        """Whether a request's first byte came: False (the connection is then closed) once the client closed it, it
        sat idle for IDLE_TIMEOUT, or a stop shut it."""
        try:
            return bool(self.rfile.peek(1))  # type: ignore[attr-defined]  # a BufferedReader (rbufsize -1)
        except OSError:  # TimeoutError too
            return False

    def _slot_taken(self) -> bool:
        """Take a slot, waiting while MAX_REQUESTS are being read or answered; False if the emulator stops meanwhile
        (the request is then closed unread, as one read once the stop began is)."""
        while not self.server.slots.acquire(timeout=0.05):
            if self.server.emulator._stopping.is_set():
                return False
        return True

    def parse_request(self) -> bool:
        """The request line and headers are read: from here the request is in flight, and `stop()` waits for its
        answer. One read once the emulator is stopping is not carried out: its connection is closed unanswered."""
        if not super().parse_request():
            return False  # malformed: the stdlib answered it, and nothing reached the store
        if self.server.emulator._request_began(self.connection):
            self._in_flight = True
            return True
        self._drop(reset=False)
        return False

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            self.server.emulator._connection_closed(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """The access log (-vv), with the emulator's tokens and any text shaped as a token masked: a client may put
        one in its request line (`?token=...`, a path), and -vv output is pasted into tickets (review162)."""
        if not log.isEnabledFor(logging.DEBUG):
            return
        message = masked_token_words(format % args)
        for token in self.server.emulator.tokens:
            message = masked_token(message, token)
        log.debug("%s %s", self.address_string(), message)

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = do_GET

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(65537)
                if not line:
                    return None
                length = int(line.split(b";")[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY:
                    return None
                chunk = self.rfile.read(length)
                if len(chunk) < length:
                    return None
                chunks.append(chunk)
                self.rfile.readline(65537)
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0 or length > MAX_BODY:
            return None
        body = self.rfile.read(length) if length else b""
        # Cut short (the client went, or stop() dropped the request): malformed, not a shorter body carried out.
        return body if len(body) == length else None

    def _body_declared(self) -> bool:
        """Whether the headers say a body follows (a length, or chunks)."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            return True
        return (self.headers.get("Content-Length") or "0").strip() not in ("", "0")

    def _discard_body(self) -> None:
        """Once a request refused unread is answered: what the client goes on sending of its body, read and thrown
        away, 64 KiB at a time, for at most LINGER_SECONDS and MAX_BODY bytes, before the connection closes. Closed
        with bytes unread, the connection would be reset, and the client could lose the answer on its way (an httpx
        client sends the body straight after the headers: a 401 would reach it as a connection reset, retried)."""
        left, deadline = MAX_BODY, time.monotonic() + LINGER_SECONDS
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)  # the answer is whole: the client need not wait for the close
            while left > 0 and (wait := deadline - time.monotonic()) > 0:
                self.connection.settimeout(wait)
                chunk = self.rfile.read1(min(65536, left))
                if not chunk:
                    return
                left -= len(chunk)
        except OSError:  # a timeout too
            pass

    def _serve(self) -> None:
        if self._body_declared() and self.server.emulator._refused_unread(self):
            return
        try:
            body = self._read_body()
        except (ValueError, OSError):
            body = None
        if body is None:
            self._send(Response.json(400, {"errors": ["Request body is malformed or too large"]}))
            self.close_connection = True
            return
        target = urlsplit(self.path)
        request = Request(
            method=self.command,
            path=target.path or "/",
            query=target.query,
            headers=self.headers,
            body=body,
            client=self.client_address[0],
        )
        self.server.emulator._dispatch(self, request)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The Date header by the emulator's clock, as Register's answers are by the clock that stamps `updated_at`
        (a test's clock moved back or held still)."""
        return email.utils.formatdate(self.server.emulator.clock() if timestamp is None else timestamp, usegmt=True)

    def _send(self, response: Response) -> None:
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        stopping = self.server.emulator._stopping.is_set()
        if stopping and "Connection" not in response.headers:  # the last answer on this connection: no more is sent
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)
        self.wfile.flush()

    def _drop(self, *, reset: bool) -> None:
        """Close the connection without a reply: with a TCP RST (`reset`), or a plain close."""
        self.close_connection = True
        try:
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        for stream in (self.rfile, self.wfile):
            try:
                stream.close()
            except OSError:
                pass
        try:
            self.connection.close()
        except OSError:
            pass
        # The stdlib flushes and closes these after the method returns; give it harmless stand-ins.
        self.rfile, self.wfile = io.BytesIO(), io.BytesIO()


class PortInUse(ConfigError):
    """`start_emulator(port=N)` on a port another emulator or program listens on (exit 2): one of the library's
    errors, with the `host` and `port`, not a bare `OSError: [Errno 98]` (review182 F9)."""

    # `worded` says the settings as the command line does: "give another --port, or --port 0" (review187 F2).
    TEMPLATE = (
        "cannot listen on {host}:{number}: the port is in use (by another emulator or program): give another {port}, "
        "or {free_port} for a free one"
    )

    def __init__(self, host: str, port: int):
        named = ConfigError.naming(self.TEMPLATE, said={"free_port": "port=0"}, host=host, number=port)
        super().__init__(str(named))
        self.template, self.values, self.said = named.template, named.values, named.said
        self.host = host
        self.port = port


class Emulator:
    """A running emulator: `url` is the server root, `api_url` the versioned API base. Stop it with `stop()`."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        db: str | Path | None = None,
        tokens: tuple[str, ...] | list[str] = (),
        rate_limit: tuple[int, float] | None = DEFAULT_RATE_LIMIT,
        faults: FaultSpec | str | None = None,
        seed: int | None = None,
        latency_ms: float = 0,
        fault_hold: float = DEFAULT_HOLD_SECONDS,
        trn_delay: float = 0.0,
        as_of: date | None = None,
        clock: Callable[[], float] = time.time,
        allow_remote: bool = False,
        ukprns: Mapping[str, str | None] | None = None,
        hooks: bool = True,
        reference: ReferenceData | None = None,
    ):
        """`reference`: the code lists it serves and judges with (`GET /reference-data`, §3), the bundled ones without
        it: another set (`register-batch emulator --reference-data`, a `reference pull` file) rehearses a change of
        Register's lists in the middle of a year. It judges and shows each trainee's codes by these lists each time it
        answers, those of trainees it already holds too (a degree institution they lack shows as Other UK institution,
        null)."""
        if not is_loopback(host) and not allow_remote:
            raise ValueError(f"refusing to listen on {host!r}: not a loopback address (pass allow_remote=True)")
        _check_tokens(tokens)
        self.store = Store(db)
        try:  # options refused (UKPRNs, a fault mix), a port in use: the store is closed, not left to the collector
            self.generated_tokens: tuple[str, ...] = () if tokens else (new_token(),)
            self.tokens: tuple[str, ...] = tuple(tokens) or self.generated_tokens
            self.app = RegisterApp(
                self.store,
                tokens=self.tokens,
                clock=clock,
                as_of=as_of,
                trn_delay=trn_delay,
                ukprns=ukprns,
                reference=reference,
            )
            self.clock = clock
            self.limiter = FixedWindowLimiter(*rate_limit, clock=clock) if rate_limit else None
            self.faults = FaultInjector(faults, seed)
            self.latency = max(0.0, float(latency_ms)) / 1000.0
            self.fault_hold = fault_hold
            self.stats = Stats()
            self._stopping = threading.Event()
            self._serving = False  # serve_forever began: stop() then waits for its loop to end (guarded as below)
            self._dropping = False  # drop_in_flight(): a stop waits for no request in flight (guarded as below)
            self._stopped = threading.Event()  # stop() is over: the store is closed
            self._holds: set[_Hold] = set()  # held under the `timeout` fault, not yet carried out or dropped
            self._holds_changed = threading.Condition()
            # Open connections, and those of them with a request in flight (read, not yet answered), which stop()
            # lets finish; it closes the others. Guarded with `_stopping`'s setting by `_requests_changed`.
            self._connections: set[socket.socket] = set()
            self._busy: set[socket.socket] = set()
            self._requests_changed = threading.Condition()
            server_class = _Server6 if ":" in host.strip("[]") else _Server
            try:
                self._server = server_class((host.strip("[]"), port), _Handler)
            except OSError as exc:
                if exc.errno != errno.EADDRINUSE:
                    raise
                raise PortInUse(host, port) from None
        except BaseException:
            self.store.close()
            raise
        self._server.emulator = self
        # The `/__emulator__` test hooks answer without a token: off for the embedded emulator, whose data is the
        # state dir's, which another user of the machine could otherwise wipe over 127.0.0.1 (review93 F1).
        self.hooks = hooks
        self.host, self.port = self._server.server_name, self._server.server_port
        self._thread: threading.Thread | None = None

    # --- addresses ----------------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}/api/{API_VERSION}"

    # --- lifecycle ----------------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Serve on a background thread."""
        if self._thread is None:
            self._thread = threading.Thread(target=self.serve_forever, name=f"emulator:{self.port}", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in this thread until `stop()` (the CLI's foreground mode). Once stopped, it returns at once."""
        with self._requests_changed:
            if self._stopping.is_set():  # its listening socket is closed: nothing to serve
                return
            self._serving = True
        self._server.serve_forever(poll_interval=0.02)

    def stop(self, timeout: float = DRAIN_SECONDS, draining: Callable[[int], None] | None = None) -> int:
        """Stop in order: accept no more connections and close the idle ones, let the requests in flight be carried
        out and answered (for up to `timeout` seconds, or until `drop_in_flight()`; then they are dropped), then close
        the store. Returns how many requests in flight it dropped so, unanswered. `draining` is told how many requests
        are in flight as it begins to wait for them (not called when there is none): for the foreground emulator to
        say what it waits for, as a wait of seconds looked hung.

        A request held by the `timeout` fault is dropped at once, not waited for; one waiting out the latency is
        carried out now. A request read once the stop began is not carried out: its connection is closed unanswered.
        Each answer sent meanwhile says `Connection: close`. A second call waits for the first to be over (and returns
        0). Called before `start()`, it returns at once, the store closed."""
        dropped = 0
        with self._requests_changed:
            first = not self._stopping.is_set()
            self._stopping.set()
            idle = self._connections - self._busy
            serving = self._serving
        if not first:
            self._stopped.wait()
            return dropped
        try:
            with self._holds_changed:  # a held request is dropped, not waited for
                self._holds_changed.notify_all()
            _shut(idle)
            # socketserver's shutdown() waits for a serve_forever loop to end: for ever for one never begun (stop()
            # before start(), a library user's error path). One about to begin sees the request and ends at once.
            if serving:
                self._server.shutdown()
            self._server.server_close()  # a connection asked for from now on is refused
            deadline = time.monotonic() + timeout
            with self._requests_changed:
                in_flight = 0 if self._dropping else len(self._busy)
            if in_flight and draining is not None:
                draining(in_flight)  # not under the lock: a second Ctrl-C's drop_in_flight() may come meanwhile
            with self._requests_changed:
                while self._busy and not self._dropping and (left := deadline - time.monotonic()) > 0:
                    self._requests_changed.wait(left)
                dropped = len(self._busy)
                left_open = set(self._connections)
            _shut(left_open)  # answered and closing, or still in flight past `timeout`: dropped
            if self._thread is not None:
                self._thread.join(timeout=5)
            self.store.close()
        finally:
            self._stopped.set()
        return dropped

    def drop_in_flight(self) -> None:
        """Make a stop in progress (or the next one) drop the requests in flight now, unanswered, rather than wait for
        them: the foreground emulator's second Ctrl-C. Safe in a signal handler of the thread in `stop()`: the lock
        is re-entrant, and `stop()` lets go of it while it waits."""
        with self._requests_changed:
            self._dropping = True
            self._requests_changed.notify_all()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()

    # --- in-process controls (tests) ----------------------------------------------------------------------

    def set_faults(self, spec: FaultSpec | str | None, seed: int | None = None) -> None:
        """Change the fault mix while running (restarts the random sequence with `seed`)."""
        self.faults.configure(spec, seed)

    def carry_out_held(self, timeout: float = 30.0) -> int:
        """End every hold in progress now, and return once each of those requests has been carried out (committed):
        how many were. A test then says when a held request lands instead of sleeping out `fault_hold`, which is
        slow and, under load, races its next step. TimeoutError if they are not done within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._holds_changed:
            holds = list(self._holds)
            for hold in holds:
                hold.ended = True
            self._holds_changed.notify_all()
            while pending := sum(hold.outcome is None for hold in holds):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"{pending} of the {len(holds)} held request(s) not carried out within {timeout:g} s"
                    )
                self._holds_changed.wait(left)
        return sum(hold.outcome == "carried out" for hold in holds)

    def add_token(self, token: str, ukprn: str | None = None) -> str:
        """Accept one more token (a new provider, with `ukprn` or a fake one); returns its UKPRN."""
        _check_tokens((token,))
        self.tokens = (*self.tokens, token)
        return self.app.add_token(token, ukprn)

    def rotate_token(self, old: str, new: str) -> None:
        """Give `old`'s provider the token `new` in its place, as DfE's support issues a provider a new token and
        revokes the old one: the provider, its UKPRN and trainees stay; `old` is refused from here on."""
        _check_tokens((new,))
        self.app.rotate_token(old, new)
        self.tokens = tuple(new if token == old else token for token in self.tokens)

    def snapshot(self) -> dict[str, Any]:
        with self.store.transaction():
            trainees = self.store.count_trainees()
        return self.stats.snapshot(trainees)

    def discard_trainee(self, trainee_id: str) -> bool:
        """Delete a trainee as someone does in Register's service: a soft delete (`discard`), after which no listing
        has it and a create of the same person is no duplicate (§2.3, §4), while GET /trainees/{trainee_id} still
        answers with it (§2.4). The API has no such request. False when there is no such trainee (of any provider),
        or it is deleted already."""
        with self.store.transaction():
            return self.store.discard_trainee(trainee_id, self.app.now())

    def award_trainee(self, trainee_id: str) -> str | None:
        """Award a trainee recommended for award, as DfE does outside the API (register-api.md §6: recommended →
        awarded), to rehearse the end of the training year: the API takes no write to it after. `awarded_at` is set.
        None when done; else why not: "not found" (no such trainee of any provider, or deleted), "not recommended"."""
        with self.store.transaction():
            trainee = self.store.trainee_by_slug(trainee_id)
            if trainee is None:
                return "not found"
            if trainee["state"] != "recommended_for_award":
                return "not recommended"
            now = self.app.now()
            trainee.update(state="awarded", meta={**trainee["meta"], "awarded_at": now}, updated_at=now)
            self.store.save_trainee(trainee)
        return None

    def reset(self) -> None:
        """Forget all trainees, counts and rate-limit windows (providers and tokens stay)."""
        self.store.reset()
        self.stats.reset()
        if self.limiter:
            self.limiter.reset()

    # --- request path -------------------------------------------------------------------------------------

    def _connection_opened(self, connection: socket.socket) -> None:
        with self._requests_changed:
            self._connections.add(connection)
            stopping = self._stopping.is_set()
        if stopping:  # accepted just as the stop began, after it closed the idle connections
            _shut((connection,))

    def _connection_closed(self, connection: socket.socket) -> None:
        with self._requests_changed:
            self._connections.discard(connection)
            self._busy.discard(connection)
            self._requests_changed.notify_all()

    def _request_began(self, connection: socket.socket) -> bool:
        """Count a request in flight on `connection`; False (not to be carried out) once the emulator is stopping."""
        with self._requests_changed:
            if self._stopping.is_set():
                return False
            self._busy.add(connection)
            return True

    def _request_ended(self, connection: socket.socket) -> None:
        with self._requests_changed:
            self._busy.discard(connection)
            self._requests_changed.notify_all()

    def _reply(self, handler: _Handler, response: Response, *, count: bool = True) -> None:
        if count:
            self.stats.status(response.status)
        try:
            handler._send(response)
        except OSError:
            handler.close_connection = True  # the client went away (e.g. it timed out)

    def _refused_unread(self, handler: _Handler) -> bool:
        """Answer a request whose body has not been read yet, and close its connection, if it would be refused for its
        token (401), or for the rate limit (429), as `_dispatch` and the app check those: before a byte of the body is
        read (review162 F3: a body of up to 64 MiB was held in memory for each connection, token or none). False for
        any other request, to be read and carried out as usual."""
        path = urlsplit(handler.path).path or "/"
        if not path.startswith("/api"):
            return False  # the test hooks and other paths: no token asked for
        resolved = resolve(handler.command, path)
        if not resolved.routable or (resolved.route is not None and not resolved.route.auth):
            return False
        if self.app.knows_token(handler.headers.get("Authorization")):
            return False
        self.stats.request(resolved.key)
        retry_after = self.limiter.hit(handler.client_address[0]) if self.limiter is not None else None
        closing = {"Connection": "close"}
        if retry_after is not None:
            refusal = Response(429, b"Retry later\n", "text/plain", {"Retry-After": str(retry_after), **closing})
        else:
            refusal = replace(UNAUTHORIZED, headers=closing)
        handler.close_connection = True
        self._reply(handler, refusal)
        handler._discard_body()
        return True

    def _dispatch(self, handler: _Handler, request: Request) -> None:
        path = request.path
        if path.startswith("/__emulator__"):
            self._reply(handler, self._hook(request) if self.hooks else _not_found(), count=False)
            return
        if not path.startswith("/api"):
            self._reply(handler, Response.json(404, {"error": "Resource not found"}), count=False)
            return
        resolved = resolve(request.method, path)
        self.stats.request(resolved.key)
        if self.limiter is not None:
            retry_after = self.limiter.hit(request.client)
            if retry_after is not None:
                throttled = Response(429, b"Retry later\n", "text/plain", {"Retry-After": str(retry_after)})
                self._reply(handler, throttled)
                return
        if self.latency:  # cut short by stop(), which waits for the request to be carried out and answered
            self._stopping.wait(self.latency)
        fault = self.faults.draw()
        hold = None
        if fault == "500":
            self.stats.fault("500")
            self._reply(handler, Response.json(500, {"error": "Internal server error"}))
            return
        if fault == "reset":
            self.stats.fault("reset")
            handler._drop(reset=True)
            return
        if fault == "timeout":
            hold = self._hold()
            if hold is None:
                handler._drop(reset=True)
                return
        outcome = "failed"  # a held request whose handling raised did not land: carry_out_held does not count it
        try:
            response = self.app.handle(request, resolved)
            outcome = "carried out"
        except Exception:  # an emulator bug: answer like Rails' exceptions app (§1.5) and keep serving
            # The store closed under a request still in flight past stop()'s timeout: dropped (review146 F1: not a
            # traceback on the console of an emulator told to stop).
            if self._stopping.is_set():
                outcome = "dropped"
                handler._drop(reset=True)
                return
            log.exception("emulator error on %s %s", request.method, path)
            response = Response.json(500, {"error": "Internal server error"})
        finally:
            if hold is not None:
                self._hold_over(hold, outcome)
        if fault == "lost-response" and response.write and 200 <= response.status < 300:
            self.stats.fault("lost-response")
            handler._drop(reset=False)
            return
        self._reply(handler, response)

    def _hold(self) -> _Hold | None:
        """Hold a request for `fault_hold` seconds, or until `carry_out_held()` ends the hold: the hold, to be
        carried out; None if the emulator stops first (the request is dropped)."""
        hold = _Hold()
        deadline = time.monotonic() + self.fault_hold
        with self._holds_changed:
            self._holds.add(hold)
        self.stats.fault("timeout")  # counted once held: a test that sees the count knows carry_out_held() finds it
        with self._holds_changed:
            while not hold.ended and not self._stopping.is_set():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._holds_changed.wait(left)
            if not self._stopping.is_set():  # a hold ended as the emulator stops is dropped all the same
                return hold
        self._hold_over(hold, "dropped")
        return None

    def _hold_over(self, hold: _Hold, outcome: str) -> None:
        with self._holds_changed:
            hold.outcome = outcome
            self._holds.discard(hold)
            self._holds_changed.notify_all()

    def _hook(self, request: Request) -> Response:
        route = (request.method, request.path.rstrip("/"))
        if route == ("GET", "/__emulator__/stats"):
            return Response(200, json_body(self.snapshot()))
        if route == ("POST", "/__emulator__/reset"):
            self.reset()
            return Response(200, json_body({"status": "reset"}))
        if request.method == "POST" and (deleted := _DISCARD.fullmatch(route[1])):
            if self.discard_trainee(deleted.group(1)):
                return Response(200, json_body({"status": "discarded", "trainee_id": deleted.group(1)}))
            return Response(404, json_body({"error": "Trainee(s) not found"}))
        if request.method == "POST" and (awarding := _AWARD.fullmatch(route[1])):
            refused = self.award_trainee(awarding.group(1))
            if refused is None:
                return Response(200, json_body({"status": "awarded", "trainee_id": awarding.group(1)}))
            if refused == "not found":
                return Response(404, json_body({"error": "Trainee(s) not found"}))
            return Response(422, json_body({"error": "Only a trainee recommended for award can be awarded"}))
        return _not_found()


def _shut(connections: Iterable[socket.socket]) -> None:
    """Shut connections down: a handler waiting for the next request on one reads its end and closes it."""
    for connection in connections:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _not_found() -> Response:
    return Response(404, json.dumps({"error": "Resource not found"}).encode())


def start_emulator(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    db: str | Path | None = None,
    tokens: tuple[str, ...] | list[str] = (),
    rate_limit: tuple[int, float] | None = DEFAULT_RATE_LIMIT,
    faults: FaultSpec | str | None = None,
    seed: int | None = None,
    latency_ms: float = 0,
    fault_hold: float = DEFAULT_HOLD_SECONDS,
    trn_delay: float = 0.0,
    as_of: date | None = None,
    clock: Callable[[], float] = time.time,
    allow_remote: bool = False,
    ukprns: Mapping[str, str | None] | None = None,
    hooks: bool = True,
    reference: ReferenceData | None = None,
) -> Emulator:
    """Start an emulator on a background thread and return it (use as a context manager, or call `stop()`).

    The options are `Emulator`'s. `port=0` picks a free port; `db=None` keeps state in memory; no `tokens`
    generates one (`emulator.tokens`); `ukprns` gives a token's provider its UKPRN (default: a stable fake one).
    `rate_limit=None` switches the limit off; `hooks=False` answers the `/__emulator__` test hooks 404 (they need no
    token). `clock` (epoch seconds) drives
    timestamps, the rate-limit windows and TRN allocation; `as_of` fixes the date the validation rules and the
    listing's "now" use. `reference`: the code lists it serves and judges with (the bundled ones without it).
    """
    # Spelt out, not `**options: Any`: a caller's type checker then knows a misspelt option (`ukprn=`) for one.
    return Emulator(
        host=host,
        port=port,
        db=db,
        tokens=tokens,
        rate_limit=rate_limit,
        faults=faults,
        seed=seed,
        latency_ms=latency_ms,
        fault_hold=fault_hold,
        trn_delay=trn_delay,
        as_of=as_of,
        clock=clock,
        allow_remote=allow_remote,
        ukprns=ukprns,
        hooks=hooks,
        reference=reference,
    ).start()


def _check_tokens(tokens: Iterable[str]) -> None:
    """Refuse a token no client could send: `Authorization: Bearer a b` is not one token (register-api.md §1.2). An
    empty one is said to be empty: it holds none of the characters the other refusal names (review156 F6)."""
    tokens = list(tokens)
    if not all(token.strip() for token in tokens):
        raise ValueError(
            "a token is empty (a variable that is not set?): give the token itself, of letters, digits and -._~+/"
        )
    if not all(is_bearer_token(token) for token in tokens):
        raise ValueError(
            "a token holds characters a Bearer token cannot (a space, quote, line break or non-ASCII character): "
            "no client could send it; use letters, digits and -._~+/"
        )
