"""YAML where a plain scalar is always the text written: for code lists and mapping files.

Codes are text in Register (register-api.md §2.2; hesa-formats.md §1.4 "codes are zero-padded strings"), but YAML 1.1
resolves unquoted `NO`/`YES`/`ON`/`OFF` to booleans, `01`/`0x1F`/`1:30` to integers, `1e3`/`0.5` to floats and
`NULL`/`~` to null. Here only an empty value is null, and `<<` merge keys still merge (the bundled mapping files
reuse blocks with anchors). The few numbers a file holds are converted where they are read.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
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
