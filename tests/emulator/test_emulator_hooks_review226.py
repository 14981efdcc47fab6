"""After review226 F4: the standalone emulator bound beyond loopback answered its /__emulator__ test hooks, which take
no token, to anyone who could reach its port (a reset emptied a rehearsal --db, often a copy of real trainees), and
its warning read as if a token were needed. Now off there unless --test-hooks is given, --no-test-hooks turns them
off anywhere, and the warning says which."""

from __future__ import annotations

import re
import signal

import httpx
import pytest
from test_emulator_cli import _start, _stop


def _hook_status(line: str) -> int:
    """What POST /__emulator__/reset answers, over loopback, to no token at all."""
    match = re.search(r"listening on http://[^:]+:(\d+)/", line)
    assert match, line
    return httpx.post(f"http://127.0.0.1:{match.group(1)}/__emulator__/reset", timeout=10).status_code


@pytest.mark.parametrize(
    ("args", "status", "said"),
    [
        (
            ["--host", "0.0.0.0"],
            404,
            "can use the emulator and its tokens. Its /__emulator__ test hooks, which need no token, are off "
            "(--test-hooks turns them on).",
        ),
        (
            ["--host", "0.0.0.0", "--test-hooks"],
            200,
            "can use the emulator and its tokens, and its /__emulator__ test hooks with no token at all (reset, "
            "discard, award: --no-test-hooks turns them off).",
        ),
        (["--no-test-hooks"], 404, None),
        ([], 200, None),  # loopback: on, as before (the tests and rehearsals that use them)
    ],
)
def test_the_test_hooks_are_off_beyond_loopback_unless_asked_for(args, status, said):
    process, line = _start(*args)
    try:
        answered = _hook_status(line)
    finally:
        _out, err = _stop(process, signal.SIGTERM)
    assert process.returncode == 0, err
    assert answered == status, (args, answered)
    if said is None:
        assert "WARNING" not in err, err
    else:
        assert said in err, err
