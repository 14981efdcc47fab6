"""Load and layer mapping files (field maps and code translations)."""

from __future__ import annotations

import copy
import errno
import fnmatch
import functools
import hashlib
import io
import os
import re
import reprlib
import stat
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from register_batch.errors import ConfigError, MappingError
from register_batch.fs import StrPath, path_list, read_at_most, repeated_file
from register_batch.model import DEFERRAL_FIELDS, DEGREE_FIELDS, HELD_WITHDRAWAL, TRAINEE_FIELDS, WITHDRAWAL_FIELDS
from register_batch.reference import DEGREE_CODE_FIELDS, DISABILITY_FIELDS, TRAINEE_CODE_FIELDS
from register_batch.resources import data_dir
from register_batch.textyaml import composed, line_in, lines_of, load_text_yaml
from register_batch.tokens import (
    TOKEN_AS_FILE,
    TOKEN_IN_MAPPING,
    refuse_token_named,
    registers_token_wrapped_in,
)

PROVIDER_FIELDS = ("ukprn",)  # read from a record, never sent: whose record it is

FAMILIES = ("hesa", "register-csv")
_DEGREE_SOURCE_FIELDS = (*DEGREE_FIELDS, "degree_type")


def bundled_mapping_dir() -> Path:
    return data_dir("mappings")


@dataclass(frozen=True)
class Alternative:
    to: str
    note: str | None
    when: dict[str, frozenset[str]]

    def tests(self) -> str:
        """Its `when` as a message says it: "itt_qualification_aim is 001 or 002 and study_mode is 01"."""
        return " and ".join(f"{field} is {_either(values)}" for field, values in sorted(self.when.items()))


def _either(values: frozenset[str]) -> str:
    ordered = sorted(values)
    return ordered[0] if len(ordered) == 1 else f"{', '.join(ordered[:-1])} or {ordered[-1]}"


@dataclass
class CodeTranslation:
    """Translations for one field pattern (`sex`, `disability*`, `degrees_attributes.uk_degree`)."""

    pattern: str
    source: str
    translate: dict[str, list[Alternative]] = field(default_factory=dict)
    no_translation: dict[str, str] = field(default_factory=dict)
    origin: str = ""
    sources: dict[str, str] = field(default_factory=dict)  # per code, when merged from several files
    bundled: bool = False  # from a bundled file, whose blocks are at its top (`sex:`), not under `codes:`
    blocks: dict[str, CodeTranslation] = field(default_factory=dict)  # per code, its block, when merged
    # The blocks merged into this one, the one that wins a code last (in_precedence); () for a block as written.
    parts: tuple[CodeTranslation, ...] = ()
    # Its codes by their folded form (near_key), made on the first invalid code that asks: the failure path only.
    _folded: dict[str, str] | None = field(default=None, init=False, repr=False, compare=False)
    # What validate's code_not_translated said of a (field, value), once each: kept with the translation it is about.
    notes: dict[tuple[str, str], str | None] = field(default_factory=dict, init=False, repr=False, compare=False)
    # The line each key path under `codes:` of a user's file is written on (`codes.sex.translate.M`), found when the
    # file is loaded (review213 F5: the translation warning read the file again, and a named pipe hung); empty for a
    # bundled block, and for a key a `<<` merge brought.
    lines: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    # Where each code's translation is written (place_of), made once a code: the translation warning names it.
    places: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False)

    def source_of(self, code: str) -> str:
        return self.sources.get(code, self.source)

    def block_of(self, code: str) -> CodeTranslation:
        """The block (of one file) that translates `code`: this one, unless merged from several."""
        return self.blocks.get(code, self)

    def key_of(self, code: str) -> str:
        """Where the code is written in its block's file: under `no_translation` or `translate`, of a block under
        `codes:` in a user's file, at the top of a bundled one."""
        kind = "no_translation" if code in self.no_translation else "translate"
        return f"{'' if self.bundled else 'codes.'}{self.pattern}.{kind}.{code}"

    def written_at(self, code: str) -> str | None:
        """`file:line` of a user's translation of `code` (the file alone where the line cannot be told: a `<<`
        merge's), as a message about what it made names it; None for a bundled one. From the lines found on loading:
        the file is not read again."""
        block = self.block_of(code)
        if block.bundled:
            return None
        line = block.line_of(block.key_of(code))
        return block.origin if line is None else f"{block.origin}:{line}"

    def place_of(self, code: str) -> str:
        """Where the code's translation is written, for the translation warning (review209 F6: its `source:` alone
        named it, and two files with the same `source:` read alike): `file:line` in a user's file, the bundled file's
        name for a bundled one. Made once a code (a dict lookup each record after)."""
        try:
            return self.places[code]
        except KeyError:
            block = self.block_of(code)
            place = self.places[code] = block.written_at(code) or block.origin
            return place

    def line_of(self, *keys: str) -> int | None:
        """The line the first of the key paths found is written on in this block's file (a user's: bundled blocks
        are not under `codes:`, and their file is the package's), None where none is."""
        return next((self.lines[key] for key in keys if key in self.lines), None)

    def applies_to(self, field_name: str) -> bool:
        return fnmatch.fnmatchcase(field_name, self.pattern)

    def users_block(self) -> CodeTranslation | None:
        """The user's block (of the last file given) that applies to the field, where a value it lacks is to be
        added; None where only bundled blocks apply."""
        return next((part for part in reversed(self.parts or (self,)) if not part.bundled), None)

    def near_key(self, value: str) -> str | None:
        """A code a user's block translates (or lists as untranslatable) that `value` differs from only in letter case
        or in Unicode form (`f` for `F`; `Côte` written decomposed, NFD, for the file's composed one, NFC): keys
        match as written, so `value` is not translated (review209 F5). None where there is none. The folded codes are
        made on the first value that asks: only an invalid code asks, never a clean record."""
        if self._folded is None:
            self._folded = {}
            for part in self.parts or (self,):
                if not part.bundled:
                    for code in (*part.translate, *part.no_translation):
                        self._folded.setdefault(_fold(code), code)
        near = self._folded.get(_fold(value))
        return near if near != value else None


def _fold(code: str) -> str:
    """A code without its letter case and Unicode form: NFC (composed accents) and case-folded."""
    return unicodedata.normalize("NFC", code).casefold()


@dataclass
class FieldMap:
    """Where each API field comes from in one family of inputs."""

    family: str
    trainee: dict[str, tuple[str, ...]]
    degree_group: str | None
    degree_fields: dict[str, tuple[str, ...]]
    placement_group: str | None
    placement_fields: dict[str, tuple[str, ...]]
    placement_columns: tuple[str, ...]
    withdrawal: dict[str, tuple[str, ...]]
    deferral: dict[str, tuple[str, ...]]
    provider: dict[str, tuple[str, ...]]  # `ukprn`: whose record it is (not sent; hesa-formats.md §5 item 11)
    vintages: list[tuple[str, tuple[str, ...], dict[str, tuple[str, ...]]]]
    known: frozenset[str]
    ignored: frozenset[str]
    template: tuple[str, ...]

    def source_names(self) -> set[str]:
        names = {source for sources in self.sources_by_field().values() for source in sources}
        names.update(self.placement_columns)
        return names

    def sources_by_field(self) -> dict[str, tuple[str, ...]]:
        """The sources (HESA tags, columns) each field is read from, every layout's, keyed as an issue names the field
        without its index (`degrees_attributes.subject`): report.html names them beside Register's field, for the
        person fixing the SRS, who knows the tag."""
        names: dict[str, tuple[str, ...]] = {}

        def add(key: str, sources: tuple[str, ...]) -> None:
            names[key] = tuple(dict.fromkeys((*names.get(key, ()), *sources)))

        for key, sources in self.trainee.items():
            add(key, sources)
        for _layout, _any_of, overrides in self.vintages:
            for key, sources in overrides.items():
                add(key, sources)
        for key, sources in self.degree_fields.items():  # the degree type is sent as a UK or a non-UK degree
            for sent in ("uk_degree", "non_uk_degree") if key == "degree_type" else (key,):
                add(f"degrees_attributes.{sent}", sources)
        for key, sources in self.placement_fields.items():
            add(f"placements_attributes.{key}", sources)
        for key, sources in self.withdrawal.items():  # an issue names withdrawal_reasons, the map `reasons`
            add(key if key.startswith("withdrawal_") else f"withdrawal_{key}", sources)
        for table in (self.deferral, self.provider):
            for key, sources in table.items():
                add(key, sources)
        return names


@dataclass(frozen=True)
class NamedSource:
    """A source name (or list of them) a user's field map reads a field from, for `mappings check INPUT`."""

    file: str
    family: str
    key: str  # fields.hesa.trainee.provider_trainee_id
    names: tuple[str, ...]  # as the readers hand them over (see _namer)
    group: str | None = None  # `degrees` or `placements` for a field of a group's rows; None: the record's own
    line: int | None = None  # where `key` is written in `file` (None: not as written, a `<<` merge's)

    @property
    def place(self) -> str:
        """`file:line`, as editors and terminals go to it; the file alone where the line is not known."""
        return self.file if self.line is None else f"{self.file}:{self.line}"


@dataclass
class MappingConfig:
    fields: dict[str, FieldMap]
    codes: list[CodeTranslation]
    files: list[str]
    sha256: list[str] = field(default_factory=list)  # of each of `files`, as read
    named_sources: list[NamedSource] = field(default_factory=list)
    bundled_codes: int = 0  # `codes` starts with this many bundled translations; the users' files' follow
    # The bundled field maps, before any user's file: whether a field is read from the bundled sources (HESA's own
    # tags) or from a user's (Mapper: a user's tag absent from a Student says nothing, review44 F2, review46 F3).
    bundled_fields: dict[str, FieldMap] = field(default_factory=dict)

    def translations_for(self, field_name: str) -> CodeTranslation | None:
        """Every translation that applies to the field, merged code by code: later (user) files win per code.

        A user's file that translates one more sex code keeps the bundled ones; to undo a bundled
        translation, map the code to itself.

        None for a field without a code list: a pattern (`course_*`, `*`) translates only the coded fields it
        matches, as `mappings check` checks only those (review117 F2: course_year NK was sent as 13918).
        """
        if field_name not in _CODED:
            return None
        found = in_precedence([t for t in self.codes if t.applies_to(field_name)], field_name)
        if not found:
            return None
        if len(found) == 1:
            return found[0]
        merged = CodeTranslation(
            pattern=field_name, source=found[-1].source, origin=found[-1].origin, parts=tuple(found)
        )
        for translation in found:
            for old, alternatives in translation.translate.items():
                merged.translate[old] = alternatives
                merged.no_translation.pop(old, None)
            for old, reason in translation.no_translation.items():
                merged.no_translation[old] = reason
                merged.translate.pop(old, None)
        # Each code keeps the source of the file it came from, for the warning's wording.
        merged.sources = {old: t.source for t in found for old in (*t.translate, *t.no_translation)}
        merged.blocks = {old: t for t in found for old in (*t.translate, *t.no_translation)}
        return merged


def in_precedence(blocks: list[CodeTranslation], field_name: str) -> list[CodeTranslation]:
    """The blocks that apply to a field, the one that wins a code last: files in the order given (the bundled first),
    and within a file a pattern block (`disability*`) before the block naming the field exactly (`disability1`),
    whatever their order in the file: the exception is written beside the general rule, in either order, as many
    formats allow (review209 F3: `disability1` written first was overridden by `disability*`, and only a note said so).
    Pattern blocks of one file keep the order they are written in."""
    files: dict[tuple[bool, str], int] = {}
    for block in blocks:
        files.setdefault((block.bundled, block.origin), len(files))
    return sorted(blocks, key=lambda block: (files[(block.bundled, block.origin)], block.pattern == field_name))


def code_list_for(field: str) -> str | None:
    """The reference list a mapped field's codes belong to (`disability*` and degree fields included)."""
    if field in TRAINEE_CODE_FIELDS:
        return TRAINEE_CODE_FIELDS[field]
    if field.startswith("disability"):
        return "disability"
    if field.startswith("degrees_attributes."):
        return DEGREE_CODE_FIELDS.get(field.split(".", 1)[1])
    return None


class TranslatedFirst:
    """Which `when` values of a coded field no record can hold when a `when` is looked at, from the mappings alone.

    Mapper._translate translates a field before any `when` testing it: a code with no `when` of its own first, and
    one with a `when` once the fields that `when` tests are translated. Where two test each other, the field map's
    order (which nobody sees) decides which goes first, and the other sees it translated (review218 F1). So a code
    whose every alternative translates it to another code, with a fallback (no `when`) for the records no `when`
    matches, is never seen as written, unless some translation of the field makes it (its target). A `when` on the
    block's own field sees its code as written, and is not asked about here.

    Each field's table is merged and read once (review218 F3: once per value took seconds for a subject table).
    """

    def __init__(self, config: MappingConfig) -> None:
        self.config = config
        self._tables: dict[str, CodeTranslation | None] = {}
        self._fields: dict[str, tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]] = {}

    def table(self, field_name: str) -> CodeTranslation | None:
        """The field's merged translation (MappingConfig.translations_for), made once."""
        if field_name not in self._tables:
            self._tables[field_name] = self.config.translations_for(field_name)
        return self._tables[field_name]

    def __call__(self, field_name: str, value: str) -> tuple[str, ...]:
        """The codes the mappings always make of `value` in `field_name` (the fallback's last); () where a `when` can
        see `value` as written: not translated, mapped to itself, untranslatable, made by another translation, or
        left as written where no `when` of its matches."""
        return self._changed(field_name)[0].get(value, ())

    def unless_unmatched(self, field_name: str, value: str) -> tuple[str, ...]:
        """The codes `when`s of its own make of `value`, where it has no fallback and no translation makes it: it is
        seen as written only where none of them matches, and a record with it then fails unless it is a Register
        code. () for any other value."""
        return self._changed(field_name)[1].get(value, ())

    def _changed(self, field_name: str) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
        changed = self._fields.get(field_name)
        if changed is None:
            changed = self._fields[field_name] = _always_changed(self.table(field_name))
        return changed

    def place_of(self, field_name: str, value: str) -> str:
        """Where the code is translated (`file:line`)."""
        found = self.table(field_name)
        return found.place_of(value) if found is not None else field_name


def _always_changed(
    found: CodeTranslation | None,
) -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """The codes of a merged table that no record keeps as written (TranslatedFirst), and those kept only where no
    `when` of theirs matches (no fallback), each with the codes made of it."""
    always: dict[str, tuple[str, ...]] = {}
    unless: dict[str, tuple[str, ...]] = {}
    if found is None:
        return always, unless
    targets = {alternative.to for alternatives in found.translate.values() for alternative in alternatives}
    for old, alternatives in found.translate.items():
        if old in targets:
            continue  # a record can hold it: made by a translation (itself included)
        fallback = next((alternative for alternative in alternatives if not alternative.when), None)
        made = [a.to for a in alternatives if a.when] + ([fallback.to] if fallback is not None else [])
        (unless if fallback is None else always)[old] = tuple(dict.fromkeys(made))
    return always, unless


def refuse_dead_tests(config: MappingConfig) -> TranslatedFirst:
    """Refuse (MappingError, exit 2, as a load error) an alternative of a user's file whose `when` tests a coded field
    for a value no record holds when that `when` is looked at (TranslatedFirst: an SRS's own `UGPL`, translated to
    `11`, or to `11` or `12` by `when`s of its own with a fallback), even beside values that can match (review218 F2):
    the `when` sees the translated code, and the fallback was sent without a word (review209 F2). Decided by the
    mappings alone, never by the code lists, so a file is refused alike wherever it is used (review213 F1, F2: a value
    missing from the lists in use is `mappings check`'s warning, never a refusal). Bundled blocks are not refused:
    their user cannot edit them. The first such value, in the order the files are given and written. Returns the
    tables it merged, for `mappings check` to use again."""
    first = TranslatedFirst(config)
    for translation in config.codes[config.bundled_codes :]:
        for old, alternatives in translation.translate.items():
            for index, alternative in enumerate(alternatives):
                for name, values in alternative.when.items():
                    if code_list_for(name) is None or translation.applies_to(name):
                        continue  # checked on loading (_a_value_of); its own field is seen as written
                    for value in sorted(values):
                        if made := first(name, value):
                            raise _dead_test(first, translation, old, index, name, value, made, alternative)
    return first


def when_at(translation: CodeTranslation, old: str, index: int, name: str) -> tuple[str, int | None]:
    """Where an alternative's `when` test of `name` is written: its key path (the alternatives written as a list, or
    the one alone) and its line in a user's file (None where it cannot be told)."""
    base = translation.key_of(old)
    keys = (f"{base}[{index}].when.{name}", f"{base}.when.{name}")
    for key in keys:
        if (line := translation.line_of(key)) is not None:
            return key, line
    return keys[1], None


def _dead_test(
    first: TranslatedFirst,
    translation: CodeTranslation,
    old: str,
    index: int,
    name: str,
    value: str,
    made: tuple[str, ...],
    alternative: Alternative,
) -> MappingError:
    """The refusal of a `when` value no record holds when it is looked at: where it is written (`file:line:
    key.path`), what translates the value, and the codes to test instead."""
    at, line = when_at(translation, old, index, name)
    place = translation.origin if line is None else f"{translation.origin}:{line}"
    codes = " or ".join(repr(to) for to in made)
    live = [other for other in sorted(alternative.when[name]) if not first(name, other)]
    rest = f" (the other values, {', '.join(map(repr, live))}, still match)" if live else ""
    found = first.table(name)
    back = found is not None and any(translation.applies_to(f) for a in found.translate[value] for f in a.when)
    mutual = (
        f"; {name}'s own `when` for {value!r} tests this field back, and of two `when`s that test each other one "
        "sees the other translated, whichever the field map reads first"
        if back
        else ""
    )
    return MappingError(
        f"{place}: {at}: never matches {value!r}{rest}: a `when` sees the record's other fields as Register gets "
        f"them, and {name} {value!r} is always translated before this `when` is looked at (to {codes} by "
        f"{first.place_of(name, value)}){mutual}; test {codes} instead",
        path=translation.origin,
        line=line,
    )


# A mapping file is a few KB (the bundled ones 20 KB at most); a full JACS-to-HECoS table for course and degree
# subjects, five thousand entries with notes, is 440 KB. Past this it is something else, the extract given in its
# place, say: loading takes about 75 times a file's size in memory (16 MB took 1.2 GB and 18 s; 2 MB takes under
# 200 MB and 2 s, review58 F7).
MAPPING_FILE_LIMIT = 2 << 20


def _read_yaml(path: Path) -> dict[str, Any]:
    return _read_yaml_hashed(path)[0]


def _read_yaml_hashed(path: Path) -> tuple[dict[str, Any], str, str]:
    """The document, the SHA-256 of the bytes it was read from (for the reports' record of the files used), and its
    text (for the line a mistake in it is on)."""
    try:
        data = read_at_most(path, MAPPING_FILE_LIMIT, "a mapping file")
        text = data.decode("utf-8")
        # Every scalar as written: codes are text, and YAML 1.1 would read NO as false and 01 as 1.
        doc = load_text_yaml(io.StringIO(text), unique_keys=True)
    except OSError as exc:
        raise ConfigError(_cannot_read(path, exc)) from None
    except UnicodeDecodeError as exc:  # saved as Windows-1252 ("ANSI") or UTF-16 ("Unicode")
        raise ConfigError(_not_utf8(path, data, exc)) from None
    except yaml.YAMLError as exc:
        raise ConfigError(_not_yaml(path, text, exc)) from None
    digest = hashlib.sha256(data).hexdigest()
    if doc is None:
        return {}, digest, text
    if not isinstance(doc, dict):
        raise ConfigError(f"{path}: a mapping file must be a YAML mapping at the top level")
    return doc, digest, text


def _holds_no_token(doc: dict[str, Any], path: Path, text: str) -> None:
    """Refuse a user's mapping file with an API token in any key or value, without showing it (review162 F1): its
    keys and values are quoted by the loader's refusals, by `mappings check` and in the reports' issues (a
    translation's target, its `source:` note, a tag name upper-cased), which are mailed to SRS vendors. It is the
    hand-edited file people have open beside the token's; a settings file refuses a token anywhere too. Named by
    `file:line: key.path`, as the loader's other refusals are; a key holding it by the key path above it. Bundled
    mappings are ours, and not looked through."""
    found = _token_place(doc)
    if found is None:
        return
    located, named, length = found
    line = lines_of(text, [located])[0]
    place = str(path) if line is None else f"{path}:{line}"
    raise ConfigError(f"{place}: {named} {TOKEN_IN_MAPPING.format(length=length)}")


def _token_place(doc: dict[str, Any]) -> tuple[str, str, int] | None:
    """(key path to its line, what to name, the token's length) of the first key or value, in the order written,
    holding an API token; None when none does. A list or mapping an alias repeats is looked through once (anchors can
    nest a small file into a huge one, or into itself)."""
    seen: set[int] = set()
    stack: list[tuple[str, str | None, Any]] = [("", None, doc)]  # (the key path above, the key or None, the value)
    while stack:
        above, key, node = stack.pop()
        keys = above if key is None else f"{above}.{key}" if above else key
        if key is not None and (length := registers_token_wrapped_in(key)) is not None:
            return keys, f"a key of {above}" if above else "a top-level key", length
        if isinstance(node, dict | list):
            if id(node) in seen:
                continue
            seen.add(id(node))
        if isinstance(node, dict):
            stack.extend(reversed([(keys, str(k), value) for k, value in node.items()]))
        elif isinstance(node, list):
            stack.extend(reversed([(f"{keys}[{index}]", None, item) for index, item in enumerate(node)]))
        elif node is not None and (length := registers_token_wrapped_in(str(node))) is not None:
            return keys, keys, length
    return None


def _cannot_read(path: StrPath, exc: OSError) -> str:
    return f"{path}: cannot read mapping file ({exc.strerror or exc})"


def check_mapping_file(path: StrPath) -> None:
    """Refuse (ConfigError, in the loader's words) a mapping file that is not there, is a folder or is not this
    user's to read, without reading it: `Settings.problems` says so with where the file was named (`config show`, and
    each command before it starts, review156 F5). A pipe (`<(...)`) is left to the loader, which reads it once."""
    try:
        mode = os.stat(path).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if stat.S_ISREG(mode):
            with open(path, "rb"):
                pass
    except OSError as exc:
        raise ConfigError(_cannot_read(path, exc)) from None


def _not_utf8(path: Path, data: bytes, exc: UnicodeDecodeError) -> str:
    """The first byte that is not UTF-8, with its line: a Windows-1252 `é` in a note is found at once. CR LF, a CR alone
    and an LF alone each end a line, as YAML and the CSV readers count them (review117 F9)."""
    before = data[: exc.start]
    line = before.count(b"\n") + before.count(b"\r") - before.count(b"\r\n") + 1
    return (
        f"{path}:{line}: not UTF-8 text (its byte {exc.start + 1}, 0x{data[exc.start]:02X}, is not UTF-8); save the "
        "mapping file as UTF-8"
    )


def _not_yaml(path: Path, text: str, exc: yaml.YAMLError) -> str:
    """A YAML mistake as `file:line: problem`, the form the loader's other refusals take (docs/mappings.md). A key
    written twice is valid YAML the loader refuses, so it is not called invalid; a tab is named, the most common
    mistake in a hand-edited file, which YAML's own message (`cannot start any token`) leaves unsaid."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark else None
    problem = getattr(exc, "problem", None) or str(exc)
    if isinstance(exc, yaml.reader.ReaderError):  # a control character, said on two lines at `"<file>", position N`
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)  # libyaml's is a number
        at = text.find(char)  # the first one: the reader stops at the first character it does not allow
        line = text.count("\n", 0, at) + 1 if at >= 0 else None
        problem = f"character U+{ord(char):04X}: {exc.reason}"
    place = str(path) if line is None else f"{path}:{line}"
    # YAML's problem may quote what the file holds: a key written twice, a tag it has no constructor for
    # (`!sandbox_…`, review165 F3); one holding a pasted token is not shown (review162 F1).
    token = registers_token_wrapped_in(problem)
    if isinstance(exc, yaml.constructor.ConstructorError) and "written twice" in problem:  # UniqueKeyTextLoader's
        if token is not None:
            return f"{place}: a key written twice {TOKEN_IN_MAPPING.format(length=token)}"
        return f"{place}: {problem}"
    if token is not None:
        return f"{place}: not valid YAML, and {TOKEN_IN_MAPPING.format(length=token)}"
    if mark is not None and _tab_at(text, mark.line, mark.column):
        return (
            f"{place}: not valid YAML (a tab at column {mark.column + 1}: YAML indents with spaces only; replace the "
            "tab with spaces)"
        )
    return f"{place}: not valid YAML ({problem})"


def _tab_at(text: str, line: int, column: int) -> bool:
    """Whether the character a YAML error points at is a tab."""
    lines = text.splitlines()
    return line < len(lines) and lines[line][column : column + 1] == "\t"


# The key a problem names first ("'surname' is not a ... field", "unknown key(s) translates; ...", "translation of
# 'B' must be ...", which is under the block's `translate`): its line.
_NAMED_KEY = re.compile(
    r"(?:unknown key )?'([^']+)'|unknown (?:top-level )?key\(s\) ([^,;]+)|translation of '([^']+)' (?=must be)"
)


def _named(found: re.Match[str]) -> str:
    """The key path, below the one the message names, of the key a problem names."""
    return found[1] or found[2] or f"translate.{found[3]}"


def _on_its_line(mistake: ConfigError, path: Path, text: str) -> ConfigError:
    """`file: key.path: problem` as `file:line: key.path: problem`, the form editors and terminals go to: in a file
    of a few hundred lines, `fields.hesa.trainee.sex` alone leaves the user to find it. As it was where the key path
    is not in the text as written (a `<<` merge's)."""
    message = str(mistake)
    if not message.startswith(f"{path}: "):
        return mistake
    said = message[len(f"{path}: ") :]
    keys, _, problem = said.partition(": ")
    places = [keys]
    if named := _NAMED_KEY.match(problem):
        places.insert(0, f"{keys}.{_named(named)}")
    elif named := _NAMED_KEY.match(said):  # a top-level key: no key path before it
        places = [_named(named)]
    line = next(filter(None, lines_of(text, places)), None)
    return mistake if line is None else ConfigError(f"{path}:{line}: {said}")


def _located(mistake: ConfigError, paths: list[Path]) -> ConfigError:
    """A refusal of a user's mapping file as a `MappingError` carrying the `path` and `line` its message begins with
    (`path:line: ...` or `path: ...`), its message kept: a caller need not parse it to point at the line (review182
    F6). As it was where it names none of `paths` (a refusal of the mapping as a whole)."""
    message = str(mistake)
    for path in paths:
        if message.startswith(f"{path}:"):
            line = re.match(r"(\d+): ", message[len(f"{path}:") :])
            return MappingError(message, path=str(path), line=int(line[1]) if line else None)
    return mistake


_SHOWN = reprlib.Repr()
_SHOWN.maxlevel = 3  # reprlib's default of six levels of six items each is 78 KB for a mapping of anchored lists


def _shown(value: Any) -> str:
    """A value for a message, cut short (a YAML of nested anchors can be huge once written out).

    None is a value left empty (`sex:` with nothing after it; `~` and `null` are read as text): said as such.
    """
    if value is None:
        return "nothing"
    shown = _SHOWN.repr(value)
    return shown if len(shown) <= 160 else f"{shown[:157]}..."


def _sources(value: Any, where: str) -> tuple[str, ...]:
    names = [value] if isinstance(value, str) else value
    if isinstance(names, list) and names and all(isinstance(v, str) for v in names):
        if not all(v.strip() for v in names):  # no column or tag has it: the field would be blank in every record
            raise ConfigError(f"{where}: an empty source name (got {_shown(value)}); give the column or tag's name")
        return tuple(names)
    raise ConfigError(f"{where}: expected a column/tag name or a list of them, got {_shown(value)}")


def _table(doc: Any, allowed: tuple[str, ...], where: str) -> dict[str, tuple[str, ...]]:
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise ConfigError(f"{where}: expected a mapping of API field to source name")
    table = {}
    for key, value in doc.items():
        if key not in allowed:
            raise ConfigError(f"{where}: {key!r} is not a Register API v2026.1 field")
        table[str(key)] = _sources(value, f"{where}.{key}")
    return table


EXTENDED_LISTS = ("known_tags", "ignored")  # a user's list adds to the bundled one instead of replacing it


def _merge(base: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in overlay.items():
        if value is None:  # an empty section (`trainee:` with nothing under it) changes nothing; it never wipes
            continue
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value)
        elif key in EXTENDED_LISTS and isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = [*merged[key], *(v for v in value if v not in merged[key])]
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _namer(family: str, known_tags: set[str]) -> Callable[[str], str]:
    """Source columns/tags as the readers hand them over: Register CSV lower case; HESA tags upper case, with
    the F_ prefix added when the bare name is a known tag (so `ittkey`, `ITTKEY` and `F_ITTKEY` all work)."""

    def name(raw: str) -> str:
        if family == "register-csv":
            return raw.strip().lower()
        upper = raw.strip().upper()
        return f"F_{upper}" if not upper.startswith("F_") and f"F_{upper}" in known_tags else upper

    return name


def _group_name(family: str, group: str | None) -> str | None:
    """A group's element name as the HESA XML reader hands it over: upper case, as its tags are (`group: Placement`
    names the <PLACEMENT> elements the reader reads an SRS's <Placement> as)."""
    return group.strip().upper() if group is not None and family != "register-csv" else group


def _known_tags(doc: dict[str, Any]) -> set[str]:
    return {str(t).upper() for t in doc.get("known_tags") or ()}


def _field_map(family: str, doc: dict[str, Any], where: str) -> FieldMap:
    degrees = doc.get("degrees") or {}
    placements = doc.get("placements") or {}
    known_tags = _known_tags(doc)
    name = _namer(family, known_tags)

    def table(spec: Any, allowed: tuple[str, ...], label: str) -> dict[str, tuple[str, ...]]:
        return {k: tuple(name(v) for v in vs) for k, vs in _table(spec, allowed, label).items()}

    vintages = []
    for vintage, spec in (doc.get("vintages") or {}).items():
        vintages.append(
            (
                str(vintage),
                tuple(name(t) for t in spec.get("any_of") or ()),
                table(spec.get("trainee"), TRAINEE_FIELDS, f"{where}.vintages.{vintage}.trainee"),
            )
        )
    fmap = FieldMap(
        family=family,
        trainee=table(doc.get("trainee"), TRAINEE_FIELDS, f"{where}.trainee"),
        degree_group=_group_name(family, degrees.get("group")),
        degree_fields=table(degrees.get("fields"), _DEGREE_SOURCE_FIELDS, f"{where}.degrees.fields"),
        placement_group=_group_name(family, placements.get("group")),
        placement_fields=table(placements.get("fields"), ("urn", "name", "postcode"), f"{where}.placements.fields"),
        placement_columns=tuple(name(c) for c in placements.get("columns") or ()),
        withdrawal=table(doc.get("withdrawal"), WITHDRAWAL_FIELDS, f"{where}.withdrawal"),
        deferral=table(doc.get("deferral"), DEFERRAL_FIELDS, f"{where}.deferral"),
        provider=table(doc.get("provider"), PROVIDER_FIELDS, f"{where}.provider"),
        vintages=vintages,
        known=frozenset(),
        ignored=frozenset(name(str(i)) for i in doc.get("ignored") or ()),
        template=tuple(name(c) for c in doc.get("template") or ()),
    )
    fmap.known = frozenset({*fmap.source_names(), *known_tags, *fmap.template, *fmap.ignored})
    return fmap


ALTERNATIVE_KEYS = ("to", "note", "when")


def _when(value: Any, where: str) -> dict[str, frozenset[str]]:
    """`when: {field: [values]}`: every field a trainee field of Register (a misspelt one would never match)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: expected `when: {{field: [codes]}}`, got {_shown(value)}")
    when = {}
    for name, values in value.items():
        if name not in TRAINEE_FIELDS:
            raise ConfigError(
                f"{where}.{name}: {name!r} is not a Register API v2026.1 trainee field, so this test could never "
                "match; name a trainee field (itt_qualification_aim, training_route, ...)"
            )
        listed = values if isinstance(values, list) else [values]
        if not listed or not all(isinstance(v, str) for v in listed):
            raise ConfigError(f"{where}.{name}: expected a code or a list of codes, got {_shown(values)}")
        for code in listed:
            _trimmed(code, f"{where}.{name}")
            if name not in _CODED:
                _a_value_of(name, code, f"{where}.{name}")
        when[str(name)] = frozenset(listed)
    return when


# A `when` is an exact match on the trainee's value (review209 F1): a value with these in it is a pattern, a range or
# a comparison (`2026-*`, `>=2026-08-01`), which no field without a code list holds, so the test could never match.
_NOT_EXACT = frozenset("*?<>=![]")
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# The trainee fields holding a date, as YYYY-MM-DD (register-api.md §3.4: Date.iso8601; hesa-formats.md §5 item 30).
WHEN_DATE_FIELDS = frozenset(name for name in TRAINEE_FIELDS if name.endswith("_date") or name == "date_of_birth")


def _a_value_of(name: str, code: str, where: str) -> None:
    """Refuse a value a `when` tests a field without a code list for (a date, an id) that the field can never hold:
    the test would never match, and the fallback would be sent for every record without a word (review209 F1). A
    coded field's are checked against Register's list once it is loaded (dead_tests)."""
    exact = "a `when` is an exact match on the trainee's value (after translation), with no ranges or patterns"
    if name in WHEN_DATE_FIELDS and not _is_day(code):
        raise ConfigError(
            f"{where}: {code!r} is not a date as Register gets it (YYYY-MM-DD), so this test could never match: "
            f"{exact}; list each date (2026-09-01), or put the translation in the SRS"
        )
    if found := sorted(set(code) & _NOT_EXACT):
        raise ConfigError(
            f"{where}: {code!r} holds {' '.join(found)}, so this test could never match: {exact}; list each value "
            "as the trainee has it"
        )


def _is_day(value: str) -> bool:
    if not _ISO_DAY.fullmatch(value):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _trimmed(code: str, where: str) -> None:
    """A code with spaces around it (`" M"`, copied from a spreadsheet's cell) could never match: values are read
    with the spaces around them trimmed (readers/base.py). Refused rather than trimmed here: the file then says
    what is matched, a key that trims to one the block has already (`" M"` and `"M"`) is no silent choice of one,
    and a code to translate *to* with a space is an error too (not in Register's list)."""
    if code != code.strip():
        raise ConfigError(
            f"{where}: {code!r} has spaces around it, so it could never match: values are read with the spaces "
            f"around them trimmed; write {code.strip()!r}"
        )


def _alternatives(old: str, value: Any, where: str) -> list[Alternative]:
    if value == []:
        raise ConfigError(f"{where}.translate.{old}: expected the code it becomes, got an empty list")
    items = value if isinstance(value, list) else [value]
    out = []
    for index, item in enumerate(items):
        at = f"{where}.translate.{old}" + (f"[{index}]" if isinstance(value, list) else "")
        if isinstance(item, str):
            out.append(Alternative(to=item, note=None, when={}))
        elif isinstance(item, dict) and isinstance(item.get("to"), str) and item["to"]:
            unknown = [str(k) for k in item if k not in ALTERNATIVE_KEYS]
            if unknown:
                raise ConfigError(
                    f"{at}: unknown key(s) {', '.join(unknown)}; a translation has only to, note and when"
                )
            note = item.get("note")
            if note is not None and not isinstance(note, str):
                raise ConfigError(f"{at}.note: expected text, got {_shown(note)}")
            out.append(Alternative(to=item["to"], note=note, when=_when(item.get("when"), f"{at}.when")))
        else:
            raise ConfigError(f"{where}: translation of {old!r} must be a code or {{to: code, note, when}}")
        if index and not out[index - 1].when:
            raise ConfigError(
                f"{at}: never used: the alternative before it has no `when`, so it applies to every record; put the "
                "alternatives with a `when` first and the one without last"
            )
    return out


_SHAPES = {"translate": 'new code (`"M": "11"`)', "no_translation": 'reason (`"13": why`)'}

# What a `codes` block can translate (Mapper._translate): a trainee field, or a field of each degree.
TRANSLATABLE_FIELDS = (*TRAINEE_FIELDS, *(f"degrees_attributes.{f}" for f in DEGREE_FIELDS))
# The fields whose values are codes of one of Register's lists: what a block must name one of.
CODED_FIELDS = (
    *TRAINEE_CODE_FIELDS,
    *DISABILITY_FIELDS,
    *(f"degrees_attributes.{f}" for f in DEGREE_CODE_FIELDS),
)

_CODED = frozenset(CODED_FIELDS)


def _check_pattern(pattern: str, where: str) -> None:
    """A block key that names no field (`sexx:`) would translate nothing, and `validate` would then report the very
    code the block was written for as invalid, without a word about the block. One naming only fields without a code
    list (`first_names`) would rewrite values `mappings check` cannot check: it calls it an error, so loading does."""
    if not any(fnmatch.fnmatchcase(name, pattern) for name in TRANSLATABLE_FIELDS):
        raise ConfigError(
            f"{where}: matches no Register API v2026.1 field, so it would translate nothing; {_instead(pattern)}"
        )
    if not any(fnmatch.fnmatchcase(name, pattern) for name in CODED_FIELDS):
        raise ConfigError(
            f"{where}: matches no field with a code list of Register's, so what it translates to could not be "
            "checked; a codes block is for coded fields (sex, course_subject_*, degrees_attributes.subject, ...: "
            "docs/mappings.md): correct other values in the SRS"
        )


def _instead(pattern: str) -> str:
    """What to name instead of a block key that names no field. A degree's type (`degree_type` in the field map) is
    sent, and so translated, as one of two fields, by the degree's country (hesa-formats.md §5 item 12)."""
    state_fields = {*WITHDRAWAL_FIELDS, *HELD_WITHDRAWAL.values(), *DEFERRAL_FIELDS}
    if any(fnmatch.fnmatchcase(name, pattern) for name in state_fields):
        # An issue names the withdrawal's fields `withdrawal_future_interest`, ...: the name a user tries (review97 F3).
        return (
            "a withdrawal's or deferral's values are not translated by mapping files: write Register's own in the "
            "export (future_interest yes, no or unknown; trigger provider or trainee; reasons as `register-batch "
            "reference show withdrawal_reasons` lists them: docs/formats.md#withdrawals-and-deferrals)"
        )
    if any(fnmatch.fnmatchcase(name, pattern) for name in ("degree_type", "degrees_attributes.degree_type")):
        return (
            "a degree's type is sent as degrees_attributes.uk_degree or degrees_attributes.non_uk_degree, by its "
            "country: write a block for each (an anchor shares one table between them, as mappings/codes/legacy.yaml "
            "does; docs/mappings.md)"
        )
    return "name a field (sex, course_subject_*, degrees_attributes.subject, ...: docs/mappings.md)"


def _key_lines(root: yaml.Node | None, top: str) -> dict[str, int]:
    """The line each key path under the document's key `top` is written on, as key_of and the `when` messages write
    the paths (`codes.sex.translate.X[0].when.training_route`). A node an alias repeats is walked once, and a key a
    `<<` merge brings is not written there (line_in gives it no line either). Walked in the order written, so a node an
    alias repeats is walked under its anchor's path, where it is written (review218 F5: the alias's path took it, and
    the anchor's own `when` had no line)."""
    found: dict[str, int] = {}
    start = None
    if isinstance(root, yaml.MappingNode):
        start = next(
            (value for key, value in root.value if isinstance(key, yaml.ScalarNode) and key.value == top), None
        )
    seen: set[int] = set()
    stack: list[tuple[yaml.Node | None, str]] = [(start, top)]
    while stack:
        node, above = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        children: list[tuple[yaml.Node | None, str]] = []
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    path = f"{above}.{key.value}"
                    found.setdefault(path, key.start_mark.line + 1)
                    children.append((value, path))
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                path = f"{above}[{index}]"
                found.setdefault(path, item.start_mark.line + 1)
                children.append((item, path))
        stack.extend(reversed(children))  # the first written is popped first
    return found


def _code_translations(doc: Any, origin: str) -> list[CodeTranslation]:
    if not isinstance(doc, dict):
        raise ConfigError(
            f"{origin}: codes: expected a mapping of field name to translations (`sex: {{translate: ...}}`)"
        )
    result = []
    for pattern, spec in doc.items():
        where = f"{origin}: codes.{pattern}"
        _check_pattern(str(pattern), where)
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}: expected translate/no_translation entries, got {_shown(spec)}")
        unknown = set(spec) - {"source", "translate", "no_translation"}
        if unknown:
            raise ConfigError(
                f"{where}: unknown key(s) {', '.join(sorted(unknown))}; a block has only source, translate and "
                "no_translation"
            )
        source = spec.get("source")
        if source is not None and not isinstance(source, str):
            raise ConfigError(f"{where}.source: expected text (why these translations exist), got {_shown(source)}")
        for key in ("translate", "no_translation"):
            if spec.get(key) is not None and not isinstance(spec[key], dict):
                raise ConfigError(f"{where}.{key}: expected a mapping of old code to {_SHAPES[key]}")
            if any(not str(old).strip() for old in spec.get(key) or ()):  # a blank value is `required`, never a code
                raise ConfigError(
                    f"{where}.{key}: '' is not a code (a blank value is never translated: it is missing); give the code"
                )
            for old in spec.get(key) or ():
                _trimmed(str(old), f"{where}.{key}")
        translation = CodeTranslation(pattern=str(pattern), source=source or origin, origin=origin)
        for old, value in (spec.get("translate") or {}).items():
            translation.translate[str(old)] = _alternatives(str(old), value, where)
        for old, reason in (spec.get("no_translation") or {}).items():
            if not isinstance(reason, str) or not reason:
                raise ConfigError(f"{where}.no_translation.{old}: expected the reason, as text, got {_shown(reason)}")
            if str(old) in translation.translate:  # no_translation is looked at first: the translation is never used
                raise ConfigError(
                    f"{where}: {str(old)!r} is under both translate and no_translation; keep it under one of them"
                )
            translation.no_translation[str(old)] = reason
        result.append(translation)
    return result


# What a user's field map may hold, per level (a misspelt section would otherwise change nothing, unsaid).
OVERLAY_KEYS = (
    "trainee",
    "degrees",
    "placements",
    "withdrawal",
    "deferral",
    "provider",
    "ignored",
    "known_tags",
    "vintages",
    "template",
)
GROUP_KEYS = {"degrees": ("group", "fields"), "placements": ("group", "fields", "columns")}


def _check_keys(doc: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in doc:
        if key not in allowed:
            raise ConfigError(f"{where}: unknown key {key!r}; use one of {', '.join(allowed)} (docs/mappings.md)")


def _names(value: Any, where: str) -> None:
    """A list of column or tag names (or nothing)."""
    if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        raise ConfigError(f"{where}: expected a list of column or tag names, got {_shown(value)}")


def _check_overlay(overlay: Any, where: str) -> None:
    """Check a user's field-map overlay on its own, so errors name the user's file."""
    if not isinstance(overlay, dict):
        raise ConfigError(
            f"{where}: expected a mapping of its sections ({', '.join(OVERLAY_KEYS)}), got {_shown(overlay)}"
        )
    _check_keys(overlay, OVERLAY_KEYS, where)
    for group, keys in GROUP_KEYS.items():
        spec = overlay.get(group)
        if spec is None:
            continue
        if not isinstance(spec, dict):
            raise ConfigError(f"{where}.{group}: expected a mapping with {' and/or '.join(keys)}")
        _check_keys(spec, keys, f"{where}.{group}")
        if spec.get("group") is not None and not isinstance(spec["group"], str):
            raise ConfigError(f"{where}.{group}.group: expected the XML element name, got {_shown(spec['group'])}")
        _names(spec.get("columns"), f"{where}.{group}.columns")
    for key in ("ignored", "known_tags", "template"):
        _names(overlay.get(key), f"{where}.{key}")
    vintages = overlay.get("vintages")
    if vintages is not None:
        if not isinstance(vintages, dict):
            raise ConfigError(f"{where}.vintages: expected a mapping of collection to {{any_of: [tags], trainee}}")
        for name, spec in vintages.items():
            if not isinstance(spec, dict):
                raise ConfigError(f"{where}.vintages.{name}: expected {{any_of: [tags], trainee: ...}}")
            _check_keys(spec, ("any_of", "trainee"), f"{where}.vintages.{name}")
            _names(spec.get("any_of"), f"{where}.vintages.{name}.any_of")
            _table(spec.get("trainee"), TRAINEE_FIELDS, f"{where}.vintages.{name}.trainee")
    _table(overlay.get("trainee"), TRAINEE_FIELDS, f"{where}.trainee")
    _table(overlay.get("withdrawal"), WITHDRAWAL_FIELDS, f"{where}.withdrawal")
    _table(overlay.get("deferral"), DEFERRAL_FIELDS, f"{where}.deferral")
    _table(overlay.get("provider"), PROVIDER_FIELDS, f"{where}.provider")
    _table((overlay.get("degrees") or {}).get("fields"), _DEGREE_SOURCE_FIELDS, f"{where}.degrees.fields")
    _table((overlay.get("placements") or {}).get("fields"), ("urn", "name", "postcode"), f"{where}.placements.fields")


def _one_placement_layout(merged: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """Placements come from URN columns (`placements.columns`) or from fields of a group (`placements.fields`), and
    the columns win when both are there (Mapper._placements): a user's file that maps placement fields replaces the
    bundled columns (Register's CSV maps three URN columns), or its entries would never be read."""
    mine = overlay.get("placements") or {}
    placements = merged.get("placements") or {}
    if mine.get("fields") and not mine.get("columns"):
        placements.pop("columns", None)
    return merged


def _own_sources_win(merged: dict[str, Any], overlay: dict[str, Any]) -> dict[str, Any]:
    """A trainee field a user's file reads from its own sources is read from them in records of every collection:
    an older layout's bundled sources for it (C21053's `itt_end_date`) would otherwise win there and the user's
    never be read. Unless the same file names that collection's sources for the field too."""
    mine = overlay.get("trainee") or {}
    my_layouts = overlay.get("vintages") or {}
    for name, layout in (merged.get("vintages") or {}).items():
        table = (layout or {}).get("trainee") or {}
        named_there = (my_layouts.get(name) or {}).get("trainee") or {}
        for api_field in mine:
            if api_field in table and api_field not in named_there:
                del table[api_field]
    return merged


def _named_sources(family: str, overlay: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    """(family, key path, names, group) of every field a user's overlay reads, with the names as written."""
    where = f"fields.{family}"
    tables: list[tuple[str, Any, str | None]] = [
        (f"{where}.{section}", overlay.get(section), None)
        for section in ("trainee", "withdrawal", "deferral", "provider")
    ]
    for group in GROUP_KEYS:
        tables.append((f"{where}.{group}.fields", (overlay.get(group) or {}).get("fields"), group))
    return [
        (family, f"{path}.{api_field}", _sources(value, path), group)
        for path, table, group in tables
        for api_field, value in (table or {}).items()
    ]


def _overlaid(field_docs: dict[str, dict[str, Any]], doc: dict[str, Any], path: Path) -> dict[str, dict[str, Any]]:
    """The field maps with a user's file's `fields` laid over them, once its structure is checked."""
    unknown = [str(key) for key in doc if key not in ("fields", "codes")]  # in file order: the first named, its line
    if unknown:
        blocks = [key for key in unknown if any(fnmatch.fnmatchcase(name, key) for name in TRANSLATABLE_FIELDS)]
        # A bundled mappings/codes file's blocks are at its top: copied as the docs advise, they are refused here
        # (review209 F7).
        which = "" if blocks == unknown else f" ({', '.join(blocks)})"
        indent = (
            f": a code block{which} goes under `codes:`; indent {'it' if len(blocks) == 1 else 'them'} under a "
            "`codes:` line (the bundled mappings/codes files are the one exception, with their blocks at the top)"
            if blocks
            else ""
        )
        raise ConfigError(
            f"{path}: unknown top-level key(s) {', '.join(unknown)}; expected 'fields' and/or 'codes'{indent}"
        )
    fields = doc.get("fields") or {}
    if not isinstance(fields, dict):
        raise ConfigError(f"{path}: fields: expected a mapping of input family ({', '.join(FAMILIES)}) to field map")
    overlaid = dict(field_docs)
    for family, overlay in fields.items():
        if family not in FAMILIES:
            raise ConfigError(f"{path}: fields.{family}: unknown input family; use one of {', '.join(FAMILIES)}")
        _check_overlay(overlay or {}, f"{path}: fields.{family}")
        merged = _merge(overlaid[family], overlay or {})
        overlaid[family] = _own_sources_win(_one_placement_layout(merged, overlay or {}), overlay or {})
    return overlaid


def _all_named_sources(doc: dict[str, Any]) -> list[tuple[str, str, tuple[str, ...], str | None]]:
    return [
        found
        for family, overlay in (doc.get("fields") or {}).items()
        for found in _named_sources(family, overlay or {})
    ]


def _also_read(
    family: str, texts: list[tuple[Path, dict[str, Any], str]], namer: Callable[[str], str]
) -> dict[str, str]:
    """column (tag) -> the user's file that reads it as a placement URN column or in a layout's entry (`vintages`),
    which `_named_sources` leaves out (review100 F3); the last file's where several do."""
    found: dict[str, str] = {}
    for path, doc, _text in texts:
        overlay = (doc.get("fields") or {}).get(family)
        if not isinstance(overlay, dict):
            continue
        names = [*((overlay.get("placements") or {}).get("columns") or ())]
        for spec in (overlay.get("vintages") or {}).values():
            for sources in ((spec or {}).get("trainee") or {}).values():
                names += sources if isinstance(sources, list) else [sources]
        found.update((namer(str(name)), str(path)) for name in names)
    return found


def _ignored_but_read(
    family: str,
    column: str,
    by: str,
    fmap: FieldMap,
    namer: Callable[[str], str],
    texts: list[tuple[Path, dict[str, Any], str]],
) -> ConfigError:
    """A column (or tag) listed under `ignored` that a user's field map reads (`by`: where): the readers drop it before
    it is read, so the field was blank for every record, with a message calling the column missing (review97 F2).
    Names the `ignored` entry (the last file's that lists it) and the entry that reads it."""
    # (A template column only the bundled map reads may be ignored: it is then not sent, as a column left out is.)
    where = f"fields.{family}.ignored"
    for path, doc, text in reversed(texts):
        entries = ((doc.get("fields") or {}).get(family) or {}).get("ignored") or []
        numbers = [n for n, entry in enumerate(entries) if namer(str(entry)) == column]
        if numbers:
            where = f"fields.{family}.ignored[{numbers[0]}]"
            line = lines_of(text, [where])[0]
            where = f"{path}:{line}: {where}" if line is not None else f"{path}: {where}"
            break
    fields = [field for field, sources in fmap.sources_by_field().items() if column in sources] or ["placements"]
    return ConfigError(
        f"{where}: '{column}' is read by {by} ({', '.join(fields)}): an ignored column is dropped before it is read, "
        "so that field would be blank for every record; remove it from `ignored`"
    )


@functools.cache
def _bundled_docs() -> tuple[dict[str, dict[str, Any]], tuple[tuple[str, dict[str, Any]], ...]]:
    """The bundled field maps, by family, and code translation files, by name: read once a process, as package data
    does not change while it runs (sync loads the mappings before it starts anything, to tell its inputs' format)."""
    base = bundled_mapping_dir()
    fields = {family: _read_yaml(base / "fields" / f"{family}.yaml") for family in ("hesa", "register-csv")}
    return fields, tuple((path.name, _read_yaml(path)) for path in sorted((base / "codes").glob("*.yaml")))


def load_mapping(user_files: Iterable[StrPath] = ()) -> MappingConfig:
    """Bundled field maps and code translations, overlaid by the user's mapping files in order."""
    bundled_field_docs, bundled_code_docs = _bundled_docs()
    field_docs = copy.deepcopy(bundled_field_docs)  # the user's files are laid over a copy: the bundled stay as read
    bundled_fields = {family: _field_map(family, d, family) for family, d in field_docs.items()}
    codes: list[CodeTranslation] = []
    files = []
    hashes: list[str] = []
    texts: list[tuple[Path, dict[str, Any], str]] = []
    named: list[tuple[str, str, str, tuple[str, ...], str | None, int | None]] = []
    for name, doc in bundled_code_docs:
        codes.extend(replace(t, bundled=True) for t in _code_translations(copy.deepcopy(doc), f"mappings/codes/{name}"))
    bundled_codes = len(codes)
    user_files = path_list(user_files, "mapping files")
    for user_file in user_files:  # a library caller's; the settings' and --mapping's are refused before (review61 F5)
        refuse_token_named("a mapping file's name", str(user_file), TOKEN_AS_FILE)
    if found := repeated_file(user_files):
        again, first = found
        also = "" if first == again else f" (also as {first})"
        raise ConfigError(
            f"{again} is given twice as a mapping file{also}: give each once, in the order they apply (where two files "
            "map the same field or code, the later one wins)"
        )
    for user_file in user_files:
        path = Path(user_file)
        try:
            doc, digest, text = _read_yaml_hashed(path)
            _holds_no_token(doc, path, text)
            try:
                field_docs = _overlaid(field_docs, doc, path)
                blocks = _code_translations(doc.get("codes") or {}, str(path))
            except ConfigError as mistake:
                raise _on_its_line(mistake, path, text) from None
        except ConfigError as refused:
            raise _located(refused, [path]) from None
        sources = _all_named_sources(doc)
        root = composed(text) if blocks or sources else None  # once, for every line a message may name
        if blocks:
            key_lines = _key_lines(root, "codes")
            for block in blocks:
                block.lines = key_lines
            codes.extend(blocks)
        lines = [line_in(root, key) for _family, key, _names, _group in sources]
        named.extend((str(path), *found, line) for found, line in zip(sources, lines, strict=True))
        files.append(str(path))
        hashes.append(digest)
        texts.append((path, doc, text))
    fields = {family: _field_map(family, d, family) for family, d in field_docs.items()}
    namers = {family: _namer(family, _known_tags(d)) for family, d in field_docs.items()}
    # A later file's entry for a field replaces an earlier file's (field maps merge key by key): only the last one
    # is read, so only it is watched for (an earlier file's source, absent from the input, blanks nothing).
    read = {(family, key): (file, names, group, line) for file, family, key, names, group, line in named}
    for family, fmap in fields.items():
        # Only a column a user's file maps: one of Register's template the bundled map reads may be left out so.
        readers = _also_read(family, texts, namers[family])
        for (fam, _key), (file, names, _group, line) in read.items():
            if fam == family:
                readers.update((namers[family](name), file if line is None else f"{file}:{line}") for name in names)
        if clash := sorted(fmap.ignored & fmap.source_names() & readers.keys()):
            clashing = _ignored_but_read(family, clash[0], readers[clash[0]], fmap, namers[family], texts)
            raise _located(clashing, [path for path, _doc, _text in texts])
    return MappingConfig(
        fields=fields,
        codes=codes,
        files=files,
        sha256=hashes,
        named_sources=[
            NamedSource(file, family, key, tuple(namers[family](n) for n in names), group, line)
            for (family, key), (file, names, group, line) in read.items()
        ],
        bundled_codes=bundled_codes,
        bundled_fields=bundled_fields,
    )
