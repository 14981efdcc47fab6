"""REGISTER_BATCH_TEMPLATE_CACHE turns off, or moves, the compiled report.html template a library call otherwise
writes into the user's cache folder (review62 F7): a service with a read-only home, or a hardened container that must
hold no Python code written at run time, had no way to."""

from __future__ import annotations

from pathlib import Path

import pytest

from register_batch.reports import html_report, template_cache


def compiled_under(folder: Path) -> list[Path]:
    return sorted(folder.glob("**/templates-jinja*/*"))


@pytest.mark.parametrize("off", ["off", "OFF", "0", "no"])
def test_off_writes_no_compiled_template_and_the_page_is_the_same(
    cache_home, validation_builder, tmp_path, monkeypatch, off
):
    validation_builder.write(tmp_path / "cached")
    assert compiled_under(cache_home)
    for compiled in compiled_under(cache_home):
        compiled.unlink()
    monkeypatch.setenv(template_cache.CACHE_ENV, off)
    html_report._ENV.bytecode_cache = None  # a new process
    html_report._ENV.cache.clear()
    validation_builder.write(tmp_path / "uncached")
    assert compiled_under(cache_home) == []
    assert html_report._ENV.bytecode_cache is template_cache.NO_CACHE
    page = (tmp_path / "uncached" / "report.html").read_bytes()
    assert page == (tmp_path / "cached" / "report.html").read_bytes()


def test_a_folder_keeps_the_compiled_template_there_not_in_the_cache_folder(
    cache_home, validation_builder, tmp_path, monkeypatch
):
    elsewhere = tmp_path / "service-cache"
    monkeypatch.setenv(template_cache.CACHE_ENV, str(elsewhere))
    validation_builder.write(tmp_path / "reports")
    assert compiled_under(cache_home) == []
    [compiled] = compiled_under(elsewhere)
    assert compiled.parent.parent == elsewhere


def test_unset_or_empty_is_the_cache_folder(tmp_path):
    home = {"XDG_CACHE_HOME": str(tmp_path)}
    assert template_cache.cache_folder(home) == tmp_path / "register-batch"
    assert template_cache.cache_folder({**home, template_cache.CACHE_ENV: " "}) == tmp_path / "register-batch"
    assert template_cache.cache_folder({**home, template_cache.CACHE_ENV: "off"}) is None


def test_a_token_set_there_after_the_check_keeps_no_cache_and_makes_no_folder(
    cache_home, validation_builder, tmp_path, monkeypatch
):
    """A token in the variable is refused before a run begins (check_report_dir; review111 F1). Set while a library
    caller's run was under way, it keeps no compiled template: the run's report is written, and no folder named by
    the token is made."""
    from register_batch.errors import ConfigError

    token = "sandbox_" + "3d" * 32
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(template_cache.CACHE_ENV, token)
    with pytest.raises(ConfigError, match=r"^REGISTER_BATCH_TEMPLATE_CACHE holds an API token \(72 characters"):
        template_cache.check_cache_setting()
    html_report._ENV.bytecode_cache = None  # a new process
    validation_builder.write(tmp_path / "reports")
    assert html_report._ENV.bytecode_cache is template_cache.NO_CACHE
    assert (tmp_path / "reports" / "report.html").is_file() and not (tmp_path / token).exists()
    html_report._ENV.bytecode_cache = None  # the next test's process
