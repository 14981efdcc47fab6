"""report.html's compiled template is kept in the user's cache folder (reports/template_cache.py): used when it
is sound, never trusted blindly."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

import pytest

from register_batch.reports import html_report, template_cache


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


def planted(marker: str) -> bytes:
    """A compiled-template file that Jinja would take for the page's own (its magic, the page's checksum) but
    whose code writes `marker`: what someone who could write in the folder would put there."""
    from jinja2.bccache import Bucket

    env = html_report._ENV
    source, filename, _uptodate = env.loader.get_source(env, "report.html.j2")
    bucket = Bucket(env, "planted", template_cache.NO_CACHE.get_source_checksum(source))
    bucket.code = env.compile(marker, "report.html.j2", filename)
    return bucket.bytecode_to_string()


def test_a_file_the_folder_check_did_not_see_is_not_loaded_unless_it_is_this_users_own(
    cache_home, validation_builder, tmp_path
):
    """The folder is checked once, when the first page is written; the file is opened later, by name. Whoever can
    rename in a parent (an XDG_CACHE_HOME in a shared place) can swap the folder in between for theirs: its
    files, not written by this user (here: writable by all), must not be run as the page's code."""
    validation_builder.write(tmp_path / "first")  # the folder is checked and the compiled template written
    [compiled] = compiled_files(cache_home)
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    os.chmod(theirs, 0o777)
    (theirs / compiled.name).write_bytes(planted("PLANTED"))
    os.chmod(theirs / compiled.name, 0o666)
    if os.getuid() == 0:  # as root, the file can be another user's too
        os.chown(theirs / compiled.name, 65534, 65534)
    compiled.parent.rename(tmp_path / "mine")
    compiled.parent.symlink_to(theirs)
    html_report._ENV.cache.clear()  # the next page loads the template again, through the same (checked) cache
    validation_builder.write(tmp_path / "second")
    page = (tmp_path / "second" / "report.html").read_bytes()
    assert b"PLANTED" not in page
    assert page == (tmp_path / "first" / "report.html").read_bytes()


def test_a_pipe_where_the_compiled_file_would_be_does_not_hang_the_page(cache_home, validation_builder, tmp_path):
    """Opening a named pipe to read waits for a writer that never comes: the page was never written."""
    validation_builder.write(tmp_path / "first")
    [compiled] = compiled_files(cache_home)
    compiled.unlink()
    os.mkfifo(compiled, 0o600)
    new_process()
    writing = threading.Thread(target=validation_builder.write, args=(tmp_path / "second",), daemon=True)
    writing.start()
    writing.join(30)
    if writing.is_alive():
        os.close(os.open(compiled, os.O_WRONLY | os.O_NONBLOCK))  # let the stuck reader go
        writing.join(30)
        pytest.fail("the page waited on a named pipe in the cache folder")
    second = (tmp_path / "second" / "report.html").read_bytes()
    assert second == (tmp_path / "first" / "report.html").read_bytes()


def test_code_compiled_under_other_settings_is_not_loaded(cache_home, validation_builder, tmp_path, monkeypatch):
    """Jinja checks a compiled file against the template's text only. A release of register-batch that changed
    the page's Jinja settings (here trim_blocks) or a filter, with the template unchanged, loaded the code compiled
    by the release before: a page laid out, or escaped, as that release did."""
    validation_builder.write(tmp_path / "before")
    monkeypatch.setattr(html_report._ENV, "trim_blocks", False)
    new_process()
    validation_builder.write(tmp_path / "after")
    html_report._ENV.bytecode_cache = template_cache.NO_CACHE
    html_report._ENV.cache.clear()
    validation_builder.write(tmp_path / "fresh")
    page = (tmp_path / "after" / "report.html").read_bytes()
    assert page != (tmp_path / "before" / "report.html").read_bytes()
    assert page == (tmp_path / "fresh" / "report.html").read_bytes()
    assert len(compiled_files(cache_home)) == 2  # each kept beside the other: two installs may share the folder


def test_another_release_compiles_its_own(cache_home, validation_builder, tmp_path, monkeypatch):
    import register_batch

    validation_builder.write(tmp_path / "first")
    [first] = compiled_files(cache_home)
    monkeypatch.setattr(register_batch, "__version__", "99.0.0")
    new_process()
    validation_builder.write(tmp_path / "second")
    assert len(compiled_files(cache_home)) == 2 and first.read_bytes()


@pytest.mark.parametrize("writable", ["file", "folder"])
def test_code_in_a_file_or_folder_only_other_users_can_write_to_is_not_loaded(
    cache_home, validation_builder, tmp_path, writable
):
    """Write permission for other users alone (no group write) is as much a way to plant code as group write: a
    compiled file, or its folder, that others can write to is not loaded, even when the file is this user's."""
    validation_builder.write(tmp_path / "first")
    [compiled] = compiled_files(cache_home)
    compiled.write_bytes(planted("PLANTED"))
    os.chmod(compiled if writable == "file" else compiled.parent, 0o602 if writable == "file" else 0o702)
    new_process()
    validation_builder.write(tmp_path / "second")
    page = (tmp_path / "second" / "report.html").read_bytes()
    assert b"PLANTED" not in page
    assert page == (tmp_path / "first" / "report.html").read_bytes()


def test_a_later_run_loads_what_the_first_compiled_instead_of_compiling_its_own(cache_home, tmp_path):
    """The compiled file's name comes from what the code depends on, none of it an object of one process (whose
    address would differ in the next): two runs of validate leave one compiled file, and each writes its page."""
    import subprocess
    import sys

    sample = Path(__file__).parent.parent / "fixtures" / "register_csv" / "five_trainees.csv"
    for run in ("first", "second"):
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "register_batch",
                "-q",
                "validate",
                str(sample),
                "--report-dir",
                str(tmp_path / run),
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode in (0, 1), done.stderr
        assert len(compiled_files(cache_home)) == 1, run
    assert all((tmp_path / run / "report.html").stat().st_size > 10_000 for run in ("first", "second"))
