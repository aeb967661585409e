"""Serving one agent over MCP stdio."""

from __future__ import annotations

import logging
import signal
from pathlib import Path

import anyio

from server.app import build_server
from server.runtime import Runtime
from store.database import Synchronous

log = logging.getLogger(__name__)


async def serve_stdio(agent_id: str, data_dir: Path, synchronous: Synchronous = "NORMAL") -> None:
    """Serve `agent_id` until stdin closes or SIGTERM / SIGINT arrives."""
    async with Runtime(data_dir, synchronous=synchronous) as runtime:
        engine = runtime.engine(agent_id)
        server = build_server(lambda ctx: engine)
        async with anyio.create_task_group() as group:

            async def stop_on_signal() -> None:
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for received in signals:
                        log.info("received %s, stopping", signal.Signals(received).name)
                        group.cancel_scope.cancel()
                        return

            group.start_soon(stop_on_signal)
            await server.run_stdio_async()
            group.cancel_scope.cancel()
