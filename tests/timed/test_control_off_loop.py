"""The control database never makes the event loop wait: while another process holds its
lock, a write that must lower an agent's wake-up waits on its own connection thread, and
every other agent of the process carries on."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from server.runtime import Runtime
from tools.core.clock import ManualClock

pytestmark = pytest.mark.anyio
WITHIN = {"attribute": "seen", "operator": "within", "value": "1d"}


async def test_a_locked_control_database_stalls_only_the_write_that_needs_it(
        runtime: Runtime, clock: ManualClock) -> None:
    tom, ann = runtime.engine("tom"), runtime.engine("ann")
    await tom.segments_create("Seen", WITHIN)
    await ann.identify("first")  # ann's database is open
    other_process = sqlite3.connect(runtime.control.path, timeout=0, isolation_level=None)
    other_process.execute("BEGIN EXCLUSIVE")
    try:
        waiting = asyncio.create_task(tom.identify("ada", {"seen": int(clock.now())}))
        for i in range(20):  # ann's calls (and the loop) go on meanwhile
            await ann.identify(f"p{i}", {"n": i})
            await ann.track("login", user_id=f"p{i}")
        assert not waiting.done()
        assert (await ann.list_people(limit=50)).total == 21
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()
    result = await asyncio.wait_for(waiting, 10)
    assert result.created
    assert runtime.control.next_due("tom") == int(clock.now()) + 86_400
