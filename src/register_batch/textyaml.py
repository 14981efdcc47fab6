"""YAML where a plain scalar is always the text written: for code lists and mapping files.

Codes are text in Register (register-api.md §2.2; hesa-formats.md §1.4 "codes are zero-padded strings"), but YAML 1.1
resolves unquoted `NO`/`YES`/`ON`/`OFF` to booleans, `01`/`0x1F`/`1:30` to integers, `1e3`/`0.5` to floats and
`NULL`/`~` to null. Here only an empty value is null, and `<<` merge keys still merge (the bundled mapping files
reuse blocks with anchors). The few numbers a file holds are converted where they are read.
"""

from __future__ import annotations

import re
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import yaml

if TYPE_CHECKING:  # CSafeLoader (libyaml's) exists only in a PyYAML built with libyaml; both load the same way
    _SafeLoader = yaml.SafeLoader
else:
    _SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class TextLoader(_SafeLoader):
    """Safe loading with every plain scalar as its text; only empty is null; `<<` merges."""


TextLoader.yaml_implicit_resolvers = {}
TextLoader.add_implicit_resolver("tag:yaml.org,2002:null", re.compile(r"^$"), [""])
TextLoader.add_implicit_resolver("tag:yaml.org,2002:merge", re.compile(r"^<<$"), ["<"])


class UniqueKeyTextLoader(TextLoader):
    """TextLoader that refuses a key written twice in one mapping (plain YAML keeps the last one silently).

    Keys brought in by a `<<` merge may be overridden, as YAML means them to be; only keys written in the mapping
    itself count.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for key_node, _value in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                    continue
                key = key_node.value
                if key in seen:
                    raise yaml.constructor.ConstructorError(
                        None,
                        None,
                        f"key {key!r} is written twice in the same section (first at line "
                        f"{seen[key].start_mark.line + 1}); keep one",
                        key_node.start_mark,
                    )
                seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


def load_text_yaml(source: Path | TextIO, *, unique_keys: bool = False) -> Any:
    """A YAML document with every scalar as written (see TextLoader); with unique_keys, a key twice is an error."""
    loader = UniqueKeyTextLoader if unique_keys else TextLoader
    if isinstance(source, Path):
        with source.open(encoding="utf-8") as fh:
            return yaml.load(fh, Loader=loader)
    return yaml.load(source, Loader=loader)


_INDEX = re.compile(r"\[(\d+)\]\.?")


def lines_of(text: str, key_paths: Sequence[str]) -> list[int | None]:
    """The line (from 1) each dotted key path (`fields.hesa.trainee.sex`, `codes.sex.translate.1[0]`) is written on
    in a YAML document: the way mapping files' messages name a place, so an editor can go to it. None for a path
    that does not lead through what is written (a key brought in by a `<<` merge), and for every path when the text
    is not YAML. The document is composed once for all of them (its nodes know their lines; values do not).

    A key may hold a dot itself (`codes.degrees_attributes.subject`): the longest key that fits is taken.
    """
    if not key_paths:
        return []
    root = composed(text)
    return [line_in(root, keys) for keys in key_paths]


def composed(text: str) -> yaml.Node | None:
    """The YAML document's nodes, for line_in (None when the text is not YAML)."""
    try:
        return yaml.compose(text, Loader=TextLoader)
    except yaml.YAMLError:
        return None


def line_in(node: yaml.Node | None, keys: str) -> int | None:
    """The line a dotted key path is written on in a composed document (lines_of)."""
    line = None
    rest = keys
    while rest:
        if isinstance(node, yaml.MappingNode):
            fitting = [
                (key, value)
                for key, value in node.value
                if isinstance(key, yaml.ScalarNode)
                and rest.startswith(key.value)
                and rest[len(key.value) : len(key.value) + 1] in ("", ".", "[")
            ]
            if not fitting:
                return None
            key, node = max(fitting, key=lambda pair: len(pair[0].value))
            line = key.start_mark.line + 1
            rest = rest[len(key.value) :].removeprefix(".")
        elif isinstance(node, yaml.SequenceNode) and (index := _INDEX.match(rest)):
            if int(index[1]) >= len(node.value):
                return None
            node = node.value[int(index[1])]
            line = node.start_mark.line + 1
            rest = rest[index.end() :]
        else:
            return None
    return line
