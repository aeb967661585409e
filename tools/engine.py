"""EngineBase: what every area's operations share (the agent, its store, the clock)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from store.manager import StoreManager
from tools.core import limits
from tools.core.clock import Clock, SystemClock
from tools.core.errors import InvalidInput

T = TypeVar("T")
E = TypeVar("E", bound="EngineBase")


def default_data_dir() -> Path:
    """$CUSTOMERIO_MCP_DATA_DIR, else $XDG_DATA_HOME/customerio-mcp, else ~/.local/share/..."""
    explicit = os.environ.get("CUSTOMERIO_MCP_DATA_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "customerio-mcp"


def check_limit(limit: Any) -> int:
    """A page size from 1 to LIST_LIMIT_MAX."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= limits.LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be an integer from 1 to {limits.LIST_LIMIT_MAX}",
                           field="limit")
    return limit


class EngineBase:
    """One agent's engine state. Cheap to create; databases are owned by the StoreManager."""

    def __init__(self, manager: StoreManager, agent_id: str, clock: Clock | None = None,
                 *, owns_manager: bool = False) -> None:
        manager.path_for(agent_id)  # validates the id before any file is touched
        self.manager = manager
        self.agent_id = agent_id
        self.clock: Clock = clock or SystemClock()
        self._owns_manager = owns_manager

    @classmethod
    def for_agent(cls: type[E], agent_id: str, data_dir: str | Path | None = None,
                  clock: Clock | None = None) -> E:
        """An engine for `agent_id` with its own store manager; close it (or use async with)."""
        directory = Path(data_dir) if data_dir is not None else default_data_dir()
        return cls(StoreManager(directory, max_open=1), agent_id, clock, owns_manager=True)

    async def __aenter__(self: E) -> E:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the databases this engine opened (only if it owns its manager)."""
        if self._owns_manager:
            await self.manager.close()

    async def _write(self, unit: Callable[[Any], T], small: bool = False) -> T:
        """Run a write unit; `small` ones (one person's worth of work) may run inline."""
        async with self.manager.lease(self.agent_id) as db:
            return await db.write(unit, small=small)

    async def _read(self, unit: Callable[[Any], T], small: bool = False) -> T:
        async with self.manager.lease(self.agent_id) as db:
            return await db.read(unit, small=small)
