"""Write drafts as HESA ITT XML, HESA-named CSV (per collection layout) or Register's bulk-add CSV.

Tag sets and order follow the HESA fixtures of each collection (hesa-formats.md §1.2, §1.3, §1.6): not
alphabetical, `PLACEMENTS` after the start dates, `F_SBJCA1-3`, then `PREVIOUSQUALIFICATIONS`, then
`F_COMMIT_TIMESTAMP`; `NULL` for no value. A HESA-named CSV has the same columns, repeated groups as
numbered columns (`F_PLMNTSCH_1`, `F_DEGTYPE_2`). C21053 records carry that collection's code lists,
found by inverting the project's own legacy translations (mappings/codes/legacy.yaml), so reading them
back gives the current codes with `legacy_code_translated` warnings and nothing else.
"""

from __future__ import annotations

import csv
from operator import itemgetter
from typing import IO, Any

from register_batch.generate.build import Draft, Layout
from register_batch.mapping import load_mapping
from register_batch.mapping.loader import MappingConfig
from register_batch.readers.layouts import TAG_ORDER
from register_batch.writers import register_csv_row, register_template

VINTAGES = ("C24053", "C23053", "C22053", "C21053")

PLACEMENT_TAGS = ("F_PLMNTSCH", "F_PLMNTDYS")
QUALIFICATION_TAGS = (
    "F_BURSFLAG",
    "F_DEGCLSS",
    "F_DEGCTRY",
    "F_DEGENDDT",
    "F_DEGEST",
    "F_DEGLENGTH",
    "F_DEGSBJ1",
    "F_DEGSBJ2",
    "F_DEGSBJ3",
    "F_DEGSTDT",
    "F_DEGTYPE",
    "F_FIRSTDEG",
)
CSV_PLACEMENTS = 3
CSV_DEGREES = 2

# HESA tag -> API field, for the tags every layout reads the same way.
API_TAGS = {
    "F_HUSID": "hesa_id",
    "F_OWNSTU": "provider_trainee_id",
    "F_APPLYAPPLICATIONID": "application_id",
    "F_FNAMES": "first_names",
    "F_SURNAME": "last_name",
    "F_PSURNAME": "previous_last_name",
    "F_BIRTHDTE": "date_of_birth",
    "F_NIN": "ni_number",
    "F_SEXID": "sex",
    "F_NQTEMAIL": "email",
    "F_NATION": "nationality",
    "F_ETHNIC": "ethnicity",
    **{f"F_DISABLE{n}": f"disability{n}" for n in range(1, 10)},
    "F_DISABLE": "disability1",
    "F_ITTAIM": "itt_aim",
    "F_ENTRYRTE": "training_route",
    "F_QLAIM": "itt_qualification_aim",
    "F_SBJCA1": "course_subject_1",
    "F_SBJCA2": "course_subject_2",
    "F_SBJCA3": "course_subject_3",
    "F_MODE": "study_mode",
    "F_ITTSTARTDATE": "itt_start_date",
    "F_TRAINEESTARTDATE": "trainee_start_date",
    "F_EXPECTEDENDDATE": "itt_end_date",
    "F_ITTPHSC": "course_age_range",
    "F_YEARPRG": "course_year",
    "F_SDLEAD": "training_partner_urn",
    "F_SDEMPLOY": "employing_school_urn",
    "F_PGAPPSTDT": "pg_apprenticeship_start_date",
    "F_FUNDCODE": "fund_code",
    "F_BURSLEV": "funding_method",
    "F_INITIATIVES1": "training_initiative",
    "F_INITIATIVES2": "additional_training_initiative",
}
# Fields whose C21053 codes differ from today's (hesa-formats.md §1.6): written in the old code list.
LEGACY_FIELDS = (
    "sex",
    "ethnicity",
    "disability1",
    "course_age_range",
    "training_initiative",
    "additional_training_initiative",
    "training_route",
)


class LegacyEncoder:
    """Today's code -> the C21053 code the project's mapping translates back to it (else unchanged).

    Built from mappings/codes/legacy.yaml, so what is written always reads back as the same value:
    route 11/12 becomes `01` only when the record's qualification aim makes the mapping choose it again.
    """

    def __init__(self, config: MappingConfig | None = None):
        config = config or load_mapping()
        self._table: dict[str, dict[str, list[tuple[str, Any]]]] = {}
        for field in LEGACY_FIELDS:
            translation = config.translations_for(field)
            by_target: dict[str, list[tuple[str, Any]]] = {}
            if translation is not None:
                for old, alternatives in translation.translate.items():
                    for alternative in alternatives:
                        by_target.setdefault(alternative.to, []).append((old, alternatives))
            self._table[field] = by_target

    def legacy_values(self, field: str) -> frozenset[str]:
        """The current codes a C21053 record can express for `field`."""
        return frozenset(self._table.get(field, {}))

    def encode(self, data: dict[str, Any], field: str, value: str | None) -> str | None:
        if value is None:
            return None
        for old, alternatives in self._table[field].get(value, ()):
            for alternative in alternatives:
                if all(data.get(other) in allowed for other, allowed in alternative.when.items()):
                    if alternative.to == value:
                        return old
                    break
        return value


def _xml_text(value: str) -> str:
    if "&" in value or "<" in value or ">" in value:
        value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return value


_LEGACY_TAGS = {field: f"@{tag}" for tag, field in API_TAGS.items() if field in LEGACY_FIELDS and tag != "F_DISABLE1"}
TAGS = frozenset(tag for order in TAG_ORDER.values() for tag in order)
_DATA, _LEGACY, _EXTRA, _ITTCOMDATE, _COMDATE, _ENDDATE, _PLACEMENTS, _QUALIFICATIONS = range(8)
_SPECIAL = {
    "F_ITTCOMDATE": _ITTCOMDATE,
    "F_COMDATE": _COMDATE,
    "F_ENDDATE": _ENDDATE,
    "PLACEMENTS": _PLACEMENTS,
    "PREVIOUSQUALIFICATIONS": _QUALIFICATIONS,
}


class HesaRecord:
    """The tag values of one draft in a HESA layout, in the layout's order."""

    def __init__(self, encoder: LegacyEncoder):
        self.encoder = encoder
        self._plans: dict[str, list[tuple[str, int, str]]] = {}
        self._getters: dict[str, Any] = {}
        self._blank = ("@F_ENDDATE", "@F_COMDATE", "@F_ITTCOMDATE", "@PLACEMENTS", "@PREVIOUSQUALIFICATIONS", *TAGS)

    def plan(self, layout: Layout) -> list[tuple[str, int, str]]:
        """(tag, how to get its value, key) for each tag of the layout: worked out once per layout."""
        found = self._plans.get(layout.name)
        if found is None:
            found = []
            for tag in TAG_ORDER[layout.name]:
                field = API_TAGS.get(tag)
                if field is not None:
                    found.append((tag, _LEGACY if layout.legacy_codes and field in LEGACY_FIELDS else _DATA, field))
                else:
                    found.append((tag, _SPECIAL.get(tag, _EXTRA), tag))
            self._plans[layout.name] = found
        return found

    def values(self, draft: Draft) -> list[Any]:
        """The value of each entry of `plan(draft.layout)` (None for NULL and for the two group markers).

        C21053/C22053 have one start date: F_ITTCOMDATE, or F_COMDATE when that is NULL (both give
        itt_start_date and trainee_start_date). C21053's end date is F_ENDDATE.
        """
        data, extras, layout = draft.data, draft.extras, draft.layout
        getter = self._getters.get(layout.name)
        if getter is None:
            keys = [key if how in (_DATA, _EXTRA) else f"@{tag}" for tag, how, key in self.plan(layout)]
            getter = self._getters[layout.name] = itemgetter(*keys)
        merged = dict.fromkeys(self._blank)
        merged.update(data)
        merged.update(extras)
        start = data["itt_start_date"]
        if layout.legacy_codes:
            encode = self.encoder.encode
            for field in LEGACY_FIELDS:
                merged[_LEGACY_TAGS[field]] = encode(data, field, data[field])
            merged["@F_ENDDATE"] = data["itt_end_date"]
            merged["@F_COMDATE"] = start if extras.get("_comdate_only") else None
        else:
            merged["@F_COMDATE"] = start
        merged["@F_ITTCOMDATE"] = None if extras.get("_comdate_only") else start
        return list(getter(merged))

    @staticmethod
    def placement_rows(draft: Draft) -> list[tuple[Any, Any]]:
        return [(p.get("urn"), p.get("_days")) for p in draft.placements]

    @staticmethod
    def qualification_rows(draft: Draft) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for d in draft.degrees:
            country = d.get("country") if "country" in d else d.get("_country")
            rows.append(
                (
                    d.get("_bursflag"),
                    d.get("grade"),
                    country,
                    d.get("graduation_year"),
                    d.get("institution"),
                    d.get("_length"),
                    d.get("subject"),
                    d.get("_sbj2"),
                    None,
                    d.get("_start"),
                    d.get("uk_degree") if d.get("uk_degree") is not None else d.get("non_uk_degree"),
                    d.get("_firstdeg"),
                )
            )
        if not rows and draft.extras.get("_null_qualification"):
            rows.append((None,) * len(QUALIFICATION_TAGS))
        return rows


def _element(indent: str, tag: str, value: Any) -> str:
    if value is None:
        return f"{indent}<{tag}>NULL</{tag}>\n"
    if "&" in value or "<" in value or ">" in value:
        value = _xml_text(value)
    return f"{indent}<{tag}>{value}</{tag}>\n"


_PLACEMENT = (
    "            <PLACEMENT>\n"
    + "".join(f"                <{tag}>{{}}</{tag}>\n" for tag in PLACEMENT_TAGS)
    + "            </PLACEMENT>\n"
)
_QUALIFICATION = (
    "            <PREVIOUSQUALIFICATION>\n"
    + "".join(f"                <{tag}>{{}}</{tag}>\n" for tag in QUALIFICATION_TAGS)
    + "            </PREVIOUSQUALIFICATION>\n"
)


class HesaXmlWriter:
    """`<ITTRecord>` with one `<Student>` per draft, indented like Register's fixture."""

    def __init__(self, fh: IO[str], encoder: LegacyEncoder):
        self.fh = fh
        self.record = HesaRecord(encoder)
        self._templates: dict[str, tuple[list[tuple[str, int]], list[int], list[int]]] = {}
        fh.write('<?xml version="1.0" encoding="UTF-8"?>\n<ITTRecord>\n')

    def _template(self, layout: Layout) -> tuple[list[tuple[str, int]], list[int], list[int]]:
        """The layout's scalar tags as str.format templates, cut where the two groups go."""
        found = self._templates.get(layout.name)
        if found is None:
            segments, groups, scalar_positions = [""], [], []
            for position, (tag, how, _key) in enumerate(self.record.plan(layout)):
                if how in (_PLACEMENTS, _QUALIFICATIONS):
                    groups.append(how)
                    segments.append("")
                else:
                    segments[-1] += f"        <{tag}>{{}}</{tag}>\n"
                    scalar_positions.append(position)
            widths = [(segment, segment.count("{}")) for segment in segments]
            found = self._templates[layout.name] = (widths, groups, scalar_positions)
        return found

    def _groups(self, draft: Draft, how: int) -> str:
        if how == _PLACEMENTS:
            rows, template, head, tail = self.record.placement_rows(draft), _PLACEMENT, "PLACEMENTS", "PLACEMENTS"
        else:
            rows, template = self.record.qualification_rows(draft), _QUALIFICATION
            head = tail = "PREVIOUSQUALIFICATIONS"
        if not rows:
            return ""
        out = [f"        <{head}>\n"]
        for row in rows:
            texts = ["NULL" if v is None else v for v in row]
            probe = "".join(texts)
            if "&" in probe or "<" in probe or ">" in probe:
                texts = [_xml_text(t) for t in texts]
            out.append(template.format(*texts))
        out.append(f"        </{tail}>\n")
        return "".join(out)

    def write(self, draft: Draft) -> None:
        segments, groups, positions = self._template(draft.layout)
        values = self.record.values(draft)
        texts = ["NULL" if values[p] is None else values[p] for p in positions]
        probe = "".join(texts)
        if "&" in probe or "<" in probe or ">" in probe:
            texts = [_xml_text(t) for t in texts]
        out = ["    <Student>\n"]
        used = 0
        for number, (segment, width) in enumerate(segments):
            out.append(segment.format(*texts[used : used + width]))
            used += width
            if number < len(groups):
                out.append(self._groups(draft, groups[number]))
        if draft.leaving or draft.extra_tags:  # leaving tags, a repeated tag (malformed_record): before F_COMMIT_*
            last = out[-1]
            cut = last.rfind("        <")
            extra = "".join(
                _element("        ", tag, value) for tag, value in (*draft.leaving.items(), *draft.extra_tags)
            )
            out[-1] = last[:cut] + extra + last[cut:]
        out.append("    </Student>\n")
        self.fh.write("".join(out))

    def close(self) -> None:
        self.fh.write("</ITTRecord>\n")


class _CsvLines:
    """Rows through csv.writer with a fixed line ending (CRLF for SRS-style HESA CSV, LF like Register's template)."""

    def __init__(self, fh: IO[str], lineterminator: str):
        self.writer = csv.writer(fh, lineterminator=lineterminator)

    def row(self, cells: list[str]) -> None:
        self.writer.writerow(cells)


class HesaCsvWriter:
    """HESA-named columns of one layout (a CSV has one header, so one layout per file); `NULL` for no value."""

    def __init__(self, fh: IO[str], layout: Layout, encoder: LegacyEncoder, leaving: tuple[str, ...] = ()):
        self.layout = layout
        self.leaving = leaving  # WITHDRAWAL_* / DEFER_* columns, after the layout's own
        self.record = HesaRecord(encoder)
        self.lines = _CsvLines(fh, "\r\n")
        header: list[str] = []
        for tag in TAG_ORDER[layout.name]:
            if tag == "PLACEMENTS":
                header += [f"{t}_{n}" for n in range(1, CSV_PLACEMENTS + 1) for t in PLACEMENT_TAGS]
            elif tag == "PREVIOUSQUALIFICATIONS":
                header += [f"{t}_{n}" for n in range(1, CSV_DEGREES + 1) for t in QUALIFICATION_TAGS]
            else:
                header.append(tag)
        self.lines.row(header + list(leaving))

    def write(self, draft: Draft) -> None:
        if draft.layout.name != self.layout.name:
            raise ValueError("a HESA CSV holds one collection layout")
        cells: list[str] = []
        for (_tag, how, _key), value in zip(self.record.plan(draft.layout), self.record.values(draft), strict=True):
            if how == _PLACEMENTS:
                rows = self.record.placement_rows(draft)[:CSV_PLACEMENTS]
                rows += [(None, None)] * (CSV_PLACEMENTS - len(rows))
                for row in rows:
                    cells += ["NULL" if v is None else v for v in row]
            elif how == _QUALIFICATIONS:
                q_rows = self.record.qualification_rows(draft)[:CSV_DEGREES]
                q_rows += [(None,) * len(QUALIFICATION_TAGS)] * (CSV_DEGREES - len(q_rows))
                for q_row in q_rows:
                    cells += ["NULL" if v is None else v for v in q_row]
            else:
                cells.append("NULL" if value is None else value)
        cells += [draft.leaving.get(column, "NULL") for column in self.leaving]
        self.lines.row(cells + draft.extra_cells)

    def close(self) -> None:
        pass


class _Template(tuple[str, ...]):
    """Register's template columns, in order, with set-speed `in` (register_csv_row asks it for every value)."""

    def __new__(cls, columns: tuple[str, ...]) -> _Template:
        template = super().__new__(cls, columns)
        template._columns = frozenset(columns)
        return template

    _columns: frozenset[str]

    def __contains__(self, column: object) -> bool:
        return column in self._columns


class RegisterCsvFileWriter:
    """Register's 51-column bulk-add template, one row per draft, through `writers.register_csv_row`.

    Unlike `writers.RegisterCsvWriter` this never splits at 1 MB: generated files are for testing
    register-batch, and a truth file names records by their position in one file.
    """

    def __init__(self, fh: IO[str]):
        self.template = _Template(register_template())
        self.lines = _CsvLines(fh, "\n")
        self.lines.row(list(self.template))

    def write(self, draft: Draft) -> None:
        data = {k: v for k, v in draft.data.items() if v is not None and not k.endswith("_attributes")}
        degrees = [{k: v for k, v in d.items() if not k.startswith("_")} for d in draft.degrees]
        if degrees:
            data["degrees_attributes"] = degrees[:1]
        placements = [{"urn": p["urn"]} for p in draft.placements if p.get("urn") is not None]
        if placements:
            data["placements_attributes"] = placements[:3]
        row, notes = register_csv_row(data, self.template)
        if notes:  # pragma: no cover - the builder never makes what the template cannot hold
            raise ValueError(f"generated record does not fit Register's CSV: {'; '.join(notes)}")
        self.lines.row(row + draft.extra_cells)

    def close(self) -> None:
        pass


Writer = HesaXmlWriter | HesaCsvWriter | RegisterCsvFileWriter
