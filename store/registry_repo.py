"""SQL for the agent registry in the control database (_control.sqlite3)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

CONTROL_DB_NAME = "_control.sqlite3"  # agent ids cannot start with '_', so no clash
CONTROL_MIGRATIONS = "control_migrations"


@dataclass(frozen=True)
class AgentRow:
    agent_id: str
    key_id: str
    token_hash: str
    created_at: float
    rotated_at: float | None
    last_used_at: float | None
    revoked_at: float | None


_COLUMNS = "agent_id, key_id, token_hash, created_at, rotated_at, last_used_at, revoked_at"


def find_agent(conn: sqlite3.Connection, agent_id: str) -> AgentRow | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM agents WHERE agent_id = ?", (agent_id,)).fetchone()
    return AgentRow(*row) if row else None


def find_agent_any_case(conn: sqlite3.Connection, agent_id: str) -> AgentRow | None:
    """The agent whose id equals `agent_id` but for ASCII case (ids are ASCII), if any."""
    row = conn.execute(f"SELECT {_COLUMNS} FROM agents WHERE lower(agent_id) = lower(?) "
                       "ORDER BY agent_id = ? DESC LIMIT 1", (agent_id, agent_id)).fetchone()
    return AgentRow(*row) if row else None


def find_by_key(conn: sqlite3.Connection, key_id: str) -> AgentRow | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM agents WHERE key_id = ?", (key_id,)).fetchone()
    return AgentRow(*row) if row else None


def list_agents(conn: sqlite3.Connection) -> list[AgentRow]:
    return [AgentRow(*r) for r in conn.execute(f"SELECT {_COLUMNS} FROM agents ORDER BY agent_id")]


def insert_agent(conn: sqlite3.Connection, agent_id: str, key_id: str, token_hash: str,
                 now: float) -> None:
    conn.execute(
        "INSERT INTO agents (agent_id, key_id, token_hash, created_at) VALUES (?, ?, ?, ?)",
        (agent_id, key_id, token_hash, now),
    )


def set_token(conn: sqlite3.Connection, agent_id: str, key_id: str, token_hash: str,
              now: float) -> None:
    """Replace the agent's token (the old one stops working) and clear any revocation."""
    conn.execute(
        "UPDATE agents SET key_id = ?, token_hash = ?, rotated_at = ?, revoked_at = NULL "
        "WHERE agent_id = ?",
        (key_id, token_hash, now, agent_id),
    )


def revoke(conn: sqlite3.Connection, agent_id: str, now: float) -> None:
    conn.execute("UPDATE agents SET revoked_at = ? WHERE agent_id = ?", (now, agent_id))


def touch(conn: sqlite3.Connection, agent_id: str, now: float) -> None:
    conn.execute("UPDATE agents SET last_used_at = ? WHERE agent_id = ?", (now, agent_id))
