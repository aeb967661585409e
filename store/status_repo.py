"""SQL for an agent's status at a glance: counts and the size of its files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

COUNTED = ("people", "events", "segments", "templates", "messages")  # fixed names, never user text


def counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows of each counted table."""
    return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in COUNTED}


def database_bytes(conn: sqlite3.Connection, path: Path) -> int:
    """The database's pages plus its write-ahead log."""
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    size = conn.execute("PRAGMA page_size").fetchone()[0]
    wal = Path(f"{path}-wal")
    return pages * size + (wal.stat().st_size if wal.exists() else 0)
