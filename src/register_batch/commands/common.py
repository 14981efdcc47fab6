"""Shared pieces of the command line: option decorators, the per-run State, error-to-exit-code handling."""

from __future__ import annotations

import errno
import io
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from register_batch.config import UKPRN_OF, Settings, load_settings
from register_batch.constants import API_VERSION, FORMATS
from register_batch.errors import ConfigError, Interrupted, RegisterBatchError, literal
from register_batch.fs import (
    NAME_TOO_LONG,
    claim_new_dir,
    control_characters,
    home_expanded,
    names_a_folder,
    remove_empty_dirs,
)
from register_batch.fs import check_output_ending as output_ending_checked
from register_batch.progress import NO_ROOM, DropWhenGone, Progress
from register_batch.tokens import TOKEN_AS_ARGUMENT, masked_path_words, registers_token_in
from register_batch.wording import cut_short, printable, sentence

if TYPE_CHECKING:
    from register_batch.reports import ReportBuilder
    from register_batch.sync.target import Target


class UserPath(click.Path):
    """A path option: a leading `~` is the home folder (fs.home_expanded), as it is in the settings. Quoted in a
    script, or in systemd's ExecStart=, it reaches the program as it is, and made a folder named `~` here.

    An empty (or blank) value, `--config "$CONFIG"` with the variable unset, is refused as one: taken as `.`, it was
    refused naming the current folder (`.: cannot read the config file (Is a directory)`), and a `--token-file ""`
    won over a REGISTER_API_TOKEN that was set (review111 F8)."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            optional = param is not None and not param.required
            self.fail(f"it is empty: name a file{', or leave the option out' if optional else ''}", param, ctx)
        if isinstance(value, str) and value.startswith("~"):
            try:
                value = os.fspath(home_expanded(value))  # after OutputFile's look at the name as typed (`~/out/`)
            except ConfigError as exc:
                self.fail(str(exc), param, ctx)
        return super().convert(value, param, ctx)


class OutputFile(UserPath):
    """-o: a file to write. `out/` names a folder: click's Path would drop the separator and write a file `out`.

    `-` is refused rather than taken as standard output: what these files hold is personal data (or looks like it),
    written owner-only, and a nightly job's standard output goes to cron's mail and to logs.
    """

    def __init__(self) -> None:
        super().__init__(dir_okay=False, path_type=Path)

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and (problem := control_characters(value)):
            self.fail(f"it {problem}", param, ctx)
        if names_a_folder(value):
            self.fail(f"{value!r} ends in a path separator, so it names a folder: give a file's name", param, ctx)
        if value == "-":
            self.fail(
                "'-' would be a file named '-': personal data is written only to a file, owner-only, never to "
                "standard output (a job's output goes to logs and mail); give a file's name",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)


def check_output_ending(
    output: Path, written_as: str, setting: str = "to", *, chosen: bool = True, option: str = "'-o' / '--output'"
) -> None:
    """The library's refusal of an output whose name says another format (fs.check_output_ending), made before
    anything is read or sent and said as a usage error of `option` (exit 2), `setting` worded as its option
    (OPTIONS)."""
    try:
        output_ending_checked(output, written_as, setting, chosen=chosen)
    except ConfigError as exc:
        raise click.BadParameter(exc.worded(OPTIONS), param_hint=option) from None


class FolderPath(UserPath):
    """--state-dir, --report-dir: a folder. An empty value (`--state-dir "$STATE_DIR"` in a job script whose variable
    is unset) would be the current folder: a ledger beside the real one, or reports where nobody looks for them.

    `left_out`: what leaving the option out does, as the refusal of an empty one says it: the default folder, or for
    convert's --report-dir, no reports at all (review170 F3).
    """

    def __init__(self, left_out: str = "for the default") -> None:
        super().__init__(file_okay=False, path_type=Path)
        self.left_out = left_out

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, str) and not value.strip():
            self.fail(f"it is empty: name a folder, or leave the option out {self.left_out}", param, ctx)
        if isinstance(value, str) and (problem := control_characters(value)):
            self.fail(f"it {problem}", param, ctx)
        return super().convert(value, param, ctx)


def echo(message: str = "", *, err: bool = False) -> None:
    """One line out, its control characters escaped: a file name, or a code read from an extract, holding ESC would
    otherwise drive the terminal (click strips only colour codes, and only when the output is not a terminal)."""
    click.echo(printable(message), err=err)


def say_causes(report: ReportBuilder, *, err: bool = False) -> None:
    """After the summary line, one for each cause that reaches across an input (ReportBuilder.causes): a file opened
    in a spreadsheet and saved again, the one cause of most of its issues, which they say one value at a time
    (review151 F9); a user's field map whose sources no record has, or whose misspelling a record shows (review161
    F1), which leaves a field blank in every record."""
    for name, said in report.causes():
        echo(f"{name}: {said}", err=err)


def say_opening_in_excel(state: State, to: str) -> None:
    """After `convert` or `export` wrote a Register CSV (`to`), how to look at it in Excel (writers.OPENING_IN_EXCEL),
    not in a quiet job's log: the one line both say, from one place (review168 F6)."""
    if to == "register-csv":
        from register_batch.writers import OPENING_IN_EXCEL

        state.say(sentence(OPENING_IN_EXCEL))  # not a `note:`: those are about records


CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


# A line of a `\b` block (the examples) that starts a command: register-batch's, or one after an environment setting.
_COMMAND_LINE = re.compile(r"(register-batch |[A-Z][A-Z0-9_]*=)")


def _filled(text: str, width: int, indent: str) -> str:
    """`text` as lines of at most `width` characters, each after `indent`, broken at spaces only: never inside an
    option, path or value (`--as- / of`, `lost- / response:0.05`), which a reader who copies it would get wrong, and
    a word longer than the line overflows whole, for the terminal to wrap (review186 F4)."""
    import textwrap

    wrapper = textwrap.TextWrapper(
        width,
        initial_indent=indent,
        subsequent_indent=indent,
        replace_whitespace=False,
        break_on_hyphens=False,
        break_long_words=False,
    )
    return "\n".join(_outdented(line, width) for line in wrapper.wrap(text))


def _outdented(line: str, width: int) -> str:
    """`line` (with its indent) indented less if it is one word too long for its place but not for the line
    (emulator's `"500:0.05,…,lost-response:0.05"` beside its option at 80 columns), so that it ends at `width`, whole,
    rather than past the terminal's edge."""
    word = line.strip()
    return line if len(line) <= width or len(word) > width else f"{word:>{width}}"


def _kept(lines: list[str], width: int, indent: str) -> str:
    """A `\b` block's lines as written, but for a command's description: a command (and each line it continues on,
    after a `\\`) is copied whole, so it stays one line; a line deeper than the command before it that does not
    continue it is what the command does, prose, wrapped to `width` like any other (review186 F3: at 40 columns it
    was broken mid-word, as the first lines a new user reads)."""
    out: list[str] = []
    command_at: int | None = None  # the indent of the command the lines above belong to
    continued = False
    for line in lines:
        text = line.lstrip()
        depth = len(line) - len(text)
        if _COMMAND_LINE.match(text) or continued:
            command_at = depth if not continued else command_at
            out.append(f"{indent}{line}")
        elif command_at is not None and depth > command_at:
            out.append(_filled(text, width, indent + " " * depth))
        else:
            command_at = None
            out.append(f"{indent}{line}")
        continued = line.endswith("\\")
    return "\n".join(out)


def wrap_help(text: str, width: int, indent: str = "") -> str:
    """click's wrap_text with preserve_paragraphs (its paragraphs, each indented as its first line, and its `\b`
    blocks), but broken at spaces only (_filled), and with the examples' descriptions wrapped (_kept)."""
    paragraphs: list[tuple[int, bool, list[str]]] = []
    lines: list[str] = []
    depth = 0
    for line in [*text.expandtabs().splitlines(), ""]:
        if line:
            if not lines:
                depth = len(line) - len(line.lstrip())
                line = line.lstrip()
            lines.append(line)
        elif lines:
            raw = lines[0].strip() == "\b"
            paragraphs.append((depth, raw, lines[1:] if raw else lines))
            lines = []
    return "\n\n".join(
        _kept(lines, width, indent + " " * depth) if raw else _filled(" ".join(lines), width, indent + " " * depth)
        for depth, raw, lines in paragraphs
    )


class HelpFormatter(click.HelpFormatter):
    """`--help` as wide as the terminal, from 24 columns up to CONTEXT's 100. click lays help out 50 columns wide at
    the least, which a 40-column terminal (a screen magnifier's, very large type, a phone's SSH client) broke
    mid-word on nearly every line; below 60 columns each option's description goes under the option instead of in a
    column beside it, which the option column left a few characters wide (review181 F5). `\b` blocks (the examples)
    keep their command lines: a command is copied whole, not re-wrapped. Text is broken at spaces only (wrap_help)."""

    NARROWEST = 24
    STACKED_BELOW = 60

    def __init__(self, indent_increment: int = 2, width: int | None = None, max_width: int | None = None) -> None:
        if width is None and click.formatting.FORCED_WIDTH is None:  # click's test runner forces its width
            import shutil

            width = max(min(shutil.get_terminal_size().columns, max_width or 80) - 2, self.NARROWEST)
        super().__init__(indent_increment, width, max_width)

    @property
    def stacked(self) -> bool:
        """Whether a definition list's text goes under its term, not in a column beside it."""
        return self.width < self.STACKED_BELOW

    def write_text(self, text: str) -> None:
        self.write(wrap_help(text, self.width, " " * self.current_indent))
        self.write("\n")

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        if not self.stacked:
            self._write_columns(rows, col_max, col_spacing)
            return
        under = self.current_indent + 2 * self.indent_increment
        for term, text in rows:
            # A choice's list (`--format [auto|hesa-xml|...]`) breaks after a bar, not mid-word.
            *barred, last = term.split("|")
            lines = [""]
            for piece in [f"{choice}|" for choice in barred] + [last]:
                if lines[-1] and len(lines[-1]) + len(piece) > self.width - under:
                    lines.append("")
                lines[-1] += piece
            self.write(f"{'':>{self.current_indent}}{lines[0]}\n")
            for line in lines[1:]:
                self.write(f"{'':>{under}}{line}\n")
            if text:
                self.write(wrap_help(text, max(self.width, under + 10), " " * under))
                self.write("\n")

    def _write_columns(self, rows: list[tuple[str, str]], col_max: int, col_spacing: int) -> None:
        """click's write_dl, the text in a column beside the terms, wrapped by wrap_help."""
        first_col = min(max((len(term) for term, _ in rows), default=0), col_max) + col_spacing
        for term, text in rows:
            self.write(f"{'':>{self.current_indent}}{term}")
            if not text:
                self.write("\n")
                continue
            if len(term) <= first_col - col_spacing:
                self.write(" " * (first_col - len(term)))
            else:
                self.write("\n")
                self.write(" " * (first_col + self.current_indent))
            lines = wrap_help(text, max(self.width - first_col - 2, 10)).splitlines() or [""]
            self.write(f"{lines[0]}\n")
            for line in lines[1:]:
                self.write(_outdented(" " * (first_col + self.current_indent) + line, self.width) + "\n")

    def getvalue(self) -> str:
        # click ends a usage line it breaks with a space: one column too many, an empty line in a terminal that width
        return "\n".join(line.rstrip() for line in super().getvalue().split("\n"))


class HelpContext(click.Context):
    formatter_class = HelpFormatter


class HelpCommand(click.Command):
    """A command whose `--help` is laid out by HelpFormatter (Commands' subcommands are made so)."""

    context_class = HelpContext


class State:
    """What the group options set for every command."""

    def __init__(self, config: Path | None, quiet: bool):
        self.config = config
        self.quiet = quiet  # (-v sets the logging level once, in cli(): nothing after reads it)
        # Whom a sync or export runs for, as its Target: and summary lines say it (`running_for`); None before then,
        # or when neither a UKPRN nor a settings file says.
        self.run_for: str | None = None
        # This run's wording of the phrases its errors name (OPTIONS' for the command line, `running_for`'s for one
        # run): where its token came from, whom the run was for.
        self.wording: dict[str, str] = {}

    def running_for(self, settings: Settings) -> None:
        """Note whom a sync or export runs for and where its token comes from, for its Target: line, summary line and
        errors: a host running several providers into one log, each with its own settings file and token, could not
        tell which provider's run a line was, nor which token Register refused (review183 F1, F2). Warns when an
        exported REGISTER_API_TOKEN is sent in place of the settings file's token_file. Never shows the token."""
        from register_batch.api.client import BLOCKED_MACHINE
        from register_batch.config import (
            overridden_token_file,
            overriding_variable,
            shown_path,
            token_file_to_use,
            token_source,
        )

        shown_file = shown_path(settings.config_file)
        if settings.ukprn:
            self.run_for = f"provider {settings.ukprn}" + (f" ({shown_file})" if shown_file else "")
        else:
            self.run_for = f"the settings of {shown_file}" if shown_file else None
        self.wording = {"refused_machine": f"{BLOCKED_MACHINE} in the run for {self.run_for}"} if self.run_for else {}
        if shown_file:  # the settings file read, not the default's name (review193 F3)
            self.wording["where_given"] = f" (--ukprn, {shown_file} or $REGISTER_BATCH_UKPRN)"
        self._say_overridden(settings)
        variable = overriding_variable(settings)
        if (overridden := overridden_token_file(settings)) is not None:
            logging.getLogger("register_batch.config").warning(
                "%s overrides %s: the token sent is the environment's (unset %s to send the file's)",
                variable,
                overridden,
                variable,
            )
        if (source := token_source(settings)) is not None:
            put = (
                f"in {shown_path(token_file)}"
                if (token_file := token_file_to_use(settings))
                else "in $REGISTER_API_TOKEN"
            )
            if overridden is not None:
                put += f", or unset {variable} to send the one of {overridden}"
            put = masked_path_words(put)  # a token file named after its token: as token_source (review217 F3)
            self.wording |= {
                "the_token": f"the API token from {source}",  # another provider's (UKPRN checks)
                "refused_token": f"the API token from {source}"
                + (f", sent for {self.run_for}" if self.run_for else ""),
                "active_token": f"an active token of this service {put}",  # where a good one goes
            }
        # Each is put in a message's template, and is a template in its turn: the braces of a path in it
        # (`secrets/{ukprn}`, `prov{b.toml`) are the path's, not a setting's place (review188 F1).
        self.wording = {key: literal(value) for key, value in self.wording.items()}

    def _say_overridden(self, settings: Settings) -> None:
        """Warn of each setting an environment variable gives another value than the settings file does, as for the
        token's (review212 F4): REGISTER_BATCH_REPORT_DIR left exported put five providers' reports in one folder,
        REGISTER_BATCH_STATE_DIR their ledgers in one state dir, without a word. The state dir's source is also said
        by the refusal of a state dir bound to another provider (`state_dir_given`)."""
        from register_batch.config import ENVIRONMENT, masked_url, shown_path

        shown_file = shown_path(settings.config_file)
        now = {
            "target": masked_url(settings.target),
            "state_dir": str(settings.state_dir),
            "report_dir": str(settings.report_dir),
            "ukprn": settings.ukprn,
        }
        for key, in_file in settings.overridden.items():
            variable = ENVIRONMENT[key]
            logging.getLogger("register_batch.config").warning(
                "%s overrides %s %s in %s: this run's is %s (unset %s for the settings file's)",
                variable,
                key,
                in_file,
                shown_file,
                now[key],
                variable,
            )
        given = settings.set_by("state_dir")  # --state-dir, $REGISTER_BATCH_STATE_DIR, the settings file or default
        if given == shown_file:  # set_by shows the settings file's path as shown_path does
            given = f"state_dir in {shown_file}"
        elif "state_dir" in settings.overridden:
            given += f", overriding state_dir {settings.overridden['state_dir']} in {shown_file}"
        if given != "default":
            self.wording["state_dir_given"] = f" (set by {given})"

    def settings(self, **options: Any) -> Settings:
        return load_settings(options, config_file=self.config)

    def progress(self) -> Progress:
        return Progress(enabled=not self.quiet)

    def say(self, message: str = "", *, err: bool = False) -> None:
        if not self.quiet or err:
            echo(message, err=err)

    def token_listed_under(self, ukprn: str | None) -> None:
        """Add the UKPRN Register listed the token's trainees under to whom a run with settings but no `ukprn` was for
        (`running_for`), for its summary line: "for the settings of FILE" named no provider, and a token_file naming
        another provider's token went unseen in the log (review212 F1)."""
        if ukprn and self.run_for and self.run_for.startswith("the settings of "):
            self.run_for += f", a token Register lists under {ukprn}"

    def say_report(self, paths: Mapping[str, Path]) -> None:
        """The `Report:` line, after the summary, on standard output, -q or not: a quiet job's log said nothing of
        where its report went, a folder named for the time the run started (review156 F6)."""
        echo(f"Report: {paths.get('html', paths['json'])}")

    def say_target(self, where: Target) -> None:
        """The `Target:` line, and whom the run is for (`running_for`): three providers' nightly runs into one log
        each said the same `Target: https://...` (review183 F2). The embedded emulator is named even with -q (then on
        stderr): design.md wants it said, and a quiet nightly job whose settings file went missing must not sync into
        a local emulator without a word."""
        line = f"Target: {where.label}" + (f" for {self.run_for}" if self.run_for else "")
        if self.quiet and where.embedded:
            echo(line, err=True)
        else:
            self.say(line)

    def for_whom(self, summary: str) -> str:
        """A summary line with whom the run was for after it (`running_for`), so that the interleaved lines of runs
        for several providers in one log can be told apart (review183 F2). Also the line a run stopped or Register
        out of reach ends with, which is that run's summary line (review188 F2)."""
        if not self.run_for:
            return summary
        return f"{summary}{' ' if summary.endswith('.') else '. '}For {self.run_for}."

    @staticmethod
    def with_run(line: str, run_id: int | None) -> str:
        """A sync's summary or error line with the ledger's run it was after it, and when (in UTC, as the WARNING
        lines are stamped): the log, the report (`sync.run_id`) and the state dir's `runs` row name the same run,
        and a night with no report is found in the ledger by its line (review208 F6). As it is without a run row."""
        from register_batch.progress import utc_stamp

        if run_id is None:
            return line
        return f"{line}{' ' if line.endswith('.') else '. '}Ledger run {run_id}, {utc_stamp(time.time())}."

    def say_rate(self, target: str | None, limits: tuple[int, float]) -> None:
        """A note when the pacing asked for is over what Register allows (100 requests per IP in a 60-second window,
        register-api.md §1.3): the run still works, but spends its time waiting out 429 answers. A rate within it on
        average keeps to Register's 100 in any 60 s whatever its window (api/limiter.py, review103 F1): no note."""
        from register_batch.api import TARGETS, resolve_target
        from register_batch.api.limiter import within_registers_limit

        count, seconds = limits
        if within_registers_limit(count, seconds):
            return
        if target and resolve_target(target) in TARGETS.values():
            self.say(
                f"note: rate {count}/{seconds:g} is over Register's 100 requests a minute: expect waits for its 429 "
                "answers (the default 95/60 leaves room for nothing else using Register from this machine)",
                err=True,
            )
        elif not target:
            # The embedded emulator keeps Register's limit, so that a rehearsal takes as long as the upload will
            # (review76 F6: a faster --rate met its 429s without a word).
            self.say(
                f"note: rate {count}/{seconds:g} is over the embedded emulator's 100 requests a minute (it keeps "
                "Register's limit): expect waits for its 429 answers; to rehearse faster, start `register-batch "
                "emulator --rate-limit 0` and give its URL with --target (docs/migration.md, step 4)",
                err=True,
            )

    def say_leftovers(self, leftovers: list[Path], command: str) -> None:
        """Name the temporary files a killed run of `command` (export, convert) left beside the output just written
        (leftover_temporaries): personal data nobody would otherwise find."""
        article = "an" if command[0] in "aeiou" else "a"
        for path in leftovers:
            self.say(
                f"note: {path} is part of {article} {command} to this name that was stopped before it finished "
                f"(killed, or the machine stopped): it holds personal data; delete it unless another {command} to "
                "this name is running",
                err=True,
            )

    def say_stale_parts(self, stale: list[Path]) -> None:
        """Name the files numbered as further parts of an output just written (RegisterCsvWriter.close())."""
        for path in stale:
            self.say(
                f"note: {path} is also there, numbered as a further part of this output: if an earlier, longer "
                "output left it, delete it before uploading these files",
                err=True,
            )


pass_state = click.make_pass_decorator(State)


class GoneQuietly(DropWhenGone):
    """stdout or stderr whose reader has gone: a pipe closed (`| head` that has read its line, a `| tee` that died:
    EPIPE) or a terminal hung up (an SSH session dropped: EIO); or a file with no room left (`>> sync.log` on a full
    disk: ENOSPC). What is written from then on goes nowhere, so the command carries on to its end: a sync writes
    its reports and ledger, and exits with its own code, not 0 (the pipe), a traceback's 1 (the terminal) or 70 (an
    internal error, the disk). Standard output lost for want of room is said once on standard error, which may go
    elsewhere (a closed pipe is `| head`'s normal end, and says nothing). The file descriptor is pointed at the null
    device as well, so that Python's own flush at exit does not fail again (exit 120): the command's own process,
    unlike a library caller's (whose progress only drops what it cannot show, progress.DropWhenGone).

    Its `buffer` (the bytes beneath, which click writes to when the text stream's encoding cannot say everything:
    `PYTHONIOENCODING=ascii`) is guarded the same way, as part of it."""

    def __init__(self, stream: Any, name: str = "output", whole: GoneQuietly | None = None):
        super().__init__(stream)
        self._name = name
        self._whole = whole  # the text stream a `buffer` belongs to: one stream, gone at once
        self.is_result = False  # stdout is what the command is run for (result_on_stdout)
        self.no_room = False  # lost for want of room (a full disk)

    @property
    def gone(self) -> bool:
        return self._whole.gone if self._whole is not None else self._gone

    @property
    def buffer(self) -> GoneQuietly:
        return GoneQuietly(self._stream.buffer, self._name, self._whole or self)

    def _lost(self, exc: OSError) -> None:
        if self._whole is not None:
            self._whole._lost(exc)
            return
        super()._lost(exc)  # raises unless the output cannot be written any more
        self.no_room = exc.errno in NO_ROOM
        if self.no_room and self._name == "stdout" and not self.is_result:  # else main() says it, as an error
            sys.stderr.write(
                f"register-batch: warning: standard output could not be written ({exc.strerror}); the rest "
                "of it is dropped\n"
            )
        try:
            null = os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, self._stream.fileno())
            finally:
                os.close(null)
        except (OSError, ValueError, AttributeError):  # a stream with no descriptor (an IDE's, a notebook's)
            pass


def result_on_stdout() -> None:
    """Mark standard output as what the command is run for (a listing, JSON a script reads), not news of work done
    elsewhere (a sync's reports): lost to a full disk, the command then ends with exit 2 and says so, not 0 with half
    of it written (`config show --json > settings.json`: review37 F3). A library caller's stdout is left alone."""
    if isinstance(sys.stdout, GoneQuietly):
        sys.stdout.is_result = True


def result_lost() -> bool:
    """Whether standard output, marked as the command's result, could not all be written for want of room (it is
    flushed first: a short listing is still in its buffer when the command returns)."""
    out = sys.stdout
    if not isinstance(out, GoneQuietly) or not out.is_result:
        return False
    out.flush()
    return out.no_room


def guard_output() -> None:
    """Make stdout and stderr `GoneQuietly` (the console entry point, before anything is written), each writing what
    its encoding lacks as an escape (`\u540d`): Windows writes redirected output (`sync x.xml > sync.log`) in its
    ANSI code page, a server may have a Latin-1 locale, and a name or path that code page cannot hold ended the
    command as an internal error (exit 70), a sync after it had written its trainees."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is not None and not isinstance(stream, GoneQuietly):
            if isinstance(stream, io.TextIOWrapper) and stream.errors == "strict":
                stream.reconfigure(errors="backslashreplace")
            setattr(sys, name, GoneQuietly(stream, name))


class OutcomeHeld:
    """The stop signals once a command's outcome is decided: from `hold` (the library call has returned, or raised)
    to `release`, Ctrl-C, SIGTERM and SIGHUP change nothing, while the command lets go of its target (the embedded
    emulator stopping, its state dir's lock), prints its summary and exits with the run's own code. A finished sync
    is not reported interrupted, a stopped one keeps its summary, an export that wrote its file exits 0
    (docs/exit-codes.md; review119 F4). `sync_files` holds them so while it lets go of its ledger (StopSignals)."""

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}

    def _ignore(self, signum: int, _frame: Any) -> None:
        logging.getLogger("register_batch").debug(
            "%s once the outcome was decided: it stands", signal.Signals(signum).name
        )

    def hold(self) -> None:
        """From now on the stop signals are noted, not acted on (on the main thread only, where handlers go). One
        ignored (a background job's SIGINT, `nohup`'s SIGHUP) or handled outside Python stays as it is."""
        if self._previous or threading.current_thread() is not threading.main_thread():
            return
        wanted = (signal.SIGINT, signal.SIGTERM, getattr(signal, "SIGHUP", None))
        signals = [sig for sig in wanted if sig is not None and signal.getsignal(sig) not in (signal.SIG_IGN, None)]
        self._previous = {sig: signal.signal(sig, self._ignore) for sig in signals}

    def release(self) -> None:
        """The handlers `hold` replaced, back (a signal pending meanwhile is still this one's to note)."""
        previous, self._previous = self._previous, {}
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Failure(click.ClickException):
    """A library error shown as one line; the exit code comes from the error."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        # click (after 8.2.0) declares exit_code a ClassVar, but reads it off the exception raised: this instance's
        # own is the one used (one class for every library error's code).
        self.exit_code = exit_code  # type: ignore[misc,unused-ignore]

    def show(self, file: Any = None) -> None:
        echo(f"register-batch: {self.message}", err=True)


# How the command line words a setting (or a phrase about one) that a library error names as the library takes it.
OPTIONS = {
    "academic_cycle": "--academic-cycle",
    "active_token": "an active token of this service with REGISTER_API_TOKEN or --token-file",
    "api_version": "--api-version",
    "as_of": "--as-of",
    "count": "--count",
    "defects": "--defects",
    "deferred": "--deferred",
    "fmt": "--format",
    "mapping_files": "--mapping FILE",
    "output": "-o",
    "report_dir": "--report-dir",
    "since": "--since",
    "state_dir": "--state-dir",
    "to": "--to",
    "token_goes": "in REGISTER_API_TOKEN or a --token-file",
    "truth": "--truth",
    "truth_file": "--truth FILE",
    "ukprn": "--ukprn",
    "vintage": "--vintage",
    "withdrawn": "--withdrawn",
    "where_given": " (--ukprn, register-batch.toml or $REGISTER_BATCH_UKPRN)",
    "emulator_ukprn": "`register-batch emulator`: start it with --ukprn {records_of}",
    # The no-ledger warning's other state dir (sync/runner.py, errors.Worded): the default is the command line's.
    # Its older_state_dir: where an older build kept the ledger by default, when it holds one (review195 F1).
    "earlier_state_dir": "state dir (--state-dir, state_dir in register-batch.toml; by default {default_state_dir} in "
    "the folder the command runs in{older_state_dir})",
    "token_given": " with REGISTER_API_TOKEN or --token-file",
}


class Commands(click.Group):
    """Runs a command; library errors become one line and an exit code, never a traceback."""

    context_class = HelpContext
    command_class = HelpCommand

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        if not (isinstance(formatter, HelpFormatter) and formatter.stacked):
            super().format_commands(ctx, formatter)
            return
        # click cuts each summary to fit a column beside the longest name (`Settings:...` at 40 columns, `...` at
        # 24): under its name, a summary has lines of its own, and is said whole (review186 F2).
        commands = [(name, command) for name in self.list_commands(ctx) for command in [self.get_command(ctx, name)]]
        rows = [
            (name, command.get_short_help_str(1000)) for name, command in commands if command and not command.hidden
        ]
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)

    def make_context(
        self, info_name: str | None, args: list[str], parent: click.Context | None = None, **extra: Any
    ) -> click.Context:
        # Not while the shell completes a word (resilient parsing): a refusal there is a traceback in the terminal.
        if parent is None and not extra.get("resilient_parsing") and (refusal := token_argument(args)) is not None:
            raise click.UsageError(refusal)  # before click reads the arguments: its errors repeat a value
        return super().make_context(info_name, args, parent, **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except RegisterBatchError as exc:
            # A sync stopped by Ctrl-C or a signal reads as one stopped before it began ("interrupted; ..."), not as
            # an error; one stopped by an outage or a refused token begins with the error and keeps the label.
            label = "" if isinstance(exc, Interrupted) and exc.by == "signal" else "error: "
            state = ctx.find_object(State)  # this run's wording: where its token came from (State.running_for)
            wording = {**OPTIONS, **(state.wording if state is not None else {})}
            line = exc.worded(wording)
            if state is not None and f"for {state.run_for}" not in line:
                # Stopped part-way, Register out of reach: whose run, as its summary line would have said; a SIGTERM
                # stops every provider's run at once, into one log (review188 F2). A 403 says it already. So does an
                # exit 2 once the run's settings are read (a bad extract, an unreadable token file, a state dir in
                # use): a shared log, -q's without its Target: line, could not tell whose it was (review212 F5).
                line = state.for_whom(line)
            if state is not None:
                line = state.with_run(line, exc.run_id)
            raise Failure(f"{label}{line}", exc.exit_code) from None
        except click.NoSuchOption as exc:
            own = {name: param for param in self.params for name in (*param.opts, *param.secondary_opts)}
            param = own.get(exc.option_name)
            if ctx.parent is None and isinstance(param, click.Option) and param.expose_value and ctx.invoked_subcommand:
                # `register-batch sync x.xml -q`: the way people write options, refused with no word of why.
                given = exc.option_name
                if not (param.is_flag or param.count):
                    given += f" {param.metavar or (param.name or '').upper()}"
                raise click.UsageError(
                    f"{exc.option_name} is an option of register-batch itself: give it before the command "
                    f"(register-batch {given} {ctx.invoked_subcommand} ...)",
                    exc.ctx,
                ) from None
            raise
        except KeyboardInterrupt:
            state = ctx.find_object(State)
            whom = state.for_whom if state is not None else str
            if ctx.invoked_subcommand == "sync":
                raise Failure(whom("interrupted; run the same command again to resume"), 3) from None
            raise Failure(whom("interrupted; run the same command again (it starts over)"), 3) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as exc:  # the last line of defence: one line, no traceback unless -vv
            if isinstance(exc, OSError) and exc.errno == errno.ENAMETOOLONG:
                # A name given (an extract, a settings file) longer than the file system takes: the user's to
                # change, not a bug. One where register-batch writes is the library's UnwritableOutput (fs.py).
                raise Failure(f"error: {cut_short(os.fsdecode(exc.filename or ''))}: {NAME_TOO_LONG}", 2) from None
            if logging.getLogger().isEnabledFor(logging.DEBUG):
                traceback.print_exc()
            raise Failure(f"internal error ({type(exc).__name__}: {exc}); rerun with -vv for details", 70) from None


# Options taking a token on purpose (`emulator --token`), or refusing one with words of their own: --token-file's
# says to name a file holding the token (sync/target.py), --target's where a token goes (api/client.py).
_TAKE_A_TOKEN = ("--token", "--token-file", "--target")


def token_argument(args: list[str]) -> str | None:
    """Why the command line cannot be run when one of its arguments holds an API token of Register's shape (where a
    file, folder, date or number goes: `sync extract.xml $TOKEN`), never showing it; None when none does. A file or
    folder of that name that is there is refused too: every line naming it would show the token."""
    for before, arg in zip(["", *args], args, strict=False):
        if arg.startswith("--") and "=" in arg:  # --since=VALUE
            option, _, value = arg.partition("=")
            where = f"{option}'s value"
        elif arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:  # -oVALUE, a short option's
            option, value = arg[:2], arg[2:]
            where = f"{option}'s value"
        elif arg.startswith("--") and len(arg) > 2:  # --token-fileVALUE, the space left out: click's "No such option"
            if (length := registers_token_in(arg, glued=True)) is not None:  # showed it whole
                return f"an option's name {TOKEN_AS_ARGUMENT.format(length=length)}"
            continue
        else:  # after an option, which takes it or is a flag (--dry-run): said as what follows it
            named = before.startswith("-") and before not in ("-", "--") and "=" not in before
            option, value = (before if named else ""), arg
            where = f"the argument after {before}" if named else "an argument"
        if option not in _TAKE_A_TOKEN and (length := registers_token_in(value)) is not None:
            return f"{where} {TOKEN_AS_ARGUMENT.format(length=length)}"
    return None


# The years `--as-of` takes, as `--academic-cycle` takes 2000-2100: the age rules count 100 years back from it, and a
# year before 100 (0026-12-07, a script's zero-padded two-digit year) made that an internal error (review211 F5).
AS_OF_YEARS = (1900, 2100)


def _as_of(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-28") from None
    if not AS_OF_YEARS[0] <= day.year <= AS_OF_YEARS[1]:
        low, high = AS_OF_YEARS
        raise click.BadParameter(f"{value!r} is not a date from {low} to {high}, like 2026-11-28")
    return day


def _report_dir(settings: Settings, given: Path | None, command: str, at: datetime | None = None) -> Path:
    """The folder a run's reports go to: as given, or a new `<command>-<time>` folder that no run shares, made now
    (`-2`, `-3`, ... for a run started in the same second) and removed again if the command ends without writing to
    it. The time is UTC: `at` (a sync's start, as its report and ledger row say it), else now."""
    if given is not None:
        return given
    # UTC, marked Z: names sort in the order runs started whatever TZ each ran under (review60 F3).
    stamp = (at or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%d-%H%M%SZ")
    folder, made = claim_new_dir(settings.report_dir / f"{command}-{stamp}")
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(lambda: remove_empty_dirs(made))
    return folder


def _reference_path(settings: Settings) -> Path | None:
    """The settings' state dir's pulled lists, as `sync_files` reads its state dir's by itself (validate and convert
    take no state dir)."""
    from register_batch.reference.pull import pulled_lists

    return pulled_lists(settings.state_dir)


format_option = click.option(
    "--format",
    "fmt",
    type=click.Choice(["auto", *FORMATS]),
    default="auto",
    show_default=True,
    help="Input format; auto detects it from each file's content.",
)
mapping_option = click.option(
    "--mapping",
    "mappings",
    type=UserPath(dir_okay=False, path_type=Path),
    multiple=True,
    help="A mapping file (YAML) layered over the bundled ones; repeat for several.",
)
_Command = TypeVar("_Command", bound=Callable[..., Any])


def as_of_option_saying(help_text: str) -> Callable[[_Command], _Command]:
    """`--as-of`, with a command's own help (sync's says Register judges by today whatever it says)."""
    return click.option("--as-of", callback=_as_of, metavar="YYYY-MM-DD", help=help_text)


as_of_option = as_of_option_saying(
    "Judge date rules as of this day instead of today (today in UTC, as Register counts days)."
)


def _ukprn_option(command: str, does: str) -> Callable[[_Command], _Command]:
    """--ukprn, as each command uses it: what the UKPRN is to that command (UKPRN_OF, as the refusal of an empty one
    says it too) and what it `does` there."""
    return click.option(
        "--ukprn",
        default=None,
        metavar="UKPRN",
        help=f"The UKPRN of {UKPRN_OF[command]} (or `ukprn` in register-batch.toml): {does} Without it, each record "
        "of inputs holding several providers' records is an error (several_providers).",
    )


# One help each: validate and convert send nothing and take no token (a token said in theirs puzzled a new user).
ukprn_option = _ukprn_option(
    "sync",
    "records whose F_UKPRN is another provider's are errors, and sync stops if Register lists the token's trainees "
    "under another UKPRN.",
)
validate_ukprn_option = _ukprn_option(
    "validate",
    "records whose F_UKPRN is another provider's are errors (other_provider_record), as sync with that --ukprn would "
    "hold them back.",
)
convert_ukprn_option = _ukprn_option(
    "convert",
    "records whose F_UKPRN is another provider's are errors (other_provider_record), always left out of the output, "
    "which holds no UKPRN: convert them with their own provider's --ukprn.",
)


def timeout_option(more: str = "") -> Callable[[_Command], _Command]:
    """--timeout, as every command that talks to Register takes it; `more` adds the command's own advice."""
    return click.option(
        "--timeout",
        type=click.FloatRange(1, 600),
        default=30.0,
        show_default=True,
        help="Seconds to wait for Register to answer, and between the parts of an answer; a whole answer may take "
        f"five times this{more}.",
    )


api_version_option = click.option(
    "--api-version",
    default=None,
    metavar="VERSION",
    help=f"Register API version (default {API_VERSION}).",
)
