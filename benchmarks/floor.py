"""The floor for validating a HESA XML file: a bare lxml iterparse pass that counts `Student` elements and frees them.

    python benchmarks/floor.py FILE.xml

Nothing is read from the records: this is what parsing alone costs, the least any validator of the file pays.
Prints the number of Student elements.
"""

from __future__ import annotations

import sys

from lxml import etree


def count_students(path: str) -> int:
    count = 0
    for _event, element in etree.iterparse(path, events=("end",), tag="Student"):
        count += 1
        element.clear(keep_tail=False)
        parent = element.getparent()
        while element.getprevious() is not None:
            del parent[0]
    return count


if __name__ == "__main__":
    print(count_students(sys.argv[1]))
