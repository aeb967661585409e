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

log = logging.getLogger(__name__)
DEFAULT_MAX_OPEN = 64


class _Entry:
    __slots__ = ("database", "leases")

    def __init__(self, database: AgentDatabase) -> None:
        self.database = database
        self.leases = 0


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
        """Use the database of `agent_id`; it is not closed while leased."""
        entry = self._open.get(agent_id)
        while entry is None:
            await self._open_entry(agent_id)
            # A concurrent open may have evicted it before this task resumed: look again,
            # and take the lease with no await in between.
            entry = self._open.get(agent_id)
        self._open.move_to_end(agent_id)
        entry.leases += 1
        try:
            yield entry.database
        finally:
            entry.leases -= 1

    async def _open_entry(self, agent_id: str) -> _Entry:
        if self._closed:
            raise RuntimeError("the store manager is closed")
        pending = self._opening.get(agent_id)
        if pending is not None:
            return await asyncio.shield(pending)
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
            entry.leases -= 1
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
