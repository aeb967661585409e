"""An agent's status: what it holds, how big it is, what is scheduled and how the last run
of its timed work went. Served as the `agent_status` tool and by `customerio-mcp status`.

It reads every area's tables, so it is composed here, above the areas, like the timed
work it reports on. The MCP tool is registered by tools/status_tool.py.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path

from pydantic import BaseModel, Field

from store import status_repo, timed_repo
from tools.core.timefmt import iso
from tools.engine import EngineBase
from tools.timed import TimedWork, next_per_area


class AreaWork(BaseModel):
    area: str
    next_due: str | None = Field(description="When the area's soonest work is due (ISO-8601)")


class LastRun(BaseModel):
    finished_at: str
    ran: int = Field(description="Pieces of due work the run did")
    lateness_seconds: float = Field(description="How late its most overdue piece ran")
    by: str = Field(description="The process that ran it")


class Claim(BaseModel):
    held_by: str = Field(description="The process running this agent's due work now")
    since: str
    expires: str = Field(description="When the claim lapses if that process has died")


class AgentStatus(BaseModel):
    agent_id: str
    people: int
    events: int
    segments: int
    templates: int
    messages: int
    database_bytes: int = Field(description="The database file and its write-ahead log")
    next_due: str | None = Field(description="The soonest scheduled work of any area")
    scheduled: list[AreaWork] = Field(description="The soonest scheduled work of each area")
    last_run: LastRun | None = Field(description="The last run of due work that did any")
    claim: Claim | None = Field(description="Set while a process runs the due work")


def read_status(conn: sqlite3.Connection, agent_id: str, path: Path,
                areas: Sequence[TimedWork]) -> AgentStatus:
    """The status of the agent whose database is `conn` (in one read transaction)."""
    per_area = next_per_area(conn, areas)
    times = [due for due in per_area.values() if due is not None]
    claim = timed_repo.read(conn)
    last = None
    if claim.last_finished_at is not None:
        last = LastRun(finished_at=iso(claim.last_finished_at), ran=claim.last_ran or 0,
                       lateness_seconds=round(claim.last_lateness or 0.0, 3),
                       by=claim.last_owner or "")
    held = None
    if claim.owner is not None:
        held = Claim(held_by=claim.owner, since=iso(claim.claimed_at or 0.0),
                     expires=iso(claim.expires or 0.0))
    return AgentStatus(
        agent_id=agent_id, **status_repo.counts(conn),
        database_bytes=status_repo.database_bytes(conn, path),
        next_due=iso(min(times)) if times else None,
        scheduled=[AreaWork(area=area, next_due=iso(due) if due is not None else None)
                   for area, due in per_area.items()],
        last_run=last, claim=held)


class StatusOps(EngineBase):
    """agent_status."""

    async def agent_status(self) -> AgentStatus:
        """Counts, size, scheduled work and the last run of due work of this agent."""
        path, agent_id, areas = self.manager.path_for(self.agent_id), self.agent_id, self.timed_work
        return await self._read(lambda conn: read_status(conn, agent_id, path, areas))
