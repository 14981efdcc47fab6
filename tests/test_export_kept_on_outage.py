"""An export that Register fails part-way (5xx after retries) keeps an earlier file of the same name, and says so.

review59: the line after a 5xx said "no file was written" and nothing of the earlier export at that path, which a
user then looked for as lost; an unknown --academic-cycle (test_export_notes_review56) already said it was kept.
"""

from __future__ import annotations

from datetime import date

import pytest
from click.testing import CliRunner

from register_batch.api import RateLimiter, RegisterClient
from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.errors import RegisterUnavailable
from register_batch.export import export_trainees

AS_OF = date(2026, 11, 28)
TOKEN = "review59-export-token"
EARLIER = '["an earlier export"]\n'


def test_a_register_failing_with_500_keeps_the_earlier_file_and_the_line_says_so(tmp_path, monkeypatch, no_backoff):
    monkeypatch.setenv("REGISTER_API_TOKEN", TOKEN)
    kept = tmp_path / "keep.json"
    kept.write_text(EARLIER)
    fresh = tmp_path / "fresh.json"
    with start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, faults="500:1") as emulator:
        over = CliRunner().invoke(cli, ["-q", "export", "--target", emulator.url, "--to", "json", "-o", str(kept)])
        new = CliRunner().invoke(cli, ["-q", "export", "--target", emulator.url, "--to", "json", "-o", str(fresh)])
    assert over.exit_code == 3, over.output  # an outage: run it again (review236 F1)
    last = over.output.strip().splitlines()[-1]
    assert last.startswith("register-batch: error: Register was unavailable (GET /trainees -> 500")
    assert last.endswith(f"; no file was written, and the earlier {kept} stays as it was. Run again later.")
    assert kept.read_text() == EARLIER
    assert new.exit_code == 3, new.output
    assert new.output.strip().splitlines()[-1].endswith("; no file was written. Run again later.")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.json"]  # no temporary file either
    assert TOKEN not in over.output + new.output


def test_the_library_says_the_earlier_file_stays_too(tmp_path, no_backoff):
    kept = tmp_path / "held.xml"
    kept.write_text(EARLIER)
    with (
        start_emulator(tokens=[TOKEN], rate_limit=None, as_of=AS_OF, faults="500:1") as emulator,
        RegisterClient(emulator.url, TOKEN, limiter=RateLimiter(1000, 1)) as client,
        pytest.raises(RegisterUnavailable) as caught,
    ):
        export_trainees(client, to="hesa-xml", output=kept)
    assert caught.value.exit_code == 3
    assert f"no file was written, and the earlier {kept} stays as it was" in str(caught.value)
    assert kept.read_text() == EARLIER
