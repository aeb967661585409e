"""Serving one agent over MCP stdio."""

from __future__ import annotations

import logging
import signal
import sys
from pathlib import Path
from typing import Any

import anyio
from mcp.server.mcpserver import MCPServer

from server.app import build_server
from server.runtime import Runtime
from server.stdio_pipes import serve_pipes
from store.database import Synchronous

log = logging.getLogger(__name__)


async def serve_stdio(agent_id: str, data_dir: Path, synchronous: Synchronous = "NORMAL", *,
                      otel: bool = False, fast_path: bool = True,
                      delivery: dict[str, Any] | None = None) -> None:
    """Serve `agent_id` until stdin closes or SIGTERM / SIGINT arrives, then close every
    database. `otel` and `fast_path` are build_server's; `delivery` Runtime's options."""
    async with Runtime(data_dir, synchronous=synchronous, **(delivery or {})) as runtime:
        engine = runtime.engine(agent_id)
        server = build_server(lambda ctx: engine, otel=otel, fast_path=fast_path)
        async with anyio.create_task_group() as group:

            async def stop_on_signal() -> None:
                with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
                    async for received in signals:
                        log.info("received %s, stopping", signal.Signals(received).name)
                        group.cancel_scope.cancel()
                        return

            group.start_soon(stop_on_signal)
            await run_stdio(server)
            group.cancel_scope.cancel()


async def run_stdio(server: MCPServer[Any]) -> None:
    """Serve `server` over stdin/stdout on the event loop (Windows: the SDK's threaded
    transport, which has none of our stdio limits)."""
    if sys.platform == "win32":  # pragma: no cover
        await server.run_stdio_async()
        return
    # MCPServer has no public accessor for its low-level server yet; the SDK's own
    # in-memory Client reads the same attribute (the SDK means to make it public).
    await serve_pipes(server._lowlevel_server)
