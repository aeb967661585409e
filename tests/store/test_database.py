"""An opened agent database: WAL, foreign keys, and one transaction per unit of work."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from functools import partial
from pathlib import Path
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from store.database import AgentDatabase

pytestmark = pytest.mark.anyio


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[AgentDatabase]:
    database = await AgentDatabase.open(tmp_path / "agents" / "tom.sqlite3")
    yield database
    await database.close()


Unit = Callable[[sqlite3.Connection], Any]


def pragma(name: str) -> Unit:
    """A unit of work returning the value of PRAGMA `name`."""
    return lambda conn: conn.execute(f"PRAGMA {name}").fetchone()[0]


def add_person(user_id: str) -> Unit:
    def unit(conn: sqlite3.Connection) -> int:
        return conn.execute(
            "INSERT INTO people (user_id, created_at, updated_at) VALUES (?, 0, 0)", (user_id,)
        ).lastrowid
    return unit


def people(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT user_id FROM people ORDER BY pk")]


@pytest.mark.parametrize("small", [False, True])
async def test_an_opened_database_uses_wal_and_enforces_foreign_keys(
    db: AgentDatabase, small: bool
) -> None:
    assert await db.read(pragma("journal_mode"), small=small) == "wal"
    assert await db.read(pragma("foreign_keys"), small=small) == 1
    assert await db.read(pragma("synchronous"), small=small) == 1  # NORMAL


async def test_opening_creates_the_data_directory_and_the_file(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "er" / "tom.sqlite3"
    database = await AgentDatabase.open(path)
    await database.close()
    assert path.is_file()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal", "WAL persists in the file"
    raw.close()


async def test_the_synchronous_setting_is_applied(tmp_path: Path) -> None:
    database = await AgentDatabase.open(tmp_path / "tom.sqlite3", synchronous="FULL")
    try:
        assert await database.read(pragma("synchronous")) == 2
    finally:
        await database.close()


async def test_an_event_for_a_missing_person_violates_the_foreign_key(db: AgentDatabase) -> None:
    def orphan_event(conn: sqlite3.Connection) -> None:
        conn.execute(
            "INSERT INTO events (person_pk, type, name, timestamp, received_at) "
            "VALUES (999, 'event', 'x', 0, 0)"
        )
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        await db.write(orphan_event)


@pytest.mark.parametrize("small", [False, True])
async def test_a_unit_that_fails_midway_leaves_nothing_behind(
    db: AgentDatabase, small: bool
) -> None:
    await db.write(add_person("kept"), small=small)

    def half_done(conn: sqlite3.Connection) -> None:
        add_person("ghost")(conn)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        await db.write(half_done, small=small)
    assert await db.read(people) == ["kept"]


@pytest.mark.parametrize("small", [False, True])
async def test_a_unit_commits_all_its_statements_together(
    db: AgentDatabase, small: bool, tmp_path: Path
) -> None:
    def two(conn: sqlite3.Connection) -> None:
        add_person("a")(conn)
        add_person("b")(conn)

    await db.write(two, small=small)
    other = sqlite3.connect(tmp_path / "agents" / "tom.sqlite3")
    assert people(other) == ["a", "b"], "committed and visible to another connection"
    other.close()


async def test_a_write_waits_for_another_writer_instead_of_failing(
    db: AgentDatabase, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "agents" / "tom.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    other.execute("INSERT INTO people (user_id, created_at, updated_at) VALUES ('first', 0, 0)")
    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            # small=True: the inline attempt meets SQLITE_BUSY and the unit moves to the
            # connection thread, which waits for the lock.
            group.start_soon(partial(db.write, add_person("second"), small=True))
            await anyio.lowlevel.checkpoint()
            other.execute("COMMIT")
    other.close()
    assert await db.read(people) == ["first", "second"]
