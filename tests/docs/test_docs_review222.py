"""review222: the README's exit codes name 70 (as exit-codes.md and troubleshooting.md do), and migration.md says an
export of a rehearsal needs the rehearsal's --state-dir (F3)."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_the_readme_lists_exit_code_70():
    said = " ".join((REPO / "README.md").read_text(encoding="utf-8").split())
    assert re.search(r"\*\*70\*\* a bug in register-batch \(`internal error`", said)


def test_migration_md_exports_a_rehearsal_with_its_state_dir():
    page = (REPO / "docs" / "migration.md").read_text(encoding="utf-8")
    step4 = page.split("## 4. Rehearse on your own machine", 1)[1].split("## 5.", 1)[0]
    step9 = page.split("## 9. Reconcile with an export", 1)[1].split("## When you are done", 1)[0]
    assert "`register-batch export --state-dir state/rehearsal" in step4
    assert "same `--state-dir`" in " ".join(step4.split())
    assert "`--state-dir state/rehearsal`" in step9
