"""The peers a user might pick instead of register-batch, given the same checks register-batch can express per cell.

- `table_schema()`: a frictionless Table Schema for Register's bulk-add CSV with the per-field checks of the
  rule catalogue that a Table Schema can say: `required`, `maxLength`, code lists as `enum` (from
  `register_batch.reference.load_reference()`), ISO dates, integer course year, the HUSID and URN patterns, the
  email format, application_id a whole number (application_id_not_integer), and in every free-text column no
  control character (control_character) and no leading `=` (spreadsheet_formula). Cross-field rules (R1-R20,
  date windows relative to the as-of date, funding) and garbled_text (a heuristic) are out of its scope.
- `plain_csv()`: Register's template writes codes and dates with a leading apostrophe (Excel protection);
  both register-batch and the peers read the same file with that apostrophe removed, so the peers see the
  values the API would.
- `python benchmarks/peer.py pandas FILE.csv SCHEMA.json`: the naive pandas + pydantic row loop (read the CSV
  with pandas, validate each row with a pydantic model carrying the same field checks as the Table Schema, its
  patterns read by Python's `re` as frictionless reads them);
  prints {"errors": N, "by_field": {...}, "rows": N} as JSON.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path
from typing import Any

# Register CSV column -> the field name register-batch reports for it (degree and placement columns nest).
COLUMN_FIELDS = {
    "uk_degree": "degrees_attributes[0].uk_degree",
    "non_uk_degree": "degrees_attributes[0].non_uk_degree",
    "degree_subject": "degrees_attributes[0].subject",
    "degree_grade": "degrees_attributes[0].grade",
    "degree_graduation_year": "degrees_attributes[0].graduation_year",
    "awarding_institution": "degrees_attributes[0].institution",
    "degree_country": "degrees_attributes[0].country",
    "placement_1_urn": "placements_attributes[0].urn",
    "placement_2_urn": "placements_attributes[1].urn",
    "placement_3_urn": "placements_attributes[2].urn",
}
DATE_COLUMNS = ("date_of_birth", "itt_start_date", "itt_end_date", "trainee_start_date", "pg_apprenticeship_start_date")
HUSID_PATTERN = "^[0-9]{13}([0-9]{4})?$"
URN_PATTERN = "^[0-9]{6}$"
YEAR_PATTERN = "^[0-9]{4}(-[0-9]{2}-[0-9]{2})?$"  # Register takes YYYY or a date
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"  # what a pydantic user writes without email-validator
# The value register-batch checks is the cell as it reads one of Register's CSV: spaces around (what str.strip takes
# off, which is Python's \s) and one leading apostrophe off (readers/csv.py cell_fields; hesa-formats.md §3.3). The
# patterns below allow what that reading takes off, so that they refuse exactly the values the validator refuses.
READ_OFF = r"\s*(?:'\s*)?"


def application_id_pattern() -> str:
    """application_id_not_integer: a whole number, as Register keeps Apply's id in an integer column
    (register-api.md §3.1)."""
    from register_batch.validation.rules import _WHOLE_NUMBER

    return rf"{READ_OFF}{_WHOLE_NUMBER.pattern}\s*"


def text_pattern() -> str:
    """The two checks register-batch makes of every text value: control_character (none of
    wording.CONTROL_CHARACTER, nor the escape of one the HESA XML export writes) and spreadsheet_formula (not
    starting with `=`). A control character the reading takes off the ends (a trailing tab) is not in the value."""
    from register_batch.validation.rules import _ESCAPED_CONTROL
    from register_batch.wording import CONTROL_CHARACTER

    no_control = "[^" + CONTROL_CHARACTER.pattern.removeprefix("[")
    return rf"(?![\s\S]*(?:{_ESCAPED_CONTROL.pattern}))(?!{READ_OFF}=){READ_OFF}{no_control}*\s*"


def _code_columns() -> dict[str, str]:
    from register_batch.reference import DISABILITY_FIELDS, TRAINEE_CODE_FIELDS

    columns = dict(TRAINEE_CODE_FIELDS)
    columns.update({field: "disability" for field in DISABILITY_FIELDS})
    columns.update(
        {
            "uk_degree": "degree_type",
            "non_uk_degree": "degree_type",
            "degree_subject": "degree_subject",
            "degree_grade": "degree_grade",
            "awarding_institution": "institution",
            "degree_country": "country",
        }
    )
    return columns


def table_schema(header: list[str]) -> dict[str, Any]:
    """A Table Schema for these columns expressing register-batch's per-field checks."""
    from register_batch.reference import load_reference
    from register_batch.validation.rules import MAX_LENGTHS, REQUIRED_FIELDS

    reference = load_reference()
    codes = _code_columns()
    text = text_pattern()
    fields = []
    for column in header:
        field: dict[str, Any] = {"name": column, "type": "string"}
        constraints: dict[str, Any] = {}
        if column in REQUIRED_FIELDS:
            constraints["required"] = True
        if column in MAX_LENGTHS:
            constraints["maxLength"] = MAX_LENGTHS[column]
        if column in codes:
            constraints["enum"] = sorted(reference.codes(codes[column]))
        if column in DATE_COLUMNS:
            field["type"] = "date"
        elif column == "course_year":
            field["type"] = "integer"
        elif column == "degree_graduation_year":
            constraints["pattern"] = YEAR_PATTERN
        elif column == "hesa_id":
            constraints["pattern"] = HUSID_PATTERN
        elif column.startswith("placement_") or column in ("training_partner_urn", "employing_school_urn"):
            constraints["pattern"] = URN_PATTERN
        elif column == "application_id":
            constraints["pattern"] = application_id_pattern()
        elif column == "email":
            field["format"] = "email"
        if field["type"] == "string" and "enum" not in constraints and "pattern" not in constraints:
            constraints["pattern"] = text  # a code, a date or a number pattern has no control character nor `=`
        if constraints:
            field["constraints"] = constraints
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


def plain_csv(source: Path, target: Path) -> Path:
    """Copy Register's CSV with the one protective leading apostrophe of each cell removed."""
    with source.open(encoding="utf-8-sig", newline="") as fin, target.open("w", encoding="utf-8", newline="") as fout:
        writer = csv.writer(fout)
        for row in csv.reader(fin):
            writer.writerow([cell[1:] if cell.startswith("'") else cell for cell in row])
    return target


def pandas_pydantic(path: Path, schema_path: Path) -> dict[str, Any]:
    """The naive loop: pandas reads every cell as text, a pydantic model checks each row."""
    from datetime import date
    from typing import Annotated

    import pandas as pd
    from pydantic import AfterValidator, ConfigDict, Field, ValidationError, create_model

    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    definitions: dict[str, Any] = {}
    for spec in schema["fields"]:
        constraints = spec.get("constraints", {})
        checks: list[Any] = []
        kind: Any = str
        if spec["type"] == "date":
            kind = date
        elif spec["type"] == "integer":
            kind = int
        if "enum" in constraints:
            allowed = frozenset(constraints["enum"])

            def member(value: Any, allowed: frozenset[str] = allowed) -> Any:
                if value not in allowed:
                    raise ValueError("not in the code list")
                return value

            checks.append(AfterValidator(member))
        if spec.get("format") == "email":

            def email(value: Any) -> Any:
                if not re.match(EMAIL_PATTERN, value):
                    raise ValueError("not an email address")
                return value

            checks.append(AfterValidator(email))
        pattern = constraints.get("pattern")
        annotated = Annotated[
            kind,
            # anchored as frictionless anchors a Table Schema's pattern
            Field(max_length=constraints.get("maxLength"), pattern=f"^{pattern}$" if pattern else None),
            *checks,
        ]
        if constraints.get("required"):
            definitions[spec["name"]] = (annotated, ...)
        else:
            definitions[spec["name"]] = (annotated | None, None)
    # Python's re, as frictionless: the text pattern's look-aheads are beyond pydantic's default (Rust) engine.
    model = create_model("RegisterRow", __config__=ConfigDict(regex_engine="python-re"), **definitions)

    # A row with more cells than the header stops pandas; skip it and count it as one error, as frictionless does.
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, on_bad_lines="skip")
    with path.open(encoding="utf-8", newline="") as fh:
        skipped = sum(1 for _ in csv.reader(fh)) - 1 - len(frame)
    errors = skipped
    by_field: dict[str, int] = {"(row)": skipped} if skipped else {}
    for row in frame.to_dict(orient="records"):
        values = {key: (value if value != "" else None) for key, value in row.items()}
        values = {key: value for key, value in values.items() if value is not None}
        try:
            model.model_validate(values)
        except ValidationError as exc:
            for error in exc.errors():
                errors += 1
                name = str(error["loc"][0]) if error["loc"] else ""
                by_field[name] = by_field.get(name, 0) + 1
    return {"errors": errors, "by_field": by_field, "rows": len(frame)}


if __name__ == "__main__":
    if len(sys.argv) != 4 or sys.argv[1] != "pandas":
        sys.exit("usage: peer.py pandas FILE.csv SCHEMA.json")
    print(json.dumps(pandas_pydantic(Path(sys.argv[2]), Path(sys.argv[3]))))
