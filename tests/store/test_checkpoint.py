"""WAL checkpoints run on a background thread, not inside an inline commit."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from store.checkpoint import CHECKPOINT_EVERY, CHECKPOINT_ROWS, CHECKPOINTER, HARD_LIMIT_PAGES
from store.checkpoint import checkpoint as checkpoint_now
from store.database import AgentDatabase

pytestmark = pytest.mark.anyio


def checkpointed_people(path: Path) -> int:
    """People in the main database file alone: immutable=1 reads no WAL, so this counts
    only what a checkpoint has copied there."""
    conn = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)
    try:
        return conn.execute("SELECT count(*) FROM people").fetchone()[0]
    finally:
        conn.close()


def add_person(number: int):  # type: ignore[no-untyped-def]
    return lambda conn: conn.execute(
        "INSERT INTO people (user_id, created_at, updated_at) VALUES (?, 0, 0)",
        (f"u{number}",))


def wait_for(condition, seconds: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the background checkpoint never ran"
        time.sleep(0.01)


async def test_agent_connections_leave_checkpoints_to_the_background(tmp_path: Path) -> None:
    path = tmp_path / "tom.sqlite3"
    db = await AgentDatabase.open(path)
    checkpoint_now(path)  # the schema, so the main file alone can be counted
    try:
        assert await db.read(lambda c: c.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
                             ) == HARD_LIMIT_PAGES
        for number in range(CHECKPOINT_EVERY - 1):
            await db.write(add_person(number), small=True)
        assert checkpointed_people(path) == 0, "no commit checkpointed inline"
        await db.write(add_person(CHECKPOINT_EVERY), small=True)
        wait_for(lambda: checkpointed_people(path) == CHECKPOINT_EVERY)
    finally:
        await db.close()


async def test_a_large_write_asks_for_a_checkpoint_at_once(tmp_path: Path) -> None:
    path = tmp_path / "tom.sqlite3"
    db = await AgentDatabase.open(path)
    checkpoint_now(path)  # the schema, so the main file alone can be counted
    try:
        await db.write(lambda conn: conn.executemany(
            "INSERT INTO people (user_id, created_at, updated_at) VALUES (?, 0, 0)",
            [(f"u{n}",) for n in range(CHECKPOINT_ROWS)]))
        wait_for(lambda: checkpointed_people(path) == CHECKPOINT_ROWS)
    finally:
        await db.close()


def test_a_checkpoint_of_a_missing_database_creates_nothing(tmp_path: Path) -> None:
    before = CHECKPOINTER.completed
    checkpoint_now(tmp_path / "gone.sqlite3")
    CHECKPOINTER.request(tmp_path / "gone-too.sqlite3")
    wait_for(lambda: CHECKPOINTER.completed > before)
    assert list(tmp_path.iterdir()) == []


def test_a_waiting_request_can_be_discarded(tmp_path: Path) -> None:
    checkpointer = type(CHECKPOINTER)()
    checkpointer._waiting[tmp_path / "a.sqlite3"] = None  # queued, thread not started
    checkpointer.discard(tmp_path / "a.sqlite3")
    checkpointer.discard(tmp_path / "never-asked.sqlite3")
    assert checkpointer._waiting == {}
