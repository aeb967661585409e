"""The process-wide runtime: owns the store manager (and, later, the scheduler and senders).

It starts once per process, whatever the transport, and closes every database on exit.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType

from server.agents import AgentRegistry
from store.database import Synchronous
from store.manager import DEFAULT_MAX_OPEN, StoreManager
from tools.api import CustomerIO
from tools.core.clock import Clock, SystemClock


class Runtime:
    """Everything one server process shares between its connections."""

    def __init__(self, data_dir: Path, *, clock: Clock | None = None,
                 max_open: int = DEFAULT_MAX_OPEN, synchronous: Synchronous = "NORMAL") -> None:
        self.data_dir = data_dir
        self.clock: Clock = clock or SystemClock()
        self.store = StoreManager(data_dir, max_open=max_open, synchronous=synchronous)
        self.registry = AgentRegistry(data_dir, self.clock)

    def engine(self, agent_id: str) -> CustomerIO:
        """The engine of one agent (cheap: databases are opened lazily and shared)."""
        return CustomerIO(self.store, agent_id, self.clock)

    async def __aenter__(self) -> Runtime:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.store.close()
        await self.registry.close()
