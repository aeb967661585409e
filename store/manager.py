"""Opens agent databases lazily and keeps a bounded number open (least recently used closed)."""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from store.agent_ids import check_agent_id
from store.database import AgentDatabase, Synchronous
from store.files import remove_side_files

log = logging.getLogger(__name__)
DEFAULT_MAX_OPEN = 64


class _Entry:
    __slots__ = ("database", "leases", "released")

    def __init__(self, database: AgentDatabase) -> None:
        self.database = database
        self.leases = 0
        self.released: asyncio.Event | None = None  # set when a stale entry's last lease ends


def release(entry: _Entry) -> None:
    """End a lease taken with StoreManager.acquire."""
    entry.leases -= 1
    if entry.leases == 0 and entry.released is not None:
        entry.released.set()


class StoreManager:
    """Owns every open agent database of a process."""

    def __init__(
        self,
        data_dir: Path,
        *,
        max_open: int = DEFAULT_MAX_OPEN,
        synchronous: Synchronous = "NORMAL",
    ) -> None:
        self.data_dir = Path(data_dir)
        self.max_open = max(1, max_open)
        self.synchronous: Synchronous = synchronous
        self._open: OrderedDict[str, _Entry] = OrderedDict()
        self._opening: dict[str, asyncio.Future[_Entry]] = {}
        self._closing_stale: dict[str, asyncio.Future[None]] = {}  # stale entries closing
        self._closed = False

    def path_for(self, agent_id: str) -> Path:
        """The database file of `agent_id` (validated first)."""
        return self.data_dir / f"{check_agent_id(agent_id)}.sqlite3"

    @property
    def open_count(self) -> int:
        """How many agent databases are open now."""
        return len(self._open)

    @asynccontextmanager
    async def lease(self, agent_id: str) -> AsyncIterator[AgentDatabase]:
        """Use the database of `agent_id`; it is not closed while leased (acquire and
        release, as a context manager)."""
        entry = await self.acquire(agent_id)
        try:
            yield entry.database
        finally:
            release(entry)

    async def acquire(self, agent_id: str) -> _Entry:
        """Lease the database of `agent_id` (give it back with `release`). A database whose
        file was deleted or replaced since it was opened is closed and opened again first,
        so no write is acknowledged into a file that is no longer on disk."""
        entry = self._open.get(agent_id)
        if entry is not None and entry.database.file_replaced():  # once: inodes may be unstable
            await self._close_stale(agent_id, entry)
            entry = self._open.get(agent_id)
        while entry is None:
            await self._open_entry(agent_id)
            # A concurrent open may have evicted it before this task resumed: look again,
            # and take the lease with no await in between.
            entry = self._open.get(agent_id)
        self._open.move_to_end(agent_id)
        entry.leases += 1
        return entry

    async def _close_stale(self, agent_id: str, entry: _Entry) -> None:
        """Drop `entry` (its file is gone or replaced) and wait until it is closed. No
        database of `agent_id` opens meanwhile: the old connection owns the -wal/-shm names."""
        if self._open.get(agent_id) is entry:
            del self._open[agent_id]
            log.warning("database file %s was deleted or replaced while open; closing the "
                        "old connection, then opening the file now at that path",
                        entry.database.path)
            self._closing_stale[agent_id] = asyncio.ensure_future(
                self._finish_stale(agent_id, entry))
        pending = self._closing_stale.get(agent_id)
        if pending is not None:
            await asyncio.shield(pending)

    async def _finish_stale(self, agent_id: str, entry: _Entry) -> None:
        try:
            if entry.leases:  # calls already under way finish on the old connection
                entry.released = asyncio.Event()
                await entry.released.wait()
            await entry.database.close()
            # SQLite leaves them behind when the file was unlinked; the next open of the
            # path would apply the old WAL to the new file.
            remove_side_files(entry.database.path)
        finally:
            del self._closing_stale[agent_id]

    async def _open_entry(self, agent_id: str) -> _Entry:
        if self._closed:
            raise RuntimeError("the store manager is closed")
        pending = self._opening.get(agent_id)
        if pending is not None:
            return await asyncio.shield(pending)
        closing = self._closing_stale.get(agent_id)
        if closing is not None:
            await asyncio.shield(closing)
            return await self._open_entry(agent_id)
        path = self.path_for(agent_id)
        future: asyncio.Future[_Entry] = asyncio.get_running_loop().create_future()
        self._opening[agent_id] = future
        try:
            entry = _Entry(await AgentDatabase.open(path, self.synchronous))
            self._open[agent_id] = entry
            future.set_result(entry)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters (if any) re-raise it
            raise
        finally:
            del self._opening[agent_id]
        entry.leases += 1  # a concurrent open must not evict it while this one evicts
        try:
            await self._evict(keep=agent_id)
        finally:
            release(entry)
        return entry

    async def _evict(self, keep: str) -> None:
        while len(self._open) > self.max_open:
            idle = next(
                (aid for aid, e in self._open.items() if e.leases == 0 and aid != keep), None
            )
            if idle is None:
                return
            entry = self._open.pop(idle)
            await entry.database.close()
            log.debug("closed idle agent database %s", idle)

    async def close(self) -> None:
        """Close every open database (after their queued work finishes)."""
        self._closed = True
        while self._open:
            _, entry = self._open.popitem()
            await entry.database.close()
        for closing in list(self._closing_stale.values()):
            await asyncio.shield(closing)
