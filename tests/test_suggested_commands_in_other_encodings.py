"""A command the tool tells people to run, when the console's encoding cannot show a path in it (review181 F6).

guard_output writes what the output's encoding lacks as `\\u65e5`: right for a message, but inside a suggested
command (`register-batch reference diff --state-dir 'Répertoire-\\u65e5\\u672c/ref3'`) it named a folder that does
not exist, and the error that command gave suggested the same broken command again. A path the console cannot show
is spelt in ASCII the shell turns back into it. Each test pastes the command the tool printed into bash.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from register_batch.wording import shell_word

FOLDER = "Répertoire-日本"  # é is in Windows-1252, 日本 is not
COMMAND = re.compile(r"`(register-batch [^`]+)`")

needs_bash = pytest.mark.skipif(shutil.which("bash") is None, reason="no bash to paste the command into")


def in_cp1252(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """`register-batch ARGS` writing Windows-1252 (as Windows writes redirected output), its output decoded so."""
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    env.pop("REGISTER_API_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "register_batch", *args], cwd=cwd, env=env, capture_output=True, timeout=120
    )
    return result.returncode, result.stdout.decode("cp1252"), result.stderr.decode("cp1252")


def pasted(command: str, cwd: Path) -> subprocess.CompletedProcess:
    """`command` as a person pastes it into bash, this checkout's register-batch standing in for the installed one."""
    assert command.startswith("register-batch ")
    ours = f"{shlex.quote(sys.executable)} -m register_batch{command[len('register-batch') :]}"
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    return subprocess.run(["bash", "-c", ours], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@needs_bash
def test_the_diff_command_reference_pull_suggests_works_when_pasted(tmp_path):
    code, out, err = in_cp1252(["reference", "pull", "--state-dir", f"{FOLDER}/ref3"], tmp_path)
    assert code == 0, err
    assert (tmp_path / FOLDER / "ref3" / "reference-data.json").is_file()
    [command] = [c for c in COMMAND.findall(out) if c.startswith("register-batch reference diff")]
    assert "\\u65e5" not in command, command
    result = pasted(command, tmp_path)
    assert result.returncode == 0, (command, result.stderr)
    assert "no pulled reference data" not in result.stderr


@needs_bash
def test_the_pull_command_an_empty_state_dir_suggests_works_when_pasted(tmp_path):
    code, _out, err = in_cp1252(["reference", "diff", "--state-dir", f"{FOLDER}/none"], tmp_path)
    assert code != 0 and "no pulled reference data" in err, err
    [command] = [c for c in COMMAND.findall(err) if c.startswith("register-batch reference pull")]
    result = pasted(command, tmp_path)
    assert result.returncode == 0, (command, result.stderr)
    assert (tmp_path / FOLDER / "none" / "reference-data.json").is_file()


def test_a_path_the_console_cannot_show_is_spelt_for_bash_from_its_own_bytes(monkeypatch):
    class Cp1252:
        encoding = "cp1252"

    monkeypatch.setattr(sys, "stdout", Cp1252())
    assert shell_word("Répertoire/a b") == "'Répertoire/a b'"  # é is in cp1252: quoted as it is
    assert shell_word(f"{FOLDER}/it's", windows=False) == (
        "$'R\\xc3\\xa9pertoire-\\xe6\\x97\\xa5\\xe6\\x9c\\xac/it\\x27s'"
    )
    undecodable = os.fsdecode(b"caf\xe9")  # a Latin-1 name on a UTF-8 system: not UTF-8 in any console
    monkeypatch.undo()
    assert shell_word(undecodable, windows=False) == "$'caf\\xe9'"


def test_on_windows_it_is_spelt_for_powershell(monkeypatch):
    class Cp1252:
        encoding = "cp1252"

    monkeypatch.setattr(sys, "stderr", Cp1252())
    spelt = shell_word("C:\\Users\\Łukasz\\$x `y\U0001f600", windows=True)
    assert spelt == (
        '"C:\\Users\\$([char]0x0141)ukasz\\$([char]0x0024)x $([char]0x0060)y$([char]0xD83D)$([char]0xDE00)"'
    )
