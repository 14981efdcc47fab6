"""`SyncOptions` values no run can use, refused when the options are made (review163 F4), as library.md says: a
`timeout`, `per_page`, `fmt` or `api_version` no run can use was taken, and refused only by `sync_files` (the nightly
job, hours after the service that made the options started), `per_page` only once the extract had been read."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from register_batch.api import RegisterClient
from register_batch.errors import ConfigError
from register_batch.readers import FORMATS
from register_batch.sync import SyncOptions

TOKEN = "review163-provider-token"
TARGET = "http://127.0.0.1:9"  # nothing listens: nothing may be sent


def options(tmp_path: Path, **extra: object) -> SyncOptions:
    return SyncOptions(TARGET, TOKEN, tmp_path / "state", tmp_path / "reports", **extra)  # type: ignore[arg-type]


TIMEOUTS = [0, -1, "30", float("nan"), float("inf"), True, False, None]
PER_PAGES = [0, -5, 5001, "500", 2.5, True, False, None]


@pytest.mark.parametrize("timeout", TIMEOUTS, ids=repr)
def test_a_timeout_no_request_can_use_is_refused_when_the_options_are_made(tmp_path, timeout):
    """`True` is an int to Python: taken as a 1-second timeout."""
    with pytest.raises(ConfigError) as refused:
        options(tmp_path, timeout=timeout)
    assert str(refused.value) == f"timeout must be a number of seconds above 0, not {timeout!r}"
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("per_page", PER_PAGES, ids=repr)
def test_a_page_size_register_cannot_list_is_refused_when_the_options_are_made(tmp_path, per_page):
    with pytest.raises(ConfigError) as refused:
        options(tmp_path, per_page=per_page)
    assert str(refused.value) == f"per_page must be a whole number from 1 to 5000, not {per_page!r}"


@pytest.mark.parametrize("fmt", ["xlsx", "HESA-XML", None])
def test_an_unknown_input_format_is_refused_when_the_options_are_made(tmp_path, fmt):
    with pytest.raises(ConfigError) as refused:
        options(tmp_path, fmt=fmt)
    assert str(refused.value) == f"unknown input format {fmt!r}; use auto or one of {', '.join(FORMATS)}"


@pytest.mark.parametrize("api_version", ["v2025.0", "v2026.0", None])
def test_an_api_version_register_batch_does_not_speak_is_refused_when_the_options_are_made(tmp_path, api_version):
    with pytest.raises(ConfigError) as refused:
        options(tmp_path, api_version=api_version)
    assert str(refused.value) == f"API version {str(api_version)!r} is not supported; supported: v2026.1"


@pytest.mark.parametrize(
    "change",
    [{"timeout": 0}, {"timeout": True}, {"per_page": 0}, {"fmt": "xlsx"}, {"api_version": "v2025.0"}],
    ids=repr,
)
def test_a_value_changed_with_replace_is_checked_again(tmp_path, change):
    with pytest.raises(ConfigError):
        dataclasses.replace(options(tmp_path), **change)


@pytest.mark.parametrize(
    "given",
    [
        {"timeout": 1},
        {"timeout": 0.5},
        {"timeout": 600.0},
        {"per_page": 1},
        {"per_page": 5000},
        {"fmt": "auto"},
        *({"fmt": fmt} for fmt in FORMATS),
        {"api_version": "v2026.1"},
    ],
    ids=repr,
)
def test_values_a_run_can_use_are_taken_as_given(tmp_path, given):
    made = options(tmp_path, **given)
    assert all(getattr(made, name) == value for name, value in given.items())


def test_a_client_refuses_a_timeout_of_true_as_it_refuses_a_deadline_of_true():
    """`RegisterClient(timeout=True)` made a client waiting 1 second for each answer (its deadline was refused)."""
    with pytest.raises(ConfigError, match=r"^timeout must be a number of seconds above 0, not True$"):
        RegisterClient(TARGET, TOKEN, timeout=True)


@pytest.mark.parametrize("per_page", [True, 0, 5001])
def test_a_listing_refuses_a_page_size_of_true_before_anything_is_sent(per_page):
    with RegisterClient(TARGET, TOKEN, timeout=1, attempts=1) as client, pytest.raises(ConfigError) as refused:
        next(client.iter_trainees(per_page=per_page))
    assert str(refused.value) == f"per_page must be a whole number from 1 to 5000, not {per_page!r}"
    assert client.stats.total == 0
