"""What the active workflows listen to, read once per change of the database rather than
on every write: the journeys subscriber asks it on every identify and track."""

from __future__ import annotations

import sqlite3
import threading
from collections import OrderedDict
from typing import Any

from store import journeys_repo as repo

MAX_CONNECTIONS = 256
_lock = threading.Lock()
_generation = 0  # bumped by every write of workflows in this process
# id(connection) -> (connection, data_version, generation, triggers)
_cache: OrderedDict[int, tuple[sqlite3.Connection, int, int, Any]] = OrderedDict()


def workflows_changed() -> None:
    """A unit of this process wrote the workflows table (data_version does not show a
    connection its own writes)."""
    global _generation
    with _lock:
        _generation += 1


def live_triggers(conn: sqlite3.Connection) -> dict[str, set[str | None]] | None:
    """journeys_repo.live_triggers, cached until another connection writes the database
    (PRAGMA data_version) or a unit of ours writes the workflows."""
    version = conn.execute("PRAGMA data_version").fetchone()[0]
    key = id(conn)
    with _lock:
        found = _cache.get(key)
        generation = _generation
    if found is not None and found[0] is conn and found[1] == version \
            and found[2] == generation:
        return found[3]
    value = repo.live_triggers(conn)
    with _lock:
        _cache[key] = (conn, version, generation, value)
        _cache.move_to_end(key)
        while len(_cache) > MAX_CONNECTIONS:
            _cache.popitem(last=False)
    return value
