"""Storage faults: sqlite3 and OS errors met at the store boundary become StorageError kinds.

The one mapping of the store. Where units run and databases are opened (AgentDatabase,
ControlDB, the agent registry through AgentDatabase), a sqlite3.Error or OSError is passed
to `raise_storage_fault`: a disk that is full, a file that is not a database, a directory
that cannot be written, a lock held past the busy timeout become `storage_full`,
`storage_corrupt`, `storage_unwritable`, `storage_busy` errors whose message names the file
and what to do; anything else (a bug) is re-raised unchanged. Each fault is logged with its
file at most once a minute per file and kind, not once per failing call.
"""

from __future__ import annotations

import errno
import functools
import logging
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Concatenate, NoReturn, ParamSpec, Protocol, TypeVar

from tools.core.errors import (
    StorageBusy,
    StorageCorrupt,
    StorageError,
    StorageFull,
    StorageUnwritable,
)

log = logging.getLogger(__name__)
LOG_EVERY_S = 60.0  # the same fault of the same file is logged at most this often
NEARLY_FULL_BYTES = 1 << 20  # an I/O error on a disk with less free space is storage_full

_BY_SQLITE_CODE: dict[int, type[StorageError]] = {
    sqlite3.SQLITE_BUSY: StorageBusy,
    sqlite3.SQLITE_LOCKED: StorageBusy,
    sqlite3.SQLITE_FULL: StorageFull,
    sqlite3.SQLITE_READONLY: StorageUnwritable,
    sqlite3.SQLITE_CANTOPEN: StorageUnwritable,
    sqlite3.SQLITE_PERM: StorageUnwritable,
    sqlite3.SQLITE_IOERR: StorageUnwritable,
    sqlite3.SQLITE_NOTADB: StorageCorrupt,
    sqlite3.SQLITE_CORRUPT: StorageCorrupt,
}
_BY_ERRNO: dict[int, type[StorageError]] = {
    code: kind for code, kind in (
        (errno.ENOSPC, StorageFull), (getattr(errno, "EDQUOT", -1), StorageFull),
        (errno.EACCES, StorageUnwritable), (errno.EPERM, StorageUnwritable),
        (errno.EROFS, StorageUnwritable), (errno.ENOTDIR, StorageUnwritable),
        (errno.EEXIST, StorageUnwritable), (errno.EISDIR, StorageUnwritable),
        (errno.EIO, StorageUnwritable),
    ) if code >= 0
}
_NOT_A_DIRECTORY = (errno.ENOTDIR, errno.EEXIST)
_DATA_DIR_HINT = "or point --data-dir / CUSTOMERIO_MCP_DATA_DIR elsewhere"


def storage_fault(exc: BaseException, path: Path | str, *,
                  quiet: bool = False) -> StorageError | None:
    """The StorageError that `exc` (met while using `path`) stands for, logged unless
    `quiet` (the caller reports it); None when `exc` is no storage fault."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        kind = _BY_SQLITE_CODE.get(code & 0xFF) if isinstance(code, int) else None
        detail = str(exc)
    elif isinstance(exc, OSError) and exc.errno is not None:
        kind = _BY_ERRNO.get(exc.errno)
        path = exc.filename if isinstance(exc.filename, str) else path
        detail = exc.strerror or str(exc)
    else:
        return None
    if kind is None:
        return None
    if kind is StorageUnwritable and _is_io_error(exc) and _nearly_full(Path(path)):
        kind = StorageFull  # SQLite reports some writes to a full disk as I/O errors
    fault = kind(_message(kind, str(path), detail, exc), path=str(path))
    if not quiet:
        _log(fault)
    return fault


def _is_io_error(exc: BaseException) -> bool:
    if isinstance(exc, OSError):
        return exc.errno == errno.EIO
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN)


def _nearly_full(path: Path) -> bool:
    for place in (path, path.parent):
        try:
            return shutil.disk_usage(place).free < NEARLY_FULL_BYTES
        except OSError:
            continue
    return False


def raise_storage_fault(exc: BaseException, path: Path | str, *, quiet: bool = False) -> NoReturn:
    """Raise the StorageError `exc` stands for, or `exc` itself when it is no storage fault."""
    fault = storage_fault(exc, path, quiet=quiet)
    if fault is None:
        raise exc
    raise fault from exc


def _message(kind: type[StorageError], path: str, detail: str, exc: BaseException) -> str:
    if kind is StorageBusy:
        return (f"another process holds the database {path} locked ({detail}); "
                "retry in a moment")
    if kind is StorageFull:
        return f"no space left for {path} ({detail}); free disk space there, then retry"
    if kind is StorageCorrupt:
        return (f"{path} is not a usable database ({detail}); move it aside (a new empty "
                "database is created in its place) or restore it from a backup")
    if isinstance(exc, OSError) and exc.errno in _NOT_A_DIRECTORY:
        return f"{path} is not a directory; move the file away, {_DATA_DIR_HINT}"
    return (f"cannot create or write {path} ({detail}); give this user write access to it "
            f"and its directory, {_DATA_DIR_HINT}")


_last_logged: dict[tuple[str | None, str], float] = {}
_log_lock = threading.Lock()


def _log(fault: StorageError) -> None:
    key, now = (fault.path, fault.kind), time.monotonic()
    with _log_lock:
        last = _last_logged.get(key)
        if last is not None and now - last < LOG_EVERY_S:
            return
        _last_logged[key] = now
    level = logging.WARNING if isinstance(fault, StorageBusy) else logging.ERROR
    log.log(level, "%s: %s", fault.kind, fault.message)


class _HasPath(Protocol):
    path: Path


S = TypeVar("S", bound=_HasPath)
P = ParamSpec("P")
R = TypeVar("R")


def maps_storage_faults(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Decorate a method of an object with a `path`: storage faults it meets are raised as
    StorageError of that path."""

    @functools.wraps(method)
    def mapped(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(self, *args, **kwargs)
        except (sqlite3.Error, OSError) as exc:
            raise_storage_fault(exc, self.path)

    return mapped

