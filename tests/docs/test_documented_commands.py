"""Every register-batch command the user documentation shows is run, with exactly the documented options.

Pages: docs/*.md and README.md. Each page runs in its own temporary folder holding a copy of samples/ (and of
samples/extract.xml as incoming/extract.xml, the nightly job's extract in nightly-sync.md), its
commands in document order, so that later commands see what earlier ones left (files, ledgers, reports).

Conventions the pages follow
----------------------------
Fenced blocks, by the first word of their info string:

  console          A transcript. A line starting `$ ` is a command (a trailing `\\` continues it on the next
                   line); the lines up to the next `$ ` are its output, compared with the real output.
  sh, shell, bash  Commands shown without output: every line that is not blank or a comment is a command.
  file=NAME        Any block whose info string has `file=NAME` (```yaml file=our-srs.yaml) is a file the
                   reader saves: the test writes it to NAME in the page's folder at that point, and does not
                   run it.
  anything else    (text, toml, yaml, ini, crontab, json, csv, xml, python) is not run, but every
                   `register-batch ...` line in it (crontab lines, ExecStart=, transcripts of runs that cannot
                   be reproduced) is checked: the command and every option must exist.
  A block without a language that mentions register-batch fails: say what it is.

Exit codes: a command ending in `# exit N` must exit N; every other command must exit 0.

Output: each non-blank output line of a console block must match a line the command printed (standard output
or standard error), after collapsing white space and replacing every run of digits by 0 (counts, times and
ports change); `…` matches anything. The order of lines is not checked. For the commands in EXACT_NUMBERS, whose
output holds no port, time or generated id, the numbers must be as written (a count the page gets wrong fails);
so for those in EXACT_WITH_AS_OF when the page gives `--as-of`.

Commands: a `register-batch ...` command is first parsed by the CLI's own click parser (the command and each
option must exist, with valid values), then run in a subprocess with a clean environment (no REGISTER_*
variables from the machine running the test). Any other command is
  - applied: `export NAME=VALUE`, `export NAME`, `unset NAME`, and `NAME=VALUE register-batch ...`;
  - skipped by rule, when its first word is in SKIPPED below (each with its reason); or
  - an error: a command the test neither runs nor knows to skip fails the test, so no command is skipped
    silently. Runnable register-batch commands must be simple: no pipes, redirections or shell variables.

Targets and tokens: `sandbox` and `production` (as `--target`, `$REGISTER_API_URL` or `target = ...` in a
settings file) and the two real service URLs resolve, in the subprocess only, to two in-process emulators, one
each, so nothing leaves the machine; the real URLs are put back into the output before it is compared. Every
command with a target gets a valid test token in REGISTER_API_TOKEN (one without has none, as a user's has none for
the embedded emulator): `export REGISTER_API_TOKEN...` keeps it, `unset REGISTER_API_TOKEN` removes it. Every token
file a page names (a `--token-file` value, `token_file = "..."` in a file block) is created holding the test token,
mode 600, before the page runs. Without a target, sync and export use their embedded emulator as they do for
users.

`register-batch emulator ...` is run with its port replaced by 0 (a free port); it must print its first line,
then it is stopped with SIGTERM.

Inline code: every `--option` in backticks in the pages must be an option of some register-batch command, or be
listed in OTHER_TOOL_OPTIONS.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import click
import pytest

from register_batch.api import TARGETS
from register_batch.cli import cli
from register_batch.emulator import start_emulator

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
README = REPO / "README.md"
SAMPLES = REPO / "samples"
TOKEN = "docs_test_0123456789abcdef"
COMMAND_TIMEOUT = 120

SKIPPED = {
    "cd": "the test runs every command in the page's own folder",
    "sudo": "sets up the reader's machine as root",
    "sudoedit": "an editor: the reader pastes the token",
    "nano": "an editor: the reader pastes the token",
    "install": "sets up folders and file permissions on the reader's machine (the test creates token files itself)",
    "mkdir": "sets up folders on the reader's machine",
    "chmod": "sets file permissions on the reader's machine (the test creates token files itself)",
    "read": "reads the token from the keyboard (the test sets its own token)",
    "crontab": "edits the reader's crontab",
    "systemctl": "controls the reader's services",
    "journalctl": "reads the reader's system journal",
    "find": "deletes old reports on the reader's machine",
    "curl": "talks to an emulator the reader started by hand",
    "pip": "installs register-batch",
    "python": "installs or develops register-batch",
    "python3": "installs or develops register-batch",
    "git": "gets the source",
    "pytest": "runs the project's own tests",
    "source": "activates a virtual environment",
    ".": "activates a virtual environment",
}
OTHER_TOOL_OPTIONS = {"--failed": "systemctl --failed"}
RUN_LANGUAGES = {"console", "sh", "shell", "bash"}
SHELL_OPERATORS = {"|", "||", "&&", ";", "&", ">", ">>", "<", "2>", "2>&1"}
REAL_URLS = {
    "sandbox": TARGETS["sandbox"],
    "production": TARGETS["production"],
}

# Run in each subprocess: point `sandbox`, `production` and their URLs at the emulators, then run the CLI.
PRELUDE = """
import importlib.abc, importlib.util, json, os, sys
targets = json.loads(os.environ.pop("REGISTER_BATCH_DOCS_TEST_TARGETS", "{}"))
class Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "register_batch.api.client":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module
        def exec_module(module):
            run(module)
            module.TARGETS.update(targets)
        spec.loader.exec_module = exec_module
        return spec
if targets:
    sys.meta_path.insert(0, Hook())
sys.argv[0] = "register-batch"
from register_batch.cli import main
main()
"""


# --- reading the pages ----------------------------------------------------------------------------------------


@dataclass
class Command:
    text: str  # as written, without the prompt
    line: int  # line number in the page
    exit_code: int = 0
    output: list[str] = field(default_factory=list)  # console blocks only


@dataclass
class Block:
    language: str
    info: str
    line: int  # line of the opening fence
    lines: list[str]

    @property
    def file_name(self) -> str | None:
        match = re.search(r"(?:^|\s)file=(\S+)", self.info)
        return match.group(1) if match else None


def fenced_blocks(text: str) -> Iterator[Block]:
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = re.match(r"^(\s*)(`{3,}|~{3,})\s*(.*)$", lines[index])
        if not match:
            index += 1
            continue
        indent, fence, info = match.groups()
        start = index
        body = []
        index += 1
        while index < len(lines) and not re.match(rf"^\s*{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[index]):
            line = lines[index]
            body.append(line[len(indent) :] if line.startswith(indent) else line.lstrip())
            index += 1
        index += 1
        yield Block(language=(info.split() or [""])[0], info=info, line=start + 1, lines=body)


def _expected_exit(text: str) -> tuple[str, int]:
    match = re.search(r"\s#\s*exit\s+(\d+)\s*$", text)
    if match:
        return text[: match.start()].rstrip(), int(match.group(1))
    return text, 0


def commands_of(block: Block) -> list[Command]:
    """The commands of a console or shell block, with their expected exit codes and shown output."""
    result: list[Command] = []
    pending: Command | None = None
    continuing = False
    for offset, raw in enumerate(block.lines, start=block.line + 1):
        if continuing and pending is not None:
            pending.text += " " + raw.strip().rstrip("\\").strip()
            continuing = raw.rstrip().endswith("\\")
            if not continuing:
                pending.text, pending.exit_code = _expected_exit(pending.text)
            continue
        if block.language == "console":
            if raw.startswith("$ "):
                pending = Command(raw[2:].strip(), offset)
                result.append(pending)
            elif pending is not None and raw.strip():
                pending.output.append(raw)
                continue
            else:
                continue
        else:
            stripped = raw.strip()
            if not stripped or stripped.startswith("#"):
                continue
            pending = Command(stripped, offset)
            result.append(pending)
        continuing = pending.text.endswith("\\")
        pending.text = pending.text.rstrip("\\").strip()
        if not continuing:
            pending.text, pending.exit_code = _expected_exit(pending.text)
    return result


REGISTER_BATCH_IN_LINE = re.compile(r"(?:^|[\s=/$])register-batch(?=\s|$)")


def static_commands(block: Block) -> list[Command]:
    """`register-batch ...` lines in a block that is not run (crontab, ExecStart=, transcripts)."""
    found = []
    comment = "#" if block.language in {"toml", "yaml", "ini", "crontab", "sh", "shell", "bash", "conf"} else None
    for offset, raw in enumerate(block.lines, start=block.line + 1):
        match = REGISTER_BATCH_IN_LINE.search(raw)
        if not match:
            continue
        if comment and comment in raw[: match.start() + 1] and raw.lstrip().startswith(comment):
            continue
        found.append(Command("register-batch" + raw[match.end() :], offset))
    return found


# --- checking a command against the CLI -----------------------------------------------------------------------


def simple_commands(text: str) -> list[list[str]]:
    """The words of each simple command of a line: `a && b; c || d` is four commands."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    parts: list[list[str]] = [[]]
    for token in lexer:
        if token in ("&&", "||", ";"):
            parts.append([])
        else:
            parts[-1].append(token)
    return [part for part in parts if part]


def parse_with_click(args: list[str]) -> None:
    """Parse a command line as the CLI would; raise click's error if it would not accept it."""
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        try:
            ctx = cli.make_context("register-batch", list(args))
            command: click.Command = cli
            while isinstance(command, click.Group):
                rest = [*vars(ctx).get("_protected_args", []), *ctx.args]
                if not rest:
                    return
                name, found, rest = command.resolve_command(ctx, rest)
                assert found is not None and name is not None
                command = found
                ctx = command.make_context(name, rest, parent=ctx)
        except click.exceptions.Exit:  # --help, --version, --list-defects
            return


def _all_params(command: click.Command) -> list[click.Parameter]:
    params = list(command.params)
    if isinstance(command, click.Group):
        for name in command.list_commands(click.Context(command)):
            sub = command.get_command(click.Context(command), name)
            if sub is not None:
                params += _all_params(sub)
    return params


def known_options() -> set[str]:
    names = {"--help", "-h"}
    for param in _all_params(cli):
        names.update(getattr(param, "opts", []))
        names.update(getattr(param, "secondary_opts", []))
    return names


def check_loosely(text: str) -> str | None:
    """For lines that are not run: the (sub)command must exist and every option must be one of its options."""
    words = re.split(r"\s+", text.strip())[1:]
    command: click.Command = cli
    ctx = click.Context(cli)
    options = {o for p in cli.params for o in getattr(p, "opts", [])} | {"--help", "-h"}
    valued = False  # the word is the value of the option before it (`--config FILE`)
    for word in words:
        if not word or re.match(r"^(\|\|?|&&|;|>>?|<|2>)", word):
            break
        bare = word.strip("[]")
        if valued:
            valued = False
            continue
        if bare.startswith("-"):
            name = bare.split("=", 1)[0].split("|", 1)[0]
            if re.fullmatch(r"--?[A-Za-z][\w-]*", name) and name not in options:
                return f"{name} is not an option of `{command.name}`"
            # Before the command, a group option's value is skipped; after it, words are arguments anyway.
            given = next((p for p in command.params if name in getattr(p, "opts", [])), None)
            valued = isinstance(given, click.Option) and not (given.is_flag or given.count) and "=" not in bare
            continue
        if isinstance(command, click.Group):
            sub = command.get_command(ctx, bare)
            if sub is None:
                return f"`{bare}` is not a register-batch command"
            command = sub
            ctx = click.Context(sub, parent=ctx)
            options |= {o for p in sub.params for o in (*getattr(p, "opts", []), *getattr(p, "secondary_opts", []))}
    return None


# --- running a page -------------------------------------------------------------------------------------------


# Commands whose output has no ports, times or generated ids: their numbers are compared as written.
EXACT_NUMBERS = {"mappings"}
# Their counts hang on the date rules are judged on: exact when the page gives that day (a page's `--as-of`).
EXACT_WITH_AS_OF = {"validate", "convert", "generate"}


def normal(line: str, *, exact_numbers: bool = False) -> str:
    collapsed = re.sub(r"\s+", " ", line.strip())
    return collapsed if exact_numbers else re.sub(r"\d+", "0", collapsed)


def output_matches(expected: str, actual_lines: list[str], *, exact_numbers: bool = False) -> bool:
    shown = normal(expected, exact_numbers=exact_numbers)
    if not shown.replace("…", "").strip():
        return True
    pattern = re.compile(".*".join(re.escape(part) for part in shown.split("…")))
    return any(pattern.fullmatch(normal(line, exact_numbers=exact_numbers)) for line in actual_lines)


@dataclass
class PageRun:
    page: Path
    folder: Path
    env: dict[str, str]
    emulators: dict[str, str]  # name -> emulator URL
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    ran: int = 0
    page_token: bool = False  # the page exported REGISTER_API_TOKEN itself (the test token stands for its value)

    def fail(self, line: int, message: str) -> None:
        self.failures.append(f"{shown_path(self.page)}:{line}: {message}")

    def child_env(self, extra: dict[str, str]) -> dict[str, str]:
        env = {**self.env, **extra}
        targets = {}
        for name, url in self.emulators.items():
            targets[name] = url
            targets[REAL_URLS[name]] = url
        env["REGISTER_BATCH_DOCS_TEST_TARGETS"] = json.dumps(targets)
        return env

    def restore_urls(self, text: str) -> str:
        for name, url in self.emulators.items():
            text = text.replace(url, REAL_URLS[name])
        return text


def shown_path(page: Path) -> str:
    return str(page.relative_to(REPO)) if page.is_relative_to(REPO) else page.name


def subcommand_of(args: list[str]) -> str | None:
    """The command name after the global options (`--config FILE`, `-v`, `-q`)."""
    words = iter(args)
    for word in words:
        if word == "--config":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("REGISTER_")}
    env["REGISTER_API_TOKEN"] = TOKEN
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def token_files(text: str) -> set[str]:
    names = set(re.findall(r"--token-file[ =]([^\s`]+)", text))
    names |= set(re.findall(r"""^\s*token_file\s*=\s*["']([^"']+)["']""", text, flags=re.MULTILINE))
    return names


def prepare_folder(page_text: str, folder: Path) -> None:
    shutil.copytree(SAMPLES, folder / "samples")
    # The nightly job's extract (nightly-sync.md), which the SRS writes there each night: the sample stands for it.
    (folder / "incoming").mkdir()
    shutil.copy(SAMPLES / "extract.xml", folder / "incoming" / "extract.xml")
    for name in token_files(page_text):
        path = folder / name
        assert not Path(name).is_absolute(), f"token file {name}: use a relative path in runnable examples"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(TOKEN + "\n", encoding="utf-8")
        path.chmod(0o600)


def apply_shell_builtin(run: PageRun, command: Command, words: list[str]) -> bool:
    """`export` and `unset`: change the page's environment. True if the command was one of them."""
    if words[0] == "export":
        for item in words[1:]:
            name, has_value, value = item.partition("=")
            if name == "REGISTER_API_TOKEN":
                run.page_token = True
                continue  # every command keeps the test token
            if has_value:
                run.env[name] = value
        return True
    if words[0] == "unset":
        for name in words[1:]:
            run.env.pop(name, None)
            run.page_token = run.page_token and name != "REGISTER_API_TOKEN"
        return True
    return False


def names_a_target(args: list[str], env: dict[str, str], folder: Path) -> bool:
    """Whether a command has a target: `--target`, $REGISTER_API_URL, or `target = ...` in its settings file."""
    if any(arg == "--target" or arg.startswith("--target=") for arg in args) or env.get("REGISTER_API_URL"):
        return True
    settings = args[args.index("--config") + 1] if "--config" in args[:-1] else env.get("REGISTER_BATCH_CONFIG")
    path = folder / (settings or "register-batch.toml")
    text = path.read_text(encoding="utf-8") if path.is_file() else ""
    return re.search(r"^\s*target\s*=", text, flags=re.MULTILINE) is not None


def run_register_batch(run: PageRun, command: Command, assignments: dict[str, str], args: list[str]) -> None:
    env = run.child_env(assignments)
    if not names_a_target(args, env, run.folder) and not run.page_token and "REGISTER_API_TOKEN" not in assignments:
        # The harness's own token is for a Register: a sync or an export given one with no target is refused, as a
        # user's is. A token the page gives (export, or before the command) stays, so its refusal is seen.
        env.pop("REGISTER_API_TOKEN", None)
    argv = [sys.executable, "-c", PRELUDE, *args]
    if subcommand_of(args) == "emulator":
        stdout, stderr, code = run_emulator(argv, env, run.folder)
    else:
        try:
            done = subprocess.run(
                argv, cwd=run.folder, env=env, capture_output=True, text=True, timeout=COMMAND_TIMEOUT, check=False
            )
        except subprocess.TimeoutExpired:
            run.fail(command.line, f"`{command.text}` did not finish in {COMMAND_TIMEOUT} s")
            return
        stdout, stderr, code = done.stdout, done.stderr, done.returncode
    run.ran += 1
    stdout, stderr = run.restore_urls(stdout), run.restore_urls(stderr)
    shown = f"\n--- stdout ---\n{stdout}--- stderr ---\n{stderr}"
    if code != command.exit_code:
        run.fail(command.line, f"`{command.text}` exited {code}, the page says {command.exit_code}{shown}")
        return
    actual = (stdout + "\n" + stderr).splitlines()
    dated = any(arg == "--as-of" or arg.startswith("--as-of=") for arg in args)
    exact = subcommand_of(args) in EXACT_NUMBERS or (subcommand_of(args) in EXACT_WITH_AS_OF and dated)
    for expected in command.output:
        if not output_matches(expected, actual, exact_numbers=exact):
            run.fail(command.line, f"`{command.text}` did not print a line like {expected.strip()!r}{shown}")


def run_emulator(argv: list[str], env: dict[str, str], folder: Path) -> tuple[str, str, int]:
    """Start `register-batch emulator` on a free port, wait for its first line, stop it with SIGTERM."""
    args = list(argv)
    while "--port" in args:
        at = args.index("--port")
        del args[at : at + 2]
    args = [a for a in args if not a.startswith("--port=")] + ["--port", "0"]
    process = subprocess.Popen(args, cwd=folder, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first: list[str] = []
    reader = threading.Thread(target=lambda: first.append(process.stdout.readline() if process.stdout else ""))
    reader.start()
    reader.join(timeout=30)
    # The emulator handles SIGTERM once it serves: wait for an answer (any status) before stopping it.
    url = re.search(r"listening on (http://\S+)", "".join(first))
    if url:
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url.group(1) + "/info", timeout=10).close()
    process.send_signal(signal.SIGTERM)
    try:
        rest, stderr = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        rest, stderr = process.communicate()
    return "".join(first) + rest, stderr, process.returncode


def run_command(run: PageRun, command: Command) -> None:
    try:
        commands = simple_commands(command.text)
    except ValueError as exc:
        run.fail(command.line, f"cannot split `{command.text}` into words: {exc}")
        return
    for words in commands:
        run_simple_command(run, command, words)


def run_simple_command(run: PageRun, command: Command, words: list[str]) -> None:
    if apply_shell_builtin(run, command, words):
        return
    assignments = {}
    while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
        name, _, value = words.pop(0).partition("=")
        assignments[name] = value
    if not words:
        return
    program = words[0].rsplit("/", 1)[-1]
    if program != "register-batch":
        shown = shlex.join(words)
        if words[0] in SKIPPED:
            run.skipped.append(f"line {command.line}: `{shown}` ({SKIPPED[words[0]]})")
            return
        run.fail(command.line, f"`{shown}`: the test neither runs `{words[0]}` nor knows to skip it")
        return
    args = words[1:]
    odd = [w for w in args if w in SHELL_OPERATORS or w.startswith((">", "<", "|", "&")) or "$" in w or "`" in w]
    if odd:
        run.fail(command.line, f"`{command.text}`: runnable examples must be simple commands (found {odd[0]!r})")
        return
    try:
        parse_with_click(args)
    except click.ClickException as exc:
        run.fail(command.line, f"`{command.text}`: the CLI does not accept this: {exc.format_message()}")
        return
    run_register_batch(run, command, assignments, args)


def run_page(page: Path, folder: Path) -> PageRun:
    text = page.read_text(encoding="utf-8")
    prepare_folder(text, folder)
    with (
        # The reader's provider: the UKPRN the pages give with --ukprn (or `ukprn` in register-batch.toml).
        start_emulator(tokens=(TOKEN,), rate_limit=None, ukprns={TOKEN: "10052198"}) as sandbox,
        start_emulator(tokens=(TOKEN,), rate_limit=None, ukprns={TOKEN: "10052198"}) as production,
    ):
        run = PageRun(page, folder, base_env(), {"sandbox": sandbox.url, "production": production.url})
        for block in fenced_blocks(text):
            name = block.file_name
            if name:
                target = folder / name
                if Path(name).is_absolute() or ".." in Path(name).parts:
                    run.fail(block.line, f"file={name}: give a relative path inside the working folder")
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("\n".join(block.lines) + "\n", encoding="utf-8")
                for command in static_commands(block):
                    problem = check_loosely(command.text)
                    if problem:
                        run.fail(command.line, f"`{command.text.strip()}`: {problem}")
                continue
            if not block.language:
                if any(REGISTER_BATCH_IN_LINE.search(line) for line in block.lines):
                    run.fail(block.line, "a fenced block without a language mentions register-batch: tag it")
                continue
            if block.language in RUN_LANGUAGES:
                for command in commands_of(block):
                    run_command(run, command)
                continue
            for command in static_commands(block):
                problem = check_loosely(command.text)
                if problem:
                    run.fail(command.line, f"`{command.text.strip()}`: {problem}")
    return run


def documented_pages() -> list[Path]:
    pages = sorted(DOCS.glob("*.md"))
    if README.is_file():
        pages.append(README)
    return pages


@pytest.mark.parametrize("page", documented_pages(), ids=shown_path)
def test_documented_commands_run_as_documented(page: Path, tmp_path: Path) -> None:
    run = run_page(page, tmp_path)
    for note in run.skipped:
        print(f"skipped by rule: {page.name} {note}")
    if run.failures:
        pytest.fail("\n\n".join(run.failures), pytrace=False)


# A fenced code block: its fence's indent is spaces or tabs on the fence's own line. `\s*` there reached back over
# blank lines, so an opener after a blank line took the next fence after a blank line (the next block's opener) as
# its closer, and the prose between, headings and all, was dropped as code.
_CODE_BLOCK = re.compile(r"^([ \t]*)(`{3,}|~{3,}).*?^\1\2[ \t]*$", flags=re.MULTILINE | re.DOTALL)


def without_code_blocks(text: str) -> str:
    return _CODE_BLOCK.sub("", text)


def test_inline_options_exist() -> None:
    """Every `--option` written in backticks in the pages is an option of some register-batch command."""
    known = known_options() | set(OTHER_TOOL_OPTIONS)
    unknown = []
    for page in documented_pages():
        text = page.read_text(encoding="utf-8")
        prose = without_code_blocks(text)
        for code in re.findall(r"`([^`\n]+)`", prose):
            for option in re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*", code):
                if option not in known:
                    unknown.append(f"{shown_path(page)}: `{code}`: {option}")
    assert not unknown, "options the CLI does not have:\n" + "\n".join(unknown)


PENDING_PAGES = {"security.md"}  # being written in parallel: a link to it is fine until it exists, checked after


def github_anchor(heading: str) -> str:
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def anchors_of(page: Path) -> set[str]:
    text = without_code_blocks(page.read_text(encoding="utf-8"))
    return {github_anchor(m) for m in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, flags=re.MULTILINE)}


def test_links_between_pages_resolve() -> None:
    """Every relative link in docs/*.md points at a page that exists, and at a heading that exists in it."""
    broken = []
    for page in sorted(DOCS.glob("*.md")):
        text = without_code_blocks(page.read_text(encoding="utf-8"))
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue
            name, _, anchor = target.partition("#")
            linked = (page.parent / name) if name else page
            if not linked.exists():
                if linked.name not in PENDING_PAGES:
                    broken.append(f"{shown_path(page)}: ({target}): no such file")
                continue
            if anchor and linked.suffix == ".md" and anchor not in anchors_of(linked):
                broken.append(f"{shown_path(page)}: ({target}): no heading #{anchor} in {linked.name}")
    assert not broken, "\n".join(broken)


# --- the harness itself: it must catch what it is meant to catch ----------------------------------------------


def _run_text(tmp_path: Path, text: str) -> PageRun:
    page = tmp_path / "page.md"
    page.write_text(text, encoding="utf-8")
    folder = tmp_path / "work"
    folder.mkdir()
    return run_page(page, folder)


def test_harness_rejects_an_option_the_cli_does_not_have(tmp_path: Path) -> None:
    text = (
        "```console\n$ register-batch validate samples/extract.xml --no-such-option\n```\n\n"
        "```crontab\n0 2 * * * /opt/rb/bin/register-batch sync in.xml --frobnicate >>log 2>&1\n```\n\n"
        "```sh\nfrobnicate --all\n```\n\n"
        "```\nregister-batch validate x.xml\n```\n"
    )
    failures = "\n".join(_run_text(tmp_path, text).failures)
    assert "No such option" in failures and "--no-such-option" in failures  # click's wording varies by release
    assert "--frobnicate is not an option of `sync`" in failures
    assert "neither runs `frobnicate` nor knows to skip it" in failures
    assert "without a language mentions register-batch" in failures


def test_harness_reads_the_value_of_an_option_before_the_command_as_its_value(tmp_path: Path) -> None:
    """nightly-sync.md's unit runs `register-batch --config FILE sync ...`: FILE is no command, and the command after
    it is still checked."""
    text = (
        "```ini\nExecStart=/opt/rb/bin/register-batch --config /srv/rb/register-batch.toml sync in.xml\n```\n\n"
        "```ini\nExecStart=/opt/rb/bin/register-batch --config /srv/rb/register-batch.toml synk in.xml\n```\n"
    )
    failures = _run_text(tmp_path, text).failures
    assert len(failures) == 1 and "`synk` is not a register-batch command" in failures[0], failures


def test_harness_checks_exit_codes_and_output(tmp_path: Path) -> None:
    text = (
        "```console\n"
        "$ register-batch reference show sex  # exit 1\n"
        "$ register-batch reference show itt_aim\n"
        "201\tNo such label\n"
        "$ register-batch reference show study_mode\n"
        "01\tFull…\n"
        "```\n"
    )
    run = _run_text(tmp_path, text)
    failures = "\n".join(run.failures)
    assert "exited 0, the page says 1" in failures
    assert "did not print a line like '201\\tNo such label'" in failures
    assert "study_mode" not in failures
    assert run.ran == 3


def test_harness_checks_the_numbers_of_mappings_check(tmp_path: Path) -> None:
    """`mappings check` prints no port, time or id: a wrong count on a page fails (it once said 15 translations
    where 53 were checked)."""
    text = (
        "```console\n"
        "$ register-batch mappings check\n"
        "Checked 1 code translations in 14 blocks (bundled mappings) against Register's code lists (bundled …).\n"
        "```\n"
    )
    failures = "\n".join(_run_text(tmp_path, text).failures)
    assert 'did not print a line like "Checked 1 code translations in 14 blocks' in failures


def test_harness_keeps_a_token_the_page_gives_a_command_with_no_target(tmp_path: Path) -> None:
    """review148 F1: a page that exports a token and then syncs into the embedded emulator shows what users are
    refused (exit 2); the harness drops only its own token from a command with no target, so the page fails."""
    for n, given in enumerate(
        ("$ export REGISTER_API_TOKEN=made-up-token-1\n$ register-batch", "$ REGISTER_API_TOKEN=x register-batch")
    ):
        text = (
            "```console\n"
            f"{given} sync samples/extract.xml --state-dir state/x --dry-run --as-of 2026-11-28\n"
            "12 records: would create 12; 14 warnings. 3 requests (0.25 per record).\n"
            "```\n"
        )
        (tmp_path / str(n)).mkdir()
        failures = "\n".join(_run_text(tmp_path / str(n), text).failures)
        assert "exited 2, the page says 0" in failures and "a token for Register is set" in failures, failures
    plain = (
        "```console\n$ register-batch sync samples/extract.xml --state-dir state/y --dry-run --as-of 2026-11-28\n```\n"
    )
    (tmp_path / "plain").mkdir()
    run = _run_text(tmp_path / "plain", plain)
    assert not run.failures and run.ran == 1, run.failures


def test_harness_resolves_named_targets_to_emulators(tmp_path: Path) -> None:
    text = (
        "```console\n"
        "$ register-batch export --target production --to json -o held.json\n"
        f"Target: {REAL_URLS['production']}\n"
        "No trainees matched (the academic cycle current today (UTC), …): wrote an empty json file to held.json (…).\n"
        "$ unset REGISTER_API_TOKEN\n"
        "$ register-batch export --target sandbox --to json -o held.json  # exit 2\n"
        f"register-batch: error: no API token for {REAL_URLS['sandbox']}: …\n"
        "```\n"
    )
    run = _run_text(tmp_path, text)
    assert not run.failures, "\n".join(run.failures)
    assert run.ran == 2
