"""HESA-named CSV extracts (format hesa-csv) for the sync tests: a format that holds every degree and placement."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from lxml import etree

DEGREE_TAGS = ("F_DEGTYPE", "F_DEGSBJ1", "F_DEGCLSS", "F_DEGEST", "F_DEGENDDT")


# A withdrawal and a deferral in the columns register-batch reads them from (formats.md), dated after the trainees'
# start (2026-09-01) and before the tests' as-of day.
HESA_WITHDRAWAL = {
    "WITHDRAWAL_DATE": "2026-11-01",
    "WITHDRAWAL_REASONS": "did_not_make_progress",
    "WITHDRAWAL_TRIGGER": "trainee",
    "WITHDRAWAL_FUTURE_INTEREST": "no",
}
HESA_DEFERRAL = {"DEFER_DATE": "2026-11-01", "DEFER_REASON": "Illness"}


def hesa_trainee(n: int, *, degrees: int = 2, placements: int = 4) -> dict[str, Any]:
    """The n-th trainee: provider-led postgraduate starting 2026-09-01, with `degrees` UK degrees and `placements`
    placements (URNs Register does not know as schools, so each keeps its own URN)."""
    row: dict[str, Any] = {
        "F_HUSID": f"{2601200000000 + n:013d}",
        "F_OWNSTU": f"S{1000 + n}/1",
        "F_FNAMES": "Amara",
        "F_SURNAME": f"Okafor{n}",
        "F_BIRTHDTE": "1999-03-14",
        "F_SEXID": "10",
        "F_NQTEMAIL": f"amara.{n}@example.com",
        "F_NATION": "GB",
        "F_ETHNIC": "120",
        "F_DISABLE1": "95",
        "F_ITTAIM": "202",
        "F_ENTRYRTE": "12",
        "F_QLAIM": "020",
        "F_SBJCA1": "100403",
        "F_MODE": "01",
        "F_ITTSTARTDATE": "2026-09-01",
        "F_EXPECTEDENDDATE": "2027-07-15",
        "F_ITTPHSC": "13918",
        "F_YEARPRG": "1",
        "F_FUNDCODE": "7",
        "F_BURSLEV": "D",
    }
    for k in range(1, degrees + 1):
        values = ("083", ["100403", "100425", "100485"][k % 3], "02", "0117", f"{2016 + 2 * k}-06-30")
        row.update({f"{tag}_{k}": value for tag, value in zip(DEGREE_TAGS, values, strict=True)})
    for k in range(1, placements + 1):
        row[f"F_PLMNTSCH_{k}"] = f"{137000 + 10 * n + k}"
    return row


def write_hesa_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    columns = list(dict.fromkeys(column for row in rows for column in row))
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


_GROUPS = {tag: "PREVIOUSQUALIFICATION" for tag in DEGREE_TAGS} | {"F_PLMNTSCH": "PLACEMENT"}


def write_hesa_xml(path: Path, rows: list[dict[str, Any]]) -> Path:
    """The rows as HESA XML: one Student each, with only the tags its row has (an absent tag is no value,
    hesa-formats.md §1.4); a blank value is written NULL; numbered degree and placement columns become groups."""
    root = etree.Element("ITTRecord")
    for row in rows:
        student = etree.SubElement(root, "Student")
        groups: dict[str, dict[int, dict[str, str]]] = {}
        for column, value in row.items():
            tag, _, number = column.rpartition("_")
            if tag in _GROUPS and number.isdigit():
                groups.setdefault(_GROUPS[tag], {}).setdefault(int(number), {})[tag] = value
            else:
                etree.SubElement(student, column).text = "NULL" if value in ("", None) else str(value)
        for group, items in groups.items():
            container = etree.SubElement(student, f"{group}S")
            for number in sorted(items):
                item = etree.SubElement(container, group)
                for tag, value in items[number].items():
                    etree.SubElement(item, tag).text = value
    path.write_bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))
    return path
