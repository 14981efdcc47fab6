"""`mappings check`: every code a mapping file translates to exists in Register's lists, and which codes in an
input no mapping covers."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from register_batch.mapping.apply import (
    COUNTRY_NOT_NATIONALITY,
    KOSOVO_NATIONALITY,
    MISSPELT,
    MISSPELT_STATE_TAG,
    MISSPELT_TAG,
    Mapper,
    SourceWatch,
    UnseenSource,
    family_of,
    names_kosovan,
    near_miss,
)
from register_batch.mapping.loader import (
    CODED_FIELDS,
    Alternative,
    CodeTranslation,
    MappingConfig,
    TranslatedFirst,
    bundled_mapping_dir,
    code_list_for,
    in_precedence,
    refuse_dead_tests,
)
from register_batch.model import Severity, SourceRef, TraineeRecord, make_issue
from register_batch.model import place as place_in_input
from register_batch.readers import open_inputs
from register_batch.reference import ReferenceData, bundled_snapshot, load_reference
from register_batch.textyaml import lines_of
from register_batch.validation.answers import REFUSED, TAKEN
from register_batch.validation.facts import REFUSED_ROUTES, Facts, as_of_or_today
from register_batch.validation.rules import (
    codes_a_mapping_file_could_translate,
    codes_are_written_in_their_case,
    codes_kept_their_leading_zeros,
)

# Codes a list holds that Register refuses for every trainee all the same (register-api.md §3.3 R9: route 02).
REFUSED_CODES: dict[str, frozenset[str]] = {"training_route": REFUSED_ROUTES}


@dataclass(frozen=True)
class MappingProblem:
    origin: str
    field: str
    message: str
    severity: str = "error"
    key: str | None = None  # the key path the problem is written at in `origin` (`codes.sex.translate.1`)
    line: int | None = None  # where `key` is written, as editors go to it (review97 F4)

    def __str__(self) -> str:
        place = self.origin if self.line is None else f"{self.origin}:{self.line}"
        return f"{place}: {self.field}: {self.message}"


def _file_of(problem: MappingProblem) -> Path:
    """The file a problem's key is written in: a user's file by its own path, even one named as a bundled file is
    (`mappings/codes/legacy.yaml` in a project laid out as the bundled mappings are), whose lines were looked up in
    the bundled file, or not at all (review124 F4); a bundled file's key is not under `codes:`
    (CodeTranslation.key_of)."""
    if problem.key is not None and problem.key.startswith("codes."):
        return Path(problem.origin)
    return bundled_mapping_dir() / "codes" / Path(problem.origin).name


def _on_their_lines(problems: list[MappingProblem]) -> list[MappingProblem]:
    """Each problem with the line its code is written on: in a file of a few hundred translations, `sex: '1'`
    alone leaves the user to search for it. Read again here, not kept by the loader, which every command runs.
    A file that cannot be read now, or a code brought in by a `<<` merge, keeps the file alone."""
    keys: dict[Path, list[str]] = {}
    for problem in problems:
        if problem.key is not None:
            keys.setdefault(_file_of(problem), []).append(problem.key)
    lines: dict[tuple[Path, str], int | None] = {}
    for path, wanted in keys.items():
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        lines.update(zip(((path, key) for key in wanted), lines_of(text, wanted), strict=True))
    return [
        replace(problem, line=lines.get((_file_of(problem), problem.key))) if problem.key is not None else problem
        for problem in problems
    ]


def _fields_of(translation: CodeTranslation) -> list[str]:
    return [f for f in CODED_FIELDS if translation.applies_to(f)]


def _what_it_does(translation: CodeTranslation, code: str) -> str:
    """How a translation treats a code, for a message: "translates it to '11'", "translates it to '11' when
    itt_qualification_aim is 001 or 002, else '12'", or "lists it as untranslatable".

    The conditions are part of it: the same targets under other conditions translate some records otherwise.
    """
    if code in translation.no_translation:
        return "lists it as untranslatable"
    if _kept(code, translation.translate[code]):
        return "leaves it untranslated"
    targets = ", else ".join(dict.fromkeys(_alternative(a) for a in translation.translate[code]))
    return f"translates it to {targets}"


def _alternative(alternative: Alternative) -> str:
    tests = alternative.tests()
    return f"'{alternative.to}'" + (f" when {tests}" if tests else "")


def _kept(code: str, alternatives: list[Alternative]) -> bool:
    """Whether a code is mapped to itself and nothing else: the documented way to undo a bundled translation."""
    return all(alternative.to == code for alternative in alternatives)


def _treats(translation: CodeTranslation, code: str) -> bool:
    return code in translation.translate or code in translation.no_translation


def overridden_codes(config: MappingConfig) -> list[MappingProblem]:
    """Codes a user's file treats otherwise than a bundled translation, or one of the user's earlier files, or another
    block of the same file, of the same field does (notes).

    Later files win code by code (translations_for), which is how a user corrects a bundled translation; said so
    that a file written for another purpose does not change a bundled translation, or a site-wide file's, unseen.
    Within one file the block naming a field exactly wins over a pattern block (in_precedence). Only where the block
    does win: a code a later file treats again for the same field is that file's.
    """
    found: dict[tuple[int, int, str], MappingProblem] = {}
    index = {id(block): number for number, block in enumerate(config.codes)}
    for field in CODED_FIELDS:
        ordered = in_precedence([t for t in config.codes if t.applies_to(field)], field)
        for position, translation in enumerate(ordered):
            if translation.bundled:
                continue
            for code in (*translation.translate, *translation.no_translation):
                if any(_treats(later, code) for later in ordered[position + 1 :]):
                    continue  # a later block wins this code for this field
                for earlier in ordered[:position]:
                    key = (index[id(translation)], index[id(earlier)], code)
                    if key in found or not _treats(earlier, code):
                        continue
                    mine, theirs = _what_it_does(translation, code), _what_it_does(earlier, code)
                    if mine == theirs:
                        continue
                    found[key] = _overriding(translation, earlier, code, mine, theirs, key[1] > key[0])
    codes_in = {id(t): [*t.translate, *t.no_translation] for t in config.codes}
    return [
        found[key]
        for key in sorted(found, key=lambda key: (key[0], key[1], codes_in[id(config.codes[key[0]])].index(key[2])))
    ]


def _overriding(
    translation: CodeTranslation, earlier: CodeTranslation, code: str, mine: str, theirs: str, written_after: bool
) -> MappingProblem:
    """The note that `translation` wins `code` over `earlier` (a block it takes precedence over)."""
    mine_is, why = "this file", ""
    if earlier.bundled:
        whose = f"the bundled {earlier.origin} ({earlier.pattern})"
    elif earlier.origin == translation.origin:  # two blocks of one file (`sex:`, then `se?:`)
        whose = f"this file's block {earlier.pattern}, {'after' if written_after else 'before'} it,"
        mine_is = "this block"
        if written_after:
            why = f" (it names {translation.pattern} exactly, and a pattern block of the same file gives way to it)"
    else:
        whose = f"{earlier.origin} ({earlier.pattern}), given before it,"
    return MappingProblem(
        translation.origin,
        translation.pattern,
        f"'{code}': {mine_is} {mine}, {whose} {theirs}; {mine_is} wins{why}",
        "note",
        translation.key_of(code),
    )


def check_mappings(config: MappingConfig, reference: ReferenceData) -> list[MappingProblem]:
    """Targets missing from Register's lists (errors), translations that hide a valid code and sources of a user's
    HESA field map a few letters from a HESA tag (warnings) and codes a user's file translates otherwise than the
    bundled files (notes). A `when` with a value no record can hold is refused (MappingError), as `validate` refuses
    it; a value the code lists in use lack, or one translated only by `when`s, is warned of (_tests_of_codes)."""
    first = refuse_dead_tests(config)  # each field's table merged once (review218 F3)
    problems: list[MappingProblem] = overridden_codes(config) + near_hesa_tags(config)
    for translation in config.codes:  # each names a coded field: loading refuses a block that does not
        fields = _fields_of(translation)
        # A pattern may match fields of several code lists (`*`): each translation applies to every one of them.
        for list_name in dict.fromkeys(name for name in map(code_list_for, fields) if name is not None):
            problems += _checked_against(translation, list_name, reference)
    for translation in config.codes[config.bundled_codes :]:  # a bundled `when` is not the user's to change
        problems += _tests_of_codes(first, translation, reference)
    return _on_their_lines(problems)


def _tests_of_codes(
    first: TranslatedFirst, translation: CodeTranslation, reference: ReferenceData
) -> list[MappingProblem]:
    """Values of a user's `when` that never match while others of it can (warnings, once per field and value): one
    the lists in use lack (one the mappings always translate first is refused by refuse_dead_tests), which fails a
    record anyway (review97 F1) unless a pull brings it, or brought it and it was retired since.
    Never an error: the lists in use differ from place to place (pulled, bundled), and a `reference
    pull` that retires a code is not to stop a sync (review213 F1, F2)."""
    problems = []
    said: set[tuple[str, str]] = set()
    bundled = load_reference(reference.api_version) if reference.pulled else reference
    for old, alternatives in translation.translate.items():
        for alternative in alternatives:
            for name, values in sorted(alternative.when.items()):
                list_name = code_list_for(name)
                if list_name is None:
                    continue
                held = reference.codes(list_name)
                for value in sorted(values):
                    if (name, value) in said:
                        continue
                    why = _why_unmatched(first, reference, bundled, name, value, list_name, held)
                    if why is None:
                        continue
                    said.add((name, value))
                    problems.append(
                        MappingProblem(
                            translation.origin,
                            translation.pattern,
                            f"'{old}': `when` tests {name} for '{value}', {why}",
                            "warning",
                            translation.key_of(old),
                        )
                    )
    return problems


def _why_unmatched(
    first: TranslatedFirst,
    reference: ReferenceData,
    bundled: ReferenceData,
    name: str,
    value: str,
    list_name: str,
    held: frozenset[str],
) -> str | None:
    """Why a `when`'s value never matches a record sent, None where it can. A value the mappings always translate
    first is refused before this (refuse_dead_tests)."""
    if value in held:
        return None  # a code of the lists
    if made := first.unless_unmatched(name, value):
        codes = " or ".join(repr(to) for to in made)
        return (
            f"which `when`s of its own translate to {codes} before this `when` is looked at (by "
            f"{first.place_of(name, value)}): it is kept only where none of them matches, and a record with it then "
            f"fails as an invalid code, so that value matches no record sent; test {codes}"
        )
    found = first.table(name)
    if found is not None and value in found.translate:
        return None  # one a translation makes
    fails = "a record with it fails as an invalid code, so that value matches no record sent"
    if value in bundled.codes(list_name):  # a pull has taken it away
        return f"which the {list_name} list pulled {_pulled_when(reference)}no longer holds: {fails}"
    lists = (
        f"the {list_name} list pulled {_pulled_when(reference)}"
        if reference.pulled
        else f"the bundled {list_name} list ({bundled_snapshot(reference.api_version)})"
    )
    return (
        f"which is not in {lists}: {fails}; if Register lists it now, run `register-batch reference pull`, else test "
        "the Register code"
    )


def _pulled_when(reference: ReferenceData) -> str:
    return f"at {reference.pulled_at} " if reference.pulled_at else ""


# How many letters a source may be from a HESA tag to be warned of without an extract: a typo's one or two. An SRS's
# own tag may hold a HESA tag and a word (F_OURENDDATE, three letters from F_ENDDATE); in an extract, a record lacking
# the source beside a tag nothing reads is evidence enough for three (Mapper._misspelt_sources: LEAVE_DATE).
TYPO_LETTERS = 2


def near_hesa_tags(config: MappingConfig) -> list[MappingProblem]:
    """A warning for each source a user's HESA field map reads that is no HESA tag but a few letters from one:
    F_ITTKY for F_ITTKEY matches nothing in an extract, and the field is blank in every record (review161 F1). Said
    without an extract to look in (migration.md's first check); an SRS's own tags (LEAVE_DATE) are no HESA tags
    and cannot be judged without one, so only a near miss is said. HESA's tags: those the bundled field map reads
    or knows (`known_tags`: mappings/fields/hesa.yaml, hesa-formats.md)."""
    bundled = config.bundled_fields.get("hesa")
    if bundled is None:
        return []
    problems = []
    for named in config.named_sources:
        if named.family != "hesa":
            continue
        for name in named.names:
            if name not in bundled.known and (tag := near_miss(name, bundled.known, TYPO_LETTERS)) is not None:
                problems.append(
                    MappingProblem(
                        named.file,
                        named.key,
                        f"{name} is not a HESA tag; did you mean {tag}? (a tag of your SRS's own is not checked "
                        "here: `register-batch mappings check --mapping FILE INPUT` looks for every source in an "
                        "extract)",
                        "warning",
                        line=named.line,
                    )
                )
    return problems


def _checked_against(translation: CodeTranslation, list_name: str, reference: ReferenceData) -> list[MappingProblem]:
    """A block's translations against one of Register's code lists: a target missing from it or refused for every
    trainee (errors), a code valid in it translated away or listed as untranslatable (warnings)."""
    problems = []
    codes = reference.codes(list_name)
    refused = REFUSED_CODES.get(list_name, frozenset())
    for old, alternatives in translation.translate.items():
        for alternative in alternatives:
            if alternative.to == old:  # left as it is: checked as any untranslated code is (validation, INPUT)
                continue
            if alternative.to in refused:
                problems.append(
                    MappingProblem(
                        translation.origin,
                        translation.pattern,
                        f"'{old}' translates to '{alternative.to}', which Register refuses for every trainee: it is "
                        f"in Register's {list_name} list, but no trainee may have it now, and it has no replacement; "
                        f"translate '{old}' to each trainee's current code (`register-batch reference show "
                        f"{list_name}` lists them; invalid_{list_name} in docs/rules.md says why)",
                        key=translation.key_of(old),
                    )
                )
            elif alternative.to not in codes:
                problems.append(
                    MappingProblem(
                        translation.origin,
                        translation.pattern,
                        f"'{old}' translates to '{alternative.to}', which is not in Register's {list_name} list "
                        f"(`register-batch reference show {list_name}` lists its codes)",
                        key=translation.key_of(old),
                    )
                )
        if (
            list_name == "nationality"
            and old != KOSOVO_NATIONALITY
            and not names_kosovan(old, reference)
            and any(alternative.to == COUNTRY_NOT_NATIONALITY for alternative in alternatives)
        ):
            problems.append(
                MappingProblem(
                    translation.origin,
                    translation.pattern,
                    f"'{old}' translates to 'XK', which is Kosovan in Register's nationality list, though it is the "
                    "country code for the United Kingdom, not otherwise specified (docs/faq.md): translate British "
                    "to GB",
                    "warning",
                    translation.key_of(old),
                )
            )
        if _accepted(reference, list_name, old) and not _kept(old, alternatives):
            problems.append(
                MappingProblem(
                    translation.origin,
                    translation.pattern,
                    f"'{old}' is itself a valid {list_name} code; translating it changes valid data",
                    "warning",
                    translation.key_of(old),
                )
            )
    for old in translation.no_translation:
        # validate fails every record with it (untranslatable_code_register_takes), though Register takes it
        # (review117 F1).
        if _accepted(reference, list_name, old):
            # A bundled note the pulled lists outdate is not followed: the code is sent (review210 F6).
            outdated = translation.block_of(old).bundled and old in reference.added_codes(list_name)
            effect = (
                "records with it are sent as written, with a no_translation_now_listed warning"
                if outdated
                else "listing it under no_translation makes every record with it an error"
            )
            problems.append(
                MappingProblem(
                    translation.origin,
                    translation.pattern,
                    f"'{old}' is itself a valid {list_name} code; {effect}",
                    "warning",
                    translation.key_of(old),
                )
            )
    return problems


def _accepted(reference: ReferenceData, list_name: str, code: str) -> bool:
    return code in reference.codes(list_name) and code not in REFUSED_CODES.get(list_name, ())


@dataclass(frozen=True)
class FirstSeen:
    """Where an uncovered code is first found, and validate's hint beside it (a leading zero lost), if any: the
    to-do list of `mappings check INPUT` says where to look without a run of `validate` (review58 F10)."""

    input: str
    record: int | None
    line: int | None
    hint: str | None = None
    translated_to: str | None = None  # the code a mapping translated the input's code to, not in Register's list
    row: int | None = None  # a CSV record's spreadsheet row where it differs from `line` (SourceRef.row)

    def place(self, with_input: bool) -> str:
        """`record 6, line 123` (`record 6, row 7 (line 9)` after a CSV cell over several lines), after the input's
        name where several inputs are read."""
        parts = [self.input] if with_input else []
        if self.record is not None:
            parts.append(f"record {self.record}")
        if self.line is not None:
            parts.append(place_in_input(None, self.line, self.row))
        return ", ".join(parts)


@dataclass
class MisspeltTag:
    """A tag an input misspells (misspelt_tag: a HESA tag, a warning; misspelt_state_tag: a withdrawal's or a
    deferral's, an error), for `mappings check INPUT`: where it is first found, the record's issue there ("did you
    mean <F_NATION>?"), its code and severity, and how many records hold it."""

    first: FirstSeen
    message: str
    code: str = MISSPELT_TAG
    severity: str = "warning"
    records: int = 1


@dataclass
class BundledTranslation:
    """A code of the inputs that a bundled translation changed (mappings/codes/legacy.yaml's C21053 tables apply to
    records of every layout), for `mappings check INPUT` to list: an SRS's own code can be a legacy HESA code too
    (its `2` is not C21053's female), and the vendor is to confirm or override each one (review209 F4)."""

    first: FirstSeen
    to: str  # what it was translated to (the first record's)
    block: CodeTranslation
    records: int = 1

    @property
    def named(self) -> str:
        """The bundled block, as `mappings/codes/legacy.yaml sex (C21053 sex codes)`."""
        return f"{self.block.origin} {self.block.pattern} ({self.block.source})"


def uncovered_codes(
    inputs: list[str] | tuple[str, ...],
    fmt: str,
    config: MappingConfig,
    reference: ReferenceData,
    sources_seen: dict[str, int] | None = None,
    first_seen: dict[tuple[str, str], FirstSeen] | None = None,
    misspelt: dict[tuple[str, str], str] | None = None,
    misspelt_tags: dict[tuple[str, str], MisspeltTag] | None = None,
    bundled: dict[tuple[str, str], BundledTranslation] | None = None,
) -> Counter[tuple[str, str]]:
    """(field, code) pairs seen in the inputs, whose code after translation Register's lists do not hold, or that a
    mapping lists as untranslatable (`no_translation`): the codes `validate` fails a record for (review117 F1). The
    code is the input's: one a mapping translates to a code not in the list is the input's `M`, not the `13` the
    mapping made, which the input does not have (its FirstSeen says what it became; review161 F3).

    With `sources_seen`, also notes which sources the users' field maps name the inputs have, per input family (as
    SourceWatch bits, for unseen_sources). With `first_seen`, where each pair is first found. With `misspelt`, the
    tag or column nothing reads that the mapper took for the misspelling of a source a record lacks (its
    mapped_source_misspelt error), by (family, the issue's field), first found: for unseen_sources' "did you mean".
    With `misspelt_tags`, the HESA tags the inputs misspell (their misspelt_tag errors), by (the tag written, the
    issue's field). With `bundled`, the codes a bundled translation changed, by (field as an issue names it without
    its index, the input's code).
    """
    mapper = Mapper(config, reference)
    watch = SourceWatch(config)
    seen: Counter[tuple[str, str]] = Counter()
    for info, records in open_inputs(list(inputs), fmt, config):
        family = family_of(info.format)
        for raw in records:
            record = mapper.map(raw, info.format)
            if sources_seen is not None:
                known = sources_seen.get(family, 0)
                sources_seen[family] = known | watch.seen(raw, info.format, known, record.vintage)
            if misspelt is not None:
                for issue in record.issues:
                    if issue.code == MISSPELT and issue.field is not None and issue.value is not None:
                        misspelt.setdefault((family, issue.field), issue.value)
            if misspelt_tags is not None:
                for issue in record.issues:
                    if (
                        issue.code in (MISSPELT_TAG, MISSPELT_STATE_TAG)
                        and issue.field is not None
                        and issue.value is not None
                    ):
                        key = (issue.value, issue.field)
                        if (said := misspelt_tags.get(key)) is not None:
                            said.records += 1
                        else:
                            place = FirstSeen(raw.source.input, raw.source.record, issue.line)
                            misspelt_tags[key] = MisspeltTag(place, issue.message, issue.code, issue.severity.value)
            if record.misaligned:
                continue  # its cells do not line up with the header: its values are other fields' (review117 F8)
            if bundled is not None:
                _bundled_translations(record, raw.source, mapper, bundled)
            # (field, label as validate names it, code, line): a degree's code, its degree's line, as validate's
            # issue names it (TraineeRecord.item_line; review164 F2); the record's own, the record's.
            found: list[tuple[str, str, str, int | None]] = []
            # A code a mapping refuses is an error whether or not Register's list holds it (the mapper's issue).
            refused = {issue.field for issue in record.issues if issue.code in (REFUSED, TAKEN)}
            # The input's code of each value a mapping translated (its label as the issue names it: its old code).
            translated = {issue.field: issue.value for issue in record.issues if issue.code == "legacy_code_translated"}
            for field, value in record.data.items():
                list_name = code_list_for(field)
                if (
                    list_name
                    and isinstance(value, str)
                    and (field in refused or not _accepted(reference, list_name, value))
                ):
                    found.append((field, field, value, raw.source.line))
            for index, degree in enumerate(record.data.get("degrees_attributes") or ()):
                for field, value in degree.items():
                    list_name = code_list_for(f"degrees_attributes.{field}")
                    label = f"degrees_attributes[{index}].{field}"
                    if list_name and (label in refused or not _accepted(reference, list_name, value)):
                        line = record.item_line("degrees_attributes", index) or raw.source.line
                        found.append((f"degrees_attributes.{field}", label, value, line))
            for field, label, value, line in found:
                original = translated.get(label)
                code = value if original is None else original
                seen[(field, code)] += 1
                if first_seen is not None and (field, code) not in first_seen:
                    # No leading-zero hint for a mapping's code: no spreadsheet made it (the mapping file did).
                    hint = None if original else _hint_for(label, value, record.data, raw.source, mapper, reference)
                    first_seen[(field, code)] = FirstSeen(
                        raw.source.input,
                        raw.source.record,
                        line,
                        hint,
                        value if original else None,
                        row=raw.source.row if line == raw.source.line else None,
                    )
    return seen


_INDEX = re.compile(r"\[[0-9]+\]")


def _bundled_translations(
    record: TraineeRecord, where: SourceRef, mapper: Mapper, found: dict[tuple[str, str], BundledTranslation]
) -> None:
    """Note each code of the record a bundled block translated (its legacy_code_translated issue), by field and
    code, counted, with where it is first found and the block."""
    for issue in record.issues:
        if issue.code != "legacy_code_translated" or issue.field is None or issue.value is None:
            continue
        field = _INDEX.sub("", issue.field)  # degrees_attributes[0].subject: the degree field's translation
        translation = mapper.translation(field)
        if translation is None or issue.value not in translation.translate:
            continue
        block = translation.block_of(issue.value)
        if not block.bundled:
            continue
        key = (field, issue.value)
        if (said := found.get(key)) is not None:
            said.records += 1
            continue
        line = issue.line if issue.line is not None else where.line
        target = next(iter(translation.translate[issue.value])).to
        to = _translated_to(record, issue.field) or target
        found[key] = BundledTranslation(FirstSeen(where.input, where.record, line), to, block)


def _translated_to(record: TraineeRecord, label: str) -> str | None:
    """The code a field of the record holds now (a degree's by its index), as translated."""
    if not label.startswith("degrees_attributes["):
        value = record.data.get(label)
        return value if isinstance(value, str) else None
    index, _, name = label.removeprefix("degrees_attributes[").partition("].")
    degrees = record.data.get("degrees_attributes") or ()
    value = degrees[int(index)].get(name) if index.isdigit() and int(index) < len(degrees) else None
    return value if isinstance(value, str) else None


def _hint_for(
    label: str, value: str, data: dict[str, Any], where: SourceRef, mapper: Mapper, reference: ReferenceData
) -> str | None:
    """validate's hint beside the code's error, without the field's name it starts with (`leading_zeros_lost`:
    "'1' is not a code, but '01' is: ..."; `code_case`; `code_not_translated`). Its own rules, given the record's
    facts as validate gives them (the route list depends on the start cycle), so the two commands never differ."""
    issue = make_issue(
        input=where.input,
        record=where.record,
        line=where.line,
        field=label,
        value=value,
        code="invalid_code",
        severity=Severity.ERROR,
        message="",
    )
    facts = Facts.of(data, as_of_or_today(None), reference)  # today in UTC, as validate counts it
    # Then a Register code in another letter case, then a user's key in another case or Unicode form or the user's
    # block to add the code to (validate's code_not_translated, review209 F5, review213 F7): the first that applies.
    for rule in (codes_kept_their_leading_zeros, codes_are_written_in_their_case, codes_a_mapping_file_could_translate):
        if findings := rule(issue, facts, mapper.translation):
            return str(findings[0][2]).removeprefix(f"{label}: ")
    return None


def unseen_sources(
    config: MappingConfig, sources_seen: dict[str, int], misspelt: dict[tuple[str, str], str] | None = None
) -> list[UnseenSource]:
    """The fields a user's mapping file reads from a column or tag that no record of the inputs has, where no other
    source the records read the field from (an older layout's own, SourceWatch) gave it either.

    Such a field is read as blank for every record (a misspelt tag in HESA XML, which ignores unknown tags; a column
    the export does not have): `validate` warns per input, and `mappings check INPUT` names them for all the inputs.
    Only families the inputs hold.
    """
    return SourceWatch(config).unseen(sources_seen, misspelt)
