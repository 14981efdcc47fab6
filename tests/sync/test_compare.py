"""Comparing an extract with what Register holds (sync/compare.py), against the emulator over HTTP: an unchanged
extract converges to no writes, and the drift report names each difference."""

from __future__ import annotations

from collections import Counter

from trainee_extracts import trainee, write_extract

BRITISH = ("GB", "FK", "GG", "IM", "IO", "JE")  # hesa-formats.md §2.3.4: one entry, "british"


def test_nationalities_register_holds_as_british_converge(register, tmp_path):
    rows = [dict(trainee(n), nationality=code) for n, code in enumerate(BRITISH, start=1)]
    extract = write_extract(tmp_path / "in.csv", rows)
    assert register.sync(extract).actions == Counter(create=6)
    assert {t["nationality"] for t in register.trainees(2025)} == {"GB"}  # register-api.md §3.6: GB is echoed

    again = register.sync(extract)
    assert again.actions == Counter(unchanged=6) and again.exit_code == 0
    assert register.writes() == Counter({"POST /trainees": 6})


def test_a_changed_nationality_is_still_drift(register, tmp_path):
    register.sync(write_extract(tmp_path / "a.csv", [dict(trainee(1), nationality="JE")]))
    result = register.sync(write_extract(tmp_path / "b.csv", [dict(trainee(1), nationality="FR")]), dry_run=True)
    assert result.results[0].plan.changes == [{"field": "nationality", "register": "GB", "source": "FR"}]
