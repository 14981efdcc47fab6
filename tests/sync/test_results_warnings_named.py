"""results.csv's `warnings` column names a record's validation warnings too, by code and field, as `errors` names an
invalid record's: the summary line said "14 warnings" and docs/nightly-sync.md said the column shows which records
they are, but it held only the sync's own (review48 F4). Against the emulator over 127.0.0.1."""

from __future__ import annotations

import csv
from pathlib import Path

from emulated import sync_options
from register_batch.emulator import start_emulator
from register_batch.sync import sync_files

SAMPLES = Path(__file__).parents[2] / "samples"
TOKEN = "warnings-named-provider-token"


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def test_each_warning_the_summary_counts_is_named_on_its_record(tmp_path: Path) -> None:
    with start_emulator(tokens=[TOKEN], rate_limit=None, ukprns={TOKEN: "10052198"}) as emulator:
        synced = sync_files([str(SAMPLES / "extract.xml")], sync_options(emulator, tmp_path, TOKEN))
    assert "14 warnings" in synced.summary_line()
    rows = _rows(tmp_path / "reports" / "results.csv")
    named = [name for row in rows for name in filter(None, row["warnings"].split("; "))]
    assert len(named) == 14, named
    assert rows[0]["warnings"].split("; ")[0] == "legacy_code_translated (sex)"
    issues = _rows(tmp_path / "reports" / "issues.csv")
    assert sorted(named) == sorted(f"{i['code']} ({i['field']})" for i in issues if i["severity"] == "warning")
    # report.json's records say the same, from each record's result
    import json

    records = json.loads((tmp_path / "reports" / "report.json").read_text())["records"]
    assert records[0]["warnings"][0] == synced.results[0].row()["warnings"][0] == "legacy_code_translated (sex)"
