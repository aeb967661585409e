"""The StoreManager opens agents lazily and keeps at most max_open databases open."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import anyio
import pytest

from store.database import AgentDatabase
from store.manager import StoreManager
from tools.core.errors import StorageUnwritable

pytestmark = pytest.mark.anyio


def suppress(user_id: str) -> Callable[[sqlite3.Connection], object]:
    """A unit of work suppressing `user_id` (any row will do for these tests)."""
    return lambda conn: conn.execute("INSERT INTO suppressions VALUES (?, 0)", (user_id,))


def suppressed(conn: sqlite3.Connection) -> list[str]:
    return [row[0] for row in conn.execute("SELECT user_id FROM suppressions ORDER BY user_id")]


async def database_of(manager: StoreManager, agent_id: str) -> AgentDatabase:
    async with manager.lease(agent_id) as db:
        await db.read(suppressed)
        return db


async def test_nothing_is_opened_until_an_agent_is_used(tmp_path: Path) -> None:
    manager = StoreManager(tmp_path / "data")
    assert manager.open_count == 0
    assert not (tmp_path / "data").exists()
    await database_of(manager, "tom")
    assert manager.open_count == 1
    assert (tmp_path / "data" / "tom.sqlite3").is_file()
    await manager.close()


async def test_at_most_max_open_databases_stay_open(tmp_path: Path) -> None:
    manager = StoreManager(tmp_path, max_open=3)
    for i in range(10):
        await database_of(manager, f"agent{i}")
        assert manager.open_count == min(i + 1, 3)
    await manager.close()
    assert manager.open_count == 0


def files_open_under(directory: Path) -> int:
    """How many file descriptors of this process point into `directory` (Linux /proc)."""
    fds = Path("/proc/self/fd")
    count = 0
    for fd in fds.iterdir():
        try:
            count += Path(fd.readlink()).is_relative_to(directory)
        except OSError:
            pass
    return count


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
async def test_evicted_databases_release_their_files(tmp_path: Path) -> None:
    manager = StoreManager(tmp_path, max_open=3)
    await database_of(manager, "first")
    per_database = files_open_under(tmp_path)
    assert per_database >= 1
    for i in range(20):
        await database_of(manager, f"agent{i}")
    assert files_open_under(tmp_path) <= 3 * per_database
    await manager.close()
    assert files_open_under(tmp_path) == 0


async def test_the_least_recently_used_database_is_the_one_closed(tmp_path: Path) -> None:
    manager = StoreManager(tmp_path, max_open=2)
    a = await database_of(manager, "a")
    b = await database_of(manager, "b")
    assert await database_of(manager, "a") is a  # a is now the most recently used
    await database_of(manager, "c")  # evicts b, the least recently used
    assert await database_of(manager, "a") is a, "a stayed open"
    assert await database_of(manager, "b") is not b, "b was closed and is opened afresh"
    await manager.close()


async def test_an_evicted_agent_reopens_with_its_data(tmp_path: Path) -> None:
    manager = StoreManager(tmp_path, max_open=1)
    async with manager.lease("a") as db:
        await db.write(suppress("kept"))
    await database_of(manager, "b")
    async with manager.lease("a") as db:
        assert await db.read(suppressed) == ["kept"]
    await manager.close()


async def test_a_leased_database_is_never_closed_under_its_user(tmp_path: Path) -> None:
    manager = StoreManager(tmp_path, max_open=1)
    async with manager.lease("a") as a:
        for other in ("b", "c", "d"):
            await database_of(manager, other)
        await a.write(suppress("still-works"))  # would fail on a closed connection
        assert await a.read(suppressed) == ["still-works"]
    await database_of(manager, "e")
    assert manager.open_count == 1, "once released it can be closed"
    await manager.close()


async def test_concurrent_opens_of_many_agents_never_close_a_database_in_use(
    tmp_path: Path,
) -> None:
    manager = StoreManager(tmp_path, max_open=2)

    async def use(agent_id: str) -> None:
        async with manager.lease(agent_id) as db:
            await db.write(suppress(agent_id))
            assert await db.read(suppressed) == [agent_id]

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for i in range(8):
                group.start_soon(use, f"agent{i}")
    await database_of(manager, "last")
    assert manager.open_count <= 2
    await manager.close()


async def test_concurrent_first_opens_of_one_agent_open_it_once(tmp_path: Path) -> None:
    manager = StoreManager(tmp_path)
    seen: list[AgentDatabase] = []

    async def use() -> None:
        async with manager.lease("tom") as db:
            seen.append(db)
            await db.read(suppressed)

    with anyio.fail_after(30):
        async with anyio.create_task_group() as group:
            for _ in range(10):
                group.start_soon(use)
    assert len(seen) == 10
    assert len({id(db) for db in seen}) == 1
    assert manager.open_count == 1
    await manager.close()


async def test_a_closed_manager_opens_nothing(tmp_path: Path) -> None:
    manager = StoreManager(tmp_path)
    await manager.close()
    with pytest.raises(RuntimeError, match="closed"):
        await database_of(manager, "tom")
    assert not (tmp_path / "tom.sqlite3").exists()


async def test_a_failed_open_can_be_retried(tmp_path: Path) -> None:
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data directory should be")
    manager = StoreManager(blocker)
    with pytest.raises(StorageUnwritable):
        await database_of(manager, "tom")
    blocker.unlink()
    await database_of(manager, "tom")
    assert manager.open_count == 1
    await manager.close()
