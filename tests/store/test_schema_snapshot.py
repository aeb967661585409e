"""store/schema.sql is the schema of a freshly migrated database (regenerate it when a
migration is added: `.venv/bin/python -m store.snapshot > store/schema.sql`)."""

from __future__ import annotations

from pathlib import Path

from store.database import connect_sync
from store.migrate import schema_snapshot
from store.snapshot import fresh_schema

SCHEMA_FILE = Path(__file__).resolve().parents[2] / "store" / "schema.sql"


def test_schema_sql_equals_a_freshly_migrated_database() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == fresh_schema(), (
        "store/schema.sql is stale: run `.venv/bin/python -m store.snapshot > store/schema.sql`"
    )


def test_a_database_file_opened_by_the_store_has_the_snapshot_schema(tmp_path: Path) -> None:
    conn = connect_sync(tmp_path / "tom.sqlite3")
    try:
        assert schema_snapshot(conn) == fresh_schema()
    finally:
        conn.close()


def test_the_snapshot_covers_the_track_api_tables() -> None:
    schema = fresh_schema()
    for table in ("people", "events", "devices", "anonymous_links", "suppressions",
                  "schema_migrations"):
        assert f"CREATE TABLE {table} " in schema
