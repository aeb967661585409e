"""Write the schema of a freshly migrated database to stdout (for store/schema.sql)."""

from __future__ import annotations

import sqlite3
import sys
import time

from store.migrate import apply_migrations, schema_snapshot


def fresh_schema() -> str:
    """The schema snapshot of a new in-memory database after every migration."""
    conn = sqlite3.connect(":memory:", isolation_level=None)
    apply_migrations(conn, time.time())
    return schema_snapshot(conn)


if __name__ == "__main__":
    sys.stdout.write(fresh_schema())
