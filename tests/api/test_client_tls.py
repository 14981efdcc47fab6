"""A TLS handshake that no retry mends (review125 F5): a certificate that does not verify (a proxy that inspects TLS
with a CA this machine lacks, here a self-signed certificate), or https:// to a server on plain HTTP. Each was tried
five times and reported as an outage ("Run again later", exit 1), every night, to a job that had a setting to fix.
Now: no retry, `TlsRefused`, and from the command one line naming the target and what to do, exit 2.

The certificate is made here with `openssl` (the `cryptography` package is not a dependency); skipped without it."""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from cli_runs import run_cli
from register_batch.api import RateLimiter, RegisterClient, TlsRefused
from register_batch.emulator import start_emulator
from tls_certs import self_signed_certificate

TOKEN = "sandbox_" + "a" * 64
EXTRACT = Path(__file__).parents[2] / "samples" / "extract.xml"


@pytest.fixture
def self_signed(tmp_path) -> tuple[Path, Path]:
    """A certificate for `localhost`, signed by itself, and its key."""
    return self_signed_certificate(tmp_path)


class TlsServer:
    """A TLS server on 127.0.0.1 answering every request `200 {"data": []}` (an empty listing, so that a dry run
    through it ends at once rather than retrying an answer that is not Register's); `handshakes` counts the
    connections tried."""

    def __init__(self, cert: Path, key: Path):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.handshakes = 0
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.handshakes += 1
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(65536)
                    body = b'{"data": []}'
                    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n\r\n"
                    tls.sendall(head.encode() + body)
            except OSError:  # the client refused the certificate
                conn.close()

    def close(self) -> None:
        # A listening socket closed under a thread blocked in accept() does not wake it (Linux): the join then took
        # its whole 5 s. A shutdown first ends the accept() at once.
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self.thread.join(5)


@pytest.fixture
def tls_server(self_signed) -> Iterator[TlsServer]:
    server = TlsServer(*self_signed)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def plain_http() -> Iterator[str]:
    """The emulator, which speaks plain HTTP: its host and port."""
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        yield emulator.url.split("://", 1)[1]


def client(url: str) -> RegisterClient:
    return RegisterClient(url, TOKEN, limiter=RateLimiter(1000, 1), attempts=5, timeout=2)


def test_a_certificate_that_does_not_verify_is_tls_refused_once_not_retried(tls_server, monkeypatch):
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    with client(f"https://localhost:{tls_server.port}") as register, pytest.raises(TlsRefused) as caught:
        register.info()
    assert register.stats.retries == 0 and tls_server.handshakes == 1
    assert not caught.value.sent
    assert f"the certificate of localhost:{tls_server.port} did not verify (self-signed certificate)" in str(
        caught.value
    )
    assert "SSL_CERT_FILE" in str(caught.value)


def test_https_to_a_plain_http_server_is_tls_refused_once_not_retried(plain_http):
    with client(f"https://{plain_http}") as register, pytest.raises(TlsRefused) as caught:
        register.info()
    assert register.stats.retries == 0
    assert f"{plain_http} did not answer TLS (WRONG_VERSION_NUMBER)" in str(caught.value)
    assert "give its http:// address" in str(caught.value)


def without_run(line: str) -> str:
    """An error line without the ending every sync error line has once its provider and ledger run are known."""
    ended = re.fullmatch(r"(.*)\. For provider \d+\. Ledger run \d+, \S+Z\.", line)
    assert ended is not None or not line.startswith("register-batch: error:"), line
    return line if ended is None else ended.group(1)


def sync_to(target: str, work: Path, *extra: str, **env_extra: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REGISTER_", "SSL_CERT_"))}
    env.update(HOME=str(work / "home"), REGISTER_BATCH_RATE_DIR="off", REGISTER_API_TOKEN=TOKEN, **env_extra)
    args = ["sync", str(EXTRACT), "--target", target, "--ukprn", "10052198", "--state-dir", str(work / "state")]
    return run_cli([*args, "--report-dir", str(work / "reports"), *extra], work, env)


def test_a_sync_to_a_server_whose_certificate_does_not_verify_is_one_line_and_exit_2(tls_server, tmp_path):
    done = sync_to(f"https://localhost:{tls_server.port}", tmp_path)
    assert done.returncode == 2, done.stderr
    lines = [without_run(line) for line in done.stderr.splitlines() if line.startswith("register-batch:")]
    assert lines == [
        f"register-batch: error: GET /trainees: the certificate of localhost:{tls_server.port} did not verify "
        "(self-signed certificate): behind a proxy or firewall that inspects TLS, name its CA certificate with "
        "SSL_CERT_FILE (or a folder of them with SSL_CERT_DIR); otherwise check the target's address; nothing was "
        "written"
    ], done.stderr
    assert "retrying" not in done.stderr and "Run again later" not in done.stderr
    assert tls_server.handshakes == 1


def test_the_fix_it_names_works_ssl_cert_file_with_the_servers_ca(tls_server, self_signed, tmp_path):
    """The advice is one that works: the (proxy's) CA named by SSL_CERT_FILE, and the handshake goes through. A dry
    run, so that the server's empty listing ends the run (a real one went on to creates the server cannot answer)."""
    done = sync_to(f"https://localhost:{tls_server.port}", tmp_path, "--dry-run", SSL_CERT_FILE=str(self_signed[0]))
    assert "did not verify" not in done.stderr
    assert done.returncode == 0, done.stderr


def test_a_sync_with_https_to_a_plain_http_port_is_one_line_and_exit_2(plain_http, tmp_path):
    done = sync_to(f"https://{plain_http}", tmp_path)
    assert done.returncode == 2, done.stderr
    assert "retrying" not in done.stderr and "Run again later" not in done.stderr
    assert (
        f"register-batch: error: GET /trainees: {plain_http} did not answer TLS (WRONG_VERSION_NUMBER): for a server "
        "on plain HTTP (a local emulator), give its http:// address; otherwise check the target's port; nothing was "
        "written"
    ) in [without_run(line) for line in done.stderr.splitlines()]
