"""Named migrations (store/migrations/NNNN_name.sql), applied in order and recorded."""

from __future__ import annotations

import sqlite3
from importlib import resources

_RECORD_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations "
    "(name TEXT PRIMARY KEY, applied_at REAL NOT NULL) WITHOUT ROWID"
)


def migration_scripts(folder_name: str = "migrations") -> list[tuple[str, str]]:
    """All migrations in store/<folder_name> as (name, sql), sorted by name."""
    folder = resources.files("store") / folder_name
    scripts = [
        (entry.name.removesuffix(".sql"), entry.read_text(encoding="utf-8"))
        for entry in folder.iterdir()
        if entry.name.endswith(".sql")
    ]
    return sorted(scripts)


def split_statements(script: str) -> list[str]:
    """Split a SQL script into complete statements."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending.strip())
            pending = ""
    if pending.strip() and not pending.strip().startswith("--"):
        statements.append(pending.strip())
    return statements


def apply_migrations(conn: sqlite3.Connection, now: float,
                     folder_name: str = "migrations") -> list[str]:
    """Apply every pending migration in one transaction; return the names applied.

    Agent databases use store/migrations; the control database store/control_migrations.
    """
    conn.execute(_RECORD_TABLE)
    conn.execute("BEGIN IMMEDIATE")
    try:
        done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
        applied = []
        for name, script in migration_scripts(folder_name):
            if name in done:
                continue
            for statement in split_statements(script):
                conn.execute(statement)
            conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, now))
            applied.append(name)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied


def schema_snapshot(conn: sqlite3.Connection) -> str:
    """The schema as SQL text, in a stable order (store/schema.sql holds a copy)."""
    rows = conn.execute(
        "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
        "AND name NOT LIKE 'sqlite_%' ORDER BY CASE type WHEN 'table' THEN 0 ELSE 1 END, name"
    )
    header = "-- Snapshot of a freshly migrated agent database. Regenerate with:\n"
    header += "--   python -m store.snapshot > store/schema.sql\n"
    return header + "".join(f"{sql};\n" for _, _, sql in rows)
