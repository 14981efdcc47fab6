"""`mappings check`: every code a mapping file translates to exists in Register's lists, and which codes in an
input no mapping covers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from register_batch.mapping.apply import _FLAT_GROUP, Mapper, family_of
from register_batch.mapping.loader import CodeTranslation, MappingConfig, NamedSource
from register_batch.readers import open_inputs
from register_batch.reference import DEGREE_CODE_FIELDS, DISABILITY_FIELDS, TRAINEE_CODE_FIELDS, ReferenceData


@dataclass(frozen=True)
class MappingProblem:
    origin: str
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.origin}: {self.field}: {self.message}"


def code_list_for(field: str) -> str | None:
    """The reference list a mapped field's codes belong to (`disability*` and degree fields included)."""
    if field in TRAINEE_CODE_FIELDS:
        return TRAINEE_CODE_FIELDS[field]
    if field.startswith("disability"):
        return "disability"
    if field.startswith("degrees_attributes."):
        return DEGREE_CODE_FIELDS.get(field.split(".", 1)[1])
    return None


def _fields_of(translation: CodeTranslation) -> list[str]:
    candidates = [*TRAINEE_CODE_FIELDS, *DISABILITY_FIELDS, *(f"degrees_attributes.{f}" for f in DEGREE_CODE_FIELDS)]
    return [f for f in candidates if translation.applies_to(f)]


def check_mappings(config: MappingConfig, reference: ReferenceData) -> list[MappingProblem]:
    """Targets missing from Register's lists (errors) and translations that hide a valid code (warnings)."""
    problems: list[MappingProblem] = []
    for translation in config.codes:
        fields = _fields_of(translation)
        if not fields:
            problems.append(
                MappingProblem(translation.origin, translation.pattern, "matches no coded field of the v2026.1 API")
            )
            continue
        list_name = code_list_for(fields[0])
        if list_name is None:
            continue
        codes = reference.codes(list_name)
        for old, alternatives in translation.translate.items():
            for alternative in alternatives:
                if alternative.to not in codes:
                    problems.append(
                        MappingProblem(
                            translation.origin,
                            translation.pattern,
                            f"'{old}' translates to '{alternative.to}', which is not in Register's {list_name} list",
                        )
                    )
            if old in codes:
                problems.append(
                    MappingProblem(
                        translation.origin,
                        translation.pattern,
                        f"'{old}' is itself a valid {list_name} code; translating it changes valid data",
                        "warning",
                    )
                )
    return problems


def uncovered_codes(
    inputs: list[str] | tuple[str, ...],
    fmt: str,
    config: MappingConfig,
    reference: ReferenceData,
    names_seen: dict[str, set[str]] | None = None,
) -> Counter[tuple[str, str]]:
    """(field, code) pairs seen in the inputs, after translation, that Register's lists do not hold.

    With `names_seen`, also collects every column/tag name the inputs carry, per input family (for unseen_sources).
    """
    mapper = Mapper(config)
    seen: Counter[tuple[str, str]] = Counter()
    for info, records in open_inputs(list(inputs), fmt, config):
        names = names_seen.setdefault(family_of(info.format), set()) if names_seen is not None else None
        for raw in records:
            if names is not None:
                names.update(raw.fields)
                for rows in raw.groups.values():
                    for row in rows:
                        names.update(row)
            record = mapper.map(raw, info.format)
            for field, value in record.data.items():
                list_name = code_list_for(field)
                if list_name and isinstance(value, str) and value not in reference.codes(list_name):
                    seen[(field, value)] += 1
            for degree in record.data.get("degrees_attributes") or ():
                for field, value in degree.items():
                    list_name = code_list_for(f"degrees_attributes.{field}")
                    if list_name and value not in reference.codes(list_name):
                        seen[(f"degrees_attributes.{field}", value)] += 1
    return seen


def unseen_sources(config: MappingConfig, names_seen: dict[str, set[str]]) -> list[NamedSource]:
    """The fields a user's mapping file reads from a column or tag that no record of the inputs has.

    Such a field is read as blank for every record without a word (a misspelt tag in HESA XML, which ignores unknown
    tags; a column the export does not have), so `mappings check INPUT` says so. Only families the inputs hold.
    """
    # F_DEGSBJ1_2 is F_DEGSBJ1 of degree 2: a family's names with its numbered group columns as their tags too
    present = {
        family: names | {m["tag"] for n in names if (m := _FLAT_GROUP.match(n))} for family, names in names_seen.items()
    }
    return [
        named
        for named in config.named_sources
        if named.family in present and not any(n in present[named.family] for n in named.names)
    ]
