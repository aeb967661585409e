"""agent_status: counts, size, the next work of each area, the last run and a held claim."""

from __future__ import annotations

import sqlite3

import pytest
from mcp import Client

from server.runtime import Runtime
from store import timed_repo
from tools.core.clock import ManualClock
from tools.core.timefmt import iso

pytestmark = pytest.mark.anyio
TRIAL = {"attribute": "trial_end", "operator": "within", "value": "1d"}


async def test_agent_status_reports_counts_scheduled_work_and_the_last_run(
        client: Client, clock: ManualClock, runtime: Runtime) -> None:
    start = clock.now()
    await client.call_tool("segments_create", {"name": "Trial", "rules": TRIAL})
    await client.call_tool("identify", {"user_id": "ada", "attributes": {
        "trial_end": int(start) + 3600}})
    await client.call_tool("track", {"name": "login", "user_id": "ada"})
    status = (await client.call_tool("agent_status", {})).structured_content
    assert status is not None
    assert (status["people"], status["events"], status["segments"], status["templates"],
            status["messages"]) == (1, 1, 1, 0, 0)
    assert status["database_bytes"] > 0
    assert status["next_due"] == iso(start + 3600)
    assert status["scheduled"] == [{"area": "segments", "next_due": iso(start + 3600)},
                                   {"area": "segment_computations", "next_due": None},
                                   {"area": "delivery", "next_due": None},
                                   {"area": "journeys", "next_due": None},
                                   {"area": "journey_dates", "next_due": None}]
    assert status["last_run"] is None and status["claim"] is None
    clock.advance(3600 + 90)
    assert await runtime.scheduler.run_due() == 1
    after = (await client.call_tool("agent_status", {})).structured_content
    assert after is not None
    assert after["last_run"]["ran"] == 1 and after["last_run"]["lateness_seconds"] == 90
    assert after["last_run"]["by"] == runtime.services.owner
    assert after["next_due"] == iso(start + 3600 + 86_400)  # she leaves a day later


async def test_a_claim_held_by_another_process_is_shown_and_its_work_left_alone(
        client: Client, clock: ManualClock, runtime: Runtime) -> None:
    start = clock.now()
    await client.call_tool("segments_create", {"name": "Trial", "rules": TRIAL})
    await client.call_tool("identify", {"user_id": "ada", "attributes": {
        "trial_end": int(start) + 60}})
    conn = sqlite3.connect(runtime.store.path_for("tom"), isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    assert timed_repo.take(conn, "worker pid 1 on elsewhere", start, start + 600).owner is None
    conn.execute("COMMIT")
    conn.close()
    clock.advance(120)
    assert await runtime.scheduler.run_due() == 0  # another process runs it
    status = (await client.call_tool("agent_status", {})).structured_content
    assert status is not None and status["claim"]["held_by"] == "worker pid 1 on elsewhere"
    assert status["claim"]["expires"] == iso(start + 600)
    clock.set(start + 601)  # the claim lapsed: its holder died
    assert await runtime.scheduler.run_due() == 1
