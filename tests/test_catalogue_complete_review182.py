"""Every issue's fix can be looked up from register_batch.validation alone (review182 F8): a sync's codes were in
CATALOGUE only once register_batch.sync had been imported, so a vendor's web process that shows the issues its worker
pickled got a KeyError for `api_rejected` and `sync_unknown`."""

from __future__ import annotations

import subprocess
import sys


def test_a_fresh_process_finds_every_codes_fix_without_importing_sync():
    looked_up = subprocess.run(
        [
            sys.executable,
            "-c",
            "from register_batch.validation import CATALOGUE, fix_for\n"
            "print('api_rejected' in CATALOGUE, 'sync_unknown' in CATALOGUE, fix_for('sync_unknown'))\n"
            "print(fix_for('no_such_code'), fix_for('invalid_date') == CATALOGUE['invalid_date'].fix)",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert looked_up.returncode == 0, looked_up.stderr[-2000:]
    first, second = looked_up.stdout.splitlines()
    assert first.startswith("True True Nothing is wrong with the record. Run the same sync again")
    assert second == "None True"
