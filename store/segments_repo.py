"""SQL for segments, their membership, its history and per-person wake-ups.

Plain sync functions of a sqlite3 connection, run inside one transaction (store.database).
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SegmentRow:
    pk: int
    segment_id: str
    name: str
    description: str | None
    kind: str
    rules: dict[str, Any] | None
    created_at: float
    updated_at: float


_SEGMENT = "pk, segment_id, name, description, kind, rules, created_at, updated_at"


def _segment(row: tuple[Any, ...]) -> SegmentRow:
    rules = json.loads(row[5]) if row[5] is not None else None
    return SegmentRow(row[0], row[1], row[2], row[3], row[4], rules, row[6], row[7])


# --- the cache version ------------------------------------------------------------------

def state(conn: sqlite3.Connection) -> tuple[str, int]:
    """(uuid of this database, version of its segment definitions)."""
    return conn.execute("SELECT uuid, version FROM segment_state").fetchone()


def bump_version(conn: sqlite3.Connection) -> None:
    """Mark the definitions changed. A fresh random version, never a counter: a rolled-back
    change must not leave a cached index whose version a later change would reuse."""
    conn.execute("UPDATE segment_state SET version = ?", (random.getrandbits(62),))


# --- segments ---------------------------------------------------------------------------

def insert_segment(conn: sqlite3.Connection, segment_id: str, name: str,
                   description: str | None, kind: str, rules_json: str | None,
                   now: float) -> int:
    cursor = conn.execute(
        f"INSERT INTO segments ({_SEGMENT}) VALUES (NULL, ?, ?, ?, ?, ?, ?, ?)",
        (segment_id, name, description, kind, rules_json, now, now),
    )
    return cursor.lastrowid  # type: ignore[return-value]


def find_segment(conn: sqlite3.Connection, segment_id: str) -> SegmentRow | None:
    row = conn.execute(f"SELECT {_SEGMENT} FROM segments WHERE segment_id = ?",
                       (segment_id,)).fetchone()
    return _segment(row) if row else None


def all_segments(conn: sqlite3.Connection) -> list[SegmentRow]:
    return [_segment(r) for r in conn.execute(f"SELECT {_SEGMENT} FROM segments ORDER BY pk")]


def list_segments(conn: sqlite3.Connection, after_pk: int, limit: int) -> list[SegmentRow]:
    rows = conn.execute(f"SELECT {_SEGMENT} FROM segments WHERE pk > ? ORDER BY pk LIMIT ?",
                        (after_pk, limit))
    return [_segment(r) for r in rows]


def count_segments(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM segments").fetchone()[0]


def update_segment(conn: sqlite3.Connection, pk: int, name: str, description: str | None,
                   rules_json: str | None, now: float) -> None:
    conn.execute(
        "UPDATE segments SET name = ?, description = ?, rules = ?, updated_at = ? WHERE pk = ?",
        (name, description, rules_json, now, pk),
    )


def delete_segment(conn: sqlite3.Connection, pk: int) -> None:
    """Delete a segment, its membership and wake-ups (cascade) and its history."""
    conn.execute("DELETE FROM segments WHERE pk = ?", (pk,))
    conn.execute("DELETE FROM segment_history WHERE segment_pk = ?", (pk,))


# --- membership and its history ---------------------------------------------------------
# segment_people holds a row per (person, segment) with `since` (a member) and/or `due`
# (a wake-up); a row with neither is deleted.

_MEMBER = "since IS NOT NULL"


def member_count(conn: sqlite3.Connection, segment_pk: int) -> int:
    return conn.execute(f"SELECT count(*) FROM segment_people WHERE segment_pk = ? AND {_MEMBER}",
                        (segment_pk,)).fetchone()[0]


def member_pks(conn: sqlite3.Connection, segment_pk: int) -> set[int]:
    rows = conn.execute(f"SELECT person_pk FROM segment_people WHERE segment_pk = ? AND {_MEMBER}",
                        (segment_pk,))
    return {r[0] for r in rows}


def members_page(conn: sqlite3.Connection, segment_pk: int, after_pk: int,
                 limit: int) -> list[tuple[int, str, float]]:
    """(person pk, user_id, since) of members in person order, after `after_pk`."""
    return conn.execute(
        "SELECT m.person_pk, p.user_id, m.since FROM segment_people m JOIN people p "
        "ON p.pk = m.person_pk WHERE m.segment_pk = ? AND m.person_pk > ? AND m.since IS NOT "
        "NULL ORDER BY m.person_pk LIMIT ?",
        (segment_pk, after_pk, limit),
    ).fetchall()


def person_state(conn: sqlite3.Connection,
                 person_pk: int) -> tuple[dict[int, float], dict[int, float]]:
    """({segment pk: since} of the person's memberships, {segment pk: due} of their
    wake-ups), in one read."""
    memberships: dict[int, float] = {}
    wakeups: dict[int, float] = {}
    rows = conn.execute("SELECT segment_pk, since, due FROM segment_people WHERE person_pk = ?",
                        (person_pk,))
    for segment_pk, since, due in rows:
        if since is not None:
            memberships[segment_pk] = since
        if due is not None:
            wakeups[segment_pk] = due
    return memberships, wakeups


def state_and_person(conn: sqlite3.Connection, person_pk: int
                     ) -> tuple[tuple[str, int], dict[int, float], dict[int, float]]:
    """state() and person_state() in ONE statement (track's hot path: a statement costs
    more than the rows it reads)."""
    memberships: dict[int, float] = {}
    wakeups: dict[int, float] = {}
    state: tuple[str, int] | None = None
    rows = conn.execute(
        "SELECT -1, uuid, version FROM segment_state UNION ALL "
        "SELECT segment_pk, since, due FROM segment_people WHERE person_pk = ?", (person_pk,))
    for segment_pk, since, due in rows:
        if segment_pk == -1:
            state = (since, due)
            continue
        if since is not None:
            memberships[segment_pk] = since
        if due is not None:
            wakeups[segment_pk] = due
    assert state is not None, "segment_state always holds one row (migration 0002)"
    return state, memberships, wakeups


def memberships_of(conn: sqlite3.Connection, person_pk: int) -> dict[int, float]:
    """segment pk -> since, for every segment the person is in."""
    return person_state(conn, person_pk)[0]


_ENTER = ("INSERT INTO segment_people (person_pk, segment_pk, since) VALUES (?, ?, ?) "
          "ON CONFLICT (person_pk, segment_pk) DO UPDATE SET since = excluded.since")
_LEAVE_ALL = "DELETE FROM segment_people WHERE person_pk = ? AND segment_pk = ? AND due IS NULL"
_LEAVE_KEEP_DUE = "UPDATE segment_people SET since = NULL WHERE person_pk = ? AND segment_pk = ?"
_RECORD = ("INSERT INTO segment_history (person_pk, seq, segment_pk, change, at, cause) "
           "SELECT ?1, coalesce(max(seq), 0) + 1, ?2, ?3, ?4, ?5 FROM segment_history "
           "WHERE person_pk = ?1")


def enter(conn: sqlite3.Connection, segment_pk: int, person_pks: Sequence[int], at: float,
          cause: str) -> None:
    """Make people members (they were not) and record the entries."""
    conn.executemany(_ENTER, [(pk, segment_pk, at) for pk in person_pks])
    conn.executemany(_RECORD, [(pk, segment_pk, "entered", at, cause) for pk in person_pks])


def leave(conn: sqlite3.Connection, segment_pk: int, person_pks: Sequence[int], at: float,
          cause: str) -> None:
    """Remove members and record the exits."""
    pairs = [(pk, segment_pk) for pk in person_pks]
    conn.executemany(_LEAVE_ALL, pairs)
    conn.executemany(_LEAVE_KEEP_DUE, pairs)
    conn.executemany(_RECORD, [(pk, segment_pk, "exited", at, cause) for pk in person_pks])


def enter_one(conn: sqlite3.Connection, segment_pk: int, person_pk: int, at: float,
              cause: str, due: float | None = None) -> None:
    """enter() for one person (the real-time path), setting a wake-up too when `due`."""
    if due is None:
        conn.execute(_ENTER, (person_pk, segment_pk, at))
    else:
        conn.execute("INSERT INTO segment_people VALUES (?, ?, ?, ?) ON CONFLICT (person_pk, "
                     "segment_pk) DO UPDATE SET since = excluded.since, due = excluded.due",
                     (person_pk, segment_pk, at, due))
    conn.execute(_RECORD, (person_pk, segment_pk, "entered", at, cause))


def leave_one(conn: sqlite3.Connection, segment_pk: int, person_pk: int, at: float,
              cause: str, keeps_wakeup: bool) -> None:
    """leave() for one person whose wake-up state is known."""
    conn.execute(_LEAVE_KEEP_DUE if keeps_wakeup else _LEAVE_ALL, (person_pk, segment_pk))
    conn.execute(_RECORD, (person_pk, segment_pk, "exited", at, cause))


def segments_of(conn: sqlite3.Connection, person_pk: int) -> list[tuple[str, str, float]]:
    """(segment_id, name, since) of the person's segments."""
    return conn.execute(
        "SELECT s.segment_id, s.name, m.since FROM segment_people m JOIN segments s "
        "ON s.pk = m.segment_pk WHERE m.person_pk = ? AND m.since IS NOT NULL "
        "ORDER BY m.since, s.segment_id",
        (person_pk,),
    ).fetchall()


def history_of(conn: sqlite3.Connection, person_pk: int,
               limit: int) -> list[tuple[str, str, float, str]]:
    """(segment_id, change, at, cause), most recently recorded first."""
    return conn.execute(
        "SELECT s.segment_id, h.change, h.at, h.cause FROM segment_history h JOIN segments s "
        "ON s.pk = h.segment_pk WHERE h.person_pk = ? ORDER BY h.seq DESC LIMIT ?",
        (person_pk, limit),
    ).fetchall()


# --- wake-ups ---------------------------------------------------------------------------

def set_wakeup(conn: sqlite3.Connection, segment_pk: int, person_pk: int, due: float) -> None:
    conn.execute(
        "INSERT INTO segment_people (person_pk, segment_pk, due) VALUES (?, ?, ?) "
        "ON CONFLICT (person_pk, segment_pk) DO UPDATE SET due = excluded.due",
        (person_pk, segment_pk, due),
    )


def clear_wakeup(conn: sqlite3.Connection, segment_pk: int, person_pk: int) -> None:
    conn.execute("DELETE FROM segment_people WHERE person_pk = ? AND segment_pk = ? "
                 "AND since IS NULL", (person_pk, segment_pk))
    conn.execute("UPDATE segment_people SET due = NULL WHERE person_pk = ? AND segment_pk = ?",
                 (person_pk, segment_pk))


def due_wakeups(conn: sqlite3.Connection, now: float,
                limit: int) -> list[tuple[int, int, float]]:
    """(segment pk, person pk, due) of wake-ups due at `now`, earliest first."""
    return conn.execute(
        "SELECT segment_pk, person_pk, due FROM segment_people WHERE due <= ? "
        "ORDER BY due LIMIT ?",
        (now, limit),
    ).fetchall()


def earliest_wakeup(conn: sqlite3.Connection) -> float | None:
    return conn.execute(
        "SELECT min(due) FROM segment_people WHERE due IS NOT NULL").fetchone()[0]


# --- what the evaluator reads about one person ------------------------------------------

def attributes_of(conn: sqlite3.Connection, person_pk: int) -> dict[str, Any]:
    row = conn.execute("SELECT attributes FROM people WHERE pk = ?", (person_pk,)).fetchone()
    return json.loads(row[0]) if row else {}


def platforms_of(conn: sqlite3.Connection, person_pk: int) -> set[str]:
    rows = conn.execute("SELECT DISTINCT platform FROM devices WHERE person_pk = ?",
                        (person_pk,))
    return {r[0] for r in rows}


def activity_of(conn: sqlite3.Connection, person_pk: int, kind: str, name: str, contains: bool,
                since: float | None, limit: int | None,
                with_data: bool) -> list[tuple[str, str, float, str]]:
    """(type, name, timestamp, data JSON) of the person's events of one type whose name
    equals (or contains) `name`, newer than `since`, newest first, at most `limit`."""
    sql = ("SELECT type, name, timestamp, " + ("data" if with_data else "'{}'")
           + " FROM events WHERE person_pk = ? AND type = ? AND "
           + ("instr(name, ?) > 0" if contains else "name = ?"))
    params: list[Any] = [person_pk, kind, name]
    if since is not None:
        sql += " AND timestamp > ?"
        params.append(since)
    sql += " ORDER BY timestamp DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    return conn.execute(sql, params).fetchall()


def people_pks(conn: sqlite3.Connection, user_ids: Sequence[str]) -> dict[str, int]:
    """user_id -> pk for those of `user_ids` that exist."""
    found: dict[str, int] = {}
    for start in range(0, len(user_ids), 500):
        chunk = list(user_ids[start:start + 500])
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(f"SELECT user_id, pk FROM people WHERE user_id IN ({marks})", chunk)
        found.update(rows.fetchall())
    return found


# --- computations of whole segments, in bounded transactions ------------------------------

@dataclass(frozen=True)
class Computation:
    segment_pk: int
    after_pk: int
    started_at: float
    cause: str
    entered: int
    exited: int


def start_computation(conn: sqlite3.Connection, segment_pk: int, now: float,
                      cause: str) -> None:
    """Compute the segment over everyone again, from the first person."""
    conn.execute("INSERT INTO segment_computations VALUES (?, 0, ?, ?, 0, 0) "
                 "ON CONFLICT (segment_pk) DO UPDATE SET after_pk = 0, started_at = "
                 "excluded.started_at, cause = excluded.cause, entered = 0, exited = 0",
                 (segment_pk, now, cause))


def computations(conn: sqlite3.Connection) -> list[Computation]:
    return [Computation(*row) for row in conn.execute(
        "SELECT segment_pk, after_pk, started_at, cause, entered, exited "
        "FROM segment_computations")]


def computing(conn: sqlite3.Connection, segment_pk: int) -> bool:
    return conn.execute("SELECT 1 FROM segment_computations WHERE segment_pk = ?",
                        (segment_pk,)).fetchone() is not None


def advance_computation(conn: sqlite3.Connection, segment_pk: int, after_pk: int,
                        entered: int, exited: int) -> None:
    conn.execute("UPDATE segment_computations SET after_pk = ?, entered = entered + ?, "
                 "exited = exited + ? WHERE segment_pk = ?",
                 (after_pk, entered, exited, segment_pk))


def finish_computation(conn: sqlite3.Connection, segment_pk: int) -> None:
    conn.execute("DELETE FROM segment_computations WHERE segment_pk = ?", (segment_pk,))


def earliest_computation(conn: sqlite3.Connection) -> float | None:
    return conn.execute("SELECT min(started_at) FROM segment_computations").fetchone()[0]


def member_pks_between(conn: sqlite3.Connection, segment_pk: int, after_pk: int,
                       last_pk: int) -> set[int]:
    """Members of the segment among people after_pk < pk <= last_pk."""
    rows = conn.execute(
        f"SELECT person_pk FROM segment_people WHERE segment_pk = ? AND person_pk > ? "
        f"AND person_pk <= ? AND {_MEMBER}", (segment_pk, after_pk, last_pk))
    return {r[0] for r in rows}


def replace_wakeups_between(conn: sqlite3.Connection, segment_pk: int, after_pk: int,
                            last_pk: int, rows: Iterable[tuple[int, float]]) -> None:
    """The segment's wake-ups of people after_pk < pk <= last_pk, replaced by `rows`."""
    bounds = (segment_pk, after_pk, last_pk)
    conn.execute("DELETE FROM segment_people WHERE segment_pk = ? AND person_pk > ? AND "
                 "person_pk <= ? AND since IS NULL", bounds)
    conn.execute("UPDATE segment_people SET due = NULL WHERE segment_pk = ? AND person_pk > ? "
                 "AND person_pk <= ? AND due IS NOT NULL", bounds)
    conn.executemany(
        "INSERT INTO segment_people (person_pk, segment_pk, due) VALUES (?, ?, ?) "
        "ON CONFLICT (person_pk, segment_pk) DO UPDATE SET due = excluded.due",
        [(pk, segment_pk, due) for pk, due in rows])
