"""Timed work for any area: work that must run at a moment in the future.

An area keeps its due work in its own table (indexed on the due column), schedules it
inside the write that decided it (noting the time with WriteContext.schedule, so the
agent's control row is lowered before the write commits) and exposes it as a TimedWork.
The runner (EngineBase.run_due) claims the agent's due work inside the agent's database,
runs every area's due pieces in due order in bounded transactions, then releases the
claim and sets the agent's control row to the minimum over its areas. A claim whose
process died lapses after the lease, and any other process finishes the work; each piece
is consumed in the transaction that does it, so none runs twice.
"""

from __future__ import annotations

import os
import secrets
import socket
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from store import timed_repo

CHUNK = 500  # pieces of work per transaction (other writers get the lock in between)
LEASE_S = float(os.environ.get("CUSTOMERIO_MCP_CLAIM_LEASE", "30"))


@dataclass(frozen=True)
class Ran:
    count: int
    oldest_due: float | None  # the due time of the most overdue piece run


class TimedWork(Protocol):
    """One area's timed work in an agent's database."""

    area: str
    needs_dispatch: bool  # its pieces hand messages to the process's delivery dispatcher

    def earliest(self, conn: sqlite3.Connection) -> float | None:
        """The due time of the area's soonest piece of work, if any."""
        ...

    def run_due(self, conn: sqlite3.Connection, until: float, budget: int) -> Ran:
        """Run up to `budget` pieces due at or before `until`, oldest first, inside the
        current write unit; each piece is removed or rescheduled as it runs."""
        ...


class ClaimLost(Exception):  # noqa: N818 - a signal
    """Another process took over the claim (this one stalled past its lease)."""


@dataclass(frozen=True)
class TimedRun:
    """What EngineBase.run_due did for one agent."""

    claimed: bool
    ran: int = 0
    held_by: str | None = None  # the process holding the claim, when not claimed
    held_until: float | None = None
    lateness: float | None = None  # seconds the most overdue piece ran late
    next_due: float | None = None


def process_owner(kind: str) -> str:
    """A name for this process in claims: what it is, its pid and host, and a random tag
    (a recycled pid is not mistaken for a dead owner)."""
    return f"{kind} pid {os.getpid()} on {socket.gethostname()} #{secrets.token_hex(3)}"


def earliest_of(conn: sqlite3.Connection, areas: Sequence[TimedWork]) -> float | None:
    """The soonest due time over every area."""
    times = [due for area in areas if (due := area.earliest(conn)) is not None]
    return min(times, default=None)


def next_per_area(conn: sqlite3.Connection, areas: Sequence[TimedWork]) -> dict[str, float | None]:
    """Each area's soonest due time."""
    return {area.area: area.earliest(conn) for area in areas}


def run_chunk(conn: sqlite3.Connection, areas: Sequence[TimedWork], owner: str, now: float,
              lease: float) -> Ran:
    """One bounded transaction of due work, in due order across areas: the area with the
    oldest due piece runs its pieces up to the next area's soonest (and never past now)."""
    if not timed_repo.extend(conn, owner, now + lease):
        raise ClaimLost(owner)
    due = sorted((when, index) for index, area in enumerate(areas)
                 if (when := area.earliest(conn)) is not None and when <= now)
    for position, (first, index) in enumerate(due):
        following = due[position + 1][0] if position + 1 < len(due) else now
        done = areas[index].run_due(conn, max(first, min(now, following)), CHUNK)
        if done.count:
            return done
        # the area took nothing (a full dispatcher): the next one runs its due work
    return Ran(0, None)


@dataclass(frozen=True)
class Step:
    """What one transaction of a run did; the last one also released the claim."""

    done: Ran
    finished: bool = False
    next_due: float | None = None
    lateness: float | None = None


@dataclass(frozen=True)
class Progress:
    """A run of one agent's due work so far (immutable: a unit that is retried after a
    busy database sees the same progress)."""

    when: float  # work due by then runs
    started: float
    ran: int = 0
    oldest: float | None = None  # the due time of the most overdue piece run
    failing: bool = False
    finished: bool = False
    next_due: float | None = None
    lateness: float | None = None

    def after(self, step: Step) -> Progress:
        due = step.done.oldest_due
        oldest = due if self.oldest is None or (due is not None and due < self.oldest) \
            else self.oldest
        return replace(self, ran=self.ran + step.done.count, oldest=oldest,
                       finished=step.finished, next_due=step.next_due,
                       lateness=step.lateness if step.finished else self.lateness)

    def lateness_at(self, now: float) -> float | None:
        """How late the most overdue piece ran (the run started at `when`, or now)."""
        return None if self.oldest is None else max(0.0, max(self.when, now) - self.oldest)
