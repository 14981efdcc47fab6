"""What a new user reads in `--help` and in `reference diff`'s error says what the command does, on its own.

Found by a new-user review of the docs: validate's and convert's --ukprn help talked of a token and of sync
stopping (neither takes a token); `emulator --help` ended "See docs/emulator.md", which no installed wheel has;
`reference diff` after `reference pull --target URL` said to pull first, though the pull had gone to the target's
own state dir.
"""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from register_batch.cli import cli
from register_batch.emulator import start_emulator
from register_batch.reference import PULLED_FILE


def _help(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def _ukprn_help(command: str) -> str:
    """The --ukprn option's help: up to its last words, the same for each command."""
    return _help(command).split("--ukprn UKPRN ")[1].split("(several_providers).")[0] + "(several_providers)."


@pytest.mark.parametrize("command", ["validate", "convert"])
def test_the_ukprn_help_of_commands_that_send_nothing_says_no_token_and_no_sync(command):
    said = _ukprn_help(command)
    assert "token" not in said and "sync stops" not in said, said
    assert "other_provider_record" in said and "(several_providers)" in said


def test_each_ukprn_help_says_what_the_ukprn_is_to_that_command():
    assert _ukprn_help("validate").startswith("The UKPRN of the provider whose records you check")
    # review239 F5: another provider's records are left out of every output now, with or without --skip-invalid
    convert = _ukprn_help("convert")
    assert "always left out of the output" in convert and "--skip-invalid" not in convert
    sync = _ukprn_help("sync")
    assert sync.startswith("The UKPRN of the provider the token sends for") and "sync stops" in sync


def _all_commands(group: click.Group, path: tuple[str, ...] = ()):
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        yield (*path, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*path, name))


def test_no_help_points_to_docs_an_installed_wheel_does_not_have():
    """The wheel ships src/register_batch only (pyproject's wheel targets): no docs/ folder."""
    for path in [(), *_all_commands(cli)]:
        shown = _help(*path)
        assert "docs/" not in shown and ".md" not in shown, (path, shown)


def test_the_emulator_help_says_how_to_rehearse_a_sync_and_what_faults_there_are():
    shown = _help("emulator")
    assert (
        "REGISTER_API_TOKEN=TOKEN register-batch sync FILE \\ --target http://127.0.0.1:8787 --ukprn UKPRN \\ "
        "--state-dir state/emulator" in shown
    )
    assert "Without --db it forgets every trainee when it stops" in shown
    assert "GET /__emulator__/stats" in shown and "POST /__emulator__/trainees/ID/discard" in shown
    faults = shown.split("--faults SPEC ")[1].split(" --seed")[0]
    for kind in ("500", "reset", "timeout", "lost-response"):
        assert kind in faults


@pytest.fixture
def in_a_fresh_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for name in ("REGISTER_API_URL", "REGISTER_BATCH_STATE_DIR", "REGISTER_BATCH_CONFIG", "REGISTER_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def test_diff_after_a_pull_from_another_target_names_the_folder_the_pull_went_to(in_a_fresh_folder):
    with start_emulator(tokens=["t"], rate_limit=None) as emulator:
        pulled = CliRunner().invoke(cli, ["reference", "pull", "--target", emulator.url])
    assert pulled.exit_code == 0, pulled.output
    folder = f".register-batch/127.0.0.1-{emulator.port}"
    assert (in_a_fresh_folder / folder / PULLED_FILE).is_file()

    diff = CliRunner().invoke(cli, ["reference", "diff"])
    said = " ".join(diff.output.split())
    assert diff.exit_code == 2, said
    assert said.startswith(
        "register-batch: error: no pulled reference data in .register-batch/embedded-emulator, the state dir of the "
        "embedded emulator (no target is set). `register-batch reference pull --target TARGET` saves into that "
        "target's own state dir, .register-batch/<target> (for a URL, named for its host and port: "
        ".register-batch/127.0.0.1-8787), unless given --state-dir"
    ), said
    assert f"Pulled lists are in {folder}: `register-batch reference diff --state-dir {folder}` compares them" in said
    compared = CliRunner().invoke(cli, ["reference", "diff", "--state-dir", folder])
    assert compared.exit_code == 0 and "No differences." in compared.output, compared.output


def test_diff_with_nothing_pulled_anywhere_says_to_pull_and_where_pulls_go(in_a_fresh_folder):
    diff = CliRunner().invoke(cli, ["reference", "diff"])
    said = " ".join(diff.output.split())
    assert diff.exit_code == 2 and len(diff.output.splitlines()) == 1, said
    assert ".register-batch/<target>" in said
    assert said.endswith("No state dir in .register-batch holds any: run `register-batch reference pull` first")


def test_diff_of_a_state_dir_given_with_nothing_pulled_says_how_to_pull_into_it(in_a_fresh_folder):
    diff = CliRunner().invoke(cli, ["reference", "diff", "--state-dir", "my state"])
    assert diff.exit_code == 2
    assert diff.output == (
        "register-batch: error: no pulled reference data in 'my state': run `register-batch reference pull "
        "--state-dir 'my state'` first (with the --target to pull from)\n"
    )


def _help_in(columns: int, command: tuple[str, ...], tmp_path) -> list[str]:
    """`register-batch COMMAND --help` in a terminal `columns` wide (a process of its own: click's test runner fixes
    the width at 80), as its lines."""
    import os

    from cli_runs import run_cli

    result = run_cli([*command, "--help"], cwd=tmp_path, env={**os.environ, "COLUMNS": str(columns)})
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


# The examples' lines (a `\b` block: a command is copied whole, never re-wrapped): a command, or its continuation.
# Not what a command does, under it: prose, wrapped like any (review186 F3).
EXAMPLE = re.compile(r"^    (register-batch |REGISTER_API_TOKEN=|    --)")


@pytest.mark.parametrize("command", [(), ("emulator",), ("generate",)], ids=["top-level", "emulator", "generate"])
def test_the_examples_fit_an_80_column_terminal(command, tmp_path):
    """review181 F5: at 80 columns the top-level help's examples were 100 and 93 characters wide, and emulator's and
    generate's 86 and 87, which the terminal broke mid-word ("and w / hy"): the first screen a new user reads."""
    lines = _help_in(80, command, tmp_path)
    assert [line for line in lines if len(line) > 78] == []


@pytest.mark.parametrize(
    "command",
    [(), ("validate",), ("sync",), ("emulator",), ("generate",), ("mappings", "check"), ("reference", "template")],
    ids=lambda c: " ".join(c) or "top-level",
)
def test_help_in_a_40_column_terminal_is_laid_out_for_40(command, tmp_path):
    """review181 F5: click lays help out 50 columns wide at the least, so a 40-column terminal (a screen magnifier's,
    a phone's SSH client) broke nearly every line mid-word, and the options' column took 34 of them. Only the
    examples' command lines, copied whole, may be wider, and a word longer than a line on its own (emulator's fault
    spec), which is not broken (review186 F4); each option's description is under it."""
    lines = _help_in(40, command, tmp_path)
    one_word = [line for line in lines if len(line.split()) == 1 and len(line.strip()) > 40 - 6]
    assert [line for line in lines if len(line) > 40 and not EXAMPLE.match(line) and line not in one_word] == []
    if command == ("validate",):
        at = lines.index("  --format [auto|hesa-xml|")  # a choice's list breaks after a bar
        assert lines[at + 1 : at + 3] == ["      hesa-csv|register-csv]", "      Input format; auto detects it"]


def _every_help(width: int) -> dict[str, str]:
    """Each command's and group's `--help`, laid out `width` wide (a terminal of `width` + 2 columns), by name."""
    helps: dict[str, str] = {}

    def walk(command: click.Command, name: str, parent: click.Context | None) -> None:
        ctx = command.context_class(command, info_name=name, parent=parent, terminal_width=width)
        helps[ctx.command_path] = command.get_help(ctx)
        if isinstance(command, click.Group):
            for sub in command.list_commands(ctx):
                walk(command.get_command(ctx, sub), sub, ctx)

    walk(cli, "register-batch", None)
    return helps


def _words(text: str) -> list[str]:
    """The words of a help text, a choice list broken after a bar (`[auto|hesa-xml|` / `hesa-csv]`) taken whole."""
    return re.sub(r"\|\s+", "|", text).split()


def _commands_listed(text: str) -> str:
    return text.split("\nCommands:\n")[1] if "\nCommands:\n" in text else ""


WIDE = _every_help(1000)


@pytest.mark.parametrize("columns", [24, 40, 60, 80, 120])
def test_help_breaks_lines_between_words_only(columns):
    """review186 F4: click broke help at hyphens, so a line ended inside an option, a value or a path (`--as- / of`,
    `lost- / response:0.05`, `.register- / batch`), and below 40 columns inside a long word
    (`register_batch.r / eports`): a reader who copies it gets it wrong. The words are those of the widest help."""
    narrow = _every_help(columns - 2)
    for name, text in narrow.items():
        listed = _commands_listed(text)
        assert _words(text.removesuffix(listed)) == _words(WIDE[name].removesuffix(_commands_listed(WIDE[name]))), name


@pytest.mark.parametrize("columns", [24, 40])
def test_a_narrow_commands_list_says_each_summary_whole(columns):
    """review186 F2: laid out under each name, click still cut each command's summary to fit a column beside the
    longest one: "Settings:..." at 40 columns, "..." alone at 24. Each is said whole, its first sentence."""
    for name, text in _every_help(columns - 2).items():
        listed = _commands_listed(text)
        if not listed:
            continue
        group = cli
        for part in name.split()[1:]:
            group = group.get_command(click.Context(group), part)
        ctx = click.Context(group)
        expected = [
            word
            for sub in group.list_commands(ctx)
            for word in [sub, *group.get_command(ctx, sub).get_short_help_str(1000).split()]
        ]
        assert "..." not in listed, (name, listed)
        assert _words(listed) == expected, name
        assert max(map(len, listed.splitlines())) <= columns, listed
