"""Named migrations are applied in order, recorded, and never applied twice."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path

import pytest

from store.database import connect_sync
from store.migrate import apply_migrations, migration_scripts, split_statements

NOW = 1_780_000_000.0


def recorded(conn: sqlite3.Connection) -> list[tuple[str, float]]:
    return conn.execute("SELECT name, applied_at FROM schema_migrations ORDER BY name").fetchall()


@pytest.mark.parametrize("folder", ["migrations", "control_migrations"])
def test_migration_files_are_numbered_names_sorted_in_order(folder: str) -> None:
    names = [name for name, _ in migration_scripts(folder)]
    assert names, "there is at least one migration"
    assert names == sorted(names)
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+", name) for name in names)
    assert len({name[:4] for name in names}) == len(names), "numbers are unique"


@pytest.mark.parametrize("folder", ["migrations", "control_migrations"])
def test_a_fresh_database_gets_every_migration_in_order_and_records_each(folder: str) -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    applied = apply_migrations(conn, NOW, folder)
    names = [name for name, _ in migration_scripts(folder)]
    assert applied == names
    assert recorded(conn) == [(name, NOW) for name in names]


def test_applying_again_applies_nothing_and_keeps_the_records() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    apply_migrations(conn, NOW)
    before = recorded(conn)
    assert apply_migrations(conn, NOW + 60) == []
    assert recorded(conn) == before


def test_reopening_a_database_file_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "tom.sqlite3"
    first = connect_sync(path)
    first.execute("INSERT INTO suppressions VALUES ('kept', 1)")
    before = recorded(first)
    first.close()
    again = connect_sync(path)
    assert recorded(again) == before
    assert again.execute("SELECT user_id FROM suppressions").fetchall() == [("kept",)]
    again.close()


def test_a_database_at_an_older_version_gets_only_the_later_migrations() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    (first, script), *later = migration_scripts()
    conn.execute(
        "CREATE TABLE schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL) "
        "WITHOUT ROWID"
    )
    for statement in split_statements(script):  # the state after release 1
        conn.execute(statement)
    conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (first, NOW - 86_400))
    assert apply_migrations(conn, NOW) == [name for name, _ in later]
    assert recorded(conn) == [(first, NOW - 86_400)] + [(name, NOW) for name, _ in later]


def test_a_failing_migration_run_rolls_back_and_records_nothing() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    apply_migrations(conn, NOW)
    first = migration_scripts()[0][0]
    conn.execute("DELETE FROM schema_migrations WHERE name = ?", (first,))
    # The first migration's tables exist, so re-applying it fails loudly:
    with pytest.raises(sqlite3.OperationalError, match="already exists"):
        apply_migrations(conn, NOW + 1)
    assert first not in {name for name, _ in recorded(conn)}, "the failed run rolled back"
    assert not conn.in_transaction


@pytest.mark.parametrize(
    ("script", "statements"),
    [
        ("CREATE TABLE a (x);\nCREATE TABLE b (y);\n", ["CREATE TABLE a (x);", "CREATE TABLE b (y);"]),
        ("-- a comment\nCREATE TABLE a (x);\n-- trailing comment\n", ["-- a comment\nCREATE TABLE a (x);"]),
        ("CREATE TABLE a (\n  x TEXT DEFAULT ';'\n);\n", ["CREATE TABLE a (\n  x TEXT DEFAULT ';'\n);"]),
        (
            "CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  DELETE FROM b;\nEND;\n",
            ["CREATE TRIGGER t AFTER INSERT ON a BEGIN\n  UPDATE a SET x = 1;\n  DELETE FROM b;\nEND;"],
        ),
        ("CREATE TABLE a (x)", ["CREATE TABLE a (x)"]),
        ("", []),
    ],
)
def test_scripts_split_into_complete_statements(script: str, statements: list[str]) -> None:
    assert split_statements(script) == statements
