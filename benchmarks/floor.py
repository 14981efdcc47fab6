"""The floor for validating a file: what parsing it alone costs, the least any validator of the file pays.

    python benchmarks/floor.py FILE.xml   # a bare lxml iterparse pass: count `Student` elements, free them
    python benchmarks/floor.py FILE.csv   # a bare csv.reader pass: count the rows after the header

Nothing is read from the records. Prints the number of records.
"""

from __future__ import annotations

import csv
import sys


def count_students(path: str) -> int:
    from lxml import etree  # here, so that the CSV floor does not pay for importing it

    count = 0
    for _event, element in etree.iterparse(path, events=("end",), tag="Student"):
        count += 1
        element.clear(keep_tail=False)
        parent = element.getparent()
        while element.getprevious() is not None:
            del parent[0]
    return count


def count_rows(path: str) -> int:
    with open(path, newline="", encoding="utf-8-sig") as fh:
        return sum(1 for _row in csv.reader(fh)) - 1


if __name__ == "__main__":
    name = sys.argv[1]
    print(count_rows(name) if name.lower().endswith(".csv") else count_students(name))
