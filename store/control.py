"""Agent wake-ups in the control database of a data directory (`_control.sqlite3`, shared
with the agent registry): each agent's next wake-up, so the scheduler opens only agents
with due work.

Per-person wake-ups live in each agent's own database; this file holds one row per agent
with work scheduled. Engines lower an agent's time when they schedule something sooner
(from inside the agent's write transaction, so updates follow the agent's write order);
the scheduler sets it exactly after running the agent's due work. It is a hint that is
never later than the truth: waking an agent with nothing due costs one query.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from store.database import BUSY_TIMEOUT_S, connect_sync
from store.faults import maps_storage_faults
from store.registry_repo import CONTROL_DB_NAME, CONTROL_MIGRATIONS

_UNKNOWN = object()


class ControlDB:
    """Thread-safe access to one control database (opened, and created, when first needed)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        # What this process last stored for each agent: lower() writes (and wakes the
        # scheduler) only when an agent's next wake-up really moves earlier. One process
        # serves an agent at a time; a second process serving the same agent could leave
        # this stale and delay a wake-up to the time this process last stored.
        self._known: dict[str, float | None] = {}
        self._listeners: list[Callable[[], None]] = []

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener` (from any thread) when an agent's next wake-up becomes sooner."""
        self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def _connection(self, create: bool) -> sqlite3.Connection | None:
        if self._conn is None:
            if not create and not self.path.exists():
                return None
            conn = connect_sync(self.path, "NORMAL", CONTROL_MIGRATIONS)
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
            self._conn = conn
        return self._conn

    @maps_storage_faults
    def lower(self, agent_id: str, due: float) -> None:
        """The agent has work at `due`: make its next wake-up no later than that."""
        with self._lock:
            known = self._known.get(agent_id, _UNKNOWN)
            if isinstance(known, float) and known <= due:
                return
            conn = self._connection(create=True)
            assert conn is not None
            conn.execute(
                "INSERT INTO agent_wakeups VALUES (?, ?) ON CONFLICT (agent_id) DO UPDATE "
                "SET next_due = min(next_due, excluded.next_due)", (agent_id, due))
            row = conn.execute("SELECT next_due FROM agent_wakeups WHERE agent_id = ?",
                               (agent_id,)).fetchone()
            self._known[agent_id] = row[0]
        for listener in list(self._listeners):
            listener()

    @maps_storage_faults
    def set(self, agent_id: str, due: float | None) -> None:
        """The agent's next wake-up is exactly `due` (None: nothing scheduled)."""
        with self._lock:
            conn = self._connection(create=due is not None)
            if conn is None:
                return
            if due is None:
                conn.execute("DELETE FROM agent_wakeups WHERE agent_id = ?", (agent_id,))
            else:
                conn.execute("INSERT INTO agent_wakeups VALUES (?, ?) ON CONFLICT (agent_id) "
                             "DO UPDATE SET next_due = excluded.next_due", (agent_id, due))
            self._known[agent_id] = float(due) if due is not None else None

    @maps_storage_faults
    def next_due(self, agent_id: str) -> float | None:
        with self._lock:
            conn = self._connection(create=False)
            if conn is None:
                return None
            row = conn.execute("SELECT next_due FROM agent_wakeups WHERE agent_id = ?",
                               (agent_id,)).fetchone()
            return row[0] if row else None

    @maps_storage_faults
    def due_agents(self, now: float, limit: int) -> list[str]:
        """Agents whose next wake-up is at or before `now`, soonest first."""
        with self._lock:
            conn = self._connection(create=False)
            if conn is None:
                return []
            rows = conn.execute("SELECT agent_id FROM agent_wakeups WHERE next_due <= ? "
                                "ORDER BY next_due LIMIT ?", (now, limit)).fetchall()
            return [row[0] for row in rows]

    @maps_storage_faults
    def earliest(self) -> float | None:
        """The soonest wake-up of any agent."""
        with self._lock:
            conn = self._connection(create=False)
            if conn is None:
                return None
            return conn.execute("SELECT min(next_due) FROM agent_wakeups").fetchone()[0]

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
            self._known.clear()


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
