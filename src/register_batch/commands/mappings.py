"""`register-batch mappings check`: are the mapping files consistent with Register's code lists?"""

from __future__ import annotations

import sys
from collections.abc import Hashable, Sequence
from pathlib import Path

import click

from register_batch.commands.common import (
    CONTEXT,
    Commands,
    State,
    _reference_path,
    api_version_option,
    echo,
    format_option,
    mapping_option,
    pass_state,
    result_on_stdout,
)
from register_batch.wording import counted

# Distinct misspelt tags, or codes no list covers, listed at most (those in most records): an extract of 20,000 records
# each with its own made one line each, 20,000 on a terminal or in a CI log (review184 F6).
LISTED = 50


def _more(shown: int, found: Sequence[Hashable], what: str) -> str | None:
    """The line after a list cut to `shown` of `found` (each found one's sort key, as the list chose by): how many
    more, and where every one is (mappings check writes no file of its own). "Those found most often" only where the
    keys differ: all tied, the list is the first in its own order, not the most found (review189 F7)."""
    if len(found) <= shown:
        return None
    chosen = " (those found most often are listed)" if len(set(found)) > 1 else ""
    return (
        f"  … and {counted(len(found) - shown, f'more {what}')}{chosen}: `register-batch validate` names every one, "
        "in its issues.csv"
    )


@click.group(cls=Commands, context_settings=CONTEXT)
def mappings() -> None:
    """Mapping files: check their target codes against Register's lists."""


@mappings.command("check", context_settings=CONTEXT)
@click.argument("inputs", nargs=-1, metavar="[INPUT]...")
@mapping_option
@format_option
@api_version_option
@pass_state
def mappings_check(
    state: State, inputs: tuple[str, ...], mappings: tuple[Path, ...], fmt: str, api_version: str | None
) -> None:
    """Check that every code the mapping files translate to exists in the reference data.

    With INPUT files, also name every tag or column the field maps read that no record in them has, every
    HESA tag they misspell, and list the codes they contain that neither Register's lists nor any mapping
    cover. Exits 1 when a problem
    is found, 0 otherwise.
    """
    result_on_stdout()
    from register_batch.mapping import load_mapping
    from register_batch.mapping.check import (
        BundledTranslation,
        FirstSeen,
        MisspeltTag,
        check_mappings,
        uncovered_codes,
        unseen_sources,
    )
    from register_batch.reference import load_reference

    settings = state.settings(mappings=list(mappings), api_version=api_version)
    settings.check("api_version", "mappings")  # said with where it was set, as every command says it (review138 F1)
    config = load_mapping(tuple(settings.mappings))
    reference = load_reference(settings.api_version, _reference_path(settings))
    problems = check_mappings(config, reference)
    errors = [p for p in problems if p.severity == "error"]
    files = ", ".join(["bundled mappings", *config.files])
    translations = sum(len(block.translate) for block in config.codes)
    echo(
        f"Checked {counted(translations, 'code translation')} in {counted(len(config.codes), 'block')} ({files}) "
        f"against Register's code lists ({reference.source})."
    )
    for problem in problems:
        echo(f"{problem.severity}: {problem}")
    sources_seen: dict[str, int] = {}
    first_seen: dict[tuple[str, str], FirstSeen] = {}
    misspelt: dict[tuple[str, str], str] = {}
    tags: dict[tuple[str, str], MisspeltTag] = {}
    bundled: dict[tuple[str, str], BundledTranslation] = {}
    uncovered = (
        uncovered_codes(inputs, fmt, config, reference, sources_seen, first_seen, misspelt, tags, bundled)
        if inputs
        else {}
    )
    unseen = unseen_sources(config, sources_seen, misspelt) if inputs else []
    # A tag the extract misspells: "did you mean <F_NATION>?" (review171 F1). validate's warning (review173 F3), or
    # error for a withdrawal's or a deferral's tag (review177 F1), which fails the check as a source no record has
    # does: each is a value the extract holds that is not sent.
    # Errors first, then those in most records; each said in the order found
    listed = {
        id(tag) for tag in sorted(tags.values(), key=lambda tag: (tag.severity != "error", -tag.records))[:LISTED]
    }
    for tag in tags.values():
        if id(tag) in listed:
            echo(
                f"{tag.severity}: {tag.first.place(True)}: {tag.code}: {tag.message} ({counted(tag.records, 'record')})"
            )
    found_tags = [(tag.severity != "error", -tag.records) for tag in tags.values()]
    if (more := _more(LISTED, found_tags, "misspelt tag")) is not None:
        echo(more)
    for found in unseen:
        named = found.named
        written = " or ".join(named.names)
        correct = f"did you mean {found.near}? Correct the name" if found.near else "correct the name"
        echo(
            f"error: {named.place}: {named.key}: no record of the input has {written}{found.nor}, so the field is read "
            f"as blank for every record{found.but}; {correct}, or remove the entry"
        )
    if bundled:
        # Not a problem: what the bundled tables read the input's codes as, for the vendor to confirm (review209 F4).
        tally = f"{counted(len(bundled), 'code')}, {counted(sum(b.records for b in bundled.values()), 'occurrence')}"
        echo(
            f"Codes in the input that a bundled translation changed ({tally}): each is read as the legacy HESA code "
            "it names; if your SRS means something else by it, translate it in your mapping file:"
        )
        with_input = len(inputs) > 1 or len({b.first.input for b in bundled.values()}) > 1
        changed = sorted(bundled.items(), key=lambda item: (-item[1].records, item[0]))[:LISTED]
        for (field, code), translated in sorted(changed, key=lambda item: item[0]):
            echo(
                f"  {field}: '{code}' -> '{translated.to}' x{translated.records}, first at "
                f"{translated.first.place(with_input)} (the bundled {translated.named})"
            )
        if (more := _more(LISTED, [-b.records for b in bundled.values()], "code")) is not None:
            echo(more)
    if inputs:
        if uncovered:
            tally = f"{counted(len(uncovered), 'code')}, {counted(sum(uncovered.values()), 'occurrence')}"
            echo(f"Codes in the input that no list or mapping covers ({tally}):")
            with_input = len(inputs) > 1 or len({first.input for first in first_seen.values()}) > 1
            most = sorted(uncovered.items(), key=lambda item: (-item[1], item[0]))[:LISTED]
            for (field, code), count in sorted(most):
                first = first_seen[(field, code)]
                translation = config.translations_for(field)
                why = translation.no_translation.get(code) if translation else None
                if first.translated_to is not None:
                    said = (
                        f"; a mapping translates it to '{first.translated_to}', which Register does not take (see "
                        "the error above)"
                    )
                else:
                    said = f"  (known: {why})" if why else f"; {first.hint}" if first.hint else ""
                echo(f"  {field}: '{code}' x{count}, first at {first.place(with_input)}{said}")
            if (more := _more(LISTED, list(uncovered.values()), "code")) is not None:
                echo(more)
        else:
            echo("Every code in the input is in Register's lists or translated by a mapping.")
    if not [p for p in problems if p.severity != "note"] and not uncovered and not unseen and not tags:
        echo("No problems found.")
    sys.exit(1 if errors or uncovered or unseen or tags else 0)
