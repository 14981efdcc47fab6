"""A host name not found is a setting to fix (exit 2) only where a setting can be wrong (review238):

- F1: once the host has answered in the run, its name was found, and not finding it now is the network's: the
  client rides it out as an outage, and the run ends as one (exit 3, "Run again later"), not "check the target's
  host name" (exit 2), from `export` and from `sync` before any write.
- F2: a first sync to a mistyped target binds the state dir to it, though it sends nothing: the next run, with the
  target corrected as the exit-2 line says, takes the state dir (as one only dry runs used), instead of refusing it
  as another target's.
- F3: through a proxy, the name not found is the proxy's: the line names its setting (never its URL) and says to
  check that, not the target.

The system's resolver is faked (`socket.getaddrinfo`), as in test_outage_exit_codes_review236.py: nothing is asked of
a DNS server, and every connection made is to 127.0.0.1."""

from __future__ import annotations

import logging
import socket

import httpx
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.emulator import start_emulator
from trainee_extracts import extract

TOKEN = "review238-name-token"
SYNC = ["sync", "b.csv", "--as-of", "2026-11-28"]


class Resolver:
    """The system's resolver as a test sets it: `localhost` is 127.0.0.1 for its first `found` look-ups (all of them
    while `found` is None), then not found; any `.invalid` name is never found (RFC 6761). Counts the look-ups."""

    def __init__(self, looked_up):
        self.looked_up = looked_up
        self.found: int | None = None
        self.asked: list[str] = []

    def __call__(self, name, *args, **kwargs):
        self.asked.append(name)
        if str(name).endswith(".invalid") or (
            name == "localhost" and self.found is not None and self.asked.count("localhost") > self.found
        ):
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.looked_up("127.0.0.1" if name == "localhost" else name, *args, **kwargs)


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> Resolver:
    faked = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", faked)
    return faked


@pytest.fixture
def each_request_connects(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every request on a connection of its own (`Connection: close`), and so a look-up of its own: as a nightly run
    makes once Register's keep-alive has timed out during a wait."""
    built = httpx.Client.build_request

    def closing(self, *args, **kwargs):
        request = built(self, *args, **kwargs)
        request.headers["Connection"] = "close"
        return request

    monkeypatch.setattr(httpx.Client, "build_request", closing)


def _invoke(*args: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["-q", *args])
    return done.exit_code, done.stderr


def _last(said: str) -> str:
    return said.splitlines()[-1]


def test_a_name_not_found_after_the_export_s_first_page_is_an_outage_exit_3(here, resolver, each_request_connects):
    """F1: page 1 was answered, page 2's look-up failed: retried as a blip, then exit 2 "check the target's host name"
    (the target that had answered a moment before). It is exit 3 now, "Run again later"."""
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        target = emulator.url.replace("127.0.0.1", "localhost")
        extract(here / "b.csv", 12)
        code, said = _invoke(*SYNC, "--target", target, "--state-dir", "state")
        assert code == 0, said
        resolver.found = resolver.asked.count("localhost") + 1  # the export's first page only
        code, said = _invoke(
            "export", "--to", "json", "-o", "held.json", "--per-page", "5", "--academic-cycle", "2025",
            "--target", target, "--state-dir", "state2",
        )  # fmt: skip
    line = _last(said)
    assert code == 3, line
    assert line == (
        "register-batch: error: Register was unavailable (GET /trainees: could not connect (host name localhost not "
        "found: Name or service not known, though it was found before in this run)); no file was written. Run again "
        "later."
    )
    assert "check the target" not in said
    assert resolver.asked.count("localhost") - resolver.found > 2  # retried as an outage, not given up after two
    assert not (here / "held.json").exists()


def test_a_name_not_found_in_sync_s_look_ups_after_an_answer_is_an_outage_exit_3(here, resolver, each_request_connects):
    """F1, sync: its first request was answered, a look-up before any write met the name not found: exit 2 and a
    `ConfigError` in the ledger's row before, for a target that had just answered; exit 3 now, as with EAI_AGAIN."""
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        target = emulator.url.replace("127.0.0.1", "localhost")
        extract(here / "b.csv", 12)
        code, said = _invoke(*SYNC, "--target", target, "--state-dir", "state")
        assert code == 0, said
        extract(here / "b.csv", 12, start=2)  # another night: one record gone, one new
        resolver.found = resolver.asked.count("localhost") + 1  # the run's first request only
        code, said = _invoke(*SYNC, "--target", target, "--state-dir", "state")
    line = _last(said)
    assert code == 3, line
    assert line.startswith("register-batch: error: Register was unavailable (GET /"), line
    assert "not found: Name or service not known, though it was found before in this run" in line
    assert "Run again later" in line and "check the target" not in said


def test_the_state_dir_of_a_first_sync_to_a_mistyped_host_is_taken_by_the_corrected_target(here, resolver, caplog):
    """F2: the exit-2 line said to check the target's host name; once it was corrected, the state dir was refused as
    register.invalid's ("its trainee ids mean nothing there"), though that run sent nothing and holds no record."""
    extract(here / "b.csv", 3)
    code, said = _invoke(*SYNC, "--target", "https://register.invalid", "--state-dir", "state")
    assert code == 2 and "host name register.invalid not found" in _last(said), said
    with start_emulator(tokens=[TOKEN], rate_limit=None) as emulator:
        with caplog.at_level(logging.WARNING, logger="register_batch.sync.ledger"):
            code, said = _invoke(*SYNC, "--target", emulator.url, "--state-dir", "state")
        assert code == 0, said
        assert emulator.store.count_trainees() == 3
    assert [r.getMessage() for r in caplog.records if r.name == "register_batch.sync.ledger"] == [
        "the state dir state holds no trainee id (only runs that sent nothing used it, against "
        f"https://register.invalid): it is now bound to {emulator.url}"
    ]
    code, said = _invoke(*SYNC, "--target", "https://register.invalid", "--state-dir", "state")
    assert code == 2 and "belongs to target http://127.0.0.1:" in _last(said), said  # its trainee ids now


@pytest.mark.parametrize("setting", ["HTTPS_PROXY", "https_proxy", "ALL_PROXY"])
@pytest.mark.parametrize("command", [["export", "--to", "json", "-o", "held.json"], ["reference", "pull"], SYNC])
def test_a_proxy_s_host_name_not_found_names_the_proxy_s_setting(here, resolver, monkeypatch, setting, command):
    """F3: the name not found is the proxy's (the target's is looked up by the proxy), yet the line said to check the
    target's host name. It names the setting, not its URL (which holds a password here), and says to check that."""
    monkeypatch.setenv(setting, "http://someone:proxy-secret@proxy.invalid:3128")
    extract(here / "b.csv", 3)
    code, said = _invoke(*command, "--target", "https://register.invalid", "--state-dir", "state")
    line = _last(said)
    assert code == 2, line
    assert (
        f"could not connect (host name of the proxy {setting} names (not shown) not found: Name or service not known; "
        f"check {setting}, or this machine's network)"
    ) in line
    assert "check the target" not in said and "proxy-secret" not in said and "someone" not in said
    assert "proxy.invalid" in resolver.asked and "register.invalid" not in resolver.asked  # looked up by the proxy


@pytest.mark.parametrize(
    ("proxy", "answered", "said", "a_setting"),
    [
        (None, False, "host name register.invalid not found: Name or service not known; check the target's host", True),
        ("HTTPS_PROXY", False, "host name of the proxy HTTPS_PROXY names (not shown) not found: Name or service not "
         "known; check HTTPS_PROXY, or", True),
        ("", False, "host name of the proxy not found: Name or service not known; check the proxy's address", True),
        (None, True, "host name register.invalid not found: Name or service not known, though it was found", False),
        ("HTTPS_PROXY", True, "host name of the proxy HTTPS_PROXY names (not shown) not found: Name or service not "
         "known, though it was found before", False),
    ],
)  # fmt: skip
def test_whose_name_was_not_found_and_whether_a_setting_is_to_fix(proxy, answered, said, a_setting):
    """F1, F3 at the client's core: the proxy's name when there is a proxy (one a caller's own httpx client was given
    named by no setting), and a setting to fix only while the host has never answered."""
    from register_batch.api.client import _not_connected

    failed = httpx.ConnectError("[Errno -2] Name or service not known")
    failed.__cause__ = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    why, setting = _not_connected(failed, "register.invalid", proxy, answered=answered)
    assert why.startswith(said) and setting is a_setting, why
