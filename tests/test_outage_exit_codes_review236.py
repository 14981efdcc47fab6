"""One meaning per exit code across the commands that talk to Register (review236 F1): Register out of reach, kept
failing or refusing this machine before anything was written is exit 3 ("run it again later") from `export` and
`reference pull` as from `sync`, never 1, which tells a scheduler that records need attention. A host name not
found, which waiting does not mend, is a setting to fix: exit 2 from all three, in the same words. Through the
command line, against a closed port on 127.0.0.1 and the project's emulator answering every request with a 500."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.emulator import start_emulator
from trainee_extracts import extract

TOKEN = "review236-outage-token"
COMMANDS = {
    "export": ["export", "--to", "json", "-o", "held.json"],
    "reference pull": ["reference", "pull"],
}


def _closed_port() -> str:
    with socket.socket() as taken:  # a port nothing listens on once it is let go
        taken.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{taken.getsockname()[1]}"


def _run(command: str, target: str) -> tuple[int, str]:
    done = CliRunner().invoke(cli, ["-q", *COMMANDS[command], "--target", target, "--state-dir", "state"])
    return done.exit_code, done.stderr.splitlines()[-1]


@pytest.mark.parametrize("command", COMMANDS)
def test_register_out_of_reach_is_exit_3_from_export_and_reference_pull_as_from_sync(here, command):
    code, line = _run(command, _closed_port())
    assert code == 3, line
    assert line.startswith("register-batch: error: Register was unavailable (GET /"), line
    assert "could not connect (Connection refused)" in line and "Run again later." in line
    assert not (here / "held.json").exists() and not (here / "state" / "reference-data.json").exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_register_answering_500_to_every_try_is_exit_3_from_export_and_reference_pull(here, command):
    with start_emulator(tokens=[TOKEN], rate_limit=None, faults="500:1") as emulator:
        code, line = _run(command, emulator.url)
    assert code == 3, line
    assert line.startswith("register-batch: error: Register was unavailable (GET /"), line
    assert "-> 500" in line and line.endswith("Run again later.")


@pytest.fixture
def no_such_host(monkeypatch: pytest.MonkeyPatch) -> str:
    """`register.invalid` (never resolves, RFC 6761) answered here as the system's resolver answers it, so that the
    test sends nothing to a DNS server."""
    looked_up = socket.getaddrinfo

    def resolver(name, *args, **kwargs):
        if name == "register.invalid":
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return looked_up(name, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    return "https://register.invalid"


def test_a_host_name_not_found_is_a_setting_to_fix_exit_2_from_sync_export_and_reference_pull(here, no_such_host):
    """sync said "Register was unavailable (…host name not found…) … Run again later." (exit 3) and `reference pull`
    "… could not be reached" (exit 1) for the same mistyped target: the client gives up after two looks, as waiting
    does not mend it. All three now say the request, the host and what to check, without "Run again later"."""
    said = "could not connect (host name register.invalid not found: Name or service not known; check the target's "
    lines = {}
    for command in COMMANDS:
        code, lines[command] = _run(command, no_such_host)
        assert code == 2, lines[command]
    extract(here / "b.csv", 3)
    synced = CliRunner().invoke(
        cli, ["-q", "sync", "b.csv", "--target", no_such_host, "--state-dir", "state", "--as-of", "2026-11-28"]
    )
    assert synced.exit_code == 2, synced.output
    lines["sync"] = synced.stderr.splitlines()[-1]
    for command, line in lines.items():
        assert line.startswith("register-batch: error: GET /"), (command, line)
        assert said in line and "Run again later" not in line and "unavailable" not in line, (command, line)
    assert "; nothing was written" in lines["sync"] and "; no file was written" in lines["export"]
    assert "; nothing was saved" in lines["reference pull"]
    assert not (here / "held.json").exists() and not (here / "reports").exists()


def test_the_help_of_export_and_reference_pull_says_3_for_register_out_of_reach():
    for command in COMMANDS.values():
        shown = CliRunner().invoke(cli, [*command[: 2 if command[0] == "reference" else 1], "--help"])
        said = " ".join(shown.output.split())
        assert (
            "3 when interrupted, or when Register could not be reached, kept failing after retries or refused" in said
        )
        assert "1 when Register answered with an error no retry mends" in said and "host name is not found" in said


def test_a_target_that_does_not_serve_the_register_api_is_still_exit_1_from_reference_pull(here):
    """What 1 still means for `export` and `reference pull`: Register answered, with an error no retry mends."""
    from stub_http import answering

    gone = b'{"errors":[{"error":"NotFound","message":"Not found"}]}'
    with answering(404, gone, {"Content-Type": "application/json; charset=utf-8"}) as url:
        code, line = _run("reference pull", url)
    assert (code, line) == (1, "register-batch: error: GET /reference-data -> 404: Not found")
