"""HTTP servers on 127.0.0.1 for what sits between a client and Register when things go wrong: one that gives
every request the same answer (a sign-in portal answering 200 with HTML, a gateway that only ever answers 429),
and one in front of the emulator that can change any answer on its way back."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import httpx

Answer = tuple[int, dict[str, str], bytes]
# An answer with its own reason phrase (a gateway quoting the request back in its status line).
Reasoned = tuple[int, dict[str, str], bytes, str]


@dataclass
class Seen:
    """One request as the server received it."""

    method: str
    path: str  # without the query
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Front:
    url: str
    seen: list[Seen]  # every request received, in order


@contextmanager
def serving(respond: Callable[[http.server.BaseHTTPRequestHandler, Seen], Answer | Reasoned]) -> Iterator[str]:
    """Serve every request with `respond(handler, seen)`, which may give a reason phrase; yields the base URL."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _answer(self) -> None:
            data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            parts = urlsplit(self.path)
            seen = Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), data)
            answer = respond(self, seen)
            status, headers, body = answer[:3]
            self.send_response(status, answer[3] if len(answer) > 3 else None)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        # CONNECT too: a proxy's answer to the tunnel towards an https:// target (HTTPS_PROXY), `seen.path` host:port.
        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_CONNECT = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def answering(status: int, body: bytes, headers: dict[str, str] | None = None) -> Iterator[str]:
    """Serve `status` + `body` to every request; yields the base URL."""
    with serving(lambda _handler, _seen: (status, headers or {}, body)) as url:
        yield url


@contextmanager
def fronting(upstream: str, answer: Callable[[Seen, Callable[[], Answer]], Answer | None]) -> Iterator[Front]:
    """A server on 127.0.0.1 in front of `upstream` (the emulator): `answer(seen, forward)` returns the answer to
    give, which may be a real one (from `forward()`, which passes the request on) changed, or None to pass the
    request on unchanged."""
    received: list[Seen] = []

    def respond(handler: http.server.BaseHTTPRequestHandler, seen: Seen) -> Answer:
        received.append(seen)

        def forward() -> Answer:
            headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
            reply = httpx.request(handler.command, upstream + handler.path, headers=headers, content=seen.body)
            return reply.status_code, {"Content-Type": reply.headers.get("Content-Type", "")}, reply.content

        return answer(seen, forward) or forward()

    with serving(respond) as url:
        yield Front(url, received)


class HoldFirstCreate:
    """A `fronting` answer that holds the first POST until `release` is set (`sent` says it arrived), then passes it
    on: Register carries it out, so a run stopped while it waits must report that create done."""

    def __init__(self) -> None:
        self.sent = threading.Event()
        self.release = threading.Event()

    def __call__(self, seen: Seen, forward: Callable[[], Answer]) -> Answer | None:
        if seen.method == "POST" and not self.sent.is_set():
            self.sent.set()
            self.release.wait(60)
            return forward()
        return None
