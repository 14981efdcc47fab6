"""Readers: stream RawRecords from HESA ITT XML, HESA-named CSV and Register's bulk-add CSV, plain or zipped.

`open_inputs` is the one entry point: it resolves zip containers (skipping `__MACOSX` resource forks),
detects each file's format from its content, and yields `(InputInfo, records)` pairs. Records are produced
lazily; `InputInfo.sha256` and `.records` are final once the records iterator is exhausted.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import BinaryIO

from register_batch.errors import UnusableInput
from register_batch.mapping.loader import MappingConfig
from register_batch.readers.base import InputInfo, RawRecord
from register_batch.readers.csv import CsvLayout, read_csv, sniff_encoding
from register_batch.readers.detect import FORMATS, detect_format, is_zip
from register_batch.readers.hesa_xml import read_hesa_xml

__all__ = ["FORMATS", "InputInfo", "RawRecord", "csv_layout", "open_inputs"]

Opener = Callable[[], BinaryIO]
_MEMBER_SUFFIXES = (".xml", ".csv")


def _register_normalise(label: str) -> str:
    return label.lower()


def _hesa_normaliser(known: frozenset[str]) -> Callable[[str], str]:
    def normalise(label: str) -> str:
        upper = label.upper()
        if upper in known:
            return upper
        prefixed = f"F_{upper}"
        if prefixed in known or (not upper.startswith("F_") and _looks_grouped(prefixed, known)):
            return prefixed
        return upper

    return normalise


def _looks_grouped(name: str, known: frozenset[str]) -> bool:
    head, _, tail = name.rpartition("_")
    return tail.isdigit() and head in known


def csv_layout(fmt: str, config: MappingConfig) -> CsvLayout:
    """The header rules for a CSV format, derived from the field maps."""
    if fmt == "register-csv":
        fmap = config.fields["register-csv"]
        return CsvLayout(
            format=fmt,
            normalise=_register_normalise,
            known=frozenset(k.lower() for k in fmap.known),
            ignored=fmap.ignored,
            expected=fmap.template,
        )
    fmap = config.fields["hesa"]
    group_tags = {s for sources in fmap.degree_fields.values() for s in sources}
    group_tags |= {s for sources in fmap.placement_fields.values() for s in sources}
    group_tags |= {"F_DEGSBJ2", "F_DEGSBJ3", "F_DEGSTDT", "F_DEGLENGTH", "F_BURSFLAG", "F_FIRSTDEG", "F_PLMNTDYS"}
    pattern = re.compile("(?:" + "|".join(re.escape(t) for t in sorted(group_tags)) + r")_\d+")
    return CsvLayout(
        format=fmt,
        normalise=_hesa_normaliser(fmap.known),
        known=fmap.known,
        ignored=fmap.ignored,
        group_pattern=pattern,
    )


def _open_file(path: Path, shown: str) -> BinaryIO:
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise UnusableInput(shown, "no such file") from None
    except IsADirectoryError:
        raise UnusableInput(shown, "is a directory, not a file") from None
    except PermissionError:
        raise UnusableInput(shown, "permission denied") from None
    except OSError as exc:
        raise UnusableInput(shown, f"cannot open ({exc.strerror or exc})") from None


def _members(path: Path, shown: str) -> list[tuple[str, Opener]]:
    """The files to read: the path itself, or each .xml/.csv inside a zip (not __MACOSX forks)."""
    with _open_file(path, shown) as fh:
        head = fh.read(4)
    if not is_zip(head):
        return [(shown, lambda: _open_file(path, shown))]
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnusableInput(shown, f"damaged zip file ({exc})") from None
    with archive:
        names = [
            info.filename
            for info in archive.infolist()
            if not info.is_dir()
            and not info.filename.startswith("__MACOSX/")
            and not Path(info.filename).name.startswith("._")
            and info.filename.lower().endswith(_MEMBER_SUFFIXES)
        ]
    if not names:
        raise UnusableInput(shown, "the zip file holds no .xml or .csv extract")

    def opener(member: str) -> Opener:
        def open_member() -> BinaryIO:
            # The member stays readable after the archive object is closed (zipfile ref-counts the file).
            with zipfile.ZipFile(path) as archive:
                return archive.open(member)

        return open_member

    return [(f"{shown}:{name}", opener(name)) for name in names]


def _detect(opener: Opener, shown: str, config: MappingConfig) -> str:
    with closing(opener()) as fh:
        head = fh.read(1 << 16)
    register_columns = frozenset(c.lower() for c in config.fields["register-csv"].known)
    return detect_format(head, shown, register_columns, config.fields["hesa"].known)


def _records(opener: Opener, info: InputInfo, config: MappingConfig) -> Iterator[RawRecord]:
    try:
        yield from _read(opener, info, config)
    except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
        raise UnusableInput(info.path, f"damaged compressed data ({exc})") from None
    except OSError as exc:
        raise UnusableInput(info.path, f"read error ({exc.strerror or exc})") from None


def _read(opener: Opener, info: InputInfo, config: MappingConfig) -> Iterator[RawRecord]:
    if info.format == "hesa-xml":
        with closing(opener()) as fh:
            yield from read_hesa_xml(fh, info)
        return
    hasher = hashlib.sha256()
    with closing(opener()) as fh:
        encoding, size = sniff_encoding(fh, hasher)
    info.sha256 = hasher.hexdigest()
    if size == 0:
        raise UnusableInput(info.path, "the file is empty")
    with closing(opener()) as fh:
        yield from read_csv(fh, info, csv_layout(info.format, config), encoding)


def open_inputs(
    paths: list[str] | tuple[str, ...], fmt: str, config: MappingConfig
) -> Iterator[tuple[InputInfo, Iterator[RawRecord]]]:
    """Yield (info, records) for every input file (and every extract inside a zip)."""
    if fmt != "auto" and fmt not in FORMATS:
        raise UnusableInput(str(fmt), f"unknown format; use auto or one of {', '.join(FORMATS)}")
    for given in paths:
        shown = str(given)
        for name, opener in _members(Path(given), shown):
            actual = fmt if fmt != "auto" else _detect(opener, name, config)
            info = InputInfo(path=name, format=actual)
            yield info, _records(opener, info, config)
