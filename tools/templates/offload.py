"""Parsing a saved template runs on worker threads, at most RENDER_THREADS at once per
process, never on the event loop (previews render in render processes: render_pool.py):
while one agent's parse runs, every other agent's calls go on being served.

A thread is not enough on its own: the render holds the GIL, and CPython hands it back to a
thread that wants it only every 5 ms (sys.getswitchinterval), so each of another agent's
SQLite statements (which release the GIL) could wait 5 ms to go on. While at least one render
runs, the switch interval is RENDER_SWITCH_INTERVAL_S (0.2 ms); it is restored after the
last one (see README "Limits" and tests/bench/bench_hostile_templates.py).

The render sets its ContextVars (the render budget) itself, inside the thread; anyio also
runs the function in a copy of the caller's context.
"""

from __future__ import annotations

import asyncio
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from anyio import CapacityLimiter, to_thread

from tools.core.templates import limits

T = TypeVar("T")
_LIMITERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, CapacityLimiter] = \
    weakref.WeakKeyDictionary()


def render_limiter() -> CapacityLimiter:
    """The limiter of render threads for the running event loop (one per process in the
    server; tests run many loops, one after the other)."""
    loop = asyncio.get_running_loop()
    limiter = _LIMITERS.get(loop)
    if limiter is None:
        limiter = _LIMITERS[loop] = CapacityLimiter(limits.RENDER_THREADS)
    return limiter


class _SwitchInterval:
    """Counts renders in flight; the first lowers the switch interval, the last restores it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._saved = sys.getswitchinterval()

    @contextmanager
    def lowered(self) -> Iterator[None]:
        with self._lock:
            if self._active == 0:
                self._saved = sys.getswitchinterval()
                sys.setswitchinterval(min(self._saved, limits.RENDER_SWITCH_INTERVAL_S))
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    sys.setswitchinterval(self._saved)


SWITCH_INTERVAL = _SwitchInterval()


async def off_loop(func: Callable[..., T], *args: Any) -> T:
    """`func(*args)` on a render thread; waits for a free one when all are busy."""
    with SWITCH_INTERVAL.lowered():
        return await to_thread.run_sync(func, *args, limiter=render_limiter())
