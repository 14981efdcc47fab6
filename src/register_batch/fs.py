"""Files that hold personal data: created owner-only (0600 files, 0700 folders), written atomically."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import re
import sqlite3
import stat
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any, cast

from register_batch.errors import ConfigError, UnreadableFile, UnwritableOutput
from register_batch.portable import BINARY, POSIX_PERMISSIONS, set_mode, tighten
from register_batch.wording import ESCAPE_UNENCODABLE, cut_short, shell_word

# A path as the library takes one: a string or a path object (what `open()` takes).
StrPath = str | os.PathLike[str]


def path_list(paths: Iterable[StrPath], what: str) -> list[str]:
    """`paths` as a list of path strings; `ConfigError` for one path given bare, which would be read letter by
    letter (the paths "e", "x", ...) or end in a TypeError. `what` names the argument: "inputs", "mapping files"."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise ConfigError(f'{what} must be a list of paths, e.g. ["{os.fsdecode(paths)}"], not a single path')
    if not isinstance(paths, Iterable):  # None (a setting left unset), a number: a TypeError (review88 F3)
        raise ConfigError(f"{what} must be a list of paths, not {type(paths).__name__}")
    return [_path_item(path, what, number) for number, path in enumerate(paths, 1)]


def _path_item(path: object, what: str, number: int) -> str:
    """One item of a list of paths as its string; `ConfigError` for an item that is not a path: records a caller
    holds (a dict, a StringIO) were a bare TypeError, outside the library's errors (review62 F3). Bytes too: read as
    a path by os.fspath, then refused by pathlib. Never shows the item: a record holds personal data."""
    if isinstance(path, str | os.PathLike):
        named = os.fspath(path)
        if isinstance(named, str):
            return named
    what_it_is = type(path).__name__ if path is not None else "None"
    raise ConfigError(
        f"{what} must be paths (a str or pathlib.Path), not {what_it_is} (item {number}): records your code holds "
        'go in as a file, see docs/library.md "Records built in code"'
    )


FILE_MODE = 0o600
DIR_MODE = 0o700
# Errors of a write itself (as opposed to whatever else the code writing the file may meet).
_WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO})
_SPACE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})  # a full disk, a quota, a file size limit


@contextlib.contextmanager
def temporary_space() -> Iterator[None]:
    """Name the temporary folder when its disk refuses a spool's write. The spools are anonymous files
    (`tempfile.TemporaryFile`), so the error names no file; every named file register-batch writes reports its
    own failures (`private_writer`, the ledger) before they get here."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in _SPACE_ERRORS or exc.filename is not None:
            raise
        import tempfile

        raise UnwritableOutput(
            tempfile.gettempdir(),
            f"{exc.strerror} while spooling records to this temporary folder; free space there, or set TMPDIR to a "
            "folder with room",
        ) from None


# Why a folder or file named past what the file system takes cannot be made: the name given is the user's to change.
NAME_TOO_LONG = (
    "a file or folder name in it is longer than this file system takes (most take 255 bytes for each name between "
    "separators): give a shorter one"
)


def name_too_long(path: StrPath, problem: str = NAME_TOO_LONG) -> UnwritableOutput:
    """The error for an output or folder whose name the file system refuses as too long (ENAMETOOLONG), the name cut
    short in its message (it is 255 bytes or more) and whole in its `path`."""
    return UnwritableOutput(path, problem, shown=cut_short(os.fspath(path)))


def unwritable(path: StrPath, exc: OSError, too_long: str = NAME_TOO_LONG) -> UnwritableOutput:
    """The error for `path` that `exc`, met making or writing it, makes: a name too long said as what to change."""
    if exc.errno == errno.ENAMETOOLONG:
        return name_too_long(path, too_long)
    return UnwritableOutput(path, exc.strerror or str(exc))


@contextlib.contextmanager
def _name_fits(path: StrPath) -> Iterator[None]:
    """Look at `path` within: a name too long for the file system is `name_too_long`'s error, any other OSError
    itself (the caller's to word)."""
    try:
        yield
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise name_too_long(path) from None
        raise


def _nearest_existing(folder: Path) -> tuple[Path, list[Path]]:
    """The nearest folder on the path that exists, and the ones below it that do not (outermost first)."""
    missing = []
    current = folder
    try:
        with _name_fits(folder):
            while _status(current) is None and current != current.parent:
                missing.append(current)
                current = current.parent
    except PermissionError:  # a folder on the way this user may not enter: another user's, owner-only (a sudo run's)
        raise UnwritableOutput(folder, shut_to_this_user(folder)) from None
    return current, missing[::-1]


# What Path.exists and Path.is_file take for "nothing there" (pathlib's _IGNORED_ERRNOS): a symlink loop is no file.
_NOTHING_THERE = (errno.ENOENT, errno.ENOTDIR, errno.EBADF, errno.ELOOP)


def _status(path: Path) -> os.stat_result | None:
    """`path`'s status, or None where Path.exists says False (nothing there, a symlink loop, a name holding a NUL).
    A folder on its way this user may not enter raises PermissionError: Path.exists and Path.is_file raise it up to
    Python 3.13 and say False from 3.14, where a pulled code list or a settings file out of reach would be taken for
    none (the bundled lists or defaults used without a word), and the folder refused not named."""
    try:
        return path.stat()
    except PermissionError:
        raise
    except OSError as exc:
        if exc.errno in _NOTHING_THERE:
            return None
        raise
    except ValueError:
        return None


def is_file(path: Path) -> bool:
    """Whether `path` is a file, a folder on its way this user may not enter raising PermissionError (`_status`)."""
    status = _status(path)
    return status is not None and stat.S_ISREG(status.st_mode)


def shut_to_this_user(path: Path) -> str:
    """Why `path` cannot be reached: the outermost folder on its way this user may not enter, and what opens it. A
    relative path is read from the current folder, which may be the shut one (a service's working folder)."""
    with contextlib.suppress(OSError):  # a current folder removed: the path as given
        path = Path.cwd() / path
    linked = False
    with contextlib.suppress(OSError):
        linked = path.is_symlink()  # the path itself a link into a shut folder (`--report-dir reports`, review41)
    shut = _outermost_shut([path, *path.parents] if linked else path.parents, path.parent)
    leads = ""
    # A link on the way (`~/reports` -> another user's folder) is not itself shut: the folder it leads into is.
    with contextlib.suppress(OSError):
        if shut.is_symlink():
            real = Path(os.path.realpath(shut))
            leads = f" (where {shut} leads)"
            shut = _outermost_shut([real, *real.parents], real)
    named = f"{shut}{leads}"
    try:
        own = shut.stat().st_uid == os.geteuid()
    except (OSError, AttributeError):  # Windows has no getuid: its folders' ACLs decide
        own = False
    if own:
        return f"{named} is not open to this user, its owner: `chmod u+rwx {shell_word(str(shut))}` opens it"
    return (
        f"{named} is not open to this user: it is another user's folder, made by a run as that user or with sudo; use "
        "another folder, or have its owner give it to you"
    )


def _outermost_shut(folders: Iterable[Path], otherwise: Path) -> Path:
    """The outermost of `folders` (given innermost first, as Path.parents) this user may not enter."""
    effective = os.access in os.supports_effective_ids  # the user this process acts as (sudo -u, seteuid)
    return next(
        (p for p in reversed(list(folders)) if str(p) != "." and not os.access(p, os.X_OK, effective_ids=effective)),
        otherwise,
    )


def home_expanded(path: StrPath) -> Path:
    """`path` with a leading `~` (`~/reports`, `~user/x`) made the home folder, as a shell would: for every path
    option and setting alike. One reaches the program literally when quoted in a script or from systemd's
    ExecStart=, which runs no shell; taken as given, it made a folder named `~` in the current one. This user's `~`
    with no home known (no $HOME and a uid the user database lacks, or `HOME=`) is refused: not a folder `~`, nor
    `/`."""
    value = os.fspath(path)
    if not value.startswith("~"):
        return Path(value)
    own = value == "~" or value.startswith(tuple(f"~{sep}" for sep in _SEPARATORS))
    # os.path.expanduser leaves `~` as it is with no home known, and makes `~/x` the root's `/x` with `HOME=`.
    if own and (not os.path.isabs(os.path.expanduser("~")) or os.environ.get("HOME") == ""):
        raise ConfigError(
            f"{value}: ~ is the home folder, and none is known for this user (no $HOME, or an empty one): "
            "give the full path"
        )
    return Path(os.path.expanduser(value))


CURRENT_FOLDER_GONE = (
    "the current folder is no longer there (removed since the shell or job went to it): cd to a folder that is, or "
    "give an absolute path"
)


def absolute(path: StrPath) -> Path:
    """`path` made absolute from the current folder; refused in one line when that folder has been removed (a job
    left in a release folder a deploy replaced), where `os.getcwd()` raises FileNotFoundError."""
    try:
        return Path(os.path.abspath(path))
    except FileNotFoundError:
        raise UnwritableOutput(path, CURRENT_FOLDER_GONE) from None


def _link_to_nothing(path: Path) -> str | None:
    """What a symbolic link at `path` that leads to nothing is, or None: `ln -s` to a folder not made yet, or one
    removed since. It looks like no folder at all, and the folder cannot be made there: "a file" sent people looking
    for one."""
    try:
        if not path.is_symlink():
            return None
        target = os.readlink(path)
    except OSError:
        return None
    try:
        os.stat(path)
        return None  # it leads somewhere
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"{path} is a link to {target}, which leads to no folder (links in a loop)"
    # A chain of links (a deploy's `current`) is named by what is missing at its end, as the system resolves it.
    end = os.path.realpath(path)
    if os.path.islink(end):  # Windows says no ELOOP for a loop
        return f"{path} is a link to {target}, which leads to no folder (links in a loop)"
    named = os.path.join(os.path.realpath(path.parent), target)  # as written: `..` after a file is not a folder's
    # `ln -s afile/` (a trailing slash asks a file for a folder), `afile/..`: a file on the way.
    if (blocker := _file_on_the_way(named)) is not None:
        how = "to" if blocker == end else "through"
        return f"{path} is a link to {target}, which leads {how} {blocker}, which is a file, not a folder"
    if os.path.lexists(end):
        return f"{path} is a link to {target}, which leads to {end}, which cannot be used as a folder"
    if end == os.path.normpath(named):
        return f"{path} is a link to {target}, which does not exist"
    return f"{path} is a link to {target}, which leads to {end}, which does not exist"


def _file_on_the_way(path: str) -> str | None:
    """The first thing on `path`'s way (itself included) that is there and is not a folder, resolved; or None."""
    parts = Path(path).parts
    current = Path(parts[0]) if parts else Path(path)
    for part in parts[1:]:
        current = current / part
        resolved = os.path.realpath(current)  # where a link on the way leads (one to `afile/` is no file itself)
        if os.path.exists(resolved) and not os.path.isdir(resolved):
            return resolved
    return None


def _not_a_folder(path: Path) -> str:
    """Why a folder cannot be made at `path`, where something is: a link to nothing, or a file."""
    return _link_to_nothing(path) or f"{path} is a file, not a folder"


def _links_to_nothing_in(folder: Path, missing: list[Path]) -> None:
    """Refuse a folder to be made where a link to nothing is on its way (`missing`: `_nearest_existing`'s)."""
    for item in missing:
        if (dangling := _link_to_nothing(item)) is not None:
            raise UnwritableOutput(folder, dangling)


def check_writable_dir(path: StrPath) -> None:
    """Refuse, before any work is done, a folder that could not be made or written to.

    A run that checks or uploads thousands of records must not fail at its very end for want of a place for its
    report. This looks without creating anything; writing later still reports what it meets."""
    absolute(path)  # a relative name in a current folder removed: `.` is still there to look at, not to write in
    existing, missing = _nearest_existing(Path(path))
    _links_to_nothing_in(Path(path), missing)
    if not existing.is_dir():
        raise UnwritableOutput(path, _not_a_folder(existing))
    if not os.access(existing, os.W_OK | os.X_OK):
        if _read_only(existing):  # chmod cannot help there: say what can (another folder, a remount)
            raise UnwritableOutput(path, f"{existing} is on a read-only file system")
        raise UnwritableOutput(path, f"no permission to write in {existing}")


def _read_only(folder: Path) -> bool:
    """Whether `folder` is on a file system mounted read-only (POSIX; a remounted volume, systemd's ProtectSystem)."""
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (AttributeError, OSError):  # Windows has no statvfs
        return False


def names_a_folder(path: StrPath) -> bool:
    """Whether a name given as text ends in a path separator (`out/`): it means a folder, though `Path` drops the
    separator and would write a file of that name."""
    return isinstance(path, str) and path.endswith(_SEPARATORS)


_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep) if sep)


def control_characters(name: str) -> str | None:
    """Why a file or folder to be made cannot have `name`, or None: a control character in it. A script or env file
    saved with Windows line ends gives its last word a carriage return; the folder made would be a new one beside the
    one meant (a ledger the next run, from a corrected script, never sees), and nobody could type its name."""
    found = sorted({c for c in name if unicodedata.category(c) == "Cc"})
    if not found:
        return None
    crlf = ": what a file saved with Windows line ends leaves at the end of a line" if "\r" in found else ""
    some, them = ("a control character", "it") if len(found) == 1 else ("control characters", "them")
    return f"holds {some} ({', '.join(repr(c) for c in found)}{crlf}); give the name without {them}"


class TooLarge(OSError):
    """A file read whole (settings, a mapping, a token) that holds more than such a file can: `strerror` says so."""


def read_at_most(
    path: StrPath, limit: int, what: str, *, opened: Callable[[os.stat_result], None] | None = None
) -> bytes:
    """The bytes of `what` (a small file read whole), refused past `limit` bytes: `/dev/zero`, or the 2 GB extract
    given in its place, would fill the memory first. Only `limit` + 1 bytes are read, so a pipe (`<(...)`) works.
    `opened` looks at the file opened (its owner, its mode) before a byte is read: not another file put in its place
    after a look at the name."""
    with open(path, "rb") as fh:
        if opened is not None:
            opened(os.fstat(fh.fileno()))
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise TooLarge(errno.EFBIG, f"over {size_in_words(limit)}, more than {what} holds")
    return data


def size_in_words(size: int) -> str:
    """A size limit as a message gives it: `64 MB`, `64 KB`."""
    return f"{size >> 20} MB" if size >= 1 << 20 else f"{size >> 10} KB"


def check_writable_file(path: StrPath) -> None:
    """`check_writable_dir` for a file's folder, and refuse a name that is a folder, not a regular file, or a
    symbolic link.

    Files are put in place by a rename, which would replace a device (/dev/null), a pipe or a socket, or the link to
    one, with a file of trainee records instead of writing to it. A link to a regular file is refused too (review109
    F3): `/dev/stdout` with standard output redirected to a file passed as that file, and the rename then put a file
    of records in place of the link (as root, for every later program writing to /dev/stdout) while nothing reached
    standard output; `ln -s real.xml link.xml` made link.xml a file and left real.xml as it was."""
    if names_a_folder(path):
        raise UnwritableOutput(path, "the name ends in a path separator, so it names a folder: give a file's name")
    target = Path(path)
    stream = _standard_stream(target)  # before its folder: /dev is no folder to write in, and not what is wrong
    if stream is not None:
        raise UnwritableOutput(
            target,
            f"it is {stream}, not a file: personal data is written only to a file, owner-only (a job's output goes "
            "to logs and mail); give a file's name",
        )
    check_writable_dir(target.parent)
    with _name_fits(target):
        status = _status(target)
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise UnwritableOutput(target, "a folder has that name")
    if status is not None and not stat.S_ISREG(status.st_mode):
        raise UnwritableOutput(
            target, "not a regular file (a device, a pipe or a socket); give the name of a file to write"
        )
    link = _link_of(target)
    if link is not None:
        raise UnwritableOutput(
            target,
            f"it is a symbolic link (to {link}): the file is put in place by a rename, which would replace the link, "
            "not write to what it leads to; give the name of the file itself, or another name",
        )


# The names of an open file descriptor on Linux and the BSDs/macOS (/dev/fd/1, /proc/self/fd/1, /dev/stdout).
_DESCRIPTOR = re.compile(r"/(?:proc/(?:self|thread-self|[0-9]+)|dev)/fd/([0-9]+)|/dev/(stdin|stdout|stderr)")
_STREAMS = {"0": "standard input", "1": "standard output", "2": "standard error"}
_STREAMS.update(stdin=_STREAMS["0"], stdout=_STREAMS["1"], stderr=_STREAMS["2"])


def _link_of(path: Path) -> str | None:
    """Where the symbolic link at `path` leads (as written in it), or None: not a link (or not there)."""
    try:
        return os.readlink(path) if path.is_symlink() else None
    except (OSError, ValueError):
        return None


def _standard_stream(path: Path) -> str | None:
    """What open file descriptor `path` names, in words ("standard output", "open file descriptor 3"), or None. The
    name itself or a link on its way to its end (/dev/stdout -> /proc/self/fd/1): such a name leads to wherever the
    run's descriptor goes, a terminal, a pipe or a file, never to a file of its own."""
    current, seen = os.path.abspath(path), 0
    while seen < 40:  # the system's own limit on links in a row
        found = _DESCRIPTOR.fullmatch(current)
        if found is not None:
            number = found.group(1) or found.group(2)
            return _STREAMS.get(number) or f"open file descriptor {number} ({current})"
        link = _link_of(Path(current))
        if link is None:
            return None
        current, seen = os.path.abspath(os.path.join(os.path.dirname(current), link)), seen + 1
    return None


# A file of personal data is opened read-write and never through a symbolic link at its name (Windows has no
# O_NOFOLLOW: there the name is looked at after the open); a pipe planted in its place does not hold the open up.
_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)
_PRIVATE_OPEN = os.O_RDWR | _NO_FOLLOW | getattr(os, "O_NONBLOCK", 0) | BINARY
# A file only read back (the embedded emulator's token) is opened read-only (review130 F7): one its owner made
# read-only (chmod 400), or restored so from a backup, is read as before; fchmod tightens it all the same.
_READ_OPEN = os.O_RDONLY | _NO_FOLLOW | getattr(os, "O_NONBLOCK", 0) | BINARY
# Why a file at a private file's name is not written: each a clause after "cannot use NAME for ...: ".
A_SYMLINK = (
    "it is a symbolic link, and register-batch writes personal data through none: in a folder other users can write "
    "to, one could lead it into a file of theirs"
)
NOT_REGULAR = "it is not a regular file (a folder, a device, a pipe or a socket)"
# What to do about a second name is the caller's to say (a state dir restored with `cp -al` is copied without links;
# a shared rate budget's is left alone): the folder is often the user's own, so "a folder of your own" is no answer.
A_HARD_LINK = "it is not a file of its own: it has a second name (a hard link), and a write would change that file too"
ANOTHER_USERS = "it is another user's file (uid {uid}), and that user could read and change what is written to it"
# SQLite's companions of a database file, each holding its pages: the write-ahead log and its index (WAL mode), and
# the rollback journal, which SQLite plays back into the database when it finds one (a planted one would edit it).
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")
# Whose file may be written as one's own (review61 F1, review63 F1): a file this very open created (O_CREAT|O_EXCL
# succeeded), whatever owner the file system then reports; and a file found there that is this user's, or the
# owner's of the folder holding it, who could replace the folder's files anyway. A file system that maps owners
# (NFS with root_squash or a failed NFSv4 id mapping showing `nobody`, CIFS with `uid=`, FUSE) shows the folder and
# its files as one other user, and works; another user's file planted in a folder they do not own (a shared
# folder, one of yours others may write to) is still refused, as are links and second names.


def _not_its_own(
    status: os.stat_result,
    *,
    owner: bool,
    created: bool = False,
    folder_owner: int | None = None,
    second_names: bool = False,
) -> str | None:
    """Why a file opened (`status`) is not to be written as one of this user's, or None: not a regular file, one
    with a second name, or, with `owner`, another user's by the rule above (Windows has no uid: its folders' ACLs
    decide). `created`: this open made it; `folder_owner`: the uid of the folder it was opened in; `second_names`:
    a hard link is no matter (a file only read, never written)."""
    if not stat.S_ISREG(status.st_mode):
        return NOT_REGULAR
    if status.st_nlink != 1 and not second_names:
        return A_HARD_LINK
    if owner and POSIX_PERMISSIONS and not created and status.st_uid not in (os.geteuid(), folder_owner):
        return ANOTHER_USERS.format(uid=status.st_uid)
    return None


def file_of_its_own(
    fd: int,
    path: StrPath,
    *,
    owner: bool = True,
    created: bool = False,
    folder_owner: int | None = None,
    second_names: bool = False,
) -> os.stat_result:
    """The status of the file open as `fd`, if it is a regular file with no other name and, with `owner`, this
    user's (or one this open `created`, or the `folder_owner`'s: the rule above); otherwise `fd` is closed and
    OSError(EPERM) says why. Looked at through the descriptor, not the name: the file checked is the file open.
    Where other users may write to the folder, one of them could have put there a file of theirs (which they could
    then read) or a second name of a file of yours (which would be overwritten)."""
    status = os.fstat(fd)
    why = _not_its_own(status, owner=owner, created=created, folder_owner=folder_owner, second_names=second_names)
    if why is None:
        return status
    os.close(fd)
    raise OSError(errno.EPERM, why, os.fspath(path))


# Where a file can be opened relative to its folder's descriptor (not Windows): the folder whose owner is compared is
# then the very folder the file was opened in. O_PATH (Linux) opens a folder this user may enter but not list.
_IN_FOLDER = POSIX_PERMISSIONS and os.open in os.supports_dir_fd and hasattr(os, "O_DIRECTORY")
_FOLDER_OPEN = getattr(os, "O_PATH", os.O_RDONLY) | getattr(os, "O_DIRECTORY", 0)


def _open_private(path: StrPath, flags: int, *, create: bool) -> tuple[int, bool, int | None]:
    """Open `path` with `flags` (with `create`, made here if it is not there): its descriptor, whether this open
    created it (O_CREAT|O_EXCL), and the uid of the folder it was opened in (None where files have no uid, or the
    folder cannot be opened: then only this user's files are, as before). An OSError names `path` whole."""
    name = os.fspath(path)
    folder_fd = None
    if _IN_FOLDER:
        with contextlib.suppress(PermissionError):  # a folder this user may enter, not list (no O_PATH): by name
            folder_fd = os.open(os.path.dirname(name) or ".", _FOLDER_OPEN)
    if folder_fd is None:
        fd, created = _open_or_make(name, flags, create=create, folder=None)
        return fd, created, None
    try:
        folder_owner = os.fstat(folder_fd).st_uid
        fd, created = _open_or_make(os.path.basename(name), flags, create=create, folder=folder_fd)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, name) from None
    finally:
        os.close(folder_fd)
    return fd, created, folder_owner


def _open_or_make(name: str, flags: int, *, create: bool, folder: int | None) -> tuple[int, bool]:
    """Make `name` (O_EXCL: this open made it) or, when it is there already (or not to be created), open it: the
    descriptor and whether it was made here. A file removed between the two tries is made again (a few times)."""
    for _ in range(3):
        if create:
            try:
                return os.open(name, flags | os.O_CREAT | os.O_EXCL, FILE_MODE, dir_fd=folder), True
            except FileExistsError:  # there already, or a link at its name (O_EXCL follows none)
                pass
        try:
            return os.open(name, flags, dir_fd=folder), False
        except FileNotFoundError:
            if not create:
                raise
    return os.open(name, flags | os.O_CREAT, FILE_MODE, dir_fd=folder), False


def private_file(path: StrPath, *, create: bool = True) -> os.stat_result | None:
    """Open, or (with `create`) make owner-only, a file of personal data that a library writes by its name (SQLite),
    never through a symbolic link, and tighten it to 0600 when it is this user's; refused (UnwritableOutput, its
    `problem` one of the clauses above) when it is a link, not a regular file, has a second name or is another
    user's by the rule above (review61 F1, review63 F1). Its status, or None when it is not there and not to be
    created."""
    opened = _open_checked(path, create=create)
    if opened is None:
        return None
    fd, status = opened
    os.close(fd)
    return status


def read_private_file(path: StrPath, limit: int) -> bytes | None:
    """The first `limit` bytes of a file of this user's that register-batch made and reads back (the embedded
    emulator's token), looked at as `private_file` looks (never through a link, a regular file of its own, this
    user's; a pipe planted there does not hold the run up) and read from the very file looked at (review125 F1, F4).
    None when it is not there."""
    try:  # a state dir copied with `cp -al`: its own check
        opened = _open_checked(path, create=False, second_names=True, flags=_READ_OPEN)
    except OSError as exc:  # another user's file not open to this user: one line naming it (review130 F7)
        raise UnreadableFile(path, _cannot_open(path, exc)) from None
    if opened is None:
        return None
    fd, _status = opened
    try:
        return os.read(fd, limit)
    finally:
        os.close(fd)


def _open_checked(
    path: StrPath, *, create: bool, second_names: bool = False, flags: int = _PRIVATE_OPEN
) -> tuple[int, os.stat_result] | None:
    """`private_file`'s open and checks: the open descriptor, tightened, and its status; None when not there."""
    try:
        fd, created, folder_owner = _open_private(path, flags, create=create)
    except OSError as exc:
        if os.path.islink(path):  # ELOOP on Linux; EMLINK, EFTYPE on the BSDs; a link to nothing on Windows
            raise UnwritableOutput(path, A_SYMLINK) from None
        if isinstance(exc, IsADirectoryError):
            raise UnwritableOutput(path, NOT_REGULAR) from None
        if isinstance(exc, FileNotFoundError) and not create:
            return None
        raise
    try:
        status = file_of_its_own(fd, path, created=created, folder_owner=folder_owner, second_names=second_names)
    except OSError as exc:  # fd closed
        raise UnwritableOutput(path, exc.strerror or str(exc)) from None
    try:
        if stat.S_IMODE(status.st_mode) & 0o077:  # made by an older version, or copied in
            _tighten_open(fd, status)
        if not _NO_FOLLOW and os.path.islink(path):  # where the open could not refuse a link (Windows)
            raise UnwritableOutput(path, A_SYMLINK)
    except BaseException:
        os.close(fd)
        raise
    return fd, status


def _cannot_open(path: StrPath, exc: OSError) -> str:
    """Why a private file could not be opened, in words: whose it is, when another user's."""
    try:
        status = os.lstat(path)
    except OSError:
        return exc.strerror or str(exc)
    if POSIX_PERMISSIONS and exc.errno in (errno.EACCES, errno.EPERM):
        if status.st_uid != os.geteuid():
            return f"it is another user's file (uid {status.st_uid}), not open to this user"
        if not status.st_mode & stat.S_IRUSR:  # `chmod 000` (review136 F3)
            return (
                "it is your file, but its mode does not let you read it: give it back its owner's read permission "
                f"(`chmod 600 {shell_word(str(path))}`)"
            )
    return exc.strerror or str(exc)


def _tighten_open(fd: int, status: os.stat_result) -> None:
    """Make the open file 0600. A file the file system shows as another user's (a mount that maps owners, the rule
    above) may refuse it (EPERM): its mode is then the mount's to give, as it is for every file there."""
    try:
        set_mode(fd, FILE_MODE)
    except PermissionError:
        if not POSIX_PERMISSIONS or status.st_uid == os.geteuid():
            raise


def private_database(path: StrPath) -> tuple[object, ...]:
    """Make ready for SQLite a database of personal data and its companions, before it is opened by name: each a
    `private_file` of this user's, the database and its WAL files made here, owner-only (SQLite would make them
    with its own mode, and give a file found there, another user's, the database's pages). A rollback journal is made
    by SQLite for a moment as it is needed, with the database's mode; one found is looked at, as SQLite would play it
    back into the database. What `same_database` then compares the name with."""
    status = private_file(path)
    assert status is not None
    for companion in SQLITE_COMPANIONS:
        private_file(f"{os.fspath(path)}{companion}", create=companion != "-journal")
    return file_key(path, status)


def same_database(path: StrPath, key: tuple[object, ...]) -> None:
    """After SQLite opened `path` by its name: refuse (UnwritableOutput) the name leading elsewhere than the file
    `private_database` looked at (`key`), as it would if another user swapped a file of theirs or a link in between.

    The race accepted: SQLite opens by name, so a user who may replace names in the folder (one others may write to
    and not sticky, as /tmp is) could swap a link in just after the look and the file back just after the open. The
    window is two system calls wide, and such a user could as well remove the database between runs."""
    try:
        status = os.lstat(path)
    except OSError as exc:
        raise UnwritableOutput(path, exc.strerror or str(exc)) from None
    if stat.S_ISLNK(status.st_mode):
        raise UnwritableOutput(path, A_SYMLINK)
    if file_key(path, status) != key:
        raise UnwritableOutput(path, "it was replaced by another file while it was being opened")


def read_whole(path: StrPath, *, timeout: float) -> None:
    """Read every page of the SQLite database at `path` once (`PRAGMA quick_check`, 0.2-0.4 s for a sync ledger of
    100,000 records): opening a database reads only its first pages (the header, the schema), and damage past them
    was found part-way through a run, as an internal error (the sync ledger: review127 F2) or as the embedded
    emulator's 500s, "Register was unavailable". Raises sqlite3.DatabaseError for damage. On a connection of its own
    that can only read, so before its caller's own writes: SQLite folds the -wal into the file when the last
    connection that can write closes, and folded a damaged ledger's -wal into the backup put back beside it
    (review130 F4). `timeout`: how long to wait out another connection's lock."""
    if not checks_well(path, "mode=ro", timeout=timeout):
        raise sqlite3.DatabaseError("database disk image is malformed")


def checks_well(path: StrPath, mode: str, **connect: Any) -> bool:
    """Whether `PRAGMA quick_check` finds the database at `path`, opened with the URI parameter `mode`, whole; it
    raises sqlite3.DatabaseError where SQLite cannot read it so far."""
    db = sqlite3.connect(f"{Path(path).absolute().as_uri()}?{mode}", uri=True, isolation_level=None, **connect)
    try:
        [(checked,), *_] = db.execute("PRAGMA quick_check(1)").fetchall()
        return bool(checked == "ok")
    finally:
        db.close()


def file_key(path: StrPath, status: os.stat_result) -> tuple[object, ...]:
    """What makes two names one file: its device and inode where the filesystem numbers files (some Windows ones
    give 0, which identifies nothing), else its real path."""
    if status.st_ino:
        return (status.st_dev, status.st_ino)
    return (os.path.normcase(os.path.realpath(path)),)


def _key_of(path: StrPath, *, regular: bool = False) -> tuple[object, ...] | None:
    """`file_key` of `path`, or None when it cannot be stat'ed (not there yet, or left to whoever reads it, which
    says why) or, with `regular`, is not a regular file."""
    try:
        status = os.stat(path)
    except (OSError, ValueError):
        return None
    if regular and not stat.S_ISREG(status.st_mode):
        return None
    return file_key(path, status)


def repeated_file(paths: Iterable[StrPath]) -> tuple[str, str] | None:
    """The first of `paths` that names a file given before it (by the same name or another: a link), with the name
    it was given by first; None when each names its own file. A path that cannot be stat'ed is left to whoever reads
    it, which says why."""
    seen: dict[tuple[object, ...], str] = {}
    for path in paths:
        key = _key_of(path, regular=True)
        if key is None:
            continue
        if key in seen:
            return str(path), seen[key]
        seen[key] = str(path)
    return None


def check_not_an_input(
    outputs: Iterable[StrPath], inputs: Iterable[StrPath], *, parts: bool = False, instead: str = "name another file"
) -> None:
    """Refuse an output that is one of the inputs by any name (with `parts`, also an input that a Register CSV too
    long for one file would continue in, OUT-2.csv, ...): an output is put in place by a rename, which would
    replace the extract with its own conversion. Each input is looked at once, however many outputs there are."""
    given = [(path, key) for path in inputs if (key := _key_of(path)) is not None]
    for output in outputs:
        target = Path(output)
        written = _key_of(target)  # None for a file not there yet: no input
        for path, key in given:
            if key == written:
                raise UnwritableOutput(
                    output, f"that is the input {os.fspath(path)}, which the output would replace: {instead}"
                )
        if parts:
            part = re.compile(rf"{re.escape(target.stem)}-(?:[2-9]|[1-9][0-9]+){re.escape(target.suffix)}")
            for path, _key in given:
                if part.fullmatch(Path(path).name) and same_folder(Path(path).parent, target.parent):
                    raise UnwritableOutput(
                        output,
                        f"a Register CSV too long for one file goes on in {Path(path).name}, which is the input "
                        f"{os.fspath(path)} and would be replaced: {instead}",
                    )


# What makes a folder a state dir, whichever command made it: the sync ledger and its lock (sync/ledger.py's
# LEDGER_FILE, LOCK_FILE) and the embedded emulator's database (sync/target.py).
STATE_FILES = ("ledger.sqlite3", "sync.lock", os.path.join("register", "register.sqlite3"))
LEDGER_NAME = STATE_FILES[0]
# Everything register-batch keeps in a state dir: the ledger (with SQLite's companions), its lock, a pulled code list
# (reference/__init__.py's PULLED_FILE) and the embedded emulator's folder. A state dir holding nothing else is its
# own to make owner-only (private_dir).
STATE_DIR_ENTRIES = frozenset(
    {
        *(
            f"{ledger}{companion}"
            for ledger in (LEDGER_NAME, f"{LEDGER_NAME}.new")  # .new: a ledger being made (sync/ledger.py)
            for companion in ("", *SQLITE_COMPANIONS)
        ),
        "sync.lock",
        "reference-data.json",
        "register",
    }
)


def check_not_in_state_dir(output: StrPath, state_dir: StrPath | None) -> None:
    """Refuse an output inside a state dir (by any name): it could replace the sync ledger or the embedded emulator's
    database. This command's state dir (None for a command without one), and any other folder holding a state dir's
    files: another target's (the default state dirs are siblings, `.register-batch/<target>`) or one a `--state-dir`
    named. A state dir not there yet holds nothing to lose."""
    named, key = (None, None) if state_dir is None else (os.fspath(state_dir), _key_of(state_dir))
    folder = absolute(output).parent
    for parent in (folder, *folder.parents):
        if named is not None and key is not None and _key_of(parent) == key:
            found = named
        elif any(os.path.lexists(parent / name) for name in STATE_FILES):
            found = os.fspath(parent)
        else:
            continue
        raise UnwritableOutput(
            output,
            f"that is in the state dir {found} (the sync ledger, its lock and the embedded emulator's data), which it "
            "could replace: name a file outside it",
        )


# The file name ending each written format has, and what an ending says a file holds: `-o held.xlsx --to
# register-csv` wrote CSV text that Excel then refused to open ("the file format or file extension is not valid"),
# and `-o held.xml --to register-csv` a file every tool took for XML (review40 F6).
WRITTEN_AS = {"register-csv": ".csv", "hesa-csv": ".csv", "hesa-xml": ".xml", "json": ".json", "jsonl": ".jsonl"}
ENDINGS = {
    ".csv": "CSV",
    ".xml": "XML",
    ".json": "JSON",
    ".jsonl": "JSON Lines",
    ".ndjson": "JSON Lines",
    ".tsv": "tab-separated text",
    **dict.fromkeys((".xlsx", ".xlsm", ".xlsb", ".xls", ".xltx", ".xltm"), "an Excel workbook"),
    **dict.fromkeys((".ods", ".fods", ".numbers"), "a spreadsheet"),
    **dict.fromkeys((".gz", ".zip", ".bz2", ".xz", ".zst", ".7z"), "a compressed file"),
}
SPREADSHEETS = frozenset(ending for ending, says in ENDINGS.items() if says in ("an Excel workbook", "a spreadsheet"))
COMPRESSED = frozenset(ending for ending, says in ENDINGS.items() if says == "a compressed file")


def check_output_ending(output: StrPath, written_as: str, setting: str = "to", *, chosen: bool = True) -> None:
    """Refuse (ConfigError, before anything is read or sent) an output whose name says another format than the one
    written, `written_as` (a format of WRITTEN_AS, chosen by the caller's `setting`, or, not `chosen`, the one the
    file named by `setting` is always written in); an ending that says nothing (`.txt`, none) is left to the
    caller."""
    path = Path(output)
    ending = path.suffix.lower()
    says, wanted = ENDINGS.get(ending), WRITTEN_AS[written_as]
    if says is None or ENDINGS[wanted] == says:
        return
    opens = " (Excel and LibreOffice Calc open a .csv file)" if wanted == ".csv" and ending in SPREADSHEETS else ""
    if ending in COMPRESSED:  # `held.csv.gz`: the text would be written as is, under a name no tool reads it by
        opens = " (register-batch writes it uncompressed; compress it once written)"
    writes = "{" + setting + "} {written_as} writes {kind}" if chosen else "the {" + setting + "} file is {kind}"
    raise ConfigError.naming(
        "{shown} ends in {suffix}, which says {says}, but " + writes + ": give a name ending in {wanted}{opens}",
        shown=repr(str(path)),
        suffix=path.suffix,
        says=says,
        written_as=written_as,
        kind=ENDINGS[wanted],
        wanted=wanted,
        opens=opens,
    )


def same_folder(one: Path, other: Path) -> bool:
    """Whether two paths name one folder: by any name (a link) once both are there, else by their absolute names
    (a folder an output and the reports are both to be written in, not made yet, or `new/sub/..`)."""
    found, also = _key_of(one), _key_of(other)
    if found is not None and also is not None:
        return found == also
    return absolute(one) == absolute(other)


def user_cache_dir(environ: Mapping[str, str] | None = None) -> Path | None:
    """This user's folder for register-batch's caches: `$XDG_CACHE_HOME/register-batch`, else
    `~/.cache/register-batch` (not created here). None when there is no home folder: no HOME, and a uid the user
    database does not know (a container's or a service's arbitrary uid), where `Path.home()` raises; or a home that
    is not there (a service account's `/nonexistent`), which a cache is no reason to make, as root could."""
    environ = os.environ if environ is None else environ
    base = environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):  # the XDG rule: a relative path is invalid and ignored
        # "~" itself when no home is known; an empty HOME is none either (expanduser would make it "/").
        home = environ.get("HOME")
        home = os.path.expanduser("~") if home is None else home
        if not home or not os.path.isabs(home) or not os.path.isdir(home):
            return None
        base = os.path.join(home, ".cache")
    return Path(base) / "register-batch"


def make_private_dirs(path: StrPath) -> Path:
    """`mkdir -p` that makes every folder it creates owner-only (`Path.mkdir` applies the mode to the last one
    only); folders that exist already are left as they are. Refused part-way (a name too long below a new folder),
    it removes the folders it made: the run refused leaves nothing behind."""
    folder = Path(path)
    absolute(folder)  # a relative name in a current folder removed: made in nothing
    existing, missing = _nearest_existing(folder)
    _links_to_nothing_in(folder, missing)
    made: list[Path] = []
    try:
        for item in missing:
            with contextlib.suppress(FileExistsError):
                item.mkdir(mode=DIR_MODE)
                made.append(item)
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
    except FileExistsError:
        remove_empty_dirs(made)
        raise UnwritableOutput(folder, _not_a_folder(folder)) from None
    except NotADirectoryError:
        raise UnwritableOutput(folder, _not_a_folder(existing)) from None
    except OSError as exc:
        remove_empty_dirs(made)
        raise unwritable(folder, exc) from None
    return folder


def claim_new_dir(base: StrPath) -> tuple[Path, list[Path]]:
    """A new owner-only folder named `base`, or `base-2`, `base-3`, ... when that is taken, created here: two runs
    that choose a name in the same second (two cron jobs, say) never get the same folder and replace each other's
    reports, as they could when the name was only looked up and made later. Returns the folder and every folder this
    call made (its parents included, outermost first), for `remove_empty_dirs`."""
    base = Path(base)
    _existing, parents = _nearest_existing(base.parent)
    number, retries = 1, 0
    make_private_dirs(base.parent)
    while True:
        candidate = base if number == 1 else base.with_name(f"{base.name}-{number}")
        try:
            candidate.mkdir(mode=DIR_MODE)
        except FileExistsError:
            number += 1
        except FileNotFoundError as exc:  # a parent removed meanwhile (another run's remove_empty_dirs): make it again
            retries += 1
            if retries > 3:
                raise UnwritableOutput(candidate, exc.strerror or str(exc)) from None
            make_private_dirs(base.parent)
        except OSError as exc:
            raise unwritable(candidate, exc) from None
        else:
            return candidate, [*parents, candidate]


def remove_empty_dirs(folders: Iterable[StrPath]) -> None:
    """Remove the folders that are still empty, innermost first (those `claim_new_dir` made for a run that ended
    before it wrote anything: a refused input leaves no empty report folder behind)."""
    for folder in reversed(list(folders)):
        with contextlib.suppress(OSError):
            Path(folder).rmdir()


def private_dir(path: StrPath, *, own: Collection[str] | None = None, reports: bool = False) -> Path:
    """Create a folder readable by its owner only, and tighten one that exists and is ours when it is register-
    batch's to tighten: `own` names what register-batch keeps in such a folder (None: the whole folder is its own).
    One that holds anything else (a shared project folder, the home folder), or that is sticky (/tmp), keeps its
    mode: made owner-only, it locked other users out of their own files (`--report-dir /tmp`, run as root, made /tmp
    root's alone); the files written into it are owner-only all the same. On Windows the folder keeps the access
    list (ACL) it inherits from its parent: see docs/security.md. `reports`: the folder is a report folder, for the
    wording of a refusal (`check_not_planted`)."""
    check_not_planted(path, reports=reports)
    folder = make_private_dirs(path)
    # Looked at before the folder is tightened, which would hide that others could write to it (review125 F2): the
    # folders in it (the embedded emulator's `register/`) too, as another run may tighten it before they are opened.
    check_not_planted(folder, reports=reports)
    for name in own or ():
        # Folders only (review130 F10): a link or another user's file at a file's name is refused by whoever opens
        # it (private_database, private_writer), in its own words.
        entry = folder / name
        with contextlib.suppress(OSError):
            if os.path.isdir(entry):
                _not_planted_on_way(entry, _Wording(f"its {name} folder", path, reports), last_only=True)
    if own is None or _holds_only(folder, own):
        tighten(folder, DIR_MODE)
    return folder


# A state dir, or the embedded emulator's folder in it, or a report folder, that another user planted (review125
# F2, review130 F8): made before the first run in a folder others may write to (the default
# `.register-batch/<target>` in a shared project folder, `register/` in a state dir others may write to), or a
# symbolic link of theirs there, at the folder's name or at any folder on its way, leading to a folder of theirs. The
# ledger and the emulator's database made in it would be files of the folder's owner, who could read them; reports
# there (owner-only files of yours) they could replace or remove.
PLANTED_LINK = (
    "{what} is a symbolic link of another user's (uid {uid}) in {parent}, a folder others may write to, so they could "
    "have made it to lead {into} into a folder of theirs: {remedy}"
)
PLANTED_FOLDER = (
    "{what} is another user's folder (uid {uid}) in {parent}, a folder others may write to, so they could have made it "
    "to {could}: {remedy}"
)
# What keeps the ledger (review130 F2): removing the folder, or the link to it, or giving another state dir, loses
# it, and with it what the ledger remembers (a trainee deleted in Register's service would be created again).
KEEP_THE_LEDGER = (
    "the state dir holds a sync ledger ({ledger}), which is to be kept (without it, a trainee deleted in Register's "
    "service is created again): if you trust uid {uid}, who made it, take it over (as root: {take}) or run as that "
    "user; if not, give a state dir of your own"
)


class _Wording:
    """How a refusal names what it refused: `what` (the entry), for the state dir or report folder `given`."""

    def __init__(self, what: str, given: StrPath, reports: bool):
        self.what, self.given, self.reports = what, given, reports

    def link(self, what: str, where: str, uid: int, parent: Path) -> str:
        if self.reports:
            into, remedy = "the reports written there", "remove the link, or give another --report-dir"
        else:
            into, remedy = "what is written there", "remove the link, or give a state dir of your own"
            # The link alone (review136 F2): what it leads to may be the user's home, and a link of yours is followed,
            # its folders not judged; the state dir at its end, if refused then, is named itself (`folder`).
            take = f"`chown -h {os.geteuid()} {shell_word(where)}`"
            remedy = self._keep_the_ledger(uid, take) or remedy
        return PLANTED_LINK.format(what=what, uid=uid, parent=parent, into=into, remedy=remedy)

    def folder(self, what: str, where: str, uid: int, parent: Path) -> str:
        if self.reports:
            could, remedy = "change or remove the reports written there", "remove it, or give another --report-dir"
        else:
            could, remedy = "read what is written there", "remove it, or give a state dir of your own"
            remedy = self._keep_the_ledger(uid, f"`chown -R {os.geteuid()} {shell_word(where)}`") or remedy
        return PLANTED_FOLDER.format(what=what, uid=uid, parent=parent, could=could, remedy=remedy)

    def _keep_the_ledger(self, uid: int, take: str) -> str | None:
        """What keeps the state dir's ledger, when there is one there (review130 F2)."""
        ledger = Path(self.given) / LEDGER_NAME
        try:
            there = os.path.lexists(ledger)
        except (OSError, ValueError):
            there = False
        return KEEP_THE_LEDGER.format(ledger=ledger, uid=uid, take=take) if there else None


def check_not_planted(path: StrPath, *, reports: bool = False) -> None:
    """Refuse (UnwritableOutput) a state dir or report folder `path` another user could have planted, at its name or
    on its way (review125 F2, review130 F8): a symbolic link of another user's at any folder of the path, or the
    folder itself (wherever links lead it) another user's, where they could have made either. What is not there yet
    is not looked at (this run makes it). Called before anything is made or sent (`reports.check_report_dir`), and
    again as the folder is made."""
    _not_planted_on_way(Path(path), _Wording("it", path, reports))


_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH
_MOST_LINKS = 40  # the system's own limit on links in a row


def _not_planted_on_way(path: Path, wording: _Wording, *, last_only: bool = False) -> None:
    """Walk `path` as the system resolves it, one name at a time from `/` (or the current folder), and refuse
    (`wording`'s message) a symbolic link another user could have made anywhere on the way, or the folder reached at
    the end, when it is another user's that they could have made (`_maker_could_be_another`). The folders on the way
    are not refused for being another user's (a state dir of yours in a colleague's folder), as before. With
    `last_only`, only the last name is looked at (the folders above it were, by the caller)."""
    if not POSIX_PERMISSIONS:
        return
    try:
        whole = Path(os.getcwd()) / path  # not normalised: `..` after a link is the link's target's parent
    except (OSError, ValueError):
        return
    parts = list(whole.parts)
    current = parts.pop(0)  # `/`
    if last_only:
        current = os.path.realpath(whole.parent)
        parts = [whole.name]
    todo, links = parts[::-1], 0
    try:
        while todo:
            name = todo.pop()
            if name == "..":
                current = os.path.dirname(current)
                continue
            where = os.path.join(current, name)
            status = os.lstat(where)
            last = not todo
            what = wording.what if last else f"{where}, on its way,"
            if stat.S_ISLNK(status.st_mode):
                links += 1
                if links > _MOST_LINKS:
                    return
                if (parent := _maker_could_be_another(where, status)) is not None:
                    raise UnwritableOutput(wording.given, wording.link(what, where, status.st_uid, parent))
                # A link no one else could have made is as if its target were given: the way goes on from there, and
                # the folder at its end is looked at as the state dir is.
                target = os.readlink(where)
                if os.path.isabs(target):
                    current = "/"
                todo.extend(reversed([part for part in Path(target).parts if part != "/"]))
                continue
            if not stat.S_ISDIR(status.st_mode):
                return  # a file: whoever makes the folder says why
            current = where
            if last:
                _folder_not_planted(where, wording, what)
    except OSError:  # not there (this run makes it), or not to be looked at: whoever opens it says why
        return


def _folder_not_planted(folder: str, wording: _Wording, what: str) -> None:
    status = os.stat(folder)
    if (parent := _maker_could_be_another(folder, status)) is not None:
        raise UnwritableOutput(wording.given, wording.folder(what, folder, status.st_uid, parent))


def _maker_could_be_another(entry: str, status: os.stat_result) -> Path | None:
    """The folder, writable by group or others, in which someone other than this user (or root) could have made
    `entry` (a folder or a link, `status` its own), or None. An entry of this user's or root's was made by neither
    another user; another user's is theirs to have made where, above it and the folders of that same owner holding
    it, the first folder of someone else's is writable by group or others (a folder only its owner could make is that
    owner's: one another user made there is theirs). A mount that maps owners (docs/security.md) shows your own
    folders as another user's: one whose files made now in that writable folder show the same owner is taken for
    yours (review130 F6: NFS with root_squash, where a run's own new state dir is shown as nobody's)."""
    owner = status.st_uid
    if owner in (os.geteuid(), 0):
        return None
    current = Path(entry)
    while current.parent != current:
        parent = current.parent
        held = parent.stat()
        if held.st_uid != owner:
            if held.st_mode & _OTHERS_WRITE and _new_files_shown_as(parent) != owner:
                return parent
            return None
        current = parent
    return None


def _new_files_shown_as(folder: Path) -> int | None:
    """The owner a file this run makes in `folder` is shown as (made, looked at, removed), or None where none can be
    made there."""
    import tempfile

    try:
        fd, name = tempfile.mkstemp(prefix=".register-batch-owner.", dir=folder)
    except OSError:
        return None
    try:
        return os.fstat(fd).st_uid
    finally:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(name)


def _holds_only(folder: Path, own: Collection[str]) -> bool:
    """Whether `folder` is not sticky and holds nothing but entries named in `own` (or nothing)."""
    try:
        if folder.stat().st_mode & stat.S_ISVTX:
            return False
        # A killed run's temporary file of one of them (private_writer's) is register-batch's too.
        leftover = re.compile("|".join(_TEMPORARY.format(name=re.escape(name)) for name in own))
        with os.scandir(folder) as entries:
            return all(entry.name in own or leftover.fullmatch(entry.name) for entry in entries)
    except OSError:  # not to be looked into: not to be tightened either
        return False


class _OutputText(io.TextIOWrapper):
    """A private_writer's file: a write or flush its disk refuses names the file it was for, not a temporary one
    (writers such as convert's and export's write to it long before the file is put in place)."""

    target: Path

    def write(self, text: str) -> int:
        try:
            return super().write(text)
        except OSError as exc:
            raise UnwritableOutput(self.target, exc.strerror or str(exc)) from None

    def flush(self) -> None:
        try:
            super().flush()
        except OSError as exc:
            raise UnwritableOutput(self.target, exc.strerror or str(exc)) from None

    def sync(self) -> None:
        """On disk (flushed and fsynced) before the file is put in place, or UnwritableOutput naming it."""
        self.flush()
        try:
            os.fsync(self.fileno())
        except OSError as exc:
            raise UnwritableOutput(self.target, exc.strerror or str(exc)) from None


@contextlib.contextmanager
def private_writer(
    path: str | Path, *, newline: str | None = None, encoding: str = "utf-8", if_there: str | None = None
) -> Iterator[IO[str]]:
    """Write a text file atomically with mode 0600 (on Windows: the folder's ACL): readers never see half a report.

    What UTF-8 cannot hold (half a character from a broken escape in Register's answer) is written as its escape,
    not a crash part-way (`wording.ESCAPE_UNENCODABLE`). With `if_there`, a file already at `path` is kept and the
    write refused (UnwritableOutput, saying `if_there`), before anything is written and as it is put in place."""
    target = Path(path)
    make_private_dirs(target.parent)
    check_writable_file(path)  # as given: `out/` names a folder, which `target` no longer shows
    if if_there is not None and os.path.lexists(target):
        raise UnwritableOutput(target, if_there)
    import tempfile  # here, not at the top: `--help` imports this module (tempfile brings shutil, bz2, lzma, random)

    try:
        fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)  # _TEMPORARY
    except OSError as exc:  # a name too long here is the temporary file's, 14 bytes longer than the one taken
        raise unwritable(target, exc, _TEMPORARY_TOO_LONG) from None
    written = False
    try:
        set_mode(fd, FILE_MODE)
        raw = io.BufferedWriter(io.FileIO(fd, "w"))
        with _OutputText(raw, encoding=encoding, errors=ESCAPE_UNENCODABLE, newline=newline) as fh:
            fh.target = target
            yield fh
            written = True
            fh.sync()
        if if_there is None:
            os.replace(temp, target)
        else:
            _put_in_place_new(temp, target, if_there)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        if isinstance(exc, OSError) and (written or exc.errno in _WRITE_ERRORS):
            raise UnwritableOutput(target, exc.strerror or str(exc)) from None
        raise


def _put_in_place_new(temp: str, target: Path, if_there: str) -> None:
    """Give `temp` the name `target` where no file has it (one made meanwhile is kept, and the write refused): a
    second name, then the first removed. A disk whose files have one name only (FAT, some network shares) is given a
    rename, once the name is seen to be free."""
    try:
        os.link(temp, target)
    except FileExistsError:
        raise UnwritableOutput(target, if_there) from None
    except OSError:  # EPERM, EOPNOTSUPP: no second names here
        if os.path.lexists(target):
            raise UnwritableOutput(target, if_there) from None
        os.rename(temp, target)
        return
    os.unlink(temp)


# The temporary file private_writer writes an output to before putting it in place: `.NAME.` and mkstemp's eight
# random characters, then `.tmp`.
_TEMPORARY = r"\.{name}\.[a-z0-9_]{{8}}\.tmp"
_TEMPORARY_TOO_LONG = (
    "the temporary file it is written to first has a name longer than this file system takes (this name and 14 "
    "bytes; most take 255 bytes for each name between separators): give a shorter one"
)


def leftover_temporaries(outputs: list[Path], *, parts: bool = False) -> list[Path]:
    """Temporary files of these outputs that a run killed part-way (SIGKILL, the machine stopped, out of memory) left
    in their folders: hidden, holding part of that run's personal data, and never removed by a later run. Named, not
    deleted: a run writing the same output at this moment has one too. With `parts` (Register's CSV, OUT.csv), those
    of any part (OUT-N.csv) are found too, as a killed run may have had more parts than this one."""
    names: dict[Path, list[str]] = {}  # by folder: each read once, however many parts are in it
    for output in outputs:
        names.setdefault(output.parent, []).append(re.escape(output.name))
        if parts:
            names[output.parent].append(re.escape(output.stem) + r"-[0-9]+" + re.escape(output.suffix))
    found: list[Path] = []
    for folder, in_it in names.items():
        pattern = re.compile("|".join(_TEMPORARY.format(name=name) for name in in_it))
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        found += (
            folder / entry.name
            for entry in entries
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False)
        )
    return sorted(found)


@contextlib.contextmanager
def private_files_together(files: dict[str, tuple[Path, str | None]]) -> Iterator[dict[str, IO[str]]]:
    """Write files that belong together (a report's JSON, CSV and HTML) so that all are put in place, or none.

    A full disk half-way must not leave a new report.json beside the previous run's report.html in a reused
    folder: every file is written and flushed to disk first, and only then is each put in place.
    `files`: key -> (path, newline); yields key -> open text file.
    """
    with contextlib.ExitStack() as stack:
        handles = {key: stack.enter_context(private_writer(path, newline=nl)) for key, (path, nl) in files.items()}
        yield handles
        for fh in handles.values():  # any write error surfaces here, while nothing has been put in place yet
            cast("_OutputText", fh).sync()


def write_private_text(path: str | Path, text: str) -> Path:
    with private_writer(path) as fh:
        fh.write(text)
    return Path(path)
