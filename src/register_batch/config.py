"""Effective settings: command-line options, then environment variables, then `register-batch.toml`, then defaults.

The API token is never a setting: it comes from `REGISTER_API_TOKEN` or a `--token-file` (or `token_file`
in the config file, which names a file and does not hold the token).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from register_batch.errors import ConfigError
from register_batch.model import API_VERSION

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
}
DEFAULTS: dict[str, Any] = {
    "target": None,
    "rate": DEFAULT_RATE,
    "state_dir": DEFAULT_STATE_DIR,
    "report_dir": DEFAULT_REPORT_DIR,
    "api_version": API_VERSION,
    "token_file": None,
    "mappings": [],
}
KNOWN_KEYS = set(DEFAULTS)


@dataclass
class Settings:
    target: str | None
    rate: str
    state_dir: Path
    report_dir: Path
    api_version: str
    token_file: Path | None
    mappings: list[Path]
    config_file: Path | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "rate": self.rate,
            "state_dir": str(self.state_dir),
            "report_dir": str(self.report_dir),
            "api_version": self.api_version,
            "token_file": str(self.token_file) if self.token_file else None,
            "mappings": [str(p) for p in self.mappings],
        }


def read_config_file(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            doc = tomllib.load(fh)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the config file ({exc.strerror or exc})") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc})") from None
    section = doc.get("register-batch", doc)
    if {"token", "api_token"} & (set(doc) | set(section)):
        raise ConfigError(f"{path}: do not put the API token in the config file; use token_file or REGISTER_API_TOKEN")
    unknown = set(section) - KNOWN_KEYS
    if unknown:
        raise ConfigError(
            f"{path}: unknown setting(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(KNOWN_KEYS))}"
        )
    return section


def load_settings(
    options: Mapping[str, Any] | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve every setting; `options` are the command-line values (None = not given)."""
    options = options or {}
    environ = os.environ if environ is None else environ
    path = config_file or (Path(environ["REGISTER_BATCH_CONFIG"]) if environ.get("REGISTER_BATCH_CONFIG") else None)
    if path is None and Path(CONFIG_FILE).is_file():
        path = Path(CONFIG_FILE)
    file_values = read_config_file(path) if path else {}
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for key, default in DEFAULTS.items():
        if options.get(key) not in (None, (), []):
            values[key], sources[key] = options[key], "command line"
        elif key in ENVIRONMENT and environ.get(ENVIRONMENT[key]):
            values[key], sources[key] = environ[ENVIRONMENT[key]], f"${ENVIRONMENT[key]}"
        elif key in file_values:
            values[key], sources[key] = file_values[key], str(path)
        else:
            values[key], sources[key] = default, "default"
    mappings = values["mappings"]
    if isinstance(mappings, str):
        mappings = [mappings]
    base = path.parent if path and sources.get("mappings") == str(path) else Path(".")
    return Settings(
        target=values["target"],
        rate=str(values["rate"]),
        state_dir=Path(values["state_dir"]),
        report_dir=Path(values["report_dir"]),
        api_version=str(values["api_version"]),
        token_file=Path(values["token_file"]) if values["token_file"] else None,
        mappings=[base / Path(m) if sources["mappings"] == str(path) else Path(m) for m in mappings],
        config_file=path,
        sources=sources,
    )


def parse_rate(text: str) -> tuple[int, float]:
    """`N/SECONDS` -> (N, seconds): at most N requests in any SECONDS-long interval."""
    try:
        count, _, seconds = str(text).partition("/")
        parsed = int(count), float(seconds)
    except ValueError:
        raise ConfigError(f"rate {text!r} is not N/SECONDS, e.g. 95/60") from None
    if parsed[0] < 1 or parsed[1] <= 0:
        raise ConfigError(f"rate {text!r} must allow at least 1 request in a positive number of seconds")
    return parsed
