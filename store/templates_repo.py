"""SQL for templates, snippets, layouts and which snippets each of them renders.

Plain sync functions of a sqlite3 connection, run inside one transaction (store.database).
Snippets and layouts ("pieces") share one shape; their table is picked from a fixed list.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any, Literal

PieceKind = Literal["snippet", "layout"]
UserKind = Literal["template", "layout", "snippet"]
_PIECE_SQL = {  # kind -> (table, id column); never built from user text
    "snippet": ("snippets", "snippet_id"),
    "layout": ("layouts", "layout_id"),
}


@dataclass(frozen=True)
class TemplateRow:
    template_id: str
    channel: str
    fields: dict[str, Any]
    layout_id: str | None
    version: int
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class PieceRow:
    piece_id: str
    body: str
    version: int
    created_at: float
    updated_at: float


_TEMPLATE_COLUMNS = "template_id, channel, fields, layout_id, version, created_at, updated_at"


def _template(row: tuple[Any, ...]) -> TemplateRow:
    return TemplateRow(row[0], row[1], json.loads(row[2]), row[3], row[4], row[5], row[6])


def get_template(conn: sqlite3.Connection, template_id: str) -> TemplateRow | None:
    row = conn.execute(f"SELECT {_TEMPLATE_COLUMNS} FROM templates WHERE template_id = ?",
                       (template_id,)).fetchone()
    return _template(row) if row else None


def insert_template(conn: sqlite3.Connection, template_id: str, channel: str, fields_json: str,
                    layout_id: str | None, now: float) -> None:
    conn.execute(
        "INSERT INTO templates (template_id, channel, fields, layout_id, version, created_at, "
        "updated_at) VALUES (?, ?, ?, ?, 1, ?, ?)",
        (template_id, channel, fields_json, layout_id, now, now),
    )


def update_template(conn: sqlite3.Connection, template_id: str, fields_json: str,
                    layout_id: str | None, now: float) -> int:
    """Store new fields and layout; returns the new version."""
    return conn.execute(
        "UPDATE templates SET fields = ?, layout_id = ?, version = version + 1, updated_at = ? "
        "WHERE template_id = ? RETURNING version",
        (fields_json, layout_id, now, template_id),
    ).fetchone()[0]


def delete_template(conn: sqlite3.Connection, template_id: str) -> bool:
    set_uses(conn, "template", template_id, [])
    return conn.execute("DELETE FROM templates WHERE template_id = ?",
                        (template_id,)).rowcount > 0


def list_templates(conn: sqlite3.Connection, channel: str | None, after: str | None,
                   limit: int) -> list[TemplateRow]:
    """Templates in id order, `limit` of them after id `after`."""
    clauses, params = ["template_id > ?"], [after or ""]
    if channel is not None:
        clauses.append("channel = ?")
        params.append(channel)
    rows = conn.execute(
        f"SELECT {_TEMPLATE_COLUMNS} FROM templates WHERE {' AND '.join(clauses)} "
        "ORDER BY template_id LIMIT ?", [*params, limit])
    return [_template(r) for r in rows]


def count_templates(conn: sqlite3.Connection, channel: str | None = None) -> int:
    if channel is None:
        return conn.execute("SELECT count(*) FROM templates").fetchone()[0]
    return conn.execute("SELECT count(*) FROM templates WHERE channel = ?",
                        (channel,)).fetchone()[0]


def templates_using_layout(conn: sqlite3.Connection, layout_id: str) -> list[str]:
    rows = conn.execute("SELECT template_id FROM templates WHERE layout_id = ? "
                        "ORDER BY template_id", (layout_id,))
    return [r[0] for r in rows]


# --- snippets and layouts ------------------------------------------------------------

def get_piece(conn: sqlite3.Connection, kind: PieceKind, piece_id: str) -> PieceRow | None:
    table, column = _PIECE_SQL[kind]
    row = conn.execute(f"SELECT {column}, body, version, created_at, updated_at FROM {table} "
                       f"WHERE {column} = ?", (piece_id,)).fetchone()
    return PieceRow(*row) if row else None


def put_piece(conn: sqlite3.Connection, kind: PieceKind, piece_id: str, body: str,
              now: float) -> int:
    """Create or replace a snippet or layout; returns its version (1 when new)."""
    table, column = _PIECE_SQL[kind]
    return conn.execute(
        f"INSERT INTO {table} ({column}, body, version, created_at, updated_at) "
        f"VALUES (?, ?, 1, ?, ?) ON CONFLICT ({column}) DO UPDATE SET body = excluded.body, "
        "version = version + 1, updated_at = excluded.updated_at RETURNING version",
        (piece_id, body, now, now),
    ).fetchone()[0]


def delete_piece(conn: sqlite3.Connection, kind: PieceKind, piece_id: str) -> bool:
    table, column = _PIECE_SQL[kind]
    set_uses(conn, kind, piece_id, [])
    return conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (piece_id,)).rowcount > 0


def list_pieces(conn: sqlite3.Connection, kind: PieceKind, after: str | None,
                limit: int) -> list[PieceRow]:
    table, column = _PIECE_SQL[kind]
    rows = conn.execute(f"SELECT {column}, body, version, created_at, updated_at FROM {table} "
                        f"WHERE {column} > ? ORDER BY {column} LIMIT ?", (after or "", limit))
    return [PieceRow(*r) for r in rows]


def count_pieces(conn: sqlite3.Connection, kind: PieceKind) -> int:
    table, _ = _PIECE_SQL[kind]
    return conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def existing_snippets(conn: sqlite3.Connection, names: list[str]) -> set[str]:
    """Which of `names` are stored snippets."""
    if not names:
        return set()
    marks = ",".join("?" * len(names))
    rows = conn.execute(f"SELECT snippet_id FROM snippets WHERE snippet_id IN ({marks})", names)
    return {r[0] for r in rows}


# --- who renders which snippet --------------------------------------------------------

def set_uses(conn: sqlite3.Connection, kind: UserKind, user_id: str,
             snippet_ids: list[str]) -> None:
    """Record exactly `snippet_ids` as the snippets that `user_id` renders directly."""
    conn.execute("DELETE FROM snippet_uses WHERE user_kind = ? AND user_id = ?", (kind, user_id))
    conn.executemany("INSERT OR IGNORE INTO snippet_uses VALUES (?, ?, ?)",
                     [(kind, user_id, snippet_id) for snippet_id in snippet_ids])


def users_of(conn: sqlite3.Connection, snippet_id: str) -> list[tuple[str, str]]:
    """(kind, id) of every template, layout and snippet that renders `snippet_id`."""
    rows = conn.execute("SELECT user_kind, user_id FROM snippet_uses WHERE snippet_id = ? "
                        "ORDER BY user_kind, user_id", (snippet_id,))
    return [(r[0], r[1]) for r in rows]


_CLOSURE = (
    "WITH RECURSIVE needed(snippet_id) AS ("
    " SELECT snippet_id FROM snippet_uses WHERE user_kind = ? AND user_id = ?"
    " UNION SELECT u.snippet_id FROM snippet_uses u JOIN needed n"
    " ON u.user_kind = 'snippet' AND u.user_id = n.snippet_id) "
    "SELECT s.snippet_id, s.body FROM snippets s JOIN needed USING (snippet_id)"
)


def snippet_closure(conn: sqlite3.Connection, roots: list[tuple[UserKind, str]]) -> dict[str, str]:
    """id -> body of every snippet the roots render, directly or through other snippets."""
    found: dict[str, str] = {}
    for kind, user_id in roots:
        found.update(conn.execute(_CLOSURE, (kind, user_id)).fetchall())
    return found


def snippet_graph(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """snippet -> the snippets it renders (for cycle checks)."""
    graph: dict[str, list[str]] = {}
    for user_id, snippet_id in conn.execute(
            "SELECT user_id, snippet_id FROM snippet_uses WHERE user_kind = 'snippet'"):
        graph.setdefault(user_id, []).append(snippet_id)
    return graph


def attribute_in_use(conn: sqlite3.Connection, name: str) -> bool:
    """Whether any person in the agent has attribute `name` (the key is bound, never spliced)."""
    return conn.execute(
        "SELECT EXISTS (SELECT 1 FROM people, json_each(people.attributes) AS a "
        "WHERE a.key = ?)", (name,)).fetchone()[0] == 1
