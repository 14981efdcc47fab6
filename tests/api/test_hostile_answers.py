"""Answers no Register would give, from a server on 127.0.0.1 written here: a body that never ends, a gzip bomb, a
body that is not the compression it names. Each is a broken answer (a read is retried, a write's outcome is unknown),
never read whole into memory and never an internal error."""

from __future__ import annotations

import email.utils
import gzip
import http.server
import itertools
import json
import os
import re
import resource
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from http import HTTPStatus
from typing import Any

import httpx
import pytest

from cli_runs import sync_command
from emulated import sync_options
from register_batch.api import (
    ApiError,
    OutcomeUnknown,
    RateLimited,
    RateLimiter,
    RegisterClient,
    ServerError,
    TransportError,
)
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from register_batch.sync import sync_files
from stub_http import fronting
from trainee_extracts import WITHDRAWN, extract, trainee, write_extract

TOKEN = "hostile-answers-token"
ANSWER_LIMIT = 64 << 20  # the longest answer read (api/client.py), as the messages say it


@contextmanager
def serving(
    write_answer: Callable[[http.server.BaseHTTPRequestHandler], None], tls: ssl.SSLContext | None = None
) -> Iterator[tuple[str, list[int]]]:
    """A server on 127.0.0.1 that answers every request with `write_answer(handler)` (over TLS with `tls`); yields
    its URL and the bytes of body each answer got onto the wire before the client hung up."""
    written: list[int] = []

    class Counted:
        def __init__(self, stream):
            self.stream = stream

        def write(self, data: bytes) -> int:
            written[-1] += len(data)
            return self.stream.write(data)

        def __getattr__(self, name: str):
            return getattr(self.stream, name)

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            self.request_body = self.rfile.read(int(self.headers.get("Content-Length") or 0))  # for a front to pass on
            written.append(0)
            self.wfile = Counted(self.wfile)
            try:
                write_answer(self)
            except OSError:  # the client hung up: what it was sent so far is counted
                self.close_connection = True

        do_GET = do_POST = do_PUT = do_CONNECT = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}", written
    finally:
        server.shutdown()
        server.server_close()


def endless_body(handler: http.server.BaseHTTPRequestHandler) -> None:
    """200, JSON, then a chunked body that never ends (a broken gateway, a server in a loop)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    chunk = b" " * 65536
    while True:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))


# 2 x ANSWER_LIMIT of Register-shaped JSON in about 200 KB of gzip: a gzip bomb that a client reading whole answers
# decompresses into memory.
BOMB_SIZE = 2 * ANSWER_LIMIT
BOMB = gzip.compress(b'{"data": {"trainee_id": "T1", "padding": "' + b" " * BOMB_SIZE + b'"}}', 6)


def seconds_to_fail(call: Callable[[], object], match: str) -> float:
    """How long `call` took to fail with a TransportError matching `match` (a request ended at its deadline)."""
    started = time.monotonic()
    with pytest.raises(TransportError, match=match):
        call()
    return time.monotonic() - started


def answer_of(
    body: bytes | Callable[[], bytes],
    *,
    encoding: str | None = None,
    content_type: str = "application/json",
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    """An answer (200 unless `status` says) whose body is `body` (or what it makes, when the server is asked), named
    as `content_type` and, if given, compressed as `encoding` says, with any other `headers`."""

    def write(handler: http.server.BaseHTTPRequestHandler) -> None:
        data = body() if callable(body) else body
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        if encoding is not None:
            handler.send_header("Content-Encoding", encoding)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return write


gzip_bomb = answer_of(BOMB, encoding="gzip")
# A body that says gzip and is not (a proxy that mangled it, a server that labels plain JSON wrongly).
not_gzip = answer_of(b'{"data": {"trainee_id": "T1"}}', encoding="gzip")


# gzip of gzip of 96 MiB of JSON: about 100 KB on the wire, a 100 KB chunk that httpx decompresses to the whole
# 96 MiB in one step, before its size can be checked (a third layer makes it any size at all). Made when asked for.
def compressed_twice_body() -> bytes:
    return gzip.compress(gzip.compress(b'{"data": {"padding": "' + b" " * (96 << 20) + b'"}}', 9), 9)


def nested(depth: int, inner: str) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    """A 200 of JSON nested `depth` deep around `inner` (JSON text): Python reads it, though no answer of Register's
    goes past a few levels."""
    return answer_of(b'{"data": ' + b'{"a": ' * depth + inner.encode() + b"}" * depth + b"}")


def client(url: str, **extra) -> RegisterClient:
    settings = {"limiter": RateLimiter(10_000, 1), "share_budget": False, "timeout": 5, **extra}
    return RegisterClient(url, TOKEN, **settings)


def test_a_gzip_bomb_is_refused_once_it_has_given_more_than_any_answer_of_registers():
    """Read whole, it was 2 x ANSWER_LIMIT in memory (then taken as a trainee): an endless one was a MemoryError."""
    with serving(gzip_bomb) as (url, _written), client(url, attempts=2) as register:
        with pytest.raises(ServerError, match=r"^GET /trainees/T1 -> 200: the answer was longer than 64 MiB"):
            register.get_trainee("T1")
        assert register.stats.total == 2  # a read: tried again, as for any broken answer
        with pytest.raises(OutcomeUnknown, match=r"^POST /trainees -> 200: the answer was longer than 64 MiB"):
            register.create_trainee({"first_names": "Ann"})  # a write: whether it was done is unknown
        assert register.stats.total == 3


def test_a_body_that_never_ends_is_read_no_further_than_the_limit():
    with (
        serving(endless_body) as (url, written),
        client(url, attempts=1) as register,
        pytest.raises(ServerError, match="the answer was longer than 64 MiB"),
    ):
        register.info()
    assert len(written) == 1 and ANSWER_LIMIT < written[0] < ANSWER_LIMIT + (16 << 20)  # socket buffers' worth more


@pytest.mark.parametrize("call", ["read", "write"])
def test_a_body_that_is_not_the_compression_it_names_is_a_broken_answer(call):
    """httpx's DecodingError is no TransportError: it went past the client, and a sync ended as an internal error."""
    with serving(not_gzip) as (url, _written), client(url, attempts=2) as register:
        if call == "read":
            with pytest.raises(ServerError, match=r"^GET /info -> 200: the answer could not be decompressed \(gzip"):
                register.info()
            assert register.stats.total == 2
        else:
            with pytest.raises(OutcomeUnknown, match=r"^POST /trainees -> 200: the answer could not be decompressed"):
                register.create_trainee({"first_names": "Ann"})
            assert register.stats.total == 1


def test_an_answer_compressed_more_than_once_is_refused_before_it_is_decompressed():
    """Register compresses an answer once, if at all. Undone layer by layer, 100 KB took 96 MiB of memory before the
    limit was checked (and 2 GiB at a gigabyte inside)."""
    # The body made before the client asks: compressing 96 MiB while it waited took longer than its 5 s timeout on
    # a loaded machine (a CI run at load 15 failed with "no reply in time").
    ready = answer_of(compressed_twice_body(), encoding="gzip, gzip")
    with (
        serving(ready) as (url, _written),
        client(url, attempts=1) as register,
        pytest.raises(ServerError, match=r"^GET /info -> 200: the answer was compressed more than once"),
    ):
        register.info()


@pytest.mark.parametrize("named", ["gzip", "GZIP , identity", "gzip,\tidentity", "identity, gzip"])
def test_an_answer_compressed_once_is_read_however_its_one_compression_is_written(named):
    body = gzip.compress(json.dumps({"data": {"version": "v2026.1"}}).encode())
    with serving(answer_of(body, encoding=named)) as (url, _written), client(url, attempts=1) as register:
        assert register.info() == {"data": {"version": "v2026.1"}}


def test_a_deeply_nested_answer_with_a_json_escape_is_read_as_any_other():
    """An escape (`\\u0041`) may spell the token, so it had every such answer searched through, which for JSON nested
    some 500 deep ran out of stack: an internal error. Only an answer whose escapes spell the token is searched."""
    with serving(nested(600, '"\\u0041"')) as (url, _written), client(url, attempts=1) as register:
        assert register.info()["data"]["a"]["a"]["a"] is not None


def test_a_deeply_nested_answer_quoting_the_token_is_a_broken_answer_that_does_not_show_it():
    escaped = "".join(f"\\u{ord(character):04x}" for character in TOKEN)
    with (
        serving(nested(600, f'"{escaped}"')) as (url, _written),
        client(url, attempts=1) as register,
        pytest.raises(ServerError, match="nested too deep") as caught,
    ):
        register.info()
    assert TOKEN not in str(caught.value) + repr(caught.value.body)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-32"])
def test_json_in_another_unicode_encoding_is_not_registers_answer_and_never_shows_the_token(encoding):
    """Python reads JSON bytes in UTF-16 or UTF-32 as well as UTF-8, but the token is looked for in the answer's
    bytes as UTF-8: a server echoing the Authorization header into a trainee, in UTF-16, had the token go into the
    data a sync keeps and an export writes."""
    body = json.dumps({"data": {"trainee_id": "T1", "first_names": TOKEN, "last_name": "Ng"}}).encode(encoding)
    with (
        serving(answer_of(body, content_type=f"application/json; charset={encoding}")) as (url, _written),
        client(url, attempts=1) as register,
        pytest.raises(ServerError, match="not Register's JSON") as caught,
    ):
        register.get_trainee("T1")
    assert TOKEN not in str(caught.value) + repr(caught.value.body)


def test_an_answer_with_a_utf8_byte_order_mark_is_read():
    marked = b"\xef\xbb\xbf" + b'{"data": {"version": "v2026.1"}}'
    with serving(answer_of(marked)) as (url, _written), client(url) as register:
        assert register.info() == {"data": {"version": "v2026.1"}}


def test_a_refusal_in_utf16_without_a_charset_never_shows_the_token():
    """Decoded as UTF-8 (no charset named), UTF-16 text holds the token with a NUL between its characters: the mask
    did not find it, and a terminal shows it whole. Text that is not UTF-8 is not quoted."""
    quoted = json.dumps({"errors": [{"error": "UnprocessableEntity", "message": f"Bearer {TOKEN}"}]})
    with (
        serving(answer_of(quoted.encode("utf-16-le"), status=422)) as (url, _written),
        client(url, attempts=1) as register,
        pytest.raises(ApiError) as caught,
    ):
        register.get_trainee("T1")
    assert TOKEN not in str(caught.value).replace("\x00", "") + repr(caught.value.body).replace("\\x00", "")


def _memory_limited() -> None:
    """The child's address space capped (2 GiB), so that a client reading an endless answer whole fails there with a
    MemoryError instead of taking this machine's memory."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def sync_answered_by(
    write_answer: Callable[[http.server.BaseHTTPRequestHandler], None], tmp_path, **run: Any
) -> tuple[subprocess.CompletedProcess, list[int]]:
    """`register-batch sync` of a two-record extract, in a process of its own, against a server that answers every
    request with `write_answer`; with the bytes of body each answer got onto the wire."""
    source = extract(tmp_path / "in.csv", 2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(tmp_path / "home"), REGISTER_API_TOKEN=TOKEN, REGISTER_BATCH_RATE_DIR="off")
    with serving(write_answer) as (url, written):
        done = subprocess.run(
            sync_command(source, url, tmp_path / "state", tmp_path / "reports", "2026-11-28"),
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            **run,
        )
    return done, written


@pytest.mark.slow
def test_a_sync_whose_listing_never_ends_stops_in_one_line_with_nothing_written(tmp_path):
    run, written = sync_answered_by(endless_body, tmp_path, preexec_fn=_memory_limited)
    assert len(written) == 6  # a listing is a read: tried as often as any (attempts), each cut at the limit
    assert run.returncode == 3, run.stderr  # Register unreachable while listing: run again (exit-codes.md, review208)
    assert _run_named(run.stderr).splitlines() == [
        "register-batch: error: Register was unavailable (GET /trainees -> 200: the answer was longer than 64 MiB "
        "(not Register's answer?)); nothing was written. Run again later."
    ]


def _run_named(said: str) -> str:
    """`said` without the ledger run and time its last line ends with, once a run row exists (review208 F6)."""
    return re.sub(r" Ledger run \d+, [0-9T:.-]+Z\.$", "", said.rstrip("\n"))


def json_answer(body: object) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    return answer_of(json.dumps(body).encode())


# Trainees no Register lists: a value of the wrong type where the sync matches records (each was an internal error,
# exit 70: a list as trainee_id in the client, a list as last_name in the plan's matching).
NOT_TRAINEES = {
    "trainee_id a list": {"trainee_id": ["T1"], "hesa_id": "2510000000001"},
    "trainee_id a number": {"trainee_id": 7, "hesa_id": "2510000000001"},
    "last_name a list": {"trainee_id": "T1", "last_name": ["Lee"], "date_of_birth": "1990-01-01"},
    "hesa_id a number": {"trainee_id": "T1", "hesa_id": 2510000000001},
    "first_names an object": {"trainee_id": "T1", "first_names": {"given": "Ann"}},
}


@pytest.mark.parametrize("item", list(NOT_TRAINEES))
def test_a_listed_or_fetched_trainee_of_the_wrong_shape_is_not_registers_answer(item):
    trainee = NOT_TRAINEES[item]
    listing = {"data": [trainee], "meta": {"total_pages": 1, "total_count": 1}}
    with (
        serving(json_answer(listing)) as (url, _written),
        client(url, attempts=1) as register,
        pytest.raises(ServerError, match=r"^GET /trainees -> 200: the listing held something other than trainees"),
    ):
        list(register.iter_trainees(academic_cycle=2025))
    with (
        serving(json_answer(trainee)) as (url, _written),
        client(url, attempts=1) as register,
        pytest.raises(ServerError, match=r"^GET /trainees/T1 -> 200: the answer had no trainee in it"),
    ):
        register.get_trainee("T1")


def test_a_sync_whose_listing_holds_a_trainee_of_the_wrong_shape_stops_in_one_line(tmp_path):
    listing = {"data": [NOT_TRAINEES["last_name a list"]], "meta": {"total_pages": 1, "total_count": 1}}
    run, written = sync_answered_by(json_answer(listing), tmp_path)
    assert run.returncode == 3, run.stderr
    assert _run_named(run.stderr).splitlines() == [
        "register-batch: error: Register was unavailable (GET /trainees -> 200: the listing held something other "
        "than trainees); nothing was written. Run again later."
    ]
    assert len(written) == 1  # the listing, and nothing sent after it


NOT_IDS = {"a number": 12345, "a list": ["T1"], "empty": ""}
VALID_CREATE = {  # a trainee the emulator creates
    "first_names": "Ann",
    "last_name": "Lee",
    "date_of_birth": "1990-01-01",
    "sex": "10",
    "email": "ann@example.com",
    "training_route": "11",
    "itt_start_date": "2025-09-01",
    "itt_end_date": "2026-07-31",
    "course_subject_1": "100346",
    "study_mode": "01",
    "hesa_id": "0000000000001",
    "itt_aim": "201",
    "course_year": "1",
    "course_age_range": "13918",
    "fund_code": "2",
    "funding_method": "6",
}


def ids_replaced(given: object):
    """A front for the emulator whose creates are carried out and answered with `given` as the trainee_id."""

    def answer(seen, forward):
        if seen.method != "POST" or not seen.path.endswith("/trainees"):
            return None
        status, headers, content = forward()
        if status == 201:
            created = json.loads(content)
            created["data"]["trainee_id"] = given
            content = json.dumps(created).encode()
        return status, headers, content

    return answer


@pytest.mark.parametrize("given", list(NOT_IDS))
def test_a_create_answered_with_no_usable_trainee_id_has_an_unknown_outcome(given):
    """Taken as the new trainee's id, it went into the ledger: a number linked every record to a trainee Register does
    not have (the next sync said `conflict` for each), a list was an internal error after the create."""
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None) as emulator,
        fronting(emulator.url, ids_replaced(NOT_IDS[given])) as front,
        client(front.url, attempts=1) as register,
        pytest.raises(OutcomeUnknown, match=r"^POST /trainees -> 201: the answer had no trainee in it"),
    ):
        register.create_trainee(VALID_CREATE)


@pytest.mark.slow
def test_a_sync_whose_creates_are_answered_with_numbers_for_ids_creates_each_once_and_links_the_real_ones(tmp_path):
    source = extract(tmp_path / "in.csv", 4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env.update(HOME=str(tmp_path / "home"), REGISTER_API_TOKEN=TOKEN, REGISTER_BATCH_RATE_DIR="off")
    command = sync_command(source, "", tmp_path / "state", tmp_path / "reports", "2026-11-28")
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, ukprns={TOKEN: "10000000"}) as emulator,
        fronting(emulator.url, ids_replaced(NOT_IDS["a number"])) as front,
    ):
        command[command.index("--target") + 1] = front.url
        first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
        created = emulator.snapshot()["requests"]["by_route"]["POST /trainees"]
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert "4 records: 4 unchanged." in second.stdout
    assert created == 4


# A server holding a request open past every timeout: a byte every DRIP_EVERY seconds (inside the read timeout of
# these tests' clients, 0.5 s), DRIP_FOR seconds in all before the answer is whole (far past their deadline).
DRIP_EVERY = 0.2
DRIP_FOR = 20.0
READ_TIMEOUT = 0.5


def drip(handler: http.server.BaseHTTPRequestHandler, where: str, status: int, body: bytes) -> None:
    """Answer `status` and `body`, the headers (`where="headers"`) or the body coming a byte at a time for DRIP_FOR
    seconds first (a header's value, or blanks before the JSON, which JSON allows)."""
    out = handler.wfile
    held = int(DRIP_FOR / DRIP_EVERY)
    out.write(b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n" % (status, HTTPStatus(status).phrase.encode()))
    if where == "headers":
        out.write(b"X-Held: ")
        for _ in range(held):
            out.write(b"x")
            time.sleep(DRIP_EVERY)
        out.write(b"\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
        return
    out.write(b"Content-Length: %d\r\n\r\n" % (held + len(body)))
    for _ in range(held):
        out.write(b" ")
        time.sleep(DRIP_EVERY)
    out.write(body)


@pytest.mark.parametrize("deadline", [None, 1.0])
@pytest.mark.parametrize("where", ["headers", "body"])
def test_an_answer_dripped_inside_every_read_timeout_ends_at_the_requests_deadline(where, deadline):
    """httpx's timeouts bound each wait for a byte, not a request: a server sending a byte just inside each one held a
    request for as long as it went on (hours). Past the request's deadline (DEADLINE_TIMEOUTS read timeouts unless
    set) it is a timeout like any other."""
    info = json.dumps({"data": {"version": "v2026.1"}}).encode()
    expected = 5 * READ_TIMEOUT if deadline is None else deadline
    with (
        serving(lambda handler: drip(handler, where, 200, info)) as (url, _written),
        client(url, attempts=1, timeout=READ_TIMEOUT, deadline=deadline) as register,
    ):
        took = seconds_to_fail(
            lambda: register.info(), rf"^GET /info: no reply in time \(none whole in {expected:g} s\)"
        )
    assert expected - 0.1 < took < expected + 2.5  # not DRIP_FOR


def test_a_create_dripped_past_its_deadline_has_an_unknown_outcome_and_is_not_sent_again():
    """Like a create whose answer timed out: it may have been carried out, so it is looked up, never resent."""
    created = json.dumps({"data": {**VALID_CREATE, "trainee_id": "T1"}}).encode()
    with (
        serving(lambda handler: drip(handler, "body", 201, created)) as (url, written),
        client(url, timeout=READ_TIMEOUT) as register,
        pytest.raises(OutcomeUnknown, match=r"^POST /trainees: no reply in time"),
    ):
        register.create_trainee(VALID_CREATE)
    assert register.stats.total == 1 and len(written) == 1


@pytest.mark.parametrize("deadline", [0, -1.0, float("nan"), float("inf"), "60", True])
def test_a_deadline_that_is_no_number_of_seconds_is_refused(deadline):
    with pytest.raises(ConfigError, match="deadline must be a number of seconds above 0"):
        client("http://127.0.0.1:9", deadline=deadline)


def test_a_port_that_never_takes_the_connection_ends_at_the_requests_deadline():
    """A host whose port drops the connection's first packet (a firewall, a full accept queue) holds a connect for as
    long as its timeout allows: no longer than the request's deadline."""
    with (
        socket.create_server(("127.0.0.1", 0), backlog=0) as listener,
        socket.create_connection(listener.getsockname()),  # the queue is full: the next connection hangs
        client(f"http://127.0.0.1:{listener.getsockname()[1]}", attempts=1, timeout=5, deadline=1.0) as register,
    ):
        took = seconds_to_fail(register.info, r"^GET /info: could not connect \(ConnectTimeout\)")
    assert 0.9 < took < 3.0  # not the connect timeout of 5 s


def test_a_deadline_gone_by_before_the_first_wait_is_a_timeout_not_an_internal_error():
    """A deadline that has passed when a wait on the network begins (a microsecond's, or one that a slow machine used
    up between two reads) is a timeout like any other: the wait is not begun with no time, or less than none, left."""
    with (
        serving(json_answer({"data": {"version": "v2026.1"}})) as (url, written),
        client(url, attempts=1, deadline=1e-6) as register,  # gone by before the connection is opened
        pytest.raises(TransportError, match=r"^GET /info: could not connect \(ConnectTimeout\)"),
    ):
        register.info()
    assert written == []


def test_a_tls_handshake_never_answered_ends_at_the_requests_deadline(monkeypatch):
    """A port that takes the connection and never answers the TLS handshake (a stuck proxy or load balancer in front
    of an https target, as sandbox and production are) holds the request no longer than its deadline."""
    for name in PROXY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    with (
        socket.create_server(("127.0.0.1", 0)) as listener,  # the kernel takes the connection; nobody answers
        client(f"https://127.0.0.1:{listener.getsockname()[1]}", attempts=1, timeout=5, deadline=1.0) as register,
    ):
        took = seconds_to_fail(register.info, r"^GET /info: could not connect \(ConnectTimeout\)")
    assert 0.9 < took < 3.0  # not the connect timeout of 5 s


def test_an_answer_dripped_over_tls_ends_at_the_requests_deadline(tmp_path, monkeypatch):
    """Sandbox and production are https: a dripped answer there ends at the deadline too, its reads being the TLS
    connection's, not those of the plain one under it."""
    cert, key = self_signed(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    for name in PROXY_SETTINGS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # this test's certificate, trusted as a CA's would be
    info = json.dumps({"data": {"version": "v2026.1"}}).encode()
    with serving(answer_of(info), tls=context) as (url, _written), client(url, attempts=1) as register:
        assert register.info()["data"] == {"version": "v2026.1"}  # the TLS connection itself works
    with (
        serving(lambda handler: drip(handler, "body", 200, info), tls=context) as (url, _written),
        client(url, attempts=1, timeout=READ_TIMEOUT, deadline=1.0) as register,
    ):
        took = seconds_to_fail(register.info, r"^GET /info: no reply in time \(none whole in 1 s\)")
    assert 0.9 < took < 3.5  # not DRIP_FOR


def test_a_proxy_dripping_its_answer_ends_at_the_requests_deadline(monkeypatch):
    """Towards an https target through the proxy the environment names (HTTPS_PROXY), the connection to the proxy
    keeps to the deadline too: a proxy answering the tunnel's CONNECT a byte at a time holds the request no longer."""
    for name in (*PROXY_SETTINGS, "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    with serving(lambda handler: drip(handler, "headers", 200, b"")) as (proxy, _written):
        monkeypatch.setenv("HTTPS_PROXY", proxy)
        with client("https://127.0.0.1:9", attempts=1, timeout=READ_TIMEOUT, deadline=1.0) as register:
            took = seconds_to_fail(register.info, r"^GET /info: no reply in time \(none whole in 1 s\)")
    assert 0.9 < took < 3.5  # not DRIP_FOR


def test_a_request_whose_body_the_server_never_takes_ends_at_its_deadline():
    """A server that takes the connection and reads nothing: once the body fills the connection's buffers, the
    write waits no longer than the request's deadline (a timeout, as a late answer is)."""
    with socket.create_server(("127.0.0.1", 0)) as listener:  # the kernel takes the connection; nobody reads
        # The connection's receive buffer stays small (not grown towards tcp_rmem's 32 MiB): 16 MiB of body is more
        # than the buffers hold, and making that much JSON leaves a slow machine most of the deadline.
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 16)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}"
        with client(url, attempts=1, timeout=30, deadline=3.0) as register:
            took = seconds_to_fail(
                lambda: register.update_trainee("T1", {"first_names": "A" * (16 << 20)}),  # more than the buffers
                r"^PUT /trainees/T1: no reply in time \(none whole in 3 s\)",
            )
    # Not the write timeout of 30 s. The deadline counts from the request's start, so it leaves a loaded machine
    # time to make the JSON and connect (with 1 s and 64 MiB, it once ran out before the connection was made; with
    # 3 s and 64 MiB, once on a machine running 2.6 times slower than usual).
    assert 2.9 < took < 15.0


PROXY_SETTINGS = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made by openssl."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    made = subprocess.run(
        [
            *("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(cert)),
            *("-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"),
        ],
        capture_output=True,
    )
    if made.returncode != 0:
        pytest.skip(f"openssl cannot make a test certificate: {made.stderr[-300:]!r}")
    return str(cert), str(key)


def creates_dripped(upstream: str) -> Callable[[http.server.BaseHTTPRequestHandler], None]:
    """A front for the emulator: every request is passed on, and a create's answer (the trainee created) comes back
    dripped past any deadline."""

    def write(handler: http.server.BaseHTTPRequestHandler) -> None:
        headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "content-length")}
        reply = httpx.request(handler.command, upstream + handler.path, headers=headers, content=handler.request_body)
        if handler.command == "POST" and handler.path.endswith("/trainees"):
            drip(handler, "body", reply.status_code, reply.content)
        else:
            answer_of(reply.content, status=reply.status_code)(handler)

    return write


def test_a_sync_whose_creates_are_answered_past_their_deadline_creates_each_trainee_once(tmp_path):
    """Each create is carried out and its answer dripped: the sync finds each trainee in Register's listing, as after
    a timeout, and sends no create twice."""
    as_of = date(2026, 11, 28)
    source = extract(tmp_path / "in.csv", 2)
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=as_of) as emulator,
        serving(creates_dripped(emulator.url)) as (url, _written),
        client(url, timeout=READ_TIMEOUT, deadline=1.0) as register,
    ):
        options = sync_options(emulator, tmp_path, TOKEN, target=url, as_of=as_of, timeout=READ_TIMEOUT)
        started = time.monotonic()
        result = sync_files([str(source)], options, client=register)
        took = time.monotonic() - started
        created = emulator.snapshot()["requests"]["by_route"]["POST /trainees"]
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as direct:
            held = list(direct.iter_trainees(academic_cycle=2025))
    assert [(r.outcome, r.plan.action, r.plan.matched_by) for r in result.results] == [
        ("done", "create", "listing after an unknown create")
    ] * 2
    assert created == 2 and sorted(t["hesa_id"] for t in held) == sorted(r.plan.hesa_id for r in result.results)
    assert took < DRIP_FOR


@pytest.mark.parametrize(
    "header", ["0", email.utils.formatdate(time.time() - 3600, usegmt=True)], ids=["zero", "a date past"]
)
def test_a_retry_after_of_no_time_still_backs_off_as_any_retry(header):
    """A gateway's 429 saying `Retry-After: 0` (or a time gone by) had every try sent at once: six requests in some
    40 ms, and the run gave up. A retry waits at least as long as after any other failure (0.2 s, then 0.4 s, ...)."""
    arrivals: list[float] = []
    throttled = answer_of(b"Retry later\n", content_type="text/plain", status=429, headers={"Retry-After": header})

    def write(handler: http.server.BaseHTTPRequestHandler) -> None:
        arrivals.append(time.monotonic())
        throttled(handler)

    with serving(write) as (url, _written), client(url, attempts=3) as register, pytest.raises(RateLimited):
        register.info()
    gaps = [later - earlier for earlier, later in itertools.pairwise(arrivals)]
    # and not much longer (a loaded machine adds its own delay: the bound is loose)
    assert len(arrivals) == 3 and 0.2 <= gaps[0] < 0.8 and 0.4 <= gaps[1] < 1.6, gaps


# JSON a gateway or a proxy answers a write with, 200, that is no trainee of Register's; and Register's answer for
# another trainee than the one written.
NOT_THE_TRAINEE_WRITTEN = {
    "a gateway's own JSON": {"data": {"status": "ok"}},
    "an empty object": {"data": {}},
    "another trainee": {"data": {**VALID_CREATE, "trainee_id": "T2"}},
    "a trainee of the wrong shape": {"data": {**VALID_CREATE, "trainee_id": "T1", "last_name": ["Lee"]}},
}


@pytest.mark.parametrize("answer", list(NOT_THE_TRAINEE_WRITTEN))
@pytest.mark.parametrize("write", ["update", "withdraw", "defer"])
def test_a_write_answered_with_no_trainee_of_its_own_is_not_taken_as_done(write, answer):
    """Register answers an update, a withdrawal and a deferral with the trainee (register-api.md §2.6-§2.8): any other
    200 only had a `data` object to be taken for Register's, and the sync recorded the write as done. An update is
    tried again (sending it again is safe) and then stops the run as Register unavailable; a withdrawal or deferral
    (a POST) has an unknown outcome, which the sync resolves by looking at the trainee's state."""
    with serving(json_answer(NOT_THE_TRAINEE_WRITTEN[answer])) as (url, written), client(url, attempts=2) as register:
        call = {"update": register.update_trainee, "withdraw": register.withdraw, "defer": register.defer}[write]
        with pytest.raises(ServerError if write == "update" else OutcomeUnknown) as caught:
            call("T1", {"first_names": "Ann"})
    assert caught.value.messages == ["the answer had no trainee T1 in it (not Register's answer?)"]
    assert len(written) == (2 if write == "update" else 1)


def test_writes_answered_by_register_with_the_trainee_are_done():
    """The check above takes Register's own answers: the emulator's update, deferral and withdrawal of a trainee."""
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=date(2026, 11, 28)) as emulator,
        client(emulator.url) as register,
    ):
        trainee_id = register.create_trainee(VALID_CREATE)["trainee_id"]
        assert register.update_trainee(trainee_id, {"first_names": "Anne"})["first_names"] == "Anne"
        assert register.defer(trainee_id, {"defer_date": "2025-10-01"})["state"] == "deferred"
        withdrawn = register.withdraw(
            trainee_id,
            {
                "reasons": ["safeguarding_concerns"],
                "withdrawal_date": "2025-10-02",
                "trigger": "provider",
                "future_interest": "no",
                "safeguarding_concern_reasons": "Some reasons",
            },
        )
        assert withdrawn["state"] == "withdrawn" and withdrawn["trainee_id"] == trainee_id


def test_a_listing_whose_trainees_have_no_trainee_id_is_not_registers_answer():
    """Register lists every trainee with its id (§3.6). Without one, each after the first was dropped as a repeat
    of it: a drift report or an export silently left trainees out."""
    listing = {
        "data": [{"hesa_id": f"251000000000{n}", "last_name": f"Lee{n}"} for n in range(1, 4)],
        "meta": {"total_pages": 1, "total_count": 3},
    }
    with (
        serving(json_answer(listing)) as (url, _written),
        client(url, attempts=1) as register,
        pytest.raises(ServerError, match=r"^GET /trainees -> 200: the listing held a trainee without its trainee_id"),
    ):
        list(register.iter_trainees(academic_cycle=2025))


def test_a_sync_whose_withdrawal_a_gateway_answers_with_its_own_json_does_not_report_it_done(tmp_path):
    """The gateway answers the withdrawal itself, 200, without passing it on: Register's trainee is not withdrawn,
    and the run said `done`. Now the withdrawal's outcome is unknown: the sync looks at the trainee's state, sends it
    once more, and leaves the record `unknown` for the next run."""
    as_of = date(2026, 11, 28)

    def gateway(seen, forward):
        return (
            (200, {"Content-Type": "application/json"}, b'{"data": {"status": "ok"}}')
            if "/withdraw" in seen.path
            else None
        )

    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=as_of) as emulator,
        fronting(emulator.url, gateway) as front,
    ):
        options = sync_options(emulator, tmp_path, TOKEN, target=front.url, as_of=as_of)
        sync_files([str(extract(tmp_path / "in.csv", 1))], options)
        withdrawn = write_extract(tmp_path / "withdrawn.csv", [{**trainee(1), **WITHDRAWN}])
        result = sync_files([str(withdrawn)], options)
        sent = emulator.snapshot()["requests"]["by_route"].get("POST /trainees/{trainee_id}/withdraw", 0)
        with RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(10_000, 1)) as direct:
            [held] = list(direct.iter_trainees(academic_cycle=2025))
    [record] = result.results
    assert (record.plan.action, record.outcome) == ("withdraw", "unknown")
    assert held["state"] != "withdrawn" and sent == 0
    assert [seen.method for seen in front.seen if "/withdraw" in seen.path] == ["POST", "POST"]


@pytest.mark.parametrize(
    "between",
    [
        "\\u0000",
        "\\u200b",
        "\\u00ad",
        "\\u034f",
        "\\ufe0f",
        "\\udb40\\udc20",
        "\u200b",
        "\u00a0",
        " ",
        "\x7f",
        "\u200b\\u0000",
        "\\n",
        "\\r\\n",
        "\\t",
    ],
    ids=[
        "an escaped NUL",
        "an escaped zero-width space",
        "an escaped soft hyphen",
        "an escaped combining grapheme joiner",
        "an escaped variation selector",
        "an escaped tag character",
        "a zero-width space",
        "a no-break space",
        "a space",
        "a DEL",
        "a zero-width space and an escaped NUL",
        "an escaped line break",
        "an escaped CRLF",
        "an escaped tab",
    ],
)
@pytest.mark.parametrize("also_as_it_is", [False, True], ids=["spread only", "also as it is"])
def test_a_token_with_characters_that_show_nothing_between_its_own_is_never_shown(between, also_as_it_is):
    """A gateway wrapping a UTF-16 body in its JSON (`s\\u0000a\\u0000n...`), or one putting escaped zero-width
    characters between the token's: the mask looked for the token as it is, and the refusal's line showed it with
    `\\x00` or nothing between its characters, as plain to read. Quoted as it is too, in the same message: the mask
    stopped at that one."""
    spread = between.join(TOKEN)
    plain = f", not {TOKEN}" if also_as_it_is else ""
    quoted = '{"errors": [{"error": "Unauthorized", "message": "Bearer ' + spread + plain + '"}]}'
    with (
        serving(answer_of(quoted.encode(), status=422)) as (url, _written),
        client(url, attempts=1) as register,
        pytest.raises(ApiError) as caught,
    ):
        register.get_trainee("T1")
    shown = str(caught.value) + repr(caught.value.body)
    shown = re.sub(r"\\x[0-9a-f]{2}|\\u[0-9a-f]{4}|\\U[0-9a-f]{8}|\\[nrtbf]|[^\x21-\x7e]", "", shown)  # shows nothing
    masked = ": Bearer ********" + (", not ********" if also_as_it_is else "")
    assert TOKEN not in shown and str(caught.value).endswith(masked)  # the token masked, and only it


@pytest.mark.parametrize(
    "message",
    ["Bearer {token} is not valid.\nSee the guidance", "Unknown field\tfirst_names\nfor this trainee"],
    ids=["quoting the token", "not quoting it"],
)
def test_the_mask_changes_nothing_else_of_an_answer(message):
    """The search for a token spread by characters that show nothing takes those characters out only where it finds
    the token so: any other answer's line breaks and tabs stay, so that its words do not run together."""
    token = "sandbox_" + "7c" * 32
    quoted = {"errors": [{"error": "Unprocessable", "message": message.format(token=token)}]}
    with (
        serving(answer_of(json.dumps(quoted).encode(), status=422)) as (url, _written),
        RegisterClient(url, token, limiter=RateLimiter(10_000, 1), share_budget=False, attempts=1) as register,
        pytest.raises(ApiError) as caught,
    ):
        register.get_trainee("T1")
    shown = message.format(token="********")
    assert str(caught.value) == f"GET /trainees/T1 -> 422: {shown}"
    assert caught.value.body == {"errors": [{"error": "Unprocessable", "message": shown}]}


def test_a_connection_the_server_closed_while_idle_is_not_used_for_a_create():
    """A server (a gateway's idle timeout) closing a kept-alive connection between two requests, without saying so:
    the next one opens a new connection. Sent on the closed one, a create's outcome would be unknown."""
    created = json.dumps({"data": {**VALID_CREATE, "trainee_id": "T1"}}).encode()
    answer = answer_of(created, status=201)

    def answer_then_hang_up(handler: http.server.BaseHTTPRequestHandler) -> None:
        answer(handler)
        handler.close_connection = True  # no `Connection: close` said: the client learns it only from the socket

    with serving(answer_then_hang_up) as (url, written), client(url, attempts=1) as register:
        register.info()
        time.sleep(0.2)  # the server has closed the connection by now
        assert register.create_trainee(VALID_CREATE)["trainee_id"] == "T1"
    assert len(written) == 2


def test_a_client_given_its_own_transport_needs_no_network_deadline():
    """A library caller's transport (httpx.MockTransport in its tests) has no connections to keep to a deadline: the
    client is made and answers as the transport says."""
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": {"version": "v2026.1"}}))
    with client("http://127.0.0.1:9", transport=transport) as register:
        assert register.info()["data"] == {"version": "v2026.1"}


def test_closing_a_client_closes_the_connection_it_kept_alive():
    """A nightly job's client is closed when its sync ends: the kept-alive connection goes with it, not left open
    (the server's worker and socket held) until the process ends or the garbage collector finds it."""
    with socket.create_server(("127.0.0.1", 0)) as listening:
        listening.settimeout(5)
        register = client(f"http://127.0.0.1:{listening.getsockname()[1]}", attempts=1)
        answer = json.dumps({"data": {"version": "v2026.1"}}).encode()
        got: dict[str, bytes] = {}

        def answer_once() -> None:
            connection, _ = listening.accept()
            got["connection"] = connection
            request = b""
            while b"\r\n\r\n" not in request:
                request += connection.recv(4096)
            head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(answer)}\r\n\r\n"
            connection.sendall(head.encode() + answer)

        server = threading.Thread(target=answer_once)
        server.start()
        assert register.info()["data"] == {"version": "v2026.1"}
        server.join(5)
        with got["connection"] as connection:
            connection.settimeout(0.3)
            with pytest.raises(TimeoutError):
                connection.recv(1)  # kept alive: open while the client is
            connection.settimeout(5)
            register.close()
            assert connection.recv(1) == b""  # closed by the client, at once
