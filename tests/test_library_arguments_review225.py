"""`SyncOptions` as a multi-provider worker makes it at start-up (review225): a target and token no run can use are
refused when the options are made, as `RegisterClient` refuses them (F1); a folder or mapping file named by a token is
refused as the command line refuses it (F2); and no refused value that looks like a token is shown (F3)."""

from __future__ import annotations

import dataclasses
import pickle

import pytest

from register_batch.api import RegisterClient
from register_batch.errors import ConfigError, RegisterBatchError
from register_batch.sync import SyncOptions
from register_batch.tokens import TOKEN_AS_FILE, TOKEN_AS_FOLDER, not_shown

TOKEN = "sandbox_" + "0123456789abcdef" * 4  # Register's shape: 72 characters
LOCAL = "http://127.0.0.1:9"  # nothing listens: nothing may be sent


def _refusal(make) -> RegisterBatchError:
    with pytest.raises(RegisterBatchError) as refused:
        make()
    return refused.value


def _self_of_post_init(error: BaseException) -> SyncOptions:
    """The options object as the refusal's frames hold it (an error reporter's captured locals show its repr)."""
    tb = error.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_name == "__post_init__":
            return tb.tb_frame.f_locals["self"]
        tb = tb.tb_next
    raise AssertionError("no __post_init__ frame")


TARGETS_AND_TOKENS = {
    "swapped": (TOKEN, "sandbox"),
    "user and token in the URL": (f"https://x:{TOKEN}@example.org", TOKEN),
    "token in the query": (f"https://example.org/?token={TOKEN}", TOKEN),
    "not http": ("ftp://x", TOKEN),
    "plain http to another machine": ("http://example.org/", TOKEN),
    "a space in the token": ("sandbox", "abc def"),
    "a comment after the token": ("sandbox", f"{TOKEN} # prod"),
    "a header pasted": ("sandbox", f"Bearer {TOKEN}"),
}


@pytest.mark.parametrize(("target", "token"), TARGETS_AND_TOKENS.values(), ids=TARGETS_AND_TOKENS)
def test_a_target_or_token_register_client_refuses_is_refused_when_the_options_are_made(tmp_path, target, token):
    """Accepted, then refused by every `sync_files`: a worker's start-up check of each provider's options passed, and
    each nightly job failed; meanwhile a target holding the token showed it in `repr(options)` (review225 F1)."""
    client_refusal = _refusal(lambda: RegisterClient(target, token))
    refused = _refusal(lambda: SyncOptions(target, token, tmp_path / "state", tmp_path / "reports"))
    assert (type(refused), str(refused)) == (type(client_refusal), str(client_refusal))
    assert TOKEN not in str(refused) + repr(refused.args) + repr(pickle.loads(pickle.dumps(refused)).args)
    held = _self_of_post_init(refused)
    assert held.target != target and held.token is None  # neither kept by the options refused
    assert TOKEN not in repr(held) and "abc def" not in repr(held)
    assert not (tmp_path / "state").exists() and not (tmp_path / "reports").exists()


def test_a_token_put_as_the_target_with_replace_is_refused(tmp_path):
    options = SyncOptions(LOCAL, TOKEN, tmp_path / "state", tmp_path / "reports")
    with pytest.raises(RegisterBatchError, match="the target looks like an API token"):
        dataclasses.replace(options, target=TOKEN, token="sandbox")
    assert options.target == LOCAL  # the options given are as they were


@pytest.mark.parametrize(
    ("target", "token"),
    [(LOCAL, TOKEN), ("sandbox", TOKEN), ("https://example.org/", TOKEN), ("http://example.org/", None)],
)
def test_a_target_and_token_a_run_can_use_are_taken(tmp_path, target, token):
    """Plain http:// to another machine without a token: the caller's own client (sync_files' `client=`) sends."""
    options = SyncOptions(target, token, tmp_path / "state", tmp_path / "reports")
    assert options.target == target and TOKEN not in repr(options)


@pytest.mark.parametrize("name", ["state_dir", "report_dir"])
@pytest.mark.parametrize("named", [TOKEN, f"providers/{TOKEN}/state"], ids=["the name", "a folder on the way"])
def test_a_folder_named_by_a_token_is_refused_as_the_command_line_refuses_it(tmp_path, name, named):
    """The command line refuses `--state-dir sandbox_…`; a library sync made the folder, and its reports showed the
    token (report.json's settings.state_dir, review225 F2)."""
    folders = {"state_dir": tmp_path / "state", "report_dir": tmp_path / "reports"}
    folders[name] = tmp_path / named
    with pytest.raises(ConfigError) as refused:
        SyncOptions(LOCAL, None, folders["state_dir"], folders["report_dir"])
    assert str(refused.value) == f"{name} {TOKEN_AS_FOLDER.format(length=72)}"
    assert TOKEN not in repr(_self_of_post_init(refused.value))
    assert list(tmp_path.iterdir()) == []


def test_a_mapping_file_named_by_a_token_is_refused_when_the_options_are_made(tmp_path):
    with pytest.raises(ConfigError) as refused:
        SyncOptions(LOCAL, None, tmp_path / "state", tmp_path / "reports", mapping_files=[tmp_path / "a.yml", TOKEN])
    assert str(refused.value) == f"mapping_files {TOKEN_AS_FILE.format(length=72)}"
    assert TOKEN not in repr(_self_of_post_init(refused.value))


@pytest.mark.parametrize("name", ["token_source", "config_file", "target_label"])
def test_a_token_in_what_the_reports_name_is_masked_in_the_options(tmp_path, name):
    """A token file named after its token (`/run/secrets/sandbox_…`), as the command line's token_source masks it."""
    options = SyncOptions(LOCAL, None, tmp_path / "state", tmp_path / "reports", **{name: f"/run/secrets/{TOKEN} x"})
    assert getattr(options, name) == "/run/secrets/******** x"
    assert TOKEN not in repr(options)
    plain = SyncOptions(LOCAL, None, tmp_path / "state", tmp_path / "reports", **{name: "secrets/b (token_file)"})
    assert getattr(plain, name) == "secrets/b (token_file)"


SETTINGS = ["fmt", "rate", "timeout", "per_page", "dry_run", "keep_issues", "embedded"]


@pytest.mark.parametrize("name", SETTINGS)
@pytest.mark.parametrize("given", [TOKEN, f"Bearer {TOKEN}", (TOKEN, 60)], ids=["alone", "a header", "in a tuple"])
def test_a_token_given_as_another_setting_is_never_shown(tmp_path, name, given):
    """A worker's settings row whose columns shifted: `fmt`, `rate`, `timeout` and `per_page` showed the token in the
    error's message, args and pickle, where `ukprn` and `api_version` said it was not shown (review225 F3)."""
    with pytest.raises(ConfigError) as refused:
        SyncOptions(LOCAL, None, tmp_path / "state", tmp_path / "reports", **{name: given})
    error = refused.value
    said = str(error) + repr(error.args) + repr(pickle.loads(pickle.dumps(error)).args)
    assert TOKEN not in said and "0123456789abcdef0123" not in said
    assert "characters that look like an API token: not shown" in str(error)


@pytest.mark.parametrize("setting", [{"timeout": TOKEN}, {"deadline": TOKEN}], ids=["timeout", "deadline"])
def test_a_token_given_as_a_clients_timeout_is_never_shown(setting):
    with pytest.raises(ConfigError) as refused:
        RegisterClient(LOCAL, None, **setting)
    assert TOKEN not in str(refused.value) and not_shown(72) in str(refused.value)


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"timeout": 0}, "not 0"),
        ({"timeout": "30"}, "not '30'"),
        ({"per_page": 0}, "not 0"),
        ({"fmt": "xlsx"}, "'xlsx'"),
    ],
)
def test_a_value_that_is_no_token_is_still_shown(tmp_path, given, said):
    with pytest.raises(ConfigError) as refused:
        SyncOptions(LOCAL, None, tmp_path / "state", tmp_path / "reports", **given)
    assert said in str(refused.value)
