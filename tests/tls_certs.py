"""A self-signed certificate for TLS tests, made with `openssl` (the `cryptography` package is not a dependency)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for `localhost` and 127.0.0.1, signed by itself, and its key; the test is skipped, saying why,
    where `openssl` is missing or cannot make one."""
    if shutil.which("openssl") is None:
        pytest.skip("making a self-signed certificate needs openssl on PATH (cryptography is not a dependency)")
    cert, key = folder / "cert.pem", folder / "key.pem"
    request = ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost"]
    names = ["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"]
    done = subprocess.run(
        ["openssl", *request, *names, "-keyout", str(key), "-out", str(cert)],
        capture_output=True,
        timeout=60,
    )
    if done.returncode != 0:
        pytest.skip(f"openssl cannot make a test certificate: {done.stderr[-300:]!r}")
    return cert, key
