"""Workers killed (SIGKILL) in the middle of advancing thousands of journeys: after a
restart every journey continues where it was, none skips a step or runs one twice, and no
message is queued twice.

One agent, one workflow (api trigger): update_attributes {step: "1"} -> delay 1h -> send
in_app -> update_attributes {step: "2"} -> delay 1h -> send in_app -> exit. The journeys
are started through the Python API at START (a manual clock), then real `customerio-mcp
worker` processes advance them, on one moving clock shared through CUSTOMERIO_MCP_CLOCK:

  A  clock START+1h (the first delay ends): killed once part of the first burst committed
  B  the same clock: takes the dead claim over (CUSTOMERIO_MCP_CLAIM_LEASE=2) and finishes
     it; stopped (SIGTERM) once every journey waits on the second delay
  C  clock START+2h10m (the second delay ended while nothing ran): killed mid-way again
  D  the same clock: finishes; every journey has ended

The kill lands while the worker holds the claim, with some chunks (500 journeys a
transaction, tools/timed.CHUNK) committed and the next one in flight.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import anyio
import pytest

from tests.e2e.support import clean_env, descendants, query, still_running, worker_process
from tools.api import CustomerIO
from tools.core.clock import CLOCK_VARIABLE, ManualClock, SharedClock

pytestmark = [pytest.mark.anyio, pytest.mark.slow]
START = 1_780_000_000.0
HOUR = 3_600.0
AGENT = "shop"
# The issue asks for 10,000 journeys (that passes too, in ~21 s on a 2-core VM); 5,000 keep
# the test near 13 s (a delay's end advances ~2,000-3,000 journeys/s) and still span ten
# 500-journey chunks per burst.
PEOPLE = 5_000
TRIGGER_BATCH = 10_000  # workflows_trigger takes at most 10,000 recipients
IDENTIFY_BATCH = 4_000  # batch stays under its 500 kB limit
KILL_AT = 0.3  # kill once this share of a burst has committed
LEASE_S = "2"  # CUSTOMERIO_MCP_CLAIM_LEASE: a dead worker's claim lapses fast
STEPS = [{"id": "mark1", "type": "update_attributes", "set": {"step": "1"}},
         {"id": "wait1", "type": "delay", "duration": "1h"},
         {"id": "note1", "type": "send", "channel": "in_app", "template_id": "note"},
         {"id": "mark2", "type": "update_attributes", "set": {"step": "2"}},
         {"id": "wait2", "type": "delay", "duration": "1h"},
         {"id": "note2", "type": "send", "channel": "in_app", "template_id": "note"},
         {"id": "done", "type": "exit"}]
# Every journey's log: its step lines (step_id, what), exactly these in this order, and one
# "effect" line for each step with an effect, in this order (where the runner puts an
# effect's line among the step lines is its own business).
STEP_LINES = [("", "entered"), ("mark1", "updated"), ("wait1", "waiting"),
              ("wait1", "resumed"), ("note1", "sent"), ("mark2", "updated"),
              ("wait2", "waiting"), ("wait2", "resumed"), ("note2", "sent"),
              ("done", "exited")]
EFFECTS = ["mark1", "note1", "mark2", "note2"]


def worker(data_dir: Path, clock: SharedClock,
           log: Path) -> AbstractContextManager[subprocess.Popen[bytes]]:
    """`customerio-mcp worker` on `clock`; stopped (SIGTERM) at the end if still running."""
    env = clean_env(**{CLOCK_VARIABLE: clock.spec(), "CUSTOMERIO_MCP_LOG_LEVEL": "WARNING",
                       "CUSTOMERIO_MCP_CLAIM_LEASE": LEASE_S})
    return worker_process(["--data-dir", str(data_dir)], env, log)


def effects(path: Path, step_id: str) -> int:
    """Journeys whose `step_id` effect has committed."""
    return query(path, "SELECT count(*) FROM journey_log WHERE step_id = ? AND what = 'effect'",
                 step_id)[0][0]


def claim_owner(path: Path) -> str | None:
    return query(path, "SELECT owner FROM timed_work")[0][0]


async def wait_until(condition: Callable[[], bool], seconds: float, what: str) -> None:
    try:
        with anyio.fail_after(seconds):
            while not condition():
                await anyio.sleep(0.003)
    except TimeoutError:
        raise AssertionError(f"timed out after {seconds} s waiting for {what}") from None


async def start_journeys(data_dir: Path) -> list[str]:
    """PEOPLE people, the workflow, every person triggered at START; returns the run ids."""
    async with CustomerIO.for_agent(AGENT, data_dir=data_dir, clock=ManualClock(START)) as cio:
        await cio.templates_create("note", "in_app", {"title": "Hi {{ customer.name }}",
                                                      "body": "Step {{ customer.step }}"})
        for first in range(0, PEOPLE, IDENTIFY_BATCH):
            result = await cio.batch([{"action": "identify", "user_id": f"p{i}",
                                       "attributes": {"name": f"Person {i}"}}
                                      for i in range(first, min(PEOPLE, first + IDENTIFY_BATCH))])
            assert result.failed == 0, result
        await cio.workflows_create("drip", "Drip", {"type": "api"}, STEPS)
        await cio.workflows_activate("drip")
        runs = []
        for first in range(0, PEOPLE, TRIGGER_BATCH):
            ids = [f"p{i}" for i in range(first, min(PEOPLE, first + TRIGGER_BATCH))]
            triggered = await cio.workflows_trigger("drip", ids)
            assert (triggered.recipients, triggered.skipped) == (len(ids), [])
            runs.append(triggered.run_id)
    return runs


async def burst_with_a_kill(data_dir: Path, clock: SharedClock, step_id: str, logs: Path,
                            orphans: set[int]) -> dict[str, Any]:
    """A worker on `clock` killed once KILL_AT of the burst ending in `step_id` committed;
    a second one on the same clock finishes it. Returns what was seen at the kill."""
    path = data_dir / f"{AGENT}.sqlite3"
    before = effects(path, step_id)
    with worker(data_dir, clock, logs / f"{step_id}-killed.log") as first:
        await wait_until(lambda: effects(path, step_id) >= KILL_AT * PEOPLE, 30,
                         f"{KILL_AT:.0%} of {step_id}")
        children = descendants(first.pid)
        first.send_signal(signal.SIGKILL)
        first.wait()
    orphans |= still_running(children)
    seen = {"at_kill": effects(path, step_id), "holder": claim_owner(path), "pid": first.pid,
            "before": before}
    with worker(data_dir, clock, logs / f"{step_id}-second.log") as second:
        await wait_until(lambda: effects(path, step_id) == PEOPLE, 40, f"all of {step_id}")
        await wait_until(lambda: claim_owner(path) is None, 20, "the claim released")
        seen["last_owner"] = query(path, "SELECT last_owner FROM timed_work")[0][0]
    assert second.returncode == 0, (logs / f"{step_id}-second.log").read_text()
    seen["second_pid"] = second.pid
    return seen


async def test_workers_killed_mid_journeys_continue_every_journey_exactly_once(
        tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o700)
    path = data_dir / f"{AGENT}.sqlite3"
    orphans: set[int] = set()
    began = time.monotonic()
    try:
        with anyio.fail_after(55):
            runs = await start_journeys(data_dir)
            started_s = time.monotonic() - began
            assert query(path, "SELECT status, step_id, count(*), min(due), max(due) FROM "
                               "journeys GROUP BY 1, 2") == [
                ("waiting", "wait1", PEOPLE, START + HOUR, START + HOUR)]
            first = await burst_with_a_kill(data_dir, SharedClock(START + HOUR, time.time()),
                                            "note1", tmp_path, orphans)
            assert query(path, "SELECT step_id, count(*) FROM journeys WHERE ended_at IS NULL "
                               "GROUP BY 1") == [("wait2", PEOPLE)]
            # the second delay ended an hour ago and nothing ran since
            later = SharedClock(START + 2 * HOUR + 600, time.time())
            second = await burst_with_a_kill(data_dir, later, "note2", tmp_path, orphans)
            done_s = time.monotonic() - began
    finally:
        # a SIGKILLed worker's render processes (and multiprocessing's resource tracker)
        # do not notice it died: they are this test's to stop
        for pid in still_running(orphans):
            os.kill(pid, signal.SIGKILL)
    for seen in (first, second):
        assert seen["holder"] is not None and f"pid {seen['pid']} " in seen["holder"], seen
        assert seen["before"] == 0 and 0 < seen["at_kill"] < PEOPLE, \
            f"the worker was not killed in the middle of the burst: {seen}"
        assert f"pid {seen['second_pid']} " in seen["last_owner"], seen

    journeys = query(path, "SELECT status, ended_at IS NOT NULL, due, count(*) FROM journeys "
                           "GROUP BY 1, 2, 3")
    assert journeys == [("exited", 1, None, PEOPLE)]  # ended at the exit step
    logs: dict[int, tuple[list[tuple[str, str]], list[str]]] = {}
    for pk, step_id, what in query(path, "SELECT journey_pk, step_id, what FROM journey_log "
                                         "ORDER BY journey_pk, seq"):
        lines, done = logs.setdefault(pk, ([], []))
        if what == "effect":
            done.append(step_id)
        else:
            lines.append((step_id, what))
    wrong = {pk: log for pk, log in logs.items() if log != (STEP_LINES, EFFECTS)}
    assert len(logs) == PEOPLE and not wrong, \
        f"{len(wrong)} journeys skipped or repeated a step, e.g. {next(iter(wrong.items()))}"

    messages = query(path, "SELECT p.user_id, m.channel, m.template_id, m.idempotency_key, "
                           "m.status, m.attempts FROM messages m JOIN people p "
                           "ON p.pk = m.person_pk")
    per_person = Counter(user_id for user_id, *_ in messages)
    keys = {key for _, _, _, key, _, _ in messages}
    assert len(messages) == 2 * PEOPLE and set(per_person.values()) == {2}
    assert len(per_person) == PEOPLE and len(keys) == 2 * PEOPLE
    assert {(channel, template) for _, channel, template, *_ in messages} == {("in_app", "note")}
    steps = Counter(json.loads(attributes).get("step")
                    for (attributes,) in query(path, "SELECT attributes FROM people"))
    assert steps == {"2": PEOPLE}

    async with CustomerIO.for_agent(AGENT, data_dir=data_dir) as cio:
        for run_id in runs:
            status = await cio.workflows_get_status(run_id, limit=1)
            assert status.status == "completed" and status.counts == {"exited": PEOPLE}, status
        [info] = (await cio.journeys_list("p0")).journeys
        assert (info.status, info.current_step) == ("exited", None)
    for name in ("note1-second.log", "note2-second.log"):
        text = (tmp_path / name).read_text()
        assert "Traceback" not in text, text
    statuses = Counter(status for *_, status, _ in messages)
    attempts = Counter(attempts for *_, attempts in messages)
    print(f"\njourneys crash: {PEOPLE:,} journeys started in {started_s:.1f} s; first burst "
          f"killed with {first['at_kill']:,}/{PEOPLE:,} committed, second burst killed with "
          f"{second['at_kill']:,}/{PEOPLE:,}; all ended at {done_s:.1f} s. {len(logs):,} "
          f"journey logs, each {len(STEP_LINES)} step lines and {len(EFFECTS)} effects exactly "
          f"once, in order; "
          f"{len(messages):,} in-app messages ({len(keys):,} distinct keys), statuses "
          f"{dict(statuses)}, attempts {dict(attempts)}; step=2 for {steps['2']:,} people")
