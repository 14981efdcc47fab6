"""The validation rules' tables derived from the code lists (sorted codes, the codes a number may have lost zeros
from, the routes taken) are kept on the lists' own object, not in module-level caches keyed on it: a service that
pulls Register's lists weekly and validates with each pull kept every pull's lists alive (review62 F4)."""

from __future__ import annotations

import gc
import json
import os
import weakref
from datetime import date
from pathlib import Path

from register_batch.jobs import validate_files
from register_batch.reference import PULLED_FILE, ReferenceData, load_reference

SAMPLES = Path(__file__).parents[2] / "samples"


def test_validating_with_each_new_pull_keeps_only_the_latest_lists(tmp_path):
    path = tmp_path / "state" / PULLED_FILE
    path.parent.mkdir()
    document = {"payload": json.loads(json.dumps(load_reference().api_payload()))}
    refs: list[weakref.ref[ReferenceData]] = []
    for pull in range(6):
        document["payload"]["sex"]["entries"][0]["display_name"] = f"Female {pull}"  # new lists each pull
        path.write_text(json.dumps(document), encoding="utf-8")
        os.utime(path, ns=(10**18 + pull * 10**9,) * 2)
        refs.append(weakref.ref(load_reference("v2026.1", path)))
        # defects.xml has invalid codes, zero-less codes and routes: every derived table is made
        done = validate_files(
            [SAMPLES / "defects.xml"], reference_path=path, as_of=date(2026, 11, 28), report_dir=tmp_path / f"r{pull}"
        )
        assert done.report.summary.errors > 0
        del done
    gc.collect()
    assert [ref() is not None for ref in refs] == [False] * 5 + [True]
