"""`register-batch config show`: the effective settings and where each came from, token masked."""

from __future__ import annotations

import os

import click

from register_batch.commands.common import CONTEXT, Commands, State, echo, pass_state, result_on_stdout


@click.group(cls=Commands, context_settings=CONTEXT)
def config() -> None:
    """Settings: register-batch.toml, environment variables and their precedence."""


@config.command("show", context_settings=CONTEXT)
@click.option("--json", "as_json", is_flag=True, help="Print the settings as JSON.")
@pass_state
def config_show(state: State, as_json: bool) -> None:
    """Print the effective settings (command line > environment > register-batch.toml > defaults).

    The API token is shown only as present or absent, never its value.
    """
    result_on_stdout()
    import json

    from register_batch.config import shown_path, token_file_to_use
    from register_batch.errors import ConfigError
    from register_batch.sync.target import load_token

    settings = state.settings()
    values = settings.as_dict()  # a target's credentials masked
    problems = settings.problems()  # shown, not refused: this command is how people find them
    token_file = token_file_to_use(settings)
    try:
        token = load_token(token_file)
        values["token"] = "******** (set)" if token is not None else "(not set)"
    except ConfigError as exc:  # show the settings anyway: this command is how people find such problems
        token = None
        values["token"] = f"(unreadable: {exc})"
    from_environment = os.environ.get("REGISTER_API_TOKEN", "").strip()  # set, whether or not it can be used
    token_source = shown_path(token_file) if token_file else "$REGISTER_API_TOKEN" if from_environment else "none"
    # A settings file named after a token (its path is each of its settings' source): masked (review226 F1).
    sources = {**{key: shown_path(source) or "" for key, source in settings.sources.items()}, "token": token_source}
    config_file = shown_path(settings.config_file)
    if as_json:
        click.echo(
            json.dumps(
                {
                    "settings": values,
                    "sources": sources,
                    "problems": problems,
                    "config_file": config_file,
                },
                indent=1,
            )
        )
        return
    echo(f"Config file: {config_file or '(none: ./register-batch.toml not found)'}")
    for key, value in values.items():
        if value is None:
            shown = "embedded emulator" if key == "target" else "(none)"
        elif isinstance(value, list):  # the mapping files, in the order they apply
            shown = ", ".join(value) or "(none)"
        elif isinstance(value, bool):  # require_ukprn, as the settings file writes it
            shown = str(value).lower()
        else:
            shown = "(empty)" if value == "" else value
        echo(f"  {key:13} {shown!s:40} ({sources.get(key, 'default')})")
    for key, problem in problems.items():
        echo(f"Problem: {key}: {problem}")
