"""Agent wake-ups in the control database of a data directory (`_control.sqlite3`, shared
with the agent registry): each agent's next wake-up, so schedulers open only agents with
due work.

Each area's timed work lives in the agent's own database; this file holds one row per
agent with work scheduled: the minimum over its areas. It is a hint that is never later
than the truth (waking an agent with nothing due costs one query), and every change to it
is made while the agent's own write lock is held (inside the agent's write unit), so
updates follow the agent's write order across processes.

Nothing here waits on the event loop: statements run with a busy timeout of 0, and a unit
running inline that finds the control database locked (or not yet open) raises
RetryOnThread, so it is rolled back and run again on its connection thread, where waiting
is allowed. Several processes share the file: the cache of what this process last stored
is dropped whenever another connection has written (PRAGMA data_version).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from store.database import RetryOnThread, _is_busy, _wait_unlocked, connect_sync, running_inline
from store.faults import maps_storage_faults
from store.registry_repo import CONTROL_DB_NAME, CONTROL_MIGRATIONS

T = TypeVar("T")


class ControlDB:
    """Thread-safe access to one control database (opened, and created, when first needed
    off the event loop)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()  # held only for one statement (busy timeout 0)
        self._conn: sqlite3.Connection | None = None
        self._known: dict[str, float | None] = {}  # what this process last stored
        self._version: int | None = None  # data_version when _known was valid
        self._seen_version: int | None = None  # data_version at the last changed() call
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from any thread) when an agent's next wake-up becomes sooner."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _open(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is None:
            if not create and not self.path.exists():
                return None
            self._conn = connect_sync(self.path, "NORMAL", CONTROL_MIGRATIONS)
        return self._conn

    def _run(self, work: Callable[[sqlite3.Connection], T], create: bool = True) -> T | None:
        """Run one statement's worth of `work`; None when the file does not exist and
        `create` is false. Inline on the event loop it never waits (RetryOnThread)."""
        if running_inline():
            if self._conn is None or not self._lock.acquire(blocking=False):
                raise RetryOnThread
            try:
                return work(self._conn)
            except sqlite3.OperationalError as exc:
                if _is_busy(exc):
                    raise RetryOnThread from None
                raise
            finally:
                self._lock.release()

        def attempt() -> T | None:
            with self._lock:
                conn = self._open(create)
                return None if conn is None else work(conn)

        return _wait_unlocked(attempt)

    def _fresh_cache(self, conn: sqlite3.Connection) -> dict[str, float | None]:
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        if version != self._version:  # another connection wrote: what we knew may be stale
            self._known.clear()
            self._version = version
        return self._known

    @maps_storage_faults
    def lower(self, agent_id: str, due: float) -> None:
        """The agent has work at `due`: make its next wake-up no later than that. Call it
        inside the agent's write unit."""

        def work(conn: sqlite3.Connection) -> bool:
            known = self._fresh_cache(conn).get(agent_id)
            if known is not None and known <= due:
                return False
            row = conn.execute(
                "INSERT INTO agent_wakeups VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE "
                "SET next_due = min(next_due, excluded.next_due) RETURNING next_due",
                (agent_id, due)).fetchone()
            self._known[agent_id] = row[0]
            return True

        if self._run(work):
            for listener in list(self._listeners):
                listener()

    @maps_storage_faults
    def set(self, agent_id: str, due: float | None) -> None:
        """The agent's next wake-up is exactly `due` (None: nothing scheduled). Call it
        inside the agent's write unit, after computing `due` from the agent's database."""

        def work(conn: sqlite3.Connection) -> None:
            known = self._fresh_cache(conn)
            if due is None:
                conn.execute("DELETE FROM agent_wakeups WHERE agent_id = ?", (agent_id,))
            else:
                conn.execute("INSERT INTO agent_wakeups VALUES (?, ?) ON CONFLICT (agent_id) "
                             "DO UPDATE SET next_due = excluded.next_due", (agent_id, due))
            known[agent_id] = due

        self._run(work, create=due is not None)

    @maps_storage_faults
    def postpone(self, agent_id: str, seen: float, due: float) -> None:
        """Move the agent's wake-up from `seen` to `due`, unless it has changed since it
        was read as `seen` (for an agent that cannot be opened: nobody holds its lock)."""

        def work(conn: sqlite3.Connection) -> None:
            self._fresh_cache(conn)
            conn.execute("UPDATE agent_wakeups SET next_due = ? WHERE agent_id = ? "
                         "AND next_due = ?", (due, agent_id, seen))
            self._known.pop(agent_id, None)

        self._run(work, create=False)

    @maps_storage_faults
    def drop(self, agent_id: str) -> None:
        """Forget an agent (its id is invalid or its database is gone)."""
        self.set(agent_id, None)

    @maps_storage_faults
    def next_due(self, agent_id: str) -> float | None:
        return self._run(lambda conn: _one(conn.execute(
            "SELECT next_due FROM agent_wakeups WHERE agent_id = ?", (agent_id,))), False)

    @maps_storage_faults
    def due_agents(self, now: float, limit: int) -> list[tuple[str, float]]:
        """(agent id, next wake-up) of agents due at or before `now`, soonest first."""
        rows = self._run(lambda conn: conn.execute(
            "SELECT agent_id, next_due FROM agent_wakeups WHERE next_due <= ? "
            "ORDER BY next_due LIMIT ?", (now, limit)).fetchall(), False)
        return [(agent_id, due) for agent_id, due in rows or ()]

    @maps_storage_faults
    def wakeups(self) -> dict[str, float]:
        """Every agent's next wake-up."""
        rows = self._run(lambda conn: conn.execute(
            "SELECT agent_id, next_due FROM agent_wakeups").fetchall(), False)
        return dict(rows or ())

    @maps_storage_faults
    def earliest(self) -> float | None:
        """The soonest wake-up of any agent."""
        return self._run(lambda conn: _one(conn.execute(
            "SELECT min(next_due) FROM agent_wakeups")), False)

    @maps_storage_faults
    def changed(self) -> bool:
        """Whether another connection (another process) has written since the last call:
        a cheap check a scheduler polls to notice wake-ups other processes scheduled."""

        def work(conn: sqlite3.Connection) -> bool:
            version = conn.execute("PRAGMA data_version").fetchone()[0]
            seen, self._seen_version = self._seen_version, version
            return version != seen

        return bool(self._run(work, False))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._known.clear()
            self._version = self._seen_version = None


def _one(cursor: sqlite3.Cursor) -> float | None:
    row = cursor.fetchone()
    return row[0] if row else None


_BY_DIRECTORY: dict[Path, ControlDB] = {}
_REGISTRY_LOCK = threading.Lock()


def control_for(data_dir: Path) -> ControlDB:
    """The one ControlDB of this process for `data_dir`."""
    path = (Path(data_dir) / CONTROL_DB_NAME).absolute()
    with _REGISTRY_LOCK:
        control = _BY_DIRECTORY.get(path)
        if control is None:
            control = _BY_DIRECTORY[path] = ControlDB(path)
        return control
