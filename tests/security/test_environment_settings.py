"""Settings the HTTP library takes from the environment towards an https:// service (proxies, CA certificates): one it
cannot use is a setting to fix, said in one line with exit 2, never an internal error, and a proxy URL, which may
hold a user name and password, is never shown."""

from __future__ import annotations

import os
import re

import pytest

from cli_runs import run_cli
from register_batch.api import RateLimiter, RegisterClient
from register_batch.errors import ConfigError

TOKEN = "sandbox_" + "5e" * 32
PROXY_NAMES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")
PROXY_PROBLEM = (
    "a proxy set in the environment (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY, or their lower-case forms; not shown) "
    "cannot be used"
)

UNUSABLE = {
    # httpx needs the socksio package for a SOCKS proxy: an ImportError
    "socks": ("ALL_PROXY", "socks5://proxy-user:proxy-secret@127.0.0.1:1080", f"{PROXY_PROBLEM}: a SOCKS proxy needs"),
    # not a URL: httpx's InvalidURL, which is no ValueError
    "not a URL": ("HTTPS_PROXY", "http://proxy-user:proxy-secret@[::1", f"{PROXY_PROBLEM}: not an http://, https://"),
    # a scheme httpx has no proxy for: a ValueError quoting the URL
    "ftp": ("HTTP_PROXY", "ftp://proxy-user:proxy-secret@proxy.example", f"{PROXY_PROBLEM}: not an http://, https://"),
}


@pytest.fixture
def env(tmp_path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_") and k not in PROXY_NAMES}
    environ.update(HOME=str(tmp_path / "home"), REGISTER_API_TOKEN=TOKEN, REGISTER_BATCH_RATE_DIR="off")
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "NO_PROXY", "no_proxy"):
        environ.pop(name, None)
    return environ


def export(tmp_path, env: dict[str, str]):
    """An export towards an https:// service on this machine (nothing listens: nothing is ever sent)."""
    args = ["export", "--to", "json", "--target", "https://127.0.0.1:9", "-o", str(tmp_path / "out.json")]
    return run_cli([*args, "--state-dir", str(tmp_path / "state")], tmp_path, env)


@pytest.mark.parametrize("kind", list(UNUSABLE))
def test_a_proxy_setting_that_cannot_be_used_is_one_line_with_exit_2(tmp_path, env, kind):
    name, value, expected = UNUSABLE[kind]
    env[name] = value
    run = export(tmp_path, env)
    assert run.returncode == 2, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(f"register-batch: error: {expected}"), line
    assert "proxy-secret" not in run.stdout + run.stderr and "proxy-user" not in run.stdout + run.stderr
    assert not (tmp_path / "out.json").exists()


def test_ca_certificates_that_cannot_be_read_are_one_line_with_exit_2(tmp_path, env):
    (tmp_path / "ca.pem").write_text("not a certificate\n")
    env["SSL_CERT_FILE"] = str(tmp_path / "ca.pem")
    run = export(tmp_path, env)
    assert run.returncode == 2, run.stderr
    [line] = run.stderr.splitlines()
    assert line.startswith(
        f"register-batch: error: the CA certificates that SSL_CERT_FILE or SSL_CERT_DIR name ({tmp_path / 'ca.pem'}) "
        "cannot be used"
    ), line


def test_the_library_says_so_as_a_config_error(monkeypatch):
    for name in PROXY_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ALL_PROXY", UNUSABLE["ftp"][1])
    with pytest.raises(ConfigError, match=re.escape(PROXY_PROBLEM)) as caught:
        RegisterClient("sandbox", TOKEN, limiter=RateLimiter(10, 1), share_budget=False)
    assert "proxy-secret" not in str(caught.value) and caught.value.__cause__ is None


def test_plain_http_to_this_machine_does_not_read_them(monkeypatch):
    """Towards the emulator proxies are never used (the token would travel in clear): an unusable one is no matter."""
    monkeypatch.setenv("ALL_PROXY", UNUSABLE["ftp"][1])
    with RegisterClient("http://127.0.0.1:9", TOKEN, limiter=RateLimiter(10, 1), share_budget=False):
        pass
