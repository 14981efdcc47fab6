"""Effective settings: command-line options, then environment variables, then `register-batch.toml`, then defaults.

The API token is never a setting: it comes from `REGISTER_API_TOKEN` or a `--token-file` (or `token_file`
in the config file, which names a file and does not hold the token).
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from register_batch.constants import API_VERSION, TARGETS
from register_batch.errors import ConfigError
from register_batch.tokens import (
    TOKEN_AS_FILE,
    hidden_token,
    looks_like_token,
    masked_path_words,
    not_shown,
    pasted_token_file,
    quoted_setting,
    refuse_token_named,
    without_query,
)

CONFIG_FILE = "register-batch.toml"
DEFAULT_STATE_DIR = ".register-batch"
DEFAULT_REPORT_DIR = "register-batch-reports"
DEFAULT_RATE = "95/60"

# setting -> environment variable
ENVIRONMENT = {
    "target": "REGISTER_API_URL",
    "rate": "REGISTER_BATCH_RATE",
    "state_dir": "REGISTER_BATCH_STATE_DIR",
    "report_dir": "REGISTER_BATCH_REPORT_DIR",
    "api_version": "REGISTER_BATCH_API_VERSION",
    "token_file": "REGISTER_API_TOKEN_FILE",
    "ukprn": "REGISTER_BATCH_UKPRN",
    "require_ukprn": "REGISTER_BATCH_REQUIRE_UKPRN",
}
DEFAULTS: dict[str, Any] = {
    "target": None,
    "rate": DEFAULT_RATE,
    "state_dir": DEFAULT_STATE_DIR,
    "report_dir": DEFAULT_REPORT_DIR,
    "api_version": API_VERSION,
    "token_file": None,
    "mappings": [],
    "ukprn": None,
    "require_ukprn": False,
}
KNOWN_KEYS = set(DEFAULTS)
# What the UKPRN is to each command that takes --ukprn, as its help and the refusal of an empty one say it: validate
# and convert send nothing and take no token (review170 F2: an empty one was told to name the token's provider).
UKPRN_OF = {
    "sync": "the provider the token sends for",
    "export": "the provider the token is for",
    "validate": "the provider whose records you check",
    "convert": "the provider the converted records are for",
}


@dataclass
class Settings:
    target: str | None
    rate: str
    state_dir: Path
    report_dir: Path
    api_version: str
    token_file: Path | None
    mappings: list[Path]
    ukprn: str | None = None  # the provider the token sends for; records of another are held back
    # A sync or export with no `ukprn` is refused (Settings.problems): on a host of many providers a settings file
    # left without its line had nothing to check its token by (review212 F1).
    require_ukprn: bool = False
    config_file: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)
    # Every place a token was given, the one used or not, as a refusal names it (token_without_target): --token-file,
    # $REGISTER_API_TOKEN, $REGISTER_API_TOKEN_FILE, `token_file in FILE`; of the environment the settings were loaded
    # from (review149 F3)
    token_given: tuple[str, ...] = ()
    # Where each of `mappings` was named, as a refusal says it: the settings file, or --mapping (review156 F5).
    mapping_sources: tuple[str, ...] = ()
    # The settings file's own token_file when $REGISTER_API_TOKEN_FILE names another, which wins: the run warns that
    # it does, as for $REGISTER_API_TOKEN (overridden_token_file, review188 F5). None otherwise.
    file_token_file: Path | None = None
    # What the settings file gives for a setting its environment variable overrides with another value (`state_dir`,
    # `report_dir`, `ukprn`, `target`; OVERRIDE_SAID), as the run's warning names it: one variable left exported on
    # a host of many providers' settings files sent every provider's reports to one folder without a word, where
    # the token's variables warn (review212 F4). Empty otherwise.
    overridden: dict[str, str] = field(default_factory=dict)

    def problems(self, *keys: str, command: str = "sync") -> dict[str, str]:
        """Settings that a command would refuse, each with why and where it was set: checked up front.

        `keys`: only these settings (default: all). Each check imports what it needs when it runs, so that
        `validate` checking its `ukprn` does not load the HTTP client. `command`: the one they are checked for, whose
        refusals say what the setting is to it (UKPRN_OF).
        """
        from register_batch.errors import RegisterBatchError

        def target() -> object:
            from register_batch.api import resolve_target

            if self.target is not None and not self.target.strip():
                # `--target "$TARGET"` or REGISTER_API_URL=$TARGET with the variable unset: a nightly job synced into
                # the embedded emulator on its own machine and exited 0.
                raise ConfigError(
                    f"target is empty: name the service (sandbox, production or its URL), or "
                    f"{self._set_elsewhere('target')}, or else the embedded emulator"
                )
            return self.target and resolve_target(self.target)

        def ukprn() -> object:
            from register_batch.validation.providers import checked_ukprn

            if self.ukprn == "":
                # `--ukprn "$UKPRN"` with the variable unset: it switched off the settings' `ukprn`, the guard that
                # holds back another provider's records, and a trainee went into the wrong account (review111 F2).
                raise ConfigError(
                    f"ukprn is empty: give the UKPRN of {UKPRN_OF.get(command, UKPRN_OF['sync'])} (8 digits starting "
                    f"with 1), or {self._set_elsewhere('ukprn')}"
                )
            return checked_ukprn(self.ukprn)

        def api_version() -> None:
            from register_batch.reference import check_api_version

            check_api_version(self.api_version)

        checks = {"rate": lambda: parse_rate(self.rate), "target": target, "ukprn": ukprn, "api_version": api_version}
        found = {}
        for key, check in checks.items():
            if keys and key not in keys:
                continue
            try:
                check()
            except RegisterBatchError as exc:
                from register_batch.commands.common import OPTIONS  # settings are the command line's to check

                found[key] = f"{exc.worded(OPTIONS)} (set by {self.set_by(key)})"
        if (not keys or "ukprn" in keys) and "ukprn" not in found and (problem := self._ukprn_required(command)):
            found["ukprn"] = problem
        if (not keys or "mappings" in keys) and (problem := self._mapping_problem()) is not None:
            found["mappings"] = problem
        if (not keys or "state_dir" in keys) and self.sources.get("state_dir") == "default":
            older = older_state_dir(self.target, self.state_dir)
            if older is not None:
                found["state_dir"] = moved_state_dir(older, self.state_dir, self.target)
        if not keys or "token" in keys:
            token = token_without_target(self)  # sync's and export's refusal; it names where the token was set
            if token is not None:
                found["token"] = token
        return found

    def _ukprn_required(self, command: str) -> str | None:
        """The refusal of a sync or export with no `ukprn` where `require_ukprn` is set: a vendor's one settings file of
        forty without its ukprn line, its token_file another provider's, created every record in that provider's
        account (review212 F1). Validate and convert send nothing: not theirs to refuse."""
        if not self.require_ukprn or self.ukprn is not None or command not in ("sync", "export"):
            return None
        return (
            f"ukprn is required (require_ukprn set by {self.set_by('require_ukprn')}) and none is set: give the UKPRN "
            f"of {UKPRN_OF[command]} with --ukprn, $REGISTER_BATCH_UKPRN or ukprn in the settings file"
        )

    def _set_elsewhere(self, key: str) -> str:
        """How the refusal of an empty setting says where else it may come from, by where the empty one was given:
        below the command line, its variable, then the settings file; below the variable, the settings file
        (review170 F1: an empty REGISTER_API_URL was told to fall back to $REGISTER_API_URL)."""
        variable = f"${ENVIRONMENT[key]}"
        source = self.set_by(key)
        if source == variable:
            return f"unset {variable} for the settings file's {key}"
        if not source.startswith("--"):  # the settings file's (`ukprn = ""`: review173)
            return f"leave the line out of the settings file for no {key}"
        return f"leave the option out for the one set elsewhere ({variable}, then the settings file)"

    def _mapping_problem(self) -> str | None:
        """The first mapping file that cannot be read, and where it was named: the loader's refusal said only the
        file's name, which the user of a settings file (or of another folder's, with --config) never typed."""
        if not self.mappings:
            return None
        from register_batch.mapping.loader import check_mapping_file

        sources = self.mapping_sources or (self.set_by("mappings"),) * len(self.mappings)
        for path, source in zip(self.mappings, sources, strict=True):
            try:
                check_mapping_file(path)
            except ConfigError as exc:
                return f"{exc} (set by {source})"
        return None

    def set_by(self, key: str) -> str:
        """Where a setting came from, as a message names it: its option when given on the command line (what a
        person looks for in a cron line or a unit file), else its environment variable, settings file or `default`."""
        return _set_by(key, self.sources.get(key, "default"))

    def given_with(self, key: str) -> str:
        """How a refusal names where a setting was given: the option, the environment variable, or the key in the
        settings file (a person on call looks for `--ukprn` in a unit file that has none)."""
        source = self.set_by(key)
        return source if source.startswith(("--", "$")) else f"{key} in {source}"

    def check(self, *keys: str, command: str = "sync") -> None:
        """Refuse a bad setting among `keys` (`rate`, `target`, `ukprn`, `api_version`, `mappings`: a file that cannot
        be read, `token`: one with no target, `state_dir`: a default one whose ledger an older build kept beside it)
        before `command` runs, naming where it came from (exit 2)."""
        for problem in self.problems(*keys, command=command).values():
            raise ConfigError(problem)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": masked_url(self.target),
            "rate": shown_setting("rate", self.rate),
            "state_dir": str(self.state_dir),  # a token pasted there is refused (load_settings)
            "report_dir": str(self.report_dir),
            "api_version": shown_setting("api_version", self.api_version),
            "token_file": shown_path(self.token_file),
            "mappings": [str(p) for p in self.mappings],
            "ukprn": shown_setting("ukprn", self.ukprn),
            "require_ukprn": self.require_ukprn,
        }


# Settings whose values are never 32 characters long: one that looks like a token is an API token pasted in the
# wrong place (REGISTER_BATCH_RATE for REGISTER_API_TOKEN), and is never shown, as a target or token file's is not.
SHORT_SETTINGS = ("rate", "ukprn", "api_version")


def shown_setting(key: str, value: str | None) -> str | None:
    """A short setting's value as it may be shown: not at all when it looks like an API token."""
    return (hidden_token(value) or value) if key in SHORT_SETTINGS and value is not None else value


def shown_path(path: str | os.PathLike[str] | None) -> str | None:
    """A token file's, settings file's or working folder's path as it may be shown: not at all when it is an API token
    pasted in its place (no file of that name is there), and with a token of Register's shape, or the one in use,
    masked otherwise (a file or folder named after its token, `secrets/production_…`; `masked_path_words`). The one
    way such a path is shown: `config show`, the token file's warnings and errors, the Target: and summary lines,
    report.json and report.html (review226 F1)."""
    if path is None:
        return None
    length = pasted_token_file(path)
    return masked_path_words(os.fspath(path)) if length is None else not_shown(length)


def masked_url(url: str | None) -> str | None:
    """A target as it may be shown: a user name or password in it (a credential), and its query, replaced by ****; an
    API token given as the target by mistake not shown at all."""
    if not url:
        return url
    # The credentials first: a password may hold a ? or # (`https://user:pass?word@host`), and cut there it would be
    # shown up to it. (An @ in a query is then taken as a credential's end: shown less, never more.)
    masked = without_query(_masked_credentials(url) if "@" in url else url)
    return not_shown(len(url)) if looks_like_token(masked) else masked


def _masked_credentials(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
    except ValueError:  # not a URL (`https://user:password@[::1`): whatever precedes the @ may be a credential
        parts = None
    if parts is None or (parts.username is None and parts.password is None):
        # Not read as a URL with a password (`https//user:password@host`, a colon left out), but it may hold one.
        return f"****@{url.rsplit('@', 1)[1]}"
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=f"****@{host}"))


CONFIG_FILE_LIMIT = 1 << 20  # a settings file is a few hundred bytes


def read_config_file(path: Path, *, found_here: bool = False) -> dict[str, Any]:
    """The settings of `path`; `found_here`: found in the current folder, not named (another user's is refused)."""
    import tomllib  # only where a config file is read: not for `--help` or `--version`

    from register_batch.fs import read_at_most

    shown = shown_path(path)  # a file or folder named after a token: masked (review226 F1)

    try:
        data = read_at_most(
            path, CONFIG_FILE_LIMIT, "a config file", opened=lambda status: _look_at(path, status, found_here)
        )
        doc = tomllib.loads(data.decode("utf-8-sig"))  # a byte-order mark (Notepad's "UTF-8 with BOM") too
    except OSError as exc:
        raise ConfigError(f"{shown}: cannot read the config file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: not valid TOML ({exc})") from None
    except UnicodeDecodeError:  # TOML is UTF-8: a file saved as Windows-1252 or UTF-16 (its message quotes a byte)
        raise ConfigError(f"{shown}: not UTF-8 text; save the config file as UTF-8") from None
    except RecursionError:  # tomllib parses nested arrays and inline tables recursively; no setting nests
        raise ConfigError(f"{shown}: not valid TOML (arrays or tables nested too deeply)") from None
    section = doc.get("register-batch", doc)
    if not isinstance(section, dict):
        raise ConfigError(f"{shown}: [register-batch] must be a table of settings, or leave it out")
    if {"token", "api_token"} & (set(doc) | set(section)):
        raise ConfigError(f"{shown}: do not put the API token in the config file; use token_file or REGISTER_API_TOKEN")
    # With a [register-batch] table, a setting outside it would be read by no one: a `target` above the table
    # would leave the run on the embedded emulator without a word. Other keys and tables are another tool's (the
    # table is there so that one file can serve several): left alone, as before.
    outside = set(doc) & KNOWN_KEYS if section is not doc else set()
    if outside:
        raise ConfigError(
            f"{shown}: settings outside the [register-batch] table are not read ({', '.join(sorted(outside))}); "
            "move them into it"
        )
    unknown = set(section) - KNOWN_KEYS
    if unknown:
        # A token pasted on a line of its own, or as a table's name, is a key: never shown (review61 F4).
        named = ", ".join(sorted(hidden_token(key) or key for key in unknown))
        raise ConfigError(f"{shown}: unknown setting(s) {named}; known: {', '.join(sorted(KNOWN_KEYS))}")
    for key, value in section.items():
        if problem := _type_problem(key, value):
            raise ConfigError(f"{shown}: {key} {problem}")
    return section


def _type_problem(key: str, value: Any) -> str | None:
    """Why a setting's value is of a type no command can use (a path or URL without its quotes), or None.

    `rate`, `ukprn` and `api_version` are read as text whatever they are, and a bad one is named where it is
    checked (`Settings.problems`), as one from the environment is.
    """
    if key in ("target", "state_dir", "report_dir", "token_file") and not isinstance(value, str):
        return f'must be text in quotes ({key} = "..."), not {_toml_type(value)}'
    if key in ("state_dir", "report_dir") and not value.strip():  # would be this file's folder
        return f'is empty: name a folder ({key} = "..."), or leave the line out for the default'
    if key == "target" and not value.strip():  # a nightly job's template left undefined: it synced into nothing real
        return (
            'is empty: name the service (target = "sandbox", "production" or its URL), or leave the line out for '
            "the embedded emulator"
        )
    if key == "require_ukprn" and not isinstance(value, bool):
        return f"must be true or false (require_ukprn = true), not {_toml_type(value)}"
    if key == "mappings" and not (
        isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value))
    ):
        return f'must be a file name or a list of them, in quotes (mappings = ["ours.yaml"]), not {_toml_type(value)}'
    return None


def _toml_type(value: Any) -> str:
    if isinstance(value, bool):
        return f"true or false ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, list):
        return "a list holding something else" if value else "an empty list"
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, str):  # require_ukprn = "true": the quotes make it text
        return f'text in quotes ("{value}")'
    return f"a date or time ({value})"


def load_settings(
    options: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve every setting; `options` are the command-line values (None = not given)."""
    options = options or {}
    environ = os.environ if environ is None else environ
    from register_batch.fs import home_expanded

    named = environ.get("REGISTER_BATCH_CONFIG", "")
    path = config_file or (Path(named) if named.strip() else None)
    path = home_expanded(path) if path is not None else None
    found_here = path is None and _settings_file_here()
    if found_here:
        path = Path(CONFIG_FILE)
    file_values = read_config_file(path, found_here=found_here) if path else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, default in DEFAULTS.items():
        if options.get(key) not in (None, (), []):
            values[key], sources[key] = options[key], "command line"
        elif key in ENVIRONMENT and (
            environ.get(ENVIRONMENT[key], "").strip() or (key == "target" and ENVIRONMENT[key] in environ)
        ):
            # An empty or blank variable is none given (REGISTER_BATCH_STATE_DIR="  " was a folder named by spaces,
            # review111 F6), but for the target: set empty, it is refused (Settings.problems).
            values[key], sources[key] = environ[ENVIRONMENT[key]], f"${ENVIRONMENT[key]}"
        elif key in file_values:
            values[key], sources[key] = file_values[key], str(path)
        else:
            values[key], sources[key] = default, "default"
    if isinstance(values["target"], str):  # a CRLF env file's or a pasted line's end
        values["target"] = values["target"].strip()

    def located(value: Any, from_file: bool) -> Path:
        """Paths written in the config file are relative to that file, not to where the command runs."""
        given = home_expanded(value)
        return path.parent / given if path is not None and from_file else given

    def setting_path(key: str) -> Path:
        from register_batch.fs import control_characters

        if key in ("state_dir", "report_dir"):
            # A token pasted as a folder (of Register's shape only: a folder's name may be long and full of digits),
            # made, would be shown by every Report: and Target: line, and kept on disk; one that is there (an earlier
            # version made it) too. A carriage return (a CRLF env file) would make a folder beside the one meant.
            set_by = f"{key} (set by {_set_by(key, sources[key])})"
            refuse_token_named(set_by, str(values[key]))
            if problem := control_characters(str(values[key])):
                raise ConfigError(f"{set_by} {problem}")
        return located(values[key], sources[key] == str(path))

    # --mapping files are added after the config file's, not instead of them. A token pasted as one is refused, as
    # --mapping's is (commands/common.py), and never shown by `config show` or the loader's refusal (review61 F5).
    for given in _as_list(file_values.get("mappings")):
        refuse_token_named(f"mappings (set by {shown_path(path)})", str(given), TOKEN_AS_FILE)
    mappings = [located(m, True) for m in _as_list(file_values.get("mappings"))]
    mapping_sources = [str(path)] * len(mappings)
    if options.get("mappings"):
        mappings += [home_expanded(m) for m in options["mappings"]]
        mapping_sources += ["--mapping"] * len(options["mappings"])
        sources["mappings"] = f"{path} + command line" if file_values.get("mappings") else "command line"
    overridden = _overridden(file_values, values, sources, path, located)
    state_dir = setting_path("state_dir")
    if sources["state_dir"] == "default":
        # One state dir per target by default: a ledger's trainee ids mean nothing to another service.
        state_dir = state_dir / target_slug(values["target"])
    return Settings(
        target=values["target"],
        rate=str(values["rate"]),
        state_dir=state_dir,
        report_dir=setting_path("report_dir"),
        api_version=str(values["api_version"]),
        token_file=setting_path("token_file") if values["token_file"] else None,
        mappings=mappings,
        mapping_sources=tuple(mapping_sources),
        file_token_file=_other_token_file(
            located(file_values["token_file"], True) if file_values.get("token_file") else None,
            setting_path("token_file") if sources["token_file"] == "$REGISTER_API_TOKEN_FILE" else None,
        ),
        ukprn=_ukprn_given(values["ukprn"], sources["ukprn"]),
        require_ukprn=_required(values["require_ukprn"], sources["require_ukprn"]),
        config_file=path,
        sources=sources,
        overridden=overridden,
        token_given=tuple(
            given
            for given, present in (
                ("--token-file", options.get("token_file") not in (None, "")),
                ("$REGISTER_API_TOKEN", environ.get("REGISTER_API_TOKEN", "").strip()),
                ("$REGISTER_API_TOKEN_FILE", environ.get("REGISTER_API_TOKEN_FILE", "").strip()),
                (f"token_file in {shown_path(path)}", file_values.get("token_file")),
            )
            if present
        ),
    )


# The settings an environment variable overriding the settings file's is warned of (Settings.overridden): each
# keeps one provider's runs apart from another's on a host of many (review212 F4).
OVERRIDE_SAID = ("target", "state_dir", "report_dir", "ukprn")


def _overridden(
    file_values: Mapping[str, Any],
    values: Mapping[str, Any],
    sources: Mapping[str, str],
    path: Path | None,
    located: Any,
) -> dict[str, str]:
    """Of OVERRIDE_SAID, the settings file's value (as shown) of each its environment variable gives another for."""
    found: dict[str, str] = {}
    for key in OVERRIDE_SAID:
        if path is None or key not in file_values or sources.get(key) != f"${ENVIRONMENT[key]}":
            continue
        in_file, given = str(file_values[key]).strip(), str(values[key]).strip()
        if key in ("state_dir", "report_dir"):
            same = os.path.abspath(located(in_file, True)) == os.path.abspath(located(given, False))
        elif key == "target":
            same = in_file.rstrip("/") == given.rstrip("/")
        else:
            same = in_file == given
        if not same:
            found[key] = (masked_url(in_file) if key == "target" else hidden_token(in_file) or in_file) or ""
    return found


def _required(value: Any, source: str) -> bool:
    """`require_ukprn` as a bool: the settings file's is one (`_type_problem`); $REGISTER_BATCH_REQUIRE_UKPRN says
    1, true, yes or on (or 0, false, no, off), and anything else is refused rather than taken for either."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    shown = hidden_token(str(value)) or str(value)
    raise ConfigError(f"{source} must be true or false (1 or 0), not {shown!r}")


def _ukprn_given(value: Any, source: str) -> str | None:
    """The `ukprn` setting as text, or None when none is set. An empty or blank `--ukprn` stays "", refused by
    `Settings.check` rather than taken as "no UKPRN" over the one $REGISTER_BATCH_UKPRN or the settings file gives
    (review111 F2); so does the settings file's `ukprn = ""` (a template's variable left undefined), which switched
    the provider check off without a word (review173). An empty variable is none set, as any other's."""
    if value is None:
        return None
    text = str(value).strip()
    return text if text or not source.startswith("$") else None


def _set_by(key: str, source: str) -> str:
    """Where a setting came from, as a message names it (`Settings.set_by`): a settings file's path as `shown_path`
    shows it (review226 F1)."""
    return f"--{key.replace('_', '-')}" if source == "command line" else masked_path_words(source)


def _settings_file_here() -> bool:
    """Whether the current folder holds register-batch.toml; a current folder this user may not read is said (a
    service's working folder another user's), not taken for one without the file, nor an internal error."""
    from register_batch.fs import is_file, shut_to_this_user

    here = Path(CONFIG_FILE)
    try:
        return is_file(here)
    except PermissionError:
        shut = shut_to_this_user(Path.cwd() / CONFIG_FILE)
        raise ConfigError(f"cannot look for {CONFIG_FILE} in the current folder: {shut}; or give --config") from None


def _look_at(path: Path, status: os.stat_result, found_here: bool) -> None:
    """The settings file opened, before it is read. One found in the current folder (a shared one) that another user
    owns is not read unasked: its target chooses where the token goes (as git will not read a repository another user
    owns). Root's is trusted, and the file of the user who ran sudo. One any user may write to is read, with a warning:
    any of them could point its target at their own server. Only others (o+w): a group-writable file is many Linux
    users' default (umask 002) and a team folder's. Neither on Windows: no owner to compare, and the folder's ACL
    decides who may write."""
    import stat

    from register_batch.portable import POSIX_PERMISSIONS
    from register_batch.wording import shell_word

    if not POSIX_PERMISSIONS:
        return
    owner = status.st_uid
    if found_here and owner not in (os.geteuid(), 0) and not _sudo_by(owner):
        raise ConfigError(
            f"{path} in the current folder belongs to another user (uid {owner}): not read, as its settings could "
            f"send your API token to another service; give --config {path} to read it"
        )
    if stat.S_ISREG(status.st_mode) and status.st_mode & stat.S_IWOTH:  # not /dev/zero, read to its limit
        shown = shown_path(path)  # a path holding a token: masked, and no command to paste (review226 F1)
        chmod = f"`chmod o-w {shell_word(str(path))}`" if shown == str(path) else "`chmod o-w` on it"
        logging.getLogger("register_batch.config").warning(
            "%s is writable by any user, who could send your API token to another service; %s keeps it yours",
            shown,
            chmod,
        )


def _sudo_by(owner: int) -> bool:
    """Whether this is root run with sudo by `owner` (SUDO_UID), in their own folder: their settings, as git takes
    them."""
    sudo_uid = os.environ.get("SUDO_UID", "")
    return os.geteuid() == 0 and sudo_uid.isdigit() and int(sudo_uid) == owner


def _as_list(value: Any) -> list[Any]:
    if value in (None, ""):
        return []
    return [value] if isinstance(value, str) else list(value)


def without_api_path(root: str) -> tuple[str, str | None]:
    """`root` without Register's own `/api[/<version>[/...]]` path, and the version it named (None if none).

    The address the emulator prints, `http://127.0.0.1:8787/api/v2026.1`, works as the target (docs/emulator.md).
    The path is cut at its first segment that is `api` exactly, as it always was (a ledger binds to the root: every
    spelling that worked before gives the same one, review141 F3); but not at an `api` in the host's name
    (`https://api.example.com`) or in another segment (`/api-gw/register`), where it was cut too (review138 F5)."""
    import re
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(root)
    segments = parts.path.split("/")
    if "api" not in segments:
        return root, None
    index = segments.index("api")
    after = segments[index + 1] if index + 1 < len(segments) else ""
    version = after if re.fullmatch(r"[vV]\d+\.\d+", after) else None
    path = "/".join(segments[:index])
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment)), version


def one_spelling(root: str) -> str:
    """A service's root URL as one spelling: scheme and host in lower case, the scheme's own port left out. The sync
    ledger binds to the root, and Register's own services are told by it: `https://Register.example:443` is
    `https://register.example`. A host with an IPv6 zone (`%eth0`, whose case may matter) is left as written."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(root)
    scheme, port = parts.scheme.lower(), parts.port
    if "%" in parts.netloc or not parts.hostname:
        return root
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    shown_port = "" if port is None or port == {"http": 80, "https": 443}.get(scheme) else f":{port}"
    return urlunsplit((scheme, f"{host}{shown_port}", parts.path, parts.query, parts.fragment))


def target_slug(target: str | None) -> str:
    """A folder name for a target: `embedded-emulator`, `sandbox`, `production`, or the URL's host and port."""
    if not target:
        return "embedded-emulator"
    if target in ("sandbox", "production"):
        return target
    if looks_like_token(target):  # a token pasted as the target: never a folder's name
        return "target"
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(one_spelling(target if "://" in target else f"https://{target}"))
        port = parts.port
        root = one_spelling(target.rstrip("/"))
    except ValueError:  # not a URL (a port that is not a number): refused where it is checked (Settings.problems)
        return "target"
    root = without_api_path(root)[0]  # as resolve_target takes it: the service's root
    for name, url in TARGETS.items():
        if root == url:
            # The service's URL, spelt out: the folder `sandbox` names it, so that a job changing how it names the
            # service keeps its ledger (the ledger binds to the URL: a fresh one was made, with a warning).
            return name
    host = (parts.hostname or "target").replace(":", "_")
    return f"{host}-{port}" if port else host


def host_slug(target: str | None) -> str | None:
    """The folder builds before 2026-12-02 named the default state dir of `target` after, where this one names it
    otherwise: its host, and the port as written. 53daaf91 named the service's URL spelt out
    (`https://www.register-trainee-teachers.service.gov.uk`, once `www.register-trainee-teachers.service.gov.uk`)
    `production`; 03764c05, three hours later, left a scheme's own port out (`https://register.example:443` was
    `register.example-443`, `http://127.0.0.1:80` was `127.0.0.1-80`: review199 F1). None when the builds name it
    alike (the words `sandbox` and `production`, another URL as written, no target, a token pasted as one)."""
    if not target or target in TARGETS or looks_like_token(target):
        return None
    from urllib.parse import urlsplit

    try:  # that build's rule (target_slug before 53daaf91), to the letter
        parts = urlsplit(target if "://" in target else f"https://{target}")
        port = parts.port
    except ValueError:  # named `target` by both builds
        return None
    host = (parts.hostname or "target").replace(":", "_")
    older = f"{host}-{port}" if port else host
    return older if older != target_slug(target) else None


def host_named_ledger(target: str | None, state_dir: Path) -> Path | None:
    """The folder beside the default `state_dir` of `target` that an older build named otherwise (host_slug), when it
    holds a ledger: that of the syncs made before the upgrade (review195 F1)."""
    from register_batch.fs import LEDGER_NAME

    if (older := host_slug(target)) is None:
        return None
    folder = state_dir.parent / older
    try:
        return folder if (folder / LEDGER_NAME).is_file() else None
    except OSError:  # a folder this user cannot look into: said by the run that opens it, as it is today
        return None


def older_state_dir(target: str | None, state_dir: Path) -> Path | None:
    """host_named_ledger, where `state_dir` holds no ledger yet: a run there would begin a new, empty one."""
    from register_batch.fs import LEDGER_NAME

    if (older := host_named_ledger(target, state_dir)) is None:
        return None
    try:
        return None if (state_dir / LEDGER_NAME).exists() else older
    except OSError:
        return None


def moved_state_dir(older: Path, state_dir: Path, target: str | None) -> str:
    """Why a run with the default state dir stops when an older build's folder holds the target's ledger, and how to
    go on: a run that used the old one silently would surprise, and a run with a new, empty ledger creates again a
    trainee deleted in Register's service (review195 F1). The other way names the old folder: any other state dir
    given is a new ledger too (review199 F3). Where `state_dir` is there already (with no ledger: a `reference
    pull`'s lists, say), `mv` would put the old folder inside it: it is moved aside first, by a command of its own
    (`a && b` is PowerShell 7's, not Windows PowerShell 5.1's; `mv` is Move-Item in both: wording.shell_word)."""
    from register_batch.wording import path_named, shell_word

    service = TARGETS.get(target_slug(target), target)
    old, new = path_named(str(older)), path_named(str(state_dir))
    move = f"`mv {shell_word(str(older))} {shell_word(str(state_dir))}`"
    if state_dir.exists():
        aside = f"`mv {shell_word(str(state_dir))} {shell_word(f'{state_dir}.unused')}`"
        move = f"move {new} (no ledger) aside with {aside}, then move {old} to {new} with {move};"
    else:
        move = f"move it to {new} with {move},"
    return (
        f"{old} holds the ledger of earlier syncs to {service} (the default state dir of earlier versions): {move} or "
        f"give `--state-dir {shell_word(str(older))}` to use it where it is"
    )


def token_without_target(settings: Settings) -> str | None:
    """Why sync and export refuse these settings' token, if they do: a token says a Register is meant. With no target
    set (an environment file that went missing, a variable left out of a cron job) they went to the embedded
    emulator, which takes no token, and exited 0 having written nothing anywhere that counts (review119 F3 for
    --token-file; the same for a token from the environment or the settings file). Every place a token was given is
    named, so that the advice followed leaves none (review150 F2). `config show` shows it."""
    if settings.target or not settings.token_given:
        return None
    where = "(--target sandbox|production|URL, $REGISTER_API_URL or target in the settings file)"
    embedded = "and with none sync and export use the embedded emulator, which takes no token"
    if settings.token_given == ("--token-file",):
        return (
            f"--token-file names a token for Register, but no target is set {where}, {embedded}: set the target, or "
            "leave out --token-file"
        )
    leave_out = [
        "leave out --token-file"
        if given == "--token-file"
        else f"unset {given[1:]}"
        if given.startswith("$")
        else f"remove {given.replace(' in ', ' from ', 1)}"
        for given in settings.token_given
    ]
    given = " and ".join(settings.token_given)
    return (
        f"a token for Register is set ({given}), but no target is set {where}, {embedded}: set the target, or "
        f"{' and '.join(leave_out)} to use the embedded emulator"
    )


def token_file_to_use(settings: Settings, environ: Mapping[str, str] | None = None) -> Path | None:
    """Where the token comes from: --token-file, then $REGISTER_API_TOKEN_FILE, then $REGISTER_API_TOKEN,
    then the config file's token_file (environment before file, as for every other setting)."""
    environ = os.environ if environ is None else environ
    from_file = settings.config_file is not None and settings.sources.get("token_file") == str(settings.config_file)
    if from_file and environ.get("REGISTER_API_TOKEN", "").strip():
        return None
    return settings.token_file


def token_source(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """Where the token a sync or export sends comes from (token_file_to_use, load_token), as its refusal names it: a
    host runs several providers, each with its own token, and "which token, from where" is the first question when
    Register refuses one (review183 F1). The token file's path (`secrets/b (token_file in provider-b.toml)`,
    `(--token-file)`, `($REGISTER_API_TOKEN_FILE)`) or `$REGISTER_API_TOKEN`, saying so when that variable wins over
    the settings file's token_file; None when no token is given. Never the token itself, nor a token a file's name
    holds (`secrets/production_…`, a file named after its token): masked, as report.json's settings.token_source and
    the 401 line name it (review217 F3)."""
    environ = os.environ if environ is None else environ
    token_file = token_file_to_use(settings, environ)
    if token_file is not None:
        overridden = overridden_token_file(settings, environ)
        return masked_path_words(
            f"{shown_path(token_file)} ({settings.given_with('token_file')}"
            f"{f', overriding {overridden}' if overridden else ''})"
        )
    if not environ.get("REGISTER_API_TOKEN", "").strip():
        return None
    overridden = overridden_token_file(settings, environ)
    return masked_path_words(f"$REGISTER_API_TOKEN{f' (overriding {overridden})' if overridden else ''}")


def _other_token_file(in_file: Path | None, from_variable: Path | None) -> Path | None:
    """The settings file's token_file when $REGISTER_API_TOKEN_FILE's file is sent in its place: None when that is the
    same file (a service's environment naming the token its settings file names too). Nothing is overridden then, and
    a warning on every run, and advice to unset the variable to send the same file, would be false (review191 F2)."""
    if in_file is None or from_variable is None:
        return None
    try:
        same = os.path.samefile(in_file, from_variable)
    except OSError:  # either not there (yet): by the paths they resolve to
        try:
            same = in_file.resolve() == from_variable.resolve()
        except (OSError, RuntimeError):  # a symlink loop: reading the token says so, in its own words
            same = os.path.abspath(in_file) == os.path.abspath(from_variable)
    return None if same else in_file


def overridden_token_file(settings: Settings, environ: Mapping[str, str] | None = None) -> str | None:
    """`token_file secrets/b in provider-b.toml` when REGISTER_API_TOKEN's token is sent in place of the one the
    settings file names: an exported variable (a crontab's, a service's environment) wins over every settings file on
    the machine, and its operator, finding the right token in the file, could not see why Register refused it
    (review183 F1); or when REGISTER_API_TOKEN_FILE's file is sent in place of it, as it wins likewise (review188 F5).
    None otherwise."""
    environ = os.environ if environ is None else environ
    if settings.file_token_file is not None and settings.sources.get("token_file") == "$REGISTER_API_TOKEN_FILE":
        return f"token_file {shown_path(settings.file_token_file)} in {shown_path(settings.config_file)}"
    if settings.token_file is None or token_file_to_use(settings, environ) is not None:
        return None
    return f"token_file {shown_path(settings.token_file)} in {shown_path(settings.config_file)}"


def overriding_variable(settings: Settings) -> str:
    """The variable whose token wins over the settings file's token_file, when one does (overridden_token_file)."""
    from_file_variable = settings.sources.get("token_file") == "$REGISTER_API_TOKEN_FILE"
    return "REGISTER_API_TOKEN_FILE" if from_file_variable else "REGISTER_API_TOKEN"


RATE_SECONDS = 60.0  # of a rate given as N alone: Register's limit is 100 a minute (register-api.md §1.3)


def parse_rate(text: str) -> tuple[int, float]:
    """`N/SECONDS` -> (N, seconds): at most N requests in any SECONDS-long interval. `N` alone is N a minute, as the
    emulator's `--rate-limit` reads it: `--rate 95` was refused where `--rate-limit 100` was taken (review156 F6)."""
    try:
        count, _, seconds = str(text).partition("/")
        parsed = int(count), float(seconds) if seconds.strip() else RATE_SECONDS
    except ValueError:
        raise ConfigError(f"rate {quoted_setting(text)} is not N/SECONDS, e.g. 95/60") from None
    return checked_rate(parsed, shown=quoted_setting(text))


def checked_rate(rate: object, *, shown: str, example: str = "") -> tuple[int, float]:
    """`rate` if it is (N, seconds) allowing at least 1 request in a positive, finite number of seconds (nan and inf
    pass `<= 0`); else a ConfigError naming it as `shown`, not a ValueError from the rate limiter once a run began."""
    count, seconds = rate if isinstance(rate, tuple) and len(rate) == 2 else (0, 0)
    if not (isinstance(count, int) and count >= 1 and isinstance(seconds, int | float) and 0 < seconds < math.inf):
        raise ConfigError(f"rate {shown} must allow at least 1 request in a positive number of seconds{example}")
    return count, seconds
