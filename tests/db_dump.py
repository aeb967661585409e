"""Read an agent's SQLite file directly, to check what a call did (or did not) store.
Shared by every test folder."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

Dump = dict[str, list[tuple[Any, ...]]]


def dump(path: Path) -> Dump:
    """Every row of every table, sorted; {} when the file does not exist yet."""
    if not path.exists():
        return {}
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"
        )]
        return {
            table: sorted(conn.execute(f'SELECT * FROM "{table}"').fetchall(), key=repr)
            for table in tables
        }
    finally:
        conn.close()


# Tables that differ between two databases holding the same data (opening time, identity,
# the random secret that signs unsubscribe links).
PER_DATABASE = ("schema_migrations", "segment_state", "delivery_settings")


def content(path: Path) -> Dump:
    """The dump without the per-database tables, to compare two agents' data."""
    return {table: r for table, r in dump(path).items() if table not in PER_DATABASE}


def rows(path: Path, table: str) -> list[tuple[Any, ...]]:
    """The rows of one table."""
    return dump(path).get(table, [])


@contextmanager
def unchanged(path: Path) -> Iterator[Dump]:
    """Assert that the database content is the same after the block as before it."""
    before = dump(path)
    yield before
    assert dump(path) == before, "a rejected call changed stored data"
