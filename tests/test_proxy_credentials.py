"""After review226 F5: at -vv a proxy's 407 quoting the Proxy-Authorization header httpx sent it (in its reason phrase
or a header) put the proxy's user name and password, base64'd, on standard error: masked now, as the API token is."""

from __future__ import annotations

import base64
import os

from cli_runs import run_cli
from register_batch.tokens import MASK
from stub_http import Reasoned, Seen, serving
from trainee_extracts import extract

TOKEN = "sandbox_" + "0df48794ae2c9f55" * 4
USER, PASSWORD = "alice", "Sup3r%40S3cretPw"  # `%40`: an @ in the password, percent-encoded in the URL as it must be
BASIC = base64.b64encode(b"alice:Sup3r@S3cretPw").decode()  # what httpx sends: the decoded form


def test_every_form_of_a_proxys_credentials_is_looked_for_and_a_short_user_name_alone_is_not():
    from register_batch.proxy_credentials import proxy_credentials

    found = proxy_credentials({"https_proxy": f"http://{USER}:{PASSWORD}@proxy.example:3128", "NO_PROXY": "x"})
    assert {PASSWORD, "Sup3r@S3cretPw", f"{USER}:{PASSWORD}", "alice:Sup3r@S3cretPw", BASIC} <= set(found)
    assert USER not in found  # a user name with a password is no secret (and masked within user:password)
    assert proxy_credentials({"ALL_PROXY": "socks5://apikey123456@proxy.example:1080"})[-1] == "apikey123456"
    assert proxy_credentials({"HTTPS_PROXY": "http://proxy.example:3128"}) == ()


def test_a_short_password_or_user_name_alone_is_not_looked_for_but_the_base64_is():
    """review229 F2: `ops:2026`'s `2026` and a service's user name `batch` were masked in every log line: the year
    in a Date header, the API version and academic cycle in a request line."""
    from register_batch.proxy_credentials import proxy_credentials

    found = proxy_credentials({"HTTPS_PROXY": "http://ops:2026@proxy.example.ac.uk:3128"})
    assert "2026" not in found and "ops" not in found
    assert {"ops:2026", base64.b64encode(b"ops:2026").decode()} == set(found)
    assert proxy_credentials({"HTTPS_PROXY": "http://batch@proxy.example.ac.uk:3128"}) == ("YmF0Y2g=",)


LOGGED = "HTTP Request: GET https://register.example.org/api/v2026.1/trainees?academic_cycle=2026 (batch, apikey123456)"


def logged_through_token_mask(line: str) -> str:
    import logging

    from register_batch.tokens import TokenMask

    record = logging.LogRecord("httpx", logging.INFO, __file__, 1, "%s", (line,), None)
    TokenMask().filter(record)
    return record.getMessage()


def test_a_proxys_credentials_are_masked_by_token_mask_only_while_a_client_goes_through_that_proxy(monkeypatch):
    """One filter, the one library.md says to install, masks a library client's proxy credentials too (review229 F4,
    F5); a proxy NO_PROXY keeps the target from, or a plain-http target on this machine, has nothing masked (F2)."""
    from register_batch.api.client import RegisterClient

    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", "http://apikey123456@proxy.example.ac.uk:3128")
    with RegisterClient("https://register.example.org", TOKEN, share_budget=False):
        assert logged_through_token_mask(LOGGED) == LOGGED.replace("apikey123456", MASK)
    assert logged_through_token_mask(LOGGED) == LOGGED  # the client closed
    monkeypatch.setenv("NO_PROXY", "register.example.org")
    with RegisterClient("https://register.example.org", TOKEN, share_budget=False):
        assert logged_through_token_mask(LOGGED) == LOGGED
    monkeypatch.delenv("NO_PROXY")
    with RegisterClient("http://127.0.0.1:9", TOKEN, share_budget=False):
        assert logged_through_token_mask(LOGGED) == LOGGED


def test_vv_shows_no_proxy_credential_its_407_quotes_back(tmp_path):
    """The review's repro: a proxy answering CONNECT 407 with the Proxy-Authorization header in its reason phrase and
    an X-Echo header."""

    def proxy(_handler: object, seen: Seen) -> Reasoned:
        said = f"Proxy-Authorization: {seen.headers.get('Proxy-Authorization', 'none')}"
        return 407, {"Proxy-Authenticate": 'Basic realm="x"', "X-Echo": said}, b"", f"Proxy Authentication {said}"

    extract(tmp_path / "in.csv", 1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_") and "proxy" not in k.lower()}
    env.update(HOME=str(tmp_path / "home"), REGISTER_BATCH_RATE_DIR="off", REGISTER_API_TOKEN=TOKEN)
    with serving(proxy) as url:
        env["HTTPS_PROXY"] = url.replace("http://", f"http://{USER}:{PASSWORD}@")
        done = run_cli(
            ["-vv", "sync", "in.csv", "--target", "https://register.example.org", "--state-dir", "st"], tmp_path, env
        )
    assert done.returncode == 2, done.stderr[-3000:]
    assert f"Proxy-Authorization: Basic {MASK}" in done.stderr, done.stderr[-3000:]  # the echo was there: masked
    for secret in (BASIC, "S3cretPw", BASIC[:20]):
        assert secret not in done.stdout + done.stderr
