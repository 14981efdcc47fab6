"""Seeds, mutations and the reader property shared by the fuzz tests and the long-run fuzzer (fuzz_readers.py).

The property (issue 7): for any bytes, in any container and under any `--format`, reading an input either
yields RawRecords or raises `UnusableInput` whose message is one line and starts with the file name. Any
other exception, and any hang, is a bug. `check_pipeline` extends it through mapping and validation, which
is what `validate`, `convert` and `sync` run on every record.
"""

from __future__ import annotations

import functools
import io
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from register_batch.errors import UnusableInput
from register_batch.mapping import load_mapping
from register_batch.readers import FORMATS, RawRecord, open_inputs

AS_OF = date(2026, 11, 28)
FIXTURES = Path(__file__).parent.parent / "fixtures"
READ_FORMATS = ("auto", *FORMATS)

# Byte strings that steer a mutation towards the readers' edge cases: DTDs and entities, quoting, line ends,
# encodings and BOMs, zip magic, record tags, NULL spellings, formula starts and Excel-mangled values.
INTERESTING = (
    b'<!DOCTYPE ITTRecord [<!ENTITY a "aaaaaaaaaa">]>',
    b'<!DOCTYPE ITTRecord SYSTEM "http://127.0.0.1:9/x.dtd">',
    b'<!DOCTYPE ITTRecord [<!ENTITY % p SYSTEM "file:///etc/passwd"> %p;]>',
    b"&a;",
    b"&#0;",
    b"&#x1F;",
    b"&lt;",
    b"<![CDATA[",
    b"]]>",
    b"<?xml version='1.0' encoding='UTF-16'?>",
    b"<?xml version='1.0' encoding='latin-1'?>",
    b"<Student>",
    b"</Student>",
    b"<PLACEMENTS><PLACEMENT><F_PLMNTSCH>1</F_PLMNTSCH></PLACEMENT></PLACEMENTS>",
    b"<ITTRecord>",
    b"<!--",
    b'"',
    b'""',
    b"'",
    b",",
    b",,,,,,,,,,",
    b"\r",
    b"\n",
    b"\r\n",
    b"\x00",
    b"\xef\xbb\xbf",
    b"\xff\xfe",
    b"\xfe\xff",
    b"\xe9",
    b"\xc3",
    b"\xed\xa0\x80",
    b"\x81",
    b"PK\x03\x04",
    b"NULL",
    b"null",
    b"=cmd|' /C calc'!A0",
    b"+1",
    b"-1",
    b"@SUM(A1)",
    b"\t",
    b"3.10261553101E+12",
    b"13/08/1978",
    b"44802",
    b"hesa_id",
    b"F_HUSID",
    b"Validation results",
    b"Errors",
    b"\xf0\x9f\x98\x80",
    b"9" * 40,
)


def _generated(folder: Path) -> dict[str, bytes]:
    """A few realistic records in every layout, from the project's own generator."""
    from register_batch.generate import generate

    found: dict[str, bytes] = {}
    for fmt, vintage, suffix in (
        ("hesa-xml", "mixed", ".xml"),
        ("hesa-xml", "C21053", ".xml"),
        ("hesa-csv", "C24053", ".csv"),
        ("register-csv", None, ".csv"),
    ):
        path = folder / f"generated-{fmt}-{vintage}{suffix}"
        generate(path, count=3, fmt=fmt, vintage=vintage, seed=7, as_of=AS_OF)
        found[path.name] = path.read_bytes()
    return found


@functools.cache
def seeds() -> dict[str, bytes]:
    """Valid and nearly valid extracts (name -> bytes), each small enough to mutate quickly."""
    found: dict[str, bytes] = {}
    for path in sorted((FIXTURES / "hesa_samples").glob("*.xml")):
        found[path.name] = path.read_bytes()
    for name in (
        "five_trainees.csv",
        "mixed_rows_encoding.csv",
        "failed_with_failed.csv",
        "five_trainees_with_degree.csv",
    ):
        found[name] = (FIXTURES / "register_csv" / name).read_bytes()
    with tempfile.TemporaryDirectory() as folder:
        found.update(_generated(Path(folder)))
    return found


def zipped(members: dict[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def mutate(data: bytes, operations: list[tuple[str, float, float, int]]) -> bytes:
    """Apply (kind, where, where2, n) edits; `where` values are fractions of the length, so any draw is valid."""
    out = bytearray(data)
    for kind, where, where2, n in operations:
        at = int(where * len(out))
        to = int(where2 * len(out))
        lo, hi = min(at, to), max(at, to)
        if kind == "flip" and out:
            out[min(at, len(out) - 1)] ^= 1 << (n % 8)
        elif kind == "byte" and out:
            out[min(at, len(out) - 1)] = n % 256
        elif kind == "insert":
            out[at:at] = INTERESTING[n % len(INTERESTING)]
        elif kind == "delete":
            del out[lo:hi]
        elif kind == "truncate":
            del out[at:]
        elif kind == "duplicate":
            out[hi:hi] = out[lo:hi][:4096]
        elif kind == "repeat":
            out[at:at] = INTERESTING[n % len(INTERESTING)] * (1 + n % 64)
    return bytes(out)


@dataclass
class Outcome:
    records: int | None = None  # records read, or None when refused
    error: str | None = None  # the one-line UnusableInput message


_mapping = functools.cache(lambda: load_mapping(()))


def check_reader(path: Path, fmt: str) -> Outcome:
    """Read every record of `path`: records, or one UnusableInput naming the file. Anything else escapes."""
    count = 0
    try:
        for _info, records in open_inputs([str(path)], fmt, _mapping()):
            for record in records:
                assert isinstance(record, RawRecord)
                count += 1
    except UnusableInput as exc:
        return Outcome(error=_one_line(exc, path))
    return Outcome(records=count)


def check_pipeline(path: Path, fmt: str) -> Outcome:
    """The same through mapping and validation (what validate, convert and sync run on every record)."""
    from register_batch.validation import Checker

    count = 0
    try:
        with Checker(fmt=fmt, mapping=_mapping(), as_of=AS_OF) as checker:
            for _record in checker.records([str(path)]):
                count += 1
            list(checker.batch_issues())
    except UnusableInput as exc:
        return Outcome(error=_one_line(exc, path))
    return Outcome(records=count)


def _one_line(exc: UnusableInput, path: Path) -> str:
    message = str(exc)
    assert "\n" not in message and "\r" not in message, f"not one line: {message!r}"
    assert message.startswith(str(path)), f"does not start with the file name: {message!r}"
    return message
