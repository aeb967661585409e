"""Renders run in worker processes, never in the server's own.

A thread keeps a render off the event loop but not off the GIL: a render running to its
250 ms budget took the interpreter from every other agent's calls often enough to multiply
their p99 latency by 7-16, and the big values it built stayed in the server's memory. In
a process of its own it shares nothing with them. RENDER_PROCESSES workers (spawned at the
first render, replaced after TASKS_PER_PROCESS renders so their memory is given back) run
at most one render per agent at a time, so one agent cannot take every worker.
"""

from __future__ import annotations

import asyncio
import atexit
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from tools.core.errors import LimitExceeded

T = TypeVar("T")
RENDER_PROCESSES = 2
TASKS_PER_PROCESS = 1_000
PARENT_CHECK_S = 1.0  # how often a render process checks that its server still runs


def _warm(parent: int) -> None:
    """Import the template machinery when a worker starts, not at its first render, and
    end the worker when its parent is gone (a SIGKILLed server leaves no orphans)."""
    import tools.core.templates.preview  # noqa: F401

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_S)
        os._exit(0)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


class RenderPool:
    """The render processes of this process (created when first needed)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executor: ProcessPoolExecutor | None = None
        # (event loop, agent) -> [gate, callers]: one render per agent at a time
        self._gates: dict[tuple[int, str], list[Any]] = {}

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._executor is None:
                self._executor = ProcessPoolExecutor(
                    RENDER_PROCESSES, mp_context=multiprocessing.get_context("spawn"),
                    initializer=_warm, initargs=(os.getpid(),),
                    max_tasks_per_child=TASKS_PER_PROCESS)
            return self._executor

    async def run(self, agent_id: str, job: Callable[..., T], *args: Any) -> T:
        """`job(*args)` in a render process, after the agent's render before it."""
        key = (id(asyncio.get_running_loop()), agent_id)
        gate = self._gates.setdefault(key, [asyncio.Lock(), 0])
        gate[1] += 1
        try:
            async with gate[0]:
                return await self._submit(job, *args)
        finally:
            gate[1] -= 1
            if gate[1] == 0:
                del self._gates[key]

    async def _submit(self, job: Callable[..., T], *args: Any) -> T:
        pool = self._pool()
        try:
            return await asyncio.get_running_loop().run_in_executor(pool, job, *args)
        except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh
            self._reset(pool)
            raise LimitExceeded("the render process stopped while rendering (out of memory "
                                "or killed); simplify the template and try again") from None

    def _reset(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is pool:
                self._executor = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the render processes (at exit; a later render starts new ones)."""
        with self._lock:
            pool, self._executor = self._executor, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


RENDERS = RenderPool()
atexit.register(RENDERS.close)
