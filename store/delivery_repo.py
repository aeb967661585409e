"""SQL for the outbox (messages, their transitions and captured bytes), channel settings,
topics, preferences and the agent's delivery settings."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any

_MESSAGE_COLUMNS = (
    "m.pk, m.message_id, m.idempotency_key, m.person_pk, p.user_id, m.channel, m.template_id, "
    "m.content, m.data, m.plan, m.topic, m.transactional, m.status, m.reason, m.attempts, "
    "m.due, m.lease_owner, m.lease_expires, m.rendered, m.provider, m.provider_message_id, "
    "m.send_at, m.created_at, m.updated_at, m.read_at")
_FROM = " FROM messages m JOIN people p ON p.pk = m.person_pk"


@dataclass(frozen=True)
class MessageRow:
    pk: int
    message_id: str
    idempotency_key: str | None
    person_pk: int
    user_id: str
    channel: str
    template_id: str | None
    content: dict[str, Any] | None
    data: dict[str, Any]
    plan: list[dict[str, Any]]
    topic: str | None
    transactional: bool
    status: str
    reason: str | None
    attempts: int
    due: float | None
    lease_owner: str | None
    lease_expires: float | None
    rendered: dict[str, Any] | None
    provider: str | None
    provider_message_id: str | None
    send_at: float
    created_at: float
    updated_at: float
    read_at: float | None


def _message(row: tuple[Any, ...]) -> MessageRow:
    values = list(row)
    for index in (7, 18):  # content, rendered
        values[index] = json.loads(values[index]) if values[index] is not None else None
    values[8], values[9] = json.loads(values[8]), json.loads(values[9])
    values[11] = bool(values[11])
    return MessageRow(*values)


@dataclass(frozen=True)
class NewMessage:
    message_id: str
    idempotency_key: str | None
    person_pk: int
    channel: str
    template_id: str | None
    content_json: str | None
    data_json: str
    plan_json: str
    topic: str | None
    transactional: bool
    status: str
    reason: str | None
    due: float | None
    send_at: float


def insert_message(conn: sqlite3.Connection, new: NewMessage, now: float) -> int:
    return conn.execute(
        "INSERT INTO messages (message_id, idempotency_key, person_pk, channel, template_id, "
        "content, data, plan, topic, transactional, status, reason, due, send_at, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING pk",
        (new.message_id, new.idempotency_key, new.person_pk, new.channel, new.template_id,
         new.content_json, new.data_json, new.plan_json, new.topic, int(new.transactional),
         new.status, new.reason, new.due, new.send_at, now, now)).fetchone()[0]


def message_by_id(conn: sqlite3.Connection, message_id: str) -> MessageRow | None:
    row = conn.execute(f"SELECT {_MESSAGE_COLUMNS}{_FROM} WHERE m.message_id = ?",
                       (message_id,)).fetchone()
    return _message(row) if row else None


def message_by_pk(conn: sqlite3.Connection, pk: int) -> MessageRow | None:
    row = conn.execute(f"SELECT {_MESSAGE_COLUMNS}{_FROM} WHERE m.pk = ?", (pk,)).fetchone()
    return _message(row) if row else None


def message_by_key(conn: sqlite3.Connection, key: str) -> MessageRow | None:
    row = conn.execute(f"SELECT {_MESSAGE_COLUMNS}{_FROM} WHERE m.idempotency_key = ?",
                       (key,)).fetchone()
    return _message(row) if row else None


def list_messages(conn: sqlite3.Connection, person_pk: int | None, status: str | None,
                  channel: str | None, before_pk: int | None, limit: int,
                  unread_only: bool = False) -> list[MessageRow]:
    """Messages newest first, filtered."""
    clauses, params = [], []
    for column, value in (("m.person_pk", person_pk), ("m.status", status),
                          ("m.channel", channel)):
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if unread_only:
        clauses.append("m.read_at IS NULL")
    if before_pk is not None:
        clauses.append("m.pk < ?")
        params.append(before_pk)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(f"SELECT {_MESSAGE_COLUMNS}{_FROM}{where} ORDER BY m.pk DESC LIMIT ?",
                        (*params, limit)).fetchall()
    return [_message(row) for row in rows]


def update_message(conn: sqlite3.Connection, pk: int, now: float, **values: Any) -> None:
    """Set columns of one message (names are ours, never user text)."""
    names = sorted(values)
    assignments = ", ".join(f"{name} = ?" for name in names)
    conn.execute(f"UPDATE messages SET {assignments}, updated_at = ? WHERE pk = ?",
                 (*(values[name] for name in names), now, pk))


def add_transition(conn: sqlite3.Connection, message_pk: int, at: float, status: str,
                   channel: str, attempt: int, detail: str | None) -> None:
    conn.execute(
        "INSERT INTO message_transitions VALUES (?, (SELECT coalesce(max(seq), 0) + 1 FROM "
        "message_transitions WHERE message_pk = ?), ?, ?, ?, ?, ?)",
        (message_pk, message_pk, at, status, channel, attempt, detail))


def transitions(conn: sqlite3.Connection, message_pk: int) -> list[tuple[Any, ...]]:
    """(at, status, channel, attempt, detail) in order."""
    return conn.execute(
        "SELECT at, status, channel, attempt, detail FROM message_transitions "
        "WHERE message_pk = ? ORDER BY seq", (message_pk,)).fetchall()


def add_capture(conn: sqlite3.Connection, message_pk: int, channel: str, attempt: int,
                data: bytes) -> None:
    conn.execute("INSERT OR REPLACE INTO message_captures VALUES (?, ?, ?, ?)",
                 (message_pk, attempt, channel, data))


def captures(conn: sqlite3.Connection, message_pk: int) -> list[tuple[str, int, bytes]]:
    """(channel, attempt, bytes) of what the capture provider kept."""
    return conn.execute("SELECT channel, attempt, bytes FROM message_captures "
                        "WHERE message_pk = ? ORDER BY attempt", (message_pk,)).fetchall()


def due_messages(conn: sqlite3.Connection, until: float, limit: int) -> list[MessageRow]:
    """Queued messages due by `until`, then sendings whose lease lapsed, oldest first."""
    rows = conn.execute(
        f"SELECT {_MESSAGE_COLUMNS}{_FROM} WHERE m.pk IN ("
        "SELECT pk FROM messages WHERE due IS NOT NULL AND due <= ?1 UNION "
        "SELECT pk FROM messages WHERE lease_expires IS NOT NULL AND lease_expires <= ?1) "
        "ORDER BY coalesce(m.due, m.lease_expires), m.pk LIMIT ?2", (until, limit)).fetchall()
    return [_message(row) for row in rows]


def earliest_due(conn: sqlite3.Connection) -> float | None:
    """The soonest queued attempt or lapse of a lease (both indexed)."""
    # the WHERE clauses let SQLite answer from the partial indexes (sent messages stay)
    due = conn.execute("SELECT min(due) FROM messages WHERE due IS NOT NULL").fetchone()[0]
    lapse = conn.execute("SELECT min(lease_expires) FROM messages "
                         "WHERE lease_expires IS NOT NULL").fetchone()[0]
    return min((t for t in (due, lapse) if t is not None), default=None)


def count_marketing_since(conn: sqlite3.Connection, person_pk: int, since: float, now: float,
                          other_than: int) -> int:
    """Marketing messages to a person (but `other_than`) that went out, or are due to go,
    between `since` and `now` (by their send time: one scheduled for later does not count
    yet, one created long ago and sent just now does)."""
    return conn.execute(
        "SELECT count(*) FROM messages WHERE person_pk = ? AND send_at BETWEEN ? AND ? "
        "AND pk != ? AND transactional = 0 AND channel != 'webhook' AND status IN ('queued', "
        "'sending', 'sent', 'delivered', 'captured')",
        (person_pk, since, now, other_than)).fetchone()[0]


def move_messages(conn: sqlite3.Connection, from_pk: int, to_pk: int) -> None:
    conn.execute("UPDATE messages SET person_pk = ? WHERE person_pk = ?", (to_pk, from_pk))


# --- channel settings -----------------------------------------------------------------

def channel_settings(conn: sqlite3.Connection) -> dict[str, dict[str, dict[str, Any]]]:
    """channel -> provider -> settings."""
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for channel, provider, settings in conn.execute(
            "SELECT channel, provider, settings FROM channel_settings"):
        found.setdefault(channel, {})[provider] = json.loads(settings)
    return found


def put_channel_settings(conn: sqlite3.Connection, channel: str, provider: str,
                         settings: dict[str, Any], replace_others: bool, now: float) -> None:
    if replace_others:
        conn.execute("DELETE FROM channel_settings WHERE channel = ?", (channel,))
    conn.execute("INSERT OR REPLACE INTO channel_settings VALUES (?, ?, ?, ?)",
                 (channel, provider, json.dumps(settings), now))


# --- topics and preferences ---------------------------------------------------------

def topics(conn: sqlite3.Connection) -> list[tuple[str, str, str, float]]:
    """(topic_id, name, default_choice, created_at) in id order."""
    return conn.execute("SELECT topic_id, name, default_choice, created_at FROM topics "
                        "ORDER BY topic_id").fetchall()


def topic_default(conn: sqlite3.Connection, topic_id: str) -> str | None:
    row = conn.execute("SELECT default_choice FROM topics WHERE topic_id = ?",
                       (topic_id,)).fetchone()
    return row[0] if row else None


def put_topic(conn: sqlite3.Connection, topic_id: str, name: str, default: str,
              now: float) -> bool:
    """Create or update a topic; True when it is new."""
    new = topic_default(conn, topic_id) is None
    conn.execute("INSERT INTO topics VALUES (?, ?, ?, ?) ON CONFLICT (topic_id) DO UPDATE "
                 "SET name = excluded.name, default_choice = excluded.default_choice",
                 (topic_id, name, default, now))
    return new


def preferences(conn: sqlite3.Connection, person_pk: int) -> tuple[dict[str, bool],
                                                                  dict[str, bool]]:
    """(channels, topics) choices of a person ({} when none were made)."""
    row = conn.execute("SELECT channels, topics FROM preferences WHERE person_pk = ?",
                       (person_pk,)).fetchone()
    return (json.loads(row[0]), json.loads(row[1])) if row else ({}, {})


def put_preferences(conn: sqlite3.Connection, person_pk: int, channels: dict[str, bool],
                    topics_: dict[str, bool], now: float) -> None:
    conn.execute("INSERT INTO preferences VALUES (?, ?, ?, ?) ON CONFLICT (person_pk) DO "
                 "UPDATE SET channels = excluded.channels, topics = excluded.topics, "
                 "updated_at = excluded.updated_at",
                 (person_pk, json.dumps(channels), json.dumps(topics_), now))


def move_preferences(conn: sqlite3.Connection, from_pk: int, to_pk: int, now: float) -> None:
    """A merge: the secondary's choices apply where the primary made none."""
    secondary = conn.execute("SELECT 1 FROM preferences WHERE person_pk = ?",
                             (from_pk,)).fetchone()
    if secondary is None:
        return
    moved_channels, moved_topics = preferences(conn, from_pk)
    kept_channels, kept_topics = preferences(conn, to_pk)
    put_preferences(conn, to_pk, {**moved_channels, **kept_channels},
                    {**moved_topics, **kept_topics}, now)
    conn.execute("DELETE FROM preferences WHERE person_pk = ?", (from_pk,))


# --- settings -----------------------------------------------------------------------

def secret(conn: sqlite3.Connection) -> bytes:
    return bytes(conn.execute("SELECT secret FROM delivery_settings WHERE id = 1").fetchone()[0])


def frequency_cap(conn: sqlite3.Connection) -> tuple[int | None, float | None]:
    row = conn.execute("SELECT frequency_cap, frequency_period FROM delivery_settings "
                       "WHERE id = 1").fetchone()
    return row[0], row[1]


def set_frequency_cap(conn: sqlite3.Connection, cap: int | None, period: float | None) -> None:
    conn.execute("UPDATE delivery_settings SET frequency_cap = ?, frequency_period = ? "
                 "WHERE id = 1", (cap, period))
