"""EngineBase: what every area's operations share (the agent, its store, the clock, the
process's services), the write path with its change events, and the timed-work runner."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Protocol, TypeVar

from store import timed_repo
from store.control import ControlDB, control_for
from store.manager import StoreManager, release
from tools import timed
from tools.core import limits
from tools.core.clock import Clock, SystemClock
from tools.core.errors import InvalidInput
from tools.timed import ClaimLost, Ran, TimedRun, TimedWork
from tools.writes import Subscriber, WriteContext, run_in_context

log = logging.getLogger(__name__)
RETRY_SECONDS = 60.0  # due work that failed is tried again this much later
BLOCKED_RETRY_S = 1.0  # due work no area of this process could take is looked at again then
# Between two transactions of one run, the lock is left free a quarter of the time the
# last one held it, at most MAX_PAUSE_S: SQLite's lock is not fair, and another process's
# writer retrying now and then would rarely find it free otherwise. Our writers retry at
# least every 8 ms (store.database.RETRY_EVERY_S), so a pause of 12 ms always lets one in
# (a longer one only cost the run time: a fifth of a 100,000-journey burst).
PAUSE_FRACTION = 0.25
MAX_PAUSE_S = 0.012

T = TypeVar("T")
E = TypeVar("E", bound="EngineBase")
# (event loop, data directory, agent) -> the lock its runs of due work take turns on (one
# small lock per agent a process has run, kept)
_RUN_LOCKS: dict[tuple[int, str, str], asyncio.Lock] = {}


def default_data_dir() -> Path:
    """$CUSTOMERIO_MCP_DATA_DIR, else $XDG_DATA_HOME/customerio-mcp, else ~/.local/share/..."""
    explicit = os.environ.get("CUSTOMERIO_MCP_DATA_DIR")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "customerio-mcp"


def check_limit(limit: Any) -> int:
    """A page size from 1 to LIST_LIMIT_MAX."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= limits.LIST_LIMIT_MAX:
        raise InvalidInput(f"limit must be an integer from 1 to {limits.LIST_LIMIT_MAX}",
                           field="limit")
    return limit


class Dispatch(Protocol):
    """The process's delivery dispatcher as engines see it (server/delivery.py)."""

    def capacity(self, agent_id: str) -> int:
        """How many more messages of the agent it takes now."""
        ...

    def submit(self, agent_id: str, jobs: list[Any]) -> None:
        """Take claimed messages (after the claiming unit committed) and deliver them."""
        ...


@dataclass(frozen=True)
class Services:
    """What a process gives its engines: the control database of the data directory, the
    process's name in claims on timed work, and its delivery dispatcher (None in a plain
    Python program: messages are queued, and a server or worker process delivers them)."""

    control: ControlDB
    owner: str
    claim_lease: float = timed.LEASE_S
    dispatch: Dispatch | None = None
    # The operator's channel providers (config file): channel -> provider -> settings
    channels: Mapping[str, Mapping[str, Mapping[str, Any]]] = field(default_factory=dict)
    public_url: str | None = None  # where unsubscribe links point (the HTTP server)
    # Refuses a host or URL an agent gives that resolves to a private address (field name
    # for the error); None: no check (a plain Python program sends nothing)
    check_destination: Callable[[str, str], Awaitable[None]] | None = None

    @classmethod
    def for_data_dir(cls, data_dir: Path, kind: str = "python") -> Services:
        return cls(control_for(data_dir), timed.process_owner(kind))


class EngineBase:
    """One agent's engine state. Cheap to create; databases are owned by the StoreManager."""

    # Wired by the composition root (tools/api.py): who hears change events, in order, and
    # the timed work of each area.
    subscribers: ClassVar[tuple[Subscriber, ...]] = ()
    timed_work: ClassVar[tuple[TimedWork, ...]] = ()

    def __init__(self, manager: StoreManager, agent_id: str, clock: Clock | None = None,
                 *, services: Services | None = None, owns_manager: bool = False) -> None:
        manager.path_for(agent_id)  # validates the id before any file is touched
        self.manager = manager
        self.agent_id = agent_id
        self.clock: Clock = clock or SystemClock()
        self.services = services or Services.for_data_dir(manager.data_dir)
        self._owns_manager = owns_manager

    @classmethod
    def for_agent(cls: type[E], agent_id: str, data_dir: str | Path | None = None,
                  clock: Clock | None = None) -> E:
        """An engine for `agent_id` with its own store manager; close it (or use async with)."""
        directory = Path(data_dir) if data_dir is not None else default_data_dir()
        return cls(StoreManager(directory, max_open=1), agent_id, clock, owns_manager=True)

    async def __aenter__(self: E) -> E:
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the databases this engine opened (only if it owns its manager)."""
        if self._owns_manager:
            self.services.control.close()
            await self.manager.close()

    async def _write(self, unit: Callable[[Any], T], small: bool = False) -> T:
        """Run a write unit in a WriteContext (change events reach the subscribers inside
        the transaction; timed work it scheduled lowers the agent's control row before it
        commits). `small` ones (one person's worth of work) may run inline."""
        now, agent_id, services = self.clock.now(), self.agent_id, self.services
        subscribers = self.subscribers
        ran: list[WriteContext] = []  # the context of the run that committed is the last

        def with_context(conn: Any) -> T:
            context = WriteContext(now, subscribers, agent_id=agent_id, services=services)
            ran.append(context)
            result = run_in_context(unit, conn, context)
            if context.earliest is not None:
                services.control.lower(agent_id, context.earliest)
            return result

        entry = await self.manager.acquire(agent_id)
        try:
            result = await entry.database.write(with_context, small=small)
        finally:
            release(entry)
        effects = ran[-1].effects
        if effects and services.dispatch is not None:
            services.dispatch.submit(agent_id, effects)
        return result

    async def _read(self, unit: Callable[[Any], T], small: bool = False) -> T:
        entry = await self.manager.acquire(self.agent_id)
        try:
            return await entry.database.read(unit, small=small)
        finally:
            release(entry)

    async def run_due(self, now: float | None = None) -> TimedRun:
        """Run every area's timed work due by `now` (default: the clock's now), oldest
        first, each piece at its own moment, unless another process holds the claim.
        The scheduler calls this; a program without one (or a test) may call it too.
        Within a process, runs of one agent take turns (they share the claim's owner)."""
        key = (id(asyncio.get_running_loop()), str(self.manager.data_dir), self.agent_id)
        lock = _RUN_LOCKS.get(key)
        if lock is None:
            lock = _RUN_LOCKS[key] = asyncio.Lock()
        async with lock:
            return await self._run_due(now)

    async def _run_due(self, now: float | None) -> TimedRun:
        when = self.clock.now() if now is None else now
        owner, lease = self.services.owner, self.services.claim_lease
        before = await self._write(lambda conn: timed_repo.take(conn, owner, when, when + lease),
                                   small=True)
        if before.owner not in (None, owner) and (before.expires or 0.0) > when:
            return TimedRun(claimed=False, held_by=before.owner, held_until=before.expires)
        progress = timed.Progress(when, self.clock.now())
        try:
            held = 0.0
            while not progress.finished:
                if held:  # leave the lock free between steps (SQLite's lock is not fair)
                    await asyncio.sleep(min(held * PAUSE_FRACTION, MAX_PAUSE_S))
                step = partial(self._step, progress=progress, lease=lease)
                started = time.monotonic()
                progress = progress.after(await self._write(step))
                held = time.monotonic() - started
        except ClaimLost:
            log.warning("agent %s: another process took over its timed work", self.agent_id)
            return TimedRun(claimed=True, ran=progress.ran)
        except Exception:
            log.exception("agent %s: timed work failed; retrying in %.0f s", self.agent_id,
                          RETRY_SECONDS)
            failing = replace(progress, failing=True)
            progress = failing.after(await self._write(
                lambda conn: self._finish(conn, failing, Ran(0, None))))
        return TimedRun(claimed=True, ran=progress.ran, lateness=progress.lateness,
                        next_due=progress.next_due)

    def _step(self, conn: Any, progress: timed.Progress, lease: float) -> timed.Step:
        """One bounded transaction of due work; the last one also releases the claim."""
        areas = self._runnable_work()
        done = timed.run_chunk(conn, areas, self.services.owner, progress.when, lease)
        if done.count:
            soonest = timed.earliest_of(conn, areas)
            if soonest is not None and soonest <= progress.when:
                return timed.Step(done)  # more is due: another transaction
        return self._finish(conn, progress, done)

    def _runnable_work(self) -> tuple[TimedWork, ...]:
        """The areas whose work this process can run (delivery needs a dispatcher)."""
        if self.services.dispatch is not None:
            return self.timed_work
        return tuple(area for area in self.timed_work if not area.needs_dispatch)

    def _finish(self, conn: Any, progress: timed.Progress, done: Ran) -> timed.Step:
        """Give up the claim and set the agent's control row to its soonest work (work
        that failed is retried later instead of at once)."""
        now = self.clock.now()
        total = progress.after(timed.Step(done))
        lateness = total.lateness_at(now)
        timed_repo.release(conn, self.services.owner, progress.started, now, total.ran,
                           lateness)
        earliest = timed.earliest_of(conn, self.timed_work)
        if earliest is not None and earliest <= progress.when:
            # still due: the work failed, or no area could take it now (a full dispatcher,
            # which runs the agent's due work again itself as it frees up)
            earliest = progress.when + (RETRY_SECONDS if progress.failing else BLOCKED_RETRY_S)
        self.services.control.set(self.agent_id, earliest)
        return timed.Step(done, finished=True, next_due=earliest, lateness=lateness)
