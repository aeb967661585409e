"""`customerio-mcp worker`: the long-running home of timed work.

A stdio server lives as long as its client; a journey waits for days. The worker runs the
scheduler for every agent of the data directory, with no MCP, until SIGTERM / SIGINT: the
agent whose due work is running finishes it, then every database is closed. Work that
fell due while no process ran is run at start, oldest first (its lateness is logged).
"""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from typing import Any

import anyio

from server.runtime import Runtime
from store.database import Synchronous

log = logging.getLogger(__name__)


async def run_worker(data_dir: Path, synchronous: Synchronous = "NORMAL",
                     delivery: dict[str, Any] | None = None) -> int:
    """Serve timed work until SIGTERM / SIGINT (`delivery`: Runtime's delivery options)."""
    async with Runtime(data_dir, synchronous=synchronous, kind="worker", **(delivery or {})):
        log.info("worker running the timed work of every agent in %s", data_dir)
        with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for received in signals:
                log.info("received %s, finishing the work in progress",
                         signal.Signals(received).name)
                break
    log.info("worker stopped")
    return 0
