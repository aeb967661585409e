"""Timed work across real processes sharing one data directory: every wake-up runs exactly
once, none is lost, and a killed claim holder's work is finished by another process.

All processes share one moving clock (CUSTOMERIO_MCP_CLOCK, tools.core.clock.SharedClock),
so "due at virtual time T" means the same moment to each of them.
"""

from __future__ import annotations

import re
import signal
import sqlite3
import subprocess
import time
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import Client

from server.runtime import Runtime
from tests.e2e.support import COMMAND, clean_env, serve_params, structured, worker_process
from tools.core.clock import CLOCK_VARIABLE, SharedClock

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
START = 1_780_000_000.0
WITHIN_A_MINUTE = {"attribute": "seen", "operator": "within", "value": "1m"}
TRIAL = {"attribute": "trial_end", "operator": "within", "value": "1m"}


def shared_clock(speed: float) -> SharedClock:
    return SharedClock(START, time.time(), speed)


def env_for(clock: SharedClock, **extra: str) -> dict[str, str]:
    return clean_env(**{CLOCK_VARIABLE: clock.spec(), "CUSTOMERIO_MCP_LOG_LEVEL": "WARNING",
                        **extra})


def worker(data_dir: Path, env: dict[str, str],
           log: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`customerio-mcp worker` in the background; stopped (SIGTERM) at the end."""
    return worker_process(["--data-dir", str(data_dir)], env, log)


def query(path: Path, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Read another process's database (read-only, a snapshot)."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def history(path: Path, change: str) -> list[tuple[str, float, str]]:
    """(user_id, at, cause) of every entry or exit recorded."""
    return query(path, "SELECT p.user_id, h.at, h.cause FROM segment_history h JOIN people p "
                       "ON p.pk = h.person_pk WHERE h.change = ?", change)


async def wait_until(condition: Any, seconds: float) -> None:
    """Poll another process's files until `condition()` holds (bounded)."""
    with anyio.fail_after(seconds):
        while not condition():
            await anyio.sleep(0.02)


async def test_three_stdio_servers_and_a_worker_run_every_wake_up_exactly_once(
        tmp_path: Path) -> None:
    clock = shared_clock(speed=10)
    env = env_for(clock)
    agents = {"a": 334, "b": 333, "c": 333}  # 1,000 wake-ups
    seen: dict[str, dict[str, float]] = {}
    with worker(tmp_path, env, tmp_path / "worker.log"), anyio.fail_after(60):
        async with (Client(serve_params("serve", "--agent", "a", "--data-dir", str(tmp_path),
                                        env=env)) as a,
                    Client(serve_params("serve", "--agent", "b", "--data-dir", str(tmp_path),
                                        env=env)) as b,
                    Client(serve_params("serve", "--agent", "c", "--data-dir", str(tmp_path),
                                        env=env)) as c):
            for agent_id, client in (("a", a), ("b", b), ("c", c)):
                structured(await client.call_tool(
                    "segments_create", {"name": "Fresh", "rules": WITHIN_A_MINUTE}))
                now, count = clock.now(), agents[agent_id]
                # each leaves the segment at its own moment over the next 30 s
                seen[agent_id] = {f"{agent_id}-{i}": float(int(now) - 55 + i * 30 // count)
                                  for i in range(count)}
                result = structured(await client.call_tool("batch", {"operations": [
                    {"action": "identify", "user_id": uid, "attributes": {"seen": int(when)}}
                    for uid, when in seen[agent_id].items()]}))
                assert result["failed"] == 0
            files = {agent_id: tmp_path / f"{agent_id}.sqlite3" for agent_id in agents}
            await wait_until(lambda: all(len(history(files[x], "exited")) >= agents[x]
                                         for x in agents), 50)
    for agent_id, count in agents.items():
        exits = history(files[agent_id], "exited")
        assert sorted(exits) == sorted((uid, when + 60, "time")
                                       for uid, when in seen[agent_id].items())
        assert len(history(files[agent_id], "entered")) == count
        assert query(files[agent_id], "SELECT count(*) FROM segment_people")[0][0] == 0


async def test_a_wake_up_scheduled_after_another_process_ran_the_agent_is_not_lost(
        tmp_path: Path) -> None:
    """Process A (this one) schedules a wake-up; the worker runs it and moves the agent's
    row later; A then schedules an earlier one, which must reach the control database
    (A's memory of the row it wrote is stale)."""
    clock = shared_clock(speed=2)
    control = tmp_path / "_control.sqlite3"
    async with Runtime(tmp_path, clock=clock, run_scheduler=False) as runtime:
        tom = runtime.engine("tom")
        await tom.segments_create("Trial", TRIAL)
        first = int(clock.now()) + 4
        await tom.identify("ada", {"trial_end": first})
        with worker(tmp_path, env_for(clock), tmp_path / "worker.log"):
            path = tmp_path / "tom.sqlite3"
            await wait_until(lambda: history(path, "entered"), 30)
            assert query(control, "SELECT next_due FROM agent_wakeups") == [(first + 60.0,)]
            second = int(clock.now()) + 4
            await tom.identify("bob", {"trial_end": second})
            assert query(control, "SELECT next_due FROM agent_wakeups") == [(float(second),)]
            await wait_until(lambda: len(history(path, "entered")) == 2, 30)
    assert sorted(history(path, "entered")) == [("ada", first, "time"), ("bob", second, "time")]


async def test_a_killed_claim_holder_s_work_is_finished_by_another_process(
        tmp_path: Path) -> None:
    clock = shared_clock(speed=1)
    people = 20_000
    async with Runtime(tmp_path, clock=clock, run_scheduler=False) as runtime:
        tom = runtime.engine("tom")
        await tom.segments_create("Trial", TRIAL)
        due = int(clock.now()) + 3
        for first in range(0, people, 10_000):
            await tom.batch([{"action": "identify", "user_id": f"p{i}",
                              "attributes": {"trial_end": due}}
                             for i in range(first, first + 10_000)])
    env = env_for(clock, CUSTOMERIO_MCP_CLAIM_LEASE="2")
    path = tmp_path / "tom.sqlite3"

    def entered() -> int:
        return query(path, "SELECT count(*) FROM segment_history")[0][0]

    with worker(tmp_path, env, tmp_path / "first.log") as first:
        await wait_until(lambda: entered() > 0, 30)
        holder = query(path, "SELECT owner FROM timed_work")[0][0]
        first.send_signal(signal.SIGKILL)
        first.wait()
        done_at_kill = entered()
    assert holder is not None and f"pid {first.pid} " in holder
    assert 0 < done_at_kill < people, "the first worker was not killed in the middle"
    with worker(tmp_path, env, tmp_path / "second.log") as second:
        await wait_until(lambda: entered() == people, 60)
        await wait_until(lambda: query(path, "SELECT owner FROM timed_work")[0][0] is None, 30)
        last_owner = query(path, "SELECT last_owner FROM timed_work")[0][0]
    assert f"pid {second.pid} " in last_owner
    rows = history(path, "entered")
    assert len(rows) == people and len({uid for uid, _, _ in rows}) == people
    assert {(at, cause) for _, at, cause in rows} == {(due, "time")}
    # the exits a minute later are still scheduled, once each
    assert query(path, "SELECT count(*), min(due), max(due) FROM segment_people "
                       "WHERE due IS NOT NULL") == [(people, due + 60.0, due + 60.0)]


async def test_work_that_fell_due_while_nothing_ran_runs_at_start_and_status_shows_it(
        tmp_path: Path) -> None:
    clock = shared_clock(speed=60)  # a minute a second
    async with Runtime(tmp_path, clock=clock, run_scheduler=False) as runtime:
        tom = runtime.engine("tom")
        await tom.segments_create("Trial", {**TRIAL, "value": "1d"})  # exits a day later
        due = int(clock.now()) + 60
        await tom.identify("ada", {"trial_end": due})
        await tom.identify("bob", {"trial_end": due + 30})
    await anyio.sleep(2)  # nothing runs while two virtual minutes pass
    path, log = tmp_path / "tom.sqlite3", tmp_path / "worker.log"
    with worker(tmp_path, env_for(clock, CUSTOMERIO_MCP_LOG_LEVEL="INFO"), log) as process:
        await wait_until(lambda: len(history(path, "entered")) == 2, 30)
        await wait_until(lambda: query(path, "SELECT owner FROM timed_work")[0][0] is None, 30)
        status = subprocess.run([*COMMAND, "status", "--data-dir", str(tmp_path)], env=env_for(
            clock), capture_output=True, text=True, timeout=30, stdin=subprocess.DEVNULL)
    assert process.returncode == 0  # SIGTERM is a clean stop
    assert sorted(history(path, "entered")) == [("ada", due, "time"), ("bob", due + 30, "time")]
    assert re.search(r"agent tom: ran \d+ pieces of due work, the oldest \d+\.\d s late",
                     log.read_text())
    ran, lateness = query(path, "SELECT last_ran, last_lateness FROM timed_work")[0]
    assert ran == 2 and lateness > 30
    line = next(row for row in status.stdout.splitlines() if row.startswith("tom "))
    assert line.split()[1:5] == ["2", "0", "1", "0"]  # people, events, segments, templates
    assert status.returncode == 0 and "worker pid" not in line  # no claim held now
