"""The process-wide scheduler: runs each agent's due work (segment wake-ups) at its moment.

It is owned by the Runtime, not by an MCP lifespan (on SSE a lifespan runs per
connection). The control database holds each agent's next wake-up, so a round opens only
agents with work due; each agent's database holds its per-person wake-ups. Nothing scans
on a timer: the loop sleeps until the soonest wake-up, and an engine that schedules
something sooner wakes it. Tests call `run_due(now)` after advancing a ManualClock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from store.agent_ids import InvalidAgentId
from store.control import ControlDB
from tools.api import CustomerIO
from tools.core.clock import Clock

log = logging.getLogger(__name__)
IDLE_SECONDS = 60.0  # the longest sleep between looks at the control database
RETRY_SECONDS = 60.0  # an agent whose work failed is retried this much later
AGENTS_PER_ROUND = 100
MAX_ROUNDS = 1000
MIN_PAUSE = 0.01


class Scheduler:
    """Runs due wake-ups for every agent of one data directory."""

    def __init__(self, engine_for: Callable[[str], CustomerIO], control: ControlDB,
                 clock: Clock) -> None:
        self.engine_for = engine_for
        self.control = control
        self.clock = clock
        self._wake: asyncio.Event | None = None
        self._round: asyncio.Event | None = None
        self._stopped = False
        self.rounds = 0  # rounds the background loop has finished

    async def run_due(self, now: float | None = None) -> int:
        """Run every agent's work due by `now` (default: the clock's now), each wake-up
        at its own moment; returns how many wake-ups ran."""
        when = self.clock.now() if now is None else now
        total = 0
        for _ in range(MAX_ROUNDS):
            agents = self.control.due_agents(when, AGENTS_PER_ROUND)
            if not agents:
                break
            for agent_id in agents:
                total += await self._run_agent(agent_id, when)
        return total

    async def _run_agent(self, agent_id: str, when: float) -> int:
        try:
            return await self.engine_for(agent_id).segments_wake(when)
        except InvalidAgentId:
            log.warning("control database names an invalid agent id %r; dropping it", agent_id)
            self.control.set(agent_id, None)
        except Exception:
            log.exception("scheduled work of agent %s failed; retrying in %.0f s", agent_id,
                          RETRY_SECONDS)
            self.control.set(agent_id, when + RETRY_SECONDS)
        return 0

    def stop(self) -> None:
        """Make the background loop return after its current round."""
        self._stopped = True
        self.kick()

    def kick(self) -> None:
        """Make the loop look again now (safe from any thread)."""
        wake, loop = self._wake, getattr(self, "_loop", None)
        if wake is not None and loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(wake.set)

    def round_finished(self) -> asyncio.Event:
        """An event set when the background loop next finishes a round (for waiting on it
        without sleeping)."""
        if self._round is None:
            self._round = asyncio.Event()
        return self._round

    def _finish_round(self) -> None:
        self.rounds += 1
        finished, self._round = self._round, None
        if finished is not None:
            finished.set()

    async def run_forever(self) -> None:
        """Sleep until the soonest wake-up (or a kick), run what is due, repeat."""
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self.control.add_listener(self.kick)
        try:
            while not self._stopped:
                self._wake.clear()
                ran = 0
                try:
                    ran = await self.run_due()
                except Exception:
                    log.exception("scheduler round failed")
                self._finish_round()
                await self._sleep(ran)
        finally:
            self.control.remove_listener(self.kick)
            self._wake = None

    async def _sleep(self, ran: int) -> None:
        assert self._wake is not None
        soonest = self.control.earliest()
        delay = IDLE_SECONDS if soonest is None else soonest - self.clock.now()
        delay = min(IDLE_SECONDS, max(delay, 0.0 if ran else MIN_PAUSE))
        # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation
        # that arrives as the event is set, and the loop would never stop.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()
