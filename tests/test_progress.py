"""Progress: a plain log line every few seconds when not on a terminal; silence with --quiet."""

from __future__ import annotations

import io

from register_batch.progress import Progress


def test_plain_lines_when_not_a_terminal(monkeypatch):
    clock = iter(range(0, 1000, 3))
    monkeypatch.setattr("register_batch.progress.time.monotonic", lambda: float(next(clock)))
    stream = io.StringIO()
    with Progress(stream=stream, interval=5, force_terminal=False) as progress:
        task = progress.task("Writing to Register", total=10, unit="requests")
        for _ in range(10):
            task.advance()
        task.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 3
    assert "Writing to Register:" in lines[0] and "/10 requests" in lines[0] and "/s" in lines[0]
    assert "10/10 requests" in lines[-1]


def test_quiet_prints_nothing():
    stream = io.StringIO()
    with Progress(enabled=False, stream=stream) as progress:
        task = progress.task("Validating")
        task.advance(1000)
        task.close()
        progress.log("hello")
    assert stream.getvalue() == ""


def test_rich_bars_on_a_terminal():
    stream = io.StringIO()
    with Progress(stream=stream, force_terminal=True) as progress:
        task = progress.task("Validating", total=5)
        task.advance(5)
    assert "Validating" in stream.getvalue()


def test_a_bar_of_slow_steps_moves_at_each_one(monkeypatch):
    """Validation's bar is redrawn every 64 records; sync's writes, paced at 100 requests a minute, would leave such
    a bar still for over half a minute at a time: it is redrawn at each request."""
    stream = io.StringIO()
    drawn: list[dict] = []
    with Progress(stream=stream, force_terminal=True) as progress:
        records = progress.task("Validating", total=200)
        writes = progress.task("Writing to Register", total=5, unit="requests", every=1)
        monkeypatch.setattr(records, "_draw", lambda **fields: drawn.append({"task": "records", **fields}))
        monkeypatch.setattr(writes, "_draw", lambda **fields: drawn.append({"task": "writes", **fields}))
        for _ in range(3):
            writes.advance()
        for _ in range(130):
            records.advance()
    assert [d["completed"] for d in drawn if d["task"] == "writes"] == [1, 2, 3]
    assert [d["completed"] for d in drawn if d["task"] == "records"] == [64, 128]
