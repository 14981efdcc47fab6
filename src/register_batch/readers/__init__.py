"""Readers: stream RawRecords from HESA ITT XML, HESA-named CSV and Register's bulk-add CSV, plain, zipped or gzipped.

`open_inputs` is the one entry point: it resolves zip containers (skipping `__MACOSX` resource forks) and gzip files,
detects each file's format from its content, and yields `(InputInfo, records)` pairs. Records are produced
lazily; `InputInfo.sha256` and `.records` are final once the records iterator is exhausted.

Anything wrong with an input surfaces as `UnusableInput` (one line, naming the file): a path that is not a
regular file (a pipe or device would be read more than once, or block), a damaged, encrypted or
unsupported zip member, or a CSV file that changed between its hashing and its parsing pass.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import io
import lzma
import os
import re
import stat
import struct
import weakref
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import IO, BinaryIO

from register_batch.errors import ConfigError, UnusableInput
from register_batch.fs import StrPath, path_list, repeated_file
from register_batch.mapping.loader import MappingConfig
from register_batch.portable import BINARY
from register_batch.readers.base import HashingReader, InputInfo, PassingReader, RawRecord
from register_batch.readers.csv import CsvLayout, note_upload_size, read_csv, sniff_encoding
from register_batch.readers.detect import (
    FORMATS,
    check_text_start,
    csv_format_of,
    detect_format,
    is_gzip,
    is_zip,
    refuse_text_given_as_xml,
    without_bom,
)
from register_batch.readers.hesa_xml import (
    NO_XML_ELEMENT,
    XmlChunks,
    XmlPart,
    find_chunks,
    newlines_before,
    read_hesa_xml,
)
from register_batch.tokens import shown_value
from register_batch.wording import printable, shell_word

__all__ = [
    "FORMATS",
    "InputInfo",
    "RawRecord",
    "XmlChunks",
    "XmlPart",
    "check_inputs_open",
    "check_unchanged",
    "csv_layout",
    "file_state",
    "find_xml_chunks",
    "input_paths",
    "newlines_before",
    "open_inputs",
]

Opener = Callable[[], IO[bytes]]
_MEMBER_SUFFIXES = (".xml", ".csv")
# Compressed files, which a zip member is not read as: a zip holding one, alone or beside extracts, is refused
# (review53 F6; its trainees would be left out without a word).
_PACKED_SUFFIXES = (".gz", ".zip", ".bz2", ".xz", ".7z", ".rar", ".tgz")
# Files an operating system leaves in a folder it shows (Finder, Explorer): skipped in a zip, as the __MACOSX forks
# are. Any other member that is not .xml or .csv is refused (review76 F1: a workbook or a CSV saved as .txt beside
# the extract was skipped, its trainees left out of a run that said every record was valid).
_FOLDER_LITTER = frozenset({".ds_store", "thumbs.db", "desktop.ini", ".localized", "icon\r"})


def _skipped(name: str) -> bool:
    """A zip member that is no file of the user's: a folder entry, a macOS fork, or a file manager's or office
    program's own file (Finder's and Explorer's, LibreOffice's lock of a file open in it: `.~lock.extract.csv#`;
    review77 F3). Windows PowerShell 5.1's Compress-Archive writes `census\\extract.xml`: its separator is read as
    zip's `/` here (a folder entry `census\\`, its `census\\Thumbs.db`; review77 F2), the name kept to open."""
    shape = name.replace("\\", "/")
    base = shape.rpartition("/")[2]
    lowered = base.lower()
    return (
        not base
        or shape.startswith("__MACOSX/")
        or base.startswith("._")
        or lowered in _FOLDER_LITTER
        or (lowered.startswith(".~lock.") and lowered.endswith("#"))
    )


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


# The tags of HESA's repeated groups (PREVIOUSQUALIFICATION, PLACEMENT): numbered columns in a HESA-named CSV.
HESA_GROUP_TAGS = frozenset(
    {
        *("F_BURSFLAG", "F_DEGCLSS", "F_DEGCTRY", "F_DEGENDDT", "F_DEGEST", "F_DEGLENGTH", "F_DEGSBJ1", "F_DEGSBJ2"),
        *("F_DEGSBJ3", "F_DEGSTDT", "F_DEGTYPE", "F_FIRSTDEG", "F_PLMNTSCH", "F_PLMNTDYS"),
    }
)


def _register_columns(config: MappingConfig) -> frozenset[str]:
    """Register CSV's column names as a header is compared with them (in lower case)."""
    return frozenset(k.lower() for k in config.fields["register-csv"].known)


def csv_layout(fmt: str, config: MappingConfig) -> CsvLayout:
    """The header rules for a CSV format, derived from the field maps."""
    register_columns = _register_columns(config)
    format_of = functools.partial(
        csv_format_of, register_columns=register_columns, hesa_tags=config.fields["hesa"].known
    )
    if fmt == "register-csv":
        fmap = config.fields["register-csv"]
        return CsvLayout(
            format=fmt,
            normalise=_register_normalise,
            known=register_columns,
            ignored=fmap.ignored,
            expected=fmap.template,
            read=frozenset(fmap.source_names()),  # a template column a user's map no longer reads (review58 F9)
            format_of=format_of,
            family="register-csv",
        )
    fmap = config.fields["hesa"]
    group_tags = {s for sources in fmap.degree_fields.values() for s in sources}
    group_tags |= {s for sources in fmap.placement_fields.values() for s in sources}
    group_tags |= HESA_GROUP_TAGS  # numbered even when a user's field map reads the field from another tag
    pattern = re.compile("(?:" + "|".join(re.escape(t) for t in sorted(group_tags)) + r")_\d+")
    return CsvLayout(
        format=fmt,
        normalise=_hesa_normaliser(fmap.known),
        known=fmap.known,
        ignored=fmap.ignored,
        group_pattern=pattern,
        format_of=format_of,
        family="hesa",
    )


# Zip members: real extracts deflate about 4x (CSV) to 20x (XML); one over 256 KiB that expands more than 100x is
# refused before it is read.
MAX_RATIO = 100
MAX_INFLATED_SMALL = 256 << 10

# What a damaged or unsupported zip member or gzip file raises while it is opened or read.
_DAMAGED = (zipfile.BadZipFile, gzip.BadGzipFile, zlib.error, lzma.LZMAError, EOFError)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


# Windows has none (nor a FIFO that waits for a writer as it is opened); the check below still refuses a pipe
# or device before anything is read from it.
_NONBLOCK = getattr(os, "O_NONBLOCK", 0)


def _a_folder(path: Path, shown: str) -> UnusableInput:
    """A folder given as an input: each extract in it is to be given (a shell pattern gives them all, the folder's
    name quoted for the shell, as the hint is pasted: from the name itself, not `shown`, whose `\\x0a` for a line
    break named another folder, review186 F5)."""
    every = os.path.join(shell_word(str(path)), "*.xml")
    return UnusableInput(shown, f"is a folder, not a file: give the extracts in it, e.g. {every}")


def _open_file(path: Path, shown: str) -> BinaryIO:
    """Open a regular file for reading; refuse pipes, sockets and devices without blocking on them."""
    try:
        fd = os.open(path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_NOCTTY", 0) | BINARY)
    except FileNotFoundError:
        # A shell passes a pattern that matches nothing as it is (a nightly job run before the SRS wrote its file).
        unmatched = any(char in shown for char in "*?[")
        raise UnusableInput(
            shown, "no such file: no file matches this pattern" if unmatched else "no such file"
        ) from None
    except IsADirectoryError:
        raise _a_folder(path, shown) from None
    except PermissionError:
        raise UnusableInput(shown, "permission denied") from None
    except OSError as exc:
        raise UnusableInput(shown, f"cannot open ({exc.strerror or exc})") from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise _a_folder(path, shown)
        if not stat.S_ISREG(mode):
            # A pipe or device cannot be read twice (format detection, hashing, parsing) and may block.
            raise UnusableInput(
                shown, "not a regular file (a pipe, socket or device): save the extract to a file and give its path"
            )
        if _NONBLOCK:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


@contextmanager
def _damaged_member(shown: str) -> Iterator[None]:
    """Opening a zip member: what a damaged, encrypted or unsupported one raises becomes one UnusableInput."""
    try:
        yield
    except (*_DAMAGED, OSError, ValueError) as exc:  # ValueError: a member name that is not valid UTF-8
        raise UnusableInput(shown, f"damaged zip member ({exc})") from None
    except NotImplementedError as exc:  # zipfile: an unsupported compression method
        raise UnusableInput(shown, f"cannot read this zip member ({exc}); zip it again with plain deflate") from None
    except RuntimeError as exc:  # zipfile: "File ... is encrypted, password required for extraction"
        raise UnusableInput(shown, f"cannot read this zip member ({exc}); zip it again without a password") from None


@contextmanager
def _read_errors(shown: str) -> Iterator[None]:
    """Reading an opened input: damaged compressed data or an I/O error become one clear UnusableInput."""
    try:
        yield
    except UnusableInput as exc:
        if not _CONTROL.search(exc.problem):
            raise
        # One line, always: libxml2's messages can end in a newline followed by the position again.
        problem = " ".join(_CONTROL.sub(" ", exc.problem).split())
        raise UnusableInput(exc.path, problem, line=exc.line, record=exc.record, field=exc.field, row=exc.row) from None
    except _DAMAGED as exc:
        raise UnusableInput(shown, f"damaged compressed data ({exc})") from None
    except OSError as exc:  # also bz2's "Invalid data stream"
        raise UnusableInput(shown, f"read error ({exc.strerror or exc})") from None


def _members(path: Path, shown: str) -> list[tuple[str, Opener]]:
    """The files to read: the path itself (inflated if gzipped), or each .xml/.csv inside a zip (not __MACOSX
    forks); a zip holding any other file (but a folder's litter) is refused, as its trainees would be left out."""
    fh = _open_file(path, shown)
    try:
        head = fh.read(4)
        if is_gzip(head):
            fh.close()
            return [(shown, lambda: io.BufferedReader(_Gunzipped(path, shown), 1 << 16))]
        if not is_zip(head):
            fh.close()
            return [(shown, lambda: _open_file(path, shown))]
        fh.seek(0)
        listing, names = _list_zip(fh, shown)
    except BaseException:
        fh.close()
        raise
    archive = _Archive(path, shown, _owning(listing, fh))

    def opener(member: str, label: str) -> Opener:
        def open_member() -> IO[bytes]:
            with _damaged_member(label):
                return archive.open(member)

        return open_member

    return [(label, opener(name, label)) for name in names for label in [f"{shown}:{printable(name)}"]]


@contextmanager
def _damaged_zip(shown: str) -> Iterator[None]:
    """Listing a zip file: what a damaged or unsupported one raises becomes one UnusableInput."""
    try:
        yield
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as exc:
        raise UnusableInput(shown, f"damaged zip file ({exc})") from None
    except NotImplementedError as exc:  # e.g. "zip file version 8.4"
        raise UnusableInput(shown, f"unsupported zip file ({exc}); zip the extract again with plain deflate") from None


# A zip's central directory, which zipfile reads whole into memory as it opens one (some 650 bytes for each member),
# before its members can be counted: a zip that says it holds more members than MOST_MEMBERS, or a directory longer
# than MOST_DIRECTORY, is refused from its end record alone (review162 F2: 1.5 million empty members, a zip of
# 133 MB, took 970 MB and 34 s to refuse; under a memory limit, "internal error"). A zip of extracts holds a few; one
# of 5,000 one-record members has been read (tests/readers/test_hesa_xml.py), its directory some 300 KB.
MOST_MEMBERS = 10_000
MOST_DIRECTORY = 4 << 20
_END = struct.Struct("<4s4H2LH")  # the end of central directory record: signature ... members, directory size, ...
_END64_LOCATOR = struct.Struct("<4sLQL")  # just before it in a zip64 file
_END64 = struct.Struct("<4sQ2H2L4Q")  # the zip64 end record, just before the locator


def _declared_directory(raw: BinaryIO) -> tuple[int, int] | None:
    """How many members, and how many bytes of central directory, a zip file's end record says it has (the zip64
    end record's, where there is one), found as zipfile finds it: None if it has none (zipfile then says the file is
    no zip). The file's last 64 KiB are read, and the zip64 records before it."""
    raw.seek(0, os.SEEK_END)
    size = raw.tell()
    start = max(0, size - _END.size - 0xFFFF)  # the record and the longest comment after it
    raw.seek(start)
    tail = raw.read(size - start)
    if tail[-_END.size : -_END.size + 4] == b"PK\x05\x06" and tail[-2:] == b"\x00\x00":
        at = len(tail) - _END.size  # zipfile's first look: the record at the very end, no comment after it
    else:
        at = tail.rfind(b"PK\x05\x06")
        if at < 0 or at + _END.size > len(tail):
            return None
    members, directory = _END.unpack_from(tail, at)[4:6]
    record = start + at
    if record < _END64_LOCATOR.size:
        return members, directory
    raw.seek(record - _END64_LOCATOR.size)
    locator = raw.read(_END64_LOCATOR.size)
    if locator[:4] != b"PK\x06\x07":
        return members, directory
    # The zip64 end record: just before the locator, as zipfile has looked for it, or where the locator says (as
    # later versions may): one that says two things is held to the larger.
    found = []
    for where in {record - _END64_LOCATOR.size - _END64.size, _END64_LOCATOR.unpack(locator)[2]}:
        if 0 <= where <= size - _END64.size:
            raw.seek(where)
            zip64 = raw.read(_END64.size)
            if zip64[:4] == b"PK\x06\x06":
                found.append(_END64.unpack(zip64)[6:9])
    if found:
        members = max(max(here, total) for here, total, _size in found)
        directory = max(length for _here, _total, length in found)
    return members, directory


def _refuse_a_long_directory(raw: BinaryIO, shown: str) -> None:
    """UnusableInput for a zip file that says it holds more members than MOST_MEMBERS or a central directory longer
    than MOST_DIRECTORY: zipfile would read all of it into memory before a member could be counted."""
    declared = _declared_directory(raw)
    raw.seek(0)
    if declared is None:
        return
    members, directory = declared
    if members > MOST_MEMBERS or directory > MOST_DIRECTORY:
        raise UnusableInput(
            shown,
            f"the zip file says it holds {members:,} file{'s' * (members != 1)} in a directory of {directory:,} bytes, "
            f"more than register-batch reads (up to {MOST_MEMBERS:,} files and {MOST_DIRECTORY >> 20} MiB of "
            "directory; a zip of extracts holds a few): zip only the extracts, or give them on their own",
        )


def _open_zip(raw: BinaryIO, shown: str) -> zipfile.ZipFile:
    """A zip file (`raw`, a regular file) opened, once its end record says its directory is not too long to read."""
    with _damaged_zip(shown):
        _refuse_a_long_directory(raw, shown)
        return zipfile.ZipFile(raw)


def _owning(archive: zipfile.ZipFile, raw: BinaryIO) -> zipfile.ZipFile:
    """`archive`, opened on `raw`, made to close `raw` once it is gone itself (zipfile leaves a file object it was given
    open), as it closes a file it opened by name: once nothing, an open member included, refers to it."""
    weakref.finalize(archive, raw.close)
    return archive


@contextmanager
def _zip_extracts(raw: BinaryIO, shown: str) -> Iterator[tuple[zipfile.ZipFile, list[str]]]:
    """`_list_zip` for the block: the zip file closed when it ends (`raw` left open)."""
    listing, names = _list_zip(raw, shown)
    with listing:
        yield listing, names


def _list_zip(raw: BinaryIO, shown: str) -> tuple[zipfile.ZipFile, list[str]]:
    """A zip file (`raw`, from its start) opened, and the names of the extracts in it to read; UnusableInput for one
    that is damaged, says it holds more members than are read, is a workbook, or holds a compressed file, any other
    file (but a folder's litter), no extract, a zip bomb or two members of one name."""
    listing = _open_zip(raw, shown)
    try:
        names = _extracts_in(listing, shown)
    except BaseException:
        listing.close()  # (a file object given: closing it leaves the file open)
        raise
    return listing, names


def _extracts_in(listing: zipfile.ZipFile, shown: str) -> list[str]:
    """The names of the extracts in an opened zip file to read, or UnusableInput (`_list_zip`)."""
    with _damaged_zip(shown):
        everything = set(listing.namelist())
        files = [
            info
            for info in listing.infolist()
            if info.filename  # a nameless member: IndexError in ZipInfo.is_dir()
            and not info.is_dir()
            and not _skipped(info.filename)
        ]
        members = [info for info in files if info.filename.lower().endswith(_MEMBER_SUFFIXES)]
        names = [info.filename for info in members]
        packed = next((i.filename for i in files if i.filename.lower().endswith(_PACKED_SUFFIXES)), None)
        others = [i.filename for i in files if not i.filename.lower().endswith(_MEMBER_SUFFIXES + _PACKED_SUFFIXES)]
    if "[Content_Types].xml" in everything and any(n.startswith("xl/") for n in everything):
        raise UnusableInput(
            shown, "an Excel workbook, not an extract: save the sheet as 'CSV UTF-8' and give that file"
        )
    if "mimetype" in everything and "content.xml" in everything:
        raise UnusableInput(shown, "an OpenDocument spreadsheet, not an extract: save the sheet as CSV (UTF-8)")
    if packed is not None:
        # Beside extracts as much as alone: read past, its trainees would be left out of the run without a word.
        holds = "holds no .xml or .csv extract" if not names else f"holds {len(names)} extract{'s' * (len(names) > 1)}"
        raise UnusableInput(
            shown,
            f"the zip file {holds}: '{printable(packed)}' in it is compressed itself, and a compressed file "
            "inside a zip is not read; zip the extract itself, or give the compressed file on its own",
        )
    named = ", ".join(f"'{printable(name)}'" for name in others[:3]) + (", ..." if len(others) > 3 else "")
    if not names:
        raise UnusableInput(shown, f"the zip file holds no .xml or .csv extract{f' (only {named})' if others else ''}")
    if others:
        raise UnusableInput(
            shown,
            f"the zip file holds {f'{len(others)} files' if len(others) > 1 else 'a file'} besides its extracts "
            f"({named}): only the .xml and .csv files in a zip are read, and any trainees in the others would be "
            "left out; zip only the extracts (save a sheet as 'CSV UTF-8'), or give the files on their own",
        )
    for info in members:
        _refuse_a_bomb(info, shown)
    repeated = next((name for name, count in Counter(names).items() if count > 1), None)
    if repeated is not None:
        # A member is opened by name, and a name finds only the last member of that name: the others would be lost.
        raise UnusableInput(
            shown,
            f"the zip file holds more than one member named '{printable(repeated)}', so only the last could be "
            "read: zip the extract again with one file of each name",
        )
    return names


class _Archive:
    """A zip file opened once per process for all its members.

    Opening a `ZipFile` reads the whole central directory, so opening one per member (twice: to detect its format,
    then to read it) cost time in the square of the number of members: 5,000 small members took minutes. The one
    opened to list the members is the one they are read from. A process forked after that (a second `--jobs`
    process) opens its own, as the two must not share a file position. The file is closed when the last opener
    referring to it goes and its last member is closed (`_owning`).
    """

    def __init__(self, path: Path, shown: str, listing: zipfile.ZipFile):
        self._path = path  # a regular file (checked when the members were listed)
        self._shown = shown
        self._archive = listing  # as it was opened to list its members: its directory is read once (review162 F2)
        self._pid = os.getpid()

    def open(self, member: str) -> IO[bytes]:
        if self._pid != os.getpid():
            raw = _open_file(self._path, self._shown)
            try:
                self._archive = _owning(_open_zip(raw, self._shown), raw)
            except BaseException:
                raw.close()
                raise
            self._pid = os.getpid()
        return self._archive.open(member)


def _most_inflated(compressed: int) -> int:
    """The most bytes an extract compressed to `compressed` bytes may give: past 256 KiB, 100 times as many."""
    return max(MAX_INFLATED_SMALL, MAX_RATIO * max(compressed, 1))


def _refuse_a_bomb(info: zipfile.ZipInfo, shown: str) -> None:
    """A member that expands far more than any extract does: reading it would take minutes and fill the disk
    with reports. (zipfile never gives more bytes than a member declares, so its declared size is the bound.)"""
    if info.file_size > _most_inflated(info.compress_size):
        raise UnusableInput(
            f"{shown}:{printable(info.filename)}",
            f"expands {info.file_size // max(info.compress_size, 1):,} times ({info.file_size:,} bytes from "
            f"{info.compress_size:,}): no extract compresses like that (a zip bomb?); if it is genuine, unzip it "
            "and give the file itself",
        )


class _Gunzipped(PassingReader):
    """A gzip file, inflated as it is read, and refused once it has given more than any extract compresses to.

    A gzip file declares no reliable size (its trailer holds the size modulo 4 GiB, of the last member only), so the
    bound that `_refuse_a_bomb` puts on a zip member from its declared size is counted here as the bytes come.
    """

    def __init__(self, path: Path, shown: str):
        self._file = _open_file(path, shown)
        self._shown = shown
        self._size = os.fstat(self._file.fileno()).st_size
        self._limit = _most_inflated(self._size)
        self._given = 0
        self._inflating = gzip.GzipFile(fileobj=self._file, mode="rb")

    def read(self, size: int = -1) -> bytes:
        chunk = self._inflating.read(size)
        self._given += len(chunk)
        if self._given > self._limit:
            raise UnusableInput(
                self._shown,
                f"expands to more than {self._limit:,} bytes from {self._size:,}: no extract compresses like that (a "
                "gzip bomb?); if it is genuine, decompress it and give the file itself",
            )
        return chunk

    def seekable(self) -> bool:
        """Rewound, it is inflated again from its start: how a refused XML extract's record is found (hesa_xml)."""
        return True

    def tell(self) -> int:
        return self._inflating.tell()

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        self._given = self._inflating.seek(offset, whence)  # bytes before it given again as they are read again
        return self._given

    def close(self) -> None:
        try:
            self._inflating.close()
        finally:
            self._file.close()
            super().close()


def _detect(opener: Opener, shown: str, config: MappingConfig) -> str:
    with _read_errors(shown), closing(opener()) as fh:
        head = fh.read(_START)
    return _detect_start(head, shown, config)


def _detect_start(head: bytes, shown: str, config: MappingConfig) -> str:
    """The format of an extract whose first `_START` bytes are `head`, or UnusableInput saying why none is."""
    return detect_format(head, shown, _register_columns(config), config.fields["hesa"].known)


def _records(
    opener: Opener, info: InputInfo, config: MappingConfig, path: Path, looked: FileState | None
) -> Iterator[RawRecord]:
    with _changed_since(path, looked, info.path), _read_errors(info.path):
        yield from _read(opener, info, config, path)


@contextmanager
def _changed_since(path: Path, looked: FileState | None, shown: str) -> Iterator[None]:
    """A refusal of a file that is no longer as it was when it was first looked at (`looked`, before its format was
    told) says so, not what the mixture of two exports read as: a CSV rewritten in place as XML was "the file is XML,
    not register-csv" or "the root element is <F_ENTRYRTE>" (review53 F6). One look at the file, only on a refusal."""
    try:
        yield
    except UnusableInput as exc:
        if looked is not None and not exc.problem.startswith("the file changed") and file_state(path) != looked:
            raise UnusableInput(shown, CHANGED_WHILE_READ) from None
        raise


CHANGED_WHILE_READ = "the file changed while it was being read; run again once it is complete"

FileState = tuple[int, int, int, int]


def file_state(path: StrPath) -> FileState | None:
    """What says a file is as it was (its device, inode, size and modification time), or None when it cannot be
    looked at: rewritten in place (the SRS still writing it, `cp` of the next export over it) changes its time,
    replaced by a rename its inode. Two looks cost microseconds; hashing the file again would cost a second pass."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def check_unchanged(path: StrPath, before: FileState | None, shown: str) -> None:
    """UnusableInput when the file at `path` is not as `file_state` found it before it was read."""
    if file_state(path) != before:
        raise UnusableInput(shown, CHANGED_WHILE_READ)


def _refuse_text_given_as_xml(opener: Opener, info: InputInfo, config: MappingConfig) -> None:
    """With `--format hesa-xml`, a file with no XML element in it that is a CSV of a format register-batch reads, or a
    mapping file, is named as what it is (review117 F6), as an XML file given as a CSV is (csv.py)."""
    with closing(opener()) as fh:
        head = fh.read(1 << 16)
    refuse_text_given_as_xml(head, info.path, _register_columns(config), config.fields["hesa"].known)


def _read(opener: Opener, info: InputInfo, config: MappingConfig, path: Path) -> Iterator[RawRecord]:
    if info.format == "hesa-xml":
        # Read in one pass (the CSV reader's second pass compares hashes): the file, or the zip or gzip holding it,
        # is looked at before and after, so records that mix two exports are not used, nor a hash of neither.
        before = file_state(path)
        try:
            with closing(opener()) as fh:
                yield from read_hesa_xml(fh, info)
        except UnusableInput as exc:
            if exc.problem == NO_XML_ELEMENT:
                _refuse_text_given_as_xml(opener, info, config)
            raise
        check_unchanged(path, before, info.path)
        return
    hasher = hashlib.sha256()
    with closing(opener()) as fh:
        encoding, size, info.encoding = sniff_encoding(fh, hasher, info.path)
    info.sha256 = hasher.hexdigest()
    if size == 0:
        raise UnusableInput(info.path, "the file is empty")
    note_upload_size(info, size)
    # The second pass hashes again: records from a file that changed in between must not be trusted.
    with closing(HashingReader(opener())) as raw:
        yield from read_csv(io.BufferedReader(raw), info, csv_layout(info.format, config), encoding)
        # read_csv read to the end of the file (and closed it): every byte has passed through the hasher.
        if raw.hasher.hexdigest() != info.sha256:
            raise UnusableInput(info.path, CHANGED_WHILE_READ)


def input_paths(paths: Iterable[StrPath]) -> list[str]:
    """The inputs as a list of path strings; `ConfigError` for one path given bare (it would be read letter by
    letter, as the paths "e", "x", ...)."""
    given = path_list(paths, "inputs")
    if "-" in given:
        # Not a file named `-` read in its place (a leftover beside the job): `./-` names one.
        raise UnusableInput("-", STANDARD_INPUT)
    _refuse_repeats(given)
    return given


def check_inputs_open(paths: Iterable[StrPath], fmt: str = "auto", config: MappingConfig | None = None) -> list[str]:
    """The inputs (`input_paths`), each opened and looked into no further than its extracts' first bytes:
    UnusableInput for one that is not there, a folder, not to be read, no regular file, a zip holding no extract (or
    other files besides), or a file (or the gzip file's content, or a zip's member) that is empty (nothing, or a
    byte-order mark or whitespace alone, whatever the format), of a kind no reader takes (an empty zip, a PDF, an
    .xls) or UTF-16 or UTF-32 text, as reading it would say. With `fmt` auto and the `config` reading uses, also one
    whose format reading could not tell from those bytes (a blank first line, binary content, JSON, ...), told by the
    same code (`detect_format`).
    For a command to say so before it starts anything for them: sync's embedded emulator and its state dir, and its
    `Target:` line (review151 F6: a mistyped name left a state dir behind, and a first line that read as if a run
    began; review153 F5: so did an empty file; review158 F3: and a gzip of one, or UTF-16 text; review160 F1: and
    Excel's "CSV UTF-8" of an empty sheet, a byte-order mark alone; and so with `--format` given)."""
    detecting = config if fmt == "auto" else None
    given = input_paths(paths)
    for path in given:
        shown = printable(path)
        with _open_file(Path(path), shown) as fh:  # once: a plain file was opened twice, a zip three times
            head = fh.read(_START)
            if is_zip(head):
                fh.seek(0)
                with _zip_extracts(fh, shown) as (archive, names):
                    for name in names:
                        label = f"{shown}:{printable(name)}"
                        with _damaged_member(label):  # as reading opens it, then reads it
                            member = archive.open(name)
                        with _read_errors(label), member:
                            _check_start(member.read(_START), label, detecting)
            elif is_gzip(head):
                fh.seek(0)
                with _read_errors(shown), gzip.GzipFile(fileobj=fh, mode="rb") as inflated:
                    _check_start(inflated.read(_START), shown, detecting)
            else:
                _check_start(head, shown, detecting)
    return given


# How much of an extract its format is told from, and `check_inputs_open` looks at: as much as reading looks at (more
# than check_text_start's UTF-16 and UTF-32 tests look at, the first 4 KiB; every magic number of detect._FOREIGN is
# shorter).
_START = 1 << 16


def _check_start(start: bytes, shown: str, config: MappingConfig | None) -> None:
    """UnusableInput for an extract whose first bytes (`start`, up to _START of them) reading would refuse, as it
    would say it: whatever format it is said to be, none (an empty file) or what check_text_start refuses; with its
    format to be told (`config` given), what `detect_format` refuses, as `_detect` calls it (review160 F1). With the
    format given, a file that is a byte-order mark or whitespace alone is empty too, as told without it (reading would
    say "no XML element found" or "the first line is blank", after the embedded emulator and `Target:` line)."""
    if not start:
        raise UnusableInput(shown, "the file is empty")
    if config is None:
        check_text_start(start, shown)
        if _blank(start):
            raise UnusableInput(shown, "the file is empty")
    else:
        _detect_start(start, shown, config)


def _blank(start: bytes) -> bool:
    """Whether a file whose first bytes are `start` is a byte-order mark or whitespace and nothing else: all of it
    seen (XML may follow more whitespace than that, and be read)."""
    return len(start) < _START and not without_bom(start).strip()


# `-`, which many tools take for standard input: a pipe is not read (see _open_file).
STANDARD_INPUT = (
    "standard input is not read (a pipe cannot be read twice): save the extract to a file and give its path (a file "
    "named - as ./-)"
)


def _refuse_repeats(paths: list[str]) -> None:
    """`ConfigError` for a file given twice (`sync *.xml extract.xml`, or by two names): every record would be a
    duplicate of itself."""
    if found := repeated_file(paths):
        path, first = found
        also = "" if first == path else f" (also as {printable(first)})"
        raise ConfigError(f"{printable(path)} is given twice{also}: each of its records would be a duplicate of itself")


def check_format(fmt: str) -> None:
    """`ConfigError` unless `fmt` is `auto` or one of FORMATS."""
    if fmt != "auto" and fmt not in FORMATS:
        raise ConfigError(f"unknown input format {shown_value(fmt)}; use auto or one of {', '.join(FORMATS)}")


def open_inputs(
    paths: Iterable[StrPath], fmt: str, config: MappingConfig
) -> Iterator[tuple[InputInfo, Iterator[RawRecord]]]:
    """Yield (info, records) for every input file (and every extract inside a zip)."""
    check_format(fmt)
    for given in input_paths(paths):
        shown = printable(str(given))
        looked = file_state(given)
        for name, opener in _members(Path(given), shown):
            with _changed_since(Path(given), looked, name):
                actual = fmt if fmt != "auto" else _detect(opener, name, config)
            info = InputInfo(path=name, format=actual)
            yield info, _records(opener, info, config, Path(given), looked)


def find_xml_chunks(path: str, fmt: str, config: MappingConfig) -> XmlChunks | None:
    """Chunks two processes could share `path` by, if it is a plain (not zipped) HESA XML file.

    None for anything else, including an input that cannot be read: reading it the usual way reports why. (A gzip
    file is one member named as the file, and `find_chunks` finds no plain XML before its first `<Student>`.)
    """
    shown = printable(path)
    try:
        members = _members(Path(path), shown)
        if [name for name, _opener in members] != [shown]:  # a zip
            return None
        actual = fmt if fmt != "auto" else _detect(members[0][1], shown, config)
        return find_chunks(path) if actual == "hesa-xml" else None
    except (UnusableInput, OSError):
        return None
