"""SQL for the claim on an agent's timed work (table timed_work, one row)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class ClaimRow:
    owner: str | None
    claimed_at: float | None
    expires: float | None
    last_owner: str | None
    last_started_at: float | None
    last_finished_at: float | None
    last_ran: int | None
    last_lateness: float | None


def read(conn: sqlite3.Connection) -> ClaimRow:
    row = conn.execute(
        "SELECT owner, claimed_at, expires, last_owner, last_started_at, last_finished_at, "
        "last_ran, last_lateness FROM timed_work WHERE id = 1").fetchone()
    return ClaimRow(*row)


def take(conn: sqlite3.Connection, owner: str, now: float, expires: float) -> ClaimRow:
    """Claim the agent's due work for `owner` unless another owner holds an unexpired
    claim; returns the row as it was before (its owner is the holder when refused)."""
    before = read(conn)
    if before.owner is None or before.owner == owner or (before.expires or 0) <= now:
        conn.execute("UPDATE timed_work SET owner = ?, claimed_at = ?, expires = ? "
                     "WHERE id = 1", (owner, now, expires))
    return before


def extend(conn: sqlite3.Connection, owner: str, expires: float) -> bool:
    """Keep the claim; False when `owner` no longer holds it."""
    return conn.execute("UPDATE timed_work SET expires = ? WHERE id = 1 AND owner = ?",
                        (expires, owner)).rowcount == 1


def release(conn: sqlite3.Connection, owner: str, started: float, finished: float, ran: int,
            lateness: float | None) -> None:
    """Give the claim up; a run that did work is recorded as the last run."""
    if ran == 0:
        conn.execute("UPDATE timed_work SET owner = NULL, claimed_at = NULL, expires = NULL "
                     "WHERE id = 1 AND owner = ?", (owner,))
        return
    conn.execute(
        "UPDATE timed_work SET owner = NULL, claimed_at = NULL, expires = NULL, "
        "last_owner = ?, last_started_at = ?, last_finished_at = ?, last_ran = ?, "
        "last_lateness = ? WHERE id = 1 AND owner = ?",
        (owner, started, finished, ran, lateness, owner))
