"""Compiled Jinja templates kept between runs, in this user's cache folder (report.html's template takes about 60 ms
to compile), and trusted only when they are this user's own: Jinja unpickles and runs what it loads."""

from __future__ import annotations

import contextlib
import hashlib
import os
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import BytecodeCache, Environment, FileSystemBytecodeCache
from jinja2.bccache import Bucket

import register_batch
from register_batch.errors import ConfigError, UnwritableOutput
from register_batch.fs import home_expanded, make_private_dirs, user_cache_dir
from register_batch.portable import POSIX_PERMISSIONS
from register_batch.tokens import refuse_token_named


class _NoCache(BytecodeCache):
    """No folder to keep compiled templates in: compile each run."""

    def load_bytecode(self, bucket: Bucket) -> None:
        return None

    def dump_bytecode(self, bucket: Bucket) -> None:
        return None


NO_CACHE = _NoCache()


# Where a caller keeps compiled templates in place of the user's cache folder, or `off` for none: a service with a
# read-only or throw-away home, or a hardened container that must not hold Python code written at run time, had no
# way to turn the cache off (review62 F7). Read once per process, when the first report.html is written.
CACHE_ENV = "REGISTER_BATCH_TEMPLATE_CACHE"
_OFF = ("off", "none", "0", "false", "no")  # as REGISTER_BATCH_RATE_DIR says it


def for_environment(env: Environment) -> BytecodeCache:
    """The cache `env`'s templates are kept in: `CompiledTemplates` in the cache folder, else NO_CACHE. A token in
    REGISTER_BATCH_TEMPLATE_CACHE is refused before a run begins (`check_cache_setting`); one set while a library
    caller's process runs keeps no cache rather than lose a finished run's report."""
    try:
        cache = cache_folder()
    except ConfigError:
        return NO_CACHE
    folder = cache / f"templates-jinja{jinja2.__version__}" if cache else None
    return (CompiledTemplates.in_folder(folder, env) if folder else None) or NO_CACHE


def cache_folder(environ: Mapping[str, str] | None = None) -> Path | None:
    """The folder compiled templates are kept under: the one REGISTER_BATCH_TEMPLATE_CACHE names, none when it says
    `off` (or names `~/...` with no home known), else the user's cache folder (fs.user_cache_dir)."""
    environ = os.environ if environ is None else environ
    setting = environ.get(CACHE_ENV, "").strip()
    # A token pasted there was made a folder named by it, listed by anyone who may list the folder above, as
    # REGISTER_BATCH_RATE_DIR's was (review61 F6): refused without showing it, and no folder made (review111 F1).
    refuse_token_named(CACHE_ENV, setting)
    if setting.lower() in _OFF:
        return None
    if not setting:
        return user_cache_dir(environ)
    try:
        return home_expanded(setting)
    except ConfigError:  # `~/x` with no home known: compile each run, as with no cache folder
        return None


def check_cache_setting() -> None:
    """Refuse (ConfigError) a REGISTER_BATCH_TEMPLATE_CACHE that holds an API token: checked with the report folder
    (reports.check_report_dir), before anything is read or sent, not once the run's report is written."""
    cache_folder()


class CompiledTemplates(FileSystemBytecodeCache):
    """One file per template, Jinja version, register-batch release and settings, and Python (`compiled_with`),
    checked against the template's text; it holds no data. A file that cannot be read or written is compiled
    afresh, and so is one that is not this user's alone."""

    def __init__(self, folder: str, env: Environment):
        super().__init__(folder)
        self.env = env

    @classmethod
    def in_folder(cls, folder: os.PathLike[str], env: Environment) -> CompiledTemplates | None:
        try:
            make_private_dirs(folder)
            mode = os.stat(folder)
        except (UnwritableOutput, OSError):
            return None
        if not POSIX_PERMISSIONS:  # Windows: no uid and no mode bits tell whose a file is; compile each run
            return None
        if mode.st_uid != os.getuid() or mode.st_mode & 0o022:  # code loaded from it must be this user's own
            return None
        return cls(os.fspath(folder), env)

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        # Jinja keys a file by the template's name and path and checks only the template's text: code compiled under
        # other settings (an upgrade of register-batch that changed one, or a filter Jinja evaluated while compiling)
        # or by another Python implementation would be taken for this one's.
        key = f"{super().get_cache_key(name, filename)}|{compiled_with(self.env, name)!r}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()

    def load_bytecode(self, bucket: Bucket) -> None:
        # The file itself is checked, as it is opened: the folder was checked once, by name, and a folder that
        # someone else can rename in could be theirs by now. Not a link, nor a pipe that would never answer.
        try:
            fd = os.open(self._get_cache_filename(bucket), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:  # none yet, a link, or unreadable: compile
            return
        with open(fd, "rb") as fh:
            found = os.fstat(fd)
            if not stat.S_ISREG(found.st_mode) or found.st_uid != os.getuid() or found.st_mode & 0o022:
                return  # code loaded must be this user's own, as written by dump_bytecode
            try:
                bucket.load_bytecode(fh)
            except Exception:  # a damaged file: compile as if there were none
                bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):
            super().dump_bytecode(bucket)


def compiled_with(env: Environment, name: str) -> tuple[Any, ...]:
    """What the code Jinja compiles from a template depends on besides its text."""
    return (
        register_batch.__version__,
        sys.implementation.cache_tag,
        env.block_start_string,
        env.block_end_string,
        env.variable_start_string,
        env.variable_end_string,
        env.comment_start_string,
        env.comment_end_string,
        env.line_statement_prefix,
        env.line_comment_prefix,
        env.trim_blocks,
        env.lstrip_blocks,
        env.newline_sequence,
        env.keep_trailing_newline,
        tuple(sorted(env.extensions)),
        env.optimized,
        env.is_async,
        env.finalize is not None,
        env.autoescape(name) if callable(env.autoescape) else env.autoescape,
    )
