"""The client's retry rules over real HTTP against the emulator's faults: safe to retry vs. must be resolved."""

from __future__ import annotations

import email.utils
import json
import logging
import os
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http import HTTPStatus

import httpx
import pytest

from register_batch.api import (
    UNAVAILABLE,
    ApiError,
    Forbidden,
    InsecureTarget,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    RateLimiter,
    RegisterClient,
    Secret,
    ServerError,
    TransportError,
    Unauthorized,
    resolve_target,
)
from register_batch.commands.common import OPTIONS
from register_batch.emulator import start_emulator
from register_batch.errors import ConfigError
from stub_http import answering, fronting, serving

TOKEN = "client-test-token"


def body(n: int = 1) -> dict:
    return {
        "first_names": "Ann",
        "last_name": f"Lee{n}",
        "date_of_birth": "1990-01-01",
        "sex": "10",
        "email": f"ann{n}@example.com",
        "training_route": "11",
        "itt_start_date": "2025-09-01",
        "itt_end_date": "2026-07-31",
        "course_subject_1": "100346",
        "study_mode": "01",
        "hesa_id": f"{n:013d}",
        "itt_aim": "201",
        "course_year": "1",
        "course_age_range": "13918",
        "fund_code": "2",
        "funding_method": "6",
    }


@pytest.fixture
def emulator():
    with start_emulator(tokens=[TOKEN], rate_limit=None, fault_hold=2.0) as running:
        yield running


def client_for(emulator, **extra) -> RegisterClient:
    """A client with pacing out of the way and a short timeout (below the emulator's fault hold of 2 s)."""
    return RegisterClient(emulator.url, TOKEN, **{"limiter": RateLimiter(10_000, 1), "timeout": 1.0, **extra})


def count(emulator, route: str) -> int:
    return httpx.get(f"{emulator.url}/__emulator__/stats").json()["requests"]["by_route"].get(route, 0)


def test_gets_are_retried_through_server_errors(emulator, no_backoff):
    with client_for(emulator) as client:
        emulator.set_faults("500:1.0")
        with pytest.raises(ServerError):
            client.info()
        assert client.stats.retries == client.attempts - 1
        emulator.set_faults(None)
        assert client.info()["status"] == "ok"


@pytest.mark.parametrize("fault", ["500:1.0", "reset:1.0", "lost-response:1.0", "timeout:1.0"])
def test_a_create_whose_outcome_is_unknown_is_never_resent(emulator, fault):
    with client_for(emulator) as client:
        emulator.set_faults(fault)
        with pytest.raises(OutcomeUnknown):
            client.create_trainee(body())
        emulator.set_faults(None)
    assert count(emulator, "POST /trainees") == 1


def test_lost_reply_means_the_create_happened(emulator):
    with client_for(emulator) as client:
        emulator.set_faults("lost-response:1.0")
        with pytest.raises(OutcomeUnknown):
            client.create_trainee(body())
        emulator.set_faults(None)
        assert [t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025)] == ["0000000000001"]


def test_a_create_that_could_not_connect_is_retried_safely():
    with RegisterClient("http://127.0.0.1:9", TOKEN, limiter=RateLimiter(1000, 1), attempts=2, timeout=1) as client:
        with pytest.raises(TransportError) as caught:
            client.create_trainee(body())
        assert client.stats.retries == 1  # connection refused: surely not processed, so retried
    assert not caught.value.sent
    assert "could not connect" in str(caught.value)


def test_the_line_per_retried_request_names_the_request_once(caplog):
    """What a data officer reads in the log: `GET /trainees: could not connect (...); retrying`, not the route twice."""
    caplog.set_level(logging.WARNING, logger="register_batch.api.retries")
    client = RegisterClient("http://127.0.0.1:9", TOKEN, limiter=RateLimiter(1000, 1), attempts=2, timeout=1)
    with client, pytest.raises(TransportError):
        client.info()
    lines = [record.getMessage() for record in caplog.records if record.name == "register_batch.api.retries"]
    assert len(lines) == 1 and lines[0].endswith("; retrying"), lines  # 2 attempts: the 2nd's failure is raised
    assert all(line.count("GET /") == 1 for line in lines), lines


def test_no_retry_is_said_for_the_last_attempt_whose_error_goes_to_the_caller(caplog):
    """A job's log said "retrying" (or "waiting for its next window") after the last attempt too, then stopped."""
    caplog.set_level(logging.WARNING, logger="register_batch.api.retries")
    for status, raised in ((500, ServerError), (429, RateLimited)):
        caplog.clear()
        with (
            answering(status, b'{"errors":["busy"]}', {"Content-Type": "application/json", "Retry-After": "0"}) as url,
            RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2) as client,
            pytest.raises(raised),
        ):
            client.info()
        lines = [record.getMessage() for record in caplog.records if record.name == "register_batch.api.retries"]
        assert len(lines) == 1 and client.stats.retries == 1, lines


def test_the_line_per_throttled_wait_names_the_request_once_and_the_wait(caplog):
    caplog.set_level(logging.WARNING, logger="register_batch.api.retries")
    with (
        start_emulator(tokens=[TOKEN], rate_limit=(3, 1.0)) as emulator,
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(100, 1.0)) as client,
    ):
        for _ in range(7):  # as in the test below: at least one 429
            client.info()
    lines = [record.getMessage() for record in caplog.records if "throttled" in record.getMessage()]
    assert lines, "no 429 met"
    for line in lines:
        assert line.count("GET /") == 1 and "Retry-After" in line and "429" in line, line


def test_a_progress_line_says_a_wait_after_a_429_is_registers_not_the_clients_budget():
    """The client paces itself at 95 a minute; a 429 means Register wants a longer wait (another client sharing the
    token, say). The progress line names which of the two holds the run back."""
    import io

    from register_batch.progress import Progress

    stream = io.StringIO()
    with (
        start_emulator(tokens=[TOKEN], rate_limit=(3, 1.0)) as emulator,
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(100, 1.0)) as client,
        Progress(stream=stream, interval=0.01, force_terminal=False) as progress,
    ):
        task = progress.task("Asking", unit="requests")
        with task.waits_shown(client.limiter):
            for _ in range(7):  # as in the test below: at least one 429
                client.info()
                task.advance()
        assert client.stats.throttled >= 1
    waits = [line for line in stream.getvalue().splitlines() if "waiting" in line]
    assert waits and all(line.endswith("s for Register's next window (it answered 429, Retry later)") for line in waits)


def test_429_waits_for_retry_after_then_succeeds():
    with start_emulator(tokens=[TOKEN], rate_limit=(3, 1.0)) as emulator:
        limiter = RateLimiter(100, 1.0)  # deliberately looser than the server, to meet its 429
        with RegisterClient(emulator.url, TOKEN, limiter=limiter) as client:
            started = time.monotonic()
            # 7 requests in under a second fall in at most two of the server's 1 s windows, so one of them holds
            # at least 4 of a limit of 3, wherever the windows' edge falls (with 5, an edge could split 2 + 3).
            for _ in range(7):
                assert client.info()["status"] == "ok"
            assert client.stats.throttled >= 1 and time.monotonic() - started < 5


def test_wrong_token_is_unauthorized_without_retry(emulator):
    with RegisterClient(emulator.url, "nope", limiter=RateLimiter(100, 1)) as client:
        with pytest.raises(Unauthorized) as caught:
            client.info()
        assert client.stats.total == 1
    assert "nope" not in str(caught.value)


def test_token_never_shows_and_is_refused_over_plain_http_elsewhere():
    assert "abc" not in repr(Secret("abc")) and "abc" not in str(Secret("abc"))
    with pytest.raises(InsecureTarget):
        RegisterClient("http://register.example.com", "abc")
    RegisterClient("http://127.0.0.1:1", "abc").close()  # loopback (the emulator) is fine
    assert resolve_target("sandbox") == "https://sandbox.register-trainee-teachers.service.gov.uk"
    assert resolve_target("https://x.test/api/v2026.1/") == "https://x.test"


def test_a_target_that_cannot_be_used_is_a_configuration_error():
    """A library caller catching ConfigError for settings that cannot be used let an unusable target through as
    some other failure."""
    with pytest.raises(ConfigError, match="plain http"):
        RegisterClient("http://register.example.com", "abc")
    with pytest.raises(ConfigError, match="not sandbox, production"):
        resolve_target("staging")


def test_every_request_has_a_timeout(emulator):
    emulator.set_faults("timeout:1.0")
    with client_for(emulator, attempts=1) as client:
        started = time.monotonic()
        with pytest.raises(TransportError):
            client.info()
        assert time.monotonic() - started < 1.9


@pytest.fixture
def portal():
    """A sign-in portal on 127.0.0.1 answering every request with 200 and an HTML page (not the API)."""
    page = b"<html><body>Please sign in to the network</body></html>"
    with answering(200, page, {"Content-Type": "text/html"}) as url:
        yield url


def test_a_200_that_is_not_registers_json_is_not_taken_for_an_answer(portal):
    with RegisterClient(portal, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2, timeout=1) as client:
        with pytest.raises(ServerError, match="not Register's JSON"):
            list(client.iter_trainees(academic_cycle=2025))  # a read: retried, then refused
        assert client.stats.retries == 1
        with pytest.raises(OutcomeUnknown, match="not Register's JSON"):
            client.create_trainee(body())  # a write: whether it got past the page is unknown


@pytest.mark.parametrize("answer", [b"", b"{}", b'{"data": {}}'], ids=["empty", "an empty object", "empty data"])
def test_a_200_without_the_trainee_asked_for_is_no_trainee(answer):
    """A sync looks up a trainee its ledger links to: an empty answer taken as the trainee would have it reported
    as deleted in Register."""
    with (
        answering(200, answer, {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1, timeout=1) as client,
        pytest.raises(ServerError, match=r"GET /trainees/T1 -> 200: the answer had no trainee in it"),
    ):
        client.get_trainee("T1")


NGINX_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>"
    b"\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@pytest.mark.parametrize(
    "status,page,content_type,expected",
    [
        (502, NGINX_502, "text/html", "Bad Gateway: an HTML page instead of Register's JSON"),
        # The status line's phrase, as this Python's http.server words it (3.13: "Content Too Large", RFC 9110).
        (413, b"<html><body><h1>413 Request Entity Too Large</h1></body></html>", "text/html", HTTPStatus(413).phrase),
        (403, b"Forbidden\n", "text/plain", "Forbidden"),  # rack-attack's blocklist (§1.3): short, kept as it is
    ],
)
def test_a_refusal_that_is_not_json_is_one_line_naming_it_never_the_page(status, page, content_type, expected):
    with (
        answering(status, page, {"Content-Type": content_type}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1, timeout=1) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.create_trainee(body())
    text = str(caught.value)
    assert expected in text and "\n" not in text and "<" not in text


def test_a_host_name_not_found_after_the_host_has_answered_is_retried_as_a_blip(emulator, no_backoff, monkeypatch):
    """A client that has had answers from its host, whose resolver then says twice that the name is not known (Wi-Fi
    reconnecting): the request is retried as any connection not made is, not given up after two looks, which is
    for a client its host has never answered (a mistyped host). In front of the emulator, a server that closes each
    connection, so that every request looks the name up. No token: it would not be sent over plain http:// to a name
    other than localhost; the reference data needs none. The look-ups are answered here, as a resolver would answer
    them: the test sends nothing to a DNS server."""
    import socket

    looked_up = socket.getaddrinfo
    blips = {"left": 0}

    def resolver(host, *args, **kwargs):
        if host != "register.test":
            return looked_up(host, *args, **kwargs)
        if blips["left"]:
            blips["left"] -= 1
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return looked_up("127.0.0.1", *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    with fronting(emulator.url, lambda _seen, _forward: None) as front:
        named = f"http://register.test:{httpx.URL(front.url).port}"
        with RegisterClient(named, None, limiter=RateLimiter(10_000, 1), timeout=1.0) as client:
            client.reference_data()
            blips["left"] = 2
            client.reference_data()
            assert blips["left"] == 0 and client.stats.retries == 2
        with RegisterClient(named, None, limiter=RateLimiter(10_000, 1), timeout=1.0) as fresh:
            blips["left"] = 5
            with pytest.raises(TransportError, match=r"host name register\.test not found"):
                fresh.reference_data()
            assert fresh.stats.retries == 1  # never answered: a mistyped host, looked up twice


def test_a_success_without_data_is_not_taken_for_done(emulator, no_backoff):
    """A 201 (or 200) whose body lacks `data`: a create that may have happened is an unknown outcome (resolved by
    the sync, never resent blindly); a read is retried, then refused, never read as an empty list."""

    def without_data(seen, forward):
        if seen.method == "POST" or "since" in seen.query:
            status, headers, _content = forward()
            return status, headers, b"{}"
        return None

    with (
        fronting(emulator.url, without_data) as front,
        RegisterClient(front.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2, timeout=2) as client,
    ):
        with pytest.raises(OutcomeUnknown, match="no `data`"):
            client.create_trainee(body())
        with pytest.raises(ServerError, match="no `data`"):
            list(client.iter_trainees(academic_cycle=2025, since="2025-01-01"))
        assert [t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025)] == ["0000000000001"]
    assert [s.method for s in front.seen].count("POST") == 1


@pytest.mark.parametrize("sort_order", [None, "asc"], ids=["by offset", "oldest change first"])
def test_an_empty_page_whose_own_count_says_it_holds_trainees_is_a_broken_answer(emulator, sort_order):
    """A proxy answering a page after the first with `"data": []` (its meta kept): the listing ended there, an export
    of 2 trainees of 5 exited 0, and a sync would plan the rest as creates. A page its own meta says is within the
    listing holds trainees: an empty one is not Register's answer."""
    with client_for(emulator) as client:
        for n in range(1, 6):
            client.create_trainee(body(n))

    def emptied_after_the_first(seen, forward):
        later = "since" in seen.query or seen.query.get("page") == ["2"]
        if seen.method == "GET" and seen.path.endswith("/trainees") and later:
            status, headers, content = forward()
            answer = json.loads(content)
            assert answer["data"] and answer["meta"]["total_pages"] >= 1
            return status, headers, json.dumps({**answer, "data": []}).encode()
        return None

    with (
        fronting(emulator.url, emptied_after_the_first) as front,
        RegisterClient(front.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2, timeout=2) as client,
    ):
        listed = client.iter_trainees(academic_cycle=2025, per_page=2, sort_order=sort_order)
        with pytest.raises(ServerError, match=r"^GET /trainees -> 200: page [12] of [1-3] listed no trainee"):
            list(listed)
        assert len([seen for seen in front.seen if seen.path.endswith("/trainees")]) == 2


def test_an_empty_last_page_or_first_page_asked_without_a_number_is_judged_by_its_own_count(emulator):
    """The page its meta counts as the last is within the listing too, and a page asked for without a number is
    Register's first (§2.3): emptied by a proxy, each is a broken answer. A page past the end, or of a listing of
    none, answered 200 with no trainees (`total_pages` 0, or no meta at all) is the listing's end."""
    with client_for(emulator) as client:
        for n in range(1, 6):
            client.create_trainee(body(n))
    emptied: dict[str, str | None] = {"page": None, "meta": "keep"}

    def emptying(seen, forward):
        if seen.method == "GET" and seen.path.endswith("/trainees") and seen.query.get("page") == emptied["page"]:
            _status, headers, content = forward()
            answer = {**json.loads(content), "data": []}
            if emptied["meta"] == "none":
                answer.pop("meta", None)
            elif emptied["meta"] == "zero":
                answer["meta"] = {"total_pages": 0, "total_count": 0}
            return 200, headers, json.dumps(answer).encode()
        return None

    with fronting(emulator.url, emptying) as front, client_for(front, attempts=1) as client:
        emptied["page"] = ["3"]  # 5 trainees, 2 a page: page 3 of 3
        with pytest.raises(ServerError, match=r"^GET /trainees -> 200: page 3 of 3 listed no trainee"):
            list(client.iter_trainees(academic_cycle=2025, per_page=2))
        emptied["page"] = None  # no page asked for
        with pytest.raises(ServerError, match=r"^GET /trainees -> 200: page 1 of 3 listed no trainee"):
            client.list_trainees(academic_cycle=2025, per_page=2)
        emptied["meta"] = "zero"
        assert client.list_trainees(academic_cycle=2025, per_page=2) == ([], {"total_pages": 0, "total_count": 0})
        emptied.update(page=["4"], meta="none")  # past the end, a gateway's 200 without meta
        assert len(client.list_trainees(academic_cycle=2025, per_page=2, page=4)[0]) == 0


@contextmanager
def no_longer_serving(emulator):
    """The emulator as a Register that no longer (or not yet) serves v2026.1: each request to `/api/v2026.1/...` goes
    on as one to `/api/v2025.0/...`, which it answers as Register does a version it does not serve (§1.1 catch-all:
    401 without a token, else 404 `Not found`)."""

    def older(seen, _forward):
        headers = {k: v for k, v in seen.headers.items() if k.lower() not in ("host", "content-length")}
        path = seen.path.replace("/api/v2026.1", "/api/v2025.0", 1)
        reply = httpx.request(seen.method, emulator.url + path, headers=headers, content=seen.body)
        return reply.status_code, {"Content-Type": reply.headers.get("Content-Type", "")}, reply.content

    with fronting(emulator.url, older) as front:
        yield front


def test_only_no_trainees_found_is_an_empty_listing(emulator):
    """404 `No trainees found` is an empty page (§2.3); 404 `Not found` is a version Register does not serve, or its
    API switched off (§1.1): an error, never "Register holds no one"."""
    with client_for(emulator) as client:
        assert list(client.iter_trainees(academic_cycle=2025)) == []
    with (
        no_longer_serving(emulator) as front,
        client_for(front) as old,
        pytest.raises(NotFound, match=r"does not serve the Register API v2026\.1") as caught,
    ):
        list(old.iter_trainees(academic_cycle=2025))
    assert caught.value.status == 404


def test_a_register_no_longer_serving_v2026_1_is_said_as_what_the_user_can_do(emulator):
    """A Register that does not serve v2026.1 (the day it drops it, as it dropped v2025.0): `reference pull`'s 401
    sent the user to check the one thing that was right, the target's address, and a listing's 404 to change an
    api_version that takes no other value (review138 F2). Neither names a setting: the client's version is the only
    one there is."""
    with no_longer_serving(emulator) as front, client_for(front) as client:
        with pytest.raises(Unauthorized) as unauthorized:
            client.reference_data()
        with pytest.raises(NotFound) as not_found:
            client.list_trainees(academic_cycle=2025)
    for caught in (unauthorized.value, not_found.value):
        assert caught.worded(OPTIONS) == str(caught)  # no --api-version to change
    assert str(unauthorized.value) == (
        "GET /reference-data -> 401: Unauthorized; sent without a token, as Register needs none for it: the target "
        "is not Register, or does not serve the Register API v2026.1, the only version this register-batch speaks: "
        "check the target, or upgrade register-batch"
    )
    assert str(not_found.value) == (
        f"GET /trainees -> 404: Not found: {front.url} does not serve the Register API v2026.1, the only version this "
        "register-batch speaks: check the target, or upgrade register-batch"
    )


@pytest.mark.parametrize("version", ["v2026.0", "v2025.0", "V2026.1", "v2026.1/../v2026.1", "", 2026.1])
def test_a_client_of_an_api_version_register_batch_does_not_speak_is_refused_when_made(emulator, version):
    """As the command line and `sync_files` refuse it (review138 F3): `export_trainees(to="jsonl")` sent such a
    client's requests to `/api/<version>/trainees`, for a response register-batch was never written for."""
    with pytest.raises(ConfigError) as caught:
        RegisterClient(emulator.url, TOKEN, api_version=version)
    assert str(caught.value) == f"API version {str(version)!r} is not supported; supported: v2026.1"
    assert emulator.snapshot()["requests"]["total"] == 0


def test_a_trainee_wrapped_in_data_is_read_as_the_trainee(emulator):
    """GET /trainees/{id} is unwrapped in Register's code; its tech docs show it wrapped in `data` (§2.4 ⚠)."""
    with client_for(emulator) as client:
        created = client.create_trainee(body())

    def wrapped(seen, forward):
        if seen.method == "GET" and seen.path.endswith(created["trainee_id"]):
            status, headers, content = forward()
            return status, headers, b'{"data":' + content + b"}"
        return None

    with (
        fronting(emulator.url, wrapped) as front,
        RegisterClient(front.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
    ):
        trainee = client.get_trainee(created["trainee_id"])
    assert trainee["trainee_id"] == created["trainee_id"] and trainee["hesa_id"] == "0000000000001"


def _job_retrying_a_500(tmp_path, before: str = "", after: str = "") -> subprocess.CompletedProcess:
    """A vendor's job in a process of its own: `before`, then a client whose GET /info is answered 500 every time
    (3 attempts: it prints its 2 retries), then `after`."""
    job = (
        before + "from register_batch.api import RegisterClient, ServerError\n"
        "from register_batch.emulator import start_emulator\n"
        "with start_emulator(tokens=['t'], rate_limit=None, faults='500:1') as emulator:\n"
        "    with RegisterClient(emulator.url, 't', attempts=3) as client:\n"
        "        try:\n"
        "            client.info()\n"
        "        except ServerError:\n"
        "            print(client.stats.retries)\n" + after
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    return subprocess.run(
        [sys.executable, "-c", job],
        cwd=tmp_path,
        env={**env, "REGISTER_BATCH_RATE_DIR": "off"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_retry_prints_nothing_in_a_process_that_set_up_no_logging(tmp_path):
    """A vendor's job calling the library without logging set up: each retry put a bare "stamina.retry_scheduled" on
    its stderr (Python's last-resort handler), though the library prints nothing unasked (docs/library.md)."""
    done = _job_retrying_a_500(tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "2\n", "")


def test_the_stamina_logger_stays_the_callers_and_its_own_retries_are_said_where_it_set_up_no_logging(tmp_path):
    """Importing the client gave the "stamina" logger a handler of its own, for the whole process: a vendor's job
    that set up no logging lost the warning of each retry of its own code (Python's last-resort handler says it),
    not only of the client's. The client's own retries still print nothing unasked."""
    stamina_logger = (
        "logger = logging.getLogger('stamina')\n"
        "print((len(logger.handlers), len(logger.filters) > 0, logger.level, logger.propagate, logger.disabled))\n"
    )
    done = _job_retrying_a_500(
        tmp_path,
        before="import logging\nimport stamina\n" + stamina_logger,
        after=(
            stamina_logger + "tries = 0\n"
            "for attempt in stamina.retry_context(on=ValueError, attempts=2, wait_initial=0.01, wait_jitter=0):\n"
            "    with attempt:\n"
            "        tries += 1\n"
            "        if tries == 1:\n"
            "            raise ValueError('the job own')\n"
        ),
    )
    # Before and after the client: no handler, no level, propagating (the client's filter drops only its own retries).
    assert (done.returncode, done.stdout) == (0, "(0, False, 0, True, False)\n2\n(0, True, 0, True, False)\n")
    assert done.stderr == "stamina.retry_scheduled\n"  # the job's own retry, by the last-resort handler


def test_each_retry_is_logged_once_where_logging_is_set_up_and_a_callers_own_stamina_retries_as_before(tmp_path):
    """Each retry (a 429's wait among them) was logged twice by a job that set logging up: the client's line with its
    reason on `register_batch.api.retries`, and stamina's bare "stamina.retry_scheduled". stamina's record of a retry
    of the job's own code is still logged: only the client's own are said once."""
    done = _job_retrying_a_500(
        tmp_path,
        before=(
            "import logging, stamina\n"
            "logging.basicConfig(level=logging.DEBUG, format='%(name)s %(levelname)s %(message)s')\n"
            "logging.getLogger('httpx').setLevel(logging.WARNING)\n"
            "logging.getLogger('httpcore').setLevel(logging.WARNING)\n"
        ),
        after=(
            "tries = 0\n"
            "for attempt in stamina.retry_context(on=ValueError, attempts=2, wait_initial=0.01, wait_jitter=0):\n"
            "    with attempt:\n"
            "        tries += 1\n"
            "        if tries == 1:\n"
            "            raise ValueError('the job own')\n"
        ),
    )
    assert (done.returncode, done.stdout) == (0, "2\n"), done.stderr
    warnings = [line for line in done.stderr.splitlines() if " WARNING " in line]
    ours = [line for line in warnings if line.startswith("register_batch.api.retries WARNING GET /info -> 500")]
    assert len(ours) == 2, done.stderr  # a line for each of the client's 2 retries, none for the 3rd attempt's 500
    # and stamina's for the job's own retry only
    assert [line for line in warnings if line.startswith("stamina ")] == ["stamina WARNING stamina.retry_scheduled"]
    assert len(warnings) == len(ours) + 1, done.stderr


def test_a_refused_token_says_what_to_do():
    with (
        answering(401, b'{"error":"Unauthorized"}', {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
        pytest.raises(Unauthorized) as caught,
    ):
        client.info()
    text = str(caught.value)
    assert text == (
        "GET /info -> 401: Unauthorized; Register refused the API token: give an active token of this service "
        "(sandbox and production tokens differ; a revoked or expired one is refused)"
    )  # a library caller gives it as the client's token: no option or variable of the command line
    worded = caught.value.worded(OPTIONS)  # as the command line says it
    assert worded == text.replace("of this service (", "of this service with REGISTER_API_TOKEN or --token-file (")
    assert TOKEN not in text + worded and "\n" not in text + worded


def test_a_401_to_a_request_sent_without_a_token_does_not_blame_the_token():
    """`reference pull` sends no token (Register needs none for its code lists): a 401 from a target that is not
    Register said "Register refused the API token: give an active token ... with REGISTER_API_TOKEN", which no
    token can cure."""
    with (
        answering(401, b'{"error":"Unauthorized"}', {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
        pytest.raises(Unauthorized) as caught,
    ):
        client.reference_data()
    assert str(caught.value) == (
        "GET /reference-data -> 401: Unauthorized; sent without a token, as Register needs none for it: the target "
        "is not Register, or does not serve the Register API v2026.1, the only version this register-batch speaks: "
        "check the target, or upgrade register-batch"
    )


@pytest.mark.parametrize("header", ["86400", "inf", "Wed, 21 Oct 2099 07:28:00 GMT"])
def test_a_retry_after_longer_than_registers_window_waits_at_most_the_window(header):
    """Register's Retry-After is 1-60 s (§1.3); a gateway asking for a day (or forever) must not stall a run."""
    with (
        answering(429, b"Retry later\n", {"Content-Type": "text/plain", "Retry-After": header}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
        pytest.raises(RateLimited) as caught,
    ):
        client.info()
    assert caught.value.retry_after == 60.0


@pytest.mark.parametrize("header", [None, "soon", "nan"])
def test_a_429_without_a_readable_retry_after_waits_for_the_window_to_end(header):
    """A proxy's 429 may carry no Retry-After: wait for the end of the epoch-aligned window, as Register's own would
    say (§1.3), not one second at a time inside the same window."""
    headers = {"Content-Type": "text/plain", **({"Retry-After": header} if header else {})}
    with (
        answering(429, b"Retry later\n", headers) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(95, 60), attempts=1) as client,
        pytest.raises(RateLimited) as caught,
    ):
        sent = time.time()
        client.info()
    assert caught.value.retry_after == pytest.approx(60 - sent % 60, abs=0.5)


def test_a_listing_without_its_meta_block_is_paged_to_the_end(emulator):
    """`meta` tells how many pages there are (§2.3); without it (a gateway that trims answers), full pages go on
    until a short or empty one, never stopping after the first."""
    with client_for(emulator, timeout=10.0) as client:  # no faults here: a loaded machine must not time a create out
        for n in range(1, 10):
            client.create_trainee(body(n))

    def without_meta(seen, forward):
        if seen.method == "GET" and seen.path.endswith("/trainees"):
            status, headers, content = forward()
            answer = json.loads(content)
            answer.pop("meta", None)
            return status, headers, json.dumps(answer).encode()
        return None

    with fronting(emulator.url, without_meta) as front, client_for(front, timeout=10.0) as client:
        held = [t["hesa_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=3)]
    assert sorted(held) == [f"{n:013d}" for n in range(1, 10)]


@pytest.mark.parametrize("token", ["tökenvalue", "token value", "token\tvalue", '"tokenvalue"'])
def test_a_token_no_bearer_header_can_carry_is_a_config_error_that_never_repeats_it(emulator, token):
    """A library caller's pasted token with a non-ASCII character or a space: one ConfigError when the client is
    made, never a UnicodeEncodeError from the first request (whose args and repr hold the whole header)."""
    with pytest.raises(ConfigError) as caught:
        RegisterClient(emulator.url, token)
    assert token not in str(caught.value) and token not in repr(caught.value)


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "30"])
def test_a_timeout_no_request_can_keep_is_a_config_error(emulator, timeout):
    """`timeout=0` failed every request as "could not connect" after six tries; a negative one was a bare ValueError
    from the socket module."""
    with pytest.raises(ConfigError, match="timeout must be a number of seconds above 0"):
        RegisterClient(emulator.url, TOKEN, timeout=timeout)
    assert emulator.snapshot()["requests"]["total"] == 0


@pytest.mark.parametrize("per_page", [0, -1, 5001])
def test_a_page_size_register_does_not_take_is_refused_before_any_request(emulator, per_page):
    """`per_page=0` listed nothing, so a library export wrote an empty file for a Register full of trainees; a page of
    more than 5000 (the command line's most) may be longer than an answer is read (30,000 trainees are 73 MiB)."""
    with client_for(emulator) as client:
        client.create_trainee(body())
        with pytest.raises(ConfigError, match="per_page"):
            list(client.iter_trainees(per_page=per_page))
        assert client.stats.total == 1


@pytest.mark.parametrize("status", [300, 301, 302, 307, 308])
def test_a_redirect_is_not_followed_and_says_where_it_pointed(status):
    """The token must not follow a redirect to another host; the message said only "302: Found"."""
    with (
        answering(200, b'{"data": []}') as elsewhere,
        answering(status, b"", {"Location": f"{elsewhere}/api/v2026.1/trainees?page=1"}) as url,
        RegisterClient(url, Secret(TOKEN), attempts=1) as client,
        pytest.raises(ApiError) as refused,
    ):
        client.list_trainees(academic_cycle=2026, per_page=1, page=1)
    assert refused.value.messages == [
        f"the answer was a redirect to {elsewhere}/api/v2026.1/trainees, which register-batch does not follow (the "
        "token goes only to the target you set): check the target (a moved address, or http:// for https://?)"
    ]
    assert TOKEN not in str(refused.value)


@pytest.mark.parametrize("token", ["t", "No", "Lee"])
def test_a_short_emulator_token_is_not_masked_out_of_registers_answers(token):
    """The token is masked where a server quotes it back. A test token of a few letters (the emulator takes any)
    then matched inside every answer: 'No trainees found' became 'No ********rainees found', not an empty listing,
    and a trainee's name or email came back with '********' in it, which a sync would then have 'corrected'."""
    with (
        start_emulator(tokens=[token], rate_limit=None) as emulator,
        RegisterClient(emulator.url, token, limiter=RateLimiter(10_000, 1)) as client,
    ):
        assert client.list_trainees(academic_cycle=2025) == ([], {"total_pages": 0, "total_count": 0})
        created = client.create_trainee(body(1))
        assert created["last_name"] == "Lee1" and created["email"] == "ann1@example.com"


@pytest.mark.parametrize(
    "token,quoted",
    [
        ("client-test-token-0001", "client-test-token-0001"),
        ("client/test/token+0001", "client\\/test\\/token+0001"),
        ("client-token", "client-token"),  # MASKED_FROM characters: the shortest looked for
    ],
    ids=["as it is", "json-escaped", "twelve characters"],
)
def test_a_server_quoting_the_token_back_never_gets_it_into_the_error(token, quoted):
    """A gateway (or a server in debug mode) that repeats the Authorization header in its refusal: the error keeps
    the server's message, with the token masked, however the JSON writes it (a `/` may be sent as `\\/`)."""
    answer = b'{"errors": ["invalid header Bearer ' + quoted.encode() + b'"], "status": 422, "detail": null}'
    with (
        answering(422, answer, {"Content-Type": "application/json"}) as url,
        RegisterClient(url, token, limiter=RateLimiter(10_000, 1), attempts=1) as client,
        pytest.raises(ApiError) as caught,
    ):
        client.create_trainee(body())
    assert caught.value.messages == ["invalid header Bearer ********"]
    assert caught.value.body == {"errors": ["invalid header Bearer ********"], "status": 422, "detail": None}
    assert token not in str(caught.value)


def test_a_client_without_a_token_sends_no_authorization_header():
    with (
        fronting("http://127.0.0.1:9", lambda seen, forward: (200, {}, b'{"status": "ok"}')) as front,
        RegisterClient(front.url, None, limiter=RateLimiter(10_000, 1)) as anonymous,
        RegisterClient(front.url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
    ):
        assert anonymous.info() == {"status": "ok"} and client.info() == {"status": "ok"}
    assert [seen.headers.get("Authorization") for seen in front.seen] == [None, f"Bearer {TOKEN}"]


def test_the_request_economy_counts_each_request_once_by_route_and_status():
    """What a run's report shows of the requests it sent (stats.as_dict): one count per request sent."""

    def answer(seen, forward):
        if seen.method == "POST":
            return 422, {"Content-Type": "application/json"}, b'{"errors": ["sex is not included in the list"]}'
        if seen.path.endswith("/reference-data"):
            return 429, {"Content-Type": "text/plain", "Retry-After": "0"}, b"Retry later\n"
        return 200, {"Content-Type": "application/json"}, b'{"status": "ok"}'

    with (
        fronting("http://127.0.0.1:9", answer) as front,
        RegisterClient(front.url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=2) as client,
    ):
        client.info()
        client.info()
        with pytest.raises(ApiError):
            client.create_trainee(body())
        with pytest.raises(RateLimited):  # throttled, retried once, throttled again
            client.reference_data()
    assert client.stats.as_dict() == {
        "total": 5,
        "by_route": {"GET /info": 2, "GET /reference-data": 2, "POST /trainees": 1},
        "by_status": {"200": 2, "422": 1, "429": 2},
        "retries": 1,
        "throttled": 2,
    }
    assert len(front.seen) == 5


def test_a_refusal_that_names_a_location_is_not_taken_for_a_redirect():
    """Only a 3xx is a redirect: a gateway's 401 pointing at its sign-in page keeps the server's own message."""
    with (
        answering(401, b'{"error":"Unauthorized"}', {"Location": "https://sso.example/login"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1)) as client,
        pytest.raises(Unauthorized) as caught,
    ):
        client.info()
    assert caught.value.messages[0] == "Unauthorized" and "redirect" not in str(caught.value)


def test_a_refusal_other_than_a_server_error_is_neither_retried_nor_an_unknown_outcome():
    """A 403 (rack-attack's blocklist, §1.3) is an answer: a read is not retried, and a create was surely refused,
    so there is nothing to resolve. It says the machine is blocked, and is one of the answers that stop a run
    (UNAVAILABLE): every other request would be refused the same way."""
    with (
        answering(403, b"Forbidden\n", {"Content-Type": "text/plain"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=3) as client,
    ):
        with pytest.raises(ApiError) as read:
            client.info()
        with pytest.raises(ApiError) as create:
            client.create_trainee(body())
        assert client.stats.total == 2
    assert (type(read.value), type(create.value)) == (Forbidden, Forbidden)
    assert isinstance(create.value, UNAVAILABLE) and create.value.messages[0] == "Forbidden"
    assert str(create.value).startswith("POST /trainees -> 403: Forbidden; Register refused this machine (its IP")


def test_requests_that_got_no_answer_are_counted_by_why(emulator):
    with client_for(emulator, attempts=1) as client:
        for fault in ("timeout:1.0", "reset:1.0"):
            emulator.set_faults(fault)
            with pytest.raises(TransportError):
                client.info()
        emulator.set_faults(None)
    with (
        RegisterClient("http://127.0.0.1:9", TOKEN, limiter=RateLimiter(1000, 1), attempts=1) as refused,
        pytest.raises(TransportError),
    ):
        refused.info()
    assert client.stats.as_dict()["by_status"] == {"timeout": 1, "no-reply": 1}
    assert refused.stats.as_dict()["by_status"] == {"no-connection": 1}


def test_a_client_asked_to_stop_does_not_retry_a_failed_request():
    """A sync's Ctrl-C or SIGTERM: the request under way may fail, but it is not tried again (a stop takes one request
    at most, not a series of retries)."""
    with (
        answering(503, b'{"error": "Service Unavailable"}', {"Content-Type": "application/json"}) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=3) as client,
    ):
        client.stopping = lambda: True
        with pytest.raises(ServerError):
            client.info()
        assert (client.stats.total, client.stats.retries) == (1, 0)
        client.stopping = lambda: False
        with pytest.raises(ServerError):
            client.info()
        assert client.stats.total == 4  # not asked to stop: tried three times


def test_a_listing_that_does_not_come_oldest_first_is_still_read_whole(emulator):
    """A server in front of Register that drops `sort_order` (Register honours it, §2.3) answers newest first: listed
    on from its last trainee's time, the pages passed over most trainees (4 of 12, no error). A page not in that order
    is never listed from."""
    with client_for(emulator) as client:
        created = {client.create_trainee(body(n))["trainee_id"] for n in range(1, 13)}

    def newest_first(seen, forward):
        if seen.path.endswith("/trainees") and seen.query.get("sort_order") == ["asc"]:
            query = {k: v[-1] for k, v in seen.query.items() if k != "sort_order"}
            reply = httpx.get(
                f"{emulator.api_url}/trainees", params=query, headers={"Authorization": f"Bearer {TOKEN}"}
            )
            return reply.status_code, {"Content-Type": "application/json"}, reply.content
        return None

    with fronting(emulator.url, newest_first) as front, client_for(front) as client:
        listed = [t["trainee_id"] for t in client.iter_trainees(academic_cycle=2025, per_page=4, sort_order="asc")]
    assert sorted(listed) == sorted(created)


@pytest.mark.parametrize("written", ["asctime", "-0000"])
def test_a_retry_after_date_without_a_zone_is_read_as_gmt(written, monkeypatch):
    """An HTTP-date is GMT whatever form it takes (RFC 9110 §5.6.7: a recipient reads the obsolete asctime form too,
    and it names no zone); read as this machine's local time, it was hours off: no wait at all, or the longest."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        due = datetime.now(UTC).replace(tzinfo=None, microsecond=0) + timedelta(seconds=31)
        header = due.strftime("%a %b %d %H:%M:%S %Y") if written == "asctime" else email.utils.format_datetime(due)
        with (
            answering(429, b"Retry later\n", {"Content-Type": "text/plain", "Retry-After": header}) as url,
            RegisterClient(url, TOKEN, limiter=RateLimiter(10_000, 1), attempts=1) as client,
            pytest.raises(RateLimited) as caught,
        ):
            client.info()
    finally:
        monkeypatch.undo()
        time.tzset()
    assert 28 <= caught.value.retry_after <= 31


DEGREE = {"grade": "02", "subject": "100485", "institution": "0117", "uk_degree": "083", "graduation_year": "2003"}
PLACEMENT = {"urn": "100001"}


def test_a_degree_or_placement_written_is_confirmed_only_by_registers_answer(emulator, no_backoff):
    """A degree or placement added, updated or deleted through a gateway that answers 200 with its own JSON was taken
    as done (any object passed): the report said the degree was added while Register had none. Now an addition's
    answer must hold the item's id, an update's the item written, a deletion's the trainee (§2.10, §2.11); else an
    addition's outcome is unknown (the sync looks in Register) and an update or deletion is sent again."""
    with client_for(emulator) as client:  # Register's own answers are confirmations
        trainee_id = client.create_trainee({**body(), "degrees_attributes": [DEGREE]})["trainee_id"]
        degree = client.add_degree(trainee_id, {**DEGREE, "graduation_year": "2004"})
        assert (
            client.update_degree(trainee_id, degree["degree_id"], {"grade": "01"})["degree_id"] == degree["degree_id"]
        )
        assert client.delete_degree(trainee_id, degree["degree_id"])["trainee_id"] == trainee_id
        placement = client.add_placement(trainee_id, PLACEMENT)
        assert client.delete_placement(trainee_id, placement["placement_id"])["trainee_id"] == trainee_id
        degree = client.add_degree(trainee_id, {**DEGREE, "graduation_year": "2005"})
        placement = client.add_placement(trainee_id, PLACEMENT)

    def gateway(seen, forward):
        if "/degrees" in seen.path or "/placements" in seen.path:
            return 200, {"Content-Type": "application/json"}, b'{"data": {"status": "ok"}}'
        return None

    with fronting(emulator.url, gateway) as front, client_for(emulator, attempts=2) as direct:
        with RegisterClient(front.url, TOKEN, limiter=RateLimiter(10_000, 1), timeout=1.0, attempts=2) as client:
            with pytest.raises(OutcomeUnknown, match="no degree in it"):
                client.add_degree(trainee_id, {**DEGREE, "graduation_year": "2006"})
            with pytest.raises(OutcomeUnknown, match="no placement in it"):
                client.add_placement(trainee_id, PLACEMENT)
            with pytest.raises(ServerError, match=f"no degree {degree['degree_id']} in it"):
                client.update_degree(trainee_id, degree["degree_id"], {"grade": "01"})
            with pytest.raises(ServerError, match=f"no trainee {trainee_id} in it"):
                client.delete_degree(trainee_id, degree["degree_id"])
            with pytest.raises(ServerError, match=f"no trainee {trainee_id} in it"):
                client.delete_placement(trainee_id, placement["placement_id"])
        held = direct.get_trainee(trainee_id)  # nothing the gateway answered for reached Register
    assert sorted(str(d["graduation_year"]) for d in held["degrees"]) == ["2003", "2005"]
    assert [p["urn"] for p in held["placements"]] == ["100001"]


def test_an_httpx_whose_insides_moved_is_said_to_keep_no_request_deadline(monkeypatch, caplog):
    """The deadline wraps httpcore's network backend where httpx keeps it (no setting exists for it). An httpx that
    keeps it elsewhere (a newer one) left every request without a deadline and said nothing: now it is said."""

    class Moved(httpx.HTTPTransport):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._pool_elsewhere = self.__dict__.pop("_pool")

        def close(self):
            self._pool_elsewhere.close()

    with caplog.at_level(logging.WARNING, logger="register_batch.api"):
        RegisterClient("http://127.0.0.1:9", TOKEN).close()
        assert caplog.records == []
        monkeypatch.setattr(httpx._client, "HTTPTransport", Moved)  # where httpx.Client makes its transport
        RegisterClient("http://127.0.0.1:9", TOKEN).close()
    assert [r.getMessage() for r in caplog.records] == [
        f"httpx {httpx.__version__}: each request's deadline cannot be kept (only --timeout between the parts of an "
        "answer)"
    ]


@pytest.mark.parametrize(
    ("spelt", "root"),
    [
        ("https://Register.Example:443/", "https://register.example"),
        ("HTTP://127.0.0.1:80/api/v2026.1", "http://127.0.0.1"),
        ("http://[::1]:8787", "http://[::1]:8787"),
        ("https://register.example:8443/Path", "https://register.example:8443/Path"),
        ("http://[fe80::1%25Eth0]:8787", "http://[fe80::1%25Eth0]:8787"),
    ],
)
def test_a_services_root_is_one_spelling_of_its_url(spelt, root):
    """The sync ledger binds to the root, and Register's own services are told by it (their rate limit): the same
    service spelt with capitals or its scheme's port was another, its ledger set aside with a warning."""
    assert resolve_target(spelt) == root


@pytest.mark.parametrize(
    ("target", "root"),
    [
        ("https://api.example.com/api/v2026.1", "https://api.example.com"),  # cut at the first "/api": "https:/"
        ("http://apihost:8080/api/v2026.1/", "http://apihost:8080"),
        ("https://gw.example/api-gw/register/api/v2026.1", "https://gw.example/api-gw/register"),  # was the host's root
        ("https://register.example/api", "https://register.example"),
        ("https://register.example/apis", "https://register.example/apis"),
        # Cut at the first `api` segment, as before: each gave this root, which a state dir's ledger is bound to
        # (review141 F3), and an upper-case version is Register's own (F2).
        ("https://register.example/api/trainees", "https://register.example"),
        ("https://register.example/api/2026.1", "https://register.example"),
        ("https://register.example/api/v2026.1/api", "https://register.example"),
        ("https://register.example/api/V2026.1", "https://register.example"),
    ],
)
def test_only_registers_own_api_path_is_taken_off_a_target(target, root):
    """The address the emulator prints, `.../api/v2026.1`, works as the target (docs/emulator.md); the root was cut at
    the first `/api` anywhere in the URL, so a host named api.* became `https:/` and a gateway's `/api-gw/...` prefix
    was dropped, its requests sent to the host's root (review138 F5)."""
    # The state dir's folder is named by the same root.
    from register_batch.config import target_slug

    assert resolve_target(target) == root
    assert target_slug(target) == target_slug(root)


@pytest.mark.parametrize("version", ["v2025.0", "v2026.0", "v2027.1", "V2025.0"])
def test_a_target_naming_another_api_version_is_refused(version):
    """`--target .../api/v2025.0` ran as v2026.1 without a word, while `--api-version v2025.0` is refused (review138
    F4): a user who copied an old URL believed the run used that version."""
    with pytest.raises(InsecureTarget) as refused:
        resolve_target(f"https://register.example/api/{version}")
    assert str(refused.value) == (
        f"target 'https://register.example/api/{version}' names Register API {version}; register-batch speaks "
        f"v2026.1 only: give the service's address without /api/{version}"
    )


def test_a_clients_counts_since_a_copy_are_those_made_after_it():
    """A client lent to many runs: each run's report.json counts the requests made after the copy taken as it began,
    every figure of them, and the copy does not move with the client's counts."""
    from collections import Counter

    from register_batch.api.client import RequestStats

    stats = RequestStats(total=5, by_route=Counter({"GET /trainees": 5}), by_status=Counter({"200": 4, "429": 1}))
    stats.retries, stats.throttled, stats.seconds_waiting = 1, 1, 2.5
    before = stats.copy()
    stats.total += 3
    stats.by_route.update({"GET /trainees": 1, "POST /trainees": 2})
    stats.by_status.update({"201": 2, "429": 1})
    stats.retries, stats.throttled, stats.seconds_waiting = 2, 3, 4.0
    assert before.as_dict() == {
        "total": 5,
        "by_route": {"GET /trainees": 5},
        "by_status": {"200": 4, "429": 1},
        "retries": 1,
        "throttled": 1,
    }
    run = stats.since(before)
    assert run.as_dict() == {
        "total": 3,
        "by_route": {"GET /trainees": 1, "POST /trainees": 2},
        "by_status": {"201": 2, "429": 1},
        "retries": 1,
        "throttled": 2,
    }
    assert run.seconds_waiting == 1.5


@pytest.mark.parametrize(("given", "count"), [(3, 3), ("3", 3), (None, None), (True, None), ("many", None), ([], None)])
def test_a_page_count_in_an_answers_meta_is_a_whole_number_or_none(given, count):
    """`"total_pages": true` (not Register's answer) is no count: read as 1, a listing stopped after its first page."""
    from register_batch.api.client import meta_count

    assert meta_count(given) == count


def test_registers_own_time_is_the_date_it_said_however_far_from_this_machines_clock():
    """Sync dates a listing by Register's clock (`last_said_date`) so that a look-back from it misses nothing Register
    stamped: with Register's clock 20 minutes behind this machine's, it is the time Register's Date said, not this
    machine's (as `last_date` takes a Date that far off for a proxy's). Before any answer there is none."""
    behind = timedelta(minutes=20)

    def clock() -> float:
        return time.time() - behind.total_seconds()

    with start_emulator(tokens=[TOKEN], rate_limit=None, clock=clock) as emu, client_for(emu) as client:
        assert client.last_said_date is None and client.last_date is None
        client.list_trainees(academic_cycle=2025, per_page=1, page=1)
        said, now = client.last_said_date, datetime.now(UTC)
    assert said is not None and said.tzinfo is not None
    assert now - behind - timedelta(seconds=5) <= said <= now - behind + timedelta(seconds=1)


@pytest.mark.parametrize(
    ("registers_clock", "expected"),
    [
        (timedelta(minutes=-5), "registers"),  # within CLOCK_SKEW: Register's Date, as said
        (timedelta(minutes=-20), "registers"),  # further behind: still its Date, the earlier of the two
        (timedelta(minutes=20), "skew"),  # further ahead (a proxy's Date, or this clock behind): now less CLOCK_SKEW
    ],
    ids=["5 minutes behind", "20 minutes behind", "20 minutes ahead"],
)
def test_registers_time_when_it_took_a_request_is_never_later_than_either_clock_allows(registers_clock, expected):
    """A listing's next page overlaps from `last_date`: the earlier of Register's Date and this machine's clock less
    CLOCK_SKEW when the two are that far apart, so a page overlaps more, never less (this clock 20 minutes ahead of
    Register's made pages overlap not at all). It is the moment Register took the request: before its answer's Date."""
    from register_batch.api.client import CLOCK_SKEW

    def clock() -> float:
        return time.time() + registers_clock.total_seconds()

    with start_emulator(tokens=[TOKEN], rate_limit=None, clock=clock) as emu, client_for(emu) as client:
        client.list_trainees(academic_cycle=2025, per_page=1, page=1)
        took, said, now = client.last_date, client.last_said_date, datetime.now(UTC)
    assert took is not None and said is not None
    if expected == "registers":
        assert took <= said and said - took < timedelta(seconds=5)
    else:
        assert now - CLOCK_SKEW - timedelta(seconds=5) <= took <= now - CLOCK_SKEW


def test_a_429_without_retry_after_waits_for_the_end_of_registers_window_not_the_rates_period():
    """review103 F2: a proxy's 429 with no Retry-After is throttling until Register's 60-s window ends (§1.3). Taken
    as the end of the run's own --rate period (5/3: exactly 100 a minute, no note), every retry went out within the
    same window, and the request gave up after six 429s."""
    now = [6010.0]  # 10 s into one of Register's windows, by the budget's clock

    def sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = RateLimiter(5, 3, clock=lambda: now[0], sleep=sleep)
    with (
        answering(429, b"Retry later\n", {"Content-Type": "text/plain"}) as url,
        RegisterClient(url, TOKEN, limiter=limiter, attempts=1, share_budget=False) as client,
        pytest.raises(RateLimited) as caught,
    ):
        client.info()
    assert caught.value.retry_after == 50.0


def test_an_http_date_retry_after_is_read_against_the_answers_date_not_this_machines_clock():
    """review103 F3: Retry-After as an HTTP-date (RFC 9110 §10.2.3) from a server whose clock is not this machine's:
    the answer's own Date says the wait is 30 s. Read against this machine's clock (here two years ahead of the
    server's) it was 0, and every retry went into the throttled window; with this clock behind, up to a minute."""
    said = "Sun, 01 Sep 2024 08:00:10 GMT"

    def throttled(handler, _seen):
        handler.date_time_string = lambda timestamp=None: said  # the server's Date header
        return 429, {"Content-Type": "text/plain", "Retry-After": "Sun, 01 Sep 2024 08:00:40 GMT"}, b"Retry later\n"

    with (
        serving(throttled) as url,
        RegisterClient(url, TOKEN, limiter=RateLimiter(95, 60), attempts=1, share_budget=False) as client,
        pytest.raises(RateLimited) as caught,
    ):
        client.info()
    assert caught.value.retry_after == 30.0


# The proxy settings httpx reads towards an https:// target, and those that exempt a host from them.
PROXY_ENVIRONMENT = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
NOT_PROXIED = ("NO_PROXY", "no_proxy")
PROXY_USER, PROXY_PASSWORD = "proxyuser", "proxy-s3cret-pw"


@pytest.mark.parametrize(
    "status, reason, tries",
    [
        (407, "Proxy Authentication Required", 1),  # credentials to give: trying again cannot mend it
        (403, "Forbidden", 1),  # the proxy's policy
        (503, "Service Unavailable", 3),  # the proxy could not reach Register: tried again, as a connect error is
    ],
)
def test_a_write_a_proxy_refused_to_carry_was_not_sent_and_the_error_names_the_proxy_and_its_status(
    monkeypatch, no_backoff, status, reason, tries
):
    """review103 F5: a proxy that refuses the tunnel (its answer to CONNECT) has sent nothing to Register. It was
    taken for a lost reply ("connection lost (ProxyError)"): a create or placement was left unknown (a look-up,
    held for 10 minutes, exit 3), and a 407 read "Register was unavailable ... Run again later". It is a connection
    not made, as design.md ("Sync semantics") has a POST retried after one; its line names the proxy, its status and
    what to do, never the proxy's user name or password."""
    for name in (*PROXY_ENVIRONMENT, *NOT_PROXIED):
        monkeypatch.delenv(name, raising=False)
    connects = []

    def proxy(_handler, seen):
        connects.append(seen)
        return status, {"Proxy-Authenticate": 'Basic realm="proxy"'} if status == 407 else {}, b""

    with serving(proxy) as url:
        monkeypatch.setenv("HTTPS_PROXY", url.replace("http://", f"http://{PROXY_USER}:{PROXY_PASSWORD}@"))
        with (
            RegisterClient("https://127.0.0.1:9", TOKEN, limiter=RateLimiter(10_000, 1), attempts=3) as client,
            pytest.raises(TransportError) as caught,
        ):
            client.create_trainee(body())
    assert not isinstance(caught.value, OutcomeUnknown) and caught.value.sent is False
    assert [seen.method for seen in connects] == ["CONNECT"] * tries
    message = str(caught.value)
    assert message.startswith("POST /trainees: the proxy HTTPS_PROXY names (not shown) ")
    assert f"{status} {reason}" in message
    for secret in (PROXY_USER, PROXY_PASSWORD, TOKEN):
        assert secret not in message and secret not in repr(caught.value)
    assert client.stats.by_status == {f"proxy-{status}": tries}
