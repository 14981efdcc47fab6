"""Apply a MappingConfig to raw records, producing TraineeRecords with mapping issues attached."""

from __future__ import annotations

import re
from typing import Any

from register_batch.mapping.loader import CodeTranslation, FieldMap, MappingConfig
from register_batch.model import Severity, TraineeRecord
from register_batch.readers.base import RawRecord

UK_COUNTRIES = frozenset({"XF", "XG", "XH", "XI", "XK"})  # hesa-formats.md §2.3.4
_FLAT_GROUP = re.compile(r"^(?P<tag>.+?)_(?P<n>\d+)$")
_REASON_SPLIT = re.compile(r"[;|]")


def family_of(fmt: str) -> str:
    return "register-csv" if fmt == "register-csv" else "hesa"


class Mapper:
    """Turns RawRecords of one input format into TraineeRecords (API field names, translated codes)."""

    def __init__(self, config: MappingConfig):
        self.config = config
        self._translations: dict[str, CodeTranslation | None] = {}

    def translation(self, field_name: str) -> CodeTranslation | None:
        try:
            return self._translations[field_name]
        except KeyError:
            found = self._translations[field_name] = self.config.translations_for(field_name)
            return found

    def map(self, raw: RawRecord, fmt: str) -> TraineeRecord:
        fmap = self.config.fields[family_of(fmt)]
        fields = raw.fields
        trainee_map = fmap.trainee
        vintage = None
        if fmap.vintages:
            for name, any_of, overrides in fmap.vintages:
                if any(tag in fields for tag in any_of):
                    vintage = name
                    if overrides:
                        trainee_map = {**trainee_map, **overrides}
                    break
        data: dict[str, Any] = {}
        for api_field, sources in trainee_map.items():
            for source in sources:
                value = fields.get(source)
                if value is not None:
                    data[api_field] = value
                    break
        degrees = self._degrees(raw, fmap)
        if degrees:
            data["degrees_attributes"] = degrees
        placements = self._placements(raw, fmap)
        if placements:
            data["placements_attributes"] = placements
        record = TraineeRecord(source=raw.source, data=data, vintage=vintage)
        record.withdrawal = self._optional(fields, fmap.withdrawal)
        if record.withdrawal and "reasons" in record.withdrawal:
            reasons = [r.strip() for r in _REASON_SPLIT.split(record.withdrawal["reasons"]) if r.strip()]
            record.withdrawal["reasons"] = reasons
        record.deferral = self._optional(fields, fmap.deferral)
        for column, problem in raw.problems:
            record.issue("malformed_record", problem, field=column)
        self._translate(record)
        return record

    @staticmethod
    def _optional(fields: dict[str, str | None], table: dict[str, tuple[str, ...]]) -> dict[str, Any] | None:
        found = {}
        for api_field, sources in table.items():
            for source in sources:
                value = fields.get(source)
                if value is not None:
                    found[api_field] = value
                    break
        return found or None

    def _group_rows(self, raw: RawRecord, group: str | None, columns: dict[str, tuple[str, ...]]) -> list[dict]:
        """Rows of a repeated group: nested elements (XML) or numbered columns (flat CSV)."""
        if group and group in raw.groups:
            return raw.groups[group]
        wanted = {source for sources in columns.values() for source in sources}
        rows: dict[int, dict[str, str | None]] = {}
        for name, value in raw.fields.items():
            if name in wanted:
                rows.setdefault(1, {})[name] = value
                continue
            match = _FLAT_GROUP.match(name)
            if match and match["tag"] in wanted:
                rows.setdefault(int(match["n"]), {})[match["tag"]] = value
        return [rows[n] for n in sorted(rows)]

    def _degrees(self, raw: RawRecord, fmap: FieldMap) -> list[dict[str, str]]:
        if not fmap.degree_fields:
            return []
        degrees = []
        for row in self._group_rows(raw, fmap.degree_group, fmap.degree_fields):
            degree: dict[str, str] = {}
            for api_field, sources in fmap.degree_fields.items():
                for source in sources:
                    value = row.get(source)
                    if value is not None:
                        degree[api_field] = value
                        break
            if not degree:
                continue  # a qualification whose values are all NULL is dropped (hesa-formats.md §1.4)
            degree_type = degree.pop("degree_type", None)
            if degree_type is not None:
                # Locale rule (§5 item 12): UK if the country is blank or a UK code, or an institution is given.
                country = degree.get("country")
                if country is None or country in UK_COUNTRIES or degree.get("institution"):
                    degree["uk_degree"] = degree_type
                else:
                    degree["non_uk_degree"] = degree_type
            if degree.get("country") in UK_COUNTRIES and "uk_degree" in degree:
                # A UK degree's country is stored as null by Register (§3.7); do not send it.
                degree.pop("country")
            degrees.append(degree)
        return degrees

    def _placements(self, raw: RawRecord, fmap: FieldMap) -> list[dict[str, str]]:
        urns: list[dict[str, str]] = []
        if fmap.placement_columns:
            for column in fmap.placement_columns:
                value = raw.fields.get(column)
                if value is not None:
                    urns.append({"urn": value})
        elif fmap.placement_fields:
            for row in self._group_rows(raw, fmap.placement_group, fmap.placement_fields):
                placement = {}
                for api_field, sources in fmap.placement_fields.items():
                    for source in sources:
                        value = row.get(source)
                        if value is not None:
                            placement[api_field] = value
                            break
                if placement:
                    urns.append(placement)
        for number, placement in enumerate(urns, start=1):
            placement.setdefault("name", f"Placement {number}")
        return urns

    def _translate(self, record: TraineeRecord) -> None:
        data = record.data
        for field_name in list(data):
            if field_name in ("degrees_attributes", "placements_attributes"):
                continue
            translation = self.translation(field_name)
            if translation is not None:
                self._apply(record, data, field_name, field_name, translation)
        for index, degree in enumerate(data.get("degrees_attributes") or ()):
            for field_name in list(degree):
                translation = self.translation(f"degrees_attributes.{field_name}")
                if translation is not None:
                    self._apply(record, degree, field_name, f"degrees_attributes[{index}].{field_name}", translation)

    @staticmethod
    def _apply(
        record: TraineeRecord, holder: dict[str, Any], key: str, label: str, translation: CodeTranslation
    ) -> None:
        value = holder[key]
        reason = translation.no_translation.get(value)
        if reason is not None:
            record.issue("untranslatable_code", f"{label}: {reason}", field=label, value=value)
            record.reported.add(label)
            return
        alternatives = translation.translate.get(value)
        if not alternatives:
            return
        for alternative in alternatives:
            if all(record.data.get(other) in allowed for other, allowed in alternative.when.items()):
                holder[key] = alternative.to
                note = f" ({alternative.note})" if alternative.note else ""
                record.issue(
                    "legacy_code_translated",
                    f"{label}: legacy code '{value}' translated to '{alternative.to}'{note}; {translation.source}",
                    field=label,
                    value=value,
                    severity=Severity.WARNING,
                )
                return
