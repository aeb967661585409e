"""A database file deleted or replaced while its agent is open: the next use notices (the
file at the path is not the one opened), closes the stale connection and opens the file now
at the path, so an acknowledged write is always in a file that exists on disk."""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

import anyio
import anyio.lowlevel
import pytest

from store.manager import StoreManager
from tests.store.fault_support import START, serving_tools
from tools.api import CustomerIO
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio


def people_on_disk(path: Path) -> list[str]:
    """The people in the file at `path`, read by a connection of its own."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return [row[0] for row in conn.execute("SELECT user_id FROM people ORDER BY user_id")]
    finally:
        conn.close()


def engine(data_dir: Path) -> CustomerIO:
    return CustomerIO.for_agent("tom", data_dir=data_dir, clock=ManualClock(START))


@pytest.mark.parametrize("also_side_files", [False, True], ids=["file", "file-wal-shm"])
async def test_a_write_after_the_file_was_deleted_lands_in_a_new_file_on_disk(
    tmp_path: Path, also_side_files: bool, caplog: pytest.LogCaptureFixture,
) -> None:
    path = tmp_path / "tom.sqlite3"
    caplog.set_level(logging.WARNING, logger="store.manager")
    async with engine(tmp_path) as cio:
        await cio.identify("ada")
        for suffix in ("", "-wal", "-shm") if also_side_files else ("",):
            os.unlink(f"{path}{suffix}")
        result = await cio.identify("bob")
        assert result.created
        assert path.exists() and people_on_disk(path) == ["bob"]
        assert [p.user_id for p in (await cio.list_people()).people] == ["bob"]
    assert people_on_disk(path) == ["bob"]
    assert any("deleted or replaced while open" in r.getMessage() and str(path) in r.getMessage()
               for r in caplog.records)


async def test_a_file_replaced_by_a_backup_is_used_from_the_next_call_on(tmp_path: Path) -> None:
    backup = tmp_path / "backup"
    async with CustomerIO.for_agent("tom", data_dir=backup) as old:
        await old.identify("restored")
    path = tmp_path / "tom.sqlite3"
    async with engine(tmp_path) as cio:
        for n in range(50):  # frames in the old WAL that must not reach the restored file
            await cio.identify(f"old-{n}")
        os.replace(backup / "tom.sqlite3", path)
        assert [p.user_id for p in (await cio.list_people()).people] == ["restored"]
        await cio.identify("new")
        assert people_on_disk(path) == ["new", "restored"]
    assert people_on_disk(path) == ["new", "restored"]


async def test_the_deleted_file_of_an_agent_served_over_mcp_is_replaced_on_the_next_call(
    tmp_path: Path,
) -> None:
    path = tmp_path / "tom.sqlite3"
    async with serving_tools(tmp_path) as (client, _):
        assert not (await client.call_tool("identify", {"user_id": "ada"})).is_error
        path.unlink()
        result = await client.call_tool("identify", {"user_id": "bob"})
        assert not result.is_error and result.structured_content
        assert people_on_disk(path) == ["bob"]


async def test_a_call_under_way_finishes_on_the_old_file_and_the_next_waits_for_it(
    tmp_path: Path,
) -> None:
    manager = StoreManager(tmp_path)
    path = manager.path_for("tom")
    first_holding, release_first, second_leased = anyio.Event(), anyio.Event(), anyio.Event()
    used = {}

    async def first_call() -> None:
        async with manager.lease("tom") as db:
            used["first"] = db
            first_holding.set()
            await release_first.wait()
            await db.write(lambda conn: conn.execute("INSERT INTO suppressions VALUES ('x', 0)"))

    async def second_call() -> None:
        async with manager.lease("tom") as db:
            used["second"] = db
            second_leased.set()

    with anyio.fail_after(10):
        async with anyio.create_task_group() as group:
            group.start_soon(first_call)
            await first_holding.wait()
            path.unlink()
            group.start_soon(second_call)
            for _ in range(20):  # let the second call get as far as it can
                await anyio.lowlevel.checkpoint()
            assert not second_leased.is_set(), "the stale connection is still in use"
            release_first.set()
    await manager.close()
    assert used["second"] is not used["first"]
    assert path.exists() and people_on_disk(path) == []
