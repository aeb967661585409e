"""The process-wide scheduler: runs every agent's due timed work at its moment.

It is owned by the Runtime, not by an MCP lifespan (on SSE a lifespan runs per
connection). The control database holds each agent's next wake-up, so a round opens only
agents with work due; each agent's areas hold their own due work. The loop sleeps until
the soonest wake-up; an engine of this process that schedules something sooner wakes it,
and a cheap check of the control database (PRAGMA data_version) notices what other
processes scheduled. Any number of processes may run a scheduler on one data directory:
an agent's due work is claimed inside its database, so each piece runs once. Tests call
`run_due(now)` after advancing a ManualClock.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from store.agent_ids import InvalidAgentId
from store.control import ControlDB
from tools.api import CustomerIO
from tools.core.clock import Clock, real_seconds
from tools.core.errors import StorageError
from tools.engine import RETRY_SECONDS
from tools.timed import TimedRun

log = logging.getLogger(__name__)
IDLE_SECONDS = 60.0  # the longest sleep (clock seconds) between looks at the control database
POLL_SECONDS = 0.5  # real seconds between checks for wake-ups other processes scheduled
AGENTS_PER_ROUND = 100
MAX_ROUNDS = 1000
MIN_PAUSE = 0.01
LATE_LOG_SECONDS = 1.0  # due work that ran later than this is logged


class Scheduler:
    """Runs due timed work for every agent of one data directory."""

    def __init__(self, engine_for: Callable[[str], CustomerIO], control: ControlDB,
                 clock: Clock) -> None:
        self.engine_for = engine_for
        self.control = control
        self.clock = clock
        # agent -> (the next wake-up seen, when the claim lapses) while another process
        # runs that agent's work: skipped until its wake-up changes or the claim lapses
        self._held: dict[str, tuple[float, float]] = {}
        self._wake: asyncio.Event | None = None
        self._round: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped = False
        self.rounds = 0  # rounds the background loop has finished

    async def run_due(self, now: float | None = None) -> int:
        """Run every agent's work due by `now` (default: the clock's now), each piece at
        its own moment; returns how many pieces ran."""
        when = self.clock.now() if now is None else now
        total = 0
        for _ in range(MAX_ROUNDS):
            due = await asyncio.to_thread(self.control.due_agents, when,
                                          AGENTS_PER_ROUND + len(self._held))
            agents = [(agent_id, seen) for agent_id, seen in due
                      if not self._held_elsewhere(agent_id, seen, when)]
            if not agents:
                break
            for agent_id, seen in agents:
                if self._stopped:
                    return total
                total += await self._run_agent(agent_id, seen, when)
        return total

    def _held_elsewhere(self, agent_id: str, seen: float, now: float) -> bool:
        held = self._held.get(agent_id)
        if held is None:
            return False
        if held[0] == seen and now < held[1]:
            return True
        del self._held[agent_id]
        return False

    async def _run_agent(self, agent_id: str, seen: float, when: float) -> int:
        try:
            run = await self.engine_for(agent_id).run_due(when)
        except InvalidAgentId:
            log.warning("control database names an invalid agent id %r; dropping it", agent_id)
            await asyncio.to_thread(self.control.drop, agent_id)
            return 0
        except StorageError as exc:  # logged with its file where it was met
            log.debug("scheduled work of agent %s failed: %s", agent_id, exc.message)
            await asyncio.to_thread(self.control.postpone, agent_id, seen,
                                    when + RETRY_SECONDS)
            return 0
        except Exception:
            log.exception("scheduled work of agent %s failed; retrying in %.0f s", agent_id,
                          RETRY_SECONDS)
            await asyncio.to_thread(self.control.postpone, agent_id, seen,
                                    when + RETRY_SECONDS)
            return 0
        self._note(agent_id, seen, run)
        return run.ran

    def _note(self, agent_id: str, seen: float, run: TimedRun) -> None:
        if not run.claimed:
            self._held[agent_id] = (seen, run.held_until or 0.0)
            log.debug("agent %s: due work is being run by %s", agent_id, run.held_by)
        elif run.lateness is not None and run.lateness > LATE_LOG_SECONDS:
            log.info("agent %s: ran %d pieces of due work, the oldest %.1f s late",
                     agent_id, run.ran, run.lateness)

    def stop(self) -> None:
        """Make the background loop return after its current round."""
        self._stopped = True
        self.kick()

    def kick(self) -> None:
        """Make the loop look again now (safe from any thread)."""
        wake, loop = self._wake, self._loop
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
                    delay = await self._delay(ran)
                except StorageError as exc:  # already logged with its file, once a minute
                    log.debug("scheduler round failed: %s", exc.message)
                    delay = RETRY_SECONDS
                except Exception:
                    log.exception("scheduler round failed")
                    delay = RETRY_SECONDS
                self._finish_round()
                await self._sleep(delay)
        finally:
            self.control.remove_listener(self.kick)
            self._wake = None

    async def _delay(self, ran: int) -> float:
        """Real seconds until the next round: the soonest wake-up, or, while the due work
        is another process's, the soonest lapse of its claim."""
        now = self.clock.now()
        soonest = await asyncio.to_thread(self.control.earliest)
        if soonest is None:
            wait = IDLE_SECONDS
        elif soonest > now:
            wait = soonest - now
        else:
            lapses = [until for _, until in self._held.values() if until > now]
            wait = min(lapses, default=now) - now
        wait = min(IDLE_SECONDS, max(wait, 0.0 if ran else MIN_PAUSE))
        return real_seconds(self.clock, wait)

    async def _sleep(self, delay: float) -> None:
        """Sleep `delay` real seconds, waking early on a kick or when another process has
        written the control database."""
        assert self._wake is not None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + delay
        while not self._stopped:
            step = min(POLL_SECONDS, deadline - loop.time())
            if step <= 0:
                return
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a
            # cancellation that arrives as the event is set, and the loop would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(step):
                    await self._wake.wait()
                    return
            if await asyncio.to_thread(self.control.changed):
                return
