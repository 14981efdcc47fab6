"""report.html's compiled template is kept in the user's cache folder: used when it is sound, never trusted blindly."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from register_batch.reports import html_report


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh XDG_CACHE_HOME, and the page's Jinja environment as a new process finds it (nothing compiled)."""
    home = tmp_path / "cache-home"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    env = html_report._ENV
    kept = env.bytecode_cache
    env.bytecode_cache = None
    env.cache.clear()
    yield home
    env.bytecode_cache = kept
    env.cache.clear()


def new_process() -> None:
    """What a later run starts with: no template in memory, the cache folder looked up again."""
    html_report._ENV.bytecode_cache = None
    html_report._ENV.cache.clear()


def compiled_files(home: Path) -> list[Path]:
    return sorted(home.glob("register-batch/templates-jinja*/*"))


def test_compiled_once_then_loaded_owner_only(cache_home, validation_builder, tmp_path, monkeypatch):
    validation_builder.write(tmp_path / "first")
    [compiled] = compiled_files(cache_home)
    assert stat.S_IMODE(compiled.stat().st_mode) == 0o600
    assert stat.S_IMODE(compiled.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((cache_home / "register-batch").stat().st_mode) == 0o700

    new_process()

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("the template was compiled again instead of loaded from the cache")

    monkeypatch.setattr(html_report._ENV, "compile", no_compiling)
    validation_builder.write(tmp_path / "second")
    first, second = ((tmp_path / run / "report.html").read_bytes() for run in ("first", "second"))
    assert first == second


def test_a_damaged_compiled_file_is_compiled_afresh(cache_home, validation_builder, tmp_path):
    validation_builder.write(tmp_path / "first")
    [compiled] = compiled_files(cache_home)
    sound = compiled.read_bytes()
    for damage in (sound[:40], b"not a cache file", sound[:-200]):
        compiled.write_bytes(damage)
        new_process()
        validation_builder.write(tmp_path / "again")
        assert (tmp_path / "again" / "report.html").read_bytes() == (tmp_path / "first" / "report.html").read_bytes()
        assert compiled.read_bytes() == sound  # written again, whole


def test_a_folder_others_can_write_to_is_not_used(cache_home, validation_builder, tmp_path):
    folder = cache_home / "register-batch"
    folder.mkdir(parents=True)
    validation_builder.write(tmp_path / "first")
    [compiled] = compiled_files(cache_home)
    compiled.unlink()
    os.chmod(compiled.parent, 0o777)  # another user could have planted code here
    new_process()
    validation_builder.write(tmp_path / "second")
    assert compiled_files(cache_home) == []
    assert (tmp_path / "second" / "report.html").read_bytes() == (tmp_path / "first" / "report.html").read_bytes()


def test_no_usable_cache_folder_still_writes_the_page(cache_home, validation_builder, tmp_path):
    cache_home.parent.mkdir(parents=True, exist_ok=True)
    cache_home.write_text("a file where the cache folder would be")
    validation_builder.write(tmp_path / "report")
    assert (tmp_path / "report" / "report.html").stat().st_size > 10_000


def test_no_home_folder_still_writes_the_page(cache_home, validation_builder, tmp_path, request):
    """No HOME, and a uid the user database does not know (a container's arbitrary uid): validate wrote no report
    at all (exit 70, `RuntimeError: Could not determine home directory`) for the sake of a cache."""
    validation_builder.write(tmp_path / "first")
    new_process()
    request.getfixturevalue("no_home")
    validation_builder.write(tmp_path / "second")
    assert (tmp_path / "second" / "report.html").read_bytes() == (tmp_path / "first" / "report.html").read_bytes()
