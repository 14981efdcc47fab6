"""A command the tool tells people to run, when the console's encoding cannot show a path in it (review181 F6).

guard_output writes what the output's encoding lacks as `\\u65e5`: right for a message, but inside a suggested
command (`register-batch reference diff --state-dir 'Répertoire-\\u65e5\\u672c/ref3'`) it named a folder that does
not exist, and the error that command gave suggested the same broken command again. A path the console cannot show
is spelt in ASCII the shell turns back into it: POSIX, as dash (/bin/sh, which runs crontab lines) reads it too, not
bash's $'...' (review186 F7). So is a path with a line break or a tab, which printed inside quotes named another file
(review186 F5). Each test pastes the command the tool printed into dash and bash.
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

# Each shell on its own: a machine without dash (Fedora, Alpine, macOS) still pastes into bash (review190 F3).
SHELLS = [
    pytest.param(
        shell, marks=pytest.mark.skipif(not shutil.which(shell), reason=f"no {shell} to paste the command into")
    )
    for shell in ("dash", "bash")
]


def in_cp1252(args: list[str], cwd: Path) -> tuple[int, str, str]:
    """`register-batch ARGS` writing Windows-1252 (as Windows writes redirected output), its output decoded so."""
    env = {**os.environ, "PYTHONIOENCODING": "cp1252"}
    env.pop("REGISTER_API_URL", None)
    result = subprocess.run(
        [sys.executable, "-m", "register_batch", *args], cwd=cwd, env=env, capture_output=True, timeout=120
    )
    return result.returncode, result.stdout.decode("cp1252"), result.stderr.decode("cp1252")


def pasted(command: str, cwd: Path, shell: str = "bash") -> subprocess.CompletedProcess:
    """`command` as a person pastes it into `shell`, this checkout's register-batch standing in for the installed
    one."""
    if command.startswith("register-batch "):
        command = f"{shlex.quote(sys.executable)} -m register_batch{command[len('register-batch') :]}"
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    return subprocess.run([shell, "-c", command], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("shell", SHELLS)
def test_the_diff_command_reference_pull_suggests_works_when_pasted(tmp_path, shell):
    code, out, err = in_cp1252(["reference", "pull", "--state-dir", f"{FOLDER}/ref3"], tmp_path)
    assert code == 0, err
    assert (tmp_path / FOLDER / "ref3" / "reference-data.json").is_file()
    [command] = [c for c in COMMAND.findall(out) if c.startswith("register-batch reference diff")]
    assert "\\u65e5" not in command, command
    result = pasted(command, tmp_path, shell)
    assert result.returncode == 0, (command, result.stderr)
    assert "no pulled reference data" not in result.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_the_pull_command_an_empty_state_dir_suggests_works_when_pasted(tmp_path, shell):
    code, _out, err = in_cp1252(["reference", "diff", "--state-dir", f"{FOLDER}/none"], tmp_path)
    assert code != 0 and "no pulled reference data" in err, err
    [command] = [c for c in COMMAND.findall(err) if c.startswith("register-batch reference pull")]
    result = pasted(command, tmp_path, shell)
    assert result.returncode == 0, (command, result.stderr)
    assert (tmp_path / FOLDER / "none" / "reference-data.json").is_file()


def test_the_sentence_names_the_folder_readably_and_only_the_command_spells_it(tmp_path):
    """review186 F6: the prose said `no pulled reference data in $'R\\xc3\\xa9pertoire…'`."""
    code, _out, err = in_cp1252(["reference", "diff", "--state-dir", f"{FOLDER}/none"], tmp_path)
    assert code != 0
    assert "no pulled reference data in 'Répertoire-\\u65e5\\u672c/none':" in err, err
    [command] = [c for c in COMMAND.findall(err) if c.startswith("register-batch reference pull")]
    spelt = "R\\303\\251pertoire-\\346\\227\\245\\346\\234\\254/none"
    assert command == f"register-batch reference pull --state-dir \"$(printf '{spelt}')\""


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", ["t\nk $x.txt", "t\tk.txt", "tök-日本.txt"])
def test_the_chmod_a_token_file_warning_suggests_works_when_pasted(tmp_path, shell, name):
    """A token file open to others: the `chmod 600` the warning suggests, pasted, makes it private. A line break or a
    tab in the name was printed as `\\x0a` or a tab inside quotes, naming another file (review186 F5)."""
    token = tmp_path / name
    token.write_text("tok-abcdefghijklmnopqrstuvwxyz0123456789\n")
    token.chmod(0o644)
    _code, _out, err = in_cp1252(
        ["sync", "--dry-run", "--target", "http://127.0.0.1:9", "--token-file", name, "absent.xml"], tmp_path
    )
    [command] = re.findall(r"`(chmod 600 [^`]+)`", err)
    assert "\t" not in command and "\\x0" not in command, command
    result = pasted(command, tmp_path, shell)
    assert result.returncode == 0, (command, result.stderr)
    assert token.stat().st_mode & 0o777 == 0o600, command


def test_a_path_the_console_cannot_show_is_spelt_for_bash_from_its_own_bytes(monkeypatch):
    class Cp1252:
        encoding = "cp1252"

    monkeypatch.setattr(sys, "stdout", Cp1252())
    assert shell_word("Répertoire/a b") == "'Répertoire/a b'"  # é is in cp1252: quoted as it is
    assert shell_word(f"{FOLDER}/it's 100%", windows=False) == (
        "\"$(printf 'R\\303\\251pertoire-\\346\\227\\245\\346\\234\\254/it\\047s 100%%')\""
    )
    undecodable = os.fsdecode(b"caf\xe9")  # a Latin-1 name on a UTF-8 system: not UTF-8 in any console
    monkeypatch.undo()
    assert shell_word(undecodable, windows=False) == "\"$(printf 'caf\\351')\""


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    "name",
    [
        f'{FOLDER}/it\'s $x `y` \\ "q" 100%d',
        "a\nb",
        "a\tb",
        "x\u202ey",
        "x\u200fy",
        "-r.xml",
        "-",
        os.fsdecode(b"caf\xe9"),
    ],
)
def test_every_spelling_names_the_same_file_in_dash_and_bash(monkeypatch, tmp_path, shell, name):
    """What shell_word writes, pasted into /bin/sh's dash (a crontab line, an `sh` script) or bash, is the name it
    was given (review186 F7), a relative one that starts with - as ./-x, so that chmod does not take it for an option
    (review186 F8)."""

    class Ascii:
        encoding = "ascii"

    monkeypatch.setattr(sys, "stdout", Ascii())
    word = shell_word(name, windows=False)
    monkeypatch.undo()
    assert word.isascii() and word.isprintable(), word
    result = subprocess.run([shell, "-c", f"printf %s {word}"], cwd=tmp_path, capture_output=True, timeout=30)
    assert result.stdout == os.fsencode(f"./{name}" if name.startswith("-") else name), (word, result.stderr)


@pytest.mark.parametrize("shell", SHELLS)
def test_a_file_whose_name_starts_with_a_dash_is_not_an_option_to_chmod(tmp_path, shell):
    (tmp_path / "-r.xml").write_text("<x/>")
    (tmp_path / "-r.xml").chmod(0)
    assert shell_word("-r.xml") == "./-r.xml"
    result = pasted(f"chmod 600 {shell_word('-r.xml')}", tmp_path, shell)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "-r.xml").stat().st_mode & 0o777 == 0o600


def test_on_windows_it_is_spelt_for_powershell(monkeypatch):
    class Cp1252:
        encoding = "cp1252"

    monkeypatch.setattr(sys, "stderr", Cp1252())
    spelt = shell_word("C:\\Users\\Łukasz\\$x `y\U0001f600", windows=True)
    assert spelt == (
        '"C:\\Users\\$([char]0x0141)ukasz\\$([char]0x0024)x $([char]0x0060)y$([char]0xD83D)$([char]0xDE00)"'
    )


@pytest.mark.parametrize("shell", SHELLS)
def test_the_extracts_of_a_folder_given_as_an_input_are_found_by_the_pattern_suggested(tmp_path, shell):
    """review186 F5: a folder with a line break in its name was suggested as `'nl\\x0ad'/*.xml`, which matched
    nothing: the name the hint gives is spelt from the folder's own, not from the printed one."""
    folder = tmp_path / "nl\nd"
    folder.mkdir()
    (folder / "extract.xml").write_text("<x/>")
    _code, _out, err = in_cp1252(["validate", "nl\nd"], tmp_path)
    [pattern] = re.findall(r"is a folder, not a file: give the extracts in it, e\.g\. (.+)$", err.strip())
    result = pasted(f"printf '%s|' {pattern}", tmp_path, shell)
    assert result.stdout == "nl\nd/extract.xml|", (pattern, result.stdout)


@pytest.mark.parametrize("name", ["x\u200ey", "x\u200fy", "a\tb"])
def test_an_invisible_character_is_spelt_out_on_a_utf8_console_too(monkeypatch, name):
    """A left-to-right or right-to-left mark, or a tab, shows as nothing (or a space) on a UTF-8 console, and a copy
    from the terminal does not keep it: the command spells it in ASCII all the same (review186 F5, review190 F3)."""

    class Utf8:
        encoding = "utf-8"

    monkeypatch.setattr(sys, "stdout", Utf8())
    monkeypatch.setattr(sys, "stderr", Utf8())
    word = shell_word(name, windows=False)
    monkeypatch.undo()
    assert word.isascii() and word.startswith('"$(printf '), word
