"""`register-batch emulator`: its help, and a real run as a subprocess on a free port."""

from __future__ import annotations

import contextlib
import os
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest
from click.testing import CliRunner
from emulator_helpers import AS_OF, trainee_body

from register_batch.cli import cli
from register_batch.emulator import start_emulator


def test_help_lists_the_options():
    result = CliRunner().invoke(cli, ["emulator", "--help"])
    assert result.exit_code == 0
    for option in ("--host", "--port", "--db", "--token", "--rate-limit", "--faults", "--seed", "--latency-ms"):
        assert option in result.output


def test_help_names_every_test_hook_docs_emulator_md_names():
    """review206 F6: the award hook (the end of the training year) went unsaid beside the others."""
    result = CliRunner().invoke(cli, ["emulator", "--help"], terminal_width=200)
    said = " ".join(result.output.split())
    for hook in ("/__emulator__/stats", "/__emulator__/reset", "trainees/ID/discard", "trainees/ID/award"):
        assert hook in said, hook


def test_bad_options_are_usage_errors():
    runner = CliRunner()
    assert runner.invoke(cli, ["emulator", "--faults", "boom:1"]).exit_code == 2
    assert runner.invoke(cli, ["emulator", "--rate-limit", "lots"]).exit_code == 2


def _refused(*args: str) -> subprocess.CompletedProcess[str]:
    """An emulator run expected to stop before it serves: a subprocess with a timeout, so that one which wrongly
    starts serving fails the test instead of hanging it."""
    return subprocess.run(
        [sys.executable, "-m", "register_batch", "emulator", "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=30,
    )


def _start(*args: str) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "register_batch", "emulator", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        # As from a terminal: pytest itself may have been started with SIGINT ignored (a background job of a
        # script), and a child inherits that, which would make the Ctrl-C below do nothing.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    line = process.stdout.readline()
    return process, line


def _stop(process: subprocess.Popen, signum: int) -> tuple[str, str]:
    """Send `signum` and wait; never leave an emulator listening behind a failed test."""
    process.send_signal(signum)
    return _stop_waited(process)


def _stop_waited(process: subprocess.Popen) -> tuple[str, str]:
    """Its output once it has stopped (killed after 10 seconds: never left listening behind a failed test)."""
    try:
        return process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise


def test_runs_as_a_subprocess_and_stops_cleanly_on_ctrl_c(tmp_path):
    token = "subprocess-test-token"
    process, line = _start("--token", token, "--db", str(tmp_path / "state.sqlite3"), "--rate-limit", "0")
    try:
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+/api/v2026\.1)", line)
        assert match, line
        assert token not in line  # a token given by the user is never echoed
        api = match.group(1)
        info = httpx.get(f"{api}/info", headers={"Authorization": f"Bearer {token}"}, timeout=5)
        assert info.json() == {"status": "ok", "version": {"requested": "v2026.1", "latest": "v2026.1"}}
        assert httpx.get(f"{api}/info", timeout=5).status_code == 401
    finally:
        out, err = _stop(process, signal.SIGINT)
    assert process.returncode == 0, err
    assert token not in out + err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGHUP, signal.SIGTERM], ids=["SIGINT", "SIGHUP", "SIGTERM"])
def test_a_stop_as_soon_as_it_says_where_it_listens_stops_it_cleanly(signum):
    """A supervisor or a person may stop it the moment the line is read: a Ctrl-C or a hang-up then was taken as
    the command being interrupted (exit 3, "run the same command again"), not as the way to stop it."""
    process, line = _start()
    assert "listening on" in line
    out, err = _stop(process, signum)
    assert (process.returncode, out, err) == (0, "Emulator stopped.\n", "")


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_second_stop_signal_while_it_stops_still_stops_it_cleanly(second):
    """review122 F2: the stop signals' handlers went back before the server stopped (up to half a second): a second
    Ctrl-C or SIGTERM then (a supervisor's, or an impatient person's) was "interrupted", exit 3, without "Emulator
    stopped."."""
    process, line = _start()
    assert "listening on" in line
    process.send_signal(signal.SIGTERM)
    time.sleep(0.01)  # the server's stop waits for its loop's next turn (up to half a second): this lands in it
    if process.poll() is None:
        process.send_signal(second)
    out, err = _stop_waited(process)
    assert (process.returncode, out, err) == (0, "Emulator stopped.\n", "")


STALLED_TOKEN = "subprocess-test-token"
DRAINING = "Stopping: finishing 1 request in flight (up to 5 s); press Ctrl-C again to drop it.\n"


def _stalled_request(line: str) -> socket.socket:
    """A create sent to the emulator that said `line` (where it listens) whose client stalls in its body: in flight
    until the stop gives up waiting for it (DRAIN_SECONDS) or a second signal drops it."""
    port = int(re.search(r":(\d+)/api/", line).group(1))
    stalled = socket.create_connection(("127.0.0.1", port), timeout=10)
    stalled.sendall(
        f"POST /api/v2026.1/trainees HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {STALLED_TOKEN}\r\n"
        "Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n".encode()
    )
    # Its headers are read (the 100 comes as they are): the request is in flight, waiting for the rest of its body.
    assert stalled.recv(100).startswith(b"HTTP/1.1 100 ")
    stalled.sendall(b"{")
    time.sleep(0.2)
    return stalled


@pytest.mark.parametrize("second", [signal.SIGINT, signal.SIGTERM, None], ids=["SIGINT", "SIGTERM", "none"])
def test_a_second_stop_signal_while_it_waits_for_a_request_in_flight_drops_it_at_once(second):
    """A Ctrl-C lets the requests in flight be answered, for up to DRAIN_SECONDS (5 s): a client stalled in its body
    kept it waiting all that time, and a second Ctrl-C did nothing to cut it short. It drops them at once now (as a
    sync's second Ctrl-C or SIGTERM stops at once): one line, exit 3. (A request held by --latency-ms or the timeout
    fault is no such wait: the stop carries out or drops those at once.) With no second signal, the request still in
    flight after the 5 s is dropped, and said so, the same way (review159 F3: "Emulator stopped.", exit 0)."""
    process, line = _start("--token", STALLED_TOKEN, "--rate-limit", "0")
    try:
        stalled = _stalled_request(line)
        process.send_signal(signal.SIGINT)
        readable, _, _ = select.select([stalled], [], [], 0.5)
        assert not readable and process.poll() is None  # the stop waits for the request: not shut, still running
        started = time.monotonic()
        if second is not None:
            process.send_signal(second)
        out, err = _stop_waited(process)
        took = time.monotonic() - started
        assert stalled.recv(100) == b""  # dropped, unanswered
        stalled.close()
    finally:
        if process.poll() is None:
            _stop(process, signal.SIGKILL)
    assert (process.returncode, out) == (3, ""), err
    assert err == f"{DRAINING}register-batch: interrupted: the emulator stopped without answering 1 request in flight\n"
    assert took < 2.5 if second is not None else took > 4  # not the 5 s the stop waits, or all of it


def test_a_ctrl_c_that_waits_for_a_request_in_flight_says_so_at_once():
    """The first Ctrl-C waited (up to 5 s) for the requests in flight without a word: the emulator looked hung to the
    person who pressed it. It says at once what it waits for and how not to, on stderr, while it waits."""
    process, line = _start("--token", STALLED_TOKEN, "--rate-limit", "0")
    try:
        stalled = _stalled_request(line)
        process.send_signal(signal.SIGINT)
        timer = threading.Timer(3, process.kill)  # a line that never comes: killed, and the line read is empty
        timer.start()
        try:
            said = process.stderr.readline()
        finally:
            timer.cancel()
        still_waiting = process.poll() is None
        process.send_signal(signal.SIGINT)
        _out, err = _stop_waited(process)
        stalled.close()
    finally:
        if process.poll() is None:
            _stop(process, signal.SIGKILL)
    assert (said, still_waiting) == (DRAINING, True)
    assert (process.returncode, err) == (
        3,
        "register-batch: interrupted: the emulator stopped without answering 1 request in flight\n",
    )


def test_a_stop_signal_lets_a_request_in_flight_be_answered_and_kept(tmp_path):
    """review146: stopped by Ctrl-C or SIGTERM, it dropped a request in flight (a create waiting out --latency-ms was
    reset, unanswered). The create is carried out, answered and kept in --db before "Emulator stopped."."""
    token = "subprocess-test-token"
    db = tmp_path / "state.sqlite3"
    as_of = ("--as-of", AS_OF.isoformat())
    process, line = _start("--token", token, "--db", str(db), "--rate-limit", "0", "--latency-ms", "60000", *as_of)
    answers: list = []
    try:
        api = re.search(r"listening on (\S+) ", line).group(1)

        def send() -> None:
            try:
                answers.append(
                    httpx.post(
                        f"{api}/trainees", json=trainee_body(), headers={"Authorization": f"Bearer {token}"}, timeout=30
                    )
                )
            except httpx.TransportError as error:
                answers.append(error)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        stats = api.split("/api/")[0] + "/__emulator__/stats"
        deadline = time.monotonic() + 30
        while not httpx.get(stats, timeout=5).json()["requests"]["total"]:  # waiting out the latency
            assert sender.is_alive() and time.monotonic() < deadline, answers
            time.sleep(0.01)
    finally:
        out, err = _stop(process, signal.SIGTERM)
    sender.join(30)
    assert (process.returncode, out, err) == (0, "Emulator stopped.\n", "")
    [answer] = answers
    assert isinstance(answer, httpx.Response) and answer.status_code == 201, answer
    with start_emulator(tokens=(token,), db=db, rate_limit=None, as_of=AS_OF) as again:
        assert again.snapshot()["trainees"] == 1


def test_a_generated_token_is_printed_and_works():
    process, line = _start()
    try:
        match = re.search(r"listening on (\S+) \(token: (emulator_[0-9a-f]{64});", line)
        assert match, line
        api, token = match.groups()
        assert httpx.get(f"{api}/info", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code == 200
    finally:
        out, _err = _stop(process, signal.SIGTERM)
    assert process.returncode == 0
    assert out == "Emulator stopped.\n"  # no faults, no line about them


def test_a_db_file_that_is_not_a_database_is_a_usage_error(tmp_path):
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("these are my notes, not the emulator's database\n" * 3)
    result = _refused("--db", str(not_a_db))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"register-batch: error: {not_a_db}: cannot be read as the emulator's database (file is not a database); "
        "move it away to start with an empty one"
    )
    assert not_a_db.read_text().startswith("these are my notes")  # left as it was


def test_a_db_file_of_another_program_such_as_a_sync_ledger_is_a_usage_error_and_left_alone(tmp_path):
    """review99 F1: docs/exit-codes.md says a --db that is not an emulator database is exit 2; a sync ledger given by
    a slip got the emulator's tables and a schema_version row, and rehearsal trainees would have gone into it."""
    import hashlib

    from register_batch.sync.ledger import Ledger

    Ledger(tmp_path / "state", "https://example.test").close()
    ledger = tmp_path / "state" / "ledger.sqlite3"
    before = hashlib.sha256(ledger.read_bytes()).hexdigest()
    result = _refused("--db", str(ledger))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"register-batch: error: {ledger}: an SQLite database, but not the emulator's")
    assert result.stderr.rstrip().endswith("give the emulator a --db of its own (a new file is made)")
    assert hashlib.sha256(ledger.read_bytes()).hexdigest() == before


def test_the_emulators_own_database_analyzed_by_sqlite_is_still_taken(tmp_path):
    """review100 F4: after an ANALYZE (sqlite_stat1) it was refused as "not the emulator's"."""
    import sqlite3

    from register_batch.emulator.store import Store

    Store(tmp_path / "emu.sqlite3").close()
    with contextlib.closing(sqlite3.connect(tmp_path / "emu.sqlite3")) as db:
        db.execute("ANALYZE")
    Store(tmp_path / "emu.sqlite3").close()


def test_a_db_damaged_where_the_emulator_first_writes_is_a_usage_error_in_one_line(tmp_path):
    """docs/exit-codes.md: a damaged database is exit 2. A file whose schema reads but whose `meta` table is damaged
    (as a db file replaced while its -wal/-shm were left behind can be) failed at the first write, outside the check
    that says so: "internal error (DatabaseError ...)", exit 70."""
    import sqlite3
    from contextlib import closing

    from register_batch.emulator.store import Store

    damaged = tmp_path / "emulator.db"
    Store(damaged).close()
    with closing(sqlite3.connect(damaged)) as db:
        [(root,)] = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'meta'").fetchall()
        [(page_size,)] = db.execute("PRAGMA page_size").fetchall()
    with damaged.open("r+b") as f:
        f.seek((root - 1) * page_size)
        f.write(b"\xff" * page_size)
    result = _refused("--db", str(damaged))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"register-batch: error: {damaged}: cannot be read as the emulator's database (database disk image is "
        "malformed); move it away to start with an empty one"
    )


def test_a_db_another_process_holds_locked_is_said_to_be_in_use_not_damaged(tmp_path):
    """A db another process holds a write lock on is not damaged: "move it away to start with an empty one" would lose
    the rehearsal's trainees if followed."""
    import sqlite3
    from contextlib import closing

    from register_batch.emulator.store import Store

    held = tmp_path / "emulator.db"
    Store(held).close()
    with closing(sqlite3.connect(held, isolation_level=None)) as other:
        other.execute("BEGIN EXCLUSIVE")
        result = _refused("--db", str(held))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (
        f"register-batch: error: {held}: in use by another process (database is locked): stop the emulator using it, "
        "or give another --db"
    )


def test_a_ukprn_needs_its_token():
    from click.testing import CliRunner

    from register_batch.cli import cli

    result = CliRunner().invoke(cli, ["emulator", "--ukprn", "10052198"])
    assert result.exit_code == 2
    assert "each --ukprn is the UKPRN of a --token's provider: give the tokens too" in result.output


def test_a_second_token_for_a_ukprn_says_the_emulator_has_one_token_per_provider(tmp_path):
    """A token rotation rehearsed with the emulator (review26): "UKPRN 10052198 is already another token's provider",
    with no word of where that token is held or what to do."""
    db = tmp_path / "emulator.sqlite3"
    with start_emulator(tokens=["made-up-token-1"], ukprns={"made-up-token-1": "10052198"}, db=db):
        pass
    args = ["emulator", "--port", "0", "--db", str(db), "--token", "made-up-token-2", "--ukprn", "10052198"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2
    said = " ".join(result.output.split())
    assert (
        f"UKPRN 10052198 is already another token's provider (held in {db} for a token of an earlier run): the "
        "emulator has one token per provider, so a token rotation cannot be rehearsed with it. Give that provider's "
        "token, or another --ukprn or --db"
    ) in said, said
    # Another token's error says only what it is (review28: it got this sentence too)
    bad_token = CliRunner().invoke(cli, ["emulator", "--port", "0", "--token", "a b"])
    assert bad_token.exit_code == 2 and "token rotation" not in bad_token.output, bad_token.output


def test_a_port_in_use_is_a_usage_error_that_names_it():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["emulator", "--port", str(port)])
    assert result.exit_code == 2
    # The whole line, in the command's own words: --port, not the library's port=0 (review187 F2).
    assert result.output.splitlines()[-1] == (
        f"register-batch: error: cannot listen on 127.0.0.1:{port}: the port is in use (by another emulator or "
        "program): give another --port, or --port 0 for a free one"
    ), result.output


def test_the_warning_for_a_non_loopback_host_names_the_port_it_listens_on():
    """With `--port 0` the warning said "anyone who can reach this machine on port 0", the one port nobody can."""
    process, line = _start("--host", "0.0.0.0")
    try:
        match = re.search(r"listening on http://0\.0\.0\.0:(\d+)/", line)
        assert match, line
    finally:
        _out, err = _stop(process, signal.SIGTERM)
    assert process.returncode == 0, err
    assert (
        f"WARNING: --host 0.0.0.0 is not a loopback address: anyone who can reach this machine on port "
        f"{match.group(1)} can use the emulator and its tokens." in err
    )


def test_a_non_loopback_host_it_cannot_listen_on_is_one_error_without_the_warning():
    """192.0.2.1 (TEST-NET-1) is no address of this machine: the warning about others reaching it came first,
    for an emulator that never listened."""
    result = _refused("--host", "192.0.2.1")
    assert result.returncode == 2
    assert (
        result.stderr.startswith("register-batch: error: cannot listen on 192.0.2.1:0: ")
        and "WARNING" not in result.stderr
    )
    assert len(result.stderr.splitlines()) == 1


def test_a_db_file_that_cannot_be_made_is_one_line_naming_it_not_the_address(tmp_path):
    """An --db the emulator could not create (here a name too long for the file system) was reported as
    "Error: cannot listen on 127.0.0.1:0: File name too long": the address was fine, the file was not."""
    db = tmp_path / ("x" * 300 + ".sqlite3")
    result = _refused("--db", str(db))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"register-batch: error: cannot write {db}: ") and "listen" not in result.stderr


@pytest.mark.parametrize("option", ["--latency-ms", "--fault-hold", "--trn-delay"])
@pytest.mark.parametrize("value", ["inf", "nan"])
def test_a_duration_that_is_not_a_finite_number_is_a_usage_error(option, value):
    """`--latency-ms inf` started an emulator whose every request ended in a traceback on its standard error
    (OverflowError: timestamp out of range) and a connection closed without a reply."""
    result = _refused(option, value)
    assert result.returncode == 2, result.stdout
    assert f"Invalid value for '{option}': {value} is not a finite number of" in result.stderr


@pytest.mark.parametrize("token", ["a b", 'pasted"', "line\nbreak", "café"])
def test_a_token_no_client_could_send_is_a_usage_error(token):
    """`--token "a b"` was accepted, for an emulator no Bearer client (register-batch included) could use."""
    result = _refused("--token", token)
    assert result.returncode == 2, result.stdout
    assert "Error: a token holds characters a Bearer token cannot" in result.stderr
    assert token not in result.stderr


@pytest.mark.parametrize("token", ["", "   "])
def test_an_empty_token_is_refused_as_empty_not_as_holding_characters_no_client_can_send(token):
    """review156 F6: `--token ""` (a `--token "$TOKEN"` whose variable is unset) was told the token holds a space,
    quote, line break or non-ASCII character; it holds nothing."""
    result = _refused("--token", token)
    assert result.returncode == 2, result.stdout
    assert result.stderr.splitlines()[-1] == (
        "Error: a token is empty (a variable that is not set?): give the token itself, of letters, digits and -._~+/"
    )
    with pytest.raises(ValueError, match=r"^a token is empty"):
        start_emulator(tokens=["first", token])


def test_the_library_refuses_such_a_token_too():
    with pytest.raises(ValueError, match="a token holds characters a Bearer token cannot"):
        start_emulator(tokens=["a b"])
    with start_emulator() as emulator, pytest.raises(ValueError, match="no client could send it"):
        emulator.add_token("a\tb")


def test_a_client_that_drops_its_connection_is_no_traceback_on_the_emulators_console(tmp_path):
    """A sync killed (or a connection reset) mid-request: the emulator's console showed socketserver's traceback
    (ConnectionResetError in readline) for each such client, as if the emulator had failed."""
    import socket
    import struct

    process, line = _start("--token", "drop-test-token-0001", "--rate-limit", "0")
    try:
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", line)
        assert match, line
        port = int(match.group(1))
        for _ in range(3):
            dropped = socket.create_connection(("127.0.0.1", port), timeout=5)
            dropped.sendall(b"GET /api/v2026.1/info HTT")  # half a request line, then a reset
            dropped.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            dropped.close()
        info = httpx.get(f"http://127.0.0.1:{port}/api/v2026.1/info", timeout=5)  # still serving
        assert info.status_code == 401
    finally:
        _out, err = _stop(process, signal.SIGINT)
    assert process.returncode == 0, err
    assert "Traceback" not in err and "Exception occurred" not in err, err


def _next_line(process: subprocess.Popen) -> str:
    """The emulator's next line on stdout, read as `_start` read the first (the pipe's text buffer may already hold
    it); an emulator that never writes it is stopped after 10 seconds, and the line is then empty."""
    timer = threading.Timer(10, process.kill)
    timer.start()
    try:
        return process.stdout.readline()
    finally:
        timer.cancel()


def test_its_options_reach_the_emulator_and_its_first_lines_say_them():
    """Each --token is accepted; --rate-limit, --faults and --seed shape its answers, and are said as it starts."""
    process, line = _start("--token", "first", "--token", "second", "--rate-limit", "2/60", "--faults", "500:1")
    try:
        match = re.fullmatch(
            r"Register API emulator listening on (\S+) \(2 tokens given with --token; rate limit 2/60s\)\n", line
        )
        assert match, line
        assert _next_line(process) == "Injecting faults: 500:1\n"
        api = match.group(1)
        answers = [httpx.get(f"{api}/info", headers={"Authorization": f"Bearer {token}"}, timeout=5).status_code
                   for token in ("first", "second", "first")]  # fmt: skip
        assert answers == [500, 500, 429]  # every request a fault, until the limit of 2 a minute
    finally:
        out, _err = _stop(process, signal.SIGTERM)
    assert process.returncode == 0 and out == "Emulator stopped.\n"
    seeded, line = _start("--token", "only", "--seed", "3", "--faults", "reset:0.5")
    try:
        assert line.endswith("(1 token given with --token; rate limit 100/60s)\n"), line
        assert _next_line(seeded) == "Injecting faults: reset:0.5 (seed 3)\n"
    finally:
        _stop(seeded, signal.SIGTERM)


@pytest.mark.parametrize("host", ["127.1", "0x7f000001"])
def test_a_loopback_address_written_another_way_listens_on_loopback_without_the_warning(host):
    """`--host 127.1` and `--host 0x7f000001` bind to 127.0.0.1, and were warned as "not a loopback address"
    (review162, observations): loopback is told by the address the host resolves to, as it was bound."""
    process, line = _start("--host", host)
    try:
        assert re.search(r"listening on http://127\.0\.0\.1:\d+/", line), line
    finally:
        _out, err = _stop(process, signal.SIGTERM)
    assert process.returncode == 0, err
    assert "WARNING" not in err and "loopback" not in err, err
    with start_emulator(host=host) as emulator:  # and the library takes it without allow_remote
        assert emulator.url.startswith("http://127.0.0.1:")


@pytest.mark.parametrize("host", ["", " "])
def test_an_empty_host_is_refused_in_one_line(host):
    """`--host ""` listened on every address, warned as "--host  is not a loopback address": an unset variable in a
    script, most likely. Refused, before anything listens."""
    result = _refused("--host", host)
    assert result.returncode == 2, result.stderr
    assert result.stderr == "register-batch: error: --host is empty: give the address to listen on (the default is " \
        "127.0.0.1, this machine only)\n"  # fmt: skip


def _changed_lists(tmp_path):
    """A `reference pull` file with nationality IT gone and a new ethnicity, as Register might change its lists."""
    import copy
    import json

    from register_batch.model import API_VERSION
    from register_batch.reference import load_reference

    payload = copy.deepcopy(load_reference(API_VERSION).api_payload())
    payload["nationality"]["entries"] = [e for e in payload["nationality"]["entries"] if e["code"] != "IT"]
    added = {"code": "181", "display_name": "A background Register added", "end_year": None, "start_year": None}
    payload["ethnicity"]["entries"].append(added)
    pulled = tmp_path / "reference-data.json"
    pulled.write_text(json.dumps({"payload": payload}), encoding="utf-8")
    return pulled


def test_reference_data_serves_and_judges_with_a_pulled_file(tmp_path):
    """review210 F8: a change of Register's lists in the middle of a year could not be rehearsed: the emulator served
    the bundled lists only. With --reference-data it serves a `reference pull` file's, and judges trainees by them."""
    pulled = _changed_lists(tmp_path)
    process, line = _start("--token", "tok-ref", "--rate-limit", "0", "--reference-data", str(pulled))
    try:
        api = re.search(r"listening on (\S+) ", line).group(1)
        assert _next_line(process) == f"Serving the code lists of {pulled}, not the bundled ones\n"
        served = httpx.get(f"{api}/reference-data", timeout=5).json()
        assert "IT" not in {e["code"] for e in served["nationality"]["entries"]}
        assert "181" in {e["code"] for e in served["ethnicity"]["entries"]}
        headers = {"Authorization": "Bearer tok-ref"}
        refused = httpx.post(f"{api}/trainees", json=trainee_body(nationality="IT"), headers=headers, timeout=5)
        assert refused.status_code == 422 and "invalid reference data value of 'IT'" in refused.text, refused.text
        created = httpx.post(f"{api}/trainees", json=trainee_body(ethnicity="181"), headers=headers, timeout=5)
        assert created.status_code == 201, created.text
    finally:
        _stop(process, signal.SIGTERM)


def test_reference_data_that_is_not_a_pulled_file_is_one_line(tmp_path):
    other = tmp_path / "lists.json"
    other.write_text('{"nationality": [1, 2]}', encoding="utf-8")
    refused = _refused("--reference-data", str(other))
    assert refused.returncode == 2, refused.stderr
    [line] = refused.stderr.splitlines()
    assert line.startswith("register-batch: error: --reference-data: ") and "not reference data" in line, line
    assert "delete the file" not in line and "leave --reference-data out" in line, line
    missing = _refused("--reference-data", str(tmp_path / "none.json"))
    assert missing.returncode == 2 and len(missing.stderr.splitlines()) == 1, missing.stderr


def test_the_library_emulator_takes_the_lists_it_serves(tmp_path):
    """`Emulator(reference=...)` reaches RegisterApp: review210 set `emu.app.reference` after the fact."""
    from register_batch.model import API_VERSION
    from register_batch.reference import load_reference

    lists = load_reference(API_VERSION, _changed_lists(tmp_path))
    with start_emulator(tokens=["tok-lib"], rate_limit=None, reference=lists) as emulator:
        assert emulator.app.reference is lists
