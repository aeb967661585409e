"""The process-wide runtime: owns the store manager, the services engines share (the
control database, the process's name in claims), the scheduler, and delivery: the channel
senders and the dispatcher that renders and sends claimed messages.

It starts once per process, whatever the transport, and closes every database on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
from types import TracebackType

from server.agents import AgentRegistry
from server.channels.net_guard import Destinations
from server.channels.senders import Senders
from server.config import OperatorConfig
from server.delivery import Dispatcher, destination_checker
from server.scheduler import Scheduler
from store.control import control_for
from store.database import Synchronous
from store.manager import DEFAULT_MAX_OPEN, StoreManager
from tools.api import CustomerIO
from tools.core.clock import CLOCK_VARIABLE, Clock, clock_from_spec
from tools.engine import Services
from tools.timed import process_owner

STOP_GRACE_SECONDS = 10.0
MAX_ENGINES = 10_000  # engines kept for reuse (each a few hundred bytes)


class Runtime:
    """Everything one server process shares between its connections."""

    def __init__(self, data_dir: Path, *, clock: Clock | None = None,
                 max_open: int = DEFAULT_MAX_OPEN, synchronous: Synchronous = "NORMAL",
                 run_scheduler: bool = True, kind: str = "server",
                 config: OperatorConfig | None = None, allow_private: bool = False,
                 public_url: str | None = None) -> None:
        self.data_dir = data_dir
        # CUSTOMERIO_MCP_CLOCK lets tests give several processes one moving clock
        self.clock: Clock = clock or clock_from_spec(os.environ.get(CLOCK_VARIABLE))
        self.store = StoreManager(data_dir, max_open=max_open, synchronous=synchronous)
        self.registry = AgentRegistry(data_dir, self.clock)
        self.control = control_for(data_dir)
        config = config or OperatorConfig()
        # Senders (SMTP pools, HTTP clients) and the dispatcher are the process's; engines
        # reach them through Services
        self.senders = Senders(allow_private)
        self.dispatcher = Dispatcher(self.engine, self.senders, self._more_due)
        self.services = Services(
            self.control, process_owner(kind), dispatch=self.dispatcher,
            channels=config.channels, public_url=public_url or config.public_url,
            check_destination=destination_checker(Destinations(allow_private)))
        self._engines: dict[str, CustomerIO] = {}
        # run_due(now) is the scheduler's entry point; the loop is started on __aenter__
        self.scheduler = Scheduler(self.engine, self.control, self.clock)
        self._run_scheduler = run_scheduler
        self._scheduler_task: asyncio.Task[None] | None = None

    def engine(self, agent_id: str) -> CustomerIO:
        """The engine of one agent (databases are opened lazily and shared; an engine holds
        no state of its own, so one per agent is kept and handed out again)."""
        engine = self._engines.get(agent_id)
        if engine is None:
            if len(self._engines) >= MAX_ENGINES:
                self._engines.clear()
            engine = self._engines[agent_id] = CustomerIO(self.store, agent_id, self.clock,
                                                          services=self.services)
        return engine

    async def _more_due(self, agent_id: str) -> None:
        """The dispatcher has room again for the agent's messages: run its due work now."""
        await asyncio.to_thread(self.control.lower, agent_id, self.clock.now())
        self.scheduler.kick()

    async def __aenter__(self) -> Runtime:
        if self._run_scheduler:
            self._scheduler_task = asyncio.get_running_loop().create_task(
                self.scheduler.run_forever(), name="customerio-mcp scheduler")
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        task, self._scheduler_task = self._scheduler_task, None
        if task is not None:
            # Let the agent whose due work is running finish it (its claim is released),
            # then stop; a scheduler stuck past the grace period is cancelled.
            self.scheduler.stop()
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.dispatcher.drain(STOP_GRACE_SECONDS)
        await self.senders.aclose()
        await self.store.close()
        await self.registry.close()
        self.control.close()
