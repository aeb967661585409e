"""Database files on disk: a private data directory, private database files, one file per
agent whatever the case of its id, and a file's identity (to notice it deleted or replaced
while open).

Modes: the data directory is created 0700 and database files 0600, whatever the umask
(chmod after creating). SQLite gives a database's -wal and -shm files the mode of the
database file, so they are 0600 too, with no process-wide umask change.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import stat
import threading
from pathlib import Path

from store.faults import raise_storage_fault
from tools.core.errors import Conflict

log = logging.getLogger(__name__)
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
FileIdentity = tuple[int, int]  # (st_dev, st_ino)

_checked_dirs: set[str] = set()
_create_lock = threading.Lock()  # one check-then-create at a time in this process


def ensure_private_dir(directory: Path) -> None:
    """Create `directory` (0700) unless it exists; an existing one that other users may
    enter gets a warning (once per process). NotADirectoryError if a file is in the way."""
    if directory.is_dir():
        _warn_if_shared(directory)
        return
    directory.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.mkdir(directory, PRIVATE_DIR_MODE)
    except FileExistsError:
        if not directory.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR),
                                     str(directory)) from None
        return
    os.chmod(directory, PRIVATE_DIR_MODE)
    _checked_dirs.add(str(directory.absolute()))


def prepare_data_dir(directory: Path) -> None:
    """At start: create the data directory (0700) or check the existing one (a warning if
    other users may enter it). StorageUnwritable (not logged: the caller reports it) if it
    cannot be one: a file in the way, no write access, a read-only file system."""
    try:
        ensure_private_dir(directory)
        if not os.access(directory, os.W_OK | os.X_OK):
            raise PermissionError(errno.EACCES, "not writable by this user", str(directory))
    except OSError as exc:
        raise_storage_fault(exc, directory, quiet=True)


def _warn_if_shared(directory: Path) -> None:
    key = str(directory.absolute())
    if os.name != "posix" or key in _checked_dirs:
        return
    _checked_dirs.add(key)
    mode = stat.S_IMODE(directory.stat().st_mode)
    if mode & 0o077:
        log.warning("data directory %s is open to other users (mode %03o), who can read "
                    "every agent's data: run `chmod 700 %s`", key, mode, key)


def claim_database_file(path: Path) -> None:
    """Make `path` this database's own file before SQLite opens it. A new file is created
    0600 (leftover -wal/-shm/-journal of a deleted database at that name are removed). A
    name that equals an existing database's but for case is refused with Conflict: on
    case-insensitive file systems (macOS, Windows) the two would share one file."""
    with _create_lock:
        if _exists_exactly(path):
            return
        twin = _case_twin(path)
        if twin is not None:
            raise Conflict(f"{_stem(path.name)!r} differs only in case from the existing "
                           f"{_stem(twin)!r} ({path.parent / twin}); ids that differ only in "
                           f"case would share one file on macOS and Windows: use "
                           f"{_stem(twin)!r} or another id")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        except FileExistsError:
            return  # another process created it just now
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, PRIVATE_FILE_MODE)
        finally:
            os.close(fd)
        remove_side_files(path)


def remove_side_files(path: Path) -> None:
    """Remove the -wal, -shm and -journal files at `path`'s name: call it only when they
    belong to no database (the one they served was deleted or replaced, and its connection
    is closed). Left in place, SQLite would apply the old WAL to the file now at `path`."""
    for suffix in SIDE_SUFFIXES:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(f"{path}{suffix}")


def file_identity(path: Path) -> FileIdentity | None:
    """(device, inode) of the file at `path` now; None if there is none."""
    try:
        info = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    return info.st_dev, info.st_ino


def _exists_exactly(path: Path) -> bool:
    """Whether a file of exactly this name (case included) exists."""
    identity = file_identity(path)
    if identity is None:
        return False
    swapped = path.with_name(path.name.swapcase())
    if swapped == path or file_identity(swapped) != identity:
        return True  # a case-sensitive file system: the name matched exactly
    return path.name in os.listdir(path.parent)


def _case_twin(path: Path) -> str | None:
    folded = path.name.casefold()
    with os.scandir(path.parent) as entries:
        for entry in entries:
            if entry.name != path.name and entry.name.casefold() == folded:
                return entry.name
    return None


def _stem(name: str) -> str:
    return name.removesuffix(".sqlite3")
