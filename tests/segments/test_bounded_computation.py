"""Whole segments are computed in bounded transactions: other writers get the lock in
between, the segment says it is computing until the last step, and an unfinished
computation is finished as timed work."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from store.database import _wait_unlocked, connect_sync, run_in_transaction
from tests.segments.cases import attr, event
from tools.api import CustomerIO
from tools.core.clock import ManualClock
from tools.segments import bulk
from tools.writes import WriteContext, run_in_context

pytestmark = pytest.mark.anyio


async def people(cio: CustomerIO, count: int, **attributes: object) -> None:
    for first in range(0, count, 5_000):
        result = await cio.batch([{"action": "identify", "user_id": f"p{i}", "attributes": {
            "n": i, **attributes}} for i in range(first, min(count, first + 5_000))])
        assert result.failed == 0


def steps_of_one_person(path: Path, now: float) -> list[bulk.Step]:
    """Run the computations to the end, one person per transaction (a zero time budget)."""
    conn = connect_sync(path)
    done = []

    def one_step(c: sqlite3.Connection) -> bulk.Step | None:
        return run_in_context(lambda c2: bulk.step(c2, now, seconds=0.0), c,
                              WriteContext(now, CustomerIO.subscribers))

    try:
        while (step := run_in_transaction(conn, one_step, "BEGIN IMMEDIATE")) is not None:
            done.append(step)
        return done
    finally:
        conn.close()


async def test_a_computation_in_many_steps_ends_with_exactly_the_full_membership(
        cio: CustomerIO, clock: ManualClock, tmp_path: Path) -> None:
    await people(cio, 12)
    await cio.segments_create("Low", attr("n", "lt", 4))
    await cio.segments_create("Reads low", {"segment": "low"})
    path = tmp_path / "tom.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO segment_computations SELECT pk, 0, ?, 'segment_updated', 0, 0 "
                 "FROM segments WHERE segment_id = 'low'", (clock.now(),))
    conn.execute("UPDATE segments SET rules = ? WHERE segment_id = 'low'",
                 ('{"attribute": "n", "operator": "gte", "value": 8}',))
    conn.execute("UPDATE segment_state SET version = version + 1")
    conn.close()
    info = await cio.segments_get("low")
    assert info.computing and info.member_count == 4
    steps = steps_of_one_person(path, clock.now())
    low = [s for s in steps if s.segment_pk == steps[0].segment_pk]
    assert [s.finished for s in low] == [False] * 12 + [True]  # one person each, then done
    assert (low[-1].entered, low[-1].exited) == (4, 4)
    assert len(steps) > len(low)  # the segment reading it was computed after it
    members = await cio.segments_members("low", limit=50)
    assert sorted(m.user_id for m in members.members) == ["p10", "p11", "p8", "p9"]
    assert not (await cio.segments_get("low")).computing
    assert (await cio.segments_get("reads-low")).member_count == 4


async def test_an_unfinished_computation_is_timed_work_the_scheduler_finishes(
        cio: CustomerIO, clock: ManualClock, tmp_path: Path) -> None:
    await people(cio, 30)
    await cio.segments_create("Low", attr("n", "lt", 10))

    def start_but_stop_after_one_step(conn: sqlite3.Connection) -> None:
        pk = conn.execute("SELECT pk FROM segments").fetchone()[0]
        bulk.start(conn, pk, clock.now(), "segment_updated")
        step = bulk.step(conn, clock.now(), seconds=0.0)
        assert step is not None and not step.finished

    await cio._write(start_but_stop_after_one_step)
    status = await cio.agent_status()
    assert {"area": "segment_computations", "next_due": status.next_due} in [
        w.model_dump() for w in status.scheduled]
    clock.advance(1)
    run = await cio.run_due()
    assert run.claimed and run.ran >= 1
    info = await cio.segments_get("low")
    assert not info.computing and info.member_count == 10


async def test_a_big_segment_lets_another_process_write_while_it_is_computed(
        cio: CustomerIO, tmp_path: Path) -> None:
    """Another connection writing the way our processes do (retrying while the database
    is busy) keeps getting in while a segment over many people is created: it never waits
    for the whole computation (before, one transaction held the lock throughout)."""
    await people(cio, 60_000, plan="pro")
    await cio.batch([{"action": "track", "user_id": f"p{i}", "name": "login"}
                     for i in range(0, 60_000, 10)])
    stop, waits, failures = threading.Event(), [], []

    def other_process() -> None:
        try:
            conn = connect_sync(tmp_path / "tom.sqlite3")
            # its own commits must not checkpoint the WAL: what is timed is the lock wait
            conn.execute("PRAGMA wal_autocheckpoint = 0")
            try:
                while not stop.is_set():
                    asked = time.monotonic()
                    _wait_unlocked(lambda: run_in_transaction(
                        conn, lambda c: c.execute("UPDATE segment_state SET uuid = uuid"),
                        "BEGIN IMMEDIATE"))
                    waits.append(time.monotonic() - asked)
                    time.sleep(0.005)
            finally:
                conn.close()
        except Exception as exc:  # reported below, not lost with the thread
            failures.append(exc)

    writer = threading.Thread(target=other_process)
    writer.start()
    try:
        started = time.monotonic()
        created = await cio.segments_create("Pro without logins", {"and": [
            attr("plan", "eq", "pro"), event("login", "did_not")]})
        took = time.monotonic() - started
    finally:
        stop.set()
        writer.join()
    assert failures == []
    assert created.member_count == 54_000 and not created.computing
    assert took > 0.4, "too fast to show anything"
    assert len(waits) > 3 and max(waits) < took / 2, (max(waits), took)
