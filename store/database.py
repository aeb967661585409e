"""One agent's SQLite database: a single connection that does all the agent's work.

Every unit of work is a sync function of the sqlite3 connection that runs inside one
transaction. Large units run on the aiosqlite connection thread in ONE hop. Small
units (one person's identify or track) run inline on the event loop when the
connection is idle: a thread hop costs ~100 µs here, several times the unit itself,
and the unit never waits for a lock inline (busy timeout 0: on SQLITE_BUSY it is
retried on the thread, which waits up to BUSY_TIMEOUT_S for the other writer).
All work is submitted from the event loop, so the connection is the agent's single
writer either way.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

import aiosqlite

from store.checkpoint import CHECKPOINT_EVERY, CHECKPOINT_ROWS, CHECKPOINTER, HARD_LIMIT_PAGES
from store.faults import raise_storage_fault
from store.files import FileIdentity, claim_database_file, ensure_private_dir, file_identity
from store.migrate import apply_migrations

T = TypeVar("T")
Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]
BUSY_TIMEOUT_S = 5.0
RETRY_EVERY_S = 0.008  # the longest pause between two tries of a busy database
THREAD_JOIN_S = 5.0  # bound on waiting for the thread of a connection that failed to open


class RetryOnThread(Exception):  # noqa: N818 - a signal, not an error
    """Raised by a unit running inline on the event loop when it would have to wait (for
    a lock, or to open a file): the unit is rolled back and run again on the thread."""


_INLINE = threading.local()


def running_inline() -> bool:
    """Whether the current unit runs inline on the event loop (where nothing may wait)."""
    return getattr(_INLINE, "active", False)


def connect_sync(path: Path | str, synchronous: Synchronous = "NORMAL",
                 migrations: str = "migrations") -> sqlite3.Connection:
    """Open a connection with the house settings and bring its schema up to date. The
    directory and a new file are created private (store.files)."""
    path = Path(path)
    ensure_private_dir(path.parent)
    claim_database_file(path)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=0)
    try:
        _wait_unlocked(lambda: conn.execute("PRAGMA journal_mode = WAL"))
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute(f"PRAGMA wal_autocheckpoint = {HARD_LIMIT_PAGES}")  # see store.checkpoint
        _wait_unlocked(lambda: apply_migrations(conn, time.time(), migrations))
    except BaseException:
        conn.close()
        raise
    return conn


def _is_busy(exc: sqlite3.Error) -> bool:
    """SQLITE_BUSY or SQLITE_LOCKED, extended codes included (SQLITE_BUSY_RECOVERY while
    another connection recovers the WAL of a process that crashed, ...)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


def _wait_unlocked(attempt: Callable[[], T]) -> T:
    """Retry `attempt` while another connection holds the lock, up to BUSY_TIMEOUT_S
    (read at each call, so tests may shorten it). It tries again at least every
    RETRY_EVERY_S: long work of ours leaves the lock free for longer than that between
    its transactions (tools.engine.PAUSE_FRACTION), so a waiting writer always gets in."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    pause = 0.001
    while True:
        try:
            return attempt()
        except sqlite3.Error as exc:
            if not _is_busy(exc) or time.monotonic() >= deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, RETRY_EVERY_S)


def run_in_transaction(conn: sqlite3.Connection, unit: Callable[[sqlite3.Connection], T],
                       begin: str) -> T:
    """BEGIN, run `unit`, COMMIT; ROLLBACK if it or the COMMIT raises."""
    conn.execute(begin)
    try:
        result = unit(conn)
        conn.execute("COMMIT")
    except BaseException:
        # SQLite may have rolled back already (SQLITE_FULL, SQLITE_IOERR, ...): a ROLLBACK
        # then would fail and hide the error that caused it.
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    return result


class AgentDatabase:
    """The open database of one agent."""

    def __init__(self, path: Path, connection: aiosqlite.Connection) -> None:
        self.path = path
        self._path_text = os.fspath(path)  # os.stat of a str skips pathlib's conversion
        self._connection = connection
        # Units handed to the connection thread: `_submitted` is written only by the event
        # loop, `_finished` only by the thread, so the difference is race-free. A cancelled
        # caller does not stop its unit, which still counts until the thread finishes it.
        self._submitted = 0
        self._finished = 0
        self.inline = True  # small units may run on the event loop when the thread is idle
        self._writes = 0  # since the last background checkpoint request
        self._changes_seen = 0  # the connection's total_changes then
        self.identity: FileIdentity | None = None  # the file's (device, inode) when opened

    def file_replaced(self) -> bool:
        """Whether the file at `path` is no longer the one this connection opened (deleted,
        or replaced by another file). One stat: cheap enough to ask before each use."""
        try:
            info = os.stat(self._path_text)
        except (FileNotFoundError, NotADirectoryError):
            return True
        except OSError:
            return False  # cannot tell: the next statement meets the fault, if any
        return (info.st_dev, info.st_ino) != self.identity

    @classmethod
    async def open(cls, path: Path, synchronous: Synchronous = "NORMAL",
                   migrations: str = "migrations") -> AgentDatabase:
        """Open (creating and migrating if needed) the database at `path`. Storage faults
        raise StorageError (tools.core.errors), as do units run on it."""
        opened: list[FileIdentity | None] = []

        def connect() -> sqlite3.Connection:
            conn = connect_sync(path, synchronous, migrations)
            opened.append(file_identity(path))
            return conn

        connection = aiosqlite.Connection(connect, 64)
        try:
            await connection
        except BaseException as exc:
            # aiosqlite stops its thread after a failed connect without waiting: wait here,
            # or the thread may report to an event loop that is already closed.
            await asyncio.shield(asyncio.to_thread(connection._thread.join, THREAD_JOIN_S))
            if isinstance(exc, sqlite3.Error | OSError):
                raise_storage_fault(exc, path)
            raise
        database = cls(path, connection)
        database.identity = opened[0]
        # With FULL every commit waits for an fsync: never make the event loop wait for it.
        database.inline = synchronous in ("OFF", "NORMAL")
        return database

    async def write(self, unit: Callable[[sqlite3.Connection], T], *, small: bool = False) -> T:
        """Run `unit` in one write transaction (BEGIN IMMEDIATE ... COMMIT)."""
        result = await self._run(unit, "BEGIN IMMEDIATE", small)
        self._writes += 1
        if self._writes >= CHECKPOINT_EVERY or (
                self._connection._conn.total_changes - self._changes_seen >= CHECKPOINT_ROWS):
            self._writes = 0
            self._changes_seen = self._connection._conn.total_changes
            CHECKPOINTER.request(self.path)
        return result

    async def read(self, unit: Callable[[sqlite3.Connection], T], *, small: bool = False) -> T:
        """Run `unit` in one read transaction: a consistent snapshot."""
        return await self._run(unit, "BEGIN", small)

    async def read_statement(self, unit: Callable[[sqlite3.Connection], T]) -> T:
        """A read that is ONE statement (atomic on its own): no BEGIN / COMMIT around it,
        inline when the connection is idle."""
        connection = self._connection
        try:
            if self.inline and self._submitted == self._finished:
                return unit(connection._conn)
            return await connection._execute(
                lambda: _wait_unlocked(lambda: unit(connection._conn)))
        except (sqlite3.Error, OSError) as exc:
            raise_storage_fault(exc, self.path)

    async def _run(self, unit: Callable[[sqlite3.Connection], T], begin: str, small: bool) -> T:
        connection = self._connection
        if small and self.inline and self._submitted == self._finished:
            _INLINE.active = True
            try:
                return run_in_transaction(connection._conn, unit, begin)
            except sqlite3.Error as exc:
                if not _is_busy(exc):  # busy: wait for the lock on the thread below
                    raise_storage_fault(exc, self.path)
            except RetryOnThread:
                pass
            finally:
                _INLINE.active = False

        def on_thread() -> T:
            try:
                return _wait_unlocked(lambda: run_in_transaction(connection._conn, unit, begin))
            finally:
                self._finished += 1

        self._submitted += 1
        # aiosqlite's private _execute runs a function on the connection thread:
        # the whole unit costs one thread hop instead of one per statement.
        try:
            return await connection._execute(on_thread)
        except (sqlite3.Error, OSError) as exc:
            raise_storage_fault(exc, self.path)

    async def close(self) -> None:
        """Finish queued work and close the connection."""
        CHECKPOINTER.discard(self.path)
        await self._connection.close()
