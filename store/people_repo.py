"""SQL for people, events, devices, anonymous links and suppressions.

Plain sync functions of a sqlite3 connection; callers run them inside one
transaction on the connection thread (see store.database).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PersonRow:
    pk: int
    user_id: str
    attributes: dict[str, Any]
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class EventRow:
    seq: int
    event_id: str | None
    user_id: str | None
    anonymous_id: str | None
    type: str
    name: str
    data: dict[str, Any]
    timestamp: float
    received_at: float


@dataclass(frozen=True)
class DeviceRow:
    device_id: str
    platform: str
    attributes: dict[str, Any]
    last_used: float


# (event_id, person_pk, anonymous_id, type, name, data_json, timestamp, received_at)
EventValues = tuple[str | None, int | None, str | None, str, str, str, float, float]

_INSERT_EVENT = (
    "INSERT INTO events (event_id, person_pk, anonymous_id, type, name, data, timestamp, "
    "received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (event_id) WHERE event_id IS NOT NULL DO NOTHING"
)


def person_pk(conn: sqlite3.Connection, user_id: str) -> int | None:
    row = conn.execute("SELECT pk FROM people WHERE user_id = ?", (user_id,)).fetchone()
    return row[0] if row else None


def find_person(conn: sqlite3.Connection, user_id: str) -> PersonRow | None:
    row = conn.execute(
        "SELECT pk, user_id, attributes, created_at, updated_at FROM people WHERE user_id = ?",
        (user_id,),
    ).fetchone()
    if row is None:
        return None
    return PersonRow(row[0], row[1], json.loads(row[2]), row[3], row[4])


def insert_person(
    conn: sqlite3.Connection, user_id: str, attributes_json: str, email: str | None,
    created_at: float, now: float,
) -> int:
    cursor = conn.execute(
        "INSERT INTO people (user_id, email_lower, attributes, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (user_id, email.lower() if email else None, attributes_json, created_at, now),
    )
    return cursor.lastrowid  # type: ignore[return-value]


def update_person(
    conn: sqlite3.Connection, pk: int, attributes_json: str, email: str | None,
    created_at: float, now: float,
) -> None:
    conn.execute(
        "UPDATE people SET attributes = ?, email_lower = ?, created_at = ?, updated_at = ? "
        "WHERE pk = ?",
        (attributes_json, email.lower() if email else None, created_at, now, pk),
    )


def delete_person(conn: sqlite3.Connection, pk: int) -> None:
    conn.execute("DELETE FROM people WHERE pk = ?", (pk,))


def is_suppressed(conn: sqlite3.Connection, user_id: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM suppressions WHERE user_id = ?", (user_id,)
    ).fetchone() is not None


def suppress(conn: sqlite3.Connection, user_id: str, now: float) -> None:
    conn.execute("INSERT OR IGNORE INTO suppressions VALUES (?, ?)", (user_id, now))


def unsuppress(conn: sqlite3.Connection, user_id: str) -> bool:
    return conn.execute("DELETE FROM suppressions WHERE user_id = ?", (user_id,)).rowcount > 0


def insert_event(conn: sqlite3.Connection, values: EventValues) -> int | None:
    """Store one event; its pk, or None when its event_id was seen before."""
    cursor = conn.execute(_INSERT_EVENT, values)
    return cursor.lastrowid if cursor.rowcount > 0 else None


def insert_events(conn: sqlite3.Connection, rows: list[EventValues]) -> list[int | None]:
    """Store many events; the pk of each row, None for a duplicate (an event_id seen
    before, or earlier in `rows`)."""
    first = (conn.execute("SELECT coalesce(max(pk), 0) FROM events").fetchone()[0]) + 1
    before = conn.total_changes
    conn.executemany(_INSERT_EVENT, rows)
    stored = conn.total_changes - before
    if stored == len(rows):
        return list(range(first, first + stored))
    ids = [row[0] for row in rows if row[0] is not None]
    new_ids: set[str] = set()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        new_ids.update(r[0] for r in conn.execute(
            f"SELECT event_id FROM events WHERE pk >= ? AND event_id IN ({marks})",
            [first, *chunk]))
    pks: list[int | None] = []
    next_pk = first
    for row in rows:
        if row[0] is None or row[0] in new_ids:
            new_ids.discard(row[0])  # a repeat later in rows is a duplicate
            pks.append(next_pk)
            next_pk += 1
        else:
            pks.append(None)
    return pks


def linked_person(conn: sqlite3.Connection, anonymous_id: str) -> int | None:
    row = conn.execute(
        "SELECT person_pk FROM anonymous_links WHERE anonymous_id = ?", (anonymous_id,)
    ).fetchone()
    return row[0] if row else None


def link_anonymous(conn: sqlite3.Connection, anonymous_id: str, pk: int, now: float) -> None:
    conn.execute(
        "INSERT INTO anonymous_links VALUES (?, ?, ?) ON CONFLICT (anonymous_id) "
        "DO UPDATE SET person_pk = excluded.person_pk, linked_at = excluded.linked_at",
        (anonymous_id, pk, now),
    )


def claim_anonymous_events(
    conn: sqlite3.Connection, anonymous_id: str, pk: int, since: float
) -> int:
    """Give the person the anonymous events of `anonymous_id` newer than `since`."""
    return conn.execute(
        "UPDATE events SET person_pk = ? WHERE person_pk IS NULL AND anonymous_id = ? "
        "AND timestamp >= ?",
        (pk, anonymous_id, since),
    ).rowcount


def move_person_data(conn: sqlite3.Connection, from_pk: int, to_pk: int) -> int:
    """Move events, devices and anonymous links; returns how many events moved."""
    moved = conn.execute(
        "UPDATE events SET person_pk = ? WHERE person_pk = ?", (to_pk, from_pk)
    ).rowcount
    conn.execute("UPDATE devices SET person_pk = ? WHERE person_pk = ?", (to_pk, from_pk))
    conn.execute("UPDATE anonymous_links SET person_pk = ? WHERE person_pk = ?", (to_pk, from_pk))
    return moved


def upsert_device(
    conn: sqlite3.Connection, pk: int, device_id: str, platform: str,
    attributes_json: str, last_used: float,
) -> bool:
    """Add or update a device (a token moves to this person); True when it was new."""
    existed = conn.execute(
        "SELECT 1 FROM devices WHERE device_id = ?", (device_id,)
    ).fetchone() is not None
    conn.execute(
        "INSERT INTO devices VALUES (?, ?, ?, ?, ?) ON CONFLICT (device_id) DO UPDATE SET "
        "person_pk = excluded.person_pk, platform = excluded.platform, "
        "attributes = excluded.attributes, last_used = excluded.last_used",
        (device_id, pk, platform, attributes_json, last_used),
    )
    return not existed


def delete_device(conn: sqlite3.Connection, pk: int, device_id: str) -> bool:
    return conn.execute(
        "DELETE FROM devices WHERE person_pk = ? AND device_id = ?", (pk, device_id)
    ).rowcount > 0


def device_owner(conn: sqlite3.Connection, device_id: str) -> int | None:
    """The pk of the person holding a device token, if anyone does."""
    row = conn.execute("SELECT person_pk FROM devices WHERE device_id = ?",
                       (device_id,)).fetchone()
    return row[0] if row else None


def device_count(conn: sqlite3.Connection, pk: int) -> int:
    return conn.execute("SELECT count(*) FROM devices WHERE person_pk = ?", (pk,)).fetchone()[0]


def devices_of(conn: sqlite3.Connection, pk: int) -> list[DeviceRow]:
    rows = conn.execute(
        "SELECT device_id, platform, attributes, last_used FROM devices WHERE person_pk = ? "
        "ORDER BY last_used DESC, device_id",
        (pk,),
    )
    return [DeviceRow(r[0], r[1], json.loads(r[2]), r[3]) for r in rows]


def anonymous_ids_of(conn: sqlite3.Connection, pk: int) -> list[str]:
    rows = conn.execute(
        "SELECT anonymous_id FROM anonymous_links WHERE person_pk = ? ORDER BY linked_at", (pk,)
    )
    return [r[0] for r in rows]


def event_counts(conn: sqlite3.Connection, pk: int) -> dict[str, int]:
    rows = conn.execute(
        "SELECT name, count(*) FROM events WHERE person_pk = ? GROUP BY name ORDER BY name",
        (pk,),
    )
    return {name: count for name, count in rows}


_EVENT_COLUMNS = (
    "e.pk, e.event_id, p.user_id, e.anonymous_id, e.type, e.name, e.data, e.timestamp, "
    "e.received_at FROM events e LEFT JOIN people p ON p.pk = e.person_pk"
)


def _event(row: tuple[Any, ...]) -> EventRow:
    return EventRow(row[0], row[1], row[2], row[3], row[4], row[5], json.loads(row[6]),
                    row[7], row[8])


@dataclass(frozen=True)
class EventFilter:
    person_pk: int | None = None
    anonymous_id: str | None = None
    name: str | None = None
    since: float | None = None
    until: float | None = None


def list_events(
    conn: sqlite3.Connection, where: EventFilter, after: tuple[float, int] | None, limit: int
) -> list[EventRow]:
    """Events newest first (by timestamp, then arrival), `limit` of them after `after`."""
    clauses, params = _event_clauses(where)
    if after is not None:
        clauses.append("(e.timestamp < ? OR (e.timestamp = ? AND e.pk < ?))")
        params += [after[0], after[0], after[1]]
    sql = f"SELECT {_EVENT_COLUMNS}"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY e.timestamp DESC, e.pk DESC LIMIT ?"
    return [_event(r) for r in conn.execute(sql, [*params, limit])]


def _event_clauses(where: EventFilter) -> tuple[list[str], list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    if where.person_pk is not None:
        clauses.append("e.person_pk = ?")
        params.append(where.person_pk)
    if where.anonymous_id is not None:
        clauses.append("e.anonymous_id = ?")
        params.append(where.anonymous_id)
    if where.name is not None:
        clauses.append("e.name = ?")
        params.append(where.name)
    if where.since is not None:
        clauses.append("e.timestamp >= ?")
        params.append(where.since)
    if where.until is not None:
        clauses.append("e.timestamp < ?")
        params.append(where.until)
    return clauses, params


def list_people(
    conn: sqlite3.Connection, email: str | None, after_pk: int | None, limit: int
) -> list[PersonRow]:
    """People in the order they were first identified."""
    clauses: list[str] = ["pk > ?"]
    params: list[Any] = [after_pk or 0]
    if email is not None:
        clauses.append("email_lower = ?")
        params.append(email.lower())
    rows = conn.execute(
        "SELECT pk, user_id, attributes, created_at, updated_at FROM people WHERE "
        + " AND ".join(clauses) + " ORDER BY pk LIMIT ?",
        [*params, limit],
    )
    return [PersonRow(r[0], r[1], json.loads(r[2]), r[3], r[4]) for r in rows]


def count_people(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM people").fetchone()[0]
