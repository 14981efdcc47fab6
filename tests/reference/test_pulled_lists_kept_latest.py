"""A long-running service that pulls Register's code lists again and again keeps only the latest read of each pulled
file (review62 F4): every pull's lists (about 1.7 MB each) stayed in memory for the life of the process."""

from __future__ import annotations

import gc
import json
import os
import weakref
from pathlib import Path

from register_batch.reference import KEPT_PULLED, PULLED_FILE, ReferenceData, load_reference


def pulled_file(folder: Path, label: str = "Female") -> Path:
    """A pulled file: the bundled lists, the sex list's first name changed to `label`."""
    payload = json.loads(json.dumps(load_reference().api_payload()))
    payload["sex"]["entries"][0]["display_name"] = label
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / PULLED_FILE
    path.write_text(json.dumps({"payload": payload}), encoding="utf-8")
    return path


def pulled_again(path: Path, pull: int, label: str | None = None) -> None:
    """`reference pull` run again: the file rewritten (with new lists when `label` is given), a new mtime."""
    if label is not None:
        payload = json.loads(path.read_text(encoding="utf-8"))
        payload["payload"]["sex"]["entries"][0]["display_name"] = label
        path.write_text(json.dumps(payload), encoding="utf-8")
    moment = 10**18 + pull * 10**9
    os.utime(path, ns=(moment, moment))


def alive(refs: list[weakref.ref[ReferenceData]]) -> int:
    gc.collect()
    return sum(1 for ref in refs if ref() is not None)


def test_a_file_pulled_again_with_the_same_lists_gives_the_same_object(tmp_path):
    path = pulled_file(tmp_path / "state")
    first = load_reference("v2026.1", path)
    for pull in range(30):
        pulled_again(path, pull)
        assert load_reference("v2026.1", path) is first


def test_a_file_pulled_again_with_new_lists_lets_the_earlier_ones_go(tmp_path):
    path = pulled_file(tmp_path / "state")
    refs = [weakref.ref(load_reference("v2026.1", path))]
    for pull in range(30):
        pulled_again(path, pull, label=f"Female {pull}")
        latest = load_reference("v2026.1", path)
        assert latest.code_list("sex").entries[0]["display_name"] == f"Female {pull}"  # the new lists, as before
        refs.append(weakref.ref(latest))
    del latest
    assert alive(refs) == 1  # the latest only


def test_only_the_files_read_last_are_kept(tmp_path):
    """A service that gives each job a state dir of its own, each with its pulled lists."""
    refs = [weakref.ref(load_reference("v2026.1", pulled_file(tmp_path / f"job-{n}"))) for n in range(KEPT_PULLED + 3)]
    assert alive(refs) == KEPT_PULLED
    assert refs[-1]() is not None and refs[0]() is None
